"""How fast the protocol core is: `python -m benchmarks.core [--quick] [--output PATH]`.

Measures, with `time.perf_counter` and bounded runs (about 10 s in all):

- decode + encode of a GET request and of its response for a clock's time (attribute 2,
  octet-string(12));
- a glo-ciphered GET round trip, suite 0 with authentication and encryption: the client encodes
  and encrypts the request, the server decrypts and decodes it, then the same for the response;
- decode + encode of a GetResponseNormal carrying a 1,000-row profile-generic buffer (structure of
  date-time octet-string, status unsigned, two double-long-unsigned);
- HDLC frames per second through `HDLCConnection`: a client pump sends an I-frame with the GET,
  the server link delivers it and sends the response, the client decodes the answer frame.

Each figure is the best and the median of several batches (the best is the machine's speed
without interference, the median how steady it was). Prints a table and writes JSON to
benchmarks/results/core.json. `--quick` runs a few iterations only, to prove the code works.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

from simulator.apdu.common import CosemAttributeDescriptor, InvokeIdAndPriority
from simulator.apdu.get import GetRequestNormal, GetResponseNormal
from simulator.apdu.xdlms import decode_xdlms
from simulator.axdr import CosemDateTime, Data, DataType, Obis
from simulator.link.hdlc import (
    LLC_REQUEST, APDUReceived, FrameKind, HDLCAddress, HDLCConnection, HDLCFrame,
)
from simulator.security import CipherKeys, SecurityControl, decrypt_apdu, encrypt_apdu

__all__ = ["Measurement", "run", "main"]

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "core.json"
_BATCHES = 5
_BUDGET_S = 1.5  # per benchmark, calibration included
_QUICK_ITERATIONS = 3


@dataclass(frozen=True, slots=True)
class Measurement:
    """One benchmark's figures: `best` and `median` in `unit` (µs/op, or frames/s)."""

    name: str
    unit: str
    best: float
    median: float
    iterations: int
    note: str = ""


def _batches(op: Callable[[], None], quick: bool) -> tuple[list[float], int]:
    """Seconds per operation of each batch, and the operations run in all.

    The batch size doubles until one batch takes a tenth of the budget, so a fast operation is
    timed over many calls and a slow one still finishes in time.
    """
    if quick:
        timings = []
        for _ in range(_QUICK_ITERATIONS):
            start = time.perf_counter()
            op()
            timings.append(time.perf_counter() - start)
        return timings, _QUICK_ITERATIONS
    size, total = 1, 0
    while True:
        start = time.perf_counter()
        for _ in range(size):
            op()
        elapsed = time.perf_counter() - start
        total += size
        if elapsed >= _BUDGET_S / 10 or size >= 1 << 24:
            break
        size *= 2
    timings = []
    for _ in range(_BATCHES):
        start = time.perf_counter()
        for _ in range(size):
            op()
        timings.append((time.perf_counter() - start) / size)
        total += size
    return timings, total


def _per_op(name: str, op: Callable[[], None], quick: bool, note: str = "") -> Measurement:
    timings, total = _batches(op, quick)
    return Measurement(name, "µs/op", min(timings) * 1e6, statistics.median(timings) * 1e6, total, note)


# --------------------------------------------------------------------------- the workloads

_INVOKE = InvokeIdAndPriority(1, True, True)
_CLOCK_TIME = CosemDateTime(2024, 3, 31, 7, 2, 0, 0, 0, -60, 0x80)


def _clock_get() -> tuple[bytes, bytes]:
    request = GetRequestNormal(_INVOKE, CosemAttributeDescriptor(8, Obis("0.0.1.0.0.255"), 2))
    response = GetResponseNormal(_INVOKE, Data(DataType.OCTET_STRING, _CLOCK_TIME.to_bytes()))
    return request.to_bytes(), response.to_bytes()


def _round_trip(data: bytes) -> Callable[[], None]:
    def op() -> None:
        decode_xdlms(data).to_bytes()
    return op


