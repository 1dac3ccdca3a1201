"""Every declared interface class, keyed by (class_id, version).

Built once at import from the family modules' `CLASSES` tuples and never mutated, so no
registry state leaks between tests or meters.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from .base import InterfaceClass
from . import data_register, image, profile, clock, schedule, control
from . import comm_setup, mbus, plc, payment, misc
from . import association, security_setup

__all__ = ["CLASSES", "get_class", "latest_version", "all_classes"]

_FAMILIES = (data_register, image, profile, clock, schedule, control, comm_setup, mbus, plc, payment, misc,
             association, security_setup)


def _build() -> Mapping[tuple[int, int], InterfaceClass]:
    table: dict[tuple[int, int], InterfaceClass] = {}
    for family in _FAMILIES:
        for cls in family.CLASSES:
            if cls.key in table:
                raise RuntimeError(f"class {cls.class_id} version {cls.version} declared twice")
            table[cls.key] = cls
    return MappingProxyType(dict(sorted(table.items())))


CLASSES = _build()
_LATEST = MappingProxyType({cid: max(v for c, v in CLASSES if c == cid) for cid, _ in CLASSES})


def get_class(class_id: int, version: int | None = None) -> InterfaceClass | None:
    """The class declaration; `version` None means the latest declared."""
    if version is None:
        version = _LATEST.get(class_id)
        if version is None:
            return None
    return CLASSES.get((class_id, version))


def latest_version(class_id: int) -> int | None:
    return _LATEST.get(class_id)


def all_classes() -> list[InterfaceClass]:
    return list(CLASSES.values())
