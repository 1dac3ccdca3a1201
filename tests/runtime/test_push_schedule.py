"""Over real sockets: meters push by themselves, as the push scheduler plans it, to a head-end's
push port whose notifications gurux-dlms decodes.

- 1,000 living meters, each at its own loopback address, push once at their daily schedule's
  time, spread over the 10-minute randomisation interval, each from its own address;
- a meter whose client SET its own execution time (and no randomisation) pushes at that time,
  also after a restart with its state;
- a meter with frequent tamper events pushes its alarm register after an event sets its fraud
  bit, not for the next one while the bit stays set, and again once a client cleared it;
- power-up pushes at every start, the installation push only at the first one (the state dir
  keeps that it was sent);
- a static meter (no `living:`, so no catch-up) is pushed by the scheduler at its schedule's time;
- the end of a generated power failure pushes power-up, and the alarm its power-up bit raises;
  every failure's end asks for one, in the week of the start and in the week after.

The fleets run accelerated (rate 300 or 600), so a simulated 10 minutes take one or two seconds.
"""

from __future__ import annotations

import math
import selectors
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from dlms_cosem import cosem, enumerations
from gurux_dlms import GXByteBuffer, GXDLMSClient, GXReplyData
from gurux_dlms.enums import Authentication, InterfaceType

from simulator.axdr import CosemTime, Data, DataType
from simulator.living.events import BUCKET_S, EventModel, events_between
from simulator.living.noise import meter_seed
from simulator.model.loader import load_model
from simulator.runtime.push_schedule import PushScheduler
from simulator.server.objects import PushRequest
from simulator.server.push_plan import push_offset

from .harness import RunningFleet
from .peers import dlms_client, wrapper_transport

MODELS = Path(__file__).resolve().parents[1] / "push_models"
DAILY = MODELS / "daily.yaml"
ALARM = MODELS / "alarm.yaml"
HOST = "127.0.0.1"
DAILY_PUSH = bytes.fromhex("0001190900FF")  # 0.1.25.9.0.255, the first value of each daily push
ALARM_PUSH, POWER_UP_PUSH, INSTALLATION_PUSH = (bytes((0, 0, 25, 9, i, 255)) for i in range(3))  # 0.0.25.9.i.255
FRAUD_BIT = 1 << 13  # meter cover removed (simulator/cosem/events.py ALARM_BITS)
POWER_UP_BIT = 1 << 2
INSTALLER = 2  # the models' management client (low-level security, the demo password)
WAIT_S = 20.0  # a bound on waiting for notifications a correct fleet sends within seconds
SOON = timedelta(seconds=300)  # an event's push comes within half a second at rate 600, loaded or not


@dataclass(frozen=True)
class Received:
    """One DataNotification as gurux-dlms decoded it."""

    peer: str  # the address the meter pushed from
    at: datetime  # its date-time: the meter's clock when it pushed (UTC, the models' zone)
    values: list[Any]  # the push object list's values, in order


