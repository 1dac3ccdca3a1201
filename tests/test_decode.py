"""`cosem-sim decode` and `decode_apdu`: public vectors told in the words of the standard.

Most tests call `main_decode` / `decode` directly; one runs `python -m simulator.cli decode` as a
subprocess to prove the command is wired end to end.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.acse import AARE, AARQ, RLRQ, ApplicationContextName
from simulator.apdu.ciphered import CipheredAPDU, GeneralGloCiphering
from simulator.apdu.common import (
    CosemAttributeDescriptor, InvokeIdAndPriority, SelectiveAccess,
)
from simulator.apdu.get import GetRequestNormal, GetResponseNormal, GetResponseWithList
from simulator.apdu.initiate import ConfirmedServiceError, InitiateRequest, InitiateResponse
from simulator.apdu.registry import decode_apdu, service_name
from simulator.axdr import Data, DataType, Obis
from simulator.decode import DecodeOptions, decode, main_decode
from simulator.errors import DecodeError
from simulator.link.hdlc import LLC_RESPONSE, FrameKind, HDLCAddress, HDLCFrame, fcs16_bytes
from simulator.link.wrapper import WrapperFrame
from simulator.security import SecurityControl, encrypt_apdu

ROOT = Path(__file__).resolve().parents[1]
h = bytes.fromhex

# ----------------------------------------------------------------------------- vectors

# Archived DLMS UA FAQ "Are examples for information exchange available?" (examples by Gyozo
# Kmethy): https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/studio/docs/Are%20examples%20for%20information%20exchange%20available.htm
HDLC_GET_CLOCK_TIME_REQUEST = "7EA0199575767837E6E600C0018100080000010000FF020065D77E"
HDLC_GET_CLOCK_TIME_RESPONSE = "7EA01E7595966F67E6E700C4018100090C07D20C04030A060BFF007800F3307E"
HDLC_SNRM = "7EA00A00020023219318717E"
HDLC_UA_DEFAULTS = "7EA023210002002373F6C58180140502008006020080070400000001080400000001CE6A7E"
HDLC_AARE = ("7EA03A2100020023309941E6E7006129A109060760857405080101A203020100A305A103020100BE10040E"
             "0800065F1F040000301D190000070C527E")
# https://github.com/milanbella/gocosem/blob/02b8a72f67613192aba85cd284e0cdb02a34378c/doc/electronica/trace-authentication-and-encryption.txt
HDLC_GET_WITH_LIST_REQUEST = "7EA0270002002321325788E6E600C003C102000100002B0100FF0200000100002B0101FF02001B6E7E"
# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/tests/test_hdlc.cpp
HDLC_LAST_SEGMENT = (
    "7EA07A030002002356990D0A19FF0D1813FF8000FF020312000002020F00161B090C07E10A19FF0D1503FF8000FF02"
    "0312000002020F00161B090C07C80106FF161E00FF8000FF020312000002020F00161B090C07C80106FF160F00FF80"
    "00FF020312000002020F00161B090C07C80106FF160000FF8000FF05B47E")
# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/tests/test_association.cpp
WRAPPER_AARQ = "000100100001001F601DA109060760857405080101BE10040E01000000065F1F040062FEDFFFFF"
# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/tests/test_association.cpp (aare_hls_ok)
AARE_HLS_OK = ("614FA109060760857405080101A203020100A305A10302010EA40A0408414243444546474888020780890760"
               "857405080205AA0A8008503677524A323146BE11040F080100065F1F040000021D04000007")
AARE_HLS_OK_CHALLENGE = "503677524A323146"  # "P6wRJ21F"
# https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_asce/test_aarq.py
AARQ_LLS = ("6036A1090607608574050801018A0207808B0760857405080201AC0A80083132333435363738BE10040E0100"
            "0000065F1F0400007E1F04B0")
AARQ_LLS_PASSWORD = "3132333435363738"  # "12345678"
# https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_xdlms/test_selective_access.py
GET_PROFILE_RANGE = ("C001C100070100630100FF0201010204020412000809060000010000FF0F02120000090C07E10A0107000000"
                     "00FFC480090C07E10A010701000000FFC4800100")
# https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_xdlms/test_get.py
GET_RESPONSE_HARDWARE_FAULT = "C401C10101"
# Green Book DLMS UA 1000-2 Ed.8 Table 40, as quoted in
# https://github.com/xdom/jdlms/blob/968f7232a0876df39cc05209fce7850ec9c1beca/src/test/java/org/openmuc/jdlms/CipheringTest.java;
# https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_security.py
GLO_GET_REQUEST_SC30 = "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"
GB_EK = "000102030405060708090A0B0C0D0E0F"
GB_AK = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"
GB_TITLE = "4D4D4D0000BC614E"
# Green Book ciphering example: https://github.com/xdom/jdlms/blob/968f7232a0876df39cc05209fce7850ec9c1beca/src/test/java/org/openmuc/jdlms/CipheringTest.java (testCipheringExampleFromStandard)
GLO_INITIATE_REQUEST_GB = ("21303001234567801302FF8A7874133D414CED25B42534D28DB0047720606B175BD52211BE6841DB"
                           "204D39EE6FDB8E356855")
GB_DEDICATED_KEY = "00112233445566778899AABBCCDDEEFF"
# https://github.com/milanbella/gocosem/blob/02b8a72f67613192aba85cd284e0cdb02a34378c/doc/electronica/trace-authentication.txt
GLO_GET_RESPONSE_SC10 = "CC1F100000004AC401C10009083132303030303137B1356A5F6F74347C10B1F7B6"
# https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_general_global_cipher.py
GENERAL_GLO_NOTIFICATION = (
    "DB082F192291991641033B30000001E5025CE9D2271FD78BE8C204211A916A9D7F587E0A7A814CADEA89E9593F01F9"
    "2EA8C087B5BDFDEFEAB6BECF282DFE49C08F5BE6DC8400")
DUMMY_KEY = "4D5944554D4D59474C4F42414C4B4559"  # "MYDUMMYGLOBALKEY", both EK and AK in that source
# https://github.com/gvtret/gosem/blob/07323ece60b067508d6ea0347459f2fb5d97d7e6/pkg/dlms/confirmedServiceError_test.go
CONFIRMED_SERVICE_ERROR = "0E010601"
# https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_asce/test_rlrq.py
RLRQ_NORMAL = "6203800100"

GB_KEYS = ["--ek", GB_EK, "--ak", GB_AK]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main_decode(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def spellings(hex_text: str) -> list[str]:
    """Every way a byte string could appear in the output (keys must appear in none)."""
    b = h(hex_text)
    return [b.hex(), b.hex().upper(), b.hex(" "), b.hex(" ").upper(), b.hex(":").upper()]


def assert_secret_absent(text: str, *secrets: str) -> None:
    for secret in secrets:
        for form in spellings(secret):
            assert form not in text, "a secret appeared in the output"


# ----------------------------------------------------------------------------- registry


@pytest.mark.parametrize("hex_text, cls, name", [
    (AARQ_LLS, AARQ, "AARQ"),
    (AARE_HLS_OK, AARE, "AARE"),
    (RLRQ_NORMAL, RLRQ, "RLRQ"),
    ("01000000065F1F0400007E1F04B0", InitiateRequest, "initiate-request"),
    ("0800065F1F040000501F01F40007", InitiateResponse, "initiate-response"),
    (CONFIRMED_SERVICE_ERROR, ConfirmedServiceError, "confirmed-service-error"),
    (GLO_GET_REQUEST_SC30, CipheredAPDU, "glo-get-request"),
    (GLO_INITIATE_REQUEST_GB, CipheredAPDU, "glo-initiate-request"),
    (GENERAL_GLO_NOTIFICATION, GeneralGloCiphering, "general-glo-ciphering"),
    (GET_PROFILE_RANGE, GetRequestNormal, "get-request-normal"),
    (GET_RESPONSE_HARDWARE_FAULT, GetResponseNormal, "get-response-normal"),
    ("C403C102000600000058000600000000", GetResponseWithList, "get-response-with-list"),
])
def test_decode_apdu_dispatches_every_family(hex_text: str, cls: type, name: str) -> None:
    apdu = decode_apdu(h(hex_text))
    assert type(apdu) is cls
    assert service_name(apdu) == name
    assert apdu.to_bytes() == h(hex_text)


def test_decode_apdu_ded_tag_name() -> None:
    ded = CipheredAPDU(0xD0, 0x30, 1, b"\x00" * 13)  # ded-get-request
    assert service_name(decode_apdu(ded.to_bytes())) == "ded-get-request"


@pytest.mark.parametrize("data, offset", [(b"", 0), (b"\x7E\x00", 0), (b"\xFF", 0), (b"\xC0\x09", 1),
                                          (b"\x64\x00", 0)])
def test_decode_apdu_rejects_unknown(data: bytes, offset: int) -> None:
    with pytest.raises(DecodeError) as info:
        decode_apdu(data)
    assert info.value.offset == offset


@given(st.binary(max_size=40), st.sampled_from([b"", b"\x60", b"\x61", b"\xC0\x01", b"\xC8", b"\xDB", b"\x01"]))
@settings(max_examples=300)
def test_decode_apdu_total(tail: bytes, head: bytes) -> None:
    try:
        decode_apdu(head + tail)
    except DecodeError:
        pass


# ----------------------------------------------------------------------------- HDLC


def test_hdlc_get_request_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, HDLC_GET_CLOCK_TIME_REQUEST)
    assert (code, err) == (0, "")
    for line in [
        "hdlc-frame (1: I, client to server, at byte 0)",
        "format: A0 19: type 3, segmentation 0, length 25",
        "destination: 95: server, 1 byte, logical (upper) 74",
        "source: 75: client, SAP 58",
        "control: 76: I, N(S)=3, N(R)=3, P/F=1",
        "HCS: 78 37 ok",
        "FCS: 65 D7 ok",
        "LLC: E6 E6 00 (command)",
        "apdu: get-request-normal",
        "invoke-id-and-priority: 81: invoke-id 1, unconfirmed, priority high",
        "instance-id: 0.0.1.0.0.255",
        "access-selection: none",
    ]:
        assert line in out
    assert "class-id: 8" in out and "attribute-id: 2" in out


def test_hdlc_get_request_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json", HDLC_GET_CLOCK_TIME_REQUEST)
    assert code == 0
    doc = json.loads(out)
    assert doc["input"] == "hdlc" and doc["length"] == 27
    frame, = doc["items"]
    assert frame["kind"] == "hdlc-frame" and frame["direction"] == "client-to-server"
    assert frame["format"] == {"type": 3, "segmented": False, "length": 25}
    assert frame["destination"] == {"bytes": "95", "role": "server", "logical": 74}
    assert frame["source"] == {"bytes": "75", "role": "client", "sap": 58}
    assert frame["control"] == {"byte": 0x76, "frame": "I", "ns": 3, "nr": 3, "poll_final": True}
    assert frame["hcs"] == {"value": "7837", "ok": True} and frame["fcs"] == {"value": "65D7", "ok": True}
    apdu = frame["apdu"]
    assert apdu["kind"] == "get-request-normal"
    assert apdu["invoke_id_and_priority"] == {"invoke_id": 1, "confirmed": False, "priority": "high"}
    descriptor = apdu["cosem_attribute_descriptor"]
    assert (descriptor["class_id"], descriptor["instance_id"], descriptor["attribute_id"]) == (8, "0.0.1.0.0.255", 2)
    assert apdu["access_selection"] is None


def test_hdlc_get_response_shows_typed_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, HDLC_GET_CLOCK_TIME_RESPONSE)
    assert code == 0
    assert "hdlc-frame (1: I, server to client, at byte 0)" in out
    assert "result: octet-string 07 D2 0C 04 03 0A 06 0B FF 00 78 00  (date-time 2002-12-04" in out
    doc = decode(h(HDLC_GET_CLOCK_TIME_RESPONSE)).to_python()
    assert doc["items"][0]["apdu"]["result"] == {"type": "octet-string", "value": "07D20C04030A060BFF007800",
                                                 "date_time": "2002-12-04 10:06:11.** dev=+120min status=0x00"}


def test_hdlc_several_frames_sharing_flags() -> None:
    # SNRM, then UA sharing the SNRM's closing flag, then two fill flags and the AARE.
    stream = h(HDLC_SNRM) + h(HDLC_UA_DEFAULTS)[1:] + b"\x7E\x7E" + h(HDLC_AARE)
    result = decode(stream)
    kinds = [n.to_python()["control"]["frame"] for n in result.items]
    assert kinds == ["SNRM", "UA", "I"]
    snrm, ua, aare = (n.to_python() for n in result.items)
    assert snrm["parameters"] is None
    assert ua["parameters"]["max_info_field_length_transmit"] == 128
    assert ua["parameters"]["window_size_receive"] == 1
    assert aare["offset"] == len(h(HDLC_SNRM)) + len(h(HDLC_UA_DEFAULTS)) - 1 + 2  # its own opening flag
    assert aare["apdu"]["kind"] == "AARE"
    assert aare["apdu"]["user_information"]["kind"] == "initiate-response"
    text = result.to_text()
    assert "parameters: none (the defaults: 128 octets, window 1)" in text
    assert "window-size-transmit: 1" in text


def test_hdlc_get_with_list_request() -> None:
    apdu = decode(h(HDLC_GET_WITH_LIST_REQUEST)).to_python()["items"][0]["apdu"]
    assert apdu["kind"] == "get-request-with-list"
    items = apdu["cosem_attribute_descriptor_list"]
    assert [i["cosem_attribute_descriptor"]["instance_id"] for i in items] == ["0.0.43.1.0.255", "0.0.43.1.1.255"]


def test_hdlc_lone_last_segment_is_shown_not_decoded() -> None:
    text = decode(h(HDLC_LAST_SEGMENT)).to_text()
    assert "no LLC header" in text and "source: 00 02 00 23: server, 4 bytes, logical (upper) 1, physical (lower) 17" in text


def _segmented_stream(apdu: bytes, size: int) -> bytes:
    """A server's answer cut into I-frame segments of `size` octets, frames sharing flags."""
    lsdu = LLC_RESPONSE + apdu
    chunks = [lsdu[i:i + size] for i in range(0, len(lsdu), size)]
    stream = b""
    client, server = HDLCAddress.client(16), HDLCAddress(1, 17)
    for i, chunk in enumerate(chunks):
        frame = HDLCFrame(client, server, FrameKind.I, True, i & 7, 0, i < len(chunks) - 1, chunk).to_bytes()
        stream += frame[1:] if stream else frame  # share the previous closing flag
    return stream


