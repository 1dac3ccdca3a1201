"""Profile generic's buffer: capture objects, row ordering keys, selective access, row sources.

A row is a `Data` structure, one cell per capture object. `RowSource` is where a profile's rows
come from: `StoredRows` holds what the meter captured (or the model declared); living meters
compute theirs from time (simulator/cosem/profile_history.py). A source answers the three
questions a GET asks (how many rows, entries n..m, rows in a range), each with the columns the
request selects, so a source that computes rows builds only those.

Selective access: selector 1 range_descriptor (inclusive bounds on any capture column: numbers
by value, date-times by instant) and selector 2 entry_descriptor (1-based entry and column
numbers, 0 meaning the highest). Malformed or inconsistent parameters, a restricting object or
selected value that is not a capture object are refused with data-access-result other-reason:
the Blue Book names no more specific result for them.
"""

from __future__ import annotations

import bisect
import calendar
import math
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Sequence

from ..apdu.common import DataAccessResult
from ..axdr import CosemDateTime, Data, DataType
from ..axdr.data import FLOAT_FORMATS, INTEGER_FORMATS
from ..state.effects import ProfileRows
from .base import AccessFailure
from .context import ObjectContext
from .types import LONG_UNSIGNED, OBIS, INTEGER, Enum, Struct

__all__ = [
    "CAPTURE_OBJECT_DEFINITION", "SORT_METHOD", "SortMethod", "SIGNIFICANCE", "CaptureObject", "RangeSelection",
    "EntrySelection", "RowSource", "StoredRows", "DEFAULT_PROFILE_ENTRIES", "capture_objects",
    "parse_range_descriptor", "parse_entry_descriptor", "project", "read_column", "read_cell", "date_time_epoch",
    "int_attribute", "sort_column", "sort_key", "refuse",
]

DEFAULT_PROFILE_ENTRIES = 1000
"""profile_entries when the model gives none (the Blue Book leaves the capacity to the meter)."""


class SortMethod:
    """sort_method values (Blue Book 4.3.6)."""

    FIFO = 1
    LIFO = 2
    LARGEST = 3
    SMALLEST = 4
    NEAREST_TO_ZERO = 5
    FARTHEST_FROM_ZERO = 6


SORT_METHOD = Enum(((1, "fifo"), (2, "lifo"), (3, "largest"), (4, "smallest"),
                    (5, "nearest_to_zero"), (6, "farthest_from_zero")), open=False)
CAPTURE_OBJECT_DEFINITION = Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS),
                                    ("attribute_index", INTEGER), ("data_index", LONG_UNSIGNED)))

_INTEGER_TYPES = frozenset(INTEGER_FORMATS) - {DataType.BCD}
_NUMBER_TYPES = _INTEGER_TYPES | frozenset(FLOAT_FORMATS)
_STRUCTURED = (DataType.ARRAY, DataType.STRUCTURE)
_NULL = Data(DataType.NULL_DATA)
_UNIX_DAY = date(1970, 1, 1).toordinal()


def refuse(why: str) -> AccessFailure:
    return AccessFailure(DataAccessResult.OTHER_REASON, why)


def _cells(row: Data) -> tuple[Data, ...]:
    """A row's cells; a row the model wrote as something other than a structure has none."""
    return row.value if row.type == DataType.STRUCTURE else ()


# --------------------------------------------------------------------------- capture objects

