"""Steering by destination address (runtime/steering.py) on this machine's kernel.

A reuseport group of real sockets with the program attached: a connection (TCP) or datagram
(UDP) to each meter's address arrives on the socket of the worker that serves that meter, for
a fleet of two groups, with and without a host shard (--shard) above the workers. Without the
program the kernel would pick by a hash of the addresses and ports.
"""

from __future__ import annotations

import errno
import ipaddress
import select
import socket
from pathlib import Path

import pytest

from simulator.runtime.layout import Endpoint, plan
from simulator.runtime.profile import load_profile
from simulator.runtime.steering import (
    MAX_INSTRUCTIONS, AddressRun, Split, address_runs, attach, open_group, steering_program,
)

# Two groups on one wildcard socket per transport: a (fleet indexes 0..4) from 127.0.7.1, b (5..7)
# from 127.0.8.10.
PROFILE = """
name: steered
groups:
  - name: a
    model: minimal
    count: 5
    listen:
      - {transport: tcp, addressing: address, host: 127.0.7.1, port: 4059}
      - {transport: udp, addressing: address, host: 127.0.7.1, port: 4059}
  - name: b
    model: minimal
    count: 3
    listen:
      - {transport: tcp, addressing: address, host: 127.0.8.10, port: 4059}
      - {transport: udp, addressing: address, host: 127.0.8.10, port: 4059}
"""
def endpoints(tmp_path: Path) -> dict[str, Endpoint]:
    path = tmp_path / "fleet.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return {endpoint.transport: endpoint for endpoint in plan(load_profile(path)).endpoints}


def meters(endpoint: Endpoint) -> list[tuple[str, int]]:
    """(address, fleet index) of every meter behind an address-addressed wrapper endpoint."""
    return [(str(ipaddress.IPv4Address(key)), route.index) for key, route in endpoint.routes.items()]


def test_runs_follow_the_groups(tmp_path: Path) -> None:
    tcp = endpoints(tmp_path)["tcp"]
    a, b = int(ipaddress.IPv4Address("127.0.7.1")), int(ipaddress.IPv4Address("127.0.8.10"))
    assert address_runs(tcp) == [AddressRun(a, a + 4, a), AddressRun(b, b + 2, b - 5)]


def arrived(group: list[socket.socket]) -> int:
    """The index of the group's socket a connection or datagram arrived on (exactly one)."""
    readable, _, _ = select.select(group, [], [], 5.0)
    assert len(readable) == 1, f"arrived on {len(readable)} sockets"
    sock = readable[0]
    if sock.type == socket.SOCK_STREAM:
        sock.accept()[0].close()
    else:
        sock.recvfrom(64)
    return group.index(sock)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
@pytest.mark.parametrize("split", [Split(2), Split(3), Split(2, base=1, stride=2)],
                         ids=["2 workers", "3 workers", "host shard 1/2, 2 workers"])
def test_each_meter_reaches_the_socket_of_its_worker(tmp_path: Path, transport: str, split: Split) -> None:
    endpoint = endpoints(tmp_path)[transport]
    runs = address_runs(endpoint)
    group = open_group(transport, "0.0.0.0", 0, split.workers, 16)
    try:
        attach(group[0], steering_program(runs, split, otherwise=split.workers - 1))
        port = group[0].getsockname()[1]
        assert all(sock.getsockname()[1] == port for sock in group)
        served = [(address, index) for address, index in meters(endpoint) if split.worker(index) is not None]
        assert len(served) >= 4
        for address, index in served * 2:  # again: the same worker every time, not a hash of the source port
            with socket.socket(socket.AF_INET, group[0].type) as client:
                if transport == "tcp":
                    client.connect((address, port))
                else:
                    client.sendto(b"x", (address, port))
                assert arrived(group) == split.worker(index), f"meter {index} at {address}"
        # An address of no meter: the worker named for it.
        with socket.socket(socket.AF_INET, group[0].type) as client:
            if transport == "tcp":
                client.connect(("127.0.9.9", port))
            else:
                client.sendto(b"x", ("127.0.9.9", port))
            assert arrived(group) == split.workers - 1
    finally:
        for sock in group:
            sock.close()


def test_a_port_in_use_is_refused_not_joined() -> None:
    """A second group on a port another group holds would share its connections: refused."""
    first = open_group("tcp", "0.0.0.0", 0, 2, 16)
    try:
        port = first[0].getsockname()[1]
        with pytest.raises(OSError) as refused:
            open_group("tcp", "0.0.0.0", port, 2, 16)
        assert refused.value.errno == errno.EADDRINUSE
    finally:
        for sock in first:
            sock.close()


def test_a_program_longer_than_the_kernel_takes_is_refused() -> None:
    runs = [AddressRun(2 * i, 2 * i, 0) for i in range(MAX_INSTRUCTIONS // 5)]
    with pytest.raises(ValueError, match="BPF instructions"):
        steering_program(runs, Split(2))
