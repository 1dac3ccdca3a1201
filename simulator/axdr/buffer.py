"""A bounds-checked reader over bytes and the A-XDR length encoding.

Every decoder in the package reads through `Reader`, so running out of bytes is always
a `DecodeError` carrying the offset, never an IndexError.
"""

from __future__ import annotations

from ..errors import DecodeError, EncodeError

__all__ = ["Reader", "encode_length", "length_size"]


class Reader:
    """Sequential reader; `pos` is the absolute offset of the next byte."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes | bytearray | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.data = bytes(data) if not isinstance(data, bytes) else data
        self.pos = pos
        self.end = len(self.data) if end is None else end

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def fail(self, reason: str, offset: int | None = None) -> DecodeError:
        """Build a DecodeError at the current (or given) offset, for the caller to raise."""
        return DecodeError(reason, self.pos if offset is None else offset)

    def need(self, n: int, what: str = "data") -> None:
        if n < 0 or self.pos + n > self.end:
            raise DecodeError(f"truncated {what}: need {n} byte(s), {self.end - self.pos} left", self.pos)

    def u8(self, what: str = "byte") -> int:
        if self.pos >= self.end:
            raise DecodeError(f"truncated {what}: need 1 byte, 0 left", self.pos)
        b = self.data[self.pos]
        self.pos += 1
        return b

    def peek(self, what: str = "byte") -> int:
        if self.pos >= self.end:
            raise DecodeError(f"truncated {what}: need 1 byte, 0 left", self.pos)
        return self.data[self.pos]

    def uint(self, size: int, what: str = "integer") -> int:
        self.need(size, what)
        v = int.from_bytes(self.data[self.pos:self.pos + size], "big")
        self.pos += size
        return v

    def sint(self, size: int, what: str = "integer") -> int:
        self.need(size, what)
        v = int.from_bytes(self.data[self.pos:self.pos + size], "big", signed=True)
        self.pos += size
        return v

    def take(self, n: int, what: str = "octets") -> bytes:
        self.need(n, what)
        v = self.data[self.pos:self.pos + n]
        self.pos += n
        return v

    def rest(self) -> bytes:
        v = self.data[self.pos:self.end]
        self.pos = self.end
        return v

    def length(self, what: str = "length") -> int:
        """A-XDR length: one byte below 0x80, else 0x8N followed by N big-endian bytes."""
        start = self.pos
        first = self.u8(what)
        if first < 0x80:
            return first
        n = first & 0x7F
        if n == 0 or n > 4:
            raise DecodeError(f"invalid {what} encoding 0x{first:02X}", start)
        return self.uint(n, what)

    def sub(self, n: int, what: str = "content") -> "Reader":
        """A reader over the next n bytes (advancing past them); offsets stay absolute."""
        self.need(n, what)
        r = Reader(self.data, self.pos, self.pos + n)
        self.pos += n
        return r

    def expect_end(self, what: str = "message") -> None:
        if self.pos != self.end:
            raise DecodeError(f"{self.end - self.pos} unexpected trailing byte(s) after {what}", self.pos)


def encode_length(n: int) -> bytes:
    """A-XDR (and BER definite) length: short form below 128, else 0x81/0x82/0x84 + bytes."""
    if n < 0:
        raise EncodeError(f"negative length {n}")
    if n < 0x80:
        return bytes((n,))
    if n <= 0xFF:
        return bytes((0x81, n))
    if n <= 0xFFFF:
        return b"\x82" + n.to_bytes(2, "big")
    if n <= 0xFFFFFF:
        return b"\x83" + n.to_bytes(3, "big")
    if n <= 0xFFFFFFFF:
        return b"\x84" + n.to_bytes(4, "big")
    raise EncodeError(f"length {n} too large")


def length_size(n: int) -> int:
    """Bytes `encode_length(n)` takes, without building them."""
    return 1 if n < 0x80 else 2 if n <= 0xFF else 3 if n <= 0xFFFF else 4 if n <= 0xFFFFFF else 5
