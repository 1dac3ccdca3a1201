"""The product as a user gets it: a plain (non-editable) install, dev.py, CI (the image: tests/docker/).

The wheel is built from a copy of the sources without build isolation or an index (offline:
the venv's own setuptools builds it) and installed into a fresh venv that borrows the test
venv's dependencies through a .pth file, so nothing of the checkout is importable there.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

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


# --------------------------------------------------------------------------- dev.py and CI

def _dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pip_status: int) -> tuple[Any, list[list[str]]]:
    """dev.py as a module, its venv in tmp_path (the interpreter a stub), pip replaced by a recorder."""
    spec = importlib.util.spec_from_file_location("dev_under_test", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    monkeypatch.setattr(dev, "VENV", venv)
    monkeypatch.setattr(dev, "PY", venv / "bin" / "python")
    calls: list[list[str]] = []

    def run(args: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return subprocess.CompletedProcess(args, pip_status)

    monkeypatch.setattr(dev.subprocess, "run", run)
    return dev, calls


def test_dev_py_demo_after_test_keeps_the_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    dev, calls = _dev(tmp_path, monkeypatch, 0)
    dev._ensure_env("test")
    assert len(calls) == 1 and calls[0][-1] == ".[test]"
    assert capsys.readouterr().out == ("dev.py: installing the package with its test tools (pytest, gurux-dlms, "
                                       "dlms-cosem) into .venv...\n")
    dev._ensure_env("")  # the demo: the test install has everything it needs
    dev._ensure_env("test")
    assert len(calls) == 1 and capsys.readouterr().out == ""


def test_dev_py_says_in_one_line_what_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dev, _ = _dev(tmp_path, monkeypatch, 1)
    with pytest.raises(SystemExit) as exit_:
        dev._ensure_env("")
    message = str(exit_.value.code)
    assert "\n" not in message and message.startswith("dev.py: pip could not install . into .venv (exit status 1")
    assert "Offline?" in message and not list((tmp_path / "venv").glob(".installed-*"))


def test_ci_fails_where_a_test_would_skip(tmp_path: Path) -> None:
    """Without socat on PATH the serial test skips; under .ci/run's COSEM_SIM_NO_SKIP=1 it fails."""
    assert "export COSEM_SIM_NO_SKIP=1" in (ROOT / ".ci" / "run").read_text()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
               "tests/runtime/test_serial.py::test_hdlc_over_serial_multidrop"]
    no_socat = {k: v for k, v in os.environ.items() if k != "COSEM_SIM_NO_SKIP"}
    no_socat["PATH"] = str(Path(sys.executable).parent)
    local = subprocess.run(command, cwd=ROOT, env=no_socat, capture_output=True, text=True, timeout=120)
    assert local.returncode == 0 and "SKIPPED [1]" in local.stdout, local.stdout
    ci = subprocess.run(command, cwd=ROOT, env={**no_socat, "COSEM_SIM_NO_SKIP": "1"}, capture_output=True,
                        text=True, timeout=120)
    assert ci.returncode == 1, ci.stdout
    assert "COSEM_SIM_NO_SKIP=1 (CI) allows no skip: Skipped: socat is not installed" in ci.stdout


def test_the_files_a_user_reads_first_point_to_what_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    headings = set(re.findall(r"^#+ (.+)$", readme, re.M))
    for path in sorted((ROOT / "profiles").glob("*.yaml")):
        text = path.read_text()
        assert "docs/" not in text, path  # the product has no docs/: the README is the manual
        for section in re.findall(r'README\.md, "([^"]+)"', text):
            assert section in headings, (path, section)
    assert (ROOT / "LICENSE").read_text().split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "Apache-2.0"
