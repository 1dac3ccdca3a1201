"""What a meter keeps across restarts: its `MeterState`, in one SQLite database per fleet.

`<state_dir>/state.sqlite3` (shard I of N: `state.shard-I-of-N.sqlite3`, each shard's own) holds, per meter a client changed, the attribute values it set,
the keys key_transfer put in force and the secrets clients changed (both secret: never
printed), the invocation counters accepted per client system title, the ceiling of the
meter's own transmit counters, the clock offset and what methods left behind (effect records,
`simulator/state/effects.py`). Failed-login counts are not kept: they count in monotonic
seconds, which mean nothing after a restart. A meter nobody changed has no row at all, and
writing a turn with no change opens no transaction.

Durability: the database runs in WAL mode with synchronous=NORMAL. A committed transaction is
in the WAL file (in the operating system's page cache) when `save` returns, so it survives
kill -9 of the process at any instant; only a power cut or a kernel crash can lose the last
transactions (synchronous=FULL, an fsync per commit, would be needed against that). The engine
commits all meters' changes of one event-loop turn in one transaction and only then writes
that turn's answers (group commit), so whatever a client saw acknowledged is on disk.

The meter's own transmit counter is reserved ahead: a ceiling `TRANSMIT_RESERVE` above the
counter in use is saved whenever the counter reaches the saved ceiling, and a restarted meter
continues at the ceiling, above every counter it can have used: a GCM IV is never repeated,
even when writes were lost, at the cost of a gap of up to `TRANSMIT_RESERVE` per restart.

The database is opened in exclusive locking mode (no shared memory: faster commits): while a
fleet runs, no other process opens it, and a second fleet on the same state directory finds it
locked and refuses ciphered service rather than share counters. `cosem-sim state` needs the
fleet stopped.

Rows name objects by (server SAP, index in the logical device) and carry the logical name: a
row whose object is no longer at that index (the model changed) is skipped with a warning.

A file that is not this store's database (corrupted, or another program's) is never written:
`fault` says why, with the path, and every meter of the fleet refuses ciphered service
(`MeterState.persistence_fault`) rather than reuse invocation counters. A write that fails
(disk full, read-only directory) raises `StoreError`; the engine withholds that turn's answers.

The JSON files of earlier versions (`<state_dir>/<group>/<index>.json`, counters only) are
imported when the database is created, and renamed `<index>.json.migrated`; their transmit
counters were saved only when a connection closed, so they are imported `TRANSMIT_RESERVE`
higher. A new database is built aside and linked into place, so an empty `state.sqlite3` is
damage, reported as such, and a JSON file that cannot be imported leaves no database: the store
is unusable, naming the file, and the next start imports again.

As IDIS meters do, the Data object 0.0.43.1.e.255 shows the last invocation counter the
Security setup 0.0.43.0.e.255 accepted from a client; it reads the restored counters
themselves (simulator/state/security.py says where counters are checked, shown and saved).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..axdr import Data, Obis
from ..errors import DLMSError
from ..model.spec import MeterModel
from ..security.counter import InvocationCounters
from ..security.keywrap import KeyId
from ..server.objects import Meter, ObjectHandle
from ..state import (
    COUNTED_KEYS, EFFECT_KINDS, KEY_NAMES, Change, ClockChanged, CounterChanged, EffectChanged, KeysChanged,
    SecretChanged, SecurityState, ValueChanged,
)
from .shard import Shard

__all__ = ["StateStore", "StoreError", "Saved", "restore", "DATABASE_NAME", "TRANSMIT_RESERVE", "database_name"]

_log = logging.getLogger(__name__)
DATABASE_NAME = "state.sqlite3"
TRANSMIT_RESERVE = 1000
_APPLICATION_ID = 0x434F5345  # "COSE": PRAGMA application_id marks the file as ours
_SCHEMA_VERSION = 1
_SECURITY_SETUP = 64
_SCHEMA = """
CREATE TABLE meters (id INTEGER PRIMARY KEY, grp TEXT NOT NULL, group_index INTEGER NOT NULL, serial TEXT,
                     clock_offset_s REAL NOT NULL DEFAULT 0, UNIQUE (grp, group_index));
