"""Image transfer (18): the initiate / transfer blocks / verify / activate state machine."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.state import ImageTransfer
from simulator.apdu.common import ActionResult
from simulator.axdr import BitString, Data, DataType
from simulator.cosem.base import ActionFailure
from simulator.cosem.image import (
    DEFAULT_BLOCK_SIZE, IMAGE_TRANSFER, MAX_IMAGE_SIZE, ImageTransferStatus, activated_identifier,
    received_image,
)
from simulator.cosem.registry import get_class
from tests.cosem.meter_fixture import TestMeter

LN = "0.0.44.0.0.255"
S = ImageTransferStatus
IMAGE = bytes(range(256)) * 2 + b"tail"  # 516 octets: 5 blocks of 100 + one of 16
BLOCK = 100
ZERO = Data(DataType.INTEGER, 0)


def u32(v: int) -> Data:
    return Data(DataType.DOUBLE_LONG_UNSIGNED, v)


def octets(v: bytes) -> Data:
    return Data(DataType.OCTET_STRING, v)


def meter(block_size: int | None = BLOCK, **values: Data) -> TestMeter:
    attrs = {} if block_size is None else {2: u32(block_size)}
    attrs.update({int(k[1:]): v for k, v in values.items()})
    return TestMeter([(18, LN, attrs)])


def initiate(m: TestMeter, identifier: bytes = b"FW-2.0", size: int = len(IMAGE)) -> None:
    assert m.obj(LN).invoke(1, Data(DataType.STRUCTURE, (octets(identifier), u32(size)))) is None


def block(m: TestMeter, number: int, value: bytes | None = None) -> None:
    if value is None:
        value = IMAGE[number * BLOCK:(number + 1) * BLOCK]
    assert m.obj(LN).invoke(2, Data(DataType.STRUCTURE, (u32(number), octets(value)))) is None


def verify(m: TestMeter) -> None:
    assert m.obj(LN).invoke(3, ZERO) is None


def activate(m: TestMeter) -> None:
    assert m.obj(LN).invoke(4, ZERO) is None


def refused(m: TestMeter, method: int, parameter: Data) -> None:
    with pytest.raises(ActionFailure) as err:
        m.obj(LN).invoke(method, parameter)
    assert err.value.result == ActionResult.OTHER_REASON


def status(m: TestMeter) -> int:
    return m.obj(LN).get(6).value


def bits(m: TestMeter) -> str:
    return m.obj(LN).get(3).value.bits


def first_missing(m: TestMeter) -> int:
    return m.obj(LN).get(4).value


def send_all(m: TestMeter) -> None:
    for n in range(6):
        block(m, n)


INITIATE = Data(DataType.STRUCTURE, (octets(b"X"), u32(10)))
BLOCK_0 = Data(DataType.STRUCTURE, (u32(0), octets(IMAGE[:BLOCK])))


# --------------------------------------------------------------------------- declaration

def test_declaration_follows_the_blue_book() -> None:
    cls = get_class(18)
    assert cls is IMAGE_TRANSFER and cls.key == (18, 0)
    assert [(a.index, a.name, a.dynamic) for a in cls.attributes] == [
        (1, "logical_name", False), (2, "image_block_size", False),
        (3, "image_transferred_blocks_status", True), (4, "image_first_not_transferred_block_number", True),
        (5, "image_transfer_enabled", False), (6, "image_transfer_status", True),
        (7, "image_to_activate_info", True)]
    assert [(m.index, m.name) for m in cls.methods] == [
        (1, "image_transfer_initiate"), (2, "image_block_transfer"), (3, "image_verify"), (4, "image_activate")]
    assert cls.sn_method_offset == 0x40
    assert cls.method(1).parameter.accepts(INITIATE)
    assert cls.method(2).parameter.accepts(BLOCK_0)
    assert cls.attribute(6).type.accepts(Data(DataType.ENUM, 7))
    assert cls.attribute(6).type.fault(Data(DataType.ENUM, 8)) is not None  # out of range


def test_initial_attributes() -> None:
    m = meter(block_size=None)
    o = m.obj(LN)
    assert o.get(2) == u32(DEFAULT_BLOCK_SIZE)
    assert o.get(3) == Data(DataType.BIT_STRING, BitString(""))
    assert o.get(4) == u32(0)
    assert o.get(5) == Data(DataType.BOOLEAN, True)
    assert o.get(6) == Data(DataType.ENUM, S.NOT_INITIATED)
    assert o.get(7) == Data(DataType.ARRAY, ())
    assert o.effect(ImageTransfer) is None
    assert activated_identifier(o) is None and received_image(o) is None


# --------------------------------------------------------------------------- the whole process

def test_transfer_verify_activate() -> None:
    m = meter()
    initiate(m)
    assert status(m) == S.INITIATED
    assert bits(m) == "000000" and first_missing(m) == 0
    for n in (0, 1, 3):
        block(m, n)
    assert bits(m) == "110100" and first_missing(m) == 2
    assert m.obj(LN).get(7) == Data(DataType.ARRAY, ())
    assert received_image(m.obj(LN)) is None
    block(m, 5)
    block(m, 2)
    block(m, 4)
    assert bits(m) == "111111" and first_missing(m) == 6
    assert received_image(m.obj(LN)) == IMAGE
    verify(m)
    assert status(m) == S.VERIFICATION_SUCCESSFUL
    info = Data(DataType.ARRAY, (Data(DataType.STRUCTURE, (u32(len(IMAGE)), octets(b"FW-2.0"), octets(b""))),))
    assert m.obj(LN).get(7) == info
    activate(m)
    assert status(m) == S.ACTIVATION_SUCCESSFUL
    assert activated_identifier(m.obj(LN)) == b"FW-2.0"
    assert m.obj(LN).get(7) == info


def test_a_repeated_block_is_accepted() -> None:
    m = meter()
    initiate(m)
    block(m, 0)
    block(m, 0)
    assert bits(m) == "100000" and first_missing(m) == 1


def test_image_of_whole_blocks() -> None:
    m = meter()
    initiate(m, size=300)
    assert bits(m) == "000"
    for n in range(3):
        block(m, n)
    verify(m)
    assert received_image(m.obj(LN)) == IMAGE[:300]


def test_activate_verifies_first_when_the_client_did_not() -> None:
    m = meter()
    initiate(m)
    send_all(m)
    activate(m)
    assert status(m) == S.ACTIVATION_SUCCESSFUL
    assert activated_identifier(m.obj(LN)) == b"FW-2.0"


def test_verify_with_missing_blocks_fails_until_they_arrive() -> None:
    m = meter()
    initiate(m)
    for n in (0, 1, 2, 4, 5):
        block(m, n)
    refused(m, 3, ZERO)
    assert status(m) == S.VERIFICATION_FAILED
    assert m.obj(LN).get(7) == Data(DataType.ARRAY, ())
    refused(m, 4, ZERO)  # activation cannot verify either
    assert status(m) == S.VERIFICATION_FAILED
    block(m, 3)
    assert status(m) == S.INITIATED
    verify(m)
    activate(m)
    assert status(m) == S.ACTIVATION_SUCCESSFUL


def test_activate_with_missing_blocks_is_refused() -> None:
    m = meter()
    initiate(m)
    block(m, 0)
    refused(m, 4, ZERO)
    assert status(m) == S.VERIFICATION_FAILED
    assert activated_identifier(m.obj(LN)) is None


def test_a_block_after_verification_asks_for_a_new_one() -> None:
    m = meter()
    initiate(m)
    send_all(m)
    verify(m)
    block(m, 2)
    assert status(m) == S.INITIATED
    assert m.obj(LN).get(7) == Data(DataType.ARRAY, ())
    verify(m)
    assert status(m) == S.VERIFICATION_SUCCESSFUL


def test_verify_twice_is_harmless() -> None:
    m = meter()
    initiate(m)
    send_all(m)
    verify(m)
    verify(m)
    assert status(m) == S.VERIFICATION_SUCCESSFUL


def test_initiate_restarts_and_keeps_the_activated_identifier() -> None:
    m = meter()
    initiate(m)
    send_all(m)
    activate(m)
    initiate(m, b"FW-3.0", 150)
    assert status(m) == S.INITIATED
    assert bits(m) == "00" and first_missing(m) == 0
    assert m.obj(LN).get(7) == Data(DataType.ARRAY, ())
    assert activated_identifier(m.obj(LN)) == b"FW-2.0"
    block(m, 0)
    block(m, 1, IMAGE[100:150])
    activate(m)
    assert activated_identifier(m.obj(LN)) == b"FW-3.0"


def test_initiate_in_the_middle_forgets_the_blocks() -> None:
    m = meter()
    initiate(m)
    block(m, 0)
    initiate(m)
    assert bits(m) == "000000"


def test_block_size_is_frozen_at_initiation() -> None:
    m = meter()
    initiate(m)
    m.obj(LN).set(2, u32(50))
    block(m, 0)
    assert bits(m)[0] == "1"


# --------------------------------------------------------------------------- refusals

@pytest.mark.parametrize(("method", "parameter"), [(2, BLOCK_0), (3, ZERO), (4, ZERO)])
def test_nothing_but_initiate_before_initiation(method: int, parameter: Data) -> None:
    m = meter()
    refused(m, method, parameter)
    assert status(m) == S.NOT_INITIATED


@pytest.mark.parametrize(("method", "parameter"), [(2, BLOCK_0), (3, ZERO), (4, ZERO)])
def test_nothing_but_initiate_after_activation(method: int, parameter: Data) -> None:
    m = meter()
    initiate(m)
    send_all(m)
    activate(m)
    refused(m, method, parameter)
    assert status(m) == S.ACTIVATION_SUCCESSFUL


@pytest.mark.parametrize(("method", "parameter"), [(1, INITIATE), (2, BLOCK_0), (3, ZERO), (4, ZERO)])
def test_everything_refused_while_transfer_is_disabled(method: int, parameter: Data) -> None:
    m = meter()
    initiate(m)
    send_all(m)
    m.obj(LN).set(5, Data(DataType.BOOLEAN, False))
    refused(m, method, parameter)
    assert status(m) == S.INITIATED
    m.obj(LN).set(5, Data(DataType.BOOLEAN, True))
    activate(m)


def test_disabled_by_the_model() -> None:
    m = meter(a5=Data(DataType.BOOLEAN, False))
    refused(m, 1, INITIATE)
    assert m.obj(LN).effect(ImageTransfer) is None


@pytest.mark.parametrize("size", [0, MAX_IMAGE_SIZE + 1, 0xFFFFFFFF])
def test_initiate_refuses_impossible_sizes(size: int) -> None:
    m = meter()
    refused(m, 1, Data(DataType.STRUCTURE, (octets(b"X"), u32(size))))
    assert status(m) == S.NOT_INITIATED


def test_initiate_refuses_without_a_block_size() -> None:
    refused(meter(block_size=0), 1, INITIATE)


@pytest.mark.parametrize(("number", "value"), [
    (6, b"x" * 16),                 # past the last block
    (0xFFFFFFFF, b"x" * BLOCK),
    (0, IMAGE[:BLOCK - 1]),         # short block
    (0, IMAGE[:BLOCK] + b"x"),      # long block
    (5, IMAGE[500:] + b"x"),        # last block longer than the rest of the image
    (5, IMAGE[500:515]),            # last block shorter
    (5, b"x" * BLOCK),              # last block of a full block's size
])
def test_block_refusals(number: int, value: bytes) -> None:
    m = meter()
    initiate(m)
    refused(m, 2, Data(DataType.STRUCTURE, (u32(number), octets(value))))
    assert bits(m) == "000000" and status(m) == S.INITIATED


def test_state_is_per_meter() -> None:
    a, b = meter(), meter()
    initiate(a)
    assert status(a) == S.INITIATED and status(b) == S.NOT_INITIATED


# --------------------------------------------------------------------------- any sequence

OPS = st.lists(st.one_of(
    st.tuples(st.just(1), st.sampled_from([0, 1, 100, 250, 516])),
    st.tuples(st.just(2), st.integers(0, 7)),
    st.tuples(st.just(3), st.just(0)),
    st.tuples(st.just(4), st.just(0)),
    st.tuples(st.just(5), st.booleans()),
), max_size=30)


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_any_sequence_keeps_the_attributes_consistent(ops: list[tuple[int, int]]) -> None:
    """Whatever a client calls, every answer is success or other-reason and the attributes agree."""
    m = meter()
    size = 0
    for op, arg in ops:
        before = status(m)
        if op == 5:
            m.obj(LN).set(5, Data(DataType.BOOLEAN, bool(arg)))
            continue
        try:
            if op == 1:
                initiate(m, b"id%d" % arg, arg)
                size = arg
            elif op == 2:
                block(m, arg, IMAGE[arg * BLOCK:min((arg + 1) * BLOCK, size)] or b"x")
            elif op == 3:
                verify(m)
            else:
                activate(m)
        except ActionFailure as err:
            assert err.result == ActionResult.OTHER_REASON
            assert status(m) in (before, S.VERIFICATION_FAILED)
        else:
            assert {1: {S.INITIATED}, 2: {S.INITIATED}, 3: {S.VERIFICATION_SUCCESSFUL},
                    4: {S.ACTIVATION_SUCCESSFUL}}[op] == {status(m)}
        text = bits(m)
        assert len(text) == -(-size // BLOCK) if status(m) != S.NOT_INITIATED else text == ""
        assert first_missing(m) == (text + "0").index("0")
        complete = status(m) != S.NOT_INITIATED and "0" not in text
        assert (received_image(m.obj(LN)) == IMAGE[:size]) if complete else received_image(m.obj(LN)) is None
        if status(m) in (S.VERIFICATION_SUCCESSFUL, S.ACTIVATION_SUCCESSFUL):
            assert complete
