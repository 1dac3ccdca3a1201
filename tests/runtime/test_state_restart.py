"""A clean restart per transport: what gurux-dlms SET over it reads back, its counters go on.

Over the TCP wrapper, the UDP wrapper and HDLC over TCP, client 1 (HLS-GMAC, suite 0
authenticated encryption) SETs the alarm filter 0.0.97.98.10.255 to 0x0BADCAFE; the fleet stops
and starts again on the same state directory; then the public client reads the published
invocation counter, an association that reuses the last counter is refused, and one above it
reads 0x0BADCAFE back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gurux_dlms import GXDLMSClient, GXDLMSException
from gurux_dlms.enums import DataType as GuruxType
from gurux_dlms.objects import GXDLMSData

from .harness import RunningFleet
from .peers import GuruxPeer, SocketPipe, counter_object, gurux_client

PROFILE = """
name: restart
groups:
  - name: e
    model: idis_poly
    count: 1
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
      - {transport: udp, host: 127.0.0.1, port: 0}
      - {transport: hdlc-tcp, host: 127.0.0.1, port: 0, physical_address: 17}
"""
TITLE = b"RESTART2"


def peer(fleet: RunningFleet, transport: str, client_sap: int, counter: int | None = None) -> GuruxPeer:
    hdlc = transport == "hdlc-tcp"
    client = gurux_client(client_sap, GXDLMSClient.getServerAddress(1, 17) if hdlc else 1, hdlc=hdlc,
                          invocation_counter=counter, system_title=TITLE)
    return GuruxPeer(SocketPipe("127.0.0.1", fleet.port(transport), udp=transport == "udp"), client)


def alarm_filter(value: int | None = None) -> GXDLMSData:
    alarm = GXDLMSData("0.0.97.98.10.255")
    alarm.setDataType(2, GuruxType.UINT32)
    alarm.value = value
    return alarm


@pytest.mark.parametrize("transport", ["tcp", "udp", "hdlc-tcp"])
def test_a_set_and_the_counters_survive_a_restart(tmp_path: Path, transport: str) -> None:
    state = tmp_path / "state"
    with RunningFleet(PROFILE, tmp_path, state_dir=state) as fleet:
        management = peer(fleet, transport, 1, counter=7000)
        try:
            management.connect()
            management.request(management.client.write(alarm_filter(0x0BADCAFE), 2))
            used = management.client.ciphering.invocationCounter - 1
            management.release()
        finally:
            management.pipe.close()
    with RunningFleet(PROFILE, tmp_path, state_dir=state) as fleet:
        public = peer(fleet, transport, 16)
        try:
            (published,) = public.session_read((counter_object(), 2))
        finally:
            public.pipe.close()
        assert published >= used
        replay = peer(fleet, transport, 1, counter=used)
        try:
            with pytest.raises((GXDLMSException, OSError, ValueError)):
                replay.connect()
        finally:
            replay.pipe.close()
        management = peer(fleet, transport, 1, counter=published + 1)
        try:
            (value,) = management.session_read((alarm_filter(), 2))
        finally:
            management.pipe.close()
        assert value == 0x0BADCAFE


def test_a_change_that_cannot_be_kept_is_never_acknowledged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The store fails (closed under the engine, as a broken disk would): a ciphered AARQ, whose
    counter cannot be kept, gets no AARE and its connection is dropped with the reason logged;
    the public client, which changes nothing, is still served."""
    with RunningFleet(PROFILE, tmp_path, state_dir=tmp_path / "state") as fleet:
        store = fleet.engine.store
        assert store is not None
        fleet.call(store.close)
        management = peer(fleet, "tcp", 1, counter=10)
        try:
            with pytest.raises((GXDLMSException, OSError, ValueError)):
                management.connect()
        finally:
            management.pipe.close()
        public = peer(fleet, "tcp", 16)
        try:
            (published,) = public.session_read((counter_object(), 2))
        finally:
            public.pipe.close()
        assert isinstance(published, int)
    assert any("state.sqlite3 is closed; the answers of these changes are withheld" in r.getMessage()
               for r in caplog.records if r.levelname == "ERROR")
