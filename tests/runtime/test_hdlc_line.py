"""One HDLC line with real meters behind it, driven without sockets and with a fake clock.

Routing on a shared line (physical addresses, one-byte addresses, all-station frames), a link
and its channel per client, the inactivity timeout from the IEC HDLC setup object, and the
inter-octet timeout that resynchronises a torn frame.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulator.link.hdlc import LLC_REQUEST, FrameKind, HDLCAddress, HDLCFrame, HDLCFrameReader, HDLCParameters
from simulator.runtime.faults import FaultSet
from simulator.runtime.fleet import Fleet, LiveMeter
from simulator.runtime.hdlc_stream import HDLCLine, hdlc_settings
from simulator.runtime.layout import plan
from simulator.runtime.profile import parse_profile
from simulator.server.objects import TimeBase

CLIENT = HDLCAddress.client(16)
AARQ_PUBLIC = bytes.fromhex("601DA109060760857405080101BE10040E01000000065F1F0400001E1DFFFF")
GET_LDN = bytes.fromhex("C001C1000100002A0000FF0200")

PROFILE = """
groups:
  - name: line
    model: {model}
    count: {count}
    listen: [{{transport: hdlc-tcp, addressing: multidrop, port: 1, physical_address: 17}}]
"""


class FakeHost:
    """What HDLCLine needs of the engine: the fleet, the limits, no faults and no observer."""

    def __init__(self, model: str, count: int) -> None:
        profile = parse_profile(PROFILE.format(model=model, count=count), "line.yaml")
        layout = plan(profile)
        self.fleet = Fleet(profile, layout.entries, TimeBase(1_700_000_000.0))
        self.limits = profile.limits
        self.faults = FaultSet(layout.entries)
        self.observer = None
        self.meters = layout.endpoints[0].line_meters(None)


class Wire:
    """The client side of the line: frames out, frames back."""

    def __init__(self, model: str = "idis_poly", count: int = 2) -> None:
        self.host = FakeHost(model, count)
        self.sent: list[bytes] = []
        host: Any = self.host
        self.line = HDLCLine(host, self.host.meters, self.sent.append, 0.025, "test line")

    def send(self, frame: HDLCFrame | bytes, now: float = 0.0) -> list[HDLCFrame]:
        self.line.receive_data(frame if isinstance(frame, bytes) else frame.to_bytes(), now)
        return self.answers()

    def answers(self) -> list[HDLCFrame]:
        reader = HDLCFrameReader()
        reader.receive_data(b"".join(self.sent))
        self.sent.clear()
        frames = []
        while (frame := reader.next_frame()) is not None:
            frames.append(frame)
        return frames


def snrm(server: HDLCAddress, client: HDLCAddress = CLIENT) -> HDLCFrame:
    return HDLCFrame(server, client, FrameKind.SNRM, True, information=HDLCParameters().to_bytes())


def info(server: HDLCAddress, apdu: bytes, ns: int, nr: int) -> HDLCFrame:
    return HDLCFrame(server, CLIENT, FrameKind.I, True, ns, nr, information=LLC_REQUEST + apdu)


def logical_device_name(wire: Wire, server: HDLCAddress) -> bytes:
    """SNRM, AARQ, GET of the logical device name, DISC: the name's octets."""
    (ua,) = wire.send(snrm(server))
    assert ua.kind is FrameKind.UA and ua.source == server and ua.destination == CLIENT
    (aare,) = wire.send(info(server, AARQ_PUBLIC, 0, 0))
    assert aare.information[3] == 0x61
    (answer,) = wire.send(info(server, GET_LDN, 1, 1))
    apdu = answer.information[3:]
    assert apdu[:4] == bytes.fromhex("C401C100") and apdu[4] == 0x09
    (ua,) = wire.send(HDLCFrame(server, CLIENT, FrameKind.DISC, True))
    assert ua.kind is FrameKind.UA
    return apdu[6:6 + apdu[5]]


