"""GET service (LN referencing): normal, with-list, and the server side of GET block transfer.

A response longer than the request's `limit` goes out as GET-Response-With-Datablock when the
association negotiated block-transfer-with-get: the raw data of the blocks is the encoded
answer without its response header, that is the Data of a normal GET, or the SEQUENCE OF
Get-Data-Result of a with-list GET. The client asks for block n+1 with GET-Request-Next(n);
a wrong block number aborts the transfer with data-block-number-invalid, a Next from another
invoke id with long-get-aborted, and a Next with no transfer running gets
no-long-get-in-progress (each in a last block, as the Green Book answers errors in a long GET).
Without block-transfer-with-get an answer too long for the client is refused with other-reason.
"""

from __future__ import annotations

from ..apdu.common import (
    CosemAttributeDescriptorWithSelection, DataAccessResult, EncodedData, GetDataResult,
    InvokeIdAndPriority,
)
from ..apdu.get import (
    GetRequestNext, GetRequestNormal, GetRequestWithList, GetResponseNormal,
    GetResponseWithDatablock, GetResponseWithList,
)
from ..apdu.initiate import Conformance
from .access import locate, read
from .blocks import chunk_size
from .request import Outgoing, Request, Transfers, describe, outcome

__all__ = ["get_normal", "get_next", "get_with_list", "read_item"]

_BLOCK_HEADER = 9  # C4 02 invoke last-block block-number(4) choice, before the raw-data length


def read_item(req: Request, item: CosemAttributeDescriptorWithSelection) -> bytes | DataAccessResult:
    """One attribute of a GET (normal or list item)."""
    d = item.descriptor
    obj = locate(req, d.class_id, d.instance_id)
    if isinstance(obj, DataAccessResult):
        return obj
    if item.access is not None and not req.allows(Conformance.SELECTIVE_ACCESS):
        return DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
    return read(req, obj, d.attribute_id, item.access)


def _as_result(r: bytes | DataAccessResult) -> GetDataResult:
    return r if isinstance(r, DataAccessResult) else EncodedData(r)


def _answer(req: Request, tr: Transfers, invoke: InvokeIdAndPriority, whole: bytes, body_at: int,
            refusal: bytes) -> bytes:
    """`whole` if it fits, else its first block (body from `body_at` on), else `refusal`."""
    if req.limit is None or len(whole) <= req.limit:
        return whole
    if not req.allows(Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ):
        req.trace("GET answer of %d bytes exceeds %d and block transfer is not negotiated", len(whole), req.limit)
        return refusal
    tr.long_get = Outgoing(invoke, whole[body_at:], chunk_size(req.limit, _BLOCK_HEADER))
    return _next(req, tr.long_get)


def _next(req: Request, out: Outgoing) -> bytes:
    piece, last = out.next_block()
    req.trace("GET invoke %d block %d (%d of %d bytes)%s", out.invoke.invoke_id, out.block, out.sent,
              len(out.payload), " last" if last else "")
    return GetResponseWithDatablock(out.invoke, last, out.block, piece).to_bytes()


def get_normal(req: Request, tr: Transfers, apdu: GetRequestNormal) -> bytes:
    tr.long_get = None
    result = read_item(req, CosemAttributeDescriptorWithSelection(apdu.descriptor, apdu.access))
    req.trace("GET invoke %d %s%s -> %s", apdu.invoke.invoke_id, describe(apdu.descriptor),
              " selective" if apdu.access else "", outcome(result))
    if isinstance(result, DataAccessResult):
        return GetResponseNormal(apdu.invoke, result).to_bytes()
    whole = GetResponseNormal(apdu.invoke, EncodedData(result)).to_bytes()
    return _answer(req, tr, apdu.invoke, whole, 4,
                   GetResponseNormal(apdu.invoke, DataAccessResult.OTHER_REASON).to_bytes())


def get_with_list(req: Request, tr: Transfers, apdu: GetRequestWithList) -> bytes:
    tr.long_get = None
    results = [read_item(req, item) for item in apdu.items]
    if req.tracing:
        req.trace("GET-with-list invoke %d %s", apdu.invoke.invoke_id,
                  ", ".join(f"{describe(i.descriptor)} -> {outcome(r)}" for i, r in zip(apdu.items, results)))
    whole = GetResponseWithList(apdu.invoke, tuple(_as_result(r) for r in results)).to_bytes()
    refusal = GetResponseWithList(apdu.invoke, (DataAccessResult.OTHER_REASON,) * len(results)).to_bytes()
    return _answer(req, tr, apdu.invoke, whole, 3, refusal)


def get_next(req: Request, tr: Transfers, apdu: GetRequestNext) -> bytes:
    out = tr.long_get
    if out is None:
        error = DataAccessResult.NO_LONG_GET_IN_PROGRESS
    elif apdu.invoke.invoke_id != out.invoke.invoke_id:
        error = DataAccessResult.LONG_GET_ABORTED
    elif apdu.block_number != out.block:
        error = DataAccessResult.DATA_BLOCK_NUMBER_INVALID
    else:
        answer = _next(req, out)
        if out.sent >= len(out.payload):
            tr.long_get = None
        return answer
    tr.long_get = None
    req.trace("GET next invoke %d block %d -> %s", apdu.invoke.invoke_id, apdu.block_number, outcome(error))
    return GetResponseWithDatablock(apdu.invoke, True, apdu.block_number, error).to_bytes()
