"""What a meter keeps across restarts: for now its invocation counters.

A head-end that ciphers resumes after a simulator restart only if the meter still knows the
last counter it accepted from each client system title (and its own transmit counter, whose
reuse under one key would repeat a GCM IV). They are saved as one small JSON file per meter
that has any, `<state_dir>/<group>/<group index>.json`, written atomically when a connection to
the meter closes and at shutdown, and read back when the meter is first contacted again.
Keys are never written: a meter starts from its profile's keys (key_transfer does not persist).

As IDIS meters do, the Data object 0.0.43.1.e.255 shows the last invocation counter the
Security setup 0.0.43.0.e.255 accepted from a client: the association layer keeps it current
(`association.keys.publish_received_counter`), and `publish_counters` puts it back after a
restore.

    {"version": 1, "security": [{"server_sap": 1, "obis": "0.0.43.0.0.255",
      "unicast": {"transmit": 12, "received": {"4D4D4D0000BC614E": 41}}, "broadcast": {...}}]}
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from ..association.keys import publish_received_counter
from ..axdr import Obis
from ..errors import DLMSError
from ..security.counter import InvocationCounters
from ..security.keywrap import KeyId
from ..server.objects import Meter, ObjectHandle

__all__ = ["StateStore", "snapshot", "restore", "publish_counters"]

_log = logging.getLogger(__name__)
_VERSION = 1
_SECURITY_SETUP = 64
_UNICAST, _BROADCAST = KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY, KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY


class StateStore:
    """One JSON file per meter under `directory`; missing files mean nothing was kept."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, group: str, group_index: int) -> Path:
        return self.directory / re.sub(r"[^A-Za-z0-9_.-]", "_", group) / f"{group_index}.json"

    def load(self, group: str, group_index: int) -> dict[str, Any] | None:
        path = self.path(group, group_index)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            _log.warning("ignoring unreadable meter state %s: %s", path, exc)
            return None
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            _log.warning("ignoring meter state %s: not version %d", path, _VERSION)
            return None
        return data

    def save(self, group: str, group_index: int, data: dict[str, Any]) -> None:
        path = self.path(group, group_index)
        tmp = path.with_suffix(".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            _log.error("cannot save meter state %s: %s", path, exc)


def snapshot(meter: Meter) -> dict[str, Any] | None:
    """The meter's counters, or None when it never used a Security setup object."""
    security = []
    for (sap, index), material in sorted(meter.state.security_states.items()):
        device = meter.model.logical_devices.get(sap)
        if device is None or not 0 <= index < len(device.objects):
            continue
        security.append({"server_sap": sap, "obis": str(device.objects[index].logical_name),
                         "unicast": material.counters(_UNICAST).to_dict(),
                         "broadcast": material.counters(_BROADCAST).to_dict()})
    return {"version": _VERSION, "security": security} if security else None


def restore(meter: Meter, data: dict[str, Any]) -> None:
    """Put saved counters back; entries for objects the model no longer has are skipped."""
    for item in data.get("security", ()):
        try:
            device = meter.model.logical_devices[int(item["server_sap"])]
            spec = device.find(bytes(Obis(item["obis"])))
            if spec is None or spec.cls.class_id != _SECURITY_SETUP:
                continue
            material = ObjectHandle(meter, device, spec, 0.0).security()
            material.restore_counters(_UNICAST, InvocationCounters.from_dict(item.get("unicast", {})))
            material.restore_counters(_BROADCAST, InvocationCounters.from_dict(item.get("broadcast", {})))
        except (KeyError, TypeError, ValueError, DLMSError) as exc:
            _log.warning("meter %d: skipping saved counters %r: %s", meter.index, item.get("obis"), exc)
    publish_counters(meter)


def publish_counters(meter: Meter) -> None:
    """After a restore: publish each Security setup's restored counter, as a live one would be."""
    for (sap, index), material in meter.state.security_states.items():
        device = meter.model.logical_devices.get(sap)
        setup = None if device is None else meter.object(device, index, 0.0)
        if setup is not None and setup.cls.class_id == _SECURITY_SETUP:
            publish_received_counter(setup, material)
