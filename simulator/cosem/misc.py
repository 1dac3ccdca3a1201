"""Utility tables (26), Data protection (30), Arbitrator (68), Function control (122) and
Array manager (123), as the Blue Book (DLMS UA 1000-1) declares them.

Real semantics: Utility tables' length follows its buffer; the arbitrator weighs the actors'
most recent requests and runs the winning action's script; function control enables,
disables, adds and deletes functions; the array manager counts, reads, inserts, updates and
removes entries of another object's array attribute (through that object's own SET, so its
side effects apply). Data protection's methods need the general protection machinery of the
security layer and are declared only.
"""

from __future__ import annotations

from ..apdu.common import ActionResult, DataAccessResult
from ..axdr import BitString, Data, DataType, Obis
from .base import AccessFailure, ActionFailure, attribute, interface_class, method
from .context import ObjectContext
from .types import (
    ANY, BIT_STRING, BOOLEAN, DOUBLE_LONG_UNSIGNED, ENUM, INTEGER, LONG_UNSIGNED, OBIS, OCTET_STRING,
    UNSIGNED, Array, OneOf, Struct,
)
from .values import (
    CAPTURE_OBJECT_DEFINITION, OBJECT_DEFINITION, array, boolean, items, store_items, struct, u8, u16, u32,
)

__all__ = ["CLASSES", "UTILITY_TABLES", "DATA_PROTECTION", "ARBITRATOR", "FUNCTION_CONTROL", "ARRAY_MANAGER"]


# -- Utility tables (26) -----------------------------------------------------------------------

def _table_length(ctx: ObjectContext) -> Data:
    """length: the number of octets in buffer."""
    buffer = ctx.get(4)
    return u32(len(buffer.value) if buffer.type == DataType.OCTET_STRING else 0)


UTILITY_TABLES = interface_class(26, 0, "Utility tables", [
    attribute(2, "table_ID", LONG_UNSIGNED),
    attribute(3, "length", DOUBLE_LONG_UNSIGNED, dynamic=True, getter=_table_length),
    attribute(4, "buffer", OCTET_STRING, dynamic=True),
])


# -- Data protection (30) ----------------------------------------------------------------------

_PROTECTION_PARAMETERS = Struct((
    ("protection_type", ENUM),
    ("protection_options", Struct((("transaction_id", OCTET_STRING), ("originator_system_title", OCTET_STRING),
                                   ("recipient_system_title", OCTET_STRING), ("other_information", OCTET_STRING),
                                   ("key_info", ANY))))))

DATA_PROTECTION = interface_class(30, 0, "Data protection", [
    attribute(2, "protection_buffer", OCTET_STRING, dynamic=True),
    attribute(3, "protection_object_list", Array(CAPTURE_OBJECT_DEFINITION)),
    attribute(4, "protection_parameters_get", Array(_PROTECTION_PARAMETERS)),
    attribute(5, "protection_parameters_set", Array(_PROTECTION_PARAMETERS)),
    attribute(6, "required_protection", ENUM),
], [
    method(1, "get_protected_attributes", ANY),
    method(2, "set_protected_attributes", ANY),
    method(3, "invoke_protected_method", ANY),
])


# -- Arbitrator (68) ---------------------------------------------------------------------------

def _bits(value: Data) -> str:
    return value.value.bits if value.type == DataType.BIT_STRING else ""


def _request_action(ctx: ObjectContext, parameter: Data | None) -> None:
    """request_action: record the actor's request, then arbitrate over every actor's latest one.

    Actors are numbered from 0, the index of their row in permissions_table and
    weightings_table. A requested action counts only where the actor's permission bit is set;
    each action's score is the sum of the weights of the actors requesting it; the highest
    score wins (the lowest action number on a tie), becomes last_outcome, and its script runs.
    """
    assert parameter is not None
    actor = parameter.value[0].value
    permissions = items(ctx, 3)
    if actor >= len(permissions):
        raise ActionFailure(ActionResult.OTHER_REASON, f"actor {actor} has no permissions entry")
    actions = items(ctx, 2)
    requests = items(ctx, 5)
    requests += [_no_request(len(actions))] * (actor + 1 - len(requests))
    requests[actor] = parameter.value[1]
    store_items(ctx, 5, requests)

    weights = items(ctx, 4)
    scores = [0] * len(actions)
    for who, request in enumerate(requests):
        allowed = _bits(permissions[who]) if who < len(permissions) else ""
        row = weights[who].value if who < len(weights) else ()
        for i, bit in enumerate(_bits(request)[:len(actions)]):
            if bit == "1" and i < len(allowed) and allowed[i] == "1" and i < len(row):
                scores[i] += row[i].value
    best = max(range(len(scores)), key=lambda i: (scores[i], -i), default=None)
    if best is None or scores[best] == 0:
        raise ActionFailure(ActionResult.OTHER_REASON, "no permitted action requested")
    ctx.set(6, u8(best))
    script_ln, selector = actions[best].value
    script = ctx.find(Obis(script_ln.value), 9)
    if script is not None:
        script.invoke(1, u16(selector.value))
    return None


