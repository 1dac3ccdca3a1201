"""`cosem-sim run --workers N`: one fleet served by N processes of one host, under a supervisor.

Worker w runs `cosem-sim run ... --shard w/N` and serves the meters whose fleet index is w
modulo N. Meters reached by address share one listening socket per transport; the supervisor
opens each such socket N times as one SO_REUSEPORT group and steers every connection and
datagram to the worker of the meter at its destination address (runtime/steering.py); each
worker gets its own socket of each group (COSEM_SIM_SOCKETS, runtime/inherited.py).
Each port-addressed meter's port (its meters all one worker's) the supervisor opens once and
hands to that worker.

The supervisor holds every socket for its whole life (the list goes to a worker in the
variable, or in a file the variable names when it is long). A worker that exits unexpectedly is
started again with the same arguments, sockets and state file, 1 s later, doubling to 30 s
while it keeps failing (1 s again once one has run for a minute); connections that arrive
meanwhile wait in the socket's backlog instead of being refused. SIGINT or SIGTERM is passed
on to every worker; the supervisor waits for them (10 s, then kills them) and exits 0; a second
signal kills them at once. Workers run in a session of their own (a terminal's Ctrl-C reaches
them once, through the supervisor) and are stopped if the supervisor dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from .command import prepared_profile
from .engine import allow_open_files
from .inherited import ENVIRONMENT
from .layout import Endpoint, Layout, plan, shard_endpoints
from .profile import FleetProfile, ProfileError
from .shard import Shard
from .steering import Split, address_runs, attach, open_group, steering_program

__all__ = ["supervise"]

_log = logging.getLogger(__name__)
_RESTART_FIRST_S = 1.0
_RESTART_MAX_S = 30.0
_STEADY_S = 60.0  # a worker up this long starts again after _RESTART_FIRST_S when it ends
_STOP_WAIT_S = 10.0
_WORKER_BANNER = "cosem-sim: profile"  # the first line of `run`'s banner: the worker serves
BANNER = "cosem-sim workers:"  # the first line of the supervisor's, once every worker serves
# What the supervisor's environment told it, not its workers (a worker would supervise again).
_SUPERVISOR_ONLY = ("COSEM_SIM_WORKERS", "COSEM_SIM_SHARD", "COSEM_SIM_SHARDS", "COSEM_SIM_SHARD_FROM_HOSTNAME",
                    ENVIRONMENT)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_VARIABLE_MAX = 100_000  # octets of COSEM_SIM_SOCKETS before the list goes to a file


@dataclass(eq=False)
class SteeredEndpoint:
    """An address-addressed endpoint (transport, bind host, the profile's port) opened once per
    worker; `owners`: the workers with meters on it."""

    transport: str
    host: str
    port: int
    sockets: list[socket.socket]
    owners: list[int]

    def describe(self) -> str:
        return f"{self.transport} {self.host}:{self.sockets[0].getsockname()[1]}"


@dataclass(eq=False)
class HeldPort:
    """A port-addressed endpoint the supervisor opens once and keeps for the worker serving its
    meters (`owner`): connections wait in its backlog while that worker restarts."""

    transport: str
    host: str
    port: int
    sock: socket.socket
    owner: int


@dataclass(eq=False)
class Worker:
    shard: Shard
    command: list[str]
    handed: list[dict[str, Any]]  # COSEM_SIM_SOCKETS entries
    process: asyncio.subprocess.Process | None = None
    served: bool = False  # printed its banner at least once
    started: float = 0.0
    restarts: int = 0
    pumps: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.shard.label

    @property
    def fds(self) -> list[int]:
        return [entry["fd"] for entry in self.handed]


def supervise(args: argparse.Namespace, argv: list[str]) -> int:
    """Run `args.workers` workers until SIGINT or SIGTERM; the exit status. `argv`: the `run`
    arguments each worker gets, its --shard added."""
    supervisor = _prepare(args, argv)
    if isinstance(supervisor, int):
        return supervisor
    try:
        return asyncio.run(supervisor.run())
    finally:
        supervisor.close()


def _prepare(args: argparse.Namespace, argv: list[str]) -> Supervisor | int:
    """The supervisor with its sockets open, or the exit status of a profile it cannot serve.
    The fleet's plan is not kept: the workers have their own (0.3 KB per meter)."""
    count: int = args.workers
    host: Shard = args.shard  # WHOLE: cli.py refuses --shard with --workers; the steering could nest them
    try:
        profile = prepared_profile(args)
        layout = plan(profile)
        shards = [Shard(host.index + host.count * w, host.count * count) for w in range(count)]
        problems = layout.problems or shard_endpoints(layout, shards[0], profile.file)[1]
        if problems:
            raise ProfileError(problems)
    except ProfileError as exc:
        sys.stderr.write("\n".join(exc.lines()) + "\n")
        return 1
    try:
        steered = _steer(profile, layout.endpoints, Split(count, host.index, host.count))
    except OSError as exc:
        sys.stderr.write(f"cosem-sim run: {exc.strerror or exc}\n")
        return 1
    control = profile.control if profile.control is not None and profile.control.port else None
    if control is not None and control.port + count - 1 > 65535:
        sys.stderr.write(f"cosem-sim run: the control planes of {count} workers would listen up to port "
                         f"{control.port + count - 1}, above 65535\n")
        return 1
    try:
        held = _hold(profile, layout, shards, steered)
    except OSError as exc:
        for group in steered:
            for sock in group.sockets:
                sock.close()
        sys.stderr.write(f"cosem-sim run: {exc.strerror or exc}\n")
        return 1
    handed: list[list[dict[str, Any]]] = [[] for _ in shards]
    for group in steered:  # the endpoint's own port names it, also 0 (the group's first socket chose one)
        for number in group.owners:
            handed[number].append({"transport": group.transport, "host": group.host, "port": group.port,
                                   "fd": group.sockets[number].fileno()})
    for port in held:
        handed[port.owner].append({"transport": port.transport, "host": port.host, "port": port.port,
                                   "fd": port.sock.fileno()})
    workers = [_worker(shard, args, argv, handed[number],
                       None if control is None else (control.host, control.port + number))
               for number, shard in enumerate(shards)]
    return Supervisor(f"profile {profile.name}, {profile.size} meters", workers, steered, sys.stdout, sys.stderr,
                      held)


def _hold(profile: FleetProfile, layout: Layout, shards: list[Shard], steered: list[SteeredEndpoint]) -> list[HeldPort]:
    """Open each port-addressed endpoint (a given port: port 0 stays the worker's) for the worker
    serving its meters; OSError (naming it) when one cannot be bound, as without workers."""
    inherited = frozenset((group.transport, group.host, group.port) for group in steered)
    endpoints = [(number, endpoint) for number, shard in enumerate(shards)
                 for endpoint in shard_endpoints(layout, shard, profile.file, inherited)[0]
                 if not endpoint.by_address and endpoint.transport != "hdlc-serial" and endpoint.port]
    allow_open_files(len(endpoints) + sum(len(group.sockets) for group in steered))
    backlog = min(4096, profile.limits.max_connections)
    held: list[HeldPort] = []
    try:
        for number, endpoint in endpoints:
            stream = endpoint.transport != "udp"
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM if stream else socket.SOCK_DGRAM)
            held.append(HeldPort(endpoint.transport, endpoint.host, endpoint.port, sock, number))
            if stream:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections in TIME_WAIT do not count
            try:
                sock.bind((endpoint.host, endpoint.port))
            except OSError as exc:
                raise OSError(exc.errno, f"cannot open {endpoint.describe()}: {exc.strerror or exc}") from None
            if stream:
                sock.listen(backlog)
    except OSError:
        for port in held:
            port.sock.close()
        raise
    return held


