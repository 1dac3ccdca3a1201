"""What one meter measured between two instants, and what it measures at one: the curve of
simulator/living/load.py minus the intervals in which nothing flowed (power failures,
disconnection).

`Metrology` is built per meter on first use and kept in its `LivingMeter.cache`; its intervals
without flow are handed in by the caller, who knows the meter's events and its disconnector.
"""

from __future__ import annotations

import math
from typing import Sequence

from .load import STREAMS, MeterCurve
from .noise import unit

__all__ = ["Metrology", "merge", "Interval", "Instant"]

Interval = tuple[float, float]


def merge(intervals: Sequence[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of intervals (an empty one is dropped)."""
    out: list[Interval] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


class Instant:
    """Instantaneous values at one instant, consistent with the energy flowing then; each is
    computed only when asked (a register monitor polls the power alone)."""

    __slots__ = ("_m", "_t", "_flowing", "_powered", "_powers")

    def __init__(self, m: "Metrology", t: float, flowing: bool, powered: bool) -> None:
        self._m, self._t, self._flowing, self._powered = m, t, flowing, powered
        self._powers: tuple[float, float] | None = None

    def _power_pair(self) -> tuple[float, float]:
        if self._powers is None:
            self._powers = self._m.curve.powers(self._t) if self._flowing else (0.0, 0.0)
        return self._powers

    @property
    def p_import(self) -> float:
        return self._power_pair()[0]

    @property
    def p_export(self) -> float:
        return self._power_pair()[1]

    @property
    def power_factor(self) -> float:
        """The total power factor (1 with no load)."""
        if not any(self._power_pair()):
            return 1.0
        return self._pf()

    def _pf(self) -> float:
        model = self._m.curve.curve.model
        return min(model.power_factor + 0.02 * self._m.curve.wobble(STREAMS["power_factor"], self._t, 60), 1.0)

    def _tan(self) -> float:
        pf = self._pf()
        return math.sqrt(max(1 - pf * pf, 0.0)) / pf if pf > 0 else 0.0

    @property
    def q_import(self) -> float:
        return self.p_import * self._tan()

    @property
    def q_export(self) -> float:
        return self.p_export * 0.1 * self._tan()

    def voltage(self, phase: int) -> float:
        if not self._powered:
            return 0.0
        model = self._m.curve.curve.model
        return model.voltage + model.voltage_spread * self._m.curve.wobble(STREAMS["voltage"] + 16 * (phase + 1), self._t, 10)

    def phase_power(self, phase: int) -> float:
        return self.p_import * self._m.curve.curve.model.phases[phase]

    def phase_power_factor(self, phase: int) -> float:
        return min(self._pf() + 0.01 * self._m.curve.wobble(STREAMS["power_factor"] + 16 * (phase + 1), self._t, 60), 1.0)

    def current(self, phase: int) -> float:
        p = self.phase_power(phase)
        if not p:
            return 0.0
        u, f = self.voltage(phase), self.phase_power_factor(phase)
        return p / (u * f) if u > 0 and f > 0 else 0.0

    @property
    def neutral(self) -> float:
        """The vector sum of three currents 120 degrees apart."""
        i1, i2, i3 = (self.current(p) for p in range(3))
        return math.sqrt(max(i1 * i1 + i2 * i2 + i3 * i3 - i1 * i2 - i2 * i3 - i3 * i1, 0.0))

    @property
    def frequency(self) -> float:
        if not self._powered:
            return 0.0
        model = self._m.curve.curve.model  # one grid: every meter of the fleet reads the same frequency
        return model.frequency + model.frequency_spread * (2 * unit(0, STREAMS["frequency"], int(self._t // 10)) - 1)


class Metrology:
    """One meter's energy between any two instants, and its instantaneous values."""

    __slots__ = ("curve", "installed", "_at_installed", "_losses", "_last", "_last_flow")

    def __init__(self, curve: MeterCurve, installed: float) -> None:
        self.curve = curve
        self.installed = installed
        self._at_installed = curve.cumulative(installed)
        self._losses: dict[Interval, tuple[float, float]] = {}  # what a whole interval without flow kept back
        # the last flow asked (a profile row's columns share it), with the very no-flow list it left out: a
        # list rebuilt after an injected power failure may sit where the old one was, so its id is no key
        self._last: tuple[float, float, Sequence[Interval]] | None = None
        self._last_flow = (0.0, 0.0)

    def flow(self, a: float, b: float, no_flow: Sequence[Interval]) -> tuple[float, float]:
        """Import and export in [a, b), leaving out the merged intervals `no_flow`."""
        if b <= a:
            return 0.0, 0.0
        last = self._last
        if last is not None and last[0] == a and last[1] == b and last[2] is no_flow:
            return self._last_flow
        c = self.curve
        start = self._at_installed if a == self.installed else c.cumulative(a)
        end = c.cumulative(b)
        imp, exp = end[0] - start[0], end[1] - start[1]
        for x, y in no_flow:
            if y <= a:
                continue
            if x >= b:
                break
            if a <= x and y <= b:
                lost = self._losses.get((x, y))
                if lost is None:
                    lo, hi = c.cumulative(x), c.cumulative(y)
                    lost = self._losses[(x, y)] = (hi[0] - lo[0], hi[1] - lo[1])
            else:
                lo, hi = c.cumulative(max(x, a)), c.cumulative(min(y, b))
                lost = (hi[0] - lo[0], hi[1] - lo[1])
            imp -= lost[0]
            exp -= lost[1]
        self._last, self._last_flow = (a, b, no_flow), (max(imp, 0.0), max(exp, 0.0))
        return self._last_flow

    def at(self, t: float, no_flow: Sequence[Interval], outages: Sequence[Interval]) -> Instant:
        """Instantaneous values at `t`: nothing flows in a no-flow interval, and an outage
        takes the voltage too."""
        return Instant(self, t, not _inside(t, no_flow), not _inside(t, outages))


def _inside(t: float, intervals: Sequence[Interval]) -> bool:
    return any(a <= t < b for a, b in intervals)
