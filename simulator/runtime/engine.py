"""The engine: one profile's fleet on one event loop.

`Engine.start()` opens every endpoint of the layout (TCP servers, UDP sockets, serial ports)
and reads the wall clock once, to anchor the meters' time; from then on the sans-IO core gets
the loop's monotonic clock as `now`. There are no per-meter tasks or timers: a meter is built
on first contact and only open links have a deadline in the one `TimerQueue`. `stop()` closes
the listeners, closes every connection once its queued answers are written, ends the links on
serial lines and commits what is left. `run()` does all of it until SIGINT or SIGTERM.

A shard (runtime/shard.py) binds only its meters' sockets (layout.shard_endpoints) and keeps
its own state database; sockets handed over by a supervisor (runtime/inherited.py) are used
instead of binding their endpoints.

Group commit: with a state store, an answer whose APDU changed a meter's state must not leave
before the change is on disk. Transports hand every write to `hold` while `holding` (a meter
changed since the last commit, or answers already wait), in arrival order; one callback per
event-loop turn (`_flush`) commits every changed meter in one transaction, then writes the held
answers in order. When the commit fails (disk full, read-only directory) the held answers are
withheld and their connections dropped, the log says why, and the commit is retried.

Push: the engine owns the fleet's `Pusher` (runtime/push.py: pushes wait behind one timer, the
limits, the connections to the head-ends) and `PushScheduler` (runtime/push_schedule.py: what
the meters push by themselves). A pushed notification's invocation counter goes through the
same group commit as an answer's.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any, Protocol, Sequence

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

from ..model.errors import Problem
from ..server.objects import TimeBase
from .faults import FaultSet
from .fleet import Fleet, LiveMeter
from .hdlc_stream import HDLCStream
from .host import Connection
from .inherited import ENVIRONMENT, InheritedSocket
from .layout import Endpoint, MeterEntry, plan, shard_endpoints
from .observe import Observer
from .profile import FleetProfile, Limits, ProfileError
from .push import Pusher
from .push_schedule import PushScheduler
from .serial import open_serial
from .shard import WHOLE, Shard
from .store import StateStore, database_name
from .tcp import WrapperStream
from .timers import TimerQueue
from .trace import Tracer
from .udp import IP_PKTINFO, UDPEndpoint, open_udp

__all__ = ["Engine", "install_uvloop", "allow_open_files"]

_log = logging.getLogger(__name__)
_DRAIN_S = 1.0  # how long stop() waits for answers still being written
_SPARE_FDS = 64
_RETRY_S = 5.0  # a failed commit is tried again after this, traffic or not


class Held(Protocol):
    """Where a held answer goes: a connection (bytes) or a UDP socket (its datagrams)."""

    def transmit(self, data: Any) -> None: ...

    def withhold(self, data: Any, why: str) -> None: ...


class Service(Protocol):
    """Something that runs beside the meters on their loop (the control plane): started after
    the endpoints open, stopped before they close."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def install_uvloop() -> bool:
    """Use uvloop's event loop policy when it is installed."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True



def allow_open_files(needed: int) -> int:
    """Raise this process's soft limit of open files towards `needed`, as far as the hard limit
    allows (a container runtime may give 1024 of 524288); the soft limit now (-1: none)."""
    if resource is None:
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and needed > soft and (hard == resource.RLIM_INFINITY or hard > soft):
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        _log.info("open files allowed raised from %d to %d", soft, raised)
        soft = raised
    return -1 if soft == resource.RLIM_INFINITY else soft

class Engine:
    """The meters of `profile` and the sockets they are reached through (the transports' Host)."""

    def __init__(self, profile: FleetProfile, trace: bool = False, state_dir: Path | None = None,
                 shard: Shard = WHOLE, sockets: Sequence[InheritedSocket] = ()) -> None:
        layout = plan(profile)
        if layout.problems:
            raise ProfileError(layout.problems)
        self.profile = profile
        self.limits: Limits = profile.limits
        self.entries = layout.entries  # the whole fleet's, other shards' too (never built)
        self.endpoints: list[Endpoint] = layout.endpoints
        self.shard = shard
        self._inherited = {inherited.key: inherited for inherited in sockets}
        if shard.split:
            self.endpoints, problems = shard_endpoints(layout, shard, profile.file, frozenset(self._inherited))
            if problems:
                raise ProfileError(problems)
        unknown = set(self._inherited) - {(e.transport, e.host, e.port) for e in self.endpoints}
        if unknown:
            raise ProfileError([Problem(ENVIRONMENT, 1, f"{self._inherited[key].describe()} names no endpoint "
                                        f"of {shard.label if shard.split else 'the fleet'}") for key in sorted(unknown)])
        self.state_dir = state_dir if state_dir is not None else profile.state_dir
        self.tracer = Tracer(trace)
        self._fleet: Fleet | None = None  # both made by start(), on the running loop
        self.store: StateStore | None = None
        self._timers: TimerQueue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._udp: list[UDPEndpoint] = []
        self._serial: list[HDLCStream] = []
        self._connections: set[Connection] = set()
        self.line_connections: Counter[int] = Counter()
        self._held: list[tuple[Held, Any]] = []
        self._flush_due = False
        self._stopped = False  # no commit is scheduled any more (stop() commits last)
        self._pusher: Pusher | None = None
        self._push_scheduler: PushScheduler | None = None
        # the control plane, told what happens; set before start() (None: nothing is observed, at
        # one attribute test per APDU: a plain attribute, read in the hot path)
        self.observer: Observer | None = None
        self.faults = FaultSet(self.entries)
        self.faults.on_reboot = self.reboot
        self.bytes_in: Counter[str] = Counter()  # by transport: UDP's while an observer is set, closed streams' (octets)
        self.bytes_out: Counter[str] = Counter()

    # -- Host
    @property
    def fleet(self) -> Fleet:
        if self._fleet is None:
            raise RuntimeError("the engine has not started")
        return self._fleet

    @property
    def timers(self) -> TimerQueue:
        if self._timers is None:
            raise RuntimeError("the engine has not started")
        return self._timers

    @property
    def pusher(self) -> Pusher:
        if self._pusher is None:
            raise RuntimeError("the engine has not started")
        return self._pusher

    @property
    def push_scheduler(self) -> PushScheduler:
        if self._push_scheduler is None:
            raise RuntimeError("the engine has not started")
        return self._push_scheduler

    def now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def admit(self, connection: Connection) -> bool:
        if len(self._connections) >= self.limits.max_connections:
            return False
        self._connections.add(connection)
        return True

    def forget(self, connection: Connection) -> None:
        self._connections.discard(connection)

    @property
    def connections(self) -> int:
        return len(self._connections)

    def octets(self) -> tuple[Counter[str], Counter[str]]:
        """Octets received and sent by transport since the start: the streams count their own
        (a plain int on their hot path), added here when they close; UDP counts here."""
        received, sent = Counter(self.bytes_in), Counter(self.bytes_out)
        for stream in (*self._connections, *self._serial):
            received[stream.kind] += stream.octets_in
            sent[stream.kind] += stream.octets_out
        return received, sent

    @property
    def holding(self) -> bool:
        """Writes must wait for the next commit (a meter changed, or answers already wait)."""
        return bool(self._held) or (self._fleet is not None and self._fleet.pending)

    def hold(self, target: Held, data: Any) -> None:
        """Write `data` to `target` after the next commit, in the order held."""
        self._held.append((target, data))
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_due and self._loop is not None and not self._stopped:
            self._flush_due = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Commit the turn's changes, then release (or, if they are not kept, withhold) its answers."""
        self._flush_due = False
        why = self._fleet.commit() if self._fleet is not None else None
        held, self._held = self._held, []
        for target, data in held:
            if why is None:
                target.transmit(data)
            else:
                target.withhold(data, why)
        if why is not None and self._loop is not None and self.store is not None and self.store.fault is None:
            self._loop.call_later(_RETRY_S, self._schedule_flush)  # the disk may have room again

    def reboot(self, entry: MeterEntry) -> None:
        """Restart a meter as an activated firmware image does: every association ends, its
        connections close once what they wrote has left, its links drop; its counters and state
        stay. A meter nobody contacted yet has nothing to lose."""
        live: LiveMeter | None = entry.live
        if live is None or self._loop is None:
            return
        meter = live.meter
        meter.restarts += 1
        meter.restarted_at = meter.time_base.epoch(self._loop.time())
        live.server.restarted()
        _log.info("%s: the meter restarts (a reboot injected); its associations end", live.label)
        for connection in [*self._connections, *self._serial]:
            connection.meter_restarted(live)
        for udp in self._udp:
            udp.meter_restarted(live)

    # -- life cycle
    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        self._timers = TimerQueue(loop)
        start = self.profile.time.start
        start_epoch = time.time() if start is None else start
        time_base = TimeBase(start_epoch, loop.time(), self.profile.time.rate,
                             self.profile.time.installed(start_epoch))
        store = None
        if self.state_dir is not None:
            # the JSON files of earlier versions are imported by an unsharded fleet only
            models = {} if self.shard.split else {g.name: g.model for g in self.profile.groups}
            store = self.store = StateStore(self.state_dir, models, database_name(self.shard))
        self._fleet = Fleet(self.profile, self.entries, time_base, self.tracer, store)
        self._fleet.on_change = self._schedule_flush
        self._fleet.observer = self.observer
        self._fleet.exchanges = getattr(self.observer, "exchanges", None)
        pusher = self._pusher = Pusher(self, self.limits)
        scheduler = self._push_scheduler = PushScheduler(self, pusher.submit, self.shard)
        self._fleet.on_push = pusher.submit
        self._fleet.on_push_reset = pusher.reset
        self._fleet.on_values_changed = scheduler.changed
        self._check_descriptors()
        _tune_collector()
        try:
            for endpoint in self.endpoints:
                await self._open(endpoint)
        except OSError:
            await self.stop()
            raise
        scheduler.start()
        if self.shard.split:
            _log.info("%s: meters i %% %d == %d of profile %s on %d endpoints", self.shard.label, self.shard.count,
                      self.shard.index, self.profile.name, len(self.endpoints))
        else:
            _log.info("%d meters of profile %s on %d endpoints", len(self.entries), self.profile.name,
                      len(self.endpoints))

    async def _open(self, endpoint: Endpoint) -> None:
        loop = self._loop
        assert loop is not None
        inherited = self._inherited.get((endpoint.transport, endpoint.host, endpoint.port))
        try:
            if inherited is not None:
                await self._adopt(endpoint, inherited.open())
            elif endpoint.transport == "udp":
                self._udp.append(open_udp(self, endpoint))
            elif endpoint.transport == "hdlc-serial":
                self._serial.append(await open_serial(self, endpoint))
            else:
                kind: Any = WrapperStream if endpoint.transport == "tcp" else HDLCStream
                server = await loop.create_server(lambda: kind(self, endpoint), endpoint.host, endpoint.port,
                                                  backlog=min(4096, self.limits.max_connections))
                self._servers.append(server)
                endpoint.port = server.sockets[0].getsockname()[1]
        except OSError as exc:
            raise OSError(exc.errno, f"cannot open {endpoint.describe()}: {exc.strerror or exc}") from None
        _log.debug("listening: %s", endpoint.describe())

    async def _adopt(self, endpoint: Endpoint, sock: socket.socket) -> None:
        """Serve `endpoint` on a socket bound (and listening) by someone else: a supervisor's."""
        assert self._loop is not None
        endpoint.port = sock.getsockname()[1]  # the port chosen for it, when the profile said 0
        if endpoint.transport == "udp":
            sock.setblocking(False)
            if endpoint.by_address:
                sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            self._udp.append(UDPEndpoint(self, endpoint, sock))
            return
        kind: Any = WrapperStream if endpoint.transport == "tcp" else HDLCStream
        self._servers.append(await self._loop.create_server(lambda: kind(self, endpoint), sock=sock,
                                                            backlog=min(4096, self.limits.max_connections)))
        _log.info("%s: on the socket handed over (fd %d)", endpoint.describe(), sock.fileno())

    def _check_descriptors(self) -> None:
        """Raise the soft file limit as far as the hard one allows when the fleet needs more (a
        container runtime may give 1024 of 524288); fail early, with the remedy, when the
        endpoints alone would still exhaust it."""
        needed = len(self.endpoints) + min(self.limits.max_connections, 1024) + _SPARE_FDS
        soft = allow_open_files(needed)
        if soft >= 0 and len(self.endpoints) + _SPARE_FDS > soft:
            remedy = ("a shard binds each of its meters' addresses: run the shards under --workers (one socket "
                      "per worker for all) or raise the limit (ulimit -n)" if self.shard.split else
                      "reach many meters with 'addressing: address' (one socket for all)")
            raise OSError(f"{len(self.endpoints)} sockets needed but the process may open {soft} files: {remedy}")
        if soft >= 0 and needed > soft:
            _log.warning("%d endpoints and up to %d connections may exceed the %d open files allowed",
                         len(self.endpoints), self.limits.max_connections, soft)

    async def stop(self) -> None:
        """Stop pushing, stop listening, write held answers, close connections and lines cleanly,
        close the store."""
        if self._push_scheduler is not None:
            self._push_scheduler.close()
        if self._pusher is not None:
            await self._pusher.close()
        self._flush()
        for server in self._servers:
            server.close()
        for udp in self._udp:
            udp.close()
        for stream in self._serial:
            if stream.line is not None:
                stream.line.close()
            stream.shutdown()
        for connection in list(self._connections):
            connection.shutdown()
        deadline = time.monotonic() + _DRAIN_S
        while self._connections and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for server in self._servers:
            try:
                await asyncio.wait_for(server.wait_closed(), _DRAIN_S)
            except asyncio.TimeoutError:
                pass
        self._servers.clear()
        self._udp.clear()
        self._serial.clear()
        self._stopped = True
        if self._fleet is not None:
            self._fleet.commit()
        if self.store is not None:
            self.store.close()
        if self._timers is not None:
            self._timers.close()

    async def run(self, started: Any = None, services: Sequence[Service] = ()) -> None:
        """Start, start the `services` (the control plane), call `started(engine)` if given, serve
        until SIGINT/SIGTERM, then stop the services and the engine."""
        await self.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)
            except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
                pass
        begun: list[Service] = []
        try:
            for service in services:
                await service.start()
                begun.append(service)
            if started is not None:
                started(self)
            await stop.wait()
            _log.info("shutting down")
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            for service in reversed(begun):
                await service.stop()
            await self.stop()


# The cyclic garbage collector's first generation, in objects allocated: a year of profile rows
# makes hundreds of thousands of short-lived values, which the default (700) scans hundreds of
# times per read; much larger, and the garbage of a burst of connections piles up before it is
# collected (tests/runtime/test_closed_connections.py bounds that).
_GC_FIRST_GENERATION = 10_000


def _tune_collector() -> None:
    """What lives as long as the process (models, the endpoint table) is moved out of the
    collector's sight, and it collects less often: about a third of a large profile read's CPU
    went to scanning objects that were never garbage."""
    gc.freeze()
    gc.set_threshold(_GC_FIRST_GENERATION, 20, 100)
