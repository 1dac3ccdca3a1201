"""Issue 8 item 8 over a real socket: general-ciphering (tag 0xDD) accepted and answered in kind.

gurux-dlms 1.0.203 associates as the management client (HLS-GMAC, authenticated encryption);
then the test sends its own general-ciphering requests on the same connection, built by
tests/security/general_ciphering_peer.py (the test's own encoder, AES-GCM from `cryptography`),
and opens the meter's answers the same independent way. gurux-dlms cannot send general-ciphering
and its decoder reads key-info as an agreed-key whether or not it is there, so it cannot read
these answers either; dlms-cosem 25.1.0 has no general-ciphering. Before the fix every request
here was answered D8 01 05 (exception-response: deciphering-error), and an AARQ whose
InitiateRequest came general-ciphered was refused (the policy wants a ciphered InitiateRequest).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from gurux_dlms.enums import InterfaceType

from simulator.apdu.acse import AARE, AARQ, ApplicationContextName, AssociationResult, MechanismName
from tests.security import general_ciphering_peer as peer
from tests.security.vectors import MEL_GLO_INITIATE_REQUEST_PLAIN

from .harness import AK, EK, RunningFleet
from .peers import GuruxPeer, SocketPipe, gurux_client

PROFILE = """
name: general-ciphering
time: {start: 2024-01-10T00:00:00Z}
groups:
  - name: electricity
    model: idis_poly
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
"""
CLIENT_TITLE = b"GCIPHER1"
GET_LDN = bytes.fromhex("C001C1000100002A0000FF0200")  # GET 0.0.42.0.0.255 attribute 2
GET_COUNTER = bytes.fromhex("C001C2000100002B0101FF0200")  # GET 0.0.43.1.1.255 attribute 2
DELIBERATELY_REFUSED = bytes.fromhex("D80105")  # exception-response service-not-allowed, deciphering-error
TID = bytes.fromhex("0000018C2D7A0001")
DATE_TIME = bytes.fromhex("07E8010A030C0000FF800000")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningFleet]:
    with RunningFleet(PROFILE, tmp_path_factory.mktemp("gc"), state_dir=None) as running:
        yield running


@dataclass
class Management:
    """Client 1 associated by gurux-dlms; general-ciphering requests go on its socket."""

    sock: socket.socket
    server_title: bytes
    ic: int

    def exchange(self, apdu: bytes) -> bytes:
        self.sock.sendall(bytes.fromhex("0001 0001 0001") + len(apdu).to_bytes(2, "big") + apdu)
        data = b""
        while len(data) < 8 or len(data) < 8 + int.from_bytes(data[6:8], "big"):
            more = self.sock.recv(65536)
            assert more, "the meter closed the connection"
            data += more
        return data[8:]

    def request(self, plain: bytes, **fields: object) -> bytes:
        """`plain` in general-ciphering under the next counter (or `ic=`), from the client's title."""
        ic = fields.pop("ic", None)
        if ic is None:
            self.ic += 1
            ic = self.ic
        options = dict(originator=CLIENT_TITLE, recipient=self.server_title, transaction_id=TID) | fields
        return self.exchange(peer.request(plain, ek=EK, ak=AK, ic=ic, **options))  # type: ignore[arg-type]


@pytest.fixture
def management(fleet: RunningFleet) -> Iterator[Management]:
    client = gurux_client(1, system_title=CLIENT_TITLE)
    assert client.interfaceType == InterfaceType.WRAPPER
    pipe = SocketPipe("127.0.0.1", fleet.port("tcp"))
    try:
        GuruxPeer(pipe, client).connect()
        yield Management(pipe.sock, bytes(client.settings.sourceSystemTitle), client.ciphering.invocationCounter)
    finally:
        pipe.close()


@pytest.mark.parametrize("key_info", [peer.NO_KEY_INFO, peer.UNICAST_KEY], ids=["no-key-info", "identified-key"])
def test_get_in_general_ciphering_is_answered_in_kind(management: Management, key_info: bytes) -> None:
    first = peer.open_answer(management.request(GET_LDN, key_info=key_info, date_time=DATE_TIME), ek=EK, ak=AK)
    assert first.plain == bytes.fromhex("C401C100090B") + b"SIM00000001"
    assert (first.transaction_id, first.originator, first.recipient) == (TID, management.server_title, CLIENT_TITLE)
    assert (first.date_time, first.other, first.key_info, first.sc) == (b"", b"", key_info, 0x30)
    second = peer.open_answer(management.request(GET_LDN, key_info=key_info, transaction_id=b"\x07"), ek=EK, ak=AK)
    assert second.transaction_id == b"\x07" and second.plain == first.plain
    assert second.ic > first.ic  # our transmitted counter is never reused


