"""The control plane checked from outside, as a test rig uses it: what a malformed or unusual
request does (a 4xx naming it, never a 500, and the plane keeps answering), what the metrics
count when a dlms-cosem client's ciphered AARQ is refused (a replayed invocation counter, a
wrong key), and a ten-minute delay deleted while a gurux client waits for its answer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import aiohttp
import pytest
from dlms_cosem.exceptions import DlmsClientException
from gurux_dlms import GXReplyData
from prometheus_client.parser import text_string_to_metric_families

from simulator.runtime.faults import Delayed, Fault, FaultSet

from ..runtime.peers import CLOCK, GuruxPeer, SocketPipe, clock, dlms_client, gurux_client, read, wrapper_transport
from ..runtime.test_faults import FakeLoop, entries
from .test_api_meters import FIRST, Api, profile, running

CURRENT_ASSOCIATION = "0.0.40.0.0.255"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running(tmp_path, profile()) as running_api:
        yield running_api


def refusals(api: Api) -> dict[str, float]:
    async def scrape() -> str:
        async with aiohttp.ClientSession() as session:
            async with session.get(api.base + "/metrics") as response:
                return await response.text()
    return {s.labels["reason"]: s.value for family in text_string_to_metric_families(asyncio.run(scrape()))
            for s in family.samples if s.name == "cosem_refusals_total"}


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000,
                                  '{"value": ' + '{"type": "array", "value": [' * 3000 + "]}" * 3000 + "}"])
def test_a_body_nested_too_deeply_is_400_and_the_plane_answers_on(api: Api, body: str) -> None:
    status, answer, _ = api.call("PUT", f"/api/meters/{FIRST}/objects/1.0.0.2.0.255/2", data=body)
    assert status == 400 and "nest" in answer["error"], answer
    for path in (f"/api/meters/{FIRST}/faults", "/api/time"):
        status, answer, _ = api.call("POST" if "faults" in path else "PUT", path, data=body)
        assert status == 400 and "nest" in answer["error"], (path, answer)
    assert api.get(f"/api/meters/{FIRST}")[0] == 200


def test_a_write_the_meter_takes_but_cannot_read_back_here_answers_what_was_written(api: Api) -> None:
    # The current association's object_list is computed for the association reading it: the API
    # has none, so a GET is refused, yet a write passes the SET's checks.
    status, answer = api.get(f"/api/meters/{FIRST}/objects/{CURRENT_ASSOCIATION}/object_list")
    assert status == 422 and answer["result"] == "object-unavailable", answer
    status, answer = api.put(f"/api/meters/{FIRST}/objects/{CURRENT_ASSOCIATION}/object_list",
                             {"type": "array", "value": []})
    assert status == 200 and answer["result"] == "success", answer
    assert answer["value"] == {"type": "array", "value": []}
    assert read(wrapper_transport(api.fleet.port("tcp"), 16), 16, CLOCK)  # the meter serves on


def test_a_replayed_counter_in_a_ciphered_aarq_counts_as_a_counter_replay_refusal(api: Api) -> None:
    port = api.fleet.port("tcp")
    assert read(wrapper_transport(port, 1), 1, CLOCK, invocation_counter=500)
    assert refusals(api) == {}
    with pytest.raises(DlmsClientException, match="REJECTED_PERMANENT"):
        read(wrapper_transport(port, 1), 1, CLOCK, invocation_counter=500)  # not above the last one accepted
    assert refusals(api) == {"counter-replay": 1}


def test_a_ciphered_aarq_under_a_wrong_key_counts_as_a_deciphering_refusal(api: Api) -> None:
    client = dlms_client(wrapper_transport(api.fleet.port("tcp"), 1), 1)
    client.dlms_connection.global_encryption_key = bytes(16)  # not the meter's
    with pytest.raises(DlmsClientException, match="REJECTED_PERMANENT"):
        with client.session():
            pass
    assert refusals(api) == {"deciphering": 1}


def test_a_ten_minute_delay_deleted_lets_the_answer_a_gurux_client_waits_for_leave(api: Api) -> None:
    peer = GuruxPeer(SocketPipe("127.0.0.1", api.fleet.port("tcp")), gurux_client(2))
    try:
        peer.connect()
        status, _, _ = api.call("POST", f"/api/meters/{FIRST}/faults", {"kind": "delay", "ms": 600_000})
        assert status == 200
        peer.pipe.send(bytes(peer.client.read(clock(), 2)[0]))  # held back ten minutes
        status, body, _ = api.call("DELETE", f"/api/meters/{FIRST}/faults")
        assert status == 200 and body["cleared"] == 1
        reply = GXReplyData()
        peer.exchange(None, reply)  # the socket's 5 s timeout fails the test if it is still held
        assert not reply.error and reply.value is not None
        assert peer.read(clock(), 3) is not None, "the connection serves on without delay"
        peer.release()
    finally:
        peer.pipe.close()


def test_a_deleted_delay_frees_held_answers_but_never_hurries_a_delay_still_active() -> None:
    faults = FaultSet(entries())
    meter, other = faults._entries[:2]
    loop, sent = FakeLoop(), []
    delayed = Delayed(loop, sent.append)
    faults.add(meter, Fault("delay", ms=600_000))
    faults.add(other, Fault("delay", ms=200))
    delayed.send(b"held ten minutes", 600.0)
    delayed.send(b"behind it")
    loop.run_until(0.1)
    faults.clear(meter)  # a 200 ms delay stays active: nothing held leaves before 200 ms after it was queued
    loop.run_until(0.2)
    assert sent == []
    loop.run_until(0.202)
    assert sent == [b"held ten minutes", b"behind it"]
    delayed.send(b"again", 600.3)
    faults.clear(other)  # no delay left: at once
    assert sent[-1] == b"again"