def _buffer(rows: int) -> Data:
    return Data(DataType.ARRAY, tuple(
        Data(DataType.STRUCTURE, (Data(DataType.DOUBLE_LONG_UNSIGNED, i), Data(DataType.UNSIGNED, i & 0xFF)))
        for i in range(rows)))


def test_hdlc_segments_reassembled() -> None:
    apdu = GetResponseNormal(InvokeIdAndPriority(1, True, True), _buffer(40)).to_bytes()
    stream = _segmented_stream(apdu, 64)
    result = decode(stream).to_python()
    frames = result["items"]
    assert len(frames) > 3
    assert all(f["format"]["segmented"] for f in frames[:-1]) and not frames[-1]["format"]["segmented"]
    assert all(f["apdu"] is None for f in frames[:-1])
    last = frames[-1]
    assert last["segments"] == len(frames)
    assert last["apdu"]["kind"] == "get-response-normal"
    assert len(last["apdu"]["result"]["value"]) == 40


def test_hdlc_error_offset_inside_a_later_segment() -> None:
    apdu = bytearray(GetResponseNormal(InvokeIdAndPriority(1, True, True), _buffer(40)).to_bytes())
    bad = 6 + 9 * 16  # the structure tag of row 16: APDU head 6 octets, rows of 9; third segment
    assert apdu[bad] == DataType.STRUCTURE
    apdu[bad] = 0xEE  # not a data type tag
    stream = _segmented_stream(bytes(apdu), 64)
    with pytest.raises(DecodeError) as info:
        decode(stream)
    assert stream[info.value.offset] == 0xEE
    assert "unknown data type tag 0xEE" in info.value.reason


