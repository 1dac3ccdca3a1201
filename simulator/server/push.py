"""Push setup (class 40) as the server layer sees it: what a push would send, and where.

Sans-IO: `push_settings` reads a Push setup object's attributes into plain settings,
`window_start` finds when its communication window next lets it send, and `notify` builds the
DataNotification (values read now, protected as configured) with the frames that carry it. The
runtime (simulator/runtime/push.py) decides when, opens the connection and retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..axdr import CosemDateTime, Obis

if TYPE_CHECKING:  # objects.py queues PushRequests: it imports this module
    from .objects import Meter, ObjectHandle

__all__ = [
    "TRIGGERS", "PushRequest", "Destination", "RetryPolicy", "PushSettings", "Notification", "PushError",
    "push_settings", "window_start", "notify",
]

TRIGGERS = ("action", "script", "schedule", "alarm", "power_up", "installation", "control")


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One push asked for: which Push setup, when, and why."""

    server_sap: int  # logical device of the Push setup object
    index: int  # the Push setup object's index in that device (ObjectSpec.index)
    now: float  # monotonic `now` of the instant the push was triggered (catch-up: a past one)
    trigger: str  # one of TRIGGERS


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a push goes and with which addresses."""

    transport: str  # "tcp" (TCP wrapper), "udp" (UDP wrapper), "hdlc" (HDLC UI frames over TCP)
    host: str
    port: int
    client_sap: int  # destination wPort / HDLC client address
    server_sap: int  # source wPort / HDLC upper server address: the push setup's logical device


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """number_of_retries and repetition_delay of a Push setup."""

    retries: int  # number_of_retries: attempts = 1 + retries
    delay_min: float  # seconds of the meter's clock; v0/v1: repetition_delay
    exponent: int = 100  # v2 repetition_delay_exponent in 1/100 (0 read as 100: constant delay)
    delay_max: float = 0.0  # v2 repetition_delay_max (0: no cap)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1, 2, ...)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class PushSettings:
    """A Push setup object's attributes as one meter holds them."""

    logical_name: Obis
    version: int
    destination: Destination | None  # None: a transport we cannot reach: `problem` says why
    problem: str | None
    windows: tuple[tuple[CosemDateTime, CosemDateTime], ...]  # communication_window (empty: any time)
    randomisation_s: int
    retry: RetryPolicy


@dataclass(frozen=True, slots=True)
class Notification:
    """One push built: the APDU and the frames that carry it."""

    destination: Destination
    apdu: bytes  # the DataNotification, protected as configured
    frames: tuple[bytes, ...]  # what goes on the wire: one wrapper frame, or HDLC UI frame(s)
    invoke_id: int
    invocation_counter: int | None  # None: plain
    summary: str  # for the log, without secrets


class PushError(Exception):
    """A push that cannot be built (no keys, a missing object, a bad destination): the message
    says which object and why, never a key."""


def push_settings(handle: ObjectHandle) -> PushSettings:
    """The Push setup object's attributes as this meter holds them (its own SETs, else the model's)."""
    raise NotImplementedError


def window_start(settings: PushSettings, meter_epoch: float, utc_offset_min: int) -> float | None:
    """The first meter epoch >= meter_epoch inside a communication window (itself when the list is
    empty or it is inside one); None when no window ever opens again."""
    raise NotImplementedError


def notify(meter: Meter, request: PushRequest, now: float) -> Notification:
    """Build one notification of the Push setup at (request.server_sap, request.index) at `now`."""
    raise NotImplementedError
