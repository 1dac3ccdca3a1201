"""An AARE that refuses an AARQ outright, whatever the association would have said.

A test rig's `refuse` fault (runtime/faults.py) answers every AARQ with it: rejected-permanent
with the acse-service-user diagnostic it names, in the application context the AARQ proposed
(Green Book 9.3.2: the AARE names the context; a client checks it before the result).
"""

from __future__ import annotations

from ..apdu.acse import AARE, AARQ, AcseServiceUser, ApplicationContextName, AssociationResult
from ..errors import DecodeError

__all__ = ["refusal_aare"]


def refusal_aare(aarq: bytes, diagnostic: AcseServiceUser) -> bytes:
    """The AARE bytes rejecting `aarq` permanently with `diagnostic` (an AARQ that does not
    decode is answered in the logical-name context)."""
    try:
        context: ApplicationContextName | bytes = AARQ.from_bytes(aarq).application_context_name
    except DecodeError:
        context = ApplicationContextName.LOGICAL_NAME
    return AARE(application_context_name=context, result=AssociationResult.REJECTED_PERMANENT,
                result_source_diagnostic=diagnostic).to_bytes()
