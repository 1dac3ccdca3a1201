"""The push core (simulator/server/push.py): a Push setup's settings in each class version, its
communication windows and retry delays, and the DataNotification it sends, decoded by an
independent reader (gurux-dlms GXDLMSNotify, configured with the meter's keys) from the very
frames that go on the wire: wrapper and HDLC UI.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.axdr import CosemDateTime, Data, DataType, Obis
from simulator.model.loader import parse_model
from simulator.model.spec import MeterModel
from simulator.security.keywrap import KeyId
from simulator.server.objects import Meter, ObjectHandle, TimeBase
from simulator.server.push import (
    PushError, PushRequest, PushSettings, RetryPolicy, notify, push_settings, window_start,
)
from simulator.state.journal import CounterChanged

from tests.cosem.meter_fixture import EPOCH_2024
from tests.strategies import data_values

pytest.importorskip("gurux_dlms")
from gurux_dlms import GXByteBuffer, GXCiphering, GXDLMSNotify, GXReplyData  # noqa: E402
from gurux_dlms.enums import InterfaceType, Security  # noqa: E402

EK = "000102030405060708090A0B0C0D0E0F"  # the demo keys of the project brief (issue 4)
AK = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"
TITLE = "53494D0000000007"

MODEL = """\
name: push-test
description: one meter with a push setup of each version
fields:
  ek: "%s"
  ak: "%s"
  title: "%s"
logical_devices:
  - server_sap: 1
    name: "SIM{serial}"
    associations:
      - {client_sap: 16, name: public}
      - {client_sap: 1, name: management, context: ln-ciphered, authentication: hls-gmac, secret: "0123456789ABCDEF",
         security_policy: authenticated-encrypted, role: management, security_setup: 0.0.43.0.1.255}
    objects:
      - {class: Association LN, obis: 0.0.40.0.0.255}
      - {class: Data, obis: 0.0.42.0.0.255}
      - class: Clock
        obis: 0.0.1.0.0.255
        attributes:
          time_zone: -60
          daylight_savings_begin: "Sun *-03-254T02:00:00"
          daylight_savings_end: "Sun *-10-254T03:00:00"
          daylight_savings_deviation: 60
          daylight_savings_enabled: false
          clock_base: internal_crystal
      - {class: Register, obis: 1.0.1.8.0.255, attributes: {value: {type: double-long-unsigned, value: 4321},
                                                           scaler_unit: [0, Wh]}}
      - {class: Data, obis: 0.0.97.98.0.255, attributes: {value: {type: double-long-unsigned, value: 8}}}
      - class: Profile generic
        obis: 1.0.99.1.0.255
        attributes: {capture_objects: [[Clock, 0.0.1.0.0.255, 2, 0], [Register, 1.0.1.8.0.255, 2, 0]],
                     capture_period: 0, sort_method: fifo, entries_in_use: 0, profile_entries: 100}
      - class: Security setup
        obis: 0.0.43.0.1.255
        attributes: {security_policy: [authenticated_response, encrypted_response], security_suite: 0,
                     client_system_title: "hex:0000000000000000", server_system_title: "hex:{title}"}
        keys: {global_unicast_encryption_key: "{ek}", authentication_key: "{ak}"}
      - {class: IEC HDLC setup, obis: 0.0.22.0.0.255, attributes: {device_address: 37}}
      - class: Push setup
        obis: 0.0.25.9.0.255
        version: 0
        attributes:
          push_object_list: [[Push setup, 0.0.25.9.0.255, 1, 0], [Register, 1.0.1.8.0.255, 2, 0],
                             [Register, 1.0.1.8.0.255, 3, 2], [Data, 0.0.97.98.0.255, 2, 0]]
          send_destination_and_method: {transport_service: tcp, destination: "127.0.0.1:4058", message: a_xdr_xdlms_apdu}
          communication_window: []
          randomisation_start_interval: 30
          number_of_retries: 2
          repetition_delay: 60
      - class: Push setup
        obis: 0.1.25.9.0.255
        version: 1
        attributes:
          push_object_list: [[Register, 1.0.1.8.0.255, 0, 0, [none, null]],
                             [Profile generic, 1.0.99.1.0.255, 2, 0, [by_entry, [2, 3]]]]
          send_destination_and_method: {transport_service: udp, destination: "[::1]:4059", message: a_xdr_xdlms_apdu}
          communication_window: [["*-*-* 02:00:00", "*-*-* 04:00:00"]]
          randomisation_start_interval: 0
          number_of_retries: 1
          repetition_delay: 10
          port_reference: 0.0.25.0.0.255
          push_client_SAP: 102
          push_protection_parameters: []
      - class: Push setup
        obis: 0.2.25.9.0.255
        version: 2
        attributes:
          push_object_list:
            - [Profile generic, 1.0.99.1.0.255, 2, 0, [by_date, ["2024-01-01 01:30:00", "2024-01-01 03:30:00"]],
               [[Register, 1.0.1.8.0.255, 2, 0]]]
            - [Data, 0.0.97.98.0.255, 2, 0, [none, null], []]
          send_destination_and_method: {transport_service: hdlc, destination: "localhost:4060", message: a_xdr_xdlms_apdu}
          communication_window: []
          randomisation_start_interval: 0
          number_of_retries: 3
          repetition_delay: {repetition_delay_min: 5, repetition_delay_exponent: 200, repetition_delay_max: 30}
          port_reference: 0.0.25.0.0.255
          push_client_SAP: 1
          push_protection_parameters:
            - protection_type: authenticated_encryption
              protection_options: {transaction_id: "", originator_system_title: "", recipient_system_title: "",
                                   other_information: "", key_info: [0, [0]]}
          push_operation_method: confirmed_retry_on_missing_confirmation
          confirmation_parameters: ["*-*-* *:*:*", 0]
          last_confirmation_date_time: "*-*-* *:*:*"
