"""The server side of an HDLC link (IEC 62056-46): one server address, one client at a time.

Sans-IO: bytes and `now` (monotonic seconds) go in through `receive_data`, frames come
out of `data_to_send`, events out of `next_event`, and the owner re-arms one timer
(`get_timer` / `handle_timer`). The link runs in normal response mode: the server only
transmits when the client polls (P=1), and answers every poll with exactly one burst
whose last frame carries F=1.

    state          input                     answer, next state
    NDM            SNRM (valid parameters)   UA + negotiated parameters, NRM
    NDM            SNRM (bad parameters)     DM, NDM
    NDM            DISC                      DM, NDM
    NDM            UI                        (APDU delivered), NDM
    NDM            other with P=1            DM, NDM
    NRM            SNRM                      UA, NRM (sequence numbers reset)
    NRM            DISC                      UA, NDM
    NRM            I in sequence             RR if segmented, else APDU up and the
                                             reply (send_apdu) when it comes, NRM
    NRM            I repeated                the last answer again, NRM
    NRM            I out of sequence         RR with V(R) (if P=1), NRM
    NRM            RR / RNR                  next frames of the window or RR, NRM
    NRM            UI                        (APDU delivered) if P=1: queued frames or RR, NRM
    NRM            invalid frame             FRMR, FRAME_REJECT
    FRAME_REJECT   SNRM / DISC               as in NRM
    FRAME_REJECT   other with P=1            FRMR again, FRAME_REJECT
    NRM, FRAME_REJECT  inactivity timeout    (nothing sent), NDM

Frames with a bad HCS/FCS are dropped without answer, frames for other addresses are
ignored (a multi-drop line carries other meters' traffic), and once the link is up
only the client that opened it is heard.
"""

from __future__ import annotations

import enum
from collections import deque

from ...errors import DecodeError, LocalProtocolError
from .address import HDLCAddress
from .events import APDUReceived, Event, LinkConnected, LinkDisconnected
from .frame import (
    FRMR_W, FRMR_Y, FRMR_Z, FrameKind, FrameRejected, HDLCFrame, reject_information,
)
from .parameters import HDLCParameters, HDLCSettings, negotiate
from .reader import HDLCFrameReader

__all__ = ["HDLCConnection", "LLC_REQUEST", "LLC_RESPONSE", "State"]

LLC_REQUEST = b"\xe6\xe6\x00"   # destination LSAP, source LSAP (command), quality
LLC_RESPONSE = b"\xe6\xe7\x00"  # source LSAP E7: response
_MAX_LSDU = 0xFFFF + len(LLC_REQUEST)  # the largest xDLMS APDU plus its LLC header


class State(enum.Enum):
    NDM = "NDM"  # normal disconnected mode
    NRM = "NRM"  # normal response mode: the link is up
    FRAME_REJECT = "FRAME_REJECT"  # FRMR sent; only SNRM or DISC recover (ISO/IEC 13239)


def _all_station(address: HDLCAddress) -> int:
    return 0x3FFF if address.length == 4 else 0x7F


