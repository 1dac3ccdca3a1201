"""Every APDU family described in the Green Book's words; ciphered APDUs opened when possible.

A ciphered APDU shows its security header and, when the keys and the sender's system title are
known, the APDU inside. The system title of a glo-/ded- APDU is not on the wire: it comes from
an AARQ's calling-AP-title (requests) or an AARE's responding-AP-title (responses) earlier in
the same input, else from the options. A dedicated key read from a deciphered InitiateRequest
opens later ded- APDUs.
"""

from __future__ import annotations

import dataclasses
import string
from enum import IntEnum
from typing import Any, Callable

from ..apdu.acse import (
    AARE, AARQ, RLRE, RLRQ, AcseServiceProvider, ApplicationContextName, MechanismName,
    OtherAuthenticationValue,
)
from ..apdu.ciphered import AgreedKey, CipheredAPDU, GeneralCiphering, GeneralCipheringAPDU, IdentifiedKey
from ..apdu.common import (
    CosemAttributeDescriptor, CosemMethodDescriptor, InvokeIdAndPriority, LongInvokeIdAndPriority,
    SelectiveAccess,
)
from ..apdu.initiate import Conformance, ConfirmedServiceError, InitiateRequest, InitiateResponse
from ..apdu.registry import APDU, decode_apdu, service_name
from ..apdu.sn import ParameterizedAccess, ReadRequest, ReadResponse, UnconfirmedWriteRequest, VariableName, WriteRequest
from ..axdr import CosemDate, CosemDateTime, CosemTime, Data, DataType, format_data
from ..cosem.registry import get_class
from ..errors import DecodeError
from ..security import CipherKeys, KeyLookup, KeyRequest, SecurityControl, SecurityError, decrypt_apdu
from .confidential import is_secret, secret_leaves
from .tree import (
    DecodeOptions, Field, Located, Member, Node, Origin, kebab, located, octets_field, shift, spaced_hex, where,
)

__all__ = ["Session", "data_field"]

_TAG_LENGTH = 12  # suite 0 authentication tag


def _enum_field(name: str, v: IntEnum) -> Field:
    return Field(name, kebab(v.name), f"{kebab(v.name)} ({int(v)})")


def _secret(name: str, length: int) -> Field:
    """A value that is never shown, only its length (passwords, challenges, keys)."""
    return Field(name, {"length": length}, f"{length} octets (not shown)")


def _data_json(d: Data) -> Any:
    """A Data value with its type at every level, so JSON readers need not guess."""
    if d.type in (DataType.ARRAY, DataType.STRUCTURE):
        return {"type": d.type.label, "value": [_data_json(x) for x in d.value]}
    if d.type == DataType.COMPACT_ARRAY:
        return {"type": d.type.label, "description": str(d.value.description),
                "value": [_data_json(x) for x in d.value.items]}
    out = {"type": d.type.label, "value": d.to_python()}
    if d.type == DataType.OCTET_STRING and len(d.value) == 6:  # named as the text form names it
        out["obis"] = ".".join(str(b) for b in d.value)
    elif d.type == DataType.OCTET_STRING and len(d.value) == 12:
        out["date_time"] = str(CosemDateTime.from_bytes(d.value))
    return out


def data_field(name: str, d: Data) -> Field:
    """A Data value: typed at every level in JSON, in the standard's type names in text."""
    return Field(name, _data_json(d), format_data(d))


def _oid_text(raw: bytes) -> str:
    """Dotted form of BER OBJECT IDENTIFIER contents (already checked well-formed by ACSE)."""
    arcs, value = [], 0
    for b in raw:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return raw.hex().upper()
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


