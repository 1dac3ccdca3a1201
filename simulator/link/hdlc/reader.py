"""Split a byte stream into HDLC frames.

DLMS HDLC has no byte stuffing: a frame is found at a flag followed by a type-3 format
field, and its length field says where the closing flag must be. Consecutive frames may
share one flag (7E ... 7E ... 7E) or be separated by several. Bytes that do not start a
frame are skipped up to the next flag, which resynchronises the stream after line noise.
"""

from __future__ import annotations

import re

from .frame import FLAG, HDLCFrame

__all__ = ["HDLCFrameReader"]

_MIN_LENGTH = 7  # format 2 + two 1-byte addresses + control + FCS 2
_NOT_FLAG = re.compile(b"[^\x7e]")  # skips a run of fill flags at C speed, not one loop turn a flag


class HDLCFrameReader:
    """Feed bytes with `receive_data`, then call `next_frame` until it returns None.

    `next_frame` raises the frame's DecodeError (FrameCheckError, FrameRejected, ...)
    after consuming a delimited frame that does not decode; the reader stays usable.
    """

    __slots__ = ("_buffer", "_pos", "skipped")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._pos = 0
        #: Bytes other than flags dropped while looking for a frame start (noise, torn frames).
        self.skipped = 0

    def receive_data(self, data: bytes) -> None:
        if self._pos:
            del self._buffer[:self._pos]
            self._pos = 0
        self._buffer += data

    @property
    def has_partial(self) -> bool:
        """True while a started frame waits for more bytes (a lone flag does not count)."""
        pending = len(self._buffer) - self._pos
        return pending > 1 or (pending == 1 and self._buffer[self._pos] != FLAG)

    def discard_partial(self) -> None:
        """Give up on the frame being assembled (inter-frame timeout): skip to the next flag.

        Frames already buffered behind a false start become readable again.
        """
        if self.has_partial:
            self._skip_to_flag(self._pos + 1)

    def next_frame(self) -> HDLCFrame | None:
        buf = self._buffer
        while True:
            start = self._skip_to_flag(self._pos)
            if start < 0 or len(buf) - start < 2:
                return None
            fmt = buf[start + 1]
            if fmt == FLAG:  # inter-frame fill, or a closing flag before an opening one: the run's last
                after = _NOT_FLAG.search(buf, start + 1)  # flag may open the next frame
                self._pos = len(buf) - 1 if after is None else after.start() - 1
                continue
            if len(buf) - start < 3:
                return None
            length = ((fmt & 0x07) << 8) | buf[start + 2]
            if fmt & 0xF0 != 0xA0 or length < _MIN_LENGTH:
                self._skip_to_flag(start + 1)
                continue
            close = start + 1 + length
            if close >= len(buf):
                return None
            if buf[close] != FLAG:
                self._skip_to_flag(start + 1)
                continue
            self._pos = close  # the closing flag may open the next frame
            return HDLCFrame.from_bytes(bytes(buf[start:close + 1]))

    def _skip_to_flag(self, pos: int) -> int:
        """Move to the first flag at or after `pos`, dropping what lies before; -1 if none."""
        buf = self._buffer
        found = buf.find(FLAG, pos)
        self.skipped += (len(buf) if found < 0 else found) - pos
        if found < 0:
            buf.clear()
            self._pos = 0
        else:
            self._pos = found
        return found
