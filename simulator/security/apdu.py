"""Cipher and decipher whole xDLMS APDUs: the security suite applied to the ciphered containers.

`encrypt_apdu` wraps a plaintext APDU in the requested style; `decrypt_apdu` undoes any ciphered
APDU and reports how it was protected (`DecipheredAPDU`), so the server can answer in the same
style with the same protection. Keys come from a lookup the caller supplies, because which key
applies (global unicast, broadcast, or the association's dedicated key) depends on the APDU.

general-ciphering (0xDD) and its additional authenticated data under security suite 0.
Independent implementations differ on whether the header fields (transaction-id,
originator-system-title, recipient-system-title, date-time, other-information, each as
length + octets) join the AAD SC || AK when the suite is 0:
- gurux-dlms (Gurux/gurux.dlms.java development/src/main/java/gurux/dlms/secure/
  GXDLMSChippering.java `getAuthenticatedData`, and gurux_dlms 1.0.203 GXDLMSChippering.py,
  the same function) adds them only for suites 1 and 2: suite 0 is SC || AK;
- spodes-rs 0.7.1 (src/service/general_ciphering.rs) frames general-ciphering around the
  service-specific ciphering of src/service/ciphering.rs, whose AAD is SC || AK;
- the EnergyICT/Connexo DLMS library (com.energyict.dlms.aso.SecurityContext,
  `getAuthenticatedAndEncryptedRequestBytes`) appends the header to SC || AK for every
  general-ciphering APDU, whatever the suite.
The Green Book's own table was not at hand to settle it, so the meter takes both: a tag is
checked over SC || AK first (the reading of two of the three), then over SC || AK || header,
and the answer is protected the way its request was (`GeneralExchange.header_in_aad`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..apdu.ciphered import (
    CipheredAPDU, CipherStyle, GeneralCiphering, GeneralCipheringAPDU, GeneralDedCiphering, GeneralGloCiphering,
    IdentifiedKey, KeyInfo, ciphered_apdu_from_bytes, ciphered_tag, general_ciphering_header,
)
from ..errors import EncodeError
from .control import SecurityControl
from .errors import SecurityError, SecurityParameterError
from .gcm import SYSTEM_TITLE_LENGTH, protect, unprotect

__all__ = ["CipherKeys", "KeyRequest", "KeyLookup", "GeneralExchange", "DecipheredAPDU", "encrypt_apdu",
           "decrypt_apdu"]


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
class GeneralExchange:
    """What a general-ciphering request carried that its answer repeats or mirrors.

    The answer echoes the transaction id, names the request's originator as its recipient,
    carries key-info identified-key when the request did, and authenticates the header when
    the request's tag covered it.
    """

    transaction_id: bytes
    client_system_title: bytes  # the request's originator: the answer's recipient
    recipient_system_title: bytes  # as the request named it (empty, or the meter's own)
    identified_key: bool
    header_in_aad: bool


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
    general: GeneralExchange | None = None  # general-ciphering only


def encrypt_apdu(plain_apdu: bytes, style: CipherStyle | str, sc: SecurityControl, system_title: bytes,
                 invocation_counter: int, ek: bytes, ak: bytes, general: GeneralExchange | None = None) -> bytes:
    """Protect `plain_apdu` and wrap it as a glo-/ded-, general-glo/ded- or general-ciphering APDU.

    `system_title` and `invocation_counter` are ours (the sender's); general-ciphering answers
    the request described by `general`. EncodeError when the APDU has no service-specific
    ciphered form and a glo/ded style was asked for.
    """
    try:
        style = CipherStyle(style)
    except ValueError:
        raise SecurityParameterError(f"unknown ciphering style {style!r}") from None
    if not plain_apdu:
        raise EncodeError("cannot cipher an empty APDU")
    if style is CipherStyle.GENERAL:
        return _general_ciphering(plain_apdu, sc, system_title, invocation_counter, ek, ak, general)
    tag = None if style.general else ciphered_tag(plain_apdu[0], style.dedicated)
    payload = protect(sc, system_title, invocation_counter, ek, ak, plain_apdu)
    if tag is None:
        wrapper = GeneralDedCiphering if style.dedicated else GeneralGloCiphering
        return wrapper(bytes(system_title), sc.to_byte(), invocation_counter, payload).to_bytes()
    return CipheredAPDU(tag, sc.to_byte(), invocation_counter, payload).to_bytes()


_UNSOLICITED = GeneralExchange(b"", b"", b"", identified_key=False, header_in_aad=False)


def _general_ciphering(plain_apdu: bytes, sc: SecurityControl, system_title: bytes, invocation_counter: int,
                       ek: bytes, ak: bytes, general: GeneralExchange | None) -> bytes:
    """A general-ciphering answer: the request's transaction id, our title to the client's, no
    date-time or other-information, key-info only when the request named its key. Without a
    request (`general` None) the transaction id and the recipient are empty."""
    general = general or _UNSOLICITED
    recipient = general.client_system_title
    header = general_ciphering_header(general.transaction_id, system_title, recipient, b"", b"")
    payload = protect(sc, system_title, invocation_counter, ek, ak, plain_apdu,
                      header if general.header_in_aad else b"")
    key_info = IdentifiedKey(IdentifiedKey.BROADCAST if sc.broadcast_key else IdentifiedKey.UNICAST) \
        if general.identified_key else None
    return GeneralCipheringAPDU(bytes(system_title), sc.to_byte(), invocation_counter, payload,
                                general.transaction_id, recipient, key_info=key_info).to_bytes()


def _named_key(key_info: KeyInfo | None, sc: SecurityControl) -> bool:
    """Whether a general-ciphering APDU is under the broadcast key; SecurityError for a key the
    meter cannot use (wrapped or agreed keys, suites 1 and 2) or a key-info the SC contradicts."""
    if key_info is None:
        return sc.broadcast_key
    if not isinstance(key_info, IdentifiedKey):
        kind = "wrapped-key" if key_info.TAG == 1 else "agreed-key"
        raise SecurityError(f"key-info {kind} is not supported: only identified-key names a key this meter holds")
    if key_info.key_id not in (IdentifiedKey.UNICAST, IdentifiedKey.BROADCAST):
        raise SecurityError(f"key-info identified-key names key-id {key_info.key_id}, no global key")
    broadcast = key_info.key_id == IdentifiedKey.BROADCAST
    if broadcast != sc.broadcast_key:
        raise SecurityError("key-info and the security control byte name different keys")
    return broadcast


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
    general = container if isinstance(container, GeneralCipheringAPDU) else None
    broadcast = sc.broadcast_key if general is None else _named_key(general.key_info, sc)
    found = keys(KeyRequest(bytes(sender), style.dedicated, broadcast))
    if found is None:
        raise SecurityError(f"no {'dedicated' if style.dedicated else 'global'} key for this sender")
    header_in_aad = False
    try:
        plain = unprotect(sc, sender, container.invocation_counter, found.ek, found.ak, container.payload)
    except SecurityError:
        if general is None or not sc.authenticated:
            raise
        plain = unprotect(sc, sender, container.invocation_counter, found.ek, found.ak, container.payload,
                          general.header())  # the peers that authenticate the header (module docstring)
        header_in_aad = True
    if not plain:
        raise SecurityError("deciphered APDU is empty")
    if isinstance(container, CipheredAPDU) and plain[0] != container.plain_tag:
        raise SecurityError(
            f"ciphered APDU 0x{container.tag:02X} carries APDU 0x{plain[0]:02X}, "
            f"expected 0x{container.plain_tag:02X}")
    exchange = None if general is None else GeneralExchange(
        general.transaction_id, bytes(sender), general.recipient_system_title, general.key_info is not None,
        header_in_aad)
    return DecipheredAPDU(plain, style, apdu[0], sc, bytes(sender), container.invocation_counter, exchange)
