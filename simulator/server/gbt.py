"""General block transfer (Green Book 9.3.x, GBT APDU 0xE0), server side.

Used only when the client itself sends GBT APDUs (dlms-cosem proposes GBT in its conformance
block but cannot read a GBT answer, see INTEROP.md). The client's blocks are gathered until the
last one; the APDU they carry (plain or ciphered) is served like any other, and the whole answer
(protected as the request was) goes back in GBT blocks that fill the client's max receive PDU
size. A sans-IO answer is one APDU per received APDU, so the server sends one block per
acknowledgement: the client asks for the next block with an empty GBT block acknowledging the
last one received. Request blocks are acknowledged (empty block, not last) when the client's
window is full; a block out of sequence aborts the transfer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..apdu.common import ServiceError, StateError
from ..apdu.gbt import GeneralBlockTransfer
from ..apdu.notification import ExceptionResponse
from ..errors import DecodeError
from .blocks import checked_append, chunk_size
from .request import Logger, Transfers

__all__ = ["GbtTransfer", "serve_gbt"]

_HEADER = 6  # E0 block-control block-number(2) block-number-ack(2), before the data length
_WINDOW = 1  # blocks we accept per window (we acknowledge every block)
_MAX_BLOCKS = 0xFFFF  # GBT block numbers are Unsigned16


@dataclass(slots=True)
class GbtTransfer:
    """One general block transfer: the request gathered, then the answer being sent."""

    received: bytearray = field(default_factory=bytearray)
    rx_block: int = 0
    rx_acked: int = 0
    answer: bytes | None = None
    chunk: int = 1
    sent: int = 0
    tx_block: int = 0


def _block(st: GbtTransfer) -> bytes:
    assert st.answer is not None
    piece = st.answer[st.sent:st.sent + st.chunk]
    st.sent += len(piece)
    st.tx_block += 1
    last = st.sent >= len(st.answer)
    return GeneralBlockTransfer(last, False, _WINDOW, st.tx_block, st.rx_block, piece).to_bytes()


def serve_gbt(tr: Transfers, apdu: bytes, client_max: int, inner: Callable[[bytes], bytes | None],
              log: Logger) -> bytes | None:
    """Handle one GBT APDU; `inner` serves the reassembled APDU and returns its protected answer."""
    try:
        g = GeneralBlockTransfer.from_bytes(apdu)
    except DecodeError as exc:
        tr.gbt = None
        log.debug("GBT block does not decode: %s", exc)
        return ExceptionResponse(StateError.SERVICE_NOT_ALLOWED, ServiceError.OTHER_REASON).to_bytes()
    st = tr.gbt

    if st is not None and st.answer is not None and not g.block_data:
        if g.block_number_ack != st.tx_block or st.sent >= len(st.answer):
            log.debug("GBT ack %d does not match block %d sent: transfer aborted", g.block_number_ack, st.tx_block)
            tr.gbt = None
            return None
        st.rx_block = g.block_number
        answer = _block(st)
        log.debug("GBT block %d (%d of %d bytes)", st.tx_block, st.sent, len(st.answer))
        if st.sent >= len(st.answer):
            tr.gbt = None
        return answer

    if st is None or st.answer is not None:
        st = tr.gbt = GbtTransfer(rx_block=g.block_number - 1, rx_acked=g.block_number - 1)
    if g.block_number != st.rx_block + 1 or not checked_append(st.received, g.block_data):
        log.debug("GBT block %d out of sequence (expected %d): transfer aborted", g.block_number, st.rx_block + 1)
        tr.gbt = None
        return None
    st.rx_block = g.block_number
    if not g.last_block:
        if st.rx_block - st.rx_acked < max(1, g.window):
            return None
        st.rx_acked = st.rx_block
        return GeneralBlockTransfer(False, False, _WINDOW, st.tx_block, st.rx_block, b"").to_bytes()

    answer = inner(bytes(st.received))
    if answer is None:
        tr.gbt = None
        return None
    st.answer, st.chunk = answer, chunk_size(client_max, _HEADER)
    if len(answer) > st.chunk * _MAX_BLOCKS:
        tr.gbt = None
        log.debug("GBT answer of %d bytes needs more than %d blocks", len(answer), _MAX_BLOCKS)
        return ExceptionResponse(StateError.SERVICE_NOT_ALLOWED, ServiceError.OTHER_REASON).to_bytes()
    block = _block(st)
    log.debug("GBT answer of %d bytes, block %d", len(answer), st.tx_block)
    if st.sent >= len(answer):
        tr.gbt = None
    return block
