"""The web UI's files: `/` is the page, `/static/...` its script and style sheet.

Plain files shipped in the package (simulator/control/web/, package data), served as they are:
no build step and nothing fetched from elsewhere, so the UI works on a rig without internet.
The page itself holds no data; everything it shows comes from the JSON API with the same token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = ["add_routes", "is_page", "WEB_DIR"]

WEB_DIR = Path(__file__).with_name("web")


def is_page(request: web.Request) -> bool:
    """A GET of the UI's files (`/`, `/static/...`): no data, served without the bearer token."""
    return request.method in ("GET", "HEAD") and (request.path == "/" or request.path.startswith("/static/"))


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def add_routes(app: web.Application, plane: Any) -> None:
    """`/` and `/static/` (index.html, app.js, style.css); `plane` is not needed by static files."""
    app.router.add_get("/", _index)
    app.router.add_static("/static/", WEB_DIR, show_index=False, follow_symlinks=False)
