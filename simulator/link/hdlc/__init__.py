"""IEC 62056-46 HDLC: frame codec, stream reader and the server-side link state machine."""

from .address import HDLCAddress
from .connection import LLC_REQUEST, LLC_RESPONSE, HDLCConnection, State
from .events import APDUReceived, Event, LinkConnected, LinkDisconnected
from .fcs import fcs16, fcs16_bytes
from .frame import FrameCheckError, FrameKind, FrameRejected, HDLCFrame
from .parameters import HDLCParameters, HDLCSettings, negotiate
from .reader import HDLCFrameReader

__all__ = [
    "APDUReceived", "Event", "FrameCheckError", "FrameKind", "FrameRejected", "HDLCAddress",
    "HDLCConnection", "HDLCFrame", "HDLCFrameReader", "HDLCParameters", "HDLCSettings",
    "LLC_REQUEST", "LLC_RESPONSE", "LinkConnected", "LinkDisconnected", "State", "fcs16",
    "fcs16_bytes", "negotiate",
]
