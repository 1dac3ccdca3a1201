"""MeterServer and Channel: routing by SAP, association lifecycle, and the exception-responses."""

from __future__ import annotations

import logging

import pytest

from simulator.apdu.acse import AARE, RLRE, AssociationResult, ReleaseResponseReason
from simulator.apdu.action import ActionRequestNormal, ActionResponseNormal
from simulator.apdu.common import (
    ActionResult, CosemAttributeDescriptor, CosemMethodDescriptor, InvokeIdAndPriority, ServiceError, StateError,
)
from simulator.apdu.get import GetRequestNormal, GetResponseNormal
from simulator.apdu.initiate import Conformance
from simulator.apdu.notification import ExceptionResponse
from simulator.apdu.set import SetRequestNormal
from simulator.axdr import Data, DataType
from simulator.security.hls import hls_digest_response

from .support import (
    ASSOCIATION_LN, CLIENT_CONFORMANCE, CTOS, HLS_SECRET, INVOKE, REGISTER_LN, REGISTER_VALUE, Meter,
    own_association_meter,
)

# Exception-Response service-not-allowed / service-not-supported (gosem),
# https://github.com/gvtret/gosem/blob/07323ece60b067508d6ea0347459f2fb5d97d7e6/pkg/dlms/exceptionResponse_test.go
EXCEPTION_NOT_ALLOWED_NOT_SUPPORTED = bytes.fromhex("D80102")
# GET-Request-Normal of the Association object_list inside a TCP wrapper frame (opendlms),
# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/tests/test_association.cpp
OPENDLMS_GET_OBJECT_LIST = bytes.fromhex("C001C1000F0000280000FF0200")

GET_REGISTER = GetRequestNormal(INVOKE, CosemAttributeDescriptor(3, REGISTER_LN, 2)).to_bytes()


def exception(answer: bytes | None) -> tuple[StateError, ServiceError]:
    e = ExceptionResponse.from_bytes(answer or b"")
    return e.state_error, e.service_error


def test_unknown_addresses_get_no_answer() -> None:
    m = Meter()
    assert m.send(GET_REGISTER, client=16, server=7) is None
    assert m.send(GET_REGISTER, client=99) is None
    assert m.send(b"", client=16) is None


def test_request_without_association() -> None:
    m = Meter()
    assert exception(m.send(GET_REGISTER)) == (StateError.SERVICE_NOT_ALLOWED, ServiceError.OPERATION_NOT_POSSIBLE)
    unconfirmed = GetRequestNormal(InvokeIdAndPriority(1, False), CosemAttributeDescriptor(3, REGISTER_LN, 2))
    assert m.send(unconfirmed.to_bytes()) is None


def test_associated_request_and_release() -> None:
    m = Meter()
    m.associate()
    assert GetResponseNormal.from_bytes(m.send(GET_REGISTER) or b"").result == REGISTER_VALUE
    rlre = RLRE.from_bytes(m.release() or b"")
    assert rlre.reason == ReleaseResponseReason.NORMAL
    assert exception(m.send(GET_REGISTER))[1] == ServiceError.OPERATION_NOT_POSSIBLE


def test_associations_are_per_client_and_per_channel() -> None:
    m = Meter()
    m.associate(client=16)
    assert exception(m.send(GET_REGISTER, client=2))[1] == ServiceError.OPERATION_NOT_POSSIBLE
    other = m.server.open_channel()
    assert exception(other.handle_apdu(1, 16, GET_REGISTER, 0.0))[1] == ServiceError.OPERATION_NOT_POSSIBLE
    m.channel.close()
    assert exception(m.send(GET_REGISTER))[1] == ServiceError.OPERATION_NOT_POSSIBLE


def test_pre_established_association() -> None:
    m = Meter()
    assert GetResponseNormal.from_bytes(m.send(GET_REGISTER, client=102) or b"").result == REGISTER_VALUE
    other = m.server.open_channel()
    assert GetResponseNormal.from_bytes(other.handle_apdu(1, 102, GET_REGISTER, 0.0) or b"").result == REGISTER_VALUE
    other.close()
    assert RLRE.from_bytes(m.release(client=102) or b"").reason == ReleaseResponseReason.NOT_FINISHED
    assert GetResponseNormal.from_bytes(m.send(GET_REGISTER, client=102) or b"").result == REGISTER_VALUE


