"""Serve one xDLMS APDU of an association: unprotect, check, dispatch, protect the answer.

The gate every request passes, in order (Green Book 9.3 / 9.4; what real meters do noted):

1. size: an APDU longer than the server's negotiated max receive PDU size -> exception-response
   (service-not-allowed, pdu-too-long);
2. protection: `session.open` removes and checks the ciphering and enforces the security policy
   and the invocation counter; what it refuses is answered as the association layer says
   (`association.session.exception_response`): a replayed counter -> exception-response
   (service-not-allowed, invocation-counter-error, with the lowest counter the meter accepts),
   anything else -> (service-not-allowed, deciphering-error), both in plaintext: the request's
   protection could not be trusted, so neither can its keys;
3. the service: a tag/choice that is no request the server knows -> (service-unknown,
   service-not-supported); a known request that does not decode -> (service-not-allowed,
   other-reason);
4. the association state: while HLS is pending (after AARE, before pass 3/4) the only request
   allowed is reply_to_HLS_authentication on the current association object (ACTION for LN, a
   Read with parameterized access or a Write for SN); anything else -> (service-not-allowed,
   operation-not-possible), as jDLMS servers answer;
5. conformance: a service, or a form of it (with-list, block transfer), outside the negotiated
   conformance block -> (service-not-allowed, service-not-supported).

Then the service handler runs and its answer is protected as the request was (`session.seal`).
A long answer goes out in the service's own block transfer or in general block transfer, by
the rule in gbt.py.
Requests sent unconfirmed (invoke-id-and-priority service class 0, and UnconfirmedWrite) are
served but never answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..apdu.action import (
    ActionRequestNextPblock, ActionRequestNormal, ActionRequestWithFirstPblock,
    ActionRequestWithList, ActionRequestWithListAndFirstPblock, ActionRequestWithPblock,
)
from ..apdu.ciphered import CipherStyle
from ..apdu.common import DataAccessResult, ServiceError, StateError, XDlmsApdu
from ..apdu.gbt import GBT_TAG
from ..apdu.get import GetRequestNext, GetRequestNormal, GetRequestWithList
from ..apdu.initiate import Conformance
from ..apdu.notification import ExceptionResponse
from ..apdu.set import (
    SetRequestNormal, SetRequestWithDatablock, SetRequestWithFirstDatablock, SetRequestWithList,
    SetRequestWithListAndFirstDatablock,
)
from ..apdu.sn import ReadRequest, UnconfirmedWriteRequest, WriteRequest
from ..association.negotiation import server_conformance
from ..association.session import AssociationState
from ..association.session import exception_response as security_exception
from ..axdr.buffer import length_size
from ..errors import DecodeError, DLMSError
from ..model.spec import LogicalDeviceSpec
from ..security.errors import InvocationCounterError, SecurityError
from ..security.gcm import SYSTEM_TITLE_LENGTH
from . import action, get, set as set_, sn
from .access import is_hls_reply, locate
from .gbt import serve_gbt, start_gbt
from .objects import Meter
from .request import Logger, Request, Transfers

if TYPE_CHECKING:
    from ..association.session import AssociationSession, Protection

__all__ = ["serve", "exception_response", "response_limit"]

_C = Conformance
Handler = Callable[[Request, Transfers, Any], "bytes | None"]

# (request class, handler, conformance the service needs)
_ROUTES: tuple[tuple[type[XDlmsApdu], Handler, Conformance], ...] = (
    (GetRequestNormal, get.get_normal, _C.GET),
    (GetRequestNext, get.get_next, _C.GET | _C.BLOCK_TRANSFER_WITH_GET_OR_READ),
    (GetRequestWithList, get.get_with_list, _C.GET | _C.MULTIPLE_REFERENCES),
    (SetRequestNormal, set_.set_normal, _C.SET),
    (SetRequestWithFirstDatablock, set_.set_first_datablock, _C.SET | _C.BLOCK_TRANSFER_WITH_SET_OR_WRITE),
    (SetRequestWithDatablock, set_.set_datablock, _C.SET | _C.BLOCK_TRANSFER_WITH_SET_OR_WRITE),
    (SetRequestWithList, set_.set_with_list, _C.SET | _C.MULTIPLE_REFERENCES),
    (SetRequestWithListAndFirstDatablock, set_.set_list_first_datablock,
     _C.SET | _C.MULTIPLE_REFERENCES | _C.BLOCK_TRANSFER_WITH_SET_OR_WRITE),
    (ActionRequestNormal, action.action_normal, _C.ACTION),
    (ActionRequestNextPblock, action.action_next_pblock, _C.ACTION | _C.BLOCK_TRANSFER_WITH_ACTION),
    (ActionRequestWithList, action.action_with_list, _C.ACTION | _C.MULTIPLE_REFERENCES),
    (ActionRequestWithFirstPblock, action.action_first_pblock, _C.ACTION | _C.BLOCK_TRANSFER_WITH_ACTION),
    (ActionRequestWithListAndFirstPblock, action.action_list_first_pblock,
     _C.ACTION | _C.MULTIPLE_REFERENCES | _C.BLOCK_TRANSFER_WITH_ACTION),
    (ActionRequestWithPblock, action.action_with_pblock, _C.ACTION | _C.BLOCK_TRANSFER_WITH_ACTION),
    (ReadRequest, sn.sn_read, _C.READ),
    (WriteRequest, sn.sn_write, _C.WRITE),
    (UnconfirmedWriteRequest, sn.sn_unconfirmed_write, _C.UNCONFIRMED_WRITE),
)
# The service-specific block transfer that carries each service's long answers; a service not
# named has none, so its long answers need general block transfer.
_ANSWER_BLOCKS: dict[type[XDlmsApdu], int] = {
    **dict.fromkeys((GetRequestNormal, GetRequestNext, GetRequestWithList, ReadRequest),
                    int(_C.BLOCK_TRANSFER_WITH_GET_OR_READ)),
    **dict.fromkeys((ActionRequestNormal, ActionRequestNextPblock, ActionRequestWithList,
                     ActionRequestWithFirstPblock, ActionRequestWithListAndFirstPblock, ActionRequestWithPblock),
                    int(_C.BLOCK_TRANSFER_WITH_ACTION)),
}
_BY_TAG: dict[int, tuple[type[XDlmsApdu], Handler, int]] = {
    cls.TAG: (cls, h, int(c)) for cls, h, c in _ROUTES if cls.CHOICE is None}
_BY_CHOICE: dict[tuple[int, int], tuple[type[XDlmsApdu], Handler, int]] = {
    (cls.TAG, cls.CHOICE): (cls, h, int(c)) for cls, h, c in _ROUTES if cls.CHOICE is not None}
_CHOICE_TAGS = frozenset(tag for tag, _ in _BY_CHOICE)

# Decoded requests are immutable and a polled fleet sends the same few request bytes over and
# over (GET of a clock, a register, with invoke ids 0..15): small ones are decoded once. Bounded,
# emptied when full; a request that does not decode is never kept.
_DECODED: dict[bytes, XDlmsApdu] = {}
_DECODED_MAX = 4096
_DECODED_SIZE = 64  # bytes: requests naming attributes or methods, not blocks of data

_UNLIMITED_PDU = 0xFFFF
_GBT = int(Conformance.GENERAL_BLOCK_TRANSFER)
_AUTH_TAG = 12
_SC_AUTHENTICATED = 0x10


def exception_response(state: StateError, service: ServiceError, counter: int | None = None) -> bytes:
    return ExceptionResponse(state, service, counter).to_bytes()


def response_limit(client_max: int, protection: "Protection | None") -> int:
    """The largest plaintext answer that fits the client's max receive PDU size once protected
    like the request (tag, length, security header, system title of general ciphering, GCM tag;
    general-ciphering's transaction id, both titles, empty date-time and other-information and
    key-info). A max receive PDU size of 0 is read as no limit below the A-XDR Unsigned16 maximum."""
    limit = client_max or _UNLIMITED_PDU
    if protection is None:
        return limit
    overhead = 1 + 3 + 5  # tag, length (up to 3 bytes), security control and invocation counter
    if protection.style in (CipherStyle.GENERAL_GLO, CipherStyle.GENERAL_DED):
        overhead += 1 + len(protection.system_title or b"")
    general = protection.general
    if general is not None:
        tid, title = len(general.transaction_id), len(general.client_system_title)
        overhead += (length_size(tid) + tid + 1 + SYSTEM_TITLE_LENGTH + length_size(title) + title
                     + 2 + (3 if general.identified_key else 1))  # date-time, other-information, key-info
    if protection.security_control & _SC_AUTHENTICATED:
        overhead += _AUTH_TAG
    return limit - overhead


def serve(tr: Transfers, session: "AssociationSession", meter: Meter, device: LogicalDeviceSpec,
          apdu: bytes, now: float, log: Logger) -> bytes | None:
    """Answer one xDLMS APDU received on an association; None when no answer is due."""
    negotiated = session.negotiated
    server_max = (negotiated.server_max_receive_pdu_size if negotiated is not None
                  else session.spec.max_receive_pdu_size) or _UNLIMITED_PDU
    if len(apdu) > server_max:
        log.debug("APDU of %d bytes exceeds the server max receive PDU size %d", len(apdu), server_max)
        return exception_response(StateError.SERVICE_NOT_ALLOWED, ServiceError.PDU_TOO_LONG)
    if apdu and apdu[0] == GBT_TAG:
        if not _conformance(session) & Conformance.GENERAL_BLOCK_TRANSFER:
            log.debug("general block transfer was not negotiated")
            return exception_response(StateError.SERVICE_NOT_ALLOWED, ServiceError.SERVICE_NOT_SUPPORTED)
        return serve_gbt(tr, apdu, _client_max(session),
                         lambda inner: _serve(tr, session, meter, device, inner, now, log, gbt=True), log)
    tr.gbt = None  # a request outside GBT ends any general block transfer in progress
    return _serve(tr, session, meter, device, apdu, now, log, gbt=False)


def _client_max(session: "AssociationSession") -> int:
    n = session.negotiated
    return (n.client_max_receive_pdu_size if n is not None else session.spec.max_receive_pdu_size) or _UNLIMITED_PDU


def _conformance(session: "AssociationSession") -> Conformance:
    n = session.negotiated
    return n.conformance if n is not None else server_conformance(session.spec)


def _serve(tr: Transfers, session: "AssociationSession", meter: Meter, device: LogicalDeviceSpec,
           apdu: bytes, now: float, log: Logger, gbt: bool) -> bytes | None:
    try:
        plain, protection = session.open(apdu, now)
    except SecurityError as exc:
        log.info("ld %d client %d: request refused (%s): %s", device.server_sap, session.spec.client_sap,
                 "invocation-counter-error" if isinstance(exc, InvocationCounterError) else "deciphering-error", exc)
        return security_exception(exc).to_bytes()

    route = _BY_TAG.get(plain[0]) if plain else None
    if route is None and len(plain) >= 2 and plain[0] in _CHOICE_TAGS:
        route = _BY_CHOICE.get((plain[0], plain[1]))
    if route is None:
        log.debug("service unknown: APDU tag 0x%02X", plain[0] if plain else -1)
        return _refuse(session, StateError.SERVICE_UNKNOWN, ServiceError.SERVICE_NOT_SUPPORTED, protection, now)
    cls, handler, needed = route
    try:
        request = _decode(cls, plain)
    except DecodeError as exc:
        log.debug("%s does not decode: %s", cls.__name__, exc)
        return _refuse(session, StateError.SERVICE_NOT_ALLOWED, ServiceError.OTHER_REASON, protection, now)

    invoke = getattr(request, "invoke", None)
    confirmed = not isinstance(request, UnconfirmedWriteRequest) and (invoke is None or invoke.confirmed)
    conformance = _conformance(session)
    starts_gbt = not gbt and _long_answers_in_gbt(cls, int(conformance))
    limit = None if gbt or starts_gbt else response_limit(_client_max(session), protection)
    req = Request(meter, device, session, now, protection, conformance, limit, log)
    if session.state is AssociationState.PENDING_HLS and not _hls_reply(req, request):
        req.trace("%s refused: HLS authentication pending", cls.__name__)
        refusal: tuple[StateError, ServiceError] | None = (StateError.SERVICE_NOT_ALLOWED,
                                                           ServiceError.OPERATION_NOT_POSSIBLE)
    elif needed & int(conformance) != needed:  # ints: IntFlag arithmetic is slow on this path
        req.trace("%s refused: not in the negotiated conformance", cls.__name__)
        refusal = (StateError.SERVICE_NOT_ALLOWED, ServiceError.SERVICE_NOT_SUPPORTED)
    else:
        refusal = None
    if refusal is not None:
        return _refuse(session, *refusal, protection, now) if confirmed else None

    answer = handler(req, tr, request)
    if answer is None or not confirmed:
        return None
    sealed = session.seal(answer, protection, now)
    client_max = _client_max(session)
    if starts_gbt and len(sealed) > client_max:
        req.trace("%s answer of %d bytes exceeds %d: general block transfer", cls.__name__, len(sealed), client_max)
        return start_gbt(tr, sealed, client_max, 1, log)
    return sealed


def _long_answers_in_gbt(cls: type[XDlmsApdu], conformance: int) -> bool:
    """GBT was negotiated and the service's own block transfer (if it has one) was not."""
    own = _ANSWER_BLOCKS.get(cls, 0)
    return bool(conformance & _GBT) and not (own and conformance & own)


