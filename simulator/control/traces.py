"""The control plane's trace: the last frames of each meter, and a live stream of them.

While the control plane runs, every frame a meter receives or sends is kept in its ring (its
last 200 exchanges and frames, as they crossed the wire) and sent to the stream's subscribers.
A TCP wrapper connection's frames come from the exchanges the plane hands over in batches
(`take`): the exchange tuple itself is kept, one item for a request and its answer, put in its
ring by C loops (map over the batch), nothing copied, counted or numbered per exchange; its
frames are made when read (wrapper headers from the SAPs, the number and time from the
perf_counter instants). Every other frame is handed to `frame` as it crosses (HDLC, UDP,
pushes, a wrapper connection's under a fault or streamed). A frame's number (`seq`) is the
microsecond of the perf_counter it crossed at: it orders frames across every ring, and needs no
counter; a ring is read in that order (a frame handed over may be kept before the exchanges of
the batch before it), and while somebody watches the stream the plane hands over the exchanges
kept before each frame first, so that the stream too sends them in order. Nothing is decoded until somebody reads:
`entries()` decodes a meter's ring in order, each subscriber's frames are decoded as they come
(only while somebody watches: the stream lags the wire by at most the plane's 100 ms batches).
Decoding and masking are runtime/trace.py's (through runtime/frame_trace.py, which `run --pcap`
uses too), so an entry shows what `--trace` shows: the hex as it crossed (secrets as 2A, the FCS
of a masked HDLC frame recomputed), the APDU decoded as text, and the same as a JSON tree.
Decoding a ring afresh starts mid-conversation: an APDU ciphered with keys agreed in an AARQ no
longer in the ring shows as ciphered.

Memory is bounded: a ring holds at most 200 items; there are rings for at most `max_meters`
meters, and `sweep()` (the control plane runs it every second, and when a ring beyond
`max_meters` is made) lets the least recently active rings go until they hold at most
`max_octets` together and number at most 90 % of `max_meters` (so that a fleet contacted meter
after meter sweeps once per thousand meters, not at each), and trims a ring beyond RING_OCTETS.
The octets taken are added up per batch (C again); only when they could pass a bound does the
sweep count each ring's own. The most recent ring is never let go; if it alone holds too much,
its oldest items go.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from datetime import datetime, timezone
from operator import attrgetter, itemgetter
from typing import Any, cast

from ..link.wrapper import WrapperFrame
from ..runtime.frame_trace import FrameDecoder, LineMeters, ShownFrame, WireFrame
from ..runtime.observe import Exchange, Link, ObservedMeter

__all__ = ["TraceRings", "FrameRing", "Subscription", "RING_SIZE", "RING_OCTETS", "serial_of"]

_log = logging.getLogger(__name__)
_SWEPT_TO = 0.9  # of max_meters, when a sweep lets rings go for their number
RING_SIZE = 200  # exchanges and frames a meter's ring keeps
RING_OCTETS = 1 << 20  # and at most this many octets of them, after a sweep
_WRAPPER_HEADER = 8
_BIG = RING_OCTETS // RING_SIZE  # an item this long may take a ring past RING_OCTETS
_BIG_PART = (_BIG - 2 * _WRAPPER_HEADER) // 2  # a request or answer no longer: its exchange is not _BIG
# A frame handed over: (perf_counter instant, received, octets as they crossed, link). A ring
# holds these and `Exchange` tuples (a TCP wrapper request with its answer).
Handed = tuple[float, bool, bytes, Link]
_live_of, _link_of, _request_of, _answer_of = itemgetter(0), itemgetter(1), itemgetter(6), itemgetter(7)
_index_of = attrgetter("entry.index")
_append = deque.append


class FrameRing(deque[Exchange | Handed]):
    """A meter's last exchanges and frames, oldest first (a deque: `take` appends in C)."""

    def __init__(self, live: ObservedMeter, serial: str) -> None:
        super().__init__((), RING_SIZE)
        self.live = live
        self.serial = serial

    @property
    def held(self) -> int:
        """Octets of its frames."""
        return sum(map(_octets, self))

    @property
    def last(self) -> float:
        """The perf_counter instant of its last item (0: none)."""
        return _instant(self[-1]) if self else 0.0

    def trim(self, octets: int) -> int:
        """Let the oldest items go until at most `octets` are held (the last stays); what is held."""
        held = self.held
        while held > octets and len(self) > 1:
            held -= _octets(self.popleft())
        return held


def _octets(item: Exchange | Handed) -> int:
    if len(item) == 4:
        return len(item[2])
    answer = item[7]
    return len(item[6]) + _WRAPPER_HEADER + (len(answer) + _WRAPPER_HEADER if answer is not None else 0)


def _instant(item: Exchange | Handed) -> float:
    return item[0] if len(item) == 4 else item[3]


def _seq(instant: float) -> int:
    return int(instant * 1_000_000)


