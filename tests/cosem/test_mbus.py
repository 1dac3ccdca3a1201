"""M-Bus client (72): install / deinstall / capture / alarm / key states; M-Bus diagnostic reset."""

from __future__ import annotations

import pytest

from simulator.apdu.common import ActionResult
from simulator.axdr import CosemDateTime, Data, DataType
from simulator.cosem.base import ActionFailure
from simulator.cosem.mbus import MBUS_CLIENT, MBUS_CLIENT_V0, KeyStatus
from simulator.state import MBusTraffic
from tests.cosem.helpers import ZERO, array, call, octets, refused, struct, u16, u32, u8
from tests.cosem.meter_fixture import EPOCH_2024, TestMeter

CLIENT = "0.1.24.1.0.255"  # M-Bus channel 1
VALUE_1, VALUE_2 = "0.1.24.2.1.255", "0.1.24.2.2.255"


CAPTURE_DEFINITION = array(struct(octets(b"\x04"), octets(b"\x13")), struct(octets(b"\x02"), octets(b"\xfd\x17")))


def meter(**client: Data) -> TestMeter:
    values = {2: octets(bytes([0, 0, 24, 6, 0, 255])), 3: CAPTURE_DEFINITION, 4: u32(3600)}
    values.update({int(k[1:]): v for k, v in client.items()})
    return TestMeter([
        (72, CLIENT, values),
        (4, VALUE_1, {2: u32(1234), 3: struct(Data(DataType.INTEGER, -3), Data(DataType.ENUM, 14))}),
        (4, VALUE_2, {2: u16(0)}),
    ])


def test_install_sets_primary_address_and_identification() -> None:
    m = meter()
    obj = m.obj(CLIENT)
    assert obj.get(5) == u8(0)
    call(obj, 1, u8(5))
    assert obj.get(5) == u8(5)
    ident = obj.get(6).value
    assert ident != 0 and all(int(d) <= 9 for d in f"{ident:08x}")  # 8 BCD digits
    assert refused(obj, 1, u8(6)) == ActionResult.TEMPORARY_FAILURE  # one slave at a time


def test_install_keeps_the_models_identification() -> None:
    obj = meter(a6=u32(0x12345678), a7=u16(0x2C2D)).obj(CLIENT)
    call(obj, 1, u8(1))
    assert obj.get(6) == u32(0x12345678)
    assert obj.get(7) == u16(0x2C2D)


@pytest.mark.parametrize("address", [0, 251, 255])
def test_install_refuses_invalid_primary_address(address: int) -> None:
    obj = meter().obj(CLIENT)
    assert refused(obj, 1, u8(address)) == ActionResult.OTHER_REASON
    assert obj.get(5) == u8(0)


def test_deinstall_clears_the_slave_identity() -> None:
    obj = meter(a6=u32(0x12345678), a7=u16(0x2C2D), a8=u8(1), a9=u8(7), a12=u8(3)).obj(CLIENT)
    call(obj, 1, u8(9))
    call(obj, 7, octets(bytes(16)))
    call(obj, 2, ZERO)
    assert [obj.get(i).value for i in range(5, 13)] == [0] * 8
    assert obj.get(14) == Data(DataType.ENUM, KeyStatus.NO_KEY)
    assert refused(obj, 2, ZERO) == ActionResult.TEMPORARY_FAILURE


def test_capture_stamps_the_value_objects_and_counts_access() -> None:
    m = meter()
    m.now = 90.0
    call(m.obj(CLIENT), 1, u8(3))
    call(m.obj(CLIENT), 3, ZERO)
    stamp = CosemDateTime.from_bytes(m.obj(VALUE_1).get(5).value)
    assert stamp.to_datetime().timestamp() == EPOCH_2024 + 90
    assert m.obj(VALUE_2).get(5) == m.obj(VALUE_1).get(5)
    assert m.obj(CLIENT).get(10) == u8(1)
    assert m.obj(CLIENT).effect(MBusTraffic).captured == 90.0
    call(m.obj(CLIENT), 3, ZERO)
    assert m.obj(CLIENT).get(10) == u8(2)


