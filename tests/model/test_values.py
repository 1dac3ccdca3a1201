"""YAML value -> Data for every TypeSpec form, date/time text, templates and value sharing."""

from __future__ import annotations

import pytest

from simulator.axdr import BitString, CosemDate, CosemDateTime, CosemTime, Data, DataType, Obis
from simulator.cosem.types import (
    ANY, BIT_STRING, BOOLEAN, DATE, DATE_TIME, DOUBLE_LONG, DOUBLE_LONG_UNSIGNED, FLOAT32, FLOAT64, INTEGER,
    LONG, LONG64, LONG64_UNSIGNED, LONG_UNSIGNED, NULL, OBIS, OCTET_STRING, SCALER_UNIT, TIME, UNSIGNED,
    UTF8_STRING, VISIBLE_STRING, Array, Enum, OctetString, OneOf, Simple, Struct, TypeSpec,
)
from simulator.model.loader import SAMPLE_FIELDS, class_id_named
from simulator.model.spec import Template
from simulator.model.timetext import TimeTextError, parse_date, parse_date_time, parse_time
from simulator.model.values import Converter, Interner, Invalid
from simulator.model.yamlsource import YNode, parse_yaml

D = DataType
CAPTURE = Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS), ("attribute_index", INTEGER),
                  ("data_index", LONG_UNSIGNED)))
ON_OFF = Enum(((0, "off"), (1, "on")), open=False)
FLAGS = Enum(((0, "nothing"), (4, "authenticated_request"), (8, "encrypted_request"), (32, "authenticated_response")))


def node(text: str) -> YNode:
    root, problems = parse_yaml(f"v: {text}\n")
    assert not problems
    value = root.get("v")  # type: ignore[union-attr]
    assert value is not None
    return value


def converter(defaults: dict[str, object] | None = None) -> Converter:
    return Converter(Interner(), SAMPLE_FIELDS, {"manufacturer": "SIM", **(defaults or {})}, class_id_named)


def conv(text: str, spec: TypeSpec) -> Data:
    return converter().convert(node(text), spec)


def fails(text: str, spec: TypeSpec) -> str:
    with pytest.raises(Invalid) as exc:
        conv(text, spec)
    return str(exc.value)


# ------------------------------------------------------------------ simple types

@pytest.mark.parametrize("spec, text, value", [
    (INTEGER, "-128", -128), (UNSIGNED, "255", 255), (LONG, "-32768", -32768), (LONG_UNSIGNED, "65535", 65535),
    (DOUBLE_LONG, "-5", -5), (DOUBLE_LONG_UNSIGNED, "0xFFFFFFFF", 0xFFFFFFFF), (LONG64, "-9000000000", -9000000000),
    (LONG64_UNSIGNED, "18446744073709551615", 2**64 - 1), (UNSIGNED, '"0x2A"', 42), (LONG_UNSIGNED, "1_000", 1000),
    (Simple(D.BCD), "99", 99), (Simple(D.ENUM), "3", 3),
])
def test_integers(spec: Simple, text: str, value: int) -> None:
    assert conv(text, spec) == Data(spec.type, value)


@pytest.mark.parametrize("spec, text", [
    (INTEGER, "128"), (UNSIGNED, "-1"), (LONG_UNSIGNED, "65536"), (DOUBLE_LONG_UNSIGNED, "-1"),
    (INTEGER, "true"), (INTEGER, "1.5"), (INTEGER, "abc"), (INTEGER, "[1]"), (INTEGER, "null"),
])
def test_integer_refusals_say_expected_and_found(spec: Simple, text: str) -> None:
    message = fails(text, spec)
    assert message.startswith(f"expected {spec.type.label}") and "found" in message


def test_ipv4_text_for_double_long_unsigned() -> None:
    assert conv("192.168.1.10", DOUBLE_LONG_UNSIGNED) == Data(D.DOUBLE_LONG_UNSIGNED, 0xC0A8010A)
    assert "IPv4" in fails("300.1.1.1", DOUBLE_LONG_UNSIGNED)


def test_boolean_float_null() -> None:
    assert conv("true", BOOLEAN) == Data(D.BOOLEAN, True)
    assert conv("no", BOOLEAN) == Data(D.BOOLEAN, False)  # YAML 1.1 booleans
    assert "boolean" in fails("1", BOOLEAN)
    assert conv("1.5", FLOAT32) == Data(D.FLOAT32, 1.5)
    assert conv("2", FLOAT64) == Data(D.FLOAT64, 2.0)
    assert "in range" in fails("1.0e+300", FLOAT32)
    assert "number" in fails("'x'", FLOAT32)
    assert conv("null", NULL) == Data(D.NULL_DATA)
    assert "null" in fails("0", NULL)


