"""Associations with independent clients as peers, without sockets: gurux-dlms 1.0.203
(GXDLMSClient / GXDLMSSecureClient over the WRAPPER interface: its frames minus the 8-byte
wrapper header go to the session, our answers go back wrapped) and dlms-cosem 25.1.0 (its
sans-IO DlmsConnection state machine). No authentication, LLS, and HLS-GMAC with suite-0
authenticated encryption; then a GET through the association and the release."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulator.apdu.acse import AARE, AcseServiceUser, AssociationResult
from simulator.apdu.acse import ApplicationContextName as Ctx
from simulator.apdu.action import ActionResponseNormal
from simulator.apdu.common import ActionResult
from simulator.apdu.get import GetRequestNormal, GetResponseNormal
from simulator.apdu.xdlms import decode_xdlms
from simulator.association import AssociationSession, AssociationState
from simulator.axdr import Data, DataType
from simulator.cosem.base import ActionFailure
from simulator.model.spec import SecurityPolicy

from .support import GB_AK, GB_CLIENT_TITLE, GB_EK, PASSWORD, build, h, session

gurux = pytest.importorskip("gurux_dlms")
pytest.importorskip("dlms_cosem")
from dlms_cosem import cosem, dlms_data, enumerations  # noqa: E402
from dlms_cosem import state as dc_state  # noqa: E402
from dlms_cosem.connection import DlmsConnection  # noqa: E402
from dlms_cosem.protocol import acse as dc_acse  # noqa: E402
from dlms_cosem.protocol import xdlms as dc_xdlms  # noqa: E402
from dlms_cosem.security import (  # noqa: E402
    HighLevelSecurityGmacAuthentication,
    LowLevelSecurityAuthentication,
    NoSecurityAuthentication,
)
from gurux_dlms import GXByteBuffer, GXDLMSClient, GXReplyData  # noqa: E402
from gurux_dlms.enums import Authentication, InterfaceType, Security  # noqa: E402
from gurux_dlms.objects import GXDLMSData  # noqa: E402
from gurux_dlms.secure import GXDLMSSecureClient  # noqa: E402

LDN = "0.0.42.0.0.255"
LDN_VALUE = Data(DataType.OCTET_STRING, b"SIM00000001")


def answer_action(s: AssociationSession, request: bytes) -> bytes:
    """What the services will do for reply_to_HLS_authentication: open, invoke, seal."""
    plain, protection = s.open(request, 0.0)
    action = decode_xdlms(plain)
    assert action.method.class_id == 15 and action.method.method_id == 1
    f = s.reply_to_hls(action.parameters.value, 0.0)
    response = ActionResponseNormal(action.invoke, ActionResult.SUCCESS, Data(DataType.OCTET_STRING, f))
    return s.seal(response.to_bytes(), protection, 0.0)


def answer_get(s: AssociationSession, request: bytes) -> bytes:
    plain, protection = s.open(request, 0.0)
    get = decode_xdlms(plain)
    assert isinstance(get, GetRequestNormal) and str(get.descriptor.instance_id) == LDN
    return s.seal(GetResponseNormal(get.invoke, LDN_VALUE).to_bytes(), protection, 0.0)


# --- gurux-dlms ------------------------------------------------------------------------------

def wrap(apdu: bytes, client: int) -> GXByteBuffer:
    return GXByteBuffer(b"\x00\x01\x00\x01" + client.to_bytes(2, "big") + len(apdu).to_bytes(2, "big") + apdu)


def unwrap(frames: list) -> bytes:
    assert len(frames) == 1
    frame = bytes(frames[0])
    assert frame[:2] == b"\x00\x01" and int.from_bytes(frame[6:8], "big") == len(frame) - 8
    return frame[8:]


def gurux_reply(client: GXDLMSClient, apdu: bytes, client_sap: int) -> GXReplyData:
    reply = GXReplyData()
    client.getData(wrap(apdu, client_sap), reply)
    return reply


def gurux_client(client_sap: int, authentication: Authentication, password: str | None = None) -> GXDLMSClient:
    if authentication != Authentication.HIGH_GMAC:
        return GXDLMSClient(True, client_sap, 1, authentication, password, InterfaceType.WRAPPER)
    client = GXDLMSSecureClient(True, client_sap, 1, authentication, None, InterfaceType.WRAPPER)
    client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
    client.ciphering.systemTitle = h(GB_CLIENT_TITLE)
    client.ciphering.blockCipherKey = h(GB_EK)
    client.ciphering.authenticationKey = h(GB_AK)
    return client


@pytest.mark.parametrize("client_sap, authentication, password", [
    (16, Authentication.NONE, None),
    (2, Authentication.LOW, PASSWORD),
    (1, Authentication.HIGH_GMAC, None),
])
def test_gurux_associates_reads_and_releases(client_sap: int, authentication: Authentication,
                                             password: str | None) -> None:
    m, d = build()
    s = session(m, d, client_sap)
    client = gurux_client(client_sap, authentication, password)
    aare = s.handle_aarq(unwrap(client.aarqRequest()), 0.0)
    client.parseAareResponse(gurux_reply(client, aare, client_sap).data)
    if authentication == Authentication.HIGH_GMAC:
        assert s.state is AssociationState.PENDING_HLS and client.isAuthenticationRequired
        pass4 = answer_action(s, unwrap(client.getApplicationAssociationRequest()))
        client.parseApplicationAssociationResponse(gurux_reply(client, pass4, client_sap).data)
    assert s.authenticated
    ldn = GXDLMSData(LDN)
    response = answer_get(s, unwrap(client.read(ldn, 2)))
    reply = gurux_reply(client, response, client_sap)
    assert bytes(reply.value) == LDN_VALUE.value
    rlre = s.handle_rlrq(unwrap(client.releaseRequest()), 0.0)
    gurux_reply(client, rlre, client_sap)
    assert s.state is AssociationState.IDLE


def test_gurux_sees_the_lls_refusal() -> None:
    m, d = build()
    s = session(m, d, 2)
    client = gurux_client(2, Authentication.LOW, "wrong")
    aare = s.handle_aarq(unwrap(client.aarqRequest()), 0.0)
    assert AARE.from_bytes(aare).result_source_diagnostic == AcseServiceUser.AUTHENTICATION_FAILURE
    with pytest.raises(Exception, match="(?i)authentication"):
        client.parseAareResponse(gurux_reply(client, aare, 2).data)


@pytest.mark.parametrize("authentication_key, accepted", [(GB_AK, True), ("00" * 16, False)])
def test_gurux_hls_gmac_without_ciphering(authentication_key: str, accepted: bool) -> None:
    """HLS-GMAC in the plain LN context: pass 3 travels in clear, so a wrong key fails pass 3 itself."""
    m, d = build()
    spec = replace(d.associations[1], context=Ctx.LOGICAL_NAME, security_policy=SecurityPolicy.NONE)
    s = AssociationSession(m, d, spec)
    client = gurux_client(1, Authentication.HIGH_GMAC)
    client.ciphering.security = Security.NONE
    client.ciphering.authenticationKey = h(authentication_key)
    aare = s.handle_aarq(unwrap(client.aarqRequest()), 0.0)
    assert AARE.from_bytes(aare).application_context_name == Ctx.LOGICAL_NAME
    client.parseAareResponse(gurux_reply(client, aare, 1).data)
    request = unwrap(client.getApplicationAssociationRequest())
    assert request[0] == 0xC3  # a plain action-request
    if accepted:
        client.parseApplicationAssociationResponse(gurux_reply(client, answer_action(s, request), 1).data)
        assert s.authenticated
        return
    with pytest.raises(ActionFailure) as failure:
        answer_action(s, request)
    assert failure.value.result == ActionResult.OTHER_REASON and s.state is AssociationState.IDLE


# --- dlms-cosem ------------------------------------------------------------------------------

def dlms_cosem_connection(client_sap: int) -> DlmsConnection:
    if client_sap == 16:
        return DlmsConnection(authentication=NoSecurityAuthentication(), client_system_title=h(GB_CLIENT_TITLE))
    if client_sap == 2:
        return DlmsConnection(authentication=LowLevelSecurityAuthentication(secret=PASSWORD.encode()),
                              client_system_title=h(GB_CLIENT_TITLE))
    return DlmsConnection(authentication=HighLevelSecurityGmacAuthentication(challenge_length=32),
                          client_system_title=h(GB_CLIENT_TITLE), global_encryption_key=h(GB_EK),
                          global_authentication_key=h(GB_AK))


def exchange(conn: DlmsConnection, event: object, server: object) -> object:
    conn.receive_data(server(conn.send(event)))  # type: ignore[operator]
    return conn.next_event()


@pytest.mark.parametrize("client_sap", [16, 2, 1])
def test_dlms_cosem_associates_reads_and_releases(client_sap: int) -> None:
    m, d = build()
    s = session(m, d, client_sap)
    conn = dlms_cosem_connection(client_sap)
    aare = exchange(conn, conn.get_aarq(), lambda b: s.handle_aarq(b, 0.0))
    assert isinstance(aare, dc_acse.ApplicationAssociationResponse)
    assert aare.result == enumerations.AssociationResult.ACCEPTED
    if client_sap == 1:  # HLS-GMAC, every APDU in general-glo-ciphering
        method = cosem.CosemMethod(enumerations.CosemInterface.ASSOCIATION_LN, cosem.Obis(0, 0, 40, 0, 0), 1)
        reply = conn.authentication.hls_generate_reply_data(conn)
        action = dc_xdlms.ActionRequestNormal(cosem_method=method, data=dlms_data.OctetStringData(reply).to_bytes())
        result = exchange(conn, action, lambda b: answer_action(s, b))
        assert isinstance(result, dc_xdlms.ActionResponseNormalWithData)
        assert conn.state.current_state == dc_state.READY  # dlms-cosem verified our f(CtoS)
    assert s.authenticated
    get = dc_xdlms.GetRequestNormal(cosem.CosemAttribute(enumerations.CosemInterface.DATA, cosem.Obis(0, 0, 42, 0, 0), 2))
    value = exchange(conn, get, lambda b: answer_get(s, b))
    assert isinstance(value, dc_xdlms.GetResponseNormal) and value.data == LDN_VALUE.to_bytes()
    rlre = exchange(conn, conn.get_rlrq(), lambda b: s.handle_rlrq(b, 0.0))
    assert isinstance(rlre, dc_acse.ReleaseResponse) and rlre.user_information is not None
    assert s.state is AssociationState.IDLE


def test_dlms_cosem_reads_our_refusal() -> None:
    m, d = build()
    s = session(m, d, 2)
    conn = DlmsConnection(authentication=LowLevelSecurityAuthentication(secret=b"nope"),
                          client_system_title=h(GB_CLIENT_TITLE))
    aare = exchange(conn, conn.get_aarq(), lambda b: s.handle_aarq(b, 0.0))
    assert aare.result == enumerations.AssociationResult.REJECTED_PERMANENT
    assert int(aare.result_source_diagnostics) == AcseServiceUser.AUTHENTICATION_FAILURE
    assert AssociationResult.REJECTED_PERMANENT == 1
