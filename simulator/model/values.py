"""YAML values to `Data`, typed by the attribute's `TypeSpec` so a model never repeats A-XDR types.

How each type is written (the class's TypeSpec decides which applies):

- integers and enums: 42, "0x2A"; an enum also by its name (`on`, `disconnected`), a flag
  enum (security_policy v1) also as a list of names; a
  double-long-unsigned also as a dotted IPv4 address (IPv4 setup);
  a structure field named class_id also by class name (`Clock`)
- OBIS: any form `Obis` reads (1.0.1.8.0.255, 1-0:1.8.0*255, 0100010800FF) or [1, 0, 1, 8, 0, 255]
- date-time, date, time: ISO text with '*' for not-specified fields (simulator/model/timetext.py)
- octet strings: 0x0102..., "hex:01 02 ...", a list of byte values, or text (UTF-8)
- structures: a list in field order or a mapping by field name (scaler_unit: [-3, Wh])
- arrays: lists
- a CHOICE of any type (Data.value, Register.value): {type: long-unsigned, value: 7} or inferred:
  int -> double-long-unsigned (double-long when negative, long64 when it does not fit 32 bits),
  float -> float32, bool -> boolean, null -> null-data, list -> structure, an ISO date or
  date-time (2024-01-01, 2024-01-01T00:15:00Z) -> octet-string date-time of 12 octets, the form
  the clock's time and a profile's time column take and every client parses; other text ->
  visible-string ({type: visible-string, value: "2024-01-01"} keeps a date as text)

Text holding `{field}` is a per-meter template (model.spec.Template), allowed as a whole
attribute value; `{{` and `}}` are literal braces. Equal values are shared (`Interner`) so a
model with hundreds of objects keeps one copy of each scaler_unit, capture definition, etc.
"""

from __future__ import annotations

import ipaddress
import re
import string
import struct
from typing import Any, Callable

from ..axdr import BitString, CosemDate, CosemDateTime, CosemTime, Data, DataType, Obis
from ..axdr.data import INTEGER_FORMATS
from ..errors import DLMSError
from ..cosem.types import OBIS, AnyType, Array, Enum, OctetString, OneOf, Simple, Struct, TypeSpec
from .errors import BRACES, did_you_mean
from .spec import Template, TemplateError
from .timetext import TimeTextError, parse_date, parse_date_time, parse_time
from .yamlsource import YMap, YNode, YScalar, YSeq, describe_node

__all__ = ["Invalid", "Interner", "Converter", "TYPE_NAMES", "type_named"]

_FORMATTER = string.Formatter()
_FLOATS = {DataType.FLOAT32: struct.Struct(">f"), DataType.FLOATING_POINT: struct.Struct(">f"),
           DataType.FLOAT64: struct.Struct(">d")}
_TIMES: dict[DataType, tuple[Callable[[str], Any], type[CosemDateTime] | type[CosemDate] | type[CosemTime]]] = {
    DataType.DATE_TIME: (parse_date_time, CosemDateTime),
    DataType.DATE: (parse_date, CosemDate),
    DataType.TIME: (parse_time, CosemTime),
}
_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\S.*)?")
_MEANING_TYPE = {"date-time": DataType.DATE_TIME, "date": DataType.DATE, "time": DataType.TIME}


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


TYPE_NAMES: dict[str, TypeSpec] = {t.label: Simple(t) for t in DataType if t != DataType.COMPACT_ARRAY}
TYPE_NAMES.update({
    "octet-string": OctetString(), "obis": OBIS,
    "int8": Simple(DataType.INTEGER), "uint8": Simple(DataType.UNSIGNED), "int16": Simple(DataType.LONG),
    "uint16": Simple(DataType.LONG_UNSIGNED), "int32": Simple(DataType.DOUBLE_LONG),
    "uint32": Simple(DataType.DOUBLE_LONG_UNSIGNED), "int64": Simple(DataType.LONG64),
    "uint64": Simple(DataType.LONG64_UNSIGNED), "bool": Simple(DataType.BOOLEAN),
    "float": Simple(DataType.FLOAT32), "double": Simple(DataType.FLOAT64),
    "string": Simple(DataType.VISIBLE_STRING), "null": Simple(DataType.NULL_DATA),
})


def type_named(name: str) -> TypeSpec | None:
    return TYPE_NAMES.get(_norm(name))


