"""Sizes and reassembly shared by the service-specific block transfers (GET datablocks, SET
datablocks, ACTION pblocks, SN read/write blocks).

A long answer is encoded once and cut into slices as large as the client's max receive PDU
size allows once each slice is wrapped in its block APDU (and ciphered like the request); a
long request is gathered until its last block, then decoded and served as if it had come in
one piece.
"""

from __future__ import annotations

from ..apdu.common import read_count
from ..axdr import Data, Reader, decode_data, length_size

__all__ = ["MAX_REASSEMBLY", "chunk_size", "decode_value", "decode_values", "checked_append"]

MAX_REASSEMBLY = 1 << 20
"""Largest long request gathered from blocks; a bigger one is aborted (memory per meter)."""


def chunk_size(limit: int, fixed: int) -> int:
    """Largest slice that fits `limit` bytes in a block APDU of `fixed` header bytes plus the
    slice's own length field; at least one byte so a transfer always progresses."""
    room = limit - fixed
    if room <= 1:
        return 1
    return max(1, room - length_size(room))


def decode_value(payload: bytes | bytearray) -> Data:
    """One whole Data; DecodeError when the blocks did not add up to exactly one value."""
    r = Reader(bytes(payload))
    value = decode_data(r)
    r.expect_end("reassembled value")
    return value


def decode_values(payload: bytes | bytearray) -> tuple[Data, ...]:
    """A SEQUENCE OF Data (the with-list forms); DecodeError unless the payload is exactly that."""
    r = Reader(bytes(payload))
    values = tuple(decode_data(r) for _ in range(read_count(r, "value list")))
    r.expect_end("reassembled value list")
    return values


def checked_append(buffer: bytearray, raw: bytes) -> bool:
    """Append one block; False (and nothing appended) when the request grows past the cap."""
    if len(buffer) + len(raw) > MAX_REASSEMBLY:
        return False
    buffer += raw
    return True

