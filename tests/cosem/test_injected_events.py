"""Events injected into a living meter (the control plane's) read like generated ones: the logs,
the event codes, the counters, the alarm registers through their filters, no energy while the
supply fails, the clock's status after a long failure; the start's new alarm bit asks for the
alarm push; the record survives its plain-value form; a change is a new state revision."""

from __future__ import annotations

import dataclasses

import pytest

from simulator.axdr import ClockStatus, Data, DataType, Obis
from simulator.cosem.clock import CLOCK_BACKUP_S
from simulator.cosem.events import EventCode, events_in, inject_alarm, inject_event
from simulator.living.events import NO_EVENTS
from simulator.model.catalogue import SHIPPED_DIR
from simulator.model.loader import load_model
from simulator.server.objects import Meter, ObjectHandle, TimeBase, injected_home
from simulator.state.effects import InjectedEvents
from simulator.state.journal import EffectChanged

INSTALLED = 1_704_067_200.0  # 2024-01-01T00:00:00Z
START = INSTALLED + 40 * 86400 + 19 * 3600  # an evening: energy flows
ALARM_1, ALARM_2, FILTER_1 = "0.0.97.98.0.255", "0.0.97.98.1.255", "0.0.97.98.10.255"
FRAUD_BIT, POWER_UP_BIT = 1 << 13, 1 << 2


def quiet_meter() -> Meter:
    """The demo's polyphase meter with no generated events: only what a test injects happens."""
    model = load_model(SHIPPED_DIR / "idis_poly.yaml")
    assert model.living is not None
    model = dataclasses.replace(model, living=dataclasses.replace(model.living, events=NO_EVENTS))
    fields = {"serial": "00000001", "index": 1, "system_title": "53494D0000000001"}
    return Meter(model, 1, fields, TimeBase(START, 0.0, 1.0, INSTALLED))


def handle(m: Meter, obis: str, now: float = 0.0) -> ObjectHandle:
    device = m.model.logical_devices[1]
    spec = device.find(bytes(Obis(obis)))
    assert spec is not None, obis
    return ObjectHandle(m, device, spec, now)


def home(m: Meter, now: float = 0.0) -> ObjectHandle:
    found = injected_home(m.model)
    assert found is not None
    return ObjectHandle(m, found[0], found[1], now)


def value(m: Meter, obis: str, now: float = 0.0) -> object:
    return handle(m, obis, now).get(2).value


def test_a_power_failure_is_logged_counted_and_stops_the_energy() -> None:
    m = quiet_meter()
    start, end = inject_event(home(m), "power_failure", 300)
    assert (start, end) == (START, START + 300)
    log = handle(m, "0.0.99.98.0.255", 400.0)
    assert events_in(log, "standard", START - 10, START + 400) == [
        (START, EventCode.POWER_DOWN), (START + 300, EventCode.POWER_UP)]
    assert value(m, "0.0.96.7.21.255", 10.0) == 1  # power failures in all phases
    assert value(m, "0.0.96.7.9.255", 400.0) == 1  # long: 300 s is over the 180 s threshold
    during = [value(m, "1.0.1.8.0.255", t) for t in (0.0, 150.0, 300.0)]
    assert during[0] == during[1] == during[2]  # nothing flows without supply
    assert value(m, "1.0.1.8.0.255", 900.0) > during[2]  # it flows again afterwards
    assert value(m, "1.0.32.7.0.255", 150.0) == 0  # no voltage on L1 meanwhile
    assert value(m, "1.0.32.7.0.255", 600.0) != 0
    assert value(m, "0.0.96.11.0.255", 150.0) == EventCode.POWER_DOWN
    assert value(m, "0.0.96.11.0.255", 400.0) == EventCode.POWER_UP
    assert value(m, ALARM_1, 400.0) & POWER_UP_BIT and not value(m, ALARM_1, 150.0) & POWER_UP_BIT


def test_a_power_failure_longer_than_the_clock_backup_leaves_the_clock_invalid() -> None:
    m = quiet_meter()
    inject_event(home(m), "power_failure", CLOCK_BACKUP_S + 60)
    clock = handle(m, "0.0.1.0.0.255", CLOCK_BACKUP_S + 120)
    status = clock.get(2).value[11]
    assert status & ClockStatus.INVALID
    assert not handle(m, "0.0.1.0.0.255", 10.0).get(2).value[11] & ClockStatus.INVALID