def test_pre_established_client_may_still_associate() -> None:
    m = Meter()
    m.associate(client=102, max_pdu=64)
    assert GetResponseNormal.from_bytes(m.send(GET_REGISTER, client=102) or b"").result == REGISTER_VALUE


def test_refused_aarq_leaves_no_association() -> None:
    from simulator.apdu.acse import AARQ, MechanismName
    from simulator.apdu.initiate import InitiateRequest
    m = Meter()
    aarq = AARQ(sender_acse_requirements=True, mechanism_name=MechanismName.LOW, calling_authentication_value=b"wrong",
                user_information=InitiateRequest(proposed_conformance=CLIENT_CONFORMANCE,
                                                 client_max_receive_pdu_size=1024).to_bytes())
    assert AARE.from_bytes(m.send(aarq.to_bytes(), client=2) or b"").result == AssociationResult.REJECTED_PERMANENT
    assert exception(m.send(GET_REGISTER, client=2))[1] == ServiceError.OPERATION_NOT_POSSIBLE


@pytest.mark.parametrize(("apdu", "expected"), [
    (bytes.fromhex("FF0102"), (StateError.SERVICE_UNKNOWN, ServiceError.SERVICE_NOT_SUPPORTED)),
    (bytes.fromhex("C009C1"), (StateError.SERVICE_UNKNOWN, ServiceError.SERVICE_NOT_SUPPORTED)),  # unknown choice
    (bytes.fromhex("C401C10006000000FF"), (StateError.SERVICE_UNKNOWN, ServiceError.SERVICE_NOT_SUPPORTED)),  # a response
    (bytes.fromhex("C0"), (StateError.SERVICE_UNKNOWN, ServiceError.SERVICE_NOT_SUPPORTED)),
    (bytes.fromhex("C001C10003"), (StateError.SERVICE_NOT_ALLOWED, ServiceError.OTHER_REASON)),  # truncated
    (GET_REGISTER + b"\x00", (StateError.SERVICE_NOT_ALLOWED, ServiceError.OTHER_REASON)),  # trailing byte
])
def test_undecodable_requests(apdu: bytes, expected: tuple[StateError, ServiceError]) -> None:
    m = Meter()
    m.associate()
    assert exception(m.send(apdu)) == expected
    assert GetResponseNormal.from_bytes(m.send(GET_REGISTER) or b"").result == REGISTER_VALUE


def test_request_longer_than_the_server_accepts() -> None:
    m = Meter(server_pdu=64)
    m.associate(client=2)
    big = SetRequestNormal(INVOKE, CosemAttributeDescriptor(1, ASSOCIATION_LN, 2), None,
                           Data(DataType.OCTET_STRING, bytes(100))).to_bytes()
    assert exception(m.send(big, client=2)) == (StateError.SERVICE_NOT_ALLOWED, ServiceError.PDU_TOO_LONG)


def test_service_outside_negotiated_conformance() -> None:
    m = Meter()
    m.associate(client=2, conformance=Conformance.GET)
    request = SetRequestNormal(INVOKE, CosemAttributeDescriptor(3, REGISTER_LN, 2), None, REGISTER_VALUE).to_bytes()
    assert m.send(request, client=2) == EXCEPTION_NOT_ALLOWED_NOT_SUPPORTED
    action = ActionRequestNormal(INVOKE, CosemMethodDescriptor(3, REGISTER_LN, 1), Data(DataType.INTEGER, 0))
    assert m.send(action.to_bytes(), client=2) == EXCEPTION_NOT_ALLOWED_NOT_SUPPORTED


