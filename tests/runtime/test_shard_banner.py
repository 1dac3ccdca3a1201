"""A shard's banner says where its meters listen: a group on any free port (port 0, each meter
its own) shows the port of the first meter of the group that this shard serves, which answers."""

from __future__ import annotations

import re
from pathlib import Path

from simulator.runtime.command import banner
from simulator.runtime.shard import Shard

from .harness import RunningFleet
from .peers import LDN, read, wrapper_transport

PROFILE = """
name: free
groups:
  - name: first
    model: minimal
    count: 1
    listen: [{transport: tcp, host: 127.0.0.1, port: 0}]
  - name: rest
    model: minimal
    count: 3
    listen: [{transport: tcp, host: 127.0.0.1, port: 0}]
"""


def test_a_shard_banner_shows_the_free_port_of_its_own_first_meter_of_each_group(tmp_path: Path) -> None:
    # Fleet meters 0 (group first), 1, 2, 3 (group rest); shard 0/2 serves meters 0 and 2.
    with RunningFleet(PROFILE, tmp_path, state_dir=None, shard=Shard(0, 2)) as fleet:
        text = banner(fleet.engine, False)
        ports = [int(port) for port in re.findall(r"TCP wrapper 127\.0\.0\.1:(\d+)", text)]
        assert len(ports) == 2, text
        names = [read(wrapper_transport(port, 16), 16, LDN)[0] for port in ports]
    # the logical device name ends with the serial: fleet meters 0 and 2 (serials 1 and 3)
    assert [name[-8:] for name in names] == [b"00000001", b"00000003"], text


def test_a_group_all_of_whose_meters_another_shard_serves_shows_no_port(tmp_path: Path) -> None:
    # Shard 1/2 serves meters 1 and 3, both of group rest; group first's one meter is shard 0's.
    with RunningFleet(PROFILE, tmp_path, state_dir=None, shard=Shard(1, 2)) as fleet:
        text = banner(fleet.engine, False)
        ports = [int(port) for port in re.findall(r"TCP wrapper 127\.0\.0\.1:(\d+)", text)]
        assert len(ports) == 2 and ports[0] == 0, text  # not the port of a meter of another group
        (name,) = read(wrapper_transport(ports[1], 16), 16, LDN)
    assert name[-8:] == b"00000002", text
