"""The load generator: `python -m benchmarks.loadgen JOB_JSON` runs one job, prints one JSON line.

asyncio + uvloop, one process (benchmarks.run pins it to its own CPU), DLMS through
benchmarks.client, that is through the simulator's own sans-IO codecs. Jobs:

- `get`: `associations` clients, spread over `meters` meters, each reading one attribute in a
  closed loop (the next request leaves when the answer arrived). With `flood_connections`, that
  many more connections to `flood_host`:`flood_port` send `flood_pattern` (hex, default 7E:
  HDLC flags) over and over, as fast as the simulator takes it, for the whole job: the latency
  of the others under a flood. Requests whose answer came
  within the measuring window (after `warmup_s`, for `duration_s`) count; rate, latency
  percentiles and every error, by reason. A target of `SET_TARGETS` writes instead of reading
  (a new value each time, each answer checked for success).
- `associate`: `connections` clients each looping AARQ -> AARE (-> HLS pass 3/4) -> RLRQ -> RLRE
  on their connection; full cycles per second.
- `profile`: one client reads a profile generic buffer by range with GET block transfer, `repeat`
  times; rows, blocks, bytes and time of each read.
- `sample`: `count` meters picked at random (seeded) among `meters` (or all of them with
  `all`), each connected, associated (public client, or `mechanism`), asked its clock and serial
  number (which must be the meter's own: proof the address reached the right meter), released.

Errors are tallied by reason (a refused AARQ, an exception-response, a data-access-result, a
timeout, a closed connection...) and always reported. `canned HOST PORT` runs the reference server of
the ceiling benchmark instead: it answers every wrapper frame with a fixed APDU and does no DLMS.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable

from simulator.apdu.acse import (
    AARE, RLRE, AcseServiceUser, ApplicationContextName, AssociationResult, MechanismName, ReleaseResponseReason,
)
from simulator.apdu.common import InvokeIdAndPriority, SelectiveAccess
from simulator.apdu.get import GetResponseNormal
from simulator.apdu.initiate import InitiateResponse
from simulator.axdr import CosemDateTime, Data, DataType, Obis
from simulator.link.wrapper import WrapperFrame, WrapperReader
from simulator.runtime.profile import load_profile, meter_fields

from .client import PROPOSED_CONFORMANCE, Association, ClientError, Credentials, Link, get_request, open_link, set_request

__all__ = ["run_job", "main", "TARGETS", "CLIENT_SAPS"]

# What a `get` job reads: class id, OBIS, attribute (`_check` checks the value).
TARGETS: dict[str, tuple[int, str, int]] = {
    "clock": (8, "0.0.1.0.0.255", 2),
    "energy": (3, "1.0.1.8.0.255", 2),
    "static-register": (3, "1.0.12.31.0.255", 2),  # threshold for voltage sag: never computed
}
# What a `get` job with "operation": "set" writes: the alarm filter, a new value each time.
SET_TARGETS: dict[str, tuple[int, str, int]] = {"alarm-filter": (1, "0.0.97.98.10.255", 2)}
CLIENT_SAPS = {"none": 16, "lls": 2, "hls-gmac": 1}
_CLOCK = TARGETS["clock"]
_SERIAL = (1, "0.0.96.1.0.255", 2)
_WATCHDOG_S = 0.25


# --------------------------------------------------------------------------- tallies

@dataclass
class Tally:
    """Requests answered within the window, their latencies, and errors by reason."""

    done: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def error(self, where: str, exc: BaseException) -> None:
        self.errors[f"{where}: {exc}" if isinstance(exc, ClientError) else f"{where}: {type(exc).__name__} {exc}"] += 1

    def summary(self, seconds: float) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "count": self.done, "seconds": round(seconds, 3), "rate": round(self.done / seconds, 1) if seconds else 0.0,
            "p50_ms": _ms(_percentile(lat, 0.50)), "p99_ms": _ms(_percentile(lat, 0.99)),
            "p999_ms": _ms(_percentile(lat, 0.999)), "max_ms": _ms(lat[-1] if lat else None),
            "errors": sum(self.errors.values()), "error_reasons": dict(self.errors.most_common(20)),
        }


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


class Fleet:
    """Where meter i is and how a client associates with it, from the profile the simulator runs."""

    def __init__(self, job: dict[str, Any]) -> None:
        self._fields: dict[str, Any] | None = job.get("fields")  # the same for every meter: no profile to read
        self.group = None if self._fields is not None else load_profile(job["profile"]).groups[0]
        self.transport: str = job.get("transport", "tcp")
        self.host: str = job["host"]
        self.port: int = job["port"]
        self.addressing: str = job.get("addressing", "address")  # address, port or single
        self.timeout_s: float = job.get("timeout_s", 5.0)
        self.physical: int = job.get("physical_address", 17)  # HDLC: each meter on a line of its own
        self._titles = 0
        # Client system titles "BN" + job id + association number: a meter checks invocation
        # counters per client title, so every association of every job needs its own.
        self._job_id = int(job.get("client_id", os.getpid())) & 0xFFFF

    def fields(self, meter: int) -> dict[str, Any]:
        if self._fields is not None:
            return self._fields
        assert self.group is not None
        return meter_fields(self.group, meter)

    def credentials(self, meter: int, mechanism: str) -> Credentials:
        fields = self.fields(meter)
        client = CLIENT_SAPS[mechanism]
        if mechanism == "none":
            return Credentials(mechanism, client)
        if mechanism == "lls":
            return Credentials(mechanism, client, password=str(fields["lls_password"]).encode())
        self._titles += 1  # one client system title per association: counters never race
        return Credentials(mechanism, client, ek=bytes.fromhex(fields["block_cipher_key"]),
                           ak=bytes.fromhex(fields["authentication_key"]),
                           client_title=b"BN" + self._job_id.to_bytes(2, "big") + self._titles.to_bytes(4, "big"))

    async def connect(self, meter: int, mechanism: str, max_receive_pdu: int = 0xFFFF) -> Association:
        """A link to meter `meter` and an association on it (not yet associated)."""
        if self.addressing == "address":
            host, port = str(ipaddress.IPv4Address(self.host) + meter), self.port
        else:
            host, port = self.host, self.port + (meter if self.addressing == "port" else 0)
        client = CLIENT_SAPS[mechanism]
        link = await open_link(self.transport, host, port, client, self.physical, self.timeout_s)
        return Association(link, self.credentials(meter, mechanism), max_receive_pdu, random.Random(meter))


def _cpu_seconds(pid: int | list[int] | None) -> float | None:
    """CPU seconds process `pid` used so far (Linux /proc), or the processes of a list together
    (a supervisor and its workers); None when unknown."""
    if pid is None:
        return None
    if isinstance(pid, list):
        each = [_cpu_seconds(one) for one in pid]
        return None if None in each else sum(each)  # type: ignore[arg-type]
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class CpuWindow:
    """CPU the simulator, the load generator and the whole machine used during the measuring window.

    Read from /proc at the window's start and end (Linux; empty elsewhere), so the server's CPU
    per request and the load of other processes on the machine can be reported with the figures.
    """

    def __init__(self, server_pid: int | list[int] | None) -> None:
        self.server_pid = server_pid
        self._start: tuple[float, float, float, float] | None = None
        self.figures: dict[str, Any] = {}

    def schedule(self, begin: float, end: float) -> None:
        loop = asyncio.get_running_loop()
        now = time.perf_counter()
        loop.call_later(max(0.0, begin - now), self._begin)
        loop.call_later(max(0.0, end - now), self._end)

    def _sample(self) -> tuple[float, float, float, float] | None:
        try:
            with open("/proc/stat") as f:
                cpu = f.readline().split()[1:]
            busy = (sum(int(x) for x in cpu[:3]) + sum(int(x) for x in cpu[5:8])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None
        server = _cpu_seconds(self.server_pid) if self.server_pid is not None else 0.0
        if server is None:
            return None
        own = os.times()
        return time.perf_counter(), busy, server, own.user + own.system

    def _begin(self) -> None:
        self._start = self._sample()

    def _end(self) -> None:
        end = self._sample()
        if self._start is None or end is None:
            return
        wall = end[0] - self._start[0]
        self.figures = {"window_s": round(wall, 3), "machine_busy_cpus": round((end[1] - self._start[1]) / wall, 3),
                        "server_cpu": round((end[2] - self._start[2]) / wall, 3),
                        "loadgen_cpu": round((end[3] - self._start[3]) / wall, 3)}


class Watchdog:
    """Fails requests that wait longer than their link's timeout, for every link at once."""

    def __init__(self) -> None:
        self.links: set[Link] = set()
        self._task: asyncio.Task[None] | None = None

    def __enter__(self) -> Watchdog:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(_WATCHDOG_S)
            now = time.perf_counter()
            for link in list(self.links):
                link.expire(now)


