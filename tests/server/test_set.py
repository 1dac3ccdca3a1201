"""SET service: normal, with-list, type checks, refusals and SET block transfer."""

from __future__ import annotations

import pytest

from simulator.apdu.common import (
    CosemAttributeDescriptor, CosemAttributeDescriptorWithSelection, DataAccessResult, DataBlockSA, SelectiveAccess,
)
from simulator.apdu.get import GetRequestNormal, GetResponseNormal
from simulator.apdu.set import (
    SetRequestNormal, SetRequestWithDatablock, SetRequestWithFirstDatablock, SetRequestWithList,
    SetRequestWithListAndFirstDatablock, SetResponseDatablock, SetResponseLastDatablock,
    SetResponseLastDatablockWithList, SetResponseNormal, SetResponseWithList,
)
from simulator.axdr import Data, DataType, Obis, encode_data
from simulator.cosem.registry import get_class

from .support import CLOCK_LN, FAULTY_LN, INVOKE, LDN_LN, REGISTER_LN, REGISTER_VALUE, Meter, Obj, objects

# SET-Request-With-First-Datablock (gosem client test),
# https://github.com/gvtret/gosem/blob/07323ece60b067508d6ea0347459f2fb5d97d7e6/pkg/dlmsclient/set_test.go
GOSEM_SET_FIRST_DATABLOCK = bytes.fromhex(
    "C102C1000300015E230BFF020000000000016B020A09280001020304050607080900010203040506070809000102030405060708"
    "0900010203040506070809092800010203040506070809000102030405060708090001020304050607080900010203040506070809"
    "092800010203040506070809000102030405060708")
# SET-Response-Datablock block 1 (gosem client test), same source.
GOSEM_SET_RESPONSE_DATABLOCK_1 = bytes.fromhex("C502C100000001")
# SET-Request-Normal register value double-long-unsigned 10000 (gosem client test), same source.
GOSEM_SET_REGISTER = bytes.fromhex("C101C1000300015E230BFF02000600002710")
# SET-Response-Normal success (u9n/dlms-cosem),
# https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_xdlms/test_set.py
SET_RESPONSE_SUCCESS = bytes.fromhex("C501C100")
GOSEM_REGISTER_LN = Obis("0.1.94.35.11.255")

NEW_VALUE = Data(DataType.DOUBLE_LONG_UNSIGNED, 777)


def value_of(m: Meter, class_id: int, ln: Obis, attr: int, client: int = 2) -> object:
    answer = m.send(GetRequestNormal(INVOKE, CosemAttributeDescriptor(class_id, ln, attr)).to_bytes(), client)
    return GetResponseNormal.from_bytes(answer or b"").result


def set_(m: Meter, class_id: int, ln: Obis, attr: int, value: Data, client: int = 2,
         access: SelectiveAccess | None = None) -> DataAccessResult:
    request = SetRequestNormal(INVOKE, CosemAttributeDescriptor(class_id, ln, attr), access, value)
    return SetResponseNormal.from_bytes(m.send(request.to_bytes(), client) or b"").result


@pytest.fixture
def meter() -> Meter:
    m = Meter()
    m.associate(client=2)
    m.associate(client=16)
    return m


def test_set_normal_writes_for_this_meter_only(meter: Meter) -> None:
    assert set_(meter, 3, REGISTER_LN, 2, NEW_VALUE) == DataAccessResult.SUCCESS
    assert value_of(meter, 3, REGISTER_LN, 2) == NEW_VALUE
    other = Meter()
    other.associate(client=2)
    assert value_of(other, 3, REGISTER_LN, 2) == REGISTER_VALUE


def test_gosem_set_vector() -> None:
    m = Meter(objects() + [Obj(get_class(3), GOSEM_REGISTER_LN, {})])
    m.associate(client=2)
    assert m.send(GOSEM_SET_REGISTER, 2) == SET_RESPONSE_SUCCESS
    assert value_of(m, 3, GOSEM_REGISTER_LN, 2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 10000)


