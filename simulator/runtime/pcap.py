"""`run --pcap FILE`: every frame the meters receive and send, as a capture Wireshark opens.

The file is a classic pcap (microsecond timestamps) of link type LINKTYPE_RAW (101): each record
is an IP packet (IPv4, or IPv6 for IPv6 peers) whose headers are synthesised from the addresses
the frame really crossed, the peer's and the meter's:

    TCP wrapper, HDLC over TCP   IP + TCP (flags PSH ACK); each connection opens with a
                                 three-way handshake from the side that spoke first (the client,
                                 or the meter for a push), and each direction's sequence numbers
                                 count the octets it sent, so Wireshark reassembles the stream
    UDP wrapper                  IP + UDP, one datagram per frame, as on the wire
    HDLC over serial             IP + UDP, one HDLC frame per datagram: serial line n (in the
                                 order lines first carry a frame) is 127.1.0.n port 4061 (the
                                 head-end's end) <-> 127.2.0.n port 4059 (the meter), so a DLMS
                                 dissector that reads HDLC on the DLMS port finds it there
    a push                       on the connection the meter opened to the head-end (TCP, its
                                 handshake from the meter) or the datagram it sent (UDP)

A frame is what crossed the wire (a wrapper frame with its header, an HDLC frame whole) with
the secrets `--trace` hides masked the same way (runtime/frame_trace.py): an LLS password or an
HLS proof shows as 2A octets, the FCS of a masked HDLC frame recomputed, so the capture still
dissects; ciphered APDUs stay ciphered. The segments of an HDLC APDU are written when its last
one has crossed. Checksums are computed, so a Wireshark that validates them finds none wrong.
"""

from __future__ import annotations

import array
import asyncio
import ipaddress
import logging
import struct
import sys
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..decode.confidential import MASK_BYTE
from .frame_trace import FrameDecoder, LineMeters, ShownFrame, WireFrame
from .observe import Exchange, ObservedMeter, Observer

__all__ = ["LINKTYPE_RAW", "Capture", "PcapWriter"]

_log = logging.getLogger(__name__)

LINKTYPE_RAW = 101
_MAGIC = 0xA1B2C3D4  # microsecond timestamps
_SNAPLEN = 0x40000
_TCP, _UDP = 6, 17
_SYN, _ACK, _PSH = 0x02, 0x10, 0x08
_SEGMENT = 65_000  # payload octets per packet: an IP packet holds at most 65535
_FLOWS = 65_536  # TCP connections whose sequence numbers are remembered (the least recent forgotten)
_SERIAL_HEAD_END, _SERIAL_METER = ("127.1.0.", 4061), ("127.2.0.", 4059)

Address = tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]


