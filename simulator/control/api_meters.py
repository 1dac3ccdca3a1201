"""The meters API: the fleet by serial number, a meter's identity and objects, its attributes
read and written, its methods called.

    GET  /api/meters?group=&model=&state=idle|live|connected&offset=0&limit=100
    GET  /api/meters/{serial}
    GET  /api/meters/{serial}/objects
    GET  /api/meters/{serial}/objects/{obis}/{attribute}       ?ld= a logical device's server SAP
    PUT  /api/meters/{serial}/objects/{obis}/{attribute}       {"value": ...}
    POST /api/meters/{serial}/methods/{obis}/{method}          {"parameter": ...} (optional)

The API is the rig's own hand on the meter, not a client: no association and no access rights,
but a value is read as the server reads it (a living meter first catches up with what it does
by itself), a write passes the checks a DLMS SET passes (ObjectHandle.write: type, range, the
class's own) and is committed through the engine's group commit before the answer, and a
method runs as an ACTION does, its pushes handed to the pusher. A refusal answers 422 with the
data-access-result (or action-result) a client would have got. Secrets (passwords, keys) are
never shown: a secret attribute reads as hidden, a secret method's return is not given, and no
message quotes a value written to one. `{attribute}` and `{method}` are a number or a name
(`value`, `scaler_unit`, `reset`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

from aiohttp import web

from ..apdu.common import ActionResult, DataAccessResult
from ..axdr import Data, DataType, Obis, format_data
from ..cosem.base import AccessFailure, ActionFailure, AttributeAccess, AttributeDef, MethodAccess, MethodDef
from ..cosem.catch_up import catch_up, quiet
from ..cosem.types import AnyType, Simple, TypeSpec
from ..decode.confidential import is_secret
from ..decode.tree import kebab
from ..errors import DLMSError
from ..model.spec import LogicalDeviceSpec, ObjectSpec
from ..runtime.fleet import LiveMeter
from ..runtime.layout import MeterEntry
from ..runtime.profile import meter_fields
from ..server.objects import ObjectHandle
from .api import PLANE, ApiError
from .plane import ControlPlane
from .values_json import ValueProblem, data_to_json, json_to_data

__all__ = ["add_routes", "find_meter", "STATES"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")  # what a SET or ACTION gives back
STATES = ("idle", "live", "connected")  # never contacted; built; with a connection open now
_LIMIT, _MAX_LIMIT = 100, 1000
_HIDDEN = "a secret: never shown"
_INTEGER = Simple(DataType.INTEGER)
_ZERO = Data(DataType.INTEGER, 0)


def add_routes(app: web.Application, plane: ControlPlane) -> None:
    meter = "/api/meters/{serial}"
    app.router.add_get("/api/meters", _list)
    app.router.add_get(meter, _show)
    app.router.add_get(meter + "/objects", _objects)
    app.router.add_get(meter + "/objects/{obis}/{attribute}", _get)
    app.router.add_put(meter + "/objects/{obis}/{attribute}", _put)
    app.router.add_post(meter + "/methods/{obis}/{method}", _call)


def find_meter(request: web.Request) -> MeterEntry:
    """The meter `{serial}` names; 404 when the fleet has none by that serial number."""
    serial = request.match_info["serial"]
    entry = request.app[PLANE].meter(serial)
    if entry is None:
        raise ApiError(404, request.app[PLANE].missing(serial))
    return entry


# ---------------------------------------------------------------------------- the fleet
def _state(entry: MeterEntry) -> str:
    live = entry.live
    return "idle" if live is None else "connected" if live.connections else "live"


async def _list(request: web.Request) -> web.Response:
    plane = request.app[PLANE]
    query = request.query
    offset, limit = _int_query(query, "offset", 0, 0), _int_query(query, "limit", _LIMIT, 1, _MAX_LIMIT)
    groups = plane.engine.profile.groups
    group, model, state = query.get("group"), query.get("model"), query.get("state")
    if group is not None and group not in {g.name for g in groups}:
        raise ApiError(400, f"group: no group {group!r}; the groups are {', '.join(g.name for g in groups)}")
    models = sorted({g.model.name for g in groups})
    if model is not None and model not in models:
        raise ApiError(400, f"model: no group of model {model!r}; the models are {', '.join(models)}")
    if state is not None and state not in STATES:
        raise ApiError(400, f"state: expected one of {', '.join(STATES)}, found {state!r}")
    chosen = [g for g in groups if (group is None or g.name == group) and (model is None or g.model.name == model)]
    entries = plane.engine.entries
    served = [plane.owned(g) for g in chosen]  # a shard serves some of each group's meters
    if state is None:  # without visiting every meter
        total, page = sum(map(len, served)), [entries[i] for i in _page(served, offset, limit)]
    else:
        matching = [entries[i] for indices in served for i in indices if _state(entries[i]) == state]
        total, page = len(matching), matching[offset:offset + limit]
    return web.json_response({"total": total, "offset": offset, "limit": limit,
                              "meters": [_summary(plane, e) for e in page]})


def _page(served: list[range], offset: int, limit: int) -> list[int]:
    """Fleet indices offset..offset+limit of the groups' meters taken in order, without listing
    the others."""
    page: list[int] = []
    for indices in served:
        if offset >= len(indices):
            offset -= len(indices)
            continue
        page.extend(indices[offset:offset + limit - len(page)])
        offset = 0
        if len(page) >= limit:
            break
    return page


def _summary(plane: ControlPlane, entry: MeterEntry) -> dict[str, Any]:
    return {"serial": plane.serial(entry), "index": entry.index, "group": entry.group.name,
            "model": entry.group.model.name, "state": _state(entry)}


def _int_query(query: Any, name: str, default: int, lo: int, hi: int | None = None) -> int:
    text = query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = lo - 1
    if value < lo or hi is not None and value > hi:
        raise ApiError(400, f"{name}: expected an integer {'in ' + str(lo) + '..' + str(hi) if hi else '>= ' + str(lo)}"
                            f", found {text!r}")
    return value


# ---------------------------------------------------------------------------- one meter
async def _show(request: web.Request) -> web.Response:
    plane = request.app[PLANE]
    entry = find_meter(request)
    group = entry.group
    fields = entry.live.meter.fields if entry.live is not None else meter_fields(group, entry.group_index)
    live: LiveMeter | None = entry.live
    time_base = live.meter.time_base if live is not None else None
    last = plane.last_activity(entry)
    body = {
        **_summary(plane, entry),
        "group_index": entry.group_index,
        "manufacturer": group.manufacturer,
        "system_title": str(fields.get("system_title", "")),
        "logical_device_name": _device_name(group.model.logical_devices, fields),
        "connections": live.connections if live is not None else 0,
        "addresses": _addresses(plane, entry),
        "associations": [{"server_sap": server, "client_sap": client,
                          "since": _iso(since) if time_base is not None else None}
                         for server, client, since in plane.associations(entry)],
        "last_activity": _iso(last) if last is not None else None,
        "faults": [fault.to_json() for fault in plane.engine.faults.active(entry)],
    }
    return web.json_response(body)


def _device_name(devices: dict[int, LogicalDeviceSpec], fields: dict[str, Any]) -> str:
    """The management logical device's name (the profile's, else the model's template filled)."""
    if "logical_device_name" in fields:
        return str(fields["logical_device_name"])
    device = devices.get(1) or next(iter(devices.values()))
    value = device.name.render(fields).value
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _addresses(plane: ControlPlane, entry: MeterEntry) -> list[dict[str, Any]]:
    """Every listener the meter answers on, with the port really bound where the profile said 0."""
    out: list[dict[str, Any]] = []
    i = entry.group_index
    for listener in entry.group.listeners:
        where: dict[str, Any] = {"transport": listener.transport}
        if listener.transport == "hdlc-serial":
            where.update(device=listener.device, baud_rate=listener.baud_rate)
        else:
            if listener.addressing == "address":
                where["host"] = str(ipaddress.IPv4Address(listener.host) + i)
            else:
                where["host"] = listener.host
            port = listener.port + i * listener.port_step if listener.addressing == "port" else listener.port
            where["port"] = port if listener.port else _bound_port(plane, entry, listener.transport)
        if listener.is_hdlc:
            where["physical_address"] = listener.physical(i)
        out.append(where)
    return out


