"""Per-meter security material: the keys of a Security setup object, its invocation counters,
and what its security policy demands of a request.

Keys start from the model's templates (the Security setup object's `ObjectSpec.secrets`, filled
with the meter's profile fields) the first time a meter needs them, and then live in that
object's per-meter scratch state: a meter that never ciphers stores nothing. `key_transfer`
stages new keys; they take effect by `commit()` once the response to it has been protected,
because that response must still use the old keys (as real meters do).

Nothing here puts key material in a repr or an exception message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from ..axdr import Data, DataType
from ..model.spec import ObjectSpec, SecurityPolicy
from ..security.apdu import CipherKeys
from ..security.counter import InvocationCounters
from ..security.errors import SecurityParameterError
from ..security.gcm import KEY_LENGTH
from ..security.keywrap import KeyId

__all__ = [
    "KEY_NAMES", "FIRST_TRANSMIT_COUNTER", "SecurityMaterial", "SetupObject", "security_material",
    "existing_material", "Requirement",
    "policy_requirement", "policy_flags", "valid_policy", "strengthens",
]

# The names of ObjectSpec.secrets, by key id (Blue Book class 64 key_id).
KEY_NAMES: Mapping[KeyId, str] = {
    KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY: "global_unicast_encryption_key",
    KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY: "global_broadcast_encryption_key",
    KeyId.AUTHENTICATION_KEY: "authentication_key",
    KeyId.MASTER_KEY: "master_key",
}

_STATE_KEY = "security_material"

# Our first invocation counter under a new key. Not 0: some clients (dlms-cosem) accept a
# server counter only when it is above the last one seen, and start that "last one" at 0.
FIRST_TRANSMIT_COUNTER = 1


class SecurityMaterial:
    """The global keys of one Security setup object of one meter, and their invocation counters.

    `unicast` counts what clients sent under the global unicast key (per client system title)
    and what we sent under it; `broadcast` the same for the broadcast key. A new key restarts
    the received counters; the transmit counter never goes back (see `commit`).
    """

    __slots__ = ("_keys", "_staged", "unicast", "broadcast")

    def __init__(self, keys: Mapping[KeyId, bytes] | None = None) -> None:
        self._keys: dict[KeyId, bytes] = {}
        for key_id, key in (keys or {}).items():
            self._keys[KeyId(key_id)] = _checked(key_id, key)
        self._staged: dict[KeyId, bytes] = {}
        self.unicast = InvocationCounters(FIRST_TRANSMIT_COUNTER)
        self.broadcast = InvocationCounters(FIRST_TRANSMIT_COUNTER)

    @classmethod
    def from_templates(cls, spec: ObjectSpec, fields: Mapping[str, object]) -> SecurityMaterial:
        """The keys the model declares for this Security setup object, filled for one meter."""
        keys: dict[KeyId, bytes] = {}
        for key_id, name in KEY_NAMES.items():
            template = spec.secret(name)
            if template is None:
                continue
            try:
                value = template.render(dict(fields))
            except (KeyError, IndexError, ValueError):
                raise SecurityParameterError(f"{name} of {spec.describe()}: template does not render "
                                             "(missing profile field or bad hex)") from None
            if value.type == DataType.OCTET_STRING:
                keys[key_id] = value.value
            else:
                try:
                    keys[key_id] = bytes.fromhex(str(value.value))
                except ValueError:
                    raise SecurityParameterError(f"{name} of {spec.describe()} is not hex") from None
        return cls(keys)

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

        A new encryption key forgets the counters received under the old one (clients start
        again under the new key), but our own transmit counter goes on: a key may come back
        (A, then B, then A again) and the same key may be transferred twice, and either would
        otherwise repeat a GCM IV under one key. The same key again changes nothing.
        """
        for key_id, key in self._staged.items():
            if self._keys.get(key_id) == key:
                continue
            self._keys[key_id] = key
            if key_id == KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY:
                self.unicast = InvocationCounters(self.unicast.transmit)
            elif key_id == KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY:
                self.broadcast = InvocationCounters(self.broadcast.transmit)
        self._staged.clear()

    def __repr__(self) -> str:
        names = ", ".join(KEY_NAMES[k] for k in sorted(self._keys))
        return f"SecurityMaterial(keys=[{names}], unicast={self.unicast!r})"


