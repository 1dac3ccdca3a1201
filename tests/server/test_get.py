"""GET service: normal, with-list, selective access, access refusals and GET block transfer."""

from __future__ import annotations

import dataclasses

import pytest

from simulator.apdu.common import (
    CosemAttributeDescriptor, CosemAttributeDescriptorWithSelection, DataAccessResult, InvokeIdAndPriority,
    SelectiveAccess,
)
from simulator.apdu.get import (
    GetRequestNext, GetRequestNormal, GetRequestWithList, GetResponseNormal, GetResponseWithDatablock,
    GetResponseWithList,
)
from simulator.apdu.initiate import Conformance
from simulator.axdr import Data, DataType, Obis, Reader, decode_data, encode_data
from simulator.cosem.registry import get_class
from simulator.model.spec import MeterModel

from .support import (
    ASSOCIATION_LN, CLIENT_CONFORMANCE, CLOCK_LN, FAULTY_LN, INVOKE, LDN_LN, OWN_ASSOCIATION_LN, PROFILE_LN,
    REGISTER_LN, REGISTER_VALUE, SCALER_UNIT, SERIAL_LN, Meter, Obj, objects, own_association_meter, profile_rows,
    row_time,
)

# GET block transfer 3/3: last block 3 (gosem client test),
# https://github.com/gvtret/gosem/blob/07323ece60b067508d6ea0347459f2fb5d97d7e6/pkg/dlmsclient/get_test.go
GOSEM_LAST_BLOCK_3 = bytes.fromhex("C402C1010000000300050600000005")
FIVE = Data(DataType.ARRAY, tuple(Data(DataType.DOUBLE_LONG_UNSIGNED, i) for i in range(1, 6)))


def get(m: Meter, class_id: int, ln: Obis, attr: int, access: SelectiveAccess | None = None, client: int = 16,
        invoke: InvokeIdAndPriority = INVOKE) -> bytes:
    answer = m.send(GetRequestNormal(invoke, CosemAttributeDescriptor(class_id, ln, attr), access).to_bytes(), client)
    assert answer is not None
    return answer


def result(answer: bytes) -> Data | DataAccessResult:
    r = GetResponseNormal.from_bytes(answer).result
    assert isinstance(r, (Data, DataAccessResult))
    return r


def read_long(m: Meter, first: bytes, client: int = 16, limit: int | None = None) -> tuple[bytes, int]:
    """Follow a GET block transfer to its end: the reassembled raw data and the block count."""
    raw, n, answer = b"", 0, first
    while True:
        if limit is not None:
            assert len(answer) <= limit
        block = GetResponseWithDatablock.from_bytes(answer)
        assert isinstance(block.result, bytes)
        n += 1
        assert block.block_number == n
        raw += block.result
        if block.last_block:
            return raw, n
        answer = m.send(GetRequestNext(INVOKE, n).to_bytes(), client) or b""


@pytest.fixture
def meter() -> Meter:
    m = Meter()
    m.associate()
    return m


def test_get_normal_values(meter: Meter) -> None:
    assert result(get(meter, 3, REGISTER_LN, 2)) == REGISTER_VALUE
    assert result(get(meter, 3, REGISTER_LN, 3)) == SCALER_UNIT
    assert result(get(meter, 3, REGISTER_LN, 1)) == Data(DataType.OCTET_STRING, bytes(REGISTER_LN))
    assert result(get(meter, 1, LDN_LN, 2)) == Data(DataType.OCTET_STRING, b"SIM00000001")
    assert get(meter, 3, REGISTER_LN, 2) == bytes.fromhex("C401C100060001E240")


def test_clock_time_comes_from_the_meter_clock(meter: Meter) -> None:
    meter.now = 3600.0
    time = result(get(meter, 8, CLOCK_LN, 2))
    assert isinstance(time, Data)
    # 2024-01-01 02:00 local (UTC+1, deviation -60) one hour after the start
    assert time.value[:8] == bytes.fromhex("07E8010101020000")


def test_invoke_id_and_priority_echoed(meter: Meter) -> None:
    invoke = InvokeIdAndPriority(13, True, False)
    answer = get(meter, 3, REGISTER_LN, 2, invoke=invoke)
    assert GetResponseNormal.from_bytes(answer).invoke == invoke


