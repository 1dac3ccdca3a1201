"""Attribute and method-parameter types of the interface classes, as the Blue Book fixes them.

A `TypeSpec` says which `Data` values an attribute holds: `accepts` checks the A-XDR type and
shape, `fault` the content the standard allows (a range, an enum's listed values, a valid
date-time). The server refuses a SET of the wrong type (type-unmatched) and one out of range
(other-reason); the model loader uses it to turn a YAML value written
the way a metering engineer writes it ("1.0.1.8.0.255", "[-3, Wh]", "2024-01-01T00:00") into
`Data` without the model repeating A-XDR types. Specs are immutable and shared by every meter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..axdr import CosemDate, CosemDateTime, CosemTime, Data, DataType
from ..errors import EncodeError

__all__ = [
    "TypeSpec", "Simple", "DEVIATION", "date_time_fault", "OctetString", "Enum", "Struct", "Array", "AnyType", "OneOf",
    "BOOLEAN", "INTEGER", "LONG", "DOUBLE_LONG", "UNSIGNED", "LONG_UNSIGNED", "DOUBLE_LONG_UNSIGNED",
    "LONG64", "LONG64_UNSIGNED", "FLOAT32", "FLOAT64", "VISIBLE_STRING", "UTF8_STRING", "BIT_STRING",
    "OCTET_STRING", "OBIS", "DATE_TIME", "DATE", "TIME", "ANY", "NULL", "SCALER_UNIT", "ENUM",
]


DEVIATION = (-840, 840)
"""The deviation a date-time may carry, in minutes: the Blue Book's clock time zone range
(-720..840) widened by the daylight-saving shift so the same instant can be written in both
signs' conventions (New Zealand summer time is UTC+13: deviation -780)."""
_NOT_SPECIFIED_DEVIATION = -0x8000
# (offset, name, allowed values besides 0xFF "not specified") of the one-byte fields of a date
# and a time (Blue Book 4.1.6.1); 0xFD/0xFE are the DST-end/begin months and the
# second-last/last day of the month.
_DATE_FIELDS = ((2, "month", range(1, 13), (0xFD, 0xFE)), (3, "day of month", range(1, 32), (0xFD, 0xFE)),
                (4, "day of week", range(1, 8), ()))
_TIME_FIELDS = ((0, "hour", range(0, 24), ()), (1, "minute", range(0, 60), ()), (2, "second", range(0, 60), ()),
                (3, "hundredths", range(0, 100), ()))


def _field_fault(raw: bytes, fields: tuple[tuple[int, str, range, tuple[int, ...]], ...]) -> str | None:
    for offset, name, allowed, special in fields:
        b = raw[offset]
        if b != 0xFF and b not in allowed and b not in special:
            return f"{name} {b} is not allowed"
    return None


def date_time_fault(value: Data) -> str | None:
    """Why a date, time or date-time (tagged, or as its octet-string) is not a valid COSEM one."""
    raw = value.value
    if value.type in (DataType.DATE_TIME, DataType.DATE, DataType.TIME):
        if not isinstance(raw, (CosemDateTime, CosemDate, CosemTime)):
            return None  # no value of a date type: its type is the question, not its range
        try:
            raw = raw.to_bytes()
        except EncodeError as exc:
            return str(exc)
    if not isinstance(raw, bytes) or len(raw) not in (4, 5, CosemDateTime.SIZE):
        return "not a COSEM date or time"
    if len(raw) == 4:
        return _field_fault(raw, _TIME_FIELDS)
    why = _field_fault(raw, _DATE_FIELDS)
    if why is not None or len(raw) == 5:
        return why
    why = _field_fault(raw[5:9], _TIME_FIELDS)
    deviation = int.from_bytes(raw[9:11], "big", signed=True)
    if why is None and deviation != _NOT_SPECIFIED_DEVIATION and not DEVIATION[0] <= deviation <= DEVIATION[1]:
        why = f"deviation {deviation} min is outside {DEVIATION[0]}..{DEVIATION[1]}"
    return why


class TypeSpec:
    """Base of all type specifications."""

    __slots__ = ()

    def accepts(self, value: Data) -> bool:
        raise NotImplementedError

    def fault(self, value: Data) -> str | None:
        """Why a value this spec accepts is still outside what the standard allows; None if allowed."""
        return None

    def describe(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True)
