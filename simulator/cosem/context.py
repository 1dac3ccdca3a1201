"""What a class behaviour sees of the meter while it runs: the `ObjectContext` protocol.

The server layer implements it for one object of one meter for the duration of one request
(or one timer tick). Behaviours read and write attributes through it, keep what their methods
leave behind in typed effect records of the meter's state (`effect` / `change`, see
simulator/state/effects.py: only what differs from the model, so a meter is cheap), reach other
objects of the same logical device through `find`, and read time only through `now` and `clock`.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterator, Protocol

from ..axdr import Data, Obis
from ..living.meter import LivingMeter
from ..state import SecurityState
from ..state.effects import E, Effect

if TYPE_CHECKING:
    from .base import InterfaceClass

__all__ = ["ObjectContext", "MeterClock"]


class MeterClock(Protocol):
    """The meter's own clock: wall time derived from `now`, shiftable by the Clock object."""

    def epoch(self) -> float:
        """The meter's time as UTC epoch seconds."""

    def fleet_epoch(self) -> float:
        """The fleet's time, before this meter's clock offset: what living values run on
        (a client setting the meter's clock does not change what the house consumed)."""

    def offset(self) -> float:
        """This meter's clock offset: meter epoch minus fleet epoch (what clients moved it by)."""

    def local_time(self) -> datetime:
        """The meter's local time (aware, with the meter's UTC offset)."""

    def utc_time(self) -> datetime:
        """The meter's time in UTC (aware)."""

    def shift(self, seconds: float) -> None:
        """Move this meter's clock by `seconds` (clock SET, adjust methods, shift_time)."""


class ObjectContext(Protocol):
    """One COSEM object of one meter, as a behaviour may use it."""

    @property
    def cls(self) -> "InterfaceClass": ...

    @property
    def logical_name(self) -> Obis: ...

    @property
    def now(self) -> float:
        """Monotonic seconds passed in by the runtime (never the wall clock)."""

    @property
    def clock(self) -> MeterClock: ...

    @property
    def rng(self) -> random.Random:
        """This meter's seeded random source (reproducible runs)."""

    @property
    def living(self) -> LivingMeter | None:
        """This meter's seed, installation instant and living models (None: a static meter)."""

    @property
    def revision(self) -> int:
        """Changes whenever this meter's values, effects or clock offset change: what is derived
        from them may be cached against it."""

    def at(self, meter_epoch: float) -> "ObjectContext":
        """This object at another instant of the meter's clock (profile rows, past events)."""

    def effect(self, kind: type[E]) -> E | None:
        """This object's effect record of `kind` on this meter, if it has one (creates nothing)."""

    def change(self, kind: type[E]) -> E:
        """This object's effect record of `kind` to change: created on first use, journalled."""

    def forget(self, kind: type[Effect]) -> None:
        """Drop this object's effect record of `kind`."""

    def change_secret(self, secret: bytes) -> None:
        """Give this association object a new LLS password / HLS secret on this meter."""

    def security(self) -> SecurityState:
        """A Security setup object's keys and counters on this meter, from the model at first use."""

    @property
    def association(self) -> Any:
        """The association the request came through (AssociationLN methods need it), or None."""

    def get(self, attribute: int) -> Data:
        """Current value of an attribute: the meter's own, else the model's, else the getter's."""

    def stored(self, attribute: int) -> Data | None:
        """The meter's own value, else the model's, bypassing any getter (None: neither has one)."""

    def set(self, attribute: int, value: Data) -> None:
        """Store a value for this meter (no access check, no setter side effects)."""

    def find(self, logical_name: Obis | bytes, class_id: int | None = None) -> "ObjectContext | None":
        """Another object of the same logical device."""

    def objects(self) -> Iterator["ObjectContext"]:
        """Every object of the logical device, in model order."""

    def invoke(self, method: int, parameter: Data | None) -> Data | None:
        """Run one of this object's methods as the server itself (script tables, schedules)."""

    def write(self, attribute: int, value: Data) -> None:
        """SET an attribute as the server itself: the write checks (type, range), then the setter's side effects."""

    def trigger_push(self, trigger: str) -> None:
        """A push is due now for `trigger` (simulator/model/spec.py PUSH_TRIGGERS): on a Push setup
        object, its own push; on any other object, those of every Push setup whose model says
        `push_on: [trigger]`. Queued in the meter's outbox for the runtime to send."""

    def reset_push(self) -> None:
        """Push setup reset: drop this object's pushes queued and waiting to be sent."""

    def restart(self) -> None:
        """The meter restarts at this instant (an activated firmware image): the associations
        made before it end; a client's request that caused it is answered first, then its
        connection closes."""
