"""The control plane's trace: the last frames of each meter, and a live stream of them.

While the control plane runs, every frame a meter receives or sends is kept in its ring (the
last 200, as they crossed the wire) and sent to the stream's subscribers. Keeping a frame costs
one bytes object (a small header and the frame's octets) and two deque appends in the hot path:
nothing the garbage collector visits, so thousands of full rings do not slow its collections,
and the least memory a frame can take as a Python object (a busy fleet's rings are many
megabytes: every octet they take is cache the meters' own work no longer has). Frames are decoded only when somebody
reads them: `entries()` decodes a meter's ring in order, each subscriber's frames are decoded as
they come (only while somebody watches). Decoding and masking are runtime/trace.py's (through
runtime/frame_trace.py, which `run --pcap` uses too), so an entry shows what `--trace` shows:
the hex as it crossed (secrets as 2A, the FCS of a masked HDLC frame recomputed), the APDU
decoded as text, and the same as a JSON tree. Decoding a ring afresh starts mid-conversation:
an APDU ciphered with keys agreed in an AARQ no longer in the ring shows as ciphered.

Memory is bounded: rings for the `max_meters` most recently active meters, and at most
`max_octets` of frames in all (the least recently active meters' rings go first). A ring is moved
to the recent end only when as many frames as fill every ring crossed since it last moved: which
ring is least recent is known to within that, and a busy fleet's frames do not each reorder the
rings, touching memory no other work needs.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final

from ..runtime.frame_trace import FrameDecoder, LineMeters, ShownFrame, WireFrame
from ..runtime.observe import ObservedMeter

__all__ = ["TraceRings", "Subscription", "RING_SIZE", "serial_of"]

RING_SIZE = 200
_log = logging.getLogger(__name__)


# A kept frame is one bytes object: this header (the frame's number, wall time, received) and
# the frame's octets. Its connection, (transport, peer, local, id(channel)), is kept beside it:
# one tuple shared by the frames of a connection.
_HEAD = struct.Struct("<Qd?")
_HEAD_SIZE: Final = _HEAD.size
_Link = tuple[str, str, str, int]


@dataclass(slots=True, eq=False)
class _Ring:
    live: ObservedMeter
    serial: str
    frames: deque[bytes] = field(default_factory=lambda: deque(maxlen=RING_SIZE))
    links: deque[_Link] = field(default_factory=lambda: deque(maxlen=RING_SIZE))
    link: _Link | None = None  # the connection of the last frame kept
    octets: int = 0
    moved: int = 0  # the frame number when the ring last moved to the most recent end


def _wire_frame(kept: bytes, link: _Link) -> WireFrame:
    seq, at, received = _HEAD.unpack_from(kept)
    transport, peer, local, channel = link
    return WireFrame(seq, at, received, kept[_HEAD_SIZE:], transport, peer, local, (channel, peer))


def serial_of(live: ObservedMeter) -> str:
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
        self._live: FrameDecoder | None = None  # decodes for the subscribers, while there are any
        self._lines = LineMeters()

    # -- the hot path
    def frame(self, live: ObservedMeter | None, channel: object, received: bool, data: bytes, transport: str,
              peer: str, local: str) -> None:
        if transport[0] == "h":  # HDLC: a line may serve several meters, its frames say which
            live = self._lines.meter(live, channel, received, data)
        if live is None:  # a frame no meter took (an unknown HDLC address): no ring to keep it in
            return
        self._seq += 1
        kept = _HEAD.pack(self._seq, time.time(), received) + data
        rings = self._rings
        index = live.entry.index
        ring = rings.get(index)
        if ring is None:
            ring = rings[index] = _Ring(live, serial_of(live), moved=self._seq)
        elif self._seq - ring.moved > RING_SIZE * len(rings):  # (see the module's docstring)
            rings.move_to_end(index)
            ring.moved = self._seq
        link = ring.link
        if link is None or link[3] != id(channel) or link[1] != peer:
            link = ring.link = (transport, peer, local, id(channel))
        frames = ring.frames
        octets = len(data)
        if len(frames) == RING_SIZE:
            octets -= len(frames[0]) - _HEAD_SIZE
        frames.append(kept)
        ring.links.append(link)
        ring.octets += octets
        self.octets += octets
        if len(rings) > self.max_meters or self.octets > self.max_octets:
            self._evict(index)
        if self._live is not None:
            wanted = [s for s in self._subscribers if s.serial is None or s.serial == ring.serial]
            if wanted:
                frame = _wire_frame(kept, link)
                try:
                    shown_frames = self._live.decode(ring.live, frame)
                except Exception:  # a decoder bug must not reach the transport that called
                    _log.exception("trace: frame %d of %s could not be shown", frame.seq, ring.live.label)
                    return
                for shown in shown_frames:
                    entry = _entry(ring, shown)
                    for subscription in wanted:
                        subscription.offer(entry)

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
            dropped = len(ring.frames.popleft()) - _HEAD_SIZE
            ring.links.popleft()
            ring.octets -= dropped
            self.octets -= dropped

    # -- readers
    def entries(self, index: int, limit: int = RING_SIZE) -> list[dict[str, Any]]:
        """The meter's last `limit` frames, oldest first, decoded (none when it has no ring)."""
        ring = self._rings.get(index)
        if ring is None:
            return []
        decoder = FrameDecoder()
        shown = [s for kept, link in list(zip(ring.frames, ring.links))
                 for s in decoder.decode(ring.live, _wire_frame(kept, link))]
        shown += decoder.held()
        shown.sort(key=lambda s: s.frame.seq)
        return [_entry(ring, s) for s in shown[-limit:]] if limit > 0 else []

    def subscribe(self, serial: str | None, size: int = 256) -> Subscription:
        """A new reader of the live stream (only the meter with that serial number, if given)."""
        subscription = Subscription(self, serial, size)
        self._subscribers.append(subscription)
        if self._live is None:
            self._live = FrameDecoder()
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


def _entry(ring: _Ring, shown: ShownFrame) -> dict[str, Any]:
    frame = shown.frame
    return {
        "seq": frame.seq,
        "time": datetime.fromtimestamp(frame.at, timezone.utc).isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "serial": ring.serial, "meter": ring.live.label,
        "direction": "in" if frame.received else "out",
        "transport": frame.transport, "peer": frame.peer, "local": frame.local,
        "client_sap": shown.client_sap, "server_sap": shown.server_sap,
        "hex": shown.shown.hex().upper(), "note": shown.note, "text": shown.text,
        "tree": None if shown.tree is None else shown.tree.to_python(),
    }
