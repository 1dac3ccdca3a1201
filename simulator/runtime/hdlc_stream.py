"""HDLC (IEC 62056-46) over a byte stream: a TCP connection or a serial line, one or many meters.

One `HDLCLine` per stream cuts it into frames and routes each by its destination address: the
lower (physical) part picks the meter on the line (RS-485 multi-drop: frames for addresses no
meter here has are ignored, they are other stations' traffic), the upper (logical) part the
logical device. Each (meter, logical device, client address) gets its own `HDLCConnection`
while its link is up, and each link its own channel to the meter's server, so associations end
with the link. A one-byte server address (no physical part) is accepted on a line with a single
meter. All-station frames reach every matching meter and are never answered but for polls.
At most `limits.max_hdlc_links_per_line` links are up at once on a line; a station that cannot
take another link answers DM, as IEC 62056-46 says for an SNRM it cannot accept.

Link parameters and the inactivity timeout come from the meter's IEC HDLC setup object
(class 23), read when a link is created, so a client's SET of them applies to later links.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from ..errors import DecodeError
from ..link.hdlc import (
    APDUReceived, FrameKind, FrameRejected, HDLCAddress, HDLCConnection, HDLCFrame, HDLCFrameReader,
    HDLCSettings, LinkConnected, LinkDisconnected, State,
)
from ..server.objects import ObjectHandle
from .faults import Delayed, damaged_fcs, damaged_tag, send_in_order
from .fleet import LiveMeter, MeterFault
from .host import Host
from .layout import Endpoint, MeterEntry
from .tcp import StreamConnection
from .trace import HDLCTrace

__all__ = ["HDLCLine", "HDLCStream", "hdlc_settings", "TCP_INTER_FRAME_TIMEOUT_S"]

_log = logging.getLogger(__name__)
_HDLC_SETUP = 23
# TCP may split a frame over segments that arrive far apart; a serial line may not.
TCP_INTER_FRAME_TIMEOUT_S = 2.0


def hdlc_settings(meter: LiveMeter, now: float) -> HDLCSettings:
    """The link settings of the meter's first IEC HDLC setup object, clamped to what HDLC allows."""
    defaults = HDLCSettings()
    for device in meter.meter.model.logical_devices.values():
        spec = next((o for o in device.objects if o.cls.class_id == _HDLC_SETUP), None)
        if spec is None:
            continue
        handle = ObjectHandle(meter.meter, device, spec, now)

        def value(name: str, default: float, lo: float, hi: float) -> Any:
            adef = spec.cls.attribute_named(name)
            try:
                v = handle.get(adef.index).value if adef is not None else None
            except Exception:  # a getter that cannot answer: keep the default
                v = None
            return min(max(v, lo), hi) if isinstance(v, (int, float)) and not isinstance(v, bool) else default

        return HDLCSettings(
            max_info_tx=value("max_info_field_length_transmit", defaults.max_info_tx, 32, 2030),
            max_info_rx=value("max_info_field_length_receive", defaults.max_info_rx, 32, 2030),
            window_tx=value("window_size_transmit", defaults.window_tx, 1, 7),
            window_rx=value("window_size_receive", defaults.window_rx, 1, 7),
            inactivity_timeout_s=value("inactivity_time_out", defaults.inactivity_timeout_s, 0, 65535),
            inter_frame_timeout_s=value("inter_octet_time_out", 25, 20, 6000) / 1000,
        )
    return defaults


class _Link:
    __slots__ = ("key", "connection", "meter", "channel", "logical", "client_sap")

    def __init__(self, key: tuple[Any, ...], connection: HDLCConnection, meter: LiveMeter, logical: int,
                 client_sap: int) -> None:
        self.key = key
        self.connection = connection
        self.meter = meter
        self.channel: Any = None
        self.logical = logical
        self.client_sap = client_sap


