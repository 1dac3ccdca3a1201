"""Meters over real loopback sockets, with the independent clients dlms-cosem and gurux-dlms.

Every transport (TCP wrapper, UDP wrapper by port and by address, HDLC over TCP, a multi-drop
HDLC line) and every demo association (16 public, 2 LLS, 1 HLS-GMAC with suite-0 authenticated
encryption); several clients at once; connection limits and the TCP inactivity timeout.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from gurux_dlms import GXDLMSClient
from gurux_dlms.objects import GXDLMSData

from simulator.model.catalogue import SHIPPED_DIR

from .harness import RunningFleet
from .peers import (
    CLOCK, LDN, MANAGEMENT_COUNTER, GuruxPeer, SocketPipe, clock, counter_object, energy_register,
    gurux_client, hdlc_tcp_transport, read, wrapper_transport,
)

PROFILE = """
name: interop
limits: {tcp_inactivity_timeout_s: 30, max_connections_per_meter: 8}  # up to 8 clients at once on one meter
groups:
  - name: electricity
    model: idis_poly
    count: 2
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
      - {transport: udp, host: 127.0.0.1, port: 0}
      - {transport: hdlc-tcp, host: 127.0.0.1, port: 0, physical_address: 17}
      - {transport: hdlc-tcp, addressing: multidrop, host: 127.0.0.1, port: 0, physical_address: 17}
      - {transport: udp, addressing: address, host: 127.0.2.1, port: 0}