class HDLCConnection:
    """Server-side HDLC link for `server_address`; see the module docstring for the rules."""

    def __init__(self, server_address: HDLCAddress, settings: HDLCSettings | None = None) -> None:
        self.server_address = server_address
        self.settings = settings or HDLCSettings()
        self._reader = HDLCFrameReader()
        self._events: deque[Event] = deque()
        self._out = bytearray()
        self._state = State.NDM
        self._client: HDLCAddress | None = None
        self._server_wire = server_address  # the address form the client used
        self._parameters: HDLCParameters | None = None
        self._last_bytes_at: float | None = None
        self._last_frame_at = 0.0
        self._reset_link()

    def _reset_link(self) -> None:
        self._vr = 0  # V(R): next N(S) expected from the client
        self._va = 0  # N(S) of our oldest unacknowledged I frame
        self._unacked: list[tuple[bytes, bool]] = []  # (information, segmented) sent, not acked
        self._queue: deque[tuple[bytes, bool]] = deque()  # waiting for a poll or window room
        self._rx_segments: list[bytes] = []
        self._rx_size = 0
        self._poll_held = False  # the client polled and has not had its F=1 answer yet
        self._peer_busy = False
        self._last_response: bytes | None = None
        self._rejection = b""

    # -- public vocabulary -------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def client_address(self) -> HDLCAddress | None:
        """The client that opened the link (None in NDM)."""
        return self._client

    @property
    def parameters(self) -> HDLCParameters | None:
        """The negotiated parameters, server's point of view (None in NDM)."""
        return self._parameters

    @property
    def _vs(self) -> int:
        return (self._va + len(self._unacked)) & 7

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the line; frames for other addresses are skipped."""
        if not data:
            return
        self._last_bytes_at = now
        self._reader.receive_data(data)
        self._drain_reader(now)

    def receive_frame(self, frame: HDLCFrame, now: float) -> None:
        """One decoded frame, for a dispatcher that splits and routes a shared line itself."""
        reach = self._reach(frame.destination, frame.source)
        if reach is None:
            return
        if not reach:  # all-station: only connectionless data, never an answer
            if frame.kind is FrameKind.UI:
                self._deliver(frame.information, unnumbered=True)
            return
        self._last_frame_at = now
        kind = frame.kind
        if kind is FrameKind.SNRM:
            self._on_snrm(frame)
        elif kind is FrameKind.DISC:
            self._on_disc(frame)
        elif self._state is State.NDM:
            if kind is FrameKind.UI:
                self._deliver(frame.information, unnumbered=True)
            elif frame.poll_final:
                self._send_unnumbered(FrameKind.DM, frame.source, frame.destination, True)
        elif self._state is State.FRAME_REJECT:
            if frame.poll_final:
                self._send_reject()
        elif kind is FrameKind.I:
            self._on_information(frame)
        elif kind is FrameKind.RR or kind is FrameKind.RNR:
            self._on_supervisory(frame)
        elif kind is FrameKind.UI:
            self._on_ui(frame)
        else:  # UA, DM, FRMR are responses: a client may not send them
            self._reject(frame.control, FRMR_W)

    def receive_invalid_frame(self, error: FrameRejected, now: float) -> None:
        """A checked frame that cannot be accepted (from the reader or a dispatcher)."""
        reach = self._reach(error.destination, error.source)
        if not reach:
            return
        self._last_frame_at = now
        if self._state is State.NDM:
            if error.poll:
                self._send_unnumbered(FrameKind.DM, error.source, error.destination, True)
        elif self._state is State.FRAME_REJECT:
            if error.poll:
                self._send_reject()
        else:
            self._reject(error.control, error.flags)

    def send_apdu(self, apdu: bytes) -> None:
        """Queue an APDU for the client: LLC header, segments of the negotiated size.

        Frames leave at once if the client's poll is pending, else at its next RR.
        """
        if self._state is not State.NRM or self._parameters is None:
            raise LocalProtocolError(f"cannot send an APDU: HDLC link is in {self._state.value}")
        lsdu = LLC_RESPONSE + apdu
        size = self._parameters.max_info_tx
        last = len(lsdu) - size
        for pos in range(0, len(lsdu), size):
            self._queue.append((lsdu[pos:pos + size], pos < last))
        self._service_poll()

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        """The next instant `handle_timer` has work to do, or None."""
        deadlines = []
        if self._last_bytes_at is not None and self._reader.has_partial:
            deadlines.append(self._last_bytes_at + self.settings.inter_frame_timeout_s)
        if self._state is not State.NDM and self.settings.inactivity_timeout_s > 0:
            deadlines.append(self._last_frame_at + self.settings.inactivity_timeout_s)
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        if (self._last_bytes_at is not None and self._reader.has_partial
                and now >= self._last_bytes_at + self.settings.inter_frame_timeout_s):
            while self._reader.has_partial:  # frames behind a false start still count
                self._reader.discard_partial()
                self._drain_reader(now)
        if (self._state is not State.NDM and self.settings.inactivity_timeout_s > 0
                and now >= self._last_frame_at + self.settings.inactivity_timeout_s):
            self._disconnect("inactivity timeout")

    # -- input -------------------------------------------------------------------------

    def _drain_reader(self, now: float) -> None:
        while True:
            try:
                frame = self._reader.next_frame()
            except FrameRejected as error:
                self.receive_invalid_frame(error, now)
                continue
            except DecodeError:  # bad HCS/FCS or malformed header: HDLC drops it silently
                continue
            if frame is None:
                return
            self.receive_frame(frame, now)

    def _reach(self, destination: HDLCAddress, source: HDLCAddress) -> bool | None:
        """True: addressed to us; False: all-station frame we receive; None: not for us."""
        server = self.server_address
        if destination.logical == server.logical and destination.physical == server.physical:
            if self._state is not State.NDM and source != self._client:
                return None
            return True
        if destination.is_all_station:
            every = _all_station(destination)
            if (destination.logical in (server.logical, every)
                    and destination.physical in (server.physical, every, None)):
                return False
        return None

    def _on_snrm(self, frame: HDLCFrame) -> None:
        try:
            proposal = HDLCParameters.from_bytes(frame.information)
        except DecodeError:
            self._send_unnumbered(FrameKind.DM, frame.source, frame.destination, frame.poll_final)
            if self._state is not State.NDM:
                self._disconnect("SNRM with invalid parameters")
            return
        if self._state is not State.NDM:
            self._disconnect("link reset by SNRM")
        parameters = negotiate(proposal, self.settings.parameters)
        self._state = State.NRM
        self._client = frame.source
        self._server_wire = frame.destination
        self._parameters = parameters
        self._send_unnumbered(FrameKind.UA, frame.source, frame.destination, frame.poll_final,
                              parameters.to_bytes())
        self._events.append(LinkConnected(frame.source, frame.destination, parameters))

    def _on_disc(self, frame: HDLCFrame) -> None:
        if self._state is State.NDM:
            self._send_unnumbered(FrameKind.DM, frame.source, frame.destination, frame.poll_final)
            return
        self._send_unnumbered(FrameKind.UA, frame.source, frame.destination, frame.poll_final)
        self._disconnect("DISC received")

    def _on_information(self, frame: HDLCFrame) -> None:
        assert self._parameters is not None
        if not self._nr_valid(frame.nr):
            self._reject(frame.control, FRMR_Z)
            return
        info = frame.information
        if len(info) > self._parameters.max_info_rx or self._rx_size + len(info) > _MAX_LSDU:
            self._reject(frame.control, FRMR_Y)
            return
        if frame.ns != self._vr:
            if (frame.ns + 1) & 7 == self._vr:
                # The client missed our answer: repeat it rather than process twice. No
                # answer yet (the APDU is still with the layer above): it comes with send_apdu.
                if frame.poll_final and self._last_response is not None:
                    self._out += self._last_response
            elif frame.poll_final:  # out of sequence: tell the client where to resume
                self._send_response(self._receiver_ready())
            return
        self._vr = (self._vr + 1) & 7
        self._last_response = None
        self._acknowledge(frame.nr)
        self._rx_segments.append(info)
        self._rx_size += len(info)
        if frame.segmented:
            if frame.poll_final:
                self._send_response(self._receiver_ready())
            return
        lsdu = b"".join(self._rx_segments)
        self._rx_segments.clear()
        self._rx_size = 0
        if frame.poll_final:
            self._poll_held = True
        if not self._deliver(lsdu, unnumbered=False) or self._queue:
            self._service_poll()

    def _on_supervisory(self, frame: HDLCFrame) -> None:
        if not self._nr_valid(frame.nr):
            self._reject(frame.control, FRMR_Z)
            return
        self._acknowledge(frame.nr)
        self._peer_busy = frame.kind is FrameKind.RNR
        if not frame.poll_final:
            return
        if self._unacked:  # go back N: the client did not get these
            self._queue.extendleft(reversed(self._unacked))
            self._unacked.clear()
        self._poll_held = True
        self._service_poll()

    def _on_ui(self, frame: HDLCFrame) -> None:
        assert self._parameters is not None
        if len(frame.information) > self._parameters.max_info_rx:
            self._reject(frame.control, FRMR_Y)
            return
        self._deliver(frame.information, unnumbered=True)
        if frame.poll_final:
            self._poll_held = True
            self._service_poll()

    def _nr_valid(self, nr: int) -> bool:
        return (nr - self._va) & 7 <= len(self._unacked)

    def _acknowledge(self, nr: int) -> None:
        del self._unacked[:(nr - self._va) & 7]
        self._va = nr

    def _deliver(self, lsdu: bytes, unnumbered: bool) -> bool:
        """Pass an LSDU up without its LLC header; False when the header is wrong (dropped)."""
        if lsdu[:3] != LLC_REQUEST:
            return False
        self._events.append(APDUReceived(lsdu[3:], unnumbered))
        return True

    # -- output ------------------------------------------------------------------------

    def _service_poll(self) -> None:
        """Answer a pending poll: the next window of queued I frames, else RR."""
        if not self._poll_held:
            return
        if self._state is not State.NRM or self._parameters is None:
            self._poll_held = False
            return
        room = self._parameters.window_tx - len(self._unacked)
        if not self._queue or self._peer_busy or room <= 0:
            self._send_response(self._receiver_ready())
            return
        count = min(room, len(self._queue))
        frames = []
        for i in range(count):
            info, segmented = self._queue.popleft()
            frames.append(HDLCFrame(self._client_or_raise(), self._server_wire, FrameKind.I,
                                    i == count - 1, self._vs, self._vr, segmented, info).to_bytes())
            self._unacked.append((info, segmented))
        self._send_response(b"".join(frames))

    def _receiver_ready(self) -> bytes:
        return HDLCFrame(self._client_or_raise(), self._server_wire, FrameKind.RR, True,
                         nr=self._vr).to_bytes()

    def _send_response(self, data: bytes) -> None:
        """Send the F=1 answer to a poll and keep it for a repeated request."""
        self._out += data
        self._last_response = data
        self._poll_held = False

    def _send_unnumbered(self, kind: FrameKind, to: HDLCAddress, source: HDLCAddress, final: bool,
                         information: bytes = b"") -> None:
        self._out += HDLCFrame(to, source, kind, final, information=information).to_bytes()

    def _reject(self, control: int, flags: int) -> None:
        """Enter the frame-reject condition; FRMR goes out now if the frame polled."""
        self._rejection = reject_information(control, self._vs, self._vr, flags)
        self._state = State.FRAME_REJECT
        self._queue.clear()
        self._poll_held = False
        if control & 0x10:
            self._send_reject()

    def _send_reject(self) -> None:
        self._send_unnumbered(FrameKind.FRMR, self._client_or_raise(), self._server_wire, True,
                              self._rejection)

    def _client_or_raise(self) -> HDLCAddress:
        if self._client is None:  # only reachable through a bug: NRM always has a client
            raise LocalProtocolError("HDLC link has no client address")
        return self._client

    def _disconnect(self, reason: str) -> None:
        self._state = State.NDM
        self._client = None
        self._parameters = None
        self._server_wire = self.server_address
        self._reset_link()
        self._events.append(LinkDisconnected(reason))
