"""Faults injected into running meters (runtime/faults.py), seen by gurux-dlms over real sockets.

The engine's FaultSet is changed on the fleet's loop, as the control plane does; each fault is
seen by an independent client on the TCP wrapper, the UDP wrapper or HDLC over TCP: a delay in
the client's measured latency, a refusal in the AARE's diagnostic, a drop or a silence as no
answer, a damaged answer as one gurux cannot read, a close and a reboot as the connection ended.
The shares a ratio hits and the order delayed answers keep are checked without sockets.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from gurux_dlms import GXDLMSClient, GXDLMSException, GXDLMSExceptionResponse, GXReplyData
from gurux_dlms.enums import AssociationResult, SourceDiagnostic

from simulator.runtime.faults import Delayed, Fault, FaultSet
from simulator.runtime.layout import MeterEntry

from .harness import NO_SOCAT, SOCAT, RunningFleet, pty_pair
from .peers import GuruxPeer, SerialPipe, SocketPipe, clock, energy_register, gurux_client
from .test_push import DEMO_FIELDS

PROFILE = f"""
name: faults
time: {{history: 1d}}
groups:
  - name: electricity
    model: idis_poly
    count: 2
{DEMO_FIELDS}    listen:
      - {{transport: tcp, host: 127.0.0.1, port: 0}}
      - {{transport: udp, host: 127.0.0.1, port: 0}}
      - {{transport: hdlc-tcp, host: 127.0.0.1, port: 0}}