CREATE TABLE attribute_values (meter INTEGER NOT NULL, sap INTEGER NOT NULL, object_index INTEGER NOT NULL,
                     ln BLOB NOT NULL, attribute INTEGER NOT NULL, value BLOB NOT NULL,
                     PRIMARY KEY (meter, sap, object_index, attribute)) WITHOUT ROWID;
CREATE TABLE keys (meter INTEGER NOT NULL, sap INTEGER NOT NULL, object_index INTEGER NOT NULL, ln BLOB NOT NULL,
                     key_id INTEGER NOT NULL, key BLOB NOT NULL,
                     PRIMARY KEY (meter, sap, object_index, key_id)) WITHOUT ROWID;
CREATE TABLE received_counters (meter INTEGER NOT NULL, sap INTEGER NOT NULL, object_index INTEGER NOT NULL,
                     ln BLOB NOT NULL, key_id INTEGER NOT NULL, system_title BLOB NOT NULL, counter INTEGER NOT NULL,
                     PRIMARY KEY (meter, sap, object_index, key_id, system_title)) WITHOUT ROWID;
CREATE TABLE transmit_ceilings (meter INTEGER NOT NULL, sap INTEGER NOT NULL, object_index INTEGER NOT NULL,
                     ln BLOB NOT NULL, key_id INTEGER NOT NULL, ceiling INTEGER NOT NULL,
                     PRIMARY KEY (meter, sap, object_index, key_id)) WITHOUT ROWID;
CREATE TABLE secrets (meter INTEGER NOT NULL, sap INTEGER NOT NULL, object_index INTEGER NOT NULL,
                     ln BLOB NOT NULL, secret BLOB NOT NULL, PRIMARY KEY (meter, sap, object_index)) WITHOUT ROWID;
CREATE TABLE effects (meter INTEGER NOT NULL, sap INTEGER NOT NULL, object_index INTEGER NOT NULL,
                     ln BLOB NOT NULL, kind TEXT NOT NULL, record TEXT NOT NULL,
                     PRIMARY KEY (meter, sap, object_index, kind)) WITHOUT ROWID;
"""
_Ops = list[tuple[str, tuple[Any, ...]]]  # the statements a commit runs, in order
TABLES = ("attribute_values", "keys", "received_counters", "transmit_ceilings", "secrets", "effects")


def database_name(shard: Shard) -> str:
    """The database file of a fleet (DATABASE_NAME) or of one shard of it."""
    return DATABASE_NAME if not shard.split else f"state.shard-{shard.index}-of-{shard.count}.sqlite3"


class StoreError(Exception):
    """A change could not be written (the message says why, never a secret)."""


@dataclass
class Saved:
    """One meter's rows as read back (objects by (sap, index), with the logical name they had)."""

    clock_offset_s: float = 0.0
    values: list[tuple[int, int, bytes, int, bytes]] = field(default_factory=list)
    keys: list[tuple[int, int, bytes, int, bytes]] = field(default_factory=list)
    received: list[tuple[int, int, bytes, int, bytes, int]] = field(default_factory=list)
    ceilings: list[tuple[int, int, bytes, int, int]] = field(default_factory=list)
    secrets: list[tuple[int, int, bytes, bytes]] = field(default_factory=list)
    effects: list[tuple[int, int, bytes, str, str]] = field(default_factory=list)


