"""`run --pcap`: the frames of client sessions land in the capture in order, with IP, TCP and UDP
headers that agree (lengths, checksums, sequence and acknowledgement numbers per direction), the
payloads being exactly the octets the clients sent and received, but for the secrets `--trace`
masks (an LLS password as 2A octets). Read back by the small pcap
reader below and, when Debian's tshark is installed (.ci/run installs it), by tshark itself."""

from __future__ import annotations

import json
import re
import shutil
import signal
import struct
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from gurux_dlms import GXDLMSClient
from gurux_dlms.objects import GXDLMSClock

from simulator.decode import decode
from simulator.runtime.pcap import LINKTYPE_RAW, Capture, PcapWriter

from .harness import LLS_PASSWORD, NO_SOCAT, SOCAT, RunningFleet, pty_pair
from .peers import CLOCK, LDN, GuruxPeer, SerialPipe, SocketPipe, dlms_client, gurux_client, read, wrapper_transport
from .test_push import Receiver, invoke_push, plain_fleet

ROOT = Path(__file__).resolve().parents[2]
TSHARK = shutil.which("tshark")
NO_TSHARK = "tshark is not installed (.ci/run installs it): no independent pcap reader"
PROFILE = """
name: captured
groups:
  - name: e
    model: idis_poly
    count: 1
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
      - {transport: udp, host: 127.0.0.1, port: 0}
      - {transport: hdlc-tcp, host: 127.0.0.1, port: 0}
"""


# --------------------------------------------------------------------------- a pcap reader of our own

@dataclass(frozen=True)
class Packet:
    source: tuple[str, int]
    destination: tuple[str, int]
    protocol: str  # "tcp" | "udp"
    flags: int  # TCP flags (0 for UDP)
    seq: int
    ack: int
    payload: bytes


def _sum16(data: bytes) -> int:
    """The Internet checksum, the plain way: big-endian words, carries folded."""
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def read_pcap(path: Path) -> list[Packet]:
    """Every record of a LINKTYPE_RAW IPv4 capture, each header checked against the others."""
    data = path.read_bytes()
    magic, major, minor, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    assert (magic, major, minor, linktype) == (0xA1B2C3D4, 2, 4, LINKTYPE_RAW)
    packets, at, last = [], 24, (0, 0)
    while at < len(data):
        seconds, micros, included, original = struct.unpack("<IIII", data[at:at + 16])
        assert included == original and micros < 1_000_000 and (seconds, micros) >= last
        last = (seconds, micros)
        ip = data[at + 16:at + 16 + included]
        at += 16 + included
        assert ip[0] == 0x45 and int.from_bytes(ip[2:4], "big") == len(ip)
        assert _sum16(ip[:20]) == 0xFFFF  # the header checksum holds
        protocol, source, destination, body = ip[9], ip[12:16], ip[16:20], ip[20:]
        pseudo = source + destination + bytes((0, protocol)) + len(body).to_bytes(2, "big")
        assert _sum16(pseudo + body) == 0xFFFF  # so does the TCP or UDP checksum
        ports = struct.unpack("!HH", body[:4])
        src, dst = (".".join(map(str, source)), ports[0]), (".".join(map(str, destination)), ports[1])
        if protocol == 6:
            seq, ack, offset, flags = struct.unpack("!IIBB", body[4:14])
            packets.append(Packet(src, dst, "tcp", flags, seq, ack, body[(offset >> 4) * 4:]))
        else:
            assert protocol == 17 and int.from_bytes(body[4:6], "big") == len(body)
            packets.append(Packet(src, dst, "udp", 0, 0, 0, body[8:]))
    return packets


def check_tcp(packets: list[Packet]) -> dict[tuple[tuple[str, int], tuple[str, int]], bytes]:
    """Each TCP connection opens with a handshake and its sequence and acknowledgement numbers run
    on per direction; returns the octets each direction carried."""
    streams: dict[tuple[tuple[str, int], tuple[str, int]], bytes] = {}
    next_seq: dict[tuple[tuple[str, int], tuple[str, int]], int] = {}
    for p in (p for p in packets if p.protocol == "tcp"):
        way, back = (p.source, p.destination), (p.destination, p.source)
        if p.flags == 0x02:  # SYN
            assert way not in next_seq
            next_seq[way] = (p.seq + 1) & 0xFFFFFFFF
            continue
        if p.flags == 0x12:  # SYN ACK
            assert p.ack == next_seq[back]
            next_seq[way] = (p.seq + 1) & 0xFFFFFFFF
            continue
        assert p.seq == next_seq[way] and p.ack == next_seq[back]
        next_seq[way] = (p.seq + len(p.payload)) & 0xFFFFFFFF
        streams[way] = streams.get(way, b"") + p.payload
    return streams


class RecordingPipe(SocketPipe):
    """A socket that keeps what it sent and received."""

    def __init__(self, host: str, port: int, udp: bool = False) -> None:
        super().__init__(host, port, udp)
        self.sent: list[bytes] = []
        self.received: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.sent.append(bytes(data))
        super().send(data)

    def receive(self) -> bytes:
        self.received.append(super().receive())
        return self.received[-1]


