"""Cipher and decipher whole xDLMS APDUs: the security suite applied to the ciphered containers.

`encrypt_apdu` wraps a plaintext APDU in the requested style; `decrypt_apdu` undoes any ciphered
APDU and reports how it was protected (`DecipheredAPDU`), so the server can answer in the same
style with the same protection. Keys come from a lookup the caller supplies, because which key
applies (global unicast, broadcast, or the association's dedicated key) depends on the APDU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..apdu.ciphered import (
    CipheredAPDU, CipherStyle, GeneralCiphering, GeneralDedCiphering, GeneralGloCiphering,
    ciphered_apdu_from_bytes, ciphered_tag,
)
from ..errors import EncodeError
from .control import SecurityControl
from .errors import SecurityError, SecurityParameterError
from .gcm import SYSTEM_TITLE_LENGTH, protect, unprotect

__all__ = ["CipherKeys", "KeyRequest", "KeyLookup", "DecipheredAPDU", "encrypt_apdu", "decrypt_apdu"]


@dataclass(frozen=True, slots=True)
class CipherKeys:
    """The block cipher key and authentication key for one APDU (kept out of repr)."""

    ek: bytes = field(repr=False)
    ak: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """What a key lookup is asked for: the sender and which key family the APDU names."""

    system_title: bytes
    dedicated: bool   # ded- / general-ded-: the association's dedicated key
    broadcast: bool   # SC bit B: the global broadcast key instead of the unicast one


KeyLookup = Callable[[KeyRequest], CipherKeys | None]
"""Returns the keys to use, or None when there are none (the APDU is then rejected)."""


@dataclass(frozen=True, slots=True)
class DecipheredAPDU:
    """A deciphered APDU and how it arrived, so the answer can use the same style.

    The caller must hold `security_control` against its security policy: suite 0 authenticates
    the SC byte only when A is set, so a peer in the middle can clear A and turn an A+E APDU
    into an encryption-only one that still deciphers to a plausible APDU. Only the policy check
    ("this association requires authenticated requests") catches that downgrade.
    """

    apdu: bytes
    style: CipherStyle
    ciphered_tag: int
    security_control: SecurityControl
    system_title: bytes
    invocation_counter: int


def encrypt_apdu(plain_apdu: bytes, style: CipherStyle | str, sc: SecurityControl, system_title: bytes,
                 invocation_counter: int, ek: bytes, ak: bytes) -> bytes:
    """Protect `plain_apdu` and wrap it as a glo-/ded- or general-glo/ded-ciphering APDU.

    `system_title` and `invocation_counter` are ours (the sender's). EncodeError when the APDU
    has no service-specific ciphered form and a glo/ded style was asked for.
    """
    try:
        style = CipherStyle(style)
    except ValueError:
        raise SecurityParameterError(f"unknown ciphering style {style!r}") from None
    if not plain_apdu:
        raise EncodeError("cannot cipher an empty APDU")
    tag = None if style.general else ciphered_tag(plain_apdu[0], style.dedicated)
    payload = protect(sc, system_title, invocation_counter, ek, ak, plain_apdu)
    if tag is None:
        general = GeneralDedCiphering if style.dedicated else GeneralGloCiphering
        return general(bytes(system_title), sc.to_byte(), invocation_counter, payload).to_bytes()
    return CipheredAPDU(tag, sc.to_byte(), invocation_counter, payload).to_bytes()


def decrypt_apdu(apdu: bytes, keys: KeyLookup, *, system_title: bytes | None = None) -> DecipheredAPDU:
    """Decode, verify and decipher any ciphered APDU.

    `system_title` is the sender's title known from the association (the AARQ calling-AP-title);
    glo-/ded- APDUs need it, general-*-ciphering APDUs carry their own and fall back to it only
    when theirs is empty. Raises DecodeError for a malformed container and SecurityError when
    the content fails authentication, names no usable key, or does not match its tag. The
    invocation-counter rule is the caller's next step (`InvocationCounters.check_and_update`).
    """
    container = ciphered_apdu_from_bytes(apdu)
    sc = SecurityControl.from_byte(container.security_control)
    sender = system_title
    if isinstance(container, GeneralCiphering) and container.system_title:
        sender = container.system_title
    if sender is None:
        raise SecurityError("sender system title unknown")
    if len(sender) != SYSTEM_TITLE_LENGTH:
        raise SecurityError(f"sender system title has {len(sender)} bytes, expected {SYSTEM_TITLE_LENGTH}")
    style = container.style
    found = keys(KeyRequest(bytes(sender), style.dedicated, sc.broadcast_key))
    if found is None:
        raise SecurityError(f"no {'dedicated' if style.dedicated else 'global'} key for this sender")
    plain = unprotect(sc, sender, container.invocation_counter, found.ek, found.ak, container.payload)
    if not plain:
        raise SecurityError("deciphered APDU is empty")
    if isinstance(container, CipheredAPDU) and plain[0] != container.plain_tag:
        raise SecurityError(
            f"ciphered APDU 0x{container.tag:02X} carries APDU 0x{plain[0]:02X}, "
            f"expected 0x{container.plain_tag:02X}")
    return DecipheredAPDU(plain, style, apdu[0], sc, bytes(sender), container.invocation_counter)
