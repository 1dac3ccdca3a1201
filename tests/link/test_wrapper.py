"""IEC 62056-47 wrapper frames and the TCP stream reader."""

from __future__ import annotations

import contextlib
import gc
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import DecodeError, EncodeError
from simulator.link.wrapper import WrapperFrame, WrapperReader

# TCP wrapper + AARQ, opendlms test_association,
# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/tests/test_association.cpp
AARQ_OPENDLMS = bytes.fromhex("000100100001001F601DA109060760857405080101BE10040E01000000065F1F040062FEDFFFFF")
# TCP wrapper + GET association object_list, same source.
GET_OBJECT_LIST_OPENDLMS = bytes.fromhex("000100100001000DC001C1000F0000280000FF0200")
# TCP wrapper + AARE, EnergyICT/Connexo AssociationControlServiceElementTest,
# https://github.com/chandangeek/Connexo_Code/blob/0dd188609c52bfc25fe5cc0d36f870ad58f4dfae/upl/com.energyict.mdc.upl.impl/dlms/src/test/java/com/energyict/dlms/aso/AssociationControlServiceElementTest.java
AARE_CONNEXO = bytes.fromhex(
    "000100010064002C612AA109060760857405080101A203020100A305A103020100BE11040F080100065F1F0400007C1F04000007")

VECTORS = [(AARQ_OPENDLMS, 16, 1, 31), (GET_OBJECT_LIST_OPENDLMS, 16, 1, 13), (AARE_CONNEXO, 1, 100, 44)]


@pytest.mark.parametrize(("data", "source", "destination", "length"), VECTORS)
def test_vectors(data: bytes, source: int, destination: int, length: int) -> None:
    frame = WrapperFrame.from_bytes(data)
    assert (frame.source_wport, frame.destination_wport, len(frame.apdu)) == (source, destination, length)
    assert frame.apdu == data[8:]
    assert frame.to_bytes() == data


def test_datagram_must_be_exactly_one_frame() -> None:
    with pytest.raises(DecodeError):
        WrapperFrame.from_bytes(AARQ_OPENDLMS + b"\x00")
    with pytest.raises(DecodeError):
        WrapperFrame.from_bytes(AARQ_OPENDLMS[:-1])


def test_wrong_version() -> None:
    with pytest.raises(DecodeError) as info:
        WrapperFrame.from_bytes(b"\x00\x02" + AARQ_OPENDLMS[2:])
    assert info.value.offset == 0


def test_every_truncation_and_bit_flip() -> None:
    for data in (AARQ_OPENDLMS, GET_OBJECT_LIST_OPENDLMS, AARE_CONNEXO):
        for n in range(len(data)):
            with pytest.raises(DecodeError):
                WrapperFrame.from_bytes(data[:n])
        for i in range(len(data)):
            for bit in range(8):
                flipped = data[:i] + bytes((data[i] ^ (1 << bit),)) + data[i + 1:]
                try:
                    WrapperFrame.from_bytes(flipped)
                except DecodeError:
                    assert i < 8  # only the header can make a frame invalid


@pytest.mark.parametrize("frame", [
    WrapperFrame(0x10000, 1, b""), WrapperFrame(1, -1, b""), WrapperFrame(1, 1, bytes(0x10000)),
])
def test_unencodable(frame: WrapperFrame) -> None:
    with pytest.raises(EncodeError):
        frame.to_bytes()


def _drain(reader: WrapperReader) -> list[WrapperFrame]:
    out = []
    while (frame := reader.next_frame()) is not None:
        out.append(frame)
    return out


STREAM = AARQ_OPENDLMS + GET_OBJECT_LIST_OPENDLMS + AARE_CONNEXO
EXPECTED = [WrapperFrame.from_bytes(d) for d in (AARQ_OPENDLMS, GET_OBJECT_LIST_OPENDLMS, AARE_CONNEXO)]


def test_reader_whole_stream() -> None:
    reader = WrapperReader()
    reader.receive_data(STREAM)
    assert _drain(reader) == EXPECTED


def test_reader_byte_by_byte() -> None:
    reader = WrapperReader()
    out = []
    for i in range(len(STREAM)):
        reader.receive_data(STREAM[i:i + 1])
        out += _drain(reader)
    assert out == EXPECTED


def test_reader_trailing_partial_frame_waits() -> None:
    reader = WrapperReader()
    reader.receive_data(AARQ_OPENDLMS + GET_OBJECT_LIST_OPENDLMS[:5])
    assert _drain(reader) == EXPECTED[:1]
    reader.receive_data(GET_OBJECT_LIST_OPENDLMS[5:])
    assert _drain(reader) == EXPECTED[1:2]


def test_reader_wrong_version_is_final() -> None:
    reader = WrapperReader()
    reader.receive_data(AARQ_OPENDLMS + b"\x00\x02" + AARQ_OPENDLMS[2:])
    assert reader.next_frame() == EXPECTED[0]
    with pytest.raises(DecodeError):
        reader.next_frame()
    reader.receive_data(AARQ_OPENDLMS)
    with pytest.raises(DecodeError):
        reader.next_frame()


def test_reader_error_does_not_keep_the_callers_data() -> None:
    """A closed connection's reader must not pin its last chunk through the stored error's traceback."""

    class Chunk(bytearray):  # bytearray subclasses take weak references; bytes cannot
        pass

    reader = WrapperReader()

    def received(data: bytes) -> None:  # a transport's data_received: `data` lives in this frame
        reader.receive_data(data)
        reader.next_frame()

    chunk = Chunk(b"\x00\x02" + AARQ_OPENDLMS[2:] + bytes(65536))
    alive = weakref.ref(chunk)
    try:
        received(chunk)
    except DecodeError:
        pass
    else:
        pytest.fail("a wrong wrapper version must raise")
    del chunk
    gc.collect()
    assert alive() is None
    with pytest.raises(DecodeError, match="version"):
        reader.next_frame()


def test_reader_length_limit_checked_before_the_apdu_arrives() -> None:
    reader = WrapperReader(max_apdu_length=16)
    reader.receive_data(GET_OBJECT_LIST_OPENDLMS)
    assert _drain(reader) == EXPECTED[1:2]
    reader.receive_data(AARQ_OPENDLMS[:8])  # header only: length 31 > 16
    with pytest.raises(DecodeError) as info:
        reader.next_frame()
    assert info.value.offset == 6


def test_reader_empty_apdu() -> None:
    reader = WrapperReader()
    reader.receive_data(WrapperFrame(16, 1, b"").to_bytes())
    assert _drain(reader) == [WrapperFrame(16, 1, b"")]


_frames = st.builds(WrapperFrame, st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=600))


@settings(max_examples=100)
@given(_frames)
def test_round_trip(frame: WrapperFrame) -> None:
    assert WrapperFrame.from_bytes(frame.to_bytes()) == frame


@settings(max_examples=60)
@given(st.lists(_frames, max_size=5), st.lists(st.integers(1, 200), max_size=20))
def test_reader_any_chunking(frames: list[WrapperFrame], chunks: list[int]) -> None:
    stream = b"".join(f.to_bytes() for f in frames)
    reader = WrapperReader()
    out: list[WrapperFrame] = []
    pos = 0
    for size in chunks + [len(stream)]:
        reader.receive_data(stream[pos:pos + size])
        out += _drain(reader)
        pos += size
    assert out == frames


@settings(max_examples=100)
@given(st.binary(max_size=100))
def test_arbitrary_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        WrapperFrame.from_bytes(data)
    reader = WrapperReader(max_apdu_length=40)
    reader.receive_data(data)
    with contextlib.suppress(DecodeError):
        _drain(reader)