_CONTEXT_NAMES = {
    ApplicationContextName.LOGICAL_NAME: "Logical_Name_Referencing_No_Ciphering",
    ApplicationContextName.SHORT_NAME: "Short_Name_Referencing_No_Ciphering",
    ApplicationContextName.LOGICAL_NAME_WITH_CIPHERING: "Logical_Name_Referencing_With_Ciphering",
    ApplicationContextName.SHORT_NAME_WITH_CIPHERING: "Short_Name_Referencing_With_Ciphering",
}
_MECHANISM_NAMES = {
    MechanismName.LOWEST: "lowest-level-security",
    MechanismName.LOW: "low-level-security",
    MechanismName.HIGH: "high-level-security",
    MechanismName.HIGH_MD5: "high-level-security MD5",
    MechanismName.HIGH_SHA1: "high-level-security SHA-1",
    MechanismName.HIGH_GMAC: "high-level-security GMAC",
    MechanismName.HIGH_SHA256: "high-level-security SHA-256",
    MechanismName.HIGH_ECDSA: "high-level-security ECDSA",
}


def _oid_field(name: str, v: IntEnum | bytes, arc: int, names: dict[Any, str]) -> Field:
    if isinstance(v, bytes):
        dotted = _oid_text(v)
        return Field(name, dotted, f"{dotted} (not a DLMS UA name)")
    return Field(name, names[v], f"{names[v]} (2.16.756.5.8.{arc}.{int(v)})")


def _title_field(name: str, title: bytes, source: str = "") -> Field:
    """An AP title / system title; the first three octets name the manufacturer (FLAG id)."""
    notes = []
    if len(title) == 8 and all(chr(c) in string.ascii_uppercase for c in title[:3]):
        notes.append(f'manufacturer "{title[:3].decode()}"')
    if source:
        notes.append(f"from the {source}")
    return Field(name, title.hex().upper(), spaced_hex(title) + (f" ({'; '.join(notes)})" if notes else ""))


def _conformance_field(name: str, c: Conformance) -> Field:
    members = sorted((m for m in Conformance if m & c), key=lambda m: -m.value)
    names = [kebab(m.name or "") for m in members]
    return Field(name, names, f"{spaced_hex(int(c).to_bytes(3, 'big'))}: {', '.join(names) or 'none'}")


# --------------------------------------------------------------------------- APDUs

