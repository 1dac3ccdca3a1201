"""Profile generic (7) on a living meter: rows computed from time for any past range.

The meters are the shipped idis_poly model (load profile 1 every 15 minutes, load profile 2
daily, the monthly billing profile captured by its end-of-billing schedule, the event logs),
built directly with a fixed time base: a row is what the capture objects read at its instant.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.axdr import CosemDateTime, Data, DataType, Obis
from simulator.cosem.events import log_event
from simulator.cosem.profile import PROFILE_GENERIC, SortMethod, row_source
from simulator.cosem.profile_buffer import StoredRows
from simulator.cosem.profile_history import STATUS_CLOCK_ADJUSTED, STATUS_DAYLIGHT_SAVING, STATUS_POWER_DOWN
from simulator.living.events import NO_EVENTS, EventModel, EventRate, outages
from simulator.model.catalogue import SHIPPED_DIR
from simulator.model.loader import load_model
from simulator.model.spec import MeterModel
from simulator.server.objects import Meter, ObjectHandle, TimeBase

MODEL = load_model(SHIPPED_DIR / "idis_poly.yaml")
WINTER = timezone(timedelta(hours=1))  # the model's Clock: time_zone -60, EU daylight saving
SUMMER = timezone(timedelta(hours=2))
START = datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc).timestamp()  # 13:00 local, a Sunday
DAY = 86400.0

LP1, LP2, BILLING = "1.0.99.1.0.255", "1.0.99.2.0.255", "0.0.98.1.0.255"
STANDARD_LOG, POWER_QUALITY_LOG = "0.0.99.98.0.255", "0.0.99.98.4.255"
CLOCK, IMPORT, STATUS_1 = "0.0.1.0.0.255", "1.0.1.8.0.255", "0.0.96.10.1.255"


def meter(history_s: float = 40 * DAY, *, model: MeterModel = MODEL, start: float = START,
          serial: str = "00000001", seed: int = 7) -> Meter:
    fields = {"serial": serial, "index": 0, "system_title": "53494D0000000001"}
    return Meter(model, 0, fields, TimeBase(start, 0.0, 1.0, installed=start - history_s), utc_offset_min=60,
                 seed=seed)


def obj(m: Meter, ln: str, after_s: float = 0.0) -> ObjectHandle:
    """Object `ln` of meter `m`, `after_s` seconds after the fleet's start (rate 1)."""
    device = m.model.logical_devices[1]
    spec = device.find(bytes(Obis(ln)))
    assert spec is not None, ln
    return ObjectHandle(m, device, spec, after_s)


def with_events(events: EventModel) -> MeterModel:
    assert MODEL.living is not None
    return replace(MODEL, living=replace(MODEL.living, events=events))


def definition(class_id: int, ln: str, attribute: int = 2) -> Data:
    return Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, class_id),
                                     Data(DataType.OCTET_STRING, bytes(Obis(ln))),
                                     Data(DataType.INTEGER, attribute), Data(DataType.LONG_UNSIGNED, 0)))


def stamp(dt: datetime, deviation: bool = True) -> Data:
    v = CosemDateTime.from_datetime(dt)
    if not deviation:
        v = replace(v, deviation=None)
    return Data(DataType.OCTET_STRING, v.to_bytes())


def by_range(profile: ObjectHandle, low: Data, high: Data, *columns: Data,
             restricting: Data | None = None) -> list[Data]:
    select = PROFILE_GENERIC.attribute(2).selective
    params = Data(DataType.STRUCTURE, (restricting or definition(8, CLOCK), low, high, Data(DataType.ARRAY, columns)))
    return list(select(profile, 1, params).value)


def by_entry(profile: ObjectHandle, first: int, last: int, first_col: int = 1, last_col: int = 0) -> list[Data]:
    select = PROFILE_GENERIC.attribute(2).selective
    params = Data(DataType.STRUCTURE, tuple(Data(DataType.DOUBLE_LONG_UNSIGNED, v) for v in (first, last)) + tuple(
        Data(DataType.LONG_UNSIGNED, v) for v in (first_col, last_col)))
    return list(select(profile, 2, params).value)


def buffer(profile: ObjectHandle) -> list[Data]:
    return list(profile.get(2).value)


def when(row: Data) -> datetime:
    """A row's clock column as an aware datetime."""
    return CosemDateTime.from_bytes(row.value[0].value).to_datetime()


def epoch(row: Data) -> float:
    return when(row).timestamp()


