"""Every shipped model over the wire, read by gurux-dlms as its associations allow.

The whole object list and every attribute of every object, as the public and the management
client, each answer checked against the model's access rights; then the services a head-end
uses on a load profile: ACTION capture, a long GET, selective access by entry and by range, and
SET. (These clients offer a 65,535-byte PDU, so the long GET fits one answer; block transfer and
HDLC segmentation are forced with small PDUs in test_transport_matrix.py.)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from dlms_cosem import cosem, enumerations
from gurux_dlms import GXDateTime, GXDLMSClient, GXDLMSException
from gurux_dlms.enums import DataType, ObjectType
from gurux_dlms.objects import GXDLMSClock, GXDLMSProfileGeneric

from simulator.axdr import Obis
from simulator.model.catalogue import SHIPPED_DIR
from simulator.model.loader import load_model

from .harness import RunningFleet
from .peers import GuruxPeer, SocketPipe, gurux_client, read, wrapper_transport

MODELS = ("minimal", "idis_poly", "gas", "water")
PROFILE = "time: {start: 2024-01-10T00:00:00Z}\ngroups:\n" + "".join(
    f"  - {{name: {m}, model: {m}, listen: [{{transport: tcp, host: 127.0.0.1, port: 0}}, "
    f"{{transport: hdlc-tcp, host: 127.0.0.1, port: 0}}]}}\n" for m in MODELS)
LOAD_PROFILE = "1.0.99.1.0.255"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    with RunningFleet(PROFILE, tmp_path_factory.mktemp("models")) as running:
        yield running


def session(fleet: RunningFleet, model: str, client_sap: int, hdlc: bool = False) -> GuruxPeer:
    index = MODELS.index(model)
    if hdlc:
        pipe = SocketPipe("127.0.0.1", fleet.port("hdlc-tcp", index))
        peer = GuruxPeer(pipe, gurux_client(client_sap, GXDLMSClient.getServerAddress(1, 17), hdlc=True))
    else:
        peer = GuruxPeer(SocketPipe("127.0.0.1", fleet.port("tcp", index)), gurux_client(client_sap))
    peer.connect()
    return peer


def object_list(peer: GuruxPeer) -> list:
    reply = peer.request([peer.client.getObjectsRequest()])
    return list(peer.client.parseObjects(reply.data, True))


@pytest.mark.parametrize("model, client_sap", [(m, c) for m in MODELS for c in (16, 1) if m != "minimal" or c == 16])
def test_every_attribute_of_every_object(fleet: RunningFleet, model: str, client_sap: int) -> None:
    device = load_model(SHIPPED_DIR / f"{model}.yaml").logical_devices[1]
    association = device.associations[client_sap]
    peer = session(fleet, model, client_sap)
    try:
        objects = object_list(peer)
        assert sorted(str(Obis(o.logicalName)) for o in objects) == sorted(
            str(device.objects[i].logical_name) for i in association.rights)
        read_count = 0
        for obj in objects:
            spec = device.find(bytes(Obis(obj.logicalName)))
            assert spec is not None and spec.cls.class_id == int(obj.objectType)
            rights = association.rights[spec.index]
            order = list(range(1, obj.getAttributeCount() + 1))
            if obj.objectType == ObjectType.PROFILE_GENERIC:  # gurux needs the columns before the buffer
                order.remove(3)
                order.insert(1, 3)
            for attribute in order:
                where = f"{spec.describe()} attribute {attribute}"
                if rights.attribute(attribute).readable:
                    peer.read(obj, attribute)
                    read_count += 1
                else:
                    with pytest.raises(GXDLMSException):
                        peer.read(obj, attribute)
                        pytest.fail(f"{where} read although the association may not")
        assert read_count > len(objects)
    finally:
        peer.release()
        peer.pipe.close()


def test_object_list_over_hdlc_segments_and_blocks(fleet: RunningFleet) -> None:
    peer = session(fleet, "idis_poly", 1, hdlc=True)
    try:
        assert len(object_list(peer)) == len(load_model(SHIPPED_DIR / "idis_poly.yaml").logical_devices[1]
                                             .associations[1].rights)
    finally:
        peer.release()
        peer.pipe.close()


def test_load_profile_capture_long_read_selective_access_and_set(fleet: RunningFleet) -> None:
    peer = session(fleet, "idis_poly", 1)
    try:
        profile = GXDLMSProfileGeneric(LOAD_PROFILE)
        peer.read(profile, 3)
        # idis_poly lives: its rows since the fleet's start are computed; reset (method 1) starts them anew
        peer.request(peer.client.method(profile, 1, 0, DataType.INT8))
        for _ in range(60):  # ACTION capture (method 2)
            peer.request(peer.client.method(profile, 2, 0, DataType.INT8))
        peer.read(profile, 7)
        assert profile.entriesInUse == 60
        peer.read(profile, 2)  # the whole buffer, several kilobytes
        assert len(profile.buffer) == 60 and len(profile.buffer[0]) == len(profile.captureObjects)
        reply = peer.request(peer.client.readRowsByEntry(profile, 2, 5))
        peer.client.updateValue(profile, 2, reply.value)
        assert len(profile.buffer) == 5
        start = datetime(2024, 1, 9, tzinfo=timezone.utc)
        reply = peer.request(peer.client.readRowsByRange(profile, start, start + timedelta(days=2)))
        peer.client.updateValue(profile, 2, reply.value)
        assert len(profile.buffer) == 60
        reply = peer.request(peer.client.readRowsByRange(profile, start, start + timedelta(hours=1)))
        peer.client.updateValue(profile, 2, reply.value)
        assert len(profile.buffer) == 0  # all captured at 2024-01-10T00:00
        buffer = cosem.CosemAttribute(interface=enumerations.CosemInterface.PROFILE_GENERIC,
                                      instance=cosem.Obis(1, 0, 99, 1, 0, 255), attribute=2)
        (raw,) = read(wrapper_transport(fleet.port("tcp", MODELS.index("idis_poly")), 1), 1, buffer)
        assert raw[:2] == bytes((0x01, 60)) and len(raw) > 1024  # dlms-cosem reads the same buffer

        clock = GXDLMSClock("0.0.1.0.0.255")
        clock.time = GXDateTime(datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc))
        peer.request(peer.client.write(clock, 2))  # SET
        peer.read(clock, 2)
        assert clock.time.value.astimezone(timezone.utc).replace(microsecond=0) == \
            datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
    finally:
        peer.release()
        peer.pipe.close()