def test_a_cover_opening_sets_the_fraud_bit_and_asks_for_the_alarm_push_once() -> None:
    m = quiet_meter()
    inject_event(home(m), "cover_open", 60)
    assert value(m, ALARM_1, 1.0) & FRAUD_BIT
    assert [r.trigger for r in m.take_push_requests()] == ["alarm"]
    assert events_in(handle(m, "0.0.99.98.1.255", 100.0), "fraud", START - 1, START + 100) == [
        (START, EventCode.METER_COVER_REMOVED), (START + 60, EventCode.METER_COVER_CLOSED)]
    inject_event(home(m, 5.0), "cover_open", 60)  # the bit is set already: no new alarm
    assert m.take_push_requests() == []


def test_a_filtered_bit_neither_shows_nor_pushes() -> None:
    m = quiet_meter()
    handle(m, FILTER_1).set(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 0xFFFFFFFF & ~FRAUD_BIT))
    inject_event(home(m), "terminal_cover_open", 60)
    assert not value(m, ALARM_1, 1.0) & FRAUD_BIT
    assert m.take_push_requests() == []


def test_a_sag_on_one_phase_goes_to_the_power_quality_log_and_alarm_register_2() -> None:
    m = quiet_meter()
    inject_event(home(m), "voltage_sag", 5, phase=2)
    assert events_in(handle(m, "0.0.99.98.4.255", 10.0), "power_quality", START - 1, START + 10) == [
        (START, EventCode.UNDERVOLTAGE_L1 + 1), (START + 5, EventCode.VOLTAGE_NORMAL_L1 + 1)]
    assert value(m, ALARM_2, 1.0) == 1 << 1  # sag L2
    assert value(m, "1.0.52.32.0.255", 10.0) == 1 and value(m, "1.0.32.32.0.255", 10.0) == 0


def test_alarm_bits_rise_until_a_client_clears_them() -> None:
    m = quiet_meter()
    inject_alarm(home(m), 2, 0b1000)
    assert value(m, ALARM_2, 1.0) == 0b1000
    assert [r.trigger for r in m.take_push_requests()] == ["alarm"]
    assert value(m, ALARM_2, -1.0) == 0  # not before it was raised
    handle(m, ALARM_2, 2.0).write(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 0))
    assert value(m, ALARM_2, 3.0) == 0


@pytest.mark.parametrize(("kind", "duration", "phase", "field"), [
    ("power_failure", 0, None, "duration_s"), ("power_failure", 4 * 86400, None, "duration_s"),
    ("voltage_swell", 5, None, "phase"), ("voltage_swell", 5, 4, "phase"), ("cover_open", 5, 1, "phase"),
    ("earthquake", 5, None, "kind"),
])
def test_what_does_not_fit_is_refused_naming_it(kind: str, duration: float, phase: int | None, field: str) -> None:
    m = quiet_meter()
    with pytest.raises(ValueError, match=field if field != "kind" else "unknown event kind"):
        inject_event(home(m), kind, duration, phase)
    assert m.state.effects == {}


def test_an_injection_is_a_new_revision_noted_for_saving_and_survives_its_record_form() -> None:
    m = quiet_meter()
    revision = m.state.revision
    inject_event(home(m), "magnetic_field", 120)
    inject_alarm(home(m, 1.0), 1, 1)
    assert m.state.revision > revision
    found = injected_home(m.model)
    assert found is not None
    assert EffectChanged(found[0].server_sap, found[1].index, "injected_events") in m.state.journal.take()
    record = home(m).effect(InjectedEvents)
    assert record is not None
    again = InjectedEvents.from_record(record.to_record())
    assert again == record
    fresh = quiet_meter()  # a restart: the record put back, nothing else
    fresh.state.effects[(found[0].server_sap, found[1].index, InjectedEvents)] = again
    assert value(fresh, ALARM_1, 10.0) == FRAUD_BIT | 1
    assert value(fresh, "0.0.96.11.1.255", 10.0) == EventCode.STRONG_DC_FIELD_DETECTED