def entries_in_use(profile: ObjectHandle) -> int:
    return int(profile.get(7).value)


# --------------------------------------------------------------------------- periodic rows

def test_a_static_meter_keeps_its_stored_rows() -> None:
    static = meter(model=replace(MODEL, living=None))
    assert isinstance(row_source(obj(static, LP1)), StoredRows)
    assert entries_in_use(obj(static, LP1)) == 0


def test_rows_lie_on_the_local_grid_after_installation() -> None:
    m = meter(5 * 3600)  # installed 08:00 local
    lp1 = obj(m, LP1)
    rows = buffer(lp1)
    assert entries_in_use(lp1) == len(rows) == 20
    assert when(rows[0]) == datetime(2024, 3, 10, 8, 15, tzinfo=WINTER)
    assert when(rows[-1]) == datetime(2024, 3, 10, 13, 0, tzinfo=WINTER)
    assert [epoch(b) - epoch(a) for a, b in zip(rows, rows[1:])] == [900.0] * 19
    assert entries_in_use(obj(m, LP2)) == 0  # no local midnight since installation

    two_days = meter(2 * DAY)
    assert [when(r) for r in buffer(obj(two_days, LP2))] == [
        datetime(2024, 3, 9, tzinfo=WINTER), datetime(2024, 3, 10, tzinfo=WINTER)]


def test_a_daily_row_falls_at_local_midnight_across_daylight_saving_changes() -> None:
    summer = meter(2 * DAY, start=datetime(2024, 7, 10, 12, tzinfo=timezone.utc).timestamp())
    assert [when(r) for r in buffer(obj(summer, LP2))] == [
        datetime(2024, 7, 9, tzinfo=SUMMER), datetime(2024, 7, 10, tzinfo=SUMMER)]
    spring = meter(4 * DAY, start=datetime(2024, 4, 2, 12, tzinfo=timezone.utc).timestamp())
    rows = buffer(obj(spring, LP2))
    assert [when(r) for r in rows] == [datetime(2024, 3, 30, tzinfo=WINTER), datetime(2024, 3, 31, tzinfo=WINTER),
                                       datetime(2024, 4, 1, tzinfo=SUMMER), datetime(2024, 4, 2, tzinfo=SUMMER)]
    assert [epoch(b) - epoch(a) for a, b in zip(rows, rows[1:])] == [DAY, DAY - 3600, DAY]  # 31 March: 23 hours
    lp2 = obj(spring, LP2)
    assert by_range(lp2, stamp(datetime(2024, 3, 31, 12), False), stamp(datetime(2024, 4, 1), False)) == rows[2:3]
    assert by_entry(lp2, 2, 3) == rows[1:3]
    quarter = buffer(obj(spring, LP1))
    assert {epoch(b) - epoch(a) for a, b in zip(quarter, quarter[1:])} == {900.0}


def test_each_row_is_what_the_capture_objects_read_at_its_instant() -> None:
    m = meter()
    lp1 = obj(m, LP1)
    objects = [(c.value[0].value, c.value[1].value, c.value[2].value) for c in lp1.get(3).value]
    rows = buffer(lp1)
    for row in (rows[0], rows[417], rows[-1]):
        t = epoch(row)
        for (class_id, ln, attribute), cell in zip(objects[2:], row.value[2:]):
            target = obj(m, str(Obis(ln))).at(t)
            assert target.cls.class_id == class_id
            assert cell == target.get(attribute)
        assert row.value[0] == obj(m, CLOCK).at(t).get(2)
    assert rows[-1].value[2] == obj(m, IMPORT).get(2)  # the last row is the register now (13:00 is on the grid)


def test_profile_entries_bound_the_buffer_oldest_first() -> None:
    m = meter()
    lp1, lp2 = obj(m, LP1), obj(m, LP2)
    assert entries_in_use(lp1) == 960 and entries_in_use(lp2) == 40
    rows = buffer(lp1)
    assert len(rows) == 960
    assert when(rows[-1]) == datetime(2024, 3, 10, 13, 0, tzinfo=WINTER)
    assert when(rows[0]) == datetime(2024, 3, 10, 13, 0, tzinfo=WINTER) - timedelta(minutes=15 * 959)
    imports = [r.value[2].value for r in rows]
    assert imports == sorted(imports) and imports[-1] > imports[0]