class Simple(TypeSpec):
    """One simple A-XDR type; a number may be limited to `low`..`high` plus `special` values
    (such as 0x8000, "not specified")."""

    type: DataType
    low: int | None = None
    high: int | None = None
    special: tuple[int, ...] = ()

    def accepts(self, value: Data) -> bool:
        return value.type == self.type

    def fault(self, value: Data) -> str | None:
        if self.type in (DataType.DATE_TIME, DataType.DATE, DataType.TIME):
            return date_time_fault(value)
        if self.low is None or value.value in self.special:
            return None
        if not self.low <= value.value <= (self.high if self.high is not None else value.value):
            return f"{value.value} is outside {self.low}..{self.high}"
        return None

    def describe(self) -> str:
        if self.low is None:
            return self.type.label
        return f"{self.type.label} {self.low}..{self.high}" + "".join(f" or {v}" for v in self.special)


@dataclass(frozen=True, slots=True)
class OctetString(TypeSpec):
    """An octet-string, optionally of fixed size and with a meaning that governs its YAML form.

    `meaning` is one of None, "obis", "date-time", "date", "time", "text". A date-time octet
    string also accepts the tagged date-time type (many meters and clients use either).
    """

    size: int | None = None
    meaning: str | None = None

    def accepts(self, value: Data) -> bool:
        if value.type == DataType.OCTET_STRING:
            return self.size is None or len(value.value) == self.size
        return (self.meaning == "date-time" and value.type == DataType.DATE_TIME
                or self.meaning == "date" and value.type == DataType.DATE
                or self.meaning == "time" and value.type == DataType.TIME)

    def fault(self, value: Data) -> str | None:
        return date_time_fault(value) if self.meaning in ("date-time", "date", "time") else None

    def describe(self) -> str:
        if self.meaning:
            return f"octet-string ({self.meaning})"
        return "octet-string" if self.size is None else f"octet-string({self.size})"


@dataclass(frozen=True, slots=True)
class Enum(TypeSpec):
    """An enum with the standard's named values; `names` maps value -> name."""

    names: tuple[tuple[int, str], ...] = ()
    open: bool = True  # values beyond the names allowed (manufacturer-specific, or `ranges`)
    ranges: tuple[tuple[int, int], ...] = ()  # when given, an open enum's values must fall in one

    def accepts(self, value: Data) -> bool:
        return value.type == DataType.ENUM

    def fault(self, value: Data) -> str | None:
        v = value.value
        if self.name_of(v) is not None or self.open and (
                not self.ranges or any(low <= v <= high for low, high in self.ranges)):
            return None
        return f"{v} is not a value of {self.describe() if len(self.names) <= 12 else 'the enumeration'}"

    def name_of(self, value: int) -> str | None:
        return next((n for v, n in self.names if v == value), None)

    def value_of(self, name: str) -> int | None:
        """The value named `name`: the exact name first (units "A" ampere and "a" year, "S" and
        "s", "H" and "h" differ only by case), else ignoring case, '-' and spaces."""
        exact = next((v for v, n in self.names if n == name), None)
        if exact is not None:
            return exact
        key = name.lower().replace("-", "_").replace(" ", "_")
        return next((v for v, n in self.names if n.lower() == key), None)

    def describe(self) -> str:
        if not self.names:
            return "enum"
        return "enum (" + ", ".join(f"{v} {n}" for v, n in self.names) + ")"


@dataclass(frozen=True, slots=True)
class Struct(TypeSpec):
    """A structure with named members, in order."""

    fields: tuple[tuple[str, TypeSpec], ...]

    def accepts(self, value: Data) -> bool:
        if value.type != DataType.STRUCTURE or len(value.value) != len(self.fields):
            return False
        return all(spec.accepts(v) for (_, spec), v in zip(self.fields, value.value))

    def fault(self, value: Data) -> str | None:
        for (name, spec), v in zip(self.fields, value.value):
            why = spec.fault(v)
            if why is not None:
                return f"{name}: {why}"
        return None

    def describe(self) -> str:
        return "structure {" + ", ".join(f"{n}: {s.describe()}" for n, s in self.fields) + "}"


@dataclass(frozen=True, slots=True)
class Array(TypeSpec):
    """An array of one element type."""

    element: TypeSpec

    def accepts(self, value: Data) -> bool:
        return value.type == DataType.ARRAY and all(self.element.accepts(v) for v in value.value)

    def fault(self, value: Data) -> str | None:
        for i, v in enumerate(value.value):
            why = self.element.fault(v)
            if why is not None:
                return f"element {i + 1}: {why}"
        return None

    def describe(self) -> str:
        return f"array of {self.element.describe()}"


