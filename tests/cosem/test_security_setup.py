"""Security setup (64): attributes, security_activate, key_transfer with AES key wrap (and when
the new keys take effect), and the refusal of the suite 1/2 methods."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulator.apdu.common import ActionResult
from simulator.association import AssociationSession, PolicyViolation
from simulator.security.policy import policy_flags, strengthens
from simulator.state import SecurityState
from simulator.axdr import Data, DataType
from simulator.cosem.base import ActionFailure
from simulator.cosem.registry import get_class
from simulator.cosem.security_setup import SECURITY_SETUP, SECURITY_SETUP_V0
from simulator.model.spec import LogicalDeviceSpec, SecurityPolicy
from simulator.security.apdu import CipherKeys, decrypt_apdu, encrypt_apdu
from simulator.security.control import SecurityControl
from simulator.security.errors import SecurityError, SecurityParameterError
from simulator.security.keywrap import KeyId, wrap_key
from tests.association.support import GB_AK, GB_CLIENT_TITLE, GB_EK, GB_SERVER_TITLE, SETUP, build, h, handle, octets
from tests.cosem.meter_fixture import TestMeter

# RFC 3394 section 4.1, as used for key transfer in
# https://github.com/xdom/jdlms/blob/968f7232a0876df39cc05209fce7850ec9c1beca/src/test/java/org/openmuc/jdlms/SecurityUtilsTest.java
KEK = "000102030405060708090A0B0C0D0E0F"
KEY_DATA = "00112233445566778899AABBCCDDEEFF"
WRAPPED = "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"

GET_CLOCK = bytes.fromhex("C0010000080000010000FF0200")
SC_AE = SecurityControl.from_byte(0x30)


def enum(v: int) -> Data:
    return Data(DataType.ENUM, v)


def key_data(*items: tuple[int, bytes]) -> Data:
    return Data(DataType.ARRAY, tuple(Data(DataType.STRUCTURE, (enum(k), octets(w))) for k, w in items))


@pytest.fixture
def meter():
    return build()


def setup_with(device: LogicalDeviceSpec, **changes) -> LogicalDeviceSpec:
    objects = list(device.objects)
    objects[SETUP] = replace(objects[SETUP], **changes)
    return replace(device, objects=tuple(objects))


# --- attributes ------------------------------------------------------------------------------------

def test_attributes_from_the_model_and_defaults(meter) -> None:
    m, d = meter
    setup = handle(m, d, SETUP)
    assert setup.cls is SECURITY_SETUP and get_class(64, 0) is SECURITY_SETUP_V0
    assert setup.get(2) == enum(0) and setup.get(3) == enum(0)
    assert setup.get(4) == octets(b"") and setup.get(5) == octets(h(GB_SERVER_TITLE))
    assert setup.get(6) == Data(DataType.ARRAY, ())
    for adef in setup.cls.attributes:
        assert adef.type.accepts(setup.get(adef.index))
    assert [m_.name for m_ in setup.cls.methods] == [
        "security_activate", "key_transfer", "key_agreement", "generate_key_pair", "generate_certificate_request",
        "import_certificate", "export_certificate", "remove_certificate"]


def test_keys_come_from_the_templates_and_never_show(meter) -> None:
    m, d = meter
    material = handle(m, d, SETUP).security()
    assert material.key(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY) == h(GB_EK)
    assert material.key(KeyId.AUTHENTICATION_KEY) == h(GB_AK)
    assert material.key(KeyId.MASTER_KEY) == h(KEK)
    assert material.key(KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY) is None
    assert handle(m, d, SETUP).security() is material  # kept per meter
    assert GB_EK.lower() not in repr(material).lower()
    with pytest.raises(SecurityParameterError) as error:
        SecurityState({KeyId.MASTER_KEY: b"short"})
    assert "short" not in str(error.value)


def test_untouched_meter_stores_nothing(meter) -> None:
    m, _ = meter
    assert not m.state.touched and not m.state.journal


# --- security_activate -------------------------------------------------------------------------------

def test_security_activate_only_strengthens(meter) -> None:
    m, d = meter
    setup = handle(m, d, SETUP)
    setup.invoke(1, enum(0x24))  # authenticated request + response
    assert setup.get(2) == enum(0x24)
    setup.invoke(1, enum(0x6C))  # and encrypted
    for weaker in (0x24, 0x00, 0x48):
        with pytest.raises(ActionFailure) as failure:
            setup.invoke(1, enum(weaker))
        assert failure.value.result == ActionResult.OTHER_REASON
    for unsupported in (0x01, 0x7C, 0xEC):  # v0 value, signed request, signed response
        with pytest.raises(ActionFailure):
            setup.invoke(1, enum(unsupported))
    assert setup.get(2) == enum(0x6C)


def test_security_activate_version_0() -> None:
    meter = TestMeter([(64, "0.0.43.0.0.255", {})], version={64: 0})
    setup = meter.obj("0.0.43.0.0.255")
    assert setup.cls is SECURITY_SETUP_V0
    setup.invoke(1, enum(1))
    setup.invoke(1, enum(3))
    for bad in (2, 4, 0x24):
        with pytest.raises(ActionFailure):
            setup.invoke(1, enum(bad))


def test_policy_values_of_both_versions() -> None:
    assert policy_flags(3) == policy_flags(0x0C) == policy_flags(0x6C)
    assert policy_flags(1).authenticated and not policy_flags(1).encrypted
    assert policy_flags(0x08).encrypted and not policy_flags(0x08).authenticated
    assert not policy_flags(0x60).any  # response protection only
    assert strengthens(0x6C, 0x24) and not strengthens(0x24, 0x6C)


def test_activated_policy_is_enforced_for_the_association(meter) -> None:
    m, d = meter
    handle(m, d, SETUP).set(4, octets(h(GB_CLIENT_TITLE)))
    s = AssociationSession.pre_established(m, d, replace(d.associations[1], security_policy=SecurityPolicy.NONE))
    assert s.open(GET_CLOCK, 0.0)[1] is None
    handle(m, d, SETUP).invoke(1, enum(0x0C))
    with pytest.raises(PolicyViolation):
        s.open(GET_CLOCK, 0.0)


# --- key_transfer --------------------------------------------------------------------------------------

def test_rfc3394_vector_unwraps_under_the_master_key() -> None:
    assert wrap_key(h(KEK), h(KEY_DATA)) == h(WRAPPED)


def test_key_transfer_takes_effect_after_the_response(meter) -> None:
    m, d = meter
    setup = handle(m, d, SETUP)
    setup.set(4, octets(h(GB_CLIENT_TITLE)))
    s = AssociationSession.pre_established(m, d, d.associations[1])
    material = setup.security()
    request = encrypt_apdu(GET_CLOCK, "glo", SC_AE, h(GB_CLIENT_TITLE), 10, h(GB_EK), h(GB_AK))
    _, protection = s.open(request, 0.0)
    assert material.last_received(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY, h(GB_CLIENT_TITLE)) == 10

    with_session = handle(m, d, SETUP, s)
    with_session.invoke(2, key_data((0, h(WRAPPED))))
    assert material.staged and material.key(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY) == h(GB_EK)

    response = s.seal(bytes.fromhex("C701C10000"), protection, 0.0)  # the ACTION response: old key
    old = decrypt_apdu(response, lambda r: CipherKeys(h(GB_EK), h(GB_AK)), system_title=h(GB_SERVER_TITLE))
    assert old.apdu == bytes.fromhex("C701C10000")
    assert material.key(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY) == h(KEY_DATA) and not material.staged
    # the clients' counters restart under the new key; ours goes on (it was 1, the response took it)
    unicast = KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY
    assert material.transmit(unicast) == 2 and material.last_received(unicast, h(GB_CLIENT_TITLE)) is None

    with pytest.raises(SecurityError):
        s.open(encrypt_apdu(GET_CLOCK, "glo", SC_AE, h(GB_CLIENT_TITLE), 11, h(GB_EK), h(GB_AK)), 0.0)
    plain, protection = s.open(encrypt_apdu(GET_CLOCK, "glo", SC_AE, h(GB_CLIENT_TITLE), 1, h(KEY_DATA), h(GB_AK)), 0.0)
    assert plain == GET_CLOCK
    sealed = s.seal(b"\xc4\x01\xc1\x00\x00", protection, 0.0)
    assert decrypt_apdu(sealed, lambda r: CipherKeys(h(KEY_DATA), h(GB_AK)), system_title=h(GB_SERVER_TITLE)).apdu \
        == b"\xc4\x01\xc1\x00\x00"


def test_the_same_key_again_restarts_no_counter(meter) -> None:
    """Issue 8 review: a key_transfer of the key already in force reset both counters, so a
    replayed request was accepted and the meter sealed two answers with one GCM IV."""
    m, d = meter
    material = handle(m, d, SETUP).security()
    unicast = KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY
    material.accept(unicast, h(GB_CLIENT_TITLE), 7)
    used = {material.next_transmit(unicast) for _ in range(3)}
    material.stage(unicast, h(GB_EK))
    material.commit()
    with pytest.raises(SecurityError):
        material.accept(unicast, h(GB_CLIENT_TITLE), 7)
    assert material.next_transmit(unicast) not in used


def test_a_key_that_comes_back_never_repeats_our_counter(meter) -> None:
    m, d = meter
    material = handle(m, d, SETUP).security()
    unicast = KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY
    used = {material.next_transmit(unicast) for _ in range(3)}
    for key in (b"B" * 16, h(GB_EK)):  # to another key and back to the first
        material.stage(unicast, key)
        material.commit()
    assert material.next_transmit(unicast) not in used


def test_key_transfer_of_several_keys(meter) -> None:
    m, d = meter
    setup = handle(m, d, SETUP)
    new_ak, new_broadcast, new_master = b"A" * 16, b"B" * 16, b"M" * 16
    setup.invoke(2, key_data((2, wrap_key(h(KEK), new_ak)), (1, wrap_key(h(KEK), new_broadcast)),
                             (3, wrap_key(h(KEK), new_master))))
    material = setup.security()
    material.commit()
    assert material.key(KeyId.AUTHENTICATION_KEY) == new_ak
    assert material.key(KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY) == new_broadcast
    assert material.key(KeyId.MASTER_KEY) == new_master
    setup.invoke(2, key_data((0, wrap_key(new_master, h(KEY_DATA)))))  # the new master key wraps now
    material.commit()
    assert material.key(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY) == h(KEY_DATA)


@pytest.mark.parametrize("items", [
    [(0, h(WRAPPED)), (2, h(WRAPPED)[:-1] + b"\x00")],  # second entry fails the integrity check
    [(0, h(WRAPPED)[:16])],  # wrong length
    [(4, h(WRAPPED))],  # no such key id
])
def test_key_transfer_refuses_all_or_nothing(meter, items) -> None:
    m, d = meter
    setup = handle(m, d, SETUP)
    with pytest.raises(ActionFailure) as failure:
        setup.invoke(2, key_data(*items))
    assert failure.value.result == ActionResult.OTHER_REASON
    assert not setup.security().staged


def test_key_transfer_without_master_key(meter) -> None:
    m, d = meter
    secrets = tuple(s for s in d.objects[SETUP].secrets if s[0] != "master_key")
    d2 = setup_with(d, secrets=secrets)
    with pytest.raises(ActionFailure):
        handle(m, d2, SETUP).invoke(2, key_data((0, h(WRAPPED))))


def test_key_transfer_when_the_profile_lacks_the_keys() -> None:
    m, d = build(fields={"serial": "1"})
    with pytest.raises(ActionFailure) as failure:
        handle(m, d, SETUP).invoke(2, key_data((0, h(WRAPPED))))
    assert failure.value.result == ActionResult.OTHER_REASON


def test_version_0_global_key_transfer_has_no_master_key(meter) -> None:
    m, d = meter
    d0 = setup_with(d, cls=SECURITY_SETUP_V0, values=(None,) * 5, encoded=(None,) * 5)
    setup = handle(m, d0, SETUP)
    assert setup.cls.method(2).name == "global_key_transfer"
    setup.invoke(2, key_data((0, h(WRAPPED))))
    with pytest.raises(ActionFailure):
        setup.invoke(2, key_data((3, h(WRAPPED))))


@pytest.mark.parametrize("index", [3, 4, 5, 6, 7, 8])
def test_suite_1_and_2_methods_are_refused(meter, index: int) -> None:
    m, d = meter
    with pytest.raises(ActionFailure) as failure:
        handle(m, d, SETUP).invoke(index, None)
    assert failure.value.result == ActionResult.OTHER_REASON
    assert "not implemented" in str(failure.value)
