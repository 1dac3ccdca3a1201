"""What makes a meter push by itself, worked out from its model without building it.

A fleet of 100,000 meters cannot keep a timer per meter: the runtime (runtime/push_schedule.py)
asks this module which single action schedules run a push (`scheduled_pushes`), which pushes
follow an event (`pushes_on`), and how far each meter's push is moved inside its randomisation
interval (`push_offset`), so one fleet-wide timer can wake each meter when its turn comes.
Woken, a living meter catches up (its schedules run their scripts, which queue their pushes:
`wake`), and `alarm_rose` says whether a generated event raised an alarm bit through the filter.

A meter whose client changed what the model says about its schedules, scripts, pushes or clock
(`follows_model` is False) is planned from its own values (`own_scheduled_pushes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..axdr import Data, DataType
from ..cosem.catch_up import catch_up, quiet
from ..cosem.events import ALARM_REGISTERS
from ..living.noise import unit
from ..model.spec import LogicalDeviceSpec, MeterModel, ObjectSpec
from .objects import Meter, ObjectHandle
from .objects import PushRequest

__all__ = [
    "ScheduledPush", "scheduled_pushes", "own_scheduled_pushes", "pushes_on", "push_offset", "randomisation",
    "model_randomisation", "own_randomisation", "follows_model", "planning_attributes", "wake", "alarm_rose",
]

_DATA, _CLOCK, _SCRIPT_TABLE, _PUSH_SETUP, _SINGLE_ACTION_SCHEDULE = 1, 8, 9, 40, 22
_EXECUTE, _PUSH = 1, 1  # Script table method execute, Push setup method push
_EXECUTE_SPECIFIC_METHOD = 2
_MAX_DEPTH = 8  # a script may execute scripts; as deep as the Script table itself allows
# The attributes that decide when and what a meter pushes by itself, by class: the clock's time
# zone and daylight saving, a script table's scripts, a push setup's randomisation interval (not
# its destination: a profile's `push:` sets that on every meter), a schedule's script and times.
_PLANNING_ATTRIBUTES = {_CLOCK: (3, 5, 6, 7, 8), _SCRIPT_TABLE: (2,), _PUSH_SETUP: (5,),
                        _SINGLE_ACTION_SCHEDULE: (2, 3, 4)}
# A noise stream of its own, apart from the load (1..6) and event (16..99) streams.
_PUSH_OFFSET = 200
_RANDOMISATION = 5  # Push setup attribute randomisation_start_interval
_JUST = 1e-3  # seconds either side of an instant: well above the rounding of now <-> epoch


@dataclass(frozen=True, slots=True)
class ScheduledPush:
    """A Single action schedule whose script pushes."""

    server_sap: int
    schedule: int  # index of the Single action schedule whose script pushes
    pushes: tuple[int, ...]  # indexes of the Push setup objects its script invokes (method 1)


_Value = Callable[[ObjectSpec, int], "Data | None"]


def _model_value(spec: ObjectSpec, attribute: int) -> Data | None:
    return spec.values[attribute - 1] if attribute <= len(spec.values) else None


def _invoked(device: LogicalDeviceSpec, value: _Value, item: Data | None, depth: int) -> list[int]:
    """The Push setup objects the script an action_item names invokes, through nested scripts."""
    if item is None or item.type != DataType.STRUCTURE or len(item.value) != 2 or depth > _MAX_DEPTH:
        return []
    ln, selector = item.value[0].value, item.value[1].value
    table = device.find(ln) if isinstance(ln, bytes) else None
    scripts = None if table is None or table.cls.class_id != _SCRIPT_TABLE else value(table, 2)
    if scripts is None or scripts.type != DataType.ARRAY:
        return []
    found: list[int] = []
    for script in scripts.value:
        if script.value[0].value != selector:
            continue
        for action in script.value[1].value:
            service, class_id, target, index = (f.value for f in action.value[:4])
            target_spec = device.find(target) if isinstance(target, bytes) else None
            if service != _EXECUTE_SPECIFIC_METHOD or target_spec is None or target_spec.cls.class_id != class_id:
                continue
            if class_id == _PUSH_SETUP and index == _PUSH:
                found.append(target_spec.index)
            elif class_id == _SCRIPT_TABLE and index == _EXECUTE:  # the script it executes, in that table
                nested = Data(DataType.STRUCTURE, (action.value[2], action.value[4]))
                found += _invoked(device, value, nested, depth + 1)
    return found


def _scheduled(device: LogicalDeviceSpec, value: _Value) -> list[ScheduledPush]:
    out = []
    for spec in device.objects:
        if spec.cls.class_id == _SINGLE_ACTION_SCHEDULE:
            pushes = _invoked(device, value, value(spec, 2), 0)
            if pushes:
                out.append(ScheduledPush(device.server_sap, spec.index, tuple(sorted(set(pushes)))))
    return out


def scheduled_pushes(model: MeterModel) -> list[ScheduledPush]:
    """The Single action schedules whose executed_script, in its Script table, invokes method 1
    (push) of a Push setup, with the model's values (every meter that did not change them)."""
    return [p for device in model.logical_devices.values() for p in _scheduled(device, _model_value)]


