"""Fleet profiles: parsing, per-meter fields a head-end can recompute, errors with file and line, layout."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.runtime.layout import MeterEntry, plan
from simulator.runtime.profile import (
    ProfileError, demo_profile_path, derive_secret, is_profile_text, load_profile, meter_fields, parse_profile,
)

ROOT = Path(__file__).resolve().parents[2]

# Pinned: changing the derivation silently would strand every head-end test that computed keys.
DERIVED_EK_OF_SERIAL_00000001 = derive_secret("lab secret", "block_cipher_key", "00000001")


def problems(text: str) -> list[str]:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, "p.yaml")
    return info.value.lines()


def only(text: str) -> str:
    lines = problems(text)
    assert len(lines) == 1, lines
    return lines[0]


GROUP = """
name: lab
groups:
  - name: e
    model: idis_poly
    count: 3
{extra}
    listen:
      - {{transport: tcp, port: 5000}}
"""


def profile_with(extra: str = "") -> str:
    return GROUP.format(extra=extra)


# --------------------------------------------------------------------------- the demo

def test_demo_profile_is_the_contract() -> None:
    profile = load_profile(demo_profile_path())
    assert [(g.name, g.model.name) for g in profile.groups] == [
        ("electricity", "idis_poly"), ("gas", "gas"), ("water", "water"), ("minimal", "minimal")]
    first = meter_fields(profile.groups[0], 0)
    assert (first["serial"], first["system_title"], first["lls_password"]) == ("00000001", "53494D0000000001",
                                                                               "12345678")
    assert first["block_cipher_key"] == "000102030405060708090A0B0C0D0E0F"
    assert first["authentication_key"] == "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"
    layout = plan(profile)
    assert layout.problems == []
    by_port = {(e.transport, e.port): e.route(None) for e in layout.endpoints if isinstance(e.route(None), MeterEntry)}
    assert by_port[("tcp", 4059)].index == 0 and by_port[("udp", 4059)].index == 0
    hdlc = next(e for e in layout.endpoints if e.transport == "hdlc-tcp" and e.port == 4060)
    assert hdlc.line_meters(None)[17].index == 0
    assert all(e.host == "127.0.0.1" for e in layout.endpoints)


def test_profiles_directory_holds_the_packaged_demo_and_valid_examples() -> None:
    assert demo_profile_path() == ROOT / "profiles" / "demo.yaml"  # one file, shipped in the wheel
    for path in sorted((ROOT / "profiles").glob("*.yaml")):
        assert plan(load_profile(path)).problems == [], path


# --------------------------------------------------------------------------- per-meter fields

def test_fields_follow_the_documented_derivation() -> None:
    text = profile_with("""    manufacturer: ABC
    serial: "E{index:06d}"
    logical_device_name: "{manufacturer}-{serial}"
    fields:
      lls_password: {derive: "lab secret", bytes: 4}
      block_cipher_key: {derive: "lab secret"}
      authentication_key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA{group_index:02X}"
""")
    group = parse_profile(text, "p.yaml").groups[0]
    fields = meter_fields(group, 2)
    assert fields["serial"] == "E000002" and fields["number"] == 3
    assert fields["system_title"] == "4142430000000003"  # 'ABC' + number as 5 bytes
    assert fields["logical_device_name"] == "ABC-E000002"
    assert fields["authentication_key"] == "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA02"
    expected = hmac.new(b"lab secret", b"block_cipher_key/E000002", hashlib.sha256).hexdigest()[:32].upper()
    assert fields["block_cipher_key"] == expected
    assert fields["lls_password"] == hmac.new(b"lab secret", b"lls_password/E000002",
                                              hashlib.sha256).hexdigest()[:8].upper()


def test_derivation_is_stable() -> None:
    assert derive_secret("lab secret", "block_cipher_key", "00000001") == DERIVED_EK_OF_SERIAL_00000001
    assert DERIVED_EK_OF_SERIAL_00000001 == hmac.new(
        b"lab secret", b"block_cipher_key/00000001", hashlib.sha256).hexdigest()[:32].upper()


def test_indices_run_through_the_groups() -> None:
    text = """
groups:
  - {name: a, model: minimal, count: 2, listen: [{transport: tcp, port: 5000}]}
  - {name: b, model: minimal, count: 3, listen: [{transport: tcp, port: 6000}]}