class Session:
    """Describes the APDUs of one input, keeping what they teach about later ones: the system
    titles of client and server, and a dedicated key."""

    def __init__(self, options: DecodeOptions) -> None:
        self.options = options
        self.titles: dict[bool, tuple[bytes, str]] = {}  # sent by the client? -> (title, source)
        self.dedicated_key: bytes | None = None
        self.hidden: list[bytes] = []  # the octets shown only as a length, for hex dumps to mask
        self._secret_invokes: set[int] = set()  # invoke-ids of requests naming a secret member
        self._secret_sn = False  # the last SN Read/Write named one: its blocks and answer are hidden

    def take_hidden(self) -> list[bytes]:
        """The secret octets met since the last call (a hex dump of those APDUs masks them)."""
        hidden, self.hidden = self.hidden, []
        return hidden

    def apdu(self, data: bytes, origin: Origin) -> Node:
        """One whole APDU described; a DecodeError comes out Located through `origin`."""
        try:
            apdu = decode_apdu(data)
            return self._describe(apdu, data, origin)
        except DecodeError as error:
            raise located(error, origin) from None

    def _describe(self, apdu: APDU, data: bytes, origin: Origin) -> Node:
        if isinstance(apdu, AARQ):
            return self._aarq(apdu, data, origin)
        if isinstance(apdu, AARE):
            return self._aare(apdu, data, origin)
        if isinstance(apdu, (RLRQ, RLRE)):
            fields = [] if apdu.reason is None else [_enum_field("reason", apdu.reason)]
            fields += self._user_information(apdu.user_information, data, origin)
            return Node(service_name(apdu), tuple(fields),
                        "A-RELEASE request" if isinstance(apdu, RLRQ) else "A-RELEASE response")
        if isinstance(apdu, InitiateRequest):
            return self._initiate_request(apdu)
        if isinstance(apdu, InitiateResponse):
            return _initiate_response(apdu)
        if isinstance(apdu, ConfirmedServiceError):
            kind = kebab(apdu.kind.name)
            return Node("confirmed-service-error", (
                _enum_field("service", apdu.service),
                Field("service-error", {"choice": kind, "value": kebab(apdu.error.name)},
                      f"{kind}: {kebab(apdu.error.name)} ({int(apdu.error)})"),
            ))
        if isinstance(apdu, (CipheredAPDU, GeneralCiphering)):
            return self._ciphered(apdu, data, origin)
        secret = self._names_secret(apdu)
        return _object_node(apdu, service_name(apdu), self._hide if secret else None)

    def _names_secret(self, apdu: APDU) -> bool:
        """Whether an xDLMS APDU carries a secret: a request naming a secret attribute or method
        (confidential.py), or a later block or the response of such a request (same invoke-id;
        SN has none: the ReadResponse after such a Read)."""
        members = _members(apdu, self.options.short_names)
        invoke = getattr(apdu, "invoke", None)
        invoke_id = invoke.invoke_id if isinstance(invoke, InvokeIdAndPriority) else None
        if members is None:
            if isinstance(apdu, (ReadRequest, WriteRequest, ReadResponse)):
                return self._secret_sn  # a later block of an SN transfer, or the Read's answer
            return invoke_id is not None and invoke_id in self._secret_invokes
        secret = any(is_secret(*m) for m in members)
        if isinstance(apdu, (ReadRequest, WriteRequest, UnconfirmedWriteRequest)):
            self._secret_sn = secret
        if invoke_id is not None:
            (self._secret_invokes.add if secret else self._secret_invokes.discard)(invoke_id)
        return secret

    def _hide(self, name: str, v: Data | bytes) -> Field:
        """A secret value: its length only; its octets noted for hex dumps."""
        if isinstance(v, Data):
            leaves = secret_leaves(v)
            self.hidden.extend(leaves)
            if v.type in (DataType.ARRAY, DataType.STRUCTURE) or not leaves:
                size = len(v.to_bytes())
                return Field(name, {"type": v.type.label, "length": size},
                             f"{v.type.label}, {size} octets encoded (not shown)")
            return Field(name, {"type": v.type.label, "length": len(leaves[0])},
                         f"{v.type.label} of {len(leaves[0])} octets (not shown)")
        self.hidden.append(bytes(v))
        return _secret(name, len(v))

    # -- ACSE ------------------------------------------------------------------------------

    def _aarq(self, a: AARQ, data: bytes, origin: Origin) -> Node:
        fields = _acse_head(a.protocol_version, a.application_context_name)
        for name, raw in (("called-AP-title", a.called_ap_title), ("called-AE-qualifier", a.called_ae_qualifier),
                          ("called-AP-invocation-id", a.called_ap_invocation_id),
                          ("called-AE-invocation-id", a.called_ae_invocation_id)):
            if raw is not None:
                fields.append(octets_field(name, raw))
        fields += self._party("calling", "AARQ", a.calling_ap_title, a.calling_ae_qualifier,
                              a.calling_ap_invocation_id, a.calling_ae_invocation_id)
        fields += _authentication("sender-acse-requirements", a.sender_acse_requirements, a.mechanism_name,
                                  "calling-authentication-value", a.calling_authentication_value, self.hidden)
        fields += self._acse_tail(a, data, origin)
        return Node("AARQ", tuple(fields), "A-ASSOCIATE request")

    def _aare(self, a: AARE, data: bytes, origin: Origin) -> Node:
        fields = _acse_head(a.protocol_version, a.application_context_name)
        fields.append(_enum_field("result", a.result))
        source = ("acse-service-provider" if isinstance(a.result_source_diagnostic, AcseServiceProvider)
                  else "acse-service-user")
        diagnostic = kebab(a.result_source_diagnostic.name)
        fields.append(Field("result-source-diagnostic", {"source": source, "value": diagnostic},
                            f"{source}: {diagnostic} ({int(a.result_source_diagnostic)})"))
        fields += self._party("responding", "AARE", a.responding_ap_title, a.responding_ae_qualifier,
                              a.responding_ap_invocation_id, a.responding_ae_invocation_id)
        fields += _authentication("responder-acse-requirements", a.responder_acse_requirements, a.mechanism_name,
                                  "responding-authentication-value", a.responding_authentication_value, self.hidden)
        fields += self._acse_tail(a, data, origin)
        return Node("AARE", tuple(fields), "A-ASSOCIATE response")

    def _party(self, role: str, apdu: str, ap_title: bytes | None, ae_qualifier: bytes | None,
               ap_invocation_id: int | None, ae_invocation_id: int | None) -> list[Field]:
        """The calling (AARQ, the client) or responding (AARE, the server) party; its AP title is
        remembered as the system title of the ciphered APDUs that party sends."""
        fields: list[Field] = []
        if ap_title is not None:
            fields.append(_title_field(f"{role}-AP-title", ap_title))
            self.titles[role == "calling"] = (ap_title, f"{role}-AP-title of the {apdu}")
        if ae_qualifier is not None:
            fields.append(Field(f"{role}-AE-qualifier", {"length": len(ae_qualifier)},
                                f"{len(ae_qualifier)} octets"))
        for name, value in ((f"{role}-AP-invocation-id", ap_invocation_id),
                            (f"{role}-AE-invocation-id", ae_invocation_id)):
            if value is not None:
                fields.append(Field(name, value))
        return fields

    def _acse_tail(self, a: AARQ | AARE, data: bytes, origin: Origin) -> list[Field]:
        """The fields both AARQ and AARE end with: implementation-information, user-information."""
        fields: list[Field] = []
        if a.implementation_information is not None:
            fields.append(octets_field("implementation-information", a.implementation_information))
        return fields + self._user_information(a.user_information, data, origin)

    def _user_information(self, info: bytes | None, data: bytes, origin: Origin) -> list[Field]:
        """user-information decoded as the xDLMS APDU it carries (BE is the last ACSE field)."""
        if info is None:
            return []
        return [Field("user-information", self.apdu(info, shift(origin, data.rfind(info))))]

    def _initiate_request(self, r: InitiateRequest) -> Node:
        if r.dedicated_key is None:
            key = Field("dedicated-key", None, "absent")
        else:
            key = _secret("dedicated-key", len(r.dedicated_key))
            self.dedicated_key = r.dedicated_key
            self.hidden.append(r.dedicated_key)
        return Node("initiate-request", (
            key,
            Field("response-allowed", r.response_allowed, str(r.response_allowed).lower()),
            _optional_int("proposed-quality-of-service", r.proposed_quality_of_service),
            Field("proposed-dlms-version-number", r.proposed_dlms_version_number),
            _conformance_field("proposed-conformance", r.proposed_conformance),
            Field("client-max-receive-pdu-size", r.client_max_receive_pdu_size),
        ))

    # -- ciphered APDUs --------------------------------------------------------------------

    def _ciphered(self, c: CipheredAPDU | GeneralCiphering, data: bytes, origin: Origin) -> Node:
        name = service_name(c)
        sc = SecurityControl.from_byte(c.security_control)
        flags = [w for w, on in (("authenticated", sc.authenticated), ("encrypted", sc.encrypted),
                                 ("broadcast key", sc.broadcast_key), ("compressed", sc.compressed)) if on]
        fields = _general_ciphering_fields(c) if isinstance(c, GeneralCipheringAPDU) else []
        fields.append(Field("security-control", {"byte": c.security_control, "suite": sc.suite, "flags": flags},
                            f"{c.security_control:02X}: suite {sc.suite}, {', '.join(flags) or 'no protection'}"))
        title, title_source = self._sender_title(c)
        if title is not None and (title_source or not isinstance(c, GeneralCipheringAPDU)):
            fields.append(_title_field("system-title", title, title_source))
        fields.append(Field("invocation-counter", c.invocation_counter,
                            f"{c.invocation_counter} (0x{c.invocation_counter:08X})"))
        payload_at = len(data) - len(c.payload)
        body = c.payload
        if sc.authenticated and len(body) >= _TAG_LENGTH:
            body = c.payload[:-_TAG_LENGTH]
        fields.append(Field("ciphertext" if sc.encrypted else "plaintext", {"length": len(body)},
                            f"{len(body)} octets"))
        if body is not c.payload:
            fields.append(octets_field("authentication-tag", c.payload[-_TAG_LENGTH:]))
        dedicated = c.style.dedicated and self.dedicated_key is not None
        lookup = self._key_lookup(c.style.dedicated)
        if lookup is not None and title is not None:
            try:
                plain = decrypt_apdu(data, lookup, system_title=title).apdu
            except SecurityError as error:
                if self.options.keys is None:
                    raise Located(f"cannot decipher {name}: {error}", where(origin, payload_at)) from None
                fields.append(Field("apdu", None, f"not deciphered: the meter's keys do not open it ({error})"))
                return Node(name, tuple(fields), "not deciphered")
            try:
                inner = self.apdu(plain, ((0, 0),))
            except DecodeError as error:
                raise Located(f"deciphered {name}: at byte {error.offset}: {error.reason}",
                               where(origin, payload_at)) from None
            fields.append(Field("apdu", inner))
            summary = "deciphered" + (" with the dedicated key of the InitiateRequest" if dedicated else "")
        elif not sc.encrypted and sc.authenticated:
            fields.append(Field("apdu", self.apdu(body, shift(origin, payload_at))))
            summary = "in clear, authentication tag not verified"
        else:
            missing = ("the sender's system title is unknown" if self.options.keys is not None and title is None
                       else "the meter has no keys for it" if self.options.keys is not None
                       else "give --ek and --ak" if lookup is None
                       else "the sender's system title is unknown: give --system-title")
            fields.append(Field("apdu", None, f"not deciphered: {missing}"))
            summary = "not deciphered"
        return Node(name, tuple(fields), summary)

    def _key_lookup(self, dedicated: bool) -> KeyLookup | None:
        """How this decode finds keys: the meter's lookup (a ded- APDU with the dedicated key
        seen in the InitiateRequest), else the keys given as options."""
        keys, own = self.options.keys, self.dedicated_key if dedicated else None
        if keys is not None:
            if own is None:
                return keys

            def with_dedicated(request: KeyRequest) -> CipherKeys | None:
                found = keys(KeyRequest(request.system_title, False, False))
                return None if found is None else CipherKeys(own, found.ak)
            return with_dedicated
        ek = own if own is not None else self.options.ek
        ak = self.options.ak
        if ek is None or ak is None:
            return None
        return lambda _: CipherKeys(ek, ak)

    def _sender_title(self, c: CipheredAPDU | GeneralCiphering) -> tuple[bytes | None, str]:
        if isinstance(c, GeneralCiphering) and c.system_title:
            return c.system_title, ""
        if isinstance(c, CipheredAPDU) and (c.plain_tag in _CLIENT_TAGS) in self.titles:
            return self.titles[c.plain_tag in _CLIENT_TAGS]
        if self.options.system_title is not None:
            return self.options.system_title, "--system-title option"
        return None, ""