class HDLCLine:
    """The meters on one line: bytes in, frames routed, answers out through `send`."""

    def __init__(self, host: Host, meters: dict[int, MeterEntry], send: Callable[[bytes], None],
                 inter_frame_timeout_s: float, label: str) -> None:
        self.host = host
        self.meters = meters
        self.label = label
        self._send = send
        self.delayed: Delayed | None = None  # what a delay fault holds back, made at the first
        self.on_close: Callable[[str], None] | None = None  # a close fault ends the stream (TCP), else links drop
        self.on_frame: Callable[[LiveMeter | None, bytes], None] | None = None  # frames received, for the observer
        self._reader = HDLCFrameReader()
        self._inter_frame = inter_frame_timeout_s
        self._last_bytes = 0.0
        self._links: dict[tuple[Any, ...], _Link] = {}
        self._trace = HDLCTrace(host.fleet.tracer) if host.fleet.tracer.enabled else None

    @property
    def links(self) -> int:
        """Links up (or being served) on this line."""
        return len(self._links)

    @property
    def associated(self) -> bool:
        """A link of this line carries an association."""
        return any(link.channel is not None and link.channel.associated for link in self._links.values())

    def receive_data(self, data: bytes, now: float) -> None:
        self._last_bytes = now
        self._reader.receive_data(data)
        self._drain(now)

    def get_timer(self) -> float | None:
        deadlines = [t for link in self._links.values() if (t := link.connection.get_timer()) is not None]
        if self._reader.has_partial:
            deadlines.append(self._last_bytes + self._inter_frame)
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        if self._reader.has_partial and now >= self._last_bytes + self._inter_frame:
            while self._reader.has_partial:  # a torn frame: resynchronise at the next flag
                self._reader.discard_partial()
                self._drain(now)
        for link in list(self._links.values()):
            due = link.connection.get_timer()
            if due is not None and now >= due:
                link.connection.handle_timer(now)
                self._service(link, now)

    def close(self) -> None:
        """The line is gone: every link on it ends (nothing can be sent any more)."""
        if self.delayed is not None:
            self.delayed.close()
        for link in self._links.values():
            if link.channel is not None:
                link.meter.close_channel(link.channel)
        self._links.clear()
        if self._trace is not None:
            self._trace.close()

    # -- frames
    def _drain(self, now: float) -> None:
        while True:
            try:
                frame = self._reader.next_frame()
            except FrameRejected as error:
                if self.host.faults.on and self._silenced(error.destination):
                    continue
                for link in self._targets(error.destination, error.source, error.poll, now):
                    link.connection.receive_invalid_frame(error, now)
                    self._service(link, now)
                continue
            except DecodeError:  # bad HCS/FCS or a malformed header: HDLC drops it without answer
                continue
            if frame is None:
                return
            self._frame(frame, now)

    def _frame(self, frame: HDLCFrame, now: float) -> None:
        if self.host.faults.on and self._silenced(frame.destination):
            return
        targets = self._targets(frame.destination, frame.source, frame.poll_final, now)
        if self.host.observer is not None and self.host.observer.frames_wanted and self.on_frame is not None:
            self.on_frame(targets[0].meter if targets else None, frame.to_bytes())
        for link in targets:
            if self._trace is not None:
                self._trace.received(link.meter, link.key, link.logical, link.client_sap, frame)
            link.connection.receive_frame(frame, now)
            self._service(link, now)

    def _silenced(self, destination: HDLCAddress) -> bool:
        """A silence fault is on the meter a frame is addressed to: not even UA or DM answers it."""
        if destination.is_all_station:
            return False
        if destination.physical is None:
            entry = next(iter(self.meters.values())) if len(self.meters) == 1 else None
        else:
            entry = self.meters.get(destination.physical)
        return entry is not None and any(f.kind == "silence" for f in self.host.faults.active(entry))

    def meter_restarted(self, live: LiveMeter) -> bool:
        """A meter restarted (a reboot fault): its links are lost (frames now get DM); True if it had any."""
        links = [link for link in self._links.values() if link.meter is live]
        for link in links:
            _log.info("%s: the meter restarts; HDLC link from client %d lost", live.label, link.client_sap)
            self._drop(link)
        return bool(links)

    def _out(self, data: bytes, due: float | None = None) -> None:
        """Send now, or at `due` (a delay fault), never before what is still delayed."""
        self.delayed = send_in_order(self.delayed, self._send, data, due)

    def _targets(self, destination: HDLCAddress, source: HDLCAddress, poll: bool, now: float) -> list[_Link]:
        """The links a frame concerns, created when a meter here has that address.

        A polling frame that would need a new link beyond the line's limit is answered DM.
        """
        if destination.is_all_station:
            every = 0x3FFF if destination.length == 4 else 0x7F
            phys = destination.physical
            entries = (list(self.meters.items()) if phys in (None, every)
                       else [(phys, self.meters[phys])] if phys in self.meters else [])
            out = []
            for physical, each in entries:
                saps = each.group.model.logical_devices if destination.logical == every else [destination.logical]
                for sap in saps:
                    address = HDLCAddress(sap, None if phys is None else physical, destination.length)
                    link = self._link(each, address, source, now)
                    if link is not None:
                        out.append(link)
            return out
        if destination.physical is None:
            entry = next(iter(self.meters.values())) if len(self.meters) == 1 else None
        else:
            entry = self.meters.get(destination.physical)
        if entry is None or destination.logical not in entry.group.model.logical_devices:
            return []
        link = self._link(entry, destination, source, now)
        if link is None:  # no room for another link on this line
            if poll:
                self._out(HDLCFrame(source, destination, FrameKind.DM, True).to_bytes())
            return []
        return [link]

    def _link(self, entry: MeterEntry, address: HDLCAddress, client: HDLCAddress, now: float) -> _Link | None:
        if address.logical not in entry.group.model.logical_devices:
            return None
        key = (entry.index, address.logical, client)
        link = self._links.get(key)
        if link is None:
            if len(self._links) >= self.host.limits.max_hdlc_links_per_line:
                _log.info("%s: no new HDLC link from client %d to %s: %d links up (limits.max_hdlc_links_per_line)",
                          self.label, client.logical, entry.label, len(self._links))
                return None
            meter = self.host.fleet.live(entry)
            connection = HDLCConnection(address, hdlc_settings(meter, now))
            link = self._links[key] = _Link(key, connection, meter, address.logical, client.logical)
        return link

    def _service(self, link: _Link, now: float) -> None:
        """Pass the link's events to the meter, send what it answers, forget it once disconnected."""
        connection, meter = link.connection, link.meter
        due: float | None = None
        fcs = close = False
        try:
            while (event := connection.next_event()) is not None:
                if isinstance(event, APDUReceived):
                    if link.channel is None:
                        link.channel = meter.server.open_channel()
                    verdict = self.host.faults.verdict(meter.entry) if self.host.faults.on else None
                    if verdict is not None and verdict.refuse is not None and event.apdu[:1] == b"\x60":  # AARQ
                        answer: bytes | None = meter.refuse(link.client_sap, event.apdu, verdict.refuse)
                    else:
                        answer = meter.exchange(link.channel, link.logical, link.client_sap, event.apdu, now,
                                                wrapper=False)
                    if verdict is not None and answer is not None:
                        close = close or verdict.close
                        if verdict.drop or verdict.close:
                            answer = None
                        elif verdict.corrupt == "tag":
                            answer = damaged_tag(answer)
                        fcs = fcs or verdict.corrupt == "fcs"
                        due = now + verdict.delay_s if verdict.delay_s else due
                    if answer is not None and not event.unnumbered and connection.state is State.NRM:
                        connection.send_apdu(answer)
                        for block in meter.streamed(link.channel, link.logical, link.client_sap, wrapper=False):
                            connection.send_apdu(block)
                elif isinstance(event, LinkConnected):
                    if link.channel is not None:
                        meter.close_channel(link.channel)
                    link.channel = meter.server.open_channel()
                    _log.debug("%s: HDLC link from client %d to %s up on %s", meter.label, link.client_sap,
                               event.server, self.label)
                elif isinstance(event, LinkDisconnected):
                    if link.channel is not None:
                        meter.close_channel(link.channel)
                        link.channel = None
                    _log.debug("%s: HDLC link from client %d down: %s", meter.label, link.client_sap, event.reason)
        except MeterFault:
            self._drop(link)
            return
        out = connection.data_to_send()
        if close:
            _log.info("%s: HDLC link from client %d: closed instead of answering (fault injected)", meter.label,
                      link.client_sap)
            if self.on_close is not None:
                self.on_close("fault injected: close")
            else:
                self._drop(link)
            return
        if out and fcs:
            out = damaged_fcs(out)
        if out and self._trace is not None:
            self._trace.sent(meter, link.key, link.logical, link.client_sap, out)
        if out:
            self._out(out, due)
        if connection.state is State.NDM:
            self._drop(link)
        elif link.channel is not None and link.channel.restarted:  # the link is lost: frames now get DM
            _log.info("%s: the meter restarts; HDLC link from client %d lost", meter.label, link.client_sap)
            self._drop(link)

    def _drop(self, link: _Link) -> None:
        if self._links.pop(link.key, None) is not None and link.channel is not None:
            link.meter.close_channel(link.channel)
            link.channel = None