def test_fast_path_splices_preencoded_bytes() -> None:
    """A static value the meter never changed is copied from ObjectSpec.encoded, not re-encoded."""
    m = Meter()
    device = m.device
    register = device.objects[2]
    sentinel = encode_data(Data(DataType.STRUCTURE, (Data(DataType.INTEGER, -3), Data(DataType.ENUM, 30))))
    patched = dataclasses.replace(register, encoded=(None, None, sentinel))
    objs = device.objects[:2] + (patched,) + device.objects[3:]
    m.model = MeterModel("t", "t", "t", {1: dataclasses.replace(device, objects=objs)})
    m.state.model = m.model
    m.associate()
    assert get(m, 3, REGISTER_LN, 3) == bytes.fromhex("C401C100") + sentinel


@pytest.mark.parametrize(("class_id", "ln", "attr", "expected"), [
    (3, Obis("1.0.2.8.0.255"), 2, DataAccessResult.OBJECT_UNDEFINED),
    (1, REGISTER_LN, 2, DataAccessResult.OBJECT_CLASS_INCONSISTENT),
    (3, REGISTER_LN, 9, DataAccessResult.OBJECT_UNDEFINED),
    (3, REGISTER_LN, 0, DataAccessResult.OBJECT_UNDEFINED),
    (1, FAULTY_LN, 2, DataAccessResult.OTHER_REASON),
])
def test_get_refusals(meter: Meter, class_id: int, ln: Obis, attr: int, expected: DataAccessResult) -> None:
    assert result(get(meter, class_id, ln, attr)) == expected


def test_faulty_behaviour_does_not_break_the_meter(meter: Meter, caplog: pytest.LogCaptureFixture) -> None:
    assert result(get(meter, 1, FAULTY_LN, 2)) == DataAccessResult.OTHER_REASON
    assert "broken on purpose" in caplog.text
    assert result(get(meter, 3, REGISTER_LN, 2)) == REGISTER_VALUE


def test_objects_outside_the_association_are_undefined() -> None:
    m = Meter()
    m.associate(client=3)
    assert result(get(m, 3, REGISTER_LN, 2, client=3)) == DataAccessResult.OBJECT_UNDEFINED
    assert isinstance(result(get(m, 8, CLOCK_LN, 2, client=3)), Data)


def test_authenticated_modes_need_an_authenticated_request() -> None:
    m = Meter()
    m.associate(client=4)
    # attribute 1 stays read-only; the others are authenticated-read-write, and this request
    # came in plaintext, so it carries no authentication
    assert isinstance(result(get(m, 3, REGISTER_LN, 1, client=4)), Data)
    assert result(get(m, 3, REGISTER_LN, 2, client=4)) == DataAccessResult.READ_WRITE_DENIED


def test_current_association_alias(meter: Meter) -> None:
    assert result(get(meter, 15, ASSOCIATION_LN, 1)) == Data(DataType.OCTET_STRING, bytes(ASSOCIATION_LN))


def test_current_association_keeps_its_name_beside_the_association_own_object() -> None:
    """0.0.40.0.0.255 and the association's own object describe the same association, but each
    answers its own logical_name: the object list names both, and gurux-dlms renames an object
    after attribute 1 (it did rename 0.0.40.0.0.255 to 0.0.40.0.1.255 on an IDIS model)."""
    m = own_association_meter(16)
    m.associate()
    assert result(get(m, 15, ASSOCIATION_LN, 1)) == Data(DataType.OCTET_STRING, bytes(ASSOCIATION_LN))
    assert result(get(m, 15, OWN_ASSOCIATION_LN, 1)) == Data(DataType.OCTET_STRING, bytes(OWN_ASSOCIATION_LN))
    listed = result(get(m, 15, ASSOCIATION_LN, 2))
    assert isinstance(listed, Data) and listed == result(get(m, 15, OWN_ASSOCIATION_LN, 2))


def test_current_association_alias_without_the_instance() -> None:
    """A model without 0.0.40.0.0.255: the association's own object answers under that name."""
    m = own_association_meter(16, current=False)
    m.associate()
    assert result(get(m, 15, ASSOCIATION_LN, 1)) == Data(DataType.OCTET_STRING, bytes(OWN_ASSOCIATION_LN))
    assert isinstance(result(get(m, 15, ASSOCIATION_LN, 2)), Data)


