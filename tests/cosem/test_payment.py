"""Payment metering: account life cycle, credit amounts, charge activation and collection, tokens."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.common import ActionResult
from simulator.axdr import CosemDateTime, Data, DataType
from simulator.cosem.payment import AccountStatus, CreditStatus
from simulator.server.objects import ObjectHandle
from tests.cosem.helpers import ZERO, call, octets, refused, struct
from tests.cosem.meter_fixture import EPOCH_2024, TestMeter


def i32(v: int) -> Data:
    return Data(DataType.DOUBLE_LONG, v)


def enum(v: int) -> Data:
    return Data(DataType.ENUM, v)


def stamped_at(value: Data) -> float:
    return CosemDateTime.from_bytes(value.value).to_datetime().timestamp()


# -- Account (111) -----------------------------------------------------------------------------

ACCOUNT = "0.0.19.0.0.255"


def status(obj: ObjectHandle) -> tuple[int, int]:
    mode, st_ = obj.get(2).value
    return mode.value, st_.value


def test_account_life_cycle() -> None:
    m = TestMeter([(111, ACCOUNT, {2: struct(enum(2), enum(AccountStatus.NEW)), 5: i32(500)})])
    m.now = 60.0
    obj = m.obj(ACCOUNT)
    call(obj, 1, ZERO)
    assert status(obj) == (2, AccountStatus.ACTIVE)
    assert stamped_at(obj.get(13)) == EPOCH_2024 + 60
    assert refused(obj, 1, ZERO) == ActionResult.TEMPORARY_FAILURE
    m.now = 120.0
    obj = m.obj(ACCOUNT)
    call(obj, 2, ZERO)
    assert status(obj) == (2, AccountStatus.CLOSED)
    assert stamped_at(obj.get(14)) == EPOCH_2024 + 120
    assert refused(obj, 2, ZERO) == ActionResult.TEMPORARY_FAILURE
    assert refused(obj, 1, ZERO) == ActionResult.TEMPORARY_FAILURE
    call(obj, 3, ZERO)
    assert status(obj) == (2, AccountStatus.NEW)
    assert obj.get(5) == i32(0)


def test_account_without_model_value_is_new_credit_mode() -> None:
    obj = TestMeter([(111, ACCOUNT, {})]).obj(ACCOUNT)
    assert refused(obj, 2, ZERO) == ActionResult.TEMPORARY_FAILURE
    call(obj, 1, ZERO)
    assert status(obj) == (1, AccountStatus.ACTIVE)


# -- Credit (112) ------------------------------------------------------------------------------

CREDIT = "0.0.19.10.0.255"


def test_credit_amount_update_and_set() -> None:
    obj = TestMeter([(112, CREDIT, {2: i32(100)})]).obj(CREDIT)
    call(obj, 1, i32(50))
    assert obj.get(2) == i32(150)
    call(obj, 1, i32(-200))
    assert obj.get(2) == i32(-50)
    call(obj, 2, i32(7))
    assert obj.get(2) == i32(7)


def test_credit_update_refuses_overflow() -> None:
    obj = TestMeter([(112, CREDIT, {2: i32(2**31 - 1)})]).obj(CREDIT)
    assert refused(obj, 1, i32(1)) == ActionResult.OTHER_REASON
    assert obj.get(2) == i32(2**31 - 1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-10**6, 10**6), max_size=15))
def test_credit_updates_add_up(deltas: list[int]) -> None:
    obj = TestMeter([(112, CREDIT, {})]).obj(CREDIT)
    for d in deltas:
        call(obj, 1, i32(d))
    assert obj.get(2).value == (sum(deltas) if deltas else None)


def test_invoke_credit_only_when_selectable() -> None:
    obj = TestMeter([(112, CREDIT, {8: enum(CreditStatus.SELECTABLE)})]).obj(CREDIT)
    call(obj, 3, enum(CreditStatus.INVOKED))
    assert obj.get(8) == enum(CreditStatus.INVOKED)
    assert refused(obj, 3, enum(CreditStatus.INVOKED)) == ActionResult.TEMPORARY_FAILURE


# -- Charge (113) ------------------------------------------------------------------------------

CHARGE = "0.0.19.20.0.255"


def unit_charge(price: int) -> Data:
    return struct(
        struct(Data(DataType.INTEGER, 0), Data(DataType.INTEGER, -2)),
        struct(Data(DataType.LONG_UNSIGNED, 3), octets(bytes([1, 0, 1, 8, 0, 255])), Data(DataType.INTEGER, 2)),
        Data(DataType.ARRAY, (struct(octets(b"\x01"), Data(DataType.LONG, price)),)),
    )


def test_charge_passive_unit_charge_activation() -> None:
    obj = TestMeter([(113, CHARGE, {5: unit_charge(10)})]).obj(CHARGE)
    call(obj, 1, unit_charge(12))
    assert obj.get(6) == unit_charge(12) and obj.get(5) == unit_charge(10)
    call(obj, 2, ZERO)
    assert obj.get(5) == unit_charge(12)


def test_charge_collect_and_totals() -> None:
    m = TestMeter([(113, CHARGE, {12: i32(1000)})])
    m.now = 30.0
    obj = m.obj(CHARGE)
    call(obj, 3, ZERO)
    assert stamped_at(obj.get(10)) == EPOCH_2024 + 30
    assert obj.get(11) == i32(0)
    call(obj, 4, i32(-250))
    assert obj.get(12) == i32(750)
    call(obj, 5, i32(40))
    assert obj.get(12) == i32(40)


# -- Token gateway (115) -----------------------------------------------------------------------

def test_token_enter_records_token_time_and_status() -> None:
    ln = "0.0.19.40.0.255"
    m = TestMeter([(115, ln, {})])
    m.now = 5.0
    obj = m.obj(ln)
    token = octets(bytes.fromhex("0123456789abcdef0123"))
    call(obj, 1, token)
    assert obj.get(2) == token
    assert stamped_at(obj.get(3)) == EPOCH_2024 + 5
    assert obj.get(5) == enum(0)
    status_code, _bits = obj.get(6).value
    assert status_code == enum(8)
    assert obj.cls.attribute(6).type.accepts(obj.get(6))
