"""Which tariff is in force at any instant, computed from the Activity calendar when asked.

A real meter runs its calendar's day actions at their switch times and the scripts they name
write the "currently active tariff" (0.0.96.14.0.255); the tariff registers integrate while
their tariff is in force. Here nothing runs by itself: `tariff_windows(ctx, t0, t1)` answers
which tariff held over any range of fleet time, from the calendar (class 20, 0.0.13.0.0.255):

- the season in force at a local date-time is the one whose season_start (wildcards resolved
  in that year, else the year before) is the latest not after it; its week profile gives the
  day_id per weekday, unless the Special days table (class 11, 0.0.11.0.0.255) lists the date,
  whose day_id then overrides it;
- a day profile's actions switch at their start_time; before a day's first switch the last
  action of the previous day's profile is still in force (tariff 1 when none);
- the tariff an action selects is the value its script writes to 0.0.96.14.0.255 when it does,
  else the script selector;
- the passive calendar takes over at activate_passive_calendar_time. Once a meter activated it
  (the schedule's catch-up, or a client's activate_passive_calendar), the calendar it replaced
  is kept in the CalendarActivation effect with the instant, so the past keeps its tariffs.

Switch times are the meter's local time as its Clock shows it (time zone and daylight saving,
simulator/cosem/clock.py), so a day is 23 or 25 hours long when daylight saving begins or ends.

Cost: the calendar is parsed once per distinct set of calendar values (meters of a type share
the model's, so one parse serves them all), each local day's switches are computed once per
(calendar, clock rules, date) in bounded module-level caches, and a meter keeps the day it
last answered in `ctx.living.cache`: a query inside one day computes that day only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..axdr import CosemDate, CosemTime, Data, DataType, Obis
from ..errors import DecodeError
from ..state.effects import CalendarActivation
from .clock import NOT_SPECIFIED, date_time_of, local_now, resolve_pattern, to_utc
from .context import ObjectContext
from .schedule import date_matches, local_to_epoch

__all__ = ["CALENDAR_LN", "SPECIAL_DAYS_LN", "ACTIVE_TARIFF_LN", "tariff_windows", "tariff_at"]

CALENDAR_LN = Obis("0.0.13.0.0.255")
SPECIAL_DAYS_LN = Obis("0.0.11.0.0.255")
ACTIVE_TARIFF_LN = Obis("0.0.96.14.0.255")
_CALENDAR, _SPECIAL_DAYS, _SCRIPT_TABLE, _DATA, _CLOCK = 20, 11, 9, 1, 8
_CLOCK_LN = Obis("0.0.1.0.0.255")
_CLOCK_RULES = (3, 5, 6, 7, 8)  # time_zone, daylight saving begin/end/deviation/enabled
_WRITE_ATTRIBUTE = 1
_DEFAULT_TARIFF = 1
_EPOCH = datetime(1970, 1, 1)
_CACHE_MAX = 4096  # entries of each module-level cache; emptied when full
_METER_KEY = "tariff"  # this module's entry in ctx.living.cache

Switch = tuple[int, int]  # (seconds after local midnight, tariff)


@dataclass(frozen=True, slots=True, eq=False)
class _Calendar:
    """One set of calendar tables (active, passive or a replaced one), parsed."""

    seasons: tuple[tuple[Any, bytes], ...]  # (season_start CosemDateTime, week name), model order
    weeks: dict[bytes, tuple[int, ...]]  # week name -> day_id Monday..Sunday
    days: dict[int, tuple[Switch, ...]]  # day_id -> switches by start time

    def season_week(self, when: datetime) -> tuple[int, ...] | None:
        """The week profile of the season in force at local `when`."""
        best: tuple[datetime, bytes] | None = None
        for start, week in self.seasons:
            for year in (when.year, when.year - 1):
                at = resolve_pattern(start, year)
                if at is not None and at <= when and (best is None or at > best[0]):
                    best = (at, week)
                    break
        if best is None and self.seasons:  # every season starts later: the first one holds
            best = (when, self.seasons[0][1])
        return None if best is None else self.weeks.get(best[1])

    def season_starts(self, day: date) -> list[int]:
        """Seconds after local midnight of `day` at which a season starts (not at midnight)."""
        found = []
        for start, _ in self.seasons:
            at = resolve_pattern(start, day.year)
            if at is not None and at.date() == day and at.time() != datetime.min.time():
                found.append(at.hour * 3600 + at.minute * 60 + at.second)
        return found


@dataclass(frozen=True, slots=True, eq=False)
class _Plan:
    """Everything that decides the tariff, parsed: calendar versions by the meter epoch they
    start at, and the special days."""

    regimes: tuple[tuple[float, _Calendar], ...]  # (from meter epoch, calendar), ascending
    special: tuple[tuple[CosemDate, int], ...]

    def calendar_at(self, meter_epoch: float) -> _Calendar:
        found = self.regimes[0][1]
        for start, cal in self.regimes:
            if start <= meter_epoch:
                found = cal
        return found

    def day_id(self, cal: _Calendar, when: datetime) -> int | None:
        day = when.date()
        for pattern, day_id in self.special:
            if date_matches(pattern, day):
                return day_id
        week = cal.season_week(when)
        return None if week is None or len(week) != 7 else week[day.weekday()]

    def switches(self, cal: _Calendar, when: datetime) -> tuple[Switch, ...]:
        day_id = self.day_id(cal, when)
        return () if day_id is None else cal.days.get(day_id, ())


@dataclass(slots=True)
class _MeterCache:
    """What one meter last used: the values its plan came from and the day it last answered."""

    revision: int  # the meter's state revision these were checked at
    values: tuple[Any, ...]  # the calendar's and special days' values
    names: tuple[bytes, ...]  # the script tables the day profiles name
    scripts: tuple[Data | None, ...]  # their scripts
    rules: tuple[Any, ...]  # the clock's local-time rules
    plan: _Plan
    day: tuple[float, float, tuple[tuple[float, int], ...]] | None = None  # meter epochs


# ------------------------------------------------------------------------------------ reading

def _items(value: Data | None) -> tuple[Data, ...]:
    return value.value if value is not None and value.type == DataType.ARRAY else ()


def _octets(value: Data) -> bytes | None:
    return value.value if value.type == DataType.OCTET_STRING else None


def _time_of_day(raw: Data) -> int | None:
    octets = _octets(raw)
    try:
        t = CosemTime.from_bytes(octets) if octets is not None else raw.value if raw.type == DataType.TIME else None
    except DecodeError:
        return None
    if not isinstance(t, CosemTime) or t.hour is None or t.hour > 23 or (t.minute or 0) > 59 or (t.second or 0) > 59:
        return None
    return t.hour * 3600 + (t.minute or 0) * 60 + (t.second or 0)


def _script_tariff(ctx: ObjectContext, table: bytes, selector: int, memo: dict[tuple[bytes, int], int]) -> int:
    """The tariff a day action selects: what its script writes to the active tariff object, else the selector."""
    key = (table, selector)
    if key not in memo:
        memo[key] = selector
        obj = ctx.find(Obis(table), _SCRIPT_TABLE) if len(table) == 6 else None
        for script in _items(None if obj is None else obj.get(2)):
            if script.value[0].value != selector:
                continue
            for spec in _items(script.value[1]):
                service, _, ln, index, parameter = spec.value
                if (service.value == _WRITE_ATTRIBUTE and ln.value == bytes(ACTIVE_TARIFF_LN) and index.value == 2
                        and isinstance(parameter.value, int) and not isinstance(parameter.value, bool)):
                    memo[key] = parameter.value
                    break
            break
    return memo[key]


def _parse_calendar(ctx: ObjectContext, seasons: Data, weeks: Data, days: Data,
                    memo: dict[tuple[bytes, int], int]) -> _Calendar:
    parsed_seasons = []
    for season in _items(seasons):
        start = date_time_of(season.value[1])
        week_name = _octets(season.value[2])
        if start is not None and week_name is not None:
            parsed_seasons.append((start, week_name))
    parsed_weeks = {}
    for week in _items(weeks):
        name = _octets(week.value[0])
        if name is not None:
            parsed_weeks[name] = tuple(d.value for d in week.value[1:])
    parsed_days: dict[int, tuple[Switch, ...]] = {}
    for day in _items(days):
        switches = []
        for act in _items(day.value[1]):
            at = _time_of_day(act.value[0])
            table = _octets(act.value[1])
            if at is not None and table is not None and isinstance(act.value[2].value, int):
                switches.append((at, _script_tariff(ctx, table, act.value[2].value, memo)))
        parsed_days[day.value[0].value] = tuple(sorted(switches, key=lambda s: s[0]))
    return _Calendar(tuple(parsed_seasons), parsed_weeks, parsed_days)


def _scripts_named(*tables: Data | None) -> tuple[bytes, ...]:
    """The script tables the day profiles name, in a stable order."""
    names = set()
    for days in tables:
        for day in _items(days):
            for act in _items(day.value[1]):
                name = _octets(act.value[1])
                if name is not None and len(name) == 6:
                    names.add(name)
    return tuple(sorted(names))


def _calendar_values(ctx: ObjectContext, cal: ObjectContext) -> tuple[Any, ...]:
    """The calendar's and the special days' values as stored (the same objects while unchanged)."""
    special = ctx.find(SPECIAL_DAYS_LN, _SPECIAL_DAYS)
    done = cal.effect(CalendarActivation)
    return (*(cal.stored(i) for i in range(3, 11)), None if special is None else special.stored(2),
            None if done is None else (done.activated, done.at, *done.previous))


def _script_values(ctx: ObjectContext, names: tuple[bytes, ...]) -> tuple[Data | None, ...]:
    tables = (ctx.find(Obis(n), _SCRIPT_TABLE) for n in names)
    return tuple(None if t is None else t.stored(2) for t in tables)


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(x is y or x == y for x, y in zip(a, b))


_PLANS: dict[tuple[Any, ...], _Plan] = {}


def _plan(ctx: ObjectContext, cal: ObjectContext, values: tuple[Any, ...]) -> _Plan:
    plan = _PLANS.get(values)
    if plan is not None:
        return plan
    memo: dict[tuple[bytes, int], int] = {}
    active = _parse_calendar(ctx, cal.get(3), cal.get(4), cal.get(5), memo)
    regimes: list[tuple[float, _Calendar]] = [(float("-inf"), active)]
    done = cal.effect(CalendarActivation)
    if done is not None and done.at is not None and len(done.previous) == 3:
        regimes = [(float("-inf"), _parse_calendar(ctx, *done.previous, memo)), (done.at, active)]
    pending = cal.get(10)
    cdt = date_time_of(pending)
    when = None if cdt is None or (done is not None and done.activated == pending) else to_utc(cal, cdt)
    if when is not None and when.timestamp() > regimes[-1][0]:
        regimes.append((when.timestamp(), _parse_calendar(ctx, cal.get(7), cal.get(8), cal.get(9), memo)))
    special = ctx.find(SPECIAL_DAYS_LN, _SPECIAL_DAYS)
    days = []
    for entry in _items(None if special is None else special.get(2)):
        raw = _octets(entry.value[1])
        try:
            days.append((CosemDate.from_bytes(raw or b""), entry.value[2].value, entry.value[0].value))
        except DecodeError:
            continue
    days.sort(key=lambda d: d[2])
    plan = _Plan(tuple(regimes), tuple((d, i) for d, i, _ in days))
    if len(_PLANS) >= _CACHE_MAX:
        _PLANS.clear()
    _PLANS[values] = plan
    return plan


# ------------------------------------------------------------------------------------ local days

def _clock_of(ctx: ObjectContext) -> ObjectContext:
    found = ctx.find(_CLOCK_LN, _CLOCK)
    return found if found is not None else ctx


def _deviation(clock: ObjectContext, meter_epoch: float) -> int:
    """Minutes of UTC minus local time at `meter_epoch`, as the meter's Clock shows it."""
    return local_now(clock.at(meter_epoch))[1]


