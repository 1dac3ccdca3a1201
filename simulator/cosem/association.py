"""Association SN (12), Association LN (15) and SAP assignment (17): the objects that describe who
may talk to the meter and what each client sees.

An Association object describes one `AssociationSpec` of its logical device: 0.0.40.0.0.255 is
"the current association" (whatever association the request came through, `ctx.association`),
any other instance the association whose spec names it as `association_object`. The object_list
and access rights are generated from the model's ObjectRights of that association, built once
per spec and class version and cached on the spec (`AssociationSpec.cache`), never per meter.

Per meter, the association's own object (the spec's `association_object`, the "home") keeps
only what clients changed: a new secret (SET secret, change_HLS_secret, change_LLS_secret),
the user_list (add_user/remove_user) and the object_list edits of add_object/remove_object
(which change the list a client reads, not the access rights the server enforces).

reply_to_HLS_authentication runs HLS pass 3/4 through the session (`AssociationSession.reply_to_hls`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..apdu.common import ActionResult, DataAccessResult
from ..apdu.acse import ApplicationContextName, MechanismName
from ..apdu.offer import DLMS_VERSION, offered_conformance
from ..axdr import BitString, Data, DataType, Obis
from ..state.effects import ObjectListEdits, SapAssignment
from .base import (
    AccessFailure,
    ActionFailure,
    AttributeAccess,
    InterfaceClass,
    MethodAccess,
    attribute,
    interface_class,
    method,
)
from .context import ObjectContext
from .types import (
    BIT_STRING,
    BOOLEAN,
    INTEGER,
    LONG,
    LONG_UNSIGNED,
    NULL,
    OBIS,
    OCTET_STRING,
    UNSIGNED,
    VISIBLE_STRING,
    AnyType,
    Array,
    Enum,
    OneOf,
    Struct,
)

__all__ = [
    "CLASSES", "CURRENT_ASSOCIATION", "ASSOCIATION_LN", "ASSOCIATION_SN", "SAP_ASSIGNMENT",
    "object_list", "access_rights_list",
]

CURRENT_ASSOCIATION = Obis("0.0.40.0.0.255")


# What these classes read of the model (simulator/model/spec.py), which sits above them: the
# association an object describes and the logical device it belongs to.

class AssociationSpec(Protocol):
    """One association of the model (model.spec.AssociationSpec)."""

    @property
    def client_sap(self) -> int: ...
    @property
    def context(self) -> ApplicationContextName: ...
    @property
    def mechanism(self) -> MechanismName: ...
    @property
    def conformance(self) -> int: ...
    @property
    def max_receive_pdu_size(self) -> int: ...
    @property
    def association_object(self) -> int | None: ...
    @property
    def security_setup_object(self) -> int | None: ...
    @property
    def rights(self) -> Mapping[int, Any]: ...
    @property
    def cache(self) -> dict[object, object]: ...


class LogicalDeviceSpec(Protocol):
    """One logical device of the model (model.spec.LogicalDeviceSpec)."""

    @property
    def server_sap(self) -> int: ...
    @property
    def objects(self) -> Sequence[Any]: ...
    @property
    def associations(self) -> Mapping[int, AssociationSpec]: ...

    def find(self, logical_name: bytes) -> Any: ...


# --------------------------------------------------------------------------- types

ACCESS_SELECTORS = OneOf((NULL, Array(INTEGER)))
ATTRIBUTE_ACCESS_MODE = Enum(tuple((int(m), m.name.lower()) for m in AttributeAccess), open=False)
METHOD_ACCESS_MODE = Enum(tuple((int(m), m.name.lower()) for m in MethodAccess), open=False)
ATTRIBUTE_ACCESS_ITEM = Struct((
    ("attribute_id", INTEGER), ("access_mode", ATTRIBUTE_ACCESS_MODE), ("access_selectors", ACCESS_SELECTORS)))


def _access_rights(version: int) -> Struct:
    """Version 0 of Association LN writes a method's access_mode as a boolean."""
    mode = BOOLEAN if version == 0 else METHOD_ACCESS_MODE
    return Struct((("attribute_access", Array(ATTRIBUTE_ACCESS_ITEM)),
                   ("method_access", Array(Struct((("method_id", INTEGER), ("access_mode", mode)))))))


