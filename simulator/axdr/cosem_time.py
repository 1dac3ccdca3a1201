"""COSEM date, time and date-time values (Blue Book 4.1.6.1) with their not-specified fields.

A field holding its "not specified" pattern (0xFF, year 0xFFFF, deviation 0x8000) is `None`.
Other special values (month 0xFD/0xFE for DST end/begin, day 0xFD/0xFE for second-last/last day)
are kept as their raw numbers so every value round-trips byte for byte.

Deviation is minutes of (UTC - local time), as the Blue Book defines it: local time UTC+01:00
has deviation -60. Encoding allows -840..840: the Blue Book's time zone range (-720..840) and
UTC+13/+14 summer and island time (-780, -840).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from ..errors import DecodeError, EncodeError

__all__ = ["CosemDate", "CosemTime", "CosemDateTime", "ClockStatus"]


class ClockStatus:
    """Bits of the clock status byte."""

    INVALID = 0x01
    DOUBTFUL = 0x02
    DIFFERENT_CLOCK_BASE = 0x04
    INVALID_CLOCK_STATUS = 0x08
    DAYLIGHT_SAVING_ACTIVE = 0x80


_DATE_TIME = struct.Struct(">HBBBBBBBhB")
_DATE_TIME_TAIL = struct.Struct(">8sBhB")  # year..second packed once, then hundredths, deviation, status
_FIELDS_TO_SECOND = struct.Struct(">HBBBBBB")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_LOCAL_FIELDS: dict[int, bytes] = {}  # local second since 1970 -> its packed year..second
_LOCAL_FIELDS_KEPT = 4096  # a fleet's meters read a handful of distinct seconds at a time


def _local_fields(local: int) -> bytes:
    """Year, month, day, day of week, hour, minute, second of a local second since 1970, packed
    and remembered: every meter reading the clock in the same second (and zone) shares them."""
    days, in_day = divmod(local, 86400)
    day = date.fromordinal(_EPOCH_ORDINAL + days)
    hour, rest = divmod(in_day, 3600)
    fields = _FIELDS_TO_SECOND.pack(day.year, day.month, day.day, day.isoweekday(), hour, rest // 60, rest % 60)
    if len(_LOCAL_FIELDS) >= _LOCAL_FIELDS_KEPT:
        _LOCAL_FIELDS.clear()
    _LOCAL_FIELDS[local] = fields
    return fields


def _opt8(b: int) -> int | None:
    return None if b == 0xFF else b


def _raw8(v: int | None, field: str) -> int:
    if v is None:
        return 0xFF
    if not 0 <= v <= 0xFE:
        raise EncodeError(f"{field} {v} out of range 0..254")
    return v


@dataclass(frozen=True, slots=True)
class CosemDate:
    year: int | None = None
    month: int | None = None
    day: int | None = None
    day_of_week: int | None = None

    SIZE = 5

    @classmethod
    def from_bytes(cls, data: bytes) -> "CosemDate":
        if len(data) != 5:
            raise DecodeError(f"a COSEM date has 5 bytes, got {len(data)}")
        y = (data[0] << 8) | data[1]
        return cls(None if y == 0xFFFF else y, _opt8(data[2]), _opt8(data[3]), _opt8(data[4]))

    def to_bytes(self) -> bytes:
        y = 0xFFFF if self.year is None else self.year
        if not 0 <= y <= 0xFFFF:
            raise EncodeError(f"year {y} out of range")
        return bytes((y >> 8, y & 0xFF, _raw8(self.month, "month"), _raw8(self.day, "day"),
                      _raw8(self.day_of_week, "day of week")))

    @classmethod
    def from_date(cls, d: date) -> "CosemDate":
        return cls(d.year, d.month, d.day, d.isoweekday())

    def to_date(self) -> date:
        if self.year is None or self.month is None or self.day is None:
            raise DecodeError(f"date {self} has not-specified fields")
        try:
            return date(self.year, self.month, self.day)
        except ValueError as exc:
            raise DecodeError(f"not a calendar date: {exc}") from None

    def __str__(self) -> str:
        def f(v: int | None, w: int) -> str:
            return "*" * w if v is None else f"{v:0{w}d}"
        return f"{f(self.year, 4)}-{f(self.month, 2)}-{f(self.day, 2)}"


@dataclass(frozen=True, slots=True)
class CosemTime:
    hour: int | None = None
    minute: int | None = None
    second: int | None = None
    hundredths: int | None = None

    SIZE = 4

    @classmethod
    def from_bytes(cls, data: bytes) -> "CosemTime":
        if len(data) != 4:
            raise DecodeError(f"a COSEM time has 4 bytes, got {len(data)}")
        return cls(_opt8(data[0]), _opt8(data[1]), _opt8(data[2]), _opt8(data[3]))

    def to_bytes(self) -> bytes:
        return bytes((_raw8(self.hour, "hour"), _raw8(self.minute, "minute"),
                      _raw8(self.second, "second"), _raw8(self.hundredths, "hundredths")))

    @classmethod
    def from_time(cls, t: time) -> "CosemTime":
        return cls(t.hour, t.minute, t.second, t.microsecond // 10000)

    def to_time(self) -> time:
        if self.hour is None or self.minute is None:
            raise DecodeError(f"time {self} has not-specified fields")
        try:
            return time(self.hour, self.minute, self.second or 0,
                        (self.hundredths or 0) * 10000)
        except ValueError as exc:
            raise DecodeError(f"not a time of day: {exc}") from None

    def __str__(self) -> str:
        def f(v: int | None) -> str:
            return "**" if v is None else f"{v:02d}"
        return f"{f(self.hour)}:{f(self.minute)}:{f(self.second)}.{f(self.hundredths)}"


@dataclass(frozen=True, slots=True)
class CosemDateTime:
    year: int | None = None
    month: int | None = None
    day: int | None = None
    day_of_week: int | None = None
    hour: int | None = None
    minute: int | None = None
    second: int | None = None
    hundredths: int | None = None
    deviation: int | None = None
    clock_status: int | None = None

    SIZE = 12

    @classmethod
    def from_bytes(cls, data: bytes) -> "CosemDateTime":
        if len(data) != 12:
            raise DecodeError(f"a COSEM date-time has 12 bytes, got {len(data)}")
        y = (data[0] << 8) | data[1]
        dev = int.from_bytes(data[9:11], "big", signed=True)
        return cls(None if y == 0xFFFF else y, _opt8(data[2]), _opt8(data[3]), _opt8(data[4]),
                   _opt8(data[5]), _opt8(data[6]), _opt8(data[7]), _opt8(data[8]),
                   None if dev == -0x8000 else dev, _opt8(data[11]))

    def to_bytes(self) -> bytes:
        y = 0xFFFF if self.year is None else self.year
        if not 0 <= y <= 0xFFFF:
            raise EncodeError(f"year {y} out of range")
        dev = -0x8000 if self.deviation is None else self.deviation
        if not -840 <= dev <= 840 and dev != -0x8000:
            raise EncodeError(f"deviation {dev} min outside -840..840")
        return (bytes((y >> 8, y & 0xFF, _raw8(self.month, "month"), _raw8(self.day, "day"),
                       _raw8(self.day_of_week, "day of week"), _raw8(self.hour, "hour"),
                       _raw8(self.minute, "minute"), _raw8(self.second, "second"),
                       _raw8(self.hundredths, "hundredths")))
                + dev.to_bytes(2, "big", signed=True)
                + bytes((0xFF if self.clock_status is None else _raw8(self.clock_status, "clock status"),)))

    @property
    def date(self) -> CosemDate:
        return CosemDate(self.year, self.month, self.day, self.day_of_week)

    @property
    def time(self) -> CosemTime:
        return CosemTime(self.hour, self.minute, self.second, self.hundredths)

    @classmethod
    def from_datetime(cls, dt: datetime, clock_status: int | None = 0) -> "CosemDateTime":
        """From a Python datetime; an aware one carries its UTC offset as the deviation."""
        off = dt.utcoffset()
        dev = None if off is None else -int(off.total_seconds() // 60)
        return cls(dt.year, dt.month, dt.day, dt.isoweekday(), dt.hour, dt.minute, dt.second,
                   dt.microsecond // 10000, dev, clock_status)

    @staticmethod
    def bytes_from_datetime(dt: datetime, clock_status: int = 0) -> bytes:
        """`from_datetime(dt, clock_status).to_bytes()`, packed without building the value: the
        encoding every read of a meter's clock needs."""
        off = dt.utcoffset()
        dev = -0x8000 if off is None else -int(off.total_seconds() // 60)
        if not -840 <= dev <= 840 and dev != -0x8000:
            raise EncodeError(f"deviation {dev} min outside -840..840")
        return _DATE_TIME.pack(dt.year, dt.month, dt.day, dt.isoweekday(), dt.hour, dt.minute, dt.second,
                               dt.microsecond // 10000, dev, _raw8(clock_status, "clock status"))

    @staticmethod
    def bytes_from_epoch(epoch: float, deviation: int, clock_status: int = 0) -> bytes:
        """`bytes_from_datetime(datetime.fromtimestamp(epoch, <zone of deviation>), clock_status)`,
        byte for byte, without a datetime: the clock's hot path. The microseconds round as
        `fromtimestamp` rounds them (half to even, carrying into the second), and the fields
        up to the second are shared by every read of the same local second (`_local_fields`).
        """
        if not -840 <= deviation <= 840:
            raise EncodeError(f"deviation {deviation} min outside -840..840")
        fraction, whole = math.modf(epoch)
        micro = round(fraction * 1e6)
        second = int(whole)
        if micro >= 1_000_000:
            micro -= 1_000_000
            second += 1
        elif micro < 0:
            micro += 1_000_000
            second -= 1
        local = second - 60 * deviation
        fields = _LOCAL_FIELDS.get(local)
        if fields is None:
            fields = _local_fields(local)
        if not 0 <= clock_status <= 0xFE:
            raise EncodeError(f"clock status {clock_status} out of range 0..254")
        return _DATE_TIME_TAIL.pack(fields, micro // 10000, deviation, clock_status)

    def to_datetime(self) -> datetime:
        """To a Python datetime (aware when the deviation is specified)."""
        if (self.year is None or self.month is None or self.day is None or self.hour is None
                or self.minute is None):
            raise DecodeError(f"date-time {self} has not-specified fields")
        tz = None if self.deviation is None else timezone(timedelta(minutes=-self.deviation))
        try:
            return datetime(self.year, self.month, self.day, self.hour, self.minute,
                            self.second or 0, (self.hundredths or 0) * 10000, tzinfo=tz)
        except ValueError as exc:
            raise DecodeError(f"not a calendar date-time: {exc}") from None

    def __str__(self) -> str:
        dev = "" if self.deviation is None else f" dev={self.deviation:+d}min"
        st = "" if self.clock_status is None else f" status=0x{self.clock_status:02X}"
        return f"{self.date} {self.time}{dev}{st}"
