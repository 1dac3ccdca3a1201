"""How an interface class is declared: attributes and methods as immutable tables.

Each class family module declares its classes with `interface_class(...)`, `attribute(...)`
and `method(...)`. Behaviour is bound at declaration time as plain functions on the tables:
a dynamic attribute has a `getter`, an attribute whose SET has side effects a `setter`, a
selectively readable attribute a `selective` reader, a method an `impl`. All of them receive an
`ObjectContext` (simulator/cosem/context.py), so classes never know about sockets, associations'
wire state or the wall clock.

Access checks are the service layer's job, not the class's; every write passes
`cosem.write_check.check_write` first (declared type, range, `check`), so setters may assume
the value they get is one the standard allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Callable

from ..apdu.common import ActionResult, DataAccessResult
from ..axdr import Data
from .types import OBIS, TypeSpec

if TYPE_CHECKING:
    from .context import ObjectContext

__all__ = [
    "AttributeAccess", "MethodAccess", "AttributeDef", "MethodDef", "InterfaceClass",
    "AccessFailure", "ActionFailure", "attribute", "method", "interface_class",
    "Getter", "Setter", "SelectiveReader", "MethodImpl", "WriteCheck",
]

Getter = Callable[["ObjectContext"], Data]
Setter = Callable[["ObjectContext", Data], None]
SelectiveReader = Callable[["ObjectContext", int, Data], Data]
MethodImpl = Callable[["ObjectContext", "Data | None"], "Data | None"]
# Raises AccessFailure to refuse a value; runs before the type check, so it must not assume the type.
WriteCheck = Callable[["ObjectContext", Data], None]


class AttributeAccess(IntEnum):
    """attribute_access_mode of an Association's object_list (Blue Book 4.4.3)."""

    NO_ACCESS = 0
    READ_ONLY = 1
    WRITE_ONLY = 2
    READ_AND_WRITE = 3
    AUTHENTICATED_READ_ONLY = 4
    AUTHENTICATED_WRITE_ONLY = 5
    AUTHENTICATED_READ_AND_WRITE = 6

    @property
    def readable(self) -> bool:
        return self in (1, 3, 4, 6)

    @property
    def writable(self) -> bool:
        return self in (2, 3, 5, 6)

    @property
    def authenticated(self) -> bool:
        return self >= 4


class MethodAccess(IntEnum):
    """method_access_mode of an Association's object_list."""

    NO_ACCESS = 0
    ACCESS = 1
    AUTHENTICATED_ACCESS = 2


class AccessFailure(Exception):
    """Raised by a getter, setter or selective reader: the request gets this data-access-result."""

    def __init__(self, result: DataAccessResult, why: str = "") -> None:
        self.result = result
        super().__init__(why or result.name)


class ActionFailure(Exception):
    """Raised by a method implementation: the request gets this action-result."""

    def __init__(self, result: ActionResult, why: str = "") -> None:
        self.result = result
        super().__init__(why or result.name)


@dataclass(frozen=True, slots=True)
class AttributeDef:
    """One attribute of an interface class.

    `dynamic` marks a value that changes by itself (a register's value, the clock's time); a
    static one (scaler_unit, capture_period) is usually fixed by the model. `access` is the
    default access right when an association's model does not give one. `getter_for`, when
    set, limits the getter to the objects whose logical name it accepts: the others answer
    their stored value, pre-encoded like an attribute without a getter (GET's fast path).
    `living_only` says the getter computes only on living meters (simulator/living): in a model
    without a `living:` section the value stays pre-encoded.
    """

    index: int
    name: str
    type: TypeSpec
    dynamic: bool = False
    access: AttributeAccess = AttributeAccess.READ_ONLY
    default: Data | None = None
    getter: Getter | None = None
    setter: Setter | None = None
    selective: SelectiveReader | None = None
    selectors: tuple[int, ...] = ()
    check: WriteCheck | None = None
    getter_for: Callable[[bytes], bool] | None = None
    living_only: bool = False

    def computed(self, logical_name: bytes) -> bool:
        """Whether this object's value comes from the getter (else: stored, pre-encodable)."""
        return self.getter is not None and (self.getter_for is None or self.getter_for(logical_name))


@dataclass(frozen=True, slots=True)
class MethodDef:
    """One method of an interface class; `parameter` None means the method takes none."""

    index: int
    name: str
    parameter: TypeSpec | None = None
    impl: MethodImpl | None = None
    access: MethodAccess = MethodAccess.NO_ACCESS
    optional_parameter: bool = False


@dataclass(frozen=True, slots=True)
class InterfaceClass:
    """An interface class (class_id, version) of the Blue Book, as immutable tables."""

    class_id: int
    version: int
    name: str
    attributes: tuple[AttributeDef, ...]
    methods: tuple[MethodDef, ...] = ()
    # Short-name referencing: offset of method 1 from the object's base_name (Blue Book 4.1.3).
    sn_method_offset: int | None = None
    _attr_index: dict[int, AttributeDef] = field(default_factory=dict, compare=False, repr=False)
    _method_index: dict[int, MethodDef] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._attr_index.update({a.index: a for a in self.attributes})
        self._method_index.update({m.index: m for m in self.methods})

    def attribute(self, index: int) -> AttributeDef | None:
        return self._attr_index.get(index)

    def method(self, index: int) -> MethodDef | None:
        return self._method_index.get(index)

    def attribute_named(self, name: str) -> AttributeDef | None:
        return next((a for a in self.attributes if a.name == name), None)

    def method_named(self, name: str) -> MethodDef | None:
        return next((m for m in self.methods if m.name == name), None)

    @property
    def key(self) -> tuple[int, int]:
        return (self.class_id, self.version)


def attribute(index: int, name: str, type: TypeSpec, **kw: object) -> AttributeDef:
    return AttributeDef(index, name, type, **kw)  # type: ignore[arg-type]


def method(index: int, name: str, parameter: TypeSpec | None = None, **kw: object) -> MethodDef:
    return MethodDef(index, name, parameter, **kw)  # type: ignore[arg-type]


LOGICAL_NAME = AttributeDef(1, "logical_name", OBIS)


def interface_class(class_id: int, version: int, name: str, attributes: list[AttributeDef] | tuple[AttributeDef, ...] = (),
                    methods: list[MethodDef] | tuple[MethodDef, ...] = (), sn_method_offset: int | None = None) -> InterfaceClass:
    """Declare a class; attribute 1 (logical_name) is added for every class."""
    attrs = (LOGICAL_NAME, *attributes)
    indices = [a.index for a in attrs]
    if indices != sorted(set(indices)):
        raise ValueError(f"class {class_id} v{version}: attribute indices must ascend without gaps repeated")
    if [m.index for m in methods] != sorted({m.index for m in methods}):
        raise ValueError(f"class {class_id} v{version}: method indices must ascend")
    return InterfaceClass(class_id, version, name, attrs, tuple(methods), sn_method_offset)
