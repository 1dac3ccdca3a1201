"""Issue 8 over a real socket: general block transfer read by gurux-dlms, and a one-byte RLRQ.

gurux-dlms 1.0.203 reads GBT answers, but its receiverReady reads `settings.blockNumber`, which
its GXDLMSSettings does not have (AttributeError on the first acknowledgement); the C# and Go
ports of the same client read `settings.BlockIndex` there. The test gives the client that one
attribute, an alias of blockIndex, and changes nothing else. Its GBT window is set with
`setGbtWindowSize` (the `gbtWndowSize` property is misspelt in 1.0.203).
"""

from __future__ import annotations

import socket
from datetime import datetime, timezone

import pytest
from gurux_dlms import GXDLMSSettings
from gurux_dlms.enums import Conformance, DataType
from gurux_dlms.objects import GXDLMSProfileGeneric

from .harness import RunningFleet
from .peers import GuruxPeer, Pipe, SocketPipe, gurux_client

PROFILE = """
name: wire
time: {start: 2024-01-10T00:00:00Z}
groups:
  - name: electricity
    model: idis_poly
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
      - {transport: udp, host: 127.0.0.1, port: 0}
"""
LOAD_PROFILE = "1.0.99.1.0.255"
# Issue 8 item 7: what the client proposed (AARE 5F1F04 0020021D): GBT, no block-transfer-with-get.
ISSUE_CONFORMANCE = (Conformance.GENERAL_BLOCK_TRANSFER | Conformance.MULTIPLE_REFERENCES | Conformance.GET
                     | Conformance.SET | Conformance.SELECTIVE_ACCESS | Conformance.ACTION)
GBT = 0xE0


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    with RunningFleet(PROFILE, tmp_path_factory.mktemp("wire"), state_dir=None) as running:
        yield running


@pytest.fixture
def gurux_gbt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(GXDLMSSettings, "blockNumber", property(lambda s: s.blockIndex), raising=False)


class RecordingPipe:
    """A pipe that keeps the APDU tag of every wrapper frame the meter sent."""

    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe
        self.received = b""

    def send(self, data: bytes) -> None:
        self.pipe.send(data)

    def receive(self) -> bytes:
        data = self.pipe.receive()
        self.received += data
        return data

    def close(self) -> None:
        self.pipe.close()

    def tags(self) -> list[int]:
        tags, data = [], self.received
        while len(data) >= 8:
            length = int.from_bytes(data[6:8], "big")
            tags.append(data[8])
            data = data[8 + length:]
        return tags

    def gbt_blocks(self) -> list[tuple[int, bool]]:
        """(block number, streaming) of every GBT block received."""
        blocks, data = [], self.received
        while len(data) >= 8:
            length = int.from_bytes(data[6:8], "big")
            if data[8] == GBT:
                blocks.append((int.from_bytes(data[10:12], "big"), bool(data[9] & 0x40)))
            data = data[8 + length:]
        return blocks


def issue_client(port: int, client_sap: int = 2, udp: bool = False) -> tuple[GuruxPeer, RecordingPipe]:
    client = gurux_client(client_sap)
    client.proposedConformance = ISSUE_CONFORMANCE
    client.maxReceivePDUSize = 256
    client.setGbtWindowSize(4)
    pipe = RecordingPipe(SocketPipe("127.0.0.1", port, udp=udp))
    peer = GuruxPeer(pipe, client)
    peer.connect()
    return peer, pipe


@pytest.mark.parametrize("udp", [False, True])
def test_gurux_reads_the_object_list_in_gbt_windows(fleet: RunningFleet, gurux_gbt: None, udp: bool) -> None:
    """Before: the GET of the object list was answered C4 01 C1 01 FA (other-reason)."""
    peer, pipe = issue_client(fleet.port("udp" if udp else "tcp"), udp=udp)
    try:
        objects = list(peer.client.parseObjects(peer.request([peer.client.getObjectsRequest()]).data, True))
        assert len(objects) > 50
        blocks = pipe.gbt_blocks()
        assert [n for n, _ in blocks] == list(range(1, len(blocks) + 1)) and len(blocks) > 9
        # one block, then windows of the client's 4: the last of each window waits for the client
        assert [s for _, s in blocks[1:9]] == [True, True, True, False] * 2
    finally:
        peer.release()
        pipe.close()


def test_gurux_reads_a_long_profile_in_gbt_plain_and_ciphered(fleet: RunningFleet, gurux_gbt: None) -> None:
    management, pipe = issue_client(fleet.port("tcp"), client_sap=1)
    try:
        profile = GXDLMSProfileGeneric(LOAD_PROFILE)
        management.read(profile, 3)
        for _ in range(40):  # ACTION capture: 40 rows
            management.request(management.client.method(profile, 2, 0, DataType.INT8))
        management.read(profile, 2)  # ciphered answer, protected whole and cut into GBT blocks
        assert len(profile.buffer) >= 40 and GBT in pipe.tags()
    finally:
        management.release()
        pipe.close()
    reader, pipe = issue_client(fleet.port("tcp"))
    try:
        profile = GXDLMSProfileGeneric(LOAD_PROFILE)
        reader.read(profile, 3)
        reader.read(profile, 2)
        assert len(profile.buffer) >= 40 and len(profile.buffer[0]) == len(profile.captureObjects)
        assert profile.buffer[0][0].value.astimezone(timezone.utc) >= datetime(2024, 1, 10, tzinfo=timezone.utc)
        assert len(pipe.gbt_blocks()) > 5
    finally:
        reader.release()
        pipe.close()


# --------------------------------------------------------------------------- RLRQ
# Issue 8 item 12: an AARQ of the public client (dlms-cosem's, no authentication), then RLRQs.
AARQ_PUBLIC = bytes.fromhex("601DA109060760857405080101BE10040E01000000065F1F0400001E1DFFFF")
GET_LDN = bytes.fromhex("C001C1000100002A0000FF0200")  # GET 0.0.42.0.0.255 attribute 2


def wrapped(apdu: bytes) -> bytes:
    return bytes.fromhex("0001 0010 0001") + len(apdu).to_bytes(2, "big") + apdu


def answer(sock: socket.socket, apdu: bytes) -> bytes:
    """Send one APDU from client 16 and read the whole wrapper frame of the answer."""
    sock.sendall(wrapped(apdu))
    data = b""
    while len(data) < 8 or len(data) < 8 + int.from_bytes(data[6:8], "big"):
        more = sock.recv(4096)
        assert more, "the meter closed the connection"
        data += more
    return data[8:]


def test_one_byte_rlrq_releases_nothing(fleet: RunningFleet) -> None:
    """`000100100001000162`: before, an RLRE normal (6303800100) and the association gone."""
    with socket.create_connection(("127.0.0.1", fleet.port("tcp")), timeout=5) as sock:
        assert answer(sock, AARQ_PUBLIC)[:1] == b"\x61"
        assert answer(sock, b"\x62") == bytes.fromhex("6303800101")  # RLRE not-finished
        assert answer(sock, GET_LDN)[:4] == bytes.fromhex("C401C100")  # still associated
        assert answer(sock, bytes.fromhex("6200")) == bytes.fromhex("6303800100")  # a real RLRQ releases
        assert answer(sock, GET_LDN)[:1] == b"\xd8"  # exception-response: no association any more
