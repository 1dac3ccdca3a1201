"""Events a meter raises: into the right event log, its event code object and the alarms.

`log_event(ctx, log, code)` is how any behaviour reports what happened on the meter (a
disconnect, a clock adjustment, an activated firmware, a refused association): the entry is
kept in the event log's `LoggedEvents` record with the meter's time, and the log's event code
object reads the code. Event logs are Profile generic objects whose rows are (clock, event
code, ...) at the instants events happened.

A living meter (one whose model has a `living:` section) also has the events of its seeded
generator (simulator/living/events.py): a power failure is a power down at its start and a
power up at its end in the standard log, a sag an undervoltage and a voltage-normal code in
the power quality log, an opened cover a removed/closed pair in the fraud detection log.
`events_in(ctx, log, t0, t1)` gives both, merged, for any range of the meter's time: the
profile's event log rows are built from it. From the same events, when read:

- the event code objects 0.0.96.11.x.255 read the code of the latest event in their log;
- the alarm registers 0.0.97.98.0.255 / .1.255 read the alarm bits of the events since a client
  last wrote them (the write is kept as a `RegisterBase`: from then on the register reads the
  written value plus the bits of later events), masked by the alarm filters .10 / .11;
- the counters read how many events happened since installation: power failures in all phases
  0.0.96.7.21.255, long power failures 0.0.96.7.9.255 (lasting at least the threshold
  0.0.96.7.20.255 says, 180 s without it), voltage sags 1.0.C.32.0.255 and swells 1.0.C.36.0.255
  per phase (C = 32, 52, 72) and in any phase (C = 12).

A static meter keeps what the model or a client stored in all of them.

Events the control plane injects into a living meter (`inject_event`, `inject_alarm`) are kept
in its `InjectedEvents` record and merged into its event history (`LivingMeter.injected`), so
everything above reads them as it reads generated ones; injected alarm bits join the alarm
registers' through the filters.

The logs and event code objects are the IDIS ones (IDIS package 2, event handling):
standard 0.0.99.98.0.255 with 0.0.96.11.0.255, fraud detection .1, disconnector control .2,
M-Bus .3, power quality .4, communication .5, as IDIS head-ends read them (Connexo's IDIS
protocols, chandangeek/Connexo_Code, upl/com.energyict.mdc.upl.impl/protocolimpl-v2/src/main/java/
com/energyict/protocolimplv2/dlms/idis/am500/events/IDISLogBookFactory.java and .../am130/events/
AM130LogBookFactory.java; DSMR 5 differs: its communication session log is .4).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Callable

from ..axdr import Data, DataType, Obis
from ..living.events import (
    DEFAULT_EVENTS, KINDS, MAX_DURATION_S, PHASED, EventModel, History, events_between,
)
from ..living.meter import LivingMeter, history_of
from ..state.effects import InjectedEvents, LoggedEvents, RegisterBase
from .context import ObjectContext

__all__ = [
    "EVENT_LOGS", "EVENT_CODE_OBJECTS", "ALARM_REGISTERS", "ALARM_FILTERS", "EventCode", "GENERATED_CODES",
    "ALARM_BITS", "log_event", "events_in", "computes_data_value", "data_value", "data_written",
    "inject_event", "inject_alarm",
]

_LOGS = ("standard", "fraud", "disconnector", "mbus", "power_quality", "communication")
EVENT_LOGS: dict[str, Obis] = {name: Obis(f"0.0.99.98.{i}.255") for i, name in enumerate(_LOGS)}
EVENT_CODE_OBJECTS: dict[str, Obis] = {name: Obis(f"0.0.96.11.{i}.255") for i, name in enumerate(_LOGS)}
ALARM_REGISTERS = (Obis("0.0.97.98.0.255"), Obis("0.0.97.98.1.255"))
ALARM_FILTERS = (Obis("0.0.97.98.10.255"), Obis("0.0.97.98.11.255"))
_PROFILE_GENERIC, _DATA = 7, 1
_DEFAULT_CAPACITY = 100


class EventCode(IntEnum):
    """IDIS event codes, as IDIS head-ends decode them (public source: the Connexo IDIS protocol,
    chandangeek/Connexo_Code, comu/com.energyict.mdc.protocols/src/main/java/com/energyict/
    protocolimpl/dlms/idis/events/StandardEventLog.java, FraudDetectionLog.java,
    DisconnectorControlLog.java, PowerQualityEventLog.java)."""

    # standard event log
    POWER_DOWN = 1
    POWER_UP = 2
    DAYLIGHT_SAVING_CHANGED = 3
    CLOCK_ADJUSTED_OLD_TIME = 4
    CLOCK_ADJUSTED_NEW_TIME = 5
    CLOCK_INVALID = 6
    REPLACE_BATTERY = 7
    BATTERY_VOLTAGE_LOW = 8
    TOU_ACTIVATED = 9
    ERROR_REGISTER_CLEARED = 10
    ALARM_REGISTER_CLEARED = 11
    PROGRAM_MEMORY_ERROR = 12
    RAM_ERROR = 13
    NV_MEMORY_ERROR = 14
    WATCHDOG_ERROR = 15
    MEASUREMENT_SYSTEM_ERROR = 16
    FIRMWARE_READY_FOR_ACTIVATION = 17
    FIRMWARE_ACTIVATED = 18
    PASSIVE_TOU_PROGRAMMED = 19
    PARAMETERS_CHANGED = 47
    GLOBAL_KEYS_CHANGED = 48
    FIRMWARE_VERIFICATION_FAILED = 51
    # fraud detection log
    TERMINAL_COVER_REMOVED = 40
    TERMINAL_COVER_CLOSED = 41
    STRONG_DC_FIELD_DETECTED = 42
    NO_STRONG_DC_FIELD_ANYMORE = 43
    METER_COVER_REMOVED = 44
    METER_COVER_CLOSED = 45
    ASSOCIATION_AUTHENTICATION_FAILURE = 46
    DECRYPTION_OR_AUTHENTICATION_FAILURE = 49
    REPLAY_ATTACK = 50
    # disconnector control log
    READY_FOR_MANUAL_RECONNECTION = 59
    MANUAL_DISCONNECTION = 60
    MANUAL_CONNECTION = 61
    REMOTE_DISCONNECTION = 62
    REMOTE_CONNECTION = 63
    LOCAL_DISCONNECTION = 64
    LIMITER_THRESHOLD_EXCEEDED = 65
    LIMITER_THRESHOLD_OK = 66
    LOCAL_RECONNECTION = 69
    # power quality log (L2 and L3 follow L1)
    UNDERVOLTAGE_L1 = 76
    OVERVOLTAGE_L1 = 79
    MISSING_VOLTAGE_L1 = 82
    VOLTAGE_NORMAL_L1 = 85
    # any log
    EVENT_LOG_CLEARED = 255


_C = EventCode
# Generated kind -> (log, code at its start, code at its end); sags and swells add phase - 1.
GENERATED_CODES: dict[str, tuple[str, int, int]] = {
    "power_failure": ("standard", _C.POWER_DOWN, _C.POWER_UP),
    "voltage_sag": ("power_quality", _C.UNDERVOLTAGE_L1, _C.VOLTAGE_NORMAL_L1),
    "voltage_swell": ("power_quality", _C.OVERVOLTAGE_L1, _C.VOLTAGE_NORMAL_L1),
    "cover_open": ("fraud", _C.METER_COVER_REMOVED, _C.METER_COVER_CLOSED),
    "terminal_cover_open": ("fraud", _C.TERMINAL_COVER_REMOVED, _C.TERMINAL_COVER_CLOSED),
    "magnetic_field": ("fraud", _C.STRONG_DC_FIELD_DETECTED, _C.NO_STRONG_DC_FIELD_ANYMORE),
}

# Event code -> (alarm register 0 or 1, bit; bit 0 the least significant). Alarm register 1:
# the IDIS bits as the Connexo IDIS protocol decodes them (.../protocolimpl/dlms/idis/registers/
# AlarmBitsRegister.java: 0 clock invalid, 1 replace battery, 8..12 critical errors, 13 fraud
# attempt); power up is bit 2 and alarm register 2 holds the sags and swells per phase in the
# layout OSGP reads (OSGP/open-smart-grid-platform, osgp/protocol-adapter-dlms/osgp-protocol-
# adapter-dlms/src/main/java/org/opensmartgridplatform/adapter/protocol/dlms/infra/networking/
# AlarmType.java: register 2 bits 0..2 sag L1..L3, 3..5 swell L1..L3).
ALARM_BITS: dict[int, tuple[int, int]] = {
    _C.CLOCK_INVALID: (0, 0), _C.REPLACE_BATTERY: (0, 1), _C.POWER_UP: (0, 2),
    _C.PROGRAM_MEMORY_ERROR: (0, 8), _C.RAM_ERROR: (0, 9), _C.NV_MEMORY_ERROR: (0, 10),
    _C.MEASUREMENT_SYSTEM_ERROR: (0, 11), _C.WATCHDOG_ERROR: (0, 12),
    **{code: (0, 13) for code in (_C.TERMINAL_COVER_REMOVED, _C.STRONG_DC_FIELD_DETECTED, _C.METER_COVER_REMOVED,
                                  _C.ASSOCIATION_AUTHENTICATION_FAILURE, _C.DECRYPTION_OR_AUTHENTICATION_FAILURE,
                                  _C.REPLAY_ATTACK)},
    **{_C.UNDERVOLTAGE_L1 + p: (1, p) for p in range(3)},
    **{_C.OVERVOLTAGE_L1 + p: (1, 3 + p) for p in range(3)},
}


_ALARM_CODES = tuple(tuple((code, bit) for code, (register, bit) in ALARM_BITS.items() if register == which)
                     for which in (0, 1))


def _capacity(log: ObjectContext) -> int:
    entries = log.get(8)
    return entries.value if entries.type == DataType.DOUBLE_LONG_UNSIGNED else _DEFAULT_CAPACITY


def log_event(ctx: ObjectContext, log: str, code: int) -> None:
    """Record event `code` in the meter's `log` (a key of EVENT_LOGS) at the meter's time now.

    A meter whose model lacks the log still updates the event code object when it has one,
    as a meter without that log would. A living meter's event code object computes its value
    from the log's events (`data_value`), so nothing is stored for it.

    An event that raises an alarm bit the alarm filter lets through, and that the alarm
    register did not show yet, triggers the pushes declared `push_on: [alarm]`.
    """
    alarm = _new_alarm(ctx, code)
    profile = ctx.find(EVENT_LOGS[log], _PROFILE_GENERIC)
    if profile is not None:
        entries = profile.change(LoggedEvents).entries
        entries.append((ctx.clock.epoch(), code))
        del entries[:max(len(entries) - _capacity(profile), 0)]
    holder = ctx.find(EVENT_CODE_OBJECTS[log], _DATA)
    if holder is not None and (ctx.living is None or profile is None):
        holder.set(2, Data(DataType.UNSIGNED, code & 0xFF))
    if alarm:
        ctx.trigger_push("alarm")


def _new_alarm(ctx: ObjectContext, code: int) -> bool:
    """Does `code` raise an alarm bit that passes the alarm filter and is not set in its
    register yet (read before the event is logged)?"""
    alarm = ALARM_BITS.get(code)
    if alarm is None:
        return False
    which, bit = alarm
    alarm_filter = ctx.find(ALARM_FILTERS[which], _DATA)
    if alarm_filter is not None and not _int_of(alarm_filter.get(2), 0xFFFFFFFF) >> bit & 1:
        return False
    register = ctx.find(ALARM_REGISTERS[which], _DATA)
    return register is None or not _int_of(register.get(2), 0) >> bit & 1


# --------------------------------------------------------------------------- generated events

def _events_of(living: LivingMeter) -> EventModel:
    return living.model.events or DEFAULT_EVENTS


def _codes(kind: str, phase: int | None) -> tuple[str, int, int]:
    log, start, end = GENERATED_CODES[kind]
    shift = (phase or 1) - 1
    return log, start + shift, end + shift



def _logged(ctx: ObjectContext, log: str) -> list[tuple[float, int]]:
    """The meter's own events in `log`, oldest first (meter epochs)."""
    living = ctx.living
    if living is None:
        profile = ctx.find(EVENT_LOGS[log], _PROFILE_GENERIC)
    else:  # the log objects' handles, kept: their effect records do not depend on `now`
        handles = living.cache.get("event_logs")
        if handles is None:
            handles = living.cache["event_logs"] = {name: ctx.find(obis, _PROFILE_GENERIC)
                                                    for name, obis in EVENT_LOGS.items()}
        profile = handles[log]
    own = None if profile is None else profile.effect(LoggedEvents)
    return [] if own is None else own.entries


