"""`cosem-sim listen` over real sockets: published push frames and gurux-dlms's own pushes in,
notifications printed out (text and --json), counters checked, SIGTERM a clean stop."""

from __future__ import annotations

import asyncio
import io
import json
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from gurux_dlms import GXByteBuffer, GXDLMSNotify
from gurux_dlms.enums import DataType as GuruxType
from gurux_dlms.enums import InterfaceType, Security
from gurux_dlms.GXCiphering import GXCiphering
from gurux_dlms.objects import GXDLMSPushSetup

from simulator.apdu.common import LongInvokeIdAndPriority
from simulator.apdu.notification import DataNotification
from simulator.axdr import Data, DataType
from simulator.decode.push import PushReceiver
from simulator.link.wrapper import WrapperFrame
from simulator.model.loader import load_model
from simulator.runtime.listen import Listener, load_models, push_labels
from simulator.security import CipherKeys
from tests.decode.push_vectors import (
    GENERAL_GLO_KEY, GENERAL_GLO_NOTIFICATION, GOSEM_NOTIFICATION, KAIFA_HAN_FRAME, KAIFA_READINGS,
)

from .harness import AK, EK, RunningFleet
from .peers import GuruxPeer, SocketPipe, gurux_client

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
TITLE = bytes.fromhex("4D4D4D0000BC614E")

# A meter model whose alarm push names three values (v0 push_object_list) and a daily one (v2, six
# fields an entry), so `listen --model` can name what such a meter pushes.
MODEL = """\
name: pushing
description: a meter with two push setups
logical_devices:
  - server_sap: 1
    name: "SIM{serial}"
    associations:
      - {client_sap: 16, name: public, authentication: none, role: public}
    objects:
      - {class: Association LN, obis: 0.0.40.0.0.255, name: Current association}
      - {class: Data, obis: 0.0.42.0.0.255, name: Logical device name}
      - {class: Data, obis: 0.0.97.98.0.255, name: Alarm register 1, attributes: {value: {type: double-long-unsigned, value: 0}}}
      - class: Push setup
        obis: 0.0.25.9.0.255
        version: 0
        name: Push setup - alarm
        attributes:
          push_object_list:
            - [Push setup, 0.0.25.9.0.255, 1, 0]
            - [Data, 0.0.42.0.0.255, 2, 0]
            - [Data, 0.0.97.98.0.255, 2, 0]
          send_destination_and_method: {transport_service: tcp, destination: "127.0.0.1:4058", message: a_xdr_xdlms_apdu}
          communication_window: []
          randomisation_start_interval: 0
          number_of_retries: 0
          repetition_delay: 0
"""


def alarm_body(alarm: int) -> Data:
    return Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, bytes.fromhex("0000190900FF")),
                                     Data(DataType.OCTET_STRING, b"SIM00000042"),
                                     Data(DataType.DOUBLE_LONG_UNSIGNED, alarm)))


def gurux_notify(interface: InterfaceType, counter: int | None = None) -> GXDLMSNotify:
    """gurux-dlms as the meter: its own DataNotification frames, general-glo-ciphered with the
    Green Book keys when `counter` is given."""
    notify = GXDLMSNotify(True, 1, 1, interface)
    if counter is not None:
        cipher = GXCiphering(TITLE)
        cipher.security = Security.AUTHENTICATION_ENCRYPTION
        cipher.blockCipherKey, cipher.authenticationKey, cipher.invocationCounter = EK, AK, counter
        notify.setCipher(cipher)
    return notify


def gurux_frames(notify: GXDLMSNotify, body: Data) -> bytes:
    return b"".join(bytes(f) for f in notify.generateDataNotificationMessages(None, GXByteBuffer(body.to_bytes())))


# -- the command in a child process ------------------------------------------------------------

