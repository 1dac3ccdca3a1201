"""The independent clients as in-memory peers: gurux-dlms GXDLMSClient over the wrapper, no socket.

Gurux builds request frames; we unwrap them, feed the APDU to the meter's channel, wrap the
answer and hand it back to gurux's getData, following its block-transfer requests
(receiverReady) exactly as its own example reader does over TCP.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulator.link.wrapper import WrapperFrame

from .support import Meter

pytest.importorskip("gurux_dlms")
from gurux_dlms import GXByteBuffer, GXReplyData  # noqa: E402
from gurux_dlms.enums import Authentication, InterfaceType, Security  # noqa: E402
from gurux_dlms.secure import GXDLMSSecureClient  # noqa: E402


class GuruxPeer:
    """A gurux-dlms client talking to `meter` through wrapper frames passed in memory."""

    def __init__(self, meter: Meter, client_sap: int = 16, authentication: Any = Authentication.NONE,
                 password: bytes | None = None, max_pdu: int = 0xFFFF, logical_name: bool = True,
                 keys: tuple[bytes, bytes, bytes] | None = None) -> None:
        """`keys`: (client system title, block cipher key, authentication key) to cipher every
        APDU with authentication and encryption (service-specific glo- APDUs, as gurux does)."""
        self.meter = meter
        self.client = GXDLMSSecureClient(logical_name, client_sap, 1, authentication, password, InterfaceType.WRAPPER)
        self.client.setMaxReceivePDUSize(max_pdu)
        if keys is not None:
            cipher = self.client.settings.cipher
            cipher.security = Security.AUTHENTICATION_ENCRYPTION
            cipher.systemTitle, cipher.blockCipherKey, cipher.authenticationKey = (bytearray(k) for k in keys)
        self.apdus: list[bytes] = []  # every APDU the meter answered, for size checks

    def exchange(self, frame: bytes) -> bytes:
        request = WrapperFrame.from_bytes(bytes(frame))
        answer = self.meter.channel.handle_apdu(request.destination_wport, request.source_wport, request.apdu,
                                                self.meter.now)
        assert answer is not None, f"no answer to {request.apdu.hex()}"
        self.apdus.append(answer)
        return WrapperFrame(request.destination_wport, request.source_wport, answer).to_bytes()

    def packet(self, data: bytes, reply: Any) -> None:
        answer = self.exchange(data)
        assert self.client.getData(GXByteBuffer(answer), reply, None), "incomplete answer"

    def block(self, data: Any, reply: Any = None) -> Any:
        """gurux's readDataBlock: send each frame, then follow its block transfer."""
        reply = reply if reply is not None else GXReplyData()
        if isinstance(data, list):
            for frame in data:
                reply.clear()
                self.block(frame, reply)
            return reply
        self.packet(data, reply)
        while reply.isMoreData():
            self.packet(self.client.receiverReady(reply), reply)
        return reply

    def associate(self) -> None:
        reply = GXReplyData()
        self.block(self.client.aarqRequest(), reply)
        self.client.parseAareResponse(reply.data)
        if self.client.getIsAuthenticationRequired():
            for frame in self.client.getApplicationAssociationRequest():
                reply.clear()
                self.block(frame, reply)
            self.client.parseApplicationAssociationResponse(reply.data)

    def read(self, obj: Any, attribute: int) -> Any:
        reply = self.block(self.client.read(obj, attribute))
        return self.client.updateValue(obj, attribute, reply.value)

    def release(self) -> None:
        self.block(self.client.releaseRequest())
