#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11+.

    python3 dev.py demo    # create .venv if needed, install, start the demo fleet
    python3 dev.py test    # create .venv if needed, install with test extras, run the whole suite

Extra arguments after `test` go to pytest; after `demo`, to `cosem-sim run`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


# Each set of extras with the sets it includes: the test install serves the demo too.
_COVERS = {"": ("", "test"), "test": ("test",)}


def _ensure_env(extras: str) -> None:
    """Create the venv and (re)install when pyproject.toml changed or the wanted extras are missing."""
    if sys.version_info < (3, 11):
        sys.exit("Python 3.11 or newer is needed")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PY.exists() and any(_stamp(have).is_file() and _stamp(have).read_text() == digest for have in _COVERS[extras]):
        return
    first = not PY.exists()
    if first:
        print("dev.py: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extras}]" if extras else "."
    what = "the package with its test tools (pytest, gurux-dlms, dlms-cosem)" if extras else "the package"
    print(f"dev.py: installing {what} into .venv{' (first run: about half a minute)' if first else ''}...",
          flush=True)
    done = subprocess.run([str(PY), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", target],
                          cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"dev.py: pip could not install {target} into .venv (exit status {done.returncode}; its "
                 "messages are above). Offline? Connect once, or point pip at a wheel directory "
                 "(PIP_FIND_LINKS=DIR PIP_NO_INDEX=1), then run dev.py again.")
    for stale in VENV.glob(".installed-*"):
        stale.unlink()
    _stamp(extras).write_text(digest)


def _stamp(extras: str) -> Path:
    return VENV / f".installed-{extras or 'base'}"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    _ensure_env("" if cmd == "demo" else "test")
    args = ["-m", "simulator.cli", "run", *rest] if cmd == "demo" else ["-m", "pytest", *rest]
    os.chdir(ROOT)
    if os.name == "nt":
        return subprocess.call([str(PY), *args])
    # Become the venv's Python, so Ctrl-C and SIGTERM reach the simulator itself.
    os.execv(str(PY), [str(PY), *args])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
