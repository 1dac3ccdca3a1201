"""HDLC frames of frame format type 3 (IEC 62056-46 clause 6.4).

    +------+-----------+-------------+--------+---------+-----+-------------+-----+------+
    | Flag |  Format   | Destination | Source | Control | HCS | Information | FCS | Flag |
    | 7E   | 2 bytes   | 1/2/4 bytes | 1/2/4  | 1 byte  |  2  |  0..n bytes |  2  | 7E   |
    +------+-----------+-------------+--------+---------+-----+-------------+-----+------+

    Format:  1010 S LLL LLLLLLLL   type 3 (0xA), segmentation bit S, 11-bit frame length

The length counts every byte between the flags. There is no byte stuffing: the length
field delimits the frame. HCS (over format, addresses, control) is present only when
there is an information field; FCS covers everything between the flags. Both are
CRC-16/X.25, least significant byte first.

Control field (bit 0 first on the wire, shown as a byte value):

    I     N(R) P/F N(S) 0            RR  N(R) P/F 0001     RNR N(R) P/F 0101
    SNRM  100 P/F 0011 (0x83)        DISC 010 P/F 0011 (0x43)
    UA    011 P/F 0011 (0x63)        DM   000 P/F 1111 (0x0F)
    FRMR  100 P/F 0111 (0x87)        UI   000 P/F 0011 (0x03)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ...errors import DecodeError, EncodeError
from .address import HDLCAddress
from .fcs import FCS_GOOD, fcs16, fcs16_bytes

__all__ = [
    "FLAG", "FRMR_W", "FRMR_X", "FRMR_Y", "FRMR_Z", "MAX_FRAME_LENGTH",
    "FrameCheckError", "FrameKind", "FrameRejected", "HDLCFrame", "reject_information",
]

FLAG = 0x7E
MAX_FRAME_LENGTH = 0x7FF

# FRMR information field, third byte (ISO/IEC 13239): why the frame was rejected.
FRMR_W = 0x01  # control field undefined or not implemented
FRMR_X = 0x02  # information field not permitted with this frame (sent together with W)
FRMR_Y = 0x04  # information field longer than the negotiated maximum
FRMR_Z = 0x08  # N(R) acknowledges a frame that was not sent


class FrameKind(enum.IntEnum):
    """The frame types DLMS uses; the value is the control byte with P/F, N(S), N(R) zero."""

    I = 0x00  # noqa: E741 - the standard's name
    RR = 0x01
    RNR = 0x05
    SNRM = 0x83
    DISC = 0x43
    UA = 0x63
    DM = 0x0F
    FRMR = 0x87
    UI = 0x03


_UNNUMBERED = {k.value: k for k in FrameKind if k.value & 0x03 == 0x03}
_SUPERVISORY = {FrameKind.RR.value: FrameKind.RR, FrameKind.RNR.value: FrameKind.RNR}
_WITH_INFORMATION = frozenset({FrameKind.I, FrameKind.UI, FrameKind.SNRM, FrameKind.UA, FrameKind.DM,
                               FrameKind.FRMR})


class FrameCheckError(DecodeError):
    """HCS or FCS mismatch: HDLC discards such a frame without any answer."""


class FrameRejected(DecodeError):
    """A well-delimited frame with correct checks whose control field cannot be accepted.

    In NRM the server answers it with FRMR, so the error carries what that needs.
    """

    def __init__(self, reason: str, destination: HDLCAddress, source: HDLCAddress, control: int,
                 flags: int) -> None:
        super().__init__(reason)
        self.destination = destination
        self.source = source
        self.control = control
        self.flags = flags

    @property
    def poll(self) -> bool:
        return bool(self.control & 0x10)


@dataclass(frozen=True, slots=True)
class HDLCFrame:
    """One HDLC frame; `ns`/`nr` are N(S)/N(R) (I uses both, RR and RNR only `nr`)."""

    destination: HDLCAddress
    source: HDLCAddress
    kind: FrameKind
    poll_final: bool = True
    ns: int = 0
    nr: int = 0
    segmented: bool = False
    information: bytes = b""

    @property
    def control(self) -> int:
        pf = 0x10 if self.poll_final else 0
        kind = self.kind
        if kind is FrameKind.I:
            return (self.nr << 5) | pf | (self.ns << 1)
        if kind is FrameKind.RR or kind is FrameKind.RNR:
            return (self.nr << 5) | pf | kind.value
        return kind.value | pf

    def to_bytes(self) -> bytes:
        """The frame on the wire, both flags included."""
        if not (0 <= self.ns < 8 and 0 <= self.nr < 8):
            raise EncodeError(f"HDLC sequence numbers out of range: N(S)={self.ns} N(R)={self.nr}")
        info = self.information
        if info and self.kind not in _WITH_INFORMATION:
            raise EncodeError(f"HDLC {self.kind.name} frame cannot carry an information field")
        head = self.destination.to_bytes() + self.source.to_bytes() + bytes((self.control,))
        length = len(head) + 4 + (len(info) + 2 if info else 0)
        if length > MAX_FRAME_LENGTH:
            raise EncodeError(f"HDLC frame length {length} exceeds {MAX_FRAME_LENGTH}")
        head = bytes(((0xA8 if self.segmented else 0xA0) | (length >> 8), length & 0xFF)) + head
        body = head + fcs16_bytes(head) + info if info else head
        return b"\x7e" + body + fcs16_bytes(body) + b"\x7e"

    @classmethod
    def from_bytes(cls, data: bytes) -> HDLCFrame:
        """Decode exactly one frame with both flags.

        Raises FrameCheckError for a bad HCS/FCS, FrameRejected for an unknown control
        field or a forbidden information field, DecodeError for anything else.
        """
        n = len(data)
        if n < 9:
            raise DecodeError(f"HDLC frame of {n} bytes, the shortest is 9", n)
        if data[0] != FLAG or data[-1] != FLAG:
            raise DecodeError("HDLC frame not enclosed in 7E flags", 0 if data[0] != FLAG else n - 1)
        fmt = data[1]
        if fmt & 0xF0 != 0xA0:
            raise DecodeError(f"HDLC frame format type {fmt >> 4:#x}, expected 0xA (type 3)", 1)
        length = ((fmt & 0x07) << 8) | data[2]
        if length != n - 2:
            raise DecodeError(f"HDLC length field {length} but {n - 2} bytes between flags", 1)
        raw = data[1:-1]
        if fcs16(raw) != FCS_GOOD:
            raise FrameCheckError("HDLC FCS mismatch", n - 3)
        fcs_at = n - 3  # offset of the FCS within `data`
        destination, pos = HDLCAddress.decode_at(data, 3, fcs_at)
        source, pos = HDLCAddress.decode_at(data, pos, fcs_at)
        if pos >= fcs_at:
            raise DecodeError("HDLC frame without control field", pos)
        control = data[pos]
        pos += 1
        if pos == fcs_at:
            info = b""
        elif fcs_at - pos < 3:
            raise DecodeError("HDLC header check sequence without information field", pos)
        else:
            if fcs16(data[1:pos + 2]) != FCS_GOOD:
                raise FrameCheckError("HDLC HCS mismatch", pos)
            info = data[pos + 2:fcs_at]
        segmented = bool(fmt & 0x08)
        pf = bool(control & 0x10)
        if not control & 0x01:
            return cls(destination, source, FrameKind.I, pf, (control >> 1) & 7, control >> 5, segmented, info)
        if control & 0x03 == 0x01:
            kind = _SUPERVISORY.get(control & 0x0F)
            if kind is not None and not info:
                return cls(destination, source, kind, pf, 0, control >> 5, segmented)
        else:
            kind = _UNNUMBERED.get(control & 0xEF)
            if kind is not None and (not info or kind in _WITH_INFORMATION):
                return cls(destination, source, kind, pf, 0, 0, segmented, info)
        if kind is None:
            raise FrameRejected(f"HDLC control field {control:#04x} not implemented",
                                destination, source, control, FRMR_W)
        raise FrameRejected(f"HDLC {kind.name} frame with an information field",
                            destination, source, control, FRMR_W | FRMR_X)


def reject_information(control: int, vs: int, vr: int, flags: int) -> bytes:
    """The 3-byte FRMR information field: rejected control, V(S) and V(R), W/X/Y/Z bits.

    The C/R bit stays 0: a server only rejects commands.
    """
    return bytes((control, (vr << 5) | (vs << 1), flags))