@pytest.mark.parametrize(("client", "class_id", "ln", "attr", "value", "expected"), [
    (16, 3, REGISTER_LN, 2, NEW_VALUE, DataAccessResult.READ_WRITE_DENIED),  # public: read-only
    (2, 3, REGISTER_LN, 1, Data(DataType.OCTET_STRING, bytes(6)), DataAccessResult.READ_WRITE_DENIED),
    (2, 3, REGISTER_LN, 3, Data(DataType.LONG, 3), DataAccessResult.TYPE_UNMATCHED),
    (2, 8, CLOCK_LN, 2, Data(DataType.VISIBLE_STRING, "noon"), DataAccessResult.TYPE_UNMATCHED),
    (2, 8, CLOCK_LN, 3, Data(DataType.UNSIGNED, 1), DataAccessResult.TYPE_UNMATCHED),
    (2, 3, Obis("1.2.3.4.5.6"), 2, NEW_VALUE, DataAccessResult.OBJECT_UNDEFINED),
    (2, 1, REGISTER_LN, 2, NEW_VALUE, DataAccessResult.OBJECT_CLASS_INCONSISTENT),
    (2, 3, REGISTER_LN, 7, NEW_VALUE, DataAccessResult.OBJECT_UNDEFINED),
    (2, 1, FAULTY_LN, 2, NEW_VALUE, DataAccessResult.OTHER_REASON),
])
def test_set_refusals(meter: Meter, client: int, class_id: int, ln: Obis, attr: int, value: Data,
                      expected: DataAccessResult) -> None:
    before = value_of(meter, class_id, ln, attr) if expected != DataAccessResult.OTHER_REASON else None
    assert set_(meter, class_id, ln, attr, value, client) == expected
    if before is not None:
        assert value_of(meter, class_id, ln, attr) == before


def test_selective_set_is_refused(meter: Meter) -> None:
    access = SelectiveAccess(1, Data(DataType.NULL_DATA))
    assert set_(meter, 3, REGISTER_LN, 2, NEW_VALUE, access=access) == DataAccessResult.OTHER_REASON


def test_set_with_list_mixed(meter: Meter) -> None:
    items = tuple(CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(c, ln, a))
                  for c, ln, a in [(3, REGISTER_LN, 2), (3, REGISTER_LN, 3), (1, LDN_LN, 2), (1, FAULTY_LN, 2)])
    values = (NEW_VALUE, Data(DataType.NULL_DATA), Data(DataType.OCTET_STRING, b"renamed"), NEW_VALUE)
    answer = meter.send(SetRequestWithList(INVOKE, items, values).to_bytes(), 2)
    assert SetResponseWithList.from_bytes(answer or b"").results == (
        DataAccessResult.SUCCESS, DataAccessResult.TYPE_UNMATCHED, DataAccessResult.SUCCESS, DataAccessResult.OTHER_REASON)
    assert value_of(meter, 3, REGISTER_LN, 2) == NEW_VALUE
    assert value_of(meter, 1, LDN_LN, 2) == Data(DataType.OCTET_STRING, b"renamed")


def test_set_with_list_length_mismatch(meter: Meter) -> None:
    items = tuple(CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(3, REGISTER_LN, 2)) for _ in range(2))
    answer = meter.send(SetRequestWithList(INVOKE, items, (NEW_VALUE,)).to_bytes(), 2)
    assert SetResponseWithList.from_bytes(answer or b"").results == (DataAccessResult.OTHER_REASON,) * 2
    assert value_of(meter, 3, REGISTER_LN, 2) == REGISTER_VALUE


# --------------------------------------------------------------------------- block transfer

def blocks(raw: bytes, size: int) -> list[DataBlockSA]:
    parts = [raw[i:i + size] for i in range(0, len(raw), size)]
    return [DataBlockSA(i == len(parts) - 1, i + 1, p) for i, p in enumerate(parts)]


LONG_TEXT = Data(DataType.OCTET_STRING, bytes(range(256)) * 2)


def test_long_set(meter: Meter) -> None:
    d = CosemAttributeDescriptor(1, LDN_LN, 2)
    parts = blocks(encode_data(LONG_TEXT), 100)
    first = meter.send(SetRequestWithFirstDatablock(INVOKE, d, None, parts[0]).to_bytes(), 2)
    assert SetResponseDatablock.from_bytes(first or b"").block_number == 1
    for part in parts[1:-1]:
        ack = meter.send(SetRequestWithDatablock(INVOKE, part).to_bytes(), 2)
        assert SetResponseDatablock.from_bytes(ack or b"").block_number == part.block_number
    last = SetResponseLastDatablock.from_bytes(meter.send(SetRequestWithDatablock(INVOKE, parts[-1]).to_bytes(), 2) or b"")
    assert (last.result, last.block_number) == (DataAccessResult.SUCCESS, len(parts))
    assert value_of(meter, 1, LDN_LN, 2) == LONG_TEXT


