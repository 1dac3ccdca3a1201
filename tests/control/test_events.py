"""`POST /api/meters/{serial}/events` over real sockets: an injected power failure shows in the
standard event log gurux-dlms reads, stops the energy register for its duration and counts in
the power failure counter; a tamper event raises the alarm bit and the alarm push reaches a
head-end where gurux-dlms opens it; the end of a power failure pushes power-up and its alarm;
the events survive a restart with a state dir; what does not fit is refused naming the field.

The fleets' models generate no events of their own (`living: events: none`): only the injected
ones happen. The fleet's time is moved forward through `PUT /api/time` instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import aiohttp
import pytest
from gurux_dlms.objects import GXDLMSData, GXDLMSProfileGeneric

from simulator.control.plane import ControlPlane
from simulator.model.catalogue import SHIPPED_DIR

from ..runtime.harness import RunningFleet
from .harness import serving
from ..runtime.peers import GuruxPeer, SocketPipe, energy_register, gurux_client
from ..runtime.test_push import DEMO_FIELDS, PLAIN_MODEL, Receiver, opened
from ..runtime.test_push_schedule import ALARM, ALARM_PUSH, POWER_UP_BIT, POWER_UP_PUSH, pushes_of
from ..runtime.test_push_schedule import Receiver as NotificationReceiver

START = datetime(2024, 1, 10, 19, 0, tzinfo=timezone.utc)  # an evening: energy flows
SERIAL = "00000001"
FRAUD_BIT = 1 << 13


def quiet_poly(directory: Path) -> Path:
    """The demo's polyphase model with no generated events."""
    text = (SHIPPED_DIR / "idis_poly.yaml").read_text(encoding="utf-8")
    assert text.count("\nliving:\n") == 1
    path = directory / "quiet_poly.yaml"
    path.write_text(text.replace("\nliving:\n", "\nliving:\n  events: none\n"), encoding="utf-8")
    return path


def quiet_alarm(directory: Path) -> Path:
    """The push test model (alarm, power-up and installation pushes) with no generated events."""
    text = ALARM.read_text(encoding="utf-8")
    quiet = text.replace("cover_open: {per_year: 3000, mean_seconds: 10, spread: 0}", "cover_open: {per_year: 0}")
    assert quiet != text
    path = directory / "quiet_alarm.yaml"
    path.write_text(quiet, encoding="utf-8")
    return path


def poly_profile(directory: Path, push_port: int = 9) -> str:
    return f"""
time: {{start: {START.strftime('%Y-%m-%dT%H:%M:%SZ')}, history: 2d}}
groups:
  - name: electricity
    model: {quiet_poly(directory)}
    count: 2
{DEMO_FIELDS}    listen:
      - {{transport: tcp, host: 127.0.0.1, port: 0}}
    push: {{0.0.25.9.0.255: {{destination: "127.0.0.1:{push_port}"}}}}
"""


class Controlled:
    """A running fleet with its control plane on 127.0.0.1, port 0; `api` talks HTTP with aiohttp."""

    def __init__(self, fleet: RunningFleet, plane: ControlPlane) -> None:
        self.fleet = fleet
        self.plane = plane

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async def call() -> tuple[int, Any]:
            async with aiohttp.ClientSession() as session:
                async with session.request(method, f"http://127.0.0.1:{self.plane.port}{path}", json=body) as answer:
                    return answer.status, await answer.json()
        return asyncio.run(call())

    def peer(self) -> GuruxPeer:
        """gurux-dlms as the demo's management client (HLS-GMAC, ciphered), associated."""
        peer = GuruxPeer(SocketPipe("127.0.0.1", self.fleet.port("tcp")), gurux_client(1))
        peer.connect()
        return peer


@contextlib.contextmanager
def controlled(profile: str, directory: Path, state_dir: Path | None = None) -> Iterator[Controlled]:
    with serving(profile, directory, state_dir) as (fleet, plane):
        yield Controlled(fleet, plane)


def fleet_epoch(c: Controlled) -> float:
    status, body = c.api("GET", "/api/time")
    assert status == 200
    return float(body["epoch"])