def _local_seconds(clock: ObjectContext, meter_epoch: float) -> float:
    """The local calendar at `meter_epoch`, as seconds since 1970-01-01 read as if it were UTC."""
    return meter_epoch - 60 * _deviation(clock, meter_epoch)


_DAYS: dict[tuple[Any, ...], tuple[float, float, tuple[tuple[float, int], ...]]] = {}


def _day(plan: _Plan, clock: ObjectContext, rules: tuple[Any, ...], day: date
         ) -> tuple[float, float, tuple[tuple[float, int], ...]]:
    """Local `day` as meter epochs [start, end) with its windows' (start, tariff), computed once
    per (plan, clock rules, day)."""
    key = (plan, rules, day)
    cached = _DAYS.get(key)
    if cached is not None:
        return cached
    midnight = datetime(day.year, day.month, day.day)
    start = local_to_epoch(clock, midnight)
    end = local_to_epoch(clock, midnight + timedelta(days=1))
    # The day is cut where the calendar version or the season changes within it.
    cuts = {0}
    for at, _ in plan.regimes[1:]:
        if start < at < end:
            cuts.add(int(_local_seconds(clock, at) - (midnight - _EPOCH).total_seconds()))
    for _, cal in plan.regimes:
        cuts.update(cal.season_starts(day))
    before = plan.switches(plan.calendar_at(start - 1), midnight - timedelta(days=1))
    tariff = before[-1][1] if before else _DEFAULT_TARIFF
    changes: list[tuple[int, int]] = []
    bounds = sorted(c for c in cuts if 0 <= c < 86400)
    for i, cut in enumerate(bounds):
        upto = bounds[i + 1] if i + 1 < len(bounds) else 86400
        when = midnight + timedelta(seconds=cut)
        switches = plan.switches(plan.calendar_at(local_to_epoch(clock, when)), when)
        in_force = [t for s, t in switches if s <= cut]
        if in_force:
            tariff = in_force[-1]
        changes.append((cut, tariff))
        changes.extend((s, t) for s, t in switches if cut < s < upto)
    windows: list[tuple[float, int]] = []
    for seconds, tariff in changes:
        at = start if seconds == 0 else min(max(local_to_epoch(clock, midnight + timedelta(seconds=seconds)), start), end)
        if windows and at <= windows[-1][0]:
            windows[-1] = (windows[-1][0], tariff)  # two switches at one instant: the later one holds
        elif not windows or windows[-1][1] != tariff:
            windows.append((at, tariff))
    result = (start, end, tuple(windows))
    if len(_DAYS) >= _CACHE_MAX:
        _DAYS.clear()
    _DAYS[key] = result
    return result


