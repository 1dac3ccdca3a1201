"""Values and what watches them: Data (1), Register (3), Extended register (4), Demand
register (5), Register activation (6), Register monitor (21), Register table (61), Compact
data (62), Status mapping (63), Parameter monitor (65) and Sensor manager (67).

The value of these objects is whatever the model or a client stored; a living meter's
load-curve getters come later (ROADMAP: living meters). Register.reset sets the value to
its default (zero of the value's own type), as the Blue Book says. Times are stamped with
the Clock object's view of the meter's time (`clock.timestamp`).

Monitors (Register monitor, Sensor manager) have no timer of their own: after every write
the server calls `cosem.monitoring.value_written`, which runs `evaluate_monitor` /
`evaluate_sensor` (the scripts of every threshold crossed since the previous call) and feeds
Parameter monitors through `record_change`; a living meter's register monitors also sample
their value when a request reaches the meter (cosem/catch_up.py).
"""

from __future__ import annotations

from typing import Callable

from ..apdu.common import ActionResult, DataAccessResult
from ..axdr import BitString, CompactArray, Data, DataType, Obis, Reader, TypeDescription
from ..errors import DLMSError, EncodeError
from ..security.keywrap import KeyId
from ..state.effects import CompactCapture, ThresholdCrossings
from . import events, metrology
from .base import AccessFailure, ActionFailure, AttributeAccess, attribute, interface_class, method
from .clock import timestamp
from .context import ObjectContext
from .schedule import ACTION_ITEM, run_action_item
from .tariff import ACTIVE_TARIFF_LN, tariff_at
from .types import (
    ANY, BIT_STRING, DATE_TIME, DOUBLE_LONG_UNSIGNED, ENUM, INTEGER, LONG64_UNSIGNED, LONG_UNSIGNED,
    OBIS, OCTET_STRING, SCALER_UNIT, UNSIGNED, UTF8_STRING, VISIBLE_STRING, Array, Enum, OneOf, Struct,
)

__all__ = [
    "CLASSES", "DATA", "REGISTER", "EXTENDED_REGISTER", "DEMAND_REGISTER", "REGISTER_ACTIVATION",
    "REGISTER_MONITOR", "REGISTER_TABLE", "COMPACT_DATA", "STATUS_MAPPING", "PARAMETER_MONITOR",
    "SENSOR_MANAGER", "VALUE_DEFINITION", "zero_like", "number_of", "read_value", "evaluate_monitor",
    "evaluate_sensor", "active_registers", "mapped_entries", "record_change",
]

VALUE_DEFINITION = Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS), ("attribute_index", INTEGER)))
OBJECT_DEFINITION = Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS)))
ACTION_SET = Struct((("action_up", ACTION_ITEM), ("action_down", ACTION_ITEM)))


def zero_like(value: Data) -> Data:
    """The reset value of a register: zero of the same numeric type (null-data stays null)."""
    if value.type in (DataType.FLOAT32, DataType.FLOAT64, DataType.FLOATING_POINT):
        return Data(value.type, 0.0)
    if value.type in (DataType.ARRAY, DataType.STRUCTURE, DataType.NULL_DATA):
        return value
    if value.type == DataType.OCTET_STRING:
        return Data(value.type, b"")
    if value.type in (DataType.VISIBLE_STRING, DataType.UTF8_STRING):
        return Data(value.type, "")
    if value.type == DataType.BOOLEAN:
        return Data(value.type, False)
    if isinstance(value.value, int):
        return Data(value.type, 0)
    raise ActionFailure(ActionResult.OTHER_REASON, f"cannot reset a {value.type.label}")


def number_of(value: Data | None) -> int | float | None:
    """The number a numeric value holds (enum and boolean excluded), else None."""
    if value is None or value.type in (DataType.ENUM, DataType.BOOLEAN):
        return None
    v = value.value
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _target(ctx: ObjectContext, class_id: object, ln: object) -> ObjectContext | None:
    if not isinstance(ln, bytes) or len(ln) != 6 or not isinstance(class_id, int):
        return None
    return ctx.find(Obis(ln), class_id)


def read_value(ctx: ObjectContext, definition: Data) -> Data | None:
    """The current value of the attribute a value_definition names; None if it cannot be read."""
    if definition.type != DataType.STRUCTURE or len(definition.value) != 3:
        return None
    class_id, ln, index = (f.value for f in definition.value)
    target = _target(ctx, class_id, ln)
    if target is None or not isinstance(index, int) or target.cls.attribute(index) is None:
        return None
    try:
        return target.get(index)
    except AccessFailure:
        return None