def events_in(ctx: ObjectContext, log: str, t0: float, t1: float) -> list[tuple[float, int]]:
    """(meter epoch, event code) of the events in `log` at instants in [t0, t1) of the meter's
    clock, oldest first: the generator's (for a living meter) and the meter's own LoggedEvents.

    Generated events, which happen in fleet time, are placed on the meter's clock with its
    offset now (as `ctx.at` does). Up to now they come from the meter's cached history; a range
    in the future (a client's question about tomorrow) is generated without extending it.
    """
    out: list[tuple[float, int]] = []
    living = ctx.living
    if living is not None:
        offset = ctx.clock.offset()
        f0, f1 = t0 - offset, t1 - offset
        model = _events_of(living)
        if f1 <= ctx.clock.fleet_epoch() + 1:
            events = history_of(living, f1).started(f0 - MAX_DURATION_S, f1)
        else:
            events = events_between(model, living.seed, living.installed, f0 - MAX_DURATION_S, f1, living.injected)
        for e in events:
            where, start, end = _codes(e.kind, e.phase)
            if where != log:
                continue
            if f0 <= e.start < f1:
                out.append((e.start + offset, start))
            if f0 <= e.end < f1:
                out.append((e.end + offset, end))
    # A range reaching the present holds every event logged since t0, even one stamped after now
    # on the meter's clock (the old time of a clock set back): the meter logged it, it is no future event.
    present = t1 > ctx.clock.epoch()
    out.extend(entry for entry in _logged(ctx, log) if t0 <= entry[0] and (present or entry[0] < t1))
    out.sort(key=lambda entry: entry[0])
    return out


