"""HDLC address encoding (IEC 62056-46 clause 6.4.2)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.errors import DecodeError, EncodeError
from simulator.link.hdlc.address import HDLCAddress

# Address fields taken from the vector frames (dlms-vectors.json):
# SNRM 7EA00A00020023219318717E, Kmethy examples in the archived DLMS UA FAQ,
# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/studio/docs/Are%20examples%20for%20information%20exchange%20available.htm
SERVER_4_BYTE_KMETHY = bytes.fromhex("00020023")  # logical 1, physical 17
CLIENT_PUBLIC_KMETHY = bytes.fromhex("21")  # SAP 16
# AARQ with LLS, real meter trace,
# https://github.com/milanbella/gocosem/blob/02b8a72f67613192aba85cd284e0cdb02a34378c/doc/electronica/trace__low_level_sec.txt
SERVER_4_BYTE_GOCOSEM = bytes.fromhex("000294B3")  # logical 1, physical 9561
# AARQ I-frame, https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_hdlc/test_hdlc.py
SERVER_2_BYTE_U9N = bytes.fromhex("0223")  # logical 1, physical 17
# Kaifa HAN port push, https://github.com/UtilitechAS/amsreader-firmware/blob/abf92a285f38e7e3903c608d35da86048c4f655c/frames/Kaifa-TN-3p.raw
SERVER_2_BYTE_KAIFA = bytes.fromhex("0201")  # logical 1, physical 0
# GET clock request (Kmethy FAQ): one-byte server address 0x95 (logical 74).
SERVER_1_BYTE_KMETHY = bytes.fromhex("95")


@pytest.mark.parametrize(("wire", "address"), [
    (SERVER_4_BYTE_KMETHY, HDLCAddress(1, 17, 4)),
    (CLIENT_PUBLIC_KMETHY, HDLCAddress.client(16)),
    (SERVER_4_BYTE_GOCOSEM, HDLCAddress(1, 9561, 4)),
    (SERVER_2_BYTE_U9N, HDLCAddress(1, 17, 2)),
    (SERVER_2_BYTE_KAIFA, HDLCAddress(1, 0, 2)),
    (SERVER_1_BYTE_KMETHY, HDLCAddress(74)),
])
def test_vectors(wire: bytes, address: HDLCAddress) -> None:
    assert HDLCAddress.from_bytes(wire) == address
    assert address.to_bytes() == wire


def test_client_address_is_sap_shifted() -> None:
    assert HDLCAddress.client(1).to_bytes() == b"\x03"
    assert HDLCAddress.client(16).to_bytes() == b"\x21"


def test_automatic_length() -> None:
    assert HDLCAddress(1).length == 1
    assert HDLCAddress(1, 17).length == 2
    assert HDLCAddress(1, 200).length == 4
    assert HDLCAddress(300, 1).length == 4


@pytest.mark.parametrize(("logical", "physical", "length"), [
    (128, None, 1), (1, 5, 1), (1, None, 2), (1, 128, 2), (0x4000, 1, 4), (1, 0x4000, 4), (1, 1, 3),
    (-1, None, 1),
])
def test_values_that_do_not_fit(logical: int, physical: int | None, length: int) -> None:
    with pytest.raises(EncodeError):
        HDLCAddress(logical, physical, length)


def test_all_station() -> None:
    assert HDLCAddress(0x7F).is_all_station
    assert HDLCAddress(1, 0x7F, 2).is_all_station
    assert HDLCAddress(0x3FFF, 0x3FFF, 4).is_all_station
    assert not HDLCAddress(1, 0x7F, 4).is_all_station
    assert not HDLCAddress(1, 17).is_all_station


def test_decode_at_reads_in_place() -> None:
    data = b"\xff" + SERVER_4_BYTE_KMETHY + CLIENT_PUBLIC_KMETHY
    server, pos = HDLCAddress.decode_at(data, 1, len(data))
    client, end = HDLCAddress.decode_at(data, pos, len(data))
    assert (server, client, end) == (HDLCAddress(1, 17, 4), HDLCAddress.client(16), len(data))


@pytest.mark.parametrize("wire", [b"", b"\x00", b"\x00\x02\x21", b"\x00\x00\x00\x00\x01", b"\x02\x02\x02\x02"])
def test_malformed(wire: bytes) -> None:
    with pytest.raises(DecodeError):
        HDLCAddress.from_bytes(wire)


def test_trailing_data() -> None:
    with pytest.raises(DecodeError):
        HDLCAddress.from_bytes(SERVER_2_BYTE_U9N + b"\x21")


@given(st.one_of(
    st.builds(HDLCAddress, st.integers(0, 0x7F)),
    st.builds(HDLCAddress, st.integers(0, 0x7F), st.integers(0, 0x7F), st.just(2)),
    st.builds(HDLCAddress, st.integers(0, 0x3FFF), st.integers(0, 0x3FFF), st.just(4)),
))
def test_round_trip(address: HDLCAddress) -> None:
    wire = address.to_bytes()
    assert len(wire) == address.length
    assert HDLCAddress.from_bytes(wire) == address


@given(st.binary(max_size=6))
def test_arbitrary_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        HDLCAddress.from_bytes(data)
