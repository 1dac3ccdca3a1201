"""Disconnect control (70) state machine and Limiter (71)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.common import ActionResult
from simulator.axdr import CosemDateTime, Data, DataType, Obis
from simulator.cosem.base import ActionFailure
from simulator.cosem.control import (
    DISCONNECT_CONTROL, DISCONNECT_CONTROL_V1, LIMITER, Trigger, evaluate_limiter, trigger,
)
from tests.cosem.meter_fixture import EPOCH_2024, TestMeter

DC_LN = "0.0.96.3.10.255"
DISCONNECTED, CONNECTED, READY = 0, 1, 2

# The Blue Book's control_mode table, written out independently of the implementation:
# mode -> {(trigger, state before): state after}.
_REMOTE_OFF = {(Trigger.REMOTE_DISCONNECT, CONNECTED): DISCONNECTED,
               (Trigger.REMOTE_DISCONNECT, READY): DISCONNECTED}
_MANUAL_ON = {(Trigger.MANUAL_RECONNECT, READY): CONNECTED}
_MANUAL_OFF = {(Trigger.MANUAL_DISCONNECT, CONNECTED): READY}
_LOCAL_OFF = {(Trigger.LOCAL_DISCONNECT, CONNECTED): READY}
_LOCAL_ON = {(Trigger.LOCAL_RECONNECT, READY): CONNECTED}
_REMOTE_ON_DIRECT = {(Trigger.REMOTE_RECONNECT, DISCONNECTED): CONNECTED}
_REMOTE_ON_READY = {(Trigger.REMOTE_RECONNECT, DISCONNECTED): READY}
EXPECTED: dict[int, dict[tuple[Trigger, int], int]] = {
    0: {},
    1: _REMOTE_OFF | _MANUAL_OFF | _LOCAL_OFF | _REMOTE_ON_READY | _MANUAL_ON,
    2: _REMOTE_OFF | _MANUAL_OFF | _LOCAL_OFF | _REMOTE_ON_DIRECT | _MANUAL_ON,
    3: _REMOTE_OFF | _LOCAL_OFF | _REMOTE_ON_READY | _MANUAL_ON,
    4: _REMOTE_OFF | _LOCAL_OFF | _REMOTE_ON_DIRECT | _MANUAL_ON,
    5: _REMOTE_OFF | _MANUAL_OFF | _LOCAL_OFF | _REMOTE_ON_READY | _MANUAL_ON | _LOCAL_ON,
    6: _REMOTE_OFF | _LOCAL_OFF | _REMOTE_ON_READY | _MANUAL_ON | _LOCAL_ON,
    7: _REMOTE_OFF | _LOCAL_OFF | _REMOTE_ON_DIRECT | {(Trigger.REMOTE_RECONNECT, READY): CONNECTED}
       | _MANUAL_ON | _LOCAL_ON,
}
_OFF = {Trigger.REMOTE_DISCONNECT, Trigger.MANUAL_DISCONNECT, Trigger.LOCAL_DISCONNECT}


def dc_meter(mode: int, state: int, version: int = 0) -> TestMeter:
    return TestMeter([(70, DC_LN, {3: Data(DataType.ENUM, state), 4: Data(DataType.ENUM, mode)})],
                     version={70: version})


def state_of(m: TestMeter) -> int:
    return m.obj(DC_LN).get(3).value


def test_declaration() -> None:
    for cls, version in ((DISCONNECT_CONTROL, 0), (DISCONNECT_CONTROL_V1, 1)):
        assert (cls.class_id, cls.version, cls.sn_method_offset) == (70, version, 0x20)
        assert [a.name for a in cls.attributes] == ["logical_name", "output_state", "control_state", "control_mode"]
        assert [m.name for m in cls.methods] == ["remote_disconnect", "remote_reconnect"]
    assert DISCONNECT_CONTROL.attribute(4).type.accepts(Data(DataType.ENUM, 6))
    assert DISCONNECT_CONTROL.attribute(4).type.fault(Data(DataType.ENUM, 7)) is not None  # out of range
    assert DISCONNECT_CONTROL_V1.attribute(4).type.accepts(Data(DataType.ENUM, 7))
    assert DISCONNECT_CONTROL.attribute(3).type.fault(Data(DataType.ENUM, 3)) is not None


def _cases() -> list[tuple[int, int, Trigger]]:
    return [(mode, state, t) for mode in EXPECTED for state in (0, 1, 2) for t in Trigger
            if not (mode == 0 and state != CONNECTED)]


@pytest.mark.parametrize("mode, state, what", _cases())
def test_every_trigger_in_every_mode_and_state(mode: int, state: int, what: Trigger) -> None:
    m = dc_meter(mode, state, version=1 if mode == 7 else 0)
    after = EXPECTED[mode].get((what, state))
    already = (state != CONNECTED) == (what in _OFF)
    remote = what in (Trigger.REMOTE_DISCONNECT, Trigger.REMOTE_RECONNECT)
    if remote:
        method = 1 if what == Trigger.REMOTE_DISCONNECT else 2
        if after is None and not already:
            with pytest.raises(ActionFailure) as exc:
                m.obj(DC_LN).invoke(method, Data(DataType.INTEGER, 0))
            enabled = any(t == what for t, _ in EXPECTED[mode])
            assert exc.value.result == (ActionResult.TEMPORARY_FAILURE if enabled
                                        else ActionResult.READ_WRITE_DENIED)
        else:
            m.obj(DC_LN).invoke(method, Data(DataType.INTEGER, 0))
    else:
        assert trigger(m.obj(DC_LN), what) is (after is not None)
    expected = state if after is None else after
    assert state_of(m) == expected
    assert m.obj(DC_LN).get(2) == Data(DataType.BOOLEAN, expected == CONNECTED)


def test_mode_0_always_connected() -> None:
    m = dc_meter(1, DISCONNECTED)
    m.obj(DC_LN).write(4, Data(DataType.ENUM, 0))
    assert state_of(m) == CONNECTED and m.obj(DC_LN).get(2).value is True
    with pytest.raises(ActionFailure) as exc:
        m.obj(DC_LN).invoke(1, Data(DataType.INTEGER, 0))
    assert exc.value.result == ActionResult.READ_WRITE_DENIED


def test_defaults_without_model_values() -> None:
    m = TestMeter([(70, DC_LN, {})])
    assert m.obj(DC_LN).get(2) == Data(DataType.BOOLEAN, True)
    assert m.obj(DC_LN).get(3) == Data(DataType.ENUM, 1)
    assert m.obj(DC_LN).get(4) == Data(DataType.ENUM, 0)


def test_typical_idis_cycle_in_mode_1() -> None:
    m = dc_meter(1, CONNECTED)
    m.obj(DC_LN).invoke(1, Data(DataType.INTEGER, 0))
    assert state_of(m) == DISCONNECTED
    m.obj(DC_LN).invoke(2, Data(DataType.INTEGER, 0))
    assert state_of(m) == READY and m.obj(DC_LN).get(2).value is False
    assert trigger(m.obj(DC_LN), Trigger.MANUAL_RECONNECT) is True  # the customer presses the button
    assert state_of(m) == CONNECTED and m.obj(DC_LN).get(2).value is True


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(EXPECTED)), st.lists(st.sampled_from(list(Trigger)), max_size=25))
def test_random_trigger_sequences_follow_the_table(mode: int, triggers: list[Trigger]) -> None:
    m = dc_meter(mode, CONNECTED, version=1 if mode == 7 else 0)
    state = CONNECTED
    for what in triggers:
        if what in (Trigger.REMOTE_DISCONNECT, Trigger.REMOTE_RECONNECT):
            try:
                m.obj(DC_LN).invoke(1 if what == Trigger.REMOTE_DISCONNECT else 2, Data(DataType.INTEGER, 0))
            except ActionFailure:
                pass
        else:
            trigger(m.obj(DC_LN), what)
        state = EXPECTED[mode].get((what, state), state)
        assert state_of(m) == state
        assert m.obj(DC_LN).get(2).value is (state == CONNECTED)
        if mode == 0:
            assert state == CONNECTED


# --------------------------------------------------------------------------- Limiter

LIMITER_LN = "0.0.17.0.0.255"
POWER_LN = "1.0.1.7.0.255"
SCRIPTS_LN = "0.0.10.0.106.255"
MARKER_LN = "0.0.96.50.0.255"


def u16(v: int) -> Data:
    return Data(DataType.LONG_UNSIGNED, v)


def u32(v: int) -> Data:
    return Data(DataType.DOUBLE_LONG_UNSIGNED, v)


def ln(text: str) -> Data:
    return Data(DataType.OCTET_STRING, bytes(Obis(text)))


def struct(*items: Data) -> Data:
    return Data(DataType.STRUCTURE, items)


def write_marker(script_id: int, text: str) -> Data:
    return struct(u16(script_id), Data(DataType.ARRAY, (struct(
        Data(DataType.ENUM, 1), u16(1), ln(MARKER_LN), Data(DataType.INTEGER, 2),
        Data(DataType.VISIBLE_STRING, text)),)))


def limiter_meter(activation: datetime | None = None, groups: tuple[int, ...] = (1,)) -> TestMeter:
    when = CosemDateTime.from_datetime(activation or datetime(2030, 1, 1, tzinfo=timezone.utc)).to_bytes()
    return TestMeter([
        (71, LIMITER_LN, {
            2: struct(u16(3), ln(POWER_LN), Data(DataType.INTEGER, 2)),
            4: u32(100), 5: u32(50), 6: u32(60), 7: u32(30),
            8: struct(u16(1), Data(DataType.OCTET_STRING, when), u32(3600)),
            9: Data(DataType.ARRAY, tuple(u16(g) for g in groups)),
            11: struct(struct(ln(SCRIPTS_LN), u16(1)), struct(ln(SCRIPTS_LN), u16(2))),
        }),
        (3, POWER_LN, {2: u32(0)}),
        (9, SCRIPTS_LN, {2: Data(DataType.ARRAY, (write_marker(1, "over"), write_marker(2, "under")))}),
        (1, MARKER_LN, {2: Data(DataType.VISIBLE_STRING, "none")}),
    ])


def step(m: TestMeter, now: float, power: int | None = None) -> str | None:
    m.now = now
    if power is not None:
        m.obj(POWER_LN).set(2, u32(power))
    return evaluate_limiter(m.obj(LIMITER_LN))


def marker(m: TestMeter) -> str:
    return m.obj(MARKER_LN).get(2).value


def test_limiter_declaration() -> None:
    assert (LIMITER.class_id, LIMITER.version, LIMITER.methods) == (71, 0, ())
    assert [a.name for a in LIMITER.attributes][1:] == [
        "monitored_value", "threshold_active", "threshold_normal", "threshold_emergency",
        "min_over_threshold_duration", "min_under_threshold_duration", "emergency_profile",
        "emergency_profile_group_id_list", "emergency_profile_active", "actions"]


def test_over_then_under_after_the_minimum_durations() -> None:
    m = limiter_meter()
    assert step(m, 0, 150) is None
    assert m.obj(LIMITER_LN).get(3) == u32(100)  # threshold_active follows threshold_normal
    assert step(m, 59) is None and marker(m) == "none"
    assert step(m, 60) == "over" and marker(m) == "over"
    assert step(m, 61) is None  # fires once per excursion
    assert step(m, 70, 100) is None  # equal to the threshold is not over
    assert step(m, 99) is None and marker(m) == "over"
    assert step(m, 100) == "under" and marker(m) == "under"


def test_short_excursions_do_not_fire() -> None:
    m = limiter_meter()
    step(m, 0, 150)
    step(m, 50, 90)   # back under before 60 s
    step(m, 55, 150)  # a new excursion starts the count again
    assert step(m, 114) is None
    assert step(m, 115) == "over"


def test_under_does_not_fire_from_the_start() -> None:
    m = limiter_meter()
    assert step(m, 0, 10) is None
    assert step(m, 1000) is None and marker(m) == "none"


def test_emergency_profile_switches_the_threshold() -> None:
    start = datetime.fromtimestamp(EPOCH_2024, timezone.utc).replace(minute=10)
    m = limiter_meter(activation=start)
    assert step(m, 0, 70) is None
    assert m.obj(LIMITER_LN).get(10) == Data(DataType.BOOLEAN, False)
    step(m, 600)  # 00:10: the emergency profile starts
    assert m.obj(LIMITER_LN).get(10) == Data(DataType.BOOLEAN, True)
    assert m.obj(LIMITER_LN).get(3) == u32(50)
    assert step(m, 660) == "over"  # 70 > 50 for 60 s
    step(m, 600 + 3600)  # duration over
    assert m.obj(LIMITER_LN).get(10) == Data(DataType.BOOLEAN, False)
    assert m.obj(LIMITER_LN).get(3) == u32(100)
    assert step(m, 600 + 3600 + 30) == "under"


def test_emergency_profile_outside_the_group_list_is_ignored() -> None:
    m = limiter_meter(activation=datetime.fromtimestamp(EPOCH_2024, timezone.utc), groups=(2, 3))
    step(m, 10, 70)
    assert m.obj(LIMITER_LN).get(10) == Data(DataType.BOOLEAN, False)
    assert m.obj(LIMITER_LN).get(3) == u32(100)


def test_limiter_with_a_missing_monitored_object_does_nothing() -> None:
    m = limiter_meter()
    m.obj(LIMITER_LN).set(2, struct(u16(3), ln("1.0.99.7.0.255"), Data(DataType.INTEGER, 2)))
    assert step(m, 0) is None and step(m, 1000) is None
