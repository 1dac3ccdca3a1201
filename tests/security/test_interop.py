"""Interoperability with independent implementations: dlms-cosem 25.1.0 and gurux-dlms 1.0.203.

They are used as peers only: our output must be what they accept and produce, byte for byte.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.ciphered import SERVICE_TAGS, CipherStyle, GeneralGloCiphering
from simulator.security.apdu import CipherKeys, decrypt_apdu, encrypt_apdu
from simulator.security.control import SecurityControl
from simulator.security.gcm import gmac, protect, unprotect
from simulator.security.hls import (
    MECHANISM_MD5, MECHANISM_SHA1, hls_digest_response, hls_gmac_response, verify_hls_gmac,
)
from simulator.security.keywrap import unwrap_key, wrap_key

from .vectors import GB_AK, GB_CLIENT_TITLE, GB_CTOS, GB_EK, GB_GET_CLOCK, GB_SERVER_TITLE, GB_STOC, h

dlms_security = pytest.importorskip("dlms_cosem.security")
dlms_xdlms = pytest.importorskip("dlms_cosem.protocol.xdlms")
gurux_command = pytest.importorskip("gurux_dlms.enums.Command")
from gurux_dlms.AesGcmParameter import AesGcmParameter  # noqa: E402
from gurux_dlms.enums import Authentication, Security  # noqa: E402
from gurux_dlms.GXCiphering import GXCiphering  # noqa: E402
from gurux_dlms.GXDLMSChippering import GXDLMSChippering  # noqa: E402
from gurux_dlms.GXSecure import GXSecure  # noqa: E402

Command = gurux_command.Command
SecurityControlField = dlms_security.SecurityControlField

EK, AK = h(GB_EK), h(GB_AK)
CLIENT, SERVER = h(GB_CLIENT_TITLE), h(GB_SERVER_TITLE)
SC_AE = SecurityControl.from_byte(0x30)

keys = st.binary(min_size=16, max_size=16)
titles = st.binary(min_size=8, max_size=8)
counters = st.integers(0, 0xFFFFFFFF)
plains = st.binary(min_size=1, max_size=200)


# --- tag table against gurux's Command enum -------------------------------------------------

GURUX_NAMES = {
    "initiate-request": ("INITIATE_REQUEST", "GLO_INITIATE_REQUEST", "DED_INITIATE_REQUEST"),
    "read-request": ("READ_REQUEST", "GLO_READ_REQUEST", "DED_READ_REQUEST"),
    "write-request": ("WRITE_REQUEST", "GLO_WRITE_REQUEST", "DED_WRITE_REQUEST"),
    "initiate-response": ("INITIATE_RESPONSE", "GLO_INITIATE_RESPONSE", "DED_INITIATE_RESPONSE"),
    "read-response": ("READ_RESPONSE", "GLO_READ_RESPONSE", "DED_READ_RESPONSE"),
    "write-response": ("WRITE_RESPONSE", "GLO_WRITE_RESPONSE", "DED_WRITE_RESPONSE"),
    "confirmed-service-error": ("CONFIRMED_SERVICE_ERROR", "GLO_CONFIRMED_SERVICE_ERROR",
                                "DED_CONFIRMED_SERVICE_ERROR"),
    "unconfirmed-write-request": (None, None, "DED_UNCONFIRMED_WRITE_REQUEST"),
    "information-report-request": ("INFORMATION_REPORT", None, "DED_INFORMATION_REPORT_REQUEST"),
    "get-request": ("GET_REQUEST", "GLO_GET_REQUEST", "DED_GET_REQUEST"),
    "set-request": ("SET_REQUEST", "GLO_SET_REQUEST", "DED_SET_REQUEST"),
    "event-notification-request": ("EVENT_NOTIFICATION", "GLO_EVENT_NOTIFICATION", "DED_EVENT_NOTIFICATION"),
    "action-request": ("METHOD_REQUEST", "GLO_METHOD_REQUEST", "DED_METHOD_REQUEST"),
    "get-response": ("GET_RESPONSE", "GLO_GET_RESPONSE", "DED_GET_RESPONSE"),
    "set-response": ("SET_RESPONSE", "GLO_SET_RESPONSE", "DED_SET_RESPONSE"),
    "action-response": ("METHOD_RESPONSE", "GLO_METHOD_RESPONSE", "DED_METHOD_RESPONSE"),
}


@pytest.mark.parametrize("row", SERVICE_TAGS, ids=lambda row: row.name)
def test_tags_agree_with_gurux(row) -> None:
    for ours, name in zip((row.plain, row.glo, row.ded), GURUX_NAMES[row.name]):
        if name is not None:  # gurux does not list glo-unconfirmedWrite / glo-informationReport
            assert getattr(Command, name) == ours, name
    assert (Command.GENERAL_GLO_CIPHERING, Command.GENERAL_DED_CIPHERING) == (0xDB, 0xDC)


def test_tags_agree_with_dlms_cosem() -> None:
    assert dlms_xdlms.GlobalCipherInitiateRequest.TAG == 33
    assert dlms_xdlms.GlobalCipherInitiateResponse.TAG == 40
    assert dlms_xdlms.GeneralGlobalCipher.TAG == 0xDB


# --- dlms-cosem: GCM, GMAC, general-glo-ciphering, HLS-GMAC, key wrap ----------------------

@settings(max_examples=40, deadline=None)
@given(title=titles, ic=counters, ek=keys, ak=keys, plain=plains)
def test_dlms_cosem_gcm_both_ways(title: bytes, ic: int, ek: bytes, ak: bytes, plain: bytes) -> None:
    field = SecurityControlField(security_suite=0, authenticated=True, encrypted=True)
    theirs = dlms_security.encrypt(field, title, ic, ek, plain, ak)
    assert protect(SC_AE, title, ic, ek, ak, plain) == theirs
    assert unprotect(SC_AE, title, ic, ek, ak, theirs) == plain
    assert dlms_security.decrypt(field, title, ic, ek, protect(SC_AE, title, ic, ek, ak, plain), ak) == plain


@settings(max_examples=40, deadline=None)
@given(title=titles, ic=counters, ek=keys, ak=keys, data=st.binary(max_size=64))
def test_dlms_cosem_gmac(title: bytes, ic: int, ek: bytes, ak: bytes, data: bytes) -> None:
    field = SecurityControlField(security_suite=0, authenticated=True)
    assert gmac(SecurityControl.from_byte(0x10), title, ic, ek, ak, data) == dlms_security.gmac(
        field, title, ic, ek, ak, data)


def test_dlms_cosem_security_control_field() -> None:
    for value in (0x10, 0x20, 0x30, 0x41, 0x72, 0x90):
        theirs = SecurityControlField.from_bytes(bytes((value,)))
        ours = SecurityControl.from_byte(value)
        assert (ours.suite, ours.authenticated, ours.encrypted, ours.broadcast_key, ours.compressed) == (
            theirs.security_suite, theirs.authenticated, theirs.encrypted, theirs.broadcast_key,
            theirs.compressed)


def test_dlms_cosem_general_glo_both_ways() -> None:
    field = SecurityControlField(security_suite=0, authenticated=True, encrypted=True)
    plain = h(GB_GET_CLOCK)
    theirs = dlms_xdlms.GeneralGlobalCipher(
        system_title=CLIENT, security_control=field, invocation_counter=77,
        ciphered_text=dlms_security.encrypt(field, CLIENT, 77, EK, plain, AK)).to_bytes()
    result = decrypt_apdu(theirs, lambda request: CipherKeys(EK, AK))
    assert (result.apdu, result.style, result.system_title, result.invocation_counter) == (
        plain, CipherStyle.GENERAL_GLO, CLIENT, 77)
    ours = encrypt_apdu(plain, "general-glo", SC_AE, SERVER, 78, EK, AK)
    assert ours == dlms_xdlms.GeneralGlobalCipher(
        system_title=SERVER, security_control=field, invocation_counter=78,
        ciphered_text=dlms_security.encrypt(field, SERVER, 78, EK, plain, AK)).to_bytes()
    parsed = dlms_xdlms.GeneralGlobalCipher.from_bytes(ours)
    assert (parsed.system_title, parsed.invocation_counter) == (SERVER, 78)
    assert parsed.to_plain_apdu(EK, AK) == plain
    assert GeneralGloCiphering.from_bytes(ours).payload == parsed.ciphered_text


def test_dlms_cosem_glo_initiate_request_both_ways() -> None:
    plain = h("01000000065F1F040000FE1FFFFF")
    ours = encrypt_apdu(plain, "glo", SC_AE, CLIENT, 9, EK, AK)
    parsed = dlms_xdlms.GlobalCipherInitiateRequest.from_bytes(ours)
    assert parsed.invocation_counter == 9
    field = SecurityControlField(security_suite=0, authenticated=True, encrypted=True)
    assert dlms_security.decrypt(field, CLIENT, 9, EK, parsed.ciphered_text, AK) == plain
    assert parsed.to_bytes() == ours


def _dlms_cosem_connection(**fields) -> SimpleNamespace:
    return SimpleNamespace(security_suite=0, global_encryption_key=EK, global_authentication_key=AK, **fields)


def test_dlms_cosem_hls_gmac_client_reply_is_accepted_by_us() -> None:
    """dlms-cosem as client computes f(StoC); we, the server, verify it with the client's title."""
    auth = dlms_security.HighLevelSecurityGmacAuthentication(challenge_length=8)
    connection = _dlms_cosem_connection(client_system_title=CLIENT, client_invocation_counter=1,
                                        meter_to_client_challenge=h(GB_STOC))
    reply = auth.hls_generate_reply_data(connection)
    assert reply == hls_gmac_response(CLIENT, 1, EK, AK, h(GB_STOC))
    assert verify_hls_gmac(reply, CLIENT, EK, AK, h(GB_STOC)) == 1