# --------------------------------------------------------------------------- Data, Register, Extended register

def _reset_register(ctx: ObjectContext, parameter: Data | None) -> None:
    if not metrology.reset_value(ctx):
        ctx.set(2, zero_like(ctx.get(2)))
    return None


def _reset_extended(ctx: ObjectContext, parameter: Data | None) -> None:
    if not metrology.reset_value(ctx):
        ctx.set(2, zero_like(ctx.get(2)))
    ctx.set(5, timestamp(ctx))
    return None


def _capture_time(ctx: ObjectContext) -> Data:
    """Extended register capture_time: a living maximum demand's is when it occurred."""
    q = metrology.quantity_of(bytes(ctx.logical_name))
    if q is not None and q.kind == "max_demand" and metrology.metrology_of(ctx) is not None:
        return metrology.max_demand_attribute(ctx, 5)
    stored = ctx.stored(5)
    return stored if stored is not None else Data(DataType.NULL_DATA)


def _demand(index: int) -> Callable[[ObjectContext], Data]:
    def getter(ctx: ObjectContext) -> Data:
        living = metrology.demand_attribute(ctx, index)
        if living is not None:
            return living
        stored = ctx.stored(index)
        return stored if stored is not None else Data(DataType.NULL_DATA)
    return getter


def _is_max_demand(name: bytes) -> bool:
    q = metrology.quantity_of(name)
    return q is not None and q.kind == "max_demand"


# Data 0.0.43.1.e.255 (IDIS): the highest invocation counter its Security setup 0.0.43.0.e.255
# accepted under the global unicast key, for head-ends that resume ciphering after a restart.
# Read from the meter's SecurityState each time, so there is no copy to keep current or to
# restore; a client writing it would only mislead the next head-end.
_PUBLISHED_COUNTER = bytes((0, 0, 43, 1))
_SETUP_PREFIX = bytes((0, 0, 43, 0))
_SECURITY_SETUP = 64


def _is_published_counter(name: bytes) -> bool:
    return name[:4] == _PUBLISHED_COUNTER and name[5] == 0xFF


_ACTIVE_TARIFF = bytes(ACTIVE_TARIFF_LN)


def _computed_data(name: bytes) -> bool:
    """The Data objects whose value is computed when read: the published counter, and the event
    code objects, alarm registers and event counters of living meters (cosem/events.py), and a
    living meter's currently active tariff (cosem/tariff.py)."""
    return _is_published_counter(name) or events.computes_data_value(name) or name == _ACTIVE_TARIFF


def _get_data_value(ctx: ObjectContext) -> Data:
    """The value the model or a client stored; the published counter shows the live one, a
    living meter's event objects what its events make them."""
    name = bytes(ctx.logical_name)
    if events.computes_data_value(name):
        computed = events.data_value(ctx)
        if computed is not None:
            return computed
    elif name == _ACTIVE_TARIFF and ctx.living is not None:  # the tariff the calendar selects now
        stored = ctx.stored(2)
        kind = stored.type if stored is not None and isinstance(stored.value, int) else DataType.UNSIGNED
        return Data(kind, tariff_at(ctx, ctx.clock.fleet_epoch()))
    elif _is_published_counter(name):
        setup = ctx.find(Obis(_SETUP_PREFIX + name[4:]), _SECURITY_SETUP)
        try:
            highest = None if setup is None else setup.security().highest_received(
                KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY)
        except DLMSError:  # keys that do not render: nothing was ever accepted under them
            highest = None
        if highest is not None:
            return Data(DataType.DOUBLE_LONG_UNSIGNED, highest)
    value = ctx.stored(2)
    return value if value is not None else Data(DataType.NULL_DATA)


def _check_data_value(ctx: ObjectContext, value: Data) -> None:
    if _is_published_counter(bytes(ctx.logical_name)):
        raise AccessFailure(DataAccessResult.READ_WRITE_DENIED,
                            "the published invocation counter is kept by the meter")


def _set_data_value(ctx: ObjectContext, value: Data) -> None:
    ctx.set(2, value)
    events.data_written(ctx, value)


