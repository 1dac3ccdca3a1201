"""Writes reach the objects that watch them: register monitor scripts, parameter monitor records."""

from __future__ import annotations

from simulator.axdr import Data, DataType

from tests.cosem.helpers import array, octets, struct, u16
from tests.cosem.meter_fixture import TestMeter

ENERGY = "1.0.1.8.0.255"
FLAG = "0.0.96.1.9.255"
SCRIPTS = "0.0.10.0.100.255"
MONITOR = "0.0.16.0.1.255"
PARAMETERS = "0.0.16.2.0.255"


def obis(text: str) -> Data:
    from simulator.axdr import Obis
    return octets(bytes(Obis(text)))


def write_flag(value: int) -> Data:
    """A script action: write `value` into the flag Data object's value."""
    return struct(Data(DataType.ENUM, 1), u16(1), obis(FLAG), Data(DataType.INTEGER, 2),
                  Data(DataType.UNSIGNED, value))


def meter() -> TestMeter:
    u32 = lambda v: Data(DataType.DOUBLE_LONG_UNSIGNED, v)  # noqa: E731
    definition = struct(u16(3), obis(ENERGY), Data(DataType.INTEGER, 2))
    return TestMeter([
        (3, ENERGY, {2: u32(0), 3: struct(Data(DataType.INTEGER, 0), Data(DataType.ENUM, 30))}),
        (1, FLAG, {2: Data(DataType.UNSIGNED, 0)}),
        (9, SCRIPTS, {2: array(struct(u16(1), array(write_flag(1))), struct(u16(2), array(write_flag(2))))}),
        (21, MONITOR, {2: array(u32(1000)), 3: definition,
                       4: array(struct(struct(obis(SCRIPTS), u16(1)), struct(obis(SCRIPTS), u16(2))))}),
        (65, PARAMETERS, {4: array(definition)}),
    ])


def test_crossing_a_threshold_by_a_write_runs_the_monitor_script() -> None:
    m = meter()
    energy = m.obj(ENERGY)
    energy.write(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 500))
    assert m.obj(FLAG).get(2).value == 0  # below the threshold: nothing crossed
    energy.write(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 1500))
    assert m.obj(FLAG).get(2).value == 1  # crossed upwards: action_up ran script 1
    energy.write(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 200))
    assert m.obj(FLAG).get(2).value == 2  # back down: action_down ran script 2


def test_the_first_write_after_start_is_a_crossing_from_the_model_value() -> None:
    m = meter()
    m.obj(ENERGY).write(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 1500))  # model value 0 -> 1500
    assert m.obj(FLAG).get(2).value == 1


def test_a_write_is_recorded_by_the_parameter_monitor() -> None:
    m = meter()
    m.obj(ENERGY).write(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 42))
    changed = m.obj(PARAMETERS).get(2).value
    assert changed[1].value == bytes.fromhex("0100010800FF") and changed[3].value == 42


def test_a_write_to_an_unwatched_object_runs_no_monitor() -> None:
    m = meter()
    m.obj(ENERGY).write(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 500))
    m.obj(ENERGY).write(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 1500))
    assert m.obj(FLAG).get(2).value == 1
    m.obj(FLAG).write(2, Data(DataType.UNSIGNED, 7))  # the flag is nobody's monitored value
    assert m.obj(FLAG).get(2).value == 7
