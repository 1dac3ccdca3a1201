"""`GET /metrics` over real sockets: what dlms-cosem and gurux-dlms clients do to a running fleet
shows in the Prometheus text, which prometheus_client's own parser reads back."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Iterator

import aiohttp
import pytest
from dlms_cosem.client import DlmsClient
from dlms_cosem.security import LowLevelSecurityAuthentication
from gurux_dlms import GXDLMSException
from gurux_dlms.objects import GXDLMSAssociationLogicalName
from prometheus_client.parser import text_string_to_metric_families

from simulator.control.metrics import LATENCY_BUCKETS_S, Metrics, result_of, service_of
from simulator.control.plane import ControlPlane
from simulator.runtime.faults import Fault

from ..runtime.harness import RunningFleet
from .harness import serving
from ..runtime.test_push import Receiver, demo_fleet, invoke_push, plain_fleet, wait_for
from ..runtime.peers import CLOCK, GuruxPeer, SocketPipe, clock, dlms_client, gurux_client, wrapper_transport

PROFILE = """
name: metrics
groups:
  - name: electricity
    model: idis_poly
    count: 2
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
"""

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Controlled:
    """A running fleet with its control plane on 127.0.0.1, port 0."""

    def __init__(self, fleet: RunningFleet, plane: ControlPlane) -> None:
        self.fleet = fleet
        self.plane = plane

    @property
    def port(self) -> int:
        return self.fleet.port("tcp")

    def text(self) -> str:
        async def get() -> str:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{self.plane.port}/metrics") as response:
                    assert response.status == 200
                    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                    return await response.text()
        return asyncio.run(get())

    def samples(self) -> Samples:
        """Every sample of a scrape, by (name, labels)."""
        return {(s.name, frozenset(s.labels.items())): s.value
                for family in text_string_to_metric_families(self.text()) for s in family.samples}


@contextlib.contextmanager
def control_plane(profile: str, tmp_path: Path) -> Iterator[Controlled]:
    with serving(profile, tmp_path) as (fleet, plane):
        yield Controlled(fleet, plane)


@pytest.fixture
def controlled(tmp_path: Path) -> Iterator[Controlled]:
    with control_plane(PROFILE, tmp_path) as running:
        yield running


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_an_association_made_by_dlms_cosem_is_counted(controlled: Controlled) -> None:
    before = controlled.samples()
    with dlms_client(wrapper_transport(controlled.port, 16), 16).session() as session:
        session.get(CLOCK)
    after = controlled.samples()
    name = "cosem_associations_total"
    assert _value(after, name, client_sap="16", outcome="accepted") == \
        _value(before, name, client_sap="16", outcome="accepted") + 1
    assert _value(after, name, client_sap="16", outcome="released") == \
        _value(before, name, client_sap="16", outcome="released") + 1
    assert _value(after, "cosem_apdus_total", service="aarq", result="accepted") == 1
    assert _value(after, "cosem_apdus_total", service="rlrq", result="released") == 1
    assert _value(after, "cosem_connections_accepted_total", transport="tcp") == 1
    assert _value(after, "cosem_connections_open", transport="tcp") == 0  # the client closed it
    assert _value(after, "cosem_meters_contacted") == 1 and _value(after, "cosem_meters") == 2


def test_a_get_by_gurux_counts_by_service_and_in_the_latency_histogram(controlled: Controlled) -> None:
    before = controlled.samples()
    peer = GuruxPeer(SocketPipe("127.0.0.1", controlled.port), gurux_client(16))
    try:
        peer.connect()
        peer.read(clock(), 2)
        peer.read(clock(), 2)
        samples = controlled.samples()  # while the association is open
        assert _value(samples, "cosem_connections_open", transport="tcp") == 1
        peer.release()
    finally:
        peer.pipe.close()
    after = controlled.samples()
    assert _value(after, "cosem_apdus_total", service="get", result="success") == \
        _value(before, "cosem_apdus_total", service="get", result="success") + 2
    handled = sum(v for (name, _), v in after.items() if name == "cosem_apdus_total")
    count = _value(after, "cosem_request_duration_seconds_count")
    assert count == handled == 4  # AARQ, two GETs, RLRQ
    assert _value(after, "cosem_request_duration_seconds_bucket", le="+Inf") == count
    # the loop's clock (uvloop: millisecond steps) may see a GET take no time at all
    assert 0 <= _value(after, "cosem_request_duration_seconds_sum") < count * LATENCY_BUCKETS_S[-1]
    bounds = [_value(after, "cosem_request_duration_seconds_bucket", le=str(b)) for b in LATENCY_BUCKETS_S]
    assert bounds == sorted(bounds)  # cumulative


def test_ciphered_requests_count_under_their_plain_service(controlled: Controlled) -> None:
    """gurux-dlms as the HLS-GMAC management client: HLS pass 3 in a glo-action-request counts as
    an action; its GET travels in general-glo-ciphering, which hides the service from anyone
    without the keys: it counts as ciphered."""
    peer = GuruxPeer(SocketPipe("127.0.0.1", controlled.port), gurux_client(1))
    try:
        peer.session_read((clock(), 2))
    finally:
        peer.pipe.close()
    samples = controlled.samples()
    assert _value(samples, "cosem_associations_total", client_sap="1", outcome="accepted") == 1
    assert _value(samples, "cosem_apdus_total", service="action", result="ciphered") == 1  # HLS pass 3
    assert _value(samples, "cosem_apdus_total", service="ciphered", result="ciphered") == 1  # the GET
    assert _value(samples, "cosem_apdus_total", service="aarq", result="accepted") == 1


def test_a_denied_read_counts_as_a_refusal(controlled: Controlled) -> None:
    """The public client (gurux-dlms) asks for the association's secret: read-write-denied."""
    peer = GuruxPeer(SocketPipe("127.0.0.1", controlled.port), gurux_client(16))
    try:
        peer.connect()
        with pytest.raises(GXDLMSException):
            peer.request(peer.client.read(GXDLMSAssociationLogicalName("0.0.40.0.0.255"), 7))
        peer.release()
    finally:
        peer.pipe.close()
    samples = controlled.samples()
    assert _value(samples, "cosem_apdus_total", service="get", result="read-write-denied") == 1
    assert _value(samples, "cosem_refusals_total", reason="access-denied") == 1