def _rules(clock: ObjectContext) -> tuple[Any, ...]:
    """The clock's local-time rules; without a time zone, the meter's configured offset."""
    rules: tuple[Any, ...] = tuple(clock.stored(i) for i in _CLOCK_RULES)
    zone = rules[0]
    if zone is None or zone.type != DataType.LONG or zone.value == NOT_SPECIFIED:
        rules += (clock.clock.local_time().utcoffset(),)
    return rules


# ------------------------------------------------------------------------------------ queries

def _meter_cache(ctx: ObjectContext) -> _MeterCache | None:
    """This meter's plan and last day, rebuilt when a value they depend on changed (None: the
    meter has no activity calendar)."""
    living = ctx.living
    cache = None if living is None else living.cache.get(_METER_KEY)
    revision = ctx.revision
    if isinstance(cache, _MeterCache) and cache.revision == revision:
        return cache
    cal = ctx.find(CALENDAR_LN, _CALENDAR)
    if cal is None:
        return None
    values = _calendar_values(ctx, cal)
    rules = _rules(_clock_of(ctx))
    if (isinstance(cache, _MeterCache) and _same(cache.values, values) and _same(cache.rules, rules)
            and _same(cache.scripts, _script_values(ctx, cache.names))):
        cache.revision = revision
        return cache
    done = values[-1]
    names = _scripts_named(cal.stored(5), cal.stored(9), done[4] if done is not None and len(done) == 5 else None)
    scripts = _script_values(ctx, names)
    cache = _MeterCache(revision, values, names, scripts, rules, _plan(ctx, cal, (*values, *scripts)))
    if living is not None:
        living.cache[_METER_KEY] = cache
    return cache


