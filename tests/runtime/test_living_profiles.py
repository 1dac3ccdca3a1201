"""A living IDIS meter's profiles over a real socket, read by gurux-dlms and dlms-cosem.

The fleet starts at 2024-03-10 12:00 UTC (13:00 at the meter, UTC+01:00) with 40 days of
history, so a head-end finds full profiles the moment it connects: load profile 1 (15 min)
holds its 960 newest rows, load profile 2 (daily) 40, the billing profile one row per month
end since installation. Rows are computed when read, so two fleets with the same start
return the same bytes.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from dlms_cosem import cosem, enumerations
from dlms_cosem.cosem.capture_object import CaptureObject
from dlms_cosem.cosem.selective_access import RangeDescriptor
from gurux_dlms import GXDateTime
from gurux_dlms.enums import DataType, DateTimeSkips
from gurux_dlms.objects import GXDLMSProfileGeneric, GXDLMSRegister

from simulator.axdr import CosemDateTime, Data

from .harness import RunningFleet
from .peers import GuruxPeer, SocketPipe, dlms_client, gurux_client, wrapper_transport

PROFILE = """\
time: {start: 2024-03-10T12:00:00Z, history: 40d}
groups:
  - {name: idis, model: idis_poly, listen: [{transport: tcp, host: 127.0.0.1, port: 0}]}
"""
LOCAL = timezone(timedelta(hours=1))  # idis_poly's Clock: time_zone -60, no daylight saving in March
DAY = datetime(2024, 3, 9, tzinfo=LOCAL)  # the last whole day before the fleet's start
LP1, LP2, BILLING = "1.0.99.1.0.255", "1.0.99.2.0.255", "0.0.98.1.0.255"
PROFILE_ATTRIBUTE = {ln: cosem.CosemAttribute(interface=enumerations.CosemInterface.PROFILE_GENERIC,
                                              instance=cosem.Obis.from_string(ln), attribute=2)
                     for ln in (LP1, LP2, BILLING)}
CLOCK_COLUMN = CaptureObject(cosem.CosemAttribute(interface=enumerations.CosemInterface.CLOCK,
                                                  instance=cosem.Obis(0, 0, 1, 0, 0, 255), attribute=2))


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    with RunningFleet(PROFILE, tmp_path_factory.mktemp("living")) as running:
        yield running


def gurux(fleet: RunningFleet) -> GuruxPeer:
    peer = GuruxPeer(SocketPipe("127.0.0.1", fleet.port("tcp")), gurux_client(1))
    peer.connect()
    return peer


def profile(peer: GuruxPeer, ln: str) -> GXDLMSProfileGeneric:
    """A profile object with its capture objects read (gurux needs the columns first)."""
    pg = GXDLMSProfileGeneric(ln)
    peer.read(pg, 3)
    return pg


def rows_by_range(peer: GuruxPeer, pg: GXDLMSProfileGeneric, start: datetime, end: datetime,
                  columns: list | None = None) -> list[list]:
    return list(peer.request(peer.client.readRowsByRange(pg, start, end, columns)).value)


def stamp(value: object) -> datetime:
    """A clock cell as gurux hands it over (the raw 12 octets, or a GXDateTime once it parsed
    the buffer) as an aware datetime."""
    if isinstance(value, GXDateTime):
        return value.value
    return CosemDateTime.from_bytes(bytes(value)).to_datetime()


def rows_of(raw: bytes) -> list[Data]:
    """A buffer as dlms-cosem hands it over (A-XDR), decoded by the simulator's own codec."""
    return list(Data.from_bytes(raw).value)


def test_the_last_day_by_range_is_96_quarter_hours_adding_up_to_the_register(fleet: RunningFleet) -> None:
    peer = gurux(fleet)
    try:
        pg = profile(peer, LP1)
        rows = rows_by_range(peer, pg, DAY + timedelta(minutes=15), DAY + timedelta(days=1))
        assert len(rows) == 96
        assert [stamp(r[0]) for r in rows] == [DAY + timedelta(minutes=15 * (i + 1)) for i in range(96)]
        before = rows_by_range(peer, pg, DAY, DAY)
        assert len(before) == 1
        imports = [before[0][2]] + [r[2] for r in rows]  # 1.0.1.8.0.255, Wh
        deltas = [b - a for a, b in zip(imports, imports[1:])]
        assert all(d >= 0 for d in deltas) and sum(deltas) == imports[-1] - imports[0] > 0

        # the newest row, by entry, is 13:00 at the meter; the register now has gone on from it
        peer.read(pg, 7)
        assert pg.entriesInUse == 960
        newest = list(peer.request(peer.client.readRowsByEntry(pg, 960, 1)).value)
        assert stamp(newest[0][0]) == datetime(2024, 3, 10, 13, 0, tzinfo=LOCAL)
        register = GXDLMSRegister("1.0.1.8.0.255")
        peer.read(register, 3)
        peer.read(register, 2)
        grown = register.value - newest[0][2]
        assert 0 <= grown <= max(deltas)  # within one period's consumption
    finally:
        peer.release()
        peer.pipe.close()


