"""`GET` / `PUT /api/time` over real sockets: a jump forward of a day moves the clock gurux-dlms
reads by a day and the daily load profile gains a row; a pause freezes the clock a client reads
until it is resumed; a new rate is the pace the clock runs at; the time never goes back; what
does not fit is refused naming the field. And the `TimeBase` behind it, sans-IO."""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from gurux_dlms.objects import GXDLMSClock, GXDLMSProfileGeneric

from simulator.server.objects import TimeBase

from .test_events import SERIAL, Controlled, controlled, iso, poly_profile, utc

DAY = 86400.0


def read_clock(c: Controlled) -> datetime:
    peer = c.peer()
    try:
        return utc(peer.read(GXDLMSClock("0.0.1.0.0.255"), 2))
    finally:
        peer.release()
        peer.pipe.close()


def daily_rows(c: Controlled) -> int:
    peer = c.peer()
    try:
        profile = GXDLMSProfileGeneric("1.0.99.2.0.255")  # load profile 2 (daily)
        return int(peer.read(profile, 7))  # entries_in_use
    finally:
        peer.release()
        peer.pipe.close()


def test_get_says_where_the_fleets_time_stands(tmp_path: Path) -> None:
    with controlled(poly_profile(tmp_path), tmp_path) as c:
        status, body = c.api("GET", "/api/time")
        assert status == 200 and set(body) == {"epoch", "iso", "rate", "paused"}
        assert body["rate"] == 1.0 and body["paused"] is False
        assert abs(iso(body["iso"]).timestamp() - body["epoch"]) < 1
        assert abs(body["epoch"] - datetime(2024, 1, 10, 19, 0, tzinfo=timezone.utc).timestamp()) < 60


def test_a_jump_of_a_day_moves_the_clock_and_the_daily_profile_gains_a_row(tmp_path: Path) -> None:
    with controlled(poly_profile(tmp_path), tmp_path) as c:
        before, rows = read_clock(c), daily_rows(c)
        status, body = c.api("PUT", "/api/time", {"jump_s": DAY})
        assert status == 200 and body["paused"] is False
        after = read_clock(c)
        assert timedelta(days=1) <= after - before < timedelta(days=1, seconds=30)
        assert daily_rows(c) == rows + 1  # the midnight in between was captured


def test_a_pause_freezes_the_clock_until_it_is_resumed(tmp_path: Path) -> None:
    with controlled(poly_profile(tmp_path), tmp_path) as c:
        status, paused = c.api("PUT", "/api/time", {"paused": True})
        assert status == 200 and paused["paused"] is True and paused["rate"] == 1.0
        frozen = read_clock(c)
        time.sleep(1.2)  # real time passes; the fleet's does not
        assert read_clock(c) == frozen
        assert c.api("GET", "/api/time")[1]["epoch"] == paused["epoch"]
        status, jumped = c.api("PUT", "/api/time", {"jump_s": 3600})  # a jump while paused stays paused
        assert jumped["paused"] is True and jumped["epoch"] == paused["epoch"] + 3600
        assert read_clock(c) == frozen + timedelta(hours=1)
        status, running = c.api("PUT", "/api/time", {"paused": False})
        assert running["paused"] is False
        time.sleep(1.2)
        assert read_clock(c) > frozen + timedelta(hours=1)


def test_a_new_rate_is_the_pace_of_every_meters_clock(tmp_path: Path) -> None:
    with controlled(poly_profile(tmp_path), tmp_path) as c:
        status, body = c.api("PUT", "/api/time", {"rate": 3600})
        assert status == 200 and body["rate"] == 3600
        started = time.monotonic()
        first = read_clock(c)
        time.sleep(1.0)
        second = read_clock(c)
        elapsed = time.monotonic() - started  # at least the second between the two reads
        assert timedelta(hours=1) <= second - first <= timedelta(seconds=3600 * elapsed + 2)
        assert c.api("GET", f"/api/meters/{SERIAL}/events")[0] == 200  # the meters still answer the API


@pytest.mark.parametrize(("body", "field"), [
    ({"rate": 0}, "rate"), ({"rate": -2}, "rate"), ({"rate": "fast"}, "rate"), ({"paused": 1}, "paused"),
    ({"jump_s": -60}, "jump_s"), ({"jump_s": True}, "jump_s"), ({"speed": 2}, "speed"), ({}, "rate"),
])
def test_what_does_not_fit_is_refused_naming_the_field(tmp_path: Path, body: object, field: str) -> None:
    with controlled(poly_profile(tmp_path), tmp_path) as c:
        before = c.api("GET", "/api/time")[1]
        status, answer = c.api("PUT", "/api/time", body)
        assert status == 400 and field in answer["error"], answer
        after = c.api("GET", "/api/time")[1]
        assert after["rate"] == before["rate"] and after["paused"] is False


# --------------------------------------------------------------------------- the TimeBase, sans-IO

def test_the_time_base_pauses_changes_pace_and_jumps_keeping_the_past_where_it_was() -> None:
    base = TimeBase(1000.0, 10.0, 2.0)
    assert base.epoch(15.0) == 1010.0
    base.change(15.0, paused=True)
    assert base.epoch(20.0) == base.epoch(99.0) == 1010.0  # frozen
    assert base.epoch(12.0) == 1004.0 and base.now_of(1004.0) == 12.0  # the past still maps both ways
    assert base.wake_at(1011.0) == math.inf and base.wake_at(1008.0) == 14.0  # no timer fires while paused
    base.change(30.0, paused=False, rate=10.0)
    assert base.epoch(31.0) == 1020.0 and base.wake_at(1020.0) == 31.0
    base.change(31.0, jump_s=500.0)
    assert base.epoch(31.0) == 1520.0 and base.rate == 10.0 and not base.paused
    with pytest.raises(ValueError):
        base.change(32.0, jump_s=-1.0)
    with pytest.raises(ValueError):
        base.change(32.0, rate=0.0)
    assert base.epoch(32.0) == 1530.0  # a refused change changes nothing
