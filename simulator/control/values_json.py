"""COSEM values as JSON, both ways, for the control plane's API.

Out, a value is typed at every level exactly as `cosem-sim decode --json` shows Data
(decode/apdu.py's `data_field`): {"type": "long-unsigned", "value": 10}; structures and arrays
hold a list of such values; octet strings are upper-case hex (with "obis" or "date_time" beside
them where the octets read as one).

In, that typed form is read back exactly (the extra "obis"/"date_time" keys are ignored, so a
value read can be written again), and a plain JSON value is read as a model writes it
(model/values.py) where the attribute's declared type decides: 10 for a long-unsigned, "Wh"
for a unit, [-3, "Wh"] for a scaler_unit, "1.0.1.8.0.255" for an OBIS code, "0x0102" for
octets. The rare date-time, date and time types (0x19..0x1B) go in as ISO text
(model/timetext.py) or their octets in hex. A CHOICE attribute (a register's value) takes a plain scalar in the type it holds now,
as a DLMS SET must keep it; anything else there needs the typed form.
"""

from __future__ import annotations

import struct
from typing import Any, Callable

from ..axdr import BitString, CosemDate, CosemDateTime, CosemTime, Data, DataType
from ..axdr.data import FLOAT_FORMATS, INTEGER_FORMATS
from ..cosem.types import AnyType, Simple, TypeSpec
from ..decode.apdu import data_field
from ..errors import DLMSError
from ..model.timetext import TimeTextError, parse_date, parse_date_time, parse_time
from ..model.loader import class_id_named
from ..model.values import Converter, Interner, Invalid
from ..model.yamlsource import YMap, YNode, YScalar, YSeq

__all__ = ["data_to_json", "json_to_data", "ValueProblem", "TYPE_LABELS"]

TYPE_LABELS = {t.label: t for t in DataType if t != DataType.COMPACT_ARRAY}
_TIMES: dict[DataType, tuple[Callable[[str], Any], type[CosemDateTime] | type[CosemDate] | type[CosemTime]]] = {
    DataType.DATE_TIME: (parse_date_time, CosemDateTime), DataType.DATE: (parse_date, CosemDate),
    DataType.TIME: (parse_time, CosemTime)}
_MAX_DEPTH = 32


class ValueProblem(ValueError):
    """A JSON value that is no value of the attribute's type; the message says what was expected."""


def data_to_json(value: Data) -> Any:
    """The typed JSON of a value, as `cosem-sim decode --json` shows it."""
    return data_field("value", value).value


def json_to_data(body: Any, spec: TypeSpec, held: Data | None = None, path: str = "value") -> Data:
    """The Data a JSON value means for an attribute (or method parameter) of type `spec`;
    `held` is what the attribute holds now (a CHOICE keeps its type). ValueProblem when it is none."""
    if _is_typed(body):
        return _typed(body, path, 0)
    target = spec
    if isinstance(spec, AnyType):
        if held is None or held.type in (DataType.ARRAY, DataType.STRUCTURE, DataType.COMPACT_ARRAY, DataType.NULL_DATA) \
                or isinstance(body, (list, dict)):
            raise ValueProblem("this attribute takes any type: give it typed, e.g. "
                              '{"type": "long-unsigned", "value": 10}')
        target = Simple(held.type)
    try:
        return _converter().convert(_node(body, 0), target, path)
    except Invalid as exc:
        raise ValueProblem(f"{exc.path}: {exc.message}" if exc.path else exc.message) from None


def _is_typed(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("type"), str) and body["type"] in TYPE_LABELS


def _converter() -> Converter:
    return Converter(Interner(), {}, {}, class_id_named)


def _node(body: Any, depth: int) -> YNode:
    """A JSON value as the YAML nodes the model's converter reads (line 1: there are no lines)."""
    if depth > _MAX_DEPTH:
        raise ValueProblem("the value is nested too deeply")
    if isinstance(body, list):
        return YSeq([_node(item, depth + 1) for item in body], 1)
    if isinstance(body, dict):
        node = YMap(1)
        for key, item in body.items():
            node.entries[str(key)] = (1, _node(item, depth + 1))
        return node
    if body is None:
        text = "null"
    elif isinstance(body, bool):
        text = "true" if body else "false"
    else:
        text = str(body)
    return YScalar(body, text, 1, isinstance(body, str))


def _typed(body: Any, path: str, depth: int) -> Data:
    """{"type": ..., "value": ...} read exactly, at every level."""
    if depth > _MAX_DEPTH:
        raise ValueProblem("the value is nested too deeply")
    if not _is_typed(body):
        raise ValueProblem(f"{path}: expected a typed value like {{\"type\": \"long-unsigned\", \"value\": 10}}, "
                          f"found {_shown(body)}")
    unknown = set(body) - {"type", "value", "obis", "date_time"}
    if unknown:
        raise ValueProblem(f"{path}: unknown key(s) {', '.join(sorted(unknown))} beside type and value")
    t = TYPE_LABELS[body["type"]]
    v = body.get("value")
    what = f"{path}: {t.label}"
    if t in (DataType.NULL_DATA, DataType.DONT_CARE):
        if v is not None:
            raise ValueProblem(f"{what} takes no value (null)")
        return Data(t)
    if t in (DataType.ARRAY, DataType.STRUCTURE):
        if not isinstance(v, list):
            raise ValueProblem(f"{what} needs a list of typed values, found {_shown(v)}")
        return Data(t, tuple(_typed(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(v)))
    if t in INTEGER_FORMATS:
        size, signed = INTEGER_FORMATS[t]
        lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (0, (1 << (8 * size)) - 1)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise ValueProblem(f"{what} needs an integer in {lo}..{hi}, found {_shown(v)}")
        return Data(t, v)
    if t == DataType.BOOLEAN:
        if not isinstance(v, bool):
            raise ValueProblem(f"{what} needs true or false, found {_shown(v)}")
        return Data(t, v)
    if t in FLOAT_FORMATS:
        try:
            number = float(v) if not isinstance(v, bool) and isinstance(v, (int, float, str)) else None
            if number is not None:
                FLOAT_FORMATS[t].pack(number)
        except (OverflowError, ValueError, struct.error):
            number = None
        if number is None:
            raise ValueProblem(f"{what} needs a number in range (or \"nan\", \"inf\"), found {_shown(v)}")
        return Data(t, number)
    if not isinstance(v, str):
        raise ValueProblem(f"{what} needs text, found {_shown(v)}")
    if t == DataType.OCTET_STRING:
        try:
            return Data(t, bytes.fromhex(v.removeprefix("0x").replace(" ", "").replace(":", "")))
        except ValueError:
            raise ValueProblem(f"{what} needs hex digits like 0100010800FF, found {_shown(v)}") from None
    if t == DataType.VISIBLE_STRING:
        try:
            v.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueProblem(f"{what} holds one byte per character") from None
        return Data(t, v)
    if t == DataType.UTF8_STRING:
        return Data(t, v)
    if t == DataType.BIT_STRING:
        if v.strip("01"):
            raise ValueProblem(f"{what} needs bits like 0101, found {_shown(v)}")
        return Data(t, BitString(v))
    parse, cls = _TIMES[t]
    try:
        raw = bytes.fromhex(v) if len(v) == 2 * cls.SIZE else None
    except ValueError:
        raw = None
    try:
        return Data(t, cls.from_bytes(raw) if raw is not None else parse(v))
    except (TimeTextError, DLMSError) as exc:
        raise ValueProblem(f"{what}: {exc}, or its {cls.SIZE} octets in hex") from None


def _shown(v: Any) -> str:
    """A found value in a message, cut short."""
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."
