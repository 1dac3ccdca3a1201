"""Over a real socket with dlms-cosem: a living meter's calendar and schedules act at the right
simulated instants without timers.

- The currently active tariff 0.0.96.14.0.255 of an IDIS meter reads 1 in the day hours of a
  workday and 2 at night (the model's stored value is 1: the 2 comes from the calendar).
- A single action schedule whose execution time passes while the fleet runs at rate 600 has run
  its script (which writes a marker) by the next request after that time.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from dlms_cosem import cosem, enumerations

from simulator.axdr import CosemDateTime

from .harness import RunningFleet
from .peers import CLOCK, dlms_client, read, wrapper_transport

TARIFF = cosem.CosemAttribute(interface=enumerations.CosemInterface.DATA,
                              instance=cosem.Obis(0, 0, 96, 14, 0, 255), attribute=2)
MARKER = cosem.CosemAttribute(interface=enumerations.CosemInterface.DATA,
                              instance=cosem.Obis(0, 0, 96, 50, 0, 255), attribute=2)


def idis_fleet(start: str) -> str:
    return f"""
time: {{start: {start}}}
groups:
  - {{name: e, model: idis_poly, listen: [{{transport: tcp, host: 127.0.0.1, port: 0}}]}}
"""


@pytest.mark.parametrize(("start", "tariff"), [
    ("2024-01-03T07:30:00Z", 1),  # Wednesday 08:30 CET: day tariff
    ("2024-01-03T21:30:00Z", 2),  # Wednesday 22:30 CET: night tariff
    ("2024-01-06T12:00:00Z", 2),  # Saturday noon: weekend
])
def test_active_tariff_follows_the_calendar(tmp_path: Path, start: str, tariff: int) -> None:
    with RunningFleet(idis_fleet(start), tmp_path, state_dir=None) as fleet:
        [value] = read(wrapper_transport(fleet.port("tcp"), 2), 2, TARIFF)
    assert value == bytes((0x11, tariff))  # unsigned


MODEL = """
name: scheduled
description: a living meter whose single action schedule writes a marker
living: {}
logical_devices:
  - server_sap: 1
    name: "SIM{serial}"
    associations:
      - {client_sap: 16, name: public, authentication: none, role: public}
    objects:
      - {class: Association LN, obis: 0.0.40.0.0.255, name: Current association}
      - {class: Data, obis: 0.0.42.0.0.255, name: Logical device name}
      - class: Clock
        obis: 0.0.1.0.0.255
        name: Clock
        attributes:
          time_zone: 0
          daylight_savings_begin: "Sun *-03-254T02:00:00"
          daylight_savings_end: "Sun *-10-254T03:00:00"
          daylight_savings_deviation: 60
          daylight_savings_enabled: false
          clock_base: internal_crystal
      - {class: Data, obis: 0.0.96.50.0.255, name: Marker, attributes: {value: {type: unsigned, value: 0}}}
      - class: Script table
        obis: 0.0.10.0.1.255
        name: Marker script
        attributes:
          scripts:
            - script_identifier: 1
              actions: [[write_attribute, Data, 0.0.96.50.0.255, 2, {type: unsigned, value: 7}]]
      - class: Single action schedule
        obis: 0.0.15.0.0.255
        name: Marker at 10:10
        attributes:
          executed_script: [0.0.10.0.1.255, 1]
          type: size_1_wildcard_date
          execution_time: [["10:10:00", "2024-01-03"]]
"""

FAST_FLEET = """
time: {start: 2024-01-03T10:00:00Z, rate: 600}
groups:
  - {name: s, model: scheduled.yaml, listen: [{transport: tcp, host: 127.0.0.1, port: 0}]}
"""
EXECUTION = CosemDateTime(2024, 1, 3, None, 10, 10, 0, 0, 0, None).to_datetime()


def test_single_action_schedule_fires_while_the_fleet_runs(tmp_path: Path) -> None:
    (tmp_path / "scheduled.yaml").write_text(MODEL, encoding="utf-8")
    with RunningFleet(FAST_FLEET, tmp_path, state_dir=None) as fleet:
        client = dlms_client(wrapper_transport(fleet.port("tcp"), 16), 16)
        with client.session() as session:
            assert session.get(MARKER) == bytes((0x11, 0))  # 10:00 and a few simulated seconds
            deadline = time.monotonic() + 10  # 10:10 is one second away at rate 600
            while CosemDateTime.from_bytes(session.get(CLOCK)[2:]).to_datetime() < EXECUTION:
                assert time.monotonic() < deadline, "the fleet's clock did not reach 10:10"
            assert session.get(MARKER) == bytes((0x11, 7))
