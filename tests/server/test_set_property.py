"""No sequence of SETs leaves a shipped meter unreadable.

For every shipped model: random SETs (mostly of the declared type with any content the type can
carry, sometimes of any type) on attributes some association of the model may write, through
the server's own write path with every right granted; afterwards every attribute that read
before still reads (GET answers data, not other-reason).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.apdu.initiate import Conformance
from simulator.association.session import AssociationSession
from simulator.cosem.base import AttributeAccess, MethodAccess
from simulator.model.catalogue import SHIPPED_DIR
from simulator.model.loader import load_model
from simulator.model.spec import MeterModel, ObjectRights
from simulator.server.access import read, write
from simulator.server.objects import Meter, TimeBase
from simulator.server.request import Request

from tests.cosem.meter_fixture import EPOCH_2024
from tests.cosem.typed_values import typed_values

MODELS = [p for p in sorted(SHIPPED_DIR.glob("*.yaml"))]
_log = logging.getLogger("test.set_property")


def request(model: MeterModel) -> Request:
    """A fresh meter and a pre-established association that may read and write everything."""
    meter = Meter(model, 1, {"serial": "00000001", "index": 1, "system_title": "53494D0000000001"},
                       TimeBase(EPOCH_2024))
    device = model.logical_devices[min(model.logical_devices)]
    rights = {o.index: ObjectRights(tuple(AttributeAccess.READ_AND_WRITE for _ in o.cls.attributes),
                                    tuple(MethodAccess.ACCESS for _ in o.cls.methods)) for o in device.objects}
    spec = replace(next(iter(device.associations.values())), rights=rights, pre_established=True)
    session = AssociationSession.pre_established(meter, device, spec)
    return Request(meter, device, session, 0.0, None, Conformance(0xFFFFFF), None, _log)


def readable(req: Request) -> set[tuple[int, int]]:
    return {(o.index, a.index) for o in req.device.objects for a in o.cls.attributes
            if isinstance(read(req, o, a.index, None), bytes)}


def writable(model: MeterModel) -> list[tuple[int, int]]:
    """(object, attribute) pairs some association of the model may write."""
    device = model.logical_devices[min(model.logical_devices)]
    return sorted({(i, a.index) for assoc in device.associations.values() for i, rights in assoc.rights.items()
                   for a in device.objects[i].cls.attributes if rights.attribute(a.index).writable})


@pytest.mark.parametrize("path", [p for p in MODELS if writable(load_model(p))], ids=lambda p: p.stem)
def test_random_sets_never_leave_an_attribute_unreadable(path) -> None:
    model = load_model(path)
    baseline = readable(request(model))
    pairs = writable(model)
    device = model.logical_devices[min(model.logical_devices)]

    def one_set(pair: tuple[int, int]) -> st.SearchStrategy:
        obj = device.objects[pair[0]]
        like = request(model).handle(obj).stored(pair[1])
        return st.tuples(st.just(pair), typed_values(obj.cls.attribute(pair[1]).type, like))

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(st.sampled_from(pairs).flatmap(one_set), min_size=1, max_size=3))
    def run(sets: list) -> None:
        req = request(model)
        for (index, attribute), value in sets:
            write(req, device.objects[index], attribute, value)
        lost = baseline - readable(req)
        assert not lost, [f"{device.objects[i].describe()} attribute {a}" for i, a in sorted(lost)]

    run()