def test_a_new_row_appears_as_time_passes() -> None:
    m = meter()
    later = obj(m, LP1, after_s=15 * 60)
    assert entries_in_use(later) == 960
    rows = buffer(later)
    assert when(rows[-1]) == datetime(2024, 3, 10, 13, 15, tzinfo=WINTER)
    assert rows[:-1] == buffer(obj(m, LP1))[1:]


# --------------------------------------------------------------------------- selective access

def test_the_last_day_by_range_is_96_rows_whose_deltas_sum_to_the_register_difference() -> None:
    m = meter()
    lp1 = obj(m, LP1)
    day = datetime(2024, 3, 9, tzinfo=WINTER)
    rows = by_range(lp1, stamp(day + timedelta(minutes=15)), stamp(day + timedelta(days=1)))
    assert len(rows) == 96
    assert when(rows[0]) == day + timedelta(minutes=15) and when(rows[-1]) == day + timedelta(days=1)
    register = obj(m, IMPORT)
    before = register.at(day.timestamp()).get(2).value
    imports = [r.value[2].value for r in rows]
    deltas = [b - a for a, b in zip([before] + imports, imports)]
    assert all(d >= 0 for d in deltas) and sum(deltas) > 0
    assert sum(deltas) == register.at((day + timedelta(days=1)).timestamp()).get(2).value - before
    assert rows == [r for r in buffer(lp1) if day < when(r) <= day + timedelta(days=1)]


def test_a_range_without_deviation_is_meter_local_time() -> None:
    lp1 = obj(meter(), LP1)
    day = datetime(2024, 3, 9)
    local = by_range(lp1, stamp(day.replace(tzinfo=WINTER), False), stamp(day.replace(hour=6, tzinfo=WINTER), False))
    assert [when(r) for r in local] == [day.replace(tzinfo=WINTER) + timedelta(minutes=15 * i) for i in range(25)]


def test_a_range_outside_the_history_is_empty_and_one_across_its_start_is_cut() -> None:
    lp1 = obj(meter(5 * 3600), LP1)
    before_installation = datetime(2024, 3, 10, 8, tzinfo=WINTER)
    assert by_range(lp1, stamp(datetime(2023, 1, 1, tzinfo=WINTER)), stamp(before_installation)) == []
    assert by_range(lp1, stamp(datetime(2024, 3, 11, tzinfo=WINTER)), stamp(datetime(2025, 1, 1, tzinfo=WINTER))) == []
    rows = by_range(lp1, stamp(datetime(2024, 3, 10, tzinfo=WINTER)), stamp(datetime(2024, 3, 10, 9, tzinfo=WINTER)))
    assert [when(r).time().isoformat() for r in rows] == ["08:15:00", "08:30:00", "08:45:00", "09:00:00"]


@pytest.mark.parametrize("ln", [LP1, LP2])
def test_a_bound_with_an_unspecified_year_leaves_that_end_of_the_range_open(ln: str) -> None:
    # date-time year 0xFFFF: not specified (Blue Book, date-time); as from_value no lower
    # bound, as to_value no upper one (gurux-dlms sends it for DateTimeSkips.YEAR)
    any_year = Data(DataType.OCTET_STRING, bytes.fromhex("FFFF0101FF000000FF800000"))
    profile = obj(meter(), ln)
    rows = buffer(profile)
    assert by_range(profile, any_year, stamp(when(rows[10]))) == rows[:11]
    assert by_range(profile, stamp(when(rows[-3])), any_year) == rows[-3:]
    assert by_range(profile, any_year, any_year) == rows


def test_range_with_selected_columns_gives_those_columns_in_their_order() -> None:
    lp1 = obj(meter(), LP1)
    day = datetime(2024, 3, 9, tzinfo=WINTER)
    full = by_range(lp1, stamp(day), stamp(day + timedelta(hours=2)))
    picked = by_range(lp1, stamp(day), stamp(day + timedelta(hours=2)), definition(3, IMPORT), definition(8, CLOCK))
    assert len(picked) == len(full) == 9
    assert [r.value for r in picked] == [(f.value[2], f.value[0]) for f in full]


def test_a_range_on_another_column_scans_the_kept_rows() -> None:
    lp1 = obj(meter(), LP1)
    rows = buffer(lp1)
    low, high = rows[100].value[2], rows[110].value[2]
    picked = by_range(lp1, low, high, restricting=definition(3, IMPORT))
    assert picked == [r for r in rows if low.value <= r.value[2].value <= high.value]
    assert rows[100] in picked and rows[110] in picked


