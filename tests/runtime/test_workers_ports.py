"""`cosem-sim run --workers 2` on meters reached by port, which each worker binds itself: a
killed worker is started again on its meters' ports with what clients SET, and its restart
line does not promise sockets the supervisor does not hold for it (a port refuses connections
while its worker is down; README.md, "One host, several cores")."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from pathlib import Path

from .peers import GuruxPeer, SocketPipe, counter_object, gurux_client
from .test_state_restart import alarm_filter
from .test_workers import set_alarm_filter, supervised

METERS = 4


def free_ports(count: int) -> int:
    """The first of `count` consecutive TCP ports free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
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


def test_a_killed_worker_of_meters_by_port_binds_its_ports_again_with_its_state(tmp_path: Path) -> None:
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
        assert not any("steered" in line for line in run.out)  # no socket of the supervisor's
        used = set_alarm_filter("127.0.0.1", base + 1, 0x0BADCAFE, b"WORKERS3", 7000)  # meter 1: shard 1
        os.kill(pid, signal.SIGKILL)
        restart = run.line(run.err, r"shard 1/2 \(pid \d+\) ended unexpectedly \(killed by SIGKILL\) .*")[0]
        assert "starting it again in 1 s" in restart and "same sockets" not in restart, restart
        run.line(run.err, r"shard 1/2 serves again \(pid \d+, restart 1\)")
        published = tcp_read(base + 1, counter_object(), 2)
        assert published >= used  # the counter it accepted, from its state file
        assert tcp_read(base + 1, alarm_filter(), 2, client_sap=1, counter=published + 1) == 0x0BADCAFE
        assert run.stop() == 0
