"""The UDP wrapper's client table: datagrams from many source ports cannot lock out real clients.

A UDP socket knows at most `limits.max_connections` clients. Over a real UDP socket with
gurux-dlms: strangers (source ports that never associated) fill the table, and a head-end that
associates afterwards is still answered, because strangers are forgotten first, the oldest
first; an associated client is never forgotten to make room, and a stranger is refused once
every known client has an association.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from .harness import RunningFleet
from .peers import GuruxPeer, SocketPipe, clock, gurux_client

MAX_CLIENTS = 20
PROFILE = f"""
limits: {{max_connections: {MAX_CLIENTS}}}
groups:
  - name: m
    model: minimal
    count: 1
    listen:
      - {{transport: udp, host: 127.0.0.1, port: 0}}
"""
# GET-Request-Normal of the clock's time (0.0.1.0.0.255/2), wrapped from client 16 to logical device 1:
# outside an association the meter answers it with an exception-response.
GET_CLOCK = bytes.fromhex("0001 0010 0001 000D C001C100080000010000FF0200")


def stranger(port: int) -> socket.socket:
    """A UDP socket on a source port of its own that sends one request and never associates."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    sock.send(GET_CLOCK)
    return sock


def answered(sock: socket.socket) -> bool:
    """Whether an answer is already waiting (the meter answers each datagram before reading the next)."""
    sock.setblocking(False)
    try:
        return bool(sock.recv(65536))
    except BlockingIOError:
        return False


def associated_reader(port: int) -> GuruxPeer:
    peer = GuruxPeer(SocketPipe("127.0.0.1", port, udp=True), gurux_client(16))
    peer.connect()
    return peer


def test_strangers_make_room_for_a_client_that_associates(tmp_path: Path) -> None:
    with RunningFleet(PROFILE, tmp_path, state_dir=None) as fleet:
        port = fleet.port("udp")
        first = associated_reader(port)
        strangers = [stranger(port) for _ in range(5 * MAX_CLIENTS)]
        try:
            assert first.read(clock(), 2) is not None  # processed after every stranger's datagram
            assert all(answered(s) for s in strangers)  # each was heard, evicting an older one
            late = associated_reader(port)  # the table is full of strangers: the oldest makes room
            assert late.read(clock(), 2) is not None
            assert first.read(clock(), 2) is not None  # never evicted
            late.pipe.close()
        finally:
            first.pipe.close()
            for s in strangers:
                s.close()


def test_a_stranger_is_refused_when_every_known_client_has_an_association(tmp_path: Path) -> None:
    profile = PROFILE.replace(f"max_connections: {MAX_CLIENTS}", "max_connections: 2")
    with RunningFleet(profile, tmp_path, state_dir=None) as fleet:
        port = fleet.port("udp")
        peers = [associated_reader(port) for _ in range(2)]
        late = stranger(port)
        try:
            assert peers[0].read(clock(), 2) is not None  # the meter has handled the stranger by now
            assert not answered(late)
            assert peers[1].read(clock(), 2) is not None
        finally:
            late.close()
            for peer in peers:
                peer.pipe.close()


def test_a_stranger_is_forgotten_after_the_association_timeout(tmp_path: Path) -> None:
    profile = PROFILE.replace(f"max_connections: {MAX_CLIENTS}", "association_timeout_s: 0.2, udp_peer_timeout_s: 300")
    with RunningFleet(profile, tmp_path, state_dir=None) as fleet:
        port = fleet.port("udp")
        peer = associated_reader(port)
        late = stranger(port)
        try:
            assert peer.read(clock(), 2) is not None
            assert fleet.call(lambda: len(fleet.engine.timers)) == 2  # two clients known
            deadline = time.monotonic() + 5
            while fleet.call(lambda: len(fleet.engine.timers)) != 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert fleet.call(lambda: len(fleet.engine.timers)) == 1  # the stranger is gone
            assert peer.read(clock(), 2) is not None  # the associated client stays
        finally:
            late.close()
            peer.pipe.close()
