"""Attribute and method access for one association: locate, check rights and types, run the
behaviour, and turn every outcome into the result code the standard defines.

Order of the checks, the same for LN and SN referencing:

1. the object: unknown, or not in this association's object list -> object-undefined (a client
   must not learn what another association sees); wrong class id -> object-class-inconsistent;
2. the member: an attribute or method the class does not have -> object-undefined;
3. the association's right: not readable / writable / invocable -> read-write-denied. The
   authenticated_* modes (Blue Book 4.4.3; in Association LN version 3 the "authenticated
   request" bit) additionally need an authenticated association and a request that came with
   cryptographic authentication (security control A bit): an LLS or unciphered request does not
   carry one;
4. the request's form: selective access on an attribute without a selective reader, or with a
   selector it does not list -> other-reason (the Blue Book names no more specific result, and
   the profile generic refuses bad selectors alike); a method parameter of the wrong type ->
   type-unmatched; a SET value of the wrong type -> type-unmatched and one of the right type
   the standard does not allow -> other-reason (cosem/write_check.py, checked by every write);
5. the behaviour: AccessFailure / ActionFailure carry their result; any other exception is a bug
   of a behaviour: it becomes other-reason and one log line, and the meter keeps serving.

A read returns the value already encoded (A-XDR bytes): static values the meter never changed
come straight from the model's pre-encoded bytes.
"""

from __future__ import annotations

from ..apdu.common import ActionResult, DataAccessResult, SelectiveAccess
from ..axdr import Data, Obis, encode_data
from ..cosem.base import AccessFailure, ActionFailure, AttributeAccess, MethodAccess
from ..model.spec import ObjectSpec
from .request import Request

__all__ = [
    "CURRENT_ASSOCIATION_LN", "CURRENT_ASSOCIATION_SN", "HLS_REPLY", "locate", "current_association",
    "is_hls_reply", "read", "write", "invoke", "action_to_data_result", "data_to_action_result",
]

CURRENT_ASSOCIATION_LN = Obis("0.0.40.0.0.255")
"""The Association LN instance that always means "the association this request came through"."""
CURRENT_ASSOCIATION_SN = 0xFA00
"""Base name of the current Association SN object."""
HLS_REPLY = "reply_to_HLS_authentication"
"""The method of Association LN (method 1) and Association SN that carries HLS pass 3 and 4."""
_SC_AUTHENTICATION = 0x10  # security control byte, A bit


def current_association(req: Request) -> ObjectSpec | None:
    index = req.association.association_object
    return None if index is None else req.device.objects[index]


def locate(req: Request, class_id: int, logical_name: Obis | bytes) -> ObjectSpec | DataAccessResult:
    """The object a request names, as this association may see it.

    0.0.40.0.0.255 names the association the request came through. Where the model has that
    instance and this association lists it, it answers itself: its logical_name is the name the
    object list gives (a client such as gurux-dlms renames its object after what attribute 1
    says), and the Association class describes the current association through it. Otherwise
    the association's own object answers under that name.
    """
    obj = req.device.find(bytes(logical_name))
    if logical_name == CURRENT_ASSOCIATION_LN and (obj is None or not req.association.visible(obj.index)):
        obj = current_association(req)
    if obj is None or not req.association.visible(obj.index):
        return DataAccessResult.OBJECT_UNDEFINED
    if obj.cls.class_id != class_id:
        return DataAccessResult.OBJECT_CLASS_INCONSISTENT
    return obj


def is_hls_reply(req: Request, obj: ObjectSpec, method: int) -> bool:
    """Is this reply_to_HLS_authentication on the association the request came through (its own
    object, or 0.0.40.0.0.255 as `locate` found it)?"""
    if obj.index != req.association.association_object and obj.logical_name != CURRENT_ASSOCIATION_LN:
        return False
    mdef = obj.cls.method_named(HLS_REPLY)
    return mdef is not None and mdef.index == method


def _attribute_right(req: Request, obj: ObjectSpec, index: int) -> AttributeAccess:
    rights = req.association.rights.get(obj.index)
    return rights.attribute(index) if rights is not None else AttributeAccess.NO_ACCESS


def _authenticated_request(req: Request) -> bool:
    return (req.session.authenticated and req.protection is not None
            and bool(req.protection.security_control & _SC_AUTHENTICATION))


def _permits(req: Request, mode: AttributeAccess, writing: bool) -> bool:
    if not (mode.writable if writing else mode.readable):
        return False
    return not mode.authenticated or _authenticated_request(req)