def _object_list_element(version: int) -> Struct:
    return Struct((("class_id", LONG_UNSIGNED), ("version", UNSIGNED), ("logical_name", OBIS),
                   ("access_rights", _access_rights(version))))


def _oid_name(last: str) -> Struct:
    """application_context_name / authentication_mechanism_name: the OID 2.16.756.5.8.x.y by arcs."""
    return Struct((("joint_iso_ctt_element", UNSIGNED), ("country_element", UNSIGNED),
                   ("country_name_element", LONG_UNSIGNED), ("identified_organization_element", UNSIGNED),
                   ("DLMS_UA_element", UNSIGNED), (last + "_element", UNSIGNED), ("id_element", UNSIGNED)))


APPLICATION_CONTEXT_NAME = _oid_name("application_context")
AUTHENTICATION_MECHANISM_NAME = _oid_name("authentication_mechanism_name")
XDLMS_CONTEXT_INFO = Struct((
    ("conformance", BIT_STRING), ("max_receive_pdu_size", LONG_UNSIGNED), ("max_send_pdu_size", LONG_UNSIGNED),
    ("dlms_version_number", UNSIGNED), ("quality_of_service", INTEGER), ("cyphering_info", OCTET_STRING)))
ASSOCIATED_PARTNERS = Struct((("client_SAP", INTEGER), ("server_SAP", LONG_UNSIGNED)))
ASSOCIATION_STATUS = Enum(((0, "non_associated"), (1, "association_pending"), (2, "associated")), open=False)
USER_ENTRY = Struct((("user_id", UNSIGNED), ("user_name", VISIBLE_STRING)))
SN_OBJECT_LIST_ELEMENT = Struct((("base_name", LONG), ("class_id", LONG_UNSIGNED), ("version", UNSIGNED),
                                 ("logical_name", OBIS)))
SN_ACCESS_RIGHT = Struct((("base_name", LONG), ("attribute_access", Array(ATTRIBUTE_ACCESS_ITEM)),
                          ("method_access", Array(Struct((("method_id", INTEGER),
                                                          ("access_mode", METHOD_ACCESS_MODE)))))))
SAP_ASSIGNMENT_ELEMENT = Struct((("SAP", LONG_UNSIGNED), ("logical_device_name", OCTET_STRING)))
READ_BY_LOGICALNAME = Array(Struct((("class_id", LONG_UNSIGNED), ("logical_name", OBIS),
                                    ("attribute_index", INTEGER))))

_EMPTY = Data(DataType.ARRAY, ())


def _u8(v: int) -> Data:
    return Data(DataType.UNSIGNED, v)


def _struct(*items: Data) -> Data:
    return Data(DataType.STRUCTURE, items)


def _param(parameter: Data | None) -> Data:
    """The method's parameter; the services checked its type, but it may still be absent."""
    if parameter is None:
        raise ActionFailure(ActionResult.TYPE_UNMATCHED, "the method needs a parameter")
    return parameter


# --------------------------------------------------------------------------- which association

def _described(ctx: ObjectContext) -> tuple[Any, AssociationSpec | None]:
    """The session of the request and the spec this object describes (None: no association uses it)."""
    session = ctx.association
    if session is None:
        raise AccessFailure(DataAccessResult.OBJECT_UNAVAILABLE, "no association context")
    if ctx.logical_name == CURRENT_ASSOCIATION or _home_name(session.device, session.spec) == ctx.logical_name:
        return session, session.spec
    for spec in session.device.associations.values():
        if _home_name(session.device, spec) == ctx.logical_name:
            return session, spec
    return session, None


