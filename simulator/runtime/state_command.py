"""`cosem-sim state PROFILE`: what the fleet's meters keep, and how it differs from their model.

Lists every meter with stored state: attribute values that differ from the model's (with the
model's value), keys and secrets changed (only "changed": never their bytes), invocation
counters, the clock offset and the method effects kept. `--reset SERIAL` forgets one meter's
state but the ceilings of its own transmit counters (it continues above them: a counter sent
twice under the same key would repeat a GCM IV); a serial the profile does not have is an error.
`--export` prints it all as JSON for a rig that wants a known starting point, secrets
masked unless `--show-secrets`; `--shard I/N` reads that shard's database. A running fleet
holds its database locked: stop it first.
Reading never creates a database.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from ..axdr import Data, Obis
from ..errors import DLMSError
from ..security.keywrap import KeyId
from ..state import KEY_NAMES
from .fleet import Fleet
from .layout import MeterEntry, plan
from .profile import FleetProfile, ProfileError, demo_profile_path, load_profile, meter_fields
from ..server.objects import ObjectHandle, TimeBase
from .shard import WHOLE, parse_shard
from .store import Saved, StateStore, StoreError, database_name, decode_record

__all__ = ["add_state_arguments", "state_command"]

_KEY_IDS = frozenset(int(k) for k in KEY_NAMES)
_COUNTER_NAMES = {int(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY): "unicast", int(KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY): "broadcast"}


def add_state_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", nargs="?", type=Path, help="a fleet profile (default: the shipped demo)")
    parser.add_argument("--state-dir", type=Path, help="where the fleet keeps its state (overrides the profile)")
    parser.add_argument("--reset", metavar="SERIAL", action="append", default=[],
                        help="forget what meter SERIAL kept: it starts as its model says, but its own "
                             "invocation counters continue above those it used")
    parser.add_argument("--export", action="store_true", help="print the kept state as JSON")
    parser.add_argument("--show-secrets", action="store_true", help="--export shows keys and secrets")
    parser.add_argument("--shard", metavar="I/N", help="the state of shard I of N (run --shard, --workers)")


def state_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        shard = WHOLE if args.shard is None else parse_shard(args.shard)
    except ValueError as exc:
        sys.stderr.write(f"cosem-sim state: --shard: {exc}\n")
        return 1
    try:
        profile = load_profile(demo_profile_path() if args.profile is None else args.profile)
    except ProfileError as exc:
        sys.stderr.write("\n".join(exc.lines()) + "\n")
        return 1
    directory = args.state_dir if args.state_dir is not None else profile.state_dir
    unknown = [serial for serial in args.reset if serial not in _profile_serials(profile)]
    if directory is None or not (directory / database_name(shard)).exists():
        out.write(f"profile {profile.name}: no meter state kept{'' if directory is None else ' in ' + str(directory)}\n")
        for serial in unknown:
            sys.stderr.write(f"cosem-sim state: meter {serial}: profile {profile.name} has no such meter\n")
        return 1 if unknown else 0
    store = StateStore(directory, name=database_name(shard))
    try:
        if store.fault is not None:
            sys.stderr.write(f"cosem-sim state: {store.fault}\n")
            return 1
        view = _View(profile, store)
        if args.reset:
            return view.reset(args.reset, out)
        meters = [view.describe(group, index, serial, args.show_secrets) for group, index, serial in store.meters()]
        if args.export:
            out.write(json.dumps({"profile": profile.name, "database": str(store.path), "meters": meters},
                                 indent=1) + "\n")
        else:
            out.write(f"profile {profile.name}: {len(meters)} meters with state kept in {store.path}\n")
            for meter in meters:
                out.write("\n".join(_lines(meter)) + "\n")
        return 0
    finally:
        store.close()


class _View:
    """The profile's meters as their model builds them, to compare the stored state with."""

    def __init__(self, profile: FleetProfile, store: StateStore) -> None:
        self.profile = profile
        self.store = store
        self.fleet = Fleet(profile, plan(profile).entries, TimeBase(0.0))
        self.groups = {g.name: g for g in profile.groups}

    def entry(self, group: str, index: int) -> MeterEntry | None:
        spec = self.groups.get(group)
        if spec is None or not 0 <= index < spec.count:
            return None
        return self.fleet.entries[spec.first_index + index]

    def serial(self, group: str, index: int, stored: str | None) -> str:
        spec = self.groups.get(group)
        if spec is not None and 0 <= index < spec.count:
            return str(meter_fields(spec, index).get("serial", stored or f"{group}#{index}"))
        return stored or f"{group}#{index}"

    def reset(self, serials: list[str], out: TextIO) -> int:
        kept = {self.serial(g, i, s): (g, i) for g, i, s in self.store.meters()}
        failed = 0
        serials_here = _profile_serials(self.profile)
        for serial in serials:
            where = kept.get(serial)
            try:
                if where is not None and self.store.reset(*where):
                    out.write(f"meter {serial}: state forgotten, it starts as its model says "
                              "(its own invocation counters continue above those it used)\n")
                    continue
            except StoreError as exc:
                sys.stderr.write(f"cosem-sim state: meter {serial}: {exc}\n")
                failed = 1
                continue
            if serial in serials_here:
                out.write(f"meter {serial}: nothing kept\n")
            else:
                sys.stderr.write(f"cosem-sim state: meter {serial}: profile {self.profile.name} has no such meter "
                                 "and nothing is kept under that serial\n")
                failed = 1
        return failed

    def describe(self, group: str, index: int, stored_serial: str | None, secrets: bool) -> dict[str, Any]:
        saved = self.store.load(group, index) or Saved()
        entry = self.entry(group, index)
        meter = None if entry is None else self.fleet.live(entry).meter
        result: dict[str, Any] = {"serial": self.serial(group, index, stored_serial), "group": group,
                                  "group_index": index, "model": None if meter is None else meter.model.name}
        if entry is None or meter is None:
            result["problem"] = "the profile has no such meter any more"

        def where(sap: int, object_index: int, ln: bytes) -> dict[str, Any]:
            place: dict[str, Any] = {"logical_device": sap, "obis": _obis(ln)}
            spec = _spec(meter, sap, object_index, ln)
            if spec is None:
                place["problem"] = "not in the model at this place (skipped at start)"
            elif spec.label:
                place["name"] = spec.label
            return place

        values = []
        for sap, object_index, ln, attribute, raw in saved.values:
            item = {**where(sap, object_index, ln), "attribute": attribute, "value": _text(raw)}
            spec = _spec(meter, sap, object_index, ln)
            if meter is not None and spec is not None:
                try:
                    model = ObjectHandle(meter, meter.model.logical_devices[sap], spec, 0.0).get(attribute)
                    item["model_value"] = str(model)
                except Exception:  # a getter that cannot answer outside a request: no comparison
                    model = None
                if model is not None and model.to_bytes() == bytes(raw):
                    continue  # set back to the model's value: no difference
            values.append(item)
        keys = [{**where(sap, i, ln), "key": KEY_NAMES[KeyId(k)] if k in _KEY_IDS else str(k),
                 "value": bytes(key).hex().upper() if secrets else "changed"}
                for sap, i, ln, k, key in saved.keys if _model_key(meter, sap, i, ln, k) != bytes(key)]
        counters: dict[tuple[int, int, int], dict[str, Any]] = {}
        for sap, i, ln, k, ceiling in saved.ceilings:
            counters.setdefault((sap, i, k), {**where(sap, i, ln), "key": _COUNTER_NAMES.get(k, str(k)),
                                              "received": {}})["transmitted_below"] = ceiling
        for sap, i, ln, k, title, counter in saved.received:
            counters.setdefault((sap, i, k), {**where(sap, i, ln), "key": _COUNTER_NAMES.get(k, str(k)),
                                              "received": {}})["received"][bytes(title).hex().upper()] = counter
        result.update(
            values=values, keys=keys, invocation_counters=list(counters.values()),
            secrets=[{**where(sap, i, ln), "value": bytes(s).hex().upper() if secrets else "changed"}
                     for sap, i, ln, s in saved.secrets],
            clock_offset_s=saved.clock_offset_s,
            effects=[{**where(sap, i, ln), "kind": kind, "record": _record(text)}
                     for sap, i, ln, kind, text in saved.effects])
        return result


