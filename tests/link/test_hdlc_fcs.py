"""CRC-16/X.25 used for the HDLC HCS and FCS."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.link.hdlc.fcs import FCS_GOOD, fcs16, fcs16_bytes

# SNRM without parameters, Kmethy examples in the archived DLMS UA FAQ:
# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/studio/docs/Are%20examples%20for%20information%20exchange%20available.htm
SNRM_KMETHY = bytes.fromhex("7EA00A00020023219318717E")
# UA with default parameters (same source): HCS F6C5, FCS CE6A.
UA_KMETHY = bytes.fromhex("7EA023210002002373F6C58180140502008006020080070400000001080400000001CE6A7E")


def _reference(data: bytes) -> int:
    """Bit-serial definition: reflected polynomial 0x8408, init 0xFFFF, final complement."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def test_check_value() -> None:
    # The catalogue check value of CRC-16/X-25 over the ASCII digits 1..9.
    assert fcs16(b"123456789") == 0x906E


def test_empty() -> None:
    assert fcs16(b"") == _reference(b"") == 0x0000


def test_frame_without_information_has_fcs_only() -> None:
    body = SNRM_KMETHY[1:-3]
    assert fcs16_bytes(body) == SNRM_KMETHY[-3:-1] == bytes.fromhex("1871")


def test_header_and_frame_check_of_ua() -> None:
    header = UA_KMETHY[1:9]
    assert fcs16_bytes(header) == bytes.fromhex("F6C5")
    assert fcs16_bytes(UA_KMETHY[1:-3]) == bytes.fromhex("CE6A")


def test_residue_over_message_and_its_fcs() -> None:
    assert fcs16(UA_KMETHY[1:-1]) == FCS_GOOD
    assert fcs16(SNRM_KMETHY[1:-1]) == FCS_GOOD


def test_bytearray_input() -> None:
    assert fcs16(bytearray(b"123456789")) == 0x906E


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_matches_bit_serial_reference(data: bytes) -> None:
    assert fcs16(data) == _reference(data)
    assert fcs16(data + fcs16_bytes(data)) == FCS_GOOD
