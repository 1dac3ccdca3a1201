"""Object models: object_models/*.yaml parsed once into the immutable, shared `MeterModel`.

A model file, in brief (object_models/minimal.yaml is a complete example):

    name: minimal                      # default: the file name
    description: ...
    manufacturer: SIM                  # 3-letter FLAG id
    fields: {lls_password: "12345678"} # per-meter fields with the model's defaults
    x-energy: &energy {...}            # keys starting with x- are ignored: room for YAML anchors
    logical_devices:
      - server_sap: 1
        name: "{manufacturer}{serial}"  # logical device name template
        associations:
          - {client_sap: 16, name: public, authentication: none, role: public}
        objects:
          - class: Register            # class id or Blue Book name; version: latest declared
            obis: 1.0.1.8.0.255
            name: Active energy import (+A)
            attributes: {value: 0, scaler_unit: [0, Wh]}
            access: {public: none}     # per association: none, a role, or {attributes, methods}
          - class: Push setup
            obis: 0.0.25.9.0.255
            push_on: [alarm, power_up]  # what pushes it besides its own method: schedule, alarm,
                                        # power_up, installation, control (Push setup only)

Values are typed by the class declaration (simulator/model/values.py). Text holding {field} is
a per-meter template over the fleet profile's fields: `index`, `group_index`, `number` (ints),
`group`, `manufacturer`, `manufacturer_hex`, `serial`, `system_title` (16 hex digits),
`logical_device_name`, and whatever the model's `fields` declares (with its defaults).
Associations are described in simulator/model/associations.py, roles in rights.py.

Every problem is collected; `ModelError` lists them all, each with file, line, object and
attribute. A loaded model is cached by path and file stamp, so every meter of a type shares it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, TypeVar

from ..axdr import NULL, Data, Obis
from ..cosem.base import AttributeDef, InterfaceClass
from ..cosem.registry import all_classes, get_class
from ..cosem.types import OctetString
from ..errors import DLMSError
from .associations import build_associations
from .errors import ModelError, Problem, closest, did_you_mean
from ..living.meter import LivingModel
from .living import parse_living
from .references import check_references
from .spec import PUSH_TRIGGERS, LogicalDeviceSpec, MeterModel, ObjectSpec, SourceLocation, Template
from .values import Converter, Interner, Invalid
from .yamlsource import YAMLProblem, YMap, YNode, YScalar, YSeq, describe_node, parse_yaml

__all__ = ["load_model", "parse_model", "validate_paths", "class_id_named", "SAMPLE_FIELDS", "KEY_NAMES"]

# Fields every fleet profile provides (simulator/runtime/profile.py), with the sample values
# templates are checked against.
SAMPLE_FIELDS: dict[str, object] = {
    "index": 0, "group_index": 0, "number": 1, "group": "meters", "manufacturer_hex": "53494D",
    "serial": "00000001", "system_title": "53494D0000000001", "logical_device_name": "SIM00000001",
}
# Security setup keys (key_transfer key_id order), given per meter as hex templates.
KEY_NAMES = ("global_unicast_encryption_key", "global_broadcast_encryption_key", "authentication_key",
             "master_key")
LDN_OBIS = Obis("0.0.42.0.0.255")
_LDN_MAX = 16  # Blue Book: the logical device name is at most 16 octets
_TOP_KEYS = ("name", "description", "manufacturer", "fields", "logical_devices", "living")
_DEVICE_KEYS = ("server_sap", "name", "associations", "objects")
_OBJECT_KEYS = ("class", "version", "obis", "name", "attributes", "access", "short_name", "keys", "push_on")
_PUSH_SETUP_CLASS = 40
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CACHE: dict[str, tuple[tuple[int, int], MeterModel]] = {}


def _class_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def class_id_named(name: str) -> int | None:
    """A class id from its Blue Book name, ignoring case, spaces, '-' and '_' ("profile_generic")."""
    key = _class_key(name)
    return next((c.class_id for c in all_classes() if _class_key(c.name) == key), None)


class Builder:
    """One model file being read: collects problems instead of stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.interner = Interner()
        self.converter: Converter = Converter(self.interner, SAMPLE_FIELDS, {}, class_id_named)
        self.living: LivingModel | None = None
        # Per server SAP: the device's YAML and its objects' access overrides, for the association pass.
        self.pending: dict[int, tuple[YMap, list[tuple[int, YMap]]]] = {}

    # ---------------------------------------------------------------- problems
    def problem(self, line: int, message: str, **where: Any) -> None:
        self.problems.append(Problem(self.file, line, message, **where))

    def invalid(self, exc: Invalid, **where: Any) -> None:
        self.problem(exc.line, str(exc), **where)

    def check_keys(self, node: YMap, allowed: Iterable[str], what: str, required: Iterable[str] = (),
                   **where: Any) -> None:
        allowed = tuple(allowed)
        for key, (kline, _) in node.entries.items():
            if key not in allowed:
                self.problem(kline, f"unknown key {key!r} in {what}{did_you_mean(key, allowed)}; expected "
                             f"{', '.join(allowed)}", **where)
        for key in required:
            if key not in node.entries:
                self.problem(node.line, f"{what} needs {key!r}", **where)

    def mapping(self, node: YNode | None, what: str, **where: Any) -> YMap | None:
        if node is None:
            return None
        if isinstance(node, YMap):
            return node
        self.problem(node.line, f"expected {what} as a mapping, found {describe_node(node)}", **where)
        return None

    def sequence(self, node: YNode | None, what: str, **where: Any) -> list[YNode]:
        if node is None:
            return []
        if isinstance(node, YSeq):
            return node.items
        self.problem(node.line, f"expected {what} as a list, found {describe_node(node)}", **where)
        return []

    def integer(self, node: YNode | None, what: str, lo: int, hi: int, default: int, **where: Any) -> int:
        if node is None:
            return default
        if isinstance(node, YScalar) and isinstance(node.value, int) and not isinstance(node.value, bool) \
                and lo <= node.value <= hi:
            return node.value
        self.problem(node.line, f"expected {what} ({lo}..{hi}), found {describe_node(node)}", **where)
        return default

    def text(self, node: YNode | None, what: str, default: str, **where: Any) -> str:
        if node is None:
            return default
        if isinstance(node, YScalar) and node.value is not None:
            return node.text
        self.problem(node.line, f"expected {what} as text, found {describe_node(node)}", **where)
        return default

    # ---------------------------------------------------------------- the model
    def model(self, root: YNode | None, default_name: str) -> MeterModel | None:
        if not isinstance(root, YMap):
            self.problem(getattr(root, "line", 1), f"expected a model (a mapping with {', '.join(_TOP_KEYS)}), "
                         f"found {describe_node(root)}")
            return None
        # Keys starting with x- are free: a place for YAML anchors shared by several objects.
        self.check_keys(root, [*_TOP_KEYS, *(k for k in root.entries if k.startswith("x-"))], "the model",
                        ("logical_devices",))
        name = self.text(root.get("name"), "name", default_name)
        description = self.text(root.get("description"), "description", "")
        manufacturer = self.text(root.get("manufacturer"), "manufacturer", "SIM")
        if not re.fullmatch(r"[A-Z]{3}", manufacturer):
            self.problem(root.key_line("manufacturer"), f"expected a 3-letter upper-case manufacturer id (FLAG id),"
                         f" found {manufacturer!r}")
        defaults: dict[str, object] = {"manufacturer": manufacturer}
        defaults.update(self._fields(root.get("fields")))
        self.converter = Converter(self.interner, SAMPLE_FIELDS, defaults, class_id_named)
        self.living = parse_living(self, root.get("living"))  # before the objects: it decides what is pre-encoded
        devices: dict[int, LogicalDeviceSpec] = {}
        for node in self.sequence(root.get("logical_devices"), "logical_devices"):
            device = self._device(node)
            if device is None:
                continue
            if device.server_sap in devices:
                self.problem(node.line, f"logical device {device.server_sap} declared twice",
                             owner=f"logical device {device.server_sap}")
                continue
            devices[device.server_sap] = device
        if isinstance(root.get("logical_devices"), YSeq) and not devices and not self.problems:
            self.problem(root.key_line("logical_devices"), "a model needs at least one logical device")
        devices = {sap: build_associations(self, device, *self.pending[sap]) for sap, device in devices.items()}
        return MeterModel(name, self.file, description, devices, manufacturer, living=self.living)

    def _fields(self, node: YNode | None) -> dict[str, object]:
        out: dict[str, object] = {}
        ymap = self.mapping(node, "fields")
        if ymap is None:
            return out
        for key, (kline, value) in ymap.entries.items():
            if not _FIELD_NAME.fullmatch(key):
                self.problem(kline, f"field name {key!r} must be a word (letters, digits, _)")
            elif not isinstance(value, YScalar) or value.value is None:
                self.problem(kline, f"field {key!r}: expected a default value, found {describe_node(value)}")
            else:
                v = value.value  # a number stays one (for {index:05d}-like formats) unless digits would be lost
                is_number = isinstance(v, int) and not isinstance(v, bool) and str(v) == value.text
                out[key] = v if is_number else value.text
        return out

    # ---------------------------------------------------------------- logical devices
    def _device(self, node: YNode) -> LogicalDeviceSpec | None:
        ymap = self.mapping(node, "a logical device")
        if ymap is None:
            return None
        sap = self.integer(ymap.get("server_sap"), "a server SAP", 1, 0x3FFF, 1)
        owner = f"logical device {sap}"
        self.check_keys(ymap, _DEVICE_KEYS, "a logical device", ("objects",), owner=owner)
        name = self._device_name(ymap.get("name"), owner)
        objects: list[ObjectSpec] = []
        nodes: list[YNode] = []  # the YAML of each object, for the reference check
        pending_access: list[tuple[int, YMap]] = []
        by_ln: dict[bytes, int] = {}
        for onode in self.sequence(ymap.get("objects"), "objects", owner=owner):
            spec, access = self._object(onode, len(objects), owner)
            if spec is None:
                continue
            first = by_ln.get(bytes(spec.logical_name))
            if first is not None:
                loc = objects[first].location
                self.problem(onode.line, f"OBIS {spec.logical_name} declared twice (first at line "
                             f"{loc.line if loc else '?'})", obis=str(spec.logical_name), class_name=spec.cls.name)
                continue
            by_ln[bytes(spec.logical_name)] = spec.index
            objects.append(spec)
            nodes.append(onode)
            if access is not None:
                pending_access.append((spec.index, access))
        check_references(objects, nodes, sap, self.problem)
        objects = self._fill_ldn(objects, name)
        device = LogicalDeviceSpec(sap, name, tuple(objects), {}, by_ln,
                                   location=SourceLocation(self.file, ymap.line))
        self.pending.setdefault(sap, (ymap, pending_access))
        return device

    def _device_name(self, node: YNode | None, owner: str) -> Template:
        node = node if node is not None else YScalar("{manufacturer}{serial}", "{manufacturer}{serial}", 1, True)
        try:
            tpl = self.converter.template(node, OctetString()) or self.constant_template(node, OctetString())
        except Invalid as exc:
            self.invalid(exc, owner=owner)
            return Template("{manufacturer}{serial}", "octet-string", (("manufacturer", "SIM"),))
        sample = tpl.render(SAMPLE_FIELDS)
        if len(sample.value) > _LDN_MAX:
            self.problem(node.line, f"the logical device name is at most {_LDN_MAX} octets, "
                         f"{tpl.text!r} gives {len(sample.value)}", owner=owner)
        return tpl

    def constant_template(self, node: YNode, spec: OctetString) -> Template:
        """A Template for a value that may have no fields (a secret, a device name)."""
        if not isinstance(node, YScalar) or node.value is None:
            raise Invalid(f"expected text or hex, found {describe_node(node)}", node.line)
        fake = YScalar(node.text, node.text, node.line, True)
        data = self.converter.convert(fake, spec)
        text = data.value.hex() if node.text.strip().lower().startswith(("0x", "hex:")) else None
        if text is not None:
            return Template(text, "octet-string-hex")
        return Template(data.value.decode("latin-1").replace("{", "{{").replace("}", "}}"), "octet-string")

    def _fill_ldn(self, objects: list[ObjectSpec], name: Template) -> list[ObjectSpec]:
        """The logical device name object shows the device's name when the model gives it no value."""
        for i, spec in enumerate(objects):
            if spec.logical_name == LDN_OBIS and spec.cls.class_id == 1 and spec.values[1] is None \
                    and not spec.templates:
                objects[i] = ObjectSpec(spec.index, spec.cls, spec.logical_name, spec.values, spec.encoded,
                                        ((2, name),), spec.short_name, spec.location, spec.label, spec.secrets)
        return objects

    # ---------------------------------------------------------------- objects
    def _object(self, node: YNode, index: int, owner: str) -> tuple[ObjectSpec | None, YMap | None]:
        ymap = self.mapping(node, "an object", owner=owner)
        if ymap is None:
            return None, None
        obis_node = ymap.get("obis")
        obis: Obis | None = None
        obis_text = "?"
        if obis_node is None:
            self.problem(ymap.line, "an object needs 'obis'")
        elif isinstance(obis_node, YScalar) and obis_node.value is not None:
            obis_text = obis_node.text
            try:
                obis = Obis(obis_node.text)
                obis_text = str(obis)
            except DLMSError as exc:
                self.problem(obis_node.line, f"bad OBIS: {exc}", obis=obis_text)
        else:
            self.problem(obis_node.line, f"expected an OBIS code, found {describe_node(obis_node)}")
        cls = self._class(ymap, obis_text)
        where = {"obis": obis_text, "class_name": cls.name if cls else None}
        self.check_keys(ymap, _OBJECT_KEYS, "an object", ("class",), **where)
        if cls is None or obis is None:
            return None, None
        label = self.text(ymap.get("name"), "a name", "", **where)
        size = max(a.index for a in cls.attributes)
        values: list[Data | None] = [None] * size
        templates: list[tuple[int, Template]] = []
        given = self._attributes(ymap.get("attributes"), cls, values, templates, where)
        self._check_missing(cls, values, given, ymap.line, where)
        encoded = tuple(self._encode(cls.attribute(i + 1), v, bytes(obis), ymap.line, where)
                        for i, v in enumerate(values))
        short_name = None
        if ymap.get("short_name") is not None:
            short_name = self.integer(ymap.get("short_name"), "a short name (base_name)", 0, 0xFFF8, 0, **where)
            if short_name % 8:
                self.problem(ymap.key_line("short_name"), f"a short name is a multiple of 8, found 0x{short_name:04X}",
                             **where)
        secrets = self._keys(ymap, cls, values, where)
        access = self.mapping(ymap.get("access"), "access", **where)
        spec = ObjectSpec(index, cls, obis, self.interner.tuple(tuple(values)), self.interner.tuple(encoded),
                          tuple(templates), short_name, SourceLocation(self.file, ymap.line), label, secrets,
                          self._push_on(ymap, cls, where))
        return spec, access

    def _push_on(self, ymap: YMap, cls: InterfaceClass, where: dict[str, Any]) -> frozenset[str]:
        """`push_on: [alarm, ...]`: the triggers that push a Push setup by themselves."""
        node = ymap.get("push_on")
        if node is None:
            return frozenset()
        if cls.class_id != _PUSH_SETUP_CLASS:
            self.problem(ymap.key_line("push_on"), "only a Push setup (class 40) has push_on", **where)
            return frozenset()
        triggers = set()
        for item in self.sequence(node, "push_on triggers", **where):
            name = item.text if isinstance(item, YScalar) and isinstance(item.value, str) else None
            if name not in PUSH_TRIGGERS:
                shown = name if name is not None else describe_node(item)
                self.problem(item.line, f"unknown push trigger {shown!r}{did_you_mean(shown, PUSH_TRIGGERS)}; "
                             f"expected {', '.join(PUSH_TRIGGERS)}", **where)
                continue
            triggers.add(name)
        return frozenset(triggers)

    def _class(self, ymap: YMap, obis_text: str) -> InterfaceClass | None:
        node = ymap.get("class")
        if node is None:
            return None
        if not isinstance(node, YScalar) or node.value is None:
            self.problem(node.line, f"expected a class id or name, found {describe_node(node)}", obis=obis_text)
            return None
        v = node.value
        class_id = v if isinstance(v, int) and not isinstance(v, bool) else class_id_named(node.text)
        if class_id is None or get_class(class_id) is None:
            names = {_class_key(c.name): c.name for c in all_classes()}
            close = closest(_class_key(node.text), names)
            hint = f" (did you mean {names[close]!r}?)" if close else ""
            self.problem(node.line, f"unknown class {node.text!r}{hint}; `cosem-sim classes` lists the declared "
                         "classes", obis=obis_text)
            return None
        vnode = ymap.get("version")
        if vnode is None:
            return get_class(class_id)
        cls = get_class(class_id)
        versions = sorted(c.version for c in all_classes() if c.class_id == class_id)
        version = self.integer(vnode, "a class version", 0, 255, versions[-1], obis=obis_text)
        found = get_class(class_id, version)
        if found is None:
            self.problem(vnode.line, f"class {cls.name if cls else class_id} has no version {version}; declared: "
                         f"{', '.join(map(str, versions))}", obis=obis_text, class_name=cls.name if cls else None)
        return found

    def _attributes(self, node: YNode | None, cls: InterfaceClass, values: list[Data | None],
                    templates: list[tuple[int, Template]], where: dict[str, Any]) -> set[int]:
        given: set[int] = set()
        ymap = self.mapping(node, "attributes", **where)
        if ymap is None:
            return given
        names = [a.name for a in cls.attributes]
        for key, (kline, value) in ymap.entries.items():
            adef = cls.attribute(int(key)) if key.isdigit() else cls.attribute_named(key)
            if adef is None:
                self.problem(kline, f"the class has no attribute {key!r}{did_you_mean(key, names)}; its attributes "
                             f"are {', '.join(f'{a.index} {a.name}' for a in cls.attributes)}", **where)
                continue
            attr = f"{adef.index} {adef.name}"
            if adef.index == 1:
                self.problem(kline, "logical_name is the object's 'obis'", attribute=attr, **where)
                continue
            if adef.index in given:
                self.problem(kline, "given twice (by name and by index)", attribute=attr, **where)
                continue
            given.add(adef.index)
            try:
                tpl = self.converter.template(value, adef.type)
                if tpl is not None:
                    templates.append((adef.index, tpl))
                else:
                    values[adef.index - 1] = self.converter.convert(value, adef.type)
            except Invalid as exc:
                self.invalid(exc, attribute=attr, **where)
        return given

    def _check_missing(self, cls: InterfaceClass, values: list[Data | None], given: set[int], line: int,
                       where: dict[str, Any]) -> None:
        """An attribute nothing can answer (no value, getter or default) would read as a type error."""
        for adef in cls.attributes[1:]:
            if adef.index in given or adef.getter is not None or adef.default is not None:
                continue
            if not adef.type.accepts(NULL):
                self.problem(line, f"no value given and the class has no default; expected {adef.type.describe()}",
                             attribute=f"{adef.index} {adef.name}", **where)

    def _encode(self, adef: AttributeDef | None, value: Data | None, logical_name: bytes, line: int,
                where: dict[str, Any]) -> bytes | None:
        """The model's value pre-encoded, when it is what a GET answers: no getter computes it
        for this object (dynamic ones included: a register's value is the model's until this
        meter changes it, and a changed value is read from the meter's own state instead)."""
        if value is None or adef is None or (adef.computed(logical_name)
                                             and (self.living is not None or not adef.living_only)):
            return None
        try:
            return self.interner.encoded(value.to_bytes())
        except DLMSError as exc:
            self.problem(line, f"cannot encode: {exc}", attribute=f"{adef.index} {adef.name}", **where)
            return None

    def _keys(self, ymap: YMap, cls: InterfaceClass, values: list[Data | None],
              where: dict[str, Any]) -> tuple[tuple[str, Template], ...]:
        node = ymap.get("keys")
        if node is None:
            return ()
        if cls.class_id != 64:
            self.problem(ymap.key_line("keys"), "only a Security setup (class 64) holds keys", **where)
            return ()
        keys = self.mapping(node, "keys", **where)
        if keys is None:
            return ()
        suite_def = cls.attribute_named("security_suite")
        suite = values[suite_def.index - 1] if suite_def is not None else None
        size = 32 if suite is not None and suite.value == 2 else 16
        out = []
        for key, (kline, value) in keys.entries.items():
            if key not in KEY_NAMES:
                self.problem(kline, f"unknown key name {key!r}{did_you_mean(key, KEY_NAMES)}; expected "
                             f"{', '.join(KEY_NAMES)}", **where)
                continue
            try:
                out.append((key, self.converter.key_template(value, size)))
            except Invalid as exc:
                self.invalid(exc, attribute=f"key {key}", **where)
        return tuple(out)


