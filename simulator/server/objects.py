"""A meter's objects: the shared model plus only what this meter changed.

`Meter` is one meter: the shared `MeterModel`, the fields its profile filled in, its time base,
and its `MeterState` (simulator/state), which holds everything it changed. `ObjectHandle` is
the `ObjectContext` a class behaviour runs with; it is built per request and thrown away, and
reads and changes the meter's state only through the `MeterState` API.

Time: the runtime passes `now` (monotonic seconds) and a `TimeBase` mapping it to wall time,
so nothing here reads the wall clock.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Mapping

from ..apdu.common import ActionResult, DataAccessResult
from ..axdr import Data, DataType, Obis
from ..cosem.base import AccessFailure, ActionFailure, InterfaceClass
from ..cosem.metrology import hold_tariff_registers
from ..cosem.monitoring import value_written, watchers_of
from ..cosem.write_check import check_write
from ..living.events import Event
from ..living.meter import LivingMeter
from ..living.noise import meter_seed
from ..model.spec import LogicalDeviceSpec, MeterModel, ObjectSpec
from ..security.errors import SecurityParameterError
from ..state import KEY_NAMES, MeterState, SecurityState
from ..state.effects import E, Effect, InjectedEvents

PUSH_SETUP_CLASS = 40

__all__ = ["TimeBase", "Meter", "noise_seed", "ObjectHandle", "Clock", "PushRequest", "security_from_templates", "injected_home"]


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One push asked for: which Push setup, when, and why."""

    server_sap: int  # logical device of the Push setup object
    index: int  # the Push setup object's index in that device (ObjectSpec.index)
    now: float  # monotonic `now` of the instant the push was triggered (catch-up: a past one)
    trigger: str  # one of PUSH_TRIGGERS (simulator/model/spec.py)


@dataclass(slots=True)
class TimeBase:
    """Maps monotonic `now` to UTC epoch seconds: epoch = start_epoch + (now - start_now) * rate,
    standing still from `frozen_now` on (the fleet's time paused; inf: it runs).

    One instance is shared by the fleet and every meter, and changed in place (`change`): the
    control plane pauses the fleet's time, changes its rate or moves it forward, never back, so
    what was computed for an earlier epoch stays true. Each change re-anchors the line at the
    instant it happens; `rate` stays > 0 while paused, so past instants still map to a `now`.
    """

    start_epoch: float
    start_now: float = 0.0
    rate: float = 1.0  # time acceleration for tests and demos

    installed: float | None = None  # fleet epoch the meters' history starts at (None: start_epoch)
    frozen_now: float = math.inf

    def epoch(self, now: float) -> float:
        if now > self.frozen_now:
            now = self.frozen_now
        return self.start_epoch + (now - self.start_now) * self.rate

    def now_of(self, epoch: float) -> float:
        """The monotonic `now` at which the fleet's time reads `epoch` (inverse of `epoch` up to
        the instant the time was paused)."""
        return self.start_now + (epoch - self.start_epoch) / self.rate

    def wake_at(self, epoch: float) -> float:
        """The monotonic `now` a timer waiting for fleet epoch `epoch` fires at: inf while the
        time is paused before it."""
        now = self.now_of(epoch)
        return math.inf if now > self.frozen_now else now

    @property
    def paused(self) -> bool:
        return self.frozen_now != math.inf

    def change(self, now: float, *, rate: float | None = None, paused: bool | None = None,
               jump_s: float = 0.0) -> None:
        """From monotonic `now` on: `jump_s` seconds later (never earlier), at `rate`, paused or
        running; the epoch at `now` otherwise continues where it stood."""
        if jump_s < 0 or (rate is not None and not rate > 0):
            raise ValueError("the fleet's time only moves forward, at a rate above 0")
        epoch = self.epoch(now) + jump_s
        self.start_epoch, self.start_now = epoch, now
        if rate is not None:
            self.rate = float(rate)
        if paused is None:
            paused = self.paused
        self.frozen_now = now if paused else math.inf