"""
    profile = parse_profile(text, "p.yaml")
    assert profile.size == 5 and profile.groups[1].first_index == 2
    assert meter_fields(profile.groups[1], 0)["serial"] == "00000003"
    assert [e.label for e in plan(profile).entries] == ["a#0", "a#1", "b#0", "b#1", "b#2"]


# --------------------------------------------------------------------------- errors

def test_unknown_keys_name_file_line_and_a_suggestion() -> None:
    line = only(profile_with("    sistem_title: '{manufacturer_hex}0000000001'"))
    assert line.startswith("p.yaml:7: group e: unknown key 'sistem_title' in a group (did you mean 'system_title'?)")


@pytest.mark.parametrize("listener, expected", [
    ("{transport: serial}", "transport: expected one of tcp, udp, hdlc-tcp, hdlc-serial, found 'serial' "
                            "(did you mean 'hdlc-serial'?)"),
    ("{transport: tcp, addressing: multidrop}", "addressing: tcp allows port, address, found 'multidrop'"),
    ("{transport: hdlc-tcp}", "hdlc-tcp needs 'port'"),
    ("{transport: hdlc-serial}", "hdlc-serial needs 'device'"),
    ("{transport: udp, host: localhost}", "host: expected an IPv4 address like 127.0.0.1, found 'localhost'"),
    ("{transport: tcp, port: 65535}", "port: 2 meters from port 65535 step 1 pass 65535"),
    ("{transport: hdlc-tcp, addressing: multidrop, port: 1, physical_address: 16381}",
     "physical_address: 2 meters from 16381 pass"),
    ("{transport: tcp, physical_address: 17}", "physical_address: a tcp listener has no HDLC address"),
    ("{transport: tcp, baud_rate: 9600}", "baud_rate: only an hdlc-serial listener has one"),
    ("{transport: tcp, port: x}", "port: expected an integer in 0..65535, found the text 'x'"),
])
def test_listener_errors(listener: str, expected: str) -> None:
    text = ("groups:\n  - name: e\n    model: minimal\n    count: 2\n    listen:\n"
            f"      - {{transport: tcp, port: 1}}\n      - {listener}\n")
    line = only(text)
    assert line.startswith("p.yaml:7: group e listener 2: ") and expected in line, line


def test_fields_the_model_does_not_use_are_typos() -> None:
    line = only(profile_with("    fields: {lls_pasword: '1'}"))
    assert line.startswith("p.yaml:7: group e: field 'lls_pasword': model idis_poly uses no such field "
                           "(did you mean 'lls_password'?)")


def test_a_derived_key_of_the_wrong_size_is_found_before_any_meter_runs() -> None:
    line = only(profile_with("    fields: {block_cipher_key: {derive: s, bytes: 8}}"))
    assert "p.yaml:7: group e: the model's key global_unicast_encryption_key" in line and "8 octets" in line


def test_identity_templates_are_checked() -> None:
    assert "system_title: expected 16 hex digits" in only(profile_with("    system_title: 'ABC{index}'"))
    assert "a template does not render" in only(profile_with("    serial: '{nope}'"))
    assert "expected a 3-letter upper-case FLAG id" in only(profile_with("    manufacturer: abcd"))


def test_model_problems_are_listed_with_their_own_files(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: broken\nlogical_devices:\n  - server_sap: 1\n    objects:\n"
                                          "      - {class: Nope, obis: 1.0.1.8.0.255}\n")
    (tmp_path / "fleet.yaml").write_text("groups:\n  - name: b\n    model: broken.yaml\n"
                                         "    listen: [{transport: tcp, port: 1}]\n")
    with pytest.raises(ProfileError) as info:
        load_profile(tmp_path / "fleet.yaml")
    lines = info.value.lines()
    assert any(line.startswith(f"{tmp_path / 'fleet.yaml'}:3: group b: model 'broken.yaml' has") for line in lines)
    assert any(line.startswith(f"{tmp_path / 'broken.yaml'}:5:") for line in lines)


def test_not_yaml_and_not_a_profile() -> None:
    assert only("groups: [").startswith("p.yaml:")
    assert only("- 1\n") == "p.yaml:1: expected a fleet profile (a mapping with name, description, seed, " \
                            "state_dir, time, limits, control, groups), found a list of 1"
    assert is_profile_text("groups: []\n") and not is_profile_text("logical_devices: []\n")


def test_time_and_limits() -> None:
    text = "time: {start: 2024-01-01T00:00:00Z, rate: 60, utc_offset_min: 60}\n" \
           "limits: {max_connections: 10, tcp_inactivity_timeout_s: 0}\n" + GROUP.format(extra="")
    profile = parse_profile(text, "p.yaml")
    assert profile.time.start == 1704067200.0 and profile.time.rate == 60 and profile.time.utc_offset_min == 60
    assert profile.limits.max_connections == 10 and profile.limits.tcp_inactivity_timeout_s == 0
    assert "start: expected 'now' or an ISO date-time" in only("time: {start: yesterday}\n" + GROUP.format(extra=""))
    assert "within 1970..8999, found 9999" in only("time: {start: 9999-12-31T23:59:00Z}\n" + GROUP.format(extra=""))


def test_history_is_a_duration_and_places_the_installation() -> None:
    text = "time: {start: 2024-03-01T00:00:00Z, history: 40d}\n" + GROUP.format(extra="")
    settings = parse_profile(text, "p.yaml").time
    assert settings.history_s == 40 * 86400 and settings.installed(1709251200.0) == 1709251200.0 - 40 * 86400
    now = parse_profile("time: {history: 2d, utc_offset_min: 60}\n" + GROUP.format(extra=""), "p.yaml").time
    assert now.installed(1709290000.0) == 1709074800.0  # 2024-02-28 00:00 local (UTC+1): the midnight two days before
    for bad in ("40 days", "-3d", "21000d"):
        assert "history: expected a duration" in only(f"time: {{history: {bad}}}\n" + GROUP.format(extra=""))


# --------------------------------------------------------------------------- layout

def test_two_meters_at_one_place_are_a_conflict() -> None:
    text = """
