"""The SQLite state store: schema, every kind of record round trip, reserved transmit counters,
JSON migration, unusable files and failed writes, and a meter never touched writing nothing."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from simulator.axdr import Data, DataType, Obis
from simulator.runtime.fleet import Fleet, LiveMeter
from simulator.runtime.layout import plan
from simulator.runtime.profile import parse_profile
from simulator.runtime.store import DATABASE_NAME, TABLES, TRANSMIT_RESERVE, StateStore, StoreError
from simulator.security.keywrap import KeyId
from simulator.server.objects import ObjectHandle, TimeBase
from simulator.state import (
    CalendarActivation, ClockAdjustment, ImageTransfer, ObjectListEdits, ProfileRows, ScheduleRun, ScriptRun,
    TrafficRequests, ValueChanged,
)

PROFILE = """
groups:
  - {name: e, model: idis_poly, count: 2, listen: [{transport: tcp, port: 1}]}
"""
TITLE = b"HEADEND1"
SETUP = Obis("0.0.43.0.1.255")
COUNTER = Obis("0.0.43.1.1.255")
ALARM_FILTER = Obis("0.0.97.98.10.255")
UNICAST = KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY
NEW_KEY = bytes(range(0x40, 0x50))


def fleet(directory: Path) -> Fleet:
    profile = parse_profile(PROFILE, "p.yaml")
    store = StateStore(directory, {g.name: g.model for g in profile.groups})
    return Fleet(profile, plan(profile).entries, TimeBase(1_700_000_000.0), store=store)


def handle(meter: LiveMeter, obis: Obis) -> ObjectHandle:
    device = meter.meter.model.logical_devices[1]
    spec = device.find(bytes(obis))
    assert spec is not None
    return ObjectHandle(meter.meter, device, spec, 0.0)


def commit(f: Fleet, *meters: LiveMeter) -> str | None:
    for meter in meters:
        f.changed(meter)
    return f.commit()


def rows(f: Fleet, table: str) -> list[tuple[object, ...]]:
    """A table's rows, read as another process would: the fleet's store is closed first (it
    holds the database locked while open)."""
    assert f.store is not None
    f.store.close()
    with contextlib.closing(sqlite3.connect(f.store.path)) as db:
        return db.execute(f"SELECT * FROM {table}").fetchall()


def restart(f: Fleet, directory: Path) -> Fleet:
    assert f.store is not None
    f.store.close()
    return fleet(directory)


def test_a_new_database_is_marked_as_ours_in_wal_mode(tmp_path: Path) -> None:
    fleet(tmp_path).store.close()  # type: ignore[union-attr]
    with contextlib.closing(sqlite3.connect(tmp_path / DATABASE_NAME)) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x434F5345
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"meters", *TABLES}


def test_every_kind_of_change_round_trips(tmp_path: Path) -> None:
    first = fleet(tmp_path)
    meter = first.live(first.entries[1])
    state = meter.meter.state
    handle(meter, ALARM_FILTER).set(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 0x0BADCAFE))
    security = handle(meter, SETUP).security()
    security.stage(UNICAST, NEW_KEY)
    security.commit()
    security.accept(UNICAST, TITLE, 41)
    used = [security.next_transmit(UNICAST) for _ in range(3)]
    state.set_secret(1, 5, b"new secret")
    image = ImageTransfer(status=1, identifier=b"fw-2", size=300, block_size=100, blocks={0: b"\x01" * 100},
                          first_missing=1)
    state.effects[(1, 7, ImageTransfer)] = image
    state.change(1, 7, ImageTransfer)
    state.change(1, 8, ClockAdjustment).preset = (1.0, 2.0, 3.0)
    state.change(1, 9, CalendarActivation).activated = Data(DataType.OCTET_STRING, b"\x07\xe8")
    state.change(1, 10, ScheduleRun).last = datetime(2024, 5, 1, 12, 0)
    state.change(1, 11, TrafficRequests).push = 12.5
    state.change(1, 12, ProfileRows).rows = [Data(DataType.DOUBLE_LONG_UNSIGNED, 7)]
    state.change(1, 13, ObjectListEdits).removed = frozenset({(3, bytes(Obis("1.0.1.8.0.255")))})
    state.change(1, 14, ScriptRun).depth = 2  # not persistent: never written
    state.shift_clock(-90.5)
    assert commit(first, meter) is None
    assert b"new secret" in rows(first, "secrets")[0]

    again = fleet(tmp_path)
    restored = again.live(again.entries[1]).meter.state
    assert restored.value(1, handle(meter, ALARM_FILTER).spec.index, 2) == Data(DataType.DOUBLE_LONG_UNSIGNED,
                                                                                0x0BADCAFE)
    material = restored.security(1, handle(meter, SETUP).spec.index)
    assert material is not None and material.key(UNICAST) == NEW_KEY
    assert material.last_received(UNICAST, TITLE) == 41
    assert material.transmit(UNICAST) > max(used)
    assert restored.secret(1, 5) == b"new secret"
    for key, record in state.effects.items():
        if key[2] is ScriptRun:
            assert key not in restored.effects
        else:
            assert restored.effects[key] == record
    assert restored.clock_offset_s == -90.5
    assert not restored.journal  # restoring is no change to save again


def test_a_new_key_forgets_the_counters_received_under_the_old_one(tmp_path: Path) -> None:
    first = fleet(tmp_path)
    meter = first.live(first.entries[0])
    security = handle(meter, SETUP).security()
    security.accept(UNICAST, TITLE, 500)
    assert commit(first, meter) is None
    security.stage(UNICAST, NEW_KEY)
    security.commit()
    assert commit(first, meter) is None
    again = restart(first, tmp_path)
    material = handle(again.live(again.entries[0]), SETUP).security()
    assert material.key(UNICAST) == NEW_KEY and material.last_received(UNICAST, TITLE) is None


def test_the_transmit_counter_continues_above_the_saved_ceiling(tmp_path: Path) -> None:
    """Counters used after the last commit (lost writes) are still below where a restart continues."""
    first = fleet(tmp_path)
    meter = first.live(first.entries[0])
    security = handle(meter, SETUP).security()
    used = [security.next_transmit(UNICAST)]
    assert commit(first, meter) is None
    assert [r[-1] for r in rows(first, "transmit_ceilings")] == [used[0] + 1 + TRANSMIT_RESERVE]
    used += [security.next_transmit(UNICAST) for _ in range(TRANSMIT_RESERVE)]  # uncommitted: lost at kill -9
    again = fleet(tmp_path)
    continued = handle(again.live(again.entries[0]), SETUP).security().next_transmit(UNICAST)
    assert continued > max(used)


def test_a_meter_never_touched_writes_nothing(tmp_path: Path) -> None:
    f = fleet(tmp_path)
    meter = f.live(f.entries[0])
    handle(meter, SETUP).security()  # keys from the model: no change
    handle(meter, ALARM_FILTER).get(2)
    assert not meter.meter.state.journal and not f.pending
    assert f.commit() is None
    assert rows(f, "meters") == []


def test_counters_of_json_state_files_are_imported_once_and_the_files_renamed(tmp_path: Path) -> None:
    (tmp_path / "e").mkdir()
    old = tmp_path / "e" / "1.json"
    old.write_text(json.dumps({"version": 1, "security": [{
        "server_sap": 1, "obis": "0.0.43.0.1.255",
        "unicast": {"transmit": 12, "received": {TITLE.hex().upper(): 41}}, "broadcast": {"transmit": 3}}]}))
    f = fleet(tmp_path)
    meter = f.live(f.entries[1])
    security = handle(meter, SETUP).security()
    assert security.last_received(UNICAST, TITLE) == 41
    assert security.transmit(UNICAST) == 12 + TRANSMIT_RESERVE
    assert handle(meter, COUNTER).get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 41)
    assert not old.exists() and (tmp_path / "e" / "1.json.migrated").exists()


def test_a_json_file_that_cannot_be_imported_fails_the_migration_until_fixed(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Skipping it would start that meter from nothing: its counters would be used again."""
    (tmp_path / "e").mkdir()
    good, bad = tmp_path / "e" / "0.json", tmp_path / "e" / "1.json"
    good.write_text(json.dumps({"version": 1, "security": [{
        "server_sap": 1, "obis": "0.0.43.0.1.255", "unicast": {"transmit": 12}}]}))
    bad.write_text('{"version": 1, "security": [')  # cut short
    with caplog.at_level(logging.ERROR):
        f = fleet(tmp_path)
    assert f.store is not None and f.store.fault is not None and str(bad) in f.store.fault
    assert "fix it, or remove it" in f.store.fault and "fixed or removed" in caplog.text
    assert f.live(f.entries[1]).meter.state.persistence_fault == f.store.fault
    assert not (tmp_path / DATABASE_NAME).exists() and good.exists() and bad.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e"]  # nothing half-built left behind
    bad.write_text(json.dumps({"version": 1, "security": [{
        "server_sap": 1, "obis": "0.0.43.0.1.255", "unicast": {"transmit": 30}}]}))  # fixed
    again = fleet(tmp_path)
    assert again.store is not None and again.store.fault is None
    for index, transmit in ((0, 12), (1, 30)):
        security = handle(again.live(again.entries[index]), SETUP).security()
        assert security.transmit(UNICAST) == transmit + TRANSMIT_RESERVE
    assert not good.exists() and not bad.exists()