def _general_ciphering_fields(c: GeneralCipheringAPDU) -> list[Field]:
    """general-ciphering's own fields, in their order on the wire (an empty title is the association's)."""
    fields = [octets_field("transaction-id", c.transaction_id)]
    for name, title in (("originator-system-title", c.system_title),
                        ("recipient-system-title", c.recipient_system_title)):
        fields.append(_title_field(name, title) if title else octets_field(name, b""))
    fields += [octets_field("date-time", c.date_time), octets_field("other-information", c.other_information)]
    key = c.key_info
    if key is None:
        fields.append(Field("key-info", None, "absent: the global key the security control names"))
    elif isinstance(key, IdentifiedKey):
        name = {0: "global-unicast-encryption-key", 1: "global-broadcast-encryption-key"}.get(key.key_id, "unknown")
        fields.append(Field("key-info", {"identified-key": key.key_id}, f"identified-key: {name} ({key.key_id})"))
    else:  # the key material is a secret: its length only
        kind = "agreed-key" if isinstance(key, AgreedKey) else "wrapped-key"
        fields.append(Field("key-info", {kind: {"length": len(key.key_ciphered_data)}},
                            f"{kind}: {len(key.key_ciphered_data)} octets of key-ciphered-data (not shown)"))
    return fields


# Plaintext tags of APDUs a client sends; every other ciphered APDU comes from the server.
_CLIENT_TAGS = frozenset({0x01, 0x05, 0x06, 0x16, 0xC0, 0xC1, 0xC3})