def _steer(profile: FleetProfile, endpoints: list[Endpoint], split: Split) -> list[SteeredEndpoint]:
    """Open every address-addressed endpoint once per worker, steered; where that cannot be
    done the workers bind their meters' own addresses instead (said in the log)."""
    steered: list[SteeredEndpoint] = []
    backlog = min(4096, profile.limits.max_connections)
    try:
        for endpoint in endpoints:
            if not endpoint.by_address or endpoint.transport == "hdlc-serial":
                continue
            owners = sorted({w for w in (split.worker(entry.index) for entry in endpoint.meters()) if w is not None})
            if not owners:
                continue
            opened = _steered(endpoint, owners, split, backlog)
            if isinstance(opened, str):
                _log.warning("%s: connections are not steered (%s): each worker binds its meters' own addresses",
                             endpoint.describe(), opened)
            else:
                steered.append(opened)
    except OSError:
        for group in steered:
            for sock in group.sockets:
                sock.close()
        raise
    return steered


def _steered(endpoint: Endpoint, owners: list[int], split: Split, backlog: int) -> SteeredEndpoint | str:
    """The endpoint opened once per worker and steered, or why it cannot be steered (OSError:
    it cannot be opened at all, as a fleet without workers could not)."""
    if not sys.platform.startswith("linux"):
        return f"no SO_ATTACH_REUSEPORT_CBPF on {sys.platform}"
    try:
        program = steering_program(address_runs(endpoint), split, owners[0])
    except ValueError as exc:
        return str(exc)
    try:
        sockets = open_group(endpoint.transport, endpoint.host, endpoint.port, split.workers, backlog)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot open {endpoint.describe()}: {exc.strerror or exc}") from None
    try:
        attach(sockets[0], program)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        return f"the kernel refused the steering program: {exc.strerror or exc}"
    return SteeredEndpoint(endpoint.transport, endpoint.host, endpoint.port, sockets, owners)


