"""A push receiver's core: the notifications in the bytes a head-end's push port receives.

Sans-IO: the runtime hands over each TCP connection's bytes (`stream_data`, `stream_closed`)
and each UDP datagram (`datagram`) and gets events back: `NotificationReceived` for every
DataNotification or EventNotificationRequest, `ReceiveProblem` for everything else worth a
line. A TCP stream is HDLC when its first octet is the flag 7E, wrapper frames when it is 00;
a datagram is one wrapper frame. HDLC I and UI frames are taken, segments joined per address
pair; noise is skipped up to the next flag. Memory stays bounded per peer: an APDU longer
than 64 KiB is dropped with a line, and a stream that is neither framing is given up.

Ciphered notifications are opened with the keys given (`decrypt_apdu`); without them the
sender's system title and invocation counter still show, since they travel in clear. Per
system title the counters must only increase: one that does not is reported and counted
(a replay, or a meter whose counter was reset). Values are named with their OBIS codes when
the body starts with the logical name of a Push setup whose push_object_list is known
(`PushLabels`) and has as many entries as the body has elements.

Tolerated quirks, decoded and noted: Kaifa meters' HAN port (the shared vector "HDLC I-frame ...
Kaifa HAN port") puts a Data octet-string tag 09 before a DataNotification date-time's length;
dlms-cosem 25.1.0 writes a presence flag 01 where that length belongs; gurux-dlms 1.0.203 writes
an EventNotificationRequest's optional time with a tag 09 where its presence flag belongs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..apdu.ciphered import CipheredAPDU, GeneralCiphering, ciphered_apdu_from_bytes, is_ciphered_tag
from ..apdu.common import CosemAttributeDescriptor, LongInvokeIdAndPriority
from ..apdu.notification import DataNotification, EventNotificationRequest
from ..apdu.registry import decode_apdu, service_name
from ..axdr import CosemDateTime, Data, DataType, Obis
from ..cosem.registry import get_class
from ..errors import DecodeError
from ..link.hdlc import LLC_REQUEST, LLC_RESPONSE, FrameKind, HDLCAddress, HDLCFrameReader
from ..link.wrapper import HEADER_SIZE, WrapperFrame, WrapperReader
from ..security import CipherKeys, SecurityControl, SecurityError, decrypt_apdu
from .apdu import data_field
from .tree import Field, Node, spaced_hex

__all__ = [
    "MAX_APDU", "PushedAttribute", "PushObjectList", "PushLabels", "ReceivedNotification",
    "NotificationReceived", "ReceiveProblem", "Event", "PushReceiver",
]

MAX_APDU = 64 * 1024  # the longest APDU a peer may make us hold (HDLC segments joined)
_FLAG = 0x7E
_DATE_TIME_QUIRK = "date-time sent as a Data octet-string (tag 09 before its length: the Kaifa quirk), read anyway"
_PRESENCE_FLAG_QUIRK = ("date-time sent with a presence flag 01 where its length 0C belongs (as dlms-cosem "
                        "writes it), read anyway")
_EVENT_TIME_QUIRK = ("time sent with an octet-string tag 09 where the presence flag 01 belongs (as gurux-dlms "
                     "writes it), read anyway")


@dataclass(frozen=True, slots=True)
class PushedAttribute:
    """One push_object_list entry: what the element at its place in the body is."""

    class_id: int
    logical_name: Obis
    attribute: int      # 0: the whole object
    data_index: int     # 0: the whole attribute; n: its n-th element
    name: str = ""      # the object's name in its model


@dataclass(frozen=True, slots=True)
class PushObjectList:
    """A Push setup object's push_object_list as one model declares it."""

    model: str
    name: str           # the Push setup object's name in that model
    entries: tuple[PushedAttribute, ...]


PushLabels = Mapping[bytes, Sequence[PushObjectList]]
"""Push setup logical name (6 octets) -> the lists known for it (several models may share it)."""