def test_capture_access_number_wraps() -> None:
    obj = meter(a10=u8(255)).obj(CLIENT)
    call(obj, 1, u8(3))
    call(obj, 3, ZERO)
    assert obj.get(10) == u8(0)


@pytest.mark.parametrize("index, parameter", [
    (3, ZERO), (5, ZERO), (6, array()), (8, octets(bytes(24))),
])
def test_bus_methods_need_an_installed_slave(index: int, parameter: Data) -> None:
    assert refused(meter().obj(CLIENT), index, parameter) == ActionResult.TEMPORARY_FAILURE


def test_synchronize_clock_and_data_send_leave_markers() -> None:
    m = meter()
    m.now = 7.0
    obj = m.obj(CLIENT)
    call(obj, 1, u8(3))
    call(obj, 5, ZERO)
    call(obj, 6, array(struct(octets(b"\x04"), octets(b"\x13"), u32(1))))
    traffic = obj.effect(MBusTraffic)
    assert traffic.clock_synchronized == 7.0 and traffic.data_sent == 7.0


def test_reset_alarm() -> None:
    obj = meter(a12=u8(0x41)).obj(CLIENT)
    call(obj, 4, ZERO)
    assert obj.get(12) == u8(0)


def test_encryption_key_status_walk() -> None:
    obj = meter().obj(CLIENT)
    assert obj.get(14) == Data(DataType.ENUM, KeyStatus.NO_KEY)
    call(obj, 1, u8(3))
    call(obj, 8, octets(bytes(24)))  # transferred without a key set in the client
    assert obj.get(14) == Data(DataType.ENUM, KeyStatus.KEY_TRANSFERRED)
    call(obj, 7, octets(bytes(range(16))))
    assert obj.get(14) == Data(DataType.ENUM, KeyStatus.KEY_SET)
    call(obj, 8, octets(bytes(24)))
    assert obj.get(14) == Data(DataType.ENUM, KeyStatus.KEY_SET_AND_TRANSFERRED)
    call(obj, 7, octets(b""))
    assert obj.get(14) == Data(DataType.ENUM, KeyStatus.NO_KEY)


def test_set_encryption_key_refuses_wrong_length_without_echoing_it() -> None:
    obj = meter().obj(CLIENT)
    with pytest.raises(ActionFailure) as exc:
        call(obj, 7, octets(b"TOPSECRET"))
    assert exc.value.result == ActionResult.OTHER_REASON
    assert "TOPSECRET" not in str(exc.value)
    assert not obj.meter.state.touched  # nothing was kept


def test_version_0_client() -> None:
    assert len(MBUS_CLIENT_V0.attributes) == 12 and len(MBUS_CLIENT.attributes) == 14
    assert [m.name for m in MBUS_CLIENT.methods] == [
        "slave_install", "slave_deinstall", "capture", "reset_alarm", "synchronize_clock", "data_send",
        "set_encryption_key", "transfer_key"]
    m = TestMeter([(72, CLIENT, {})], version={72: 0})
    obj = m.obj(CLIENT)
    call(obj, 1, Data(DataType.INTEGER, 4))
    call(obj, 7, octets(bytes(16)))  # no encryption_key_status in v0: accepted, nothing to record
    call(obj, 2, ZERO)
    assert obj.get(5) == u8(0)


def test_mbus_diagnostic_reset() -> None:
    ln = "0.1.24.9.0.255"
    frames = array(struct(u8(1), u32(9), octets(bytes(12))))
    stamp = struct(u8(6), octets(bytes(12)))
    obj = TestMeter([(77, ln, {2: u8(80), 5: frames, 6: u32(4), 7: u32(5), 8: u32(6), 9: stamp})]).obj(ln)
    call(obj, 1, ZERO)
    assert obj.get(5) == array()
    assert [obj.get(i) for i in (6, 7, 8)] == [u32(0)] * 3
    assert obj.get(2) == u8(80) and obj.get(9) == stamp
