"""Issue 4 item 6 as a matrix: every wire feature over every transport, with an independent client.

Transports: TCP wrapper, UDP wrapper, HDLC over TCP (a line per meter), HDLC over a socat serial
pair and a multi-drop HDLC line over TCP; every shipped model has one meter, and the serial pair
and the multi-drop line carry all of them, each at its own physical address (17, 18, ...).

Clients: dlms-cosem wherever it has the transport (it has no UDP), gurux-dlms on the UDP
wrapper, on the multi-drop line for a second walk of every model (gurux decodes every value
itself), and for selective access by entry everywhere (dlms-cosem cannot encode an entry
descriptor). `peers.FramedHdlcTransport` reads dlms-cosem's HDLC frames by their length.

Features, each checked on every transport:
- association: no authentication (16), LLS (2; a wrong password refused by the AARE), HLS-GMAC
  with suite-0 authenticated encryption (1: the AARE's initiate response and every answer after
  it carry security control 0x30 on the wire); the public client's SET and ACTION refused;
- the whole object list (objects, class versions and access rights as the model declares them)
  and every attribute of every object of every shipped model, as the public, the LLS reader and
  the management client: each answer a value of the attribute's declared type (attribute 1 the
  object's own name), or read-write-denied where the association may not read it;
- a load profile filled by ACTION (reset, capture) under SET clock, read whole with GET block
  transfer (the client takes 512-octet PDUs: several blocks; over HDLC several segments per
  block), by range and by entry; a SET longer than one HDLC frame (segmented request).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Protocol

import pytest
from dlms_cosem import cosem, dlms_data, enumerations
from dlms_cosem import time as cosem_time
from dlms_cosem.client import ActionError, DataResultError, DlmsClient
from dlms_cosem.cosem.capture_object import CaptureObject
from dlms_cosem.cosem.selective_access import RangeDescriptor
from dlms_cosem.exceptions import DlmsClientException
from dlms_cosem.security import LowLevelSecurityAuthentication
from gurux_dlms import GXDateTime, GXDLMSClient, GXDLMSException
from gurux_dlms.enums import DataType as GuruxType
from gurux_dlms.enums import ObjectType
from gurux_dlms.objects import GXDLMSClock, GXDLMSData

from simulator.apdu.common import ActionResult, DataAccessResult
from simulator.axdr import CosemDateTime, Data, DataType, Obis
from simulator.model.catalogue import SHIPPED_DIR
from simulator.model.loader import load_model
from simulator.model.spec import AssociationSpec, LogicalDeviceSpec, SecurityPolicy

from .harness import NO_SOCAT, SOCAT, RunningFleet, pty_pair
from .peers import (
    GuruxPeer, SerialPipe, SocketPipe, dlms_client, gurux_client, hdlc_serial_transport, hdlc_tcp_transport,
    wrapper_transport,
)

MODELS = tuple(sorted(path.stem for path in SHIPPED_DIR.glob("*.yaml")))
DEVICES: dict[str, LogicalDeviceSpec] = {m: load_model(SHIPPED_DIR / f"{m}.yaml").logical_devices[1] for m in MODELS}
PHYSICAL = {model: 17 + i for i, model in enumerate(MODELS)}  # on the shared lines; a line of its own: 17
TRANSPORTS = ("tcp", "udp", "hdlc-tcp", "hdlc-serial", "multidrop")
HDLC = ("hdlc-tcp", "hdlc-serial", "multidrop")

CLOCK, LDN, CURRENT_ASSOCIATION = "0.0.1.0.0.255", "0.0.42.0.0.255", "0.0.40.0.0.255"
DEVICE_TYPE = "0.0.96.1.1.255"  # idis_poly's manufacturer device type: Data, a visible-string
LOAD_PROFILE, PROFILE_MODEL = "1.0.99.1.0.255", "idis_poly"
T0 = datetime(2024, 2, 1, tzinfo=timezone.utc)
GROUPS, ROWS_PER_GROUP = 4, 15  # the clock is set to T0 + k hours, then ROWS_PER_GROUP captures
PDU = 512  # the profile test's client receives PDUs of at most 512 octets: the buffer takes several
AUTHENTICATED_ENCRYPTED_SUITE_0 = 0x30  # security control: A and E bits, suite 0


def profile_text(serial_device: str | None) -> str:
    """One meter per shipped model, on every transport; the shared lines carry them all."""
    groups = []
    for model in MODELS:
        listen = ["{transport: tcp, host: 127.0.0.1, port: 0}", "{transport: udp, host: 127.0.0.1, port: 0}",
                  "{transport: hdlc-tcp, host: 127.0.0.1, port: 0}",
                  "{transport: hdlc-tcp, addressing: multidrop, host: 127.0.0.1, port: 0, "
                  f"physical_address: {PHYSICAL[model]}}}"]
        if serial_device is not None:
            listen.append(f'{{transport: hdlc-serial, device: "{serial_device}", baud_rate: 9600, '
                          f"physical_address: {PHYSICAL[model]}}}")
        groups.append(f"  - {{name: {model}, model: {model}, listen: [{', '.join(listen)}]}}\n")
    return "name: matrix\ntime: {start: 2024-01-10T00:00:00Z}\ngroups:\n" + "".join(groups)


@dataclass(frozen=True)
class Rig:
    fleet: RunningFleet
    client_tty: str | None  # the client's end of the serial pair; None without socat


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    directory = tmp_path_factory.mktemp("matrix")
    with contextlib.ExitStack() as stack:
        meter_tty = client_tty = None
        if SOCAT is not None:
            meter_tty, client_tty = stack.enter_context(pty_pair(directory))
        fleet = stack.enter_context(RunningFleet(profile_text(meter_tty), directory, state_dir=None))
        yield Rig(fleet, client_tty)


# --------------------------------------------------------------------------- the wire, as received

def hdlc_frames(stream: bytes) -> list[bytes]:
    """The frames of an HDLC octet stream, cut by their length fields (flags dropped)."""
    frames, i = [], 0
    while i < len(stream):
        if stream[i] == 0x7E:
            i += 1
            continue
        length = int.from_bytes(stream[i:i + 2], "big") & 0x7FF
        frames.append(stream[i:i + length])
        i += length
    return frames


def hdlc_information(frame: bytes) -> tuple[int, bytes]:
    """(control, information field) of a frame: format, two addresses, control, HCS, info, FCS."""
    i = 2
    for _ in range(2):  # an address ends with the octet whose low bit is 1
        while not frame[i] & 1:
            i += 1
        i += 1
    control = frame[i]
    return control, frame[i + 3:-2] if len(frame) > i + 3 else b""


class Tap:
    """The octets a client received, to see APDUs, GET blocks and HDLC segments afterwards."""

    def __init__(self, hdlc: bool) -> None:
        self.hdlc = hdlc
        self.received = bytearray()

    def on(self, target: Any, method: str) -> None:
        """Record what `target.method` (a socket, serial port or pipe read) returns."""
        original = getattr(target, method)

        def recording(*args: Any) -> bytes:
            data = original(*args)
            self.received += data
            return data

        setattr(target, method, recording)

    def mark(self) -> int:
        return len(self.received)

    def segments(self, since: int = 0) -> int:
        """I frames received since `since`."""
        return sum(1 for f in hdlc_frames(bytes(self.received[since:])) if not hdlc_information(f)[0] & 1)

    def apdus(self, since: int = 0) -> list[bytes]:
        """The APDUs received since `since` (HDLC: segments joined, LLC removed)."""
        stream = bytes(self.received[since:])
        apdus: list[bytes] = []
        if not self.hdlc:
            i = 0
            while i < len(stream):  # wrapper: version, source, destination, length, APDU
                length = int.from_bytes(stream[i + 6:i + 8], "big")
                apdus.append(stream[i + 8:i + 8 + length])
                i += 8 + length
            return apdus
        pending = b""
        for frame in hdlc_frames(stream):
            control, information = hdlc_information(frame)
            if control & 1:  # not an I frame
                continue
            pending += information
            if not frame[0] & 0x08:  # the last segment of an APDU
                apdus.append(pending[3:])
                pending = b""
        return apdus


def security_control(apdu: bytes) -> int | None:
    """The security control octet of a ciphered APDU; None for a plain one."""
    tag, i = apdu[0], 1
    if tag in (0xDB, 0xDC):  # general-glo/ded-ciphering: system title first
        i += 1 + apdu[i]
    elif not (tag in (0x21, 0x28) or 0xC8 <= tag <= 0xD7):  # glo-/ded- initiate, get, set, action...
        return None
    first = apdu[i]
    return apdu[i + 1 + (first & 0x7F if first & 0x80 else 0)]


# --------------------------------------------------------------------------- two clients, one face

class Session(Protocol):
    """An association of an independent client; GET answers are A-XDR bytes or a result code."""

    tap: Tap

    def get(self, class_id: int, obis: str, attribute: int) -> bytes | int: ...

    def set_clock(self, when: datetime) -> int: ...

    def set_text(self, obis: str, text: str) -> int: ...

    def invoke(self, class_id: int, obis: str, method: int) -> int: ...

    def rows_by_range(self, start: datetime, end: datetime) -> bytes: ...


def _attribute(class_id: int, obis: str, attribute: int) -> cosem.CosemAttribute:
    return cosem.CosemAttribute(interface=enumerations.CosemInterface(class_id),
                                instance=cosem.Obis.from_string(obis), attribute=attribute)


class CosemSession:
    """dlms-cosem over a transport it has (TCP wrapper, HDLC over TCP or serial)."""

    def __init__(self, transport: Any, client_sap: int, hdlc: bool, secret: bytes | None, max_pdu: int) -> None:
        self.client = dlms_client(transport, client_sap, max_pdu_size=max_pdu) if secret is None else DlmsClient(
            transport=transport, authentication=LowLevelSecurityAuthentication(secret=secret), timeout=5)
        self.tap = Tap(hdlc)
        self.tap.on(transport.io, "recv")

    def __enter__(self) -> CosemSession:
        self.client.connect()
        try:
            self.client.associate()
        except BaseException:
            self.client.disconnect()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.client.release_association()
        finally:
            self.client.disconnect()

    def get(self, class_id: int, obis: str, attribute: int) -> bytes | int:
        try:
            return self.client.get(_attribute(class_id, obis, attribute))
        except DataResultError as error:  # "...: <DataAccessResult.READ_WRITE_DENIED: 3>"
            found = re.search(r": (\d+)>$", str(error))
            assert found, str(error)
            return int(found.group(1))

    def set_clock(self, when: datetime) -> int:
        data = dlms_data.OctetStringData(cosem_time.datetime_to_bytes(when)).to_bytes()
        return int(self.client.set(_attribute(8, CLOCK, 2), data).result)

    def set_text(self, obis: str, text: str) -> int:
        """SET a Data object's value to a visible-string."""
        return int(self.client.set(_attribute(1, obis, 2), dlms_data.VisibleStringData(text).to_bytes()).result)

    def invoke(self, class_id: int, obis: str, method: int) -> int:
        target = cosem.CosemMethod(enumerations.CosemInterface(class_id), cosem.Obis.from_string(obis), method)
        try:
            self.client.action(target, dlms_data.IntegerData(0).to_bytes())
        except ActionError as error:  # the result's name, maybe after "Unsuccessful ActionRequest: "
            return int(ActionResult[str(error).rsplit(" ", 1)[-1]])
        return 0

    def rows_by_range(self, start: datetime, end: datetime) -> bytes:
        clock = CaptureObject(cosem_attribute=_attribute(8, CLOCK, 2), data_index=0)
        return self.client.get(_attribute(7, LOAD_PROFILE, 2), RangeDescriptor(clock, start, end))