def test_our_hls_gmac_server_reply_is_accepted_by_dlms_cosem() -> None:
    auth = dlms_security.HighLevelSecurityGmacAuthentication(challenge_length=8)
    auth.calling_authentication_value = h(GB_CTOS)
    ours = hls_gmac_response(SERVER, 0x01234567, EK, AK, h(GB_CTOS))
    assert auth.hls_meter_data_is_valid(ours, _dlms_cosem_connection(meter_system_title=SERVER))
    tampered = ours[:-1] + bytes((ours[-1] ^ 1,))
    assert not auth.hls_meter_data_is_valid(tampered, _dlms_cosem_connection(meter_system_title=SERVER))


@settings(max_examples=20, deadline=None)
@given(kek=keys, key=keys)
def test_dlms_cosem_key_wrap(kek: bytes, key: bytes) -> None:
    field = SecurityControlField(security_suite=0)
    assert wrap_key(kek, key) == dlms_security.wrap_key(field, kek, key)
    assert unwrap_key(kek, dlms_security.wrap_key(field, kek, key)) == key


# --- gurux-dlms: glo-/general-glo ciphering, HLS-GMAC, MD5 and SHA-1 ----------------------

GURUX_SECURITY = {0x10: Security.AUTHENTICATION, 0x20: Security.ENCRYPTION, 0x30: Security.AUTHENTICATION_ENCRYPTION}


