"""Ciphered xDLMS APDU containers (Green Book, IEC 62056-5-3): glo-, ded- and general- ciphering.

These are envelopes only: they carry the security header (security control byte and invocation
counter) and the protected payload as opaque bytes. Protecting and unprotecting is the job of
`simulator.security`, which sits above this layer; so the security control byte is a plain int
here.

Service-specific ciphered APDU (glo-get-request, ded-action-response, ...)::

    +-----+-----------+----+----------+---------------------------------------+
    | tag | length(L) | SC | IC (4)   | payload: ciphertext || tag (L-5 bytes)|
    +-----+-----------+----+----------+---------------------------------------+

general-glo-ciphering (0xDB) / general-ded-ciphering (0xDC)::

    +-----+---------+--------------+-----------+----+--------+---------+
    | tag | len(ST) | system title | length(L) | SC | IC (4) | payload |
    +-----+---------+--------------+-----------+----+--------+---------+

general-ciphering (0xDD): five octet-strings, key-info OPTIONAL (00 absent, 01 + CHOICE), then
the ciphered content as above::

    +-----+----------------+------------+------------+-----------+------------+----------+-----------------+
    | tag | transaction-id | originator | recipient  | date-time | other-info | key-info | L SC IC payload |
    |     | (len + octets) | system t.  | system t.  | (may be   | (len +     | OPTIONAL |                 |
    |     |                |            |            |  empty)   |  octets)   |          |                 |
    +-----+----------------+------------+------------+-----------+------------+----------+-----------------+

    key-info ::= CHOICE { identified-key [0] key-id ENUMERATED (0 global unicast, 1 global broadcast),
                          wrapped-key [1] kek-id ENUMERATED (0 master key), key-ciphered-data OCTET STRING,
                          agreed-key [2] key-parameters OCTET STRING, key-ciphered-data OCTET STRING }

Lengths are A-XDR (BER definite) lengths: one byte below 128, else 0x81/0x82/0x84 + value.
The service-specific tags are the plaintext tag shifted by a fixed offset per family; the table
below lists every pair the Green Book's xDLMS ASN.1 defines, so a server can answer in the style
the request came in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Self

from ..axdr.buffer import Reader, encode_length
from ..errors import DecodeError, EncodeError

__all__ = [
    "CipherStyle", "ServiceTags", "SERVICE_TAGS", "GENERAL_GLO_CIPHERING", "GENERAL_DED_CIPHERING",
    "GENERAL_CIPHERING", "ciphered_tag", "plain_tag", "is_ciphered_tag", "CipheredAPDU", "GeneralCiphering",
    "GeneralGloCiphering", "GeneralDedCiphering", "IdentifiedKey", "WrappedKey", "AgreedKey", "KeyInfo",
    "GeneralCipheringAPDU", "general_ciphering_header", "ciphered_apdu_from_bytes",
]

GENERAL_GLO_CIPHERING = 0xDB
GENERAL_DED_CIPHERING = 0xDC
GENERAL_CIPHERING = 0xDD

_IC_MAX = 0xFFFFFFFF


class CipherStyle(StrEnum):
    """How an APDU was (or is to be) ciphered; the server answers in the request's style."""

    GLO = "glo"
    DED = "ded"
    GENERAL_GLO = "general-glo"
    GENERAL_DED = "general-ded"
    GENERAL = "general"  # general-ciphering: transaction id, both system titles, key-info

    @property
    def dedicated(self) -> bool:
        """True when the dedicated key (from the InitiateRequest) protects the APDU."""
        return self in _DEDICATED_STYLES

    @property
    def general(self) -> bool:
        """True for the general-*-ciphering styles, which carry the sender's system title."""
        return self in _GENERAL_STYLES


# Sets rather than tuples: every ciphered APDU asks both questions, and a set lookup is one hash.
_DEDICATED_STYLES = frozenset((CipherStyle.DED, CipherStyle.GENERAL_DED))
_GENERAL_STYLES = frozenset((CipherStyle.GENERAL_GLO, CipherStyle.GENERAL_DED, CipherStyle.GENERAL))