@dataclass(frozen=True, slots=True)
class CaptureObject:
    """One capture_object_definition: which attribute (or element of it) fills a column."""

    class_id: int
    logical_name: bytes
    attribute_index: int
    data_index: int = 0

    @classmethod
    def from_data(cls, d: Data) -> "CaptureObject | None":
        """Parse a definition; any integer width is accepted for the numbers (clients differ)."""
        if d.type != DataType.STRUCTURE or len(d.value) != 4:
            return None
        cid, ln, attr, index = d.value
        if (ln.type != DataType.OCTET_STRING or len(ln.value) != 6
                or not all(x.type in _INTEGER_TYPES for x in (cid, attr, index))):
            return None
        return cls(cid.value, bytes(ln.value), attr.value, index.value)

    def to_data(self) -> Data:
        return Data(DataType.STRUCTURE, (
            Data(DataType.LONG_UNSIGNED, self.class_id), Data(DataType.OCTET_STRING, self.logical_name),
            Data(DataType.INTEGER, self.attribute_index), Data(DataType.LONG_UNSIGNED, self.data_index)))


def capture_objects(ctx: ObjectContext) -> tuple[CaptureObject, ...]:
    """The profile's columns; a malformed definition in the model yields no column for it."""
    value = ctx.get(3)
    if value.type != DataType.ARRAY:
        return ()
    return tuple(o for o in map(CaptureObject.from_data, value.value) if o is not None)


def _column_of(objects: Sequence[CaptureObject], d: Data, what: str) -> int:
    obj = CaptureObject.from_data(d)
    if obj is None:
        raise refuse(f"{what} is not a capture_object_definition")
    try:
        return objects.index(obj)
    except ValueError:
        raise refuse(f"{what} is not one of the profile's capture objects") from None


def _element(value: Data, data_index: int) -> Data:
    """data_index > 0 picks one element (1-based) of an array or structure value."""
    if data_index == 0:
        return value
    items = value.value.items if value.type == DataType.COMPACT_ARRAY else value.value
    if value.type in (*_STRUCTURED, DataType.COMPACT_ARRAY) and data_index <= len(items):
        return items[data_index - 1]
    return _NULL


def read_column(ctx: ObjectContext, obj: CaptureObject) -> Data:
    """The captured cell; an object or attribute that cannot be read leaves null-data."""
    return read_cell(ctx.find(obj.logical_name, obj.class_id), obj)


def read_cell(target: ObjectContext | None, obj: CaptureObject) -> Data:
    """The cell `obj` captures from `target`, the object it names (None: the device lacks it)."""
    if target is None:
        return _NULL
    try:
        return _element(target.get(obj.attribute_index), obj.data_index)
    except AccessFailure:
        return _NULL


# --------------------------------------------------------------------------- ordering keys

@dataclass(frozen=True, slots=True)
class _Moment:
    """A date-time as seconds of its local wall clock, plus its deviation (UTC - local, minutes)."""

    local: float
    deviation: int | None


def _moment(raw: bytes, fill: str | None = None) -> _Moment | None:
    """Read a 12-byte COSEM date-time.

    A row's value (`fill` None) with an unspecified or special date or time field cannot be
    placed in time and gives None; unspecified seconds and hundredths count as 0. A bound fills
    its unspecified fields with their lowest (`fill` "low") or highest ("high") value, so
    "2024-03-** **:**" as to_value means the end of March; an unspecified year is unbounded.
    """
    year, month, day, hour, minute = (raw[0] << 8) | raw[1], raw[2], raw[3], raw[5], raw[6]
    second, hundredths = raw[7], raw[8]
    dev = int.from_bytes(raw[9:11], "big", signed=True)
    deviation = None if dev == -0x8000 else dev
    high = fill == "high"
    if year == 0xFFFF:
        if fill is None:
            return None
        return _Moment(float("inf") if high else float("-inf"), deviation)
    if fill is None:
        if month > 12 or day > 31 or hour > 23 or minute > 59:
            return None
    else:
        month = (12 if high else 1) if month > 12 else month
        hour = (23 if high else 0) if hour > 23 else hour
        minute = (59 if high else 0) if minute > 59 else minute
        if month == 0:
            return None
        last = calendar.monthrange(year, month)[1]
        day = {0xFF: last if high else 1, 0xFE: last, 0xFD: last - 1}.get(day, day)
    second = (59 if high else 0) if second > 59 else second
    hundredths = (99 if high else 0) if hundredths > 99 else hundredths
    try:
        days = date(year, month, day).toordinal()
    except ValueError:
        return None
    return _Moment(days * 86400.0 + hour * 3600 + minute * 60 + second + hundredths / 100, deviation)


