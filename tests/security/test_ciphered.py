"""Ciphered xDLMS APDU containers (simulator/apdu/ciphered.py): codec, tag table, robustness."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.ciphered import (
    GENERAL_CIPHERING, GENERAL_DED_CIPHERING, GENERAL_GLO_CIPHERING, SERVICE_TAGS, AgreedKey, CipheredAPDU,
    CipherStyle, GeneralCipheringAPDU, GeneralDedCiphering, GeneralGloCiphering, IdentifiedKey, WrappedKey,
    ciphered_apdu_from_bytes, ciphered_tag, is_ciphered_tag, plain_tag,
)
from simulator.errors import DecodeError, EncodeError

from .vectors import (
    CIPHERED_CASES, CIPHERED_IDS, GENERAL_GLO_DATA_NOTIFICATION, GENERAL_GLO_TITLE,
    GLO_GET_REQUEST_SC30, CipheredCase, h,
)

# Green Book xDLMS ASN.1 (COSEMpdu CHOICE), written out independently of the module under test.
GREEN_BOOK_TAGS = {
    "glo-initiateRequest": 33, "glo-readRequest": 37, "glo-writeRequest": 38,
    "glo-initiateResponse": 40, "glo-readResponse": 44, "glo-writeResponse": 45,
    "glo-confirmedServiceError": 46, "glo-unconfirmedWriteRequest": 54,
    "glo-informationReportRequest": 56, "ded-initiateRequest": 65, "ded-readRequest": 69,
    "ded-writeRequest": 70, "ded-initiateResponse": 72, "ded-readResponse": 76,
    "ded-writeResponse": 77, "ded-confirmedServiceError": 78, "ded-unconfirmedWriteRequest": 86,
    "ded-informationReportRequest": 88, "glo-get-request": 200, "glo-set-request": 201,
    "glo-event-notification-request": 202, "glo-action-request": 203, "glo-get-response": 204,
    "glo-set-response": 205, "glo-action-response": 207, "ded-get-request": 208,
    "ded-set-request": 209, "ded-event-notification-request": 210, "ded-actionRequest": 211,
    "ded-get-response": 212, "ded-set-response": 213, "ded-action-response": 215,
}


def test_tag_table_matches_the_green_book() -> None:
    table = {row.glo for row in SERVICE_TAGS} | {row.ded for row in SERVICE_TAGS}
    assert table == set(GREEN_BOOK_TAGS.values())
    assert len(SERVICE_TAGS) * 2 == len(GREEN_BOOK_TAGS)
    for row in SERVICE_TAGS:
        # SN / initiate services: glo = plain + 32, ded = plain + 64; LN services: + 8 and + 16.
        glo_offset, ded_offset = (8, 16) if row.plain >= 0xC0 else (32, 64)
        assert (row.glo - row.plain, row.ded - row.plain) == (glo_offset, ded_offset), row.name


@pytest.mark.parametrize("plain, glo, ded", [
    (0xC0, 0xC8, 0xD0), (0xC1, 0xC9, 0xD1), (0xC2, 0xCA, 0xD2), (0xC3, 0xCB, 0xD3),
    (0xC4, 0xCC, 0xD4), (0xC5, 0xCD, 0xD5), (0xC7, 0xCF, 0xD7), (0x01, 0x21, 0x41),
    (0x08, 0x28, 0x48), (0x0E, 0x2E, 0x4E), (0x05, 0x25, 0x45), (0x0C, 0x2C, 0x4C),
])
def test_tag_mapping_both_ways(plain: int, glo: int, ded: int) -> None:
    assert ciphered_tag(plain, dedicated=False) == glo
    assert ciphered_tag(plain, dedicated=True) == ded
    assert plain_tag(glo) == plain == plain_tag(ded)
    assert is_ciphered_tag(glo) and is_ciphered_tag(ded) and not is_ciphered_tag(plain)


@pytest.mark.parametrize("plain", [0x0F, 0xD8, 0xE0, 0x60, 0xC6, 0x00])
def test_apdus_without_service_specific_form(plain: int) -> None:
    with pytest.raises(EncodeError):
        ciphered_tag(plain, dedicated=False)


@pytest.mark.parametrize("tag", [0x00, 0xC0, 0xC6, 0xCE, 0xD6, 0xDB, 0xDC, 0xDD, 0xFF])
def test_plain_tag_rejects_other_tags(tag: int) -> None:
    with pytest.raises(DecodeError):
        plain_tag(tag)


def test_general_tags() -> None:
    """Before issue 8 item 8, 0xDD was no ciphered tag: the meter read it as plaintext."""
    assert (GENERAL_GLO_CIPHERING, GENERAL_DED_CIPHERING, GENERAL_CIPHERING) == (219, 220, 221)
    assert is_ciphered_tag(0xDB) and is_ciphered_tag(0xDC) and is_ciphered_tag(0xDD)


def test_glo_get_request_fields() -> None:
    apdu = ciphered_apdu_from_bytes(h(GLO_GET_REQUEST_SC30))
    assert apdu == CipheredAPDU(0xC8, 0x30, 0x01234567,
                                h("411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"))
    assert apdu.style is CipherStyle.GLO and apdu.plain_tag == 0xC0


def test_general_glo_fields() -> None:
    apdu = GeneralGloCiphering.from_bytes(h(GENERAL_GLO_DATA_NOTIFICATION))
    assert apdu.system_title == h(GENERAL_GLO_TITLE)
    assert (apdu.security_control, apdu.invocation_counter) == (0x30, 0x1E5)
    assert len(apdu.payload) == 0x3B - 5
    assert apdu.style is CipherStyle.GENERAL_GLO
    with pytest.raises(DecodeError, match="0xDC"):
        GeneralDedCiphering.from_bytes(h(GENERAL_GLO_DATA_NOTIFICATION))


@pytest.mark.parametrize("case", CIPHERED_CASES, ids=CIPHERED_IDS)
def test_vectors_round_trip_exactly(case: CipheredCase) -> None:
    apdu = ciphered_apdu_from_bytes(case.apdu)
    assert apdu.to_bytes() == case.apdu
    assert type(apdu).from_bytes(case.apdu) == apdu


@pytest.mark.parametrize("case", CIPHERED_CASES, ids=CIPHERED_IDS)
def test_every_truncation_is_a_decode_error(case: CipheredCase) -> None:
    for n in range(len(case.apdu)):
        with pytest.raises(DecodeError):
            ciphered_apdu_from_bytes(case.apdu[:n])


@pytest.mark.parametrize("case", CIPHERED_CASES, ids=CIPHERED_IDS)
def test_trailing_data_is_a_decode_error(case: CipheredCase) -> None:
    for extra in (b"\x00", b"\x7e\x7e"):
        with pytest.raises(DecodeError, match="trailing"):
            ciphered_apdu_from_bytes(case.apdu + extra)


@pytest.mark.parametrize("case", CIPHERED_CASES, ids=CIPHERED_IDS)
def test_every_bit_flip_decodes_or_raises_decode_error(case: CipheredCase) -> None:
    assert_every_bit_flip_decodes_or_raises(case.apdu)


def assert_every_bit_flip_decodes_or_raises(wire: bytes) -> None:
    """Each single bit flipped either decodes (to exactly those bytes) or raises DecodeError."""
    for i in range(len(wire)):
        for bit in range(8):
            data = bytearray(wire)
            data[i] ^= 1 << bit
            try:
                apdu = ciphered_apdu_from_bytes(bytes(data))
            except DecodeError:
                continue
            assert apdu.to_bytes() == bytes(data)


@pytest.mark.parametrize("size, length_bytes", [
    (122, "7F"), (123, "8180"), (250, "81FF"), (251, "820100"), (65530, "82FFFF"), (65531, "83010000"),
])
def test_long_form_lengths(size: int, length_bytes: str) -> None:
    """Content = SC + IC + payload = size + 5 bytes, in A-XDR short or long form."""
    apdu = CipheredAPDU(0xCC, 0x30, 7, bytes(size))
    wire = apdu.to_bytes()
    assert wire[1:1 + len(length_bytes) // 2] == h(length_bytes)
    assert CipheredAPDU.from_bytes(wire) == apdu
    general = GeneralDedCiphering(bytes(200), 0x30, 7, bytes(size))
    assert general.to_bytes()[1:3] == h("81C8")
    assert GeneralDedCiphering.from_bytes(general.to_bytes()) == general


def test_decoder_accepts_only_its_tags() -> None:
    with pytest.raises(DecodeError, match="not a glo-/ded-"):
        CipheredAPDU.from_bytes(h("C00500000000"))
    with pytest.raises(DecodeError):
        ciphered_apdu_from_bytes(b"")
    with pytest.raises(DecodeError, match="invalid"):
        ciphered_apdu_from_bytes(h("C88530"))  # 0x85: a 5-byte length form


def test_construction_is_validated() -> None:
    with pytest.raises(EncodeError):
        CipheredAPDU(0xC0, 0x30, 0, b"")
    for ic in (-1, 1 << 32):
        with pytest.raises(EncodeError):
            CipheredAPDU(0xC8, 0x30, ic, b"")
        with pytest.raises(EncodeError):
            GeneralGloCiphering(bytes(8), 0x30, ic, b"")
    with pytest.raises(EncodeError):
        GeneralGloCiphering(bytes(8), 0x100, 0, b"")


def test_empty_system_title_and_kinds_differ() -> None:
    glo = GeneralGloCiphering(b"", 0x30, 1, b"\x01")
    assert glo.to_bytes() == h("DB00063000000001" "01")
    assert GeneralGloCiphering.from_bytes(glo.to_bytes()) == glo
    assert glo != GeneralDedCiphering(b"", 0x30, 1, b"\x01")
    assert GeneralDedCiphering(b"", 0x30, 1, b"\x01").style.dedicated


ciphered_tags = st.sampled_from([row.glo for row in SERVICE_TAGS] + [row.ded for row in SERVICE_TAGS])
counters = st.integers(0, 0xFFFFFFFF)


@settings(max_examples=100, deadline=None)
@given(tag=ciphered_tags, sc=st.integers(0, 255), ic=counters, payload=st.binary(max_size=400))
def test_service_specific_round_trip(tag: int, sc: int, ic: int, payload: bytes) -> None:
    apdu = CipheredAPDU(tag, sc, ic, payload)
    assert ciphered_apdu_from_bytes(apdu.to_bytes()) == apdu
    assert apdu.style.dedicated == (tag in {row.ded for row in SERVICE_TAGS})


@settings(max_examples=100, deadline=None)
@given(dedicated=st.booleans(), title=st.binary(max_size=200), sc=st.integers(0, 255), ic=counters,
       payload=st.binary(max_size=400))
def test_general_round_trip(dedicated: bool, title: bytes, sc: int, ic: int, payload: bytes) -> None:
    kind = GeneralDedCiphering if dedicated else GeneralGloCiphering
    apdu = kind(title, sc, ic, payload)
    assert ciphered_apdu_from_bytes(apdu.to_bytes()) == apdu


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=80))
def test_arbitrary_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        apdu = ciphered_apdu_from_bytes(data)
    except DecodeError:
        return
    assert apdu.to_bytes() == data or len(apdu.to_bytes()) < len(data)  # non-minimal lengths re-encode shorter


# --------------------------------------------------------------------------- general-ciphering
# Assembled here field by field from the Green Book's general-ciphering SEQUENCE (transaction-id,
# originator-system-title, recipient-system-title, date-time, other-information: OCTET STRINGs;
# key-info OPTIONAL CHOICE; ciphered-content), A-XDR encoded: no public byte vector exists.
TRANSACTION_ID = h("0000018C2D7A0001")
CLIENT_TITLE, SERVER_TITLE = h("4D4D4D0000000001"), h("53494D0000000001")
DATE_TIME = h("07E8010A030C0000FF800000")  # 2024-01-10 12:00:00, deviation not specified
CONTENT = h("30" "00000457") + h("C3A1B2") + bytes(12)  # SC, IC 1111, a ciphertext and a tag


def general_ciphering(key_info: bytes = b"\x00", date_time: bytes = b"", other: bytes = b"") -> bytes:
    return (b"\xDD" + bytes((len(TRANSACTION_ID),)) + TRANSACTION_ID + b"\x08" + CLIENT_TITLE
            + b"\x08" + SERVER_TITLE + bytes((len(date_time),)) + date_time + bytes((len(other),)) + other
            + key_info + bytes((len(CONTENT),)) + CONTENT)


@pytest.mark.parametrize("key_info, expected", [
    (b"\x00", None),
    (h("01 00 00"), IdentifiedKey(IdentifiedKey.UNICAST)),
    (h("01 00 01"), IdentifiedKey(IdentifiedKey.BROADCAST)),
    (h("01 01 00 18") + bytes(24), WrappedKey(0, bytes(24))),
    (h("01 02 01 01 03 AABBCC"), AgreedKey(h("01"), h("AABBCC"))),
])
def test_general_ciphering_fields(key_info: bytes, expected: object) -> None:
    wire = general_ciphering(key_info, DATE_TIME, b"\x42")
    apdu = ciphered_apdu_from_bytes(wire)
    assert isinstance(apdu, GeneralCipheringAPDU) and apdu.style is CipherStyle.GENERAL
    assert apdu.style.general and not apdu.style.dedicated
    assert (apdu.transaction_id, apdu.system_title, apdu.recipient_system_title) == (
        TRANSACTION_ID, CLIENT_TITLE, SERVER_TITLE)
    assert (apdu.date_time, apdu.other_information, apdu.key_info) == (DATE_TIME, b"\x42", expected)
    assert (apdu.security_control, apdu.invocation_counter, apdu.payload) == (0x30, 1111, CONTENT[5:])
    assert apdu.to_bytes() == wire
    assert apdu.header() == wire[1:wire.index(key_info + bytes((len(CONTENT),)) + CONTENT)]


def test_general_ciphering_robustness() -> None:
    wire = general_ciphering(h("01 00 00"))
    for n in range(len(wire)):
        with pytest.raises(DecodeError):
            ciphered_apdu_from_bytes(wire[:n])
    with pytest.raises(DecodeError, match="trailing"):
        ciphered_apdu_from_bytes(wire + b"\x00")
    with pytest.raises(DecodeError, match="choice 3"):
        ciphered_apdu_from_bytes(general_ciphering(h("01 03 00")))
    with pytest.raises(DecodeError, match="presence flag 2"):
        ciphered_apdu_from_bytes(general_ciphering(h("02 00 00")))
    assert_every_bit_flip_decodes_or_raises(wire)


@settings(max_examples=100, deadline=None)
@given(tid=st.binary(max_size=200), originator=st.binary(max_size=20), recipient=st.binary(max_size=20),
       date_time=st.binary(max_size=12), other=st.binary(max_size=150), sc=st.integers(0, 255), ic=counters,
       key_info=st.one_of(st.none(), st.builds(IdentifiedKey, st.integers(0, 255)),
                          st.builds(WrappedKey, st.integers(0, 255), st.binary(max_size=40)),
                          st.builds(AgreedKey, st.binary(max_size=4), st.binary(max_size=140))),
       payload=st.binary(max_size=300))
def test_general_ciphering_round_trip(tid: bytes, originator: bytes, recipient: bytes, date_time: bytes,
                                      other: bytes, sc: int, ic: int, key_info: object, payload: bytes) -> None:
    apdu = GeneralCipheringAPDU(originator, sc, ic, payload, tid, recipient, date_time, other, key_info)
    assert ciphered_apdu_from_bytes(apdu.to_bytes()) == apdu
