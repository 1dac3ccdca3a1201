"""The fleet's meters: an entry each, and a live server only for those a client contacted.

A meter nobody reached costs its `MeterEntry` (and its place in the endpoints' routes). On
first contact `Fleet.live` fills its profile fields, builds its `Meter` and `MeterServer`
and restores what the state store kept; from then on every APDU to it passes `LiveMeter.exchange`,
which traces it and keeps a bug in one meter from taking the process down.

With a store, a meter whose APDU changed its state is noted as changed (`on_change` tells the
engine once per batch); `commit()` writes every noted meter's journal in one transaction. The
engine holds the answers of a turn until that commit (runtime/engine.py).

Pushes a meter asked for while handling an APDU (its outbox, server/push.py) go to `on_push`,
resets of its Push setup objects to `on_push_reset` (the engine's pusher), and an APDU that
changed its values is told to `on_values_changed` (the push scheduler re-plans the meter).
"""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Any, Callable, MutableMapping

from ..apdu.acse import AcseServiceUser
from ..association.refusal import refusal_aare
from ..axdr import Data, DataType, Obis
from ..model.spec import ObjectSpec
from ..server.meter import Channel, MeterServer
from ..server.objects import PUSH_SETUP_CLASS, Meter, ObjectHandle, PushRequest, TimeBase
from .layout import MeterEntry
from .observe import TOLD_BY_OCTETS, Exchange, Link, Observer, outcome
from .profile import PUSH_TRANSPORTS, FleetProfile, PushOverride, meter_fields
from ..state import Change
from .store import StateStore, StoreError, restore
from .trace import Tracer

__all__ = ["MeterFault", "LiveMeter", "Fleet"]

_log = logging.getLogger(__name__)
_LDN = Obis("0.0.42.0.0.255")
_IEC_HDLC_SETUP, _DEVICE_ADDRESS = 23, 9  # class id, attribute
_SEND_DESTINATION = 3  # Push setup attribute send_destination_and_method
TRANSPORT_SERVICE = {"tcp": 0, "udp": 1, "hdlc": 5}  # Push setup transport_service enumeration
assert set(TRANSPORT_SERVICE) == set(PUSH_TRANSPORTS)


class MeterFault(Exception):
    """The meter's server failed on an APDU (a bug, logged): the transport drops the connection."""


