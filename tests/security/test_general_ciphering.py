"""general-ciphering (0xDD) in simulator/security/apdu.py against an independent peer.

The requests and the checks of the answers come from general_ciphering_peer.py (the tests' own
encoder and AES-GCM from `cryptography`); the wire behaviour is in
tests/runtime/test_general_ciphering.py.
"""

from __future__ import annotations

import pytest

from simulator.apdu.ciphered import CipherStyle
from simulator.association import Protection
from simulator.decode import DecodeOptions, decode
from simulator.security.apdu import CipherKeys, GeneralExchange, KeyRequest, decrypt_apdu, encrypt_apdu
from simulator.security.control import SecurityControl
from simulator.security.errors import SecurityError
from simulator.server.services import response_limit

from . import general_ciphering_peer as peer
from .vectors import GB_AK, GB_CLIENT_TITLE, GB_EK, GB_GET_CLOCK, GB_SERVER_TITLE, h

EK, AK = h(GB_EK), h(GB_AK)
BROADCAST_EK = bytes(range(16, 32))
CLIENT, SERVER = h(GB_CLIENT_TITLE), h(GB_SERVER_TITLE)
GET_CLOCK = h(GB_GET_CLOCK)
GET_RESPONSE = h("C401C100090C07E8010A030C000000800000")  # a clock date-time, as a meter answers
TID = h("0000018C2D7A0001")


def keys(request: KeyRequest) -> CipherKeys | None:
    return None if request.dedicated else CipherKeys(BROADCAST_EK if request.broadcast else EK, AK)


@pytest.mark.parametrize("header_in_aad", [False, True], ids=["aad-sc-ak", "aad-with-header"])
@pytest.mark.parametrize("key_info", [peer.NO_KEY_INFO, peer.UNICAST_KEY], ids=["no-key-info", "identified-key"])
def test_opens_a_request_and_answers_in_kind(header_in_aad: bool, key_info: bytes) -> None:
    wire = peer.request(GET_CLOCK, ek=EK, ak=AK, originator=CLIENT, recipient=SERVER, ic=77, transaction_id=TID,
                        date_time=h("07E8010A030C0000FF800000"), key_info=key_info, header_in_aad=header_in_aad)
    opened = decrypt_apdu(wire, keys)
    assert (opened.apdu, opened.style, opened.ciphered_tag) == (GET_CLOCK, CipherStyle.GENERAL, 0xDD)
    assert (opened.system_title, opened.invocation_counter) == (CLIENT, 77)
    general = opened.general
    assert general is not None and (general.transaction_id, general.client_system_title) == (TID, CLIENT)
    assert (general.recipient_system_title, general.identified_key) == (SERVER, key_info != peer.NO_KEY_INFO)
    assert general.header_in_aad is header_in_aad

    answer = encrypt_apdu(GET_RESPONSE, opened.style, opened.security_control, SERVER, 5, EK, AK, general)
    got = peer.open_answer(answer, ek=EK, ak=AK, header_in_aad=header_in_aad)
    assert (got.transaction_id, got.originator, got.recipient) == (TID, SERVER, CLIENT)
    assert (got.date_time, got.other, got.key_info) == (b"", b"", key_info)
    assert (got.sc, got.ic, got.plain) == (0x30, 5, GET_RESPONSE)


def test_empty_originator_falls_back_to_the_association_title() -> None:
    wire = peer.request(GET_CLOCK, ek=EK, ak=AK, originator=b"", recipient=b"", ic=3, aad_originator=CLIENT)
    with pytest.raises(SecurityError, match="unknown"):
        decrypt_apdu(wire, keys)
    assert decrypt_apdu(wire, keys, system_title=CLIENT).apdu == GET_CLOCK


@pytest.mark.parametrize("sc", [0x10, 0x20])
def test_authentication_only_and_encryption_only(sc: int) -> None:
    wire = peer.request(GET_CLOCK, ek=EK, ak=AK, originator=CLIENT, recipient=SERVER, ic=9, sc=sc)
    assert decrypt_apdu(wire, keys).apdu == GET_CLOCK


def test_broadcast_key_by_security_control_or_identified_key() -> None:
    for key_info in (peer.NO_KEY_INFO, peer.BROADCAST_KEY):
        wire = peer.request(GET_CLOCK, ek=BROADCAST_EK, ak=AK, originator=CLIENT, recipient=SERVER, ic=4, sc=0x70,
                            key_info=key_info)
        assert decrypt_apdu(wire, keys).security_control.broadcast_key