def test_the_header_authenticated_too_is_answered_alike(management: Management) -> None:
    """A client that puts the header fields into the AAD (as Connexo's library does) gets its answer so."""
    answer = management.request(GET_LDN, header_in_aad=True)
    assert peer.open_answer(answer, ek=EK, ak=AK, header_in_aad=True).plain.startswith(bytes.fromhex("C401C100"))


def test_counter_rule_and_the_published_counter(management: Management) -> None:
    accepted = management.ic + 100
    answer = peer.open_answer(management.request(GET_COUNTER, ic=accepted), ek=EK, ak=AK)
    assert answer.plain == bytes.fromhex("C401C20006") + accepted.to_bytes(4, "big")  # published before the GET
    for replay in (accepted, accepted - 1):  # not above the last accepted: exception-response with the next one
        assert management.request(GET_LDN, ic=replay) == bytes.fromhex("D80106") + (accepted + 1).to_bytes(4, "big")
    assert peer.open_answer(management.request(GET_LDN, ic=accepted + 1), ek=EK, ak=AK).plain[:4] == \
        bytes.fromhex("C401C100")


@pytest.mark.parametrize("fields", [
    {"originator": b"OTHERCLT"},  # not the association's client
    {"recipient": b"SIM99999"},  # another meter
    {"key_info": bytes.fromhex("01 01 00 18") + bytes(24)},  # wrapped-key
    {"key_info": bytes.fromhex("01 02 01 01 02 AABB")},  # agreed-key
    {"sc": 0x20},  # weaker than the policy (authenticated encryption)
], ids=["originator", "recipient", "wrapped-key", "agreed-key", "policy"])
def test_refusals(management: Management, fields: dict[str, object]) -> None:
    assert management.request(GET_LDN, **fields) == DELIBERATELY_REFUSED
    assert peer.open_answer(management.request(GET_LDN), ek=EK, ak=AK).plain[:4] == bytes.fromhex("C401C100")


def test_empty_recipient_and_originator_are_the_association_titles(management: Management) -> None:
    answer = management.request(GET_LDN, originator=b"", recipient=b"", aad_originator=CLIENT_TITLE)
    got = peer.open_answer(answer, ek=EK, ak=AK)
    assert (got.originator, got.recipient) == (management.server_title, CLIENT_TITLE)


def test_aarq_with_a_general_ciphered_initiate_request(fleet: RunningFleet) -> None:
    """The InitiateRequest of the AARQ may come general-ciphered too; the AARE's InitiateResponse
    is then general-ciphered, from the meter's title to the client's, with the same transaction id."""
    title = b"GCIPHER2"  # its own counters: the other tests' client title keeps its own
    initiate = peer.request(bytes.fromhex(MEL_GLO_INITIATE_REQUEST_PLAIN), ek=EK, ak=AK, originator=title,
                            recipient=b"", ic=7, transaction_id=b"\x2A")
    aarq = AARQ(application_context_name=ApplicationContextName.LOGICAL_NAME_WITH_CIPHERING,
                calling_ap_title=title, sender_acse_requirements=True, mechanism_name=MechanismName.HIGH_GMAC,
                calling_authentication_value=b"K56iVagY", user_information=initiate).to_bytes()
    with socket.create_connection(("127.0.0.1", fleet.port("tcp")), timeout=5) as sock:
        aare = AARE.from_bytes(Management(sock, b"", 0).exchange(aarq))
    assert aare.result == AssociationResult.ACCEPTED and aare.user_information is not None
    got = peer.open_answer(aare.user_information, ek=EK, ak=AK)
    assert (got.transaction_id, got.originator, got.recipient) == (b"\x2A", aare.responding_ap_title, title)
    assert got.plain[:1] == b"\x08"  # InitiateResponse
