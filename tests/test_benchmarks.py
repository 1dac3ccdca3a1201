"""The benchmark commands run (quick mode); their figures are never asserted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from benchmarks.core import main
from benchmarks.fleets import (
    LIVING_START, PROFILE_OBIS, YEAR_ROWS, idis_fleet, living_year_range, write_living_year_model, write_static_model,
)
from benchmarks.idle import measure
from benchmarks.run import main as run_main
from benchmarks.session import SessionBench
from benchmarks.session import main as session_main
from simulator.axdr import Data, DataType, Obis
from simulator.model.catalogue import find_model
from simulator.model.loader import load_model
from simulator.model.spec import MeterModel


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


def test_session_benchmark_reads_each_target_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """`benchmarks.session` associates with one fleet meter in-process and times real GETs."""
    bench = SessionBench()
    answer = bench.get("clock")
    assert answer[4:6] == b"\x09\x0c" and len(answer) == 18  # octet-string(12): the date-time
    assert bench.get("register")[4] == DataType.LONG_UNSIGNED  # the voltage sag threshold, in V
    assert bench.get("energy")[4] == DataType.DOUBLE_LONG_UNSIGNED  # +A, in Wh
    assert session_main(["--quick"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["clock", "register", "energy"]


def test_idle_fleet_schedules_nothing_per_meter(tmp_path: Path) -> None:
    """Every meter of a living fleet built and read once, then idle: the loop holds the
    benchmark's own task only, and the fleet's timer queue is empty."""
    profile = tmp_path / "idle.yaml"
    profile.write_text(idis_fleet(200, 0, history="40d"), encoding="utf-8")
    figures = asyncio.run(measure(profile, 0.05))
    assert (figures["meters"], figures["live_meters"], figures["read_errors"]) == (200, 200, 0)
    assert (figures["tasks"], figures["timer_queue"], figures["connections"]) == (1, 0, 0)
    assert figures["rss_mb"] >= figures["rss_start_mb"] > 0


def test_living_benchmark_models(tmp_path: Path) -> None:
    """The reference model is idis_poly without living:, the year model idis_poly with a year of
    15-minute entries in load profile 1; the year range asks for exactly that many rows."""
    static = load_model(write_static_model(tmp_path / "static.yaml"))
    year = load_model(write_living_year_model(tmp_path / "year.yaml"))
    shipped = load_model(find_model("idis_poly"))
    assert static.living is None and year.living is not None and shipped.living is not None
    assert [o.logical_name for o in static.logical_devices[1].objects] == [
        o.logical_name for o in shipped.logical_devices[1].objects]

    def entries(model: MeterModel) -> Data:
        spec = model.logical_devices[1].find(bytes(Obis(PROFILE_OBIS)))
        assert spec is not None
        return spec.values[7]  # profile_entries
    assert (entries(shipped).value, entries(year).value) == (960, YEAR_ROWS)
    first, last = living_year_range(YEAR_ROWS)
    assert last == LIVING_START and (last - first).total_seconds() == 900 * (YEAR_ROWS - 1)


def test_workers_benchmark_quick_mode(tmp_path: Path) -> None:
    """`--only workers`: one process and `run --workers 2` under load, random meters read through
    the steered socket with their own serials, memory projected; nothing failed."""
    output = tmp_path / "run.json"
    assert run_main(["--quick", "--only", "workers", "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    assert report["failed"] == {}
    rows = {row["what"]: row for row in report["rows"]}
    assert sum(row["errors"] for row in rows.values()) == 0
    sample = rows["read clock + serial of 100 random meters of 1,000"]
    assert sample["figures"]["count"] == 100 and "own serial" in sample["result"]
    ratio = rows["ratio: run --workers 2 / one process"]
    assert ratio["figures"]["projected"] > 0 and ratio["verdict"].endswith("(projected)")
    projected = rows["RSS of 1,000,000 meters in 2 workers, every one contacted"]
    assert projected["figures"]["projected_mb"] > projected["figures"]["idle_mb"] > 0