@dataclass(frozen=True, slots=True)
class ServiceTags:
    """One row of the Green Book's ciphered-APDU table: a plaintext tag and its glo/ded tags."""

    name: str
    plain: int
    glo: int
    ded: int


# Green Book (DLMS UA 1000-2) xDLMS APDU ASN.1, "with global ciphering" / "with dedicated
# ciphering". Cross-checked against gurux_dlms `Command` (1.0.203) where it lists the tag.
SERVICE_TAGS: tuple[ServiceTags, ...] = (
    ServiceTags("initiate-request", 1, 33, 65),
    ServiceTags("read-request", 5, 37, 69),
    ServiceTags("write-request", 6, 38, 70),
    ServiceTags("initiate-response", 8, 40, 72),
    ServiceTags("read-response", 12, 44, 76),
    ServiceTags("write-response", 13, 45, 77),
    ServiceTags("confirmed-service-error", 14, 46, 78),
    ServiceTags("unconfirmed-write-request", 22, 54, 86),
    ServiceTags("information-report-request", 24, 56, 88),
    ServiceTags("get-request", 192, 200, 208),
    ServiceTags("set-request", 193, 201, 209),
    ServiceTags("event-notification-request", 194, 202, 210),
    ServiceTags("action-request", 195, 203, 211),
    ServiceTags("get-response", 196, 204, 212),
    ServiceTags("set-response", 197, 205, 213),
    ServiceTags("action-response", 199, 207, 215),
)

_BY_PLAIN: dict[int, ServiceTags] = {row.plain: row for row in SERVICE_TAGS}
_BY_GLO: dict[int, ServiceTags] = {row.glo: row for row in SERVICE_TAGS}
_BY_DED: dict[int, ServiceTags] = {row.ded: row for row in SERVICE_TAGS}


def ciphered_tag(plain: int, dedicated: bool) -> int:
    """The glo- (or ded-) tag that carries a ciphered APDU whose plaintext starts with `plain`.

    Raises EncodeError for APDUs without a service-specific ciphered form (data-notification,
    exception-response, ...), which must travel in general-glo/ded-ciphering instead.
    """
    row = _BY_PLAIN.get(plain)
    if row is None:
        raise EncodeError(f"APDU tag 0x{plain:02X} has no glo-/ded- ciphered form")
    return row.ded if dedicated else row.glo


def plain_tag(tag: int) -> int:
    """The plaintext APDU tag that a glo- or ded- APDU with `tag` must contain."""
    row = _BY_GLO.get(tag) or _BY_DED.get(tag)
    if row is None:
        raise DecodeError(f"0x{tag:02X} is not a glo-/ded- ciphered APDU tag")
    return row.plain


def is_ciphered_tag(tag: int) -> bool:
    """True for every tag this module decodes (service-specific and general ciphering)."""
    return tag in _BY_GLO or tag in _BY_DED or tag in (GENERAL_GLO_CIPHERING, GENERAL_DED_CIPHERING, GENERAL_CIPHERING)


def _check_header(security_control: int, invocation_counter: int) -> None:
    if not 0 <= security_control <= 0xFF:
        raise EncodeError(f"security control byte {security_control} out of range")
    if not 0 <= invocation_counter <= _IC_MAX:
        raise EncodeError(f"invocation counter {invocation_counter} does not fit 4 bytes")


def _security_header(security_control: int, invocation_counter: int, payload: bytes) -> bytes:
    content = bytes((security_control,)) + invocation_counter.to_bytes(4, "big") + payload
    return encode_length(len(content)) + content


