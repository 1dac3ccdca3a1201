"""The control plane checked from outside, as a test rig uses it: what a malformed or unusual
request does (a 4xx naming it, never a 500, and the plane keeps answering), and what the metrics
count when a dlms-cosem client's ciphered AARQ is refused (a replayed invocation counter, a
wrong key)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import aiohttp
import pytest
from dlms_cosem.exceptions import DlmsClientException
from prometheus_client.parser import text_string_to_metric_families

from ..runtime.peers import CLOCK, dlms_client, read, wrapper_transport
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