def _bound_port(plane: ControlPlane, entry: MeterEntry, transport: str) -> int:
    for endpoint in plane.engine.endpoints:
        if endpoint.transport == transport and any(e is entry for e in endpoint.meters()):
            return endpoint.port
    return 0


# ---------------------------------------------------------------------------- objects
async def _objects(request: web.Request) -> web.Response:
    entry = find_meter(request)
    devices = []
    for sap, device in sorted(entry.group.model.logical_devices.items()):
        devices.append({"server_sap": sap, "objects": [_object(device, spec) for spec in device.objects]})
    return web.json_response({"serial": request.match_info["serial"], "logical_devices": devices})


def _object(device: LogicalDeviceSpec, spec: ObjectSpec) -> dict[str, Any]:
    """An object with, per member, its access right for each client that may see it."""
    cls = spec.cls
    rights = {client: assoc.rights[spec.index] for client, assoc in sorted(device.associations.items())
              if spec.index in assoc.rights}
    return {
        "obis": str(spec.logical_name), "class_id": cls.class_id, "class": cls.name, "version": cls.version,
        "name": spec.label, **({"short_name": spec.short_name} if spec.short_name is not None else {}),
        "attributes": [{"index": a.index, "name": a.name, "secret": is_secret(cls.class_id, a.index, False),
                        "access": {str(c): _access(r.attribute(a.index)) for c, r in rights.items()}}
                       for a in cls.attributes],
        "methods": [{"index": m.index, "name": m.name,
                     "access": {str(c): _access(r.method(m.index)) for c, r in rights.items()}}
                    for m in cls.methods],
    }


