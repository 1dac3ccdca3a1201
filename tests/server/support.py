"""A small meter built from the model dataclasses, and a client pump for the server tests.

The meter (logical device 1) holds an Association LN, a Clock, a Register, two Data objects, a
Profile generic with stored rows, and a deliberately faulty object whose behaviours raise.
A Security setup object holds the demo keys. Associations: 16 public (no authentication,
read-only, no methods), 2 reader (LLS "12345678", read-write, methods), 3 restricted (sees only
the clock), 4 with authenticated_* rights, 5 HLS-SHA1, 1 management (HLS-GMAC, authenticated and
encrypted requests, authenticated_* rights), 7 ciphered context without authentication or
policy (authenticated_* rights), 102 pre-established.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from simulator.apdu.acse import AARE, AARQ, RLRQ, ApplicationContextName, AssociationResult, MechanismName
from simulator.apdu.common import InvokeIdAndPriority
from simulator.apdu.initiate import Conformance, InitiateRequest, InitiateResponse
from simulator.axdr import CosemDateTime, Data, DataType, Obis, encode_data
from simulator.cosem.base import AttributeAccess, InterfaceClass, MethodAccess, attribute, interface_class, method
from simulator.cosem.registry import get_class
from simulator.cosem.types import ANY, INTEGER
from simulator.model.spec import (
    AssociationSpec, LogicalDeviceSpec, MeterModel, ObjectRights, ObjectSpec, SecurityPolicy, Template,
)
from simulator.server.meter import Channel, MeterServer
from simulator.server import objects as server_objects
from simulator.server.objects import TimeBase

from tests.cosem.meter_fixture import EPOCH_2024

LN, SN = ApplicationContextName.LOGICAL_NAME, ApplicationContextName.SHORT_NAME
LN_CIPHERED = ApplicationContextName.LOGICAL_NAME_WITH_CIPHERING
CLIENT_CONFORMANCE = Conformance(0x00FFFF) | Conformance.GENERAL_PROTECTION | Conformance.GENERAL_BLOCK_TRANSFER
INVOKE = InvokeIdAndPriority(1, True, True)
PASSWORD = b"12345678"
HLS_SECRET = b"HLS-secret-0001"
CTOS = b"ClientChallenge!"
START = datetime(2024, 1, 1, tzinfo=timezone.utc)

CLOCK_LN = Obis("0.0.1.0.0.255")
REGISTER_LN = Obis("1.0.1.8.0.255")
LDN_LN = Obis("0.0.42.0.0.255")
SERIAL_LN = Obis("0.0.96.1.0.255")
PROFILE_LN = Obis("1.0.99.1.0.255")
FAULTY_LN = Obis("0.0.96.99.0.255")
ASSOCIATION_LN = Obis("0.0.40.0.0.255")
SECURITY_SETUP_LN = Obis("0.0.43.0.0.255")
SECURITY_SETUP = 7  # its index in objects()

# The demo keys of the project brief (issue 4) and Green Book example system titles.
EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
SERVER_TITLE = bytes.fromhex("4D4D4D0000BC614E")
CLIENT_TITLE = bytes.fromhex("4D4D4D0000000001")

REGISTER_VALUE = Data(DataType.DOUBLE_LONG_UNSIGNED, 123456)
SCALER_UNIT = Data(DataType.STRUCTURE, (Data(DataType.INTEGER, 0), Data(DataType.ENUM, 30)))


def _boom(*_: object) -> None:
    raise RuntimeError("this behaviour is broken on purpose")


FAULTY = interface_class(1, 0, "Faulty data", [
    attribute(2, "value", ANY, getter=_boom, setter=_boom, access=AttributeAccess.READ_AND_WRITE),
], [method(1, "explode", INTEGER, impl=_boom)])


def row_time(i: int) -> bytes:
    """The capture time of row i: 2024-01-01 00:00 UTC plus 15 minutes per row, from 00:15."""
    return CosemDateTime.from_datetime(START + timedelta(minutes=15 * (i + 1))).to_bytes()


def profile_rows(n: int) -> Data:
    """n rows {clock time, register value 1000 + i}."""
    return Data(DataType.ARRAY, tuple(
        Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, row_time(i)), Data(DataType.DOUBLE_LONG_UNSIGNED, 1000 + i)))
        for i in range(n)))


def capture_object(class_id: int, ln: Obis, attr: int) -> Data:
    return Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, class_id), Data(DataType.OCTET_STRING, bytes(ln)),
                                     Data(DataType.INTEGER, attr), Data(DataType.LONG_UNSIGNED, 0)))


@dataclass(frozen=True)
class Obj:
    cls: InterfaceClass
    ln: Obis
    values: dict[int, Data]
    short_name: int | None = None
    secrets: tuple[tuple[str, Template], ...] = ()


def objects(rows: int = 10, short_names: bool = False) -> list[Obj]:
    """The test meter's objects; an SN meter has an Association SN where an LN one has an Association LN."""
    return [
        Obj(get_class(12 if short_names else 15), ASSOCIATION_LN, {}, 0xFA00),
        Obj(get_class(8), CLOCK_LN, {3: Data(DataType.LONG, -60)}, 0x2000),
        Obj(get_class(3), REGISTER_LN, {2: REGISTER_VALUE, 3: SCALER_UNIT}, 0x2100),
        Obj(get_class(1), LDN_LN, {2: Data(DataType.OCTET_STRING, b"SIM00000001")}, 0x2200),
        Obj(get_class(1), SERIAL_LN, {2: Data(DataType.VISIBLE_STRING, "X" * 600)}, 0x2300),
        Obj(get_class(7), PROFILE_LN, {
            2: profile_rows(rows),
            3: Data(DataType.ARRAY, (capture_object(8, CLOCK_LN, 2), capture_object(3, REGISTER_LN, 2))),
            4: Data(DataType.DOUBLE_LONG_UNSIGNED, 900),
        }, 0x2400),
        Obj(FAULTY, FAULTY_LN, {}, 0x2500),
        Obj(get_class(64), SECURITY_SETUP_LN, {5: Data(DataType.OCTET_STRING, SERVER_TITLE)}, 0x2600,
            secrets=(("global_unicast_encryption_key", Template(EK.hex(), "octet-string-hex")),
                     ("authentication_key", Template(AK.hex(), "octet-string-hex")))),
    ]


