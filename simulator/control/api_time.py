"""`GET` / `PUT /api/time`: the fleet's time, paused, sped up or moved forward, for every meter.

Every meter shares the fleet's `TimeBase` (simulator/server/objects.py), which changes in place:
a pause stops every meter's clock at once, a rate changes how fast it runs, a jump moves it
forward (never back: what was computed for earlier instants stays true). The pusher and the push
scheduler set their timers again for the new pace.

GET answers {"epoch", "iso", "rate", "paused"}; PUT takes any of {"rate": x > 0},
{"paused": true | false}, {"jump_s": seconds >= 0} (a jump first, then the rate, then the pause)
and answers as GET.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..runtime.engine import Engine
from .api import ApiError

if TYPE_CHECKING:
    from .plane import ControlPlane

__all__ = ["add_routes", "time_json", "change_time"]

_FIELDS = ("rate", "paused", "jump_s")
_MAX_RATE = 1e6
_MAX_JUMP_S = 100 * 366 * 86400.0


def add_routes(app: web.Application, plane: ControlPlane) -> None:
    async def get(request: web.Request) -> web.Response:
        return web.json_response(time_json(plane.engine))

    async def put(request: web.Request) -> web.Response:
        body = await request.json()
        if not isinstance(body, dict) or not body:
            raise ApiError(400, "the body must be a JSON object with rate, paused or jump_s, "
                                "such as {\"rate\": 60}")
        unknown = sorted(set(body) - set(_FIELDS))
        if unknown:
            raise ApiError(400, f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                                f"expected {', '.join(_FIELDS)}")
        rate = body.get("rate")
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float))
                                 or not 0 < rate <= _MAX_RATE):
            raise ApiError(400, f"rate: expected a number above 0 and up to {_MAX_RATE:g} "
                                "(to stop the clock: {\"paused\": true})")
        paused = body.get("paused")
        if paused is not None and not isinstance(paused, bool):
            raise ApiError(400, "paused: expected true or false")
        jump = body.get("jump_s", 0)
        if isinstance(jump, bool) or not isinstance(jump, (int, float)) or not 0 <= jump <= _MAX_JUMP_S:
            raise ApiError(400, "jump_s: expected seconds forward, 0 or more (the fleet's time never goes back)")
        change_time(plane.engine, rate=None if rate is None else float(rate), paused=paused, jump_s=float(jump))
        return web.json_response(time_json(plane.engine))

    app.router.add_get("/api/time", get)
    app.router.add_put("/api/time", put)


def time_json(engine: Engine) -> dict[str, Any]:
    time_base = engine.fleet.time_base
    epoch = time_base.epoch(engine.now())
    return {"epoch": epoch, "iso": datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z"),
            "rate": time_base.rate, "paused": time_base.paused}


def change_time(engine: Engine, *, rate: float | None = None, paused: bool | None = None, jump_s: float = 0.0) -> None:
    """Change the fleet's time for every meter from now on, and re-arm the timers that wait for it."""
    engine.fleet.time_base.change(engine.now(), rate=rate, paused=paused, jump_s=jump_s)
    engine.pusher.time_changed()
    engine.push_scheduler.time_changed()
