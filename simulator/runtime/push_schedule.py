"""The fleet's own pushes: schedules, alarms, power-up and installation, behind one timer.

A real meter pushes by itself: its push schedule runs the push script at 00:05 every day, an
alarm raises its alarm push, a power-up or the installation sends a notice. Ours have no timers
(100,000 meters must not hold 100,000 handles), so `PushScheduler` works out when each meter's
turn comes from the models (simulator/server/push_plan.py) and wakes the meter then, with one
`loop.call_at` for the whole fleet:

- scheduled pushes: per group and scheduled push, the schedule's next execution instant is the
  same for every meter that kept the model's values (worked out once, on a prototype meter of the
  group); each meter is woken at that instant plus its own randomisation offset, walking a list
  of the group's meters sorted by offset. A living meter woken catches up (its schedule runs the
  script, which queues the push); for a static meter, which has no catch-up, the scheduler asks
  for the push itself (trigger "schedule"). A meter whose clients changed its schedules,
  scripts, push setups or clock is planned from its own values (`changed`) and the group skips it;
- generated events (living groups whose model pushes on alarm or power_up): a week ahead, per
  group, the event generator gives each meter's events without building it; at each instant of
  an event code with an alarm bit the meter is woken and, if an alarm register's filtered bits
  rose (`alarm_rose`), its alarm pushes are asked for; the end of a power failure asks for its
  power_up pushes;
- on start: every meter with a power_up push, spread by its offset; an installation push once in
  a meter's life (noted as `PushHistory` in its persisted state); after a restart, the meters
  whose kept state has their own schedule values are built and planned on their own.

Meters are built (`Fleet.live`) only at their instants, and work is done in chunks of
`CHUNK` meters per loop turn, so the loop keeps serving clients while a group pushes.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
from array import array
from bisect import bisect_left
from itertools import count
from typing import Callable, Protocol

from ..cosem.events import ALARM_BITS, GENERATED_CODES
from ..cosem.schedule import local_to_epoch, next_execution
from ..living.events import BUCKET_S, DEFAULT_EVENTS, MAX_DURATION_S, PHASED, events_between
from ..server.objects import Meter, ObjectHandle, PushRequest, noise_seed
from ..server.push_plan import (
    ScheduledPush, alarm_rose, follows_model, model_randomisation, own_randomisation, own_scheduled_pushes,
    planning_attributes, push_offset, pushes_on, scheduled_pushes, wake,
)
from ..state.effects import PushHistory
from .fleet import Fleet, LiveMeter
from .layout import MeterEntry
from .profile import GroupSpec, meter_fields
from .shard import WHOLE, Shard
from .timers import Wakeup

__all__ = ["PushScheduler", "CHUNK"]

_log = logging.getLogger("simulator.push")

CHUNK = 500  # meters handled per loop turn
_ALARM, _POWER_UP = 1, 2  # what an event instant may ask for
_SCAN_AHEAD_S = BUCKET_S / 2  # a week's events are looked up half a week before it begins


class PushHost(Protocol):
    """What the scheduler needs from the engine: the fleet and the loop's clock."""

    @property
    def fleet(self) -> Fleet: ...

    def now(self) -> float: ...


Submit = Callable[[LiveMeter, PushRequest], None]


class _Task:
    """Something that wakes meters: `due` is the fleet epoch it next has work (inf: none)."""

    due: float = math.inf
    cancelled = False

    def step(self, epoch: float, budget: int) -> int:
        """Do what is due by fleet epoch `epoch`, up to `budget` meters; return how many (>= 1)."""
        raise NotImplementedError


