"""A living meter's event logs, event code objects, alarm registers and event counters read what
its seeded events and its own logged events make them, at whatever instant they are read; a
static meter keeps its stored values."""

from __future__ import annotations

from dataclasses import replace

from simulator.axdr import Data, DataType, Obis
from simulator.cosem.events import (
    ALARM_BITS, EventCode, computes_data_value, data_value, events_in, log_event,
)
from simulator.living.events import NO_EVENTS, EventModel, EventRate, events_between
from simulator.living.meter import LivingModel
from simulator.living.noise import meter_seed
from simulator.model.catalogue import SHIPPED_DIR
from simulator.model.loader import load_model
from simulator.server.objects import Meter, ObjectHandle, TimeBase
from simulator.state.effects import LoggedEvents

from .helpers import u8, u16, u32
from .meter_fixture import EPOCH_2024, TestMeter

DAY = 86400.0
INSTALLED = EPOCH_2024
NOW = EPOCH_2024 + 90 * DAY
EVENTS = replace(NO_EVENTS, power_failure=EventRate(40, 1800, 1.0), voltage_sag=EventRate(60, 1, 0.0),
                 cover_open=EventRate(8, 600, 0.0))
SEED = meter_seed(0, "00000001")  # the test meter's profile seed and serial
LOG = {"clock": "0.0.1.0.0.255", "standard": "0.0.99.98.0.255", "fraud": "0.0.99.98.1.255",
       "power_quality": "0.0.99.98.4.255"}
OBJECTS: list[tuple[int, str, dict[int, Data]]] = [
    (7, LOG["standard"], {8: u32(100)}), (7, LOG["fraud"], {8: u32(100)}), (7, LOG["power_quality"], {8: u32(100)}),
    (1, "0.0.96.11.0.255", {2: u8(0)}), (1, "0.0.96.11.1.255", {2: u8(0)}), (1, "0.0.96.11.4.255", {2: u8(0)}),
    (1, "0.0.97.98.0.255", {2: u32(0)}), (1, "0.0.97.98.1.255", {2: u32(0)}),
    (1, "0.0.97.98.10.255", {2: u32(0xFFFFFFFF)}), (1, "0.0.97.98.11.255", {2: u32(0xFFFFFFFF)}),
    (1, "0.0.96.7.21.255", {2: u16(0)}), (1, "0.0.96.7.9.255", {2: u16(0)}),
    (1, "1.0.32.32.0.255", {2: u16(0)}), (1, "1.0.52.32.0.255", {2: u16(0)}), (1, "1.0.72.32.0.255", {2: u16(0)}),
    (1, "1.0.12.32.0.255", {2: u16(0)}), (1, "0.0.96.7.20.255", {2: u32(1800)}),
]


class Living:
    """The test meter with a living model: only `EVENTS`, no load."""

    def __init__(self, events: EventModel | None = EVENTS, living: bool = True) -> None:
        base = TestMeter(OBJECTS, start_epoch=NOW)
        self.device = base.device
        model = replace(base.model, living=LivingModel(events=events)) if living else base.model
        self.meter = Meter(model, 0, {"serial": "00000001"}, TimeBase(NOW, installed=INSTALLED))

    def at(self, ln: str, fleet_epoch: float = NOW) -> ObjectHandle:
        spec = self.device.find(bytes(Obis(ln)))
        assert spec is not None, ln
        return ObjectHandle(self.meter, self.device, spec, fleet_epoch - NOW)


def _generated(kind: str, t1: float = NOW) -> list:  # type: ignore[type-arg]
    return [e for e in events_between(EVENTS, SEED, INSTALLED, INSTALLED, t1) if e.kind == kind]


def test_a_power_failure_is_a_power_down_and_a_power_up_in_the_standard_log() -> None:
    meter = Living()
    meter.meter.state.shift_clock(3600.0)  # the meter's clock runs an hour ahead of the fleet's
    log = meter.at(LOG["standard"])
    log_event(log, "standard", EventCode.CLOCK_ADJUSTED_NEW_TIME)  # the meter's own, at its time now
    failures = [e for e in _generated("power_failure") if e.end <= NOW]
    assert len(failures) > 3
    rows = events_in(log, "standard", INSTALLED, NOW + 3600.0 + 1)
    expected = sorted([(e.start + 3600.0, 1) for e in failures] + [(e.end + 3600.0, 2) for e in failures]
                      + [(NOW + 3600.0, EventCode.CLOCK_ADJUSTED_NEW_TIME)])
    assert rows == expected
    third = failures[2]  # a range holding only that failure's power up
    assert events_in(log, "standard", third.end + 3600.0, third.end + 3601.0) == [(third.end + 3600.0, 2)]