def _home_name(device: LogicalDeviceSpec, spec: AssociationSpec) -> Obis | None:
    i = spec.association_object
    return device.objects[i].logical_name if i is not None and 0 <= i < len(device.objects) else None


def _home(ctx: ObjectContext, session: Any, spec: AssociationSpec) -> ObjectContext:
    """Where this meter keeps what clients changed of `spec`: its own association object."""
    name = _home_name(session.device, spec)
    home = None if name is None else ctx.find(name)
    return ctx if home is None else home


def _current(ctx: ObjectContext) -> tuple[Any, AssociationSpec]:
    """For methods: the session and spec, refusing when this object is not the caller's association."""
    session = ctx.association
    if session is None:
        raise ActionFailure(ActionResult.OBJECT_UNAVAILABLE, "no association context")
    _, spec = _described(ctx)
    if spec is not session.spec:
        raise ActionFailure(ActionResult.READ_WRITE_DENIED, "not the caller's own association")
    return session, spec


# --------------------------------------------------------------------------- object_list

def _attribute_access(cls: InterfaceClass, rights: Any, legacy: bool) -> Data:
    items = []
    for a in cls.attributes:
        mode = int(rights.attribute(a.index))
        if legacy and mode > 3:  # version 0 has no authenticated modes
            mode -= 3
        selectors = Data(DataType.ARRAY, tuple(Data(DataType.INTEGER, s) for s in a.selectors)) \
            if a.selectors else Data(DataType.NULL_DATA)
        items.append(_struct(Data(DataType.INTEGER, a.index), Data(DataType.ENUM, mode), selectors))
    return Data(DataType.ARRAY, tuple(items))


def _method_access(cls: InterfaceClass, rights: Any, legacy: bool) -> Data:
    items = []
    for m in cls.methods:
        mode = rights.method(m.index)
        value = Data(DataType.BOOLEAN, mode != 0) if legacy else Data(DataType.ENUM, int(mode))
        items.append(_struct(Data(DataType.INTEGER, m.index), value))
    return Data(DataType.ARRAY, tuple(items))


def object_list(device: LogicalDeviceSpec, spec: AssociationSpec, version: int) -> Data:
    """Association LN object_list of `spec` as Association LN `version` writes it (cached on the spec)."""
    key = ("object_list", 15, version)
    cached = spec.cache.get(key)
    if isinstance(cached, Data):
        return cached
    legacy = version == 0
    elements = []
    for obj in device.objects:
        rights = spec.rights.get(obj.index)
        if rights is None:
            continue
        access = _struct(_attribute_access(obj.cls, rights, legacy), _method_access(obj.cls, rights, legacy))
        elements.append(_struct(Data(DataType.LONG_UNSIGNED, obj.cls.class_id), _u8(obj.cls.version),
                                Data(DataType.OCTET_STRING, bytes(obj.logical_name)), access))
    value = Data(DataType.ARRAY, tuple(elements))
    spec.cache[key] = value
    return value


def _base_name(short_name: int) -> Data:
    return Data(DataType.LONG, short_name - 0x10000 if short_name >= 0x8000 else short_name)


def sn_object_list(device: LogicalDeviceSpec, spec: AssociationSpec) -> Data:
    """Association SN object_list: {base_name, class_id, version, logical_name} per listed object."""
    key = ("object_list", 12)
    cached = spec.cache.get(key)
    if isinstance(cached, Data):
        return cached
    value = Data(DataType.ARRAY, tuple(
        _struct(_base_name(obj.short_name), Data(DataType.LONG_UNSIGNED, obj.cls.class_id), _u8(obj.cls.version),
                Data(DataType.OCTET_STRING, bytes(obj.logical_name)))
        for obj in device.objects if obj.index in spec.rights and obj.short_name is not None))
    spec.cache[key] = value
    return value


