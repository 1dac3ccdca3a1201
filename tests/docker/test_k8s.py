"""docker/k8s/: the manifests pass Kubernetes' own schemas (kubernetes-validate from PyPI, offline),
fit together (Service, StatefulSet, ConfigMap, volumes, the image's user), and the fleet in the
ConfigMap is 100,000 meters that the StatefulSet's pods split: a pod, run here as a local process
with its environment and a container runtime's file limit, serves its 2,000 meters and answers
its probe."""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.runtime import probe
from simulator.runtime.command import add_run_arguments, prepared_profile
from simulator.runtime.environment import apply_environment
from simulator.runtime.layout import plan, shard_endpoints

from ..runtime.peers import LDN, read, wrapper_transport
from .services import DOCKER, final_stage, loopback, start, stop

K8S = DOCKER / "k8s"
VALIDATE = Path(sys.executable).parent / "kubernetes-validate"


def _manifests() -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())}


def _pod(manifests: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """The StatefulSet's container and its environment."""
    (container,) = manifests["StatefulSet"]["spec"]["template"]["spec"]["containers"]
    return container, {item["name"]: item["value"] for item in container["env"]}


def _profile_file(manifests: dict[str, dict[str, Any]], container: dict[str, Any], env: dict[str, str],
                  tmp_path: Path) -> Path:
    """The ConfigMap's profile where the pod finds it (its mount), under tmp_path."""
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "profile"]
    (volume,) = [v for v in manifests["StatefulSet"]["spec"]["template"]["spec"]["volumes"] if v["name"] == "profile"]
    assert volume["configMap"]["name"] == manifests["ConfigMap"]["metadata"]["name"]
    relative = Path(env["COSEM_SIM_PROFILE"]).relative_to(mount["mountPath"])
    path = tmp_path / relative
    path.write_text(manifests["ConfigMap"]["data"][str(relative)])
    return path