class ListenProcess:
    """`cosem-sim listen` in a child process: its ports, its output lines as they come."""

    def __init__(self, *options: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "listen", "--tcp", "0", *options],
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        while not (banner := self.proc.stderr.readline()).startswith("cosem-sim listen: receiving pushes on "):
            assert banner, "cosem-sim listen ended before it listened"
        self.ports = {part.split()[0]: int(part.rsplit(":", 1)[1]) for part in banner.split(" on ", 1)[1].split(", ")}
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def line(self) -> str:
        return self.lines.get(timeout=10)

    def block(self) -> str:
        """One text block: lines up to the blank line that ends it."""
        out = []
        while (line := self.line()) != "\n":
            out.append(line)
        return "".join(out)

    def stop(self) -> str:
        """SIGTERM; the exit status must be 0; returns what it wrote to stderr after the banner."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(10) == 0
        assert self.proc.stderr is not None
        return self.proc.stderr.read()


@contextmanager
def listening(*options: str) -> Iterator[ListenProcess]:
    listener = ListenProcess(*options)
    try:
        yield listener
    finally:
        if listener.proc.poll() is None:
            listener.proc.kill()
            listener.proc.wait(5)


def send_tcp(port: int, data: bytes) -> None:
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(data)


def send_udp(port: int, data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(data, (HOST, port))


def test_kaifa_han_frame_through_a_real_socket_decoded_with_its_values() -> None:
    # A real meter's published push (tests/decode/push_vectors.py cites its source).
    with listening() as listen:
        send_tcp(listen.ports["tcp"], KAIFA_HAN_FRAME)
        block = listen.block()
        assert block.startswith("data-notification (from 127.0.0.1:")
        assert "over tcp, HDLC" in block and "date-time: 2017-09-14 21:31:20" in block
        assert "octet-string 4B 46 4D 5F 30 30 31" in block  # KFM_001, the list id
        for reading in KAIFA_READINGS:
            assert f"double-long-unsigned {reading}\n" in block
        assert "Kaifa quirk" in block
        summary = listen.stop()
    assert "1 notification(s) received, 0 with an invocation counter not above the last one" in summary


def test_general_glo_notification_deciphered_as_json_and_its_replay_reported() -> None:
    key = GENERAL_GLO_KEY.hex()
    with listening("--json", "--ek", key, "--ak", key) as listen:
        for _ in range(2):
            send_tcp(listen.ports["tcp"], WrapperFrame(1, 1, GENERAL_GLO_NOTIFICATION).to_bytes())
        first, again = json.loads(listen.line()), json.loads(listen.line())
        summary = listen.stop()
    assert first["kind"] == "data-notification" and first["protection"] == "general-glo-ciphering"
    assert first["system_title"] == "2F19229199164103" and first["invocation_counter"] == 0x1E5
    assert first["invoke_id"] == 0x1DB and first["body"]["type"] == "octet-string"
    assert first["source"] == {"wport": 1} and first["replayed"] is False
    assert again["replayed"] is True and again["notes"] == [
        "invocation counter 485 from 2F19229199164103 is not above the last one, 485: replayed or reset"]
    assert "2 notification(s) received, 1 with an invocation counter not above the last one" in summary
    assert key not in summary.lower() and "MYDUMMY" not in summary


def test_gosem_notification_over_udp_and_values_named_from_a_model(tmp_path: Path) -> None:
    model = tmp_path / "pushing.yaml"
    model.write_text(MODEL, encoding="utf-8")
    with listening("--udp", "0", "--model", str(model)) as listen:
        send_udp(listen.ports["udp"], WrapperFrame(1, 1, GOSEM_NOTIFICATION).to_bytes())
        block = listen.block()
        assert "over udp" in block and "invoke-id: 6543210, unconfirmed, priority normal" in block
        assert "body: boolean True" in block
        push = DataNotification(LongInvokeIdAndPriority(5, high_priority=True), None, alarm_body(0x20))
        send_tcp(listen.ports["tcp"], WrapperFrame(1, 1, push.to_bytes()).to_bytes())
        block = listen.block()
        listen.stop()
    assert "push-setup: Push setup - alarm (model pushing)" in block
    assert "0.0.97.98.0.255 Data attribute 2 value (Alarm register 1): double-long-unsigned 32" in block
    assert "0.0.42.0.0.255 Data attribute 2 value (Logical device name): octet-string" in block


def test_gurux_pushes_over_wrapper_hdlc_and_udp_deciphered(tmp_path: Path) -> None:
    model = tmp_path / "pushing.yaml"
    model.write_text(MODEL, encoding="utf-8")
    with listening("--udp", "0", "--json", "--ek", EK.hex(), "--ak", AK.hex(), "--model", str(model)) as listen:
        seen = []  # one after the other: the counters of one sender must arrive in order
        send_tcp(listen.ports["tcp"], gurux_frames(gurux_notify(InterfaceType.WRAPPER, 41), alarm_body(1)))
        seen.append(json.loads(listen.line()))
        send_tcp(listen.ports["tcp"], gurux_frames(gurux_notify(InterfaceType.HDLC, 42), alarm_body(2)))
        seen.append(json.loads(listen.line()))
        send_udp(listen.ports["udp"], gurux_frames(gurux_notify(InterfaceType.WRAPPER, 43), alarm_body(3)))
        seen.append(json.loads(listen.line()))
        listen.stop()
    assert [(n["transport"], n["link"]) for n in seen] == [("tcp", "wrapper"), ("tcp", "hdlc"), ("udp", "wrapper")]
    assert [n["invocation_counter"] for n in seen] == [41, 42, 43]
    assert all(n["protection"] == "general-glo-ciphering" and n["system_title"] == TITLE.hex().upper()
               and not n["replayed"] for n in seen)
    assert [n["values"][2]["value"]["value"] for n in seen] == [1, 2, 3]
    assert seen[0]["values"][2]["obis"] == "0.0.97.98.0.255"


def test_a_stream_of_noise_is_closed_with_a_line() -> None:
    with listening() as listen:
        with socket.create_connection((HOST, listen.ports["tcp"]), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
            assert sock.recv(100) == b""  # the listener closed it
        assert "first octet 47 starts neither an HDLC frame (7E) nor a wrapper frame" in listen.block()
        listen.stop()


def test_connections_opened_and_closed_logged_at_debug_level() -> None:
    with listening("--log-level", "debug") as listen:
        with socket.create_connection((HOST, listen.ports["tcp"]), timeout=5) as sock:
            port = sock.getsockname()[1]
            sock.sendall(WrapperFrame(1, 1, GOSEM_NOTIFICATION).to_bytes())
        listen.block()
        log = listen.stop()
    assert f"simulator.listen: 127.0.0.1:{port}: connection opened" in log
    assert f"simulator.listen: 127.0.0.1:{port}: connection closed" in log


def test_a_port_in_use_is_one_line_and_status_1() -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        done = subprocess.run([sys.executable, "-m", "simulator.cli", "listen", "--tcp", str(taken.getsockname()[1])],
                              cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and done.stderr.startswith("cosem-sim listen: cannot listen on 127.0.0.1: ")
    assert "Traceback" not in done.stderr


def test_bad_keys_are_refused_without_repeating_them() -> None:
    done = subprocess.run([sys.executable, "-m", "simulator.cli", "listen", "--ek", "C0FFEE" * 5 + "AB",
                           "--ak", "D00D"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and done.stderr == "cosem-sim listen: --ak must be 16 bytes (32 hex digits)\n"


# -- a simulated meter pushing to it ----------------------------------------------------------

FLEET = """
name: push-listen
time: {{start: 2024-01-10T00:00:00Z}}
groups:
  - name: electricity
    model: idis_poly
    fields: {{lls_password: "12345678", block_cipher_key: {ek}, authentication_key: {ak},
             master_key: 00112233445566778899AABBCCDDEEFF}}
    listen:
      - {{transport: tcp, host: 127.0.0.1, port: 0}}
      - {{transport: udp, host: 127.0.0.1, port: 0}}
    push: {{destination: "127.0.0.1:{port}", transport: {transport}}}