"""
SHORT_S = 0.5  # how long a client waits for an answer that must not come


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[RunningFleet]:
    with RunningFleet(PROFILE, tmp_path) as running:
        yield running


def add(fleet: RunningFleet, fault: Fault, meter: int = 0) -> None:
    fleet.call(lambda: fleet.engine.faults.add(fleet.engine.entries[meter], fault))


def clear(fleet: RunningFleet, meter: int = 0) -> int:
    return int(fleet.call(lambda: fleet.engine.faults.clear(fleet.engine.entries[meter])))


def peer(fleet: RunningFleet, transport: str = "tcp", meter: int = 0) -> GuruxPeer:
    if transport == "hdlc-tcp":
        pipe = SocketPipe("127.0.0.1", fleet.port("hdlc-tcp", meter))
        return GuruxPeer(pipe, gurux_client(2, GXDLMSClient.getServerAddress(1, 17), hdlc=True))
    return GuruxPeer(SocketPipe("127.0.0.1", fleet.port(transport, meter), udp=transport == "udp"), gurux_client(2))


def timed_read(client: GuruxPeer) -> float:
    start = time.monotonic()
    client.read(clock(), 2)
    return time.monotonic() - start


@pytest.mark.parametrize("transport", ["tcp", "udp", "hdlc-tcp"])
def test_a_delay_shows_in_the_clients_measured_latency(fleet: RunningFleet, transport: str) -> None:
    client = peer(fleet, transport)
    client.connect()
    try:
        plain = timed_read(client)
        add(fleet, Fault("delay", ms=300))
        delayed = [timed_read(client) for _ in range(2)]
        assert clear(fleet) == 1
        after = timed_read(client)
        (energy,) = [client.read(energy_register(), 2)]
    finally:
        client.pipe.close()
    assert all(seconds >= 0.3 for seconds in delayed), delayed
    assert plain < 0.3 and after < 0.3, (plain, after)
    assert isinstance(energy, (int, float))


@pytest.mark.parametrize("transport", ["tcp", "udp", "hdlc-tcp"])
def test_a_refuse_fault_rejects_the_aarq_with_its_diagnostic(fleet: RunningFleet, transport: str) -> None:
    add(fleet, Fault("refuse", diagnostic="authentication-failure"))
    client = peer(fleet, transport)
    try:
        with pytest.raises(GXDLMSException) as refused:
            client.connect()
    finally:
        client.pipe.close()
    assert refused.value.result == AssociationResult.PERMANENT_REJECTED
    assert refused.value.diagnostic == SourceDiagnostic.AUTHENTICATION_FAILURE
    other = peer(fleet, transport, meter=1)  # the other meter is not refused
    try:
        assert other.session_read((clock(), 2))
    finally:
        other.pipe.close()


def no_answer(client: GuruxPeer) -> None:
    """The next request is not answered (gurux waits until the socket's timeout)."""
    client.pipe.sock.settimeout(SHORT_S)  # type: ignore[attr-defined]
    with pytest.raises(socket.timeout):
        client.read(clock(), 2)


@pytest.mark.parametrize("transport", ["tcp", "udp", "hdlc-tcp"])
def test_dropped_answers_never_arrive(fleet: RunningFleet, transport: str) -> None:
    client = peer(fleet, transport)
    client.connect()
    try:
        add(fleet, Fault("drop"))
        no_answer(client)
    finally:
        client.pipe.close()


@pytest.mark.parametrize("transport,mode", [("tcp", "tag"), ("tcp", "fcs"), ("udp", "tag"), ("hdlc-tcp", "tag"),
                                            ("hdlc-tcp", "fcs")])
def test_a_damaged_answer_is_not_read(fleet: RunningFleet, transport: str, mode: str) -> None:
    client = peer(fleet, transport)
    client.connect()
    try:
        add(fleet, Fault("corrupt", mode=mode))
        client.pipe.sock.settimeout(SHORT_S)  # type: ignore[attr-defined]
        with pytest.raises(Exception) as failed:
            client.read(clock(), 2)
    finally:
        client.pipe.close()
    if transport == "hdlc-tcp" and mode == "fcs":
        assert "Wrong CRC" in str(failed.value), repr(failed.value)
    else:  # a tag no APDU has ("fcs" on the wrapper, which has no FCS, too)
        assert "Invalid Command" in str(failed.value), repr(failed.value)


def test_a_silent_hdlc_meter_answers_no_snrm_and_the_connection_stays(fleet: RunningFleet) -> None:
    add(fleet, Fault("silence"))
    client = peer(fleet, "hdlc-tcp")
    client.pipe.sock.settimeout(SHORT_S)  # type: ignore[attr-defined]
    try:
        with pytest.raises(socket.timeout):  # not even UA or DM
            client.exchange(client.client.snrmRequest(), GXReplyData())
        clear(fleet)
        client.pipe.sock.settimeout(5.0)  # type: ignore[attr-defined]
        client.client = gurux_client(2, GXDLMSClient.getServerAddress(1, 17), hdlc=True)
        client.unread = b""
        assert client.session_read((clock(), 2)), "the same connection is answered once the fault is gone"
    finally:
        client.pipe.close()


def test_a_silent_wrapper_meter_answers_nothing(fleet: RunningFleet) -> None:
    add(fleet, Fault("silence"))
    client = peer(fleet, "tcp")
    client.pipe.sock.settimeout(SHORT_S)  # type: ignore[attr-defined]
    try:
        with pytest.raises(socket.timeout):
            client.connect()
    finally:
        client.pipe.close()


@pytest.mark.parametrize("transport", ["tcp", "hdlc-tcp"])
def test_a_close_fault_ends_the_connection_instead_of_answering(fleet: RunningFleet, transport: str) -> None:
    client = peer(fleet, transport)
    client.connect()
    try:
        add(fleet, Fault("close"))
        with pytest.raises((ConnectionError, OSError)) as closed:
            client.read(clock(), 2)
    finally:
        client.pipe.close()
    assert not isinstance(closed.value, socket.timeout)


def test_a_close_fault_on_udp_forgets_the_clients_association(fleet: RunningFleet) -> None:
    client = peer(fleet, "udp")
    client.connect()
    try:
        add(fleet, Fault("close"))
        no_answer(client)
        clear(fleet)
        client.pipe.sock.settimeout(5.0)  # type: ignore[attr-defined]
        with pytest.raises(GXDLMSExceptionResponse, match="Operation not possible"):  # no association any more
            client.read(clock(), 2)
    finally:
        client.pipe.close()


@pytest.mark.parametrize("transport", ["tcp", "hdlc-tcp"])
def test_a_reboot_closes_the_connection_and_keeps_the_meter(fleet: RunningFleet, transport: str) -> None:
    client = peer(fleet, transport)
    client.connect()
    try:
        before = client.read(energy_register(), 2)
        built = fleet.call(lambda: fleet.engine.entries[0].live)
        add(fleet, Fault("reboot"))
        with pytest.raises((ConnectionError, OSError)):
            client.read(clock(), 2)
    finally:
        client.pipe.close()
    assert fleet.call(lambda: fleet.engine.faults.active(fleet.engine.entries[0])) == (), "not kept"
    live = fleet.call(lambda: fleet.engine.entries[0].live)
    assert live is built and live.meter.restarts == 1, "the same meter, restarted"
    again = peer(fleet, transport)
    try:
        (after,) = again.session_read((energy_register(), 2))
    finally:
        again.pipe.close()
    assert after >= before, "its energy register kept counting"


def test_a_reboot_forgets_a_udp_clients_association(fleet: RunningFleet) -> None:
    client = peer(fleet, "udp")
    client.connect()
    try:
        client.read(clock(), 2)
        add(fleet, Fault("reboot"))
        with pytest.raises(GXDLMSExceptionResponse, match="Operation not possible"):  # outside an association
            client.read(clock(), 2)
        client.client = gurux_client(2)
        assert client.session_read((clock(), 2)), "a new association is served"
    finally:
        client.pipe.close()


def test_a_group_fault_reaches_every_meter_of_the_group_and_a_meters_own_comes_first(fleet: RunningFleet) -> None:
    fleet.call(lambda: fleet.engine.faults.add("electricity", Fault("refuse", diagnostic="no-reason-given")))
    add(fleet, Fault("refuse", diagnostic="authentication-required"), meter=1)
    for meter, diagnostic in ((0, SourceDiagnostic.NO_REASON_GIVEN), (1, SourceDiagnostic.AUTHENTICATION_REQUIRED)):
        client = peer(fleet, "tcp", meter)
        try:
            with pytest.raises(GXDLMSException) as refused:
                client.connect()
        finally:
            client.pipe.close()
        assert refused.value.diagnostic == diagnostic


# ---------------------------------------------------------------------------- without sockets
def entries() -> list[MeterEntry]:
    from simulator.runtime.layout import plan
    from simulator.runtime.profile import parse_profile

    return plan(parse_profile(PROFILE, "faults.yaml")).entries


def test_a_ratio_hits_about_that_share_and_the_same_answers_every_run() -> None:
    def hits() -> list[bool]:
        faults = FaultSet(entries())
        faults.add("electricity", Fault("drop", ratio=0.25))
        return [v is not None and v.drop for v in (faults.verdict(faults._entries[0]) for _ in range(2000))]

    first = hits()
    assert 400 < sum(first) < 600
    assert first == hits(), "seeded: reproducible"


def test_faults_from_json_say_what_is_wrong() -> None:
    assert Fault.from_json({"kind": "delay", "ms": 300, "jitter_ms": 50}).to_json() == \
        {"kind": "delay", "ms": 300, "jitter_ms": 50}
    for body, words in (({"kind": "slow"}, "unknown fault kind"), ({"kind": "drop", "ratio": 0}, "ratio"),
                        ({"kind": "delay", "ms": "300"}, "ms must be a number"), ({"ms": 3}, "needs a kind"),
                        ({"kind": "refuse", "diagnostic": "nope"}, "authentication-failure"),
                        ({"kind": "corrupt", "mode": "crc"}, "mode"),
                        ({"kind": "drop", "share": 1}, "unknown fault field"),
                        ([], "JSON object")):
        with pytest.raises(ValueError, match=words):
            Fault.from_json(body)


def test_clearing_a_meter_keeps_its_groups_faults_and_unknown_groups_are_refused() -> None:
    faults = FaultSet(entries())
    meter = faults._entries[0]
    faults.add(meter, Fault("delay", ms=10))
    faults.add(meter, Fault("delay", ms=20))  # replaces the first
    faults.add("electricity", Fault("silence"))
    assert faults.active(meter) == (Fault("delay", ms=20), Fault("silence"))
    assert faults.clear(meter) == 1 and faults.active(meter) == (Fault("silence"),) and faults.on
    assert faults.clear("electricity") == 1 and not faults.on
    with pytest.raises(KeyError):
        faults.add("gas", Fault("drop"))


class FakeLoop:
    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Any]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, fn: Any) -> Any:
        self.timers.append((when, fn))
        return self

    def cancel(self) -> None:
        pass

    def run_until(self, when: float) -> None:
        self.now = when
        while (due := [t for t in self.timers if t[0] <= when]):
            self.timers.remove(due[0])
            due[0][1]()


