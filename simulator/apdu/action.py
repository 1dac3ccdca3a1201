"""ACTION service APDUs (Green Book 9.5): Action-Request (0xC3) and Action-Response (0xC7).

Layouts after the tag and choice bytes (DataBlock-SA = last-block(1) block-number(4) len raw)::

    C3 01  invoke | class-id(2) OBIS(6) method(1) | 00 / 01 Data              normal
    C3 02  invoke | block-number(4)                                           next-pblock
    C3 03  invoke | count method-descriptor* | count Data*                    with-list
    C3 04  invoke | method-descriptor | DataBlock-SA                          with-first-pblock
    C3 05  invoke | count method-descriptor* | DataBlock-SA                   with-list-and-first-pblock
    C3 06  invoke | DataBlock-SA                                              with-pblock
    C7 01  invoke | result | 00 / 01 Get-Data-Result                          normal
    C7 02  invoke | DataBlock-SA                                              with-pblock
    C7 03  invoke | count (result | 00 / 01 Get-Data-Result)*                 with-list
    C7 04  invoke | block-number(4)                                           next-pblock
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..axdr import Reader, decode_data
from .common import (
    ActionResult, CosemMethodDescriptor, DataBlockSA, GetDataResult, InvokeIdAndPriority, Value,
    XDlmsApdu, put_enum, put_uint, read_enum, read_get_data_result, read_optional_flag,
    read_sequence, write_get_data_result, write_optional, write_sequence, write_value,
)

__all__ = [
    "ActionRequestNormal", "ActionRequestNextPblock", "ActionRequestWithList",
    "ActionRequestWithFirstPblock", "ActionRequestWithListAndFirstPblock",
    "ActionRequestWithPblock", "ActionResponseWithOptionalData", "ActionResponseNormal",
    "ActionResponseWithPblock", "ActionResponseWithList", "ActionResponseNextPblock",
    "ACTION_REQUEST_TAG", "ACTION_RESPONSE_TAG",
]

ACTION_REQUEST_TAG = 0xC3
ACTION_RESPONSE_TAG = 0xC7


def _read_methods(r: Reader) -> tuple[CosemMethodDescriptor, ...]:
    return read_sequence(r, "cosem-method-descriptor-list", CosemMethodDescriptor.read)


@dataclass(frozen=True, slots=True)
class ActionRequestNormal(XDlmsApdu):
    """Invoke one method, with optional parameters."""

    TAG: ClassVar[int] = ACTION_REQUEST_TAG
    CHOICE: ClassVar[int] = 1

    invoke: InvokeIdAndPriority
    method: CosemMethodDescriptor
    parameters: Value | None = None

    @classmethod
    def read(cls, r: Reader) -> "ActionRequestNormal":
        invoke = InvokeIdAndPriority.read(r)
        method = CosemMethodDescriptor.read(r)
        params = decode_data(r) if read_optional_flag(r, "method-invocation-parameters") else None
        return cls(invoke, method, params)

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        self.method.write(out)
        write_optional(out, self.parameters, write_value)  # type: ignore[arg-type]  # mypy#6751


@dataclass(frozen=True, slots=True)
class ActionRequestNextPblock(XDlmsApdu):
    """Acknowledge a block of long return parameters and ask for the next one."""

    TAG: ClassVar[int] = ACTION_REQUEST_TAG
    CHOICE: ClassVar[int] = 2

    invoke: InvokeIdAndPriority
    block_number: int

    @classmethod
    def read(cls, r: Reader) -> "ActionRequestNextPblock":
        return cls(InvokeIdAndPriority.read(r), r.uint(4, "block-number"))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        put_uint(out, self.block_number, 4, "block number")


@dataclass(frozen=True, slots=True)
class ActionRequestWithList(XDlmsApdu):
    """Invoke several methods; the parameter list is a separate SEQUENCE OF Data."""

    TAG: ClassVar[int] = ACTION_REQUEST_TAG
    CHOICE: ClassVar[int] = 3

    invoke: InvokeIdAndPriority
    methods: tuple[CosemMethodDescriptor, ...]
    parameters: tuple[Value, ...]

    @classmethod
    def read(cls, r: Reader) -> "ActionRequestWithList":
        invoke = InvokeIdAndPriority.read(r)
        methods = _read_methods(r)
        return cls(invoke, methods, read_sequence(r, "method-invocation-parameters", decode_data))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        write_sequence(out, self.methods)
        write_sequence(out, self.parameters, write_value)


@dataclass(frozen=True, slots=True)
class ActionRequestWithFirstPblock(XDlmsApdu):
    """Invoke one method whose parameters are sent in blocks."""

    TAG: ClassVar[int] = ACTION_REQUEST_TAG
    CHOICE: ClassVar[int] = 4

    invoke: InvokeIdAndPriority
    method: CosemMethodDescriptor
    pblock: DataBlockSA

    @classmethod
    def read(cls, r: Reader) -> "ActionRequestWithFirstPblock":
        return cls(InvokeIdAndPriority.read(r), CosemMethodDescriptor.read(r), DataBlockSA.read(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        self.method.write(out)
        self.pblock.write(out)


@dataclass(frozen=True, slots=True)
class ActionRequestWithListAndFirstPblock(XDlmsApdu):
    """Invoke several methods whose parameters are sent in blocks."""

    TAG: ClassVar[int] = ACTION_REQUEST_TAG
    CHOICE: ClassVar[int] = 5

    invoke: InvokeIdAndPriority
    methods: tuple[CosemMethodDescriptor, ...]
    pblock: DataBlockSA

    @classmethod
    def read(cls, r: Reader) -> "ActionRequestWithListAndFirstPblock":
        return cls(InvokeIdAndPriority.read(r), _read_methods(r), DataBlockSA.read(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        write_sequence(out, self.methods)
        self.pblock.write(out)


@dataclass(frozen=True, slots=True)
class ActionRequestWithPblock(XDlmsApdu):
    """A following block of method parameters."""

    TAG: ClassVar[int] = ACTION_REQUEST_TAG
    CHOICE: ClassVar[int] = 6

    invoke: InvokeIdAndPriority
    pblock: DataBlockSA

    @classmethod
    def read(cls, r: Reader) -> "ActionRequestWithPblock":
        return cls(InvokeIdAndPriority.read(r), DataBlockSA.read(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        self.pblock.write(out)


@dataclass(frozen=True, slots=True)
class ActionResponseWithOptionalData:
    """Action-Response-With-Optional-Data: the result and optional return parameters."""

    result: ActionResult
    return_parameters: GetDataResult | None = None

    @classmethod
    def read(cls, r: Reader) -> "ActionResponseWithOptionalData":
        result = read_enum(r, ActionResult, "action-result")
        ret = read_get_data_result(r) if read_optional_flag(r, "return-parameters") else None
        return cls(result, ret)

    def write(self, out: bytearray) -> None:
        put_enum(out, ActionResult, self.result, "action-result")
        write_optional(out, self.return_parameters, write_get_data_result)  # type: ignore[arg-type]  # mypy#6751


@dataclass(frozen=True, slots=True)
class ActionResponseNormal(XDlmsApdu):
    """The outcome of an ActionRequestNormal."""

    TAG: ClassVar[int] = ACTION_RESPONSE_TAG
    CHOICE: ClassVar[int] = 1

    invoke: InvokeIdAndPriority
    result: ActionResult
    return_parameters: GetDataResult | None = None

    @classmethod
    def read(cls, r: Reader) -> "ActionResponseNormal":
        invoke = InvokeIdAndPriority.read(r)
        single = ActionResponseWithOptionalData.read(r)
        return cls(invoke, single.result, single.return_parameters)

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        ActionResponseWithOptionalData(self.result, self.return_parameters).write(out)


@dataclass(frozen=True, slots=True)
class ActionResponseWithPblock(XDlmsApdu):
    """One block of long return parameters."""

    TAG: ClassVar[int] = ACTION_RESPONSE_TAG
    CHOICE: ClassVar[int] = 2

    invoke: InvokeIdAndPriority
    pblock: DataBlockSA

    @classmethod
    def read(cls, r: Reader) -> "ActionResponseWithPblock":
        return cls(InvokeIdAndPriority.read(r), DataBlockSA.read(r))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        self.pblock.write(out)


@dataclass(frozen=True, slots=True)
class ActionResponseWithList(XDlmsApdu):
    """One outcome per method of an ActionRequestWithList."""

    TAG: ClassVar[int] = ACTION_RESPONSE_TAG
    CHOICE: ClassVar[int] = 3

    invoke: InvokeIdAndPriority
    responses: tuple[ActionResponseWithOptionalData, ...]

    @classmethod
    def read(cls, r: Reader) -> "ActionResponseWithList":
        invoke = InvokeIdAndPriority.read(r)
        return cls(invoke, read_sequence(r, "list-of-responses", ActionResponseWithOptionalData.read))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        write_sequence(out, self.responses)


@dataclass(frozen=True, slots=True)
class ActionResponseNextPblock(XDlmsApdu):
    """Acknowledge a block of method parameters and ask for the next one."""

    TAG: ClassVar[int] = ACTION_RESPONSE_TAG
    CHOICE: ClassVar[int] = 4

    invoke: InvokeIdAndPriority
    block_number: int

    @classmethod
    def read(cls, r: Reader) -> "ActionResponseNextPblock":
        return cls(InvokeIdAndPriority.read(r), r.uint(4, "block-number"))

    def write(self, out: bytearray) -> None:
        out.append(self.invoke.to_byte())
        put_uint(out, self.block_number, 4, "block number")
