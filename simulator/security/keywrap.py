"""AES key wrap (RFC 3394) for Security setup key_transfer: keys travel wrapped under the KEK.

The Security setup object's key_transfer (and the dedicated key of some clients) carries
`key_wrapped` = AES-KW(KEK = master key, key). For suite 0 both are 128-bit, so a wrapped key is
24 octets. A wrapped key that does not unwrap came from the peer: SecurityError.
"""

from __future__ import annotations

from enum import IntEnum

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from .errors import SecurityError, SecurityParameterError
from .gcm import KEY_LENGTH

__all__ = ["KeyId", "WRAPPED_KEY_LENGTH", "wrap_key", "unwrap_key"]

WRAPPED_KEY_LENGTH = KEY_LENGTH + 8


class KeyId(IntEnum):
    """key_id of Security setup key_transfer / key_agreement (Blue Book, class 64)."""

    GLOBAL_UNICAST_ENCRYPTION_KEY = 0
    GLOBAL_BROADCAST_ENCRYPTION_KEY = 1
    AUTHENTICATION_KEY = 2
    MASTER_KEY = 3


def _check_kek(kek: bytes) -> None:
    if len(kek) != KEY_LENGTH:
        raise SecurityParameterError(f"key encrypting key must be {KEY_LENGTH} bytes, got {len(kek)}")


def wrap_key(kek: bytes, key: bytes) -> bytes:
    """AES-KW of a 16-byte key under the 16-byte KEK (the master key)."""
    _check_kek(kek)
    if len(key) != KEY_LENGTH:
        raise SecurityParameterError(f"key to wrap must be {KEY_LENGTH} bytes, got {len(key)}")
    return aes_key_wrap(kek, key)


def unwrap_key(kek: bytes, wrapped: bytes) -> bytes:
    """The key inside `wrapped`; SecurityError if it has the wrong size or fails the integrity check."""
    _check_kek(kek)
    if len(wrapped) != WRAPPED_KEY_LENGTH:
        raise SecurityError(f"wrapped key must be {WRAPPED_KEY_LENGTH} bytes, got {len(wrapped)}")
    try:
        return aes_key_unwrap(kek, wrapped)
    except InvalidUnwrap:
        raise SecurityError("wrapped key failed the integrity check") from None
