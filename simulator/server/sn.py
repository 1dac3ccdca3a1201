"""Short-name referencing: Read, Write and UnconfirmedWrite mapped onto the objects.

Blue Book 4.1.3 / Green Book SN services: an object's base name (ObjectSpec.short_name) is the
short name of attribute 1; attribute i is at base + 8 * (i - 1); method m is at
base + cls.sn_method_offset + 8 * (m - 1). A method is invoked by a Read with
parameterized-access (the parameters are the method's, the answer its return data) or by a
Write of the parameters (no return data); a Read of a method's plain variable-name invokes it
without parameters. Parameterized access to an attribute is selective access. Base name 0xFA00
is the current Association SN, as 0.0.40.0.0.255 is the current Association LN.

Long answers: a ReadResponse too long for the client goes out as one data-block-result per
APDU when block-transfer-with-get-or-read was negotiated, and the client asks for block n+1
with a ReadRequest of block-number-access n. As with GET (normal: the Data; with-list: the
SEQUENCE OF Get-Data-Result), the raw data of the blocks is the encoded Data when one variable
was read (what gurux-dlms clients reassemble), and the encoded SEQUENCE OF Read-Response CHOICEs
(count included) when several were. Long requests: a ReadRequest of
read-data-block-access, or a WriteRequest of write-data-block-access with one octet-string
value per block, carries a slice of the encoded request body; each block but the last is
acknowledged with block-number n and the gathered request is then served whole.
"""

from __future__ import annotations

from ..apdu.common import (
    ActionResult, DataAccessResult, EncodedData, InvokeIdAndPriority, SelectiveAccess, Value,
)
from ..apdu.initiate import Conformance
from ..apdu.sn import (
    BlockNumber, BlockNumberAccess, DataBlockResult, ParameterizedAccess, ReadDataBlockAccess,
    ReadRequest, ReadResponse, ReadResult, UnconfirmedWriteRequest, VariableAccessSpecification,
    VariableName, WriteDataBlockAccess, WriteRequest, WriteResponse, WriteResult,
)
from ..axdr import Data, DataType
from ..errors import DecodeError
from ..model.spec import ObjectSpec
from .access import (
    CURRENT_ASSOCIATION_SN, action_to_data_result, current_association, invoke, is_hls_reply, read, write,
)
from .blocks import checked_append, chunk_size
from .request import Incoming, Outgoing, Request, Transfers, outcome

__all__ = ["resolve", "sn_read", "sn_write", "sn_unconfirmed_write", "is_hls_reply_sn"]

_SPAN = 64  # base names searched below a short name: 512 bytes covers every method offset
_BLOCK_HEADER = 6  # 0C count(1) choice(1) last-block(1) block-number(2), before the raw length
_NULL = Data(DataType.NULL_DATA)
_NO_INVOKE = InvokeIdAndPriority(0)  # SN services carry no invoke id
_MAX_BLOCKS = 0xFFFF  # SN block numbers are Unsigned16


