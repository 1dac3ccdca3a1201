"""The result of a decode: a tree of named fields that renders as text or as JSON data.

A `Node` is one decoded unit (a frame, an APDU, a descriptor); its `Field`s carry both forms of
each part, the machine value and the words a person reads, so the two renderings never drift
apart. Offsets: an error found inside an APDU is moved to its place in the whole input through
the APDU's `Origin` (the pieces it was cut from, e.g. several HDLC segments).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import DecodeError
from ..security.apdu import CipherKeys, KeyRequest

__all__ = [
    "Field", "Node", "Decoded", "DecodeOptions", "Member", "kebab", "spaced_hex", "octets_field", "Located",
    "Origin", "where", "shift", "located",
]


@dataclass(frozen=True, slots=True)
class Field:
    """One named part of a decoded unit.

    `value` is what JSON shows: a JSON value, a `Node`, or a tuple of `Field`s (a list).
    `text` is what the text shows: None means `str(value)`, "" means JSON only.
    """

    name: str
    value: Any
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Node:
    """A decoded unit (frame, APDU, descriptor): `kind` names it, `summary` qualifies it."""

    kind: str
    fields: tuple[Field, ...] = ()
    summary: str = ""

    def to_python(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.summary:
            out["summary"] = self.summary
        for f in self.fields:
            out[_json_key(f.name)] = _json_value(f.value)
        return out


@dataclass(frozen=True, slots=True)
class Decoded:
    """The whole input: `input` is "hdlc", "wrapper" or "apdu"; `items` its frames or APDU."""

    input: str
    length: int
    items: tuple[Node, ...]

    def to_python(self) -> dict[str, Any]:
        return {"input": self.input, "length": self.length, "items": [n.to_python() for n in self.items]}

    def to_text(self) -> str:
        blocks = []
        for node in self.items:
            lines: list[str] = []
            _render(node, None, "", lines)
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


Member = tuple[int, int, bool]
"""(class_id, attribute or method index, is a method): what a short name refers to."""


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """Keys and the sender's system title for ciphered APDUs (keys are kept out of repr).

    A meter's own trace gives `keys`, a lookup that picks the global or broadcast key per APDU
    as the meter does (a ded- APDU then uses the dedicated key of the InitiateRequest seen),
    and `short_names`, which tells what an SN variable name refers to so that a secret written
    or read by short name is hidden as well. With `keys`, an APDU they do not open is shown as
    not deciphered (the client's fault) instead of ending the decode.
    """

    ek: bytes | None = field(default=None, repr=False)
    ak: bytes | None = field(default=None, repr=False)
    system_title: bytes | None = None
    keys: Callable[[KeyRequest], CipherKeys | None] | None = field(default=None, repr=False)
    short_names: Callable[[int], Member | None] | None = field(default=None, repr=False)


def _json_key(name: str) -> str:
    return name.lower().replace("-", "_")


def _json_value(v: Any) -> Any:
    if isinstance(v, Node):
        return v.to_python()
    if isinstance(v, tuple):
        return [_json_value(f.value) for f in v]
    return v


def _render(node: Node, label: str | None, indent: str, out: list[str]) -> None:
    head = "" if label == node.kind else node.kind
    head += f" ({node.summary})" if node.summary else ""
    out.append(f"{indent}{label}:{' ' if head else ''}{head.strip()}" if label else indent + head)
    for f in node.fields:
        _render_field(f, indent + "  ", out)


def _render_field(f: Field, indent: str, out: list[str]) -> None:
    v = f.value
    if isinstance(v, Node):
        _render(v, f.name, indent, out)
        return
    if isinstance(v, tuple):
        out.append(f"{indent}{f.name}: {f.text or _items(len(v))}")
        for sub in v:
            _render_field(sub, indent + "  ", out)
        return
    if f.text == "":
        return
    lines = (str(v) if f.text is None else f.text).split("\n")
    out.append(f"{indent}{f.name}: {lines[0]}")
    out.extend(indent + line for line in lines[1:])


def _items(n: int) -> str:
    return f"{n} item{'' if n == 1 else 's'}"


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def kebab(name: str) -> str:
    """GetRequestNormal / read_write_denied / READ_WRITE_DENIED -> read-write-denied."""
    if name.isupper() or "_" in name or name.islower():
        return name.lower().replace("_", "-")
    return _CAMEL.sub("-", name).lower()


def spaced_hex(b: bytes) -> str:
    return b.hex(" ").upper()


def octets_field(name: str, b: bytes) -> Field:
    """Octets as hex: compact in JSON, spaced with their count in text."""
    text = f"{len(b)} octet{'' if len(b) == 1 else 's'}" + (f": {spaced_hex(b)}" if b else "")
    return Field(name, b.hex().upper(), text)


# --------------------------------------------------------------------------- offsets

class Located(DecodeError):
    """A DecodeError whose offset already counts from the start of the whole input."""


Origin = tuple[tuple[int, int], ...]
"""Where an APDU's bytes sit in the input: (offset in the APDU, offset in the input) per piece."""


def where(origin: Origin, k: int) -> int:
    piece = max((p for p in origin if p[0] <= k), default=origin[0])
    return piece[1] + k - piece[0]


def shift(origin: Origin, k: int) -> Origin:
    """The origin of the bytes that start at offset k of the bytes `origin` describes."""
    return ((0, where(origin, k)),) + tuple((a - k, i) for a, i in origin if a > k)


def located(error: DecodeError, origin: Origin) -> Located:
    if isinstance(error, Located):
        return error
    return Located(error.reason, where(origin, error.offset or 0))
