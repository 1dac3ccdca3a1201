"""The services against independent clients, in memory: gurux-dlms 1.0.203 (GXDLMSClient over
the wrapper: its request frames in, our answers into its getData/updateValue) and dlms-cosem
25.1.0 (its DlmsClient and APDU classes over an in-memory transport)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attr
import pytest

from simulator.apdu.common import DataAccessResult
from simulator.axdr import Data, DataType, Obis

from .peers import GuruxPeer
from .support import (
    AK, CLIENT_TITLE, CLOCK_LN, EK, LDN_LN, PASSWORD, PROFILE_LN, REGISTER_LN, REGISTER_VALUE, SERIAL_LN, SN, Meter,
    profile_rows,
)

pytest.importorskip("gurux_dlms")
pytest.importorskip("dlms_cosem")
from dlms_cosem import cosem, dlms_data, enumerations, utils  # noqa: E402
from dlms_cosem.client import DlmsClient  # noqa: E402
from dlms_cosem.cosem.selective_access import CaptureObject, RangeDescriptor  # noqa: E402
from dlms_cosem.protocol import xdlms  # noqa: E402
from dlms_cosem.security import (  # noqa: E402
    HighLevelSecurityGmacAuthentication, LowLevelSecurityAuthentication, NoSecurityAuthentication,
)
from gurux_dlms.enums import Authentication, Conformance as GuruxConformance, DataType as GuruxType  # noqa: E402
from gurux_dlms.objects import (  # noqa: E402
    GXDLMSClock, GXDLMSData, GXDLMSProfileGeneric, GXDLMSRegister,
)


def stored(m: Meter, ln: Obis, attribute: int) -> Data | None:
    """What the meter holds for an attribute, read through the model API (not the wire)."""
    spec = m.device.find(bytes(ln))
    assert spec is not None
    from simulator.server.objects import ObjectHandle
    return ObjectHandle(m.state, m.device, spec, m.now).get(attribute)


# --------------------------------------------------------------------------- gurux-dlms

def test_gurux_public_reads_and_object_list() -> None:
    m = Meter()
    p = GuruxPeer(m)
    p.associate()
    clock = GXDLMSClock(str(CLOCK_LN))
    assert p.read(clock, 3) == -60
    register = GXDLMSRegister(str(REGISTER_LN))
    p.read(register, 3)
    assert p.read(register, 2) == 123456
    assert register.unit == 30
    assert bytes(p.read(GXDLMSData(str(LDN_LN)), 2)) == b"SIM00000001"
    objects = p.client.parseObjects(p.block(p.client.getObjectsRequest()).data, True)
    assert [str(o.logicalName) for o in objects] == [
        "0.0.40.0.0.255", "0.0.1.0.0.255", "1.0.1.8.0.255", "0.0.42.0.0.255", "0.0.96.1.0.255",
        "1.0.99.1.0.255", "0.0.96.99.0.255", "0.0.43.0.0.255"]
    register.value = 1
    assert p.block(p.client.write(register, 2)).error == 3  # read-write-denied for the public client
    p.release()


@pytest.mark.parametrize("max_pdu", [64, 128])
def test_gurux_profile_in_blocks(max_pdu: int) -> None:
    m = Meter()
    p = GuruxPeer(m, max_pdu=max_pdu)
    p.associate()
    profile = GXDLMSProfileGeneric(str(PROFILE_LN))
    p.read(profile, 3)
    assert [type(o).__name__ for o, _ in profile.captureObjects] == ["GXDLMSClock", "GXDLMSRegister"]
    p.read(profile, 2)
    assert [row[1] for row in profile.buffer] == list(range(1000, 1010))

    rows = p.block(p.client.readRowsByEntry(profile, 3, 2))
    p.client.updateValue(profile, 2, rows.value)
    assert [row[1] for row in profile.buffer] == [1002, 1003]

    start = dt.datetime(2024, 1, 1, 1, 0, tzinfo=dt.timezone.utc)
    end = dt.datetime(2024, 1, 1, 1, 30, tzinfo=dt.timezone.utc)
    rows = p.block(p.client.readRowsByRange(profile, start, end))
    p.client.updateValue(profile, 2, rows.value)
    assert [row[1] for row in profile.buffer] == [1003, 1004, 1005]
    assert max(len(a) for a in p.apdus) <= max_pdu


def test_gurux_lls_write_method_and_read_list() -> None:
    m = Meter()
    p = GuruxPeer(m, client_sap=2, authentication=Authentication.LOW, password=PASSWORD, max_pdu=64)
    p.associate()
    register = GXDLMSRegister(str(REGISTER_LN))
    p.read(register, 3)
    register.value = 999
    # gurux sends an int of unknown type as double-long; the register holds double-long-unsigned
    assert p.block(p.client.write(register, 2)).error == DataAccessResult.TYPE_UNMATCHED
    assert stored(m, REGISTER_LN, 2) == REGISTER_VALUE
    register.setDataType(2, GuruxType.UINT32)
    assert p.block(p.client.write(register, 2)).error == 0
    assert stored(m, REGISTER_LN, 2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 999)
    assert p.block(p.client.method(register, 1, 0, GuruxType.INT8)).error == 0
    assert stored(m, REGISTER_LN, 2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 0)

    clock, serial, profile = GXDLMSClock(str(CLOCK_LN)), GXDLMSData(str(SERIAL_LN)), GXDLMSProfileGeneric(str(PROFILE_LN))
    values = p.block(p.client.readList([(register, 2), (clock, 3), (serial, 2), (profile, 7)])).value
    assert values == [0, -60, "X" * 600, 10]
    assert max(len(a) for a in p.apdus) <= 64


@pytest.mark.parametrize("gbt", [False, True])
def test_gurux_long_write(gbt: bool) -> None:
    """A SET longer than the server's max receive PDU: SET datablocks, or GBT when negotiated."""
    m = Meter(server_pdu=128)
    p = GuruxPeer(m, client_sap=2, authentication=Authentication.LOW, password=PASSWORD)
    if gbt:
        p.client.proposedConformance |= GuruxConformance.GENERAL_BLOCK_TRANSFER
    p.associate()
    name = GXDLMSData(str(LDN_LN))
    name.value = b"Z" * 300
    frames = p.client.write(name, 2)
    assert len(frames) == 3
    assert all(bytes(f)[8] == (0xE0 if gbt else 0xC1) for f in frames)
    assert p.block(frames).error == 0
    assert stored(m, LDN_LN, 2) == Data(DataType.OCTET_STRING, b"Z" * 300)