""" % (EK, AK, TITLE)

V0, V1, V2 = Obis("0.0.25.9.0.255"), Obis("0.1.25.9.0.255"), Obis("0.2.25.9.0.255")
REGISTER, PROFILE = Obis("1.0.1.8.0.255"), Obis("1.0.99.1.0.255")
HOUR = 3600.0


def model(text: str = MODEL) -> MeterModel:
    return parse_model(text, "push-test.yaml")


def push_meter(text: str = MODEL) -> Meter:
    """The test meter, its fleet time 2024-01-01 00:00 UTC at now 0 (local time UTC+1)."""
    return Meter(model(text), 0, {"serial": "00000007"}, TimeBase(EPOCH_2024), utc_offset_min=60)


def handle(meter: Meter, ln: Obis, now: float = 0.0) -> ObjectHandle:
    device = meter.model.logical_devices[1]
    spec = device.find(bytes(ln))
    assert spec is not None
    return ObjectHandle(meter, device, spec, now)


def request(meter: Meter, ln: Obis, now: float = 0.0, trigger: str = "action") -> PushRequest:
    return PushRequest(1, handle(meter, ln).spec.index, now, trigger)


def reader(interface: Any, source: int, destination: int, ciphered: bool = False) -> Any:
    """gurux-dlms's notification receiver, holding the meter's keys when the push is ciphered.
    It checks the frames' addresses: from `source` (the meter) to `destination` (the client)."""
    notify_ = GXDLMSNotify(True, source, destination, interface)
    if ciphered:
        cipher = GXCiphering(bytearray(8))
        cipher.security = Security.AUTHENTICATION_ENCRYPTION
        cipher.blockCipherKey, cipher.authenticationKey = bytearray.fromhex(EK), bytearray.fromhex(AK)
        notify_.setCipher(cipher)
    return notify_


def received(notify_: Any, frames: tuple[bytes, ...]) -> Any:
    reply = GXReplyData()
    for frame in frames:
        assert notify_.getData(GXByteBuffer(bytearray(frame)), reply), "gurux found no complete frame"
    assert reply.complete and not reply.isMoreData()
    return reply


# ------------------------------------------------------------------ settings

def test_settings_of_version_0_use_the_management_client() -> None:
    settings = push_settings(handle(push_meter(), V0))
    assert settings.version == 0 and settings.problem is None
    dest = settings.destination
    assert dest is not None and (dest.transport, dest.host, dest.port) == ("tcp", "127.0.0.1", 4058)
    assert (dest.client_sap, dest.server_sap) == (1, 1)  # the management association's SAP, the device's
    assert settings.windows == () and settings.randomisation_s == 30
    assert settings.retry == RetryPolicy(2, 60)


