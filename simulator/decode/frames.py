"""HDLC frames and wrapper frames of a whole input, and `decode`, which detects what it got.

An HDLC stream may hold several frames (sharing a flag or with several between them); segments
of one APDU are joined per direction and the APDU is decoded at its last segment. A wrapper
stream may hold several frames back to back.
"""

from __future__ import annotations

from typing import Any

from ..axdr import Data
from ..errors import DecodeError
from ..link.hdlc import (
    LLC_REQUEST, LLC_RESPONSE, FrameCheckError, FrameKind, FrameRejected, HDLCAddress, HDLCFrame,
    HDLCParameters, fcs16_bytes,
)
from ..link.wrapper import HEADER_SIZE, WrapperFrame
from .apdu import Session, data_field
from .tree import Decoded, DecodeOptions, Field, Located, Node, octets_field, shift, spaced_hex

__all__ = ["decode"]

_FLAG = 0x7E
_COMMANDS = frozenset({FrameKind.SNRM, FrameKind.DISC})
_RESPONSES = frozenset({FrameKind.UA, FrameKind.DM, FrameKind.FRMR})


def _hdlc(data: bytes, session: Session) -> tuple[Node, ...]:
    """Every frame of an HDLC stream; consecutive frames may share a flag or have several."""
    nodes: list[Node] = []
    pending: dict[tuple[HDLCAddress, HDLCAddress], list[tuple[bytes, int]]] = {}
    n, pos = len(data), 0
    while True:
        while pos + 1 < n and data[pos + 1] == _FLAG:
            pos += 1
        if pos + 1 >= n and nodes:
            return tuple(nodes)
        if pos + 1 >= n:
            raise DecodeError("truncated HDLC frame: the input ends after the opening flag", n)
        fmt = data[pos + 1]
        if fmt & 0xF0 != 0xA0:
            raise DecodeError(f"HDLC frame format type {fmt >> 4:X}, expected A (type 3)", pos + 1)
        if n - pos < 3:
            raise DecodeError("truncated HDLC frame: the input ends inside the format field", n)
        length = ((fmt & 0x07) << 8) | data[pos + 2]
        close = pos + 1 + length
        if close >= n:
            raise DecodeError(f"HDLC frame length {length} runs past the end of the input "
                              f"(at most {max(n - pos - 2, 0)} bytes fit between the flags)", pos + 1)
        if data[close] != _FLAG:
            raise DecodeError(f"no closing flag where the length field ends the frame (found {data[close]:02X})",
                              close)
        nodes.append(_frame(data[pos:close + 1], pos, len(nodes) + 1, session, pending))
        pos = close


def _frame(raw: bytes, start: int, number: int, session: Session,
           pending: dict[tuple[HDLCAddress, HDLCAddress], list[tuple[bytes, int]]]) -> Node:
    try:
        frame = HDLCFrame.from_bytes(raw)
    except FrameCheckError as error:
        raise _check_error(raw, start, error) from None
    except FrameRejected as error:
        at = 3 + error.destination.length + error.source.length
        raise DecodeError(error.reason, start + at) from None
    except DecodeError as error:
        raise DecodeError(error.reason, start + (error.offset or 0)) from None
    dlen, slen = frame.destination.length, frame.source.length
    control_at = 3 + dlen + slen
    info = frame.information
    info_at = start + control_at + 3
    direction = _direction(frame)
    fmt_byte, len_byte = raw[1], raw[2]
    fields = [
        Field("offset", start, ""),
        Field("format", {"type": 3, "segmented": frame.segmented, "length": len(raw) - 2},
              f"{fmt_byte:02X} {len_byte:02X}: type 3, segmentation {int(frame.segmented)}, "
              f"length {len(raw) - 2}"),
        _address_field("destination", frame.destination, raw[3:3 + dlen],
                       {True: "server", False: "client", None: None}[direction]),
        _address_field("source", frame.source, raw[3 + dlen:control_at],
                       {True: "client", False: "server", None: None}[direction]),
        _control_field(frame, raw[control_at]),
    ]
    if info:
        fields.append(Field("HCS", {"value": raw[control_at + 1:control_at + 3].hex().upper(), "ok": True},
                            f"{spaced_hex(raw[control_at + 1:control_at + 3])} ok"))
    fields.append(Field("FCS", {"value": raw[-3:-1].hex().upper(), "ok": True}, f"{spaced_hex(raw[-3:-1])} ok"))
    if frame.kind in (FrameKind.SNRM, FrameKind.UA):
        fields.append(_parameters_field(info, info_at))
    elif frame.kind is FrameKind.FRMR and len(info) == 3:
        fields.append(_reject_field(info))
    elif frame.kind in (FrameKind.I, FrameKind.UI):
        fields += _information(frame, info_at, session, pending)
    elif info:
        fields.append(octets_field("information", info))
    way = {True: "client to server", False: "server to client", None: "direction unknown"}[direction]
    fields.insert(1, Field("direction", way.replace(" ", "-"), ""))
    return Node("hdlc-frame", tuple(fields), f"{number}: {frame.kind.name}, {way}, at byte {start}")


