"""Security suite 0 (AES-GCM-128, 12-byte tag) on the payload after the security header."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import LocalProtocolError, RemoteProtocolError
from simulator.security.control import SecurityControl
from simulator.security.errors import SecurityError, SecurityParameterError
from simulator.security.gcm import TAG_LENGTH, gmac, protect, unprotect

from .vectors import (
    CIPHERED_CASES, CIPHERED_IDS, GB_AK, GB_EK, GB_GET_CLOCK, GB_SERVER_TITLE, CipheredCase, h,
)

EK, AK, TITLE, PLAIN = h(GB_EK), h(GB_AK), h(GB_SERVER_TITLE), h(GB_GET_CLOCK)
IC = 0x01234567
SC_A, SC_E, SC_AE = (SecurityControl.from_byte(b) for b in (0x10, 0x20, 0x30))

# Green Book Ed.8 Table 40 parts, as quoted in the jDLMS and dlms-cosem tests (see vectors.py):
TABLE40_CIPHERTEXT = "411312FF935A47566827C467BC"
TABLE40_TAG_AE = "7D825C3BE4A77C3FCC056B6B"
TABLE40_TAG_A = "06725D910F9221D263877516"


def _split(case: CipheredCase) -> tuple[SecurityControl, int, bytes]:
    """Security header and payload of a vector, read by hand (not through the codec under test)."""
    general = case.apdu[0] == 0xDB
    start = 2 + case.apdu[1] if general else 1
    header = start + 1  # one-byte lengths in all vectors
    sc = SecurityControl.from_byte(case.apdu[header])
    ic = int.from_bytes(case.apdu[header + 1:header + 5], "big")
    return sc, ic, case.apdu[header + 5:]


def test_table40_parts() -> None:
    assert protect(SC_AE, TITLE, IC, EK, AK, PLAIN) == h(TABLE40_CIPHERTEXT + TABLE40_TAG_AE)
    assert protect(SC_A, TITLE, IC, EK, AK, PLAIN) == PLAIN + h(TABLE40_TAG_A)
    assert protect(SC_E, TITLE, IC, EK, AK, PLAIN) == h(TABLE40_CIPHERTEXT)
    assert gmac(SC_A, TITLE, IC, EK, AK, PLAIN) == h(TABLE40_TAG_A)


@pytest.mark.parametrize("case", CIPHERED_CASES, ids=CIPHERED_IDS)
def test_vector_unprotects_and_reprotects(case: CipheredCase) -> None:
    sc, ic, payload = _split(case)
    assert unprotect(sc, case.system_title, ic, case.ek, case.ak, payload) == case.plaintext
    assert protect(sc, case.system_title, ic, case.ek, case.ak, case.plaintext) == payload
    if sc.authenticated:
        assert len(payload) == len(case.plaintext) + TAG_LENGTH
    else:
        assert len(payload) == len(case.plaintext)


@pytest.mark.parametrize("case", [c for c in CIPHERED_CASES if _split(c)[0].authenticated],
                         ids=lambda c: c.name)
def test_flipping_any_bit_fails_authentication(case: CipheredCase) -> None:
    sc, ic, payload = _split(case)
    for i in range(len(payload)):
        for bit in (0x01, 0x80):
            bad = bytearray(payload)
            bad[i] ^= bit
            with pytest.raises(SecurityError):
                unprotect(sc, case.system_title, ic, case.ek, case.ak, bytes(bad))


@pytest.mark.parametrize("sc", [SC_A, SC_AE])
def test_wrong_context_fails_authentication(sc: SecurityControl) -> None:
    payload = protect(sc, TITLE, IC, EK, AK, PLAIN)
    wrong = [
        (sc, TITLE, IC + 1, EK, AK),                            # invocation counter
        (sc, h("4D4D4D0000BC614F"), IC, EK, AK),                # system title
        (sc, TITLE, IC, EK, h(GB_EK)),                          # authentication key
        (sc, TITLE, IC, h(GB_AK), AK),                          # block cipher key
        (SecurityControl.from_byte(sc.to_byte() | 0x40), TITLE, IC, EK, AK),  # SC is in the AAD
    ]
    for args in wrong:
        with pytest.raises(SecurityError, match="tag mismatch"):
            unprotect(*args, payload)


@pytest.mark.parametrize("sc", [SC_A, SC_AE])
def test_truncated_below_tag_length(sc: SecurityControl) -> None:
    for n in range(TAG_LENGTH):
        with pytest.raises(SecurityError):
            unprotect(sc, TITLE, IC, EK, AK, bytes(n))


def test_encryption_only_has_no_tag_and_decrypts_anything() -> None:
    assert unprotect(SC_E, TITLE, IC, EK, AK, b"") == b""
    garbled = unprotect(SC_E, TITLE, IC, EK, AK, h(TABLE40_CIPHERTEXT)[:-1] + b"\x00")
    assert garbled[:-1] == PLAIN[:-1] and garbled != PLAIN


@pytest.mark.parametrize("value, reason", [
    (0x90, "compression not supported"),
    (0xB0, "compression not supported"),
    (0x31, "security suite 1 not supported"),
    (0x00, "neither authentication nor encryption"),
    (0x40, "neither authentication nor encryption"),
])
def test_unsupported_security_control(value: int, reason: str) -> None:
    sc = SecurityControl.from_byte(value)
    with pytest.raises(SecurityError, match=reason) as remote:
        unprotect(sc, TITLE, IC, EK, AK, bytes(20))
    assert isinstance(remote.value, RemoteProtocolError)
    with pytest.raises(SecurityParameterError, match=reason) as local:
        protect(sc, TITLE, IC, EK, AK, PLAIN)
    assert isinstance(local.value, LocalProtocolError)


def test_broadcast_bit_is_authenticated_not_refused() -> None:
    sc = SecurityControl.from_byte(0x70)
    payload = protect(sc, TITLE, IC, EK, AK, PLAIN)
    assert unprotect(sc, TITLE, IC, EK, AK, payload) == PLAIN
    assert payload != protect(SC_AE, TITLE, IC, EK, AK, PLAIN)


SECRET_KEY = bytes(range(0xA0, 0xB1))  # 17 bytes, so it must be rejected


@pytest.mark.parametrize("args, what", [
    ((TITLE, IC, SECRET_KEY, AK), "block cipher key"),
    ((TITLE, IC, EK, SECRET_KEY), "authentication key"),
    ((TITLE, IC, EK[:15], AK), "block cipher key"),
    ((TITLE + b"\x00", IC, EK, AK), "system title"),
    ((TITLE, -1, EK, AK), "invocation counter"),
    ((TITLE, 1 << 32, EK, AK), "invocation counter"),
])
def test_bad_parameters_are_local_errors_without_key_bytes(args: tuple, what: str) -> None:
    for call in (protect, unprotect, gmac):
        with pytest.raises(SecurityParameterError, match=what) as err:
            call(SC_AE if call is not gmac else SC_A, *args, PLAIN)
        assert isinstance(err.value, LocalProtocolError)
        text = str(err.value).lower()
        assert SECRET_KEY.hex() not in text and "a0a1" not in text
        assert GB_EK.lower() not in text and GB_AK.lower() not in text


def test_gmac_is_the_auth_only_tag() -> None:
    assert gmac(SC_A, TITLE, IC, EK, AK, PLAIN) == protect(SC_A, TITLE, IC, EK, AK, PLAIN)[-TAG_LENGTH:]
    with pytest.raises(SecurityParameterError):
        gmac(SecurityControl(suite=2, authenticated=True), TITLE, IC, EK, AK, PLAIN)


keys = st.binary(min_size=16, max_size=16)
titles = st.binary(min_size=8, max_size=8)
counters = st.integers(0, 0xFFFFFFFF)
protections = st.sampled_from([0x10, 0x20, 0x30, 0x50, 0x60, 0x70])


@settings(max_examples=60, deadline=None)
@given(sc=protections, title=titles, ic=counters, ek=keys, ak=keys, plain=st.binary(max_size=300))
def test_round_trip(sc: int, title: bytes, ic: int, ek: bytes, ak: bytes, plain: bytes) -> None:
    control = SecurityControl.from_byte(sc)
    payload = protect(control, title, ic, ek, ak, plain)
    assert unprotect(control, title, ic, ek, ak, payload) == plain
    assert len(payload) == len(plain) + (TAG_LENGTH if control.authenticated else 0)
    if control.encrypted and plain:
        assert payload[:len(plain)] != plain or len(plain) < 4
