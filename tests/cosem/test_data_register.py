"""Data, registers and their monitors: declarations, methods and refusals."""

from __future__ import annotations

import pytest
from gurux_dlms.enums import DataType as GuruxType
from gurux_dlms.objects import (
    GXDLMSActionSchedule, GXDLMSActivityCalendar, GXDLMSClock, GXDLMSData, GXDLMSDemandRegister,
    GXDLMSDisconnectControl, GXDLMSExtendedRegister, GXDLMSLimiter, GXDLMSParameterMonitor,
    GXDLMSRegister, GXDLMSRegisterActivation, GXDLMSRegisterMonitor, GXDLMSSchedule,
    GXDLMSScriptTable, GXDLMSSpecialDaysTable,
)

from simulator.apdu.common import ActionResult, DataAccessResult
from simulator.axdr import BitString, CosemDateTime, Data, DataType, Obis
from simulator.cosem.base import AccessFailure, ActionFailure
from simulator.cosem.data_register import (
    COMPACT_DATA, DEMAND_REGISTER, PARAMETER_MONITOR, REGISTER_ACTIVATION, REGISTER_MONITOR,
    REGISTER_TABLE, SENSOR_MANAGER, STATUS_MAPPING, active_registers, evaluate_monitor,
    evaluate_sensor, mapped_entries, record_change,
)
from simulator.cosem.registry import get_class
from simulator.cosem.types import Array, Enum, OctetString, Simple, Struct, TypeSpec
from tests.cosem.meter_fixture import TestMeter

CLOCK_LN = "0.0.1.0.0.255"
ZERO = Data(DataType.INTEGER, 0)


def u8(v: int) -> Data:
    return Data(DataType.UNSIGNED, v)


def u16(v: int) -> Data:
    return Data(DataType.LONG_UNSIGNED, v)


def u32(v: int) -> Data:
    return Data(DataType.DOUBLE_LONG_UNSIGNED, v)


def octets(raw: bytes) -> Data:
    return Data(DataType.OCTET_STRING, raw)


def ln(text: str) -> Data:
    return octets(bytes(Obis(text)))


def struct(*items: Data) -> Data:
    return Data(DataType.STRUCTURE, items)


def array(*items: Data) -> Data:
    return Data(DataType.ARRAY, items)


def scaler_unit(scaler: int, unit: int) -> Data:
    return struct(Data(DataType.INTEGER, scaler), Data(DataType.ENUM, unit))


def clock_time(m: TestMeter) -> Data:
    return m.obj(CLOCK_LN).get(2)


# --------------------------------------------------------------------------- declarations vs gurux

GURUX = [
    (1, GXDLMSData), (3, GXDLMSRegister), (4, GXDLMSExtendedRegister), (5, GXDLMSDemandRegister),
    (6, GXDLMSRegisterActivation), (8, GXDLMSClock), (9, GXDLMSScriptTable), (10, GXDLMSSchedule),
    (11, GXDLMSSpecialDaysTable), (20, GXDLMSActivityCalendar), (21, GXDLMSRegisterMonitor),
    (22, GXDLMSActionSchedule), (65, GXDLMSParameterMonitor), (70, GXDLMSDisconnectControl),
    (71, GXDLMSLimiter),
]


def _tag(spec: TypeSpec) -> set[int] | None:
    """The A-XDR tag(s) a spec's values start with; None for a CHOICE."""
    if isinstance(spec, Simple):
        return {int(spec.type)}
    if isinstance(spec, OctetString):
        return {int(DataType.OCTET_STRING)}
    if isinstance(spec, Enum):
        return {int(DataType.ENUM)}
    if isinstance(spec, (Struct, Array)):
        # gurux reports pre-encoded structures as ARRAY in getDataType (its encoders write STRUCTURE)
        return {int(DataType.STRUCTURE), int(DataType.ARRAY)} if isinstance(spec, Struct) else {int(DataType.ARRAY)}
    return None


@pytest.mark.parametrize("class_id, gurux_class", GURUX, ids=[str(c) for c, _ in GURUX])
def test_declaration_matches_gurux(class_id: int, gurux_class: type) -> None:
    peer = gurux_class()
    cls = get_class(class_id, peer.version)
    assert cls is not None, f"class {class_id} version {peer.version} not declared"
    assert len(cls.attributes) == peer.getAttributeCount()
    # gurux 1.0.203 counts no method for Extended register, yet its reset() calls method 1.
    assert len(cls.methods) == (1 if class_id == 4 else peer.getMethodCount())
    for a in cls.attributes:
        expected = _tag(a.type)
        peer_type = peer.getDataType(a.index)
        if expected is not None and peer_type not in (None, GuruxType.NONE):
            assert int(peer_type) in expected, (class_id, a.index, a.name)


