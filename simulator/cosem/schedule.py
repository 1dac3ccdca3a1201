"""Time-driven classes: Script table (9), Schedule (10), Special days table (11),
Activity calendar (20) and Single action schedule (22).

A script is the unit of work every other class triggers: Register monitor, Limiter, Schedule,
Activity calendar and Single action schedule all name a (script table, script selector) pair,
and `execute_script` runs it: each action writes an attribute or invokes a method of another
object of the same logical device, as the server itself (setters run, access rights do not apply).

The tables' methods edit the stored arrays (the meter keeps only its changed copy). Execution
at a point in time is driven from outside, without timers: when a request reaches a living
meter, simulator/cosem/catch_up.py runs what fell due since (`due_executions`, `run_due`,
`activate_calendar_if_due`), each script as of its own time; nothing here reads the wall clock.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Iterable

from ..apdu.common import ActionResult, DataAccessResult
from ..axdr import CosemDate, CosemTime, Data, DataType, Obis
from ..errors import DecodeError
from ..state.effects import CalendarActivation, ScheduleRun, ScriptRun
from .base import AccessFailure, ActionFailure, attribute, interface_class, method
from .clock import date_time_of, local_now, to_utc
from .context import ObjectContext
from .types import (
    ANY, BIT_STRING, BOOLEAN, DATE, DATE_TIME, INTEGER, LONG_UNSIGNED, OBIS, OCTET_STRING, TIME,
    UNSIGNED, Array, Enum, Struct,
)

__all__ = [
    "CLASSES", "SCRIPT_TABLE", "SCHEDULE", "SPECIAL_DAYS_TABLE", "ACTIVITY_CALENDAR",
    "SINGLE_ACTION_SCHEDULE", "ACTION_ITEM", "execute_script", "run_action_item",
    "run_single_action_schedule", "activate_calendar_if_due", "date_matches", "next_execution",
    "calendar_activation_time", "due_executions", "note_run", "computed_lazily", "run_due", "local_to_epoch", "forget_due", "DUE_KEY", "QUIET_KEY",
    "executions_between",
]

SCRIPT_TABLE_CLASS_ID = 9
_MAX_SCRIPT_DEPTH = 8  # scripts may execute scripts; a cycle must not recurse forever
_MAX_CATCH_UP_DAYS = 400  # a meter switched off longer than this does not replay every day
_PROFILE_GENERIC, _CAPTURE = 7, 2
DUE_KEY = "schedules_due"  # in ctx.living.cache: the meter epoch the next schedule falls due at
QUIET_KEY = "catch_up_quiet"  # in ctx.living.cache: per device, the meter epochs in which nothing is due
_EPOCH = datetime(1970, 1, 1)


def _items(value: Data) -> tuple[Data, ...]:
    """The elements of an array attribute; none when the model left it unset."""
    return value.value if value.type == DataType.ARRAY else ()


# --------------------------------------------------------------------------- Script table (9)

def _as_action_result(result: DataAccessResult) -> ActionResult:
    try:
        return ActionResult(int(result))
    except ValueError:
        return ActionResult.OTHER_REASON


def _run_action(target: ObjectContext, service: int, index: int, parameter: Data) -> None:
    if service == 1:
        adef = target.cls.attribute(index)
        if adef is None:
            raise ActionFailure(ActionResult.OBJECT_UNDEFINED, f"no attribute {index}")
        try:  # the write checks type and range, as a client's SET does
            target.write(index, parameter)
        except AccessFailure as exc:
            raise ActionFailure(_as_action_result(exc.result), str(exc)) from None
        return
    mdef = target.cls.method(index)
    if mdef is None or mdef.impl is None:
        raise ActionFailure(ActionResult.OBJECT_UNAVAILABLE, f"no method {index}")
    if mdef.parameter is not None and not mdef.parameter.accepts(parameter):
        raise ActionFailure(ActionResult.TYPE_UNMATCHED, f"method {index} takes {mdef.parameter}")
    target.invoke(index, parameter)


def _execute(ctx: ObjectContext, parameter: Data | None) -> None:
    """Run one script: every target object must exist before anything runs; then the actions
    run in order and the first refused one stops the script with its own result."""
    assert parameter is not None
    script_id = parameter.value
    if script_id == 0:  # the null script
        return None
    script = next((s for s in _items(ctx.get(2)) if s.value[0].value == script_id), None)
    if script is None:
        raise ActionFailure(ActionResult.OTHER_REASON, f"no script {script_id}")
    actions = []
    for spec in script.value[1].value:
        service, class_id, ln, index, param = (f.value for f in spec.value)
        target = ctx.find(Obis(ln), class_id) if len(ln) == 6 else None
        if target is None:
            raise ActionFailure(ActionResult.OBJECT_UNDEFINED, f"script {script_id} names a missing object")
        actions.append((target, service, index, spec.value[4]))
    run = ctx.effect(ScriptRun)
    depth = 0 if run is None else run.depth
    if depth >= _MAX_SCRIPT_DEPTH:
        raise ActionFailure(ActionResult.TEMPORARY_FAILURE, "scripts nested too deeply")
    ctx.change(ScriptRun).depth = depth + 1
    try:
        for target, service, index, param in actions:
            _run_action(target, service, index, param)
    finally:
        if depth:
            ctx.change(ScriptRun).depth = depth
        else:
            ctx.forget(ScriptRun)
    return None


def execute_script(ctx: ObjectContext, script_table: bytes, selector: int) -> None:
    """Run script `selector` of the script table named `script_table` (ActionFailure if refused)."""
    table = ctx.find(Obis(script_table), SCRIPT_TABLE_CLASS_ID) if len(script_table) == 6 else None
    if table is None:
        raise ActionFailure(ActionResult.OBJECT_UNDEFINED, "no such script table")
    table.invoke(1, Data(DataType.LONG_UNSIGNED, selector))


def run_action_item(ctx: ObjectContext, item: Data) -> bool:
    """Run an action_item {script_logical_name, script_selector}; False if it could not run.

    Used by monitors and schedules, which have no requester to report a failure to.
    """
    if item.type != DataType.STRUCTURE or len(item.value) != 2:
        return False
    ln, selector = item.value[0].value, item.value[1].value
    if not isinstance(ln, bytes) or not isinstance(selector, int):
        return False
    try:
        execute_script(ctx, ln, selector)
    except (ActionFailure, AccessFailure):
        return False
    return True


ACTION_ITEM = Struct((("script_logical_name", OBIS), ("script_selector", LONG_UNSIGNED)))
ACTION_SPECIFICATION = Struct((
    ("service_id", Enum(((1, "write_attribute"), (2, "execute_specific_method")), open=False)),
    ("class_id", LONG_UNSIGNED), ("logical_name", OBIS), ("index", INTEGER), ("parameter", ANY),
))
SCRIPT = Struct((("script_identifier", LONG_UNSIGNED), ("actions", Array(ACTION_SPECIFICATION))))

SCRIPT_TABLE = interface_class(9, 0, "Script table", [
    attribute(2, "scripts", Array(SCRIPT)),
], [
    method(1, "execute", LONG_UNSIGNED, impl=_execute),
], sn_method_offset=0x20)


# --------------------------------------------------------------------------- index-keyed tables

def _replace_entry(ctx: ObjectContext, attr: int, entry: Data, same: Iterable[int] = (0,)) -> None:
    """Insert `entry`, dropping entries equal to it in any of the `same` fields; keep index order."""
    keep = [e for e in _items(ctx.get(attr))
            if not any(e.value[i] == entry.value[i] for i in same)]
    keep.append(entry)
    keep.sort(key=lambda e: e.value[0].value)
    ctx.set(attr, Data(DataType.ARRAY, tuple(keep)))


def _in_range(index: int, first: int, last: int) -> bool:
    return first != 0 and first <= index <= last


# --------------------------------------------------------------------------- Schedule (10)

def _enable_disable(ctx: ObjectContext, parameter: Data | None) -> None:
    """Entries firstIndexA..lastIndexA are enabled, then firstIndexB..lastIndexB disabled.

    A range starting at 0 selects nothing, so (i, i, 0, 0) enables one entry and (0, 0, i, i)
    disables it; where the ranges overlap, disable wins.
    """
    assert parameter is not None
    first_a, last_a, first_b, last_b = (f.value for f in parameter.value)
    entries = []
    for e in _items(ctx.get(2)):
        fields = list(e.value)
        index = fields[0].value
        if _in_range(index, first_a, last_a):
            fields[1] = Data(DataType.BOOLEAN, True)
        if _in_range(index, first_b, last_b):
            fields[1] = Data(DataType.BOOLEAN, False)
        entries.append(Data(DataType.STRUCTURE, tuple(fields)))
    ctx.set(2, Data(DataType.ARRAY, tuple(entries)))


def _schedule_insert(ctx: ObjectContext, parameter: Data | None) -> None:
    """Insert an entry; one with the same index is overwritten."""
    assert parameter is not None
    if parameter.value[0].value == 0:
        raise ActionFailure(ActionResult.OTHER_REASON, "schedule entry index 0 is not allowed")
    _replace_entry(ctx, 2, parameter)


def _schedule_delete(ctx: ObjectContext, parameter: Data | None) -> None:
    """Delete entries firstIndex..lastIndex (an empty range deletes nothing)."""
    assert parameter is not None
    first, last = (f.value for f in parameter.value)
    keep = tuple(e for e in _items(ctx.get(2)) if not _in_range(e.value[0].value, first, last))
    ctx.set(2, Data(DataType.ARRAY, keep))


SCHEDULE_TABLE_ENTRY = Struct((
    ("index", LONG_UNSIGNED), ("enable", BOOLEAN), ("script_logical_name", OBIS),
    ("script_selector", LONG_UNSIGNED), ("switch_time", TIME), ("validity_window", LONG_UNSIGNED),
    ("exec_weekdays", BIT_STRING), ("exec_specdays", BIT_STRING), ("begin_date", DATE), ("end_date", DATE),
))
_INDEX_RANGE = Struct((("first_index", LONG_UNSIGNED), ("last_index", LONG_UNSIGNED)))

SCHEDULE = interface_class(10, 0, "Schedule", [
    attribute(2, "entries", Array(SCHEDULE_TABLE_ENTRY)),
], [
    method(1, "enable_disable", Struct((
        ("first_index_a", LONG_UNSIGNED), ("last_index_a", LONG_UNSIGNED),
        ("first_index_b", LONG_UNSIGNED), ("last_index_b", LONG_UNSIGNED))), impl=_enable_disable),
    method(2, "insert", SCHEDULE_TABLE_ENTRY, impl=_schedule_insert),
    method(3, "delete", _INDEX_RANGE, impl=_schedule_delete),
])


# --------------------------------------------------------------------------- Special days table (11)

def _valid_date_pattern(raw: bytes) -> bool:
    """A date that may repeat (wildcards, last days of month) but whose fields are in range."""
    try:
        d = CosemDate.from_bytes(raw)
    except DecodeError:
        return False
    return ((d.month is None or 1 <= d.month <= 12 or d.month in (0xFD, 0xFE))
            and (d.day is None or 1 <= d.day <= 31 or d.day in (0xFD, 0xFE))
            and (d.day_of_week is None or 1 <= d.day_of_week <= 7))


def _special_day_insert(ctx: ObjectContext, parameter: Data | None) -> None:
    """Insert a special day; an entry with the same index or the same date is overwritten."""
    assert parameter is not None
    if parameter.value[1].type != DataType.OCTET_STRING or not _valid_date_pattern(parameter.value[1].value):
        raise ActionFailure(ActionResult.OTHER_REASON, "specialday_date is not a valid date")
    _replace_entry(ctx, 2, parameter, same=(0, 1))


def _special_day_delete(ctx: ObjectContext, parameter: Data | None) -> None:
    """Delete the special day with this index (deleting an absent one changes nothing)."""
    assert parameter is not None
    keep = tuple(e for e in _items(ctx.get(2)) if e.value[0].value != parameter.value)
    ctx.set(2, Data(DataType.ARRAY, keep))


SPEC_DAY_ENTRY = Struct((("index", LONG_UNSIGNED), ("specialday_date", DATE), ("day_id", UNSIGNED)))

SPECIAL_DAYS_TABLE = interface_class(11, 0, "Special days table", [
    attribute(2, "entries", Array(SPEC_DAY_ENTRY)),
], [
    method(1, "insert", SPEC_DAY_ENTRY, impl=_special_day_insert),
    method(2, "delete", LONG_UNSIGNED, impl=_special_day_delete),
], sn_method_offset=0x10)


# --------------------------------------------------------------------------- Activity calendar (20)

def _activate(ctx: ObjectContext, at: float) -> CalendarActivation:
    """Copy the passive calendar (attributes 6..9) over the active one (2..5), keeping the
    replaced tables and the meter epoch `at` for the tariffs of the time before."""
    done = ctx.change(CalendarActivation)
    done.at, done.previous = at, (ctx.get(3), ctx.get(4), ctx.get(5))
    for active in range(2, 6):
        ctx.set(active, ctx.get(active + 4))
    return done


def _activate_passive(ctx: ObjectContext, parameter: Data | None) -> None:
    _activate(ctx, ctx.clock.epoch())
    return None


def calendar_activation_time(ctx: ObjectContext) -> float | None:
    """The meter epoch at which the passive calendar is still to be activated (None: not due
    ever: unspecified fields disable the automatism, or that time was already acted on)."""
    raw = ctx.get(10)
    cdt = date_time_of(raw)
    when = None if cdt is None else to_utc(ctx, cdt)
    done = ctx.effect(CalendarActivation)
    if when is None or (done is not None and done.activated == raw):
        return None
    return when.timestamp()


def activate_calendar_if_due(ctx: ObjectContext) -> bool:
    """Activate the passive calendar once the meter's time reaches activate_passive_calendar_time.

    Returns True when it activated.
    """
    when = calendar_activation_time(ctx)
    if when is None or ctx.clock.epoch() < when:
        return False
    _activate(ctx, when).activated = ctx.get(10)
    return True


def _set_activation_time(ctx: ObjectContext, value: Data) -> None:
    ctx.set(10, value)
    forget_due(ctx)


SEASON = Struct((("season_profile_name", OCTET_STRING), ("season_start", DATE_TIME), ("week_name", OCTET_STRING)))
WEEK_PROFILE = Struct((("week_profile_name", OCTET_STRING),
                       *((day, UNSIGNED) for day in ("monday", "tuesday", "wednesday", "thursday",
                                                     "friday", "saturday", "sunday"))))
DAY_PROFILE_ACTION = Struct((("start_time", TIME), ("script_logical_name", OBIS),
                             ("script_selector", LONG_UNSIGNED)))
DAY_PROFILE = Struct((("day_id", UNSIGNED), ("day_schedule", Array(DAY_PROFILE_ACTION))))

ACTIVITY_CALENDAR = interface_class(20, 0, "Activity calendar", [
    attribute(2, "calendar_name_active", OCTET_STRING),
    attribute(3, "season_profile_active", Array(SEASON)),
    attribute(4, "week_profile_table_active", Array(WEEK_PROFILE)),
    attribute(5, "day_profile_table_active", Array(DAY_PROFILE)),
    attribute(6, "calendar_name_passive", OCTET_STRING),
    attribute(7, "season_profile_passive", Array(SEASON)),
    attribute(8, "week_profile_table_passive", Array(WEEK_PROFILE)),
    attribute(9, "day_profile_table_passive", Array(DAY_PROFILE)),
    attribute(10, "activate_passive_calendar_time", DATE_TIME, setter=_set_activation_time),
], [
    method(1, "activate_passive_calendar", INTEGER, impl=_activate_passive),
], sn_method_offset=0x50)


# --------------------------------------------------------------------------- Single action schedule (22)

EXECUTION_TIME_DATE = Struct((("time", TIME), ("date", DATE)))
SAS_TYPE = Enum(((1, "size_1_wildcard_date"), (2, "size_n_same_time_wildcard_date"),
                 (3, "size_n_same_time_no_wildcard_date"), (4, "size_n_any_time_wildcard_date"),
                 (5, "size_n_any_time_no_wildcard_date")), open=False)


def _execution_times(value: Data) -> list[tuple[CosemTime, CosemDate]] | None:
    out = []
    for entry in _items(value):
        t, d = entry.value
        if t.type != DataType.OCTET_STRING or d.type != DataType.OCTET_STRING:
            return None
        try:
            out.append((CosemTime.from_bytes(t.value), CosemDate.from_bytes(d.value)))
        except DecodeError:
            return None
    return out


def _check_type(kind: int, value: Data) -> None:
    """Refuse an execution_time list the schedule's type does not allow."""
    times = _execution_times(value)
    if times is None:
        raise AccessFailure(DataAccessResult.TYPE_UNMATCHED, "execution_time needs octet-string time and date")
    if kind == 1 and len(times) > 1:
        raise AccessFailure(DataAccessResult.OTHER_REASON, "type 1 allows one execution time")
    if kind in (2, 3) and len({t for t, _ in times}) > 1:
        raise AccessFailure(DataAccessResult.OTHER_REASON, f"type {kind} needs equal time values")
    if kind in (3, 5) and any(d.year is None or d.month is None or d.day is None or d.month > 12 or d.day > 31
                              for _, d in times):
        raise AccessFailure(DataAccessResult.OTHER_REASON, f"type {kind} allows no wildcards in dates")


