"""The meters API over real sockets: what the API writes a gurux-dlms client reads, what a DLMS SET
would refuse is refused and changes nothing, a write survives a restart, a method acts (a Push
setup's push reaches a head-end), the fleet lists with filters and paging, the bearer token,
and the answers to what does not exist or is not JSON. No answer holds a password or a key."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import aiohttp
import pytest
from gurux_dlms.objects import GXDLMSClock, GXDLMSRegister

from simulator.axdr import Obis
from simulator.control.plane import ControlPlane
from simulator.runtime.command import control_settings, relocate
from simulator.runtime.profile import ControlSettings, ProfileError, parse_profile

from ..runtime.harness import AK, EK, LLS_PASSWORD, RunningFleet
from .harness import serving
from ..runtime.peers import GuruxPeer, SocketPipe, gurux_client
from ..runtime.test_push import ALARM_PUSH, DEMO_FIELDS, Receiver, opened

FIRST = "00000001"
CLOCK, ENERGY = "0.0.1.0.0.255", "1.0.1.8.0.255"
TOKEN = "rig-token-7f3a"
ROOT = Path(__file__).resolve().parents[2]


def profile(push_port: int | None = None) -> str:
    push = f'    push: {{{ALARM_PUSH}: {{destination: "127.0.0.1:{push_port}", transport: udp}}}}\n' if push_port else ""
    return f"""
name: api
time: {{history: 2d}}
groups:
  - name: electricity
    model: idis_poly
    count: 3
{DEMO_FIELDS}    listen:
      - {{transport: tcp, host: 127.0.0.1, port: 0}}
      - {{transport: hdlc-tcp, host: 127.0.0.1, port: 0}}
{push}  - name: small
    model: minimal
    count: 2
    listen:
      - {{transport: tcp, host: 127.0.0.1, port: 0}}
