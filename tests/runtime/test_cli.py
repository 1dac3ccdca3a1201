"""The cosem-sim command: run (banner, trace, clean stop, --host, --port-offset), classes, models, show,
--version, --log-level anywhere, a closed pipe."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import __version__
from simulator.cli import build_parser, main
from simulator.runtime.command import relocate
from simulator.runtime.layout import plan
from simulator.runtime.profile import demo_profile_path, load_profile

from .peers import LDN, read, wrapper_transport

ROOT = Path(__file__).resolve().parents[2]
PROFILE = """
name: cli
groups:
  - name: e
    model: idis_poly
    count: 2
    listen: [{transport: tcp, host: 127.0.0.1, port: 0}]
"""


def start(profile: Path, *options: str) -> tuple[subprocess.Popen[str], str]:
    """`cosem-sim run` in a child process; returns it and its banner."""
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "--log-level", "info", "run", str(profile),
                             *options], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = [proc.stdout.readline()]
    if not lines[0].startswith("cosem-sim: profile cli: 2 meters"):
        pytest.fail(lines[0] + (proc.stderr.read() if proc.stderr else ""))
    while not lines[-1].startswith("    keys:"):  # the last line of the banner
        lines.append(proc.stdout.readline())
    return proc, "".join(lines)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_run_traces_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    profile = tmp_path / "cli.yaml"
    profile.write_text(PROFILE)
    proc, banner = start(profile, "--trace", "--state-dir", str(tmp_path / "state"))
    try:
        port = int(re.search(r"TCP wrapper 127\.0\.0\.1:(\d+)", banner).group(1))
        assert "password (hidden)" in banner and "12345678" not in banner
        (name,) = read(wrapper_transport(port, 2), 2, LDN)
        read(wrapper_transport(port, 1), 1, LDN, system_title=b"CLITEST1")
        assert name.endswith(b"SIM00000001")
    finally:
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    # a trace record: the frame's hex on the logger's line, then the APDU decoded on the lines after it
    assert re.search(r"simulator\.trace.*e#0 << 2->1 wrapper [0-9A-F]+ \(8 secret octets shown as 2A\)\n"
                     r"  AARQ \(A-ASSOCIATE request\)", err)
    assert re.search(r"simulator\.trace.*e#0 >> 1->2 wrapper [0-9A-F]+\n  AARE \(A-ASSOCIATE response\)", err)
    assert "  get-response-normal" in err
    assert "12345678" not in err and "000102030405060708090A0B0C0D0E0F" not in err.upper().replace(" ", "")
    assert "shutting down" in err
    with contextlib.closing(sqlite3.connect(tmp_path / "state" / "state.sqlite3")) as db:  # the counter accepted is kept
        assert db.execute("SELECT system_title FROM received_counters").fetchall() == [(b"CLITEST1",)]


def test_run_refuses_a_bad_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(PROFILE.replace("count: 2", "count: -1"))
    assert main(["run", str(bad)]) == 1
    assert f"{bad}:6: group e: count: expected an integer in 1..1000000" in capsys.readouterr().err


def test_classes_models_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classes"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\s+8\s+0\s+Clock\s", out, re.M) and re.search(r"^\s+7\s+1\s+Profile generic\s", out, re.M)
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("minimal", "idis_poly", "gas", "water"))
    assert main(["show", "minimal"]) == 0
    out = capsys.readouterr().out
    assert "0.0.1.0.0.255" in out and "Clock" in out and out.rstrip().endswith("4 objects")
    assert main(["show", "nosuch"]) == 1
    assert "no model file 'nosuch'" in capsys.readouterr().err


def test_run_binds_the_host_given(tmp_path: Path) -> None:
    """--host replaces the profile's address: the meters answer there and only there."""
    profile = tmp_path / "cli.yaml"
    profile.write_text(PROFILE)
    proc, banner = start(profile, "--host", "127.0.0.2", "--no-state")
    try:
        port = int(re.search(r"TCP wrapper 127\.0\.0\.2:(\d+)", banner).group(1))
        (name,) = read(wrapper_transport(port, 16, host="127.0.0.2"), 16, LDN)
        assert name.endswith(b"SIM00000001")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        # the container's health check: a public association, then one the meter refuses
        probe = [sys.executable, "-m", "simulator.cli", "probe", "--host", "127.0.0.2", "--port", str(port)]
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
        assert (done.returncode, done.stdout) == (0, f"127.0.0.2:{port} client 16 -> logical device 1: "
                                                     "association accepted\n")
        done = subprocess.run([*probe, "--client", "2"], capture_output=True, text=True, timeout=30)
        assert done.returncode == 1 and "client 2 -> logical device 1: association refused: rejected-permanent, " \
            "authentication-mechanism-name-required" in done.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err


def test_relocate_moves_ports_and_binds_the_host() -> None:
    profile = load_profile(demo_profile_path())
    moved = relocate(profile, "0.0.0.0", 1000)
    listeners = {(g.name, l.transport, l.addressing): l for g in moved.groups for l in g.listeners}
    wrapper = listeners[("electricity", "tcp", "port")]
    assert (wrapper.host, wrapper.port) == ("0.0.0.0", 5059)
    assert listeners[("electricity", "hdlc-tcp", "multidrop")].port == 5099
    ports = {(e.transport, e.port) for e in plan(moved).endpoints}
    assert ("tcp", 5059) in ports and ("udp", 5059) in ports and ("hdlc-tcp", 5060) in ports
    assert all(e.host == "0.0.0.0" for e in plan(moved).endpoints)
    assert relocate(profile, None, 0) is profile


def test_run_refuses_a_port_offset_or_host_that_cannot_be(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--port-offset", "62000"]) == 1
    assert "--port-offset 62000 moves port 4059 to 66059..66065, outside 1..65535" in capsys.readouterr().err
    assert main(["run", "--host", "localhost"]) == 1
    assert "--host:1: expected an IPv4 address" in capsys.readouterr().err


def test_log_level_goes_before_or_after_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    parse = build_parser().parse_args
    assert parse(["validate", "x.yaml"]).log_level == "warning"
    assert parse(["validate", "x.yaml", "--log-level", "info"]).log_level == "info"
    assert parse(["--log-level", "debug", "run"]).log_level == "debug"
    assert parse(["--log-level", "debug", "run", "--log-level", "error"]).log_level == "error"
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"cosem-sim {__version__}\n"


@pytest.mark.parametrize("command", [["show", "idis_poly"], ["classes"], ["decode", "0x09 0x06 0000010000FF"]])
def test_a_closed_pipe_ends_quietly(command: list[str]) -> None:
    """`cosem-sim show idis_poly | head -1`: no BrokenPipeError traceback when the reader has gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write, as head after its lines
    try:
        done = subprocess.run([sys.executable, "-m", "simulator.cli", *command], cwd=ROOT, stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=30)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")