"""


@pytest.mark.parametrize("transport, link", [("tcp", "wrapper"), ("hdlc", "hdlc"), ("udp", "wrapper")])
def test_a_simulated_meter_pushes_on_a_clients_action_and_listen_names_the_values(
        tmp_path: Path, transport: str, link: str) -> None:
    with listening("--udp", "0", "--json", "--ek", EK.hex(), "--ak", AK.hex(), "--model", "idis_poly") as listen:
        port = listen.ports["udp" if transport == "udp" else "tcp"]
        profile = FLEET.format(ek=EK.hex().upper(), ak=AK.hex().upper(), port=port, transport=transport)
        with RunningFleet(profile, tmp_path, state_dir=None) as fleet:
            peer = GuruxPeer(SocketPipe(HOST, fleet.port("tcp")), gurux_client(1))
            peer.connect()
            try:
                peer.request(peer.client.method(GXDLMSPushSetup("0.0.25.9.0.255"), 1, 0, GuruxType.INT8))
                pushed = json.loads(listen.line())
            finally:
                peer.release()
                peer.pipe.close()
        summary = listen.stop()
    assert pushed["kind"] == "data-notification"
    assert (pushed["transport"], pushed["link"]) == ("udp" if transport == "udp" else "tcp", link)
    if link == "wrapper":
        assert pushed["destination"] == {"wport": 1} and pushed["source"] == {"wport": 1}
    else:  # UI frames from the meter's server address (logical 1, physical 17) to client 1
        assert pushed["destination"] == {"logical": 1} and pushed["source"] == {"logical": 1, "physical": 17}
    # v0: protected as the management association's policy says (authenticated encryption)
    assert pushed["protection"] == "general-glo-ciphering" and pushed["system_title"] == "53494D0000000001"
    assert pushed["invocation_counter"] is not None and not pushed["replayed"]
    assert pushed["push_setup"]["model"] == "idis_poly"
    values = {v["obis"]: v for v in pushed["values"]}
    assert values["0.0.25.9.0.255"]["value"]["obis"] == "0.0.25.9.0.255"
    assert values["0.0.42.0.0.255"]["value"]["value"] == b"SIM00000001".hex().upper()
    assert values["0.0.1.0.0.255"]["value"]["type"] == "octet-string" and "date_time" in values["0.0.1.0.0.255"]["value"]
    assert values["0.0.97.98.0.255"]["value"]["type"] == "double-long-unsigned"
    assert "1 notification(s) received, 0 with an invocation counter not above the last one" in summary


# -- the server in-process --------------------------------------------------------------------

class Output(io.StringIO):
    """What the listener prints; `wait(n)` until n notifications or problems are out."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def write(self, s: str) -> int:
        self.changed.set()
        return super().write(s)

    async def wait(self, lines: int) -> list[str]:
        while len(found := [line for line in self.getvalue().splitlines() if line]) < lines:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)
        return found


