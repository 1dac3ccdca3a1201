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
from ..apdu.offer import (
    DEFAULT_LN_CONFORMANCE,
    DEFAULT_SN_CONFORMANCE,
    DLMS_VERSION,
    is_ciphered,
    is_short_name,
    offered_conformance,
)
from ..model.spec import AssociationSpec

__all__ = [
    "DLMS_VERSION", "MIN_PDU_SIZE", "DEFAULT_LN_CONFORMANCE", "DEFAULT_SN_CONFORMANCE",
    "is_ciphered", "is_short_name", "server_conformance", "vaa_name", "negotiate",
]

MIN_PDU_SIZE = 12  # below this not even a short GET response fits (Green Book: pdu-size-too-short)


def server_conformance(spec: AssociationSpec) -> Conformance:
    """The block the server offers this association: the model's, else the default of its context."""
    return offered_conformance(spec.conformance, spec.context)


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
