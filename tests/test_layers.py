"""The architecture as a test: the sans-IO core never touches I/O or the wall clock, and
dependencies point downward only (runtime -> server -> association -> model -> cosem -> living
-> state -> security -> apdu -> axdr; link and decode aside)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "simulator"
IO_MODULES = {"asyncio", "socket", "serial", "serial_asyncio", "uvloop", "selectors", "threading"}
WALL_CLOCK = {("time", "time"), ("time", "monotonic"), ("datetime", "now"), ("datetime", "utcnow"),
              ("date", "today"), ("random", "random"), ("random", "randint"), ("os", "urandom")}
# What each layer may import from the package (besides itself and `errors`): the layers below it,
# axdr < apdu < security < state < living < cosem < model < association < server (link and decode aside).
# No exceptions: where a lower layer needs what an upper one defines, it declares a Protocol.
ALLOWED = {
    "axdr": set(),
    "apdu": {"axdr"},
    "link": {"axdr"},
    "security": {"axdr", "apdu"},
    "state": {"axdr", "apdu", "security"},
    "living": {"axdr", "apdu", "security", "state"},
    "cosem": {"axdr", "apdu", "security", "state", "living"},
    "model": {"axdr", "apdu", "security", "state", "living", "cosem"},
    "association": {"axdr", "apdu", "security", "state", "living", "cosem", "model"},
    "server": {"axdr", "apdu", "security", "state", "living", "cosem", "model", "association", "link"},
    "decode": {"axdr", "apdu", "security", "link", "cosem"},
}


def _modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), str(path))
    rel = path.relative_to(PACKAGE).parts
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel[:-1])[: len(rel) - node.level]
                name = ".".join(["simulator", *base, *(node.module.split(".") if node.module else [])])
            else:
                name = node.module or ""
            found.append((name, node.lineno))
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_core_layers_do_no_io(layer: str) -> None:
    bad = [f"{p.name}:{line} imports {name}" for p in _modules(layer) for name, line in _imports(p)
           if name.split(".")[0] in IO_MODULES]
    assert not bad


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_core_layers_never_read_the_wall_clock(layer: str) -> None:
    bad = []
    for p in _modules(layer):
        for node in ast.walk(ast.parse(p.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and (node.func.value.id, node.func.attr) in WALL_CLOCK):
                bad.append(f"{p.name}:{node.lineno} calls {node.func.value.id}.{node.func.attr}()")
    assert not bad


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_dependencies_point_downward(layer: str) -> None:
    bad = []
    for p in _modules(layer):
        for name, line in _imports(p):
            parts = name.split(".")
            if parts[0] != "simulator" or len(parts) < 2 or parts[1] in (layer, "errors"):
                continue
            if parts[1] not in ALLOWED[layer]:
                bad.append(f"{p.relative_to(PACKAGE)}:{line} imports {name}")
    assert not bad
