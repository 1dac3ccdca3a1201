"""What every route module of the control plane shares: the plane's key in the application, and
the error a handler raises to answer {"error": text} (app.py's middleware writes it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .plane import ControlPlane

__all__ = ["PLANE", "ApiError"]

PLANE: web.AppKey[ControlPlane] = web.AppKey("plane")


class ApiError(Exception):
    """A request the API cannot do: answered `status` with {"error": message}."""

    def __init__(self, status: int, message: str, **more: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.more = more  # further keys of the answer, e.g. "result": "type-unmatched"