def test_settings_of_version_1_take_push_client_sap_and_ipv6() -> None:
    settings = push_settings(handle(push_meter(), V1))
    dest = settings.destination
    assert dest is not None and (dest.transport, dest.host, dest.port, dest.client_sap) == ("udp", "::1", 4059, 102)
    assert settings.retry == RetryPolicy(1, 10)
    (start, end), = settings.windows
    assert (start.year, start.hour, end.hour) == (None, 2, 4)


def test_settings_of_version_2_read_the_delay_structure() -> None:
    settings = push_settings(handle(push_meter(), V2))
    dest = settings.destination
    assert dest is not None and (dest.transport, dest.host, dest.port) == ("hdlc", "localhost", 4060)
    assert settings.retry == RetryPolicy(3, 5, 200, 30)


def test_a_meters_own_values_override_the_models() -> None:
    meter = push_meter()
    setup = handle(meter, V0)
    setup.set(3, Data(DataType.STRUCTURE, (Data(DataType.ENUM, 1), Data(DataType.OCTET_STRING, b"10.1.2.3:9000"),
                                           Data(DataType.ENUM, 0))))
    dest = push_settings(setup).destination
    assert dest is not None and (dest.transport, dest.host, dest.port) == ("udp", "10.1.2.3", 9000)


@pytest.mark.parametrize("transport, destination, problem", [
    (4, b"+3312345678", "transport sms cannot be reached"),
    (3, b"meter@example.org", "transport smtp cannot be reached"),
    (6, b"", "transport m_bus cannot be reached"),
    (0, b"127.0.0.1", "has no port"),
    (0, b"127.0.0.1:70000", "has no port"),
    (0, b"head end:4059", "is not host:port"),
    (0, b"[not-v6]:4059", "is not [IPv6 address]:port"),
    (0, b"", "no destination address"),
    (0, b"\xff\xfe:1", "is not host:port"),
])
def test_unreachable_or_invalid_destinations_are_a_problem_in_words(transport: int, destination: bytes,
                                                                   problem: str) -> None:
    setup = handle(push_meter(), V1)
    setup.set(3, Data(DataType.STRUCTURE, (Data(DataType.ENUM, transport), Data(DataType.OCTET_STRING, destination),
                                           Data(DataType.ENUM, 0))))
    settings = push_settings(setup)
    assert settings.destination is None and settings.problem is not None and problem in settings.problem
    with pytest.raises(PushError, match="0.1.25.9.0.255"):
        notify(setup.meter, request(setup.meter, V1), 0.0)


def test_a_malformed_attribute_is_a_problem_not_an_exception() -> None:
    setup = handle(push_meter(), V0)
    setup.set(3, Data(DataType.NULL_DATA))
    setup.set(4, Data(DataType.ARRAY, (Data(DataType.STRUCTURE, (Data(DataType.UNSIGNED, 1),)),)))
    settings = push_settings(setup)
    assert settings.destination is None and "send_destination_and_method" in (settings.problem or "")


@settings(max_examples=150, deadline=None, database=None)
@given(ln=st.sampled_from((V0, V1, V2)), attribute=st.integers(2, 10), value=data_values(8))
def test_any_value_a_client_stores_gives_settings_never_an_exception(ln: Obis, attribute: int, value: Data) -> None:
    setup = handle(push_meter(), ln)
    setup.set(attribute, value)  # as a SET without the type check would leave it
    found = push_settings(setup)
    assert (found.destination is None) == (found.problem is not None)
    window_start(found, EPOCH_2024, 60)


@settings(max_examples=150, deadline=None, database=None)
@given(ln=st.sampled_from((V0, V1, V2)), attribute=st.sampled_from((2, 3, 10, 11)), value=data_values(8))
def test_any_value_a_client_stores_builds_a_notification_or_a_push_error(ln: Obis, attribute: int,
                                                                         value: Data) -> None:
    meter = push_meter()
    handle(meter, ln).set(attribute, value)
    try:
        sent = notify(meter, request(meter, ln), 0.0)
    except PushError as exc:
        assert str(ln) in str(exc)
    else:
        assert sent.frames and sent.apdu[0] in (0x0F, 0xDB)  # a data-notification, plain or ciphered


