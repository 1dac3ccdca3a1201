"""Living registers read from a meter built as the fleet builds it: which quantity an OBIS code
measures, gas and water volumes, demand and maximum demand, a disconnection, a static model."""

from __future__ import annotations

import dataclasses
import re

import pytest

from simulator.axdr import ClockStatus, Data, DataType, Obis
from simulator.cosem.metrology import quantity_of
from simulator.living.events import EventModel, EventRate, history
from simulator.model.catalogue import SHIPPED_DIR
from simulator.model.loader import load_model, parse_model
from simulator.server.objects import Meter, ObjectHandle, TimeBase
from simulator.state.effects import SupplyChanges

INSTALLED = 1_704_067_200.0  # 2024-01-01T00:00:00Z
START = INSTALLED + 40 * 86400 + 19 * 3600  # 40 days later, 19:00 UTC: the evening peak


def meter(model_name: str, serial: str = "00000001") -> Meter:
    model = load_model(SHIPPED_DIR / f"{model_name}.yaml")
    fields = {"serial": serial, "index": 1, "system_title": "53494D0000000001"}
    return Meter(model, 1, fields, TimeBase(START, 0.0, 1.0, INSTALLED), utc_offset_min=60)


def handle(m: Meter, obis: str, now: float = 0.0) -> ObjectHandle:
    device = m.model.logical_devices[1]
    spec = device.find(bytes(Obis(obis)))
    assert spec is not None, obis
    found = m.object(device, spec.index, now)
    assert found is not None
    return found


def read(m: Meter, obis: str, attribute: int = 2, now: float = 0.0) -> object:
    return handle(m, obis, now).get(attribute).value


@pytest.mark.parametrize(("obis", "kind", "tariff", "phase"), [
    ("1.0.1.8.0.255", "import", 0, None), ("1.0.1.8.2.255", "import", 2, None), ("1.0.2.8.0.255", "export", 0, None),
    ("1.0.5.8.0.255", "QI", 0, None), ("1.0.21.8.0.255", "import", 0, 0), ("1.0.52.7.0.255", "voltage", 0, 1),
    ("1.0.71.7.0.255", "current", 0, 2), ("1.0.1.6.0.255", "max_demand", 0, None),
    ("7.0.13.0.0.255", "converted", 0, None), ("8.0.1.0.1.255", "backflow", 0, None),
])
def test_the_obis_code_names_the_quantity(obis: str, kind: str, tariff: int, phase: int | None) -> None:
    q = quantity_of(bytes(Obis(obis)))
    assert q is not None and (q.kind, q.tariff, q.phase) == (kind, tariff, phase)


@pytest.mark.parametrize("obis", ["1.0.12.31.0.255", "0.0.96.1.0.255", "1.0.99.1.0.255", "1.0.1.8.0.101"])
def test_other_objects_are_not_measured(obis: str) -> None:
    assert quantity_of(bytes(Obis(obis))) is None


def test_energy_is_the_installation_reading_plus_what_flowed_since() -> None:
    m = meter("idis_poly")
    energy = handle(m, "1.0.1.8.0.255")
    assert energy.at(INSTALLED).get(2).value == 0  # the model's reading at installation
    assert 50 < energy.at(INSTALLED + 3600).get(2).value < 1500  # a winter night's hour, Wh
    assert energy.at(INSTALLED - 86400).get(2).value == 0  # nothing before it
    now = read(m, "1.0.1.8.0.255")
    assert isinstance(now, int) and 40 * 3000 < now < 40 * 30000  # 40 winter days of a household, Wh
    assert read(m, "1.0.1.8.0.255", now=3600.0) > now  # an evening hour later


def test_gas_and_water_volumes_grow_from_their_installation_readings() -> None:
    gas = meter("gas")
    vm, vb = read(gas, "7.0.3.0.0.255"), read(gas, "7.0.13.0.0.255")
    assert isinstance(vm, int) and isinstance(vb, int)
    assert 1_234_567 + 40 * 1_000 < vm < 1_234_567 + 40 * 20_000  # winter heating, in litres (-3 m3)
    assert (vb - 1_218_654) == pytest.approx((vm - 1_234_567) * 0.9871, abs=2)
    water = meter("water")
    volume, back = read(water, "8.0.1.0.0.255"), read(water, "8.0.1.0.1.255")
    assert isinstance(volume, int) and isinstance(back, int)
    assert read(water, "8.0.1.0.0.255", now=6 * 3600.0) > volume