def _session(pipe: RecordingPipe, client_sap: int, hdlc: bool = False) -> None:
    peer = GuruxPeer(pipe, gurux_client(client_sap, 0x4011 if hdlc else 1, hdlc=hdlc))
    try:
        peer.session_read((GXDLMSClock("0.0.1.0.0.255"), 2))
    finally:
        pipe.close()


# --------------------------------------------------------------------------- the tests

def test_a_capture_holds_every_frame_of_client_sessions_in_order(tmp_path: Path) -> None:
    capture_path = tmp_path / "meters.pcap"
    with RunningFleet(PROFILE, tmp_path, state_dir=None) as fleet:
        capture = Capture(capture_path)
        fleet.engine.observer = capture
        tcp = RecordingPipe("127.0.0.1", fleet.port("tcp"))
        _session(tcp, 2)  # LLS: the AARQ carries the password
        hdlc = RecordingPipe("127.0.0.1", fleet.port("hdlc-tcp"))
        _session(hdlc, 16, hdlc=True)
        udp = RecordingPipe("127.0.0.1", fleet.port("udp"), udp=True)
        _session(udp, 2)
        fleet.run(capture.stop())
    assert LLS_PASSWORD not in capture_path.read_bytes()
    sent = {pipe: [_masked(frame) for frame in pipe.sent] for pipe in (tcp, hdlc, udp)}
    assert sent[tcp][0] != tcp.sent[0] and sent[hdlc] == hdlc.sent  # the password masked, as --trace masks it
    packets = read_pcap(capture_path)
    streams = check_tcp(packets)
    for pipe, port in ((tcp, fleet.port("tcp")), (hdlc, fleet.port("hdlc-tcp"))):
        ways = [w for w in streams if w[1] == ("127.0.0.1", port)]  # the client's side of the connection
        assert len(ways) == 1, ways
        way = ways[0]
        assert streams[way] == b"".join(sent[pipe])
        assert streams[(way[1], way[0])] == b"".join(pipe.received)
    datagrams = [p for p in packets if p.protocol == "udp"]
    assert [p.payload for p in datagrams if p.destination[1] == fleet.port("udp")] == sent[udp]
    assert [p.payload for p in datagrams if p.source[1] == fleet.port("udp")] == udp.received
    # the wrapper session's frames one per record, in the order they crossed
    wrapper = [p for p in packets if p.protocol == "tcp" and p.payload and fleet.port("tcp") in
               (p.source[1], p.destination[1])]
    assert [p.payload for p in wrapper] == [frame for pair in zip(sent[tcp], tcp.received) for frame in pair]


def _masked(frame: bytes) -> bytes:
    """A wrapper frame as the capture holds it: an LLS password's octets shown as 2A."""
    return frame.replace(LLS_PASSWORD, b"\x2a" * len(LLS_PASSWORD))


def test_serial_lines_and_ipv6_peers_are_written_as_documented() -> None:
    writer = PcapWriter()
    serial = writer.frame(True, bytes.fromhex("7EA00802232193BF327E"), "hdlc-serial", "/dev/ttyS0",
                          "/dev/ttyS0", 1.5)
    ip = serial[16:]
    assert ip[9] == 17 and bytes(ip[12:16]) == bytes((127, 1, 0, 1)) and bytes(ip[16:20]) == bytes((127, 2, 0, 1))
    assert struct.unpack("!HH", ip[20:24]) == (4061, 4059) and ip[28:] == bytes.fromhex("7EA00802232193BF327E")
    answer = writer.frame(False, b"\x7e", "hdlc-serial", "/dev/ttyS0", "/dev/ttyS0", 1.6)[16:]
    assert bytes(answer[12:16]) == bytes((127, 2, 0, 1)) and bytes(answer[16:20]) == bytes((127, 1, 0, 1))
    six = writer.frame(True, b"\x00\x01", "udp", "[::1]:5000", "[::1]:4059", 2.0)[16:]
    assert six[0] >> 4 == 6 and six[6] == 17 and six[8:24] == bytes(15) + b"\x01"