def test_with_list_mixed_results(meter: Meter) -> None:
    items = tuple(CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(c, ln, a)) for c, ln, a in [
        (3, REGISTER_LN, 2), (3, Obis("9.9.9.9.9.9"), 2), (1, FAULTY_LN, 2), (8, REGISTER_LN, 2), (3, REGISTER_LN, 3),
    ])
    answer = meter.send(GetRequestWithList(INVOKE, items).to_bytes())
    assert answer is not None
    assert GetResponseWithList.from_bytes(answer).results == (
        REGISTER_VALUE, DataAccessResult.OBJECT_UNDEFINED, DataAccessResult.OTHER_REASON,
        DataAccessResult.OBJECT_CLASS_INCONSISTENT, SCALER_UNIT)


# --------------------------------------------------------------------------- selective access

def entry(start: int, stop: int, first_col: int = 1, last_col: int = 0) -> SelectiveAccess:
    return SelectiveAccess(2, Data(DataType.STRUCTURE, (
        Data(DataType.DOUBLE_LONG_UNSIGNED, start), Data(DataType.DOUBLE_LONG_UNSIGNED, stop),
        Data(DataType.LONG_UNSIGNED, first_col), Data(DataType.LONG_UNSIGNED, last_col))))


def test_profile_by_entry(meter: Meter) -> None:
    rows = result(get(meter, 7, PROFILE_LN, 2, entry(2, 3)))
    assert rows == Data(DataType.ARRAY, profile_rows(10).value[1:3])


def test_profile_by_range(meter: Meter) -> None:
    clock_time = Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, 8), Data(DataType.OCTET_STRING, bytes(CLOCK_LN)),
                                           Data(DataType.INTEGER, 2), Data(DataType.LONG_UNSIGNED, 0)))
    access = SelectiveAccess(1, Data(DataType.STRUCTURE, (
        clock_time, Data(DataType.OCTET_STRING, row_time(4)), Data(DataType.OCTET_STRING, row_time(6)),
        Data(DataType.ARRAY, ()))))
    rows = result(get(meter, 7, PROFILE_LN, 2, access))
    assert rows == Data(DataType.ARRAY, profile_rows(10).value[4:7])


@pytest.mark.parametrize(("class_id", "ln", "attr", "access"), [
    (7, PROFILE_LN, 2, SelectiveAccess(3, Data(DataType.NULL_DATA))),  # selector not listed
    (3, REGISTER_LN, 2, SelectiveAccess(1, Data(DataType.NULL_DATA))),  # no selective reader
    (7, PROFILE_LN, 2, SelectiveAccess(2, Data(DataType.NULL_DATA))),  # parameters refused by the class
])
def test_selective_access_refused(meter: Meter, class_id: int, ln: Obis, attr: int, access: SelectiveAccess) -> None:
    assert result(get(meter, class_id, ln, attr, access)) == DataAccessResult.OTHER_REASON


def test_selective_access_outside_conformance() -> None:
    m = Meter()
    m.associate(conformance=CLIENT_CONFORMANCE & ~Conformance.SELECTIVE_ACCESS)
    assert result(get(m, 7, PROFILE_LN, 2, entry(1, 1))) == DataAccessResult.SCOPE_OF_ACCESS_VIOLATED


# --------------------------------------------------------------------------- block transfer

@pytest.mark.parametrize("max_pdu", [12, 13, 21, 64, 200])
def test_long_get_in_blocks(max_pdu: int) -> None:
    m = Meter()
    m.associate(max_pdu=max_pdu)
    full = encode_data(profile_rows(10))
    first = get(m, 7, PROFILE_LN, 2)
    raw, blocks = read_long(m, first, limit=max_pdu)
    assert raw == full
    assert blocks > 1
    # the transfer is over: a further Next finds nothing in progress
    after = GetResponseWithDatablock.from_bytes(m.send(GetRequestNext(INVOKE, blocks).to_bytes()) or b"")
    assert after.result == DataAccessResult.NO_LONG_GET_IN_PROGRESS


