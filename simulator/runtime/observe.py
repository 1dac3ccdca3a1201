"""What the runtime tells an observer (the control plane): connections, APDUs, frames, pushes.

The engine's `observer` is None unless a control plane runs; every call site tests it once per
APDU or frame and does nothing more, so the hot path pays one attribute test. `frame` is called
only while `frames_wanted` (a trace or a capture wants the bytes as they crossed the wire).

An exchange whose answer says all there is to count in its first octets (a GET, ACTION,
block or ciphered answer the session raised nothing about) is not handed to `apdu`: the
exchange counts it in the observer's `Tally` itself, in place (a dict entry and a bucket), since
each call on the hot path costs as much as the counting. Whoever reads the tally (the metrics)
names service and result from the octets when it is read. Associations, exceptions, refusals and
SET answers still take the `apdu` call.

A trace keeps each meter's last frames in a `FrameRing` the transports append to themselves: a
TCP wrapper connection asks the observer for its meter's ring once (`ring`), then keeps each
frame with one call and no lookup. Other transports (HDLC, whose lines may serve several
meters, UDP, pushes), and every transport when the observer gives no ring (`--pcap` wants each
frame handed over), call `frame` for each.

`outcome` reads what an exchange meant for the association and whether it was a refusal from the
request and answer octets alone, so the observer need not decode them: it runs only with an
observer.
"""

from __future__ import annotations

from array import array
from collections import deque
from itertools import count
from time import time as _wall
from typing import Callable, Protocol

from ..apdu.ciphered import SERVICE_TAGS
from ..server.objects import Meter
from .layout import MeterEntry

__all__ = ["Observer", "ObservedMeter", "Tally", "FrameRing", "Link", "Kept", "outcome", "LATENCY_BUCKETS_S",
           "TALLIED", "TALLY_OCTETS", "RING_SIZE", "RING_OCTETS"]

# Request latency buckets (seconds): a meter answers a GET in well under a millisecond; delay
# faults and big profile reads reach into seconds.
LATENCY_BUCKETS_S: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                        1.0, 2.5, 5.0, 10.0)
# Answers counted in the tally: get-, action-response, general-block-transfer, read-/write-response,
# confirmed-service-error, and every ciphered answer (glo-, ded-, general-*-ciphering); their
# result is in their first TALLY_OCTETS octets (get-response-with-datablock: its tenth).
TALLIED = frozenset((0xC4, 0xC7, 0xE0, 0x0C, 0x0D, 0x0E, 0xDB, 0xDC, 0xDD,
                     *(tag for row in SERVICE_TAGS for tag in (row.glo, row.ded))))
TALLY_OCTETS = 10

_AARQ, _AARE, _RLRQ, _RLRE = 0x60, 0x61, 0x62, 0x63
_EXCEPTION_RESPONSE = 0xD8
_DECIPHERING_ERROR, _INVOCATION_COUNTER_ERROR = 5, 6  # Exception-Response service-error
_GET_RESPONSE, _SET_RESPONSE, _ACTION_RESPONSE = 0xC4, 0xC5, 0xC7  # -normal: choice 1, invoke-id, result
_READ_WRITE_DENIED = 3
_RESULT = b"\xa2\x03\x02\x01"  # AARE result [2], INTEGER of one octet (Green Book 9.3, A-ASSOCIATE)
# How the session reports an AARQ whose ciphered InitiateRequest it could not open (server/meter.py
# `Channel.refused`); the AARE says deciphering-error alike for a replayed counter and a wrong key.
_INITIATE_REFUSED, _COUNTER_REPLAYED = "the InitiateRequest from system title", "invocation counter"


class ObservedMeter(Protocol):
    """What an observer is told of a meter (fleet.py's LiveMeter, which calls the observer): its
    place in the fleet, its label and the meter itself."""

    @property
    def entry(self) -> MeterEntry: ...

    @property
    def label(self) -> str: ...

    meter: Meter


class Tally:
    """What the exchange counts itself for an observer, in place: answers by (request's first
    octet, answer's first TALLY_OCTETS octets), latency by bucket with its sum, and each meter's
    last APDU (time.perf_counter, by meter index; 0: none)."""

    __slots__ = ("answers", "latency", "seconds", "last")

    def __init__(self, meters: int) -> None:
        self.answers: dict[tuple[int, bytes], int] = {}
        self.latency = [0] * (len(LATENCY_BUCKETS_S) + 1)  # the last: above every bound (+Inf)
        self.seconds = 0.0
        self.last = array("d", bytes(8 * meters))


RING_SIZE = 200  # frames a meter's ring keeps
RING_OCTETS = 1 << 20  # and at most this many octets of them (a ring of big frames keeps fewer)
# A connection as its frames name it: (transport, peer, local, id of its channel), one tuple per
# connection shared by its frames.
Link = tuple[str, str, str, int]
Kept = tuple[int, float, bool, bytes, Link]  # (number, wall time, received, octets, link)
_numbers = count(1)  # frames are numbered in the order they crossed, across every ring


