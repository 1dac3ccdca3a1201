"""The push receiver's core (simulator/decode/push.py): published push frames in, notifications out.

Every reader is fed the whole input, then byte by byte, then with more after it; arbitrary bytes
give events, never an exception.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.common import LongInvokeIdAndPriority
from simulator.apdu.notification import DataNotification
from simulator.axdr import CosemDateTime, Data, DataType, Obis
from simulator.decode.push import (
    MAX_APDU, NotificationReceived, PushedAttribute, PushObjectList, PushReceiver, ReceivedNotification,
    ReceiveProblem,
)
from simulator.decode.tree import Decoded
from simulator.link.hdlc import HDLCAddress, HDLCFrame
from simulator.link.hdlc.frame import FrameKind
from simulator.link.wrapper import WrapperFrame
from simulator.security import CipherKeys, SecurityControl, encrypt_apdu

from .push_vectors import (
    GENERAL_GLO_BODY, GENERAL_GLO_KEY, GENERAL_GLO_NOTIFICATION, GENERAL_GLO_TITLE, GOSEM_EVENT_NOTIFICATION,
    GOSEM_NOTIFICATION, KAIFA_HAN_FRAME, KAIFA_READINGS,
)

PEER = "127.0.0.1:50000"
KEYS = CipherKeys(GENERAL_GLO_KEY, GENERAL_GLO_KEY)
ALARM_PUSH = Obis("0.0.25.9.0.255")


def notifications(events: list) -> list[ReceivedNotification]:
    return [e.notification for e in events if isinstance(e, NotificationReceived)]


def problems(events: list) -> list[ReceiveProblem]:
    return [e for e in events if isinstance(e, ReceiveProblem)]


def text(n: ReceivedNotification) -> str:
    return Decoded("push", 0, (n.describe(),)).to_text()


def feed(receiver: PushReceiver, data: bytes, chunk: int | None = None, peer: str = PEER) -> list:
    if chunk is None:
        return receiver.stream_data(peer, data)
    events: list = []
    for i in range(0, len(data), chunk):
        events += receiver.stream_data(peer, data[i:i + chunk])
    return events


def wrapped(apdu: bytes, source: int = 1, destination: int = 1) -> bytes:
    return WrapperFrame(source, destination, apdu).to_bytes()


def glo_notification(counter: int, body: Data, title: bytes = GENERAL_GLO_TITLE) -> bytes:
    plain = DataNotification(LongInvokeIdAndPriority(7, high_priority=True), None, body).to_bytes()
    return encrypt_apdu(plain, "general-glo", SecurityControl(0, True, True), title, counter,
                        GENERAL_GLO_KEY, GENERAL_GLO_KEY)


# -- the Kaifa HAN frame ---------------------------------------------------------------------

def test_kaifa_han_push_decoded_whole_byte_by_byte_and_followed_by_more() -> None:
    for chunk in (None, 1):
        receiver = PushReceiver()
        events = feed(receiver, KAIFA_HAN_FRAME + KAIFA_HAN_FRAME[1:], chunk)  # two frames sharing a flag
        found = notifications(events)
        assert len(found) == 2 and not problems(events)
        n = found[0]
        assert (n.link, n.protection, n.service) == ("hdlc", "plain", "data-notification")
        assert n.source == HDLCAddress(1, 0) and n.destination == HDLCAddress(0)
        assert n.date_time == CosemDateTime.from_bytes(bytes.fromhex("07E1090E04151F14FF800000"))
        assert n.body is not None and n.body.type == DataType.STRUCTURE and len(n.body.value) == 13
        assert n.body.value[0].value == b"KFM_001"
        assert tuple(v.value for v in n.body.value[3:]) == KAIFA_READINGS
        assert any("Kaifa quirk" in note for note in n.notes)
        shown = text(n)
        assert "2017-09-14 21:31:20" in shown and "double-long-unsigned 3454" in shown


def test_hdlc_noise_before_and_between_frames_is_skipped_with_a_line() -> None:
    receiver = PushReceiver()
    events = feed(receiver, KAIFA_HAN_FRAME[:1] + b"\x01\x02\x03" + KAIFA_HAN_FRAME + b"garbage" + KAIFA_HAN_FRAME)
    assert len(notifications(events)) == 2
    assert [p.message for p in problems(events) if "noise" in p.message]


def test_hdlc_frame_with_a_bad_check_sequence_is_dropped_and_the_next_one_read() -> None:
    bad = bytearray(KAIFA_HAN_FRAME)
    bad[-3] ^= 0xFF
    events = PushReceiver().stream_data(PEER, bytes(bad) + KAIFA_HAN_FRAME)
    assert len(notifications(events)) == 1
    assert any("FCS" in p.message for p in problems(events))


def _segments(apdu: bytes, size: int, kind: FrameKind = FrameKind.UI) -> bytes:
    lsdu = b"\xE6\xE7\x00" + apdu
    parts = [lsdu[i:i + size] for i in range(0, len(lsdu), size)]
    return b"".join(HDLCFrame(HDLCAddress(1), HDLCAddress(1, 17), kind, segmented=i < len(parts) - 1,
                              information=p).to_bytes() for i, p in enumerate(parts))


def test_segmented_ui_frames_are_reassembled() -> None:
    body = Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, bytes(ALARM_PUSH)),
                                     *(Data(DataType.DOUBLE_LONG_UNSIGNED, i) for i in range(100))))
    apdu = DataNotification(LongInvokeIdAndPriority(3), None, body).to_bytes()
    stream = _segments(apdu, 128)
    assert stream.count(b"\x7e\xa8") >= 4  # several segments
    for chunk in (None, 1):
        found = notifications(feed(PushReceiver(), stream, chunk))
        assert len(found) == 1 and found[0].body == body and found[0].invoke is not None
        assert found[0].source == HDLCAddress(1, 17) and found[0].invoke.invoke_id == 3


def test_segments_beyond_64_kib_are_dropped_with_a_line() -> None:
    receiver = PushReceiver()
    segment = HDLCFrame(HDLCAddress(1), HDLCAddress(1, 17), FrameKind.UI, segmented=True,
                        information=bytes(1000)).to_bytes()
    last = HDLCFrame(HDLCAddress(1), HDLCAddress(1, 17), FrameKind.UI, information=bytes(10)).to_bytes()
    events: list = []
    for _ in range(MAX_APDU // 1000 + 5):
        events += receiver.stream_data(PEER, segment)
    assert [p.message for p in problems(events)] == [
        "HDLC segments from HDLC address 1/17 exceed 65536 octets: APDU dropped"]
    # the rest of the dropped APDU is skipped up to its last segment; the next APDU is read
    events = receiver.stream_data(PEER, last + _segments(GOSEM_NOTIFICATION, 128))
    assert len(notifications(events)) == 1 and not problems(events)
    assert receiver.stream_closed(PEER) == []


def test_unfinished_segments_are_reported_at_close() -> None:
    receiver = PushReceiver()
    receiver.stream_data(PEER, _segments(bytes(GOSEM_NOTIFICATION) + bytes(300), 128)[:-1])
    message = receiver.stream_closed(PEER)[0].message
    assert "unfinished HDLC frame" in message and "1 unfinished segmented APDU(s)" in message


def test_other_hdlc_frames_are_ignored_with_a_line() -> None:
    snrm = HDLCFrame(HDLCAddress(1, 17), HDLCAddress(1), FrameKind.SNRM).to_bytes()
    events = PushReceiver().stream_data(PEER, snrm + _segments(GOSEM_NOTIFICATION, 128, FrameKind.I))
    assert "SNRM frame ignored" in problems(events)[0].message
    assert len(notifications(events)) == 1


# -- wrapper streams and datagrams ------------------------------------------------------------

def test_general_glo_notification_deciphered_with_its_keys() -> None:
    for chunk in (None, 1):
        receiver = PushReceiver(KEYS)
        found = notifications(feed(receiver, wrapped(GENERAL_GLO_NOTIFICATION, 1, 16), chunk))
        assert len(found) == 1
        n = found[0]
        assert (n.protection, n.deciphered, n.service) == ("general-glo-ciphering", True, "data-notification")
        assert n.security == ("authenticated", "encrypted")
        assert n.system_title == GENERAL_GLO_TITLE and n.invocation_counter == 0x1E5
        assert n.invoke is not None and n.invoke.invoke_id == 0x1DB
        assert n.body == Data(DataType.OCTET_STRING, GENERAL_GLO_BODY)
        assert (n.source, n.destination) == (1, 16)
        shown = text(n)
        assert "485 (0x000001E5)" in shown and "2F 19 22 91 99 16 41 03" in shown
        assert GENERAL_GLO_KEY.hex().upper() not in shown and "MYDUMMY" not in shown


def test_ciphered_notification_without_keys_shows_title_and_counter() -> None:
    n = notifications(PushReceiver().stream_data(PEER, wrapped(GENERAL_GLO_NOTIFICATION)))[0]
    assert (n.deciphered, n.service, n.body) == (False, "", None)
    assert n.system_title == GENERAL_GLO_TITLE and n.invocation_counter == 0x1E5
    assert "give --ek and --ak" in " ".join(n.notes)


def test_wrong_keys_do_not_open_it_nor_move_the_counter() -> None:
    receiver = PushReceiver(CipherKeys(bytes(16), bytes(16)))
    n = notifications(receiver.stream_data(PEER, wrapped(GENERAL_GLO_NOTIFICATION)))[0]
    assert not n.deciphered and "not deciphered" in " ".join(n.notes)
    # a forged APDU must not raise the bar for the genuine sender
    genuine = PushReceiver(KEYS)
    genuine.stream_data("a", wrapped(glo_notification(5000, Data(DataType.BOOLEAN, True), title=bytes(8))))
    assert genuine.replays == 0
    again = notifications(receiver.stream_data(PEER, wrapped(GENERAL_GLO_NOTIFICATION)))[0]
    assert not again.replayed


def test_counter_not_above_the_last_one_is_reported_and_counted() -> None:
    receiver = PushReceiver(KEYS)
    first = notifications(receiver.stream_data(PEER, wrapped(GENERAL_GLO_NOTIFICATION)))[0]
    higher = notifications(receiver.datagram(PEER, wrapped(glo_notification(0x1E6, Data(DataType.BOOLEAN, True)))))[0]
    replay = notifications(receiver.stream_data("127.0.0.1:50001", wrapped(GENERAL_GLO_NOTIFICATION)))[0]
    lower = notifications(receiver.stream_data(PEER, wrapped(glo_notification(17, Data(DataType.BOOLEAN, True)))))[0]
    assert (first.replayed, higher.replayed, replay.replayed, lower.replayed) == (False, False, True, True)
    assert receiver.replays == 2 and receiver.received == 4
    assert ("invocation counter 485 from 2F19229199164103 is not above the last one, 486: replayed or reset"
            in replay.notes)
    assert "invocation counter 17 from 2F19229199164103 is not above the last one, 486: replayed or reset" \
        in lower.notes
    # another sender has counters of its own
    other = notifications(receiver.stream_data(PEER, wrapped(glo_notification(1, Data(DataType.BOOLEAN, True),
                                                                              title=b"KFM\x00\x00\x00\x00\x01"))))[0]
    assert not other.replayed and 'manufacturer "KFM"' in text(other)


def test_counter_checked_without_keys_too() -> None:
    receiver = PushReceiver()
    receiver.stream_data(PEER, wrapped(GENERAL_GLO_NOTIFICATION))
    n = notifications(receiver.stream_data(PEER, wrapped(GENERAL_GLO_NOTIFICATION)))[0]
    assert n.replayed and receiver.replays == 1


def test_gosem_notification_in_a_datagram() -> None:
    n = notifications(PushReceiver().datagram("127.0.0.1:6000", wrapped(GOSEM_NOTIFICATION, 1, 102)))[0]
    assert (n.transport, n.link, n.protection, n.date_time) == ("udp", "wrapper", "plain", None)
    assert n.invoke is not None and n.invoke.invoke_id == 0x63D76A
    assert n.body == Data(DataType.BOOLEAN, True) and (n.source, n.destination) == (1, 102)
    as_json = json.loads(json.dumps(n.describe().to_python()))
    assert as_json["invoke_id"] == 0x63D76A and as_json["body"] == {"type": "boolean", "value": True}


def test_event_notification_names_its_attribute() -> None:
    n = notifications(PushReceiver().stream_data(PEER, wrapped(GOSEM_EVENT_NOTIFICATION)))[0]
    assert n.service == "event-notification-request" and n.attribute is not None
    assert str(n.attribute.instance_id) == "1.0.0.3.0.255" and n.body == Data(DataType.BOOLEAN, True)
    assert "1.0.0.3.0.255 Data attribute 2 value" in text(n)


def test_other_apdus_are_not_notifications() -> None:
    get = bytes.fromhex("C001C100080000010000FF0200")  # GET clock time, as in the Green Book
    events = PushReceiver().datagram(PEER, wrapped(get))
    assert not notifications(events) and "get-request-normal" in problems(events)[0].message


def test_a_stream_of_neither_framing_is_given_up() -> None:
    receiver = PushReceiver()
    events = receiver.stream_data(PEER, b"GET / HTTP/1.1\r\n")
    assert problems(events)[0].fatal and "neither" in problems(events)[0].message
    assert receiver.stream_data(PEER, wrapped(GOSEM_NOTIFICATION)) == []


def test_a_bad_wrapper_header_loses_the_stream() -> None:
    receiver = PushReceiver()
    events = receiver.stream_data(PEER, wrapped(GOSEM_NOTIFICATION) + b"\x00\x02" + bytes(6))
    assert len(notifications(events)) == 1 and problems(events)[0].fatal


def test_an_unfinished_wrapper_frame_is_reported_at_close() -> None:
    receiver = PushReceiver()
    receiver.stream_data(PEER, wrapped(GOSEM_NOTIFICATION)[:-1])
    assert "15 octets of an unfinished wrapper frame" in receiver.stream_closed(PEER)[0].message
    receiver.stream_data(PEER, wrapped(GOSEM_NOTIFICATION))
    assert receiver.stream_closed(PEER) == []


def test_the_date_time_quirks_of_gurux_and_dlms_cosem_are_read_and_noted() -> None:
    from datetime import datetime

    from dlms_cosem.protocol import xdlms
    from dlms_cosem.protocol.xdlms.data_notification import LongInvokeIdAndPriority as TheirLong
    from gurux_dlms import GXDateTime, GXDLMSNotify
    from gurux_dlms.enums import DataType as GuruxType
    from gurux_dlms.enums import InterfaceType
    from gurux_dlms.objects import GXDLMSData

    # dlms-cosem 25.1.0: a present date-time as 01 + 12 octets
    theirs = xdlms.DataNotification(TheirLong(long_invoke_id=9), datetime(2024, 5, 6, 7, 8, 9), bytes.fromhex("1101"))
    n = notifications(PushReceiver().datagram(PEER, wrapped(theirs.to_bytes())))[0]
    assert n.date_time is not None and (n.date_time.year, n.date_time.hour, n.date_time.second) == (2024, 7, 9)
    assert n.body == Data(DataType.UNSIGNED, 1) and "as dlms-cosem writes it" in n.notes[0]

    # gurux-dlms 1.0.203: an event notification's time as 09 0C + 12 octets
    obj = GXDLMSData("0.0.96.11.0.255")
    obj.value = 5
    obj.setDataType(2, GuruxType.UINT16)
    notify = GXDLMSNotify(True, 1, 16, InterfaceType.WRAPPER)
    [report] = notify.generateReport(GXDateTime(datetime(2024, 5, 6, 7, 8, 9)), [(obj, 2)])
    n = notifications(PushReceiver().stream_data(PEER, bytes(report)))[0]
    assert n.service == "event-notification-request" and n.body == Data(DataType.LONG_UNSIGNED, 5)
    assert n.date_time is not None and n.date_time.minute == 8 and "as gurux-dlms writes it" in n.notes[0]
    assert "0.0.96.11.0.255 Data attribute 2 value" in text(n)


# -- values named from the push object list ---------------------------------------------------

LABELS = {bytes(ALARM_PUSH): [PushObjectList("idis_poly", "Push setup - alarm", (
    PushedAttribute(40, ALARM_PUSH, 1, 0, "Push setup - alarm"),
    PushedAttribute(1, Obis("0.0.42.0.0.255"), 2, 0, "COSEM logical device name"),
    PushedAttribute(1, Obis("0.0.97.98.0.255"), 2, 0, "Alarm register 1"),
))]}


def _alarm_body(*values: Data) -> Data:
    return Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, bytes(ALARM_PUSH)), *values))


def test_values_named_with_their_obis_codes() -> None:
    body = _alarm_body(Data(DataType.OCTET_STRING, b"SIM0000001"), Data(DataType.DOUBLE_LONG_UNSIGNED, 4))
    n = notifications(PushReceiver(KEYS, LABELS).stream_data(PEER, wrapped(glo_notification(9, body))))[0]
    assert n.labels is LABELS[bytes(ALARM_PUSH)][0]
    shown = text(n)
    assert "0.0.97.98.0.255 Data attribute 2 value (Alarm register 1): double-long-unsigned 4" in shown
    assert "0.0.25.9.0.255 Push setup attribute 1 logical_name (Push setup - alarm)" in shown
    values = n.describe().to_python()["values"]
    assert [v["obis"] for v in values] == ["0.0.25.9.0.255", "0.0.42.0.0.255", "0.0.97.98.0.255"]
    assert values[2]["value"] == {"type": "double-long-unsigned", "value": 4}


def test_models_that_differ_on_a_push_setup_are_noted() -> None:
    listed = LABELS[bytes(ALARM_PUSH)][0]
    other = PushObjectList("gas", "Push setup - alarm", listed.entries[:2] + (
        PushedAttribute(3, Obis("7.0.3.0.0.255"), 2, 0, "Gas volume"),))
    same = PushObjectList("water", "Push setup - alarm", listed.entries)
    receiver = PushReceiver(None, {bytes(ALARM_PUSH): [listed, same, other]})
    body = _alarm_body(Data(DataType.OCTET_STRING, b"SIM0000001"), Data(DataType.DOUBLE_LONG_UNSIGNED, 4))
    n = notifications(receiver.datagram(PEER, wrapped(
        DataNotification(LongInvokeIdAndPriority(1), None, body).to_bytes())))[0]
    assert n.labels is listed and n.notes == (
        "values named after model idis_poly; the push setup of gas has as many values but lists others "
        "(give --model)",)


def test_a_body_of_another_length_is_not_named() -> None:
    body = _alarm_body(Data(DataType.DOUBLE_LONG_UNSIGNED, 4))
    n = notifications(PushReceiver(None, LABELS).datagram(PEER, wrapped(
        DataNotification(LongInvokeIdAndPriority(1), None, body).to_bytes())))[0]
    assert n.labels is None and "body" in n.describe().to_python()


# -- arbitrary input ----------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=6), st.sampled_from([b"\x7e", b"\x00\x01", b""]))
def test_arbitrary_bytes_give_events_never_an_exception(chunks: list[bytes], start: bytes) -> None:
    receiver = PushReceiver(KEYS, LABELS)
    for chunk in [start, *chunks]:
        receiver.stream_data(PEER, chunk)
        receiver.datagram(PEER, b"\x00\x01\x00\x01\x00\x01" + len(chunk).to_bytes(2, "big") + chunk)
    receiver.stream_closed(PEER)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(GENERAL_GLO_NOTIFICATION) - 1), st.integers(1, 255))
def test_a_flipped_byte_in_a_ciphered_push_is_reported_not_raised(at: int, flip: int) -> None:
    bad = bytearray(GENERAL_GLO_NOTIFICATION)
    bad[at] ^= flip
    for keys in (None, KEYS):
        events = PushReceiver(keys).stream_data(PEER, wrapped(bytes(bad)))
        assert all(isinstance(e, (NotificationReceived, ReceiveProblem)) for e in events)
        for n in notifications(events):
            n.describe()
