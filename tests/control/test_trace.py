"""The control plane's trace over real sockets: what gurux-dlms and dlms-cosem clients send shows
in `GET /api/meters/{serial}/trace` and in the `/api/trace/stream` events, as hex that
`simulator.decode` reads, with the LLS password masked as `--trace` masks it."""

from __future__ import annotations

from datetime import datetime

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import aiohttp
import pytest
from gurux_dlms.objects import GXDLMSAssociationLogicalName, GXDLMSClock

from simulator.control.plane import ControlPlane
from simulator.control.traces import RING_OCTETS, RING_SIZE, TraceRings
from simulator.decode import decode

from ..runtime.harness import AK, EK, LLS_PASSWORD, RunningFleet
from .harness import serving
from ..runtime.peers import (
    CLOCK, GuruxPeer, SocketPipe, dlms_client, gurux_client, hdlc_tcp_transport, wrapper_transport,
)

PROFILE = """
name: traced
groups:
  - name: electricity
    model: idis_poly
    count: 2
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
      - {transport: udp, host: 127.0.0.1, port: 0}
      - {transport: hdlc-tcp, host: 127.0.0.1, port: 0}
"""
FIRST, SECOND = "00000001", "00000002"


class Controlled:
    def __init__(self, fleet: RunningFleet, plane: ControlPlane) -> None:
        self.fleet = fleet
        self.plane = plane
        self.base = f"http://127.0.0.1:{plane.port}"

    def get(self, path: str) -> tuple[int, Any]:
        async def get() -> tuple[int, Any]:
            async with aiohttp.ClientSession() as session:
                async with session.get(self.base + path) as response:
                    return response.status, await response.json()
        return asyncio.run(get())

    def trace(self, serial: str = FIRST) -> list[dict[str, Any]]:
        status, body = self.get(f"/api/meters/{serial}/trace")
        assert status == 200, body
        return body


@pytest.fixture
def controlled(tmp_path: Path) -> Iterator[Controlled]:
    with serving(PROFILE, tmp_path) as (fleet, plane):
        yield Controlled(fleet, plane)


def _gurux_session(port: int, client_sap: int, hdlc: bool = False) -> None:
    peer = GuruxPeer(SocketPipe("127.0.0.1", port), gurux_client(client_sap, 0x4011 if hdlc else 1, hdlc=hdlc))
    try:
        peer.session_read((GXDLMSClock("0.0.1.0.0.255"), 2))
    finally:
        peer.pipe.close()


def test_the_trace_shows_what_a_gurux_client_sent_in_hex_that_decodes(controlled: Controlled) -> None:
    _gurux_session(controlled.fleet.port("tcp"), 2)  # LLS: the AARQ carries the password
    entries = controlled.trace()
    assert [(e["direction"], _kind(e)) for e in entries] == [
        ("in", "aarq"), ("out", "aare"), ("in", "get-request-normal"), ("out", "get-response-normal"),
        ("in", "rlrq"), ("out", "rlre")]
    for entry in entries:
        assert entry["transport"] == "tcp" and entry["serial"] == FIRST
        assert entry["peer"].startswith("127.0.0.1:") and entry["local"].endswith(f":{controlled.fleet.port('tcp')}")
        assert (entry["client_sap"], entry["server_sap"]) == (2, 1)
        shown = bytes.fromhex(entry["hex"])
        decoded = decode(shown)  # the hex is a whole wrapper frame, as `cosem-sim decode` takes it
        assert decoded.input == "wrapper" and _kind(entry).upper() in decoded.to_text().upper()
        assert entry["time"].endswith("Z") and entry["text"]
    aarq = entries[0]
    assert LLS_PASSWORD.hex().upper() not in aarq["hex"] and LLS_PASSWORD.decode() not in json.dumps(entries)
    assert "2A" * len(LLS_PASSWORD) in aarq["hex"] and "secret octets shown as 2A" in aarq["note"]
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert controlled.trace(SECOND) == []  # the other meter saw nothing


def test_ciphered_apdus_are_opened_with_the_meters_keys_which_never_show(controlled: Controlled) -> None:
    with dlms_client(wrapper_transport(controlled.fleet.port("tcp"), 1), 1).session() as session:  # HLS-GMAC
        session.get(CLOCK)
    entries = controlled.trace()
    assert [_kind(e) for e in entries] == ["aarq", "aare"] + ["general-glo-ciphering"] * 4 + ["rlrq", "rlre"]
    get, answer = entries[4], entries[5]
    assert "(deciphered)" in get["text"] and "get-request-normal" in get["text"]
    assert "get-response-normal" in answer["text"] and "class-id: 8 (Clock)" in get["text"]
    shown = json.dumps(entries).upper()
    assert EK.hex().upper() not in shown and AK.hex().upper() not in shown
    assert "secret octets shown as 2A" in entries[0]["note"]  # the AARQ's HLS challenge, as --trace shows it