class Receiver:
    """A head-end's push port on 127.0.0.1 (port 0): every connection's wrapper frames are decoded
    with gurux-dlms's GXDLMSClient.getData, which hands a DataNotification to its `notify` reply."""

    def __init__(self) -> None:
        self._listener = socket.create_server((HOST, 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._buffers: dict[socket.socket, tuple[str, bytearray]] = {}
        self._received: list[Received] = []
        self._changed = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._thread.join(5)
        for sock in list(self._buffers):
            sock.close()
        self._listener.close()
        self._selector.close()

    def _serve(self) -> None:
        while not self._stop:
            for key, _ in self._selector.select(0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    try:
                        conn, (peer, _port) = self._listener.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    self._buffers[conn] = (peer, bytearray())
                    self._selector.register(conn, selectors.EVENT_READ)
                    continue
                peer, buffer = self._buffers[sock]
                data = sock.recv(65536)
                if data:
                    buffer += data
                    continue
                self._selector.unregister(sock)
                del self._buffers[sock]
                sock.close()
                found = decode(peer, bytes(buffer))
                with self._changed:
                    self._received.extend(found)
                    self._changed.notify_all()

    def wait(self, predicate: Any, what: str) -> list[Received]:
        """Everything received once `predicate(received)` holds (fails after WAIT_S)."""
        deadline = time.monotonic() + WAIT_S
        with self._changed:
            while not predicate(self._received):
                left = deadline - time.monotonic()
                assert left > 0, f"{what}: received only {len(self._received)} notifications"
                self._changed.wait(left)
            return list(self._received)

    def count(self, n: int) -> list[Received]:
        return self.wait(lambda got: len(got) >= n, f"{n} notifications")


def decode(peer: str, stream: bytes) -> list[Received]:
    """The notifications in one connection's bytes: wrapper frames (8-octet header, length last)."""
    client = GXDLMSClient(True, 1, 1, Authentication.NONE, None, InterfaceType.WRAPPER)
    out = []
    while len(stream) >= 8:
        size = 8 + int.from_bytes(stream[6:8], "big")
        frame, stream = stream[:size], stream[size:]
        reply, notify = GXReplyData(), GXReplyData()
        client.getData(GXByteBuffer(frame), reply, notify)
        assert notify.complete and notify.time is not None, f"not a data-notification: {frame.hex()}"
        at = notify.time.value
        at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
        out.append(Received(peer, at, list(notify.value)))
    assert stream == b"", "a partial frame"
    return out


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def zulu(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def fleet_profile(model: Path, count: int, start: datetime, rate: int, port: int) -> str:
    return f"""
time: {{start: {zulu(start)}, rate: {rate}}}
limits: {{push_connections_per_s: 10000}}
groups:
  - name: m
    model: {model}
    count: {count}
    push: {{destination: "{HOST}:{port}"}}
    listen:
      - {{transport: tcp, addressing: address, host: 127.0.1.1, port: 0}}
"""


def address(i: int) -> str:
    """Meter i's loopback address: 127.0.1.1 + i."""
    base = int.from_bytes(socket.inet_aton("127.0.1.1"), "big")
    return socket.inet_ntoa((base + i).to_bytes(4, "big"))


def attribute(interface: enumerations.CosemInterface, obis: str, index: int) -> cosem.CosemAttribute:
    return cosem.CosemAttribute(interface=interface, instance=cosem.Obis.from_string(obis), attribute=index)


EXECUTION_TIME = attribute(enumerations.CosemInterface.SINGLE_ACTION_SCHEDULE, "0.0.15.0.4.255", 4)
RANDOMISATION = attribute(enumerations.CosemInterface.PUSH, "0.1.25.9.0.255", 5)
ALARM_REGISTER = attribute(enumerations.CosemInterface.DATA, "0.0.97.98.0.255", 2)


def set_value(fleet: RunningFleet, meter: int, target: cosem.CosemAttribute, value: Data) -> None:
    """A client SETs one of meter `meter`'s attributes (the installer association)."""
    client = dlms_client(wrapper_transport(fleet.port("tcp"), INSTALLER, host=address(meter)), INSTALLER)
    with client.session() as session:
        session.set(target, value.to_bytes())


# --------------------------------------------------------------------------- scheduled pushes

def test_a_thousand_meters_push_once_each_spread_over_the_randomisation_interval(tmp_path: Path) -> None:
    n, interval = 1000, timedelta(seconds=600)
    run = utc("2024-01-03T00:05:00")  # the model's daily push
    with Receiver() as receiver, \
            RunningFleet(fleet_profile(DAILY, n, run - timedelta(seconds=30), 300, receiver.port), tmp_path):
        got = receiver.count(n)
    assert len(got) == n
    assert sorted(r.peer for r in got) == sorted(address(i) for i in range(n))  # each from its own address
    assert {bytes(r.values[0]) for r in got} == {DAILY_PUSH}
    assert sorted(bytes(r.values[1]) for r in got) == sorted(f"SIM{i + 1:08d}".encode() for i in range(n))
    times = [(r.at - run).total_seconds() for r in got]
    assert min(times) >= 0
    span = interval.total_seconds()
    assert min(times) < 0.1 * span and max(times) > 0.9 * span  # they cover the interval
    # not bunched: no tenth of it holds more than three times its share (what each meter's
    # seeded offset gives, plus the loop's delays at rate 300)
    tenths = Counter(min(int(10 * t // span), 10) for t in times)
    assert max(tenths.values()) <= 3 * n // 10, tenths


def test_a_meter_whose_client_set_its_execution_time_pushes_at_that_time(tmp_path: Path) -> None:
    """... and still does after a restart, its values read back from the state dir."""
    n, own = 20, 7
    start, own_run, run = utc("2024-01-02T23:45:00"), utc("2024-01-03T00:02:00"), utc("2024-01-03T00:05:00")
    # precondition: in its group, meter 7 would push before the last of the others (so a push of
    # its at the group's time would be among the first n received)
    offsets = [push_offset(meter_seed(0, f"{i + 1:08d}"), 1, 3, 600) for i in range(n)]
    assert offsets[own] < max(offsets)
    for day in (0, 1):  # the next day: the fleet restarted with its state
        with Receiver() as receiver, RunningFleet(fleet_profile(DAILY, n, start + timedelta(days=day), 600,
                                                                receiver.port),
                                                  tmp_path, state_dir=tmp_path / "state") as fleet:
            if not day:
                set_value(fleet, own, RANDOMISATION, Data(DataType.LONG_UNSIGNED, 0))
                when = Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, CosemTime(0, 2, 0, 0).to_bytes()),
                                                 Data(DataType.OCTET_STRING, bytes.fromhex("FFFFFFFFFF"))))
                set_value(fleet, own, EXECUTION_TIME, Data(DataType.ARRAY, (when,)))
            got = receiver.count(n)
        pushed = {r.peer: r for r in got}
        assert len(pushed) == n == len(got)  # each meter once
        mine = pushed[address(own)]
        mine_at, others_at = own_run + timedelta(days=day), run + timedelta(days=day)
        assert mine_at <= mine.at < others_at  # its own time, not randomised, before the group's
        assert all(others_at <= r.at for peer, r in pushed.items() if peer != address(own))


def test_static_meters_are_pushed_by_the_scheduler(tmp_path: Path) -> None:
    """A meter without `living:` runs no schedule by itself: the scheduler asks for its push."""
    n, run = 5, utc("2024-01-03T00:05:00")
    static = tmp_path / "static.yaml"
    text = DAILY.read_text(encoding="utf-8")
    assert "living:\n  events: none\n" in text
    static.write_text(text.replace("living:\n  events: none\n", ""), encoding="utf-8")
    with Receiver() as receiver, \
            RunningFleet(fleet_profile(static, n, run - timedelta(seconds=30), 300, receiver.port), tmp_path):
        got = receiver.count(n)
    assert sorted(r.peer for r in got) == sorted(address(i) for i in range(n))
    assert all(run <= r.at < run + timedelta(seconds=660) for r in got)


# --------------------------------------------------------------------------- events, power-up, installation

def cover_openings(start: datetime) -> list[datetime]:
    """Meter 0's generated meter-cover openings in the day from `start` (it is installed then)."""
    model = load_model(ALARM)
    assert model.living is not None and model.living.events is not None
    t0 = start.timestamp()
    return [datetime.fromtimestamp(e.start, timezone.utc)
            for e in events_between(model.living.events, meter_seed(0, "00000001"), t0, t0, t0 + 86400)
            if e.kind == "cover_open"]


def pushes_of(got: list[Received], setup: bytes) -> list[Received]:
    return [r for r in got if bytes(r.values[0]) == setup]


def test_alarm_power_up_and_installation_pushes(tmp_path: Path) -> None:
    first_day = cover_openings(utc("2024-01-03T00:00:00"))
    start = first_day[0] - timedelta(seconds=300)  # the first cover opening comes 300 s after the start
    first, second = cover_openings(start)[:2]
    assert second - first > timedelta(seconds=1200)  # 2 s at rate 600: time to clear the register
    profile = fleet_profile(ALARM, 1, start, 600, 0)

    with Receiver() as receiver:
        with RunningFleet(profile.replace(f'"{HOST}:0"', f'"{HOST}:{receiver.port}"'), tmp_path,
                          state_dir=tmp_path / "state") as fleet:
            got = receiver.wait(lambda got: pushes_of(got, ALARM_PUSH), "the first alarm push")
            assert len(pushes_of(got, POWER_UP_PUSH)) == 1 and len(pushes_of(got, INSTALLATION_PUSH)) == 1
            assert pushes_of(got, INSTALLATION_PUSH)[0].values[1] == b"SIM00000001"  # the device's name
            [alarm] = pushes_of(got, ALARM_PUSH)
            assert first <= alarm.at < first + SOON
            assert alarm.values[2] & FRAUD_BIT
            set_value(fleet, 0, ALARM_REGISTER, Data(DataType.DOUBLE_LONG_UNSIGNED, 0))  # the head-end clears it
            got = receiver.wait(lambda got: len(pushes_of(got, ALARM_PUSH)) >= 2, "the alarm push after clearing")
            again = pushes_of(got, ALARM_PUSH)[1]
            assert second <= again.at < second + SOON
            assert again.values[2] == FRAUD_BIT  # only the new event's bit since the clearing

    with Receiver() as receiver:  # the same meter started again, with its state
        with RunningFleet(profile.replace(f'"{HOST}:0"', f'"{HOST}:{receiver.port}"'), tmp_path,
                          state_dir=tmp_path / "state"):
            got = receiver.wait(lambda got: pushes_of(got, ALARM_PUSH), "the alarm push of the second run")
    assert len(pushes_of(got, POWER_UP_PUSH)) == 1  # power-up at every start
    assert pushes_of(got, INSTALLATION_PUSH) == []  # installed once: it was not pushed again


def outage_model(directory: Path) -> tuple[Path, EventModel]:
    """The alarm model with a power failure every few hours (a minute each) and no tamper."""
    text = ALARM.read_text(encoding="utf-8")
    failing = text.replace("power_failure: {per_year: 0}",
                           "power_failure: {per_year: 3000, mean_seconds: 60, spread: 0}") \
        .replace("cover_open: {per_year: 3000, mean_seconds: 10, spread: 0}", "cover_open: {per_year: 0}")
    assert failing.count("per_year: 3000") == 1 and "mean_seconds: 60" in failing
    model = directory / "outages.yaml"
    model.write_text(failing, encoding="utf-8")
    living = load_model(model).living
    assert living is not None and living.events is not None
    return model, living.events


def test_the_end_of_a_power_failure_pushes_power_up_and_its_alarm(tmp_path: Path) -> None:
    model, events = outage_model(tmp_path)
    t0 = utc("2024-01-03T00:00:00").timestamp()
    outage = next(e for e in events_between(events, meter_seed(0, "00000001"), t0, t0, t0 + 86400))
    start = datetime.fromtimestamp(outage.start - 60, timezone.utc)  # a minute before the supply fails
    restored = datetime.fromtimestamp(outage.end, timezone.utc)
    with Receiver() as receiver, RunningFleet(fleet_profile(model, 1, start, 600, receiver.port), tmp_path):
        got = receiver.wait(lambda got: len(pushes_of(got, POWER_UP_PUSH)) >= 2 and pushes_of(got, ALARM_PUSH),
                            "the power-up and alarm pushes after the outage")
    at_start, after = pushes_of(got, POWER_UP_PUSH)[:2]
    assert at_start.at < restored <= after.at < restored + SOON
    [alarm] = pushes_of(got, ALARM_PUSH)
    assert restored <= alarm.at and alarm.values[2] == POWER_UP_BIT


def test_every_power_failure_end_across_a_week_boundary_asks_for_its_power_up(tmp_path: Path) -> None:
    """The generated events are looked up a week at a time: the failures of the week after the
    start are found as the fleet's time reaches it. A scheduler of the test's own, beside the
    engine's, records what it asks for (the instant of each request), at a rate where a simulated
    day takes a second."""
    model, events = outage_model(tmp_path)
    boundary = math.ceil(utc("2024-01-03T00:00:00").timestamp() / BUCKET_S) * BUCKET_S
    start, until = boundary - 6 * 3600, boundary + 86400
    ends = [e.end for e in events_between(events, meter_seed(0, "00000001"), start, start, until) if e.end < until]
    assert any(t < boundary for t in ends) and any(t > boundary for t in ends)
    asked: list[tuple[str, float]] = []
    passed = threading.Event()
    with Receiver() as receiver, RunningFleet(fleet_profile(model, 1, datetime.fromtimestamp(start, timezone.utc),
                                                            100_000, receiver.port), tmp_path) as fleet:
        time_base = fleet.engine.fleet.time_base

        def record(live: Any, request: PushRequest) -> None:
            asked.append((request.trigger, time_base.epoch(request.now)))
            if time_base.epoch(request.now) >= until:
                passed.set()

        scheduler = fleet.call(lambda: PushScheduler(fleet.engine, record))
        fleet.call(scheduler.start)
        assert passed.wait(WAIT_S), f"the fleet's time did not pass the day after the week ({len(asked)} asked)"
        fleet.call(scheduler.close)
    at_start, *power_ups = [t for trigger, t in asked if trigger == "power_up" and t < until]
    assert at_start < ends[0]  # the scheduler's start
    assert power_ups == pytest.approx(ends, abs=1e-3)  # each failure's end, in order, once
    assert [t for trigger, t in asked if trigger == "alarm"] == pytest.approx(ends[:1], abs=1e-3)  # the bit stays
