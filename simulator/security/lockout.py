"""Defence against password guessing: after N failed authentications a client SAP is locked out.

Real meters (IDIS, DSMR) count failed LLS logins and HLS pass-3 checks per client and refuse
further associations from it for a while, longer after each lock-out; the right password is
refused too while locked, with the same AARE as a wrong one (rejected-permanent,
authentication-failure), so the lock teaches a guesser nothing. The model sets the policy per
association (`lockout:` in simulator/model/associations.py; on by default); the counts live on
the meter's state (`MeterState.lockouts`), one `ClientLockout` per (server SAP, client SAP).
Time is the monotonic `now` the core receives.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LockoutPolicy", "ClientLockout", "locked_for", "record_failure", "record_success"]


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After `failures` failed authentications in a row, refuse the client SAP for `time_s`,
    `growth` times longer after each further lock-out, never longer than `max_time_s`."""

    failures: int = 3
    time_s: float = 60.0
    growth: float = 2.0
    max_time_s: float = 3600.0


@dataclass(slots=True)
class ClientLockout:
    """One client SAP's failed authentications on one logical device of one meter."""

    failures: int = 0  # since the last success or the last lock-out
    lockouts: int = 0  # lock-outs since the last success: the next one lasts longer
    locked_until: float = 0.0  # monotonic seconds
    total_failures: int = 0  # every failure ever: what the control plane reads


def locked_for(state: ClientLockout | None, now: float) -> float:
    """Seconds the client stays locked out (0: not locked)."""
    return 0.0 if state is None else max(0.0, state.locked_until - now)


def record_failure(state: ClientLockout, policy: LockoutPolicy | None, now: float) -> float:
    """Count a failed authentication; the length of the lock-out it starts (0: none)."""
    state.failures += 1
    state.total_failures += 1
    if policy is None or state.failures < policy.failures:
        return 0.0
    duration = min(policy.time_s * policy.growth ** state.lockouts, policy.max_time_s)
    state.failures = 0
    state.lockouts += 1
    state.locked_until = now + duration
    return duration


def record_success(state: ClientLockout | None) -> None:
    """A successful authentication ends the count (the total stays)."""
    if state is not None:
        state.failures = 0
        state.lockouts = 0
