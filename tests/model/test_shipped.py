"""The shipped object models: they validate, load fast, are shared, and every attribute of every
object each association lists reads end to end as the right data or the right refusal.

The public and reader clients are driven with this package's own APDU codecs; the management
client (HLS-GMAC, authenticated encryption) is dlms-cosem, an independent peer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.apdu.acse import AARE, AARQ, ApplicationContextName, AssociationResult, MechanismName
from simulator.apdu.common import CosemAttributeDescriptor, DataAccessResult, InvokeIdAndPriority
from simulator.apdu.get import GetRequestNext, GetRequestNormal, GetResponseNormal, GetResponseWithDatablock
from simulator.apdu.initiate import Conformance, InitiateRequest
from simulator.axdr import Data, DataType, Obis
from simulator.model.catalogue import SHIPPED_DIR, find_model, list_models, object_table
from simulator.model.loader import load_model, validate_paths
from simulator.model.spec import MeterModel
from simulator.server.meter import Channel, MeterServer
from simulator.server.objects import Meter, ObjectHandle, TimeBase

from tests.cosem.meter_fixture import EPOCH_2024

SHIPPED = sorted(SHIPPED_DIR.glob("*.yaml"))
NAMES = [p.stem for p in SHIPPED]
INVOKE = InvokeIdAndPriority(1, True, True)
# The demo keys the models default to (issue 4: the demo meters' management client).
DEMO_EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
DEMO_AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
CLIENT_TITLE = bytes.fromhex("4D4D4D0000000001")


def meter_state(model: MeterModel, index: int = 1) -> Meter:
    fields = {"serial": f"{index:08d}", "index": index, "system_title": f"53494D{index:010X}"}
    return Meter(model, index, fields, TimeBase(EPOCH_2024))


def test_the_four_models_are_shipped() -> None:
    assert set(NAMES) == {"minimal", "idis_poly", "gas", "water"}
    infos = list_models()
    assert [i.name for i in infos] == sorted(NAMES)
    assert all(i.description and "does not validate" not in i.description for i in infos)


@pytest.mark.parametrize("path", SHIPPED, ids=NAMES)
def test_shipped_model_validates_and_loads_once(path: Path) -> None:
    assert validate_paths([path]) == []
    model = load_model(path)
    assert load_model(path) is model
    assert model.name == path.stem and model.manufacturer == "SIM"
    assert find_model(path.stem) == path


def test_find_model_refuses_unknown_names() -> None:
    with pytest.raises(FileNotFoundError, match="shipped: "):
        find_model("no_such_model")


def test_idis_declares_what_an_idis_meter_has() -> None:
    device = load_model(SHIPPED_DIR / "idis_poly.yaml").logical_devices[1]
    classes = {str(o.logical_name): o.cls.class_id for o in device.objects}
    expected = {
        "0.0.1.0.0.255": 8, "0.0.42.0.0.255": 1, "1.0.1.8.0.255": 3, "1.0.1.8.4.255": 3, "1.0.2.8.1.255": 3,
        "1.0.3.8.0.255": 3, "1.0.1.4.0.255": 5, "1.0.32.7.0.255": 3, "1.0.31.7.0.255": 3, "1.0.14.7.0.255": 3,
        "1.0.13.7.0.255": 3, "1.0.99.1.0.255": 7, "1.0.99.2.0.255": 7, "0.0.98.1.0.255": 7, "0.0.99.98.0.255": 7,
        "0.0.99.98.4.255": 7, "0.0.96.11.0.255": 1, "0.0.97.98.0.255": 1, "0.0.97.98.10.255": 1,
        "0.0.96.3.10.255": 70, "0.0.10.0.106.255": 9, "0.0.25.9.0.255": 40, "0.0.43.0.1.255": 64,
        "0.0.43.1.1.255": 1, "0.0.44.0.0.255": 18, "0.0.13.0.0.255": 20, "0.0.11.0.0.255": 11,
        "0.0.22.0.0.255": 23, "0.0.25.0.0.255": 41, "0.0.25.1.0.255": 42, "0.0.40.0.0.255": 15,
    }
    assert {ln: classes.get(ln) for ln in expected} == expected
    profile = device.find(bytes(Obis("1.0.99.1.0.255")))
    assert profile is not None and profile.values[3] == Data(DataType.DOUBLE_LONG_UNSIGNED, 900)
    public, reader, management = (device.associations[s] for s in (16, 2, 1))
    assert (public.mechanism, reader.mechanism, management.mechanism) == (
        MechanismName.LOWEST, MechanismName.LOW, MechanismName.HIGH_GMAC)
    assert management.context == ApplicationContextName.LOGICAL_NAME_WITH_CIPHERING
    assert device.objects[management.security_setup_object or 0].logical_name == Obis("0.0.43.0.1.255")


def test_object_table() -> None:
    model = load_model(SHIPPED_DIR / "idis_poly.yaml")
    rows = object_table(model)
    assert len(rows) == len(model.logical_devices[1].objects)
    row = next(r for r in rows if r.obis == "1.0.1.8.0.255")
    assert (row.device, row.class_id, row.version, row.class_name) == (1, 3, 0, "Register")
    assert row.label == "Active energy import (+A) total"
    assert row.access == "public:- reader:r management:rw+m"
    clock = next(r for r in rows if r.obis == "0.0.1.0.0.255")
    assert clock.access == "public:r reader:r management:rw+m"


def test_per_meter_templates_render_per_meter() -> None:
    model = load_model(SHIPPED_DIR / "idis_poly.yaml")
    device = model.logical_devices[1]
    one, two = meter_state(model, 1), meter_state(model, 2)

    def read(state: Meter, ln: str, attr: int) -> Data:
        spec = device.find(bytes(Obis(ln)))
        assert spec is not None
        return ObjectHandle(state, device, spec, 0.0).get(attr)

    assert read(one, "0.0.42.0.0.255", 2) == Data(DataType.OCTET_STRING, b"SIM00000001")
    assert read(two, "0.0.42.0.0.255", 2) == Data(DataType.OCTET_STRING, b"SIM00000002")
    assert read(two, "0.0.96.1.0.255", 2) == Data(DataType.VISIBLE_STRING, "00000002")
    assert read(two, "0.0.25.2.0.255", 2) == Data(DataType.OCTET_STRING, bytes.fromhex("020000000002"))
    assert read(two, "0.0.43.0.1.255", 5) == Data(DataType.OCTET_STRING, bytes.fromhex("53494D0000000002"))
    setup = device.objects[device.associations[1].security_setup_object or 0]
    assert setup.secret("global_unicast_encryption_key").render(two.fields).value == DEMO_EK  # type: ignore[union-attr]
    assert setup.secret("authentication_key").render(two.fields).value == DEMO_AK  # type: ignore[union-attr]
    own_key = {**two.fields, "block_cipher_key": "11" * 16}
    assert setup.secret("global_unicast_encryption_key").render(own_key).value == b"\x11" * 16  # type: ignore[union-attr]
    assert device.associations[2].secret.render(two.fields) == Data(DataType.OCTET_STRING, b"12345678")  # type: ignore[union-attr]


# ------------------------------------------------------------------ end to end

def _associate(channel: Channel, client: int, mechanism: MechanismName | None, password: bytes | None) -> None:
    aarq = AARQ(application_context_name=ApplicationContextName.LOGICAL_NAME,
                sender_acse_requirements=mechanism is not None, mechanism_name=mechanism,
                calling_authentication_value=password,
                user_information=InitiateRequest(proposed_conformance=Conformance(0x00FFFF),
                                                 client_max_receive_pdu_size=1024).to_bytes())
    answer = channel.handle_apdu(1, client, aarq.to_bytes(), 1.0)
    assert answer is not None
    assert AARE.from_bytes(answer).result == AssociationResult.ACCEPTED


def _get(channel: Channel, client: int, class_id: int, ln: Obis, attr: int) -> Data | DataAccessResult:
    request = GetRequestNormal(INVOKE, CosemAttributeDescriptor(class_id, ln, attr), None)
    answer = channel.handle_apdu(1, client, request.to_bytes(), 2.0)
    assert answer is not None
    if answer[1] != 2:  # not a data block
        result = GetResponseNormal.from_bytes(answer).result
        assert isinstance(result, (Data, DataAccessResult))
        return result
    raw, n = b"", 0
    while True:
        block = GetResponseWithDatablock.from_bytes(answer)
        assert isinstance(block.result, bytes)
        raw, n = raw + block.result, n + 1
        if block.last_block:
            return Data.from_bytes(raw)
        answer = channel.handle_apdu(1, client, GetRequestNext(INVOKE, n).to_bytes(), 2.0) or b""


_CLIENTS = {"public": (16, None, None), "reader": (2, MechanismName.LOW, b"12345678")}
# every (model, client) pair the model declares: minimal has no reader
_MODEL_CLIENTS = [pytest.param(p, *who, id=f"{p.stem}-{name}") for p in SHIPPED for name, who in _CLIENTS.items()
                  if who[0] in load_model(p).logical_devices[1].associations]


@pytest.mark.parametrize("path, client, mechanism, password", _MODEL_CLIENTS)
def test_every_listed_attribute_reads_right(path: Path, client: int, mechanism: MechanismName | None,
                                            password: bytes | None) -> None:
    model = load_model(path)
    device = model.logical_devices[1]
    channel = MeterServer(meter_state(model)).open_channel()
    _associate(channel, client, mechanism, password)
    wrong = []
    for index, rights in device.associations[client].rights.items():
        obj = device.objects[index]
        for adef in obj.cls.attributes:
            result = _get(channel, client, obj.cls.class_id, obj.logical_name, adef.index)
            readable = rights.attribute(adef.index).readable
            right = (isinstance(result, Data) and readable and adef.type.accepts(result)
                     or result == DataAccessResult.READ_WRITE_DENIED and not readable)
            if not right:
                wrong.append(f"{obj.logical_name} {adef.index} {adef.name}: {result}")
    assert wrong == []


class _InMemory:
    """A dlms-cosem transport straight into a channel of the meter."""

    def __init__(self, channel: Channel, client: int) -> None:
        self.channel, self.client, self.now = channel, client, 1.0

    def connect(self) -> None:
        pass

    def disconnect(self) -> None:
        pass

    def send_request(self, data: bytes) -> bytes:
        self.now += 0.01
        answer = self.channel.handle_apdu(1, self.client, data, self.now)
        assert answer is not None
        return answer


@pytest.mark.parametrize("path", [p for p in SHIPPED if p.stem != "minimal"], ids=lambda p: p.stem)
def test_management_client_reads_everything_with_dlms_cosem(path: Path) -> None:
    pytest.importorskip("dlms_cosem")
    from dlms_cosem import cosem, enumerations
    from dlms_cosem.client import DataResultError, DlmsClient
    from dlms_cosem.security import HighLevelSecurityGmacAuthentication

    model = load_model(path)
    device = model.logical_devices[1]
    channel = MeterServer(meter_state(model)).open_channel()
    client = DlmsClient(transport=_InMemory(channel, 1),
                        authentication=HighLevelSecurityGmacAuthentication(challenge_length=32),
                        encryption_key=DEMO_EK, authentication_key=DEMO_AK, client_system_title=CLIENT_TITLE,
                        max_pdu_size=1024)
    client.associate()
    wrong = []
    known = {i.value for i in enumerations.CosemInterface}
    for index, rights in device.associations[1].rights.items():
        obj = device.objects[index]
        interface = enumerations.CosemInterface(obj.cls.class_id) if obj.cls.class_id in known else obj.cls.class_id
        for adef in obj.cls.attributes:
            attribute = cosem.CosemAttribute(interface=interface, instance=cosem.Obis.from_string(str(obj.logical_name)),
                                             attribute=adef.index)
            try:
                value: Data | str = Data.from_bytes(client.get(attribute))
            except DataResultError as exc:
                value = str(exc)
            if rights.attribute(adef.index).readable:
                right = isinstance(value, Data) and adef.type.accepts(value)
            else:
                right = isinstance(value, str) and "READ_WRITE_DENIED" in value
            if not right:
                wrong.append(f"{obj.logical_name} {adef.index} {adef.name}: {value}")
    client.release_association()
    assert wrong == []


def test_the_management_clients_last_counter_is_published_for_the_public_client() -> None:
    """IDIS: Data 0.0.43.1.1.255 shows the last invocation counter the meter accepted from
    client 1, so a head-end can resume; kept by the association layer, no runtime involved."""
    pytest.importorskip("dlms_cosem")
    from dlms_cosem import cosem, enumerations
    from dlms_cosem.client import DlmsClient
    from dlms_cosem.security import HighLevelSecurityGmacAuthentication

    server = MeterServer(meter_state(load_model(SHIPPED_DIR / "idis_poly.yaml")))
    counter = Obis("0.0.43.1.1.255")
    public = server.open_channel()
    _associate(public, 16, None, None)
    before = _get(public, 16, 1, counter, 2)
    client = DlmsClient(transport=_InMemory(server.open_channel(), 1),
                        authentication=HighLevelSecurityGmacAuthentication(challenge_length=32),
                        encryption_key=DEMO_EK, authentication_key=DEMO_AK, client_system_title=CLIENT_TITLE,
                        client_initial_invocation_counter=41)
    client.associate()
    client.get(cosem.CosemAttribute(interface=enumerations.CosemInterface.CLOCK,
                                    instance=cosem.Obis(0, 0, 1, 0, 0, 255), attribute=2))
    last = client.client_invocation_counter - 1  # the counter of the last APDU it sent
    after = _get(public, 16, 1, counter, 2)
    assert isinstance(after, Data) and after.value == last > 41
    assert after != before
