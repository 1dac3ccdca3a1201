"""Short-name referencing service APDUs (Green Book 9.5, DLMS services on SN objects).

Tags: ReadRequest 0x05, WriteRequest 0x06, ReadResponse 0x0C, WriteResponse 0x0D,
UnconfirmedWriteRequest 0x16, InformationReportRequest 0x18. Each carries SEQUENCE OFs of the
CHOICEs below; an object is addressed by its 16-bit short name (base name + 8 * (attr - 1)).

Variable-Access-Specification::

    02 name(2)                                  variable-name
    04 name(2) selector(1) Data                 parameterized-access
    05 block-number(2)                          block-number-access
    06 last-block(1) block-number(2) len raw    read-data-block-access
    07 last-block(1) block-number(2)            write-data-block-access

Read-Response item: 00 Data | 01 data-access-result | 02 last-block block-number(2) len raw
| 03 block-number(2). Write-Response item: 00 success | 01 data-access-result | 02 block-number(2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar, Union

from ..axdr import Data, Reader, decode_data
from ..errors import DecodeError, EncodeError
from .common import (
    DataAccessResult, EncodedData, Value, XDlmsApdu, put_enum, put_uint, read_enum,
    read_octet_string, read_optional_flag, read_sequence, write_octet_string, write_optional,
    write_sequence, write_value,
)

__all__ = [
    "VariableName", "ParameterizedAccess", "BlockNumberAccess", "ReadDataBlockAccess",
    "WriteDataBlockAccess", "VariableAccessSpecification", "DataBlockResult", "BlockNumber",
    "ReadResult", "WriteResult", "ReadRequest", "ReadResponse", "WriteRequest", "WriteResponse",
    "UnconfirmedWriteRequest", "InformationReportRequest",
]


# --------------------------------------------------------------------------- Variable-Access-Specification

def _read_block(r: Reader) -> tuple[bool, int, bytes]:
    """last-block(1) block-number(2) len raw: the body of read-data-block-access and of the
    Read-Response data-block-result alike."""
    last = r.u8("last-block") != 0
    number = r.uint(2, "block-number")
    return last, number, read_octet_string(r, "raw-data")


def _write_block(out: bytearray, last_block: bool, block_number: int, raw_data: bytes) -> None:
    out.append(1 if last_block else 0)
    put_uint(out, block_number, 2, "block number")
    write_octet_string(out, raw_data, "raw-data")


@dataclass(frozen=True, slots=True)
class VariableName:
    """Plain access to one attribute by short name."""

    CHOICE: ClassVar[int] = 2

    name: int

    @classmethod
    def read(cls, r: Reader) -> "VariableName":
        return cls(r.uint(2, "variable-name"))

    def write(self, out: bytearray) -> None:
        out.append(self.CHOICE)
        put_uint(out, self.name, 2, "variable name")


@dataclass(frozen=True, slots=True)
class ParameterizedAccess:
    """Selective access (read) or method invocation with parameters (write) by short name."""

    CHOICE: ClassVar[int] = 4

    name: int
    selector: int
    parameters: Value

    @classmethod
    def read(cls, r: Reader) -> "ParameterizedAccess":
        name = r.uint(2, "variable-name")
        return cls(name, r.u8("selector"), decode_data(r))

    def write(self, out: bytearray) -> None:
        out.append(self.CHOICE)
        put_uint(out, self.name, 2, "variable name")
        put_uint(out, self.selector, 1, "selector")
        write_value(self.parameters, out)


@dataclass(frozen=True, slots=True)
class BlockNumberAccess:
    """Ask for the next block of a long read, acknowledging `block_number`."""

    CHOICE: ClassVar[int] = 5

    block_number: int

    @classmethod
    def read(cls, r: Reader) -> "BlockNumberAccess":
        return cls(r.uint(2, "block-number"))

    def write(self, out: bytearray) -> None:
        out.append(self.CHOICE)
        put_uint(out, self.block_number, 2, "block number")


@dataclass(frozen=True, slots=True)
class ReadDataBlockAccess:
    """A block of a long read request (the request itself did not fit one APDU)."""

    CHOICE: ClassVar[int] = 6

    last_block: bool
    block_number: int
    raw_data: bytes

    @classmethod
    def read(cls, r: Reader) -> "ReadDataBlockAccess":
        return cls(*_read_block(r))

    def write(self, out: bytearray) -> None:
        out.append(self.CHOICE)
        _write_block(out, self.last_block, self.block_number, self.raw_data)


@dataclass(frozen=True, slots=True)
class WriteDataBlockAccess:
    """Announces that the write's data follow in blocks."""

    CHOICE: ClassVar[int] = 7

    last_block: bool
    block_number: int

    @classmethod
    def read(cls, r: Reader) -> "WriteDataBlockAccess":
        last = r.u8("last-block") != 0
        return cls(last, r.uint(2, "block-number"))

    def write(self, out: bytearray) -> None:
        out.append(self.CHOICE)
        out.append(1 if self.last_block else 0)
        put_uint(out, self.block_number, 2, "block number")


