"""Clock (8): the meter's time, time zone, daylight saving and the adjust methods.

The meter's clock is `ctx.clock` (UTC derived from `now` plus the meter's own offset, which
SET time and the adjust methods move with `ctx.clock.shift`). The Clock object decides how
that instant is shown: local time = UTC - deviation, where deviation (minutes of UTC minus
local time, Blue Book 4.1.6.1) is `time_zone`, minus `daylight_savings_deviation` while
daylight saving is active. Without a `time_zone` in the model the meter's configured UTC
offset (Meter.utc_offset_min) is used, so both agree by default.

Other classes stamp times with `timestamp(ctx)` so every capture_time carries the same
deviation and status as the clock's `time`.
"""

from __future__ import annotations

import calendar
import math
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Callable

from ..apdu.common import ActionResult, DataAccessResult
from ..axdr import NULL, ClockStatus, CosemDateTime, Data, DataType, Obis
from ..errors import DecodeError
from ..living.events import History
from ..living.meter import history_of
from ..state.effects import ClockAdjustment
from .base import AccessFailure, ActionFailure, AttributeAccess, attribute, interface_class, method
from .context import ObjectContext
from .events import EventCode, log_event
from .types import BOOLEAN, DATE_TIME, DEVIATION, INTEGER, LONG, UNSIGNED, Enum, Simple, Struct

__all__ = [
    "CLASSES", "CLOCK", "CLOCK_LN", "meter_datetime", "timestamp", "to_utc", "date_time_of",
    "resolve_pattern", "local_now",
]

CLOCK_LN = Obis("0.0.1.0.0.255")
CLOCK_CLASS_ID = 8
# Measuring period 1 of averaging scheme 1 (OBIS 1.0.0.8.0.255), the period adjust_to_measuring_period uses.
MEASURING_PERIOD_LN = Obis("1.0.0.8.0.255")
_LAST_DAY, _SECOND_LAST_DAY = 0xFE, 0xFD
_SHIFT_LIMIT_S = 900
NOT_SPECIFIED = -0x8000  # time_zone 0x8000: the meter's configured offset applies
# The years a client may set the clock to: the clock keeps running, and Python's calendar
# (like a date-time's two-octet year) ends at 9999.
_SETTABLE_YEARS = range(1970, 9000)


# --------------------------------------------------------------------------- time arithmetic

def date_time_of(value: Data) -> CosemDateTime | None:
    """A date-time attribute as CosemDateTime (octet-string(12) or tagged), None if malformed."""
    if value.type == DataType.DATE_TIME:
        return value.value
    if value.type == DataType.OCTET_STRING and len(value.value) == CosemDateTime.SIZE:
        try:
            return CosemDateTime.from_bytes(value.value)
        except DecodeError:
            return None
    return None


def resolve_pattern(cdt: CosemDateTime, year: int) -> datetime | None:
    """The naive local instant a (possibly wildcarded) date-time names in `year`.

    Day 0xFE/0xFD is the last/second-last day of the month; with a day of week, the last such
    weekday on or before that day; a plain day with a day of week means the first such weekday
    on or after it (so 25 + Sunday is the last Sunday of a 31-day month). Unspecified time
    fields are zero. None when the pattern names no instant (unspecified month or day).
    """
    y = cdt.year if cdt.year is not None else year
    month = cdt.month
    if month is None or not 1 <= month <= 12 or not 1 <= y <= 9999:
        return None
    last = calendar.monthrange(y, month)[1]
    dow = cdt.day_of_week if cdt.day_of_week is not None and 1 <= cdt.day_of_week <= 7 else None
    if cdt.day in (_LAST_DAY, _SECOND_LAST_DAY):
        day = last if cdt.day == _LAST_DAY else last - 1
        if dow is not None:
            day -= (date(y, month, day).isoweekday() - dow) % 7
    elif cdt.day is None:
        if dow is None:
            return None
        day = 1 + (dow - date(y, month, 1).isoweekday()) % 7
    else:
        if not 1 <= cdt.day <= last:
            return None
        day = cdt.day
        if dow is not None:
            day += (dow - date(y, month, day).isoweekday()) % 7
            if day > last:
                return None
    try:
        return datetime(y, month, day, cdt.hour or 0, cdt.minute or 0, cdt.second or 0,
                        (cdt.hundredths or 0) * 10_000)
    except ValueError:
        return None


def _find_clock(ctx: ObjectContext) -> ObjectContext | None:
    if ctx.cls.class_id == CLOCK_CLASS_ID:
        return ctx
    found = ctx.find(CLOCK_LN, CLOCK_CLASS_ID)
    if found is not None:
        return found
    return next((o for o in ctx.objects() if o.cls.class_id == CLOCK_CLASS_ID), None)


