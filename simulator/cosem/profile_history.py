"""A living meter's Profile generic rows, computed from time for any past range.

A real meter has captured its profiles since it was installed; ours computes the rows a
request asks for when it asks, and keeps none. Four kinds of profile have rows that follow
from time (`history_source`); any other keeps the rows it captured (`StoredRows`):

- periodic (capture_period > 0: load profiles, power quality, gas and water profiles): one row
  per capture instant;
- captured by a single action schedule's script (capture_period 0, the monthly billing
  profile): one row per execution instant of the schedule;
- event logs (0.0.99.98.x.255): one row per event in the log (`events_in`: the generated
  events and the meter's own);
- the power failure event log (1.0.99.97.0.255): one row at the end of each long power failure.

Time. Instants are epochs of the meter's clock (fleet epoch plus the meter's clock offset).
A profile's history starts at the meter's installation (`living.installed`) or at the last
reset or restructuring (`ProfileReset`), whichever is later; its rows lie strictly after
that and at or before now. The capture grid of a periodic profile is aligned to the local
day, as meters capture: a period of an hour or less captures at the multiples of the period
in local standard time (UTC minus the Clock's time_zone; daylight saving moves local time by
whole hours, so a 15-minute profile captures at :00, :15, :30 and :45 all year), which is
plain arithmetic on UTC; a longer period that divides a day captures at its multiples in local
wall time, daylight saving included, so a daily profile has a row at every local midnight
(after a 23- or 25-hour day too); any other period counts in local standard time from 1970.

A row is what the capture objects read at its instant (`read_cell(target.at(t), ...)`): its
clock column is the clock's time then, registers their values then. Exceptions: an AMR profile
status column (Data 0.0.96.10.x.255) says what happened in the row's period, an event log's
event code column is the event's code, and the power failure log's duration column the
failure's duration. AMR profile status bits set per period (t - capture_period, t]: power down
if a power failure overlapped it, clock adjusted if the standard event log holds a clock
adjustment in it, daylight saving if the row's clock shows it; the object's own bits stay.

Buffer. profile_entries is a circular buffer: of the computed rows and the rows captured by
the capture method (kept in `ProfileRows`, merged by the instant of their clock column; a
profile without a clock column puts them after the computed ones), only the newest
profile_entries exist. fifo lists them oldest first and lifo newest first, both computed by
arithmetic: a count is O(1), entry n is one row. The other sort methods compute every kept row
and sort them (the newest profile_entries rows, ordered by the sort object's column).

Selective access: a range on the clock column computes the first and last instant in range and
builds only those rows (a range on another column scans the kept rows); column selection builds
only the selected columns. A range bounded with deviations needs no clock cell to decide; a
bound without one is local time, compared as the cell shows it. A year of 15-minute rows by
range is 35,040 rows (about 1.5 s of CPU with eight columns, most of it the registers' reads).

Known limits: the meter's clock offset is today's for the whole history (a row at meter time t
reads the registers at fleet time t minus today's offset), so after a client moves the clock
far, past rows read the values of other instants; a column's value at a past instant is what
its object's getter computes for that instant (an object that only stores its value, such as
the disconnector's control_state, reads today's value in every row).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta
from typing import Callable, Iterator, Sequence

from ..axdr import Data, DataType, Obis
from ..axdr.data import INTEGER_FORMATS
from ..living.meter import outages_of
from ..state.effects import LoggedEvents, ProfileReset, ProfileRows
from . import metrology
from .clock import CLOCK_LN, local_now, time_reader
from .context import ObjectContext
from .events import EVENT_CODE_OBJECTS, EVENT_LOGS, EventCode, events_in
from .profile_buffer import (
    DEFAULT_PROFILE_ENTRIES, SIGNIFICANCE, CaptureObject, RangeSelection, RowSource, SortMethod, capture_objects,
    date_time_epoch, int_attribute, project, read_cell, sort_column, sort_key,
)
from .schedule import executions_between, local_to_epoch

__all__ = ["history_source", "HistoryRows", "STATUS_DAYLIGHT_SAVING", "STATUS_CLOCK_ADJUSTED", "STATUS_POWER_DOWN"]

# AMR profile status bits (DSMR): 0 critical error, 1 clock invalid, 2 data not valid, 3 daylight
# saving, 5 clock adjusted, 7 power down; positions as OSGP open-smart-grid-platform maps them
# (AmrProfileStatusCodeHelperService, protocol-adapter-dlms).
STATUS_DAYLIGHT_SAVING = 1 << 3
STATUS_CLOCK_ADJUSTED = 1 << 5
STATUS_POWER_DOWN = 1 << 7
_DST_ACTIVE = 0x80  # clock status bit 7 (Blue Book 4.1.6.1), the last octet of a date-time

_CLOCK_CLASS = 8
_CLOCK_ADJUSTED_CODES = frozenset((EventCode.CLOCK_ADJUSTED_OLD_TIME, EventCode.CLOCK_ADJUSTED_NEW_TIME))
_DATA, _CLOCK, _PROFILE, _SCRIPT_TABLE, _SINGLE_ACTION_SCHEDULE = 1, 8, 7, 9, 22
_CAPTURE_METHOD, _EXECUTE_METHOD = 2, 2
_EVENT_LOG_OF = {bytes(ln): name for name, ln in EVENT_LOGS.items()}
_POWER_FAILURE_LOG = bytes(Obis("1.0.99.97.0.255"))
_FAILURE_DURATION = bytes(Obis("0.0.96.7.19.255"))
_LONG_FAILURE_THRESHOLD = Obis("0.0.96.7.20.255")
_DEFAULT_LONG_FAILURE_S = 180  # IDIS / DSMR default time threshold for a long power failure
_NAIVE_EPOCH = datetime(1970, 1, 1)


# --------------------------------------------------------------------------- timelines

class _Grid:
    """The capture instants of a periodic profile in (start, now]: first + k * period."""

    __slots__ = ("first", "period", "n")

    def __init__(self, start: float, now: float, period: int, phase: int) -> None:
        self.period = period
        self.first = phase + (math.floor((start - phase) / period) + 1) * period
        self.n = max(math.floor((now - self.first) / period) + 1, 0)

    def at(self, k: int) -> float:
        return self.first + k * self.period

    def before(self, t: float) -> int:
        """How many instants lie before `t`."""
        return min(max(math.ceil((t - self.first) / self.period), 0), self.n)

    def upto(self, t: float) -> int:
        """How many instants lie at or before `t`."""
        return min(max(math.floor((t - self.first) / self.period) + 1, 0), self.n)

    def previous(self, k: int) -> float:
        """The capture instant before instant `k`: where its period starts."""
        return self.at(k) - self.period


class _WallGrid:
    """The capture instants in (start, now] of a profile whose period is longer than an hour
    and divides a day: multiples of the period in local wall time, daylight saving included
    (a daily profile captures at every local midnight, after a 23- or 25-hour day too)."""

    __slots__ = ("ctx", "period", "first", "n")

    def __init__(self, ctx: ObjectContext, start: float, now: float, period: int) -> None:
        self.ctx, self.period = ctx, period
        first = _wall_index(ctx, start, period) + 1
        while self._at(first - 1) > start:
            first -= 1
        while self._at(first) <= start:
            first += 1
        last = _wall_index(ctx, now, period)
        while self._at(last) > now:
            last -= 1
        while self._at(last + 1) <= now:
            last += 1
        self.first, self.n = first, max(last - first + 1, 0)

    def _at(self, w: int) -> float:
        return local_to_epoch(self.ctx, _NAIVE_EPOCH + timedelta(seconds=w * self.period))

    def at(self, k: int) -> float:
        return self._at(self.first + k)

    def before(self, t: float) -> int:
        k = min(max(_wall_index(self.ctx, t, self.period) - self.first, 0), self.n)
        while k > 0 and self.at(k - 1) >= t:
            k -= 1
        while k < self.n and self.at(k) < t:
            k += 1
        return k

    def upto(self, t: float) -> int:
        k = self.before(t)
        while k < self.n and self.at(k) <= t:
            k += 1
        return k

    def previous(self, k: int) -> float:
        return self._at(self.first + k - 1)


def _wall_index(ctx: ObjectContext, meter_epoch: float, period: int) -> int:
    """Which multiple of `period` of local wall time the meter shows at `meter_epoch`."""
    return math.floor((_local(ctx, meter_epoch) - _NAIVE_EPOCH) / timedelta(seconds=period))


class _Instants:
    """Instants listed one by one (schedule executions, events), oldest first, with what the
    source's own column reads at each (an event's code, a power failure's duration)."""

    __slots__ = ("times", "values", "n")

    def __init__(self, times: Sequence[float], values: Sequence[int] = ()) -> None:
        self.times = times
        self.values = values
        self.n = len(times)

    def at(self, k: int) -> float:
        return self.times[k]

    def before(self, t: float) -> int:
        return bisect_left(self.times, t)

    def upto(self, t: float) -> int:
        return bisect_right(self.times, t)


