"""The shipped object models and the object table `cosem-sim models` / `show MODEL` print."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import NamedTuple

from ..cosem.base import MethodAccess
from .errors import ModelError
from .loader import load_model
from .spec import AssociationSpec, MeterModel, ObjectRights

__all__ = ["SHIPPED_DIR", "shipped_dir", "ModelInfo", "ObjectRow", "list_models", "find_model", "object_table"]


def shipped_dir(name: str) -> Path:
    """A directory the product ships (`object_models`, `profiles`).

    An installed wheel carries it inside the package (pyproject maps it there); a source
    checkout, and an editable install of one, has it beside the package.
    """
    package = Path(str(resources.files("simulator")))
    inside = package / name
    return inside if inside.is_dir() else package.parent / name


SHIPPED_DIR = shipped_dir("object_models")


class ModelInfo(NamedTuple):
    name: str
    description: str
    path: Path


class ObjectRow(NamedTuple):
    """One object of `show MODEL`; `access` is per association: 'r', 'rw', 'w', '+m' for methods."""

    device: int
    obis: str
    class_id: int
    version: int
    class_name: str
    short_name: str
    label: str
    access: str


def list_models(directory: Path = SHIPPED_DIR) -> list[ModelInfo]:
    """The models in `directory` by name; one that does not validate says so in its description."""
    out = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            model = load_model(path)
            out.append(ModelInfo(model.name, model.description, path))
        except ModelError as exc:
            out.append(ModelInfo(path.stem, f"(does not validate: {len(exc.problems)} problem(s))", path))
    return out


def find_model(name: str, directory: Path = SHIPPED_DIR) -> Path:
    """A model file from a path or the name of a shipped model ('idis_poly')."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = directory / f"{name}.yaml"
    if shipped.is_file():
        return shipped
    known = ", ".join(p.stem for p in sorted(directory.glob("*.yaml")))
    raise FileNotFoundError(f"no model file {name!r} and no shipped model of that name (shipped: {known})")


def _rights_text(rights: ObjectRights | None) -> str:
    if rights is None:
        return "-"
    readable = any(a.readable for a in rights.attributes)
    writable = any(a.writable for a in rights.attributes)
    text = ("r" if readable else "") + ("w" if writable else "")
    if any(m != MethodAccess.NO_ACCESS for m in rights.methods):
        text += "+m"
    return text or "-"


def _label(assoc: AssociationSpec) -> str:
    return assoc.label or str(assoc.client_sap)


def object_table(model: MeterModel) -> list[ObjectRow]:
    """Every object of every logical device, with each association's access in short."""
    rows = []
    for sap, device in model.logical_devices.items():
        associations = list(device.associations.values())
        for obj in device.objects:
            access = " ".join(f"{_label(a)}:{_rights_text(a.rights.get(obj.index))}" for a in associations)
            rows.append(ObjectRow(sap, str(obj.logical_name), obj.cls.class_id, obj.cls.version, obj.cls.name,
                                  "" if obj.short_name is None else f"0x{obj.short_name:04X}", obj.label, access))
    return rows
