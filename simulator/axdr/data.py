"""The DLMS `Data` CHOICE (Green Book 9.5) and its A-XDR encoding.

A value is `Data(type, value)`; the Python value per type is:

==================  =====================================================
null-data, dont-care  None
array, structure      tuple of Data
boolean               bool
bit-string            BitString
integer types, enum,  int
bcd
float32, float64,     float
floating-point
octet-string          bytes
visible-string        str (each character one byte, latin-1)
utf8-string           str
date-time/date/time   CosemDateTime / CosemDate / CosemTime
compact-array         CompactArray
==================  =====================================================

Wire layout: one tag byte, then for fixed-size types the big-endian value, for strings an
A-XDR length and the octets, for bit-string the length in *bits* and the packed bytes, for
array/structure a count and the tagged elements.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Callable

from ..errors import DecodeError, EncodeError
from .buffer import Reader, encode_length
from .cosem_time import CosemDate, CosemDateTime, CosemTime

__all__ = [
    "DataType", "Data", "BitString", "TypeDescription", "CompactArray",
    "encode_data", "decode_data", "NULL",
]


class DataType(IntEnum):
    NULL_DATA = 0
    ARRAY = 1
    STRUCTURE = 2
    BOOLEAN = 3
    BIT_STRING = 4
    DOUBLE_LONG = 5
    DOUBLE_LONG_UNSIGNED = 6
    FLOATING_POINT = 7
    OCTET_STRING = 9
    VISIBLE_STRING = 10
    UTF8_STRING = 12
    BCD = 13
    INTEGER = 15
    LONG = 16
    UNSIGNED = 17
    LONG_UNSIGNED = 18
    COMPACT_ARRAY = 19
    LONG64 = 20
    LONG64_UNSIGNED = 21
    ENUM = 22
    FLOAT32 = 23
    FLOAT64 = 24
    DATE_TIME = 25
    DATE = 26
    TIME = 27
    DONT_CARE = 255

    @property
    def label(self) -> str:
        """The standard's spelling: 'double-long-unsigned'."""
        return self.name.lower().replace("_", "-")


# (size, signed) of the integer types; bcd and enum are one unsigned byte on the wire.
INTEGER_FORMATS: dict[DataType, tuple[int, bool]] = {
    DataType.INTEGER: (1, True),
    DataType.LONG: (2, True),
    DataType.DOUBLE_LONG: (4, True),
    DataType.LONG64: (8, True),
    DataType.UNSIGNED: (1, False),
    DataType.LONG_UNSIGNED: (2, False),
    DataType.DOUBLE_LONG_UNSIGNED: (4, False),
    DataType.LONG64_UNSIGNED: (8, False),
    DataType.ENUM: (1, False),
    DataType.BCD: (1, False),
}
FLOAT_FORMATS: dict[DataType, struct.Struct] = {
    DataType.FLOAT32: struct.Struct(">f"),
    DataType.FLOATING_POINT: struct.Struct(">f"),
    DataType.FLOAT64: struct.Struct(">d"),
}
FIXED_OCTETS: dict[DataType, type[CosemDateTime] | type[CosemDate] | type[CosemTime]] = {
    DataType.DATE_TIME: CosemDateTime,
    DataType.DATE: CosemDate,
    DataType.TIME: CosemTime,
}
_FIXED_SIZES = {DataType.DATE_TIME: 12, DataType.DATE: 5, DataType.TIME: 4, DataType.FLOAT32: 4,
                DataType.FLOATING_POINT: 4, DataType.FLOAT64: 8}
_KNOWN_TAGS = frozenset(int(t) for t in DataType)