@dataclass(frozen=True, slots=True)
class CipheredAPDU:
    """A service-specific glo- or ded- APDU: the tag tells both the service and the key family."""

    tag: int
    security_control: int
    invocation_counter: int
    payload: bytes

    def __post_init__(self) -> None:
        if self.tag not in _BY_GLO and self.tag not in _BY_DED:
            raise EncodeError(f"0x{self.tag:02X} is not a glo-/ded- ciphered APDU tag")
        _check_header(self.security_control, self.invocation_counter)

    @property
    def style(self) -> CipherStyle:
        return CipherStyle.DED if self.tag in _BY_DED else CipherStyle.GLO

    @property
    def plain_tag(self) -> int:
        """Tag of the APDU inside, e.g. 0xC0 get-request for a 0xC8 glo-get-request."""
        return plain_tag(self.tag)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        r = Reader(data)
        tag = r.u8("tag")
        if tag not in _BY_GLO and tag not in _BY_DED:
            raise DecodeError(f"0x{tag:02X} is not a glo-/ded- ciphered APDU tag", 0)
        body = r.sub(r.length("ciphered content length"), "ciphered content")
        r.expect_end("ciphered APDU")
        sc = body.u8("security control")
        ic = body.uint(4, "invocation counter")
        return cls(tag, sc, ic, body.rest())

    def to_bytes(self) -> bytes:
        return bytes((self.tag,)) + _security_header(self.security_control, self.invocation_counter, self.payload)


@dataclass(frozen=True, slots=True)
class GeneralCiphering:
    """Common layout of general-glo-ciphering and general-ded-ciphering (use the subclasses);
    general-ciphering extends it.

    The system title is the sender's (general-ciphering's originator-system-title); some
    implementations send an empty one on pre-established associations, so any length decodes
    and the security layer decides what it accepts.
    """

    TAG: ClassVar[int]
    STYLE: ClassVar[CipherStyle]

    system_title: bytes
    security_control: int
    invocation_counter: int
    payload: bytes

    def __post_init__(self) -> None:
        _check_header(self.security_control, self.invocation_counter)

    @property
    def style(self) -> CipherStyle:
        return self.STYLE

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        r = Reader(data)
        tag = r.u8("tag")
        if tag != cls.TAG:
            raise DecodeError(f"expected tag 0x{cls.TAG:02X} ({cls.STYLE}-ciphering), got 0x{tag:02X}", 0)
        system_title = r.take(r.length("system-title length"), "system-title")
        body = r.sub(r.length("ciphered content length"), "ciphered content")
        r.expect_end(f"{cls.STYLE}-ciphering APDU")
        sc = body.u8("security control")
        ic = body.uint(4, "invocation counter")
        return cls(system_title, sc, ic, body.rest())

    def to_bytes(self) -> bytes:
        return (
            bytes((self.TAG,)) + encode_length(len(self.system_title)) + self.system_title
            + _security_header(self.security_control, self.invocation_counter, self.payload)
        )


@dataclass(frozen=True, slots=True)
class GeneralGloCiphering(GeneralCiphering):
    """general-glo-ciphering [219]: any APDU under the global key (dlms-cosem uses it throughout)."""

    TAG: ClassVar[int] = GENERAL_GLO_CIPHERING
    STYLE: ClassVar[CipherStyle] = CipherStyle.GENERAL_GLO


@dataclass(frozen=True, slots=True)
class GeneralDedCiphering(GeneralCiphering):
    """general-ded-ciphering [220]: any APDU under the dedicated key."""

    TAG: ClassVar[int] = GENERAL_DED_CIPHERING
    STYLE: ClassVar[CipherStyle] = CipherStyle.GENERAL_DED


@dataclass(frozen=True, slots=True)
class IdentifiedKey:
    """key-info identified-key: one of the global keys the server holds."""

    TAG: ClassVar[int] = 0
    UNICAST: ClassVar[int] = 0  # global-unicast-encryption-key
    BROADCAST: ClassVar[int] = 1  # global-broadcast-encryption-key
    key_id: int = 0

    def to_bytes(self) -> bytes:
        return bytes((self.TAG, self.key_id))


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """key-info wrapped-key: a key sent in the APDU, wrapped under the master key (kek-id 0)."""

    TAG: ClassVar[int] = 1
    kek_id: int
    key_ciphered_data: bytes = field(repr=False)

    def to_bytes(self) -> bytes:
        return bytes((self.TAG, self.kek_id)) + _octets(self.key_ciphered_data)


@dataclass(frozen=True, slots=True)
class AgreedKey:
    """key-info agreed-key: a key agreed by the suite 1/2 key-agreement schemes."""

    TAG: ClassVar[int] = 2
    key_parameters: bytes
    key_ciphered_data: bytes = field(repr=False)

    def to_bytes(self) -> bytes:
        return bytes((self.TAG,)) + _octets(self.key_parameters) + _octets(self.key_ciphered_data)


