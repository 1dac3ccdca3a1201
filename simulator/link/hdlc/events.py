"""Events an `HDLCConnection` reports to the layer above."""

from __future__ import annotations

from dataclasses import dataclass

from .address import HDLCAddress
from .parameters import HDLCParameters

__all__ = ["APDUReceived", "Event", "LinkConnected", "LinkDisconnected"]


@dataclass(frozen=True, slots=True)
class LinkConnected:
    """SNRM accepted: `parameters` are the negotiated values from the server's point of view.

    `server` is the address as the client sent it; its logical part selects the logical device.
    """

    client: HDLCAddress
    server: HDLCAddress
    parameters: HDLCParameters


@dataclass(frozen=True, slots=True)
class LinkDisconnected:
    """The link left NRM (DISC, inactivity, SNRM reset, ...): associations over it end."""

    reason: str


@dataclass(frozen=True, slots=True)
class APDUReceived:
    """A complete APDU, LLC header removed and segments joined.

    `unnumbered` marks one that came in a UI frame: the link carries no answer to it.
    """

    apdu: bytes
    unnumbered: bool = False


Event = LinkConnected | LinkDisconnected | APDUReceived