_Timeline = _Grid | _WallGrid | _Instants
_Piece = tuple[int, int] | Data  # a run of computed rows [k0, k1), or one captured row


# --------------------------------------------------------------------------- one request's view

def _clock_column(objects: Sequence[CaptureObject]) -> int | None:
    return next((i for i, o in enumerate(objects)
                 if o.class_id == _CLOCK and o.attribute_index == 2 and o.data_index == 0), None)


def _is_status(obj: CaptureObject) -> bool:
    """An AMR profile status object (0.0.96.10.x.255, attribute 2) as a capture object."""
    ln = obj.logical_name
    return obj.class_id == _DATA and obj.attribute_index == 2 and ln[:4] == b"\x00\x00\x60\x0a" and ln[5] == 0xFF


class _View:
    """One profile of one meter for one request: its timeline, captured rows and kept window."""

    def __init__(self, source: "HistoryRows", ctx: ObjectContext) -> None:
        living = ctx.living
        assert living is not None
        self.ctx = ctx
        self.objects = capture_objects(ctx)
        now = ctx.clock.epoch()
        self.offset = ctx.clock.offset()
        start = living.installed + self.offset
        reset = ctx.effect(ProfileReset)
        if reset is not None:
            start = max(start, reset.after)
        self.start, self.now = start, now
        self.period = source.period(ctx)
        self.timeline = source.timeline(ctx, start, now)
        self.clock = _clock_column(self.objects)
        self.own = source.own_column(ctx, self.objects)
        self.pieces, total = self._merge(self._captured())
        self.keep_from = max(total - int_attribute(ctx, 8, DEFAULT_PROFILE_ENTRIES), 0)
        self.count = total - self.keep_from
        self.method = int_attribute(ctx, 5, SortMethod.FIFO)

    def _captured(self) -> list[tuple[float, Data]]:
        """The captured rows (all since the last reset, which emptied them) by the instant of
        their clock column; a clock set later keeps them, as the meter captured them."""
        own = self.ctx.effect(ProfileRows)
        if own is None or not own.rows:
            return []
        out = []
        for row in own.rows:
            cells = row.value if row.type == DataType.STRUCTURE else ()
            at = date_time_epoch(cells[self.clock]) if self.clock is not None and self.clock < len(cells) else None
            out.append((math.inf if at is None else at, row))
        out.sort(key=lambda item: item[0])
        return out

    def _merge(self, captured: list[tuple[float, Data]]) -> tuple[list[_Piece], int]:
        """The buffer before trimming, oldest first: runs of computed rows between captured ones.
        A captured row replaces a computed one at the same instant."""
        pieces: list[_Piece] = []
        timeline, k, total = self.timeline, 0, 0
        for at, row in captured:
            g = timeline.before(at)
            if g > k:
                pieces.append((k, g))
                total += g - k
                k = g
            if k < timeline.n and timeline.at(k) == at:
                k += 1
            pieces.append(row)
            total += 1
        if timeline.n > k:
            pieces.append((k, timeline.n))
            total += timeline.n - k
        return pieces, total

    def walk(self, p0: int, p1: int) -> Iterator[int | Data]:
        """Positions [p0, p1) of the untrimmed buffer: a computed row's index or a captured row."""
        pos = 0
        for piece in self.pieces:
            if isinstance(piece, Data):
                if p0 <= pos < p1:
                    yield piece
                pos += 1
            else:
                a, b = piece
                lo, hi = max(p0, pos), min(p1, pos + b - a)
                if lo < hi:
                    yield from range(a + lo - pos, a + hi - pos)
                pos += b - a
            if pos >= p1:
                return

    def kept(self, first: int, stop: int) -> Iterator[int | Data]:
        """Entries [first, stop) of the kept buffer, oldest first."""
        return self.walk(self.keep_from + first, self.keep_from + min(stop, self.count))