def _decode(cls: type[XDlmsApdu], plain: bytes) -> XDlmsApdu:
    if len(plain) > _DECODED_SIZE:
        return cls.from_bytes(plain)
    request = _DECODED.get(plain)
    if request is None:
        request = cls.from_bytes(plain)
        if len(_DECODED) >= _DECODED_MAX:
            _DECODED.clear()
        _DECODED[bytes(plain)] = request
    return request


def _hls_reply(req: Request, request: XDlmsApdu) -> bool:
    if isinstance(request, ActionRequestNormal):
        m = request.method
        obj = locate(req, m.class_id, m.instance_id)
        return not isinstance(obj, DataAccessResult) and is_hls_reply(req, obj, m.method_id)
    if isinstance(request, (ReadRequest, WriteRequest)):
        return sn.is_hls_reply_sn(req, request)
    return False


def _refuse(session: "AssociationSession", state: StateError, service: ServiceError,
            protection: "Protection | None", now: float) -> bytes:
    """An exception-response, protected like the request when it was (in general-glo/ded-
    ciphering: there is no glo-exception-response); in plaintext if it cannot be protected."""
    answer = exception_response(state, service)
    if protection is None:
        return answer
    try:
        return session.seal(answer, protection, now)
    except DLMSError:
        return answer
