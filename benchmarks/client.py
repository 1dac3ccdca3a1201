"""The load generator's DLMS client: asyncio links over the simulator's own sans-IO core.

A link moves APDUs over one TCP connection: `WrapperLink` (IEC 62056-47 wrapper frames, cut
by `WrapperReader`) or `HDLCLink` (SNRM/UA, then I-frames with the LLC header, read by
`HDLCFrameReader`; segmented answers are acknowledged with RR). `Association` is one client
association on a link: AARQ with no authentication, LLS or HLS-GMAC (pass 3/4 included, and
suite 0 authenticated encryption of every APDU after it), GET (normal, and with block
transfer), RLRQ. Every answer is decoded with the core's codecs and checked; anything
unexpected raises `ClientError` with a short reason the caller counts, never hides.

One request is outstanding per link (DLMS clients wait for each answer); a request that gets
no answer within `timeout_s` fails with ClientError("timeout").
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any, Protocol

from simulator.apdu.acse import AARE, AARQ, RLRE, RLRQ, ApplicationContextName, AssociationResult, MechanismName
from simulator.apdu.action import ActionRequestNormal, ActionResponseNormal
from simulator.apdu.common import (
    ActionResult, CosemAttributeDescriptor, CosemMethodDescriptor, DataAccessResult, InvokeIdAndPriority,
    SelectiveAccess,
)
from simulator.apdu.get import GetRequestNext, GetRequestNormal, GetResponseNormal, GetResponseWithDatablock
from simulator.apdu.initiate import Conformance, InitiateRequest, InitiateResponse
from simulator.apdu.notification import ExceptionResponse
from simulator.apdu.set import SetRequestNormal, SetResponseNormal
from simulator.apdu.xdlms import decode_xdlms
from simulator.axdr import Data, DataType, Obis, Reader, decode_data
from simulator.errors import DLMSError
from simulator.link.hdlc import LLC_REQUEST, FrameKind, HDLCAddress, HDLCFrame, HDLCFrameReader
from simulator.link.wrapper import WrapperFrame, WrapperReader
from simulator.security import CipherKeys, SecurityControl, decrypt_apdu, encrypt_apdu
from simulator.security.hls import hls_gmac_response, verify_hls_gmac

__all__ = [
    "ClientError", "Credentials", "Link", "WrapperLink", "HDLCLink", "Association", "open_link",
    "PROPOSED_CONFORMANCE", "get_request", "set_request",
]

PROPOSED_CONFORMANCE = (Conformance.GET | Conformance.SET | Conformance.ACTION | Conformance.SELECTIVE_ACCESS
                        | Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ | Conformance.MULTIPLE_REFERENCES
                        | Conformance.ATTRIBUTE0_SUPPORTED_WITH_GET)
_SUITE0_AE = SecurityControl(suite=0, authenticated=True, encrypted=True)
_CURRENT_ASSOCIATION = Obis("0.0.40.0.0.255")
_KNOWN_ANSWERS = 64
_HDLC_MAX_INFO = 128  # the IEC 62056-46 default, which the client does not negotiate up


class ClientError(Exception):
    """Something the meter did or did not do; `str()` is a short reason for the error tally."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """How to associate: mechanism 'none', 'lls' or 'hls-gmac', with the meter's secrets."""

    mechanism: str
    client_sap: int
    password: bytes = b""
    ek: bytes = b""
    ak: bytes = b""
    client_title: bytes = b""


def get_request(invoke_id: int, class_id: int, obis: str, attribute: int,
                access: SelectiveAccess | None = None) -> bytes:
    """An encoded GET-Request-Normal (confirmed, high priority)."""
    return GetRequestNormal(InvokeIdAndPriority(invoke_id, True, True),
                            CosemAttributeDescriptor(class_id, Obis(obis), attribute), access).to_bytes()


def set_request(invoke_id: int, class_id: int, obis: str, attribute: int, value: Data) -> bytes:
    """An encoded SET-Request-Normal (confirmed, high priority)."""
    return SetRequestNormal(InvokeIdAndPriority(invoke_id, True, True),
                            CosemAttributeDescriptor(class_id, Obis(obis), attribute), None, value).to_bytes()


