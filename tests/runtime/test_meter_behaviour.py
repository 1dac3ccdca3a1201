"""What real meters do, over real sockets with the independent clients: the disconnector's
remote disconnect is logged and stops the consumption, an activated firmware image "reboots"
the meter (the connection closes, the HDLC link is lost) and is the firmware the meter reports
from then on, across a restart of the simulator, a clock SET logs a clock adjustment, and a
wrong password, a replayed invocation counter or a wrong key is logged in the fraud detection log.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from dlms_cosem import cosem, enumerations
from dlms_cosem.client import DlmsClient
from dlms_cosem.exceptions import CommunicationError, DlmsClientException
from dlms_cosem.protocol.xdlms import ExceptionResponse, GetRequestNormal
from dlms_cosem.security import HighLevelSecurityGmacAuthentication, LowLevelSecurityAuthentication
from gurux_dlms import GXDLMSClient, GXDLMSException, GXDLMSExceptionResponse
from gurux_dlms.enums import DataType as GuruxType
from gurux_dlms.objects import GXDLMSData

from simulator.axdr import CosemDateTime, Data

from .harness import EK, RunningFleet
from .peers import GuruxPeer, SocketPipe, dlms_client, gurux_client, read, wrapper_transport

# A living meter whose fleet time runs ten hours a second: a simulated hour passes in 0.1 s.
LIVING = """
name: living-behaviour
time: {start: 2024-03-05T18:00:00Z, rate: 36000, history: 2d}
groups:
  - name: e
    model: idis_poly
    count: 1
    listen: [{transport: tcp, host: 127.0.0.1, port: 0}]
"""

# The meter was installed a day before the fleet starts (each run: what it logged in an earlier
# run of the same state directory lies after its installation).
PROFILE = """
name: behaviour
time: {history: 1d}
groups:
  - name: e
    model: idis_poly
    count: 1
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
      - {transport: hdlc-tcp, host: 127.0.0.1, port: 0, physical_address: 17}