@dataclass(frozen=True, slots=True)
class BitString:
    """A bit string as text of '0'/'1', first bit first (bit 0 is the MSB of the first octet)."""

    bits: str

    def __post_init__(self) -> None:
        if self.bits.strip("01"):
            raise EncodeError(f"bit-string must hold only 0 and 1, got {self.bits!r}")

    @classmethod
    def from_octets(cls, data: bytes, nbits: int) -> "BitString":
        text = "".join(f"{b:08b}" for b in data)
        return cls(text[:nbits])

    def to_octets(self) -> bytes:
        n = len(self.bits)
        if n == 0:
            return b""
        padded = self.bits + "0" * (-n % 8)
        return int(padded, 2).to_bytes(len(padded) // 8, "big")

    def __len__(self) -> int:
        return len(self.bits)

    def __str__(self) -> str:
        return self.bits


@dataclass(frozen=True, slots=True)
class TypeDescription:
    """The type of a compact-array's elements: a simple type, an array or a structure."""

    type: DataType
    # array: (element description,) ; structure: member descriptions
    members: tuple["TypeDescription", ...] = ()
    count: int = 0  # number of elements, for an array

    def to_bytes(self) -> bytes:
        if self.type == DataType.ARRAY:
            return b"\x01" + self.count.to_bytes(2, "big") + self.members[0].to_bytes()
        if self.type == DataType.STRUCTURE:
            return b"\x02" + encode_length(len(self.members)) + b"".join(m.to_bytes() for m in self.members)
        return bytes((self.type,))

    @classmethod
    def read(cls, r: Reader, depth: int = 0) -> "TypeDescription":
        if depth > _MAX_DEPTH:
            raise r.fail("type description nested too deeply")
        at = r.pos
        tag = r.u8("type description")
        if tag not in _KNOWN_TAGS or tag in (DataType.COMPACT_ARRAY, DataType.DONT_CARE):
            raise DecodeError(f"unknown type 0x{tag:02X} in compact-array description", at)
        t = DataType(tag)
        if t == DataType.ARRAY:
            count = r.uint(2, "array element count")
            return cls(t, (cls.read(r, depth + 1),), count)
        if t == DataType.STRUCTURE:
            n = r.length("structure member count")
            return cls(t, tuple(cls.read(r, depth + 1) for _ in range(n)))
        return cls(t)

    def min_size(self) -> int:
        """Fewest bytes one untagged element takes; a compact-array of zero-size elements is refused."""
        if self.type == DataType.ARRAY:
            return self.count * self.members[0].min_size()
        if self.type == DataType.STRUCTURE:
            return sum(m.min_size() for m in self.members)
        if self.type in (DataType.NULL_DATA, DataType.DONT_CARE):
            return 0
        size = INTEGER_FORMATS.get(self.type, (0, False))[0] or _FIXED_SIZES.get(self.type, 1)
        return size

    def __str__(self) -> str:
        if self.type == DataType.ARRAY:
            return f"array[{self.count}] of {self.members[0]}"
        if self.type == DataType.STRUCTURE:
            return "structure{" + ", ".join(str(m) for m in self.members) + "}"
        return self.type.label


@dataclass(frozen=True, slots=True)
class CompactArray:
    """A compact-array: one type description, then the elements without their tags."""

    description: TypeDescription
    items: tuple["Data", ...]


@dataclass(frozen=True, slots=True)
class Data:
    """One value of the DLMS Data CHOICE."""

    type: DataType
    value: Any = None

    def to_bytes(self) -> bytes:
        return encode_data(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Data":
        """Decode exactly one value that fills `data`."""
        r = Reader(data)
        v = decode_data(r)
        r.expect_end("data")
        return v

    def to_python(self) -> Any:
        """Plain JSON-friendly Python: lists for arrays, hex for octets, text for dates."""
        t, v = self.type, self.value
        if t in (DataType.ARRAY, DataType.STRUCTURE):
            return [d.to_python() for d in v]
        if t == DataType.COMPACT_ARRAY:
            return [d.to_python() for d in v.items]
        if t == DataType.OCTET_STRING:
            return v.hex().upper()
        if t in FIXED_OCTETS or t == DataType.BIT_STRING:
            return str(v)
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        return v

    def __str__(self) -> str:
        return format_data(self)


NULL = Data(DataType.NULL_DATA)
_MAX_DEPTH = 32


# --------------------------------------------------------------------------- encoding

def _check_int(t: DataType, v: Any) -> tuple[int, bool]:
    if not isinstance(v, int) or isinstance(v, bool):
        raise EncodeError(f"{t.label} needs an integer, got {type(v).__name__}")
    size, signed = INTEGER_FORMATS[t]
    lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (0, (1 << (8 * size)) - 1)
    if not lo <= v <= hi:
        raise EncodeError(f"{t.label} value {v} outside {lo}..{hi}")
    return size, signed


def _encode_body(d: Data, out: bytearray, depth: int) -> None:
    """Append the untagged value (what a compact-array holds)."""
    t, v = d.type, d.value
    if t in INTEGER_FORMATS:
        size, signed = _check_int(t, v)
        out += v.to_bytes(size, "big", signed=signed)
    elif t == DataType.OCTET_STRING:
        if not isinstance(v, (bytes, bytearray)):
            raise EncodeError(f"octet-string needs bytes, got {type(v).__name__}")
        out += encode_length(len(v))
        out += v
    elif t == DataType.VISIBLE_STRING:
        try:
            raw = v.encode("latin-1") if isinstance(v, str) else bytes(v)
        except (UnicodeEncodeError, TypeError):
            raise EncodeError("visible-string holds one byte per character") from None
        out += encode_length(len(raw))
        out += raw
    elif t == DataType.UTF8_STRING:
        if not isinstance(v, str):
            raise EncodeError(f"utf8-string needs str, got {type(v).__name__}")
        raw = v.encode("utf-8", "surrogatepass")
        out += encode_length(len(raw))
        out += raw
    elif t == DataType.BOOLEAN:
        out.append(1 if v else 0)
    elif t == DataType.BIT_STRING:
        if not isinstance(v, BitString):
            raise EncodeError("bit-string needs a BitString")
        out += encode_length(len(v.bits))
        out += v.to_octets()
    elif t in FLOAT_FORMATS:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise EncodeError(f"{t.label} needs a number")
        try:
            out += FLOAT_FORMATS[t].pack(v)
        except (OverflowError, struct.error):
            raise EncodeError(f"{t.label} value {v} out of range") from None
    elif t in FIXED_OCTETS:
        if not isinstance(v, FIXED_OCTETS[t]):
            raise EncodeError(f"{t.label} needs a {FIXED_OCTETS[t].__name__}")
        out += v.to_bytes()
    elif t in (DataType.ARRAY, DataType.STRUCTURE):
        if depth > _MAX_DEPTH:
            raise EncodeError("data nested too deeply")
        out += encode_length(len(v))
        for item in v:
            _encode(item, out, depth + 1)
    elif t == DataType.COMPACT_ARRAY:
        _encode_compact(v, out, depth)
    elif t in (DataType.NULL_DATA, DataType.DONT_CARE):
        pass
    else:  # pragma: no cover - DataType is closed
        raise EncodeError(f"cannot encode {t!r}")


def _encode(d: Data, out: bytearray, depth: int = 0) -> None:
    if not isinstance(d, Data):
        raise EncodeError(f"expected Data, got {type(d).__name__}")
    out.append(d.type)
    _encode_body(d, out, depth)


def _encode_untagged(desc: TypeDescription, d: Data, out: bytearray, depth: int) -> None:
    if d.type != desc.type:
        raise EncodeError(f"compact-array element is {d.type.label}, description says {desc.type.label}")
    if desc.type == DataType.ARRAY:
        if len(d.value) != desc.count:
            raise EncodeError(f"compact-array inner array has {len(d.value)} elements, description {desc.count}")
        for item in d.value:
            _encode_untagged(desc.members[0], item, out, depth + 1)
    elif desc.type == DataType.STRUCTURE:
        if len(d.value) != len(desc.members):
            raise EncodeError("compact-array structure does not match its description")
        for m, item in zip(desc.members, d.value):
            _encode_untagged(m, item, out, depth + 1)
    else:
        _encode_body(d, out, depth)


def _encode_compact(ca: CompactArray, out: bytearray, depth: int) -> None:
    if not isinstance(ca, CompactArray):
        raise EncodeError("compact-array needs a CompactArray")
    out += ca.description.to_bytes()
    body = bytearray()
    for item in ca.items:
        _encode_untagged(ca.description, item, body, depth + 1)
    out += encode_length(len(body))
    out += body


def encode_data(d: Data) -> bytes:
    """Encode one tagged value."""
    v = d.value
    if d.type is DataType.OCTET_STRING and type(v) is bytes and len(v) < 0x80:
        return bytes((DataType.OCTET_STRING, len(v))) + v  # the clock's time, a capture time: the common case
    out = bytearray()
    _encode(d, out)
    return bytes(out)


def encode_data_into(d: Data, out: bytearray) -> None:
    """Append one tagged value to `out` (avoids copies when building APDUs)."""
    _encode(d, out)


# --------------------------------------------------------------------------- decoding

def _decode_body(r: Reader, t: DataType, depth: int) -> Data:
    fmt = INTEGER_FORMATS.get(t)
    if fmt is not None:
        return Data(t, r.sint(fmt[0], t.label) if fmt[1] else r.uint(fmt[0], t.label))
    if t == DataType.OCTET_STRING:
        return Data(t, r.take(r.length("octet-string length"), "octet-string"))
    if t == DataType.VISIBLE_STRING:
        return Data(t, r.take(r.length("visible-string length"), "visible-string").decode("latin-1"))
    if t == DataType.UTF8_STRING:
        at = r.pos
        raw = r.take(r.length("utf8-string length"), "utf8-string")
        try:
            return Data(t, raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise DecodeError("utf8-string is not valid UTF-8", at) from None
    if t == DataType.BOOLEAN:
        return Data(t, r.u8("boolean") != 0)
    if t == DataType.BIT_STRING:
        nbits = r.length("bit-string length")
        return Data(t, BitString.from_octets(r.take((nbits + 7) // 8, "bit-string"), nbits))
    if t in FLOAT_FORMATS:
        f = FLOAT_FORMATS[t]
        return Data(t, f.unpack(r.take(f.size, t.label))[0])
    if t in FIXED_OCTETS:
        cls = FIXED_OCTETS[t]
        return Data(t, cls.from_bytes(r.take(cls.SIZE, t.label)))
    if t in (DataType.ARRAY, DataType.STRUCTURE):
        if depth > _MAX_DEPTH:
            raise r.fail("data nested too deeply")
        n = r.length(f"{t.label} count")
        if n > r.remaining:  # every element takes at least one byte
            raise r.fail(f"{t.label} of {n} elements cannot fit in {r.remaining} bytes")
        return Data(t, tuple(_decode(r, depth + 1) for _ in range(n)))
    if t == DataType.COMPACT_ARRAY:
        at = r.pos
        desc = TypeDescription.read(r)
        body = r.sub(r.length("compact-array contents length"), "compact-array contents")
        if desc.min_size() == 0 and not body.at_end():
            raise DecodeError("compact-array elements of zero size cannot fill its contents", at)
        items = []
        while not body.at_end():
            items.append(_decode_untagged(body, desc, depth + 1))
        return Data(t, CompactArray(desc, tuple(items)))
    return Data(t)  # null-data, dont-care


def _decode_untagged(r: Reader, desc: TypeDescription, depth: int) -> Data:
    if depth > _MAX_DEPTH:
        raise r.fail("data nested too deeply")
    if desc.type == DataType.ARRAY:
        return Data(desc.type, tuple(_decode_untagged(r, desc.members[0], depth + 1) for _ in range(desc.count)))
    if desc.type == DataType.STRUCTURE:
        return Data(desc.type, tuple(_decode_untagged(r, m, depth + 1) for m in desc.members))
    return _decode_body(r, desc.type, depth)


def _decode(r: Reader, depth: int = 0) -> Data:
    at = r.pos
    tag = r.u8("data type tag")
    if tag not in _KNOWN_TAGS:
        raise DecodeError(f"unknown data type tag 0x{tag:02X}", at)
    return _decode_body(r, DataType(tag), depth)


def decode_data(r: Reader) -> Data:
    """Decode one tagged value at the reader's position."""
    return _decode(r)


# --------------------------------------------------------------------------- text

def format_data(d: Data, indent: str = "") -> str:
    """Readable multi-line rendering in the standard's type names, used by `cosem-sim decode`."""
    t, v = d.type, d.value
    if t in (DataType.ARRAY, DataType.STRUCTURE):
        if not v:
            return f"{t.label}[0]"
        inner = "\n".join(indent + "  " + format_data(x, indent + "  ") for x in v)
        return f"{t.label}[{len(v)}]\n{inner}"
    if t == DataType.COMPACT_ARRAY:
        inner = "\n".join(indent + "  " + format_data(x, indent + "  ") for x in v.items)
        return f"compact-array of {v.description} [{len(v.items)}]" + ("\n" + inner if inner else "")
    if t == DataType.OCTET_STRING:
        return f"octet-string {v.hex(' ').upper()}" + _octet_hint(v)
    if t in (DataType.VISIBLE_STRING, DataType.UTF8_STRING):
        return f"{t.label} {v!r}"
    if t in (DataType.NULL_DATA, DataType.DONT_CARE):
        return t.label
    return f"{t.label} {v}"


_HINTS: dict[int, Callable[[bytes], str]] = {
    6: lambda b: f"  (OBIS {'.'.join(str(x) for x in b)})",
    12: lambda b: f"  (date-time {CosemDateTime.from_bytes(b)})",
}


def _octet_hint(v: bytes) -> str:
    hint = _HINTS.get(len(v))
    return hint(v) if hint else ""