@dataclass(frozen=True, slots=True)
class ReceivedNotification:
    """One notification as it arrived: link, protection, sender and content."""

    transport: str                  # "tcp" or "udp"
    peer: str                       # "host:port"
    link: str                       # "wrapper" or "hdlc"
    source: HDLCAddress | int       # the meter: its wPort, or its HDLC address
    destination: HDLCAddress | int  # us: the client wPort, or the HDLC client address
    protection: str                 # "plain" or the ciphered APDU's name (general-glo-ciphering, ...)
    security: tuple[str, ...]       # "authenticated", "encrypted" (ciphered only)
    system_title: bytes | None
    invocation_counter: int | None
    deciphered: bool                # False: ciphered and not opened (no keys, or they failed)
    service: str                    # data-notification, event-notification-request; "" when not opened
    invoke: LongInvokeIdAndPriority | None
    date_time: CosemDateTime | None
    body: Data | None
    attribute: CosemAttributeDescriptor | None = None   # an event-notification's attribute
    labels: PushObjectList | None = None
    notes: tuple[str, ...] = ()
    replayed: bool = False

    def describe(self) -> Node:
        """The notification in the words of `cosem-sim decode`: text and JSON from one tree."""
        plain = self.protection == "plain"
        fields = [
            Field("transport", self.transport, ""),
            Field("peer", self.peer, ""),
            Field("link", self.link, ""),
            _address_field("source", self.source),
            _address_field("destination", self.destination),
            Field("protection", self.protection,
                  self.protection + (f" ({', '.join(self.security)})" if self.security else "")
                  + ("" if plain else ", deciphered" if self.deciphered else ", not deciphered")),
            Field("system-title", None if self.system_title is None else self.system_title.hex().upper(),
                  "" if plain else "unknown" if self.system_title is None else _title_text(self.system_title)),
            Field("invocation-counter", self.invocation_counter,
                  "" if self.invocation_counter is None
                  else f"{self.invocation_counter} (0x{self.invocation_counter:08X})"),
        ]
        invoke = self.invoke
        fields.append(Field("invoke-id", None if invoke is None else invoke.invoke_id,
                            "" if invoke is None else
                            f"{invoke.invoke_id}, {'confirmed' if invoke.confirmed else 'unconfirmed'}, "
                            f"priority {'high' if invoke.high_priority else 'normal'}"))
        fields.append(Field("date-time", None if self.date_time is None else str(self.date_time),
                            "" if not self.service else "absent" if self.date_time is None else str(self.date_time)))
        if self.attribute is not None:
            a = self.attribute
            fields.append(Field("attribute", {"class_id": a.class_id, "obis": str(a.instance_id),
                                              "attribute": a.attribute_id},
                                f"{a.instance_id} {_member_text(a.class_id, a.attribute_id)}"))
        if self.labels is not None and self.body is not None:
            fields.append(Field("push-setup", {"model": self.labels.model, "name": self.labels.name},
                                f"{self.labels.name} (model {self.labels.model})"))
            fields.append(Field("values", tuple(_value_field(e, v) for e, v in
                                                zip(self.labels.entries, self.body.value))))
        elif self.body is not None:
            fields.append(data_field("body", self.body))
        fields.append(Field("notes", tuple(Field("note", n) for n in self.notes)) if self.notes
                      else Field("notes", [], ""))
        fields.append(Field("replayed", self.replayed, ""))
        return Node(self.service or "notification", tuple(fields), self._summary())

    def _summary(self) -> str:
        way = f"wPort {self.source} to {self.destination}" if self.link == "wrapper" else "HDLC"
        return f"from {self.peer} over {self.transport}, {way}"


def _address_field(name: str, a: HDLCAddress | int) -> Field:
    if isinstance(a, int):
        return Field(name, {"wport": a}, f"wPort {a}")
    if a.physical is None:
        return Field(name, {"logical": a.logical}, f"HDLC address {a.logical}")
    return Field(name, {"logical": a.logical, "physical": a.physical},
                 f"HDLC logical (upper) {a.logical}, physical (lower) {a.physical}")


def _title_text(title: bytes) -> str:
    flag = title[:3]
    if len(title) == 8 and all(0x41 <= c <= 0x5A for c in flag):
        return f'{spaced_hex(title)} (manufacturer "{flag.decode()}")'
    return spaced_hex(title)


def _member_text(class_id: int, attribute: int) -> str:
    cls = get_class(class_id)
    if cls is None:
        return f"class {class_id} attribute {attribute}"
    if attribute == 0:
        return f"{cls.name}, the whole object"
    member = cls.attribute(attribute)
    return f"{cls.name} attribute {attribute}" + (f" {member.name}" if member is not None else "")


def _value_field(entry: PushedAttribute, value: Data) -> Field:
    member = _member_text(entry.class_id, entry.attribute)
    index = f", element {entry.data_index}" if entry.data_index else ""
    typed = data_field("value", value)
    name = f" ({entry.name})" if entry.name else ""
    return Field(f"{entry.logical_name} {member}{index}{name}", {
        "obis": str(entry.logical_name), "class_id": entry.class_id, "attribute": entry.attribute,
        "data_index": entry.data_index, "name": entry.name, "value": typed.value,
    }, typed.text)


