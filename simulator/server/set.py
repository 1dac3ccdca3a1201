"""SET service (LN referencing): normal, with-list, and the server side of SET block transfer.

A long SET arrives as SET-Request-With-First-Datablock (or -With-List-And-First-Datablock)
followed by SET-Request-With-Datablock; the raw data of the blocks, once gathered, is the
encoded value (or the SEQUENCE OF Data of the list form). Every block but the last is
acknowledged with SET-Response-Datablock; after the last the value is written and the result
sent in SET-Response-Last-Datablock(-With-List). A block out of sequence aborts the transfer with
data-block-number-invalid, a datablock with no transfer running gets no-long-set-in-progress,
and a transfer that grows past MAX_REASSEMBLY is aborted with long-set-aborted.
"""

from __future__ import annotations

from ..apdu.common import (
    CosemAttributeDescriptor, CosemAttributeDescriptorWithSelection, DataAccessResult, DataBlockSA,
    InvokeIdAndPriority, SelectiveAccess, Value,
)
from ..apdu.set import (
    SetRequestNormal, SetRequestWithDatablock, SetRequestWithFirstDatablock, SetRequestWithList,
    SetRequestWithListAndFirstDatablock, SetResponseDatablock, SetResponseLastDatablock,
    SetResponseLastDatablockWithList, SetResponseNormal, SetResponseWithList,
)
from ..axdr import Data
from ..errors import DecodeError
from .access import locate, write
from .blocks import checked_append, decode_value, decode_values
from .request import Incoming, Request, Transfers, describe, outcome

__all__ = ["set_normal", "set_with_list", "set_first_datablock", "set_list_first_datablock", "set_datablock"]

Items = tuple[CosemAttributeDescriptorWithSelection, ...]


def _write_one(req: Request, d: CosemAttributeDescriptor, access: SelectiveAccess | None,
               value: Value) -> DataAccessResult:
    obj = locate(req, d.class_id, d.instance_id)
    if isinstance(obj, DataAccessResult):
        return obj
    if not isinstance(value, Data):
        return DataAccessResult.OTHER_REASON
    return write(req, obj, d.attribute_id, value, selective=access is not None)


def _write_list(req: Request, items: Items, values: tuple[Value, ...]) -> tuple[DataAccessResult, ...]:
    """One result per item; a value list whose length differs from the item list is refused
    item by item with other-reason (nothing is written: the pairing is unknowable)."""
    if len(items) != len(values):
        return (DataAccessResult.OTHER_REASON,) * len(items)
    return tuple(_write_one(req, i.descriptor, i.access, v) for i, v in zip(items, values))


def _trace_list(req: Request, name: str, invoke: InvokeIdAndPriority, items: Items,
                results: tuple[DataAccessResult, ...]) -> None:
    if req.tracing:
        req.trace("%s invoke %d %s", name, invoke.invoke_id,
                  ", ".join(f"{describe(i.descriptor)} -> {outcome(r)}" for i, r in zip(items, results)))


def set_normal(req: Request, tr: Transfers, apdu: SetRequestNormal) -> bytes:
    tr.long_set = None
    result = _write_one(req, apdu.descriptor, apdu.access, apdu.value)
    req.trace("SET invoke %d %s -> %s", apdu.invoke.invoke_id, describe(apdu.descriptor), outcome(result))
    return SetResponseNormal(apdu.invoke, result).to_bytes()


def set_with_list(req: Request, tr: Transfers, apdu: SetRequestWithList) -> bytes:
    tr.long_set = None
    results = _write_list(req, apdu.items, apdu.values)
    _trace_list(req, "SET-with-list", apdu.invoke, apdu.items, results)
    return SetResponseWithList(apdu.invoke, results).to_bytes()


def set_first_datablock(req: Request, tr: Transfers, apdu: SetRequestWithFirstDatablock) -> bytes:
    tr.long_set = Incoming((CosemAttributeDescriptorWithSelection(apdu.descriptor, apdu.access),))
    return _block(req, tr, tr.long_set, apdu.invoke, apdu.datablock)


def set_list_first_datablock(req: Request, tr: Transfers, apdu: SetRequestWithListAndFirstDatablock) -> bytes:
    tr.long_set = Incoming(apdu.items, listed=True)
    return _block(req, tr, tr.long_set, apdu.invoke, apdu.datablock)


def set_datablock(req: Request, tr: Transfers, apdu: SetRequestWithDatablock) -> bytes:
    if tr.long_set is None:
        req.trace("SET datablock %d with no long SET", apdu.datablock.block_number)
        return SetResponseLastDatablock(apdu.invoke, DataAccessResult.NO_LONG_SET_IN_PROGRESS,
                                        apdu.datablock.block_number).to_bytes()
    return _block(req, tr, tr.long_set, apdu.invoke, apdu.datablock)


def _abort(tr: Transfers, incoming: Incoming, invoke: InvokeIdAndPriority, block: int,
           error: DataAccessResult) -> bytes:
    tr.long_set = None
    if incoming.listed:
        return SetResponseLastDatablockWithList(invoke, (error,) * len(incoming.target), block).to_bytes()
    return SetResponseLastDatablock(invoke, error, block).to_bytes()


def _block(req: Request, tr: Transfers, incoming: Incoming, invoke: InvokeIdAndPriority, block: DataBlockSA) -> bytes:
    n = block.block_number
    if n != incoming.block + 1:
        req.trace("SET datablock %d, expected %d -> data-block-number-invalid", n, incoming.block + 1)
        return _abort(tr, incoming, invoke, n, DataAccessResult.DATA_BLOCK_NUMBER_INVALID)
    if not checked_append(incoming.payload, block.raw_data):
        req.trace("SET datablock %d: long SET too large -> long-set-aborted", n)
        return _abort(tr, incoming, invoke, n, DataAccessResult.LONG_SET_ABORTED)
    incoming.block = n
    if not block.last_block:
        req.trace("SET datablock %d (%d bytes so far)", n, len(incoming.payload))
        return SetResponseDatablock(invoke, n).to_bytes()
    tr.long_set = None
    items: Items = incoming.target
    try:
        values: tuple[Data, ...] = (decode_values(incoming.payload) if incoming.listed
                                    else (decode_value(incoming.payload),))
    except DecodeError as exc:
        req.trace("SET datablocks do not decode: %s", exc)
        results = (DataAccessResult.OTHER_REASON,) * len(items)
    else:
        results = _write_list(req, items, values)
    _trace_list(req, f"SET last datablock {n}", invoke, items, results)
    if incoming.listed:
        return SetResponseLastDatablockWithList(invoke, results, n).to_bytes()
    return SetResponseLastDatablock(invoke, results[0], n).to_bytes()
