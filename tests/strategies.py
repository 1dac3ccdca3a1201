"""Hypothesis strategies for DLMS values, shared by every codec test.

`data_values()` draws a `Data` of any type, nested arrays/structures and compact arrays
included; `obis_codes()`, `cosem_date_times()` the common field types.
"""

from __future__ import annotations

from hypothesis import strategies as st

from simulator.axdr import (
    BitString, CompactArray, CosemDate, CosemDateTime, CosemTime, Data, DataType, Obis,
    TypeDescription,
)
from simulator.axdr.data import INTEGER_FORMATS

_opt8 = st.one_of(st.none(), st.integers(0, 0xFE))


def obis_codes() -> st.SearchStrategy[Obis]:
    return st.binary(min_size=6, max_size=6).map(Obis)


def cosem_dates() -> st.SearchStrategy[CosemDate]:
    return st.builds(CosemDate, st.one_of(st.none(), st.integers(0, 0xFFFE)), _opt8, _opt8, _opt8)


def cosem_times() -> st.SearchStrategy[CosemTime]:
    return st.builds(CosemTime, _opt8, _opt8, _opt8, _opt8)


def cosem_date_times() -> st.SearchStrategy[CosemDateTime]:
    return st.builds(CosemDateTime, st.one_of(st.none(), st.integers(0, 0xFFFE)), _opt8, _opt8, _opt8,
                     _opt8, _opt8, _opt8, _opt8, st.one_of(st.none(), st.integers(-720, 720)), _opt8)


def _int_value(t: DataType) -> st.SearchStrategy[int]:
    size, signed = INTEGER_FORMATS[t]
    if signed:
        return st.integers(-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1)
    return st.integers(0, (1 << (8 * size)) - 1)


def simple_values(t: DataType) -> st.SearchStrategy[Data]:
    """A value of one simple (non-container) type."""
    if t in INTEGER_FORMATS:
        v: st.SearchStrategy = _int_value(t)
    elif t == DataType.BOOLEAN:
        v = st.booleans()
    elif t == DataType.OCTET_STRING:
        v = st.binary(max_size=300)
    elif t == DataType.VISIBLE_STRING:
        v = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=40)
    elif t == DataType.UTF8_STRING:
        v = st.text(max_size=40)
    elif t == DataType.BIT_STRING:
        v = st.text("01", max_size=40).map(BitString)
    elif t in (DataType.FLOAT32, DataType.FLOATING_POINT):
        v = st.floats(width=32, allow_nan=False)
    elif t == DataType.FLOAT64:
        v = st.floats(allow_nan=False)
    elif t == DataType.DATE_TIME:
        v = cosem_date_times()
    elif t == DataType.DATE:
        v = cosem_dates()
    elif t == DataType.TIME:
        v = cosem_times()
    else:
        v = st.none()
    return v.map(lambda x: Data(t, x))


SIMPLE_TYPES = [t for t in DataType
                if t not in (DataType.ARRAY, DataType.STRUCTURE, DataType.COMPACT_ARRAY)]
COMPACT_MEMBER_TYPES = [t for t in SIMPLE_TYPES if t not in (DataType.NULL_DATA, DataType.DONT_CARE)]


def _compact_arrays() -> st.SearchStrategy[Data]:
    member = st.sampled_from(COMPACT_MEMBER_TYPES)

    @st.composite
    def build(draw: st.DrawFn) -> Data:
        shape = draw(st.sampled_from(["simple", "structure", "array"]))
        if shape == "simple":
            t = draw(member)
            desc = TypeDescription(t)
            items = draw(st.lists(simple_values(t), max_size=8))
        elif shape == "structure":
            ts = draw(st.lists(member, min_size=1, max_size=4))
            desc = TypeDescription(DataType.STRUCTURE, tuple(TypeDescription(t) for t in ts))
            row = st.tuples(*[simple_values(t) for t in ts]).map(lambda xs: Data(DataType.STRUCTURE, tuple(xs)))
            items = draw(st.lists(row, max_size=5))
        else:
            t = draw(member)
            n = draw(st.integers(1, 4))  # zero-size elements have no countable wire form
            desc = TypeDescription(DataType.ARRAY, (TypeDescription(t),), n)
            inner = st.lists(simple_values(t), min_size=n, max_size=n).map(lambda xs: Data(DataType.ARRAY, tuple(xs)))
            items = draw(st.lists(inner, max_size=4))
        return Data(DataType.COMPACT_ARRAY, CompactArray(desc, tuple(items)))

    return build()


def data_values(max_leaves: int = 20) -> st.SearchStrategy[Data]:
    """Any Data value, nested containers included."""
    leaves = st.one_of(st.sampled_from(SIMPLE_TYPES).flatmap(simple_values), _compact_arrays())
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=6).map(lambda xs: Data(DataType.ARRAY, tuple(xs))),
            st.lists(children, max_size=6).map(lambda xs: Data(DataType.STRUCTURE, tuple(xs))),
        ),
        max_leaves=max_leaves,
    )
