"""kill -9 at random instants: nothing acknowledged is lost, no invocation counter is reused.

`cosem-sim run` runs in a child process; gurux-dlms (HLS-GMAC, suite 0 authenticated
encryption, client 1 of idis_poly) SETs the alarm filter 0.0.97.98.10.255 to ever new values
and GETs it back over the TCP wrapper until the simulator is killed with SIGKILL, at a random
instant of each round. After each restart:
- the alarm filter reads the last value whose SET was acknowledged, or one sent after it
  (a SET may be kept and its answer lost with the process);
- the counter the meter publishes (0.0.43.1.1.255) is at least the last one it acknowledged,
  and an association whose AARQ carries that counter again is refused;
- every invocation counter the meter sent, across all runs, is different from all the others.
The instants come from a seed printed with any failure.
"""

from __future__ import annotations

import os
import random
import re
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path

from gurux_dlms import GXDLMSException
from gurux_dlms.enums import DataType as GuruxType
from gurux_dlms.objects import GXDLMSData

from simulator.apdu.acse import AARE, AARQ
from simulator.apdu.ciphered import CipheredAPDU, is_ciphered_tag
from simulator.errors import DecodeError

from .peers import GuruxPeer, SocketPipe, counter_object, gurux_client

ROOT = Path(__file__).resolve().parents[2]
KILLS = 22
TITLE = b"CRASHTST"
PROFILE = """
name: crash
groups:
  - {name: e, model: idis_poly, count: 1, listen: [{transport: tcp, host: 127.0.0.1, port: 0}]}
"""
_AARQ, _AARE = 0x60, 0x61


