"""A-XDR Data codec: public vectors, round trips, and total decoding of bad input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.axdr import (
    BitString, CompactArray, CosemDate, CosemDateTime, Data, DataType, Reader, TypeDescription,
    encode_data, encode_length,
)
from simulator.errors import DecodeError, EncodeError

# gosem pkg/axdr/axdr_test.go (github.com/gvtret/gosem @07323ece) TestDlmsData_DateTime
DATE_TIME_YEAR_9999 = "19270F0C1E04173B3B00000000"
# stepagrus.ru: special days table (IC 11) attribute 2 read from a meter
SPECIAL_DAYS = (
    "010B0203120001090507E20101FF11020203120002090507E20102FF11020203120003090507E20103FF1102"
    "0203120004090507E20114FF11010203120005090507E2020AFF11010203120006090507E20217FF11020203"
    "120007090507E20308FF11020203120008090507E20309FF11020203120009090507E20501FF110202031200"
    "0A090507E20502FF1102020312000B090507E20509FF1102"
)
# gosem pkg/axdr/unmarshal_test.go TestUnmarshalDataWithNull
STRUCT_WITH_NULL = "020300050ABBCCDD1101"
# gosem pkg/axdr/axdr_test.go: array of {boolean, bit-string(3), date-time}
ARRAY_BOOL_BITS_DATETIME = "010303010403E01907E4030B0312000000000000"
# dlms-cosem tests/test_dlms_date_time_data.py (github.com/u9n/dlms-cosem @c52e9d44)
DATE_2024_11_21 = "1A07E80B15FF"
DATE_NOT_SPECIFIED = "1AFFFFFFFFFF"
# gosem axdr_test.go: boolean TRUE
BOOLEAN_TRUE = "0301"
# dlms-cosem tests/test_dlms_data.py: Kamstrup HAN list
KAMSTRUP_LIST = (
    "02190A0E4B616D73747275705F563030303109060101000005FF0A10353730363536373139363338323438350906"
    "0101600101FF0A1236383431313331424E31343331303130393009060101010700FF060000092609060101020700"
    "FF060000000009060101030700FF060000000009060101040700FF06000000DF090601011F0700FF060000005C09"
    "060101330700FF060000008D09060101470700FF060000037209060101200700FF1200E609060101340700FF1200"
    "E609060101480700FF1200E4"
)
# gosem axdr_test.go TestDecoderSimpleCompactArray
COMPACT_ARRAY_SIMPLE = "1306141234567822222222030303034321432155554321"
# gosem axdr_test.go TestDecoderComplexCompactArray
COMPACT_ARRAY_STRUCTS = "1302040A0F1014210568656C6C6F6504D21234567890123456046A6F616E0701C31122334455667788"
# gosem axdr_test.go TestDecoder1
ARRAY_OF_STRUCT = "0101020512EB421907E40310FF000000FF8000000401000601FE0B80120C21"
# dlms-cosem tests/test_a_xdr.py: LTE monitoring QoS structure
LTE_QOS = "02051202D0120CA81112111E0FC0"
# EnergyICT Unsigned64Test (github.com/chandangeek/Connexo_Code @78c12cb6)
LONG64_UNSIGNED_MSB = "158000000000000001"
# dlms-cosem tests/test_parsers.py test_parse_buffer: profile buffer with null-data compression
PROFILE_BUFFER = (
    "01040204090C07E30C1F0217000000FFC400110606000005ED0600000654020400110606000005ED0600000654"
    "020400110606000005ED0600000654020400110606000005ED0600000654"
)
# gosem axdr_test.go TestEncodeFloat*: float64 3.14, value octets only
FLOAT64_314_BODY = "40091EB851EB851F"

VECTORS = [
    DATE_TIME_YEAR_9999, SPECIAL_DAYS, STRUCT_WITH_NULL, ARRAY_BOOL_BITS_DATETIME, DATE_2024_11_21,
    DATE_NOT_SPECIFIED, BOOLEAN_TRUE, KAMSTRUP_LIST, COMPACT_ARRAY_SIMPLE, COMPACT_ARRAY_STRUCTS,
    ARRAY_OF_STRUCT, LTE_QOS, LONG64_UNSIGNED_MSB, PROFILE_BUFFER,
]


@pytest.mark.parametrize("hexstr", VECTORS)
def test_vectors_round_trip_byte_exact(hexstr: str) -> None:
    raw = bytes.fromhex(hexstr)
    assert Data.from_bytes(raw).to_bytes() == raw


def test_vector_values() -> None:
    d = Data.from_bytes(bytes.fromhex(DATE_TIME_YEAR_9999))
    assert d.value == CosemDateTime(9999, 12, 30, 4, 23, 59, 59, 0, 0, 0)
    s = Data.from_bytes(bytes.fromhex(STRUCT_WITH_NULL)).value
    assert [x.type for x in s] == [DataType.NULL_DATA, DataType.DOUBLE_LONG, DataType.UNSIGNED]
    assert s[1].value == 0x0ABBCCDD
    a = Data.from_bytes(bytes.fromhex(ARRAY_BOOL_BITS_DATETIME)).value
    assert a[0].value is True and a[1].value == BitString("111")
    assert a[2].value.to_datetime().isoformat() == "2020-03-11T18:00:00+00:00"
    assert Data.from_bytes(bytes.fromhex(DATE_2024_11_21)).value == CosemDate(2024, 11, 21, None)
    assert Data.from_bytes(bytes.fromhex(DATE_NOT_SPECIFIED)).value == CosemDate()
    ca = Data.from_bytes(bytes.fromhex(COMPACT_ARRAY_SIMPLE)).value
    assert [x.value for x in ca.items] == [305419896, 572662306, 50529027, 1126253345, 1431651105]
    cs = Data.from_bytes(bytes.fromhex(COMPACT_ARRAY_STRUCTS)).value
    assert [tuple(m.value for m in s.value) for s in cs.items] == [
        ("hello", 101, 1234, 0x1234567890123456), ("joan", 7, 451, 0x1122334455667788)]
    assert Data.from_bytes(bytes.fromhex(LTE_QOS)).value[4].value == -64
    assert Data.from_bytes(bytes.fromhex(LONG64_UNSIGNED_MSB)).value == 9223372036854775809
    row = Data.from_bytes(bytes.fromhex(ARRAY_OF_STRUCT)).value[0].value
    assert row[1].value.deviation is None and row[1].value.hundredths is None
    assert row[2].value == BitString("0")
    buf = Data.from_bytes(bytes.fromhex(PROFILE_BUFFER)).value
    assert len(buf) == 4 and buf[1].value[0].type == DataType.NULL_DATA


def test_float64_body() -> None:
    raw = bytes.fromhex("18" + FLOAT64_314_BODY)
    assert Data.from_bytes(raw).value == 3.14
    assert Data(DataType.FLOAT64, 3.14).to_bytes() == raw


def test_boolean_accepts_any_nonzero() -> None:
    assert Data.from_bytes(b"\x03\xff").value is True


@pytest.mark.parametrize("n,encoded", [
    (0, "00"), (127, "7F"),
    (128, "8180"),  # gosem axdr_test.go TestEncodeLength
    (255, "81FF"), (256, "820100"),
    (3855, "820F0F"),  # dlms-cosem tests/test_a_xdr.py test_get_axdr_length
    (65535, "82FFFF"), (65536, "83010000"),
])
def test_length_encoding(n: int, encoded: str) -> None:
    assert encode_length(n).hex().upper() == encoded
    assert Reader(bytes.fromhex(encoded)).length() == n


def test_octet_string_longer_than_65535() -> None:
    d = Data(DataType.OCTET_STRING, bytes(70000))
    raw = d.to_bytes()
    assert raw[:5] == bytes.fromhex("0983011170")
    assert Data.from_bytes(raw) == d


@pytest.mark.parametrize("hexstr", VECTORS)
def test_truncations_raise_decode_error(hexstr: str) -> None:
    raw = bytes.fromhex(hexstr)
    for n in range(len(raw)):
        with pytest.raises(DecodeError):
            Data.from_bytes(raw[:n])


@pytest.mark.parametrize("hexstr", VECTORS)
def test_bit_flips_decode_or_raise_decode_error(hexstr: str) -> None:
    raw = bytes.fromhex(hexstr)
    for i in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[i // 8] ^= 0x80 >> (i % 8)
        try:
            Data.from_bytes(bytes(flipped))
        except DecodeError:
            pass


def test_trailing_data_is_an_error() -> None:
    with pytest.raises(DecodeError) as info:
        Data.from_bytes(bytes.fromhex(BOOLEAN_TRUE + "00"))
    assert info.value.offset == 2


def test_unknown_tag_names_the_offset() -> None:
    with pytest.raises(DecodeError) as info:
        Data.from_bytes(bytes.fromhex("0201FE"))
    assert info.value.offset == 2 and "0xFE" in str(info.value)


def test_huge_count_is_refused_without_allocating() -> None:
    with pytest.raises(DecodeError):
        Data.from_bytes(bytes.fromhex("0184FFFFFFFF00"))


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(DecodeError):
        Data.from_bytes(b"\x01\x01" * 100 + b"\x00")


@pytest.mark.parametrize("t,v", [
    (DataType.UNSIGNED, 256), (DataType.INTEGER, -129), (DataType.LONG64_UNSIGNED, -1),
    (DataType.OCTET_STRING, "text"), (DataType.UTF8_STRING, b"x"), (DataType.FLOAT32, 1e300),
    (DataType.DATE, CosemDateTime()), (DataType.VISIBLE_STRING, "\u20ac"), (DataType.LONG, True),
])
def test_encode_rejects_values_that_do_not_fit(t: DataType, v: object) -> None:
    with pytest.raises(EncodeError):
        encode_data(Data(t, v))


def test_compact_array_rejects_mismatched_element() -> None:
    desc = TypeDescription(DataType.UNSIGNED)
    with pytest.raises(EncodeError):
        encode_data(Data(DataType.COMPACT_ARRAY, CompactArray(desc, (Data(DataType.LONG, 1),))))


def test_compact_array_with_inner_array() -> None:
    desc = TypeDescription(DataType.ARRAY, (TypeDescription(DataType.LONG),), 2)
    items = tuple(Data(DataType.ARRAY, (Data(DataType.LONG, i), Data(DataType.LONG, -i))) for i in range(3))
    d = Data(DataType.COMPACT_ARRAY, CompactArray(desc, items))
    raw = d.to_bytes()
    assert raw[:4] == bytes.fromhex("13010002") and raw[4] == 0x10 and raw[5] == 12
    assert Data.from_bytes(raw) == d


def _same(a: Data, b: Data) -> bool:
    """Equality that treats NaN as equal to itself."""
    if a.type != b.type:
        return False
    if isinstance(a.value, float):
        return (math.isnan(a.value) and math.isnan(b.value)) or a.value == b.value
    if isinstance(a.value, tuple):
        return len(a.value) == len(b.value) and all(_same(x, y) for x, y in zip(a.value, b.value))
    return a.value == b.value


from tests.strategies import data_values  # noqa: E402  (shared with the APDU tests)


@settings(max_examples=300, deadline=None)
@given(data_values())
def test_round_trip_property(d: Data) -> None:
    raw = d.to_bytes()
    back = Data.from_bytes(raw)
    assert _same(back, d) or back.type == DataType.FLOATING_POINT
    assert back.to_bytes() == raw


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise(raw: bytes) -> None:
    try:
        Data.from_bytes(raw)
    except DecodeError:
        pass


def test_compact_array_of_zero_size_elements_is_refused() -> None:
    # array[65535] of null-data would otherwise describe endless elements in no bytes
    with pytest.raises(DecodeError):
        Data.from_bytes(bytes.fromhex("1301FFFF000100"))
    with pytest.raises(DecodeError):
        Data.from_bytes(bytes.fromhex("1302000100"))
    # ...but an empty one is a valid, empty compact-array
    assert Data.from_bytes(bytes.fromhex("1302000100")[:3] + b"\x00").value.items == ()


@settings(max_examples=200, deadline=None)
@given(st.datetimes(timezones=st.one_of(st.none(), st.timezones())), st.integers(0, 0xFE))
def test_date_time_bytes_from_datetime_match_the_value_encoding(dt: object, status: int) -> None:
    """The packed fast path of a clock read encodes exactly what the CosemDateTime value does."""
    from datetime import datetime
    assert isinstance(dt, datetime)
    try:
        expected: bytes | type[EncodeError] = CosemDateTime.from_datetime(dt, status).to_bytes()
    except EncodeError:
        expected = EncodeError
    if expected is EncodeError:
        with pytest.raises(EncodeError):
            CosemDateTime.bytes_from_datetime(dt, status)
    else:
        assert CosemDateTime.bytes_from_datetime(dt, status) == expected