KeyInfo = IdentifiedKey | WrappedKey | AgreedKey


def _octets(value: bytes) -> bytes:
    return encode_length(len(value)) + value


def general_ciphering_header(transaction_id: bytes, originator: bytes, recipient: bytes, date_time: bytes,
                             other_information: bytes) -> bytes:
    """The five octet-strings after the general-ciphering tag, as on the wire (length + octets)."""
    return b"".join(_octets(v) for v in (transaction_id, originator, recipient, date_time, other_information))


def _key_info(r: Reader) -> KeyInfo | None:
    present = r.u8("key-info presence")
    if present > 1:
        raise r.fail(f"key-info presence flag {present}: A-XDR OPTIONAL is 0 (absent) or 1", r.pos - 1)
    if not present:
        return None
    choice = r.u8("key-info choice")
    if choice == IdentifiedKey.TAG:
        return IdentifiedKey(r.u8("key-id"))
    if choice == WrappedKey.TAG:
        kek = r.u8("kek-id")
        return WrappedKey(kek, r.take(r.length("key-ciphered-data length"), "key-ciphered-data"))
    if choice == AgreedKey.TAG:
        parameters = r.take(r.length("key-parameters length"), "key-parameters")
        return AgreedKey(parameters, r.take(r.length("key-ciphered-data length"), "key-ciphered-data"))
    raise r.fail(f"key-info choice {choice} is none of identified-key, wrapped-key, agreed-key", r.pos - 1)


@dataclass(frozen=True, slots=True)
class GeneralCipheringAPDU(GeneralCiphering):
    """general-ciphering [221]: any APDU with a transaction id, both system titles, an optional
    date-time and other-information, and key-info naming the key (absent: the global keys by
    the SC's key-set bit). `system_title` is the originator's."""

    TAG: ClassVar[int] = GENERAL_CIPHERING
    STYLE: ClassVar[CipherStyle] = CipherStyle.GENERAL

    transaction_id: bytes = b""
    recipient_system_title: bytes = b""
    date_time: bytes = b""
    other_information: bytes = b""
    key_info: KeyInfo | None = None

    def header(self) -> bytes:
        """transaction-id to other-information as on the wire (some peers authenticate them)."""
        return general_ciphering_header(self.transaction_id, self.system_title, self.recipient_system_title,
                                        self.date_time, self.other_information)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        r = Reader(data)
        tag = r.u8("tag")
        if tag != cls.TAG:
            raise DecodeError(f"expected tag 0x{cls.TAG:02X} (general-ciphering), got 0x{tag:02X}", 0)
        transaction_id, originator, recipient, date_time, other = (
            r.take(r.length(f"{what} length"), what) for what in (
                "transaction-id", "originator-system-title", "recipient-system-title", "date-time",
                "other-information"))
        key_info = _key_info(r)
        body = r.sub(r.length("ciphered content length"), "ciphered content")
        r.expect_end("general-ciphering APDU")
        sc = body.u8("security control")
        ic = body.uint(4, "invocation counter")
        return cls(originator, sc, ic, body.rest(), transaction_id, recipient, date_time, other, key_info)

    def to_bytes(self) -> bytes:
        key_info = b"\x00" if self.key_info is None else b"\x01" + self.key_info.to_bytes()
        return (bytes((self.TAG,)) + self.header() + key_info
                + _security_header(self.security_control, self.invocation_counter, self.payload))


def ciphered_apdu_from_bytes(data: bytes) -> CipheredAPDU | GeneralGloCiphering | GeneralDedCiphering \
        | GeneralCipheringAPDU:
    """Decode any ciphered APDU this module knows, dispatching on its first byte."""
    tag = Reader(data).peek("tag")
    if tag == GENERAL_CIPHERING:
        return GeneralCipheringAPDU.from_bytes(data)
    if tag == GENERAL_GLO_CIPHERING:
        return GeneralGloCiphering.from_bytes(data)
    if tag == GENERAL_DED_CIPHERING:
        return GeneralDedCiphering.from_bytes(data)
    return CipheredAPDU.from_bytes(data)
