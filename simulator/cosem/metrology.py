"""Registers of living meters: which quantity an OBIS code measures, and its value when read.

A living meter (its model has a `living: load:` section) computes its energy, volume and
instantaneous registers from its load curve (simulator/living) at the instant they are read;
the model's value of a cumulative register is its reading at installation. The quantity
follows the OBIS code (IEC 62056-6-1: value group A the medium, C the quantity, D the
processing, E the tariff), so a model needs no extra declaration:

- electricity, D = 8 (time integral): C 1 +A, 2 -A, 3 +R, 4 -R, 5..8 reactive QI..QIV,
  21/41/61 +A per phase; E 0 total, E n the energy while tariff n was active;
- electricity, D = 7 (instantaneous): C 1 +P, 2 -P, 3 +Q, 4 -Q, 9 +S, 13 power factor,
  14 frequency, 21/41/61 +P per phase, 31/51/71 current, 32/52/72 voltage, 33/53/73 power
  factor per phase, 91 neutral current;
- gas (A 7): 3.0 volume at metering conditions, 13.0 converted volume (x the conversion
  factor object 7.0.52.0.0.255), 43.0 flow, 41.0 gas temperature; water (A 8): 1.0 volume
  (E 1 the backflow), 2.0 flow, 3.0 temperature;
- Demand register (class 5) C 1/2 D 4: the average power over its period; Extended register
  (class 4) C 1/2 D 6: the maximum demand since the billing period began (the month), with
  the end of the period it occurred in as capture_time.

A client's SET (or reset) of a cumulative register is kept as a `RegisterBase`: the register
goes on from that value. No energy flows while the disconnector is open (SupplyChanges) or
the supply fails.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Callable, Sequence

from ..apdu.common import DataAccessResult
from ..axdr import Data, DataType, Obis
from ..axdr.data import FLOAT_FORMATS, INTEGER_FORMATS
from ..living.events import History
from ..living.load import DAY_S, SLOT_S, STREAMS, MeterCurve, curve_of
from ..living.meter import history_of
from ..living.metrology import Instant, Interval, Metrology, merge
from ..state.effects import RegisterBase, SupplyChanges
from .base import AccessFailure
from .clock import timestamp
from .context import ObjectContext
from .tariff import tariff_windows

__all__ = ["Quantity", "quantity_of", "is_living", "value", "reader", "set_value", "reset_value", "hold_tariff_registers",
           "demand_attribute", "max_demand_attribute", "metrology_of", "no_flow"]

_DISCONNECTOR = Obis("0.0.96.3.10.255")
_CONVERSION_FACTOR = Obis("7.0.52.0.0.255")
_DISCONNECT_CONTROL = 70


class Quantity:
    """What one register measures: a cumulative `energy` kind (with tariff) or an `instant` one."""

    __slots__ = ("cumulative", "kind", "tariff", "phase")

    def __init__(self, cumulative: bool, kind: str, tariff: int = 0, phase: int | None = None) -> None:
        self.cumulative = cumulative
        self.kind = kind
        self.tariff = tariff
        self.phase = phase


_ENERGY = {1: "import", 2: "export", 3: "+R", 4: "-R", 5: "QI", 6: "QII", 7: "QIII", 8: "QIV"}
_PHASE_ENERGY = {21: 0, 41: 1, 61: 2}
_INSTANT = {1: "p_import", 2: "p_export", 3: "q_import", 4: "q_export", 9: "s_import", 13: "power_factor",
            14: "frequency", 91: "neutral"}
_PHASE_INSTANT = {21: ("phase_power", 0), 41: ("phase_power", 1), 61: ("phase_power", 2),
                  31: ("current", 0), 51: ("current", 1), 71: ("current", 2),
                  32: ("voltage", 0), 52: ("voltage", 1), 72: ("voltage", 2),
                  33: ("phase_power_factor", 0), 53: ("phase_power_factor", 1), 73: ("phase_power_factor", 2)}


@lru_cache(maxsize=4096)
def quantity_of(logical_name: bytes) -> Quantity | None:
    """The quantity an OBIS code names, or None (a value the model fixes)."""
    a, _, c, d, e, f = logical_name
    if f != 0xFF:
        return None
    if a == 1:
        if d == 8 and c in _ENERGY and e <= 8:
            return Quantity(True, _ENERGY[c], e)
        if d == 8 and c in _PHASE_ENERGY and e == 0:
            return Quantity(True, "import", 0, _PHASE_ENERGY[c])
        if d == 7 and e == 0 and c in _INSTANT:
            return Quantity(False, _INSTANT[c])
        if d == 7 and e == 0 and c in _PHASE_INSTANT:
            kind, phase = _PHASE_INSTANT[c]
            return Quantity(False, kind, 0, phase)
        if d == 24 and e == 0 and c in _PHASE_INSTANT and _PHASE_INSTANT[c][0] in ("voltage", "current"):
            kind, phase = _PHASE_INSTANT[c]
            return Quantity(False, "average_" + kind, 0, phase)
        if d in (4, 6) and c in (1, 2) and e == 0:
            return Quantity(False, "demand" if d == 4 else "max_demand", 0, None if c == 1 else 1)
    if a == 7 and e == 0:
        return {(3, 0): Quantity(True, "import"), (13, 0): Quantity(True, "converted"),
                (43, 0): Quantity(False, "p_import"), (41, 0): Quantity(False, "temperature")}.get((c, d))
    if a == 8 and d == 0:
        return {(1, 0): Quantity(True, "import"), (1, 1): Quantity(True, "backflow"),
                (2, 0): Quantity(False, "p_import"), (3, 0): Quantity(False, "temperature")}.get((c, e))
    return None


def is_living(logical_name: bytes) -> bool:
    """Whether a register with this logical name computes its value (for AttributeDef.getter_for)."""
    return quantity_of(logical_name) is not None


# --------------------------------------------------------------------------- the meter's metrology

def metrology_of(ctx: ObjectContext) -> Metrology | None:
    """This meter's metrology, built on first use (None: the model has no load)."""
    living = ctx.living
    if living is None or living.model.load is None:
        return None
    m = living.cache.get("metrology")
    if m is None:
        offset = ctx.clock.local_time().utcoffset()
        seconds = int(offset.total_seconds()) if offset is not None else 0
        m = living.cache["metrology"] = Metrology(MeterCurve(curve_of(living.model.load, seconds), living.seed),
                                                 living.installed)
    return m


