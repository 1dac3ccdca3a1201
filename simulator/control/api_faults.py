"""Fault injection over HTTP: POST, DELETE and GET `/api/meters/{serial}/faults` and `/api/groups/{name}/faults`.

A POST body is one fault as runtime/faults.py reads it (`{"kind": "delay", "ms": 300,
"jitter_ms": 50}`); a second fault of the same kind on the same meter or group replaces the
first. A reboot is done at once and not kept. DELETE clears what was added on that meter or
group (a meter keeps its group's faults). Every answer lists the faults then active.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..runtime.faults import Fault
from ..runtime.layout import MeterEntry
from .api import PLANE, ApiError

if TYPE_CHECKING:
    from .plane import ControlPlane

__all__ = ["add_routes"]

_log = logging.getLogger(__name__)


def add_routes(app: web.Application, plane: ControlPlane) -> None:
    app.router.add_route("GET", "/api/meters/{serial}/faults", _get_meter)
    app.router.add_route("POST", "/api/meters/{serial}/faults", _post_meter)
    app.router.add_route("DELETE", "/api/meters/{serial}/faults", _delete_meter)
    app.router.add_route("GET", "/api/groups/{name}/faults", _get_group)
    app.router.add_route("POST", "/api/groups/{name}/faults", _post_group)
    app.router.add_route("DELETE", "/api/groups/{name}/faults", _delete_group)


def _meter(request: web.Request) -> tuple[ControlPlane, MeterEntry, str]:
    plane = request.app[PLANE]
    serial = request.match_info["serial"]
    entry = plane.meter(serial)
    if entry is None:
        raise ApiError(404, plane.missing(serial))
    return plane, entry, serial


def _group(request: web.Request) -> tuple[ControlPlane, str]:
    plane = request.app[PLANE]
    name = request.match_info["name"]
    if not any(entry.group.name == name for entry in plane.engine.entries):
        known = sorted({entry.group.name for entry in plane.engine.entries})
        raise ApiError(404, f"no group named {name!r}: the groups are {', '.join(known)}")
    return plane, name


async def _fault(request: web.Request) -> Fault:
    body = await request.json()  # a body that is not JSON is answered 400 by the app's middleware
    try:
        return Fault.from_json(body)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def _meter_answer(plane: ControlPlane, entry: MeterEntry, serial: str, **more: Any) -> web.Response:
    return web.json_response({"serial": serial, **more,
                              "faults": [f.to_json() for f in plane.engine.faults.active(entry)]})


def _group_answer(plane: ControlPlane, name: str, **more: Any) -> web.Response:
    return web.json_response({"group": name, **more,
                              "faults": [f.to_json() for f in plane.engine.faults.added(name)]})


async def _get_meter(request: web.Request) -> web.Response:
    plane, entry, serial = _meter(request)
    return _meter_answer(plane, entry, serial)


async def _post_meter(request: web.Request) -> web.Response:
    plane, entry, serial = _meter(request)
    fault = await _fault(request)
    plane.engine.faults.add(entry, fault)
    _log.info("%s (serial %s): %s", entry.label, serial, _added(fault))
    return _meter_answer(plane, entry, serial, **({"rebooted": True} if fault.kind == "reboot" else {}))


async def _delete_meter(request: web.Request) -> web.Response:
    plane, entry, serial = _meter(request)
    cleared = plane.engine.faults.clear(entry)
    if cleared:
        _log.info("%s (serial %s): %d fault%s cleared", entry.label, serial, cleared, "" if cleared == 1 else "s")
    return _meter_answer(plane, entry, serial, cleared=cleared)


async def _get_group(request: web.Request) -> web.Response:
    plane, name = _group(request)
    return _group_answer(plane, name)


async def _post_group(request: web.Request) -> web.Response:
    plane, name = _group(request)
    fault = await _fault(request)
    plane.engine.faults.add(name, fault)
    _log.info("group %s: %s", name, _added(fault))
    return _group_answer(plane, name, **({"rebooted": True} if fault.kind == "reboot" else {}))


async def _delete_group(request: web.Request) -> web.Response:
    plane, name = _group(request)
    cleared = plane.engine.faults.clear(name)
    if cleared:
        _log.info("group %s: %d fault%s cleared", name, cleared, "" if cleared == 1 else "s")
    return _group_answer(plane, name, cleared=cleared)


def _added(fault: Fault) -> str:
    """The fault in a log line's words."""
    if fault.kind == "reboot":
        return "reboot injected: the meter restarts, its associations end"
    what = {"delay": f"answers {fault.ms:g} ms late" + (f" (± {fault.jitter_ms:g} ms)" if fault.jitter_ms else ""),
            "drop": f"{fault.ratio:.0%} of answers dropped",
            "corrupt": f"{fault.ratio:.0%} of answers damaged ({'bad FCS' if fault.mode == 'fcs' else 'bad tag'})",
            "refuse": f"associations refused ({fault.diagnostic})",
            "silence": "no answer at all",
            "close": f"the connection closed instead of {fault.ratio:.0%} of answers"}[fault.kind]
    return f"fault injected: {what}"
