"""One client's application association with one logical device (Green Book 9.3, 9.2.7).

`AssociationSession` is a small state machine, sans-IO like the rest of the server:

    IDLE --AARQ accepted, no/LLS auth--> ASSOCIATED
    IDLE --AARQ accepted, HLS--> PENDING_HLS --reply_to_hls ok--> ASSOCIATED
                                 PENDING_HLS --reply_to_hls fails--> IDLE
    any  --AARQ refused--> IDLE          ASSOCIATED --RLRQ--> IDLE

It answers the AARQ (context, mechanism, password, challenges, the xDLMS-Initiate negotiation
and every refusal with the diagnostic the Green Book names) and the RLRQ, and it opens and
seals ciphered APDUs for the services: glo-, ded-, general-glo-, general-ded- and
general-ciphering, answering each request in the style it came in, under the security policy
and with the invocation-counter rule. A pre-established association (the model says so)
starts ASSOCIATED and cannot be released.

Keys and counters are the meter's state, one `SecurityState` per Security setup object
(simulator/state/security.py, whose docstring says where a counter is checked, shown and
saved): `_decipher` checks a client's counter there (`accept`). The session itself keeps only
what one association negotiated. It reaches the meter through the `MeterAccess` protocol,
which the server layer's `Meter` implements. No secret reaches a repr, a log or an exception
message.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from ..apdu.acse import (
    AARE,
    AARQ,
    RLRE,
    RLRQ,
    AcseServiceProvider,
    AcseServiceUser,
    ApplicationContextName,
    AssociationResult,
    MechanismName,
    ReleaseResponseReason,
)
from ..apdu.ciphered import CipherStyle, ciphered_tag, is_ciphered_tag
from ..apdu.common import ActionResult, ServiceError, StateError
from ..apdu.initiate import (
    ApplicationReferenceError,
    ConfirmedService,
    ConfirmedServiceError,
    Conformance,
    InitiateError,
    InitiateRequest,
    InitiateResponse,
)
from ..apdu.notification import ExceptionResponse
from ..axdr import DataType
from ..cosem.base import ActionFailure
from ..cosem.context import ObjectContext
from ..cosem.events import EVENT_LOGS, EventCode, log_event
from ..errors import DecodeError, DLMSError, EncodeError
from ..model.spec import AssociationSpec, LogicalDeviceSpec, MeterModel
from ..security.apdu import CipherKeys, GeneralExchange, KeyRequest, decrypt_apdu, encrypt_apdu
from ..security.control import SecurityControl
from ..security.counter import IC_MAX, InvocationCounters
from ..security.errors import InvocationCounterError, SecurityError, SecurityParameterError
from ..security.gcm import KEY_LENGTH, SYSTEM_TITLE_LENGTH
from ..security.hls import make_challenge
from ..security.keywrap import KeyId
from ..security.lockout import locked_for, record_failure, record_success
from ..security.policy import Requirement
from ..state import FIRST_TRANSMIT_COUNTER, MeterState, SecurityState
from .authentication import (
    HLS_MECHANISMS,
    SUPPORTED_MECHANISMS,
    Challenges,
    check_pass3,
    pass4,
    password_matches,
    secret_bytes,
    valid_challenge,
)
from .keys import policy_requirement
from .negotiation import DLMS_VERSION, is_ciphered, negotiate, server_conformance, vaa_name

__all__ = [
    "MeterAccess", "AssociationState", "Negotiated", "Protection", "PolicyViolation", "AssociationSession",
    "exception_response",
]

M = MechanismName
_UNICAST, _BROADCAST = KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY, KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY
_SC_BROADCAST = 0x40  # security control bit B
_DECIPHERING_ERROR = ConfirmedServiceError(ConfirmedService.INITIATE_ERROR, ApplicationReferenceError.DECIPHERING_ERROR)
# Security events (EventCode: association authentication failure, decryption or authentication
# failure, replay attack) go to the fraud detection log as in IDIS, else the communication log,
# else the standard one.
_SECURITY_LOGS = ("fraud", "communication", "standard")
_PROFILE_GENERIC = 7


class MeterAccess(Protocol):
    """What a session needs of its meter (the server layer's `Meter`): the model and profile
    fields, the meter's state, its random source, and its objects for one request."""

    @property
    def model(self) -> MeterModel: ...

    @property
    def fields(self) -> dict[str, Any]: ...

    @property
    def state(self) -> MeterState: ...

    @property
    def rng(self) -> random.Random: ...

    def object(self, device: LogicalDeviceSpec, index: int, now: float,
               association: Any = None) -> ObjectContext | None: ...


class AssociationState(Enum):
    """The association's state; the values are the Blue Book's association_status."""

    IDLE = 0  # non-associated
    PENDING_HLS = 1  # association-pending: AARE sent, HLS pass 3 awaited
    ASSOCIATED = 2


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What the AARQ/AARE exchange agreed (or the model, for a pre-established association)."""

    context: ApplicationContextName
    mechanism: MechanismName
    conformance: Conformance
    client_max_receive_pdu_size: int
    server_max_receive_pdu_size: int
    dlms_version: int
    client_system_title: bytes | None
    dedicated_key: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Protection:
    """How a request was protected, so that its response is protected alike.

    `system_title` is the sender's (the client's); `security_control` the SC byte it used;
    `general` what a general-ciphering request carried that its answer mirrors.
    """

    style: CipherStyle
    security_control: int
    system_title: bytes | None
    general: GeneralExchange | None = None


class PolicyViolation(SecurityError):
    """A request carried less protection than the security policy demands (plaintext where
    ciphering is required, or an SC without the A or E bit the policy asks for)."""


def exception_response(error: SecurityError) -> ExceptionResponse:
    """How the server answers a request `open` refused, as real meters and clients expect:
    state-error service-not-allowed, with invocation-counter-error and the lowest counter the
    server will accept for a replayed counter, else deciphering-error (which clients read as
    "must be ciphered", and which covers a failed tag or an unknown key alike)."""
    if isinstance(error, InvocationCounterError):
        return ExceptionResponse(StateError.SERVICE_NOT_ALLOWED, ServiceError.INVOCATION_COUNTER_ERROR,
                                 min(error.last + 1, IC_MAX))
    return ExceptionResponse(StateError.SERVICE_NOT_ALLOWED, ServiceError.DECIPHERING_ERROR)


class _Refused(Exception):
    """Internal: stop handling an AARQ and answer with this AARE."""

    def __init__(self, aare: AARE) -> None:
        self.aare = aare
        super().__init__(aare.result_source_diagnostic.name)


class AssociationSession:
    """One client SAP's association on one channel (one transport connection)."""

    __slots__ = ("meter", "device", "spec", "state", "negotiated", "persistent", "user_id", "_challenges",
                 "_dedicated", "_title", "_refusal")

    def __init__(self, meter: MeterAccess, device: LogicalDeviceSpec, spec: AssociationSpec) -> None:
        self.meter = meter
        self.device = device
        self.spec = spec
        self.state = AssociationState.IDLE
        self.negotiated: Negotiated | None = None
        self.persistent = False  # pre-established: no AARQ needed, no RLRQ releases it
        self.user_id: int | None = None  # calling-AE-invocation-id of the AARQ (Association LN current_user)
        self._challenges: Challenges | None = None
        self._dedicated: InvocationCounters | None = None  # counters under the dedicated key
        self._title: bytes | None = None  # our system title, read once per association
        self._refusal: str | None = None  # why the last AARQ or pass 3 was refused (for the log)

    @classmethod
    def pre_established(cls, meter: MeterAccess, device: LogicalDeviceSpec,
                        spec: AssociationSpec) -> AssociationSession:
        """An association that exists without AARQ: ASSOCIATED at once with the model's terms.

        Its client system title, needed for glo-APDUs, is the Security setup object's
        client_system_title (general-ciphering APDUs bring their own).
        """
        session = cls(meter, device, spec)
        title = session._setup_octets(4, 0.0)
        session.negotiated = Negotiated(
            spec.context, spec.mechanism, server_conformance(spec), spec.max_receive_pdu_size,
            spec.max_receive_pdu_size, DLMS_VERSION, title if title and len(title) == SYSTEM_TITLE_LENGTH else None)
        session.state = AssociationState.ASSOCIATED
        session.persistent = True
        return session

    @property
    def authenticated(self) -> bool:
        """True once requests may be served: no authentication, LLS accepted, or HLS pass 4 done."""
        return self.state is AssociationState.ASSOCIATED

    def __repr__(self) -> str:
        return (f"AssociationSession(client_sap={self.spec.client_sap}, server_sap={self.device.server_sap}, "
                f"state={self.state.name})")

    # ------------------------------------------------------------------ AARQ / AARE

    def handle_aarq(self, aarq: bytes, now: float) -> bytes:
        """Answer an AARQ with the AARE bytes; never raises.

        Anything that cannot be decoded is refused rejected-permanent / no-reason-given. A
        refused AARQ leaves the session IDLE, except a pre-established one, which stays as it was.
        """
        saved = (self.state, self.negotiated, self.user_id, self._challenges, self._dedicated)
        self._reset()
        try:
            aare = self._associate(aarq, now)
        except _Refused as refusal:
            aare = refusal.aare
        except (DLMSError, KeyError, IndexError, ValueError):  # a template of the model or profile that
            aare = self._rejection(AcseServiceUser.NO_REASON_GIVEN,  # does not render: still an answer
                                   why="a template of the model or profile does not render")
        if aare.result != AssociationResult.ACCEPTED:
            if self.persistent:
                self.state, self.negotiated, self.user_id, self._challenges, self._dedicated = saved
            else:
                self._reset()
        return aare.to_bytes()

    def _associate(self, data: bytes, now: float) -> AARE:
        spec = self.spec
        try:
            aarq = AARQ.from_bytes(data)
        except DecodeError:
            raise _Refused(self._rejection(AcseServiceUser.NO_REASON_GIVEN, why="the AARQ does not decode")) from None
        if aarq.protocol_version is not None and not aarq.protocol_version.bits.startswith("1"):
            raise _Refused(self._rejection(AcseServiceProvider.NO_COMMON_ACSE_VERSION,
                                           why="the AARQ's protocol-version has no version 1"))
        if aarq.application_context_name != spec.context:
            raise _Refused(self._rejection(
                AcseServiceUser.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED,
                why=f"the AARQ proposes context {_name(aarq.application_context_name)}, "
                    f"the association uses {_name(spec.context)}"))
        mechanism_refusal = self._mechanism_refusal(aarq)
        if mechanism_refusal is not None:
            raise _Refused(self._rejection(
                mechanism_refusal, why=f"the AARQ names mechanism {_name(aarq.mechanism_name)}, the association "
                                       f"uses {_name(spec.mechanism)}" + ("" if spec.mechanism in SUPPORTED_MECHANISMS
                                                                          else " (not implemented)")))
        uses_keys = is_ciphered(spec.context) or spec.mechanism == M.HIGH_GMAC
        title = aarq.calling_ap_title if aarq.calling_ap_title and len(aarq.calling_ap_title) == SYSTEM_TITLE_LENGTH \
            else None
        server_title = None
        if uses_keys:
            if title is None:
                raise _Refused(self._rejection(AcseServiceUser.CALLING_AP_TITLE_NOT_RECOGNIZED,
                                               why="no calling-AP-title of 8 octets (the client system title)"))
            fault = self.meter.state.persistence_fault
            if fault is not None:
                raise _Refused(self._rejection(AcseServiceUser.NO_REASON_GIVEN,
                                               why=f"ciphered service is refused: {fault}"))
            material, server_title = self._material(now), self._server_title(now)
            if material is None or server_title is None \
                    or material.cipher_keys(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY) is None:
                raise _Refused(self._rejection(AcseServiceUser.NO_REASON_GIVEN,
                                               why="the model gives this meter no system title or keys"))
        challenges = self._authenticate(aarq, now)
        if not self._user_known(aarq.calling_ae_invocation_id, now):
            raise _Refused(self._rejection(
                AcseServiceUser.CALLING_AE_INVOCATION_IDENTIFIER_NOT_RECOGNIZED,
                why=f"calling-AE-invocation-id {aarq.calling_ae_invocation_id} is not in the user_list"))
        if aarq.user_information is None:
            raise _Refused(self._rejection(AcseServiceUser.NO_REASON_GIVEN,
                                           why="no InitiateRequest in the AARQ's user-information"))
        initiate, protection = self._initiate_request(aarq.user_information, title, now)
        answer = negotiate(initiate, spec)
        if isinstance(answer, InitiateError):
            raise _Refused(self._rejection(AcseServiceUser.NO_REASON_GIVEN,
                                           ConfirmedServiceError(ConfirmedService.INITIATE_ERROR, answer),
                                           why=f"the InitiateRequest cannot be met ({_name(answer)})"))
        dedicated = initiate.dedicated_key if protection is not None else None  # never trust one sent in clear
        if dedicated is not None and len(dedicated) != KEY_LENGTH:
            raise _Refused(self._rejection(AcseServiceUser.NO_REASON_GIVEN, ConfirmedServiceError(
                ConfirmedService.INITIATE_ERROR, InitiateError.OTHER), why="the dedicated key is not 16 octets"))
        user_information = answer.to_bytes()
        if protection is not None:
            user_information = self._protect(user_information, protection, now)
        hls = challenges is not None
        aare = AARE(
            application_context_name=spec.context,
            result=AssociationResult.ACCEPTED,
            result_source_diagnostic=AcseServiceUser.AUTHENTICATION_REQUIRED if hls else AcseServiceUser.NULL,
            responding_ap_title=server_title if uses_keys else None,
            responder_acse_requirements=spec.mechanism != M.LOWEST,
            mechanism_name=None if spec.mechanism == M.LOWEST else spec.mechanism,
            responding_authentication_value=challenges.stoc if challenges is not None else None,
            user_information=user_information,
        )
        self.negotiated = Negotiated(
            spec.context, spec.mechanism, answer.negotiated_conformance, initiate.client_max_receive_pdu_size,
            answer.server_max_receive_pdu_size, answer.negotiated_dlms_version_number, title, dedicated)
        self._dedicated = InvocationCounters(FIRST_TRANSMIT_COUNTER) if dedicated is not None else None
        self._challenges = challenges
        self.user_id = aarq.calling_ae_invocation_id
        self.state = AssociationState.PENDING_HLS if hls else AssociationState.ASSOCIATED
        return aare

    def _mechanism_refusal(self, aarq: AARQ) -> AcseServiceUser | None:
        """The diagnostic for a mechanism-name that does not match the association's, if any."""
        wanted, given = self.spec.mechanism, aarq.mechanism_name
        if given is None:
            return None if wanted == M.LOWEST else AcseServiceUser.AUTHENTICATION_MECHANISM_NAME_REQUIRED
        if given != wanted or wanted not in SUPPORTED_MECHANISMS:
            return AcseServiceUser.AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNISED
        return None

    def _authenticate(self, aarq: AARQ, now: float) -> Challenges | None:
        """Check an LLS password; for HLS take the client's challenge and draw ours."""
        mechanism, value = self.spec.mechanism, aarq.calling_authentication_value
        if mechanism == M.LOWEST:
            return None
        if value is None:
            raise _Refused(self._rejection(AcseServiceUser.AUTHENTICATION_REQUIRED,
                                           why="no calling-authentication-value"))
        key = (self.device.server_sap, self.spec.client_sap)
        lockout = self.meter.state.lockout(*key)
        wait = locked_for(lockout, now)
        if wait:  # the right password too: the client must not learn that the lock is the reason
            raise _Refused(self._rejection(AcseServiceUser.AUTHENTICATION_FAILURE, why=(
                f"locked out for {wait:.0f} s more after {self.spec.lockout.failures if self.spec.lockout else 0} "
                f"failed authentications (lock-out {lockout.lockouts if lockout else 0}); the password was not checked")))
        if mechanism == M.LOW:
            if not password_matches(self._secret(now), value):
                raise _Refused(self._rejection(AcseServiceUser.AUTHENTICATION_FAILURE,
                                               why=self._failed(key, "wrong LLS password", now)))
            self._succeeded(key)
            return None
        if not isinstance(value, bytes) or not valid_challenge(value) or mechanism not in HLS_MECHANISMS:
            raise _Refused(self._rejection(AcseServiceUser.AUTHENTICATION_FAILURE,
                                           why="the HLS challenge (CtoS) is not 8 to 64 octets"))
        # StoC as long as the client's CtoS: a length every client accepts, since it chose it.
        return Challenges(value, make_challenge(self.meter.rng, len(value)))

    def _initiate_request(self, data: bytes, title: bytes | None,
                          now: float) -> tuple[InitiateRequest, Protection | None]:
        """The AARQ's InitiateRequest, deciphered when it came glo-ciphered."""
        protection = None
        if data and is_ciphered_tag(data[0]):
            if not is_ciphered(self.spec.context):
                raise _Refused(self._rejection(AcseServiceUser.NO_REASON_GIVEN,
                                               why="a ciphered InitiateRequest in an unciphered context"))
            try:
                data, protection = self._decipher(data, title, now)
            except SecurityError as error:
                raise _Refused(self._rejection(AcseServiceUser.NO_REASON_GIVEN, _DECIPHERING_ERROR, why=(
                    f"the InitiateRequest from system title {title.hex().upper() if title else '?'} is refused: "
                    f"{error}"))) from None
        elif self._requirement(now).any:
            raise _Refused(self._rejection(AcseServiceUser.NO_REASON_GIVEN, _DECIPHERING_ERROR,
                                           why="the security policy requires a ciphered InitiateRequest"))
        try:
            return InitiateRequest.from_bytes(data), protection
        except DecodeError:
            raise _Refused(self._rejection(AcseServiceUser.NO_REASON_GIVEN,
                                           why="the InitiateRequest does not decode")) from None

    def _security_event(self, code: int, now: float) -> None:
        """Log an event the association raised in the meter's first log of `_SECURITY_LOGS`."""
        anchor = self._object(self.spec.association_object, now) or self._object(0, now)
        if anchor is None:
            return
        log = next((name for name in _SECURITY_LOGS if anchor.find(EVENT_LOGS[name], _PROFILE_GENERIC) is not None),
                   _SECURITY_LOGS[0])
        log_event(anchor, log, code)

    def _failed(self, key: tuple[int, int], what: str, now: float) -> str:
        """Count a failed authentication against the client SAP and log it; what happened, in words."""
        self._security_event(EventCode.ASSOCIATION_AUTHENTICATION_FAILURE, now)
        state = self.meter.state.change_lockout(*key)
        policy = self.spec.lockout
        locked = record_failure(state, policy, now)
        if policy is None:
            return f"{what} (failure {state.total_failures}; no lock-out configured)"
        if locked:
            return f"{what}: {policy.failures} failures in a row, client locked out for {locked:.0f} s " \
                   f"(lock-out {state.lockouts}, {state.total_failures} failures in all)"
        return f"{what} (failure {state.failures} of {policy.failures} before a lock-out)"

    def _succeeded(self, key: tuple[int, int]) -> None:
        """A successful authentication ends the client SAP's count of failures."""
        lockout = self.meter.state.lockout(*key)
        if lockout is not None and (lockout.failures or lockout.lockouts):
            record_success(self.meter.state.change_lockout(*key))

    def take_refusal(self) -> str | None:
        """Why the last AARQ or HLS pass 3 was refused, in words (never a secret), once."""
        refusal, self._refusal = self._refusal, None
        return refusal

    def _rejection(self, diagnostic: AcseServiceUser | AcseServiceProvider,
                   error: ConfirmedServiceError | None = None, why: str = "") -> AARE:
        self._refusal = f"association refused (rejected-permanent, {_name(diagnostic)}): {why}"
        return AARE(application_context_name=self.spec.context, result=AssociationResult.REJECTED_PERMANENT,
                    result_source_diagnostic=diagnostic,
                    user_information=None if error is None else error.to_bytes())

    def _user_known(self, user_id: int | None, now: float) -> bool:
        """An Association LN/SN with a non-empty user_list admits only the users it lists."""
        home = self._object(self.spec.association_object, now)
        adef = None if home is None else home.cls.attribute_named("user_list")
        if home is None or adef is None:
            return True
        users = home.get(adef.index)
        if users.type != DataType.ARRAY or not users.value:
            return True
        return any(u.type == DataType.STRUCTURE and u.value and u.value[0].value == user_id for u in users.value)

    # ------------------------------------------------------------------ HLS pass 3 / 4

    def reply_to_hls(self, f_ctos: bytes, now: float) -> bytes:
        """Check the client's pass 3 (its f(StoC), the reply_to_HLS_authentication parameter)
        and return pass 4, our f(CtoS).

        Raises ActionFailure(READ_WRITE_DENIED) when no HLS authentication is pending and
        ActionFailure(OTHER_REASON) when the client's answer is wrong; the association is then
        not established (IDLE) and only a new AARQ helps. `negotiated` stays so that the
        response can still be sealed.
        """
        challenges, negotiated = self._challenges, self.negotiated
        if self.state is not AssociationState.PENDING_HLS or challenges is None or negotiated is None:
            raise ActionFailure(ActionResult.READ_WRITE_DENIED, "no HLS authentication is pending")
        mechanism = negotiated.mechanism
        material = self._material(now)
        keys = None if material is None else material.cipher_keys(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY)
        secret = None if mechanism == M.HIGH_GMAC else self._secret(now)
        try:
            check_pass3(mechanism, f_ctos, challenges, secret=secret,
                        client_title=negotiated.client_system_title, keys=keys)
            counter = material.next_transmit(_UNICAST) if material is not None and mechanism == M.HIGH_GMAC else 0
            answer = pass4(mechanism, challenges, secret=secret, server_title=self._server_title(now),
                           invocation_counter=counter, keys=keys)
        except (SecurityError, SecurityParameterError):
            self._challenges = None
            self.state = AssociationState.IDLE
            self._refusal = "HLS authentication failed: " + self._failed(
                (self.device.server_sap, self.spec.client_sap), "the client's f(StoC) is wrong (pass 3)", now)
            raise ActionFailure(ActionResult.OTHER_REASON, "HLS authentication failed") from None
        self._succeeded((self.device.server_sap, self.spec.client_sap))
        self._challenges = None
        self.state = AssociationState.ASSOCIATED
        return answer

    # ------------------------------------------------------------------ RLRQ / RLRE

    def handle_rlrq(self, rlrq: bytes, now: float) -> bytes:
        """Answer an RLRQ with the RLRE bytes; never raises.

        The association is released (RLRE reason normal), with an InitiateResponse (ciphered
        like the request's) when the RLRQ carried an InitiateRequest. An RLRQ whose
        InitiateRequest cannot be opened or read is answered not-finished and releases nothing,
        so a forged RLRQ cannot end a ciphered association. An RLRQ that does not decode (a
        lone `62`, a length past its end) is no release request at all: ISO/IEC 8650-1 would
        have the ACPM abort, which the DLMS/COSEM profiles carry no APDU for, so the meter
        refuses it with the Release-response-reason ACSE gives a responder that does not
        accept the release (not-finished) and keeps the association. A pre-established
        association is never released (not-finished).
        """
        try:
            request = RLRQ.from_bytes(rlrq)
        except DecodeError:
            return RLRE(reason=ReleaseResponseReason.NOT_FINISHED).to_bytes()
        if self.persistent:
            return RLRE(reason=ReleaseResponseReason.NOT_FINISHED).to_bytes()
        user_information = None
        if request.user_information is not None and self.negotiated is not None:
            try:
                user_information = self._release_response(request.user_information, self.negotiated, now)
            except DLMSError:
                return RLRE(reason=ReleaseResponseReason.NOT_FINISHED).to_bytes()
        self._reset()
        return RLRE(reason=ReleaseResponseReason.NORMAL, user_information=user_information).to_bytes()

    def _release_response(self, data: bytes, negotiated: Negotiated, now: float) -> bytes:
        plain, protection = self.open(data, now)
        InitiateRequest.from_bytes(plain)
        response = InitiateResponse(negotiated_dlms_version_number=negotiated.dlms_version,
                                    negotiated_conformance=negotiated.conformance,
                                    server_max_receive_pdu_size=negotiated.server_max_receive_pdu_size,
                                    vaa_name=vaa_name(negotiated.context)).to_bytes()
        return response if protection is None else self._protect(response, protection, now)

    # ------------------------------------------------------------------ open / seal

    def open(self, apdu: bytes, now: float) -> tuple[bytes, Protection | None]:
        """The plaintext of a request and how it was protected (None: it came in clear).

        Raises SecurityError, to be answered with `exception_response(error)`:
        - PolicyViolation: plaintext, or protection weaker than the policy (e.g. SC 0x20 or
          0x10 where 0x30 is required), or a ciphered APDU in an unciphered context;
        - InvocationCounterError: the counter is not above the last one accepted from that
          client under that key (replay);
        - SecurityError: anything else (bad tag, unknown key, malformed container, a system
          title other than the association's client's).
        """
        material = self._existing_material()
        if material is not None:
            material.commit()  # a key_transfer whose response was never sealed
        if not apdu or not is_ciphered_tag(apdu[0]):
            if self._requirement(now).any:
                raise PolicyViolation("the security policy requires protected requests")
            return apdu, None
        if not is_ciphered(self.spec.context):
            raise PolicyViolation("ciphered APDUs need a ciphered application context")
        if self.meter.state.persistence_fault is not None:
            raise SecurityError(f"ciphered service is refused: {self.meter.state.persistence_fault}")
        title = None if self.negotiated is None else self.negotiated.client_system_title
        return self._decipher(apdu, title, now)

    def seal(self, plain: bytes, protection: Protection | None, now: float) -> bytes:
        """Protect a response like its request: same style, same SC, our title and next counter.

        An APDU that has no glo-/ded- form (exception-response, general-block-transfer, ...)
        goes in general-glo/general-ded-ciphering instead. Keys staged by key_transfer come
        into force after this response is protected.
        """
        try:
            return plain if protection is None else self._protect(plain, protection, now)
        finally:
            material = self._existing_material()
            if material is not None:
                material.commit()

    def _decipher(self, apdu: bytes, title: bytes | None, now: float) -> tuple[bytes, Protection]:
        material = self._material(now)
        if material is None:
            raise SecurityError("this association has no security setup")
        dedicated = None if self.negotiated is None else self.negotiated.dedicated_key

        def lookup(request: KeyRequest) -> CipherKeys | None:
            if request.dedicated:
                ak = material.key(KeyId.AUTHENTICATION_KEY)
                return None if dedicated is None or ak is None else CipherKeys(dedicated, ak)
            return material.cipher_keys(KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY if request.broadcast
                                        else KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY)

        try:
            opened = decrypt_apdu(apdu, lookup, system_title=title)
        except DecodeError as error:
            self._security_event(EventCode.DECRYPTION_OR_AUTHENTICATION_FAILURE, now)
            raise SecurityError(f"malformed ciphered APDU: {error.reason}") from None
        except SecurityError:  # a wrong tag, or no key for the sender
            self._security_event(EventCode.DECRYPTION_OR_AUTHENTICATION_FAILURE, now)
            raise
        if title is not None and opened.system_title != title:
            raise SecurityError("system title is not the association's client's")
        general = opened.general
        if general is not None and general.recipient_system_title \
                and general.recipient_system_title != self._server_title(now):
            raise SecurityError(f"recipient-system-title {general.recipient_system_title.hex().upper()} "
                                f"is not this meter's")
        sc = opened.security_control
        need = self._requirement(now)
        if (need.authenticated and not sc.authenticated) or (need.encrypted and not sc.encrypted):
            raise PolicyViolation(f"{sc} is weaker than the security policy")
        key_id = None if opened.style.dedicated else _BROADCAST if sc.broadcast_key else _UNICAST
        try:
            if key_id is not None:
                material.accept(key_id, opened.system_title, opened.invocation_counter)
            elif self._dedicated is None:
                raise SecurityError("no dedicated key was agreed")
            else:
                self._dedicated.check_and_update(opened.system_title, opened.invocation_counter)
        except InvocationCounterError as error:  # the log names the sender: a head-end has several titles
            error.args = (f"{error} from system title {opened.system_title.hex().upper()}",)
            self._security_event(EventCode.REPLAY_ATTACK, now)
            raise
        return opened.apdu, Protection(opened.style, sc.to_byte(), opened.system_title, general)

    def _protect(self, plain: bytes, protection: Protection, now: float) -> bytes:
        material = self._material(now)
        title = self._server_title(now)
        if material is None or title is None:
            raise SecurityParameterError("no server system title or keys to protect the response")
        style = protection.style
        if not style.general and not _has_glo_form(plain):
            style = CipherStyle.GENERAL_DED if style.dedicated else CipherStyle.GENERAL_GLO
        ak = material.key(KeyId.AUTHENTICATION_KEY)
        dedicated = self._dedicated if style.dedicated else None
        if style.dedicated:
            ek = None if self.negotiated is None else self.negotiated.dedicated_key
        else:
            ek = material.key(_UNICAST)
        if ek is None or ak is None or (style.dedicated and dedicated is None):
            raise SecurityParameterError("no key to protect the response")
        sc = SecurityControl.from_byte(protection.security_control & ~_SC_BROADCAST)  # answers use the unicast key
        counter = dedicated.next() if dedicated is not None else material.next_transmit(_UNICAST)
        return encrypt_apdu(plain, style, sc, title, counter, ek, ak, protection.general)

    # ------------------------------------------------------------------ model access

    def _reset(self) -> None:
        self.state = AssociationState.IDLE
        self.negotiated = None
        self.user_id = None
        self._challenges = None
        self._dedicated = None
        self._title = None

    def _object(self, index: int | None, now: float) -> ObjectContext | None:
        return None if index is None else self.meter.object(self.device, index, now, self)

    def _existing_material(self) -> SecurityState | None:
        """The keys and counters of the association's Security setup object, if the meter has
        any yet; asking never creates them."""
        index = self.spec.security_setup_object
        return None if index is None else self.meter.state.security(self.device.server_sap, index)

    def _material(self, now: float) -> SecurityState | None:
        setup = self._object(self.spec.security_setup_object, now)
        return None if setup is None else setup.security()

    def _setup_octets(self, attribute: int, now: float) -> bytes | None:
        setup = self._object(self.spec.security_setup_object, now)
        value = None if setup is None else setup.get(attribute)
        return value.value if value is not None and value.type == DataType.OCTET_STRING else None

    def _server_title(self, now: float) -> bytes | None:
        """Security setup server_system_title, read once per association: every ciphered answer
        needs it, and a meter's title does not change while a client is associated."""
        if self._title is None:
            title = self._setup_octets(5, now)
            self._title = title if title is not None and len(title) == SYSTEM_TITLE_LENGTH else None
        return self._title

    def _requirement(self, now: float) -> Requirement:
        setup = self._object(self.spec.security_setup_object, now)
        value = None if setup is None else setup.get(2)  # security_policy
        return policy_requirement(self.spec.security_policy,
                                  value.value if value is not None and value.type == DataType.ENUM else None)

    def _secret(self, now: float) -> bytes | None:
        """The LLS password or HLS secret: the meter's own (changed by a client), else the model's."""
        index = self.spec.association_object
        own = None if index is None else self.meter.state.secret(self.device.server_sap, index)
        if own is not None:
            return bytes(own)
        home = self._object(self.spec.association_object, now)
        if home is not None:
            adef = home.cls.attribute_named("secret")
            value = None if adef is None else home.stored(adef.index)
            if value is not None:
                return secret_bytes(value)
        if self.spec.secret is None:
            return None
        try:
            return secret_bytes(self.spec.secret.render(self.meter.fields))
        except (KeyError, IndexError, ValueError):
            raise SecurityParameterError("the association's secret template does not render") from None


def _name(value: object) -> str:
    """An enum member as the standard writes it (authentication-failure); other values as they are."""
    if value is None:
        return "none"
    name = getattr(value, "name", None)
    return str(value) if name is None else name.lower().replace("_", "-")


def _has_glo_form(plain: bytes) -> bool:
    try:
        ciphered_tag(plain[0], False)
    except (EncodeError, IndexError):
        return False
    return True