def test_delayed_answers_keep_their_order_whatever_their_jitter() -> None:
    loop, sent = FakeLoop(), []
    delayed = Delayed(loop, sent.append)
    delayed.send(b"first", 0.5)
    delayed.send(b"second", 0.2)  # a smaller jitter: still after the first
    delayed.send(b"third")  # no delay, but behind what waits
    loop.run_until(0.3)
    assert sent == []
    loop.run_until(0.5)
    assert sent == [], "a loop clock step later than asked: never early"
    loop.run_until(0.501)
    assert sent == [b"first", b"second", b"third"]
    assert len(loop.timers) == 0, "one timer for the head of the queue, none left"
    delayed.send(b"now")
    assert sent[-1] == b"now", "nothing waits: sent at once"


# ---------------------------------------------------------------------------- a serial line
SERIAL = f"""
name: serial-faults
groups:
  - name: line
    model: idis_poly
    count: 2
{DEMO_FIELDS}    listen:
      - {{transport: hdlc-serial, device: "{{device}}", baud_rate: 9600, physical_address: 17}}
"""


@pytest.fixture
def line(tmp_path: Path) -> Iterator[tuple[RunningFleet, str]]:
    if SOCAT is None:
        pytest.skip(NO_SOCAT)
    with pty_pair(tmp_path) as (meter_tty, client_tty):
        with RunningFleet(SERIAL.replace("{device}", meter_tty), tmp_path) as running:
            yield running, client_tty