@pytest.mark.parametrize("stream, offset, words", [
    (h(HDLC_GET_CLOCK_TIME_REQUEST)[:-3] + b"\x00\x00\x7E", 24, "FCS 00 00 does not match the frame (computed 65 D7)"),
    (h(HDLC_GET_CLOCK_TIME_REQUEST)[:-2], 1, "runs past the end of the input"),
    (h(HDLC_GET_CLOCK_TIME_REQUEST) + b"\x01", 27, "format type 0"),
    (b"\x7E", 1, "truncated HDLC frame"),
    (b"\x7E\xA0", 2, "truncated HDLC frame"),
    (b"\x7E\xB0\x05\x00\x00\x00\x7E", 1, "format type B"),
])
def test_hdlc_errors(stream: bytes, offset: int, words: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode(stream)
    assert words in info.value.reason
    assert info.value.offset == offset


def test_hdlc_bad_hcs_is_located() -> None:
    frame = bytearray(h(HDLC_GET_CLOCK_TIME_REQUEST))
    frame[6] ^= 0xFF  # HCS, after 7E, format (2), addresses 95 75 and control 76
    frame[-3:-1] = fcs16_bytes(bytes(frame[1:-3]))
    with pytest.raises(DecodeError) as info:
        decode(bytes(frame))
    assert info.value.offset == 6
    assert info.value.reason == "HDLC HCS 87 37 does not match the header (computed 78 37)"


# ----------------------------------------------------------------------------- wrapper and ACSE


def test_wrapper_aarq_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, WRAPPER_AARQ)
    assert code == 0
    for line in [
        "wrapper-frame (1, at byte 0)",
        "version: 1",
        "source-wPort: 16 (0x0010)",
        "destination-wPort: 1 (0x0001)",
        "length: 31",
        "apdu: AARQ (A-ASSOCIATE request)",
        "application-context-name: Logical_Name_Referencing_No_Ciphering (2.16.756.5.8.1.1)",
        "user-information: initiate-request",
        "proposed-dlms-version-number: 6",
        "client-max-receive-pdu-size: 65535",
    ]:
        assert line in out
    assert "proposed-conformance: 62 FE DF: general-protection, general-block-transfer" in out