class GuruxSession:
    """gurux-dlms over any transport; it decodes every value it reads, too."""

    def __init__(self, peer: GuruxPeer, hdlc: bool) -> None:
        self.peer = peer
        self.client = peer.client
        self.tap = Tap(hdlc)
        self.tap.on(peer.pipe, "receive")
        self._objects: dict[tuple[int, str], Any] = {}

    def __enter__(self) -> GuruxSession:
        try:
            self.peer.connect()
        except BaseException:
            self.peer.pipe.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.peer.release()
        finally:
            self.peer.pipe.close()

    def _object(self, class_id: int, obis: str) -> Any:
        """One gurux object per COSEM object, so a profile keeps the capture objects it read."""
        obj = self._objects.get((class_id, obis))
        if obj is None:
            obj = self._objects[(class_id, obis)] = GXDLMSClient.createObject(ObjectType(class_id))
            obj.logicalName = obis
        return obj

    def _request(self, requests: Any) -> Any:
        try:
            return self.peer.request(requests)
        except GXDLMSException as error:
            return int(error.errorCode)

    def get(self, class_id: int, obis: str, attribute: int) -> bytes | int:
        obj = self._object(class_id, obis)
        reply = self._request(self.client.read(obj, attribute))
        if isinstance(reply, int):
            return reply
        self.client.updateValue(obj, attribute, reply.value)
        if class_id == 15 and attribute == 2:  # the object list: gurux's objects, with their versions
            self._objects.update({(int(o.objectType), o.logicalName): o for o in obj.objectList})
        return bytes(reply.data.array())

    def set_clock(self, when: datetime) -> int:
        clock = GXDLMSClock(CLOCK)
        clock.time = GXDateTime(when)
        reply = self._request(self.client.write(clock, 2))
        return reply if isinstance(reply, int) else 0

    def set_text(self, obis: str, text: str) -> int:
        data = GXDLMSData(obis)
        data.value = text
        data.setDataType(2, GuruxType.STRING)
        reply = self._request(self.client.write(data, 2))
        return reply if isinstance(reply, int) else 0

    def invoke(self, class_id: int, obis: str, method: int) -> int:
        reply = self._request(self.client.method(self._object(class_id, obis), method, 0, GuruxType.INT8))
        return reply if isinstance(reply, int) else 0

    def _rows(self, requests: Any) -> bytes:
        profile = self._object(7, LOAD_PROFILE)
        reply = self.peer.request(requests)
        self.client.updateValue(profile, 2, reply.value)
        return bytes(reply.data.array())

    def rows_by_range(self, start: datetime, end: datetime) -> bytes:
        self.get(7, LOAD_PROFILE, 3)  # gurux restricts on the profile's first capture object
        return self._rows(self.client.readRowsByRange(self._object(7, LOAD_PROFILE), start, end))

    def rows_by_entry(self, first: int, count: int) -> bytes:
        self.get(7, LOAD_PROFILE, 3)
        return self._rows(self.client.readRowsByEntry(self._object(7, LOAD_PROFILE), first, count))


