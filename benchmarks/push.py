"""Notifications per second a fleet pushes to one head-end: `python -m benchmarks.push send|receive ...`.

`receive` is the head-end: a TCP wrapper port on 127.0.0.1 that takes each connection's bytes
until the meter closes it and counts the notifications (wrapper frames) and the connections; it
prints its port, then, at SIGTERM, one JSON line. `send PROFILE` runs the fleet of PROFILE in
this process as `cosem-sim run` does (the engine on uvloop), builds every meter and asks each
one's daily push (0.1.25.9.0.255, version 2: seven values, the energy registers computed now)
as the control plane will (`Pusher.submit`), `--rounds` times over; its randomisation interval
is set to 0 so every push is due at once; `--plain` also empties its protection parameters
(else general-glo-ciphering with the meter's keys). It waits until the pusher has sent every
one and prints one JSON line: pushes, seconds, notifications/s, this process's CPU. `--canned`
measures the ceiling instead: the same number of connections, each from a meter's own
address, opened, written with one notification's bytes and closed, with the same in-flight
bound, and no DLMS at all: what the event loop allows on this machine.
benchmarks.run starts the receiver pinned to CPU 1 and the sender to CPU 0 (`--only push`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from simulator.axdr import Data, DataType, Obis
from simulator.link.wrapper import HEADER_SIZE
from simulator.runtime.engine import Engine, install_uvloop
from simulator.runtime.layout import push_source
from simulator.runtime.profile import load_profile
from simulator.server.objects import ObjectHandle
from simulator.server.objects import PushRequest
from simulator.server.push import notify

__all__ = ["main", "DAILY_PUSH"]

DAILY_PUSH = Obis("0.1.25.9.0.255")
_RANDOMISATION, _PROTECTION = 5, 10  # Push setup attributes
_TIMEOUT_S = 100.0
_QUIET_S, _DRAIN_S = 0.3, 10.0  # the receiver stops once no connection came for QUIET_S (at most DRAIN_S)


# --------------------------------------------------------------------------- the head-end

class _Counter(asyncio.Protocol):
    def __init__(self, totals: dict[str, int]) -> None:
        self.totals = totals

    def connection_made(self, transport: Any) -> None:
        self.buffer = bytearray()
        self.totals["connections"] += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data

    def connection_lost(self, exc: Exception | None) -> None:
        data, totals = self.buffer, self.totals
        totals["bytes"] += len(data)
        at = 0
        while at + HEADER_SIZE <= len(data):  # wrapper frames: version, wPorts, length
            end = at + HEADER_SIZE + int.from_bytes(data[at + 6:at + 8], "big")
            if end > len(data):
                break
            totals["notifications"] += 1
            at = end
        totals["incomplete"] += at != len(data)


async def receive(port: int) -> dict[str, int]:
    totals = {"connections": 0, "notifications": 0, "bytes": 0, "incomplete": 0}
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Counter(totals), "127.0.0.1", port, backlog=4096)
    sys.stdout.write(f"receiving on 127.0.0.1:{server.sockets[0].getsockname()[1]}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    # Connections still in the listen backlog would be lost with the socket: on a busy machine the
    # sender may finish well before this process has accepted them all. Close once nothing new came.
    deadline = loop.time() + _DRAIN_S
    seen = -1
    while loop.time() < deadline and seen != totals["connections"] + totals["notifications"]:
        seen = totals["connections"] + totals["notifications"]
        await asyncio.sleep(_QUIET_S)
    server.close()
    await asyncio.sleep(0.2)  # connections still open are counted as they end
    return totals


# --------------------------------------------------------------------------- the fleet

def _daily_handles(engine: Engine) -> list[tuple[Any, ObjectHandle]]:
    """Every meter built, with its daily push object."""
    found = []
    for entry in engine.entries:
        live = engine.fleet.live(entry)
        device = live.meter.model.logical_devices[1]
        spec = device.find(bytes(DAILY_PUSH))
        if spec is None:
            raise LookupError(f"{entry.label} has no Push setup {DAILY_PUSH}")
        found.append((live, ObjectHandle(live.meter, device, spec, engine.now())))
    return found


async def send(profile: Path, rounds: int, plain: bool, canned: bool, state_dir: Path | None) -> dict[str, Any]:
    engine = Engine(load_profile(profile), state_dir=state_dir)
    await engine.start()
    try:
        meters = _daily_handles(engine)
        for _, handle in meters:
            handle.set(_RANDOMISATION, Data(DataType.LONG_UNSIGNED, 0))
            if plain:
                handle.set(_PROTECTION, Data(DataType.ARRAY, ()))
        total = rounds * len(meters)
        pusher = engine.pusher
        cpu, began = time.process_time(), time.perf_counter()
        if canned:
            await _canned(engine, meters, rounds)
        else:
            for _ in range(rounds):
                for live, handle in meters:
                    pusher.submit(live, PushRequest(1, handle.spec.index, engine.now(), "control"))
            deadline = time.monotonic() + _TIMEOUT_S
            while pusher.sent + pusher.failed < total and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
        seconds = time.perf_counter() - began
        cpu = time.process_time() - cpu
        sent = total if canned else pusher.sent
        return {"meters": len(meters), "pushes": total, "sent": sent, "failed": 0 if canned else pusher.failed,
                "seconds": round(seconds, 3), "rate": round(sent / seconds, 1) if seconds else 0.0,
                "cpu_s": round(cpu, 3), "peak_in_flight": pusher.peak_in_flight}
    finally:
        await engine.stop()


async def _canned(engine: Engine, meters: list[tuple[Any, ObjectHandle]], rounds: int) -> None:
    """Connections with one notification's bytes each, no DLMS, at the pusher's in-flight bound."""
    live, _ = meters[0]
    request = PushRequest(1, meters[0][1].spec.index, engine.now(), "control")
    frames = b"".join(notify(live.meter, request, engine.now()).frames)
    destination = notify(live.meter, request, engine.now()).destination
    bound = asyncio.Semaphore(engine.limits.max_pushes_in_flight)

    async def one(source: str | None) -> None:
        async with bound:
            local = (source, 0) if source is not None else None
            _, writer = await asyncio.open_connection(destination.host, destination.port, local_addr=local)
            writer.write(frames)
            await writer.drain()
            writer.close()
            await writer.wait_closed()

    sources = [push_source(m.entry.group, m.entry.group_index, "tcp") for m, _ in meters]
    await asyncio.gather(*(one(source) for _ in range(rounds) for source in sources))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.push", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    head_end = commands.add_parser("receive", help="the head-end: count notifications until SIGTERM")
    head_end.add_argument("--port", type=int, default=0)
    fleet = commands.add_parser("send", help="the fleet: push and time it")
    fleet.add_argument("profile", type=Path)
    fleet.add_argument("--rounds", type=int, default=1, help="pushes per meter")
    fleet.add_argument("--plain", action="store_true", help="no protection (else general-glo-ciphering)")
    fleet.add_argument("--canned", action="store_true", help="the ceiling: canned bytes, no DLMS")
    fleet.add_argument("--state-dir", type=Path, help="keep the meters' state (counters committed per push)")
    args = parser.parse_args(argv)
    install_uvloop()
    if args.command == "receive":
        result: dict[str, Any] = asyncio.run(receive(args.port))
    else:
        result = asyncio.run(send(args.profile, args.rounds, args.plain, args.canned, args.state_dir))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