def _check_error(raw: bytes, start: int, error: DecodeError) -> DecodeError:
    fcs_at = len(raw) - 3
    computed = fcs16_bytes(raw[1:fcs_at])
    if computed != raw[fcs_at:fcs_at + 2]:
        return DecodeError(f"HDLC FCS {spaced_hex(raw[fcs_at:fcs_at + 2])} does not match the frame "
                           f"(computed {spaced_hex(computed)})", start + fcs_at)
    hcs_at = error.offset or 0
    return DecodeError(f"HDLC HCS {spaced_hex(raw[hcs_at:hcs_at + 2])} does not match the header "
                       f"(computed {spaced_hex(fcs16_bytes(raw[1:hcs_at]))})", start + hcs_at)


def _direction(frame: HDLCFrame) -> bool | None:
    """True: client to server, False: server to client, None: cannot tell."""
    info = frame.information
    if frame.kind in (FrameKind.I, FrameKind.UI) and info[:3] in (LLC_REQUEST, LLC_RESPONSE):
        return info[:3] == LLC_REQUEST
    if frame.kind in _COMMANDS:
        return True
    if frame.kind in _RESPONSES:
        return False
    if frame.destination.length > 1 and frame.source.length == 1:
        return True
    if frame.source.length > 1 and frame.destination.length == 1:
        return False
    return None


def _address_field(name: str, a: HDLCAddress, raw: bytes, role: str | None) -> Field:
    text = spaced_hex(raw)
    if role == "client":
        value: dict[str, Any] = {"role": "client", "sap": a.logical}
        text += f": client, SAP {a.logical}"
    elif a.physical is None:
        value = {"role": role, "logical": a.logical}
        text += f": {role + ', ' if role else ''}1 byte, logical (upper) {a.logical}"
    else:
        value = {"role": role, "logical": a.logical, "physical": a.physical}
        text += (f": {role + ', ' if role else ''}{a.length} bytes, logical (upper) {a.logical}, "
                 f"physical (lower) {a.physical}")
    if a.is_all_station:
        text += ", all-station"
    return Field(name, {"bytes": raw.hex().upper(), **value}, text)


def _control_field(frame: HDLCFrame, byte: int) -> Field:
    value: dict[str, Any] = {"byte": byte, "frame": frame.kind.name}
    words = [frame.kind.name]
    if frame.kind is FrameKind.I:
        value["ns"] = frame.ns
        words.append(f"N(S)={frame.ns}")
    if frame.kind in (FrameKind.I, FrameKind.RR, FrameKind.RNR):
        value["nr"] = frame.nr
        words.append(f"N(R)={frame.nr}")
    value["poll_final"] = frame.poll_final
    words.append(f"P/F={int(frame.poll_final)}")
    return Field("control", value, f"{byte:02X}: {', '.join(words)}")


def _parameters_field(info: bytes, at: int) -> Field:
    if not info:
        return Field("parameters", None, "none (the defaults: 128 octets, window 1)")
    try:
        p = HDLCParameters.from_bytes(info)
    except DecodeError as error:
        raise DecodeError(error.reason, at + (error.offset or 0)) from None
    return Field("parameters", Node("hdlc-parameters", summary="the sender's point of view", fields=(
        Field("max-info-field-length-transmit", p.max_info_tx),
        Field("max-info-field-length-receive", p.max_info_rx),
        Field("window-size-transmit", p.window_tx),
        Field("window-size-receive", p.window_rx),
    )))


