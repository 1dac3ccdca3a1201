"""ACTION service: normal, with-list, refusals and parameter blocks both ways."""

from __future__ import annotations

import pytest

from simulator.apdu.action import (
    ActionRequestNextPblock, ActionRequestNormal, ActionRequestWithFirstPblock, ActionRequestWithList,
    ActionRequestWithListAndFirstPblock, ActionRequestWithPblock, ActionResponseNextPblock, ActionResponseNormal,
    ActionResponseWithList, ActionResponseWithOptionalData, ActionResponseWithPblock,
)
from simulator.apdu.common import (
    ActionResult, CosemAttributeDescriptor, CosemMethodDescriptor, DataAccessResult, DataBlockSA,
)
from simulator.apdu.get import GetRequestNormal, GetResponseNormal
from simulator.apdu.initiate import Conformance
from simulator.axdr import Data, DataType, Obis, encode_data
from simulator.cosem.base import ActionFailure, AttributeAccess, attribute, interface_class, method
from simulator.cosem.types import ANY

from .support import CLIENT_CONFORMANCE, CLOCK_LN, FAULTY_LN, INVOKE, REGISTER_LN, Meter, Obj, objects

# ACTION-Response-Normal success, no return data (u9n/dlms-cosem),
# https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_xdlms/test_action.py
ACTION_RESPONSE_SUCCESS_C0 = bytes.fromhex("C701C00000")

ECHO_LN = Obis("0.0.96.98.0.255")
ZERO = Data(DataType.INTEGER, 0)


def _echo(ctx: object, parameter: Data | None) -> Data | None:
    return parameter


def _refuse(ctx: object, parameter: Data | None) -> None:
    raise ActionFailure(ActionResult.TEMPORARY_FAILURE, "not now")


ECHO = interface_class(1, 0, "Echo", [attribute(2, "value", ANY, access=AttributeAccess.READ_ONLY)],
                       [method(1, "echo", ANY, impl=_echo), method(2, "refuse", None, impl=_refuse),
                        method(3, "unimplemented")])


def make_meter(**kw: object) -> Meter:
    m = Meter(objects() + [Obj(ECHO, ECHO_LN, {})], **kw)  # type: ignore[arg-type]
    return m


def act(m: Meter, class_id: int, ln: Obis, index: int, parameter: Data | None, client: int = 2) -> bytes:
    return m.send(ActionRequestNormal(INVOKE, CosemMethodDescriptor(class_id, ln, index), parameter).to_bytes(),
                  client) or b""


def register_value(m: Meter) -> object:
    answer = m.send(GetRequestNormal(INVOKE, CosemAttributeDescriptor(3, REGISTER_LN, 2)).to_bytes(), 2)
    return GetResponseNormal.from_bytes(answer or b"").result


@pytest.fixture
def meter() -> Meter:
    m = make_meter()
    m.associate(client=2)
    m.associate(client=16)
    return m


def test_register_reset(meter: Meter) -> None:
    answer = ActionResponseNormal.from_bytes(act(meter, 3, REGISTER_LN, 1, ZERO))
    assert (answer.result, answer.return_parameters) == (ActionResult.SUCCESS, None)
    assert register_value(meter) == Data(DataType.DOUBLE_LONG_UNSIGNED, 0)


def test_response_bytes_match_dlms_cosem_vector(meter: Meter) -> None:
    from simulator.apdu.common import InvokeIdAndPriority
    request = ActionRequestNormal(InvokeIdAndPriority(0, True, True), CosemMethodDescriptor(3, REGISTER_LN, 1), ZERO)
    assert meter.send(request.to_bytes(), 2) == ACTION_RESPONSE_SUCCESS_C0


def test_return_parameters(meter: Meter) -> None:
    value = Data(DataType.VISIBLE_STRING, "ping")
    answer = ActionResponseNormal.from_bytes(act(meter, 1, ECHO_LN, 1, value))
    assert (answer.result, answer.return_parameters) == (ActionResult.SUCCESS, value)


