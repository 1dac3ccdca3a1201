"""`--trace`: every frame a meter receives or sends, in hex, then the APDU it carries, decoded whole.

One log record (logger `simulator.trace`, INFO) per APDU, or per HDLC frame without one:

    e#0 << 16->1 wrapper 000100100001000DC001C100080000010000FF0200
      get-request-normal
        invoke-id-and-priority: C1: invoke-id 1, confirmed, priority high
        ...

`<<` is received, `>>` sent; the hex is the frame as it crossed the wire (a wrapper frame with
its header; HDLC frames whole, every segment of an APDU on its own line), so it can be pasted
into `cosem-sim decode`. The decoded text comes from simulator/decode, one decode session per
association on each connection: it learns the system titles from the AARQ and AARE and the
dedicated key from the InitiateRequest, and ciphered APDUs are opened with the meter's own keys,
read without changing anything (no invocation counter moves, no key material is created).

Secrets never appear: what the decoder shows only as a length (passwords and HLS proofs in the
AARQ/AARE and in reply_to_HLS_authentication, new secrets, key-transfer payloads, dedicated
keys; simulator/decode/confidential.py) is also masked in the hex, each octet shown as 2A, and
the record says so; a masked HDLC frame gets its FCS recomputed, so it still decodes. An APDU
that does not decode is masked whole: the decoder could not tell where a secret would be.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Hashable
from typing import Any, Protocol

from ..decode.apdu import Session
from ..decode.confidential import MASK_BYTE, mask
from ..decode.tree import Decoded, DecodeOptions, Member
from ..errors import DecodeError
from ..link.hdlc import LLC_REQUEST, LLC_RESPONSE, FrameKind, HDLCFrame, fcs16_bytes
from ..link.wrapper import WRAPPER_VERSION
from ..model.spec import AssociationSpec, LogicalDeviceSpec
from ..security.apdu import CipherKeys, KeyLookup, KeyRequest
from ..security.errors import SecurityParameterError
from ..security.keywrap import KeyId
from ..server.objects import Meter, ObjectHandle, security_from_templates

__all__ = ["TRACE_LOGGER", "Tracer", "HDLCTrace", "TracedMeter"]

TRACE_LOGGER = "simulator.trace"
_FLAG = 0x7E
_SERVER_SYSTEM_TITLE = 5  # Security setup attribute


class TracedMeter(Protocol):
    """What the trace needs of a meter: its label and the meter (runtime's LiveMeter)."""

    @property
    def label(self) -> str: ...

    meter: Meter


class Tracer:
    """Writes trace records to the `simulator.trace` logger when enabled."""

    def __init__(self, enabled: bool) -> None:
        self._log = logging.getLogger(TRACE_LOGGER)
        self.enabled = enabled
        self._sessions: dict[Hashable, dict[tuple[int, int], Session]] = {}

    # -- the TCP and UDP wrapper: the frame is the APDU behind an 8-byte header

    def wrapper(self, meter: TracedMeter, channel: object, received: bool, client_sap: int, server_sap: int,
                apdu: bytes) -> None:
        """One APDU a wrapper connection or UDP peer (`channel`) carried, and its frame."""
        session = self.session(meter, id(channel), server_sap, client_sap)
        text, hidden, tree = describe(session, apdu)
        source, destination = (client_sap, server_sap) if received else (server_sap, client_sap)
        header = b"".join(n.to_bytes(2, "big") for n in (WRAPPER_VERSION, source, destination, len(apdu)))
        shown, note = _masked(apdu, hidden)
        self.record(meter.label, received, client_sap, server_sap,
                    [f"wrapper {(header + shown).hex().upper()}{note}"], text, tree)

    def forget(self, channel: object) -> None:
        """A wrapper connection or UDP peer ended: its decode sessions go."""
        self._sessions.pop(id(channel), None)

    # -- shared

    def session(self, meter: TracedMeter, channel_key: Hashable, server_sap: int, client_sap: int) -> Session:
        """The decode session of one association on one connection, made on first use."""
        sessions = self._sessions.setdefault(channel_key, {})
        session = sessions.get((server_sap, client_sap))
        if session is None:
            session = sessions[(server_sap, client_sap)] = _decode_session(meter.meter, server_sap, client_sap)
        return session

    def drop(self, channel_key: Hashable) -> None:
        self._sessions.pop(channel_key, None)

    def record(self, label: str, received: bool, client_sap: int, server_sap: int, heads: list[str],
               text: str | None, tree: Decoded | None = None) -> None:
        """One record: `heads` the frames' lines, `text` the APDU decoded (`tree` the same, whole:
        the control plane's trace shows it as JSON)."""
        arrow = f"<< {client_sap}->{server_sap}" if received else f">> {server_sap}->{client_sap}"
        lines = [f"{label} {arrow} {head}" for head in heads]
        if text:
            lines += ["  " + line for line in text.split("\n")]
        self._log.info("%s", "\n".join(lines))


def describe(session: Session, apdu: bytes) -> tuple[str, list[bytes] | None, Decoded | None]:
    """The APDU decoded whole as text, the octets its hex must hide (None: all of them), and the
    decoded tree (None when it does not decode)."""
    try:
        node = session.apdu(apdu, ((0, 0),))
    except DecodeError as error:
        session.take_hidden()
        return (f"undecodable APDU of {len(apdu)} bytes ({error.reason} at byte {error.offset or 0}); "
                "its octets are shown as 2A: a secret may be among them"), None, None
    decoded = Decoded("apdu", len(apdu), (node,))
    return decoded.to_text(), session.take_hidden(), decoded


def _masked(apdu: bytes, hidden: list[bytes] | None) -> tuple[bytes, str]:
    if hidden is None:
        return bytes((MASK_BYTE,)) * len(apdu), ""
    shown, count = mask(apdu, hidden)
    return shown, f" ({count} secret octets shown as 2A)" if count else ""


# --------------------------------------------------------------------------- HDLC

class HDLCTrace:
    """The frames of one HDLC line, traced whole. The segments of an APDU are held until its
    last one arrives or leaves, so a secret that spans frames is masked in all of them."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self._pending: dict[tuple[Hashable, bool], list[HDLCFrame]] = {}

    def received(self, meter: TracedMeter, link: Hashable, server_sap: int, client_sap: int,
                 frame: HDLCFrame) -> None:
        self._frame(meter, link, True, server_sap, client_sap, frame)

    def sent(self, meter: TracedMeter, link: Hashable, server_sap: int, client_sap: int, data: bytes) -> None:
        """What the link sent at once: one or more whole frames."""
        for frame in _split(data):
            self._frame(meter, link, False, server_sap, client_sap, frame)

    def close(self) -> None:
        """The line is gone: held segments and decode sessions go."""
        for key, _ in list(self._pending):
            self.tracer.drop((id(self), key))
        self._pending.clear()

    def _frame(self, meter: TracedMeter, link: Hashable, received: bool, server_sap: int, client_sap: int,
               frame: HDLCFrame) -> None:
        tracer = self.tracer
        if frame.kind in (FrameKind.SNRM, FrameKind.DISC) and received:
            tracer.drop((id(self), link))  # a new link, or none: its associations are gone
        if frame.kind not in (FrameKind.I, FrameKind.UI) or not frame.information:
            raw = frame.to_bytes()
            tracer.record(meter.label, received, client_sap, server_sap,
                          [f"HDLC {raw.hex().upper()} ({frame.kind.name})"], None)
            return
        held = self._pending.setdefault((link, received), [])
        held.append(frame)
        if frame.segmented:
            return
        del self._pending[(link, received)]
        lsdu = b"".join(f.information for f in held)
        text: str | None = None
        tree: Decoded | None = None
        hidden: list[bytes] | None = []
        if lsdu[:3] in (LLC_REQUEST, LLC_RESPONSE):
            session = tracer.session(meter, (id(self), link), server_sap, client_sap)
            text, hidden, tree = describe(session, lsdu[3:])
        shown = lsdu[:3] + _masked(lsdu[3:], hidden)[0] if hidden != [] else lsdu
        heads, at = [], 0
        for f in held:
            info = shown[at:at + len(f.information)]
            at += len(info)
            raw = f.to_bytes()
            note = ""
            if info != f.information:
                raw = _with_information(raw, info)
                note = f" ({sum(a != b for a, b in zip(info, f.information))} secret octets shown as 2A, " \
                       "FCS recomputed)"
            heads.append(f"HDLC {raw.hex().upper()}{note}")
        tracer.record(meter.label, received, client_sap, server_sap, heads, text, tree)


def _with_information(raw: bytes, info: bytes) -> bytes:
    """An HDLC frame with its information field replaced, the FCS computed anew."""
    start = len(raw) - 3 - len(info)
    body = raw[1:start] + info
    return bytes((_FLAG,)) + body + fcs16_bytes(body) + bytes((_FLAG,))


def _split(data: bytes) -> list[HDLCFrame]:
    """Whole frames written back to back (each with its flags, or sharing one)."""
    frames, pos = [], 0
    while pos + 2 < len(data) and data[pos] == _FLAG:
        end = pos + 1 + (((data[pos + 1] & 0x07) << 8) | data[pos + 2])
        try:
            frames.append(HDLCFrame.from_bytes(data[pos:end + 1]))
        except DecodeError:
            break
        pos = end + 1 if end + 1 < len(data) and data[end + 1] == _FLAG else end
    return frames


# --------------------------------------------------------------------------- the meter's keys

def _decode_session(meter: Meter, server_sap: int, client_sap: int) -> Session:
    device = meter.model.logical_devices.get(server_sap)
    spec = None if device is None else device.associations.get(client_sap)
    if device is None or spec is None:
        return Session(DecodeOptions())
    session = Session(DecodeOptions(keys=_meter_keys(meter, device, spec), short_names=_short_names(device)))
    title = _server_title(meter, device, spec)
    if title is not None:
        session.titles[False] = (title, "meter's Security setup")
    return session


def _meter_keys(meter: Meter, device: LogicalDeviceSpec, spec: AssociationSpec) -> KeyLookup | None:
    """The global keys in force on this meter, looked up as it does; nothing is created or
    changed (a meter that never ciphered has its keys from the model's templates)."""
    index = spec.security_setup_object
    if index is None:
        return None
    setup = device.objects[index]

    def lookup(request: KeyRequest) -> CipherKeys | None:
        material = meter.state.security(device.server_sap, index)
        if material is None:
            try:
                material = security_from_templates(setup, meter.fields)
            except SecurityParameterError:
                return None
        return material.cipher_keys(KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY if request.broadcast
                                    else KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY)
    return lookup


def _server_title(meter: Meter, device: LogicalDeviceSpec, spec: AssociationSpec) -> bytes | None:
    index = spec.security_setup_object
    if index is None:
        return None
    try:
        value = ObjectHandle(meter, device, device.objects[index], 0.0).get(_SERVER_SYSTEM_TITLE)
    except Exception:  # a getter that cannot answer: the AARE will name it
        return None
    return bytes(value.value) if isinstance(value.value, bytes) and len(value.value) == 8 else None


def _short_names(device: LogicalDeviceSpec) -> Any:
    """What a short name of this device refers to (class, attribute or method, is a method)."""
    bases = sorted(device.by_short_name)
    if not bases:
        return None

    def member(name: int) -> Member | None:
        at = bisect.bisect_right(bases, name) - 1
        if at < 0:
            return None
        obj = device.objects[device.by_short_name[bases[at]]]
        offset = name - bases[at]
        if offset % 8:
            return None
        cls = obj.cls
        if cls.sn_method_offset is not None and offset >= cls.sn_method_offset:
            return (cls.class_id, (offset - cls.sn_method_offset) // 8 + 1, True)
        return (cls.class_id, offset // 8 + 1, False)
    return member
