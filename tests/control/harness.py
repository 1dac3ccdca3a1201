"""A fleet with its control plane serving on 127.0.0.1 (any free port), for the control plane's tests."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from simulator.control.app import control_plane
from simulator.control.plane import ControlPlane
from simulator.runtime.profile import ControlSettings

from ..runtime.harness import RunningFleet

__all__ = ["serving"]


@contextlib.contextmanager
def serving(profile: str, directory: Path, state_dir: Path | None = None,
            token: str | None = None) -> Iterator[tuple[RunningFleet, ControlPlane]]:
    """The fleet of `profile` running, and its control plane started (stopped before the fleet)."""
    fleet = RunningFleet(profile, directory, state_dir=state_dir)
    plane = control_plane(fleet.engine, ControlSettings("127.0.0.1", 0, token))
    with fleet:
        fleet.run(plane.start())
        try:
            yield fleet, plane
        finally:
            fleet.run(plane.stop())
