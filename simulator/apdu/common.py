"""Building blocks shared by the xDLMS service APDUs (Green Book 9.5, A-XDR encoding).

Every APDU class derives from `XDlmsApdu`: it declares its `TAG` (and `CHOICE` for the
services that are a CHOICE of variants), implements `read(reader)` for the body after the
header and `write(out)` to append the body, and so gets `from_bytes` (whole input consumed)
and `to_bytes` for free. Encoders accept `EncodedData` wherever a `Data` goes so a server can
splice in values it encoded (or cached) once; decoders always return `Data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Callable, ClassVar, Self, Sequence, TypeVar, Union

from ..axdr import Data, Obis, Reader, decode_data, encode_data_into, encode_length
from ..errors import DecodeError, EncodeError

__all__ = [
    "DataAccessResult", "ActionResult", "StateError", "ServiceError",
    "InvokeIdAndPriority", "LongInvokeIdAndPriority", "EncodedData", "Value",
    "CosemAttributeDescriptor", "CosemMethodDescriptor", "SelectiveAccess",
    "CosemAttributeDescriptorWithSelection", "DataBlockSA", "GetDataResult", "XDlmsApdu",
    "write_value", "read_get_data_result", "write_get_data_result",
    "read_count", "write_count", "read_enum", "put_enum", "read_optional_flag", "put_uint",
    "read_octet_string", "write_octet_string", "write_optional", "read_sequence", "write_sequence",
]


# --------------------------------------------------------------------------- enums

class DataAccessResult(IntEnum):
    """Data-Access-Result: the per-attribute outcome of GET/SET (and SN read/write)."""

    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_CLASS_INCONSISTENT = 9
    OBJECT_UNAVAILABLE = 11
    TYPE_UNMATCHED = 12
    SCOPE_OF_ACCESS_VIOLATED = 13
    DATA_BLOCK_UNAVAILABLE = 14
    LONG_GET_ABORTED = 15
    NO_LONG_GET_IN_PROGRESS = 16
    LONG_SET_ABORTED = 17
    NO_LONG_SET_IN_PROGRESS = 18
    DATA_BLOCK_NUMBER_INVALID = 19
    OTHER_REASON = 250


class ActionResult(IntEnum):
    """Action-Result: the per-method outcome of ACTION; 15/16 concern long actions."""

    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_CLASS_INCONSISTENT = 9
    OBJECT_UNAVAILABLE = 11
    TYPE_UNMATCHED = 12
    SCOPE_OF_ACCESS_VIOLATED = 13
    DATA_BLOCK_UNAVAILABLE = 14
    LONG_ACTION_ABORTED = 15
    NO_LONG_ACTION_IN_PROGRESS = 16
    OTHER_REASON = 250


class StateError(IntEnum):
    """Exception-Response state-error."""

    SERVICE_NOT_ALLOWED = 1
    SERVICE_UNKNOWN = 2


class ServiceError(IntEnum):
    """Exception-Response service-error CHOICE; only invocation-counter-error carries a value."""

    OPERATION_NOT_POSSIBLE = 1
    SERVICE_NOT_SUPPORTED = 2
    OTHER_REASON = 3
    PDU_TOO_LONG = 4
    DECIPHERING_ERROR = 5
    INVOCATION_COUNTER_ERROR = 6


E = TypeVar("E", bound=IntEnum)


def read_enum(r: Reader, enum: type[E], what: str) -> E:
    """One byte holding a member of `enum`; an undefined value is a DecodeError."""
    at = r.pos
    v = r.u8(what)
    try:
        return enum(v)
    except ValueError:
        raise DecodeError(f"undefined {what} {v}", at) from None


def put_enum(out: bytearray, enum: type[IntEnum], v: int, what: str) -> None:
    """Append one byte holding a member of `enum`, refusing undefined values."""
    try:
        out.append(enum(v))
    except ValueError:
        raise EncodeError(f"undefined {what} {v!r}") from None


# --------------------------------------------------------------------------- primitives

def put_uint(out: bytearray, v: int, size: int, what: str) -> None:
    """Append an unsigned big-endian integer, refusing values that do not fit."""
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 1 << (8 * size):
        raise EncodeError(f"{what} {v!r} outside 0..{(1 << (8 * size)) - 1}")
    out += v.to_bytes(size, "big")


def read_optional_flag(r: Reader, what: str) -> bool:
    """An A-XDR OPTIONAL presence flag: strictly 00 (absent) or 01 (present)."""
    at = r.pos
    v = r.u8(what)
    if v > 1:
        raise DecodeError(f"{what} presence flag must be 0 or 1, got 0x{v:02X}", at)
    return v == 1


def read_count(r: Reader, what: str) -> int:
    """A SEQUENCE OF count; every element takes at least one byte, which bounds the count."""
    at = r.pos
    n = r.length(f"{what} count")
    if n > r.remaining:
        raise DecodeError(f"{what} count {n} cannot fit in {r.remaining} byte(s)", at)
    return n


def write_count(out: bytearray, n: int) -> None:
    out += encode_length(n)


T = TypeVar("T")


def read_sequence(r: Reader, what: str, read_item: Callable[[Reader], T]) -> tuple[T, ...]:
    """A SEQUENCE OF: its count (bounded as by `read_count`), then that many elements."""
    return tuple(read_item(r) for _ in range(read_count(r, what)))


def write_sequence(out: bytearray, items: Sequence[T],
                   write_item: Callable[[T, bytearray], None] | None = None) -> None:
    """A SEQUENCE OF: the count, then each element, by `write_item` or else by its own `write`."""
    write_count(out, len(items))
    for item in items:
        if write_item is None:
            item.write(out)  # type: ignore[attr-defined]  # called so only for APDU parts with write()
        else:
            write_item(item, out)


def write_optional(out: bytearray, v: T | None, write_item: Callable[[T, bytearray], None]) -> None:
    """An A-XDR OPTIONAL: 00 when absent, else 01 and the value."""
    if v is None:
        out.append(0)
    else:
        out.append(1)
        write_item(v, out)


def read_octet_string(r: Reader, what: str) -> bytes:
    """An untagged A-XDR OCTET STRING: length, then the octets."""
    return r.take(r.length(f"{what} length"), what)


def write_octet_string(out: bytearray, v: bytes, what: str) -> None:
    if not isinstance(v, (bytes, bytearray, memoryview)):
        raise EncodeError(f"{what} needs bytes, got {type(v).__name__}")
    out += encode_length(len(v))
    out += v


# --------------------------------------------------------------------------- data values

@dataclass(frozen=True, slots=True)
class EncodedData:
    """A Data value already encoded in A-XDR (tag included), appended verbatim by encoders."""

    raw: bytes


Value = Union[Data, EncodedData]
GetDataResult = Union[Data, EncodedData, DataAccessResult]


def write_value(v: Value, out: bytearray) -> None:
    if isinstance(v, EncodedData):
        out += v.raw
    elif isinstance(v, Data):
        encode_data_into(v, out)
    else:
        raise EncodeError(f"expected Data or EncodedData, got {type(v).__name__}")


def read_get_data_result(r: Reader) -> Data | DataAccessResult:
    """Get-Data-Result CHOICE: data [0] Data, data-access-result [1] Data-Access-Result."""
    at = r.pos
    choice = r.u8("Get-Data-Result choice")
    if choice == 0:
        return decode_data(r)
    if choice == 1:
        return read_enum(r, DataAccessResult, "data-access-result")
    raise DecodeError(f"invalid Get-Data-Result choice {choice}", at)


def write_get_data_result(v: GetDataResult, out: bytearray) -> None:
    if isinstance(v, DataAccessResult):
        out.append(1)
        out.append(v)
    else:
        out.append(0)
        write_value(v, out)


# --------------------------------------------------------------------------- invoke ids

@dataclass(frozen=True, slots=True)
class InvokeIdAndPriority:
    """Invoke-Id-And-Priority (one byte): bits 0-3 invoke id, bits 4-5 reserved (kept so every
    byte round-trips), bit 6 service class (1 = confirmed), bit 7 priority (1 = high)."""

    invoke_id: int = 1
    confirmed: bool = True
    high_priority: bool = False
    reserved: int = 0

    @classmethod
    def from_byte(cls, b: int) -> "InvokeIdAndPriority":
        return cls(b & 0x0F, bool(b & 0x40), bool(b & 0x80), (b >> 4) & 0x03)

    def to_byte(self) -> int:
        if not 0 <= self.invoke_id <= 15:
            raise EncodeError(f"invoke id {self.invoke_id} outside 0..15")
        if not 0 <= self.reserved <= 3:
            raise EncodeError(f"reserved bits {self.reserved} outside 0..3")
        return (self.invoke_id | self.reserved << 4 | (0x40 if self.confirmed else 0)
                | (0x80 if self.high_priority else 0))

    @classmethod
    def read(cls, r: Reader) -> "InvokeIdAndPriority":
        return _IIP_CACHE[r.u8("invoke-id-and-priority")]


_IIP_CACHE: tuple[InvokeIdAndPriority, ...] = tuple(InvokeIdAndPriority.from_byte(b) for b in range(256))


@dataclass(frozen=True, slots=True)
class LongInvokeIdAndPriority:
    """Long-Invoke-Id-And-Priority (Unsigned32): bits 0-23 invoke id, 24-27 reserved, 28
    self-descriptive, 29 break-on-error (processing option), 30 confirmed, 31 high priority."""

    invoke_id: int = 0
    self_descriptive: bool = False
    break_on_error: bool = False
    confirmed: bool = False
    high_priority: bool = False
    reserved: int = 0

    @classmethod
    def from_int(cls, v: int) -> "LongInvokeIdAndPriority":
        return cls(v & 0xFFFFFF, bool(v >> 28 & 1), bool(v >> 29 & 1), bool(v >> 30 & 1),
                   bool(v >> 31 & 1), v >> 24 & 0x0F)

    def to_int(self) -> int:
        if not 0 <= self.invoke_id <= 0xFFFFFF:
            raise EncodeError(f"long invoke id {self.invoke_id} outside 0..16777215")
        if not 0 <= self.reserved <= 15:
            raise EncodeError(f"reserved bits {self.reserved} outside 0..15")
        return (self.invoke_id | self.reserved << 24 | self.self_descriptive << 28
                | self.break_on_error << 29 | self.confirmed << 30 | self.high_priority << 31)

    @classmethod
    def read(cls, r: Reader) -> "LongInvokeIdAndPriority":
        return cls.from_int(r.uint(4, "long-invoke-id-and-priority"))


# --------------------------------------------------------------------------- descriptors

def _put_descriptor(out: bytearray, class_id: int, instance_id: Obis, member: int, what: str) -> None:
    put_uint(out, class_id, 2, "class id")
    if not isinstance(instance_id, (bytes, bytearray)) or len(instance_id) != 6:
        raise EncodeError(f"instance id must be a 6-byte OBIS code, got {instance_id!r}")
    out += instance_id
    if isinstance(member, bool) or not isinstance(member, int) or not -128 <= member <= 127:
        raise EncodeError(f"{what} {member!r} outside -128..127 (Integer8)")
    out.append(member & 0xFF)


class _Descriptor:
    """What the attribute and method descriptors share: class-id Unsigned16, instance-id OBIS,
    then a signed Integer8 member id (negative ids are manufacturer specific)."""

    __slots__ = ()

    SIZE: ClassVar[int] = 9
    NAME: ClassVar[str]

    if TYPE_CHECKING:  # the dataclass subclasses define the fields
        def __init__(self, class_id: int, instance_id: Obis, member_id: int) -> None: ...

    def write(self, out: bytearray) -> None:
        raise NotImplementedError

    @classmethod
    def read(cls, r: Reader) -> Self:
        raw = r.take(9, cls.NAME)
        return cls((raw[0] << 8) | raw[1], Obis(raw[2:8]), raw[8] - 256 if raw[8] > 127 else raw[8])

    def to_bytes(self) -> bytes:
        out = bytearray()
        self.write(out)
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        r = Reader(data)
        v = cls.read(r)
        r.expect_end(cls.NAME)
        return v


@dataclass(frozen=True, slots=True)
class CosemAttributeDescriptor(_Descriptor):
    """Cosem-Attribute-Descriptor: class-id Unsigned16, instance-id OBIS, attribute-id Integer8
    (signed: negative ids are manufacturer specific)."""

    class_id: int
    instance_id: Obis
    attribute_id: int

    NAME: ClassVar[str] = "cosem-attribute-descriptor"

    def write(self, out: bytearray) -> None:
        _put_descriptor(out, self.class_id, self.instance_id, self.attribute_id, "attribute id")


@dataclass(frozen=True, slots=True)
class CosemMethodDescriptor(_Descriptor):
    """Cosem-Method-Descriptor: class-id Unsigned16, instance-id OBIS, method-id Integer8."""

    class_id: int
    instance_id: Obis
    method_id: int

    NAME: ClassVar[str] = "cosem-method-descriptor"

    def write(self, out: bytearray) -> None:
        _put_descriptor(out, self.class_id, self.instance_id, self.method_id, "method id")


@dataclass(frozen=True, slots=True)
class SelectiveAccess:
    """Selective-Access-Descriptor: access-selector Unsigned8, access-parameters Data."""

    selector: int
    parameters: Data | EncodedData

    @staticmethod
    def read_optional(r: Reader) -> "SelectiveAccess | None":
        """The OPTIONAL form used in requests: 00 absent, 01 + selector + Data."""
        if not read_optional_flag(r, "access-selection"):
            return None
        selector = r.u8("access-selector")
        return SelectiveAccess(selector, decode_data(r))

    @staticmethod
    def write_optional(access: "SelectiveAccess | None", out: bytearray) -> None:
        if access is None:
            out.append(0)
            return
        out.append(1)
        put_uint(out, access.selector, 1, "access selector")
        write_value(access.parameters, out)


@dataclass(frozen=True, slots=True)
class CosemAttributeDescriptorWithSelection:
    """One item of a with-list GET/SET: the attribute and its optional selective access."""

    descriptor: CosemAttributeDescriptor
    access: SelectiveAccess | None = None

    @classmethod
    def read(cls, r: Reader) -> "CosemAttributeDescriptorWithSelection":
        return cls(CosemAttributeDescriptor.read(r), SelectiveAccess.read_optional(r))

    def write(self, out: bytearray) -> None:
        self.descriptor.write(out)
        SelectiveAccess.write_optional(self.access, out)


@dataclass(frozen=True, slots=True)
class DataBlockSA:
    """DataBlock-SA, the block of SET and ACTION block transfer: last-block BOOLEAN,
    block-number Unsigned32, raw-data OCTET STRING (a slice of the encoded value)."""

    last_block: bool
    block_number: int
    raw_data: bytes

    @classmethod
    def read(cls, r: Reader) -> "DataBlockSA":
        last = r.u8("last-block") != 0
        number = r.uint(4, "block-number")
        return cls(last, number, read_octet_string(r, "raw-data"))

    def write(self, out: bytearray) -> None:
        out.append(1 if self.last_block else 0)
        put_uint(out, self.block_number, 4, "block number")
        write_octet_string(out, self.raw_data, "raw-data")


# --------------------------------------------------------------------------- APDU base

class XDlmsApdu:
    """Base of every xDLMS APDU dataclass: header handling and whole-input decoding."""

    __slots__ = ()

    TAG: ClassVar[int]
    CHOICE: ClassVar[int | None] = None

    @classmethod
    def read(cls, r: Reader) -> Self:
        """Decode the body that follows the tag (and choice) byte."""
        raise NotImplementedError

    def write(self, out: bytearray) -> None:
        """Append the body that follows the tag (and choice) byte."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        out = bytearray((self.TAG,) if self.CHOICE is None else (self.TAG, self.CHOICE))
        self.write(out)
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode one APDU of exactly this class that fills `data`."""
        r = Reader(data)
        tag = r.u8("APDU tag")
        if tag != cls.TAG:
            raise DecodeError(f"expected APDU tag 0x{cls.TAG:02X}, got 0x{tag:02X}", 0)
        if cls.CHOICE is not None:
            choice = r.u8("APDU choice")
            if choice != cls.CHOICE:
                raise DecodeError(f"expected choice {cls.CHOICE} of tag 0x{cls.TAG:02X}, got {choice}", 1)
        v = cls.read(r)
        r.expect_end(cls.__name__)
        return v