def _reader(target: ObjectContext | None, obj: CaptureObject) -> Callable[[float], Data] | None:
    """A fast reader of a capture object at any meter epoch, where its class has one."""
    if target is None or obj.data_index:
        return None
    if target.cls.class_id == _CLOCK_CLASS and obj.attribute_index == 2:
        return time_reader(target)
    return metrology.reader(target, obj.attribute_index)


class _Builder:
    """Builds computed rows: each cell read from its object at the row's instant."""

    def __init__(self, view: _View, columns: Sequence[int] | None) -> None:
        ctx = view.ctx
        self.view = view
        self.targets = [ctx.find(o.logical_name, o.class_id) for o in view.objects]
        self.columns = range(len(view.objects)) if columns is None else columns
        self.status = frozenset(i for i, o in enumerate(view.objects) if _is_status(o)) if view.period else frozenset()
        living = ctx.living
        assert living is not None
        self.living = living
        self._adjustments: list[float] | None = None
        # the clock and living registers read at any instant without a handle per cell (the usual columns)
        self.readers = [_reader(target, o) for target, o in zip(self.targets, view.objects)]
        own = None if view.own is None else self.targets[view.own]
        like = None if own is None else own.stored(2)
        self.own_type = like.type if like is not None and like.type in INTEGER_FORMATS else DataType.UNSIGNED

    def cell(self, c: int, t: float) -> Data:
        """Column `c` as its object reads at meter epoch `t`."""
        target = self.targets[c]
        return read_cell(None if target is None else target.at(t), self.view.objects[c])

    def row(self, k: int, clock: Data | None = None) -> Data:
        """Computed row `k` (`clock`: its clock cell, when already read)."""
        view = self.view
        t = view.timeline.at(k)
        if view.clock is not None and clock is None and (self.status or view.clock in self.columns):
            clock = self.cell(view.clock, t)
        cells = []
        targets, objects = self.targets, view.objects
        for c in self.columns:
            if c == view.clock:
                cells.append(clock)
            elif c == view.own and isinstance(view.timeline, _Instants):
                cells.append(_number(self.own_type, view.timeline.values[k]))
            elif c in self.status:
                cells.append(self._status(c, k, t, clock))
            else:
                fast = self.readers[c]
                if fast is not None:
                    cells.append(fast(t))
                    continue
                target = targets[c]
                cells.append(read_cell(None if target is None else target.at(t), objects[c]))
        return Data(DataType.STRUCTURE, tuple(cells))

    def _status(self, c: int, k: int, t: float, clock: Data | None) -> Data:
        """What happened in row `k`'s period (previous capture instant, t], on top of the
        object's own value."""
        own = self.cell(c, t)
        bits = own.value if own.type in (DataType.UNSIGNED, DataType.LONG_UNSIGNED) else 0
        timeline = self.view.timeline
        begin = timeline.previous(k) if not isinstance(timeline, _Instants) else t - self.view.period
        offset, living = self.view.offset, self.living
        if outages_of(living, begin - offset, t - offset):
            bits |= STATUS_POWER_DOWN
        adjustments = self._clock_adjustments()
        if bisect_right(adjustments, t) > bisect_right(adjustments, begin):
            bits |= STATUS_CLOCK_ADJUSTED
        if clock is not None and clock.type == DataType.OCTET_STRING and len(clock.value) == 12:
            if clock.value[11] & _DST_ACTIVE:
                bits |= STATUS_DAYLIGHT_SAVING
        return Data(own.type if own.type in (DataType.UNSIGNED, DataType.LONG_UNSIGNED) else DataType.UNSIGNED, bits)

    def _clock_adjustments(self) -> list[float]:
        """Meter epochs at which the clock was adjusted, from the standard event log."""
        if self._adjustments is None:
            log = self.view.ctx.find(EVENT_LOGS["standard"], _PROFILE)
            logged = None if log is None else log.effect(LoggedEvents)
            self._adjustments = sorted(at for at, code in (logged.entries if logged is not None else ())
                                       if code in _CLOCK_ADJUSTED_CODES)
        return self._adjustments


