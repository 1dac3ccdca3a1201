"""Data 0.0.43.1.e.255 (IDIS) shows the highest counter its Security setup accepted under the
global unicast key, read from the meter's SecurityState when asked: no copy is stored, so a
restore needs no republishing and an untouched meter has nothing to save."""

from __future__ import annotations

from simulator.axdr import Data, DataType, Obis
from simulator.cosem.events import computes_data_value
from simulator.cosem.tariff import ACTIVE_TARIFF_LN
from simulator.model.catalogue import SHIPPED_DIR
from simulator.model.loader import load_model
from simulator.security.counter import InvocationCounters
from simulator.security.keywrap import KeyId
from simulator.server.objects import Meter, ObjectHandle, TimeBase
from simulator.state import CounterChanged

from .meter_fixture import EPOCH_2024

UNICAST, BROADCAST = KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY, KeyId.GLOBAL_BROADCAST_ENCRYPTION_KEY
TITLES = (b"HEADEND1", b"HEADEND2")


def _meter() -> tuple[Meter, ObjectHandle, ObjectHandle]:
    model = load_model(SHIPPED_DIR / "idis_poly.yaml")
    meter = Meter(model, 1, {"serial": "00000001", "index": 1, "system_title": "53494D0000000001"},
                  TimeBase(EPOCH_2024))
    device = model.logical_devices[1]

    def handle(ln: str) -> ObjectHandle:
        spec = device.find(bytes(Obis(ln)))
        assert spec is not None, ln
        return ObjectHandle(meter, device, spec, 0.0)
    return meter, handle("0.0.43.0.1.255"), handle("0.0.43.1.1.255")


def test_an_accepted_counter_is_read_from_the_security_state_and_nothing_is_copied() -> None:
    meter, setup, counter = _meter()
    assert counter.get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 0)  # the model's, before any
    material = setup.security()
    material.accept(UNICAST, TITLES[0], 41)
    material.accept(UNICAST, TITLES[1], 7)
    material.accept(BROADCAST, TITLES[1], 900)  # another key's counters are not this object's
    assert counter.get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 41)
    assert meter.state.journal.take() == {CounterChanged(1, setup.spec.index, UNICAST, t) for t in TITLES} | {
        CounterChanged(1, setup.spec.index, BROADCAST, TITLES[1])}
    assert meter.state.values == {}


def test_restored_counters_are_shown_without_a_publish_step() -> None:
    meter, setup, counter = _meter()
    setup.security().restore_counters(UNICAST, InvocationCounters(5, {TITLES[0]: 1234}))
    assert counter.get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 1234)


def test_reading_the_counter_of_an_untouched_meter_changes_nothing() -> None:
    meter, _, counter = _meter()
    assert counter.get(2) == Data(DataType.DOUBLE_LONG_UNSIGNED, 0)
    assert meter.state.journal.take() == frozenset() and meter.state.values == {}


def test_only_the_published_counter_is_computed_other_data_objects_keep_the_fast_path() -> None:
    """The getter serves 0.0.43.1.e.255, the event objects of living meters (their list is
    checked in tests/cosem/test_events.py) and the currently active tariff (tests/cosem/
    test_tariff.py): every other Data object's value stays pre-encoded for GET, as it was
    before the counter became a computed value."""
    meter, _, counter = _meter()
    device = meter.model.logical_devices[1]
    data_objects = [o for o in device.objects if o.cls.class_id == 1 and o.values and o.values[1] is not None]
    others = [o for o in data_objects if o.logical_name not in (counter.logical_name, ACTIVE_TARIFF_LN)
              and not computes_data_value(bytes(o.logical_name))]
    assert others and all(o.encoded[1] == o.values[1].to_bytes() for o in others)
    assert counter.spec.encoded[1] is None
    tariff = device.find(bytes(ACTIVE_TARIFF_LN))
    assert tariff is not None and tariff.encoded[1] is None
