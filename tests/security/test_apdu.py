"""Whole-APDU ciphering (simulator/security/apdu.py) on the public vectors and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.ciphered import SERVICE_TAGS, CipherStyle
from simulator.errors import DecodeError, EncodeError, RemoteProtocolError
from simulator.security.apdu import CipherKeys, DecipheredAPDU, GeneralExchange, KeyRequest, decrypt_apdu, encrypt_apdu
from simulator.security.control import SecurityControl
from simulator.security.errors import SecurityError, SecurityParameterError

from .vectors import (
    CIPHERED_CASES, CIPHERED_IDS, GB_AK, GB_CLIENT_TITLE, GB_EK, GB_GET_CLOCK, GB_SERVER_TITLE,
    GLO_GET_REQUEST_SC30, CipheredCase, h,
)

EK, AK = h(GB_EK), h(GB_AK)
SC_AE = SecurityControl.from_byte(0x30)


def lookup_for(case: CipheredCase, requests: list[KeyRequest] | None = None):
    """A key lookup that knows only the global keys (no dedicated key) and records its requests."""
    def lookup(request: KeyRequest) -> CipherKeys | None:
        if requests is not None:
            requests.append(request)
        return None if request.dedicated else CipherKeys(case.ek, case.ak)
    return lookup


@pytest.mark.parametrize("case", CIPHERED_CASES, ids=CIPHERED_IDS)
def test_vector_decrypts_and_reencrypts_exactly(case: CipheredCase) -> None:
    requests: list[KeyRequest] = []
    result = decrypt_apdu(case.apdu, lookup_for(case, requests), system_title=case.system_title)
    assert result.apdu == case.plaintext
    assert result.system_title == case.system_title
    assert result.ciphered_tag == case.apdu[0]
    assert requests == [KeyRequest(case.system_title, dedicated=False, broadcast=False)]
    again = encrypt_apdu(result.apdu, result.style, result.security_control, result.system_title,
                         result.invocation_counter, case.ek, case.ak)
    assert again == case.apdu


def test_table40_details() -> None:
    case = next(c for c in CIPHERED_CASES if c.name == "GLO_GET_REQUEST_SC30")
    result = decrypt_apdu(case.apdu, lookup_for(case), system_title=case.system_title)
    assert result == DecipheredAPDU(h(GB_GET_CLOCK), CipherStyle.GLO, 0xC8, SC_AE, h(GB_SERVER_TITLE),
                                    0x01234567)


def test_general_glo_uses_its_own_system_title() -> None:
    case = next(c for c in CIPHERED_CASES if c.name == "GENERAL_GLO_DATA_NOTIFICATION")
    result = decrypt_apdu(case.apdu, lookup_for(case), system_title=h(GB_CLIENT_TITLE))
    assert result.apdu == case.plaintext and result.system_title == case.system_title
    assert result.style is CipherStyle.GENERAL_GLO


@pytest.mark.parametrize("case", CIPHERED_CASES, ids=CIPHERED_IDS)
def test_any_bit_flip_fails_or_shows_weaker_protection(case: CipheredCase) -> None:
    """Suite 0 authenticates SC but not the APDU tag: a flipped tag must still be caught, and a
    flipped A bit (downgrade to encryption-only) is visible in the result for the policy check."""
    original = decrypt_apdu(case.apdu, lookup_for(case), system_title=case.system_title)
    for i in range(len(case.apdu)):
        for bit in range(8):
            data = bytearray(case.apdu)
            data[i] ^= 1 << bit
            try:
                result = decrypt_apdu(bytes(data), lookup_for(case), system_title=case.system_title)
            except (DecodeError, SecurityError):
                continue
            assert not original.security_control.authenticated or (
                not result.security_control.authenticated), f"byte {i} bit {bit} went unnoticed"


@pytest.mark.parametrize("case", [c for c in CIPHERED_CASES if c.apdu[0] != 0xDB], ids=lambda c: c.name)
def test_flipped_tag_changes_service_and_is_rejected(case: CipheredCase) -> None:
    """glo-get-request -> glo-set-request passes GCM (tag is not in the AAD); the inner tag check stops it."""
    data = bytes((case.apdu[0] ^ 0x01,)) + case.apdu[1:]
    with pytest.raises(RemoteProtocolError):
        decrypt_apdu(data, lookup_for(case), system_title=case.system_title)


def test_sender_system_title_is_required() -> None:
    case = CIPHERED_CASES[0]
    with pytest.raises(SecurityError, match="system title unknown"):
        decrypt_apdu(case.apdu, lookup_for(case))
    with pytest.raises(SecurityError, match="5 bytes"):
        decrypt_apdu(case.apdu, lookup_for(case), system_title=bytes(5))


def test_general_glo_with_empty_title_falls_back_to_the_association() -> None:
    title = h(GB_CLIENT_TITLE)
    wire = encrypt_apdu(h(GB_GET_CLOCK), "general-glo", SC_AE, title, 5, EK, AK)
    empty = wire[:1] + b"\x00" + wire[10:]
    keys = lambda request: CipherKeys(EK, AK)  # noqa: E731
    assert decrypt_apdu(empty, keys, system_title=title).apdu == h(GB_GET_CLOCK)
    with pytest.raises(SecurityError):
        decrypt_apdu(empty, keys)
    wrong = wire[:1] + b"\x04" + title[:4] + wire[10:]
    with pytest.raises(SecurityError, match="4 bytes"):
        decrypt_apdu(wrong, keys, system_title=title)


def test_missing_key_is_rejected() -> None:
    with pytest.raises(SecurityError, match="no global key"):
        decrypt_apdu(h(GLO_GET_REQUEST_SC30), lambda request: None, system_title=h(GB_SERVER_TITLE))
    ded = encrypt_apdu(h(GB_GET_CLOCK), "ded", SC_AE, h(GB_SERVER_TITLE), 1, EK, AK)
    with pytest.raises(SecurityError, match="no dedicated key"):
        decrypt_apdu(ded, lambda request: None if request.dedicated else CipherKeys(EK, AK),
                     system_title=h(GB_SERVER_TITLE))


def test_key_request_names_broadcast_and_dedicated() -> None:
    requests: list[KeyRequest] = []

    def lookup(request: KeyRequest) -> CipherKeys:
        requests.append(request)
        return CipherKeys(EK, AK)

    title = h(GB_SERVER_TITLE)
    sc = SecurityControl.from_byte(0x70)
    for style in CipherStyle:
        decrypt_apdu(encrypt_apdu(h(GB_GET_CLOCK), style, sc, title, 9, EK, AK), lookup, system_title=title)
    assert [(r.dedicated, r.broadcast) for r in requests] == [(False, True), (True, True)] * 2 + [(False, True)]


@pytest.mark.parametrize("style, tag", [("glo", 0xCC), ("ded", 0xD4), ("general-glo", 0xDB),
                                        ("general-ded", 0xDC)])
def test_answer_in_the_style_of_the_request(style: str, tag: int) -> None:
    client, server = h(GB_CLIENT_TITLE), h(GB_SERVER_TITLE)
    request = encrypt_apdu(h(GB_GET_CLOCK), style, SC_AE, client, 41, EK, AK)
    received = decrypt_apdu(request, lambda r: CipherKeys(EK, AK), system_title=client)
    response_plain = h("C401000009060001020304050600")
    response = encrypt_apdu(response_plain, received.style, received.security_control, server, 7, EK, AK)
    assert response[0] == tag
    assert decrypt_apdu(response, lambda r: CipherKeys(EK, AK), system_title=server).apdu == response_plain


def test_encrypt_errors() -> None:
    title = h(GB_SERVER_TITLE)
    with pytest.raises(SecurityParameterError, match="style"):
        encrypt_apdu(h(GB_GET_CLOCK), "glob", SC_AE, title, 1, EK, AK)
    with pytest.raises(EncodeError, match="empty"):
        encrypt_apdu(b"", "glo", SC_AE, title, 1, EK, AK)
    with pytest.raises(EncodeError, match="0x0F"):  # data-notification has no glo- form
        encrypt_apdu(h("0F00000001000900"), "glo", SC_AE, title, 1, EK, AK)
    assert encrypt_apdu(h("0F00000001000900"), "general-glo", SC_AE, title, 1, EK, AK)[0] == 0xDB


def test_key_repr_hides_key_bytes() -> None:
    assert "0001" not in repr(CipherKeys(EK, AK)) and "d0d1" not in repr(CipherKeys(EK, AK)).lower()


plain_apdus = st.builds(lambda tag, body: bytes((tag,)) + body,
                        st.sampled_from([row.plain for row in SERVICE_TAGS]), st.binary(max_size=200))


@settings(max_examples=80, deadline=None)
@given(plain=plain_apdus, style=st.sampled_from(list(CipherStyle)),
       sc=st.sampled_from([0x10, 0x20, 0x30, 0x50, 0x60, 0x70]), ic=st.integers(0, 0xFFFFFFFF),
       title=st.binary(min_size=8, max_size=8), ek=st.binary(min_size=16, max_size=16),
       ak=st.binary(min_size=16, max_size=16))
def test_round_trip(plain: bytes, style: CipherStyle, sc: int, ic: int, title: bytes, ek: bytes, ak: bytes) -> None:
    control = SecurityControl.from_byte(sc)
    wire = encrypt_apdu(plain, style, control, title, ic, ek, ak)
    result = decrypt_apdu(wire, lambda r: CipherKeys(ek, ak), system_title=title)
    general = GeneralExchange(b"", title, b"", False, False) if style is CipherStyle.GENERAL else None
    assert result == DecipheredAPDU(plain, style, wire[0], control, title, ic, general)