def _day_of(cache: _MeterCache, clock: ObjectContext, at: float) -> tuple[float, float, tuple[tuple[float, int], ...]]:
    """The local day holding meter epoch `at`."""
    deviation = _deviation(clock, at)
    local = (_EPOCH + timedelta(seconds=at - 60 * deviation)).date()
    day = _day(cache.plan, clock, cache.rules, local)
    while at < day[0]:  # the edges of a day whose midnight daylight saving moves
        local -= timedelta(days=1)
        day = _day(cache.plan, clock, cache.rules, local)
    while at >= day[1]:
        local += timedelta(days=1)
        day = _day(cache.plan, clock, cache.rules, local)
    return day


def tariff_windows(ctx: ObjectContext, t0: float, t1: float) -> list[tuple[float, float, int]]:
    """The consecutive (start, end, tariff) intervals covering fleet epochs [t0, t1).

    A meter without an activity calendar is always in tariff 1. Fleet epochs in and out: the
    meter's clock offset moves its switch times against the fleet's time.
    """
    if t1 <= t0:
        return []
    cache = _meter_cache(ctx)
    if cache is None:
        return [(t0, t1, _DEFAULT_TARIFF)]
    offset = ctx.clock.offset()
    m0, m1 = t0 + offset, t1 + offset
    out: list[tuple[float, float, int]] = []
    at = m0
    while at < m1:
        day = cache.day
        if day is None or not day[0] <= at < day[1]:
            cache.day = day = _day_of(cache, _clock_of(ctx), at)
        start, end, windows = day
        for i, (w_start, tariff) in enumerate(windows):
            w_end = windows[i + 1][0] if i + 1 < len(windows) else end
            lo, hi = max(w_start, at), min(w_end, m1)
            if lo >= hi:
                continue
            if out and out[-1][2] == tariff and out[-1][1] == lo - offset:
                out[-1] = (out[-1][0], hi - offset, tariff)
            else:
                out.append((lo - offset, hi - offset, tariff))
        at = end
    return out


def tariff_at(ctx: ObjectContext, fleet_epoch: float) -> int:
    """The tariff in force at `fleet_epoch` (1 without an activity calendar)."""
    windows = tariff_windows(ctx, fleet_epoch, fleet_epoch + 1e-3)
    return windows[0][2] if windows else _DEFAULT_TARIFF