"""


def attribute(interface: enumerations.CosemInterface, obis: str, index: int) -> cosem.CosemAttribute:
    return cosem.CosemAttribute(interface=interface, instance=cosem.Obis.from_string(obis), attribute=index)


def method(interface: enumerations.CosemInterface, obis: str, index: int) -> cosem.CosemMethod:
    return cosem.CosemMethod(interface=interface, instance=cosem.Obis.from_string(obis), method=index)


_DATA, _IMAGE, _DISCONNECT = (enumerations.CosemInterface.DATA, enumerations.CosemInterface.IMAGE_TRANSFER,
                              enumerations.CosemInterface.DISCONNECT_CONTROL)
FIRMWARE = attribute(_DATA, "1.0.0.2.0.255", 2)
CLOCK_TIME = attribute(enumerations.CosemInterface.CLOCK, "0.0.1.0.0.255", 2)
STANDARD_EVENT = attribute(_DATA, "0.0.96.11.0.255", 2)
FRAUD_EVENT = attribute(_DATA, "0.0.96.11.1.255", 2)
DISCONNECTOR_EVENT = attribute(_DATA, "0.0.96.11.2.255", 2)
OUTPUT_STATE = attribute(_DISCONNECT, "0.0.96.3.10.255", 2)
DISCONNECTOR_LOG = attribute(enumerations.CosemInterface.PROFILE_GENERIC, "0.0.99.98.2.255", 2)
STANDARD_LOG = attribute(enumerations.CosemInterface.PROFILE_GENERIC, "0.0.99.98.0.255", 2)
TO_ACTIVATE_INFO = attribute(_IMAGE, "0.0.44.0.0.255", 7)
IMAGE = "0.0.44.0.0.255"
NEW_FIRMWARE = b"FW-2.0.0"
BLOCK = bytes(range(10))

# A-XDR parameters (Blue Book, Image transfer methods 1 to 4, Disconnect control methods 1 and 2):
# image_transfer_initiate: structure {octet-string identifier, double-long-unsigned size}
INITIATE = bytes([0x02, 0x02, 0x09, len(NEW_FIRMWARE)]) + NEW_FIRMWARE + bytes([0x06, 0, 0, 0, len(BLOCK)])
# image_block_transfer: structure {double-long-unsigned block number 0, octet-string block}
BLOCK_TRANSFER = bytes([0x02, 0x02, 0x06, 0, 0, 0, 0, 0x09, len(BLOCK)]) + BLOCK
INTEGER_0 = bytes([0x0F, 0x00])
# IDIS event codes (Connexo IDIS protocol, StandardEventLog.java / DisconnectorControlLog.java):
# 4/5 clock adjusted (old/new date-time), 18 firmware activated, 62 remote disconnection,
# 65 limiter threshold exceeded; FraudDetectionLog.java: 46 association authentication failure,
# 49 decryption or authentication failure, 50 replay attack.
CLOCK_ADJUSTED_OLD, CLOCK_ADJUSTED_NEW, FIRMWARE_ACTIVATED, REMOTE_DISCONNECTION = 4, 5, 18, 62
LIMITER_THRESHOLD_EXCEEDED = 65
AUTHENTICATION_FAILURE, DECRYPTION_FAILURE, REPLAY_ATTACK = 46, 49, 50


def unsigned(raw: bytes) -> int:
    assert raw[0] == 0x11, raw.hex()  # unsigned
    return raw[1]


def octets(raw: bytes) -> bytes:
    assert raw[0] == 0x09, raw.hex()  # octet-string
    return raw[2:2 + raw[1]]


def send_image(client: DlmsClient) -> None:
    """image_transfer_initiate, the one block, image_verify."""
    for index, parameter in ((1, INITIATE), (2, BLOCK_TRANSFER), (3, INTEGER_0)):
        client.action(method(_IMAGE, IMAGE, index), parameter)


def test_remote_disconnect_is_logged_and_switches_the_output(tmp_path: Path) -> None:
    with RunningFleet(PROFILE, tmp_path) as fleet:
        port = fleet.port("tcp")
        with dlms_client(wrapper_transport(port, 1), 1).session() as management:
            assert management.get(OUTPUT_STATE) == b"\x03\x01"
            management.action(method(_DISCONNECT, "0.0.96.3.10.255", 1), INTEGER_0)
            assert management.get(OUTPUT_STATE) == b"\x03\x00"
        code, log = read(wrapper_transport(port, 2), 2, DISCONNECTOR_EVENT, DISCONNECTOR_LOG)
        assert unsigned(code) == REMOTE_DISCONNECTION
        # the log's rows: {clock, event code, control_state}; the one event, with the state it left
        assert [(row.value[1].value, row.value[2].value) for row in Data.from_bytes(log).value] == [
            (REMOTE_DISCONNECTION, 0)]


def test_the_limiter_disconnects_a_load_over_its_threshold(tmp_path: Path) -> None:
    """The management client lowers the limiter's active threshold below what the house draws;
    as the fleet's time runs (and requests reach the meter), the limiter's over-threshold script
    opens the disconnector, and the log shows "limiter threshold exceeded" then the disconnection."""
    with RunningFleet(LIVING, tmp_path) as fleet:
        port = fleet.port("tcp")
        with dlms_client(wrapper_transport(port, 1), 1).session() as management:
            threshold_watts = bytes([0x05, 0, 0, 0, 50])  # double-long 50 (W, as 1.0.1.7.0.255 counts)
            response = management.set(attribute(enumerations.CosemInterface.LIMITER, "0.0.17.0.0.255", 3),
                                      threshold_watts)
            assert response.result == enumerations.DataAccessResult.SUCCESS
        until_an_hour_passed(port)
        state, log = read(wrapper_transport(port, 2), 2, OUTPUT_STATE, DISCONNECTOR_LOG)
        assert state == b"\x03\x00"
        codes = [row.value[1].value for row in Data.from_bytes(log).value]
        assert codes[:2] == [LIMITER_THRESHOLD_EXCEEDED, REMOTE_DISCONNECTION]


def numbers(port: int, *registers: str) -> list[int]:
    """dlms-cosem, client 2 (LLS): register values as integers."""
    raw = read(wrapper_transport(port, 2), 2, *(attribute(enumerations.CosemInterface.REGISTER, r, 2)
                                                  for r in registers))
    return [Data.from_bytes(r).value for r in raw]


def meter_epoch(port: int) -> float:
    (raw,) = read(wrapper_transport(port, 16), 16, CLOCK_TIME)
    cdt = CosemDateTime.from_bytes(octets(raw))
    return cdt.to_datetime().timestamp()


def until_an_hour_passed(port: int) -> None:
    """Wait (bounded) until the meter's clock, read over the wire, shows an hour more."""
    start, deadline = meter_epoch(port), time.monotonic() + 10
    while meter_epoch(port) < start + 3600:
        assert time.monotonic() < deadline, "the fleet's time does not run"


