"""The xDLMS-Initiate negotiation (Green Book 9.3): what a server answers to an InitiateRequest.

The client proposes a DLMS version, a conformance block and the largest APDU it can receive;
the server agrees on version 6, the intersection of both conformance blocks, and tells its own
maximum receive PDU size. A proposal the server cannot meet is refused with the InitiateError
the standard names (dlms-version-too-low, incompatible-conformance, pdu-size-too-short).
"""

from __future__ import annotations

from ..apdu.acse import ApplicationContextName
from ..apdu.initiate import (
    VAA_NAME_LN,
    VAA_NAME_SN,
    Conformance,
    InitiateError,
    InitiateRequest,
    InitiateResponse,
)
from ..model.spec import AssociationSpec

__all__ = [
    "DLMS_VERSION", "MIN_PDU_SIZE", "DEFAULT_LN_CONFORMANCE", "DEFAULT_SN_CONFORMANCE",
    "is_ciphered", "is_short_name", "server_conformance", "vaa_name", "negotiate",
]

DLMS_VERSION = 6
MIN_PDU_SIZE = 12  # below this not even a short GET response fits (Green Book: pdu-size-too-short)

_C = Conformance
# What the server offers when the model gives no conformance block (AssociationSpec.conformance 0).
DEFAULT_LN_CONFORMANCE = (
    _C.GENERAL_PROTECTION | _C.GENERAL_BLOCK_TRANSFER | _C.PRIORITY_MGMT_SUPPORTED
    | _C.BLOCK_TRANSFER_WITH_GET_OR_READ | _C.BLOCK_TRANSFER_WITH_SET_OR_WRITE
    | _C.BLOCK_TRANSFER_WITH_ACTION | _C.MULTIPLE_REFERENCES | _C.DATA_NOTIFICATION | _C.GET | _C.SET
    | _C.SELECTIVE_ACCESS | _C.EVENT_NOTIFICATION | _C.ACTION
)
DEFAULT_SN_CONFORMANCE = (
    _C.GENERAL_PROTECTION | _C.READ | _C.WRITE | _C.UNCONFIRMED_WRITE
    | _C.BLOCK_TRANSFER_WITH_GET_OR_READ | _C.BLOCK_TRANSFER_WITH_SET_OR_WRITE
    | _C.MULTIPLE_REFERENCES | _C.INFORMATION_REPORT | _C.PARAMETERIZED_ACCESS
)


def is_ciphered(context: ApplicationContextName) -> bool:
    return context in (ApplicationContextName.LOGICAL_NAME_WITH_CIPHERING,
                       ApplicationContextName.SHORT_NAME_WITH_CIPHERING)


def is_short_name(context: ApplicationContextName) -> bool:
    return context in (ApplicationContextName.SHORT_NAME, ApplicationContextName.SHORT_NAME_WITH_CIPHERING)


def server_conformance(spec: AssociationSpec) -> Conformance:
    """The block the server offers this association: the model's, else the default of its context."""
    if spec.conformance:
        return Conformance(spec.conformance)
    return DEFAULT_SN_CONFORMANCE if is_short_name(spec.context) else DEFAULT_LN_CONFORMANCE


def vaa_name(context: ApplicationContextName) -> int:
    """0x0007 for LN, 0xFA00 (the base name of Association SN) for SN (Green Book 9.3)."""
    return VAA_NAME_SN if is_short_name(context) else VAA_NAME_LN


def negotiate(request: InitiateRequest, spec: AssociationSpec) -> InitiateResponse | InitiateError:
    """The InitiateResponse to `request`, or the InitiateError that refuses it."""
    if request.proposed_dlms_version_number < DLMS_VERSION:
        return InitiateError.DLMS_VERSION_TOO_LOW
    if request.client_max_receive_pdu_size < MIN_PDU_SIZE:
        return InitiateError.PDU_SIZE_TOO_SHORT
    common = Conformance(int(request.proposed_conformance) & int(server_conformance(spec)))
    if not common:
        return InitiateError.INCOMPATIBLE_CONFORMANCE
    return InitiateResponse(negotiated_dlms_version_number=DLMS_VERSION, negotiated_conformance=common,
                            server_max_receive_pdu_size=spec.max_receive_pdu_size,
                            vaa_name=vaa_name(spec.context))
