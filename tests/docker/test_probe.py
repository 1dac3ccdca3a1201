"""`cosem-sim probe` without --port, the image's health check: it finds the first meter `run` would
serve from the same COSEM_SIM_* variables and options, or says in one line why there is none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .services import ROOT, environment

BY_ADDRESS = """
name: lab
groups:
  - {name: gas, model: gas, count: 3, listen: [{transport: udp, addressing: address, host: 127.2.0.1, port: 4059}]}
  - name: electricity
    model: idis_poly
    count: 10
    listen: [{transport: tcp, addressing: address, host: 127.1.0.1, port: 4059}]
"""
UDP_ONLY = """
name: quiet
groups:
  - {name: nb, model: minimal, count: 2, listen: [{transport: udp, host: 127.0.0.1, port: 4059, port_step: 1}]}
"""


def _probe(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator.cli", "probe", "--timeout", "2", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=environment(variables))


def test_a_shard_of_meters_by_address_is_probed_at_its_first_meters_own_address(tmp_path: Path) -> None:
    """Shard 2/4's first meter is gas#2 (fleet index 2), UDP only; its first with a TCP wrapper is
    fleet index 6, electricity#3 at 127.1.0.4. Nothing listens there: the line says where it asked."""
    lab = tmp_path / "lab.yaml"
    lab.write_text(BY_ADDRESS)
    done = _probe("--shard", "2/4", "--port-offset", "7", COSEM_SIM_PROFILE=str(lab))
    assert done.returncode == 1
    assert done.stdout.startswith("127.1.0.4:4066 (electricity#3 of shard 2/4) client 16 -> logical device 1: "
                                  "no answer"), done.stdout


def test_no_meter_to_probe_or_a_bad_variable_is_one_line_and_status_1(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.yaml"
    quiet.write_text(UDP_ONLY)
    done = _probe(COSEM_SIM_PROFILE=str(quiet))
    assert (done.returncode, done.stdout) == (1, f"{quiet}:1: no meter of shard 0/1 of quiet has a TCP wrapper to "
                                                 "probe: give --port\n")
    done = _probe(COSEM_SIM_SHARD="3/3")
    assert (done.returncode, done.stdout) == (1, "cosem-sim probe: COSEM_SIM_SHARD: shard 3 of 3 does not exist: "
                                                 "shards count from 0 to 2\n")