def test_strings() -> None:
    assert conv("hello world", VISIBLE_STRING) == Data(D.VISIBLE_STRING, "hello world")
    assert conv("12345", VISIBLE_STRING) == Data(D.VISIBLE_STRING, "12345")  # as written, not the integer
    assert conv("'a {{b}}'", VISIBLE_STRING) == Data(D.VISIBLE_STRING, "a {b}")
    assert "one byte per character" in fails("'日本'", VISIBLE_STRING)
    assert conv("'日本'", UTF8_STRING) == Data(D.UTF8_STRING, "日本")
    assert "text" in fails("[1]", VISIBLE_STRING)


def test_bit_strings() -> None:
    assert conv("0101", BIT_STRING) == Data(D.BIT_STRING, BitString("0101"))  # YAML would read an int
    assert conv("0b110", BIT_STRING) == Data(D.BIT_STRING, BitString("110"))
    assert conv("[1, 0, true]", BIT_STRING) == Data(D.BIT_STRING, BitString("101"))
    assert "bit-string" in fails("0123", BIT_STRING)
    assert "bits" in fails("[2]", BIT_STRING)


def test_tagged_date_time_types() -> None:
    dt = conv("2024-01-01T00:00:00+01:00", Simple(D.DATE_TIME))
    assert dt.type == D.DATE_TIME and dt.value.deviation == -60 and dt.value.day_of_week == 1
    assert conv('"*-12-25"', Simple(D.DATE)) == Data(D.DATE, CosemDate(None, 12, 25, None))
    assert conv("06:30", Simple(D.TIME)) == Data(D.TIME, CosemTime(6, 30, 0, 0))
    assert conv("null", Simple(D.TIME)) == Data(D.TIME, CosemTime())
    assert conv('"0x07E80101FF"', Simple(D.DATE)) == Data(D.DATE, CosemDate(2024, 1, 1, None))
    assert "5 octets" in fails('"0x07E801"', Simple(D.DATE))


def test_untyped_array_and_structure_and_compact_array() -> None:
    assert conv("[1, x]", Simple(D.STRUCTURE)) == Data(D.STRUCTURE, (
        Data(D.DOUBLE_LONG_UNSIGNED, 1), Data(D.VISIBLE_STRING, "x")))
    assert conv("[]", Simple(D.ARRAY)) == Data(D.ARRAY, ())
    assert "cannot be written" in fails("[]", Simple(D.COMPACT_ARRAY))


# ------------------------------------------------------------------ octet strings

def test_octet_string_forms() -> None:
    assert conv("0x0102", OCTET_STRING) == Data(D.OCTET_STRING, b"\x01\x02")  # raw text, not 258
    assert conv('"hex:01 02 ff"', OCTET_STRING) == Data(D.OCTET_STRING, b"\x01\x02\xff")
    assert conv("[1, 2, 255]", OCTET_STRING) == Data(D.OCTET_STRING, b"\x01\x02\xff")
    assert conv("ABC", OCTET_STRING) == Data(D.OCTET_STRING, b"ABC")
    assert conv("1234", OCTET_STRING) == Data(D.OCTET_STRING, b"1234")
    assert "hex digits" in fails('"0xZZ"', OCTET_STRING)
    assert "bytes 0..255" in fails("[256]", OCTET_STRING)
    assert "found 3" in fails("0x010203", OctetString(8))
    assert "octets" in fails("null", OCTET_STRING)


@pytest.mark.parametrize("text", ["1.0.1.8.0.255", "1-0:1.8.0*255", "1-0:1.8.0", "0100010800FF", "[1, 0, 1, 8, 0, 255]"])
def test_obis_forms(text: str) -> None:
    assert conv(text, OBIS) == Data(D.OCTET_STRING, bytes(Obis("1.0.1.8.0.255")))


@pytest.mark.parametrize("text", ["1.0.1.8.0.256", "1.0.1.8", "abc", "[1, 2]", "null"])
def test_bad_obis(text: str) -> None:
    assert "expected an OBIS code" in fails(text, OBIS)


def test_date_time_octet_string() -> None:
    got = conv("2024-01-01T00:00:00+01:00", DATE_TIME)
    assert got.type == D.OCTET_STRING
    assert CosemDateTime.from_bytes(got.value) == CosemDateTime(2024, 1, 1, 1, 0, 0, 0, 0, -60, None)
    assert conv("null", DATE_TIME).value == bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF")
    assert conv('"0x07E8010101000000FF8000FF"', DATE_TIME).value == bytes.fromhex("07E8010101000000FF8000FF")
    assert "month 13" in fails("2024-13-01T00:00", DATE_TIME)
    assert conv("'*-*-01'", DATE).value == bytes.fromhex("FFFFFF01FF")
    assert conv("'*-12-25'", DATE).value == bytes.fromhex("FFFF0C19FF")
    assert conv("23:59:59.99", TIME).value == bytes((23, 59, 59, 99))
    assert "expected a time" in fails("noon", TIME)


