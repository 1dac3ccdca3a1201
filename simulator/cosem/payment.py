"""Payment metering classes: Account (111), Credit (112), Charge (113), Token gateway (115) and
IEC 62055-41 attributes (116), as the Blue Book (DLMS UA 1000-1) declares them.

The methods do what they say on the object itself: an account moves between new, active and
closed and stamps its activation and closure times; a credit amount is updated, set or
invoked; a charge swaps its passive unit charge in and keeps its collection totals; a token
entered at the gateway is recorded with its time and a "received, not yet processed" status.
How credits, charges and accounts drive each other as consumption accrues belongs to a later
living-meter feature: nothing here runs on a timer.
"""

from __future__ import annotations

from ..apdu.common import ActionResult
from ..axdr import BitString, Data, DataType
from .base import ActionFailure, attribute, interface_class, method
from .context import ObjectContext
from .types import (
    BIT_STRING, DATE_TIME, DOUBLE_LONG, DOUBLE_LONG_UNSIGNED, ENUM, INTEGER, LONG, LONG64_UNSIGNED,
    LONG_UNSIGNED, OBIS, OCTET_STRING, UNSIGNED, UTF8_STRING, VISIBLE_STRING, Array, Enum, Struct,
)
from .values import enum, i32, int_of, now_date_time, struct

__all__ = ["CLASSES", "ACCOUNT", "CREDIT", "CHARGE", "TOKEN_GATEWAY", "IEC_62055_41_ATTRIBUTES",
           "AccountStatus", "CreditStatus"]


# -- Account (111) -----------------------------------------------------------------------------

class AccountStatus:
    """account_status of account_mode_and_status."""

    NEW = 1
    ACTIVE = 2
    CLOSED = 3


_ACCOUNT_MODE_AND_STATUS = Struct((
    ("account_mode", Enum(((1, "credit_mode"), (2, "prepayment_mode")))),
    ("account_status", Enum(((1, "new_inactive_account"), (2, "account_active"), (3, "account_closed"))))))


def _account_state(ctx: ObjectContext) -> tuple[Data, int]:
    value = ctx.get(2)
    if not value.value:  # never set: a new credit-mode account
        return enum(1), AccountStatus.NEW
    mode, status = value.value
    return mode, status.value


def _set_account_status(ctx: ObjectContext, mode: Data, status: int) -> None:
    ctx.set(2, struct(mode, enum(status)))


def _activate_account(ctx: ObjectContext, parameter: Data | None) -> None:
    """activate_account: a new account becomes active; an active or closed one is refused."""
    mode, status = _account_state(ctx)
    if status != AccountStatus.NEW:
        raise ActionFailure(ActionResult.TEMPORARY_FAILURE, "only a new account can be activated")
    _set_account_status(ctx, mode, AccountStatus.ACTIVE)
    ctx.set(13, now_date_time(ctx))
    return None


def _close_account(ctx: ObjectContext, parameter: Data | None) -> None:
    """close_account: an active account is closed and its closure time stamped."""
    mode, status = _account_state(ctx)
    if status != AccountStatus.ACTIVE:
        raise ActionFailure(ActionResult.TEMPORARY_FAILURE, "only an active account can be closed")
    _set_account_status(ctx, mode, AccountStatus.CLOSED)
    ctx.set(14, now_date_time(ctx))
    return None


def _reset_account(ctx: ObjectContext, parameter: Data | None) -> None:
    """reset_account: back to a new account with no credit, debt or amount to clear."""
    mode, _ = _account_state(ctx)
    _set_account_status(ctx, mode, AccountStatus.NEW)
    for index in (5, 6, 8):  # available_credit, amount_to_clear, aggregated_debt
        ctx.set(index, i32(0))
    return None


_REFERENCES = Array(OBIS)

