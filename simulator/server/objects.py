"""A meter's objects: the shared model plus only what this meter changed.

`MeterState` is all one meter owns: the values clients or behaviour wrote, per-object scratch
state of class behaviours, its clock offset and the fields its profile filled in. Everything
else is read from the shared `MeterModel`. `ObjectHandle` is the `ObjectContext` a class
behaviour runs with; it is built per request and thrown away.

Time: the runtime passes `now` (monotonic seconds) and a `TimeBase` mapping it to wall time,
so nothing here reads the wall clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from ..apdu.common import ActionResult, DataAccessResult
from ..axdr import Data, DataType, Obis
from ..cosem.base import AccessFailure, ActionFailure, InterfaceClass
from ..cosem.monitoring import value_written, watchers_of
from ..cosem.write_check import check_write
from ..model.spec import LogicalDeviceSpec, MeterModel, ObjectSpec
from ..security.lockout import ClientLockout

__all__ = ["TimeBase", "MeterState", "DeviceState", "ObjectHandle", "Clock"]


@dataclass(frozen=True, slots=True)
class TimeBase:
    """Maps monotonic `now` to UTC epoch seconds: epoch = start_epoch + (now - start_now) * rate."""

    start_epoch: float
    start_now: float = 0.0
    rate: float = 1.0  # time acceleration for tests and demos

    def epoch(self, now: float) -> float:
        return self.start_epoch + (now - self.start_now) * self.rate


@dataclass(slots=True)
class DeviceState:
    """What one logical device of one meter changed; empty for a meter nobody touched."""

    values: dict[tuple[int, int], Data] = field(default_factory=dict)
    scratch: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class MeterState:
    """Everything one meter owns. Kept small: 100,000 of them share one model."""

    model: MeterModel
    index: int
    fields: dict[str, Any]
    time_base: TimeBase
    clock_offset_s: float = 0.0
    utc_offset_min: int = 0  # local time minus UTC
    devices: dict[int, DeviceState] = field(default_factory=dict)
    seed: int = 0
    # failed authentications per (server SAP, client SAP): simulator/security/lockout.py
    lockouts: dict[tuple[int, int], ClientLockout] = field(default_factory=dict)
    _rng: random.Random | None = None

    def device(self, server_sap: int) -> DeviceState:
        st = self.devices.get(server_sap)
        if st is None:
            st = self.devices[server_sap] = DeviceState()
        return st

    @property
    def rng(self) -> random.Random:
        if self._rng is None:
            self._rng = random.Random(self.seed * 1_000_003 + self.index)
        return self._rng


class Clock:
    """The meter's clock at one instant of `now` (the `MeterClock` protocol)."""

    __slots__ = ("_meter", "_now")

    def __init__(self, meter: MeterState, now: float) -> None:
        self._meter = meter
        self._now = now

    def epoch(self) -> float:
        return self._meter.time_base.epoch(self._now) + self._meter.clock_offset_s

    def utc_time(self) -> datetime:
        return datetime.fromtimestamp(self.epoch(), timezone.utc)

    def local_time(self) -> datetime:
        tz = timezone(timedelta(minutes=self._meter.utc_offset_min))
        return datetime.fromtimestamp(self.epoch(), tz)

    def shift(self, seconds: float) -> None:
        self._meter.clock_offset_s += seconds


class ObjectHandle:
    """One object of one meter during one request: implements `ObjectContext`."""

    __slots__ = ("meter", "device", "spec", "now", "association", "_state")

    def __init__(self, meter: MeterState, device: LogicalDeviceSpec, spec: ObjectSpec, now: float,
                 association: Any = None) -> None:
        self.meter = meter
        self.device = device
        self.spec = spec
        self.now = now
        self.association = association
        self._state = meter.device(device.server_sap)

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
    def state(self) -> dict[str, Any]:
        scratch = self._state.scratch.get(self.spec.index)
        if scratch is None:
            scratch = self._state.scratch[self.spec.index] = {}
        return scratch

    # -- values
    def stored(self, attribute: int) -> Data | None:
        """The meter's own value, else the model's; None when a getter or default must decide."""
        v = self._state.values.get((self.spec.index, attribute))
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
        if (self.spec.index, attribute) in self._state.values or attribute > len(self.spec.encoded):
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
        self._state.values[(self.spec.index, attribute)] = value

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
