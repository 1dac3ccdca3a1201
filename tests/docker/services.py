"""The rig's containers as local processes: the image's and compose file's own commands and
environment, run from the checkout on loopback addresses of this test run.

No container engine is reachable where the project is built, so the tests read docker/Dockerfile
and docker/compose.yaml and start what they would start: `cosem-sim` (the image's entry point) as
`python -m simulator.cli`, with the variables the files set, host names and 0.0.0.0 replaced by
loopback addresses, and mounted paths by the checkout's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
# One /24 of loopback per test run, so two runs side by side do not share the rig's fixed ports.
_NET = f"127.13.{os.getpid() % 250}"


def loopback(n: int) -> str:
    """The test run's n-th loopback address (1..254), standing for one container."""
    return f"{_NET}.{n}"


def dockerfile() -> list[tuple[str, str]]:
    """docker/Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DOCKER / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = dockerfile()
    return steps[max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM"):]


def image_environment() -> dict[str, str]:
    """The ENV of the image (KEY=VALUE pairs)."""
    env: dict[str, str] = {}
    for keyword, args in final_stage():
        if keyword == "ENV":
            env.update(pair.split("=", 1) for pair in args.split())
    return env


def local(command: list[str]) -> list[str]:
    """A container's command line as this checkout runs it."""
    assert command[0] == "cosem-sim", command
    return [sys.executable, "-m", "simulator.cli", *command[1:]]


def environment(variables: dict[str, str]) -> dict[str, str]:
    """This process's environment without COSEM_SIM_* (a developer's own), plus `variables`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("COSEM_SIM_")}, **variables}


def start(command: list[str], variables: dict[str, str], ready: Callable[[str], bool]) -> tuple[subprocess.Popen[str], str]:
    """Start a container's command locally; returns it and its output up to the line `ready` accepts."""
    proc = subprocess.Popen(local(command), cwd=ROOT, env=environment(variables), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = ""
    while True:
        line = proc.stdout.readline()
        if not line:
            proc.wait(15)
            raise AssertionError(f"{command} stopped before it was ready:\n{out}{proc.stderr.read() if proc.stderr else ''}")
        out += line
        if ready(line):
            return proc, out


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """SIGTERM, as `docker stop` sends; the exit status and what it wrote to stderr."""
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err
