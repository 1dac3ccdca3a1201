"""Living meters' registers over real sockets: energy that rises as the fleet's time runs, tariff
registers that add up to the total, instantaneous values consistent with each other, and a
register a client set that goes on from the value set (gurux-dlms and dlms-cosem)."""

from __future__ import annotations

import time
from typing import Iterator

import pytest
from dlms_cosem import cosem, enumerations
from gurux_dlms.objects import GXDLMSRegister

from simulator.axdr import Data

from .harness import RunningFleet
from .peers import GuruxPeer, SocketPipe, gurux_client, read, wrapper_transport

# Ten days of history before 2024-03-05 20:00 UTC (evening: the rooftop PV covers nothing, the
# house imports); the fleet's time runs 600 times real time.
PROFILE = """
name: living
time: {start: 2024-03-05T20:00:00Z, rate: 600, utc_offset_min: 60, history: 10d}
groups:
  - name: electricity
    model: idis_poly
    count: 1
    listen: [{transport: tcp, host: 127.0.0.1, port: 0}]
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningFleet]:
    with RunningFleet(PROFILE, tmp_path_factory.mktemp("living"), state_dir=None) as running:
        yield running


def register(obis: str) -> cosem.CosemAttribute:
    return cosem.CosemAttribute(enumerations.CosemInterface.REGISTER, cosem.Obis.from_string(obis), 2)


def values(fleet: RunningFleet, *obis: str) -> list[int | float]:
    """dlms-cosem, client 2 (LLS): the registers' values in one association, as numbers."""
    raw = read(wrapper_transport(fleet.port("tcp"), 2), 2, *(register(o) for o in obis))
    return [Data.from_bytes(r).value for r in raw]


def test_energy_rises_while_the_fleets_time_runs(fleet: RunningFleet) -> None:
    before, = values(fleet, "1.0.1.8.0.255")
    time.sleep(1.0)  # ten simulated minutes
    after, = values(fleet, "1.0.1.8.0.255")
    assert before > 10 * 1000  # ten days of a household: several kWh already, in Wh
    assert after > before


def test_the_tariff_registers_add_up_to_the_total(fleet: RunningFleet) -> None:
    total, *tariffs = values(fleet, "1.0.1.8.0.255", "1.0.1.8.1.255", "1.0.1.8.2.255", "1.0.1.8.3.255",
                             "1.0.1.8.4.255")
    assert tariffs[0] > 0 and tariffs[1] > 0  # the calendar switches between T1 (day) and T2 (night)
    assert tariffs[2] == tariffs[3] == 0  # no day profile selects T3 or T4
    # each register rounds on its own, and a moment passes between the reads
    assert abs(sum(tariffs) - total) <= 2 + 60


def test_instantaneous_values_agree_with_each_other(fleet: RunningFleet) -> None:
    p1, u1, i1, pf1, u2, f, p = values(fleet, "1.0.21.7.0.255", "1.0.32.7.0.255", "1.0.31.7.0.255",
                                       "1.0.33.7.0.255", "1.0.52.7.0.255", "1.0.14.7.0.255", "1.0.1.7.0.255")
    assert 2070 <= u1 <= 2530 and 2070 <= u2 <= 2530  # 0.1 V: within EN 50160's +-10 %
    assert 4900 <= f <= 5100  # 0.01 Hz
    assert p >= p1 >= 0
    # P = U I cos(phi) on phase 1, within the registers' resolution (W, 0.1 V, 0.01 A, 0.001)
    assert abs(p1 - (u1 / 10) * (i1 / 100) * (pf1 / 1000)) <= 1 + 0.006 * (u1 / 10) + 0.0005 * p1


def test_a_register_set_by_a_client_goes_on_from_that_value(fleet: RunningFleet) -> None:
    """gurux-dlms, the management client (HLS-GMAC, ciphered): SET the import energy, read it back."""
    pipe = SocketPipe("127.0.0.1", fleet.port("tcp"))
    peer = GuruxPeer(pipe, gurux_client(1))
    peer.connect()
    try:
        energy = GXDLMSRegister("1.0.1.8.0.255")
        peer.read(energy, 3)
        first = peer.read(energy, 2)
        energy.value = 5_000_000
        peer.request(peer.client.write(energy, 2))
        time.sleep(0.5)  # five simulated minutes
        later = peer.read(energy, 2)
    finally:
        peer.release()
        pipe.close()
    assert first < 5_000_000 <= later < 5_000_000 + 5_000  # a household draws far less than 60 kW
