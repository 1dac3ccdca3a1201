"""The disconnector drives the load and logs what it does; the limiter runs on the fleet's time."""

from __future__ import annotations

from simulator.axdr import Data, DataType, Obis
from simulator.cosem.control import Trigger, evaluate_limiter, trigger
from simulator.server.objects import TimeBase
from simulator.state.effects import LoggedEvents, SupplyChanges
from tests.cosem.helpers import ZERO, call, struct, u16, u32
from tests.cosem.meter_fixture import EPOCH_2024, TestMeter

DC_LN, LOG_LN, CODE_LN = "0.0.96.3.10.255", "0.0.99.98.2.255", "0.0.96.11.2.255"
LIMITER_LN, POWER_LN, SCRIPTS_LN = "0.0.17.0.0.255", "1.0.1.7.0.255", "0.0.10.0.106.255"
DISCONNECTED, CONNECTED, READY = 0, 1, 2
# IDIS disconnector control log codes (Connexo IDIS protocol, DisconnectorControlLog.java):
# 59 ready for manual reconnection, 61 manual connection, 62 remote disconnection,
# 63 remote connection, 64 local disconnection, 65 limiter threshold exceeded, 66 ... ok.
READY_CODE, MANUAL_ON, REMOTE_OFF, REMOTE_ON, LOCAL_OFF, OVER, UNDER = 59, 61, 62, 63, 64, 65, 66


def enum(v: int) -> Data:
    return Data(DataType.ENUM, v)


def ln(text: str) -> Data:
    return Data(DataType.OCTET_STRING, bytes(Obis(text)))


def meter(mode: int, *, limiter: bool = False, rate: float = 1.0) -> TestMeter:
    objects: list[tuple[int, str, dict[int, Data]]] = [
        (70, DC_LN, {3: enum(CONNECTED), 4: enum(mode)}),
        (7, LOG_LN, {8: u32(3)}),
        (1, CODE_LN, {2: Data(DataType.UNSIGNED, 0)}),
    ]
    if limiter:
        def run(method: int) -> Data:  # a script calling one of the disconnector's methods
            return struct(u16(method), Data(DataType.ARRAY, (struct(
                enum(2), u16(70), ln(DC_LN), Data(DataType.INTEGER, method), ZERO),)))
        objects += [
            (71, LIMITER_LN, {2: struct(u16(3), ln(POWER_LN), Data(DataType.INTEGER, 2)), 4: u32(100), 5: u32(50),
                              6: u32(60), 7: u32(60), 9: Data(DataType.ARRAY, ()),
                              11: struct(struct(ln(SCRIPTS_LN), u16(1)), struct(ln(SCRIPTS_LN), u16(2)))}),
            (3, POWER_LN, {2: u32(0)}),
            (9, SCRIPTS_LN, {2: Data(DataType.ARRAY, (run(1), run(2)))}),
        ]
    m = TestMeter(objects)
    m.state.time_base = TimeBase(EPOCH_2024, rate=rate)
    return m


def logged(m: TestMeter) -> list[tuple[float, int]]:
    record = m.obj(LOG_LN).effect(LoggedEvents)
    return [] if record is None else record.entries


def changes(m: TestMeter) -> list[tuple[float, bool]]:
    record = m.obj(DC_LN).effect(SupplyChanges)
    return [] if record is None else record.changes


def test_remote_disconnect_and_reconnect_switch_the_supply_and_are_logged() -> None:
    m = meter(2)  # mode 2: remote reconnect connects directly (transition a)
    m.now = 10.0
    call(m.obj(DC_LN), 1, ZERO)
    m.now = 70.0
    call(m.obj(DC_LN), 2, ZERO)
    assert changes(m) == [(EPOCH_2024 + 10, False), (EPOCH_2024 + 70, True)]
    assert logged(m) == [(EPOCH_2024 + 10, REMOTE_OFF), (EPOCH_2024 + 70, REMOTE_ON)]
    assert m.obj(CODE_LN).get(2) == Data(DataType.UNSIGNED, REMOTE_ON)
    assert m.obj(DC_LN).get(2) == Data(DataType.BOOLEAN, True)


