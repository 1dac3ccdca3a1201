"""Decode any APDU by its first byte, and name it as the Green Book does.

The xDLMS, ACSE, Initiate and ciphered modules each decode their own family; this is the one
entry point for code that receives "an APDU" without knowing which (a server's dispatcher,
`cosem-sim decode`). The families' tags do not overlap:

    0x60..0x63                  AARQ, AARE, RLRQ, RLRE (BER)
    0x01 0x08 0x0E              InitiateRequest, InitiateResponse, ConfirmedServiceError
    glo-/ded-, 0xDB, 0xDC, 0xDD ciphered containers (see `ciphered.SERVICE_TAGS`)
    every other tag             xDLMS services (`decode_xdlms`), unknown ones a DecodeError
"""

from __future__ import annotations

import re
from typing import Callable, Union

from ..errors import DecodeError
from .acse import AARE, AARQ, RLRE, RLRQ
from .ciphered import (
    SERVICE_TAGS, CipheredAPDU, GeneralCiphering, GeneralCipheringAPDU, GeneralDedCiphering, GeneralGloCiphering,
    ciphered_apdu_from_bytes, is_ciphered_tag,
)
from .common import XDlmsApdu
from .initiate import ConfirmedServiceError, InitiateRequest, InitiateResponse
from .xdlms import decode_xdlms

__all__ = ["APDU", "decode_apdu", "service_name"]

APDU = Union[
    AARQ, AARE, RLRQ, RLRE, InitiateRequest, InitiateResponse, ConfirmedServiceError,
    CipheredAPDU, GeneralGloCiphering, GeneralDedCiphering, GeneralCipheringAPDU, XDlmsApdu,
]

_BY_TAG: dict[int, Callable[[bytes], APDU]] = {
    0x60: AARQ.from_bytes,
    0x61: AARE.from_bytes,
    0x62: RLRQ.from_bytes,
    0x63: RLRE.from_bytes,
    InitiateRequest.TAG: InitiateRequest.from_bytes,
    InitiateResponse.TAG: InitiateResponse.from_bytes,
    ConfirmedServiceError.TAG: ConfirmedServiceError.from_bytes,
}

_CIPHERED_NAMES: dict[int, str] = {
    **{row.glo: f"glo-{row.name}" for row in SERVICE_TAGS},
    **{row.ded: f"ded-{row.name}" for row in SERVICE_TAGS},
}


def decode_apdu(data: bytes) -> APDU:
    """Decode one whole APDU of any family; anything else raises DecodeError."""
    if not data:
        raise DecodeError("empty APDU", 0)
    tag = data[0]
    decoder = _BY_TAG.get(tag)
    if decoder is not None:
        return decoder(data)
    if is_ciphered_tag(tag):
        return ciphered_apdu_from_bytes(data)
    return decode_xdlms(data)


_WORD = re.compile(r"(?<!^)(?=[A-Z])")


def service_name(apdu: APDU | GeneralCiphering) -> str:
    """The APDU's name in the Green Book's ASN.1: "get-request-normal", "glo-get-request", "AARQ".

    The xDLMS classes are named after their CHOICE alternatives, so their names derive from
    the class name; ACSE APDUs keep their upper-case acronyms.
    """
    if isinstance(apdu, (AARQ, AARE, RLRQ, RLRE)):
        return type(apdu).__name__
    if isinstance(apdu, CipheredAPDU):
        return _CIPHERED_NAMES[apdu.tag]
    if isinstance(apdu, GeneralCiphering):
        return f"{apdu.STYLE}-ciphering"
    return _WORD.sub("-", type(apdu).__name__).lower()
