"""Faults through the control plane's HTTP API, seen by independent clients over real sockets.

POST /api/meters/{serial}/faults and /api/groups/{name}/faults add a fault, GET lists what is
active, DELETE clears: a 300 ms delay shows in a gurux-dlms client's measured latency, a refusal
fails a dlms-cosem AARQ with the diagnostic named, a group's fault reaches each of its meters, a
reboot ends the connection and is not kept; bodies that name no fault are answered 400 saying why.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Iterator

import pytest
from dlms_cosem.exceptions import DlmsClientException
from gurux_dlms import GXDLMSException
from gurux_dlms.enums import SourceDiagnostic

from simulator.runtime.faults import Fault

from ..runtime.peers import GuruxPeer, SocketPipe, clock, dlms_client, gurux_client, wrapper_transport
from .test_api_meters import FIRST, Api, profile, running

SECOND = "00000002"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running(tmp_path, profile()) as running_api:
        yield running_api


def peer(api: Api, meter: int = 0) -> GuruxPeer:
    return GuruxPeer(SocketPipe("127.0.0.1", api.fleet.port("tcp", meter)), gurux_client(2))


def latency(client: GuruxPeer) -> float:
    start = time.monotonic()
    client.read(clock(), 2)
    return time.monotonic() - start


def test_a_300_ms_delay_shows_in_a_gurux_clients_latency_and_delete_clears_it(api: Api) -> None:
    client = peer(api)
    client.connect()
    try:
        plain = latency(client)
        status, body, _ = api.call("POST", f"/api/meters/{FIRST}/faults", {"kind": "delay", "ms": 300})
        assert status == 200 and body == {"serial": FIRST, "faults": [{"kind": "delay", "ms": 300, "jitter_ms": 0}]}
        assert api.get(f"/api/meters/{FIRST}")[1]["faults"] == body["faults"]
        delayed = latency(client)
        status, body, _ = api.call("DELETE", f"/api/meters/{FIRST}/faults")
        assert status == 200 and body == {"serial": FIRST, "cleared": 1, "faults": []}
        after = latency(client)
    finally:
        client.pipe.close()
    assert delayed >= 0.3, delayed
    assert plain < 0.3 and after < 0.3, (plain, after)
    assert api.get(f"/api/meters/{FIRST}/faults") == (200, {"serial": FIRST, "faults": []})


def test_a_refuse_fault_fails_a_dlms_cosem_aarq_with_the_configured_diagnostic(api: Api) -> None:
    status, _, _ = api.call("POST", f"/api/meters/{FIRST}/faults",
                            {"kind": "refuse", "diagnostic": "authentication-failure"})
    assert status == 200
    client = dlms_client(wrapper_transport(api.fleet.port("tcp"), 16), 16)
    with pytest.raises(DlmsClientException) as refused:
        with client.session():
            pass
    # dlms-cosem says what the AARE it read holds: rejected-permanent, acse-service-user 13
    assert "REJECTED_PERMANENT" in str(refused.value) and "AUTHENTICATION_FAILED: 13" in str(refused.value)
    gurux = peer(api)
    try:
        with pytest.raises(GXDLMSException) as rejected:
            gurux.connect()
    finally:
        gurux.pipe.close()
    assert rejected.value.diagnostic == SourceDiagnostic.AUTHENTICATION_FAILURE


def test_a_group_fault_applies_to_its_meters_until_deleted(api: Api) -> None:
    status, body, _ = api.call("POST", "/api/groups/electricity/faults", {"kind": "drop"})
    assert status == 200 and body == {"group": "electricity", "faults": [{"kind": "drop", "ratio": 1.0}]}
    assert api.get(f"/api/meters/{SECOND}/faults")[1]["faults"] == [{"kind": "drop", "ratio": 1.0}]
    assert api.get("/api/meters/00000004/faults")[1]["faults"] == [], "the group 'small' has none"
    for meter in (0, 1):
        client = peer(api, meter)
        client.pipe.sock.settimeout(0.5)  # type: ignore[attr-defined]
        try:
            with pytest.raises(socket.timeout):  # even the AARE is dropped
                client.connect()
        finally:
            client.pipe.close()
    status, body, _ = api.call("DELETE", "/api/groups/electricity/faults")
    assert status == 200 and body["cleared"] == 1 and body["faults"] == []
    client = peer(api, 1)
    try:
        assert client.session_read((clock(), 2))
    finally:
        client.pipe.close()


def test_a_reboot_ends_the_connection_and_is_not_kept(api: Api) -> None:
    client = peer(api)
    client.connect()
    try:
        status, body, _ = api.call("POST", f"/api/meters/{FIRST}/faults", {"kind": "reboot"})
        assert status == 200 and body == {"serial": FIRST, "rebooted": True, "faults": []}
        with pytest.raises((ConnectionError, OSError)):
            client.read(clock(), 2)
    finally:
        client.pipe.close()
    assert api.fleet.call(lambda: api.fleet.engine.entries[0].live.meter.restarts) == 1


def test_what_is_no_fault_or_no_target_is_refused_saying_why(api: Api) -> None:
    for body, words in (({"kind": "slow"}, "unknown fault kind 'slow'"), ({"kind": "drop", "ratio": 2}, "ratio"),
                        ({"kind": "refuse", "diagnostic": "because"}, "unknown diagnostic 'because'"),
                        ({"kind": "delay", "seconds": 3}, "unknown fault field seconds")):
        status, answer, _ = api.call("POST", f"/api/meters/{FIRST}/faults", body)
        assert status == 400 and words in answer["error"], answer
    status, answer, _ = api.call("POST", f"/api/meters/{FIRST}/faults", data="delay please")
    assert status == 400 and "not JSON" in answer["error"], answer
    status, answer, _ = api.call("POST", "/api/meters/99999999/faults", {"kind": "drop"})
    assert status == 404 and "99999999" in answer["error"], answer
    status, answer, _ = api.call("DELETE", "/api/groups/gas/faults")
    assert status == 404 and "electricity" in answer["error"], answer
    assert api.fleet.call(lambda: api.fleet.engine.faults.on) is False


def test_a_meters_own_fault_is_listed_before_its_groups(api: Api) -> None:
    api.call("POST", "/api/groups/electricity/faults", {"kind": "corrupt", "ratio": 0.5, "mode": "tag"})
    api.call("POST", f"/api/meters/{FIRST}/faults", {"kind": "close", "ratio": 0.1})
    status, body = api.get(f"/api/meters/{FIRST}/faults")
    assert status == 200 and [Fault.from_json(f) for f in body["faults"]] == [
        Fault("close", ratio=0.1), Fault("corrupt", ratio=0.5, mode="tag")]
    assert api.get("/api/groups/electricity/faults")[1]["faults"] == [{"kind": "corrupt", "ratio": 0.5, "mode": "tag"}]
