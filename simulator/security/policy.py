"""What a Security setup object's security_policy demands of a request (Blue Book class 64).

The two class versions encode it differently; `policy_flags` reads either, so the association
layer and the Security setup class share one reading.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Requirement", "policy_flags", "valid_policy", "strengthens"]


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