def _no_request(actions: int) -> Data:
    return Data(DataType.BIT_STRING, BitString("0" * actions))


def _reset_arbitrator(ctx: ObjectContext, parameter: Data | None) -> None:
    """reset: forget every actor's most recent request."""
    store_items(ctx, 5, [_no_request(len(items(ctx, 2)))] * len(items(ctx, 5)))
    return None


ARBITRATOR = interface_class(68, 0, "Arbitrator", [
    attribute(2, "actions", Array(Struct((("script_logical_name", OBIS), ("script_selector", LONG_UNSIGNED))))),
    attribute(3, "permissions_table", Array(BIT_STRING)),
    attribute(4, "weightings_table", Array(Array(LONG_UNSIGNED))),
    attribute(5, "most_recent_requests_table", Array(BIT_STRING), dynamic=True),
    attribute(6, "last_outcome", UNSIGNED, dynamic=True),
], [
    method(1, "request_action", Struct((("request_actor", UNSIGNED), ("request_action_list", BIT_STRING))),
           impl=_request_action),
    method(2, "reset", INTEGER, impl=_reset_arbitrator),
])


# -- Function control (122) --------------------------------------------------------------------

_FUNCTION_STATUS = Struct((("function_name", OCTET_STRING), ("status", BOOLEAN)))
_FUNCTION = Struct((("function_name", OCTET_STRING), ("function_blocks", Array(OBJECT_DEFINITION))))


def _names(elements: list[Data]) -> list[bytes]:
    return [e.value[0].value for e in elements]


def _set_function_status(ctx: ObjectContext, parameter: Data | None) -> None:
    """set_function_status: enable or disable listed functions; an unknown name refuses all."""
    assert parameter is not None
    status = items(ctx, 2)
    names = _names(status)
    for change in parameter.value:
        name = change.value[0].value
        if name not in names:
            raise ActionFailure(ActionResult.OTHER_REASON, f"no function {name!r}")
        status[names.index(name)] = change
    store_items(ctx, 2, status)
    return None


def _add_function(ctx: ObjectContext, parameter: Data | None) -> None:
    """add_function: new functions join function_list, enabled; a known name refuses all."""
    assert parameter is not None
    new = list(parameter.value) if parameter.type == DataType.ARRAY else [parameter]
    functions, status = items(ctx, 3), items(ctx, 2)
    taken = set(_names(functions)) | set(_names(status))
    for f in new:
        if f.value[0].value in taken:
            raise ActionFailure(ActionResult.OTHER_REASON, f"function {f.value[0].value!r} exists")
        taken.add(f.value[0].value)
    store_items(ctx, 3, functions + new)
    store_items(ctx, 2, status + [struct(f.value[0], boolean(True)) for f in new])
    return None


def _delete_function(ctx: ObjectContext, parameter: Data | None) -> None:
    """delete_function: remove a function from function_list and activation_status."""
    assert parameter is not None
    functions, status = items(ctx, 3), items(ctx, 2)
    if parameter.value not in _names(functions) + _names(status):
        raise ActionFailure(ActionResult.OTHER_REASON, f"no function {parameter.value!r}")
    store_items(ctx, 3, [f for f in functions if f.value[0].value != parameter.value])
    store_items(ctx, 2, [s for s in status if s.value[0].value != parameter.value])
    return None


FUNCTION_CONTROL = interface_class(122, 0, "Function control", [
    attribute(2, "activation_status", Array(_FUNCTION_STATUS), dynamic=True),
    attribute(3, "function_list", Array(_FUNCTION)),
], [
    method(1, "set_function_status", Array(_FUNCTION_STATUS), impl=_set_function_status),
    method(2, "add_function", OneOf((Array(_FUNCTION), _FUNCTION)), impl=_add_function),
    method(3, "delete_function", OCTET_STRING, impl=_delete_function),
])


# -- Array manager (123) -----------------------------------------------------------------------

_INDEX = OneOf((UNSIGNED, LONG_UNSIGNED, DOUBLE_LONG_UNSIGNED))
_RANGE_PARAMETER = Struct((("id", UNSIGNED), ("range", Struct((("from_index", _INDEX), ("to_index", _INDEX))))))
_ENTRY_PARAMETER = Struct((("id", UNSIGNED), ("entry", Struct((("index", _INDEX), ("value", ANY))))))