def test_a_reset_meter_keeps_its_transmit_ceilings(tmp_path: Path) -> None:
    """Everything else is forgotten; its own counters continue above all it used (no repeated GCM IV)."""
    first = fleet(tmp_path)
    meter = first.live(first.entries[0])
    security = handle(meter, SETUP).security()
    security.accept(UNICAST, TITLE, 41)
    handle(meter, ALARM_FILTER).set(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 0x0BADCAFE))
    meter.meter.state.shift_clock(3600.0)
    used = [security.next_transmit(UNICAST) for _ in range(3)]
    assert commit(first, meter) is None
    assert first.store is not None and first.store.reset("e", 0) and not first.store.reset("e", 1)
    again = restart(first, tmp_path)
    restored = again.live(again.entries[0])
    material = handle(restored, SETUP).security()
    assert material.transmit(UNICAST) > max(used) and material.last_received(UNICAST, TITLE) is None
    assert handle(restored, ALARM_FILTER).get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 0xFFFFFFFF)
    assert restored.meter.state.clock_offset_s == 0.0
    assert rows(again, "attribute_values") == [] and rows(again, "received_counters") == []


@pytest.mark.parametrize("content", [b"not a database at all" * 100, None, b""])
def test_an_unusable_file_is_reported_left_alone_and_ciphering_refused(
        tmp_path: Path, content: bytes | None, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / DATABASE_NAME
    if content is None:  # another program's SQLite database
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute("CREATE TABLE t (x)")
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with caplog.at_level(logging.ERROR):
        f = fleet(tmp_path)
    assert f.store is not None and f.store.fault is not None and str(path) in f.store.fault
    assert any(str(path) in r.getMessage() for r in caplog.records)
    meter = f.live(f.entries[0])
    assert meter.meter.state.persistence_fault == f.store.fault
    handle(meter, ALARM_FILTER).set(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 1))
    assert commit(f, meter) is not None
    assert path.read_bytes() == before


