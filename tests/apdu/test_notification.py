"""Data-Notification, Event-Notification-Request and Exception-Response codecs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.common import (
    CosemAttributeDescriptor, EncodedData, LongInvokeIdAndPriority, ServiceError, StateError,
)
from simulator.apdu.notification import DataNotification, EventNotificationRequest, ExceptionResponse
from simulator.apdu.xdlms import decode_xdlms
from simulator.axdr import CosemDateTime, Data, DataType, Obis
from simulator.errors import DecodeError, EncodeError
from tests.apdu.xdlms_support import (
    assert_apdu_roundtrip, assert_gurux_data, assert_robust, attribute_descriptors, gurux_value,
    gurux_xml, hdlc_apdu, long_invokes, small_data, vector_tests, wrapper_apdu,
)
from tests.strategies import cosem_date_times

U4 = Data(DataType.UNSIGNED, 4)

# --------------------------------------------------------------------------- vectors

# source: https://github.com/gvtret/gosem/blob/07323ece60b067508d6ea0347459f2fb5d97d7e6/pkg/dlms/dataNotification_test.go
DATA_NOTIFICATION_NO_TIME = bytes.fromhex("0F0063D76A000301")

# source: https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_xdlms/test_data_notification.py
# (also the plaintext of the general-glo-ciphering vector of tests/test_general_global_cipher.py there)
DATA_NOTIFICATION_OCTETS = bytes.fromhex(
    "0F000001DB000922125A8591360000000049000000110000000A5A8513D014800000000D0000000A0100")

# source: https://github.com/gvtret/gosem/blob/07323ece60b067508d6ea0347459f2fb5d97d7e6/pkg/dlms/eventNotificationRequest_test.go
EVENT_NOTIFICATION_WITH_TIME = bytes.fromhex("C2010C05DC0101010000000000000000010100000300FF020301")

# source: https://github.com/gvtret/gosem/blob/07323ece60b067508d6ea0347459f2fb5d97d7e6/pkg/dlms/exceptionResponse_test.go
EXCEPTION_NOT_ALLOWED_NOT_SUPPORTED = bytes.fromhex("D80102")
EXCEPTION_UNKNOWN_OTHER_REASON = bytes.fromhex("D80203")

# A Kaifa meter's HAN push: the date-time carries a stray octet-string tag (09 0C ...), which a
# Green Book decoder must reject (tolerance case, see the vector's `quirk`).
# source: https://github.com/UtilitechAS/amsreader-firmware/blob/abf92a285f38e7e3903c608d35da86048c4f655c/frames/Kaifa-TN-3p.raw
HDLC_KAIFA_DATA_NOTIFICATION = bytes.fromhex(
    "7EA079010201108093E6E7000F40000000090C07E1090E04151F14FF800000020D09074B464D5F3030310910"
    "3639373036333134303137353339383509084D41333034483345060000040C06000000000600000000060000"
    "004E06000007C10600000C9E0600000D7E060000095F0600000000060000096687967E")

VECTORS = [
    ("data notification no time", DATA_NOTIFICATION_NO_TIME, DataNotification),
    ("data notification octets", DATA_NOTIFICATION_OCTETS, DataNotification),
    ("event notification", EVENT_NOTIFICATION_WITH_TIME, EventNotificationRequest),
    ("exception not allowed", EXCEPTION_NOT_ALLOWED_NOT_SUPPORTED, ExceptionResponse),
    ("exception unknown", EXCEPTION_UNKNOWN_OTHER_REASON, ExceptionResponse),
]


test_vector_roundtrip, test_vector_truncations_and_bit_flips = vector_tests(VECTORS)


def test_data_notification_fields() -> None:
    apdu = DataNotification.from_bytes(DATA_NOTIFICATION_NO_TIME)
    assert apdu == DataNotification(LongInvokeIdAndPriority(0x63D76A), None, Data(DataType.BOOLEAN, True))
    octets = DataNotification.from_bytes(DATA_NOTIFICATION_OCTETS)
    assert octets.invoke.invoke_id == 0x1DB and octets.date_time is None
    assert octets.body.type == DataType.OCTET_STRING and len(octets.body.value) == 34


def test_kaifa_date_time_quirk_is_rejected() -> None:
    apdu = hdlc_apdu(HDLC_KAIFA_DATA_NOTIFICATION)
    assert apdu[:5] == bytes.fromhex("0F40000000")
    with pytest.raises(DecodeError):
        decode_xdlms(apdu)
    assert_robust(apdu[:5] + apdu[6:])  # without the stray tag it is a valid notification
    fixed = DataNotification.from_bytes(apdu[:5] + apdu[6:])
    assert fixed.invoke == LongInvokeIdAndPriority(0, confirmed=True)
    assert fixed.date_time is not None and (fixed.date_time.year, fixed.date_time.month, fixed.date_time.day,
                                            fixed.date_time.hour, fixed.date_time.minute) == (2017, 9, 14, 21, 31)
    body = fixed.body.value
    assert len(body) == 13 and body[0] == Data(DataType.OCTET_STRING, b"KFM_001")
    assert body[3] == Data(DataType.DOUBLE_LONG_UNSIGNED, 0x40C)


def test_event_notification_fields() -> None:
    apdu = EventNotificationRequest.from_bytes(EVENT_NOTIFICATION_WITH_TIME)
    assert apdu.time == CosemDateTime(1500, 1, 1, 1, 0, 0, 0, 0, 0, 0)
    assert apdu.descriptor == CosemAttributeDescriptor(1, Obis("1.0.0.3.0.255"), 2)
    assert apdu.value == Data(DataType.BOOLEAN, True)


def test_exception_response_fields_and_invocation_counter() -> None:
    assert ExceptionResponse.from_bytes(EXCEPTION_NOT_ALLOWED_NOT_SUPPORTED) == ExceptionResponse(
        StateError.SERVICE_NOT_ALLOWED, ServiceError.SERVICE_NOT_SUPPORTED)
    assert ExceptionResponse.from_bytes(EXCEPTION_UNKNOWN_OTHER_REASON) == ExceptionResponse(
        StateError.SERVICE_UNKNOWN, ServiceError.OTHER_REASON)
    counter = ExceptionResponse(StateError.SERVICE_NOT_ALLOWED, ServiceError.INVOCATION_COUNTER_ERROR, 0x01020304)
    assert counter.to_bytes() == bytes.fromhex("D8010601020304")
    assert decode_xdlms(counter.to_bytes()) == counter
    assert_robust(counter.to_bytes())
    with pytest.raises(DecodeError):
        decode_xdlms(bytes.fromhex("D80106"))  # the counter is mandatory with invocation-counter-error
    with pytest.raises(EncodeError):
        ExceptionResponse(StateError.SERVICE_NOT_ALLOWED, ServiceError.INVOCATION_COUNTER_ERROR).to_bytes()
    with pytest.raises(EncodeError):
        ExceptionResponse(StateError.SERVICE_NOT_ALLOWED, ServiceError.OTHER_REASON, 5).to_bytes()


def test_long_invoke_id_bits() -> None:
    for v in (0, 0xFFFFFFFF, 0x80000001, 0x40000000, 0x20000000, 0x10000000, 0x0F000000, 0x00FFFFFF):
        liip = LongInvokeIdAndPriority.from_int(v)
        assert liip.to_int() == v
    liip = LongInvokeIdAndPriority.from_int(0xF0123456)
    assert (liip.invoke_id, liip.high_priority, liip.confirmed, liip.break_on_error, liip.self_descriptive) == (
        0x123456, True, True, True, True)
    with pytest.raises(EncodeError):
        LongInvokeIdAndPriority(1 << 24).to_int()


@pytest.mark.parametrize("hex_", [
    "0F", "0F0000000105",  # date-time of 1 octet
    "0F000000010D" + "00" * 13 + "0301",  # date-time of 13 octets
    "0F0000000100",  # body missing
    "C202", "C2010B" + "00" * 11,  # time flag 2; optional time of 11 octets
    "C200000100000300FF02",  # value missing
    "D8", "D801", "D80307", "D80100", "D80107",  # undefined state/service errors
    "D8010203",  # trailing byte
])
def test_malformed_apdus_raise_decode_error(hex_: str) -> None:
    with pytest.raises(DecodeError):
        decode_xdlms(bytes.fromhex(hex_))


def test_encoded_data_body() -> None:
    body = Data(DataType.STRUCTURE, (Data(DataType.UNSIGNED, 1),))
    plain = DataNotification(LongInvokeIdAndPriority(7), None, body)
    spliced = DataNotification(LongInvokeIdAndPriority(7), None, EncodedData(body.to_bytes()))
    assert spliced.to_bytes() == plain.to_bytes()


# --------------------------------------------------------------------------- hypothesis round trips

@settings(max_examples=50, deadline=None)
@given(long_invokes, st.one_of(st.none(), cosem_date_times()), small_data)
def test_data_notification_roundtrip(invoke, date_time, body) -> None:
    assert_apdu_roundtrip(DataNotification(invoke, date_time, body))


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.none(), cosem_date_times()), attribute_descriptors, small_data)
def test_event_notification_roundtrip(time, descriptor, value) -> None:
    assert_apdu_roundtrip(EventNotificationRequest(time, descriptor, value))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(StateError), st.sampled_from(ServiceError), st.integers(0, 0xFFFFFFFF))
def test_exception_response_roundtrip(state, service, counter) -> None:
    ic = counter if service == ServiceError.INVOCATION_COUNTER_ERROR else None
    assert_apdu_roundtrip(ExceptionResponse(state, service, ic))


# --------------------------------------------------------------------------- interop: gurux-dlms

def test_gurux_reads_our_notifications() -> None:
    dt = CosemDateTime(2024, 5, 6, 1, 7, 8, 9, 0, -60, 0)
    body = Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, b"\x01"), Data(DataType.LONG_UNSIGNED, 9)))
    root = gurux_xml(DataNotification(LongInvokeIdAndPriority(0x1234), dt, body).to_bytes())
    assert gurux_value(root, "LongInvokeIdAndPriority") == 0x1234
    assert bytes.fromhex(root.find("DateTime").get("Value")) == dt.to_bytes()
    assert_gurux_data(root.find(".//DataValue")[0], body)
    none = gurux_xml(DataNotification(LongInvokeIdAndPriority(1), None, body).to_bytes())
    assert none.find("DateTime").get("Value") == ""

    event = gurux_xml(EventNotificationRequest(dt, CosemAttributeDescriptor(1, Obis("0.0.96.11.0.255"), 2),
                                               Data(DataType.LONG_UNSIGNED, 5)).to_bytes())
    assert bytes.fromhex(event.find("Time").get("Value")) == dt.to_bytes()
    assert gurux_value(event, "ClassId") == 1 and gurux_value(event, "AttributeId") == 2
    assert_gurux_data(event.find("AttributeValue")[0], Data(DataType.LONG_UNSIGNED, 5))

    exc = gurux_xml(ExceptionResponse(StateError.SERVICE_NOT_ALLOWED, ServiceError.SERVICE_NOT_SUPPORTED).to_bytes())
    assert exc.find("StateError").get("Value") == "ServiceNotAllowed"
    assert exc.find("ServiceError").get("Value") == "ServiceNotSupported"


def test_we_read_gurux_notifications() -> None:
    from datetime import datetime

    from gurux_dlms import GXByteBuffer, GXDateTime, GXDLMSNotify
    from gurux_dlms.enums import DataType as GuruxType
    from gurux_dlms.enums import InterfaceType
    from gurux_dlms.objects import GXDLMSData

    notify = GXDLMSNotify(True, 1, 16, InterfaceType.WRAPPER)
    body = Data(DataType.STRUCTURE, (Data(DataType.UNSIGNED, 1), Data(DataType.OCTET_STRING, b"\x02")))
    [timed] = notify.generateDataNotificationMessages(GXDateTime(datetime(2024, 5, 6, 7, 8, 9)),
                                                      GXByteBuffer(body.to_bytes()))
    apdu = decode_xdlms(wrapper_apdu(bytes(timed)))
    assert isinstance(apdu, DataNotification) and apdu.body == body
    assert apdu.date_time is not None
    assert (apdu.date_time.year, apdu.date_time.month, apdu.date_time.day, apdu.date_time.hour,
            apdu.date_time.minute, apdu.date_time.second) == (2024, 5, 6, 7, 8, 9)
    [untimed] = notify.generateDataNotificationMessages(None, GXByteBuffer(body.to_bytes()))
    apdu = decode_xdlms(wrapper_apdu(bytes(untimed)))
    assert isinstance(apdu, DataNotification) and apdu.date_time is None and apdu.body == body

    obj = GXDLMSData("0.0.96.11.0.255")
    obj.value = 5
    obj.setDataType(2, GuruxType.UINT16)
    [report] = notify.generateReport(None, [(obj, 2)])
    assert decode_xdlms(wrapper_apdu(bytes(report))) == EventNotificationRequest(
        None, CosemAttributeDescriptor(1, Obis("0.0.96.11.0.255"), 2), Data(DataType.LONG_UNSIGNED, 5))
    # gurux-dlms 1.0.203 writes the OPTIONAL time as 09 0C ... (an octet-string tag where the
    # presence flag 01 belongs); a strict decoder refuses it.
    [timed_report] = notify.generateReport(GXDateTime(datetime(2024, 5, 6, 7, 8, 9)), [(obj, 2)])
    assert wrapper_apdu(bytes(timed_report))[:3] == bytes.fromhex("C2090C")
    with pytest.raises(DecodeError):
        decode_xdlms(wrapper_apdu(bytes(timed_report)))


# --------------------------------------------------------------------------- interop: dlms-cosem

def test_dlms_cosem_notifications_both_directions() -> None:
    from datetime import datetime

    from dlms_cosem.protocol import xdlms
    from dlms_cosem.protocol.xdlms.data_notification import LongInvokeIdAndPriority as TheirLong

    ours = DataNotification(LongInvokeIdAndPriority(0x1DB, confirmed=True), None, U4)
    theirs = xdlms.DataNotification.from_bytes(ours.to_bytes())
    assert theirs.long_invoke_id_and_priority.long_invoke_id == 0x1DB
    assert theirs.long_invoke_id_and_priority.confirmed and theirs.date_time is None
    assert theirs.body == bytes.fromhex("1104")

    theirs = xdlms.DataNotification(TheirLong(long_invoke_id=77, prioritized=True), None, bytes.fromhex("0903AABBCC"))
    assert decode_xdlms(theirs.to_bytes()) == DataNotification(
        LongInvokeIdAndPriority(77, high_priority=True), None, Data(DataType.OCTET_STRING, b"\xAA\xBB\xCC"))

    # dlms-cosem 25.1.0 writes a present date-time as 01 + 12 octets (a presence flag where the
    # Green Book's mandatory OCTET STRING has its length 0C); a strict decoder refuses it.
    timed = xdlms.DataNotification(TheirLong(long_invoke_id=1), datetime(2024, 5, 6, 7, 8, 9), bytes.fromhex("1101"))
    assert timed.to_bytes()[5] == 0x01
    with pytest.raises(DecodeError):
        decode_xdlms(timed.to_bytes())
    # Reading ours, it takes the length byte for its flag and so gets the right time.
    dt = CosemDateTime(2024, 5, 6, 1, 7, 8, 9, 0, None, 0)
    read_back = xdlms.DataNotification.from_bytes(DataNotification(LongInvokeIdAndPriority(1), dt, U4).to_bytes())
    assert read_back.date_time.replace(tzinfo=None) == datetime(2024, 5, 6, 7, 8, 9)

    exc = xdlms.ExceptionResponse.from_bytes(
        ExceptionResponse(StateError.SERVICE_UNKNOWN, ServiceError.INVOCATION_COUNTER_ERROR, 4242).to_bytes())
    assert (exc.state_error, exc.service_error, exc.invocation_counter_data) == (2, 6, 4242)
    theirs_exc = xdlms.ExceptionResponse(state_error=1, service_error=5)
    assert decode_xdlms(theirs_exc.to_bytes()) == ExceptionResponse(StateError.SERVICE_NOT_ALLOWED,
                                                                    ServiceError.DECIPHERING_ERROR)
