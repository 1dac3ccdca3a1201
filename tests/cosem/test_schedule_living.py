"""A living meter catches up with what it does by itself: schedules from its installation, each
script as of its own time, billing captures left to the profile, calendar activation, monitors."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from simulator.axdr import CosemDate, CosemDateTime, CosemTime, Data, DataType, Obis
from simulator.cosem.catch_up import catch_up
from simulator.cosem.schedule import run_single_action_schedule
from simulator.living.meter import LivingModel
from simulator.server.objects import Meter, TimeBase
from simulator.state.effects import ProfileRows, ScheduleRun, SupplyChanges
from tests.cosem.helpers import array, octets, struct, u16
from tests.cosem.meter_fixture import TestMeter

CLOCK_LN = "0.0.1.0.0.255"
DISCONNECTOR_LN = "0.0.96.3.10.255"
SWITCH_SCRIPTS_LN = "0.0.10.0.106.255"
BILLING_SCRIPTS_LN = "0.0.10.0.1.255"
BILLING_LN = "0.0.98.1.0.255"
DISCONNECT_AT_MIDNIGHT = "0.0.15.0.1.255"
RECONNECT_AT_NOON = "0.0.15.0.3.255"
END_OF_BILLING = "0.0.15.0.0.255"
CALENDAR_LN = "0.0.13.0.0.255"
MONITOR_LN = "0.0.16.1.0.255"
POWER_LN = "1.0.1.7.0.255"
ALARM_LN = "0.0.97.98.0.255"
ALARM_SCRIPTS_LN = "0.0.10.0.107.255"
LIMITER_LN = "0.0.17.0.0.255"
DAY = 86400.0


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def ln(text: str) -> Data:
    return octets(bytes(Obis(text)))


def method_script(selector: int, class_id: int, target: str, method: int) -> Data:
    action = struct(Data(DataType.ENUM, 2), u16(class_id), ln(target), Data(DataType.INTEGER, method),
                    Data(DataType.INTEGER, 0))
    return struct(u16(selector), array(action))


def write_script(selector: int, class_id: int, target: str, value: Data) -> Data:
    action = struct(Data(DataType.ENUM, 1), u16(class_id), ln(target), Data(DataType.INTEGER, 2), value)
    return struct(u16(selector), array(action))


def daily(script_ln: str, selector: int, hour: int) -> dict[int, Data]:
    when = struct(octets(CosemTime(hour, 0, 0, 0).to_bytes()), octets(CosemDate(None, None, None, None).to_bytes()))
    return {2: struct(ln(script_ln), u16(selector)), 3: Data(DataType.ENUM, 4), 4: array(when)}


START = utc("2024-01-04T18:00:00")


def living_meter(objects: list[tuple[int, str, dict[int, Data]]], *, living: bool = True,
                 history_s: float = 3 * DAY) -> TestMeter:
    """A meter on UTC time, installed `history_s` before the fleet's start (START)."""
    m = TestMeter([(8, CLOCK_LN, {3: Data(DataType.LONG, 0)}), *objects], start_epoch=START)
    if living:
        m.model = replace(m.model, living=LivingModel())
        m.state = Meter(m.model, 0, {"serial": "00000001"}, TimeBase(START, installed=START - history_s))
    return m


SWITCHING = [
    (70, DISCONNECTOR_LN, {3: Data(DataType.ENUM, 1), 4: Data(DataType.ENUM, 2)}),
    (9, SWITCH_SCRIPTS_LN, {2: array(method_script(1, 70, DISCONNECTOR_LN, 1),
                                     method_script(2, 70, DISCONNECTOR_LN, 2))}),
    (22, DISCONNECT_AT_MIDNIGHT, daily(SWITCH_SCRIPTS_LN, 1, 0)),
    (22, RECONNECT_AT_NOON, daily(SWITCH_SCRIPTS_LN, 2, 12)),
]
BILLING = [
    (7, BILLING_LN, {3: array(struct(u16(8), ln(CLOCK_LN), Data(DataType.INTEGER, 2), u16(0))),
                     4: Data(DataType.DOUBLE_LONG_UNSIGNED, 0), 5: Data(DataType.ENUM, 1),
                     8: Data(DataType.DOUBLE_LONG_UNSIGNED, 12)}),
    (9, BILLING_SCRIPTS_LN, {2: array(method_script(1, 7, BILLING_LN, 2))}),
    (22, END_OF_BILLING, daily(BILLING_SCRIPTS_LN, 1, 0)),
]