def noise_seed(profile_seed: int, fields: Mapping[str, Any], index: int) -> int:
    """A meter's own seed (its living values, its push offsets): the profile's seed and the meter's
    serial number, so the push scheduler can work it out for a meter it has not built."""
    return meter_seed(profile_seed, str(fields.get("serial", index)))


@dataclass(slots=True)
class Meter:
    """One meter: the shared model, its profile fields, and its own state. Kept small:
    100,000 of them share one model."""

    model: MeterModel
    index: int
    fields: dict[str, Any]
    time_base: TimeBase
    utc_offset_min: int = 0  # local time minus UTC
    seed: int = 0
    state: MeterState = field(default_factory=MeterState)
    restarts: int = 0  # how often the meter restarted (firmware activation) since it was built
    restarted_at: float = float("-inf")  # fleet epoch of the last restart: older associations ended with it
    push_requests: list[PushRequest] | None = None  # the outbox: pushes triggered, not yet taken
    push_reset: set[tuple[int, int]] | None = None  # (server_sap, index) of Push setups reset since the last take
    push_invoke_id: int = 0  # the last long-invoke-id a push used (in memory)
    _rng: random.Random | None = None
    _living: LivingMeter | None = None
    _injected_revision: int = -1  # the state revision the living view's injected events were read at

    @property
    def living(self) -> LivingMeter | None:
        """The meter's living view, built on first use (a static model has none), with the
        events injected into it as its state holds them."""
        living = self._living
        if living is None:
            if self.model.living is None:
                return None
            installed = self.time_base.installed
            living = self._living = LivingMeter(
                self.model.living, noise_seed(self.seed, self.fields, self.index),
                self.time_base.start_epoch if installed is None else installed)
        if self._injected_revision != self.state.revision:
            self._injected_revision = self.state.revision
            _read_injected(self, living)
        return living

    @property
    def rng(self) -> random.Random:
        if self._rng is None:
            self._rng = random.Random(self.seed * 1_000_003 + self.index)
        return self._rng

    def take_push_requests(self) -> list[PushRequest]:
        """The pushes triggered since the last take, in order; empties the outbox and `push_reset`
        (read `push_reset` first)."""
        taken = self.push_requests or []
        self.push_requests = None
        self.push_reset = None
        return taken

    def object(self, device: LogicalDeviceSpec, index: int, now: float,
               association: Any = None) -> ObjectHandle | None:
        """Object `index` of `device` for one request (None: no such object)."""
        if not 0 <= index < len(device.objects):
            return None
        return ObjectHandle(self, device, device.objects[index], now, association)


_CLOCK = bytes(Obis("0.0.1.0.0.255"))


def injected_home(model: MeterModel) -> tuple[LogicalDeviceSpec, ObjectSpec] | None:
    """Where a meter keeps the events injected into it: the Clock of its first logical device."""
    if not model.logical_devices:
        return None
    device = model.logical_devices[min(model.logical_devices)]
    spec = device.find(_CLOCK)
    return None if spec is None else (device, spec)


def _read_injected(meter: Meter, living: LivingMeter) -> None:
    """Bring the living view's injected events in step with the meter's `InjectedEvents` record;
    a change drops the event history derived from the old ones."""
    home = injected_home(meter.model)
    record = None if home is None else meter.state.effect(home[0].server_sap, home[1].index, InjectedEvents)
    events = () if record is None else tuple(Event(a, b, kind, phase) for kind, phase, a, b in record.events)
    alarms = () if record is None else tuple(record.alarms)
    if events != living.injected or alarms != living.alarms:
        living.injected, living.alarms = events, alarms
        living.cache.pop("events", None)


