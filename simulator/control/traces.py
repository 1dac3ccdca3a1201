"""The control plane's trace: the last frames of each meter, and a live stream of them.

While the control plane runs, every frame a meter receives or sends is kept in its ring (the
last 200, as they crossed the wire) and sent to the stream's subscribers. Keeping a frame costs
a tuple and a deque append in the hot path; frames are decoded only when somebody reads them:
`entries()` decodes a meter's ring in order, each subscriber's frames are decoded as they come
(only while somebody watches). Decoding and masking are runtime/trace.py's, so an entry shows
what `--trace` shows: the hex as it crossed (secrets as 2A, the FCS of a masked HDLC frame
recomputed), the APDU decoded as text, and the same as a JSON tree. Decoding a ring afresh
starts mid-conversation: an APDU ciphered with keys agreed in an AARQ no longer in the ring
shows as ciphered.

Memory is bounded: rings for the `max_meters` most recently active meters, and at most
`max_octets` of frames in all (the least recently active meters' rings go first).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..decode.tree import Decoded
from ..errors import DecodeError
from ..link.hdlc import FrameKind, HDLCFrame
from ..runtime.fleet import LiveMeter
from ..runtime.trace import HDLCTrace, Tracer

__all__ = ["TraceRings", "Subscription", "RING_SIZE", "serial_of"]

RING_SIZE = 200
_WRAPPER_HEADER = 8
_FLAG = 0x7E
_MASK = "2A"
_LINE_ADDRESSES = 100_000  # HDLC (line, address) pairs remembered; forgotten all at once beyond


@dataclass(frozen=True, slots=True)
class _Frame:
    """One frame as it crossed the wire (not masked: it is never shown as it is)."""

    seq: int
    at: float
    received: bool
    data: bytes
    transport: str
    peer: str
    local: str
    channel: tuple[int, str]  # the connection (a UDP endpoint serves many peers: with the peer)


@dataclass(slots=True, eq=False)
class _Ring:
    live: LiveMeter
    serial: str
    frames: deque[_Frame] = field(default_factory=lambda: deque(maxlen=RING_SIZE))
    octets: int = 0


def serial_of(live: LiveMeter) -> str:
    """The meter's serial number (its profile's `serial` field; its label when it has none)."""
    return str(live.meter.fields.get("serial", live.label))


class Subscription:
    """One reader of the live stream: a bounded queue of entries; when it is full (a slow
    reader), new entries are skipped and counted, never buffered."""

    def __init__(self, rings: TraceRings, serial: str | None, size: int) -> None:
        self.serial = serial
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(size)
        self.skipped = 0
        self._rings = rings

    def offer(self, entry: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.skipped += 1

    def end(self) -> None:
        """No more entries: the reader's `queue.get()` returns None (after what is queued)."""
        try:
            self.queue.put_nowait(None)
        except asyncio.QueueFull:
            self.queue.get_nowait()
            self.skipped += 1
            self.queue.put_nowait(None)

    def close(self) -> None:
        self._rings.unsubscribe(self)