def _access(mode: AttributeAccess | MethodAccess) -> str:
    return kebab(mode.name)


class _Target:
    """One object of a live meter, found from the request's path, at the loop's `now`."""

    def __init__(self, request: web.Request, method: bool) -> None:
        plane = request.app[PLANE]
        self.plane = plane
        entry = find_meter(request)
        info = request.match_info
        try:
            obis = Obis(info["obis"])
        except (DLMSError, ValueError):
            raise ApiError(400, f"expected an OBIS code like 1.0.1.8.0.255 or 1-0:1.8.0*255, found "
                                f"{info['obis']!r}") from None
        devices = entry.group.model.logical_devices
        ld = request.query.get("ld")
        if ld is not None:
            if not ld.isdigit() or int(ld) not in devices:
                raise ApiError(404, f"ld: no logical device {ld!r}; this meter has {', '.join(map(str, devices))}")
            devices = {int(ld): devices[int(ld)]}
        found = [(d, spec) for _, d in sorted(devices.items()) if (spec := d.find(bytes(obis))) is not None]
        if not found:
            raise ApiError(404, f"meter {plane.serial(entry)} has no object {obis}")
        self.device, self.spec = found[0]
        cls = self.spec.cls
        name = info["method" if method else "attribute"]
        members: tuple[Any, ...] = cls.methods if method else cls.attributes
        member = _member(members, name)
        if member is None:
            raise ApiError(404, f"{cls.name} {self.spec.logical_name} has no {'method' if method else 'attribute'} "
                                f"{name!r}; it has {', '.join(f'{m.index} {m.name}' for m in members) or 'none'}")
        self.member: Any = member
        self.live: LiveMeter = plane.engine.fleet.live(entry)
        self.serial = plane.serial(entry)
        now = plane.engine.now()
        self.handle = ObjectHandle(self.live.meter, self.device, self.spec, now)
        self.revision = self.live.meter.state.revision
        self._catch_up(now)

    def _catch_up(self, now: float) -> None:
        """What a living meter did by itself since it was last reached, as before a request."""
        meter = self.live.meter
        living = meter.living
        sap = self.device.server_sap
        if living is not None and not quiet(living, sap, meter.time_base.epoch(now) + meter.state.clock_offset_s):
            anchor = meter.object(self.device, 0, now)
            if anchor is not None:
                catch_up(anchor, sap)

    def describe(self) -> dict[str, Any]:
        return {"serial": self.serial, "server_sap": self.device.server_sap, "obis": str(self.spec.logical_name),
                "class_id": self.spec.cls.class_id}

    async def settle(self) -> None:
        """As after an APDU: the changes noted for the group commit, the push scheduler told,
        pushes handed over; then wait for the commit (503 when it could not be kept)."""
        live = self.live
        fleet = self.plane.engine.fleet
        live.note_changes()
        if live.meter.state.revision != self.revision and fleet.on_values_changed is not None:
            fleet.on_values_changed(live)
        fleet.take_pushes(live)
        why = await _committed(self.plane)
        if why is not None:
            raise ApiError(503, f"done, but not kept: {why}")