DATA = interface_class(1, 0, "Data", [
    attribute(2, "value", ANY, dynamic=True, access=AttributeAccess.READ_ONLY, getter=_get_data_value,
              getter_for=_computed_data, setter=_set_data_value, check=_check_data_value),
])

REGISTER = interface_class(3, 0, "Register", [
    attribute(2, "value", ANY, dynamic=True, getter=metrology.value, getter_for=metrology.is_living,
              setter=metrology.set_value, living_only=True),
    attribute(3, "scaler_unit", SCALER_UNIT),
], [
    method(1, "reset", INTEGER, impl=_reset_register),
], sn_method_offset=0x28)

EXTENDED_REGISTER = interface_class(4, 0, "Extended register", [
    attribute(2, "value", ANY, dynamic=True, getter=metrology.value, getter_for=metrology.is_living,
              setter=metrology.set_value, living_only=True),
    attribute(3, "scaler_unit", SCALER_UNIT),
    attribute(4, "status", ANY, dynamic=True),
    attribute(5, "capture_time", OneOf((DATE_TIME, OCTET_STRING)), dynamic=True, getter=_capture_time,
              getter_for=_is_max_demand, living_only=True),
], [
    method(1, "reset", INTEGER, impl=_reset_extended),
], sn_method_offset=0x38)


# --------------------------------------------------------------------------- Demand register (5)

def _reset_demand(ctx: ObjectContext, parameter: Data | None) -> None:
    """Both averages to their default; a new period starts now."""
    ctx.set(2, zero_like(ctx.get(2)))
    ctx.set(3, zero_like(ctx.get(3)))
    now = timestamp(ctx)
    ctx.set(6, now)
    ctx.set(7, now)
    return None


def _next_period(ctx: ObjectContext, parameter: Data | None) -> None:
    """Close the period: current average becomes the last one, and a new period starts now."""
    current = ctx.get(2)
    ctx.set(3, current)
    ctx.set(2, zero_like(current))
    now = timestamp(ctx)
    ctx.set(6, now)
    ctx.set(7, now)
    return None


DEMAND_REGISTER = interface_class(5, 0, "Demand register", [
    attribute(2, "current_average_value", ANY, dynamic=True, getter=_demand(2), getter_for=metrology.is_living,
              living_only=True),
    attribute(3, "last_average_value", ANY, dynamic=True, getter=_demand(3), getter_for=metrology.is_living,
              living_only=True),
    attribute(4, "scaler_unit", SCALER_UNIT),
    attribute(5, "status", ANY, dynamic=True),
    attribute(6, "capture_time", DATE_TIME, dynamic=True, getter=_demand(6), getter_for=metrology.is_living,
              living_only=True),
    attribute(7, "start_time_current", DATE_TIME, dynamic=True, getter=_demand(7), getter_for=metrology.is_living,
              living_only=True),
    attribute(8, "period", DOUBLE_LONG_UNSIGNED),
    attribute(9, "number_of_periods", LONG_UNSIGNED),
], [
    method(1, "reset", INTEGER, impl=_reset_demand),
    method(2, "next_period", INTEGER, impl=_next_period),
], sn_method_offset=0x48)


# --------------------------------------------------------------------------- Register activation (6)

def _masks(ctx: ObjectContext) -> tuple[Data, ...]:
    masks = ctx.get(3)
    return masks.value if masks.type == DataType.ARRAY else ()


def _add_register(ctx: ObjectContext, parameter: Data | None) -> None:
    assert parameter is not None
    current = ctx.get(2)
    registers = current.value if current.type == DataType.ARRAY else ()
    ctx.set(2, Data(DataType.ARRAY, (*registers, parameter)))


def _add_mask(ctx: ObjectContext, parameter: Data | None) -> None:
    """Add a mask; one with the same name is overwritten. Indices count register_assignment from 1."""
    assert parameter is not None
    name, indices = parameter.value
    registers = ctx.get(2)
    count = len(registers.value) if registers.type == DataType.ARRAY else 0
    if any(not 1 <= i.value <= count for i in indices.value):
        raise ActionFailure(ActionResult.OTHER_REASON, "mask index outside register_assignment")
    keep = tuple(m for m in _masks(ctx) if m.value[0] != name)
    ctx.set(3, Data(DataType.ARRAY, (*keep, parameter)))


