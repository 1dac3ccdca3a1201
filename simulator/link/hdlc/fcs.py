"""The HDLC frame check sequence: CRC-16/X.25, used for both the HCS and the FCS.

IEC 62056-46 (after ISO/IEC 13239) checks the header and the whole frame with the
reflected CCITT polynomial (0x8408 bit-reversed form of 0x1021), initial value 0xFFFF
and final complement; the two check bytes go on the wire least significant first.

Speed matters (every frame is checked twice), so the per-byte work runs in C: the
reflected CRC of a message equals the bit-reversed non-reflected CRC (binascii.crc_hqx,
polynomial 0x1021, table-driven) of the message with each byte bit-reversed, and the
byte reversal is one `bytes.translate` through a 256-entry table.
"""

from __future__ import annotations

from binascii import crc_hqx

__all__ = ["fcs16", "fcs16_bytes", "FCS_GOOD"]

_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))

#: The CRC register after running over a message followed by its own (LSB-first) FCS,
#: as `fcs16` reports it: a receiver may check a whole frame against this constant.
FCS_GOOD = 0x0F47


def fcs16(data: bytes | bytearray) -> int:
    """CRC-16/X.25 of `data` (check value of b"123456789" is 0x906E)."""
    crc = crc_hqx(data.translate(_REVERSED), 0xFFFF)
    return ((_REVERSED[crc & 0xFF] << 8) | _REVERSED[crc >> 8]) ^ 0xFFFF


def fcs16_bytes(data: bytes | bytearray) -> bytes:
    """The two check bytes as transmitted after `data` (least significant byte first)."""
    return fcs16(data).to_bytes(2, "little")