def test_wrapper_aarq_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json", WRAPPER_AARQ)
    doc = json.loads(out)
    frame, = doc["items"]
    assert (frame["version"], frame["source_wport"], frame["destination_wport"], frame["length"]) == (1, 16, 1, 31)
    initiate = frame["apdu"]["user_information"]
    assert initiate["kind"] == "initiate-request"
    assert "get" in initiate["proposed_conformance"] and "general-protection" in initiate["proposed_conformance"]
    assert initiate["client_max_receive_pdu_size"] == 0xFFFF


def test_wrapper_two_frames_and_truncation() -> None:
    two = h(WRAPPER_AARQ) + WrapperFrame(1, 16, h(GET_RESPONSE_HARDWARE_FAULT)).to_bytes()
    items = decode(two).to_python()["items"]
    assert [i["apdu"]["kind"] for i in items] == ["AARQ", "get-response-normal"]
    assert items[1]["offset"] == len(h(WRAPPER_AARQ))
    with pytest.raises(DecodeError) as info:
        decode(h(WRAPPER_AARQ)[:-1])
    assert "wrapper length field 31" in info.value.reason


def test_bare_aare_text_hides_the_challenge(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, AARE_HLS_OK)
    assert code == 0
    for line in [
        "AARE (A-ASSOCIATE response)",
        "result: accepted (0)",
        "result-source-diagnostic: acse-service-user: authentication-required (14)",
        'responding-AP-title: 41 42 43 44 45 46 47 48 (manufacturer "ABC")',
        "responder-acse-requirements: authentication",
        "mechanism-name: high-level-security GMAC (2.16.756.5.8.2.5)",
        "responding-authentication-value: 8 octets (not shown)",
        "negotiated-quality-of-service: 0",
        "server-max-receive-pdu-size: 1024",
        "vaa-name: 0x0007 (logical name referencing)",
    ]:
        assert line in out
    assert_secret_absent(out, AARE_HLS_OK_CHALLENGE)
    code, out, _ = run(capsys, "--json", AARE_HLS_OK)
    doc = json.loads(out)["items"][0]
    assert doc["responding_authentication_value"] == {"length": 8}
    assert doc["result_source_diagnostic"] == {"source": "acse-service-user", "value": "authentication-required"}
    assert_secret_absent(out, AARE_HLS_OK_CHALLENGE)
    assert "P6wRJ21F" not in out


