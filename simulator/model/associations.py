"""The associations of a logical device: who may connect, how, and what each one sees.

    associations:
      - client_sap: 1
        name: management
        context: ln-ciphered        # ln, sn, ln-ciphered, sn-ciphered
        authentication: hls-gmac    # none, lls, hls, hls-md5, hls-sha1, hls-gmac, hls-sha256, hls-ecdsa
        security_policy: authenticated-encrypted   # none, authenticated, encrypted, authenticated-encrypted
        secret: "{hls_secret}"      # LLS password / HLS secret (text, or hex with 0x / hex:)
        role: management            # default rights (simulator/model/rights.py); default by mechanism
        objects: all                # or a list of OBIS codes; `exclude:` removes some
        pre_established: false
        conformance: [get, set, action, selective-access, ...]  # default: the server's per context
        max_receive_pdu_size: 1024
        association_object: 0.0.40.0.3.255   # default: the Association LN/SN object whose
                                             # associated_partners_id names this client, else 0.0.40.0.0.255
        security_setup: 0.0.43.0.0.255       # default: the association object's
                                             # security_setup_reference, else, when ciphering or
                                             # HLS-GMAC need keys, the device's only one
        lockout: {failures: 3, time_s: 60, growth: 2, max_time_s: 3600}   # the default; `off`:
                                             # no defence against password guessing

An association always lists its own association object. Each object's `access:` overrides,
keyed by association name or client SAP: `none` hides the object, a role name replaces the
association's role, {role, attributes, methods} changes single rights.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable, Mapping, TypeVar

from ..apdu.acse import ApplicationContextName, MechanismName
from ..apdu.initiate import Conformance
from ..axdr import Obis
from ..cosem.base import InterfaceClass
from ..cosem.types import OCTET_STRING
from ..errors import DLMSError
from .errors import did_you_mean
from .rights import ROLES, RightsBook, Role, role_named
from ..security.lockout import LockoutPolicy
from .spec import AssociationSpec, LogicalDeviceSpec, ObjectRights, ObjectSpec, SecurityPolicy, SourceLocation, Template
from .values import Invalid
from .yamlsource import YMap, YNode, YScalar, YSeq, describe_node

if TYPE_CHECKING:
    from .loader import Builder

__all__ = ["build_associations", "CONTEXTS", "MECHANISMS", "POLICIES", "IMPLEMENTED_MECHANISMS"]

_ASSOCIATION_KEYS = ("client_sap", "name", "context", "authentication", "security_policy", "secret", "role",
                     "objects", "exclude", "pre_established", "conformance", "max_receive_pdu_size",
                     "association_object", "security_setup", "lockout")
_ACN, _MN = ApplicationContextName, MechanismName
CONTEXTS = {"ln": _ACN.LOGICAL_NAME, "logical-name": _ACN.LOGICAL_NAME, "sn": _ACN.SHORT_NAME,
            "short-name": _ACN.SHORT_NAME, "ln-ciphered": _ACN.LOGICAL_NAME_WITH_CIPHERING,
            "ln-with-ciphering": _ACN.LOGICAL_NAME_WITH_CIPHERING, "sn-ciphered": _ACN.SHORT_NAME_WITH_CIPHERING,
            "sn-with-ciphering": _ACN.SHORT_NAME_WITH_CIPHERING}
MECHANISMS = {"none": _MN.LOWEST, "lowest": _MN.LOWEST, "lls": _MN.LOW, "low": _MN.LOW, "hls": _MN.HIGH,
              "high": _MN.HIGH, "hls-md5": _MN.HIGH_MD5, "hls-sha1": _MN.HIGH_SHA1, "hls-gmac": _MN.HIGH_GMAC,
              "hls-sha256": _MN.HIGH_SHA256, "hls-ecdsa": _MN.HIGH_ECDSA}
POLICIES = {"none": SecurityPolicy.NONE, "authenticated": SecurityPolicy.AUTHENTICATED,
            "encrypted": SecurityPolicy.ENCRYPTED, "authenticated-encrypted": SecurityPolicy.AUTHENTICATED_ENCRYPTED,
            "authenticated-and-encrypted": SecurityPolicy.AUTHENTICATED_ENCRYPTED}
_NEEDS_SECRET = (_MN.LOW, _MN.HIGH, _MN.HIGH_MD5, _MN.HIGH_SHA1, _MN.HIGH_SHA256)
# What simulator/association/authentication.py answers on the wire (tests hold the two equal):
# a model naming another mechanism would describe meters that refuse their own clients.
IMPLEMENTED_MECHANISMS = frozenset((_MN.LOWEST, _MN.LOW, _MN.HIGH_MD5, _MN.HIGH_SHA1, _MN.HIGH_GMAC))
_OFFERED_MECHANISMS = ("none", "lls", "hls-md5", "hls-sha1", "hls-gmac")  # what a problem suggests
_ASSOCIATION_CLASSES = (12, 15)
_CURRENT_ASSOCIATION = bytes((0, 0, 40, 0, 0, 255))
_SECURITY_SETUP = 64
_AUTO_SHORT_NAME_START = 0x0100


def _norm(text: str) -> str:
    return text.strip().lower().replace("_", "-").replace(" ", "-")


@dataclass(slots=True)
class _Draft:
    """An association while its device's objects are resolved."""

    client_sap: int
    label: str
    node: YMap
    context: ApplicationContextName = _ACN.LOGICAL_NAME
    mechanism: MechanismName = _MN.LOWEST
    policy: SecurityPolicy = SecurityPolicy.NONE
    secret: Template | None = None
    role: Role = ROLES["public"]
    listed: set[int] = field(default_factory=set)
    rights: dict[int, ObjectRights] = field(default_factory=dict)

    @property
    def owner(self) -> str:
        return f"association {self.client_sap}" + (f" ({self.label})" if self.label else "")

    @property
    def short_names(self) -> bool:
        return self.context in (_ACN.SHORT_NAME, _ACN.SHORT_NAME_WITH_CIPHERING)


