"""General block transfer: answered in GBT when the client sends GBT, or when it negotiated GBT and
not the service's own block transfer; streaming windows, acknowledgements, lost-block recovery."""

from __future__ import annotations

from simulator.apdu.common import CosemAttributeDescriptor, DataAccessResult, ServiceError, StateError
from simulator.apdu.gbt import GeneralBlockTransfer
from simulator.apdu.get import GetRequestNormal, GetResponseNormal, GetResponseWithDatablock
from simulator.apdu.initiate import Conformance
from simulator.apdu.notification import ExceptionResponse
from simulator.apdu.set import SetRequestNormal, SetResponseNormal
from simulator.axdr import Data, DataType

from .support import (
    CLIENT_CONFORMANCE, INVOKE, LDN_LN, PROFILE_LN, REGISTER_LN, REGISTER_VALUE, Meter, objects, profile_rows,
)

GET_PROFILE = GetRequestNormal(INVOKE, CosemAttributeDescriptor(7, PROFILE_LN, 2)).to_bytes()
# Issue 8 item 7: GET of the current association's object_list, as the client sent it.
GET_OBJECT_LIST = bytes.fromhex("C001C1000F0000280000FF0200")
# Issue 8 item 7: the conformance the client proposed and was granted (AARE 5F1F04 0020021D):
# general-block-transfer, multiple-references, get, set, selective-access, action; no
# block-transfer-with-get.
ISSUE_CONFORMANCE = Conformance(0x20021D)


def gbt(number: int, data: bytes, last: bool = True, ack: int = 0, window: int = 1, streaming: bool = False) -> bytes:
    return GeneralBlockTransfer(last, streaming, window, number, ack, data).to_bytes()


def blocks(m: Meter, answer: bytes | None) -> list[GeneralBlockTransfer]:
    """The blocks the meter sent for one APDU: its answer, then the rest of the window."""
    assert answer is not None
    return [GeneralBlockTransfer.from_bytes(a) for a in (answer, *m.channel.streamed())]


def collect(m: Meter, first: bytes | None, client: int = 16, limit: int | None = None,
            window: int = 1) -> tuple[bytes, int]:
    """Follow a GBT answer, acknowledging each window: the reassembled APDU and the block count."""
    data, n, answer, client_block = b"", 0, first, 1
    while True:
        window_blocks = blocks(m, answer)
        for block in window_blocks:
            if limit is not None:
                assert len(block.to_bytes()) <= limit
            n += 1
            assert block.block_number == n
            data += block.block_data
            if block.last_block:
                return data, n
        assert not window_blocks[-1].streaming and all(b.streaming for b in window_blocks[:-1])
        client_block += 1
        answer = m.send(gbt(client_block, b"", last=False, ack=n, window=window), client)


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
    answer, count = collect(m, m.send(gbt(1, GET_PROFILE)), limit=40)
    assert count > 5
    assert GetResponseNormal.from_bytes(answer).result == profile_rows(10)


def test_issue_8_object_list_starts_gbt_when_get_blocks_were_not_negotiated() -> None:
    """Before: `C4 01 C1 01 FA` (other-reason). Now one block, then windows of the client's size."""
    m = Meter()
    aare = m.associate(client=2, max_pdu=256, conformance=ISSUE_CONFORMANCE)
    assert m.negotiated(aare).negotiated_conformance == ISSUE_CONFORMANCE
    first = blocks(m, m.send(GET_OBJECT_LIST, 2))
    assert [(b.block_number, b.last_block, b.streaming, b.block_number_ack) for b in first] == [(1, False, False, 0)]
    answer, _ = collect(m, m.send(GET_OBJECT_LIST, 2), client=2, window=4, limit=256)  # a new GET starts afresh
    response = GetResponseNormal.from_bytes(answer)
    assert isinstance(response.result, Data) and response.result.type == DataType.ARRAY
    assert len(response.result.value) == len(m.device.objects)


def test_long_profile_in_gbt_streamed_windows() -> None:
    m = Meter(objects(rows=40))
    m.associate(max_pdu=64, conformance=CLIENT_CONFORMANCE & ~Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ)
    assert len(blocks(m, m.send(GET_PROFILE))) == 1  # the client's window is unknown until it acknowledges
    window = blocks(m, m.send(gbt(1, b"", last=False, ack=1, window=4)))
    assert [(b.block_number, b.streaming, b.block_number_ack) for b in window] == [
        (2, True, 1), (3, True, 1), (4, True, 1), (5, False, 1)]
    answer, count = collect(m, m.send(GET_PROFILE), window=3, limit=64)
    assert count > 12
    assert GetResponseNormal.from_bytes(answer).result == profile_rows(40)


def test_service_blocks_win_when_both_were_negotiated() -> None:
    """dlms-cosem proposes GBT and block-transfer-with-get and reads only GET datablocks."""
    m = Meter()
    m.associate(max_pdu=64)
    assert GetResponseWithDatablock.from_bytes(m.send(GET_PROFILE) or b"").block_number == 1


