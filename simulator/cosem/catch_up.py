"""What a living meter does by itself between requests, done when a request reaches it.

A real meter runs its single action schedules at their execution times, activates a passive
calendar at its activation time and watches its register monitors and limiters all the time.
Ours has no timer: before a request to a living meter is served, the server calls `catch_up`,
which runs what fell due since the meter was last reached (since its installation the first
time) in the order it fell due, each script as of its own time (its events and switchings carry
that time), then evaluates the monitors and limiters on the values now.

Cost when nothing is due: the window of meter epochs until the next schedule or calendar
activation falls due or the monitors sample again is kept in `ctx.living.cache` (dropped when a
client changes a schedule's times or the activation time, see simulator/cosem/schedule.py), so
a request costs one comparison; monitors
and limiters sample their values at most once per simulated second of the meter's clock (as
a real meter's measuring cycle does), whatever the rate of requests. A request that finds nothing to do changes nothing in the meter's
state (so a read is never held back by a state store that cannot keep changes): a schedule
whose script is all computed from time notes no run, a monitor keeps the value it last saw in
the cache, a limiter that never acted is left alone while the value is under its thresholds.

What the meter computes from time is not run here: the tariff a calendar's day actions select
(simulator/cosem/tariff.py) and the billing rows a schedule captures (the profile's own rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from ..axdr import Obis
from ..living.meter import LivingMeter
from ..state.effects import LimiterState, ThresholdCrossings
from .context import ObjectContext
from .control import evaluate_limiter
from .data_register import evaluate_monitor, number_of, read_value
from .schedule import (
    DUE_KEY, QUIET_KEY, activate_calendar_if_due, calendar_activation_time, computed_lazily, due_executions, local_to_epoch,
    next_execution, note_run, run_due,
)

__all__ = ["catch_up", "quiet"]

_SCHEDULE, _CALENDAR, _MONITOR, _LIMITER = 22, 20, 21, 71
_WATCH_KEY = "catch_up_objects"
_SEEN_KEY = "monitored_values"  # the value each register monitor last saw
_SAMPLE_S = 1.0  # they sample their values once per simulated second, as a meter's cycle does


@dataclass(frozen=True, slots=True)
class _Watched:
    """The objects of one logical device that act by themselves."""

    schedules: tuple[Obis, ...]
    calendars: tuple[Obis, ...]
    monitors: tuple[Obis, ...]
    limiters: tuple[Obis, ...]


def _watched(ctx: ObjectContext, device: int) -> _Watched:
    living = ctx.living
    assert living is not None
    by_device: dict[int, _Watched] = living.cache.setdefault(_WATCH_KEY, {})
    found = by_device.get(device)
    if found is None:
        names: dict[int, list[Obis]] = {_SCHEDULE: [], _CALENDAR: [], _MONITOR: [], _LIMITER: []}
        for obj in ctx.objects():
            if obj.cls.class_id in names:
                names[obj.cls.class_id].append(obj.logical_name)
        found = by_device[device] = _Watched(*(tuple(names[c]) for c in (_SCHEDULE, _CALENDAR, _MONITOR, _LIMITER)))
    return found


def _run_due(ctx: ObjectContext, watched: _Watched, now: float) -> float:
    """Run every schedule execution and calendar activation due by meter epoch `now`, in time
    order; return the meter epoch the next one falls due at."""
    due: list[tuple[float, int, Callable[[], object]]] = []
    upcoming = float("inf")
    for name in watched.schedules:
        schedule = ctx.find(name, _SCHEDULE)
        if schedule is None:
            continue
        executions, local = due_executions(schedule)
        item = schedule.get(2)
        if executions and not computed_lazily(schedule, item):
            for at in executions:
                epoch = local_to_epoch(schedule, at)
                due.append((epoch, len(due), partial(run_due, schedule.at(epoch), item)))
            note_run(schedule, local)
        following = next_execution(schedule)
        if following is not None:
            upcoming = min(upcoming, local_to_epoch(schedule, following))
    for name in watched.calendars:
        calendar = ctx.find(name, _CALENDAR)
        when = None if calendar is None else calendar_activation_time(calendar)
        if calendar is None or when is None:
            continue
        if when <= now:
            due.append((when, len(due), partial(activate_calendar_if_due, calendar)))
        else:
            upcoming = min(upcoming, when)
    for _, _, run in sorted(due, key=lambda d: (d[0], d[1])):
        run()
    return upcoming


def _watch_monitor(monitor: ObjectContext, seen: dict[Obis, float | None]) -> None:
    """Run the monitor's actions if its value crossed a threshold since the meter last saw it.

    The value last seen is kept in the meter's cache, not its state: a request that crosses
    nothing changes nothing (after a restart the first value seen is the baseline again).
    """
    value = number_of(read_value(monitor, monitor.get(3)))
    last = seen.get(monitor.logical_name)
    seen[monitor.logical_name] = value
    if last is None or value is None or value == last:
        return
    low, high = min(last, value), max(last, value)
    thresholds = monitor.get(2)
    if not any(t is not None and low <= t < high for t in map(number_of, thresholds.value or ())):
        return
    record = monitor.effect(ThresholdCrossings)
    if record is None or record.last.get("last") != last:
        monitor.change(ThresholdCrossings).last["last"] = last  # the value it crossed from
    evaluate_monitor(monitor)


def _watch_limiter(limiter: ObjectContext) -> None:
    """Evaluate the limiter, unless it never acted and the value is under every threshold (the
    evaluation would only note that, and a request that changes nothing should not write)."""
    if limiter.effect(LimiterState) is None:
        value = number_of(read_value(limiter, limiter.get(2)))
        thresholds = [t for t in (number_of(limiter.get(i)) for i in (3, 4, 5)) if t is not None]
        if value is None or not thresholds or value <= min(thresholds):
            return
    evaluate_limiter(limiter)


def quiet(living: LivingMeter, device: int, meter_epoch: float) -> bool:
    """Whether nothing can fall due for `device` at `meter_epoch` (the usual request): the
    server asks before it builds anything to call `catch_up` with."""
    windows: dict[int, tuple[float, float]] | None = living.cache.get(QUIET_KEY)
    window = None if windows is None else windows.get(device)
    return window is not None and window[0] <= meter_epoch < window[1]


def catch_up(ctx: ObjectContext, device: int) -> None:
    """Bring logical device `device` of a living meter (any of its objects: `ctx`) up to now."""
    living = ctx.living
    if living is None:
        return
    now = ctx.clock.epoch()
    quiet: dict[int, tuple[float, float]] | None = living.cache.get(QUIET_KEY)
    if quiet is not None:  # the usual request: one look, nothing due
        window = quiet.get(device)
        if window is not None and window[0] <= now < window[1]:
            return
    watched = _watched(ctx, device)
    until = float("inf")
    if watched.schedules or watched.calendars:
        dues: dict[int, float] = living.cache.setdefault(DUE_KEY, {})
        if now >= dues.get(device, float("-inf")):
            dues[device] = _run_due(ctx, watched, now)
        until = dues[device]
    if watched.monitors or watched.limiters:
        until = min(until, now + _SAMPLE_S)
    # nothing falls due from now until then (a clock set back leaves the window: it starts at now)
    living.cache.setdefault(QUIET_KEY, {})[device] = (now, until)
    if not (watched.monitors or watched.limiters):
        return
    seen: dict[Obis, float | None] = living.cache.setdefault(_SEEN_KEY, {})
    for name in watched.monitors:
        monitor = ctx.find(name, _MONITOR)
        if monitor is not None:
            _watch_monitor(monitor, seen)
    for name in watched.limiters:
        limiter = ctx.find(name, _LIMITER)
        if limiter is not None:
            _watch_limiter(limiter)