def test_each_meter_answers_its_own_physical_address() -> None:
    wire = Wire()
    assert logical_device_name(wire, HDLCAddress(1, 18)) == b"SIM00000002"
    assert logical_device_name(wire, HDLCAddress(1, 17, 4)) == b"SIM00000001"  # 4-byte form answered alike
    assert wire.line.links == 0  # links end with DISC
    assert wire.send(snrm(HDLCAddress(1, 30))) == []  # nobody at 30 on this line
    assert wire.send(snrm(HDLCAddress(5, 17))) == []  # meter 17 has no logical device 5
    assert sorted(wire.host.fleet.live_meters) == [0, 1]


def test_links_are_per_client_and_do_not_disturb_each_other() -> None:
    wire = Wire()
    other = HDLCAddress.client(2)
    (ua,) = wire.send(snrm(HDLCAddress(1, 17)))
    (ua2,) = wire.send(snrm(HDLCAddress(1, 17), other))
    assert (ua.destination, ua2.destination) == (CLIENT, other) and wire.line.links == 2
    (aare,) = wire.send(info(HDLCAddress(1, 17), AARQ_PUBLIC, 0, 0))
    assert aare.destination == CLIENT


def test_one_byte_server_address_only_on_a_line_with_one_meter() -> None:
    assert Wire(count=2).send(snrm(HDLCAddress(1, None, 1))) == []
    (ua,) = Wire(count=1).send(snrm(HDLCAddress(1, None, 1)))
    assert ua.kind is FrameKind.UA and ua.source == HDLCAddress(1, None, 1)


def test_all_station_frames_are_not_answered() -> None:
    wire = Wire()
    broadcast = HDLCFrame(HDLCAddress(0x7F, 0x7F), CLIENT, FrameKind.UI, False,
                          information=LLC_REQUEST + GET_LDN)
    assert wire.send(broadcast) == [] and wire.line.links == 0


def test_inactivity_timeout_comes_from_the_iec_hdlc_setup_object() -> None:
    wire = Wire()
    meter = wire.host.fleet.live(wire.host.meters[17])
    settings = hdlc_settings(meter, 0.0)
    assert (settings.inactivity_timeout_s, settings.inter_frame_timeout_s) == (120, 0.025)
    wire.send(snrm(HDLCAddress(1, 17)), now=10.0)
    assert wire.line.get_timer() == 130.0
    wire.line.handle_timer(129.0)
    assert wire.line.links == 1
    wire.line.handle_timer(130.0)
    assert wire.line.links == 0 and wire.line.get_timer() is None
    (dm,) = wire.send(info(HDLCAddress(1, 17), GET_LDN, 1, 1), now=131.0)
    assert dm.kind is FrameKind.DM  # the link is down: the meter says so


def test_a_meter_without_hdlc_setup_uses_the_defaults() -> None:
    wire = Wire("minimal", 1)
    settings = hdlc_settings(wire.host.fleet.live(wire.host.meters[17]), 0.0)
    assert settings.inactivity_timeout_s == 120.0 and settings.max_info_rx == 128


def test_a_torn_frame_is_dropped_after_the_inter_octet_timeout() -> None:
    wire = Wire()
    frame = snrm(HDLCAddress(1, 17)).to_bytes()
    assert wire.send(frame[:6], now=1.0) == []
    assert wire.line.get_timer() == pytest.approx(1.025)
    wire.line.handle_timer(1.03)
    assert wire.answers() == [] and wire.line.get_timer() is None
    (ua,) = wire.send(frame, now=2.0)
    assert ua.kind is FrameKind.UA


def test_closing_the_line_ends_every_link(monkeypatch: pytest.MonkeyPatch) -> None:
    wire = Wire()
    wire.send(snrm(HDLCAddress(1, 17)))
    wire.send(snrm(HDLCAddress(1, 18)))
    closed: list[str] = []
    monkeypatch.setattr(LiveMeter, "close_channel", lambda meter, channel: closed.append(meter.label))
    wire.line.close()
    assert wire.line.links == 0 and sorted(closed) == ["line#0", "line#1"]
