"""The seeded event generator: the same meter has the same events in every run and for every
way of asking, events come as often and last as long as the model says, and the power failures
metrology subtracts are the ones the event logs show."""

from __future__ import annotations

import math
from dataclasses import replace

from simulator.living.events import (
    BUCKET_S, DEFAULT_EVENTS, KINDS, MAX_DURATION_S, NO_EVENTS, EventRate, events_between, history, outages,
)
from simulator.living.noise import meter_seed

DAY = 86400.0
YEAR = 365.25 * DAY
T2024 = 1704067200.0  # 2024-01-01T00:00:00Z
SEED = meter_seed(7, "00000001")


def _only(kind: str, rate: EventRate, phases: int = 3):  # type: ignore[no-untyped-def]
    return replace(NO_EVENTS, **{kind: rate}, phases=phases)


def test_the_same_meter_at_the_same_instant_has_the_same_events() -> None:
    a = events_between(DEFAULT_EVENTS, SEED, T2024, T2024, T2024 + 2 * YEAR)
    b = events_between(DEFAULT_EVENTS, meter_seed(7, "00000001"), T2024, T2024, T2024 + 2 * YEAR)
    assert a and a == b


def test_another_serial_has_other_events() -> None:
    a = events_between(DEFAULT_EVENTS, SEED, T2024, T2024, T2024 + 2 * YEAR)
    b = events_between(DEFAULT_EVENTS, meter_seed(7, "00000002"), T2024, T2024, T2024 + 2 * YEAR)
    assert a and b and {e.start for e in a}.isdisjoint({e.start for e in b})


def test_one_day_reads_as_that_day_of_a_year_long_query() -> None:
    """Random access: any day, asked alone, holds exactly the events of that day in the year."""
    year = events_between(DEFAULT_EVENTS, SEED, T2024, T2024, T2024 + YEAR)
    busy = sorted({math.floor((e.start - T2024) / DAY) for e in year})[:20] + [3, 180, 364]
    for day in busy:
        t0 = T2024 + day * DAY
        alone = events_between(DEFAULT_EVENTS, SEED, T2024, t0, t0 + DAY)
        assert alone == [e for e in year if t0 <= e.start < t0 + DAY], day


def test_events_are_sorted_whole_seconds_and_never_before_installation() -> None:
    installed = T2024 + 100 * DAY + 1234.5
    events = events_between(DEFAULT_EVENTS, SEED, installed, T2024, T2024 + 3 * YEAR)
    assert events == sorted(events, key=lambda e: (e.start, KINDS.index(e.kind), e.phase or 0))
    assert all(e.start >= installed and e.start == int(e.start) and e.end == int(e.end) for e in events)
    assert all(1 <= e.end - e.start <= MAX_DURATION_S for e in events)
    assert {e.kind for e in events} >= {"power_failure", "voltage_sag", "voltage_swell"}


def test_power_failures_come_as_often_and_last_as_long_as_configured() -> None:
    """Over 3,000 simulated meter-years the yearly count of power failures is within four
    standard deviations of the rate (Poisson), and their mean duration near the model's."""
    model = _only("power_failure", EventRate(1.5, 480, 1.5))
    years, n, total = 0, 0, 0.0
    for serial in range(600):
        events = events_between(model, meter_seed(1, f"{serial:08d}"), T2024, T2024, T2024 + 5 * YEAR)
        years += 5
        n += len(events)
        total += sum(e.end - e.start for e in events)
    expected = 1.5 * years
    assert abs(n - expected) < 4 * math.sqrt(expected), (n, expected)
    assert 0.75 * 480 < total / n < 1.25 * 480
    assert total / years / 60 < 20  # SAIDI of the order of 10-15 minutes a year


def test_sags_fall_on_every_phase_and_only_on_the_meter_s_phases() -> None:
    three = events_between(_only("voltage_sag", EventRate(200, 1)), SEED, T2024, T2024, T2024 + YEAR)
    one = events_between(_only("voltage_sag", EventRate(200, 1), phases=1), SEED, T2024, T2024, T2024 + YEAR)
    counts = [sum(1 for e in three if e.phase == p) for p in (1, 2, 3)]
    assert all(abs(c - len(three) / 3) < 4 * math.sqrt(len(three) / 3) for c in counts), counts
    assert one and {e.phase for e in one} == {1}
    assert abs(len(three) - 200) < 4 * math.sqrt(200)


def test_rare_kinds_stay_rare_and_a_zero_rate_switches_a_kind_off() -> None:
    events = events_between(DEFAULT_EVENTS, SEED, T2024, T2024, T2024 + 50 * YEAR)
    tamper = [e for e in events if e.kind in ("cover_open", "terminal_cover_open", "magnetic_field")]
    assert 0 < len(tamper) < 40  # expected 12.5 in 50 years
    assert events_between(NO_EVENTS, SEED, T2024, T2024, T2024 + 50 * YEAR) == []


def test_power_failures_never_overlap_even_across_buckets() -> None:
    model = _only("power_failure", EventRate(400, 3 * 3600, 2.0))  # long and frequent: overlaps would happen
    events = events_between(model, SEED, T2024, T2024, T2024 + YEAR)
    assert len(events) > 300
    assert all(a.end <= b.start for a, b in zip(events, events[1:]))
    crossing = [e for e in events if math.floor(e.start / BUCKET_S) != math.floor((e.end - 1) / BUCKET_S)]
    assert crossing  # some run into the next bucket, and still end before the next one starts


def test_outages_are_the_power_failures_that_overlap_the_range() -> None:
    model = _only("power_failure", EventRate(100, 2 * 3600, 1.0))
    failures = [(e.start, e.end) for e in events_between(model, SEED, T2024, T2024, T2024 + YEAR)]
    ranges = ((T2024 + 10 * DAY, T2024 + 11 * DAY), (T2024, T2024 + YEAR), (T2024 + 200.5 * DAY, T2024 + 230 * DAY))
    for t0, t1 in ranges:
        expected = [f for f in failures if f[0] < t1 and f[1] > t0]
        assert outages(model, SEED, T2024, t0, t1) == expected
    start, end = failures[5]
    inside = outages(model, SEED, T2024, start + 1, start + 2)  # a range within one failure
    assert inside == [(start, end)]


def test_outages_through_the_meter_cache_equal_the_direct_ones() -> None:
    model = _only("power_failure", EventRate(60, 3600, 1.0))
    cache: dict[str, object] = {}
    now = T2024 + 3 * DAY
    while now < T2024 + 120 * DAY:  # a fleet whose time passes: the cached history grows
        for t0, t1 in ((now - DAY, now), (T2024, now), (now - 17 * DAY, now - 16 * DAY)):
            assert outages(model, SEED, T2024, t0, t1, cache) == outages(model, SEED, T2024, t0, t1)
        now += 2.5 * DAY
    h = history(cache, model, SEED, T2024, now)  # type: ignore[arg-type]
    assert h.failures == outages(model, SEED, T2024, T2024, h.until)


def test_the_highest_rate_the_model_allows_still_generates() -> None:
    """10,000 a year (what the YAML allows at most): about 190 a week, some starting in the same
    second; they still come sorted and never overlap."""
    model = _only("power_failure", EventRate(10_000, 60, 0.0))
    events = events_between(model, SEED, T2024, T2024, T2024 + 8 * 7 * DAY)
    assert abs(len(events) - 10_000 * 8 * 7 / 365.25) < 4 * math.sqrt(10_000 * 8 * 7 / 365.25)
    assert all(a.end <= b.start for a, b in zip(events, events[1:]))
