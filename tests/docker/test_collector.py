"""The rig's head-end (docker/collector/collector.py, gurux-dlms) against `cosem-sim run` in local processes.

The collector runs as the rig runs it, a process of its own, and reads meters served by other
processes (a whole fleet, or its shards): it reports every meter collected with the fleet's clock,
energy and the last day's load profile, names the meters of a stopped shard as failed, and then
exits non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTOR = ROOT / "docker" / "collector" / "collector.py"
START = datetime(2024, 1, 10, 12, 0, tzinfo=timezone.utc)  # 13:00 on the meters' clocks (UTC+1)
PASSWORD = "12345678"  # idis_poly's reader (client 2) password
# A 15-minute load profile from yesterday 00:00 to today 00:00 of the meter's clock, both ends included.
DAY_ROWS = 97


def fleet_profile(meters: int) -> str:
    """`meters` idis_poly meters, each in a group of its own so the banner names every meter's port 0."""
    groups = "".join(f"  - {{name: g{i}, model: idis_poly, count: 1, listen: [{{transport: tcp, host: 127.0.0.1, "
                     f"port: 0}}]}}\n" for i in range(meters))
    return (f"name: rig\ntime: {{start: {START.isoformat()}, utc_offset_min: 60, history: 2d}}\n"
            f"groups:\n{groups}")