# ------------------------------------------------------------------ enums, structures, arrays, choices

def test_enum_by_name_or_number() -> None:
    assert conv("on", ON_OFF) == Data(D.ENUM, 1)  # a name, although YAML 1.1 reads `on` as true
    assert conv("0", ON_OFF) == Data(D.ENUM, 0)
    assert "expected enum (0 off, 1 on)" in fails("7", ON_OFF)
    message = fails("onn", ON_OFF)
    assert "unknown name 'onn'" in message and "did you mean 'on'" in message
    assert conv("7", Enum(((0, "a"),))) == Data(D.ENUM, 7)  # open enums take other values
    assert "expected enum" in fails("256", Enum())


def test_flag_enum_from_a_list_of_names() -> None:
    assert conv("[authenticated_request, encrypted_request]", FLAGS) == Data(D.ENUM, 12)
    assert "expected enum (0 off, 1 on)" in fails("[on]", ON_OFF)  # not a flag enum: no list


def test_scaler_unit_as_list_or_mapping() -> None:
    expected = Data(D.STRUCTURE, (Data(D.INTEGER, -3), Data(D.ENUM, 30)))
    assert conv("[-3, Wh]", SCALER_UNIT) == expected
    assert conv("{scaler: -3, unit: wh}", SCALER_UNIT) == expected
    assert conv("[-3, 30]", SCALER_UNIT) == expected
    assert conv("[0, m3/h]", SCALER_UNIT).value[1] == Data(D.ENUM, 15)
    message = fails("[0, kWh]", SCALER_UNIT)
    assert message.startswith("unit: unknown name 'kWh'") and "did you mean 'Wh'" in message


def test_structure_errors_name_the_field() -> None:
    assert "expected 2 fields (scaler, unit)" in fails("[1]", SCALER_UNIT)
    message = fails("{scaler: 1, unti: Wh}", SCALER_UNIT)
    assert "unknown field 'unti'" in message and "did you mean 'unit'" in message
    assert "missing field(s) unit" in fails("{scaler: 1}", SCALER_UNIT)
    assert fails("[1000, Wh]", SCALER_UNIT).startswith("scaler: expected integer")
    assert "structure" in fails("5", SCALER_UNIT)


def test_class_id_by_name_and_arrays() -> None:
    got = conv("[[Clock, 0.0.1.0.0.255, 2, 0], {class_id: 3, logical_name: 1-0:1.8.0, attribute_index: 2, "
               "data_index: 0}]", Array(CAPTURE))
    assert [item.value[0] for item in got.value] == [Data(D.LONG_UNSIGNED, 8), Data(D.LONG_UNSIGNED, 3)]
    message = fails("[[Clock, 0.0.1.0.0.255, 2, 0], [3, bad, 2, 0]]", Array(CAPTURE))
    assert message.startswith("[1].logical_name: expected an OBIS code")
    assert "list" in fails("5", Array(INTEGER))


def test_one_of() -> None:
    spec = OneOf((LONG_UNSIGNED, NULL))
    assert conv("5", spec) == Data(D.LONG_UNSIGNED, 5)
    assert conv("null", spec) == Data(D.NULL_DATA)
    assert "long-unsigned | null-data" in fails("x", spec)
    assert conv("{type: null}", spec) == Data(D.NULL_DATA)
    assert "found double-long" in fails("{type: double-long, value: 1}", spec)
    single = OneOf((UNSIGNED,))
    assert fails("300", single).startswith("expected unsigned")


def test_any_type_inference() -> None:
    assert conv("5", ANY) == Data(D.DOUBLE_LONG_UNSIGNED, 5)
    assert conv("-5", ANY) == Data(D.DOUBLE_LONG, -5)
    assert conv("5000000000", ANY) == Data(D.LONG64_UNSIGNED, 5000000000)
    assert conv("-5000000000", ANY) == Data(D.LONG64, -5000000000)
    assert conv("1.5", ANY) == Data(D.FLOAT32, 1.5)
    assert conv("abc", ANY) == Data(D.VISIBLE_STRING, "abc")
    assert conv("true", ANY) == Data(D.BOOLEAN, True)
    assert conv("null", ANY) == Data(D.NULL_DATA)
    assert conv("[1, a]", ANY) == Data(D.STRUCTURE, (Data(D.DOUBLE_LONG_UNSIGNED, 1), Data(D.VISIBLE_STRING, "a")))