def _date_time_raw(d: Data) -> bytes | None:
    if d.type == DataType.OCTET_STRING and len(d.value) == 12:
        return d.value
    if d.type == DataType.DATE_TIME and isinstance(d.value, CosemDateTime):
        return d.value.to_bytes()
    return None


def _sort_number(d: Data) -> float | None:
    """The value a sorted profile orders by: a number, or a date-time as UTC seconds."""
    if d.type in _NUMBER_TYPES:
        return None if d.value != d.value else d.value
    raw = _date_time_raw(d)
    m = None if raw is None else _moment(raw)
    if m is None:
        return None
    return m.local + (m.deviation or 0) * 60


def date_time_epoch(d: Data) -> float | None:
    """A date-time value's instant as UTC epoch seconds (without deviation: its local time
    read as UTC); None for anything that is not a placeable date-time."""
    raw = _date_time_raw(d)
    m = None if raw is None else _moment(raw)
    if m is None:
        return None
    return m.local - _UNIX_DAY * 86400.0 + (m.deviation or 0) * 60


SIGNIFICANCE: dict[int, Callable[[float], float]] = {
    SortMethod.LARGEST: lambda v: -v,
    SortMethod.SMALLEST: lambda v: v,
    SortMethod.NEAREST_TO_ZERO: abs,
    SortMethod.FARTHEST_FROM_ZERO: lambda v: -abs(v),
}


# --------------------------------------------------------------------------- selections

class _Bound:
    """One end of a range: compares a cell's value with the bound's (None: not comparable)."""

    __slots__ = ("kind", "value")
    kind: str
    value: Any  # a _Moment for a date-time, else the bound's number or string

    def __init__(self, d: Data, fill: str) -> None:
        raw = _date_time_raw(d)
        if raw is not None:
            moment = _moment(raw, fill)
            if moment is None:
                raise refuse("range bound is not a calendar date-time")
            self.kind, self.value = "date-time", moment
        elif d.type in _NUMBER_TYPES:
            if d.value != d.value:
                raise refuse("a NaN cannot bound a range")
            self.kind, self.value = "number", d.value
        elif d.type in (DataType.OCTET_STRING, DataType.VISIBLE_STRING, DataType.UTF8_STRING):
            self.kind, self.value = d.type.label, d.value
        else:
            raise refuse(f"a {d.type.label} cannot bound a range")

    def compare(self, cell: Data) -> int | None:
        """Sign of (cell - bound), or None when the cell is of another kind."""
        if self.kind == "date-time":
            raw = _date_time_raw(cell)
            m = None if raw is None else _moment(raw)
            if m is None:
                return None
            b: _Moment = self.value
            if m.deviation is not None and b.deviation is not None:
                a, z = m.local + m.deviation * 60, b.local + b.deviation * 60
            else:  # a bound without deviation is in the meter's local time
                a, z = m.local, b.local
        elif self.kind == "number":
            if cell.type not in _NUMBER_TYPES:
                return None
            a, z = cell.value, self.value
        else:
            if cell.type.label != self.kind:
                return None
            a, z = cell.value, self.value
        return (a > z) - (a < z)


_WIDEST_DEVIATION_S = 14 * 3600


def _epoch_of(m: _Moment, widen_s: float) -> float:
    """A bound's instant as UTC epoch seconds; without deviation widened by `widen_s`."""
    utc = m.local - _UNIX_DAY * 86400.0
    return utc + m.deviation * 60 if m.deviation is not None else utc + widen_s


