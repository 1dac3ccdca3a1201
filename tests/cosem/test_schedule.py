"""Script table, Schedule, Special days table, Activity calendar, Single action schedule."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from simulator.state import ScriptRun
from simulator.apdu.common import ActionResult, DataAccessResult
from simulator.axdr import BitString, CosemDateTime, Data, DataType, Obis
from simulator.cosem.base import AccessFailure, ActionFailure
from simulator.cosem.schedule import (
    ACTIVITY_CALENDAR, SCHEDULE, SCRIPT_TABLE, SINGLE_ACTION_SCHEDULE, SPECIAL_DAYS_TABLE,
    activate_calendar_if_due, execute_script, run_action_item, run_single_action_schedule,
)
from tests.cosem.meter_fixture import TestMeter

SCRIPTS_LN = "0.0.10.0.100.255"
MARKER_LN = "0.0.96.50.0.255"
ENERGY_LN = "1.0.1.8.0.255"
DISCONNECTOR_LN = "0.0.96.3.10.255"


def u16(v: int) -> Data:
    return Data(DataType.LONG_UNSIGNED, v)


def octets(raw: bytes) -> Data:
    return Data(DataType.OCTET_STRING, raw)


def ln(text: str) -> Data:
    return octets(bytes(Obis(text)))


def struct(*items: Data) -> Data:
    return Data(DataType.STRUCTURE, items)


def array(*items: Data) -> Data:
    return Data(DataType.ARRAY, items)


def action(service: int, class_id: int, name: str, index: int, parameter: Data) -> Data:
    return struct(Data(DataType.ENUM, service), u16(class_id), ln(name), Data(DataType.INTEGER, index), parameter)


def script(script_id: int, *actions: Data) -> Data:
    return struct(u16(script_id), array(*actions))


def marker(text: str) -> Data:
    return Data(DataType.VISIBLE_STRING, text)


def call(m: TestMeter, name: str, index: int, parameter: Data) -> None:
    m.obj(name).invoke(index, parameter)


ZERO = Data(DataType.INTEGER, 0)


# --------------------------------------------------------------------------- Script table

def script_meter(*scripts: Data) -> TestMeter:
    return TestMeter([
        (9, SCRIPTS_LN, {2: array(*scripts)}),
        (1, MARKER_LN, {2: marker("initial")}),
        (3, ENERGY_LN, {2: Data(DataType.DOUBLE_LONG_UNSIGNED, 1234)}),
        (70, DISCONNECTOR_LN, {3: Data(DataType.ENUM, 0), 4: Data(DataType.ENUM, 1)}),
    ])


def test_script_table_declaration() -> None:
    assert (SCRIPT_TABLE.class_id, SCRIPT_TABLE.version, SCRIPT_TABLE.sn_method_offset) == (9, 0, 0x20)
    assert [a.name for a in SCRIPT_TABLE.attributes] == ["logical_name", "scripts"]
    assert SCRIPT_TABLE.method(1).name == "execute" and SCRIPT_TABLE.method(1).parameter.describe() == "long-unsigned"


def test_execute_writes_attributes_and_invokes_methods_in_order() -> None:
    m = script_meter(script(1, action(1, 1, MARKER_LN, 2, marker("written")),
                            action(2, 3, ENERGY_LN, 1, ZERO)))
    call(m, SCRIPTS_LN, 1, u16(1))
    assert m.obj(MARKER_LN).get(2) == marker("written")
    assert m.obj(ENERGY_LN).get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 0)
    assert m.obj(SCRIPTS_LN).effect(ScriptRun) is None  # no guard left behind


def test_execute_runs_setters_of_written_attributes() -> None:
    # control_mode 0 forces the disconnector to connected: the write must go through the setter.
    m = script_meter(script(3, action(1, 70, DISCONNECTOR_LN, 4, Data(DataType.ENUM, 0))))
    call(m, SCRIPTS_LN, 1, u16(3))
    assert m.obj(DISCONNECTOR_LN).get(3) == Data(DataType.ENUM, 1)


def test_null_script_does_nothing() -> None:
    m = script_meter()
    call(m, SCRIPTS_LN, 1, u16(0))
    assert m.state.state.values == {}


@pytest.mark.parametrize("scripts, script_id, result", [
    ((), 7, ActionResult.OTHER_REASON),  # no such script
    ((script(1, action(1, 1, MARKER_LN, 2, marker("x")), action(1, 1, "0.0.96.99.0.255", 2, ZERO)),),
     1, ActionResult.OBJECT_UNDEFINED),  # second target missing: nothing runs
    ((script(1, action(1, 1, MARKER_LN, 2, marker("x")), action(1, 3, MARKER_LN, 2, ZERO)),),
     1, ActionResult.OBJECT_UNDEFINED),  # wrong class for that name
    ((script(1, action(1, 1, MARKER_LN, 9, marker("x"))),), 1, ActionResult.OBJECT_UNDEFINED),
    ((script(1, action(2, 3, ENERGY_LN, 5, ZERO)),), 1, ActionResult.OBJECT_UNAVAILABLE),
    ((script(1, action(2, 3, ENERGY_LN, 1, marker("x"))),), 1, ActionResult.TYPE_UNMATCHED),
    ((script(1, action(1, 3, ENERGY_LN, 3, marker("x"))),), 1, ActionResult.TYPE_UNMATCHED),
])
def test_execute_refusals(scripts: tuple[Data, ...], script_id: int, result: ActionResult) -> None:
    m = script_meter(*scripts)
    with pytest.raises(ActionFailure) as exc:
        call(m, SCRIPTS_LN, 1, u16(script_id))
    assert exc.value.result == result
    assert m.obj(MARKER_LN).get(2) == marker("initial")


def test_refused_write_inside_a_script_reports_its_result() -> None:
    m = TestMeter([
        (9, SCRIPTS_LN, {2: array(script(1, action(1, 6, "0.0.14.0.1.255", 4, octets(b"nope"))))}),
        (6, "0.0.14.0.1.255", {2: array(), 3: array()}),
    ])
    with pytest.raises(ActionFailure) as exc:
        call(m, SCRIPTS_LN, 1, u16(1))
    assert exc.value.result == ActionResult.OTHER_REASON


def test_a_script_calling_itself_stops() -> None:
    m = script_meter(script(1, action(2, 9, SCRIPTS_LN, 1, u16(1))))
    with pytest.raises(ActionFailure) as exc:
        call(m, SCRIPTS_LN, 1, u16(1))
    assert exc.value.result == ActionResult.TEMPORARY_FAILURE
    assert m.obj(SCRIPTS_LN).effect(ScriptRun) is None


def test_scripts_may_run_other_scripts() -> None:
    m = script_meter(script(1, action(2, 9, SCRIPTS_LN, 1, u16(2))),
                     script(2, action(1, 1, MARKER_LN, 2, marker("nested"))))
    call(m, SCRIPTS_LN, 1, u16(1))
    assert m.obj(MARKER_LN).get(2) == marker("nested")


def test_execute_script_and_run_action_item() -> None:
    m = script_meter(script(4, action(1, 1, MARKER_LN, 2, marker("item"))))
    with pytest.raises(ActionFailure) as exc:
        execute_script(m.obj(MARKER_LN), bytes(Obis("0.0.10.0.1.255")), 4)
    assert exc.value.result == ActionResult.OBJECT_UNDEFINED
    assert run_action_item(m.obj(MARKER_LN), struct(ln(SCRIPTS_LN), u16(9))) is False
    assert run_action_item(m.obj(MARKER_LN), Data(DataType.NULL_DATA)) is False
    assert run_action_item(m.obj(MARKER_LN), struct(ln(SCRIPTS_LN), u16(4))) is True
    assert m.obj(MARKER_LN).get(2) == marker("item")


# --------------------------------------------------------------------------- Schedule

SCHEDULE_LN = "0.0.12.0.0.255"


def entry(index: int, enabled: bool = True, switch: bytes = bytes.fromhex("06000000")) -> Data:
    return struct(u16(index), Data(DataType.BOOLEAN, enabled), ln(SCRIPTS_LN), u16(1), octets(switch),
                  u16(60), Data(DataType.BIT_STRING, BitString("1111100")),
                  Data(DataType.BIT_STRING, BitString("")), octets(bytes.fromhex("FFFFFFFFFF")),
                  octets(bytes.fromhex("FFFFFFFFFF")))


def entries(m: TestMeter) -> list[tuple[int, bool]]:
    return [(e.value[0].value, e.value[1].value) for e in m.obj(SCHEDULE_LN).get(2).value]


def schedule_meter(*indices: int) -> TestMeter:
    return TestMeter([(10, SCHEDULE_LN, {2: array(*(entry(i, False) for i in indices))})])


def test_schedule_declaration() -> None:
    assert (SCHEDULE.class_id, SCHEDULE.version) == (10, 0)
    assert [m.name for m in SCHEDULE.methods] == ["enable_disable", "insert", "delete"]
    assert len(SCHEDULE.attribute(2).type.element.fields) == 10
    assert SCHEDULE.attribute(2).type.accepts(array(entry(1)))


@pytest.mark.parametrize("ranges, expected", [
    ((1, 2, 0, 0), [(1, True), (2, True), (3, False)]),
    ((1, 3, 2, 2), [(1, True), (2, False), (3, True)]),   # disable wins where they overlap
    ((0, 0, 0, 0), [(1, False), (2, False), (3, False)]),
    ((3, 1, 0, 0), [(1, False), (2, False), (3, False)]),  # empty range
    ((2, 0xFFFF, 0, 0), [(1, False), (2, True), (3, True)]),
])
def test_enable_disable(ranges: tuple[int, int, int, int], expected: list[tuple[int, bool]]) -> None:
    m = schedule_meter(1, 2, 3)
    call(m, SCHEDULE_LN, 1, struct(*(u16(v) for v in ranges)))
    assert entries(m) == expected


def test_enable_then_disable_one_entry() -> None:
    m = schedule_meter(1, 2)
    call(m, SCHEDULE_LN, 1, struct(u16(2), u16(2), u16(0), u16(0)))
    call(m, SCHEDULE_LN, 1, struct(u16(0), u16(0), u16(2), u16(2)))
    assert entries(m) == [(1, False), (2, False)]


def test_insert_keeps_index_order_and_overwrites_same_index() -> None:
    m = schedule_meter(1, 5)
    call(m, SCHEDULE_LN, 2, entry(3, True))
    call(m, SCHEDULE_LN, 2, entry(5, True, bytes.fromhex("17000000")))
    assert entries(m) == [(1, False), (3, True), (5, True)]
    assert m.obj(SCHEDULE_LN).get(2).value[2].value[4] == octets(bytes.fromhex("17000000"))


def test_insert_refuses_index_zero() -> None:
    m = schedule_meter(1)
    with pytest.raises(ActionFailure) as exc:
        call(m, SCHEDULE_LN, 2, entry(0))
    assert exc.value.result == ActionResult.OTHER_REASON
    assert entries(m) == [(1, False)]


@pytest.mark.parametrize("first, last, expected", [
    (2, 3, [1, 4]), (1, 0xFFFF, []), (0, 0, [1, 2, 3, 4]), (5, 9, [1, 2, 3, 4]), (3, 2, [1, 2, 3, 4]),
])
def test_delete_range(first: int, last: int, expected: list[int]) -> None:
    m = schedule_meter(1, 2, 3, 4)
    call(m, SCHEDULE_LN, 3, struct(u16(first), u16(last)))
    assert [i for i, _ in entries(m)] == expected


# --------------------------------------------------------------------------- Special days table

SPECIAL_LN = "0.0.11.0.0.255"


def day(index: int, date_hex: str, day_id: int) -> Data:
    return struct(u16(index), octets(bytes.fromhex(date_hex)), Data(DataType.UNSIGNED, day_id))


def days(m: TestMeter) -> list[tuple[int, str, int]]:
    return [(e.value[0].value, e.value[1].value.hex().upper(), e.value[2].value)
            for e in m.obj(SPECIAL_LN).get(2).value]


def test_special_days_declaration() -> None:
    assert (SPECIAL_DAYS_TABLE.class_id, SPECIAL_DAYS_TABLE.sn_method_offset) == (11, 0x10)
    assert [m.name for m in SPECIAL_DAYS_TABLE.methods] == ["insert", "delete"]


def test_special_days_insert_and_delete() -> None:
    m = TestMeter([(11, SPECIAL_LN, {2: array(day(1, "FFFF0101FF", 1))})])
    call(m, SPECIAL_LN, 1, day(3, "FFFF0C19FF", 2))   # 25 December, every year
    call(m, SPECIAL_LN, 1, day(2, "07E80501FF", 1))
    assert days(m) == [(1, "FFFF0101FF", 1), (2, "07E80501FF", 1), (3, "FFFF0C19FF", 2)]
    call(m, SPECIAL_LN, 1, day(2, "07E80508FF", 3))   # same index: overwritten
    call(m, SPECIAL_LN, 1, day(9, "FFFF0101FF", 4))   # same date: the old entry goes
    assert days(m) == [(2, "07E80508FF", 3), (3, "FFFF0C19FF", 2), (9, "FFFF0101FF", 4)]
    call(m, SPECIAL_LN, 2, u16(3))
    call(m, SPECIAL_LN, 2, u16(42))  # absent: nothing changes
    assert [i for i, _, _ in days(m)] == [2, 9]


@pytest.mark.parametrize("date_hex", ["FFFF0D01FF", "FFFF0120FF", "FFFF010108", "FFFF0100FF"])
def test_special_day_insert_refuses_invalid_dates(date_hex: str) -> None:
    m = TestMeter([(11, SPECIAL_LN, {2: array()})])
    with pytest.raises(ActionFailure) as exc:
        call(m, SPECIAL_LN, 1, day(1, date_hex, 1))
    assert exc.value.result == ActionResult.OTHER_REASON
    assert days(m) == []


# --------------------------------------------------------------------------- Activity calendar

CALENDAR_LN = "0.0.13.0.0.255"


def calendar(name: bytes) -> tuple[Data, Data, Data, Data]:
    season = struct(octets(b"S1"), octets(CosemDateTime(None, 1, 1, None, 0, 0, 0, 0, None, None).to_bytes()),
                    octets(b"W1"))
    week = struct(octets(b"W1"), *(Data(DataType.UNSIGNED, 1) for _ in range(7)))
    day_profile = struct(Data(DataType.UNSIGNED, 1), array(struct(
        octets(bytes.fromhex("07000000")), ln("0.0.10.0.100.255"), u16(1))))
    return octets(name), array(season), array(week), array(day_profile)


def calendar_meter(activation: bytes) -> TestMeter:
    active, passive = calendar(b"OLD"), calendar(b"NEW")
    values = {i + 2: v for i, v in enumerate(active)} | {i + 6: v for i, v in enumerate(passive)}
    values[10] = octets(activation)
    return TestMeter([(20, CALENDAR_LN, values)])


def test_activity_calendar_declaration() -> None:
    assert (ACTIVITY_CALENDAR.class_id, ACTIVITY_CALENDAR.sn_method_offset) == (20, 0x50)
    assert [a.name for a in ACTIVITY_CALENDAR.attributes][1:] == [
        "calendar_name_active", "season_profile_active", "week_profile_table_active", "day_profile_table_active",
        "calendar_name_passive", "season_profile_passive", "week_profile_table_passive",
        "day_profile_table_passive", "activate_passive_calendar_time"]
    for i in range(2, 10):
        assert ACTIVITY_CALENDAR.attribute(i).type.accepts(calendar(b"X")[(i - 2) % 4])


def test_activate_passive_calendar_copies_passive_to_active() -> None:
    m = calendar_meter(CosemDateTime().to_bytes())
    call(m, CALENDAR_LN, 1, ZERO)
    obj = m.obj(CALENDAR_LN)
    assert obj.get(2) == octets(b"NEW")
    assert [obj.get(i) for i in range(2, 6)] == [obj.get(i) for i in range(6, 10)]


def test_passive_calendar_activates_at_its_time() -> None:
    when = CosemDateTime(2024, 1, 1, None, 1, 0, 0, 0, 0, None).to_bytes()  # 01:00 UTC
    m = calendar_meter(when)
    assert activate_calendar_if_due(m.obj(CALENDAR_LN)) is False
    assert m.obj(CALENDAR_LN).get(2) == octets(b"OLD")
    m.now = 3600
    assert activate_calendar_if_due(m.obj(CALENDAR_LN)) is True
    assert m.obj(CALENDAR_LN).get(2) == octets(b"NEW")
    assert activate_calendar_if_due(m.obj(CALENDAR_LN)) is False  # once per activation time


def test_unspecified_activation_time_disables_the_automatism() -> None:
    m = calendar_meter(CosemDateTime().to_bytes())
    m.now = 10 * 365 * 86400
    assert activate_calendar_if_due(m.obj(CALENDAR_LN)) is False
    assert m.obj(CALENDAR_LN).get(2) == octets(b"OLD")


# --------------------------------------------------------------------------- Single action schedule

SAS_LN = "0.0.15.0.0.255"


def exec_time(time_hex: str, date_hex: str) -> Data:
    return struct(octets(bytes.fromhex(time_hex)), octets(bytes.fromhex(date_hex)))


def sas_meter(kind: int, *times: Data) -> TestMeter:
    return TestMeter([
        (22, SAS_LN, {2: struct(ln(SCRIPTS_LN), u16(1)), 3: Data(DataType.ENUM, kind), 4: array(*times)}),
        (9, SCRIPTS_LN, {2: array(script(1, action(2, 3, ENERGY_LN, 1, ZERO)))}),
        (3, ENERGY_LN, {2: Data(DataType.DOUBLE_LONG_UNSIGNED, 99)}),
    ])


def test_single_action_schedule_declaration() -> None:
    assert [a.name for a in SINGLE_ACTION_SCHEDULE.attributes] == [
        "logical_name", "executed_script", "type", "execution_time"]
    assert SINGLE_ACTION_SCHEDULE.methods == ()


@pytest.mark.parametrize("kind, times", [
    (1, (exec_time("00000000", "FFFFFFFFFF"), exec_time("00000000", "FFFFFF01FF"))),  # type 1: one time
    (2, (exec_time("00000000", "FFFFFFFFFF"), exec_time("01000000", "FFFFFFFFFF"))),  # type 2: same time
    (3, (exec_time("00000000", "FFFF0101FF"),)),                                       # type 3: no wildcards
    (5, (exec_time("00000000", "07E801FEFF"),)),                                       # last day is a wildcard
])
def test_execution_time_refused_by_type(kind: int, times: tuple[Data, ...]) -> None:
    m = sas_meter(kind)
    with pytest.raises(AccessFailure) as exc:
        m.obj(SAS_LN).write(4, array(*times))
    assert exc.value.result == DataAccessResult.OTHER_REASON
    assert m.obj(SAS_LN).get(4) == array()


def test_type_change_checks_the_existing_times() -> None:
    m = sas_meter(4, exec_time("00000000", "FFFFFFFFFF"), exec_time("12000000", "FFFFFFFFFF"))
    with pytest.raises(AccessFailure):
        m.obj(SAS_LN).write(3, Data(DataType.ENUM, 2))
    m.obj(SAS_LN).write(3, Data(DataType.ENUM, 4))
    m.obj(SAS_LN).write(4, array(exec_time("00000000", "07E80201FF"), exec_time("00000000", "07E80301FF")))
    m.obj(SAS_LN).write(3, Data(DataType.ENUM, 3))
    assert m.obj(SAS_LN).get(3) == Data(DataType.ENUM, 3)


def test_execution_time_must_be_octet_strings() -> None:
    m = sas_meter(4)
    bad = struct(Data(DataType.TIME, None), octets(bytes.fromhex("FFFFFFFFFF")))
    with pytest.raises(AccessFailure) as exc:
        m.obj(SAS_LN).write(4, array(bad))
    assert exc.value.result == DataAccessResult.TYPE_UNMATCHED


def test_daily_execution_runs_once_per_passed_time() -> None:
    m = sas_meter(1, exec_time("00000000", "FFFFFFFFFF"))  # every day at midnight
    m.now = 60
    assert run_single_action_schedule(m.obj(SAS_LN)) == 0  # first call: baseline only
    assert m.obj(ENERGY_LN).get(2).value == 99
    m.now = 86400 - 1
    assert run_single_action_schedule(m.obj(SAS_LN)) == 0
    m.now = 3 * 86400 + 5
    assert run_single_action_schedule(m.obj(SAS_LN)) == 3
    assert m.obj(ENERGY_LN).get(2).value == 0
    assert run_single_action_schedule(m.obj(SAS_LN)) == 0


def test_dated_execution_times() -> None:
    m = sas_meter(5, exec_time("0C000000", "07E80103FF"), exec_time("08300000", "07E80105FF"))
    run_single_action_schedule(m.obj(SAS_LN))
    m.now = 2 * 86400 + 12 * 3600 - 1  # just before 2024-01-03 12:00
    assert run_single_action_schedule(m.obj(SAS_LN)) == 0
    m.now += 1
    assert run_single_action_schedule(m.obj(SAS_LN)) == 1
    m.now = 30 * 86400
    assert run_single_action_schedule(m.obj(SAS_LN)) == 1  # 2024-01-05 08:30


def test_last_day_of_month_and_weekday_patterns() -> None:
    # Blue Book date wildcards: 0xFE last day of month; day of week 7 = Sunday.
    m = sas_meter(4, exec_time("17000000", "FFFFFFFEFF"), exec_time("00000000", "FFFFFFFF07"))
    m.state.time_base = type(m.state.time_base)(datetime(2024, 1, 31, tzinfo=timezone.utc).timestamp())
    run_single_action_schedule(m.obj(SAS_LN))
    m.now = 23 * 3600  # 31 January 23:00, a Wednesday
    assert run_single_action_schedule(m.obj(SAS_LN)) == 1
    m.now = 5 * 86400  # through Sunday 4 February 00:00
    assert run_single_action_schedule(m.obj(SAS_LN)) == 1


def test_clock_moved_back_does_not_replay() -> None:
    m = sas_meter(1, exec_time("00000000", "FFFFFFFFFF"))
    m.now = 86400 + 10
    run_single_action_schedule(m.obj(SAS_LN))
    m.state.state.clock_offset_s = -3600
    assert run_single_action_schedule(m.obj(SAS_LN)) == 0


# --------------------------------------------------------------------------- tables the model left unset

def test_methods_on_unset_tables() -> None:
    m = TestMeter([(9, SCRIPTS_LN, {}), (10, SCHEDULE_LN, {}), (11, SPECIAL_LN, {}), (22, SAS_LN, {})])
    with pytest.raises(ActionFailure) as exc:
        call(m, SCRIPTS_LN, 1, u16(1))
    assert exc.value.result == ActionResult.OTHER_REASON
    call(m, SCHEDULE_LN, 1, struct(u16(1), u16(9), u16(0), u16(0)))
    call(m, SCHEDULE_LN, 3, struct(u16(1), u16(9)))
    call(m, SCHEDULE_LN, 2, entry(2))
    assert entries(m) == [(2, True)]
    call(m, SPECIAL_LN, 2, u16(1))
    call(m, SPECIAL_LN, 1, day(1, "FFFF0101FF", 1))
    assert days(m) == [(1, "FFFF0101FF", 1)]
    m.obj(SAS_LN).write(3, Data(DataType.ENUM, 1))
    assert run_single_action_schedule(m.obj(SAS_LN)) == 0
