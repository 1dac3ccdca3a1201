"""A closed TCP connection costs nothing: after 50,000 of them the process is back to its size.

The engine runs in this process (tests/runtime/harness.py, uvloop); the openers are a few uvloop
tasks on raw sockets, and the RSS is read from /proc/self/status. About 6 s on two cores.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import time
from pathlib import Path

from .harness import RunningFleet, uvloop

PROFILE = """
name: closing
limits: {max_connections_per_meter: 1000}
groups:
  - name: m
    model: minimal
    count: 1
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
      - {transport: hdlc-tcp, host: 127.0.0.1, port: 0}
"""
# A wrapper header from client 16 to logical device 1 announcing 65,535 APDU bytes (more than the
# meter takes), then 64 KiB: before the fix each such connection kept its last chunk.
LONG = bytes.fromhex("0001 0010 0001 FFFF") + bytes(65536)
CONNECTIONS = 50_000
OPENERS = 4
# Measured growth is under 1 MB. Retaining 100 bytes per connection would already add 5 MB;
# before the fix it was ~1.5 KiB per silent connection and ~67 KiB per long one (~200 MB here).
BOUND_KB = 5 * 1024


def rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


async def open_and_close(ports: tuple[int, int], count: int, first: int) -> None:
    """Every 25th connection sends LONG, every 5th goes to the HDLC port, the rest say nothing."""
    loop = asyncio.get_running_loop()
    for i in range(first, first + count):
        sock = socket.socket()
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, ("127.0.0.1", ports[i % 5 == 0]))
            if i % 25 == 0:
                await loop.sock_sendall(sock, LONG)
        except OSError:  # the meter dropped the long one while it was still being sent
            pass
        finally:
            sock.close()


def churn(ports: tuple[int, int], total: int) -> None:
    share = total // OPENERS

    async def main() -> None:
        await asyncio.gather(*(open_and_close(ports, share, n * share) for n in range(OPENERS)))

    runner = uvloop.run if uvloop is not None else asyncio.run
    runner(main())


def settled(fleet: RunningFleet) -> None:
    """Wait until the engine has seen every close (it learns of them a little after the client)."""
    deadline = time.monotonic() + 10
    while fleet.call(lambda: fleet.engine.connections) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fleet.call(lambda: fleet.engine.connections) == 0
    gc.collect()


def test_fifty_thousand_closed_connections_leave_no_memory_behind(tmp_path: Path) -> None:
    with RunningFleet(PROFILE, tmp_path, state_dir=None) as fleet:
        ports = (fleet.port("tcp"), fleet.port("hdlc-tcp"))
        churn(ports, 2000)  # warm up: allocator pools, the meter built at first contact
        settled(fleet)
        before = rss_kb()
        churn(ports, CONNECTIONS)
        settled(fleet)
        grown = rss_kb() - before
        assert fleet.call(lambda: len(fleet.engine.timers)) == 0
    assert grown < BOUND_KB, f"RSS grew by {grown} KiB over {CONNECTIONS} closed connections"
