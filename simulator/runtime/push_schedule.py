"""The fleet's own pushes: schedules, alarms, power-up and installation, behind one timer."""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["PushScheduler"]


class PushScheduler:
    """Wakes meters when a push of theirs is due, with one `call_at` for the whole fleet."""

    def __init__(self, host: Any, submit: Callable[[Any, Any], None]) -> None:
        self._host = host
        self._submit = submit

    def start(self) -> None:
        """Plan power-up, installation, scheduled and alarm pushes."""

    def changed(self, live: Any) -> None:
        """A live meter's own values changed: re-plan it when it no longer follows its group."""

    def close(self) -> None:
        """Stop planning: the timer is cancelled."""