def test_retry_delays_grow_by_the_exponent_up_to_the_cap() -> None:
    assert [RetryPolicy(3, 5, 200, 30).delay(n) for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 30, 30]
    assert [RetryPolicy(3, 60).delay(n) for n in (1, 2, 3)] == [60, 60, 60]
    assert RetryPolicy(3, 60, 0).delay(3) == 60  # exponent 0 reads as 100: a constant delay
    assert RetryPolicy(3, 10, 150).delay(3) == pytest.approx(22.5)


# ------------------------------------------------------------------ communication windows

def cdt(text: str) -> CosemDateTime:
    """ "YYYY-MM-DD hh:mm:ss" with * for a wildcard field."""
    day, time = text.split()
    y, mo, d = (None if f == "*" else int(f) for f in day.split("-"))
    h, mi, s = (None if f == "*" else int(f) for f in time.split(":"))
    return CosemDateTime(y, mo, d, None, h, mi, s, None, None, None)


def windowed(*pairs: tuple[str, str]) -> PushSettings:
    return PushSettings(V0, 2, None, None, tuple((cdt(a), cdt(b)) for a, b in pairs), 0, RetryPolicy(0, 0))


def local_epoch(text: str, offset_min: int = 60) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() - offset_min * 60


def test_no_window_means_any_time() -> None:
    assert window_start(windowed(), 1234.5, 60) == 1234.5


@pytest.mark.parametrize("now, start", [
    ("2024-05-10 01:00:00", "2024-05-10 02:00:00"),  # before tonight's window: it opens at 02:00 local
    ("2024-05-10 03:00:00", "2024-05-10 03:00:00"),  # inside it: now
    ("2024-05-10 04:00:00", "2024-05-10 04:00:00"),  # its last second still counts
    ("2024-05-10 05:00:00", "2024-05-11 02:00:00"),  # after it: tomorrow's
])
def test_a_daily_window_in_local_time(now: str, start: str) -> None:
    settings = windowed(("*-*-* 02:00:00", "*-*-* 04:00:00"))
    assert window_start(settings, local_epoch(now), 60) == local_epoch(start)


def test_a_window_across_midnight_and_the_earliest_of_several() -> None:
    overnight = windowed(("*-*-* 22:00:00", "*-*-* 02:00:00"))
    assert window_start(overnight, local_epoch("2024-05-11 01:00:00"), 60) == local_epoch("2024-05-11 01:00:00")
    assert window_start(overnight, local_epoch("2024-05-11 03:00:00"), 60) == local_epoch("2024-05-11 22:00:00")
    two = windowed(("*-*-* 20:00:00", "*-*-* 21:00:00"), ("*-*-* 06:00:00", "*-*-* 07:00:00"))
    assert window_start(two, local_epoch("2024-05-11 12:00:00"), 60) == local_epoch("2024-05-11 20:00:00")
    assert window_start(two, local_epoch("2024-05-11 22:00:00"), 60) == local_epoch("2024-05-12 06:00:00")


def test_an_hourly_window() -> None:
    hourly = windowed(("*-*-* *:00:00", "*-*-* *:10:00"))  # the first ten minutes of every hour
    assert window_start(hourly, local_epoch("2024-05-11 13:05:00"), 60) == local_epoch("2024-05-11 13:05:00")
    assert window_start(hourly, local_epoch("2024-05-11 13:20:00"), 60) == local_epoch("2024-05-11 14:00:00")
    assert window_start(hourly, local_epoch("2024-05-11 23:30:00"), 60) == local_epoch("2024-05-12 00:00:00")


def test_monthly_and_dated_windows() -> None:
    first_of_month = windowed(("*-*-01 00:00:00", "*-*-01 06:00:00"))
    assert window_start(first_of_month, local_epoch("2024-05-10 12:00:00"), 60) == local_epoch("2024-06-01 00:00:00")
    last_day = windowed(("*-*-254 23:00:00", "*-*-254 23:59:59"))  # 0xFE: the month's last day
    assert window_start(last_day, local_epoch("2024-02-10 12:00:00"), 60) == local_epoch("2024-02-29 23:00:00")
    once = windowed(("2024-07-01 00:00:00", "2024-07-02 00:00:00"))
    assert window_start(once, local_epoch("2024-05-10 12:00:00"), 0) == local_epoch("2024-07-01 00:00:00", 0)
    assert window_start(once, local_epoch("2024-08-01 00:00:00"), 0) is None  # never opens again