class TraceRings:
    """The control plane's trace sink: implements the Observer's `frame`."""

    frames_wanted = True

    def __init__(self, max_meters: int = 10_000, max_octets: int = 64 << 20) -> None:
        self.max_meters = max_meters
        self.max_octets = max_octets
        self.octets = 0
        self._rings: OrderedDict[int, _Ring] = OrderedDict()  # by meter index, least recent first
        self._seq = 0
        self._subscribers: list[Subscription] = []
        self._live: _Decoder | None = None  # decodes for the subscribers, while there are any
        self._lines: dict[tuple[int, bytes], LiveMeter] = {}  # (HDLC line, meter's address) -> meter

    # -- the hot path
    def frame(self, live: LiveMeter | None, channel: object, received: bool, data: bytes, transport: str,
              peer: str, local: str) -> None:
        if transport[0] == "h":  # HDLC: a line may serve several meters, its frames say which
            live = self._line_meter(live, channel, received, data)
        if live is None:  # a frame no meter took (an unknown HDLC address): no ring to keep it in
            return
        self._seq += 1
        frame = _Frame(self._seq, time.time(), received, bytes(data), transport, peer, local, (id(channel), peer))
        rings = self._rings
        index = live.entry.index
        ring = rings.get(index)
        if ring is None:
            ring = rings[index] = _Ring(live, serial_of(live))
        else:
            rings.move_to_end(index)
        frames = ring.frames
        if len(frames) == RING_SIZE:
            dropped = len(frames[0].data)
            ring.octets -= dropped
            self.octets -= dropped
        frames.append(frame)
        ring.octets += len(frame.data)
        self.octets += len(frame.data)
        if len(rings) > self.max_meters or self.octets > self.max_octets:
            self._evict(index)
        if self._live is not None:
            wanted = [s for s in self._subscribers if s.serial is None or s.serial == ring.serial]
            if wanted:
                for entry in self._live.decode(ring, frame):
                    for subscription in wanted:
                        subscription.offer(entry)

    def _line_meter(self, live: LiveMeter | None, channel: object, received: bool, data: bytes) -> LiveMeter | None:
        """The meter of an HDLC frame: the runtime names it for frames received; an answer is
        the meter's whose address it comes from (the address a frame to the meter went to)."""
        addresses = _hdlc_addresses(data)
        if addresses is None:
            return live
        if received:
            if live is not None:
                if len(self._lines) >= _LINE_ADDRESSES:
                    self._lines.clear()
                self._lines[(id(channel), addresses[0])] = live
            return live
        return live or self._lines.get((id(channel), addresses[1]))

    def _evict(self, keep: int) -> None:
        """The least recently active meters' rings go; then, if one ring alone holds more than
        `max_octets`, its oldest frames."""
        rings = self._rings
        while len(rings) > 1 and (len(rings) > self.max_meters or self.octets > self.max_octets):
            index, ring = next(iter(rings.items()))
            if index == keep:
                break
            del rings[index]
            self.octets -= ring.octets
        ring = rings[keep]
        while self.octets > self.max_octets and len(ring.frames) > 1:
            dropped = len(ring.frames.popleft().data)
            ring.octets -= dropped
            self.octets -= dropped

    # -- readers
    def entries(self, index: int, limit: int = RING_SIZE) -> list[dict[str, Any]]:
        """The meter's last `limit` frames, oldest first, decoded (none when it has no ring)."""
        ring = self._rings.get(index)
        if ring is None:
            return []
        decoder = _Decoder()
        out = [entry for frame in list(ring.frames) for entry in decoder.decode(ring, frame)]
        out += decoder.held(ring)
        out.sort(key=lambda e: e["seq"])
        return out[-limit:] if limit > 0 else []

    def subscribe(self, serial: str | None, size: int = 256) -> Subscription:
        """A new reader of the live stream (only the meter with that serial number, if given)."""
        subscription = Subscription(self, serial, size)
        self._subscribers.append(subscription)
        if self._live is None:
            self._live = _Decoder()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)
        if not self._subscribers:
            self._live = None

    def end_streams(self) -> None:
        """The control plane stops: every stream ends."""
        for subscription in list(self._subscribers):
            subscription.end()
            self.unsubscribe(subscription)


