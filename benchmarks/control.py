"""Benchmark `control` (issue 12): what the control plane costs the meters' GET throughput.

The same fleet (`idis_fleet`, 1,000 IDIS meters) runs twice as `cosem-sim run` does, pinned to
CPU 0: first without a control plane (the reference), then with one (the profile's `control:`)
while a scraper in this process reads `GET /metrics` every second, as Prometheus would. The
load generator (CPU 1) drives GET of the clock by 100 LLS associations over the TCP wrapper in
both. Rows: each run's GET/s beside the run's ceiling (the canned-answer server, measured first
when the run has none), and the ratio with its target: within 10 % of the reference. The last
scrape must count at least the GETs the load generator saw answered (an error otherwise).
"""

from __future__ import annotations

import threading
import time
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from .fleets import FIRST_ADDRESS, idis_fleet
from .run import (
    _FLEET, BenchmarkError, Context, Row, _ceiling, _n, _server_log_rows, _server_text, _us_per_get, _verdict,
    free_port,
)

__all__ = ["bench_control"]

_ASSOCIATIONS = 100
_SCRAPE_EVERY_S = 1.0
_SHARE = 0.9  # the issue: within 10 % of the GET/s without the control plane
_ROUNDS = 2  # full runs alternate off/on twice and keep each side's best (--quick: once)


class Scraper:
    """Reads /metrics every `every_s` in a thread, as Prometheus does, until stopped."""

    def __init__(self, url: str, every_s: float = _SCRAPE_EVERY_S) -> None:
        self.url = url
        self.every_s = every_s
        self.scrapes = 0
        self.errors: list[str] = []
        self.seconds: list[float] = []  # each scrape's duration
        self.last = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Scraper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def scrape(self) -> str:
        began = time.perf_counter()
        with urllib.request.urlopen(self.url, timeout=5) as response:
            text = response.read().decode("utf-8")
        self.seconds.append(time.perf_counter() - began)
        self.scrapes += 1
        self.last = text
        return text

    def _run(self) -> None:
        while True:
            try:
                self.scrape()
            except OSError as exc:
                self.errors.append(str(exc))
            if self._stop.wait(self.every_s):
                return


def _gets_counted(text: str) -> float:
    """GET requests the meters answered with success, as /metrics counts them."""
    return sum(s.value for family in text_string_to_metric_families(text) if family.name == "cosem_apdus"
               for s in family.samples if s.labels.get("service") == "get" and s.labels.get("result") == "success")


def _run(ctx: Context, control: bool) -> dict[str, Any]:
    s = ctx.settings
    port = free_port("0.0.0.0")
    text = idis_fleet(_FLEET, port)
    control_port = free_port() if control else None
    if control_port is not None:
        text += f"control: {{host: 127.0.0.1, port: {control_port}}}\n"
    name = "control-on" if control else "control-off"
    with ctx.simulator(text, name) as sim:
        job = {"kind": "get", "profile": str(sim.profile), "transport": "tcp", "host": FIRST_ADDRESS, "port": port,
               "target": "clock", "mechanism": "lls", "associations": _ASSOCIATIONS, "meters": _FLEET,
               "warmup_s": s.warmup_s, "duration_s": s.get_s, "server_pid": sim.pid}
        if control_port is None:
            r = ctx.loadgen(job)
        else:
            with Scraper(f"http://127.0.0.1:{control_port}/metrics") as scraper:
                r = ctx.loadgen(job)
            try:
                counted = _gets_counted(scraper.scrape())
            except OSError as exc:
                raise BenchmarkError(f"/metrics did not answer after the run: {exc}") from None
            r = dict(r, scrapes=scraper.scrapes, scrape_errors=scraper.errors[:5],
                     scrape_ms=round(1000 * max(scraper.seconds), 2) if scraper.seconds else None,
                     scrape_bytes=len(scraper.last.encode()), gets_counted=counted)
            if counted < r["count"]:  # the warm-up's GETs count too: never fewer than the run's
                r["errors"] += 1
                r["error_reasons"] = dict(r.get("error_reasons", {}),
                                          metrics=f"/metrics counts {counted:.0f} GETs, the run {r['count']}")
            r["errors"] += len(scraper.errors)
        r["log_rows"] = _server_log_rows("control", sim)
    return r


def bench_control(ctx: Context) -> list[Row]:
    """GET/s of the clock with the control plane off, then on with /metrics scraped every second."""
    ceiling, rows = _ceiling(ctx)
    best: dict[bool, dict[str, Any]] = {}
    log_rows: list[Row] = []
    for _ in range(1 if ctx.settings.quick else _ROUNDS):
        for control in (False, True):
            r = _run(ctx, control)
            log_rows += r.pop("log_rows")
            if control not in best or r["rate"] > best[control]["rate"]:
                best[control] = r
    setup = f"{_ASSOCIATIONS} assoc. / {_FLEET:,} meters"
    share_of = (lambda rate: f" = {rate / ceiling['rate']:.0%} of the ceiling's {_n(ceiling['rate'])}"
                if ceiling.get("rate") else "")
    off, on = best[False], best[True]
    rows.append(Row("control", "GET clock, TCP wrapper, LLS, no control plane (reference)", setup,
                    f"{_n(off['rate'])} GET/s{share_of(off['rate'])}", off["p50_ms"], off["p99_ms"], off["errors"],
                    _server_text(off, "GET"), figures=dict(off, ceiling_rate=ceiling.get("rate"))))
    scrapes = f"{on['scrapes']} scrapes of /metrics, the slowest {on['scrape_ms']} ms, {on['scrape_bytes']:,} B"
    rows.append(Row("control", "GET clock, TCP wrapper, LLS, control plane on, /metrics every 1 s",
                    f"{setup}; {scrapes}", f"{_n(on['rate'])} GET/s{share_of(on['rate'])}", on["p50_ms"],
                    on["p99_ms"], on["errors"], _server_text(on, "GET"),
                    figures=dict(on, ceiling_rate=ceiling.get("rate"))))
    share = on["rate"] / off["rate"] if off["rate"] else 0.0
    costs = _us_per_get(off), _us_per_get(on)  # steadier than GET/s on a busy machine
    cost = f"; simulator CPU per GET {costs[0]:.0f} -> {costs[1]:.0f} µs" if costs[0] and costs[1] else ""
    rows.append(Row("control", "ratio: control plane on / off", "GET/s", f"{share:.2f}x{cost}",
                    target=f">= {_SHARE:.0%} of {_n(off['rate'])} GET/s without it",
                    verdict=_verdict(on["rate"], _SHARE * off["rate"]),
                    figures={"ratio": round(share, 3), "us_per_get": costs,
                             "rounds": 1 if ctx.settings.quick else _ROUNDS}))
    return rows + log_rows