def test_unconfirmed_requests_are_served_silently() -> None:
    m = Meter()
    m.associate(client=2, conformance=CLIENT_CONFORMANCE & ~Conformance.ACTION)
    quiet = InvokeIdAndPriority(3, confirmed=False)
    value = Data(DataType.DOUBLE_LONG_UNSIGNED, 8)
    assert m.send(SetRequestNormal(quiet, CosemAttributeDescriptor(3, REGISTER_LN, 2), None, value).to_bytes(), 2) is None
    assert GetResponseNormal.from_bytes(m.send(GET_REGISTER, 2) or b"").result == value
    not_negotiated = ActionRequestNormal(quiet, CosemMethodDescriptor(3, REGISTER_LN, 1), Data(DataType.INTEGER, 0))
    assert m.send(not_negotiated.to_bytes(), 2) is None


def test_opendlms_object_list_request_is_served() -> None:
    m = Meter()
    m.associate()
    answer = GetResponseNormal.from_bytes(m.send(OPENDLMS_GET_OBJECT_LIST) or b"")
    assert isinstance(answer.result, Data) and answer.result.type == DataType.ARRAY


def test_trace_lines(caplog: pytest.LogCaptureFixture) -> None:
    m = Meter()
    m.associate()
    with caplog.at_level(logging.DEBUG, logger="simulator.server"):
        m.send(GET_REGISTER)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("simulator.server")]
    assert lines == ["ld 1 client 16 GET invoke 1 3/1.0.1.8.0.255/2 -> data (5 bytes)"]


# --------------------------------------------------------------------------- HLS pending

def hls_reply(m: Meter, f_stoc: bytes) -> bytes | None:
    request = ActionRequestNormal(INVOKE, CosemMethodDescriptor(15, ASSOCIATION_LN, 1), Data(DataType.OCTET_STRING, f_stoc))
    return m.send(request.to_bytes(), client=5)


def test_only_the_hls_reply_while_authentication_is_pending() -> None:
    m = Meter()
    aare = m.associate(client=5)
    assert aare.responding_authentication_value is not None
    assert exception(m.send(GET_REGISTER, client=5)) == (StateError.SERVICE_NOT_ALLOWED, ServiceError.OPERATION_NOT_POSSIBLE)
    other_method = ActionRequestNormal(INVOKE, CosemMethodDescriptor(3, REGISTER_LN, 1), Data(DataType.INTEGER, 0))
    assert exception(m.send(other_method.to_bytes(), client=5))[1] == ServiceError.OPERATION_NOT_POSSIBLE

    stoc = aare.responding_authentication_value
    assert isinstance(stoc, bytes)
    answer = ActionResponseNormal.from_bytes(hls_reply(m, hls_digest_response(4, stoc, HLS_SECRET)) or b"")
    assert answer.result == ActionResult.SUCCESS
    assert answer.return_parameters == Data(DataType.OCTET_STRING, hls_digest_response(4, CTOS, HLS_SECRET))
    assert GetResponseNormal.from_bytes(m.send(GET_REGISTER, client=5) or b"").result == REGISTER_VALUE


def test_hls_reply_through_the_current_association_beside_an_own_object() -> None:
    """Clients send reply_to_HLS_authentication to 0.0.40.0.0.255 even when the association
    has an object of its own (IDIS: 0.0.40.0.2.255 for the management client)."""
    m = own_association_meter(5)
    stoc = m.associate(client=5).responding_authentication_value
    assert isinstance(stoc, bytes)
    answer = ActionResponseNormal.from_bytes(hls_reply(m, hls_digest_response(4, stoc, HLS_SECRET)) or b"")
    assert answer.result == ActionResult.SUCCESS
    assert GetResponseNormal.from_bytes(m.send(GET_REGISTER, client=5) or b"").result == REGISTER_VALUE


def test_failed_hls_reply_ends_the_association() -> None:
    m = Meter()
    m.associate(client=5)
    answer = ActionResponseNormal.from_bytes(hls_reply(m, bytes(20)) or b"")
    assert answer.result == ActionResult.OTHER_REASON
    assert exception(m.send(GET_REGISTER, client=5))[1] == ServiceError.OPERATION_NOT_POSSIBLE