def security_from_templates(spec: ObjectSpec, fields: Mapping[str, object], **where: Any) -> SecurityState:
    """The keys the model declares for a Security setup object, filled for one meter."""
    keys = {}
    for key_id, name in KEY_NAMES.items():
        template = spec.secret(name)
        if template is None:
            continue
        try:
            value = template.render(dict(fields))
        except (KeyError, IndexError, ValueError):
            raise SecurityParameterError(f"{name} of {spec.describe()}: template does not render "
                                         "(missing profile field or bad hex)") from None
        if value.type == DataType.OCTET_STRING:
            keys[key_id] = value.value
        else:
            try:
                keys[key_id] = bytes.fromhex(str(value.value))
            except ValueError:
                raise SecurityParameterError(f"{name} of {spec.describe()} is not hex") from None
    return SecurityState(keys, **where)


class Clock:
    """The meter's clock at one instant of `now` (the `MeterClock` protocol)."""

    __slots__ = ("_meter", "_now")

    def __init__(self, meter: Meter, now: float) -> None:
        self._meter = meter
        self._now = now

    def epoch(self) -> float:
        return self._meter.time_base.epoch(self._now) + self._meter.state.clock_offset_s

    def fleet_epoch(self) -> float:
        return self._meter.time_base.epoch(self._now)

    def offset(self) -> float:
        return self._meter.state.clock_offset_s

    def utc_time(self) -> datetime:
        return datetime.fromtimestamp(self.epoch(), timezone.utc)

    def local_time(self) -> datetime:
        tz = timezone(timedelta(minutes=self._meter.utc_offset_min))
        return datetime.fromtimestamp(self.epoch(), tz)

    def shift(self, seconds: float) -> None:
        meter = self._meter
        if meter.living is not None:  # what the clock splits into tariffs so far stays as it was
            for device in meter.model.logical_devices.values():
                if device.objects:
                    hold_tariff_registers(ObjectHandle(meter, device, device.objects[0], self._now))
        meter.state.shift_clock(seconds)


