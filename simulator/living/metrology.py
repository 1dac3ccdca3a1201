"""What one meter measured between two instants, and what it measures at one: the curve of
simulator/living/load.py minus the intervals in which nothing flowed (power failures,
disconnection).

`Metrology` is built per meter on first use and kept in its `LivingMeter.cache`; its intervals
without flow are handed in by the caller, who knows the meter's events and its disconnector.
"""

from __future__ import annotations

import math
from typing import Sequence

from .load import MeterCurve, STREAMS

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
    """Instantaneous values at one instant, consistent with the energy flowing then."""

    __slots__ = ("p_import", "p_export", "q_import", "q_export", "power_factor", "voltages", "currents",
                 "phase_powers", "phase_power_factors", "neutral", "frequency")

    def __init__(self, m: "Metrology", t: float, flowing: bool, powered: bool) -> None:
        model = m.curve.curve.model
        p_imp, p_exp = m.curve.powers(t) if flowing else (0.0, 0.0)
        pf = min(model.power_factor + 0.02 * m.curve.wobble(STREAMS["power_factor"], t, 60), 1.0)
        tan = math.sqrt(max(1 - pf * pf, 0.0)) / pf if pf > 0 else 0.0
        self.p_import, self.p_export = p_imp, p_exp
        self.q_import, self.q_export = p_imp * tan, p_exp * 0.1 * tan
        self.power_factor = pf if p_imp or p_exp else 1.0
        self.voltages = tuple(
            model.voltage + model.voltage_spread * m.curve.wobble(STREAMS["voltage"] + 16 * (i + 1), t, 10)
            if powered else 0.0 for i in range(3))
        self.phase_powers = tuple(p_imp * share for share in model.phases)
        self.phase_power_factors = tuple(
            min(pf + 0.01 * m.curve.wobble(STREAMS["power_factor"] + 16 * (i + 1), t, 60), 1.0) for i in range(3))
        self.currents = tuple(p / (u * f) if u > 0 and f > 0 else 0.0
                              for p, u, f in zip(self.phase_powers, self.voltages, self.phase_power_factors))
        i1, i2, i3 = self.currents
        # the vector sum of three currents 120 degrees apart
        self.neutral = math.sqrt(max(i1 * i1 + i2 * i2 + i3 * i3 - i1 * i2 - i2 * i3 - i3 * i1, 0.0))
        self.frequency = model.frequency + model.frequency_spread * m.curve.wobble(STREAMS["frequency"], t, 10) \
            if powered else 0.0


class Metrology:
    """One meter's energy between any two instants, and its instantaneous values."""

    __slots__ = ("curve", "installed")

    def __init__(self, curve: MeterCurve, installed: float) -> None:
        self.curve = curve
        self.installed = installed

    def flow(self, a: float, b: float, no_flow: Sequence[Interval]) -> tuple[float, float]:
        """Import and export in [a, b), leaving out the merged intervals `no_flow`."""
        if b <= a:
            return 0.0, 0.0
        c = self.curve
        imp = c.imports(b) - c.imports(a)
        exp = c.exports(b) - c.exports(a)
        for x, y in no_flow:
            if y <= a:
                continue
            if x >= b:
                break
            lo, hi = max(x, a), min(y, b)
            imp -= c.imports(hi) - c.imports(lo)
            exp -= c.exports(hi) - c.exports(lo)
        return max(imp, 0.0), max(exp, 0.0)

    def at(self, t: float, no_flow: Sequence[Interval], outages: Sequence[Interval]) -> Instant:
        """Instantaneous values at `t`: nothing flows in a no-flow interval, and an outage
        takes the voltage too."""
        return Instant(self, t, not _inside(t, no_flow), not _inside(t, outages))


def _inside(t: float, intervals: Sequence[Interval]) -> bool:
    return any(a <= t < b for a, b in intervals)