class PcapWriter:
    """Turns frames into pcap records (bytes, no I/O): the file's header, then packets."""

    def __init__(self) -> None:
        self._flows: OrderedDict[tuple[Address, Address], list[int]] = OrderedDict()  # [next seq a->b, b->a]
        self._serial_lines: dict[str, int] = {}
        self._ident = 0

    @staticmethod
    def header() -> bytes:
        return struct.pack("<IHHiIII", _MAGIC, 2, 4, 0, 0, _SNAPLEN, LINKTYPE_RAW)

    def frame(self, received: bool, data: bytes, transport: str, peer: str, local: str, now: float) -> bytes:
        """The records of one frame; `now` is wall-clock seconds (the record's timestamp)."""
        head_end: Address
        meter: Address
        if transport == "hdlc-serial":
            line = self._serial_lines.get(local)
            fresh = line is None
            if line is None:
                line = self._serial_lines[local] = len(self._serial_lines) + 1
            head_end = (ipaddress.IPv4Address(f"{_SERIAL_HEAD_END[0]}{line}"), _SERIAL_HEAD_END[1])
            meter = (ipaddress.IPv4Address(f"{_SERIAL_METER[0]}{line}"), _SERIAL_METER[1])
            if fresh:
                _log.info("pcap: serial line %s is written as UDP between %s:%d and %s:%d", local,
                          head_end[0], head_end[1], meter[0], meter[1])
        else:
            head_end, meter = parse_address(peer), parse_address(local)
        source, destination = (head_end, meter) if received else (meter, head_end)
        if transport in ("tcp", "hdlc-tcp"):
            return self._tcp(source, destination, data, now)
        return b"".join(self._record(now, self._ip(source, destination, _UDP, _udp(source, destination, chunk)))
                        for chunk in _chunks(data))

    def _tcp(self, source: Address, destination: Address, data: bytes, now: float) -> bytes:
        out = []
        forward = (destination, source) not in self._flows  # the flow is keyed by the side that opened it
        key = (source, destination) if forward else (destination, source)
        flow = self._flows.get(key)
        if flow is None:  # the first frame: its sender opened the connection
            flow = self._flows[key] = [_isn(source, destination), _isn(destination, source)]
            a, b = flow
            for src, dst, seq, ack, flags in ((source, destination, a, 0, _SYN),
                                              (destination, source, b, a + 1, _SYN | _ACK),
                                              (source, destination, a + 1, b + 1, _ACK)):
                out.append(self._record(now, self._ip(src, dst, _TCP, _tcp(src, dst, seq, ack, flags, b""))))
            flow[0], flow[1] = (a + 1) & 0xFFFFFFFF, (b + 1) & 0xFFFFFFFF
            if len(self._flows) > _FLOWS:
                self._flows.popitem(last=False)
        self._flows.move_to_end(key)
        mine, theirs = (0, 1) if forward else (1, 0)
        for chunk in _chunks(data):
            seq = flow[mine]
            segment = _tcp(source, destination, seq, flow[theirs], _PSH | _ACK, chunk)
            out.append(self._record(now, self._ip(source, destination, _TCP, segment)))
            flow[mine] = (seq + len(chunk)) & 0xFFFFFFFF
        return b"".join(out)

    def _ip(self, source: Address, destination: Address, protocol: int, payload: bytes) -> bytes:
        src, dst = source[0], destination[0]
        if src.version == 6 or dst.version == 6:
            return struct.pack("!IHBB", 6 << 28, len(payload), protocol, 64) + _v6(src).packed + \
                _v6(dst).packed + payload
        self._ident = (self._ident + 1) & 0xFFFF
        head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), self._ident, 0x4000, 64, protocol, 0,
                           src.packed, dst.packed)
        return head[:10] + struct.pack("!H", checksum(head)) + head[12:] + payload

    @staticmethod
    def _record(now: float, packet: bytes) -> bytes:
        seconds = int(now)
        return struct.pack("<IIII", seconds, int((now - seconds) * 1e6), len(packet), len(packet)) + packet


class Capture:
    """The engine's observer while `--pcap` runs: writes every frame (masked), passes every call on to
    the observer it stands in front of (the control plane, when one runs). A service of
    `Engine.run`: `stop()` flushes and closes the file."""

    frames_wanted = True
    takes_wrapper_frames = False  # every frame is handed to `frame`, to be written (and passed on)

    def __init__(self, path: Path, then: Observer | None = None) -> None:
        self.path = path
        self.then = then
        self._file: BinaryIO | None = open(path, "wb")  # noqa: SIM115 (closed by stop)
        self._writer = PcapWriter()
        self._decoder = FrameDecoder()
        self._lines = LineMeters()
        self._seq = 0
        self._file.write(self._writer.header())
        self._file.flush()
        self._flush_due = False

    async def start(self) -> None:
        _log.info("pcap: writing every frame to %s", self.path)

    async def stop(self) -> None:
        if self._file is not None:
            self._write(self._decoder.held(), time.time())
            file, self._file = self._file, None
            file.close()

    def frame(self, live: ObservedMeter | None, channel: object, received: bool, data: bytes, transport: str,
              peer: str, local: str) -> None:
        if self._file is not None:
            if transport[0] == "h":  # HDLC: a line may serve several meters, its frames say which
                live = self._lines.meter(live, channel, received, data)
            self._seq += 1
            now = time.time()
            wire = WireFrame(self._seq, now, received, bytes(data), transport, peer, local, (id(channel), peer))
            shown = [ShownFrame(wire, bytes((MASK_BYTE,)) * len(data))]  # no meter's keys to read it by
            if live is not None:
                try:
                    shown = self._decoder.decode(live, wire)
                except Exception:  # a decoder bug must not reach the transport that called
                    _log.exception("pcap: frame %d could not be masked; written as 2A octets", self._seq)
            self._write(shown, now)
            if not self._flush_due:  # written out within a second, so a reader sees it
                self._flush_due = True
                _call_later(1.0, self._flush)
        then = self.then
        if then is not None and then.frames_wanted:
            then.frame(live, channel, received, data, transport, peer, local)

    def _write(self, frames: list[ShownFrame], now: float) -> None:
        assert self._file is not None
        for shown in frames:
            wire = shown.frame
            self._file.write(self._writer.frame(wire.received, shown.shown, wire.transport, wire.peer, wire.local,
                                                now))

    def _flush(self) -> None:
        self._flush_due = False
        if self._file is not None:
            self._file.flush()

    @property
    def exchanges(self) -> list[Exchange] | None:
        """The observer's behind, which the exchanges are appended to directly."""
        return self.then.exchanges if self.then is not None else None

    # -- the rest of the Observer: passed on
    def connection(self, transport: str, opened: bool, meter: ObservedMeter | None) -> None:
        if self.then is not None:
            self.then.connection(transport, opened, meter)

    def association(self, live: ObservedMeter, channel: object, client_sap: int, outcome: str) -> None:
        if self.then is not None:
            self.then.association(live, channel, client_sap, outcome)

    def refusal(self, live: ObservedMeter | None, reason: str) -> None:
        if self.then is not None:
            self.then.refusal(live, reason)

    def push(self, live: ObservedMeter, sent: bool) -> None:
        if self.then is not None:
            self.then.push(live, sent)


