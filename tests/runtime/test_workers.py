"""`cosem-sim run --workers 2` as a user runs it: a supervisor and two shard processes.

Four IDIS-style meters reached by address (TCP wrapper, UDP and HDLC over TCP on one port
each): each meter answers at its own address over all three, dlms-cosem and gurux-dlms get the
same bytes and values as from the unsharded fleet, and a SET reaches the state file of the
worker serving that meter only. A worker killed with SIGKILL is started again; a connection
made while it is down waits in the backlog and is answered by the new worker, which still has
what a client SET and the invocation counter it accepted. SIGTERM or SIGINT to the supervisor
stops every worker and exits 0, leaving no process behind; a killed supervisor's workers stop
too. A profile the workers cannot split, or a worker that cannot start, stops it all.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Callable, Iterator

import pytest
from dlms_cosem import cosem, enumerations
from gurux_dlms.objects import GXDLMSData

from .harness import RunningFleet
from .peers import (
    LDN, GuruxPeer, SocketPipe, counter_object, gurux_client, hdlc_tcp_transport, read, wrapper_transport,
)
from .test_state_restart import alarm_filter

FIRST = "127.0.9.1"
METERS = 4
PROFILE = f"""
name: workers
groups:
  - name: e
    model: idis_poly
    count: {METERS}
    listen:
      - {{transport: tcp, addressing: address, host: {FIRST}, port: 0}}
      - {{transport: udp, addressing: address, host: {FIRST}, port: 0}}
      - {{transport: hdlc-tcp, addressing: address, host: {FIRST}, port: 0, physical_address: 17}}
"""
# The same meters, also on one multidrop HDLC line (line 9): a line is one process's.
LINE = f"""
name: line
groups:
  - name: e
    model: idis_poly
    count: {METERS}
    listen:
      - {{transport: tcp, addressing: address, host: {FIRST}, port: 0}}
      - {{transport: hdlc-tcp, addressing: multidrop, host: 127.0.0.1, port: 0, physical_address: 17}}
"""
SERIAL = cosem.CosemAttribute(interface=enumerations.CosemInterface.DATA,
                              instance=cosem.Obis(0, 0, 96, 1, 0, 255), attribute=2)
ENERGY_SCALER = cosem.CosemAttribute(interface=enumerations.CosemInterface.REGISTER,
                                     instance=cosem.Obis(1, 0, 1, 8, 0, 255), attribute=3)
WAIT_S = 60.0  # for a process to start or stop: far above what it takes


def address(index: int) -> str:
    return str(ipaddress.IPv4Address(FIRST) + index)


class Supervised:
    """`cosem-sim run PROFILE --workers 2` in a subprocess; its lines read as they come."""

    def __init__(self, profile: Path, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simulator.cli", "run", str(profile), "--workers", "2", *options],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self._changed = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], lines: list[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, found: Callable[[], object], what: str) -> object:
        """The first true value of `found()`, looked at whenever a line arrives."""
        deadline = time.monotonic() + WAIT_S
        with self._changed:
            while not (value := found()):
                if self.process.poll() is not None and all(not r.is_alive() for r in self._readers):
                    break
                if not self._changed.wait(max(0.0, deadline - time.monotonic())):
                    break
        assert value, f"no {what}:\n" + "\n".join(self.out[-30:] + self.err[-30:])
        return value

    def line(self, lines: list[str], pattern: str) -> re.Match[str]:
        return self.wait_for(lambda: next((m for m in map(re.compile(pattern).search, lines) if m), None),
                             pattern)  # type: ignore[return-value]

    def ready(self) -> dict[str, int]:
        """The supervisor's banner: the pid of each shard, and the steered ports."""
        banner = self.line(self.out, r"^cosem-sim workers: .*shard 0/2 \(pid (\d+)\), shard 1/2 \(pid (\d+)\)")
        steered = self.line(self.out, r"steered .*: tcp 0\.0\.0\.0:(\d+), udp 0\.0\.0\.0:(\d+), "
                                      r"hdlc-tcp 0\.0\.0\.0:(\d+)$")
        return {"shard 0": int(banner[1]), "shard 1": int(banner[2]), "tcp": int(steered[1]),
                "udp": int(steered[2]), "hdlc-tcp": int(steered[3])}

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.wait()

    def wait(self) -> int:
        """The supervisor's exit status, once it and every line it wrote are in."""
        try:
            return self.process.wait(WAIT_S)
        finally:
            for reader in self._readers:
                reader.join(WAIT_S)


