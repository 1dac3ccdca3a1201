"""The benchmark commands run (quick mode); their figures are never asserted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.core import main
from benchmarks.run import main as run_main


def test_core_benchmark_quick_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "core.json"
    assert main(["--quick", "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    assert report["quick"] is True
    names = [r["name"] for r in report["results"]]
    assert len(names) == 6 and any("HDLC" in n for n in names) and any("glo-ciphered" in n for n in names)
    assert any("object model" in n for n in names)
    assert {r["unit"] for r in report["results"]} == {"µs/op", "frames/s"}
    assert all(r["best"] > 0 and r["iterations"] > 0 for r in report["results"])
    table = capsys.readouterr().out
    assert all(name in table for name in names)


def test_socket_benchmark_harness_quick_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`benchmarks.run` starts the simulator and the load generator in their own processes and
    reports what they measured: association cycles of all three mechanisms, none failing."""
    output = tmp_path / "run.json"
    assert run_main(["--quick", "--only", "associations", "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    assert report["quick"] is True and report["failed"] == {} and report["benchmarks"] == ["associations"]
    rows = report["rows"]
    assert [r["what"] for r in rows] == [
        "AARQ..RLRE, public, no auth", "AARQ..RLRE, LLS, client 2", "AARQ..RLRE, HLS-GMAC + suite 0 A+E, client 1"]
    for row in rows:
        figures = row["figures"]
        assert row["errors"] == 0 and figures["error_reasons"] == {}
        assert figures["connections"] == 100 and figures["count"] > 0 and figures["p99_ms"] is not None
    assert rows[-1]["target"] and rows[-1]["verdict"].split()[0] in ("met", "MISSED")
    table = capsys.readouterr().out
    assert "AARQ..RLRE, HLS-GMAC" in table and str(output) in table
