"""Access rights: the default rights of an association role and per-object overrides.

An association has a role that gives every object it lists its rights; an object may
override them per association. Roles:

- public:        the class's readable attributes read-only; no methods
- reader:        the class's readable attributes read-only; methods as the class's defaults
- management:    logical_name read-only, every other attribute read-write (write-only where
                 the class keeps it unreadable, e.g. a secret); every method
- class-default: the class's own default rights
- a mapping {attributes: <mode>, methods: <mode>}: one mode for every attribute and method

Attribute modes: no-access, read-only, write-only, read-write, authenticated-read-only,
authenticated-write-only, authenticated-read-write. Method modes: no-access, access,
authenticated-access. Rights are interned: a model holds one ObjectRights per distinct right set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from ..cosem.base import AttributeAccess, AttributeDef, InterfaceClass, MethodAccess, MethodDef
from .errors import did_you_mean
from .spec import ObjectRights
from .values import Invalid
from .yamlsource import YMap, YNode, YScalar, describe_node

__all__ = ["Role", "ROLES", "RightsBook", "attribute_mode", "method_mode", "role_named"]

_A, _M = AttributeAccess, MethodAccess
_Mode = TypeVar("_Mode", AttributeAccess, MethodAccess)
ATTRIBUTE_MODES: dict[str, AttributeAccess] = {
    "no-access": _A.NO_ACCESS, "none": _A.NO_ACCESS, "read-only": _A.READ_ONLY, "r": _A.READ_ONLY,
    "write-only": _A.WRITE_ONLY, "w": _A.WRITE_ONLY, "read-write": _A.READ_AND_WRITE,
    "read-and-write": _A.READ_AND_WRITE, "rw": _A.READ_AND_WRITE,
    "authenticated-read-only": _A.AUTHENTICATED_READ_ONLY,
    "authenticated-write-only": _A.AUTHENTICATED_WRITE_ONLY,
    "authenticated-read-write": _A.AUTHENTICATED_READ_AND_WRITE,
    "authenticated-read-and-write": _A.AUTHENTICATED_READ_AND_WRITE,
}
METHOD_MODES: dict[str, MethodAccess] = {
    "no-access": _M.NO_ACCESS, "none": _M.NO_ACCESS, "access": _M.ACCESS,
    "authenticated-access": _M.AUTHENTICATED_ACCESS,
}


def _norm(text: str) -> str:
    return text.strip().lower().replace("_", "-").replace(" ", "-")


@dataclass(frozen=True, slots=True)
class Role:
    """Default rights of an association: a rule per attribute and per method."""

    name: str
    attributes: AttributeAccess | None = None  # None: the named rule decides
    methods: MethodAccess | None = None

    def attribute(self, a: AttributeDef) -> AttributeAccess:
        if self.attributes is not None:
            if a.index == 1:
                return _A.NO_ACCESS if self.attributes == _A.NO_ACCESS else _A.READ_ONLY
            return self.attributes
        if self.name == "class-default":
            return a.access
        if self.name == "management":
            if a.index == 1:
                return _A.READ_ONLY
            return _A.READ_AND_WRITE if a.access.readable else _A.WRITE_ONLY
        return _A.READ_ONLY if a.access.readable else _A.NO_ACCESS  # public, reader

    def method(self, m: MethodDef) -> MethodAccess:
        if self.methods is not None:
            return self.methods
        if self.name == "management":
            return _M.ACCESS
        if self.name in ("class-default", "reader"):
            return m.access
        return _M.NO_ACCESS


ROLES = {name: Role(name) for name in ("public", "reader", "management", "class-default")}


def attribute_mode(node: YNode) -> AttributeAccess:
    return _mode(node, ATTRIBUTE_MODES, AttributeAccess, "attribute access mode")


def method_mode(node: YNode) -> MethodAccess:
    return _mode(node, METHOD_MODES, MethodAccess, "method access mode")


def _mode(node: YNode, names: dict[str, _Mode], enum: type[_Mode], what: str) -> _Mode:
    if isinstance(node, YScalar):
        if isinstance(node.value, int) and not isinstance(node.value, bool) and node.value in set(enum):
            return enum(node.value)
        if isinstance(node.value, bool) and enum is MethodAccess:  # `methods: yes`
            return enum(_M.ACCESS if node.value else _M.NO_ACCESS)
        if node.value is not None:
            key = _norm(node.text)
            if key in names:
                return names[key]
            raise Invalid(f"unknown {what} {node.text!r}{did_you_mean(key, names)}; expected one of "
                          f"{', '.join(n for n in names if len(n) > 2)}", node.line)
    raise Invalid(f"expected an {what}, found {describe_node(node)}", node.line)


def role_named(node: YNode) -> Role:
    """An association's `role`: a role name or {attributes: mode, methods: mode}."""
    if isinstance(node, YMap):
        for key, (kline, _) in node.entries.items():
            if key not in ("attributes", "methods"):
                raise Invalid(f"unknown key {key!r}{did_you_mean(key, ['attributes', 'methods'])} in a role",
                              kline)
        a = node.get("attributes")
        m = node.get("methods")
        return Role("custom", attribute_mode(a) if a is not None else _A.NO_ACCESS,
                    method_mode(m) if m is not None else _M.NO_ACCESS)
    if isinstance(node, YScalar) and node.value is not None:
        role = ROLES.get(_norm(node.text))
        if role is not None:
            return role
        raise Invalid(f"unknown role {node.text!r}{did_you_mean(_norm(node.text), ROLES)}; expected one of "
                      f"{', '.join(ROLES)} or {{attributes: <mode>, methods: <mode>}}", node.line)
    raise Invalid(f"expected a role, found {describe_node(node)}", node.line)


