"""Application associations: AARQ/AARE and RLRQ/RLRE handling, HLS, the negotiated xDLMS
context, and the protection (ciphering, security policy, invocation counters) of each APDU."""

from .session import (
    AssociationSession,
    AssociationState,
    Negotiated,
    PolicyViolation,
    Protection,
    exception_response,
)

__all__ = [
    "AssociationSession", "AssociationState", "Negotiated", "PolicyViolation", "Protection",
    "exception_response",
]