class FrameRing:
    """A meter's last frames as they crossed the wire, kept by whoever carries them.

    `keep` is the whole cost of tracing a frame: a tuple of what is at hand (the frame's number,
    the wall time, its direction, its octets and its connection's `link`) appended, nothing
    decoded or copied; the octets held are counted so that the owner (the control plane's
    trace) can bound every ring together. `users` counts the connections holding the ring (the
    owner never lets such a ring go); `watch`, while set, is told of every frame kept (the live
    stream)."""

    __slots__ = ("frames", "live", "serial", "held", "users", "watch")

    def __init__(self, live: ObservedMeter, serial: str) -> None:
        self.frames: deque[Kept] = deque(maxlen=RING_SIZE)
        self.live = live
        self.serial = serial
        self.held = 0
        self.users = 0
        self.watch: Callable[[FrameRing, Kept], None] | None = None

    def keep(self, link: Link, received: bool, data: bytes) -> None:
        frames = self.frames
        if len(frames) == RING_SIZE:
            self.held -= len(frames[0][3])
        kept = (next(_numbers), _wall(), received, data, link)
        frames.append(kept)
        self.held += len(data)
        if self.held > RING_OCTETS:
            self.trim(RING_OCTETS)
        if self.watch is not None:
            self.watch(self, kept)

    def trim(self, octets: int) -> None:
        """Let the oldest frames go until at most `octets` are held (the last frame stays)."""
        frames = self.frames
        while self.held > octets and len(frames) > 1:
            self.held -= len(frames.popleft()[3])

    @property
    def last(self) -> int:
        """The number of its last frame (0: none)."""
        return self.frames[-1][0] if self.frames else 0


class Observer(Protocol):
    """Implemented by the control plane; the runtime only calls it."""

    frames_wanted: bool

    @property
    def tally(self) -> Tally | None:
        """What the exchange counts itself (None: every exchange is handed to `apdu`)."""

    def ring(self, live: ObservedMeter) -> FrameRing | None:
        """The ring a connection keeps the meter's frames in itself, counted among its `users`
        until the connection closes (None: hand each frame to `frame`)."""

    def connection(self, transport: str, opened: bool, meter: ObservedMeter | None) -> None:
        """A connection ("tcp", "hdlc-tcp", "hdlc-serial") or a UDP client ("udp") opened or closed."""

    def apdu(self, live: ObservedMeter, channel: object, client_sap: int, server_sap: int,
             request: bytes, answer: bytes | None, seconds: float) -> None:
        """A meter handled an APDU in `seconds` (time.perf_counter: the loop's clock moves in
        steps of a millisecond with uvloop); `answer` None: no answer."""

    def frame(self, live: ObservedMeter | None, channel: object, received: bool, data: bytes,
              transport: str, peer: str, local: str) -> None:
        """A frame crossed the wire: wrapper frame with its header, HDLC frame whole, UDP datagram."""

    def association(self, live: ObservedMeter, client_sap: int, outcome: str) -> None:
        """"accepted" | "rejected" | "released" | "failed-authentication"."""

    def refusal(self, live: ObservedMeter | None, reason: str) -> None:
        """"counter-replay" | "deciphering" | "access-denied" | "connection-limit"."""

    def push(self, live: ObservedMeter, sent: bool) -> None:
        """A push was delivered (`sent`) or given up."""


def outcome(request: bytes, answer: bytes | None, refused: str | None) -> tuple[str | None, str | None]:
    """(association outcome or None, refusal reason or None) of one exchange.

    `refused` is the session's report of the exchange (server/meter.py `Channel.refused`): it
    tells a failed HLS pass 3, which its ACTION answer alone does not.
    """
    if answer is None or not request or not answer:
        return None, None
    tag = request[0]
    if tag == _AARQ and answer[0] == _AARE:
        at = answer.find(_RESULT)
        accepted = at >= 0 and len(answer) > at + 4 and answer[at + 4] == 0
        return ("accepted", None) if accepted else ("rejected", _initiate_refusal(refused))
    if tag == _RLRQ and answer[0] == _RLRE:
        return "released", None
    if refused is not None and refused.startswith("HLS authentication failed"):
        return "failed-authentication", None
    first = answer[0]
    if first == _EXCEPTION_RESPONSE and len(answer) >= 3:
        if answer[2] == _INVOCATION_COUNTER_ERROR:
            return None, "counter-replay"
        if answer[2] == _DECIPHERING_ERROR:
            return None, "deciphering"
        return None, None
    if len(answer) < 4 or answer[1] != 1:
        return None, None
    if first == _GET_RESPONSE:  # Get-Data-Result: choice 1 is a data-access-result
        denied = len(answer) > 4 and answer[3] == 1 and answer[4] == _READ_WRITE_DENIED
    else:
        denied = first in (_SET_RESPONSE, _ACTION_RESPONSE) and answer[3] == _READ_WRITE_DENIED
    return None, ("access-denied" if denied else None)


def _initiate_refusal(refused: str | None) -> str | None:
    """The refusal reason of a rejected AARQ whose ciphered InitiateRequest was refused, else None."""
    if refused is None or _INITIATE_REFUSED not in refused:
        return None
    return "counter-replay" if _COUNTER_REPLAYED in refused.partition(_INITIATE_REFUSED)[2] else "deciphering"
