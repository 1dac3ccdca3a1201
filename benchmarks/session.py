"""Server CPU of one GET, in-process: `python -m benchmarks.session [--profile clock] [--quick]`.

One IDIS-style meter of a benchmark fleet (benchmarks/fleets.py), built as the fleet builds it,
one LLS association (client 2) on one channel, then GET-Request-Normal after GET-Request-Normal
through `Channel.handle_apdu`: the whole server side of a GET (routing, access checks, the
getter, encoding) without sockets, framing or the event loop. The meter's time moves 1.7 ms
between requests, so the clock crosses seconds as a busy meter's does. Prints the process's CPU
µs per GET of the clock, a static register and the energy register, and their ratios (`--static`:
of idis_poly without its living: section);
`--profile TARGET` runs cProfile over the loop of one target instead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from simulator.apdu.acse import AARQ, ApplicationContextName, MechanismName
from simulator.apdu.initiate import InitiateRequest
from simulator.runtime.profile import load_profile, meter_fields
from simulator.server.meter import Channel, MeterServer
from simulator.server.objects import Meter, TimeBase

from .client import PROPOSED_CONFORMANCE, get_request
from .fleets import idis_fleet, write_static_model

__all__ = ["TARGETS", "SessionBench", "per_get_us", "main"]

# What a GET reads: class id, OBIS, attribute.
TARGETS: dict[str, tuple[int, str, int]] = {
    "clock": (8, "0.0.1.0.0.255", 2),
    "register": (3, "1.0.12.31.0.255", 2),  # threshold for voltage sag: a static Register, pre-encoded
    "energy": (3, "1.0.1.8.0.255", 2),
}
_STEP_S = 0.0017  # monotonic seconds between two GETs


class SessionBench:
    """One associated LLS client of one fleet meter, in-process."""

    def __init__(self, static: bool = False) -> None:
        with tempfile.TemporaryDirectory(prefix="cosem-session-") as tmp:
            model = str(write_static_model(Path(tmp) / "idis_static.yaml")) if static else "idis_poly"
            path = Path(tmp) / "fleet.yaml"
            path.write_text(idis_fleet(1, 4059, history="40d", model=model), encoding="utf-8")
            profile = load_profile(path)
        group = profile.groups[0]
        start = profile.time.start if profile.time.start is not None else 1.7e9
        self.meter = Meter(group.model, 0, meter_fields(group, 0), TimeBase(start),
                           utc_offset_min=profile.time.utc_offset_min, seed=profile.seed)
        self.channel: Channel = MeterServer(self.meter).open_channel()
        self.now = 0.0
        initiate = InitiateRequest(proposed_conformance=PROPOSED_CONFORMANCE, client_max_receive_pdu_size=0xFFFF).to_bytes()
        aarq = AARQ(application_context_name=ApplicationContextName.LOGICAL_NAME, sender_acse_requirements=True,
                    mechanism_name=MechanismName.LOW, calling_authentication_value=b"12345678",
                    user_information=initiate).to_bytes()
        aare = self.channel.handle_apdu(1, 2, aarq, self.now)
        if aare is None or not self.channel.associated:
            raise RuntimeError("the LLS association was refused")

    def get(self, target: str) -> bytes:
        """One GET of `target`; its answer (checked to be a successful GetResponseNormal)."""
        answer = self.channel.handle_apdu(1, 2, get_request(1, *TARGETS[target]), self.now)
        if answer is None or answer[:4] != b"\xc4\x01\xc1\x00":
            raise RuntimeError(f"GET {target} failed: {answer!r}")
        return answer

    def loop(self, target: str, count: int) -> None:
        request = get_request(1, *TARGETS[target])
        handle = self.channel.handle_apdu
        for _ in range(count):
            self.now += _STEP_S
            handle(1, 2, request, self.now)


def per_get_us(bench: SessionBench, targets: Sequence[str], count: int, rounds: int = 5) -> dict[str, float]:
    """µs of this process's CPU per GET of each target: the best of `rounds` batches of `count`,
    the targets taking turns (so a busy moment of the machine hits them alike)."""
    best = {target: float("inf") for target in targets}
    for target in targets:
        bench.get(target)
    for _ in range(rounds):
        for target in targets:
            started = time.process_time()
            bench.loop(target, count)
            best[target] = min(best[target], (time.process_time() - started) / count)
    return {target: seconds * 1e6 for target, seconds in best.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.session", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few GETs (proves it runs)")
    parser.add_argument("--profile", choices=sorted(TARGETS), help="cProfile the GET loop of one target")
    parser.add_argument("--static", action="store_true", help="idis_poly without its living: section")
    args = parser.parse_args(argv)
    bench = SessionBench(args.static)
    count = 200 if args.quick else 5_000
    if args.profile:
        bench.get(args.profile)
        profiler = cProfile.Profile()
        profiler.runcall(bench.loop, args.profile, count)
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
        return 0
    figures = per_get_us(bench, list(TARGETS), count)
    for target, us in figures.items():
        sys.stdout.write(f"GET {target:<9} {us:7.1f} µs  ({us / figures['register']:.2f}x the static register)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
