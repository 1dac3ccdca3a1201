"""Everything one meter changed, in one typed place: `MeterState`.

The shared model says what a meter is; this says only how one meter differs from it, so a
meter nobody touched holds empty tables. Objects are addressed by (server SAP, object index in
the logical device); nothing here knows the model, the interface classes or the sessions.

- values: attribute values clients or the meter's behaviour set;
- security: keys and invocation counters per Security setup object (`SecurityState`);
- secrets: LLS passwords / HLS secrets clients changed, per association object;
- effects: what methods left behind, one typed record per (object, kind) (`effects.py`);
- clock_offset_s: how far the meter's clock was moved from the fleet's time base;
- lockouts: failed authentications per (server SAP, client SAP);
- persistence_fault: why the meter's changes cannot be kept (None: they are); the sessions
  then refuse ciphered service rather than risk reusing an invocation counter;
- revision: counts the changes to values, effects and the clock offset, so a value derived
  from them (a living meter's tariff calendar) can be cached while it stands still.

Every mutation goes through a method here and notes a change key in `journal`, so "where is
the invocation counter checked, published and saved?" has one answer: `SecurityState.accept`
notes `CounterChanged`, and the persistence layer saves what the journal names.
"""

from __future__ import annotations

from typing import Callable

from ..axdr import Data
from ..security.lockout import ClientLockout
from .effects import E, Effect
from .journal import ClockChanged, EffectChanged, Journal, LockoutChanged, SecretChanged, ValueChanged
from .security import SecurityState

__all__ = ["MeterState"]


class MeterState:
    """One meter's mutable state. Reads never create anything."""

    __slots__ = ("values", "security_states", "secrets", "effects", "clock_offset_s", "lockouts", "journal",
                 "persistence_fault", "revision")

    def __init__(self) -> None:
        self.values: dict[tuple[int, int, int], Data] = {}
        self.security_states: dict[tuple[int, int], SecurityState] = {}
        self.secrets: dict[tuple[int, int], bytes] = {}
        self.effects: dict[tuple[int, int, type[Effect]], Effect] = {}
        self.clock_offset_s = 0.0
        self.lockouts: dict[tuple[int, int], ClientLockout] = {}
        self.journal = Journal()
        self.persistence_fault: str | None = None
        self.revision = 0

    @property
    def touched(self) -> bool:
        """Whether this meter differs from its model at all."""
        return bool(self.values or self.security_states or self.secrets or self.effects or self.lockouts
                    or self.clock_offset_s)

    # ------------------------------------------------------------------ values

    def value(self, server_sap: int, index: int, attribute: int) -> Data | None:
        """The value this meter holds for an attribute (None: the model's applies)."""
        return self.values.get((server_sap, index, attribute))

    def set_value(self, server_sap: int, index: int, attribute: int, value: Data) -> None:
        self.values[(server_sap, index, attribute)] = value
        self.revision += 1
        self.journal.note(ValueChanged(server_sap, index, attribute))

    # ------------------------------------------------------------------ security

    def security(self, server_sap: int, index: int) -> SecurityState | None:
        """The keys and counters of a Security setup object, if this meter has any yet."""
        return self.security_states.get((server_sap, index))

    def install_security(self, server_sap: int, index: int, make: Callable[..., SecurityState]) -> SecurityState:
        """The object's SecurityState, made by `make(server_sap=, index=, note=)` on first use.

        Making it is no change to save: the keys come from the model until a key_transfer."""
        state = self.security_states.get((server_sap, index))
        if state is None:
            state = self.security_states[(server_sap, index)] = make(
                server_sap=server_sap, index=index, note=self.journal.note)
        return state

    def secret(self, server_sap: int, index: int) -> bytes | None:
        """The secret a client gave the association object at `index` (None: the model's)."""
        return self.secrets.get((server_sap, index))

    def set_secret(self, server_sap: int, index: int, secret: bytes) -> None:
        self.secrets[(server_sap, index)] = bytes(secret)
        self.journal.note(SecretChanged(server_sap, index))

    # ------------------------------------------------------------------ method effects

    def effect(self, server_sap: int, index: int, kind: type[E]) -> E | None:
        """An object's effect record of `kind`, if it has one."""
        return self.effects.get((server_sap, index, kind))  # type: ignore[return-value]

    def change(self, server_sap: int, index: int, kind: type[E]) -> E:
        """An object's effect record of `kind` to change, created on first use; noted as changed."""
        record = self.effects.get((server_sap, index, kind))
        if record is None:
            record = self.effects[(server_sap, index, kind)] = kind()
        self.revision += 1
        if kind.PERSISTENT:
            self.journal.note(EffectChanged(server_sap, index, kind.KIND))
        return record  # type: ignore[return-value]

    def forget(self, server_sap: int, index: int, kind: type[Effect]) -> None:
        """Drop an object's effect record (back to the model's behaviour)."""
        self.revision += 1
        if self.effects.pop((server_sap, index, kind), None) is not None and kind.PERSISTENT:
            self.journal.note(EffectChanged(server_sap, index, kind.KIND))

    # ------------------------------------------------------------------ clock, lock-outs

    def shift_clock(self, seconds: float) -> None:
        self.clock_offset_s += seconds
        self.revision += 1
        self.journal.note(ClockChanged())

    def lockout(self, server_sap: int, client_sap: int) -> ClientLockout | None:
        return self.lockouts.get((server_sap, client_sap))

    def change_lockout(self, server_sap: int, client_sap: int) -> ClientLockout:
        """A client SAP's failure count to change, created on first use; noted as changed."""
        state = self.lockouts.get((server_sap, client_sap))
        if state is None:
            state = self.lockouts[(server_sap, client_sap)] = ClientLockout()
        self.journal.note(LockoutChanged(server_sap, client_sap))
        return state

    def __repr__(self) -> str:
        return (f"MeterState(values={len(self.values)}, security={len(self.security_states)}, "
                f"secrets={len(self.secrets)}, effects={len(self.effects)}, "
                f"clock_offset_s={self.clock_offset_s}, changes={len(self.journal)})")
