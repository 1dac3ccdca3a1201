"""The rig's head-end: collects from every meter of a fleet over the TCP wrapper, as a head-end's daily read does.

For each meter: associate (low-level security with a password, else the public client), read the serial
number, the clock, active energy import (1.0.1.8.0.255 with its scaler and unit) and the last day's load
profile (1.0.99.1.0.255 by range: yesterday 00:00 to today 00:00 of the meter's own clock), release.
One line per meter and a summary; the exit status is 0 only when every meter was collected.

It is an independent client: gurux-dlms from PyPI builds and parses the frames, this file moves them
over asyncio streams, a bounded number of meters at once. It knows nothing of the simulator.

    collector.py --meter 127.0.0.1:4059 --meter 127.0.0.1:4061 --password 12345678
    collector.py --hosts sim-0,sim-1,sim-2 --first-port 4059 --count 300 --json
        (meter i at host i % 3, port 4059 + i: the rig's shards, each serving every third meter)

The password may come from COSEM_COLLECTOR_PASSWORD instead (kept out of the process list); it is
never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

from gurux_dlms import GXByteBuffer, GXDateTime, GXDLMSClient, GXDLMSException, GXReplyData
from gurux_dlms.enums import AssociationResult, Authentication, ErrorCode, InterfaceType, SourceDiagnostic
from gurux_dlms.objects import GXDLMSClock, GXDLMSData, GXDLMSProfileGeneric, GXDLMSRegister

SERIAL_NUMBER = "0.0.96.1.0.255"
CLOCK = "0.0.1.0.0.255"
ACTIVE_ENERGY_IMPORT = "1.0.1.8.0.255"
LOAD_PROFILE = "1.0.99.1.0.255"
PUBLIC_CLIENT, READER_CLIENT = 16, 2
PASSWORD_VARIABLE = "COSEM_COLLECTOR_PASSWORD"
# Unit symbols of the codes a register of a meter's daily read carries (IEC 62056-6-2, "Enumerated
# values for physical units"; 255 is a count without unit).
UNITS = {8: "°", 9: "°C", 13: "m3", 14: "m3", 27: "W", 28: "VA", 29: "var", 30: "Wh", 31: "VAh", 32: "varh",
         33: "A", 35: "V", 44: "Hz", 255: ""}


@dataclass(frozen=True)
class Target:
    """Where a meter's TCP wrapper listens."""

    host: str
    port: int

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass
class Reading:
    """What one meter gave, or why it gave nothing."""

    address: str
    ok: bool
    reason: str | None = None
    serial: str | None = None
    clock: str | None = None
    energy: float | None = None
    unit: str | None = None
    rows: int | None = None
    first_row: str | None = None  # the capture time of the first and last row (a clock in the first column)
    last_row: str | None = None
    attempts: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        if not self.ok:
            return f"failed {self.address}: {self.reason} ({self._tries()})"
        serial = f"serial {self.serial} " if self.serial is not None else ""
        return (f"ok     {self.address} {serial}clock {self.clock} energy {self.energy:g} {self.unit} "
                f"rows {self.rows} ({self.seconds:.2f} s{', ' + self._tries() if self.attempts > 1 else ''})")

    def _tries(self) -> str:
        return f"{self.attempts} attempt{'s' if self.attempts > 1 else ''}"


class Refused(Exception):
    """The meter answered, and the answer was no: trying again would get the same answer."""


@dataclass(frozen=True)
class Settings:
    client_sap: int
    password: str | None
    server_sap: int
    timeout_s: float


