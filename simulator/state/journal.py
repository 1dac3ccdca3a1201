"""What changed in a meter's state since the last look: the change journal.

Every mutation through `MeterState` notes one change key here; the persistence layer takes the
keys after each APDU (`take()`) and writes exactly the records they name. A meter nobody
touched has an empty journal, so it writes nothing. The keys are small named tuples of ints and
bytes, usable as SQLite primary keys as they are.
"""

from __future__ import annotations

from typing import NamedTuple, Union

from ..security.keywrap import KeyId

__all__ = ["ValueChanged", "KeysChanged", "CounterChanged", "SecretChanged", "EffectChanged",
           "ClockChanged", "LockoutChanged", "Change", "Journal"]


class ValueChanged(NamedTuple):
    """An attribute value a client (or the meter's own behaviour) set."""

    server_sap: int
    object_index: int  # the object's index in its logical device
    attribute: int


class KeysChanged(NamedTuple):
    """The keys in force of a Security setup object (key_transfer committed)."""

    server_sap: int
    object_index: int


class CounterChanged(NamedTuple):
    """An invocation counter under one key: received from `system_title`, or ours (None)."""

    server_sap: int
    object_index: int
    key_id: KeyId  # the block cipher key the counter belongs to
    system_title: bytes | None


class SecretChanged(NamedTuple):
    """The LLS password or HLS secret of an association (SET secret, change_*_secret)."""

    server_sap: int
    object_index: int  # the association object's index


class EffectChanged(NamedTuple):
    """A method effect record (`simulator/state/effects.py`) of one object."""

    server_sap: int
    object_index: int
    kind: str  # the effect's `KIND`


class ClockChanged(NamedTuple):
    """The meter's clock offset."""


class LockoutChanged(NamedTuple):
    """Failed authentications of one client SAP on one logical device."""

    server_sap: int
    client_sap: int


Change = Union[ValueChanged, KeysChanged, CounterChanged, SecretChanged, EffectChanged, ClockChanged,
               LockoutChanged]


class Journal:
    """The set of changes not yet taken. Noting the same change twice keeps one entry."""

    __slots__ = ("_changes",)

    def __init__(self) -> None:
        self._changes: set[Change] = set()

    def note(self, change: Change) -> None:
        self._changes.add(change)

    def take(self) -> frozenset[Change]:
        """The changes since the last `take()`, and start afresh."""
        changes, self._changes = frozenset(self._changes), set()
        return changes

    def __bool__(self) -> bool:
        return bool(self._changes)

    def __len__(self) -> int:
        return len(self._changes)

    def __contains__(self, change: object) -> bool:
        return change in self._changes