# --------------------------------------------------------------------------- the row sources

class HistoryRows(RowSource):
    """Rows computed from time; subclasses say at which instants."""

    def period(self, ctx: ObjectContext) -> int:
        """The period a row covers (0: rows are not periodic)."""
        return 0

    def timeline(self, ctx: ObjectContext, start: float, now: float) -> _Timeline:
        raise NotImplementedError

    def own_column(self, ctx: ObjectContext, objects: Sequence[CaptureObject]) -> int | None:
        """The column this source fills itself (from the timeline's values), if any."""
        return None

    # -- RowSource
    def rows(self, ctx: ObjectContext) -> Sequence[Data]:
        return self.entries(ctx, 0, None)

    def count(self, ctx: ObjectContext) -> int:
        return _View(self, ctx).count

    def entries(self, ctx: ObjectContext, start: int, stop: int | None,
                columns: tuple[int, ...] | None = None) -> Sequence[Data]:
        view = _View(self, ctx)
        stop = view.count if stop is None else min(stop, view.count)
        if start >= stop:
            return ()
        if view.method == SortMethod.FIFO:
            return self._build(view, view.kept(start, stop), columns)
        if view.method == SortMethod.LIFO:
            return self._build(view, view.kept(view.count - stop, view.count - start), columns)[::-1]
        return project(self._sorted(ctx, view)[start:stop], columns)

    def matching(self, ctx: ObjectContext, selection: RangeSelection) -> Sequence[Data]:
        view = _View(self, ctx)
        span = selection.epoch_span()
        if selection.column != view.clock or span is None or view.method not in (SortMethod.FIFO, SortMethod.LIFO):
            rows = self.entries(ctx, 0, None)
            return project([row for row in rows if selection.contains(row)], selection.columns)
        builder = _Builder(view, selection.columns)
        timeline, clock = view.timeline, view.clock
        # the rows lie in (start, now]: an unbounded end (year not specified) stops there
        k0, k1 = timeline.before(max(span[0], view.start)), timeline.upto(min(span[1], view.now))
        exact = selection.span_is_exact()  # a computed row's clock cell is its instant, with a deviation
        out: list[Data] = []
        for item in view.kept(0, view.count):
            if isinstance(item, Data):
                if selection.contains(item):
                    out.extend(project((item,), selection.columns))
                continue
            if not k0 <= item < k1:
                continue
            if exact:
                out.append(builder.row(item))
                continue
            stamp = builder.cell(clock, timeline.at(item))
            if selection.admits(stamp):
                out.append(builder.row(item, stamp))
        return out[::-1] if view.method == SortMethod.LIFO else out

    def add(self, ctx: ObjectContext, row: Data) -> None:
        """A captured row joins the computed ones; only the newest profile_entries stay."""
        rows = ctx.change(ProfileRows).rows
        rows.append(row)
        view = _View(self, ctx)
        captured = {id(p) for p in view.walk(view.keep_from, view.keep_from + view.count) if isinstance(p, Data)}
        rows[:] = [r for r in rows if id(r) in captured]

    # -- helpers
    def _build(self, view: _View, items: Iterator[int | Data], columns: tuple[int, ...] | None) -> list[Data]:
        builder = _Builder(view, columns)
        return [project((item,), columns)[0] if isinstance(item, Data) else builder.row(item) for item in items]

    def _sorted(self, ctx: ObjectContext, view: _View) -> list[Data]:
        rows = self._build(view, view.kept(0, view.count), None)
        significance = SIGNIFICANCE.get(view.method)
        column = sort_column(ctx, view.objects)
        if significance is None or column is None:
            return rows
        return sorted(rows, key=lambda r: sort_key(r, column, significance))


