"""What a write must pass before it is stored: the class's own check, the declared type and
the standard's range.

Every write goes through `check_write`: SET (normal, with-list, block transfer), the SN
Write services and the scripts' write_attribute actions. A value of the wrong A-XDR type or
shape is refused with type-unmatched; a value of the right type the standard does not allow
(a time zone of 9999 minutes, month 13, unit 0, an enum value the class does not list) with
other-reason: the Green Book's Data-Access-Result has no value of its own for "out of range",
and other-reason is the catch-all it gives. Nothing is stored either way, so no client can
leave an object in a state the meter cannot answer from.

A CHOICE attribute (a register's value, a limiter's thresholds) follows the type the object
already holds, structures field by field and arrays element by element: a client may change
the value, not what kind of value it is. Only an attribute that holds nothing yet (null-data)
takes any type.
"""

from __future__ import annotations

from ..apdu.common import DataAccessResult
from ..axdr import Data, DataType
from .base import AccessFailure, AttributeDef
from .context import ObjectContext
from .types import AnyType, Array, Struct, TypeSpec

__all__ = ["check_write", "same_shape"]


def same_shape(value: Data, like: Data) -> bool:
    """Has `value` the A-XDR type of `like`, structures field by field and arrays element by
    element (each element shaped like `like`'s first, or like the value's own first)?"""
    if like.type == DataType.NULL_DATA:
        return True
    if value.type != like.type:
        return False
    if value.type == DataType.STRUCTURE:
        return len(value.value) == len(like.value) and all(map(same_shape, value.value, like.value))
    if value.type == DataType.ARRAY:
        model = like.value[0] if like.value else value.value[0] if value.value else None
        return model is None or all(same_shape(v, model) and same_shape(model, v) for v in value.value)
    if value.type == DataType.COMPACT_ARRAY:
        return value.value.description == like.value.description
    return True


def _current(ctx: ObjectContext, adef: AttributeDef) -> Data | None:
    """The value a CHOICE attribute holds now (the model's unless this meter changed it)."""
    held = ctx.stored(adef.index)
    if held is None and adef.getter is not None:
        try:
            held = ctx.get(adef.index)
        except AccessFailure:
            return None
    return held


def _follows(spec: TypeSpec, value: Data, held: Data) -> bool:
    """Does every CHOICE inside `spec` keep the type `held` has there?"""
    if isinstance(spec, AnyType):
        return same_shape(value, held)
    if isinstance(spec, Array) and held.type == DataType.ARRAY and held.value:
        return all(_follows(spec.element, v, held.value[0]) for v in value.value)
    if isinstance(spec, Struct) and held.type == DataType.STRUCTURE and len(held.value) == len(value.value):
        return all(_follows(s, v, h) for (_, s), v, h in zip(spec.fields, value.value, held.value))
    return True


def _has_choice(spec: TypeSpec) -> bool:
    if isinstance(spec, Array):
        return _has_choice(spec.element)
    if isinstance(spec, Struct):
        return any(_has_choice(s) for _, s in spec.fields)
    return isinstance(spec, AnyType)


def check_write(ctx: ObjectContext, adef: AttributeDef, value: Data) -> None:
    """Raise AccessFailure (type-unmatched or other-reason, with the reason) unless `value` may be
    written to attribute `adef` of this object."""
    if adef.check is not None:  # first: it may refuse any write (a value the meter keeps itself)
        adef.check(ctx, value)
    if not adef.type.accepts(value):
        raise AccessFailure(DataAccessResult.TYPE_UNMATCHED, f"{adef.name} is {adef.type.describe()}")
    if _has_choice(adef.type):
        held = _current(ctx, adef)
        if held is not None and not _follows(adef.type, value, held):
            raise AccessFailure(DataAccessResult.TYPE_UNMATCHED,
                                f"{adef.name} holds {held.type.label}; a SET keeps its type")
    why = adef.type.fault(value)
    if why is not None:
        raise AccessFailure(DataAccessResult.OTHER_REASON, f"{adef.name}: {why}")