def test_the_manifests_pass_kubernetes_schemas_and_a_broken_one_does_not(tmp_path: Path) -> None:
    files = sorted(K8S.glob("*.yaml"))
    done = subprocess.run([str(VALIDATE), "--strict", *map(str, files)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(" passed for resource ") == 3, done.stdout
    # The schemas are really applied: a misspelt field of the pod template is refused.
    broken = tmp_path / "statefulset.yaml"
    broken.write_text((K8S / "statefulset.yaml").read_text().replace("volumeMounts:", "volumeMount:"))
    done = subprocess.run([str(VALIDATE), "--strict", str(broken)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "volumeMount" in done.stdout + done.stderr, done.stdout + done.stderr


def test_the_statefulset_service_configmap_and_image_fit_together(tmp_path: Path) -> None:
    manifests = _manifests()
    assert set(manifests) == {"ConfigMap", "Service", "StatefulSet"}
    service, stateful = manifests["Service"], manifests["StatefulSet"]
    assert service["spec"]["clusterIP"] == "None", "headless: one DNS name per pod, no load balancing"
    assert stateful["spec"]["serviceName"] == service["metadata"]["name"]
    labels = stateful["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert stateful["spec"]["selector"]["matchLabels"].items() <= labels.items()
    container, env = _pod(manifests)
    assert env["COSEM_SIM_SHARD_FROM_HOSTNAME"] == "1"
    assert int(env["COSEM_SIM_SHARDS"]) == stateful["spec"]["replicas"], "pod I of N is shard I/N"
    (claim,) = stateful["spec"]["volumeClaimTemplates"]
    (state,) = [m for m in container["volumeMounts"] if m["name"] == claim["metadata"]["name"]]
    assert state["mountPath"] == env["COSEM_SIM_STATE_DIR"], "each pod's state on its own claim"
    (user,) = [a for k, a in final_stage() if k == "USER"]
    security = stateful["spec"]["template"]["spec"]["securityContext"]
    assert security["runAsNonRoot"] and security["runAsUser"] == int(user) == security["fsGroup"]
    for name in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[name]["exec"]["command"][:2] == ["cosem-sim", "probe"]
    profile = _profile_file(manifests, container, env, tmp_path)
    done = subprocess.run([sys.executable, "-m", "simulator.cli", "validate", str(profile)], capture_output=True,
                          text=True, timeout=120)
    assert done.stdout == f"{profile}: valid profile cluster (100000 meters)\n", done.stdout


def _pod_arguments(env: dict[str, str], ordinal: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    args = parser.parse_args([])
    apply_environment(args, env, lambda: f"cosem-sim-{ordinal}.cosem-sim.default.svc.cluster.local")
    return args


def test_each_pod_binds_only_its_2000_meters_below_the_ephemeral_ports(tmp_path: Path) -> None:
    manifests = _manifests()
    container, env = _pod(manifests)
    env = {**env, "COSEM_SIM_PROFILE": str(_profile_file(manifests, container, env, tmp_path))}
    replicas = manifests["StatefulSet"]["spec"]["replicas"]
    (sysctl,) = manifests["StatefulSet"]["spec"]["template"]["spec"]["securityContext"]["sysctls"]
    assert sysctl["name"] == "net.ipv4.ip_local_port_range"
    ephemeral = int(sysctl["value"].split()[0])
    args = _pod_arguments(env, replicas - 1)
    layout = plan(prepared_profile(args))
    endpoints, problems = shard_endpoints(layout, args.shard, "fleet.yaml")
    assert not problems and args.shard.index == replicas - 1
    meters = [entry.index for endpoint in endpoints for entry in endpoint.meters()]
    assert len(endpoints) == len(meters) == 100_000 // replicas
    assert all(index % replicas == replicas - 1 for index in meters)
    assert max(endpoint.port for endpoint in endpoints) < ephemeral


def test_a_pod_under_a_runtimes_file_limit_serves_its_meters_and_answers_its_probe(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last pod as a local process: the StatefulSet's environment, its host name's ordinal
    given as COSEM_SIM_SHARD (a process cannot fake its host name), a loopback address for the
    pod's, and the soft limit of 1024 open files some container runtimes give (it needs 2,000
    sockets: run raises its own limit up to the hard one)."""
    manifests = _manifests()
    container, env = _pod(manifests)
    replicas = manifests["StatefulSet"]["spec"]["replicas"]
    ordinal = replicas - 1
    here = loopback(30)
    pod = {**env, "COSEM_SIM_PROFILE": str(_profile_file(manifests, container, env, tmp_path)),
           "COSEM_SIM_STATE_DIR": str(tmp_path / "state"), "COSEM_SIM_HOST": here}
    # The probe finds the pod's first meter from the host name, as in the cluster.
    monkeypatch.setattr(probe.socket, "gethostname", lambda: f"cosem-sim-{ordinal}")
    monkeypatch.setattr(probe.os, "environ", pod)
    found = probe.first_meter(argparse.Namespace(profile=None, shard=None, port_offset=None))
    assert found == (here, 10000 + ordinal, f"tcp#{ordinal} of shard {ordinal}/{replicas}")
    del pod["COSEM_SIM_SHARD_FROM_HOSTNAME"]
    pod["COSEM_SIM_SHARD"] = str(ordinal)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard > 3000, "the test needs a hard limit above the pod's sockets"
    previous = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # inherited by the child
    try:
        proc, banner = start(["cosem-sim", *container["args"]], pod, lambda line: line.startswith("group udp:"))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, previous)
    try:
        assert f"shard {ordinal}/{replicas}: 2000 of 100000 meters" in banner
        done = subprocess.run([sys.executable, "-m", "simulator.cli", *container["readinessProbe"]["exec"]["command"][1:]],
                              capture_output=True, text=True, timeout=60, env={**pod, "PATH": "/usr/bin:/bin"})
        assert done.returncode == 0 and done.stdout.startswith(f"{here}:{10000 + ordinal} (tcp#{ordinal} of "), \
            done.stdout + done.stderr
        # the pod's last TCP meter (fleet index 49,999), with its serial
        (name,) = read(wrapper_transport(10000 + 49_999, 16, host=here), 16, LDN)
        assert name.endswith(b"T0050000")
    finally:
        status, err = stop(proc)
    assert status == 0, err
