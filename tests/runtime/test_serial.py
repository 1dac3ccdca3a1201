"""HDLC over a serial line: a socat pseudo-terminal pair, two meters multi-dropped on it.

The simulator opens one end with pyserial-asyncio (9600 baud 8N1), the clients the other.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gurux_dlms import GXDLMSClient

from .harness import NO_SOCAT, SOCAT, RunningFleet
from .harness import pty_pair as harness_pty_pair
from .peers import LDN, GuruxPeer, SerialPipe, clock, energy_register, gurux_client, hdlc_serial_transport, read

PROFILE = """
name: serial
groups:
  - name: line
    model: idis_poly
    count: 2
    listen:
      - {{transport: hdlc-serial, device: "{device}", baud_rate: 9600, physical_address: 17}}
"""


@pytest.fixture
def pty_pair(tmp_path: Path):
    if SOCAT is None:
        pytest.skip(NO_SOCAT)
    with harness_pty_pair(tmp_path) as pair:
        yield pair


def ldn(number: int) -> bytes:
    name = f"SIM{number:08d}".encode()
    return bytes((0x09, len(name))) + name


def test_hdlc_over_serial_multidrop(pty_pair: tuple[str, str], tmp_path: Path) -> None:
    meter_tty, client_tty = pty_pair
    with RunningFleet(PROFILE.format(device=meter_tty), tmp_path):
        (first,) = read(hdlc_serial_transport(client_tty, 16, physical=17), 16, LDN)
        (second,) = read(hdlc_serial_transport(client_tty, 2, physical=18), 2, LDN)
        assert (first, second) == (ldn(1), ldn(2))
        (again,) = read(hdlc_serial_transport(client_tty, 1, physical=17), 1, LDN)
        assert again == ldn(1)
        pipe = SerialPipe(client_tty)
        try:
            peer = GuruxPeer(pipe, gurux_client(1, GXDLMSClient.getServerAddress(1, 18), hdlc=True))
            when, energy = peer.session_read((clock(), 2), (energy_register(), 2))
        finally:
            pipe.close()
        assert when is not None and energy == 0
