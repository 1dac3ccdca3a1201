"""YAML read as a tree of nodes that remember their line, so every model error can name it.

PyYAML's constructor throws line numbers away; its composer keeps them. We compose with the
C loader when libyaml is there and turn the node graph into small `YMap` / `YSeq` / `YScalar`
objects. A scalar keeps both its resolved value and its source text: YAML 1.1 reads `0x0102`
as 258, `06:00` as 360 and `2024-01-01` as a date, while a model means an octet string, a
time of day or a COSEM date; the value converters read the text where the type says so.
"""

from __future__ import annotations

from typing import Any, Union

import yaml

__all__ = ["MAX_DEPTH", "YScalar", "YMap", "YSeq", "YNode", "YAMLProblem", "parse_yaml", "describe_node"]

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
# No model or profile value nests deeper than a few levels; this bound keeps every reader of the
# tree (here and in the loaders) far from Python's recursion limit, whatever the file holds.
MAX_DEPTH = 64
_CONSTRUCTED = {_TAG + "int", _TAG + "float", _TAG + "bool"}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class YScalar:
    """A scalar: `value` as YAML resolves it (int, float, bool, None or str), `text` as written."""

    __slots__ = ("value", "text", "line", "quoted")

    def __init__(self, value: Any, text: str, line: int, quoted: bool) -> None:
        self.value = value
        self.text = text
        self.line = line
        self.quoted = quoted

    @property
    def is_text(self) -> bool:
        return isinstance(self.value, str)

    def __repr__(self) -> str:
        return f"YScalar({self.value!r}, line={self.line})"


class YMap:
    """A mapping with text keys; `entries[key]` is (line of the key, value node)."""

    __slots__ = ("entries", "line")

    def __init__(self, line: int) -> None:
        self.entries: dict[str, tuple[int, YNode]] = {}
        self.line = line

    def get(self, key: str) -> "YNode | None":
        e = self.entries.get(key)
        return None if e is None else e[1]

    def key_line(self, key: str) -> int:
        e = self.entries.get(key)
        return self.line if e is None else e[0]

    def __repr__(self) -> str:
        return f"YMap({list(self.entries)}, line={self.line})"


class YSeq:
    """A sequence of nodes."""

    __slots__ = ("items", "line")

    def __init__(self, items: list["YNode"], line: int) -> None:
        self.items = items
        self.line = line

    def __repr__(self) -> str:
        return f"YSeq({len(self.items)} items, line={self.line})"


YNode = Union[YScalar, YMap, YSeq]


class YAMLProblem(Exception):
    """The text is not YAML, or not YAML a model can use (duplicate key, non-text key)."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


def parse_yaml(text: str) -> tuple[YNode | None, list[YAMLProblem]]:
    """Compose one YAML document; problems that do not stop reading are returned, not raised."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except RecursionError:  # PyYAML's pure-Python composer, when libyaml is missing
        raise YAMLProblem(1, f"nested more than {MAX_DEPTH} levels deep: no model or profile value nests "
                             "so deep; flatten the value or remove it") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        hint = ""
        if "alias" in str(exc.problem) or "alphabetic or numeric" in str(exc.problem):
            hint = " (quote values that start with '*', such as \"*-12-25\")"
        raise YAMLProblem(line, f"not valid YAML: {exc.problem or exc.context}{hint}") from None
    except yaml.YAMLError as exc:
        raise YAMLProblem(1, f"not valid YAML: {exc}") from None
    if root is None:
        return None, []
    problems: list[YAMLProblem] = []
    return _Builder(problems).build(root), problems


class _Builder:
    """Turns composed nodes into Y-nodes; aliases share the converted node."""

    def __init__(self, problems: list[YAMLProblem]) -> None:
        self.problems = problems
        self.memo: dict[int, YNode] = {}

    def build(self, node: yaml.Node, depth: int = 0) -> YNode:
        done = self.memo.get(id(node))
        if done is not None:
            return done
        line = node.start_mark.line + 1
        if depth > MAX_DEPTH and not isinstance(node, yaml.ScalarNode):
            self.problems.append(YAMLProblem(line, f"nested more than {MAX_DEPTH} levels deep: no model or profile "
                                                   "value nests so deep; flatten the value or remove it"))
            return YScalar(None, "", line, False)
        if isinstance(node, yaml.ScalarNode):
            result: YNode = self._scalar(node, line)
        elif isinstance(node, yaml.SequenceNode):
            seq = YSeq([], line)
            self.memo[id(node)] = seq
            seq.items.extend(self.build(n, depth + 1) for n in node.value)
            return seq
        else:
            assert isinstance(node, yaml.MappingNode)  # the composer makes only these three kinds
            ymap = YMap(line)
            self.memo[id(node)] = ymap
            self._fill(ymap, node, depth + 1)
            return ymap
        self.memo[id(node)] = result
        return result

    @staticmethod
    def _scalar(node: yaml.ScalarNode, line: int) -> YScalar:
        quoted = node.style in ("'", '"', "|", ">")
        tag = node.tag
        if tag in _CONSTRUCTED and not quoted:
            try:
                value = _CONSTRUCTOR.construct_object(node)
            except (ValueError, yaml.YAMLError):
                value = node.value
        elif tag == _TAG + "null" and not quoted:
            value = None
        else:
            value = node.value
        return YScalar(value, node.value, line, quoted)

    def _fill(self, ymap: YMap, node: yaml.MappingNode, depth: int) -> None:
        merged: list[YMap] = []
        for key_node, value_node in node.value:
            kline = key_node.start_mark.line + 1
            if key_node.tag == _TAG + "merge":
                merged.extend(self._merge_sources(value_node, kline, depth))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(YAMLProblem(kline, "a key must be a plain word, found a collection"))
                continue
            key = key_node.value
            if key in ymap.entries:
                first = ymap.entries[key][0]
                self.problems.append(YAMLProblem(kline, f"key {key!r} repeated (first at line {first})"))
                continue
            ymap.entries[key] = (kline, self.build(value_node, depth))
        for source in merged:  # `<<: *defaults`: keys written here win
            for key, entry in source.entries.items():
                ymap.entries.setdefault(key, entry)

    def _merge_sources(self, node: yaml.Node, line: int, depth: int) -> list[YMap]:
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out = []
        for n in nodes:
            built = self.build(n, depth)
            if isinstance(built, YMap):
                out.append(built)
            else:
                self.problems.append(YAMLProblem(line, "'<<' merges mappings only"))
        return out


def describe_node(node: YNode | None) -> str:
    """How a value was written, for 'found ...' in error messages."""
    if node is None:
        return "nothing"
    if isinstance(node, YMap):
        keys = ", ".join(list(node.entries)[:4])
        return f"a mapping ({keys})" if keys else "an empty mapping"
    if isinstance(node, YSeq):
        return f"a list of {len(node.items)}"
    v = node.value
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"the boolean {node.text}"
    if isinstance(v, int):
        return f"the integer {node.text}"
    if isinstance(v, float):
        return f"the number {node.text}"
    text = node.text if len(node.text) <= 40 else node.text[:37] + "..."
    return f"the text {text!r}"
