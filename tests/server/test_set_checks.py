"""Every write path checks the value against the attribute's declared type and range.

SET-Request-Normal, -With-List, SET block transfer, SN Write and a script's write_attribute
all refuse a value of the wrong type with type-unmatched and one the standard does not allow
with other-reason, and store nothing; afterwards every attribute still reads.
"""

from __future__ import annotations

import pytest

from simulator.apdu.common import (
    CosemAttributeDescriptor, CosemAttributeDescriptorWithSelection, DataAccessResult, DataBlockSA,
)
from simulator.apdu.set import (
    SetRequestWithFirstDatablock, SetRequestWithList, SetResponseLastDatablock, SetResponseWithList,
)
from simulator.apdu.sn import VariableName
from simulator.axdr import CosemDateTime, Data, DataType, encode_data

from .support import CLOCK_LN, INVOKE, REGISTER_LN, REGISTER_VALUE, SCALER_UNIT, Meter
from .test_set import set_, value_of
from .test_sn import CLOCK as CLOCK_SN, REGISTER as REGISTER_SN, meter as sn_meter, read as sn_read, write as sn_write

ZONE = Data(DataType.LONG, -60)  # the test meter's time_zone


def long(v: int) -> Data:
    return Data(DataType.LONG, v)


def date_time(raw: str) -> Data:
    return Data(DataType.OCTET_STRING, bytes.fromhex(raw))


def unit(u: int) -> Data:
    return Data(DataType.STRUCTURE, (Data(DataType.INTEGER, 0), Data(DataType.ENUM, u)))


@pytest.fixture
def meter() -> Meter:
    m = Meter()
    m.associate(client=2)
    return m


def readable(m: Meter) -> None:
    """Every attribute of the clock and the register reads (the issue: the clock answered other-reason)."""
    for class_id, ln, count in ((8, CLOCK_LN, 9), (3, REGISTER_LN, 3)):
        for attribute in range(1, count + 1):
            assert isinstance(value_of(m, class_id, ln, attribute), Data), (ln, attribute)


@pytest.mark.parametrize("class_id, ln, attribute, value, expected", [
    (8, CLOCK_LN, 3, long(9999), DataAccessResult.OTHER_REASON),  # the case
    (8, CLOCK_LN, 3, long(-721), DataAccessResult.OTHER_REASON),
    (8, CLOCK_LN, 3, long(841), DataAccessResult.OTHER_REASON),
    (8, CLOCK_LN, 7, Data(DataType.INTEGER, 121), DataAccessResult.OTHER_REASON),  # DST deviation -120..120
    (8, CLOCK_LN, 9, Data(DataType.ENUM, 6), DataAccessResult.OTHER_REASON),  # clock_base 0..5
    (8, CLOCK_LN, 5, date_time("FFFF0D01FF020000FF800000"), DataAccessResult.OTHER_REASON),  # month 13
    (8, CLOCK_LN, 2, date_time("07E8010101180000FF800000"), DataAccessResult.OTHER_REASON),  # hour 24
    (8, CLOCK_LN, 2, date_time("07E80101010C0000FF138800"), DataAccessResult.OTHER_REASON),  # deviation 5000
    (8, CLOCK_LN, 2, date_time("0001010101000000FF000000"), DataAccessResult.OTHER_REASON),  # year 1
    (8, CLOCK_LN, 2, Data(DataType.OCTET_STRING, bytes(11)), DataAccessResult.TYPE_UNMATCHED),
    (3, REGISTER_LN, 3, unit(0), DataAccessResult.OTHER_REASON),  # no unit 0
    (3, REGISTER_LN, 3, unit(100), DataAccessResult.OTHER_REASON),  # a gap in the unit table
    (3, REGISTER_LN, 2, Data(DataType.OCTET_STRING, b"\x01"), DataAccessResult.TYPE_UNMATCHED),  # keeps its type
    (3, REGISTER_LN, 2, Data(DataType.DOUBLE_LONG, 5), DataAccessResult.TYPE_UNMATCHED),
])
def test_set_normal_refuses_and_stores_nothing(meter: Meter, class_id: int, ln: object, attribute: int, value: Data,
                                               expected: DataAccessResult) -> None:
    before = value_of(meter, class_id, ln, attribute) if attribute != 2 or class_id != 8 else None
    assert set_(meter, class_id, ln, attribute, value) == expected
    if before is not None:
        assert value_of(meter, class_id, ln, attribute) == before
    readable(meter)