def test_a_failed_write_is_reported_and_retried(tmp_path: Path) -> None:
    f = fleet(tmp_path)
    meter = f.live(f.entries[0])
    alarm = handle(meter, ALARM_FILTER)
    alarm.set(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 0x0BADCAFE))
    assert f.store is not None
    f.store.close()  # every write now fails, as on a full disk
    with pytest.raises(StoreError):
        f.store.save([("e", 0, meter.meter, frozenset([ValueChanged(1, alarm.spec.index, 2)]))])
    why = commit(f, meter)
    assert why is not None and meter.meter.state.persistence_fault == why and not f.pending
    f.store = fleet(tmp_path).store  # the disk has room again
    assert f.commit() is None and meter.meter.state.persistence_fault is None
    assert len(rows(f, "attribute_values")) == 1


def test_a_second_fleet_on_the_same_state_is_refused_its_counters(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = fleet(tmp_path)
    with caplog.at_level(logging.ERROR):
        second = fleet(tmp_path)
    assert first.store is not None and first.store.fault is None
    assert second.store is not None and second.store.fault is not None
    assert "in use by another process (a fleet running on this state directory?)" in second.store.fault
    assert "removed" not in caplog.text  # nobody is told to delete a live database
    assert second.live(second.entries[0]).meter.state.persistence_fault == second.store.fault