def test_a_remote_disconnect_stops_the_consumption(tmp_path: Path) -> None:
    """Energy import 1.0.1.8.0.255 stands still and the current 1.0.31.7.0.255 reads 0 while the
    disconnector is open; both move again once it is closed."""
    with RunningFleet(LIVING, tmp_path) as fleet:
        port = fleet.port("tcp")
        disconnector = "0.0.96.3.10.255"
        with dlms_client(wrapper_transport(port, 1), 1).session() as management:
            management.action(method(_DISCONNECT, disconnector, 1), INTEGER_0)
        (opened, current) = numbers(port, "1.0.1.8.0.255", "1.0.31.7.0.255")
        assert current == 0
        until_an_hour_passed(port)
        (later, current, power) = numbers(port, "1.0.1.8.0.255", "1.0.31.7.0.255", "1.0.1.7.0.255")
        assert (later, current, power) == (opened, 0, 0)
        with dlms_client(wrapper_transport(port, 1), 1).session() as management:
            # control_mode 1 only arms the switch on a remote reconnect (the customer closes it);
            # mode 2 closes it at once
            management.set(attribute(_DISCONNECT, disconnector, 4), b"\x16\x02")
            management.action(method(_DISCONNECT, disconnector, 2), INTEGER_0)
        until_an_hour_passed(port)
        (again, current) = numbers(port, "1.0.1.8.0.255", "1.0.31.7.0.255")
        assert again > opened and current > 0


def test_a_wrong_password_a_replayed_counter_and_a_wrong_key_are_logged_as_fraud(tmp_path: Path) -> None:
    with RunningFleet(PROFILE, tmp_path) as fleet:
        port = fleet.port("tcp")
        wrong = DlmsClient(transport=wrapper_transport(port, 2), timeout=5,
                           authentication=LowLevelSecurityAuthentication(secret=b"wrong!!!"))
        with pytest.raises(DlmsClientException, match="Unable to perform Association"), wrong.session():
            pass
        (code,) = read(wrapper_transport(port, 2), 2, FRAUD_EVENT)
        assert unsigned(code) == AUTHENTICATION_FAILURE
        with dlms_client(wrapper_transport(port, 1), 1, invocation_counter=500).session() as management:
            management.get(FIRMWARE)
        replay = dlms_client(wrapper_transport(port, 1), 1, invocation_counter=500)  # the same counter again
        with pytest.raises(DlmsClientException, match="Unable to perform Association"), replay.session():
            pass
        (code,) = read(wrapper_transport(port, 2), 2, FRAUD_EVENT)
        assert unsigned(code) == REPLAY_ATTACK
        forged = DlmsClient(transport=wrapper_transport(port, 1), timeout=5,
                            authentication=HighLevelSecurityGmacAuthentication(challenge_length=32),
                            encryption_key=EK, authentication_key=bytes(16), client_system_title=b"DLMSCOSM",
                            client_initial_invocation_counter=10_000)  # a wrong authentication key
        with pytest.raises(DlmsClientException, match="Unable to perform Association"), forged.session():
            pass
        (code,) = read(wrapper_transport(port, 2), 2, FRAUD_EVENT)
        assert unsigned(code) == DECRYPTION_FAILURE


def utc_date_time(epoch: float) -> bytes:
    """A-XDR octet-string(12) date-time of a UTC instant: deviation 0, day of week and
    hundredths not specified, status 0 (Blue Book 4.1.6.1, date-time)."""
    t = datetime.fromtimestamp(epoch, timezone.utc)
    return bytes([0x09, 0x0C, t.year >> 8, t.year & 0xFF, t.month, t.day, 0xFF, t.hour, t.minute, t.second,
                  0xFF, 0x00, 0x00, 0x00])


