"""Push setup (class 40) as the server layer sees it: what a push would send, and where.

Sans-IO: `push_settings` reads a Push setup object's attributes into plain settings,
`window_start` finds when its communication window next lets it send, and `notify` builds the
DataNotification (values read now, protected as configured) with the frames that carry it. The
runtime (simulator/runtime/push.py) decides when, opens the connection and retries.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterator

from ..apdu.ciphered import CipherStyle
from ..apdu.common import LongInvokeIdAndPriority
from ..apdu.notification import DataNotification
from ..axdr import CosemDateTime, Data, DataType, Obis
from ..cosem.base import AccessFailure, ActionFailure
from ..cosem.clock import date_time_of
from ..cosem.profile_buffer import CaptureObject, capture_objects, project
from ..errors import DLMSError
from ..link.hdlc.address import HDLCAddress
from ..link.hdlc.frame import FrameKind, HDLCFrame
from ..link.wrapper import WrapperFrame
from ..model.spec import AssociationSpec, LogicalDeviceSpec, SecurityPolicy
from ..security.apdu import encrypt_apdu
from ..security.control import SecurityControl
from ..security.errors import SecurityError
from ..security.gcm import SYSTEM_TITLE_LENGTH
from ..security.keywrap import KeyId
from .objects import PUSH_SETUP_CLASS, Meter, ObjectHandle, PushRequest


__all__ = [
    "Destination", "RetryPolicy", "PushSettings", "Notification", "PushError",
    "push_settings", "window_start", "notify",
]

_CLOCK_CLASS, _HDLC_SETUP_CLASS, _PROFILE_CLASS = 8, 23, 7
_USUAL_NAMES = {_CLOCK_CLASS: Obis("0.0.1.0.0.255"), _HDLC_SETUP_CLASS: Obis("0.0.22.0.0.255")}
_TRANSPORTS = {0: "tcp", 1: "udp", 5: "hdlc"}
_OTHER_TRANSPORTS = {2: "ftp", 3: "smtp", 4: "sms", 6: "m_bus", 7: "zigbee", 8: "dlms_gateway"}
_DEFAULT_PHYSICAL = 17  # the HDLC lower address of a meter whose IEC HDLC setup does not say
_HDLC_SEGMENT = 128  # information octets per UI frame (the default maximum information field)
_MANAGEMENT_CLIENT = 1
_RESPONSE_AUTHENTICATED, _RESPONSE_ENCRYPTED = 0x20, 0x40  # Security setup v1 security_policy bits 5, 6
_PROTECTION_SC = {0: (True, False), 1: (False, True), 2: (True, True)}  # protection_type -> (A, E)
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_WINDOW_SEARCH_DAYS = 4 * 366 + 1  # a window that repeats at all does so within four years (29 February)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a push goes and with which addresses."""

    transport: str  # "tcp" (TCP wrapper), "udp" (UDP wrapper), "hdlc" (HDLC UI frames over TCP)
    host: str
    port: int
    client_sap: int  # destination wPort / HDLC client address
    server_sap: int  # source wPort / HDLC upper server address: the push setup's logical device


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """number_of_retries and repetition_delay of a Push setup."""

    retries: int  # number_of_retries: attempts = 1 + retries
    delay_min: float  # seconds of the meter's clock; v0/v1: repetition_delay
    exponent: int = 100  # v2 repetition_delay_exponent in 1/100 (0 read as 100: constant delay)
    delay_max: float = 0.0  # v2 repetition_delay_max (0: no cap)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1, 2, ...): the v2 formula
        delay_min * (exponent / 100) ** (retry - 1), capped at delay_max when that is set."""
        factor = (self.exponent or 100) / 100
        delay = self.delay_min * factor ** max(retry - 1, 0)
        return min(delay, self.delay_max) if self.delay_max > 0 else delay


@dataclass(frozen=True, slots=True)
class PushSettings:
    """A Push setup object's attributes as one meter holds them."""

    logical_name: Obis
    version: int
    destination: Destination | None  # None: a transport we cannot reach: `problem` says why
    problem: str | None
    windows: tuple[tuple[CosemDateTime, CosemDateTime], ...]  # communication_window (empty: any time)
    randomisation_s: int
    retry: RetryPolicy


