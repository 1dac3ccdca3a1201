"""The clock's fast read path gives the bytes the datetime path gave, at every instant.

`CosemDateTime.bytes_from_epoch` (no datetime, year..second shared per local second) against
`datetime.fromtimestamp` + `bytes_from_datetime` (the path it replaced); the Clock's cached
daylight-saving decision against the IANA zones (zoneinfo) that follow the same rules; and the
whole `time` attribute across clock offsets, status bits, rule changes and second boundaries.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simulator.axdr import ClockStatus, CosemDateTime, Data, DataType, Obis, encode_data
from simulator.axdr.data import encode_data_into
from simulator.server.objects import Meter, ObjectHandle, TimeBase
from simulator.state import ClockAdjustment
from tests.cosem.meter_fixture import TestMeter

CLOCK_LN = "0.0.1.0.0.255"
DST = ClockStatus.DAYLIGHT_SAVING_ACTIVE
# Blue Book 4.1.6.1 date-time patterns (year 0xFFFF, deviation 0x8000 not specified; day 0xFE the
# last day of the month, a plain day with a weekday the first such weekday on or after it).
# EU (directive 2000/84/EC): last Sunday of March 01:00 UTC .. last Sunday of October 01:00 UTC.
EU_BEGIN = bytes.fromhex("FFFF03FE07" "02000000" "8000" "00")  # 02:00 CET
EU_END = bytes.fromhex("FFFF0AFE07" "03000000" "8000" "00")  # 03:00 CEST
# USA (Energy Policy Act 2005): second Sunday of March 02:00 .. first Sunday of November 02:00 local.
US_BEGIN = bytes.fromhex("FFFF030807" "02000000" "8000" "00")
US_END = bytes.fromhex("FFFF0B0107" "02000000" "8000" "00")
# New South Wales: first Sunday of October 02:00 standard .. first Sunday of April 03:00 summer time.
AU_BEGIN = bytes.fromhex("FFFF0A0107" "02000000" "8000" "00")
AU_END = bytes.fromhex("FFFF040107" "03000000" "8000" "00")
# (IANA zone, time_zone attribute, begin, end): each zone's rules as a Clock states them.
ZONES = {
    "Europe/Berlin": (-60, EU_BEGIN, EU_END),
    "Europe/Lisbon": (0, EU_BEGIN[:5] + bytes.fromhex("01") + EU_BEGIN[6:], EU_END[:5] + bytes.fromhex("02") + EU_END[6:]),
    "America/New_York": (300, US_BEGIN, US_END),
    "Australia/Sydney": (-600, AU_BEGIN, AU_END),
}
# Years every one of those zones has followed these rules (NSW since 2008).
FIRST, LAST = datetime(2008, 1, 1, tzinfo=timezone.utc).timestamp(), datetime(2037, 12, 31, tzinfo=timezone.utc).timestamp()


_YEAR = 366 * 86_400


def octets(raw: bytes) -> Data:
    return Data(DataType.OCTET_STRING, raw)


def zone_clock(zone: str, start: float) -> TestMeter:
    tz, begin, end = ZONES[zone]
    return TestMeter([(8, CLOCK_LN, {
        3: Data(DataType.LONG, tz), 5: octets(begin), 6: octets(end), 7: Data(DataType.INTEGER, 60),
        8: Data(DataType.BOOLEAN, True), 9: Data(DataType.ENUM, 1),
    })], start_epoch=start)


def via_datetime(epoch: float, deviation: int, status: int) -> bytes:
    """The replaced path: an aware datetime in the zone of the deviation, then packed."""
    return CosemDateTime.bytes_from_datetime(datetime.fromtimestamp(epoch, timezone(timedelta(minutes=-deviation))),
                                             status)


def expected_time(zone: str, epoch: float, status: int = 0) -> bytes:
    """What the clock must show at `epoch`: the IANA zone's offset and daylight saving."""
    local = datetime.fromtimestamp(epoch, ZoneInfo(zone))
    offset, summer = local.utcoffset(), local.dst()
    assert offset is not None and summer is not None
    return via_datetime(epoch, -int(offset.total_seconds() // 60), (status & ~DST) | (DST if summer else 0))


# --------------------------------------------------------------------------- the encoding alone

# Fractions at the edges of a second and of a hundredth: x.9999995 rounds up into the next second,
# as datetime.fromtimestamp rounds microseconds half to even.
EDGES = (0.0, 0.0000004, 0.0000005, 0.0000015, 0.005, 0.0099995, 0.01, 0.4999995, 0.5, 0.9899999,
         0.9999994, 0.9999995, 0.9999996, 0.99999999)


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.floats(min_value=0.0, max_value=253_402_000_000.0),
                 st.builds(lambda s, f: s + f, st.integers(0, 253_402_000_000), st.sampled_from(EDGES))),
       st.integers(-840, 840), st.integers(0, 254))  # 0xFF is "not specified", refused by both
@example(1_711_846_799.9999995, -60, 0)  # a second's last microsecond rounds into 2024-03-31 02:00 CET
@example(1_704_067_199.99999999, 0, 0x80)  # the last instant of 2023 rounds into 2024
@example(0.0, 840, 0)  # 1969-12-31 10:00, before the epoch in local time
def test_bytes_from_epoch_equals_the_datetime_path(epoch: float, deviation: int, status: int) -> None:
    assert CosemDateTime.bytes_from_epoch(epoch, deviation, status) == via_datetime(epoch, deviation, status)


