"""The control plane: the HTTP server (aiohttp) beside the meters, on the engine's event loop.

`ControlPlane(engine, settings)` becomes the engine's Observer before the engine starts; app.py's
`control_plane()` makes it with its HTTP application (this module knows no routes). What it
is told about the wire goes to its sinks, `metrics` (control/metrics.py) and `traces`
(control/traces.py), which the modules' `add_routes` attach while the app is made; each sink
implements the Observer methods it needs. Each hook is bound once, when a sink is attached, to
its sinks' bound methods: the runtime's call reaches the one sink that wants it directly (a hook
nobody wants is a function that does nothing), with no dispatch per call.

The meters append each exchange to the plane's `exchanges` (runtime/observe.py says why); the
plane hands them to its sinks' `take` in batches (`settle`): every 100 ms, before anything is
read (every route reads through the plane) and, while somebody watches the live trace, before a
frame handed over is kept (so that the stream sends frames in the order they crossed). The
plane itself keeps, per meter, the time of its last APDU and the connections where
associations were made (what `GET /api/meters/{serial}` shows), and finds meters by serial
number for every route.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from operator import attrgetter, itemgetter
from typing import Any, Callable

from aiohttp import web

from ..runtime.engine import Engine
from ..runtime.layout import MeterEntry
from ..runtime.observe import Exchange, ObservedMeter
from ..runtime.profile import ControlSettings, GroupSpec, meter_fields
from ..server.meter import Channel

__all__ = ["ControlPlane"]

_log = logging.getLogger(__name__)
_HOOKS = ("connection", "frame", "association", "refusal", "push", "take")
_FORWARDED = ("connection", "refusal", "push")  # bound to the sinks' methods as they are
_SWEEP_S = 1.0  # how often the trace's rings are bounded (traces.py `sweep`)
_SETTLE_S = 0.1  # how often the exchanges kept are handed to the sinks
_live_of, _ended, _index_of = itemgetter(0), itemgetter(3), attrgetter("entry.index")


def _nothing(*args: object) -> None:
    """A hook no sink wants."""


def _fan_out(calls: list[Callable[..., None]]) -> Callable[..., None]:
    """One callable for a hook: the sink's own bound method when one sink wants it."""
    if not calls:
        return _nothing
    if len(calls) == 1:
        return calls[0]

    def each(*args: object) -> None:
        for call in calls:
            call(*args)
    return each