# --------------------------------------------------------------------------- links

class Link(asyncio.Protocol):
    """One TCP connection carrying APDUs, one request at a time.

    An answer goes to the coroutine awaiting `exchange`, or, when a `pump` is set, straight to
    `pump.answered` (no future, no task switch: the closed loops of the throughput jobs).
    """

    def __init__(self, timeout_s: float) -> None:
        self.transport: Any = None
        self.timeout_s = timeout_s
        self.sent_at = 0.0
        self.pump: Pump | None = None
        self._waiter: asyncio.Future[bytes] | None = None
        self._lost: str | None = None

    @property
    def lost(self) -> bool:
        return self._lost is not None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = "connection closed by the meter" if exc is None else f"connection lost: {exc}"
        self._fail(self._lost)

    def _fail(self, reason: str) -> None:
        if self.pump is not None:
            self.pump.failed(reason)
            return
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ClientError(reason))

    def _deliver(self, apdu: bytes) -> None:
        if self.pump is not None:
            self.pump.answered(apdu)
            return
        waiter, self._waiter = self._waiter, None
        if waiter is None or waiter.done():
            self._fail("unsolicited APDU")
            return
        waiter.set_result(apdu)

    def expire(self, now: float) -> None:
        """Called by the caller's watchdog: fail a request older than the timeout."""
        waiting = self._waiter is not None or (self.pump is not None and self.pump.waiting)
        if waiting and now - self.sent_at > self.timeout_s:
            self._fail("timeout")

    def send(self, apdu: bytes) -> None:
        """Send one APDU (its answer goes to the pump)."""
        self.sent_at = time.perf_counter()
        self.send_apdu(apdu)

    async def exchange(self, apdu: bytes) -> bytes:
        """Send one APDU and wait for the answer APDU."""
        if self._lost is not None:
            raise ClientError(self._lost)
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        self.send(apdu)
        return await waiter

    def send_apdu(self, apdu: bytes) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        """What the link needs before the first APDU (HDLC: SNRM/UA)."""

    async def stop(self) -> None:
        """End the link cleanly, then close the connection."""
        if self.transport is not None:
            self.transport.close()


class Pump(Protocol):
    """Receives a link's answers directly (see `Link`)."""

    @property
    def waiting(self) -> bool: ...

    def answered(self, apdu: bytes) -> None: ...

    def failed(self, reason: str) -> None: ...


class WrapperLink(Link):
    """IEC 62056-47 wrapper frames from `client_sap` to logical device `server_sap`."""

    def __init__(self, client_sap: int, server_sap: int, timeout_s: float) -> None:
        super().__init__(timeout_s)
        self._client, self._server = client_sap, server_sap
        self._reader = WrapperReader()

    def send_apdu(self, apdu: bytes) -> None:
        self.transport.write(WrapperFrame(self._client, self._server, apdu).to_bytes())

    def data_received(self, data: bytes) -> None:
        self._reader.receive_data(data)
        try:
            while (frame := self._reader.next_frame()) is not None:
                if (frame.source_wport, frame.destination_wport) != (self._server, self._client):
                    self._fail(f"answer from wPort {frame.source_wport} to {frame.destination_wport}")
                else:
                    self._deliver(frame.apdu)
        except DLMSError as exc:
            self._fail(f"bad wrapper frame: {exc}")
            self.transport.abort()


