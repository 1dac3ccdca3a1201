"""A meter as a sans-IO server: APDUs and `now` in, APDUs out.

`MeterServer` is one per meter and serves all its logical devices; `Channel` is one transport
connection (TCP connection, HDLC link, UDP peer). A channel routes each APDU by (server SAP,
client SAP) to that client's association on this channel:

- AARQ -> the association's `handle_aarq` (a new association on this channel; any block
  transfer in progress for that client is dropped); RLRQ -> `handle_rlrq`, after which a
  released association leaves the channel;
- any other APDU -> the services (services.py), through the channel's association, else the
  model's pre-established association for that client (shared by every channel of the meter and
  never released by closing one), else no association: the request is answered with
  exception-response (service-not-allowed, operation-not-possible), as jDLMS servers do; gurux
  servers answer a confirmed-service-error instead. Unconfirmed requests are never answered.
- a server SAP with no logical device, or a client SAP the logical device declares no
  association for, gets no answer at all: a real meter does not answer unknown addresses (gurux
  servers drop them the same way), and on HDLC the link would not even have been connected.

A meter that restarts (an activated firmware image: `Meter.restarts`, `Meter.restarted_at`)
loses every association established before that instant of the fleet's time, on every channel,
and its pre-established ones. The channel whose request restarted it reports `restarted` once
its answer is out, and stream transports then close the connection (TCP wrapper) or drop the
link (HDLC), as a rebooting meter does. Other channels find their older associations gone at
their next APDU (exception-response, as outside an association). An activation that a schedule
ran in the catch-up restarted the meter at its scheduled instant: associations made after it
stay, older ones end, and the connection stays open (it may have been opened after the instant).

Before a request to a living meter is served, the meter catches up with what it does by itself
(schedules, calendar activation, monitors: simulator/cosem/catch_up.py); there are no timers.

Nothing here blocks or reads a clock; per-association state is only the block transfers in
progress, so an idle meter costs a `MeterServer` and no channel. An unexpected exception while
serving (a bug, never a client's fault: those all have answers) is logged with its traceback,
drops that association's transfers in progress and is answered (service-not-allowed,
other-reason): one bad APDU never takes a meter, or the fleet's process, down.
"""

from __future__ import annotations

import logging

from ..apdu.common import ServiceError, StateError
from ..association.session import AssociationSession, AssociationState
from ..cosem.catch_up import catch_up, quiet
from ..model.spec import AssociationSpec, LogicalDeviceSpec
from .objects import Meter, ObjectHandle
from .request import Logger, Transfers
from .services import exception_response, serve

__all__ = ["MeterServer", "Channel"]

_log = logging.getLogger(__name__)

_AARQ = 0x60
_RLRQ = 0x62
_UNCONFIRMED_WRITE = 0x16
_INVOKE_TAGS = frozenset((0xC0, 0xC1, 0xC3))  # get/set/action-request: byte 2 is invoke-id-and-priority
_CONFIRMED = 0x40


class MeterServer:
    """One meter: its state, its pre-established associations, and channels to it."""

    __slots__ = ("meter", "log", "_pre")

    def __init__(self, meter: Meter, log: Logger | None = None) -> None:
        self.meter = meter
        self.log: Logger = log or _log
        self._pre: dict[tuple[int, int], AssociationSession] = {}

    def open_channel(self) -> "Channel":
        return Channel(self)

    def restarted(self) -> None:
        """The meter restarted: its pre-established associations start afresh."""
        self._pre.clear()

    def pre_established(self, device: LogicalDeviceSpec, spec: AssociationSpec) -> AssociationSession | None:
        """The meter's pre-established association for this client, created at first use."""
        if not spec.pre_established:
            return None
        key = (device.server_sap, spec.client_sap)
        session = self._pre.get(key)
        if session is None or session.state is AssociationState.IDLE:
            session = self._pre[key] = AssociationSession.pre_established(self.meter, device, spec)
        return session


