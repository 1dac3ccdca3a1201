"""A living IDIS meter with two years of history, read over a real socket by gurux-dlms and
dlms-cosem: the power failures its seeded generator gave it are power down / power up rows of
the standard event log, and the event code object, the alarm register (and its clearing by a
write), and the event counters say the same."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dlms_cosem import cosem, enumerations
from dlms_cosem.cosem.capture_object import CaptureObject
from dlms_cosem.cosem.selective_access import RangeDescriptor
from gurux_dlms.enums import DataType as GuruxType
from gurux_dlms.objects import GXDLMSData, GXDLMSProfileGeneric

from simulator.axdr import CosemDateTime, Data
from simulator.cosem.events import EventCode
from simulator.living.events import DEFAULT_EVENTS, events_between

from ..runtime.harness import RunningFleet
from ..runtime.peers import GuruxPeer, SocketPipe, dlms_client, gurux_client, wrapper_transport

# Fleet time nearly stands still (rate 0.001): what the test computes and what the meter answers
# are the same instant's.
PROFILE = """
name: events
seed: 4
time: {start: "2025-06-01T12:00:00Z", rate: 0.001, history: 730d}
groups:
  - name: e
    model: idis_poly
    count: 1
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
"""

STANDARD_LOG = cosem.CosemAttribute(interface=enumerations.CosemInterface.PROFILE_GENERIC,
                                    instance=cosem.Obis(0, 0, 99, 98, 0, 255), attribute=2)
CLOCK_COLUMN = CaptureObject(cosem.CosemAttribute(interface=enumerations.CosemInterface.CLOCK,
                                                  instance=cosem.Obis(0, 0, 1, 0, 0, 255), attribute=2))


def _meter_now(fleet: RunningFleet) -> tuple[Any, float]:
    """The meter's living view and the fleet's time now, read on the engine's loop."""
    def view() -> tuple[Any, float]:
        engine = fleet.engine
        return engine.fleet.live_meters[0].meter.living, engine.fleet.time_base.epoch(engine.now())
    result: tuple[Any, float] = fleet.call(view)
    return result


def test_a_power_failure_is_in_the_event_log_and_the_event_objects(tmp_path: Path) -> None:
    with RunningFleet(PROFILE, tmp_path) as fleet:
        peer = GuruxPeer(SocketPipe("127.0.0.1", fleet.port("tcp")), gurux_client(1))
        peer.connect()
        try:
            failures_read = peer.read(GXDLMSData("0.0.96.7.21.255"), 2)
            living, now = _meter_now(fleet)
            model = living.model.events or DEFAULT_EVENTS
            failures = [e for e in events_between(model, living.seed, living.installed, living.installed, now)
                        if e.kind == "power_failure"]
            assert len(failures) >= 2
            assert failures_read == len(failures)

            log = GXDLMSProfileGeneric("0.0.99.98.0.255")
            peer.read(log, 3)  # capture objects: clock, event code
            rows = peer.read(log, 2)
            codes = [(row[0].value.timestamp(), row[1]) for row in rows]
            last = failures[-1]
            assert (last.start, EventCode.POWER_DOWN) in codes and (last.end, EventCode.POWER_UP) in codes

            code = peer.read(GXDLMSData("0.0.96.11.0.255"), 2)
            assert code == EventCode.POWER_UP  # the latest event of the standard log: the last power up

            alarm = GXDLMSData("0.0.97.98.0.255")
            assert peer.read(alarm, 2) & 1 << 2  # power up
            alarm.value = 0
            alarm.setDataType(2, GuruxType.UINT32)
            peer.request(peer.client.write(alarm, 2))
            assert peer.read(GXDLMSData("0.0.97.98.0.255"), 2) == 0
            assert peer.read(GXDLMSData("0.0.96.11.0.255"), 2) == EventCode.ALARM_REGISTER_CLEARED

            sags = [e for e in events_between(model, living.seed, living.installed, living.installed, now)
                    if e.kind == "voltage_sag"]
            for ln, phase in (("1.0.32.32.0.255", 1), ("1.0.52.32.0.255", 2), ("1.0.72.32.0.255", 3)):
                assert peer.read(GXDLMSData(ln), 2) == sum(1 for e in sags if e.phase == phase), ln
        finally:
            peer.release()

        # dlms-cosem: the standard event log by range around the last power failure holds its two rows
        window = (datetime.fromtimestamp(last.start - 60, timezone.utc),
                  datetime.fromtimestamp(last.end + 60, timezone.utc))
        with dlms_client(wrapper_transport(fleet.port("tcp"), 1), 1).session() as session:
            raw = session.get(STANDARD_LOG, RangeDescriptor(CLOCK_COLUMN, *window))
        rows = [(CosemDateTime.from_bytes(r.value[0].value).to_datetime().timestamp(), r.value[1].value)
                for r in Data.from_bytes(raw).value]
        assert rows == [(last.start, EventCode.POWER_DOWN), (last.end, EventCode.POWER_UP)]
