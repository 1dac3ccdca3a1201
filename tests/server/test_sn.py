"""Short-name referencing: Read, Write, UnconfirmedWrite, methods by short name, block transfer."""

from __future__ import annotations

import pytest

from simulator.apdu.common import DataAccessResult
from simulator.apdu.initiate import Conformance
from simulator.apdu.sn import (
    BlockNumber, BlockNumberAccess, DataBlockResult, ParameterizedAccess, ReadDataBlockAccess, ReadRequest,
    ReadResponse, UnconfirmedWriteRequest, VariableName, WriteDataBlockAccess, WriteRequest, WriteResponse,
)
from simulator.axdr import Data, DataType, encode_data

from simulator.cosem.registry import get_class
from simulator.security.hls import hls_digest_response

from .support import (
    ASSOCIATION_LN, CTOS, HLS_SECRET, REGISTER_LN, REGISTER_VALUE, SCALER_UNIT, SN, Meter, profile_rows,
)

ALL = Conformance(0xFFFFFF)
CLOCK, REGISTER, LDN, SERIAL, PROFILE, FAULTY = 0x2000, 0x2100, 0x2200, 0x2300, 0x2400, 0x2500
REGISTER_RESET = REGISTER + 0x28  # sn_method_offset of Register
NEW_VALUE = Data(DataType.DOUBLE_LONG_UNSIGNED, 4242)


def meter(max_pdu: int = 1024, client: int = 2) -> Meter:
    m = Meter(context=SN)
    m.associate(client=client, max_pdu=max_pdu, conformance=ALL, context=SN)
    return m


def read(m: Meter, *specs: object, client: int = 2) -> tuple[object, ...]:
    return ReadResponse.from_bytes(m.send(ReadRequest(specs).to_bytes(), client) or b"").results  # type: ignore[arg-type]


def write(m: Meter, specs: tuple[object, ...], values: tuple[Data, ...], client: int = 2) -> tuple[object, ...]:
    answer = m.send(WriteRequest(specs, values).to_bytes(), client)  # type: ignore[arg-type]
    return WriteResponse.from_bytes(answer or b"").results


def test_read_attributes_by_short_name() -> None:
    m = meter()
    assert read(m, VariableName(REGISTER), VariableName(REGISTER + 8), VariableName(REGISTER + 16)) == (
        Data(DataType.OCTET_STRING, bytes(REGISTER_LN)), REGISTER_VALUE, SCALER_UNIT)


def test_read_mixed_results() -> None:
    m = meter()
    assert read(m, VariableName(REGISTER + 8), VariableName(0x9990), VariableName(FAULTY + 8),
                VariableName(REGISTER + 3), VariableName(REGISTER + 0x18), BlockNumberAccess(1)) == (
        REGISTER_VALUE, DataAccessResult.OBJECT_UNDEFINED, DataAccessResult.OTHER_REASON,
        DataAccessResult.OBJECT_UNDEFINED, DataAccessResult.OBJECT_UNDEFINED, DataAccessResult.OTHER_REASON)


def test_current_association_base_name() -> None:
    m = meter()
    assert read(m, VariableName(0xFA00)) == (Data(DataType.OCTET_STRING, bytes(ASSOCIATION_LN)),)


def test_visibility_per_association() -> None:
    m = meter(client=3)
    assert read(m, VariableName(REGISTER + 8), VariableName(CLOCK), client=3) == (
        DataAccessResult.OBJECT_UNDEFINED, Data(DataType.OCTET_STRING, bytes.fromhex("0000010000FF")))


def test_write_and_read_back() -> None:
    m = meter()
    assert write(m, (VariableName(REGISTER + 8),), (NEW_VALUE,)) == (DataAccessResult.SUCCESS,)
    assert read(m, VariableName(REGISTER + 8)) == (NEW_VALUE,)


def test_write_refusals() -> None:
    m = meter(client=16)
    assert write(m, (VariableName(REGISTER + 8),), (NEW_VALUE,), client=16) == (DataAccessResult.READ_WRITE_DENIED,)
    m = meter()
    assert write(m, (VariableName(REGISTER + 16), VariableName(0x7770), ParameterizedAccess(REGISTER + 8, 1, NEW_VALUE)),
                 (NEW_VALUE, NEW_VALUE, NEW_VALUE)) == (
        DataAccessResult.TYPE_UNMATCHED, DataAccessResult.OBJECT_UNDEFINED, DataAccessResult.OTHER_REASON)
    assert write(m, (VariableName(REGISTER + 8), VariableName(REGISTER + 8)), (NEW_VALUE,)) == (
        DataAccessResult.OTHER_REASON, DataAccessResult.OTHER_REASON)