@pytest.mark.parametrize("key_info, sc, reason", [
    (h("01 01 00 18") + bytes(24), 0x30, "wrapped-key is not supported"),
    (h("01 02 01 01 02 AABB"), 0x30, "agreed-key is not supported"),
    (h("01 00 07"), 0x30, "key-id 7"),
    (peer.BROADCAST_KEY, 0x30, "different keys"),
    (peer.UNICAST_KEY, 0x70, "different keys"),
], ids=["wrapped-key", "agreed-key", "unknown-key-id", "broadcast-key-unicast-sc", "unicast-key-broadcast-sc"])
def test_keys_the_meter_cannot_use_are_refused(key_info: bytes, sc: int, reason: str) -> None:
    wire = peer.request(GET_CLOCK, ek=EK, ak=AK, originator=CLIENT, recipient=SERVER, ic=4, sc=sc, key_info=key_info)
    with pytest.raises(SecurityError, match=reason):
        decrypt_apdu(wire, keys)


def test_a_changed_header_fails_only_when_authenticated() -> None:
    """With the header in the AAD, changing the transaction id breaks the tag; without, it does not."""
    for header_in_aad in (False, True):
        wire = bytearray(peer.request(GET_CLOCK, ek=EK, ak=AK, originator=CLIENT, recipient=SERVER, ic=4,
                                      transaction_id=TID, header_in_aad=header_in_aad))
        wire[2] ^= 0x01  # first octet of the transaction id
        if header_in_aad:
            with pytest.raises(SecurityError, match="tag"):
                decrypt_apdu(bytes(wire), keys)
        else:
            assert decrypt_apdu(bytes(wire), keys).general.transaction_id[0] == TID[0] ^ 0x01


def test_a_wrong_key_is_refused() -> None:
    wire = peer.request(GET_CLOCK, ek=bytes(16), ak=AK, originator=CLIENT, recipient=SERVER, ic=4)
    with pytest.raises(SecurityError, match="tag"):
        decrypt_apdu(wire, keys)


def test_unsolicited_general_ciphering_round_trips() -> None:
    wire = encrypt_apdu(GET_RESPONSE, "general", SecurityControl.from_byte(0x30), SERVER, 8, EK, AK)
    got = peer.open_answer(wire, ek=EK, ak=AK)
    assert (got.transaction_id, got.originator, got.recipient, got.plain) == (b"", SERVER, b"", GET_RESPONSE)


def test_decode_shows_every_field_and_the_deciphered_apdu() -> None:
    """`cosem-sim decode` of a general-ciphering request; the wrapped key's material is not shown."""
    wire = peer.request(GET_CLOCK, ek=EK, ak=AK, originator=CLIENT, recipient=SERVER, ic=5, transaction_id=TID,
                        key_info=peer.UNICAST_KEY)
    item = decode(wire, DecodeOptions(EK, AK)).to_python()["items"][0]
    assert (item["kind"], item["summary"]) == ("general-ciphering", "deciphered")
    assert (item["transaction_id"], item["originator_system_title"], item["recipient_system_title"]) == (
        TID.hex().upper(), GB_CLIENT_TITLE, GB_SERVER_TITLE)
    assert item["key_info"] == {"identified-key": 0} and item["apdu"]["kind"] == "get-request-normal"
    wrapped = peer.request(GET_CLOCK, ek=EK, ak=AK, originator=CLIENT, recipient=SERVER, ic=6,
                           key_info=h("01 01 00 10") + h("A5") * 16)
    text = decode(wrapped).to_text()
    assert "wrapped-key: 16 octets of key-ciphered-data (not shown)" in text and "A5 A5" not in text


@pytest.mark.parametrize("identified_key", [False, True])
def test_answers_cut_to_fit_the_client_pdu_size_leave_room_for_the_header(identified_key: bool) -> None:
    """The server cuts long answers at response_limit: sealed in general-ciphering they still fit."""
    general = GeneralExchange(TID, CLIENT, SERVER, identified_key, header_in_aad=False)
    for client_max in (120, 200, 1024):
        limit = response_limit(client_max, Protection(CipherStyle.GENERAL, 0x30, CLIENT, general))
        sealed = encrypt_apdu(b"\xC4" + bytes(limit - 1), "general", SecurityControl.from_byte(0x30), SERVER, 1,
                              EK, AK, general)
        assert client_max - 2 <= len(sealed) <= client_max  # the content length takes 1 to 3 octets