def test_by_entry_with_and_without_column_selection() -> None:
    lp1 = obj(meter(), LP1)
    rows = buffer(lp1)
    assert len(rows) == 960
    assert by_entry(lp1, 1, 3) == rows[:3]
    assert by_entry(lp1, 958, 0) == rows[957:]
    assert by_entry(lp1, 961, 0) == []
    assert [r.value for r in by_entry(lp1, 10, 12, 3, 4)] == [r.value[2:4] for r in rows[9:12]]


def test_lifo_lists_the_newest_row_first() -> None:
    m = meter()
    lp1 = obj(m, LP1)
    fifo = buffer(lp1)
    lp1.set(5, Data(DataType.ENUM, SortMethod.LIFO))
    assert buffer(lp1) == fifo[::-1]
    assert by_entry(lp1, 1, 2) == [fifo[-1], fifo[-2]]
    day = datetime(2024, 3, 9, tzinfo=WINTER)
    hour = [r for r in fifo[::-1] if day <= when(r) <= day + timedelta(hours=1)]
    assert len(hour) == 5 and by_range(lp1, stamp(day), stamp(day + timedelta(hours=1))) == hour


def test_a_sorted_profile_orders_the_kept_rows_by_its_sort_object() -> None:
    m = meter(2 * DAY)
    lp1 = obj(m, LP1)
    fifo = buffer(lp1)
    assert len(fifo) == 192
    lp1.set(5, Data(DataType.ENUM, SortMethod.LARGEST))
    lp1.set(6, definition(3, IMPORT))
    assert buffer(lp1) == sorted(fifo, key=lambda r: -r.value[2].value)


# --------------------------------------------------------------------------- capture, reset, restructure

def test_capture_adds_a_row_now_among_the_computed_ones() -> None:
    m = meter()
    lp1 = obj(m, LP1, after_s=100)
    before = buffer(lp1)
    lp1.invoke(2, Data(DataType.INTEGER, 0))
    rows = buffer(lp1)
    assert entries_in_use(lp1) == 960  # the oldest row went
    assert rows[:-1] == before[1:]
    assert when(rows[-1]) == datetime(2024, 3, 10, 13, 1, 40, tzinfo=WINTER)
    assert rows[-1].value[2] == obj(m, IMPORT, after_s=100).get(2)
    later = buffer(obj(m, LP1, after_s=1000))
    assert later[-2] == rows[-1] and when(later[-1]) == datetime(2024, 3, 10, 13, 15, tzinfo=WINTER)


def test_reset_empties_the_buffer_and_rows_start_after_it() -> None:
    m = meter()
    obj(m, LP1, after_s=100).invoke(1, Data(DataType.INTEGER, 0))
    assert entries_in_use(obj(m, LP1, after_s=100)) == 0
    assert buffer(obj(m, LP1, after_s=899)) == []
    later = obj(m, LP1, after_s=2000)
    assert [when(r).time().isoformat() for r in buffer(later)] == ["13:15:00", "13:30:00"]
    assert entries_in_use(obj(m, LP2, after_s=2000)) == 40  # the other profiles keep theirs


def test_writing_the_capture_period_restructures_from_that_instant() -> None:
    m = meter()
    obj(m, LP1, after_s=100).write(4, Data(DataType.DOUBLE_LONG_UNSIGNED, 3600))
    assert entries_in_use(obj(m, LP1, after_s=100)) == 0
    rows = buffer(obj(m, LP1, after_s=2 * 3600))
    assert [when(r).time().isoformat() for r in rows] == ["14:00:00", "15:00:00"]


def test_the_same_seed_and_start_give_the_same_rows() -> None:
    first, second = obj(meter(), LP1), obj(meter(), LP1)
    assert first.get(2).to_bytes() == second.get(2).to_bytes()
    other = obj(meter(serial="00000002"), LP1)
    assert [r.value[0] for r in buffer(other)] == [r.value[0] for r in buffer(first)]
    assert [r.value[2] for r in buffer(other)] != [r.value[2] for r in buffer(first)]


# --------------------------------------------------------------------------- billing profile and event logs

def test_the_billing_profile_holds_a_row_per_end_of_billing_period() -> None:
    m = meter()  # installed 2024-01-30
    billing = obj(m, BILLING)
    rows = buffer(billing)
    assert [when(r) for r in rows] == [datetime(2024, 2, 1, tzinfo=WINTER), datetime(2024, 3, 1, tzinfo=WINTER)]
    for row in rows:
        assert row.value[1] == obj(m, IMPORT).at(epoch(row)).get(2)
    long_ago = buffer(obj(meter(400 * DAY), BILLING))
    assert len(long_ago) == 12 and when(long_ago[-1]) == datetime(2024, 3, 1, tzinfo=WINTER)
    assert when(long_ago[3]) == datetime(2023, 7, 1, tzinfo=SUMMER)  # the schedule runs at local midnight


