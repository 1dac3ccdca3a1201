"""The cosem-sim command: run (banner, trace, clean stop on SIGINT/SIGTERM), classes, models, show."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli import main

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
    trace = [line for line in err.splitlines() if "simulator.trace" in line]
    assert any("e#0 << 2->1 AARQ" in line for line in trace) and any("e#0 >> 1->2 AARE" in line for line in trace)
    assert any("get-response-normal" in line for line in trace)
    assert "12345678" not in err and "000102030405060708090A0B0C0D0E0F" not in err.upper().replace(" ", "")
    assert "shutting down" in err
    assert (tmp_path / "state" / "e" / "0.json").exists()  # counters saved at shutdown or close


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