def test_aarq_password_never_shown(capsys: pytest.CaptureFixture[str]) -> None:
    for form in ([], ["--json"]):
        code, out, _ = run(capsys, *form, AARQ_LLS)
        assert code == 0
        assert "low-level-security" in out
        assert_secret_absent(out, AARQ_LLS_PASSWORD)
        assert "12345678" not in out


def test_rlrq_and_confirmed_service_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert "reason: normal (0)" in run(capsys, RLRQ_NORMAL)[1]
    out = run(capsys, CONFIRMED_SERVICE_ERROR)[1]
    assert "service: initiate-error (1)" in out and "service-error: initiate: dlms-version-too-low (1)" in out


# ----------------------------------------------------------------------------- xDLMS


def test_selective_access_with_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, GET_PROFILE_RANGE)
    assert code == 0
    assert "access-selection: selective-access-descriptor" in out
    assert "access-selector: 1" in out
    assert "access-parameters: structure[4]" in out
    assert "octet-string 00 00 01 00 00 FF  (OBIS 0.0.1.0.0.255)" in out
    assert "instance-id: 1.0.99.1.0.255" in out
    access = decode(h(GET_PROFILE_RANGE)).to_python()["items"][0]["access_selection"]
    assert access["access_selector"] == 1
    assert access["access_parameters"]["type"] == "structure"
    assert access["access_parameters"]["value"][3] == {"type": "array", "value": []}


def test_class_names_come_from_the_registry() -> None:
    from simulator.cosem.registry import get_class
    register = get_class(3)
    assert register is not None  # Register is declared in simulator/cosem/data_register.py
    request = GetRequestNormal(InvokeIdAndPriority(), CosemAttributeDescriptor(3, Obis("1.0.1.8.0.255"), 3))
    text = decode(request.to_bytes()).to_text()
    assert f"class-id: 3 ({register.name})" in text
    assert "attribute-id: 3 (scaler_unit)" in text
    doc = decode(request.to_bytes()).to_python()["items"][0]["cosem_attribute_descriptor"]
    assert (doc["class_name"], doc["attribute_name"]) == (register.name, "scaler_unit")


def test_unknown_class_has_no_name() -> None:
    request = GetRequestNormal(InvokeIdAndPriority(), CosemAttributeDescriptor(9999, Obis("0.0.0.0.0.0"), 5),
                               SelectiveAccess(2, Data(DataType.NULL_DATA)))
    doc = decode(request.to_bytes()).to_python()["items"][0]
    assert doc["cosem_attribute_descriptor"]["class_name"] is None
    lines = [line.strip() for line in decode(request.to_bytes()).to_text().splitlines()]
    assert "class-id: 9999" in lines and "attribute-id: 5" in lines
    assert "access-selector: 2" in lines and "access-parameters: null-data" in lines


def test_data_access_result(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, GET_RESPONSE_HARDWARE_FAULT)[1]
    assert "result: hardware-fault (1)" in out
    assert decode(h(GET_RESPONSE_HARDWARE_FAULT)).to_python()["items"][0]["result"] == "hardware-fault"


