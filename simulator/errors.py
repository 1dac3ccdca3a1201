"""The project's error hierarchy.

Split as h11 splits it: a *remote* protocol error means the peer sent something we
cannot accept (the server answers it with the response the standard prescribes); a
*local* protocol error means our own code asked for something the protocol cannot
express. Every decoder raises only `DecodeError` for bad input, never IndexError,
struct.error or ValueError.
"""

from __future__ import annotations


class DLMSError(Exception):
    """Base of every error this package raises on purpose."""


class RemoteProtocolError(DLMSError):
    """The peer sent bytes or a request the protocol does not allow."""


class DecodeError(RemoteProtocolError):
    """Bytes that cannot be decoded; `offset` is the byte at which decoding failed."""

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(reason if offset is None else f"at byte {offset}: {reason}")


class LocalProtocolError(DLMSError):
    """Our own code asked to encode something the protocol cannot express."""


class EncodeError(LocalProtocolError):
    """A value that does not fit its wire encoding (out of range, wrong type)."""