def _reject_field(info: bytes) -> Field:
    flags = [w for w, bit in (("W", 1), ("X", 2), ("Y", 4), ("Z", 8)) if info[2] & bit]
    return Field("reject", {"control": info[0], "vs": (info[1] >> 1) & 7, "vr": info[1] >> 5, "flags": flags},
                 f"rejected control {info[0]:02X}, V(S)={(info[1] >> 1) & 7}, V(R)={info[1] >> 5}, "
                 f"{' '.join(flags) or 'no reason bits'}")


def _information(frame: HDLCFrame, at: int, session: Session,
                 pending: dict[tuple[HDLCAddress, HDLCAddress], list[tuple[bytes, int]]]) -> list[Field]:
    info = frame.information
    fields = [Field("information", {"length": len(info)}, f"{len(info)} octets")]
    key = (frame.destination, frame.source)
    if info[:3] in (LLC_REQUEST, LLC_RESPONSE) and key not in pending:
        fields.append(Field("LLC", spaced_hex(info[:3]), f"{spaced_hex(info[:3])} "
                            f"({'command' if info[:3] == LLC_REQUEST else 'response'})"))
    if frame.segmented:
        pending.setdefault(key, []).append((info, at))
        fields.append(Field("apdu", None, "segment, continued in a later frame"))
        return fields
    segments = pending.pop(key, []) + [(info, at)]
    lsdu = b"".join(s for s, _ in segments)
    if lsdu[:3] not in (LLC_REQUEST, LLC_RESPONSE):
        fields.append(Field("apdu", None, "no LLC header (E6 E6 00 or E6 E7 00): a later segment of "
                                          "an APDU whose first segment is not in the input"))
        return fields
    origin, offset = [], 0
    for segment, input_at in segments:
        origin.append((offset, input_at))
        offset += len(segment)
    apdu = session.apdu(lsdu[3:], shift(tuple(origin), 3))
    if len(segments) > 1:
        fields.append(Field("segments", len(segments), f"{len(segments)} (APDU reassembled)"))
    fields.append(Field("apdu", apdu))
    return fields


# --------------------------------------------------------------------------- wrapper

def _wrapper(data: bytes, session: Session) -> tuple[Node, ...]:
    nodes: list[Node] = []
    n, pos = len(data), 0
    while pos < n:
        if n - pos < HEADER_SIZE:
            raise DecodeError(f"truncated wrapper header: {n - pos} of {HEADER_SIZE} bytes", n)
        length = int.from_bytes(data[pos + 6:pos + 8], "big")
        end = min(n, pos + HEADER_SIZE + length)
        try:
            frame = WrapperFrame.from_bytes(data[pos:end])
        except DecodeError as error:
            raise DecodeError(error.reason, pos + (error.offset or 0)) from None
        version = int.from_bytes(data[pos:pos + 2], "big")
        nodes.append(Node("wrapper-frame", (
            Field("offset", pos, ""),
            Field("version", version),
            Field("source-wPort", frame.source_wport, f"{frame.source_wport} (0x{frame.source_wport:04X})"),
            Field("destination-wPort", frame.destination_wport,
                  f"{frame.destination_wport} (0x{frame.destination_wport:04X})"),
            Field("length", length),
            Field("apdu", session.apdu(frame.apdu, ((0, pos + HEADER_SIZE),))),
        ), f"{len(nodes) + 1}, at byte {pos}"))
        pos = end
    return tuple(nodes)


def decode(data: bytes, options: DecodeOptions | None = None) -> Decoded:
    """Detect what `data` is and decode all of it; DecodeError (offset from byte 0) otherwise."""
    if not data:
        raise DecodeError("empty input", 0)
    session = Session(options or DecodeOptions())
    try:
        if data[0] == _FLAG:
            return Decoded("hdlc", len(data), _hdlc(data, session))
        if data[:2] == b"\x00\x01":
            return Decoded("wrapper", len(data), _wrapper(data, session))
        try:
            return Decoded("apdu", len(data), (session.apdu(data, ((0, 0),)),))
        except DecodeError as error:  # a bare A-XDR Data value (a GET's result from a log)?
            value = _bare_data(data)
            if value is None:
                raise error from None
            return Decoded("data", len(data), (value,))
    except Located as error:  # plain DecodeError again: callers need not know the marker
        raise DecodeError(error.reason, error.offset) from None


def _bare_data(data: bytes) -> Node | None:
    """The input as one A-XDR Data value that fills it, or None when it is not one."""
    try:
        value = Data.from_bytes(data)
    except DecodeError:
        return None
    return Node("data", (data_field("value", value),), value.type.label)