def test_short_name_read_request() -> None:
    """SN services go through the same generic description; short names show in hex."""
    from simulator.apdu.sn import BlockNumberAccess, ParameterizedAccess, ReadRequest, VariableName
    request = ReadRequest((VariableName(0xFA00), ParameterizedAccess(0x3412, 1, Data(DataType.UNSIGNED, 5)),
                           BlockNumberAccess(2)))
    lines = [line.strip() for line in decode(request.to_bytes()).to_text().splitlines()]
    assert lines[0] == "read-request"
    for line in ["[0]: variable-name", "variable-name: 0xFA00", "[1]: parameterized-access", "selector: 1",
                 "parameter: unsigned 5", "[2]: block-number-access", "block-number: 2"]:
        assert line in lines
    specs = decode(request.to_bytes()).to_python()["items"][0]["variable_access_specification"]
    assert specs[1] == {"kind": "parameterized-access", "variable_name": 0x3412, "selector": 1,
                        "parameter": {"type": "unsigned", "value": 5}}


# ----------------------------------------------------------------------------- ciphered


def test_glo_get_request_deciphered(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *GB_KEYS, "--system-title", GB_TITLE, GLO_GET_REQUEST_SC30)
    assert (code, err) == (0, "")
    for line in [
        "glo-get-request (deciphered)",
        "security-control: 30: suite 0, authenticated, encrypted",
        "system-title: 4D 4D 4D 00 00 BC 61 4E",
        "invocation-counter: 19088743 (0x01234567)",
        "ciphertext: 13 octets",
        "authentication-tag: 12 octets: 7D 82 5C 3B E4 A7 7C 3F CC 05 6B 6B",
        "apdu: get-request-normal",
        "instance-id: 0.0.1.0.0.255",
    ]:
        assert line in out
    assert_secret_absent(out, GB_EK, GB_AK)
    code, out, _ = run(capsys, "--json", *GB_KEYS, "--system-title", GB_TITLE, GLO_GET_REQUEST_SC30)
    doc = json.loads(out)["items"][0]
    assert doc["security_control"] == {"byte": 0x30, "suite": 0, "flags": ["authenticated", "encrypted"]}
    assert doc["invocation_counter"] == 0x01234567
    assert doc["apdu"]["cosem_attribute_descriptor"]["attribute_id"] == 2
    assert_secret_absent(out, GB_EK, GB_AK)


def test_glo_without_keys_or_title_is_shown_closed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, GLO_GET_REQUEST_SC30)
    assert code == 0 and "not deciphered: give --ek and --ak" in out
    code, out, _ = run(capsys, *GB_KEYS, GLO_GET_REQUEST_SC30)
    assert code == 0 and "give --system-title" in out
    assert_secret_absent(out, GB_EK, GB_AK)


def test_authentication_only_is_readable_without_keys() -> None:
    text = decode(h(GLO_GET_RESPONSE_SC10)).to_text()
    assert "glo-get-response (in clear, authentication tag not verified)" in text
    assert "octet-string 31 32 30 30 30 30 31 37" in text


def test_wrong_key_is_one_line_without_keys(capsys: pytest.CaptureFixture[str]) -> None:
    wrong = "0F0E0D0C0B0A09080706050403020100"
    code, out, err = run(capsys, "--ek", wrong, "--ak", GB_AK, "--system-title", GB_TITLE, GLO_GET_REQUEST_SC30)
    assert code == 1 and out == ""
    assert err == "cannot decode: at byte 7: cannot decipher glo-get-request: authentication tag mismatch\n"
    assert_secret_absent(err, wrong, GB_AK)


def test_general_glo_carries_its_title() -> None:
    options = DecodeOptions(h(DUMMY_KEY), h(DUMMY_KEY))
    doc = decode(h(GENERAL_GLO_NOTIFICATION), options).to_python()["items"][0]
    assert doc["system_title"] == "2F19229199164103"
    assert doc["apdu"]["kind"] == "data-notification"
    assert doc["apdu"]["notification_body"]["type"] == "octet-string"


def test_glo_initiate_request_hides_the_dedicated_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *GB_KEYS, "--system-title", GB_TITLE, GLO_INITIATE_REQUEST_GB)
    assert code == 0
    assert "apdu: initiate-request" in out and "dedicated-key: 16 octets (not shown)" in out
    assert_secret_absent(out, GB_DEDICATED_KEY, GB_EK, GB_AK)


def test_titles_and_dedicated_key_learned_from_the_association() -> None:
    """An AARQ names the client's title and carries the dedicated key; a later ded- request opens."""
    aarq = AARQ(application_context_name=ApplicationContextName.LOGICAL_NAME_WITH_CIPHERING,
                calling_ap_title=h(GB_TITLE), user_information=h(GLO_INITIATE_REQUEST_GB))
    get = GetRequestNormal(InvokeIdAndPriority(3), CosemAttributeDescriptor(8, Obis("0.0.1.0.0.255"), 2))
    ded = encrypt_apdu(get.to_bytes(), "ded", SecurityControl(0, True, True), h(GB_TITLE), 7,
                       h(GB_DEDICATED_KEY), h(GB_AK))
    stream = WrapperFrame(16, 1, aarq.to_bytes()).to_bytes() + WrapperFrame(16, 1, ded).to_bytes()
    result = decode(stream, DecodeOptions(h(GB_EK), h(GB_AK)))
    second = result.to_python()["items"][1]["apdu"]
    assert second["kind"] == "ded-get-request"
    assert second["summary"] == "deciphered with the dedicated key of the InitiateRequest"
    assert second["apdu"]["invoke_id_and_priority"]["invoke_id"] == 3
    text = result.to_text()
    assert "from the calling-AP-title of the AARQ" in text
    assert_secret_absent(text + json.dumps(result.to_python()), GB_DEDICATED_KEY, GB_EK, GB_AK)


