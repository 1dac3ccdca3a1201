"""`cosem-sim ctl` against a running fleet's control plane (127.0.0.1, port 0): each verb reaches
the meter, what it did is seen by an independent DLMS client (dlms-cosem) over a real socket, and
failures are one line with exit status 1 (the API said no) or 2 (not sent)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from dlms_cosem import cosem, enumerations
from dlms_cosem.exceptions import DlmsClientException

from simulator.cli import main
from simulator.control import ctl
from simulator.control.ctl import parse_value, value_text
from simulator.control.plane import ControlPlane

from ..runtime.harness import RunningFleet
from .harness import serving
from ..runtime.peers import LDN, read, wrapper_transport

PROFILE = """
name: ctl
time: {history: 1d}   # living meters with a day behind them, as the demo's
groups:
  - name: electricity
    model: idis_poly
    count: 2
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
  - name: gas
    model: gas
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
"""
DISCONNECTOR_STATE = cosem.CosemAttribute(interface=enumerations.CosemInterface.DISCONNECT_CONTROL,
                                          instance=cosem.Obis(0, 0, 96, 3, 10, 255), attribute=3)
FIRMWARE = cosem.CosemAttribute(interface=enumerations.CosemInterface.DATA,
                                instance=cosem.Obis(1, 0, 0, 2, 0, 255), attribute=2)
TOKEN = "rig-token-5f1c"
ROOT = Path(__file__).resolve().parents[2]


class Running:
    """A fleet with its control plane; `ctl(...)` runs `cosem-sim ctl --url <plane> ...` in-process."""

    def __init__(self, fleet: RunningFleet, plane: ControlPlane, capsys: pytest.CaptureFixture[str]) -> None:
        self.fleet = fleet
        self.plane = plane
        self.capsys = capsys

    @property
    def url(self) -> str:
        return self.plane.url.rstrip("/")

    def ctl(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        status = main(["ctl", "--url", self.url, *argv])
        out, err = self.capsys.readouterr()
        return status, out, err

    def json(self, *argv: str) -> Any:
        status, out, err = self.ctl("--json", *argv)
        assert status == 0, err
        return json.loads(out)


@pytest.fixture
def running(tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> Iterator[Running]:
    token = getattr(request, "param", None)
    with serving(PROFILE, tmp_path, tmp_path / "state", token) as (fleet, plane):
        yield Running(fleet, plane, capsys)


def test_meters_lists_the_fleet_and_filters_by_group(running: Running) -> None:
    status, out, _ = running.ctl("meters")
    assert status == 0
    for serial in ("00000001", "00000002", "00000003"):
        assert serial in out
    assert "gas" in out and "electricity" in out
    assert out.rstrip().endswith("3 meters")
    gas = running.json("meters", "--group", "gas")
    assert [m["serial"] for m in gas] == ["00000003"]


def test_meters_follows_the_pages_and_filters_by_state(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctl, "_PAGE", 2)  # three meters: two pages
    assert [m["serial"] for m in running.json("meters")] == ["00000001", "00000002", "00000003"]
    read(wrapper_transport(running.fleet.port("tcp", 1), 16), 16, LDN)  # builds meter 00000002
    assert [m["serial"] for m in running.json("meters", "--state", "idle")] == ["00000001", "00000003"]


def test_show_names_the_meter(running: Running) -> None:
    status, out, _ = running.ctl("show", "00000002")
    assert status == 0
    assert "00000002" in out and "electricity" in out
    assert running.json("show", "00000002")["serial"] == "00000002"


def test_set_is_read_back_by_a_dlms_client_and_by_get(running: Running) -> None:
    value = json.dumps({"type": "octet-string", "value": b"CTL-1.2".hex()})
    status, _, err = running.ctl("set", "00000001", "1.0.0.2.0.255", "2", value)
    assert status == 0, err
    (read_back,) = read(wrapper_transport(running.fleet.port("tcp", 0), 16), 16, FIRMWARE)
    assert read_back == bytes((0x09, 7)) + b"CTL-1.2"
    status, out, _ = running.ctl("get", "00000001", "1.0.0.2.0.255", "2")
    assert status == 0
    assert out == "octet-string 43 54 4C 2D 31 2E 32\n"  # as `cosem-sim decode` writes Data
    # the other meter kept its own
    (other,) = read(wrapper_transport(running.fleet.port("tcp", 1), 16), 16, FIRMWARE)
    assert other != read_back


def test_call_runs_a_method_a_dlms_client_sees_the_effect_of(running: Running) -> None:
    port = running.fleet.port("tcp", 0)
    assert read(wrapper_transport(port, 2), 2, DISCONNECTOR_STATE) == [bytes((0x16, 1))]  # connected
    status, out, err = running.ctl("call", "00000001", "0.0.96.3.10.255", "remote_disconnect", "0")
    assert status == 0, err
    assert out == "0.0.96.3.10.255 method remote_disconnect: success\n"
    assert read(wrapper_transport(port, 2), 2, DISCONNECTOR_STATE) == [bytes((0x16, 0))]  # disconnected
    status, _, err = running.ctl("call", "00000001", "0.0.96.3.10.255", "9")
    assert status == 1 and "9" in err and err.count("\n") == 1


def test_a_write_the_meter_refuses_is_one_line_and_status_1(running: Running) -> None:
    status, out, err = running.ctl("set", "00000001", "0.0.1.0.0.255", "3", '"not a deviation"')
    assert status == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("cosem-sim ctl: PUT /api/meters/00000001/objects/")


def test_an_unknown_meter_is_named_with_status_1(running: Running) -> None:
    status, out, err = running.ctl("show", "99999999")
    assert (status, out) == (1, "")
    assert err.count("\n") == 1 and "404" in err and "99999999" in err


def test_no_control_plane_is_status_2(running: Running, capsys: pytest.CaptureFixture[str]) -> None:
    url = running.url
    running.fleet.run(running.plane.stop())
    status = main(["ctl", "--url", url, "meters"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and f"cannot reach the control plane at {url}" in err


def test_a_usage_error_is_status_2(running: Running) -> None:
    with pytest.raises(SystemExit) as exit:
        running.ctl("fault", "00000001", "melt")
    assert exit.value.code == 2
    status, _, err = running.ctl("fault", "00000001", "delay")
    assert status == 2 and err == ("cosem-sim ctl: fault: delay needs MS, the milliseconds added to each answer: "
                                   "fault SERIAL delay 300\n")
    assert running.json("show", "00000001")["faults"] == []  # nothing was sent


@pytest.mark.parametrize("running", [TOKEN], indirect=True)
def test_the_token_comes_from_the_option_or_the_environment_and_is_never_printed(
        running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COSEM_SIM_TOKEN", raising=False)
    status, out, err = running.ctl("meters")
    assert status == 2 and out == ""
    assert "401" in err and "--token" in err
    status, out, err = running.ctl("--token", "wrong", "meters")
    assert status == 2 and "wrong" not in err.replace("is wrong", "") and TOKEN not in err
    status, out, _ = running.ctl("--token", TOKEN, "meters")
    assert status == 0 and "00000001" in out and TOKEN not in out
    monkeypatch.setenv("COSEM_SIM_TOKEN", TOKEN)
    status, out, _ = running.ctl("show", "00000001")
    assert status == 0 and TOKEN not in out


def test_a_refuse_fault_fails_a_dlms_association_until_unfault(running: Running) -> None:
    port = running.fleet.port("tcp", 0)
    status, _, err = running.ctl("fault", "00000001", "refuse", "--diagnostic", "authentication-failure")
    assert status == 0, err
    shown = running.json("show", "00000001")
    assert [(f["kind"], f["diagnostic"]) for f in shown["faults"]] == [("refuse", "authentication-failure")]
    with pytest.raises(DlmsClientException, match="REJECTED_PERMANENT.*AUTHENTICATION_FAILED"):
        read(wrapper_transport(port, 16), 16, LDN)
    # the other meter is not touched
    assert read(wrapper_transport(running.fleet.port("tcp", 1), 16), 16, LDN)
    status, _, err = running.ctl("unfault", "00000001")
    assert status == 0, err
    assert running.json("show", "00000001")["faults"] == []
    assert read(wrapper_transport(port, 16), 16, LDN) == [bytes((0x09, 11)) + b"SIM00000001"]


def test_time_pause_jump_and_resume(running: Running) -> None:
    before = running.json("time")
    paused = running.json("time", "--pause")
    assert paused["paused"] is True
    jumped = running.json("time", "--jump", "3600")
    assert jumped["epoch"] - paused["epoch"] >= 3600 and jumped["epoch"] >= before["epoch"] + 3600
    assert running.json("time")["epoch"] == jumped["epoch"]  # paused: the fleet's clock stands still
    status, out, _ = running.ctl("time", "--resume", "--rate", "2")
    assert status == 0 and "rate: 2" in out and "paused: no" in out


def test_an_injected_power_failure_is_counted_by_the_meter(running: Running) -> None:
    failures = "0.0.96.7.21.255"
    before = running.json("get", "00000001", failures, "2")["value"]["value"]
    status, _, err = running.ctl("event", "00000001", "power-failure", "60")
    assert status == 0, err
    after = running.json("get", "00000001", failures, "2")["value"]["value"]
    assert after == before + 1
    assert running.json("get", "00000002", failures, "2")["value"]["value"] == before


def test_trace_shows_the_frames_a_client_sent(running: Running) -> None:
    read(wrapper_transport(running.fleet.port("tcp", 0), 16), 16, LDN)
    status, out, _ = running.ctl("trace", "00000001")
    assert status == 0
    assert "aarq" in out.lower() and "get-request" in out.lower()
    assert "SIM00000001".encode().hex() in out.replace(" ", "").lower()


def test_trace_follow_prints_frames_as_they_cross_the_wire(running: Running) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    follow = subprocess.Popen([sys.executable, "-m", "simulator.cli", "ctl", "--url", running.url, "trace",
                               "00000001", "--follow", "--json"], stdout=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in follow.stdout or ()], daemon=True).start()
    try:
        port = running.fleet.port("tcp", 0)
        # the stream begins when the subprocess has subscribed: associate until a frame arrives
        for _ in range(40):
            assert follow.poll() is None, "ctl trace --follow ended"
            read(wrapper_transport(port, 16), 16, LDN)
            try:
                first = lines.get(timeout=0.25)
                break
            except queue.Empty:
                continue
        else:
            pytest.fail("no frame followed")
        frame = bytes.fromhex(json.loads(first)["hex"].replace(" ", ""))
        assert frame[:2] == b"\x00\x01"  # a TCP wrapper frame (version 1) of meter 00000001's port
    finally:
        follow.terminate()
        follow.wait(5)


def test_values_given_as_json_or_plain_text() -> None:
    assert parse_value("10") == 10
    assert parse_value('{"type": "long-unsigned", "value": 10}') == {"type": "long-unsigned", "value": 10}
    assert parse_value("ABC") == "ABC"
    assert value_text({"type": "structure", "value": [{"type": "unsigned", "value": 1},
                                                      {"type": "array", "value": []}]}) == \
        ["structure[2]", "  unsigned 1", "  array[0]"]
    assert value_text({"type": "octet-string", "value": "0100010800FF", "obis": "1.0.1.8.0.255"}) == \
        ["octet-string 0100010800FF (1.0.1.8.0.255)"]