class PeriodicRows(HistoryRows):
    """capture_period > 0: a row at every capture instant of the grid."""

    def period(self, ctx: ObjectContext) -> int:
        return int_attribute(ctx, 4, 0)

    def timeline(self, ctx: ObjectContext, start: float, now: float) -> _Grid | _WallGrid:
        period = self.period(ctx)
        if period > 3600 and 86400 % period == 0:
            return _WallGrid(ctx, start, now, period)
        deviation = _standard_deviation(ctx)
        return _Grid(start, now, period, (deviation * 60) % period)


class ScheduledRows(HistoryRows):
    """capture_period 0, captured by a single action schedule's script: a row at every
    execution instant of those schedules."""

    def timeline(self, ctx: ObjectContext, start: float, now: float) -> _Instants:
        begin, end = _local(ctx, start), _local(ctx, now)
        instants: set[float] = set()
        for schedule in _capturing_schedules(ctx):
            instants.update(local_to_epoch(ctx, at) for at in executions_between(schedule, begin, end))
        return _Instants(sorted(t for t in instants if start < t <= now))


class EventRows(HistoryRows):
    """An event log: a row at every event the log holds."""

    def timeline(self, ctx: ObjectContext, start: float, now: float) -> _Instants:
        log = _EVENT_LOG_OF[bytes(ctx.logical_name)]
        events = [e for e in events_in(ctx, log, start, math.nextafter(now, math.inf)) if e[0] > start]
        return _Instants([at for at, _ in events], [code for _, code in events])

    def own_column(self, ctx: ObjectContext, objects: Sequence[CaptureObject]) -> int | None:
        """The log's event code object: the event's code."""
        return _column(objects, EVENT_CODE_OBJECTS[_EVENT_LOG_OF[bytes(ctx.logical_name)]])