ACCOUNT = interface_class(111, 0, "Account", [
    attribute(2, "account_mode_and_status", _ACCOUNT_MODE_AND_STATUS, dynamic=True),
    attribute(3, "current_credit_in_use", UNSIGNED, dynamic=True),
    attribute(4, "current_credit_status", BIT_STRING, dynamic=True),
    attribute(5, "available_credit", DOUBLE_LONG, dynamic=True),
    attribute(6, "amount_to_clear", DOUBLE_LONG, dynamic=True),
    attribute(7, "clearance_threshold", DOUBLE_LONG),
    attribute(8, "aggregated_debt", DOUBLE_LONG, dynamic=True),
    attribute(9, "credit_reference_list", _REFERENCES),
    attribute(10, "charge_reference_list", _REFERENCES),
    attribute(11, "credit_charge_configuration", Array(Struct((
        ("credit_reference", OBIS), ("charge_reference", OBIS), ("collection_configuration", BIT_STRING))))),
    attribute(12, "token_gateway_configuration", Array(Struct((("credit_reference", OBIS),
                                                               ("token_proportion", UNSIGNED))))),
    attribute(13, "account_activation_time", DATE_TIME, dynamic=True),
    attribute(14, "account_closure_time", DATE_TIME, dynamic=True),
    attribute(15, "currency", Struct((("currency_name", UTF8_STRING), ("currency_scale", INTEGER),
                                      ("currency_unit", ENUM)))),
    attribute(16, "low_credit_threshold", DOUBLE_LONG),
    attribute(17, "next_credit_available_threshold", DOUBLE_LONG),
    attribute(18, "max_provision", LONG_UNSIGNED),
    attribute(19, "max_provision_period", DOUBLE_LONG_UNSIGNED),
], [
    method(1, "activate_account", INTEGER, impl=_activate_account),
    method(2, "close_account", INTEGER, impl=_close_account),
    method(3, "reset_account", INTEGER, impl=_reset_account),
])


# -- Credit (112) ------------------------------------------------------------------------------

class CreditStatus:
    ENABLED = 0
    SELECTABLE = 1
    INVOKED = 2
    IN_USE = 3
    EXHAUSTED = 4


def _update_amount(ctx: ObjectContext, parameter: Data | None) -> None:
    """update_amount: add the (signed) amount to current_credit_amount."""
    assert parameter is not None
    total = int_of(ctx, 2) + parameter.value
    if not -2**31 <= total < 2**31:
        raise ActionFailure(ActionResult.OTHER_REASON, "credit amount out of double-long range")
    ctx.set(2, i32(total))
    return None


def _set_amount_to_value(ctx: ObjectContext, parameter: Data | None) -> None:
    assert parameter is not None
    ctx.set(2, i32(parameter.value))
    return None


def _invoke_credit(ctx: ObjectContext, parameter: Data | None) -> None:
    """invoke_credit: a selectable credit becomes invoked; any other status is refused."""
    if int_of(ctx, 8) != CreditStatus.SELECTABLE:
        raise ActionFailure(ActionResult.TEMPORARY_FAILURE, "credit is not selectable")
    ctx.set(8, enum(CreditStatus.INVOKED))
    return None


CREDIT = interface_class(112, 0, "Credit", [
    attribute(2, "current_credit_amount", DOUBLE_LONG, dynamic=True),
    attribute(3, "credit_type", Enum(((0, "token_credit"), (1, "reserved_credit"), (2, "emergency_credit"),
                                      (3, "time_based_credit"), (4, "consumption_based_credit")))),
    attribute(4, "priority", UNSIGNED),
    attribute(5, "warning_threshold", DOUBLE_LONG),
    attribute(6, "limit", DOUBLE_LONG),
    attribute(7, "credit_configuration", BIT_STRING),
    attribute(8, "credit_status", Enum(((0, "enabled"), (1, "selectable"), (2, "selected_invoked"), (3, "in_use"),
                                        (4, "exhausted"))), dynamic=True),
    attribute(9, "preset_credit_amount", DOUBLE_LONG),
    attribute(10, "credit_available_threshold", DOUBLE_LONG),
    attribute(11, "period", DATE_TIME),
], [
    method(1, "update_amount", DOUBLE_LONG, impl=_update_amount),
    method(2, "set_amount_to_value", DOUBLE_LONG, impl=_set_amount_to_value),
    method(3, "invoke_credit", ENUM, impl=_invoke_credit),
])


# -- Charge (113) ------------------------------------------------------------------------------

_UNIT_CHARGE = Struct((
    ("charge_per_unit_scaling", Struct((("commodity_scale", INTEGER), ("price_scale", INTEGER)))),
    ("commodity", Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS), ("attribute_index", INTEGER)))),
    ("charge_table", Array(Struct((("index", OCTET_STRING), ("charge_per_unit", LONG))))),
))


def _update_unit_charge(ctx: ObjectContext, parameter: Data | None) -> None:
    """update_unit_charge: the new unit charge goes to unit_charge_passive."""
    assert parameter is not None
    ctx.set(6, parameter)
    return None


def _activate_passive_unit_charge(ctx: ObjectContext, parameter: Data | None) -> None:
    """activate_passive_unit_charge: the passive unit charge becomes the active one, at once."""
    ctx.set(5, ctx.get(6))
    return None


def _collect(ctx: ObjectContext, parameter: Data | None) -> None:
    """collect: a collection now; nothing accrued since the last one, so the amount is zero."""
    ctx.set(10, now_date_time(ctx))
    ctx.set(11, i32(0))
    return None


