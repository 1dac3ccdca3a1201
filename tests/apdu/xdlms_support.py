"""Helpers for the xDLMS APDU tests: frame unwrapping, fault checks, APDU strategies and the
bridges to the independent peers (gurux-dlms XML, dlms-cosem objects)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Callable

import pytest
from hypothesis import strategies as st

from simulator.apdu.common import (
    ActionResult, CosemAttributeDescriptor, CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor, DataAccessResult, DataBlockSA, InvokeIdAndPriority,
    LongInvokeIdAndPriority, SelectiveAccess, XDlmsApdu,
)
from simulator.apdu.xdlms import decode_xdlms
from simulator.axdr import Data, DataType
from simulator.axdr.data import FLOAT_FORMATS, INTEGER_FORMATS
from simulator.errors import DecodeError
from tests.strategies import data_values, obis_codes

# --------------------------------------------------------------------------- frames


def hdlc_apdu(frame: bytes) -> bytes:
    """The APDU of an HDLC I-frame: the information field after the 3-byte LLC header,
    located from the frame length field (format 0xA0 | length) and the address ends."""
    assert frame[0] == 0x7E and frame[-1] == 0x7E
    length = ((frame[1] & 0x07) << 8) | frame[2]
    assert length == len(frame) - 2, "frame length field disagrees with the frame"
    pos = 3
    for _ in range(2):  # destination, then source address: the last byte has bit 0 set
        while not frame[pos] & 1:
            pos += 1
        pos += 1
    pos += 1 + 2  # control, HCS
    info = frame[pos:1 + length - 2]
    assert info[:2] == b"\xE6\xE6" or info[:2] == b"\xE6\xE7", "missing LLC header"
    return info[3:]


def wrapper_apdu(frame: bytes) -> bytes:
    """The APDU of a TCP/UDP wrapper frame: after the 8-byte header, whose length must match."""
    assert frame[:2] == b"\x00\x01"
    assert int.from_bytes(frame[6:8], "big") == len(frame) - 8
    return frame[8:]


# --------------------------------------------------------------------------- checks


def assert_roundtrip(data: bytes, cls: type[XDlmsApdu]) -> XDlmsApdu:
    """Decode with the class and with the dispatcher, re-encode to the same bytes."""
    apdu = cls.from_bytes(data)
    assert type(apdu) is cls
    assert decode_xdlms(data) == apdu
    assert apdu.to_bytes() == data
    return apdu


def assert_decodes_or_raises(data: bytes, *decoders: Callable[[bytes], Any]) -> None:
    """Each decoder either decodes `data` or raises DecodeError (nothing else)."""
    for decoder in decoders:
        try:
            decoder(data)
        except DecodeError:
            pass


def assert_truncations_raise(data: bytes, decoder: Callable[[bytes], Any]) -> None:
    """Trailing data and every truncation raise DecodeError."""
    try:
        decoder(data + b"\x00")
    except DecodeError:
        pass
    else:
        raise AssertionError("trailing byte accepted")
    for n in range(len(data)):
        try:
            decoder(data[:n])
        except DecodeError:
            pass
        else:
            raise AssertionError(f"truncation to {n} byte(s) accepted")


def assert_bit_flips_decode_or_raise(data: bytes, *decoders: Callable[[bytes], Any]) -> None:
    """Every single-bit flip of `data` either decodes or raises DecodeError, in every decoder."""
    buf = bytearray(data)
    for i in range(len(buf)):
        for bit in range(8):
            buf[i] ^= 1 << bit
            assert_decodes_or_raises(bytes(buf), *decoders)
            buf[i] ^= 1 << bit


def assert_robust(data: bytes, decoder: Callable[[bytes], Any] = decode_xdlms) -> None:
    """Whole input decodes; trailing data, every truncation and every single-bit flip
    either decodes or raises DecodeError (nothing else)."""
    decoder(data)
    assert_truncations_raise(data, decoder)
    assert_bit_flips_decode_or_raise(data, decoder)


def vector_tests(vectors: list[tuple[str, bytes, type[XDlmsApdu]]]) -> tuple[Callable[..., None], ...]:
    """The two tests every xDLMS test file runs over its (name, bytes, class) vectors: the round
    trip and the robustness check. Assign them to `test_*` names in the module to collect them."""
    cases = pytest.mark.parametrize("name, data, cls", vectors, ids=[v[0] for v in vectors])

    @cases
    def test_vector_roundtrip(name: str, data: bytes, cls: type[XDlmsApdu]) -> None:
        assert_roundtrip(data, cls)

    @cases
    def test_vector_truncations_and_bit_flips(name: str, data: bytes, cls: type[XDlmsApdu]) -> None:
        assert_robust(data)
        assert_robust(data, cls.from_bytes)

    return test_vector_roundtrip, test_vector_truncations_and_bit_flips


def assert_apdu_roundtrip(apdu: XDlmsApdu) -> None:
    """Object -> bytes -> object through the class and through the dispatcher."""
    raw = apdu.to_bytes()
    assert raw[0] == apdu.TAG
    assert type(apdu).from_bytes(raw) == apdu
    assert decode_xdlms(raw) == apdu


# --------------------------------------------------------------------------- strategies

invokes = st.integers(0, 255).map(InvokeIdAndPriority.from_byte)
long_invokes = st.integers(0, 0xFFFFFFFF).map(LongInvokeIdAndPriority.from_int)
class_ids = st.integers(0, 0xFFFF)
member_ids = st.integers(-128, 127)
block_numbers = st.integers(0, 0xFFFFFFFF)
raw_blocks = st.binary(max_size=200)
small_data = data_values(max_leaves=8)
access_results = st.sampled_from(DataAccessResult)
action_results = st.sampled_from(ActionResult)

attribute_descriptors = st.builds(CosemAttributeDescriptor, class_ids, obis_codes(), member_ids)
method_descriptors = st.builds(CosemMethodDescriptor, class_ids, obis_codes(), member_ids)
selective_accesses = st.one_of(st.none(), st.builds(SelectiveAccess, st.integers(0, 255), small_data))
descriptors_with_selection = st.builds(CosemAttributeDescriptorWithSelection, attribute_descriptors,
                                       selective_accesses)
datablocks = st.builds(DataBlockSA, st.booleans(), block_numbers, raw_blocks)
get_data_results = st.one_of(small_data, access_results)


def lists(s: st.SearchStrategy, max_size: int = 4) -> st.SearchStrategy[tuple]:
    return st.lists(s, max_size=max_size).map(tuple)


# --------------------------------------------------------------------------- gurux XML

_GURUX_NAMES = {
    DataType.NULL_DATA: "None", DataType.BOOLEAN: "Boolean", DataType.BIT_STRING: "BitString",
    DataType.DOUBLE_LONG: "Int32", DataType.DOUBLE_LONG_UNSIGNED: "UInt32",
    DataType.OCTET_STRING: "OctetString", DataType.VISIBLE_STRING: "String",
    DataType.UTF8_STRING: "StringUTF8", DataType.BCD: "BCD", DataType.INTEGER: "Int8",
    DataType.LONG: "Int16", DataType.UNSIGNED: "UInt8", DataType.LONG_UNSIGNED: "UInt16",
    DataType.LONG64: "Int64", DataType.LONG64_UNSIGNED: "UInt64", DataType.ENUM: "Enum",
    DataType.FLOAT32: "Float32", DataType.FLOAT64: "Float64", DataType.DATE_TIME: "DateTime",
    DataType.TIME: "Time", DataType.ARRAY: "Array", DataType.STRUCTURE: "Structure",
}
# Types gurux-dlms 1.0.203's translator renders (it crashes on date and dont-care).
GURUX_TYPES = tuple(_GURUX_NAMES)


def assert_gurux_data(elem: ET.Element, d: Data) -> None:
    """Check that a gurux simple-XML value element shows exactly our Data value."""
    assert elem.tag == _GURUX_NAMES[d.type], (elem.tag, d)
    t, v = d.type, d.value
    got = elem.get("Value")
    if t in (DataType.ARRAY, DataType.STRUCTURE):
        assert int(elem.get("Qty"), 16) == len(v)
        assert len(elem) == len(v)
        for child, item in zip(elem, v):
            assert_gurux_data(child, item)
    elif t in INTEGER_FORMATS:
        size, signed = INTEGER_FORMATS[t]
        assert int(got, 16) == v & ((1 << (8 * size)) - 1)
    elif t in FLOAT_FORMATS:
        assert bytes.fromhex(got) == FLOAT_FORMATS[t].pack(v)
    elif t == DataType.BOOLEAN:
        assert got == str(v)
    elif t == DataType.BIT_STRING:
        assert got == v.bits
    elif t == DataType.OCTET_STRING:
        assert bytes.fromhex(got) == v
    elif t == DataType.VISIBLE_STRING:
        assert got == v
    elif t == DataType.UTF8_STRING:
        # gurux shows a utf8-string as hex, except some short texts it shows as the text itself
        assert got == v or _hex_equals(got, v.encode("utf-8")), (got, v)
    elif t in (DataType.DATE_TIME, DataType.TIME):
        assert bytes.fromhex(got) == v.to_bytes()
    else:
        assert t == DataType.NULL_DATA and got is None


def _hex_equals(text: str, raw: bytes) -> bool:
    try:
        return bytes.fromhex(text) == raw
    except ValueError:
        return False


def gurux_xml(apdu: bytes) -> ET.Element:
    """gurux-dlms's own reading of an APDU, as a simple-XML element tree."""
    from gurux_dlms import GXDLMSTranslator
    from gurux_dlms.enums import TranslatorOutputType

    return ET.fromstring(GXDLMSTranslator(TranslatorOutputType.SIMPLE_XML).pduToXml(apdu))


