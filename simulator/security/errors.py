"""Errors of the security layer.

`SecurityError` is what a peer causes (bad tag, replayed counter, unsupported protection); the
server answers it with the deciphering / invocation-counter error the Green Book prescribes.
`SecurityParameterError` is our own misuse (a key of the wrong length, a counter out of range).
Messages never contain key material.
"""

from __future__ import annotations

from ..errors import LocalProtocolError, RemoteProtocolError

__all__ = ["SecurityError", "InvocationCounterError", "SecurityParameterError"]


class SecurityError(RemoteProtocolError):
    """Received protected data that fails authentication or uses protection we cannot undo."""


class InvocationCounterError(SecurityError):
    """A received invocation counter is not greater than the last one accepted from that sender.

    `last` is the last accepted counter, so the server can report the counter it expects
    (xDLMS exception-response invocation-counter-error).
    """

    def __init__(self, received: int, last: int) -> None:
        self.received = received
        self.last = last
        super().__init__(f"invocation counter {received} not greater than last accepted {last}")


class SecurityParameterError(LocalProtocolError):
    """Our own call passed a key, system title or counter the security suite cannot use."""