def test_run_pcap_writes_the_capture_tshark_reads(tmp_path: Path) -> None:
    if TSHARK is None:
        pytest.skip(NO_TSHARK)
    profile = tmp_path / "captured.yaml"
    profile.write_text(PROFILE)
    capture_path = tmp_path / "run.pcap"
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "run", str(profile), "--no-state",
                             "--pcap", str(capture_path), "--control", "127.0.0.1:0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = ""
        while "control plane:" not in banner:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            banner += line
        port = int(re.search(r"TCP wrapper 127\.0\.0\.1:(\d+)", banner).group(1))  # type: ignore[union-attr]
        api = re.search(r"control plane: (http://\S+/)", banner).group(1)  # type: ignore[union-attr]
        read(wrapper_transport(port, 16), 16, LDN)
        with dlms_client(wrapper_transport(port, 16), 16).session() as session:
            session.get(CLOCK)
        with urllib.request.urlopen(f"{api}api/meters/00000001/trace", timeout=10) as answer:
            traced = json.load(answer)  # the control plane behind the capture still sees every frame
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    ours = [p for p in read_pcap(capture_path) if p.payload]
    fields = subprocess.run(
        [TSHARK, "-r", str(capture_path), "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
         "-Y", "tcp.len > 0", "-T", "fields", "-e", "tcp.dstport", "-e", "tcp.checksum.status",
         "-e", "ip.checksum.status", "-e", "tcp.analysis.flags", "-e", "tcp.payload"],
        capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    rows = [line.split("\t") for line in fields]
    assert len(rows) == len(ours) >= 8  # two sessions: AARQ, AARE, GET, response, RLRQ, RLRE at least
    for row, packet in zip(rows, ours):
        destination, tcp_ok, ip_ok, problems, payload = row
        assert (int(destination), tcp_ok, ip_ok, problems) == (packet.destination[1], "1", "1", "")
        assert bytes.fromhex(payload.replace(":", "")) == packet.payload
    assert any(row[0] == str(port) and row[4].replace(":", "").startswith("000100100001") for row in rows)
    assert [bytes.fromhex(entry["hex"]) for entry in traced] == [p.payload for p in ours]


SERIAL_PROFILE = """
name: captured-line
groups:
  - name: line
    model: idis_poly
    count: 2
    listen:
      - {{transport: hdlc-serial, device: "{device}", baud_rate: 9600, physical_address: 17}}
"""


def test_a_serial_line_is_written_as_udp_datagrams_one_frame_each(tmp_path: Path) -> None:
    if SOCAT is None:
        pytest.skip(NO_SOCAT)
    capture_path = tmp_path / "line.pcap"
    with pty_pair(tmp_path) as (meter_tty, client_tty):
        with RunningFleet(SERIAL_PROFILE.format(device=meter_tty), tmp_path, state_dir=None) as fleet:
            capture = Capture(capture_path)
            fleet.engine.observer = capture
            recording = _Recording(SerialPipe(client_tty))
            try:
                peer = GuruxPeer(recording, gurux_client(2, GXDLMSClient.getServerAddress(1, 18), hdlc=True))
                peer.session_read((GXDLMSClock("0.0.1.0.0.255"), 2))  # the line's second meter, LLS
            finally:
                recording.close()
            fleet.run(capture.stop())
    packets = read_pcap(capture_path)
    assert {p.protocol for p in packets} == {"udp"}
    head_end, meter = ("127.1.0.1", 4061), ("127.2.0.1", 4059)
    assert all((p.source, p.destination) in ((head_end, meter), (meter, head_end)) for p in packets)
    sent = [p.payload for p in packets if p.destination == meter]
    received = [p.payload for p in packets if p.source == meter]
    assert LLS_PASSWORD in b"".join(recording.sent) and LLS_PASSWORD not in b"".join(sent)  # masked in the AARQ
    assert all(decode(frame).input == "hdlc" for frame in sent)  # its FCS recomputed: every frame still reads
    assert len(sent) == len(recording.sent) and sent[0] == recording.sent[0]  # SNRM to meter 18, as sent
    assert b"".join(received) == b"".join(recording.received)  # the second meter's answers, one frame a datagram
    assert all(frame[0] == frame[-1] == 0x7E for frame in sent + received)


class _Recording:
    """A serial line that keeps what the client sent and received."""

    def __init__(self, pipe: SerialPipe) -> None:
        self.pipe = pipe
        self.sent: list[bytes] = []
        self.received: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.sent.append(bytes(data))
        self.pipe.send(data)

    def receive(self) -> bytes:
        self.received.append(self.pipe.receive())
        return self.received[-1]

    def close(self) -> None:
        self.pipe.close()


@pytest.mark.parametrize("transport", ["tcp", "udp", "hdlc"])
def test_a_push_is_in_the_capture_as_the_head_end_received_it(tmp_path: Path, transport: str) -> None:
    receiver = Receiver(udp=transport == "udp")
    capture_path = tmp_path / "push.pcap"
    try:
        listen = "{transport: tcp, host: 127.0.0.1, port: 0}"
        with RunningFleet(plain_fleet(tmp_path, receiver.port, transport=transport, listen=listen), tmp_path) as fleet:
            capture = Capture(capture_path)
            fleet.engine.observer = capture
            invoke_push(fleet.port("tcp"), plain=True)
            _, pushed = receiver.get()
            fleet.run(capture.stop())
    finally:
        receiver.close()
    packets = read_pcap(capture_path)
    to_head_end = [p for p in packets if p.destination == ("127.0.0.1", receiver.port)]
    assert b"".join(p.payload for p in to_head_end) == pushed
    if transport != "udp":  # the meter opened the connection: its SYN comes first
        assert to_head_end[0].flags == 0x02 and not to_head_end[0].payload
        assert check_tcp(packets)[(to_head_end[0].source, to_head_end[0].destination)] == pushed
