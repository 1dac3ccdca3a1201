"""COSEM date, time and date-time values written as ISO text, with '*' for not-specified fields.

    2024-01-01T00:00:00+01:00   fully specified, deviation -60 (Blue Book: UTC minus local)
    2024-01-01 00:00            no offset: deviation not specified
    *-*-01T00:00:00             every first day of the month at midnight
    *-12-25                     a date: every 25 December
    06:30, *:00:00, 23:59:59.99 times of day

    Sun *-03-254T02:00:00      a leading weekday: the last Sunday of March (DST begin)

Month and day also take the Blue Book's special numbers (253, 254: DST end/begin, second-last
and last day). The day of the week is derived when the date is fully specified (a weekday
written then must agree), else it is the written weekday or not specified; the clock status
is left not specified.
"""

from __future__ import annotations

import re
from datetime import date

from ..axdr import CosemDate, CosemDateTime, CosemTime

__all__ = ["parse_date_time", "parse_date", "parse_time", "TimeTextError"]

_F = r"(\d{1,4}|\*{1,4})"
_DATE = rf"{_F}-{_F}-{_F}"
_TIME = rf"{_F}:{_F}(?::{_F}(?:[.,](\d{{1,2}}|\*{{1,2}}))?)?"
_OFFSET = r"(Z|[+-]\d{2}(?::?\d{2})?)"
_WEEKDAY = r"(?:([A-Za-z]{3,9})\s+)?"
_DATE_TIME_RE = re.compile(rf"{_WEEKDAY}{_DATE}(?:[T ]{_TIME}\s*{_OFFSET}?)?")
_DATE_RE = re.compile(rf"{_WEEKDAY}{_DATE}")
_TIME_RE = re.compile(_TIME)
_SPECIAL = (0xFD, 0xFE)


class TimeTextError(ValueError):
    """The text is not a date/time this module reads; the message says what was expected."""


def _field(text: str | None, name: str, lo: int, hi: int, special: tuple[int, ...] = ()) -> int | None:
    if text is None or text.startswith("*"):
        return None
    v = int(text)
    if not (lo <= v <= hi or v in special):
        extra = f" or {', '.join(map(str, special))}" if special else ""
        raise TimeTextError(f"{name} {v} outside {lo}..{hi}{extra}")
    return v


def _hundredths(text: str | None) -> int | None:
    if text is None:
        return 0
    if text.startswith("*"):
        return None
    return int(text.ljust(2, "0"))


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(text: str | None) -> int | None:
    if text is None:
        return None
    low = text.lower()
    for i, name in enumerate(_WEEKDAYS):
        if name.startswith(low) and len(low) >= 3:
            return i + 1
    raise TimeTextError(f"{text!r} is not a day of the week")


def _date_parts(wd: str | None, y: str, m: str, d: str) -> tuple[int | None, int | None, int | None, int | None]:
    year = _field(y, "year", 0, 0xFFFE)
    month = _field(m, "month", 1, 12, _SPECIAL)
    day = _field(d, "day", 1, 31, _SPECIAL)
    dow = _weekday(wd)
    if year is not None and month is not None and day is not None and month <= 12 and day <= 31:
        try:
            actual = date(year, month, day).isoweekday()
        except ValueError:
            raise TimeTextError(f"{year:04d}-{month:02d}-{day:02d} is not a calendar date") from None
        if dow is not None and dow != actual:
            raise TimeTextError(f"{year:04d}-{month:02d}-{day:02d} is a {_WEEKDAYS[actual - 1]}, not a {wd}")
        dow = actual
    return year, month, day, dow


def _time_parts(h: str, mi: str, s: str | None, f: str | None) -> tuple[int | None, ...]:
    return (_field(h, "hour", 0, 23), _field(mi, "minute", 0, 59),
            0 if s is None else _field(s, "second", 0, 59), _hundredths(f) if s is not None else 0)


def _deviation(text: str | None) -> int | None:
    if text is None:
        return None
    if text == "Z":
        return 0
    sign = -1 if text[0] == "+" else 1  # deviation = UTC - local: +01:00 is -60
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) > 2 else 0)
    if minutes > 720:
        raise TimeTextError(f"UTC offset {text} beyond 12 hours")
    return sign * minutes


def parse_date_time(text: str) -> CosemDateTime:
    m = _DATE_TIME_RE.fullmatch(text.strip())
    if m is None:
        raise TimeTextError("expected a date-time like 2024-01-01T00:00:00+01:00 ('*' for not-specified fields)")
    year, month, day, dow = _date_parts(*m.group(1, 2, 3, 4))
    hour, minute, second, hundredths = (0, 0, 0, 0) if m.group(5) is None else _time_parts(*m.group(5, 6, 7, 8))
    return CosemDateTime(year, month, day, dow, hour, minute, second, hundredths, _deviation(m.group(9)), None)


def parse_date(text: str) -> CosemDate:
    m = _DATE_RE.fullmatch(text.strip())
    if m is None:
        raise TimeTextError("expected a date like 2024-12-25 or *-12-25")
    return CosemDate(*_date_parts(*m.group(1, 2, 3, 4)))


def parse_time(text: str) -> CosemTime:
    m = _TIME_RE.fullmatch(text.strip())
    if m is None:
        raise TimeTextError("expected a time of day like 06:30 or 23:59:59.99 ('*' for not-specified fields)")
    return CosemTime(*_time_parts(*m.groups()))