class ObjectHandle:
    """One object of one meter during one request: implements `ObjectContext`."""

    __slots__ = ("meter", "device", "spec", "now", "association", "_state", "_sap")

    def __init__(self, meter: Meter, device: LogicalDeviceSpec, spec: ObjectSpec, now: float,
                 association: Any = None) -> None:
        self.meter = meter
        self.device = device
        self.spec = spec
        self.now = now
        self.association = association
        self._state = meter.state
        self._sap = device.server_sap

    # -- identity
    @property
    def cls(self) -> InterfaceClass:
        return self.spec.cls

    @property
    def logical_name(self) -> Obis:
        return self.spec.logical_name

    @property
    def clock(self) -> Clock:
        return Clock(self.meter, self.now)

    @property
    def rng(self) -> random.Random:
        return self.meter.rng

    @property
    def living(self) -> LivingMeter | None:
        return self.meter.living

    @property
    def revision(self) -> int:
        return self._state.revision

    def at(self, meter_epoch: float) -> "ObjectHandle":
        fleet_epoch = meter_epoch - self._state.clock_offset_s
        return ObjectHandle(self.meter, self.device, self.spec, self.meter.time_base.now_of(fleet_epoch),
                            self.association)

    # -- what methods left behind, keys
    def effect(self, kind: type[E]) -> E | None:
        return self._state.effect(self._sap, self.spec.index, kind)

    def change(self, kind: type[E]) -> E:
        return self._state.change(self._sap, self.spec.index, kind)

    def forget(self, kind: type[Effect]) -> None:
        self._state.forget(self._sap, self.spec.index, kind)

    def change_secret(self, secret: bytes) -> None:
        self._state.set_secret(self._sap, self.spec.index, secret)

    def security(self) -> SecurityState:
        """This Security setup object's keys and counters, from the model's templates at first use."""
        existing = self._state.security(self._sap, self.spec.index)
        if existing is not None:
            return existing
        return self._state.install_security(
            self._sap, self.spec.index,
            lambda **where: security_from_templates(self.spec, self.meter.fields, **where))

    # -- values
    def stored(self, attribute: int) -> Data | None:
        """The meter's own value, else the model's; None when a getter or default must decide."""
        v = self._state.values.get((self._sap, self.spec.index, attribute))
        if v is not None:
            return v
        for idx, tpl in self.spec.templates:
            if idx == attribute:
                return tpl.render(self.meter.fields)
        if attribute == 1:
            return Data(DataType.OCTET_STRING, bytes(self.spec.logical_name))
        return self.spec.values[attribute - 1] if attribute <= len(self.spec.values) else None

    def encoded(self, attribute: int) -> bytes | None:
        """Pre-encoded bytes of a value this meter never changed (fast path for GET)."""
        if (self._sap, self.spec.index, attribute) in self._state.values or attribute > len(self.spec.encoded):
            return None
        return self.spec.encoded[attribute - 1]

    def get(self, attribute: int) -> Data:
        adef = self.spec.cls.attribute(attribute)
        if adef is None:
            raise AccessFailure(DataAccessResult.OBJECT_UNDEFINED, f"no attribute {attribute}")
        if adef.getter is not None:
            return adef.getter(self)
        v = self.stored(attribute)
        if v is not None:
            return v
        if adef.default is not None:
            return adef.default
        return Data(DataType.NULL_DATA)

    def set(self, attribute: int, value: Data) -> None:
        self._state.set_value(self._sap, self.spec.index, attribute, value)

    def write(self, attribute: int, value: Data) -> None:
        adef = self.spec.cls.attribute(attribute)
        if adef is None:
            raise AccessFailure(DataAccessResult.OBJECT_UNDEFINED, f"no attribute {attribute}")
        check_write(self, adef, value)  # type, range and the class's own check, before anything changes
        watchers = watchers_of(self, attribute)
        for other, evaluate in watchers:
            evaluate(other)  # the watchers' baseline: the value before this write
        if adef.setter is not None:
            adef.setter(self, value)
        else:
            self.set(attribute, value)
        value_written(self, attribute, value, watchers)

    def restart(self) -> None:
        self.meter.restarts += 1
        self.meter.restarted_at = self.clock.fleet_epoch()

    def trigger_push(self, trigger: str) -> None:
        meter = self.meter
        if self.spec.cls.class_id == PUSH_SETUP_CLASS:
            targets = [(self._sap, self.spec.index)]
        else:
            targets = [(device.server_sap, spec.index) for device in meter.model.logical_devices.values()
                       for spec in device.objects
                       if spec.cls.class_id == PUSH_SETUP_CLASS and trigger in spec.push_on]
        if not targets:
            return
        if meter.push_requests is None:
            meter.push_requests = []
        meter.push_requests.extend(PushRequest(sap, index, self.now, trigger) for sap, index in targets)

    def reset_push(self) -> None:
        """Push setup reset: forget this object's pushes queued and not yet taken, and tell the
        runtime to drop those waiting."""
        meter, key = self.meter, (self._sap, self.spec.index)
        if meter.push_requests:
            meter.push_requests = [r for r in meter.push_requests if (r.server_sap, r.index) != key] or None
        if meter.push_reset is None:
            meter.push_reset = set()
        meter.push_reset.add(key)

    def invoke(self, method: int, parameter: Data | None) -> Data | None:
        mdef = self.spec.cls.method(method)
        if mdef is None or mdef.impl is None:
            raise ActionFailure(ActionResult.OBJECT_UNAVAILABLE, f"no method {method}")
        return mdef.impl(self, parameter)

    # -- other objects
    def find(self, logical_name: Obis | bytes, class_id: int | None = None) -> "ObjectHandle | None":
        spec = self.device.find(bytes(logical_name))
        if spec is None or (class_id is not None and spec.cls.class_id != class_id):
            return None
        return ObjectHandle(self.meter, self.device, spec, self.now, self.association)

    def objects(self) -> Iterator["ObjectHandle"]:
        for spec in self.device.objects:
            yield ObjectHandle(self.meter, self.device, spec, self.now, self.association)