class RightsBook:
    """Builds and shares ObjectRights: equal right sets are one object across the model."""

    def __init__(self) -> None:
        self._by_role: dict[tuple[Role, tuple[int, int]], ObjectRights] = {}
        self._shared: dict[ObjectRights, ObjectRights] = {}

    def of_role(self, role: Role, cls: InterfaceClass) -> ObjectRights:
        key = (role, cls.key)
        rights = self._by_role.get(key)
        if rights is None:
            attrs = [_A.NO_ACCESS] * max((a.index for a in cls.attributes), default=0)
            methods = [_M.NO_ACCESS] * max((m.index for m in cls.methods), default=0)
            for a in cls.attributes:
                attrs[a.index - 1] = role.attribute(a)
            for m in cls.methods:
                methods[m.index - 1] = role.method(m)
            rights = self.share(ObjectRights(tuple(attrs), tuple(methods)))
            self._by_role[key] = rights
        return rights

    def share(self, rights: ObjectRights) -> ObjectRights:
        return self._shared.setdefault(rights, rights)

    def override(self, base: ObjectRights, cls: InterfaceClass, node: YMap) -> ObjectRights:
        """Apply {attributes: ..., methods: ...} (each a mode for all, or a mapping name -> mode)."""
        attrs = list(base.attributes)
        methods = list(base.methods)
        a_node, m_node = node.get("attributes"), node.get("methods")
        if a_node is not None:
            for pos, a_mode in _each(a_node, cls.attributes, attribute_mode, "attribute", skip_first=True):
                attrs[pos] = a_mode
        if m_node is not None:
            for pos, m_mode in _each(m_node, cls.methods, method_mode, "method"):
                methods[pos] = m_mode
        return self.share(ObjectRights(tuple(attrs), tuple(methods)))


def _each(node: YNode, defs: tuple[AttributeDef, ...] | tuple[MethodDef, ...], parse: Callable[[YNode], _Mode],
          what: str, skip_first: bool = False) -> Iterator[tuple[int, _Mode]]:
    """(index - 1, mode) for a mode-for-all or a mapping by name or index."""
    if isinstance(node, YScalar):
        mode = parse(node)
        for d in defs:
            if not (skip_first and d.index == 1):
                yield d.index - 1, mode
        return
    if not isinstance(node, YMap):
        raise Invalid(f"expected a {what} access mode or a mapping {what} -> mode, found {describe_node(node)}",
                      node.line)
    names = [d.name for d in defs]
    for key, (kline, child) in node.entries.items():
        pos = next((d.index - 1 for d in defs if d.name == key or key.isdigit() and d.index == int(key)), None)
        if pos is None:
            raise Invalid(f"the class has no {what} {key!r}{did_you_mean(key, names)}; its {what}s are "
                          f"{', '.join(f'{d.index} {d.name}' for d in defs)}", kline)
        yield pos, parse(child)
