"""What the runtime tells an observer (runtime/observe.py) while gurux-dlms talks to the meters.

A recording observer set on the engine sees connections open and close by transport, every
exchange kept with its answer and times, association outcomes (accepted, rejected for a wrong
password or a refuse fault, released), refusals (the connection limit, a replayed invocation
counter), the frames as they crossed the wire (wrapper frames whole, HDLC frames one by one,
UDP datagrams; a wrapper connection's none when the observer takes them from the exchanges,
which then carry the connection) and the bytes counted by transport. The outcome of an exchange is also read
from known answers without sockets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from gurux_dlms import GXDLMSClient, GXDLMSException

from simulator.runtime.faults import Fault
from simulator.runtime.observe import outcome

from .harness import RunningFleet
from .peers import GuruxPeer, SocketPipe, clock, gurux_client
from .test_push import DEMO_FIELDS

PROFILE = f"""
name: observed
limits: {{max_connections: 2}}
groups:
  - name: electricity
    model: idis_poly
    count: 2
{DEMO_FIELDS}    listen:
      - {{transport: tcp, host: 127.0.0.1, port: 0}}
      - {{transport: udp, host: 127.0.0.1, port: 0}}
      - {{transport: hdlc-tcp, host: 127.0.0.1, port: 0}}
"""


class Recorder:
    """Every call, as (hook, arguments without the meter object but its label)."""

    frames_wanted = True

    def __init__(self, takes_wrapper_frames: bool = False) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.exchanges: list[tuple[Any, ...]] = []
        self.takes_wrapper_frames = takes_wrapper_frames

    def connection(self, transport: str, opened: bool, meter: Any) -> None:
        self.calls.append(("connection", transport, opened, meter and meter.label))

    def frame(self, live: Any, channel: object, received: bool, data: bytes, transport: str, peer: str,
              local: str) -> None:
        assert peer.startswith("127.0.0.1:") and local.startswith("127.0.0.1:")
        self.calls.append(("frame", transport, received, data))

    def association(self, live: Any, channel: object, client_sap: int, outcome: str) -> None:
        self.calls.append(("association", live.label, client_sap, outcome))

    def refusal(self, live: Any, reason: str) -> None:
        self.calls.append(("refusal", reason))

    def push(self, live: Any, sent: bool) -> None:
        self.calls.append(("push", live.label, sent))

    def of(self, hook: str) -> list[tuple[Any, ...]]:
        return [call[1:] for call in self.calls if call[0] == hook]

    def kept(self) -> list[tuple[Any, ...]]:
        """The exchanges kept: (meter, has a link, client SAP, server SAP, request tag, answer tag)."""
        for _, _, started, ended, *_ in self.exchanges:
            assert ended >= started
        return [(live.label, link is not None, client, server, request[0], answer and answer[0])
                for live, link, _, _, server, client, request, answer in self.exchanges]


@pytest.fixture(params=[False, True], ids=["frames-handed", "wrapper-frames-taken"])
def observed(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[RunningFleet, Recorder]]:
    fleet = RunningFleet(PROFILE, tmp_path)
    recorder = Recorder(takes_wrapper_frames=request.param)
    fleet.engine.observer = recorder
    with fleet:
        yield fleet, recorder


def session(fleet: RunningFleet, transport: str, password: bytes | None = None) -> None:
    if transport == "hdlc-tcp":
        client = gurux_client(2, GXDLMSClient.getServerAddress(1, 17), hdlc=True)
    else:
        client = gurux_client(2)
    if password is not None:
        client.password = password
    peer = GuruxPeer(SocketPipe("127.0.0.1", fleet.port(transport), udp=transport == "udp"), client)
    try:
        peer.session_read((clock(), 2))
    finally:
        peer.pipe.close()


def settled(fleet: RunningFleet, recorder: Recorder) -> list[tuple[Any, ...]]:
    """The calls so far, read on the fleet's loop once it has handled what arrived."""
    return list(fleet.call(lambda: list(recorder.calls)))


