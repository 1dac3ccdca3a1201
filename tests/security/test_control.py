"""The security control byte (Green Book security header)."""

from __future__ import annotations

import pytest

from simulator.errors import LocalProtocolError
from simulator.security.control import SecurityControl


@pytest.mark.parametrize("value", range(256))
def test_every_byte_round_trips(value: int) -> None:
    assert SecurityControl.from_byte(value).to_byte() == value


@pytest.mark.parametrize("value, fields", [
    (0x00, (0, False, False, False, False)),
    (0x10, (0, True, False, False, False)),
    (0x20, (0, False, True, False, False)),
    (0x30, (0, True, True, False, False)),
    (0x70, (0, True, True, True, False)),
    (0x80, (0, False, False, False, True)),
    (0x31, (1, True, True, False, False)),
    (0x0F, (15, False, False, False, False)),
])
def test_bit_layout(value: int, fields: tuple[int, bool, bool, bool, bool]) -> None:
    sc = SecurityControl.from_byte(value)
    assert (sc.suite, sc.authenticated, sc.encrypted, sc.broadcast_key, sc.compressed) == fields
    assert SecurityControl(*fields) == sc


def test_derived_properties() -> None:
    assert not SecurityControl.from_byte(0x00).protected
    assert SecurityControl.from_byte(0x20).protected and not SecurityControl.from_byte(0x20).has_tag
    assert SecurityControl.from_byte(0x10).has_tag
    assert str(SecurityControl.from_byte(0x30)) == "SC 0x30 (suite 0, AE)"
    assert str(SecurityControl()) == "SC 0x00 (suite 0)"


@pytest.mark.parametrize("bad", [-1, 256])
def test_out_of_range_byte_is_a_local_error(bad: int) -> None:
    with pytest.raises(LocalProtocolError):
        SecurityControl.from_byte(bad)


def test_suite_must_fit_four_bits() -> None:
    with pytest.raises(LocalProtocolError):
        SecurityControl(suite=16)


def test_frozen() -> None:
    sc = SecurityControl()
    with pytest.raises(AttributeError):
        sc.suite = 1  # type: ignore[misc]
