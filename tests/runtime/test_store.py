"""Invocation counters kept across restarts, and published at 0.0.43.1.1.255 as IDIS meters do."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from simulator.security.keywrap import KeyId
from simulator.axdr import Data, DataType, Obis
from simulator.runtime.fleet import Fleet, LiveMeter
from simulator.runtime.layout import plan
from simulator.runtime.profile import parse_profile
from simulator.runtime.store import StateStore, publish_counters, snapshot
from simulator.server.objects import ObjectHandle, TimeBase

PROFILE = """
groups:
  - {name: e, model: idis_poly, count: 2, listen: [{transport: tcp, port: 1}]}
"""
TITLE = b"HEADEND1"
SETUP = Obis("0.0.43.0.1.255")
COUNTER = Obis("0.0.43.1.1.255")
UNICAST = KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY


def fleet(directory: Path) -> Fleet:
    profile = parse_profile(PROFILE, "p.yaml")
    return Fleet(profile, plan(profile).entries, TimeBase(1_700_000_000.0), store=StateStore(directory))


def handle(meter: LiveMeter, obis: Obis) -> ObjectHandle:
    device = meter.meter.model.logical_devices[1]
    spec = device.find(bytes(obis))
    assert spec is not None
    return ObjectHandle(meter.meter, device, spec, 0.0)


def test_counters_round_trip_through_the_store(tmp_path: Path) -> None:
    first = fleet(tmp_path)
    meter = first.live(first.entries[1])
    material = handle(meter, SETUP).security()
    material.accept(UNICAST, TITLE, 41)
    material.accept(UNICAST, TITLE, 42)
    material.next_transmit(UNICAST)
    transmit = material.transmit(UNICAST)
    publish_counters(meter.meter)
    assert handle(meter, COUNTER).get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 42)
    first.save_all()
    saved = json.loads((tmp_path / "e" / "1.json").read_text())
    assert saved == {"version": 1, "security": [{
        "server_sap": 1, "obis": "0.0.43.0.1.255",
        "unicast": {"transmit": transmit, "received": {TITLE.hex().upper(): 42}},
        "broadcast": material.counters(KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY).to_dict()}]}
    assert "0001020304" not in json.dumps(saved)  # keys are never written

    again = fleet(tmp_path)
    restored = again.live(again.entries[1])
    counters = handle(restored, SETUP).security()
    assert counters.last_received(UNICAST, TITLE) == 42 and counters.transmit(UNICAST) == transmit
    assert handle(restored, COUNTER).get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 42)
    assert handle(again.live(again.entries[0]), COUNTER).get(2).value == 0  # another meter: nothing kept


def test_a_meter_that_never_ciphered_keeps_nothing(tmp_path: Path) -> None:
    f = fleet(tmp_path)
    meter = f.live(f.entries[0])
    assert snapshot(meter.meter) is None
    f.save_all()
    assert not (tmp_path / "e").exists()


@pytest.mark.parametrize("content", ["not json", '{"version": 99}', '{"version": 1, "security": [{"obis": 5}]}'])
def test_unusable_state_is_ignored_with_a_warning(tmp_path: Path, content: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "0.json").write_text(content)
    f = fleet(tmp_path)
    with caplog.at_level(logging.WARNING):
        meter = f.live(f.entries[0])
    assert caplog.records and handle(meter, COUNTER).get(2).value == 0