def no_flow(ctx: ObjectContext, t: float) -> list[Interval]:
    """The intervals in which no energy flowed up to fleet epoch `t` (and possibly a little
    after): the disconnector open, the supply failed (simulator/living/events.py), merged."""
    living = ctx.living
    assert living is not None
    cache = living.cache
    events = cache.get("events")
    if not isinstance(events, History) or t >= events.until:
        events = history_of(living, t)
    key = (ctx.revision, events.until)  # a switch of the disconnector changes the revision
    memo = cache.get("no_flow")
    if memo is not None and memo[0] == key:
        return memo[1]
    if "disconnector" not in cache:  # a handle kept for its effect records, which do not depend on `now`
        cache["disconnector"] = ctx.find(_DISCONNECTOR, _DISCONNECT_CONTROL)
    disconnector = cache["disconnector"]
    changes = None if disconnector is None else disconnector.effect(SupplyChanges)
    switched = changes.changes if changes is not None else []
    failures = events.failures
    out: list[Interval] = list(failures)
    opened: float | None = None
    for at, connected in switched:
        if not connected and opened is None:
            opened = at
        elif connected and opened is not None:
            out.append((opened, at))
            opened = None
    if opened is not None:
        out.append((opened, math.inf))
    merged = merge(out)
    cache["no_flow"] = (key, merged)
    return merged


def _tan(m: Metrology) -> float:
    pf = m.curve.curve.model.power_factor
    return math.sqrt(max(1 - pf * pf, 0.0)) / pf


