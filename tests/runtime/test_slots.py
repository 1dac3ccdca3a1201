"""Connection slots: what a connection must do to keep one, and how many one client may take.

Transports driven without sockets on a fake clock (the engine's timer queue on test_timers'
FakeLoop): a TCP connection that has not completed an association within
`limits.association_timeout_s` is closed, whatever bytes it sends; each HDLC line has its share
of the process-wide limit; a line takes at most `limits.max_hdlc_links_per_line` links and
answers DM to the SNRM beyond. Then the same over real sockets with gurux-dlms and dlms-cosem.
"""

from __future__ import annotations

import logging
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from gurux_dlms import GXDLMSClient, GXReplyData

from simulator.link.hdlc import FrameKind, HDLCAddress, HDLCFrame, HDLCFrameReader, HDLCParameters
from simulator.runtime.faults import FaultSet
from simulator.runtime.fleet import Fleet
from simulator.runtime.hdlc_stream import HDLCStream
from simulator.runtime.layout import Endpoint, plan
from simulator.runtime.profile import ProfileError, parse_profile
from simulator.runtime.tcp import StreamConnection, WrapperStream
from simulator.runtime.timers import TimerQueue
from simulator.server.objects import TimeBase

from .harness import RunningFleet
from .peers import CLOCK, GuruxPeer, SocketPipe, clock, gurux_client, hdlc_tcp_transport, read
from .test_timers import FakeLoop

# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/studio/docs/Are%20examples%20for%20information%20exchange%20available.htm
AARQ_PUBLIC = bytes.fromhex("601DA109060760857405080101BE10040E01000000065F1F040000301DFFFF")
# https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_asce/test_rlrq.py
RLRQ_NORMAL = bytes.fromhex("6203800100")

PROFILE = """
limits: {max_connections_per_meter: 2, association_timeout_s: 30, tcp_inactivity_timeout_s: 300,
         max_hdlc_links_per_line: 3}
groups:
  - name: m
    model: minimal
    count: 2
    listen:
      - {transport: tcp, port: 4000}
      - {transport: hdlc-tcp, port: 5000}
"""


class FakeHost:
    """The engine as the transports see it, on a clock the test moves."""

    def __init__(self, text: str = PROFILE) -> None:
        profile = parse_profile(text, "slots.yaml")
        layout = plan(profile)
        self.endpoints = layout.endpoints
        self.fleet = Fleet(profile, layout.entries, TimeBase(1_700_000_000.0))
        self.limits = profile.limits
        self.loop = FakeLoop()
        self.timers = TimerQueue(self.loop)  # type: ignore[arg-type]
        self.line_connections: Counter[int] = Counter()
        self.bytes_in: Counter[str] = Counter()  # what closed streams carried
        self.bytes_out: Counter[str] = Counter()
        self.open: set[Any] = set()
        self.holding = False  # no state store: nothing waits for a commit
        self.faults = FaultSet(layout.entries)  # none active
        self.observer = None

    def now(self) -> float:
        return self.loop.now

    def admit(self, connection: Any) -> bool:
        if len(self.open) >= self.limits.max_connections:
            return False
        self.open.add(connection)
        return True

    def forget(self, connection: Any) -> None:
        self.open.discard(connection)

    def endpoint(self, transport: str, meter: int) -> Endpoint:
        return next(e for e in self.endpoints if e.transport == transport
                    and any(m.index == meter for m in e.meters()))


class FakeTransport:
    """Collects what the meter writes; closing ends the connection at once."""

    def __init__(self, protocol: StreamConnection) -> None:
        self.protocol = protocol
        self.out = bytearray()
        self.closed = False
        self.reading = True

    def get_extra_info(self, name: str) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 4000)}.get(name)

    def set_write_buffer_limits(self, high: int, low: int) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def write(self, data: bytes) -> None:
        self.out += data

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.protocol.connection_lost(None)

    abort = close

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


def connect(host: FakeHost, transport: str = "tcp", meter: int = 0) -> FakeTransport:
    kind: Any = WrapperStream if transport == "tcp" else HDLCStream
    protocol = kind(host, host.endpoint(transport, meter))
    wire = FakeTransport(protocol)
    protocol.connection_made(wire)
    return wire


def wrapped(apdu: bytes) -> bytes:
    """A wrapper frame from client 16 to logical device 1."""
    return bytes.fromhex("0001 0010 0001") + len(apdu).to_bytes(2, "big") + apdu


