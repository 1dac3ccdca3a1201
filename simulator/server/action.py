"""ACTION service (LN referencing): normal, with-list, and parameter blocks both ways.

Long parameters arrive as ACTION-Request-With-First-Pblock (or -With-List-And-First-Pblock)
followed by ACTION-Request-With-Pblock; each block but the last is acknowledged with
ACTION-Response-Next-Pblock, and the gathered raw data is the encoded parameter (or the SEQUENCE
OF Data of the list form). Long return parameters go out as ACTION-Response-With-Pblock when
block-transfer-with-action was negotiated; the client asks for block n+1 with
ACTION-Request-Next-Pblock(n). The raw data of those blocks is the encoded return Data of a
normal ACTION (the result is success: a failed method returns nothing long), and the SEQUENCE
OF Action-Response-With-Optional-Data of a with-list ACTION. That is what gurux-dlms clients
reassemble (dlms-cosem has no pblocks at all). Out-of-sequence blocks give long-action-aborted,
blocks with no transfer running no-long-action-in-progress. Return data too long for the client without block transfer: the
method ran, so the result is success and the return parameters data-access-result other-reason.
"""

from __future__ import annotations

from ..apdu.action import (
    ActionRequestNextPblock, ActionRequestNormal, ActionRequestWithFirstPblock,
    ActionRequestWithList, ActionRequestWithListAndFirstPblock, ActionRequestWithPblock,
    ActionResponseNextPblock, ActionResponseNormal, ActionResponseWithList,
    ActionResponseWithOptionalData, ActionResponseWithPblock,
)
from ..apdu.common import (
    ActionResult, CosemMethodDescriptor, DataAccessResult, DataBlockSA, EncodedData,
    InvokeIdAndPriority, Value,
)
from ..apdu.initiate import Conformance
from ..axdr import Data
from ..errors import DecodeError
from .access import data_to_action_result, invoke, locate
from .blocks import checked_append, chunk_size, decode_value, decode_values
from .request import Incoming, Outgoing, Request, Transfers, describe, outcome

__all__ = [
    "action_normal", "action_with_list", "action_first_pblock", "action_list_first_pblock",
    "action_with_pblock", "action_next_pblock", "invoke_one",
]

_PBLOCK_HEADER = 8  # C7 02 invoke last-block block-number(4), before the raw-data length
Methods = tuple[CosemMethodDescriptor, ...]


def invoke_one(req: Request, m: CosemMethodDescriptor, parameter: Value | None) -> tuple[ActionResult, bytes | None]:
    obj = locate(req, m.class_id, m.instance_id)
    if isinstance(obj, DataAccessResult):
        return data_to_action_result(obj), None
    if parameter is not None and not isinstance(parameter, Data):
        return ActionResult.OTHER_REASON, None
    return invoke(req, obj, m.method_id, parameter)


def _optional(result: ActionResult, ret: bytes | None) -> ActionResponseWithOptionalData:
    return ActionResponseWithOptionalData(result, None if ret is None else EncodedData(ret))


def _send(req: Request, tr: Transfers, inv: InvokeIdAndPriority, whole: bytes, payload: bytes,
          refusal: bytes) -> bytes:
    if req.limit is None or len(whole) <= req.limit:
        return whole
    if not req.allows(Conformance.BLOCK_TRANSFER_WITH_ACTION):
        req.trace("ACTION answer of %d bytes exceeds %d and block transfer is not negotiated", len(whole), req.limit)
        return refusal
    tr.action_out = Outgoing(inv, payload, chunk_size(req.limit, _PBLOCK_HEADER))
    return _next(req, tr.action_out)


def _next(req: Request, out: Outgoing) -> bytes:
    piece, last = out.next_block()
    req.trace("ACTION invoke %d pblock %d (%d of %d bytes)%s", out.invoke.invoke_id, out.block, out.sent,
              len(out.payload), " last" if last else "")
    return ActionResponseWithPblock(out.invoke, DataBlockSA(last, out.block, piece)).to_bytes()


def _respond_one(req: Request, tr: Transfers, inv: InvokeIdAndPriority, m: CosemMethodDescriptor,
                 result: ActionResult, ret: bytes | None) -> bytes:
    req.trace("ACTION invoke %d %s -> %s%s", inv.invoke_id, describe(m), outcome(result),
              f" returning {len(ret)} bytes" if ret is not None else "")
    whole = ActionResponseNormal(inv, result, None if ret is None else EncodedData(ret)).to_bytes()
    if ret is None:
        return whole
    refusal = ActionResponseNormal(inv, result, DataAccessResult.OTHER_REASON).to_bytes()
    return _send(req, tr, inv, whole, ret, refusal)