def _member(members: tuple[Any, ...], name: str) -> Any:
    wanted = name.strip().lower().replace("-", "_")
    return next((m for m in members if str(m.index) == wanted or m.name.lower() == wanted), None)


class _Commit:
    """Waits in the engine's held writes: told when the turn's commit is done (or failed)."""

    def __init__(self, done: asyncio.Future[str | None]) -> None:
        self.done = done

    def transmit(self, data: Any) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def withhold(self, data: Any, why: str) -> None:
        if not self.done.done():
            self.done.set_result(why)


async def _committed(plane: ControlPlane) -> str | None:
    """None once what changed is on disk (at once without a store or a change); else why not."""
    engine = plane.engine
    if not engine.holding:
        return None
    done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
    engine.hold(_Commit(done), None)
    return await done


# ---------------------------------------------------------------------------- attributes, methods
async def _get(request: web.Request) -> web.Response:
    target = _Target(request, method=False)
    adef: AttributeDef = target.member
    body = {**target.describe(), "attribute": adef.index, "name": adef.name}
    if is_secret(target.spec.cls.class_id, adef.index, False):
        body.update(value=None, hidden=_HIDDEN)
    else:
        try:
            value = target.handle.get(adef.index)
        except (AccessFailure, ActionFailure) as exc:
            await target.settle()  # the catch-up may have changed the meter
            raise _refused("GET", exc.result, exc) from None
        body.update(value=data_to_json(value), text=format_data(value))
    await target.settle()
    return web.json_response(body)


async def _put(request: web.Request) -> web.Response:
    target = _Target(request, method=False)
    adef: AttributeDef = target.member
    secret = is_secret(target.spec.cls.class_id, adef.index, False)
    if adef.index == 1:  # the object's identity, not a setting: every client and route finds it by it
        raise ApiError(422, "logical_name identifies the object and cannot be written", result="read-write-denied")
    body = await _json(request)
    if not isinstance(body, dict) or "value" not in body:
        raise ApiError(400, 'expected {"value": ...} (typed like {"type": "long-unsigned", "value": 10}, or plain '
                            "where the attribute's type makes it plain)")
    held = None
    if isinstance(adef.type, AnyType):  # a plain value takes the type the attribute holds
        try:
            held = target.handle.get(adef.index)
        except (AccessFailure, ActionFailure):
            pass
    try:
        value = json_to_data(body["value"], adef.type, held)
    except ValueProblem as exc:
        raise ApiError(400, _unmatched(adef.name, adef.type, None if secret else exc), result="type-unmatched") from None
    await _run(target, "SET", lambda: target.handle.write(adef.index, value))
    _log.info("%s: control plane SET of %s attribute %d (%s)", target.live.label, target.spec.describe(),
              adef.index, adef.name)
    out = {**target.describe(), "attribute": adef.index, "name": adef.name, "result": "success"}
    if secret:
        return web.json_response({**out, "value": None, "hidden": _HIDDEN})
    try:
        written = target.handle.get(adef.index)
    except (AccessFailure, ActionFailure):  # read only within an association (the current one's object_list)
        written = value
    return web.json_response({**out, "value": data_to_json(written), "text": format_data(written)})


