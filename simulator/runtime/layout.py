"""Where every meter of a profile is reached: the endpoint table, computed without opening anything.

An `Endpoint` is one listening socket or serial line. Its `routes` find the meter of a
connection or datagram: keyed by the local address the client reached (address addressing,
as an int) or None (the socket's only meter, or a line's meters), giving a `MeterEntry` for
the wrapper and, for HDLC, (physical address, MeterEntry) for a line of one meter or
{physical address: MeterEntry} for a shared one (`Endpoint.line_meters` gives both as a
dict). Groups that name the same socket share it, so conflicts (two meters at one address, a
port bound twice) are found here, by `validate` too. `shard_endpoints` keeps what one shard of
the fleet binds (runtime/shard.py).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field, replace
from typing import Any, Iterator

from ..model.errors import Problem
from .profile import FleetProfile, GroupSpec, ListenerSpec
from .shard import Shard

__all__ = ["MeterEntry", "Endpoint", "Layout", "plan", "shard_endpoints", "address_key", "push_source"]


@dataclass(slots=True, eq=False)
class MeterEntry:
    """One meter of the fleet before and after first contact; `live` is set when it is built."""

    index: int
    group: GroupSpec
    group_index: int
    live: Any = None  # fleet.LiveMeter once contacted
    # The HDLC physical address its IEC HDLC setup reports (device_address): its address on a
    # shared line when it is on one, else on its own HDLC line; None without HDLC.
    hdlc_address: int | None = None

    @property
    def label(self) -> str:
        return f"{self.group.name}#{self.group_index}"


@dataclass(slots=True, eq=False)
class Endpoint:
    """A socket or serial line and the meters behind it; `port` becomes the bound port at start."""

    transport: str
    host: str  # the address bound
    port: int
    device: str | None = None
    baud_rate: int = 9600
    routes: dict[int | None, Any] = field(default_factory=dict)  # local address (address_key) -> ...
    line: int = 0  # profile line of the first listener that named it

    @property
    def is_hdlc(self) -> bool:
        return self.transport.startswith("hdlc")

    @property
    def by_address(self) -> bool:
        return any(key is not None for key in self.routes)

    def route(self, local_address: str | None) -> Any:
        """The meter (wrapper) or {physical address: meter} (HDLC) for a local address."""
        if local_address:
            try:
                found = self.routes.get(address_key(local_address))
            except OSError:  # not an IPv4 address
                found = None
            if found is not None:
                return found
        return self.routes.get(None)

    def line_meters(self, local_address: str | None) -> dict[int, MeterEntry] | None:
        """HDLC: the meters on the line a connection to `local_address` opens, by physical address."""
        found = self.route(local_address)
        return {found[0]: found[1]} if isinstance(found, tuple) else found

    def meters(self) -> Iterator[MeterEntry]:
        """Every meter reached through this endpoint."""
        for found in self.routes.values():
            if isinstance(found, MeterEntry):
                yield found
            elif isinstance(found, tuple):
                yield found[1]
            else:
                yield from found.values()

    def describe(self) -> str:
        where = self.device if self.device is not None else f"{self.host}:{self.port}"
        return f"{self.transport} {where}"


@dataclass(slots=True)
class Layout:
    entries: list[MeterEntry]
    endpoints: list[Endpoint]
    problems: list[Problem]


def plan(profile: FleetProfile) -> Layout:
    """Every meter's entry and every endpoint; conflicts are returned as problems."""
    entries: list[MeterEntry] = []
    endpoints: dict[tuple[Any, ...], Endpoint] = {}
    problems: list[Problem] = []
    for group in profile.groups:
        group_entries = [MeterEntry(group.first_index + i, group, i) for i in range(group.count)]
        entries.extend(group_entries)
        for number, listener in enumerate(group.listeners, 1):
            problem = _place(group_entries, listener, endpoints)
            if problem is not None:  # one message per listener is enough
                problems.append(Problem(profile.file, listener.line, problem,
                                        owner=f"group {group.name} listener {number}"))
    problems.extend(_bind_conflicts(profile.file, endpoints))
    return Layout(entries, list(endpoints.values()), problems)


def shard_endpoints(layout: Layout, shard: Shard, file: str,
                    inherited: frozenset[tuple[str, str, int]] = frozenset()) -> tuple[list[Endpoint], list[Problem]]:
    """The endpoints shard `shard` binds, each with only its meters' routes.

    A socket routed by address (one wildcard socket for many meters) becomes one socket per
    meter address, unless the socket is `inherited` (transport, host, port): a supervisor's,
    which the kernel already steers to this shard. A socket or line several meters share (a
    multidrop line, several meters at one address) stays whole, served by the shard of its
    meters: meters of different shards on it are a problem, reported for every shard alike.
    """
    endpoints: list[Endpoint] = []
    problems: list[Problem] = []
    for endpoint in layout.endpoints:
        kept: dict[int | None, Any] = {}
        for key, found in endpoint.routes.items():
            meters = sorted(_route_meters(found), key=lambda entry: entry.index)
            first = meters[0]
            other = next((m for m in meters if not Shard(first.index % shard.count, shard.count).owns(m.index)), None)
            if other is not None:
                problems.append(Problem(file, endpoint.line, f"{_where(endpoint, key)} is shared by meters "
                                        f"{first.label} (shard {first.index % shard.count}/{shard.count}) and "
                                        f"{other.label} (shard {other.index % shard.count}/{shard.count}) and cannot "
                                        "be split across shards: give each meter its own port or address",
                                        owner=f"group {first.group.name}"))
                kept.clear()
                break
            if shard.owns(first.index):
                kept[key] = found
        if not kept:
            continue
        if endpoint.by_address and (endpoint.transport, endpoint.host, endpoint.port) not in inherited:
            endpoints.extend(replace(endpoint, host=endpoint.host if key is None else str(ipaddress.IPv4Address(key)),
                                     routes={key: found}) for key, found in kept.items())
        else:
            endpoints.append(replace(endpoint, routes=kept))
    return endpoints, problems


