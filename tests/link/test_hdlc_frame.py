"""HDLC frame codec and stream reader, checked against published frames."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import DecodeError, EncodeError
from simulator.link.hdlc.address import HDLCAddress
from simulator.link.hdlc.fcs import fcs16_bytes
from simulator.link.hdlc.frame import (
    FRMR_W, FRMR_X, FRMR_Z, FrameCheckError, FrameKind, FrameRejected, HDLCFrame, reject_information,
)
from simulator.link.hdlc.reader import HDLCFrameReader

# Kmethy examples in the archived DLMS UA FAQ "Are examples for information exchange available?",
# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/studio/docs/Are%20examples%20for%20information%20exchange%20available.htm
SNRM_KMETHY = "7EA00A00020023219318717E"
UA_DEFAULTS_KMETHY = "7EA023210002002373F6C58180140502008006020080070400000001080400000001CE6A7E"
AARE_I_KMETHY = ("7EA03A2100020023309941E6E7006129A109060760857405080101A203020100A305A103020100BE10040E08"
                 "00065F1F040000301D190000070C527E")
GET_TIME_REQUEST_KMETHY = "7EA0199575767837E6E600C0018100080000010000FF020065D77E"
GET_TIME_RESPONSE_KMETHY = "7EA01E7595966F67E6E700C4018100090C07D20C04030A060BFF007800F3307E"
GET_TZ_RESPONSE_KMETHY = "7EA0137595DA8864E6E700C4018100100078563A7E"
GET_STATUS_REQUEST_KMETHY = "7EA0199575FE383FE6E600C0018100080000010000FF0400B5837E"
GET_STATUS_RESPONSE_KMETHY = "7EA01275951E1BF8E6E700C40181001100AC5B7E"
GET_DST_BEGIN_RESPONSE_KMETHY = "7EA01E75953053A7E6E700C4018100090CFF4F19F3007000000000000F090A7E"
GET_DST_ENABLED_RESPONSE_KMETHY = "7EA0127595965BF0E6E700C401810003008DFD7E"
GET_CLOCK_BASE_RESPONSE_KMETHY = "7EA0127595B82738E6E700C401810016012D077E"
SET_TZ_REQUEST_KMETHY = "7EA01C9575DC7F53E6E600C1018100080000010000FF030010007801177E"
SET_RESPONSE_KMETHY = "7EA0107595B85101E6E700C501810036CF7E"
# Landis+Gyr trace, https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/studio/docs/hdlc/hdlc.txt
UA_LANDIS_GYR = "7EA01D0300020021731B2B81800E050200800602008007010108010125C77E"
RR_SERVER_LANDIS_GYR = "7EA00A030002002131DC387E"
RR_CLIENT_LANDIS_GYR = "7EA00A0002002103313B527E"
# opendlms unit tests, https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/tests/test_hdlc.cpp
RR_NR5_OPENDLMS = "7EA00A0002002507B132D27E"
LAST_SEGMENT_OPENDLMS = (
    "7EA07A030002002356990D0A19FF0D1813FF8000FF020312000002020F00161B090C07E10A19FF0D1503FF8000FF0203120000"
    "02020F00161B090C07C80106FF161E00FF8000FF020312000002020F00161B090C07C80106FF160F00FF8000FF0203120000"
    "02020F00161B090C07C80106FF160000FF8000FF05B47E")
# dlms-cosem unit tests, https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_hdlc/test_hdlc.py
AARQ_I_U9N = "7EA02C02232110AF9FE6E600601DA109060760857405080101BE10040E01000000065F1F0400001E1DFFFFC5E47E"
AARE_I_U9N = ("7EA0382102233034E7E6E7006129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F"
              "0400001E1D04C80007B86A7E")
SEGMENT_LENGTH_7E_U9N = (
    "7EA87E210396A4090F01160002020F02160002020F03160002020F04160002020F05160002020F0616000204120017110009"
    "060000160000FF0202010902030F0116010002030F0216010002030F0316010002030F0416010002030F0516010002030F06"
    "16010002030F0716010002030F0816010002030F09160100016FF37E")
# Real meter trace, https://github.com/milanbella/gocosem/blob/02b8a72f67613192aba85cd284e0cdb02a34378c/doc/electronica/trace-authentication-and-encryption.txt
UA_239_GOCOSEM = "7EA023210002002373F6C5818014050200EF060200EF070400000001080400000001074B7E"
GET_LIST_REQUEST_GOCOSEM = "7EA0270002002321325788E6E600C003C102000100002B0100FF0200000100002B0101FF02001B6E7E"
GET_LIST_RESPONSE_GOCOSEM = "7EA01F210002002352AD92E6E700C403C102000600000058000600000000942E7E"
DISC_GOCOSEM = "7EA00A00020023215314B77E"
UA_AFTER_DISC_GOCOSEM = "7EA00A2100020023734CE77E"
# Real meter trace, https://github.com/milanbella/gocosem/blob/02b8a72f67613192aba85cd284e0cdb02a34378c/doc/electronica/trace__low_level_sec.txt
AARQ_LLS_GOCOSEM = ("7EA047000294B303101B2BE6E6006036A1090607608574050801018A0207808B0760857405080201AC0A8008"
                    "3132333435363738BE10040E01000000065F1F0400FFFFFFFFFFAD1A7E")
UA_1_BYTE_GOCOSEM = "7EA02103000294B3733E8C8180120501EF0601EF0704000000010804000000010DE77E"
# Kaifa HAN port push, https://github.com/UtilitechAS/amsreader-firmware/blob/abf92a285f38e7e3903c608d35da86048c4f655c/frames/Kaifa-TN-3p.raw
DATA_NOTIFICATION_KAIFA = (
    "7EA079010201108093E6E7000F40000000090C07E1090E04151F14FF800000020D09074B464D5F30303109103639373036333134"
    "303137353339383509084D41333034483345060000040C06000000000600000000060000004E06000007C10600000C9E060000"
    "0D7E060000095F0600000000060000096687967E")

I, RR, UA = FrameKind.I, FrameKind.RR, FrameKind.UA  # noqa: E741 - the standard's names
C16 = HDLCAddress.client(16)
S4 = HDLCAddress(1, 17, 4)
K_CLIENT, K_SERVER = HDLCAddress(58), HDLCAddress(74)  # the FAQ's 0x75 / 0x95

# (frame, kind, N(S), N(R), segmented, destination, source, information length)
VECTORS = [
    (SNRM_KMETHY, FrameKind.SNRM, 0, 0, False, S4, C16, 0),
    (UA_DEFAULTS_KMETHY, UA, 0, 0, False, C16, S4, 23),
    (AARE_I_KMETHY, I, 0, 1, False, C16, S4, 46),
    (GET_TIME_REQUEST_KMETHY, I, 3, 3, False, K_SERVER, K_CLIENT, 16),
    (GET_TIME_RESPONSE_KMETHY, I, 3, 4, False, K_CLIENT, K_SERVER, 21),
    (GET_TZ_RESPONSE_KMETHY, I, 5, 6, False, K_CLIENT, K_SERVER, 10),
    (GET_STATUS_REQUEST_KMETHY, I, 7, 7, False, K_SERVER, K_CLIENT, 16),
    (GET_STATUS_RESPONSE_KMETHY, I, 7, 0, False, K_CLIENT, K_SERVER, 9),
    (GET_DST_BEGIN_RESPONSE_KMETHY, I, 0, 1, False, K_CLIENT, K_SERVER, 21),
    (GET_DST_ENABLED_RESPONSE_KMETHY, I, 3, 4, False, K_CLIENT, K_SERVER, 9),
    (GET_CLOCK_BASE_RESPONSE_KMETHY, I, 4, 5, False, K_CLIENT, K_SERVER, 9),
    (SET_TZ_REQUEST_KMETHY, I, 6, 6, False, K_SERVER, K_CLIENT, 19),
    (SET_RESPONSE_KMETHY, I, 4, 5, False, K_CLIENT, K_SERVER, 7),
    (UA_LANDIS_GYR, UA, 0, 0, False, HDLCAddress.client(1), HDLCAddress(1, 16, 4), 17),
    (RR_SERVER_LANDIS_GYR, RR, 0, 1, False, HDLCAddress.client(1), HDLCAddress(1, 16, 4), 0),
    (RR_CLIENT_LANDIS_GYR, RR, 0, 1, False, HDLCAddress(1, 16, 4), HDLCAddress.client(1), 0),
    (RR_NR5_OPENDLMS, RR, 0, 5, False, HDLCAddress(1, 18, 4), HDLCAddress.client(3), 0),
    (LAST_SEGMENT_OPENDLMS, I, 3, 2, False, HDLCAddress.client(1), S4, 110),
    (AARQ_I_U9N, I, 0, 0, False, HDLCAddress(1, 17, 2), C16, 34),
    (AARE_I_U9N, I, 0, 1, False, C16, HDLCAddress(1, 17, 2), 46),
    (SEGMENT_LENGTH_7E_U9N, I, 3, 4, True, C16, HDLCAddress(1), 117),
    (UA_239_GOCOSEM, UA, 0, 0, False, C16, S4, 23),
    (GET_LIST_REQUEST_GOCOSEM, I, 1, 1, False, S4, C16, 27),
    (GET_LIST_RESPONSE_GOCOSEM, I, 1, 2, False, C16, S4, 19),
    (DISC_GOCOSEM, FrameKind.DISC, 0, 0, False, S4, C16, 0),
    (UA_AFTER_DISC_GOCOSEM, UA, 0, 0, False, C16, S4, 0),
    (AARQ_LLS_GOCOSEM, I, 0, 0, False, HDLCAddress(1, 9561, 4), HDLCAddress.client(1), 59),
    (UA_1_BYTE_GOCOSEM, UA, 0, 0, False, HDLCAddress.client(1), HDLCAddress(1, 9561, 4), 21),
    (DATA_NOTIFICATION_KAIFA, I, 0, 0, False, HDLCAddress(0), HDLCAddress(1, 0, 2), 111),
]
ALL_FRAMES = [bytes.fromhex(v[0]) for v in VECTORS]


def _flip(data: bytes, index: int, bit: int) -> bytes:
    return data[:index] + bytes((data[index] ^ (1 << bit),)) + data[index + 1:]


@pytest.mark.parametrize("vector", VECTORS, ids=[v[0][:24] for v in VECTORS])
def test_vectors_decode_and_encode_byte_exact(vector: tuple) -> None:
    hexstr, kind, ns, nr, segmented, destination, source, info_len = vector
    data = bytes.fromhex(hexstr)
    frame = HDLCFrame.from_bytes(data)
    assert (frame.kind, frame.ns, frame.nr, frame.segmented) == (kind, ns, nr, segmented)
    assert (frame.destination, frame.source, len(frame.information)) == (destination, source, info_len)
    assert frame.poll_final
    assert frame.control == data[3 + destination.length + source.length]
    assert frame.to_bytes() == data


def test_llc_headers_of_vectors() -> None:
    assert HDLCFrame.from_bytes(bytes.fromhex(AARQ_I_U9N)).information[:3] == b"\xe6\xe6\x00"
    assert HDLCFrame.from_bytes(bytes.fromhex(AARE_I_U9N)).information[:3] == b"\xe6\xe7\x00"


def test_frame_without_information_has_no_hcs() -> None:
    frame = HDLCFrame(S4, C16, FrameKind.SNRM)
    assert frame.to_bytes() == bytes.fromhex(SNRM_KMETHY)
    assert len(frame.to_bytes()) == 12  # flag, format 2, addresses 5, control, FCS 2, flag


def test_control_field_encoding() -> None:
    assert HDLCFrame(C16, S4, I, True, ns=3, nr=5).control == 0xB6
    assert HDLCFrame(C16, S4, I, False, ns=7, nr=7).control == 0xEE
    assert HDLCFrame(C16, S4, FrameKind.RNR, True, nr=2).control == 0x55
    expected = {FrameKind.SNRM: 0x93, FrameKind.DISC: 0x53, UA: 0x73, FrameKind.DM: 0x1F,
                FrameKind.FRMR: 0x97, FrameKind.UI: 0x13}
    for kind, control in expected.items():
        assert HDLCFrame(C16, S4, kind).control == control
        assert HDLCFrame(C16, S4, kind, False).control == control & 0xEF


def _with_fcs(body: bytes) -> bytes:
    """Wrap a frame body (format .. information) with a correct FCS and flags."""
    return b"\x7e" + body + fcs16_bytes(body) + b"\x7e"


def _header(dst: bytes, src: bytes, control: int, info_len: int = 0) -> bytes:
    length = 2 + len(dst) + len(src) + 1 + 2 + (info_len + 2 if info_len else 0)
    head = bytes((0xA0 | length >> 8, length & 0xFF)) + dst + src + bytes((control,))
    return head + fcs16_bytes(head) if info_len else head


def test_unknown_control_is_rejected_with_w() -> None:
    # 0x99: REJ with P=1 (ISO 13239 has it, DLMS does not use it).
    data = _with_fcs(_header(b"\x00\x02\x00\x23", b"\x21", 0x99))
    with pytest.raises(FrameRejected) as info:
        HDLCFrame.from_bytes(data)
    err = info.value
    assert (err.control, err.flags, err.poll) == (0x99, FRMR_W, True)
    assert (err.destination, err.source) == (S4, C16)


def test_information_where_none_is_allowed_is_rejected_with_w_and_x() -> None:
    data = _with_fcs(_header(b"\x00\x02\x00\x23", b"\x21", 0x31, 2) + b"\x01\x02")
    with pytest.raises(FrameRejected) as info:
        HDLCFrame.from_bytes(data)
    assert info.value.flags == FRMR_W | FRMR_X
    data = _with_fcs(_header(b"\x00\x02\x00\x23", b"\x21", 0x53, 1) + b"\x00")
    with pytest.raises(FrameRejected):
        HDLCFrame.from_bytes(data)


def test_bad_fcs_and_bad_hcs() -> None:
    data = bytes.fromhex(AARQ_I_U9N)
    with pytest.raises(FrameCheckError):
        HDLCFrame.from_bytes(data[:-3] + bytes((data[-3] ^ 1,)) + data[-2:])
    # Corrupt the HCS but keep the FCS right: still a check error.
    body = bytearray(data[1:-3])
    body[6] ^= 0xFF
    with pytest.raises(FrameCheckError):
        HDLCFrame.from_bytes(_with_fcs(bytes(body)))


@pytest.mark.parametrize(("data", "why"), [
    (b"\x7e\xa0\x07\x03\x21\x93\x00\x00", "too short / no closing flag"),
    (bytes.fromhex(SNRM_KMETHY)[1:], "no opening flag"),
    (bytes.fromhex(SNRM_KMETHY) + b"\x7e", "trailing flag"),
    (bytes.fromhex(SNRM_KMETHY) + bytes.fromhex(SNRM_KMETHY), "two frames"),
    (_with_fcs(b"\xb0\x0a\x00\x02\x00\x23\x21\x93"), "format type 0xB"),
    (_with_fcs(b"\xa0\x0b\x00\x02\x00\x23\x21\x93"), "length field too large"),
    (_with_fcs(b"\xa0\x09\x00\x02\x00\x23\x21\x93"), "length field too small"),
    (_with_fcs(_header(b"\x00\x02\x23", b"\x21", 0x93)), "3-byte address"),
    (_with_fcs(_header(b"\x00\x00\x00\x00\x00", b"\x21", 0x93)), "address without end bit"),
    (_with_fcs(b"\xa0\x07\x03\x02\x23"), "no control field"),
    (_with_fcs(b"\xa0\x08\x03\x21\x13\x00"), "one byte after the control field"),
])
def test_malformed(data: bytes, why: str) -> None:
    with pytest.raises(DecodeError):
        HDLCFrame.from_bytes(data)


def test_hcs_without_information_is_malformed() -> None:
    head = _header(b"\x03", b"\x21", 0x13, 0)
    length = len(head) + 4
    head = bytes((0xA0, length)) + head[2:]
    with pytest.raises(DecodeError):
        HDLCFrame.from_bytes(_with_fcs(head + fcs16_bytes(head)))


def test_every_truncation_and_bit_flip_decodes_or_raises_decode_error() -> None:
    for data in ALL_FRAMES:
        for n in range(len(data)):
            with pytest.raises(DecodeError):
                HDLCFrame.from_bytes(data[:n])
        for i in range(len(data)):
            for bit in range(8):
                with contextlib.suppress(DecodeError):
                    HDLCFrame.from_bytes(_flip(data, i, bit))


def test_single_bit_flips_inside_checked_part_are_caught() -> None:
    # A CRC-16 detects every single-bit error: no flip between the flags may decode.
    for data in ALL_FRAMES[:6]:
        for i in range(3, len(data) - 1):
            for bit in range(8):
                with pytest.raises(DecodeError):
                    HDLCFrame.from_bytes(_flip(data, i, bit))


@pytest.mark.parametrize("frame", [
    HDLCFrame(C16, S4, I, ns=8),
    HDLCFrame(C16, S4, RR, nr=-1),
    HDLCFrame(C16, S4, RR, information=b"\x00"),
    HDLCFrame(C16, S4, FrameKind.DISC, information=b"\x00"),
    HDLCFrame(C16, S4, I, information=bytes(2036)),
])
def test_unencodable(frame: HDLCFrame) -> None:
    with pytest.raises(EncodeError):
        frame.to_bytes()


def test_longest_frame() -> None:
    frame = HDLCFrame(C16, S4, I, information=bytes(2035), segmented=True)
    data = frame.to_bytes()
    assert len(data) == 2049 and data[1:3] == b"\xaf\xff"
    assert HDLCFrame.from_bytes(data) == frame


def test_frmr_information_field() -> None:
    # Rejected control 0x32, V(S)=3, V(R)=5, invalid N(R).
    assert reject_information(0x32, 3, 5, FRMR_Z) == bytes((0x32, 0xA6, 0x08))


_addresses = st.one_of(
    st.builds(HDLCAddress, st.integers(0, 0x7F)),
    st.builds(HDLCAddress, st.integers(0, 0x7F), st.integers(0, 0x7F), st.just(2)),
    st.builds(HDLCAddress, st.integers(0, 0x3FFF), st.integers(0, 0x3FFF), st.just(4)),
)


@st.composite
def frames(draw: st.DrawFn) -> HDLCFrame:
    kind = draw(st.sampled_from(list(FrameKind)))
    info = b""
    if kind in (I, FrameKind.UI, FrameKind.SNRM, UA, FrameKind.FRMR, FrameKind.DM):
        info = draw(st.binary(max_size=300))
    return HDLCFrame(
        draw(_addresses), draw(_addresses), kind, draw(st.booleans()),
        draw(st.integers(0, 7)) if kind is I else 0,
        draw(st.integers(0, 7)) if kind in (I, RR, FrameKind.RNR) else 0,
        draw(st.booleans()), info)


@settings(max_examples=150)
@given(frames())
def test_round_trip(frame: HDLCFrame) -> None:
    assert HDLCFrame.from_bytes(frame.to_bytes()) == frame


@settings(max_examples=150)
@given(st.binary(max_size=40))
def test_arbitrary_bytes_between_flags(body: bytes) -> None:
    for data in (b"\x7e" + body + b"\x7e", _with_fcs(body)):
        with contextlib.suppress(DecodeError):
            HDLCFrame.from_bytes(data)


# -- reader ---------------------------------------------------------------------------------

def _read_all(reader: HDLCFrameReader) -> list[HDLCFrame | DecodeError]:
    out: list[HDLCFrame | DecodeError] = []
    while True:
        try:
            frame = reader.next_frame()
        except DecodeError as error:
            out.append(error)
            continue
        if frame is None:
            return out
        out.append(frame)


def _feed(stream: bytes, chunks: list[int] | None = None) -> tuple[list[HDLCFrame | DecodeError], HDLCFrameReader]:
    reader = HDLCFrameReader()
    out: list[HDLCFrame | DecodeError] = []
    if chunks is None:
        reader.receive_data(stream)
        out += _read_all(reader)
    else:
        pos = 0
        for size in chunks:
            reader.receive_data(stream[pos:pos + size])
            out += _read_all(reader)
            pos += size
        reader.receive_data(stream[pos:])
        out += _read_all(reader)
    return out, reader


EXPECTED = [HDLCFrame.from_bytes(f) for f in ALL_FRAMES]


def test_reader_whole_stream() -> None:
    out, reader = _feed(b"".join(ALL_FRAMES))
    assert out == EXPECTED
    assert not reader.has_partial and reader.skipped == 0


def test_reader_byte_by_byte() -> None:
    stream = b"".join(ALL_FRAMES)
    out, _ = _feed(stream, [1] * len(stream))
    assert out == EXPECTED


def test_reader_shared_flags() -> None:
    # 7E frame 7E frame 7E: each closing flag opens the next frame.
    stream = ALL_FRAMES[0] + b"".join(f[1:] for f in ALL_FRAMES[1:])
    assert _feed(stream)[0] == EXPECTED
    assert _feed(stream, [1] * len(stream))[0] == EXPECTED


def test_reader_repeated_flags_between_frames() -> None:
    stream = b"\x7e\x7e\x7e".join(ALL_FRAMES) + b"\x7e\x7e"
    out, reader = _feed(stream)
    assert out == EXPECTED
    assert not reader.has_partial and reader.skipped == 0


def test_reader_trailing_partial_frame_waits() -> None:
    partial = ALL_FRAMES[2][:20]
    out, reader = _feed(ALL_FRAMES[0] + partial)
    assert out == EXPECTED[:1]
    assert reader.has_partial
    reader.receive_data(ALL_FRAMES[2][20:])
    assert _read_all(reader) == [EXPECTED[2]]


def test_reader_skips_garbage_and_resynchronises() -> None:
    garbage = b"\x00\xff\x12\x7e\x01\x7e\xa0\x05"  # noise, a flag with a bad format, a too-short length
    out, reader = _feed(garbage + ALL_FRAMES[0] + b"\x55\x66" + ALL_FRAMES[1])
    assert out == EXPECTED[:2]
    assert reader.skipped == len(garbage) - 2 + 2  # flags are not counted


def test_reader_frame_whose_length_byte_is_a_flag_value() -> None:
    data = bytes.fromhex(SEGMENT_LENGTH_7E_U9N)
    assert data[2] == 0x7E
    assert _feed(data, [1] * len(data))[0] == [HDLCFrame.from_bytes(data)]


def test_reader_reports_bad_fcs_and_goes_on() -> None:
    bad = ALL_FRAMES[1][:-3] + bytes((ALL_FRAMES[1][-3] ^ 0x40,)) + ALL_FRAMES[1][-2:]
    out, _ = _feed(ALL_FRAMES[0] + bad + ALL_FRAMES[2])
    assert out[0] == EXPECTED[0] and out[2] == EXPECTED[2]
    assert isinstance(out[1], FrameCheckError)


def test_reader_missing_closing_flag_rescans() -> None:
    # A frame start whose length points at a non-flag byte is dropped up to the next flag.
    torn = ALL_FRAMES[2][:-1] + b"\x00"
    out, reader = _feed(torn + ALL_FRAMES[0])
    assert out == EXPECTED[:1]


def test_reader_discard_partial_after_false_start() -> None:
    # A false start claiming a long frame hides a real one until the partial frame is dropped.
    false_start = b"\x7e\xa7\xff\x01\x02"
    reader = HDLCFrameReader()
    reader.receive_data(false_start + ALL_FRAMES[0])
    assert _read_all(reader) == []
    assert reader.has_partial
    reader.discard_partial()
    assert _read_all(reader) == EXPECTED[:1]
    assert not reader.has_partial
    reader.discard_partial()  # nothing pending: no effect
    assert _read_all(reader) == []


@settings(max_examples=60)
@given(st.lists(st.integers(1, 60), max_size=40))
def test_reader_any_chunking(chunks: list[int]) -> None:
    stream = b"".join(ALL_FRAMES[:12])
    assert _feed(stream, chunks)[0] == EXPECTED[:12]


@settings(max_examples=100)
@given(st.binary(max_size=200), st.lists(st.integers(1, 30), max_size=10))
def test_reader_arbitrary_input_only_raises_decode_error(noise: bytes, chunks: list[int]) -> None:
    out, _ = _feed(noise + b"\x7e\xa0" + noise, chunks)
    assert all(isinstance(item, (HDLCFrame, DecodeError)) for item in out)