# ----------------------------------------------------------------------------- input and errors


@pytest.mark.parametrize("argv, reason", [
    (["zz"], "at byte 0: 'z' is not a hex digit"),
    (["C0 01 C"], "at byte 2: odd number of hex digits"),
    (["FFFF"], "at byte 0: unknown xDLMS APDU tag 0xFF"),
    (["C001C1000800000100"], "at byte 3: truncated cosem-attribute-descriptor"),
    (["00010010000100"], "at byte 7: truncated wrapper header"),
    (["7E"], "at byte 1: truncated HDLC frame"),
])
def test_garbage_is_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], reason: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert err.startswith(f"cannot decode: {reason}")
    assert err.count("\n") == 1 and err.endswith("\n")


def test_hex_with_spaces_and_colons(capsys: pytest.CaptureFixture[str]) -> None:
    spaced = " ".join(h(GET_RESPONSE_HARDWARE_FAULT).hex(" ").split())
    assert run(capsys, *spaced.split())[0] == 0
    assert run(capsys, h(GET_RESPONSE_HARDWARE_FAULT).hex(":"))[0] == 0


def test_file_hex_binary_and_stdin(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    text_file = tmp_path / "frame.txt"
    text_file.write_text("7E A0 19 95 75 76 78 37 E6 E6 00 C0 01 81 00 08\n00 00 01 00 00 FF 02 00 65 D7 7E\n")
    assert "get-request-normal" in run(capsys, "-f", str(text_file))[1]
    binary = tmp_path / "frame.bin"
    binary.write_bytes(h(HDLC_GET_CLOCK_TIME_REQUEST))
    assert "get-request-normal" in run(capsys, "-f", str(binary))[1]
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert run(capsys, "-f", str(empty))[2] == "cannot decode: at byte 0: empty input\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(WRAPPER_AARQ.encode() + b"\n")))
    assert "AARQ" in run(capsys, "-")[1]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(h(WRAPPER_AARQ))))
    assert "AARQ" in run(capsys)[1]


@pytest.mark.parametrize("argv, message", [
    (["--ek", "00112233", "--ak", GB_AK, "C0"], "--ek must be 16 bytes"),
    (["--ek", "XYZ" * 10, "--ak", GB_AK, "C0"], "--ek must be hex"),
    (["--ek", GB_EK, "C0"], "--ek and --ak go together"),
    (["--system-title", "0102", "C0"], "--system-title must be 8 bytes"),
    (["-f", "/nonexistent/file.hex"], "No such file"),
])
def test_bad_options_exit_2_without_values(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err
    assert "00112233" not in err and "XYZ" not in err
    assert_secret_absent(err, GB_EK, GB_AK)


_GB_OPTIONS = DecodeOptions(h(GB_EK), h(GB_AK), h(GB_TITLE))
_ROBUST = [(HDLC_GET_CLOCK_TIME_REQUEST, None), (HDLC_UA_DEFAULTS, None), (WRAPPER_AARQ, None),
           (AARE_HLS_OK, None), (GET_PROFILE_RANGE, None), (GLO_GET_REQUEST_SC30, _GB_OPTIONS),
           (GLO_GET_REQUEST_SC30, None), (GENERAL_GLO_NOTIFICATION, DecodeOptions(h(DUMMY_KEY), h(DUMMY_KEY)))]


@pytest.mark.parametrize("hex_text, options", _ROBUST)
def test_truncations_and_bit_flips_decode_or_fail_cleanly(hex_text: str, options: DecodeOptions | None) -> None:
    """Every truncation and single-bit flip decodes or raises DecodeError (with keys, the
    security layer's errors must come out as DecodeError too)."""
    data = h(hex_text)
    decode(data, options)
    variants = [data[:n] for n in range(len(data))]
    variants += [data[:i] + bytes((data[i] ^ (1 << bit),)) + data[i + 1:] for i in range(len(data)) for bit in range(8)]
    for variant in variants:
        try:
            result = decode(variant, options)
        except DecodeError as error:
            assert error.offset is not None and 0 <= error.offset <= len(variant)
        else:
            result.to_text()
            json.dumps(result.to_python())


@given(st.sampled_from([b"", b"\x7E", b"\x00\x01", b"\x7E\xA0", b"\x60", b"\xC8"]), st.binary(max_size=60))
@settings(max_examples=300)
def test_any_bytes_decode_or_fail_cleanly(head: bytes, tail: bytes) -> None:
    try:
        result = decode(head + tail)
    except DecodeError as error:
        assert error.offset is not None and 0 <= error.offset <= len(head + tail)
    else:
        json.dumps(result.to_python())
        result.to_text()


# ----------------------------------------------------------------------------- the command


def test_cli_subprocess_decodes_and_keeps_keys_secret() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "decode", *GB_KEYS, "--system-title", GB_TITLE, GLO_GET_REQUEST_SC30],
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "glo-get-request (deciphered)" in proc.stdout and "apdu: get-request-normal" in proc.stdout
    assert_secret_absent(proc.stdout + proc.stderr, GB_EK, GB_AK)