def test_supply_changes_are_fleet_time_not_the_meters_clock() -> None:
    m = meter(2)
    m.state.state.shift_clock(-3600)  # a client set this meter's clock an hour back
    m.now = 10.0
    call(m.obj(DC_LN), 1, ZERO)
    assert changes(m) == [(EPOCH_2024 + 10, False)]
    assert logged(m) == [(EPOCH_2024 + 10 - 3600, REMOTE_OFF)]  # the log shows the meter's own time


def test_reconnect_to_ready_keeps_the_load_off_until_the_manual_reconnect() -> None:
    m = meter(1)  # mode 1: remote reconnect only arms (transition d), the customer's button connects (e)
    call(m.obj(DC_LN), 1, ZERO)
    m.now = 5.0
    call(m.obj(DC_LN), 2, ZERO)
    assert m.obj(DC_LN).get(3) == enum(READY) and changes(m) == [(EPOCH_2024, False)]
    m.now = 9.0
    assert trigger(m.obj(DC_LN), Trigger.MANUAL_RECONNECT)
    assert changes(m) == [(EPOCH_2024, False), (EPOCH_2024 + 9, True)]
    assert [code for _, code in logged(m)] == [REMOTE_OFF, READY_CODE, MANUAL_ON]


def test_a_trigger_that_changes_nothing_logs_nothing() -> None:
    m = meter(2)
    call(m.obj(DC_LN), 1, ZERO)
    call(m.obj(DC_LN), 1, ZERO)  # already disconnected: success, nothing happens
    assert len(changes(m)) == 1 and len(logged(m)) == 1


def test_the_log_keeps_its_profile_entries() -> None:
    m = meter(2)
    for i in range(4):
        m.now = float(i)
        call(m.obj(DC_LN), 1 + i % 2, ZERO)
    assert [t - EPOCH_2024 for t, _ in logged(m)] == [1.0, 2.0, 3.0]  # profile_entries 3, oldest dropped
    assert len(changes(m)) == 4  # metrology needs every switch


def test_mode_0_reconnects_the_load() -> None:
    m = meter(2)
    call(m.obj(DC_LN), 1, ZERO)
    m.now = 3.0
    m.obj(DC_LN).write(4, enum(0))
    assert m.obj(DC_LN).get(2) == Data(DataType.BOOLEAN, True)
    assert changes(m) == [(EPOCH_2024, False), (EPOCH_2024 + 3, True)]


def test_the_limiter_counts_fleet_seconds_and_disconnects_through_its_script() -> None:
    m = meter(4, limiter=True, rate=600.0)  # 600 fleet seconds per second of `now`
    m.obj(POWER_LN).set(2, u32(150))
    assert evaluate_limiter(m.obj(LIMITER_LN)) is None
    m.now = 0.1  # 60 s of fleet time later
    assert evaluate_limiter(m.obj(LIMITER_LN)) == "over"
    assert m.obj(DC_LN).get(3) == enum(DISCONNECTED)
    assert changes(m) == [(EPOCH_2024 + 60, False)]
    assert [code for _, code in logged(m)] == [OVER, REMOTE_OFF]
    m.obj(POWER_LN).set(2, u32(20))
    m.now = 0.2
    assert evaluate_limiter(m.obj(LIMITER_LN)) is None
    m.now = 0.3
    assert evaluate_limiter(m.obj(LIMITER_LN)) == "under"
    assert [code for _, code in logged(m)][-2:] == [UNDER, REMOTE_ON]
    assert changes(m)[-1] == (EPOCH_2024 + 180, True)


def test_control_state_at_a_past_instant_reads_as_it_was() -> None:
    """What a disconnector control log row captures: the state at the event's instant, not today's."""
    m = meter(1)
    m.now = 10.0
    call(m.obj(DC_LN), 1, ZERO)  # remote disconnect
    m.now = 20.0
    call(m.obj(DC_LN), 2, ZERO)  # remote reconnect: ready for reconnection
    m.now = 30.0
    assert trigger(m.obj(DC_LN), Trigger.MANUAL_RECONNECT)
    m.now = 40.0
    control = m.obj(DC_LN)
    at = [control.at(EPOCH_2024 + s).get(3) for s in (5, 10, 15, 20, 25, 30, 35)]
    assert at == [enum(s) for s in (CONNECTED, DISCONNECTED, DISCONNECTED, READY, READY, CONNECTED, CONNECTED)]
    assert control.get(3) == enum(CONNECTED)
