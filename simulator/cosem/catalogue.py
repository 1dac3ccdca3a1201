"""The catalogue of declared interface classes, as `cosem-sim classes` lists it."""

from __future__ import annotations

from typing import NamedTuple

from .registry import all_classes

__all__ = ["ClassRow", "classes"]


class ClassRow(NamedTuple):
    """One (class_id, version) of the registry, summarised."""

    class_id: int
    version: int
    name: str
    attributes: int
    methods: int


def classes() -> list[ClassRow]:
    """Every declared class and version, sorted by class id then version."""
    return sorted(ClassRow(c.class_id, c.version, c.name, len(c.attributes), len(c.methods))
                  for c in all_classes())