@dataclass(frozen=True, slots=True)
class NotificationReceived:
    notification: ReceivedNotification


@dataclass(frozen=True, slots=True)
class ReceiveProblem:
    """Something received that is no notification, or could not be read; `fatal`: the stream
    is lost (its framing cannot be found again) and the connection should be closed."""

    transport: str
    peer: str
    message: str
    fatal: bool = False


Event = NotificationReceived | ReceiveProblem


@dataclass(slots=True)
class _Stream:
    """What one TCP connection has sent so far."""

    link: str = ""           # "" until the first octet, then "wrapper", "hdlc", or "lost"
    wrapper: WrapperReader | None = None
    hdlc: HDLCFrameReader | None = None
    skipped: int = 0         # noise octets already reported
    segments: dict[tuple[HDLCAddress, HDLCAddress], list[bytes]] = field(default_factory=dict)
    held: int = 0            # octets held in `segments`
    dropping: set[tuple[HDLCAddress, HDLCAddress]] = field(default_factory=set)  # too long: skip to its end
    unframed: int = 0        # wrapper octets received and not yet cut into a frame


class PushReceiver:
    """Notifications out of streams and datagrams; counters checked per sender system title.

    The keys are kept out of every message. `replays` counts the notifications whose counter
    was not above the sender's last one; `received` every notification.
    """

    def __init__(self, keys: CipherKeys | None = None, labels: PushLabels | None = None) -> None:
        self._keys = keys
        self._labels: PushLabels = labels or {}
        self._streams: dict[str, _Stream] = {}
        self._titles: dict[str, bytes] = {}      # peer -> the system title it last sent (for glo- APDUs)
        self._counters: dict[bytes, int] = {}    # system title -> last invocation counter
        self.replays = 0
        self.received = 0

    # -- TCP ------------------------------------------------------------------------------

    def stream_data(self, peer: str, data: bytes) -> list[Event]:
        s = self._streams.setdefault(peer, _Stream())
        if not data or s.link == "lost":
            return []
        if not s.link:
            if data[0] == _FLAG:
                s.link, s.hdlc = "hdlc", HDLCFrameReader()
            elif data[0] == 0x00:
                s.link, s.wrapper = "wrapper", WrapperReader()
            else:
                s.link = "lost"
                return [ReceiveProblem("tcp", peer, f"first octet {data[0]:02X} starts neither an HDLC frame (7E) "
                                                    "nor a wrapper frame (00 01): connection dropped", True)]
        if s.wrapper is not None:
            return self._wrapper_stream(peer, s, data)
        return self._hdlc_stream(peer, s, data)

    def stream_closed(self, peer: str) -> list[Event]:
        """The peer closed: a frame or APDU it left unfinished is reported."""
        s = self._streams.pop(peer, None)
        self._titles.pop(peer, None)
        if s is None:
            return []
        left = []
        if s.hdlc is not None and s.hdlc.has_partial:
            left.append("an unfinished HDLC frame")
        if s.segments:
            left.append(f"{len(s.segments)} unfinished segmented APDU(s)")
        if s.unframed:
            left.append(f"{s.unframed} octets of an unfinished wrapper frame")
        if not left:
            return []
        return [ReceiveProblem("tcp", peer, f"connection closed with {' and '.join(left)}: dropped")]

    def _wrapper_stream(self, peer: str, s: _Stream, data: bytes) -> list[Event]:
        assert s.wrapper is not None
        s.wrapper.receive_data(data)
        s.unframed += len(data)
        events: list[Event] = []
        while True:
            try:
                frame = s.wrapper.next_frame()
            except DecodeError as error:
                s.link, s.wrapper, s.unframed = "lost", None, 0
                events.append(ReceiveProblem("tcp", peer, f"wrapper stream lost: {error.reason}: connection dropped",
                                             True))
                return events
            if frame is None:
                return events
            s.unframed -= HEADER_SIZE + len(frame.apdu)
            events += self._apdu("tcp", peer, "wrapper", frame.source_wport, frame.destination_wport, frame.apdu)

    def _hdlc_stream(self, peer: str, s: _Stream, data: bytes) -> list[Event]:
        reader = s.hdlc
        assert reader is not None
        reader.receive_data(data)
        events: list[Event] = []
        while True:
            try:
                frame = reader.next_frame()
            except DecodeError as error:
                events.append(ReceiveProblem("tcp", peer, f"HDLC frame dropped: {error.reason}"))
                continue
            finally:
                if reader.skipped > s.skipped:
                    events.append(ReceiveProblem("tcp", peer, f"HDLC: {reader.skipped - s.skipped} octets of noise "
                                                              "skipped up to the next flag"))
                    s.skipped = reader.skipped
            if frame is None:
                return events
            if frame.kind not in (FrameKind.I, FrameKind.UI):
                events.append(ReceiveProblem("tcp", peer, f"HDLC {frame.kind.name} frame ignored: a push comes in "
                                                          "I or UI frames"))
                continue
            key = (frame.destination, frame.source)
            if key in s.dropping:  # the rest of an APDU dropped for its length
                if not frame.segmented:
                    s.dropping.discard(key)
                continue
            parts = s.segments.setdefault(key, [])
            parts.append(frame.information)
            s.held += len(frame.information)
            if s.held > MAX_APDU:
                s.held -= sum(len(p) for p in s.segments.pop(key))
                if frame.segmented:
                    s.dropping.add(key)
                events.append(ReceiveProblem("tcp", peer, f"HDLC segments from {_hdlc_text(frame.source)} exceed "
                                                          f"{MAX_APDU} octets: APDU dropped"))
                continue
            if frame.segmented:
                continue
            del s.segments[key]
            lsdu = b"".join(parts)
            s.held -= len(lsdu)
            notes: tuple[str, ...] = ()
            if lsdu[:3] in (LLC_REQUEST, LLC_RESPONSE):
                lsdu = lsdu[3:]
            else:
                notes = ("no LLC header (E6 E7 00) before the APDU",)
            events += self._apdu("tcp", peer, "hdlc", frame.source, frame.destination, lsdu, notes)

    # -- UDP ------------------------------------------------------------------------------

    def datagram(self, peer: str, data: bytes) -> list[Event]:
        """One UDP datagram: one wrapper frame."""
        try:
            frame = WrapperFrame.from_bytes(data)
        except DecodeError as error:
            return [ReceiveProblem("udp", peer, f"datagram of {len(data)} octets dropped: {error.reason}")]
        return self._apdu("udp", peer, "wrapper", frame.source_wport, frame.destination_wport, frame.apdu)

    # -- APDUs ----------------------------------------------------------------------------

    def _apdu(self, transport: str, peer: str, link: str, source: HDLCAddress | int,
              destination: HDLCAddress | int, apdu: bytes, notes: tuple[str, ...] = ()) -> list[Event]:
        try:
            return self._notification(transport, peer, link, source, destination, apdu, list(notes))
        except DecodeError as error:
            return [ReceiveProblem(transport, peer, f"APDU of {len(apdu)} octets from {_source_text(link, source)} "
                                                    f"cannot be decoded: {error}")]

    def _notification(self, transport: str, peer: str, link: str, source: HDLCAddress | int,
                      destination: HDLCAddress | int, apdu: bytes, notes: list[str]) -> list[Event]:
        if not apdu:
            raise DecodeError("empty APDU", 0)
        protection, title, counter = "plain", None, None
        security: tuple[str, ...] = ()
        plain: bytes | None = apdu
        replayed = False
        if is_ciphered_tag(apdu[0]):
            container = ciphered_apdu_from_bytes(apdu)
            protection = service_name(container)
            sc = SecurityControl.from_byte(container.security_control)
            security = tuple(w for w, on in (("authenticated", sc.authenticated), ("encrypted", sc.encrypted),
                                             ("broadcast key", sc.broadcast_key)) if on)
            counter = container.invocation_counter
            if isinstance(container, GeneralCiphering) and container.system_title:
                title = bytes(container.system_title)
                if transport == "tcp":  # forgotten when the connection closes
                    self._titles[peer] = title
            else:
                title = self._titles.get(peer)
                if title is not None:
                    notes.append("system title from this peer's earlier notification")
            plain, why = self._open(apdu, container, sc, title)
            if why:
                notes.append(why)
            if title is not None and (plain is not None or self._keys is None):
                replayed = self._check_counter(title, counter, notes)
        service, invoke, date_time, body, attribute = "", None, None, None, None
        if plain is not None:
            message, quirk = _read_notification(plain)
            if quirk:
                notes.append(quirk)
            if isinstance(message, DataNotification):
                invoke, date_time = message.invoke, message.date_time
                body = message.body if isinstance(message.body, Data) else None
            elif isinstance(message, EventNotificationRequest):
                date_time, attribute = message.time, message.descriptor
                body = message.value if isinstance(message.value, Data) else None
            else:
                return [ReceiveProblem(transport, peer, f"{service_name(message)} from {_source_text(link, source)} "
                                                        "is not a notification: ignored")]
            service = service_name(message)
        labels = None if body is None or attribute is not None else self._label(body, notes)
        self.received += 1
        return [NotificationReceived(ReceivedNotification(
            transport, peer, link, source, destination, protection, security, title, counter,
            plain is not None and protection != "plain", service, invoke, date_time, body, attribute, labels,
            tuple(notes), replayed))]

    def _open(self, apdu: bytes, container: CipheredAPDU | GeneralCiphering, sc: SecurityControl,
              title: bytes | None) -> tuple[bytes | None, str]:
        """The plaintext APDU, or None and why not."""
        if container.style.dedicated:
            return None, "not deciphered: ded- ciphering uses an association's dedicated key, a push has none"
        if not sc.encrypted and self._keys is None:
            body = container.payload[:-12] if sc.authenticated else container.payload
            return body, "in clear, authentication tag not verified (no keys given)"
        if self._keys is None:
            return None, "not deciphered: give --ek and --ak"
        if title is None:
            return None, "not deciphered: the sender's system title is unknown (a glo- APDU does not carry it)"
        keys = self._keys
        try:
            return decrypt_apdu(apdu, lambda _: keys, system_title=title).apdu, ""
        except SecurityError as error:
            return None, f"not deciphered: {error} (wrong keys, or the APDU was altered)"

    def _check_counter(self, title: bytes, counter: int, notes: list[str]) -> bool:
        last = self._counters.get(title)
        if last is not None and counter <= last:
            self.replays += 1
            notes.append(f"invocation counter {counter} from {title.hex().upper()} is not above the last one, "
                         f"{last}: replayed or reset")
            return True
        self._counters[title] = counter
        return False

    def _label(self, body: Data, notes: list[str]) -> PushObjectList | None:
        """The push object list this body follows: its first element names the Push setup.
        When models differ on a list of that length, the first is used and the note says so."""
        if body.type != DataType.STRUCTURE or not body.value:
            return None
        first = body.value[0]
        if first.type != DataType.OCTET_STRING or len(first.value) != 6:
            return None
        fitting = [c for c in self._labels.get(bytes(first.value), ()) if len(c.entries) == len(body.value)]
        if not fitting:
            return None
        others = sorted({c.model for c in fitting if c.entries != fitting[0].entries})
        if others:
            notes.append(f"values named after model {fitting[0].model}; the push setup of {', '.join(others)} "
                         "has as many values but lists others (give --model)")
        return fitting[0]