# ------------------------------------------------------------------ the notification

def test_a_plain_push_over_the_wrapper_decodes_with_gurux() -> None:
    meter = push_meter()
    sent = notify(meter, request(meter, V1), 2 * HOUR)
    assert sent.invocation_counter is None and sent.apdu[0] == 0x0F  # data-notification, plain
    frame = sent.frames[0]
    assert frame[:6] == bytes.fromhex("0001 0001 0066")  # wrapper v1, source wPort 1, destination 102
    got = received(reader(InterfaceType.WRAPPER, 1, 102), sent.frames)
    assert got.invokeId == 0x80000000 | sent.invoke_id  # high priority, unconfirmed
    # the meter's clock: 2024-01-01 02:00 UTC is 03:00 local (deviation -60)
    assert (got.time.value.hour, got.time.value.day) == (3, 1)
    register, rows = got.value
    assert register == [bytearray(bytes(REGISTER)), 4321, [0, 30]]  # the whole object: attributes 1..3
    assert rows == []  # no row captured yet
    assert "2 values, plain" in sent.summary


def test_invoke_ids_count_per_meter() -> None:
    meter = push_meter()
    ids = [notify(meter, request(meter, V1), 0.0).invoke_id for _ in range(3)]
    assert ids == [1, 2, 3] and meter.push_invoke_id == 3
    meter.push_invoke_id = 0xFFFFFF  # the 24-bit id wraps to 1
    assert notify(meter, request(meter, V1), 0.0).invoke_id == 1


def test_a_ciphered_push_uses_the_next_invocation_counter_and_journals_it() -> None:
    meter = push_meter()
    meter.state.journal.take()
    first = notify(meter, request(meter, V0), 0.0)
    second = notify(meter, request(meter, V0), 0.0)
    assert first.apdu[0] == 0xDB and first.apdu[1:10] == bytes([8]) + bytes.fromhex(TITLE)  # general-glo-ciphering
    assert first.invocation_counter is not None and second.invocation_counter == first.invocation_counter + 1
    assert first.apdu[10 + (first.apdu[10] >= 0x80):].find(first.invocation_counter.to_bytes(4, "big")) >= 0
    security = handle(meter, Obis("0.0.43.0.1.255")).security()
    assert security.transmit(KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY) == second.invocation_counter + 1
    assert CounterChanged(1, security.index, KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY, None) in meter.state.journal.take()
    assert f"general-glo-ciphering IC {first.invocation_counter}" in first.summary
    got = received(reader(InterfaceType.WRAPPER, 1, 1, ciphered=True), first.frames)
    assert got.invokeId & 0xFFFFFF == first.invoke_id
    setup_ln, energy, unit, alarms = got.value
    assert (bytes(setup_ln), energy, unit, alarms) == (bytes(V0), 4321, 30, 8)  # data index 2 of scaler_unit


def test_v0_protection_follows_the_management_policy() -> None:
    text = MODEL.replace("security_policy: authenticated-encrypted, ", "").replace(
        "security_policy: [authenticated_response, encrypted_response]", "security_policy: []")
    meter = push_meter(text)
    assert notify(meter, request(meter, V0), 0.0).apdu[0] == 0x0F  # no response protection: plain
    authenticated = MODEL.replace("security_policy: [authenticated_response, encrypted_response]",
                                  "security_policy: [authenticated_response]").replace(
        "security_policy: authenticated-encrypted, ", "")
    meter = push_meter(authenticated)
    sent = notify(meter, request(meter, V0), 0.0)
    assert sent.apdu[0] == 0xDB and sent.apdu[11] & 0x30 == 0x10  # security control: authenticated only
    assert received(reader(InterfaceType.WRAPPER, 1, 1, ciphered=True), sent.frames).value[1] == 4321


def capture(meter: Meter, *hours: float) -> None:
    for h in hours:
        handle(meter, REGISTER, h * HOUR).set(2, Data(DataType.DOUBLE_LONG_UNSIGNED, 1000 + int(h * 10)))
        handle(meter, PROFILE, h * HOUR).invoke(2, Data(DataType.INTEGER, 0))


