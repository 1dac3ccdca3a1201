"""Whole frames as they crossed the wire, shown as `--trace` shows them: the control plane's trace
and `run --pcap` read the Observer's frames through this.

`FrameDecoder` takes frames in the order they crossed (a wrapper frame with its header, an HDLC
frame whole, a UDP datagram) and gives, for each, its octets with the secrets masked (2A each,
the FCS of a masked HDLC frame recomputed) and the APDU it completes decoded as text and as a
tree. It is runtime/trace.py's Tracer with its records taken instead of logged, so what is
masked is exactly what `--trace` masks. The segments of an HDLC APDU come out together when its
last one has crossed; octets that do not frame are masked whole.

`LineMeters` tells which meter an HDLC frame belongs to when the runtime does not (an answer on
a line several meters share): the meter the frames to that address went to.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from ..decode.confidential import MASK_BYTE
from ..decode.tree import Decoded
from ..errors import DecodeError
from ..link.hdlc import FrameKind, HDLCFrame
from .observe import ObservedMeter
from .trace import HDLCTrace, TracedMeter, Tracer

__all__ = ["WireFrame", "ShownFrame", "FrameDecoder", "LineMeters", "hdlc_addresses"]

_WRAPPER_HEADER = 8
_FLAG = 0x7E
_CHANNELS = 4096  # connections whose decode sessions are kept (the least recent forgotten)
_LINE_ADDRESSES = 100_000  # HDLC (line, address) pairs remembered; forgotten all at once beyond


@dataclass(slots=True)
class WireFrame:
    """One frame as it crossed (not masked: never shown as it is). `channel` names the
    connection, `seq` orders frames, `at` is wall-clock seconds. Not frozen: made in the hot
    path, where a frozen dataclass's __init__ costs three times as much."""

    seq: int
    at: float
    received: bool
    data: bytes
    transport: str
    peer: str
    local: str
    channel: Hashable


@dataclass(frozen=True, slots=True)
class ShownFrame:
    """A frame as the trace shows it: `shown` its octets with secrets masked."""

    frame: WireFrame
    shown: bytes
    client_sap: int | None = None
    server_sap: int | None = None
    text: str | None = None
    tree: Decoded | None = None
    note: str | None = None