class Session:
    """One association with one meter: gurux's frames over an asyncio stream."""

    def __init__(self, settings: Settings) -> None:
        self.timeout_s = settings.timeout_s
        if settings.password is not None:
            self.client = GXDLMSClient(True, settings.client_sap, settings.server_sap, Authentication.LOW,
                                       settings.password, InterfaceType.WRAPPER)
        else:
            self.client = GXDLMSClient(True, settings.client_sap, settings.server_sap, Authentication.NONE,
                                       None, InterfaceType.WRAPPER)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.unread = b""  # octets after the frame just parsed
        self.step = "connecting"  # what a timeout interrupted, for the report

    async def open(self, target: Target) -> None:
        self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection(target.host, target.port),
                                                          self.timeout_s)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:  # reset by the meter: closed all the same
                pass

    async def _exchange(self, request: Any, reply: GXReplyData) -> None:
        assert self.reader is not None and self.writer is not None, "open() first"
        if request is not None:
            self.writer.write(bytes(request))
            await self.writer.drain()
        buffer = GXByteBuffer(self.unread)
        while not self.client.getData(buffer, reply, GXReplyData()):
            data = await asyncio.wait_for(self.reader.read(65536), self.timeout_s)
            if not data:
                raise ConnectionError("the meter closed the connection")
            buffer.set(data)
        self.unread = bytes(buffer.array()[buffer.position:])

    async def request(self, requests: Sequence[Any]) -> GXReplyData:
        reply = GXReplyData()
        for data in requests:
            reply.clear()
            await self._exchange(data, reply)
            while reply.isMoreData():  # the answer comes in blocks
                await self._exchange(None if reply.isStreaming() else self.client.receiverReady(reply), reply)
        if reply.error:
            raise Refused(_access_result(reply.error))
        return reply

    async def associate(self) -> None:
        self.step = "associating"
        reply = await self.request(self.client.aarqRequest())
        try:
            self.client.parseAareResponse(reply.data)
        except GXDLMSException as exc:
            raise Refused(_association_refusal(exc)) from None

    async def read(self, obj: Any, attribute: int) -> Any:
        self.step = f"reading {obj.logicalName} attribute {attribute}"
        try:
            reply = await self.request(self.client.read(obj, attribute))
        except Refused as exc:
            raise Refused(f"{obj.logicalName} attribute {attribute}: {exc}") from None
        return self.client.updateValue(obj, attribute, reply.value)

    async def rows_by_range(self, profile: GXDLMSProfileGeneric, start: datetime, end: datetime) -> list[Any]:
        self.step = f"reading {profile.logicalName} rows by range"
        try:
            reply = await self.request(self.client.readRowsByRange(profile, start, end))
        except Refused as exc:
            raise Refused(f"{profile.logicalName} rows by range: {exc}") from None
        self.client.updateValue(profile, 2, reply.value)
        return list(profile.buffer)

    async def release(self) -> None:
        self.step = "releasing"
        await self.request(self.client.releaseRequest())


def _capture_time(row: Sequence[Any]) -> str | None:
    stamp = row[0] if row else None
    return stamp.value.isoformat(timespec="seconds") if isinstance(stamp, GXDateTime) else None


def _access_result(code: int) -> str:
    try:
        return ErrorCode(code).name.lower().replace("_", "-")
    except ValueError:
        return f"data-access-result {code}"


def _association_refusal(exc: GXDLMSException) -> str:
    result = getattr(exc, "result", None)
    if result is None:
        return f"association refused: {exc}"
    diagnostic = getattr(exc, "diagnostic", None)
    try:
        why = SourceDiagnostic(diagnostic).name.lower().replace("_", " ")
    except ValueError:
        why = f"diagnostic {diagnostic}"
    how = "permanently" if result == AssociationResult.PERMANENT_REJECTED else "transiently"
    return f"association rejected {how} ({why})"


async def collect_once(session: Session, target: Target, reading: Reading) -> None:
    """Connect, associate, read, release: fills `reading`, raises on the first failure."""
    try:
        await session.open(target)
        await session.associate()
        serial = GXDLMSData(SERIAL_NUMBER)
        try:
            await session.read(serial, 2)
            reading.serial = serial.value.decode("latin-1") if isinstance(serial.value, bytes) else str(serial.value)
        except Refused:  # a meter without a serial number object is named by its address
            reading.serial = None
        clock = GXDLMSClock(CLOCK)
        await session.read(clock, 2)
        now: datetime = clock.time.value
        reading.clock = now.isoformat(timespec="seconds")
        energy = GXDLMSRegister(ACTIVE_ENERGY_IMPORT)
        await session.read(energy, 3)  # scaler and unit first: gurux scales the value it reads after them
        await session.read(energy, 2)
        reading.energy, reading.unit = float(energy.value), UNITS.get(int(energy.unit), f"unit {int(energy.unit)}")
        profile = GXDLMSProfileGeneric(LOAD_PROFILE)
        await session.read(profile, 3)  # the columns, which gurux needs to read rows
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)  # midnight of the meter's own day
        rows = await session.rows_by_range(profile, today - timedelta(days=1), today)
        reading.rows = len(rows)
        if rows:
            reading.first_row, reading.last_row = _capture_time(rows[0]), _capture_time(rows[-1])
        await session.release()
    finally:
        await session.close()


async def collect(target: Target, settings: Settings, retries: int) -> Reading:
    """One meter, tried again (once by default) when the connection failed; a refusal is final."""
    started = time.monotonic()
    reading = Reading(target.address, ok=False)
    for attempt in range(1, retries + 2):
        reading = Reading(target.address, ok=False, attempts=attempt)
        session = Session(settings)
        try:
            await collect_once(session, target, reading)
            reading.ok = True
            break
        except Refused as exc:
            reading.reason = str(exc)
            break
        except TimeoutError:
            reading.reason = f"no answer within {settings.timeout_s:g} s while {session.step}"
        except ConnectionRefusedError:
            reading.reason = "connection refused"
        except OSError as exc:  # reset, closed by the meter, unknown host, unreachable
            reading.reason = f"{exc.strerror or exc} while {session.step}"
        except Exception as exc:  # an answer gurux could not parse: the meter's fault, reported as such
            reading.reason = f"unexpected answer while {session.step} ({type(exc).__name__}: {exc})"
            break
    reading.seconds = time.monotonic() - started
    return reading


