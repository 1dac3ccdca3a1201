"""What makes a meter push by itself, without sockets: which schedules push, each meter's offset in
its randomisation interval, the catch-up that queues a scheduled push, and the alarm check."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from simulator.axdr import CosemTime, Data, DataType, Obis
from simulator.living.events import events_between
from simulator.living.noise import meter_seed
from simulator.model.loader import load_model
from simulator.model.spec import MeterModel
from simulator.server.objects import Meter, ObjectHandle, TimeBase
from simulator.server.objects import PushRequest
from simulator.server.push_plan import (
    ScheduledPush, alarm_rose, follows_model, own_scheduled_pushes, planning_attributes, push_offset, pushes_on,
    scheduled_pushes, wake,
)
from tests.cosem.helpers import array, octets, struct, u16

MODELS = Path(__file__).parent.parent / "push_models"
DAILY = load_model(MODELS / "daily.yaml")
ALARM = load_model(MODELS / "alarm.yaml")
SAS, SCRIPTS, PUSH, CLOCK, LDN = (Obis(t) for t in (
    "0.0.15.0.4.255", "0.0.10.0.108.255", "0.1.25.9.0.255", "0.0.1.0.0.255", "0.0.42.0.0.255"))
ALARM_REGISTER, ALARM_FILTER = Obis("0.0.97.98.0.255"), Obis("0.0.97.98.10.255")
FRAUD_BIT = 1 << 13  # meter cover removed (cosem/events.py ALARM_BITS)


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


INSTALLED = utc("2024-01-01T00:00:00")


def index_of(model: MeterModel, name: Obis) -> int:
    spec = model.logical_devices[1].find(bytes(name))
    assert spec is not None
    return spec.index


def meter(model: MeterModel, start: float, *, static: bool = False, serial: str = "00000001") -> Meter:
    if static:
        model = replace(model, living=None)
    return Meter(model, 0, {"serial": serial}, TimeBase(start, 0.0, 1.0, INSTALLED))


def handle(m: Meter, name: Obis, now: float = 0.0) -> ObjectHandle:
    device = m.model.logical_devices[1]
    spec = device.find(bytes(name))
    assert spec is not None
    return ObjectHandle(m, device, spec, now)


def action(service: int, class_id: int, name: Obis, index: int, parameter: Data) -> Data:
    return struct(Data(DataType.ENUM, service), u16(class_id), octets(bytes(name)), Data(DataType.INTEGER, index),
                  parameter)


def test_a_schedule_whose_script_pushes_is_a_scheduled_push() -> None:
    assert scheduled_pushes(DAILY) == [ScheduledPush(1, index_of(DAILY, SAS), (index_of(DAILY, PUSH),))]
    assert scheduled_pushes(ALARM) == []  # pushes on events only


def test_scheduled_pushes_read_the_meters_own_scripts() -> None:
    m = meter(DAILY, INSTALLED)
    table = handle(m, SCRIPTS)
    writes = struct(u16(1), array(action(1, 1, LDN, 2, octets(b"x"))))
    table.set(2, array(writes))
    assert own_scheduled_pushes(m) == []
    assert scheduled_pushes(DAILY) != []  # the model's stay
    # script 1 executes script 2 of the same table, which pushes
    nested = struct(u16(1), array(action(2, 9, SCRIPTS, 1, u16(2))))
    pushing = struct(u16(2), array(action(2, 40, PUSH, 1, Data(DataType.INTEGER, 0))))
    table.set(2, array(nested, pushing))
    assert own_scheduled_pushes(m) == [ScheduledPush(1, index_of(DAILY, SAS), (index_of(DAILY, PUSH),))]


def test_pushes_on_an_event() -> None:
    assert pushes_on(ALARM, "alarm") == [(1, index_of(ALARM, Obis("0.0.25.9.0.255")))]
    assert pushes_on(ALARM, "power_up") == [(1, index_of(ALARM, Obis("0.0.25.9.1.255")))]
    assert pushes_on(ALARM, "installation") == [(1, index_of(ALARM, Obis("0.0.25.9.2.255")))]
    assert pushes_on(DAILY, "alarm") == []


def test_push_offset_is_the_meters_own_place_in_the_interval() -> None:
    seeds = [meter_seed(0, f"{i:08d}") for i in range(1000)]
    offsets = [push_offset(s, 1, 3, 600) for s in seeds]
    assert all(0 <= o < 600 for o in offsets)
    assert offsets == [push_offset(s, 1, 3, 600) for s in seeds]  # the same whoever asks
    assert offsets != [push_offset(s, 1, 4, 600) for s in seeds]  # each push setup its own
    assert push_offset(seeds[0], 1, 3, 0) == 0.0
    deciles = [0] * 10
    for o in offsets:
        deciles[int(o // 60)] += 1
    assert max(deciles) < 150 and min(deciles) > 50  # spread over the interval, not bunched


def test_wake_runs_the_catch_up_whose_script_queues_the_push() -> None:
    now = 0.0  # the time base starts at 2024-01-03 12:00
    m = meter(DAILY, utc("2024-01-03T12:00:00"))
    requests = wake(m, now)
    push = index_of(DAILY, PUSH)
    runs = [utc(f"2024-01-0{d}T00:05:00") for d in (1, 2, 3)]
    assert [(r.server_sap, r.index, r.trigger) for r in requests] == [(1, push, "script")] * 3
    assert [r.now for r in requests] == pytest.approx([m.time_base.now_of(t) for t in runs])
    assert wake(m, now + 60) == []  # nothing new fell due
    assert wake(m, m.time_base.now_of(utc("2024-01-04T00:05:01")))[0] == PushRequest(
        1, push, pytest.approx(m.time_base.now_of(utc("2024-01-04T00:05:00"))), "script")


def test_a_static_meter_has_no_catch_up() -> None:
    m = meter(DAILY, utc("2024-01-03T12:00:00"), static=True)
    assert wake(m, 0.0) == []


def test_follows_model_until_its_schedule_or_clock_is_its_own() -> None:
    planning = planning_attributes(DAILY)
    m = meter(DAILY, INSTALLED)
    assert follows_model(m, planning)
    handle(m, LDN).set(2, octets(b"another name"))
    destination = handle(m, PUSH).get(3)
    handle(m, PUSH).set(3, struct(destination.value[0], octets(b"127.0.0.2:4058"), destination.value[2]))
    assert follows_model(m, planning)  # not values that say when it pushes
    when = struct(octets(CosemTime(6, 0, 0, 0).to_bytes()), octets(bytes.fromhex("FFFFFFFFFF")))
    handle(m, SAS).write(4, array(when))
    assert not follows_model(m, planning)
    shifted = meter(DAILY, INSTALLED)
    shifted.state.shift_clock(30)
    assert not follows_model(shifted, planning)


def cover_openings(m: Meter, t0: float, t1: float) -> list[float]:
    living = m.living
    assert living is not None and living.model.events is not None
    return [e.start for e in events_between(living.model.events, living.seed, living.installed, t0, t1)
            if e.kind == "cover_open"]


def test_an_alarm_rises_at_an_event_whose_bit_was_not_set() -> None:
    m = meter(ALARM, INSTALLED)
    device = m.model.logical_devices[1]
    first, second = cover_openings(m, INSTALLED, INSTALLED + 3 * 86400)[:2]
    assert alarm_rose(m, device, first)
    assert not alarm_rose(m, device, first + 5)  # no event then
    assert not alarm_rose(m, device, second)  # the bit was set already


def test_an_alarm_rises_again_after_a_client_cleared_the_register() -> None:
    m = meter(ALARM, INSTALLED)
    device = m.model.logical_devices[1]
    first, second = cover_openings(m, INSTALLED, INSTALLED + 3 * 86400)[:2]
    register = handle(m, ALARM_REGISTER, m.time_base.now_of((first + second) / 2))
    assert register.get(2).value & FRAUD_BIT
    register.write(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 0))
    assert alarm_rose(m, device, second)


def test_a_filtered_alarm_does_not_rise() -> None:
    m = meter(ALARM, INSTALLED)
    device = m.model.logical_devices[1]
    [first] = cover_openings(m, INSTALLED, INSTALLED + 3 * 86400)[:1]
    handle(m, ALARM_FILTER).set(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 0xFFFFFFFF & ~FRAUD_BIT))
    assert not alarm_rose(m, device, first)


def test_wake_leaves_a_scripts_push_reset_for_the_runtime() -> None:
    m = meter(DAILY, utc("2024-01-01T12:00:00"))
    push = index_of(DAILY, PUSH)
    reset_then_push = struct(u16(1), array(action(2, 40, PUSH, 2, Data(DataType.INTEGER, 0)),
                                           action(2, 40, PUSH, 1, Data(DataType.INTEGER, 0))))
    handle(m, SCRIPTS).set(2, array(reset_then_push))
    [request] = wake(m, 0.0)
    assert (request.index, request.trigger) == (push, "script")
    assert m.push_reset == {(1, push)}  # Fleet.take_pushes hands it to the pusher