def test_sags_go_to_the_power_quality_log_with_their_phase_and_covers_to_the_fraud_log() -> None:
    meter = Living()
    log = meter.at(LOG["power_quality"])
    sags = _generated("voltage_sag")
    rows = events_in(log, "power_quality", INSTALLED, NOW)
    assert rows == sorted([(e.start, 76 + e.phase - 1) for e in sags if e.phase]
                          + [(e.end, 85 + e.phase - 1) for e in sags if e.phase and e.end < NOW])
    assert {code for _, code in rows} >= {76, 77, 78, 85, 86, 87}
    covers = _generated("cover_open")
    fraud = events_in(meter.at(LOG["fraud"]), "fraud", INSTALLED, NOW)
    assert covers and fraud[:2] == [(covers[0].start, EventCode.METER_COVER_REMOVED),
                                    (covers[0].end, EventCode.METER_COVER_CLOSED)]
    assert all(code in (1, 2) for _, code in events_in(log, "standard", INSTALLED, NOW))  # no sag there


def test_the_event_code_object_reads_the_latest_event_of_its_log_when_read() -> None:
    meter = Living()
    failure = _generated("power_failure")[3]
    during, after = failure.start + 1, failure.end + 1
    assert meter.at("0.0.96.11.0.255", during).get(2) == u8(EventCode.POWER_DOWN)
    assert meter.at("0.0.96.11.0.255", after).get(2) == u8(EventCode.POWER_UP)
    own = meter.at(LOG["standard"], after + 10)
    log_event(own, "standard", EventCode.FIRMWARE_ACTIVATED)
    assert meter.at("0.0.96.11.0.255", after + 20).get(2) == u8(EventCode.FIRMWARE_ACTIVATED)
    assert meter.at("0.0.96.11.0.255", during).get(2) == u8(EventCode.POWER_DOWN)  # the past is unchanged
    before_any = meter.at("0.0.96.11.0.255", INSTALLED + 1)
    first = min(e.start for e in events_between(EVENTS, SEED, INSTALLED, INSTALLED, NOW) if e.kind == "power_failure")
    assert first > INSTALLED + 1 and before_any.get(2) == u8(0)  # nothing yet: the model's value


def test_a_static_meter_keeps_its_stored_values() -> None:
    meter = Living(living=False)
    for ln in ("0.0.96.11.0.255", "0.0.97.98.0.255", "0.0.96.7.21.255", "1.0.32.32.0.255"):
        handle = meter.at(ln)
        assert data_value(handle) is None and handle.get(2) == handle.stored(2)
    handle = meter.at("0.0.97.98.0.255")
    handle.write(2, u32(5))
    assert handle.get(2) == u32(5) and meter.at(LOG["standard"]).effect(LoggedEvents) is None


def _bits(value: Data) -> set[int]:
    return {i for i in range(32) if value.value >> i & 1}


def test_alarm_registers_hold_the_bits_of_the_events_since_installation_through_the_filter() -> None:
    meter = Living()
    one, two = meter.at("0.0.97.98.0.255").get(2), meter.at("0.0.97.98.1.255").get(2)
    assert one.type == DataType.DOUBLE_LONG_UNSIGNED
    assert _bits(one) == {2, 13}  # power up, fraud attempt (meter cover removed)
    phases = {e.phase for e in _generated("voltage_sag")}
    assert _bits(two) == {p - 1 for p in phases if p} == {0, 1, 2}  # sags L1..L3
    meter.at("0.0.97.98.10.255").write(2, u32(0xFFFFFFFF & ~(1 << 13)))
    assert _bits(meter.at("0.0.97.98.0.255").get(2)) == {2}
    early = _generated("power_failure")[0]
    assert _bits(meter.at("0.0.97.98.0.255", early.end - 1).get(2)) == set()  # before the first power up


def test_writing_an_alarm_register_clears_it_until_the_next_alarm() -> None:
    meter = Living()
    register = meter.at("0.0.97.98.0.255")
    register.write(2, u32(0))
    assert register.get(2) == u32(0)
    assert events_in(register, "standard", NOW, NOW + 1) == [(NOW, EventCode.ALARM_REGISTER_CLEARED)]
    later = [e for e in events_between(EVENTS, SEED, INSTALLED, NOW + 1, NOW + 60 * DAY) if e.kind == "power_failure"]
    assert later
    assert meter.at("0.0.97.98.0.255", later[0].end - 1).get(2) == u32(0)
    assert _bits(meter.at("0.0.97.98.0.255", later[0].end + 1).get(2)) == {2}
    assert _bits(meter.at("0.0.97.98.0.255", NOW - 1).get(2)) == {2, 13}  # read in the past: before the write
    assert _bits(meter.at("0.0.97.98.1.255").get(2)) == {0, 1, 2}  # the other register is not cleared