"""


class Api:
    """A fleet with its control plane, on the fleet's loop; HTTP from the test's thread."""

    def __init__(self, fleet: RunningFleet, plane: ControlPlane) -> None:
        self.fleet = fleet
        self.plane = plane
        self.base = f"http://127.0.0.1:{plane.port}"

    def call(self, method: str, path: str, body: Any = None, data: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any, str]:
        async def call() -> tuple[int, Any, str]:
            async with aiohttp.ClientSession() as session:
                async with session.request(method, self.base + path, json=body, data=data,
                                           headers=headers) as response:
                    text = await response.text()
                    return response.status, await response.json(content_type=None), text
        return asyncio.run(call())

    def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        status, body, _ = self.call("GET", path, **kw)
        return status, body

    def put(self, path: str, value: Any) -> tuple[int, Any]:
        status, body, _ = self.call("PUT", path, {"value": value})
        return status, body

    def value(self, obis: str, attribute: str, serial: str = FIRST) -> Any:
        status, body = self.get(f"/api/meters/{serial}/objects/{obis}/{attribute}")
        assert status == 200, body
        return body["value"]

    def gurux(self, *objects: tuple[Any, int], client_sap: int = 2) -> list[Any]:
        peer = GuruxPeer(SocketPipe("127.0.0.1", self.fleet.port("tcp")), gurux_client(client_sap))
        try:
            return peer.session_read(*objects)
        finally:
            peer.pipe.close()


@contextlib.contextmanager
def running(directory: Path, text: str, token: str | None = None, state_dir: Path | None = None) -> Iterator[Api]:
    with serving(text, directory, state_dir, token) as (fleet, plane):
        yield Api(fleet, plane)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running(tmp_path, profile()) as running_api:
        yield running_api


# ---------------------------------------------------------------------------- writes
def test_a_value_put_through_the_api_is_what_a_gurux_client_reads(api: Api) -> None:
    (before,) = api.gurux((GXDLMSClock(CLOCK), 3))
    status, body = api.put(f"/api/meters/{FIRST}/objects/{CLOCK}/time_zone", 120)  # plain: the type is long
    assert status == 200 and body["value"] == {"type": "long", "value": 120}, body
    status, body = api.put(f"/api/meters/{FIRST}/objects/{ENERGY}/3",
                           {"type": "structure", "value": [{"type": "integer", "value": -1},
                                                           {"type": "enum", "value": 30}]})
    assert status == 200, body
    register = GXDLMSRegister(ENERGY)
    zone, _ = api.gurux((GXDLMSClock(CLOCK), 3), (register, 3))
    assert before != 120 and zone == 120
    assert register.scaler == 0.1  # gurux turns the scaler -1 into a factor
    assert api.value(CLOCK, "3") == {"type": "long", "value": 120}
    second = api.value(CLOCK, "time_zone", serial="00000002")
    assert second["value"] == before, "only the meter named changed"


def test_a_value_the_set_checks_refuse_is_refused_with_why_and_changes_nothing(api: Api) -> None:
    path = f"/api/meters/{FIRST}/objects/{CLOCK}/time_zone"
    held = api.value(CLOCK, "time_zone")
    status, body = api.put(path, 9999)  # a long, but no time zone: a SET answers other-reason
    assert status == 422 and body["result"] == "other-reason" and "time_zone" in body["error"], body
    status, body = api.put(path, {"type": "visible-string", "value": "CET"})  # the wrong type
    assert status == 422 and body["result"] == "type-unmatched", body
    status, body = api.put(path, "sixty")  # no long at all
    assert status == 400 and body["result"] == "type-unmatched" and "long" in body["error"], body
    status, body = api.put(path, {"type": "long", "value": 40000})  # outside a long's range
    assert status == 400 and "-32768..32767" in body["error"], body
    assert api.value(CLOCK, "time_zone") == held
    (zone,) = api.gurux((GXDLMSClock(CLOCK), 3))
    assert zone == held["value"]


def test_the_logical_name_is_never_written(api: Api) -> None:
    status, body = api.put(f"/api/meters/{FIRST}/objects/{CLOCK}/logical_name",
                           {"type": "octet-string", "value": "0000010001FF"})
    assert status == 422 and body["result"] == "read-write-denied" and "logical_name" in body["error"], body
    assert api.value(CLOCK, "logical_name") == {"type": "octet-string", "value": "0000010000FF", "obis": CLOCK}


def test_a_put_is_kept_across_an_engine_restart_with_a_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with running(tmp_path, profile(), state_dir=state) as api:
        status, body = api.put(f"/api/meters/00000002/objects/{CLOCK}/time_zone", -180)
        assert status == 200, body
    with running(tmp_path, profile(), state_dir=state) as api:
        assert api.value(CLOCK, "time_zone", serial="00000002") == {"type": "long", "value": -180}
        assert api.value(CLOCK, "time_zone")["value"] != -180


# ---------------------------------------------------------------------------- methods
def test_a_push_setup_push_called_through_the_api_reaches_the_head_end(tmp_path: Path) -> None:
    head_end = Receiver(udp=True)
    try:
        with running(tmp_path, profile(head_end.port)) as api:
            status, body = api.call("POST", f"/api/meters/{FIRST}/methods/{ALARM_PUSH}/push")[:2]
            assert status == 200 and body["result"] == "success", body
            _, raw = head_end.get()
    finally:
        head_end.close()
    reply = opened(raw)  # gurux-dlms opens it with the meter's keys
    assert reply.command == 0x0F and reply.cipheredCommand == 0xDB  # data-notification, general-glo-ciphering
    assert bytes(reply.value[0]) == bytes(Obis(ALARM_PUSH)) and bytes(reply.value[1]) == b"SIM00000001"


def test_a_register_reset_through_the_api_zeroes_it(api: Api) -> None:
    before = api.value(ENERGY, "value")["value"]
    status, body, _ = api.call("POST", f"/api/meters/{FIRST}/methods/{ENERGY}/reset", {"parameter": 0})
    assert status == 200 and body["returned"] is None, body
    after = api.value(ENERGY, "value")["value"]
    assert before > 1000 and after < before // 100  # from the history's energy to what a few seconds add
    status, body, _ = api.call("POST", f"/api/meters/{FIRST}/methods/{ENERGY}/reset", {"parameter": "zero"})
    assert status == 400 and body["result"] == "type-unmatched", body


# ---------------------------------------------------------------------------- the fleet
def test_the_fleet_lists_with_filters_and_paging(api: Api) -> None:
    status, body = api.get("/api/meters")
    assert status == 200 and body["total"] == 5
    assert [m["serial"] for m in body["meters"]] == ["00000001", "00000002", "00000003", "00000004", "00000005"]
    assert {m["state"] for m in body["meters"]} == {"idle"}
    status, body = api.get("/api/meters?offset=2&limit=2")
    assert body["total"] == 5 and [m["serial"] for m in body["meters"]] == ["00000003", "00000004"]
    status, body = api.get("/api/meters?group=small")
    assert [(m["serial"], m["model"]) for m in body["meters"]] == [("00000004", "minimal"), ("00000005", "minimal")]
    status, body = api.get("/api/meters?model=idis_poly&offset=1&limit=5")
    assert body["total"] == 3 and [m["serial"] for m in body["meters"]] == ["00000002", "00000003"]
    api.gurux((GXDLMSClock(CLOCK), 2))  # meter 1 is contacted, and its connection closed again
    status, body = api.get("/api/meters?state=live")
    assert body["total"] == 1 and body["meters"][0]["serial"] == FIRST
    assert api.get("/api/meters?state=idle")[1]["total"] == 4
    for query, named in (("state=asleep", "state"), ("limit=0", "limit"), ("offset=-1", "offset"),
                         ("group=nowhere", "group"), ("model=unknown", "model")):
        status, body = api.get(f"/api/meters?{query}")
        assert status == 400 and body["error"].startswith(named), body


def test_a_meter_shows_its_identity_addresses_and_the_associations_open(api: Api) -> None:
    peer = GuruxPeer(SocketPipe("127.0.0.1", api.fleet.port("tcp")), gurux_client(2))
    try:
        peer.connect()
        status, body = api.get(f"/api/meters/{FIRST}")
        peer.release()
    finally:
        peer.pipe.close()
    assert status == 200, body
    assert (body["serial"], body["group"], body["model"], body["index"]) == (FIRST, "electricity", "idis_poly", 0)
    assert body["system_title"] == "53494D0000000001" and body["logical_device_name"] == "SIM00000001"
    assert body["state"] == "connected" and body["connections"] == 1
    assert {"transport": "tcp", "host": "127.0.0.1", "port": api.fleet.port("tcp")} in body["addresses"]
    assert {"transport": "hdlc-tcp", "host": "127.0.0.1", "port": api.fleet.port("hdlc-tcp"),
            "physical_address": 17} in body["addresses"]
    assert [(a["server_sap"], a["client_sap"]) for a in body["associations"]] == [(1, 2)]
    assert body["last_activity"] is not None and body["faults"] == []
    status, body = api.get(f"/api/meters/{FIRST}")
    assert body["associations"] == [] and body["state"] == "live", "released, then closed"


def test_the_object_list_gives_classes_and_each_clients_access(api: Api) -> None:
    status, body = api.get(f"/api/meters/{FIRST}/objects")
    assert status == 200
    objects = {o["obis"]: o for d in body["logical_devices"] for o in d["objects"]}
    clock = objects[CLOCK]
    assert (clock["class_id"], clock["class"], clock["version"]) == (8, "Clock", 0)
    zone = next(a for a in clock["attributes"] if a["name"] == "time_zone")
    assert zone["index"] == 3 and zone["access"]["16"] in ("read-only", "read-and-write")
    assert objects["0.0.40.0.0.255"]["class_id"] == 15


# ---------------------------------------------------------------------------- secrets, errors
def test_no_answer_holds_a_password_or_a_key(api: Api) -> None:
    api.gurux((GXDLMSClock(CLOCK), 2))
    secrets = [LLS_PASSWORD.decode(), LLS_PASSWORD.hex().upper(), EK.hex().upper(), AK.hex().upper()]
    texts = []
    for path in (f"/api/meters/{FIRST}", f"/api/meters/{FIRST}/objects",
                 f"/api/meters/{FIRST}/objects/0.0.40.0.3.255/secret"):
        status, body, text = api.call("GET", path)
        assert status == 200, body
        texts.append(text)
    _, body, _ = api.call("GET", f"/api/meters/{FIRST}/objects/0.0.40.0.3.255/secret")
    assert body["value"] is None and "secret" in body["hidden"]
    assert not [s for s in secrets for text in texts if s in text]


def test_a_token_is_required_when_set_and_never_echoed(tmp_path: Path) -> None:
    with running(tmp_path, profile(), token=TOKEN) as api:
        status, body, text = api.call("GET", "/api/meters")
        assert status == 401 and "bearer token" in body["error"] and TOKEN not in text
        status, body, text = api.call("GET", "/api/meters", headers={"Authorization": f"Bearer {TOKEN}x"})
        assert status == 401 and TOKEN not in text
        status, body, text = api.call("GET", "/api/meters", headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and body["total"] == 5 and TOKEN not in text


def test_what_does_not_exist_is_404_and_what_is_not_json_400(api: Api) -> None:
    for path, named in (("/api/meters/99999999", "99999999"),
                        ("/api/meters/99999999/objects", "99999999"),
                        (f"/api/meters/{FIRST}/objects/1.2.3.4.5.6/2", "1.2.3.4.5.6"),
                        (f"/api/meters/{FIRST}/objects/{CLOCK}/42", "no attribute '42'"),
                        (f"/api/meters/{FIRST}/objects/{CLOCK}/daylight", "no attribute 'daylight'")):
        status, body = api.get(path)
        assert status == 404 and named in body["error"], (path, body)
    status, body, _ = api.call("POST", f"/api/meters/{FIRST}/methods/{CLOCK}/17")
    assert status == 404 and "no method '17'" in body["error"]
    status, body, _ = api.call("PUT", f"/api/meters/{FIRST}/objects/{CLOCK}/time_zone", data='{"value": 60')
    assert status == 400 and "not JSON" in body["error"]
    status, body, _ = api.call("PUT", f"/api/meters/{FIRST}/objects/{CLOCK}/time_zone", data="[60]")
    assert status == 400 and '{"value": ...}' in body["error"]
    status, body = api.get(f"/api/meters/{FIRST}/objects/not-obis/2")
    assert status == 400 and "OBIS" in body["error"]
    status, body = api.get(f"/api/meters/{FIRST}/objects/{CLOCK}/2?ld=9")
    assert status == 404 and "no logical device '9'" in body["error"]
    status, body = api.get(f"/api/meters/{FIRST}/objects/{CLOCK}/2?ld=1")
    assert status == 200 and body["server_sap"] == 1


# ---------------------------------------------------------------------------- the profile, run --control
CONTROLLED = """
name: cli
control: {host: 127.0.0.1, port: 0, token: %s}
groups:
  - name: e
    model: minimal
    count: 2
    listen: [{transport: tcp, host: 127.0.0.1, port: 0}]