def test_classes_gurux_lacks_are_fully_declared() -> None:
    assert [a.name for a in REGISTER_TABLE.attributes] == [
        "logical_name", "table_cell_values", "table_cell_definition", "scaler_unit"]
    assert [m.name for m in REGISTER_TABLE.methods] == ["reset", "capture"]
    assert [a.name for a in COMPACT_DATA.attributes] == [
        "logical_name", "compact_buffer", "capture_objects", "template_id", "template_description", "capture_method"]
    assert [m.name for m in COMPACT_DATA.methods] == ["reset", "capture"]
    assert [a.name for a in STATUS_MAPPING.attributes] == ["logical_name", "status_word", "mapping_table"]
    assert len(SENSOR_MANAGER.attributes) == 15 and SENSOR_MANAGER.method(1).name == "reset"
    assert SENSOR_MANAGER.sn_method_offset == 0x80


# --------------------------------------------------------------------------- Register, Extended register

def test_register_reset_keeps_the_type() -> None:
    m = TestMeter([(3, "1.0.1.8.0.255", {2: u32(5000), 3: scaler_unit(0, 30)})])
    m.obj("1.0.1.8.0.255").invoke(1, ZERO)
    assert m.obj("1.0.1.8.0.255").get(2) == u32(0)


def test_extended_register_reset_stamps_the_clock_time() -> None:
    m = TestMeter([(8, CLOCK_LN, {3: Data(DataType.LONG, -60)}),
                   (4, "1.0.1.6.0.255", {2: Data(DataType.FLOAT32, 3.5)})])
    m.now = 125
    m.obj("1.0.1.6.0.255").invoke(1, ZERO)
    assert m.obj("1.0.1.6.0.255").get(2) == Data(DataType.FLOAT32, 0.0)
    assert m.obj("1.0.1.6.0.255").get(5) == clock_time(m)
    assert CosemDateTime.from_bytes(clock_time(m).value).deviation == -60


def test_reset_of_a_value_that_has_no_zero() -> None:
    m = TestMeter([(3, "1.0.1.8.0.255", {2: Data(DataType.DATE_TIME, CosemDateTime())})])
    with pytest.raises(ActionFailure) as exc:
        m.obj("1.0.1.8.0.255").invoke(1, ZERO)
    assert exc.value.result == ActionResult.OTHER_REASON


# --------------------------------------------------------------------------- Demand register

DEMAND_LN = "1.0.1.4.0.255"


def demand_meter() -> TestMeter:
    return TestMeter([(8, CLOCK_LN, {}), (5, DEMAND_LN, {
        2: u32(1500), 3: u32(1200), 4: scaler_unit(0, 27), 8: u32(900), 9: u16(1)})])


def test_demand_register_declaration() -> None:
    assert (DEMAND_REGISTER.class_id, DEMAND_REGISTER.sn_method_offset) == (5, 0x48)
    assert [a.dynamic for a in DEMAND_REGISTER.attributes] == [False, True, True, False, True, True, True, False, False]


def test_next_period_moves_current_to_last_and_restarts() -> None:
    m = demand_meter()
    m.now = 900
    m.obj(DEMAND_LN).invoke(2, ZERO)
    obj = m.obj(DEMAND_LN)
    assert (obj.get(2), obj.get(3)) == (u32(0), u32(1500))
    assert obj.get(6) == obj.get(7) == clock_time(m)
    assert CosemDateTime.from_bytes(obj.get(7).value).minute == 15


def test_demand_reset_clears_both_averages() -> None:
    m = demand_meter()
    m.now = 60
    m.obj(DEMAND_LN).invoke(1, ZERO)
    obj = m.obj(DEMAND_LN)
    assert (obj.get(2), obj.get(3)) == (u32(0), u32(0))
    assert obj.get(6) == obj.get(7) == clock_time(m)


# --------------------------------------------------------------------------- Register activation

ACT_LN = "0.0.14.0.1.255"


def mask(name: bytes, *indices: int) -> Data:
    return struct(octets(name), array(*(u8(i) for i in indices)))