def test_demand_and_maximum_demand_follow_the_energy() -> None:
    m = meter("idis_poly")
    period = 900
    now = 1234.0  # 20:20:34 local: 334 s into a 15-minute period
    current, last = read(m, "1.0.1.4.0.255", 2, now), read(m, "1.0.1.4.0.255", 3, now)
    energy = handle(m, "1.0.1.8.0.255")
    start = START + now - (START + now) % period
    e = [energy.at(t).get(2).value for t in (start - period, start)]
    assert isinstance(last, int) and isinstance(current, int)
    assert last == pytest.approx((e[1] - e[0]) * 3600 / period, abs=4 * 1 + 5)  # 1 Wh resolution over 1/4 h
    peak = read(m, "1.0.1.6.0.255", 2, now)
    assert isinstance(peak, int) and peak >= last > 0
    stamp = handle(m, "1.0.1.6.0.255", now).get(5)
    assert stamp.type == DataType.OCTET_STRING and len(stamp.value) == 12
    assert (stamp.value[0] << 8 | stamp.value[1], stamp.value[2]) == (2024, 2)  # within this billing month


def test_nothing_flows_while_the_disconnector_is_open() -> None:
    m = meter("idis_poly")
    before = read(m, "1.0.1.8.0.255")
    handle(m, "0.0.96.3.10.255").change(SupplyChanges).changes.append((START + 1.0, False))
    assert read(m, "1.0.1.8.0.255", now=7200.0) - before <= 1  # the second before it opened
    assert read(m, "1.0.31.7.0.255", now=7200.0) == 0
    assert read(m, "1.0.32.7.0.255", now=7200.0) > 2000  # the voltage is still there
    handle(m, "0.0.96.3.10.255").change(SupplyChanges).changes.append((START + 7200.0, True))
    assert read(m, "1.0.1.8.0.255", now=10800.0) > before + 1


def test_meters_read_differently_by_serial_and_alike_by_serial_again() -> None:
    a, b, again = meter("idis_poly", "00000001"), meter("idis_poly", "00000002"), meter("idis_poly", "00000001")
    assert read(a, "1.0.1.8.0.255") != read(b, "1.0.1.8.0.255")
    assert read(a, "1.0.1.8.0.255") == read(again, "1.0.1.8.0.255")


def test_a_model_without_living_keeps_its_values_pre_encoded_and_still() -> None:
    text = re.sub(r"\nliving:\n(?:  .*\n)+", "\n", (SHIPPED_DIR / "minimal.yaml").read_text())
    model = parse_model(text, "static.yaml")
    assert model.living is None
    spec = model.logical_devices[1].find(bytes(Obis("1.0.1.8.0.255")))
    assert spec is not None and spec.encoded[1] == spec.values[1].to_bytes()  # type: ignore[union-attr]
    m = Meter(model, 1, {"serial": "00000001"}, TimeBase(START, 0.0, 1.0, INSTALLED))
    assert read(m, "1.0.1.8.0.255") == read(m, "1.0.1.8.0.255", now=86400.0) == spec.values[1].value  # type: ignore[union-attr]
    assert isinstance(spec.values[1], Data)


def test_power_quality_averages_follow_the_supply_and_the_load() -> None:
    m = meter("idis_poly")
    voltages = {read(m, "1.0.32.24.0.255", now=s * 600.0) for s in range(12)}
    assert all(isinstance(v, int) and 2250 < v < 2350 for v in voltages) and len(voltages) > 1  # 0.1 V
    current = read(m, "1.0.31.24.0.255")  # 0.01 A: the last ten minutes' energy on L1
    energy = handle(m, "1.0.1.8.0.255")
    end = START - START % 600
    share = m.model.living.load.phases[0]  # type: ignore[union-attr]
    watts = (energy.at(end).get(2).value - energy.at(end - 600).get(2).value) * 6 * share  # type: ignore[operator]
    assert isinstance(current, int) and current / 100 == pytest.approx(watts / 230 / 0.96, rel=0.15, abs=0.2)


