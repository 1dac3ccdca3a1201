"""Which COSEM attributes and methods carry secrets, and how a secret is hidden.

A value written to, read from or passed to one of these is shown only as its length, by
`cosem-sim decode` and by the runtime's `--trace` alike: the bytes a user pastes into a ticket
or a log collector keeps must not hold a password or a key. Authentication values of the
AARQ/AARE and a dedicated key are hidden the same way (simulator/decode/apdu.py).

The members, by (class_id, index), with their Blue Book names:
"""

from __future__ import annotations

from ..axdr import Data, DataType

__all__ = ["SECRET_ATTRIBUTES", "SECRET_METHODS", "is_secret", "MASK_BYTE", "secret_leaves", "mask"]

SECRET_ATTRIBUTES = frozenset({
    (15, 7),    # Association LN secret (LLS password, HLS secret)
    (44, 5),    # PPP setup PPP_authentication (user name and password)
    (46, 4),    # SMTP setup login_password
    (91, 5),    # G3-PLC MAC setup mac_key_table
    (100, 6),   # NTP setup authentication_keys
    (100, 7),   # NTP setup client_key
})
SECRET_METHODS = frozenset({
    (12, 3),    # Association SN change_LLS_secret
    (12, 4),    # Association SN change_HLS_secret
    (12, 6),    # Association SN reply_to_HLS_authentication (f(StoC) and f(CtoS))
    (15, 1),    # Association LN reply_to_HLS_authentication
    (15, 2),    # Association LN change_HLS_secret
    (64, 2),    # Security setup global_key_transfer (v0) / key_transfer (v1): wrapped keys
    (64, 3),    # Security setup key_agreement
    (72, 7),    # M-Bus client set_encryption_key
    (72, 8),    # M-Bus client transfer_key
    (100, 2),   # NTP setup add_authentication_key
    (104, 9),   # ZigBee network control update_link_key
})

MASK_BYTE = 0x2A  # "*": hidden octets in a hex dump keep their place, so it still decodes

_ENCODINGS = {DataType.VISIBLE_STRING: "latin-1", DataType.UTF8_STRING: "utf-8"}


def is_secret(class_id: int, index: int, method: bool) -> bool:
    return (class_id, index) in (SECRET_METHODS if method else SECRET_ATTRIBUTES)


def secret_leaves(value: Data) -> list[bytes]:
    """The encoded contents of the strings inside a value: what a hex dump must hide."""
    if value.type in (DataType.ARRAY, DataType.STRUCTURE):
        return [leaf for item in value.value for leaf in secret_leaves(item)]
    if value.type == DataType.OCTET_STRING:
        return [bytes(value.value)] if value.value else []
    if value.type in _ENCODINGS:
        return [str(value.value).encode(_ENCODINGS[value.type], "replace")] if value.value else []
    return []


def mask(data: bytes, hidden: list[bytes]) -> tuple[bytes, int]:
    """`data` with every occurrence of each hidden byte string replaced by MASK_BYTE, and how
    many octets were replaced."""
    out = bytearray(data)
    count = 0
    for secret in sorted(set(hidden), key=len, reverse=True):
        start = out.find(secret)
        while start >= 0:
            out[start:start + len(secret)] = bytes((MASK_BYTE,)) * len(secret)
            count += len(secret)
            start = out.find(secret, start + len(secret))
    return bytes(out), count