groups:
  - {name: a, model: minimal, count: 2, listen: [{transport: tcp, port: 5000}]}
  - {name: b, model: minimal, count: 2, listen: [{transport: tcp, port: 5001}]}
  - name: c
    model: minimal
    count: 2
    listen:
      - {transport: hdlc-tcp, addressing: multidrop, port: 6000, physical_address: 20}
      - {transport: hdlc-tcp, addressing: multidrop, port: 6000, physical_address: 21}
"""
    lines = [str(p) for p in plan(parse_profile(text, "p.yaml")).problems]
    assert lines == [
        "p.yaml:4: group b listener 1: tcp 127.0.0.1:5001 is already meter a#1 (group a, line 3)",
        "p.yaml:10: group c listener 2: HDLC physical address 21 on hdlc-tcp 127.0.0.1:6000 is already meter "
        "c#1 (group c, line 5)",
    ]


def test_a_wildcard_socket_overlaps_every_address_on_its_port() -> None:
    text = """
groups:
  - {name: a, model: minimal, listen: [{transport: tcp, port: 5000}]}
  - {name: b, model: minimal, listen: [{transport: hdlc-tcp, addressing: address, host: 127.0.3.1, port: 5000}]}
  - {name: c, model: minimal, listen: [{transport: udp, port: 5000}]}
"""
    lines = [str(p) for p in plan(parse_profile(text, "p.yaml")).problems]
    assert lines == ["p.yaml:4: tcp port 5000 is bound more than once (tcp on 127.0.0.1, hdlc-tcp on 0.0.0.0); "
                     "address-addressed listeners bind the wildcard address"]


def test_groups_share_a_socket_by_address() -> None:
    text = """
groups:
  - {name: a, model: minimal, count: 2, listen: [{transport: tcp, addressing: address, host: 127.0.3.1, port: 5000}]}
  - {name: b, model: minimal, count: 2, listen: [{transport: tcp, addressing: address, host: 127.0.3.3, port: 5000}]}
"""
    layout = plan(parse_profile(text, "p.yaml"))
    assert layout.problems == [] and len(layout.endpoints) == 1
    endpoint = layout.endpoints[0]
    assert endpoint.host == "0.0.0.0" and endpoint.by_address
    assert [endpoint.route(f"127.0.3.{i}").label for i in (1, 2, 3, 4)] == ["a#0", "a#1", "b#0", "b#1"]
    assert endpoint.route("127.0.3.9") is None


# --------------------------------------------------------------------------- cosem-sim validate

def test_validate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = str(demo_profile_path())
    bad = tmp_path / "bad.yaml"
    bad.write_text(GROUP.format(extra="    sistem_title: x"))
    model = str(ROOT / "object_models" / "minimal.yaml")
    assert main(["validate", good, model]) == 0
    out = capsys.readouterr().out
    assert f"{good}: valid profile demo (12 meters)" in out and f"{model}: valid model minimal" in out
    assert main(["validate", good, str(bad)]) == 1
    assert f"{bad}:7: group e: unknown key 'sistem_title'" in capsys.readouterr().out