VariableAccessSpecification = Union[
    VariableName, ParameterizedAccess, BlockNumberAccess, ReadDataBlockAccess, WriteDataBlockAccess,
]
_VAS_READERS: dict[int, Callable[[Reader], VariableAccessSpecification]] = {
    c.CHOICE: c.read for c in (VariableName, ParameterizedAccess, BlockNumberAccess,
                               ReadDataBlockAccess, WriteDataBlockAccess)
}


def _read_spec(r: Reader) -> VariableAccessSpecification:
    at = r.pos
    choice = r.u8("variable-access-specification choice")
    reader = _VAS_READERS.get(choice)
    if reader is None:
        raise DecodeError(f"unsupported variable-access-specification choice {choice}", at)
    return reader(r)


def _write_spec(spec: VariableAccessSpecification, out: bytearray) -> None:
    if not isinstance(spec, (VariableName, ParameterizedAccess, BlockNumberAccess,
                             ReadDataBlockAccess, WriteDataBlockAccess)):
        raise EncodeError(f"not a variable-access-specification: {type(spec).__name__}")
    spec.write(out)


def _read_specs(r: Reader) -> tuple[VariableAccessSpecification, ...]:
    return read_sequence(r, "variable-access-specification", _read_spec)


def _read_values(r: Reader) -> tuple[Data, ...]:
    return read_sequence(r, "list-of-data", decode_data)


# --------------------------------------------------------------------------- results

@dataclass(frozen=True, slots=True)
class DataBlockResult:
    """Read-Response data-block-result [2]: one block of a long read answer."""

    last_block: bool
    block_number: int
    raw_data: bytes


@dataclass(frozen=True, slots=True)
class BlockNumber:
    """Read-Response [3] / Write-Response [2]: acknowledges a block number."""

    block_number: int


ReadResult = Union[Data, EncodedData, DataAccessResult, DataBlockResult, BlockNumber]
# DataAccessResult.SUCCESS stands for the write's success [0]; other values are [1] errors.
WriteResult = Union[DataAccessResult, BlockNumber]


def _read_read_result(r: Reader) -> ReadResult:
    at = r.pos
    choice = r.u8("read-response choice")
    if choice == 0:
        return decode_data(r)
    if choice == 1:
        return read_enum(r, DataAccessResult, "data-access-error")
    if choice == 2:
        return DataBlockResult(*_read_block(r))
    if choice == 3:
        return BlockNumber(r.uint(2, "block-number"))
    raise DecodeError(f"invalid read-response choice {choice}", at)


def _write_read_result(v: ReadResult, out: bytearray) -> None:
    if isinstance(v, DataAccessResult):
        out += bytes((1, v))
    elif isinstance(v, DataBlockResult):
        out.append(2)
        _write_block(out, v.last_block, v.block_number, v.raw_data)
    elif isinstance(v, BlockNumber):
        out.append(3)
        put_uint(out, v.block_number, 2, "block number")
    else:
        out.append(0)
        write_value(v, out)


def _read_write_result(r: Reader) -> WriteResult:
    at = r.pos
    choice = r.u8("write-response choice")
    if choice == 0:
        return DataAccessResult.SUCCESS
    if choice == 1:
        return read_enum(r, DataAccessResult, "data-access-error")
    if choice == 2:
        return BlockNumber(r.uint(2, "block-number"))
    raise DecodeError(f"invalid write-response choice {choice}", at)


