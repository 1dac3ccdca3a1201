"""References between objects: what a model points at must exist, with that class and member.

Profiles and compact data capture other objects' attributes, push setups send them, register
monitors and limiters watch them, script tables write or invoke them, register activation
switches them, and schedules, single action schedules, calendars, monitors and limiters run
scripts of script tables. At run time a reference that names nothing reads as null-data or a
refused script, so a head-end sees an empty column and nobody learns why; `check_references`
reports each one with the line that wrote it, the object and attribute holding it, and what it
names.

Attribute index 0 in a capture or push definition stands for the whole object (Blue Book);
script selector 0 is the null script. Both are always valid.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence, Union

from ..axdr import Data, DataType, Obis
from ..cosem.base import InterfaceClass
from ..cosem.registry import get_class
from .spec import ObjectSpec
from .yamlsource import YMap, YNode, YSeq

__all__ = ["check_references"]

Report = Callable[..., None]  # Builder.problem(line, message, **where)
# A step into a value: an array item by position, or a structure field by (position, name).
Step = Union[int, tuple[int, str]]
_SCRIPT_TABLE = 9
_NO_OBJECT = bytes(6)


def _class_name(class_id: int) -> str:
    cls = get_class(class_id)
    return f"{cls.name} (class {class_id})" if cls is not None else f"class {class_id}"


def _members(cls: InterfaceClass, methods: bool) -> str:
    items = cls.methods if methods else cls.attributes
    return ", ".join(f"{m.index} {m.name}" for m in items) or "none"


def _items(value: Data | None) -> tuple[Data, ...]:
    return value.value if value is not None and value.type == DataType.ARRAY else ()


def _fields(value: Data, count: int) -> tuple[Data, ...] | None:
    ok = value.type == DataType.STRUCTURE and len(value.value) >= count
    return value.value[:count] if ok else None


def _int(d: Data) -> int | None:
    return d.value if isinstance(d.value, int) and not isinstance(d.value, bool) else None


def _line(node: YNode | None, line: int, steps: Sequence[Step]) -> int:
    """The line of the YAML that wrote the value at `steps` (the deepest one found)."""
    for step in steps:
        if isinstance(node, YSeq):
            i = step if isinstance(step, int) else step[0]
            node = node.items[i] if i < len(node.items) else None
        elif isinstance(node, YMap) and not isinstance(step, int):
            node = node.get(step[1])
        else:
            node = None
        if node is None:
            break
        line = node.line
    return line


class _Checker:
    """The references of one logical device's objects."""

    def __init__(self, objects: Sequence[ObjectSpec], nodes: Sequence[YNode], sap: int, report: Report) -> None:
        self.objects = objects
        self.by_ln = {bytes(o.logical_name): o for o in objects}
        self.nodes = nodes
        self.sap = sap
        self.report = report

    def run(self) -> None:
        for spec, node in zip(self.objects, self.nodes):
            for attr, ref in _REFERENCES.get(spec.cls.class_id, ()):
                adef = spec.cls.attribute_named(attr)
                value = spec.values[adef.index - 1] if adef is not None else None
                if adef is None or value is None:
                    continue
                anode = _attribute_node(node, adef.index, attr)
                where: dict[str, Any] = {"obis": str(spec.logical_name), "class_name": spec.cls.name,
                                         "attribute": f"{adef.index} {attr}"}
                for path, problem in ref(self, value):
                    line = _line(anode, node.line if anode is None else anode.line, path)
                    self.report(line, problem, **where)

    # ------------------------------------------------------------------ what a reference names
    def target(self, what: str, class_id: int | None, ln: Data) -> tuple[ObjectSpec | None, str | None]:
        """The object a (class_id, logical_name) pair names, or why it names none."""
        raw = ln.value if ln.type == DataType.OCTET_STRING else b""
        if len(raw) != 6:
            return None, f"{what} names no logical name"
        spec = self.by_ln.get(bytes(raw))
        if spec is None:
            return None, f"{what} names {Obis(raw)}, which logical device {self.sap} does not have"
        if class_id is not None and class_id != spec.cls.class_id:
            return None, (f"{what} names {Obis(raw)} as {_class_name(class_id)}, but it is "
                          f"{_class_name(spec.cls.class_id)}")
        return spec, None

    def member(self, what: str, class_id: int | None, ln: Data, index: int | None, method: bool = False,
               whole: bool = False) -> str | None:
        spec, problem = self.target(what, class_id, ln)
        if spec is None or index is None or (whole and index == 0):
            return problem
        kind = "method" if method else "attribute"
        found = spec.cls.method(index) if method else spec.cls.attribute(index)
        if found is None:
            return (f"{what} names {kind} {index} of {spec.logical_name}, which {spec.cls.name} does not have; its "
                    f"{kind}s are {_members(spec.cls, method)}")
        return None

    def script(self, what: str, item: Data) -> str | None:
        """An action item {script table, selector}: the table exists and holds that script."""
        fields = _fields(item, 2)
        if fields is None:
            return None
        spec, problem = self.target(what, _SCRIPT_TABLE, fields[0])
        selector = _int(fields[1])
        if spec is None or not selector:
            return problem
        ids = [_int(s.value[0]) for s in _items(spec.values[1]) if _fields(s, 1)]
        if selector not in ids:
            have = ", ".join(str(i) for i in ids) or "none"
            return f"{what} runs script {selector} of {spec.logical_name}, whose scripts are {have}"
        return None


