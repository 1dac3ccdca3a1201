"""`cosem-sim run`'s options from the environment, for containers: a COSEM_SIM_* variable gives an
option the command line left out; the command line wins.

    COSEM_SIM_PROFILE      the profile (PROFILE)
    COSEM_SIM_HOST         --host
    COSEM_SIM_PORT_OFFSET  --port-offset
    COSEM_SIM_STATE_DIR    --state-dir
    COSEM_SIM_CONTROL      --control HOST:PORT
    COSEM_SIM_SHARD        --shard I/N, or I with COSEM_SIM_SHARDS=N
    COSEM_SIM_SHARD_FROM_HOSTNAME=1  I from a host name ending in -I (a Kubernetes StatefulSet's
                           pod sim-3 is shard 3), N from COSEM_SIM_SHARDS
    COSEM_SIM_WORKERS      --workers (ignored by a process given --shard: a supervisor's worker)

An empty variable counts as unset. A bad value is one ValueError line naming the variable.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
from pathlib import Path
from typing import Callable, Mapping

from .command import control_settings
from .profile import ProfileError
from .shard import WHOLE, Shard, parse_shard

__all__ = ["apply_environment", "parse_workers"]

_PREFIX = "COSEM_SIM_"
_ORDINAL = re.compile(r".*-(\d+)")
_YES, _NO = ("1", "true", "yes"), ("0", "false", "no")


def apply_environment(args: argparse.Namespace, environ: Mapping[str, str], hostname: Callable[[], str]) -> None:
    """Fill `args` (parsed by `add_run_arguments`) from `environ`; `args.shard` becomes a Shard
    (WHOLE without one), `args.workers` a count or None, `args.port_offset` an int."""
    env = {name[len(_PREFIX):]: value.strip() for name, value in environ.items()
           if name.startswith(_PREFIX) and value.strip()}
    if args.profile is None and "PROFILE" in env:
        args.profile = Path(env["PROFILE"])
    if args.host is None and "HOST" in env:
        try:
            ipaddress.IPv4Address(env["HOST"])
        except ValueError:
            raise ValueError(f"COSEM_SIM_HOST: expected an IPv4 address like 0.0.0.0, found {env['HOST']!r}") from None
        args.host = env["HOST"]
    if args.port_offset is None:
        args.port_offset = _integer(env, "PORT_OFFSET") if "PORT_OFFSET" in env else 0
    if args.state_dir is None and "STATE_DIR" in env:
        args.state_dir = Path(env["STATE_DIR"])
    if args.control is None and "CONTROL" in env:
        try:
            control_settings(env["CONTROL"], None)
        except ProfileError:
            raise ValueError(f"COSEM_SIM_CONTROL: expected HOST:PORT like 0.0.0.0:8059, found {env['CONTROL']!r}") \
                from None
        args.control = env["CONTROL"]
    if args.shard is not None:  # on the command line: a shard of its own, or a supervisor's worker
        if args.workers is not None:
            raise ValueError("--shard and --workers cannot be combined: the supervisor gives each worker its shard")
        try:
            args.shard = parse_shard(args.shard)
        except ValueError as exc:
            raise ValueError(f"--shard: {exc}") from None
        return
    shard = _shard(env, hostname)
    workers = args.workers if args.workers is not None else env.get("WORKERS")
    if workers is not None:
        name = "--workers" if args.workers is not None else "COSEM_SIM_WORKERS"
        if shard is not None:
            raise ValueError(f"{name} cannot be combined with a shard from the environment (COSEM_SIM_SHARD or "
                             "COSEM_SIM_SHARD_FROM_HOSTNAME): the supervisor gives each worker its shard")
        try:
            args.workers = parse_workers(workers)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    args.shard = shard or WHOLE


def parse_workers(text: str) -> int:
    """A worker count: N >= 1, or 0 or "auto" for one per processor."""
    if text.strip().lower() in ("0", "auto"):
        return os.cpu_count() or 1
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 1:
        raise ValueError(f"expected a number of worker processes (0 or auto: one per processor), found {text!r}")
    return count


def _shard(env: dict[str, str], hostname: Callable[[], str]) -> Shard | None:
    from_hostname = env.get("SHARD_FROM_HOSTNAME", "0").lower()
    if from_hostname not in _YES + _NO:
        raise ValueError(f"COSEM_SIM_SHARD_FROM_HOSTNAME: expected 1 or 0, found {env['SHARD_FROM_HOSTNAME']!r}")
    count = _integer(env, "SHARDS") if "SHARDS" in env else None
    if count is not None and count < 1:
        raise ValueError(f"COSEM_SIM_SHARDS: expected a number of shards (1 or more), found {env['SHARDS']!r}")
    if from_hostname in _YES:
        if "SHARD" in env:
            raise ValueError("COSEM_SIM_SHARD and COSEM_SIM_SHARD_FROM_HOSTNAME=1 both say the shard: set one")
        if count is None:
            raise ValueError("COSEM_SIM_SHARD_FROM_HOSTNAME: COSEM_SIM_SHARDS must say how many shards there are")
        name = hostname().split(".")[0]
        found = _ORDINAL.fullmatch(name)
        if found is None:
            raise ValueError(f"COSEM_SIM_SHARD_FROM_HOSTNAME: the host name {name!r} does not end in -I "
                             "(a StatefulSet pod's ordinal, as in sim-3)")
        return _checked(f"{int(found.group(1))}/{count}", f"COSEM_SIM_SHARD_FROM_HOSTNAME (host name {name!r})")
    if "SHARD" not in env:
        return None
    text = env["SHARD"]
    if "/" not in text:
        if count is None:
            raise ValueError(f"COSEM_SIM_SHARD: {text!r} needs COSEM_SIM_SHARDS (the number of shards), or give I/N")
        text = f"{text}/{count}"
    shard = _checked(text, "COSEM_SIM_SHARD")
    if count is not None and shard.count != count:
        raise ValueError(f"COSEM_SIM_SHARD {env['SHARD']} says {shard.count} shards, COSEM_SIM_SHARDS {count}")
    return shard


def _checked(text: str, name: str) -> Shard:
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _integer(env: dict[str, str], name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise ValueError(f"{_PREFIX}{name}: expected an integer, found {env[name]!r}") from None
