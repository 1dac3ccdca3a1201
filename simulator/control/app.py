"""The control plane's HTTP application: the bearer token, JSON errors, and every module's routes.

`control_plane(engine, settings)` is how a control plane is made: the plane (plane.py, which knows
no routes) and its application, whose route modules attach the plane's sinks as they add routes."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from ..runtime.engine import Engine
from ..runtime.profile import ControlSettings
from . import api_events, api_faults, api_meters, api_time, api_trace, api_web, metrics
from .api import PLANE, ApiError
from .api_web import is_page
from .plane import ControlPlane

__all__ = ["control_plane", "make_app"]

_log = logging.getLogger(__name__)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def control_plane(engine: Engine, settings: ControlSettings) -> ControlPlane:
    """The engine's control plane with its HTTP application (the engine's observer from now on)."""
    plane = ControlPlane(engine, settings)
    plane.app = make_app(plane)
    return plane


def make_app(plane: ControlPlane) -> web.Application:
    app = web.Application(middlewares=[_errors, _bearer(plane.settings.token)])
    app[PLANE] = plane
    for module in (api_meters, api_faults, api_events, api_time, api_trace, metrics, api_web):
        module.add_routes(app, plane)
    return app


def _bearer(token: str | None) -> Middleware:
    """Without the profile's token in `Authorization: Bearer ...`, 401 (the token is never echoed).
    The web UI's own files hold no data and pass: a browser cannot send the header to load the page,
    which then sends it with every API request (api_web.py)."""
    expected = f"Bearer {token}".encode() if token else None

    @web.middleware
    async def bearer(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if expected is not None and not is_page(request):
            given = request.headers.get("Authorization", "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, expected):
                raise ApiError(401, "a bearer token is required: Authorization: Bearer <the profile's "
                                    "control token>" if not given else "the bearer token is wrong")
        return await handler(request)

    return bearer


@web.middleware
async def _errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Every failure as JSON {"error": text}: 4xx naming what was wrong, 500 logged."""
    try:
        return await handler(request)
    except ApiError as exc:
        response = web.json_response({"error": exc.message, **exc.more}, status=exc.status)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason if exc.text is None or exc.text.startswith(str(exc.status))
                      else exc.text)
    except json.JSONDecodeError as exc:
        return _error(400, f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except RecursionError:  # only a request body nests deep enough: JSON arrays in arrays, or typed values
        return _error(400, "the body nests too deeply")
    except Exception:
        _log.exception("control plane: %s %s failed", request.method, request.path)
        return _error(500, "internal error")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