class _MeterLog(logging.LoggerAdapter):
    """Prefixes a meter's log lines with its label."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return f"{self.extra['meter'] if self.extra else '?'}: {msg}", kwargs


class LiveMeter:
    """A contacted meter: the meter and its server, and how many connections it has."""

    __slots__ = ("entry", "meter", "server", "connections", "_fleet")

    def __init__(self, entry: MeterEntry, meter: Meter, server: MeterServer, fleet: Fleet) -> None:
        self.entry = entry
        self.meter = meter
        self.server = server
        self.connections = 0
        self._fleet = fleet

    @property
    def label(self) -> str:
        return self.entry.label

    def exchange(self, channel: Channel, server_sap: int, client_sap: int, apdu: bytes, now: float,
                 link: Link | None = None, *, wrapper: bool = True) -> bytes | None:
        """One APDU through the meter's server; MeterFault if the server raised.

        The trace shows a wrapper APDU here with its frame; HDLC frames are traced by the line.
        While an observer keeps `exchanges`, the exchange is appended to them (`link`: the TCP
        wrapper connection's, when the exchange stands for its frames: runtime/observe.py).
        """
        tracer = self._fleet.tracer
        traced = tracer.enabled and wrapper
        if traced:
            tracer.wrapper(self, channel, True, client_sap, server_sap, apdu)
        fleet = self._fleet
        exchanges = fleet.exchanges
        started = perf_counter() if exchanges is not None else 0.0  # (the loop's time moves in steps)
        revision = self.meter.state.revision
        try:
            answer = channel.handle_apdu(server_sap, client_sap, apdu, now)
        except Exception as exc:
            _log.exception("%s: server failed on an APDU from client %d to logical device %d",
                           self.label, client_sap, server_sap)
            raise MeterFault(self.label) from exc
        if answer is not None and traced:
            tracer.wrapper(self, channel, False, client_sap, server_sap, answer)
        self.note_changes()
        if exchanges is not None:
            exchanges.append((self, link, started, perf_counter(), server_sap, client_sap, apdu, answer))
            if not answer or answer[0] not in TOLD_BY_OCTETS or channel.refused is not None:
                self._tell(channel, client_sap, apdu, answer)
        elif fleet.observer is not None:
            self._tell(channel, client_sap, apdu, answer)
        if self.meter.state.revision != revision and fleet.on_values_changed is not None:
            fleet.on_values_changed(self)
        fleet.take_pushes(self)
        return answer

    def refuse(self, client_sap: int, aarq: bytes, diagnostic: AcseServiceUser) -> bytes:
        """The AARE that refuses `aarq` for an injected fault (runtime/faults.py): logged, and
        counted like any rejected association; the meter never sees the AARQ."""
        _log.info("%s: association from client %d refused (fault injected: %s)", self.label, client_sap,
                  diagnostic.name.lower().replace("_", "-"))
        if self._fleet.observer is not None:
            self._fleet.observer.association(self, None, client_sap, "rejected")
        return refusal_aare(aarq, diagnostic)

    def _tell(self, channel: Channel, client_sap: int, apdu: bytes, answer: bytes | None) -> None:
        """Tell the observer what the exchange meant for the association, and whether it was a
        refusal, while the session's report of it (`channel.refused`) is at hand."""
        observer = self._fleet.observer
        if observer is None:
            return
        association, refusal = outcome(apdu, answer, channel.refused)
        if association is not None:
            observer.association(self, channel, client_sap, association)
        if refusal is not None:
            observer.refusal(self, refusal)

    def note_changes(self) -> None:
        """With a store, have what the meter's journal names committed (before answers leave)."""
        if self.meter.state.journal and self._fleet.store is not None:
            self._fleet.changed(self)

    def streamed(self, channel: Channel, server_sap: int, client_sap: int, *, wrapper: bool = True) -> list[bytes]:
        """The further general-block-transfer blocks of a streaming window that answer the APDU
        just exchanged, to send after its answer (traced like it)."""
        blocks = channel.streamed()
        if blocks and self._fleet.tracer.enabled and wrapper:
            for block in blocks:
                self._fleet.tracer.wrapper(self, channel, False, client_sap, server_sap, block)
        return blocks

    def close_channel(self, channel: Channel) -> None:
        """A connection or link to the meter ended: its associations end."""
        channel.close()
        self._fleet.tracer.forget(channel)


class Fleet:
    """All meters of a profile; `live(entry)` builds a meter on first contact."""

    def __init__(self, profile: FleetProfile, entries: list[MeterEntry], time_base: TimeBase,
                 tracer: Tracer | None = None, store: StateStore | None = None) -> None:
        self.profile = profile
        self.entries = entries
        self.time_base = time_base
        self.tracer = tracer or Tracer(False)
        self.store = store
        self.live_meters: dict[int, LiveMeter] = {}
        self.on_change: Callable[[], None] | None = None  # called for each change noted: schedule a commit
        self.on_push: Callable[[LiveMeter, PushRequest], None] | None = None  # a push a meter asked for
        self.on_push_reset: Callable[[LiveMeter, int, int], None] | None = None  # (server_sap, index) reset
        self.on_values_changed: Callable[[LiveMeter], None] | None = None  # an APDU changed a meter's values
        self.observer: Observer | None = None  # the engine's (the control plane)
        self.exchanges: list[Exchange] | None = None  # the observer's, if it keeps them
        self._changed: dict[int, LiveMeter] = {}  # since the last commit
        # changes whose commit failed, by meter: tried again with the next commit
        self._unkept: dict[int, tuple[LiveMeter, frozenset[Change]]] = {}

    def live(self, entry: MeterEntry) -> LiveMeter:
        meter = entry.live
        if meter is not None:
            return meter
        group = entry.group
        fields = meter_fields(group, entry.group_index)
        own = Meter(group.model, entry.index, fields, self.time_base,
                    utc_offset_min=self.profile.time.utc_offset_min, seed=self.profile.seed)
        if "logical_device_name" in fields:
            _name_devices(own, str(fields["logical_device_name"]))
        if entry.hdlc_address is not None:
            _address_hdlc_setups(own, entry.hdlc_address)
        if group.push:
            _direct_pushes(own, group.push)
        if self.store is not None:
            saved = self.store.load(group.name, entry.group_index)
            if saved is not None:
                restore(own, saved, entry.label)
            own.state.persistence_fault = self.store.fault
        own.state.journal.take()  # the profile's names and addresses, and what was saved: nothing new
        server = MeterServer(own, _MeterLog(logging.getLogger("simulator.meter"), {"meter": entry.label}))
        meter = entry.live = LiveMeter(entry, own, server, self)
        self.live_meters[entry.index] = meter
        _log.debug("%s: first contact, meter built", entry.label)
        return meter

    def take_pushes(self, meter: LiveMeter) -> None:
        """Hand the resets and pushes a meter asked for to the pusher (resets first)."""
        own = meter.meter
        if own.push_requests is None and own.push_reset is None:
            return
        resets = own.push_reset or ()
        requests = own.take_push_requests()
        if self.on_push_reset is not None:
            for server_sap, index in sorted(resets):
                self.on_push_reset(meter, server_sap, index)
        if self.on_push is not None:
            for request in requests:
                self.on_push(meter, request)

    @property
    def pending(self) -> bool:
        """Some meter changed since the last commit."""
        return bool(self._changed)

    def changed(self, meter: LiveMeter) -> None:
        """Note a meter whose state changed (its journal is not empty)."""
        self._changed[meter.entry.index] = meter
        if self.on_change is not None:
            self.on_change()

    def commit(self) -> str | None:
        """Write what every changed meter's journal names, in one transaction.

        None when it is kept; else why not: the changes are kept aside (tried again with the
        next commit) and the meters refuse ciphered service until a commit succeeds. Only meters that
        changed since the last commit make `pending`: what could not be kept does not hold back
        the answers of later turns that change nothing."""
        changed, self._changed = self._changed, {}
        unkept, self._unkept = self._unkept, {}
        if self.store is None or not (changed or unkept):
            return None
        if unkept:
            meters = {**{i: m for i, (m, _) in unkept.items()}, **changed}
            batch = [(m.entry.group.name, m.entry.group_index, m.meter,
                      (m.meter.state.journal.take() if i in changed else frozenset())
                      | unkept.get(i, (m, frozenset()))[1]) for i, m in meters.items()]
        else:  # the usual turn: only what changed since the last commit
            meters = changed
            batch = [(m.entry.group.name, m.entry.group_index, m.meter, m.meter.state.journal.take())
                     for m in changed.values()]
        try:
            self.store.save(batch)
        except StoreError as exc:
            why = str(exc)
            _log.error("%s; the answers of these changes are withheld and ciphered service is refused", why)
            for (i, meter), (_, _, _, changes) in zip(meters.items(), batch):
                meter.meter.state.persistence_fault = why
                self._unkept[i] = (meter, changes)
            return why
        fault = self.store.fault
        for meter in meters.values():
            meter.meter.state.persistence_fault = fault
        return None


def _address_hdlc_setups(meter: Meter, physical: int) -> None:
    """Each IEC HDLC setup object reports the physical address the meter answers (device_address),
    not the model's one number: on a multi-drop line every meter has its own."""
    value = Data(DataType.LONG_UNSIGNED, physical)
    for device in meter.model.logical_devices.values():
        for spec in device.objects:
            if spec.cls.class_id == _IEC_HDLC_SETUP:
                ObjectHandle(meter, device, spec, 0.0).set(_DEVICE_ADDRESS, value)


def push_destination(spec: ObjectSpec, overrides: tuple[PushOverride, ...]) -> PushOverride | None:
    """The group's `push:` destination for a Push setup object: the one named by its OBIS code,
    else the group's (None: the model's or the meter's own send_destination_and_method)."""
    by_obis = {o.obis: o for o in overrides}
    return by_obis.get(str(spec.logical_name), by_obis.get(None))


def _direct_pushes(meter: Meter, overrides: tuple[PushOverride, ...]) -> None:
    """The profile's `push:` destinations replace the model's in send_destination_and_method
    (the message type stays): one named by its Push setup's OBIS code, else the group's."""
    for device in meter.model.logical_devices.values():
        for spec in device.objects:
            if spec.cls.class_id != PUSH_SETUP_CLASS:
                continue
            override = push_destination(spec, overrides)
            if override is None:
                continue
            handle = ObjectHandle(meter, device, spec, 0.0)
            message = handle.get(_SEND_DESTINATION).value[2]
            handle.set(_SEND_DESTINATION, Data(DataType.STRUCTURE, (
                Data(DataType.ENUM, TRANSPORT_SERVICE[override.transport]),
                Data(DataType.OCTET_STRING, override.destination.encode("ascii")), message)))


def _name_devices(meter: Meter, name: str) -> None:
    """The profile's logical_device_name replaces the model's in each logical device name object."""
    value = Data(DataType.OCTET_STRING, name.encode("latin-1", "replace"))
    for device in meter.model.logical_devices.values():
        spec = device.find(bytes(_LDN))
        if spec is not None and spec.cls.class_id == 1:
            ObjectHandle(meter, device, spec, 0.0).set(2, value)
