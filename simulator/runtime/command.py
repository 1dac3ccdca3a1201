"""`cosem-sim run [PROFILE]`: start a fleet and say how to reach it.

Without a profile the packaged demo runs, and its banner shows the passwords and keys of each
group's first meter so a newcomer can connect a client at once; other profiles show them only
with --show-secrets. The trace (--trace) never shows keys.

With --shard I/N it serves the meters of one shard (runtime/shard.py) and keeps their state in
a database of its own; its control plane listens where it is told (only --workers moves a
worker's port, by its shard: they share a host); the options may come from the environment
(runtime/environment.py).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, Protocol, TextIO

from ..apdu.acse import MechanismName
from ..axdr import DataType
from ..model.errors import Problem
from ..model.spec import Template
from ..server.objects import PUSH_SETUP_CLASS
from .engine import Engine, Service, install_uvloop
from .fleet import TRANSPORT_SERVICE, push_destination
from .profile import (
    ControlSettings, FleetProfile, GroupSpec, ListenerSpec, ProfileError, demo_profile_path, load_profile,
    meter_fields,
)
from .inherited import ENVIRONMENT as SOCKETS_VARIABLE, parse_inherited
from .pcap import Capture
from .shard import Shard
from .trace import TRACE_LOGGER


class ControlService(Service, Protocol):
    """The control plane as `run` starts it (simulator/control/plane.py, a layer above this one)."""

    settings: ControlSettings

    @property
    def url(self) -> str: ...


# Builds the control plane for the engine: cli.py passes one, so the runtime imports nothing above it.
ControlFactory = Callable[[Engine, ControlSettings], ControlService]

__all__ = ["add_run_arguments", "run_command", "prepared_profile", "banner", "control_settings"]

_log = logging.getLogger(__name__)
_MECHANISMS = {MechanismName.LOWEST: "no authentication", MechanismName.LOW: "LLS",
               MechanismName.HIGH: "HLS", MechanismName.HIGH_MD5: "HLS-MD5", MechanismName.HIGH_SHA1: "HLS-SHA1",
               MechanismName.HIGH_GMAC: "HLS-GMAC", MechanismName.HIGH_SHA256: "HLS-SHA256",
               MechanismName.HIGH_ECDSA: "HLS-ECDSA"}
_TRANSPORT_NAMES = {"tcp": "TCP wrapper", "udp": "UDP wrapper", "hdlc-tcp": "HDLC over TCP",
                    "hdlc-serial": "HDLC over serial"}
_KEY_LABELS = {"global_unicast_encryption_key": "EK", "authentication_key": "AK",
               "global_broadcast_encryption_key": "broadcast EK", "master_key": "master key (KEK)"}


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", nargs="?", type=Path, help="a fleet profile (default: the shipped demo)")
    parser.add_argument("--trace", action="store_true", help="log every frame as its hex, then the APDU decoded (ciphered ones opened; secrets never shown)")
    parser.add_argument("--state-dir", type=Path, help="where meters keep what clients changed, keys and invocation counters "
                             "(DIR/state.sqlite3; overrides the profile)")
    parser.add_argument("--no-state", action="store_true", help="keep nothing across restarts (counters start again from the model)")
    parser.add_argument("--show-secrets", action="store_true",
                        help="print the first meters' passwords and keys (always on for the demo)")
    parser.add_argument("--host", metavar="ADDRESS",
                        help="bind every TCP and UDP listener to ADDRESS instead of the profile's "
                             "(0.0.0.0: every interface, as a container needs)")
    parser.add_argument("--port-offset", type=int, metavar="N",
                        help="add N to every listener's port, to run a second fleet beside the first")
    parser.add_argument("--pcap", type=Path, metavar="FILE",
                        help="write every frame in and out to FILE as a pcap capture (TCP and UDP headers "
                             "synthesised on the meters' real ports) that Wireshark opens")
    parser.add_argument("--control", metavar="HOST:PORT",
                        help="serve the control plane (HTTP API, metrics, web UI) at HOST:PORT, overriding the "
                             "profile's control: (port 0: any free port)")
    parser.add_argument("--shard", metavar="I/N",
                        help="serve only shard I of N (from 0): the meters whose index in the fleet is I modulo N, "
                             "with their own state database")
    parser.add_argument("--workers", metavar="N",
                        help="run N shard processes under one supervisor that restarts them (0 or auto: one "
                             "per processor)")


def run_command(args: argparse.Namespace, out: TextIO | None = None, control: ControlFactory | None = None) -> int:
    """`cosem-sim run`, `args` completed by environment.apply_environment (`shard` a Shard); `control`
    builds the control plane when the profile or --control asks for one."""
    out = out or sys.stdout
    demo = args.profile is None
    shard: Shard = args.shard
    try:
        sockets = parse_inherited(os.environ[SOCKETS_VARIABLE]) if os.environ.get(SOCKETS_VARIABLE) else []
    except ValueError as exc:
        sys.stderr.write(f"cosem-sim run: {exc}\n")
        return 1
    try:
        profile = prepared_profile(args)
        engine = Engine(profile, trace=args.trace, state_dir=args.state_dir, shard=shard, sockets=sockets)
    except ProfileError as exc:
        sys.stderr.write("\n".join(exc.lines()) + "\n")
        return 1
    if args.no_state:
        engine.state_dir = None
    if args.trace:
        logging.getLogger(TRACE_LOGGER).setLevel(logging.INFO)
    install_uvloop()
    services: list[ControlService] = []
    if profile.control is not None:
        if control is None:
            sys.stderr.write("cosem-sim run: this command cannot serve a control plane\n")
            return 1
        services.append(control(engine, profile.control))

    extra: list[Capture] = []
    if args.pcap is not None:
        try:
            capture = Capture(args.pcap, engine.observer)  # in front of the control plane, if any
        except OSError as exc:
            sys.stderr.write(f"cosem-sim run: cannot write {args.pcap}: {exc.strerror or exc}\n")
            return 1
        engine.observer = capture
        extra.append(capture)

    def started(running: Engine) -> None:
        out.write(banner(running, demo or args.show_secrets) + "\n")
        for service in services:
            out.write(f"control plane: {service.url} (HTTP API, metrics, web UI"
                      f"{'; a bearer token is required' if service.settings.token else ''})\n")
        out.flush()

    try:
        asyncio.run(engine.run(started, [*services, *extra]))
    except OSError as exc:
        sys.stderr.write(f"cosem-sim run: {exc.strerror or exc}\n")
        return 1
    return 0


def prepared_profile(args: argparse.Namespace) -> FleetProfile:
    """The profile `run` serves: loaded (the demo without one), moved by --host and
    --port-offset, its control plane where --control says."""
    profile = relocate(load_profile(demo_profile_path() if args.profile is None else args.profile), args.host,
                       args.port_offset or 0)
    if args.control is not None:
        profile = replace(profile, control=control_settings(args.control, profile.control))
    return profile


def control_settings(text: str, profile: ControlSettings | None) -> ControlSettings:
    """`--control HOST:PORT` over the profile's control settings (its token kept)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        ipaddress.ip_address(host)
        number = int(port)
        if not 0 <= number <= 65535:
            raise ValueError
    except ValueError:
        raise ProfileError([Problem("--control", 1, f"expected HOST:PORT like 127.0.0.1:8059 (port 0: any free "
                                                    f"port), found {text!r}")]) from None
    return ControlSettings(host, number, profile.token if profile is not None else None,
                           profile.line if profile is not None else 0)