def _rights(cls: InterfaceClass, role: str) -> ObjectRights:
    def attr(a: object) -> AttributeAccess:
        index = a.index  # type: ignore[attr-defined]
        if role == "public" or index == 1:
            return AttributeAccess.READ_ONLY if a.access.readable else AttributeAccess.NO_ACCESS  # type: ignore[attr-defined]
        if role == "authenticated":
            return AttributeAccess.AUTHENTICATED_READ_AND_WRITE
        return AttributeAccess.READ_AND_WRITE
    method_mode = {"public": MethodAccess.NO_ACCESS, "authenticated": MethodAccess.AUTHENTICATED_ACCESS}.get(
        role, MethodAccess.ACCESS)
    return ObjectRights(tuple(attr(a) for a in cls.attributes), tuple(method_mode for _ in cls.methods))


def build_model(objs: list[Obj], *, context: ApplicationContextName = LN, server_pdu: int = 1024,
                conformance: int = 0) -> MeterModel:
    specs = []
    for i, o in enumerate(objs):
        n = max(a.index for a in o.cls.attributes)
        values = tuple(o.values.get(k + 1) for k in range(n))
        encoded = tuple(
            encode_data(v) if v is not None and (a := o.cls.attribute(k + 1)) is not None
            and not a.dynamic and a.getter is None else None
            for k, v in enumerate(values))
        specs.append(ObjectSpec(i, o.cls, o.ln, values, encoded, short_name=o.short_name, secrets=o.secrets))
    everything = range(len(specs))

    def assoc(client: int, role: str, visible: range | list[int], **kw: object) -> AssociationSpec:
        return AssociationSpec(client, kw.pop("context", context), kw.pop("mechanism", MechanismName.LOWEST),  # type: ignore[arg-type]
                               rights={i: _rights(specs[i].cls, role) for i in visible},
                               association_object=0, max_receive_pdu_size=server_pdu,
                               conformance=conformance, **kw)  # type: ignore[arg-type]

    associations = {
        16: assoc(16, "public", everything),
        2: assoc(2, "reader", everything, mechanism=MechanismName.LOW, secret=Template(PASSWORD.decode())),
        3: assoc(3, "public", [0, 1]),
        4: assoc(4, "authenticated", everything),
        5: assoc(5, "reader", everything, mechanism=MechanismName.HIGH_SHA1, secret=Template(HLS_SECRET.decode())),
        102: assoc(102, "reader", everything, pre_established=True),
        1: assoc(1, "authenticated", everything, mechanism=MechanismName.HIGH_GMAC, context=LN_CIPHERED,
                 security_policy=SecurityPolicy.AUTHENTICATED_ENCRYPTED, security_setup_object=SECURITY_SETUP),
        7: assoc(7, "authenticated", everything, context=LN_CIPHERED, security_setup_object=SECURITY_SETUP),
    }
    device = LogicalDeviceSpec(1, Template("SIM{serial}"), tuple(specs), associations,
                               {bytes(s.logical_name): s.index for s in specs},
                               {s.short_name: s.index for s in specs if s.short_name is not None})
    return MeterModel("server-test", "<test>", "server test meter", {1: device})


