"""An activated image is what the meter runs: its firmware identifier, its standard event log,
a restart; and the meter's own clock adjustments in the standard event log."""

from __future__ import annotations

from simulator.axdr import Data, DataType
from simulator.state.effects import ClockAdjustment, LoggedEvents
from tests.cosem.helpers import ZERO, call, octets, struct, u32
from tests.cosem.meter_fixture import EPOCH_2024, TestMeter

IMAGE_LN, FIRMWARE_LN, MODULE_FIRMWARE_LN = "0.0.44.0.0.255", "1.0.0.2.0.255", "1.1.0.2.0.255"
CLOCK_LN, STANDARD_LOG_LN, STANDARD_CODE_LN = "0.0.1.0.0.255", "0.0.99.98.0.255", "0.0.96.11.0.255"
# IDIS standard event log codes (Connexo IDIS protocol, StandardEventLog.java):
# 4 clock adjusted (old date/time), 5 clock adjusted (new date/time), 18 firmware activated.
OLD_TIME, NEW_TIME, FIRMWARE_ACTIVATED = 4, 5, 18


def meter() -> TestMeter:
    return TestMeter([
        (18, IMAGE_LN, {2: u32(4), 5: Data(DataType.BOOLEAN, True)}),
        (1, FIRMWARE_LN, {2: octets(b"FW-1")}),
        (1, MODULE_FIRMWARE_LN, {2: octets(b"MOD-1")}),
        (8, CLOCK_LN, {}),
        (7, STANDARD_LOG_LN, {8: u32(10)}),
        (1, STANDARD_CODE_LN, {2: Data(DataType.UNSIGNED, 0)}),
    ])


def logged(m: TestMeter) -> list[tuple[float, int]]:
    record = m.obj(STANDARD_LOG_LN).effect(LoggedEvents)
    return [] if record is None else record.entries


def activate(m: TestMeter, identifier: bytes) -> None:
    image = m.obj(IMAGE_LN)
    call(image, 1, struct(octets(identifier), u32(4)))
    call(image, 2, struct(u32(0), octets(b"\x00\x01\x02\x03")))
    call(image, 4, ZERO)


def test_activation_makes_the_image_the_active_firmware() -> None:
    m = meter()
    m.now = 30.0
    activate(m, b"FW-2")
    assert m.obj(FIRMWARE_LN).get(2) == octets(b"FW-2")
    assert m.obj(MODULE_FIRMWARE_LN).get(2) == octets(b"MOD-1")  # another image: untouched
    assert logged(m) == [(EPOCH_2024 + 30, FIRMWARE_ACTIVATED)]
    assert m.obj(STANDARD_CODE_LN).get(2) == Data(DataType.UNSIGNED, FIRMWARE_ACTIVATED)


def test_activation_restarts_the_meter_and_nothing_else_does() -> None:
    m = meter()
    image = m.obj(IMAGE_LN)
    call(image, 1, struct(octets(b"FW-2"), u32(4)))
    call(image, 2, struct(u32(0), octets(b"\x00\x01\x02\x03")))
    call(image, 3, ZERO)
    assert m.state.restarts == 0  # transfer and verification run on the old image
    call(image, 4, ZERO)
    assert m.state.restarts == 1


def test_a_clock_set_logs_the_old_and_the_new_time() -> None:
    m = meter()
    m.now = 10.0
    target = EPOCH_2024 + 3600
    m.obj(CLOCK_LN).write(2, octets(_utc_date_time(2024, 1, 1, 1, 0, 0)))
    assert logged(m) == [(EPOCH_2024 + 10, OLD_TIME), (target, NEW_TIME)]


def test_shift_time_logs_both_instants_and_a_zero_shift_logs_nothing() -> None:
    m = meter()
    call(m.obj(CLOCK_LN), 6, Data(DataType.LONG, -30))
    assert logged(m) == [(EPOCH_2024, OLD_TIME), (EPOCH_2024 - 30, NEW_TIME)]
    call(m.obj(CLOCK_LN), 6, Data(DataType.LONG, 0))
    assert len(logged(m)) == 2
    assert m.obj(CLOCK_LN).effect(ClockAdjustment) is None  # the status bits are another matter


def _utc_date_time(year: int, month: int, day: int, hour: int, minute: int, second: int) -> bytes:
    """octet-string(12) date-time, deviation 0 (UTC), status 0 (Blue Book 4.1.6.1)."""
    return bytes([year >> 8, year & 0xFF, month, day, 0xFF, hour, minute, second, 0, 0, 0, 0])