def test_a_captured_billing_row_merges_by_time() -> None:
    m = meter()
    obj(m, BILLING, after_s=60).invoke(2, Data(DataType.INTEGER, 0))
    rows = buffer(obj(m, BILLING, after_s=60))
    assert [when(r).date().isoformat() for r in rows] == ["2024-02-01", "2024-03-01", "2024-03-10"]


def test_an_event_log_row_is_the_event_code_at_the_event_instant() -> None:
    m = meter(model=with_events(NO_EVENTS))
    for after_s, code in ((60, 4), (120, 5), (3600, 47)):
        log_event(obj(m, STANDARD_LOG, after_s), "standard", code)
    rows = buffer(obj(m, STANDARD_LOG, after_s=7200))
    assert [(when(r).time().isoformat(), r.value[1].value) for r in rows] == [
        ("13:01:00", 4), ("13:02:00", 5), ("14:00:00", 47)]
    assert rows[0].value[0] == obj(m, CLOCK, 60).get(2)


def test_generated_events_fill_their_logs() -> None:
    m = meter(400 * DAY, model=with_events(EventModel(power_failure=EventRate(100.0, 600.0, 0.0))))
    rows = buffer(obj(m, STANDARD_LOG))
    assert entries_in_use(obj(m, STANDARD_LOG)) == len(rows) == 100  # profile_entries
    assert {r.value[1].value for r in rows} == {1, 2}  # power down, power up
    assert [epoch(r) for r in rows] == sorted(epoch(r) for r in rows)
    assert entries_in_use(obj(m, POWER_QUALITY_LOG)) > 0


# --------------------------------------------------------------------------- AMR profile status

def test_the_status_column_flags_power_down_in_periods_an_outage_overlapped() -> None:
    m = meter(20 * DAY, model=with_events(EventModel(power_failure=EventRate(200.0, 600.0, 0.0))))
    living = m.living
    assert living is not None
    rows = buffer(obj(m, LP1))
    failures = outages(EventModel(power_failure=EventRate(200.0, 600.0, 0.0)), living.seed, living.installed,
                       living.installed, START)
    assert failures
    for row in rows:
        t = epoch(row)
        hit = any(a < t and b > t - 900 for a, b in failures)
        assert bool(row.value[1].value & STATUS_POWER_DOWN) == hit
    assert any(r.value[1].value & STATUS_POWER_DOWN for r in rows)


def test_the_status_column_flags_a_clock_adjustment_and_daylight_saving() -> None:
    m = meter(DAY, model=with_events(NO_EVENTS))
    log_event(obj(m, STANDARD_LOG, -1000), "standard", 4)  # 12:43:20 local, in the period ending 12:45
    rows = buffer(obj(m, LP1))
    flagged = [when(r).time().isoformat() for r in rows if r.value[1].value & STATUS_CLOCK_ADJUSTED]
    assert flagged == ["12:45:00"]
    assert not any(r.value[1].value & STATUS_DAYLIGHT_SAVING for r in rows)
    summer = meter(DAY, model=with_events(NO_EVENTS), start=datetime(2024, 7, 10, 12, tzinfo=timezone.utc).timestamp())
    assert all(r.value[1].value == STATUS_DAYLIGHT_SAVING for r in buffer(obj(summer, LP1)))


@pytest.mark.parametrize("ln", [LP1, LP2, BILLING, POWER_QUALITY_LOG])
def test_entries_in_use_counts_what_the_buffer_holds(ln: str) -> None:
    profile = obj(meter(60 * DAY), ln)
    assert entries_in_use(profile) == len(buffer(profile)) > 0


def test_the_power_failure_log_holds_each_long_failure_at_its_end_with_its_duration() -> None:
    events = EventModel(power_failure=EventRate(100.0, 600.0, 1.5))
    m = meter(100 * DAY, model=with_events(events))
    living = m.living
    assert living is not None
    long_ones = [(a, b) for a, b in outages(events, living.seed, living.installed, living.installed, START)
                 if b - a >= 180 and b <= START]
    assert any(b - a < 180 for a, b in outages(events, living.seed, living.installed, living.installed, START))
    rows = buffer(obj(m, "1.0.99.97.0.255"))
    assert len(long_ones) == len(rows) > 0
    assert [(epoch(r), r.value[1].value) for r in rows] == [(b, round(b - a)) for a, b in long_ones]