def own_scheduled_pushes(meter: Meter) -> list[ScheduledPush]:
    """`scheduled_pushes` with the meter's own values (what its clients SET) where it has them."""
    def value(spec: ObjectSpec, attribute: int) -> Data | None:
        return ObjectHandle(meter, devices[spec], spec, 0.0).stored(attribute)
    devices = {spec: device for device in meter.model.logical_devices.values() for spec in device.objects}
    return [p for device in meter.model.logical_devices.values() for p in _scheduled(device, value)]


def pushes_on(model: MeterModel, trigger: str) -> list[tuple[int, int]]:
    """(server_sap, index) of every Push setup whose model says `push_on: [trigger]`."""
    return [(device.server_sap, spec.index) for device in model.logical_devices.values() for spec in device.objects
            if spec.cls.class_id == _PUSH_SETUP and trigger in spec.push_on]


def randomisation(value: Data | None) -> float:
    """randomisation_start_interval in seconds (0 when unset or not a number)."""
    if value is None or isinstance(value.value, bool) or not isinstance(value.value, int):
        return 0.0
    return float(max(value.value, 0))


def model_randomisation(model: MeterModel, server_sap: int, index: int) -> float:
    """The model's randomisation_start_interval of a Push setup."""
    return randomisation(_model_value(model.logical_devices[server_sap].objects[index], _RANDOMISATION))


def own_randomisation(meter: Meter, server_sap: int, index: int) -> float:
    """The meter's randomisation_start_interval of a Push setup (its own SET, else the model's)."""
    device = meter.model.logical_devices[server_sap]
    return randomisation(ObjectHandle(meter, device, device.objects[index], 0.0).stored(_RANDOMISATION))


def push_offset(seed: int, server_sap: int, index: int, randomisation_s: float) -> float:
    """The meter's delay in [0, randomisation_s) for one Push setup (randomisation_start_interval):
    seeded per meter and per push setup, so the scheduler and the pusher agree on it and a
    meter's push keeps its place in the interval across restarts."""
    if randomisation_s <= 0:
        return 0.0
    return unit(seed, _PUSH_OFFSET, server_sap << 16 | index) * randomisation_s


def follows_model(meter: Meter, planning: frozenset[tuple[int, int, int]]) -> bool:
    """Whether the meter pushes by itself as the model says: no value of its own for any of the
    `planning` attributes (`planning_attributes`) and no clock offset."""
    state = meter.state
    return not state.clock_offset_s and planning.isdisjoint(state.values)


def planning_attributes(model: MeterModel) -> frozenset[tuple[int, int, int]]:
    """(server_sap, index, attribute) of the values that decide when and what a meter pushes by
    itself: the clocks' time zones, the scripts, the randomisation intervals, the schedules."""
    return frozenset((device.server_sap, spec.index, attribute) for device in model.logical_devices.values()
                     for spec in device.objects for attribute in _PLANNING_ATTRIBUTES.get(spec.cls.class_id, ()))


def wake(meter: Meter, now: float) -> list[PushRequest]:
    """Bring every logical device of the meter up to `now` (a living meter's catch-up runs the
    schedules that fell due, whose scripts queue their pushes) and take the pushes queued. The
    Push setups a script reset stay in `meter.push_reset` for the runtime to hand on."""
    living = meter.living
    if living is not None:
        meter_epoch = meter.time_base.epoch(now) + meter.state.clock_offset_s
        for device in meter.model.logical_devices.values():
            if device.objects and not quiet(living, device.server_sap, meter_epoch):
                catch_up(ObjectHandle(meter, device, device.objects[0], now), device.server_sap)
    reset = meter.push_reset
    requests = meter.take_push_requests()
    meter.push_reset = reset
    return requests


def alarm_rose(meter: Meter, device: LogicalDeviceSpec, fleet_epoch: float) -> bool:
    """Whether an alarm register (0.0.97.98.0/1.255) of `device` has a bit at `fleet_epoch`
    (through its alarm filter) that it did not have just before: what an alarm push follows."""
    meter_epoch = fleet_epoch + meter.state.clock_offset_s
    for name in ALARM_REGISTERS:
        spec = device.find(bytes(name))
        if spec is None or spec.cls.class_id != _DATA:
            continue
        handle = ObjectHandle(meter, device, spec, 0.0)
        after, before = _bits(handle.at(meter_epoch + _JUST)), _bits(handle.at(meter_epoch - _JUST))
        if after & ~before:
            return True
    return False


def _bits(register: ObjectHandle) -> int:
    value = register.get(2).value
    return value if isinstance(value, int) and not isinstance(value, bool) else 0