def test_a_refused_association_is_counted(controlled: Controlled) -> None:
    client = DlmsClient(transport=wrapper_transport(controlled.port, 2), timeout=5,
                        authentication=LowLevelSecurityAuthentication(secret=b"wrong!!!"))
    with pytest.raises(Exception, match="(?i)reject|authentication|association"):
        with client.session() as session:
            session.get(CLOCK)
    samples = controlled.samples()
    assert _value(samples, "cosem_associations_total", client_sap="2", outcome="rejected") == 1
    assert _value(samples, "cosem_associations_total", client_sap="2", outcome="accepted") == 0
    assert _value(samples, "cosem_apdus_total", service="aarq", result="rejected-permanent") == 1


def test_bytes_in_and_out_increase_with_traffic(controlled: Controlled) -> None:
    before = controlled.samples()
    with dlms_client(wrapper_transport(controlled.port, 16), 16).session() as session:
        session.get(CLOCK)
    middle = controlled.samples()
    with dlms_client(wrapper_transport(controlled.port, 16), 16).session() as session:
        session.get(CLOCK)
    after = controlled.samples()
    for name in ("cosem_received_bytes_total", "cosem_sent_bytes_total"):
        first = _value(middle, name, transport="tcp") - _value(before, name, transport="tcp")
        second = _value(after, name, transport="tcp") - _value(middle, name, transport="tcp")
        # AARQ, GET and RLRQ each in an 8-octet wrapper header at least: the same session twice
        assert first >= 3 * 8 + 20 and second == first, name


def test_faults_active_are_counted_by_kind(controlled: Controlled) -> None:
    engine = controlled.fleet.engine
    entry = engine.entries[1]
    controlled.fleet.call(lambda: engine.faults.add(entry, Fault("delay", ms=100)))
    controlled.fleet.call(lambda: engine.faults.add("electricity", Fault("drop", ratio=0.5)))
    samples = controlled.samples()
    assert _value(samples, "cosem_faults_active", kind="delay", scope="meter") == 1
    assert _value(samples, "cosem_faults_active", kind="drop", scope="group") == 1
    controlled.fleet.call(lambda: engine.faults.clear(entry))
    samples = controlled.samples()
    assert _value(samples, "cosem_faults_active", kind="delay", scope="meter") == 0
    assert _value(samples, "cosem_faults_active", kind="drop", scope="group") == 1


def test_pushes_sent_and_failed_are_counted(tmp_path: Path) -> None:
    """A gurux-dlms client's ACTION on the alarm Push setup: one push delivered to a head-end on
    127.0.0.1; then one to a port that refuses connections, given up after its retries (the
    fleet's clock runs 120 times faster: 60 s between attempts)."""
    receiver = Receiver()
    try:
        with control_plane(demo_fleet(receiver.port), tmp_path) as running:
            invoke_push(running.port)
            receiver.get()
            wait_for(lambda: _value(running.samples(), "cosem_pushes_total", outcome="sent") == 1, "a push counted")
            assert _value(running.samples(), "cosem_pushes_total", outcome="failed") == 0
    finally:
        receiver.close()
    refusing = Receiver(listening=False)
    try:
        with control_plane(plain_fleet(tmp_path, refusing.port, rate=120), tmp_path) as running:
            invoke_push(running.port, plain=True)
            wait_for(lambda: _value(running.samples(), "cosem_pushes_total", outcome="failed") == 1,
                     "a push given up")
            assert _value(running.samples(), "cosem_pushes_total", outcome="sent") == 0
    finally:
        refusing.close()


