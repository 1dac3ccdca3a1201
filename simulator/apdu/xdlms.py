"""Dispatch an unciphered xDLMS service APDU to its class by tag (and choice).

The table is built from the classes' own `TAG`/`CHOICE`, so adding a class to `_CLASSES` is
all it takes to decode it. ACSE, Initiate and ciphered APDUs live in their own modules.
"""

from __future__ import annotations

from ..axdr import Reader
from ..errors import DecodeError
from .action import (
    ActionRequestNextPblock, ActionRequestNormal, ActionRequestWithFirstPblock,
    ActionRequestWithList, ActionRequestWithListAndFirstPblock, ActionRequestWithPblock,
    ActionResponseNextPblock, ActionResponseNormal, ActionResponseWithList,
    ActionResponseWithPblock,
)
from .common import XDlmsApdu
from .gbt import GeneralBlockTransfer
from .get import (
    GetRequestNext, GetRequestNormal, GetRequestWithList, GetResponseNormal,
    GetResponseWithDatablock, GetResponseWithList,
)
from .notification import DataNotification, EventNotificationRequest, ExceptionResponse
from .set import (
    SetRequestNormal, SetRequestWithDatablock, SetRequestWithFirstDatablock, SetRequestWithList,
    SetRequestWithListAndFirstDatablock, SetResponseDatablock, SetResponseLastDatablock,
    SetResponseLastDatablockWithList, SetResponseNormal, SetResponseWithList,
)
from .sn import (
    InformationReportRequest, ReadRequest, ReadResponse, UnconfirmedWriteRequest, WriteRequest,
    WriteResponse,
)

__all__ = ["decode_xdlms", "XDLMS_CLASSES"]

XDLMS_CLASSES: tuple[type[XDlmsApdu], ...] = (
    GetRequestNormal, GetRequestNext, GetRequestWithList,
    GetResponseNormal, GetResponseWithDatablock, GetResponseWithList,
    SetRequestNormal, SetRequestWithFirstDatablock, SetRequestWithDatablock, SetRequestWithList,
    SetRequestWithListAndFirstDatablock,
    SetResponseNormal, SetResponseDatablock, SetResponseLastDatablock,
    SetResponseLastDatablockWithList, SetResponseWithList,
    ActionRequestNormal, ActionRequestNextPblock, ActionRequestWithList,
    ActionRequestWithFirstPblock, ActionRequestWithListAndFirstPblock, ActionRequestWithPblock,
    ActionResponseNormal, ActionResponseWithPblock, ActionResponseWithList,
    ActionResponseNextPblock,
    DataNotification, EventNotificationRequest, ExceptionResponse, GeneralBlockTransfer,
    ReadRequest, ReadResponse, WriteRequest, WriteResponse, UnconfirmedWriteRequest,
    InformationReportRequest,
)


def _build_tables() -> tuple[dict[int, type[XDlmsApdu]], dict[int, dict[int, type[XDlmsApdu]]]]:
    plain: dict[int, type[XDlmsApdu]] = {}
    chosen: dict[int, dict[int, type[XDlmsApdu]]] = {}
    for cls in XDLMS_CLASSES:
        if cls.CHOICE is None:
            plain[cls.TAG] = cls
        else:
            chosen.setdefault(cls.TAG, {})[cls.CHOICE] = cls
    return plain, chosen


_PLAIN, _CHOSEN = _build_tables()


def decode_xdlms(data: bytes) -> XDlmsApdu:
    """Decode one whole xDLMS service APDU; unknown tags and choices are DecodeErrors."""
    r = Reader(data)
    tag = r.u8("APDU tag")
    cls = _PLAIN.get(tag)
    if cls is None:
        variants = _CHOSEN.get(tag)
        if variants is None:
            raise DecodeError(f"unknown xDLMS APDU tag 0x{tag:02X}", 0)
        choice = r.u8("APDU choice")
        cls = variants.get(choice)
        if cls is None:
            raise DecodeError(f"unknown choice {choice} of xDLMS APDU tag 0x{tag:02X}", 1)
    apdu = cls.read(r)
    r.expect_end(cls.__name__)
    return apdu