class ControlPlane:
    """The engine's Observer and the HTTP API's owner; `start()`/`stop()` run on the engine's loop."""

    # The Observer's hooks the plane only hands on (runtime/observe.py has their meaning): bound
    # by `_wire` to the sinks' methods.
    connection: Callable[[str, bool, ObservedMeter | None], None]
    refusal: Callable[[ObservedMeter | None, str], None]
    push: Callable[[ObservedMeter, bool], None]
    takes_wrapper_frames = True

    def __init__(self, engine: Engine, settings: ControlSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.port = settings.port  # the port really bound, once started
        self._metrics: Any = None
        self._traces: Any = None
        self._frame: Callable[..., None] = _nothing  # the sinks' frame
        self._association: Callable[..., None] = _nothing  # the sinks' association
        self._take: Callable[[list[Exchange]], None] = _nothing  # the sinks' take
        self.frames_wanted = False
        self.exchanges: list[Exchange] = []  # appended by the meters, handed to the sinks by `settle`
        self._last_activity: dict[int, float] = {}  # perf_counter time of each meter's last APDU, by index
        self._channels: dict[int, list[Channel]] = {}  # meter index -> channels with associations
        self._serials: dict[str, MeterEntry] | None = None
        self._runner: web.AppRunner | None = None
        self._sweep: asyncio.TimerHandle | None = None
        self._settling: asyncio.TimerHandle | None = None
        self._wire()
        engine.observer = self
        self.app: web.Application | None = None  # its HTTP application (app.py's control_plane makes both)

    # -- the sinks
    @property
    def metrics(self) -> Any:
        return self._metrics

    @metrics.setter
    def metrics(self, sink: Any) -> None:
        self._metrics = sink
        self._wire()

    @property
    def traces(self) -> Any:
        return self._traces

    @traces.setter
    def traces(self, sink: Any) -> None:
        self._traces = sink
        self._wire()

    def _wire(self) -> None:
        sinks = [s for s in (self._metrics, self._traces) if s is not None]
        calls = {name: [getattr(s, name) for s in sinks if callable(getattr(s, name, None))] for name in _HOOKS}
        for name in _FORWARDED:
            setattr(self, name, _fan_out(calls[name]))
        self._frame = _fan_out(calls["frame"])
        self._association = _fan_out(calls["association"])
        self._take = _fan_out(calls["take"])
        self.frames_wanted = any(getattr(s, "frames_wanted", callable(getattr(s, "frame", None))) for s in sinks)

    # -- Observer (the other hooks are bound by `_wire`)
    def frame(self, live: ObservedMeter | None, channel: object, received: bool, data: bytes, transport: str,
              peer: str, local: str) -> None:
        if self.exchanges and self._traces is not None and self._traces.watched:
            self.settle()  # those kept before it first: the stream sends frames in the order they crossed
        self._frame(live, channel, received, data, transport, peer, local)

    def association(self, live: ObservedMeter, channel: object, client_sap: int, outcome: str) -> None:
        if isinstance(channel, Channel):  # where the meter's associations are found
            index = live.entry.index
            kept = [c for c in self._channels.get(index, ()) if c is not channel and c.associated]
            if channel.associated:
                kept.append(channel)
            self._channels[index] = kept
        self._association(live, channel, client_sap, outcome)

    def settle(self) -> None:
        """Hand the exchanges kept so far to the sinks (and note each meter's last APDU)."""
        exchanges = self.exchanges
        if not exchanges:
            return
        batch = exchanges.copy()  # the meters hold this very list
        exchanges.clear()
        self._last_activity.update(zip(map(_index_of, map(_live_of, batch)), map(_ended, batch)))
        self._take(batch)

    def _settled(self) -> None:
        try:
            self.settle()
        finally:  # (a sink's bug is logged by the loop; the exchanges must not pile up)
            self._settling = asyncio.get_running_loop().call_later(_SETTLE_S, self._settled)

    # -- what the API shows
    def last_activity(self, entry: MeterEntry) -> float | None:
        """Wall time of the meter's last APDU (None: none since the control plane started)."""
        self.settle()
        at = self._last_activity.get(entry.index)
        return time.time() - (time.perf_counter() - at) if at is not None else None

    def associations(self, entry: MeterEntry) -> list[tuple[int, int, float]]:
        """(server SAP, client SAP, fleet epoch made at) of each association open to the meter."""
        return sorted((server, client, since) for channel in self._channels.get(entry.index, ())
                      for (server, client), since in channel.associations().items())

    def serial(self, entry: MeterEntry) -> str:
        live = entry.live
        fields = live.meter.fields if live is not None else meter_fields(entry.group, entry.group_index, "serial")
        return str(fields.get("serial", entry.label))

    def meter(self, serial: str) -> MeterEntry | None:
        """The meter with this serial number that this process serves (a shard serves only its
        own: another shard's is None)."""
        entry = self._find(serial)
        return entry if entry is not None and self.engine.shard.owns(entry.index) else None

    def missing(self, serial: str) -> str:
        """Why `meter(serial)` is None, in words."""
        entry, shard = self._find(serial), self.engine.shard
        if entry is not None:
            return (f"meter {serial} is served by shard {entry.index % shard.count}/{shard.count} of profile "
                    f"{self.engine.profile.name}, not by this one ({shard.label})")
        return f"no meter with serial number {serial!r} in profile {self.engine.profile.name}"

    def owned(self, group: GroupSpec) -> range:
        """The fleet indices of the group's meters this process serves (all of them unless a shard)."""
        shard, first = self.engine.shard, group.first_index
        return range(first + (shard.index - first) % shard.count, first + group.count, shard.count)

    def _find(self, serial: str) -> MeterEntry | None:
        """The fleet's meter with this serial number. The profile's default serials
        ("{number:08d}") are found at once; others through an index of every serial, made at the
        first such search."""
        entries = self.engine.entries
        if serial.isdigit():
            for index in (int(serial) - 1, int(serial)):
                if 0 <= index < len(entries) and self.serial(entries[index]) == serial:
                    return entries[index]
        if self._serials is None:
            self._serials = {self.serial(entry): entry for entry in entries}
        return self._serials.get(serial)

    # -- life cycle
    @property
    def url(self) -> str:
        host = self.settings.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}/"

    async def start(self) -> None:
        """Listen; OSError (with the address) when the port cannot be bound."""
        if self.app is None:
            raise RuntimeError("the control plane has no HTTP application: make it with control/app.py's "
                               "control_plane()")
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise OSError(exc.errno, f"cannot open the control plane at {self.settings.host}:"
                                     f"{self.settings.port}: {exc.strerror or exc}") from None
        self._runner = runner
        self.port = site.port
        self._sweep = asyncio.get_running_loop().call_later(_SWEEP_S, self._swept)
        self._settling = asyncio.get_running_loop().call_later(_SETTLE_S, self._settled)
        _log.info("control plane listening at %s%s", self.url,
                  " (a bearer token is required)" if self.settings.token else "")
        if not self.settings.token and not ipaddress.ip_address(self.settings.host).is_loopback:
            _log.warning("the control plane at %s changes meters for anyone who reaches it: give the profile's "
                         "control: a token", self.url)

    def _swept(self) -> None:
        sweep = getattr(self._traces, "sweep", None)
        if sweep is not None:
            sweep()
        self._sweep = asyncio.get_running_loop().call_later(_SWEEP_S, self._swept)

    async def stop(self) -> None:
        for timer in (self._sweep, self._settling):
            if timer is not None:
                timer.cancel()
        self._sweep = self._settling = None
        self.settle()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
