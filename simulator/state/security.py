"""The keys and invocation counters of one Security setup object of one meter.

Keys start from the model's templates the first time a meter needs them (the server layer
fills them in), then live here. `key_transfer` stages new keys; they come into force by
`commit()` once the response to it has been protected, because that response must still use
the old keys (as real meters do). A new block cipher key restarts its invocation counters.

Counters are kept per key: what clients sent, per client system title, and what we sent.
Every accepted and every taken counter is noted in the meter's journal, so the persistence
layer saves it before the answer leaves. Nothing here puts key material in a repr or an
exception message.

Where a client's invocation counter is checked, published and saved, in one place:
- checked: `SecurityState.accept` (above the last one from that system title, else
  InvocationCounterError; security/counter.py `InvocationCounters.check_and_update`), called
  by association/session.py once the APDU authenticated;
- published: Data 0.0.43.1.e.255 (IDIS) reads `highest_received(GLOBAL_UNICAST_ENCRYPTION_KEY)`
  of its Security setup 0.0.43.0.e.255 when a client reads it (cosem/data_register.py
  `_get_data_value`): there is no copy to keep current or to put back after a restore;
- saved: `accept` notes `CounterChanged`, and the store writes it before the answer leaves
  (runtime/store.py `StateStore._counter`); `restore` gives it back through `restore_counters`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..security.apdu import CipherKeys
from ..security.counter import InvocationCounters
from ..security.errors import SecurityParameterError
from ..security.gcm import KEY_LENGTH
from ..security.keywrap import KeyId
from .journal import Change, CounterChanged, KeysChanged

__all__ = ["KEY_NAMES", "FIRST_TRANSMIT_COUNTER", "COUNTED_KEYS", "SecurityState"]

# The names of ObjectSpec.secrets, by key id (Blue Book class 64 key_id).
KEY_NAMES: Mapping[KeyId, str] = {
    KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY: "global_unicast_encryption_key",
    KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY: "global_broadcast_encryption_key",
    KeyId.AUTHENTICATION_KEY: "authentication_key",
    KeyId.MASTER_KEY: "master_key",
}

# The block cipher keys that have invocation counters.
COUNTED_KEYS = (KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY, KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY)

# Our first invocation counter under a new key. Not 0: some clients (dlms-cosem) accept a
# server counter only when it is above the last one seen, and start that "last one" at 0.
FIRST_TRANSMIT_COUNTER = 1


def _ignore(change: Change) -> None:
    pass


class SecurityState:
    """Keys in force, keys staged by key_transfer, and the counters of each block cipher key.

    `note` receives a change key for each mutation (the meter's journal); `server_sap` and
    `index` say which Security setup object this is.
    """

    __slots__ = ("server_sap", "index", "_keys", "_staged", "_counters", "_note")

    def __init__(self, keys: Mapping[KeyId, bytes] | None = None, *, server_sap: int = 0, index: int = 0,
                 note: Callable[[Change], None] = _ignore) -> None:
        self.server_sap, self.index = server_sap, index
        self._keys: dict[KeyId, bytes] = {KeyId(k): _checked(k, v) for k, v in (keys or {}).items()}
        self._staged: dict[KeyId, bytes] = {}
        self._counters = {key_id: InvocationCounters(FIRST_TRANSMIT_COUNTER) for key_id in COUNTED_KEYS}
        self._note = note

    # ------------------------------------------------------------------ keys

    def key(self, key_id: KeyId) -> bytes | None:
        """The key in force (staged keys are not yet)."""
        return self._keys.get(key_id)

    def cipher_keys(self, key_id: KeyId) -> CipherKeys | None:
        """Block cipher key `key_id` with the authentication key, if both are set."""
        ek, ak = self._keys.get(key_id), self._keys.get(KeyId.AUTHENTICATION_KEY)
        return None if ek is None or ak is None else CipherKeys(ek, ak)

    def stage(self, key_id: KeyId, key: bytes) -> None:
        """Remember a transferred key; it replaces the current one at `commit()`."""
        self._staged[KeyId(key_id)] = _checked(key_id, key)

    @property
    def staged(self) -> bool:
        return bool(self._staged)

    def commit(self) -> None:
        """Put staged keys in force.

        A new block cipher key forgets the counters received under the old one (clients start
        again under the new key), but our own transmit counter goes on: a key may come back
        (A, then B, then A again) and the same key may be transferred twice, and either would
        otherwise repeat a GCM IV under one key. The same key again changes nothing.
        """
        if not self._staged:
            return
        changed = False
        for key_id, key in self._staged.items():
            if self._keys.get(key_id) == key:
                continue
            changed = True
            self._keys[key_id] = key
            if key_id in self._counters:
                self._counters[key_id] = InvocationCounters(self._counters[key_id].transmit)
                self._note(CounterChanged(self.server_sap, self.index, key_id, None))
        self._staged.clear()
        if changed:
            self._note(KeysChanged(self.server_sap, self.index))

    # ------------------------------------------------------------------ counters

    def accept(self, key_id: KeyId, system_title: bytes, invocation_counter: int) -> None:
        """Accept a client's counter under `key_id` if above the last one from that title.

        Raises InvocationCounterError on a replay. Call it only after the APDU authenticated.
        """
        self._counters[key_id].check_and_update(system_title, invocation_counter)
        self._note(CounterChanged(self.server_sap, self.index, key_id, bytes(system_title)))

    def next_transmit(self, key_id: KeyId) -> int:
        """Take our next counter under `key_id` (each one protects exactly one APDU)."""
        value = self._counters[key_id].next()
        self._note(CounterChanged(self.server_sap, self.index, key_id, None))
        return value

    def transmit(self, key_id: KeyId) -> int:
        """The counter `next_transmit` returns next."""
        return self._counters[key_id].transmit

    def last_received(self, key_id: KeyId, system_title: bytes) -> int | None:
        return self._counters[key_id].last_received(system_title)

    def received(self, key_id: KeyId) -> dict[bytes, int]:
        """The last counter accepted from each client system title under `key_id`."""
        return dict(self._counters[key_id].received())

    def highest_received(self, key_id: KeyId) -> int | None:
        """The highest counter accepted under `key_id` from any client (None: none yet)."""
        received = self._counters[key_id].received()
        return max(received.values()) if received else None

    def counters(self, key_id: KeyId) -> InvocationCounters:
        """A copy of the counters under `key_id` (reading them never changes them)."""
        return InvocationCounters.from_dict(self._counters[key_id].to_dict())

    def restore_keys(self, keys: Mapping[KeyId, bytes]) -> None:
        """Put saved keys in force (a restart); not a change to save again."""
        self._keys.update({KeyId(k): _checked(k, v) for k, v in keys.items()})

    def restore_counters(self, key_id: KeyId, counters: InvocationCounters) -> None:
        """Put saved counters back (a restart); not a change to save again."""
        self._counters[KeyId(key_id)] = InvocationCounters.from_dict(counters.to_dict())

    # ------------------------------------------------------------------ records

    def to_record(self) -> dict[str, Any]:
        """Keys in force and counters as plain values (bytes, ints); staged keys are not saved:
        their key_transfer was never acknowledged."""
        return {"keys": {int(k): v for k, v in self._keys.items()},
                "counters": {int(k): {"transmit": c.transmit, "received": self.received(k)}
                             for k, c in self._counters.items()}}

    @classmethod
    def from_record(cls, record: Mapping[str, Any], *, server_sap: int = 0, index: int = 0,
                    note: Callable[[Change], None] = _ignore) -> SecurityState:
        state = cls({KeyId(int(k)): v for k, v in record.get("keys", {}).items()},
                    server_sap=server_sap, index=index, note=note)
        for key_id, counters in record.get("counters", {}).items():
            state._counters[KeyId(int(key_id))] = InvocationCounters(counters["transmit"], counters["received"])
        return state

    def __repr__(self) -> str:
        names = ", ".join(KEY_NAMES[k] for k in sorted(self._keys))
        return (f"SecurityState(server_sap={self.server_sap}, index={self.index}, keys=[{names}], "
                f"unicast={self._counters[KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY]!r})")


def _checked(key_id: KeyId | int, key: bytes) -> bytes:
    if len(key) != KEY_LENGTH:
        raise SecurityParameterError(f"{KEY_NAMES[KeyId(key_id)]} must be {KEY_LENGTH} bytes, got {len(key)}")
    return bytes(key)
