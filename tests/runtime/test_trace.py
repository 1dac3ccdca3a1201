"""--trace lines: one per APDU, readable, and never a secret."""

from __future__ import annotations

import logging

import pytest

from simulator.runtime.trace import TRACE_LOGGER, Tracer, summarize

GET_CLOCK = bytes.fromhex("C001C100080000010000FF0200")
# AARQ, LLS, password "12345678" (31 32 ... 38), public vectors' shape (Green Book LLS example).
AARQ_LLS = bytes.fromhex("6036A1090607608574050801018A0207808B0760857405080201AC0A80083132333435363738"
                         "BE10040E01000000065F1F0400001E1DFFFF")


def test_one_line_per_apdu() -> None:
    line = summarize(GET_CLOCK)
    assert "\n" not in line
    assert line.startswith("get-request-normal (") and "0.0.1.0.0.255" in line and "Clock" in line


def test_passwords_stay_out() -> None:
    line = summarize(AARQ_LLS)
    assert line.startswith("AARQ") and "low-level-security" in line
    assert "12345678" not in line and "3132333435363738" not in line.replace(" ", "")


def test_undecodable_bytes_say_so() -> None:
    assert summarize(b"\xc0\x01").startswith("undecodable APDU of 2 bytes (")


def test_long_apdus_are_cut() -> None:
    big = bytes.fromhex("C401C100") + bytes((0x01, 0x82, 0x01, 0x00)) + bytes.fromhex("0600000001") * 256
    assert len(summarize(big)) <= 400


def test_tracer(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=TRACE_LOGGER):
        Tracer(False).apdu("e#0", True, 16, 1, GET_CLOCK)
        assert caplog.records == []
        Tracer(True).apdu("e#0", True, 16, 1, GET_CLOCK)
        Tracer(True).apdu("e#0", False, 16, 1, GET_CLOCK)
    assert [r.getMessage()[:14] for r in caplog.records] == ["e#0 << 16->1 g", "e#0 >> 1->16 g"]