def _read_notification(plain: bytes) -> tuple[Any, str]:
    """The APDU decoded, and a note when a known date-time quirk had to be undone first."""
    try:
        return decode_apdu(plain), ""
    except DecodeError:
        for repaired, note in _repairs(plain):
            try:
                return decode_apdu(repaired), note
            except DecodeError:
                pass
        raise


def _repairs(plain: bytes) -> list[tuple[bytes, str]]:
    """What a notification whose date-time does not follow the Green Book may have meant.

    DataNotification's date-time is an OCTET STRING: length 00 or 0C, then the octets.
    EventNotificationRequest's is OPTIONAL: presence flag 00 or 01, then 0C and the octets.
    """
    tag, size = plain[:1], CosemDateTime.SIZE
    if tag == bytes((DataNotification.TAG,)) and len(plain) > 6 + size:
        if plain[5] == DataType.OCTET_STRING and plain[6] in (0, size):
            return [(plain[:5] + plain[6:], _DATE_TIME_QUIRK)]
        if plain[5] == 0x01:
            return [(plain[:5] + bytes((size,)) + plain[6:], _PRESENCE_FLAG_QUIRK)]
    if tag == bytes((EventNotificationRequest.TAG,)) and plain[1:3] == bytes((DataType.OCTET_STRING, size)):
        return [(plain[:1] + b"\x01" + plain[2:], _EVENT_TIME_QUIRK)]
    return []


def _hdlc_text(a: HDLCAddress) -> str:
    return f"HDLC address {a.logical}" + ("" if a.physical is None else f"/{a.physical}")


def _source_text(link: str, source: HDLCAddress | int) -> str:
    return f"wPort {source}" if isinstance(source, int) else _hdlc_text(source)
