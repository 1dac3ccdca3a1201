"""Pushes as a head-end engineer sees them from outside: bugs found by black-box checks, each
with the test that failed before its fix. A gurux-dlms client invokes the push over a real
socket; a plain socket receives it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .harness import RunningFleet
from .test_push import Receiver, demo_fleet, invoke_push, plain_fleet, receiver, wait_for  # noqa: F401 (fixture)


def trace_records(caplog: Any) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "simulator.trace"]


def test_trace_shows_a_ciphered_push_as_it_left_deciphered(tmp_path: Path, receiver: Receiver, caplog: Any) -> None:
    """`run --trace` logs every frame a meter sends: a push too, its hex as the head-end got it,
    then the data-notification opened with the meter's own keys."""
    caplog.set_level(logging.INFO, logger="simulator.trace")
    with RunningFleet(demo_fleet(receiver.port), tmp_path, trace=True) as fleet:
        invoke_push(fleet.port("tcp"))
        _, raw = receiver.get()
        head = f"electricity#0 >> 1->1 wrapper {raw.hex().upper()}"
        wait_for(lambda: any(r.startswith(head) for r in trace_records(caplog)), "the push in the trace")
    [record] = [r for r in trace_records(caplog) if r.startswith(head)]
    assert "data-notification" in record
    assert "SIM00000001" in record or "53 49 4D 30 30 30 30 30 30 30 31" in record  # the logical device name, opened


def test_trace_shows_an_hdlc_push_frame_by_frame(tmp_path: Path, receiver: Receiver, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="simulator.trace")
    with RunningFleet(plain_fleet(tmp_path, receiver.port, transport="hdlc"), tmp_path, trace=True) as fleet:
        invoke_push(fleet.port("tcp"), plain=True)
        _, frames = receiver.get()
        head = f"plain#0 >> 1->1 HDLC {frames.hex().upper()}"
        wait_for(lambda: any(r.startswith(head) for r in trace_records(caplog)), "the push in the trace")
    [record] = [r for r in trace_records(caplog) if r.startswith(head)]
    assert "data-notification" in record


def test_a_reset_is_logged_with_the_push_setups_obis_code(tmp_path: Path, receiver: Receiver, caplog: Any) -> None:
    """The log names a Push setup by its OBIS code, as every other push line does, not by its
    place in the model."""
    caplog.set_level(logging.INFO, logger="simulator.push")
    daily = "0.1.25.9.0.255"
    with RunningFleet(demo_fleet(receiver.port), tmp_path) as fleet:
        invoke_push(fleet.port("tcp"), obis=daily, method=2)
    lines = [r.getMessage() for r in caplog.records if r.name == "simulator.push"]
    assert f"electricity#0: push {daily} reset: its waiting pushes are dropped" in lines