MONITORED = [
    (3, POWER_LN, {2: Data(DataType.DOUBLE_LONG, 1000), 3: struct(Data(DataType.INTEGER, 0), Data(DataType.ENUM, 27))}),
    (1, ALARM_LN, {2: Data(DataType.DOUBLE_LONG_UNSIGNED, 0)}),
    (9, ALARM_SCRIPTS_LN, {2: array(write_script(1, 1, ALARM_LN, Data(DataType.DOUBLE_LONG_UNSIGNED, 1)),
                                    write_script(2, 1, ALARM_LN, Data(DataType.DOUBLE_LONG_UNSIGNED, 0)))}),
    (21, MONITOR_LN, {2: array(Data(DataType.DOUBLE_LONG, 5000)),
                      3: struct(u16(3), ln(POWER_LN), Data(DataType.INTEGER, 2)),
                      4: array(struct(struct(ln(ALARM_SCRIPTS_LN), u16(1)), struct(ln(ALARM_SCRIPTS_LN), u16(2))))}),
]


def switched(m: TestMeter) -> list[tuple[str, bool]]:
    changes = m.obj(DISCONNECTOR_LN).effect(SupplyChanges)
    return [] if changes is None else [(datetime.fromtimestamp(t, timezone.utc).isoformat()[:16], c)
                                       for t, c in changes.changes]


def test_schedules_catch_up_from_installation_in_time_order() -> None:
    m = living_meter(SWITCHING)
    catch_up(m.obj(CLOCK_LN), 1)
    # Installed 2024-01-01 18:00: every midnight disconnect and noon reconnect since, each at its time.
    assert switched(m) == [
        ("2024-01-02T00:00", False), ("2024-01-02T12:00", True),
        ("2024-01-03T00:00", False), ("2024-01-03T12:00", True),
        ("2024-01-04T00:00", False), ("2024-01-04T12:00", True),
    ]
    assert m.obj(DISCONNECTOR_LN).get(3) == Data(DataType.ENUM, 1)  # connected again


def test_nothing_due_runs_nothing() -> None:
    m = living_meter(SWITCHING)
    catch_up(m.obj(CLOCK_LN), 1)
    last = m.obj(DISCONNECT_AT_MIDNIGHT).effect(ScheduleRun)
    assert last is not None and last.last == datetime(2024, 1, 4, 18, 0)
    m.now = 5 * 3600.0  # 23:00: the next execution (midnight) is not due
    catch_up(m.obj(CLOCK_LN), 1)
    assert m.obj(DISCONNECT_AT_MIDNIGHT).effect(ScheduleRun).last == datetime(2024, 1, 4, 18, 0)
    m.now = 6 * 3600.0 + 1  # just past midnight
    catch_up(m.obj(CLOCK_LN), 1)
    assert switched(m)[-1] == ("2024-01-05T00:00", False)


def test_a_changed_execution_time_is_seen_at_once() -> None:
    m = living_meter(SWITCHING)
    catch_up(m.obj(CLOCK_LN), 1)
    when = struct(octets(CosemTime(19, 0, 0, 0).to_bytes()), octets(CosemDate(None, None, None, None).to_bytes()))
    m.obj(DISCONNECT_AT_MIDNIGHT).write(4, array(when))
    m.now = 3600.0 + 1  # 19:00:01, before the midnight the schedule was due at
    catch_up(m.obj(CLOCK_LN), 1)
    assert switched(m)[-1] == ("2024-01-04T19:00", False)


