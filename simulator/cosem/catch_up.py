"""What a living meter does by itself between requests, done when a request reaches it.

A real meter runs its single action schedules at their execution times, activates a passive
calendar at its activation time and watches its register monitors and limiters all the time.
Ours has no timer: before a request to a living meter is served, the server calls `catch_up`,
which runs what fell due since the meter was last reached (since its installation the first
time) in the order it fell due, each script as of its own time (its events and switchings carry
that time), then evaluates the monitors and limiters on the values now.

Cost when nothing is due: the meter epoch at which the next schedule or calendar activation
falls due is kept in `ctx.living.cache` (dropped when a client changes a schedule's times or the
activation time, see simulator/cosem/schedule.py), so a request costs one comparison, plus one
read of each monitored value. A monitor whose value crossed no threshold writes nothing.

What the meter computes from time is not run here: the tariff a calendar's day actions select
(simulator/cosem/tariff.py) and the billing rows a schedule captures (the profile's own rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from ..axdr import Obis
from ..state.effects import ThresholdCrossings
from .context import ObjectContext
from .control import evaluate_limiter
from .data_register import evaluate_monitor, number_of, read_value
from .schedule import (
    DUE_KEY, activate_calendar_if_due, calendar_activation_time, due_executions, local_to_epoch, next_execution,
    run_due,
)

__all__ = ["catch_up"]

_SCHEDULE, _CALENDAR, _MONITOR, _LIMITER = 22, 20, 21, 71
_WATCH_KEY = "catch_up_objects"


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
        for at in due_executions(schedule):
            epoch = local_to_epoch(schedule, at)
            item = schedule.get(2)
            due.append((epoch, len(due), partial(run_due, schedule.at(epoch), item)))
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


def _crossed(monitor: ObjectContext) -> bool:
    """Whether the monitored value may have crossed a threshold since it was last seen."""
    seen = monitor.effect(ThresholdCrossings)
    last = None if seen is None else seen.last.get("last")
    if last is None:
        return True
    value = number_of(read_value(monitor, monitor.get(3)))
    if value is None or value == last:
        return False
    low, high = min(last, value), max(last, value)
    thresholds = monitor.get(2)
    return any(t is not None and low <= t < high for t in map(number_of, thresholds.value or ()))


def catch_up(ctx: ObjectContext, device: int) -> None:
    """Bring logical device `device` of a living meter (any of its objects: `ctx`) up to now."""
    living = ctx.living
    if living is None:
        return
    watched = _watched(ctx, device)
    if watched.schedules or watched.calendars:
        now = ctx.clock.epoch()
        dues: dict[int, float] = living.cache.setdefault(DUE_KEY, {})
        if now >= dues.get(device, float("-inf")):
            dues[device] = _run_due(ctx, watched, now)
    for name in watched.monitors:
        monitor = ctx.find(name, _MONITOR)
        if monitor is not None and _crossed(monitor):
            evaluate_monitor(monitor)
    for name in watched.limiters:
        limiter = ctx.find(name, _LIMITER)
        if limiter is not None:
            evaluate_limiter(limiter)