@pytest.mark.parametrize(("client", "class_id", "ln", "index", "parameter", "expected"), [
    (16, 3, REGISTER_LN, 1, ZERO, ActionResult.READ_WRITE_DENIED),  # public: no methods
    (2, 3, REGISTER_LN, 1, Data(DataType.VISIBLE_STRING, "0"), ActionResult.TYPE_UNMATCHED),
    (2, 3, REGISTER_LN, 1, None, ActionResult.TYPE_UNMATCHED),
    (2, 3, REGISTER_LN, 5, ZERO, ActionResult.OBJECT_UNDEFINED),
    (2, 3, Obis("1.2.3.4.5.6"), 1, ZERO, ActionResult.OBJECT_UNDEFINED),
    (2, 8, REGISTER_LN, 1, ZERO, ActionResult.OBJECT_CLASS_INCONSISTENT),
    (2, 1, FAULTY_LN, 1, ZERO, ActionResult.OTHER_REASON),
    (2, 1, ECHO_LN, 2, None, ActionResult.TEMPORARY_FAILURE),
    (2, 1, ECHO_LN, 3, None, ActionResult.OBJECT_UNAVAILABLE),
])
def test_action_refusals(meter: Meter, client: int, class_id: int, ln: Obis, index: int, parameter: Data | None,
                         expected: ActionResult) -> None:
    answer = ActionResponseNormal.from_bytes(act(meter, class_id, ln, index, parameter, client))
    assert (answer.result, answer.return_parameters) == (expected, None)


def test_faulty_method_leaves_the_meter_working(meter: Meter) -> None:
    ActionResponseNormal.from_bytes(act(meter, 1, FAULTY_LN, 1, ZERO))
    assert ActionResponseNormal.from_bytes(act(meter, 3, REGISTER_LN, 1, ZERO)).result == ActionResult.SUCCESS


def test_clock_shift_time(meter: Meter) -> None:
    answer = ActionResponseNormal.from_bytes(act(meter, 8, CLOCK_LN, 6, Data(DataType.LONG, 120)))
    assert answer.result == ActionResult.SUCCESS
    assert meter.state.state.clock_offset_s == 120


def test_with_list_mixed(meter: Meter) -> None:
    methods = (CosemMethodDescriptor(3, REGISTER_LN, 1), CosemMethodDescriptor(1, ECHO_LN, 1),
               CosemMethodDescriptor(1, FAULTY_LN, 1), CosemMethodDescriptor(1, ECHO_LN, 2))
    params = (ZERO, Data(DataType.UNSIGNED, 9), ZERO, Data(DataType.NULL_DATA))
    answer = ActionResponseWithList.from_bytes(meter.send(ActionRequestWithList(INVOKE, methods, params).to_bytes(), 2) or b"")
    assert answer.responses == (
        ActionResponseWithOptionalData(ActionResult.SUCCESS),
        ActionResponseWithOptionalData(ActionResult.SUCCESS, Data(DataType.UNSIGNED, 9)),
        ActionResponseWithOptionalData(ActionResult.OTHER_REASON),
        ActionResponseWithOptionalData(ActionResult.TEMPORARY_FAILURE),
    )


def test_with_list_length_mismatch(meter: Meter) -> None:
    methods = (CosemMethodDescriptor(3, REGISTER_LN, 1),) * 2
    answer = ActionResponseWithList.from_bytes(meter.send(ActionRequestWithList(INVOKE, methods, (ZERO,)).to_bytes(), 2) or b"")
    assert [r.result for r in answer.responses] == [ActionResult.OTHER_REASON] * 2


# --------------------------------------------------------------------------- parameter blocks in

LONG = Data(DataType.OCTET_STRING, bytes(range(256)) * 3)


def pblocks(raw: bytes, size: int) -> list[DataBlockSA]:
    parts = [raw[i:i + size] for i in range(0, len(raw), size)]
    return [DataBlockSA(i == len(parts) - 1, i + 1, p) for i, p in enumerate(parts)]


def test_long_parameters() -> None:
    m = make_meter()
    m.associate(client=2)  # 1024 bytes back: the echo fits
    parts = pblocks(encode_data(LONG), 300)
    first = m.send(ActionRequestWithFirstPblock(INVOKE, CosemMethodDescriptor(1, ECHO_LN, 1), parts[0]).to_bytes(), 2)
    assert ActionResponseNextPblock.from_bytes(first or b"").block_number == 1
    second = m.send(ActionRequestWithPblock(INVOKE, parts[1]).to_bytes(), 2)
    assert ActionResponseNextPblock.from_bytes(second or b"").block_number == 2
    last = ActionResponseNormal.from_bytes(m.send(ActionRequestWithPblock(INVOKE, parts[2]).to_bytes(), 2) or b"")
    assert (last.result, last.return_parameters) == (ActionResult.SUCCESS, LONG)


