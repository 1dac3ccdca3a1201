"""Pushes as a head-end engineer sees them from outside: bugs found by black-box checks, each
with the test that failed before its fix. A gurux-dlms client invokes the push over a real
socket; a plain socket receives it.
"""

from __future__ import annotations

import datetime
import logging
from pathlib import Path
from typing import Any

from gurux_dlms import GXDateTime, GXDLMSClient
from gurux_dlms.enums import Authentication, InterfaceType
from gurux_dlms.objects import GXDLMSPushSetup

from .harness import RunningFleet
from .peers import GuruxPeer, SocketPipe
from .test_push import (  # noqa: F401 (receiver: the fixture)
    ALARM_PUSH, Receiver, counters, demo_fleet, invoke_push, plain_fleet, receiver, wait_for,
)


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


def test_a_push_whose_window_never_opens_again_is_a_warning(tmp_path: Path, receiver: Receiver,
                                                            caplog: Any) -> None:
    """A push lost because its communication window lies in the past is counted as failed and
    said at WARNING, as a push given up is: at the default log level the user learns of it."""
    caplog.set_level(logging.INFO, logger="simulator.push")
    with RunningFleet(plain_fleet(tmp_path, receiver.port), tmp_path) as fleet:
        client = GXDLMSClient(True, 1, 1, Authentication.NONE, None, InterfaceType.WRAPPER)
        peer = GuruxPeer(SocketPipe("127.0.0.1", fleet.port("tcp")), client)
        setup = GXDLMSPushSetup(ALARM_PUSH)
        start = datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc)  # the fleet starts in 2024
        setup.communicationWindow = [(GXDateTime(start), GXDateTime(start + datetime.timedelta(hours=1)))]
        try:
            peer.connect()
            peer.request(client.write(setup, 4))
            peer.request(client.method(setup, 1, 0, 15))
            peer.release()
        finally:
            peer.pipe.close()
        wait_for(lambda: counters(fleet)[1] == 1, "the push counted as failed")
    [record] = [r for r in caplog.records if "never opens again" in r.getMessage()]
    assert record.levelname == "WARNING"
    assert record.getMessage() == f"plain#0: push {ALARM_PUSH} (action) dropped: its communication window never " \
                                  "opens again"
    assert receiver.connections == 0