def _wire_frames(item: Exchange | Handed, wall: float) -> list[WireFrame]:
    """The frames an item stands for; `wall`: time.time() minus time.perf_counter()."""
    if len(item) == 4:
        at, received, data, link = item
        frames = [(at, received, data)]
    else:
        _, linked, started, ended, server_sap, client_sap, request, answer = item
        assert linked is not None  # (only a TCP wrapper exchange, which has its link, is kept)
        link = linked
        frames = [(started, True, WrapperFrame(client_sap, server_sap, request).to_bytes())]
        if answer is not None:
            frames.append((ended, False, WrapperFrame(server_sap, client_sap, answer).to_bytes()))
    transport, peer, local, channel = link
    return [WireFrame(_seq(at), at + wall, received, data, transport, peer, local, (channel, peer))
            for at, received, data in frames]


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
    """The control plane's trace sink: keeps exchanges (`take`) and implements the Observer's `frame`."""

    frames_wanted = True

    def __init__(self, max_meters: int = 10_000, max_octets: int = 64 << 20) -> None:
        self.max_meters = max_meters
        self.max_octets = max_octets
        self._rings: dict[int, FrameRing] = {}  # by meter index
        self._links: dict[int, Link] = {}  # by meter index: the link of the last frame `frame` kept
        self._subscribers: list[Subscription] = []
        self._live: FrameDecoder | None = None  # decodes for the subscribers, while there are any
        self._lines = LineMeters()
        self._taken = 0  # octets taken since the rings were last counted (a bound on their growth)
        self._counted = 0  # octets the rings held when last counted
        self._big: set[int] = set()  # meters whose ring took an item over _BIG octets since it was trimmed

    @property
    def octets(self) -> int:
        """Octets of the frames every ring holds."""
        return sum(ring.held for ring in self._rings.values())

    @property
    def watched(self) -> bool:
        """Somebody reads the live stream."""
        return self._live is not None

    def take(self, exchanges: list[Exchange]) -> None:
        """Keep the TCP wrapper exchanges among `exchanges` (those with a link) in their rings."""
        linked = list(filter(_link_of, exchanges))
        if not linked:
            return
        known = list(map(self._rings.get, map(_index_of, map(_live_of, linked))))
        found = cast(list[FrameRing], known) if None not in known else [
            ring if ring is not None else self._ring(exchange[0]) for ring, exchange in zip(known, linked)]
        deque(map(_append, found, linked), maxlen=0)
        sizes = list(map(len, map(_request_of, linked))) + list(map(len, filter(None, map(_answer_of, linked))))
        self._taken += sum(sizes)
        if max(sizes) > _BIG_PART:  # (else no exchange, request and answer with their headers, passes _BIG)
            self._big.update(ring.live.entry.index for ring, exchange in zip(found, linked) if _octets(exchange) > _BIG)
        if self._live is not None:
            wall = time.time() - time.perf_counter()
            for ring, exchange in zip(found, linked):
                self._watch(ring, exchange, wall)

    def frame(self, live: ObservedMeter | None, channel: object, received: bool, data: bytes, transport: str,
              peer: str, local: str) -> None:
        """A frame handed over as it crossed (after the exchanges kept before it were taken)."""
        if transport[0] == "h":  # HDLC: a line may serve several meters, its frames say which
            live = self._lines.meter(live, channel, received, data)
        if live is None:  # a frame no meter took (an unknown HDLC address): no ring to keep it in
            return
        index = live.entry.index
        link = self._links.get(index)
        if link is None or link[3] != id(channel) or link[1] != peer:
            link = self._links[index] = (transport, peer, local, id(channel))
        ring = self._ring(live)
        handed: Handed = (time.perf_counter(), received, data, link)
        ring.append(handed)
        self._taken += len(data)
        if len(data) > _BIG:
            self._big.add(index)
        if self._live is not None:
            self._watch(ring, handed, time.time() - time.perf_counter())

    def _ring(self, live: ObservedMeter) -> FrameRing:
        index = live.entry.index
        ring = self._rings.get(index)
        if ring is None:
            if len(self._rings) >= self.max_meters:
                self.sweep(room=True)
            ring = self._rings[index] = FrameRing(live, serial_of(live))
        return ring

    def sweep(self, room: bool = False) -> None:
        """Trim the rings that took a big frame to RING_OCTETS; let the least recently active
        rings go until the rest hold at most `max_octets` and, if they were more than
        `max_meters` (or `room` is wanted for a new one), number at most 90 % of it. The most
        recent ring does not go: its oldest items go instead, if need be. Rings are counted
        only when what was taken since they were last counted could have passed `max_octets`."""
        rings = self._rings
        for index in list(self._big):
            ring = rings.get(index)
            if ring is not None:
                ring.trim(RING_OCTETS)
            if ring is None or max(map(_octets, ring), default=0) <= _BIG:
                self._big.discard(index)
        count = int(self.max_meters * _SWEPT_TO) if room or len(rings) > self.max_meters else len(rings)
        if len(rings) <= count and self._counted + self._taken <= self.max_octets:
            return
        held = {index: ring.held for index, ring in rings.items()}
        octets = sum(held.values())
        if octets > self.max_octets or len(rings) > count:
            by_age = sorted(rings.items(), key=lambda item: item[1].last)
            for index, ring in by_age[:-1]:
                if octets <= self.max_octets and len(rings) <= count:
                    break
                del rings[index]
                self._links.pop(index, None)
                octets -= held.pop(index)
            for index, ring in by_age:
                if octets <= self.max_octets:
                    break
                if index in rings:
                    kept = ring.trim(max(0, held[index] - (octets - self.max_octets)))
                    octets -= held[index] - kept
        self._counted, self._taken = octets, 0

    def _watch(self, ring: FrameRing, item: Exchange | Handed, wall: float) -> None:
        """An item kept while somebody watches the live stream: its frames decoded for those who want
        them (`wall`: time.time() minus time.perf_counter())."""
        wanted = [s for s in self._subscribers if s.serial is None or s.serial == ring.serial]
        if not wanted or self._live is None:
            return
        for frame in _wire_frames(item, wall):
            try:
                shown_frames = self._live.decode(ring.live, frame)
            except Exception:  # a decoder bug must not reach the caller
                _log.exception("trace: frame %d of %s could not be shown", frame.seq, ring.live.label)
                continue
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
        decoder, wall = FrameDecoder(), time.time() - time.perf_counter()
        items = sorted(ring, key=_instant)
        shown = [s for item in items for frame in _wire_frames(item, wall) for s in decoder.decode(ring.live, frame)]
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
