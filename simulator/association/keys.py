"""The association layer's view of a meter's security: the policy a request must meet, and the
IDIS publication of the last invocation counter accepted.

The keys and counters themselves are the meter's state (simulator/state/security.py); the
reading of security_policy values is simulator/security/policy.py.
"""

from __future__ import annotations

from functools import lru_cache

from ..axdr import Data, DataType, Obis
from ..cosem.context import ObjectContext
from ..model.spec import SecurityPolicy
from ..security.keywrap import KeyId
from ..security.policy import Requirement, policy_flags
from ..state import SecurityState

__all__ = ["publish_received_counter", "policy_requirement"]

_SETUP_PREFIX = bytes((0, 0, 43, 0))  # Security setup 0.0.43.0.e.255
_COUNTER_PREFIX = bytes((0, 0, 43, 1))  # its Data 0.0.43.1.e.255 (IDIS)
_DATA = 1


def publish_received_counter(setup: ObjectContext, security: SecurityState) -> None:
    """Copy the last counter received under Security setup 0.0.43.0.e.255 to Data 0.0.43.1.e.255.

    IDIS meters publish it there so a head-end can read it as the public client and resume
    ciphering after a restart. With several client system titles it shows the highest.
    """
    name = bytes(setup.logical_name)
    if name[:4] != _SETUP_PREFIX:
        return
    highest = security.highest_received(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY)
    target = setup.find(Obis(_COUNTER_PREFIX + name[4:]), _DATA) if highest is not None else None
    if target is not None:
        value = Data(DataType.DOUBLE_LONG_UNSIGNED, highest)
        if target.stored(2) != value:
            target.set(2, value)


@lru_cache(maxsize=64)
def policy_requirement(model: SecurityPolicy, setup_value: int | None) -> Requirement:
    """The association's policy from the model, strengthened by its Security setup object's
    security_policy (the model's value, or the one security_activate set for this meter).

    Cached: every request asks, and the answer depends on these two small values only."""
    base = Requirement(bool(model & SecurityPolicy.AUTHENTICATED), bool(model & SecurityPolicy.ENCRYPTED))
    if setup_value is None:
        return base
    extra = policy_flags(setup_value)
    return Requirement(base.authenticated or extra.authenticated, base.encrypted or extra.encrypted)
