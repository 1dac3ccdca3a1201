"""Build a small in-memory meter from Python for class-behaviour tests (no YAML, no wire)."""

from __future__ import annotations

from typing import Any

from simulator.apdu.acse import ApplicationContextName, MechanismName
from simulator.axdr import Data, Obis
from simulator.cosem.registry import get_class
from simulator.model.spec import AssociationSpec, LogicalDeviceSpec, MeterModel, ObjectSpec, Template
from simulator.server.objects import Meter, ObjectHandle, TimeBase

# 2024-01-01T00:00:00Z: a fixed start so tests are reproducible.
EPOCH_2024 = 1704067200.0


class TestMeter:
    """One meter with one logical device (SAP 1) holding the given objects."""

    __test__ = False

    def __init__(self, objects: list[tuple[int, str, dict[int, Data]]], *, version: dict[int, int] | None = None,
                 start_epoch: float = EPOCH_2024, fields: dict[str, Any] | None = None) -> None:
        specs = []
        for i, (class_id, ln, values) in enumerate(objects):
            cls = get_class(class_id, (version or {}).get(class_id))
            assert cls is not None, f"class {class_id} not declared"
            n = max(a.index for a in cls.attributes)
            vals = tuple(values.get(k + 1) for k in range(n))
            specs.append(ObjectSpec(i, cls, Obis(ln), vals, tuple(None for _ in vals)))
        assoc = AssociationSpec(16, ApplicationContextName.LOGICAL_NAME, MechanismName.LOWEST)
        self.device = LogicalDeviceSpec(1, Template("SIM{serial}"), tuple(specs), {16: assoc},
                                        {bytes(s.logical_name): s.index for s in specs})
        self.model = MeterModel("test", "<test>", "test meter", {1: self.device})
        self.state = Meter(self.model, 0, fields or {"serial": "00000001"}, TimeBase(start_epoch))
        self.now = 0.0

    def obj(self, ln: str) -> ObjectHandle:
        spec = self.device.find(bytes(Obis(ln)))
        assert spec is not None, ln
        return ObjectHandle(self.state, self.device, spec, self.now)
