"""simulator/ type-checks clean under mypy with the [tool.mypy] settings of pyproject.toml:
a None that may arrive where a value is used, or a call to a method a class does not have,
fails the suite instead of a meter on the wire."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]


def test_simulator_type_checks_clean() -> None:
    # The incremental cache under .mypy_cache makes reruns quick; a cold run checks everything.
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                "--cache-dir", str(ROOT / ".mypy_cache"), str(ROOT / "simulator")])
    assert status == 0, f"mypy reports problems in simulator/:\n{out}{err}"