def _acse_head(version: Any, context: ApplicationContextName | bytes) -> list[Field]:
    fields = [] if version is None else [Field("protocol-version", str(version))]
    fields.append(_oid_field("application-context-name", context, 1, _CONTEXT_NAMES))
    return fields


def _authentication(req_name: str, required: bool, mechanism: MechanismName | bytes | None, value_name: str,
                    value: bytes | OtherAuthenticationValue | None, hidden: list[bytes]) -> list[Field]:
    fields = [Field(req_name, True, "authentication")] if required else []
    if mechanism is not None:
        fields.append(_oid_field("mechanism-name", mechanism, 2, _MECHANISM_NAMES))
    if isinstance(value, OtherAuthenticationValue):
        fields.append(_secret(value_name, len(value.encoded)))
        hidden.append(value.encoded)
    elif value is not None:
        fields.append(_secret(value_name, len(value)))
        hidden.append(value)
    return fields


def _optional_int(name: str, v: int | None) -> Field:
    return Field(name, v, "absent" if v is None else str(v))


def _initiate_response(r: InitiateResponse) -> Node:
    vaa = {0x0007: "logical name referencing", 0xFA00: "short name referencing"}.get(r.vaa_name)
    return Node("initiate-response", (
        _optional_int("negotiated-quality-of-service", r.negotiated_quality_of_service),
        Field("negotiated-dlms-version-number", r.negotiated_dlms_version_number),
        _conformance_field("negotiated-conformance", r.negotiated_conformance),
        Field("server-max-receive-pdu-size", r.server_max_receive_pdu_size),
        Field("vaa-name", r.vaa_name, f"0x{r.vaa_name:04X}" + (f" ({vaa})" if vaa else "")),
    ))