def test_a_clock_set_logs_a_clock_adjustment(tmp_path: Path) -> None:
    """The management client sets the clock an hour back: the standard event log gains "clock
    adjusted (new date/time)" stamped an hour before the time the clock was set at."""
    with RunningFleet(PROFILE, tmp_path) as fleet:
        port = fleet.port("tcp")
        (code,) = read(wrapper_transport(port, 2), 2, STANDARD_EVENT)
        assert unsigned(code) != CLOCK_ADJUSTED_NEW
        with dlms_client(wrapper_transport(port, 1), 1).session() as management:
            before = CosemDateTime.from_bytes(octets(management.get(CLOCK_TIME))).to_datetime().timestamp()
            response = management.set(CLOCK_TIME, utc_date_time(before - 3600))
            assert response.result == enumerations.DataAccessResult.SUCCESS
        code, log = read(wrapper_transport(port, 2), 2, STANDARD_EVENT, STANDARD_LOG)
        assert unsigned(code) == CLOCK_ADJUSTED_NEW
        stamped = {row.value[1].value: CosemDateTime.from_bytes(row.value[0].value).to_datetime().timestamp()
                   for row in Data.from_bytes(log).value}
        # the row of the new time; the old time's row lies after the clock's new "now", and the
        # log's rows end at now (tests/cosem/test_image_living.py checks that both are kept)
        assert stamped[CLOCK_ADJUSTED_NEW] == pytest.approx(before - 3600, abs=60)


def test_an_activated_image_reboots_the_meter_and_is_its_firmware_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with RunningFleet(PROFILE, tmp_path, state_dir=state) as fleet:
        port = fleet.port("tcp")
        (before,) = read(wrapper_transport(port, 16), 16, FIRMWARE)
        assert octets(before) == b"FW-1.0.0"
        client = dlms_client(wrapper_transport(port, 1), 1)
        client.connect()
        try:
            client.associate()
            send_image(client)
            client.action(method(_IMAGE, IMAGE, 4), INTEGER_0)  # answered, then the meter restarts
            # the meter closes the connection: end of stream, not the socket's 5 s timeout
            # (read on the socket itself: dlms-cosem's own reader spins on an end of stream)
            assert client.transport.io.tcp_socket.recv(1) == b""
        finally:
            with contextlib.suppress(CommunicationError):
                client.transport.io.disconnect()
        (after,) = read(wrapper_transport(port, 16), 16, FIRMWARE)
        assert octets(after) == NEW_FIRMWARE
    with RunningFleet(PROFILE, tmp_path, state_dir=state) as fleet:
        port = fleet.port("tcp")
        (firmware,) = read(wrapper_transport(port, 16), 16, FIRMWARE)
        assert octets(firmware) == NEW_FIRMWARE
        code, log = read(wrapper_transport(port, 2), 2, STANDARD_EVENT, STANDARD_LOG)
        assert unsigned(code) == FIRMWARE_ACTIVATED
        assert FIRMWARE_ACTIVATED in [row.value[1].value for row in Data.from_bytes(log).value]
        (info,) = read(wrapper_transport(port, 1), 1, TO_ACTIVATE_INFO)
        assert NEW_FIRMWARE in info  # image_to_activate_info names the activated image


def test_the_restart_ends_the_associations_of_other_connections(tmp_path: Path) -> None:
    """gurux-dlms (client 2, LLS) stays associated on its own connection while dlms-cosem activates
    an image on another: its next GET finds no association (exception-response), a new AARQ on
    the same connection is served again."""
    with RunningFleet(PROFILE, tmp_path) as fleet:
        port = fleet.port("tcp")
        reader = GuruxPeer(SocketPipe("127.0.0.1", port), gurux_client(2))
        try:
            reader.connect()
            assert bytes(reader.read(gurux_firmware(), 2)) == b"FW-1.0.0"
            client = dlms_client(wrapper_transport(port, 1), 1)
            client.connect()
            try:
                client.associate()
                send_image(client)
                client.action(method(_IMAGE, IMAGE, 4), INTEGER_0)
            finally:
                with contextlib.suppress(CommunicationError):
                    client.transport.io.disconnect()
            with pytest.raises(GXDLMSExceptionResponse, match="Service not allowed. Operation not possible"):
                reader.read(gurux_firmware(), 2)
            reader.connect()
            assert bytes(reader.read(gurux_firmware(), 2)) == NEW_FIRMWARE
            reader.release()
        finally:
            reader.pipe.close()


def gurux_firmware() -> GXDLMSData:
    firmware = GXDLMSData("1.0.0.2.0.255")
    firmware.setDataType(2, GuruxType.OCTET_STRING)
    return firmware


