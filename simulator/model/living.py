"""The model YAML's `living:` section: the load behind a meter type and its events.

    living:
      load:
        medium: electricity           # electricity (W, Wh), gas or water (m3/h, m3)
        annual_kwh: 3500              # mean annual consumption (gas, water: annual_m3)
        spread: 0.3                   # each meter draws its own within +-30 %
        weekday:  [24 hourly relative values, 00-01 first]
        saturday: [...]               # default: weekday
        sunday:   [...]               # default: saturday; holidays take it too
        base: 0.15                    # standby share added to every hour
        season: {amplitude: 0.2, peak_day: 15}   # 1 + a cos(2 pi (day of year - peak) / 365.25)
        noise: 0.4                    # a quarter-hour's import varies within -40 %..+40 %
        holidays: ["01-01", "12-25"]
        solar: {peak_w_per_kwh: 1.0}  # import/export meters: a PV system sized to the home
        phases: [0.36, 0.30, 0.34]    # share of the load per phase
        power_factor: 0.96
        voltage: {nominal: 230, spread: 2}
        frequency: {nominal: 50, spread: 0.03}
        backflow: 0.002               # water: share flowing back
      events: {...}                   # simulator/model/living_events.py

Which register reads which quantity follows its OBIS code (simulator/cosem/metrology.py);
a register's value in the model is its reading at installation.
"""

from __future__ import annotations

from typing import Protocol

from ..living.load import LoadModel, SolarModel
from ..living.meter import LivingModel
from .living_events import parse_events
from .yamlsource import YMap, YNode, YScalar, YSeq, describe_node

__all__ = ["parse_living"]

_LOAD_KEYS = ("medium", "annual_kwh", "annual_m3", "spread", "weekday", "saturday", "sunday", "base", "season",
              "noise", "holidays", "solar", "phases", "power_factor", "voltage", "frequency", "backflow")
_MEDIA = ("electricity", "gas", "water")


class Sink(Protocol):
    def problem(self, line: int, message: str) -> None: ...


