"""The seeded event generator: power failures, voltage sags and swells, tamper, per meter.

A real meter's event logs fill because its supply fails now and then and someone opens its cover
once in its life; ours fill from the meter's seed. Time is cut into fixed buckets (a week,
`BUCKET_S`, counted from the Unix epoch): the number of events of each kind in a bucket is
Poisson-distributed with the kind's yearly rate, their starts are uniform in the bucket, their
durations log-normal (mostly short, a long tail), all drawn from `noise.unit(seed, stream, k)`.
A query for one day generates one bucket or two, never the meter's whole life, and gives the
same events whatever was asked before. Events before the meter's installation do not exist.
Events injected into a meter (`LivingMeter.injected`, the control plane's) join its generated
ones in `events_between`, `outages` and its cached `History` (a meter's: meter.py's `history_of`, `outages_of`).

Instants are fleet epochs (UTC seconds, before a meter's own clock offset), whole seconds.
A duration never exceeds `MAX_DURATION_S` (3 days), shorter than a bucket, so the events that
overlap an instant started in its bucket or the one before. Two power failures never overlap:
one that would still run when the next begins ends there (the next start is drawn from the
same buckets, so the rule needs no history).

Default rates (`DEFAULT_EVENTS`, used when a model's `living:` section gives no `events:`):
power failures 1.5 a year lasting 8 minutes on average (European SAIFI is of the order of 1-2
interruptions per customer and year, German SAIDI 10-15 minutes a year), voltage sags 12 a
year and swells 4 a year on one phase each (sags are far more frequent than interruptions;
EN 50160 sags last 10 ms to 1 min), the meter cover and the terminal cover opened 0.1 times a
year for about 20 minutes, a strong magnetic field 0.05 times a year for about 2 hours.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from .noise import unit

__all__ = [
    "KINDS", "PHASED", "BUCKET_S", "MAX_DURATION_S", "EventRate", "EventModel", "Event", "DEFAULT_EVENTS", "NO_EVENTS",
    "events_between", "outages", "History", "history",
]

KINDS = ("power_failure", "voltage_sag", "voltage_swell", "cover_open", "terminal_cover_open", "magnetic_field")
# Kinds that happen on one phase (the others affect the whole meter).
PHASED = frozenset(("voltage_sag", "voltage_swell"))
BUCKET_S = 7 * 86400
MAX_DURATION_S = 3 * 86400
_YEAR_S = 365.25 * 86400
_MAX_PER_BUCKET = 4095  # k = bucket << 12 | i keeps every draw apart
# Each kind draws from its own streams: count and starts (s, s + 1), durations (s + 2), phases (s + 3).
_STREAMS = {kind: 16 * (i + 1) for i, kind in enumerate(KINDS)}
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class EventRate:
    """One kind of event: how often (a year) and how long (mean seconds; `spread` is the standard
    deviation of the duration's logarithm: 0 makes every event last the mean)."""

    per_year: float
    mean_s: float
    spread: float = 1.0

    def duration(self, u: float) -> float:
        """The duration for uniform `u`: log-normal with this mean, whole seconds, at least 1."""
        if self.spread <= 0:
            d = self.mean_s
        else:
            mu = math.log(self.mean_s) - self.spread * self.spread / 2
            d = math.exp(mu + self.spread * _NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12)))
        return float(min(max(round(d), 1), MAX_DURATION_S))


@dataclass(frozen=True, slots=True)
class EventModel:
    """A meter type's event rates, one `EventRate` per kind of `KINDS`; `phases` is how many
    phases sags and swells fall on (1 for a single-phase meter)."""

    power_failure: EventRate = EventRate(1.5, 8 * 60, 1.5)
    voltage_sag: EventRate = EventRate(12.0, 1.0, 1.0)
    voltage_swell: EventRate = EventRate(4.0, 1.0, 1.0)
    cover_open: EventRate = EventRate(0.1, 20 * 60, 0.7)
    terminal_cover_open: EventRate = EventRate(0.1, 20 * 60, 0.7)
    magnetic_field: EventRate = EventRate(0.05, 2 * 3600, 1.0)
    phases: int = 3

    def rate(self, kind: str) -> EventRate:
        rate: EventRate = getattr(self, kind)
        return rate


DEFAULT_EVENTS = EventModel()
_OFF = EventRate(0.0, 1.0)
NO_EVENTS = EventModel(_OFF, _OFF, _OFF, _OFF, _OFF, _OFF)


@dataclass(frozen=True, slots=True)
class Event:
    """One generated event: [start, end) in fleet epochs, its kind, and its phase (1..3) for
    sags and swells (None: the whole meter)."""

    start: float
    end: float
    kind: str
    phase: int | None = None


def _poisson(mean: float, u: float) -> int:
    """The Poisson count whose cumulative distribution first exceeds `u` (inverse transform)."""
    if mean <= 0:
        return 0
    p = math.exp(-mean)
    cumulative, n = p, 0
    while u >= cumulative and n < _MAX_PER_BUCKET:
        n += 1
        p *= mean / n
        cumulative += p
        if p == 0.0:  # the tail underflowed: u lies in rounding error above the total
            break
    return n


def _starts(rate: EventRate, seed: int, stream: int, bucket: int) -> list[float]:
    n = _poisson(rate.per_year * BUCKET_S / _YEAR_S, unit(seed, stream, bucket))
    base = bucket * BUCKET_S
    return [float(base + math.floor(unit(seed, stream + 1, bucket << 12 | i) * BUCKET_S)) for i in range(n)]


