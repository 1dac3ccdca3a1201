"""GET service APDUs (Green Book 9.5): Get-Request (tag 0xC0) and Get-Response (tag 0xC4).

Layouts after the tag and choice bytes::

    C0 01  invoke | class-id(2) OBIS(6) attr(1) | 00 / 01 selector Data      normal
    C0 02  invoke | block-number(4)                                           next
    C0 03  invoke | count | (descriptor | access-selection)*                  with-list
    C4 01  invoke | 00 Data / 01 data-access-result                           normal
    C4 02  invoke | last-block(1) block-number(4) | 00 len raw / 01 result    with-datablock
    C4 03  invoke | count | (00 Data / 01 data-access-result)*                with-list
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..axdr import Reader
from ..errors import DecodeError
from .common import (
    CosemAttributeDescriptor, CosemAttributeDescriptorWithSelection, DataAccessResult,
    GetDataResult, InvokeIdAndPriority, SelectiveAccess, XDlmsApdu, put_uint, read_enum,
    read_get_data_result, read_octet_string, read_sequence, write_get_data_result,
    write_octet_string, write_sequence,
)

__all__ = [
    "GetRequestNormal", "GetRequestNext", "GetRequestWithList",
    "GetResponseNormal", "GetResponseWithDatablock", "GetResponseWithList",
    "GET_REQUEST_TAG", "GET_RESPONSE_TAG",
]

GET_REQUEST_TAG = 0xC0
GET_RESPONSE_TAG = 0xC4


@dataclass(frozen=True, slots=True)
class GetRequestNormal(XDlmsApdu):
    """Read one attribute, optionally with selective access."""

    TAG: ClassVar[int] = GET_REQUEST_TAG
    CHOICE: ClassVar[int] = 1

    invoke: InvokeIdAndPriority
    descriptor: CosemAttributeDescriptor
    access: SelectiveAccess | None = None

    @classmethod
    def read(cls, r: Reader) -> "GetRequestNormal":
        return cls(InvokeIdAndPriority.read(r), CosemAttributeDescriptor.read(r),
                   SelectiveAccess.read_optional(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        self.descriptor.write(out)
        SelectiveAccess.write_optional(self.access, out)


@dataclass(frozen=True, slots=True)
class GetRequestNext(XDlmsApdu):
    """Acknowledge `block_number` of a long GET and ask for the next block."""

    TAG: ClassVar[int] = GET_REQUEST_TAG
    CHOICE: ClassVar[int] = 2

    invoke: InvokeIdAndPriority
    block_number: int

    @classmethod
    def read(cls, r: Reader) -> "GetRequestNext":
        return cls(InvokeIdAndPriority.read(r), r.uint(4, "block-number"))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        put_uint(out, self.block_number, 4, "block number")


@dataclass(frozen=True, slots=True)
class GetRequestWithList(XDlmsApdu):
    """Read several attributes in one request."""

    TAG: ClassVar[int] = GET_REQUEST_TAG
    CHOICE: ClassVar[int] = 3

    invoke: InvokeIdAndPriority
    items: tuple[CosemAttributeDescriptorWithSelection, ...]

    @classmethod
    def read(cls, r: Reader) -> "GetRequestWithList":
        invoke = InvokeIdAndPriority.read(r)
        items = read_sequence(r, "attribute-descriptor-list", CosemAttributeDescriptorWithSelection.read)
        return cls(invoke, items)

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        write_sequence(out, self.items)


@dataclass(frozen=True, slots=True)
class GetResponseNormal(XDlmsApdu):
    """The value of one attribute, or why it could not be read."""

    TAG: ClassVar[int] = GET_RESPONSE_TAG
    CHOICE: ClassVar[int] = 1

    invoke: InvokeIdAndPriority
    result: GetDataResult

    @classmethod
    def read(cls, r: Reader) -> "GetResponseNormal":
        return cls(InvokeIdAndPriority.read(r), read_get_data_result(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        write_get_data_result(self.result, out)


@dataclass(frozen=True, slots=True)
class GetResponseWithDatablock(XDlmsApdu):
    """One block of a long GET (DataBlock-G): a slice of the encoded result, or an error."""

    TAG: ClassVar[int] = GET_RESPONSE_TAG
    CHOICE: ClassVar[int] = 2

    invoke: InvokeIdAndPriority
    last_block: bool
    block_number: int
    result: bytes | DataAccessResult

    @classmethod
    def read(cls, r: Reader) -> "GetResponseWithDatablock":
        invoke = InvokeIdAndPriority.read(r)
        last = r.u8("last-block") != 0
        number = r.uint(4, "block-number")
        at = r.pos
        choice = r.u8("DataBlock-G result choice")
        if choice == 0:
            result: bytes | DataAccessResult = read_octet_string(r, "raw-data")
        elif choice == 1:
            result = read_enum(r, DataAccessResult, "data-access-result")
        else:
            raise DecodeError(f"invalid DataBlock-G result choice {choice}", at)
        return cls(invoke, last, number, result)

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        out.append(1 if self.last_block else 0)
        put_uint(out, self.block_number, 4, "block number")
        if isinstance(self.result, DataAccessResult):
            out.append(1)
            out.append(self.result)
        else:
            out.append(0)
            write_octet_string(out, self.result, "raw-data")


@dataclass(frozen=True, slots=True)
class GetResponseWithList(XDlmsApdu):
    """One Get-Data-Result per attribute of a GetRequestWithList, in request order."""

    TAG: ClassVar[int] = GET_RESPONSE_TAG
    CHOICE: ClassVar[int] = 3

    invoke: InvokeIdAndPriority
    results: tuple[GetDataResult, ...]

    @classmethod
    def read(cls, r: Reader) -> "GetResponseWithList":
        invoke = InvokeIdAndPriority.read(r)
        return cls(invoke, read_sequence(r, "Get-Data-Result list", read_get_data_result))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        write_sequence(out, self.results, write_get_data_result)
