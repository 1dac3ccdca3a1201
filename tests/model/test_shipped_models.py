"""What the shipped models declare beyond the basics: the objects an IDIS meter has and a head-end
reads (threshold monitor, M-Bus and communication logs, power quality profile, firmware
identifiers and signatures, image activation, long power failures), and the gas and water
meters' hourly and daily profiles, each with the class, OBIS code, unit and wiring that make it
work, and the access each association has to them.

Every attribute of every object is read over the wire by tests/runtime/test_transport_matrix.py
(gurux-dlms), so these new objects are also proven readable there.
"""

from __future__ import annotations

from simulator.axdr import Data, DataType, Obis
from simulator.cosem.base import AttributeAccess, MethodAccess
from simulator.cosem.events import EVENT_CODE_OBJECTS, EVENT_LOGS
from simulator.model.catalogue import SHIPPED_DIR
from simulator.model.loader import load_model
from simulator.model.spec import LogicalDeviceSpec, ObjectSpec

CLOCK_COLUMN = (8, "0.0.1.0.0.255", 2, 0)


def device(name: str) -> LogicalDeviceSpec:
    return load_model(SHIPPED_DIR / f"{name}.yaml").logical_devices[1]


def obj(dev: LogicalDeviceSpec, ln: str) -> ObjectSpec:
    found = dev.find(bytes(Obis(ln)))
    assert found is not None, f"{ln} missing"
    return found


def attr(spec: ObjectSpec, name: str) -> Data | None:
    adef = spec.cls.attribute_named(name)
    assert adef is not None
    return spec.values[adef.index - 1]


def plain(d: Data | None) -> object:
    """A Data tree as Python values, OBIS octet strings as dotted text."""
    assert d is not None
    if d.type in (DataType.STRUCTURE, DataType.ARRAY):
        return tuple(plain(x) for x in d.value)
    if d.type == DataType.OCTET_STRING and len(d.value) == 6:
        return str(Obis(d.value))
    return d.value


def columns(spec: ObjectSpec) -> list[tuple[object, ...]]:
    return [c for c in plain(attr(spec, "capture_objects"))]  # type: ignore[union-attr]


def unit_of(spec: ObjectSpec) -> tuple[object, ...]:
    return plain(attr(spec, "scaler_unit"))  # type: ignore[return-value]


S, V, A, W = 7, 35, 33, 27  # Blue Book unit codes: second, volt, ampere, watt


def test_idis_register_monitor_watches_active_power_and_pushes_the_alarm() -> None:
    dev = device("idis_poly")
    monitor = obj(dev, "0.0.16.1.0.255")
    assert monitor.cls.class_id == 21
    assert plain(attr(monitor, "monitored_value")) == (3, "1.0.1.7.0.255", 2)
    assert unit_of(obj(dev, "1.0.1.7.0.255")) == (0, W)
    thresholds = attr(monitor, "thresholds")
    assert thresholds is not None and [t.type for t in thresholds.value] == [DataType.DOUBLE_LONG] * 2
    assert plain(thresholds) == (11500, 17250)
    assert plain(attr(obj(dev, "0.0.17.0.0.255"), "threshold_normal")) == 17250  # the limiter's contract limit
    assert plain(attr(monitor, "actions")) == ((("0.0.10.0.108.255", 1), ("0.0.10.0.108.255", 0)),) * 2
    push_script = obj(dev, "0.0.10.0.108.255")
    assert push_script.cls.class_id == 9
    assert plain(attr(push_script, "scripts"))[0][0] == 1  # type: ignore[index]


def test_idis_event_logs_are_the_ones_events_py_writes_each_with_its_event_code_object() -> None:
    dev = device("idis_poly")
    for log, ln in EVENT_LOGS.items():
        profile, code = obj(dev, str(ln)), obj(dev, str(EVENT_CODE_OBJECTS[log]))
        assert (profile.cls.class_id, code.cls.class_id) == (7, 1), log
        assert columns(profile)[:2] == [CLOCK_COLUMN, (1, str(EVENT_CODE_OBJECTS[log]), 2, 0)], log
        assert plain(attr(code, "value")) == 0 and attr(code, "value").type == DataType.UNSIGNED  # type: ignore[union-attr]
    assert str(EVENT_LOGS["mbus"]) == "0.0.99.98.3.255" and str(EVENT_LOGS["communication"]) == "0.0.99.98.5.255"


def test_idis_long_power_failures_and_their_log() -> None:
    dev = device("idis_poly")
    count = obj(dev, "0.0.96.7.9.255")
    assert count.cls.class_id == 1 and attr(count, "value") == Data(DataType.LONG_UNSIGNED, 0)
    duration, threshold = obj(dev, "0.0.96.7.19.255"), obj(dev, "0.0.96.7.20.255")
    assert (duration.cls.class_id, unit_of(duration)) == (3, (0, S))
    assert (plain(attr(threshold, "value")), unit_of(threshold)) == (180, (0, S))
    log = obj(dev, "1.0.99.97.0.255")
    assert log.cls.class_id == 7 and columns(log) == [CLOCK_COLUMN, (3, "0.0.96.7.19.255", 2, 0)]
    for ln in ("1.0.12.43.0.255", "1.0.12.44.0.255"):  # sag and swell time thresholds
        assert unit_of(obj(dev, ln)) == (0, S)