def split_frames(data: bytes) -> list[bytes]:
    """HDLC frames written at once, each whole with its flags (the frame format's length field)."""
    frames, at = [], 0
    while at + 3 <= len(data) and data[at] == 0x7E:
        end = at + 2 + (((data[at + 1] & 0x07) << 8) | data[at + 2])
        frames.append(data[at:end])
        at = end
    if at < len(data):
        frames.append(data[at:])
    return frames


class HDLCStream(StreamConnection):
    """An HDLC line over a TCP connection (counted, inactivity timeout) or a serial port."""

    def __init__(self, host: Host, endpoint: Endpoint, serial: bool = False) -> None:
        super().__init__(host, endpoint, 0.0 if serial else host.limits.tcp_inactivity_timeout_s, counted=not serial)
        self.serial = serial
        self.line: HDLCLine | None = None
        self._line_key: int | None = None  # counted in host.line_connections while open

    def opened(self, local_address: str | None) -> bool:
        meters = self.endpoint.line_meters(local_address)
        if not meters:
            _log.info("%s: no meter at %s; connection from %s closed", self.endpoint.describe(), local_address,
                      self.peer)
            return False
        if not self.serial:  # each line (one meter, or a multi-drop line) has its share of max_connections
            key = id(self.endpoint.route(local_address))  # the route object lives as long as the engine
            limit = self.host.limits.max_connections_per_meter
            if self.host.line_connections[key] >= limit:
                _log.warning("%s: connection from %s to the HDLC line at %s refused: %d connections open "
                             "(limits.max_connections_per_meter)", self.endpoint.describe(), self.peer,
                             local_address, limit)
                return False
            self.host.line_connections[key] += 1
            self._line_key = key
        timeout = HDLCSettings().inter_frame_timeout_s if self.serial else TCP_INTER_FRAME_TIMEOUT_S
        where = self.endpoint.describe() + ("" if self.serial else f" from {self.peer}")
        self.line = HDLCLine(self.host, meters, self.write, timeout, where)
        self.line.on_frame = self._received_frame
        if not self.serial:
            self.line.on_close = self.abort
        return True

    def _received_frame(self, live: LiveMeter | None, frame: bytes) -> None:
        if self.host.observer is not None:
            self.host.observer.frame(live, self.line, True, frame, self.kind, self.peer, self.local)

    @property
    def channel(self) -> object:
        return self.line

    def frames_of(self, data: bytes) -> list[bytes]:
        return split_frames(data)

    def meter_restarted(self, live: LiveMeter) -> None:
        if self.line is None or self._closed or not self.line.meter_restarted(live):
            return
        if not self.serial and len(self.line.meters) == 1:
            _log.info("%s: the meter restarts; connection from %s closed", live.label, self.peer)
            self.close_when_written()

    def received(self, data: bytes, now: float) -> None:
        if self.line is not None:
            self.line.receive_data(data, now)

    def has_association(self) -> bool:
        return self.line is not None and self.line.associated

    def get_timer(self) -> float | None:
        own = super().get_timer()
        line = self.line.get_timer() if self.line is not None and not self._closed else None
        return min((t for t in (own, line) if t is not None), default=None)

    def handle_timer(self, now: float) -> None:
        if self.line is not None and not self._closed:
            self.line.handle_timer(now)
        super().handle_timer(now)

    def closed(self) -> None:
        if self.serial and not self.stopping:
            _log.error("%s: serial port closed", self.endpoint.describe())
        if self.line is not None:
            self.line.close()
        key, self._line_key = self._line_key, None
        if key is not None:
            left = self.host.line_connections[key] - 1
            if left:
                self.host.line_connections[key] = left
            else:
                del self.host.line_connections[key]
