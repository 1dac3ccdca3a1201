"""General block transfer: used only when the client sends GBT; answers in GBT blocks."""

from __future__ import annotations

from simulator.apdu.common import CosemAttributeDescriptor, DataAccessResult, ServiceError, StateError
from simulator.apdu.gbt import GeneralBlockTransfer
from simulator.apdu.get import GetRequestNormal, GetResponseNormal
from simulator.apdu.initiate import Conformance
from simulator.apdu.notification import ExceptionResponse
from simulator.apdu.set import SetRequestNormal, SetResponseNormal
from simulator.axdr import Data, DataType

from .support import CLIENT_CONFORMANCE, INVOKE, LDN_LN, PROFILE_LN, REGISTER_LN, REGISTER_VALUE, Meter, profile_rows

GET_PROFILE = GetRequestNormal(INVOKE, CosemAttributeDescriptor(7, PROFILE_LN, 2)).to_bytes()


def gbt(number: int, data: bytes, last: bool = True, ack: int = 0, window: int = 1) -> bytes:
    return GeneralBlockTransfer(last, False, window, number, ack, data).to_bytes()


def collect(m: Meter, first: bytes | None, client: int = 16, limit: int | None = None) -> tuple[bytes, int]:
    """Follow a GBT answer, acknowledging each block: the reassembled APDU and the block count."""
    data, n, answer = b"", 0, first
    client_block = 1
    while True:
        assert answer is not None
        if limit is not None:
            assert len(answer) <= limit
        block = GeneralBlockTransfer.from_bytes(answer)
        n += 1
        assert block.block_number == n
        data += block.block_data
        if block.last_block:
            return data, n
        client_block += 1
        answer = m.send(gbt(client_block, b"", ack=block.block_number), client)


def test_short_request_and_answer_in_one_block() -> None:
    m = Meter()
    m.associate()
    get = GetRequestNormal(INVOKE, CosemAttributeDescriptor(3, REGISTER_LN, 2)).to_bytes()
    block = GeneralBlockTransfer.from_bytes(m.send(gbt(1, get)) or b"")
    assert (block.last_block, block.block_number, block.block_number_ack) == (True, 1, 1)
    assert GetResponseNormal.from_bytes(block.block_data).result == REGISTER_VALUE


def test_long_answer_in_gbt_blocks_not_get_datablocks() -> None:
    m = Meter()
    m.associate(max_pdu=40)
    answer, blocks = collect(m, m.send(gbt(1, GET_PROFILE)), limit=40)
    assert blocks > 5
    assert GetResponseNormal.from_bytes(answer).result == profile_rows(10)


def test_long_request_in_gbt_blocks() -> None:
    m = Meter()
    m.associate(client=2)
    value = Data(DataType.OCTET_STRING, bytes(100))
    request = SetRequestNormal(INVOKE, CosemAttributeDescriptor(1, LDN_LN, 2), None, value).to_bytes()
    parts = [request[i:i + 30] for i in range(0, len(request), 30)]
    for n, part in enumerate(parts[:-1], start=1):
        ack = GeneralBlockTransfer.from_bytes(m.send(gbt(n, part, last=False), 2) or b"")
        assert (ack.last_block, ack.block_number_ack, ack.block_data) == (False, n, b"")
    answer = GeneralBlockTransfer.from_bytes(m.send(gbt(len(parts), parts[-1]), 2) or b"")
    assert SetResponseNormal.from_bytes(answer.block_data).result == DataAccessResult.SUCCESS


def test_request_blocks_acknowledged_per_window() -> None:
    m = Meter()
    m.associate()
    parts = [GET_PROFILE[i:i + 4] for i in range(0, len(GET_PROFILE), 4)]
    answers = [m.send(gbt(n, p, last=False, window=2)) for n, p in enumerate(parts[:-1], start=1)]
    assert [a is not None for a in answers] == [i % 2 == 1 for i in range(len(answers))]
    answer, _ = collect(m, m.send(gbt(len(parts), parts[-1], window=2)))
    assert GetResponseNormal.from_bytes(answer).result == profile_rows(10)


def test_out_of_sequence_blocks_abort() -> None:
    m = Meter()
    m.associate(max_pdu=40)
    assert m.send(gbt(1, GET_PROFILE[:5], last=False)) is not None
    assert m.send(gbt(3, GET_PROFILE[5:])) is None
    first = GeneralBlockTransfer.from_bytes(m.send(gbt(1, GET_PROFILE)) or b"")
    assert m.send(gbt(2, b"", ack=first.block_number + 3)) is None  # acknowledges a block never sent


def test_gbt_must_be_negotiated() -> None:
    m = Meter()
    m.associate(conformance=CLIENT_CONFORMANCE & ~Conformance.GENERAL_BLOCK_TRANSFER)
    refusal = ExceptionResponse.from_bytes(m.send(gbt(1, GET_PROFILE)) or b"")
    assert (refusal.state_error, refusal.service_error) == (StateError.SERVICE_NOT_ALLOWED,
                                                            ServiceError.SERVICE_NOT_SUPPORTED)


def test_malformed_gbt() -> None:
    m = Meter()
    m.associate()
    refusal = ExceptionResponse.from_bytes(m.send(bytes.fromhex("E0810001000005AA")) or b"")
    assert refusal.service_error == ServiceError.OTHER_REASON