def _delete_mask(ctx: ObjectContext, parameter: Data | None) -> None:
    """Delete a mask by name; the active mask cannot be deleted, an absent one changes nothing."""
    assert parameter is not None
    if ctx.get(4) == parameter:
        raise ActionFailure(ActionResult.OTHER_REASON, "the active mask cannot be deleted")
    ctx.set(3, Data(DataType.ARRAY, tuple(m for m in _masks(ctx) if m.value[0] != parameter)))


def _set_active_mask(ctx: ObjectContext, value: Data) -> None:
    if not any(m.value[0] == value for m in _masks(ctx)):
        raise AccessFailure(DataAccessResult.OTHER_REASON, "no mask of that name")
    ctx.set(4, value)


def active_registers(ctx: ObjectContext) -> list[tuple[int, Obis]]:
    """(class_id, logical_name) of the registers the active mask enables (for tariff switching)."""
    registers = ctx.get(2)
    if registers.type != DataType.ARRAY:
        return []
    active = ctx.get(4)
    mask = next((m for m in _masks(ctx) if m.value[0] == active), None)
    if mask is None:
        return []
    out = []
    for i in mask.value[1].value:
        if 1 <= i.value <= len(registers.value):
            class_id, ln = registers.value[i.value - 1].value
            out.append((class_id.value, Obis(ln.value)))
    return out


REGISTER_ACT_MASK = Struct((("mask_name", OCTET_STRING), ("index_list", Array(UNSIGNED))))

REGISTER_ACTIVATION = interface_class(6, 0, "Register activation", [
    attribute(2, "register_assignment", Array(OBJECT_DEFINITION)),
    attribute(3, "mask_list", Array(REGISTER_ACT_MASK)),
    attribute(4, "active_mask", OCTET_STRING, dynamic=True, setter=_set_active_mask),
], [
    method(1, "add_register", OBJECT_DEFINITION, impl=_add_register),
    method(2, "add_mask", REGISTER_ACT_MASK, impl=_add_mask),
    method(3, "delete_mask", OCTET_STRING, impl=_delete_mask),
], sn_method_offset=0x30)


# --------------------------------------------------------------------------- Register monitor (21)

def _crossings(ctx: ObjectContext, key: str, value: Data | None, thresholds: Data,
               actions: Data) -> list[tuple[int, str]]:
    """Run action_up/action_down of every threshold crossed since the last value seen under `key`.

    A value is above a threshold when strictly greater. The first value seen only sets the
    baseline. Crossings run in the order the value passes them; returns (threshold index, "up"|"down").
    """
    v = number_of(value)
    if v is None:
        return []
    seen = ctx.effect(ThresholdCrossings)
    last = None if seen is None else seen.last.get(key)
    if last != v:
        ctx.change(ThresholdCrossings).last[key] = v
    if last is None or last == v or thresholds.type != DataType.ARRAY:
        return []
    crossed = []
    for i, t in enumerate(thresholds.value):
        tv = number_of(t)
        if tv is not None and min(last, v) <= tv < max(last, v):
            crossed.append((tv, i))
    up = v > last
    crossed.sort(reverse=not up)
    sets = actions.value if actions.type == DataType.ARRAY else ()
    fired = []
    for _, i in crossed:
        if i < len(sets) and sets[i].type == DataType.STRUCTURE and len(sets[i].value) == 2:
            run_action_item(ctx, sets[i].value[0 if up else 1])
        fired.append((i, "up" if up else "down"))
    return fired


def evaluate_monitor(ctx: ObjectContext) -> list[tuple[int, str]]:
    """Register monitor: compare the monitored value with the thresholds and run crossed actions."""
    return _crossings(ctx, "last", read_value(ctx, ctx.get(3)), ctx.get(2), ctx.get(4))


REGISTER_MONITOR = interface_class(21, 0, "Register monitor", [
    attribute(2, "thresholds", Array(ANY)),
    attribute(3, "monitored_value", VALUE_DEFINITION),
    attribute(4, "actions", Array(ACTION_SET)),
])


# --------------------------------------------------------------------------- Register table (61)

