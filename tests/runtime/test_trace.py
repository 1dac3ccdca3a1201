"""--trace over real sockets: each frame's hex (pasteable into `cosem-sim decode`), the APDU
decoded whole, ciphered APDUs opened with the meter's keys, and never a secret anywhere."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

import pytest
from dlms_cosem import cosem, enumerations
from gurux_dlms import GXDLMSClient

from simulator.decode import decode
from simulator.link.hdlc import FrameKind, HDLCAddress, HDLCFrame
from simulator.link.wrapper import HEADER_SIZE, WrapperFrame
from simulator.runtime.trace import TRACE_LOGGER, HDLCTrace, Tracer
from simulator.server.objects import Meter

from ..cosem.meter_fixture import TestMeter
from .harness import LLS_PASSWORD, RunningFleet
from .peers import GuruxPeer, SocketPipe, clock, dlms_client, gurux_client, wrapper_transport

PROFILE = """
name: trace
groups:
  - name: electricity
    model: idis_poly
    count: 1
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
      - {transport: hdlc-tcp, host: 127.0.0.1, port: 0, physical_address: 17}
"""

# The requests of issue 8 item 1: SET of Association LN 0.0.40.0.0.255 secret (attribute 7) to
# "SETPW777", and ACTION change_HLS_secret (method 2) with "87654321" (Blue Book class 15).
SET_SECRET = bytes.fromhex("c101c2000f0000280000ff070009085345545057373737")
CHANGE_SECRET = bytes.fromhex("c301c1000f0000280000ff020109083837363534333231")
# AARQ, LLS, password "12345678", client max PDU 0xFFFF (Green Book LLS example's shape).
AARQ_LLS = bytes.fromhex("6036A1090607608574050801018A0207808B0760857405080201AC0A80083132333435363738"
                         "BE10040E01000000065F1F0400001E1DFFFF")
SECRETS = (b"SETPW777", b"87654321", LLS_PASSWORD)
HEX_WORD = re.compile(r"\b(?:wrapper|HDLC) ([0-9A-F]+)\b")


def _assert_no_secret(text: str) -> None:
    flat = text.upper().replace(" ", "")
    for secret in SECRETS:
        assert secret.decode() not in text, secret
        assert secret.hex().upper() not in flat, secret


def _all_logs(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() + ("" if r.exc_text is None else r.exc_text) for r in caplog.records)


class _RawWrapper:
    """Exact request bytes over a TCP wrapper connection (what a head-end's replay would send)."""

    def __init__(self, port: int, client_sap: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.client_sap = client_sap

    def send(self, apdu: bytes) -> bytes:
        self.sock.sendall(WrapperFrame(self.client_sap, 1, apdu).to_bytes())
        data = b""
        while len(data) < HEADER_SIZE or len(data) < HEADER_SIZE + int.from_bytes(data[6:8], "big"):
            chunk = self.sock.recv(4096)
            assert chunk, "the meter closed the connection"
            data += chunk
        return data[HEADER_SIZE:]

    def close(self) -> None:
        self.sock.close()


def test_secrets_never_reach_a_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with RunningFleet(PROFILE, tmp_path, trace=True, state_dir=None) as fleet:
        port = fleet.port("tcp")
        # refused: the LLS reader (client 2) may not change a secret
        raw = _RawWrapper(port, 2)
        try:
            assert raw.send(AARQ_LLS)[:1] == b"\x61"
            assert raw.send(SET_SECRET) == bytes.fromhex("c501c203")  # read-write-denied
            assert raw.send(CHANGE_SECRET)[:4] == bytes.fromhex("c701c103")  # read-write-denied
            raw.send(bytes.fromhex("6200"))
        finally:
            raw.close()
        # accepted: the management client (HLS-GMAC, authenticated and encrypted), dlms-cosem
        secret_attribute = cosem.CosemAttribute(interface=enumerations.CosemInterface.ASSOCIATION_LN,
                                                instance=cosem.Obis(0, 0, 40, 0, 0, 255), attribute=7)
        change_secret = cosem.CosemMethod(enumerations.CosemInterface.ASSOCIATION_LN,
                                          cosem.Obis(0, 0, 40, 0, 0, 255), 2)
        with dlms_client(wrapper_transport(port, 1), 1).session() as session:
            assert session.set(secret_attribute, SET_SECRET[-10:]).result == enumerations.DataAccessResult.SUCCESS
            session.action(change_secret, CHANGE_SECRET[-10:])  # dlms-cosem raises on a refusal
    logs = _all_logs(caplog)
    assert "attribute-id: 7 (secret)" in logs and "octet-string of 8 octets (not shown)" in logs  # the SETs were traced
    assert "change_HLS_secret" in logs and "(deciphered)" in logs
    assert "client 2 ACTION invoke 1 15/0.0.40.0.0.255/2 -> read-write-denied" in logs
    assert "client 1 ACTION invoke 0 15/0.0.40.0.0.255/2 -> success" in logs
    _assert_no_secret(logs)


def test_each_frame_is_shown_whole_and_decodes_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=TRACE_LOGGER)
    with RunningFleet(PROFILE, tmp_path, trace=True, state_dir=None) as fleet:
        GuruxPeer(SocketPipe("127.0.0.1", fleet.port("tcp")), gurux_client(1)).session_read((clock(), 2))
        hdlc = GuruxPeer(SocketPipe("127.0.0.1", fleet.port("hdlc-tcp")),
                         gurux_client(2, GXDLMSClient.getServerAddress(1, 17), hdlc=True))
        hdlc.session_read((clock(), 2))
    records = [r.getMessage() for r in caplog.records if r.name == TRACE_LOGGER]
    text = "\n".join(records)
    _assert_no_secret(text)
    # gurux ciphers with glo- and general-glo-ciphering: the trace opens them with the meter's keys
    assert "glo-action-request (deciphered)" in text and "general-glo-ciphering (deciphered)" in text
    assert "apdu: get-request-normal" in text and "instance-id: 0.0.1.0.0.255" in text
    assert "apdu: get-response-normal" in text and "not deciphered" not in text
    # the AARE is one record, whole: no cut at 400 characters
    aare = next(r for r in records if "AARE (A-ASSOCIATE response)" in r and " 1->1 " in r)
    assert len(aare) > 400 and "vaa-name: 0x0007" in aare
    # every hex word is a frame that decodes as it stands, masked ones too (FCS recomputed)
    words = HEX_WORD.findall(text)
    assert any(w.startswith("7E") for w in words) and any(w.startswith("0001") for w in words)
    for word in words:
        decode(bytes.fromhex(word))
    masked = next(r for r in records if "FCS recomputed" in r)
    assert "AARQ" in masked and "2A2A2A2A2A2A2A2A" in masked
    again = decode(bytes.fromhex(HEX_WORD.search(masked).group(1))).to_text()  # type: ignore[union-attr]
    assert "calling-authentication-value: 8 octets (not shown)" in again


def test_a_secret_across_hdlc_segments_is_masked_in_each(caplog: pytest.LogCaptureFixture) -> None:
    """Frames traced as they come would leak the part of a secret each holds: segments wait for
    the last one, then all are masked and their FCS recomputed."""
    meter = _Traced(TestMeter([(15, "0.0.40.0.0.255", {})]).state)
    lsdu = bytes.fromhex("E6E600") + SET_SECRET
    cut = len(lsdu) - 5  # "SETPW777": three octets in the first frame, five in the second
    trace = HDLCTrace(Tracer(True))
    with caplog.at_level(logging.INFO, logger=TRACE_LOGGER):
        trace.received(meter, "link", 1, 16, _i_frame(lsdu[:cut], segmented=True))
        assert caplog.records == []
        trace.received(meter, "link", 1, 16, _i_frame(lsdu[cut:], segmented=False))
    assert len(caplog.records) == 1
    text = caplog.records[0].getMessage()
    _assert_no_secret(text)
    words = HEX_WORD.findall(text)
    assert len(words) == 2 and all("2A2A2A" in w and "FCS recomputed" in text for w in words)
    assert "value: octet-string of 8 octets (not shown)" in decode(bytes.fromhex("".join(words))).to_text()


class _Traced:
    label = "m#0"

    def __init__(self, meter: Meter) -> None:
        self.meter = meter


def _i_frame(info: bytes, segmented: bool) -> HDLCFrame:
    return HDLCFrame(HDLCAddress(1, 17, 2), HDLCAddress(16, None, 1), FrameKind.I, information=info,
                     segmented=segmented)