def _set_sas_type(ctx: ObjectContext, value: Data) -> None:
    _check_type(value.value, ctx.get(4))
    ctx.set(3, value)
    forget_due(ctx)


def _set_execution_time(ctx: ObjectContext, value: Data) -> None:
    kind = ctx.get(3)
    if kind.type == DataType.ENUM:
        _check_type(kind.value, value)
    elif _execution_times(value) is None:
        raise AccessFailure(DataAccessResult.TYPE_UNMATCHED, "execution_time needs octet-string time and date")
    ctx.set(4, value)
    forget_due(ctx)


def date_matches(pattern: CosemDate, day: date) -> bool:
    """Every specified field matches; day 0xFE/0xFD is the last/second-last day of the month."""
    if pattern.year is not None and pattern.year != day.year:
        return False
    if pattern.month is not None and pattern.month != day.month:
        return False
    if pattern.day_of_week is not None and pattern.day_of_week != day.isoweekday():
        return False
    if pattern.day is None:
        return True
    last = calendar.monthrange(day.year, day.month)[1]
    if pattern.day in (0xFE, 0xFD):
        return day.day == last - (pattern.day == 0xFD)
    return pattern.day == day.day


def _instants(times: list[tuple[CosemTime, CosemDate]], start: datetime, end: datetime) -> list[datetime]:
    """Local naive instants in (start, end] that the execution times name."""
    found = []
    day = max(start.date(), end.date() - timedelta(days=_MAX_CATCH_UP_DAYS))
    while day <= end.date():
        for t, d in times:
            if t.hour is None or t.minute is None or t.hour > 23 or t.minute > 59:
                continue
            if (t.second or 0) > 59 or not date_matches(d, day):
                continue
            at = datetime(day.year, day.month, day.day, t.hour, t.minute, t.second or 0)
            if start < at <= end:
                found.append(at)
        day += timedelta(days=1)
    return sorted(found)