def _target(ctx: ObjectContext, array_id: int) -> tuple[ObjectContext, int]:
    """The object and attribute index that array_object_list names for `array_id`."""
    for element in items(ctx, 2):
        if element.value[0].value == array_id:
            class_id, ln, index = (v.value for v in element.value[1].value)
            target = ctx.find(Obis(ln), class_id)
            if target is None or target.cls.attribute(index) is None:
                raise ActionFailure(ActionResult.OBJECT_UNAVAILABLE, f"array {array_id} names no attribute")
            return target, index
    raise ActionFailure(ActionResult.OTHER_REASON, f"no array with id {array_id}")


def _entries(target: ObjectContext, index: int) -> list[Data]:
    value = target.get(index)
    if value.type == DataType.NULL_DATA:
        return []
    if value.type != DataType.ARRAY:
        raise ActionFailure(ActionResult.OBJECT_CLASS_INCONSISTENT, "target attribute is not an array")
    return list(value.value)


def _replace(target: ObjectContext, index: int, entries: list[Data]) -> None:
    """Write the edited array back through the target's SET, which checks its type and range."""
    try:
        target.write(index, array(entries))
    except AccessFailure as exc:
        raise ActionFailure(ActionResult.TYPE_UNMATCHED if exc.result == DataAccessResult.TYPE_UNMATCHED
                            else ActionResult.OTHER_REASON, str(exc)) from None


def _span(parameter: Data, count: int) -> tuple[int, int]:
    """The 1-based inclusive range as a slice; to_index past the end stops at the end."""
    low, high = (v.value for v in parameter.value[1].value)
    if low == 0 or low > high or low > count:
        raise ActionFailure(ActionResult.OTHER_REASON, f"range {low}..{high} outside 1..{count}")
    return low - 1, min(high, count)


def _number_of_entries(ctx: ObjectContext, parameter: Data | None) -> Data:
    """number_of_entries: the count, in the smallest unsigned type that holds it."""
    assert parameter is not None
    count = len(_entries(*_target(ctx, parameter.value)))
    return u8(count) if count <= 0xFF else u16(count) if count <= 0xFFFF else u32(count)


def _retrieve(ctx: ObjectContext, parameter: Data | None) -> Data:
    assert parameter is not None
    entries = _entries(*_target(ctx, parameter.value[0].value))
    start, stop = _span(parameter, len(entries))
    return array(entries[start:stop])


def _insert(ctx: ObjectContext, parameter: Data | None) -> None:
    """insert: the new entry goes after entry `index` (0: first; past the end: last)."""
    assert parameter is not None
    target, index = _target(ctx, parameter.value[0].value)
    entries = _entries(target, index)
    after, value = parameter.value[1].value
    entries.insert(min(after.value, len(entries)), value)
    _replace(target, index, entries)
    return None


def _update(ctx: ObjectContext, parameter: Data | None) -> None:
    assert parameter is not None
    target, index = _target(ctx, parameter.value[0].value)
    entries = _entries(target, index)
    position, value = parameter.value[1].value
    if not 1 <= position.value <= len(entries):
        raise ActionFailure(ActionResult.OTHER_REASON, f"entry {position.value} outside 1..{len(entries)}")
    entries[position.value - 1] = value
    _replace(target, index, entries)
    return None


def _remove(ctx: ObjectContext, parameter: Data | None) -> None:
    assert parameter is not None
    target, index = _target(ctx, parameter.value[0].value)
    entries = _entries(target, index)
    start, stop = _span(parameter, len(entries))
    _replace(target, index, entries[:start] + entries[stop:])
    return None


ARRAY_MANAGER = interface_class(123, 0, "Array manager", [
    attribute(2, "array_object_list", Array(Struct((
        ("id", UNSIGNED),
        ("array_attribute", Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS),
                                    ("attribute_index", INTEGER)))))))),
], [
    method(1, "number_of_entries", UNSIGNED, impl=_number_of_entries),
    method(2, "retrieve", _RANGE_PARAMETER, impl=_retrieve),
    method(3, "insert", _ENTRY_PARAMETER, impl=_insert),
    method(4, "update", _ENTRY_PARAMETER, impl=_update),
    method(5, "remove", _RANGE_PARAMETER, impl=_remove),
])


CLASSES = (UTILITY_TABLES, DATA_PROTECTION, ARBITRATOR, FUNCTION_CONTROL, ARRAY_MANAGER)
