"""Unsolicited and error APDUs (Green Book 9.5): Data-Notification (0x0F), Event-Notification-
Request (0xC2) and Exception-Response (0xD8).

Layouts after the tag byte::

    0F  long-invoke-id-and-priority(4) | date-time len (0 or 12) octets | Data
    C2  00 / 01 len(12) date-time | class-id(2) OBIS(6) attr(1) | Data
    D8  state-error(1) | service-error choice(1) [invocation counter(4) if choice 6]

The date-time of a Data-Notification is a mandatory OCTET STRING (empty when the server
does not send a time); that of an Event-Notification is OPTIONAL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..axdr import CosemDateTime, Reader, decode_data
from ..errors import DecodeError, EncodeError
from .common import (
    CosemAttributeDescriptor, LongInvokeIdAndPriority, ServiceError, StateError, Value,
    XDlmsApdu, put_enum, put_uint, read_enum, read_optional_flag, write_optional, write_value,
)

__all__ = [
    "DataNotification", "EventNotificationRequest", "ExceptionResponse",
    "DATA_NOTIFICATION_TAG", "EVENT_NOTIFICATION_TAG", "EXCEPTION_RESPONSE_TAG",
]

DATA_NOTIFICATION_TAG = 0x0F
EVENT_NOTIFICATION_TAG = 0xC2
EXCEPTION_RESPONSE_TAG = 0xD8


def _read_date_time(r: Reader, allow_empty: bool) -> CosemDateTime | None:
    at = r.pos
    n = r.length("date-time length")
    if n == 0 and allow_empty:
        return None
    if n != CosemDateTime.SIZE:
        raise DecodeError(f"date-time octet-string must hold {CosemDateTime.SIZE} octets, got {n}", at)
    return CosemDateTime.from_bytes(r.take(n, "date-time"))


def _write_date_time(dt: CosemDateTime, out: bytearray) -> None:
    if not isinstance(dt, CosemDateTime):
        raise EncodeError(f"date-time needs a CosemDateTime, got {type(dt).__name__}")
    out.append(CosemDateTime.SIZE)
    out += dt.to_bytes()


@dataclass(frozen=True, slots=True)
class DataNotification(XDlmsApdu):
    """A push: the server sends `body` unsolicited, optionally stamped with its time."""

    TAG: ClassVar[int] = DATA_NOTIFICATION_TAG

    invoke: LongInvokeIdAndPriority
    date_time: CosemDateTime | None
    body: Value

    @classmethod
    def read(cls, r: Reader) -> "DataNotification":
        invoke = LongInvokeIdAndPriority.read(r)
        return cls(invoke, _read_date_time(r, allow_empty=True), decode_data(r))

    def write(self, out: bytearray) -> None:
        put_uint(out, self.invoke.to_int(), 4, "long invoke id")
        if self.date_time is None:
            out.append(0)
        else:
            _write_date_time(self.date_time, out)
        write_value(self.body, out)


@dataclass(frozen=True, slots=True)
class EventNotificationRequest(XDlmsApdu):
    """An unsolicited report of one attribute's value (LN referencing)."""

    TAG: ClassVar[int] = EVENT_NOTIFICATION_TAG

    time: CosemDateTime | None
    descriptor: CosemAttributeDescriptor
    value: Value

    @classmethod
    def read(cls, r: Reader) -> "EventNotificationRequest":
        time = _read_date_time(r, allow_empty=False) if read_optional_flag(r, "time") else None
        return cls(time, CosemAttributeDescriptor.read(r), decode_data(r))

    def write(self, out: bytearray) -> None:
        write_optional(out, self.time, _write_date_time)
        self.descriptor.write(out)
        write_value(self.value, out)


@dataclass(frozen=True, slots=True)
class ExceptionResponse(XDlmsApdu):
    """The server's answer to an APDU it cannot even dispatch (unknown or not allowed
    service, undecipherable, too long); `invocation_counter` is the counter the server
    expects, carried only with invocation-counter-error."""

    TAG: ClassVar[int] = EXCEPTION_RESPONSE_TAG

    state_error: StateError
    service_error: ServiceError
    invocation_counter: int | None = None

    @classmethod
    def read(cls, r: Reader) -> "ExceptionResponse":
        state = read_enum(r, StateError, "state-error")
        service = read_enum(r, ServiceError, "service-error")
        counter = r.uint(4, "invocation counter") if service == ServiceError.INVOCATION_COUNTER_ERROR else None
        return cls(state, service, counter)

    def write(self, out: bytearray) -> None:
        put_enum(out, StateError, self.state_error, "state-error")
        put_enum(out, ServiceError, self.service_error, "service-error")
        if self.service_error == ServiceError.INVOCATION_COUNTER_ERROR:
            if self.invocation_counter is None:
                raise EncodeError("invocation-counter-error needs the expected invocation counter")
            put_uint(out, self.invocation_counter, 4, "invocation counter")
        elif self.invocation_counter is not None:
            raise EncodeError("only invocation-counter-error carries an invocation counter")