@dataclass(slots=True)
class _CodeIndex:
    """The instants (fleet epochs, sorted) of each generated event code since installation, for
    one meter; built from its events' `History` as that grows, kept in `living.cache`."""

    source: History
    consumed: int = 0
    instants: dict[int, list[float]] = field(default_factory=dict)


def _index(living: LivingMeter, t: float) -> _CodeIndex:
    h = history_of(living, t)
    index: _CodeIndex | None = living.cache.get("event_codes")
    if index is None or index.source is not h:
        index = living.cache["event_codes"] = _CodeIndex(h)
    for e in h.events[index.consumed:]:
        _, start, end = _codes(e.kind, e.phase)
        insort(index.instants.setdefault(start, []), e.start)
        insort(index.instants.setdefault(end, []), e.end)
    index.consumed = len(h.events)
    return index


def _count(index: _CodeIndex, code: int, t0: float, t1: float) -> int:
    """How many times `code` happened at fleet instants in [t0, t1]."""
    instants = index.instants.get(code)
    return 0 if not instants else bisect_right(instants, t1) - bisect_left(instants, t0)


_LOG_CODES: dict[str, tuple[int, ...]] = {
    log: tuple(sorted({c for kind, (where, s, e) in GENERATED_CODES.items() if where == log
                       for p in (range(3) if kind in PHASED else (0,))
                       for c in (s + p, e + p)}))
    for log in _LOGS}