@dataclass(frozen=True, slots=True)
class Notification:
    """One push built: the APDU and the frames that carry it."""

    destination: Destination
    apdu: bytes  # the DataNotification, protected as configured
    frames: tuple[bytes, ...]  # what goes on the wire: one wrapper frame, or HDLC UI frame(s)
    invoke_id: int
    invocation_counter: int | None  # None: plain
    summary: str  # for the log, without secrets


class PushError(Exception):
    """A push that cannot be built (no keys, a missing object, a bad destination): the message
    says which object and why, never a key."""


# --------------------------------------------------------------------------- settings

def _int(value: Data | None, default: int = 0) -> int:
    return value.value if value is not None and isinstance(value.value, int) \
        and not isinstance(value.value, bool) else default


def _fields(value: Data | None, count: int) -> tuple[Data, ...] | None:
    if value is None or value.type != DataType.STRUCTURE or len(value.value) < count:
        return None
    return tuple(value.value)


def management_association(device: LogicalDeviceSpec) -> AssociationSpec | None:
    """The association a v0 Push setup pushes for: client SAP 1 when the device has it, else
    the first one with a Security setup, else the first one."""
    associations = device.associations
    if _MANAGEMENT_CLIENT in associations:
        return associations[_MANAGEMENT_CLIENT]
    with_setup = (a for a in associations.values() if a.security_setup_object is not None)
    return next(with_setup, next(iter(associations.values()), None))


def _parse_address(text: str) -> tuple[str, int] | str:
    """"host:port" (IPv4, a name, or "[IPv6]:port") as (host, port), or what is wrong with it."""
    text = text.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"destination {text!r} is not [IPv6 address]:port"
    else:
        host, sep, port = text.rpartition(":")
        if not sep or "." in port:
            return f"destination {text!r} has no port 1..65535"
        if not _HOST.fullmatch(host):
            return f"destination {text!r} is not host:port"
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        return f"destination {text!r} has no port 1..65535"
    return host, int(port)


def _destination(handle: ObjectHandle, version: int) -> Destination | str:
    fields = _fields(handle.get(3), 3)
    if fields is None:
        return "send_destination_and_method is not a structure of 3 elements"
    transport, raw, message = _int(fields[0], -1), fields[1], _int(fields[2])
    name = _TRANSPORTS.get(transport)
    if name is None:
        other = _OTHER_TRANSPORTS.get(transport, f"{transport}")
        return f"transport {other} cannot be reached from here (only tcp, udp and hdlc)"
    if message != 0:
        return "only A-XDR encoded xDLMS APDUs are pushed (message type is not 0)"
    if raw.type not in (DataType.OCTET_STRING, DataType.VISIBLE_STRING) or not raw.value:
        return "no destination address"
    text = raw.value.decode("latin-1") if isinstance(raw.value, bytes) else str(raw.value)
    address = _parse_address(text)
    if isinstance(address, str):
        return address
    server_sap = handle.device.server_sap
    if version >= 1:
        client_sap = _int(handle.get(9), -1)
    else:
        management = management_association(handle.device)
        client_sap = _MANAGEMENT_CLIENT if management is None else management.client_sap
    if not 0 <= client_sap <= 0x7F:
        return f"push_client_SAP {client_sap} is not a client address 0..127"
    return Destination(name, address[0], address[1], client_sap, server_sap)


def _windows(value: Data) -> tuple[tuple[CosemDateTime, CosemDateTime], ...] | str:
    if value.type != DataType.ARRAY:
        return ()
    windows = []
    for element in value.value:
        fields = _fields(element, 2)
        start, end = (None, None) if fields is None else (date_time_of(fields[0]), date_time_of(fields[1]))
        if start is None or end is None:
            return "a communication_window element is not a pair of date-times"
        windows.append((start, end))
    return tuple(windows)