Finding = Iterator[tuple[tuple[Step, ...], str]]
Reference = Callable[[_Checker, Data], Finding]


def _attribute_node(node: YNode, index: int, name: str) -> YNode | None:
    attrs = node.get("attributes") if isinstance(node, YMap) else None
    if not isinstance(attrs, YMap):
        return None
    return attrs.get(name) or attrs.get(str(index))


# ---------------------------------------------------------------------- the kinds of reference

def _captures(noun: str) -> Reference:
    """An array of capture/push definitions {class_id, logical_name, attribute_index, ...}."""

    def check(c: _Checker, value: Data) -> Finding:
        for i, item in enumerate(_items(value)):
            fields = _fields(item, 3)
            if fields is not None:
                problem = c.member(f"{noun} {i + 1}", _int(fields[0]), fields[1], _int(fields[2]), whole=True)
                if problem:
                    yield (i,), problem

    return check


def _sort_object(c: _Checker, value: Data) -> Finding:
    fields = _fields(value, 3)
    if fields is not None and (_int(fields[0]) or fields[1].value != _NO_OBJECT):
        problem = c.member("sort_object", _int(fields[0]), fields[1], _int(fields[2]), whole=True)
        if problem:
            yield (), problem


def _value_definition(c: _Checker, value: Data) -> Finding:
    fields = _fields(value, 3)
    if fields is not None:
        problem = c.member("monitored_value", _int(fields[0]), fields[1], _int(fields[2]))
        if problem:
            yield (), problem


def _object_definitions(c: _Checker, value: Data) -> Finding:
    for i, item in enumerate(_items(value)):
        fields = _fields(item, 2)
        if fields is not None:
            _, problem = c.target(f"register {i + 1}", _int(fields[0]), fields[1])
            if problem:
                yield (i,), problem


def _monitor_actions(c: _Checker, value: Data) -> Finding:
    for i, item in enumerate(_items(value)):
        fields = _fields(item, 2)
        for f, name in enumerate(("action_up", "action_down")):
            problem = c.script(f"{name} of threshold {i + 1}", fields[f]) if fields else None
            if problem:
                yield (i, (f, name)), problem


def _limiter_actions(c: _Checker, value: Data) -> Finding:
    fields = _fields(value, 2)
    for f, name in enumerate(("action_over_threshold", "action_under_threshold")):
        problem = c.script(name, fields[f]) if fields else None
        if problem:
            yield ((f, name),), problem