class _Group:
    """What the scheduler knows of one group: its meters, seeds, and pushes from the model."""

    def __init__(self, scheduler: PushScheduler, group: GroupSpec, entries: list[MeterEntry]) -> None:
        self.spec = group
        self.entries = entries
        self.living = group.model.living is not None
        self.scheduled = scheduled_pushes(group.model)
        self.alarm = pushes_on(group.model, "alarm")
        self.power_up = pushes_on(group.model, "power_up")
        self.installation = pushes_on(group.model, "installation")
        self.planning = planning_attributes(group.model)
        self._seeds: array[int] | None = None
        self._scheduler = scheduler

    @property
    def seeds(self) -> array[int]:
        """Each meter's seed, as `Meter.living` computes it (so offsets and events agree with it)."""
        if self._seeds is None:
            profile_seed = self._scheduler.fleet.profile.seed
            self._seeds = array("Q", (noise_seed(profile_seed, meter_fields(self.spec, e.group_index), e.index)
                                      for e in self.entries))
        return self._seeds

    def offset(self, position: int, pushes: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> float:
        """The earliest of the offsets for these pushes (with the model's intervals) of the meter at
        `position` in `entries` (its group index, unless the fleet is sharded)."""
        seed = self.seeds[position]
        model = self.spec.model
        return min((push_offset(seed, sap, i, model_randomisation(model, sap, i)) for sap, i in pushes), default=0.0)


class _ScheduleSweep(_Task):
    """One scheduled push of one group: each execution instant, the group's meters in offset order."""

    def __init__(self, scheduler: PushScheduler, group: _Group, push: ScheduledPush, start: float) -> None:
        self._scheduler = scheduler
        self._group = group
        self._push = push
        keys = [(push.server_sap, i) for i in push.pushes]
        self._order = sorted((group.offset(gi, keys), gi) for gi in range(len(group.entries)))
        self._offsets = [o for o, _ in self._order]
        model = group.spec.model
        randomisation = max(model_randomisation(model, push.server_sap, i) for i in push.pushes)
        fleet = scheduler.fleet
        first = group.entries[0]
        self._prototype = Meter(model, first.index, meter_fields(group.spec, 0), fleet.time_base,
                                utc_offset_min=fleet.profile.time.utc_offset_min, seed=fleet.profile.seed)
        # the run before start whose randomised pushes are still to come, else the next one
        self._instant = self._next_after(start - randomisation - 1)
        self._pos = 0 if self._instant is None else bisect_left(self._offsets, start - self._instant)
        self._update()

    def _next_after(self, epoch: float) -> float | None:
        """The schedule's first execution instant (fleet epoch) after `epoch`, for an untouched meter."""
        device = self._group.spec.model.logical_devices[self._push.server_sap]
        handle = ObjectHandle(self._prototype, device, device.objects[self._push.schedule],
                              self._prototype.time_base.now_of(epoch))
        local = next_execution(handle)
        return None if local is None else local_to_epoch(handle, local)

    def _update(self) -> None:
        while self._instant is not None and self._pos >= len(self._order):
            self._instant = self._next_after(self._instant + 1)
            self._pos = 0
        self.due = math.inf if self._instant is None else self._instant + self._offsets[self._pos]

    def step(self, epoch: float, budget: int) -> int:
        done = 0
        own = self._scheduler._own
        instant = self._instant
        assert instant is not None
        while done < budget and self._pos < len(self._order) and instant + self._offsets[self._pos] <= epoch:
            entry = self._group.entries[self._order[self._pos][1]]
            self._pos += 1
            done += 1
            if entry.index not in own:
                self._scheduler._run_schedule(entry, self._push, instant)
        self._update()
        return max(done, 1)


class _StartSweep(_Task):
    """On start: every meter of a group with power_up or installation pushes, in offset order."""

    def __init__(self, scheduler: PushScheduler, group: _Group, start: float) -> None:
        self._scheduler = scheduler
        self._group = group
        self._start = start
        keys = group.power_up + group.installation
        self._order = sorted((start + group.offset(gi, keys), gi) for gi in range(len(group.entries)))
        self._pos = 0
        self.due = self._order[0][0] if self._order else math.inf

    def step(self, epoch: float, budget: int) -> int:
        done = 0
        while done < budget and self._pos < len(self._order) and self._order[self._pos][0] <= epoch:
            entry = self._group.entries[self._order[self._pos][1]]
            self._pos += 1
            done += 1
            self._scheduler._run_start(entry, self._group, self._start)
        self.due = self._order[self._pos][0] if self._pos < len(self._order) else math.inf
        return max(done, 1)


class _EventSweep(_Task):
    """A living group's generated events that push: a week's instants looked up ahead, per meter
    without building it, then each meter woken at its instants."""

    def __init__(self, scheduler: PushScheduler, group: _Group, start: float) -> None:
        self._scheduler = scheduler
        self._group = group
        self._start = start
        living = group.spec.model.living
        assert living is not None
        self._events = living.events or DEFAULT_EVENTS
        self._marks: list[tuple[float, int, int]] = []  # (fleet epoch, group index, _ALARM | _POWER_UP)
        self._week = math.floor(start / BUCKET_S)
        self._scanned = 0  # meters of the week looked up so far
        installed = scheduler.fleet.time_base.installed
        self._installed = scheduler.fleet.time_base.start_epoch if installed is None else installed
        self._update()

    def _scan_due(self) -> float:
        return max(self._start, self._week * BUCKET_S - _SCAN_AHEAD_S)

    def _update(self) -> None:
        self.due = min(self._scan_due(), self._marks[0][0] if self._marks else math.inf)

    def step(self, epoch: float, budget: int) -> int:
        done = 0
        marks = self._marks
        while done < budget and marks and marks[0][0] <= epoch:
            instant, gi, what = heapq.heappop(marks)
            while marks and marks[0][:2] == (instant, gi):  # two codes at one instant: one wake
                what |= heapq.heappop(marks)[2]
            done += 1
            self._scheduler._run_event(self._group.entries[gi], self._group, instant, what)
        if done < budget and self._scan_due() <= epoch:
            done += self._scan(budget - done)
        self._update()
        return max(done, 1)

    def _scan(self, budget: int) -> int:
        """Look up the next meters' events of the week being scanned."""
        group = self._group
        t0 = max(self._start, self._week * BUCKET_S)
        t1 = (self._week + 1) * BUCKET_S
        # the first week also holds the ends of events that began before the start
        since = t0 - MAX_DURATION_S if t0 == self._start else t0
        end = min(self._scanned + budget, len(group.entries))
        for gi in range(self._scanned, end):
            found: dict[float, int] = {}
            for e in events_between(self._events, group.seeds[gi], self._installed, since, t1):
                _, start_code, end_code = GENERATED_CODES[e.kind]
                shift = (e.phase or 1) - 1 if e.kind in PHASED else 0
                for at, code in ((e.start, start_code + shift), (e.end, end_code + shift)):
                    if at < self._start:
                        continue
                    what = (_ALARM if group.alarm and code in ALARM_BITS else 0) | \
                        (_POWER_UP if group.power_up and e.kind == "power_failure" and at == e.end else 0)
                    if what:
                        found[at] = found.get(at, 0) | what
            for at, what in found.items():
                heapq.heappush(self._marks, (at, gi, what))
        done = end - self._scanned
        self._scanned = end
        if end >= len(group.entries):
            self._week += 1
            self._scanned = 0
        return done


class _Injected(_Task):
    """The end of an event the control plane injected into one meter: woken then like at a
    generated event's end (its alarm bit, a power failure's power-up push)."""

    def __init__(self, scheduler: PushScheduler, group: _Group, entry: MeterEntry, instant: float, what: int) -> None:
        self._scheduler = scheduler
        self._group = group
        self._entry = entry
        self._what = what
        self.due = instant

    def step(self, epoch: float, budget: int) -> int:
        instant, self.due = self.due, math.inf
        self._scheduler._run_event(self._entry, self._group, instant, self._what)
        return 1


class _Restored(_Task):
    """After a restart: the meters whose kept state has their own schedule, push or clock values,
    built so they are planned on their own (before the group's first push)."""

    def __init__(self, scheduler: PushScheduler, entries: list[MeterEntry], start: float) -> None:
        self._scheduler = scheduler
        self._entries = entries
        self.due = start - 1

    def step(self, epoch: float, budget: int) -> int:
        chunk, self._entries = self._entries[:budget], self._entries[budget:]
        for entry in chunk:
            live = self._scheduler._live(entry)
            if live is not None:
                self._scheduler.changed(live)
        if not self._entries:
            self.due = math.inf
        return max(len(chunk), 1)


class _OwnPlan(_Task):
    """A meter whose own values decide its scheduled pushes: planned from its own objects."""

    def __init__(self, scheduler: PushScheduler, live: LiveMeter, after: float) -> None:
        self._scheduler = scheduler
        self.live = live
        self._plans: list[tuple[float, float, ScheduledPush]] = []  # (wake epoch, instant, push)
        self._plan(after)

    def _plan(self, after: float) -> None:
        """Each scheduled push's first instant whose randomised push comes after fleet epoch `after`."""
        meter = self.live.meter
        time_base = meter.time_base
        offset_s = meter.state.clock_offset_s
        seed = noise_seed(meter.seed, meter.fields, meter.index)
        plans = []
        for push in own_scheduled_pushes(meter):
            device = meter.model.logical_devices[push.server_sap]
            spans = {i: own_randomisation(meter, push.server_sap, i) for i in push.pushes}
            delay = min(push_offset(seed, push.server_sap, i, r) for i, r in spans.items())
            handle = ObjectHandle(meter, device, device.objects[push.schedule],
                                  time_base.now_of(after - max(spans.values())))
            for _ in range(8):  # a few runs within the randomisation interval at most
                local = next_execution(handle)
                if local is None:
                    break
                meter_epoch = local_to_epoch(handle, local)
                instant = meter_epoch - offset_s
                if instant + delay > after:
                    plans.append((instant + delay, instant, push))
                    break
                handle = handle.at(meter_epoch + 1)
        self._plans = plans
        self.due = min((p[0] for p in plans), default=math.inf)

    def step(self, epoch: float, budget: int) -> int:
        for wake_at, instant, push in self._plans:
            if wake_at <= epoch:
                self._scheduler._run_schedule(self.live.entry, push, instant, self.live)
        self._plan(epoch)
        return 1




class PushScheduler:
    """Wakes meters when a push of theirs is due, with one `call_at` for the whole fleet."""

    def __init__(self, host: PushHost, submit: Submit, shard: Shard = WHOLE) -> None:
        self._host = host
        self._shard = shard  # only its meters push
        self._submit = submit
        self._wakeup: Wakeup | None = None  # made by start(), on the running loop
        self._heap: list[tuple[float, int, _Task]] = []
        self._seq = count()
        self._groups: dict[str, _Group] = {}
        self._own: dict[int, _OwnPlan] = {}  # entry index -> the plan of a meter with its own values
        self._revisions: dict[int, int] = {}  # entry index -> the state revision `changed` last looked at

    @property
    def fleet(self) -> Fleet:
        return self._host.fleet

    # -- life cycle
    def start(self) -> None:
        """Plan power-up and installation pushes, the scheduled pushes and the event scan."""
        self._wakeup = Wakeup(asyncio.get_running_loop(), self._fire)
        fleet = self.fleet
        start = fleet.time_base.epoch(self._host.now())
        by_group: dict[str, list[MeterEntry]] = {}
        for entry in fleet.entries:
            if self._shard.owns(entry.index):
                by_group.setdefault(entry.group.name, []).append(entry)
        for spec in fleet.profile.groups:
            entries = by_group.get(spec.name, [])
            group = _Group(self, spec, entries)
            if not entries:
                continue
            self._groups[spec.name] = group
            tasks: list[_Task] = [_ScheduleSweep(self, group, push, start) for push in group.scheduled]
            if fleet.store is not None and group.scheduled:
                by_index = {entry.group_index: entry for entry in entries}
                own = [by_index[i] for i in fleet.store.meters_with(spec.name, group.planning) if i in by_index]
                if own:
                    tasks.insert(0, _Restored(self, own, start))
            if group.power_up or group.installation:
                tasks.append(_StartSweep(self, group, start))
            if group.living and (group.alarm or group.power_up):
                tasks.append(_EventSweep(self, group, start))
            for task in tasks:
                self._queue(task)
            if tasks:
                _log.info("group %s: %d meter%s push by themselves (%d scheduled push%s%s%s%s)", spec.name,
                          len(entries), "" if len(entries) == 1 else "s", len(group.scheduled),
                          "" if len(group.scheduled) == 1 else "es", ", alarms" if group.alarm and group.living else "",
                          ", power-up" if group.power_up else "", ", installation" if group.installation else "")

    def changed(self, live: LiveMeter) -> None:
        """A live meter's own values changed: plan it from them when it no longer follows its group."""
        if self._wakeup is None:
            return
        meter, index = live.meter, live.entry.index
        if self._revisions.get(index) == meter.state.revision:
            return
        self._revisions[index] = meter.state.revision
        group = self._groups.get(live.entry.group.name)
        follows = follows_model(meter, group.planning if group is not None else planning_attributes(meter.model))
        old = self._own.pop(index, None)
        if old is not None:
            old.cancelled = True
        if follows:
            return
        plan = self._own[index] = _OwnPlan(self, live, self._epoch())
        self._queue(plan)
        _log.debug("%s: its own schedule, push or clock values: its scheduled pushes are planned on their own",
                   live.label)

    def injected(self, live: LiveMeter, kind: str, phase: int | None, end: float) -> None:
        """An event of `kind` injected into a live meter ends at fleet epoch `end`: the meter is
        woken then for the pushes its end asks for, as for a generated event's (what its start
        raised was pushed when it was injected: cosem/events.py `inject_event`)."""
        group = self._groups.get(live.entry.group.name)
        if self._wakeup is None or group is None or not group.living:
            return
        _, _, code = GENERATED_CODES[kind]
        code += (phase or 1) - 1 if kind in PHASED else 0
        what = (_ALARM if group.alarm and code in ALARM_BITS else 0) | \
            (_POWER_UP if group.power_up and kind == "power_failure" else 0)
        if what:
            self._queue(_Injected(self, group, live.entry, end, what))

    def time_changed(self) -> None:
        """The fleet's time was paused, resumed, sped up or moved forward: the timer is set again
        for the tasks' instants (fleet epochs) as the new pace reaches them."""
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._arm()

    def close(self) -> None:
        """Stop planning: the timer is cancelled, nothing more is woken."""
        if self._wakeup is not None:
            self._wakeup.cancel()
        self._wakeup = None
        self._heap.clear()
        self._own.clear()

    # -- what a meter does when its turn comes
    def _run_schedule(self, entry: MeterEntry, push: ScheduledPush, instant: float,
                     live: LiveMeter | None = None) -> None:
        """A scheduled push's instant (fleet epoch) came for this meter, plus its offset."""
        live = live or self._live(entry)
        if live is None:
            return
        meter = live.meter
        requests = self._wake(live)
        if meter.living is None:  # no catch-up runs its schedule: the scheduler does it
            then = meter.time_base.now_of(instant)
            requests += [PushRequest(push.server_sap, i, then, "schedule") for i in push.pushes]
        self._send(live, requests)

    def _run_start(self, entry: MeterEntry, group: _Group, start: float) -> None:
        """The fleet started: the meter's power-up pushes, and its installation push once ever."""
        live = self._live(entry)
        if live is None:
            return
        meter = live.meter
        then = meter.time_base.now_of(start)
        requests = self._wake(live)
        requests += [PushRequest(sap, i, then, "power_up") for sap, i in group.power_up]
        for sap, i in group.installation:
            device = meter.model.logical_devices[sap]
            setup = ObjectHandle(meter, device, device.objects[i], then)
            history = setup.effect(PushHistory)
            if history is None or not history.installed:
                setup.change(PushHistory).installed = True
                requests.append(PushRequest(sap, i, then, "installation"))
        self._send(live, requests)

    def _run_event(self, entry: MeterEntry, group: _Group, instant: float, what: int) -> None:
        """A generated event at fleet epoch `instant`: an alarm bit may have risen, a power failure ended."""
        live = self._live(entry)
        if live is None:
            return
        meter = live.meter
        then = meter.time_base.now_of(instant)
        requests = self._wake(live)
        if what & _ALARM:
            devices = meter.model.logical_devices
            risen = {sap for sap in {sap for sap, _ in group.alarm} if alarm_rose(meter, devices[sap], instant)}
            requests += [PushRequest(sap, i, then, "alarm") for sap, i in group.alarm if sap in risen]
        if what & _POWER_UP:
            requests += [PushRequest(sap, i, then, "power_up") for sap, i in group.power_up]
        self._send(live, requests)

    def _live(self, entry: MeterEntry) -> LiveMeter | None:
        try:
            return self.fleet.live(entry)
        except Exception:  # a meter that cannot be built must not stop the others' pushes
            _log.exception("%s: the meter could not be built for its push", entry.label)
            return None

    def _wake(self, live: LiveMeter) -> list[PushRequest]:
        try:
            return wake(live.meter, self._host.now())
        except Exception:  # a bug in one meter's catch-up costs its pushes, not the fleet's
            _log.exception("%s: the meter could not catch up for its push", live.label)
            return []

    def _send(self, live: LiveMeter, requests: list[PushRequest]) -> None:
        live.note_changes()  # what the catch-up ran, or the installation noted, is kept
        self.fleet.take_pushes(live)  # a Push setup a script reset drops its pushes waiting, first
        self.changed(live)  # a script the catch-up ran may have changed the meter's schedules
        devices = live.meter.model.logical_devices
        for request in requests:
            _log.debug("%s: push %s asked for (%s)", live.label,
                       devices[request.server_sap].objects[request.index].logical_name, request.trigger)
            self._submit(live, request)

    # -- the one timer
    def _epoch(self) -> float:
        return self.fleet.time_base.epoch(self._host.now())

    def _queue(self, task: _Task) -> None:
        if task.due < math.inf:
            heapq.heappush(self._heap, (task.due, next(self._seq), task))
            self._arm()

    def _arm(self) -> None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        if self._wakeup is not None and self._heap:
            when = self.fleet.time_base.wake_at(self._heap[0][0])
            if when < math.inf:  # inf: the fleet's time is paused before it
                self._wakeup.at(when)

    def _fire(self) -> None:
        epoch = self._epoch()
        budget = CHUNK
        heap = self._heap
        while budget > 0 and heap and heap[0][0] <= epoch:
            due, _, task = heapq.heappop(heap)
            if task.cancelled or due != task.due:
                continue
            try:
                budget -= task.step(epoch, budget)
            except Exception:  # a bug in one group's plan must not stop the others
                _log.exception("push scheduling failed; the pushes it planned are dropped")
                continue
            self._queue_quietly(task)
        self._arm()

    def _queue_quietly(self, task: _Task) -> None:
        if task.due < math.inf and not task.cancelled:
            heapq.heappush(self._heap, (task.due, next(self._seq), task))

