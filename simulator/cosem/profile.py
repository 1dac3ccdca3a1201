"""Profile generic (7, version 1): a buffer of rows captured from other objects' attributes.

Rows, selections and row sources live in profile_buffer.py; a living meter's rows are computed
from time (profile_history.py). Here: which source serves a profile, and what the methods and
the structure setters do to it.

A static meter's rows are kept in its `ProfileRows` record only once the profile captured, was
reset or restructured; until then the buffer is the rows the model declares as attribute 2
(often none). A row is stored as the very structure the buffer array holds, so reading the
whole buffer builds no intermediate tree: one tuple of references.

Ordering (`sort_method`): fifo keeps capture order, oldest first; lifo keeps newest first; both
drop the oldest row when `profile_entries` is reached. largest / smallest / nearest_to_zero /
farthest_from_zero keep rows ordered by the sort object's column, most significant first, and
drop the least significant row (which may be the new one). A sort object that is not a capture
object, or a column that is not a number or a date-time, orders as fifo. Writing capture_objects,
capture_period, sort_method, sort_object or profile_entries clears the buffer (old rows no longer
match the profile's structure; gurux-dlms servers do the same); on a living meter the computed
rows then start after that instant, as they do after a reset.
"""

from __future__ import annotations

from typing import Callable

from ..axdr import Data, DataType
from ..state.effects import ProfileReset, ProfileRows
from .base import attribute, interface_class, method
from .context import ObjectContext
from .profile_buffer import (
    CAPTURE_OBJECT_DEFINITION, DEFAULT_PROFILE_ENTRIES, SORT_METHOD, CaptureObject, EntrySelection, RangeSelection,
    RowSource, SortMethod, StoredRows, capture_objects, parse_entry_descriptor, parse_range_descriptor,
    read_column, refuse,
)
from .profile_history import history_source
from .types import ANY, DOUBLE_LONG_UNSIGNED, INTEGER, Array

__all__ = [
    "CLASSES", "PROFILE_GENERIC", "CAPTURE_OBJECT_DEFINITION", "SORT_METHOD", "SortMethod",
    "CaptureObject", "RangeSelection", "EntrySelection", "RowSource", "StoredRows", "row_source",
    "capture_objects", "parse_range_descriptor", "parse_entry_descriptor", "DEFAULT_PROFILE_ENTRIES",
]

_STORED = StoredRows()


def row_source(ctx: ObjectContext) -> RowSource:
    """The source of this profile's rows: computed from time on a living meter where the
    profile's rows follow from time (periodic, schedule-captured, event logs), else stored."""
    if ctx.living is not None:
        source = history_source(ctx)
        if source is not None:
            return source
    return _STORED


# --------------------------------------------------------------------------- behaviour

def _capture(ctx: ObjectContext, parameter: Data | None) -> None:
    row = Data(DataType.STRUCTURE, tuple(read_column(ctx, o) for o in capture_objects(ctx)))
    row_source(ctx).add(ctx, row)
    return None


def _empty(ctx: ObjectContext) -> None:
    """No row so far: captured rows go, and a living meter's computed rows start from now."""
    ctx.change(ProfileRows).rows = []
    if ctx.living is not None:
        ctx.change(ProfileReset).after = ctx.clock.epoch()


def _reset(ctx: ObjectContext, parameter: Data | None) -> None:
    _empty(ctx)
    return None


def _restructure(index: int) -> Callable[[ObjectContext, Data], None]:
    """Setter of an attribute whose change makes the buffered rows meaningless."""

    def setter(ctx: ObjectContext, value: Data) -> None:
        ctx.set(index, value)
        _empty(ctx)

    return setter


def _buffer(ctx: ObjectContext) -> Data:
    return Data(DataType.ARRAY, tuple(row_source(ctx).rows(ctx)))


def _entries_in_use(ctx: ObjectContext) -> Data:
    return Data(DataType.DOUBLE_LONG_UNSIGNED, row_source(ctx).count(ctx))


def _select(ctx: ObjectContext, selector: int, params: Data) -> Data:
    objects = capture_objects(ctx)
    source = row_source(ctx)
    if selector == 1:
        return Data(DataType.ARRAY, tuple(source.matching(ctx, parse_range_descriptor(params, objects))))
    if selector == 2:
        entries = parse_entry_descriptor(params, len(objects))
        return Data(DataType.ARRAY, tuple(source.entries(ctx, entries.start, entries.stop, entries.columns)))
    raise refuse(f"access selector {selector} is not defined for the buffer")


PROFILE_GENERIC = interface_class(7, 1, "Profile generic", [
    attribute(2, "buffer", Array(ANY), dynamic=True, getter=_buffer, selective=_select, selectors=(1, 2)),
    attribute(3, "capture_objects", Array(CAPTURE_OBJECT_DEFINITION), setter=_restructure(3),
              default=Data(DataType.ARRAY, ())),
    attribute(4, "capture_period", DOUBLE_LONG_UNSIGNED, setter=_restructure(4),
              default=Data(DataType.DOUBLE_LONG_UNSIGNED, 0)),
    attribute(5, "sort_method", SORT_METHOD, setter=_restructure(5),
              default=Data(DataType.ENUM, SortMethod.FIFO)),
    attribute(6, "sort_object", CAPTURE_OBJECT_DEFINITION, setter=_restructure(6),
              default=CaptureObject(0, bytes(6), 0, 0).to_data()),
    attribute(7, "entries_in_use", DOUBLE_LONG_UNSIGNED, dynamic=True, getter=_entries_in_use),
    attribute(8, "profile_entries", DOUBLE_LONG_UNSIGNED, setter=_restructure(8),
              default=Data(DataType.DOUBLE_LONG_UNSIGNED, DEFAULT_PROFILE_ENTRIES)),
], [
    method(1, "reset", INTEGER, impl=_reset),
    method(2, "capture", INTEGER, impl=_capture),
], sn_method_offset=0x58)

CLASSES = (PROFILE_GENERIC,)
