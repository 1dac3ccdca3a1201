"""The xDLMS-Initiate exchange carried in AARQ/AARE user-information (Green Book 9.5, A-XDR).

    InitiateRequest   01 | dedicated-key (00, or 01 len key) | response-allowed (00 = default
                      TRUE, or 01 bool) | proposed-quality-of-service (00, or 01 int8) |
                      proposed-dlms-version-number u8 | conformance | client-max-receive-pdu-size u16
    InitiateResponse  08 | negotiated-quality-of-service (00, or 01 int8) |
                      negotiated-dlms-version-number u8 | conformance |
                      server-max-receive-pdu-size u16 | vaa-name u16
    ConfirmedServiceError  0E | service choice u8 | ServiceError choice u8 | enumerated u8
    conformance       5F 1F 04 00 b0..b7 b8..b15 b16..b23   ([APPLICATION 31] BIT STRING (24),
                      BER-encoded inside the A-XDR; bit 0 is the MSB of the first octet)

A-XDR usage flags and booleans are read as FALSE for 00 and TRUE for any other octet, and
written 00/01; a DEFAULT field equal to its default is written absent. Every decoder raises only
`DecodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, IntFlag
from types import MappingProxyType
from typing import ClassVar

from ..axdr import Reader, encode_length
from ..errors import DecodeError, EncodeError
from .ber import Tag, TagClass, read_tlv

__all__ = [
    "Conformance", "encode_conformance", "decode_conformance", "VAA_NAME_LN", "VAA_NAME_SN",
    "InitiateRequest", "InitiateResponse", "ConfirmedService", "ServiceErrorKind",
    "ApplicationReferenceError", "HardwareResourceError", "VdeStateError", "ServiceHandlingError",
    "DefinitionError", "AccessError", "InitiateError", "LoadDataSetError", "TaskError", "OtherError",
    "ServiceErrorValue", "ConfirmedServiceError",
]

VAA_NAME_LN = 0x0007  # vaa-name of a logical-name association
VAA_NAME_SN = 0xFA00  # vaa-name of a short-name association (base name of Association SN)

_CONFORMANCE_TAG = Tag(TagClass.APPLICATION, 31)


class Conformance(IntFlag):
    """The 24-bit conformance block; the standard's bit n is the integer bit 23 - n.

    So `int(block)` is the three octets read big-endian (0x00501F for get, set, action, ...).
    """

    RESERVED_ZERO = 1 << 23  # bit 0
    GENERAL_PROTECTION = 1 << 22  # bit 1
    GENERAL_BLOCK_TRANSFER = 1 << 21  # bit 2
    READ = 1 << 20  # bit 3
    WRITE = 1 << 19  # bit 4
    UNCONFIRMED_WRITE = 1 << 18  # bit 5
    DELTA_VALUE_ENCODING = 1 << 17  # bit 6 (reserved-six in older editions)
    RESERVED_SEVEN = 1 << 16  # bit 7
    ATTRIBUTE0_SUPPORTED_WITH_SET = 1 << 15  # bit 8
    PRIORITY_MGMT_SUPPORTED = 1 << 14  # bit 9
    ATTRIBUTE0_SUPPORTED_WITH_GET = 1 << 13  # bit 10
    BLOCK_TRANSFER_WITH_GET_OR_READ = 1 << 12  # bit 11
    BLOCK_TRANSFER_WITH_SET_OR_WRITE = 1 << 11  # bit 12
    BLOCK_TRANSFER_WITH_ACTION = 1 << 10  # bit 13
    MULTIPLE_REFERENCES = 1 << 9  # bit 14
    INFORMATION_REPORT = 1 << 8  # bit 15
    DATA_NOTIFICATION = 1 << 7  # bit 16
    ACCESS = 1 << 6  # bit 17
    PARAMETERIZED_ACCESS = 1 << 5  # bit 18
    GET = 1 << 4  # bit 19
    SET = 1 << 3  # bit 20
    SELECTIVE_ACCESS = 1 << 2  # bit 21
    EVENT_NOTIFICATION = 1 << 1  # bit 22
    ACTION = 1 << 0  # bit 23


def encode_conformance(conformance: Conformance | int) -> bytes:
    """`5F 1F 04 00` and the three octets."""
    value = int(conformance)
    if not 0 <= value <= 0xFFFFFF:
        raise EncodeError(f"conformance 0x{value:X} does not fit 24 bits")
    return b"\x5F\x1F\x04\x00" + value.to_bytes(3, "big")


def decode_conformance(r: Reader) -> Conformance:
    """Read the BER conformance element; it must be exactly a 24-bit primitive BIT STRING."""
    el = read_tlv(r)
    if el.tag != _CONFORMANCE_TAG:
        raise DecodeError(f"conformance: expected {_CONFORMANCE_TAG}, got {el.tag}", el.offset)
    if el.content.remaining != 4:
        raise DecodeError(f"conformance of {el.content.remaining} octet(s), not 4", el.offset)
    if (unused := el.content.u8("conformance")) != 0:
        raise DecodeError(f"conformance with {unused} unused bit(s)", el.content.pos - 1)
    return Conformance(el.content.uint(3, "conformance"))


def _flag(r: Reader, what: str) -> bool:
    return r.u8(what) != 0


def _u8(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFF:
        raise EncodeError(f"{what} {value} does not fit Unsigned8")
    return bytes((value,))


def _u16(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise EncodeError(f"{what} {value} does not fit Unsigned16")
    return value.to_bytes(2, "big")


def _optional_qos(value: int | None, what: str) -> bytes:
    if value is None:
        return b"\x00"
    if not -128 <= value <= 127:
        raise EncodeError(f"{what} {value} does not fit Integer8")
    return b"\x01" + value.to_bytes(1, "big", signed=True)


def _read_qos(r: Reader, what: str) -> int | None:
    return r.sint(1, what) if _flag(r, what) else None


def _open(data: bytes, tag: int, name: str) -> Reader:
    r = Reader(data)
    if (got := r.u8(f"{name} tag")) != tag:
        raise DecodeError(f"not an {name}: tag 0x{got:02X}", 0)
    return r


@dataclass(frozen=True, slots=True, kw_only=True)
class InitiateRequest:
    """xDLMS InitiateRequest, the client's proposal inside the AARQ."""

    TAG: ClassVar[int] = 0x01

    dedicated_key: bytes | None = None
    response_allowed: bool = True
    proposed_quality_of_service: int | None = None
    proposed_dlms_version_number: int = 6
    proposed_conformance: Conformance
    client_max_receive_pdu_size: int

    def to_bytes(self) -> bytes:
        key = b"\x00" if self.dedicated_key is None else (
            b"\x01" + encode_length(len(self.dedicated_key)) + self.dedicated_key)
        return (
            bytes((self.TAG,)) + key
            + (b"\x00" if self.response_allowed else b"\x01\x00")
            + _optional_qos(self.proposed_quality_of_service, "proposed-quality-of-service")
            + _u8(self.proposed_dlms_version_number, "proposed-dlms-version-number")
            + encode_conformance(self.proposed_conformance)
            + _u16(self.client_max_receive_pdu_size, "client-max-receive-pdu-size")
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> InitiateRequest:
        r = _open(data, cls.TAG, "InitiateRequest")
        key = r.take(r.length("dedicated-key length"), "dedicated-key") if _flag(r, "dedicated-key") else None
        allowed = _flag(r, "response-allowed") if _flag(r, "response-allowed usage") else True
        qos = _read_qos(r, "proposed-quality-of-service")
        version = r.u8("proposed-dlms-version-number")
        conformance = decode_conformance(r)
        pdu_size = r.uint(2, "client-max-receive-pdu-size")
        r.expect_end("InitiateRequest")
        return cls(dedicated_key=key, response_allowed=allowed, proposed_quality_of_service=qos,
                   proposed_dlms_version_number=version, proposed_conformance=conformance,
                   client_max_receive_pdu_size=pdu_size)


@dataclass(frozen=True, slots=True, kw_only=True)
class InitiateResponse:
    """xDLMS InitiateResponse, the server's answer inside the AARE.

    `vaa_name` is read as Unsigned16 so the short-name value reads 0xFA00, not negative.
    """

    TAG: ClassVar[int] = 0x08

    negotiated_quality_of_service: int | None = None
    negotiated_dlms_version_number: int = 6
    negotiated_conformance: Conformance
    server_max_receive_pdu_size: int
    vaa_name: int = VAA_NAME_LN

    def to_bytes(self) -> bytes:
        return (
            bytes((self.TAG,))
            + _optional_qos(self.negotiated_quality_of_service, "negotiated-quality-of-service")
            + _u8(self.negotiated_dlms_version_number, "negotiated-dlms-version-number")
            + encode_conformance(self.negotiated_conformance)
            + _u16(self.server_max_receive_pdu_size, "server-max-receive-pdu-size")
            + _u16(self.vaa_name, "vaa-name")
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> InitiateResponse:
        r = _open(data, cls.TAG, "InitiateResponse")
        qos = _read_qos(r, "negotiated-quality-of-service")
        version = r.u8("negotiated-dlms-version-number")
        conformance = decode_conformance(r)
        pdu_size = r.uint(2, "server-max-receive-pdu-size")
        vaa = r.uint(2, "vaa-name")
        r.expect_end("InitiateResponse")
        return cls(negotiated_quality_of_service=qos, negotiated_dlms_version_number=version,
                   negotiated_conformance=conformance, server_max_receive_pdu_size=pdu_size,
                   vaa_name=vaa)


class ConfirmedService(IntEnum):
    """The ConfirmedServiceError CHOICE: which service failed (tag 0 is reserved)."""

    INITIATE_ERROR = 1
    GET_STATUS = 2
    GET_NAME_LIST = 3
    GET_VARIABLE_ATTRIBUTE = 4
    READ = 5
    WRITE = 6
    GET_DATA_SET_ATTRIBUTE = 7
    GET_TI_ATTRIBUTE = 8
    CHANGE_SCOPE = 9
    START = 10
    STOP = 11
    RESUME = 12
    MAKE_USABLE = 13
    INITIATE_LOAD = 14
    LOAD_SEGMENT = 15
    TERMINATE_LOAD = 16
    INITIATE_UPLOAD = 17
    UPLOAD_SEGMENT = 18
    TERMINATE_UPLOAD = 19


class ServiceErrorKind(IntEnum):
    """The ServiceError CHOICE tags; [8] (change-scope) is commented out in the standard."""

    APPLICATION_REFERENCE = 0
    HARDWARE_RESOURCE = 1
    VDE_STATE_ERROR = 2
    SERVICE = 3
    DEFINITION = 4
    ACCESS = 5
    INITIATE = 6
    LOAD_DATA_SET = 7
    TASK = 9
    OTHER = 10


class ApplicationReferenceError(IntEnum):
    OTHER = 0
    TIME_ELAPSED = 1
    APPLICATION_UNREACHABLE = 2
    APPLICATION_REFERENCE_INVALID = 3
    APPLICATION_CONTEXT_UNSUPPORTED = 4
    PROVIDER_COMMUNICATION_ERROR = 5
    DECIPHERING_ERROR = 6


class HardwareResourceError(IntEnum):
    OTHER = 0
    MEMORY_UNAVAILABLE = 1
    PROCESSOR_RESOURCE_UNAVAILABLE = 2
    MASS_STORAGE_UNAVAILABLE = 3
    OTHER_RESOURCE_UNAVAILABLE = 4


class VdeStateError(IntEnum):
    OTHER = 0
    NO_DLMS_CONTEXT = 1
    LOADING_DATA_SET = 2
    STATUS_NOCHANGE = 3
    STATUS_INOPERABLE = 4


class ServiceHandlingError(IntEnum):
    """ServiceError `service` [3]."""

    OTHER = 0
    PDU_SIZE = 1
    SERVICE_UNSUPPORTED = 2


class DefinitionError(IntEnum):
    OTHER = 0
    OBJECT_UNDEFINED = 1
    OBJECT_CLASS_INCONSISTENT = 2
    OBJECT_ATTRIBUTE_INCONSISTENT = 3


class AccessError(IntEnum):
    OTHER = 0
    SCOPE_OF_ACCESS_VIOLATED = 1
    OBJECT_ACCESS_VIOLATED = 2
    HARDWARE_FAULT = 3
    OBJECT_UNAVAILABLE = 4


class InitiateError(IntEnum):
    OTHER = 0
    DLMS_VERSION_TOO_LOW = 1
    INCOMPATIBLE_CONFORMANCE = 2
    PDU_SIZE_TOO_SHORT = 3
    REFUSED_BY_THE_VDE_HANDLER = 4


class LoadDataSetError(IntEnum):
    OTHER = 0
    PRIMITIVE_OUT_OF_SEQUENCE = 1
    NOT_LOADABLE = 2
    DATASET_SIZE_TOO_LARGE = 3
    NOT_AWAITED_SEGMENT = 4
    INTERPRETATION_FAILURE = 5
    STORAGE_FAILURE = 6
    DATA_SET_NOT_READY = 7


class TaskError(IntEnum):
    OTHER = 0
    NO_REMOTE_CONTROL = 1
    TI_STOPPED = 2
    TI_RUNNING = 3
    TI_UNUSABLE = 4


class OtherError(IntEnum):
    OTHER = 0


ServiceErrorValue = (
    ApplicationReferenceError | HardwareResourceError | VdeStateError | ServiceHandlingError
    | DefinitionError | AccessError | InitiateError | LoadDataSetError | TaskError | OtherError
)

_ERROR_ENUMS: MappingProxyType[ServiceErrorKind, type[ServiceErrorValue]] = MappingProxyType({
    ServiceErrorKind.APPLICATION_REFERENCE: ApplicationReferenceError,
    ServiceErrorKind.HARDWARE_RESOURCE: HardwareResourceError,
    ServiceErrorKind.VDE_STATE_ERROR: VdeStateError,
    ServiceErrorKind.SERVICE: ServiceHandlingError,
    ServiceErrorKind.DEFINITION: DefinitionError,
    ServiceErrorKind.ACCESS: AccessError,
    ServiceErrorKind.INITIATE: InitiateError,
    ServiceErrorKind.LOAD_DATA_SET: LoadDataSetError,
    ServiceErrorKind.TASK: TaskError,
    ServiceErrorKind.OTHER: OtherError,
})
_KIND_OF: MappingProxyType[type[ServiceErrorValue], ServiceErrorKind] = MappingProxyType(
    {names: kind for kind, names in _ERROR_ENUMS.items()})


@dataclass(frozen=True, slots=True)
class ConfirmedServiceError:
    """xDLMS ConfirmedServiceError: `service` failed with `error`, whose enum type is the
    ServiceError alternative (`InitiateError.DLMS_VERSION_TOO_LOW` is initiate [6] value 1)."""

    TAG: ClassVar[int] = 0x0E

    service: ConfirmedService
    error: ServiceErrorValue

    @property
    def kind(self) -> ServiceErrorKind:
        kind = _KIND_OF.get(type(self.error))
        if kind is None:
            raise EncodeError(f"{self.error!r} is not a ServiceError value")
        return kind

    def to_bytes(self) -> bytes:
        try:
            service = ConfirmedService(self.service)
        except ValueError:
            raise EncodeError(f"unknown confirmed service {self.service!r}") from None
        return bytes((self.TAG, service, self.kind, self.error))

    @classmethod
    def from_bytes(cls, data: bytes) -> ConfirmedServiceError:
        r = _open(data, cls.TAG, "ConfirmedServiceError")
        start = r.pos
        try:
            service = ConfirmedService(r.u8("confirmed service"))
        except ValueError:
            raise DecodeError(f"unknown confirmed service {r.data[start]}", start) from None
        try:
            names = _ERROR_ENUMS[ServiceErrorKind(r.u8("ServiceError choice"))]
        except ValueError:
            raise DecodeError(f"unknown ServiceError choice {r.data[start + 1]}", start + 1) from None
        try:
            error = names(r.u8("ServiceError value"))
        except ValueError:
            raise DecodeError(f"unknown {names.__name__} value {r.data[start + 2]}", start + 2) from None
        r.expect_end("ConfirmedServiceError")
        return cls(service, error)