@contextlib.contextmanager
def serving(profile: Path, expected: int, *options: str) -> Iterator[tuple[subprocess.Popen[str], dict[int, int]]]:
    """`cosem-sim run` in a child process: it and the port of each fleet meter it serves, by fleet index.

    A group of one meter listening on port 0 shows the port it got in the banner (0 when another
    shard serves it); `expected` is how many of them this process serves.
    """
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "run", str(profile), "--no-state", *options],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ports: dict[int, int] = {}
        group = None
        while len(ports) < expected:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"cosem-sim run ended before its banner: {proc.communicate(timeout=10)[1]}")
            if found := re.match(r"group g(\d+):", line):
                group = int(found.group(1))
            elif (found := re.match(r"  TCP wrapper 127\.0\.0\.1:(\d+)$", line)) and int(found.group(1)):
                assert group is not None
                ports[group] = int(found.group(1))
        yield proc, ports
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, and a clean exit (once: a process stopped already is left alone)."""
    if proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err


def collect(*arguments: str) -> tuple[int, dict[str, Any]]:
    """The collector with --json: its exit status and its report."""
    status, out = collect_text("--json", *arguments)
    return status, json.loads(out)


def collect_text(*arguments: str) -> tuple[int, str]:
    """The collector as a user runs it: its exit status and what it printed."""
    done = subprocess.run([sys.executable, str(COLLECTOR), "--timeout", "5", *arguments],
                          capture_output=True, text=True, timeout=120)
    assert done.stderr == "", done.stderr
    return done.returncode, done.stdout


def meters(ports: dict[int, int]) -> list[str]:
    return [option for i in sorted(ports) for option in ("--meter", f"127.0.0.1:{ports[i]}")]


def assert_collected(report: dict[str, Any], ports: dict[int, int], elapsed: float) -> None:
    """Each meter at its port answered as fleet meter i: its serial, a clock within the fleet's time
    so far, energy in Wh and a full day of load profile."""
    by_address = {m["address"]: m for m in report["meters"]}
    for i, port in ports.items():
        meter = by_address[f"127.0.0.1:{port}"]
        assert meter["ok"], meter
        assert meter["serial"] == f"{i + 1:08d}" and meter["attempts"] == 1
        clock = datetime.fromisoformat(meter["clock"])
        assert clock.utcoffset() == timedelta(hours=1)
        assert START <= clock <= START + timedelta(seconds=elapsed)  # the fleet's clock runs at the wall's rate
        assert meter["energy"] > 0 and meter["unit"] == "Wh"
        assert meter["rows"] == DAY_ROWS
        midnight = clock.replace(hour=0, minute=0, second=0)  # of the meter's own day (UTC+1), not UTC's
        assert meter["first_row"] == (midnight - timedelta(days=1)).isoformat()
        assert meter["last_row"] == midnight.isoformat()


def load_collector() -> Any:
    """The collector as a module (it is a script beside the image, not part of the package)."""
    if "rig_collector" not in sys.modules:
        spec = importlib.util.spec_from_file_location("rig_collector", COLLECTOR)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["rig_collector"]


def test_collects_every_meter_of_a_fleet_in_one_process(tmp_path: Path) -> None:
    profile = tmp_path / "rig.yaml"
    profile.write_text(fleet_profile(4))
    started = time.monotonic()
    with serving(profile, 4) as (_, ports):
        status, report = collect("--password", PASSWORD, *meters(ports))
        assert status == 0, report
        assert report["summary"] == {**report["summary"], "meters": 4, "collected": 4, "failed": 0}
        assert_collected(report, ports, time.monotonic() - started)


def test_collects_every_shard_and_names_the_meters_of_a_stopped_one_failed(tmp_path: Path) -> None:
    profile = tmp_path / "rig.yaml"
    profile.write_text(fleet_profile(5))
    started = time.monotonic()
    # shard I of 2 serves fleet meters I, I + 2, ...: 0, 2, 4 and 1, 3
    with serving(profile, 3, "--shard", "0/2") as (_, ports), serving(profile, 2, "--shard", "1/2") as (other, gone):
        assert sorted(ports) == [0, 2, 4] and sorted(gone) == [1, 3]
        status, report = collect("--password", PASSWORD, *meters(ports), *meters(gone))
        assert status == 0, report
        assert report["summary"] == {**report["summary"], "meters": 5, "collected": 5, "failed": 0}
        assert_collected(report, {**ports, **gone}, time.monotonic() - started)

        stop(other)  # shard 1's meters no longer answer; shard 0's do
        status, report = collect("--password", PASSWORD, *meters(ports), *meters(gone))
        assert status == 1
        assert report["summary"] == {**report["summary"], "meters": 5, "collected": 3, "failed": 2}
        failed = {m["address"]: m for m in report["meters"] if not m["ok"]}
        assert sorted(failed) == sorted(f"127.0.0.1:{port}" for port in gone.values())
        for meter in failed.values():
            assert meter["reason"] == "connection refused" and meter["attempts"] == 2  # tried again once
        assert_collected(report, ports, time.monotonic() - started)

        status, out = collect_text("--password", PASSWORD, *meters(ports), *meters(gone))
        lines = out.splitlines()
        assert status == 1 and len(lines) == 6 and PASSWORD not in out
        for port in gone.values():
            assert f"failed 127.0.0.1:{port}: connection refused (2 attempts)" in lines
        assert sum(line.startswith("ok     127.0.0.1:") for line in lines) == 3
        assert re.fullmatch(r"collected 3 of 5 meters, 2 failed, in \d+\.\d s", lines[-1])


def test_a_refusal_is_reported_in_words_and_not_tried_again(tmp_path: Path) -> None:
    profile = tmp_path / "rig.yaml"
    profile.write_text(fleet_profile(1))
    with serving(profile, 1) as (_, ports):
        status, report = collect("--password", "wrong-password", *meters(ports))
        (meter,) = report["meters"]
        assert status == 1 and "wrong-password" not in json.dumps(report)
        assert meter["reason"] == "association rejected permanently (authentication failure)"
        assert meter["attempts"] == 1
        # the public client (no password) associates, but energy is not among the objects it sees
        status, report = collect(*meters(ports))
        (meter,) = report["meters"]
        assert status == 1 and meter["serial"] == "00000001" and meter["clock"] is not None
        assert meter["reason"] == "1.0.1.8.0.255 attribute 3: undefined-object" and meter["attempts"] == 1


def test_the_rig_form_puts_meter_i_on_host_i_modulo_the_hosts() -> None:
    collector = load_collector()
    targets = collector.range_targets(["sim-0", "sim-1", "sim-2"], 4059, 5)
    assert [(t.host, t.port) for t in targets] == [
        ("sim-0", 4059), ("sim-1", 4060), ("sim-2", 4061), ("sim-0", 4062), ("sim-1", 4063)]
    with pytest.raises(ValueError, match="past port 65535"):
        collector.range_targets(["sim-0"], 65530, 7)


def test_no_more_meters_at_once_than_the_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    collector = load_collector()
    at_once = peak = 0

    async def collect(target: Any, settings: Any, retries: int) -> Any:
        nonlocal at_once, peak
        at_once += 1
        peak = max(peak, at_once)
        await asyncio.sleep(0)  # the others run meanwhile
        at_once -= 1
        return collector.Reading(target.address, ok=True)

    monkeypatch.setattr(collector, "collect", collect)
    targets = collector.range_targets(["sim-0", "sim-1"], 4059, 50)
    readings = asyncio.run(collector.collect_all(targets, collector.Settings(2, None, 1, 5.0), 7, 1))
    assert peak == 7 and [r.address for r in readings] == [t.address for t in targets]


@pytest.mark.parametrize(("arguments", "message"), [
    ([], "no meters: give --meter HOST:PORT or --hosts, --first-port and --count"),
    (["--hosts", "sim-0", "--first-port", "4059"], "--hosts, --first-port and --count go together"),
    (["--meter", "sim-0"], "expected HOST:PORT, like 127.0.0.1:4059, not 'sim-0'"),
    (["--meter", "sim-0:4059", "--concurrency", "0"], "--concurrency must be at least 1"),
])
def test_usage_errors_say_what_is_expected(arguments: list[str], message: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        load_collector().main(arguments)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_the_collector_image_passes_hadolint_and_installs_the_client_the_tests_use() -> None:
    image = COLLECTOR.parent / "Dockerfile"
    done = subprocess.run([str(Path(sys.executable).parent / "hadolint"), str(image)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    text = image.read_text()
    for source in re.findall(r"^COPY (\S+) ", text, re.MULTILINE):
        assert (COLLECTOR.parent / source).exists(), source
    assert re.search(r"^USER [1-9]\d*$", text, re.MULTILINE)  # numeric and not root
    assert 'ENTRYPOINT ["python", "/collector/collector.py"]' in text  # exec form: its exit status is the container's
    (pin,) = re.findall(r"^gurux-dlms==\S+$", (COLLECTOR.parent / "requirements.txt").read_text(), re.MULTILINE)
    assert f'"{pin}"' in (ROOT / "pyproject.toml").read_text()  # the version tests/docker/ ran it with