def test_billing_captures_are_left_to_the_profile() -> None:
    m = living_meter(BILLING)
    catch_up(m.obj(CLOCK_LN), 1)
    assert m.obj(BILLING_LN).effect(ProfileRows) is None  # the profile's own rows hold the captures
    assert not m.state.state.touched  # and a request that finds nothing to do changes nothing


def test_monitors_and_limiters_under_their_thresholds_change_nothing() -> None:
    m = living_meter(MONITORED + [
        (70, DISCONNECTOR_LN, {3: Data(DataType.ENUM, 1), 4: Data(DataType.ENUM, 2)}),
        (9, SWITCH_SCRIPTS_LN, {2: array(method_script(1, 70, DISCONNECTOR_LN, 1),
                                         method_script(2, 70, DISCONNECTOR_LN, 2))}),
        (71, LIMITER_LN, {2: struct(u16(3), ln(POWER_LN), Data(DataType.INTEGER, 2)),
                          3: Data(DataType.DOUBLE_LONG, 17250), 4: Data(DataType.DOUBLE_LONG, 17250),
                          5: Data(DataType.DOUBLE_LONG, 5750), 6: Data(DataType.DOUBLE_LONG_UNSIGNED, 60),
                          7: Data(DataType.DOUBLE_LONG_UNSIGNED, 60),
                          11: struct(struct(ln(SWITCH_SCRIPTS_LN), u16(1)), struct(ln(SWITCH_SCRIPTS_LN), u16(2)))}),
    ])
    catch_up(m.obj(CLOCK_LN), 1)
    m.now = 60.0
    catch_up(m.obj(CLOCK_LN), 1)
    assert not m.state.state.touched


def test_a_static_meter_only_notes_where_its_time_stands() -> None:
    m = living_meter(SWITCHING + BILLING, living=False)
    assert run_single_action_schedule(m.obj(END_OF_BILLING)) == 0
    m.now = DAY
    assert run_single_action_schedule(m.obj(END_OF_BILLING)) == 1
    rows = m.obj(BILLING_LN).effect(ProfileRows)
    assert rows is not None and len(rows.rows) == 1  # a static meter's profile keeps its captures


def test_passive_calendar_is_activated_when_its_time_has_come() -> None:
    activation = CosemDateTime(2024, 1, 5, None, 6, 0, 0, 0, None, None)
    m = living_meter([(20, CALENDAR_LN, {2: octets(b"OLD"), 6: octets(b"NEW"), 10: octets(activation.to_bytes())})])
    catch_up(m.obj(CLOCK_LN), 1)
    assert m.obj(CALENDAR_LN).get(2) == octets(b"OLD")
    m.now = 12 * 3600.0  # 2024-01-05 06:00
    catch_up(m.obj(CLOCK_LN), 1)
    assert m.obj(CALENDAR_LN).get(2) == octets(b"NEW")


def test_register_monitor_fires_on_the_value_now() -> None:
    m = living_meter(MONITORED)
    catch_up(m.obj(CLOCK_LN), 1)  # the first value seen is the baseline
    m.obj(POWER_LN).set(2, Data(DataType.DOUBLE_LONG, 6000))  # moved without a write: as time moves it
    m.now += 0.5
    catch_up(m.obj(CLOCK_LN), 1)  # monitors sample once per second of the meter's clock
    assert m.obj(ALARM_LN).get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 0)
    m.now += 0.5
    catch_up(m.obj(CLOCK_LN), 1)
    assert m.obj(ALARM_LN).get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 1)
    m.obj(POWER_LN).set(2, Data(DataType.DOUBLE_LONG, 4000))
    m.now += 1
    catch_up(m.obj(CLOCK_LN), 1)
    assert m.obj(ALARM_LN).get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 0)