class Invalid(Exception):
    """A value that does not fit its type; `path` is where inside a structured value."""

    def __init__(self, message: str, line: int, path: str = "") -> None:
        self.message = message
        self.line = line
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class Interner:
    """Shares equal values: one Data object and one encoding per distinct value of a model."""

    __slots__ = ("_data", "_bytes", "_tuples")

    def __init__(self) -> None:
        self._data: dict[Data, Data] = {}
        self._bytes: dict[bytes, bytes] = {}
        self._tuples: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def data(self, d: Data) -> Data:
        return self._data.setdefault(d, d)

    def encoded(self, b: bytes) -> bytes:
        return self._bytes.setdefault(b, b)

    def tuple(self, t: tuple[Any, ...]) -> tuple[Any, ...]:
        return self._tuples.setdefault(t, t)


def _is_flag_set(spec: Enum) -> bool:
    """An enum whose named values are single bits (and 0): a list of names means their union."""
    values = [v for v, _ in spec.names if v]
    return len(values) > 1 and all(v & (v - 1) == 0 for v in values)


def _enum_text(spec: Enum) -> str:
    """An enum's values for a message; long lists (units) are cut short."""
    if len(spec.names) <= 12:
        return spec.describe()
    return "enum: a number or a name such as " + ", ".join(n for _, n in spec.names[:10]) + ", ..."


def _expected(what: str, node: YNode | None) -> str:
    return f"expected {what}, found {describe_node(node)}"