def test_a_read_inside_a_quarter_hour_agrees_with_one_worked_out_afresh() -> None:
    """A register keeps its straight segment between reads: the values must not differ from a
    meter that computes each instant from scratch, across tariff switches, quarter-hours, a SET
    and a disconnection."""
    kept = meter("idis_poly")
    steps = [0.0, 7.5, 300.0, 899.0, 901.0, 3600.0 * 2 + 13, 3 * 3600.0, 5 * 3600.0 + 450]
    for obis in ("1.0.1.8.0.255", "1.0.1.8.1.255", "1.0.1.8.2.255", "1.0.2.8.0.255", "1.0.5.8.0.255"):
        for now in steps:
            assert read(kept, obis, now=now) == read(meter("idis_poly"), obis, now=now), (obis, now)
    handle(kept, "1.0.1.8.0.255", 4 * 3600.0).write(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 9_000_000))
    after = read(kept, "1.0.1.8.0.255", now=4 * 3600.0 + 60)
    assert isinstance(after, int) and 9_000_000 <= after < 9_000_000 + 100
    handle(kept, "0.0.96.3.10.255").change(SupplyChanges).changes.append((START + 4 * 3600.0 + 120, False))
    assert read(kept, "1.0.1.8.0.255", now=4 * 3600.0 + 800) == read(kept, "1.0.1.8.0.255", now=4 * 3600.0 + 130)


def test_tariff_registers_never_go_down_when_the_clock_moves() -> None:
    """A clock set two days back (a weekday morning shown as a Saturday) must not split the day
    anew: the tariff registers keep their readings and go on; a meter rebuilt from the same
    state (a restart) reads the same."""
    m = meter("idis_poly")
    morning = 12 * 3600.0  # START is 19:00 UTC: the next day, 08:00 local, tariff 1
    tariffs = ["1.0.1.8.1.255", "1.0.1.8.2.255"]
    before = [read(m, o, now=morning) for o in tariffs]
    handle(m, "0.0.1.0.0.255", morning).clock.shift(-2 * 86400)
    after = [read(m, o, now=morning + 1) for o in tariffs]
    later = [read(m, o, now=morning + 3600) for o in tariffs]
    assert all(isinstance(v, int) for v in before + after + later)
    assert [a - b for a, b in zip(after, before)] in ([0, 0], [1, 0], [0, 1])  # one second of consumption
    assert all(c >= a for a, c in zip(after, later))
    again = Meter(m.model, 1, m.fields, m.time_base, utc_offset_min=60)
    again.state = m.state
    assert [read(again, o, now=morning + 3600) for o in tariffs] == later


def test_after_a_power_failure_longer_than_its_backup_the_clock_is_invalid_until_set() -> None:
    """The clock's status bits follow the supply: a day-long failure outlasts the clock's
    backup, so the time read after it carries 'invalid value' until a client sets the clock."""
    day_long = EventModel(power_failure=EventRate(20.0, 86400.0, 0.0), voltage_sag=EventRate(0.0, 1.0),
                          voltage_swell=EventRate(0.0, 1.0))
    m = meter("idis_poly")
    m.model = dataclasses.replace(m.model, living=dataclasses.replace(m.model.living, events=day_long))
    m._living = None  # type: ignore[attr-defined]  # the view is built again from the new model
    living = m.living
    assert living is not None
    failures = history(living.cache, day_long, living.seed, living.installed, START).failures
    assert failures, "twenty day-long failures a year: some in 40 days of history"
    start, end = failures[0]
    clock = handle(m, "0.0.1.0.0.255")
    assert not clock.at(start - 60).get(2).value[11] & ClockStatus.INVALID
    assert clock.at(end + 60).get(2).value[11] & ClockStatus.INVALID
    assert clock.at(end + 60).get(4).value & ClockStatus.INVALID
    assert failures[-1][1] < START + 600  # this meter's last failure is over before the head-end comes
    clock = handle(m, "0.0.1.0.0.255", 600.0)
    assert clock.get(2).value[11] & ClockStatus.INVALID
    clock.write(2, clock.get(2))  # the head-end sets the time
    assert not handle(m, "0.0.1.0.0.255", 700.0).get(2).value[11] & ClockStatus.INVALID