def test_the_text_parses_and_every_name_starts_with_cosem(controlled: Controlled) -> None:
    with dlms_client(wrapper_transport(controlled.port, 16), 16).session() as session:
        session.get(CLOCK)
    families = list(text_string_to_metric_families(controlled.text()))
    names = {f.name for f in families}
    assert {"cosem_connections_open", "cosem_connections_accepted", "cosem_associations", "cosem_apdus",
            "cosem_refusals", "cosem_request_duration_seconds", "cosem_received_bytes", "cosem_sent_bytes",
            "cosem_pushes", "cosem_meters_contacted", "cosem_faults_active"} <= names
    assert all(f.name.startswith("cosem_") and f.documentation for f in families)
    assert all(s.name.startswith("cosem_") for f in families for s in f.samples)


# Request and answer octets as the simulator's own APDU tests build them (Green Book 9.5 xDLMS
# encodings): GET-Request-Normal of the clock, its answers, and the glo- and exception forms.
_GET_CLOCK = bytes.fromhex("C001C100080000010000FF0200")


@pytest.mark.parametrize("request_apdu, answer, service, result", [
    (_GET_CLOCK, bytes.fromhex("C401C100090C07EA0C0701000000FF800000"), "get", "success"),
    (_GET_CLOCK, bytes.fromhex("C401C10104"), "get", "object-undefined"),
    (bytes.fromhex("C101C100010000600A00FF0200"), bytes.fromhex("C501C103"), "set", "read-write-denied"),
    (bytes.fromhex("C301C1000F0000280000FF0100"), bytes.fromhex("C701C10000"), "action", "success"),
    (_GET_CLOCK, bytes.fromhex("D80101"), "get", "exception-operation-not-possible"),
    (bytes.fromhex("C81E300000000A"), bytes.fromhex("CC1E300000000B"), "get", "ciphered"),
    (bytes.fromhex("C81E300000000A"), bytes.fromhex("D80105"), "ciphered", "exception-deciphering-error"),
    (bytes.fromhex("DB08"), bytes.fromhex("DB08"), "ciphered", "ciphered"),
    (bytes.fromhex("6200"), bytes.fromhex("6300"), "rlrq", "released"),
    (_GET_CLOCK, None, "get", "no-answer"),
])
def test_service_and_result_are_read_from_the_octets(request_apdu: bytes, answer: bytes | None, service: str,
                                                     result: str) -> None:
    assert (service_of(request_apdu, answer), result_of(answer)) == (service, result)


def _exchange(request: bytes, answer: bytes | None, seconds: float = 0.0002) -> tuple:
    """An exchange as LiveMeter.exchange keeps it for the plane (runtime/observe.py `Exchange`)."""
    return (None, None, 10.0, 10.0 + seconds, 1, 16, request, answer)


def test_exchanges_kept_are_counted_in_batches() -> None:
    """The meters keep each exchange as it is; the metrics name service and result from its
    octets when the plane hands them over, a denied GET counting as a refusal too, and the
    latency goes in its bucket."""
    metrics = Metrics(None)
    denied = bytes.fromhex("C401C10103")  # Get-Response-Normal, data-access-result read-write-denied
    success = bytes.fromhex("C401C100090C07EA0C0701000000FF800000")
    metrics.take([_exchange(_GET_CLOCK, denied)] * 2 + [_exchange(_GET_CLOCK, success)] * 5)
    metrics.take([_exchange(_GET_CLOCK, success, 0.3), _exchange(_GET_CLOCK, None)])
    assert metrics.apdus == {("get", "read-write-denied"): 2, ("get", "success"): 6, ("get", "no-answer"): 1}
    assert metrics.refusals == {"access-denied": 2}
    assert metrics.latency[0] == 8 and metrics.latency[LATENCY_BUCKETS_S.index(0.5)] == 1
    assert metrics.seconds == pytest.approx(8 * 0.0002 + 0.3)


def test_answers_their_first_octets_do_not_name_are_named_each() -> None:
    """A block, an empty answer or an empty request in a batch: each of those is named from its
    own octets, the others still by their class."""
    metrics = Metrics(None)
    success = bytes.fromhex("C401C100090C07EA0C0701000000FF800000")
    block = bytes.fromhex("C402C100000000010103")  # with-datablock, block 1: data-access-result read-write-denied
    metrics.take([_exchange(_GET_CLOCK, success), _exchange(_GET_CLOCK, block), _exchange(_GET_CLOCK, b"")])
    metrics.take([_exchange(_GET_CLOCK, success), _exchange(b"", b"")])
    assert metrics.apdus == {("get", "success"): 2, ("get", "read-write-denied"): 1, ("get", "unknown"): 1,
                             ("unknown", "unknown"): 1}


def test_values_and_invoke_ids_do_not_grow_what_is_remembered() -> None:
    """An energy register answers a new value at each GET: the classes the metrics remember are
    keyed by the octets before the value (tag, choice, invoke-id, result, data tag), so a long
    run keeps one per invoke-id the client used, not one per value."""
    metrics = Metrics(None)
    batch = [_exchange(_GET_CLOCK, bytes((0xC4, 0x01, 0xC0 | n % 16, 0x00, 0x06)) + value.to_bytes(4, "big"))
             for n, value in enumerate(range(100_000, 120_000))]
    metrics.take(batch)
    assert metrics.apdus == {("get", "success"): 20_000}
    assert len(metrics._classes) == 16