def access_rights_list(device: LogicalDeviceSpec, spec: AssociationSpec) -> Data:
    """Association SN access_rights_list: {base_name, attribute_access, method_access} per object."""
    key = ("access_rights_list", 12)
    cached = spec.cache.get(key)
    if isinstance(cached, Data):
        return cached
    items = []
    for obj in device.objects:
        rights = spec.rights.get(obj.index)
        if rights is None or obj.short_name is None:
            continue
        items.append(_struct(_base_name(obj.short_name), _attribute_access(obj.cls, rights, False),
                             _method_access(obj.cls, rights, False)))
    value = Data(DataType.ARRAY, tuple(items))
    spec.cache[key] = value
    return value


def _entry_key(element: Data) -> tuple[int, bytes]:
    return element.value[0].value, bytes(element.value[2].value)


def _get_object_list(ctx: ObjectContext) -> Data:
    session, spec = _described(ctx)
    if spec is None:
        return _EMPTY
    base = object_list(session.device, spec, ctx.cls.version)
    edits = _home(ctx, session, spec).effect(ObjectListEdits)
    if edits is None or not (edits.added or edits.removed):
        return base
    added, removed = edits.added, edits.removed
    hidden = removed | {_entry_key(e) for e in added}
    return Data(DataType.ARRAY, tuple(e for e in base.value if _entry_key(e) not in hidden) + added)


def _add_object(ctx: ObjectContext, parameter: Data | None) -> None:
    session, spec = _described_for_method(ctx)
    element = _param(parameter)
    key = _entry_key(element)
    if any(_entry_key(e) == key for e in _get_object_list(ctx).value):
        raise ActionFailure(ActionResult.OTHER_REASON, "the object is already listed")
    edits = _home(ctx, session, spec).change(ObjectListEdits)
    edits.added += (element,)


def _remove_object(ctx: ObjectContext, parameter: Data | None) -> None:
    session, spec = _described_for_method(ctx)
    key = _entry_key(_param(parameter))
    home = _home(ctx, session, spec)
    edits = home.effect(ObjectListEdits)
    if edits is not None and any(_entry_key(e) == key for e in edits.added):
        home.change(ObjectListEdits).added = tuple(e for e in edits.added if _entry_key(e) != key)
        return
    removed = frozenset() if edits is None else edits.removed
    base = object_list(session.device, spec, ctx.cls.version)
    if key in removed or all(_entry_key(e) != key for e in base.value):
        raise ActionFailure(ActionResult.OTHER_REASON, "the object is not listed")
    home.change(ObjectListEdits).removed = removed | {key}


def _described_for_method(ctx: ObjectContext) -> tuple[Any, AssociationSpec]:
    if ctx.association is None:
        raise ActionFailure(ActionResult.OBJECT_UNAVAILABLE, "no association context")
    session, spec = _described(ctx)
    if spec is None:
        raise ActionFailure(ActionResult.OBJECT_UNAVAILABLE, "no association uses this object")
    return session, spec


# --------------------------------------------------------------------------- other attributes

def _get_partners(ctx: ObjectContext) -> Data:
    session, spec = _described(ctx)
    client = 0 if spec is None else spec.client_sap
    return _struct(Data(DataType.INTEGER, client), Data(DataType.LONG_UNSIGNED, session.device.server_sap))


def _negotiated(ctx: ObjectContext) -> tuple[Any, AssociationSpec | None, Any]:
    session, spec = _described(ctx)
    return session, spec, session.negotiated if spec is session.spec else None


def _oid_value(kind: int, last: int) -> Data:
    return _struct(_u8(2), _u8(16), Data(DataType.LONG_UNSIGNED, 756), _u8(5), _u8(8), _u8(kind), _u8(last))


def _get_context_name(ctx: ObjectContext) -> Data:
    _, spec, negotiated = _negotiated(ctx)
    context = negotiated.context if negotiated is not None else (1 if spec is None else spec.context)
    return _oid_value(1, int(context))


def _get_mechanism_name(ctx: ObjectContext) -> Data:
    _, spec, negotiated = _negotiated(ctx)
    mechanism = negotiated.mechanism if negotiated is not None else (0 if spec is None else spec.mechanism)
    return _oid_value(2, int(mechanism))