def _capture_table(ctx: ObjectContext, parameter: Data | None) -> None:
    """Copy the attribute of each object logical_name-with-E-replaced into table_cell_values.

    Capturing the value of Registers also copies the first one's scaler_unit (common to all).
    """
    definition = ctx.get(3)
    if definition.type != DataType.STRUCTURE or len(definition.value) != 4:
        raise ActionFailure(ActionResult.OTHER_REASON, "table_cell_definition is not set")
    class_id, ln, group_e, index = (f.value for f in definition.value)
    cells, scaler_unit = [], None
    for e in group_e:
        name = bytes(ln[:4]) + bytes((e.value,)) + bytes(ln[5:])
        target = _target(ctx, class_id, name)
        value = Data(DataType.NULL_DATA)
        if target is not None and target.cls.attribute(index) is not None:
            value = target.get(index)
            if scaler_unit is None and class_id in (3, 4, 5) and index == 2:
                scaler_unit = target.get(3 if class_id != 5 else 4)
        cells.append(value)
    ctx.set(2, Data(DataType.ARRAY, tuple(cells)))
    if scaler_unit is not None and scaler_unit.type == DataType.STRUCTURE:
        ctx.set(4, scaler_unit)
    return None


def _reset_table(ctx: ObjectContext, parameter: Data | None) -> None:
    ctx.set(2, Data(DataType.ARRAY, ()))
    return None


def _set_cell_definition(ctx: ObjectContext, value: Data) -> None:
    """A new definition empties the table: old cells would no longer mean what they say."""
    ctx.set(3, value)
    _reset_table(ctx, None)


TABLE_CELL_DEFINITION = Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS),
                                ("group_E_values", Array(UNSIGNED)), ("attribute_index", INTEGER)))

REGISTER_TABLE = interface_class(61, 0, "Register table", [
    attribute(2, "table_cell_values", Array(ANY), dynamic=True),
    attribute(3, "table_cell_definition", TABLE_CELL_DEFINITION, setter=_set_cell_definition),
    attribute(4, "scaler_unit", SCALER_UNIT),
], [
    method(1, "reset", INTEGER, impl=_reset_table),
    method(2, "capture", INTEGER, impl=_capture_table),
], sn_method_offset=0x28)


# --------------------------------------------------------------------------- Compact data (62)

def _describe(value: Data) -> TypeDescription:
    if value.type == DataType.STRUCTURE:
        return TypeDescription(DataType.STRUCTURE, tuple(_describe(v) for v in value.value))
    if value.type == DataType.ARRAY:
        element = _describe(value.value[0]) if value.value else TypeDescription(DataType.NULL_DATA)
        return TypeDescription(DataType.ARRAY, (element,), len(value.value))
    return TypeDescription(value.type)


def _captured_values(ctx: ObjectContext) -> Data:
    """The capture objects' current values as one structure (data_index n picks element n)."""
    objects = ctx.get(3)
    values = []
    for obj in objects.value if objects.type == DataType.ARRAY else ():
        class_id, ln, index, data_index = (f.value for f in obj.value)
        if class_id == 62 and ln == bytes(ctx.logical_name) and index in (2, 5):
            raise AccessFailure(DataAccessResult.OTHER_REASON, "compact data cannot capture its own buffer")
        target = _target(ctx, class_id, ln)
        if target is None or target.cls.attribute(index) is None:
            raise AccessFailure(DataAccessResult.OBJECT_UNAVAILABLE, "a capture object does not exist")
        value = target.get(index)
        if data_index:
            if value.type != DataType.ARRAY or data_index > len(value.value):
                raise AccessFailure(DataAccessResult.OTHER_REASON, "data_index outside the captured array")
            value = value.value[data_index - 1]
        values.append(value)
    return Data(DataType.STRUCTURE, tuple(values))


def _compact(values: Data) -> tuple[bytes, bytes]:
    """(template_description, compact_buffer): the type description of the structure, and its
    members A-XDR encoded without type tags, as a compact-array element is."""
    description = _describe(values)
    try:
        encoded = Data(DataType.COMPACT_ARRAY, CompactArray(description, (values,))).to_bytes()
    except EncodeError:
        raise AccessFailure(DataAccessResult.OTHER_REASON, "captured values cannot be compacted") from None
    head = description.to_bytes()
    r = Reader(encoded, 1 + len(head))
    return head, r.take(r.length("compact contents length"), "compact contents")


def _capture_now(ctx: ObjectContext) -> None:
    description, buffer = _compact(_captured_values(ctx))
    own = ctx.change(CompactCapture)
    own.description, own.buffer = description, buffer


def _capture_upon_reading(ctx: ObjectContext) -> bool:
    method_ = ctx.get(6)
    return method_.type != DataType.ENUM or method_.value == 0