def test_cli_main_decodes(capsys: pytest.CaptureFixture[str]) -> None:
    from simulator.cli import main
    assert main(["decode", "--json", GET_RESPONSE_HARDWARE_FAULT]) == 0
    assert json.loads(capsys.readouterr().out)["items"][0]["result"] == "hardware-fault"


# ----------------------------------------------------------------------------- hex as logs write it

_PLAIN_REQUEST = " ".join(h(HDLC_GET_CLOCK_TIME_REQUEST).hex(" ").upper().split())


@pytest.mark.parametrize("line", [
    "0x" + HDLC_GET_CLOCK_TIME_REQUEST,
    " ".join("0x" + b for b in _PLAIN_REQUEST.split()),
    ", ".join("0x" + b for b in _PLAIN_REQUEST.split()),  # a C array
    "TX: 13:28:31\t" + _PLAIN_REQUEST,  # gurux-dlms samples' trace: direction, time, hex
    "2024-05-01 10:00:00.123 TX: " + _PLAIN_REQUEST,
    "[2024-05-01T10:00:00.123+02:00] >> " + h(HDLC_GET_CLOCK_TIME_REQUEST).hex(":"),
    "10:00:00,5 RX " + HDLC_GET_CLOCK_TIME_REQUEST.lower(),
])
def test_hex_as_logs_write_it(capsys: pytest.CaptureFixture[str], line: str) -> None:
    expected = run(capsys, HDLC_GET_CLOCK_TIME_REQUEST)[1]
    assert run(capsys, line) == (0, expected, "")
    assert run(capsys, *line.split()) == (0, expected, "")  # unquoted: one argument per word


def test_a_log_excerpt_from_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    expected = run(capsys, HDLC_GET_CLOCK_TIME_REQUEST)[1]
    words = _PLAIN_REQUEST.split()
    log = tmp_path / "trace.log"
    log.write_text(f"TX: 13:28:31\t{' '.join(words[:14])}\n13:28:31 {' '.join(words[14:])}\n")
    assert run(capsys, "-f", str(log)) == (0, expected, "")


def test_a_time_is_not_taken_for_hex_inside_the_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    """Colon-separated bytes that look like a time at the start stay bytes: no space after them."""
    colons = h(WRAPPER_AARQ).hex(":")
    assert colons.startswith("00:01:00:10")
    assert "AARQ" in run(capsys, colons)[1]


# Public vector: the result of HDLC_GET_CLOCK_TIME_RESPONSE above, a date-time octet string.
CLOCK_TIME_VALUE = "090C07D20C04030A060BFF007800"


def test_a_bare_data_value(capsys: pytest.CaptureFixture[str]) -> None:
    value = Data(DataType.STRUCTURE, [Data(DataType.OCTET_STRING, Obis("1.0.1.8.0.255").to_bytes()),
                                      Data(DataType.OCTET_STRING, h(CLOCK_TIME_VALUE)[2:]),
                                      Data(DataType.LONG_UNSIGNED, 900)]).to_bytes()
    code, out, err = run(capsys, value.hex())
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "data (structure)"
    assert "(OBIS 1.0.1.8.0.255)" in out and "long-unsigned 900" in out
    code, out, _ = run(capsys, "--json", value.hex())
    result = json.loads(out)
    assert result["input"] == "data"
    first, stamp, number = result["items"][0]["value"]["value"]
    assert first == {"type": "octet-string", "value": "0100010800FF", "obis": "1.0.1.8.0.255"}
    assert stamp["date_time"].startswith("2002-12-04 10:06:11") and number == {"type": "long-unsigned", "value": 900}
    assert "(date-time 2002-12-04 10:06:11" in run(capsys, CLOCK_TIME_VALUE)[1]


def test_json_names_obis_codes_and_dates_in_apdus(capsys: pytest.CaptureFixture[str]) -> None:
    """A GET answer's value in JSON carries what the text shows after it."""
    code, text, _ = run(capsys, HDLC_GET_CLOCK_TIME_RESPONSE)
    stamp = text.split("(date-time ")[1].split(")")[0]
    code, out, _ = run(capsys, "--json", HDLC_GET_CLOCK_TIME_RESPONSE)
    (frame,) = json.loads(out)["items"]
    assert frame["apdu"]["result"]["date_time"] == stamp