def test_the_meter_s_own_fraud_events_raise_the_fraud_alarm() -> None:
    meter = Living(replace(EVENTS, cover_open=EventRate(0, 1)))
    assert 13 not in _bits(meter.at("0.0.97.98.0.255").get(2))
    log_event(meter.at(LOG["fraud"]), "fraud", EventCode.ASSOCIATION_AUTHENTICATION_FAILURE)
    assert 13 in _bits(meter.at("0.0.97.98.0.255", NOW + 1).get(2))
    assert ALARM_BITS[EventCode.REPLAY_ATTACK] == (0, 13)


def test_counters_count_the_events_since_installation() -> None:
    meter = Living()
    failures = _generated("power_failure", NOW + 1)
    sags = _generated("voltage_sag", NOW + 1)
    assert meter.at("0.0.96.7.21.255").get(2) == u16(len(failures))
    long_ones = [e for e in failures if e.end <= NOW and e.end - e.start >= 1800]  # the threshold 0.0.96.7.20.255
    assert 0 < len(long_ones) < len(failures)
    assert meter.at("0.0.96.7.9.255").get(2) == u16(len(long_ones))
    for ln, phase in (("1.0.32.32.0.255", 1), ("1.0.52.32.0.255", 2), ("1.0.72.32.0.255", 3)):
        assert meter.at(ln).get(2) == u16(sum(1 for e in sags if e.phase == phase)), ln
    assert meter.at("1.0.12.32.0.255").get(2) == u16(len(sags))
    assert meter.at("0.0.96.7.21.255", INSTALLED + 1).get(2) == u16(0)


def test_the_computed_data_objects_are_exactly_the_event_ones() -> None:
    computed = {"0.0.96.11.0.255", "0.0.96.11.1.255", "0.0.96.11.2.255", "0.0.96.11.3.255", "0.0.96.11.4.255",
                "0.0.96.11.5.255", "0.0.97.98.0.255", "0.0.97.98.1.255", "0.0.96.7.21.255", "0.0.96.7.9.255",
                "1.0.32.32.0.255", "1.0.52.32.0.255", "1.0.72.32.0.255", "1.0.12.32.0.255",
                "1.0.32.36.0.255", "1.0.52.36.0.255", "1.0.72.36.0.255", "1.0.12.36.0.255"}
    model = load_model(SHIPPED_DIR / "idis_poly.yaml")
    data = [o for o in model.logical_devices[1].objects if o.cls.class_id == 1]
    assert {str(o.logical_name) for o in data if computes_data_value(bytes(o.logical_name))} <= computed
    for o in data:  # GET's fast path: pre-encoded unless computed
        if computes_data_value(bytes(o.logical_name)):
            assert o.encoded[1] is None, o.logical_name
        elif str(o.logical_name) in ("0.0.97.98.10.255", "0.0.97.98.20.255"):  # filters and descriptors stay static
            assert o.encoded[1] is not None, o.logical_name
    assert {ln for ln in computed if computes_data_value(bytes(Obis(ln)))} == computed


def test_a_range_reaching_past_now_is_generated_without_growing_the_meter_s_history() -> None:
    meter = Living()
    log = meter.at(LOG["standard"])
    ahead = NOW + 400 * DAY
    rows = events_in(log, "standard", NOW - 30 * DAY, ahead)
    failures = [e for e in events_between(EVENTS, SEED, INSTALLED, NOW - 30 * DAY - 3 * DAY, ahead)
                if e.kind == "power_failure"]
    assert rows == sorted([(e.start, 1) for e in failures if e.start >= NOW - 30 * DAY]
                          + [(e.end, 2) for e in failures if NOW - 30 * DAY <= e.end < ahead])
    assert max(e.start for e in failures) > NOW + 300 * DAY
    history = meter.meter.living.cache.get("events")  # type: ignore[union-attr]
    assert history is None or history.until < NOW + 8 * DAY


def test_a_clock_set_back_keeps_both_of_its_entries_in_the_log_read_up_to_now() -> None:
    """Setting the clock an hour back logs the old time (now an hour 'ahead' of the meter's
    clock) and the new time: a read of the log up to now holds both."""
    m = Living(events=NO_EVENTS)
    clock = m.at(LOG["standard"])  # any object of the meter: its clock
    before = clock.clock.epoch()
    log_event(clock, "standard", EventCode.CLOCK_ADJUSTED_OLD_TIME)
    clock.clock.shift(-3600)
    log_event(clock, "standard", EventCode.CLOCK_ADJUSTED_NEW_TIME)
    now = m.at(LOG["standard"], NOW + 60)
    entries = events_in(now, "standard", INSTALLED, now.clock.epoch() + 1)
    assert [code for _, code in entries] == [EventCode.CLOCK_ADJUSTED_NEW_TIME, EventCode.CLOCK_ADJUSTED_OLD_TIME]
    assert entries[-1][0] == before
    assert events_in(now, "standard", INSTALLED, now.clock.epoch() - 30) == [entries[0]]  # a range in the past
