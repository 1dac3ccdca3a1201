"""docker/Dockerfile: linted, built the way the issue asks (multi-stage, a plain install of the
wheel, an unprivileged user, exec-form entry point, a health check that asks a meter, state on a
volume), and its own `docker run` line reaching the demo: every port the demo binds is published
and bound on every interface, and the image's command, environment and health check, run as local
processes, serve the meters and stop cleanly on SIGTERM."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

from simulator.runtime.command import add_run_arguments, prepared_profile
from simulator.runtime.environment import apply_environment
from simulator.runtime.layout import plan

from ..runtime.peers import LDN, read, wrapper_transport
from .services import DOCKER, ROOT, dockerfile, environment, final_stage, image_environment, loopback, start, stop

HADOLINT = Path(sys.executable).parent / "hadolint"
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "simulator", "object_models", "profiles")


def _examples() -> list[list[str]]:
    """The `docker run` lines of the Dockerfile's opening comment, as argument lists."""
    comment = "\n".join(line[1:] for line in (DOCKER / "Dockerfile").read_text().splitlines() if line.startswith("#"))
    lines = re.sub(r"\\\n", " ", comment).splitlines()
    return [shlex.split(line)[2:] for line in lines if line.strip().startswith("docker run ")]


def _published(example: list[str]) -> tuple[set[tuple[int, str]], dict[str, str]]:
    """The container ports a `docker run` publishes, as (port, "tcp" | "udp"), and its -e variables."""
    ports: set[tuple[int, str]] = set()
    variables: dict[str, str] = {}
    for option, value in zip(example, example[1:]):
        if option == "-p":
            host, container = value.split(":")[-2:]
            span, _, protocol = container.partition("/")
            first, _, last = span.partition("-")
            assert host.split("/")[0] == span, f"{value}: published at the same port number"
            ports.update((port, protocol or "tcp") for port in range(int(first), int(last or first) + 1))
        elif option == "-e":
            name, _, text = value.partition("=")
            variables[name] = text
    return ports, variables


def _run_arguments(command: list[str], variables: dict[str, str]) -> argparse.Namespace:
    """`run`'s options as the container's command line and environment give them."""
    assert command[:2] == ["cosem-sim", "run"], command
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    args = parser.parse_args(command[2:])
    apply_environment(args, variables, lambda: "container")
    return args