# --------------------------------------------------------------------------- xDLMS services

# Field names of the APDU dataclasses (or (class, field) where one class differs) -> the Green
# Book's names of those components.
_NAMES: dict[str | tuple[str, str], str] = {
    ("ParameterizedAccess", "parameters"): "parameter",
    "name": "variable-name",
    "invoke": "invoke-id-and-priority",
    "descriptor": "cosem-attribute-descriptor",
    "access": "access-selection",
    "items": "cosem-attribute-descriptor-list",
    "method": "cosem-method-descriptor",
    "methods": "cosem-method-descriptor-list",
    "parameters": "method-invocation-parameters",
    "body": "notification-body",
    "specs": "variable-access-specification",
    "values": "list-of-data",
    "responses": "list-of-responses",
}
# Blue Book selector names where the class defines them (profile generic buffer).
_SELECTORS = {(7, 2): {1: "range_descriptor", 2: "entry_descriptor"}}


Hide = Callable[[str, "Data | bytes"], Field]


def _members(apdu: Any, short_names: Callable[[int], Member | None] | None) -> list[Member] | None:
    """The attributes and methods a request names; None when it names none (a later block, a
    response). A short name the options cannot resolve names nothing that is known secret."""
    members: list[Member] = []
    descriptors = [getattr(apdu, "descriptor", None), getattr(apdu, "method", None)]
    descriptors += [getattr(i, "descriptor", i) for i in getattr(apdu, "items", ())]
    descriptors += list(getattr(apdu, "methods", ()))
    for d in descriptors:
        if isinstance(d, CosemAttributeDescriptor):
            members.append((d.class_id, d.attribute_id, False))
        elif isinstance(d, CosemMethodDescriptor):
            members.append((d.class_id, d.method_id, True))
    named = [s.name for s in getattr(apdu, "specs", ()) if isinstance(s, (VariableName, ParameterizedAccess))]
    for name in named:
        member = short_names(name) if short_names is not None else None
        if member is not None:
            members.append(member)
    return members if members or named else None


def _object_node(obj: Any, kind: str, hide: Hide | None = None) -> Node:
    """Any APDU dataclass, component by component; a descriptor gives its class to what follows.
    With `hide`, every value and raw block in it is a secret."""
    fields = []
    context: CosemAttributeDescriptor | None = None
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, CosemAttributeDescriptor):
            context = v
        name = _NAMES.get((type(obj).__name__, f.name)) or _NAMES.get(f.name) or kebab(f.name)
        fields.append(_value_field(name, v, context, hide))
    return Node(kind, tuple(fields))