def test_a_scheduled_activation_reboots_the_meter_when_its_time_comes(tmp_path: Path) -> None:
    """The management client transfers and verifies an image, then writes the image activation
    schedule 0.0.15.0.2.255 an hour ahead (meter local time) and keeps its association open. Once
    the fleet's time passed it, the meter has rebooted: the management association is gone
    (exception-response), and the public client reads the new firmware."""
    with RunningFleet(LIVING, tmp_path) as fleet:
        port = fleet.port("tcp")
        client = dlms_client(wrapper_transport(port, 1), 1)
        client.connect()
        try:
            client.associate()
            send_image(client)
            local = CosemDateTime.from_bytes(octets(client.get(CLOCK_TIME)))
            at = datetime(local.year, local.month, local.day, local.hour, local.minute, local.second) \
                + timedelta(hours=1)
            # execution_time: array of {time octet-string(4), date octet-string(5)} (Blue Book,
            # Single action schedule), the local time an hour from now
            execution = bytes([0x01, 0x01, 0x02, 0x02, 0x09, 0x04, at.hour, at.minute, at.second, 0x00,
                               0x09, 0x05, at.year >> 8, at.year & 0xFF, at.month, at.day, 0xFF])
            response = client.set(attribute(enumerations.CosemInterface.SINGLE_ACTION_SCHEDULE,
                                            "0.0.15.0.2.255", 4), execution)
            assert response.result == enumerations.DataAccessResult.SUCCESS
            assert octets(client.get(FIRMWARE)) == b"FW-1.0.0"
            assert public_firmware_once_it_changes(port) == NEW_FIRMWARE
            client.send(GetRequestNormal(cosem_attribute=FIRMWARE))
            refusal = client.next_event()  # the association ended with the reboot
            assert isinstance(refusal, ExceptionResponse), refusal
            assert refusal.state_error == enumerations.StateException.SERVICE_NOT_ALLOWED
        finally:
            with contextlib.suppress(CommunicationError):
                client.transport.io.disconnect()
        (code,) = read(wrapper_transport(port, 2), 2, STANDARD_EVENT)
        assert unsigned(code) == FIRMWARE_ACTIVATED


def public_firmware_once_it_changes(port: int) -> bytes:
    """gurux-dlms, public client: read the firmware identifier until it is no longer the model's
    (bounded). An association made just before the activation's instant ends with the reboot
    (exception-response): the next round associates again."""
    deadline = time.monotonic() + 10
    while True:
        peer = GuruxPeer(SocketPipe("127.0.0.1", port), gurux_client(16))
        try:
            peer.connect()
            firmware = bytes(peer.read(gurux_firmware(), 2))
        except GXDLMSExceptionResponse:
            firmware = b"FW-1.0.0"
        finally:
            peer.pipe.close()
        if firmware != b"FW-1.0.0":
            return firmware
        assert time.monotonic() < deadline, "the scheduled activation did not run"


class RecordingPipe(SocketPipe):
    """A TCP pipe that keeps what the meter sent, to look at the frames gurux only reports as errors."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.received: list[bytes] = []

    def receive(self) -> bytes:
        data = super().receive()
        self.received.append(data)
        return data


# HDLC DM (disconnected mode) response: control field 0x0F, F bit 0x10 (ISO/IEC 13239, as IEC 62056-46 uses it).
_DM, _FINAL = 0x0F, 0x10


def test_activation_over_hdlc_loses_the_link(tmp_path: Path) -> None:
    """gurux-dlms over HDLC: the activation is answered, then the link is down (the next frame on
    it gets DM); a new link reads the new firmware."""
    with RunningFleet(PROFILE, tmp_path) as fleet:
        port = fleet.port("hdlc-tcp")
        address = GXDLMSClient.getServerAddress(1, 17)
        with dlms_client(wrapper_transport(fleet.port("tcp"), 1), 1).session() as management:
            send_image(management)
        pipe = RecordingPipe("127.0.0.1", port)
        peer = GuruxPeer(pipe, gurux_client(1, address, hdlc=True))
        try:
            peer.connect()
            peer.request(peer.client.method(_gurux_image(), 4, 0, GuruxType.INT8))
            with pytest.raises(GXDLMSException):
                peer.read(gurux_firmware(), 2)
        finally:
            pipe.close()
        # the last frame: 7E, format (2), client address (1 octet), server address (2 octets), control
        assert pipe.received[-1][6] & ~_FINAL == _DM
        public = GuruxPeer(SocketPipe("127.0.0.1", port), gurux_client(16, address, hdlc=True))
        try:
            (firmware,) = public.session_read((gurux_firmware(), 2))
        finally:
            public.pipe.close()
        assert bytes(firmware) == NEW_FIRMWARE


def _gurux_image() -> object:
    from gurux_dlms.objects import GXDLMSImageTransfer

    return GXDLMSImageTransfer(IMAGE)