class PowerFailureRows(HistoryRows):
    """The power failure event log (1.0.99.97.0.255): a row at the end of every long power
    failure (lasting at least the threshold 0.0.96.7.20.255, default 180 s), its duration
    register (0.0.96.7.19.255) reading the failure's duration in seconds. DSMR 4 P1
    "Power Failure Event Log 1-0:99.97.0.255: timestamp (end of failure), duration in seconds"."""

    def timeline(self, ctx: ObjectContext, start: float, now: float) -> _Instants:
        living = ctx.living
        assert living is not None
        offset = ctx.clock.offset()
        threshold = _number_of(ctx.find(_LONG_FAILURE_THRESHOLD), _DEFAULT_LONG_FAILURE_S)
        failures = [(b + offset, round(b - a)) for a, b in outages_of(living, start - offset, now - offset)
                    if start < b + offset <= now and b - a >= threshold]
        return _Instants([at for at, _ in failures], [duration for _, duration in failures])

    def own_column(self, ctx: ObjectContext, objects: Sequence[CaptureObject]) -> int | None:
        """The duration register: the failure's duration."""
        return _column(objects, _FAILURE_DURATION)


_PERIODIC, _SCHEDULED, _EVENTS, _POWER_FAILURES = PeriodicRows(), ScheduledRows(), EventRows(), PowerFailureRows()