class RecordingPipe(SocketPipe):
    """A TCP pipe that keeps every octet sent and received, to read the counters in them."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.sent: list[bytes] = []
        self.received = bytearray()

    def send(self, data: bytes) -> None:
        self.sent.append(bytes(data))
        super().send(data)

    def receive(self) -> bytes:
        data = super().receive()
        self.received += data
        return data


def apdus(stream: bytes) -> list[bytes]:
    """The APDUs of whole wrapper frames (version, source, destination, length, APDU)."""
    out, at = [], 0
    while at + 8 <= len(stream):
        (length,) = struct.unpack_from(">H", stream, at + 6)
        if at + 8 + length > len(stream):
            break
        out.append(bytes(stream[at + 8:at + 8 + length]))
        at += 8 + length
    return out


def counter_of(apdu: bytes) -> int | None:
    """The invocation counter of a glo-ciphered APDU, or of the ciphered InitiateRequest or
    InitiateResponse inside an AARQ / AARE (None: the APDU carries none)."""
    try:
        if apdu[:1] == bytes((_AARQ,)):
            apdu = AARQ.from_bytes(apdu).user_information or b""
        elif apdu[:1] == bytes((_AARE,)):
            apdu = AARE.from_bytes(apdu).user_information or b""
        if not apdu or not is_ciphered_tag(apdu[0]):
            return None
        return CipheredAPDU.from_bytes(apdu).invocation_counter
    except DecodeError:
        return None


class Simulator:
    """`cosem-sim run` in a child process on a state directory."""

    def __init__(self, profile: Path, state: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "run", str(profile), "--state-dir",
                                      str(state)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        self.port = 0
        self.banner = ""
        for line in self.proc.stdout:
            self.banner += line
            found = re.search(r"TCP wrapper 127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                break
        assert self.port, self.proc.stderr.read() if self.proc.stderr else "no banner"
        self._lock = threading.Lock()

    def terminate(self) -> None:
        with self._lock:
            self.proc.terminate()

    def kill(self) -> None:
        """SIGKILL (from the timer's thread or the test's: once)."""
        with self._lock:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class Round:
    """One association that SETs and GETs the alarm filter until the meter dies."""

    def __init__(self, port: int, counter: int) -> None:
        self.pipe = RecordingPipe("127.0.0.1", port)
        self.peer = GuruxPeer(self.pipe, gurux_client(1, invocation_counter=counter, system_title=TITLE))
        self.acked_requests = 0  # requests sent whose answers arrived
        self.first_read: int | None = None
        self.acked_value: int | None = None
        self.unacked: list[int] = []  # values sent after the last acknowledged one

    def run(self, next_value: int) -> int:
        alarm = GXDLMSData("0.0.97.98.10.255")
        alarm.setDataType(2, GuruxType.UINT32)
        try:
            self.peer.connect()
            self.acked_requests = len(self.pipe.sent)
            self.first_read = self.peer.read(alarm, 2)
            self.acked_requests = len(self.pipe.sent)
            while True:
                next_value += 1
                alarm.value = next_value
                self.unacked.append(next_value)
                self.peer.request(self.peer.client.write(alarm, 2))
                self.acked_value, self.unacked = next_value, []
                self.acked_requests = len(self.pipe.sent)
                assert self.peer.read(alarm, 2) == next_value
                self.acked_requests = len(self.pipe.sent)
        except (OSError, GXDLMSException, ValueError):  # the meter died under us
            return next_value
        finally:
            self.pipe.close()

    def last_acked_counter(self) -> int | None:
        sent = [c for apdu in self.pipe.sent[:self.acked_requests] for a in apdus(apdu)
                if (c := counter_of(a)) is not None]
        return max(sent, default=None)

    def server_counters(self) -> list[int]:
        return [c for a in apdus(bytes(self.pipe.received)) if (c := counter_of(a)) is not None]


def published_counter(port: int) -> int:
    peer = GuruxPeer(SocketPipe("127.0.0.1", port), gurux_client(16))
    try:
        (value,) = peer.session_read((counter_object(), 2))
    finally:
        peer.pipe.close()
    return int(value)


def refused(port: int, counter: int) -> bool:
    """Whether an association whose AARQ carries `counter` from our title is refused."""
    peer = GuruxPeer(SocketPipe("127.0.0.1", port), gurux_client(1, invocation_counter=counter, system_title=TITLE))
    try:
        peer.connect()
    except (GXDLMSException, OSError, ValueError):
        return True
    finally:
        peer.pipe.close()
    return False


def test_nothing_acknowledged_is_lost_and_no_counter_is_reused_across_kill_9(tmp_path: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    profile = tmp_path / "crash.yaml"
    profile.write_text(PROFILE)
    state = tmp_path / "state"
    seen: list[int] = []  # every invocation counter the meter sent
    acked = 0  # the highest counter of ours the meter acknowledged
    allowed: list[int] = []  # what the alarm filter may read after a restart (empty: the model's value)
    counter, value = 1000, 0x0BADCAFE - 1  # the first SET writes 0x0BADCAFE
    rounds = 0
    for kill in range(KILLS + 1):
        sim = Simulator(profile, state)
        try:
            if kill:
                published = published_counter(sim.port)
                assert published >= acked, f"seed {seed}, kill {kill}: counter {acked} acknowledged, " \
                                           f"{published} published after the restart"
                assert refused(sim.port, acked), f"seed {seed}, kill {kill}: counter {acked} accepted again"
                counter = published + 1
            current = Round(sim.port, counter)
            if kill < KILLS:
                threading.Timer(rng.uniform(0.05, 0.5), sim.kill).start()
            else:  # the last round ends with a clean stop
                threading.Timer(0.3, sim.terminate).start()
            value = current.run(value)
        finally:
            sim.kill()
        if current.first_read is not None:
            rounds += 1
            if allowed:
                assert current.first_read in allowed, f"seed {seed}, kill {kill}: read {current.first_read:#x}, " \
                                                      f"expected one of {[hex(v) for v in allowed]}"
            base = current.acked_value if current.acked_value is not None else current.first_read
            allowed = [base] + current.unacked
        seen += current.server_counters()
        acked = max(acked, current.last_acked_counter() or 0)
    assert rounds > KILLS // 2, f"seed {seed}: only {rounds} rounds associated"
    repeated = sorted(c for c in set(seen) if seen.count(c) > 1)
    assert not repeated, f"seed {seed}: the meter sent invocation counters {repeated[:10]} more than once"


def alarm_filter(value: int | None = None) -> GXDLMSData:
    alarm = GXDLMSData("0.0.97.98.10.255")
    alarm.setDataType(2, GuruxType.UINT32)
    alarm.value = value
    return alarm


def test_an_acknowledged_set_reads_back_after_kill_9(tmp_path: Path) -> None:
    profile = tmp_path / "crash.yaml"
    profile.write_text(PROFILE)
    sim = Simulator(profile, tmp_path / "state")
    try:
        peer = GuruxPeer(SocketPipe("127.0.0.1", sim.port), gurux_client(1, invocation_counter=5, system_title=TITLE))
        peer.connect()
        peer.request(peer.client.write(alarm_filter(0x0BADCAFE), 2))  # acknowledged: then killed at once
    finally:
        sim.kill()
    sim = Simulator(profile, tmp_path / "state")
    try:
        peer = GuruxPeer(SocketPipe("127.0.0.1", sim.port), gurux_client(1, invocation_counter=100, system_title=TITLE))
        (value,) = peer.session_read((alarm_filter(), 2))
        assert value == 0x0BADCAFE
    finally:
        sim.kill()


def test_an_unusable_database_is_reported_and_ciphered_service_refused(tmp_path: Path) -> None:
    profile = tmp_path / "crash.yaml"
    profile.write_text(PROFILE)
    (tmp_path / "state").mkdir()
    database = tmp_path / "state" / "state.sqlite3"
    database.write_bytes(b"this is no database" * 200)
    sim = Simulator(profile, tmp_path / "state")
    try:
        assert sim.proc.stdout is not None
        banner = sim.banner + sim.proc.stdout.readline() + sim.proc.stdout.readline()
        assert f"NOTHING IS KEPT: meter state database {database} is unusable" in banner
        assert refused(sim.port, 1)  # client 1 (ciphered) is refused...
        assert published_counter(sim.port) == 0  # ...the public client is served
    finally:
        sim.kill()
    assert database.read_bytes() == b"this is no database" * 200
