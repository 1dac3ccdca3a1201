"""Whatever a client sends, the meter answers (or stays silent) and keeps serving: every
truncation and single-bit flip of valid requests, and arbitrary bytes."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.apdu.action import ActionRequestNormal, ActionRequestWithFirstPblock, ActionRequestWithList
from simulator.apdu.ciphered import CipherStyle
from simulator.apdu.common import (
    CosemAttributeDescriptor, CosemAttributeDescriptorWithSelection, CosemMethodDescriptor, DataBlockSA,
    SelectiveAccess,
)
from simulator.apdu.gbt import GeneralBlockTransfer
from simulator.apdu.get import GetRequestNext, GetRequestNormal, GetRequestWithList, GetResponseNormal
from simulator.apdu.set import SetRequestNormal, SetRequestWithFirstDatablock, SetRequestWithList
from simulator.apdu.sn import ParameterizedAccess, ReadRequest, VariableName, WriteDataBlockAccess, WriteRequest
from simulator.axdr import Data, DataType
from simulator.security.apdu import encrypt_apdu
from simulator.security.control import SecurityControl

from .support import AK, CLIENT_TITLE, EK, INVOKE, LDN_LN, PROFILE_LN, REGISTER_LN, REGISTER_VALUE, SN, Meter

ENTRY = SelectiveAccess(2, Data(DataType.STRUCTURE, tuple(Data(DataType.DOUBLE_LONG_UNSIGNED, 1) for _ in range(2))
                                + tuple(Data(DataType.LONG_UNSIGNED, 0) for _ in range(2))))
REGISTER = CosemAttributeDescriptor(3, REGISTER_LN, 2)
RESET = CosemMethodDescriptor(3, REGISTER_LN, 1)
ZERO = Data(DataType.INTEGER, 0)
GET_VALUE = GetRequestNormal(INVOKE, REGISTER).to_bytes()

LN_REQUESTS = [
    GET_VALUE,
    GetRequestNormal(INVOKE, CosemAttributeDescriptor(7, PROFILE_LN, 2), ENTRY).to_bytes(),
    GetRequestNext(INVOKE, 1).to_bytes(),
    GetRequestWithList(INVOKE, (CosemAttributeDescriptorWithSelection(REGISTER),
                                CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(7, PROFILE_LN, 2), ENTRY))).to_bytes(),
    SetRequestNormal(INVOKE, REGISTER, None, REGISTER_VALUE).to_bytes(),
    SetRequestWithList(INVOKE, (CosemAttributeDescriptorWithSelection(REGISTER),), (REGISTER_VALUE,)).to_bytes(),
    SetRequestWithFirstDatablock(INVOKE, CosemAttributeDescriptor(1, LDN_LN, 2), None,
                                 DataBlockSA(False, 1, b"\x09\x05ab")).to_bytes(),
    ActionRequestNormal(INVOKE, RESET, ZERO).to_bytes(),
    ActionRequestWithList(INVOKE, (RESET, RESET), (ZERO, ZERO)).to_bytes(),
    ActionRequestWithFirstPblock(INVOKE, RESET, DataBlockSA(True, 1, b"\x0F\x00")).to_bytes(),
    GeneralBlockTransfer(True, False, 1, 1, 0, GET_VALUE).to_bytes(),
    encrypt_apdu(GET_VALUE, CipherStyle.GLO, SecurityControl(authenticated=True, encrypted=True), CLIENT_TITLE, 1, EK, AK),
    encrypt_apdu(GET_VALUE, CipherStyle.GENERAL_GLO, SecurityControl(authenticated=True), CLIENT_TITLE, 2, EK, AK),
]
SN_REQUESTS = [
    ReadRequest((VariableName(0x2108), ParameterizedAccess(0x2408, 2, ENTRY.parameters))).to_bytes(),
    WriteRequest((VariableName(0x2108),), (REGISTER_VALUE,)).to_bytes(),
    WriteRequest((WriteDataBlockAccess(False, 1),), (Data(DataType.OCTET_STRING, b"\x01\x02"),)).to_bytes(),
]


def mutations(apdu: bytes) -> list[bytes]:
    cuts = [apdu[:n] for n in range(len(apdu))]
    flips = [apdu[:i] + bytes((apdu[i] ^ (1 << b),)) + apdu[i + 1:] for i in range(len(apdu)) for b in range(8)]
    return cuts + flips


def check(m: Meter, client: int, apdus: list[bytes], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="simulator.server"):
        for apdu in apdus:
            answer = m.send(apdu, client)
            assert answer is None or isinstance(answer, bytes)
    assert not caplog.records, caplog.text


def assert_still_serving(m: Meter) -> None:
    """A mutation may have released the association (an RLRQ) or replaced it (an AARQ): associate
    again and read; the meter must still answer with data."""
    m.associate(client=2)
    assert isinstance(GetResponseNormal.from_bytes(m.send(GET_VALUE, 2) or b"").result, Data)


@pytest.mark.parametrize("index", range(len(LN_REQUESTS)))
def test_ln_request_mutations(index: int, caplog: pytest.LogCaptureFixture) -> None:
    m = Meter()
    client = 7 if index >= len(LN_REQUESTS) - 2 else 2
    m.associate(client=client, max_pdu=64)
    check(m, client, mutations(LN_REQUESTS[index]), caplog)
    assert_still_serving(m)


@pytest.mark.parametrize("index", range(len(SN_REQUESTS)))
def test_sn_request_mutations(index: int, caplog: pytest.LogCaptureFixture) -> None:
    from simulator.apdu.initiate import Conformance
    m = Meter(context=SN)
    m.associate(client=2, max_pdu=64, conformance=Conformance(0xFFFFFF), context=SN)
    check(m, 2, mutations(SN_REQUESTS[index]), caplog)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=80))
def test_arbitrary_bytes(caplog: pytest.LogCaptureFixture, data: bytes) -> None:
    m = Meter()
    m.associate(client=2, max_pdu=64)
    caplog.clear()
    check(m, 2, [data, GET_VALUE[:1] + data], caplog)
    assert_still_serving(m)