# --------------------------------------------------------------------------- Data objects computed from them

def _number(like: Data | None, n: int) -> Data:
    """`n` in the type the model gave the object (clamped to it), double-long-unsigned without one."""
    t = like.type if like is not None else DataType.DOUBLE_LONG_UNSIGNED
    top = _UNSIGNED_MAX.get(t)
    if top is None:
        t, top = DataType.DOUBLE_LONG_UNSIGNED, _UNSIGNED_MAX[DataType.DOUBLE_LONG_UNSIGNED]
    return Data(t, min(n, top))


_UNSIGNED_MAX = {DataType.UNSIGNED: 0xFF, DataType.LONG_UNSIGNED: 0xFFFF, DataType.DOUBLE_LONG_UNSIGNED: 0xFFFFFFFF,
                 DataType.LONG64_UNSIGNED: (1 << 64) - 1, DataType.INTEGER: 0x7F, DataType.LONG: 0x7FFF,
                 DataType.DOUBLE_LONG: 0x7FFFFFFF, DataType.LONG64: (1 << 63) - 1}


def _int_of(value: Data | None, default: int) -> int:
    if value is None or isinstance(value.value, bool) or not isinstance(value.value, int):
        return default
    return value.value


def _latest_code(ctx: ObjectContext, living: LivingMeter, log: str) -> int | None:
    """The code of the latest event in `log` at the meter's time now (None: none yet)."""
    t = ctx.clock.fleet_epoch()
    index = _index(living, t)
    best: tuple[float, int] | None = None
    for code in _LOG_CODES[log]:
        instants = index.instants.get(code)
        if instants:
            i = bisect_right(instants, t)
            if i and (best is None or instants[i - 1] > best[0]):
                best = (instants[i - 1], code)
    offset = ctx.clock.offset()
    logged = [entry for entry in _logged(ctx, log) if entry[0] <= t + offset]
    if logged and (best is None or logged[-1][0] - offset >= best[0]):
        return logged[-1][1]
    return None if best is None else best[1]