def _value_field(name: str, v: Any, context: CosemAttributeDescriptor | None, hide: Hide | None = None) -> Field:
    if v is None:
        return Field(name, None, "none" if name == "access-selection" else "absent")
    if hide is not None and isinstance(v, (Data, bytes)):
        return hide(name, v)
    if isinstance(v, Data):
        return data_field(name, v)
    if isinstance(v, bool):
        return Field(name, v, str(v).lower())
    if isinstance(v, IntEnum):
        return _enum_field(name, v)
    if isinstance(v, int):
        return Field(name, v, f"0x{v:04X}" if name == "variable-name" else None)  # SN: hex by custom
    if isinstance(v, bytes):
        return octets_field(name, v)
    if isinstance(v, (CosemDateTime, CosemDate, CosemTime)):
        return Field(name, str(v))
    if isinstance(v, InvokeIdAndPriority):
        return _invoke_field(name, v)
    if isinstance(v, LongInvokeIdAndPriority):
        return _long_invoke_field(name, v)
    if isinstance(v, (CosemAttributeDescriptor, CosemMethodDescriptor)):
        return Field(name, _descriptor_node(v))
    if isinstance(v, SelectiveAccess):
        return Field(name, _access_node(v, context))
    if isinstance(v, tuple):
        return Field(name, tuple(_value_field(f"[{i}]", x, context, hide) for i, x in enumerate(v)))
    if dataclasses.is_dataclass(v):
        return Field(name, _object_node(v, kebab(type(v).__name__), hide))
    return Field(name, str(v))


def _invoke_field(name: str, v: InvokeIdAndPriority) -> Field:
    words = [f"invoke-id {v.invoke_id}", "confirmed" if v.confirmed else "unconfirmed",
             f"priority {'high' if v.high_priority else 'normal'}"]
    if v.reserved:
        words.append(f"reserved bits {v.reserved}")
    return Field(name, {"invoke_id": v.invoke_id, "confirmed": v.confirmed,
                        "priority": "high" if v.high_priority else "normal"},
                 f"{v.to_byte():02X}: {', '.join(words)}")


def _long_invoke_field(name: str, v: LongInvokeIdAndPriority) -> Field:
    words = [f"invoke-id {v.invoke_id}", "confirmed" if v.confirmed else "unconfirmed",
             f"priority {'high' if v.high_priority else 'normal'}"]
    if v.self_descriptive:
        words.append("self-descriptive")
    if v.break_on_error:
        words.append("break-on-error")
    return Field(name, {"invoke_id": v.invoke_id, "confirmed": v.confirmed,
                        "priority": "high" if v.high_priority else "normal",
                        "self_descriptive": v.self_descriptive, "break_on_error": v.break_on_error},
                 f"{v.to_int():08X}: {', '.join(words)}")


def _descriptor_node(d: CosemAttributeDescriptor | CosemMethodDescriptor) -> Node:
    cls = get_class(d.class_id)
    method = isinstance(d, CosemMethodDescriptor)
    member = d.method_id if isinstance(d, CosemMethodDescriptor) else d.attribute_id
    member_def = None if cls is None else (cls.method(member) if method else cls.attribute(member))
    word = "method-id" if method else "attribute-id"
    return Node("cosem-method-descriptor" if method else "cosem-attribute-descriptor", (
        Field("class-id", d.class_id, f"{d.class_id}" + (f" ({cls.name})" if cls else "")),
        Field("class-name", None if cls is None else cls.name, ""),
        Field("instance-id", str(d.instance_id)),
        Field(word, member, f"{member}" + (f" ({member_def.name})" if member_def else "")),
        Field(f"{word[:-3]}-name", None if member_def is None else member_def.name, ""),
    ))


def _access_node(a: SelectiveAccess, context: CosemAttributeDescriptor | None) -> Node:
    key = None if context is None else (context.class_id, context.attribute_id)
    selector = _SELECTORS.get(key, {}).get(a.selector) if key else None
    fields = (
        Field("access-selector", a.selector, f"{a.selector}" + (f" ({selector})" if selector else "")),
        _value_field("access-parameters", a.parameters, None),
    )
    return Node("selective-access-descriptor", fields)
