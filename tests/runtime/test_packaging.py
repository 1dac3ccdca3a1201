"""The product as a user gets it: a plain (non-editable) install, the container image, the files.

The wheel is built from a copy of the sources without build isolation or an index (offline:
the venv's own setuptools builds it) and installed into a fresh venv that borrows the test
venv's dependencies through a .pth file, so nothing of the checkout is importable there.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from .peers import LDN, read, wrapper_transport

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "simulator", "object_models", "profiles")
PROFILE = """
name: wheel
groups:
  - name: m
    model: minimal
    count: 1
    listen: [{transport: tcp, host: 127.0.0.1, port: 0}]
"""


def _pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the project installed from its wheel; returns its bin directory."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    _pip("wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(base / "dist"), str(source))
    (wheel,) = (base / "dist").glob("cosem_simulator-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    (site,) = venv.glob("lib/python3*/site-packages")
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _pip("--python", str(venv / "bin" / "python"), "install", "-q", "--no-deps", "--no-index", str(wheel))
    return venv / "bin"


def _outside(bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command of the installed venv, run away from the checkout."""
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=bin_dir.parent, capture_output=True,
                          text=True, timeout=60)


def test_the_wheel_carries_the_models_and_the_demo_profile(installed: Path) -> None:
    done = _outside(installed, "cosem-sim", "models")
    assert done.returncode == 0, done.stderr
    for name in ("gas", "idis_poly", "minimal", "water"):
        assert re.search(rf"^{name}\s", done.stdout, re.M), done.stdout
    assert str(ROOT) not in done.stdout and "site-packages/simulator/object_models" in done.stdout
    where = _outside(installed, "python", "-c", "import simulator.runtime.profile as p; "
                     "print(p.demo_profile_path()); print(p.load_profile(p.demo_profile_path()).size)")
    assert where.returncode == 0, where.stderr
    path, size = where.stdout.split()
    assert path.endswith("site-packages/simulator/profiles/demo.yaml") and int(size) == 12


def test_the_installed_command_runs_a_shipped_model(installed: Path) -> None:
    profile = installed.parent / "wheel.yaml"
    profile.write_text(PROFILE)
    proc = subprocess.Popen([str(installed / "cosem-sim"), "run", str(profile), "--no-state"],
                            cwd=installed.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = ""
        while (m := re.search(r"TCP wrapper 127\.0\.0\.1:(\d+)", banner)) is None:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "no banner"
            banner += line
        (name,) = read(wrapper_transport(int(m.group(1)), 16), 16, LDN)
        assert name.endswith(b"SIM00000001")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err


def test_the_package_list_names_every_package() -> None:
    """pyproject lists packages one by one (two are mapped from the top level): none forgotten."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "simulator").rglob("__init__.py")}
    assert on_disk <= set(config["packages"])
    assert config["package-dir"] == {"simulator.object_models": "object_models", "simulator.profiles": "profiles"}