async def _run(target: _Target, service: str, run: Callable[[], _T]) -> _T:
    """`run` (a SET or ACTION through the object's handle), its changes committed as a DLMS one's
    are before the answer; a refusal answers as the service's data-access- or action-result."""
    try:
        result = run()
    except (AccessFailure, ActionFailure) as exc:
        await target.settle()
        raise _refused(service, exc.result, exc) from None
    await target.settle()
    return result


async def _call(request: web.Request) -> web.Response:
    target = _Target(request, method=True)
    mdef: MethodDef = target.member
    secret = is_secret(target.spec.cls.class_id, mdef.index, True)
    body = await _json(request) if request.can_read_body else {}
    if not isinstance(body, dict) or set(body) - {"parameter"}:
        raise ApiError(400, 'expected {"parameter": ...} or no body')
    parameter: Data | None = None
    if "parameter" in body and body["parameter"] is not None:
        if mdef.parameter is None:
            raise ApiError(400, f"{mdef.name} takes no parameter")
        try:
            parameter = json_to_data(body["parameter"], mdef.parameter, path="parameter")
        except ValueProblem as exc:
            raise ApiError(400, _unmatched(f"the parameter of {mdef.name}", mdef.parameter, None if secret else exc),
                           result="type-unmatched") from None
    if mdef.parameter == _INTEGER and parameter is None:
        parameter = _ZERO  # the standard's "data ::= integer (0)" of a method without a real parameter
    if mdef.parameter is not None and parameter is None and not mdef.optional_parameter:
        raise ApiError(400, _unmatched(f"{mdef.name} needs a parameter:", mdef.parameter, None),
                       result="type-unmatched")
    if mdef.parameter is not None and parameter is not None and not mdef.parameter.accepts(parameter):
        raise ApiError(400, _unmatched(f"the parameter of {mdef.name}", mdef.parameter, None),
                       result="type-unmatched")
    if mdef.impl is None:
        raise _refused("ACTION", ActionResult.OBJECT_UNAVAILABLE, "the method is not implemented")
    returned = await _run(target, "ACTION", lambda: target.handle.invoke(mdef.index, parameter))
    _log.info("%s: control plane ACTION %s method %d (%s)", target.live.label, target.spec.describe(),
              mdef.index, mdef.name)
    out = {**target.describe(), "method": mdef.index, "name": mdef.name, "result": "success"}
    if returned is None:
        return web.json_response({**out, "returned": None})
    if secret:
        return web.json_response({**out, "returned": None, "hidden": _HIDDEN})
    return web.json_response({**out, "returned": data_to_json(returned), "text": format_data(returned)})


def _unmatched(what: str, spec: TypeSpec, problem: ValueProblem | None) -> str:
    """Why a value is no value of `spec`: the problem found, else the type (when it reads short)."""
    if problem is not None:
        return f"type-unmatched: {problem}"
    described = spec.describe()
    return f"type-unmatched: {what} {'is ' if not what.endswith(':') else ''}" \
           f"{described if len(described) <= 160 else described[:157] + '...'}"


async def _json(request: web.Request) -> Any:
    """The body as JSON (malformed: 400, by the app's error middleware)."""
    if not request.can_read_body:
        raise ApiError(400, "a JSON body is needed")
    return await request.json()


def _refused(service: str, result: DataAccessResult | ActionResult, why: object) -> ApiError:
    """422 naming the result a DLMS client would have got, and why."""
    name = kebab(result.name)
    detail = str(why)
    return ApiError(422, f"{service} refused: {name}" + (f" ({detail})" if detail and detail != result.name else ""),
                    result=name)
