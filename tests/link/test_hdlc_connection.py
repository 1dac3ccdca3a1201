"""The server-side HDLC link state machine, driven by a client built from the frame codec."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import LocalProtocolError
from simulator.link.hdlc import (
    APDUReceived, Event, FrameKind, HDLCAddress, HDLCConnection, HDLCFrame, HDLCFrameReader, HDLCParameters,
    HDLCSettings, LinkConnected, LinkDisconnected, State,
)
from simulator.link.hdlc.fcs import fcs16_bytes
from simulator.link.hdlc.frame import FRMR_W, FRMR_X, FRMR_Y, FRMR_Z

# Kmethy examples in the archived DLMS UA FAQ "Are examples for information exchange available?",
# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/studio/docs/Are%20examples%20for%20information%20exchange%20available.htm
SNRM_KMETHY = bytes.fromhex("7EA00A00020023219318717E")
UA_DEFAULTS_KMETHY = bytes.fromhex(
    "7EA023210002002373F6C58180140502008006020080070400000001080400000001CE6A7E")
GET_TIME_REQUEST_KMETHY = bytes.fromhex("7EA0199575767837E6E600C0018100080000010000FF020065D77E")
GET_TIME_RESPONSE_KMETHY = bytes.fromhex("7EA01E7595966F67E6E700C4018100090C07D20C04030A060BFF007800F3307E")
GET_STATUS_REQUEST_KMETHY = bytes.fromhex("7EA0199575FE383FE6E600C0018100080000010000FF0400B5837E")
GET_STATUS_RESPONSE_KMETHY = bytes.fromhex("7EA01275951E1BF8E6E700C40181001100AC5B7E")
# Real meter trace, https://github.com/milanbella/gocosem/blob/02b8a72f67613192aba85cd284e0cdb02a34378c/doc/electronica/trace-authentication-and-encryption.txt
DISC_GOCOSEM = bytes.fromhex("7EA00A00020023215314B77E")
UA_AFTER_DISC_GOCOSEM = bytes.fromhex("7EA00A2100020023734CE77E")
# dlms-cosem unit tests, https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_hdlc/test_hdlc.py
AARQ_I_U9N = bytes.fromhex(
    "7EA02C02232110AF9FE6E600601DA109060760857405080101BE10040E01000000065F1F0400001E1DFFFFC5E47E")
AARE_I_U9N = bytes.fromhex("7EA0382102233034E7E6E7006129A109060760857405080101A203020100A305A103020100BE10040E"
                           "0800065F1F0400001E1D04C80007B86A7E")

SERVER = HDLCAddress(1, 17, 4)
CLIENT = HDLCAddress.client(16)
AARQ = HDLCFrame.from_bytes(AARQ_I_U9N).information[3:]
AARE = HDLCFrame.from_bytes(AARE_I_U9N).information[3:]
I, RR, RNR = FrameKind.I, FrameKind.RR, FrameKind.RNR  # noqa: E741 - the standard's names


class Peer:
    """A client-side pump: builds frames with the codec, feeds the connection, reads answers."""

    def __init__(self, conn: HDLCConnection, server: HDLCAddress = SERVER, client: HDLCAddress = CLIENT) -> None:
        self.conn, self.server, self.client = conn, server, client
        self.now = 0.0
        self.vs = self.vr = 0
        self._reader = HDLCFrameReader()

    def raw(self, data: bytes) -> list[HDLCFrame]:
        self.conn.receive_data(data, self.now)
        return self.answers()

    def answers(self) -> list[HDLCFrame]:
        self._reader.receive_data(self.conn.data_to_send())
        out = []
        while (frame := self._reader.next_frame()) is not None:
            out.append(frame)
        return out

    def send(self, kind: FrameKind, poll: bool = True, ns: int = 0, nr: int = 0, segmented: bool = False,
             information: bytes = b"", destination: HDLCAddress | None = None) -> list[HDLCFrame]:
        frame = HDLCFrame(destination or self.server, self.client, kind, poll, ns, nr, segmented, information)
        return self.raw(frame.to_bytes())

    def events(self) -> list[Event]:
        out = []
        while (event := self.conn.next_event()) is not None:
            out.append(event)
        return out

    def connect(self, information: bytes = b"") -> HDLCFrame:
        [ua] = self.send(FrameKind.SNRM, information=information)
        assert ua.kind is FrameKind.UA
        self.vs = self.vr = 0
        return ua

    def request(self, apdu: bytes, max_info: int = 128, window: int = 1) -> list[HDLCFrame]:
        """Send an APDU in segments (RR expected for each polled non-final one); the last answer."""
        lsdu = b"\xe6\xe6\x00" + apdu
        chunks = [lsdu[i:i + max_info] for i in range(0, len(lsdu), max_info)]
        answer: list[HDLCFrame] = []
        for index, chunk in enumerate(chunks):
            final = index == len(chunks) - 1
            poll = final or (index + 1) % window == 0
            answer = self.send(I, poll, self.vs, self.vr, not final, chunk)
            self.vs = (self.vs + 1) % 8
            if poll and not final:
                assert [(f.kind, f.nr, f.poll_final) for f in answer] == [(RR, self.vs, True)]
            else:
                assert answer == []
        return answer

    def collect(self, frames: list[HDLCFrame]) -> bytes:
        """Take I frames (polling with RR for more) until the final segment; the APDU."""
        data = b""
        while True:
            assert frames and frames[-1].poll_final
            for frame in frames:
                assert frame.kind is I and frame.ns == self.vr and frame.nr == self.vs
                assert frame.destination == self.client and frame.source == self.server
                data += frame.information
                self.vr = (self.vr + 1) % 8
            if not frames[-1].segmented:
                assert data[:3] == b"\xe6\xe7\x00"
                return data[3:]
            frames = self.send(RR, nr=self.vr)


def _connected(settings_: HDLCSettings | None = None, information: bytes = b"") -> Peer:
    peer = Peer(HDLCConnection(HDLCAddress(1, 17), settings_))
    peer.connect(information)
    peer.events()
    return peer


# -- link establishment ---------------------------------------------------------------------

def test_snrm_without_parameters_gets_the_dlms_ua_example_byte_exact() -> None:
    conn = HDLCConnection(HDLCAddress(1, 17))
    conn.receive_data(SNRM_KMETHY, 0.0)
    assert conn.data_to_send() == UA_DEFAULTS_KMETHY
    assert conn.state is State.NRM
    assert conn.next_event() == LinkConnected(CLIENT, SERVER, HDLCParameters(128, 128, 1, 1))
    assert conn.next_event() is None
    assert (conn.client_address, conn.parameters) == (CLIENT, HDLCParameters())


def test_disc_gets_ua_like_the_real_meter() -> None:
    conn = HDLCConnection(HDLCAddress(1, 17))
    conn.receive_data(SNRM_KMETHY, 0.0)
    conn.data_to_send()
    conn.receive_data(DISC_GOCOSEM, 1.0)
    assert conn.data_to_send() == UA_AFTER_DISC_GOCOSEM
    assert conn.state is State.NDM
    assert [conn.next_event(), conn.next_event()][1] == LinkDisconnected("DISC received")
    assert conn.client_address is None and conn.parameters is None


def test_negotiation_takes_the_minimum_per_direction() -> None:
    peer = Peer(HDLCConnection(HDLCAddress(1, 17), HDLCSettings(512, 256, 7, 3)))
    proposal = HDLCParameters(max_info_tx=1000, max_info_rx=200, window_tx=7, window_rx=2)
    ua = peer.connect(proposal.to_bytes())
    agreed = HDLCParameters(max_info_tx=200, max_info_rx=256, window_tx=2, window_rx=3)
    assert HDLCParameters.from_bytes(ua.information) == agreed
    assert peer.events() == [LinkConnected(CLIENT, SERVER, agreed)]


def test_snrm_with_bad_parameters_gets_dm() -> None:
    peer = Peer(HDLCConnection(HDLCAddress(1, 17)))
    [dm] = peer.send(FrameKind.SNRM, information=bytes.fromhex("818003050100"))
    assert dm.kind is FrameKind.DM and peer.conn.state is State.NDM
    peer.connect()
    peer.events()
    [dm] = peer.send(FrameKind.SNRM, information=b"\x82\x80\x00")
    assert dm.kind is FrameKind.DM and peer.conn.state is State.NDM
    assert peer.events() == [LinkDisconnected("SNRM with invalid parameters")]


def test_snrm_in_nrm_resets_the_link() -> None:
    peer = _connected()
    peer.request(b"\x01")
    peer.conn.send_apdu(b"\x02")
    peer.collect(peer.answers())
    assert peer.vs == 1 and peer.events() == [APDUReceived(b"\x01")]
    peer.connect()
    assert peer.events() == [LinkDisconnected("link reset by SNRM"), LinkConnected(CLIENT, SERVER, HDLCParameters())]
    peer.request(b"\x03")  # N(S)=0 again is in sequence
    assert peer.events() == [APDUReceived(b"\x03")]


def test_answers_in_the_address_form_the_client_used() -> None:
    peer = Peer(HDLCConnection(HDLCAddress(1, 17)), server=HDLCAddress(1, 17, 2))
    ua = peer.connect()
    assert ua.source == HDLCAddress(1, 17, 2)
    [event] = peer.events()
    assert isinstance(event, LinkConnected) and event.server.length == 2


# -- disconnected mode ----------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "information"), [
    (FrameKind.DISC, b""), (I, b"\xe6\xe6\x00\x01"), (RR, b""), (RNR, b""), (FrameKind.UA, b""),
])
def test_ndm_answers_dm(kind: FrameKind, information: bytes) -> None:
    peer = Peer(HDLCConnection(HDLCAddress(1, 17)))
    [dm] = peer.send(kind, information=information)
    assert (dm.kind, dm.poll_final, dm.destination, dm.source) == (FrameKind.DM, True, CLIENT, SERVER)
    assert peer.conn.state is State.NDM and peer.events() == []


def test_ndm_ignores_frames_without_poll() -> None:
    peer = Peer(HDLCConnection(HDLCAddress(1, 17)))
    assert peer.send(I, poll=False, information=b"\xe6\xe6\x00\x01") == []
    assert peer.events() == []


def test_ndm_answers_unknown_control_with_dm() -> None:
    peer = Peer(HDLCConnection(HDLCAddress(1, 17)))
    frame = HDLCFrame(SERVER, CLIENT, RR).to_bytes()
    [dm] = peer.raw(_with_control(frame, 0x99))
    assert dm.kind is FrameKind.DM


def test_ui_in_ndm_is_delivered_without_answer() -> None:
    peer = Peer(HDLCConnection(HDLCAddress(1, 17)))
    assert peer.send(FrameKind.UI, information=b"\xe6\xe6\x00\xc2\x00") == []
    assert peer.events() == [APDUReceived(b"\xc2\x00", unnumbered=True)]


def test_send_apdu_needs_the_link() -> None:
    with pytest.raises(LocalProtocolError):
        HDLCConnection(HDLCAddress(1, 17)).send_apdu(b"\x00")


# -- data transfer --------------------------------------------------------------------------

def test_request_response_reproduces_the_faq_session_byte_exact() -> None:
    # The FAQ's session: server 0x95 (logical 74), client 0x75 (SAP 58); GET requests with
    # N(S)=3 and N(S)=7 and the meter's answers. Three exchanges bring the link to N(S)=3.
    server, client = HDLCAddress(74), HDLCAddress(58)
    peer = Peer(HDLCConnection(server), server=server, client=client)
    peer.connect()
    for _ in range(3):
        peer.request(b"\xc0\x01\x81")
        peer.conn.send_apdu(b"\xc4\x01\x81\x00\x00")
        peer.collect(peer.answers())
    peer.events()
    peer.raw(GET_TIME_REQUEST_KMETHY)
    [event] = peer.events()
    assert event == APDUReceived(HDLCFrame.from_bytes(GET_TIME_REQUEST_KMETHY).information[3:])
    peer.conn.send_apdu(HDLCFrame.from_bytes(GET_TIME_RESPONSE_KMETHY).information[3:])
    assert peer.conn.data_to_send() == GET_TIME_RESPONSE_KMETHY
    peer.vs, peer.vr = 4, 4
    for _ in range(3):  # N(S) 4..6
        peer.request(b"\xc0\x01\x81")
        peer.conn.send_apdu(b"\xc4\x01\x81\x00\x00")
        peer.collect(peer.answers())
    peer.raw(GET_STATUS_REQUEST_KMETHY)
    peer.conn.send_apdu(HDLCFrame.from_bytes(GET_STATUS_RESPONSE_KMETHY).information[3:])
    assert peer.conn.data_to_send() == GET_STATUS_RESPONSE_KMETHY


def test_aarq_frame_from_dlms_cosem_is_delivered() -> None:
    peer = Peer(HDLCConnection(HDLCAddress(1, 17)), server=HDLCAddress(1, 17, 2))
    peer.connect()
    peer.events()
    assert peer.raw(AARQ_I_U9N) == []
    assert peer.events() == [APDUReceived(AARQ)]
    peer.conn.send_apdu(AARE)
    # N(S)=0, N(R)=1, F=1, same addresses: the answer is the published AARE frame.
    assert peer.conn.data_to_send() == AARE_I_U9N


def test_segmented_request_is_acknowledged_segment_by_segment() -> None:
    peer = _connected(information=HDLCParameters(max_info_tx=32).to_bytes())
    answer = peer.request(AARQ, max_info=32)  # RR with the next N(R) for each segment is asserted inside
    assert answer == [] and peer.vs == 2
    assert peer.events() == [APDUReceived(AARQ)]


def test_segmented_request_with_receive_window() -> None:
    proposal = HDLCParameters(max_info_tx=32, window_tx=3)
    peer = _connected(HDLCSettings(window_rx=3), proposal.to_bytes())
    apdu = bytes(range(100))
    peer.request(apdu, max_info=32, window=3)  # 4 segments: RR only after the 3rd, none after P=0 ones
    assert peer.events() == [APDUReceived(apdu)]


def test_segmented_response_polled_with_rr() -> None:
    peer = _connected()
    peer.request(AARQ)
    apdu = bytes(range(256)) + bytes(44)
    peer.conn.send_apdu(apdu)
    first = peer.answers()
    assert [(f.kind, f.segmented, f.poll_final, len(f.information)) for f in first] == [(I, True, True, 128)]
    assert peer.conn.data_to_send() == b""  # nothing more until the client polls
    assert peer.collect(first) == apdu
    assert peer.vr == 3  # 303 bytes with LLC: 128 + 128 + 47


def test_window_greater_than_one_sends_bursts() -> None:
    proposal = HDLCParameters(max_info_rx=40, window_rx=3)
    peer = _connected(HDLCSettings(window_tx=7), proposal.to_bytes())
    peer.request(b"\xc0")
    apdu = bytes(range(250))  # 253 with LLC: 7 segments of at most 40
    peer.conn.send_apdu(apdu)
    burst = peer.answers()
    assert [(f.ns, f.poll_final, f.segmented) for f in burst] == [(0, False, True), (1, False, True), (2, True, True)]
    peer.vr = 3
    burst2 = peer.send(RR, nr=3)
    assert [(f.ns, f.poll_final) for f in burst2] == [(3, False), (4, False), (5, True)]
    peer.vr = 6
    last = peer.send(RR, nr=6)
    assert [(f.ns, f.poll_final, f.segmented) for f in last] == [(6, True, False)]
    data = b"".join(f.information for f in burst + burst2 + last)
    assert data == b"\xe6\xe7\x00" + apdu


def test_partial_acknowledgement_goes_back_n() -> None:
    proposal = HDLCParameters(max_info_rx=40, window_rx=3)
    peer = _connected(HDLCSettings(window_tx=3), proposal.to_bytes())
    peer.request(b"\xc0")
    peer.conn.send_apdu(bytes(200))
    burst = peer.answers()
    # The client got only the first frame: N(R)=1 makes the server resend from N(S)=1.
    again = peer.send(RR, nr=1)
    assert [(f.ns, f.information) for f in again] == [(1, burst[1].information), (2, burst[2].information),
                                                      (3, again[2].information)]
    assert again[-1].poll_final and not any(f.poll_final for f in again[:-1])


def test_rr_without_acknowledgement_repeats_the_segment() -> None:
    peer = _connected()
    peer.request(b"\xc0")
    peer.conn.send_apdu(bytes(300))
    [first] = peer.answers()
    [again] = peer.send(RR, nr=0)  # the client lost the segment
    assert again == first


def test_repeated_request_is_answered_again_not_processed_twice() -> None:
    peer = _connected()
    request = HDLCFrame(SERVER, CLIENT, I, True, 0, 0, False, b"\xe6\xe6\x00\xc0\x01").to_bytes()
    assert peer.raw(request) == []
    assert peer.events() == [APDUReceived(b"\xc0\x01")]
    # The client repeats before the answer exists: nothing to repeat yet.
    assert peer.raw(request) == [] and peer.events() == []
    peer.conn.send_apdu(b"\xc4\x01")
    answer = peer.conn.data_to_send()
    peer.conn.receive_data(request, 1.0)  # the client missed the answer
    assert peer.conn.data_to_send() == answer
    assert peer.events() == []
    # The next request acknowledges it and goes on normally.
    peer.vs, peer.vr = 1, 1
    peer.request(b"\xc0\x02")
    assert peer.events() == [APDUReceived(b"\xc0\x02")]


def test_repeated_segment_gets_the_same_rr() -> None:
    peer = _connected()
    segment = HDLCFrame(SERVER, CLIENT, I, True, 0, 0, True, b"\xe6\xe6\x00" + bytes(50)).to_bytes()
    [rr] = peer.raw(segment)
    assert (rr.kind, rr.nr) == (RR, 1)
    assert peer.raw(segment) == [rr]
    peer.send(I, ns=1, nr=0, information=b"\x01")
    assert peer.events() == [APDUReceived(bytes(50) + b"\x01")]


def test_out_of_sequence_frame_gets_rr_with_expected_number() -> None:
    peer = _connected()
    [rr] = peer.send(I, ns=3, nr=0, information=b"\xe6\xe6\x00\x01")
    assert (rr.kind, rr.nr) == (RR, 0)
    assert peer.events() == []


def test_wrong_llc_header_is_dropped_but_acknowledged() -> None:
    peer = _connected()
    [rr] = peer.send(I, ns=0, nr=0, information=b"\xe6\xe7\x00\x01")
    assert (rr.kind, rr.nr) == (RR, 1)
    assert peer.events() == []


def test_rr_poll_with_nothing_to_send() -> None:
    peer = _connected()
    [rr] = peer.send(RR, nr=0)
    assert (rr.kind, rr.nr, rr.poll_final) == (RR, 0, True)


def test_rr_without_poll_is_not_answered() -> None:
    peer = _connected()
    assert peer.send(RR, poll=False) == []


def test_data_queued_before_a_poll_waits_for_it() -> None:
    peer = _connected()
    peer.send(I, poll=False, information=b"\xe6\xe6\x00\x01")
    peer.conn.send_apdu(b"\x02")
    assert peer.answers() == []
    [frame] = peer.send(RR, nr=0)
    assert (frame.kind, frame.ns, frame.nr, frame.information) == (I, 0, 1, b"\xe6\xe7\x00\x02")


def test_rnr_holds_transmission() -> None:
    peer = _connected()
    peer.request(b"\xc0")
    peer.conn.send_apdu(bytes(300))
    peer.answers()
    [rr] = peer.send(RNR, nr=1)
    assert rr.kind is RR
    [nxt] = peer.send(RR, nr=1)
    assert (nxt.kind, nxt.ns) == (I, 1)


def test_ui_in_nrm() -> None:
    peer = _connected()
    [rr] = peer.send(FrameKind.UI, information=b"\xe6\xe6\x00\x05")
    assert rr.kind is RR
    assert peer.send(FrameKind.UI, poll=False, information=b"\xe6\xe6\x00\x06") == []
    assert peer.events() == [APDUReceived(b"\x05", True), APDUReceived(b"\x06", True)]


# -- frame rejection ------------------------------------------------------------------------

def _with_control(frame: bytes, control: int) -> bytes:
    """Replace the control byte of a client frame to the 4-byte SERVER; fix HCS and FCS."""
    body = bytearray(frame[1:-3])
    body[7] = control
    if len(body) > 8:
        body[8:10] = fcs16_bytes(bytes(body[:8]))
    return b"\x7e" + bytes(body) + fcs16_bytes(bytes(body)) + b"\x7e"


def test_unknown_control_gets_frmr_and_the_link_stays_rejected() -> None:
    peer = _connected()
    peer.request(b"\xc0")
    peer.conn.send_apdu(b"\xc4")
    peer.collect(peer.answers())
    peer.events()
    [frmr] = peer.raw(_with_control(HDLCFrame(SERVER, CLIENT, RR).to_bytes(), 0x99))
    assert frmr.kind is FrameKind.FRMR and frmr.poll_final
    assert frmr.information == bytes((0x99, (1 << 5) | (1 << 1), FRMR_W))  # V(S)=1, V(R)=1
    assert peer.conn.state is State.FRAME_REJECT
    # Anything but SNRM/DISC gets the same FRMR again.
    assert peer.send(I, ns=1, nr=1, information=b"\xe6\xe6\x00\x01") == [frmr]
    assert peer.send(RR, poll=False, nr=1) == []
    assert peer.events() == []
    peer.connect()
    assert peer.conn.state is State.NRM


def test_frame_reject_recovers_with_disc() -> None:
    peer = _connected()
    peer.send(FrameKind.UA)
    assert peer.conn.state is State.FRAME_REJECT
    [ua] = peer.send(FrameKind.DISC)
    assert ua.kind is FrameKind.UA and peer.conn.state is State.NDM


@pytest.mark.parametrize(("kind", "kwargs", "flags"), [
    (FrameKind.UA, {}, FRMR_W),  # a response frame sent as a command
    (FrameKind.DM, {}, FRMR_W),
    (RR, {"nr": 3}, FRMR_Z),  # acknowledges frames never sent
    (I, {"nr": 1, "information": b"\xe6\xe6\x00\x01"}, FRMR_Z),
    (I, {"information": bytes(129)}, FRMR_Y),  # longer than the negotiated 128
    (FrameKind.UI, {"information": bytes(129)}, FRMR_Y),
])
def test_invalid_frames_in_nrm_get_frmr(kind: FrameKind, kwargs: dict, flags: int) -> None:
    peer = _connected()
    [frmr] = peer.send(kind, **kwargs)
    assert frmr.kind is FrameKind.FRMR
    assert frmr.information[1:] == bytes((0, flags))
    assert frmr.information[0] == HDLCFrame(SERVER, CLIENT, kind, **kwargs).control


def test_rr_with_information_gets_frmr_w_x() -> None:
    peer = _connected()
    ui = HDLCFrame(SERVER, CLIENT, FrameKind.UI, information=b"\x01").to_bytes()
    [frmr] = peer.raw(_with_control(ui, 0x11))  # RR, P=1, N(R)=0, but with an information field
    assert frmr.information == bytes((0x11, 0, FRMR_W | FRMR_X))


def test_invalid_frame_without_poll_sends_frmr_at_the_next_poll() -> None:
    peer = _connected()
    assert peer.send(FrameKind.UA, poll=False) == []
    assert peer.conn.state is State.FRAME_REJECT
    [frmr] = peer.send(RR)
    assert frmr.kind is FrameKind.FRMR and frmr.information[0] == 0x63


def test_bad_fcs_is_dropped_silently() -> None:
    peer = _connected()
    frame = HDLCFrame(SERVER, CLIENT, I, information=b"\xe6\xe6\x00\x01").to_bytes()
    assert peer.raw(frame[:-3] + bytes((frame[-3] ^ 0xFF,)) + frame[-2:]) == []
    assert peer.events() == [] and peer.conn.state is State.NRM
    assert peer.raw(frame) == []
    assert peer.events() == [APDUReceived(b"\x01")]


# -- addressing -----------------------------------------------------------------------------

def test_frames_for_other_meters_are_ignored() -> None:
    peer = Peer(HDLCConnection(HDLCAddress(1, 17)))
    for other in (HDLCAddress(1, 18, 4), HDLCAddress(2, 17, 4), HDLCAddress(1)):
        assert peer.send(FrameKind.SNRM, destination=other) == []
        assert peer.send(FrameKind.UI, destination=other, information=b"\xe6\xe6\x00\x01") == []
    assert peer.events() == [] and peer.conn.state is State.NDM


def test_other_clients_are_ignored_while_connected() -> None:
    peer = _connected()
    intruder = Peer(peer.conn, client=HDLCAddress.client(1))
    assert intruder.send(FrameKind.SNRM) == []
    assert intruder.send(FrameKind.DISC) == []
    assert intruder.send(I, information=b"\xe6\xe6\x00\x01") == []
    assert peer.events() == [] and peer.conn.client_address == CLIENT


def test_all_station_ui_is_delivered_without_answer() -> None:
    peer = _connected()
    for broadcast in (HDLCAddress(0x3FFF, 0x3FFF, 4), HDLCAddress(1, 0x7F, 2), HDLCAddress(0x7F, 17, 2)):
        assert peer.send(FrameKind.UI, destination=broadcast, information=b"\xe6\xe6\x00\x07") == []
    assert peer.events() == [APDUReceived(b"\x07", True)] * 3
    assert peer.send(FrameKind.DISC, destination=HDLCAddress(0x3FFF, 0x3FFF, 4)) == []
    assert peer.conn.state is State.NRM


def test_dispatcher_entry_points() -> None:
    conn = HDLCConnection(HDLCAddress(1, 17))
    conn.receive_frame(HDLCFrame(SERVER, CLIENT, FrameKind.SNRM), 0.0)
    assert HDLCFrame.from_bytes(conn.data_to_send()).kind is FrameKind.UA
    conn.receive_frame(HDLCFrame(SERVER, CLIENT, I, information=b"\xe6\xe6\x00\x09"), 0.1)
    assert conn.next_event() is not None and conn.next_event() == APDUReceived(b"\x09")


# -- timers ---------------------------------------------------------------------------------

def test_inactivity_timeout_drops_the_link_silently() -> None:
    peer = _connected(HDLCSettings(inactivity_timeout_s=60))
    peer.now = 10.0
    peer.request(b"\xc0")
    assert peer.conn.get_timer() == 70.0
    peer.conn.handle_timer(69.9)
    assert peer.conn.state is State.NRM
    peer.conn.handle_timer(70.0)
    assert peer.conn.state is State.NDM
    assert peer.events() == [APDUReceived(b"\xc0"), LinkDisconnected("inactivity timeout")]
    assert peer.conn.data_to_send() == b""
    assert peer.conn.get_timer() is None
    peer.now = 71.0
    [dm] = peer.send(I, information=b"\xe6\xe6\x00\x01")
    assert dm.kind is FrameKind.DM


def test_inactivity_timeout_zero_disables() -> None:
    peer = _connected(HDLCSettings(inactivity_timeout_s=0))
    assert peer.conn.get_timer() is None
    peer.conn.handle_timer(1e9)
    assert peer.conn.state is State.NRM


def test_frames_for_others_do_not_keep_the_link_alive() -> None:
    peer = _connected(HDLCSettings(inactivity_timeout_s=60))
    peer.now = 50.0
    peer.send(RR, destination=HDLCAddress(1, 18, 4))
    assert peer.conn.get_timer() == 60.0


def test_inter_frame_timeout_discards_a_partial_frame() -> None:
    peer = _connected()
    frame = HDLCFrame(SERVER, CLIENT, I, information=b"\xe6\xe6\x00\x01").to_bytes()
    peer.now = 5.0
    assert peer.raw(frame[:10]) == []
    assert peer.conn.get_timer() == pytest.approx(5.025)
    peer.conn.handle_timer(5.02)
    peer.conn.handle_timer(5.03)
    peer.now = 5.5
    assert peer.raw(frame[10:]) == []  # the tail alone is noise
    assert peer.events() == []
    assert peer.conn.get_timer() == 120.0  # only inactivity is left; no whole frame since SNRM
    assert peer.raw(frame) == []
    assert peer.events() == [APDUReceived(b"\x01")]


def test_inter_frame_timeout_uncovers_frames_behind_a_false_start() -> None:
    peer = _connected()
    frame = HDLCFrame(SERVER, CLIENT, I, information=b"\xe6\xe6\x00\x01").to_bytes()
    assert peer.raw(b"\x7e\xa7\xff\x00" + frame) == []
    assert peer.events() == []
    peer.conn.handle_timer(1.0)
    assert peer.events() == [APDUReceived(b"\x01")]


# -- robustness -----------------------------------------------------------------------------

_kinds = st.sampled_from([I, RR, RNR, FrameKind.SNRM, FrameKind.DISC, FrameKind.UI, FrameKind.UA])


@st.composite
def _client_actions(draw: st.DrawFn) -> list[tuple]:
    actions: list[tuple] = []
    for _ in range(draw(st.integers(1, 25))):
        choice = draw(st.integers(0, 9))
        if choice == 0:
            actions.append(("apdu", draw(st.binary(max_size=300))))
        elif choice == 1:
            actions.append(("timer", draw(st.floats(0, 200))))
        elif choice == 2:
            actions.append(("noise", draw(st.binary(min_size=1, max_size=20))))
        else:
            kind = draw(_kinds)
            info = b""
            if kind in (I, FrameKind.UI):
                info = b"\xe6\xe6\x00" + draw(st.binary(max_size=140))
            elif kind is FrameKind.SNRM and draw(st.booleans()):
                info = HDLCParameters(draw(st.integers(1, 300)), draw(st.integers(1, 300)),
                                      draw(st.integers(1, 9)), draw(st.integers(1, 9))).to_bytes()
            actions.append(("frame", HDLCFrame(SERVER, CLIENT, kind, draw(st.booleans()), draw(st.integers(0, 7)),
                                               draw(st.integers(0, 7)), draw(st.booleans()), info)))
    return actions


@settings(max_examples=150, deadline=None)
@given(_client_actions(), st.sampled_from([HDLCSettings(), HDLCSettings(64, 64, 3, 3)]))
def test_any_client_behaviour_yields_only_valid_frames(actions: list[tuple], settings_: HDLCSettings) -> None:
    conn = HDLCConnection(HDLCAddress(1, 17), settings_)
    reader = HDLCFrameReader()
    now = 0.0
    for action, value in actions:
        now += 0.01
        if action == "apdu":
            if conn.state is State.NRM:
                conn.send_apdu(value)
        elif action == "timer":
            now += value
            conn.handle_timer(now)
        elif action == "noise":
            conn.receive_data(value, now)
        else:
            conn.receive_data(value.to_bytes(), now)
        reader.receive_data(conn.data_to_send())
        while (frame := reader.next_frame()) is not None:
            assert frame.destination == CLIENT and frame.source.logical == 1
            if conn.parameters is not None and frame.kind is I:
                assert len(frame.information) <= conn.parameters.max_info_tx
        while conn.next_event() is not None:
            pass
        timer = conn.get_timer()
        assert timer is None or timer >= 0


# -- interoperability with gurux-dlms as the client -----------------------------------------

@pytest.mark.parametrize(("window", "polls"), [(1, 1), (3, 0)])
def test_gurux_client_connects_associates_and_reassembles(window: int, polls: int) -> None:
    from gurux_dlms import GXByteBuffer, GXDLMSClient, GXReplyData
    from gurux_dlms.enums import Authentication, InterfaceType, RequestTypes

    client = GXDLMSClient(True, 16, GXDLMSClient.getServerAddress(1, 17, 4), Authentication.NONE, None,
                          InterfaceType.HDLC)
    client.hdlcSettings.maxInfoTX = 20  # forces a segmented AARQ
    client.hdlcSettings.maxInfoRX = 32  # forces a segmented AARE
    client.hdlcSettings.windowSizeRX = window  # with 3, both AARE segments go in one burst
    conn = HDLCConnection(HDLCAddress(1, 17), HDLCSettings(512, 512, 7, 1))

    conn.receive_data(bytes(client.snrmRequest()), 0.0)
    reply = GXReplyData()
    client.getData(GXByteBuffer(conn.data_to_send()), reply)
    client.parseUAResponse(reply.data)
    assert (client.hdlcSettings.maxInfoTX, client.hdlcSettings.maxInfoRX) == (20, 32)
    assert isinstance(conn.next_event(), LinkConnected)
    assert conn.parameters == HDLCParameters(max_info_tx=32, max_info_rx=20, window_tx=window, window_rx=1)

    for frame in client.aarqRequest():
        conn.receive_data(bytes(frame), 0.1)
        answer = conn.data_to_send()
        if answer:  # RR for the first segment; gurux follows the sequence numbers in it
            assert HDLCFrame.from_bytes(answer).kind is RR
            client.getData(GXByteBuffer(answer), GXReplyData())
    event = conn.next_event()
    assert isinstance(event, APDUReceived) and event.apdu[:1] == b"\x60"

    conn.send_apdu(AARE)
    reply = GXReplyData()
    rr_polls = 0
    while True:
        data = GXByteBuffer(conn.data_to_send())
        while data.position < data.size:  # gurux takes one frame per call
            client.getData(data, reply)
        if reply.moreData == RequestTypes.NONE:
            break
        rr_polls += 1
        conn.receive_data(bytes(client.receiverReady(reply)), 0.2)
    assert rr_polls == polls
    client.parseAareResponse(reply.data)

    conn.receive_data(bytes(client.disconnectRequest()), 0.3)
    assert HDLCFrame.from_bytes(conn.data_to_send()).kind is FrameKind.UA
    assert conn.state is State.NDM