class HDLCLink(Link):
    """HDLC over TCP to (logical, physical) from client `client_sap`, default link parameters."""

    def __init__(self, client_sap: int, logical: int, physical: int, timeout_s: float) -> None:
        super().__init__(timeout_s)
        self._client = HDLCAddress.client(client_sap)
        self._server = HDLCAddress(logical, physical)
        self._reader = HDLCFrameReader()
        self._vs = self._vr = 0
        self._segments = bytearray()
        self._unnumbered: asyncio.Future[HDLCFrame] | None = None

    async def start(self) -> None:
        frame = await self._command(FrameKind.SNRM)
        if frame.kind is not FrameKind.UA:
            raise ClientError(f"SNRM answered with {frame.kind.name}")

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self._command(FrameKind.DISC), self.timeout_s)
        except ClientError:
            pass
        await super().stop()

    async def _command(self, kind: FrameKind) -> HDLCFrame:
        self._unnumbered = asyncio.get_running_loop().create_future()
        self.transport.write(HDLCFrame(self._server, self._client, kind).to_bytes())
        try:
            return await asyncio.wait_for(self._unnumbered, self.timeout_s)
        except asyncio.TimeoutError:
            raise ClientError(f"no answer to {kind.name}") from None

    def send_apdu(self, apdu: bytes) -> None:
        lsdu = LLC_REQUEST + apdu
        if len(lsdu) > _HDLC_MAX_INFO:
            self._fail(f"request of {len(lsdu)} bytes needs HDLC segmentation (not implemented by the client)")
            return
        self._send(FrameKind.I, lsdu)

    def _send(self, kind: FrameKind, info: bytes = b"") -> None:
        frame = HDLCFrame(self._server, self._client, kind, True, self._vs if kind is FrameKind.I else 0,
                          self._vr, False, info)
        if kind is FrameKind.I:
            self._vs = (self._vs + 1) & 7
        self.transport.write(frame.to_bytes())

    def data_received(self, data: bytes) -> None:
        self._reader.receive_data(data)
        try:
            while (frame := self._reader.next_frame()) is not None:
                self._frame(frame)
        except DLMSError as exc:
            self._fail(f"bad HDLC frame: {exc}")

    def _frame(self, frame: HDLCFrame) -> None:
        if frame.kind is FrameKind.I:
            self._vr = (frame.ns + 1) & 7
            self._segments += frame.information
            if frame.segmented:
                self._send(FrameKind.RR)  # ask for the next segment
                return
            lsdu, self._segments = bytes(self._segments), bytearray()
            if lsdu[:3] != b"\xe6\xe7\x00":
                self._fail("HDLC answer without the LLC response header")
                return
            self._deliver(lsdu[3:])
        elif self._unnumbered is not None and not self._unnumbered.done():
            self._unnumbered.set_result(frame)
        else:
            self._fail(f"unexpected HDLC {frame.kind.name} frame")


async def open_link(transport: str, host: str, port: int, client_sap: int, physical: int,
                    timeout_s: float) -> Link:
    """Connect (wrapper: 'tcp', HDLC: 'hdlc-tcp') and start the link; logical device 1."""
    loop = asyncio.get_running_loop()
    link: Link = (WrapperLink(client_sap, 1, timeout_s) if transport == "tcp"
                  else HDLCLink(client_sap, 1, physical, timeout_s))
    try:
        await asyncio.wait_for(loop.create_connection(lambda: link, host, port), timeout_s)
    except (OSError, asyncio.TimeoutError) as exc:
        raise ClientError(f"connect failed: {type(exc).__name__}") from None
    try:
        await link.start()
    except ClientError:
        link.transport.abort()
        raise
    return link


# --------------------------------------------------------------------------- association