def test_hdlc_frames_are_traced_whole_with_the_link_frames(controlled: Controlled) -> None:
    _gurux_session(controlled.fleet.port("hdlc-tcp"), 2, hdlc=True)
    entries = controlled.trace()
    assert LLS_PASSWORD.hex().upper() not in "".join(e["hex"] for e in entries)
    assert [e["note"] for e in entries if e["note"] and "secret" in e["note"]] == [
        "8 secret octets shown as 2A, FCS recomputed"]
    kinds = [(e["direction"], e["transport"], _kind(e) if e["tree"] else None) for e in entries]
    assert kinds[:2] == [("in", "hdlc-tcp", None), ("out", "hdlc-tcp", None)]  # SNRM, UA: no APDU
    assert ("in", "hdlc-tcp", "aarq") in kinds and ("out", "hdlc-tcp", "get-response-normal") in kinds
    for entry in entries:
        assert decode(bytes.fromhex(entry["hex"])).input == "hdlc"  # masked frames too: the FCS holds


def test_an_apdu_in_hdlc_segments_is_decoded_with_its_last_segment(controlled: Controlled) -> None:
    peer = GuruxPeer(SocketPipe("127.0.0.1", controlled.fleet.port("hdlc-tcp")), gurux_client(16, 0x4011, hdlc=True))
    try:
        peer.session_read((GXDLMSAssociationLogicalName("0.0.40.0.0.255"), 2))  # the object list: many frames
    finally:
        peer.pipe.close()
    entries = controlled.trace()
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)  # as they crossed
    segments = [e for e in entries if e["note"] and "the APDU is decoded with its last segment" in e["note"]]
    assert segments and all(e["direction"] == "out" and e["text"] is None for e in segments)
    last = next(e for e in entries if e["seq"] > segments[-1]["seq"] and e["direction"] == "out")
    assert _kind(last) == "get-response-normal" and "segment" not in (last["note"] or "")  # carries the APDU
    between = [e["note"] for e in entries if segments[0]["seq"] < e["seq"] < last["seq"] and e["direction"] == "in"]
    assert between and set(between) == {"RR"}  # the client's receive-ready after each segment, in its place


def test_udp_datagrams_are_traced_by_peer(controlled: Controlled) -> None:
    port = controlled.fleet.port("udp")
    for _ in range(2):  # two clients: two peers on the one UDP socket
        peer = GuruxPeer(SocketPipe("127.0.0.1", port, udp=True), gurux_client(16))
        try:
            peer.session_read((GXDLMSClock("0.0.1.0.0.255"), 2))
        finally:
            peer.pipe.close()
    entries = controlled.trace()
    assert {e["transport"] for e in entries} == {"udp"} and len({e["peer"] for e in entries}) == 2
    assert [_kind(e) for e in entries] == ["aarq", "aare", "get-request-normal", "get-response-normal",
                                           "rlrq", "rlre"] * 2


def test_limit_and_unknown_meters(controlled: Controlled) -> None:
    _gurux_session(controlled.fleet.port("tcp"), 16)
    status, last = controlled.get(f"/api/meters/{FIRST}/trace?limit=2")
    assert status == 200 and [e["direction"] for e in last] == ["in", "out"]
    assert last == controlled.trace()[-2:]
    status, body = controlled.get("/api/meters/99999999/trace")
    assert status == 404 and "99999999" in body["error"]
    status, body = controlled.get(f"/api/meters/{FIRST}/trace?limit={RING_SIZE + 1}")
    assert status == 400 and "limit" in body["error"]
    status, body = controlled.get("/api/trace/stream?serial=99999999")
    assert status == 404 and "99999999" in body["error"]