def _call_later(delay: float, callback: Callable[[], None]) -> None:
    try:
        asyncio.get_running_loop().call_later(delay, callback)
    except RuntimeError:  # no loop running (a direct call): write through
        callback()


def parse_address(text: str) -> Address:
    """"host:port" (IPv6 hosts bare or in brackets) as an address; 0.0.0.0:0 when it is not one."""
    host, _, port = text.rpartition(":")
    try:
        return ipaddress.ip_address(host.strip("[]")), int(port)
    except ValueError:
        return ipaddress.IPv4Address(0), 0


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of the
    16-bit words. Summed in native order, which only swaps the result's octets (RFC 1071 2(B))."""
    if len(data) % 2:
        data += b"\0"
    total = sum(array.array("H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    total = ~total & 0xFFFF
    return ((total & 0xFF) << 8) | (total >> 8) if sys.byteorder == "little" else total


def _pseudo(source: Address, destination: Address, protocol: int, length: int) -> bytes:
    src, dst = source[0], destination[0]
    if src.version == 6 or dst.version == 6:
        return _v6(src).packed + _v6(dst).packed + struct.pack("!I3xB", length, protocol)
    return src.packed + dst.packed + struct.pack("!xBH", protocol, length)


def _tcp(source: Address, destination: Address, seq: int, ack: int, flags: int, payload: bytes) -> bytes:
    head = struct.pack("!HHIIBBHHH", source[1], destination[1], seq, ack, 5 << 4, flags, 0xFFFF, 0, 0)
    total = checksum(_pseudo(source, destination, _TCP, len(head) + len(payload)) + head + payload)
    return head[:16] + struct.pack("!H", total) + head[18:] + payload


def _udp(source: Address, destination: Address, payload: bytes) -> bytes:
    head = struct.pack("!HHHH", source[1], destination[1], 8 + len(payload), 0)
    total = checksum(_pseudo(source, destination, _UDP, len(head) + len(payload)) + head + payload) or 0xFFFF
    return head[:6] + struct.pack("!H", total) + payload


def _v6(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv6Address:
    return address if isinstance(address, ipaddress.IPv6Address) else \
        ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed)


def _isn(source: Address, destination: Address) -> int:
    """A connection's initial sequence number, fixed by its addresses (captures compare alike)."""
    return zlib.crc32(f"{source[0]}:{source[1]}>{destination[0]}:{destination[1]}".encode())


def _chunks(data: bytes) -> list[bytes]:
    return [data[at:at + _SEGMENT] for at in range(0, len(data), _SEGMENT)] or [b""]