async def _bounded(items: list[Any], limit: int, work: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    """`work(item)` for every item, at most `limit` at a time, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(item: Any) -> Any:
        async with gate:
            return await work(item)
    return await asyncio.gather(*(one(i) for i in items))


async def _open_all(fleet: Fleet, meters: list[int], mechanism: str, tally: Tally, watchdog: Watchdog,
                    limit: int = 100, max_receive_pdu: int = 0xFFFF) -> list[Association]:
    async def setup(meter: int) -> Association | None:
        try:
            assoc = await fleet.connect(meter, mechanism, max_receive_pdu)
        except ClientError as exc:
            tally.error("connect", exc)
            return None
        watchdog.links.add(assoc.link)
        try:
            await assoc.associate()
        except ClientError as exc:
            tally.error("associate", exc)
            await assoc.link.stop()
            return None
        return assoc
    return [a for a in await _bounded(meters, limit, setup) if a is not None]


async def _close_all(associations: list[Association], tally: Tally, release: bool = True) -> None:
    async def close(assoc: Association) -> None:
        try:
            if release:
                await assoc.release()
        except ClientError as exc:
            tally.error("release", exc)
        await assoc.link.stop()
    await _bounded(associations, 100, close)


def _spread(n: int, meters: int) -> list[int]:
    """n meters spread evenly over the fleet (meter i * meters // n)."""
    return [i * meters // n for i in range(n)]


# --------------------------------------------------------------------------- jobs

def _check(target: str, value: Data) -> None:
    if target == "clock":
        if value.type != DataType.OCTET_STRING or len(value.value) != CosemDateTime.SIZE:
            raise ClientError(f"clock time is {value.type.name}, not a date-time")
    elif value.type not in (DataType.DOUBLE_LONG_UNSIGNED, DataType.LONG64_UNSIGNED, DataType.DOUBLE_LONG,
                            DataType.LONG_UNSIGNED, DataType.FLOAT32, DataType.FLOAT64):
        raise ClientError(f"register value is {value.type.name}")


class GetPump:
    """One association's closed loop of GETs, run from its link's callbacks (client.Link.pump).

    Each answer is checked and timed and the next request leaves at once, until `end`. Every
    error counts, warm-up included; a timeout or a lost connection ends the loop.
    """

    def __init__(self, association: Association, requests: list[bytes], target: str, tally: Tally,
                 begin: float, end: float) -> None:
        self.association = association
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting = False
        self._requests = requests
        self._target = target
        self._tally = tally
        self._begin, self._end = begin, end
        self._request = b""
        self._sent = 0.0
        self._count = 0

    def start(self) -> None:
        self.association.link.pump = self
        self._next()

    def _next(self) -> None:
        now = time.perf_counter()
        if now >= self._end:
            self._finish()
            return
        self._count += 1
        self._request = self._requests[self._count % len(self._requests)]
        self._sent = now
        self.waiting = True
        self.association.link.send(self.association.seal(self._request))

    def answered(self, apdu: bytes) -> None:
        done = time.perf_counter()
        self.waiting = False
        assoc = self.association
        try:
            if self._target in SET_TARGETS:
                assoc.set_result(assoc.open(apdu), self._request)
            else:
                _check(self._target, assoc.get_value(assoc.open(apdu), self._request))
        except ClientError as exc:
            self._tally.error("get", exc)
        else:
            if self._begin <= self._sent and done <= self._end:
                self._tally.done += 1
                self._tally.latencies.append(done - self._sent)
        self._next()

    def failed(self, reason: str) -> None:
        self.waiting = False
        self._tally.error("get", ClientError(reason))
        self._finish()

    def _finish(self) -> None:
        if not self.finished.done():
            self.finished.set_result(None)


async def _flood(host: str, port: int, pattern: bytes, stop: asyncio.Event) -> int:
    """`pattern` to host:port over and over as fast as the simulator reads it, until `stop`; bytes sent."""
    _, writer = await asyncio.open_connection(host, port)
    chunk, sent = pattern * (65536 // len(pattern)), 0
    try:
        while not stop.is_set():
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
    except OSError:  # dropped by the simulator: the figures say how much it took
        pass
    finally:
        writer.close()
    return sent


async def job_get(job: dict[str, Any]) -> dict[str, Any]:
    stop = asyncio.Event()
    pattern = bytes.fromhex(job.get("flood_pattern", "7E"))
    floods = [asyncio.ensure_future(_flood(job["flood_host"], job["flood_port"], pattern, stop))
              for _ in range(job.get("flood_connections", 0))]
    try:
        result = await _get(job)
    finally:
        stop.set()
    if floods:
        sent = await asyncio.gather(*floods)
        result["flood_mb_per_s"] = round(sum(sent) / 1e6 / (job["warmup_s"] + job["duration_s"]), 1)
    return result


async def _get(job: dict[str, Any]) -> dict[str, Any]:
    fleet = Fleet(job)
    target, mechanism = job["target"], job["mechanism"]
    if target in SET_TARGETS:
        class_id, obis, attribute = SET_TARGETS[target]
        requests = [set_request(i, class_id, obis, attribute, Data(DataType.DOUBLE_LONG_UNSIGNED, 0x0BADCAFE + i))
                    for i in range(1, 16)]
    else:
        class_id, obis, attribute = TARGETS[target]
        requests = [get_request(i, class_id, obis, attribute) for i in range(1, 16)]
    setup, tally = Tally(), Tally()
    with Watchdog() as watchdog:
        started = time.perf_counter()
        associations = await _open_all(fleet, _spread(job["associations"], job["meters"]), mechanism, setup, watchdog)
        setup_s = time.perf_counter() - started
        begin = time.perf_counter() + job["warmup_s"]
        end = begin + job["duration_s"]
        window = CpuWindow(job.get("server_pid"))
        window.schedule(begin, end)
        pumps = [GetPump(a, requests, target, tally, begin, end) for a in associations]
        for pump in pumps:
            pump.start()
        await asyncio.gather(*(p.finished for p in pumps))
        for pump in pumps:
            pump.association.link.pump = None
        await _close_all([p.association for p in pumps if not p.association.link.lost], setup)
    result = tally.summary(job["duration_s"])
    result.update(window.figures)
    result.update(associations=len(associations), setup_s=round(setup_s, 3),
                  setup_errors=sum(setup.errors.values()), setup_error_reasons=dict(setup.errors.most_common(10)))
    result["errors"] += result["setup_errors"]
    return result


async def job_associate(job: dict[str, Any]) -> dict[str, Any]:
    fleet = Fleet(job)
    mechanism = job["mechanism"]
    tally = Tally()
    with Watchdog() as watchdog:
        associations = []
        for meter in _spread(job["connections"], job["meters"]):
            try:
                assoc = await fleet.connect(meter, mechanism)
            except ClientError as exc:
                tally.error("connect", exc)
                continue
            watchdog.links.add(assoc.link)
            associations.append(assoc)
        begin = time.perf_counter() + job["warmup_s"]
        end = begin + job["duration_s"]
        window = CpuWindow(job.get("server_pid"))
        window.schedule(begin, end)

        async def loop(assoc: Association) -> None:
            while (now := time.perf_counter()) < end:
                try:
                    await assoc.associate()
                    await assoc.release()
                except ClientError as exc:
                    tally.error("cycle", exc)  # warm-up included: no error goes unreported
                    if assoc.link.transport is None or assoc.link.transport.is_closing():
                        return
                    continue
                done = time.perf_counter()
                if begin <= now and done <= end:
                    tally.done += 1
                    tally.latencies.append(done - now)
        await asyncio.gather(*(loop(a) for a in associations))
        await _close_all(associations, tally, release=False)
    result = tally.summary(job["duration_s"])
    result.update(window.figures)
    result["connections"] = len(associations)
    return result


def range_access(start: str, stop: str) -> SelectiveAccess:
    """range_descriptor on the clock column (class 8, attribute 2) from `start` to `stop`
    (ISO 8601 date-times with their UTC offset, which becomes the deviation)."""
    def stamp(text: str) -> Data:
        return Data(DataType.OCTET_STRING, CosemDateTime.from_datetime(datetime.fromisoformat(text)).to_bytes())
    restricting = Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, 8),
                                            Data(DataType.OCTET_STRING, bytes(Obis("0.0.1.0.0.255"))),
                                            Data(DataType.INTEGER, 2), Data(DataType.LONG_UNSIGNED, 0)))
    return SelectiveAccess(1, Data(DataType.STRUCTURE, (restricting, stamp(start), stamp(stop),
                                                        Data(DataType.ARRAY, ()))))


async def job_profile(job: dict[str, Any]) -> dict[str, Any]:
    fleet = Fleet(job)
    tally = Tally()
    reads: list[dict[str, Any]] = []
    request = get_request(1, 7, job["obis"], 2, range_access(job["from"], job["to"]))
    with Watchdog() as watchdog:
        opened = await _open_all(fleet, [0], job["mechanism"], tally, watchdog, 1, job["max_receive_pdu"])
        for assoc in opened:
            for _ in range(job["repeat"]):
                server_before = _cpu_seconds(job.get("server_pid"))
                started = time.perf_counter()
                try:
                    value, blocks, size = await assoc.get_blocks(request)
                except ClientError as exc:
                    tally.error("read", exc)
                    continue
                seconds = time.perf_counter() - started
                server_after = _cpu_seconds(job.get("server_pid"))
                rows = len(value.value) if value.type == DataType.ARRAY else 0
                if rows != job["expected_rows"]:
                    tally.errors[f"read: {rows} rows, expected {job['expected_rows']}"] += 1
                reads.append({"rows": rows, "blocks": blocks, "bytes": size, "seconds": round(seconds, 3),
                              "rows_per_s": round(rows / seconds, 1),
                              "server_cpu_s": None if server_before is None or server_after is None
                              else round(server_after - server_before, 3)})
        await _close_all(opened, tally)
    best = min(reads, key=lambda r: r["seconds"]) if reads else None
    return {"reads": reads, "best": best,
            "median_s": round(statistics.median(r["seconds"] for r in reads), 3) if reads else None,
            "errors": sum(tally.errors.values()), "error_reasons": dict(tally.errors)}


async def job_sample(job: dict[str, Any]) -> dict[str, Any]:
    fleet = Fleet(job)
    meters = (list(range(job["meters"])) if job.get("all")
              else random.Random(job.get("seed", 1)).sample(range(job["meters"]), job["count"]))
    clock, serial = get_request(1, *_CLOCK), get_request(2, *_SERIAL)
    tally = Tally()

    async def visit(meter: int) -> None:
        started = time.perf_counter()
        try:
            assoc = await fleet.connect(meter, job.get("mechanism", "none"))
        except ClientError as exc:
            tally.error("connect", exc)
            return
        watchdog.links.add(assoc.link)
        try:
            await assoc.associate()
            _check("clock", await assoc.get(clock))
            got = (await assoc.get(serial)).value
            expected = str(fleet.fields(meter)["serial"])
            if (got.decode("latin-1") if isinstance(got, bytes) else str(got)) != expected:
                raise ClientError("serial number of another meter")
            await assoc.release()
            tally.done += 1
            tally.latencies.append(time.perf_counter() - started)
        except ClientError as exc:
            tally.error("visit", exc)
        finally:
            watchdog.links.discard(assoc.link)
            await assoc.link.stop()

    with Watchdog() as watchdog:
        started = time.perf_counter()
        await _bounded(meters, job.get("concurrency", 50), visit)
        seconds = time.perf_counter() - started
    result = tally.summary(seconds)
    result["meters"] = len(meters)
    return result


JOBS: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "get": job_get, "associate": job_associate, "profile": job_profile, "sample": job_sample,
}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job on a fresh event loop (uvloop when installed)."""
    try:
        import uvloop
        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        runner = asyncio.run
    return runner(JOBS[job["kind"]](job))


# --------------------------------------------------------------------------- the ceiling

_CANNED_TIME = Data(DataType.OCTET_STRING, CosemDateTime(2024, 1, 1, 1, 0, 0, 0, 0, 0, 0).to_bytes())


class _Canned(asyncio.Protocol):
    """Answers each wrapper frame with a fixed APDU: the event loop and the load generator alone."""

    AARE = AARE(application_context_name=ApplicationContextName.LOGICAL_NAME, result=AssociationResult.ACCEPTED,
                result_source_diagnostic=AcseServiceUser.NULL, responder_acse_requirements=True,
                mechanism_name=MechanismName.LOW,
                user_information=InitiateResponse(negotiated_conformance=PROPOSED_CONFORMANCE,
                                                  server_max_receive_pdu_size=1024).to_bytes()).to_bytes()
    RLRE = RLRE(reason=ReleaseResponseReason.NORMAL).to_bytes()
    GETS = [GetResponseNormal(InvokeIdAndPriority(i, True, True), _CANNED_TIME).to_bytes() for i in range(16)]

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.reader = WrapperReader()

    def data_received(self, data: bytes) -> None:
        self.reader.receive_data(data)
        while (frame := self.reader.next_frame()) is not None:
            tag = frame.apdu[0]
            answer = self.AARE if tag == 0x60 else self.RLRE if tag == 0x62 else self.GETS[frame.apdu[2] & 0x0F]
            self.transport.write(WrapperFrame(frame.destination_wport, frame.source_wport, answer).to_bytes())


async def serve_canned(host: str, port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_Canned, host, port, backlog=4096)
    sys.stdout.write(f"canned server on {host}:{port}\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["canned"]:
        import uvloop
        uvloop.run(serve_canned(args[1], int(args[2])))
        return 0
    job = json.loads(args[0])
    sys.stdout.write(json.dumps(run_job(job)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