def relocate(profile: FleetProfile, host: str | None, port_offset: int) -> FleetProfile:
    """The profile with its sockets bound to `host` and its ports moved by `port_offset`.

    A listener by address keeps its meters' addresses (they route connections) and binds
    `host` instead of its `bind`; port 0 (any free port) stays 0; serial lines are untouched.
    The control plane moves by the offset too, and stays where it listens (--control moves it).
    """
    if host is None and not port_offset:
        return profile
    problems = []
    if host is not None:
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            problems.append(Problem("--host", 1, f"expected an IPv4 address like 0.0.0.0 or 127.0.0.1, "
                                                 f"found {host!r}"))
    groups = []
    for group in profile.groups:
        listeners = []
        for listener in group.listeners:
            if listener.transport == "hdlc-serial":
                listeners.append(listener)
                continue
            port = listener.port + port_offset if listener.port else 0
            last = port + (group.count - 1) * listener.port_step if listener.addressing == "port" else port
            if listener.port and not (0 < port and last <= 65535):
                problems.append(Problem(profile.file, listener.line, f"group {group.name}: --port-offset "
                                        f"{port_offset} moves port {listener.port} to {port}..{last}, outside 1..65535"))
            if listener.addressing == "address":
                listeners.append(replace(listener, bind=host or listener.bind, port=port))
            else:
                bound = host or listener.host
                listeners.append(replace(listener, host=bound, bind=bound, port=port))
        groups.append(replace(group, listeners=tuple(listeners)))
    control = profile.control
    if control is not None and control.port and port_offset:
        if not 0 < control.port + port_offset <= 65535:
            problems.append(Problem(profile.file, control.line, f"control: --port-offset {port_offset} moves port "
                                                     f"{control.port} to {control.port + port_offset}, outside 1..65535"))
        else:
            control = replace(control, port=control.port + port_offset)
    if problems:
        raise ProfileError(problems)
    return replace(profile, groups=tuple(groups), control=control)


