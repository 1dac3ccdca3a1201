"""The ACSE APDUs of DLMS/COSEM (Green Book, IEC 62056-5-3 ACSE; ISO/IEC 8650-1): AARQ, AARE,
RLRQ and RLRE, BER-encoded.

Each APDU is an [APPLICATION n] constructed SEQUENCE of context-tagged fields:

    60 len  AARQ   80 protocol-version   A1 application-context-name  A2..A5 called-*
                   A6 calling-AP-title   A7 calling-AE-qualifier      A8/A9 calling-*-invocation-id
                   8A sender-acse-requirements  8B mechanism-name  AC calling-authentication-value
                   9D implementation-information  BE user-information
    61 len  AARE   80 protocol-version   A1 application-context-name  A2 result
                   A3 result-source-diagnostic  A4 responding-AP-title  A5 responding-AE-qualifier
                   A6/A7 responding-*-invocation-id  88 responder-acse-requirements
                   89 mechanism-name  AA responding-authentication-value  9D ..  BE ..
    62 len  RLRQ   80 reason  BE user-information
    63 len  RLRE   80 reason  BE user-information

Encoding writes fields in that order and omits absent ones. Decoding wants the known fields in
ascending tag order without repeats (the SEQUENCE order), skips well-formed context-tagged
fields it does not model (application-context-name-list, later extensions: a real head-end may
send them) and raises `DecodeError` on anything malformed. An application-context or mechanism
OID that is not one of DLMS's is kept as its raw OID contents (`bytes`), so the association can
answer with the standard's diagnostic instead of dropping the request.

user-information carries the encoded xDLMS APDU (InitiateRequest/Response, a ciphered one, or a
ConfirmedServiceError) as bytes; `simulator.apdu.initiate` decodes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import TypeVar

from ..axdr import BitString, Reader
from ..errors import DecodeError, EncodeError
from .ber import (
    INTEGER, OBJECT_IDENTIFIER, OCTET_STRING, TLV, Tag, TagClass, decode_bit_string, decode_integer,
    encode_bit_string, encode_integer, encode_tlv, read_single, read_tlv,
)

__all__ = [
    "ApplicationContextName", "MechanismName", "AssociationResult", "AcseServiceUser",
    "AcseServiceProvider", "ReleaseRequestReason", "ReleaseResponseReason",
    "OtherAuthenticationValue", "AuthenticationValue", "AARQ", "AARE", "RLRQ", "RLRE",
]

_DLMS_UA_OID = bytes.fromhex("6085740508")  # 2.16.756.5.8 (DLMS UA)
_CONTEXT_OID = _DLMS_UA_OID + b"\x01"  # 2.16.756.5.8.1.x application context names
_MECHANISM_OID = _DLMS_UA_OID + b"\x02"  # 2.16.756.5.8.2.x authentication mechanism names
_AUTHENTICATION = BitString("1")  # ACSE-requirements bit 0: the authentication functional unit


class ApplicationContextName(IntEnum):
    """The last arc of 2.16.756.5.8.1.x: referencing and whether APDUs are ciphered."""

    LOGICAL_NAME = 1
    SHORT_NAME = 2
    LOGICAL_NAME_WITH_CIPHERING = 3
    SHORT_NAME_WITH_CIPHERING = 4


class MechanismName(IntEnum):
    """The last arc of 2.16.756.5.8.2.x: the authentication mechanism."""

    LOWEST = 0
    LOW = 1
    HIGH = 2
    HIGH_MD5 = 3
    HIGH_SHA1 = 4
    HIGH_GMAC = 5
    HIGH_SHA256 = 6
    HIGH_ECDSA = 7


class AssociationResult(IntEnum):
    ACCEPTED = 0
    REJECTED_PERMANENT = 1
    REJECTED_TRANSIENT = 2


class AcseServiceUser(IntEnum):
    """result-source-diagnostic acse-service-user [1] values."""

    NULL = 0
    NO_REASON_GIVEN = 1
    APPLICATION_CONTEXT_NAME_NOT_SUPPORTED = 2
    CALLING_AP_TITLE_NOT_RECOGNIZED = 3
    CALLING_AP_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 4
    CALLING_AE_QUALIFIER_NOT_RECOGNIZED = 5
    CALLING_AE_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 6
    CALLED_AP_TITLE_NOT_RECOGNIZED = 7
    CALLED_AP_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 8
    CALLED_AE_QUALIFIER_NOT_RECOGNIZED = 9
    CALLED_AE_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 10
    AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNISED = 11
    AUTHENTICATION_MECHANISM_NAME_REQUIRED = 12
    AUTHENTICATION_FAILURE = 13
    AUTHENTICATION_REQUIRED = 14


class AcseServiceProvider(IntEnum):
    """result-source-diagnostic acse-service-provider [2] values."""

    NULL = 0
    NO_REASON_GIVEN = 1
    NO_COMMON_ACSE_VERSION = 2


class ReleaseRequestReason(IntEnum):
    NORMAL = 0
    URGENT = 1
    USER_DEFINED = 30


class ReleaseResponseReason(IntEnum):
    NORMAL = 0
    NOT_FINISHED = 1
    USER_DEFINED = 30


@dataclass(frozen=True, slots=True)
class OtherAuthenticationValue:
    """An Authentication-value other than charstring [0] (bitstring [1], external [2], other [3]).

    DLMS only uses charstring, so the others are kept as their BER encoding (the element inside
    the explicit tag) to be passed through or refused by the association, not interpreted.
    """

    encoded: bytes


AuthenticationValue = bytes | OtherAuthenticationValue
"""charstring [0] octets (a password or challenge), or another alternative kept raw."""

_E = TypeVar("_E", bound=IntEnum)


# --------------------------------------------------------------------------- decoding helpers

def _open(data: bytes, number: int, name: str) -> Reader:
    """The contents of the [APPLICATION number] constructed element that must be all of `data`."""
    r = Reader(data)
    el = read_tlv(r)
    if el.tag != Tag(TagClass.APPLICATION, number, True):
        raise DecodeError(f"not an {name}: tag {el.tag}", 0)
    r.expect_end(name)
    return el.content


def _fields(content: Reader, layout: dict[int, bool | None], name: str) -> dict[int, TLV]:
    """The known context-tagged fields by number, checked for order and constructed bit.

    `layout` maps a field number to whether it must be constructed (None: either is accepted).
    """
    found: dict[int, TLV] = {}
    last = -1
    while not content.at_end():
        el = read_tlv(content)
        tag = el.tag
        if tag.cls is not TagClass.CONTEXT:
            raise DecodeError(f"{name}: unexpected {tag}", el.offset)
        if tag.number not in layout:
            continue  # an optional field this profile does not use
        if tag.number <= last:
            raise DecodeError(f"{name}: field [{tag.number}] repeated or out of order", el.offset)
        want = layout[tag.number]
        if want is not None and tag.constructed != want:
            raise DecodeError(f"{name}: field [{tag.number}] has the wrong form", el.offset)
        last = tag.number
        found[tag.number] = el
    return found


def _enum(names: type[_E], value: int, what: str, offset: int) -> _E:
    try:
        return names(value)
    except ValueError:
        raise DecodeError(f"unknown {what} {value}", offset) from None


def _octets(el: TLV, what: str) -> bytes:
    return read_single(el.content, OCTET_STRING, what).rest()


def _integer(el: TLV, what: str) -> int:
    return decode_integer(read_single(el.content, INTEGER, what), what)


def _explicit_enum(el: TLV, names: type[_E], what: str) -> _E:
    offset = el.content.pos
    return _enum(names, _integer(el, what), what, offset)


def _oid(content: Reader, prefix: bytes, names: type[_E], what: str) -> _E | bytes:
    """A DLMS UA OID as its enum member, any other well-formed OID as raw contents."""
    start = content.pos
    raw = content.rest()
    starts_arc = [True] + [b < 0x80 for b in raw[:-1]]
    if not raw or raw[-1] & 0x80 or any(b == 0x80 and s for b, s in zip(raw, starts_arc)):
        raise DecodeError(f"malformed OBJECT IDENTIFIER in {what}", start)
    if len(raw) == len(prefix) + 1 and raw.startswith(prefix) and raw[-1] in _values(names):
        return names(raw[-1])
    return raw


@lru_cache(maxsize=None)
def _values(names: type[IntEnum]) -> frozenset[int]:
    """The values of an enum of OID arcs, as a set (a membership test per AARQ/AARE field)."""
    return frozenset(int(m) for m in names)


def _context_name(el: TLV) -> ApplicationContextName | bytes:
    oid = read_single(el.content, OBJECT_IDENTIFIER, "application-context-name")
    return _oid(oid, _CONTEXT_OID, ApplicationContextName, "application-context-name")


def _requirements(el: TLV) -> bool:
    return decode_bit_string(el.content, "ACSE-requirements").bits[:1] == "1"


def _authentication_value(el: TLV) -> AuthenticationValue:
    raw = el.value
    inner = read_tlv(el.content)
    el.content.expect_end("authentication-value")
    if inner.tag == Tag(TagClass.CONTEXT, 0):
        return inner.content.rest()
    if inner.tag.cls is TagClass.CONTEXT and inner.tag.number in (1, 2, 3):
        return OtherAuthenticationValue(raw)
    raise DecodeError(f"authentication-value: unknown alternative {inner.tag}", inner.offset)


# --------------------------------------------------------------------------- encoding helpers

def _ctx(number: int, value: bytes, constructed: bool = True) -> bytes:
    return encode_tlv(Tag(TagClass.CONTEXT, number, constructed), value)


def _oid_contents(value: IntEnum | bytes, prefix: bytes, names: type[IntEnum], what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return prefix + bytes((names(value),))
    except ValueError:
        raise EncodeError(f"{what} {value!r} is neither a {names.__name__} nor raw OID bytes") from None


def _enum_value(names: type[_E], value: int, what: str) -> int:
    try:
        return int(names(value))
    except ValueError:
        raise EncodeError(f"{what} {value!r} is not a {names.__name__}") from None


def _opt_octets(number: int, value: bytes | None) -> bytes:
    return b"" if value is None else _ctx(number, encode_tlv(OCTET_STRING, value))


def _opt_integer(number: int, value: int | None) -> bytes:
    return b"" if value is None else _ctx(number, encode_tlv(INTEGER, encode_integer(value)))


def _opt_raw(number: int, value: bytes | None) -> bytes:
    return b"" if value is None else _ctx(number, value)


def _opt_auth(number: int, value: AuthenticationValue | None) -> bytes:
    if value is None:
        return b""
    if isinstance(value, OtherAuthenticationValue):
        return _ctx(number, value.encoded)
    return _ctx(number, _ctx(0, value, constructed=False))


def _common_head(protocol_version: BitString | None, context: ApplicationContextName | bytes) -> bytes:
    head = b"" if protocol_version is None else _ctx(0, encode_bit_string(protocol_version), False)
    oid = _oid_contents(context, _CONTEXT_OID, ApplicationContextName, "application-context-name")
    return head + _ctx(1, encode_tlv(OBJECT_IDENTIFIER, oid))


def _authentication_fields(base: int, requirements: bool, mechanism: MechanismName | bytes | None,
                           value: AuthenticationValue | None) -> bytes:
    """acse-requirements, mechanism-name and authentication-value at base, base+1, base+2."""
    out = _ctx(base, encode_bit_string(_AUTHENTICATION), False) if requirements else b""
    if mechanism is not None:
        out += _ctx(base + 1, _oid_contents(mechanism, _MECHANISM_OID, MechanismName, "mechanism-name"),
                    False)
    return out + _opt_auth(base + 2, value)


def _common_tail(implementation_information: bytes | None, user_information: bytes | None) -> bytes:
    tail = b"" if implementation_information is None else _ctx(29, implementation_information, False)
    return tail + _opt_octets(30, user_information)


def _mechanism(el: TLV | None) -> MechanismName | bytes | None:
    return None if el is None else _oid(el.content, _MECHANISM_OID, MechanismName, "mechanism-name")


# --------------------------------------------------------------------------- the APDUs

# field number -> constructed? (None: either; [29] is primitive by the standard, but dlms-cosem
# sends it constructed, 0xBD, with the octets directly inside)
_AARQ_LAYOUT: dict[int, bool | None] = {
    0: False, 1: True, 2: True, 3: True, 4: True, 5: True, 6: True, 7: True, 8: True, 9: True,
    10: False, 11: False, 12: True, 29: None, 30: True,
}
_AARE_LAYOUT: dict[int, bool | None] = {
    0: False, 1: True, 2: True, 3: True, 4: True, 5: True, 6: True, 7: True,
    8: False, 9: False, 10: True, 29: None, 30: True,
}
_RELEASE_LAYOUT: dict[int, bool | None] = {0: False, 30: True}


@dataclass(frozen=True, slots=True, kw_only=True)
class AARQ:
    """A-ASSOCIATE request, [APPLICATION 0].

    `protocol_version` None means the field is absent (DEFAULT {version1}). The called-* fields
    are not used by DLMS and are kept as the raw contents of their explicit tags.
    `calling_ap_title` is the client system title; `calling_ae_qualifier` its public-key
    certificate (ECDSA). The invocation ids are BER INTEGERs, read signed as the standard says
    (gurux-dlms writes a user id of 128..255 as one octet, which therefore reads negative).
    `sender_acse_requirements` True is the authentication functional unit (bit 0).
    """

    protocol_version: BitString | None = None
    application_context_name: ApplicationContextName | bytes = ApplicationContextName.LOGICAL_NAME
    called_ap_title: bytes | None = None
    called_ae_qualifier: bytes | None = None
    called_ap_invocation_id: bytes | None = None
    called_ae_invocation_id: bytes | None = None
    calling_ap_title: bytes | None = None
    calling_ae_qualifier: bytes | None = None
    calling_ap_invocation_id: int | None = None
    calling_ae_invocation_id: int | None = None
    sender_acse_requirements: bool = False
    mechanism_name: MechanismName | bytes | None = None
    calling_authentication_value: AuthenticationValue | None = None
    implementation_information: bytes | None = None
    user_information: bytes | None = None

    def to_bytes(self) -> bytes:
        body = (
            _common_head(self.protocol_version, self.application_context_name)
            + _opt_raw(2, self.called_ap_title)
            + _opt_raw(3, self.called_ae_qualifier)
            + _opt_raw(4, self.called_ap_invocation_id)
            + _opt_raw(5, self.called_ae_invocation_id)
            + _opt_octets(6, self.calling_ap_title)
            + _opt_octets(7, self.calling_ae_qualifier)
            + _opt_integer(8, self.calling_ap_invocation_id)
            + _opt_integer(9, self.calling_ae_invocation_id)
            + _authentication_fields(10, self.sender_acse_requirements, self.mechanism_name,
                                     self.calling_authentication_value)
            + _common_tail(self.implementation_information, self.user_information)
        )
        return encode_tlv(Tag(TagClass.APPLICATION, 0, True), body)

    @classmethod
    def from_bytes(cls, data: bytes) -> AARQ:
        f = _fields(_open(data, 0, "AARQ"), _AARQ_LAYOUT, "AARQ")
        if 1 not in f:
            raise DecodeError("AARQ without application-context-name", 0)
        return cls(
            protocol_version=None if 0 not in f else decode_bit_string(f[0].content, "protocol-version"),
            application_context_name=_context_name(f[1]),
            called_ap_title=None if 2 not in f else f[2].content.rest(),
            called_ae_qualifier=None if 3 not in f else f[3].content.rest(),
            called_ap_invocation_id=None if 4 not in f else f[4].content.rest(),
            called_ae_invocation_id=None if 5 not in f else f[5].content.rest(),
            calling_ap_title=None if 6 not in f else _octets(f[6], "calling-AP-title"),
            calling_ae_qualifier=None if 7 not in f else _octets(f[7], "calling-AE-qualifier"),
            calling_ap_invocation_id=None if 8 not in f else _integer(f[8], "calling-AP-invocation-id"),
            calling_ae_invocation_id=None if 9 not in f else _integer(f[9], "calling-AE-invocation-id"),
            sender_acse_requirements=10 in f and _requirements(f[10]),
            mechanism_name=_mechanism(f.get(11)),
            calling_authentication_value=None if 12 not in f else _authentication_value(f[12]),
            implementation_information=None if 29 not in f else f[29].content.rest(),
            user_information=None if 30 not in f else _octets(f[30], "user-information"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AARE:
    """A-ASSOCIATE response, [APPLICATION 1].

    `result_source_diagnostic` is an `AcseServiceUser` (choice [1]) or an `AcseServiceProvider`
    (choice [2]). The responding-* fields mirror the calling-* fields of `AARQ`:
    `responding_ap_title` is the server system title, `responding_authentication_value` the
    server-to-client challenge of HLS.
    """

    protocol_version: BitString | None = None
    application_context_name: ApplicationContextName | bytes = ApplicationContextName.LOGICAL_NAME
    result: AssociationResult = AssociationResult.ACCEPTED
    result_source_diagnostic: AcseServiceUser | AcseServiceProvider = AcseServiceUser.NULL
    responding_ap_title: bytes | None = None
    responding_ae_qualifier: bytes | None = None
    responding_ap_invocation_id: int | None = None
    responding_ae_invocation_id: int | None = None
    responder_acse_requirements: bool = False
    mechanism_name: MechanismName | bytes | None = None
    responding_authentication_value: AuthenticationValue | None = None
    implementation_information: bytes | None = None
    user_information: bytes | None = None

    def to_bytes(self) -> bytes:
        diagnostic = self.result_source_diagnostic
        if isinstance(diagnostic, AcseServiceProvider):
            choice = 2
        elif isinstance(diagnostic, AcseServiceUser):
            choice = 1
        else:
            raise EncodeError(f"result-source-diagnostic {diagnostic!r} is neither an "
                              "AcseServiceUser nor an AcseServiceProvider")
        result = _enum_value(AssociationResult, self.result, "result")
        body = (
            _common_head(self.protocol_version, self.application_context_name)
            + _ctx(2, encode_tlv(INTEGER, encode_integer(result)))
            + _ctx(3, _ctx(choice, encode_tlv(INTEGER, encode_integer(diagnostic))))
            + _opt_octets(4, self.responding_ap_title)
            + _opt_octets(5, self.responding_ae_qualifier)
            + _opt_integer(6, self.responding_ap_invocation_id)
            + _opt_integer(7, self.responding_ae_invocation_id)
            + _authentication_fields(8, self.responder_acse_requirements, self.mechanism_name,
                                     self.responding_authentication_value)
            + _common_tail(self.implementation_information, self.user_information)
        )
        return encode_tlv(Tag(TagClass.APPLICATION, 1, True), body)

    @classmethod
    def from_bytes(cls, data: bytes) -> AARE:
        f = _fields(_open(data, 1, "AARE"), _AARE_LAYOUT, "AARE")
        for number, what in ((1, "application-context-name"), (2, "result"),
                             (3, "result-source-diagnostic")):
            if number not in f:
                raise DecodeError(f"AARE without {what}", 0)
        return cls(
            protocol_version=None if 0 not in f else decode_bit_string(f[0].content, "protocol-version"),
            application_context_name=_context_name(f[1]),
            result=_explicit_enum(f[2], AssociationResult, "association result"),
            result_source_diagnostic=_diagnostic(f[3]),
            responding_ap_title=None if 4 not in f else _octets(f[4], "responding-AP-title"),
            responding_ae_qualifier=None if 5 not in f else _octets(f[5], "responding-AE-qualifier"),
            responding_ap_invocation_id=None if 6 not in f else _integer(f[6], "responding-AP-invocation-id"),
            responding_ae_invocation_id=None if 7 not in f else _integer(f[7], "responding-AE-invocation-id"),
            responder_acse_requirements=8 in f and _requirements(f[8]),
            mechanism_name=_mechanism(f.get(9)),
            responding_authentication_value=None if 10 not in f else _authentication_value(f[10]),
            implementation_information=None if 29 not in f else f[29].content.rest(),
            user_information=None if 30 not in f else _octets(f[30], "user-information"),
        )


def _diagnostic(el: TLV) -> AcseServiceUser | AcseServiceProvider:
    inner = read_tlv(el.content)
    el.content.expect_end("result-source-diagnostic")
    names: type[AcseServiceUser] | type[AcseServiceProvider]
    if inner.tag == Tag(TagClass.CONTEXT, 1, True):
        names = AcseServiceUser
    elif inner.tag == Tag(TagClass.CONTEXT, 2, True):
        names = AcseServiceProvider
    else:
        raise DecodeError(f"result-source-diagnostic: unknown alternative {inner.tag}", inner.offset)
    return _explicit_enum(inner, names, f"{names.__name__} diagnostic")


def _release_reason(el: TLV | None, names: type[_E]) -> _E | None:
    if el is None:
        return None
    offset = el.content.pos
    return _enum(names, decode_integer(el.content, "release reason"), "release reason", offset)


def _release_body(reason: IntEnum | None, names: type[IntEnum], user_information: bytes | None) -> bytes:
    head = b"" if reason is None else _ctx(0, encode_integer(_enum_value(names, reason, "reason")), False)
    return head + _opt_octets(30, user_information)


@dataclass(frozen=True, slots=True, kw_only=True)
class RLRQ:
    """A-RELEASE request, [APPLICATION 2]; both fields optional (`62 00` is valid)."""

    reason: ReleaseRequestReason | None = None
    user_information: bytes | None = None

    def to_bytes(self) -> bytes:
        body = _release_body(self.reason, ReleaseRequestReason, self.user_information)
        return encode_tlv(Tag(TagClass.APPLICATION, 2, True), body)

    @classmethod
    def from_bytes(cls, data: bytes) -> RLRQ:
        f = _fields(_open(data, 2, "RLRQ"), _RELEASE_LAYOUT, "RLRQ")
        return cls(reason=_release_reason(f.get(0), ReleaseRequestReason),
                   user_information=None if 30 not in f else _octets(f[30], "user-information"))


@dataclass(frozen=True, slots=True, kw_only=True)
class RLRE:
    """A-RELEASE response, [APPLICATION 3]; both fields optional."""

    reason: ReleaseResponseReason | None = None
    user_information: bytes | None = None

    def to_bytes(self) -> bytes:
        body = _release_body(self.reason, ReleaseResponseReason, self.user_information)
        return encode_tlv(Tag(TagClass.APPLICATION, 3, True), body)

    @classmethod
    def from_bytes(cls, data: bytes) -> RLRE:
        f = _fields(_open(data, 3, "RLRE"), _RELEASE_LAYOUT, "RLRE")
        return cls(reason=_release_reason(f.get(0), ReleaseResponseReason),
                   user_information=None if 30 not in f else _octets(f[30], "user-information"))
