"""PLC and ZigBee classes: counter resets, G3 table look-ups, ZigBee device list edits."""

from __future__ import annotations

import pytest

from simulator.apdu.common import ActionResult
from simulator.axdr import BitString, Data, DataType
from simulator.cosem.base import ActionFailure
from simulator.cosem.plc import CLASSES
from tests.cosem.helpers import ZERO, array, call, struct, u16, u32, u8
from tests.cosem.meter_fixture import TestMeter

LN = "0.0.29.1.0.255"


@pytest.mark.parametrize("class_id, counter", [(81, u16), (84, u32), (90, u32), (160, u32)])
def test_counter_classes_reset_every_counter(class_id: int, counter) -> None:
    cls = next(c for c in CLASSES if c.class_id == class_id)
    values = {a.index: counter(a.index * 11) for a in cls.attributes[1:]}
    obj = TestMeter([(class_id, LN, values)]).obj(LN)
    assert all(a.dynamic for a in cls.attributes[1:])
    call(obj, 1, ZERO)
    assert [obj.get(a.index) for a in cls.attributes[1:]] == [counter(0)] * (len(cls.attributes) - 1)


def test_sfsk_mac_counters_reset_empties_per_address_lists() -> None:
    desync = struct(*(u32(i) for i in range(1, 6)))
    obj = TestMeter([(53, LN, {2: array(struct(u16(0x801), u32(4))), 3: desync, 4: array(struct(u16(1), u32(2))),
                               5: u32(9), 8: u32(3)})]).obj(LN)
    call(obj, 1, ZERO)
    assert obj.get(2) == array() and obj.get(4) == array()
    assert obj.get(3) == struct(*(u32(0) for _ in range(5)))
    assert obj.get(5) == u32(0) and obj.get(8) == u32(0)


def neighbour(address: int) -> Data:
    return struct(u16(address), Data(DataType.BOOLEAN, True), Data(DataType.BIT_STRING, BitString("1" * 24)),
                  Data(DataType.ENUM, 1), Data(DataType.INTEGER, 0), Data(DataType.ENUM, 0),
                  Data(DataType.BIT_STRING, BitString("0" * 24)), u8(200), Data(DataType.INTEGER, 0), u8(10), u8(255))


def test_g3_mac_setup_table_lookups() -> None:
    table = array(neighbour(1), neighbour(2))
    pos = array(struct(u16(2), u8(100), u8(30)))
    obj = TestMeter([(91, LN, {11: table, 25: pos})]).obj(LN)
    assert obj.cls.attribute(11).type.accepts(table)
    assert call(obj, 1, u16(2)) == array(neighbour(2))
    assert call(obj, 1, u16(7)) == array()
    assert call(obj, 2, u16(2)) == pos


ZB = "0.0.30.4.0.255"


def device(mac: bytes) -> Data:
    return struct(Data(DataType.OCTET_STRING, mac), Data(DataType.BIT_STRING, BitString("1")),
                  *(Data(DataType.INTEGER, -40) for _ in range(3)), *(u8(200) for _ in range(3)),
                  Data(DataType.OCTET_STRING, bytes(12)), *(u8(1) for _ in range(5)))


def test_zigbee_unregister_devices() -> None:
    a, b = bytes(range(8)), bytes(range(8, 16))
    obj = TestMeter([(104, ZB, {4: array(device(a), device(b))})]).obj(ZB)
    assert obj.cls.attribute(4).type.accepts(obj.get(4))
    call(obj, 2, Data(DataType.OCTET_STRING, a))
    assert obj.get(4) == array(device(b))
    with pytest.raises(ActionFailure) as exc:
        call(obj, 2, Data(DataType.OCTET_STRING, a))
    assert exc.value.result == ActionResult.OTHER_REASON
    call(obj, 3, ZERO)
    assert obj.get(4) == array()


@pytest.mark.parametrize("class_id, index, parameter", [
    (51, 1, ZERO), (80, 1, ZERO), (104, 1, Data(DataType.OCTET_STRING, bytes(8))), (104, 10, ZERO),
])
def test_methods_outside_the_simulation_succeed(class_id: int, index: int, parameter: Data) -> None:
    obj = TestMeter([(class_id, LN, {})]).obj(LN)
    assert call(obj, index, parameter) is None


def test_every_plc_method_has_an_implementation() -> None:
    assert all(m.impl is not None for c in CLASSES for m in c.methods)