@pytest.mark.parametrize("general", [True, False])
def test_gurux_hls_gmac_with_ciphering(general: bool) -> None:
    m = Meter()
    p = GuruxPeer(m, client_sap=1, authentication=Authentication.HIGH_GMAC, max_pdu=128, keys=(CLIENT_TITLE, EK, AK))
    if not general:
        p.client.proposedConformance &= ~GuruxConformance.GENERAL_PROTECTION
    p.associate()
    register = GXDLMSRegister(str(REGISTER_LN))
    p.read(register, 3)
    assert p.read(register, 2) == 123456  # authenticated_read_write: the request was authenticated
    profile = GXDLMSProfileGeneric(str(PROFILE_LN))
    p.read(profile, 3)
    p.read(profile, 2)
    assert len(profile.buffer) == 10
    register.value = 5
    assert p.block(p.client.write(register, 2)).error == 0
    assert stored(m, REGISTER_LN, 2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 5)  # the type gurux read
    # AARE, then every answer ciphered in the style of its request: gurux sends reply_to_HLS in a
    # glo-action-request, then general-glo-ciphering once general-protection is negotiated, else
    # glo-get/set-requests
    assert [a[0] for a in p.apdus[:2]] == [0x61, 0xCF]
    assert {a[0] for a in p.apdus[2:]} == ({0xDB} if general else {0xCC, 0xCD})
    assert max(len(a) for a in p.apdus) <= 128


def test_gurux_short_names() -> None:
    m = Meter(context=SN)
    p = GuruxPeer(m, client_sap=2, authentication=Authentication.LOW, password=PASSWORD, logical_name=False)
    p.associate()
    register = GXDLMSRegister(str(REGISTER_LN))
    register.shortName = 0x2100
    p.read(register, 3)
    assert p.read(register, 2) == 123456
    register.value = 77
    assert p.block(p.client.write(register, 2)).error == 0
    assert p.read(register, 2) == 77
    profile = GXDLMSProfileGeneric(str(PROFILE_LN))
    profile.shortName = 0x2400
    p.read(profile, 3)
    rows = p.block(p.client.readRowsByEntry(profile, 1, 2))
    p.client.updateValue(profile, 2, rows.value)
    assert [row[1] for row in profile.buffer] == [1000, 1001]
    clock = GXDLMSClock(str(CLOCK_LN))
    clock.shortName = 0x2000
    assert p.block(p.client.readList([(register, 2), (clock, 3)])).value == [77, -60]


# --------------------------------------------------------------------------- dlms-cosem

