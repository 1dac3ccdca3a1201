"""What makes a meter push by itself, worked out from its model without building it.

A fleet of 100,000 meters cannot keep a timer per meter: the runtime asks this module which
schedules run a push, which pushes follow an event (`push_on`), and how far each meter's push
is moved inside its randomisation interval, so one fleet-wide timer can wake each meter when
its turn comes.
"""

from __future__ import annotations

from ..living.noise import unit

__all__ = ["push_offset"]

# A noise stream of its own, apart from the load (1..6) and event (16..99) streams.
_PUSH_OFFSET = 200


def push_offset(seed: int, server_sap: int, index: int, randomisation_s: float) -> float:
    """The meter's delay in [0, randomisation_s) for one Push setup (randomisation_start_interval):
    seeded per meter and per push setup, so the scheduler and the pusher agree on it and a
    meter's push keeps its place in the interval across restarts."""
    if randomisation_s <= 0:
        return 0.0
    return unit(seed, _PUSH_OFFSET, server_sap << 16 | index) * randomisation_s