def resolve(req: Request, name: int) -> tuple[ObjectSpec, bool, int] | DataAccessResult:
    """(object, is_method, attribute or method index) for a short name this association sees."""
    objects = req.device.objects
    for k in range(_SPAN):
        base = name - 8 * k
        if base < 0:
            break
        obj = current_association(req) if base == CURRENT_ASSOCIATION_SN else None
        if obj is None:
            index = req.device.by_short_name.get(base)
            if index is None:
                continue
            obj = objects[index]
        if not req.association.visible(obj.index):
            return DataAccessResult.OBJECT_UNDEFINED
        offset = obj.cls.sn_method_offset
        delta = name - base
        if offset is not None and delta >= offset:
            return (obj, True, (delta - offset) // 8 + 1) if (delta - offset) % 8 == 0 else DataAccessResult.OBJECT_UNDEFINED
        return obj, False, k + 1
    return DataAccessResult.OBJECT_UNDEFINED


def is_hls_reply_sn(req: Request, apdu: ReadRequest | WriteRequest | UnconfirmedWriteRequest) -> bool:
    """Does every variable of the request invoke reply_to_HLS_authentication on the current
    association (the only thing allowed while HLS is pending)?"""
    if not apdu.specs:
        return False
    for spec in apdu.specs:
        if not isinstance(spec, (VariableName, ParameterizedAccess)):
            return False
        found = resolve(req, spec.name)
        if isinstance(found, DataAccessResult) or not found[1] or not is_hls_reply(req, found[0], found[2]):
            return False
    return True


def _read_one(req: Request, spec: VariableAccessSpecification) -> ReadResult:
    if not isinstance(spec, (VariableName, ParameterizedAccess)):
        return DataAccessResult.OTHER_REASON  # block accesses only come alone
    found = resolve(req, spec.name)
    if isinstance(found, DataAccessResult):
        return found
    obj, is_method, index = found
    parameters = spec.parameters if isinstance(spec, ParameterizedAccess) else None
    if parameters is not None and not req.allows(Conformance.PARAMETERIZED_ACCESS):
        return DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
    if is_method:
        if parameters is not None and not isinstance(parameters, Data):
            return DataAccessResult.OTHER_REASON
        result, ret = invoke(req, obj, index, parameters)
        if result != ActionResult.SUCCESS:
            return action_to_data_result(result)
        return _NULL if ret is None else EncodedData(ret)
    access = SelectiveAccess(spec.selector, spec.parameters) if isinstance(spec, ParameterizedAccess) else None
    got = read(req, obj, index, access)
    return got if isinstance(got, DataAccessResult) else EncodedData(got)


def _trace(req: Request, name: str, specs: tuple[VariableAccessSpecification, ...], results: tuple[object, ...]) -> None:
    """One line: each variable's short name, the class/OBIS/member it names, and its result."""
    if not req.tracing:
        return

    def label(spec: VariableAccessSpecification) -> str:
        if not isinstance(spec, (VariableName, ParameterizedAccess)):
            return type(spec).__name__
        found = resolve(req, spec.name)
        target = "" if isinstance(found, DataAccessResult) else \
            f" {found[0].cls.class_id}/{found[0].logical_name}/{'method ' if found[1] else ''}{found[2]}"
        return f"0x{spec.name:04X}{target}" + (" parameterized" if isinstance(spec, ParameterizedAccess) else "")
    req.trace("%s %s", name, ", ".join(f"{label(s)} -> {outcome(r)}" for s, r in zip(specs, results)))


def sn_read(req: Request, tr: Transfers, apdu: ReadRequest) -> bytes:
    specs = apdu.specs
    if len(specs) == 1 and isinstance(specs[0], BlockNumberAccess):
        return _next_read_block(req, tr, specs[0].block_number)
    if len(specs) == 1 and isinstance(specs[0], ReadDataBlockAccess):
        block = specs[0]
        return _request_block(req, tr, block.last_block, block.block_number, block.raw_data, read=True)
    tr.read_out = tr.sn_in = None
    results = tuple(_read_one(req, s) for s in specs)
    _trace(req, "READ", specs, results)
    whole = ReadResponse(results).to_bytes()
    if req.limit is None or len(whole) <= req.limit:
        return whole
    chunk = chunk_size(req.limit, _BLOCK_HEADER)
    if not req.allows(Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ) or len(whole) > chunk * _MAX_BLOCKS:
        return ReadResponse((DataAccessResult.OTHER_REASON,) * len(results)).to_bytes()
    single = len(results) == 1 and not isinstance(results[0], DataAccessResult)
    tr.read_out = Outgoing(_NO_INVOKE, whole[3:] if single else whole[1:], chunk)
    return _read_block(req, tr.read_out)


def _read_block(req: Request, out: Outgoing) -> bytes:
    piece, last = out.next_block()
    req.trace("READ block %d (%d of %d bytes)%s", out.block, out.sent, len(out.payload), " last" if last else "")
    return ReadResponse((DataBlockResult(last, out.block, piece),)).to_bytes()


def _next_read_block(req: Request, tr: Transfers, number: int) -> bytes:
    out = tr.read_out
    if out is None or number != out.block:
        tr.read_out = None
        error = DataAccessResult.NO_LONG_GET_IN_PROGRESS if out is None else DataAccessResult.DATA_BLOCK_NUMBER_INVALID
        req.trace("READ next block %d -> %s", number, outcome(error))
        return ReadResponse((error,)).to_bytes()
    answer = _read_block(req, out)
    if out.sent >= len(out.payload):
        tr.read_out = None
    return answer


def _request_block(req: Request, tr: Transfers, last: bool, number: int, raw: bytes, read: bool) -> bytes:
    """One block of a long Read/Write request; the whole request is served after the last."""
    incoming = tr.sn_in
    if number == 1:
        incoming = tr.sn_in = Incoming(read)
    ack: type[ReadResponse] | type[WriteResponse] = ReadResponse if read else WriteResponse
    if incoming is None or incoming.target != read or number != incoming.block + 1 \
            or not checked_append(incoming.payload, raw):
        tr.sn_in = None
        req.trace("%s request block %d out of sequence", "READ" if read else "WRITE", number)
        return ack((DataAccessResult.DATA_BLOCK_NUMBER_INVALID,)).to_bytes()
    incoming.block = number
    if not last:
        return ack((BlockNumber(number),)).to_bytes()
    tr.sn_in = None
    body = bytes(incoming.payload)
    try:
        whole = ReadRequest.from_bytes(bytes((ReadRequest.TAG,)) + body) if read \
            else WriteRequest.from_bytes(bytes((WriteRequest.TAG,)) + body)
    except DecodeError as exc:
        req.trace("reassembled SN request does not decode: %s", exc)
        return ack((DataAccessResult.OTHER_REASON,)).to_bytes()
    return sn_read(req, tr, whole) if isinstance(whole, ReadRequest) else sn_write(req, tr, whole)


def _write_one(req: Request, spec: VariableAccessSpecification, value: Value) -> WriteResult:
    if not isinstance(spec, (VariableName, ParameterizedAccess)) or not isinstance(value, Data):
        return DataAccessResult.OTHER_REASON
    found = resolve(req, spec.name)
    if isinstance(found, DataAccessResult):
        return found
    obj, is_method, index = found
    if is_method:
        if isinstance(spec, ParameterizedAccess):
            return DataAccessResult.OTHER_REASON
        return action_to_data_result(invoke(req, obj, index, value)[0])
    return write(req, obj, index, value, selective=isinstance(spec, ParameterizedAccess))


def _write_all(req: Request, apdu: WriteRequest | UnconfirmedWriteRequest) -> tuple[WriteResult, ...]:
    if len(apdu.specs) != len(apdu.values):
        return (DataAccessResult.OTHER_REASON,) * len(apdu.specs)
    return tuple(_write_one(req, s, v) for s, v in zip(apdu.specs, apdu.values))


def sn_write(req: Request, tr: Transfers, apdu: WriteRequest) -> bytes:
    specs = apdu.specs
    if len(specs) == 1 and isinstance(specs[0], WriteDataBlockAccess):
        value = apdu.values[0] if len(apdu.values) == 1 else None
        if not isinstance(value, Data) or value.type != DataType.OCTET_STRING:
            tr.sn_in = None
            return WriteResponse((DataAccessResult.DATA_BLOCK_UNAVAILABLE,)).to_bytes()
        return _request_block(req, tr, specs[0].last_block, specs[0].block_number, value.value, read=False)
    tr.sn_in = None
    results = _write_all(req, apdu)
    _trace(req, "WRITE", specs, results)
    return WriteResponse(results).to_bytes()


def sn_unconfirmed_write(req: Request, tr: Transfers, apdu: UnconfirmedWriteRequest) -> None:
    _trace(req, "UNCONFIRMED-WRITE", apdu.specs, _write_all(req, apdu))
    return None
