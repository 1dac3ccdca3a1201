"""SET service APDUs (Green Book 9.5): Set-Request (tag 0xC1) and Set-Response (tag 0xC5).

Layouts after the tag and choice bytes (DataBlock-SA = last-block(1) block-number(4) len raw)::

    C1 01  invoke | descriptor | access-selection | Data                      normal
    C1 02  invoke | descriptor | access-selection | DataBlock-SA              with-first-datablock
    C1 03  invoke | DataBlock-SA                                              with-datablock
    C1 04  invoke | count (descriptor access-selection)* | count Data*        with-list
    C1 05  invoke | count (descriptor access-selection)* | DataBlock-SA      with-list-and-first-datablock
    C5 01  invoke | result                                                    normal
    C5 02  invoke | block-number(4)                                           datablock
    C5 03  invoke | result | block-number(4)                                  last-datablock
    C5 04  invoke | count result* | block-number(4)                           last-datablock-with-list
    C5 05  invoke | count result*                                             with-list
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..axdr import Reader, decode_data
from .common import (
    CosemAttributeDescriptor, CosemAttributeDescriptorWithSelection, DataAccessResult,
    DataBlockSA, InvokeIdAndPriority, SelectiveAccess, Value, XDlmsApdu, put_enum, put_uint,
    read_enum, read_sequence, write_sequence, write_value,
)

__all__ = [
    "SetRequestNormal", "SetRequestWithFirstDatablock", "SetRequestWithDatablock",
    "SetRequestWithList", "SetRequestWithListAndFirstDatablock",
    "SetResponseNormal", "SetResponseDatablock", "SetResponseLastDatablock",
    "SetResponseLastDatablockWithList", "SetResponseWithList",
    "SET_REQUEST_TAG", "SET_RESPONSE_TAG",
]

SET_REQUEST_TAG = 0xC1
SET_RESPONSE_TAG = 0xC5


def _read_items(r: Reader) -> tuple[CosemAttributeDescriptorWithSelection, ...]:
    return read_sequence(r, "attribute-descriptor-list", CosemAttributeDescriptorWithSelection.read)


def _read_result(r: Reader) -> DataAccessResult:
    return read_enum(r, DataAccessResult, "data-access-result")


def _write_result(result: DataAccessResult, out: bytearray) -> None:
    put_enum(out, DataAccessResult, result, "data-access-result")


def _read_results(r: Reader) -> tuple[DataAccessResult, ...]:
    return read_sequence(r, "result list", _read_result)


@dataclass(frozen=True, slots=True)
class SetRequestNormal(XDlmsApdu):
    """Write one attribute."""

    TAG: ClassVar[int] = SET_REQUEST_TAG
    CHOICE: ClassVar[int] = 1

    invoke: InvokeIdAndPriority
    descriptor: CosemAttributeDescriptor
    access: SelectiveAccess | None
    value: Value

    @classmethod
    def read(cls, r: Reader) -> "SetRequestNormal":
        return cls(InvokeIdAndPriority.read(r), CosemAttributeDescriptor.read(r),
                   SelectiveAccess.read_optional(r), decode_data(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        self.descriptor.write(out)
        SelectiveAccess.write_optional(self.access, out)
        write_value(self.value, out)


@dataclass(frozen=True, slots=True)
class SetRequestWithFirstDatablock(XDlmsApdu):
    """Start writing one attribute whose value is too long for one APDU."""

    TAG: ClassVar[int] = SET_REQUEST_TAG
    CHOICE: ClassVar[int] = 2

    invoke: InvokeIdAndPriority
    descriptor: CosemAttributeDescriptor
    access: SelectiveAccess | None
    datablock: DataBlockSA

    @classmethod
    def read(cls, r: Reader) -> "SetRequestWithFirstDatablock":
        return cls(InvokeIdAndPriority.read(r), CosemAttributeDescriptor.read(r),
                   SelectiveAccess.read_optional(r), DataBlockSA.read(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        self.descriptor.write(out)
        SelectiveAccess.write_optional(self.access, out)
        self.datablock.write(out)


@dataclass(frozen=True, slots=True)
class SetRequestWithDatablock(XDlmsApdu):
    """A following block of a long SET."""

    TAG: ClassVar[int] = SET_REQUEST_TAG
    CHOICE: ClassVar[int] = 3

    invoke: InvokeIdAndPriority
    datablock: DataBlockSA

    @classmethod
    def read(cls, r: Reader) -> "SetRequestWithDatablock":
        return cls(InvokeIdAndPriority.read(r), DataBlockSA.read(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        self.datablock.write(out)


@dataclass(frozen=True, slots=True)
class SetRequestWithList(XDlmsApdu):
    """Write several attributes; the two lists are separate SEQUENCE OFs on the wire, so a
    count mismatch decodes and is for the service layer to reject."""

    TAG: ClassVar[int] = SET_REQUEST_TAG
    CHOICE: ClassVar[int] = 4

    invoke: InvokeIdAndPriority
    items: tuple[CosemAttributeDescriptorWithSelection, ...]
    values: tuple[Value, ...]

    @classmethod
    def read(cls, r: Reader) -> "SetRequestWithList":
        invoke = InvokeIdAndPriority.read(r)
        items = _read_items(r)
        return cls(invoke, items, read_sequence(r, "value-list", decode_data))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        write_sequence(out, self.items)
        write_sequence(out, self.values, write_value)


@dataclass(frozen=True, slots=True)
class SetRequestWithListAndFirstDatablock(XDlmsApdu):
    """Start writing several attributes whose values are sent in blocks."""

    TAG: ClassVar[int] = SET_REQUEST_TAG
    CHOICE: ClassVar[int] = 5

    invoke: InvokeIdAndPriority
    items: tuple[CosemAttributeDescriptorWithSelection, ...]
    datablock: DataBlockSA

    @classmethod
    def read(cls, r: Reader) -> "SetRequestWithListAndFirstDatablock":
        return cls(InvokeIdAndPriority.read(r), _read_items(r), DataBlockSA.read(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        write_sequence(out, self.items)
        self.datablock.write(out)


@dataclass(frozen=True, slots=True)
class SetResponseNormal(XDlmsApdu):
    """The outcome of a SetRequestNormal."""

    TAG: ClassVar[int] = SET_RESPONSE_TAG
    CHOICE: ClassVar[int] = 1

    invoke: InvokeIdAndPriority
    result: DataAccessResult

    @classmethod
    def read(cls, r: Reader) -> "SetResponseNormal":
        return cls(InvokeIdAndPriority.read(r), _read_result(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        _write_result(self.result, out)


@dataclass(frozen=True, slots=True)
class SetResponseDatablock(XDlmsApdu):
    """Acknowledge one (not last) block of a long SET."""

    TAG: ClassVar[int] = SET_RESPONSE_TAG
    CHOICE: ClassVar[int] = 2

    invoke: InvokeIdAndPriority
    block_number: int

    @classmethod
    def read(cls, r: Reader) -> "SetResponseDatablock":
        return cls(InvokeIdAndPriority.read(r), r.uint(4, "block-number"))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        put_uint(out, self.block_number, 4, "block number")


@dataclass(frozen=True, slots=True)
class SetResponseLastDatablock(XDlmsApdu):
    """The outcome of a long SET of one attribute, sent after its last block."""

    TAG: ClassVar[int] = SET_RESPONSE_TAG
    CHOICE: ClassVar[int] = 3

    invoke: InvokeIdAndPriority
    result: DataAccessResult
    block_number: int

    @classmethod
    def read(cls, r: Reader) -> "SetResponseLastDatablock":
        return cls(InvokeIdAndPriority.read(r), _read_result(r), r.uint(4, "block-number"))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        _write_result(self.result, out)
        put_uint(out, self.block_number, 4, "block number")


@dataclass(frozen=True, slots=True)
class SetResponseLastDatablockWithList(XDlmsApdu):
    """The outcomes of a long SET of several attributes, sent after its last block."""

    TAG: ClassVar[int] = SET_RESPONSE_TAG
    CHOICE: ClassVar[int] = 4

    invoke: InvokeIdAndPriority
    results: tuple[DataAccessResult, ...]
    block_number: int

    @classmethod
    def read(cls, r: Reader) -> "SetResponseLastDatablockWithList":
        return cls(InvokeIdAndPriority.read(r), _read_results(r), r.uint(4, "block-number"))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        write_sequence(out, self.results, _write_result)
        put_uint(out, self.block_number, 4, "block number")


@dataclass(frozen=True, slots=True)
class SetResponseWithList(XDlmsApdu):
    """One outcome per attribute of a SetRequestWithList."""

    TAG: ClassVar[int] = SET_RESPONSE_TAG
    CHOICE: ClassVar[int] = 5

    invoke: InvokeIdAndPriority
    results: tuple[DataAccessResult, ...]

    @classmethod
    def read(cls, r: Reader) -> "SetResponseWithList":
        return cls(InvokeIdAndPriority.read(r), _read_results(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        write_sequence(out, self.results, _write_result)