def test_a_short_answer_stays_plain() -> None:
    m = Meter()
    m.associate(client=2, max_pdu=256, conformance=ISSUE_CONFORMANCE)
    get = GetRequestNormal(INVOKE, CosemAttributeDescriptor(3, REGISTER_LN, 2)).to_bytes()
    assert GetResponseNormal.from_bytes(m.send(get, 2) or b"").result == REGISTER_VALUE


def test_lost_answer_blocks_are_resent() -> None:
    m = Meter(objects(rows=40))
    m.associate(max_pdu=40)
    whole = bytearray()
    first = blocks(m, m.send(gbt(1, GET_PROFILE)))
    whole += first[0].block_data
    window = blocks(m, m.send(gbt(2, b"", last=False, ack=1, window=4)))
    assert [b.block_number for b in window] == [2, 3, 4, 5]
    whole += window[0].block_data  # blocks 3, 4 and 5 are lost on the way
    again = blocks(m, m.send(gbt(3, b"", last=False, ack=2, window=4)))
    assert [b.block_number for b in again] == [3, 4, 5, 6]
    assert [b.block_data for b in again[:3]] == [b.block_data for b in window[1:]]
    assert all(b.block_number_ack == 3 for b in again)
    for b in again:
        whole += b.block_data
    client_block, ack = 4, 6
    while not again[-1].last_block:
        again = blocks(m, m.send(gbt(client_block, b"", last=False, ack=ack, window=8)))
        assert again[0].block_number == ack + 1
        whole += b"".join(b.block_data for b in again)
        client_block, ack = client_block + 1, again[-1].block_number
    assert GetResponseNormal.from_bytes(bytes(whole)).result == profile_rows(40)


def test_the_last_block_lost_is_resent() -> None:
    m = Meter()
    m.associate(max_pdu=40)
    answer, count = collect(m, m.send(gbt(1, GET_PROFILE)))
    last = blocks(m, m.send(gbt(count + 1, b"", last=False, ack=count - 1)))
    assert [(b.block_number, b.last_block) for b in last] == [(count, True)]
    assert answer.endswith(last[0].block_data)
    assert m.send(gbt(count + 2, b"", last=False, ack=count)) is None  # all there: nothing more


def test_ack_of_a_block_never_sent_aborts() -> None:
    m = Meter()
    m.associate(max_pdu=40)
    first = GeneralBlockTransfer.from_bytes(m.send(gbt(1, GET_PROFILE)) or b"")
    assert m.send(gbt(2, b"", last=False, ack=first.block_number + 3)) is None
    assert m.send(gbt(3, b"", last=False, ack=1)) is None  # the transfer is gone


def test_long_request_in_gbt_blocks() -> None:
    m = Meter()
    m.associate(client=2)
    value = Data(DataType.OCTET_STRING, bytes(100))
    request = SetRequestNormal(INVOKE, CosemAttributeDescriptor(1, LDN_LN, 2), None, value).to_bytes()
    parts = [request[i:i + 30] for i in range(0, len(request), 30)]
    for n, part in enumerate(parts[:-1], start=1):
        ack = GeneralBlockTransfer.from_bytes(m.send(gbt(n, part, last=False), 2) or b"")
        assert (ack.last_block, ack.block_number, ack.block_number_ack, ack.block_data) == (False, 0, n, b"")
    answer = GeneralBlockTransfer.from_bytes(m.send(gbt(len(parts), parts[-1]), 2) or b"")
    assert answer.block_number == 1
    assert SetResponseNormal.from_bytes(answer.block_data).result == DataAccessResult.SUCCESS


def test_streamed_request_blocks_are_acknowledged_at_the_end_of_the_window() -> None:
    m = Meter()
    m.associate()
    parts = [GET_PROFILE[i:i + 4] for i in range(0, len(GET_PROFILE), 4)]
    assert len(parts) == 4
    assert m.send(gbt(1, parts[0], last=False, streaming=True)) is None
    assert m.send(gbt(2, parts[1], last=False, streaming=True)) is None
    ack = GeneralBlockTransfer.from_bytes(m.send(gbt(3, parts[2], last=False)) or b"")
    assert (ack.block_number_ack, ack.block_data, ack.window > 1) == (3, b"", True)
    answer, _ = collect(m, m.send(gbt(4, parts[3], window=2)), window=2)
    assert GetResponseNormal.from_bytes(answer).result == profile_rows(10)


def test_lost_request_block_is_named_and_resent() -> None:
    m = Meter()
    m.associate()
    parts = [GET_PROFILE[i:i + 4] for i in range(0, len(GET_PROFILE), 4)]
    assert m.send(gbt(1, parts[0], last=False, streaming=True)) is None
    # block 2 is lost: block 3 is dropped, and the end of the window names block 1 as the last in sequence
    assert m.send(gbt(3, parts[2], last=False, streaming=True)) is None
    ack = GeneralBlockTransfer.from_bytes(m.send(gbt(4, parts[3])) or b"")
    assert (ack.last_block, ack.block_number_ack, ack.block_data) == (False, 1, b"")
    assert m.send(gbt(2, parts[1], last=False, streaming=True)) is None
    assert m.send(gbt(3, parts[2], last=False, streaming=True)) is None
    answer, _ = collect(m, m.send(gbt(4, parts[3])))
    assert GetResponseNormal.from_bytes(answer).result == profile_rows(10)


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