def activation_meter() -> TestMeter:
    registers = array(*(struct(u16(3), ln(f"1.0.1.8.{t}.255")) for t in (1, 2)))
    return TestMeter([(6, ACT_LN, {2: registers, 3: array(mask(b"T1", 1), mask(b"T2", 2)), 4: octets(b"T1")})])


def test_register_activation_declaration() -> None:
    assert (REGISTER_ACTIVATION.class_id, REGISTER_ACTIVATION.sn_method_offset) == (6, 0x30)
    assert [m.name for m in REGISTER_ACTIVATION.methods] == ["add_register", "add_mask", "delete_mask"]


def test_add_register_and_masks() -> None:
    m = activation_meter()
    obj = m.obj(ACT_LN)
    obj.invoke(1, struct(u16(3), ln("1.0.1.8.3.255")))
    assert len(obj.get(2).value) == 3
    obj.invoke(2, mask(b"T3", 3))
    obj.invoke(2, mask(b"T1", 1, 3))  # same name: overwritten
    assert [(x.value[0].value, [i.value for i in x.value[1].value]) for x in obj.get(3).value] == [
        (b"T2", [2]), (b"T3", [3]), (b"T1", [1, 3])]
    assert active_registers(obj) == [(3, Obis("1.0.1.8.1.255")), (3, Obis("1.0.1.8.3.255"))]
    obj.write(4, octets(b"T2"))
    assert active_registers(obj) == [(3, Obis("1.0.1.8.2.255"))]


@pytest.mark.parametrize("indices", [(0,), (3,), (1, 9)])
def test_add_mask_refuses_indices_outside_the_assignment(indices: tuple[int, ...]) -> None:
    m = activation_meter()
    with pytest.raises(ActionFailure) as exc:
        m.obj(ACT_LN).invoke(2, mask(b"X", *indices))
    assert exc.value.result == ActionResult.OTHER_REASON
    assert len(m.obj(ACT_LN).get(3).value) == 2


def test_delete_mask() -> None:
    m = activation_meter()
    m.obj(ACT_LN).invoke(3, octets(b"T2"))
    m.obj(ACT_LN).invoke(3, octets(b"absent"))
    assert [x.value[0].value for x in m.obj(ACT_LN).get(3).value] == [b"T1"]
    with pytest.raises(ActionFailure) as exc:
        m.obj(ACT_LN).invoke(3, octets(b"T1"))  # the active one
    assert exc.value.result == ActionResult.OTHER_REASON


def test_active_mask_must_name_a_mask() -> None:
    m = activation_meter()
    with pytest.raises(AccessFailure) as exc:
        m.obj(ACT_LN).write(4, octets(b"T9"))
    assert exc.value.result == DataAccessResult.OTHER_REASON
    assert m.obj(ACT_LN).get(4) == octets(b"T1")


# --------------------------------------------------------------------------- Register monitor

MONITOR_LN = "1.0.16.128.0.255"
POWER_LN = "1.0.1.7.0.255"
SCRIPTS_LN = "0.0.10.0.1.255"
LOG_LN = "0.0.96.50.0.255"


def append_script(script_id: int, text: str) -> Data:
    """A script that writes `text` to the log object (tests read which scripts ran, in order)."""
    return struct(u16(script_id), array(struct(Data(DataType.ENUM, 1), u16(1), ln(LOG_LN),
                                               Data(DataType.INTEGER, 2), Data(DataType.VISIBLE_STRING, text))))


def action_set(up: int, down: int) -> Data:
    return struct(struct(ln(SCRIPTS_LN), u16(up)), struct(ln(SCRIPTS_LN), u16(down)))


def monitor_meter() -> TestMeter:
    return TestMeter([
        (21, MONITOR_LN, {2: array(u32(100), u32(200)), 3: struct(u16(3), ln(POWER_LN), Data(DataType.INTEGER, 2)),
                          4: array(action_set(1, 2), action_set(3, 4))}),
        (3, POWER_LN, {2: u32(50)}),
        (9, SCRIPTS_LN, {2: array(*(append_script(i, f"s{i}") for i in range(1, 5)))}),
        (1, LOG_LN, {2: Data(DataType.VISIBLE_STRING, "")}),
    ])


def set_power(m: TestMeter, value: int) -> list[tuple[int, str]]:
    m.obj(POWER_LN).set(2, u32(value))
    return evaluate_monitor(m.obj(MONITOR_LN))


