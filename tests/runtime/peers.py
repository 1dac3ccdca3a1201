"""The independent clients as test peers: dlms-cosem's DlmsClient, and gurux-dlms over a small pump.

gurux-dlms only builds and parses frames; `GuruxPeer` moves them over a `Pipe` (a TCP socket,
a connected UDP socket or a serial port) the way gurux's own sample reader does.
"""

from __future__ import annotations

import itertools
import logging
import socket
from typing import Any, Protocol

import structlog
from dlms_cosem import cosem, enumerations
from dlms_cosem.client import DlmsClient
from dlms_cosem.hdlc import state as hdlc_state
from dlms_cosem.io import BlockingTcpIO, HdlcTransport, SerialIO, TcpTransport
from dlms_cosem.security import (
    HighLevelSecurityGmacAuthentication, LowLevelSecurityAuthentication, NoSecurityAuthentication,
)
from gurux_dlms import GXByteBuffer, GXDLMSClient, GXDLMSException, GXReplyData
from gurux_dlms.enums import Authentication, InterfaceType, Security
from gurux_dlms.objects import GXDLMSClock, GXDLMSData, GXDLMSRegister
from gurux_dlms.secure import GXDLMSSecureClient

from .harness import AK, EK, LLS_PASSWORD

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # dlms-cosem is chatty

TIMEOUT_S = 5.0
# Meters refuse a counter not above the last one of that system title: each session starts higher.
_COUNTERS = itertools.count(1000, 1000)
CLOCK = cosem.CosemAttribute(interface=enumerations.CosemInterface.CLOCK,
                             instance=cosem.Obis(0, 0, 1, 0, 0, 255), attribute=2)
MANAGEMENT_COUNTER = cosem.CosemAttribute(interface=enumerations.CosemInterface.DATA,
                                          instance=cosem.Obis(0, 0, 43, 1, 1, 255), attribute=2)
LDN = cosem.CosemAttribute(interface=enumerations.CosemInterface.DATA,
                           instance=cosem.Obis(0, 0, 42, 0, 0, 255), attribute=2)


# --------------------------------------------------------------------------- dlms-cosem

def authentication(client_sap: int) -> Any:
    """The demo association of a client SAP: 16 public, 2 LLS, 1 HLS-GMAC."""
    if client_sap == 2:
        return LowLevelSecurityAuthentication(secret=LLS_PASSWORD)
    if client_sap == 1:
        return HighLevelSecurityGmacAuthentication(challenge_length=32)
    return NoSecurityAuthentication()


def dlms_client(transport: Any, client_sap: int, invocation_counter: int | None = None,
                system_title: bytes = b"DLMSCOSM", max_pdu_size: int = 65535) -> DlmsClient:
    """A dlms-cosem client for the demo associations; client 1 ciphers with the demo keys.

    `max_pdu_size` is the client's proposed max receive PDU size: what the meter may send at once.
    """
    keys: dict[str, Any] = {}
    if client_sap == 1:
        keys = dict(encryption_key=EK, authentication_key=AK, client_system_title=system_title,
                    client_initial_invocation_counter=invocation_counter or next(_COUNTERS))
    return DlmsClient(transport=transport, authentication=authentication(client_sap), timeout=5,
                      max_pdu_size=max_pdu_size, **keys)


def wrapper_transport(port: int, client_sap: int, host: str = "127.0.0.1", server_sap: int = 1) -> TcpTransport:
    return TcpTransport(client_logical_address=client_sap, server_logical_address=server_sap,
                        io=BlockingTcpIO(host=host, port=port, timeout=5), timeout=5)


class FramedHdlcTransport(HdlcTransport):
    """dlms-cosem's HDLC transport, reading each frame by its length field.

    dlms-cosem reads a frame up to the next 0x7E; DLMS HDLC frames are delimited by their
    length, not by byte stuffing, so a frame whose FCS or ciphered payload holds 0x7E is cut
    short and the client waits forever (u9n/dlms-cosem issue 97). Everything else (link states,
    segmentation, LLC, xDLMS, ciphering) stays dlms-cosem's own.
    """

    def next_event(self) -> Any:
        connection = self.hdlc_connection
        while True:
            event = connection.next_event()
            if event is not hdlc_state.NEED_DATA:
                return event
            if b"\x7e" not in connection.buffer[connection.buffer_search_position:]:
                connection.receive_data(self.recv_frame())
            # else: the flag it stopped at was an octet inside the frame; it searches on from there

    def recv_frame(self) -> bytes:
        start = self._exactly(1)
        while start == b"\x7e":  # opening flag (or a flag shared with the previous frame)
            start = self._exactly(1)
        head = start + self._exactly(1)
        length = int.from_bytes(head, "big") & 0x7FF  # frame format: the octets between the flags
        body = self._exactly(length - 2)
        self._exactly(1)  # closing flag
        return b"\x7e" + head + body + b"\x7e"

    def _exactly(self, amount: int) -> bytes:
        data = b""
        while len(data) < amount:
            more = self.io.recv(amount - len(data))
            if not more:  # a serial port's read timed out
                raise TimeoutError("no answer on the HDLC line")
            data += more
        return data


def hdlc_tcp_transport(port: int, client_sap: int, physical: int = 17, host: str = "127.0.0.1") -> HdlcTransport:
    return FramedHdlcTransport(client_logical_address=client_sap, server_logical_address=1,
                         server_physical_address=physical, io=BlockingTcpIO(host=host, port=port, timeout=5),
                         timeout=5)