def _get_context_info(ctx: ObjectContext) -> Data:
    _, spec, negotiated = _negotiated(ctx)
    if spec is None:
        conformance, receive, send = 0, 0, 0
    elif negotiated is not None:
        conformance = int(negotiated.conformance)
        receive, send = negotiated.server_max_receive_pdu_size, negotiated.client_max_receive_pdu_size
    else:
        conformance = int(offered_conformance(spec.conformance, spec.context))
        receive = send = spec.max_receive_pdu_size
    return _struct(Data(DataType.BIT_STRING, BitString(f"{conformance:024b}")), Data(DataType.LONG_UNSIGNED, receive),
                   Data(DataType.LONG_UNSIGNED, send), _u8(DLMS_VERSION), Data(DataType.INTEGER, 0),
                   Data(DataType.OCTET_STRING, b""))  # the dedicated key is never shown


def _get_secret(ctx: ObjectContext) -> Data:
    raise AccessFailure(DataAccessResult.READ_WRITE_DENIED, "the secret is write-only")


def _set_secret(ctx: ObjectContext, value: Data) -> None:
    session, spec = _described(ctx)
    target = ctx if spec is None else _home(ctx, session, spec)
    target.change_secret(bytes(value.value))


def _get_status(ctx: ObjectContext) -> Data:
    session, spec = _described(ctx)
    return Data(DataType.ENUM, session.state.value if spec is session.spec else 0)


def _get_security_setup_reference(ctx: ObjectContext) -> Data:
    session, spec = _described(ctx)
    index = None if spec is None else spec.security_setup_object
    objects = session.device.objects
    name = bytes(objects[index].logical_name) if index is not None and 0 <= index < len(objects) else bytes(6)
    return Data(DataType.OCTET_STRING, name)


def _user_list_index(ctx: ObjectContext) -> int:
    adef = ctx.cls.attribute_named("user_list")
    if adef is None:  # Association LN before version 2
        raise ActionFailure(ActionResult.OBJECT_UNAVAILABLE, "this version has no user_list")
    return adef.index


def _get_current_user(ctx: ObjectContext) -> Data:
    session, spec = _described(ctx)
    user_id = session.user_id if spec is session.spec else None
    if user_id is None or not 0 <= user_id <= 0xFF:
        return _struct(_u8(0), Data(DataType.VISIBLE_STRING, ""))
    users = _home(ctx, session, session.spec).get(_user_list_index(ctx))
    name = next((str(u.value[1].value) for u in users.value if u.value[0].value == user_id), "")
    return _struct(_u8(user_id), Data(DataType.VISIBLE_STRING, name))


# --------------------------------------------------------------------------- methods

def _reply_to_hls(ctx: ObjectContext, parameter: Data | None) -> Data:
    session, _ = _current(ctx)
    return Data(DataType.OCTET_STRING, session.reply_to_hls(bytes(_param(parameter).value), ctx.now))


def _change_secret(ctx: ObjectContext, parameter: Data | None) -> None:
    session, spec = _described_for_method(ctx)
    secret = bytes(_param(parameter).value)
    if not secret:
        raise ActionFailure(ActionResult.OTHER_REASON, "an empty secret")
    _home(ctx, session, spec).change_secret(secret)


def _add_user(ctx: ObjectContext, parameter: Data | None) -> None:
    session, spec = _described_for_method(ctx)
    parameter = _param(parameter)
    home, index = _home(ctx, session, spec), _user_list_index(ctx)
    users = home.get(index).value
    if any(u.value[0].value == parameter.value[0].value for u in users):
        raise ActionFailure(ActionResult.OTHER_REASON, "the user id is already listed")
    home.set(index, Data(DataType.ARRAY, tuple(users) + (parameter,)))