def _alarm_register(ctx: ObjectContext, living: LivingMeter, which: int) -> Data:
    """The value a client last wrote (else the model's) with the filtered alarm bits of every
    event since then (else since installation)."""
    t = ctx.clock.fleet_epoch()
    bases = ctx.effect(RegisterBase)
    since, base = living.installed, _int_of(ctx.stored(2), 0)
    if bases is not None:
        earlier = [b for b in bases.bases if b[0] <= t]
        if earlier:
            since, base = earlier[-1][0], int(earlier[-1][1])
    index = _index(living, t)
    bits = 0
    offset = ctx.clock.offset()
    for code, bit in _ALARM_CODES[which]:
        if _count(index, code, since, t):
            bits |= 1 << bit
    for log in _LOGS:
        for when, code in _logged(ctx, log):
            alarm = ALARM_BITS.get(code)
            if alarm is not None and alarm[0] == which and since <= when - offset <= t:
                bits |= 1 << alarm[1]
    for when, register, raised in living.alarms:
        if register == which and since <= when <= t:
            bits |= raised
    alarm_filter = ctx.find(ALARM_FILTERS[which], _DATA)
    mask = 0xFFFFFFFF if alarm_filter is None else _int_of(alarm_filter.get(2), 0xFFFFFFFF)
    return _number(ctx.stored(2), base | (bits & mask))


_LONG_THRESHOLD = Obis("0.0.96.7.20.255")


def _long_threshold(ctx: ObjectContext) -> float:
    """Time threshold for a long power failure (0.0.96.7.20.255, seconds; IDIS default 180 s)."""
    holder = ctx.find(_LONG_THRESHOLD)
    if holder is None or holder.cls.class_id not in (1, 3):
        return 180.0
    return float(_int_of(holder.get(2), 180))


def _power_failures(ctx: ObjectContext, living: LivingMeter, long_only: bool) -> Data:
    t = ctx.clock.fleet_epoch()
    h = history_of(living, t)
    failures = h.failures_until(t)
    if long_only:
        threshold = _long_threshold(ctx)
        n = sum(1 for start, end in failures if end <= t and end - start >= threshold)
    else:
        n = len(failures)
    return _number(ctx.stored(2), n)


def _phase_events(code: int, phases: tuple[int, ...]) -> Callable[[ObjectContext, LivingMeter], Data]:
    def value(ctx: ObjectContext, living: LivingMeter) -> Data:
        t = ctx.clock.fleet_epoch()
        index = _index(living, t)
        n = sum(_count(index, code + p - 1, living.installed, t) for p in phases)
        return _number(ctx.stored(2), n)
    return value


def _event_code(log: str) -> Callable[[ObjectContext, LivingMeter], Data]:
    def value(ctx: ObjectContext, living: LivingMeter) -> Data:
        code = _latest_code(ctx, living, log)
        stored = ctx.stored(2)
        if code is None:
            return stored if stored is not None else Data(DataType.UNSIGNED, 0)
        return _number(stored if stored is not None else Data(DataType.UNSIGNED, 0), code)
    return value


def _alarm(which: int) -> Callable[[ObjectContext, LivingMeter], Data]:
    return lambda ctx, living: _alarm_register(ctx, living, which)


_PHASE_C = ((1, 32), (2, 52), (3, 72))  # phase, OBIS value group C of its voltage quantities
_COMPUTED: dict[bytes, Callable[[ObjectContext, LivingMeter], Data]] = {
    **{bytes(obis): _event_code(log) for log, obis in EVENT_CODE_OBJECTS.items()},
    **{bytes(obis): _alarm(i) for i, obis in enumerate(ALARM_REGISTERS)},
    bytes(Obis("0.0.96.7.21.255")): lambda ctx, living: _power_failures(ctx, living, False),
    bytes(Obis("0.0.96.7.9.255")): lambda ctx, living: _power_failures(ctx, living, True),
    **{bytes(Obis(f"1.0.{c}.32.0.255")): _phase_events(_C.UNDERVOLTAGE_L1, (p,)) for p, c in _PHASE_C},
    **{bytes(Obis(f"1.0.{c}.36.0.255")): _phase_events(_C.OVERVOLTAGE_L1, (p,)) for p, c in _PHASE_C},
    bytes(Obis("1.0.12.32.0.255")): _phase_events(_C.UNDERVOLTAGE_L1, (1, 2, 3)),
    bytes(Obis("1.0.12.36.0.255")): _phase_events(_C.OVERVOLTAGE_L1, (1, 2, 3)),
}