def send(host: FakeHost, wire: FakeTransport, data: bytes, at: float) -> None:
    host.loop.advance(at)
    wire.protocol.data_received(data)


# --------------------------------------------------------------------------- the limits

def test_the_new_limits_are_read_and_checked() -> None:
    limits = parse_profile(PROFILE, "slots.yaml").limits
    assert (limits.association_timeout_s, limits.max_hdlc_links_per_line) == (30, 3)
    defaults = parse_profile(PROFILE.split("groups:")[0].replace("limits", "x-limits") + "groups:"
                             + PROFILE.split("groups:")[1], "slots.yaml").limits
    assert (defaults.association_timeout_s, defaults.max_hdlc_links_per_line) == (30.0, 16)
    bad = PROFILE.replace("association_timeout_s: 30", "association_timeout_s: -1").replace(
        "max_hdlc_links_per_line: 3", "max_hdlc_links_per_line: 0")
    with pytest.raises(ProfileError) as info:
        parse_profile(bad, "slots.yaml")
    text = str(info.value)
    assert "slots.yaml:2" in text and "association_timeout_s: expected a number in 0..31536000" in text
    assert "slots.yaml:3" in text and "max_hdlc_links_per_line: expected an integer in 1..16384" in text


# --------------------------------------------------------------------------- association timeout

