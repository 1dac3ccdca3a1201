"""HDLC addresses (IEC 62056-46 clause 6.4.2).

Each address byte carries 7 address bits above an extension bit: 0 means "more bytes
follow", 1 marks the last byte. A client address is one byte, `(SAP << 1) | 1`. A
server address is one, two or four bytes and has two parts:

    1 byte :  [ upper(7) 1 ]
    2 bytes:  [ upper(7) 0 ] [ lower(7) 1 ]
    4 bytes:  [ upper hi(7) 0 ] [ upper lo(7) 0 ] [ lower hi(7) 0 ] [ lower lo(7) 1 ]

The upper address selects the logical device, the lower one the physical device on a
multi-drop line. The length is part of the address: real meters answer in the form
they were addressed with, and small values can be sent in either form (00 02 00 23
is logical 1, physical 17).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import DecodeError, EncodeError

__all__ = ["HDLCAddress"]

# All-station (broadcast) values of an address part, by bytes per part.
_ALL_STATION = {1: 0x7F, 2: 0x3FFF}


@dataclass(frozen=True, slots=True)
class HDLCAddress:
    """An HDLC address: `logical` (upper) and `physical` (lower, None in the 1-byte form).

    `length` is 1, 2 or 4 bytes on the wire; 0 picks the shortest form that holds the
    values. Client addresses are 1-byte addresses whose logical part is the SAP.
    """

    logical: int
    physical: int | None = None
    length: int = 0

    def __post_init__(self) -> None:
        length = self.length
        if length == 0:
            if self.physical is None:
                length = 1
            elif self.logical < 0x80 and self.physical < 0x80:
                length = 2
            else:
                length = 4
            object.__setattr__(self, "length", length)
        if length == 1:
            ok = self.physical is None and 0 <= self.logical < 0x80
        elif length in (2, 4):
            limit = 0x80 if length == 2 else 0x4000
            ok = self.physical is not None and 0 <= self.logical < limit and 0 <= self.physical < limit
        else:
            ok = False
        if not ok:
            raise EncodeError(f"HDLC address logical={self.logical} physical={self.physical} "
                              f"does not fit {length} byte(s)")

    @classmethod
    def client(cls, sap: int) -> HDLCAddress:
        """The one-byte address of a client SAP (16 is the public client)."""
        return cls(sap, None, 1)

    @property
    def is_all_station(self) -> bool:
        """True when a part carries the all-station (broadcast) value 0x7F / 0x3FFF."""
        bits = 1 if self.length <= 2 else 2
        return self.logical == _ALL_STATION[bits] or self.physical == _ALL_STATION[bits]

    def to_bytes(self) -> bytes:
        lo, ph = self.logical, self.physical
        if ph is None:
            return bytes(((lo << 1) | 1,))
        if self.length == 2:
            return bytes((lo << 1, (ph << 1) | 1))
        return bytes(((lo >> 6) & 0xFE, (lo << 1) & 0xFE, (ph >> 6) & 0xFE, ((ph << 1) & 0xFE) | 1))

    @classmethod
    def from_bytes(cls, data: bytes) -> HDLCAddress:
        """Decode exactly one address; trailing bytes are an error."""
        address, end = cls.decode_at(data, 0, len(data))
        if end != len(data):
            raise DecodeError("trailing bytes after HDLC address", end)
        return address

    @classmethod
    def decode_at(cls, data: bytes | bytearray, pos: int, end: int) -> tuple[HDLCAddress, int]:
        """Decode the address starting at `pos` (bytes before `end`); returns it and the next offset.

        Frame decoding reads addresses in place, hence the offset pair instead of a Reader.
        """
        for size in range(min(4, end - pos)):
            if data[pos + size] & 1:
                break
        else:
            raise DecodeError("HDLC address without a final byte (extension bit) within 4 bytes", pos)
        size += 1
        if size == 1:
            return cls(data[pos] >> 1, None, 1), pos + 1
        if size == 2:
            return cls(data[pos] >> 1, data[pos + 1] >> 1, 2), pos + 2
        if size == 4:
            b0, b1, b2, b3 = data[pos:pos + 4]
            return cls(((b0 >> 1) << 7) | (b1 >> 1), ((b2 >> 1) << 7) | (b3 >> 1), 4), pos + 4
        raise DecodeError("HDLC address of 3 bytes (allowed: 1, 2 or 4)", pos)
