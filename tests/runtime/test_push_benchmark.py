"""The push benchmark runs (quick mode): every notification sent is received; figures are never asserted."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.run import main as run_main


def test_push_benchmark_quick_mode(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    assert run_main(["--quick", "--only", "push", "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    assert report["failed"] == {} and report["benchmarks"] == ["push"]
    rows = report["rows"]
    assert [r["what"] for r in rows] == [
        "reference: canned notifications, no DLMS", "daily push 0.1.25.9.0.255, plain",
        "daily push 0.1.25.9.0.255, ciphered", "daily push 0.1.25.9.0.255, ciphered, state kept"]
    for row in rows:
        figures = row["figures"]
        assert row["errors"] == 0 and figures["sent"] == figures["pushes"] == 200
        assert figures["received"]["notifications"] == 200 == figures["received"]["connections"]
    sizes = {r["what"].rsplit(", ", 1)[-1]: r["figures"]["received"]["bytes"] for r in rows}
    assert sizes["plain"] < sizes["ciphered"]  # the ciphered ones carry their security header and tag
