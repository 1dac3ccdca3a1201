"""YAML that reads other than it was meant: each trap ends in a file:line problem or in the value meant.

- deep nesting (even under an ignored x- key) is a problem, not a RecursionError;
- an unquoted field like 00001234 is YAML 1.1 octal (668): refused, the value never echoed;
- a key of odd or non-hex digits is named as such, at the profile field's line;
- an ISO date in a value of any type (a profile's buffer row) becomes a date-time octet string,
  the form the clock's time takes and a client parses (gurux-dlms reads it back as a date).
"""

from __future__ import annotations

import re

from datetime import datetime, timezone
from pathlib import Path

import pytest
from gurux_dlms.objects import GXDLMSProfileGeneric

from simulator.axdr import CosemDateTime, Data, DataType
from simulator.cli import main
from simulator.cosem.types import ANY
from simulator.model.errors import ModelError
from simulator.model.loader import load_model
from simulator.model.values import Invalid

from ..runtime.harness import RunningFleet
from ..runtime.peers import GuruxPeer, SocketPipe, gurux_client
from .test_values import conv

ROOT = Path(__file__).resolve().parents[2]
PROFILE = """name: traps
x-anchors: {deep}
groups:
  - name: e
    model: idis_poly
    count: 1
    fields:
      lls_password: {password}
      block_cipher_key: {key}
    listen: [{{transport: tcp, host: 127.0.0.1, port: 0}}]
"""
GOOD = dict(deep="[]", password='"12345678"', key="000102030405060708090A0B0C0D0E0F")


def profile(tmp_path: Path, **changes: str) -> Path:
    path = tmp_path / "traps.yaml"
    path.write_text(PROFILE.format(**{**GOOD, **changes}))
    return path


def test_the_good_profile_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(profile(tmp_path))]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("depth", [340, 999])
def test_deep_nesting_is_a_problem_for_validate_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        depth: int) -> None:
    path = profile(tmp_path, deep="[" * depth + "]" * depth)
    expected = f"{path}:2: nested more than 64 levels deep: no model or profile value nests so deep; " \
               "flatten the value or remove it"
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [expected]
    assert main(["run", str(path), "--no-state"]) == 1
    assert capsys.readouterr().err.splitlines() == [expected]


def test_deep_nesting_in_a_model(tmp_path: Path) -> None:
    text = (ROOT / "object_models" / "minimal.yaml").read_text()
    path = tmp_path / "deep.yaml"
    path.write_text(text + "x-deep: " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(ModelError) as error:
        load_model(path)
    assert [str(p) for p in error.value.problems] == [
        f"{path}:{text.count(chr(10)) + 1}: nested more than 64 levels deep: no model or profile value nests so "
        "deep; flatten the value or remove it"]


@pytest.mark.parametrize("written, why", [("00001234", "a leading 0 makes it octal"),
                                          ("0x1234", "0x is a base prefix"),
                                          ("12:34", "digits separated by ':' are base 60")])
def test_a_field_yaml_reads_as_another_number(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              written: str, why: str) -> None:
    path = profile(tmp_path, password=written)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out == (f"{path}:8: group e: field lls_password: YAML reads this unquoted value as a number ({why}), "
                   "not as the characters written; quote it to keep them (the value is not shown: it may be a "
                   "secret)\n")
    assert main(["validate", str(profile(tmp_path, password=f'"{written}"'))]) == 0, capsys.readouterr().out
    assert main(["validate", str(profile(tmp_path, password="12345678"))]) == 0  # a plain number is its digits


@pytest.mark.parametrize("key, found", [("1122334455667788990011223344556", "31 characters, 31 of them hex digits"),
                                        ('"000102030405060708090A0B0C0D0E0G"', "32 characters, 31 of them hex digits")])
def test_a_key_that_is_not_hex_is_named_at_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    key: str, found: str) -> None:
    path = profile(tmp_path, key=key)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out == (f"{path}:9: group e: the model's key global_unicast_encryption_key of Security setup "
                   "0.0.43.0.1.255 does not render for meter 0: expected hex digits, two per octet (a 16-octet "
                   f"key is 32 digits); found {found}\n")
    assert key.strip('"') not in out