def _executed_script(c: _Checker, value: Data) -> Finding:
    problem = c.script("executed_script", value)
    if problem:
        yield (), problem


def _schedule_entries(c: _Checker, value: Data) -> Finding:
    for i, entry in enumerate(_items(value)):
        fields = _fields(entry, 4)
        if fields is not None:
            item = Data(DataType.STRUCTURE, fields[2:4])
            problem = c.script(f"entry {_int(fields[0])}", item)
            if problem:
                yield (i,), problem


def _day_profiles(c: _Checker, value: Data) -> Finding:
    for i, day in enumerate(_items(value)):
        fields = _fields(day, 2)
        if fields is None:
            continue
        for j, action in enumerate(_items(fields[1])):
            parts = _fields(action, 3)
            if parts is not None:
                problem = c.script(f"day {_int(fields[0])} action {j + 1}", Data(DataType.STRUCTURE, parts[1:3]))
                if problem:
                    yield (i, (1, "day_schedule"), j), problem


def _scripts(c: _Checker, value: Data) -> Finding:
    """Script table actions {service_id, class_id, logical_name, index, parameter}."""
    for i, script in enumerate(_items(value)):
        fields = _fields(script, 2)
        if fields is None:
            continue
        for j, action in enumerate(_items(fields[1])):
            parts = _fields(action, 5)
            if parts is None:
                continue
            service, class_id, ln, index, parameter = parts
            method = _int(service) == 2
            what = f"script {_int(fields[0])} action {j + 1}"
            problem = c.member(what, _int(class_id), ln, _int(index), method=method)
            problem = problem or _parameter_problem(c, what, ln, _int(index), method, parameter)
            if problem:
                yield (i, (1, "actions"), j), problem


def _parameter_problem(c: _Checker, what: str, ln: Data, index: int | None, method: bool,
                       parameter: Data) -> str | None:
    """A write or invocation the target would refuse for its type (type-unmatched at run time)."""
    spec = c.by_ln.get(bytes(ln.value))
    if spec is None or index is None:
        return None
    if method:
        mdef = spec.cls.method(index)
        expected = mdef.parameter if mdef is not None else None
        name = f"method {index} {mdef.name}" if mdef is not None else ""
    else:
        adef = spec.cls.attribute(index)
        expected = adef.type if adef is not None else None
        name = f"attribute {index} {adef.name}" if adef is not None else ""
    if expected is None or expected.accepts(parameter):
        return None
    return (f"{what} gives {name} of {spec.logical_name} a {parameter.type.name.lower().replace('_', '-')}, "
            f"which it refuses; expected {expected.describe()}")


# class id -> (attribute name, its check) for every attribute that refers to other objects
_REFERENCES: dict[int, tuple[tuple[str, Reference], ...]] = {
    6: (("register_assignment", _object_definitions),),
    7: (("capture_objects", _captures("capture object")), ("sort_object", _sort_object)),
    9: (("scripts", _scripts),),
    10: (("entries", _schedule_entries),),
    20: (("day_profile_table_active", _day_profiles), ("day_profile_table_passive", _day_profiles)),
    21: (("monitored_value", _value_definition), ("actions", _monitor_actions)),
    22: (("executed_script", _executed_script),),
    40: (("push_object_list", _captures("push object")),),
    62: (("capture_objects", _captures("capture object")),),
    71: (("monitored_value", _value_definition), ("actions", _limiter_actions)),
}


def check_references(objects: Sequence[ObjectSpec], nodes: Sequence[YNode], sap: int, report: Report) -> None:
    """Report every reference of a logical device's objects that names a missing object, an
    object of another class, a member its class lacks, or a script its table lacks.

    `nodes[i]` is the YAML that declared `objects[i]`; `report` takes (line, message, **where).
    """
    _Checker(objects, nodes, sap, report).run()
