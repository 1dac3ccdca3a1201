"""`LivingMeter`: what one meter's living behaviours need to compute a value from time, and its
events read through its cache (`history_of`, `outages_of`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .events import DEFAULT_EVENTS, Event, EventModel, History, history, outages
from .load import LoadModel

__all__ = ["LivingModel", "LivingMeter", "history_of", "outages_of"]


@dataclass(frozen=True, slots=True)
class LivingModel:
    """A meter type's living declarations (the model YAML's `living:` section), shared."""

    load: LoadModel | None = None
    events: EventModel | None = None


@dataclass(slots=True)
class LivingMeter:
    """One meter as its living behaviours see it.

    `installed` is the fleet epoch the meter's history starts at (nothing was measured before).
    `cache` holds values derived from the rest (a day's tariff split, the outages counted so
    far): never persisted, and dropping it changes no value a client can read.

    `injected` and `alarms` are the events and alarm bits the control plane injected, as the
    meter's persisted `InjectedEvents` record holds them (the server's `Meter` keeps them in
    step): events join the generated ones wherever those are read; alarms are (fleet epoch,
    alarm register 0 or 1, bits).
    """

    model: LivingModel
    seed: int
    installed: float
    cache: dict[Any, Any] = field(default_factory=dict)
    injected: tuple[Event, ...] = ()
    alarms: tuple[tuple[float, int, int], ...] = ()


def outages_of(living: LivingMeter, t0: float, t1: float) -> list[tuple[float, float]]:
    """One meter's power failures overlapping [t0, t1), generated and injected, from its cache."""
    return outages(living.model.events or DEFAULT_EVENTS, living.seed, living.installed, t0, t1, living.cache,
                   living.injected)


def history_of(living: LivingMeter, t: float) -> History:
    """One meter's `History` (generated and injected events) up to fleet epoch `t`, from its cache."""
    return history(living.cache, living.model.events or DEFAULT_EVENTS, living.seed, living.installed, t,
                   living.injected)