@pytest.mark.parametrize("class_id, ln, attribute, value", [
    (8, CLOCK_LN, 3, long(-720)), (8, CLOCK_LN, 3, long(840)), (8, CLOCK_LN, 3, long(-0x8000)),  # 0x8000: unspecified
    (8, CLOCK_LN, 5, date_time("FFFF03FEFF020000FF800000")),  # last day of March, wildcards
    (8, CLOCK_LN, 2, date_time("07E8060F06173B3B63FF8800")),  # 2024-06-15 23:59:59.99, deviation -120
    (3, REGISTER_LN, 3, unit(27)), (3, REGISTER_LN, 3, unit(255)), (3, REGISTER_LN, 3, unit(150)),
    (3, REGISTER_LN, 2, Data(DataType.DOUBLE_LONG_UNSIGNED, 5)),
])
def test_set_normal_accepts_what_the_standard_allows(meter: Meter, class_id: int, ln: object, attribute: int,
                                                     value: Data) -> None:
    assert set_(meter, class_id, ln, attribute, value) == DataAccessResult.SUCCESS
    if attribute != 2 or class_id != 8:
        assert value_of(meter, class_id, ln, attribute) == value
    readable(meter)


def test_time_zone_and_dst_deviation_are_checked_together(meter: Meter) -> None:
    """Standard time UTC-14 is allowed, but not summer time one more hour away: a date-time
    cannot carry that deviation, so the clock could not be read."""
    assert set_(meter, 8, CLOCK_LN, 7, Data(DataType.INTEGER, -60)) == DataAccessResult.SUCCESS
    assert set_(meter, 8, CLOCK_LN, 3, long(840)) == DataAccessResult.OTHER_REASON
    assert set_(meter, 8, CLOCK_LN, 3, long(780)) == DataAccessResult.SUCCESS
    assert set_(meter, 8, CLOCK_LN, 7, Data(DataType.INTEGER, -120)) == DataAccessResult.OTHER_REASON
    assert value_of(meter, 8, CLOCK_LN, 7) == Data(DataType.INTEGER, -60)
    readable(meter)


def test_clock_time_with_an_unspecified_time_zone_reads(meter: Meter) -> None:
    assert set_(meter, 8, CLOCK_LN, 3, long(-0x8000)) == DataAccessResult.SUCCESS
    time = value_of(meter, 8, CLOCK_LN, 2)
    assert isinstance(time, Data) and CosemDateTime.from_bytes(time.value).deviation == 0  # the meter's own offset


def test_set_with_list_checks_each_value(meter: Meter) -> None:
    items = tuple(CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(c, ln, a))
                  for c, ln, a in [(8, CLOCK_LN, 3), (3, REGISTER_LN, 3), (3, REGISTER_LN, 2)])
    values = (long(9999), unit(30), Data(DataType.VISIBLE_STRING, "x"))
    answer = meter.send(SetRequestWithList(INVOKE, items, values).to_bytes(), 2)
    assert SetResponseWithList.from_bytes(answer or b"").results == (
        DataAccessResult.OTHER_REASON, DataAccessResult.SUCCESS, DataAccessResult.TYPE_UNMATCHED)
    assert value_of(meter, 8, CLOCK_LN, 3) == ZONE
    assert value_of(meter, 3, REGISTER_LN, 3) == unit(30)
    assert value_of(meter, 3, REGISTER_LN, 2) == REGISTER_VALUE


def test_set_block_transfer_checks_the_gathered_value(meter: Meter) -> None:
    d = CosemAttributeDescriptor(8, CLOCK_LN, 3)
    block = DataBlockSA(True, 1, encode_data(long(9999)))
    answer = meter.send(SetRequestWithFirstDatablock(INVOKE, d, None, block).to_bytes(), 2)
    assert SetResponseLastDatablock.from_bytes(answer or b"").result == DataAccessResult.OTHER_REASON
    assert value_of(meter, 8, CLOCK_LN, 3) == ZONE
    readable(meter)


def test_sn_write_checks_type_and_range() -> None:
    m = sn_meter()
    zone, scaler_unit = VariableName(CLOCK_SN + 0x10), VariableName(REGISTER_SN + 0x10)
    assert sn_write(m, (zone, scaler_unit), (long(9999), Data(DataType.LONG, 1))) == (
        DataAccessResult.OTHER_REASON, DataAccessResult.TYPE_UNMATCHED)
    assert sn_read(m, zone, scaler_unit) == (ZONE, SCALER_UNIT)
    assert isinstance(sn_read(m, VariableName(CLOCK_SN + 0x08))[0], Data)