def gurux_value(elem: ET.Element | None, name: str) -> int:
    """An integer from a gurux `<Name Value="hex"/>` child."""
    assert elem is not None
    child = elem.find(f".//{name}")
    assert child is not None, f"no {name} in gurux XML"
    return int(child.get("Value"), 16)


def assert_gurux_descriptor(elem: ET.Element, class_id: int, obis: bytes, member: int, member_tag: str) -> None:
    assert gurux_value(elem, "ClassId") == class_id
    inst = elem.find(".//InstanceId")
    assert inst is not None and bytes.fromhex(inst.get("Value")) == obis
    assert gurux_value(elem, member_tag) == member & 0xFF


def gurux_client() -> Any:
    """A gurux LN client on the wrapper interface (its requests are what we decode)."""
    from gurux_dlms import GXDLMSClient
    from gurux_dlms.enums import Conformance, InterfaceType

    c = GXDLMSClient(True, 16, 1)
    c.interfaceType = InterfaceType.WRAPPER
    c.negotiatedConformance |= Conformance.MULTIPLE_REFERENCES | Conformance.SELECTIVE_ACCESS
    return c


def gurux_apdus(messages: list) -> list[bytes]:
    """Strip the 8-byte wrapper header of each gurux message (readList nests them in lists)."""
    flat = [m for group in messages for m in (group if isinstance(group, list) else [group])]
    return [wrapper_apdu(bytes(m)) for m in flat]