def test_method_by_write() -> None:
    m = meter()
    assert write(m, (VariableName(REGISTER_RESET),), (Data(DataType.INTEGER, 0),)) == (DataAccessResult.SUCCESS,)
    assert read(m, VariableName(REGISTER + 8)) == (Data(DataType.DOUBLE_LONG_UNSIGNED, 0),)


def test_method_by_parameterized_read() -> None:
    m = meter()
    assert read(m, ParameterizedAccess(REGISTER_RESET, 0, Data(DataType.INTEGER, 0))) == (Data(DataType.NULL_DATA),)
    assert read(m, ParameterizedAccess(REGISTER_RESET, 0, Data(DataType.BOOLEAN, True))) == (
        DataAccessResult.TYPE_UNMATCHED,)
    assert read(m, VariableName(REGISTER + 8)) == (Data(DataType.DOUBLE_LONG_UNSIGNED, 0),)


def test_method_refused_to_public() -> None:
    m = meter(client=16)
    assert read(m, ParameterizedAccess(REGISTER_RESET, 0, Data(DataType.INTEGER, 0)), client=16) == (
        DataAccessResult.READ_WRITE_DENIED,)


def test_selective_read_by_parameterized_access() -> None:
    m = meter()
    entry = Data(DataType.STRUCTURE, (Data(DataType.DOUBLE_LONG_UNSIGNED, 1), Data(DataType.DOUBLE_LONG_UNSIGNED, 2),
                                      Data(DataType.LONG_UNSIGNED, 2), Data(DataType.LONG_UNSIGNED, 2)))
    rows = read(m, ParameterizedAccess(PROFILE + 8, 2, entry))
    assert rows == (Data(DataType.ARRAY, tuple(Data(DataType.STRUCTURE, (r.value[1],)) for r in profile_rows(10).value[:2])),)


def test_unconfirmed_write() -> None:
    m = meter()
    assert m.send(UnconfirmedWriteRequest((VariableName(REGISTER + 8),), (NEW_VALUE,)).to_bytes(), 2) is None
    assert read(m, VariableName(REGISTER + 8)) == (NEW_VALUE,)


# --------------------------------------------------------------------------- block transfer

def read_blocks(m: Meter, answer: bytes, max_pdu: int) -> bytes:
    raw, n = b"", 0
    while True:
        assert len(answer) <= max_pdu
        (block,) = ReadResponse.from_bytes(answer).results
        assert isinstance(block, DataBlockResult)
        n += 1
        assert block.block_number == n
        raw += block.raw_data
        if block.last_block:
            break
        answer = m.send(ReadRequest((BlockNumberAccess(n),)).to_bytes(), 2) or b""
    return raw


@pytest.mark.parametrize("max_pdu", [20, 64])
def test_long_read_of_one_variable(max_pdu: int) -> None:
    """The raw data is the encoded Data, as for a normal GET."""
    m = meter(max_pdu=max_pdu)
    answer = m.send(ReadRequest((VariableName(PROFILE + 8),)).to_bytes(), 2) or b""
    assert read_blocks(m, answer, max_pdu) == encode_data(profile_rows(10))


@pytest.mark.parametrize("max_pdu", [20, 64])
def test_long_read_of_several_variables(max_pdu: int) -> None:
    """The raw data is the list of Read-Response CHOICEs, as for a GET with list."""
    m = meter(max_pdu=max_pdu)
    answer = m.send(ReadRequest((VariableName(PROFILE + 8), VariableName(REGISTER + 8))).to_bytes(), 2) or b""
    raw = read_blocks(m, answer, max_pdu)
    assert ReadResponse.from_bytes(b"\x0C" + raw).results == (profile_rows(10), REGISTER_VALUE)