@attr.s(auto_attribs=True)
class MemoryTransport:
    """dlms-cosem's DlmsTransport over the meter's channel: APDU bytes in, APDU bytes out."""

    meter: Meter
    client_logical_address: int
    server_logical_address: int = 1
    io: Any = None
    timeout: int = 1

    def connect(self) -> None:
        pass

    def disconnect(self) -> None:
        self.meter.channel.close()

    def send_request(self, bytes_to_send: bytes) -> bytes:
        answer = self.meter.channel.handle_apdu(self.server_logical_address, self.client_logical_address,
                                                bytes(bytes_to_send), self.meter.now)
        assert answer is not None
        return answer


def attribute(interface: enumerations.CosemInterface, ln: Obis, index: int) -> cosem.CosemAttribute:
    return cosem.CosemAttribute(interface, cosem.Obis.from_bytes(bytes(ln)), index)


def dlms_client(m: Meter, client: int, authentication: Any, **kw: Any) -> DlmsClient:
    return DlmsClient(transport=MemoryTransport(m, client), authentication=authentication, **kw)


@pytest.mark.parametrize("max_pdu", [64, 1024])
def test_dlms_cosem_public_get(max_pdu: int) -> None:
    m = Meter()
    c = dlms_client(m, 16, NoSecurityAuthentication(), max_pdu_size=max_pdu)
    with c.session():
        value = c.get(attribute(enumerations.CosemInterface.REGISTER, REGISTER_LN, 2))
        assert utils.parse_as_dlms_data(value) == 123456
        buffer = utils.parse_as_dlms_data(c.get(attribute(enumerations.CosemInterface.PROFILE_GENERIC, PROFILE_LN, 2)))
        assert [row[1] for row in buffer] == list(range(1000, 1010))
        clock = CaptureObject(cosem_attribute=attribute(enumerations.CosemInterface.CLOCK, CLOCK_LN, 2))
        ranged = RangeDescriptor(restricting_object=clock,
                                 from_value=dt.datetime(2024, 1, 1, 0, 30, tzinfo=dt.timezone.utc),
                                 to_value=dt.datetime(2024, 1, 1, 1, 0, tzinfo=dt.timezone.utc))
        rows = utils.parse_as_dlms_data(c.get(attribute(enumerations.CosemInterface.PROFILE_GENERIC, PROFILE_LN, 2),
                                              ranged))
        assert [row[1] for row in rows] == [1001, 1002, 1003]
        # dlms-cosem 25.1.0 cannot encode an EntryDescriptor (to_bytes raises NotImplementedError)


def test_dlms_cosem_get_with_list() -> None:
    m = Meter()
    c = dlms_client(m, 16, NoSecurityAuthentication())
    with c.session():
        response = c.get_many([
            cosem.CosemAttributeWithSelection(attribute(enumerations.CosemInterface.REGISTER, REGISTER_LN, 2), None),
            cosem.CosemAttributeWithSelection(attribute(enumerations.CosemInterface.DATA, Obis("9.9.9.9.9.9"), 2), None),
        ])
        assert isinstance(response, xdlms.GetResponseWithList)
        assert len(response.response_data) == 2


def test_dlms_cosem_lls_set_and_action() -> None:
    m = Meter()
    c = dlms_client(m, 2, LowLevelSecurityAuthentication(secret=PASSWORD))
    with c.session():
        answer = c.set(attribute(enumerations.CosemInterface.REGISTER, REGISTER_LN, 2),
                       dlms_data.DoubleLongUnsignedData(31).to_bytes())
        assert isinstance(answer, xdlms.SetResponseNormal)
        assert stored(m, REGISTER_LN, 2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 31)
        method = cosem.CosemMethod(enumerations.CosemInterface.REGISTER, cosem.Obis.from_bytes(bytes(REGISTER_LN)), 1)
        c.action(method, dlms_data.IntegerData(0).to_bytes())
        assert stored(m, REGISTER_LN, 2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 0)


def test_dlms_cosem_hls_gmac_general_glo_ciphering() -> None:
    m = Meter()
    c = dlms_client(m, 1, HighLevelSecurityGmacAuthentication(challenge_length=32), encryption_key=EK,
                    authentication_key=AK, client_system_title=CLIENT_TITLE, max_pdu_size=128)
    with c.session():
        value = c.get(attribute(enumerations.CosemInterface.REGISTER, REGISTER_LN, 2))
        assert utils.parse_as_dlms_data(value) == 123456
        buffer = utils.parse_as_dlms_data(c.get(attribute(enumerations.CosemInterface.PROFILE_GENERIC, PROFILE_LN, 2)))
        assert len(buffer) == 10
    assert profile_rows(10) == stored(m, PROFILE_LN, 2)
