"""DLMS security suite 0 (Green Book): AES-GCM-128 ciphering, HLS authentication, key wrap.

The only package that imports `cryptography`; everything here is a pure function or a small
class with plain state.
"""

from .apdu import CipherKeys, DecipheredAPDU, KeyLookup, KeyRequest, decrypt_apdu, encrypt_apdu
from .control import SecurityControl
from .counter import InvocationCounters
from .errors import InvocationCounterError, SecurityError, SecurityParameterError
from .gcm import gmac, protect, unprotect
from .hls import hls_digest_response, hls_gmac_response, make_challenge, verify_hls_digest, verify_hls_gmac
from .keywrap import KeyId, unwrap_key, wrap_key

__all__ = [
    "CipherKeys", "DecipheredAPDU", "KeyLookup", "KeyRequest", "decrypt_apdu", "encrypt_apdu",
    "SecurityControl", "InvocationCounters", "InvocationCounterError", "SecurityError",
    "SecurityParameterError", "gmac", "protect", "unprotect", "hls_digest_response",
    "hls_gmac_response", "make_challenge", "verify_hls_digest", "verify_hls_gmac", "KeyId",
    "unwrap_key", "wrap_key",
]
