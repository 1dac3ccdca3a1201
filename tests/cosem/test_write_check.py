"""The write check every write passes (simulator/cosem/write_check.py): type, range, the class's
own check; here on the objects directly and through a script's write_attribute."""

from __future__ import annotations

import pytest

from simulator.apdu.common import ActionResult, DataAccessResult
from simulator.axdr import CosemDateTime, Data, DataType
from simulator.cosem.base import AccessFailure, ActionFailure
from simulator.cosem.types import DATE, DATE_TIME, SCALER_UNIT, TIME, date_time_fault
from simulator.cosem.write_check import same_shape

from .meter_fixture import TestMeter
from .test_schedule import SCRIPTS_LN, action, array, script, struct, u16

CLOCK_LN, COUNTER_LN, REGISTER_LN, LIMITER_LN = "0.0.1.0.0.255", "0.0.43.1.1.255", "1.0.1.8.0.255", "0.0.17.0.0.255"


def long(v: int) -> Data:
    return Data(DataType.LONG, v)


def octets(hex_text: str) -> Data:
    return Data(DataType.OCTET_STRING, bytes.fromhex(hex_text))


def u32(v: int) -> Data:
    return Data(DataType.DOUBLE_LONG_UNSIGNED, v)


def meter() -> TestMeter:
    return TestMeter([
        (8, CLOCK_LN, {3: long(-60)}),
        (1, COUNTER_LN, {2: u32(7)}),
        (3, REGISTER_LN, {2: u32(1), 3: struct(Data(DataType.INTEGER, 0), Data(DataType.ENUM, 30))}),
        (71, LIMITER_LN, {3: Data(DataType.DOUBLE_LONG, 100), 4: Data(DataType.DOUBLE_LONG, 100)}),
        (9, SCRIPTS_LN, {2: array(script(1, action(1, 8, CLOCK_LN, 3, long(9999))),
                                  script(2, action(1, 8, CLOCK_LN, 3, long(-120))))}),
    ])


def refused(m: TestMeter, ln: str, attribute: int, value: Data) -> DataAccessResult:
    before = m.obj(ln).get(attribute)
    with pytest.raises(AccessFailure) as exc:
        m.obj(ln).write(attribute, value)
    assert m.obj(ln).get(attribute) == before
    return exc.value.result


def test_a_script_writes_through_the_same_check() -> None:
    m = meter()
    with pytest.raises(ActionFailure) as exc:
        m.obj(SCRIPTS_LN).invoke(1, u16(1))
    assert exc.value.result == ActionResult.OTHER_REASON
    assert m.obj(CLOCK_LN).get(3) == long(-60)
    m.obj(SCRIPTS_LN).invoke(1, u16(2))
    assert m.obj(CLOCK_LN).get(3) == long(-120)


def test_limiter_thresholds_keep_their_type() -> None:
    m = meter()
    assert refused(m, LIMITER_LN, 4, octets("0102")) == DataAccessResult.TYPE_UNMATCHED  # the case
    assert refused(m, LIMITER_LN, 3, u32(5)) == DataAccessResult.TYPE_UNMATCHED
    m.obj(LIMITER_LN).write(4, Data(DataType.DOUBLE_LONG, -5))
    assert m.obj(LIMITER_LN).get(4) == Data(DataType.DOUBLE_LONG, -5)


def test_the_published_invocation_counter_refuses_every_write() -> None:
    """Even with a right to write it (a model that forgot to make it read-only), the meter keeps it."""
    m = meter()
    for value in (u32(0), u32(8), octets("00")):
        assert refused(m, COUNTER_LN, 2, value) == DataAccessResult.READ_WRITE_DENIED


def test_an_empty_attribute_takes_any_type_then_keeps_it() -> None:
    m = meter()
    m.obj(REGISTER_LN).set(2, Data(DataType.NULL_DATA))
    m.obj(REGISTER_LN).write(2, Data(DataType.LONG64, 3))
    assert refused(m, REGISTER_LN, 2, u32(3)) == DataAccessResult.TYPE_UNMATCHED


def test_same_shape() -> None:
    s = lambda *f: Data(DataType.STRUCTURE, f)  # noqa: E731
    a = lambda *e: Data(DataType.ARRAY, e)  # noqa: E731
    assert same_shape(s(u32(1), long(2)), s(u32(9), long(9)))
    assert not same_shape(s(u32(1)), s(u32(9), long(9)))
    assert not same_shape(s(u32(1), u32(2)), s(u32(9), long(9)))
    assert same_shape(a(u32(1), u32(2)), a(u32(9))) and same_shape(a(), a(u32(9)))
    assert not same_shape(a(u32(1), long(2)), a())  # an array's elements share one type
    assert same_shape(octets("01"), Data(DataType.NULL_DATA))


@pytest.mark.parametrize("spec, raw, why", [
    (DATE_TIME, "07E8010101000000FF800000", None),
    (DATE_TIME, "FFFFFDFEFFFFFFFFFFFF8000", None),  # all wildcards, DST-end month, last day
    (DATE_TIME, "07E8000101000000FF800000", "month 0"),
    (DATE_TIME, "07E8012001000000FF800000", "day of month 32"),
    (DATE_TIME, "07E8010108000000FF800000", "day of week 8"),
    (DATE_TIME, "07E8010101003C0000800000", "minute 60"),
    (DATE_TIME, "07E801010100000064800000", "hundredths 100"),
    (DATE_TIME, "07E8010101000000FFFCBF00", None),  # deviation -833: UTC+13:53 is within -840..840
    (DATE_TIME, "07E8010101000000FFFCB000", "deviation -848"),
    (DATE, "07E8020FFF", None), (DATE, "07E8021EFF", None), (DATE, "07E80D01FF", "month 13"),
    (TIME, "173B3B63", None), (TIME, "18000000", "hour 24"),
])
def test_date_and_time_validity(spec: object, raw: str, why: str | None) -> None:
    value = octets(raw)
    found = spec.fault(value)  # type: ignore[attr-defined]
    assert (found is None) if why is None else (found is not None and found.startswith(why)), found


def test_tagged_date_time_values_are_checked_too() -> None:
    assert date_time_fault(Data(DataType.DATE_TIME, CosemDateTime(2024, 13, 1))) is not None
    assert date_time_fault(Data(DataType.DATE_TIME, CosemDateTime(2024, 12, 1))) is None


@pytest.mark.parametrize("unit, allowed", [(0, False), (1, True), (72, True), (73, False), (127, False),
                                           (128, True), (174, True), (175, False), (253, True), (255, True)])
def test_units(unit: int, allowed: bool) -> None:
    value = struct(Data(DataType.INTEGER, -3), Data(DataType.ENUM, unit))
    assert SCALER_UNIT.accepts(value) and (SCALER_UNIT.fault(value) is None) == allowed