def _failed(req: Request, what: str, obj: ObjectSpec, member: int, exc: Exception) -> None:
    """A behaviour raised something it should not: log it once and carry on."""
    req.log.warning("behaviour %s of %s member %d failed: %s: %s", what, obj.describe(), member,
                    type(exc).__name__, exc)
    req.log.debug("behaviour traceback", exc_info=exc)


def action_to_data_result(result: ActionResult) -> DataAccessResult:
    try:
        return DataAccessResult(int(result))
    except ValueError:
        return DataAccessResult.OTHER_REASON


def data_to_action_result(result: DataAccessResult) -> ActionResult:
    try:
        return ActionResult(int(result))
    except ValueError:
        return ActionResult.OTHER_REASON


def read(req: Request, obj: ObjectSpec, index: int, access: SelectiveAccess | None) -> bytes | DataAccessResult:
    """Read one attribute: its A-XDR encoding, or why not."""
    adef = obj.cls.attribute(index)
    if adef is None:
        return DataAccessResult.OBJECT_UNDEFINED
    if not _permits(req, _attribute_right(req, obj, index), writing=False):
        return DataAccessResult.READ_WRITE_DENIED
    handle = req.handle(obj)
    if access is None and (adef.getter is None or adef.getter_for is not None):
        raw = handle.encoded(index)  # None where the getter computes this object's value
        if raw is not None:
            return raw
    try:
        if access is None:
            value = handle.get(index)
        elif (adef.selective is None or (adef.selectors and access.selector not in adef.selectors)
              or not isinstance(access.parameters, Data)):
            return DataAccessResult.OTHER_REASON
        else:
            value = adef.selective(handle, access.selector, access.parameters)
        return encode_data(value)
    except AccessFailure as exc:
        return exc.result
    except ActionFailure as exc:
        return action_to_data_result(exc.result)
    except Exception as exc:  # noqa: BLE001 - a faulty behaviour must not take the meter down
        _failed(req, "get", obj, index, exc)
        return DataAccessResult.OTHER_REASON


def write(req: Request, obj: ObjectSpec, index: int, value: Data, selective: bool = False) -> DataAccessResult:
    """Write one attribute after the rights and type checks."""
    adef = obj.cls.attribute(index)
    if adef is None:
        return DataAccessResult.OBJECT_UNDEFINED
    if not _permits(req, _attribute_right(req, obj, index), writing=True):
        return DataAccessResult.READ_WRITE_DENIED
    if selective:
        return DataAccessResult.OTHER_REASON
    try:
        req.handle(obj).write(index, value)
        return DataAccessResult.SUCCESS
    except AccessFailure as exc:
        req.trace("SET of %s attribute %d refused: %s", obj.describe(), index, exc)
        return exc.result
    except ActionFailure as exc:
        return action_to_data_result(exc.result)
    except Exception as exc:  # noqa: BLE001
        _failed(req, "set", obj, index, exc)
        return DataAccessResult.OTHER_REASON


def invoke(req: Request, obj: ObjectSpec, index: int, parameter: Data | None) -> tuple[ActionResult, bytes | None]:
    """Invoke one method: the action-result and the encoded return parameters, if any.

    reply_to_HLS_authentication on the current association is always invocable: it is how the
    association gets authenticated, so no right can depend on that having happened.
    """
    mdef = obj.cls.method(index)
    if mdef is None:
        return ActionResult.OBJECT_UNDEFINED, None
    if not is_hls_reply(req, obj, index):
        rights = req.association.rights.get(obj.index)
        mode = rights.method(index) if rights is not None else MethodAccess.NO_ACCESS
        if mode == MethodAccess.NO_ACCESS or (mode == MethodAccess.AUTHENTICATED_ACCESS
                                              and not _authenticated_request(req)):
            return ActionResult.READ_WRITE_DENIED, None
    try:
        if mdef.parameter is not None:
            if parameter is None:
                if not mdef.optional_parameter:
                    return ActionResult.TYPE_UNMATCHED, None
            elif not mdef.parameter.accepts(parameter):
                return ActionResult.TYPE_UNMATCHED, None
        returned = req.handle(obj).invoke(index, parameter)
        return ActionResult.SUCCESS, None if returned is None else encode_data(returned)
    except ActionFailure as exc:
        return exc.result, None
    except AccessFailure as exc:
        return data_to_action_result(exc.result), None
    except Exception as exc:  # noqa: BLE001
        _failed(req, "method", obj, index, exc)
        return ActionResult.OTHER_REASON, None