def local_to_epoch(ctx: ObjectContext, local: datetime) -> float:
    """The meter epoch at which the meter's clock shows naive `local` (the first of the two in
    the hour daylight saving ends; in the hour it skips, the instant shown an hour later)."""
    seconds = (local - _EPOCH).total_seconds()
    guess = local_now(ctx)[1]
    first = seconds + 60 * guess
    deviation = local_now(ctx.at(first))[1]
    if deviation == guess:
        return first
    second = seconds + 60 * deviation
    return second if local_now(ctx.at(second))[1] == deviation else max(first, second)


def _local(ctx: ObjectContext) -> datetime:
    return local_now(ctx)[0].replace(tzinfo=None)


def due_executions(ctx: ObjectContext) -> tuple[list[datetime], datetime]:
    """The execution times (naive local) passed since the last noted run (`note_run`), and
    the meter's local time now; the caller runs them (`run_due`).

    A living meter catches up from its installation until a run is noted; a static one has no
    history: until a run is noted, nothing is due.
    """
    local = _local(ctx)
    run = ctx.effect(ScheduleRun)
    last = None if run is None else run.last
    living = ctx.living
    if last is None and living is not None:
        last = _local(ctx.at(living.installed + ctx.clock.offset()))
    if last is None or local <= last:
        return [], local
    return _instants(_execution_times(ctx.get(4)) or [], last, local), local