def test_a_wrapper_session_is_seen_whole(observed: tuple[RunningFleet, Recorder]) -> None:
    fleet, recorder = observed
    session(fleet, "tcp")
    with pytest.raises(GXDLMSException):
        session(fleet, "tcp", password=b"wrong")
    fleet.call(lambda: fleet.engine.faults.add(fleet.engine.entries[0], Fault("refuse")))
    with pytest.raises(GXDLMSException):
        session(fleet, "tcp")
    calls = settled(fleet, recorder)
    assert recorder.of("association") == [("electricity#0", 2, "accepted"), ("electricity#0", 2, "released"),
                                          ("electricity#0", 2, "rejected"), ("electricity#0", 2, "rejected")]
    linked = recorder.takes_wrapper_frames
    assert recorder.kept()[:3] == [("electricity#0", linked, 2, 1, 0x60, 0x61), ("electricity#0", linked, 2, 1, 0xC0, 0xC4),
                                   ("electricity#0", linked, 2, 1, 0x62, 0x63)]
    assert ("connection", "tcp", True, "electricity#0") in calls
    assert ("connection", "tcp", False, "electricity#0") in calls
    frames = recorder.of("frame")
    if linked:  # the exchanges stand for the frames, but for the AARQ refused by the fault and its AARE
        assert [(f[1], f[2][8]) for f in frames] == [(True, 0x60), (False, 0x61)]  # under the fault: handed
        return
    assert frames[0][:2] == ("tcp", True) and frames[0][2][:2] == b"\x00\x01"  # the wrapper header: version 1
    assert frames[1][:2] == ("tcp", False) and frames[1][2][8] == 0x61  # the AARE after the 8-octet header
    received, sent = fleet.call(fleet.engine.octets)
    assert received["tcp"] == sum(len(f[2]) for f in frames if f[1])
    assert sent["tcp"] == sum(len(f[2]) for f in frames if not f[1])


def test_hdlc_frames_are_seen_one_by_one_and_udp_datagrams_whole(observed: tuple[RunningFleet, Recorder]) -> None:
    fleet, recorder = observed
    session(fleet, "hdlc-tcp")
    session(fleet, "udp")
    settled(fleet, recorder)
    hdlc = [f for f in recorder.of("frame") if f[0] == "hdlc-tcp"]
    assert all(f[2][0] == 0x7E == f[2][-1] and len(f[2]) == ((f[2][1] & 7) << 8 | f[2][2]) + 2 for f in hdlc)
    # the client's SNRM (to a 2-octet server address, from a 1-octet client: control at 6), the meter's UA
    assert (hdlc[0][1], hdlc[0][2][6]) == (True, 0x93) and (hdlc[1][1], hdlc[1][2][6]) == (False, 0x73)
    udp = [f for f in recorder.of("frame") if f[0] == "udp"]
    assert len(udp) == 6  # AARQ, GET, RLRQ and their answers, one datagram each
    assert ("udp", True, "electricity#0") in recorder.of("connection")
    assert ("electricity#0", 2, "accepted") in recorder.of("association")


def test_the_connection_limit_is_a_refusal(observed: tuple[RunningFleet, Recorder]) -> None:
    fleet, recorder = observed
    pipes = [SocketPipe("127.0.0.1", fleet.port("tcp")) for _ in range(3)]
    try:
        with pytest.raises(ConnectionError):
            pipes[2].receive()  # the third is aborted at once
    finally:
        for pipe in pipes:
            pipe.close()
    assert ("refusal", "connection-limit") in settled(fleet, recorder)
    assert recorder.of("refusal") == [("connection-limit",)]


def test_the_outcome_of_an_exchange_is_read_from_its_answer() -> None:
    # hand-built after the Green Book's encodings (9.3 A-ASSOCIATE: the result [2] INTEGER; 9.5
    # exception-response; Get-, Set-Response-Normal): only the octets outcome reads matter
    assert outcome(b"\x60", bytes.fromhex("6129a109060760857405080101a203020100a305a103020100"), None) == \
        ("accepted", None)
    assert outcome(b"\x60", bytes.fromhex("6117a109060760857405080101a203020101a305a10302010d"), None) == \
        ("rejected", None)
    assert outcome(b"\x62\x00", b"\x63\x03\x80\x01\x00", None) == ("released", None)
    assert outcome(b"\xc3", b"\xc7\x01\xc1\x0b\x00", "HLS authentication failed: wrong") == \
        ("failed-authentication", None)
    assert outcome(b"\xc8", b"\xd8\x01\x06\x00\x00\x00\x05", None) == (None, "counter-replay")
    assert outcome(b"\xc8", b"\xd8\x01\x05", None) == (None, "deciphering")
    assert outcome(b"\xc0", b"\xc4\x01\xc1\x01\x03", None) == (None, "access-denied")  # read-write-denied
    assert outcome(b"\xc1", b"\xc5\x01\xc1\x03", None) == (None, "access-denied")
    assert outcome(b"\xc0", b"\xc4\x01\xc1\x00\x09\x02\x00\x00", None) == (None, None)  # data, not a refusal
    assert outcome(b"\xc0", None, None) == (None, None)
