"""Authentication of an association (Green Book 9.2.7): LLS password check and the HLS passes.

- Lowest (mechanism 0): nothing to check.
- LLS (1): the AARQ's calling-authentication-value must equal the association's secret.
- HLS (3 MD5, 4 SHA-1, 5 GMAC): pass 1 brings the client's challenge CtoS, pass 2 (the AARE)
  the server's StoC; pass 3 is the client's f(StoC) through reply_to_HLS_authentication,
  which the server checks, and pass 4 the server's f(CtoS) in the response.

Mechanism 2 is manufacturer specific, 6 (SHA-256) and 7 (ECDSA) belong to later security work:
an AARQ naming them is answered authentication-mechanism-name-not-recognised.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from ..apdu.acse import AuthenticationValue, MechanismName
from ..axdr import Data, DataType
from ..security.apdu import CipherKeys
from ..security.errors import SecurityError
from ..security.hls import (
    CHALLENGE_MAX,
    CHALLENGE_MIN,
    hls_digest_response,
    hls_gmac_response,
    verify_hls_digest,
    verify_hls_gmac,
)

__all__ = [
    "SUPPORTED_MECHANISMS", "HLS_MECHANISMS", "secret_bytes", "password_matches", "valid_challenge",
    "Challenges", "check_pass3", "pass4",
]

M = MechanismName
SUPPORTED_MECHANISMS = frozenset({M.LOWEST, M.LOW, M.HIGH_MD5, M.HIGH_SHA1, M.HIGH_GMAC})
HLS_MECHANISMS = frozenset({M.HIGH_MD5, M.HIGH_SHA1, M.HIGH_GMAC})


def secret_bytes(value: Data | None) -> bytes | None:
    """A password or HLS secret as octets: an octet-string as is, a text as its latin-1 bytes."""
    if value is None or value.type == DataType.NULL_DATA:
        return None
    if value.type == DataType.OCTET_STRING:
        return bytes(value.value)
    if value.type in (DataType.VISIBLE_STRING, DataType.UTF8_STRING):
        return str(value.value).encode("latin-1" if value.type == DataType.VISIBLE_STRING else "utf-8")
    return None


def password_matches(expected: bytes | None, given: AuthenticationValue) -> bool:
    """LLS: the charstring the client sent equals the secret (in constant time)."""
    return expected is not None and isinstance(given, bytes) and hmac.compare_digest(expected, given)


def valid_challenge(value: AuthenticationValue | None) -> bool:
    """An HLS challenge is a charstring of 8..64 octets."""
    return isinstance(value, bytes) and CHALLENGE_MIN <= len(value) <= CHALLENGE_MAX


@dataclass(frozen=True, slots=True)
class Challenges:
    """The two challenges of one HLS authentication (kept out of repr)."""

    ctos: bytes = field(repr=False)
    stoc: bytes = field(repr=False)


def check_pass3(mechanism: MechanismName, response: bytes, challenges: Challenges, *, secret: bytes | None,
                client_title: bytes | None, keys: CipherKeys | None) -> None:
    """Verify the client's f(StoC); SecurityError when it does not prove the secret.

    For GMAC the counter inside f is not run through the replay rule: StoC is fresh, so f
    cannot be replayed, and clients number f before the APDU that carries it.
    """
    if mechanism == M.HIGH_GMAC:
        if keys is None or client_title is None:
            raise SecurityError("HLS-GMAC needs the client system title and the global keys")
        verify_hls_gmac(response, client_title, keys.ek, keys.ak, challenges.stoc)
        return
    if secret is None:
        raise SecurityError("no HLS secret for this association")
    verify_hls_digest(int(mechanism), response, challenges.stoc, secret)


def pass4(mechanism: MechanismName, challenges: Challenges, *, secret: bytes | None, server_title: bytes | None,
          invocation_counter: int, keys: CipherKeys | None) -> bytes:
    """The server's f(CtoS); for GMAC computed with our system title and invocation counter."""
    if mechanism == M.HIGH_GMAC:
        if keys is None or server_title is None:
            raise SecurityError("HLS-GMAC needs the server system title and the global keys")
        return hls_gmac_response(server_title, invocation_counter, keys.ek, keys.ak, challenges.ctos)
    if secret is None:
        raise SecurityError("no HLS secret for this association")
    return hls_digest_response(int(mechanism), challenges.ctos, secret)