def _write_write_result(v: WriteResult, out: bytearray) -> None:
    if isinstance(v, BlockNumber):
        out.append(2)
        put_uint(out, v.block_number, 2, "block number")
    elif v == DataAccessResult.SUCCESS:
        out.append(0)
    else:
        out.append(1)
        put_enum(out, DataAccessResult, v, "data-access-error")


# --------------------------------------------------------------------------- APDUs

@dataclass(frozen=True, slots=True)
class ReadRequest(XDlmsApdu):
    """Read one or more SN attributes."""

    TAG: ClassVar[int] = 0x05

    specs: tuple[VariableAccessSpecification, ...]

    @classmethod
    def read(cls, r: Reader) -> "ReadRequest":
        return cls(_read_specs(r))

    def write(self, out: bytearray) -> None:
        write_sequence(out, self.specs, _write_spec)


@dataclass(frozen=True, slots=True)
class ReadResponse(XDlmsApdu):
    """One result per variable of the ReadRequest."""

    TAG: ClassVar[int] = 0x0C

    results: tuple[ReadResult, ...]

    @classmethod
    def read(cls, r: Reader) -> "ReadResponse":
        return cls(read_sequence(r, "read-response", _read_read_result))

    def write(self, out: bytearray) -> None:
        write_sequence(out, self.results, _write_read_result)


@dataclass(frozen=True, slots=True)
class WriteRequest(XDlmsApdu):
    """Write SN attributes (or invoke SN methods through parameterized access)."""

    TAG: ClassVar[int] = 0x06

    specs: tuple[VariableAccessSpecification, ...]
    values: tuple[Value, ...]

    @classmethod
    def read(cls, r: Reader) -> "WriteRequest":
        specs = _read_specs(r)
        return cls(specs, _read_values(r))

    def write(self, out: bytearray) -> None:
        write_sequence(out, self.specs, _write_spec)
        write_sequence(out, self.values, write_value)


@dataclass(frozen=True, slots=True)
class WriteResponse(XDlmsApdu):
    """One outcome per variable of the WriteRequest."""

    TAG: ClassVar[int] = 0x0D

    results: tuple[WriteResult, ...]

    @classmethod
    def read(cls, r: Reader) -> "WriteResponse":
        return cls(read_sequence(r, "write-response", _read_write_result))

    def write(self, out: bytearray) -> None:
        write_sequence(out, self.results, _write_write_result)


@dataclass(frozen=True, slots=True)
class UnconfirmedWriteRequest(XDlmsApdu):
    """A write that the server does not answer."""

    TAG: ClassVar[int] = 0x16

    specs: tuple[VariableAccessSpecification, ...]
    values: tuple[Value, ...]

    @classmethod
    def read(cls, r: Reader) -> "UnconfirmedWriteRequest":
        specs = _read_specs(r)
        return cls(specs, _read_values(r))

    def write(self, out: bytearray) -> None:
        write_sequence(out, self.specs, _write_spec)
        write_sequence(out, self.values, write_value)


def _write_current_time(raw: bytes, out: bytearray) -> None:
    write_octet_string(out, raw, "current-time")


@dataclass(frozen=True, slots=True)
class InformationReportRequest(XDlmsApdu):
    """The SN counterpart of EventNotificationRequest. `current_time` is the OPTIONAL
    GeneralizedTime, kept as its raw octets (00 absent, 01 + length + octets)."""

    TAG: ClassVar[int] = 0x18

    current_time: bytes | None
    specs: tuple[VariableAccessSpecification, ...]
    values: tuple[Value, ...]

    @classmethod
    def read(cls, r: Reader) -> "InformationReportRequest":
        time = read_octet_string(r, "current-time") if read_optional_flag(r, "current-time") else None
        specs = _read_specs(r)
        return cls(time, specs, _read_values(r))

    def write(self, out: bytearray) -> None:
        write_optional(out, self.current_time, _write_current_time)
        write_sequence(out, self.specs, _write_spec)
        write_sequence(out, self.values, write_value)