@pytest.mark.parametrize("password, why", [
    ('"Sup{erSecretPw"', "bad template: a { or } without its pair"),
    ('"Sup}erSecretPw"', "bad template: a { or } without its pair"),
    ('"Sup{serial2}Pw"', "no field {serial2}"),
    ('"Sup{2233}erPw"', "cannot be filled"),
])
def test_a_password_with_stray_braces_is_never_echoed(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      password: str, why: str) -> None:
    """Issue 8 review: validate quoted a password with an unbalanced brace back in its message,
    with Python's own words (IndexError, "Single '}' encountered in format string")."""
    path = profile(tmp_path, password=password)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert why in out and "SecretPw" not in out and "erPw" not in out
    assert "Error" not in out and "format string" not in out


def test_a_model_secret_with_stray_braces_is_never_echoed(tmp_path: Path) -> None:
    text = (ROOT / "object_models" / "idis_poly.yaml").read_text()
    assert 'secret: "{lls_password}"' in text
    path = tmp_path / "brace.yaml"
    path.write_text(text.replace('secret: "{lls_password}"', 'secret: "My{Secret"', 1))
    with pytest.raises(ModelError) as error:
        load_model(path)
    (problem,) = error.value.problems
    assert "a { or } without its pair" in problem.message and "Secret" not in str(problem)


# --------------------------------------------------------------------------- dates in values of any type

def test_an_iso_date_in_any_becomes_a_date_time() -> None:
    stamp = conv("2024-01-01T00:15:00Z", ANY)
    assert stamp == Data(DataType.OCTET_STRING, CosemDateTime.from_bytes(stamp.value).to_bytes())
    assert str(CosemDateTime.from_bytes(stamp.value)).startswith("2024-01-01 00:15:00")
    assert conv("2024-01-01", ANY).value[:5] == bytes.fromhex("07E8010101")  # a date: midnight
    assert conv("{type: visible-string, value: 2024-01-01}", ANY) == Data(DataType.VISIBLE_STRING, "2024-01-01")
    assert conv("not a date", ANY) == Data(DataType.VISIBLE_STRING, "not a date")
    with pytest.raises(Invalid, match="month 13 outside 1..12.*write {type: visible-string, value: ...} for text"):
        conv("2024-13-01T00:00:00Z", ANY)


BUFFER_MODEL = """
      - class: Profile generic
        obis: 1.0.99.1.0.255
        name: Load profile with declared rows
        attributes:
          capture_objects:
            - [Clock, 0.0.1.0.0.255, 2, 0]
            - [Register, 1.0.1.8.0.255, 2, 0]
          capture_period: 900
          buffer:
            - [2024-01-01T00:15:00Z, 5]
            - [2024-01-01T00:30:00Z, 6]
"""
FLEET = """
name: buffer
groups:
  - {name: m, model: model.yaml, count: 1, listen: [{transport: tcp, host: 127.0.0.1, port: 0}]}
"""


def test_a_client_reads_iso_dates_of_a_buffer_as_date_times(tmp_path: Path) -> None:
    """gurux-dlms over the TCP wrapper: the time column comes back as dates, not as text."""
    # the minimal model without its load: this profile keeps the rows it declares
    static = re.sub(r"\nliving:\n(?:  .*\n)+", "\n", (ROOT / "object_models" / "minimal.yaml").read_text())
    (tmp_path / "model.yaml").write_text(static + BUFFER_MODEL)
    with RunningFleet(FLEET, tmp_path) as fleet:
        profile_generic = GXDLMSProfileGeneric("1.0.99.1.0.255")
        peer = GuruxPeer(SocketPipe("127.0.0.1", fleet.port("tcp")), gurux_client(16))
        peer.session_read((profile_generic, 3), (profile_generic, 2))
    stamps = [row[0] for row in profile_generic.buffer]
    assert [s.value.astimezone(timezone.utc) for s in stamps] == [
        datetime(2024, 1, 1, 0, 15, tzinfo=timezone.utc), datetime(2024, 1, 1, 0, 30, tzinfo=timezone.utc)]
    assert [row[1] for row in profile_generic.buffer] == [5, 6]
