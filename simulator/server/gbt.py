"""General block transfer (Green Book 9.4.6.13, GBT APDU 0xE0), server side.

When GBT carries an answer (the rule, chosen so that every client we know of gets what it reads):

- a request that came in GBT blocks is answered in GBT blocks, whatever its length: once one
  party uses GBT the other follows until the exchange ends (Green Book);
- a request that came as a plain or ciphered service APDU whose answer does not fit the client's
  max receive PDU size goes out with the service's own block transfer (GET/Read or ACTION
  datablocks) when that was negotiated, else in GBT when GBT was negotiated, else it is refused
  as before. dlms-cosem proposes GBT and block-transfer-with-get and reads only GET datablocks;
  gurux-dlms and the clients of issue 8 propose GBT without block-transfer-with-get and read GBT.

Numbering: the meter numbers the blocks of its answer from 1; an acknowledgement carrying no
data repeats the number of the last block sent (0 before the first), so it never opens a gap a
client would wait for (gurux-dlms 1.0.203 then ignores it, as it must for its long SETs to
work). Client block numbers are taken as they come: any start, and acknowledgements numbered or
not. block-number-ack is the highest block received with none missing before it. The answer is
protected whole (as the request was) and cut into blocks that fill the client's max receive PDU
size; block numbers run out at 65535, so a longer answer is refused.

Streaming, both ways. The window field of a GBT APDU is how many blocks its sender takes before
it must acknowledge; the streaming bit says more blocks of the window follow without an
acknowledgement. The meter sends up to the client's window of blocks per acknowledgement (one
block after a plain request, until the client's acknowledgement tells its window), the last
block of each window without the streaming bit. From the acknowledgement's block-number-ack it
resends whatever the client is missing (lost-block recovery) or goes on with the next window.
Request blocks are gathered in sequence; a block without the streaming bit (the client waits)
is acknowledged; a block out of sequence is dropped, and the next acknowledgement names the
last block received in sequence, so the client resends from there. An acknowledgement naming a
block never sent aborts the transfer (no answer).

A sans-IO answer is one APDU, so the further blocks of a window wait in `GbtTransfer.outbox`
until the channel hands them to the transport (`Channel.streamed`).
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

__all__ = ["GbtTransfer", "serve_gbt", "start_gbt", "RECEIVE_WINDOW"]

_HEADER = 6  # E0 block-control block-number(2) block-number-ack(2), before the data length
RECEIVE_WINDOW = 16  # request blocks a client may stream before the meter acknowledges
_MAX_NUMBER = 0xFFFF  # GBT block numbers are Unsigned16


@dataclass(slots=True)
class GbtTransfer:
    """One general block transfer: the request gathered, then the answer being sent."""

    received: bytearray = field(default_factory=bytearray)
    rx_last: int = 0  # the client's last block received in sequence: our block-number-ack
    tx_next: int = 1  # the number our next answer block takes
    answer: bytes | None = None
    chunk: int = 1
    first: int = 1  # block number of the answer's first block
    count: int = 0  # blocks the answer takes
    high: int = 0  # highest answer block number sent so far
    outbox: list[bytes] = field(default_factory=list)

    def _block(self, number: int, window_end: int) -> bytes:
        assert self.answer is not None
        index = number - self.first
        piece = self.answer[index * self.chunk:(index + 1) * self.chunk]
        last = index == self.count - 1
        self.high = max(self.high, number)
        return GeneralBlockTransfer(last, not last and number < window_end, RECEIVE_WINDOW, number,
                                    self.rx_last, piece).to_bytes()

    def window(self, after: int, size: int) -> bytes:
        """Send the blocks after block `after`, at most `size`: the first returned, the rest queued."""
        start = max(after, self.first - 1) + 1
        end = min(start + max(1, size) - 1, self.first + self.count - 1)
        blocks = [self._block(n, end) for n in range(start, end + 1)]
        self.outbox = blocks[1:]
        return blocks[0]

    def ack(self) -> bytes:
        """An acknowledgement (no data) of the request blocks received in sequence."""
        return GeneralBlockTransfer(False, False, RECEIVE_WINDOW, self.tx_next - 1, self.rx_last, b"").to_bytes()

    def take(self) -> list[bytes]:
        out, self.outbox = self.outbox, []
        return out


def _refusal() -> bytes:
    return ExceptionResponse(StateError.SERVICE_NOT_ALLOWED, ServiceError.OTHER_REASON).to_bytes()


def start_gbt(tr: Transfers, answer: bytes, client_max: int, window: int, log: Logger,
              st: GbtTransfer | None = None) -> bytes:
    """Send a protected answer in GBT blocks: the first block (the rest of the window queued)."""
    st = st if st is not None else GbtTransfer()
    chunk = chunk_size(client_max, _HEADER)
    count = max(1, -(-len(answer) // chunk))
    if st.tx_next + count - 1 > _MAX_NUMBER:
        tr.gbt = None
        log.debug("GBT answer of %d bytes needs more than %d blocks", len(answer), _MAX_NUMBER)
        return _refusal()
    st.answer, st.chunk, st.first, st.count = answer, chunk, st.tx_next, count
    st.tx_next += count
    tr.gbt = st
    log.debug("GBT answer of %d bytes in %d blocks, window %d", len(answer), count, window)
    return st.window(st.first - 1, window)


def serve_gbt(tr: Transfers, apdu: bytes, client_max: int, inner: Callable[[bytes], bytes | None],
              log: Logger) -> bytes | None:
    """Handle one GBT APDU; `inner` serves the reassembled APDU and returns its protected answer."""
    try:
        g = GeneralBlockTransfer.from_bytes(apdu)
    except DecodeError as exc:
        tr.gbt = None
        log.debug("GBT block does not decode: %s", exc)
        return _refusal()
    st = tr.gbt
    if st is not None and st.answer is not None and not g.block_data:
        return _acknowledged(tr, st, g, log)
    if st is None and not g.block_data and not g.last_block:
        log.debug("GBT acknowledgement of block %d with no transfer in progress: ignored", g.block_number_ack)
        return None
    if st is None or st.answer is not None:  # a new request
        st = tr.gbt = GbtTransfer(rx_last=g.block_number - 1)
    if g.block_number != st.rx_last + 1:
        log.debug("GBT block %d out of sequence (expected %d): dropped", g.block_number, st.rx_last + 1)
        return None if g.streaming and not g.last_block else st.ack()
    if not checked_append(st.received, g.block_data):
        tr.gbt = None
        log.debug("GBT request longer than the meter gathers: transfer aborted")
        return _refusal()
    st.rx_last = g.block_number
    if not g.last_block:
        return None if g.streaming else st.ack()
    answer = inner(bytes(st.received))
    st.received = bytearray()
    if answer is None:
        tr.gbt = None
        return None
    return start_gbt(tr, answer, client_max, g.window, log, st)


def _acknowledged(tr: Transfers, st: GbtTransfer, g: GeneralBlockTransfer, log: Logger) -> bytes | None:
    """The client's acknowledgement of answer blocks: resend what it lacks, or the next window."""
    acked = g.block_number_ack
    last = st.first + st.count - 1
    if acked > st.high:
        log.debug("GBT ack %d names a block never sent (last sent %d): transfer aborted", acked, st.high)
        tr.gbt = None
        return None
    st.rx_last = g.block_number
    if acked >= last:
        tr.gbt = None  # everything arrived; the client had nothing to acknowledge
        return None
    if acked < st.high:
        log.debug("GBT client has blocks up to %d of %d sent: resending from %d", acked, st.high, acked + 1)
    return st.window(acked, g.window)