class _Decoder(Tracer):
    """Frames in order -> entries, through runtime/trace.py's decode sessions and masking: the
    Tracer's records are taken as entries instead of being logged."""

    def __init__(self) -> None:
        super().__init__(True)
        self._channels: dict[tuple[int, str], tuple[object, HDLCTrace]] = {}
        self._held: dict[tuple[tuple[int, str], Hashable, bool], list[_Frame]] = {}  # HDLC segments awaiting their APDU's last
        self._out: list[dict[str, Any]] = []
        self._frames: list[_Frame] = []
        self._ring: _Ring | None = None

    def decode(self, ring: _Ring, frame: _Frame) -> list[dict[str, Any]]:
        self._out, self._ring = [], ring
        if frame.transport in ("tcp", "udp"):
            self._wrapper(ring, frame)
        else:
            self._hdlc(ring, frame)
        return self._out

    def held(self, ring: _Ring) -> list[dict[str, Any]]:
        """Segments whose APDU's last segment is not in the ring: shown masked whole."""
        out = []
        for frames in self._held.values():
            for frame in frames:
                out.append(self._entry(ring, frame, _MASK * len(frame.data), None, None, None, None,
                                       "an APDU's segment whose last segment is not here; its octets are "
                                       "shown as 2A: a secret may be among them"))
        self._held.clear()
        return out

    def _key(self, channel: tuple[int, str]) -> tuple[object, HDLCTrace]:
        """A stand-in object for a connection (the Tracer keys its sessions by object identity)."""
        known = self._channels.get(channel)
        if known is None:
            known = self._channels[channel] = (object(), HDLCTrace(self))
        return known

    def _wrapper(self, ring: _Ring, frame: _Frame) -> None:
        data, at = frame.data, 0
        while at < len(data):
            header = data[at:at + _WRAPPER_HEADER]
            length = int.from_bytes(header[6:8], "big") if len(header) == _WRAPPER_HEADER else -1
            if length < 0 or header[:2] != b"\x00\x01" or at + _WRAPPER_HEADER + length > len(data):
                self._out.append(self._entry(ring, frame, _MASK * (len(data) - at), None, None, None, None,
                                             "not a wrapper frame; its octets are shown as 2A: a secret may "
                                             "be among them"))
                return
            source, destination = int.from_bytes(header[2:4], "big"), int.from_bytes(header[4:6], "big")
            client, server = (source, destination) if frame.received else (destination, source)
            self._frames = [frame]
            apdu = data[at + _WRAPPER_HEADER:at + _WRAPPER_HEADER + length]
            self.wrapper(ring.live, self._key(frame.channel)[0], frame.received, client, server, apdu)
            at += _WRAPPER_HEADER + length

    def _hdlc(self, ring: _Ring, frame: _Frame) -> None:
        line = self._key(frame.channel)[1]
        for part in _split(frame.data):
            try:
                hdlc = HDLCFrame.from_bytes(part)
            except DecodeError as error:
                self._out.append(self._entry(ring, frame, _MASK * len(part), None, None, None, None,
                                             f"not an HDLC frame ({error.reason}); its octets are shown as "
                                             "2A: a secret may be among them"))
                continue
            client, server = (hdlc.source, hdlc.destination) if frame.received else \
                (hdlc.destination, hdlc.source)
            link: Hashable = (server.logical, server.physical, client.logical)
            carries = hdlc.kind in (FrameKind.I, FrameKind.UI) and bool(hdlc.information)
            if carries:
                key = (frame.channel, link, frame.received)
                held = self._held.setdefault(key, [])
                held.append(frame)
                self._frames = held if not hdlc.segmented else []
                if not hdlc.segmented:
                    del self._held[key]
            else:
                self._frames = [frame]
            if frame.received:
                line.received(ring.live, link, server.logical, client.logical, hdlc)
            else:
                line.sent(ring.live, link, server.logical, client.logical, part)

    def record(self, label: str, received: bool, client_sap: int, server_sap: int, heads: list[str],
               text: str | None, tree: Decoded | None = None) -> None:
        """A trace record: one entry per frame it shows (the last one carries the APDU)."""
        ring = self._ring
        assert ring is not None
        frames = self._frames[-len(heads):]
        for n, (head, frame) in enumerate(zip(heads, frames), 1):
            _, _, rest = head.partition(" ")
            shown, _, note = rest.partition(" ")
            last = n == len(heads)
            if not last:
                note = " ".join(p for p in (note, f"(segment {n} of {len(heads)}: the APDU is decoded with "
                                                  "its last segment)") if p)
            self._out.append(self._entry(ring, frame, shown, client_sap, server_sap,
                                         text if last else None, tree if last else None, note.strip("() ")))

    @staticmethod
    def _entry(ring: _Ring, frame: _Frame, shown: str, client_sap: int | None, server_sap: int | None,
               text: str | None, tree: Decoded | None, note: str | None) -> dict[str, Any]:
        return {
            "seq": frame.seq,
            "time": datetime.fromtimestamp(frame.at, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "serial": ring.serial, "meter": ring.live.label,
            "direction": "in" if frame.received else "out",
            "transport": frame.transport, "peer": frame.peer, "local": frame.local,
            "client_sap": client_sap, "server_sap": server_sap,
            "hex": shown, "note": note or None, "text": text,
            "tree": None if tree is None else tree.to_python(),
        }


def _split(data: bytes) -> Iterable[bytes]:
    """Whole HDLC frames written back to back (each with its flags, or sharing one); what does
    not frame is yielded whole, to be shown masked."""
    at = 0
    while at < len(data):
        if data[at] != _FLAG or at + 2 >= len(data):
            yield data[at:]
            return
        end = at + 1 + (((data[at + 1] & 0x07) << 8) | data[at + 2])
        if end >= len(data) or data[end] != _FLAG:
            yield data[at:]
            return
        yield data[at:end + 1]
        at = end + 1 if end + 1 < len(data) and data[end + 1] == _FLAG else end
        if at == end and end == len(data) - 1:
            return


def _hdlc_addresses(data: bytes) -> tuple[bytes, bytes] | None:
    """The destination and source address fields of an HDLC frame, as octets (an address ends
    with the octet whose lowest bit is 1); None when the frame is too short to hold them."""
    fields, at = [], 3  # after the opening flag and the two octets of the frame format
    for _ in range(2):
        end = at
        while end < len(data) and not data[end] & 1:
            end += 1
        if end >= len(data):
            return None
        fields.append(data[at:end + 1])
        at = end + 1
    return fields[0], fields[1]