def hdlc_serial_transport(device: str, client_sap: int, physical: int = 17) -> HdlcTransport:
    return FramedHdlcTransport(client_logical_address=client_sap, server_logical_address=1,
                         server_physical_address=physical, io=SerialIO(port_name=device, baud_rate=9600, timeout=5),
                         timeout=5)


def read(transport: Any, client_sap: int, *attributes: cosem.CosemAttribute, **client: Any) -> list[bytes]:
    """Associate, GET each attribute (A-XDR bytes), release."""
    with dlms_client(transport, client_sap, **client).session() as session:
        return [session.get(a) for a in attributes]


# --------------------------------------------------------------------------- gurux-dlms

class Pipe(Protocol):
    def send(self, data: bytes) -> None: ...

    def receive(self) -> bytes: ...

    def close(self) -> None: ...


class SocketPipe:
    """TCP (stream) or connected UDP (one datagram per receive)."""

    def __init__(self, host: str, port: int, udp: bool = False) -> None:
        kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.settimeout(TIMEOUT_S)
        self.sock.connect((host, port))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the meter")
        return data

    def close(self) -> None:
        self.sock.close()


class SerialPipe:
    def __init__(self, device: str) -> None:
        import serial

        self.port = serial.Serial(device, 9600, bytesize=8, parity="N", stopbits=1, timeout=TIMEOUT_S)

    def send(self, data: bytes) -> None:
        self.port.write(data)

    def receive(self) -> bytes:
        """What has arrived: waits for the first octet only, not for a full buffer or the timeout."""
        first = self.port.read(1)
        if not first:
            raise TimeoutError("no answer on the serial line")
        return first + self.port.read(self.port.in_waiting)

    def close(self) -> None:
        self.port.close()


def gurux_client(client_sap: int, server_address: int = 1, hdlc: bool = False, invocation_counter: int | None = None,
                 system_title: bytes = b"GURUXCLT") -> GXDLMSClient:
    """A gurux client for a demo association; `server_address` as gurux computes it for HDLC."""
    kind = InterfaceType.HDLC if hdlc else InterfaceType.WRAPPER
    if client_sap == 1:
        client = GXDLMSSecureClient(True, 1, server_address, Authentication.HIGH_GMAC, None, kind)
        client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
        client.ciphering.systemTitle = system_title
        client.ciphering.blockCipherKey = EK
        client.ciphering.authenticationKey = AK
        client.ciphering.invocationCounter = invocation_counter or next(_COUNTERS)
    elif client_sap == 2:
        client = GXDLMSClient(True, 2, server_address, Authentication.LOW, LLS_PASSWORD, kind)
    else:
        client = GXDLMSClient(True, client_sap, server_address, Authentication.NONE, None, kind)
    return client


class GuruxPeer:
    """gurux-dlms driven over a pipe, as its sample reader does it."""

    def __init__(self, pipe: Pipe, client: GXDLMSClient) -> None:
        self.pipe = pipe
        self.client = client
        self.unread = b""  # bytes after the frame just parsed: a GBT window may arrive in one read

    def exchange(self, request: bytes | None, reply: GXReplyData) -> None:
        if request is not None:
            self.pipe.send(bytes(request))
        notify = GXReplyData()
        buffer = GXByteBuffer(self.unread)
        while not self.client.getData(buffer, reply, notify):
            buffer.set(self.pipe.receive())
        self.unread = bytes(buffer.array()[buffer.position:])

    def request(self, requests: list[bytes]) -> GXReplyData:
        reply = GXReplyData()
        for data in requests:
            reply.clear()
            self.exchange(data, reply)
            while reply.isMoreData():
                self.exchange(None if reply.isStreaming() else self.client.receiverReady(reply), reply)
            if reply.error:  # gurux keeps a refusal (data-access-result, action-result) here
                raise GXDLMSException(reply.error)
        return reply

    def connect(self) -> None:
        if self.client.interfaceType == InterfaceType.HDLC:
            reply = GXReplyData()
            self.exchange(self.client.snrmRequest(), reply)
            self.client.parseUAResponse(reply.data)
        self.client.parseAareResponse(self.request(self.client.aarqRequest()).data)
        if self.client.getIsAuthenticationRequired():
            reply = self.request(self.client.getApplicationAssociationRequest())
            self.client.parseApplicationAssociationResponse(reply.data)

    def read(self, obj: Any, attribute: int) -> Any:
        reply = self.request(self.client.read(obj, attribute))
        return self.client.updateValue(obj, attribute, reply.value)

    def release(self) -> None:
        self.request(self.client.releaseRequest())
        if self.client.interfaceType == InterfaceType.HDLC:
            self.exchange(self.client.disconnectRequest(), GXReplyData())

    def session_read(self, *objects: tuple[Any, int]) -> list[Any]:
        """Connect, read each (object, attribute), release."""
        self.connect()
        try:
            return [self.read(obj, attribute) for obj, attribute in objects]
        finally:
            self.release()


def clock() -> GXDLMSClock:
    return GXDLMSClock("0.0.1.0.0.255")


def energy_register() -> GXDLMSRegister:
    return GXDLMSRegister("1.0.1.8.0.255")


def counter_object() -> GXDLMSData:
    return GXDLMSData("0.0.43.1.1.255")