def test_by_entry_and_column_selection_agree_with_the_range(fleet: RunningFleet) -> None:
    peer = gurux(fleet)
    try:
        pg = profile(peer, LP1)
        by_entry = list(peer.request(peer.client.readRowsByEntry(pg, 1, 4)).value)
        oldest = stamp(by_entry[0][0])
        assert oldest == datetime(2024, 3, 10, 13, 0, tzinfo=LOCAL) - timedelta(minutes=15 * 959)
        by_range = rows_by_range(peer, pg, oldest, oldest + timedelta(minutes=45))
        assert by_entry == by_range
        clock_and_import = [pg.captureObjects[0], pg.captureObjects[2]]
        picked = rows_by_range(peer, pg, oldest, oldest + timedelta(minutes=45), clock_and_import)
        assert picked == [[r[0], r[2]] for r in by_range]
    finally:
        peer.release()
        peer.pipe.close()

    # dlms-cosem (its entry descriptor cannot be encoded yet): the oldest hour and the last day by range
    transport = wrapper_transport(fleet.port("tcp"), 1)
    with dlms_client(transport, 1).session() as session:
        hour = rows_of(session.get(PROFILE_ATTRIBUTE[LP1], RangeDescriptor(
            CLOCK_COLUMN, oldest, oldest + timedelta(minutes=45))))
        day = rows_of(session.get(PROFILE_ATTRIBUTE[LP1], RangeDescriptor(
            CLOCK_COLUMN, DAY + timedelta(minutes=15), DAY + timedelta(days=1))))
    assert [[bytes(c.value) if i == 0 else c.value for i, c in enumerate(r.value)] for r in hour] == [
        [bytes(r[0])] + r[1:] for r in by_entry]
    assert len(day) == 96
    assert CosemDateTime.from_bytes(day[-1].value[0].value).to_datetime() == DAY + timedelta(days=1)


def test_a_range_from_an_unspecified_year_starts_at_the_oldest_row(fleet: RunningFleet) -> None:
    """gurux-dlms's DateTimeSkips.YEAR sends year 0xFFFF (not specified): no lower bound."""
    peer = gurux(fleet)
    try:
        pg = profile(peer, LP1)
        any_year = GXDateTime(datetime(2024, 1, 1, tzinfo=LOCAL))
        any_year.skip = DateTimeSkips.YEAR
        open_start = rows_by_range(peer, pg, any_year, DAY)
        oldest = list(peer.request(peer.client.readRowsByEntry(pg, 1, 1)).value)[0]
    finally:
        peer.release()
        peer.pipe.close()
    assert open_start[0] == oldest
    assert stamp(open_start[-1][0]) == DAY
    assert len(open_start) == (DAY - stamp(oldest[0])) // timedelta(minutes=15) + 1


def test_entries_in_use_and_the_billing_rows_of_the_history(fleet: RunningFleet) -> None:
    peer = gurux(fleet)
    try:
        counts = {}
        for ln in (LP1, LP2, BILLING):
            pg = profile(peer, ln)
            peer.read(pg, 7)
            counts[ln] = pg.entriesInUse
        billing = profile(peer, BILLING)
        peer.read(billing, 2)
    finally:
        peer.release()
        peer.pipe.close()
    assert counts == {LP1: 960, LP2: 40, BILLING: 2}  # installed 2024-01-30: February and March
    assert [stamp(r[0]) for r in billing.buffer] == [datetime(2024, 2, 1, tzinfo=LOCAL),
                                                     datetime(2024, 3, 1, tzinfo=LOCAL)]
    assert 0 < billing.buffer[0][1] < billing.buffer[1][1]