def _retry(handle: ObjectHandle, version: int) -> RetryPolicy:
    retries = _int(handle.get(6))
    delay = handle.get(7)
    fields = _fields(delay, 3) if version >= 2 else None
    if fields is not None:
        return RetryPolicy(retries, _int(fields[0]), _int(fields[1], 100), _int(fields[2]))
    return RetryPolicy(retries, _int(delay))


def push_settings(handle: ObjectHandle) -> PushSettings:
    """The Push setup object's attributes as this meter holds them (its own SETs, else the model's).
    What cannot be used (a transport we cannot reach, an unreadable address) is `problem`, in words."""
    version = handle.cls.version
    destination = _destination(handle, version)
    windows = _windows(handle.get(4))
    problem = destination if isinstance(destination, str) else windows if isinstance(windows, str) else None
    return PushSettings(
        handle.logical_name, version, None if problem is not None or isinstance(destination, str) else destination,
        problem, () if isinstance(windows, str) else windows, _int(handle.get(5)), _retry(handle, version))


# --------------------------------------------------------------------------- communication window

def _day_matches(cdt: CosemDateTime, day: date) -> bool:
    """Does the date part of a (wildcarded) date-time name `day`? 0xFE/0xFD days are the
    last/second-last of the month; DST month markers (0xFD, 0xFE) match any month."""
    if cdt.year is not None and cdt.year != day.year:
        return False
    if cdt.month is not None and cdt.month <= 12 and cdt.month != day.month:
        return False
    if cdt.day is not None:
        last = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
        wanted = {0xFE: last, 0xFD: last - 1}.get(cdt.day, cdt.day)
        if wanted != day.day:
            return False
    return cdt.day_of_week is None or cdt.day_of_week == day.isoweekday()


def _starts(cdt: CosemDateTime, day: date) -> list[datetime]:
    """The instants a window's start names on `day`, earliest first: every hour when the hour
    is a wildcard (an hourly window), unspecified minutes and seconds 0."""
    if not _day_matches(cdt, day):
        return []
    hours = range(24) if cdt.hour is None or cdt.hour > 23 else (cdt.hour,)
    minute = cdt.minute if cdt.minute is not None and cdt.minute < 60 else 0
    second = cdt.second if cdt.second is not None and cdt.second < 60 else 0
    return [datetime(day.year, day.month, day.day, h, minute, second) for h in hours]


def _days(first: date, count: int, step: int = 1) -> Iterator[date]:
    for n in range(count):
        try:
            yield first + timedelta(days=n * step)
        except OverflowError:
            return


def _window_end(end: CosemDateTime, start: datetime) -> datetime | None:
    """The first instant at or after `start` that the window's end names; its unspecified
    minutes and seconds are the hour's last, an unspecified hour is any hour."""
    minute = end.minute if end.minute is not None and end.minute < 60 else 59
    second = end.second if end.second is not None and end.second < 60 else 59
    hours = range(24) if end.hour is None or end.hour > 23 else (end.hour,)
    for day in _days(start.date(), _WINDOW_SEARCH_DAYS):
        if _day_matches(end, day):
            for h in hours:
                instant = datetime(day.year, day.month, day.day, h, minute, second)
                if instant >= start:
                    return instant
    return None


def window_start(settings: PushSettings, meter_epoch: float, utc_offset_min: int) -> float | None:
    """The first meter epoch >= meter_epoch inside a communication window (itself when the list is
    empty or it is inside one); None when no window ever opens again. Windows are date-time pairs
    with wildcards (a daily window has wildcard dates, an hourly one a wildcard hour), in the
    meter's local time; a window closes at the first instant its end names after it opened."""
    if not settings.windows:
        return meter_epoch
    shift = utc_offset_min * 60
    local = datetime(1970, 1, 1) + timedelta(seconds=meter_epoch + shift)
    best: datetime | None = None
    for start, end in settings.windows:
        # the latest opening at or before now: are we inside its window?
        for day in _days(local.date(), _WINDOW_SEARCH_DAYS, -1):
            opened = next((t for t in reversed(_starts(start, day)) if t <= local), None)
            if opened is not None:
                closes = _window_end(end, opened)
                if closes is not None and local <= closes:
                    return meter_epoch
                break
        for day in _days(local.date(), _WINDOW_SEARCH_DAYS):
            if best is not None and day > best.date():
                break
            opening = next((t for t in _starts(start, day) if t > local and _window_end(end, t) is not None), None)
            if opening is not None:
                best = opening if best is None else min(best, opening)
                break
    if best is None:
        return None
    return (best - datetime(1970, 1, 1)).total_seconds() - shift