def test_the_stream_delivers_the_frames_of_a_clients_get(controlled: Controlled) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    subscribed = threading.Event()

    async def listen() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{controlled.base}/api/trace/stream?serial={FIRST}") as response:
                assert response.headers["Content-Type"] == "text/event-stream"
                kind = None
                async for line in response.content:
                    text = line.decode().rstrip("\n")
                    if text == ": subscribed":
                        subscribed.set()
                    elif text.startswith("event: "):
                        kind = text[7:]
                    elif text.startswith("data: "):
                        events.append((kind or "", json.loads(text[6:])))
                        last = events[-1][1]
                        if last["transport"] == "tcp" and _kind(last) == "rlre":  # the second session ended
                            return

    listener = threading.Thread(target=asyncio.run, args=(listen(),))
    listener.start()
    assert subscribed.wait(10)
    with dlms_client(hdlc_tcp_transport(controlled.fleet.port("hdlc-tcp"), 16, physical=17), 16).session() as s:
        s.get(CLOCK)
    _gurux_session(controlled.fleet.port("tcp"), 16)  # the other port too: same meter, a new connection
    listener.join(10)
    assert not listener.is_alive()
    apdus = [(e["transport"], e["direction"], _kind(e)) for kind, e in events if e["tree"]]
    assert all(kind == "frame" for kind, _ in events)
    assert ("hdlc-tcp", "in", "get-request-normal") in apdus and ("hdlc-tcp", "out", "get-response-normal") in apdus
    assert apdus[-4:] == [("tcp", "in", "get-request-normal"), ("tcp", "out", "get-response-normal"),
                          ("tcp", "in", "rlrq"), ("tcp", "out", "rlre")]
    assert {e["serial"] for _, e in events} == {FIRST}


def test_the_stream_filter_and_a_slow_reader_skips_instead_of_buffering() -> None:
    rings = TraceRings()
    slow = rings.subscribe(None, size=2)
    other = rings.subscribe("elsewhere")
    frame = bytes.fromhex("0001001000010005C001C1000F")
    for _ in range(5):
        rings.frame(_FakeLive(), None, True, frame, "tcp", "127.0.0.1:1", "127.0.0.1:2")
    assert slow.queue.qsize() == 2 and slow.skipped == 3  # two kept, three skipped: nothing more held
    assert other.queue.qsize() == 0  # another meter's stream
    rings.end_streams()
    assert other.queue.get_nowait() is None  # every stream ends, a full one too
    assert [slow.queue.get_nowait() is None for _ in range(2)] == [False, True]


def test_rings_are_bounded_by_meters_and_octets() -> None:
    rings = TraceRings(max_meters=3, max_octets=10_000)
    frame = bytes.fromhex("0001001000010005C001C1000F")  # 13 octets
    for meter in map(_FakeLive, range(5)):
        for _ in range(RING_SIZE + 10):
            rings.frame(meter, None, True, frame, "tcp", "127.0.0.1:1", "127.0.0.1:2")
    assert [len(rings.entries(i)) for i in range(5)] == [0, 0, RING_SIZE, RING_SIZE, RING_SIZE]
    assert rings.octets == 3 * RING_SIZE * len(frame)
    rings.frame(_FakeLive(2), None, True, bytes(6000), "tcp", "127.0.0.1:1", "127.0.0.1:2")
    assert rings.octets > 10_000  # until the sweep (the control plane's, every second)
    rings.sweep()
    assert rings.octets <= 10_000 and rings.entries(3) == rings.entries(4) == []  # least recently active first
    big = _FakeLive(5)
    for _ in range(3):
        rings.frame(big, None, True, bytes(4000), "tcp", "127.0.0.1:1", "127.0.0.1:2")
    rings.sweep()  # the most recent ring stays: its oldest frame goes
    assert rings.octets == 8000 and len(rings.entries(5)) == 2 and rings.entries(2) == []


class _FakeLive:
    """Enough of a LiveMeter for the rings: a label, an entry index, fields."""

    def __init__(self, index: int = 0) -> None:
        from types import SimpleNamespace

        self.label = f"fake#{index}"
        self.entry = SimpleNamespace(index=index)
        self.meter = SimpleNamespace(fields={"serial": f"F{index}"}, model=SimpleNamespace(logical_devices={}))


def _kind(entry: dict[str, Any]) -> str | None:
    """The APDU an entry carries, named as `cosem-sim decode --json` names it (lower case)."""
    return entry["tree"]["items"][0]["kind"].lower() if entry["tree"] else None