def test_bytes_from_epoch_shares_the_second_but_not_the_hundredths() -> None:
    first = CosemDateTime.bytes_from_epoch(1_717_200_000.25, -120, 0x80)
    later = CosemDateTime.bytes_from_epoch(1_717_200_000.75, -120, 0x80)
    other_zone = CosemDateTime.bytes_from_epoch(1_717_200_000.25, 300, 0)
    assert first[:8] == later[:8] and (first[8], later[8]) == (25, 75)
    # 2024-06-01 00:00 UTC: 02:00 in UTC+2, 19:00 the day before in UTC-5; deviation and status follow.
    assert first == bytes.fromhex("07E8060106" "02000019" "FF88" "80")
    assert other_zone == bytes.fromhex("07E8051F05" "13000019" "012C" "00")


def test_bytes_from_epoch_refuses_what_a_date_time_cannot_carry() -> None:
    with pytest.raises(Exception, match="deviation"):
        CosemDateTime.bytes_from_epoch(0.0, 841)
    with pytest.raises(Exception, match="clock status"):
        CosemDateTime.bytes_from_epoch(0.0, 0, 256)


# --------------------------------------------------------------------------- the whole attribute

def read(m: TestMeter) -> bytes:
    value = m.obj(CLOCK_LN).get(2)
    assert value.type == DataType.OCTET_STRING
    return bytes(value.value)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(ZONES)), st.floats(min_value=FIRST + _YEAR, max_value=LAST - _YEAR),
       st.integers(-_YEAR, _YEAR), st.sampled_from((0, 0x01, 0x02, 0x04, 0x08, 0x0F, 0x80, 0x8F)))
def test_clock_time_follows_the_zone_at_any_instant(zone: str, fleet: float, offset: int, status: int) -> None:
    """Any fleet instant, any clock offset a client set, any status bits it left: the clock shows
    what the IANA zone with the same rules says (the daylight-saving bit its own)."""
    m = zone_clock(zone, fleet)
    m.obj(CLOCK_LN).clock.shift(offset)
    if status:
        m.obj(CLOCK_LN).change(ClockAdjustment).status = status
    assert read(m) == expected_time(zone, fleet + offset, status)


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_clock_time_across_every_daylight_saving_change(zone: str) -> None:
    """Each second around each change of 2008..2037 (and a stride through the years between),
    on one meter whose clock runs on: the cached decision follows the year it is asked about."""
    transitions = []
    info = ZoneInfo(zone)
    utc = FIRST
    while utc < LAST:
        here, later = datetime.fromtimestamp(utc, info), datetime.fromtimestamp(utc + 3 * 3600, info)
        if here.utcoffset() != later.utcoffset():
            low, high = utc, utc + 3 * 3600
            while high - low > 1:
                mid = (low + high) // 2
                if datetime.fromtimestamp(mid, info).utcoffset() == here.utcoffset():
                    low = mid
                else:
                    high = mid
            transitions.append(high)
        utc += 3 * 3600
    assert len(transitions) == 60  # two changes a year for 30 years
    m = zone_clock(zone, FIRST)
    for change in transitions:
        for delta in (-3601.0, -1.5, -1.0, -0.005, 0.0, 0.3, 1.0, 3599.99, 3600.0):
            m.now = change + delta - FIRST
            assert read(m) == expected_time(zone, m.obj(CLOCK_LN).clock.epoch()), (zone, change, delta)


def test_clock_time_follows_rules_a_client_changes() -> None:
    """The decision is kept per set of rule values: a meter whose rules a client changed reads
    by its own, its neighbour on the same model still by the model's."""
    summer = datetime(2024, 7, 1, 12, tzinfo=timezone.utc).timestamp()
    changed = zone_clock("Europe/Berlin", summer)
    neighbour_meter = Meter(changed.model, 1, {"serial": "00000002"}, TimeBase(summer))
    spec = changed.device.find(bytes(Obis(CLOCK_LN)))
    assert spec is not None
    neighbour = ObjectHandle(neighbour_meter, changed.device, spec, 0.0)
    assert read(changed) == bytes(neighbour.get(2).value) == expected_time("Europe/Berlin", summer)
    clock = changed.obj(CLOCK_LN)
    clock.write(8, Data(DataType.BOOLEAN, False))
    assert read(changed) == via_datetime(summer, -60, 0)
    clock.write(3, Data(DataType.LONG, 300))
    clock.write(8, Data(DataType.BOOLEAN, True))
    assert read(changed) == via_datetime(summer, 240, DST)  # UTC-5 with 60 min of summer time
    assert bytes(neighbour.get(2).value) == expected_time("Europe/Berlin", summer)


def test_clock_without_time_zone_follows_the_meter_offset_read_by_read() -> None:
    m = TestMeter([(8, CLOCK_LN, {8: Data(DataType.BOOLEAN, False)})], start_epoch=1_717_200_000.5)
    assert read(m) == via_datetime(1_717_200_000.5, 0, 0)
    m.state.utc_offset_min = 330  # UTC+05:30
    assert read(m) == via_datetime(1_717_200_000.5, -330, 0)


@given(st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(bytearray)))
def test_octet_string_encoding_shortcut_equals_the_general_encoder(value: bytes) -> None:
    """encode_data's shortcut for short octet-strings (the clock's time) gives the bytes the
    general encoder gives: tag 09, A-XDR length, the octets."""
    general = bytearray()
    encode_data_into(Data(DataType.OCTET_STRING, value), general)
    assert encode_data(Data(DataType.OCTET_STRING, value)) == bytes(general)
    assert general[:1] == b"\x09" and general.endswith(value)
