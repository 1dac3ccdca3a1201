"""The association layer's view of a meter's security: the policy a request must meet.

The keys and counters themselves are the meter's state (simulator/state/security.py); the
reading of security_policy values is simulator/security/policy.py.
"""

from __future__ import annotations

from functools import lru_cache

from ..model.spec import SecurityPolicy
from ..security.policy import Requirement, policy_flags

__all__ = ["policy_requirement"]


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