class FrameDecoder(Tracer):
    """Frames in order -> ShownFrames, through the Tracer's decode sessions and masking."""

    def __init__(self) -> None:
        super().__init__(True)
        self._channels: OrderedDict[Hashable, tuple[object, HDLCTrace]] = OrderedDict()
        self._held: dict[tuple[Hashable, Hashable, bool], list[WireFrame]] = {}  # segments before their last
        self._out: list[ShownFrame] = []
        self._frames: list[WireFrame] = []

    def decode(self, meter: TracedMeter, frame: WireFrame) -> list[ShownFrame]:
        """What the frame shows now: itself, or with the segments it completes; none while it is
        a segment awaiting the last one."""
        self._out = []
        if frame.transport in ("tcp", "udp"):
            self._wrapper(meter, frame)
        else:
            self._hdlc(meter, frame)
        return self._out

    def held(self) -> list[ShownFrame]:
        """Segments whose APDU's last segment never came, masked whole; they are let go."""
        out = [ShownFrame(frame, _masked(frame.data), note="an APDU's segment without its last segment; its "
                          "octets are shown as 2A: a secret may be among them")
               for frames in self._held.values() for frame in frames]
        self._held.clear()
        return out

    def _key(self, channel: Hashable) -> tuple[object, HDLCTrace]:
        """A stand-in object for a connection (the Tracer keys its sessions by object identity)."""
        known = self._channels.get(channel)
        if known is None:
            known = self._channels[channel] = (object(), HDLCTrace(self))
            if len(self._channels) > _CHANNELS:
                _, (stand_in, line) = self._channels.popitem(last=False)
                self.forget(stand_in)
                line.close()
        else:
            self._channels.move_to_end(channel)
        return known

    def _wrapper(self, meter: TracedMeter, frame: WireFrame) -> None:
        data, at = frame.data, 0
        while at < len(data):
            header = data[at:at + _WRAPPER_HEADER]
            length = int.from_bytes(header[6:8], "big") if len(header) == _WRAPPER_HEADER else -1
            if length < 0 or header[:2] != b"\x00\x01" or at + _WRAPPER_HEADER + length > len(data):
                self._out.append(ShownFrame(frame, _masked(data[at:]), note="not a wrapper frame; its octets "
                                            "are shown as 2A: a secret may be among them"))
                return
            source, destination = int.from_bytes(header[2:4], "big"), int.from_bytes(header[4:6], "big")
            client, server = (source, destination) if frame.received else (destination, source)
            self._frames = [frame]
            apdu = data[at + _WRAPPER_HEADER:at + _WRAPPER_HEADER + length]
            self.wrapper(meter, self._key(frame.channel)[0], frame.received, client, server, apdu)
            at += _WRAPPER_HEADER + length

    def _hdlc(self, meter: TracedMeter, frame: WireFrame) -> None:
        line = self._key(frame.channel)[1]
        for part in _split(frame.data):
            try:
                hdlc = HDLCFrame.from_bytes(part)
            except DecodeError as error:
                self._out.append(ShownFrame(frame, _masked(part), note=f"not an HDLC frame ({error.reason}); its "
                                            "octets are shown as 2A: a secret may be among them"))
                continue
            client, server = (hdlc.source, hdlc.destination) if frame.received else (hdlc.destination, hdlc.source)
            link: Hashable = (server.logical, server.physical, client.logical)
            if hdlc.kind in (FrameKind.I, FrameKind.UI) and hdlc.information:
                key = (frame.channel, link, frame.received)
                held = self._held.setdefault(key, [])
                held.append(frame)
                self._frames = [] if hdlc.segmented else self._held.pop(key)
            else:
                self._frames = [frame]
            if frame.received:
                line.received(meter, link, server.logical, client.logical, hdlc)
            else:
                line.sent(meter, link, server.logical, client.logical, part)

    def record(self, label: str, received: bool, client_sap: int, server_sap: int, heads: list[str],
               text: str | None, tree: Decoded | None = None) -> None:
        """A Tracer record: one ShownFrame per frame it shows (the last one carries the APDU)."""
        frames = self._frames[-len(heads):]
        for n, (head, frame) in enumerate(zip(heads, frames), 1):
            _, _, rest = head.partition(" ")  # "wrapper HEX (note)" | "HDLC HEX (note)"
            shown, _, note = rest.partition(" ")
            note = note.strip("() ")
            last = n == len(heads)
            if not last:
                note = "; ".join(p for p in (note, f"segment {n} of {len(heads)}: the APDU is decoded with its "
                                                   "last segment") if p)
            self._out.append(ShownFrame(frame, bytes.fromhex(shown), client_sap, server_sap,
                                        text if last else None, tree if last else None, note or None))


class LineMeters:
    """The meter of each HDLC frame on a line several meters may share."""

    def __init__(self) -> None:
        self._meters: dict[tuple[int, bytes], ObservedMeter] = {}  # (line, meter's address field) -> meter

    def meter(self, live: ObservedMeter | None, channel: object, received: bool, data: bytes) -> ObservedMeter | None:
        """The runtime names the meter of frames received; an answer is the meter's whose address
        it comes from (the address frames to that meter went to)."""
        addresses = hdlc_addresses(data)
        if addresses is None:
            return live
        if received:
            if live is not None:
                if len(self._meters) >= _LINE_ADDRESSES:
                    self._meters.clear()
                self._meters[(id(channel), addresses[0])] = live
            return live
        return live or self._meters.get((id(channel), addresses[1]))


def hdlc_addresses(data: bytes) -> tuple[bytes, bytes] | None:
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


def _masked(data: bytes) -> bytes:
    return bytes((MASK_BYTE,)) * len(data)


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
        if end == len(data) - 1:
            return
        at = end + 1 if data[end + 1] == _FLAG else end
