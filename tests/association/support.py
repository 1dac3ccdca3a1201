"""A meter with the three classic associations, built from spec dataclasses (no YAML).

Logical device 1 holds: the current-association object 0.0.40.0.0.255, one Association LN per
association (0.0.40.0.1/2/3.255), a Security setup with the Green Book keys, a clock, the logical
device name, an energy register and a SAP assignment. Associations:

- 16 public: LN, no authentication;
- 2 reader: LN, LLS with password "12345678";
- 1 management: LN with ciphering, HLS-GMAC, security policy authenticated+encrypted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from simulator.apdu.acse import ApplicationContextName as Ctx
from simulator.apdu.acse import MechanismName as Mech
from simulator.association import AssociationSession
from simulator.axdr import Data, DataType, Obis
from simulator.cosem.base import AttributeAccess, MethodAccess
from simulator.cosem.registry import get_class
from simulator.model.spec import (
    AssociationSpec,
    LogicalDeviceSpec,
    MeterModel,
    ObjectRights,
    ObjectSpec,
    SecurityPolicy,
    Template,
)
from simulator.server.objects import Meter, ObjectHandle, TimeBase

h = bytes.fromhex

# Green Book (DLMS UA 1000-2) example keys and system titles, as quoted by the public vectors in
# /work/shared/vectors (e.g. https://github.com/xdom/jdlms/blob/968f7232a0876df39cc05209fce7850ec9c1beca/src/test/java/org/openmuc/jdlms/CipheringTest.java)
GB_EK = "000102030405060708090A0B0C0D0E0F"
GB_AK = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"
GB_SERVER_TITLE = "4D4D4D0000BC614E"
GB_CLIENT_TITLE = "4D4D4D0000000001"
# RFC 3394 section 4.1 KEK, used as master key (https://github.com/xdom/jdlms/blob/968f7232a0876df39cc05209fce7850ec9c1beca/src/test/java/org/openmuc/jdlms/SecurityUtilsTest.java)
MASTER_KEY = "000102030405060708090A0B0C0D0E0F"
PASSWORD = "12345678"

CURRENT, PUBLIC_LN, READER_LN, MANAGEMENT_LN, SETUP, CLOCK, LDN, ENERGY, SAP = range(9)
LOGICAL_NAMES = ("0.0.40.0.0.255", "0.0.40.0.1.255", "0.0.40.0.2.255", "0.0.40.0.3.255", "0.0.43.0.0.255",
                 "0.0.1.0.0.255", "0.0.42.0.0.255", "1.0.1.8.0.255", "0.0.41.0.0.255")
CLASS_IDS = (15, 15, 15, 15, 64, 8, 1, 3, 17)

FIELDS = {"serial": "00000001", "ek": GB_EK, "ak": GB_AK, "kek": MASTER_KEY, "title": GB_SERVER_TITLE,
          "password": PASSWORD}


def rights(class_id: int, mode: AttributeAccess, methods: MethodAccess) -> ObjectRights:
    cls = get_class(class_id)
    assert cls is not None
    n = max(a.index for a in cls.attributes)
    attrs = tuple(AttributeAccess.READ_ONLY if i == 1 else mode for i in range(1, n + 1))
    return ObjectRights(attrs, tuple(methods for _ in cls.methods))


def _objects(values: dict[int, dict[int, Data]]) -> tuple[ObjectSpec, ...]:
    specs = []
    for i, (class_id, ln) in enumerate(zip(CLASS_IDS, LOGICAL_NAMES, strict=True)):
        cls = get_class(class_id)
        assert cls is not None
        n = max(a.index for a in cls.attributes)
        given = values.get(i, {})
        vals = tuple(given.get(k + 1) for k in range(n))
        templates: tuple[tuple[int, Template], ...] = ()
        secrets: tuple[tuple[str, Template], ...] = ()
        if i == SETUP:
            templates = ((5, Template("{title}", "octet-string-hex")),)
            secrets = (("global_unicast_encryption_key", Template("{ek}", "octet-string-hex")),
                       ("authentication_key", Template("{ak}", "octet-string-hex")),
                       ("master_key", Template("{kek}", "octet-string-hex")))
        specs.append(ObjectSpec(i, cls, Obis(ln), vals, tuple(None for _ in vals), templates, label=ln,
                                secrets=secrets))
    return tuple(specs)


def _association(client_sap: int, home: int, **kw: Any) -> AssociationSpec:
    public = {i: rights(CLASS_IDS[i], AttributeAccess.READ_ONLY, MethodAccess.NO_ACCESS)
              for i in (CURRENT, home, CLOCK, LDN, ENERGY)}
    public[CURRENT] = public[home] = rights(15, AttributeAccess.READ_ONLY, MethodAccess.ACCESS)
    return AssociationSpec(client_sap, association_object=home, rights=public, **kw)


def build(*, values: dict[int, dict[int, Data]] | None = None, fields: dict[str, Any] | None = None,
          associations: dict[int, AssociationSpec] | None = None) -> tuple[Meter, LogicalDeviceSpec]:
    objects = _objects(values or {})
    if associations is None:
        management = _association(1, MANAGEMENT_LN, context=Ctx.LOGICAL_NAME_WITH_CIPHERING, mechanism=Mech.HIGH_GMAC,
                                  security_policy=SecurityPolicy.AUTHENTICATED_ENCRYPTED, security_setup_object=SETUP)
        everything = {i: rights(CLASS_IDS[i], AttributeAccess.READ_AND_WRITE, MethodAccess.ACCESS)
                      for i in range(len(objects))}
        management = replace(management, rights=everything)
        associations = {
            16: _association(16, PUBLIC_LN, context=Ctx.LOGICAL_NAME, mechanism=Mech.LOWEST),
            2: _association(2, READER_LN, context=Ctx.LOGICAL_NAME, mechanism=Mech.LOW,
                            secret=Template("{password}")),
            1: management,
        }
    device = LogicalDeviceSpec(1, Template("SIM{serial}"), objects, associations,
                               {bytes(o.logical_name): o.index for o in objects})
    model = MeterModel("test", "<test>", "association test meter", {1: device})
    meter = Meter(model, 0, dict(FIELDS if fields is None else fields), TimeBase(1704067200.0))
    return meter, device


def session(meter: Meter, device: LogicalDeviceSpec, client_sap: int) -> AssociationSession:
    return AssociationSession(meter, device, device.associations[client_sap])


def handle(meter: Meter, device: LogicalDeviceSpec, index: int, association: Any = None) -> ObjectHandle:
    return ObjectHandle(meter, device, device.objects[index], 0.0, association)


def octets(value: bytes) -> Data:
    return Data(DataType.OCTET_STRING, value)