class ProblemSink(Protocol):
    """What collects a document's problems while it is built (the model Builder, the profile reader)."""

    problems: list[Problem]

    def problem(self, line: int, message: str) -> None: ...


T = TypeVar("T")


def parse_document(text: str, file: str, sink: ProblemSink, build: Callable[[YNode | None], T | None],
                   error: type[ModelError], what: str) -> T:
    """Compose the YAML, let `build` make the result, and raise `error` listing every problem."""
    try:
        root, yaml_problems = parse_yaml(text)
    except YAMLProblem as exc:
        raise error([Problem(file, exc.line, exc.message)]) from None
    for p in yaml_problems:
        sink.problem(p.line, p.message)
    result = build(root)
    if sink.problems or result is None:
        raise error(sink.problems or [Problem(file, 1, f"empty {what}")])
    return result


def parse_model(text: str, file: str) -> MeterModel:
    """Parse and validate a model's text; raises ModelError listing every problem."""
    builder = Builder(file)
    return parse_document(text, file, builder, lambda root: builder.model(root, Path(file).stem), ModelError, "model")


def load_model(path: str | os.PathLike[str]) -> MeterModel:
    """The model of a file, parsed once and shared until the file changes."""
    p = Path(path)
    key = str(p.resolve())
    try:
        st = p.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError as exc:
        raise ModelError([Problem(str(p), 1, f"cannot read: {exc.strerror}")]) from None
    hit = _CACHE.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError([Problem(str(p), 1, f"cannot read: {exc}")]) from None
    model = parse_model(text, str(p))
    _CACHE[key] = (stamp, model)
    return model


def validate_paths(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """`cosem-sim validate`: one line per problem of every file, empty when all are valid."""
    lines: list[str] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            lines.append(f"{path}:1: cannot read: {getattr(exc, 'strerror', None) or exc}")
            continue
        try:
            parse_model(text, str(path))
        except ModelError as exc:
            lines.extend(exc.lines())
    return lines