def test_register_monitor_declaration() -> None:
    assert [a.name for a in REGISTER_MONITOR.attributes] == ["logical_name", "thresholds", "monitored_value", "actions"]
    assert REGISTER_MONITOR.methods == ()


def test_crossings_run_up_and_down_actions_in_order() -> None:
    m = monitor_meter()
    assert evaluate_monitor(m.obj(MONITOR_LN)) == []  # the first value is the baseline
    assert set_power(m, 150) == [(0, "up")]
    assert m.obj(LOG_LN).get(2).value == "s1"
    assert set_power(m, 160) == []
    assert set_power(m, 250) == [(1, "up")]
    assert m.obj(LOG_LN).get(2).value == "s3"
    assert set_power(m, 20) == [(1, "down"), (0, "down")]
    assert m.obj(LOG_LN).get(2).value == "s2"  # threshold 0's down action ran last
    assert set_power(m, 300) == [(0, "up"), (1, "up")]


def test_a_value_equal_to_a_threshold_is_not_above_it() -> None:
    m = monitor_meter()
    evaluate_monitor(m.obj(MONITOR_LN))
    assert set_power(m, 100) == []
    assert set_power(m, 101) == [(0, "up")]
    assert set_power(m, 100) == [(0, "down")]


def test_monitor_ignores_missing_objects_and_non_numbers() -> None:
    m = monitor_meter()
    m.obj(MONITOR_LN).set(3, struct(u16(3), ln("1.0.99.7.0.255"), Data(DataType.INTEGER, 2)))
    assert evaluate_monitor(m.obj(MONITOR_LN)) == []
    m.obj(MONITOR_LN).set(3, struct(u16(3), ln(POWER_LN), Data(DataType.INTEGER, 3)))  # scaler_unit
    assert evaluate_monitor(m.obj(MONITOR_LN)) == []


def test_crossing_without_an_action_set_still_reports() -> None:
    m = monitor_meter()
    m.obj(MONITOR_LN).set(4, array())
    evaluate_monitor(m.obj(MONITOR_LN))
    assert set_power(m, 500) == [(0, "up"), (1, "up")]
    assert m.obj(LOG_LN).get(2).value == ""


# --------------------------------------------------------------------------- Register table

TABLE_LN = "1.0.94.0.0.255"


def table_meter() -> TestMeter:
    return TestMeter([
        (61, TABLE_LN, {3: struct(u16(3), ln("1.0.32.7.0.255"), array(u8(1), u8(2), u8(3)), Data(DataType.INTEGER, 2))}),
        (3, "1.0.32.7.1.255", {2: u16(2301), 3: scaler_unit(-1, 35)}),
        (3, "1.0.32.7.2.255", {2: u16(2299), 3: scaler_unit(-1, 35)}),
    ])


def test_register_table_capture_and_reset() -> None:
    m = table_meter()
    assert (REGISTER_TABLE.class_id, REGISTER_TABLE.sn_method_offset) == (61, 0x28)
    m.obj(TABLE_LN).invoke(2, ZERO)
    obj = m.obj(TABLE_LN)
    assert obj.get(2) == array(u16(2301), u16(2299), Data(DataType.NULL_DATA))
    assert obj.get(4) == scaler_unit(-1, 35)
    obj.invoke(1, ZERO)
    assert obj.get(2) == array()


def test_new_cell_definition_empties_the_table() -> None:
    m = table_meter()
    m.obj(TABLE_LN).invoke(2, ZERO)
    m.obj(TABLE_LN).write(3, struct(u16(3), ln("1.0.32.7.0.255"), array(u8(2)), Data(DataType.INTEGER, 2)))
    assert m.obj(TABLE_LN).get(2) == array()
    m.obj(TABLE_LN).invoke(2, ZERO)
    assert m.obj(TABLE_LN).get(2) == array(u16(2299))


def test_capture_without_definition_is_refused() -> None:
    m = TestMeter([(61, TABLE_LN, {})])
    with pytest.raises(ActionFailure) as exc:
        m.obj(TABLE_LN).invoke(2, ZERO)
    assert exc.value.result == ActionResult.OTHER_REASON


# --------------------------------------------------------------------------- Compact data

COMPACT_LN = "0.0.66.0.1.255"


def capture_object(class_id: int, name: str, index: int, data_index: int = 0) -> Data:
    return struct(u16(class_id), ln(name), Data(DataType.INTEGER, index), u16(data_index))