def _gurux_encrypt(tag: int, sc: int, title: bytes, ic: int, ek: bytes, ak: bytes, plain: bytes) -> bytes:
    parameter = AesGcmParameter(tag, title, ek, ak)
    parameter.security = GURUX_SECURITY[sc]
    parameter.invocationCounter = ic
    return bytes(GXDLMSChippering.encryptAesGcm(parameter, plain))


@settings(max_examples=40, deadline=None)
@given(row=st.sampled_from(SERVICE_TAGS), sc=st.sampled_from(sorted(GURUX_SECURITY)), title=titles,
       ic=counters, ek=keys, ak=keys, body=st.binary(max_size=150))
def test_gurux_glo_ciphering_matches(row, sc: int, title: bytes, ic: int, ek: bytes, ak: bytes, body: bytes) -> None:
    plain = bytes((row.plain,)) + body
    theirs = _gurux_encrypt(row.glo, sc, title, ic, ek, ak, plain)
    assert encrypt_apdu(plain, "glo", SecurityControl.from_byte(sc), title, ic, ek, ak) == theirs
    assert decrypt_apdu(theirs, lambda request: CipherKeys(ek, ak), system_title=title).apdu == plain


@pytest.mark.parametrize("sc", sorted(GURUX_SECURITY))
def test_gurux_general_glo_matches(sc: int) -> None:
    plain = h("0F000001DB00090412345678")
    theirs = _gurux_encrypt(0xDB, sc, SERVER, 0x1E5, EK, AK, plain)
    assert encrypt_apdu(plain, "general-glo", SecurityControl.from_byte(sc), SERVER, 0x1E5, EK, AK) == theirs
    assert decrypt_apdu(theirs, lambda request: CipherKeys(EK, AK)).apdu == plain


@pytest.mark.parametrize("title, ic, challenge", [(CLIENT, 1, GB_STOC), (SERVER, 0x01234567, GB_CTOS),
                                                  (CLIENT, 0xFFFFFFFF, "00" * 64)])
def test_gurux_hls_gmac_password(title: bytes, ic: int, challenge: str) -> None:
    cipher = GXCiphering(title)
    cipher.blockCipherKey, cipher.authenticationKey, cipher.invocationCounter = EK, AK, ic
    theirs = bytes(cipher.generateGmacPassword(h(challenge)))
    assert hls_gmac_response(title, ic, EK, AK, h(challenge)) == theirs
    assert verify_hls_gmac(theirs, title, EK, AK, h(challenge)) == ic


@pytest.mark.parametrize("mechanism, authentication", [(MECHANISM_MD5, Authentication.HIGH_MD5),
                                                       (MECHANISM_SHA1, Authentication.HIGH_SHA1)])
def test_gurux_digest_mechanisms(mechanism: int, authentication) -> None:
    settings_ = SimpleNamespace(authentication=authentication)
    challenge, secret = h(GB_STOC), b"Gurux1234"
    theirs = bytes(GXSecure.secure(settings_, None, 0, challenge, secret))
    assert hls_digest_response(mechanism, challenge, secret) == theirs
