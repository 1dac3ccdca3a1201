"""Association LN (15), Association SN (12) and SAP assignment (17): the object lists and access
rights each association sees, the attributes derived from the session, and every method."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulator.apdu.acse import AARE, AARQ, AssociationResult
from simulator.apdu.acse import ApplicationContextName as Ctx
from simulator.apdu.acse import MechanismName as Mech
from simulator.apdu.common import ActionResult, DataAccessResult
from simulator.apdu.initiate import Conformance, InitiateRequest
from simulator.association import AssociationSession, AssociationState
from simulator.axdr import Data, DataType, Obis
from simulator.cosem.association import ASSOCIATION_LN, ASSOCIATION_SN, access_rights_list, object_list
from simulator.cosem.base import AccessFailure, ActionFailure, AttributeAccess, MethodAccess
from simulator.cosem.registry import get_class
from simulator.model.spec import AssociationSpec, LogicalDeviceSpec, MeterModel, ObjectRights, ObjectSpec, Template
from simulator.security.hls import hls_digest_response
from simulator.server.objects import Meter, ObjectHandle, TimeBase
from tests.association.support import (
    CURRENT,
    ENERGY,
    GB_CLIENT_TITLE,
    MANAGEMENT_LN,
    PASSWORD,
    PUBLIC_LN,
    READER_LN,
    SAP,
    build,
    h,
    handle,
    octets,
    rights,
    session,
)

INITIATE = InitiateRequest(proposed_conformance=Conformance(0x007E1F), client_max_receive_pdu_size=1200).to_bytes()


def u(v: int) -> Data:
    return Data(DataType.UNSIGNED, v)


def associate(m, d, client: int, **aarq) -> AssociationSession:
    s = session(m, d, client)
    aare = AARE.from_bytes(s.handle_aarq(AARQ(user_information=INITIATE, **aarq).to_bytes(), 0.0))
    assert aare.result == AssociationResult.ACCEPTED
    return s


def lls(m, d, password: bytes) -> AssociationResult:
    aarq = AARQ(sender_acse_requirements=True, mechanism_name=Mech.LOW, calling_authentication_value=password,
                user_information=INITIATE).to_bytes()
    return AARE.from_bytes(session(m, d, 2).handle_aarq(aarq, 0.0)).result


@pytest.fixture
def meter():
    return build()


def listed(value: Data) -> list[tuple[int, int, str]]:
    return [(e.value[0].value, e.value[1].value, str(Obis(e.value[2].value))) for e in value.value]


# --- object_list ---------------------------------------------------------------------------------

def test_public_object_list_lists_its_objects_with_their_rights(meter) -> None:
    m, d = meter
    s = associate(m, d, 16)
    value = handle(m, d, CURRENT, s).get(2)
    assert ASSOCIATION_LN[2].attribute(2).type.accepts(value)
    assert listed(value) == [(15, 2, "0.0.40.0.0.255"), (15, 2, "0.0.40.0.1.255"), (8, 0, "0.0.1.0.0.255"),
                             (1, 0, "0.0.42.0.0.255"), (3, 0, "1.0.1.8.0.255")]
    clock = value.value[2].value[3]
    attribute_access, method_access = clock.value
    assert [(a.value[0].value, a.value[1].value, a.value[2].type) for a in attribute_access.value] == [
        (i, 1, DataType.NULL_DATA) for i in range(1, 10)]
    assert [(x.value[0].value, x.value[1].value) for x in method_access.value] == [(i, 0) for i in range(1, 7)]
    association = value.value[0].value[3].value[1]
    assert [x.value[1].value for x in association.value] == [1] * 6  # methods: access
    Data.from_bytes(value.to_bytes())  # encodes


def test_each_association_object_describes_its_own_association(meter) -> None:
    m, d = meter
    s = associate(m, d, 16)
    management = handle(m, d, MANAGEMENT_LN, s).get(2)
    assert len(management.value) == len(d.objects)
    for element in management.value:
        attribute_access = element.value[3].value[0].value
        assert [a.value[1].value for a in attribute_access] == [1] + [3] * (len(attribute_access) - 1)
    assert handle(m, d, PUBLIC_LN, s).get(2) == handle(m, d, CURRENT, s).get(2)


def test_object_list_is_built_once_per_spec_and_shared_by_meters(meter) -> None:
    m, d = meter
    other = Meter(m.model, 1, dict(m.fields), TimeBase(0.0))
    first = handle(m, d, CURRENT, associate(m, d, 16)).get(2)
    second = handle(other, d, CURRENT, associate(other, d, 16)).get(2)
    assert first is second is object_list(d, d.associations[16], 2)
    assert d.associations[16].cache


def test_version_0_writes_boolean_method_access_and_plain_modes(meter) -> None:
    _, d = meter
    authenticated = rights(3, AttributeAccess.AUTHENTICATED_READ_AND_WRITE, MethodAccess.AUTHENTICATED_ACCESS)
    spec = AssociationSpec(9, Ctx.LOGICAL_NAME, Mech.LOWEST, rights={ENERGY: authenticated})
    element = object_list(d, spec, 0).value[0]
    attribute_access, method_access = element.value[3].value
    assert [a.value[1].value for a in attribute_access.value] == [1, 3, 3]
    assert method_access.value[0].value[1] == Data(DataType.BOOLEAN, True)
    assert ASSOCIATION_LN[0].attribute(2).type.accepts(object_list(d, spec, 0))
    version2 = object_list(d, spec, 2).value[0].value[3].value
    assert [a.value[1].value for a in version2[0].value] == [1, 6, 6] and version2[1].value[0].value[1].value == 2


def test_access_selectors_are_listed_for_selective_attributes() -> None:
    profile = get_class(7)
    obj = ObjectSpec(0, profile, Obis("1.0.99.1.0.255"), tuple(None for _ in profile.attributes), ())
    device = LogicalDeviceSpec(1, Template("x"), (obj,), {}, {bytes(obj.logical_name): 0})
    spec = AssociationSpec(16, Ctx.LOGICAL_NAME, Mech.LOWEST, rights={0: rights(7, AttributeAccess.READ_ONLY,
                                                                                  MethodAccess.NO_ACCESS)})
    buffer = object_list(device, spec, 2).value[0].value[3].value[0].value[1]
    assert buffer.value[2] == Data(DataType.ARRAY, (Data(DataType.INTEGER, 1), Data(DataType.INTEGER, 2)))


def test_add_and_remove_object_edit_this_meters_list_only(meter) -> None:
    m, d = meter
    s = associate(m, d, 16)
    current = handle(m, d, CURRENT, s)
    base = current.get(2)
    extra = replace(base.value[4], value=(Data(DataType.LONG_UNSIGNED, 3), u(0), octets(bytes(Obis("1.0.2.8.0.255"))),
                                          base.value[4].value[3]))
    current.invoke(3, extra)
    assert current.get(2).value == base.value + (extra,)
    with pytest.raises(ActionFailure) as twice:
        current.invoke(3, extra)
    assert twice.value.result == ActionResult.OTHER_REASON
    current.invoke(4, base.value[2])  # the clock
    assert listed(current.get(2))[2:] == [(1, 0, "0.0.42.0.0.255"), (3, 0, "1.0.1.8.0.255"), (3, 0, "1.0.2.8.0.255")]
    with pytest.raises(ActionFailure):
        current.invoke(4, base.value[2])
    current.invoke(4, extra)
    assert len(current.get(2).value) == len(base.value) - 1
    other = Meter(m.model, 1, dict(m.fields), TimeBase(0.0))
    assert handle(other, d, CURRENT, associate(other, d, 16)).get(2) == base
    assert handle(m, d, PUBLIC_LN, s).get(2) == current.get(2)  # the same association, kept at its home


def test_without_an_association_the_getters_refuse(meter) -> None:
    m, d = meter
    with pytest.raises(AccessFailure) as failure:
        handle(m, d, CURRENT).get(2)
    assert failure.value.result == DataAccessResult.OBJECT_UNAVAILABLE
    with pytest.raises(ActionFailure) as action:
        handle(m, d, CURRENT).invoke(1, octets(b"x"))
    assert action.value.result == ActionResult.OBJECT_UNAVAILABLE


# --- other attributes ----------------------------------------------------------------------------

def test_partners_context_and_mechanism(meter) -> None:
    m, d = meter
    s = associate(m, d, 16)
    current, management, reader = (handle(m, d, i, s) for i in (CURRENT, MANAGEMENT_LN, READER_LN))
    assert current.get(3).value == (Data(DataType.INTEGER, 16), Data(DataType.LONG_UNSIGNED, 1))
    assert management.get(3).value[0].value == 1
    oid = [u(2), u(16), Data(DataType.LONG_UNSIGNED, 756), u(5), u(8)]
    assert list(current.get(4).value) == oid + [u(1), u(1)]
    assert list(management.get(4).value) == oid + [u(1), u(3)]
    assert list(current.get(6).value) == oid + [u(2), u(0)]
    assert list(reader.get(6).value) == oid + [u(2), u(1)]
    assert list(management.get(6).value) == oid + [u(2), u(5)]


def test_xdlms_context_info_shows_what_was_negotiated(meter) -> None:
    m, d = meter
    s = associate(m, d, 16)
    info = handle(m, d, CURRENT, s).get(5).value
    assert info[0].value.bits == f"{int(s.negotiated.conformance):024b}"
    assert [v.value for v in info[1:5]] == [1024, 1200, 6, 0] and info[5].value == b""
    other = handle(m, d, MANAGEMENT_LN, s).get(5).value  # not negotiated on this channel
    assert [v.value for v in other[1:3]] == [1024, 1024]
    assert ASSOCIATION_LN[2].attribute(5).type.accepts(handle(m, d, CURRENT, s).get(5))


def test_association_status_follows_the_session(meter) -> None:
    m, d = meter
    s = session(m, d, 1)
    current = handle(m, d, CURRENT, s)
    assert current.get(8).value == 0
    aarq = AARQ(application_context_name=Ctx.LOGICAL_NAME_WITH_CIPHERING, calling_ap_title=h(GB_CLIENT_TITLE),
                mechanism_name=Mech.HIGH_GMAC, calling_authentication_value=b"k" * 16, user_information=INITIATE)
    s.handle_aarq(aarq.to_bytes(), 0.0)  # refused: the policy wants a ciphered InitiateRequest
    assert current.get(8).value == 0
    pre = AssociationSession.pre_established(m, d, d.associations[1])
    assert handle(m, d, CURRENT, pre).get(8).value == 2
    assert handle(m, d, PUBLIC_LN, pre).get(8).value == 0  # another association


def test_security_setup_reference(meter) -> None:
    m, d = meter
    s = associate(m, d, 16)
    assert handle(m, d, MANAGEMENT_LN, s).get(9).value == bytes(Obis("0.0.43.0.0.255"))
    assert handle(m, d, CURRENT, s).get(9).value == bytes(6)


def test_secret_is_write_only_and_replaces_the_password(meter) -> None:
    m, d = meter
    s = associate(m, d, 16)
    reader = handle(m, d, READER_LN, s)
    with pytest.raises(AccessFailure) as failure:
        reader.get(7)
    assert failure.value.result == DataAccessResult.READ_WRITE_DENIED
    assert lls(m, d, PASSWORD.encode()) == AssociationResult.ACCEPTED
    reader.write(7, octets(b"new secret"))
    assert lls(m, d, PASSWORD.encode()) == AssociationResult.REJECTED_PERMANENT
    assert lls(m, d, b"new secret") == AssociationResult.ACCEPTED
    other = Meter(m.model, 1, dict(m.fields), TimeBase(0.0))
    assert lls(other, d, PASSWORD.encode()) == AssociationResult.ACCEPTED


def test_secret_written_through_the_current_association_reaches_its_home(meter) -> None:
    m, d = meter
    s = associate(m, d, 2, sender_acse_requirements=True, mechanism_name=Mech.LOW,
                  calling_authentication_value=PASSWORD.encode())
    handle(m, d, CURRENT, s).write(7, octets(b"abcdefgh"))
    assert lls(m, d, b"abcdefgh") == AssociationResult.ACCEPTED


# --- methods -------------------------------------------------------------------------------------

def md5_session(m, d) -> tuple[AssociationSession, bytes]:
    spec = replace(d.associations[2], mechanism=Mech.HIGH_MD5)
    s = AssociationSession(m, d, spec)
    aarq = AARQ(sender_acse_requirements=True, mechanism_name=Mech.HIGH_MD5, calling_authentication_value=b"C" * 16,
                user_information=INITIATE)
    stoc = AARE.from_bytes(s.handle_aarq(aarq.to_bytes(), 0.0)).responding_authentication_value
    assert isinstance(stoc, bytes)
    return s, stoc


def test_reply_to_hls_authentication_runs_passes_3_and_4(meter) -> None:
    m, d = meter
    s, stoc = md5_session(m, d)
    current = handle(m, d, CURRENT, s)
    assert current.get(8).value == 1
    with pytest.raises(ActionFailure) as foreign:
        handle(m, d, MANAGEMENT_LN, s).invoke(1, octets(b"x" * 16))
    assert foreign.value.result == ActionResult.READ_WRITE_DENIED
    answer = current.invoke(1, octets(hls_digest_response(3, stoc, PASSWORD.encode())))
    assert answer == octets(hls_digest_response(3, b"C" * 16, PASSWORD.encode()))
    assert current.get(8).value == 2 and s.authenticated


def test_change_hls_secret(meter) -> None:
    m, d = meter
    s, _ = md5_session(m, d)
    with pytest.raises(ActionFailure):
        handle(m, d, READER_LN, s).invoke(2, octets(b""))
    handle(m, d, READER_LN, s).invoke(2, octets(b"fresh secret"))
    s, stoc = md5_session(m, d)
    handle(m, d, CURRENT, s).invoke(1, octets(hls_digest_response(3, stoc, b"fresh secret")))
    assert s.authenticated


def test_users(meter) -> None:
    m, d = meter
    s = associate(m, d, 16)
    public = handle(m, d, PUBLIC_LN, s)
    ann = Data(DataType.STRUCTURE, (u(7), Data(DataType.VISIBLE_STRING, "ann")))
    public.invoke(5, ann)
    assert public.get(10).value == (ann,)
    with pytest.raises(ActionFailure):
        public.invoke(5, ann)
    AARE.from_bytes(s.handle_aarq(AARQ(user_information=INITIATE).to_bytes(), 0.0))
    assert s.state is AssociationState.IDLE  # now users must say who they are
    s = associate(m, d, 16, calling_ae_invocation_id=7)
    assert handle(m, d, CURRENT, s).get(11) == ann
    assert handle(m, d, MANAGEMENT_LN, s).get(11).value == (u(0), Data(DataType.VISIBLE_STRING, ""))
    public.invoke(6, ann)
    assert public.get(10).value == ()
    with pytest.raises(ActionFailure):
        public.invoke(6, ann)


def test_getters_return_their_declared_types(meter) -> None:
    m, d = meter
    s = associate(m, d, 16, calling_ae_invocation_id=3)
    for index in (CURRENT, PUBLIC_LN, READER_LN, MANAGEMENT_LN):
        obj = handle(m, d, index, s)
        for adef in obj.cls.attributes:
            if adef.name == "secret":
                continue
            value = obj.get(adef.index)
            assert adef.type.accepts(value), (index, adef.name, value)
            Data.from_bytes(value.to_bytes())


# --- Association SN --------------------------------------------------------------------------------

def sn_meter():
    classes = [(12, "0.0.40.0.0.255", 0xFA00), (1, "0.0.42.0.0.255", 0xFD00), (3, "1.0.1.8.0.255", 0x2000)]
    objects = []
    for i, (class_id, ln, sn) in enumerate(classes):
        cls = get_class(class_id)
        values = [None] * max(a.index for a in cls.attributes)
        if class_id == 1:
            values[1] = octets(b"SIM00000001")
        objects.append(ObjectSpec(i, cls, Obis(ln), tuple(values), tuple(None for _ in values), short_name=sn))
    everything = {i: rights(o.cls.class_id, AttributeAccess.READ_ONLY, MethodAccess.ACCESS) for i, o in enumerate(objects)}
    everything[2] = ObjectRights((AttributeAccess.READ_ONLY, AttributeAccess.NO_ACCESS, AttributeAccess.READ_ONLY),
                                 (MethodAccess.NO_ACCESS,))
    spec = AssociationSpec(16, Ctx.SHORT_NAME, Mech.LOW, secret=Template("secret!!"), association_object=0,
                           rights=everything)
    device = LogicalDeviceSpec(1, Template("SIM{serial}"), tuple(objects), {16: spec},
                               {bytes(o.logical_name): o.index for o in objects}, {o.short_name: o.index for o in objects})
    model = MeterModel("sn", "<test>", "sn meter", {1: device})
    meter = Meter(model, 0, {"serial": "00000001"}, TimeBase(0.0))
    s = AssociationSession.pre_established(meter, device, spec)
    return meter, device, s


def test_association_sn_lists_objects_by_base_name() -> None:
    m, d, s = sn_meter()
    assoc = ObjectHandle(m, d, d.objects[0], 0.0, s)
    assert assoc.cls is ASSOCIATION_SN and ASSOCIATION_SN.sn_method_offset == 0x30
    objects = assoc.get(2)
    assert [tuple(v.value for v in e.value) for e in objects.value] == [
        (-0x600, 12, 4, bytes(Obis("0.0.40.0.0.255"))), (-0x300, 1, 0, bytes(Obis("0.0.42.0.0.255"))),
        (0x2000, 3, 0, bytes(Obis("1.0.1.8.0.255")))]
    assert ASSOCIATION_SN.attribute(2).type.accepts(objects)
    rights_list = assoc.get(3)
    assert rights_list is access_rights_list(d, s.spec)
    register = rights_list.value[2].value
    assert register[0].value == 0x2000 and [a.value[1].value for a in register[1].value] == [1, 0, 1]
    assert ASSOCIATION_SN.attribute(3).type.accepts(rights_list)
    assert assoc.get(4).value == bytes(6)


def test_association_sn_read_by_logicalname() -> None:
    m, d, s = sn_meter()
    assoc = ObjectHandle(m, d, d.objects[0], 0.0, s)

    def item(class_id: int, ln: str, attribute: int) -> Data:
        return Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, class_id), octets(bytes(Obis(ln))),
                                         Data(DataType.INTEGER, attribute)))
    result = assoc.invoke(1, Data(DataType.ARRAY, (item(1, "0.0.42.0.0.255", 2), item(1, "0.0.42.0.0.255", 1))))
    assert result == Data(DataType.ARRAY, (octets(b"SIM00000001"), octets(bytes(Obis("0.0.42.0.0.255")))))
    for bad, expected in ((item(3, "1.0.1.8.0.255", 2), ActionResult.READ_WRITE_DENIED),
                          (item(3, "0.0.42.0.0.255", 2), ActionResult.OBJECT_UNDEFINED),
                          (item(1, "9.9.9.9.9.9", 2), ActionResult.OBJECT_UNDEFINED)):
        with pytest.raises(ActionFailure) as failure:
            assoc.invoke(1, Data(DataType.ARRAY, (bad,)))
        assert failure.value.result == expected


def test_association_sn_secret_methods() -> None:
    m, d, s = sn_meter()
    assoc = ObjectHandle(m, d, d.objects[0], 0.0, s)
    assoc.invoke(3, octets(b"changed!"))  # change_LLS_secret
    fresh = AssociationSession(m, d, s.spec)
    aarq = AARQ(application_context_name=Ctx.SHORT_NAME, sender_acse_requirements=True, mechanism_name=Mech.LOW,
                calling_authentication_value=b"changed!", user_information=INITIATE)
    aare = AARE.from_bytes(fresh.handle_aarq(aarq.to_bytes(), 0.0))
    assert aare.result == AssociationResult.ACCEPTED
    assert aare.user_information is not None and aare.user_information[-2:] == b"\xfa\x00"  # vaa-name of SN
    with pytest.raises(ActionFailure) as failure:
        assoc.invoke(6, octets(b"x" * 16))  # reply_to_HLS_authentication with nothing pending
    assert failure.value.result == ActionResult.READ_WRITE_DENIED


# --- SAP assignment ------------------------------------------------------------------------------

def test_sap_assignment_lists_the_logical_devices_and_connects(meter) -> None:
    m, d = meter
    s = associate(m, d, 16)
    sap = handle(m, d, SAP, s)
    ldn = octets(b"SIM00000001")
    assert sap.get(2) == Data(DataType.ARRAY, (Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, 1), ldn)),))
    assert sap.cls.attribute(2).type.accepts(sap.get(2))
    other = Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, 17), octets(b"OTHER")))
    sap.invoke(1, other)
    moved = Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, 17), ldn))
    with pytest.raises(ActionFailure):
        sap.invoke(1, moved)  # SAP 17 is taken
    sap.invoke(1, Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, 0), octets(b"OTHER"))))  # disconnect
    sap.invoke(1, moved)
    assert sap.get(2).value == (moved,)


def test_reading_stores_nothing_per_meter(meter) -> None:
    m, d = meter
    s = associate(m, d, 16)
    for index in (CURRENT, PUBLIC_LN, MANAGEMENT_LN):
        obj = handle(m, d, index, s)
        for adef in obj.cls.attributes:
            if adef.name != "secret":
                obj.get(adef.index)
    assert not m.state.touched and not m.state.journal