def _remove_user(ctx: ObjectContext, parameter: Data | None) -> None:
    session, spec = _described_for_method(ctx)
    user_id = _param(parameter).value[0].value
    home, index = _home(ctx, session, spec), _user_list_index(ctx)
    users = home.get(index).value
    kept = tuple(u for u in users if u.value[0].value != user_id)
    if len(kept) == len(users):
        raise ActionFailure(ActionResult.OTHER_REASON, "no such user")
    home.set(index, Data(DataType.ARRAY, kept))


def _read_by_logicalname(ctx: ObjectContext, parameter: Data | None) -> Data:
    """Association SN: read attributes by logical name, with the caller's access rights."""
    session = ctx.association
    if session is None:
        raise ActionFailure(ActionResult.OBJECT_UNAVAILABLE, "no association context")
    values = []
    for item in _param(parameter).value:
        class_id, name, index = (v.value for v in item.value)
        obj = session.device.find(bytes(name))
        rights = None if obj is None else session.spec.rights.get(obj.index)
        if obj is None or obj.cls.class_id != class_id or rights is None:
            raise ActionFailure(ActionResult.OBJECT_UNDEFINED, "no such object in this association")
        if not rights.attribute(index).readable:
            raise ActionFailure(ActionResult.READ_WRITE_DENIED, "attribute not readable")
        target = ctx.find(Obis(bytes(name)), class_id)
        if target is None:
            raise ActionFailure(ActionResult.OBJECT_UNDEFINED, "no such object in this association")
        try:
            values.append(target.get(index))
        except AccessFailure as failure:
            raise ActionFailure(_action_result(failure.result), str(failure)) from None
    return Data(DataType.ARRAY, tuple(values))


def _action_result(result: DataAccessResult) -> ActionResult:
    try:
        return ActionResult(int(result))
    except ValueError:
        return ActionResult.OTHER_REASON


# --------------------------------------------------------------------------- SAP assignment

def _get_sap_list(ctx: ObjectContext) -> Data:
    override = ctx.effect(SapAssignment)
    if override is not None and override.entries is not None:
        return override.entries
    session = ctx.association
    if session is None:
        return _EMPTY
    meter = session.meter
    items = []
    for sap, device in sorted(meter.model.logical_devices.items()):
        try:
            name = device.name.render(meter.fields)
        except (KeyError, IndexError, ValueError):
            raise AccessFailure(DataAccessResult.OBJECT_UNAVAILABLE, "a logical device name does not render") from None
        raw = name.value if name.type == DataType.OCTET_STRING else str(name.value).encode("latin-1")
        items.append(_struct(Data(DataType.LONG_UNSIGNED, sap), Data(DataType.OCTET_STRING, raw)))
    return Data(DataType.ARRAY, tuple(items))


def _connect_logical_device(ctx: ObjectContext, parameter: Data | None) -> None:
    """Assign a SAP to a logical device name (SAP 0 disconnects it); one device per SAP.

    The new list is what clients read; the simulator keeps routing by the model's SAPs.
    """
    parameter = _param(parameter)
    sap, name = parameter.value[0].value, bytes(parameter.value[1].value)
    entries = [e for e in _get_sap_list(ctx).value if bytes(e.value[1].value) != name]
    if sap != 0 and any(e.value[0].value == sap for e in entries):
        raise ActionFailure(ActionResult.OTHER_REASON, f"SAP {sap} is already in use")
    if sap != 0:
        entries.append(parameter)
    ctx.change(SapAssignment).entries = Data(DataType.ARRAY, tuple(entries))


# --------------------------------------------------------------------------- the classes