def test_two_fleets_with_the_same_start_return_the_same_rows(fleet: RunningFleet, tmp_path: Path) -> None:
    def last_day(port: int) -> bytes:
        with dlms_client(wrapper_transport(port, 1), 1).session() as session:
            return session.get(PROFILE_ATTRIBUTE[LP1], RangeDescriptor(CLOCK_COLUMN, DAY, DAY + timedelta(days=1)))

    with RunningFleet(PROFILE, tmp_path) as other:
        theirs = last_day(other.port("tcp"))
    ours = last_day(fleet.port("tcp"))
    assert len(rows_of(ours)) == 97 and ours == theirs


def test_reset_and_capture_change_what_follows(tmp_path: Path) -> None:
    with RunningFleet(PROFILE, tmp_path) as fleet:
        peer = gurux(fleet)
        try:
            pg = profile(peer, LP2)
            peer.read(pg, 7)
            assert pg.entriesInUse == 40
            peer.request(peer.client.method(pg, 1, 0, DataType.INT8))  # reset
            peer.read(pg, 7)
            assert pg.entriesInUse == 0
            peer.request(peer.client.method(pg, 2, 0, DataType.INT8))  # capture
            peer.read(pg, 7)
            peer.read(pg, 2)
        finally:
            peer.release()
            peer.pipe.close()
    assert pg.entriesInUse == len(pg.buffer) == 1
    assert stamp(pg.buffer[0][0]) - datetime(2024, 3, 10, 13, 0, tzinfo=LOCAL) < timedelta(minutes=1)


def test_a_power_failure_in_the_event_log_flags_the_load_profile_status(tmp_path: Path) -> None:
    """Events happen at instants of the fleet's time, whatever its start: a power failure found
    in a fleet with two years of history shows in the load profile of a fleet started after it."""
    long_history = PROFILE.replace("history: 40d", "history: 730d")
    with RunningFleet(long_history, tmp_path, "long.yaml") as fleet:
        peer = gurux(fleet)
        try:
            log = profile(peer, "0.0.99.98.0.255")
            peer.read(log, 2)
        finally:
            peer.release()
            peer.pipe.close()
    failures = [(stamp(down[0]), stamp(up[0])) for down, up in zip(log.buffer, log.buffer[1:])
                if (down[1], up[1]) == (1, 2)]  # IDIS power down, power up
    assert failures
    down, up = failures[-1]
    start = (down + timedelta(days=1)).astimezone(timezone.utc).replace(second=0, microsecond=0)
    after = PROFILE.replace("2024-03-10T12:00:00Z", start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    with RunningFleet(after, tmp_path, "after.yaml") as fleet:
        peer = gurux(fleet)
        try:
            rows = rows_by_range(peer, profile(peer, LP1), down - timedelta(hours=1), up + timedelta(hours=1))
        finally:
            peer.release()
            peer.pipe.close()
    assert len(rows) >= 8
    flagged = [stamp(r[0]) for r in rows if r[1] & 0x80]  # AMR profile status bit 7: power down
    assert flagged and all(down < t and t - timedelta(minutes=15) < up for t in flagged)
    assert all(r[1] & 0x80 for r in rows if down < stamp(r[0]) and stamp(r[0]) - timedelta(minutes=15) < up)


def test_new_rows_follow_the_fleets_time(tmp_path: Path) -> None:
    """At rate 600 a quarter of an hour passes in 1.5 s: the newest row moves on by one."""
    fast = PROFILE.replace("history: 40d}", "history: 40d, rate: 600}")

    def newest(peer: GuruxPeer, pg: GXDLMSProfileGeneric) -> list:
        peer.read(pg, 7)
        return list(peer.request(peer.client.readRowsByEntry(pg, pg.entriesInUse, 1)).value)[0]

    with RunningFleet(fast, tmp_path) as fleet:
        peer = gurux(fleet)
        try:
            pg = profile(peer, LP1)
            first = newest(peer, pg)
            time.sleep(1.6)  # more than fifteen minutes of the fleet's time, whatever the load
            second = newest(peer, pg)
        finally:
            peer.release()
            peer.pipe.close()
    assert pg.entriesInUse == 960
    assert stamp(second[0]) - stamp(first[0]) >= timedelta(minutes=15)
    # import and export energy went on (at noon the rooftop PV may cover the house: export only)
    assert second[2] >= first[2] and second[3] >= first[3] and second[2:4] != first[2:4]