def _route_meters(found: Any) -> list[MeterEntry]:
    if isinstance(found, MeterEntry):
        return [found]
    if isinstance(found, tuple):
        return [found[1]]
    return list(found.values())


def push_source(group: GroupSpec, group_index: int, transport: str) -> str | None:
    """The address meter `group_index` of `group` pushes from: its own listener's address (a
    udp listener's for a UDP push, a tcp or hdlc-tcp one's for a stream, else any with an
    address; address addressing: the meter's own address). None: any address (a wildcard or
    serial-only meter)."""
    families = ("udp",) if transport == "udp" else ("tcp", "hdlc-tcp")
    listeners = ([lst for lst in group.listeners if lst.transport in families]
                 or [lst for lst in group.listeners if lst.transport != "hdlc-serial"])
    if not listeners:
        return None
    listener = listeners[0]
    if listener.addressing == "address":
        return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address(listener.host)) + group_index))
    return None if listener.host == "0.0.0.0" else listener.host


def address_key(address: str) -> int:
    """The route key of a local IPv4 address (an int: 100,000 routes stay small)."""
    return int.from_bytes(socket.inet_aton(address), "big")


def _place(entries: list[MeterEntry], listener: ListenerSpec, endpoints: dict[tuple[Any, ...], Endpoint]) -> str | None:
    """Add a group's meters to the endpoints `listener` names; the first conflict, if any."""
    transport, addressing = listener.transport, listener.addressing
    first_address = address_key(listener.host) if addressing == "address" else 0
    for entry in entries:
        i = entry.group_index
        route: int | None = None
        if transport == "hdlc-serial":
            key: tuple[Any, ...] = (transport, listener.device)
        elif addressing == "address":
            key = (transport, listener.bind, listener.port)
            route = first_address + i
        elif addressing == "multidrop":
            key = (transport, listener.host, listener.port)
        elif listener.port == 0:  # an ephemeral port for each meter
            key = (transport, listener.host, 0, entry.index)
        else:
            key = (transport, listener.host, listener.port + i * listener.port_step)
        endpoint = endpoints.get(key)
        if endpoint is None:
            endpoint = endpoints[key] = Endpoint(
                transport, "" if transport == "hdlc-serial" else key[1], key[2] if len(key) > 2 else 0,
                listener.device, listener.baud_rate, line=listener.line)
        elif endpoint.baud_rate != listener.baud_rate:
            return f"serial line {listener.device} is used at {endpoint.baud_rate} and {listener.baud_rate} baud"
        if not listener.is_hdlc:
            other = endpoint.routes.get(route)
            if other is not None:
                return (f"{_where(endpoint, route)} is already meter {other.label} "
                        f"(group {other.group.name}, line {other.group.line})")
            endpoint.routes[route] = entry
            continue
        physical = listener.physical(i)
        if entry.hdlc_address is None or addressing == "multidrop":
            entry.hdlc_address = physical
        line = endpoint.routes.get(route)
        if line is None:  # a line of one meter, the common case: no dict per meter
            endpoint.routes[route] = (physical, entry)
            continue
        if isinstance(line, tuple):
            line = endpoint.routes[route] = {line[0]: line[1]}
        other = line.get(physical)
        if other is not None:
            return f"HDLC physical address {physical} on {_where(endpoint, route)} is already meter {other.label} " \
                   f"(group {other.group.name}, line {other.group.line})"
        line[physical] = entry
    return None


def _where(endpoint: Endpoint, route: int | None) -> str:
    return endpoint.describe() + ("" if route is None else f" at {ipaddress.IPv4Address(route)}")


def _bind_conflicts(file: str, endpoints: dict[tuple[Any, ...], Endpoint]) -> list[Problem]:
    """Sockets of one protocol on one port must not overlap (the wildcard overlaps every address)."""
    seen: dict[tuple[str, int], list[Endpoint]] = {}
    for endpoint in endpoints.values():
        if endpoint.transport == "hdlc-serial" or endpoint.port == 0:
            continue
        family = "udp" if endpoint.transport == "udp" else "tcp"
        seen.setdefault((family, endpoint.port), []).append(endpoint)
    problems = []
    for (family, port), group in seen.items():
        hosts = [e.host for e in group]
        if len(group) > 1 and ("0.0.0.0" in hosts or len(set(hosts)) < len(hosts)):
            names = ", ".join(f"{e.transport} on {e.host}" for e in group)
            problems.append(Problem(file, group[-1].line, f"{family} port {port} is bound more than once ({names}); "
                                    "address-addressed listeners bind the wildcard address"))
    return problems
