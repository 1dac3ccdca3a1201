"""Tariffs from the activity calendar: tariff_windows / tariff_at, and the active tariff object."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from simulator.axdr import CosemDate, CosemDateTime, CosemTime, Data, DataType, Obis
from simulator.cosem.schedule import activate_calendar_if_due
from simulator.cosem.tariff import tariff_at, tariff_windows
from simulator.living.meter import LivingModel
from simulator.runtime.store import decode_record, encode_record
from simulator.server.objects import Meter, TimeBase
from simulator.state.effects import CalendarActivation
from tests.cosem.helpers import array, octets, struct, u16
from tests.cosem.meter_fixture import TestMeter

CLOCK_LN = "0.0.1.0.0.255"
CALENDAR_LN = "0.0.13.0.0.255"
SPECIAL_LN = "0.0.11.0.0.255"
SCRIPTS_LN = "0.0.10.0.100.255"
TARIFF_LN = "0.0.96.14.0.255"
MARKER_LN = "0.0.96.50.0.255"
H = 3600.0


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def u8(v: int) -> Data:
    return Data(DataType.UNSIGNED, v)


def name(text: str) -> Data:
    return octets(text.encode())


def ln(text: str) -> Data:
    return octets(bytes(Obis(text)))


def season(start: CosemDateTime, week: str) -> Data:
    return struct(name(week), octets(start.to_bytes()), name(week))


def week(label: str, *day_ids: int) -> Data:
    return struct(name(label), *(u8(d) for d in day_ids))


def day(day_id: int, *switches: tuple[int, int]) -> Data:
    """A day profile: (hour, script selector) switches of script table SCRIPTS_LN."""
    return struct(u8(day_id), array(*(struct(octets(CosemTime(h, 0, 0, 0).to_bytes()), ln(SCRIPTS_LN), u16(s))
                                      for h, s in switches)))


def writes(selector: int, target: str, value: Data) -> Data:
    action = struct(Data(DataType.ENUM, 1), u16(1), ln(target), Data(DataType.INTEGER, 2), value)
    return struct(u16(selector), array(action))


EVERY_YEAR = CosemDateTime(None, 1, 1, None, 0, 0, 0, 0, None, None)
WORKDAYS = day(1, (0, 2), (7, 1), (22, 2))  # 07:00-22:00 tariff 1, else 2
WEEKEND = day(2, (0, 2))
HOLIDAY = day(3, (0, 3))  # script 3 writes no tariff: the selector is the tariff
NO_ACTIVATION = CosemDateTime(None, None, None, None, None, None, None, None, None, None)


def tariff_meter(*, weekly: tuple[int, ...] = (1, 1, 1, 1, 1, 2, 2), passive_weekly: tuple[int, ...] = (3,) * 7,
                 activation: CosemDateTime = NO_ACTIVATION, living: bool = True,
                 with_calendar: bool = True) -> TestMeter:
    """A CET/CEST meter whose calendar has workdays and weekends; the passive one holidays only."""
    objects = [
        (8, CLOCK_LN, {3: Data(DataType.LONG, -60),
                       5: octets(CosemDateTime(None, 3, 0xFE, 7, 2, 0, 0, 0, None, None).to_bytes()),
                       6: octets(CosemDateTime(None, 10, 0xFE, 7, 3, 0, 0, 0, None, None).to_bytes()),
                       7: Data(DataType.INTEGER, 60), 8: Data(DataType.BOOLEAN, True)}),
        (9, SCRIPTS_LN, {2: array(writes(1, TARIFF_LN, u8(1)), writes(2, TARIFF_LN, u8(2)),
                                  writes(3, MARKER_LN, Data(DataType.VISIBLE_STRING, "holiday")))}),
        (11, SPECIAL_LN, {2: array(struct(u16(1), octets(CosemDate(None, 12, 25, None).to_bytes()), u8(2)))}),
        (1, TARIFF_LN, {2: u8(1)}),
        (1, MARKER_LN, {2: Data(DataType.VISIBLE_STRING, "")}),
    ]
    if with_calendar:
        objects.append((20, CALENDAR_LN, {
            2: name("STANDARD"), 3: array(season(EVERY_YEAR, "W")), 4: array(week("W", *weekly)),
            5: array(WORKDAYS, WEEKEND), 6: name("HOLIDAYS"), 7: array(season(EVERY_YEAR, "P")),
            8: array(week("P", *passive_weekly)), 9: array(HOLIDAY), 10: octets(activation.to_bytes())}))
    m = TestMeter(objects, start_epoch=utc("2024-01-01T00:00:00"))
    if living:
        m.model = replace(m.model, living=LivingModel())
        m.state = Meter(m.model, 0, {"serial": "00000001"}, TimeBase(utc("2024-01-01T00:00:00")))
    return m


def at(m: TestMeter, fleet_epoch: float) -> None:
    """Move the fleet's time (the test meter's `now`) to `fleet_epoch`."""
    m.now = m.state.time_base.now_of(fleet_epoch)


def windows(m: TestMeter, start: str, end: str) -> list[tuple[str, str, int]]:
    found = tariff_windows(m.obj(TARIFF_LN), utc(start), utc(end))
    return [(datetime.fromtimestamp(a, timezone.utc).isoformat()[:16], datetime.fromtimestamp(b, timezone.utc)
             .isoformat()[:16], t) for a, b, t in found]


def test_workday_switches_at_local_times() -> None:
    # Wednesday 3 January 2024, CET (UTC+1): 07:00 and 22:00 local are 06:00 and 21:00 UTC.
    assert windows(tariff_meter(), "2024-01-02T23:00", "2024-01-03T23:00") == [
        ("2024-01-02T23:00", "2024-01-03T06:00", 2),
        ("2024-01-03T06:00", "2024-01-03T21:00", 1),
        ("2024-01-03T21:00", "2024-01-03T23:00", 2),
    ]


def test_weekend_keeps_one_tariff_across_days() -> None:
    # Friday 22:00 local until Monday 07:00 local: one window of tariff 2.
    assert windows(tariff_meter(), "2024-01-05T12:00", "2024-01-08T12:00") == [
        ("2024-01-05T12:00", "2024-01-05T21:00", 1),
        ("2024-01-05T21:00", "2024-01-08T06:00", 2),
        ("2024-01-08T06:00", "2024-01-08T12:00", 1),
    ]


def test_special_day_overrides_the_week_profile() -> None:
    # Wednesday 25 December 2024 takes day_id 2 from the special days table.
    assert windows(tariff_meter(), "2024-12-24T12:00", "2024-12-26T12:00") == [
        ("2024-12-24T12:00", "2024-12-24T21:00", 1),
        ("2024-12-24T21:00", "2024-12-26T06:00", 2),
        ("2024-12-26T06:00", "2024-12-26T12:00", 1),
    ]


def test_daylight_saving_days() -> None:
    m = tariff_meter(weekly=(1,) * 7)  # Sundays are workdays here
    # Sunday 31 March 2024: clocks go 02:00 -> 03:00 at 01:00 UTC; 07:00 local is CEST (UTC+2).
    assert windows(m, "2024-03-30T23:00", "2024-03-31T22:00") == [
        ("2024-03-30T23:00", "2024-03-31T05:00", 2),
        ("2024-03-31T05:00", "2024-03-31T20:00", 1),
        ("2024-03-31T20:00", "2024-03-31T22:00", 2),
    ]
    # Sunday 27 October 2024: back to CET at 01:00 UTC; 22:00 local is 21:00 UTC.
    assert windows(m, "2024-10-26T22:00", "2024-10-27T23:00") == [
        ("2024-10-26T22:00", "2024-10-27T06:00", 2),
        ("2024-10-27T06:00", "2024-10-27T21:00", 1),
        ("2024-10-27T21:00", "2024-10-27T23:00", 2),
    ]


def test_passive_calendar_takes_over_at_its_activation_time() -> None:
    activation = CosemDateTime(2024, 1, 10, None, 12, 0, 0, 0, None, None)  # local time, CET
    m = tariff_meter(activation=activation)
    expected = [
        ("2024-01-10T06:00", "2024-01-10T11:00", 1),
        ("2024-01-10T11:00", "2024-01-11T12:00", 3),  # the holiday calendar: script 3's selector
    ]
    assert windows(m, "2024-01-10T06:00", "2024-01-11T12:00") == expected
    # Once the meter activated it (the calendar's tables copied), the past keeps its tariffs.
    at(m, utc("2024-01-12T00:00:00"))
    assert activate_calendar_if_due(m.obj(CALENDAR_LN)) is True
    assert m.obj(CALENDAR_LN).get(2) == name("HOLIDAYS")
    assert windows(m, "2024-01-10T06:00", "2024-01-11T12:00") == expected


def test_activation_by_a_client_keeps_the_past() -> None:
    m = tariff_meter()
    at(m, utc("2024-01-10T09:30:00"))
    m.obj(CALENDAR_LN).invoke(1, Data(DataType.INTEGER, 0))
    assert windows(m, "2024-01-10T06:00", "2024-01-10T12:00") == [
        ("2024-01-10T06:00", "2024-01-10T09:30", 1),
        ("2024-01-10T09:30", "2024-01-10T12:00", 3),
    ]


def test_the_meters_clock_offset_moves_its_switches() -> None:
    m = tariff_meter()
    m.obj(CLOCK_LN).clock.shift(H)  # the meter's clock runs an hour ahead of the fleet
    assert windows(m, "2024-01-03T04:00", "2024-01-03T06:00") == [
        ("2024-01-03T04:00", "2024-01-03T05:00", 2),
        ("2024-01-03T05:00", "2024-01-03T06:00", 1),
    ]


def test_a_meter_without_calendar_is_always_in_tariff_1() -> None:
    m = tariff_meter(with_calendar=False)
    assert tariff_windows(m.obj(TARIFF_LN), 100.0, 200.0) == [(100.0, 200.0, 1)]
    assert tariff_at(m.obj(TARIFF_LN), utc("2024-01-06T12:00:00")) == 1


def test_a_changed_special_day_changes_the_tariff() -> None:
    m = tariff_meter()
    noon = utc("2024-01-03T11:00:00")
    assert tariff_at(m.obj(TARIFF_LN), noon) == 1
    m.obj(SPECIAL_LN).invoke(1, struct(u16(2), octets(CosemDate(2024, 1, 3, None).to_bytes()), u8(2)))
    assert tariff_at(m.obj(TARIFF_LN), noon) == 2


def test_active_tariff_object_reads_the_tariff_in_force() -> None:
    m = tariff_meter()
    at(m, utc("2024-01-03T07:30:00"))  # Wednesday 08:30 local
    assert m.obj(TARIFF_LN).get(2) == u8(1)
    at(m, utc("2024-01-03T21:30:00"))  # 22:30 local
    assert m.obj(TARIFF_LN).get(2) == u8(2)


def test_static_meter_keeps_the_stored_tariff() -> None:
    m = tariff_meter(living=False)
    at(m, utc("2024-01-03T21:30:00"))
    assert m.obj(TARIFF_LN).get(2) == u8(1)


def test_an_activation_is_kept_with_the_calendar_it_replaced() -> None:
    m = tariff_meter()
    at(m, utc("2024-01-10T09:30:00"))
    m.obj(CALENDAR_LN).invoke(1, Data(DataType.INTEGER, 0))
    done = m.obj(CALENDAR_LN).effect(CalendarActivation)
    assert done is not None and done.at == utc("2024-01-10T09:30:00") and len(done.previous) == 3
    assert CalendarActivation.from_record(decode_record(encode_record(done.to_record()))) == done