"""


def ldn(number: int) -> bytes:
    """The A-XDR logical device name of fleet meter `number` (1-based): SIM + serial."""
    name = f"SIM{number:08d}".encode()
    return bytes((0x09, len(name))) + name


def is_date_time(encoded: bytes) -> bool:
    return encoded[:2] == b"\x09\x0c" and len(encoded) == 14


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    with RunningFleet(PROFILE, tmp_path_factory.mktemp("interop"), state_dir=None) as running:
        yield running


def multidrop_port(fleet: RunningFleet) -> int:
    return next(e.port for e in fleet.engine.endpoints
                if e.transport == "hdlc-tcp" and isinstance(e.routes.get(None), dict))


# --------------------------------------------------------------------------- TCP wrapper

@pytest.mark.parametrize("client_sap", [16, 2, 1])
def test_dlms_cosem_over_tcp_wrapper(fleet: RunningFleet, client_sap: int) -> None:
    port = fleet.port("tcp", 0)
    clock_value, name = read(wrapper_transport(port, client_sap), client_sap, CLOCK, LDN)
    assert is_date_time(clock_value)
    assert name == ldn(1)


def test_gurux_over_tcp_wrapper_lls_and_hls(fleet: RunningFleet) -> None:
    port = fleet.port("tcp", 1)
    for client_sap in (2, 1):
        peer = GuruxPeer(SocketPipe("127.0.0.1", port), gurux_client(client_sap))
        try:
            when, energy = peer.session_read((clock(), 2), (energy_register(), 2))
        finally:
            peer.pipe.close()
        assert when is not None and energy == 0


# --------------------------------------------------------------------------- UDP wrapper

@pytest.mark.parametrize("client_sap", [16, 1])
def test_gurux_over_udp_wrapper(fleet: RunningFleet, client_sap: int) -> None:
    peer = GuruxPeer(SocketPipe("127.0.0.1", fleet.port("udp", 0), udp=True), gurux_client(client_sap))
    try:
        (when,) = peer.session_read((clock(), 2))
    finally:
        peer.pipe.close()
    assert when is not None


def test_udp_by_address_answers_from_the_meter_address(fleet: RunningFleet) -> None:
    """One wildcard socket: the datagram to 127.0.2.2 reaches meter 1, and the answer comes from
    127.0.2.2 (a connected UDP socket drops datagrams from any other source)."""
    port = next(e.port for e in fleet.engine.endpoints if e.transport == "udp" and e.by_address)
    for address, number in (("127.0.2.2", 2), ("127.0.2.1", 1)):
        peer = GuruxPeer(SocketPipe(address, port, udp=True), gurux_client(16))
        try:
            (name,) = peer.session_read((GXDLMSData("0.0.42.0.0.255"), 2))
        finally:
            peer.pipe.close()
        assert bytes(name) == ldn(number)[2:]


# --------------------------------------------------------------------------- HDLC over TCP

@pytest.mark.parametrize("client_sap", [16, 2, 1])
def test_dlms_cosem_over_hdlc_tcp(fleet: RunningFleet, client_sap: int) -> None:
    clock_value, name = read(hdlc_tcp_transport(fleet.port("hdlc-tcp", 0), client_sap), client_sap, CLOCK, LDN)
    assert is_date_time(clock_value) and name == ldn(1)


def test_gurux_over_hdlc_tcp_with_hls(fleet: RunningFleet) -> None:
    port = fleet.port("hdlc-tcp", 1)
    peer = GuruxPeer(SocketPipe("127.0.0.1", port), gurux_client(1, GXDLMSClient.getServerAddress(1, 17), hdlc=True))
    try:
        when, energy = peer.session_read((clock(), 2), (energy_register(), 2))
    finally:
        peer.pipe.close()
    assert when is not None and energy == 0


def test_multidrop_line_answers_each_physical_address(fleet: RunningFleet) -> None:
    """One TCP connection is one shared line: meter 0 at physical 17, meter 1 at 18, nobody at 30."""
    pipe = SocketPipe("127.0.0.1", multidrop_port(fleet))
    try:
        for physical, number in ((17, 1), (18, 2)):
            peer = GuruxPeer(pipe, gurux_client(16, GXDLMSClient.getServerAddress(1, physical), hdlc=True))
            (name,) = peer.session_read((GXDLMSData("0.0.42.0.0.255"), 2))
            assert bytes(name) == ldn(number)[2:]
        silent = gurux_client(16, GXDLMSClient.getServerAddress(1, 30), hdlc=True)
        pipe.sock.settimeout(0.3)
        pipe.send(bytes(silent.snrmRequest()))
        with pytest.raises(socket.timeout):
            pipe.receive()
    finally:
        pipe.close()


def test_dlms_cosem_on_the_multidrop_line(fleet: RunningFleet) -> None:
    port = multidrop_port(fleet)
    (name,) = read(hdlc_tcp_transport(port, 2, physical=18), 2, LDN)
    assert name == ldn(2)


# --------------------------------------------------------------------------- many clients

def test_several_clients_at_once(fleet: RunningFleet) -> None:
    """Public, LLS and HLS clients (distinct system titles) on one meter at the same time."""
    tcp, hdlc = fleet.port("tcp", 0), fleet.port("hdlc-tcp", 0)

    def session(i: int) -> bytes:
        client_sap = (16, 2, 1)[i % 3]
        transport = wrapper_transport(tcp, client_sap) if i % 2 else hdlc_tcp_transport(hdlc, client_sap)
        title = f"PAR{i:05d}".encode()
        (name,) = read(transport, client_sap, LDN, system_title=title)
        return name

    with ThreadPoolExecutor(8) as pool:
        names = list(pool.map(session, range(12)))
    assert names == [ldn(1)] * 12


def test_public_client_reads_the_management_counter(fleet: RunningFleet) -> None:
    port = fleet.port("tcp", 1)
    read(wrapper_transport(port, 1), 1, CLOCK, invocation_counter=10**8, system_title=b"COUNTER1")
    (value,) = read(wrapper_transport(port, 16), 16, MANAGEMENT_COUNTER)
    assert value[0] == 0x06 and int.from_bytes(value[1:], "big") >= 10**8
    peer = GuruxPeer(SocketPipe("127.0.0.1", port), gurux_client(16))
    try:
        (seen,) = peer.session_read((counter_object(), 2))
    finally:
        peer.pipe.close()
    assert seen >= 10**8


# --------------------------------------------------------------------------- limits

LIMITED = """
name: limited
limits: {tcp_inactivity_timeout_s: 0.5, max_connections_per_meter: 1}
groups:
  - name: m
    model: minimal
    count: 1
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
      - {transport: hdlc-tcp, host: 127.0.0.1, port: 0}