def _update_total_amount_remaining(ctx: ObjectContext, parameter: Data | None) -> None:
    assert parameter is not None
    total = int_of(ctx, 12) + parameter.value
    if not -2**31 <= total < 2**31:
        raise ActionFailure(ActionResult.OTHER_REASON, "amount out of double-long range")
    ctx.set(12, i32(total))
    return None


def _set_total_amount_remaining(ctx: ObjectContext, parameter: Data | None) -> None:
    assert parameter is not None
    ctx.set(12, i32(parameter.value))
    return None


CHARGE = interface_class(113, 0, "Charge", [
    attribute(2, "total_amount_paid", DOUBLE_LONG, dynamic=True),
    attribute(3, "charge_type", Enum(((0, "consumption_based_collection"), (1, "time_based_collection"),
                                      (2, "payment_event_based_collection")))),
    attribute(4, "priority", UNSIGNED),
    attribute(5, "unit_charge_active", _UNIT_CHARGE),
    attribute(6, "unit_charge_passive", _UNIT_CHARGE),
    attribute(7, "unit_charge_activation_time", DATE_TIME),
    attribute(8, "period", DOUBLE_LONG_UNSIGNED),
    attribute(9, "charge_configuration", BIT_STRING),
    attribute(10, "last_collection_time", DATE_TIME, dynamic=True),
    attribute(11, "last_collection_amount", DOUBLE_LONG, dynamic=True),
    attribute(12, "total_amount_remaining", DOUBLE_LONG, dynamic=True),
    attribute(13, "proportion", LONG_UNSIGNED),
], [
    method(1, "update_unit_charge", _UNIT_CHARGE, impl=_update_unit_charge),
    method(2, "activate_passive_unit_charge", INTEGER, impl=_activate_passive_unit_charge),
    method(3, "collect", INTEGER, impl=_collect),
    method(4, "update_total_amount_remaining", DOUBLE_LONG, impl=_update_total_amount_remaining),
    method(5, "set_total_amount_remaining", DOUBLE_LONG, impl=_set_total_amount_remaining),
])


# -- Token gateway (115) -----------------------------------------------------------------------

TOKEN_RECEIVED_NOT_PROCESSED = 8


def _enter(ctx: ObjectContext, parameter: Data | None) -> None:
    """enter: the token, when it arrived, remotely; status "received, not yet processed"."""
    assert parameter is not None
    ctx.set(2, parameter)
    ctx.set(3, now_date_time(ctx))
    ctx.set(5, enum(0))
    ctx.set(6, struct(enum(TOKEN_RECEIVED_NOT_PROCESSED), Data(DataType.BIT_STRING, BitString(""))))
    return None


TOKEN_GATEWAY = interface_class(115, 0, "Token gateway", [
    attribute(2, "token", OCTET_STRING, dynamic=True),
    attribute(3, "token_time", DATE_TIME, dynamic=True),
    attribute(4, "token_description", Array(OCTET_STRING), dynamic=True),
    attribute(5, "token_delivery_method", Enum(((0, "remote"), (1, "local"), (2, "manual"))), dynamic=True),
    attribute(6, "token_status", Struct((
        ("status_code", Enum(((0, "format_ok"), (1, "authentication_ok"), (2, "validation_ok"), (3, "execution_ok"),
                               (4, "format_failure"), (5, "authentication_failure"), (6, "validation_failure"),
                               (7, "execution_failure"), (8, "received_not_processed")))),
        ("data_value", BIT_STRING))), dynamic=True),
], [
    method(1, "enter", OCTET_STRING, impl=_enter),
])


# -- IEC 62055-41 attributes (116) -------------------------------------------------------------

IEC_62055_41_ATTRIBUTES = interface_class(116, 0, "IEC 62055-41 attributes", [
    attribute(2, "meter_PAN", Struct((("issuer_ID", DOUBLE_LONG_UNSIGNED), ("decoder_reference_number", LONG64_UNSIGNED),
                                      ("PAN_check_digit", UNSIGNED)))),
    attribute(3, "commodity", VISIBLE_STRING),
    attribute(4, "token_carrier_types", Array(UNSIGNED)),
    attribute(5, "encryption_algorithm", UNSIGNED),
    attribute(6, "supply_group_code", DOUBLE_LONG_UNSIGNED),
    attribute(7, "tariff_index", UNSIGNED),
    attribute(8, "key_revision_number", UNSIGNED),
    attribute(9, "key_type", UNSIGNED),
    attribute(10, "key_expiry_number", UNSIGNED),
    attribute(11, "no_of_KCTs_supported", UNSIGNED),
    attribute(12, "STS_certificate_no", VISIBLE_STRING),
])


CLASSES = (ACCOUNT, CREDIT, CHARGE, TOKEN_GATEWAY, IEC_62055_41_ATTRIBUTES)