class Channel:
    """One transport connection to the meter: its associations, one per (server, client) SAP."""

    __slots__ = ("server", "_sessions", "_transfers", "_pre_established_used", "_streamed", "_boot", "_since",
                 "restarted", "_catch_up_failed", "refused")

    def __init__(self, server: MeterServer) -> None:
        self.server = server
        self._sessions: dict[tuple[int, int], AssociationSession] = {}
        self._transfers: dict[tuple[int, int], Transfers] = {}
        self._pre_established_used = False
        self._streamed: list[bytes] | None = None
        self._boot = server.meter.restarts
        self._since: dict[tuple[int, int], float] = {}  # fleet epoch each association was made at
        self.restarted = False  # the meter restarted while answering the last APDU: close after the answer
        self._catch_up_failed = False  # logged once per channel
        self.refused: str | None = None  # the session's report: why the last APDU's AARQ or HLS pass 3 failed

    @property
    def associated(self) -> bool:
        """An association is established here, or a pre-established one served a request here.

        Transports drop connections that never get there (limits.association_timeout_s).
        """
        return self._pre_established_used or any(
            s.state is AssociationState.ASSOCIATED for s in self._sessions.values())

    def associations(self) -> dict[tuple[int, int], float]:
        """The associations established on this channel: (server SAP, client SAP) -> the fleet
        epoch each was made at (what the control plane shows)."""
        return {key: self._since.get(key, 0.0) for key, s in self._sessions.items()
                if s.state is AssociationState.ASSOCIATED}

    def handle_apdu(self, server_sap: int, client_sap: int, apdu: bytes, now: float) -> bytes | None:
        """Answer one APDU from `client_sap` to logical device `server_sap`; None: no answer."""
        log = self.server.log
        device = self.server.meter.model.logical_devices.get(server_sap)
        spec = device.associations.get(client_sap) if device is not None else None
        if device is None or spec is None or not apdu:
            log.debug("no association for client %d at logical device %d: APDU dropped", client_sap, server_sap)
            return None
        self.restarted = False
        self.refused = None
        if self._boot != self.server.meter.restarts:  # restarted while another channel was served
            self._restart()
        meter = self.server.meter
        key = (server_sap, client_sap)
        tag = apdu[0]
        session: AssociationSession | None
        answer: bytes | None
        if tag == _AARQ:
            session = self._sessions.get(key) or AssociationSession(self.server.meter, device, spec)
            self._transfers.pop(key, None)
            answer = session.handle_aarq(apdu, now)
            self.refused = _report(log, server_sap, client_sap, session)
            self._keep(key, session)
            if key in self._sessions:
                self._since[key] = meter.time_base.epoch(now)
            return answer
        session = self._sessions.get(key) or self.server.pre_established(device, spec)
        if tag == _RLRQ:
            session = session or AssociationSession(self.server.meter, device, spec)
            self._transfers.pop(key, None)
            answer = session.handle_rlrq(apdu, now)
            if key in self._sessions:
                self._keep(key, session)
            return answer
        if session is None or session.state is AssociationState.IDLE:
            log.debug("ld %d client %d: APDU 0x%02X outside an association", server_sap, client_sap, tag)
            if _unconfirmed(apdu):
                return None
            return exception_response(StateError.SERVICE_NOT_ALLOWED, ServiceError.OPERATION_NOT_POSSIBLE)
        if key not in self._sessions:
            self._pre_established_used = True
        transfers = self._transfers.get(key)
        if transfers is None:
            transfers = self._transfers[key] = Transfers()
        try:
            living = meter.living
            if living is not None:  # what the meter did by itself since it was last reached
                anchor = None if quiet(living, server_sap, meter.time_base.epoch(now) + meter.state.clock_offset_s) \
                    else meter.object(device, 0, now)
                if anchor is not None:
                    self._catch_up(anchor, server_sap, log)
                if self._boot != meter.restarts:  # a scheduled activation, at an instant before this request
                    log.info("ld %d client %d: the meter restarted (a scheduled firmware activation); the "
                             "associations made before it ended", server_sap, client_sap)
                    self.server.restarted()
                    self._restart()
                    if key not in self._sessions and not session.persistent:
                        return None if _unconfirmed(apdu) else exception_response(
                            StateError.SERVICE_NOT_ALLOWED, ServiceError.OPERATION_NOT_POSSIBLE)
            answer = serve(transfers, session, meter, device, apdu, now, log)
            self.refused = _report(log, server_sap, client_sap, session)
            if transfers.gbt is not None and transfers.gbt.outbox:
                self._streamed = transfers.gbt.take()
            if self._boot != meter.restarts:
                log.info("ld %d client %d: the meter restarts (firmware activated); its associations end",
                         server_sap, client_sap)
                self.server.restarted()
                self._restart()
                self.restarted = True
            return answer
        except Exception:  # a bug must cost one answer and the transfers in progress, not the meter
            log.exception("ld %d client %d: unexpected error serving APDU 0x%02X", server_sap, client_sap, tag)
            transfers.clear()
            return exception_response(StateError.SERVICE_NOT_ALLOWED, ServiceError.OTHER_REASON)

    def _catch_up(self, anchor: ObjectHandle, server_sap: int, log: Logger) -> None:
        """What the meter did by itself; a bug there costs the schedules and monitors of this
        request, never the answer: the request is served as if nothing had fallen due."""
        try:
            catch_up(anchor, server_sap)
        except Exception:
            if not self._catch_up_failed:
                log.exception("ld %d: the meter's schedules and monitors could not catch up; requests are "
                              "served without them", server_sap)
            self._catch_up_failed = True

    def streamed(self) -> list[bytes]:
        """The further general-block-transfer blocks of a streaming window that answer the APDU
        just handled, to be sent in order after its answer; empty when there are none."""
        out, self._streamed = self._streamed, None
        return out or []

    def _restart(self) -> None:
        """The meter restarted: this channel's associations made before that instant are gone."""
        meter = self.server.meter
        self._boot = meter.restarts
        for key in [k for k, at in self._since.items() if at <= meter.restarted_at]:
            self._sessions.pop(key, None)
            self._transfers.pop(key, None)
            del self._since[key]
        self._pre_established_used = False

    def _keep(self, key: tuple[int, int], session: AssociationSession) -> None:
        if session.state is AssociationState.IDLE:
            self._sessions.pop(key, None)
            self._transfers.pop(key, None)
            self._since.pop(key, None)
        else:
            self._sessions[key] = session

    def close(self) -> None:
        """The connection is gone: its associations end (pre-established ones stay usable)."""
        self._sessions.clear()
        self._transfers.clear()
        self._since.clear()


def _report(log: Logger, server_sap: int, client_sap: int, session: AssociationSession) -> str | None:
    """A refused association or HLS pass 3, at INFO in words: a head-end's user must see why."""
    refusal = session.take_refusal()
    if refusal is not None:
        log.info("ld %d client %d: %s", server_sap, client_sap, refusal)
    return refusal


def _unconfirmed(apdu: bytes) -> bool:
    if apdu[0] == _UNCONFIRMED_WRITE:
        return True
    return apdu[0] in _INVOKE_TAGS and len(apdu) > 2 and not apdu[2] & _CONFIRMED
