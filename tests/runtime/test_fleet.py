"""Whole fleets: 1,000 meters behind one socket, counters across a restart, the demo contract."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import sqlite3
from pathlib import Path

import pytest
from dlms_cosem.exceptions import DlmsClientException
from gurux_dlms import GXDLMSClient

from simulator.runtime.command import banner
from simulator.runtime.profile import demo_profile_path

from .harness import RunningFleet
from .peers import (
    CLOCK, LDN, MANAGEMENT_COUNTER, GuruxPeer, SocketPipe, clock, counter_object, gurux_client,
    hdlc_tcp_transport, read, wrapper_transport,
)

DOCS = Path(__file__).resolve().parents[2] / "README.md"

THOUSAND = """
name: thousand
groups:
  - name: m
    model: minimal
    count: 1000
    listen:
      - {transport: tcp, addressing: address, host: 127.0.1.1, port: 0}
"""

ONE = """
name: one
groups:
  - name: e
    model: idis_poly
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
"""


def ldn(number: int) -> bytes:
    name = f"SIM{number:08d}".encode()
    return bytes((0x09, len(name))) + name


def counter(encoded: bytes) -> int:
    assert encoded[0] == 0x06  # double-long-unsigned
    return int.from_bytes(encoded[1:], "big")


def test_thousand_meters_each_at_its_own_loopback_address(tmp_path: Path) -> None:
    with RunningFleet(THOUSAND, tmp_path) as fleet:
        assert len(fleet.engine.endpoints) == 1  # one wildcard socket for all of them
        port = fleet.engine.endpoints[0].port
        sample = (0, 1, 254, 255, 256, 511, 700, 998, 999)
        for i in sample:
            host = str(ipaddress.IPv4Address("127.0.1.1") + i)
            when, name = read(wrapper_transport(port, 16, host=host), 16, CLOCK, LDN)
            assert when[:2] == b"\x09\x0c" and name == ldn(i + 1), host
        live = fleet.call(lambda: sorted(fleet.engine.fleet.live_meters))
        assert live == list(sample)  # the others were never built
        assert fleet.call(lambda: len(fleet.engine.timers)) == 0  # nothing scheduled while idle


def test_invocation_counters_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with RunningFleet(ONE, tmp_path, state_dir=state) as fleet:
        port = fleet.port("tcp")
        read(wrapper_transport(port, 1), 1, CLOCK, invocation_counter=5000, system_title=b"RESTART1")
        (seen,) = read(wrapper_transport(port, 16), 16, MANAGEMENT_COUNTER)
    last = counter(seen)
    assert last > 5000
    with contextlib.closing(sqlite3.connect(state / "state.sqlite3")) as db:
        assert db.execute("SELECT system_title, counter FROM received_counters").fetchall() == [(b"RESTART1", last)]
    with RunningFleet(ONE, tmp_path, state_dir=state) as fleet:
        port = fleet.port("tcp")
        (again,) = read(wrapper_transport(port, 16), 16, MANAGEMENT_COUNTER)
        assert counter(again) == last  # published from the saved state before anyone ciphered
        with pytest.raises(DlmsClientException):  # a head-end that forgot its counter is refused
            read(wrapper_transport(port, 1), 1, CLOCK, invocation_counter=10, system_title=b"RESTART1")
        read(wrapper_transport(port, 1), 1, CLOCK, invocation_counter=last + 1, system_title=b"RESTART1")


def test_demo_contract(tmp_path: Path) -> None:
    """The first electricity meter of the demo, exactly as the README promises it."""
    fleet = RunningFleet(demo_profile_path().read_text(), tmp_path, state_dir=tmp_path / "state")
    try:
        fleet.__enter__()
    except OSError as exc:
        pytest.skip(f"the demo's fixed ports are in use here: {exc}")
    try:
        text = banner(fleet.engine, secrets=True)
        for fact in ("127.0.0.1:4059", "127.0.0.1:4060", "12345678", "000102030405060708090A0B0C0D0E0F",
                     "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"):
            assert fact in text
        for client_sap in (16, 2, 1):
            (name,) = read(wrapper_transport(4059, client_sap), client_sap, LDN, system_title=b"DEMOTEST")
            assert name == ldn(1)
            (name,) = read(hdlc_tcp_transport(4060, client_sap, physical=17), client_sap, LDN,
                           system_title=b"DEMOTEST")
            assert name == ldn(1)
        for client_sap in (16, 1):
            peer = GuruxPeer(SocketPipe("127.0.0.1", 4059, udp=True), gurux_client(client_sap))
            try:
                (when,) = peer.session_read((clock(), 2))
            finally:
                peer.pipe.close()
            assert when is not None
        hdlc = GuruxPeer(SocketPipe("127.0.0.1", 4060), gurux_client(16, GXDLMSClient.getServerAddress(1, 17),
                                                                    hdlc=True))
        try:
            (published,) = hdlc.session_read((counter_object(), 2))
        finally:
            hdlc.pipe.close()
        assert published > 0  # the last counter client 1 (DEMOTEST) used
        for code in re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S):
            exec(compile(code, str(DOCS), "exec"), {})  # the README's snippets work as printed
    finally:
        fleet.__exit__(None, None, None)