class _Reader:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def number(self, node: YMap, key: str, lo: float, hi: float, default: float) -> float:
        value = node.get(key)
        if value is None:
            return default
        if isinstance(value, YScalar) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool) \
                and lo <= value.value <= hi:
            return float(value.value)
        self.sink.problem(node.key_line(key), f"living load {key}: expected a number in {lo:g}..{hi:g}, "
                                              f"found {describe_node(value)}")
        return default

    def mapping(self, node: YMap, key: str, allowed: tuple[str, ...]) -> YMap | None:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, YMap):
            self.sink.problem(node.key_line(key), f"living load {key}: expected a mapping, found {describe_node(value)}")
            return None
        for k, (line, _) in value.entries.items():
            if k not in allowed:
                self.sink.problem(line, f"living load {key}: unknown key {k!r}; expected {', '.join(allowed)}")
        return value

    def numbers(self, node: YMap, key: str, count: int, default: tuple[float, ...]) -> tuple[float, ...]:
        value = node.get(key)
        if value is None:
            return default
        items = value.items if isinstance(value, YSeq) else []
        out = [i.value for i in items if isinstance(i, YScalar) and isinstance(i.value, (int, float))
               and not isinstance(i.value, bool) and i.value >= 0]
        if len(out) != count or len(items) != count:
            self.sink.problem(node.key_line(key), f"living load {key}: expected {count} numbers >= 0, "
                                                  f"found {describe_node(value)}")
            return default
        return tuple(float(v) for v in out)

    def holidays(self, node: YMap) -> tuple[tuple[int, int], ...]:
        value = node.get("holidays")
        if value is None:
            return ()
        out = []
        for item in value.items if isinstance(value, YSeq) else []:
            text = item.text if isinstance(item, YScalar) else ""
            month, _, day = text.partition("-")
            if month.isdigit() and day.isdigit() and 1 <= int(month) <= 12 and 1 <= int(day) <= 31:
                out.append((int(month), int(day)))
            else:
                self.sink.problem(item.line, f"living load holidays: expected MM-DD, found {describe_node(item)}")
        if not isinstance(value, YSeq):
            self.sink.problem(node.key_line("holidays"), "living load holidays: expected a list of MM-DD")
        return tuple(out)

    def load(self, node: YMap) -> LoadModel:
        for k, (line, _) in node.entries.items():
            if k not in _LOAD_KEYS:
                self.sink.problem(line, f"living load: unknown key {k!r}; expected {', '.join(_LOAD_KEYS)}")
        medium_node = node.get("medium")
        medium = medium_node.text if isinstance(medium_node, YScalar) else "electricity"
        if medium not in _MEDIA:
            self.sink.problem(node.key_line("medium"), f"living load medium: expected one of {', '.join(_MEDIA)}")
            medium = "electricity"
        if medium == "electricity":
            annual = self.number(node, "annual_kwh", 0, 1e9, 3500) * 1000
        else:
            annual = self.number(node, "annual_m3", 0, 1e9, 1500 if medium == "gas" else 100)
        weekday = self.numbers(node, "weekday", 24, (1.0,) * 24)
        saturday = self.numbers(node, "saturday", 24, weekday)
        sunday = self.numbers(node, "sunday", 24, saturday)
        season = self.mapping(node, "season", ("amplitude", "peak_day"))
        solar = self.mapping(node, "solar", ("peak_w_per_kwh",))
        voltage = self.mapping(node, "voltage", ("nominal", "spread"))
        frequency = self.mapping(node, "frequency", ("nominal", "spread"))
        phases = self.numbers(node, "phases", 3, (1 / 3, 1 / 3, 1 / 3))
        total = sum(phases) or 1.0
        return LoadModel(
            medium=medium, annual=annual,
            spread=self.number(node, "spread", 0, 0.9, 0.3),
            weekday=weekday, saturday=saturday, sunday=sunday,
            base=self.number(node, "base", 0, 100, 0.0),
            season_amplitude=self.number(season, "amplitude", 0, 0.95, 0.0) if season else 0.0,
            season_peak_day=int(self.number(season, "peak_day", 1, 366, 15)) if season else 15,
            noise=self.number(node, "noise", 0, 0.9, 0.0),
            holidays=self.holidays(node),
            solar=SolarModel(self.number(solar, "peak_w_per_kwh", 0, 100, 1.0)) if solar is not None else None,
            phases=(phases[0] / total, phases[1] / total, phases[2] / total),
            power_factor=self.number(node, "power_factor", 0.1, 1, 0.95),
            voltage=self.number(voltage, "nominal", 0, 1000, 230) if voltage else 230.0,
            voltage_spread=self.number(voltage, "spread", 0, 100, 2) if voltage else 2.0,
            frequency=self.number(frequency, "nominal", 0, 1000, 50) if frequency else 50.0,
            frequency_spread=self.number(frequency, "spread", 0, 10, 0.03) if frequency else 0.03,
            backflow=self.number(node, "backflow", 0, 0.5, 0.0),
        )


def parse_living(sink: Sink, node: YNode | None) -> LivingModel | None:
    """The model's living declarations; None when the model has no `living:` section."""
    if node is None:
        return None
    if not isinstance(node, YMap):
        sink.problem(node.line, f"living: expected a mapping with load and events, found {describe_node(node)}")
        return None
    reader = _Reader(sink)
    for key, (line, _) in node.entries.items():
        if key not in ("load", "events"):
            sink.problem(line, f"living: unknown key {key!r}; expected load, events")
    load_node = node.get("load")
    load = None
    if isinstance(load_node, YMap):
        load = reader.load(load_node)
    elif load_node is not None:
        sink.problem(node.key_line("load"), f"living load: expected a mapping, found {describe_node(load_node)}")
    return LivingModel(load=load, events=parse_events(node.get("events"), sink.problem))