@dataclass(frozen=True, slots=True)
class RangeSelection:
    """A parsed range_descriptor: rows whose `column` lies in [low, high], then `columns`."""

    column: int
    low: Data
    high: Data
    columns: tuple[int, ...] | None  # None: every column
    _low: _Bound
    _high: _Bound

    def contains(self, row: Data) -> bool:
        cells = _cells(row)
        return self.column < len(cells) and self.admits(cells[self.column])

    def admits(self, cell: Data) -> bool:
        """Does a value of the restricting column lie in the range?"""
        lo = self._low.compare(cell)
        if lo is None or lo < 0:
            return False
        hi = self._high.compare(cell)
        return hi is not None and hi <= 0

    def epoch_span(self) -> tuple[float, float] | None:
        """UTC epochs between which a date-time in range must lie (None: the bounds are not
        date-times). A bound without deviation is the meter's local time: the span is widened
        by the largest deviation a date-time can carry (14 h), and `admits` decides."""
        if self._low.kind != "date-time":
            return None
        return _epoch_of(self._low.value, -_WIDEST_DEVIATION_S), _epoch_of(self._high.value, _WIDEST_DEVIATION_S)

    def span_is_exact(self) -> bool:
        """Does `epoch_span` decide alone for a date-time with a deviation (both bounds carry
        one, or are unbounded), so that `admits` need not read the cell?"""
        return all(b.kind == "date-time" and (b.value.deviation is not None or abs(b.value.local) == math.inf)
                   for b in (self._low, self._high))


@dataclass(frozen=True, slots=True)
class EntrySelection:
    """A parsed entry_descriptor: rows [start, stop) (0-based), then `columns`."""

    start: int
    stop: int | None  # None: to the last entry
    columns: tuple[int, ...] | None


def _integer(d: Data, what: str) -> int:
    if d.type not in _INTEGER_TYPES or d.value < 0:
        raise refuse(f"{what} must be an unsigned integer")
    return d.value


def parse_range_descriptor(params: Data, objects: Sequence[CaptureObject]) -> RangeSelection:
    """range_descriptor ::= structure {restricting_object, from_value, to_value, selected_values}."""
    if params.type != DataType.STRUCTURE or len(params.value) != 4:
        raise refuse("range_descriptor must be a structure of 4 elements")
    restricting, low, high, selected = params.value
    column = _column_of(objects, restricting, "restricting_object")
    lo, hi = _Bound(low, "low"), _Bound(high, "high")
    if lo.kind != hi.kind:
        raise refuse(f"from_value is a {lo.kind}, to_value a {hi.kind}")
    if selected.type != DataType.ARRAY:
        raise refuse("selected_values must be an array")
    columns = tuple(_column_of(objects, d, "selected value") for d in selected.value) or None
    return RangeSelection(column, low, high, columns, lo, hi)


def parse_entry_descriptor(params: Data, width: int) -> EntrySelection:
    """entry_descriptor ::= structure {from_entry, to_entry, from_selected_value, to_selected_value}.

    Entries and columns count from 1; a to_ of 0 means the highest. Entries past the end
    select nothing; a column range outside the profile's columns is refused.
    """
    if params.type != DataType.STRUCTURE or len(params.value) != 4:
        raise refuse("entry_descriptor must be a structure of 4 elements")
    first, last, first_col, last_col = (_integer(d, n) for d, n in zip(params.value, (
        "from_entry", "to_entry", "from_selected_value", "to_selected_value")))
    first, first_col = max(first, 1), max(first_col, 1)
    if last and last < first:
        raise refuse(f"to_entry {last} precedes from_entry {first}")
    last_col = last_col or width
    if last_col < first_col or last_col > width:
        raise refuse(f"columns {first_col}..{last_col} are not within the profile's {width}")
    columns = None if (first_col, last_col) == (1, width) else tuple(range(first_col - 1, last_col))
    return EntrySelection(first - 1, last or None, columns)