@pytest.mark.parametrize("text, expected", [
    ("{type: long-unsigned, value: 7}", Data(D.LONG_UNSIGNED, 7)),
    ("{type: uint8, value: 7}", Data(D.UNSIGNED, 7)),
    ("{type: long_unsigned, value: 7}", Data(D.LONG_UNSIGNED, 7)),
    ("{type: octet-string, value: 0x0A0B}", Data(D.OCTET_STRING, b"\x0a\x0b")),
    ("{type: obis, value: 1.0.1.8.0.255}", Data(D.OCTET_STRING, bytes(Obis("1.0.1.8.0.255")))),
    ("{type: enum, value: 2}", Data(D.ENUM, 2)),
    ("{type: array, value: [1, {type: unsigned, value: 2}]}",
     Data(D.ARRAY, (Data(D.DOUBLE_LONG_UNSIGNED, 1), Data(D.UNSIGNED, 2)))),
    ("{type: structure, value: [x]}", Data(D.STRUCTURE, (Data(D.VISIBLE_STRING, "x"),))),
    ("{type: date-time, value: '2024-06-01T12:00:00Z'}",
     Data(D.DATE_TIME, CosemDateTime(2024, 6, 1, 6, 12, 0, 0, 0, 0, None))),
    ("{type: null-data}", Data(D.NULL_DATA)),
    ("{type: float64, value: 2.5}", Data(D.FLOAT64, 2.5)),
])
def test_any_type_explicit(text: str, expected: Data) -> None:
    assert conv(text, ANY) == expected


def test_any_type_refusals() -> None:
    message = fails("{type: double-long-unsigend, value: 3}", ANY)
    assert "unknown data type 'double-long-unsigend'" in message and "did you mean 'double-long-unsigned'" in message
    assert "{type: <data type>" in fails("{a: 1}", ANY)
    assert "unknown key 'valeu'" in fails("{type: unsigned, valeu: 1}", ANY)
    assert "needs a value" in fails("{type: unsigned}", ANY)
    assert "a list (array)" in fails("{type: array, value: 1}", ANY)
    assert fails("{type: unsigned, value: 300}", ANY).startswith("expected unsigned")


def test_unknown_typespec_uses_explicit_form_and_accepts() -> None:
    class EvenOnly(TypeSpec):
        def accepts(self, value: Data) -> bool:
            return value.type == D.UNSIGNED and value.value % 2 == 0

        def describe(self) -> str:
            return "an even unsigned"

    assert conv("{type: unsigned, value: 4}", EvenOnly()) == Data(D.UNSIGNED, 4)
    assert "expected an even unsigned" in fails("{type: unsigned, value: 3}", EvenOnly())


# ------------------------------------------------------------------ templates

def template(text: str, spec: TypeSpec, defaults: dict[str, object] | None = None) -> Template | None:
    return converter(defaults).template(node(text), spec)


def test_templates_by_attribute_type() -> None:
    assert template('"{serial}"', ANY) == Template("{serial}", "visible-string")
    assert template('"{serial}"', VISIBLE_STRING) == Template("{serial}", "visible-string")
    assert template('"SIM{serial}"', OCTET_STRING) == Template("SIM{serial}", "octet-string")
    assert template('"hex:{system_title}"', OctetString(8)) == Template("{system_title}", "octet-string-hex")
    assert template('"0x00{index:02X}"', OCTET_STRING) == Template("00{index:02X}", "octet-string-hex")
    assert template("{type: octet-string, value: '{serial}'}", ANY) == Template("{serial}", "octet-string")
    assert template("plain", VISIBLE_STRING) is None
    assert template("'{{literal}}'", VISIBLE_STRING) is None
    assert template("5", LONG_UNSIGNED) is None


def test_template_defaults_and_render() -> None:
    tpl = template('"{manufacturer}{serial}"', OCTET_STRING)
    assert tpl is not None and tpl.defaults == (("manufacturer", "SIM"),)
    assert tpl.render({"serial": "42"}) == Data(D.OCTET_STRING, b"SIM42")
    assert tpl.render({"serial": "42", "manufacturer": "ABC"}) == Data(D.OCTET_STRING, b"ABC42")
    pw = template('"{lls_password}"', OCTET_STRING, {"lls_password": "12345678"})
    assert pw is not None and pw.render({}) == Data(D.OCTET_STRING, b"12345678")


