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

from typing import Callable

from ..apdu.common import (
    CosemAttributeDescriptor, DataAccessResult, EncodedData, GetDataResult, InvokeIdAndPriority, SelectiveAccess,
)
from ..apdu.get import (
    GET_RESPONSE_TAG, GetRequestNext, GetRequestNormal, GetRequestWithList, GetResponseNormal,
    GetResponseWithDatablock, GetResponseWithList,
)
from ..apdu.initiate import Conformance
from .access import locate, read
from .blocks import chunk_size
from .request import Outgoing, Request, Transfers, describe, outcome

__all__ = ["get_normal", "get_next", "get_with_list", "read_item"]

_BLOCK_HEADER = 9  # C4 02 invoke last-block block-number(4) choice, before the raw-data length


def read_item(req: Request, descriptor: CosemAttributeDescriptor,
              access: SelectiveAccess | None) -> bytes | DataAccessResult:
    """One attribute of a GET (normal or list item)."""
    obj = locate(req, descriptor.class_id, descriptor.instance_id)
    if isinstance(obj, DataAccessResult):
        return obj
    if access is not None and not req.allows(Conformance.SELECTIVE_ACCESS):
        return DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
    return read(req, obj, descriptor.attribute_id, access)


def _data_response(invoke: InvokeIdAndPriority, raw: bytes) -> bytes:
    """`GetResponseNormal(invoke, EncodedData(raw)).to_bytes()`, the answer to almost every
    GET, without building the two values: C4 01 invoke 00 Data."""
    return bytes((GET_RESPONSE_TAG, 1, invoke.to_byte(), 0)) + raw


def _as_result(r: bytes | DataAccessResult) -> GetDataResult:
    return r if isinstance(r, DataAccessResult) else EncodedData(r)


def _answer(req: Request, tr: Transfers, invoke: InvokeIdAndPriority, whole: bytes, body_at: int,
            refusal: Callable[[], bytes]) -> bytes:
    """`whole` if it fits, else its first block (body from `body_at` on), else `refusal()`."""
    if req.limit is None or len(whole) <= req.limit:
        return whole
    if not req.allows(Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ):
        req.trace("GET answer of %d bytes exceeds %d and block transfer is not negotiated", len(whole), req.limit)
        return refusal()
    tr.long_get = Outgoing(invoke, whole[body_at:], chunk_size(req.limit, _BLOCK_HEADER))
    return _next(req, tr.long_get)


def _next(req: Request, out: Outgoing) -> bytes:
    piece, last = out.next_block()
    req.trace("GET invoke %d block %d (%d of %d bytes)%s", out.invoke.invoke_id, out.block, out.sent,
              len(out.payload), " last" if last else "")
    return GetResponseWithDatablock(out.invoke, last, out.block, piece).to_bytes()


def get_normal(req: Request, tr: Transfers, apdu: GetRequestNormal) -> bytes:
    tr.long_get = None
    result = read_item(req, apdu.descriptor, apdu.access)
    if req.tracing:
        req.trace("GET invoke %d %s%s -> %s", apdu.invoke.invoke_id, describe(apdu.descriptor),
                  " selective" if apdu.access else "", outcome(result))
    if isinstance(result, DataAccessResult):
        return GetResponseNormal(apdu.invoke, result).to_bytes()
    whole = _data_response(apdu.invoke, result)
    return _answer(req, tr, apdu.invoke, whole, 4,
                   lambda: GetResponseNormal(apdu.invoke, DataAccessResult.OTHER_REASON).to_bytes())


def get_with_list(req: Request, tr: Transfers, apdu: GetRequestWithList) -> bytes:
    tr.long_get = None
    results = [read_item(req, item.descriptor, item.access) for item in apdu.items]
    if req.tracing:
        req.trace("GET-with-list invoke %d %s", apdu.invoke.invoke_id,
                  ", ".join(f"{describe(i.descriptor)} -> {outcome(r)}" for i, r in zip(apdu.items, results)))
    whole = GetResponseWithList(apdu.invoke, tuple(_as_result(r) for r in results)).to_bytes()
    return _answer(req, tr, apdu.invoke, whole, 3, lambda: GetResponseWithList(
        apdu.invoke, (DataAccessResult.OTHER_REASON,) * len(results)).to_bytes())


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