def banner(engine: Engine, secrets: bool) -> str:
    """Where each group listens and how to associate, from its first meter's point of view."""
    profile: FleetProfile = engine.profile
    shard: Shard = engine.shard
    if shard.split:
        served = len(range(shard.index, profile.size, shard.count))
        lines = [f"cosem-sim: profile {profile.name}: {shard.label}: {served} of {profile.size} meters "
                 f"({profile.file}); Ctrl-C stops",
                 f"  this shard serves the meters whose index in the fleet (from 0) is {shard.index} modulo "
                 f"{shard.count}; the other shards serve the rest"]
    else:
        lines = [f"cosem-sim: profile {profile.name}: {profile.size} meters ({profile.file}); Ctrl-C stops"]
    store = engine.store
    if store is not None and store.fault is not None:
        lines.append(f"  NOTHING IS KEPT: {store.fault}; ciphered service is refused, plain service goes on")
    elif store is not None:
        lines.append(f"  meter state (values set, keys, invocation counters) kept in {store.path}")
    else:
        lines.append("  nothing is kept (no state directory): after a restart, values set, keys and invocation "
                     "counters start again from the model (the meters' own counters are used again)")
    for group in profile.groups:
        fields = meter_fields(group, 0)
        lines.append(f"group {group.name}: {group.count} x {group.model.name} - first meter serial "
                     f"{fields['serial']}, system title {fields['system_title']}")
        for listener in group.listeners:
            lines.append("  " + _listener_text(engine, group, listener))
        lines.extend("  " + line for line in _association_lines(group, fields, secrets))
        lines.extend("  " + line for line in _push_lines(group))
    return "\n".join(lines)


def _push_lines(group: GroupSpec) -> list[str]:
    """Where the group's Push setup objects send their notifications (`cosem-sim listen` receives them)."""
    names = {number: name for name, number in TRANSPORT_SERVICE.items()}
    lines = []
    for device in group.model.logical_devices.values():
        for spec in device.objects:
            if spec.cls.class_id != PUSH_SETUP_CLASS:
                continue
            override = push_destination(spec, group.push)
            if override is not None:
                where = f"{override.transport} {override.destination}"
            else:
                method = spec.values[2] if len(spec.values) > 2 else None
                if method is None or method.type != DataType.STRUCTURE:
                    continue
                transport, destination = method.value[0].value, method.value[1].value
                where = f"{names.get(transport, f'transport {transport}')} " \
                        f"{destination.decode('latin-1') if isinstance(destination, bytes) else destination}"
            lines.append(f"push {spec.logical_name} ({spec.label or 'Push setup'}): to {where}")
    return lines


