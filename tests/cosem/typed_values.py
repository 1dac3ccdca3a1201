"""Hypothesis strategies for values of a declared attribute type (a `TypeSpec`).

`typed_values(spec, like)` draws values a client could send for an attribute: mostly of the
declared type with any content the type can carry (every integer of the width, any 12 octets
for a date-time), so the range checks are exercised, and now and then a value of another type.
A CHOICE attribute (`AnyType`) draws values shaped like `like`, the object's current value.
"""

from __future__ import annotations

from hypothesis import strategies as st

from simulator.axdr import CosemDateTime, Data, DataType
from simulator.cosem.types import AnyType, Array, Enum, OctetString, OneOf, Simple, Struct, TypeSpec

from tests.strategies import cosem_date_times, data_values, simple_values

__all__ = ["typed_values", "shaped_like"]


def _date_time_octets() -> st.SearchStrategy[Data]:
    valid = cosem_date_times().map(lambda c: c.to_bytes())
    return st.one_of(valid, st.binary(min_size=CosemDateTime.SIZE, max_size=CosemDateTime.SIZE)).map(
        lambda b: Data(DataType.OCTET_STRING, b))


def _octets(spec: OctetString) -> st.SearchStrategy[Data]:
    if spec.meaning == "date-time":
        return _date_time_octets()
    if spec.size is not None:
        return st.binary(min_size=spec.size, max_size=spec.size).map(lambda b: Data(DataType.OCTET_STRING, b))
    return st.binary(max_size=40).map(lambda b: Data(DataType.OCTET_STRING, b))


def shaped_like(value: Data | None) -> st.SearchStrategy[Data]:
    """Values of the same A-XDR type and shape as `value` (any value when it is None or null-data)."""
    if value is None or value.type == DataType.NULL_DATA:
        return data_values(max_leaves=6)
    if value.type == DataType.STRUCTURE:
        return st.tuples(*(shaped_like(v) for v in value.value)).map(lambda xs: Data(DataType.STRUCTURE, xs))
    if value.type == DataType.ARRAY:
        element = shaped_like(value.value[0]) if value.value else data_values(max_leaves=3)
        return st.lists(element, max_size=4).map(lambda xs: Data(DataType.ARRAY, tuple(xs)))
    if value.type == DataType.COMPACT_ARRAY:
        return st.just(value)
    return simple_values(value.type)


def _declared(spec: TypeSpec, like: Data | None) -> st.SearchStrategy[Data]:
    if isinstance(spec, AnyType):
        return shaped_like(like)
    if isinstance(spec, OneOf):
        return st.one_of(*(_declared(o, like) for o in spec.options))
    if isinstance(spec, Struct):
        parts = like.value if like is not None and like.type == DataType.STRUCTURE else ()
        fields = [_declared(s, parts[i] if i < len(parts) else None) for i, (_, s) in enumerate(spec.fields)]
        return st.tuples(*fields).map(lambda xs: Data(DataType.STRUCTURE, xs))
    if isinstance(spec, Array):
        first = like.value[0] if like is not None and like.type == DataType.ARRAY and like.value else None
        return st.lists(_declared(spec.element, first), max_size=4).map(lambda xs: Data(DataType.ARRAY, tuple(xs)))
    if isinstance(spec, Enum):
        named = [v for v, _ in spec.names]
        values = st.one_of(st.sampled_from(named), st.integers(0, 255)) if named else st.integers(0, 255)
        return values.map(lambda v: Data(DataType.ENUM, v))
    if isinstance(spec, OctetString):
        return _octets(spec)
    if isinstance(spec, Simple):
        return simple_values(spec.type)
    return data_values(max_leaves=6)


def typed_values(spec: TypeSpec, like: Data | None = None) -> st.SearchStrategy[Data]:
    """Mostly values of the declared type, sometimes any value at all."""
    return st.one_of(_declared(spec, like), _declared(spec, like), _declared(spec, like),
                     data_values(max_leaves=6))
