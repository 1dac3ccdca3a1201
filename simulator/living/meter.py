"""`LivingMeter`: what one meter's living behaviours need to compute a value from time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .events import Event, EventModel
    from .load import LoadModel

__all__ = ["LivingModel", "LivingMeter"]


@dataclass(frozen=True, slots=True)
class LivingModel:
    """A meter type's living declarations (the model YAML's `living:` section), shared."""

    load: "LoadModel | None" = None
    events: "EventModel | None" = None


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
    injected: "tuple[Event, ...]" = ()
    alarms: tuple[tuple[float, int, int], ...] = ()
