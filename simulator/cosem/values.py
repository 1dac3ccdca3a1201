"""Small `Data` builders, shared element types and array edits for the class behaviours.

The communication, M-Bus, PLC, payment and miscellaneous families keep their tables short by
sharing the element types the Blue Book repeats (window_element, the capture-object
definition, the baud-rate enum) and a few helpers to read an array attribute as a list,
write it back and stamp a date-time from the meter's own clock.
"""

from __future__ import annotations

from ..apdu.common import ActionResult
from ..axdr import CosemDateTime, Data, DataType
from .base import ActionFailure, MethodImpl
from .context import ObjectContext
from .types import DATE_TIME, INTEGER, LONG_UNSIGNED, OBIS, UNSIGNED, Enum, Struct

__all__ = [
    "u8", "u16", "u32", "i8", "i32", "enum", "octets", "boolean", "array", "struct",
    "items", "store_items", "int_of", "now_date_time", "zeroed", "reset_counters",
    "BAUD", "WINDOW_ELEMENT", "CAPTURE_OBJECT_DEFINITION", "OBJECT_DEFINITION", "CAPTURE_TIME",
]


def u8(n: int) -> Data:
    return Data(DataType.UNSIGNED, n)


def u16(n: int) -> Data:
    return Data(DataType.LONG_UNSIGNED, n)


def u32(n: int) -> Data:
    return Data(DataType.DOUBLE_LONG_UNSIGNED, n)


def i8(n: int) -> Data:
    return Data(DataType.INTEGER, n)


def i32(n: int) -> Data:
    return Data(DataType.DOUBLE_LONG, n)


def enum(n: int) -> Data:
    return Data(DataType.ENUM, n)


def octets(b: bytes) -> Data:
    return Data(DataType.OCTET_STRING, b)


def boolean(v: bool) -> Data:
    return Data(DataType.BOOLEAN, v)


def array(elements: list[Data] | tuple[Data, ...]) -> Data:
    return Data(DataType.ARRAY, tuple(elements))


def struct(*fields: Data) -> Data:
    return Data(DataType.STRUCTURE, tuple(fields))


def items(ctx: ObjectContext, attribute: int) -> list[Data]:
    """An array attribute as a list; an unset (null-data) attribute is an empty array."""
    value = ctx.get(attribute)
    if value.type == DataType.NULL_DATA:
        return []
    if value.type != DataType.ARRAY:
        raise ActionFailure(ActionResult.OTHER_REASON, f"attribute {attribute} holds no array")
    return list(value.value)


def store_items(ctx: ObjectContext, attribute: int, elements: list[Data]) -> None:
    ctx.set(attribute, array(elements))


def int_of(ctx: ObjectContext, attribute: int, default: int = 0) -> int:
    """An integer attribute's value; null-data (never set) reads as `default`."""
    value = ctx.get(attribute)
    return value.value if isinstance(value.value, int) and not isinstance(value.value, bool) else default


def now_date_time(ctx: ObjectContext) -> Data:
    """The meter's local time as a date-time octet-string (what capture_time attributes hold)."""
    return octets(CosemDateTime.from_datetime(ctx.clock.local_time()).to_bytes())


def zeroed(value: Data) -> Data:
    """Counters set back to zero: every integer inside the value, structures and arrays included.

    Strings, booleans, enums and date-times stay as they are, so a diagnostic structure that
    mixes counters with a capture time keeps its shape.
    """
    if value.type in (DataType.STRUCTURE, DataType.ARRAY):
        return Data(value.type, tuple(zeroed(v) for v in value.value))
    if value.type in (DataType.ENUM, DataType.BOOLEAN) or not isinstance(value.value, (int, float)):
        return value
    return Data(value.type, 0.0 if isinstance(value.value, float) else 0)


def reset_counters(*attributes: int) -> MethodImpl:
    """A `reset` method body for counter attributes.

    A counter (or a structure of counters) goes back to zero; a list of per-peer counters
    (an array) is emptied, since after a reset no peer has been counted yet.
    """
    def impl(ctx: ObjectContext, parameter: Data | None) -> None:
        for index in attributes:
            value = ctx.get(index)
            ctx.set(index, array(()) if value.type == DataType.ARRAY else zeroed(value))
        return None
    return impl


# Blue Book: comm_speed / default_baud / transmission_speed enumeration.
BAUD = Enum(((0, "baud_300"), (1, "baud_600"), (2, "baud_1200"), (3, "baud_2400"), (4, "baud_4800"),
             (5, "baud_9600"), (6, "baud_19200"), (7, "baud_38400"), (8, "baud_57600"),
             (9, "baud_115200")))

# window_element: a start and an end date-time (wildcards allowed) of a window.
WINDOW_ELEMENT = Struct((("start_time", DATE_TIME), ("end_time", DATE_TIME)))

# capture_object_definition (Profile generic, Push setup columns).
CAPTURE_OBJECT_DEFINITION = Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS),
                                    ("attribute_index", INTEGER), ("data_index", LONG_UNSIGNED)))

# An object reference: class_id and logical_name.
OBJECT_DEFINITION = Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS)))

# capture_time of the diagnostic classes: which attribute changed last, and when.
CAPTURE_TIME = Struct((("attribute_id", UNSIGNED), ("time", DATE_TIME)))
