"""Clock (8): time with deviation, status and daylight saving, SET time and the adjust methods."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from dlms_cosem.time import datetime_from_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.state import ClockAdjustment
from simulator.apdu.common import ActionResult, DataAccessResult
from simulator.axdr import ClockStatus, CosemDateTime, Data, DataType
from simulator.cosem.base import AccessFailure, ActionFailure
from simulator.cosem.clock import CLOCK, meter_datetime, resolve_pattern, timestamp
from tests.cosem.meter_fixture import EPOCH_2024, TestMeter

CLOCK_LN = "0.0.1.0.0.255"
# Blue Book 4.1.6.1 date-time layout: year(2) month day weekday hour min sec hundredths
# deviation(2, minutes UTC - local) status. 2024-01-01 is a Monday, UTC, status 0.
TIME_2024_UTC = bytes.fromhex("07E8010101" "00000000" "0000" "00")
# EU rules: last Sunday of March 02:00 (standard time) .. last Sunday of October 03:00 (summer time).
DST_BEGIN_EU = bytes.fromhex("FFFF03FE07" "02000000" "8000" "00")
DST_END_EU = bytes.fromhex("FFFF0AFE07" "03000000" "8000" "00")
# The same begin written as "the first Sunday on or after the 25th".
DST_BEGIN_EU_25 = bytes.fromhex("FFFF031907" "02000000" "8000" "00")


def octets(raw: bytes) -> Data:
    return Data(DataType.OCTET_STRING, raw)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc).timestamp()


def cet_clock(start: float, begin: bytes = DST_BEGIN_EU, end: bytes = DST_END_EU,
              enabled: bool = True, time_zone: int = -60) -> TestMeter:
    return TestMeter([(8, CLOCK_LN, {
        3: Data(DataType.LONG, time_zone), 5: octets(begin), 6: octets(end),
        7: Data(DataType.INTEGER, 60), 8: Data(DataType.BOOLEAN, enabled),
        9: Data(DataType.ENUM, 1),
    })], start_epoch=start)


def read_time(m: TestMeter) -> CosemDateTime:
    return CosemDateTime.from_bytes(m.obj(CLOCK_LN).get(2).value)


def utc_of(m: TestMeter) -> datetime:
    return read_time(m).to_datetime().astimezone(timezone.utc)


def test_declaration() -> None:
    assert (CLOCK.class_id, CLOCK.version, CLOCK.sn_method_offset) == (8, 0, 0x60)
    assert [a.name for a in CLOCK.attributes] == [
        "logical_name", "time", "time_zone", "status", "daylight_savings_begin", "daylight_savings_end",
        "daylight_savings_deviation", "daylight_savings_enabled", "clock_base"]
    assert [m.name for m in CLOCK.methods] == [
        "adjust_to_quarter", "adjust_to_measuring_period", "adjust_to_minute", "adjust_to_preset_time",
        "preset_adjusting_time", "shift_time"]
    assert [a.dynamic for a in CLOCK.attributes] == [False, True, False, True, False, False, False, False, False]


# --------------------------------------------------------------------------- reading time

def test_time_without_time_zone_uses_meter_offset() -> None:
    m = TestMeter([(8, CLOCK_LN, {})])
    assert m.obj(CLOCK_LN).get(2) == octets(TIME_2024_UTC)
    m.state.utc_offset_min = 120  # local = UTC + 2 h: deviation -120
    cdt = read_time(m)
    assert (cdt.hour, cdt.deviation, cdt.clock_status) == (2, -120, 0)


def test_time_zone_attribute_sets_the_deviation() -> None:
    m = cet_clock(EPOCH_2024, enabled=False)
    cdt = read_time(m)
    assert (cdt.year, cdt.month, cdt.day, cdt.hour, cdt.deviation, cdt.clock_status) == (2024, 1, 1, 1, -60, 0)


def test_time_is_the_right_instant_for_an_independent_parser() -> None:
    m = cet_clock(at(2024, 7, 1, 10, 30))
    parsed, status = datetime_from_bytes(m.obj(CLOCK_LN).get(2).value)
    assert parsed == datetime(2024, 7, 1, 10, 30, tzinfo=timezone.utc)
    assert parsed.utcoffset().total_seconds() == 7200
    assert status is not None and status.daylight_saving_active and not status.invalid


@pytest.mark.parametrize("begin", [DST_BEGIN_EU, DST_BEGIN_EU_25])
@pytest.mark.parametrize("utc, summer", [
    (at(2024, 3, 31, 0, 59, 59), False),  # 01:59:59 CET
    (at(2024, 3, 31, 1, 0, 0), True),     # 03:00:00 CEST
    (at(2024, 10, 27, 0, 59, 59), True),  # 02:59:59 CEST
    (at(2024, 10, 27, 1, 0, 0), False),   # 02:00:00 CET
    (at(2024, 12, 31, 23), False),
])
def test_daylight_saving_boundaries(begin: bytes, utc: float, summer: bool) -> None:
    m = cet_clock(utc, begin=begin)
    cdt = read_time(m)
    assert cdt.deviation == (-120 if summer else -60)
    assert bool(cdt.clock_status & ClockStatus.DAYLIGHT_SAVING_ACTIVE) == summer
    assert m.obj(CLOCK_LN).get(4) == Data(DataType.UNSIGNED, 0x80 if summer else 0)
    assert utc_of(m).timestamp() == utc


def test_daylight_saving_disabled_or_unresolvable() -> None:
    assert read_time(cet_clock(at(2024, 7, 1), enabled=False)).deviation == -60
    no_month = bytes.fromhex("FFFFFFFE07" "02000000" "8000" "00")
    assert read_time(cet_clock(at(2024, 7, 1), begin=no_month)).deviation == -60


def test_southern_hemisphere_summer_spans_new_year() -> None:
    # time zone UTC+10, summer from the first Sunday of October to the first Sunday of April.
    begin = bytes.fromhex("FFFF0A0107" "02000000" "8000" "00")
    end = bytes.fromhex("FFFF040107" "03000000" "8000" "00")
    assert read_time(cet_clock(at(2024, 1, 15), begin, end, time_zone=-600)).deviation == -660
    assert read_time(cet_clock(at(2024, 7, 15), begin, end, time_zone=-600)).deviation == -600


@pytest.mark.parametrize("pattern, expected", [
    ("FFFF03FE07", datetime(2024, 3, 31)),   # last Sunday of March
    ("FFFF02FEFF", datetime(2024, 2, 29)),   # last day of February, leap year
    ("FFFF02FDFF", datetime(2024, 2, 28)),   # second last day
    ("FFFF0AFD07", datetime(2024, 10, 27)),  # last Sunday on or before the 30th
    ("FFFF0519FF", datetime(2024, 5, 25)),
    ("FFFF05FF01", datetime(2024, 5, 6)),    # first Monday
    ("07E7031AFF", datetime(2023, 3, 26)),   # a year of its own
    ("FFFF021EFF", None),                    # 30 February
    ("FFFFFF01FF", None),                    # no month
    ("FFFF05FFFF", None),                    # no day
    ("FFFF041D07", None),                    # first Sunday on or after 29 April 2024 is in May
])
def test_resolve_pattern(pattern: str, expected: datetime | None) -> None:
    cdt = CosemDateTime.from_bytes(bytes.fromhex(pattern) + bytes(4) + bytes.fromhex("800000"))
    assert resolve_pattern(cdt, 2024) == expected


def test_helpers_without_a_clock_object_use_the_meter_clock() -> None:
    m = TestMeter([(1, "0.0.96.1.0.255", {})])
    m.state.utc_offset_min = 60
    cdt = meter_datetime(m.obj("0.0.96.1.0.255"))
    assert (cdt.hour, cdt.deviation, cdt.clock_status) == (1, -60, 0)
    assert timestamp(m.obj("0.0.96.1.0.255")).value == cdt.to_bytes()


# --------------------------------------------------------------------------- SET time and status

def test_set_time_with_deviation() -> None:
    m = cet_clock(EPOCH_2024)
    target = CosemDateTime(2024, 5, 1, None, 12, 0, 0, 0, -120, None)
    m.obj(CLOCK_LN).write(2, octets(target.to_bytes()))
    assert utc_of(m) == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    assert read_time(m).hour == 12


def test_set_time_without_deviation_is_meter_local_time() -> None:
    m = cet_clock(EPOCH_2024)
    m.obj(CLOCK_LN).write(2, octets(CosemDateTime(2024, 1, 2, None, 8, 0, 0, None, None, None).to_bytes()))
    assert utc_of(m) == datetime(2024, 1, 2, 7, tzinfo=timezone.utc)


def test_set_time_accepts_tagged_date_time() -> None:
    m = TestMeter([(8, CLOCK_LN, {})])
    m.obj(CLOCK_LN).write(2, Data(DataType.DATE_TIME, CosemDateTime(2025, 6, 1, None, 0, 0, 0, 0, 0, 0)))
    assert utc_of(m) == datetime(2025, 6, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw", [
    CosemDateTime(None, 1, 1, None, 0, 0, 0, 0, 0, 0).to_bytes(),  # year not specified
    CosemDateTime(2024, 2, 30, None, 0, 0, 0, 0, 0, 0).to_bytes(),  # no such day
    CosemDateTime(2024, 1, 1, None, None, 0, 0, 0, 0, 0).to_bytes(),  # hour not specified
])
def test_set_time_refuses_unspecified_or_impossible_times(raw: bytes) -> None:
    m = TestMeter([(8, CLOCK_LN, {})])
    with pytest.raises(AccessFailure) as exc:
        m.obj(CLOCK_LN).write(2, octets(raw))
    assert exc.value.result == DataAccessResult.OTHER_REASON
    assert m.obj(CLOCK_LN).get(2) == octets(TIME_2024_UTC)


def test_set_time_clears_invalid_and_doubtful() -> None:
    m = TestMeter([(8, CLOCK_LN, {})])
    m.obj(CLOCK_LN).write(4, Data(DataType.UNSIGNED, ClockStatus.INVALID | ClockStatus.DOUBTFUL
                                  | ClockStatus.DIFFERENT_CLOCK_BASE | ClockStatus.DAYLIGHT_SAVING_ACTIVE))
    assert m.obj(CLOCK_LN).get(4).value == 0x07  # the DST bit is the clock's own, not writable
    assert read_time(m).clock_status == 0x07
    m.obj(CLOCK_LN).write(2, octets(TIME_2024_UTC))
    assert m.obj(CLOCK_LN).get(4).value == ClockStatus.DIFFERENT_CLOCK_BASE


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 4_000_000_000), st.integers(-720, 720))
def test_set_then_read_round_trips(epoch: int, deviation: int) -> None:
    m = TestMeter([(8, CLOCK_LN, {3: Data(DataType.LONG, deviation)})])
    target = datetime.fromtimestamp(epoch, timezone.utc)
    cdt = CosemDateTime.from_datetime(target.astimezone(timezone(timedelta(minutes=-deviation))))
    m.obj(CLOCK_LN).write(2, octets(cdt.to_bytes()))
    back = read_time(m)
    assert back.deviation == deviation
    assert back.to_datetime() == target


# --------------------------------------------------------------------------- methods

def run(m: TestMeter, index: int, parameter: Data | None = None) -> None:
    m.obj(CLOCK_LN).invoke(index, parameter if parameter is not None else Data(DataType.INTEGER, 0))


@pytest.mark.parametrize("index, offset_s, expected_s", [
    (1, 7 * 60 + 40, 15 * 60),      # adjust_to_quarter: up
    (1, 7 * 60 + 20, 0),            # down
    (1, 52 * 60 + 30, 60 * 60),     # across the hour
    (3, 29, 0),                     # adjust_to_minute
    (3, 30, 60),
    (3, 3599, 3600),
])
def test_rounding_adjustments(index: int, offset_s: int, expected_s: int) -> None:
    m = TestMeter([(8, CLOCK_LN, {})])
    m.now = offset_s
    run(m, index)
    assert utc_of(m).timestamp() == EPOCH_2024 + expected_s


def test_rounding_uses_local_time_of_a_half_hour_zone() -> None:
    m = TestMeter([(8, CLOCK_LN, {3: Data(DataType.LONG, -330)})])  # UTC+05:30
    m.now = 10 * 60  # 05:40 local
    run(m, 1)
    cdt = read_time(m)
    assert (cdt.hour, cdt.minute, cdt.second) == (5, 45, 0)


def test_adjust_to_measuring_period_from_the_measuring_period_object() -> None:
    m = TestMeter([(8, CLOCK_LN, {}),
                   (3, "1.0.0.8.0.255", {2: Data(DataType.LONG_UNSIGNED, 60),
                                         3: Data(DataType.STRUCTURE, (Data(DataType.INTEGER, 1),
                                                                      Data(DataType.ENUM, 7)))})])
    m.now = 6 * 60 + 5  # period 600 s: 00:06:05 -> 00:10:00
    run(m, 2)
    assert utc_of(m).timestamp() == EPOCH_2024 + 600


def test_adjust_to_measuring_period_from_a_demand_register() -> None:
    m = TestMeter([(8, CLOCK_LN, {}), (5, "1.0.1.4.0.255", {8: Data(DataType.DOUBLE_LONG_UNSIGNED, 900)})])
    m.now = 7 * 60
    run(m, 2)
    assert utc_of(m).timestamp() == EPOCH_2024


def test_adjust_to_measuring_period_refused_without_a_period() -> None:
    m = TestMeter([(8, CLOCK_LN, {})])
    with pytest.raises(ActionFailure) as exc:
        run(m, 2)
    assert exc.value.result == ActionResult.OTHER_REASON


@pytest.mark.parametrize("seconds", [-900, -1, 0, 1, 900])
def test_shift_time(seconds: int) -> None:
    m = TestMeter([(8, CLOCK_LN, {})])
    run(m, 6, Data(DataType.LONG, seconds))
    assert utc_of(m).timestamp() == EPOCH_2024 + seconds


@pytest.mark.parametrize("seconds", [-901, 901, -32768, 32767])
def test_shift_time_refuses_more_than_900_s(seconds: int) -> None:
    m = TestMeter([(8, CLOCK_LN, {})])
    with pytest.raises(ActionFailure) as exc:
        run(m, 6, Data(DataType.LONG, seconds))
    assert exc.value.result == ActionResult.OTHER_REASON
    assert utc_of(m).timestamp() == EPOCH_2024


def preset(preset_at: float, start: float, end: float) -> Data:
    def dt(epoch: float) -> Data:
        return octets(CosemDateTime.from_datetime(datetime.fromtimestamp(epoch, timezone.utc)).to_bytes())
    return Data(DataType.STRUCTURE, (dt(preset_at), dt(start), dt(end)))


def test_preset_then_adjust_inside_the_validity_interval() -> None:
    m = TestMeter([(8, CLOCK_LN, {})])
    run(m, 5, preset(EPOCH_2024 + 3600, EPOCH_2024 - 60, EPOCH_2024 + 60))
    m.now = 30
    run(m, 4)
    assert utc_of(m).timestamp() == EPOCH_2024 + 3600
    with pytest.raises(ActionFailure) as exc:  # the preset was used up
        run(m, 4)
    assert exc.value.result == ActionResult.OTHER_REASON


def test_adjust_to_preset_time_refused_outside_the_interval() -> None:
    m = TestMeter([(8, CLOCK_LN, {})])
    run(m, 5, preset(EPOCH_2024 + 3600, EPOCH_2024 + 60, EPOCH_2024 + 120))
    with pytest.raises(ActionFailure) as exc:
        run(m, 4)
    assert exc.value.result == ActionResult.TEMPORARY_FAILURE
    assert utc_of(m).timestamp() == EPOCH_2024
    m.now = 90  # now inside: the preset was kept
    run(m, 4)
    assert utc_of(m).timestamp() == EPOCH_2024 + 3600


def test_adjust_to_preset_time_without_preset() -> None:
    with pytest.raises(ActionFailure) as exc:
        run(TestMeter([(8, CLOCK_LN, {})]), 4)
    assert exc.value.result == ActionResult.OTHER_REASON


@pytest.mark.parametrize("parameter", [
    preset(EPOCH_2024, EPOCH_2024 + 60, EPOCH_2024),  # interval ends before it starts
    Data(DataType.STRUCTURE, (octets(CosemDateTime().to_bytes()),) * 3),  # nothing specified
])
def test_preset_adjusting_time_refusals(parameter: Data) -> None:
    m = TestMeter([(8, CLOCK_LN, {})])
    with pytest.raises(ActionFailure) as exc:
        run(m, 5, parameter)
    assert exc.value.result == ActionResult.OTHER_REASON
    own = m.obj(CLOCK_LN).effect(ClockAdjustment)
    assert own is None or own.preset is None


def test_every_method_parameter_type_is_declared() -> None:
    types = {m.name: m.parameter.describe() for m in CLOCK.methods}
    assert types["shift_time"] == "long"
    assert types["adjust_to_quarter"] == "integer"
    assert CLOCK.method(5).parameter.accepts(preset(EPOCH_2024, EPOCH_2024, EPOCH_2024))