@contextlib.contextmanager
def supervised(profile: Path, *options: str) -> Iterator[Supervised]:
    running = Supervised(profile, *options)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop(signal.SIGKILL)  # and its workers, by their death signal


def gurux_read(host: str, port: int, *objects: tuple[object, int], client_sap: int = 16,
               counter: int | None = None) -> list[object]:
    peer = GuruxPeer(SocketPipe(host, port, udp=True), gurux_client(client_sap, invocation_counter=counter))
    try:
        return peer.session_read(*objects)  # type: ignore[arg-type]
    finally:
        peer.pipe.close()


def identity(tcp: int, udp: int, hdlc: int) -> list[object]:
    """What every meter answers over the TCP wrapper and HDLC (dlms-cosem, the LLS reader, as
    octets) and UDP (gurux-dlms, the public client, as values)."""
    seen: list[object] = []
    for i in range(METERS):
        seen.append(read(wrapper_transport(tcp, 2, host=address(i)), 2, LDN, SERIAL, ENERGY_SCALER))
        seen.append(read(hdlc_tcp_transport(hdlc, 2, host=address(i)), 2, LDN, SERIAL))
        seen.append(gurux_read(address(i), udp, (GXDLMSData("0.0.42.0.0.255"), 2), (GXDLMSData("0.0.96.1.0.255"), 2)))
    return seen


def set_alarm_filter(host: str, port: int, value: int, title: bytes, counter: int) -> int:
    """Client 1 (HLS-GMAC, ciphered) SETs the alarm filter over the TCP wrapper; the last
    invocation counter it used."""
    client = gurux_client(1, invocation_counter=counter, system_title=title)
    peer = GuruxPeer(SocketPipe(host, port), client)
    try:
        peer.connect()
        peer.request(client.write(alarm_filter(value), 2))
        used = client.ciphering.invocationCounter - 1
        peer.release()
    finally:
        peer.pipe.close()
    return int(used)


def running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "(zombie)" not in Path(f"/proc/{pid}/status").read_text()


def test_each_meter_answers_from_its_worker_as_from_the_unsharded_fleet(tmp_path: Path) -> None:
    with RunningFleet(PROFILE, tmp_path, state_dir=None) as fleet:
        expected = identity(fleet.port("tcp"), fleet.port("udp"), fleet.port("hdlc-tcp"))
    profile = tmp_path / "workers.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    with supervised(profile, "--state-dir", str(tmp_path / "state")) as run:
        ports = run.ready()
        assert identity(ports["tcp"], ports["udp"], ports["hdlc-tcp"]) == expected
        for i in range(METERS):  # each worker keeps the state of its own meters
            set_alarm_filter(address(i), ports["tcp"], 0x100 + i, b"WORKERS1", 1000 * (i + 1))
        assert run.stop() == 0
    files = {int(m[1]): Path(m[2]) for m in map(re.compile(r"^\[shard (\d)/2\] .*kept in (\S+)").search, run.out) if m}
    assert sorted(files) == [0, 1] and files[0] != files[1]
    for shard, path in files.items():
        with contextlib.closing(sqlite3.connect(path)) as db:
            kept = sorted(row[0] for row in db.execute("SELECT group_index FROM meters"))
        assert kept == [i for i in range(METERS) if i % 2 == shard], path