def test_idis_power_quality_profile_captures_ten_minute_averages_per_phase() -> None:
    dev = device("idis_poly")
    profile = obj(dev, "1.0.99.1.2.255")
    assert plain(attr(profile, "capture_period")) == 600 and plain(attr(profile, "profile_entries")) == 1440
    averages = ["1.0.32.24.0.255", "1.0.52.24.0.255", "1.0.72.24.0.255",
                "1.0.31.24.0.255", "1.0.51.24.0.255", "1.0.71.24.0.255"]
    assert columns(profile) == [CLOCK_COLUMN, *((3, ln, 2, 0) for ln in averages)]
    assert [unit_of(obj(dev, ln)) for ln in averages] == [(-1, V)] * 3 + [(-2, A)] * 3


def test_idis_firmware_identifiers_and_signatures() -> None:
    dev = device("idis_poly")
    for ln in ("1.0.0.2.0.255", "1.0.0.2.8.255", "1.1.0.2.0.255", "1.1.0.2.8.255"):
        value = attr(obj(dev, ln), "value")
        assert obj(dev, ln).cls.class_id == 1 and value is not None and value.type == DataType.OCTET_STRING, ln
    assert attr(obj(dev, "1.1.0.2.0.255"), "value") == Data(DataType.OCTET_STRING, b"APP-1.0.0")
    assert len(attr(obj(dev, "1.0.0.2.8.255"), "value").value) == 8  # type: ignore[union-attr]


def test_idis_image_activation_schedule_runs_image_activate_and_is_not_set() -> None:
    dev = device("idis_poly")
    schedule, script = obj(dev, "0.0.15.0.2.255"), obj(dev, "0.0.10.0.107.255")
    assert (schedule.cls.class_id, script.cls.class_id, obj(dev, "0.0.44.0.0.255").cls.class_id) == (22, 9, 18)
    assert plain(attr(schedule, "executed_script")) == ("0.0.10.0.107.255", 1)
    assert plain(attr(script, "scripts")) == ((1, ((2, 18, "0.0.44.0.0.255", 4, 0),)),)  # method 4 image_activate
    time, day = attr(schedule, "execution_time").value[0].value  # type: ignore[union-attr]
    assert time.value == b"\xff" * 4 and day.value == b"\xff\xff\xff\xff\xff"  # not specified: never runs by itself


def test_idis_access_public_reads_little_reader_cannot_touch_firmware_activation() -> None:
    dev = device("idis_poly")
    public, reader, management = (dev.associations[s] for s in (16, 2, 1))
    new = ["0.0.16.1.0.255", "1.0.99.1.2.255", "0.0.99.98.3.255", "0.0.99.98.5.255", "1.0.99.97.0.255",
           "0.0.96.7.9.255", "1.0.0.2.8.255", "1.1.0.2.0.255", "0.0.15.0.2.255", "0.0.10.0.107.255"]
    for ln in new:
        assert not public.visible(obj(dev, ln).index), ln
        assert management.visible(obj(dev, ln).index), ln
    for ln in ("0.0.15.0.2.255", "0.0.10.0.107.255", "0.0.44.0.0.255"):
        assert not reader.visible(obj(dev, ln).index), ln
    monitor = reader.rights[obj(dev, "0.0.16.1.0.255").index]
    assert monitor.attribute(2) == AttributeAccess.READ_ONLY  # the reader sees thresholds, cannot change them
    schedule = management.rights[obj(dev, "0.0.15.0.2.255").index]
    assert schedule.attribute(4).writable  # the head-end sets the activation time
    assert management.rights[obj(dev, "0.0.10.0.107.255").index].method(1) != MethodAccess.NO_ACCESS


def test_gas_and_water_have_hourly_and_daily_profiles_of_their_volumes() -> None:
    for name, hourly, daily, volume in (("gas", "7.0.99.1.0.255", "7.0.99.2.0.255", "7.0.3.0.0.255"),
                                        ("water", "8.0.99.1.0.255", "8.0.99.2.0.255", "8.0.1.0.0.255")):
        dev = device(name)
        for ln, period in ((hourly, 3600), (daily, 86400)):
            profile = obj(dev, ln)
            assert plain(attr(profile, "capture_period")) == period, (name, ln)
            assert columns(profile)[:3] == [CLOCK_COLUMN, (1, "0.0.96.10.1.255", 2, 0), (3, volume, 2, 0)], (name, ln)


def test_unit_names_that_differ_only_by_case_are_different_units() -> None:
    # Blue Book 4.3.2 unit enumeration: 1 a (year), 7 s (second), 5 h (hour); 33 A, 51 S, 43 H.
    dev = device("idis_poly")
    assert unit_of(obj(dev, "1.0.31.7.0.255")) == (-2, A)  # current L1: ampere, not year
    from simulator.cosem.types import SCALER_UNIT
    unit = SCALER_UNIT.fields[1][1]
    assert [unit.value_of(n) for n in ("A", "a", "S", "s", "H", "h", "hz", "DEGC")] == [33, 1, 51, 7, 43, 5, 44, 9]
