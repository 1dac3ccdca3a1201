"""The load curve: closed-form integrals that are deterministic, monotonic and order-independent."""

from __future__ import annotations

import random

import pytest

from simulator.living.load import SLOT_S, Curve, LoadModel, MeterCurve, SolarModel
from simulator.living.metrology import Metrology, merge
from simulator.living.noise import meter_seed

DAY = 86400
T0 = 1_704_067_200.0  # 2024-01-01T00:00:00Z
SHAPE = tuple(0.3 + 0.7 * (h in range(7, 9) or h in range(17, 22)) for h in range(24))


def model(**kw: object) -> LoadModel:
    return LoadModel(**{"annual": 3_500_000.0, "weekday": SHAPE, "base": 0.1, "season_amplitude": 0.2,
                        "noise": 0.4, **kw})  # type: ignore[arg-type]


def test_a_meter_reads_the_same_at_the_same_instant_whatever_was_read_before() -> None:
    m = model()
    first = MeterCurve(Curve(m, 3600), 42)
    second = MeterCurve(Curve(m, 3600), 42)
    instants = [T0 + random.Random(1).uniform(0, 400 * DAY) for _ in range(200)]
    forward = [first.imports(t) - first.imports(T0) for t in instants]
    backward = [second.imports(t) - second.imports(T0) for t in reversed(instants)][::-1]
    assert forward == pytest.approx(backward, rel=1e-12, abs=1e-6)


def test_energy_never_decreases_and_a_quarter_hour_keeps_within_the_noise() -> None:
    c = MeterCurve(Curve(model(), 0), 7)
    previous = c.imports(T0)
    for k in range(1, 4 * 96):
        now = c.imports(T0 + k * SLOT_S)
        day, slot = divmod(k - 1, 96)
        smooth = c.curve.slot_energy(int((T0 + (k - 1) * SLOT_S) // DAY), slot)[0] * c.scale
        assert (1 - 0.4) * smooth - 1e-9 <= now - previous
        previous = now


def test_a_year_consumes_the_meters_own_share_of_the_annual_figure() -> None:
    m = model()
    for serial in ("00000001", "00000002", "00000003"):
        c = MeterCurve(Curve(m, 3600), meter_seed(0, serial))
        year = Metrology(c, T0).flow(T0, T0 + 365 * DAY, [])[0]
        assert 0.7 * 3_500_000 <= year <= 1.3 * 3_500_000
        assert year == pytest.approx(3_500_000 * c.scale, rel=0.02)


def test_meters_differ_by_serial() -> None:
    m = model()
    a = MeterCurve(Curve(m, 0), meter_seed(0, "00000001"))
    b = MeterCurve(Curve(m, 0), meter_seed(0, "00000002"))
    assert a.imports(T0 + 10 * DAY) - a.imports(T0) != b.imports(T0 + 10 * DAY) - b.imports(T0)


def test_solar_exports_by_day_only_and_lowers_the_import() -> None:
    plain = MeterCurve(Curve(model(noise=0.0), 3600), 5)
    solar = MeterCurve(Curve(model(noise=0.0, solar=SolarModel(1.0)), 3600), 5)
    june = T0 + 170 * DAY
    assert solar.powers(june + 2 * 3600)[1] == 0  # 03:00 local
    assert solar.powers(june + 12 * 3600)[1] > 0  # 13:00 local
    assert solar.imports(june + DAY) - solar.imports(june) < plain.imports(june + DAY) - plain.imports(june)


def test_no_energy_flows_in_an_interval_without_flow() -> None:
    m = Metrology(MeterCurve(Curve(model(), 0), 9), T0)
    gap = [(T0 + DAY, T0 + 2 * DAY)]
    whole = m.flow(T0, T0 + 3 * DAY, [])[0]
    first, last = m.flow(T0, T0 + DAY, [])[0], m.flow(T0 + 2 * DAY, T0 + 3 * DAY, [])[0]
    assert m.flow(T0, T0 + 3 * DAY, gap)[0] == pytest.approx(first + last)
    assert m.flow(T0 + DAY + 60, T0 + DAY + 3600, gap) == (0.0, 0.0)
    assert whole > first + last
    assert m.at(T0 + DAY + 10, gap, []).p_import == 0
    assert [m.at(T0 + DAY + 10, gap, gap).voltage(p) for p in range(3)] == [0.0, 0.0, 0.0]
    assert m.at(T0 + DAY + 10, gap, []).voltage(0) > 200


def test_merge_joins_overlapping_intervals() -> None:
    assert merge([(5.0, 9.0), (1.0, 3.0), (2.0, 4.0), (9.0, 10.0), (7.0, 7.0)]) == [(1.0, 4.0), (5.0, 10.0)]
