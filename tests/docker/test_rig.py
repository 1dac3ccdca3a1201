"""docker/compose.yaml and docker/prometheus.yml: Debian's docker-compose accepts the rig, and the
rig's services, run as the same commands in local processes, work together: three shards of
profiles/rig.yaml (each on a loopback address standing for its container), every shard healthy by
its own health check, the collector (docker/collector/, gurux-dlms) reading every meter, each
Prometheus target answering /metrics with what the collector did to that shard's meters, and
Debian's Prometheus on the rig's prometheus.yml finding every target up and summing them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from .services import DOCKER, ROOT, environment, final_stage, loopback, start, stop

COMPOSE = DOCKER / "compose.yaml"


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _docker_compose(path: Path) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("docker-compose")
    if executable is None:
        pytest.skip("docker-compose is not installed (.ci/run installs Debian's with apt-get)")
    # relative paths (build contexts, mounts) from docker/, wherever the file is
    return subprocess.run([executable, "-f", str(path), "--project-directory", str(DOCKER), "config", "-q"], capture_output=True, text=True, timeout=60)


def test_docker_compose_accepts_the_rig_and_would_refuse_a_broken_one(tmp_path: Path) -> None:
    done = _docker_compose(COMPOSE)
    assert done.returncode == 0, done.stderr
    # The check is real: a collector waiting for a shard the file does not define is refused.
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("sim-2: {condition: service_healthy}",
                                                  "sim-3: {condition: service_healthy}"))
    done = _docker_compose(broken)
    assert done.returncode != 0 and "sim-3" in done.stderr, done.stderr


def test_the_rig_is_three_shards_a_collector_and_prometheus_on_one_network() -> None:
    services = _compose()["services"]
    sims = sorted(name for name in services if name.startswith("sim-"))
    assert sims == ["sim-0", "sim-1", "sim-2"]
    assert [services[name]["environment"]["COSEM_SIM_SHARD"] for name in sims] == ["0/3", "1/3", "2/3"]
    assert all(services[name]["networks"] == ["rig"] for name in services)
    assert set(services["collector"]["depends_on"]) == set(sims)
    targets = {target for job in yaml.safe_load((DOCKER / "prometheus.yml").read_text())["scrape_configs"]
               for group in job["static_configs"] for target in group["targets"]}
    assert targets == {"sim-0:8059", "sim-1:8059", "sim-2:8059"}, "each container's control plane at 8059"


def _container_path(service: dict[str, Any], path: str, volumes: dict[str, Path]) -> str:
    """The host path behind a path in a service's container: a bind mount relative to docker/, or
    a named volume in `volumes`."""
    for volume in service["volumes"]:
        source, target = volume.split(":")[:2]
        if path == target or path.startswith(target + "/"):
            host = volumes[source] if source in volumes else (DOCKER / source).resolve()
            return str(host) + path[len(target):]
    raise AssertionError(f"{path} is on no volume of the service")


def test_the_rig_services_as_local_processes_collect_every_meter(tmp_path: Path) -> None:
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        pytest.skip("Prometheus is not installed (.ci/run installs Debian's with apt-get)")
    compose = _compose()
    services = compose["services"]
    sims = sorted(name for name in services if name.startswith("sim-"))
    address = {name: loopback(10 + i) for i, name in enumerate(sims)}  # each container's own address
    volumes = {name: tmp_path / name for name in compose["volumes"]}
    (entrypoint,) = [json.loads(a) for k, a in final_stage() if k == "ENTRYPOINT"]
    (default_command,) = [json.loads(a) for k, a in final_stage() if k == "CMD"]
    running = []
    try:
        envs = {}
        for name in sims:
            service = services[name]
            env = {key: str(value) for key, value in service["environment"].items()}
            assert env["COSEM_SIM_HOST"] == "0.0.0.0" and env["COSEM_SIM_CONTROL"].startswith("0.0.0.0:")
            env["COSEM_SIM_HOST"] = address[name]
            env["COSEM_SIM_CONTROL"] = env["COSEM_SIM_CONTROL"].replace("0.0.0.0", address[name])
            env["COSEM_SIM_PROFILE"] = _container_path(service, env["COSEM_SIM_PROFILE"], volumes)
            env["COSEM_SIM_STATE_DIR"] = _container_path(service, env["COSEM_SIM_STATE_DIR"], volumes)
            envs[name] = env
            proc, _ = start(entrypoint + service.get("command", default_command), env,
                            lambda line: line.startswith("control plane:"))
            running.append(proc)

        for index, name in enumerate(sims):  # each container's health check finds its shard's first meter
            check = services[name]["healthcheck"]["test"]
            assert check[0] == "CMD"
            done = subprocess.run([sys.executable, "-m", "simulator.cli", *check[2:]], cwd=ROOT, capture_output=True,
                                  text=True, timeout=30, env=environment(envs[name]))
            assert (done.returncode, done.stdout) == (0, f"{address[name]}:{4059 + index} (electricity#{index} of "
                                                         f"shard {index}/3) client 16 -> logical device 1: "
                                                         "association accepted\n"), done.stdout + done.stderr

        collector = services["collector"]
        assert collector["build"]["context"] == "./collector"
        command = [address.get(arg, arg) if i == 0 else arg for i, arg in enumerate(collector["command"])]
        hosts = command.index("--hosts") + 1
        command[hosts] = ",".join(address[host] for host in command[hosts].split(","))
        done = subprocess.run([sys.executable, str(DOCKER / "collector" / "collector.py"), *command], cwd=ROOT,
                              capture_output=True, text=True, timeout=120,
                              env=environment({k: str(v) for k, v in collector["environment"].items()}))
        assert done.returncode == 0, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        for i in range(12):  # meter i on shard i % 3, port 4059 + i, with the fleet's serial
            host = address[sims[i % 3]]
            assert any(line.startswith(f"ok     {host}:{4059 + i} serial {i + 1:08d} ") and "rows 97 " in line
                       for line in lines), done.stdout
        assert lines[-1].startswith("collected 12 of 12 meters, 0 failed")

        prometheus = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
        (job,) = prometheus["scrape_configs"]
        for group in job["static_configs"]:
            (target,) = group["targets"]
            host, port = target.split(":")
            with urllib.request.urlopen(f"http://{address[host]}:{port}{job['metrics_path']}", timeout=10) as answer:
                families = {f.name: f for f in text_string_to_metric_families(answer.read().decode())}
            samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                       for family in families.values() for s in family.samples}
            # the collector's 4 readers (client 2) on this shard's 4 meters, and the probe's public client
            assert samples[("cosem_associations_total", (("client_sap", "2"), ("outcome", "accepted")))] == 4, target
            assert samples[("cosem_meters_contacted", ())] == 4, target
        _prometheus_scrapes_every_shard(prometheus, address, tmp_path)
    finally:
        statuses = [stop(proc) for proc in running]
    assert all(status == 0 for status, _ in statuses), statuses
    kept = sorted(path.name for path in volumes["state"].iterdir() if path.suffix == ".sqlite3")
    assert kept == [f"state.shard-{i}-of-3.sqlite3" for i in range(3)], "one state file per shard on the volume"


def _prometheus_scrapes_every_shard(config: dict[str, Any], address: dict[str, str], tmp_path: Path) -> None:
    """Debian's Prometheus (the rig's container, run as a local process) on the rig's own
    prometheus.yml, its targets moved to the shards' loopback addresses and scraped every second:
    every target is up and the collector's 12 associations are summed over the shards."""
    for group in config["scrape_configs"][0]["static_configs"]:
        group["targets"] = [address.get(t.split(":")[0], t.split(":")[0]) + ":" + t.split(":")[1]
                            for t in group["targets"]]
    config["global"]["scrape_interval"] = "1s"
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    check = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    web = f"{loopback(9)}:9090"
    server = subprocess.Popen(["prometheus", f"--config.file={path}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                               f"--web.listen-address={web}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    query = urllib.parse.quote('sum(cosem_associations_total{client_sap="2",outcome="accepted"})')
    try:
        deadline, up, total = time.monotonic() + 60, [], None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{web}/api/v1/targets", timeout=5) as answer:
                    up = [t["health"] for t in json.load(answer)["data"]["activeTargets"]]
                with urllib.request.urlopen(f"http://{web}/api/v1/query?query={query}", timeout=5) as answer:
                    result = json.load(answer)["data"]["result"]
                total = float(result[0]["value"][1]) if result else None
            except OSError:
                pass  # not listening yet
            if up == ["up"] * 3 and total == 12:
                break
            time.sleep(0.5)
        assert up == ["up"] * 3 and total == 12, (up, total)
    finally:
        server.terminate()
        assert server.wait(30) == 0, server.stderr.read().decode() if server.stderr else ""

