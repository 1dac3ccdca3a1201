"""Routes of the control plane (being written by their owner)."""

from __future__ import annotations

from typing import Any

from aiohttp import web


def add_routes(app: web.Application, plane: Any) -> None:
    """No routes yet."""