@dataclass(frozen=True, slots=True)
class OneOf(TypeSpec):
    """A CHOICE among a few types (e.g. a value that is long-unsigned or null-data)."""

    options: tuple[TypeSpec, ...] = field(default_factory=tuple)

    def accepts(self, value: Data) -> bool:
        return any(o.accepts(value) for o in self.options)

    def fault(self, value: Data) -> str | None:
        faults = [o.fault(value) for o in self.options if o.accepts(value)]
        return None if None in faults else faults[0]

    def describe(self) -> str:
        return " | ".join(o.describe() for o in self.options)


@dataclass(frozen=True, slots=True)
class AnyType(TypeSpec):
    """The Blue Book's CHOICE of any simple or structured type (Data.value, Register.value)."""

    def accepts(self, value: Data) -> bool:
        return True

    def describe(self) -> str:
        return "any (CHOICE)"


BOOLEAN = Simple(DataType.BOOLEAN)
INTEGER = Simple(DataType.INTEGER)
LONG = Simple(DataType.LONG)
DOUBLE_LONG = Simple(DataType.DOUBLE_LONG)
UNSIGNED = Simple(DataType.UNSIGNED)
LONG_UNSIGNED = Simple(DataType.LONG_UNSIGNED)
DOUBLE_LONG_UNSIGNED = Simple(DataType.DOUBLE_LONG_UNSIGNED)
LONG64 = Simple(DataType.LONG64)
LONG64_UNSIGNED = Simple(DataType.LONG64_UNSIGNED)
FLOAT32 = Simple(DataType.FLOAT32)
FLOAT64 = Simple(DataType.FLOAT64)
VISIBLE_STRING = Simple(DataType.VISIBLE_STRING)
UTF8_STRING = Simple(DataType.UTF8_STRING)
BIT_STRING = Simple(DataType.BIT_STRING)
NULL = Simple(DataType.NULL_DATA)
OCTET_STRING = OctetString()
OBIS = OctetString(6, "obis")
DATE_TIME = OctetString(12, "date-time")
DATE = OctetString(5, "date")
TIME = OctetString(4, "time")
ENUM = Enum()
ANY = AnyType()

# Blue Book 4.3.2: unit enumeration (a subset of names). Values 1..72 and the imperial units
# 128..174 of later editions are units; 0 and the gaps are not.
UNITS: tuple[tuple[int, str], ...] = (
    (1, "a"), (2, "mo"), (3, "wk"), (4, "d"), (5, "h"), (6, "min"), (7, "s"), (8, "deg"),
    (9, "degC"), (10, "currency"), (11, "m"), (12, "m/s"), (13, "m3"), (14, "m3_corr"),
    (15, "m3/h"), (16, "m3/h_corr"), (17, "m3/d"), (18, "m3/d_corr"), (19, "l"), (20, "kg"),
    (21, "N"), (22, "Nm"), (23, "Pa"), (24, "bar"), (25, "J"), (26, "J/h"), (27, "W"),
    (28, "VA"), (29, "var"), (30, "Wh"), (31, "VAh"), (32, "varh"), (33, "A"), (34, "C"),
    (35, "V"), (36, "V/m"), (37, "F"), (38, "Ohm"), (39, "Ohm_m2/m"), (40, "Wb"), (41, "T"),
    (42, "A/m"), (43, "H"), (44, "Hz"), (45, "1/(Wh)"), (46, "1/(varh)"), (47, "1/(VAh)"),
    (48, "V2h"), (49, "A2h"), (50, "kg/s"), (51, "S"), (52, "K"), (53, "1/(V2h)"),
    (54, "1/(A2h)"), (55, "1/m3"), (56, "%"), (57, "Ah"), (60, "Wh/m3"), (61, "J/m3"),
    (62, "Mol%"), (63, "g/m3"), (64, "Pa_s"), (65, "J/kg"), (66, "g/cm2"), (67, "atm"),
    (70, "dBm"), (71, "dBuV"), (72, "dB"), (253, "reserved"), (254, "other"), (255, "count"),
)
SCALER_UNIT = Struct((("scaler", INTEGER), ("unit", Enum(UNITS, ranges=((1, 72), (128, 174))))))