def test_a_killed_worker_starts_again_with_its_state_and_nothing_is_refused(tmp_path: Path) -> None:
    profile = tmp_path / "workers.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    with supervised(profile, "--state-dir", str(tmp_path / "state"), "--log-level", "info") as run:
        ports = run.ready()
        used = set_alarm_filter(address(1), ports["tcp"], 0x0BADCAFE, b"WORKERS2", 7000)  # meter 1: shard 1
        os.kill(ports["shard 1"], signal.SIGKILL)
        run.line(run.err, r"shard 1/2 \(pid \d+\) ended unexpectedly \(killed by SIGKILL\)")
        banners = sum(line.startswith("[shard 1/2] cosem-sim: profile") for line in run.out)
        # While shard 1/2 is down: the connection is accepted by the kernel, into the backlog.
        public = GuruxPeer(SocketPipe(address(1), ports["tcp"]), gurux_client(16))
        assert sum(line.startswith("[shard 1/2] cosem-sim: profile") for line in run.out) == banners
        public.pipe.sock.settimeout(WAIT_S)  # answered once the worker is back
        try:
            (published,) = public.session_read((counter_object(), 2))
        finally:
            public.pipe.close()
        assert sum(line.startswith("[shard 1/2] cosem-sim: profile") for line in run.out) == banners + 1
        assert published >= used  # the counter it accepted, from its state file
        (value,) = gurux_read(address(1), ports["udp"], (alarm_filter(), 2), client_sap=1, counter=published + 1)
        assert value == 0x0BADCAFE
        assert running(ports["shard 0"])  # the other worker never stopped
        again = int(run.line(run.err, r"shard 1/2 serves again \(pid (\d+), restart 1\)")[1])
        os.kill(again, signal.SIGKILL)  # a worker that keeps dying waits twice as long each time
        run.line(run.err, rf"shard 1/2 \(pid {again}\) ended unexpectedly \(killed by SIGKILL\) after \d+ s: "
                          r"starting it again in 2 s")
        assert run.stop() == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_every_worker(tmp_path: Path, sig: int) -> None:
    profile = tmp_path / "workers.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    with supervised(profile, "--no-state") as run:
        ports = run.ready()
        assert running(ports["shard 0"]) and running(ports["shard 1"])
        assert run.stop(sig) == 0
    assert not running(ports["shard 0"]) and not running(ports["shard 1"])
    assert not any("Traceback" in line for line in run.err), "\n".join(run.err)


def test_a_line_the_workers_would_split_is_refused_before_any_starts(tmp_path: Path) -> None:
    """Four meters on one multidrop HDLC line: two workers would each serve half of a line."""
    profile = tmp_path / "line.yaml"
    profile.write_text(LINE, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(profile), "--workers", "2"],
                          capture_output=True, text=True, timeout=WAIT_S)
    assert done.returncode == 1
    assert f"{profile}:9:" in done.stderr and "cannot be split across shards" in done.stderr
    assert "[shard" not in done.stdout + done.stderr  # no worker was started


def test_a_worker_that_cannot_start_stops_them_all(tmp_path: Path) -> None:
    """Each worker fails at start (its capture file cannot be written): no restarts, exit 1."""
    profile = tmp_path / "workers.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    with supervised(profile, "--no-state", "--pcap", str(tmp_path / "missing" / "fleet.pcap")) as run:
        assert run.wait() == 1
    assert any(re.search(r"shard [01]/2 could not start \(exit status 1\): stopping every worker", line)
               for line in run.err), "\n".join(run.err)
    assert any("[shard 0/2] cosem-sim run: cannot write" in line and "fleet.shard-0-of-2.pcap" in line
               for line in run.err)
    assert not any("starting it again" in line or line.startswith("cosem-sim workers:") for line in run.err + run.out)


def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    """kill -9 of the supervisor: its workers are told (their parent-death signal) and stop."""
    profile = tmp_path / "workers.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    with supervised(profile, "--no-state") as run:
        ports = run.ready()
        watched = [os.pidfd_open(ports["shard 0"]), os.pidfd_open(ports["shard 1"])]
        try:
            assert run.stop(signal.SIGKILL) == -signal.SIGKILL
            for pidfd in watched:  # readable once that process has ended
                assert select.select([pidfd], [], [], WAIT_S)[0] == [pidfd]
        finally:
            for pidfd in watched:
                os.close(pidfd)


def test_each_worker_has_its_own_control_plane_listing_only_its_meters(tmp_path: Path) -> None:
    """Workers share one host: worker w's control plane listens at the control port + w, and lists,
    reads and names only the meters it serves (another shard's meter: 404 saying which serves it)."""
    from .test_shard import free_ports

    profile = tmp_path / "workers.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    control = free_ports(2)
    with supervised(profile, "--no-state", "--control", f"127.0.0.1:{control}") as run:
        run.ready()
        for worker in (0, 1):
            base = f"http://127.0.0.1:{control + worker}/api/meters"
            with urllib.request.urlopen(base, timeout=WAIT_S) as answer:
                listed = json.load(answer)
            assert listed["total"] == METERS // 2
            assert [m["index"] for m in listed["meters"]] == list(range(worker, METERS, 2))
            mine, other = (f"{1 + worker:08d}", f"{2 - worker:08d}")  # meter i has serial i + 1
            with urllib.request.urlopen(f"{base}/{mine}", timeout=WAIT_S) as answer:
                assert json.load(answer)["serial"] == mine
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{base}/{other}", timeout=WAIT_S)
            assert refused.value.code == 404
            assert f"served by shard {1 - worker}/2" in json.load(refused.value)["error"]
        assert run.stop() == 0