def _column(objects: Sequence[CaptureObject], logical_name: bytes) -> int | None:
    """The column that captures attribute 2 of `logical_name` whole."""
    return next((i for i, o in enumerate(objects)
                 if o.logical_name == logical_name and o.attribute_index == 2 and o.data_index == 0), None)


def history_source(ctx: ObjectContext) -> HistoryRows | None:
    """The computed source of a living meter's profile, None for one that keeps captured rows."""
    if int_attribute(ctx, 4, 0) > 0:
        return _PERIODIC
    if bytes(ctx.logical_name) in _EVENT_LOG_OF:
        return _EVENTS
    if bytes(ctx.logical_name) == _POWER_FAILURE_LOG:
        return _POWER_FAILURES
    if _capturing_schedules(ctx):
        return _SCHEDULED
    return None


def _number(kind: DataType, n: int) -> Data:
    """`n` as an integer of type `kind`, clamped to its range."""
    size, signed = INTEGER_FORMATS[kind]
    hi = (1 << (8 * size - 1)) - 1 if signed else (1 << (8 * size)) - 1
    return Data(kind, min(max(n, -hi - 1 if signed else 0), hi))


def _number_of(obj: ObjectContext | None, default: int) -> int:
    """The integer value of a Data or Register object (None, or not an integer: `default`)."""
    value = None if obj is None else obj.get(2).value
    return value if isinstance(value, int) and not isinstance(value, bool) else default


# --------------------------------------------------------------------------- time helpers

def _standard_deviation(ctx: ObjectContext) -> int:
    """Minutes of UTC minus local standard time: the Clock's time_zone, else the meter's offset."""
    clock = ctx.find(CLOCK_LN, _CLOCK)
    zone = None if clock is None else clock.get(3)
    if zone is not None and zone.type == DataType.LONG and zone.value != -0x8000:
        return int(zone.value)
    offset = ctx.clock.local_time().utcoffset()
    return -int(offset.total_seconds() // 60) if offset is not None else 0


def _local(ctx: ObjectContext, meter_epoch: float) -> datetime:
    """The meter's local wall time (naive) at a meter epoch, as its Clock shows it."""
    return local_now(ctx.at(meter_epoch))[0].replace(tzinfo=None)


def _capturing_schedules(ctx: ObjectContext) -> list[ObjectContext]:
    """The single action schedules whose executed script captures this profile."""
    me = bytes(ctx.logical_name)
    found = []
    for schedule in ctx.objects():
        if schedule.cls.class_id != _SINGLE_ACTION_SCHEDULE:
            continue
        item = schedule.get(2)
        if item.type != DataType.STRUCTURE or len(item.value) != 2:
            continue
        table_ln, selector = item.value[0].value, item.value[1].value
        table = ctx.find(table_ln, _SCRIPT_TABLE) if isinstance(table_ln, bytes) and len(table_ln) == 6 else None
        if table is not None and _captures(table.get(2), selector, me):
            found.append(schedule)
    return found


def _captures(scripts: Data, selector: object, profile: bytes) -> bool:
    """Does script `selector` of a script table invoke capture on `profile`?"""
    if scripts.type != DataType.ARRAY:
        return False
    for script in scripts.value:
        if script.type != DataType.STRUCTURE or len(script.value) != 2 or script.value[0].value != selector:
            continue
        for action in script.value[1].value if script.value[1].type == DataType.ARRAY else ():
            service, class_id, ln, index = (f.value for f in action.value[:4])
            if (service, class_id, ln, index) == (_EXECUTE_METHOD, _PROFILE, profile, _CAPTURE_METHOD):
                return True
    return False