def test_a_wrapper_exchange_is_kept_as_its_two_frames_in_the_order_they_crossed() -> None:
    """A TCP wrapper connection's exchanges come in batches, its other frames one by one (after
    the exchanges before them): the ring shows the frames in order, wrapper headers made again
    from the SAPs; an exchange without a link (HDLC, UDP: their frames come one by one) adds none."""
    rings = TraceRings()
    live, link = _FakeLive(0), ("tcp", "127.0.0.1:1", "127.0.0.1:2", 1)
    get, answer = bytes.fromhex("C001C1000800000100FF0200"), bytes.fromhex("C401C100090C07EA0C0701000000FF800000")
    rings.take([(live, link, 5.0, 5.001, 1, 16, get, answer), (live, None, 5.0, 5.001, 1, 16, get, answer),
                (live, link, 6.0, 6.001, 1, 16, get, None)])
    rings.frame(live, None, False, bytes.fromhex("00010001001000020E01"), "tcp", "127.0.0.1:1", "127.0.0.1:2")
    entries = rings.entries(0)
    # (the stand-in meter has no model to decode by: the APDUs show masked, the headers as they crossed)
    assert [(e["direction"], e["hex"][:16], len(e["hex"]) // 2) for e in entries] == [
        ("in", "000100100001000C", 8 + len(get)), ("out", "0001000100100012", 8 + len(answer)),
        ("in", "000100100001000C", 8 + len(get)), ("out", "0001000100100002", 10)]
    assert [e["seq"] for e in entries[:3]] == [5_000_000, 5_001_000, 6_000_000]  # microseconds of perf_counter
    assert entries[3]["seq"] > entries[2]["seq"]
    at = [datetime.fromisoformat(e["time"].replace("Z", "+00:00")) for e in entries[:3]]
    assert (at[1] - at[0]).total_seconds() == pytest.approx(0.001, abs=0.0011) and (at[2] - at[0]).total_seconds() == pytest.approx(1.0, abs=0.002)
    assert rings.octets == 2 * (8 + len(get)) + 8 + len(answer) + 10


def test_a_ring_reads_in_the_order_frames_crossed_whatever_order_they_were_kept_in() -> None:
    """Unless somebody watches the stream, a frame handed over is kept at once while the
    exchanges before it wait for the plane's next batch: the ring is read by the instants."""
    rings = TraceRings()
    live, link = _FakeLive(0), ("tcp", "127.0.0.1:1", "127.0.0.1:2", 1)
    now = time.perf_counter()
    rings.frame(live, None, True, bytes.fromhex("000100100001000162"), "tcp", "127.0.0.1:1", "127.0.0.1:2")
    rings.take([(live, link, now - 0.002, now - 0.001, 1, 16, bytes.fromhex("C001C1000800000100FF0200"), None)])
    entries = rings.entries(0)
    assert [len(e["hex"]) // 2 for e in entries] == [8 + 12, 9]  # the exchange's request first: it crossed first
    assert entries[0]["seq"] < entries[1]["seq"]


def test_a_ring_of_big_frames_is_trimmed_to_its_bound_and_small_ones_cost_no_count() -> None:
    rings = TraceRings()
    live, link = _FakeLive(0), ("tcp", "127.0.0.1:1", "127.0.0.1:2", 1)
    get = bytes.fromhex("C001C1000800000100FF0200")
    rings.take([(live, link, 1.0 + n, 1.5 + n, 1, 16, get, bytes(60_000)) for n in range(20)])
    rings.take([(_FakeLive(1), link, 9.0, 9.5, 1, 16, get, bytes(40))])
    assert rings.octets > RING_OCTETS
    rings.sweep()
    kept = RING_OCTETS // (8 + len(get) + 8 + 60_000)  # whole exchanges, the oldest gone
    assert len(rings.entries(0)) == 2 * kept and sum(len(e["hex"]) // 2 for e in rings.entries(0)) <= RING_OCTETS
    assert len(rings.entries(1)) == 2  # the small one untouched
    assert rings._big == {0}  # still big frames in it: trimmed again at the next sweep


def test_a_ring_of_exchanges_big_only_together_is_trimmed_too() -> None:
    """A request and an answer of 3,000 octets each are each small, the exchange is not: 200 of
    them pass the ring's bound, and the sweep trims it."""
    rings = TraceRings()
    live, link = _FakeLive(0), ("tcp", "127.0.0.1:1", "127.0.0.1:2", 1)
    rings.take([(live, link, 1.0 + n, 1.5 + n, 1, 16, bytes(3_000), bytes(3_000)) for n in range(RING_SIZE)])
    assert rings.octets > RING_OCTETS
    rings.sweep()
    assert rings.octets <= RING_OCTETS