def _get_compact_buffer(ctx: ObjectContext) -> Data:
    if _capture_upon_reading(ctx):
        _capture_now(ctx)
    own = ctx.effect(CompactCapture)
    return Data(DataType.OCTET_STRING, b"" if own is None or own.buffer is None else own.buffer)


def _get_template_description(ctx: ObjectContext) -> Data:
    own = ctx.effect(CompactCapture)
    description = None if own is None else own.description
    if description is None:
        description = _describe(_captured_values(ctx)).to_bytes()
    return Data(DataType.OCTET_STRING, description)


def _capture_compact(ctx: ObjectContext, parameter: Data | None) -> None:
    try:
        _capture_now(ctx)
    except AccessFailure as exc:
        raise ActionFailure(ActionResult.OTHER_REASON, str(exc)) from None
    return None


def _reset_compact(ctx: ObjectContext, parameter: Data | None) -> None:
    if ctx.effect(CompactCapture) is not None:
        ctx.change(CompactCapture).buffer = None
    return None


CAPTURE_OBJECT_DEFINITION = Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS),
                                    ("attribute_index", INTEGER), ("data_index", LONG_UNSIGNED)))

COMPACT_DATA = interface_class(62, 0, "Compact data", [
    attribute(2, "compact_buffer", OCTET_STRING, dynamic=True, getter=_get_compact_buffer),
    attribute(3, "capture_objects", Array(CAPTURE_OBJECT_DEFINITION)),
    attribute(4, "template_id", UNSIGNED),
    attribute(5, "template_description", OCTET_STRING, dynamic=True, getter=_get_template_description),
    attribute(6, "capture_method", Enum(((0, "capture_upon_reading"), (1, "capture_upon_invocation")))),
], [
    method(1, "reset", INTEGER, impl=_reset_compact),
    method(2, "capture", INTEGER, impl=_capture_compact),
])


# --------------------------------------------------------------------------- Status mapping (63)

def _bits(value: Data) -> str:
    """A status word as a string of bits, leading bit first, whatever type carries it."""
    v = value.value
    if isinstance(v, BitString):
        return v.bits
    if isinstance(v, bytes):
        return "".join(f"{b:08b}" for b in v)
    if isinstance(v, str):
        return "".join(f"{b:08b}" for b in v.encode("utf-8" if value.type == DataType.UTF8_STRING else "latin-1"))
    if isinstance(v, int) and not isinstance(v, bool):
        size = {DataType.UNSIGNED: 1, DataType.LONG_UNSIGNED: 2, DataType.DOUBLE_LONG_UNSIGNED: 4}.get(value.type, 8)
        return f"{v:0{size * 8}b}"
    return ""


def mapped_entries(ctx: ObjectContext) -> list[int]:
    """Reference-table entries of the set bits of status_word, through mapping_table."""
    mapping = ctx.get(3)
    if mapping.type != DataType.STRUCTURE or len(mapping.value) != 2:
        return []
    table = mapping.value[1]
    bits = _bits(ctx.get(2))
    if table.type == DataType.ARRAY:
        entries = [e.value for e in table.value]
        return [entries[i] for i, b in enumerate(bits) if b == "1" and i < len(entries)]
    return [table.value + i for i, b in enumerate(bits) if b == "1"]


STATUS_WORD = OneOf((BIT_STRING, DOUBLE_LONG_UNSIGNED, OCTET_STRING, VISIBLE_STRING, UTF8_STRING,
                     UNSIGNED, LONG_UNSIGNED, LONG64_UNSIGNED))
MAPPING_TABLE = Struct((("ref_table_id", UNSIGNED), ("ref_table_mapping", OneOf((LONG_UNSIGNED, Array(LONG_UNSIGNED))))))

STATUS_MAPPING = interface_class(63, 0, "Status mapping", [
    attribute(2, "status_word", STATUS_WORD, dynamic=True),
    attribute(3, "mapping_table", MAPPING_TABLE),
])


# --------------------------------------------------------------------------- Parameter monitor (65)

def _parameters(ctx: ObjectContext) -> tuple[Data, ...]:
    current = ctx.get(4)
    return current.value if current.type == DataType.ARRAY else ()


def _add_parameter(ctx: ObjectContext, parameter: Data | None) -> None:
    """Add a parameter to watch; one already listed is not added twice."""
    assert parameter is not None
    if parameter not in _parameters(ctx):
        ctx.set(4, Data(DataType.ARRAY, (*_parameters(ctx), parameter)))