@pytest.mark.parametrize("name, ln, rows", [
    ("gas", "7.0.99.1.0.255", 744), ("gas", "7.0.99.2.0.255", 40),
    ("water", "8.0.99.1.0.255", 744), ("water", "8.0.99.2.0.255", 40),
    ("idis_poly", "1.0.99.1.2.255", 1440),
])
def test_the_gas_water_and_power_quality_profiles_fill(name: str, ln: str, rows: int) -> None:
    m = meter(model=load_model(SHIPPED_DIR / f"{name}.yaml"))
    profile = obj(m, ln)
    buffered = buffer(profile)
    assert entries_in_use(profile) == len(buffered) == rows
    assert when(buffered[-1]) == datetime(2024, 3, 10, 13 if rows > 40 else 0, tzinfo=WINTER)
    if name != "idis_poly":  # the power quality profile's average voltages are not living registers
        assert buffered[-2].value[1:] != buffered[-1].value[1:]  # the values move


# --------------------------------------------------------------------------- arithmetic against the whole buffer

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history_h=st.integers(0, 30), entries=st.integers(1, 150),
       captures=st.lists(st.integers(1, 3 * 3600), max_size=4, unique=True),
       reset=st.none() | st.integers(1, 3 * 3600), after_h=st.integers(3, 5),
       lo=st.integers(-40 * 3600, 6 * 3600), span=st.integers(0, 12 * 3600), local=st.booleans(),
       first=st.integers(1, 160), count=st.integers(0, 20), lifo=st.booleans())
def test_entries_and_ranges_agree_with_the_whole_buffer(
        history_h: int, entries: int, captures: list[int], reset: int | None, after_h: int, lo: int, span: int,
        local: bool, first: int, count: int, lifo: bool) -> None:
    m = meter(history_h * 3600.0)
    obj(m, LP1).set(8, Data(DataType.DOUBLE_LONG_UNSIGNED, entries))  # no restructuring: a model value
    if lifo:
        obj(m, LP1).set(5, Data(DataType.ENUM, SortMethod.LIFO))
    for at in sorted(captures + ([reset] if reset is not None else [])):
        obj(m, LP1, at).invoke(1 if at == reset else 2, Data(DataType.INTEGER, 0))
    lp1 = obj(m, LP1, after_h * 3600.0)
    rows = buffer(lp1)
    times = [epoch(r) for r in rows]
    assert times == sorted(times, reverse=lifo) and len(set(times)) == len(times)
    assert entries_in_use(lp1) == len(rows) <= entries
    assert by_entry(lp1, first, first + count) == rows[first - 1:first + count]
    low = datetime.fromtimestamp(START + lo, WINTER).replace(microsecond=0)
    high = low + timedelta(seconds=span)
    assert by_range(lp1, stamp(low, not local), stamp(high, not local)) == [r for r in rows if low <= when(r) <= high]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history_d=st.integers(0, 12), entries=st.integers(1, 15), lo=st.integers(-12 * 86400, 86400),
       span=st.integers(0, 5 * 86400), local=st.booleans(), first=st.integers(1, 16), count=st.integers(0, 8))
def test_daily_entries_and_ranges_agree_across_daylight_saving(
        history_d: int, entries: int, lo: int, span: int, local: bool, first: int, count: int) -> None:
    spring = datetime(2024, 4, 2, 12, tzinfo=timezone.utc).timestamp()
    lp2 = obj(meter(history_d * DAY, start=spring), LP2)
    lp2.set(8, Data(DataType.DOUBLE_LONG_UNSIGNED, entries))
    rows = buffer(lp2)
    assert entries_in_use(lp2) == len(rows) == min(entries, history_d)
    assert all(when(r).hour == 0 for r in rows)
    assert by_entry(lp2, first, first + count) == rows[first - 1:first + count]
    low = datetime.fromtimestamp(spring + lo, WINTER).replace(microsecond=0)
    high = low + timedelta(seconds=span)
    assert by_range(lp2, stamp(low, not local), stamp(high, not local)) == [
        r for r in rows if (low <= when(r) <= high if not local else
                            low.replace(tzinfo=None) <= when(r).replace(tzinfo=None) <= high.replace(tzinfo=None))]