"""


def test_the_profile_control_key_is_read_and_checked_with_file_and_line() -> None:
    control = parse_profile(CONTROLLED % TOKEN, "p.yaml").control
    assert control is not None and (control.host, control.port, control.token) == ("127.0.0.1", 0, TOKEN)
    assert TOKEN not in repr(control)
    assert parse_profile((CONTROLLED % TOKEN).replace("control:", "x-control:"), "p.yaml").control is None
    for bad, message in (("{host: localhost}", "p.yaml:3: host: expected an IP address"),
                         ("{port: 70000}", "p.yaml:3: port: expected an integer in 0..65535"),
                         ("{prot: 8059}", "p.yaml:3: unknown key 'prot' in control (did you mean 'port'?)"),
                         ("8059", "p.yaml:3: control: expected a mapping")):
        with pytest.raises(ProfileError) as caught:
            parse_profile(CONTROLLED.replace("{host: 127.0.0.1, port: 0, token: %s}", bad), "p.yaml")
        assert any(line.startswith(message) for line in caught.value.lines()), caught.value.lines()


def test_run_control_serves_the_api_beside_the_meters(tmp_path: Path) -> None:
    path = tmp_path / "cli.yaml"
    path.write_text(CONTROLLED % TOKEN)
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "run", str(path), "--no-state",
                             "--control", "127.0.0.1:0"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = ""
        while (found := re.search(r"control plane: (http://127\.0\.0\.1:\d+/) .*bearer token", banner)) is None:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "no banner"
            banner += line
        assert TOKEN not in banner

        async def meters() -> tuple[int, Any]:
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:
                async with session.get(found.group(1) + "api/meters?group=e") as response:
                    return response.status, await response.json()
        status, body = asyncio.run(meters())
        assert status == 200 and [m["serial"] for m in body["meters"]] == ["00000001", "00000002"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert TOKEN not in err


def test_run_control_and_port_offset_move_the_control_plane() -> None:
    base = parse_profile(CONTROLLED.replace("port: 0, token: %s", "port: 8059"), "p.yaml")
    assert relocate(base, None, 1000).control == ControlSettings("127.0.0.1", 9059, None, 3)
    assert control_settings("127.0.0.2:0", base.control) == ControlSettings("127.0.0.2", 0, None, 3)
    with pytest.raises(ProfileError) as caught:
        control_settings("127.0.0.1", None)
    assert "expected HOST:PORT like 127.0.0.1:8059" in caught.value.lines()[0]
    with pytest.raises(ProfileError) as caught:
        relocate(base, None, 60000)
    assert any("control: --port-offset 60000 moves port 8059 to 68059" in line for line in caught.value.lines())