def test_gosem_first_datablock_acknowledged() -> None:
    m = Meter(objects() + [Obj(get_class(3), GOSEM_REGISTER_LN, {})])
    m.associate(client=2)
    assert m.send(GOSEM_SET_FIRST_DATABLOCK, 2) == GOSEM_SET_RESPONSE_DATABLOCK_1


def test_long_set_with_list(meter: Meter) -> None:
    items = (CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(1, LDN_LN, 2)),
             CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(3, REGISTER_LN, 2)),
             CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(3, REGISTER_LN, 3)))
    raw = b"\x03" + encode_data(LONG_TEXT) + encode_data(NEW_VALUE) + encode_data(Data(DataType.BOOLEAN, True))
    parts = blocks(raw, 200)
    assert len(parts) == 3
    meter.send(SetRequestWithListAndFirstDatablock(INVOKE, items, parts[0]).to_bytes(), 2)
    meter.send(SetRequestWithDatablock(INVOKE, parts[1]).to_bytes(), 2)
    last = SetResponseLastDatablockWithList.from_bytes(
        meter.send(SetRequestWithDatablock(INVOKE, parts[2]).to_bytes(), 2) or b"")
    assert last.results == (DataAccessResult.SUCCESS, DataAccessResult.SUCCESS, DataAccessResult.TYPE_UNMATCHED)
    assert last.block_number == 3
    assert value_of(meter, 3, REGISTER_LN, 2) == NEW_VALUE


def test_long_set_errors(meter: Meter) -> None:
    stray = SetResponseLastDatablock.from_bytes(
        meter.send(SetRequestWithDatablock(INVOKE, DataBlockSA(False, 2, b"\x00")).to_bytes(), 2) or b"")
    assert stray.result == DataAccessResult.NO_LONG_SET_IN_PROGRESS

    d = CosemAttributeDescriptor(1, LDN_LN, 2)
    parts = blocks(encode_data(LONG_TEXT), 100)
    meter.send(SetRequestWithFirstDatablock(INVOKE, d, None, parts[0]).to_bytes(), 2)
    skipped = SetResponseLastDatablock.from_bytes(meter.send(SetRequestWithDatablock(INVOKE, parts[2]).to_bytes(), 2) or b"")
    assert (skipped.result, skipped.block_number) == (DataAccessResult.DATA_BLOCK_NUMBER_INVALID, 3)
    gone = SetResponseLastDatablock.from_bytes(meter.send(SetRequestWithDatablock(INVOKE, parts[1]).to_bytes(), 2) or b"")
    assert gone.result == DataAccessResult.NO_LONG_SET_IN_PROGRESS
    assert value_of(meter, 1, LDN_LN, 2) == Data(DataType.OCTET_STRING, b"SIM00000001")

    first = DataBlockSA(False, 7, b"\x09")
    wrong_start = meter.send(SetRequestWithFirstDatablock(INVOKE, d, None, first).to_bytes(), 2)
    assert SetResponseLastDatablock.from_bytes(wrong_start or b"").result == DataAccessResult.DATA_BLOCK_NUMBER_INVALID


def test_long_set_that_does_not_decode(meter: Meter) -> None:
    d = CosemAttributeDescriptor(1, LDN_LN, 2)
    answer = meter.send(SetRequestWithFirstDatablock(INVOKE, d, None, DataBlockSA(True, 1, b"\x09\x05ab")).to_bytes(), 2)
    assert SetResponseLastDatablock.from_bytes(answer or b"").result == DataAccessResult.OTHER_REASON


def test_long_set_size_cap() -> None:
    meter = Meter(server_pdu=0xFFFF)
    meter.associate(client=2)
    d = CosemAttributeDescriptor(1, LDN_LN, 2)
    big = b"\x00" * 60000
    meter.send(SetRequestWithFirstDatablock(INVOKE, d, None, DataBlockSA(False, 1, big)).to_bytes(), 2)
    answer = b""
    for n in range(2, 40):
        answer = meter.send(SetRequestWithDatablock(INVOKE, DataBlockSA(False, n, big)).to_bytes(), 2) or b""
        if answer[1] == 3:
            break
    assert SetResponseLastDatablock.from_bytes(answer).result == DataAccessResult.LONG_SET_ABORTED
