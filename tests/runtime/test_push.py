"""Pushes over real sockets: a meter's DataNotification reaches a head-end parsed by gurux-dlms.

The head-end here is a plain socket on 127.0.0.1 port 0 (`Receiver`); gurux-dlms's
GXDLMSSecureNotify opens what it received with the demo keys. Pushes are asked for by a gurux
client's ACTION (Push setup method 1) or, for many at once, as the control plane will
(`Pusher.submit` with the "control" trigger).
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from gurux_dlms import GXByteBuffer, GXDLMSClient, GXReplyData
from gurux_dlms.enums import DataType as GuruxType
from gurux_dlms.enums import Authentication, InterfaceType, Security
from gurux_dlms.objects import GXDLMSPushSetup
from gurux_dlms.objects.enums import MessageType, ServiceType
from gurux_dlms.secure import GXDLMSSecureNotify

from simulator.axdr import Obis
from simulator.living.noise import meter_seed
from simulator.server.objects import PushRequest
from simulator.server.push_plan import push_offset

from .harness import AK, EK, RunningFleet
from .peers import GuruxPeer, SocketPipe, gurux_client

ALARM_PUSH = "0.0.25.9.0.255"
TITLE_1 = bytes.fromhex("53494D0000000001")  # the first meter's system title (SIM + 1)
WAIT_S = 10.0
START = "2024-01-01T12:00:00Z"  # far from the daily push at 00:05

DEMO_FIELDS = """\
    fields:
      lls_password: "12345678"
      block_cipher_key: 000102030405060708090A0B0C0D0E0F
      authentication_key: D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF
      master_key: 00112233445566778899AABBCCDDEEFF
"""

# A static meter with one plain Push setup (version 0, no security setup: plain) that a
# management client 1 without authentication may invoke; a version 0 push goes to client 1.
PLAIN_MODEL = """\
name: plain-push
logical_devices:
  - server_sap: 1
    name: "SIM{serial}"
    associations:
      - {client_sap: 16, name: public, authentication: none, role: public}
      - {client_sap: 1, name: installer, authentication: none, role: management}
    objects:
      - {class: Association LN, obis: 0.0.40.0.0.255, name: Current association}
      - {class: Data, obis: 0.0.42.0.0.255, name: Logical device name}
      - {class: Data, obis: 0.0.97.98.0.255, name: Alarm register 1,
         attributes: {value: {type: double-long-unsigned, value: 4096}}}
      - class: Push setup
        obis: 0.0.25.9.0.255
        version: 0
        name: Push setup - alarm
        attributes:
          push_object_list:
            - [Push setup, 0.0.25.9.0.255, 1, 0]
            - [Data, 0.0.42.0.0.255, 2, 0]
            - [Data, 0.0.97.98.0.255, 2, 0]
          send_destination_and_method: {transport_service: tcp, destination: "127.0.0.1:9", message: a_xdr_xdlms_apdu}
          communication_window: []
          randomisation_start_interval: 0
          number_of_retries: 3
          repetition_delay: 60
"""


class Receiver:
    """A head-end's push port on 127.0.0.1: what each TCP connection carried until the meter closed
    it, or each UDP datagram, with the sender's address. `listening=False` binds the port but does
    not listen yet, so a TCP connection to it is refused until `listen()`."""

    def __init__(self, udp: bool = False, listening: bool = True) -> None:
        self.udp = udp
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connections = 0
        self._stop = False
        if listening:
            self.listen()

    def listen(self) -> None:
        if not self.udp:
            self.sock.listen(64)
        self.sock.settimeout(0.1)
        threading.Thread(target=self._datagrams if self.udp else self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                connection, peer = self.sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._read, args=(connection, peer[0]), daemon=True).start()

    def _read(self, connection: socket.socket, peer: str) -> None:
        connection.settimeout(WAIT_S)
        chunks = []
        with connection:
            while data := connection.recv(65536):
                chunks.append(data)
        self.messages.put((peer, b"".join(chunks)))

    def _datagrams(self) -> None:
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(65536)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.messages.put((peer[0], data))

    def get(self) -> tuple[str, bytes]:
        return self.messages.get(timeout=WAIT_S)

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@pytest.fixture
def receiver() -> Any:
    r = Receiver()
    yield r
    r.close()


def demo_fleet(port: int, *, count: int = 1, extra: str = "") -> str:
    return f"""