def test_hadolint_passes_the_dockerfile_and_would_catch_a_shell_form_entry_point(tmp_path: Path) -> None:
    done = subprocess.run([str(HADOLINT), str(DOCKER / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    # The linter is live: a shell-form entry point (SIGTERM would stop at /bin/sh) is reported.
    worse = tmp_path / "Dockerfile"
    worse.write_text((DOCKER / "Dockerfile").read_text().replace('ENTRYPOINT ["cosem-sim"]', "ENTRYPOINT cosem-sim"))
    done = subprocess.run([str(HADOLINT), str(worse)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "DL3025" in done.stdout, done.stdout


def test_the_image_is_a_non_editable_install_run_by_a_user_with_a_health_check() -> None:
    final = final_stage()
    assert len(final) < len(dockerfile()), "multi-stage: the wheel is built apart from the image that runs it"
    copied = set()
    for keyword, args in dockerfile():
        if keyword == "COPY" and not args.startswith("--from"):
            *sources, _ = args.split()
            assert all(s in SOURCES and (ROOT / s).exists() for s in sources), args
            copied.update(sources)
    ignore = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert ignore[0] == "*" and {line[1:] for line in ignore if line[0] == "!"} == copied, \
        "the build context is what the image copies (not .venv/)"
    installs = [a for k, a in final if k == "RUN" and "pip install" in a]
    assert installs and all(".whl" in a and " -e " not in a for a in installs)
    keywords = [k for k, _ in final]
    (user,) = [a for k, a in final if k == "USER"]
    assert user.isdigit() and user != "0", "a numeric, unprivileged user: Kubernetes' runAsNonRoot can check it"
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    (entrypoint,) = [json.loads(a) for k, a in final if k == "ENTRYPOINT"]
    assert entrypoint == ["cosem-sim"], "exec form: SIGTERM from docker stop reaches cosem-sim itself"
    (volume,) = [json.loads(a) for k, a in final if k == "VOLUME"]
    assert volume == [image_environment()["COSEM_SIM_STATE_DIR"]], "meter state is kept on the volume"
    (check,) = [a for k, a in final if k == "HEALTHCHECK"]
    assert json.loads(check[check.index("CMD") + 3:])[:2] == ["cosem-sim", "probe"]


def _mounted(example: list[str], path: str) -> str:
    """A container path as the checkout has it, through the example's `-v "$PWD/...:..."` mounts."""
    for option, value in zip(example, example[1:]):
        if option == "-v":
            source, target = value.split(":")[:2]
            if path.startswith(target + "/"):
                return source.replace("$PWD", str(ROOT)) + path[len(target):]
    return path


def test_the_dockerfile_examples_publish_every_port_their_fleet_binds_on_every_interface() -> None:
    (entrypoint,) = [json.loads(a) for k, a in final_stage() if k == "ENTRYPOINT"]
    (command,) = [json.loads(a) for k, a in final_stage() if k == "CMD"]
    demo, rig = _examples()
    for example, name, expected in ((demo, "demo", 12 * 3 + 2), (rig, "rig", 12)):
        # the demo: 12 meters x (TCP wrapper, UDP wrapper, HDLC over TCP), its shared HDLC line and its
        # control plane; the rig profile: 12 meters' TCP wrappers (its control plane stays inside)
        published, variables = _published(example)
        assert example[-1] == "cosem-sim", "the example runs the image's own command"
        variables = {key: _mounted(example, value) for key, value in variables.items()}
        profile = prepared_profile(_run_arguments(entrypoint + command, {**image_environment(), **variables}))
        assert profile.name == name
        bound = {(e.port, "udp" if e.transport == "udp" else "tcp") for e in plan(profile).endpoints}
        assert {e.host for e in plan(profile).endpoints} == {"0.0.0.0"}
        if profile.control is not None and profile.control.host == "0.0.0.0":
            bound.add((profile.control.port, "tcp"))
        assert len(bound) == expected and bound <= published, (name, sorted(bound - published))


def test_the_image_serves_the_demo_answers_its_health_check_and_stops_on_sigterm(tmp_path: Path) -> None:
    """The image's entry point, command and environment with the example's variables, on a loopback
    address of this run instead of 0.0.0.0 and the state volume in tmp_path."""
    demo, _ = _examples()
    _, variables = _published(demo)
    final = final_stage()
    (entrypoint,) = [json.loads(a) for k, a in final if k == "ENTRYPOINT"]
    (command,) = [json.loads(a) for k, a in final if k == "CMD"]
    (check,) = [json.loads(a[a.index("CMD") + 3:]) for k, a in final if k == "HEALTHCHECK"]
    here = loopback(1)
    env = {**image_environment(), **variables, "COSEM_SIM_STATE_DIR": str(tmp_path / "state"),
           "COSEM_SIM_HOST": here, "COSEM_SIM_CONTROL": variables["COSEM_SIM_CONTROL"].replace("0.0.0.0", here)}
    proc, banner = start(entrypoint + command, env, lambda line: line.startswith("control plane:"))
    try:
        assert f"TCP wrapper {here}:4059" in banner and f"control plane: http://{here}:8059/" in banner
        (name,) = read(wrapper_transport(4059, 16, host=here), 16, LDN)
        assert name.endswith(b"SIM00000001")
        done = subprocess.run([sys.executable, "-m", "simulator.cli", *check[1:]], cwd=ROOT, capture_output=True,
                              text=True, timeout=30, env=environment(env))
        assert (done.returncode, done.stdout) == (0, f"{here}:4059 (electricity#0 of shard 0/1) client 16 -> "
                                                     "logical device 1: association accepted\n"), done.stderr
        with urllib.request.urlopen(f"http://{here}:8059/metrics", timeout=10) as answer:
            assert b'cosem_associations_total{' in answer.read()
    finally:
        status, err = stop(proc)
    assert status == 0, err
    assert list((tmp_path / "state").iterdir()), "the state volume holds the fleet's database"
