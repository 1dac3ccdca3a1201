"""Attribute and method-parameter types of the interface classes, as the Blue Book fixes them.

A `TypeSpec` says which `Data` values an attribute holds. The service layer uses it to refuse
a SET of the wrong type (type-unmatched); the model loader uses it to turn a YAML value written
the way a metering engineer writes it ("1.0.1.8.0.255", "[-3, Wh]", "2024-01-01T00:00") into
`Data` without the model repeating A-XDR types. Specs are immutable and shared by every meter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..axdr import Data, DataType

__all__ = [
    "TypeSpec", "Simple", "OctetString", "Enum", "Struct", "Array", "AnyType", "OneOf",
    "BOOLEAN", "INTEGER", "LONG", "DOUBLE_LONG", "UNSIGNED", "LONG_UNSIGNED", "DOUBLE_LONG_UNSIGNED",
    "LONG64", "LONG64_UNSIGNED", "FLOAT32", "FLOAT64", "VISIBLE_STRING", "UTF8_STRING", "BIT_STRING",
    "OCTET_STRING", "OBIS", "DATE_TIME", "DATE", "TIME", "ANY", "NULL", "SCALER_UNIT", "ENUM",
]


class TypeSpec:
    """Base of all type specifications."""

    __slots__ = ()

    def accepts(self, value: Data) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True)
class Simple(TypeSpec):
    """One simple A-XDR type."""

    type: DataType

    def accepts(self, value: Data) -> bool:
        return value.type == self.type

    def describe(self) -> str:
        return self.type.label


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

    def describe(self) -> str:
        if self.meaning:
            return f"octet-string ({self.meaning})"
        return "octet-string" if self.size is None else f"octet-string({self.size})"


@dataclass(frozen=True, slots=True)
class Enum(TypeSpec):
    """An enum with the standard's named values; `names` maps value -> name."""

    names: tuple[tuple[int, str], ...] = ()
    open: bool = True  # manufacturer-specific values allowed

    def accepts(self, value: Data) -> bool:
        if value.type != DataType.ENUM:
            return False
        return self.open or any(v == value.value for v, _ in self.names)

    def name_of(self, value: int) -> str | None:
        return next((n for v, n in self.names if v == value), None)

    def value_of(self, name: str) -> int | None:
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

    def describe(self) -> str:
        return "structure {" + ", ".join(f"{n}: {s.describe()}" for n, s in self.fields) + "}"


@dataclass(frozen=True, slots=True)
class Array(TypeSpec):
    """An array of one element type."""

    element: TypeSpec

    def accepts(self, value: Data) -> bool:
        if value.type == DataType.COMPACT_ARRAY:
            return True
        return value.type == DataType.ARRAY and all(self.element.accepts(v) for v in value.value)

    def describe(self) -> str:
        return f"array of {self.element.describe()}"


@dataclass(frozen=True, slots=True)
class OneOf(TypeSpec):
    """A CHOICE among a few types (e.g. a value that is long-unsigned or null-data)."""

    options: tuple[TypeSpec, ...] = field(default_factory=tuple)

    def accepts(self, value: Data) -> bool:
        return any(o.accepts(value) for o in self.options)

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

# Blue Book 4.3.2: unit enumeration (a subset of names; any value 0..255 is accepted).
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
SCALER_UNIT = Struct((("scaler", INTEGER), ("unit", Enum(UNITS))))