# --------------------------------------------------------------------------- the notification

class _Body:
    """The values of one push, read as the server itself at one instant."""

    def __init__(self, setup: ObjectHandle) -> None:
        self.setup = setup
        self.unreadable: list[str] = []

    def values(self) -> Data:
        entries = self.setup.get(2)
        if entries.type != DataType.ARRAY:
            return Data(DataType.STRUCTURE, ())
        return Data(DataType.STRUCTURE, tuple(self._entry(n, e) for n, e in enumerate(entries.value, 1)))

    def _entry(self, n: int, entry: Data) -> Data:
        fields = _fields(entry, 4)
        what = None if fields is None else CaptureObject.from_data(Data(DataType.STRUCTURE, fields[:4]))
        if what is None:
            raise PushError(f"push_object_list entry {n} of {self.setup.spec.describe()} is not an object definition")
        target = self.setup.find(what.logical_name, what.class_id)
        if target is None:
            raise PushError(f"{self.setup.spec.describe()} pushes class {what.class_id} {Obis(what.logical_name)}, "
                            "which this logical device does not have")
        if what.attribute_index == 0:
            return Data(DataType.STRUCTURE, tuple(
                self._read(target, adef.index) for adef in target.cls.attributes))
        if what.class_id == _PROFILE_CLASS and what.attribute_index == 2 and fields is not None and len(fields) > 4:
            return self._rows(target, fields[4], fields[5] if len(fields) > 5 else None)
        return _element(self._read(target, what.attribute_index), what.data_index)

    def _read(self, target: ObjectHandle, attribute: int) -> Data:
        try:
            return target.get(attribute)
        except (AccessFailure, ActionFailure, ValueError) as exc:
            self.unreadable.append(f"{target.logical_name} attribute {attribute}: {exc}")
            return Data(DataType.NULL_DATA)

    def _rows(self, profile: ObjectHandle, restriction: Data, columns: Data | None) -> Data:
        """A Profile generic buffer under the push's restriction (v1) and columns (v2), through
        the profile's own selective access."""
        objects = capture_objects(profile)
        picked = tuple(objects.index(c) for c in _capture_list(columns) if c in objects) if columns else ()
        kind_and_value = _fields(restriction, 2)
        kind = 0 if kind_and_value is None else _int(kind_and_value[0])
        adef = profile.cls.attribute(2)
        try:
            if kind == 0 or kind_and_value is None or adef is None or adef.selective is None:
                rows = profile.get(2)
            elif kind == 1:
                bounds = _fields(kind_and_value[1], 2)
                clock = next((o for o in objects if o.class_id == _CLOCK_CLASS), objects[0] if objects else None)
                if bounds is None or clock is None:
                    raise PushError(f"restriction by date of {profile.spec.describe()} needs from_date, to_date "
                                    "and a profile with columns")
                rows = adef.selective(profile, 1, Data(DataType.STRUCTURE, (
                    clock.to_data(), bounds[0], bounds[1], Data(DataType.ARRAY, ()))))
            else:
                bounds = _fields(kind_and_value[1], 2)
                if bounds is None:
                    raise PushError(f"restriction by entry of {profile.spec.describe()} needs from_entry, to_entry")
                rows = adef.selective(profile, 2, Data(DataType.STRUCTURE, (
                    bounds[0], bounds[1], Data(DataType.DOUBLE_LONG_UNSIGNED, 0),
                    Data(DataType.DOUBLE_LONG_UNSIGNED, 0))))
        except (AccessFailure, ActionFailure) as exc:
            self.unreadable.append(f"{profile.logical_name} buffer: {exc}")
            return Data(DataType.NULL_DATA)
        if not picked or rows.type != DataType.ARRAY:
            return rows
        return Data(DataType.ARRAY, project(rows.value, picked))


