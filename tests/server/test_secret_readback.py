"""No client reads a secret back: GET of Association LN attribute 7 (secret) is answered
read-write-denied for every Association LN object of every shipped model, by every association
that can see it without ciphering (the public client and the LLS reader)."""

from __future__ import annotations

import pytest

from simulator.apdu.acse import AARE, AARQ, AssociationResult
from simulator.apdu.acse import MechanismName as Mech
from simulator.apdu.get import GetRequestNormal
from simulator.apdu.common import CosemAttributeDescriptor, InvokeIdAndPriority
from simulator.apdu.initiate import Conformance, InitiateRequest
from simulator.model.catalogue import shipped_dir
from simulator.model.loader import load_model
from simulator.server.meter import MeterServer
from simulator.server.objects import Meter, TimeBase

MODELS = sorted(p for p in shipped_dir("object_models").glob("*.yaml"))
READ_WRITE_DENIED = 3


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_no_association_reads_a_secret_back(path) -> None:
    model = load_model(path)
    state = Meter(model, 0, {}, TimeBase(0.0))
    checked = 0
    for device in model.logical_devices.values():
        for sap, spec in device.associations.items():
            if spec.mechanism not in (Mech.LOWEST, Mech.LOW) or spec.security_policy:
                continue
            channel = MeterServer(state).open_channel()
            password = None if spec.secret is None else spec.secret.render({}).value
            initiate = InitiateRequest(proposed_conformance=Conformance.GET, client_max_receive_pdu_size=0xFFFF)
            aarq = AARQ(application_context_name=spec.context, sender_acse_requirements=spec.mechanism == Mech.LOW,
                        mechanism_name=None if spec.mechanism == Mech.LOWEST else spec.mechanism,
                        calling_authentication_value=password, user_information=initiate.to_bytes())
            aare = AARE.from_bytes(channel.handle_apdu(device.server_sap, sap, aarq.to_bytes(), 0.0) or b"")
            assert aare.result == AssociationResult.ACCEPTED, (path.stem, sap)
            for obj in device.objects:
                if obj.cls.class_id != 15 or not spec.visible(obj.index):
                    continue
                get = GetRequestNormal(InvokeIdAndPriority(1, True, True),
                                       CosemAttributeDescriptor(15, obj.logical_name, 7)).to_bytes()
                answer = channel.handle_apdu(device.server_sap, sap, get, 0.0)
                assert answer == bytes((0xC4, 0x01, 0xC1, 0x01, READ_WRITE_DENIED)), (path.stem, sap, obj.logical_name)
                checked += 1
    assert checked >= 1
