"""SET request/response codecs: public vectors, round trips, fault tolerance, interop."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from simulator.apdu.common import (
    CosemAttributeDescriptor, CosemAttributeDescriptorWithSelection, DataAccessResult,
    DataBlockSA, EncodedData, InvokeIdAndPriority,
)
from simulator.apdu.set import (
    SetRequestNormal, SetRequestWithDatablock, SetRequestWithFirstDatablock, SetRequestWithList,
    SetRequestWithListAndFirstDatablock, SetResponseDatablock, SetResponseLastDatablock,
    SetResponseLastDatablockWithList, SetResponseNormal, SetResponseWithList,
)
from simulator.apdu.xdlms import decode_xdlms
from simulator.axdr import CosemDateTime, Data, DataType, Obis
from simulator.errors import DecodeError, EncodeError
from tests.apdu.xdlms_support import (
    access_results, assert_apdu_roundtrip, assert_gurux_data, assert_gurux_descriptor,
    attribute_descriptors, block_numbers, datablocks, descriptors_with_selection, gurux_apdus,
    gurux_client, gurux_value, gurux_xml, hdlc_apdu, invokes, lists, selective_accesses, small_data,
    vector_tests,
)

C1 = InvokeIdAndPriority(1, confirmed=True, high_priority=True)
CLOCK = Obis("0.0.1.0.0.255")

# --------------------------------------------------------------------------- vectors

# source: https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/studio/docs/Are%20examples%20for%20information%20exchange%20available.htm
# (archived DLMS UA FAQ "Are examples for information exchange available?", examples by Gyozo Kmethy)
HDLC_SET_CLOCK_TIME_ZONE_REQUEST = bytes.fromhex("7EA01C9575DC7F53E6E600C1018100080000010000FF030010007801177E")
HDLC_SET_RESPONSE_SUCCESS = bytes.fromhex("7EA0107595B85101E6E700C501810036CF7E")

# source: https://github.com/gvtret/gosem/blob/07323ece60b067508d6ea0347459f2fb5d97d7e6/pkg/dlmsclient/set_test.go
SET_REGISTER_10000 = bytes.fromhex("C101C1000300015E230BFF02000600002710")
SET_WITH_FIRST_DATABLOCK = bytes.fromhex(
    "C102C1000300015E230BFF020000000000016B020A0928000102030405060708090001020304050607080900"
    "0102030405060708090001020304050607080909280001020304050607080900010203040506070809000102"
    "0304050607080900010203040506070809092800010203040506070809000102030405060708")
SET_RESPONSE_LAST_DATABLOCK_3 = bytes.fromhex("C503C10000000003")
SET_RESPONSE_DATABLOCK_1 = bytes.fromhex("C502C100000001")

# source: https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_xdlms/test_set.py
SET_CLOCK_TIME = bytes.fromhex("C101C100080000010000FF0200090C07E50118FF0E303950FFC400")
SET_RESPONSE_SUCCESS = bytes.fromhex("C501C100")

VECTORS = [
    ("hdlc set time zone", hdlc_apdu(HDLC_SET_CLOCK_TIME_ZONE_REQUEST), SetRequestNormal),
    ("hdlc set response", hdlc_apdu(HDLC_SET_RESPONSE_SUCCESS), SetResponseNormal),
    ("set register", SET_REGISTER_10000, SetRequestNormal),
    ("set clock time", SET_CLOCK_TIME, SetRequestNormal),
    ("set first datablock", SET_WITH_FIRST_DATABLOCK, SetRequestWithFirstDatablock),
    ("response success", SET_RESPONSE_SUCCESS, SetResponseNormal),
    ("response last datablock", SET_RESPONSE_LAST_DATABLOCK_3, SetResponseLastDatablock),
    ("response datablock", SET_RESPONSE_DATABLOCK_1, SetResponseDatablock),
]


test_vector_roundtrip, test_vector_truncations_and_bit_flips = vector_tests(VECTORS)


def test_vector_fields() -> None:
    tz = SetRequestNormal.from_bytes(hdlc_apdu(HDLC_SET_CLOCK_TIME_ZONE_REQUEST))
    assert tz == SetRequestNormal(InvokeIdAndPriority(1, False, True), CosemAttributeDescriptor(8, CLOCK, 3),
                                  None, Data(DataType.LONG, 120))
    assert SetResponseNormal.from_bytes(hdlc_apdu(HDLC_SET_RESPONSE_SUCCESS)).result is DataAccessResult.SUCCESS
    reg = SetRequestNormal.from_bytes(SET_REGISTER_10000)
    assert reg.descriptor == CosemAttributeDescriptor(3, Obis("0.1.94.35.11.255"), 2)
    assert reg.value == Data(DataType.DOUBLE_LONG_UNSIGNED, 10000)
    clock = SetRequestNormal.from_bytes(SET_CLOCK_TIME)
    dt = CosemDateTime.from_bytes(clock.value.value)
    assert (dt.year, dt.month, dt.day, dt.day_of_week, dt.hour, dt.minute, dt.second, dt.hundredths,
            dt.deviation, dt.clock_status) == (2021, 1, 24, None, 14, 48, 57, 80, -60, 0)
    first = SetRequestWithFirstDatablock.from_bytes(SET_WITH_FIRST_DATABLOCK)
    assert first.access is None
    assert (first.datablock.last_block, first.datablock.block_number, len(first.datablock.raw_data)) == (False, 1, 107)
    assert first.datablock.raw_data[:4] == bytes.fromhex("020A0928")  # structure(10), octet-string(40)...
    assert SetResponseNormal.from_bytes(SET_RESPONSE_SUCCESS) == SetResponseNormal(C1, DataAccessResult.SUCCESS)
    assert SetResponseLastDatablock.from_bytes(SET_RESPONSE_LAST_DATABLOCK_3) == SetResponseLastDatablock(
        C1, DataAccessResult.SUCCESS, 3)
    assert SetResponseDatablock.from_bytes(SET_RESPONSE_DATABLOCK_1) == SetResponseDatablock(C1, 1)


def test_list_layouts() -> None:
    items = (CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(1, Obis("0.0.96.1.0.255"), 2)),)
    apdu = SetRequestWithList(C1, items, (Data(DataType.UNSIGNED, 5),))
    assert apdu.to_bytes() == bytes.fromhex("C104C1" "01" "0001" "0000600100FF" "02" "00" "01" "1105")
    first = SetRequestWithListAndFirstDatablock(C1, items, DataBlockSA(False, 1, b"\x11"))
    assert first.to_bytes() == bytes.fromhex("C105C1" "01" "00010000600100FF0200" "00" "00000001" "01" "11")
    results = SetResponseLastDatablockWithList(C1, (DataAccessResult.SUCCESS, DataAccessResult.TYPE_UNMATCHED), 9)
    assert results.to_bytes() == bytes.fromhex("C504C1" "02" "00" "0C" "00000009")
    assert SetResponseWithList(C1, (DataAccessResult.OTHER_REASON,)).to_bytes() == bytes.fromhex("C505C101FA")
    # The two SEQUENCE OFs are independent on the wire: a count mismatch still decodes.
    mismatched = SetRequestWithList(C1, items, ())
    assert decode_xdlms(mismatched.to_bytes()) == mismatched


def test_encoded_data_value() -> None:
    value = Data(DataType.LONG64, -2)
    plain = SetRequestNormal(C1, CosemAttributeDescriptor(1, CLOCK, 2), None, value)
    spliced = SetRequestNormal(C1, CosemAttributeDescriptor(1, CLOCK, 2), None, EncodedData(value.to_bytes()))
    assert spliced.to_bytes() == plain.to_bytes()
    assert SetRequestNormal.from_bytes(spliced.to_bytes()) == plain


@pytest.mark.parametrize("apdu", [
    SetResponseNormal(C1, 5),  # type: ignore[arg-type]
    SetResponseWithList(C1, (DataAccessResult.SUCCESS, 300)),  # type: ignore[arg-type]
    SetResponseDatablock(C1, 1 << 32),
    SetRequestWithDatablock(C1, DataBlockSA(True, -1, b"")),
    SetRequestWithDatablock(C1, DataBlockSA(True, 1, "text")),  # type: ignore[arg-type]
    SetRequestNormal(C1, CosemAttributeDescriptor(1, CLOCK, 2), None, 5),  # type: ignore[arg-type]
])
def test_unencodable_values_raise_encode_error(apdu: object) -> None:
    with pytest.raises(EncodeError):
        apdu.to_bytes()  # type: ignore[attr-defined]


@pytest.mark.parametrize("hex_", [
    "C1", "C106C1", "C100C1", "C5", "C506C1",
    "C101C100080000010000FF0300",  # value missing
    "C101C100080000010000FF030210",  # access flag 2
    "C501C107",  # undefined data-access-result
    "C503C100000000",  # truncated block number
    "C504C1030000",  # result count larger than the rest
    "C103C1010000000105AA",  # raw-data shorter than its length
    "C501C10000",  # trailing byte
])
def test_malformed_apdus_raise_decode_error(hex_: str) -> None:
    with pytest.raises(DecodeError):
        decode_xdlms(bytes.fromhex(hex_))


# --------------------------------------------------------------------------- hypothesis round trips

@settings(max_examples=50, deadline=None)
@given(invokes, attribute_descriptors, selective_accesses, small_data)
def test_set_request_normal_roundtrip(invoke, descriptor, access, value) -> None:
    assert_apdu_roundtrip(SetRequestNormal(invoke, descriptor, access, value))


@settings(max_examples=30, deadline=None)
@given(invokes, attribute_descriptors, selective_accesses, datablocks)
def test_set_request_with_first_datablock_roundtrip(invoke, descriptor, access, block) -> None:
    assert_apdu_roundtrip(SetRequestWithFirstDatablock(invoke, descriptor, access, block))


@settings(max_examples=30, deadline=None)
@given(invokes, datablocks)
def test_set_request_with_datablock_roundtrip(invoke, block) -> None:
    assert_apdu_roundtrip(SetRequestWithDatablock(invoke, block))


@settings(max_examples=30, deadline=None)
@given(invokes, lists(descriptors_with_selection), lists(small_data))
def test_set_request_with_list_roundtrip(invoke, items, values) -> None:
    assert_apdu_roundtrip(SetRequestWithList(invoke, items, values))


@settings(max_examples=30, deadline=None)
@given(invokes, lists(descriptors_with_selection), datablocks)
def test_set_request_with_list_and_first_datablock_roundtrip(invoke, items, block) -> None:
    assert_apdu_roundtrip(SetRequestWithListAndFirstDatablock(invoke, items, block))


@settings(max_examples=30, deadline=None)
@given(invokes, access_results, block_numbers, lists(access_results, 8))
def test_set_responses_roundtrip(invoke, result, number, results) -> None:
    assert_apdu_roundtrip(SetResponseNormal(invoke, result))
    assert_apdu_roundtrip(SetResponseDatablock(invoke, number))
    assert_apdu_roundtrip(SetResponseLastDatablock(invoke, result, number))
    assert_apdu_roundtrip(SetResponseLastDatablockWithList(invoke, results, number))
    assert_apdu_roundtrip(SetResponseWithList(invoke, results))


# --------------------------------------------------------------------------- interop: gurux-dlms

def test_gurux_reads_our_set_requests() -> None:
    value = Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, b"\x00\x01"), Data(DataType.DOUBLE_LONG, -7)))
    descriptor = CosemAttributeDescriptor(3, Obis("1.0.1.8.0.255"), 2)
    normal = gurux_xml(SetRequestNormal(C1, descriptor, None, value).to_bytes())
    assert_gurux_descriptor(normal, 3, Obis("1.0.1.8.0.255"), 2, "AttributeId")
    shown = normal.find(".//Value")
    assert shown is not None
    assert_gurux_data(shown[0], value)

    items = (CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(1, Obis("0.0.96.1.0.255"), 2)),
             CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(8, CLOCK, 3)))
    values = (Data(DataType.UNSIGNED, 5), Data(DataType.LONG, -3))
    listed = gurux_xml(SetRequestWithList(C1, items, values).to_bytes())
    for elem, item in zip(listed.findall(".//AttributeDescriptor"), items, strict=True):
        d = item.descriptor
        assert_gurux_descriptor(elem, d.class_id, d.instance_id, d.attribute_id, "AttributeId")
    value_list = listed.find(".//ValueList")
    assert value_list is not None
    for elem, v in zip(value_list, values, strict=True):
        assert_gurux_data(elem, v)

    block = gurux_xml(SetRequestWithDatablock(C1, DataBlockSA(True, 2, b"\x01\x02")).to_bytes())
    assert gurux_value(block, "LastBlock") == 1 and gurux_value(block, "BlockNumber") == 2
    assert block.find(".//RawData").get("Value") == "0102"


def test_gurux_reads_our_set_responses() -> None:
    results = (DataAccessResult.SUCCESS, DataAccessResult.READ_WRITE_DENIED)
    listed = gurux_xml(SetResponseWithList(C1, results).to_bytes())
    assert [e.get("Value") for e in listed.findall(".//DataAccessResult")] == ["Success", "ReadWriteDenied"]
    last = gurux_xml(SetResponseLastDatablock(C1, DataAccessResult.SUCCESS, 3).to_bytes())
    assert gurux_value(last, "BlockNumber") == 3
    assert gurux_value(gurux_xml(SetResponseDatablock(C1, 4).to_bytes()), "BlockNumber") == 4


def test_we_read_gurux_set_requests() -> None:
    from gurux_dlms.enums import Conformance
    from gurux_dlms.enums import DataType as GuruxType
    from gurux_dlms.objects import GXDLMSData

    client = gurux_client()
    obj = GXDLMSData("0.0.96.1.0.255")
    obj.value = 513
    obj.setDataType(2, GuruxType.UINT16)
    [normal] = gurux_apdus(client.write(obj, 2))
    apdu = decode_xdlms(normal)
    assert apdu == SetRequestNormal(C1, CosemAttributeDescriptor(1, Obis("0.0.96.1.0.255"), 2), None,
                                    Data(DataType.LONG_UNSIGNED, 513))

    # A value larger than the PDU size goes out in blocks; the blocks reassemble to the value.
    client.negotiatedConformance |= Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE
    client.settings.maxPduSize = 64
    obj.value = bytes(range(150))
    obj.setDataType(2, GuruxType.OCTET_STRING)
    blocks = [decode_xdlms(m) for m in gurux_apdus(client.write(obj, 2))]
    assert isinstance(blocks[0], SetRequestWithFirstDatablock)
    assert blocks[0].descriptor == CosemAttributeDescriptor(1, Obis("0.0.96.1.0.255"), 2)
    assert all(isinstance(b, SetRequestWithDatablock) for b in blocks[1:])
    chunks = [blocks[0].datablock] + [b.datablock for b in blocks[1:]]  # type: ignore[attr-defined]
    assert [c.block_number for c in chunks] == list(range(1, len(chunks) + 1))
    assert [c.last_block for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert Data.from_bytes(b"".join(c.raw_data for c in chunks)) == Data(DataType.OCTET_STRING, bytes(range(150)))


# --------------------------------------------------------------------------- interop: dlms-cosem

def test_dlms_cosem_set_both_directions() -> None:
    from dlms_cosem import cosem, enumerations
    from dlms_cosem.protocol import xdlms

    theirs = xdlms.SetRequestNormal(
        cosem_attribute=cosem.CosemAttribute(enumerations.CosemInterface.CLOCK, cosem.Obis(0, 0, 1, 0, 0, 255), 3),
        data=bytes.fromhex("100078"),
        invoke_id_and_priority=xdlms.InvokeIdAndPriority(invoke_id=2, confirmed=True, high_priority=True))
    assert decode_xdlms(theirs.to_bytes()) == SetRequestNormal(
        InvokeIdAndPriority(2, True, True), CosemAttributeDescriptor(8, CLOCK, 3), None, Data(DataType.LONG, 120))

    ours = SetRequestNormal(C1, CosemAttributeDescriptor(3, Obis("1.0.1.8.0.255"), 2), None,
                            Data(DataType.DOUBLE_LONG_UNSIGNED, 10000))
    back = xdlms.SetRequestFactory.from_bytes(ours.to_bytes())
    assert back.cosem_attribute.interface == 3 and back.cosem_attribute.attribute == 2
    assert back.cosem_attribute.instance.to_bytes() == bytes(Obis("1.0.1.8.0.255"))
    assert back.data == bytes.fromhex("0600002710")

    resp = xdlms.SetResponseFactory.from_bytes(SetResponseNormal(C1, DataAccessResult.TEMPORARY_FAILURE).to_bytes())
    assert resp.result == enumerations.DataAccessResult.TEMPORARY_FAILURE
    theirs_resp = xdlms.SetResponseNormal(result=enumerations.DataAccessResult.SUCCESS)
    assert decode_xdlms(theirs_resp.to_bytes()) == SetResponseNormal(
        xdlms_invoke(theirs_resp.invoke_id_and_priority), DataAccessResult.SUCCESS)


def xdlms_invoke(theirs: object) -> InvokeIdAndPriority:
    """dlms-cosem's invoke-id object as ours, through its own byte."""
    return InvokeIdAndPriority.from_byte(theirs.to_bytes()[0])  # type: ignore[attr-defined]