def session(rig: Rig, transport: str, model: str, client_sap: int, gurux: bool = False,
            secret: bytes | None = None, max_pdu: int = 0xFFFF) -> CosemSession | GuruxSession:
    """A client of `model`'s meter over `transport`: dlms-cosem, or gurux on UDP or when asked.

    `secret` replaces the demo LLS password; `max_pdu` is the client's max receive PDU size.
    """
    fleet, index, hdlc = rig.fleet, MODELS.index(model), transport in HDLC
    if transport == "hdlc-serial" and rig.client_tty is None:
        pytest.skip(NO_SOCAT)
    physical = 17 if transport == "hdlc-tcp" else PHYSICAL[model]
    port = 0
    if transport in ("tcp", "udp"):
        port = fleet.port(transport, index)
    elif transport != "hdlc-serial":
        shared = transport == "multidrop"
        port = next(e.port for e in fleet.engine.endpoints if e.transport == "hdlc-tcp"
                    and isinstance(e.routes.get(None), dict) == shared
                    and any(m.index == index for m in e.meters()))
    if gurux or transport == "udp":
        pipe: Any = SerialPipe(rig.client_tty) if transport == "hdlc-serial" else \
            SocketPipe("127.0.0.1", port, udp=transport == "udp")
        client = gurux_client(client_sap, GXDLMSClient.getServerAddress(1, physical) if hdlc else 1, hdlc=hdlc)
        if secret is not None:
            client.password = secret
        client.maxReceivePDUSize = max_pdu
        return GuruxSession(GuruxPeer(pipe, client), hdlc)
    if transport == "tcp":
        dlms_transport: Any = wrapper_transport(port, client_sap)
    elif transport == "hdlc-serial":
        dlms_transport = hdlc_serial_transport(rig.client_tty, client_sap, physical=physical)
    else:
        dlms_transport = hdlc_tcp_transport(port, client_sap, physical=physical)
    return CosemSession(dlms_transport, client_sap, hdlc, secret, max_pdu)


