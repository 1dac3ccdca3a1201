"""High Level Security authentication (Green Book): the f(challenge) of passes 3 and 4.

After the AARQ/AARE exchange of challenges (CtoS, StoC, 8..64 octets), each side proves it knows
the secret by sending f(challenge of the other side) through Association LN method 1
reply_to_HLS_authentication:

- mechanism 3 (HLS-MD5):   f = MD5(challenge || secret)
- mechanism 4 (HLS-SHA1):  f = SHA-1(challenge || secret)
- mechanism 5 (HLS-GMAC):  f = SC || IC || GMAC(SC || AK || challenge), SC = 0x10, IV = system
  title of the party computing f || IC; the IC is that party's invocation counter.

Mechanism 2 is manufacturer specific and not implemented; 6 (SHA-256) and 7 (ECDSA) neither.
Verifiers raise SecurityError on mismatch, like `gcm.unprotect`, and compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable

from .control import SecurityControl
from .errors import SecurityError, SecurityParameterError
from .gcm import SYSTEM_TITLE_LENGTH, TAG_LENGTH, gmac

__all__ = [
    "MECHANISM_MD5", "MECHANISM_SHA1", "MECHANISM_GMAC", "HLS_GMAC_SC", "hls_gmac_response",
    "verify_hls_gmac", "hls_digest_response", "verify_hls_digest", "make_challenge",
    "CHALLENGE_MIN", "CHALLENGE_MAX",
]

MECHANISM_MD5 = 3
MECHANISM_SHA1 = 4
MECHANISM_GMAC = 5

HLS_GMAC_SC = SecurityControl(suite=0, authenticated=True)  # 0x10: authentication only
_GMAC_RESPONSE_LENGTH = 1 + 4 + TAG_LENGTH

_DIGESTS: dict[int, str] = {MECHANISM_MD5: "md5", MECHANISM_SHA1: "sha1"}

CHALLENGE_MIN = 8
CHALLENGE_MAX = 64


def hls_gmac_response(system_title: bytes, invocation_counter: int, ek: bytes, ak: bytes,
                      challenge: bytes) -> bytes:
    """f(challenge) for mechanism 5: 0x10 || IC (4) || 12-byte GMAC tag.

    `system_title` and `invocation_counter` belong to the party that computes f (the server
    answering CtoS uses its own title and counter).
    """
    tag = gmac(HLS_GMAC_SC, system_title, invocation_counter, ek, ak, challenge)
    return bytes((HLS_GMAC_SC.to_byte(),)) + invocation_counter.to_bytes(4, "big") + tag


def verify_hls_gmac(response: bytes, system_title: bytes, ek: bytes, ak: bytes, challenge: bytes) -> int:
    """Check the peer's f(challenge) for mechanism 5 and return the invocation counter it used.

    `system_title` is the peer's (the client's calling-AP-title for the server). The returned
    counter is for the caller to run through its invocation-counter rule.
    """
    if len(system_title) != SYSTEM_TITLE_LENGTH:
        raise SecurityParameterError(
            f"system title must be {SYSTEM_TITLE_LENGTH} bytes, got {len(system_title)}")
    if len(response) != _GMAC_RESPONSE_LENGTH:
        raise SecurityError(f"HLS-GMAC response must be {_GMAC_RESPONSE_LENGTH} bytes, got {len(response)}")
    if response[0] != HLS_GMAC_SC.to_byte():
        raise SecurityError(f"HLS-GMAC response security control 0x{response[0]:02X}, expected 0x10")
    invocation_counter = int.from_bytes(response[1:5], "big")
    expected = gmac(HLS_GMAC_SC, system_title, invocation_counter, ek, ak, challenge)
    if not hmac.compare_digest(expected, response[5:]):
        raise SecurityError("HLS-GMAC authentication failed")
    return invocation_counter


def hls_digest_response(mechanism: int, challenge: bytes, secret: bytes) -> bytes:
    """f(challenge) for mechanism 3 (MD5) or 4 (SHA-1): the digest of challenge || secret."""
    name = _DIGESTS.get(mechanism)
    if name is None:
        raise SecurityParameterError(f"HLS mechanism {mechanism} is not a digest mechanism (3 or 4)")
    return hashlib.new(name, challenge + secret).digest()


def verify_hls_digest(mechanism: int, response: bytes, challenge: bytes, secret: bytes) -> None:
    """Check the peer's f(challenge) for mechanism 3 or 4; SecurityError when it does not match."""
    if not hmac.compare_digest(hls_digest_response(mechanism, challenge, secret), response):
        raise SecurityError(f"HLS mechanism {mechanism} authentication failed")


def make_challenge(rng: random.Random | Callable[[int], bytes], length: int = 16) -> bytes:
    """A fresh challenge of `length` octets (8..64) from the caller's random source.

    `rng` is a `random.Random` (seeded in tests and simulations) or an `os.urandom`-like
    callable; there is no default so no hidden global RNG. 16 octets by default because some
    devices accept no other length.
    """
    if not CHALLENGE_MIN <= length <= CHALLENGE_MAX:
        raise SecurityParameterError(f"challenge length {length} outside {CHALLENGE_MIN}..{CHALLENGE_MAX}")
    challenge = rng.randbytes(length) if isinstance(rng, random.Random) else bytes(rng(length))
    if len(challenge) != length:
        raise SecurityParameterError(f"random source returned {len(challenge)} bytes, wanted {length}")
    return challenge