def utc(value: Any) -> datetime:
    """A gurux date-time (GXDateTime or datetime) in UTC, whole seconds."""
    at = value.value if hasattr(value, "value") else value
    return at.astimezone(timezone.utc).replace(microsecond=0)


def iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- power failure

def test_a_power_failure_is_logged_stops_the_energy_and_is_counted(tmp_path: Path) -> None:
    with controlled(poly_profile(tmp_path), tmp_path) as c:
        status, kept = c.api("POST", f"/api/meters/{SERIAL}/events", {"kind": "power-failure", "duration_s": 300})
        assert status == 201, kept
        assert kept["kind"] == "power-failure" and kept["duration_s"] == 300 and kept["serial"] == SERIAL
        down, up = iso(kept["start"]), iso(kept["end"])
        assert up - down == timedelta(seconds=300)
        peer = c.peer()
        try:
            register = energy_register()
            at_start = peer.read(register, 2)
            c.api("PUT", "/api/time", {"jump_s": 150})  # in the middle of the failure
            assert peer.read(register, 2) == at_start  # nothing flows without supply
            c.api("PUT", "/api/time", {"jump_s": 450})  # 300 s after the supply came back
            assert peer.read(register, 2) > at_start
            counter = GXDLMSData("0.0.96.7.21.255")  # power failures in all phases
            assert peer.read(counter, 2) == 1
            log = GXDLMSProfileGeneric("0.0.99.98.0.255")  # the standard event log
            peer.read(log, 3)
            reply = peer.request(peer.client.readRowsByRange(log, down - timedelta(minutes=5), up + timedelta(minutes=5)))
            peer.client.updateValue(log, 2, reply.value)
            assert [(utc(row[0]), row[1]) for row in log.buffer] == [(down, 1), (up, 2)]  # power down, power up
            assert peer.read(GXDLMSData("0.0.96.11.0.255"), 2) == 2  # the standard event code: power up last
        finally:
            peer.release()
            peer.pipe.close()
        status, other = c.api("GET", "/api/meters/00000002/events")
        assert status == 200 and other["events"] == []  # the other meter had none


def test_the_end_of_an_injected_power_failure_pushes_power_up_and_its_alarm(tmp_path: Path) -> None:
    profile = f"""
time: {{start: {START.strftime('%Y-%m-%dT%H:%M:%SZ')}, history: 2d}}
groups:
  - name: m
    model: {quiet_alarm(tmp_path)}
    count: 1
    push: {{destination: "127.0.0.1:{{port}}"}}
    listen:
      - {{transport: tcp, host: 127.0.0.1, port: 0}}
"""
    with NotificationReceiver() as receiver:
        with controlled(profile.replace("{port}", str(receiver.port)), tmp_path) as c:
            receiver.wait(lambda got: pushes_of(got, POWER_UP_PUSH), "the power-up push at the start")
            status, kept = c.api("POST", f"/api/meters/{SERIAL}/events", {"kind": "power-failure", "duration_s": 60})
            assert status == 201, kept
            restored = iso(kept["end"])
            c.api("PUT", "/api/time", {"jump_s": 61})
            got = receiver.wait(lambda got: len(pushes_of(got, POWER_UP_PUSH)) >= 2 and pushes_of(got, ALARM_PUSH),
                                "the power-up and alarm pushes at the failure's end")
    at_start, after = pushes_of(got, POWER_UP_PUSH)[:2]
    assert at_start.at < restored <= after.at
    [alarm] = pushes_of(got, ALARM_PUSH)
    assert restored <= alarm.at and alarm.values[2] == POWER_UP_BIT


# --------------------------------------------------------------------------- tamper, alarms

