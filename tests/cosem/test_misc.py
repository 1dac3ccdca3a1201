"""Utility tables, Arbitrator, Function control and Array manager semantics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.common import ActionResult
from simulator.axdr import BitString, Data, DataType
from tests.cosem.helpers import ZERO, array, call, octets, refused, struct, u16, u32, u8
from tests.cosem.meter_fixture import TestMeter


def bits(v: str) -> Data:
    return Data(DataType.BIT_STRING, BitString(v))


def ln(text: str) -> Data:
    return octets(bytes(int(p) for p in text.split(".")))


# -- Utility tables (26) -----------------------------------------------------------------------

def test_utility_table_length_follows_buffer() -> None:
    name = "0.0.65.0.3.255"
    obj = TestMeter([(26, name, {2: u16(3), 4: octets(b"abcdef")})]).obj(name)
    assert obj.get(3) == u32(6)
    obj.set(4, octets(b"xy"))
    assert obj.get(3) == u32(2)


# -- Arbitrator (68) ---------------------------------------------------------------------------

ARB = "0.0.96.3.20.255"
SCRIPTS = "0.0.10.0.106.255"


def arbitrator() -> TestMeter:
    return TestMeter([
        (68, ARB, {
            2: array(struct(ln(SCRIPTS), u16(1)), struct(ln(SCRIPTS), u16(2)), struct(ln(SCRIPTS), u16(3))),
            3: array(bits("110"), bits("011"), bits("111")),
            4: array(array(u16(10), u16(1), u16(0)), array(u16(0), u16(5), u16(30)), array(u16(1), u16(1), u16(1))),
        }),
        (1, "0.0.96.3.10.255", {2: u8(0)}),
        (9, SCRIPTS, {2: array(*(struct(u16(s), array(struct(
            Data(DataType.ENUM, 1), u16(1), ln("0.0.96.3.10.255"), Data(DataType.INTEGER, 2), u8(s))))
            for s in (1, 2, 3)))}),
    ])


def request(m: TestMeter, actor: int, wanted: str) -> None:
    call(m.obj(ARB), 1, struct(u8(actor), bits(wanted)))


def test_arbitrator_highest_weight_wins_and_runs_its_script() -> None:
    m = arbitrator()
    request(m, 0, "110")  # actor 0: action 0 (weight 10) and 1 (weight 1)
    assert m.obj(ARB).get(6) == u8(0)
    request(m, 1, "011")  # actor 1: action 1 (5) and 2 (30): action 2 totals 30
    assert m.obj(ARB).get(6) == u8(2)
    assert m.obj(ARB).get(5) == array(bits("110"), bits("011"))
    assert m.obj("0.0.96.3.10.255").get(2) == u8(3)  # script 3 ran: it writes 3 there


def test_arbitrator_ignores_unpermitted_requests() -> None:
    m = arbitrator()
    assert refused(m.obj(ARB), 1, struct(u8(0), bits("001"))) == ActionResult.OTHER_REASON
    assert refused(m.obj(ARB), 1, struct(u8(5), bits("100"))) == ActionResult.OTHER_REASON


def test_arbitrator_reset_forgets_requests() -> None:
    m = arbitrator()
    request(m, 1, "011")
    call(m.obj(ARB), 2, ZERO)
    assert m.obj(ARB).get(5) == array(bits("000"), bits("000"))
    request(m, 0, "010")
    assert m.obj(ARB).get(6) == u8(1)


# -- Function control (122) --------------------------------------------------------------------

FC = "0.0.44.1.0.255"


def function(name: bytes) -> Data:
    return struct(octets(name), array(struct(u16(70), ln("0.0.96.3.10.255"))))


def test_function_control_add_set_delete() -> None:
    obj = TestMeter([(122, FC, {2: array(struct(octets(b"disconnect"), Data(DataType.BOOLEAN, True))),
                                3: array(function(b"disconnect"))})]).obj(FC)
    call(obj, 2, array(function(b"push")))
    assert obj.get(3) == array(function(b"disconnect"), function(b"push"))
    assert obj.get(2).value[1] == struct(octets(b"push"), Data(DataType.BOOLEAN, True))
    call(obj, 1, array(struct(octets(b"push"), Data(DataType.BOOLEAN, False))))
    assert obj.get(2).value[1] == struct(octets(b"push"), Data(DataType.BOOLEAN, False))
    call(obj, 3, octets(b"disconnect"))
    assert obj.get(3) == array(function(b"push"))
    assert [s.value[0].value for s in obj.get(2).value] == [b"push"]


def test_function_control_refusals_leave_state_unchanged() -> None:
    obj = TestMeter([(122, FC, {3: array(function(b"a"))})]).obj(FC)
    before = obj.get(3)
    assert refused(obj, 2, array(function(b"b"), function(b"a"))) == ActionResult.OTHER_REASON
    assert refused(obj, 1, array(struct(octets(b"zz"), Data(DataType.BOOLEAN, True)))) == ActionResult.OTHER_REASON
    assert refused(obj, 3, octets(b"zz")) == ActionResult.OTHER_REASON
    assert obj.get(3) == before
    call(obj, 2, function(b"single"))  # a lone structure is accepted too
    assert len(obj.get(3).value) == 2


# -- Array manager (123) -----------------------------------------------------------------------

AM = "0.0.18.0.0.255"
IPV4 = "0.0.25.1.0.255"


def manager(*addresses: int) -> TestMeter:
    return TestMeter([
        (123, AM, {2: array(struct(u8(1), struct(u16(42), ln(IPV4), Data(DataType.INTEGER, 4))),
                            struct(u8(2), struct(u16(42), ln("0.0.25.1.9.255"), Data(DataType.INTEGER, 4))))}),
        (42, IPV4, {4: array(*map(u32, addresses))}),
    ])


def span(array_id: int, low: int, high: int) -> Data:
    return struct(u8(array_id), struct(u16(low), u16(high)))


def entry(array_id: int, index: int, value: Data) -> Data:
    return struct(u8(array_id), struct(u16(index), value))


def listed(m: TestMeter) -> list[int]:
    return [d.value for d in m.obj(IPV4).get(4).value]


def test_array_manager_count_and_retrieve() -> None:
    m = manager(10, 20, 30, 40)
    assert call(m.obj(AM), 1, u8(1)) == u8(4)
    assert call(m.obj(AM), 2, span(1, 2, 3)) == array(u32(20), u32(30))
    assert call(m.obj(AM), 2, span(1, 3, 99)) == array(u32(30), u32(40))


def test_array_manager_insert_update_remove() -> None:
    m = manager(10, 20)
    call(m.obj(AM), 3, entry(1, 0, u32(5)))
    call(m.obj(AM), 3, entry(1, 2, u32(15)))
    call(m.obj(AM), 3, entry(1, 99, u32(99)))
    assert listed(m) == [5, 10, 15, 20, 99]
    call(m.obj(AM), 4, entry(1, 5, u32(25)))
    assert listed(m) == [5, 10, 15, 20, 25]
    call(m.obj(AM), 5, span(1, 2, 3))
    assert listed(m) == [5, 20, 25]


@pytest.mark.parametrize("index, parameter, result", [
    (1, u8(9), ActionResult.OTHER_REASON),
    (1, u8(2), ActionResult.OBJECT_UNAVAILABLE),
    (2, span(1, 0, 1), ActionResult.OTHER_REASON),
    (2, span(1, 3, 2), ActionResult.OTHER_REASON),
    (5, span(1, 5, 6), ActionResult.OTHER_REASON),
    (4, entry(1, 0, u32(1)), ActionResult.OTHER_REASON),
    (4, entry(1, 3, u32(1)), ActionResult.OTHER_REASON),
    (3, entry(1, 0, octets(b"not an address")), ActionResult.TYPE_UNMATCHED),
])
def test_array_manager_refusals(index: int, parameter: Data, result: ActionResult) -> None:
    m = manager(10, 20)
    assert refused(m.obj(AM), index, parameter) == result
    assert listed(m) == [10, 20]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("iur"), st.integers(0, 6), st.integers(0, 1000)), max_size=12))
def test_array_manager_matches_a_list(ops: list[tuple[str, int, int]]) -> None:
    m = manager()
    model: list[int] = []
    for op, index, value in ops:
        if op == "i":
            call(m.obj(AM), 3, entry(1, index, u32(value)))
            model.insert(min(index, len(model)), value)
        elif op == "u" and 1 <= index <= len(model):
            call(m.obj(AM), 4, entry(1, index, u32(value)))
            model[index - 1] = value
        elif op == "r" and 1 <= index <= len(model):
            call(m.obj(AM), 5, span(1, index, index))
            del model[index - 1]
    assert [d.value for d in m.obj(IPV4).get(4).value] == model
    count = call(m.obj(AM), 1, u8(1))
    assert count is not None and count.value == len(model)