def compact_meter(method: int, *extra: Data) -> TestMeter:
    objects = array(capture_object(62, COMPACT_LN, 4), capture_object(3, "1.0.1.8.0.255", 2),
                    capture_object(8, CLOCK_LN, 2), *extra)
    return TestMeter([
        (62, COMPACT_LN, {3: objects, 4: u8(5), 6: Data(DataType.ENUM, method)}),
        (3, "1.0.1.8.0.255", {2: u32(0x01020304)}),
        (8, CLOCK_LN, {}),
        (7, "1.0.99.1.0.255", {}),
    ])


# template_id unsigned, energy double-long-unsigned, time octet-string: structure of 3.
COMPACT_DESCRIPTION = bytes.fromhex("0203" "11" "06" "09")
# Untagged values: 05 | 01020304 | 0C + 2024-01-01 00:00:00 UTC (Blue Book date-time layout).
COMPACT_BUFFER = bytes.fromhex("05" "01020304" "0C" "07E8010101000000000000" "00")


def test_compact_data_capture_upon_invocation() -> None:
    m = compact_meter(1)
    assert m.obj(COMPACT_LN).get(2) == octets(b"")
    m.obj(COMPACT_LN).invoke(2, ZERO)
    assert m.obj(COMPACT_LN).get(2) == octets(COMPACT_BUFFER)
    assert m.obj(COMPACT_LN).get(5) == octets(COMPACT_DESCRIPTION)
    m.obj("1.0.1.8.0.255").set(2, u32(7))
    assert m.obj(COMPACT_LN).get(2) == octets(COMPACT_BUFFER)  # nothing captured since
    m.obj(COMPACT_LN).invoke(1, ZERO)
    assert m.obj(COMPACT_LN).get(2) == octets(b"")


def test_compact_data_capture_upon_reading() -> None:
    m = compact_meter(0)
    assert m.obj(COMPACT_LN).get(2) == octets(COMPACT_BUFFER)
    m.obj("1.0.1.8.0.255").set(2, u32(7))
    assert m.obj(COMPACT_LN).get(2).value[1:5] == bytes.fromhex("00000007")


def test_compact_buffer_decodes_with_its_template() -> None:
    m = compact_meter(0)
    buffer = m.obj(COMPACT_LN).get(2).value
    description = m.obj(COMPACT_LN).get(5).value
    # A compact-array of one element is description + length + the untagged element.
    as_array = Data.from_bytes(bytes((DataType.COMPACT_ARRAY,)) + description + bytes((len(buffer),)) + buffer)
    assert as_array.value.items[0].value[1] == u32(0x01020304)


def test_compact_data_array_element_by_data_index() -> None:
    m = TestMeter([
        (62, COMPACT_LN, {3: array(capture_object(1, "0.0.96.1.0.255", 2, 2)), 6: Data(DataType.ENUM, 0)}),
        (1, "0.0.96.1.0.255", {2: array(u16(1), u16(2), u16(3))}),
    ])
    assert m.obj(COMPACT_LN).get(2) == octets(bytes.fromhex("0002"))
    assert m.obj(COMPACT_LN).get(5) == octets(bytes.fromhex("020112"))


@pytest.mark.parametrize("bad", [
    capture_object(62, COMPACT_LN, 2),           # its own buffer
    capture_object(3, "1.0.2.8.0.255", 2),       # no such object
    capture_object(3, "1.0.1.8.0.255", 2, 3),    # data_index into a non-array
])
def test_compact_data_refusals(bad: Data) -> None:
    m = compact_meter(1, bad)
    with pytest.raises(ActionFailure) as exc:
        m.obj(COMPACT_LN).invoke(2, ZERO)
    assert exc.value.result == ActionResult.OTHER_REASON
    with pytest.raises(AccessFailure):  # capture upon reading refuses the GET the same way
        compact_meter(0, bad).obj(COMPACT_LN).get(2)


def test_compact_data_refuses_mixed_arrays() -> None:
    m = TestMeter([
        (62, COMPACT_LN, {3: array(capture_object(1, "0.0.96.1.0.255", 2)), 6: Data(DataType.ENUM, 0)}),
        (1, "0.0.96.1.0.255", {2: array(u16(1), u8(2))}),
    ])
    with pytest.raises(AccessFailure) as exc:
        m.obj(COMPACT_LN).get(2)
    assert exc.value.result == DataAccessResult.OTHER_REASON


# --------------------------------------------------------------------------- Status mapping

