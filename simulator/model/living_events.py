"""The model YAML's `living: events:` section: how often each kind of event befalls a meter.

    living:
      events:
        power_failure: {per_year: 1.5, mean_minutes: 8}    # interruptions of the whole supply
        voltage_sag: {per_year: 12}                        # on one phase each
        voltage_swell: {per_year: 4, mean_seconds: 2}
        cover_open: {per_year: 0.2}                        # meter cover removed, then closed
        terminal_cover_open: {per_year: 0.1}
        magnetic_field: {per_year: 0.1, mean_minutes: 90, spread: 0.5}
        phases: 3                                          # 1: sags and swells all on L1

Each kind takes `per_year` (0 switches it off), a mean duration as `mean_minutes` or
`mean_seconds`, and `spread`, the standard deviation of the duration's logarithm (0: every event
lasts the mean; the default gives mostly short events and a long tail). A kind not listed keeps
its default, and so does a model without `events:` (simulator/living/events.py says which);
`events: none` gives a meter no generated events at all (a battery-powered gas or water meter
sees no supply interruptions).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from ..living.events import DEFAULT_EVENTS, KINDS, MAX_DURATION_S, NO_EVENTS, EventModel, EventRate
from .errors import did_you_mean
from .yamlsource import YMap, YNode, YScalar, describe_node

__all__ = ["parse_events"]

_RATE_KEYS = ("per_year", "mean_minutes", "mean_seconds", "spread")
_MAX_PER_YEAR = 10_000.0  # a sag every hour is a broken supply; more would only cost time
Problem = Callable[[int, str], object]


def _number(node: YMap, key: str, lo: float, hi: float, what: str, problem: Problem) -> float | None:
    value = node.get(key)
    if value is None:
        return None
    if isinstance(value, YScalar) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool) \
            and lo <= value.value <= hi:
        return float(value.value)
    problem(node.key_line(key), f"{what} {key}: expected a number in {lo:g}..{hi:g}, found {describe_node(value)}")
    return None


def _rate(node: YNode, kind: str, default: EventRate, problem: Problem) -> EventRate:
    what = f"living events {kind}"
    if not isinstance(node, YMap):
        problem(node.line, f"{what}: expected a mapping with {', '.join(_RATE_KEYS)}, found {describe_node(node)}")
        return default
    for key, (line, _) in node.entries.items():
        if key not in _RATE_KEYS:
            problem(line, f"{what}: unknown key {key!r}{did_you_mean(key, _RATE_KEYS)}; expected "
                          f"{', '.join(_RATE_KEYS)}")
    per_year = _number(node, "per_year", 0, _MAX_PER_YEAR, what, problem)
    minutes = _number(node, "mean_minutes", 1 / 60, MAX_DURATION_S / 60, what, problem)
    seconds = _number(node, "mean_seconds", 1, MAX_DURATION_S, what, problem)
    spread = _number(node, "spread", 0, 3, what, problem)
    mean_s = seconds if minutes is None else minutes * 60 if seconds is None else None
    if minutes is not None and seconds is not None:
        problem(node.key_line("mean_seconds"), f"{what}: give mean_minutes or mean_seconds, not both")
    return EventRate(default.per_year if per_year is None else per_year,
                     default.mean_s if mean_s is None else mean_s,
                     default.spread if spread is None else spread)


def parse_events(node: YNode | None, problem: Problem) -> EventModel:
    """The event rates under `living: events:`; the defaults when there is no such section.

    `problem(line, message)` is told every mistake (the model loader's sink); what is wrong
    keeps its default so the rest can still be checked.
    """
    if node is None:
        return DEFAULT_EVENTS
    if isinstance(node, YScalar) and (node.value is False or node.text == "none"):
        return NO_EVENTS
    if not isinstance(node, YMap):
        problem(node.line, f"living events: expected a mapping of event kinds ({', '.join(KINDS)}) or 'none', "
                           f"found {describe_node(node)}")
        return DEFAULT_EVENTS
    model = DEFAULT_EVENTS
    allowed = (*KINDS, "phases")
    for key, (line, value) in node.entries.items():
        if key == "phases":
            if isinstance(value, YScalar) and value.value in (1, 2, 3) and not isinstance(value.value, bool):
                model = replace(model, phases=int(value.value))
            else:
                problem(line, f"living events phases: expected 1, 2 or 3, found {describe_node(value)}")
        elif key in KINDS:
            rates = {key: _rate(value, key, model.rate(key), problem)}
            model = replace(model, **rates)  # type: ignore[arg-type]
        else:
            problem(line, f"living events: unknown kind {key!r}{did_you_mean(key, allowed)}; expected "
                          f"{', '.join(allowed)}")
    return model