def test_long_read_errors() -> None:
    m = meter(max_pdu=64)
    assert read(m, BlockNumberAccess(1)) == (DataAccessResult.NO_LONG_GET_IN_PROGRESS,)
    read(m, VariableName(PROFILE + 8))
    assert read(m, BlockNumberAccess(3)) == (DataAccessResult.DATA_BLOCK_NUMBER_INVALID,)
    assert read(m, BlockNumberAccess(1)) == (DataAccessResult.NO_LONG_GET_IN_PROGRESS,)


def test_long_read_without_block_transfer() -> None:
    m = Meter(context=SN)
    m.associate(client=2, max_pdu=64, conformance=ALL & ~Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ, context=SN)
    assert read(m, VariableName(PROFILE + 8)) == (DataAccessResult.OTHER_REASON,)


def test_long_write_in_blocks() -> None:
    m = meter()
    value = Data(DataType.OCTET_STRING, bytes(range(200)))
    body = WriteRequest((VariableName(LDN + 8),), (value,)).to_bytes()[1:]
    parts = [body[i:i + 64] for i in range(0, len(body), 64)]
    for i, part in enumerate(parts[:-1], start=1):
        assert write(m, (WriteDataBlockAccess(False, i),), (Data(DataType.OCTET_STRING, part),)) == (BlockNumber(i),)
    assert write(m, (WriteDataBlockAccess(True, len(parts)),), (Data(DataType.OCTET_STRING, parts[-1]),)) == (
        DataAccessResult.SUCCESS,)
    assert read(m, VariableName(LDN + 8)) == (value,)


def test_long_read_request_in_blocks() -> None:
    m = meter()
    body = ReadRequest((VariableName(REGISTER + 8), VariableName(REGISTER + 16))).to_bytes()[1:]
    assert read(m, ReadDataBlockAccess(False, 1, body[:4])) == (BlockNumber(1),)
    assert read(m, ReadDataBlockAccess(True, 2, body[4:])) == (REGISTER_VALUE, SCALER_UNIT)


def test_long_write_errors() -> None:
    m = meter()
    assert write(m, (WriteDataBlockAccess(False, 2),), (Data(DataType.OCTET_STRING, b"\x01"),)) == (
        DataAccessResult.DATA_BLOCK_NUMBER_INVALID,)
    assert write(m, (WriteDataBlockAccess(False, 1),), (Data(DataType.UNSIGNED, 1),)) == (
        DataAccessResult.DATA_BLOCK_UNAVAILABLE,)
    assert write(m, (WriteDataBlockAccess(True, 1),), (Data(DataType.OCTET_STRING, b"\x01\x02"),)) == (
        DataAccessResult.OTHER_REASON,)


def test_hls_over_short_names() -> None:
    """While HLS is pending only reply_to_HLS_authentication of the current Association SN may be
    invoked (a Read with parameterized access returns pass 4)."""
    m = Meter(context=SN)
    aare = m.associate(client=5, conformance=ALL, context=SN)
    stoc = aare.responding_authentication_value
    assert isinstance(stoc, bytes)
    assert m.send(ReadRequest((VariableName(REGISTER + 8),)).to_bytes(), 5) == bytes.fromhex("D80101")
    association = get_class(12)
    assert association is not None and association.sn_method_offset is not None
    reply = association.method_named("reply_to_HLS_authentication")
    assert reply is not None
    name = 0xFA00 + association.sn_method_offset + 8 * (reply.index - 1)
    f_stoc = Data(DataType.OCTET_STRING, hls_digest_response(4, stoc, HLS_SECRET))
    assert read(m, ParameterizedAccess(name, 0, f_stoc), client=5) == (
        Data(DataType.OCTET_STRING, hls_digest_response(4, CTOS, HLS_SECRET)),)
    assert read(m, VariableName(REGISTER + 8), client=5) == (REGISTER_VALUE,)


def test_sn_services_outside_conformance() -> None:
    m = Meter(context=SN)
    m.associate(client=2, conformance=Conformance.READ, context=SN)
    assert m.send(WriteRequest((VariableName(REGISTER + 8),), (NEW_VALUE,)).to_bytes(), 2) == bytes.fromhex("D80102")
    assert read(m, ParameterizedAccess(PROFILE + 8, 2, Data(DataType.NULL_DATA))) == (
        DataAccessResult.SCOPE_OF_ACCESS_VIOLATED,)
    assert encode_data(REGISTER_VALUE) in (m.send(ReadRequest((VariableName(REGISTER + 8),)).to_bytes(), 2) or b"")
