"""Ciphered requests through the services: answers in the request's style, security refusals,
authenticated access modes, and block transfer sized for the ciphering overhead."""

from __future__ import annotations

import pytest

from simulator.apdu.ciphered import CipherStyle
from simulator.apdu.common import CosemAttributeDescriptor, DataAccessResult, ServiceError, StateError
from simulator.apdu.get import GetRequestNext, GetRequestNormal, GetResponseNormal, GetResponseWithDatablock
from simulator.apdu.notification import ExceptionResponse
from simulator.apdu.set import SetRequestNormal
from simulator.axdr import Data, DataType, encode_data
from simulator.security.apdu import CipherKeys, DecipheredAPDU, decrypt_apdu, encrypt_apdu
from simulator.security.control import SecurityControl

from .support import AK, CLIENT_TITLE, EK, INVOKE, PROFILE_LN, REGISTER_LN, REGISTER_VALUE, SERVER_TITLE, Meter, profile_rows

AE = SecurityControl(authenticated=True, encrypted=True)
E_ONLY = SecurityControl(encrypted=True)
GET_VALUE = GetRequestNormal(INVOKE, CosemAttributeDescriptor(3, REGISTER_LN, 2)).to_bytes()


class CipherClient:
    """Client 7 of the test meter: a ciphered context, no authentication, no policy."""

    def __init__(self, max_pdu: int = 1024) -> None:
        self.meter = Meter()
        self.meter.associate(client=7, max_pdu=max_pdu)
        self.counter = 0

    def send(self, plain: bytes, style: CipherStyle = CipherStyle.GLO, sc: SecurityControl = AE,
             counter: int | None = None) -> bytes:
        if counter is None:
            self.counter += 1
            counter = self.counter
        answer = self.meter.send(encrypt_apdu(plain, style, sc, CLIENT_TITLE, counter, EK, AK), client=7)
        assert answer is not None
        return answer

    @staticmethod
    def open(answer: bytes) -> DecipheredAPDU:
        return decrypt_apdu(answer, lambda request: CipherKeys(EK, AK), system_title=SERVER_TITLE)


@pytest.mark.parametrize("style", [CipherStyle.GLO, CipherStyle.GENERAL_GLO])
def test_answer_in_the_style_of_the_request(style: CipherStyle) -> None:
    c = CipherClient()
    opened = c.open(c.send(GET_VALUE, style))
    assert opened.style == style
    assert opened.security_control == AE
    assert GetResponseNormal.from_bytes(opened.apdu).result == REGISTER_VALUE


def test_authenticated_modes_follow_the_request_protection() -> None:
    c = CipherClient()
    plain = c.meter.send(GET_VALUE, client=7)
    assert GetResponseNormal.from_bytes(plain or b"").result == DataAccessResult.READ_WRITE_DENIED
    encrypted_only = c.open(c.send(GET_VALUE, sc=E_ONLY))
    assert GetResponseNormal.from_bytes(encrypted_only.apdu).result == DataAccessResult.READ_WRITE_DENIED
    authenticated = c.open(c.send(GET_VALUE, sc=AE))
    assert GetResponseNormal.from_bytes(authenticated.apdu).result == REGISTER_VALUE


def test_replayed_invocation_counter() -> None:
    c = CipherClient()
    c.send(GET_VALUE, counter=5)
    refusal = ExceptionResponse.from_bytes(c.send(GET_VALUE, counter=5))
    assert (refusal.state_error, refusal.service_error, refusal.invocation_counter) == (
        StateError.SERVICE_NOT_ALLOWED, ServiceError.INVOCATION_COUNTER_ERROR, 6)
    assert GetResponseNormal.from_bytes(c.open(c.send(GET_VALUE, counter=6)).apdu).result == REGISTER_VALUE


def test_undecipherable_request() -> None:
    c = CipherClient()
    good = encrypt_apdu(GET_VALUE, CipherStyle.GLO, AE, CLIENT_TITLE, 1, EK, AK)
    forged = good[:-1] + bytes((good[-1] ^ 1,))
    refusal = ExceptionResponse.from_bytes(c.meter.send(forged, client=7) or b"")
    assert (refusal.state_error, refusal.service_error) == (StateError.SERVICE_NOT_ALLOWED, ServiceError.DECIPHERING_ERROR)


def test_exception_response_to_a_ciphered_request_is_ciphered() -> None:
    c = CipherClient()
    opened = c.open(c.send(bytes.fromhex("C009C1")))
    assert opened.style == CipherStyle.GENERAL_GLO
    assert ExceptionResponse.from_bytes(opened.apdu).state_error == StateError.SERVICE_UNKNOWN


def test_ciphered_set_and_read_back() -> None:
    c = CipherClient()
    value = Data(DataType.DOUBLE_LONG_UNSIGNED, 31)
    set_request = SetRequestNormal(INVOKE, CosemAttributeDescriptor(3, REGISTER_LN, 2), None, value).to_bytes()
    assert c.open(c.send(set_request)).apdu == bytes.fromhex("C501C100")
    assert GetResponseNormal.from_bytes(c.open(c.send(GET_VALUE)).apdu).result == value


@pytest.mark.parametrize("style", [CipherStyle.GLO, CipherStyle.GENERAL_GLO])
def test_ciphered_blocks_fit_the_client_pdu(style: CipherStyle) -> None:
    c = CipherClient(max_pdu=80)
    answer = c.send(GetRequestNormal(INVOKE, CosemAttributeDescriptor(7, PROFILE_LN, 2)).to_bytes(), style)
    raw, n = b"", 0
    while True:
        assert len(answer) <= 80
        block = GetResponseWithDatablock.from_bytes(c.open(answer).apdu)
        n += 1
        assert isinstance(block.result, bytes)
        raw += block.result
        if block.last_block:
            break
        answer = c.send(GetRequestNext(INVOKE, n).to_bytes(), style)
    assert raw == encode_data(profile_rows(10))
