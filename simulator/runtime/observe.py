"""What the runtime tells an observer (the control plane): connections, exchanges, frames, pushes.

The engine's `observer` is None unless a control plane (or `--pcap`) runs; every call site tests
it once per APDU or frame and does nothing more, so the hot path pays one attribute test.

Every exchange a meter makes while an observer keeps `exchanges` is appended to them as one
`Exchange` tuple of what is at hand (the meter, the connection's `link`, the perf_counter times
around it, the SAPs, the request and the answer), nothing decoded, copied or counted: the
observer reads them in batches (the control plane every 100 ms, and before it answers
anything), where counting and keeping cost a fraction of what they cost per request on the hot
path, in which each added call or dict update costs several times what a microbenchmark says.
A TCP wrapper connection passes its `link` when the observer `takes_wrapper_frames`: the
exchange then stands for its two frames (their wrapper headers are made again from the SAPs
when they are read). Other frames (HDLC, UDP, pushes, and a wrapper connection's under a
fault, its streamed blocks, or every frame while a capture wants each) are handed to `frame`
as they cross, when `frames_wanted`.

Only what the exchanges cannot tell later is said at once: connections, association outcomes and
refusals (`outcome` reads them from the request and answer octets and the session's report,
which is gone by the time they are read).
"""

from __future__ import annotations

from typing import Protocol

from ..apdu.ciphered import SERVICE_TAGS
from ..server.objects import Meter
from .layout import MeterEntry

__all__ = ["Observer", "ObservedMeter", "Link", "Exchange", "outcome", "LATENCY_BUCKETS_S", "TOLD_BY_OCTETS"]

# Request latency buckets (seconds): a meter answers a GET in well under a millisecond; delay
# faults and big profile reads reach into seconds.
LATENCY_BUCKETS_S: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                        1.0, 2.5, 5.0, 10.0)
# Answers that need no word at once (`outcome` has nothing to say of them that their octets do not
# tell later): get-, action-response, general-block-transfer, read-/write-response,
# confirmed-service-error, and every ciphered answer (glo-, ded-, general-*-ciphering).
TOLD_BY_OCTETS = frozenset((0xC4, 0xC7, 0xE0, 0x0C, 0x0D, 0x0E, 0xDB, 0xDC, 0xDD,
                            *(tag for row in SERVICE_TAGS for tag in (row.glo, row.ded))))

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


# A connection as its frames name it: (transport, peer, local, id of its channel), one tuple per
# connection shared by its frames.
Link = tuple[str, str, str, int]
# One exchange as an observer's `exchanges` keep it: (meter, link or None, perf_counter before, after,
# server SAP, client SAP, request APDU, answer APDU or None).
Exchange = tuple["ObservedMeter", "Link | None", float, float, int, int, bytes, "bytes | None"]


class Observer(Protocol):
    """Implemented by the control plane (and `--pcap`'s capture); the runtime only calls it."""

    frames_wanted: bool  # hand frames to `frame`
    takes_wrapper_frames: bool  # a TCP wrapper connection's kept exchange stands for its frames

    @property
    def exchanges(self) -> list[Exchange] | None:
        """Where exchanges are appended (None: not kept)."""

    def connection(self, transport: str, opened: bool, meter: ObservedMeter | None) -> None:
        """A connection ("tcp", "hdlc-tcp", "hdlc-serial") or a UDP client ("udp") opened or closed."""

    def frame(self, live: ObservedMeter | None, channel: object, received: bool, data: bytes,
              transport: str, peer: str, local: str) -> None:
        """A frame crossed the wire: wrapper frame with its header, HDLC frame whole, UDP datagram."""

    def association(self, live: ObservedMeter, channel: object, client_sap: int, outcome: str) -> None:
        """"accepted" | "rejected" | "released" | "failed-authentication" on `channel` (None: refused
        by a fault before any channel saw it)."""

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