def serial_peer(device: str, physical: int = 17) -> GuruxPeer:
    return GuruxPeer(SerialPipe(device), gurux_client(2, GXDLMSClient.getServerAddress(1, physical), hdlc=True))


def test_faults_on_a_serial_line_reach_only_their_meter(line: tuple[RunningFleet, str]) -> None:
    fleet, device = line
    add(fleet, Fault("delay", ms=300), meter=0)
    first = serial_peer(device)
    try:
        first.connect()
        assert timed_read(first) >= 0.3
        add(fleet, Fault("close"), meter=0)  # a serial line is not closed: the link is dropped
        first.pipe.port.timeout = SHORT_S  # type: ignore[attr-defined]
        with pytest.raises(TimeoutError):
            first.read(clock(), 2)  # dropped instead of answered
        assert answered_dm(first), "the link is gone"
    finally:
        first.pipe.close()
    clear(fleet, meter=0)
    add(fleet, Fault("silence"), meter=0)
    silent = serial_peer(device)
    silent.pipe.port.timeout = SHORT_S  # type: ignore[attr-defined]
    try:
        with pytest.raises(TimeoutError):  # no UA
            silent.exchange(silent.client.snrmRequest(), GXReplyData())
    finally:
        silent.pipe.close()
    second = serial_peer(device, physical=18)  # the other meter on the line answers at once
    try:
        assert timed_read_session(second) < 0.3
    finally:
        second.pipe.close()


def answered_dm(client: GuruxPeer) -> bool:
    """The meter answers the next GET with DM (IEC 62056-46: no link; gurux ignores a DM and waits,
    so the frame is read from the line): flag, format, client, server (2 octets), control 0x1F."""
    client.pipe.send(bytes(client.client.read(clock(), 2)[0]))
    reply = client.pipe.receive()
    return len(reply) == 10 and reply[6] == 0x1F


def timed_read_session(client: GuruxPeer) -> float:
    client.connect()
    try:
        return timed_read(client)
    finally:
        client.release()


def test_a_reboot_drops_the_serial_link(line: tuple[RunningFleet, str]) -> None:
    fleet, device = line
    client = serial_peer(device)
    try:
        client.connect()
        client.read(clock(), 2)
        add(fleet, Fault("reboot"))
        assert answered_dm(client), "the link is lost with the restart"
    finally:
        client.pipe.close()
    assert fleet.call(lambda: fleet.engine.entries[0].live.meter.restarts) == 1
