"""General-Block-Transfer codec: layout, round trips, fault tolerance, gurux interop."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.apdu.common import CosemAttributeDescriptor, InvokeIdAndPriority
from simulator.apdu.gbt import GeneralBlockTransfer
from simulator.apdu.set import SetRequestNormal
from simulator.apdu.xdlms import decode_xdlms
from simulator.axdr import Data, DataType, Obis
from simulator.errors import DecodeError, EncodeError
from tests.apdu.xdlms_support import (
    assert_apdu_roundtrip, assert_robust, gurux_apdus, gurux_client, gurux_value, gurux_xml,
)

# The Green Book layout, spelled out: E0 | block-control C1 (last-block 1, streaming 1,
# window 1) | block-number 0001 | block-number-ack 0000 | length 04 | block-data.
LAST_STREAMING_BLOCK = bytes.fromhex("E0C1000100000401020304")


def test_layout_and_fields() -> None:
    apdu = GeneralBlockTransfer.from_bytes(LAST_STREAMING_BLOCK)
    assert apdu == GeneralBlockTransfer(True, True, 1, 1, 0, b"\x01\x02\x03\x04")
    assert apdu.to_bytes() == LAST_STREAMING_BLOCK
    assert decode_xdlms(LAST_STREAMING_BLOCK) == apdu
    assert GeneralBlockTransfer(False, False, 63, 0xFFFF, 0xFFFF, b"").to_bytes() == bytes.fromhex("E03FFFFFFFFF00")
    long = GeneralBlockTransfer(False, True, 5, 2, 1, bytes(300)).to_bytes()
    assert long[:9] == bytes.fromhex("E045" "0002" "0001" "82012C")  # two-byte length form


def test_truncations_and_bit_flips() -> None:
    assert_robust(LAST_STREAMING_BLOCK)
    assert_robust(LAST_STREAMING_BLOCK, GeneralBlockTransfer.from_bytes)
    assert_robust(GeneralBlockTransfer(False, True, 5, 2, 1, bytes(range(200))).to_bytes())


@pytest.mark.parametrize("apdu", [
    GeneralBlockTransfer(True, False, 64, 1, 0, b""),
    GeneralBlockTransfer(True, False, -1, 1, 0, b""),
    GeneralBlockTransfer(True, False, 1, 0x10000, 0, b""),
    GeneralBlockTransfer(True, False, 1, 1, -1, b""),
    GeneralBlockTransfer(True, False, 1, 1, 0, "text"),  # type: ignore[arg-type]
])
def test_unencodable_values_raise_encode_error(apdu: GeneralBlockTransfer) -> None:
    with pytest.raises(EncodeError):
        apdu.to_bytes()


@pytest.mark.parametrize("hex_", ["E0", "E0C1", "E0C10001", "E0C100010000", "E0C1000100000401", "E0C100010000000000"])
def test_malformed_raise_decode_error(hex_: str) -> None:
    with pytest.raises(DecodeError):
        decode_xdlms(bytes.fromhex(hex_))


@settings(max_examples=60, deadline=None)
@given(st.booleans(), st.booleans(), st.integers(0, 63), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF),
       st.binary(max_size=300))
def test_roundtrip(last, streaming, window, number, ack, data) -> None:
    assert_apdu_roundtrip(GeneralBlockTransfer(last, streaming, window, number, ack, data))


def test_gurux_reads_our_block() -> None:
    root = gurux_xml(GeneralBlockTransfer(True, False, 3, 7, 6, b"\xC0\x01").to_bytes())
    assert gurux_value(root, "BlockControl") == 0x83
    assert gurux_value(root, "BlockNumber") == 7 and gurux_value(root, "BlockNumberAck") == 6
    assert root.find("BlockData").get("Value") == "C001"


def test_we_reassemble_gurux_general_block_transfer() -> None:
    from gurux_dlms.enums import Conformance
    from gurux_dlms.enums import DataType as GuruxType
    from gurux_dlms.objects import GXDLMSData

    client = gurux_client()
    client.negotiatedConformance |= Conformance.GENERAL_BLOCK_TRANSFER
    client.settings.maxPduSize = 64
    obj = GXDLMSData("0.0.96.1.0.255")
    obj.value = bytes(range(150))
    obj.setDataType(2, GuruxType.OCTET_STRING)
    blocks = [decode_xdlms(m) for m in gurux_apdus(client.write(obj, 2))]
    assert len(blocks) > 1 and all(isinstance(b, GeneralBlockTransfer) for b in blocks)
    assert [b.block_number for b in blocks] == list(range(1, len(blocks) + 1))  # type: ignore[attr-defined]
    assert [b.last_block for b in blocks] == [False] * (len(blocks) - 1) + [True]  # type: ignore[attr-defined]
    inner = decode_xdlms(b"".join(b.block_data for b in blocks))  # type: ignore[attr-defined]
    assert inner == SetRequestNormal(InvokeIdAndPriority(1, True, True),
                                     CosemAttributeDescriptor(1, Obis("0.0.96.1.0.255"), 2), None,
                                     Data(DataType.OCTET_STRING, bytes(range(150))))