def _listener_text(engine: Engine, group: GroupSpec, listener: ListenerSpec) -> str:
    name = _TRANSPORT_NAMES[listener.transport]
    hdlc = f", HDLC physical address {listener.physical_address}" if listener.is_hdlc else ""
    if listener.is_hdlc and listener.addressing == "multidrop" and group.count > 1:
        hdlc += " + i"
    more = group.count > 1
    if listener.transport == "hdlc-serial":
        return f"{name} {listener.device} at {listener.baud_rate} baud 8N1, one shared line{hdlc}"
    if listener.addressing == "address":
        first = listener.host
        port = _bound_port(engine, listener.transport, listener.bind, listener.port)
        return f"{name} {first}:{port}{' (meter i at ' + first + ' + i)' if more else ''}{hdlc}"
    if listener.addressing == "multidrop":
        port = _bound_port(engine, listener.transport, listener.host, listener.port)
        return f"{name} {listener.host}:{port}, one shared line{hdlc}"
    served = _first_served(engine.shard, group)
    port = listener.port if served is None else _bound_port(engine, listener.transport, listener.host, listener.port,
                                                            served)
    step = f" (meter i at port + {listener.port_step}i)" if more and listener.port else ""
    return f"{name} {listener.host}:{port}{step}{hdlc}"


def _first_served(shard: Shard, group: GroupSpec) -> int | None:
    """The fleet index of the group's first meter `shard` serves (None: another shard serves them all)."""
    index = group.first_index + (shard.index - group.first_index) % shard.count
    return index if index < group.first_index + group.count else None


def _bound_port(engine: Engine, transport: str, host: str, port: int, index: int | None = None) -> int:
    """The port really bound (a profile may ask for port 0: any free port)."""
    if port:
        return port
    for endpoint in engine.endpoints:
        if endpoint.transport == transport and endpoint.host == host:
            if index is None or any(entry.index == index for entry in endpoint.meters()):
                return endpoint.port
    return port


def _association_lines(group: GroupSpec, fields: dict[str, object], secrets: bool) -> list[str]:
    lines = []
    for sap, device in group.model.logical_devices.items():
        for client, assoc in device.associations.items():
            how = _MECHANISMS.get(assoc.mechanism, assoc.mechanism.name)
            if assoc.security_policy:
                how += f", {assoc.security_policy.name.lower().replace('_', '-')} (suite 0)"
            if assoc.secret is not None:
                how += f", password {_secret_text(assoc.secret, fields) if secrets else '(hidden)'}"
            label = f" {assoc.label}" if assoc.label else ""
            lines.append(f"logical device {sap}, client {client}{label}: {how}")
            setup = device.objects[assoc.security_setup_object] if assoc.security_setup_object is not None else None
            if setup is not None and setup.secrets:
                keys = ", ".join(f"{_KEY_LABELS.get(n, n)} {_secret_text(t, fields) if secrets else '(hidden)'}"
                                 for n, t in setup.secrets)
                lines.append(f"  keys: {keys}")
    return lines


def _secret_text(template: Template, fields: dict[str, object]) -> str:
    value = template.render(fields)
    if template.kind == "octet-string-hex" or value.type != DataType.OCTET_STRING:
        return value.value.hex().upper() if isinstance(value.value, bytes) else str(value.value)
    raw: bytes = value.value
    return raw.decode("ascii") if raw.isascii() and raw.decode("ascii").isprintable() else raw.hex().upper()
