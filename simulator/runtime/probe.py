"""`cosem-sim probe`: is a meter answering? One public association over the TCP wrapper.

A container's health check asks the meter itself, not the process: connect, AARQ as the
public client (no authentication), expect an accepted AARE, release. Exit status 0 when the
association was accepted, 1 otherwise, with one line saying what happened.

Without --port it asks the first meter the container serves: the first meter of its shard that
has a TCP wrapper, found from the profile, host, port offset and shard `run` itself takes from
its COSEM_SIM_* environment (runtime/environment.py), so a health check needs no arguments.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path

from ..apdu.acse import AARE, AARQ, RLRQ, ApplicationContextName, AssociationResult
from ..apdu.initiate import Conformance, InitiateRequest
from ..errors import DLMSError
from ..link.wrapper import WrapperFrame, WrapperReader
from ..model.errors import Problem
from .profile import ProfileError
from .shard import Shard

__all__ = ["add_probe_arguments", "first_meter", "probe", "run_probe"]


def add_probe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="the meter's TCP wrapper port (default: the first meter `run` "
                                                 "serves with the same COSEM_SIM_* environment and options)")
    parser.add_argument("--host", help="the meter's address (default: where that meter listens, 127.0.0.1 for "
                                       "every interface)")
    parser.add_argument("--profile", type=Path, help="the fleet profile run serves (default: COSEM_SIM_PROFILE, "
                                                     "else the demo)")
    parser.add_argument("--shard", metavar="I/N", help="the shard run serves (default: as run takes it from "
                                                       "COSEM_SIM_SHARD or the host name)")
    parser.add_argument("--port-offset", type=int, metavar="N", help="as run's (default: COSEM_SIM_PORT_OFFSET)")
    parser.add_argument("--client", type=int, default=16, help="the client SAP, one without authentication "
                                                               "(default: 16, the public client)")
    parser.add_argument("--server", type=int, default=1, help="the logical device (default: 1)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds for the whole probe (default: 5)")


def probe(host: str, port: int, client: int = 16, server: int = 1, timeout_s: float = 5.0) -> str:
    """Associate and release; the AARE's result in words. Raises OSError or DLMSError."""
    deadline = time.monotonic() + timeout_s
    initiate = InitiateRequest(proposed_conformance=Conformance.GET, client_max_receive_pdu_size=0xFFFF)
    aarq = AARQ(application_context_name=ApplicationContextName.LOGICAL_NAME, user_information=initiate.to_bytes())
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        reader = WrapperReader()

        def exchange(apdu: bytes) -> bytes:
            sock.sendall(WrapperFrame(client, server, apdu).to_bytes())
            while (frame := reader.next_frame()) is None:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("the meter closed the connection")
                reader.receive_data(data)
            return frame.apdu

        aare = AARE.from_bytes(exchange(aarq.to_bytes()))
        if aare.result != AssociationResult.ACCEPTED:
            return f"association refused: {aare.result.name.lower().replace('_', '-')}, " \
                   f"{aare.result_source_diagnostic.name.lower().replace('_', '-')}"
        exchange(RLRQ().to_bytes())
        return "association accepted"


def first_meter(args: argparse.Namespace) -> tuple[str, int, str]:
    """(address, port, "group#i of shard I/N") of the first meter with a TCP wrapper that `run`
    serves given the probe's --profile, --shard and --port-offset and the environment.
    ValueError or ProfileError saying why there is none."""
    from .command import add_run_arguments, prepared_profile
    from .environment import apply_environment
    from .layout import plan, shard_endpoints

    parser = argparse.ArgumentParser(add_help=False)
    add_run_arguments(parser)
    options = [str(args.profile)] if args.profile is not None else []
    options += ["--shard", args.shard] if args.shard is not None else []
    options += ["--port-offset", str(args.port_offset)] if args.port_offset is not None else []
    run = parser.parse_args(options)
    apply_environment(run, os.environ, socket.gethostname)
    profile = prepared_profile(run)
    shard: Shard = run.shard
    layout = plan(profile)
    endpoints, problems = shard_endpoints(layout, shard, profile.file)
    if layout.problems or problems:
        raise ProfileError(layout.problems + problems)
    wrappers = [(entry.index, endpoint) for endpoint in endpoints if endpoint.transport == "tcp"
                for entry in endpoint.meters()]
    if not wrappers:
        raise ProfileError([Problem(profile.file, 1, f"no meter of {shard.label} of {profile.name} has a TCP wrapper "
                                                     "to probe: give --port")])
    index, endpoint = min(wrappers, key=lambda found: found[0])
    if endpoint.port == 0:
        raise ProfileError([Problem(profile.file, endpoint.line, f"meter {index} listens on any free port (port 0): "
                                                                 "give --port")])
    host = "127.0.0.1" if endpoint.host == "0.0.0.0" else endpoint.host
    entry = layout.entries[index]
    return host, endpoint.port, f"{entry.label} of {shard.label}"


def run_probe(args: argparse.Namespace) -> int:
    host, port, meter = args.host or "127.0.0.1", args.port, ""
    if port is None:
        try:
            found, port, meter = first_meter(args)
        except ValueError as exc:
            sys.stdout.write(f"cosem-sim probe: {exc}\n")
            return 1
        except ProfileError as exc:
            sys.stdout.write("\n".join(exc.lines()) + "\n")
            return 1
        host = args.host or found
    where = f"{host}:{port}{f' ({meter})' if meter else ''} client {args.client} -> logical device {args.server}"
    try:
        result = probe(host, port, args.client, args.server, args.timeout)
    except (OSError, DLMSError) as exc:
        sys.stdout.write(f"{where}: no answer: {getattr(exc, 'strerror', None) or str(exc) or type(exc).__name__}\n")
        return 1
    sys.stdout.write(f"{where}: {result}\n")
    return 0 if result == "association accepted" else 1
