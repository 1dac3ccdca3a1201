"""General-Block-Transfer APDU (Green Book 9.5, tag 0xE0): carries any APDU in blocks.

Layout after the tag byte::

    E0  block-control(1) | block-number(2) | block-number-ack(2) | len block-data

block-control: bit 7 last-block, bit 6 streaming, bits 0-5 window (the number of blocks the
sender of this APDU can receive in one window).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..axdr import Reader
from ..errors import EncodeError
from .common import XDlmsApdu, put_uint, read_octet_string, write_octet_string

__all__ = ["GeneralBlockTransfer", "GBT_TAG"]

GBT_TAG = 0xE0


@dataclass(frozen=True, slots=True)
class GeneralBlockTransfer(XDlmsApdu):
    """One block of a general block transfer."""

    TAG: ClassVar[int] = GBT_TAG

    last_block: bool
    streaming: bool
    window: int
    block_number: int
    block_number_ack: int
    block_data: bytes

    @classmethod
    def read(cls, r: Reader) -> "GeneralBlockTransfer":
        control = r.u8("block-control")
        number = r.uint(2, "block-number")
        ack = r.uint(2, "block-number-ack")
        return cls(bool(control & 0x80), bool(control & 0x40), control & 0x3F, number, ack,
                   read_octet_string(r, "block-data"))

    def write(self, out: bytearray) -> None:
        if isinstance(self.window, bool) or not isinstance(self.window, int) or not 0 <= self.window <= 63:
            raise EncodeError(f"GBT window {self.window!r} outside 0..63")
        out.append((0x80 if self.last_block else 0) | (0x40 if self.streaming else 0) | self.window)
        put_uint(out, self.block_number, 2, "block number")
        put_uint(out, self.block_number_ack, 2, "block number ack")
        write_octet_string(out, self.block_data, "block-data")