@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_a_tamper_event_raises_the_fraud_bit_and_the_alarm_push_arrives(tmp_path: Path, receiver: Receiver) -> None:
    with controlled(poly_profile(tmp_path, receiver.port), tmp_path) as c:
        status, kept = c.api("POST", f"/api/meters/{SERIAL}/events", {"kind": "cover-open", "duration_s": 60})
        assert status == 201, kept
        _, raw = receiver.get()
        peer = c.peer()
        try:
            assert peer.read(GXDLMSData("0.0.97.98.0.255"), 2) & FRAUD_BIT
            assert peer.read(GXDLMSData("0.0.96.11.1.255"), 2) == 44  # meter cover removed
        finally:
            peer.release()
            peer.pipe.close()
    values = opened(raw).value  # the demo's alarm push, ciphered: deciphered by gurux-dlms
    assert bytes(values[0]) == bytes((0, 0, 25, 9, 0, 255))
    assert values[3] & FRAUD_BIT  # alarm register 1, as pushed


def test_injected_alarm_bits_show_in_alarm_register_2(tmp_path: Path, receiver: Receiver) -> None:
    with controlled(poly_profile(tmp_path, receiver.port), tmp_path) as c:
        status, kept = c.api("POST", f"/api/meters/{SERIAL}/events", {"kind": "alarm", "register": 2, "bits": 0b101})
        assert status == 201 and (kept["register"], kept["bits"]) == (2, 0b101), kept
        _, raw = receiver.get()
        peer = c.peer()
        try:
            assert peer.read(GXDLMSData("0.0.97.98.1.255"), 2) == 0b101
        finally:
            peer.release()
            peer.pipe.close()
    assert opened(raw).value[4] == 0b101  # alarm register 2, as pushed


def test_injected_events_survive_a_restart_with_a_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with controlled(poly_profile(tmp_path), tmp_path, state) as c:
        status, kept = c.api("POST", f"/api/meters/{SERIAL}/events",
                             {"kind": "voltage-swell", "phase": 3, "duration_s": 5})
        assert status == 201, kept
    with controlled(poly_profile(tmp_path), tmp_path, state) as c:
        status, listed = c.api("GET", f"/api/meters/{SERIAL}/events")
        assert status == 200
        assert listed["events"] == [{k: v for k, v in kept.items() if k != "serial"}]
        peer = c.peer()
        try:
            assert peer.read(GXDLMSData("1.0.72.36.0.255"), 2) == 1  # swells on L3
            assert peer.read(GXDLMSData("0.0.97.98.1.255"), 2) == 1 << 5  # alarm register 2: swell L3
        finally:
            peer.release()
            peer.pipe.close()


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "power-failure"}, "duration_s"), ({"kind": "power-failure", "duration_s": 0}, "duration_s"),
    ({"kind": "power-failure", "duration_s": "300"}, "duration_s"), ({"kind": "flood", "duration_s": 1}, "kind"),
    ({"kind": "voltage-sag", "duration_s": 5}, "phase"), ({"kind": "voltage-sag", "phase": 4, "duration_s": 5}, "phase"),
    ({"kind": "alarm", "register": 3, "bits": 1}, "register"), ({"kind": "alarm", "register": 1, "bits": 0}, "bits"),
    ({"kind": "alarm", "register": 1, "bits": 1, "duration_s": 5}, "duration_s"),
    ({"kind": "cover-open", "duration_s": 5, "colour": "red"}, "colour"), ([1, 2], "body"),
])
def test_what_does_not_fit_is_refused_naming_the_field(tmp_path: Path, body: Any, field: str) -> None:
    with controlled(poly_profile(tmp_path), tmp_path) as c:
        status, answer = c.api("POST", f"/api/meters/{SERIAL}/events", body)
        assert status == 400 and field in answer["error"], answer
        assert c.api("GET", f"/api/meters/{SERIAL}/events")[1]["events"] == []
        status, answer = c.api("POST", "/api/meters/99999999/events", {"kind": "cover-open", "duration_s": 5})
        assert status == 404 and "99999999" in answer["error"]


def test_a_static_meter_has_no_events_to_inject_into(tmp_path: Path) -> None:
    (tmp_path / "plain.yaml").write_text(PLAIN_MODEL, encoding="utf-8")
    profile = """
groups:
  - name: plain
    model: plain.yaml
    count: 1
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
"""
    with controlled(profile, tmp_path) as c:
        status, answer = c.api("POST", f"/api/meters/{SERIAL}/events", {"kind": "alarm", "register": 1, "bits": 1})
        assert status == 409 and "living" in answer["error"], answer
