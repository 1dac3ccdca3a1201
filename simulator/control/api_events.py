"""`POST /api/meters/{serial}/events`: a power failure, tamper, a sag or swell, alarm bits, now.

What a head-end test needs to provoke: the event is injected into the meter's persisted state
(an `InjectedEvents` record, simulator/state/effects.py) and read from then on like the events its
generator draws: log rows, event codes, counters, alarm registers, no energy during a power
failure, the clock status after a long one. Its alarm push leaves as a generated event's would:
an alarm bit its start raises at once, its end's (a power failure's power up) when it ends, from
the push scheduler. `GET` lists the events injected into the meter.

Bodies: {"kind": "power-failure", "duration_s": 300}, {"kind": "cover-open" | "terminal-cover-open" |
"magnetic-field", "duration_s": 60}, {"kind": "voltage-sag" | "voltage-swell", "phase": 1..3,
"duration_s": 5}, {"kind": "alarm", "register": 1 | 2, "bits": 8192}.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..cosem.events import inject_alarm, inject_event
from ..living.events import KINDS, MAX_DURATION_S
from ..runtime.fleet import LiveMeter
from ..server.objects import ObjectHandle, injected_home
from ..state.effects import InjectedEvents
from .api import ApiError

if TYPE_CHECKING:
    from .plane import ControlPlane

__all__ = ["add_routes", "API_KINDS"]

API_KINDS = {kind.replace("_", "-"): kind for kind in KINDS}  # "power-failure" -> "power_failure"
_FIELDS = {"kind", "duration_s", "phase", "register", "bits"}


def add_routes(app: web.Application, plane: ControlPlane) -> None:
    async def post(request: web.Request) -> web.Response:
        live = _live(plane, request.match_info["serial"])
        body = await request.json()
        return web.json_response(inject(plane, live, body), status=201)

    async def get(request: web.Request) -> web.Response:
        live = _live(plane, request.match_info["serial"])
        handle = _home(plane, live)
        record = handle.effect(InjectedEvents)
        events = [] if record is None else [_event_json(k, p, a, b) for k, p, a, b in record.events]
        alarms = [] if record is None else [_alarm_json(at, which, bits) for at, which, bits in record.alarms]
        return web.json_response({"serial": request.match_info["serial"], "events": events, "alarms": alarms})

    app.router.add_post("/api/meters/{serial}/events", post)
    app.router.add_get("/api/meters/{serial}/events", get)


def inject(plane: ControlPlane, live: LiveMeter, body: Any) -> dict[str, Any]:
    """Inject the event `body` describes into the meter now; what was kept, as JSON.
    ApiError 400 naming the field that does not fit."""
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object such as {\"kind\": \"power-failure\", \"duration_s\": 300}")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise ApiError(400, f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                            f"expected {', '.join(sorted(_FIELDS))}")
    kind = body.get("kind")
    if kind != "alarm" and kind not in API_KINDS:
        raise ApiError(400, f"kind: expected one of {', '.join([*API_KINDS, 'alarm'])}, found {kind!r}")
    handle = _home(plane, live)
    try:
        if kind == "alarm":
            for name in ("duration_s", "phase"):
                if name in body:
                    raise ApiError(400, f"{name}: an alarm has none; give register and bits")
            at = inject_alarm(handle, _integer(body, "register"), _integer(body, "bits"))
            kept = _alarm_json(at, _integer(body, "register") - 1, _integer(body, "bits"))
        else:
            for name in ("register", "bits"):
                if name in body:
                    raise ApiError(400, f"{name}: only an alarm has one")
            duration = body.get("duration_s")
            if isinstance(duration, bool) or not isinstance(duration, (int, float)):
                raise ApiError(400, f"duration_s: expected a number of seconds, 1 to {MAX_DURATION_S}")
            phase = _integer(body, "phase") if "phase" in body else None
            start, end = inject_event(handle, API_KINDS[kind], duration, phase)
            kept = _event_json(API_KINDS[kind], phase, start, end)
            plane.engine.push_scheduler.injected(live, API_KINDS[kind], phase, end)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    live.note_changes()  # kept with the next commit, like a client's SET
    plane.engine.fleet.take_pushes(live)  # the alarm push its start raised
    return {"serial": plane.serial(live.entry), **kept}


def _live(plane: ControlPlane, serial: str) -> LiveMeter:
    entry = plane.meter(serial)
    if entry is None:
        raise ApiError(404, plane.missing(serial))
    return plane.engine.fleet.live(entry)


def _home(plane: ControlPlane, live: LiveMeter) -> ObjectHandle:
    """The object that keeps the meter's injected events, at the loop's `now`."""
    meter = live.meter
    if meter.living is None:
        raise ApiError(409, f"meter {plane.serial(live.entry)}: its model has no living: section, "
                            "so it has no events to inject into")
    home = injected_home(meter.model)
    if home is None:
        raise ApiError(409, f"meter {plane.serial(live.entry)}: its first logical device has no clock "
                            "0.0.1.0.0.255 to keep injected events with")
    device, spec = home
    return ObjectHandle(meter, device, spec, plane.engine.now())


def _integer(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{name}: expected an integer, found {value!r}")
    return value


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")


def _event_json(kind: str, phase: int | None, start: float, end: float) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind.replace("_", "-"), "start": _iso(start), "end": _iso(end),
                           "duration_s": round(end - start)}
    if phase is not None:
        out["phase"] = phase
    return out


def _alarm_json(at: float, which: int, bits: int) -> dict[str, Any]:
    return {"kind": "alarm", "register": which + 1, "bits": bits, "at": _iso(at)}