def test_bytes_without_an_association_do_not_keep_a_slot(caplog: pytest.LogCaptureFixture) -> None:
    host = FakeHost()
    wire = connect(host)
    with caplog.at_level(logging.INFO, "simulator.runtime"):
        for second in range(0, 30, 3):  # an AARQ, one byte every 3 s: the inactivity timeout never comes
            send(host, wire, wrapped(AARQ_PUBLIC)[second // 3:second // 3 + 1], second)
        assert not wire.closed
        host.loop.advance(30.0)
    assert wire.closed and not host.open
    assert "no association within 30 s (limits.association_timeout_s)" in caplog.text


def test_an_association_keeps_the_connection() -> None:
    host = FakeHost()
    wire = connect(host)
    send(host, wire, wrapped(AARQ_PUBLIC), 29.0)
    assert wire.out[8] == 0x61 and bytes.fromhex("A203020100") in wire.out  # AARE, accepted
    host.loop.advance(31.0)
    assert not wire.closed
    host.loop.advance(29.0 + 300.0)  # then only the inactivity timeout applies
    assert wire.closed


def test_an_association_released_before_the_deadline_counts() -> None:
    """A client that associated, released and will associate again is a client, not a squatter."""
    host = FakeHost()
    wire = connect(host)
    send(host, wire, wrapped(AARQ_PUBLIC), 1.0)
    send(host, wire, wrapped(RLRQ_NORMAL), 2.0)
    assert wire.out[-5] == 0x63  # RLRE
    host.loop.advance(100.0)
    assert not wire.closed


def test_an_hdlc_link_without_an_association_does_not_keep_a_slot() -> None:
    host = FakeHost()
    wire = connect(host, "hdlc-tcp")
    server = HDLCAddress(1, 17, 2)
    send(host, wire, snrm(server, HDLCAddress.client(16)), 1.0)
    assert answers(wire)[0].kind is FrameKind.UA
    host.loop.advance(30.0)
    assert wire.closed and host.line_connections == Counter()


# --------------------------------------------------------------------------- shares

def test_idle_hdlc_connections_to_one_port_leave_the_others_free(caplog: pytest.LogCaptureFixture) -> None:
    host = FakeHost(PROFILE.replace("max_connections_per_meter: 2", "max_connections_per_meter: 2, max_connections: 4"))
    with caplog.at_level(logging.WARNING, "simulator.runtime"):
        first = [connect(host, "hdlc-tcp", 0) for _ in range(3)]
    assert [w.closed for w in first] == [False, False, True]
    assert "refused: 2 connections open (limits.max_connections_per_meter)" in caplog.text
    other = connect(host, "hdlc-tcp", 1)
    assert not other.closed
    first[0].close()
    assert not connect(host, "hdlc-tcp", 0).closed  # the slot came back


# --------------------------------------------------------------------------- links per line

def snrm(server: HDLCAddress, client: HDLCAddress) -> bytes:
    return HDLCFrame(server, client, FrameKind.SNRM, True, information=HDLCParameters().to_bytes()).to_bytes()


def answers(wire: FakeTransport) -> list[HDLCFrame]:
    reader = HDLCFrameReader()
    reader.receive_data(bytes(wire.out))
    wire.out.clear()
    frames = []
    while (frame := reader.next_frame()) is not None:
        frames.append(frame)
    return frames


def test_links_per_line_are_bounded_and_the_next_snrm_gets_dm(caplog: pytest.LogCaptureFixture) -> None:
    host = FakeHost()
    wire = connect(host, "hdlc-tcp")
    server = HDLCAddress(1, 17, 2)
    clients = [HDLCAddress.client(sap) for sap in (16, 17, 18, 19)]
    for client in clients[:3]:
        send(host, wire, snrm(server, client), 1.0)
        assert [f.kind for f in answers(wire)] == [FrameKind.UA]
    with caplog.at_level(logging.INFO, "simulator.runtime"):
        send(host, wire, snrm(server, clients[3]), 1.0)
    (dm,) = answers(wire)
    assert dm.kind is FrameKind.DM and dm.poll_final and dm.destination == clients[3] and dm.source == server
    assert "limits.max_hdlc_links_per_line" in caplog.text
    send(host, wire, HDLCFrame(server, clients[0], FrameKind.DISC, True).to_bytes(), 2.0)
    assert [f.kind for f in answers(wire)] == [FrameKind.UA]
    send(host, wire, snrm(server, clients[3]), 2.0)  # a link went down: room again
    assert [f.kind for f in answers(wire)] == [FrameKind.UA]


# --------------------------------------------------------------------------- over real sockets

WIRE_PROFILE = """
limits: {max_connections: 4, max_connections_per_meter: 2, association_timeout_s: 0.5, max_hdlc_links_per_line: 2}
groups:
  - name: m
    model: minimal
    count: 2
    listen:
      - {transport: hdlc-tcp, host: 127.0.0.1, port: 0}
"""


def closed_by_meter(sock: socket.socket) -> bool:
    """True once the meter closes `sock` (waits up to 5 s for it); False if it answers or stays open."""
    sock.settimeout(5)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_idle_connections_to_one_hdlc_port_do_not_lock_out_another_meter(tmp_path: Path) -> None:
    with RunningFleet(WIRE_PROFILE, tmp_path, state_dir=None) as fleet:
        idle = [socket.create_connection(("127.0.0.1", fleet.port("hdlc-tcp", 0))) for _ in range(4)]
        try:
            assert [closed_by_meter(s) for s in idle[2:]] == [True, True]  # beyond meter 0's share
            (seen,) = read(hdlc_tcp_transport(fleet.port("hdlc-tcp", 1), 16), 16, CLOCK)  # dlms-cosem
            assert seen[:2] == b"\x09\x0c"
            assert [closed_by_meter(s) for s in idle[:2]] == [True, True]  # no association within 0.5 s
        finally:
            for s in idle:
                s.close()


def test_one_connection_cannot_open_more_hdlc_links_than_the_limit(tmp_path: Path) -> None:
    with RunningFleet(WIRE_PROFILE, tmp_path, state_dir=None) as fleet:
        pipe = SocketPipe("127.0.0.1", fleet.port("hdlc-tcp", 0))
        try:
            server = GXDLMSClient.getServerAddress(1, 17)
            public = GuruxPeer(pipe, gurux_client(16, server, hdlc=True))
            public.connect()  # link 1, with an association
            second = GuruxPeer(pipe, gurux_client(17, server, hdlc=True))
            second.exchange(second.client.snrmRequest(), reply := GXReplyData())
            second.client.parseUAResponse(reply.data)  # link 2
            third = GuruxPeer(pipe, gurux_client(18, server, hdlc=True))
            pipe.send(bytes(third.client.snrmRequest()))
            (dm,) = frames(pipe.receive())
            assert dm.kind is FrameKind.DM and dm.destination == HDLCAddress.client(18)
            assert public.read(clock(), 2) is not None  # the links up are still served
            public.release()  # DISC: link 1 down
            third.exchange(third.client.snrmRequest(), reply := GXReplyData())
            third.client.parseUAResponse(reply.data)
        finally:
            pipe.close()


def frames(data: bytes) -> list[HDLCFrame]:
    reader = HDLCFrameReader()
    reader.receive_data(data)
    out = []
    while (frame := reader.next_frame()) is not None:
        out.append(frame)
    return out