def _profile_serials(profile: FleetProfile) -> set[str]:
    return {str(meter_fields(group, i).get("serial")) for group in profile.groups for i in range(group.count)}


def _duration(seconds: float) -> str:
    """A clock offset as an engineer reads it: +400 d 2 h 5 min 7.5 s (zero units left out)."""
    rest = round(abs(seconds), 3)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    parts = [f"{int(n)} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n]
    if rest or not parts:
        parts.append(f"{rest:.3f}".rstrip("0").rstrip(".") + " s")
    return ("-" if seconds < 0 else "+") + " ".join(parts)


def _spec(meter: Any, sap: int, index: int, ln: bytes) -> Any:
    device = None if meter is None else meter.model.logical_devices.get(sap)
    if device is None or not 0 <= index < len(device.objects):
        return None
    spec = device.objects[index]
    return spec if bytes(spec.logical_name) == bytes(ln) else None


def _model_key(meter: Any, sap: int, index: int, ln: bytes, key_id: int) -> bytes | None:
    spec = _spec(meter, sap, index, ln)
    if spec is None or key_id not in _KEY_IDS:
        return None
    try:
        return ObjectHandle(meter, meter.model.logical_devices[sap], spec, 0.0).security().key(KeyId(key_id))
    except DLMSError:
        return None


def _obis(ln: bytes) -> str:
    try:
        return str(Obis(bytes(ln)))
    except (DLMSError, ValueError):
        return bytes(ln).hex().upper()


def _text(raw: bytes) -> str:
    try:
        return str(Data.from_bytes(bytes(raw)))
    except DLMSError:
        return "undecodable " + bytes(raw).hex().upper()


def _record(text: str) -> Any:
    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.hex().upper()
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value
    try:
        return plain(decode_record(text))
    except ValueError:
        return "undecodable"


def _lines(meter: dict[str, Any]) -> list[str]:
    lines = [f"meter {meter['serial']} (group {meter['group']} #{meter['group_index']}, model {meter['model']})"
             + (f": {meter['problem']}" if "problem" in meter else "")]

    def place(item: dict[str, Any]) -> str:
        name = f" {item['name']}" if "name" in item else ""
        problem = f" ({item['problem']})" if "problem" in item else ""
        return f"{item['obis']}{name}{problem}"

    for v in meter["values"]:
        model = f" (model: {v['model_value']})" if "model_value" in v else ""
        lines.append(f"  {place(v)} attribute {v['attribute']}: {v['value']}{model}")
    for k in meter["keys"]:
        lines.append(f"  {place(k)}: {k['key']} changed")
    for s in meter["secrets"]:
        lines.append(f"  {place(s)}: secret changed")
    for c in meter["invocation_counters"]:
        received = ", ".join(f"{t}: {n}" for t, n in c["received"].items()) or "none"
        below = f"; own counters below {c['transmitted_below']}" if "transmitted_below" in c else ""
        lines.append(f"  {place(c)} {c['key']} invocation counters: received {received}{below}")
    if meter["clock_offset_s"]:
        lines.append(f"  clock moved by {_duration(meter['clock_offset_s'])}")
    for e in meter["effects"]:
        lines.append(f"  {place(e)}: {e['kind']} kept")
    return lines
