"""Byte-stream connections, and the TCP wrapper (IEC 62056-47) over them.

`StreamConnection` is what every stream needs: the process-wide connection limit, a cap on
bytes buffered (a request being received, answers the client has not read: reading pauses
while the client does not read, and a client that still floods is dropped), the inactivity
timeout through the engine's timer queue, and a clean close. A counted (TCP) connection must
also complete an association within `limits.association_timeout_s` of being accepted, or it
is closed: bytes alone do not keep a slot. At most `TURN_BUDGET_BYTES` of one connection are
handled per event-loop turn: the rest of a long read waits for the next turn with reading
paused, so a client flooding one socket delays the others by one budget's work, not by its
whole read. `WrapperStream` adds the wrapper:
frames in, each APDU through the meter's channel, frames out with the wPorts swapped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..errors import DecodeError, EncodeError
from ..link.wrapper import HEADER_SIZE, WrapperFrame, WrapperReader
from .faults import Delayed, Verdict, damaged_tag, send_in_order
from .fleet import LiveMeter, MeterFault
from .host import Host
from .layout import Endpoint, MeterEntry
from .observe import Link

__all__ = ["StreamConnection", "WrapperStream", "TURN_BUDGET_BYTES"]

_log = logging.getLogger(__name__)
# ~1 ms of the costliest input we know (7E A0 repeated: an HDLC frame start every two octets,
# ~0.2 µs an octet); large enough that a 64 KiB wrapper request takes only 16 turns.
TURN_BUDGET_BYTES = 4096


class StreamConnection(asyncio.Protocol):
    """Limits, inactivity and closing for one stream; subclasses handle the bytes."""

    def __init__(self, host: Host, endpoint: Endpoint, inactivity_timeout_s: float, counted: bool = True) -> None:
        self.host = host
        self.endpoint = endpoint
        self.transport: Any = None  # asyncio's, uvloop's or pyserial-asyncio's transport
        self.peer = "?"
        self.local = "?"
        self.kind = endpoint.transport  # "tcp" | "hdlc-tcp" | "hdlc-serial", for the observer
        self.delayed: Delayed | None = None  # answers a delay fault holds back, made at the first
        self._timeout = inactivity_timeout_s
        self._counted = counted
        self._admitted = False
        self._last = 0.0
        self._association_due: float | None = None  # until an association is seen
        self._backlog: memoryview | None = None  # bytes read but left for the next turns
        self._write_paused = False
        self._closed = False
        self.stopping = False  # we closed it (inactivity, shutdown), the peer did not
        self.octets_in = self.octets_out = 0  # what crossed, for the metrics (the engine sums them)

    # -- asyncio.Protocol
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        # A client that reset before we accepted has no peer name left: say so, not our own address.
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "a client already gone")
        if self._counted and not self.host.admit(self):
            _log.warning("%s: connection from %s refused: %d connections open (limits.max_connections)",
                         self.endpoint.describe(), self.peer, self.host.limits.max_connections)
            transport.abort()
            if self.host.observer is not None:
                self.host.observer.refusal(None, "connection-limit")
            return
        self._admitted = True
        limit = self.host.limits.max_buffered_bytes
        transport.set_write_buffer_limits(high=limit // 2, low=limit // 8)
        sockname = transport.get_extra_info("sockname")
        local = sockname[0] if isinstance(sockname, tuple) else None
        self.local = f"{sockname[0]}:{sockname[1]}" if isinstance(sockname, tuple) else str(sockname or self.peer)
        if not self.opened(local):
            transport.abort()
            return
        if self.host.observer is not None:
            self.host.observer.connection(self.kind, True, self.live)
        self._last = self.host.now()
        if self._counted and self.host.limits.association_timeout_s:
            self._association_due = self._last + self.host.limits.association_timeout_s
        self.host.timers.update(self)

    def data_received(self, data: bytes) -> None:
        if self._closed or self.stopping or not self._admitted:
            return
        if self._backlog is not None:  # read before the pause took effect: after what waits
            self._backlog = memoryview(bytes(self._backlog) + data)
            return
        self._take(data)

    def _take(self, data: bytes | memoryview, paused: bool = False) -> None:
        """Handle one turn's budget of `data`; leave the rest for the next turn, reading paused."""
        if len(data) > TURN_BUDGET_BYTES:
            view = memoryview(data)
            data, self._backlog = view[:TURN_BUDGET_BYTES], view[TURN_BUDGET_BYTES:]
            if not paused and self.transport is not None:
                self.transport.pause_reading()
            asyncio.get_running_loop().call_soon(self._next_turn)
        self._handle(bytes(data))

    def _next_turn(self) -> None:
        backlog, self._backlog = self._backlog, None
        if backlog is None or self._closed or self.stopping:
            return
        last = len(backlog) <= TURN_BUDGET_BYTES
        if last and not self._write_paused and self.transport is not None:
            self.transport.resume_reading()
        self._take(backlog, paused=not last)

    def _handle(self, data: bytes) -> None:
        now = self.host.now()
        self._last = now
        self.octets_in += len(data)
        try:
            self.received(data, now)
        except MeterFault:
            self.abort("the meter failed (logged above)")
        except (DecodeError, EncodeError) as exc:
            self.abort(str(exc))
        except Exception:  # a bug here must cost this connection only
            _log.exception("%s: connection from %s failed", self.endpoint.describe(), self.peer)
            self.abort("internal error (logged above)")
        else:
            if self._association_due is not None and self.has_association():
                self._association_due = None
            self.check_buffered()
            self.host.timers.update(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.host.timers.discard(self)
        if self.delayed is not None:
            self.delayed.close()
        if self._admitted:
            self._admitted = False
            self.host.forget(self)
            self.host.bytes_in[self.kind] += self.octets_in
            self.host.bytes_out[self.kind] += self.octets_out
            if self.host.observer is not None:
                self.host.observer.connection(self.kind, False, self.live)
            self.closed()

    def pause_writing(self) -> None:
        self._write_paused = True
        if self.transport is not None:
            self.transport.pause_reading()  # no new requests until the client reads its answers

    def resume_writing(self) -> None:
        self._write_paused = False
        if self.transport is not None and not self._closed and self._backlog is None:
            self.transport.resume_reading()

    # -- timer queue
    def get_timer(self) -> float | None:
        if self._closed:
            return None
        inactive = self._last + self._timeout if self._timeout else None
        if self._association_due is None:
            return inactive
        return self._association_due if inactive is None else min(inactive, self._association_due)

    def handle_timer(self, now: float) -> None:
        if self._closed:
            return
        if self._association_due is not None and now >= self._association_due:
            if self.has_association():
                self._association_due = None
            else:
                _log.info("%s: closing the connection from %s: no association within %g s "
                          "(limits.association_timeout_s)", self.endpoint.describe(), self.peer,
                          self.host.limits.association_timeout_s)
                self.shutdown()
                return
        if self._timeout and now >= self._last + self._timeout:
            _log.info("%s: closing the connection from %s after %g s without a request",
                      self.endpoint.describe(), self.peer, self._timeout)
            self.shutdown()

    # -- closing
    def shutdown(self) -> None:
        """Close once queued answers are written (inactivity, engine shutdown)."""
        self.stopping = True
        if self.transport is not None and not self._closed:
            self._closed = True
            self.transport.close()

    def close_when_written(self) -> None:
        """Close once the answers written so far have left (after the state store's commit
        when writes wait for it): a meter that restarts drops its connections, and reads
        nothing more from them."""
        self.stopping = True
        if self.host.holding:
            self.host.hold(_HeldClose(self), None)
        else:
            self.shutdown()

    def abort(self, why: str) -> None:
        _log.info("%s: dropping the connection from %s: %s", self.endpoint.describe(), self.peer, why)
        self._closed = True
        if self.transport is not None:
            self.transport.abort()

    def check_buffered(self) -> None:
        if self.transport is not None and self.transport.get_write_buffer_size() > self.host.limits.max_buffered_bytes:
            self.abort("the client does not read its answers (limits.max_buffered_bytes)")

    def write(self, data: bytes, hand: bool = True) -> None:
        """Write now, or after the state store's commit when the engine holds writes; handed to
        an observer that wants frames unless `hand` is False (an exchange kept stands for it)."""
        if self.transport is not None and not self._closed:
            self.octets_out += len(data)
            if hand and self.host.observer is not None and self.host.observer.frames_wanted:
                self.observe_sent(data)
            if self.host.holding:
                self.host.hold(self, data)
            else:
                self.transport.write(data)

    def transmit(self, data: bytes) -> None:
        """A held write, released after the commit."""
        if self.transport is not None and not self._closed:
            self.transport.write(data)
            self.check_buffered()

    def withhold(self, data: bytes, why: str) -> None:
        """A held write whose changes could not be kept: not sent, and the connection dropped."""
        if not self._closed:
            self.abort(f"an answer is withheld, its change not kept: {why}")

    def send_later(self, data: bytes, due: float | None) -> None:
        """Write at the loop time `due` (a delay fault), or now behind answers still delayed."""
        self.delayed = send_in_order(self.delayed, self.write, data, due)

    def observe_sent(self, data: bytes) -> None:
        """Hand the frames written to an observer that wants each (a connection without a ring)."""
        observer = self.host.observer
        assert observer is not None
        for frame in self.frames_of(data):
            observer.frame(self.live, self.channel, False, frame, self.kind, self.peer, self.local)

    # -- for subclasses
    @property
    def live(self) -> LiveMeter | None:
        """The meter this connection reaches (None: none yet, or several on an HDLC line)."""
        return None

    @property
    def channel(self) -> object:
        """What the observer may key a connection's frames by."""
        return self

    def frames_of(self, data: bytes) -> list[bytes]:
        """The frames in bytes written at once."""
        return [data]

    def meter_restarted(self, live: LiveMeter) -> None:
        """A meter restarted (a reboot fault): a connection to it ends as its restart ends it."""

    def opened(self, local_address: str | None) -> bool:
        """The connection is admitted; False refuses it."""
        raise NotImplementedError

    def received(self, data: bytes, now: float) -> None:
        raise NotImplementedError

    def has_association(self) -> bool:
        """An association is established (or a pre-established one used) on this connection."""
        raise NotImplementedError

    def closed(self) -> None:
        """The connection is gone: release what `opened` took."""
        raise NotImplementedError


class _HeldClose:
    """A close waiting behind held answers: the connection closes once they are written."""

    __slots__ = ("connection",)

    def __init__(self, connection: StreamConnection) -> None:
        self.connection = connection

    def transmit(self, data: object) -> None:
        self.connection.shutdown()

    def withhold(self, data: object, why: str) -> None:
        self.connection.shutdown()


class WrapperStream(StreamConnection):
    """A TCP wrapper connection to the meter the endpoint routes its local address to."""

    def __init__(self, host: Host, endpoint: Endpoint) -> None:
        super().__init__(host, endpoint, host.limits.tcp_inactivity_timeout_s)
        self._reader = WrapperReader(min(0xFFFF, host.limits.max_buffered_bytes - HEADER_SIZE))
        self._meter: LiveMeter | None = None
        self._channel: Any = None
        self._link: Link | None = None  # while the observer's kept exchanges stand for the frames

    def opened(self, local_address: str | None) -> bool:
        entry = self.endpoint.route(local_address)
        if not isinstance(entry, MeterEntry):
            _log.info("%s: no meter at %s; connection from %s closed", self.endpoint.describe(), local_address,
                      self.peer)
            return False
        meter = self.host.fleet.live(entry)
        if meter.connections >= self.host.limits.max_connections_per_meter:
            _log.warning("%s: connection from %s refused: %d connections open (limits.max_connections_per_meter)",
                         meter.label, self.peer, meter.connections)
            return False
        meter.connections += 1
        self._meter = meter
        self._channel = meter.server.open_channel()
        observer = self.host.observer
        if observer is not None and observer.takes_wrapper_frames and observer.exchanges is not None:
            self._link = (self.kind, self.peer, self.local, id(self._channel))
        _log.debug("%s: wrapper connection from %s", meter.label, self.peer)
        return True

    @property
    def live(self) -> LiveMeter | None:
        return self._meter

    @property
    def channel(self) -> object:
        return self._channel

    def meter_restarted(self, live: LiveMeter) -> None:
        if live is self._meter and not self._closed:
            _log.info("%s: the meter restarts; connection from %s closed", live.label, self.peer)
            self.close_when_written()

    def received(self, data: bytes, now: float) -> None:
        meter = self._meter
        if meter is None:
            return
        host = self.host
        link = self._link  # the exchange kept stands for both frames: none handed over
        hand = link is None and host.observer is not None and host.observer.frames_wanted
        self._reader.receive_data(data)
        while (frame := self._reader.next_frame()) is not None:
            if host.faults.on or self.delayed is not None:  # (answers still delayed keep their order)
                self._hand(meter, frame)
                if self._faulted(meter, frame, host.faults.verdict(meter.entry) or Verdict(), now):
                    return
                continue
            if hand:
                self._hand(meter, frame)
            answer = meter.exchange(self._channel, frame.destination_wport, frame.source_wport, frame.apdu, now, link)
            if answer is not None:
                self.write(WrapperFrame(frame.destination_wport, frame.source_wport, answer).to_bytes(), link is None)
                for block in meter.streamed(self._channel, frame.destination_wport, frame.source_wport):
                    self.write(WrapperFrame(frame.destination_wport, frame.source_wport, block).to_bytes())
            if self._channel.restarted:
                _log.info("%s: the meter restarts; connection from %s closed", meter.label, self.peer)
                self.close_when_written()
                return

    def _hand(self, meter: LiveMeter, frame: WrapperFrame) -> None:
        """A frame received, to an observer that wants frames (one the exchanges do not stand for)."""
        observer = self.host.observer
        if observer is not None and observer.frames_wanted:
            observer.frame(meter, self._channel, True, frame.to_bytes(), self.kind, self.peer, self.local)

    def _faulted(self, meter: LiveMeter, frame: WrapperFrame, verdict: Verdict, now: float) -> bool:
        """One request under the meter's faults (runtime/faults.py); True: the connection ends."""
        if verdict.silence:
            return False
        local, remote = frame.destination_wport, frame.source_wport
        if verdict.refuse is not None and frame.apdu[:1] == b"\x60":  # AARQ
            answers = [meter.refuse(remote, frame.apdu, verdict.refuse)]
        else:
            answer = meter.exchange(self._channel, local, remote, frame.apdu, now)
            answers = [] if answer is None else [answer, *meter.streamed(self._channel, local, remote)]
        if answers and verdict.close:
            self.abort("fault injected: close")
            return True
        if answers and not verdict.drop:
            if verdict.corrupt is not None:  # "fcs" too: the wrapper has no FCS, the tag is what breaks
                answers[0] = damaged_tag(answers[0])
            due = now + verdict.delay_s if verdict.delay_s else None
            for answer in answers:
                self.send_later(WrapperFrame(local, remote, answer).to_bytes(), due)
        if self._channel.restarted:
            _log.info("%s: the meter restarts; connection from %s closed", meter.label, self.peer)
            self.close_when_written()
            return True
        return False

    def has_association(self) -> bool:
        return self._channel is not None and self._channel.associated

    def closed(self) -> None:
        meter, self._meter = self._meter, None
        if meter is not None:
            meter.connections -= 1
            meter.close_channel(self._channel)
            _log.debug("%s: wrapper connection from %s closed", meter.label, self.peer)
