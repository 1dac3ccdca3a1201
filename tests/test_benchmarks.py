"""The benchmark command runs (quick mode); its figures are never asserted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.core import main


def test_core_benchmark_quick_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "core.json"
    assert main(["--quick", "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    assert report["quick"] is True
    names = [r["name"] for r in report["results"]]
    assert len(names) == 5 and any("HDLC" in n for n in names) and any("glo-ciphered" in n for n in names)
    assert {r["unit"] for r in report["results"]} == {"µs/op", "frames/s"}
    assert all(r["best"] > 0 and r["iterations"] > 0 for r in report["results"])
    table = capsys.readouterr().out
    assert all(name in table for name in names)