def _profile_buffer(rows: int) -> bytes:
    """A GetResponseNormal with `rows` entries of a 15-minute load profile."""
    entries = []
    for i in range(rows):
        stamp = CosemDateTime(2024, 1, 1 + i // 96, None, (i % 96) // 4, (i % 4) * 15, 0, 0, -60, 0)
        entries.append(Data(DataType.STRUCTURE, (
            Data(DataType.OCTET_STRING, stamp.to_bytes()),
            Data(DataType.UNSIGNED, 0),
            Data(DataType.DOUBLE_LONG_UNSIGNED, 1_000_000 + 250 * i),
            Data(DataType.DOUBLE_LONG_UNSIGNED, 20_000 + 3 * i),
        )))
    return GetResponseNormal(_INVOKE, Data(DataType.ARRAY, tuple(entries))).to_bytes()


def _ciphered_round_trip(request: bytes, response: bytes) -> Callable[[], None]:
    """Client and server each encode, protect, unprotect and decode, with rising counters."""
    ek, ak = bytes(range(16)), bytes(range(0xD0, 0xE0))
    client_title, server_title = bytes.fromhex("4D4D4D0000000001"), bytes.fromhex("4D4D4D0000BC614E")
    sc = SecurityControl(suite=0, authenticated=True, encrypted=True)
    keys = CipherKeys(ek, ak)
    get_request, get_response = decode_xdlms(request), decode_xdlms(response)
    counter = [0]

    def op() -> None:
        counter[0] += 1
        wire = encrypt_apdu(get_request.to_bytes(), "glo", sc, client_title, counter[0], ek, ak)
        decode_xdlms(decrypt_apdu(wire, lambda _: keys, system_title=client_title).apdu)
        wire = encrypt_apdu(get_response.to_bytes(), "glo", sc, server_title, counter[0], ek, ak)
        decode_xdlms(decrypt_apdu(wire, lambda _: keys, system_title=server_title).apdu)
    return op


class _HDLCPump:
    """A client talking to one `HDLCConnection`: SNRM first, then GET after GET."""

    def __init__(self, request: bytes, response: bytes) -> None:
        self.client, server = HDLCAddress.client(16), HDLCAddress(1, 17)
        self.server = server
        self.link = HDLCConnection(server)
        self.now = 0.0
        self.link.receive_data(HDLCFrame(server, self.client, FrameKind.SNRM).to_bytes(), self.now)
        if HDLCFrame.from_bytes(self.link.data_to_send()).kind is not FrameKind.UA:
            raise RuntimeError("the HDLC link did not accept SNRM")
        self.link.next_event()
        self.lsdu = LLC_REQUEST + request
        self.response = response
        self.vs = self.vr = 0

    def exchange(self) -> None:
        """One GET: two I-frames on the wire, both encoded and decoded."""
        self.now += 0.001
        frame = HDLCFrame(self.server, self.client, FrameKind.I, True, self.vs, self.vr, False, self.lsdu)
        self.link.receive_data(frame.to_bytes(), self.now)
        event = self.link.next_event()
        if not isinstance(event, APDUReceived):
            raise RuntimeError(f"the HDLC link delivered {event!r}, not the GET")
        self.link.send_apdu(self.response)
        answer = HDLCFrame.from_bytes(self.link.data_to_send())
        self.vs = (self.vs + 1) & 7
        self.vr = (answer.ns + 1) & 7


def _hdlc_rate(request: bytes, response: bytes, quick: bool) -> Measurement:
    pump = _HDLCPump(request, response)
    timings, total = _batches(pump.exchange, quick)
    rates = [2 / t for t in timings]  # two frames per exchange
    return Measurement("HDLC I-frames through HDLCConnection", "frames/s", max(rates), statistics.median(rates),
                       2 * total, "client encodes and decodes its frames too")


def run(quick: bool = False) -> list[Measurement]:
    """All the benchmarks, in the order of the table."""
    request, response = _clock_get()
    buffer = _profile_buffer(1000)
    return [
        _per_op("GET-request clock time: decode+encode", _round_trip(request), quick, f"{len(request)} bytes"),
        _per_op("GET-response clock time: decode+encode", _round_trip(response), quick, f"{len(response)} bytes"),
        _per_op("glo-ciphered GET round trip (suite 0, A+E)", _ciphered_round_trip(request, response), quick,
                "encode, encrypt, decrypt, decode: request and response"),
        _per_op("GET-response 1,000-row profile buffer: decode+encode", _round_trip(buffer), quick,
                f"{len(buffer)} bytes"),
        _hdlc_rate(request, response, quick),
        _per_op("parse the idis_poly object model (YAML to shared spec)", _parse_idis_model(), quick,
                "done once per meter type, not per meter"),
    ]


def _parse_idis_model() -> Callable[[], None]:
    from simulator.model.catalogue import SHIPPED_DIR
    from simulator.model.loader import parse_model

    text = (SHIPPED_DIR / "idis_poly.yaml").read_text(encoding="utf-8")

    def op() -> None:
        parse_model(text, "idis_poly.yaml")  # parse_model, not load_model: no cache in the way
    return op


def format_table(results: Sequence[Measurement]) -> str:
    width = max(len(r.name) for r in results)
    lines = [f"{'benchmark':<{width}}  {'best':>12}  {'median':>12}  unit", "-" * (width + 38)]
    for r in results:
        lines.append(f"{r.name:<{width}}  {r.best:>12,.1f}  {r.median:>12,.1f}  {r.unit}"
                     + (f"   ({r.note})" if r.note else ""))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.core", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few iterations only (proves it runs)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"JSON file (default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run(args.quick)
    report = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "system": platform.system(),
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 2),
        "results": [asdict(r) for r in results],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.write(format_table(results) + f"\n\nwritten to {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