def test_long_parameters_with_list(meter: Meter) -> None:
    methods = (CosemMethodDescriptor(3, REGISTER_LN, 1), CosemMethodDescriptor(1, ECHO_LN, 1))
    raw = b"\x02" + encode_data(ZERO) + encode_data(Data(DataType.VISIBLE_STRING, "x" * 50))
    parts = pblocks(raw, 20)
    meter.send(ActionRequestWithListAndFirstPblock(INVOKE, methods, parts[0]).to_bytes(), 2)
    answer = b""
    for part in parts[1:]:
        answer = meter.send(ActionRequestWithPblock(INVOKE, part).to_bytes(), 2) or b""
    assert ActionResponseWithList.from_bytes(answer).responses == (
        ActionResponseWithOptionalData(ActionResult.SUCCESS),
        ActionResponseWithOptionalData(ActionResult.SUCCESS, Data(DataType.VISIBLE_STRING, "x" * 50)))


def test_parameter_block_errors(meter: Meter) -> None:
    stray = ActionResponseNormal.from_bytes(
        meter.send(ActionRequestWithPblock(INVOKE, DataBlockSA(True, 2, b"\x00")).to_bytes(), 2) or b"")
    assert stray.result == ActionResult.NO_LONG_ACTION_IN_PROGRESS
    parts = pblocks(encode_data(LONG), 300)
    meter.send(ActionRequestWithFirstPblock(INVOKE, CosemMethodDescriptor(1, ECHO_LN, 1), parts[0]).to_bytes(), 2)
    skipped = ActionResponseNormal.from_bytes(meter.send(ActionRequestWithPblock(INVOKE, parts[2]).to_bytes(), 2) or b"")
    assert skipped.result == ActionResult.LONG_ACTION_ABORTED
    bad = ActionResponseNormal.from_bytes(meter.send(ActionRequestWithFirstPblock(
        INVOKE, CosemMethodDescriptor(1, ECHO_LN, 1), DataBlockSA(True, 1, b"\x09\x09")).to_bytes(), 2) or b"")
    assert bad.result == ActionResult.OTHER_REASON


# --------------------------------------------------------------------------- return blocks out

def test_long_return_parameters_in_pblocks() -> None:
    m = make_meter()
    m.associate(client=2, max_pdu=100)
    answer = act(m, 1, ECHO_LN, 1, LONG)
    raw, n = b"", 0
    while True:
        assert len(answer) <= 100
        block = ActionResponseWithPblock.from_bytes(answer).pblock
        n += 1
        assert block.block_number == n
        raw += block.raw_data
        if block.last_block:
            break
        answer = m.send(ActionRequestNextPblock(INVOKE, n).to_bytes(), 2) or b""
    assert raw == encode_data(LONG)
    done = ActionResponseNormal.from_bytes(m.send(ActionRequestNextPblock(INVOKE, n).to_bytes(), 2) or b"")
    assert done.result == ActionResult.NO_LONG_ACTION_IN_PROGRESS


def test_return_block_number_mismatch() -> None:
    m = make_meter()
    m.associate(client=2, max_pdu=100)
    act(m, 1, ECHO_LN, 1, LONG)
    wrong = ActionResponseNormal.from_bytes(m.send(ActionRequestNextPblock(INVOKE, 4).to_bytes(), 2) or b"")
    assert wrong.result == ActionResult.LONG_ACTION_ABORTED


def test_long_return_with_list_in_pblocks() -> None:
    m = make_meter()
    m.associate(client=2, max_pdu=100)
    methods = (CosemMethodDescriptor(1, ECHO_LN, 1), CosemMethodDescriptor(1, FAULTY_LN, 1))
    answer = m.send(ActionRequestWithList(INVOKE, methods, (LONG, ZERO)).to_bytes(), 2) or b""
    raw, n = b"", 0
    while True:
        block = ActionResponseWithPblock.from_bytes(answer).pblock
        n += 1
        raw += block.raw_data
        if block.last_block:
            break
        answer = m.send(ActionRequestNextPblock(INVOKE, n).to_bytes(), 2) or b""
    assert ActionResponseWithList.from_bytes(bytes.fromhex("C703C1") + raw).responses == (
        ActionResponseWithOptionalData(ActionResult.SUCCESS, LONG), ActionResponseWithOptionalData(ActionResult.OTHER_REASON))


def test_long_return_without_block_transfer() -> None:
    m = make_meter()
    m.associate(client=2, max_pdu=100, conformance=CLIENT_CONFORMANCE & ~(
        Conformance.BLOCK_TRANSFER_WITH_ACTION | Conformance.GENERAL_BLOCK_TRANSFER))
    answer = ActionResponseNormal.from_bytes(act(m, 1, ECHO_LN, 1, LONG))
    assert (answer.result, answer.return_parameters) == (ActionResult.SUCCESS, DataAccessResult.OTHER_REASON)