"""
AARQ_PUBLIC = bytes.fromhex("601DA109060760857405080101BE10040E01000000065F1F0400001E1DFFFF")


def wrapped(apdu: bytes) -> bytes:
    """A wrapper frame from client 16 to logical device 1."""
    return bytes.fromhex("0001 0010 0001") + len(apdu).to_bytes(2, "big") + apdu


def answered(sock: socket.socket, apdu: bytes) -> bytes:
    sock.sendall(wrapped(apdu))
    sock.settimeout(5)
    return sock.recv(1000)


def closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the meter closes `sock` (recv gives b''); fails if it stays open longer."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        assert sock.recv(100) == b""
    except ConnectionResetError:  # dropped with a reset rather than closed: closed all the same
        pass
    return time.monotonic() - start


def test_tcp_inactivity_timeout_and_per_meter_limit(tmp_path) -> None:
    with RunningFleet(LIMITED, tmp_path) as fleet:
        first = socket.create_connection(("127.0.0.1", fleet.port("tcp")))
        hdlc = socket.create_connection(("127.0.0.1", fleet.port("hdlc-tcp")))
        try:
            assert answered(first, AARQ_PUBLIC)[8] == 0x61  # AARE: the first connection is in
            second = socket.create_connection(("127.0.0.1", fleet.port("tcp")))
            closed_within(second, 5)  # refused: one connection per meter
            second.close()
            last_request = time.monotonic()
            assert answered(first, bytes.fromhex("C001C100080000010000FF0200"))[8] == 0xC4  # still served
            closed_within(first, 5)
            # closed after 0.5 s without a request; uvloop's clock counts milliseconds and is read
            # once per loop iteration, so the meter's 0.5 s may end a millisecond before ours
            assert time.monotonic() - last_request >= 0.5 - 0.005
            closed_within(hdlc, 5)
            assert fleet.call(lambda: fleet.engine.connections) == 0
        finally:
            first.close()
            hdlc.close()


def test_bytes_buffered_limit_drops_a_flooding_client(tmp_path) -> None:
    profile = LIMITED.replace("tcp_inactivity_timeout_s: 0.5", "tcp_inactivity_timeout_s: 60, max_buffered_bytes: 4096")
    with RunningFleet(profile, tmp_path) as fleet:
        sock = socket.create_connection(("127.0.0.1", fleet.port("tcp")))
        try:
            sock.sendall(bytes.fromhex("0001 0010 0001 2000"))  # announces an 8 KiB APDU
            closed_within(sock, 5)  # long before the inactivity timeout
        finally:
            sock.close()


def test_hdlc_inactivity_timeout_from_the_hdlc_setup_object(tmp_path) -> None:
    """A model whose IEC HDLC setup says 1 s: the link drops (DM to the next poll), TCP stays up."""
    minimal = (SHIPPED_DIR / "minimal.yaml").read_text(encoding="utf-8")
    (tmp_path / "short.yaml").write_text(minimal + """
      - class: IEC HDLC setup
        obis: 0.0.22.0.0.255
        name: IEC HDLC setup
        attributes: {inactivity_time_out: 1, device_address: 17}
""", encoding="utf-8")
    profile = "groups:\n  - {name: s, model: short.yaml, listen: [{transport: hdlc-tcp, host: 127.0.0.1, port: 0}]}\n"
    with RunningFleet(profile, tmp_path) as fleet:
        client = gurux_client(16, GXDLMSClient.getServerAddress(1, 17), hdlc=True)
        pipe = SocketPipe("127.0.0.1", fleet.port("hdlc-tcp"))
        try:
            peer = GuruxPeer(pipe, client)
            peer.connect()
            assert fleet.call(lambda: len(fleet.engine.timers)) == 1  # the link's deadline
            time.sleep(1.6)
            pipe.send(bytes(client.read(clock(), 2)[0]))  # an I frame, polling
            answer = pipe.receive()
            assert answer[0] == 0x7E and answer[-4] & 0xEF == 0x0F  # DM: the link timed out
        finally:
            pipe.close()
