"""Security suite 0: AES-GCM-128 with a 12-byte authentication tag (Green Book, "security suite 0").

What follows the security header (SC || IC) of a ciphered APDU, by the SC's A and E bits:

    A+E: ciphertext || T     AAD = SC || AK [|| H]
    A:   plaintext  || T     AAD = SC || AK [|| H] || plaintext   (GMAC: nothing is encrypted)
    E:   ciphertext          no tag, so nothing is authenticated

H is empty except for a general-ciphering APDU whose peer authenticates its header
(simulator/security/apdu.py says when).

IV (96 bits) = system title of the sender (8 bytes) || invocation counter (4 bytes, big endian).
T is the GCM tag truncated to its first 12 bytes. Encryption-only is GCM without the tag, which is
AES-CTR starting at inc32(J0) = IV || 00000002: the ciphertext part of a GCM encryption.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .control import SecurityControl
from .errors import SecurityError, SecurityParameterError

__all__ = ["TAG_LENGTH", "KEY_LENGTH", "SYSTEM_TITLE_LENGTH", "protect", "unprotect", "gmac"]

TAG_LENGTH = 12
KEY_LENGTH = 16
SYSTEM_TITLE_LENGTH = 8
_IC_MAX = 0xFFFFFFFF
_FULL_TAG = 16


def _iv(system_title: bytes, invocation_counter: int, ek: bytes, ak: bytes) -> bytes:
    """Check our own parameters (a local error when wrong) and build the IV."""
    if len(ek) != KEY_LENGTH:
        raise SecurityParameterError(f"block cipher key must be {KEY_LENGTH} bytes, got {len(ek)}")
    if len(ak) != KEY_LENGTH:
        raise SecurityParameterError(f"authentication key must be {KEY_LENGTH} bytes, got {len(ak)}")
    if len(system_title) != SYSTEM_TITLE_LENGTH:
        raise SecurityParameterError(
            f"system title must be {SYSTEM_TITLE_LENGTH} bytes, got {len(system_title)}")
    if not 0 <= invocation_counter <= _IC_MAX:
        raise SecurityParameterError(f"invocation counter {invocation_counter} does not fit 4 bytes")
    return bytes(system_title) + invocation_counter.to_bytes(4, "big")


def _unsupported(sc: SecurityControl) -> str | None:
    """Why suite 0 cannot handle `sc`, or None when it can."""
    if sc.suite != 0:
        return f"security suite {sc.suite} not supported"
    if sc.compressed:
        return "compression not supported"
    if not sc.protected:
        return "security control applies neither authentication nor encryption"
    return None


def _gcm(ek: bytes, iv: bytes, data: bytes, aad: bytes | None) -> bytes:
    """GCM encryption of `data`: the ciphertext followed by the full 16-byte tag.

    AESGCM does the whole operation in one native call (the Cipher/encryptor objects cost ten
    times more per APDU). Suite 0's 12-byte truncated tag is the first 12 bytes of this tag.
    """
    return AESGCM(ek).encrypt(iv, data, aad)


def _gcm_tag(ek: bytes, iv: bytes, aad: bytes) -> bytes:
    return _gcm(ek, iv, b"", aad)[:TAG_LENGTH]


def _ctr(ek: bytes, iv: bytes, data: bytes) -> bytes:
    """GCM's keystream applied to `data` (encryption-only, and deciphering): GCM encrypts with
    AES-CTR from inc32(J0) = IV || 00000002, which is its own inverse, so the ciphertext part of
    a GCM encryption of `data` is `data` XOR that keystream."""
    return _gcm(ek, iv, data, None)[:-_FULL_TAG]


def gmac(sc: SecurityControl, system_title: bytes, invocation_counter: int, ek: bytes, ak: bytes,
         data: bytes) -> bytes:
    """The 12-byte GMAC tag over SC || AK || data (authentication-only APDUs, HLS mechanism 5)."""
    iv = _iv(system_title, invocation_counter, ek, ak)
    if sc.suite != 0:
        raise SecurityParameterError(f"security suite {sc.suite} not supported")
    return _gcm_tag(ek, iv, bytes((sc.to_byte(),)) + ak + data)


def protect(sc: SecurityControl, system_title: bytes, invocation_counter: int, ek: bytes, ak: bytes,
            plaintext: bytes, header: bytes = b"") -> bytes:
    """What follows the security header: ciphertext || T, plaintext || T, or ciphertext (see above).

    `system_title` and `invocation_counter` are the sender's (ours when we protect).
    """
    iv = _iv(system_title, invocation_counter, ek, ak)
    reason = _unsupported(sc)
    if reason is not None:
        raise SecurityParameterError(reason)
    if not sc.encrypted:
        return plaintext + _gcm_tag(ek, iv, bytes((sc.to_byte(),)) + ak + header + plaintext)
    if not sc.authenticated:
        return _ctr(ek, iv, plaintext)
    sealed = _gcm(ek, iv, plaintext, bytes((sc.to_byte(),)) + ak + header)
    return sealed[:-_FULL_TAG] + sealed[-_FULL_TAG:-_FULL_TAG + TAG_LENGTH]


def unprotect(sc: SecurityControl, system_title: bytes, invocation_counter: int, ek: bytes, ak: bytes,
              protected: bytes, header: bytes = b"") -> bytes:
    """Verify and decipher what `protect` produced; SecurityError when the peer's data is not valid.

    Encryption-only data carries no tag, so it always "succeeds"; the caller must check that the
    plaintext makes sense (the APDU layer does, by its tag).
    """
    iv = _iv(system_title, invocation_counter, ek, ak)
    reason = _unsupported(sc)
    if reason is not None:
        raise SecurityError(reason)
    if not sc.authenticated:
        return _ctr(ek, iv, protected)
    if len(protected) < TAG_LENGTH:
        raise SecurityError(f"protected data of {len(protected)} bytes is shorter than the tag")
    body, tag = protected[:-TAG_LENGTH], protected[-TAG_LENGTH:]
    if not sc.encrypted:
        expected = _gcm_tag(ek, iv, bytes((sc.to_byte(),)) + ak + header + body)
        if not hmac.compare_digest(expected, tag):
            raise SecurityError("authentication tag mismatch")
        return body
    # AESGCM.decrypt wants the full 16-byte tag; suite 0 sends 12. So: decipher with the
    # keystream, then recompute the tag over the ciphertext by encrypting the plaintext again,
    # and compare its first 12 bytes. The plaintext is returned only once the tag matched.
    plaintext = _ctr(ek, iv, body)
    expected = _gcm(ek, iv, plaintext, bytes((sc.to_byte(),)) + ak + header)[-_FULL_TAG:-_FULL_TAG + TAG_LENGTH]
    if not hmac.compare_digest(expected, tag):
        raise SecurityError("authentication tag mismatch")
    return plaintext