def build_associations(b: "Builder", device: LogicalDeviceSpec, ymap: YMap,
                       overrides: list[tuple[int, YMap]]) -> LogicalDeviceSpec:
    """The device with its associations, rights and short names resolved."""
    drafts: list[_Draft] = []
    for node in b.sequence(ymap.get("associations"), "associations", owner=f"logical device {device.server_sap}"):
        draft = _parse(b, node, device, drafts)
        if draft is not None:
            drafts.append(draft)
    if not drafts and ymap.get("associations") is None:
        b.problem(ymap.line, "a logical device needs at least one association",
                  owner=f"logical device {device.server_sap}")
    objects = _short_names(b, device, any(d.short_names for d in drafts))
    book = RightsBook()
    specs: dict[int, AssociationSpec] = {}
    for draft in drafts:
        assoc_obj = _association_object(b, device, draft)
        if assoc_obj is not None:
            draft.listed.add(assoc_obj)
        for i in draft.listed:
            draft.rights[i] = book.of_role(draft.role, objects[i].cls)
        specs[draft.client_sap] = _spec(b, device, draft, assoc_obj)
    for index, access in overrides:
        _apply_overrides(b, book, objects[index], access, drafts)
    for draft in drafts:  # rights in object order, as the object_list lists them
        rights = {i: draft.rights[i] for i in sorted(draft.rights)}
        specs[draft.client_sap] = replace(specs[draft.client_sap], rights=rights)
    by_sn = {o.short_name: o.index for o in objects if o.short_name is not None}
    return replace(device, objects=tuple(objects), associations=specs, by_short_name=by_sn)


_C = TypeVar("_C")


def _choice(b: "Builder", node: YNode | None, names: Mapping[str, _C], what: str, default: _C,
            owner: str, offered: Iterable[str] | None = None) -> _C:
    """The value `node` names; unknown names are reported with the choices `offered` (all by default)."""
    if node is None:
        return default
    if isinstance(node, YScalar) and node.value is not None:
        key = _norm(node.text)
        if key in names:
            return names[key]
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            match = next((v for v in names.values() if v == node.value), None)
            if match is not None:
                return match
        choices = list(names if offered is None else offered)
        b.problem(node.line, f"unknown {what} {node.text!r}{did_you_mean(key, choices)}; expected one of "
                  f"{', '.join(choices)}", owner=owner)
        return default
    b.problem(node.line, f"expected {what}, found {describe_node(node)}", owner=owner)
    return default


