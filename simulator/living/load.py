"""The load behind a meter: a curve of consumption (and solar export) over time, with closed-form
integrals, so any register reads its value at any instant in O(1).

The curve of one meter type is shared (`Curve`): per local day a table of cumulative import and
export over its 96 quarter-hours, built from the day type's shape (weekday, Saturday, Sunday or
holiday, after the BDEW standard load profiles' three day types), a seasonal factor and, for
import/export meters, a solar bell whose daily yield follows a regional weather factor (the same
for every meter of the fleet, as clouds are). A running prefix over days makes the cumulative
at any instant one table lookup.

Each meter scales the shared curve (`MeterCurve`: its own annual consumption within the model's
spread) and adds noise that keeps the closed form: a knot value c(k) at each quarter-hour
boundary, c(k) = noise x (that quarter-hour's import) x u(seed, k), and import over quarter-hour k
is the smooth import plus c(k+1) - c(k). The cumulative noise is then just c at the current
instant (interpolated within the quarter-hour): it never accumulates, and no quarter-hour's
import goes below (1 - noise) of the smooth one.

Units: electricity in W and Wh (the model's annual consumption is given in kWh), gas and water
in m3/h and m3. Instants are fleet epochs (UTC seconds); day shapes are in the meter's local
standard time (`utc_offset_s`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .noise import unit

__all__ = ["SolarModel", "LoadModel", "Curve", "MeterCurve", "curve_of", "SLOT_S", "DAY_S"]

SLOT_S = 900
DAY_S = 86400
_SLOTS = DAY_S // SLOT_S
_HOURS_PER_SLOT = SLOT_S / 3600
# Streams of the per-meter noise (simulator/living/noise.py): one per quantity.
_SCALE, _NOISE, _VOLTAGE, _POWER_FACTOR, _WEATHER, _FREQUENCY = range(1, 7)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class SolarModel:
    """A rooftop PV system sized to the household: `peak_w_per_kwh` W peak per kWh of annual
    consumption (1.0: a 3,500 kWh home has 3.5 kWp)."""

    peak_w_per_kwh: float = 1.0


@dataclass(frozen=True, slots=True)
class LoadModel:
    """A meter type's load, as its model YAML declares it (simulator/model/living.py).

    `weekday`, `saturday` and `sunday` are 24 hourly relative values (any scale); `base` is a
    constant share added to every hour (standby). `annual` is the mean annual consumption
    (Wh for electricity, m3 for gas and water); each meter draws its own within +-`spread`.
    The seasonal factor is 1 + season_amplitude x cos(2 pi (day of year - season_peak_day) / 365.25).
    """

    medium: str = "electricity"  # electricity, gas, water
    annual: float = 3_500_000.0
    spread: float = 0.3
    weekday: tuple[float, ...] = (1.0,) * 24
    saturday: tuple[float, ...] = (1.0,) * 24
    sunday: tuple[float, ...] = (1.0,) * 24
    base: float = 0.0
    season_amplitude: float = 0.0
    season_peak_day: int = 15
    noise: float = 0.0
    holidays: tuple[tuple[int, int], ...] = ()  # (month, day): the Sunday shape
    solar: SolarModel | None = None
    phases: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
    power_factor: float = 0.95
    inductive_share: float = 0.85  # of the reactive energy while importing: QI (the rest QIV)
    voltage: float = 230.0
    voltage_spread: float = 2.0  # V, standard deviation-like half range
    frequency: float = 50.0
    frequency_spread: float = 0.03
    backflow: float = 0.0  # water: share of volume flowing back


@dataclass(frozen=True, slots=True)
class _Day:
    """One local day of the shared curve, per unit of meter scale: cumulative import and export
    at each quarter-hour boundary (97 values each)."""

    imp: tuple[float, ...]
    exp: tuple[float, ...]


def _quarter_hours(hourly: tuple[float, ...], base: float) -> tuple[float, ...]:
    """96 values interpolated linearly from 24 hourly ones (each hour's value at its middle)."""
    out = []
    for s in range(_SLOTS):
        x = (s + 0.5) / 4 - 0.5
        h = math.floor(x)
        f = x - h
        out.append(base + hourly[h % 24] * (1 - f) + hourly[(h + 1) % 24] * f)
    return tuple(out)


class Curve:
    """The shared curve of one load model in one time zone: day tables and their prefix sums."""

    def __init__(self, model: LoadModel, utc_offset_s: int) -> None:
        self.model = model
        self.offset = utc_offset_s
        mean_base = model.base * (sum(model.weekday) / 24)
        self._shapes = tuple(_quarter_hours(s, mean_base) for s in (model.weekday, model.saturday, model.sunday))
        self._holidays = frozenset(model.holidays)
        self._days: dict[int, _Day] = {}
        self._anchor: int | None = None
        self._forward: list[tuple[float, float]] = [(0.0, 0.0)]
        self._backward: list[tuple[float, float]] = [(0.0, 0.0)]
        self._scale = 1.0
        reference = range(date(2001, 1, 1).toordinal() - _EPOCH_ORDINAL, date(2002, 1, 1).toordinal() - _EPOCH_ORDINAL)
        consumed = sum(self._consumption_day(d) for d in reference)
        self._scale = model.annual / consumed if consumed > 0 else 0.0
        peak = model.solar.peak_w_per_kwh * model.annual / 1000 if model.solar else 0.0
        self._solar_peak = peak  # W at scale 1

    # -- the shape of one day
    def _day_type(self, day: int) -> int:
        d = date.fromordinal(day + _EPOCH_ORDINAL)
        if (d.month, d.day) in self._holidays:
            return 2
        return {5: 1, 6: 2}.get(d.weekday(), 0)

    def _season(self, day: int) -> float:
        doy = date.fromordinal(day + _EPOCH_ORDINAL).timetuple().tm_yday
        return 1 + self.model.season_amplitude * math.cos(2 * math.pi * (doy - self.model.season_peak_day) / 365.25)

    def _consumption_day(self, day: int) -> float:
        return sum(self._shapes[self._day_type(day)]) * self._season(day) * _HOURS_PER_SLOT

    def _solar(self, day: int) -> tuple[float, ...] | None:
        """PV power per quarter-hour (W at scale 1): a sine bell between sunrise and sunset, its
        day length and height following the season (about 50 deg north) and the day's clouds."""
        if not self._solar_peak:
            return None
        doy = date.fromordinal(day + _EPOCH_ORDINAL).timetuple().tm_yday
        summer = math.cos(2 * math.pi * (doy - 172) / 365.25)
        length = 12 + 4 * summer
        rise = 13 - length / 2  # solar noon about 13:00 local standard time in central Europe
        height = self._solar_peak * (0.55 + 0.45 * summer) * (0.25 + 0.75 * unit(0, _WEATHER, day))
        out = []
        for s in range(_SLOTS):
            h = (s + 0.5) / 4
            out.append(height * math.sin(math.pi * (h - rise) / length) if rise < h < rise + length else 0.0)
        return tuple(out)

    def day(self, day: int) -> _Day:
        found = self._days.get(day)
        if found is not None:
            return found
        season = self._season(day) * self._scale
        shape = self._shapes[self._day_type(day)]
        solar = self._solar(day)
        imp, exp = [0.0], [0.0]
        for s in range(_SLOTS):
            power = shape[s] * season
            pv = solar[s] if solar else 0.0
            imp.append(imp[-1] + max(power - pv, 0.0) * _HOURS_PER_SLOT)
            exp.append(exp[-1] + max(pv - power, 0.0) * _HOURS_PER_SLOT)
        if len(self._days) > 4096:  # bounded: a year of reads across many days keeps the recent ones
            self._days.clear()
        found = self._days[day] = _Day(tuple(imp), tuple(exp))
        return found

    # -- cumulative over days
    def prefix(self, day: int) -> tuple[float, float]:
        """Import and export from the anchor day (the first day ever asked for) to the start of
        `day`; negative before the anchor. Fixed once anchored, so differences stay right
        whatever order days are asked in."""
        if self._anchor is None:
            self._anchor = day
        i = day - self._anchor
        if i >= 0:
            forward = self._forward
            while len(forward) <= i:
                d = self.day(self._anchor + len(forward) - 1)
                last = forward[-1]
                forward.append((last[0] + d.imp[-1], last[1] + d.exp[-1]))
            return forward[i]
        backward = self._backward
        while len(backward) <= -i:
            d = self.day(self._anchor - len(backward))
            last = backward[-1]
            backward.append((last[0] + d.imp[-1], last[1] + d.exp[-1]))
        imp, exp = backward[-i]
        return -imp, -exp

    def locate(self, t: float) -> tuple[int, int, float]:
        """(local day, quarter-hour of the day, fraction of it elapsed) of fleet epoch `t`."""
        local = t + self.offset
        day = math.floor(local / DAY_S)
        sec = local - day * DAY_S
        slot = min(int(sec // SLOT_S), _SLOTS - 1)
        return day, slot, (sec - slot * SLOT_S) / SLOT_S

    def slot_energy(self, day: int, slot: int) -> tuple[float, float]:
        d = self.day(day)
        return d.imp[slot + 1] - d.imp[slot], d.exp[slot + 1] - d.exp[slot]


@lru_cache(maxsize=64)
def curve_of(model: LoadModel, utc_offset_s: int) -> Curve:
    """The shared curve of a load model: one per (model, time zone) in the process."""
    return Curve(model, utc_offset_s)


class MeterCurve:
    """One meter's curve: the shared one, scaled by the meter's own consumption, plus its noise.

    `imports(t)` / `exports(t)` are cumulative from an arbitrary origin: only differences mean
    anything. The last quarter-hour's knots are memoised (a head-end polling a register
    inside one quarter-hour pays for no hash).
    """

    __slots__ = ("curve", "seed", "scale", "noise", "_knot_slot", "_knots", "_last_t", "_last")

    def __init__(self, curve: Curve, seed: int) -> None:
        self.curve = curve
        self.seed = seed
        self.scale = 1 + curve.model.spread * (2 * unit(seed, _SCALE, 0) - 1)
        self.noise = min(max(curve.model.noise, 0.0), 0.9)
        self._knot_slot: int | None = None
        self._knots = (0.0, 0.0)
        self._last_t: float | None = None
        self._last = (0.0, 0.0)

    def _knot(self, k: int) -> float:
        if not self.noise:
            return 0.0
        day, slot = divmod(k, _SLOTS)
        return self.noise * self.scale * self.curve.slot_energy(day, slot)[0] * unit(self.seed, _NOISE, k)

    def _knot_pair(self, k: int) -> tuple[float, float]:
        if self._knot_slot != k:
            self._knots = (self._knot(k), self._knot(k + 1))
            self._knot_slot = k
        return self._knots

    def cumulative(self, t: float) -> tuple[float, float]:
        """Import and export from the curve's anchor to `t` (the last instant asked is memoised:
        a profile row reads several registers at one instant)."""
        if t == self._last_t:
            return self._last
        day, slot, frac = self.curve.locate(t)
        d = self.curve.day(day)
        pi, pe = self.curve.prefix(day)
        lo, hi = d.imp[slot], d.imp[slot + 1]
        k = day * _SLOTS + slot
        if self._knot_slot != k:
            self._knots = (self._knot(k), self._knot(k + 1))
            self._knot_slot = k
        a, b = self._knots
        scale = self.scale
        result = ((pi + lo + (hi - lo) * frac) * scale + a + (b - a) * frac,
                  (pe + d.exp[slot] + (d.exp[slot + 1] - d.exp[slot]) * frac) * scale)
        self._last_t, self._last = t, result
        return result

    def imports(self, t: float) -> float:
        return self.cumulative(t)[0]

    def exports(self, t: float) -> float:
        return self.cumulative(t)[1]

    def powers(self, t: float) -> tuple[float, float]:
        """Average import and export power (W, or m3/h) over the quarter-hour holding `t`."""
        day, slot, _ = self.curve.locate(t)
        imp, exp = self.curve.slot_energy(day, slot)
        a, b = self._knot_pair(day * _SLOTS + slot)
        return (imp * self.scale + b - a) / _HOURS_PER_SLOT, exp * self.scale / _HOURS_PER_SLOT

    def wobble(self, stream: int, t: float, period: float) -> float:
        """A seeded number in [-1, 1) that changes every `period` seconds (voltage, power factor)."""
        return 2 * unit(self.seed, stream, int(t // period)) - 1


STREAMS = {"voltage": _VOLTAGE, "power_factor": _POWER_FACTOR, "frequency": _FREQUENCY}
