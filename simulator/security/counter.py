"""Invocation counters: replay protection for what we receive, a fresh IV for what we send.

The IV of suite 0 is system title || invocation counter, so a counter may never repeat under one
key: the receiver rejects any counter not greater than the last one it accepted from that sender,
and the sender increments its own for every protected APDU. The state is two plain numbers and a
small table, so a persistence layer can save and restore it with `to_dict` / `from_dict`.

One `InvocationCounters` serves one key (e.g. the global unicast key); a dedicated key, being new
for each association, starts a fresh instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .errors import InvocationCounterError, SecurityParameterError

__all__ = ["IC_MAX", "InvocationCounters"]

IC_MAX = 0xFFFFFFFF


def _check_range(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= IC_MAX + 1:
        raise SecurityParameterError(f"{what} must be an integer in 0..{IC_MAX + 1}, got {value!r}")
    return value


class InvocationCounters:
    """Last counter accepted per sender system title, and our own transmit counter.

    `check_and_update` raises (rather than returning False) so a replay cannot be ignored by
    mistake; the error carries the last accepted counter for the exception-response.
    """

    __slots__ = ("_transmit", "_received")

    def __init__(self, transmit: int = 0, received: Mapping[bytes, int] | None = None) -> None:
        self._transmit = _check_range(transmit, "transmit counter")
        self._received: dict[bytes, int] = {}
        for system_title, ic in (received or {}).items():
            if _check_range(ic, "received counter") > IC_MAX:
                raise SecurityParameterError(f"received counter must be at most {IC_MAX}")
            self._received[bytes(system_title)] = ic

    @property
    def transmit(self) -> int:
        """The counter the next `next()` returns; IC_MAX + 1 once exhausted."""
        return self._transmit

    def next(self) -> int:
        """Take our next transmit counter. When all 2**32 are used the key must be renewed."""
        if self._transmit > IC_MAX:
            raise SecurityParameterError("transmit invocation counter exhausted: renew the key")
        value = self._transmit
        self._transmit += 1
        return value

    def received(self) -> Mapping[bytes, int]:
        """The last counter accepted from each sender system title (a read-only view)."""
        return MappingProxyType(self._received)

    def last_received(self, system_title: bytes) -> int | None:
        """The last counter accepted from `system_title`, or None if none was yet."""
        return self._received.get(bytes(system_title))

    def check_and_update(self, system_title: bytes, invocation_counter: int) -> None:
        """Accept `invocation_counter` from `system_title` if it is greater than the last one.

        Call it only after the APDU authenticated; otherwise a forged APDU with a high counter
        would lock the real sender out. The first counter from a sender is always accepted.
        Raises InvocationCounterError (a SecurityError) on a replayed or stale counter.
        """
        if not 0 <= invocation_counter <= IC_MAX:
            raise SecurityParameterError(f"invocation counter {invocation_counter} does not fit 4 bytes")
        key = bytes(system_title)
        last = self._received.get(key)
        if last is not None and invocation_counter <= last:
            raise InvocationCounterError(invocation_counter, last)
        self._received[key] = invocation_counter

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly state: {"transmit": int, "received": {system title hex: int}}."""
        return {"transmit": self._transmit,
                "received": {st.hex().upper(): ic for st, ic in self._received.items()}}

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> "InvocationCounters":
        """Restore what `to_dict` produced; SecurityParameterError on malformed state."""
        unknown = set(state) - {"transmit", "received"}
        if unknown:
            raise SecurityParameterError(f"unknown invocation counter state keys: {sorted(unknown)}")
        received = state.get("received", {})
        if not isinstance(received, Mapping):
            raise SecurityParameterError("invocation counter state 'received' must be a mapping")
        table: dict[bytes, int] = {}
        for title, ic in received.items():
            try:
                table[bytes.fromhex(title)] = ic
            except (TypeError, ValueError):
                raise SecurityParameterError(f"system title {title!r} is not hex") from None
        return cls(state.get("transmit", 0), table)

    def __repr__(self) -> str:
        return f"InvocationCounters(transmit={self._transmit}, received={len(self._received)} sender(s))"