def _parse(b: "Builder", node: YNode, device: LogicalDeviceSpec, earlier: list[_Draft]) -> _Draft | None:
    ymap = b.mapping(node, "an association", owner=f"logical device {device.server_sap}")
    if ymap is None:
        return None
    sap = b.integer(ymap.get("client_sap"), "a client SAP", 1, 0xFFFF, 0)
    label = b.text(ymap.get("name"), "a name", "")
    draft = _Draft(sap, label, ymap)
    owner = draft.owner
    b.check_keys(ymap, _ASSOCIATION_KEYS, "an association", ("client_sap",), owner=owner)
    for other in earlier:
        if other.client_sap == sap:
            b.problem(ymap.line, f"client SAP {sap} already has an association (line {other.node.line})", owner=owner)
            return None
        if label and other.label == label:
            b.problem(ymap.key_line("name"), f"association name {label!r} used twice", owner=owner)
    draft.context = _choice(b, ymap.get("context"), CONTEXTS, "application context", _ACN.LOGICAL_NAME, owner)
    reported = len(b.problems)
    auth = ymap.get("authentication")
    draft.mechanism = _choice(b, auth, MECHANISMS, "authentication mechanism", _MN.LOWEST, owner, _OFFERED_MECHANISMS)
    if isinstance(auth, YScalar) and draft.mechanism not in IMPLEMENTED_MECHANISMS:  # the default is implemented
        b.problem(ymap.key_line("authentication"), f"authentication {auth.text!r} "
                  f"(mechanism {int(draft.mechanism)}) is not implemented: its clients would be refused; "
                  f"use one of {', '.join(_OFFERED_MECHANISMS)}", owner=owner)
    mechanism_known = len(b.problems) == reported
    draft.policy = _choice(b, ymap.get("security_policy"), POLICIES, "security policy",
                           SecurityPolicy.NONE, owner)
    ciphered = draft.context in (_ACN.LOGICAL_NAME_WITH_CIPHERING, _ACN.SHORT_NAME_WITH_CIPHERING)
    if draft.policy != SecurityPolicy.NONE and not ciphered:
        b.problem(ymap.key_line("security_policy"), f"security policy {draft.policy.name.lower()} needs a "
                  "ciphered context (ln-ciphered or sn-ciphered)", owner=owner)
    default_role = {_MN.LOWEST: "public", _MN.LOW: "reader"}.get(draft.mechanism, "management")
    try:
        role_node = ymap.get("role")
        draft.role = role_named(role_node) if role_node is not None else ROLES[default_role]
    except Invalid as exc:
        b.invalid(exc, owner=owner)
    _secret(b, ymap, draft, mechanism_known)
    draft.listed = _selection(b, ymap, device, owner)
    return draft


def _secret(b: "Builder", ymap: YMap, draft: _Draft, mechanism_known: bool) -> None:
    node = ymap.get("secret")
    if node is None:
        if draft.mechanism in _NEEDS_SECRET:
            b.problem(ymap.line, f"authentication {draft.mechanism.name.lower()} needs a 'secret' "
                      "(a password or HLS secret, usually a template such as \"{lls_password}\")", owner=draft.owner)
        return
    if draft.mechanism == _MN.LOWEST and mechanism_known:
        b.problem(ymap.key_line("secret"), "a secret is given but authentication is none", owner=draft.owner)
    try:
        draft.secret = b.converter.template(node, OCTET_STRING) or b.constant_template(node, OCTET_STRING)
    except Invalid as exc:
        b.invalid(exc, owner=draft.owner)