def project(rows: Sequence[Data], columns: tuple[int, ...] | None) -> tuple[Data, ...]:
    if columns is None:
        return tuple(rows)
    picked = []
    for row in rows:
        cells = _cells(row)
        picked.append(Data(DataType.STRUCTURE, tuple(cells[c] if c < len(cells) else _NULL for c in columns)))
    return tuple(picked)


# --------------------------------------------------------------------------- row sources

class RowSource:
    """Where a profile's rows come from, in buffer order (entry 1 first).

    The defaults work on the full sequence from `rows`; a source that computes rows on demand
    overrides `count`, `entries` and `matching` to build only the rows, and the columns
    (None: all), that a request selects.
    """

    def rows(self, ctx: ObjectContext) -> Sequence[Data]:
        raise NotImplementedError

    def count(self, ctx: ObjectContext) -> int:
        return len(self.rows(ctx))

    def entries(self, ctx: ObjectContext, start: int, stop: int | None,
                columns: tuple[int, ...] | None = None) -> Sequence[Data]:
        return project(self.rows(ctx)[start:stop], columns)

    def matching(self, ctx: ObjectContext, selection: RangeSelection) -> Sequence[Data]:
        return project([row for row in self.rows(ctx) if selection.contains(row)], selection.columns)

    def add(self, ctx: ObjectContext, row: Data) -> None:
        """Keep a row the profile captured now."""
        raise NotImplementedError


class StoredRows(RowSource):
    """Rows this meter captured (its ProfileRows record), else the rows the model declares."""

    def rows(self, ctx: ObjectContext) -> Sequence[Data]:
        own = ctx.effect(ProfileRows)
        if own is not None:
            return own.rows
        declared = ctx.stored(2)
        if declared is None:
            return ()
        if declared.type == DataType.COMPACT_ARRAY:
            return declared.value.items
        return declared.value if declared.type == DataType.ARRAY else ()

    def add(self, ctx: ObjectContext, row: Data) -> None:
        objects = capture_objects(ctx)
        limit = int_attribute(ctx, 8, DEFAULT_PROFILE_ENTRIES)
        _insert(self._own_rows(ctx), row, int_attribute(ctx, 5, SortMethod.FIFO), sort_column(ctx, objects), limit)

    def _own_rows(self, ctx: ObjectContext) -> list[Data]:
        """This meter's mutable row list, started from the model's rows on first write."""
        if ctx.effect(ProfileRows) is None:
            rows = list(self.rows(ctx))
            ctx.change(ProfileRows).rows = rows
            return rows
        return ctx.change(ProfileRows).rows


def int_attribute(ctx: ObjectContext, index: int, default: int) -> int:
    """An integer attribute of the profile (capture_period, sort_method, profile_entries)."""
    v = ctx.get(index)
    return v.value if v.type in _INTEGER_TYPES else default


def sort_column(ctx: ObjectContext, objects: Sequence[CaptureObject]) -> int | None:
    """The column sort_object names (None: it is not a capture object)."""
    obj = CaptureObject.from_data(ctx.get(6))
    return objects.index(obj) if obj in objects else None


def _insert(rows: list[Data], row: Data, method: int, column: int | None, limit: int) -> None:
    """Place a new row as `sort_method` orders the buffer, then keep at most `limit` rows."""
    significance = SIGNIFICANCE.get(method)
    if method == SortMethod.LIFO:
        rows.insert(0, row)
        del rows[limit:]
        return
    if significance is None or column is None:
        rows.append(row)
        del rows[:max(len(rows) - limit, 0)]
        return

    def key(r: Data) -> float:
        return sort_key(r, column, significance)

    rows.insert(bisect.bisect_right(rows, key(row), key=key), row)
    del rows[limit:]


def sort_key(row: Data, column: int, significance: Callable[[float], float]) -> float:
    """Where a row goes in a sorted profile: most significant first, unsortable last."""
    cells = _cells(row)
    v = _sort_number(cells[column]) if column < len(cells) else None
    return float("inf") if v is None else significance(v)

