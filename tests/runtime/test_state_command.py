"""`cosem-sim state`: what meters keep and how it differs from their model; --reset, --export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.axdr import Data, DataType, Obis
from simulator.cli import main
from simulator.runtime.command import banner
from simulator.runtime.engine import Engine
from simulator.runtime.fleet import Fleet
from simulator.runtime.layout import plan
from simulator.runtime.profile import load_profile
from simulator.runtime.store import TRANSMIT_RESERVE, StateStore
from simulator.security.keywrap import KeyId
from simulator.server.objects import ObjectHandle, TimeBase

PROFILE = """
name: kept
state_dir: state
groups:
  - {name: e, model: idis_poly, count: 3, listen: [{transport: tcp, port: 0}]}
"""
NEW_KEY = bytes(range(0xA0, 0xB0))


@pytest.fixture()
def profile(tmp_path: Path) -> Path:
    """Meter 00000002 with the alarm filter set, a new unicast key, a counter accepted, three
    counters of its own used and its clock moved."""
    path = tmp_path / "kept.yaml"
    path.write_text(PROFILE)
    loaded = load_profile(path)
    assert loaded.state_dir is not None
    store = StateStore(loaded.state_dir)
    fleet = Fleet(loaded, plan(loaded).entries, TimeBase(0.0), store=store)
    meter = fleet.live(fleet.entries[1])
    device = meter.meter.model.logical_devices[1]

    def handle(obis: str) -> ObjectHandle:
        spec = device.find(bytes(Obis(obis)))
        assert spec is not None
        return ObjectHandle(meter.meter, device, spec, 0.0)

    handle("0.0.97.98.10.255").set(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 0x0BADCAFE))
    security = handle("0.0.43.0.1.255").security()
    security.stage(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY, NEW_KEY)
    security.commit()
    security.accept(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY, b"HEADEND1", 41)
    for _ in range(3):
        security.next_transmit(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY)
    meter.meter.state.shift_clock(400 * 86400 + 2 * 3600 + 125.5)
    fleet.live(fleet.entries[2])  # contacted, never changed: not listed
    fleet.changed(meter)
    assert fleet.commit() is None
    store.close()
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(["state", *argv])
    return status, capsys.readouterr().out


def test_the_listing_shows_differences_and_never_key_bytes(profile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(capsys, str(profile))
    assert status == 0
    assert "1 meters with state kept" in out and "meter 00000002 (group e #1, model idis_poly)" in out
    assert "0.0.97.98.10.255 Alarm filter 1 attribute 2: double-long-unsigned 195939070 " \
           "(model: double-long-unsigned 4294967295)" in out
    assert "global_unicast_encryption_key changed" in out and "received 48454144454E4431: 41" in out
    assert NEW_KEY.hex().upper() not in out.upper() and "00000003" not in out
    assert "clock moved by +400 d 2 h 2 min 5.5 s" in out


def test_export_masks_secrets_unless_asked(profile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(capsys, str(profile), "--export")
    (meter,) = json.loads(out)["meters"]
    assert status == 0 and meter["serial"] == "00000002" and meter["keys"][0]["value"] == "changed"
    assert NEW_KEY.hex().upper() not in out.upper()
    _, shown = run(capsys, str(profile), "--export", "--show-secrets")
    assert json.loads(shown)["meters"][0]["keys"][0]["value"] == NEW_KEY.hex().upper()


def test_reset_forgets_one_meter_but_its_transmit_ceilings(profile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Its own counters continue above those it used: the same counter twice would repeat a GCM IV."""
    status, out = run(capsys, str(profile), "--reset", "00000002", "--reset", "00000003")
    assert status == 0
    assert "meter 00000002: state forgotten" in out and "meter 00000003: nothing kept" in out
    _, listing = run(capsys, str(profile))
    (line,) = [line for line in listing.splitlines() if line.startswith("  ")]
    assert "1 meters with state kept" in listing
    assert line.endswith(f"invocation counters: received none; own counters below {4 + TRANSMIT_RESERVE}")


def test_reset_of_a_meter_the_profile_does_not_have_is_an_error(
        profile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["state", str(profile), "--reset", "99999999", "--reset", "00000003"])
    out, err = capsys.readouterr()
    assert status == 1 and "meter 00000003: nothing kept" in out
    assert "meter 99999999: profile kept has no such meter" in err
    _, listing = run(capsys, str(profile))
    assert "meter 00000002" in listing  # nothing else was touched


def test_reset_without_a_database_checks_the_serials(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "kept.yaml"
    path.write_text(PROFILE)
    assert main(["state", str(path), "--reset", "00000001"]) == 0
    assert main(["state", str(path), "--reset", "99999999"]) == 1
    assert "meter 99999999: profile kept has no such meter" in capsys.readouterr().err


def test_the_banner_says_when_nothing_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "kept.yaml"
    path.write_text(PROFILE)
    engine = Engine(load_profile(path))
    engine.state_dir = None  # as run --no-state does
    assert "nothing is kept" in banner(engine, secrets=False)


def test_no_database_is_created_by_looking(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "kept.yaml"
    path.write_text(PROFILE)
    status, out = run(capsys, str(path))
    assert status == 0 and "no meter state kept" in out and not (tmp_path / "state").exists()