def _obis_list(b: "Builder", node: YNode, device: LogicalDeviceSpec, what: str, owner: str) -> set[int]:
    out: set[int] = set()
    for item in b.sequence(node, what, owner=owner):
        if not isinstance(item, YScalar) or item.value is None:
            b.problem(item.line, f"expected an OBIS code in {what}, found {describe_node(item)}", owner=owner)
            continue
        try:
            ln = Obis(item.text)
        except DLMSError as exc:
            b.problem(item.line, f"bad OBIS in {what}: {exc}", owner=owner)
            continue
        index = device.by_logical_name.get(bytes(ln))
        if index is None:
            b.problem(item.line, f"{what}: logical device {device.server_sap} has no object {ln}", owner=owner)
        else:
            out.add(index)
    return out


def _selection(b: "Builder", ymap: YMap, device: LogicalDeviceSpec, owner: str) -> set[int]:
    node = ymap.get("objects")
    if node is None or isinstance(node, YScalar) and _norm(node.text) == "all":
        listed = set(range(len(device.objects)))
    elif isinstance(node, YScalar):
        b.problem(node.line, f"expected 'all' or a list of OBIS codes, found {describe_node(node)}", owner=owner)
        listed = set()
    else:
        listed = _obis_list(b, node, device, "objects", owner)
    exclude = ymap.get("exclude")
    if exclude is not None:
        listed -= _obis_list(b, exclude, device, "exclude", owner)
    return listed


def _find_class(device: LogicalDeviceSpec, class_ids: tuple[int, ...]) -> list[ObjectSpec]:
    return [o for o in device.objects if o.cls.class_id in class_ids]


def _association_object(b: "Builder", device: LogicalDeviceSpec, draft: _Draft) -> int | None:
    wanted = 12 if draft.short_names else 15
    node = draft.node.get("association_object")
    if node is not None:
        found = _obis_list(b, YSeq([node], node.line), device, "association_object", draft.owner)
        if not found:
            return None
        index = found.pop()
        cls = device.objects[index].cls
        if cls.class_id != wanted:
            b.problem(node.line, f"association_object must be an Association {'SN' if wanted == 12 else 'LN'} "
                      f"(class {wanted}), {device.objects[index].logical_name} is {cls.name}", owner=draft.owner)
        return index
    for obj in _find_class(device, (wanted,)):
        if bytes(obj.logical_name) != _CURRENT_ASSOCIATION and _partner(obj) == draft.client_sap:
            return obj.index
    current = device.by_logical_name.get(_CURRENT_ASSOCIATION)
    if current is not None and device.objects[current].cls.class_id == wanted:
        return current
    return None


def _attribute_value(obj: ObjectSpec, name: str) -> object:
    adef = obj.cls.attribute_named(name)
    if adef is None or adef.index > len(obj.values):
        return None
    v = obj.values[adef.index - 1]
    return None if v is None else v.value


def _partner(obj: ObjectSpec) -> int | None:
    """The client SAP an Association LN object's associated_partners_id names."""
    v = _attribute_value(obj, "associated_partners_id")
    if isinstance(v, tuple) and v and isinstance(v[0].value, int):
        return v[0].value
    return None


def _security_setup(b: "Builder", device: LogicalDeviceSpec, draft: _Draft, assoc_obj: int | None) -> int | None:
    node = draft.node.get("security_setup")
    if node is not None:
        found = _obis_list(b, YSeq([node], node.line), device, "security_setup", draft.owner)
        if not found:
            return None
        index = found.pop()
        if device.objects[index].cls.class_id != _SECURITY_SETUP:
            b.problem(node.line, f"security_setup must be a Security setup (class 64), "
                      f"{device.objects[index].logical_name} is {device.objects[index].cls.name}", owner=draft.owner)
            return None
        return index
    if assoc_obj is not None and bytes(device.objects[assoc_obj].logical_name) != _CURRENT_ASSOCIATION:
        ref = _attribute_value(device.objects[assoc_obj], "security_setup_reference")
        if isinstance(ref, bytes):
            named = device.by_logical_name.get(ref)
            if named is not None and device.objects[named].cls.class_id == _SECURITY_SETUP:
                return named
    if not _needs_keys(draft):  # a Security setup also imposes its security_policy: never by default
        return None
    setups = _find_class(device, (_SECURITY_SETUP,))
    return setups[0].index if len(setups) == 1 else None