class Association:
    """One client association on a link; `ciphered` after HLS-GMAC (suite 0, A+E)."""

    def __init__(self, link: Link, credentials: Credentials, max_receive_pdu: int = 0xFFFF,
                 rng: random.Random | None = None) -> None:
        self.link = link
        self.credentials = credentials
        self.max_receive_pdu = max_receive_pdu
        self.server_title: bytes | None = None
        self._rng = rng or random.Random()
        self._ic = 0  # our invocation counter
        self._server_ic = -1  # the last one the meter used
        self._keys = CipherKeys(credentials.ek, credentials.ak) if credentials.mechanism == "hls-gmac" else None
        self._known: dict[bytes, Data] = {}  # GET answers already checked, and their values

    @property
    def ciphered(self) -> bool:
        return self._keys is not None

    # -- AARQ / pass 3-4 / RLRQ
    async def associate(self) -> None:
        c = self.credentials
        initiate = InitiateRequest(proposed_conformance=PROPOSED_CONFORMANCE,
                                   client_max_receive_pdu_size=self.max_receive_pdu).to_bytes()
        if c.mechanism == "none":
            aarq = AARQ(application_context_name=ApplicationContextName.LOGICAL_NAME, user_information=initiate)
        elif c.mechanism == "lls":
            aarq = AARQ(application_context_name=ApplicationContextName.LOGICAL_NAME, sender_acse_requirements=True,
                        mechanism_name=MechanismName.LOW, calling_authentication_value=c.password,
                        user_information=initiate)
        else:
            ctos = self._rng.randbytes(16)
            aarq = AARQ(application_context_name=ApplicationContextName.LOGICAL_NAME_WITH_CIPHERING,
                        calling_ap_title=c.client_title, sender_acse_requirements=True,
                        mechanism_name=MechanismName.HIGH_GMAC, calling_authentication_value=ctos,
                        user_information=self._encrypt(initiate))
        aare = _decode(AARE, await self.link.exchange(aarq.to_bytes()))
        if aare.result != AssociationResult.ACCEPTED:
            raise ClientError(f"AARQ refused: {aare.result_source_diagnostic.name.lower()}")
        if aare.user_information is None:
            raise ClientError("AARE without InitiateResponse")
        if c.mechanism != "hls-gmac":
            _decode(InitiateResponse, aare.user_information)
            return
        if aare.responding_ap_title is None or not isinstance(aare.responding_authentication_value, bytes):
            raise ClientError("HLS-GMAC AARE without server system title or challenge")
        self.server_title = aare.responding_ap_title
        _decode(InitiateResponse, self._decrypt(aare.user_information))
        await self._pass3(aare.responding_authentication_value, ctos)

    async def _pass3(self, stoc: bytes, ctos: bytes) -> None:
        """reply_to_HLS_authentication with f(StoC); check the meter's f(CtoS) in the answer."""
        assert self._keys is not None and self.server_title is not None
        self._ic += 1
        f_stoc = hls_gmac_response(self.credentials.client_title, self._ic, self._keys.ek, self._keys.ak, stoc)
        request = ActionRequestNormal(InvokeIdAndPriority(1, True, True),
                                      CosemMethodDescriptor(15, _CURRENT_ASSOCIATION, 1),
                                      Data(DataType.OCTET_STRING, f_stoc)).to_bytes()
        answer = _decode_xdlms(await self.request(request))
        if not isinstance(answer, ActionResponseNormal) or answer.result != ActionResult.SUCCESS:
            raise ClientError(f"HLS pass 3 refused: {_describe(answer)}")
        f_ctos = answer.return_parameters
        if not isinstance(f_ctos, Data) or f_ctos.type != DataType.OCTET_STRING:
            raise ClientError("HLS pass 4 missing")
        try:
            verify_hls_gmac(f_ctos.value, self.server_title, self._keys.ek, self._keys.ak, ctos)
        except DLMSError:
            raise ClientError("HLS pass 4 does not verify") from None

    async def release(self) -> None:
        rlre = _decode(RLRE, await self.link.exchange(RLRQ().to_bytes()))
        if rlre.reason is not None and rlre.reason.name != "NORMAL":
            raise ClientError(f"RLRQ answered {rlre.reason.name.lower()}")

    # -- services
    def seal(self, plain: bytes) -> bytes:
        """A request as it goes on the wire: ciphered (suite 0, A+E) after HLS-GMAC."""
        return plain if self._keys is None else self._encrypt(plain)

    def open(self, apdu: bytes) -> bytes:
        """An answer's plaintext."""
        return apdu if self._keys is None else self._decrypt(apdu)

    async def request(self, plain: bytes) -> bytes:
        """One xDLMS request and its plaintext answer."""
        return self.open(await self.link.exchange(self.seal(plain)))

    def get_value(self, answer: bytes, request: bytes) -> Data:
        """The Data of a plaintext GET-Response-Normal to `request` (ClientError for anything else).

        An answer byte for byte equal to one already checked is that same value (its invoke id,
        byte 2, is still compared): a closed loop reading a register gets the same bytes again
        and again.
        """
        known = self._known.get(answer)
        if known is not None and answer[2] & 0x0F == request[2] & 0x0F:
            return known
        decoded = _decode_xdlms(answer)
        if not isinstance(decoded, GetResponseNormal):
            raise ClientError(_describe(decoded))
        if decoded.invoke.invoke_id != request[2] & 0x0F:
            raise ClientError("answer to another invoke id")
        if not isinstance(decoded.result, Data):
            raise ClientError(_describe(decoded))
        if len(self._known) >= _KNOWN_ANSWERS:
            self._known.clear()
        self._known[answer] = decoded.result
        return decoded.result

    def set_result(self, answer: bytes, request: bytes) -> None:
        """Check a plaintext SET-Response-Normal to `request` says success (ClientError if not)."""
        decoded = _decode_xdlms(answer)
        if not isinstance(decoded, SetResponseNormal) or decoded.result != DataAccessResult.SUCCESS:
            raise ClientError(_describe(decoded))
        if decoded.invoke.invoke_id != request[2] & 0x0F:
            raise ClientError("answer to another invoke id")

    async def get(self, request: bytes) -> Data:
        """A GET-Request-Normal and the Data it returns."""
        return self.get_value(await self.request(request), request)

    async def get_blocks(self, request: bytes) -> tuple[Data, int, int]:
        """A GET that may come in datablocks: the value, the blocks and the raw bytes received."""
        answer = _decode_xdlms(await self.request(request))
        if isinstance(answer, GetResponseNormal):
            if not isinstance(answer.result, Data):
                raise ClientError(_describe(answer))
            return answer.result, 1, len(request)
        raw = bytearray()
        blocks = 0
        while True:
            if not isinstance(answer, GetResponseWithDatablock) or not isinstance(answer.result, bytes):
                raise ClientError(_describe(answer))
            blocks += 1
            if answer.block_number != blocks:
                raise ClientError(f"block {answer.block_number} where {blocks} was due")
            raw += answer.result
            if answer.last_block:
                break
            answer = _decode_xdlms(await self.request(GetRequestNext(answer.invoke, blocks).to_bytes()))
        reader = Reader(bytes(raw))
        try:
            value = decode_data(reader)
            reader.expect_end("datablock payload")
        except DLMSError as exc:
            raise ClientError(f"datablocks do not decode: {exc}") from None
        return value, blocks, len(raw)

    # -- suite 0
    def _encrypt(self, plain: bytes) -> bytes:
        assert self._keys is not None
        self._ic += 1
        return encrypt_apdu(plain, "glo", _SUITE0_AE, self.credentials.client_title, self._ic,
                            self._keys.ek, self._keys.ak)

    def _decrypt(self, apdu: bytes) -> bytes:
        keys = self._keys
        assert keys is not None
        if apdu[:1] == b"\xd8":  # exception-response: never ciphered when the request could not be opened
            return apdu
        try:
            opened = decrypt_apdu(apdu, lambda _: keys, system_title=self.server_title)
        except DLMSError as exc:
            raise ClientError(f"answer does not decipher: {type(exc).__name__}") from None
        if opened.security_control.to_byte() != _SUITE0_AE.to_byte():
            raise ClientError(f"answer protected with {opened.security_control}")
        if opened.invocation_counter <= self._server_ic:
            raise ClientError("meter reused an invocation counter")
        self._server_ic = opened.invocation_counter
        return opened.apdu


def _decode(cls: Any, data: bytes) -> Any:
    try:
        return cls.from_bytes(data)
    except DLMSError as exc:
        if data[:1] == b"\xd8":
            raise ClientError(_describe(_decode_xdlms(data))) from None
        raise ClientError(f"{cls.__name__} does not decode: {exc}") from None


def _decode_xdlms(data: bytes) -> Any:
    try:
        return decode_xdlms(data)
    except DLMSError as exc:
        raise ClientError(f"answer does not decode: {exc}") from None


def _describe(answer: Any) -> str:
    """A refusal as a short tally key: 'exception-response service-not-allowed/...' etc."""
    if isinstance(answer, ExceptionResponse):
        return f"exception-response {answer.state_error.name.lower()}/{answer.service_error.name.lower()}"
    result = getattr(answer, "result", None)
    if isinstance(result, (DataAccessResult, ActionResult)):
        return f"{type(answer).__name__} {result.name.lower()}"
    return f"unexpected {type(answer).__name__}"
