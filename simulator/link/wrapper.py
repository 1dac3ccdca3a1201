"""The IEC 62056-47 wrapper: the DLMS link layer over TCP and UDP.

    +---------+---------------+--------------------+--------+--------------+
    | version | source wPort  | destination wPort  | length | APDU         |
    | 0x0001  | 2 bytes       | 2 bytes            | 2      | length bytes |
    +---------+---------------+--------------------+--------+--------------+

All fields big endian. A wPort is the SAP of a client or of a server's logical device.
Over UDP one datagram is one frame; over TCP `WrapperReader` cuts the stream. The
header has no resynchronisation marker, so after a DecodeError the stream is lost and
the transport should be closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DecodeError, EncodeError

__all__ = ["HEADER_SIZE", "WRAPPER_VERSION", "WrapperFrame", "WrapperReader"]

WRAPPER_VERSION = 0x0001
HEADER_SIZE = 8
_MAX_LENGTH = 0xFFFF


@dataclass(frozen=True, slots=True)
class WrapperFrame:
    source_wport: int
    destination_wport: int
    apdu: bytes

    def to_bytes(self) -> bytes:
        if not (0 <= self.source_wport <= 0xFFFF and 0 <= self.destination_wport <= 0xFFFF):
            raise EncodeError(f"wPort out of range: {self.source_wport}, {self.destination_wport}")
        if len(self.apdu) > _MAX_LENGTH:
            raise EncodeError(f"APDU of {len(self.apdu)} bytes does not fit a wrapper frame")
        header = (WRAPPER_VERSION << 48 | self.source_wport << 32 | self.destination_wport << 16
                  | len(self.apdu))
        return header.to_bytes(HEADER_SIZE, "big") + self.apdu

    @classmethod
    def from_bytes(cls, data: bytes) -> WrapperFrame:
        """Decode exactly one frame (a UDP datagram): short or trailing data is an error."""
        source, destination, length = _parse_header(data)
        if len(data) - HEADER_SIZE != length:
            raise DecodeError(f"wrapper length field {length} but {len(data) - HEADER_SIZE} APDU bytes",
                              min(len(data), 6))
        return cls(source, destination, bytes(data[HEADER_SIZE:]))


def _parse_header(data: bytes | bytearray) -> tuple[int, int, int]:
    if len(data) < HEADER_SIZE:
        raise DecodeError(f"truncated wrapper header: {len(data)} of {HEADER_SIZE} bytes", len(data))
    version = (data[0] << 8) | data[1]
    if version != WRAPPER_VERSION:
        raise DecodeError(f"wrapper version {version:#06x}, expected 0x0001", 0)
    return (data[2] << 8) | data[3], (data[4] << 8) | data[5], (data[6] << 8) | data[7]


class WrapperReader:
    """Cut a TCP byte stream into wrapper frames: `receive_data`, then `next_frame` until None.

    `max_apdu_length` (the server's receive limit, ciphering overhead included) is checked
    as soon as a header arrives, so a bogus length cannot make the buffer grow. Errors
    are final: every later `next_frame` raises a DecodeError with the same reason. Only the
    reason is kept, not the raised error, whose traceback would hold the caller's last chunk.
    """

    __slots__ = ("_buffer", "_error", "max_apdu_length")

    def __init__(self, max_apdu_length: int = _MAX_LENGTH) -> None:
        self._buffer = bytearray()
        self._error: DecodeError | None = None
        self.max_apdu_length = max_apdu_length

    def receive_data(self, data: bytes) -> None:
        if self._error is None:
            self._buffer += data

    @property
    def buffered(self) -> int:
        """Octets received and not yet cut into frames."""
        return len(self._buffer)

    def next_frame(self) -> WrapperFrame | None:
        if self._error is not None:
            raise DecodeError(self._error.reason, self._error.offset)
        buf = self._buffer
        if len(buf) < HEADER_SIZE:
            return None
        try:
            source, destination, length = _parse_header(buf)
            if length > self.max_apdu_length:
                raise DecodeError(f"wrapper APDU length {length} exceeds the limit {self.max_apdu_length}", 6)
        except DecodeError as error:
            self._error = DecodeError(error.reason, error.offset)  # never raised: holds no frames
            buf.clear()
            raise
        end = HEADER_SIZE + length
        if len(buf) < end:
            return None
        apdu = bytes(buf[HEADER_SIZE:end])
        del buf[:end]
        return WrapperFrame(source, destination, apdu)
