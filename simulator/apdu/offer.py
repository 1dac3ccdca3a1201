"""What a server offers in the xDLMS-Initiate negotiation when the model says nothing more:
DLMS version 6 and a default conformance block per referencing (Green Book 9.3).

Here, below the interface classes, because both the negotiation (association layer) and
Association LN/SN's xDLMS_context_info (cosem layer) show the same offer.
"""

from __future__ import annotations

from .acse import ApplicationContextName
from .initiate import Conformance

__all__ = ["DLMS_VERSION", "DEFAULT_LN_CONFORMANCE", "DEFAULT_SN_CONFORMANCE", "is_ciphered", "is_short_name",
           "offered_conformance"]

DLMS_VERSION = 6

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


def offered_conformance(conformance: int, context: ApplicationContextName) -> Conformance:
    """The block the server offers: the model's (`conformance`, 0: none given), else the default
    of the context's referencing."""
    if conformance:
        return Conformance(conformance)
    return DEFAULT_SN_CONFORMANCE if is_short_name(context) else DEFAULT_LN_CONFORMANCE