class Meter:
    """A meter and one channel to it, driven by plain APDU bytes."""

    def __init__(self, objs: list[Obj] | None = None, **kw: object) -> None:
        self.model = build_model(objs if objs is not None else objects(short_names=kw.get("context") == SN),
                                 **kw)  # type: ignore[arg-type]
        self.state = server_objects.Meter(self.model, 0, {"serial": "00000001"}, TimeBase(EPOCH_2024))
        self.server = MeterServer(self.state)
        self.channel: Channel = self.server.open_channel()
        self.now = 0.0

    @property
    def device(self) -> LogicalDeviceSpec:
        return self.model.logical_devices[1]

    def send(self, apdu: bytes, client: int = 16, server: int = 1) -> bytes | None:
        return self.channel.handle_apdu(server, client, apdu, self.now)

    def associate(self, client: int = 16, max_pdu: int = 1024, conformance: Conformance = CLIENT_CONFORMANCE,
                  context: ApplicationContextName = LN) -> AARE:
        """AARQ as `client` (16/3/4 no authentication, 2 LLS, 5 HLS-SHA1 pass 1, 7 ciphered context
        without authentication) and the accepted AARE."""
        mechanism, value = {2: (MechanismName.LOW, PASSWORD), 5: (MechanismName.HIGH_SHA1, CTOS)}.get(client, (None, None))
        if client == 7:
            context = LN_CIPHERED
        aarq = AARQ(application_context_name=context, sender_acse_requirements=mechanism is not None,
                    calling_ap_title=CLIENT_TITLE if context == LN_CIPHERED else None,
                    mechanism_name=mechanism, calling_authentication_value=value,
                    user_information=InitiateRequest(proposed_conformance=conformance,
                                                     client_max_receive_pdu_size=max_pdu).to_bytes())
        answer = self.send(aarq.to_bytes(), client)
        assert answer is not None
        aare = AARE.from_bytes(answer)
        assert aare.result == AssociationResult.ACCEPTED, aare
        assert aare.user_information is not None
        return aare

    def negotiated(self, aare: AARE) -> InitiateResponse:
        assert aare.user_information is not None
        return InitiateResponse.from_bytes(aare.user_information)

    def release(self, client: int = 16) -> bytes | None:
        return self.send(RLRQ().to_bytes(), client)


OWN_ASSOCIATION_LN = Obis("0.0.40.0.1.255")


def own_association_meter(client: int, current: bool = True) -> Meter:
    """A meter where `client`'s association has an Association LN of its own, 0.0.40.0.1.255, as
    IDIS models give each client; `current` keeps the 0.0.40.0.0.255 instance beside it."""
    objs = objects() + [Obj(get_class(15), OWN_ASSOCIATION_LN, {})]
    if not current:
        objs = objs[1:]
    m = Meter(objs)
    associations = m.device.associations
    associations[client] = replace(associations[client], association_object=len(objs) - 1)
    return m