async def collect_all(targets: Sequence[Target], settings: Settings, concurrency: int, retries: int,
                      report: Callable[[Reading], None] | None = None) -> list[Reading]:
    """Every meter, at most `concurrency` at once (that many workers, not a task per meter: a rig may
    have 100,000); `report(reading)` as each one ends. The readings come back in the targets' order."""
    readings: list[Reading | None] = [None] * len(targets)
    queue = iter(enumerate(targets))

    async def worker() -> None:
        for i, target in queue:
            readings[i] = reading = await collect(target, settings, retries)
            if report is not None:
                report(reading)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(targets)))))
    return [r for r in readings if r is not None]


def parse_meter(text: str) -> Target:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, like 127.0.0.1:4059, not {text!r}")
    return Target(host.strip("[]"), int(port))


def range_targets(hosts: Sequence[str], first_port: int, count: int) -> list[Target]:
    """Meter i at host i % len(hosts), port first_port + i: the rig's shards, each serving every N-th meter."""
    if first_port + count - 1 > 65535:
        raise ValueError(f"--first-port {first_port} and --count {count} go past port 65535")
    return [Target(hosts[i % len(hosts)], first_port + i) for i in range(count)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="collector", description="Collect the clock, active energy import and the last day's load profile "
                                      "from every meter, and report each meter's success.")
    parser.add_argument("--meter", action="append", default=[], type=parse_meter, metavar="HOST:PORT",
                        help="a meter's TCP wrapper (repeat for more)")
    parser.add_argument("--hosts", help="comma-separated hosts: meter i is on host i %% len(hosts) ...")
    parser.add_argument("--first-port", type=int, help="... port FIRST_PORT + i")
    parser.add_argument("--count", type=int, help="... for i from 0 to COUNT - 1")
    parser.add_argument("--client", type=int, help=f"client SAP (default: {READER_CLIENT} with a password, "
                                                   f"{PUBLIC_CLIENT} without)")
    parser.add_argument("--password", help=f"low-level security password (or ${PASSWORD_VARIABLE}); "
                                            "without one the client associates without authentication")
    parser.add_argument("--server", type=int, default=1, help="server SAP, the logical device (default 1)")
    parser.add_argument("--concurrency", type=int, default=20, help="meters collected at once (default 20)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer (default 10)")
    parser.add_argument("--retries", type=int, default=1,
                        help="times a meter whose connection failed is tried again (default 1)")
    parser.add_argument("--json", action="store_true", help="one JSON document instead of lines")
    return parser


def targets_of(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[Target]:
    targets = list(args.meter)
    ranged = (args.hosts, args.first_port, args.count)
    if any(v is not None for v in ranged):
        if any(v is None for v in ranged):
            parser.error("--hosts, --first-port and --count go together")
        hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
        if not hosts or args.count < 1 or args.first_port < 1:
            parser.error("--hosts needs a host, --count and --first-port a positive number")
        try:
            targets += range_targets(hosts, args.first_port, args.count)
        except ValueError as exc:
            parser.error(str(exc))
    if not targets:
        parser.error("no meters: give --meter HOST:PORT or --hosts, --first-port and --count")
    return targets


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    targets = targets_of(args, parser)
    if args.concurrency < 1 or args.timeout <= 0 or args.retries < 0:
        parser.error("--concurrency must be at least 1, --timeout above 0, --retries 0 or more")
    password = args.password if args.password is not None else os.environ.get(PASSWORD_VARIABLE) or None
    client = args.client if args.client is not None else (READER_CLIENT if password is not None else PUBLIC_CLIENT)
    settings = Settings(client, password, args.server, args.timeout)

    def report(reading: Reading) -> None:
        if not args.json:
            print(reading.line(), flush=True)

    started = time.monotonic()
    readings = asyncio.run(collect_all(targets, settings, args.concurrency, args.retries, report))
    failed = sum(1 for r in readings if not r.ok)
    seconds = time.monotonic() - started
    if args.json:
        json.dump({"meters": [asdict(r) for r in readings],
                   "summary": {"meters": len(readings), "collected": len(readings) - failed, "failed": failed,
                               "seconds": round(seconds, 3)}}, sys.stdout, indent=1)
        print()
    else:
        print(f"collected {len(readings) - failed} of {len(readings)} meters, {failed} failed, "
              f"in {seconds:.1f} s", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
