"""Short-name referencing APDUs: layouts, round trips, fault tolerance, gurux interop."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.common import DataAccessResult, EncodedData
from simulator.apdu.sn import (
    BlockNumber, BlockNumberAccess, DataBlockResult, InformationReportRequest, ParameterizedAccess,
    ReadDataBlockAccess, ReadRequest, ReadResponse, UnconfirmedWriteRequest, VariableName,
    WriteDataBlockAccess, WriteRequest, WriteResponse,
)
from simulator.apdu.xdlms import decode_xdlms
from simulator.axdr import Data, DataType
from simulator.errors import DecodeError, EncodeError
from tests.apdu.xdlms_support import (
    access_results, assert_apdu_roundtrip, assert_gurux_data, assert_robust, gurux_apdus,
    gurux_xml, lists, small_data,
)

U5 = Data(DataType.UNSIGNED, 5)

# Layouts written out from the Green Book's ASN.1 (tags: read 05, write 06, read-response 0C,
# write-response 0D, unconfirmed-write 16, information-report 18).
LAYOUTS = [
    (ReadRequest((VariableName(0xFA08),)), "05" "01" "02FA08"),
    (ReadRequest((ParameterizedAccess(0x3008, 2, U5), BlockNumberAccess(3))),
     "05" "02" "04300802" "1105" "050003"),
    (ReadRequest((ReadDataBlockAccess(True, 1, b"\xAB"),)), "05" "01" "06" "01" "0001" "01AB"),
    (ReadResponse((U5, DataAccessResult.OBJECT_UNDEFINED)), "0C" "02" "001105" "0104"),
    (ReadResponse((DataBlockResult(False, 2, b"\x01\x02"), BlockNumber(9))),
     "0C" "02" "02" "00" "0002" "020102" "030009"),
    (WriteRequest((VariableName(0xFA08), WriteDataBlockAccess(False, 1)), (U5,)),
     "06" "02" "02FA08" "07000001" "01" "1105"),
    (WriteResponse((DataAccessResult.SUCCESS, DataAccessResult.READ_WRITE_DENIED, BlockNumber(4))),
     "0D" "03" "00" "0103" "020004"),
    (UnconfirmedWriteRequest((VariableName(0x1000),), (U5,)), "16" "01" "021000" "01" "1105"),
    (InformationReportRequest(None, (VariableName(0xFA08),), (U5,)), "18" "00" "01" "02FA08" "01" "1105"),
    (InformationReportRequest(b"\x07\xE8", (VariableName(0xFA08),), (U5,)),
     "18" "01" "0207E8" "01" "02FA08" "01" "1105"),
]


@pytest.mark.parametrize("apdu, hex_", LAYOUTS, ids=[f"{type(a).__name__}-{i}" for i, (a, _) in enumerate(LAYOUTS)])
def test_layouts(apdu: object, hex_: str) -> None:
    raw = bytes.fromhex(hex_)
    assert apdu.to_bytes() == raw  # type: ignore[attr-defined]
    assert decode_xdlms(raw) == apdu
    assert type(apdu).from_bytes(raw) == apdu  # type: ignore[attr-defined]
    assert_robust(raw)


def test_write_response_success_forms() -> None:
    # [0] success is the canonical form; a data-access-error carrying success reads the same.
    assert WriteResponse.from_bytes(bytes.fromhex("0D0100")).results == (DataAccessResult.SUCCESS,)
    assert WriteResponse.from_bytes(bytes.fromhex("0D010100")).results == (DataAccessResult.SUCCESS,)


def test_encoded_data_in_sn_values() -> None:
    assert ReadResponse((EncodedData(U5.to_bytes()),)).to_bytes() == ReadResponse((U5,)).to_bytes()
    assert WriteRequest((VariableName(1),), (EncodedData(U5.to_bytes()),)).to_bytes() == \
        WriteRequest((VariableName(1),), (U5,)).to_bytes()


@pytest.mark.parametrize("apdu", [
    ReadRequest((VariableName(0x10000),)),
    ReadRequest((BlockNumberAccess(-1),)),
    ReadRequest(("not a spec",)),  # type: ignore[arg-type]
    ReadRequest((ParameterizedAccess(1, 256, U5),)),
    ReadResponse((BlockNumber(0x10000),)),
    ReadResponse((5,)),  # type: ignore[arg-type]
    WriteResponse((77,)),  # type: ignore[arg-type]
])
def test_unencodable_values_raise_encode_error(apdu: object) -> None:
    with pytest.raises(EncodeError):
        apdu.to_bytes()  # type: ignore[attr-defined]


@pytest.mark.parametrize("hex_", [
    "05", "0501", "050103FA08",  # detailed-access [3] is not supported
    "050108", "0502" "02FA08",  # count larger than the items
    "0C0104", "0C010105", "0D0103", "0D0102",  # bad choices / undefined result / truncated
    "060102FA08", "180201", "1800",  # write without data list; time flag 2; no specs
    "0501" "02FA08" "00",  # trailing byte
])
def test_malformed_apdus_raise_decode_error(hex_: str) -> None:
    with pytest.raises(DecodeError):
        decode_xdlms(bytes.fromhex(hex_))


# --------------------------------------------------------------------------- hypothesis round trips

u16 = st.integers(0, 0xFFFF)
specs = st.one_of(
    st.builds(VariableName, u16),
    st.builds(ParameterizedAccess, u16, st.integers(0, 255), small_data),
    st.builds(BlockNumberAccess, u16),
    st.builds(ReadDataBlockAccess, st.booleans(), u16, st.binary(max_size=60)),
    st.builds(WriteDataBlockAccess, st.booleans(), u16),
)
read_results = st.one_of(small_data, access_results,
                         st.builds(DataBlockResult, st.booleans(), u16, st.binary(max_size=60)),
                         st.builds(BlockNumber, u16))
write_results = st.one_of(access_results, st.builds(BlockNumber, u16))


@settings(max_examples=50, deadline=None)
@given(lists(specs), lists(small_data), lists(read_results), lists(write_results),
       st.one_of(st.none(), st.binary(max_size=20)))
def test_sn_roundtrips(spec_list, values, reads, writes, time) -> None:
    assert_apdu_roundtrip(ReadRequest(spec_list))
    assert_apdu_roundtrip(ReadResponse(reads))
    assert_apdu_roundtrip(WriteRequest(spec_list, values))
    assert_apdu_roundtrip(WriteResponse(writes))
    assert_apdu_roundtrip(UnconfirmedWriteRequest(spec_list, values))
    assert_apdu_roundtrip(InformationReportRequest(time, spec_list, values))


# --------------------------------------------------------------------------- interop: gurux-dlms

def _sn_client():  # type: ignore[no-untyped-def]
    from gurux_dlms import GXDLMSClient
    from gurux_dlms.enums import Conformance, InterfaceType

    client = GXDLMSClient(False, 16, 1)
    client.interfaceType = InterfaceType.WRAPPER
    client.negotiatedConformance |= (Conformance.MULTIPLE_REFERENCES | Conformance.SELECTIVE_ACCESS
                                     | Conformance.PARAMETERIZED_ACCESS)
    return client


def test_we_read_gurux_sn_requests() -> None:
    from gurux_dlms.enums import DataType as GuruxType
    from gurux_dlms.objects import GXDLMSData, GXDLMSProfileGeneric, GXDLMSRegister

    client = _sn_client()
    data = GXDLMSData("0.0.96.1.0.255")
    data.shortName = 0xFA00
    register = GXDLMSRegister("1.0.1.8.0.255")
    register.shortName = 0x2000
    [read] = gurux_apdus(client.read(data, 2))
    assert decode_xdlms(read) == ReadRequest((VariableName(0xFA08),))  # base name + 8 * (attr - 1)
    [listed] = gurux_apdus(client.readList([(data, 2), (register, 3)]))
    assert decode_xdlms(listed) == ReadRequest((VariableName(0xFA08), VariableName(0x2010)))
    data.value = 5
    data.setDataType(2, GuruxType.UINT16)
    [write] = gurux_apdus(client.write(data, 2))
    assert decode_xdlms(write) == WriteRequest((VariableName(0xFA08),), (Data(DataType.LONG_UNSIGNED, 5),))

    profile = GXDLMSProfileGeneric("1.0.99.1.0.255")
    profile.shortName = 0x3000
    [entries] = gurux_apdus(client.readRowsByEntry(profile, 1, 5))
    apdu = decode_xdlms(entries)
    assert isinstance(apdu, ReadRequest)
    [spec] = apdu.specs
    assert isinstance(spec, ParameterizedAccess) and (spec.name, spec.selector) == (0x3008, 2)
    assert spec.parameters.value[:2] == (Data(DataType.DOUBLE_LONG_UNSIGNED, 1), Data(DataType.DOUBLE_LONG_UNSIGNED, 5))
    assert apdu.to_bytes() == entries


def test_gurux_reads_our_sn_apdus() -> None:
    read = gurux_xml(ReadRequest((VariableName(0xFA08), ParameterizedAccess(0x3010, 2, U5),
                                  BlockNumberAccess(3))).to_bytes())
    assert read.get("Qty") == "03"
    assert read.find("VariableName").get("Value") == "FA08"
    param = read.find("ParameterisedAccess")
    assert param.find("VariableName").get("Value") == "3010" and param.find("Selector").get("Value") == "02"
    assert_gurux_data(param.find("Parameter")[0], U5)
    assert read.find(".//BlockNumber").get("Value") == "0003"

    response = gurux_xml(ReadResponse((U5, DataAccessResult.OBJECT_UNDEFINED)).to_bytes())
    assert_gurux_data(response.find("Data")[0], U5)
    assert response.find("DataAccessError").get("Value") == "UndefinedObject"

    write = gurux_xml(WriteRequest((VariableName(0xFA08),), (U5,)).to_bytes())
    assert write.find(".//VariableName").get("Value") == "FA08"
    assert_gurux_data(write.find("ListOfData")[0], U5)
    written = gurux_xml(WriteResponse((DataAccessResult.SUCCESS, DataAccessResult.READ_WRITE_DENIED)).to_bytes())
    assert written.find("Success") is not None
    assert written.find("DataAccessError").get("Value") == "ReadWriteDenied"
    report = gurux_xml(InformationReportRequest(None, (VariableName(0xFA08),), (U5,)).to_bytes())
    assert report.find(".//VariableName").get("Value") == "FA08"
    assert_gurux_data(report.find("ListOfData")[0], U5)
