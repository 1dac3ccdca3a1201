"""OBIS codes (IEC 62056-6-1): six value groups A-B:C.D.E*F identifying a COSEM object."""

from __future__ import annotations

import re

from ..errors import DecodeError

__all__ = ["Obis"]

_SEPARATORS = re.compile(r"[.\-:*,; ]")


class Obis(bytes):
    """An OBIS code, stored as its 6 wire bytes so it is compact, hashable and fast as a dict key.

    Accepts the forms metering engineers write: "1.0.1.8.0.255", "1-0:1.8.0*255", "1-0:1.8.0"
    (F defaults to 255) and 12 hex digits ("0100010800FF").
    """

    __slots__ = ()

    def __new__(cls, value: bytes | bytearray | str | tuple[int, ...] | list[int]) -> "Obis":
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        raw = bytes(value)
        if len(raw) != 6:
            raise DecodeError(f"an OBIS code has 6 bytes, got {len(raw)}")
        return super().__new__(cls, raw)

    @classmethod
    def parse(cls, text: str) -> "Obis":
        s = text.strip()
        if len(s) == 12 and all(c in "0123456789abcdefABCDEF" for c in s):
            return super().__new__(cls, bytes.fromhex(s))
        parts = [p for p in _SEPARATORS.split(s)]
        if len(parts) == 5:
            parts.append("255")
        if len(parts) != 6 or not all(p.isdigit() for p in parts):
            raise DecodeError(f"not an OBIS code: {text!r} (expected e.g. 1.0.1.8.0.255 or 1-0:1.8.0*255)")
        groups = [int(p) for p in parts]
        if any(g > 255 for g in groups):
            raise DecodeError(f"OBIS value group above 255 in {text!r}")
        return super().__new__(cls, bytes(groups))

    @classmethod
    def from_bytes(cls, data: bytes) -> "Obis":
        return cls(data)

    def to_bytes(self) -> bytes:
        return bytes(self)

    def __str__(self) -> str:
        return ".".join(str(b) for b in self)

    def reduced(self) -> str:
        """The IEC 62056-61 display form A-B:C.D.E*F."""
        a, b, c, d, e, f = self
        return f"{a}-{b}:{c}.{d}.{e}*{f}"

    def __repr__(self) -> str:
        return f"Obis('{self}')"
