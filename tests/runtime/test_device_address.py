"""The IEC HDLC setup object's device_address is the physical address the meter answers.

On a multi-drop line of four meters (physical addresses 17 to 20, as the demo's electricity
meters share 127.0.0.1:4099) each meter reports its own address, read with gurux-dlms over a
real socket; a meter on a line of its own reports that line's address.
"""

from __future__ import annotations

import pytest
from gurux_dlms import GXDLMSClient
from gurux_dlms.objects import GXDLMSHdlcSetup

from .harness import RunningFleet
from .peers import GuruxPeer, SocketPipe, gurux_client

PROFILE = """
groups:
  - name: line
    model: idis_poly
    count: 4
    listen: [{transport: hdlc-tcp, addressing: multidrop, host: 127.0.0.1, port: 0, physical_address: 17}]
  - name: alone
    model: idis_poly
    listen: [{transport: hdlc-tcp, host: 127.0.0.1, port: 0, physical_address: 33}]
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    with RunningFleet(PROFILE, tmp_path_factory.mktemp("address"), state_dir=None) as running:
        yield running


def device_address(port: int, physical: int) -> int:
    setup = GXDLMSHdlcSetup("0.0.22.0.0.255")
    pipe = SocketPipe("127.0.0.1", port)
    try:
        peer = GuruxPeer(pipe, gurux_client(2, GXDLMSClient.getServerAddress(1, physical), hdlc=True))
        (address,) = peer.session_read((setup, 9))
    finally:
        pipe.close()
    return address


@pytest.mark.parametrize("physical", [17, 18, 19, 20])
def test_each_meter_on_a_multidrop_line_reads_its_own_address(fleet: RunningFleet, physical: int) -> None:
    assert device_address(fleet.port("hdlc-tcp", 0), physical) == physical


def test_a_meter_on_its_own_line_reads_that_lines_address(fleet: RunningFleet) -> None:
    assert device_address(fleet.port("hdlc-tcp", 4), 33) == 33
