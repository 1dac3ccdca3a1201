"""ACTION request/response codecs: public vectors, round trips, fault tolerance, interop."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.action import (
    ActionRequestNextPblock, ActionRequestNormal, ActionRequestWithFirstPblock,
    ActionRequestWithList, ActionRequestWithListAndFirstPblock, ActionRequestWithPblock,
    ActionResponseNextPblock, ActionResponseNormal, ActionResponseWithList,
    ActionResponseWithOptionalData, ActionResponseWithPblock,
)
from simulator.apdu.common import (
    ActionResult, CosemMethodDescriptor, DataAccessResult, DataBlockSA, EncodedData,
    InvokeIdAndPriority,
)
from simulator.apdu.xdlms import decode_xdlms
from simulator.axdr import Data, DataType, Obis
from simulator.errors import DecodeError, EncodeError
from tests.apdu.xdlms_support import (
    action_results, assert_apdu_roundtrip, assert_gurux_data, assert_gurux_descriptor,
    block_numbers, datablocks, get_data_results, gurux_apdus, gurux_client, gurux_value, gurux_xml,
    invokes, lists, method_descriptors, small_data, vector_tests,
)

C0 = InvokeIdAndPriority(0, confirmed=True, high_priority=True)
C1 = InvokeIdAndPriority(1, confirmed=True, high_priority=True)
ASSOCIATION = Obis("0.0.40.0.0.255")

# --------------------------------------------------------------------------- vectors

# source: https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_xdlms/test_action.py
ACTION_REPLY_TO_HLS = bytes.fromhex("C301C0000F0000280000FF010109111000001A90E6D2221FA2FD85EED61ACC22")
ACTION_WITHOUT_PARAMETERS = bytes.fromhex("C301C0000F0000280000FF0100")
ACTION_RESPONSE_OTHER_REASON = bytes.fromhex("C701C0000101FA")
ACTION_RESPONSE_SUCCESS = bytes.fromhex("C701C00000")
ACTION_RESPONSE_WITH_DATA = bytes.fromhex("C701C000010009111000001AFDE8857B728A3499106AA665D1")

# source: https://github.com/gvtret/gosem/blob/07323ece60b067508d6ea0347459f2fb5d97d7e6/pkg/dlmsclient/action_test.go
ACTION_REMOTE_DISCONNECT = bytes.fromhex("C301C10046000060030AFF01010F00")

# Plaintext of a glo-action-request of a real meter (HLS pass 3).
# source: https://github.com/milanbella/gocosem/blob/02b8a72f67613192aba85cd284e0cdb02a34378c/doc/electronica/trace-authentication-and-encryption.txt
ACTION_HLS_PASS_3_TRACE = bytes.fromhex("C301C1000F0000280000FF01010911100000005AF3482A20E9C74BD53ED48319")

VECTORS = [
    ("reply to hls", ACTION_REPLY_TO_HLS, ActionRequestNormal),
    ("without parameters", ACTION_WITHOUT_PARAMETERS, ActionRequestNormal),
    ("remote disconnect", ACTION_REMOTE_DISCONNECT, ActionRequestNormal),
    ("hls pass 3 trace", ACTION_HLS_PASS_3_TRACE, ActionRequestNormal),
    ("response other reason", ACTION_RESPONSE_OTHER_REASON, ActionResponseNormal),
    ("response success", ACTION_RESPONSE_SUCCESS, ActionResponseNormal),
    ("response with data", ACTION_RESPONSE_WITH_DATA, ActionResponseNormal),
]


test_vector_roundtrip, test_vector_truncations_and_bit_flips = vector_tests(VECTORS)


def test_vector_fields() -> None:
    hls = ActionRequestNormal.from_bytes(ACTION_REPLY_TO_HLS)
    assert hls.invoke == C0
    assert hls.method == CosemMethodDescriptor(15, ASSOCIATION, 1)
    assert hls.parameters == Data(DataType.OCTET_STRING, bytes.fromhex("1000001A90E6D2221FA2FD85EED61ACC22"))
    assert ActionRequestNormal.from_bytes(ACTION_WITHOUT_PARAMETERS) == ActionRequestNormal(
        C0, CosemMethodDescriptor(15, ASSOCIATION, 1), None)
    disconnect = ActionRequestNormal.from_bytes(ACTION_REMOTE_DISCONNECT)
    assert disconnect == ActionRequestNormal(C1, CosemMethodDescriptor(70, Obis("0.0.96.3.10.255"), 1),
                                             Data(DataType.INTEGER, 0))
    trace = ActionRequestNormal.from_bytes(ACTION_HLS_PASS_3_TRACE)
    assert trace.parameters.value[:5] == bytes.fromhex("100000005A")  # SC, client invocation counter
    assert ActionResponseNormal.from_bytes(ACTION_RESPONSE_OTHER_REASON) == ActionResponseNormal(
        C0, ActionResult.SUCCESS, DataAccessResult.OTHER_REASON)
    assert ActionResponseNormal.from_bytes(ACTION_RESPONSE_SUCCESS) == ActionResponseNormal(C0, ActionResult.SUCCESS)
    with_data = ActionResponseNormal.from_bytes(ACTION_RESPONSE_WITH_DATA)
    assert with_data.return_parameters == Data(DataType.OCTET_STRING,
                                               bytes.fromhex("1000001AFDE8857B728A3499106AA665D1"))


def test_block_and_list_layouts() -> None:
    m = CosemMethodDescriptor(70, Obis("0.0.96.3.10.255"), 2)
    block = DataBlockSA(False, 1, b"\xAA\xBB")
    assert ActionRequestNextPblock(C1, 2).to_bytes() == bytes.fromhex("C302C100000002")
    assert ActionRequestWithList(C1, (m,), (Data(DataType.INTEGER, 0),)).to_bytes() == bytes.fromhex(
        "C303C1" "01" "0046000060030AFF02" "01" "0F00")
    assert ActionRequestWithFirstPblock(C1, m, block).to_bytes() == bytes.fromhex(
        "C304C1" "0046000060030AFF02" "00" "00000001" "02AABB")
    assert ActionRequestWithListAndFirstPblock(C1, (m, m), block).to_bytes() == bytes.fromhex(
        "C305C1" "02" "0046000060030AFF02" "0046000060030AFF02" "00" "00000001" "02AABB")
    assert ActionRequestWithPblock(C1, DataBlockSA(True, 2, b"")).to_bytes() == bytes.fromhex("C306C1010000000200")
    assert ActionResponseWithPblock(C1, block).to_bytes() == bytes.fromhex("C702C1" "00" "00000001" "02AABB")
    listed = ActionResponseWithList(C1, (ActionResponseWithOptionalData(ActionResult.SUCCESS),
                                         ActionResponseWithOptionalData(ActionResult.OBJECT_UNDEFINED,
                                                                        Data(DataType.UNSIGNED, 1))))
    assert listed.to_bytes() == bytes.fromhex("C703C1" "02" "0000" "04" "01" "00" "1101")
    assert ActionResponseNextPblock(C1, 7).to_bytes() == bytes.fromhex("C704C100000007")


def test_encoded_data_parameters_and_returns() -> None:
    value = Data(DataType.OCTET_STRING, b"\x01\x02")
    m = CosemMethodDescriptor(15, ASSOCIATION, 1)
    assert ActionRequestNormal(C1, m, EncodedData(value.to_bytes())).to_bytes() == \
        ActionRequestNormal(C1, m, value).to_bytes()
    assert ActionResponseNormal(C1, ActionResult.SUCCESS, EncodedData(value.to_bytes())).to_bytes() == \
        ActionResponseNormal(C1, ActionResult.SUCCESS, value).to_bytes()


@pytest.mark.parametrize("apdu", [
    ActionResponseNormal(C1, 5),  # type: ignore[arg-type]  (no action-result 5)
    ActionRequestNormal(C1, CosemMethodDescriptor(1, ASSOCIATION, 200)),
    ActionRequestNextPblock(C1, 1 << 32),
    ActionResponseWithList(C1, (ActionResponseWithOptionalData(ActionResult.SUCCESS, "x"),)),  # type: ignore[arg-type]
])
def test_unencodable_values_raise_encode_error(apdu: object) -> None:
    with pytest.raises(EncodeError):
        apdu.to_bytes()  # type: ignore[attr-defined]


@pytest.mark.parametrize("hex_", [
    "C3", "C307C1", "C300C1", "C7", "C705C1",
    "C301C0000F0000280000FF0102",  # parameter flag 2
    "C301C0000F0000280000FF01",  # parameter flag missing
    "C701C00500",  # undefined action-result 5
    "C701C0000102",  # Get-Data-Result choice 2
    "C701C0000101",  # data-access-result missing
    "C703C105",  # response count larger than the rest
    "C701C0000000",  # trailing byte
])
def test_malformed_apdus_raise_decode_error(hex_: str) -> None:
    with pytest.raises(DecodeError):
        decode_xdlms(bytes.fromhex(hex_))


# --------------------------------------------------------------------------- hypothesis round trips

@settings(max_examples=50, deadline=None)
@given(invokes, method_descriptors, st.one_of(st.none(), small_data))
def test_action_request_normal_roundtrip(invoke, method, params) -> None:
    assert_apdu_roundtrip(ActionRequestNormal(invoke, method, params))


@settings(max_examples=30, deadline=None)
@given(invokes, lists(method_descriptors), lists(small_data))
def test_action_request_with_list_roundtrip(invoke, methods, params) -> None:
    assert_apdu_roundtrip(ActionRequestWithList(invoke, methods, params))


@settings(max_examples=30, deadline=None)
@given(invokes, method_descriptors, lists(method_descriptors), datablocks, block_numbers)
def test_action_block_requests_roundtrip(invoke, method, methods, block, number) -> None:
    assert_apdu_roundtrip(ActionRequestNextPblock(invoke, number))
    assert_apdu_roundtrip(ActionRequestWithFirstPblock(invoke, method, block))
    assert_apdu_roundtrip(ActionRequestWithListAndFirstPblock(invoke, methods, block))
    assert_apdu_roundtrip(ActionRequestWithPblock(invoke, block))


optional_data = st.builds(ActionResponseWithOptionalData, action_results, st.one_of(st.none(), get_data_results))


@settings(max_examples=50, deadline=None)
@given(invokes, optional_data, lists(optional_data), datablocks, block_numbers)
def test_action_responses_roundtrip(invoke, single, many, block, number) -> None:
    assert_apdu_roundtrip(ActionResponseNormal(invoke, single.result, single.return_parameters))
    assert_apdu_roundtrip(ActionResponseWithList(invoke, many))
    assert_apdu_roundtrip(ActionResponseWithPblock(invoke, block))
    assert_apdu_roundtrip(ActionResponseNextPblock(invoke, number))


# --------------------------------------------------------------------------- interop: gurux-dlms
# gurux-dlms 1.0.203 translates only ACTION-Request-Normal and the normal / next-pblock responses.

def test_gurux_reads_our_action_apdus() -> None:
    m = CosemMethodDescriptor(70, Obis("0.0.96.3.10.255"), 2)
    params = Data(DataType.STRUCTURE, (Data(DataType.INTEGER, -5), Data(DataType.VISIBLE_STRING, "on")))
    request = gurux_xml(ActionRequestNormal(C1, m, params).to_bytes())
    assert gurux_value(request, "InvokeIdAndPriority") == 0xC1
    assert_gurux_descriptor(request, 70, m.instance_id, 2, "MethodId")
    shown = request.find(".//MethodInvocationParameters")
    assert shown is not None
    assert_gurux_data(shown[0], params)
    bare = gurux_xml(ActionRequestNormal(C1, m).to_bytes())
    assert bare.find(".//MethodInvocationParameters") is None

    response = gurux_xml(ActionResponseNormal(C1, ActionResult.SUCCESS, Data(DataType.UNSIGNED, 3)).to_bytes())
    assert response.find(".//Result").get("Value") == "Success"
    assert_gurux_data(response.find(".//ReturnParameters/Data")[0], Data(DataType.UNSIGNED, 3))
    failed = gurux_xml(ActionResponseNormal(C1, ActionResult.TYPE_UNMATCHED).to_bytes())
    assert failed.find(".//Result").get("Value") == "UnmatchedType"
    assert gurux_value(gurux_xml(ActionResponseNextPblock(C1, 3).to_bytes()), "BlockNumber") == 3


def test_we_read_gurux_action_requests() -> None:
    from gurux_dlms.enums import DataType as GuruxType
    from gurux_dlms.objects import GXDLMSDisconnectControl, GXDLMSRegister

    client = gurux_client()
    [reset] = gurux_apdus(client.method(GXDLMSRegister("1.0.1.8.0.255"), 1, 0, GuruxType.INT8))
    assert decode_xdlms(reset) == ActionRequestNormal(C1, CosemMethodDescriptor(3, Obis("1.0.1.8.0.255"), 1),
                                                      Data(DataType.INTEGER, 0))
    [octets] = gurux_apdus(client.method(GXDLMSRegister("1.0.2.8.0.255"), 2, b"\x01\x02\x03", GuruxType.OCTET_STRING))
    apdu = decode_xdlms(octets)
    assert isinstance(apdu, ActionRequestNormal)
    assert apdu.method == CosemMethodDescriptor(3, Obis("1.0.2.8.0.255"), 2)
    assert apdu.parameters == Data(DataType.OCTET_STRING, b"\x01\x02\x03")
    [disconnect] = gurux_apdus(GXDLMSDisconnectControl("0.0.96.3.10.255").remoteDisconnect(client))
    assert decode_xdlms(disconnect) == ActionRequestNormal(C1, CosemMethodDescriptor(70, Obis("0.0.96.3.10.255"), 1),
                                                           Data(DataType.INTEGER, 0))


# --------------------------------------------------------------------------- interop: dlms-cosem

def test_dlms_cosem_action_both_directions() -> None:
    from dlms_cosem import cosem, enumerations
    from dlms_cosem.protocol import xdlms

    theirs = xdlms.ActionRequestNormal(
        cosem_method=cosem.CosemMethod(enumerations.CosemInterface.ASSOCIATION_LN, cosem.Obis(0, 0, 40, 0, 0, 255), 1),
        data=bytes.fromhex("0903010203"),
        invoke_id_and_priority=xdlms.InvokeIdAndPriority(invoke_id=3, confirmed=True, high_priority=True))
    assert decode_xdlms(theirs.to_bytes()) == ActionRequestNormal(
        InvokeIdAndPriority(3, True, True), CosemMethodDescriptor(15, ASSOCIATION, 1),
        Data(DataType.OCTET_STRING, b"\x01\x02\x03"))

    back = xdlms.ActionRequestFactory.from_bytes(ActionRequestNormal(
        C1, CosemMethodDescriptor(70, Obis("0.0.96.3.10.255"), 2), Data(DataType.INTEGER, 0)).to_bytes())
    assert back.cosem_method.interface == 70 and back.cosem_method.method == 2
    assert back.data == bytes.fromhex("0F00")

    ok = xdlms.ActionResponseFactory.from_bytes(ActionResponseNormal(C1, ActionResult.SUCCESS).to_bytes())
    assert isinstance(ok, xdlms.ActionResponseNormal) and ok.status == enumerations.ActionResultStatus.SUCCESS
    with_data = xdlms.ActionResponseFactory.from_bytes(
        ActionResponseNormal(C1, ActionResult.SUCCESS, Data(DataType.OCTET_STRING, b"\xAB")).to_bytes())
    assert isinstance(with_data, xdlms.ActionResponseNormalWithData) and with_data.data == bytes.fromhex("0901AB")
    with_error = xdlms.ActionResponseFactory.from_bytes(
        ActionResponseNormal(C1, ActionResult.SUCCESS, DataAccessResult.OTHER_REASON).to_bytes())
    assert isinstance(with_error, xdlms.ActionResponseNormalWithError)
    assert with_error.error == enumerations.DataAccessResult.OTHER_REASON

    theirs_resp = xdlms.ActionResponseNormalWithData(status=enumerations.ActionResultStatus.SUCCESS,
                                                      data=bytes.fromhex("1101"))
    ours = decode_xdlms(theirs_resp.to_bytes())
    assert isinstance(ours, ActionResponseNormal)
    assert (ours.result, ours.return_parameters) == (ActionResult.SUCCESS, Data(DataType.UNSIGNED, 1))