def test_profile_entries_by_entry() -> None:
    meter = push_meter()
    capture(meter, 0.5, 1.5, 2.5, 3.5)
    sent = notify(meter, request(meter, V1), 4 * HOUR)
    _, rows = received(reader(InterfaceType.WRAPPER, 1, 102), sent.frames).value
    assert [row[1] for row in rows] == [1015, 1025]  # entries 2..3


def test_profile_rows_by_date_and_columns_in_hdlc_ui_frames() -> None:
    meter = push_meter()
    capture(meter, *(n / 10 for n in range(35)))  # every 6 minutes from 00:00 to 03:24 UTC
    sent = notify(meter, request(meter, V2), 4 * HOUR)
    # from 01:30 to 03:30 local: 00:30..02:30 UTC, 21 rows; the register column only
    assert len(sent.frames) > 1  # more than 128 octets: segmented UI frames
    for frame in sent.frames:
        assert frame[0] == frame[-1] == 0x7E
    assert sent.frames[0][1] & 0x08 and not sent.frames[-1][1] & 0x08  # segmentation bit on all but the last
    assert sent.frames[0][3:6] == bytes([0x03, 0x02, 0x4B])  # to client 1, from server upper 1, lower 37
    assert sent.frames[0][6] == 0x13  # UI, P/F set
    got = received(reader(InterfaceType.HDLC, (1 << 7) | 37, 1, ciphered=True), sent.frames)
    assert got.invokeId >> 30 == 0b11  # high priority, confirmed (push_operation_method 2)
    rows, alarms = got.value
    assert rows == [[1000 + n] for n in range(5, 26)] and alarms == 8


def object_definition(class_id: int, ln: str, attribute: int, data_index: int = 0) -> Data:
    return Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, class_id), Data(DataType.OCTET_STRING, bytes(Obis(ln))),
                                     Data(DataType.INTEGER, attribute), Data(DataType.LONG_UNSIGNED, data_index)))


def test_an_unreadable_value_is_pushed_as_null_data_and_noted() -> None:
    meter = push_meter()
    setup = handle(meter, V0)
    setup.set(2, Data(DataType.ARRAY, (object_definition(3, "1.0.1.8.0.255", 9),
                                       object_definition(3, "1.0.1.8.0.255", 2))))  # a client's SET
    sent = notify(meter, request(meter, V0), 0.0)
    assert received(reader(InterfaceType.WRAPPER, 1, 1, ciphered=True), sent.frames).value == [None, 4321]
    assert "unreadable, pushed as null-data: 1.0.1.8.0.255 attribute 9" in sent.summary


def test_a_missing_object_names_it() -> None:
    meter = push_meter()
    setup = handle(meter, V0)
    setup.set(2, Data(DataType.ARRAY, (*setup.get(2).value, object_definition(1, "0.0.97.98.1.255", 2))))
    with pytest.raises(PushError, match=r"0\.0\.97\.98\.1\.255, which this logical device does not have"):
        notify(meter, request(meter, V0), 0.0)


def test_no_system_title_and_digital_signature_are_push_errors() -> None:
    meter = push_meter()
    handle(meter, Obis("0.0.43.0.1.255")).set(5, Data(DataType.OCTET_STRING, b""))
    with pytest.raises(PushError, match="has no 8-octet server_system_title"):
        notify(meter, request(meter, V0), 0.0)
    meter = push_meter(MODEL.replace("protection_type: authenticated_encryption", "protection_type: digital_signature"))
    with pytest.raises(PushError, match="digital signature"):
        notify(meter, request(meter, V2), 0.0)


def test_an_hdlc_address_out_of_range_is_a_push_error() -> None:
    meter = push_meter()
    handle(meter, Obis("0.0.22.0.0.255")).set(9, Data(DataType.LONG_UNSIGNED, 0x4000))  # above 14 bits
    with pytest.raises(PushError, match=r"0\.2\.25\.9\.0\.255.*physical=16384"):
        notify(meter, request(meter, V2), 0.0)


def test_no_push_setup_at_the_request() -> None:
    meter = push_meter()
    with pytest.raises(PushError, match="no Push setup"):
        notify(meter, PushRequest(1, 0, 0.0, "action"), 0.0)
    with pytest.raises(PushError, match="logical device 9"):
        notify(meter, PushRequest(9, 0, 0.0, "action"), 0.0)