def _capture_list(columns: Data | None) -> list[CaptureObject]:
    if columns is None or columns.type != DataType.ARRAY:
        return []
    return [c for c in map(CaptureObject.from_data, columns.value) if c is not None]


def _element(value: Data, data_index: int) -> Data:
    """data_index > 0: that element (1-based) of an array or structure value; null-data when it has none."""
    if data_index == 0:
        return value
    if value.type in (DataType.ARRAY, DataType.STRUCTURE) and data_index <= len(value.value):
        return value.value[data_index - 1]
    return Data(DataType.NULL_DATA)


def _find_in(setup: ObjectHandle, class_id: int) -> ObjectHandle | None:
    """The object of a class at its usual logical name in the push setup's logical device, else
    the first of that class there or in any device."""
    usual = setup.find(_USUAL_NAMES[class_id], class_id)
    if usual is not None:
        return usual
    meter = setup.meter
    devices = [setup.device, *(d for d in meter.model.logical_devices.values() if d is not setup.device)]
    for device in devices:
        for spec in device.objects:
            if spec.cls.class_id == class_id:
                return meter.object(device, spec.index, setup.now)
    return None


def _date_time(setup: ObjectHandle) -> CosemDateTime:
    """The meter's clock now, as its Clock object reads (deviation and status included)."""
    clock = _find_in(setup, _CLOCK_CLASS)
    if clock is not None:
        try:
            read = date_time_of(clock.get(2))
        except (AccessFailure, ActionFailure):
            read = None
        if read is not None:
            return read
    meter = setup.meter
    return CosemDateTime.from_bytes(CosemDateTime.bytes_from_epoch(
        setup.clock.epoch(), -meter.utc_offset_min))


def _protection(setup: ObjectHandle) -> tuple[bool, bool, ObjectHandle | None]:
    """(authenticated, encrypted, the Security setup object) a push of `setup` is protected with."""
    management = management_association(setup.device)
    security = None
    if management is not None and management.security_setup_object is not None:
        security = setup.meter.object(setup.device, management.security_setup_object, setup.now)
    if setup.cls.version >= 1:
        parameters = setup.get(10)
        if parameters.type != DataType.ARRAY or not parameters.value:
            return False, False, security
        first = _fields(parameters.value[0], 1)
        kind = -1 if first is None else _int(first[0], -1)
        if kind not in _PROTECTION_SC:
            raise PushError(f"{setup.spec.describe()}: protection type {kind} is not supported "
                            "(digital signature is not built)")
        authenticated, encrypted = _PROTECTION_SC[kind]
        return authenticated, encrypted, security
    if management is None or security is None:
        return False, False, None
    policy = management.security_policy
    authenticated = bool(policy & SecurityPolicy.AUTHENTICATED)
    encrypted = bool(policy & SecurityPolicy.ENCRYPTED)
    value = _int(security.get(2))
    if security.cls.version == 0:
        authenticated, encrypted = authenticated or bool(value & 1), encrypted or bool(value & 2)
    else:
        authenticated = authenticated or bool(value & _RESPONSE_AUTHENTICATED)
        encrypted = encrypted or bool(value & _RESPONSE_ENCRYPTED)
    return authenticated, encrypted, security


