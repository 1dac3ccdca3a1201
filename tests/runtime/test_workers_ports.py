"""`cosem-sim run --workers 2` on meters reached by port: the supervisor opens each meter's port
and hands it to the worker serving that meter, so a killed worker is started again on the same
sockets with what clients SET, and a connection made while it is down waits in the port's
backlog instead of being refused (README.md, "One host, several cores"). A list of sockets too
long for the environment goes to the worker in a file."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from pathlib import Path

from gurux_dlms.objects import GXDLMSData

from .peers import GuruxPeer, SocketPipe, counter_object, gurux_client
from .test_state_restart import alarm_filter
from .test_workers import set_alarm_filter, supervised

METERS = 4


def free_ports(count: int, below: int | None = None) -> int:
    """The first of `count` consecutive TCP ports free on 127.0.0.1 (all below `below`, if given)."""
    for attempt in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if below is not None:
            base = 20_000 + (base * 7 + attempt * 1_009) % (below - 20_000 - count)
        if base + count > 65535:
            continue
        with contextlib.ExitStack() as held:
            try:
                for port in range(base, base + count):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except OSError:
                continue
        return base
    raise RuntimeError("no free ports")


def tcp_read(port: int, obj: object, attribute: int, client_sap: int = 16, counter: int | None = None) -> object:
    peer = GuruxPeer(SocketPipe("127.0.0.1", port), gurux_client(client_sap, invocation_counter=counter))
    try:
        (value,) = peer.session_read((obj, attribute))
    finally:
        peer.pipe.close()
    return value


def test_a_killed_worker_of_meters_by_port_keeps_its_ports_and_its_state(tmp_path: Path) -> None:
    base = free_ports(METERS)
    profile = tmp_path / "ports.yaml"
    profile.write_text(f"""
name: ports
groups:
  - name: e
    model: idis_poly
    count: {METERS}
    listen:
      - {{transport: tcp, host: 127.0.0.1, port: {base}, port_step: 1}}
""", encoding="utf-8")
    with supervised(profile, "--state-dir", str(tmp_path / "state"), "--log-level", "info") as run:
        pid = int(run.line(run.out, r"^cosem-sim workers: .*shard 1/2 \(pid (\d+)\)")[1])
        used = set_alarm_filter("127.0.0.1", base + 1, 0x0BADCAFE, b"WORKERS3", 7000)  # meter 1: shard 1
        os.kill(pid, signal.SIGKILL)
        restart = run.line(run.err, r"shard 1/2 \(pid \d+\) ended unexpectedly \(killed by SIGKILL\) .*")[0]
        assert "starting it again in 1 s on the same sockets" in restart, restart
        # While shard 1/2 is down: the supervisor's socket takes the connection into its backlog.
        public = GuruxPeer(SocketPipe("127.0.0.1", base + 1), gurux_client(16))
        assert not any("serves again" in line for line in run.err)
        public.pipe.sock.settimeout(30)  # answered once the worker is back
        try:
            (published,) = public.session_read((counter_object(), 2))
        finally:
            public.pipe.close()
        run.line(run.err, r"shard 1/2 serves again \(pid \d+, restart 1\)")
        assert published >= used  # the counter it accepted, from its state file
        assert tcp_read(base + 1, alarm_filter(), 2, client_sap=1, counter=published + 1) == 0x0BADCAFE
        assert run.stop() == 0


def test_a_long_socket_list_goes_to_the_worker_in_a_file(tmp_path: Path) -> None:
    """More ports than one environment variable can list: the list is in a file."""
    count = 4400  # 2,200 sockets a worker: a list of ~150 KB, over the 128 KiB a variable may hold
    base = free_ports(count, below=32768)  # a run of ports no outgoing connection takes meanwhile
    profile = tmp_path / "many.yaml"
    profile.write_text(f"""
name: many
groups:
  - name: e
    model: minimal
    count: {count}
    listen:
      - {{transport: tcp, host: 127.0.0.1, port: {base}, port_step: 1}}
""", encoding="utf-8")
    with supervised(profile, "--no-state") as run:
        run.line(run.out, r"^cosem-sim workers: ")
        for meter in (0, 1, count - 1):  # each answered by its worker, on the supervisor's socket
            assert tcp_read(base + meter, GXDLMSData("0.0.42.0.0.255"), 2) == f"SIM{meter + 1:08d}".encode()
        assert run.stop() == 0