def note_run(ctx: ObjectContext, local: datetime) -> None:
    """Note that the schedule ran everything due up to naive local time `local`."""
    run = ctx.effect(ScheduleRun)
    if run is None or run.last != local:
        ctx.change(ScheduleRun).last = local


def next_execution(ctx: ObjectContext) -> datetime | None:
    """The first execution time (naive local) after the meter's time now; None within 400 days."""
    times = _execution_times(ctx.get(4)) or []
    local = _local(ctx)
    for days in (2, 32, _MAX_CATCH_UP_DAYS):
        found = _instants(times, local, local + timedelta(days=days))
        if found:
            return found[0]
    return None


def executions_between(ctx: ObjectContext, start: datetime, end: datetime) -> list[datetime]:
    """A single action schedule's execution times (naive local) in (start, end], within the
    400 days before `end` (a living meter's billing rows, simulator/cosem/profile_history.py)."""
    return _instants(_execution_times(ctx.get(4)) or [], start, end)


def _computed_lazily(ctx: ObjectContext, spec: Data) -> bool:
    """A capture of a Profile generic without a capture period: a living meter computes those
    rows from the schedules' execution times (simulator/cosem/profile.py), so running the
    action again would capture twice."""
    service, class_id, ln, index, _ = (f.value for f in spec.value)
    if (service, class_id, index) != (2, _PROFILE_GENERIC, _CAPTURE) or not isinstance(ln, bytes) or len(ln) != 6:
        return False
    profile = ctx.find(Obis(ln), _PROFILE_GENERIC)
    return profile is not None and profile.get(4) == Data(DataType.DOUBLE_LONG_UNSIGNED, 0)