class Converter:
    """Turns Y-nodes into Data for one model; `fields` are sample values of the template fields."""

    def __init__(self, interner: Interner, fields: dict[str, object], defaults: dict[str, object],
                 class_id_named: Callable[[str], int | None]) -> None:
        self.interner = interner
        self.fields = fields
        self.defaults = defaults
        self.class_id_named = class_id_named

    # ------------------------------------------------------------------ entry points
    def convert(self, node: YNode, spec: TypeSpec, path: str = "") -> Data:
        if isinstance(spec, AnyType):
            return self._any(node, path)
        if isinstance(spec, OneOf):
            return self._one_of(node, spec, path)
        if isinstance(spec, Struct):
            return self._struct(node, spec, path)
        if isinstance(spec, Array):
            return self._array(node, spec, path)
        if isinstance(spec, Enum):
            return self._enum(node, spec, path)
        if isinstance(spec, OctetString):
            return self._octets(node, spec, path)
        if isinstance(spec, Simple):
            return self._simple(node, spec.type, path)
        d = self._any(node, path)  # a TypeSpec of its own: the explicit form, checked by the spec
        if not spec.accepts(d):
            raise Invalid(_expected(spec.describe(), node), node.line, path)
        return d

    def template(self, node: YNode, spec: TypeSpec) -> Template | None:
        """The per-meter template a whole attribute value is, or None when it is a constant."""
        target, text_node = spec, node
        if isinstance(node, YMap) and isinstance(spec, (AnyType, OneOf)) and "type" in node.entries:
            type_node, value = node.get("type"), node.get("value")
            named = type_named(type_node.text) if isinstance(type_node, YScalar) and type_node.value is not None else None
            if named is None or not isinstance(value, YScalar):
                return None
            target, text_node = named, value
        if not isinstance(text_node, YScalar) or not self._has_fields(text_node):
            return None
        tpl = self._make_template(text_node, target)
        if not spec.accepts(tpl.render(self.fields)):
            raise Invalid(f"template gives {tpl.kind}, expected {spec.describe()}", text_node.line)
        return tpl

    def key_template(self, node: YNode, size: int | None) -> Template:
        """A key written as hex or as a hex template: always a Template of hex digits."""
        if not isinstance(node, YScalar) or node.value is None:
            raise Invalid(_expected("a key as hex digits or a hex template", node), node.line)
        text = node.text.strip()
        low = text.lower()
        body = text[4:] if low.startswith("hex:") else text[2:] if low.startswith("0x") else text
        tpl = Template(body, "octet-string-hex")
        return self._checked(tpl, node, size)

    # ------------------------------------------------------------------ templates
    @staticmethod
    def _has_fields(node: YScalar) -> bool:
        if not node.is_text or ("{" not in node.text and "}" not in node.text):
            return False
        try:
            return any(f is not None for _, f, _, _ in _FORMATTER.parse(node.text))
        except ValueError:
            raise Invalid(f"bad template: {BRACES}", node.line) from None

    def _make_template(self, node: YScalar, spec: TypeSpec) -> Template:
        text = node.text
        low = text.lower()
        is_hex = low.startswith("0x") or low.startswith("hex:")
        body = text[4:] if low.startswith("hex:") else text[2:] if is_hex else text
        kind = self._template_kind(spec, is_hex)
        if kind is None:
            raise Invalid(f"a per-meter template gives text or octets, but the attribute is {spec.describe()}",
                          node.line)
        size = spec.size if isinstance(spec, OctetString) else None
        return self._checked(Template(body, kind), node, size)

    def _template_kind(self, spec: TypeSpec, is_hex: bool) -> str | None:
        if isinstance(spec, OneOf):
            return next((k for o in spec.options if (k := self._template_kind(o, is_hex)) is not None), None)
        if isinstance(spec, OctetString) or spec == Simple(DataType.OCTET_STRING):
            meaning = getattr(spec, "meaning", None)
            if is_hex:
                return "octet-string-hex"
            return "octet-string" if meaning in (None, "text") else None
        if isinstance(spec, AnyType) or spec == Simple(DataType.VISIBLE_STRING):
            return None if is_hex else "visible-string"
        return None

    def _checked(self, tpl: Template, node: YScalar, size: int | None) -> Template:
        """Check field names and render once with sample fields: a bad template fails here, not per meter."""
        try:
            names = {f.split(".")[0].split("[")[0] for _, f, _, _ in _FORMATTER.parse(tpl.text) if f is not None}
        except ValueError:
            raise Invalid(f"bad template: {BRACES}", node.line) from None
        known = {**self.defaults, **self.fields}
        for name in sorted(names):
            if name not in known:
                raise Invalid(f"bad template: unknown field {{{name}}}{did_you_mean(name, known)};"
                              f" known fields: {', '.join(sorted(known))}", node.line)
        defaults = tuple((n, self.defaults[n]) for n in sorted(names) if n in self.defaults)
        tpl = Template(tpl.text, tpl.kind, defaults)
        try:
            sample = tpl.render(self.fields)
            sample.to_bytes()
        except (ValueError, KeyError, IndexError, AttributeError, TypeError, DLMSError) as exc:
            what = "hex digits" if tpl.kind == "octet-string-hex" else "text"
            why = f" ({exc})" if isinstance(exc, TemplateError) else ""  # never the value: it may be a secret
            raise Invalid(f"bad template: with the profile's fields it does not render to {what}{why}",
                          node.line) from None
        if size is not None and len(sample.value) != size:
            raise Invalid(f"template renders to {len(sample.value)} octets, expected {size}", node.line)
        return tpl

    def _literal(self, node: YScalar, path: str) -> str:
        """Text without template fields; `{{`/`}}` become braces."""
        text = node.text
        if "{" not in text and "}" not in text:
            return text
        if self._has_fields(node):
            raise Invalid(f"a per-meter template ({text!r}) can only be a whole attribute value", node.line, path)
        return "".join(lit for lit, _, _, _ in _FORMATTER.parse(text))

    # ------------------------------------------------------------------ simple values
    def _int(self, node: YNode, what: str, path: str) -> int:
        if isinstance(node, YScalar):
            v = node.value
            if isinstance(v, int) and not isinstance(v, bool):
                return v
            if isinstance(v, str):
                try:
                    return int(v.replace("_", ""), 0)
                except ValueError:
                    pass
        raise Invalid(_expected(what, node), node.line, path)

    def _text(self, node: YNode, what: str, path: str) -> str:
        if isinstance(node, YScalar) and node.value is not None:
            return self._literal(node, path)
        raise Invalid(_expected(what, node), node.line, path)

    def _simple(self, node: YNode, t: DataType, path: str) -> Data:
        if t in INTEGER_FORMATS:
            size, signed = INTEGER_FORMATS[t]
            lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (0, (1 << (8 * size)) - 1)
            what = f"{t.label} ({lo}..{hi})"
            if t == DataType.DOUBLE_LONG_UNSIGNED and isinstance(node, YScalar) and node.is_text \
                    and _IPV4.fullmatch(node.text.strip()):
                return self._ipv4(node, path)
            v = self._int(node, what, path)
            if not lo <= v <= hi:
                raise Invalid(_expected(what, node), node.line, path)
            return self.interner.data(Data(t, v))
        if t in (DataType.NULL_DATA, DataType.DONT_CARE):
            if isinstance(node, YScalar) and node.value is None:
                return Data(t)
            raise Invalid(_expected(f"{t.label} (null)", node), node.line, path)
        if t == DataType.BOOLEAN:
            if isinstance(node, YScalar) and isinstance(node.value, bool):
                return Data(t, node.value)
            raise Invalid(_expected("a boolean (true/false)", node), node.line, path)
        if t in _FLOATS:
            if isinstance(node, YScalar) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
                try:
                    _FLOATS[t].pack(node.value)
                except (OverflowError, struct.error):
                    raise Invalid(_expected(f"a {t.label} number in range", node), node.line, path) from None
                return self.interner.data(Data(t, float(node.value)))
            raise Invalid(_expected(f"a number ({t.label})", node), node.line, path)
        if t == DataType.VISIBLE_STRING:
            text = self._text(node, "text (visible-string)", path)
            try:
                text.encode("latin-1")
            except UnicodeEncodeError:
                raise Invalid(_expected("visible-string text (one byte per character)", node), node.line, path) from None
            return self.interner.data(Data(t, text))
        if t == DataType.UTF8_STRING:
            return self.interner.data(Data(t, self._text(node, "text (utf8-string)", path)))
        if t == DataType.OCTET_STRING:
            return self._octets(node, OctetString(), path)
        if t == DataType.BIT_STRING:
            return self._bits(node, path)
        if t in _TIMES:
            return self.interner.data(Data(t, self._time_value(node, t, path)))
        if t in (DataType.ARRAY, DataType.STRUCTURE):
            if not isinstance(node, YSeq):
                raise Invalid(_expected(f"a list ({t.label})", node), node.line, path)
            items = tuple(self._any(n, f"{path}[{i}]") for i, n in enumerate(node.items))
            return self.interner.data(Data(t, items))
        raise Invalid(f"{t.label} cannot be written in a model", node.line, path)

    def _ipv4(self, node: YScalar, path: str) -> Data:
        """An IPv4 address written dotted, for the double-long-unsigned addresses of IPv4 setup."""
        try:
            v = int(ipaddress.IPv4Address(node.text.strip()))
        except ValueError:
            raise Invalid(_expected("an IPv4 address", node), node.line, path) from None
        return self.interner.data(Data(DataType.DOUBLE_LONG_UNSIGNED, v))

    def _bits(self, node: YNode, path: str) -> Data:
        if isinstance(node, YSeq):
            bits = []
            for n in node.items:
                if not (isinstance(n, YScalar) and n.value in (0, 1) and not isinstance(n.value, float)):
                    raise Invalid(_expected("bits (0/1, true/false)", n), n.line, path)
                bits.append("1" if n.value else "0")
            return self.interner.data(Data(DataType.BIT_STRING, BitString("".join(bits))))
        if isinstance(node, YScalar) and node.value is not None:
            text = node.text.strip().replace(" ", "").replace("_", "")
            text = text[2:] if text.lower().startswith("0b") else text
            if not text.strip("01"):
                return self.interner.data(Data(DataType.BIT_STRING, BitString(text)))
        raise Invalid(_expected("a bit-string like 0b0101 or [1, 0, 1]", node), node.line, path)

    def _time_value(self, node: YNode, t: DataType, path: str) -> Any:
        parse, cls = _TIMES[t]
        if isinstance(node, YScalar):
            if node.value is None:
                return cls.from_bytes(b"\xff" * cls.SIZE if t != DataType.DATE_TIME
                                      else b"\xff" * 9 + b"\x80\x00\xff")
            text = node.text.strip()
            if text.lower().startswith(("0x", "hex:")):
                raw = self._hex(node, path)
                if len(raw) != cls.SIZE:
                    raise Invalid(f"expected {cls.SIZE} octets of {t.label}, found {len(raw)}", node.line, path)
                return cls.from_bytes(raw)
            try:
                return parse(text)
            except TimeTextError as exc:
                raise Invalid(f"{exc}, found {describe_node(node)}", node.line, path) from None
        raise Invalid(_expected(f"a {t.label} as text", node), node.line, path)

    def _hex(self, node: YScalar, path: str) -> bytes:
        text = node.text.strip()
        body = text[4:] if text.lower().startswith("hex:") else text[2:]
        try:
            return bytes.fromhex(body)
        except ValueError:
            raise Invalid(_expected("hex digits after 0x or hex:", node), node.line, path) from None

    def _octets(self, node: YNode, spec: OctetString, path: str) -> Data:
        meaning = spec.meaning
        if meaning == "obis":
            raw = self._obis(node, path)
        elif meaning in _MEANING_TYPE:
            t = _MEANING_TYPE[meaning]
            try:
                raw = self._time_value(node, t, path).to_bytes()
            except DLMSError as exc:
                raise Invalid(f"{exc}, found {describe_node(node)}", node.line, path) from None
        elif isinstance(node, YSeq):
            vals = [self._int(n, "a byte (0..255)", path) for n in node.items]
            if any(not 0 <= v <= 255 for v in vals):
                raise Invalid(_expected("bytes 0..255", node), node.line, path)
            raw = bytes(vals)
        elif isinstance(node, YScalar) and node.value is not None:
            if node.text.strip().lower().startswith(("0x", "hex:")):
                raw = self._hex(node, path)
            else:
                raw = self._literal(node, path).encode("utf-8")
        else:
            raise Invalid(_expected("octets as 0x..., hex:..., a list of bytes or text", node), node.line, path)
        if spec.size is not None and len(raw) != spec.size:
            raise Invalid(f"expected {spec.size} octets ({spec.describe()}), found {len(raw)} from "
                          f"{describe_node(node)}", node.line, path)
        return self.interner.data(Data(DataType.OCTET_STRING, raw))

    def _obis(self, node: YNode, path: str) -> bytes:
        what = "an OBIS code like 1.0.1.8.0.255 or 1-0:1.8.0*255"
        if isinstance(node, YSeq) and len(node.items) == 6:
            vals = [self._int(n, "an OBIS value group (0..255)", path) for n in node.items]
            if all(0 <= v <= 255 for v in vals):
                return bytes(vals)
        elif isinstance(node, YScalar) and node.value is not None:
            try:
                return bytes(Obis(node.text))
            except DLMSError:
                pass
        raise Invalid(_expected(what, node), node.line, path)

    def _enum(self, node: YNode, spec: Enum, path: str) -> Data:
        if isinstance(node, YSeq) and _is_flag_set(spec):  # security_policy v1: a list of flag names
            value = 0
            for item in node.items:
                value |= self._enum(item, spec, path).value
            return self.interner.data(Data(DataType.ENUM, value))
        if isinstance(node, YScalar) and isinstance(node.value, int) and not isinstance(node.value, bool):
            v = node.value
            if 0 <= v <= 255 and (spec.open or spec.name_of(v) is not None):
                return self.interner.data(Data(DataType.ENUM, v))
            raise Invalid(_expected(_enum_text(spec), node), node.line, path)
        if isinstance(node, YScalar) and node.value is not None:
            text = node.text.strip()
            named = spec.value_of(text)
            if named is None and text.isdigit():
                return self._enum(YScalar(int(text), text, node.line, False), spec, path)
            if named is not None:
                return self.interner.data(Data(DataType.ENUM, named))
            names = [n for _, n in spec.names]
            hint = did_you_mean(text, names) or did_you_mean(text.lower(), [n.lower() for n in names])
            raise Invalid(f"unknown name {text!r}{hint}; expected {_enum_text(spec)}", node.line, path)
        raise Invalid(_expected(_enum_text(spec), node), node.line, path)

    # ------------------------------------------------------------------ structured values
    def _struct(self, node: YNode, spec: Struct, path: str) -> Data:
        names = [n for n, _ in spec.fields]
        if isinstance(node, YSeq):
            if len(node.items) != len(spec.fields):
                raise Invalid(_expected(f"{len(names)} fields ({', '.join(names)})", node), node.line, path)
            pairs = list(zip(spec.fields, node.items))
        elif isinstance(node, YMap):
            for key, (kline, _) in node.entries.items():
                if key not in names:
                    raise Invalid(f"unknown field {key!r}{did_you_mean(key, names)}; expected fields "
                                  f"{', '.join(names)}", kline, path)
            missing = [n for n in names if n not in node.entries]
            if missing:
                raise Invalid(f"missing field(s) {', '.join(missing)}", node.line, path)
            pairs = [((n, s), node.entries[n][1]) for n, s in spec.fields]
        else:
            raise Invalid(_expected(f"a structure as a list or mapping ({', '.join(names)})", node),
                          node.line, path)
        items = []
        for (name, fspec), child in pairs:
            sub = f"{path}.{name}" if path else name
            if name == "class_id" and isinstance(child, YScalar) and isinstance(child.value, str):
                cid = self.class_id_named(child.text)
                if cid is not None:
                    child = YScalar(cid, str(cid), child.line, False)
            items.append(self.convert(child, fspec, sub))
        return self.interner.data(Data(DataType.STRUCTURE, self.interner.tuple(tuple(items))))

    def _array(self, node: YNode, spec: Array, path: str) -> Data:
        if not isinstance(node, YSeq):
            raise Invalid(_expected(f"a list ({spec.describe()})", node), node.line, path)
        items = tuple(self.convert(n, spec.element, f"{path}[{i}]") for i, n in enumerate(node.items))
        return self.interner.data(Data(DataType.ARRAY, self.interner.tuple(items)))

    def _one_of(self, node: YNode, spec: OneOf, path: str) -> Data:
        if isinstance(node, YMap) and "type" in node.entries and not any(
                isinstance(o, Struct) and "type" in dict(o.fields) for o in spec.options):
            d = self._explicit(node, path)
            if spec.accepts(d):
                return d
            raise Invalid(f"expected {spec.describe()}, found {d.type.label}", node.line, path)
        first: Invalid | None = None
        for option in spec.options:
            try:
                return self.convert(node, option, path)
            except Invalid as exc:
                first = first or exc
        if len(spec.options) == 1 and first is not None:
            raise first
        raise Invalid(_expected(spec.describe(), node), node.line, path)

    def _any(self, node: YNode, path: str) -> Data:
        if isinstance(node, YMap):
            if "type" not in node.entries:
                raise Invalid(_expected("a value, or {type: <data type>, value: ...}", node), node.line, path)
            return self._explicit(node, path)
        if isinstance(node, YSeq):
            items = tuple(self._any(n, f"{path}[{i}]") for i, n in enumerate(node.items))
            return self.interner.data(Data(DataType.STRUCTURE, self.interner.tuple(items)))
        v = node.value
        if v is None:
            return Data(DataType.NULL_DATA)
        if isinstance(v, bool):
            return Data(DataType.BOOLEAN, v)
        if isinstance(v, int):
            if v >= 0:
                t = DataType.DOUBLE_LONG_UNSIGNED if v <= 0xFFFFFFFF else DataType.LONG64_UNSIGNED
            else:
                t = DataType.DOUBLE_LONG if v >= -(1 << 31) else DataType.LONG64
            return self._simple(node, t, path)
        if isinstance(v, float):
            return self._simple(node, DataType.FLOAT32, path)
        if _ISO_DATE.fullmatch(node.text.strip()):  # a profile row's time: what a client expects
            try:
                raw = parse_date_time(node.text).to_bytes()
            except (TimeTextError, DLMSError) as exc:
                raise Invalid(f"{exc}, found {describe_node(node)} (a date becomes a date-time; write "
                              "{type: visible-string, value: ...} for text)", node.line, path) from None
            return self.interner.data(Data(DataType.OCTET_STRING, raw))
        return self._simple(node, DataType.VISIBLE_STRING, path)

    def _explicit(self, node: YMap, path: str) -> Data:
        for key, (kline, _) in node.entries.items():
            if key not in ("type", "value"):
                raise Invalid(f"unknown key {key!r}{did_you_mean(key, ['type', 'value'])} in "
                              "{type: ..., value: ...}", kline, path)
        type_node = node.get("type")
        name = type_node.text if isinstance(type_node, YScalar) and type_node.text else None
        spec = type_named(name) if name is not None else None
        if spec is None:
            hint = did_you_mean(_norm(name), TYPE_NAMES) if name else ""
            found = repr(name) if name else describe_node(type_node)
            raise Invalid(f"unknown data type {found}{hint}; expected one of "
                          f"{', '.join(t.label for t in DataType if t != DataType.COMPACT_ARRAY)}",
                          node.key_line("type"), path)
        value = node.get("value")
        if value is None:
            if spec == Simple(DataType.NULL_DATA):
                return Data(DataType.NULL_DATA)
            raise Invalid(f"{{type: {name}}} needs a value", node.line, path)
        if isinstance(spec, Simple) and spec.type == DataType.ARRAY:
            if not isinstance(value, YSeq):
                raise Invalid(_expected("a list (array)", value), value.line, path)
            items = tuple(self._any(n, f"{path}[{i}]") for i, n in enumerate(value.items))
            return self.interner.data(Data(DataType.ARRAY, self.interner.tuple(items)))
        return self.convert(value, spec, path)
