"""An independent general-ciphering (0xDD) peer for the tests: its own encoder and decoder.

Written from the Green Book's general-ciphering SEQUENCE (transaction-id,
originator-system-title, recipient-system-title, date-time, other-information: A-XDR octet
strings; key-info OPTIONAL; ciphered-content = SC || IC || ciphertext || 12-octet tag) and
security suite 0 (IV = sender's system title || IC, AAD = SC || AK, optionally followed by the
five header fields as on the wire), with AES-GCM from `cryptography` used directly. Nothing
here imports the simulator, so a mistake in the meter's codec cannot hide in both ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TAG_LENGTH = 12
UNICAST_KEY = bytes((0x01, 0x00, 0x00))  # key-info present, identified-key, global-unicast-encryption-key
BROADCAST_KEY = bytes((0x01, 0x00, 0x01))  # ... global-broadcast-encryption-key
NO_KEY_INFO = b"\x00"


def _octets(value: bytes) -> bytes:
    assert len(value) < 128, "this peer writes short-form lengths only"
    return bytes((len(value),)) + value


def header(transaction_id: bytes, originator: bytes, recipient: bytes, date_time: bytes = b"",
           other: bytes = b"") -> bytes:
    return b"".join(_octets(v) for v in (transaction_id, originator, recipient, date_time, other))


def request(plain: bytes, *, ek: bytes, ak: bytes, originator: bytes, recipient: bytes, ic: int,
            transaction_id: bytes = bytes(8), sc: int = 0x30, date_time: bytes = b"", other: bytes = b"",
            key_info: bytes = NO_KEY_INFO, header_in_aad: bool = False, aad_originator: bytes | None = None) -> bytes:
    """A general-ciphering APDU; `aad_originator` is the IV's system title when `originator` is
    sent empty (the association's client title)."""
    fields = header(transaction_id, originator, recipient, date_time, other)
    iv = (originator or aad_originator or b"") + ic.to_bytes(4, "big")
    aad = bytes((sc,)) + ak + (fields if header_in_aad else b"")
    if sc & 0x30 == 0x30:
        sealed = AESGCM(ek).encrypt(iv, plain, aad)
        body = sealed[:-16] + sealed[-16:-16 + TAG_LENGTH]
    elif sc & 0x10:  # authentication only: the plaintext is authenticated data
        body = plain + AESGCM(ek).encrypt(iv, b"", aad + plain)[:TAG_LENGTH]
    else:
        body = AESGCM(ek).encrypt(iv, plain, None)[:-16]
    content = bytes((sc,)) + ic.to_bytes(4, "big") + body
    return b"\xDD" + fields + key_info + _octets(content) if len(content) < 128 else \
        b"\xDD" + fields + key_info + b"\x82" + len(content).to_bytes(2, "big") + content


@dataclass
class Answer:
    transaction_id: bytes
    originator: bytes
    recipient: bytes
    date_time: bytes
    other: bytes
    key_info: bytes
    sc: int
    ic: int
    plain: bytes


def open_answer(data: bytes, *, ek: bytes, ak: bytes, header_in_aad: bool = False) -> Answer:
    """Parse a general-ciphering answer and check its tag (AssertionError when it is wrong)."""
    assert data[0] == 0xDD, f"not general-ciphering: {data[:3].hex()}"
    pos, fields = 1, []
    for _ in range(5):
        n = data[pos]
        assert n < 128
        fields.append(data[pos + 1:pos + 1 + n])
        pos += 1 + n
    head = data[1:pos]
    key_info = data[pos:pos + 1] if data[pos] == 0 else data[pos:pos + 3]
    assert key_info in (NO_KEY_INFO, UNICAST_KEY, BROADCAST_KEY), key_info.hex()
    pos += len(key_info)
    first = data[pos]
    if first < 0x80:
        length, pos = first, pos + 1
    else:
        size = first & 0x7F
        length, pos = int.from_bytes(data[pos + 1:pos + 1 + size], "big"), pos + 1 + size
    content = data[pos:]
    assert len(content) == length
    sc, ic = content[0], int.from_bytes(content[1:5], "big")
    iv = fields[1] + content[1:5]
    aad = bytes((sc,)) + ak + (head if header_in_aad else b"")
    assert sc & 0x30 == 0x30, f"answer SC {sc:02X} is not authenticated encryption"
    ciphertext, tag = content[5:-TAG_LENGTH], content[-TAG_LENGTH:]
    decryptor = Cipher(algorithms.AES(ek), modes.GCM(iv, tag, min_tag_length=TAG_LENGTH)).decryptor()
    decryptor.authenticate_additional_data(aad)
    plain = decryptor.update(ciphertext) + decryptor.finalize()  # InvalidTag when the tag is wrong
    return Answer(fields[0], fields[1], fields[2], fields[3], fields[4], key_info, sc, ic, plain)
