"""The control plane's trace: the last frames of each meter, and a live stream of them.

While the control plane runs, every frame a meter receives or sends is kept in its ring (the
last 200, as they crossed the wire: runtime/observe.py's `FrameRing`) and sent to the stream's
subscribers. A TCP wrapper connection keeps its frames in its meter's ring itself (`ring`);
other transports hand each frame to `frame`, which finds the ring. Keeping a frame costs one
tuple appended in the hot path: no copy, nothing decoded. Frames are decoded only when somebody
reads them: `entries()` decodes a meter's ring in order, each subscriber's frames are decoded as
they come (only while somebody watches). Decoding and masking are runtime/trace.py's (through
runtime/frame_trace.py, which `run --pcap` uses too), so an entry shows what `--trace` shows:
the hex as it crossed (secrets as 2A, the FCS of a masked HDLC frame recomputed), the APDU
decoded as text, and the same as a JSON tree. Decoding a ring afresh starts mid-conversation:
an APDU ciphered with keys agreed in an AARQ no longer in the ring shows as ciphered.

Memory is bounded: a ring holds at most 200 frames and RING_OCTETS; there are rings for at most
`max_meters` meters, and `sweep()` (the control plane runs it every second, and when a ring
beyond `max_meters` is made) lets the least recently active rings go until they hold at most
`max_octets` together and number at most 90 % of `max_meters` (so that a fleet contacted meter
after meter sweeps once per thousand meters, not at each). A ring a connection still holds is
never let go; if those alone hold too much, their oldest frames go.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

from ..runtime.frame_trace import FrameDecoder, LineMeters, ShownFrame, WireFrame
from ..runtime.observe import RING_SIZE, FrameRing, Kept, Link, ObservedMeter

__all__ = ["TraceRings", "Subscription", "RING_SIZE", "serial_of"]

_log = logging.getLogger(__name__)
_SWEPT_TO = 0.9  # of max_meters, when a sweep lets rings go for their number


def _wire_frame(kept: Kept) -> WireFrame:
    seq, at, received, data, (transport, peer, local, channel) = kept
    return WireFrame(seq, at, received, data, transport, peer, local, (channel, peer))


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
    """The control plane's trace sink: gives rings (`ring`) and implements the Observer's `frame`."""

    frames_wanted = True

    def __init__(self, max_meters: int = 10_000, max_octets: int = 64 << 20) -> None:
        self.max_meters = max_meters
        self.max_octets = max_octets
        self._rings: dict[int, FrameRing] = {}  # by meter index
        self._links: dict[int, Link] = {}  # by meter index: the link of the last frame `frame` kept
        self._subscribers: list[Subscription] = []
        self._live: FrameDecoder | None = None  # decodes for the subscribers, while there are any
        self._lines = LineMeters()

    @property
    def octets(self) -> int:
        """Octets of the frames every ring holds."""
        return sum(ring.held for ring in self._rings.values())

    # -- the hot path
    def ring(self, live: ObservedMeter) -> FrameRing:
        """The meter's ring, for a connection that keeps its frames itself (one more user)."""
        ring = self._ring(live)
        ring.users += 1
        return ring

    def frame(self, live: ObservedMeter | None, channel: object, received: bool, data: bytes, transport: str,
              peer: str, local: str) -> None:
        if transport[0] == "h":  # HDLC: a line may serve several meters, its frames say which
            live = self._lines.meter(live, channel, received, data)
        if live is None:  # a frame no meter took (an unknown HDLC address): no ring to keep it in
            return
        index = live.entry.index
        link = self._links.get(index)
        if link is None or link[3] != id(channel) or link[1] != peer:
            link = self._links[index] = (transport, peer, local, id(channel))
        self._ring(live).keep(link, received, data)

    def _ring(self, live: ObservedMeter) -> FrameRing:
        index = live.entry.index
        ring = self._rings.get(index)
        if ring is None:
            if len(self._rings) >= self.max_meters:
                self.sweep(room=True)
            ring = self._rings[index] = FrameRing(live, serial_of(live))
            ring.watch = self._watch if self._live is not None else None
        return ring

    def sweep(self, room: bool = False) -> None:
        """Let the least recently active rings go until the rest hold at most `max_octets` and,
        if they were more than `max_meters` (or `room` is wanted for a new one), number at most
        90 % of it. Neither the most recent ring nor one a connection holds goes: their oldest
        frames go instead, if need be."""
        rings = self._rings
        octets = self.octets
        count = int(self.max_meters * _SWEPT_TO) if room or len(rings) > self.max_meters else len(rings)
        if octets <= self.max_octets and len(rings) <= count:
            return
        by_age = sorted(rings.items(), key=lambda item: item[1].last)
        for index, ring in by_age[:-1]:
            if octets <= self.max_octets and len(rings) <= count:
                break
            if ring.users == 0:
                del rings[index]
                self._links.pop(index, None)
                octets -= ring.held
        for index, ring in by_age:
            if octets <= self.max_octets:
                break
            if index in rings:
                held = ring.held
                ring.trim(max(0, held - (octets - self.max_octets)))
                octets -= held - ring.held

    def _watch(self, ring: FrameRing, kept: Kept) -> None:
        """A frame kept while somebody watches the live stream: decoded for those who want it."""
        wanted = [s for s in self._subscribers if s.serial is None or s.serial == ring.serial]
        if not wanted or self._live is None:
            return
        frame = _wire_frame(kept)
        try:
            shown_frames = self._live.decode(ring.live, frame)
        except Exception:  # a decoder bug must not reach the transport that called
            _log.exception("trace: frame %d of %s could not be shown", frame.seq, ring.live.label)
            return
        for shown in shown_frames:
            entry = _entry(ring, shown)
            for subscription in wanted:
                subscription.offer(entry)

    # -- readers
    def entries(self, index: int, limit: int = RING_SIZE) -> list[dict[str, Any]]:
        """The meter's last `limit` frames, oldest first, decoded (none when it has no ring)."""
        ring = self._rings.get(index)
        if ring is None:
            return []
        decoder = FrameDecoder()
        shown = [s for kept in list(ring.frames) for s in decoder.decode(ring.live, _wire_frame(kept))]
        shown += decoder.held()
        shown.sort(key=lambda s: s.frame.seq)
        return [_entry(ring, s) for s in shown[-limit:]] if limit > 0 else []

    def subscribe(self, serial: str | None, size: int = 256) -> Subscription:
        """A new reader of the live stream (only the meter with that serial number, if given)."""
        subscription = Subscription(self, serial, size)
        self._subscribers.append(subscription)
        if self._live is None:
            self._live = FrameDecoder()
            for ring in self._rings.values():
                ring.watch = self._watch
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)
        if not self._subscribers and self._live is not None:
            self._live = None
            for ring in self._rings.values():
                ring.watch = None

    def end_streams(self) -> None:
        """The control plane stops: every stream ends."""
        for subscription in list(self._subscribers):
            subscription.end()
            self.unsubscribe(subscription)


def _entry(ring: FrameRing, shown: ShownFrame) -> dict[str, Any]:
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