def _cipher(setup: ObjectHandle, plain: bytes) -> tuple[bytes, int | None, str]:
    """The APDU protected as the Push setup asks: (apdu, invocation counter or None, its name)."""
    authenticated, encrypted, security = _protection(setup)
    if not (authenticated or encrypted):
        return plain, None, "plain"
    where = setup.spec.describe()
    if security is None:
        raise PushError(f"{where} is to be protected, but no Security setup belongs to its management association")
    try:
        title = security.get(5)
        material = security.security()
    except (ValueError, DLMSError) as exc:  # a template the profile does not fill: says which field, no value
        raise PushError(f"{where}: {security.spec.describe()}: {exc}") from None
    if title.type != DataType.OCTET_STRING or len(title.value) != SYSTEM_TITLE_LENGTH:
        raise PushError(f"{where}: {security.spec.describe()} has no 8-octet server_system_title")
    ek, ak = material.key(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY), material.key(KeyId.AUTHENTICATION_KEY)
    if ek is None or ak is None:
        raise PushError(f"{where}: {security.spec.describe()} has no global unicast encryption key "
                        "and authentication key")
    sc = SecurityControl(_int(security.get(3)), authenticated, encrypted)
    counter = material.next_transmit(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY)
    try:
        apdu = encrypt_apdu(plain, CipherStyle.GENERAL_GLO, sc, bytes(title.value), counter, ek, ak)
    except (SecurityError, DLMSError) as exc:
        raise PushError(f"{where}: cannot protect the push: {exc}") from None
    return apdu, counter, "general-glo-ciphering"


def _frames(setup: ObjectHandle, destination: Destination, apdu: bytes) -> tuple[bytes, ...]:
    if destination.transport != "hdlc":
        return (WrapperFrame(destination.server_sap, destination.client_sap, apdu).to_bytes(),)
    hdlc = _find_in(setup, _HDLC_SETUP_CLASS)
    physical = _int(hdlc.get(9), _DEFAULT_PHYSICAL) if hdlc is not None else _DEFAULT_PHYSICAL
    source = HDLCAddress(destination.server_sap, physical)
    client = HDLCAddress.client(destination.client_sap)
    information = b"\xe6\xe7\x00" + apdu  # LLC header of a response
    segments = [information[at:at + _HDLC_SEGMENT] for at in range(0, len(information), _HDLC_SEGMENT)]
    return tuple(HDLCFrame(client, source, FrameKind.UI, True, segmented=n < len(segments) - 1,
                           information=segment).to_bytes() for n, segment in enumerate(segments))


def notify(meter: Meter, request: PushRequest, now: float) -> Notification:
    """Build one notification of the Push setup at (request.server_sap, request.index) at `now`:
    the values read now, the next invoke id, and, when protected, the next invocation counter
    (journalled: the caller commits it before the frames leave)."""
    device = meter.model.logical_devices.get(request.server_sap)
    setup = None if device is None else meter.object(device, request.index, now)
    if setup is None or setup.cls.class_id != PUSH_SETUP_CLASS:
        raise PushError(f"logical device {request.server_sap} has no Push setup at object {request.index}")
    settings = push_settings(setup)
    if settings.destination is None:
        raise PushError(f"{setup.spec.describe()}: {settings.problem}")
    body = _Body(setup)
    values = body.values()
    meter.push_invoke_id = meter.push_invoke_id % 0xFFFFFF + 1
    confirmed = settings.version >= 2 and _int(setup.get(11)) == 2
    invoke = LongInvokeIdAndPriority(meter.push_invoke_id, confirmed=confirmed, high_priority=True)
    plain = DataNotification(invoke, _date_time(setup), values).to_bytes()
    apdu, counter, protection = _cipher(setup, plain)
    count = len(values.value)
    summary = f"data-notification invoke-id {invoke.invoke_id}, {count} value{'' if count == 1 else 's'}, {protection}"
    if counter is not None:
        summary += f" IC {counter}"
    if body.unreadable:
        summary += f"; unreadable, pushed as null-data: {'; '.join(body.unreadable)}"
    try:
        frames = _frames(setup, settings.destination, apdu)
    except DLMSError as exc:  # an address out of range, an APDU too long for a wrapper frame
        raise PushError(f"{setup.spec.describe()}: {exc}") from None
    return Notification(settings.destination, apdu, frames, invoke.invoke_id, counter, summary)
