"""The UDP wrapper (IEC 62056-47): one datagram is one wrapper frame.

One socket serves one meter (port addressing) or every meter of an address range (address
addressing: the socket is bound to the wildcard and IP_PKTINFO tells each datagram's
destination address, which selects the meter and is the source address of the answer). UDP
has no connection, so a client's associations live in a per-(meter, client address) channel
that is dropped after `limits.udp_peer_timeout_s` of silence, or `limits.association_timeout_s`
after its first datagram if it has not associated by then, through the engine's timer queue.
At most `limits.max_connections` such clients per socket are known at once; when the table is
full, clients that never associated make room, the oldest first, so datagrams from many
source ports cannot lock out a head-end that has an association.

The socket is driven with `add_reader` and `recvmsg`/`sendmsg` because asyncio's datagram
transports do not expose ancillary data.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import Any

from ..errors import DecodeError, EncodeError
from ..link.wrapper import WrapperFrame
from .faults import Delayed, Verdict, damaged_tag
from .fleet import LiveMeter, MeterFault
from .host import Host
from .layout import Endpoint, MeterEntry

__all__ = ["UDPEndpoint", "open_udp"]

_log = logging.getLogger(__name__)
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux value; Python 3.11 does not export it
_PKTINFO = struct.Struct("=I4s4s")  # struct in_pktinfo: ifindex, spec_dst, addr
_MAX_DATAGRAM = 0xFFFF + 8
_BATCH = 64  # datagrams handled per wake-up before yielding to the loop


class _Peer:
    """A UDP client of one meter: its channel, and when it was last heard."""

    __slots__ = ("meter", "channel", "last", "key", "endpoint", "association_due", "dropped", "delayed")

    def __init__(self, meter: LiveMeter, key: tuple[Any, ...], endpoint: UDPEndpoint, now: float) -> None:
        self.meter = meter
        self.channel = meter.server.open_channel()
        self.last = now
        self.key = key
        self.endpoint = endpoint
        timeout = endpoint.host.limits.association_timeout_s
        self.association_due: float | None = now + timeout if timeout else None  # None once associated
        self.dropped = False
        self.delayed: Delayed | None = None  # answers a delay fault holds back, made at the first

    def get_timer(self) -> float | None:
        if self.dropped:
            return None
        silent = self.last + self.endpoint.host.limits.udp_peer_timeout_s
        return silent if self.association_due is None else min(silent, self.association_due)

    def handle_timer(self, now: float) -> None:
        due = self.get_timer()
        if due is not None and now >= due:
            self.endpoint.drop(self)


class UDPEndpoint:
    """A bound UDP socket and the clients it currently talks to."""

    def __init__(self, host: Host, endpoint: Endpoint, sock: socket.socket) -> None:
        self.host = host
        self.endpoint = endpoint
        self.sock = sock
        self.pktinfo = endpoint.by_address
        self._peers: dict[tuple[Any, ...], _Peer] = {}
        self._strangers: dict[tuple[Any, ...], _Peer] = {}  # not associated yet, oldest first
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)

    def close(self) -> None:
        self._loop.remove_reader(self.sock.fileno())
        for peer in list(self._peers.values()):
            self.drop(peer)
        self.sock.close()

    def drop(self, peer: _Peer) -> None:
        if self._peers.pop(peer.key, None) is not None:
            self._strangers.pop(peer.key, None)
            self.host.timers.discard(peer)
            peer.meter.close_channel(peer.channel)
            peer.dropped = True
            if peer.delayed is not None:
                peer.delayed.close()
            if self.host.observer is not None:
                self.host.observer.connection("udp", False, peer.meter)

    def meter_restarted(self, live: LiveMeter) -> None:
        """A meter restarted (a reboot fault): its clients' channels are forgotten."""
        for peer in [p for p in self._peers.values() if p.meter is live]:
            self.drop(peer)

    def _readable(self) -> None:
        space = socket.CMSG_SPACE(_PKTINFO.size)
        for _ in range(_BATCH):
            try:
                data, ancillary, _flags, address = self.sock.recvmsg(_MAX_DATAGRAM, space)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ICMP port unreachable reported on a later receive
                _log.debug("%s: receive error %s", self.endpoint.describe(), exc)
                continue
            local = None
            for level, kind, payload in ancillary:
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(payload) >= _PKTINFO.size:
                    local = socket.inet_ntoa(_PKTINFO.unpack_from(payload)[2])
            self._datagram(data, local, address)

    def _datagram(self, data: bytes, local: str | None, address: tuple[str, int]) -> None:
        entry = self.endpoint.route(local)
        if not isinstance(entry, MeterEntry):
            _log.debug("%s: datagram for %s: no meter there", self.endpoint.describe(), local)
            return
        observer = self.host.observer
        if observer is not None:
            self.host.bytes_in["udp"] += len(data)
            if observer.frames_wanted:
                live = entry.live or self.host.fleet.live(entry)  # a first datagram: the meter is built now
                observer.frame(live, self, True, data, "udp", "%s:%d" % address[:2],
                               f"{local or self.endpoint.host}:{self.endpoint.port}")
        try:
            frame = WrapperFrame.from_bytes(data)
        except DecodeError as exc:
            _log.info("%s: dropping a datagram from %s:%d: %s", self.endpoint.describe(), *address, exc)
            return
        verdict = None
        if self.host.faults.on:
            verdict = self.host.faults.verdict(entry)
            if verdict is not None and verdict.silence:
                return
        now = self.host.now()
        key = (entry.index, address)
        peer = self._peers.get(key)
        if peer is None:
            if len(self._peers) >= self.host.limits.max_connections:
                if not self._strangers:
                    _log.warning("%s: datagram from %s:%d dropped: %d associated clients known "
                                 "(limits.max_connections)", self.endpoint.describe(), *address, len(self._peers))
                    return
                oldest = next(iter(self._strangers.values()))
                _log.debug("%s: forgetting client %s:%d, never associated, to make room (limits.max_connections)",
                           self.endpoint.describe(), *oldest.key[1])
                self.drop(oldest)
            peer = self._peers[key] = self._strangers[key] = _Peer(self.host.fleet.live(entry), key, self, now)
            if observer is not None:
                observer.connection("udp", True, peer.meter)
        peer.last = now
        self.host.timers.update(peer)
        if verdict is not None or peer.delayed is not None:
            self._faulted(peer, frame, verdict or Verdict(), local, address, now)
            return
        try:
            answer = peer.meter.exchange(peer.channel, frame.destination_wport, frame.source_wport, frame.apdu, now)
            if key in self._strangers and peer.channel.associated:
                peer.association_due = None
                del self._strangers[key]
            if answer is None:
                return
            answers = [answer, *peer.meter.streamed(peer.channel, frame.destination_wport, frame.source_wport)]
            outs = [WrapperFrame(frame.destination_wport, frame.source_wport, a).to_bytes() for a in answers]
        except MeterFault:
            self.drop(peer)
            return
        except EncodeError as exc:
            _log.warning("%s: answer not sent: %s", peer.meter.label, exc)
            return
        control = []
        if self.pktinfo and local is not None:
            control = [(socket.IPPROTO_IP, IP_PKTINFO, _PKTINFO.pack(0, socket.inet_aton(local), bytes(4)))]
        if self.host.holding:
            self.host.hold(self, (outs, control, address, peer.meter.label))
        else:
            self.transmit((outs, control, address, peer.meter.label))

    def _faulted(self, peer: _Peer, frame: WrapperFrame, verdict: Verdict, local: str | None,
                 address: tuple[str, int], now: float) -> None:
        """One datagram under the meter's faults (runtime/faults.py)."""
        meter, ours, theirs = peer.meter, frame.destination_wport, frame.source_wport
        try:
            if verdict.refuse is not None and frame.apdu[:1] == b"\x60":  # AARQ
                answers = [meter.refuse(theirs, frame.apdu, verdict.refuse)]
            else:
                answer = meter.exchange(peer.channel, ours, theirs, frame.apdu, now)
                answers = [] if answer is None else [answer, *meter.streamed(peer.channel, ours, theirs)]
            if peer.key in self._strangers and peer.channel.associated:
                peer.association_due = None
                del self._strangers[peer.key]
            outs = [WrapperFrame(ours, theirs, a).to_bytes() for a in answers]
        except MeterFault:
            self.drop(peer)
            return
        except EncodeError as exc:
            _log.warning("%s: answer not sent: %s", meter.label, exc)
            return
        if outs and verdict.close:  # no connection to close: the client's associations end
            _log.info("%s: client %s:%d forgotten instead of answered (fault injected)", meter.label, *address)
            self.drop(peer)
            return
        if not outs or verdict.drop:
            return
        if verdict.corrupt is not None:  # the wrapper has no FCS: the APDU's tag is what breaks
            outs[0] = WrapperFrame(ours, theirs, damaged_tag(answers[0])).to_bytes()
        control = []
        if self.pktinfo and local is not None:
            control = [(socket.IPPROTO_IP, IP_PKTINFO, _PKTINFO.pack(0, socket.inet_aton(local), bytes(4)))]
        sent = (outs, control, address, meter.label)
        if peer.delayed is None:
            if not verdict.delay_s:
                self._send(sent)
                return
            peer.delayed = Delayed(self._loop, self._send)
        peer.delayed.send(sent, now + verdict.delay_s if verdict.delay_s else None)

    def _send(self, data: tuple[list[bytes], list[Any], tuple[str, int], str]) -> None:
        if self.host.holding:
            self.host.hold(self, data)
        else:
            self.transmit(data)

    def transmit(self, data: tuple[list[bytes], list[Any], tuple[str, int], str]) -> None:
        """Send a datagram's answers (at once, or released after the state store's commit)."""
        outs, control, address, label = data
        observer = self.host.observer
        if observer is not None:
            self._observe_sent(observer, outs, control, address)
        try:
            for out in outs:
                self.sock.sendmsg([out], control, 0, address)
        except (BlockingIOError, InterruptedError):
            _log.debug("%s: send buffer full, answer to %s:%d dropped", label, *address)
        except OSError as exc:
            _log.info("%s: cannot answer %s:%d: %s", label, *address, exc)

    def _observe_sent(self, observer: Any, outs: list[bytes], control: list[Any], address: tuple[str, int]) -> None:
        self.host.bytes_out["udp"] += sum(map(len, outs))
        if observer.frames_wanted:
            local = socket.inet_ntoa(_PKTINFO.unpack(control[0][2])[1]) if control else self.endpoint.host
            entry = self.endpoint.route(local if control else None)
            live = entry.live if isinstance(entry, MeterEntry) else None
            for out in outs:
                observer.frame(live, self, False, out, "udp", "%s:%d" % address[:2], f"{local}:{self.endpoint.port}")

    def withhold(self, data: tuple[list[bytes], list[Any], tuple[str, int], str], why: str) -> None:
        """Answers whose changes could not be kept are not sent."""
        _log.warning("%s: answer to %s:%d withheld, its change not kept: %s", data[3], *data[2], why)


def open_udp(host: Host, endpoint: Endpoint) -> UDPEndpoint:
    """Bind the endpoint's socket (IP_PKTINFO on when it routes by address) and start reading."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        if endpoint.by_address:
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        sock.bind((endpoint.host, endpoint.port))
    except OSError:
        sock.close()
        raise
    endpoint.port = sock.getsockname()[1]
    return UDPEndpoint(host, endpoint, sock)