def _needs_keys(draft: _Draft) -> bool:
    ciphered = draft.context in (_ACN.LOGICAL_NAME_WITH_CIPHERING, _ACN.SHORT_NAME_WITH_CIPHERING)
    return ciphered or draft.policy != SecurityPolicy.NONE or draft.mechanism == _MN.HIGH_GMAC


def _spec(b: "Builder", device: LogicalDeviceSpec, draft: _Draft, assoc_obj: int | None) -> AssociationSpec:
    ymap, owner = draft.node, draft.owner
    setup = _security_setup(b, device, draft, assoc_obj)
    if _needs_keys(draft):
        if setup is None:
            b.problem(ymap.line, "ciphering and HLS-GMAC need a Security setup object (class 64) with keys; "
                      "name it with security_setup", owner=owner)
        else:
            have = {n for n, _ in device.objects[setup].secrets}
            missing = [k for k in ("global_unicast_encryption_key", "authentication_key") if k not in have]
            if missing:
                b.problem(ymap.line, f"Security setup {device.objects[setup].logical_name} has no "
                          f"{' and no '.join(missing)} under 'keys'", owner=owner)
    conformance = _conformance(b, ymap.get("conformance"), owner)
    pre = ymap.get("pre_established")
    pre_established = False
    if pre is not None:
        if isinstance(pre, YScalar) and isinstance(pre.value, bool):
            pre_established = pre.value
        else:
            b.problem(pre.line, f"expected true or false, found {describe_node(pre)}", owner=owner)
    max_pdu = b.integer(ymap.get("max_receive_pdu_size"), "a max receive PDU size", 12, 0xFFFF, 1024, owner=owner)
    return AssociationSpec(draft.client_sap, draft.context, draft.mechanism, draft.policy, draft.secret, assoc_obj,
                           setup, {}, pre_established, conformance, max_pdu, draft.label,
                           SourceLocation(b.file, ymap.line), _lockout(b, ymap.get("lockout"), owner))


_LOCKOUT_KEYS = ("failures", "time_s", "growth", "max_time_s")


def _lockout(b: "Builder", node: YNode | None, owner: str) -> LockoutPolicy | None:
    """The defence against password guessing (simulator/security/lockout.py): on unless `off`."""
    default = LockoutPolicy()
    if node is None:
        return default
    if isinstance(node, YScalar) and (node.value is False or _norm(node.text) in ("off", "none")):
        return None
    ymap = b.mapping(node, "lockout as {failures, time_s, growth, max_time_s} or off", owner=owner)
    if ymap is None:
        return default
    b.check_keys(ymap, _LOCKOUT_KEYS, "lockout", owner=owner)
    failures = b.integer(ymap.get("failures"), "failed authentications before a lock-out", 1, 1000,
                         default.failures, owner=owner)
    time_s = b.integer(ymap.get("time_s"), "the first lock-out in seconds", 1, 86400 * 365, int(default.time_s),
                       owner=owner)
    growth = b.integer(ymap.get("growth"), "the factor each further lock-out grows by", 1, 100, int(default.growth),
                       owner=owner)
    longest = b.integer(ymap.get("max_time_s"), "the longest lock-out in seconds", 1, 86400 * 365,
                        max(int(default.max_time_s), time_s), owner=owner)
    if longest < time_s:
        b.problem(ymap.key_line("max_time_s"), f"lockout max_time_s {longest} is shorter than time_s {time_s}",
                  owner=owner)
    return LockoutPolicy(failures, float(time_s), float(growth), float(max(longest, time_s)))


def _conformance(b: "Builder", node: YNode | None, owner: str) -> int:
    if node is None:
        return 0  # the association layer's default for the context
    if isinstance(node, YScalar) and isinstance(node.value, int) and not isinstance(node.value, bool):
        if 0 <= node.value <= 0xFFFFFF:
            return node.value
    elif isinstance(node, YSeq):
        names = {name.lower().replace("_", "-"): m for name, m in Conformance.__members__.items()}
        block = 0
        for item in node.items:
            key = _norm(item.text) if isinstance(item, YScalar) and item.value is not None else ""
            if key in names:
                block |= names[key]
            else:
                b.problem(item.line, f"unknown conformance bit {describe_node(item)}{did_you_mean(key, names)}; "
                          f"expected one of {', '.join(names)}", owner=owner)
        return int(block)
    b.problem(node.line, f"expected conformance as a list of names or a 24-bit number, found {describe_node(node)}",
              owner=owner)
    return 0