def _coefficients(ctx: ObjectContext, m: Metrology, q: Quantity) -> tuple[float, float]:
    """How quantity `q` follows from an interval's import and export: q = a x import + b x export
    (every quantity a register integrates is linear in them)."""
    kind = q.kind
    model = m.curve.curve.model
    if kind == "import":
        return (1.0 if q.phase is None else model.phases[q.phase]), 0.0
    if kind == "export":
        return 0.0, 1.0
    tan = _tan(m)
    share = model.inductive_share
    reactive = {"QI": (tan * share, 0.0), "QIV": (tan * (1 - share), 0.0), "QII": (0.0, tan * 0.1),
                "QIII": (0.0, 0.0), "+R": (tan * share, tan * 0.1), "-R": (tan * (1 - share), 0.0)}
    if kind in reactive:
        return reactive[kind]
    if kind == "converted":
        factor = ctx.find(_CONVERSION_FACTOR)
        f = factor.get(2).value if factor is not None else 1.0
        return (float(f) if isinstance(f, (int, float)) and not isinstance(f, bool) else 1.0), 0.0
    if kind == "backflow":
        return model.backflow, 0.0
    return 0.0, 0.0


def _tariff_flows(ctx: ObjectContext, m: Metrology, t: float, gaps: list[Interval]) -> dict[int, tuple[float, float]]:
    """Import and export per tariff from installation to `t`.

    Whole days since installation are summed once per meter and kept in its cache: a day
    that has passed keeps its tariffs and flows (a later calendar, disconnection or clock
    change acts from its own instant on), so only the day holding `t` is split when read."""
    living = ctx.living
    assert living is not None
    days: list[dict[int, tuple[float, float]]] = living.cache.setdefault("tariff_days", [{}])
    # only days already past are kept: what happens later today may still change today
    whole = max(int((min(t, ctx.clock.fleet_epoch()) - m.installed) // DAY_S), 0)
    while len(days) <= whole:
        start = m.installed + (len(days) - 1) * DAY_S
        days.append(_add(days[-1], _split(ctx, m, start, start + DAY_S, gaps)))
    start = m.installed + whole * DAY_S
    return _add(days[whole], _split(ctx, m, start, t, gaps))


def _split(ctx: ObjectContext, m: Metrology, a: float, b: float, gaps: list[Interval]) -> dict[int, tuple[float, float]]:
    out: dict[int, tuple[float, float]] = {}
    for x, y, tariff in tariff_windows(ctx, a, b):
        imp, exp = m.flow(x, y, gaps)
        before = out.get(tariff, (0.0, 0.0))
        out[tariff] = (before[0] + imp, before[1] + exp)
    return out


def _add(a: dict[int, tuple[float, float]], b: dict[int, tuple[float, float]]) -> dict[int, tuple[float, float]]:
    out = dict(a)
    for tariff, (imp, exp) in b.items():
        before = out.get(tariff, (0.0, 0.0))
        out[tariff] = (before[0] + imp, before[1] + exp)
    return out


def _measured(ctx: ObjectContext, m: Metrology, reg: "_Register", t: float, gaps: list[Interval]) -> float:
    """The register's quantity from installation to `t` (of its tariff only, for a tariff register)."""
    tariff = reg.quantity.tariff if reg.quantity is not None else 0
    if tariff:
        imp, exp = _tariff_flows(ctx, m, t, gaps).get(tariff, (0.0, 0.0))
    else:
        imp, exp = m.flow(m.installed, t, gaps)
    a, b = reg.coefficients
    return a * imp + b * exp


# --------------------------------------------------------------------------- encoding

def _scaler(ctx: ObjectContext, index: int) -> int:
    su = ctx.stored(index)
    if su is not None and su.type == DataType.STRUCTURE and su.value and su.value[0].type == DataType.INTEGER:
        return su.value[0].value
    return 0


class _Register:
    """What a living register's reads need from its stored attributes, derived once per meter
    and register, and again only when its scaler_unit object changes: the quantity, the
    installation reading, and how a measured number becomes the declared value.

    It also keeps the register's current straight segment: within one quarter-hour with no
    interval without flow, no tariff switch and no change to the meter (its state's revision),
    a cumulative register grows linearly, so a read there is one multiplication."""

    __slots__ = ("scaler_unit", "quantity", "scaler", "initial", "type", "factor", "lo", "hi", "revision",
                 "seg_lo", "seg_hi", "seg_x0", "seg_slope", "last_read", "coefficients", "last")

    def __init__(self, ctx: ObjectContext, m: Metrology, scaler_unit: Data | None) -> None:
        self.scaler_unit = scaler_unit
        self.revision = ctx.revision
        self.seg_lo = self.seg_hi = self.seg_x0 = self.seg_slope = 0.0
        self.last_read = -math.inf
        self.last: tuple[int | None, Data] = (None, Data(DataType.NULL_DATA))
        self.quantity = quantity_of(bytes(ctx.logical_name))
        self.coefficients = (0.0, 0.0) if self.quantity is None else _coefficients(ctx, m, self.quantity)
        self.scaler = _scaler(ctx, 3)
        like = ctx.stored(2)
        self.initial = _number(like) * 10.0 ** self.scaler
        self.factor = 10.0 ** -self.scaler
        t = like.type if like is not None else DataType.DOUBLE_LONG_UNSIGNED
        if t not in FLOAT_FORMATS and t not in INTEGER_FORMATS:
            t = DataType.DOUBLE_LONG_UNSIGNED
        self.type = t
        size, signed = INTEGER_FORMATS.get(t, (0, False))
        self.hi = (1 << (8 * size - 1)) - 1 if signed else (1 << (8 * size)) - 1
        self.lo = -self.hi - 1 if signed else 0

    def encode(self, x: float) -> Data:
        """`x` (in the register's unit) as the model declares the value: its type, its scaler.
        A polled register mostly reads the same whole number again: that Data is reused."""
        raw = x * self.factor
        if self.type in FLOAT_FORMATS:
            return Data(self.type, raw)
        number = min(max(round(raw), self.lo), self.hi)
        if number != self.last[0]:
            self.last = (number, Data(self.type, number))
        return self.last[1]


def _register(ctx: ObjectContext, m: Metrology, cache: dict[Any, Any]) -> _Register:
    key = ctx.logical_name  # an Obis (bytes): no other key of the cache is one
    found = cache.get(key)
    if isinstance(found, _Register):
        if found.revision == ctx.revision:
            return found
        scaler_unit = ctx.stored(3)
        if found.scaler_unit is scaler_unit:
            found.revision = ctx.revision
            found.seg_hi = found.seg_lo  # the meter changed: the segment is worked out again
            if found.quantity is not None:  # a conversion factor may have changed
                found.coefficients = _coefficients(ctx, m, found.quantity)
            return found
    found = cache[key] = _Register(ctx, m, ctx.stored(3))
    return found


def _encoded(like: Data | None, x: float, scaler: int) -> Data:
    """`x` (in the attribute's unit) as the model declares the value: its type, its scaler."""
    t = like.type if like is not None else DataType.DOUBLE_LONG_UNSIGNED
    raw = x / 10.0 ** scaler
    if t in FLOAT_FORMATS:
        return Data(t, raw)
    fmt = INTEGER_FORMATS.get(t)
    if fmt is None:
        t, fmt = DataType.DOUBLE_LONG_UNSIGNED, INTEGER_FORMATS[DataType.DOUBLE_LONG_UNSIGNED]
    size, signed = fmt
    hi = (1 << (8 * size - 1)) - 1 if signed else (1 << (8 * size)) - 1
    lo = -hi - 1 if signed else 0
    return Data(t, min(max(round(raw), lo), hi))


def _number(d: Data | None) -> float:
    return float(d.value) if d is not None and isinstance(d.value, (int, float)) and not isinstance(d.value, bool) \
        else 0.0


# --------------------------------------------------------------------------- Register value

def _instant_value(ctx: ObjectContext, m: Metrology, q: Quantity, t: float, gaps: list[Interval]) -> float:
    living = ctx.living
    assert living is not None
    failures = history_of(living, t)
    now: Instant = m.at(t, gaps, failures.outages(t, t + 1e-3))
    kind = q.kind
    if kind == "s_import":
        return math.hypot(now.p_import, now.q_import)
    if kind == "temperature":
        model = m.curve.curve.model
        doy = datetime.fromtimestamp(t, timezone.utc).timetuple().tm_yday
        winter = math.cos(2 * math.pi * (doy - 15) / 365.25)
        base = 12 - 6 * winter if model.medium == "water" else 15 - 5 * winter
        return base + 0.5 * m.curve.wobble(7, t, 600)
    if kind.startswith("average_") and q.phase is not None:
        return _average(m, kind, q.phase, t, gaps, now)
    if q.phase is not None:
        phase_value: Callable[[int], float] = getattr(now, kind)
        return phase_value(q.phase)
    return float(getattr(now, kind))


_AVERAGING_S = 600  # the power quality averages' period (IEC 61000-4-30's 10-minute aggregation)


def _average(m: Metrology, kind: str, phase: int, t: float, gaps: list[Interval], now: Instant) -> float:
    """A phase's average voltage or current over the last complete 10-minute period: the
    current from the energy that flowed in it, the voltage from the period's own seeded level
    (steadier than the instantaneous one)."""
    end = t - t % _AVERAGING_S
    model = m.curve.curve.model
    voltage = model.voltage + model.voltage_spread / 3 * m.curve.wobble(STREAMS["voltage"] + 16 * (phase + 1), end, _AVERAGING_S)
    if kind == "average_voltage":
        return voltage if now.voltage(phase) > 0 else 0.0
    energy = m.flow(max(end - _AVERAGING_S, m.installed), end, gaps)[0] * model.phases[phase]
    power = energy * 3600 / _AVERAGING_S
    return power / (voltage * model.power_factor) if voltage > 0 else 0.0


def _cumulative(ctx: ObjectContext, m: Metrology, reg: "_Register", t: float) -> float:
    """The reading at `t`: the installation reading (or the newest value a client set before
    `t`) plus what was measured since."""
    if t <= m.installed:
        return reg.initial
    own = ctx.effect(RegisterBase)
    return _reading(ctx, m, reg, t, no_flow(ctx, t), own.bases if own is not None else ())


def _reading(ctx: ObjectContext, m: Metrology, reg: "_Register", t: float, gaps: list[Interval],
             bases: Sequence[tuple[float, float]]) -> float:
    """`_cumulative` with the meter's no-flow intervals and the register's bases at hand."""
    total = _measured(ctx, m, reg, t, gaps)
    for at, base in reversed(bases):
        if at <= t:
            return base + total - _measured(ctx, m, reg, max(at, m.installed), gaps)
    return reg.initial + total


def value(ctx: ObjectContext) -> Data:
    """Register / Extended register attribute 2: measured now (living), else what is stored."""
    living = ctx.living
    m = None if living is None else living.cache.get("metrology") or metrology_of(ctx)
    reg = None if m is None or living is None else _register(ctx, m, living.cache)
    q = None if reg is None else reg.quantity
    if m is None or reg is None or q is None or q.kind == "demand":
        stored = ctx.stored(2)
        return stored if stored is not None else Data(DataType.NULL_DATA)
    t = ctx.clock.fleet_epoch()
    if reg.seg_lo <= t < reg.seg_hi:  # the usual read of a polled register
        return reg.encode(reg.seg_x0 + (t - reg.seg_lo) * reg.seg_slope)
    if q.kind == "max_demand":
        return max_demand_attribute(ctx, 2)
    if not q.cumulative:
        return reg.encode(_instant_value(ctx, m, q, t, no_flow(ctx, t)))
    x = _cumulative(ctx, m, reg, t)
    if 0 < t - reg.last_read < SLOT_S:  # read again soon after: a head-end polling, not a profile row
        _straighten(ctx, m, q, reg, t, x)
    reg.last_read = t
    return reg.encode(x)


def _straighten(ctx: ObjectContext, m: Metrology, q: Quantity, reg: _Register, t: float, x: float) -> None:
    """Note the straight segment holding `t` for the next reads, where there is one."""
    lo = t - (t + m.curve.curve.offset) % SLOT_S
    hi = lo + SLOT_S
    own = ctx.effect(RegisterBase)
    if own is not None:
        lo = max([lo, *(at for at, _ in own.bases if at <= t)])
        if any(t < at < hi for at, _ in own.bases):
            return
    if lo < m.installed or any(a < hi and b > lo for a, b in no_flow(ctx, t)):
        return
    if q.tariff and len(tariff_windows(ctx, lo, hi)) != 1:
        return
    end = _cumulative(ctx, m, reg, hi)
    reg.seg_lo, reg.seg_hi = t, hi
    reg.seg_x0, reg.seg_slope = x, (end - x) / (hi - t) if hi > t else 0.0


def reader(ctx: ObjectContext, attribute: int) -> Callable[[float], Data] | None:
    """A reader of a living cumulative register's value at any instant of the meter's clock up
    to now, for building many profile rows without an object handle per cell (None: not such a
    register).
    `ctx` is the register now: what it was set to and the meter's disconnections are read
    through it, as a read at an earlier instant would."""
    if attribute != 2 or ctx.cls.class_id not in (3, 4):
        return None
    living = ctx.living
    m = None if living is None else metrology_of(ctx)
    if living is None or m is None:
        return None
    reg = _register(ctx, m, living.cache)
    q = reg.quantity
    if q is None or not q.cumulative:
        return None

    # one request: the bases and the intervals without flow up to now hold for every row
    own = ctx.effect(RegisterBase)
    bases = own.bases if own is not None else ()
    gaps = no_flow(ctx, ctx.clock.fleet_epoch())
    installed, initial, encode = m.installed, reg.initial, reg.encode
    offset = ctx.clock.offset()
    if not q.tariff and not bases:  # the usual column: one shared flow and two products a row
        a, b = reg.coefficients
        flow = m.flow

        def read_plain(meter_epoch: float) -> Data:
            t = meter_epoch - offset
            if t <= installed:
                return encode(initial)
            imp, exp = flow(installed, t, gaps)
            return encode(initial + a * imp + b * exp)

        return read_plain

    def read(meter_epoch: float) -> Data:
        t = meter_epoch - offset
        return encode(initial if t <= installed else _reading(ctx, m, reg, t, gaps, bases))

    return read


def hold_tariff_registers(ctx: ObjectContext) -> None:
    """The meter's clock is about to move: each living tariff register keeps its reading now,
    so the time before stays split into tariffs as it was and what follows is split as the
    new clock says (without this, the registers of the day, or of the whole history after a
    restart, would be split anew and could go down). `ctx`: any object of the logical device."""
    living = ctx.living
    m = None if living is None else metrology_of(ctx)
    if living is None or m is None:
        return
    t = ctx.clock.fleet_epoch()
    if t <= m.installed:
        return
    for obj in ctx.objects():
        q = quantity_of(bytes(obj.logical_name)) if obj.cls.class_id in (3, 4) else None
        if q is None or not q.cumulative or not q.tariff:
            continue
        reading = _cumulative(obj, m, _register(obj, m, living.cache), t)
        bases = obj.change(RegisterBase).bases
        bases.append((t, reading))
        del bases[:-16]


def set_value(ctx: ObjectContext, new: Data) -> None:
    """SET of attribute 2: a cumulative living register goes on from the value set; an
    instantaneous one is measured, not set."""
    q = quantity_of(bytes(ctx.logical_name))
    if q is None or metrology_of(ctx) is None or q.kind in ("demand", "max_demand"):
        ctx.set(2, new)
        return
    if not q.cumulative:
        raise AccessFailure(DataAccessResult.READ_WRITE_DENIED, "an instantaneous value is measured by the meter")
    bases = ctx.change(RegisterBase).bases
    bases.append((ctx.clock.fleet_epoch(), _number(new) * 10.0 ** _scaler(ctx, 3)))
    del bases[:-16]  # the past beyond the newest bases is older than any profile keeps


def reset_value(ctx: ObjectContext) -> bool:
    """Register reset on a living cumulative register: it goes on from zero (False: not living)."""
    q = quantity_of(bytes(ctx.logical_name))
    if q is None or not q.cumulative or metrology_of(ctx) is None:
        return False
    bases = ctx.change(RegisterBase).bases
    bases.append((ctx.clock.fleet_epoch(), 0.0))
    del bases[:-16]
    return True


# --------------------------------------------------------------------------- demand

def _meter_time(ctx: ObjectContext, fleet_epoch: float) -> Data:
    """The date-time the meter's clock showed at `fleet_epoch`, as capture times hold it."""
    offset = ctx.clock.offset()
    return timestamp(ctx.at(fleet_epoch + offset))


def demand_attribute(ctx: ObjectContext, index: int) -> Data | None:
    """Demand register (class 5) attributes 2, 3, 6, 7 of a living meter (None: not living).

    Periods are aligned to multiples of `period` seconds of the meter's clock; the current
    average is over the part of the current period already elapsed."""
    q = quantity_of(bytes(ctx.logical_name))
    m = None if q is None or q.kind != "demand" else metrology_of(ctx)
    if q is None or m is None:
        return None
    period = max(int(_number(ctx.stored(8))) or SLOT_S, 1)
    offset = ctx.clock.offset()
    t = ctx.clock.fleet_epoch()
    start = math.floor((t + offset) / period) * period - offset
    if index in (6, 7):
        return _meter_time(ctx, start)
    gaps = no_flow(ctx, t)
    a, b = (start, t) if index == 2 else (start - period, start)
    a = max(a, m.installed)
    energy = m.flow(a, b, gaps)[0 if q.phase is None else 1] if b > a else 0.0
    power = energy * 3600 / (b - a) if b > a else 0.0
    return _encoded(ctx.stored(index), power, _scaler(ctx, 4))


# --------------------------------------------------------------------------- maximum demand

def _billing_start(ctx: ObjectContext, t: float) -> float:
    """The fleet epoch the billing period holding `t` began: the meter's local midnight on the
    first of the month (an instant exactly at that midnight still belongs to the period before,
    whose values the billing capture then reads)."""
    offset = ctx.clock.offset()
    tz = ctx.clock.local_time().utcoffset() or timedelta(0)
    local = datetime.fromtimestamp(t + offset - 1, timezone.utc) + tz
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first - tz).replace(tzinfo=timezone.utc).timestamp() - offset


def max_demand_attribute(ctx: ObjectContext, index: int) -> Data:
    """Extended register 1.0.1.6.0.255 / 1.0.2.6.0.255: the highest 15-minute average power
    since the billing period began (2), when its period ended (5)."""
    q = quantity_of(bytes(ctx.logical_name))
    m = metrology_of(ctx)
    assert q is not None and m is not None
    t = ctx.clock.fleet_epoch()
    start = max(_billing_start(ctx, t), m.installed)
    gaps = no_flow(ctx, t)
    column = 0 if q.phase is None else 1
    living = ctx.living
    assert living is not None
    key = ("max_demand", column, start, tuple(gaps))  # the scan so far, per period and disconnections
    done, best, best_end = living.cache.get(key, (start, 0.0, start))
    end = math.floor((t - start) / SLOT_S) * SLOT_S + start
    k = done
    while k + SLOT_S <= end:
        power = m.flow(k, k + SLOT_S, gaps)[column] * 3600 / SLOT_S
        if power > best:
            best, best_end = power, k + SLOT_S
        k += SLOT_S
    living.cache[key] = (k, best, best_end)
    if index == 5:
        return _meter_time(ctx, best_end) if best > 0 else Data(DataType.OCTET_STRING, b"\xff" * 12)
    return _encoded(ctx.stored(2), best, _scaler(ctx, 3))