@pytest.mark.parametrize("text, spec, words", [
    ('"{serail}"', VISIBLE_STRING, ["unknown field {serail}", "did you mean 'serial'", "known fields"]),
    ('"{serial"', VISIBLE_STRING, ["bad template", "literal braces"]),
    ('"{serial:08d}"', VISIBLE_STRING, ["does not render"]),  # serial is text
    ('"hex:{serial}ZZ"', OCTET_STRING, ["does not render to hex digits"]),
    ('"hex:{system_title}"', OctetString(6), ["renders to 8 octets, expected 6"]),
    ('"{serial}"', LONG_UNSIGNED, ["gives text or octets", "long-unsigned"]),
    ('"hex:{serial}"', VISIBLE_STRING, ["gives text or octets"]),
    ('"{serial}"', OBIS, ["gives text or octets"]),
])
def test_bad_templates(text: str, spec: TypeSpec, words: list[str]) -> None:
    with pytest.raises(Invalid) as exc:
        template(text, spec)
    for word in words:
        assert word in str(exc.value)


def test_template_only_as_a_whole_value() -> None:
    assert "whole attribute value" in fails('[1, "{serial}"]', Simple(D.STRUCTURE))


def test_key_templates() -> None:
    c = converter({"ek": "000102030405060708090A0B0C0D0E0F"})
    assert c.key_template(node('"{ek}"'), 16).render({}).value == bytes(range(16))
    assert c.key_template(node("0x" + "11" * 16), 16).render({}).value == b"\x11" * 16
    with pytest.raises(Invalid, match="expected 16"):
        c.key_template(node("0x1122"), 16)
    with pytest.raises(Invalid, match="key as hex"):
        c.key_template(node("[1]"), 16)


# ------------------------------------------------------------------ sharing

def test_equal_values_are_shared() -> None:
    c = converter()
    a = c.convert(node("[-3, Wh]"), SCALER_UNIT)
    b = c.convert(node("{scaler: -3, unit: Wh}"), SCALER_UNIT)
    assert a is b
    assert c.convert(node("1.0.1.8.0.255"), OBIS) is c.convert(node("1-0:1.8.0"), OBIS)


# ------------------------------------------------------------------ date and time text

@pytest.mark.parametrize("text, expected", [
    ("2024-01-01T00:00:00+01:00", CosemDateTime(2024, 1, 1, 1, 0, 0, 0, 0, -60, None)),
    ("2024-07-01 12:30", CosemDateTime(2024, 7, 1, 1, 12, 30, 0, 0, None, None)),
    ("2024-07-01T12:30:15.5Z", CosemDateTime(2024, 7, 1, 1, 12, 30, 15, 50, 0, None)),
    ("2024-07-01T12:30:15-0530", CosemDateTime(2024, 7, 1, 1, 12, 30, 15, 0, 330, None)),
    ("*-*-01T00:00:00", CosemDateTime(None, None, 1, None, 0, 0, 0, 0, None, None)),
    ("2024-07-01T*:*:*.*", CosemDateTime(2024, 7, 1, 1, None, None, None, None, None, None)),
    ("Sun *-03-254T02:00:00", CosemDateTime(None, 3, 254, 7, 2, 0, 0, 0, None, None)),
    ("2024-01-01", CosemDateTime(2024, 1, 1, 1, 0, 0, 0, 0, None, None)),
])
def test_parse_date_time(text: str, expected: CosemDateTime) -> None:
    assert parse_date_time(text) == expected


@pytest.mark.parametrize("text, words", [
    ("2024-02-30T00:00", "not a calendar date"), ("2024-01-01T24:00", "hour 24"),
    ("Mon 2024-01-07", "is a sunday"), ("Xyz *-01-01", "not a day of the week"),
    ("2024-01-01T00:00+13:00", "beyond 12 hours"), ("yesterday", "expected a date-time"),
])
def test_bad_date_time(text: str, words: str) -> None:
    with pytest.raises(TimeTextError, match=words):
        parse_date_time(text)


def test_parse_date_and_time() -> None:
    assert parse_date("2024-12-25") == CosemDate(2024, 12, 25, 3)
    assert parse_date("*-12-25") == CosemDate(None, 12, 25, None)
    assert parse_date("Fri *-*-13") == CosemDate(None, None, 13, 5)
    assert parse_time("06:30") == CosemTime(6, 30, 0, 0)
    assert parse_time("*:00:00") == CosemTime(None, 0, 0, 0)
    assert parse_time("12:00:00.*") == CosemTime(12, 0, 0, None)
    with pytest.raises(TimeTextError):
        parse_date("25.12.2024")
    with pytest.raises(TimeTextError):
        parse_time("12:60")