def _bucket(model: EventModel, seed: int, bucket: int) -> list[Event]:
    """Every event starting in `bucket`, sorted; power failures end by the next one's start."""
    out = []
    for kind in KINDS:
        rate = model.rate(kind)
        if rate.per_year <= 0:
            continue
        stream = _STREAMS[kind]
        starts = _starts(rate, seed, stream, bucket)
        for j, start in enumerate(starts):
            k = bucket << 12 | j
            end = start + rate.duration(unit(seed, stream + 2, k))
            phase = None
            if kind in PHASED:
                phase = 1 + min(int(unit(seed, stream + 3, k) * model.phases), model.phases - 1)
            out.append(Event(start, end, kind, phase))
    failures = sorted((e for e in out if e.kind == "power_failure"), key=_order)
    if failures:
        following = _starts(model.power_failure, seed, _STREAMS["power_failure"], bucket + 1)
        nexts = [e.start for e in failures[1:]] + [min(following, default=math.inf)]
        clipped = {e: Event(e.start, min(e.end, n), e.kind) for e, n in zip(failures, nexts)}
        out = [clipped.get(e, e) for e in out]
    out.sort(key=_order)
    return out


def _order(e: Event) -> tuple[float, int, int]:
    return (e.start, KINDS.index(e.kind), e.phase or 0)


def events_between(model: EventModel, seed: int, installed: float, t0: float, t1: float,
                   injected: tuple[Event, ...] = ()) -> list[Event]:
    """The events starting in [t0, t1) (fleet epochs), none before `installed`, oldest first;
    `injected` (the meter's `LivingMeter.injected`) joins the generated ones."""
    t0 = max(t0, installed)
    if t1 <= t0:
        return []
    out: list[Event] = []
    for b in range(math.floor(t0 / BUCKET_S), math.floor((t1 - 1e-9) / BUCKET_S) + 1):
        out.extend(e for e in _bucket(model, seed, b) if t0 <= e.start < t1)
    if injected:
        out.extend(e for e in injected if t0 <= e.start < t1)
        out.sort(key=_order)
    return out


def outages(model: EventModel, seed: int, installed: float, t0: float, t1: float,
            cache: dict[str, Any] | None = None, injected: tuple[Event, ...] = ()) -> list[tuple[float, float]]:
    """The power failures overlapping [t0, t1) as (start, end) fleet epochs, oldest first.

    Give the meter's `living.cache` as `cache` on a hot path: the failures since installation
    are then kept there and a query is a binary search.
    """
    if t1 <= t0:
        return []
    if cache is not None:
        return history(cache, model, seed, installed, t1, injected).outages(t0, t1)
    events = events_between(model, seed, installed, t0 - MAX_DURATION_S, t1, injected)
    return [(e.start, e.end) for e in events if e.kind == "power_failure" and e.end > t0]


@dataclass(slots=True)
class History:
    """One meter's generated events since installation, complete up to `until` (fleet epoch),
    kept in its `living.cache` for what reads "since installation": counters, the latest event,
    alarms, metrology's outages. Extended a bucket at a time as the fleet's time passes.

    The events injected into the meter (the control plane's) are merged in; a new injection
    replaces the tuple, and the history is rebuilt (an injection is rare; a read is not)."""

    installed: float
    until: float
    injected: tuple[Event, ...] = ()
    events: list[Event] = field(default_factory=list)  # sorted by start; appended to, never reordered
    starts: list[float] = field(default_factory=list)
    failures: list[tuple[float, float]] = field(default_factory=list)
    failure_starts: list[float] = field(default_factory=list)

    def started(self, t0: float, t1: float) -> list[Event]:
        """The events starting in [t0, t1), for t1 up to `until`."""
        return self.events[bisect_left(self.starts, t0):bisect_left(self.starts, t1)]

    def outages(self, t0: float, t1: float) -> list[tuple[float, float]]:
        lo = bisect_left(self.failure_starts, t0 - MAX_DURATION_S)
        hi = bisect_left(self.failure_starts, t1)
        return [f for f in self.failures[lo:hi] if f[1] > t0]

    def failures_until(self, t: float) -> list[tuple[float, float]]:
        """The power failures that started at or before `t`."""
        return self.failures[:bisect_right(self.failure_starts, t)]


def history(cache: dict[str, Any], model: EventModel, seed: int, installed: float, t: float,
            injected: tuple[Event, ...] = ()) -> History:
    """The meter's `History` with the events `injected` into it, extended to cover fleet epoch `t`."""
    h: History | None = cache.get("events")
    if h is None or h.installed != installed or h.injected is not injected:
        start = math.floor(installed / BUCKET_S) * BUCKET_S
        h = History(installed, float(start), injected)
        cache["events"] = h
    if t >= h.until:
        end = (math.floor(t / BUCKET_S) + 1) * BUCKET_S
        added = events_between(model, seed, installed, h.until, end, injected)
        h.events.extend(added)
        h.starts.extend(e.start for e in added)
        failures = [(e.start, e.end) for e in added if e.kind == "power_failure"]
        h.failures.extend(failures)
        h.failure_starts.extend(s for s, _ in failures)
        h.until = float(end)
    return h
