"""The `control` benchmark's Prometheus side (benchmarks/run.py `bench_control` runs it): a scraper
reading `GET /metrics` every second as Prometheus would, and the GETs the meters counted.

The benchmark: the same fleet (`idis_fleet`, 1,000 IDIS meters) runs twice as `cosem-sim run` does, pinned to
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

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["Scraper", "gets_counted"]

_SCRAPE_EVERY_S = 1.0


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


def gets_counted(text: str) -> float:
    """GET requests the meters answered with success, as /metrics counts them."""
    return sum(s.value for family in text_string_to_metric_families(text) if family.name == "cosem_apdus"
               for s in family.samples if s.labels.get("service") == "get" and s.labels.get("result") == "success")
