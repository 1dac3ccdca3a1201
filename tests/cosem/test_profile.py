"""Profile generic (7): capture, ordering, reset, restructuring, selective access, public vectors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.state import ProfileRows
from simulator.apdu.common import DataAccessResult
from simulator.apdu.get import GetRequestNormal
from simulator.axdr import CompactArray, CosemDateTime, Data, DataType, Obis, TypeDescription, encode_data
from simulator.cosem.base import AccessFailure
from simulator.cosem.profile import (
    DEFAULT_PROFILE_ENTRIES, PROFILE_GENERIC, CaptureObject, SortMethod, capture_objects,
    parse_entry_descriptor, row_source,
)
from simulator.cosem.registry import get_class
from simulator.errors import DecodeError
from tests.apdu.test_get import GET_RANGE_2018, GET_RANGE_ALL_COLUMNS, GET_RANGE_TWO_COLUMNS
from tests.cosem.meter_fixture import TestMeter
from tests.strategies import data_values

# --------------------------------------------------------------------------- public vectors

# The three range_descriptor GET requests (dlms-cosem, gosem) live with their sources in tests/apdu/test_get.py.
# source: https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_parsers.py
# (4 hourly entries; entries 2..4 carry null-data in the clock column)
BUFFER_NULL_COMPRESSED = bytes.fromhex(
    "01040204090C07E30C1F0217000000FFC400110606000005ED0600000654020400110606000005ED06000006"
    "54020400110606000005ED0600000654020400110606000005ED0600000654")

PROFILE = "1.0.99.1.0.255"
CLOCK = "0.0.1.0.0.255"
TIME = "0.0.96.1.10.255"      # a Data object holding the capture time (class behaviour tests)
STATUS = "0.0.96.10.7.255"
ENERGY = "1.0.1.8.0.255"
POWER = "1.0.2.7.0.255"


# --------------------------------------------------------------------------- helpers

def u8(v: int) -> Data:
    return Data(DataType.UNSIGNED, v)


def u16(v: int) -> Data:
    return Data(DataType.LONG_UNSIGNED, v)


def u32(v: int) -> Data:
    return Data(DataType.DOUBLE_LONG_UNSIGNED, v)


def i16(v: int) -> Data:
    return Data(DataType.LONG, v)


def enum(v: int) -> Data:
    return Data(DataType.ENUM, v)


def struct(*items: Data) -> Data:
    return Data(DataType.STRUCTURE, items)


def array(*items: Data) -> Data:
    return Data(DataType.ARRAY, items)


def dt(y: int, mo: int, d: int, h: int = 0, mi: int = 0, dev: int | None = -60, status: int = 0) -> Data:
    """A date-time octet-string; dev is minutes of UTC - local (-60: UTC+01:00)."""
    tz = timezone(timedelta(minutes=-(dev or 0)))
    v = CosemDateTime.from_datetime(datetime(y, mo, d, h, mi, tzinfo=tz), status)
    if dev is None:
        v = CosemDateTime(v.year, v.month, v.day, v.day_of_week, v.hour, v.minute, v.second, v.hundredths,
                          None, status)
    return Data(DataType.OCTET_STRING, v.to_bytes())


def raw_dt(hex_text: str) -> Data:
    return Data(DataType.OCTET_STRING, bytes.fromhex(hex_text))


def col(class_id: int, ln: str, attr: int = 2, index: int = 0) -> Data:
    return CaptureObject(class_id, bytes(Obis(ln)), attr, index).to_data()


def ranged(restricting: Data, low: Data, high: Data, *selected: Data) -> Data:
    return struct(restricting, low, high, array(*selected))


def entries(first: int, last: int, first_col: int = 1, last_col: int = 0) -> Data:
    return struct(u32(first), u32(last), u16(first_col), u16(last_col))


COLUMNS = (col(1, TIME), col(3, ENERGY), col(3, POWER))


def meter(**profile: Data) -> TestMeter:
    """A profile of (time, energy, power) columns and the three objects it captures."""
    values = {3: array(*COLUMNS), 8: u32(3)}
    values.update({int(k[1:]): v for k, v in profile.items()})
    return TestMeter([
        (1, TIME, {2: dt(2024, 1, 1)}),
        (3, ENERGY, {2: u32(0), 3: struct(Data(DataType.INTEGER, 0), enum(30))}),
        (3, POWER, {2: i16(0), 3: struct(Data(DataType.INTEGER, 0), enum(27))}),
        (7, PROFILE, values),
    ])


def capture(m: TestMeter, when: Data, energy: int, power: int = 0) -> None:
    m.obj(TIME).set(2, when)
    m.obj(ENERGY).set(2, u32(energy))
    m.obj(POWER).set(2, i16(power))
    assert m.obj(PROFILE).invoke(2, Data(DataType.INTEGER, 0)) is None


def buffer(m: TestMeter) -> list[tuple]:
    return [tuple(c.value for c in row.value) for row in m.obj(PROFILE).get(2).value]


def select(m: TestMeter, selector: int, params: Data) -> list[tuple]:
    got = PROFILE_GENERIC.attribute(2).selective(m.obj(PROFILE), selector, params)
    assert got.type == DataType.ARRAY
    return [tuple(c.value for c in row.value) for row in got.value]


def refused(m: TestMeter, selector: int, params: Data) -> None:
    with pytest.raises(AccessFailure) as err:
        PROFILE_GENERIC.attribute(2).selective(m.obj(PROFILE), selector, params)
    assert err.value.result == DataAccessResult.OTHER_REASON


def quarter_hours(m: TestMeter, n: int, start: datetime = datetime(2024, 1, 1)) -> None:
    for i in range(n):
        t = start + timedelta(minutes=15 * i)
        capture(m, dt(t.year, t.month, t.day, t.hour, t.minute), 100 + i, i - 2)


# --------------------------------------------------------------------------- declaration

def test_declaration_follows_the_blue_book() -> None:
    cls = get_class(7)
    assert cls is PROFILE_GENERIC and cls.key == (7, 1)
    assert [(a.index, a.name, a.dynamic) for a in cls.attributes] == [
        (1, "logical_name", False), (2, "buffer", True), (3, "capture_objects", False),
        (4, "capture_period", False), (5, "sort_method", False), (6, "sort_object", False),
        (7, "entries_in_use", True), (8, "profile_entries", False)]
    assert [(m.index, m.name) for m in cls.methods] == [(1, "reset"), (2, "capture")]
    assert cls.attribute(2).selectors == (1, 2)
    assert cls.sn_method_offset == 0x58
    assert cls.attribute(3).type.accepts(array(*COLUMNS))
    assert cls.attribute(5).type.fault(enum(6)) is None and cls.attribute(5).type.fault(enum(7)) is not None


def test_defaults_of_an_empty_profile() -> None:
    m = TestMeter([(7, PROFILE, {})])
    p = m.obj(PROFILE)
    assert p.get(2) == array()
    assert p.get(3) == array()
    assert p.get(4) == u32(0)
    assert p.get(5) == enum(SortMethod.FIFO)
    assert p.get(7) == u32(0)
    assert p.get(8) == u32(DEFAULT_PROFILE_ENTRIES)
    assert capture_objects(p) == ()
    assert p.effect(ProfileRows) is None  # reading creates no per-meter buffer


# --------------------------------------------------------------------------- capture

def test_capture_reads_each_capture_object() -> None:
    m = meter()
    capture(m, dt(2024, 1, 1, 0, 15), 1234, -5)
    capture(m, dt(2024, 1, 1, 0, 30), 1240, 7)
    assert buffer(m) == [(dt(2024, 1, 1, 0, 15).value, 1234, -5), (dt(2024, 1, 1, 0, 30).value, 1240, 7)]
    assert m.obj(PROFILE).get(7) == u32(2)
    row = m.obj(PROFILE).get(2).value[0]
    assert [c.type for c in row.value] == [DataType.OCTET_STRING, DataType.DOUBLE_LONG_UNSIGNED, DataType.LONG]


def test_capture_data_index_selects_an_element() -> None:
    m = meter(a3=array(col(3, ENERGY, 3, 2), col(3, ENERGY, 3, 1), col(3, ENERGY, 3, 0), col(3, ENERGY, 3, 9)))
    m.obj(PROFILE).invoke(2, Data(DataType.INTEGER, 0))
    (row,) = m.obj(PROFILE).get(2).value
    assert row.value == (enum(30), Data(DataType.INTEGER, 0),
                         struct(Data(DataType.INTEGER, 0), enum(30)), Data(DataType.NULL_DATA))


def test_capture_of_missing_objects_and_attributes_leaves_null() -> None:
    m = meter(a3=array(col(3, "1.0.3.8.0.255"), col(1, ENERGY), col(3, ENERGY, 9), col(3, ENERGY)))
    m.obj(ENERGY).set(2, u32(5))
    m.obj(PROFILE).invoke(2, Data(DataType.INTEGER, 0))
    null = Data(DataType.NULL_DATA)
    assert m.obj(PROFILE).get(2).value[0].value == (null, null, null, u32(5))


def test_fifo_drops_the_oldest_when_full() -> None:
    m = meter()
    quarter_hours(m, 5)
    assert [r[1] for r in buffer(m)] == [102, 103, 104]
    assert m.obj(PROFILE).get(7) == u32(3)


def test_lifo_keeps_newest_first() -> None:
    m = meter(a5=enum(SortMethod.LIFO))
    quarter_hours(m, 5)
    assert [r[1] for r in buffer(m)] == [104, 103, 102]


@pytest.mark.parametrize(("method", "expected"), [
    (SortMethod.LARGEST, [9, 5, 2]),
    (SortMethod.SMALLEST, [-7, -1, 2]),
    (SortMethod.NEAREST_TO_ZERO, [-1, 2, 5]),
    (SortMethod.FARTHEST_FROM_ZERO, [9, -7, 5]),
])
def test_sorted_profiles_keep_the_most_significant(method: int, expected: list[int]) -> None:
    m = meter(a5=enum(method), a6=col(3, POWER))
    for i, power in enumerate([5, -7, 2, 9, -1]):
        capture(m, dt(2024, 1, 1, i), i, power)
    assert [r[2] for r in buffer(m)] == expected


def test_sort_by_date_time_largest_is_newest_first() -> None:
    m = meter(a5=enum(SortMethod.LARGEST), a6=col(1, TIME))
    for h in (3, 1, 4, 0, 2):
        capture(m, dt(2024, 1, 1, h), h)
    assert [r[1] for r in buffer(m)] == [4, 3, 2]


def test_sort_ties_and_unsortable_values() -> None:
    m = meter(a5=enum(SortMethod.SMALLEST), a6=col(1, TIME), a8=u32(10))
    capture(m, Data(DataType.VISIBLE_STRING, "x"), 1)  # not a number: least significant
    capture(m, dt(2024, 1, 1, 5), 2)
    capture(m, dt(2024, 1, 1, 5), 3)                     # tie: after the equal one
    capture(m, dt(2024, 1, 1, 4), 4)
    assert [r[1] for r in buffer(m)] == [4, 2, 3, 1]


def test_sort_object_outside_capture_objects_orders_as_fifo() -> None:
    m = meter(a5=enum(SortMethod.LARGEST), a6=col(3, "1.0.3.8.0.255"))
    for i, power in enumerate([5, -7, 2, 9]):
        capture(m, dt(2024, 1, 1, i), i, power)
    assert [r[2] for r in buffer(m)] == [-7, 2, 9]


def test_zero_profile_entries_keeps_nothing() -> None:
    m = meter(a8=u32(0))
    quarter_hours(m, 2)
    assert buffer(m) == []


def test_reset_clears_the_buffer() -> None:
    m = meter()
    quarter_hours(m, 2)
    assert m.obj(PROFILE).invoke(1, Data(DataType.INTEGER, 0)) is None
    assert buffer(m) == [] and m.obj(PROFILE).get(7) == u32(0)
    quarter_hours(m, 1)
    assert len(buffer(m)) == 1


@pytest.mark.parametrize(("index", "value"), [
    (3, array(col(3, ENERGY))), (4, u32(900)), (5, enum(SortMethod.LIFO)), (6, col(3, ENERGY)), (8, u32(10)),
])
def test_restructuring_clears_the_buffer(index: int, value: Data) -> None:
    m = meter()
    quarter_hours(m, 2)
    m.obj(PROFILE).write(index, value)
    assert m.obj(PROFILE).get(index) == value
    assert buffer(m) == []


def test_model_rows_are_the_initial_buffer_and_stay_shared() -> None:
    declared = array(struct(dt(2023, 12, 31, 23, 45), u32(1), i16(0)))
    m = meter(a2=declared)
    assert m.obj(PROFILE).get(2) == declared
    assert m.obj(PROFILE).get(7) == u32(1)
    assert m.obj(PROFILE).effect(ProfileRows) is None
    quarter_hours(m, 1)
    assert [r[1] for r in buffer(m)] == [1, 100]
    assert m.device.objects[3].values[1] == declared  # the shared model is untouched
    m.obj(PROFILE).invoke(1, Data(DataType.INTEGER, 0))
    assert buffer(m) == []


def test_compact_array_values_and_declared_buffers() -> None:
    desc = TypeDescription(DataType.STRUCTURE, (TypeDescription(DataType.DOUBLE_LONG_UNSIGNED),
                                                TypeDescription(DataType.LONG)))
    rows = (struct(u32(1), i16(-1)), struct(u32(2), i16(-2)))
    compact = Data(DataType.COMPACT_ARRAY, CompactArray(desc, rows))
    m = TestMeter([(1, TIME, {2: compact}),
                   (7, PROFILE, {2: compact, 3: array(col(1, TIME, 2, 2), col(1, TIME, 2, 3))})])
    p = m.obj(PROFILE)
    assert p.get(2) == array(*rows) and p.get(7) == u32(2)
    p.invoke(2, Data(DataType.INTEGER, 0))
    assert p.get(2).value[2] == struct(rows[1], Data(DataType.NULL_DATA))


def test_malformed_capture_objects_give_no_columns() -> None:
    m = TestMeter([(7, PROFILE, {3: u32(1)})])
    assert capture_objects(m.obj(PROFILE)) == ()
    m = TestMeter([(7, PROFILE, {3: array(u32(1), col(3, ENERGY), struct(u16(3), u16(3), u16(3), u16(3)))})])
    assert capture_objects(m.obj(PROFILE)) == (CaptureObject(3, bytes(Obis(ENERGY)), 2, 0),)


def test_rows_that_are_not_structures_have_no_cells() -> None:
    m = meter(a2=array(u32(7), struct(dt(2024, 1, 1), u32(1), i16(0))), a5=enum(SortMethod.LARGEST),
              a6=col(3, ENERGY), a8=u32(5))
    assert select(m, 2, entries(1, 0, 2, 2)) == [(None,), (1,)]
    assert select(m, 1, ranged(col(3, ENERGY), u32(0), u32(9))) == [(dt(2024, 1, 1).value, 1, 0)]
    quarter_hours(m, 1)
    assert m.obj(PROFILE).get(7) == u32(3)


def test_row_source_is_the_only_path_to_rows() -> None:
    m = meter()
    quarter_hours(m, 3)
    p = m.obj(PROFILE)
    source = row_source(p)
    assert source.count(p) == 3
    assert [r.value[1].value for r in source.entries(p, 1, None)] == [101, 102]
    assert tuple(source.rows(p)) == p.get(2).value


# --------------------------------------------------------------------------- range_descriptor

def day_meter(n: int = 8) -> TestMeter:
    m = meter(a8=u32(100))
    quarter_hours(m, n)  # 00:00 .. 01:45 local (UTC+1), energy 100.., power -2..
    return m


def test_range_on_time_is_inclusive() -> None:
    m = day_meter()
    rows = select(m, 1, ranged(col(1, TIME), dt(2024, 1, 1, 0, 30), dt(2024, 1, 1, 1, 0)))
    assert [r[1] for r in rows] == [102, 103, 104]


def test_range_selected_values_choose_and_order_columns() -> None:
    m = day_meter()
    rows = select(m, 1, ranged(col(1, TIME), dt(2024, 1, 1, 0, 30), dt(2024, 1, 1, 0, 45),
                               col(3, POWER), col(1, TIME)))
    assert rows == [(0, dt(2024, 1, 1, 0, 30).value), (1, dt(2024, 1, 1, 0, 45).value)]


def test_range_on_a_number_column() -> None:
    m = day_meter()
    assert [r[1] for r in select(m, 1, ranged(col(3, POWER), i16(-1), i16(1)))] == [101, 102, 103]
    # any numeric type bounds any numeric column
    assert [r[1] for r in select(m, 1, ranged(col(3, ENERGY), u8(106), u32(1000)), )] == [106, 107]
    assert select(m, 1, ranged(col(3, ENERGY), u32(5), u32(4))) == []


def test_range_compares_instants_across_deviations() -> None:
    m = day_meter()
    # 00:00..00:30 UTC is 01:00..01:30 in the meter's UTC+01:00
    rows = select(m, 1, ranged(col(1, TIME), dt(2024, 1, 1, 0, 0, dev=0), dt(2024, 1, 1, 0, 30, dev=0)))
    assert [r[1] for r in rows] == [104, 105, 106]


def test_range_bound_without_deviation_is_local_time() -> None:
    m = day_meter()
    rows = select(m, 1, ranged(col(1, TIME), dt(2024, 1, 1, 0, 0, dev=None), dt(2024, 1, 1, 0, 15, dev=None)))
    assert [r[1] for r in rows] == [100, 101]


def test_range_not_specified_fields_widen_the_bounds() -> None:
    m = day_meter()
    # 2024-01-01 01:** .. 2024-01-01 01:**: the whole hour
    low = raw_dt("07E8010101" + "01FFFFFF" + "FFC400")
    high = raw_dt("07E80101FF" + "01FFFFFF" + "FFC400")
    assert [r[1] for r in select(m, 1, ranged(col(1, TIME), low, high))] == [104, 105, 106, 107]
    # year not specified: unbounded on that side; day 0xFE: the last day of the month
    open_low = raw_dt("FFFFFFFFFFFFFFFFFF800000")
    end_of_january = raw_dt("07E801FEFF17FFFFFF800000")
    assert len(select(m, 1, ranged(col(1, TIME), open_low, end_of_january))) == 8
    before = raw_dt("07E70CFDFF17FFFFFF800000")  # 2023-12-30 (second-last day) 23:59:59.99
    assert select(m, 1, ranged(col(1, TIME), open_low, before)) == []


def test_range_accepts_the_date_time_type_and_skips_rows_of_other_kinds() -> None:
    m = day_meter(4)
    capture(m, Data(DataType.NULL_DATA), 999)
    capture(m, raw_dt("07E8010101FFFFFFFF800000"), 998)  # time not specified: cannot be placed
    low = Data(DataType.DATE_TIME, CosemDateTime(2024, 1, 1, None, 0, 15, 0, 0, -60, 0))
    high = Data(DataType.DATE_TIME, CosemDateTime(2024, 1, 1, None, 23, 0, 0, 0, -60, 0))
    assert [r[1] for r in select(m, 1, ranged(col(1, TIME), low, high))] == [101, 102, 103]
    assert [r[1] for r in select(m, 1, ranged(col(3, ENERGY), u32(990), u32(999)))] == [999, 998]


def test_range_on_strings_compares_values() -> None:
    m = meter(a3=array(col(1, TIME)), a8=u32(10))
    for s in ("b", "a", "c"):
        m.obj(TIME).set(2, Data(DataType.VISIBLE_STRING, s))
        m.obj(PROFILE).invoke(2, Data(DataType.INTEGER, 0))
    vs = Data(DataType.VISIBLE_STRING, "b"), Data(DataType.VISIBLE_STRING, "z")
    assert select(m, 1, ranged(col(1, TIME), *vs)) == [("b",), ("c",)]


@pytest.mark.parametrize("params", [
    u32(1),
    struct(col(1, TIME), dt(2024, 1, 1), dt(2024, 1, 2)),
    ranged(col(3, "1.0.3.8.0.255"), u32(0), u32(1)),                        # not a capture object
    ranged(col(3, ENERGY, 2, 1), u32(0), u32(1)),                            # data_index differs
    ranged(struct(u16(3), Data(DataType.OCTET_STRING, b"\x01"), u8(2), u16(0)), u32(0), u32(1)),
    ranged(col(3, ENERGY), u32(0), u32(1), col(3, "1.0.3.8.0.255")),        # selected value unknown
    ranged(col(3, ENERGY), u32(0), u32(1), u32(7)),                          # selected value malformed
    struct(col(3, ENERGY), u32(0), u32(1), u32(0)),                          # selected_values not array
    ranged(col(1, TIME), dt(2024, 1, 1), u32(1)),                            # kinds differ
    ranged(col(1, TIME), raw_dt("07E8023000000000FF800000"), dt(2024, 3, 1)),  # 30 February
    ranged(col(1, TIME), raw_dt("07E8000100000000FF800000"), dt(2024, 3, 1)),  # month 0
    ranged(col(3, ENERGY), struct(), struct()),                              # no order
    ranged(col(3, ENERGY), Data(DataType.FLOAT64, float("nan")), u32(1)),
])
def test_range_refusals(params: Data) -> None:
    refused(day_meter(2), 1, params)


# --------------------------------------------------------------------------- entry_descriptor

def test_entries_are_one_based_and_inclusive() -> None:
    m = day_meter()
    assert [r[1] for r in select(m, 2, entries(2, 4))] == [101, 102, 103]
    assert [r[1] for r in select(m, 2, entries(7, 0))] == [106, 107]        # 0: to the last
    assert [r[1] for r in select(m, 2, entries(0, 1))] == [100]             # 0 reads as 1
    assert [r[1] for r in select(m, 2, entries(6, 99))] == [105, 106, 107]  # clipped
    assert select(m, 2, entries(9, 0)) == []                                # past the end


def test_entry_columns() -> None:
    m = day_meter(3)
    assert select(m, 2, entries(1, 2, 2, 3)) == [(100, -2), (101, -1)]
    assert select(m, 2, entries(3, 3, 3, 0)) == [(0,)]
    assert select(m, 2, entries(1, 1, 1, 1)) == [(dt(2024, 1, 1).value,)]
    assert len(select(m, 2, entries(1, 1, 0, 0))[0]) == 3


def test_entries_of_a_lifo_profile_count_from_the_newest() -> None:
    m = meter(a5=enum(SortMethod.LIFO), a8=u32(10))
    quarter_hours(m, 4)
    assert [r[1] for r in select(m, 2, entries(1, 2))] == [103, 102]


@pytest.mark.parametrize("params", [
    u32(1),
    struct(u32(1), u32(2), u16(1)),
    entries(3, 2),                                              # to before from
    entries(1, 0, 3, 2),                                        # columns reversed
    entries(1, 0, 1, 4),                                        # past the last column
    entries(1, 0, 4, 0),
    struct(u32(1), u32(2), u16(1), Data(DataType.VISIBLE_STRING, "0")),
    struct(Data(DataType.DOUBLE_LONG, -1), u32(0), u16(1), u16(0)),
])
def test_entry_refusals(params: Data) -> None:
    refused(day_meter(2), 2, params)


@pytest.mark.parametrize("selector", [0, 3, 255])
def test_unknown_selectors_are_refused(selector: int) -> None:
    refused(day_meter(2), selector, entries(1, 0))


def test_entry_descriptor_accepts_any_unsigned_width() -> None:
    sel = parse_entry_descriptor(struct(u8(2), Data(DataType.LONG64_UNSIGNED, 3), enum(1), u8(0)), 3)
    assert (sel.start, sel.stop, sel.columns) == (1, 3, None)


# --------------------------------------------------------------------------- the public vectors

VECTOR_COLUMNS = (col(8, CLOCK), col(1, STATUS), col(3, ENERGY))


def vector_meter(times: list[Data]) -> TestMeter:
    rows = array(*(struct(t, u8(0), u32(i)) for i, t in enumerate(times)))
    return TestMeter([(7, PROFILE, {2: rows, 3: array(*VECTOR_COLUMNS), 8: u32(1000)})])


def vector_request(apdu: bytes) -> tuple[int, Data]:
    req = GetRequestNormal.from_bytes(apdu)
    assert (req.descriptor.class_id, str(req.descriptor.instance_id), req.descriptor.attribute_id) == (7, PROFILE, 2)
    assert req.access is not None
    return req.access.selector, req.access.parameters


def test_vector_range_all_columns_dst_hour() -> None:
    selector, params = vector_request(GET_RANGE_ALL_COLUMNS)
    # quarter hours 2017-09-30 23:00 .. 2017-10-01 02:00, deviation -60, DST status as the vector
    start = datetime(2017, 9, 30, 23)
    times = [dt(t.year, t.month, t.day, t.hour, t.minute, status=0x80)
             for t in (start + timedelta(minutes=15 * i) for i in range(13))]
    m = vector_meter(times)
    rows = select(m, selector, params)
    assert [r[2] for r in rows] == [4, 5, 6, 7, 8]  # 00:00 .. 01:00 inclusive
    assert all(len(r) == 3 for r in rows)


def test_vector_range_a_year_without_deviation() -> None:
    selector, params = vector_request(GET_RANGE_2018)
    times = [dt(2018, 2, 11, 23, 45), dt(2018, 2, 12), dt(2018, 8, 1, 12), dt(2019, 2, 12),
             dt(2019, 2, 12, 0, 15)]
    assert [r[2] for r in select(vector_meter(times), selector, params)] == [1, 2, 3]


def test_vector_range_two_columns_in_utc() -> None:
    selector, params = vector_request(GET_RANGE_TWO_COLUMNS)
    # local UTC+01:00: 10:00 UTC is 11:00 local
    times = [dt(2020, 1, 1, 10, 45), dt(2020, 1, 1, 11), dt(2020, 1, 1, 11, 30), dt(2020, 1, 1, 12),
             dt(2020, 1, 1, 12, 15)]
    rows = select(vector_meter(times), selector, params)
    assert rows == [(times[i].value, 0) for i in (1, 2, 3)]


def test_vector_buffer_with_null_compression_is_served_as_declared() -> None:
    declared = Data.from_bytes(BUFFER_NULL_COMPRESSED)
    cols = array(col(8, CLOCK), col(1, "0.0.96.10.1.255"), col(3, ENERGY), col(3, "1.0.2.8.0.255"))
    m = TestMeter([(7, PROFILE, {2: declared, 3: cols, 4: u32(3600)})])
    p = m.obj(PROFILE)
    assert encode_data(p.get(2)) == BUFFER_NULL_COMPRESSED
    assert p.get(7) == u32(4)
    assert select(m, 2, entries(2, 3, 3, 4)) == [(0x5ED, 0x654), (0x5ED, 0x654)]
    first = raw_dt("07E30C1F0217000000FFC400")
    assert len(select(m, 1, ranged(col(8, CLOCK), first, first))) == 1   # nulls cannot be placed
    assert len(select(m, 1, ranged(col(3, ENERGY), u32(0), u32(2000)))) == 4


@pytest.mark.parametrize("apdu", [GET_RANGE_ALL_COLUMNS, GET_RANGE_2018, GET_RANGE_TWO_COLUMNS],
                         ids=["all-columns", "2018", "two-columns"])
def test_vector_parameters_flipped_or_cut_decode_or_are_refused(apdu: bytes) -> None:
    """Every single-bit flip and truncation of the parameters: DecodeError, Data or a refusal."""
    selector, params = vector_request(apdu)
    m = vector_meter([dt(2017, 10, 1), dt(2020, 1, 1, 11)])
    p = m.obj(PROFILE)
    raw = encode_data(params)
    damaged = [raw[:n] for n in range(len(raw))]
    damaged += [raw[:i] + bytes((raw[i] ^ (1 << b),)) + raw[i + 1:] for i in range(len(raw)) for b in range(8)]
    for data in damaged:
        try:
            value = Data.from_bytes(data)
        except DecodeError:
            continue
        try:
            assert PROFILE_GENERIC.attribute(2).selective(p, selector, value).type == DataType.ARRAY
        except AccessFailure as err:
            assert err.result == DataAccessResult.OTHER_REASON


# --------------------------------------------------------------------------- robustness and speed

@settings(max_examples=150, deadline=None)
@given(st.integers(0, 3), st.one_of(
    data_values(),
    st.lists(data_values(4), min_size=4, max_size=4).map(lambda xs: struct(*xs)),
    st.tuples(st.sampled_from(COLUMNS), data_values(2), data_values(2),
              st.lists(st.sampled_from(COLUMNS), max_size=3)).map(
        lambda t: ranged(t[0], t[1], t[2], *t[3])),
))
def test_any_parameters_give_rows_or_a_refusal(selector: int, params: Data) -> None:
    m = meter(a8=u32(10))
    quarter_hours(m, 3)
    capture(m, Data(DataType.NULL_DATA), 0)
    try:
        got = PROFILE_GENERIC.attribute(2).selective(m.obj(PROFILE), selector, params)
    except AccessFailure as err:
        assert err.result == DataAccessResult.OTHER_REASON
    else:
        assert got.type == DataType.ARRAY and all(r.type == DataType.STRUCTURE for r in got.value)


def year_of_quarter_hours() -> TestMeter:
    start = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    stamp = [CosemDateTime.from_datetime(start + timedelta(minutes=15 * i)).to_bytes() for i in range(35_040)]
    rows = tuple(struct(Data(DataType.OCTET_STRING, s), u8(0), u32(1000 + i), u32(i)) for i, s in enumerate(stamp))
    cols = array(col(8, CLOCK), col(1, STATUS), col(3, ENERGY), col(3, "1.0.2.8.0.255"))
    return TestMeter([(7, PROFILE, {2: Data(DataType.ARRAY, rows), 3: cols, 8: u32(35_040)})])


def test_a_year_of_rows_encodes_and_selects() -> None:
    """Correctness at full size; the speed of this lives in benchmarks/, not in a timed assertion."""
    m = year_of_quarter_hours()
    p = m.obj(PROFILE)
    raw = encode_data(p.get(2))
    assert raw[:4] == b"\x01\x82\x88\xE0"  # array of 35,040
    day = select(m, 1, ranged(col(8, CLOCK), dt(2024, 6, 1), dt(2024, 6, 1, 23, 45), col(3, ENERGY)))
    assert len(day) == 96 and day[0] == (1000 + 152 * 96,)
