"""Communication setup classes: IPv4/IPv6 address arrays, push markers, HDLC ranges, NTP keys,
port protection and diagnostic resets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.common import ActionResult, DataAccessResult
from simulator.axdr import Data, DataType
from simulator.cosem.base import AccessFailure, ActionFailure
from simulator.cosem.comm_setup import IEC_HDLC_SETUP, IEC_HDLC_SETUP_V0, PUSH_SETUP, PUSH_SETUP_V0
from simulator.server.objects import PushRequest
from simulator.state import TrafficRequests
from tests.cosem.helpers import ZERO, array, call, octets, refused, struct, u16, u32, u8
from tests.cosem.meter_fixture import TestMeter


# -- IPv4 setup (42) ----------------------------------------------------------------------------

IPV4 = "0.0.25.1.0.255"
MC1, MC2 = u32(0xE0000001), u32(0xE0000002)


def test_ipv4_multicast_add_count_delete() -> None:
    m = TestMeter([(42, IPV4, {4: array(MC1)})])
    obj = m.obj(IPV4)
    assert call(obj, 3, ZERO) == u16(1)
    assert call(obj, 1, MC2) is None
    assert obj.get(4) == array(MC1, MC2)
    call(obj, 1, MC2)  # already listed: no duplicate
    assert call(obj, 3, ZERO) == u16(2)
    call(obj, 2, MC1)
    assert obj.get(4) == array(MC2)


def test_ipv4_multicast_starts_empty_and_refuses_unknown_delete() -> None:
    obj = TestMeter([(42, IPV4, {})]).obj(IPV4)
    assert call(obj, 3, ZERO) == u16(0)
    assert refused(obj, 2, MC1) == ActionResult.OTHER_REASON
    call(obj, 1, MC1)
    assert obj.get(4) == array(MC1)


def test_ipv4_changes_are_per_meter() -> None:
    m = TestMeter([(42, IPV4, {4: array(MC1)})])
    call(m.obj(IPV4), 1, MC2)
    other = TestMeter([(42, IPV4, {4: array(MC1)})])
    assert other.obj(IPV4).get(4) == array(MC1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5)), max_size=20))
def test_ipv4_multicast_matches_a_set(ops: list[tuple[bool, int]]) -> None:
    obj = TestMeter([(42, IPV4, {})]).obj(IPV4)
    model: list[int] = []
    for add, n in ops:
        if add:
            call(obj, 1, u32(n))
            if n not in model:
                model.append(n)
        elif n in model:
            call(obj, 2, u32(n))
            model.remove(n)
        else:
            assert refused(obj, 2, u32(n)) == ActionResult.OTHER_REASON
    assert [d.value for d in obj.get(4).value or ()] == model
    assert call(obj, 3, ZERO) == u16(len(model))


# -- IPv6 setup (48) ----------------------------------------------------------------------------

IPV6 = "0.0.25.7.0.255"
ADDR = octets(bytes.fromhex("fe800000000000000000000000000001"))


@pytest.mark.parametrize("address_type, attribute", [(0, 4), (1, 5), (2, 6)])
def test_ipv6_add_and_remove_by_address_type(address_type: int, attribute: int) -> None:
    obj = TestMeter([(48, IPV6, {})]).obj(IPV6)
    param = struct(Data(DataType.ENUM, address_type), ADDR)
    call(obj, 1, param)
    assert obj.get(attribute) == array(ADDR)
    call(obj, 1, param)
    assert obj.get(attribute) == array(ADDR)
    call(obj, 2, param)
    assert obj.get(attribute) == array()
    assert refused(obj, 2, param) == ActionResult.OTHER_REASON


def test_ipv6_refuses_unknown_address_type() -> None:
    obj = TestMeter([(48, IPV6, {})]).obj(IPV6)
    assert refused(obj, 1, struct(Data(DataType.ENUM, 3), ADDR)) == ActionResult.OTHER_REASON


# -- Push setup (40) ----------------------------------------------------------------------------

PUSH = "0.0.25.9.0.255"


def test_push_queues_a_request_and_reset_forgets_it() -> None:
    m = TestMeter([(40, PUSH, {})])
    m.now = 12.5
    obj = m.obj(PUSH)
    assert call(obj, 1, ZERO) is None
    assert m.state.push_requests == [PushRequest(1, 0, 12.5, "script")]  # no association: the meter itself
    call(obj, 2, ZERO)
    assert m.state.push_requests is None and m.state.push_reset == {(1, 0)}


def test_push_setup_versions() -> None:
    assert [a.name for a in PUSH_SETUP.attributes][1:7] == [
        "push_object_list", "send_destination_and_method", "communication_window",
        "randomisation_start_interval", "number_of_retries", "repetition_delay"]
    assert len(PUSH_SETUP_V0.attributes) == 7 and len(PUSH_SETUP.attributes) == 13
    assert [m.name for m in PUSH_SETUP.methods] == ["push", "reset"]
    assert [m.name for m in PUSH_SETUP_V0.methods] == ["push"]
    # v2 repetition_delay is a structure {min, exponent, max}; v0 a long-unsigned.
    assert PUSH_SETUP.attribute(7).type.accepts(struct(u16(1), u16(2), u16(3)))
    assert PUSH_SETUP_V0.attribute(7).type.accepts(u16(30))


def test_push_object_list_element_shape_per_version() -> None:
    column = struct(u16(8), octets(bytes([0, 0, 1, 0, 0, 255])), Data(DataType.INTEGER, 2), u16(0))
    v0_element = column
    restriction = struct(Data(DataType.ENUM, 0), Data(DataType.NULL_DATA))
    v2_element = struct(*column.value, restriction, array(column))
    assert PUSH_SETUP_V0.attribute(2).type.accepts(array(v0_element))
    assert not PUSH_SETUP.attribute(2).type.accepts(array(v0_element))
    assert PUSH_SETUP.attribute(2).type.accepts(array(v2_element))


# -- IEC HDLC setup (23) ------------------------------------------------------------------------

HDLC = "0.0.22.0.0.255"


def test_hdlc_defaults() -> None:
    obj = TestMeter([(23, HDLC, {})]).obj(HDLC)
    assert obj.cls is IEC_HDLC_SETUP
    assert obj.get(2) == Data(DataType.ENUM, 5)  # 9600 baud
    assert (obj.get(3), obj.get(4)) == (u8(1), u8(1))
    assert (obj.get(5), obj.get(6)) == (u16(128), u16(128))
    assert obj.get(8) == u16(120)


@pytest.mark.parametrize("attribute, good, bad", [
    (3, u8(7), u8(8)), (4, u8(1), u8(0)), (5, u16(2030), u16(2031)), (6, u16(32), u16(31)),
    (7, u16(20), u16(19)),
])
def test_hdlc_set_refuses_out_of_range(attribute: int, good: Data, bad: Data) -> None:
    obj = TestMeter([(23, HDLC, {})]).obj(HDLC)
    obj.write(attribute, good)
    assert obj.get(attribute) == good
    with pytest.raises(AccessFailure) as exc:
        obj.write(attribute, bad)
    assert exc.value.result == DataAccessResult.OTHER_REASON
    assert obj.get(attribute) == good


def test_hdlc_version_0_keeps_unsigned_info_field_lengths() -> None:
    assert IEC_HDLC_SETUP_V0.attribute(5).type.accepts(u8(128))
    assert not IEC_HDLC_SETUP_V0.attribute(5).type.accepts(u16(128))
    obj = TestMeter([(23, HDLC, {})], version={23: 0}).obj(HDLC)
    with pytest.raises(AccessFailure):
        obj.write(5, u8(129))


# -- Auto connect (29) --------------------------------------------------------------------------

AUTO_CONNECT = "0.0.2.1.0.255"


def test_auto_connect_connect_needs_dialling_mode() -> None:
    m = TestMeter([(29, AUTO_CONNECT, {2: Data(DataType.ENUM, 0)})])
    assert refused(m.obj(AUTO_CONNECT), 1, ZERO) == ActionResult.TEMPORARY_FAILURE
    m.obj(AUTO_CONNECT).set(2, Data(DataType.ENUM, 101))
    m.now = 3.0
    call(m.obj(AUTO_CONNECT), 1, ZERO)
    assert m.obj(AUTO_CONNECT).effect(TrafficRequests).connect == 3.0


# -- NTP setup (100) ----------------------------------------------------------------------------

NTP = "0.0.25.10.0.255"


def key(n: int, k: bytes) -> Data:
    return struct(u32(n), octets(k))


def test_ntp_keys_add_replace_delete_and_synchronize() -> None:
    m = TestMeter([(100, NTP, {})])
    obj = m.obj(NTP)
    call(obj, 2, key(1, b"a" * 16))
    call(obj, 2, key(2, b"b" * 16))
    call(obj, 2, key(1, b"c" * 16))  # same key_id: replaced
    assert obj.get(6) == array(key(2, b"b" * 16), key(1, b"c" * 16))
    call(obj, 3, u32(2))
    assert obj.get(6) == array(key(1, b"c" * 16))
    assert refused(obj, 3, u32(9)) == ActionResult.OTHER_REASON
    call(obj, 1, ZERO)
    assert obj.effect(TrafficRequests).synchronize is not None
    assert obj.get(4) == u16(123)


def test_ntp_refusal_never_shows_the_key() -> None:
    obj = TestMeter([(100, NTP, {6: array(key(1, b"SECRETKEY0123456"))})]).obj(NTP)
    with pytest.raises(ActionFailure) as exc:
        call(obj, 3, u32(7))
    assert "SECRET" not in str(exc.value)


# -- Communication port protection (124) ---------------------------------------------------------

CPP = "0.0.44.2.0.255"


def test_port_protection_reset_unlocks_and_keeps_cumulative() -> None:
    obj = TestMeter([(124, CPP, {8: Data(DataType.ENUM, 2), 9: u32(5), 10: u32(17)})]).obj(CPP)
    call(obj, 1, ZERO)
    assert obj.get(8) == Data(DataType.ENUM, 0)
    assert obj.get(9) == u32(0)
    assert obj.get(10) == u32(17)


# -- CoAP diagnostic (153) ----------------------------------------------------------------------

COAP = "0.0.25.17.0.255"


def test_coap_diagnostic_reset_zeroes_counters_keeps_capture_time() -> None:
    stamp = struct(u8(2), octets(bytes(range(12))))
    obj = TestMeter([(153, COAP, {
        2: struct(*(u32(i + 1) for i in range(10))),
        3: struct(*(u32(7) for _ in range(8))),
        4: struct(u32(1), u32(2), u32(3)),
        5: stamp,
    })]).obj(COAP)
    call(obj, 1, ZERO)
    assert obj.get(2) == struct(*(u32(0) for _ in range(10)))
    assert obj.get(3) == struct(*(u32(0) for _ in range(8)))
    assert obj.get(4) == struct(u32(0), u32(0), u32(0))
    assert obj.get(5) == stamp


def test_tcp_udp_defaults() -> None:
    obj = TestMeter([(41, "0.0.25.0.0.255", {})]).obj("0.0.25.0.0.255")
    assert obj.get(2) == u16(4059)
    assert obj.get(6) == u16(180)