def _checked(key_id: KeyId | int, key: bytes) -> bytes:
    if len(key) != KEY_LENGTH:
        raise SecurityParameterError(f"{KEY_NAMES[KeyId(key_id)]} must be {KEY_LENGTH} bytes, got {len(key)}")
    return bytes(key)


class SetupObject(Protocol):
    """A Security setup object of one meter, as `ObjectHandle` gives it."""

    @property
    def state(self) -> dict[str, Any]: ...

    @property
    def spec(self) -> ObjectSpec: ...

    @property
    def meter(self) -> Any: ...

    def find(self, logical_name: bytes, class_id: int | None = None) -> Any: ...


def security_material(setup: SetupObject) -> SecurityMaterial:
    """This meter's material of this Security setup object, created from the model on first use."""
    state = setup.state
    material = state.get(_STATE_KEY)
    if material is None:
        material = state[_STATE_KEY] = SecurityMaterial.from_templates(setup.spec, setup.meter.fields)
    return material


_SETUP_PREFIX = bytes((0, 0, 43, 0))  # Security setup 0.0.43.0.e.255
_COUNTER_PREFIX = bytes((0, 0, 43, 1))  # its Data 0.0.43.1.e.255 (IDIS)
_DATA = 1


def publish_received_counter(setup: SetupObject, counters: InvocationCounters) -> None:
    """Copy the last counter received under Security setup 0.0.43.0.e.255 to Data 0.0.43.1.e.255.

    IDIS meters publish it there so a head-end can read it as the public client and resume
    ciphering after a restart. With several client system titles it shows the highest.
    """
    name = bytes(setup.spec.logical_name)
    if name[:4] != _SETUP_PREFIX:
        return
    received = counters.to_dict()["received"]
    target = setup.find(_COUNTER_PREFIX + name[4:], _DATA) if received else None
    if target is not None:
        value = Data(DataType.DOUBLE_LONG_UNSIGNED, max(received.values()))
        if target.stored(2) != value:
            target.set(2, value)


def existing_material(state: Mapping[str, Any] | None) -> SecurityMaterial | None:
    """The material already in a Security setup object's scratch state, without creating any."""
    material = None if state is None else state.get(_STATE_KEY)
    return material if isinstance(material, SecurityMaterial) else None


# --------------------------------------------------------------------------- security policy

@dataclass(frozen=True, slots=True)
class Requirement:
    """The protection a request must carry under the security policy in force."""

    authenticated: bool = False
    encrypted: bool = False

    @property
    def any(self) -> bool:
        return self.authenticated or self.encrypted


_V0_AUTHENTICATED, _V0_ENCRYPTED = 0x01, 0x02  # Security setup v0 enum: 1 A, 2 E, 3 A+E
_V1_AUTHENTICATED_REQUEST, _V1_ENCRYPTED_REQUEST = 0x04, 0x08  # v1: bit 2, bit 3 (requests)
_V1_MASK = 0xFC  # v1 uses bits 2..7; bits 0 and 1 are unused


def policy_flags(value: int) -> Requirement:
    """What a security_policy value demands of requests, for either class version.

    The two encodings do not overlap: version 0 uses the values 0..3, version 1 only bits 2..7.
    """
    if value & ~_V1_MASK:
        return Requirement(bool(value & _V0_AUTHENTICATED), bool(value & _V0_ENCRYPTED))
    return Requirement(bool(value & _V1_AUTHENTICATED_REQUEST), bool(value & _V1_ENCRYPTED_REQUEST))


def valid_policy(value: int, version: int) -> bool:
    """Whether `value` is a security_policy of Security setup `version`."""
    return 0 <= value <= 3 if version == 0 else 0 <= value <= 0xFF and not value & ~_V1_MASK


def strengthens(new: int, current: int) -> bool:
    """security_activate may only keep or add protection, never remove any (Blue Book class 64)."""
    return new & current == current


@lru_cache(maxsize=64)
def policy_requirement(model: SecurityPolicy, setup_value: int | None) -> Requirement:
    """The association's policy from the model, strengthened by its Security setup object's
    security_policy (the model's value, or the one security_activate set for this meter).

    Cached: every request asks, and the answer depends on these two small values only."""
    base = Requirement(bool(model & SecurityPolicy.AUTHENTICATED), bool(model & SecurityPolicy.ENCRYPTED))
    if setup_value is None:
        return base
    extra = policy_flags(setup_value)
    return Requirement(base.authenticated or extra.authenticated, base.encrypted or extra.encrypted)
