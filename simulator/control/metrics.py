"""Prometheus metrics of the fleet: `GET /metrics`, every name starting with `cosem_`.

The hot path only keeps: the meters append each exchange to the plane's list, which hands them
to `Metrics.take` in batches (control/plane.py); there they are counted by service and result
(named from their first octets, through a bounded cache of the octets that decide it), their
latency put in a fixed-bucket histogram, and refusals an answer shows (access denied) counted.
What only the moment knows (association outcomes, refusals the session reported, connections,
pushes) reaches `Metrics` through the control plane's Observer calls, which add to plain ints and
dicts keyed by small tuples. Nothing is built until Prometheus scrapes: then `MetricsCollector`
turns the counts into metric families, reads what the engine keeps itself (bytes by transport,
meters contacted, faults active) and `generate_latest` writes the text format 0.0.4 from a
private `CollectorRegistry` (never the process-wide one: two engines in one process, as tests
run them, keep their figures apart).

An APDU is counted by service and result. The service comes from the request's first octet; a
glo- or ded-ciphered request counts under its plain service when the meter opened it (its
answer is ciphered too), else under `ciphered` (general-ciphering hides the service from
anyone without the keys). The result is read from the answer: `success`, the data-access-result
or action-result the meter gave, `exception-<service-error>` for an exception-response, the
association result of an AARE, `released` for an RLRE, `list` for a GET or ACTION answered item
by item, `block` for a general-block-transfer block, `ciphered` when the answer is ciphered (its
result is not visible without the keys) and `no-answer` when the meter stayed silent.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from operator import itemgetter, sub
from typing import TYPE_CHECKING, Any, Iterable

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import (
    CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric,
)
from prometheus_client.registry import Collector

from ..apdu.acse import AARE, AssociationResult
from ..apdu.ciphered import SERVICE_TAGS
from ..apdu.common import ActionResult, DataAccessResult, ServiceError
from ..errors import DecodeError
from ..runtime.observe import LATENCY_BUCKETS_S, TOLD_BY_OCTETS, Exchange, outcome

if TYPE_CHECKING:
    from ..runtime.fleet import LiveMeter

__all__ = ["Metrics", "MetricsCollector", "LATENCY_BUCKETS_S", "service_of", "result_of", "add_routes"]

_PLAIN_SERVICES = {
    0x60: "aarq", 0x62: "rlrq", 0xC0: "get", 0xC1: "set", 0xC3: "action", 0xE0: "general-block-transfer",
    0x05: "read", 0x06: "write", 0x16: "unconfirmed-write", 0x01: "initiate",
}
_NAMES: list[str] = ["unknown"] * 256  # request tag -> service, plain tags only
for _tag, _name in _PLAIN_SERVICES.items():
    _NAMES[_tag] = _name
_CIPHERED_PLAIN: dict[int, int] = {}  # glo-/ded- tag -> the plain tag inside (Green Book table)
for _row in SERVICE_TAGS:
    _CIPHERED_PLAIN[_row.glo] = _row.plain
    _CIPHERED_PLAIN[_row.ded] = _row.plain
_CIPHERED_ANSWER = frozenset(_CIPHERED_PLAIN) | {0xDB, 0xDC, 0xDD}  # glo-, ded-, general-*-ciphering
_GENERAL_CIPHERING = frozenset((0xDB, 0xDC, 0xDD))
_NORMAL_ANSWERS = frozenset((0xC4, 0xC5, 0xC7))  # get-, set-, action-response: choice 1 is -normal
_HEAD = 5
_CACHED = 4096  # classes remembered (an invoke-id octet in each: at most 256 per class)
_FIRST_BUCKET = LATENCY_BUCKETS_S[0]
_started, _ended, _request_of, _answer_of = itemgetter(2), itemgetter(3), itemgetter(6), itemgetter(7)
_first_octet, _head = itemgetter(0), itemgetter(slice(0, _HEAD))


def _enum_names(enum: Any) -> dict[int, str]:
    return {int(member): member.name.lower().replace("_", "-") for member in enum}


_DATA_ACCESS = _enum_names(DataAccessResult)
_ACTION = _enum_names(ActionResult)
_SERVICE_ERROR = _enum_names(ServiceError)
_ASSOCIATION = _enum_names(AssociationResult)


def service_of(request: bytes, answer: bytes | None) -> str:
    """The service a request asked for, by its first octet (ciphered: see the module's docstring)."""
    if not request:
        return "unknown"
    tag = request[0]
    plain = _CIPHERED_PLAIN.get(tag)
    if plain is not None:
        opened = answer is not None and len(answer) > 0 and answer[0] in _CIPHERED_ANSWER
        return _NAMES[plain] if opened else "ciphered"
    if tag in _GENERAL_CIPHERING:
        return "ciphered"
    return _NAMES[tag]


def result_of(answer: bytes | None) -> str:
    """What the meter answered, in the words of its answer APDU."""
    if answer is None:
        return "no-answer"
    if len(answer) < 2:
        return "unknown"
    tag = answer[0]
    if tag in _CIPHERED_ANSWER:
        return "ciphered"
    try:
        if tag == 0xC4:  # get-response: normal 01, with-datablock 02, with-list 03
            choice = answer[1]
            if choice == 1:
                return "success" if answer[3] == 0 else _named(_DATA_ACCESS, answer[4])
            if choice == 2:  # invoke-id, last-block, block-number (4), raw-data 0 | data-access-result 1
                return "success" if answer[8] == 0 else _named(_DATA_ACCESS, answer[9])
            return "list"
        if tag == 0xC5:  # set-response: normal 01, datablock 02, last-datablock 03, with-list 04/05
            choice = answer[1]
            if choice in (1, 3):
                return _named(_DATA_ACCESS, answer[3])
            if choice == 2:
                return "success"
            return _first_failure(_DATA_ACCESS, answer[4:4 + answer[3]])
        if tag == 0xC7:  # action-response: normal 01, with-pblock 02, with-list 03, next-pblock 04
            choice = answer[1]
            if choice == 1:
                return _named(_ACTION, answer[3])
            return "success" if choice in (2, 4) else "list"
        if tag == 0xD8:  # exception-response: state-error, service-error
            return "exception-" + _SERVICE_ERROR.get(answer[2], str(answer[2]))
        if tag == 0x61:
            return _named(_ASSOCIATION, int(AARE.from_bytes(answer).result))
        if tag == 0x63:
            return "released"
        if tag == 0x0E:
            return "confirmed-service-error"
        if tag == 0xE0:
            return "block"
        if tag in (0x0C, 0x0D):  # read-/write-response: the first item's choice (0 data/success, 1 error)
            return "success" if answer[2] == 0 else _named(_DATA_ACCESS, answer[3])
    except (IndexError, DecodeError):
        return "malformed"
    return "unknown"


def _named(names: dict[int, str], code: int) -> str:
    return names.get(code) or str(code)


def _decided_by_head(head: bytes) -> bool:
    """Whether an answer's first _HEAD octets decide its service, result and refusal: a ciphered
    answer (tag alone), a -normal get-, set- or action-response (tag, choice, invoke-id, result
    and data tag or result code). The rest (blocks, lists, associations, errors) are named each."""
    return head[0] in _CIPHERED_ANSWER or (head[0] in _NORMAL_ANSWERS and len(head) > 1 and head[1] == 1)


def _class_of(request: bytes, answer: bytes | None) -> tuple[tuple[str, str], str | None]:
    return (service_of(request, answer), result_of(answer)), _shown_refusal(request, answer)


def _shown_refusal(request: bytes, answer: bytes | None) -> str | None:
    """A refusal the answer shows (access denied) when the exchange was not reported at once
    (runtime/observe.py's TOLD_BY_OCTETS: the others' refusals came with `refusal`)."""
    if not answer or answer[0] not in TOLD_BY_OCTETS:
        return None
    return outcome(request, answer, None)[1]


def _first_failure(names: dict[int, str], results: bytes) -> str:
    for code in results:
        if code:
            return _named(names, code)
    return "success"


class Metrics:
    """The counts behind `/metrics`: exchanges in batches (`take`), the rest from the control
    plane's Observer calls (method names and signatures follow runtime/observe.py's Observer,
    so the plane hands each call on unchanged). There is no `frame`: counting octets needs no
    frames (the engine counts them), and a sink with `frame` would make every frame cross to
    the plane. `engine` is read only when scraped (bytes, meters contacted, faults)."""

    frames_wanted = False

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.connections_open: dict[str, int] = {}
        self.connections_accepted: dict[str, int] = {}
        self.associations: dict[tuple[int, str], int] = {}
        self.apdus: dict[tuple[str, str], int] = {}
        self.refusals: dict[str, int] = {}
        self.pushes = {"sent": 0, "failed": 0}
        self.latency = [0] * (len(LATENCY_BUCKETS_S) + 1)  # the last: above every bound (+Inf)
        self.seconds = 0.0
        # (request tag, answer's first _HEAD octets) -> ((service, result), refusal the answer shows)
        self._classes: dict[tuple[int, bytes], tuple[tuple[str, str], str | None]] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(MetricsCollector(self))

    # -- exchanges, in batches
    def take(self, exchanges: list[Exchange]) -> None:
        """Count a batch: C loops (map, zip, Counter) over it, Python once per class of answer."""
        if not exchanges:
            return
        seconds = list(map(sub, map(_ended, exchanges), map(_started, exchanges)))
        self.seconds += sum(seconds)
        if max(seconds) <= _FIRST_BUCKET:  # (the meters' own answers, unless a fault or a big read)
            self.latency[0] += len(seconds)
        else:
            for s in seconds:
                self.latency[bisect_left(LATENCY_BUCKETS_S, s)] += 1
        requests, answers = list(map(_request_of, exchanges)), list(map(_answer_of, exchanges))
        try:
            classes = Counter(zip(map(_first_octet, requests), map(_head, answers)))
        except (IndexError, TypeError):  # an empty request, no answer (None): each named on its own
            self._count(zip(requests, answers))
            return
        for (tag, head), count in classes.items():
            found = self._classes.get((tag, head))
            if found is None:
                if not head or not _decided_by_head(head):
                    self._count((request, answer) for request, answer in zip(requests, answers)
                                if request[0] == tag and answer[:_HEAD] == head)
                    continue
                found = self._classes[tag, head] = _class_of(bytes((tag,)), head)
                if len(self._classes) > _CACHED:
                    self._classes.clear()
            self._add(found, count)

    def _count(self, exchanges: Iterable[tuple[bytes, bytes | None]]) -> None:
        """Name and count each exchange (answers whose first octets do not decide their class)."""
        for request, answer in exchanges:
            self._add(_class_of(request, answer), 1)

    def _add(self, found: tuple[tuple[str, str], str | None], count: int) -> None:
        key, refusal = found
        self.apdus[key] = self.apdus.get(key, 0) + count
        if refusal is not None:
            self.refusals[refusal] = self.refusals.get(refusal, 0) + count

    # -- Observer calls (counting only)
    def connection(self, transport: str, opened: bool, meter: LiveMeter | None) -> None:
        counts = self.connections_open
        if opened:
            counts[transport] = counts.get(transport, 0) + 1
            self.connections_accepted[transport] = self.connections_accepted.get(transport, 0) + 1
        else:
            counts[transport] = counts.get(transport, 0) - 1

    def association(self, live: LiveMeter, channel: object, client_sap: int, outcome: str) -> None:
        key = (client_sap, outcome)
        self.associations[key] = self.associations.get(key, 0) + 1

    def refusal(self, live: LiveMeter | None, reason: str) -> None:
        self.refusals[reason] = self.refusals.get(reason, 0) + 1

    def push(self, live: LiveMeter, sent: bool) -> None:
        self.pushes["sent" if sent else "failed"] += 1

    # -- scrape time
    def text(self) -> bytes:
        """The Prometheus text format (0.0.4) of every metric."""
        return generate_latest(self.registry)

    def transferred(self) -> tuple[dict[str, int], dict[str, int]]:
        """Octets received and sent, by transport: the engine and its streams count them (plain
        ints on the hot path), so the frames themselves are never asked for."""
        received, sent = self.engine.octets()
        return dict(received), dict(sent)

    def meters(self) -> tuple[int, int]:
        """(meters this process serves: the fleet's or its shard's, meters a client contacted since the start)."""
        entries = getattr(self.engine, "entries", ())
        shard = self.engine.shard
        try:
            contacted = len(self.engine.fleet.live_meters)
        except RuntimeError:  # not started yet
            contacted = 0
        return len(range(shard.index, len(entries), shard.count)), contacted

    def faults(self) -> dict[tuple[str, str], int]:
        """Faults active by (kind, scope "meter" | "group"): the engine's FaultSet, looked through
        only while some fault is active."""
        faults = self.engine.faults
        counts: dict[tuple[str, str], int] = {}
        if not faults.on:
            return counts
        targets: list[tuple[Any, str]] = [(entry, "meter") for entry in self.engine.entries]
        targets += [(name, "group") for name in sorted({entry.group.name for entry in self.engine.entries})]
        for target, scope in targets:
            for fault in faults.added(target):
                key = (fault.kind, scope)
                counts[key] = counts.get(key, 0) + 1
        return counts


class MetricsCollector(Collector):
    """Turns `Metrics`' counts into Prometheus metric families when scraped."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        m = self.metrics
        opened = GaugeMetricFamily("cosem_connections_open", "Connections to the meters open now (TCP "
                                   "connections, serial lines, UDP peers), by transport", labels=["transport"])
        accepted = CounterMetricFamily("cosem_connections_accepted", "Connections the meters accepted since "
                                       "the simulator started, by transport", labels=["transport"])
        for transport, count in sorted(m.connections_open.items()):
            opened.add_metric([transport], count)
        for transport, count in sorted(m.connections_accepted.items()):
            accepted.add_metric([transport], count)
        yield opened
        yield accepted
        associations = CounterMetricFamily(
            "cosem_associations", "Application associations by client SAP and outcome (accepted, rejected, "
            "released, failed-authentication)", labels=["client_sap", "outcome"])
        for (client_sap, result), count in sorted(m.associations.items()):
            associations.add_metric([str(client_sap), result], count)
        yield associations
        apdus = CounterMetricFamily(
            "cosem_apdus", "Request APDUs the meters handled, by service (get, set, action, aarq, rlrq, ...) "
            "and result (success, the data-access-result, exception-..., no-answer)", labels=["service", "result"])
        for (service, result), count in sorted(m.apdus.items()):
            apdus.add_metric([service, result], count)
        yield apdus
        refusals = CounterMetricFamily(
            "cosem_refusals", "Requests and connections the meters refused, by reason (counter-replay, "
            "deciphering, access-denied, connection-limit, ...)", labels=["reason"])
        for reason, count in sorted(m.refusals.items()):
            refusals.add_metric([reason], count)
        yield refusals
        cumulative, buckets = 0, []
        for bound, count in zip((*LATENCY_BUCKETS_S, float("inf")), m.latency):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        yield HistogramMetricFamily("cosem_request_duration_seconds", "Time a meter took to answer a request "
                                    "APDU, from its arrival to its answer, in seconds", buckets=buckets,
                                    sum_value=m.seconds)
        received, sent = m.transferred()
        inbound = CounterMetricFamily("cosem_received_bytes", "Octets received from clients, frames whole "
                                      "(wrapper header, HDLC frame, UDP datagram), by transport",
                                      labels=["transport"])
        outbound = CounterMetricFamily("cosem_sent_bytes", "Octets sent to clients and head-ends, frames whole, "
                                       "by transport", labels=["transport"])
        for transport, count in sorted(received.items()):
            inbound.add_metric([transport], count)
        for transport, count in sorted(sent.items()):
            outbound.add_metric([transport], count)
        yield inbound
        yield outbound
        pushes = CounterMetricFamily("cosem_pushes", "Push notifications (data-notification) the meters delivered "
                                     "to head-ends (sent), and pushes given up after their retries (failed)", labels=["outcome"])
        for result, count in m.pushes.items():
            pushes.add_metric([result], count)
        yield pushes
        fleet, contacted = m.meters()
        yield GaugeMetricFamily("cosem_meters", "Meters in the fleet", value=fleet)
        yield GaugeMetricFamily("cosem_meters_contacted", "Meters a client contacted since the start (live "
                                "meters, built on first contact)", value=contacted)
        faults = GaugeMetricFamily("cosem_faults_active", "Injected faults active now, by kind (delay, drop, "
                                   "corrupt, refuse, silence, close) and by what they were added on (a meter, "
                                   "or a group: counted once)", labels=["kind", "scope"])
        for (kind, scope), count in sorted(m.faults().items()):
            faults.add_metric([kind, scope], count)
        yield faults


def add_routes(app: web.Application, plane: Any) -> None:
    """`GET /metrics`: the plane's metrics in the Prometheus text format 0.0.4."""

    plane.metrics = Metrics(plane.engine)

    async def metrics(request: web.Request) -> web.Response:
        plane.settle()
        return web.Response(body=plane.metrics.text(), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

    app.router.add_get("/metrics", metrics)