def test_status_mapping_maps_set_bits() -> None:
    m = TestMeter([(63, "0.0.96.5.0.255", {
        2: Data(DataType.BIT_STRING, BitString("10100001")),
        3: struct(u8(1), array(u16(10), u16(11), u16(12), u16(13))),
    })])
    assert mapped_entries(m.obj("0.0.96.5.0.255")) == [10, 12]
    m.obj("0.0.96.5.0.255").set(3, struct(u8(1), u16(100)))
    assert mapped_entries(m.obj("0.0.96.5.0.255")) == [100, 102, 107]
    m.obj("0.0.96.5.0.255").set(2, u16(0x8001))
    assert mapped_entries(m.obj("0.0.96.5.0.255")) == [100, 115]
    assert STATUS_MAPPING.attribute(2).type.accepts(octets(b"\x01"))
    assert not STATUS_MAPPING.attribute(2).type.accepts(Data(DataType.LONG, 1))


# --------------------------------------------------------------------------- Parameter monitor

PM_LN = "0.0.16.2.0.255"


def parameter(class_id: int, name: str, index: int) -> Data:
    return struct(u16(class_id), ln(name), Data(DataType.INTEGER, index))


def test_parameter_monitor_add_delete_and_record() -> None:
    assert (PARAMETER_MONITOR.class_id, PARAMETER_MONITOR.version) == (65, 0)
    m = TestMeter([(65, PM_LN, {4: array()}), (8, CLOCK_LN, {}), (3, "1.0.1.8.0.255", {})])
    pm = m.obj(PM_LN)
    pm.invoke(1, parameter(8, CLOCK_LN, 3))
    pm.invoke(1, parameter(8, CLOCK_LN, 3))  # not twice
    pm.invoke(1, parameter(3, "1.0.1.8.0.255", 3))
    assert len(m.obj(PM_LN).get(4).value) == 2
    m.now = 42
    assert record_change(m.obj(CLOCK_LN), 3, Data(DataType.LONG, -60)) == 1
    assert m.obj(PM_LN).get(2) == struct(u16(8), ln(CLOCK_LN), Data(DataType.INTEGER, 3), Data(DataType.LONG, -60))
    assert m.obj(PM_LN).get(3) == clock_time(m)
    assert record_change(m.obj(CLOCK_LN), 5, octets(bytes(12))) == 0  # not watched
    m.obj(PM_LN).invoke(2, parameter(8, CLOCK_LN, 3))
    m.obj(PM_LN).invoke(2, parameter(8, CLOCK_LN, 9))  # absent: nothing changes
    assert m.obj(PM_LN).get(4) == array(parameter(3, "1.0.1.8.0.255", 3))
    assert record_change(m.obj(CLOCK_LN), 3, Data(DataType.LONG, 0)) == 0


# --------------------------------------------------------------------------- Sensor manager

SENSOR_LN = "7.0.0.2.128.255"


def test_sensor_manager_monitors_raw_and_processed_values() -> None:
    m = TestMeter([
        (67, SENSOR_LN, {7: Data(DataType.LONG, 10), 11: array(Data(DataType.LONG, 50)),
                         12: array(action_set(1, 2)),
                         13: struct(u16(3), ln(POWER_LN), Data(DataType.INTEGER, 2)),
                         14: array(u32(1000)), 15: array(action_set(3, 4))}),
        (3, POWER_LN, {2: u32(0)}),
        (9, SCRIPTS_LN, {2: array(*(append_script(i, f"s{i}") for i in range(1, 5)))}),
        (1, LOG_LN, {2: Data(DataType.VISIBLE_STRING, "")}),
        (8, CLOCK_LN, {}),
    ])
    assert evaluate_sensor(m.obj(SENSOR_LN)) == []
    m.obj(SENSOR_LN).set(7, Data(DataType.LONG, 60))
    m.obj(POWER_LN).set(2, u32(2000))
    assert evaluate_sensor(m.obj(SENSOR_LN)) == [("raw", 0, "up"), ("processed", 0, "up")]
    assert m.obj(LOG_LN).get(2).value == "s3"
    m.now = 5
    m.obj(SENSOR_LN).invoke(1, ZERO)
    assert m.obj(SENSOR_LN).get(7) == Data(DataType.LONG, 0)
    assert m.obj(SENSOR_LN).get(10) == clock_time(m)
    assert evaluate_sensor(m.obj(SENSOR_LN)) == [("raw", 0, "down")]