def logical_device_name(model: str) -> bytes:
    """A-XDR of meter `model`'s logical device name: SIM and its serial, the fleet position + 1."""
    return bytes((0x09, 11)) + f"SIM{MODELS.index(model) + 1:08d}".encode()


# --------------------------------------------------------------------------- association

def aare_fields(aare: bytes) -> dict[int, bytes]:
    """The AARE's components by tag (each short enough for a one-octet BER length here)."""
    assert aare[0] == 0x61 and aare[1] == len(aare) - 2
    fields, i = {}, 2
    while i < len(aare):
        fields[aare[i]] = aare[i + 2:i + 2 + aare[i + 1]]
        i += 2 + aare[i + 1]
    return fields


# per client SAP: application context (LN; LN with ciphering), mechanism name (none, LLS, HLS-GMAC)
# and acse-service-user diagnostic (null; authentication-required: HLS passes 3 and 4 follow)
AARE = {16: ("060760857405080101", None, "A103020100"),
        2: ("060760857405080101", "60857405080201", "A103020100"),
        1: ("060760857405080103", "60857405080205", "A10302010E")}


@pytest.mark.parametrize("client_sap", [16, 2, 1], ids=["public", "lls", "hls-gmac"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_association(rig: Rig, transport: str, client_sap: int) -> None:
    with session(rig, transport, PROFILE_MODEL, client_sap) as s:
        mark = s.tap.mark()
        assert s.get(1, LDN, 2) == logical_device_name(PROFILE_MODEL)
        clock = s.get(8, CLOCK, 2)
        assert isinstance(clock, bytes) and Data.from_bytes(clock).type == DataType.OCTET_STRING and len(clock) == 14
        if client_sap == 16:  # the public client reads; it may not set or act
            assert s.set_clock(T0) == DataAccessResult.READ_WRITE_DENIED
            assert s.invoke(8, CLOCK, 1) == ActionResult.READ_WRITE_DENIED
        answers = s.tap.apdus(mark)
        aare = aare_fields(s.tap.apdus()[0])
    context, mechanism, diagnostic = AARE[client_sap]
    assert aare[0xA1].hex().upper() == context and aare[0xA2] == bytes.fromhex("020100")  # accepted
    assert aare.get(0x89, b"").hex().upper() == (mechanism or "") and aare[0xA3].hex().upper() == diagnostic
    initiate_response = aare[0xBE][2:]  # user-information: an OCTET STRING holding the xDLMS APDU
    assert len(answers) >= 2
    controls = {security_control(apdu) for apdu in (initiate_response, *answers)}
    assert controls == ({AUTHENTICATED_ENCRYPTED_SUITE_0} if client_sap == 1 else {None})


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_wrong_lls_password_is_refused(rig: Rig, transport: str) -> None:
    """The AARE says rejected-permanent (1), acse-service-user authentication-failure (13)."""
    wrong = session(rig, transport, PROFILE_MODEL, 2, secret=b"87654321")
    with pytest.raises((DlmsClientException, GXDLMSException)):
        with wrong:
            pass
    aare = aare_fields(wrong.tap.apdus()[-1])
    assert aare[0xA2] == bytes.fromhex("020101") and aare[0xA3] == bytes.fromhex("A10302010D")
    with session(rig, transport, PROFILE_MODEL, 2) as s:  # the meter still serves the right one
        assert s.get(1, LDN, 2) == logical_device_name(PROFILE_MODEL)


@pytest.mark.parametrize("transport", ["multidrop", "hdlc-serial"])
def test_shared_line_answers_each_physical_address(rig: Rig, transport: str) -> None:
    for model in MODELS:
        with session(rig, transport, model, 16) as s:
            assert s.get(1, LDN, 2) == logical_device_name(model)


# --------------------------------------------------------------------------- every attribute

def _readable(association: AssociationSpec, right: Any) -> bool:
    """Authenticated modes need a request with cryptographic authentication (access.py, step 3)."""
    ciphered = association.security_policy in (SecurityPolicy.AUTHENTICATED, SecurityPolicy.AUTHENTICATED_ENCRYPTED)
    return right.readable and (not right.authenticated or ciphered)


def walk(s: Session, model: str, client_sap: int) -> int:
    """The object list against the model, then every attribute of every listed object."""
    device = DEVICES[model]
    association = device.associations[client_sap]
    listed = s.get(15, CURRENT_ASSOCIATION, 2)
    assert isinstance(listed, bytes), f"object list refused: {listed}"
    objects = []
    for entry in Data.from_bytes(listed).value:
        class_id, version, name, access = (d.value for d in entry.value)
        spec = device.find(name)
        assert spec is not None and spec.index in association.rights, f"{Obis(name)} listed"
        assert (class_id, version) == (spec.cls.class_id, spec.cls.version), spec.describe()
        rights = association.rights[spec.index]
        attribute_modes = {item.value[0].value: item.value[1].value for item in access[0].value}
        assert attribute_modes == {a.index: rights.attribute(a.index) for a in spec.cls.attributes}, spec.describe()
        method_modes = {item.value[0].value: int(item.value[1].value) for item in access[1].value}
        assert method_modes == {m.index: rights.method(m.index) for m in spec.cls.methods}, spec.describe()
        objects.append(spec)
    assert sorted(o.index for o in objects) == sorted(association.rights)
    answers = 0
    for spec in objects:
        order = list(spec.cls.attributes)
        if spec.cls.class_id == 7:  # gurux decodes a buffer by the capture objects: read them first
            order.insert(1, order.pop(2))
        for definition in order:
            where = f"{model} client {client_sap}: {spec.describe()} attribute {definition.index}"
            answer = s.get(spec.cls.class_id, str(spec.logical_name), definition.index)
            if not _readable(association, association.rights[spec.index].attribute(definition.index)):
                assert answer == DataAccessResult.READ_WRITE_DENIED, where
                continue
            assert isinstance(answer, bytes), f"{where}: refused with {answer}"
            value = Data.from_bytes(answer)
            assert definition.type.accepts(value), f"{where}: {value.type.label} is not {definition.type}"
            if definition.index == 1:
                assert value.value == spec.logical_name, where
            answers += 1
    return answers


def _walks() -> list[Any]:
    """Every model and association (public, LLS reader, HLS management) on every transport;
    gurux-dlms walks the multi-drop line as well, so every value is also decoded by a client's
    own decoder on an HDLC transport, not only on the UDP wrapper."""
    cells = []
    for transport in (*TRANSPORTS, "multidrop+gurux"):
        for model in MODELS:
            for client_sap in (16, 2, 1):
                if client_sap in DEVICES[model].associations:
                    cells.append(pytest.param(transport, model, client_sap, id=f"{transport}-{model}-{client_sap}"))
    return cells


@pytest.mark.parametrize("transport, model, client_sap", _walks())
def test_every_attribute_of_every_object(rig: Rig, transport: str, model: str, client_sap: int) -> None:
    transport, _, gurux = transport.partition("+")
    with session(rig, transport, model, client_sap, gurux=bool(gurux)) as s:
        answers = walk(s, model, client_sap)
    assert answers > len(DEVICES[model].associations[client_sap].rights)


# --------------------------------------------------------------------------- load profile

def row_times(encoded: bytes) -> list[datetime]:
    """The clock column (the first) of each row of a buffer."""
    return [CosemDateTime.from_bytes(row.value[0].value).to_datetime() for row in Data.from_bytes(encoded).value]


def group_of(when: datetime) -> int:
    """Which SET clock a row was captured under: the hours since T0 (captures take milliseconds)."""
    offset = when - T0
    assert timedelta(0) <= offset % timedelta(hours=1) < timedelta(minutes=1), when
    return offset // timedelta(hours=1)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_load_profile_set_action_blocks_and_selective_access(rig: Rig, transport: str) -> None:
    hdlc = transport in HDLC
    with session(rig, transport, PROFILE_MODEL, 1, max_pdu=PDU) as s:
        assert s.invoke(7, LOAD_PROFILE, 1) == ActionResult.SUCCESS  # reset
        for k in range(GROUPS):
            assert s.set_clock(T0 + timedelta(hours=k)) == DataAccessResult.SUCCESS
            for _ in range(ROWS_PER_GROUP):
                assert s.invoke(7, LOAD_PROFILE, 2) == ActionResult.SUCCESS  # capture
        assert s.get(7, LOAD_PROFILE, 7) == Data(DataType.DOUBLE_LONG_UNSIGNED, GROUPS * ROWS_PER_GROUP).to_bytes()

        s.get(7, LOAD_PROFILE, 3)
        mark = s.tap.mark()
        buffer = s.get(7, LOAD_PROFILE, 2)
        assert isinstance(buffer, bytes)
        assert [group_of(t) for t in row_times(buffer)] == [k for k in range(GROUPS) for _ in range(ROWS_PER_GROUP)]
        blocks = len(s.tap.apdus(mark))
        assert blocks > len(buffer) // PDU  # GET with block transfer: the client takes PDUs of 512 octets
        if hdlc:
            assert s.tap.segments(mark) > 2 * blocks  # each block in several segments of 128 octets

        mark = s.tap.mark()
        selected = s.rows_by_range(T0 + timedelta(hours=1), T0 + timedelta(hours=2, minutes=59))
        assert [group_of(t) for t in row_times(selected)] == [1] * ROWS_PER_GROUP + [2] * ROWS_PER_GROUP
        assert len(s.tap.apdus(mark)) >= 2

    with session(rig, transport, PROFILE_MODEL, 1, gurux=True) as g:
        assert isinstance(g, GuruxSession)
        entries = g.rows_by_entry(ROWS_PER_GROUP + 1, ROWS_PER_GROUP)  # the second group
        assert [group_of(t) for t in row_times(entries)] == [1] * ROWS_PER_GROUP
        assert row_times(g.rows_by_entry(GROUPS * ROWS_PER_GROUP, 5)) == row_times(buffer)[-1:]  # past the end


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_set_of_a_value_longer_than_an_hdlc_frame(rig: Rig, transport: str) -> None:
    """A ciphered SET of 90 octets of text, 137 octets with the LLC: over HDLC the client sends
    it in two segments, the meter acknowledging the first with an RR; read back the same, then
    the model's value is restored. (dlms-cosem writes a ciphered APDU's length in one octet, so
    its requests must stay under 128 octets of ciphertext.)"""
    text = "".join(chr(0x21 + i % 94) for i in range(90))
    with session(rig, transport, PROFILE_MODEL, 1) as s:
        original = s.get(1, DEVICE_TYPE, 2)
        assert isinstance(original, bytes)
        mark = s.tap.mark()
        assert s.set_text(DEVICE_TYPE, text) == DataAccessResult.SUCCESS
        if transport in HDLC:
            frames = hdlc_frames(bytes(s.tap.received[mark:]))
            assert any(hdlc_information(f)[0] & 0x0F == 0x01 for f in frames)  # an RR before the answer
        assert s.get(1, DEVICE_TYPE, 2) == Data(DataType.VISIBLE_STRING, text).to_bytes()
        assert s.set_text(DEVICE_TYPE, Data.from_bytes(original).value) == DataAccessResult.SUCCESS