class StateStore:
    """The fleet's database. Opening never raises: a file it cannot use sets `fault`."""

    def __init__(self, directory: Path, models: Mapping[str, MeterModel] | None = None,
                 name: str = DATABASE_NAME) -> None:
        self.directory = directory
        self.path = directory / name
        self.fault: str | None = None
        self._db: sqlite3.Connection | None = None
        self._ids: dict[tuple[str, int], int] = {}
        self._ceilings: dict[tuple[int, int, int, int], int] = {}  # (meter, sap, index, key id) -> saved
        try:
            self._open(models or {})
        except _ImportFailed as exc:
            self._fail(str(exc), "that file is fixed or removed")
        except (sqlite3.Error, OSError) as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                self._fail("in use by another process (a fleet running on this state directory?)",
                           "that process stops and this fleet starts again")
            else:
                self._fail(_reason(exc))

    def _fail(self, why: str, until: str = "it is repaired or removed") -> None:
        self.fault = f"meter state database {self.path} is unusable: {why}"
        _log.error("%s; ciphered service is refused until %s", self.fault, until)
        if self._db is not None:
            self._db.close()
            self._db = None

    def _open(self, models: Mapping[str, MeterModel]) -> None:
        """Open the database, creating it first if there is none. Creation is atomic (built aside,
        then linked into place), so a file that is there but empty can only be damage."""
        self.directory.mkdir(parents=True, exist_ok=True)
        migrated: list[Path] = []
        if not self.path.exists():
            migrated = self._create(models)
        if self.path.stat().st_size == 0:
            return self._fail("an empty file (damaged: this cosem-sim never leaves one)")
        db = self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0)
        db.execute("PRAGMA locking_mode=EXCLUSIVE")
        app, version = db.execute("PRAGMA application_id").fetchone()[0], db.execute("PRAGMA user_version").fetchone()[0]
        if app != _APPLICATION_ID:
            return self._fail("not a cosem-sim state database (another program's file?)")
        if version != _SCHEMA_VERSION:
            return self._fail(f"schema version {version}, this cosem-sim reads version {_SCHEMA_VERSION}")
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            return self._fail(f"corrupted ({check})")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("BEGIN IMMEDIATE")  # take the lock now: a second process on this file is told at its start
        db.execute("COMMIT")
        for path in migrated:  # only now: until the database is in place, the next start imports them again
            try:
                path.rename(path.with_name(path.name + ".migrated"))
            except OSError as exc:
                _log.warning("imported %s but cannot rename it: %s", path, _reason(exc))

    def _create(self, models: Mapping[str, MeterModel]) -> list[Path]:
        """Build a new database (schema and the JSON files' counters) in a temporary file beside
        it, then link it into place; a crash or a failed import leaves no database behind.
        Returns the JSON files imported."""
        handle, name = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".new", dir=self.directory)
        os.close(handle)
        building = Path(name)
        try:
            with contextlib.closing(sqlite3.connect(building, isolation_level=None)) as db:
                db.execute("PRAGMA page_size=1024")  # small rows: a commit appends a quarter of the WAL bytes
                db.execute(f"PRAGMA application_id={_APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
                db.executescript("BEGIN;" + _SCHEMA + "COMMIT;")
                migrated = self._migrate(db, models) if models else []
            try:
                os.link(building, self.path)  # never replaces a database another process just created
            except FileExistsError:
                _log.info("meter state database %s was created meanwhile by another process", self.path)
                return []
        finally:
            building.unlink(missing_ok=True)
        return migrated

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # ------------------------------------------------------------------ reading

    def load(self, group: str, group_index: int) -> Saved | None:
        """What the store kept of a meter (None: nothing, or the store is unusable)."""
        db = self._db
        if db is None:
            return None
        try:
            row = db.execute("SELECT id, clock_offset_s FROM meters WHERE grp=? AND group_index=?",
                             (group, group_index)).fetchone()
            if row is None:
                return None
            meter_id, offset = row
            self._ids[(group, group_index)] = meter_id
            saved = Saved(offset)
            one = (meter_id,)
            saved.values = db.execute("SELECT sap, object_index, ln, attribute, value FROM attribute_values "
                                      "WHERE meter=?", one).fetchall()
            saved.keys = db.execute("SELECT sap, object_index, ln, key_id, key FROM keys WHERE meter=?", one).fetchall()
            saved.received = db.execute("SELECT sap, object_index, ln, key_id, system_title, counter "
                                        "FROM received_counters WHERE meter=?", one).fetchall()
            saved.ceilings = db.execute("SELECT sap, object_index, ln, key_id, ceiling FROM transmit_ceilings "
                                        "WHERE meter=?", one).fetchall()
            saved.secrets = db.execute("SELECT sap, object_index, ln, secret FROM secrets WHERE meter=?", one).fetchall()
            saved.effects = db.execute("SELECT sap, object_index, ln, kind, record FROM effects WHERE meter=?",
                                       one).fetchall()
        except sqlite3.Error as exc:
            _log.error("cannot read meter state %s/%d from %s: %s", group, group_index, self.path, _reason(exc))
            return None
        for sap, index, _ln, key_id, ceiling in saved.ceilings:
            self._ceilings[(meter_id, sap, index, key_id)] = ceiling
        return saved

    def meters(self) -> list[tuple[str, int, str | None]]:
        """(group, group index, serial) of every meter with stored state."""
        if self._db is None:
            return []
        return self._db.execute("SELECT grp, group_index, serial FROM meters ORDER BY grp, group_index").fetchall()

    def meters_with(self, group: str, values: frozenset[tuple[int, int, int]]) -> list[int]:
        """Group indexes of the meters of `group` whose kept state has a clock offset or a value
        of one of `values` ((sap, object index, attribute)), read without loading the meters (the
        push scheduler plans those on their own after a restart)."""
        if self._db is None:
            return []
        try:
            found = {i for (i,) in self._db.execute(
                "SELECT group_index FROM meters WHERE grp=? AND clock_offset_s != 0", (group,))}
            found.update(i for i, *key in self._db.execute(
                "SELECT m.group_index, v.sap, v.object_index, v.attribute FROM attribute_values v "
                "JOIN meters m ON m.id = v.meter WHERE m.grp=?", (group,)) if tuple(key) in values)
        except sqlite3.Error as exc:
            _log.error("cannot read meter state of group %s from %s: %s", group, self.path, _reason(exc))
            return []
        return sorted(found)

    def reset(self, group: str, group_index: int) -> bool:
        """Forget what was kept for a meter (it starts as its model says) except the ceilings of
        its own transmit counters: it continues above them, or it would send its counters again
        under the same key and system title (a repeated GCM IV). False: nothing was kept."""
        db = self._require()
        row = db.execute("SELECT id FROM meters WHERE grp=? AND group_index=?", (group, group_index)).fetchone()
        if row is None:
            return False
        with _transaction(db):
            for table in TABLES:
                if table != "transmit_ceilings":
                    db.execute(f"DELETE FROM {table} WHERE meter=?", row)
            db.execute("UPDATE meters SET clock_offset_s=0 WHERE id=?", row)
            db.execute("DELETE FROM meters WHERE id=? AND NOT EXISTS "
                       "(SELECT 1 FROM transmit_ceilings WHERE meter=meters.id)", row)
        return True

    def _require(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(self.fault or f"{self.path} is closed")
        return self._db

    # ------------------------------------------------------------------ writing

    def save(self, batch: Iterable[tuple[str, int, Meter, frozenset[Change]]]) -> None:
        """Write the changes of several meters in one transaction; StoreError if it failed
        (nothing of it is then written). Changes that are not kept cost nothing.

        The writers only list their statements: a turn that writes one row (a ciphered GET's
        received counter) runs it alone, which SQLite commits as its own transaction."""
        db: sqlite3.Connection | None = None
        ops: list[tuple[str, tuple[Any, ...]]] = []
        new_ids: dict[tuple[str, int], int] = {}
        ceilings: dict[tuple[int, int, int, int], int] = {}
        writers = _WRITERS
        try:
            try:
                for group, index, meter, changes in batch:
                    meter_id = None
                    for change in changes:
                        writer = writers.get(change.__class__)
                        if writer is None:
                            continue
                        if meter_id is None:
                            meter_id = self._ids.get((group, index)) or new_ids.get((group, index))
                        if meter_id is None:  # its first row: the row id is needed now, in the transaction
                            if db is None:
                                db = self._require()
                                db.execute("BEGIN")
                            serial = meter.fields.get("serial")
                            meter_id = new_ids[(group, index)] = db.execute(
                                "INSERT INTO meters (grp, group_index, serial) VALUES (?, ?, ?) "
                                "ON CONFLICT (grp, group_index) DO UPDATE SET serial=excluded.serial RETURNING id",
                                (group, index, None if serial is None else str(serial))).fetchone()[0]
                        writer(self, ops, meter_id, meter, change, ceilings)
                if db is None:
                    if not ops:
                        return
                    db = self._require()
                    if len(ops) == 1:
                        db.execute(*ops[0])
                        ops.clear()
                    else:
                        db.execute("BEGIN")
                execute = db.execute
                for op in ops:
                    execute(*op)
                if db.in_transaction:
                    execute("COMMIT")
            except BaseException:
                if db is not None and db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write meter state to {self.path}: {_reason(exc)}") from None
        self._ids.update(new_ids)
        self._ceilings.update(ceilings)

    def _value(self, ops: _Ops, meter_id: int, meter: Meter, change: ValueChanged, _: Any) -> None:
        sap, index, attribute = change
        value = meter.state.value(sap, index, attribute)
        if value is None:
            ops.append(("DELETE FROM attribute_values WHERE meter=? AND sap=? AND object_index=? AND attribute=?",
                        (meter_id, sap, index, attribute)))
        else:
            ops.append(("INSERT OR REPLACE INTO attribute_values VALUES (?, ?, ?, ?, ?, ?)",
                        (meter_id, sap, index, _ln(meter, sap, index), attribute, value.to_bytes())))

    def _counter(self, ops: _Ops, meter_id: int, meter: Meter, change: CounterChanged,
                 ceilings: dict[tuple[int, int, int, int], int]) -> None:
        sap, index, key_id, title = change
        security = meter.state.security(sap, index)
        if security is None:
            return
        if title is None:  # ours: used counters are below `transmit`; keep them below the saved ceiling
            key = (meter_id, sap, index, key_id)
            transmit = security.transmit(key_id)
            saved = ceilings.get(key, self._ceilings.get(key))
            if saved is None or transmit > saved:
                ceilings[key] = transmit + TRANSMIT_RESERVE
                ops.append(("INSERT OR REPLACE INTO transmit_ceilings VALUES (?, ?, ?, ?, ?, ?)",
                            (meter_id, sap, index, _ln(meter, sap, index), key_id, transmit + TRANSMIT_RESERVE)))
            return
        last = security.last_received(key_id, title)
        if last is not None:
            ops.append(("INSERT OR REPLACE INTO received_counters VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (meter_id, sap, index, _ln(meter, sap, index), key_id, title, last)))

    def _keys(self, ops: _Ops, meter_id: int, meter: Meter, change: KeysChanged, _: Any) -> None:
        """The keys in force, and the received counters under them (a new key restarts them)."""
        sap, index = change
        security = meter.state.security(sap, index)
        if security is None:
            return
        where = (meter_id, sap, index)
        ln = _ln(meter, sap, index)
        ops.append(("DELETE FROM keys WHERE meter=? AND sap=? AND object_index=?", where))
        ops.extend(("INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?)", (*where, ln, int(k), key))
                   for k in KEY_NAMES if (key := security.key(k)) is not None)
        ops.append(("DELETE FROM received_counters WHERE meter=? AND sap=? AND object_index=?", where))
        ops.extend(("INSERT INTO received_counters VALUES (?, ?, ?, ?, ?, ?, ?)", (*where, ln, int(k), title, c))
                   for k in COUNTED_KEYS for title, c in security.received(k).items())

    def _secret(self, ops: _Ops, meter_id: int, meter: Meter, change: SecretChanged, _: Any) -> None:
        sap, index = change
        secret = meter.state.secret(sap, index)
        if secret is not None:
            ops.append(("INSERT OR REPLACE INTO secrets VALUES (?, ?, ?, ?, ?)",
                        (meter_id, sap, index, _ln(meter, sap, index), secret)))

    def _effect(self, ops: _Ops, meter_id: int, meter: Meter, change: EffectChanged, _: Any) -> None:
        sap, index, kind = change
        record = meter.state.effect(sap, index, EFFECT_KINDS[kind])
        if record is None:
            ops.append(("DELETE FROM effects WHERE meter=? AND sap=? AND object_index=? AND kind=?",
                        (meter_id, sap, index, kind)))
        else:
            ops.append(("INSERT OR REPLACE INTO effects VALUES (?, ?, ?, ?, ?, ?)",
                        (meter_id, sap, index, _ln(meter, sap, index), kind, encode_record(record.to_record()))))

    def _clock(self, ops: _Ops, meter_id: int, meter: Meter, change: ClockChanged, _: Any) -> None:
        ops.append(("UPDATE meters SET clock_offset_s=? WHERE id=?", (meter.state.clock_offset_s, meter_id)))

    # ------------------------------------------------------------------ migration

    def _migrate(self, db: sqlite3.Connection, models: Mapping[str, MeterModel]) -> list[Path]:
        """Import the counters of the JSON files of earlier versions into a database being built.
        A file that cannot be imported fails it all (_ImportFailed): skipping it would start that
        meter from nothing, reusing its invocation counters."""
        done: list[Path] = []
        for directory in sorted(p for p in self.directory.iterdir() if p.is_dir()):
            model = next((m for g, m in models.items() if _file_name(g) == directory.name), None)
            group = next((g for g in models if _file_name(g) == directory.name), None)
            if model is None or group is None:
                continue
            for path in sorted(directory.glob("*.json")):
                if not path.stem.isdigit():
                    continue
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                    self._import(db, group, int(path.stem), model, data)
                except (OSError, ValueError, KeyError, TypeError, AttributeError, DLMSError, sqlite3.Error) as exc:
                    raise _ImportFailed(f"the earlier version's state file {path} cannot be imported "
                                        f"({_reason(exc)}): fix it, or remove it to start that meter from nothing "
                                        "(its invocation counters may then be used again)") from None
                done.append(path)
        if done:
            _log.info("imported the invocation counters of %d meters from JSON files into %s", len(done), self.path)
        return done

    def _import(self, db: sqlite3.Connection, group: str, group_index: int, model: MeterModel, data: Any) -> None:
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValueError("not a version 1 state file")
        with _transaction(db):
            meter_id = db.execute("INSERT INTO meters (grp, group_index) VALUES (?, ?) RETURNING id",
                                  (group, group_index)).fetchone()[0]
            for item in data.get("security", ()):
                sap = int(item["server_sap"])
                device = model.logical_devices[sap]
                spec = device.find(bytes(Obis(item["obis"])))
                if spec is None or spec.cls.class_id != _SECURITY_SETUP:
                    continue
                ln = bytes(spec.logical_name)
                for key_id, name in ((KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY, "unicast"),
                                     (KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY, "broadcast")):
                    counters = InvocationCounters.from_dict(item.get(name, {}))
                    db.execute("INSERT INTO transmit_ceilings VALUES (?, ?, ?, ?, ?, ?)",
                               (meter_id, sap, spec.index, ln, int(key_id), counters.transmit + TRANSMIT_RESERVE))
                    db.executemany("INSERT INTO received_counters VALUES (?, ?, ?, ?, ?, ?, ?)",
                                   [(meter_id, sap, spec.index, ln, int(key_id), t, c)
                                    for t, c in counters.received().items()])


class _ImportFailed(Exception):
    """A JSON state file of an earlier version could not be imported (the message names it)."""


_WRITERS: dict[type, Any] = {
    ValueChanged: StateStore._value, CounterChanged: StateStore._counter, KeysChanged: StateStore._keys,
    SecretChanged: StateStore._secret, EffectChanged: StateStore._effect, ClockChanged: StateStore._clock,
}


class _transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _file_name(group: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", group)


def _ln(meter: Meter, sap: int, index: int) -> bytes:
    return bytes(meter.model.logical_devices[sap].objects[index].logical_name)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def encode_record(record: Mapping[str, Any]) -> str:
    """An effect record as JSON; bytes as {"hex": ...}."""
    return json.dumps(record, default=_encode_bytes, separators=(",", ":"), sort_keys=True)


def decode_record(text: str) -> dict[str, Any]:
    value = json.loads(text, object_hook=lambda d: bytes.fromhex(d["hex"]) if d.keys() == {"hex"} else d)
    if not isinstance(value, dict):
        raise ValueError("an effect record is not an object")
    return value


def _encode_bytes(value: object) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"hex": bytes(value).hex()}
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not kept")


# ---------------------------------------------------------------------- restoring

def restore(meter: Meter, saved: Saved, label: str = "") -> None:
    """Put a meter's saved rows back into its state (the caller takes the journal afterwards).

    A row whose object is no longer at its index, or that does not decode, is skipped with a
    warning; so are keys and counters of a Security setup whose keys the profile cannot render.
    """
    state = meter.state
    who = label or f"meter {meter.index}"

    def spec_at(sap: int, index: int, ln: bytes, what: str) -> Any:
        device = meter.model.logical_devices.get(sap)
        spec = device.objects[index] if device is not None and 0 <= index < len(device.objects) else None
        if spec is None or bytes(spec.logical_name) != bytes(ln):
            _log.warning("%s: saved %s of %s at logical device %d skipped: the model has no such object there now",
                         who, what, _obis(ln), sap)
            return None
        return device, spec

    state.clock_offset_s = float(saved.clock_offset_s)
    for sap, index, ln, attribute, raw in saved.values:
        if spec_at(sap, index, ln, f"attribute {attribute}") is not None:
            try:
                state.values[(sap, index, attribute)] = Data.from_bytes(raw)
            except DLMSError as exc:
                _log.warning("%s: saved attribute %d of %s skipped: %s", who, attribute, _obis(ln), exc)
    for sap, index, ln, secret in saved.secrets:
        if spec_at(sap, index, ln, "secret") is not None:
            state.secrets[(sap, index)] = bytes(secret)
    for sap, index, ln, kind, text in saved.effects:
        cls = EFFECT_KINDS.get(kind)
        if cls is None or spec_at(sap, index, ln, kind) is None:
            continue
        try:
            state.effects[(sap, index, cls)] = cls.from_record(decode_record(text))
        except (ValueError, TypeError, KeyError, DLMSError) as exc:
            _log.warning("%s: saved %s of %s skipped: %s", who, kind, _obis(ln), _reason(exc))
    setups: dict[tuple[int, int], SecurityState | None] = {}

    def security(sap: int, index: int, ln: bytes) -> SecurityState | None:
        if (sap, index) not in setups:
            found = spec_at(sap, index, ln, "keys and counters")
            material = None
            if found is not None:
                try:
                    material = ObjectHandle(meter, found[0], found[1], 0.0).security()
                except DLMSError as exc:
                    _log.warning("%s: saved keys and counters of %s skipped: %s", who, _obis(ln), exc)
            setups[(sap, index)] = material
        return setups[(sap, index)]

    keys: dict[tuple[int, int], dict[KeyId, bytes]] = {}
    for sap, index, ln, key_id, key in saved.keys:
        if security(sap, index, ln) is not None:
            keys.setdefault((sap, index), {})[KeyId(key_id)] = bytes(key)
    for (sap, index), in_force in keys.items():
        material = setups[(sap, index)]
        assert material is not None
        try:
            material.restore_keys(in_force)
        except DLMSError as exc:
            _log.warning("%s: saved keys of logical device %d object %d skipped: %s", who, sap, index, exc)
    counters: dict[tuple[int, int, int], tuple[int, dict[bytes, int]]] = {}
    for sap, index, ln, key_id, ceiling in saved.ceilings:
        if security(sap, index, ln) is not None:
            counters[(sap, index, key_id)] = (ceiling, counters.get((sap, index, key_id), (0, {}))[1])
    for sap, index, ln, key_id, title, counter in saved.received:
        if security(sap, index, ln) is not None:
            counters.setdefault((sap, index, key_id), (0, {}))[1][bytes(title)] = counter
    for (sap, index, key_id), (ceiling, received) in counters.items():
        material = setups[(sap, index)]
        assert material is not None
        try:
            transmit = max(ceiling, material.transmit(KeyId(key_id)))
            material.restore_counters(KeyId(key_id), InvocationCounters(transmit, received))
        except (DLMSError, ValueError) as exc:
            _log.warning("%s: saved counters of logical device %d object %d skipped: %s", who, sap, index, exc)


def _obis(ln: bytes) -> str:
    try:
        return str(Obis(bytes(ln)))
    except (DLMSError, ValueError, TypeError):
        return bytes(ln).hex()