def _apply_overrides(b: "Builder", book: RightsBook, obj: ObjectSpec, access: YMap, drafts: list[_Draft]) -> None:
    where = {"obis": str(obj.logical_name), "class_name": obj.cls.name}
    names = [d.label for d in drafts if d.label] + [str(d.client_sap) for d in drafts]
    for key, (kline, node) in access.entries.items():
        draft = next((d for d in drafts if d.label == key or key.isdigit() and d.client_sap == int(key)), None)
        if draft is None:
            b.problem(kline, f"access: no association {key!r}{did_you_mean(key, names)}; associations are "
                      f"{', '.join(names) or 'none'}", **where)
            continue
        try:
            rights = _override(book, obj.cls, draft, node)
        except Invalid as exc:
            b.invalid(exc, attribute=None, **where)
            continue
        if rights is None:
            draft.rights.pop(obj.index, None)
        else:
            draft.rights[obj.index] = rights


def _override(book: RightsBook, cls: InterfaceClass, draft: _Draft, node: YNode) -> ObjectRights | None:
    if isinstance(node, YScalar):
        if node.value is False or node.value is None or _norm(node.text) in ("none", "no-access", "hidden"):
            return None
        return book.of_role(role_named(node), cls)
    if not isinstance(node, YMap):
        raise Invalid(f"expected none, a role or {{role, attributes, methods}}, found {describe_node(node)}",
                      node.line)
    for key, (kline, _) in node.entries.items():
        if key not in ("role", "attributes", "methods"):
            raise Invalid(f"unknown key {key!r}{did_you_mean(key, ['role', 'attributes', 'methods'])} in access",
                          kline)
    role_node = node.get("role")
    role = role_named(role_node) if role_node is not None else draft.role
    return book.override(book.of_role(role, cls), cls, node)


def _span(cls: InterfaceClass) -> int:
    """How many short names an object of this class takes (attributes, then methods)."""
    end = 8 * max(a.index for a in cls.attributes)
    if cls.methods and cls.sn_method_offset is not None:
        end = max(end, cls.sn_method_offset + 8 * max(m.index for m in cls.methods))
    return end


def _short_names(b: "Builder", device: LogicalDeviceSpec, assign: bool) -> list[ObjectSpec]:
    """Check declared short names for overlaps; with an SN association, number the others."""
    objects = list(device.objects)
    declared = sorted((o for o in objects if o.short_name is not None), key=lambda o: o.short_name or 0)
    for prev, cur in zip(declared, declared[1:]):
        if (cur.short_name or 0) < (prev.short_name or 0) + _span(prev.cls):
            b.problem(cur.location.line if cur.location else 1,
                      f"short name 0x{cur.short_name:04X} overlaps {prev.logical_name} at 0x{prev.short_name:04X} "
                      f"(which takes 0x{_span(prev.cls):X} names)", obis=str(cur.logical_name), class_name=cur.cls.name)
    if not assign:
        return objects
    taken = [(o.short_name or 0, (o.short_name or 0) + _span(o.cls)) for o in declared]
    base = _AUTO_SHORT_NAME_START
    for i, obj in enumerate(objects):
        if obj.short_name is not None:
            continue
        span = _span(obj.cls)
        while any(lo < base + span and base < hi for lo, hi in taken):
            base = max(hi for lo, hi in taken if lo < base + span and base < hi)
        if base + span > 0x10000:
            b.problem(obj.location.line if obj.location else 1, "no short names left for this object",
                      obis=str(obj.logical_name), class_name=obj.cls.name)
            continue
        objects[i] = replace(obj, short_name=base)
        taken.append((base, base + span))
        base += span
    return objects
