"""HDLC parameter negotiation: the SNRM/UA information field and the server's settings.

    81          format identifier
    80          group identifier (HDLC parameters)
    LL          group length
    05 n v..    maximum information field length, transmit
    06 n v..    maximum information field length, receive
    07 n v..    window size, transmit
    08 n v..    window size, receive

Each value is n = 1, 2 or 4 bytes, big endian. Every station states the values from its
own point of view: the client's SNRM proposes what the client transmits and receives,
the server's UA answers what the server will transmit and receive. A parameter that is
absent (or an SNRM without information field) means the default: 128 bytes, window 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import DecodeError, EncodeError

__all__ = ["DEFAULT_MAX_INFO", "DEFAULT_WINDOW", "HDLCParameters", "HDLCSettings", "negotiate"]

DEFAULT_MAX_INFO = 128
DEFAULT_WINDOW = 1

_FORMAT_ID = 0x81
_GROUP_ID = 0x80
_MAX_INFO_TX, _MAX_INFO_RX, _WINDOW_TX, _WINDOW_RX = 0x05, 0x06, 0x07, 0x08


def _encode_value(pid: int, value: int, width: int) -> bytes:
    for size in (1, 2, 4):
        if size >= width and value < 1 << (8 * size):
            return bytes((pid, size)) + value.to_bytes(size, "big")
    raise EncodeError(f"HDLC parameter {pid:#04x} value {value} does not fit 4 bytes")


@dataclass(frozen=True, slots=True)
class HDLCParameters:
    """The four negotiable values, from the point of view of the station that states them."""

    max_info_tx: int = DEFAULT_MAX_INFO
    max_info_rx: int = DEFAULT_MAX_INFO
    window_tx: int = DEFAULT_WINDOW
    window_rx: int = DEFAULT_WINDOW

    def to_bytes(self, info_width: int = 2, window_width: int = 4) -> bytes:
        """Encode all four parameters; values get at least the given byte widths.

        The defaults (2-byte lengths, 4-byte windows) are the layout of the DLMS UA's own
        example UA; meters also use 1-byte values, which the widths select.
        """
        if not all(v >= 0 for v in (self.max_info_tx, self.max_info_rx, self.window_tx, self.window_rx)):
            raise EncodeError("HDLC parameters must not be negative")
        group = (_encode_value(_MAX_INFO_TX, self.max_info_tx, info_width)
                 + _encode_value(_MAX_INFO_RX, self.max_info_rx, info_width)
                 + _encode_value(_WINDOW_TX, self.window_tx, window_width)
                 + _encode_value(_WINDOW_RX, self.window_rx, window_width))
        return bytes((_FORMAT_ID, _GROUP_ID, len(group))) + group

    @classmethod
    def from_bytes(cls, data: bytes) -> HDLCParameters:
        """Decode an SNRM/UA information field; empty means all defaults.

        Unknown parameter identifiers inside the group are skipped; a zero value is an
        error (no window or information field could be used).
        """
        if not data:
            return cls()
        if len(data) < 3:
            raise DecodeError("truncated HDLC parameter field header", 0)
        if data[0] != _FORMAT_ID:
            raise DecodeError(f"HDLC parameter format identifier {data[0]:#04x}, expected 0x81", 0)
        if data[1] != _GROUP_ID:
            raise DecodeError(f"HDLC parameter group identifier {data[1]:#04x}, expected 0x80", 1)
        end = 3 + data[2]
        if end != len(data):
            raise DecodeError(f"HDLC parameter group length {data[2]} but {len(data) - 3} bytes follow", 2)
        values = {_MAX_INFO_TX: DEFAULT_MAX_INFO, _MAX_INFO_RX: DEFAULT_MAX_INFO,
                  _WINDOW_TX: DEFAULT_WINDOW, _WINDOW_RX: DEFAULT_WINDOW}
        pos = 3
        while pos < end:
            if end - pos < 2:
                raise DecodeError("truncated HDLC parameter", pos)
            pid, size = data[pos], data[pos + 1]
            if size not in (1, 2, 4) or pos + 2 + size > end:
                raise DecodeError(f"HDLC parameter {pid:#04x} with value length {size}", pos + 1)
            value = int.from_bytes(data[pos + 2:pos + 2 + size], "big")
            if pid in values:
                if value == 0:
                    raise DecodeError(f"HDLC parameter {pid:#04x} is zero", pos + 2)
                values[pid] = value
            pos += 2 + size
        return cls(values[_MAX_INFO_TX], values[_MAX_INFO_RX], values[_WINDOW_TX], values[_WINDOW_RX])


def negotiate(client: HDLCParameters, server: HDLCParameters) -> HDLCParameters:
    """What the server answers in UA: each of its limits capped by the client's opposite one.

    The server may not transmit more than the client receives, nor expect to receive more
    than the client proposes to transmit.
    """
    return HDLCParameters(
        max_info_tx=min(server.max_info_tx, client.max_info_rx),
        max_info_rx=min(server.max_info_rx, client.max_info_tx),
        window_tx=min(server.window_tx, client.window_rx),
        window_rx=min(server.window_rx, client.window_tx),
    )


@dataclass(frozen=True, slots=True)
class HDLCSettings:
    """A server's HDLC configuration: the values an IEC HDLC setup object (class 23) holds.

    `inactivity_timeout_s` 0 disables the timeout, as in class 23; the inter-frame
    timeout is class 23's inter-octet time-out (25 ms by default).
    """

    max_info_tx: int = DEFAULT_MAX_INFO
    max_info_rx: int = DEFAULT_MAX_INFO
    window_tx: int = DEFAULT_WINDOW
    window_rx: int = DEFAULT_WINDOW
    inactivity_timeout_s: float = 120.0
    inter_frame_timeout_s: float = 0.025

    def __post_init__(self) -> None:
        for name in ("max_info_tx", "max_info_rx"):
            if not 32 <= getattr(self, name) <= 2030:
                raise ValueError(f"HDLC {name} must be 32..2030, got {getattr(self, name)}")
        for name in ("window_tx", "window_rx"):
            if not 1 <= getattr(self, name) <= 7:
                raise ValueError(f"HDLC {name} must be 1..7, got {getattr(self, name)}")
        if self.inactivity_timeout_s < 0 or self.inter_frame_timeout_s <= 0:
            raise ValueError("HDLC timeouts must be positive (inactivity 0 = disabled)")

    @property
    def parameters(self) -> HDLCParameters:
        """The limits the server supports, as offered in negotiation."""
        return HDLCParameters(self.max_info_tx, self.max_info_rx, self.window_tx, self.window_rx)
