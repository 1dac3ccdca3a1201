"""The trace routes: a meter's last frames, and every frame live as server-sent events.

    GET /api/meters/{serial}/trace?limit=N   the last N frames (default and at most 200), oldest
                                             first: JSON [{seq, time, serial, meter, direction,
                                             transport, peer, local, client_sap, server_sap, hex,
                                             note, text, tree}]
    GET /api/trace/stream?serial=S           text/event-stream: `event: frame` with one such
                                             entry as data, per frame as it crosses (TCP wrapper
                                             frames in the plane's batches, within 100 ms; `seq`
                                             orders them); a reader too
                                             slow to keep up misses frames, told by `event:
                                             skipped` with {"frames": n}; a comment line every
                                             15 s keeps proxies from closing it
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from aiohttp import web

from .traces import RING_SIZE, TraceRings

if TYPE_CHECKING:
    from .plane import ControlPlane

__all__ = ["add_routes"]

_KEEPALIVE_S = 15.0


def add_routes(app: web.Application, plane: ControlPlane) -> None:
    rings = TraceRings()
    plane.traces = rings

    def _meter(serial: str) -> int:
        """The index of the meter with that serial number; 404 naming it when there is none."""
        entry = plane.meter(serial)
        if entry is None:
            raise web.HTTPNotFound(text=plane.missing(serial))
        return entry.index

    async def trace(request: web.Request) -> web.Response:
        index = _meter(request.match_info["serial"])
        limit = _limit(request.query.get("limit"))
        plane.settle()
        return web.json_response(rings.entries(index, limit))

    async def stream(request: web.Request) -> web.StreamResponse:
        serial = request.query.get("serial") or None
        if serial is not None:
            _meter(serial)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        plane.settle()  # what crossed before is not the stream's
        subscription = rings.subscribe(serial)
        try:
            await response.write(b": subscribed\n\n")  # the stream is open: frames from now on are sent
            while True:
                try:
                    entry = await asyncio.wait_for(subscription.queue.get(), _KEEPALIVE_S)
                except asyncio.TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if subscription.skipped:
                    skipped, subscription.skipped = subscription.skipped, 0
                    await response.write(f"event: skipped\ndata: {json.dumps({'frames': skipped})}\n\n".encode())
                if entry is None:
                    break
                await response.write(f"event: frame\ndata: {json.dumps(entry)}\n\n".encode())
        except ConnectionResetError:
            pass  # the reader went away
        finally:
            subscription.close()
        return response

    async def end_streams(_: web.Application) -> None:
        rings.end_streams()

    app.on_shutdown.append(end_streams)
    app.router.add_get("/api/meters/{serial}/trace", trace)
    app.router.add_get("/api/trace/stream", stream)


def _limit(text: str | None) -> int:
    if text is None:
        return RING_SIZE
    try:
        limit = int(text)
    except ValueError:
        limit = -1
    if not 1 <= limit <= RING_SIZE:
        raise web.HTTPBadRequest(text=f"limit must be a whole number from 1 to {RING_SIZE}, not {text!r}")
    return limit