def test_gosem_block_split_is_byte_exact() -> None:
    """Five double-long-unsigned in a PDU of 21 bytes: 11 + 11 + 5 raw bytes, block 3 as gosem has it."""
    objs = objects() + [Obj(get_class(1), Obis("0.0.99.0.0.255"), {2: FIVE})]
    m = Meter(objs)
    m.associate(max_pdu=21)
    answers = [get(m, 1, Obis("0.0.99.0.0.255"), 2)]
    answers += [m.send(GetRequestNext(INVOKE, 1).to_bytes()) or b""]
    answers += [m.send(GetRequestNext(INVOKE, 2).to_bytes()) or b""]
    assert answers[2] == GOSEM_LAST_BLOCK_3
    assert b"".join(GetResponseWithDatablock.from_bytes(a).result for a in answers) == encode_data(FIVE)  # type: ignore[misc]


def test_long_get_with_list() -> None:
    m = Meter()
    m.associate(max_pdu=100)
    items = tuple(CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(c, ln, 2))
                  for c, ln in [(7, PROFILE_LN), (3, REGISTER_LN), (1, Obis("1.1.1.1.1.1")), (1, SERIAL_LN)])
    first = m.send(GetRequestWithList(INVOKE, items).to_bytes()) or b""
    raw, _ = read_long(m, first, limit=100)
    # the raw data is the SEQUENCE OF Get-Data-Result of the with-list response
    whole = GetResponseWithList.from_bytes(bytes.fromhex("C403C1") + raw)
    assert whole.results == (profile_rows(10), REGISTER_VALUE, DataAccessResult.OBJECT_UNDEFINED,
                             Data(DataType.VISIBLE_STRING, "X" * 600))


def test_get_next_errors() -> None:
    m = Meter()
    m.associate(max_pdu=64)
    no_long = GetResponseWithDatablock.from_bytes(m.send(GetRequestNext(INVOKE, 1).to_bytes()) or b"")
    assert (no_long.last_block, no_long.result) == (True, DataAccessResult.NO_LONG_GET_IN_PROGRESS)

    get(m, 7, PROFILE_LN, 2)
    wrong = GetResponseWithDatablock.from_bytes(m.send(GetRequestNext(INVOKE, 5).to_bytes()) or b"")
    assert (wrong.last_block, wrong.result) == (True, DataAccessResult.DATA_BLOCK_NUMBER_INVALID)
    aborted = GetResponseWithDatablock.from_bytes(m.send(GetRequestNext(INVOKE, 1).to_bytes()) or b"")
    assert aborted.result == DataAccessResult.NO_LONG_GET_IN_PROGRESS

    get(m, 7, PROFILE_LN, 2)
    other = InvokeIdAndPriority(7, True, True)
    stranger = GetResponseWithDatablock.from_bytes(m.send(GetRequestNext(other, 1).to_bytes()) or b"")
    assert stranger.result == DataAccessResult.LONG_GET_ABORTED


def test_new_get_replaces_a_long_get() -> None:
    m = Meter()
    m.associate(max_pdu=64)
    get(m, 7, PROFILE_LN, 2)
    assert result(get(m, 3, REGISTER_LN, 2)) == REGISTER_VALUE
    after = GetResponseWithDatablock.from_bytes(m.send(GetRequestNext(INVOKE, 1).to_bytes()) or b"")
    assert after.result == DataAccessResult.NO_LONG_GET_IN_PROGRESS


def test_too_long_without_block_transfer() -> None:
    m = Meter()
    m.associate(max_pdu=64, conformance=CLIENT_CONFORMANCE & ~(
        Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ | Conformance.GENERAL_BLOCK_TRANSFER))
    assert result(get(m, 7, PROFILE_LN, 2)) == DataAccessResult.OTHER_REASON
    assert result(get(m, 3, REGISTER_LN, 2)) == REGISTER_VALUE


def test_block_answers_decode_as_data() -> None:
    """The reassembled raw data of a long normal GET is exactly one Data."""
    m = Meter()
    m.associate(max_pdu=50)
    raw, _ = read_long(m, get(m, 1, SERIAL_LN, 2))
    r = Reader(raw)
    assert decode_data(r) == Data(DataType.VISIBLE_STRING, "X" * 600)
    assert r.at_end()