def _time_zone(clock: ObjectContext, tz: Data | None) -> int:
    """Minutes of UTC minus local standard time; the meter's configured offset if the model has none."""
    if tz is not None and tz.type == DataType.LONG and tz.value != NOT_SPECIFIED:
        return tz.value
    offset = clock.clock.local_time().utcoffset()
    return -int(offset.total_seconds() // 60) if offset is not None else 0


_EPOCH = datetime(1970, 1, 1)


@lru_cache(maxsize=1024)
def _dst_period(begin: Data, end: Data, shift: int, year: int) -> tuple[float, float] | None:
    """Start and end of daylight saving in `year`, in seconds of local standard time since
    1970-01-01 (the local calendar read as if it were UTC).

    A pure function of the Clock's rule attributes, cached: those are shared model values
    (rarely changed by a client), so every read of every meter's time reuses one result
    instead of decoding and resolving both patterns again.
    """
    begin_cdt, end_cdt = date_time_of(begin), date_time_of(end)
    if begin_cdt is None or end_cdt is None:
        return None
    start = resolve_pattern(begin_cdt, year)
    stop = resolve_pattern(end_cdt, year)
    if start is None or stop is None:
        return None
    return (start - _EPOCH).total_seconds(), (stop - _EPOCH).total_seconds() - 60 * shift


class _Rules:
    """One set of a Clock's time-zone and daylight-saving attributes, and the daylight-saving
    period of the year last asked (a clock asks about the same year read after read).

    Shared by every meter whose Clock holds these very values (the model's, usually): it keeps
    them, so the `id`s that key `_RULES` stay theirs while it lives.
    """

    __slots__ = ("values", "tz_min", "shift", "_begin", "_end", "_from", "_to", "_period")

    def __init__(self, values: tuple[Data | None, ...], tz_min: int) -> None:
        self.values = values
        self.tz_min = tz_min
        begin, end, dev, enabled = values
        self.shift = dev.value if dev is not None and dev.type == DataType.INTEGER else 0
        on = enabled is not None and enabled.type == DataType.BOOLEAN and bool(enabled.value)
        # None: daylight saving disabled
        self._begin: Data | None = (NULL if begin is None else begin) if on else None
        self._end: Data = NULL if end is None else end
        self._from = self._to = 0.0
        self._period: tuple[float, float] | None = None

    def deviation(self, epoch: float) -> tuple[int, bool]:
        """(deviation, daylight saving active) at `epoch` (UTC seconds). Begin is read in
        standard time, end in summer time."""
        if self._begin is None:
            return self.tz_min, False
        std_local = epoch - 60 * self.tz_min
        if not self._from <= std_local < self._to:
            year = (_EPOCH + timedelta(seconds=std_local)).year
            self._from = (datetime(year, 1, 1) - _EPOCH).total_seconds()
            self._to = (datetime(year + 1, 1, 1) - _EPOCH).total_seconds() if year < 9999 else math.inf
            self._period = _dst_period(self._begin, self._end, self.shift, year)
        period = self._period
        if period is None:
            return self.tz_min, False
        begin, end = period
        if begin <= end:
            active = begin <= std_local < end
        else:
            active = std_local >= begin or std_local < end  # southern hemisphere: summer spans new year
        return (self.tz_min - self.shift, True) if active else (self.tz_min, False)


_RULES: dict[tuple[int, ...], _Rules] = {}
_RULES_KEPT = 256  # distinct rule sets: the models' own, and the few clients changed


def _rules(clock: ObjectContext) -> _Rules:
    """The Clock's rules as they stand on this meter. Attributes 3 and 5 to 8 have neither a
    getter nor a default, so `stored` reads what `get` would."""
    stored = clock.stored
    tz, begin, end, dev, enabled = stored(3), stored(5), stored(6), stored(7), stored(8)
    if tz is not None and tz.type == DataType.LONG and tz.value != NOT_SPECIFIED:
        tz_min = tz.value  # what _time_zone gives, without the call: this is every clock read
    else:
        tz_min = _time_zone(clock, tz)
    key = (tz_min, id(begin), id(end), id(dev), id(enabled))
    rules = _RULES.get(key)
    if rules is None:
        if len(_RULES) >= _RULES_KEPT:
            _RULES.clear()
        rules = _RULES[key] = _Rules((begin, end, dev, enabled), tz_min)
    return rules


def _shown(clock: ObjectContext, epoch: float) -> tuple[int, int]:
    """(deviation, clock status) the Clock shows at `epoch`: its own status bits, with the
    daylight-saving bit as its rules say."""
    deviation, dst = _rules(clock).deviation(epoch)
    own = clock.effect(ClockAdjustment)
    status = (0 if own is None else own.status) & ~ClockStatus.DAYLIGHT_SAVING_ACTIVE
    if dst:
        status |= ClockStatus.DAYLIGHT_SAVING_ACTIVE
    if clock.living is not None and _time_lost(clock, own, epoch):
        status |= ClockStatus.INVALID
    return deviation, status


# How long the real-time clock keeps time without supply (a backup capacitor): after a longer
# power failure the time is invalid until a client sets it.
CLOCK_BACKUP_S = 12 * 3600.0


def _time_lost(clock: ObjectContext, own: ClockAdjustment | None, epoch: float) -> bool:
    """Whether a power failure longer than the clock's backup ended before meter epoch `epoch`,
    after the last time a client set the clock. The ends of such failures are kept per meter
    with the event history they come from (usually there is none, and this is one look)."""
    living = clock.living
    assert living is not None
    events = living.cache.get("events")
    memo = living.cache.get("long_failure_ends")
    if memo is not None and memo[0] is events and memo[1] == events.until and not memo[2]:
        return False  # the usual read: no long failure so far (the history grows as requests come)
    t = epoch - clock.clock.offset()
    if not isinstance(events, History) or t >= events.until or memo is None or memo[0] is not events \
            or memo[1] != events.until:
        events = history_of(living, t)
        memo = living.cache["long_failure_ends"] = (
            events, events.until, [end for start, end in events.failures if end - start > CLOCK_BACKUP_S])
    ends: list[float] = memo[2]
    if not ends:
        return False
    set_at = -math.inf if own is None or own.set_at is None else own.set_at
    return any(set_at < end <= t for end in ends)


@lru_cache(maxsize=64)
def _zone(deviation: int) -> timezone:
    """The fixed-offset zone of a deviation (minutes of UTC minus local time), built once."""
    return timezone(timedelta(minutes=-deviation))


def local_now(ctx: ObjectContext) -> tuple[datetime, int, int]:
    """(aware local datetime, deviation, clock status) of the meter now, as its Clock shows it."""
    clock = _find_clock(ctx)
    if clock is None:
        local = ctx.clock.local_time()
        offset = local.utcoffset()
        return local, -int(offset.total_seconds() // 60) if offset is not None else 0, 0
    epoch = ctx.clock.epoch()
    deviation, status = _shown(clock, epoch)
    return datetime.fromtimestamp(epoch, _zone(deviation)), deviation, status


def meter_datetime(ctx: ObjectContext) -> CosemDateTime:
    """The meter's current date-time with its deviation and clock status."""
    local, _, status = local_now(ctx)
    return CosemDateTime.from_datetime(local, status)


def timestamp(ctx: ObjectContext) -> Data:
    """The meter's current time as the octet-string(12) every capture_time holds (and the
    clock's `time`): no datetime on this path, it is the object every head-end reads first."""
    clock = _find_clock(ctx)
    if clock is None:
        local, _, status = local_now(ctx)
        return Data(DataType.OCTET_STRING, CosemDateTime.bytes_from_datetime(local, status))
    epoch = ctx.clock.epoch()
    deviation, status = _shown(clock, epoch)
    return Data(DataType.OCTET_STRING, CosemDateTime.bytes_from_epoch(epoch, deviation, status))


def to_utc(ctx: ObjectContext, cdt: CosemDateTime) -> datetime | None:
    """The UTC instant of a fully specified date-time; unspecified deviation means meter local time."""
    if cdt.deviation is None:
        _, deviation, _ = local_now(ctx)
        cdt = CosemDateTime(cdt.year, cdt.month, cdt.day, cdt.day_of_week, cdt.hour, cdt.minute,
                            cdt.second, cdt.hundredths, deviation, cdt.clock_status)
    try:
        return cdt.to_datetime().astimezone(timezone.utc)
    except DecodeError:
        return None


def _adjust(ctx: ObjectContext, seconds: float) -> None:
    """Move the meter's clock and log the adjustment (old time, then new time) in the standard log."""
    if not seconds:
        return
    log_event(ctx, "standard", EventCode.CLOCK_ADJUSTED_OLD_TIME)
    ctx.clock.shift(seconds)
    log_event(ctx, "standard", EventCode.CLOCK_ADJUSTED_NEW_TIME)


def _set_to(ctx: ObjectContext, target: datetime) -> None:
    _adjust(ctx, (target - ctx.clock.utc_time()).total_seconds())


# --------------------------------------------------------------------------- attributes

def _get_time(ctx: ObjectContext) -> Data:
    epoch = ctx.clock.epoch()
    deviation, status = _shown(ctx, epoch)  # ctx is the Clock: no search for it
    return Data(DataType.OCTET_STRING, CosemDateTime.bytes_from_epoch(epoch, deviation, status))


def time_reader(clock: ObjectContext) -> Callable[[float], Data]:
    """The Clock's `time` at any meter epoch, its rules and status bits read once: for building
    many profile rows within one request."""
    rules = _rules(clock)
    own = clock.effect(ClockAdjustment)
    kept = (0 if own is None else own.status) & ~ClockStatus.DAYLIGHT_SAVING_ACTIVE
    pack = CosemDateTime.bytes_from_epoch

    living = clock.living

    def read(epoch: float) -> Data:
        deviation, dst = rules.deviation(epoch)
        status = kept | ClockStatus.DAYLIGHT_SAVING_ACTIVE if dst else kept
        if living is not None and _time_lost(clock, own, epoch):
            status |= ClockStatus.INVALID
        return Data(DataType.OCTET_STRING, pack(epoch, deviation, status))

    return read


def _set_time(ctx: ObjectContext, value: Data) -> None:
    cdt = date_time_of(value)
    target = None if cdt is None else to_utc(ctx, cdt)
    if target is None:
        raise AccessFailure(DataAccessResult.OTHER_REASON, "time must be a fully specified date-time")
    if target.year not in _SETTABLE_YEARS:
        raise AccessFailure(DataAccessResult.OTHER_REASON, f"year {target.year} is outside "
                            f"{_SETTABLE_YEARS.start}..{_SETTABLE_YEARS.stop - 1}")
    _set_to(ctx, target)
    # A clock set by a client is valid again.
    ctx.change(ClockAdjustment).set_at = ctx.clock.fleet_epoch()
    own = ctx.effect(ClockAdjustment)
    if own is not None and own.status & (ClockStatus.INVALID | ClockStatus.DOUBTFUL):
        own = ctx.change(ClockAdjustment)
        own.status &= ~(ClockStatus.INVALID | ClockStatus.DOUBTFUL)


def _get_status(ctx: ObjectContext) -> Data:
    return Data(DataType.UNSIGNED, local_now(ctx)[2])


def _set_status(ctx: ObjectContext, value: Data) -> None:
    ctx.change(ClockAdjustment).status = value.value & ~ClockStatus.DAYLIGHT_SAVING_ACTIVE


# --------------------------------------------------------------------------- methods

def _round_local(ctx: ObjectContext, period_s: float) -> None:
    """Move the clock to the nearest (+/-) multiple of `period_s` since local midnight."""
    local = local_now(ctx)[0]
    since_midnight = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    target = math.floor(since_midnight / period_s + 0.5) * period_s
    _adjust(ctx, target - since_midnight)


def _adjust_to_quarter(ctx: ObjectContext, parameter: Data | None) -> None:
    _round_local(ctx, 900)


def _measuring_period(ctx: ObjectContext) -> float | None:
    """Seconds of measuring period 1 (1.0.0.8.0.255), else of the first Demand register's period."""
    obj = ctx.find(MEASURING_PERIOD_LN)
    if obj is not None and obj.cls.class_id in (1, 3, 4):
        value = obj.get(2)
        if isinstance(value.value, int) and not isinstance(value.value, bool):
            scaler = 0
            if obj.cls.class_id != 1 and obj.get(3).type == DataType.STRUCTURE:
                scaler = obj.get(3).value[0].value
            return value.value * 10.0 ** scaler
    demand = next((o for o in ctx.objects() if o.cls.class_id == 5), None)
    if demand is not None and demand.get(8).type == DataType.DOUBLE_LONG_UNSIGNED:
        return float(demand.get(8).value)
    return None


def _adjust_to_measuring_period(ctx: ObjectContext, parameter: Data | None) -> None:
    period = _measuring_period(ctx)
    if not period or period <= 0:
        raise ActionFailure(ActionResult.OTHER_REASON, "the meter has no measuring period")
    _round_local(ctx, period)


def _adjust_to_minute(ctx: ObjectContext, parameter: Data | None) -> None:
    _round_local(ctx, 60)


def _preset_adjusting_time(ctx: ObjectContext, parameter: Data | None) -> None:
    assert parameter is not None
    instants = []
    for part in parameter.value:
        cdt = date_time_of(part)
        utc = None if cdt is None else to_utc(ctx, cdt)
        if utc is None:
            raise ActionFailure(ActionResult.OTHER_REASON, "preset times must be fully specified")
        instants.append(utc.timestamp())
    if instants[1] > instants[2]:
        raise ActionFailure(ActionResult.OTHER_REASON, "validity interval ends before it starts")
    ctx.change(ClockAdjustment).preset = (instants[0], instants[1], instants[2])


def _adjust_to_preset_time(ctx: ObjectContext, parameter: Data | None) -> None:
    own = ctx.effect(ClockAdjustment)
    preset = None if own is None else own.preset
    if preset is None:
        raise ActionFailure(ActionResult.OTHER_REASON, "no preset adjusting time")
    preset_time, start, end = preset
    if not start <= ctx.clock.utc_time().timestamp() <= end:
        raise ActionFailure(ActionResult.TEMPORARY_FAILURE, "meter time outside the validity interval")
    ctx.change(ClockAdjustment).preset = None
    _set_to(ctx, datetime.fromtimestamp(preset_time, timezone.utc))


def _shift_time(ctx: ObjectContext, parameter: Data | None) -> None:
    assert parameter is not None
    if not -_SHIFT_LIMIT_S <= parameter.value <= _SHIFT_LIMIT_S:
        raise ActionFailure(ActionResult.OTHER_REASON, "shift_time accepts -900..900 s")
    _adjust(ctx, parameter.value)


def _check_deviations(time_zone: Data, dst_deviation: Data) -> None:
    """Local time in and out of daylight saving must stay a deviation a date-time can carry."""
    if time_zone.type != DataType.LONG or time_zone.value == NOT_SPECIFIED:
        return
    shift = dst_deviation.value if dst_deviation.type == DataType.INTEGER else 0
    low, high = DEVIATION
    if not low <= time_zone.value - shift <= high:
        raise AccessFailure(DataAccessResult.OTHER_REASON,
                            f"time_zone {time_zone.value} with daylight_savings_deviation {shift} gives a "
                            f"deviation outside {low}..{high} min")


def _check_time_zone(ctx: ObjectContext, value: Data) -> None:
    _check_deviations(value, ctx.get(7))


def _check_dst_deviation(ctx: ObjectContext, value: Data) -> None:
    _check_deviations(ctx.get(3), value)


# Blue Book 4.5.1 Clock: time_zone -720..840 minutes, 0x8000 not specified; daylight_savings_deviation -120..120.
TIME_ZONE = Simple(DataType.LONG, -720, 840, (NOT_SPECIFIED,))
DST_DEVIATION = Simple(DataType.INTEGER, -120, 120)
CLOCK_BASE = Enum(((0, "not_defined"), (1, "internal_crystal"), (2, "mains_frequency_50_hz"),
                   (3, "mains_frequency_60_hz"), (4, "gps"), (5, "radio_controlled")), open=False)
PRESET_ADJUSTING_TIME = Struct((("preset_time", DATE_TIME), ("validity_interval_start", DATE_TIME),
                                ("validity_interval_end", DATE_TIME)))

CLOCK = interface_class(8, 0, "Clock", [
    attribute(2, "time", DATE_TIME, dynamic=True, access=AttributeAccess.READ_AND_WRITE,
              getter=_get_time, setter=_set_time),
    attribute(3, "time_zone", TIME_ZONE, check=_check_time_zone),
    attribute(4, "status", UNSIGNED, dynamic=True, getter=_get_status, setter=_set_status),
    attribute(5, "daylight_savings_begin", DATE_TIME),
    attribute(6, "daylight_savings_end", DATE_TIME),
    attribute(7, "daylight_savings_deviation", DST_DEVIATION, check=_check_dst_deviation),
    attribute(8, "daylight_savings_enabled", BOOLEAN),
    attribute(9, "clock_base", CLOCK_BASE),
], [
    method(1, "adjust_to_quarter", INTEGER, impl=_adjust_to_quarter),
    method(2, "adjust_to_measuring_period", INTEGER, impl=_adjust_to_measuring_period),
    method(3, "adjust_to_minute", INTEGER, impl=_adjust_to_minute),
    method(4, "adjust_to_preset_time", INTEGER, impl=_adjust_to_preset_time),
    method(5, "preset_adjusting_time", PRESET_ADJUSTING_TIME, impl=_preset_adjusting_time),
    method(6, "shift_time", LONG, impl=_shift_time),
], sn_method_offset=0x60)

CLASSES = (CLOCK,)