def _delete_parameter(ctx: ObjectContext, parameter: Data | None) -> None:
    """Stop watching a parameter (an absent one changes nothing)."""
    assert parameter is not None
    ctx.set(4, Data(DataType.ARRAY, tuple(p for p in _parameters(ctx) if p != parameter)))


def record_change(ctx: ObjectContext, attribute_index: int, value: Data) -> int:
    """Tell every Parameter monitor watching (ctx's object, attribute_index) that it became `value`.

    Returns how many monitors recorded it.
    """
    watched = Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, ctx.cls.class_id),
                                        Data(DataType.OCTET_STRING, bytes(ctx.logical_name)),
                                        Data(DataType.INTEGER, attribute_index)))
    count = 0
    for monitor in ctx.objects():
        if monitor.cls.class_id == 65 and watched in _parameters(monitor):
            monitor.set(2, Data(DataType.STRUCTURE, (*watched.value, value)))
            monitor.set(3, timestamp(ctx))
            count += 1
    return count


PARAMETER_DEFINITION = VALUE_DEFINITION
CHANGED_PARAMETER = Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS), ("attribute_index", INTEGER),
                            ("attribute_value", ANY)))

PARAMETER_MONITOR = interface_class(65, 0, "Parameter monitor", [
    attribute(2, "changed_parameter", CHANGED_PARAMETER, dynamic=True),
    attribute(3, "capture_time", DATE_TIME, dynamic=True),
    attribute(4, "parameter_list", Array(PARAMETER_DEFINITION)),
], [
    method(1, "add_parameter", PARAMETER_DEFINITION, impl=_add_parameter),
    method(2, "delete_parameter", PARAMETER_DEFINITION, impl=_delete_parameter),
])


# --------------------------------------------------------------------------- Sensor manager (67)

def _reset_sensor(ctx: ObjectContext, parameter: Data | None) -> None:
    """Like Extended register reset: raw_value to zero, capture_time now."""
    ctx.set(7, zero_like(ctx.get(7)))
    ctx.set(10, timestamp(ctx))
    return None


def evaluate_sensor(ctx: ObjectContext) -> list[tuple[str, int, str]]:
    """Sensor manager: both register-monitor functions, on raw_value and on processed_value.

    Returns ("raw"|"processed", threshold index, "up"|"down") for each action run.
    """
    raw = _crossings(ctx, "raw", ctx.get(7), ctx.get(11), ctx.get(12))
    processed = _crossings(ctx, "processed", read_value(ctx, ctx.get(13)), ctx.get(14), ctx.get(15))
    return [("raw", i, d) for i, d in raw] + [("processed", i, d) for i, d in processed]


SENSOR_MANAGER = interface_class(67, 0, "Sensor manager", [
    attribute(2, "serial_number", OCTET_STRING, dynamic=True),
    attribute(3, "metrological_identification", OCTET_STRING, dynamic=True),
    attribute(4, "output_type", ENUM, dynamic=True),
    attribute(5, "adjustment_method", OCTET_STRING, dynamic=True),
    attribute(6, "sealing_method", ENUM, dynamic=True),
    attribute(7, "raw_value", ANY, dynamic=True),
    attribute(8, "scaler_unit", SCALER_UNIT, dynamic=True),
    attribute(9, "status", ANY, dynamic=True),
    attribute(10, "capture_time", DATE_TIME, dynamic=True),
    attribute(11, "raw_value_thresholds", Array(ANY), dynamic=True),
    attribute(12, "raw_value_actions", Array(ACTION_SET), dynamic=True),
    attribute(13, "processed_value", VALUE_DEFINITION, dynamic=True),
    attribute(14, "processed_value_thresholds", Array(ANY), dynamic=True),
    attribute(15, "processed_value_actions", Array(ACTION_SET), dynamic=True),
], [
    method(1, "reset", INTEGER, impl=_reset_sensor),
], sn_method_offset=0x80)

CLASSES = (DATA, REGISTER, EXTENDED_REGISTER, DEMAND_REGISTER, REGISTER_ACTIVATION, REGISTER_MONITOR,
           REGISTER_TABLE, COMPACT_DATA, STATUS_MAPPING, PARAMETER_MONITOR, SENSOR_MANAGER)