def _worker(shard: Shard, args: argparse.Namespace, argv: list[str], handed: list[dict[str, Any]],
            control: tuple[str, int] | None) -> Worker:
    """The worker of `shard`, handed its sockets (COSEM_SIM_SOCKETS entries) and its own control
    plane port (worker w at the fleet's control port + w: they share the host)."""
    command = [sys.executable, "-m", "simulator.cli", "run", *argv, "--shard", f"{shard.index}/{shard.count}"]
    if control is not None:
        host, port = control
        command += ["--control", f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    if args.pcap is not None:  # one capture per worker, beside the one asked for
        pcap = Path(args.pcap)
        command += ["--pcap", str(pcap.with_name(f"{pcap.stem}.shard-{shard.index}-of-{shard.count}{pcap.suffix}"))]
    return Worker(shard, command, handed)


def _status(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _stopped_with_parent() -> Callable[[], None] | None:
    """What a worker runs before exec on Linux: SIGTERM to it when the supervisor dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Supervisor:
    """Starts the workers, passes their lines on, restarts them, stops them on a signal."""

    def __init__(self, fleet: str, workers: list[Worker], steered: list[SteeredEndpoint], out: TextIO,
                 err: TextIO, held: list[HeldPort] | None = None) -> None:
        self.fleet = fleet  # "profile NAME, M meters", for the banner
        self.workers = workers
        self.steered = steered
        self.held = held or []
        self._lists: list[str] = []  # files holding a worker's long socket list
        self.out = out
        self.err = err
        self.status = 0
        self._waiting = set(workers)  # not yet serving: the banner waits for them
        self._announced = False
        self._stopping = asyncio.Event()  # bound to the loop that first waits on it (Python 3.10+)
        self._kill_timer: asyncio.TimerHandle | None = None
        self._before_exec = _stopped_with_parent()
        self._env = {name: value for name, value in os.environ.items() if name not in _SUPERVISOR_ONLY}

    def close(self) -> None:
        """Close every socket (once no worker uses them)."""
        for group in self.steered:
            for sock in group.sockets:
                sock.close()
        for port in self.held:
            port.sock.close()
        for path in self._lists:
            with contextlib.suppress(OSError):
                os.unlink(path)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._signalled, sig)
        try:
            await asyncio.gather(*(self._keep(worker) for worker in self.workers))
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            if self._kill_timer is not None:
                self._kill_timer.cancel()
        return self.status

    async def _keep(self, worker: Worker) -> None:
        """Run `worker` until the supervisor stops, starting it again whenever it ends."""
        delay = _RESTART_FIRST_S
        while True:
            process = await self._start(worker)
            code = await process.wait()
            await asyncio.gather(*worker.pumps)
            if self._stopping.is_set():
                return
            if not worker.served:  # the profile or the arguments: starting again would fail again
                _log.error("%s could not start (%s): stopping every worker", worker.label, _status(code))
                self.status = 1
                self._stop(signal.SIGTERM)
                return
            if time.monotonic() - worker.started >= _STEADY_S:
                delay = _RESTART_FIRST_S
            # Only steered sockets are the supervisor's to keep: a worker binds its meters' ports itself.
            _log.warning("%s (pid %d) ended unexpectedly (%s) after %.0f s: starting it again in %g s%s, with its "
                         "state", worker.label, process.pid, _status(code), time.monotonic() - worker.started, delay,
                         " on the same sockets" if worker.handed else "")
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
                return
            except asyncio.TimeoutError:
                pass
            delay = min(2 * delay, _RESTART_MAX_S)
            worker.restarts += 1

    def _socket_list(self, worker: Worker) -> str:
        """The worker's COSEM_SIM_SOCKETS: the JSON list, or "@FILE" holding it when it is too
        long for the environment (Linux allows 128 KiB a variable: ~1,800 sockets)."""
        text = json.dumps(worker.handed)
        if len(text) <= _VARIABLE_MAX:
            return text
        with tempfile.NamedTemporaryFile("w", prefix="cosem-sim-sockets-", suffix=".json", delete=False) as file:
            file.write(text)
        self._lists.append(file.name)
        return "@" + file.name

    async def _start(self, worker: Worker) -> asyncio.subprocess.Process:
        env = dict(self._env)
        if worker.handed:
            env[ENVIRONMENT] = self._socket_list(worker)
        process = worker.process = await asyncio.create_subprocess_exec(
            *worker.command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, pass_fds=worker.fds, start_new_session=True,
            preexec_fn=self._before_exec)
        worker.started = time.monotonic()
        assert process.stdout is not None and process.stderr is not None
        worker.pumps = [asyncio.create_task(self._pump(worker, process.stdout, self.out, True)),
                        asyncio.create_task(self._pump(worker, process.stderr, self.err, False))]
        if self._stopping.is_set():  # a signal came while it was being started
            process.send_signal(signal.SIGTERM)
        return process

    async def _pump(self, worker: Worker, stream: asyncio.StreamReader, out: TextIO, stdout: bool) -> None:
        """Pass the worker's lines on, each prefixed with its shard; notice its banner."""
        pending = b""
        while chunk := await stream.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                text = line.decode("utf-8", "replace")
                out.write(f"[{worker.label}] {text}\n")
                if stdout and text.startswith(_WORKER_BANNER):
                    self._serving(worker)
            out.flush()
            if stdout:
                self._announce()
        if pending:
            out.write(f"[{worker.label}] {pending.decode('utf-8', 'replace')}\n")
            out.flush()

    def _serving(self, worker: Worker) -> None:
        if worker.served:
            _log.info("%s serves again (pid %d, restart %d)", worker.label,
                      worker.process.pid if worker.process else 0, worker.restarts)
        worker.served = True
        self._waiting.discard(worker)

    def _announce(self) -> None:
        """The supervisor's banner, once, when the last worker printed its own."""
        if self._announced or self._waiting or self._stopping.is_set():
            return
        self._announced = True
        shards = ", ".join(f"{w.label} (pid {w.process.pid if w.process else '-'})" for w in self.workers)
        lines = [f"{BANNER} {self.fleet} in {len(self.workers)} "
                 f"process{'es' if len(self.workers) > 1 else ''}: {shards}; Ctrl-C stops"]
        if self.steered:
            lines.append("  connections and datagrams steered by destination address to the worker of the meter "
                         "there: " + ", ".join(group.describe() for group in self.steered))
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    def _signalled(self, sig: int) -> None:
        if self._stopping.is_set():
            _log.warning("%s again: killing every worker", signal.Signals(sig).name)
            self._kill()
            return
        _log.info("%s: stopping every worker", signal.Signals(sig).name)
        self._stop(sig)

    def _stop(self, sig: int) -> None:
        self._stopping.set()
        for worker in self.workers:
            if worker.process is not None and worker.process.returncode is None:
                worker.process.send_signal(sig)
        self._kill_timer = asyncio.get_running_loop().call_later(_STOP_WAIT_S, self._kill)

    def _kill(self) -> None:
        for worker in self.workers:
            if worker.process is not None and worker.process.returncode is None:
                _log.warning("%s (pid %d) killed: it did not stop", worker.label, worker.process.pid)
                worker.process.kill()
