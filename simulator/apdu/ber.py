"""The small part of BER (ITU-T X.690) that the ACSE APDUs need.

ACSE is the one place in DLMS that is BER rather than A-XDR: tagged TLVs with definite
lengths. Only what ACSE uses is here: identifier octets (class, constructed bit, number,
including the high-number form), definite lengths in short or long form (the long form
is accepted even when a shorter one would do: real meters send `82 00 3A`), and the
contents of INTEGER and BIT STRING. The indefinite length (0x80) is refused: DLMS never
uses it. Every reader raises only `DecodeError`.

    identifier  length          contents
    +--------+  +------------+  +--------------------------+
    | cc f n |  | L or 8N L… |  | L octets (primitive) or  |
    +--------+  +------------+  | nested TLVs (constructed)|
     c: class (00 universal, 01 application, 10 context, 11 private)
     f: constructed, n: number (11111 = high form, base-128 octets follow)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ..axdr import BitString, Reader, encode_length
from ..errors import DecodeError, EncodeError

__all__ = [
    "TagClass", "Tag", "TLV", "INTEGER", "BIT_STRING", "OCTET_STRING", "OBJECT_IDENTIFIER",
    "read_tag", "read_length", "read_tlv", "read_single", "encode_tlv", "encode_integer",
    "decode_integer", "encode_bit_string", "decode_bit_string",
]

_MAX_TAG_OCTETS = 4  # a tag number above 2**28 is not something ACSE can carry


class TagClass(IntEnum):
    """The two class bits of an identifier octet, in place."""

    UNIVERSAL = 0x00
    APPLICATION = 0x40
    CONTEXT = 0x80
    PRIVATE = 0xC0


@dataclass(frozen=True, slots=True)
class Tag:
    """A BER identifier: class, number and whether the contents are constructed."""

    cls: TagClass
    number: int
    constructed: bool = False

    def to_bytes(self) -> bytes:
        if self.number < 0:
            raise EncodeError(f"negative tag number {self.number}")
        first = self.cls | (0x20 if self.constructed else 0)
        if self.number < 0x1F:
            return bytes((first | self.number,))
        groups = []
        n = self.number
        while True:
            groups.append(n & 0x7F)
            n >>= 7
            if not n:
                break
        tail = bytes(g | 0x80 for g in reversed(groups[1:])) + bytes((groups[0],))
        return bytes((first | 0x1F,)) + tail

    def __str__(self) -> str:
        kind = {TagClass.UNIVERSAL: "UNIVERSAL ", TagClass.APPLICATION: "APPLICATION ",
                TagClass.CONTEXT: "", TagClass.PRIVATE: "PRIVATE "}[self.cls]
        return f"[{kind}{self.number}]{' constructed' if self.constructed else ''}"


INTEGER = Tag(TagClass.UNIVERSAL, 2)
BIT_STRING = Tag(TagClass.UNIVERSAL, 3)
OCTET_STRING = Tag(TagClass.UNIVERSAL, 4)
OBJECT_IDENTIFIER = Tag(TagClass.UNIVERSAL, 6)


@dataclass(frozen=True, slots=True)
class TLV:
    """One element read from the input; `content` reads its value with absolute offsets."""

    tag: Tag
    content: Reader
    offset: int  # of the identifier octet, for error positions

    @property
    def value(self) -> bytes:
        """The contents octets, without consuming `content`."""
        return self.content.data[self.content.pos:self.content.end]


def read_tag(r: Reader) -> Tag:
    """Read identifier octets; the high-number form must be minimal (X.690 8.1.2.4)."""
    start = r.pos
    first = r.u8("BER tag")
    cls = TagClass(first & 0xC0)
    constructed = bool(first & 0x20)
    number = first & 0x1F
    if number != 0x1F:
        return Tag(cls, number, constructed)
    number = 0
    for i in range(_MAX_TAG_OCTETS):
        b = r.u8("BER tag")
        if i == 0 and b == 0x80:
            raise DecodeError("BER tag number with a leading zero octet", start)
        number = (number << 7) | (b & 0x7F)
        if not b & 0x80:
            if number < 0x1F:
                raise DecodeError(f"BER tag number {number} in the high-number form", start)
            return Tag(cls, number, constructed)
    raise DecodeError("BER tag number too long", start)


def read_length(r: Reader) -> int:
    """A definite length, short or long form (up to 4 octets); indefinite is refused."""
    return r.length("BER length")


def read_tlv(r: Reader) -> TLV:
    """Read one whole TLV; its contents must lie within `r`."""
    start = r.pos
    tag = read_tag(r)
    n = read_length(r)
    try:
        content = r.sub(n, "BER contents")
    except DecodeError as exc:  # the message names the tag, formatted only when it is needed
        raise DecodeError(exc.reason.replace("BER contents", f"contents of {tag}"), exc.offset) from None
    return TLV(tag, content, start)


def read_single(content: Reader, tag: Tag, what: str) -> Reader:
    """The contents of the one `tag` element that must fill `content` (an EXPLICIT tag's body)."""
    el = read_tlv(content)
    if el.tag != tag:
        raise DecodeError(f"{what}: expected {tag}, got {el.tag}", el.offset)
    content.expect_end(what)
    return el.content


def encode_tlv(tag: Tag, value: bytes) -> bytes:
    return tag.to_bytes() + encode_length(len(value)) + value


def encode_integer(value: int) -> bytes:
    """INTEGER contents: the shortest two's-complement octets."""
    size = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return value.to_bytes(size, "big", signed=True)


def decode_integer(content: Reader, what: str = "INTEGER") -> int:
    """INTEGER contents filling `content`; a redundant leading octet is tolerated."""
    if content.at_end():
        raise content.fail(f"empty {what}")
    return content.sint(content.remaining, what)


def encode_bit_string(bits: BitString) -> bytes:
    """BIT STRING contents: unused-bit count, then the bits, bit 0 the MSB of octet 1."""
    return bytes((-len(bits) % 8,)) + bits.to_octets()


def decode_bit_string(content: Reader, what: str = "BIT STRING") -> BitString:
    """BIT STRING contents filling `content` (primitive form only)."""
    start = content.pos
    unused = content.u8(what)
    data = content.rest()
    if unused > 7 or (unused and not data):
        raise DecodeError(f"{what} with {unused} unused bit(s) in {len(data)} octet(s)", start)
    return BitString.from_octets(data, len(data) * 8 - unused)