def computed_lazily(ctx: ObjectContext, item: Data) -> bool:
    """Whether every action of the script an action_item names is computed from time on this
    living meter (`_computed_lazily`): running it at its time would change nothing."""
    if ctx.living is None or item.type != DataType.STRUCTURE or len(item.value) != 2:
        return False
    ln = item.value[0].value
    table = ctx.find(Obis(ln), SCRIPT_TABLE_CLASS_ID) if isinstance(ln, bytes) and len(ln) == 6 else None
    script = None if table is None else next(
        (s for s in _items(table.get(2)) if s.value[0].value == item.value[1].value), None)
    return script is not None and all(_computed_lazily(ctx, spec) for spec in script.value[1].value)


def run_due(ctx: ObjectContext, item: Data) -> bool:
    """Run a schedule's action_item as the meter does when its time comes; False if refused.

    On a living meter the actions whose effect is computed from time are left out
    (`_computed_lazily`); what remains runs in order, the first refused action ending it.
    """
    table = None
    if ctx.living is not None and item.type == DataType.STRUCTURE and len(item.value) == 2:
        ln = item.value[0].value
        table = ctx.find(Obis(ln), SCRIPT_TABLE_CLASS_ID) if isinstance(ln, bytes) and len(ln) == 6 else None
    script = None if table is None else next(
        (s for s in _items(table.get(2)) if s.value[0].value == item.value[1].value), None)
    if table is None or script is None:
        return run_action_item(ctx, item)
    specs = script.value[1].value
    lazy = [_computed_lazily(ctx, spec) for spec in specs]
    if not any(lazy):
        return run_action_item(ctx, item)
    for spec, skip in zip(specs, lazy):
        if skip:
            continue
        _, class_id, ln, index, _ = (f.value for f in spec.value)
        target = ctx.find(Obis(ln), class_id) if isinstance(ln, bytes) and len(ln) == 6 else None
        try:
            if target is None:
                return False
            _run_action(target, spec.value[0].value, index, spec.value[4])
        except (ActionFailure, AccessFailure):
            return False
    return True


def run_single_action_schedule(ctx: ObjectContext) -> int:
    """Run executed_script at each execution time passed since the previous call, as of that
    time (its effects carry that time). Returns how many were due; a refused script counts."""
    due, local = due_executions(ctx)
    note_run(ctx, local)
    script = ctx.get(2)
    for at in due:
        run_due(ctx.at(local_to_epoch(ctx, at)), script)
    return len(due)


def forget_due(ctx: ObjectContext) -> None:
    """A schedule's time changed: the meter works out again when its next one falls due."""
    living = ctx.living
    if living is not None:
        living.cache.pop(DUE_KEY, None)
        living.cache.pop(QUIET_KEY, None)


SINGLE_ACTION_SCHEDULE = interface_class(22, 0, "Single action schedule", [
    attribute(2, "executed_script", ACTION_ITEM),
    attribute(3, "type", SAS_TYPE, setter=_set_sas_type),
    attribute(4, "execution_time", Array(EXECUTION_TIME_DATE), setter=_set_execution_time),
])

CLASSES = (SCRIPT_TABLE, SCHEDULE, SPECIAL_DAYS_TABLE, ACTIVITY_CALENDAR, SINGLE_ACTION_SCHEDULE)