time: {{start: {START}}}
groups:
  - name: electricity
    model: idis_poly
    count: {count}
{DEMO_FIELDS}    listen:
      - {{transport: tcp, host: 127.0.0.1, port: 0}}
    push: {{{ALARM_PUSH}: {{destination: "127.0.0.1:{port}"}}}}
{extra}"""


def plain_fleet(tmp_path: Path, port: int, *, transport: str = "tcp", count: int = 1, rate: float = 1,
                listen: str = "{transport: tcp, host: 127.0.0.1, port: 0}", top: str = "") -> str:
    (tmp_path / "plain.yaml").write_text(PLAIN_MODEL, encoding="utf-8")
    return f"""
time: {{start: {START}, rate: {rate}}}
{top}
groups:
  - name: plain
    model: plain.yaml
    count: {count}
    listen:
      - {listen}
    push: {{destination: "127.0.0.1:{port}", transport: {transport}}}
"""


def invoke_push(port: int, plain: bool = False, obis: str = ALARM_PUSH, method: int = 1,
                host: str = "127.0.0.1") -> None:
    """A gurux client's ACTION on the Push setup (method 1: push; 2: reset) over the TCP wrapper:
    the demo's client 1 (HLS, ciphered), or the plain model's client 1 (no authentication)."""
    client = GXDLMSClient(True, 1, 1, Authentication.NONE, None, InterfaceType.WRAPPER) if plain else gurux_client(1)
    peer = GuruxPeer(SocketPipe(host, port), client)
    try:
        peer.connect()
        peer.request(peer.client.method(GXDLMSPushSetup(obis), method, 0, GuruxType.INT8))
        peer.release()
    finally:
        peer.pipe.close()


def opened(raw: bytes, interface: InterfaceType = InterfaceType.WRAPPER, server_address: int = 1) -> GXReplyData:
    """The notification as gurux-dlms reads it, deciphered with the demo keys when ciphered."""
    notify = GXDLMSSecureNotify(True, 1, server_address, interface)
    notify.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
    notify.ciphering.blockCipherKey = EK
    notify.ciphering.authenticationKey = AK
    reply = GXReplyData()
    assert notify.getData(GXByteBuffer(raw), reply), "gurux-dlms found no complete notification"
    return reply


def ciphered_header(raw: bytes) -> tuple[bytes, int]:
    """(system title, invocation counter) of a general-glo-ciphering APDU in a wrapper frame
    (Green Book: DB, system-title as an octet string, ciphered-content: length, SC, IC, ...)."""
    apdu = raw[8:]
    assert apdu[0] == 0xDB and apdu[1] == 8, apdu[:2].hex()
    title, rest = apdu[2:10], apdu[10:]
    skip = 1 if rest[0] < 0x80 else 1 + (rest[0] & 0x7F)
    return title, int.from_bytes(rest[skip + 1:skip + 5], "big")


def wait_for(condition: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.01)


def push_lines(caplog: Any) -> list[str]:
    """The pusher's lines about the meters' pushes (not the push scheduler's about groups)."""
    return [r.getMessage() for r in caplog.records if r.name == "simulator.push" and "#" in r.getMessage().split()[0]]


def counters(fleet: RunningFleet) -> tuple[int, int, int, int]:
    pusher = fleet.engine.pusher
    return fleet.call(lambda: (pusher.sent, pusher.failed, pusher.pending, pusher.in_flight))


# --------------------------------------------------------------------------- the demo model

def test_action_pushes_the_alarm_ciphered_and_the_counter_increases(tmp_path: Path, receiver: Receiver,
                                                                     caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="simulator.push")
    with RunningFleet(demo_fleet(receiver.port), tmp_path, state_dir=tmp_path / "state") as fleet:
        invoke_push(fleet.port("tcp"))
        peer, first = receiver.get()
        invoke_push(fleet.port("tcp"))
        _, second = receiver.get()
    assert peer == "127.0.0.1"
    assert first[:8] == bytes.fromhex("0001 0001 0001") + len(first[8:]).to_bytes(2, "big")  # wPorts 1 -> 1
    title, counter = ciphered_header(first)
    assert title == TITLE_1
    reply = opened(first)
    assert reply.command == 0x0F and reply.cipheredCommand == 0xDB  # data-notification in general-glo-ciphering
    values = reply.value
    assert bytes(values[0]) == bytes(Obis(ALARM_PUSH))  # the push setup's logical name
    assert bytes(values[1]) == b"SIM00000001"  # logical device name
    assert values[3] == 0 and values[4] == 0  # alarm registers 1 and 2: no alarm
    invoke_id = reply.invokeId & 0xFFFFFF
    again = opened(second)
    assert (again.invokeId & 0xFFFFFF) == invoke_id + 1
    title, later = ciphered_header(second)  # the meter's transmit counter, which its answers use too
    assert title == TITLE_1 and later > counter
    sent = [line for line in push_lines(caplog) if "sent" in line]
    assert sent[0].startswith(f"electricity#0: push {ALARM_PUSH} (action) to tcp 127.0.0.1:{receiver.port}, "
                              f"client 1: sent data-notification invoke-id {invoke_id}")
    assert f"IC {counter}" in sent[0]

    # the counter is kept with the meter's state: after a restart it goes on, never reused
    with RunningFleet(demo_fleet(receiver.port), tmp_path, state_dir=tmp_path / "state") as fleet:
        invoke_push(fleet.port("tcp"))
        _, third = receiver.get()
    assert ciphered_header(third)[1] > later
    assert opened(third).value[1] == b"SIM00000001"


# --------------------------------------------------------------------------- transports

def test_udp_push(tmp_path: Path) -> None:
    receiver = Receiver(udp=True)
    try:
        listen = "{transport: udp, host: 127.0.0.1, port: 0}\n      - {transport: tcp, host: 127.0.0.1, port: 0}"
        with RunningFleet(plain_fleet(tmp_path, receiver.port, transport="udp", listen=listen), tmp_path) as fleet:
            invoke_push(fleet.port("tcp"), plain=True)
            peer, datagram = receiver.get()
    finally:
        receiver.close()
    assert peer == "127.0.0.1"
    reply = opened(datagram)
    assert reply.command == 0x0F and reply.cipheredCommand == 0  # plain: no security setup
    assert [bytes(v) if isinstance(v, bytearray) else v for v in reply.value] == [
        bytes(Obis(ALARM_PUSH)), b"SIM00000001", 4096]


def test_hdlc_push(tmp_path: Path, receiver: Receiver) -> None:
    text = plain_fleet(tmp_path, receiver.port, transport="hdlc")
    with RunningFleet(text, tmp_path) as fleet:
        invoke_push(fleet.port("tcp"), plain=True)
        _, frames = receiver.get()
    assert frames[0] == 0x7E and frames[-1] == 0x7E
    # gurux's server address: logical 1, physical 17 (the meter has no IEC HDLC setup)
    reply = opened(frames, InterfaceType.HDLC, server_address=(1 << 7) | 17)
    assert reply.command == 0x0F
    assert [bytes(v) if isinstance(v, bytearray) else v for v in reply.value] == [
        bytes(Obis(ALARM_PUSH)), b"SIM00000001", 4096]


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_a_meter_pushes_from_its_own_address(tmp_path: Path, transport: str) -> None:
    """Address-based fleet: meter i answers at 127.0.6.1 + i, and its push leaves from there."""
    receiver = Receiver(udp=transport == "udp")
    listen = ("{transport: tcp, addressing: address, host: 127.0.6.1, port: 0}\n"
              "      - {transport: udp, addressing: address, host: 127.0.6.1, port: 0}")
    try:
        text = plain_fleet(tmp_path, receiver.port, count=3, listen=listen, transport=transport)
        with RunningFleet(text, tmp_path) as fleet:
            port = fleet.port("tcp")
            invoke_push(port, plain=True, host="127.0.6.3")
            peer, message = receiver.get()
            invoke_push(port, plain=True, host="127.0.6.2")
            other, _ = receiver.get()
    finally:
        receiver.close()
    assert (peer, other) == ("127.0.6.3", "127.0.6.2")
    assert bytes(opened(message).value[1]) == b"SIM00000003"


# --------------------------------------------------------------------------- retries

def test_retries_until_the_head_end_listens(tmp_path: Path, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="simulator.push")
    receiver = Receiver(listening=False)  # the port is ours, nothing listens: connections are refused
    try:
        # repetition_delay 60 s of the meter's clock, which runs 30 times as fast: 2 s between attempts
        with RunningFleet(plain_fleet(tmp_path, receiver.port, rate=30), tmp_path) as fleet:
            invoke_push(fleet.port("tcp"), plain=True)
            wait_for(lambda: any("attempt 2 of 4 failed" in line for line in push_lines(caplog)), "two refusals")
            receiver.listen()
            _, message = receiver.get()
            wait_for(lambda: counters(fleet)[0] == 1, "the push counted as sent")
            assert counters(fleet) == (1, 0, 0, 0)
    finally:
        receiver.close()
    assert bytes(opened(message).value[1]) == b"SIM00000001"
    lines = push_lines(caplog)
    where = f"plain#0: push {ALARM_PUSH} (action) to tcp 127.0.0.1:{receiver.port}, client 1"
    assert lines[:3] == [f"{where}: attempt 1 of 4 failed: connection refused; retry in 60 s",
                         f"{where}: attempt 2 of 4 failed: connection refused; retry in 60 s",
                         lines[2]]
    assert lines[2].startswith(f"{where}: sent data-notification")
    assert receiver.connections == 1


def test_gives_up_after_number_of_retries(tmp_path: Path, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="simulator.push")
    receiver = Receiver(listening=False)
    try:
        with RunningFleet(plain_fleet(tmp_path, receiver.port, rate=120), tmp_path) as fleet:
            invoke_push(fleet.port("tcp"), plain=True)
            wait_for(lambda: counters(fleet)[1] == 1, "the push given up")
            assert counters(fleet) == (0, 1, 0, 0)
    finally:
        receiver.close()
    where = f"plain#0: push {ALARM_PUSH} (action) to tcp 127.0.0.1:{receiver.port}, client 1"
    assert push_lines(caplog) == [
        *(f"{where}: attempt {n} of 4 failed: connection refused; retry in 60 s" for n in (1, 2, 3)),
        f"{where}: attempt 4 of 4 failed: connection refused; gave up after 4 attempts"]


# --------------------------------------------------------------------------- limits

def submit_all(fleet: RunningFleet, trigger: str = "control") -> None:
    """Every meter of the fleet asked to push its alarm push in one turn, as the control plane will."""
    engine = fleet.engine

    def submit() -> None:
        for entry in engine.entries:
            live = engine.fleet.live(entry)
            spec = live.meter.model.logical_devices[1].find(bytes(Obis(ALARM_PUSH)))
            assert spec is not None
            engine.pusher.submit(live, PushRequest(1, spec.index, engine.now(), trigger))

    fleet.call(submit)


def test_pushes_in_flight_stay_within_the_limit(tmp_path: Path, receiver: Receiver) -> None:
    top = "limits: {max_pushes_in_flight: 2}"
    with RunningFleet(plain_fleet(tmp_path, receiver.port, count=12, top=top), tmp_path) as fleet:
        submit_all(fleet)
        names = sorted(bytes(opened(receiver.get()[1]).value[1]) for _ in range(12))
        wait_for(lambda: counters(fleet)[0] == 12, "12 pushes counted as sent")
        peak = fleet.call(lambda: fleet.engine.pusher.peak_in_flight)
    assert names == sorted(b"SIM%08d" % n for n in range(1, 13))
    assert peak == 2  # the bound was reached and never passed
    assert receiver.connections == 12


def test_excess_connections_wait_for_the_token_bucket(tmp_path: Path, receiver: Receiver) -> None:
    top = "limits: {push_connections_per_s: 20}"  # two at once (a tenth of a second's), then one each 50 ms
    with RunningFleet(plain_fleet(tmp_path, receiver.port, count=6, top=top), tmp_path) as fleet:
        submit_all(fleet)
        names = sorted(bytes(opened(receiver.get()[1]).value[1]) for _ in range(6))
        wait_for(lambda: counters(fleet)[0] == 6, "6 pushes counted as sent")
    assert names == sorted(b"SIM%08d" % n for n in range(1, 7))  # the excess waited: none dropped


def test_stop_drops_pending_pushes_with_a_log_line(tmp_path: Path, receiver: Receiver, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="simulator.push")
    top = "limits: {push_connections_per_s: 0.01}"  # one push now, the next in 100 s
    with RunningFleet(plain_fleet(tmp_path, receiver.port, count=3, top=top), tmp_path) as fleet:
        submit_all(fleet)
        receiver.get()
        wait_for(lambda: counters(fleet)[0] == 1, "the first push counted as sent")
        assert counters(fleet) == (1, 0, 2, 0)  # the other two wait for a token
    assert "stopping: 2 pushes waiting are dropped" in [r.getMessage() for r in caplog.records]
    assert receiver.messages.empty()


# --------------------------------------------------------------------------- what is not sent

def test_reset_drops_the_waiting_push(tmp_path: Path, receiver: Receiver, caplog: Any) -> None:
    """The daily push (version 2) waits for the meter's place in its 900 s randomisation interval;
    its reset (method 2) drops it."""
    caplog.set_level(logging.INFO, logger="simulator.push")
    daily = "0.1.25.9.0.255"
    extra = f'      {daily}: {{destination: "127.0.0.1:{receiver.port}"}}\n'
    text = demo_fleet(receiver.port).replace(f"    push: {{{ALARM_PUSH}:", "    push:\n      " + ALARM_PUSH + ":")
    text = text.replace('"}}\n', '"}\n' + extra, 1)
    with RunningFleet(text, tmp_path) as fleet:
        model = fleet.engine.entries[0].group.model
        spec = model.logical_devices[1].find(bytes(Obis(daily)))
        assert spec is not None
        assert push_offset(meter_seed(0, "00000001"), 1, spec.index, 900) > 60  # it waits a while
        invoke_push(fleet.port("tcp"), obis=daily)
        assert counters(fleet)[2] == 1
        invoke_push(fleet.port("tcp"), obis=daily, method=2)
        assert counters(fleet) == (0, 0, 0, 0)
    assert f"electricity#0: push {daily} reset: its waiting pushes are dropped" in push_lines(caplog)
    assert receiver.connections == 0


def test_a_destination_the_meter_cannot_reach_fails_each_attempt(tmp_path: Path, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="simulator.push")
    with RunningFleet(plain_fleet(tmp_path, 9, rate=120), tmp_path) as fleet:
        client = GXDLMSClient(True, 1, 1, Authentication.NONE, None, InterfaceType.WRAPPER)
        peer = GuruxPeer(SocketPipe("127.0.0.1", fleet.port("tcp")), client)
        setup = GXDLMSPushSetup(ALARM_PUSH)
        setup.service, setup.destination, setup.message = ServiceType.SMS, "+3312345678", MessageType.COSEM_APDU
        try:
            peer.connect()
            peer.request(client.write(setup, 3))
            peer.request(client.method(setup, 1, 0, GuruxType.INT8))
            peer.release()
        finally:
            peer.pipe.close()
        wait_for(lambda: counters(fleet)[1] == 1, "the push given up")
        assert counters(fleet) == (0, 1, 0, 0)
    lines = push_lines(caplog)
    assert len(lines) == 4 and all(line.startswith(f"plain#0: push {ALARM_PUSH} (action): attempt ") for line in lines)
    assert lines[0].endswith("; retry in 60 s") and lines[3].endswith("; gave up after 4 attempts")


def test_a_bug_building_a_push_is_logged_and_the_next_push_goes(tmp_path: Path, receiver: Receiver,
                                                                 caplog: Any, monkeypatch: Any) -> None:
    from simulator.runtime import push as runtime_push

    real = runtime_push.notify
    calls = []

    def broken_once(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 1:
            raise ZeroDivisionError("a bug")
        return real(*args)

    monkeypatch.setattr(runtime_push, "notify", broken_once)
    with RunningFleet(plain_fleet(tmp_path, receiver.port), tmp_path) as fleet:
        invoke_push(fleet.port("tcp"), plain=True)
        wait_for(lambda: counters(fleet)[1] == 1, "the broken push counted as failed")
        invoke_push(fleet.port("tcp"), plain=True)
        _, message = receiver.get()
        wait_for(lambda: counters(fleet)[0] == 1, "the next push counted as sent")
    [bug] = [r for r in caplog.records if r.name == "simulator.push" and r.levelname == "ERROR"]
    assert bug.getMessage() == f"plain#0: push {ALARM_PUSH} (action): attempt 1 could not be built"
    assert bug.exc_info is not None and bug.exc_info[0] is ZeroDivisionError
    assert bytes(opened(message).value[1]) == b"SIM00000001"


def test_a_push_whose_counter_cannot_be_kept_is_not_sent(tmp_path: Path, receiver: Receiver, caplog: Any) -> None:
    """The store fails under the engine (closed, as a broken disk would): the ciphered push's
    invocation counter cannot be kept, so its frames never leave."""
    caplog.set_level(logging.INFO, logger="simulator.push")
    text = demo_fleet(receiver.port).replace(f"time: {{start: {START}}}", f"time: {{start: {START}, rate: 120}}")
    with RunningFleet(text, tmp_path, state_dir=tmp_path / "state") as fleet:
        store = fleet.engine.store
        assert store is not None
        fleet.call(store.close)
        submit_all(fleet)
        wait_for(lambda: counters(fleet)[1] == 1, "the push given up")
        assert counters(fleet) == (0, 1, 0, 0)
    assert receiver.connections == 0
    lines = push_lines(caplog)
    assert len(lines) == 4 and all("failed: not sent, its invocation counter could not be kept (" in line
                                   for line in lines), lines


def test_a_push_waits_for_its_communication_window(tmp_path: Path, receiver: Receiver) -> None:
    """The window opens at 12:01 of the meter's clock; the fleet starts at 12:00 and runs 30 times
    as fast: the push asked for at once is held about two seconds, and carries a time inside it."""
    model = PLAIN_MODEL.replace("communication_window: []",
                                'communication_window: [["*-*-* 12:01:00", "*-*-* 12:30:00"]]')
    model = model.replace("            - [Data, 0.0.97.98.0.255, 2, 0]",
                          "            - [Data, 0.0.97.98.0.255, 2, 0]\n            - [Clock, 0.0.1.0.0.255, 2, 0]")
    model = model.replace("      - {class: Data, obis: 0.0.42.0.0.255, name: Logical device name}",
                          "      - {class: Data, obis: 0.0.42.0.0.255, name: Logical device name}\n"
                          "      - {class: Clock, obis: 0.0.1.0.0.255, name: Clock, attributes: {time_zone: 0,\n"
                          "         daylight_savings_begin: 'Sun *-03-254T02:00:00',\n"
                          "         daylight_savings_end: 'Sun *-10-254T03:00:00', daylight_savings_deviation: 60,\n"
                          "         daylight_savings_enabled: false, clock_base: internal_crystal}}")
    text = plain_fleet(tmp_path, receiver.port, rate=30)
    (tmp_path / "plain.yaml").write_text(model, encoding="utf-8")
    with RunningFleet(text, tmp_path) as fleet:
        invoke_push(fleet.port("tcp"), plain=True)
        assert counters(fleet) == (0, 0, 1, 0)  # waiting for the window
        _, message = receiver.get()
    clock = bytes(opened(message).value[3])  # the meter's clock when it was built (Blue Book date-time:
    hour_minute = (clock[5], clock[6])          # year 2 octets, month, day, weekday, hour, minute, ...)
    assert (12, 1) <= hour_minute < (12, 30), clock.hex()


def test_the_push_scheduler_hears_of_an_apdu_that_changed_a_meters_values(tmp_path: Path, receiver: Receiver) -> None:
    with RunningFleet(plain_fleet(tmp_path, receiver.port), tmp_path) as fleet:
        engine = fleet.engine
        assert engine.fleet.on_values_changed == engine.push_scheduler.changed
        heard: list[str] = []
        fleet.call(lambda: setattr(engine.fleet, "on_values_changed", lambda live: heard.append(live.label)))
        client = GXDLMSClient(True, 1, 1, Authentication.NONE, None, InterfaceType.WRAPPER)
        peer = GuruxPeer(SocketPipe("127.0.0.1", fleet.port("tcp")), client)
        setup = GXDLMSPushSetup(ALARM_PUSH)
        try:
            peer.connect()
            peer.read(setup, 6)  # number_of_retries: a GET changes nothing
            assert heard == []
            setup.numberOfRetries = 1
            peer.request(client.write(setup, 6))
            peer.release()
        finally:
            peer.pipe.close()
        assert heard == ["plain#0"]


def test_a_push_long_overdue_is_dropped(tmp_path: Path, receiver: Receiver, caplog: Any) -> None:
    """A catch-up that finds a push run from long ago (here 1,000 s, the randomisation interval 0)
    does not send it now; one just due is sent."""
    caplog.set_level(logging.DEBUG, logger="simulator.push")
    with RunningFleet(plain_fleet(tmp_path, receiver.port), tmp_path) as fleet:
        engine = fleet.engine

        def submit(ago: float) -> None:
            live = engine.fleet.live(engine.entries[0])
            spec = live.meter.model.logical_devices[1].find(bytes(Obis(ALARM_PUSH)))
            assert spec is not None
            engine.pusher.submit(live, PushRequest(1, spec.index, engine.now() - ago, "schedule"))

        fleet.call(lambda: submit(1000.0))
        assert counters(fleet) == (0, 0, 0, 0)
        fleet.call(lambda: submit(30.0))
        receiver.get()
    assert f"plain#0: push {ALARM_PUSH} (schedule) dropped: it was due 1000 s ago (a run a catch-up found)" in \
        push_lines(caplog)


def test_a_retry_waits_for_the_next_communication_window(tmp_path: Path, caplog: Any) -> None:
    """The window is 12:00 to 12:01 each day; the first attempt at 12:00 is refused and its
    retry, 60 s later, would fall outside: it waits for tomorrow's window."""
    caplog.set_level(logging.INFO, logger="simulator.push")
    receiver = Receiver(listening=False)
    model = PLAIN_MODEL.replace("communication_window: []",
                                'communication_window: [["*-*-* 12:00:00", "*-*-* 12:01:00"]]')
    try:
        text = plain_fleet(tmp_path, receiver.port)
        (tmp_path / "plain.yaml").write_text(model, encoding="utf-8")
        with RunningFleet(text, tmp_path) as fleet:
            invoke_push(fleet.port("tcp"), plain=True)
            wait_for(lambda: push_lines(caplog), "the first attempt")
            assert counters(fleet) == (0, 0, 1, 0)
    finally:
        receiver.close()
    [line] = push_lines(caplog)
    head, _, wait = line.rpartition(" in ")
    assert head == (f"plain#0: push {ALARM_PUSH} (action) to tcp 127.0.0.1:{receiver.port}, client 1: attempt 1 of 4 "
                    "failed: connection refused; retry when its communication window opens,"), line
    assert 86_300 < int(wait.removesuffix(" s")) <= 86_400  # from just after 12:00 to 12:00 the next day
