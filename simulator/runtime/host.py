"""What a transport needs from the engine: the fleet, limits, the timer queue and the loop's clock."""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

from .faults import FaultSet
from .fleet import Fleet, LiveMeter
from .observe import Observer
from .profile import Limits
from .timers import TimerQueue

__all__ = ["Host", "Connection"]


class Connection(Protocol):
    """An open TCP connection or serial line, closed by the engine at shutdown."""

    kind: str  # its transport: "tcp" | "hdlc-tcp" | "hdlc-serial"
    octets_in: int  # octets received and sent so far
    octets_out: int

    def shutdown(self) -> None:
        """Close after what is already queued has been written."""

    def meter_restarted(self, live: LiveMeter) -> None:
        """A meter restarted (a reboot fault): a connection to it ends as its own restart ends it."""


class Host(Protocol):
    limits: Limits
    line_connections: Counter[int]  # TCP connections open per HDLC line (key: id of the endpoint's route)
    faults: FaultSet  # asked for verdicts only while `faults.on`
    # octets by transport: UDP's (counted while an observer is set) and those of closed streams
    # (a stream counts its own while open: Engine.octets adds them up)
    bytes_in: Counter[str]
    bytes_out: Counter[str]

    @property
    def observer(self) -> Observer | None: ...

    @property
    def fleet(self) -> Fleet: ...

    @property
    def timers(self) -> TimerQueue: ...

    def now(self) -> float:
        """Monotonic seconds (the loop's clock): the `now` of the sans-IO core."""

    def admit(self, connection: Connection) -> bool:
        """Count a new TCP connection in; False when the process-wide limit is reached."""

    def forget(self, connection: Connection) -> None: ...

    @property
    def holding(self) -> bool:
        """Writes wait for the state store's next commit (runtime/engine.py, group commit)."""

    def hold(self, target: Any, data: Any) -> None:
        """Have `target.transmit(data)` called after the next commit (`target.withhold(data, why)`
        if it fails), in the order held."""