def test_by_default_the_push_object_lists_of_every_shipped_model() -> None:
    labels = push_labels(load_models(None))
    alarm = labels[bytes.fromhex("0000190900FF")]
    assert "idis_poly" in {found.model for found in alarm}
    assert all(entry.name for found in alarm for entry in found.entries)  # every object named from its model


async def test_labels_from_a_model_and_a_connection_closed_by_the_listener(tmp_path: Path) -> None:
    model = tmp_path / "pushing.yaml"
    model.write_text(MODEL, encoding="utf-8")
    labels = push_labels([load_model(model)])
    assert [e.name for e in labels[bytes.fromhex("0000190900FF")][0].entries] == [
        "Push setup - alarm", "Logical device name", "Alarm register 1"]
    out = Output()
    listener = Listener(PushReceiver(CipherKeys(EK, AK), labels), out, as_json=True)
    await listener.start(HOST, 0, 0)
    try:
        assert listener.tcp_port and listener.udp_port
        reader, writer = await asyncio.open_connection(HOST, listener.tcp_port)
        writer.write(gurux_frames(gurux_notify(InterfaceType.WRAPPER, 7), alarm_body(4)))
        [line] = await out.wait(1)
        shown = json.loads(line)
        assert shown["push_setup"] == {"model": "pushing", "name": "Push setup - alarm"}
        assert shown["values"][2] == {"obis": "0.0.97.98.0.255", "class_id": 1, "attribute": 2, "data_index": 0,
                                      "name": "Alarm register 1",
                                      "value": {"type": "double-long-unsigned", "value": 4}}
        writer.write(b"\x00\x02" + bytes(6))  # a wrapper version no one sends: the stream is lost
        assert json.loads((await out.wait(2))[1])["kind"] == "problem"
        assert await reader.read() == b""
        writer.close()
    finally:
        await listener.close()
