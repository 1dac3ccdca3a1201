"""Memory of an idle fleet, and proof that it schedules nothing: `python -m benchmarks.idle PROFILE`.

Starts the fleet of PROFILE in this process as `cosem-sim run` does (the engine on uvloop,
listening), then builds every meter (or the first `--build`) as a first contact builds it
(`Fleet.live`) and reads each one's clock and +A energy register once through its objects, as
a collection round would leave them; then lets the event loop run for `--idle-s` seconds. Prints one JSON line:
RSS at start and after, the asyncio tasks alive and the TimerQueue's size (neither may grow
with the meters: no meter has a task or a timer of its own), and the seconds each step took.
benchmarks.run starts it pinned to CPU 0 (`--only living-idle`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from simulator.axdr import Obis
from simulator.runtime.engine import Engine, install_uvloop
from simulator.runtime.profile import load_profile

__all__ = ["main", "measure", "rss_mb"]

_READ = (Obis("0.0.1.0.0.255"), Obis("1.0.1.8.0.255"))


def rss_mb() -> float:
    """This process's resident set, in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(profile_path: Path, idle_s: float, build: int | None = None) -> dict[str, Any]:
    engine = Engine(load_profile(profile_path))
    started = time.perf_counter()
    await engine.start()
    try:
        figures: dict[str, Any] = {"meters": len(engine.entries), "start_s": round(time.perf_counter() - started, 2),
                                   "rss_start_mb": round(rss_mb(), 1)}
        fleet, now = engine.fleet, engine.now()
        began = time.perf_counter()
        failed = 0
        for entry in engine.entries[:build]:
            meter = fleet.live(entry).meter
            device = meter.model.logical_devices[min(meter.model.logical_devices)]
            for name in _READ:
                spec = device.find(bytes(name))
                handle = None if spec is None else meter.object(device, spec.index, now)
                try:
                    if handle is None:
                        raise LookupError(f"no {name}")
                    handle.get(2)
                except Exception:  # noqa: BLE001 - counted and reported, never hidden
                    failed += 1
        figures.update(build_read_s=round(time.perf_counter() - began, 2), read_errors=failed,
                       live_meters=len(fleet.live_meters))
        await asyncio.sleep(idle_s)
        figures.update(rss_mb=round(rss_mb(), 1), tasks=len(asyncio.all_tasks()), timer_queue=len(engine.timers),
                       connections=engine.connections)
        return figures
    finally:
        await engine.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.idle", description=__doc__.split("\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--idle-s", type=float, default=1.0, help="seconds the built fleet stays idle")
    parser.add_argument("--build", type=int, help="build and read only the first BUILD meters (default: all)")
    args = parser.parse_args(argv)
    install_uvloop()
    sys.stdout.write(json.dumps(asyncio.run(measure(args.profile, args.idle_s, args.build))) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