def _respond_list(req: Request, tr: Transfers, inv: InvokeIdAndPriority, methods: Methods,
                  outcomes: list[tuple[ActionResult, bytes | None]]) -> bytes:
    if req.tracing:
        req.trace("ACTION-with-list invoke %d %s", inv.invoke_id,
                  ", ".join(f"{describe(m)} -> {outcome(r)}" for m, (r, _) in zip(methods, outcomes)))
    whole = ActionResponseWithList(inv, tuple(_optional(r, ret) for r, ret in outcomes)).to_bytes()
    refusal = ActionResponseWithList(inv, tuple(
        ActionResponseWithOptionalData(r, None if ret is None else DataAccessResult.OTHER_REASON)
        for r, ret in outcomes)).to_bytes()
    return _send(req, tr, inv, whole, whole[3:], refusal)


def _invoke_list(req: Request, methods: Methods, params: tuple[Value, ...]) -> list[tuple[ActionResult, bytes | None]]:
    if len(methods) != len(params):
        return [(ActionResult.OTHER_REASON, None)] * len(methods)
    return [invoke_one(req, m, p) for m, p in zip(methods, params)]


def action_normal(req: Request, tr: Transfers, apdu: ActionRequestNormal) -> bytes:
    tr.action_in = tr.action_out = None
    result, ret = invoke_one(req, apdu.method, apdu.parameters)
    return _respond_one(req, tr, apdu.invoke, apdu.method, result, ret)


def action_with_list(req: Request, tr: Transfers, apdu: ActionRequestWithList) -> bytes:
    tr.action_in = tr.action_out = None
    return _respond_list(req, tr, apdu.invoke, apdu.methods, _invoke_list(req, apdu.methods, apdu.parameters))


def action_first_pblock(req: Request, tr: Transfers, apdu: ActionRequestWithFirstPblock) -> bytes:
    tr.action_out = None
    tr.action_in = Incoming((apdu.method,))
    return _pblock(req, tr, tr.action_in, apdu.invoke, apdu.pblock)


def action_list_first_pblock(req: Request, tr: Transfers, apdu: ActionRequestWithListAndFirstPblock) -> bytes:
    tr.action_out = None
    tr.action_in = Incoming(apdu.methods, listed=True)
    return _pblock(req, tr, tr.action_in, apdu.invoke, apdu.pblock)


def action_with_pblock(req: Request, tr: Transfers, apdu: ActionRequestWithPblock) -> bytes:
    if tr.action_in is None:
        req.trace("ACTION pblock %d with no long ACTION", apdu.pblock.block_number)
        return ActionResponseNormal(apdu.invoke, ActionResult.NO_LONG_ACTION_IN_PROGRESS).to_bytes()
    return _pblock(req, tr, tr.action_in, apdu.invoke, apdu.pblock)


def _abort(tr: Transfers, incoming: Incoming, inv: InvokeIdAndPriority) -> bytes:
    tr.action_in = None
    if incoming.listed:
        return ActionResponseWithList(inv, tuple(
            ActionResponseWithOptionalData(ActionResult.LONG_ACTION_ABORTED) for _ in incoming.target)).to_bytes()
    return ActionResponseNormal(inv, ActionResult.LONG_ACTION_ABORTED).to_bytes()


def _pblock(req: Request, tr: Transfers, incoming: Incoming, inv: InvokeIdAndPriority, block: DataBlockSA) -> bytes:
    n = block.block_number
    if n != incoming.block + 1 or not checked_append(incoming.payload, block.raw_data):
        req.trace("ACTION pblock %d, expected %d -> long-action-aborted", n, incoming.block + 1)
        return _abort(tr, incoming, inv)
    incoming.block = n
    if not block.last_block:
        req.trace("ACTION pblock %d (%d bytes so far)", n, len(incoming.payload))
        return ActionResponseNextPblock(inv, n).to_bytes()
    tr.action_in = None
    methods: Methods = incoming.target
    try:
        params: tuple[Data, ...] = (decode_values(incoming.payload) if incoming.listed
                                    else (decode_value(incoming.payload),))
    except DecodeError as exc:
        req.trace("ACTION pblocks do not decode: %s", exc)
        outcomes: list[tuple[ActionResult, bytes | None]] = [(ActionResult.OTHER_REASON, None)] * len(methods)
    else:
        outcomes = _invoke_list(req, methods, params)
    if incoming.listed:
        return _respond_list(req, tr, inv, methods, outcomes)
    return _respond_one(req, tr, inv, methods[0], *outcomes[0])


def action_next_pblock(req: Request, tr: Transfers, apdu: ActionRequestNextPblock) -> bytes:
    out = tr.action_out
    if out is None or apdu.block_number != out.block or apdu.invoke.invoke_id != out.invoke.invoke_id:
        error = ActionResult.NO_LONG_ACTION_IN_PROGRESS if out is None else ActionResult.LONG_ACTION_ABORTED
        tr.action_out = None
        req.trace("ACTION next pblock %d -> %s", apdu.block_number, outcome(error))
        return ActionResponseNormal(apdu.invoke, error).to_bytes()
    answer = _next(req, out)
    if out.sent >= len(out.payload):
        tr.action_out = None
    return answer