def computes_data_value(logical_name: bytes) -> bool:
    """Whether a Data object's value is computed from events when its meter lives (an event code
    object, an alarm register, an event counter); every other Data object keeps GET's fast path."""
    return logical_name in _COMPUTED


def data_value(ctx: ObjectContext) -> Data | None:
    """The value of such a Data object now; None for a static meter (its stored value stands)."""
    living = ctx.living
    compute = _COMPUTED.get(bytes(ctx.logical_name))
    if living is None or compute is None:
        return None
    return compute(ctx, living)


def data_written(ctx: ObjectContext, value: Data) -> None:
    """After a client wrote a Data object's value: a living meter's alarm register reads the
    written value plus the alarms of later events, and the meter logs 'alarm register cleared'."""
    living = ctx.living
    if living is None or ctx.logical_name not in ALARM_REGISTERS:
        return
    bases = ctx.change(RegisterBase).bases
    bases.append((ctx.clock.fleet_epoch(), float(_int_of(value, 0))))
    del bases[:-8]  # the last few writes: enough to read the register at past instants
    log_event(ctx, "standard", EventCode.ALARM_REGISTER_CLEARED)


# --------------------------------------------------------------------------- injected events

def inject_event(ctx: ObjectContext, kind: str, duration_s: float, phase: int | None = None) -> tuple[float, float]:
    """Make a living meter's event of `kind` (KINDS) start now and last `duration_s` seconds (whole
    seconds, 1 to MAX_DURATION_S), as if its generator had drawn it; `phase` (1..3) for sags and
    swells. `ctx` is the object that keeps them (server/objects.py `injected_home`: the Clock).

    It is read from then on like a generated event: its log rows, event codes, counters, the
    alarm bits, no energy while the supply fails. An alarm bit its start raises through the
    filter triggers the alarm pushes now; what its end raises (a power failure's power up) is
    the push scheduler's, like a generated event's. Returns its (start, end) in fleet epochs.
    ValueError says what does not fit.
    """
    living = ctx.living
    if living is None:
        raise ValueError("the meter's model has no living: section, so it has no events to inject into")
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(KINDS)}")
    phases = _events_of(living).phases
    if kind in PHASED:
        if phase is None or not 1 <= phase <= phases:
            raise ValueError(f"phase: expected 1 to {phases} for {kind}")
    elif phase is not None:
        raise ValueError(f"phase: {kind} concerns the whole meter, not one phase")
    duration = round(duration_s)
    if not 1 <= duration <= MAX_DURATION_S:
        raise ValueError(f"duration_s: expected 1 to {MAX_DURATION_S} seconds")
    start = float(math.floor(ctx.clock.fleet_epoch()))
    _, code, _ = _codes(kind, phase)
    alarm = _new_alarm(ctx, code)
    ctx.change(InjectedEvents).events.append((kind, phase, start, start + duration))
    if alarm:
        ctx.trigger_push("alarm")
    return start, start + duration


def inject_alarm(ctx: ObjectContext, register: int, bits: int) -> float:
    """Raise `bits` in alarm register `register` (1: 0.0.97.98.0.255, 2: .1.255) of a living meter
    now, through its alarm filter, until a client clears them; a bit the register did not show
    yet triggers the alarm pushes. `ctx` as for `inject_event`. Returns the fleet epoch."""
    living = ctx.living
    if living is None:
        raise ValueError("the meter's model has no living: section, so its alarm register is a stored value: "
                         "write it instead")
    if register not in (1, 2):
        raise ValueError("register: expected 1 or 2")
    if not 0 < bits <= 0xFFFFFFFF:
        raise ValueError("bits: expected 1 to 4294967295")
    which = register - 1
    alarm_filter = ctx.find(ALARM_FILTERS[which], _DATA)
    mask = 0xFFFFFFFF if alarm_filter is None else _int_of(alarm_filter.get(2), 0xFFFFFFFF)
    holder = ctx.find(ALARM_REGISTERS[which], _DATA)
    shown = 0 if holder is None else _int_of(holder.get(2), 0)
    at = ctx.clock.fleet_epoch()
    ctx.change(InjectedEvents).alarms.append((at, which, bits))
    if bits & mask & ~shown:
        ctx.trigger_push("alarm")
    return at