def _association_ln(version: int) -> InterfaceClass:
    ro = AttributeAccess.READ_ONLY
    attrs = [
        attribute(2, "object_list", Array(_object_list_element(version)), getter=_get_object_list, access=ro),
        attribute(3, "associated_partners_id", ASSOCIATED_PARTNERS, getter=_get_partners, access=ro),
        attribute(4, "application_context_name", APPLICATION_CONTEXT_NAME, getter=_get_context_name, access=ro),
        attribute(5, "xDLMS_context_info", XDLMS_CONTEXT_INFO, getter=_get_context_info, access=ro),
        attribute(6, "authentication_mechanism_name", AUTHENTICATION_MECHANISM_NAME, getter=_get_mechanism_name,
                  access=ro),
        attribute(7, "secret", OCTET_STRING, getter=_get_secret, setter=_set_secret,
                  access=AttributeAccess.WRITE_ONLY),
        attribute(8, "association_status", ASSOCIATION_STATUS, dynamic=True, getter=_get_status, access=ro),
    ]
    if version >= 1:
        attrs.append(attribute(9, "security_setup_reference", OBIS, getter=_get_security_setup_reference, access=ro))
    if version >= 2:
        attrs += [
            attribute(10, "user_list", Array(USER_ENTRY), default=_EMPTY, access=ro),
            attribute(11, "current_user", USER_ENTRY, dynamic=True, getter=_get_current_user, access=ro),
        ]
    element = _object_list_element(version)
    methods = [
        method(1, "reply_to_HLS_authentication", OCTET_STRING, impl=_reply_to_hls, access=MethodAccess.ACCESS),
        method(2, "change_HLS_secret", OCTET_STRING, impl=_change_secret),
        method(3, "add_object", element, impl=_add_object),
        method(4, "remove_object", element, impl=_remove_object),
    ]
    if version >= 2:
        methods += [method(5, "add_user", USER_ENTRY, impl=_add_user),
                    method(6, "remove_user", USER_ENTRY, impl=_remove_user)]
    return interface_class(15, version, "Association LN", attrs, methods, sn_method_offset=0x60)


def _get_sn_object_list(ctx: ObjectContext) -> Data:
    session, spec = _described(ctx)
    return _EMPTY if spec is None else sn_object_list(session.device, spec)


def _get_access_rights_list(ctx: ObjectContext) -> Data:
    session, spec = _described(ctx)
    return _EMPTY if spec is None else access_rights_list(session.device, spec)


ASSOCIATION_LN = tuple(_association_ln(v) for v in (0, 1, 2))

# Version 4; methods from x + 0x30 (method 5, x + 0x50, is not used by this version).
ASSOCIATION_SN = interface_class(12, 4, "Association SN", [
    attribute(2, "object_list", Array(SN_OBJECT_LIST_ELEMENT), getter=_get_sn_object_list),
    attribute(3, "access_rights_list", Array(SN_ACCESS_RIGHT), getter=_get_access_rights_list),
    attribute(4, "security_setup_reference", OBIS, getter=_get_security_setup_reference),
    attribute(5, "user_list", Array(USER_ENTRY), default=_EMPTY),
    attribute(6, "current_user", USER_ENTRY, dynamic=True, getter=_get_current_user),
], [
    method(1, "read_by_logicalname", READ_BY_LOGICALNAME, impl=_read_by_logicalname, access=MethodAccess.ACCESS),
    method(2, "get_attributes_&_services", Array(AnyType())),
    method(3, "change_LLS_secret", OCTET_STRING, impl=_change_secret),
    method(4, "change_HLS_secret", OCTET_STRING, impl=_change_secret),
    method(6, "reply_to_HLS_authentication", OCTET_STRING, impl=_reply_to_hls, access=MethodAccess.ACCESS),
    method(7, "add_user", USER_ENTRY, impl=_add_user),
    method(8, "remove_user", USER_ENTRY, impl=_remove_user),
], sn_method_offset=0x30)

SAP_ASSIGNMENT = interface_class(17, 0, "SAP assignment", [
    attribute(2, "SAP_assignment_list", Array(SAP_ASSIGNMENT_ELEMENT), getter=_get_sap_list),
], [
    method(1, "connect_logical_device", SAP_ASSIGNMENT_ELEMENT, impl=_connect_logical_device),
], sn_method_offset=0x20)

CLASSES = (*ASSOCIATION_LN, ASSOCIATION_SN, SAP_ASSIGNMENT)
