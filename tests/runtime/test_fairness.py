"""One connection cannot starve the others: the work per connection and event-loop turn is bounded.

Over real sockets: clients flood one meter's HDLC port while dlms-cosem reads another meter
through the TCP wrapper; every request must be answered (within dlms-cosem's 5 s timeout)
while the flood runs. How long the answers take under a flood is measured by
`python -m benchmarks.run --only flood`, not asserted here. Then the budget itself, on a fake
transport: a long read is handled `TURN_BUDGET_BYTES` per turn, with reading paused between.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from simulator.runtime.tcp import TURN_BUDGET_BYTES, StreamConnection

from .harness import RunningFleet
from .peers import CLOCK, dlms_client, wrapper_transport

PROFILE = """
name: flood
groups:
  - name: m
    model: minimal
    count: 2
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
      - {transport: hdlc-tcp, host: 127.0.0.1, port: 0}
"""
FLOODS = 2
REQUESTS = 20
# Each flag followed by the first octet of a frame format: every two octets the reader starts a
# frame that never closes, the costliest input per octet (a bare run of flags is skipped at C speed).
PATTERN = b"\x7e\xa0"


class Flood(threading.Thread):
    """A client that sends PATTERN to a port as fast as the meter takes it, until stopped."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sent = 0
        self.error: OSError | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        chunk = PATTERN * 32768
        try:
            while not self.stop.is_set():
                self.sock.sendall(chunk)
                self.sent += len(chunk)
        except OSError as exc:
            self.error = exc

    def end(self) -> None:
        self.stop.set()
        self.sock.shutdown(socket.SHUT_RDWR)
        self.join(5)
        self.sock.close()


def test_a_flood_on_one_port_does_not_starve_another_meter(tmp_path: Path) -> None:
    with RunningFleet(PROFILE, tmp_path, state_dir=None) as fleet:
        floods = [Flood(fleet.port("hdlc-tcp", 0)) for _ in range(FLOODS)]
        for flood in floods:
            flood.start()
        try:
            while min(flood.sent for flood in floods) < 1 << 20:  # the meter is busy with them
                assert not any(flood.error for flood in floods)
                time.sleep(0.01)
            with dlms_client(wrapper_transport(fleet.port("tcp", 1), 16), 16).session() as session:
                answers = [session.get(CLOCK) for _ in range(REQUESTS)]
                assert fleet.call(lambda: fleet.engine.connections) == FLOODS + 1  # still flooding
            assert all(a[:2] == b"\x09\x0c" for a in answers)
            assert not any(flood.error for flood in floods)
        finally:
            for flood in floods:
                flood.end()


# --------------------------------------------------------------------------- the budget

class Recorder(StreamConnection):
    """A stream (serial-like: not counted, no timeout) that records what it is given per turn."""

    def __init__(self) -> None:
        host = SimpleNamespace(now=lambda: 0.0, timers=SimpleNamespace(update=lambda link: None),
                               limits=SimpleNamespace(max_buffered_bytes=1 << 20), observer=None)
        endpoint = SimpleNamespace(describe=lambda: "test stream", transport="hdlc-serial")
        super().__init__(host, endpoint, 0.0,  # type: ignore[arg-type]
                         counted=False)
        self.turns: list[int] = []

    def opened(self, local_address: str | None) -> bool:
        return True

    def received(self, data: bytes, now: float) -> None:
        self.turns.append(len(data))


class PausingTransport:
    def __init__(self) -> None:
        self.log: list[str] = []

    def get_extra_info(self, name: str) -> Any:
        return None

    def set_write_buffer_limits(self, high: int, low: int) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        self.log.append("pause")

    def resume_reading(self) -> None:
        self.log.append("resume")


def test_a_long_read_is_handled_one_budget_per_turn() -> None:
    async def main() -> tuple[list[int], list[str], list[list[int]]]:
        stream, transport = Recorder(), PausingTransport()
        stream.connection_made(transport)
        stream.data_received(b"\x7e" * (3 * TURN_BUDGET_BYTES + 10))
        seen = [list(stream.turns)]
        for _ in range(4):
            await asyncio.sleep(0)  # one turn of the loop: other connections' callbacks run here
            seen.append(list(stream.turns))
        return stream.turns, transport.log, seen

    turns, log, seen = asyncio.run(main())
    assert turns == [TURN_BUDGET_BYTES] * 3 + [10]
    assert [len(s) for s in seen] == [1, 2, 3, 4, 4]  # one budget per turn, not the whole read at once
    assert log == ["pause", "resume"]
