"""A profile's push limits and its per-group `push:` destinations: parsed, checked with file and line,
and applied to a meter when it is built (not stored for meters nobody reached)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.axdr import Data, DataType
from simulator.runtime.command import banner
from simulator.runtime.engine import Engine
from simulator.runtime.fleet import Fleet
from simulator.runtime.layout import plan, push_source
from simulator.runtime.profile import ProfileError, PushOverride, load_profile, parse_profile
from simulator.server.objects import ObjectHandle, TimeBase

GROUP = """
name: lab
{top}
groups:
  - name: e
    model: idis_poly
    count: 3
{extra}
    listen:
      - {{transport: tcp, port: 5000}}
"""


def profile(extra: str = "", top: str = "") -> str:
    return GROUP.format(extra=extra, top=top)


def problems(text: str) -> list[str]:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, "p.yaml")
    return info.value.lines()


def test_push_limits_default_and_set() -> None:
    limits = parse_profile(profile(), "p.yaml").limits
    assert (limits.max_pushes_in_flight, limits.push_connections_per_s) == (1000, 500)
    limits = parse_profile(profile(top="limits: {max_pushes_in_flight: 2, push_connections_per_s: 0.5}"),
                           "p.yaml").limits
    assert (limits.max_pushes_in_flight, limits.push_connections_per_s) == (2, 0.5)
    [line] = problems(profile(top="limits: {max_pushes_in_flight: 0}"))
    assert line.startswith("p.yaml:3:") and "max_pushes_in_flight: expected an integer in 1..1000000" in line


def test_group_push_for_every_push_setup_or_by_obis() -> None:
    group = parse_profile(profile('    push: {destination: "127.0.0.1:4058"}'), "p.yaml").groups[0]
    assert group.push == (PushOverride(None, "tcp", "127.0.0.1", 4058, 8),)
    text = profile('    push:\n      0.0.25.9.0.255: {destination: "head-end:4059", transport: udp}\n'
                   '      0.1.25.9.0.255: {destination: "127.0.0.2:4060", transport: hdlc}')
    group = parse_profile(text, "p.yaml").groups[0]
    assert [(o.obis, o.transport, o.destination) for o in group.push] == [
        ("0.0.25.9.0.255", "udp", "head-end:4059"), ("0.1.25.9.0.255", "hdlc", "127.0.0.2:4060")]


@pytest.mark.parametrize("extra, line, message", [
    ('    push: {destination: "127.0.0.1"}', 8, "push: destination: expected HOST:PORT like 127.0.0.1:4058, "
                                               "found '127.0.0.1'"),
    ('    push: {destination: "127.0.0.1:70000"}', 8, "expected HOST:PORT"),
    ('    push: {destination: "127.0.0.1:4058", transport: sms}', 8,
     "push: transport: expected one of tcp, udp, hdlc, found 'sms'"),
    ('    push: {destination: "127.0.0.1:4058", port: 1}', 8, "unknown key 'port' in push"),
    ('    push:\n      0.0.25.9.9.255: {destination: "127.0.0.1:4058"}', 9,
     "push: model idis_poly has no Push setup object 0.0.25.9.9.255; its Push setup objects: 0.0.25.9.0.255, "
     "0.1.25.9.0.255"),
    ('    push:\n      nonsense: {destination: "127.0.0.1:4058"}', 9, "push: not an OBIS code: 'nonsense'"),
    ('    push: []', 8, "push: expected a mapping"),
])
def test_bad_push_settings_are_reported_with_file_and_line(extra: str, line: int, message: str) -> None:
    [found] = problems(profile(extra))
    assert found.startswith(f"p.yaml:{line}:") and message in found, found


def test_a_group_without_push_setup_objects_cannot_have_push() -> None:
    text = profile('    push: {destination: "127.0.0.1:4058"}').replace("idis_poly", "minimal")
    [found] = problems(text)
    assert "push: model minimal has no Push setup object" in found


def test_the_override_is_applied_when_the_meter_is_built() -> None:
    text = profile('    push:\n      0.0.25.9.0.255: {destination: "127.0.0.9:5000", transport: udp}')
    parsed = parse_profile(text, "p.yaml")
    layout = plan(parsed)
    fleet = Fleet(parsed, layout.entries, TimeBase(1.7e9))
    meter = fleet.live(layout.entries[1]).meter
    device = meter.model.logical_devices[1]

    def destination(obis: bytes) -> Data:
        spec = device.find(obis)
        assert spec is not None
        return ObjectHandle(meter, device, spec, 0.0).get(3)

    udp = Data(DataType.STRUCTURE, (Data(DataType.ENUM, 1), Data(DataType.OCTET_STRING, b"127.0.0.9:5000"),
                                    Data(DataType.ENUM, 0)))
    assert destination(bytes.fromhex("0000190900FF")) == udp
    daily = destination(bytes.fromhex("0001190900FF")).value  # not named: the model's
    assert daily[0] == Data(DataType.ENUM, 0) and daily[1] == Data(DataType.OCTET_STRING, b"127.0.0.1:4058")
    assert not meter.state.journal  # nothing a client changed: nothing to save
    assert layout.entries[0].live is None


def test_a_meter_pushes_from_its_own_listener_address() -> None:
    text = """
groups:
  - name: a
    model: minimal
    count: 3
    listen:
      - {transport: tcp, addressing: address, host: 127.0.4.1, port: 4059}
      - {transport: udp, host: 127.0.0.7, port: 4059, port_step: 2}
  - name: b
    model: minimal
    listen:
      - {transport: hdlc-tcp, host: 0.0.0.0, port: 4060}
"""
    a, b = parse_profile(text, "p.yaml").groups
    assert [push_source(a, i, "tcp") for i in range(3)] == ["127.0.4.1", "127.0.4.2", "127.0.4.3"]
    assert push_source(a, 2, "hdlc") == "127.0.4.3"
    assert push_source(a, 2, "udp") == "127.0.0.7"
    assert push_source(b, 0, "tcp") is None  # the wildcard: whichever address the route gives
    assert push_source(b, 0, "udp") is None


def test_the_banner_says_where_each_push_setup_sends(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(profile('    push:\n      0.1.25.9.0.255: {destination: "127.0.0.2:4060", transport: udp}'))
    text = banner(Engine(load_profile(path)), secrets=False)
    assert "  push 0.0.25.9.0.255 (Push setup - alarm): to tcp 127.0.0.1:4058" in text  # the model's
    assert "  push 0.1.25.9.0.255 (Push setup - daily readings): to udp 127.0.0.2:4060" in text  # the profile's
