"""Fleet profiles: which meters run, who they are, and where they listen (profiles/*.yaml).

    name: lab                         # default: the file name
    seed: 0                           # meters' random sources
    state_dir: state/lab              # invocation counters etc.; relative to this file
    time: {start: 2024-01-01T00:00:00Z, rate: 1.0, utc_offset_min: 60,   # default start: now
           history: 40d}              # meters were installed that long before start (s, m, h, d)
    x-keys: &keys {...}               # keys starting with x- are ignored: anchors for YAML merges
    control: {host: 127.0.0.1, port: 8059, token: s3cret}   # the HTTP control plane; port 0: any free
    limits: {max_connections: 1000, max_connections_per_meter: 4, max_buffered_bytes: 65536,
             tcp_inactivity_timeout_s: 300, udp_peer_timeout_s: 300, association_timeout_s: 30,
             max_hdlc_links_per_line: 16, max_pushes_in_flight: 1000, push_connections_per_s: 500}
    groups:
      - name: electricity
        model: idis-electricity       # a shipped model's name, or a path relative to this file
        count: 100
        manufacturer: SIM             # 3-letter FLAG id; default: the model's
        serial: "{number:08d}"                         # the defaults shown
        system_title: "{manufacturer_hex}{number:010X}"
        logical_device_name: "{manufacturer}{serial}"  # default: the model's template
        fields:                       # the model's per-meter fields (passwords, keys, ...)
          lls_password: "12345678"                     # shared by every meter
          ek: {derive: "lab secret", bytes: 16}        # per meter, see below
        listen:
          - {transport: tcp, host: 127.0.0.1, port: 4059, port_step: 2}
          - {transport: udp, addressing: address, host: 127.0.1.1, port: 4059}
          - {transport: hdlc-tcp, addressing: multidrop, port: 4060, physical_address: 17}
          - {transport: hdlc-serial, device: /dev/ttyUSB0, baud_rate: 9600}
        push: {destination: "127.0.0.1:4058", transport: tcp}   # where every Push setup sends
        # or per Push setup object: push: {0.0.25.9.0.255: {destination: "10.0.0.5:4058"}}

Every value a meter gets is a deterministic function of its position, so a head-end test can
compute it. Templates are Python str.format text over these fields, each available to the
ones after it: `index` (the meter's position in the fleet, from 0, groups in file order),
`group_index` (position in its group), `number` (index + 1), `group`, `manufacturer`,
`manufacturer_hex` (its 3 ASCII letters as 6 hex digits), then `serial`, `system_title`
(16 hex digits), `logical_device_name`, then `fields` in the order written.

`{derive: SEED, bytes: N}` gives a per-meter secret: the first N bytes (default 16) of
HMAC-SHA256(key = SEED as UTF-8, message = "<field name>/<serial>" as UTF-8), as upper-case
hex. In Python: `hmac.new(seed.encode(), f"{name}/{serial}".encode(), "sha256").hexdigest()[:2 * n].upper()`.

Listeners: `transport` tcp or udp (the IEC 62056-47 wrapper), hdlc-tcp or hdlc-serial (8N1 at
`baud_rate`). `addressing` says how a meter is found: `port` (meter i of the group listens on
port + i * port_step at host), `address` (meter i answers at host + i, e.g. 127.0.1.1,
127.0.1.2, ...; one socket bound to `bind`, the wildcard by default, serves them all), or
`multidrop` (HDLC only: the whole group on one line, told apart by HDLC physical address:
meter i answers physical_address + i). hdlc-serial is multidrop. By port or address each meter
has a line of its own, and every one answers physical_address.

`push` replaces the destination of the group's Push setup objects (send_destination_and_method,
as if a head-end had set it before the meter's first contact; the message type and the
client SAP stay the model's): `transport` tcp or udp (the wrapper) or hdlc (HDLC UI frames
over TCP), default tcp; a meter pushes from its own listener address. What a client SETs later
wins, as for any attribute.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import string
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..axdr import Obis
from ..errors import DecodeError
from ..model.catalogue import SHIPPED_DIR, shipped_dir
from ..model.errors import BRACES, UNFILLABLE, ModelError, Problem, did_you_mean
from ..model.loader import load_model, parse_document
from ..model.spec import MeterModel, Template, TemplateError
from ..model.yamlsource import YAMLProblem, YMap, YNode, YScalar, YSeq, describe_node, parse_yaml
from ..server.objects import PUSH_SETUP_CLASS

__all__ = [
    "TRANSPORTS", "ADDRESSING", "Limits", "TimeSettings", "FieldRule", "ListenerSpec", "GroupSpec",
    "FleetProfile", "ProfileError", "parse_profile", "load_profile", "demo_profile_path",
    "meter_fields", "derive_secret", "resolve_model", "is_profile_text", "PushOverride", "PUSH_TRANSPORTS",
    "ControlSettings",
]

TRANSPORTS = ("tcp", "udp", "hdlc-tcp", "hdlc-serial")
ADDRESSING = ("port", "address", "multidrop")
_TOP_KEYS = ("name", "description", "seed", "state_dir", "time", "limits", "control", "groups")
_CONTROL_KEYS = ("host", "port", "token")
_GROUP_KEYS = ("name", "model", "count", "manufacturer", "serial", "system_title", "logical_device_name",
               "fields", "listen", "push")
_LISTEN_KEYS = ("transport", "addressing", "host", "bind", "port", "port_step", "physical_address",
                "device", "baud_rate")
_TIME_KEYS = ("start", "rate", "utc_offset_min", "history")
_BASE_FIELDS = ("index", "group_index", "number", "group", "manufacturer", "manufacturer_hex")
_IDENTITY = ("serial", "system_title", "logical_device_name")
_DEFAULT_SERIAL = "{number:08d}"
_DEFAULT_SYSTEM_TITLE = "{manufacturer_hex}{number:010X}"
_FORMATTER = string.Formatter()
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_COUNT = 1_000_000
_PHYSICAL = (0x10, 0x3FFD)  # assignable HDLC lower addresses (IEC 62056-46)
PUSH_TRANSPORTS = ("tcp", "udp", "hdlc")
_PUSH_KEYS = ("destination", "transport")


@dataclass(frozen=True, slots=True)
class Limits:
    """Connection handling; a timeout of 0 disables it."""

    max_connections: int = 1000  # open TCP connections in the process
    max_connections_per_meter: int = 4  # TCP connections to one meter (wrapper) or one HDLC line
    max_buffered_bytes: int = 65536  # per connection: a request in, or answers not yet sent
    tcp_inactivity_timeout_s: float = 300.0
    udp_peer_timeout_s: float = 300.0  # a UDP client's association is dropped after this silence
    association_timeout_s: float = 30.0  # a TCP connection or UDP client not associated by then is dropped
    max_hdlc_links_per_line: int = 16  # HDLC links up at once on one TCP connection or serial line
    max_pushes_in_flight: int = 1000  # notifications being built, committed or sent at once
    push_connections_per_s: float = 500.0  # push connections (and UDP pushes) opened per second


@dataclass(frozen=True, slots=True)
class TimeSettings:
    """The meters' wall time: `start` (UTC epoch seconds; None: the real time at start) and a rate."""

    start: float | None = None
    rate: float = 1.0
    utc_offset_min: int = 0
    history_s: float = 0.0  # how long before `start` the meters were installed

    def installed(self, start: float) -> float:
        """When the meters' history begins: `history` before the fleet's start. With the start
        "now", at the local midnight before that, so runs on one day read the same history."""
        installed = start - self.history_s
        if self.start is None and self.history_s:
            day = 86400
            offset = self.utc_offset_min * 60
            installed = (installed + offset) // day * day - offset
        return installed


@dataclass(frozen=True, slots=True)
class FieldRule:
    """How one per-meter field is made: a str.format template, a constant, or a derivation."""

    name: str
    template: str | None = None
    constant: Any = None
    derive_seed: str | None = None
    derive_bytes: int = 16

    def value(self, fields: dict[str, Any]) -> Any:
        if self.derive_seed is not None:
            return derive_secret(self.derive_seed, self.name, str(fields["serial"]), self.derive_bytes)
        if self.template is not None:
            return self.template.format(**fields)
        return self.constant


@dataclass(frozen=True, slots=True)
class ListenerSpec:
    """One way a group's meters are reached; see the module docstring."""

    transport: str
    addressing: str
    host: str
    bind: str
    port: int
    port_step: int
    physical_address: int
    device: str | None = None
    baud_rate: int = 9600
    line: int = 0

    @property
    def is_hdlc(self) -> bool:
        return self.transport.startswith("hdlc")

    def physical(self, group_index: int) -> int:
        """The HDLC physical address meter `group_index` of the group answers here."""
        return self.physical_address + (group_index if self.addressing == "multidrop" else 0)


@dataclass(frozen=True, slots=True)
class PushOverride:
    """A group's `push:` destination, for one Push setup object (`obis`) or all of them (None)."""

    obis: str | None
    transport: str  # one of PUSH_TRANSPORTS
    host: str
    port: int
    line: int = 0

    @property
    def destination(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """Meters of one object model; `first_index` is the fleet index of its first meter."""

    name: str
    model: MeterModel
    count: int
    first_index: int
    manufacturer: str
    rules: tuple[FieldRule, ...]
    listeners: tuple[ListenerSpec, ...]
    line: int = 0
    push: tuple[PushOverride, ...] = ()  # destinations replaced by the profile


@dataclass(frozen=True, slots=True)
class ControlSettings:
    """Where the control plane (HTTP API, metrics, web UI) listens; port 0: any free port.
    With a token, every request must carry `Authorization: Bearer <token>`."""

    host: str = "127.0.0.1"
    port: int = 0
    token: str | None = field(default=None, repr=False)
    line: int = 0  # of the profile's `control:`


@dataclass(frozen=True, slots=True)
class FleetProfile:
    name: str
    file: str
    description: str
    groups: tuple[GroupSpec, ...]
    limits: Limits = Limits()
    time: TimeSettings = TimeSettings()
    seed: int = 0
    state_dir: Path | None = None
    control: ControlSettings | None = None  # the profile's `control:`; None: no control plane

    @property
    def size(self) -> int:
        return sum(g.count for g in self.groups)


class ProfileError(ModelError):
    """A profile that cannot be used; `problems` lists all of them, each with file and line."""


def derive_secret(seed: str, name: str, serial: str, size: int = 16) -> str:
    """A per-meter secret a head-end can recompute: see the module docstring."""
    digest = hmac.new(seed.encode("utf-8"), f"{name}/{serial}".encode("utf-8"), hashlib.sha256).digest()
    return digest[:size].hex().upper()


def meter_fields(group: GroupSpec, group_index: int, upto: str | None = None) -> dict[str, Any]:
    """The template fields of one meter: identity, then the group's fields in order (only up
    to the field named `upto`, e.g. "serial", when given: the secrets after it cost an HMAC each)."""
    index = group.first_index + group_index
    fields: dict[str, Any] = {
        "index": index, "group_index": group_index, "number": index + 1, "group": group.name,
        "manufacturer": group.manufacturer, "manufacturer_hex": group.manufacturer.encode("ascii").hex().upper(),
    }
    for rule in group.rules:
        fields[rule.name] = rule.value(fields)
        if rule.name == upto:
            break
    return fields


def demo_profile_path() -> Path:
    """The shipped demo profile, profiles/demo.yaml, packaged with the code."""
    return shipped_dir("profiles") / "demo.yaml"


def resolve_model(text: str, base: Path) -> Path:
    """A shipped model's name, or a path (has a slash or a .yaml suffix) relative to `base`."""
    if "/" in text or "\\" in text or text.endswith((".yaml", ".yml")):
        path = Path(text).expanduser()
        return path if path.is_absolute() else base / path
    return SHIPPED_DIR / f"{text}.yaml"


def is_profile_text(text: str) -> bool:
    """Whether a YAML file is a fleet profile (has `groups`) rather than an object model."""
    try:
        root, _ = parse_yaml(text)
    except YAMLProblem:
        return False
    return isinstance(root, YMap) and "groups" in root.entries and "logical_devices" not in root.entries


def load_profile(path: str | Path) -> FleetProfile:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError([Problem(str(p), 1, f"cannot read: {getattr(exc, 'strerror', None) or exc}")]) from None
    return parse_profile(text, str(p))


def parse_profile(text: str, file: str) -> FleetProfile:
    """Parse and check a profile; raises ProfileError listing every problem (models' included)."""
    reader = _Reader(file)
    return parse_document(text, file, reader, lambda root: reader.profile(root, Path(file).stem), ProfileError,
                          "profile")


class _Reader:
    """One profile file being read; collects problems instead of stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.base = Path(file).resolve().parent
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str, owner: str | None = None) -> None:
        self.problems.append(Problem(self.file, line, message, owner=owner))

    # ---------------------------------------------------------------- scalars
    def keys(self, node: YMap, allowed: Iterable[str], what: str, owner: str | None = None) -> None:
        allowed = tuple(allowed)
        for key, (line, _) in node.entries.items():
            if key not in allowed and not key.startswith("x-"):  # x-: YAML anchors only
                self.problem(line, f"unknown key {key!r} in {what}{did_you_mean(key, allowed)}; expected "
                             f"{', '.join(allowed)}", owner)

    def mapping(self, node: YNode | None, what: str, owner: str | None = None) -> YMap | None:
        if node is None or isinstance(node, YMap):
            return node
        self.problem(node.line, f"{what}: expected a mapping, found {describe_node(node)}", owner)
        return None

    def number(self, ymap: YMap, key: str, lo: float, hi: float, default: Any, owner: str | None = None,
               integer: bool = True) -> Any:
        node = ymap.get(key)
        if node is None:
            return default
        v = node.value if isinstance(node, YScalar) else None
        if (not isinstance(v, (int, float)) or isinstance(v, bool) or integer and not isinstance(v, int)
                or not lo <= v <= hi):
            kind = "an integer" if integer else "a number"
            self.problem(ymap.key_line(key), f"{key}: expected {kind} in {lo}..{hi}, found {describe_node(node)}",
                         owner)
            return default
        return v

    def text(self, ymap: YMap, key: str, default: str | None, owner: str | None = None) -> str | None:
        node = ymap.get(key)
        if node is None:
            return default
        if not isinstance(node, YScalar) or node.value is None or not isinstance(node.value, (str, int)):
            self.problem(ymap.key_line(key), f"{key}: expected text, found {describe_node(node)}", owner)
            return default
        return node.text

    # ---------------------------------------------------------------- profile
    def profile(self, root: YNode | None, default_name: str) -> FleetProfile | None:
        if not isinstance(root, YMap):
            self.problem(getattr(root, "line", 1), f"expected a fleet profile (a mapping with "
                         f"{', '.join(_TOP_KEYS)}), found {describe_node(root)}")
            return None
        self.keys(root, _TOP_KEYS, "the profile")
        name = self.text(root, "name", default_name) or default_name
        description = self.text(root, "description", "") or ""
        seed = self.number(root, "seed", 0, 2**63 - 1, 0)
        state = self.text(root, "state_dir", None)
        state_dir = None if state is None else (self.base / Path(state).expanduser())
        groups_node = root.get("groups")
        if groups_node is None:
            self.problem(root.line, "the profile needs 'groups' (a list of meter groups)")
        elif not isinstance(groups_node, YSeq) or not groups_node.items:
            self.problem(root.key_line("groups"), f"groups: expected a list of meter groups, found "
                         f"{describe_node(groups_node)}")
        groups: list[GroupSpec] = []
        names: dict[str, int] = {}
        first = 0
        for node in groups_node.items if isinstance(groups_node, YSeq) else ():
            group = self.group(node, first, len(groups))
            if group is None:
                continue
            if group.name in names:
                self.problem(group.line, f"group name {group.name!r} used twice (first at line {names[group.name]})")
            names[group.name] = group.line
            groups.append(group)
            first += group.count
        return FleetProfile(name, self.file, description, tuple(groups), self.limits(root.get("limits")),
                            self.time(root.get("time")), seed, state_dir, self.control(root.get("control")))

    def control(self, node: YNode | None) -> ControlSettings | None:
        ymap = self.mapping(node, "control")
        if ymap is None:
            return None
        self.keys(ymap, _CONTROL_KEYS, "control")
        host = self.text(ymap, "host", "127.0.0.1") or "127.0.0.1"
        try:
            ipaddress.ip_address(host)
        except ValueError:
            self.problem(ymap.key_line("host"), f"host: expected an IP address like 127.0.0.1, found {host!r}")
        token = self.text(ymap, "token", None)
        if token is not None and (not token or not token.isprintable() or " " in token):
            self.problem(ymap.key_line("token"), "token: expected printable text without spaces")
            token = None
        return ControlSettings(host, self.number(ymap, "port", 0, 65535, 0), token, ymap.line)

    def limits(self, node: YNode | None) -> Limits:
        ymap = self.mapping(node, "limits")
        if ymap is None:
            return Limits()
        d = Limits()
        self.keys(ymap, Limits.__dataclass_fields__, "limits")
        return Limits(
            self.number(ymap, "max_connections", 1, 1_000_000, d.max_connections),
            self.number(ymap, "max_connections_per_meter", 1, 1000, d.max_connections_per_meter),
            self.number(ymap, "max_buffered_bytes", 2048, 2**30, d.max_buffered_bytes),
            self.number(ymap, "tcp_inactivity_timeout_s", 0, 86400 * 365, d.tcp_inactivity_timeout_s, integer=False),
            self.number(ymap, "udp_peer_timeout_s", 0.001, 86400 * 365, d.udp_peer_timeout_s, integer=False),
            self.number(ymap, "association_timeout_s", 0, 86400 * 365, d.association_timeout_s, integer=False),
            self.number(ymap, "max_hdlc_links_per_line", 1, 16384, d.max_hdlc_links_per_line),
            self.number(ymap, "max_pushes_in_flight", 1, 1_000_000, d.max_pushes_in_flight),
            self.number(ymap, "push_connections_per_s", 0.001, 1_000_000, d.push_connections_per_s, integer=False),
        )

    def time(self, node: YNode | None) -> TimeSettings:
        ymap = self.mapping(node, "time")
        if ymap is None:
            return TimeSettings()
        self.keys(ymap, _TIME_KEYS, "time")
        start: float | None = None
        start_node = ymap.get("start")
        if start_node is not None and not (isinstance(start_node, YScalar) and start_node.text == "now"):
            text = start_node.text if isinstance(start_node, YScalar) else ""
            try:
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
                start = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
                if not 1970 <= when.year <= 8999:  # the years a meter's clock can be set to and run on
                    self.problem(ymap.key_line("start"), f"start: the year must be within 1970..8999, found {when.year}")
                    start = None
            except ValueError:
                self.problem(ymap.key_line("start"), f"start: expected 'now' or an ISO date-time like "
                             f"2024-01-01T00:00:00Z, found {describe_node(start_node)}")
        return TimeSettings(start, self.number(ymap, "rate", 0.001, 1_000_000, 1.0, integer=False),
                            self.number(ymap, "utc_offset_min", -840, 840, 0), self.duration(ymap, "history"))

    def duration(self, ymap: YMap, key: str) -> float:
        """A duration: seconds, or a number with s, m, h or d (40d: forty days)."""
        node = ymap.get(key)
        if node is None:
            return 0.0
        text = node.text.strip() if isinstance(node, YScalar) else ""
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", text)
        if match is None or float(match[1]) > 20 * 365:
            self.problem(ymap.key_line(key), f"{key}: expected a duration like 40d, 12h, 90m or 3600s "
                         f"(at most 20 years), found {describe_node(node)}")
            return 0.0
        seconds = float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
        if seconds > 20 * 365 * 86400:
            self.problem(ymap.key_line(key), f"{key}: at most 20 years of history")
            return 0.0
        return seconds

    # ---------------------------------------------------------------- groups
    def group(self, node: YNode, first_index: int, position: int) -> GroupSpec | None:
        ymap = self.mapping(node, f"group {position + 1}")
        if ymap is None:
            return None
        name = self.text(ymap, "name", None) or f"group{position + 1}"
        owner = f"group {name}"
        self.keys(ymap, _GROUP_KEYS, "a group", owner)
        count = self.number(ymap, "count", 1, _MAX_COUNT, 1, owner)
        model = self.model(ymap, owner)
        manufacturer = self.text(ymap, "manufacturer", None, owner)
        if manufacturer is None:
            manufacturer = model.manufacturer if model is not None else "SIM"
        elif not re.fullmatch(r"[A-Z]{3}", manufacturer):
            self.problem(ymap.key_line("manufacturer"), f"manufacturer: expected a 3-letter upper-case FLAG id "
                         f"like SIM, found {manufacturer!r}", owner)
            manufacturer = "SIM"
        rules = self.rules(ymap, owner)
        listeners = [lst for i, n in enumerate(self.listen_nodes(ymap, owner))
                     if (lst := self.listener(n, f"{owner} listener {i + 1}", count)) is not None]
        if model is None:
            return None
        push = self.push(ymap, model, owner)
        group = GroupSpec(name, model, count, first_index, manufacturer, tuple(rules), tuple(listeners), ymap.line,
                          push)
        self.check_fields(group, ymap, owner)
        return group

    def model(self, ymap: YMap, owner: str) -> MeterModel | None:
        text = self.text(ymap, "model", None, owner)
        if text is None:
            if "model" not in ymap.entries:
                self.problem(ymap.line, "a group needs 'model' (a shipped model's name or a path)", owner)
            return None
        path = resolve_model(text, self.base)
        if not path.exists():
            self.problem(ymap.key_line("model"), f"model {text!r}: no such shipped model or file ({path})", owner)
            return None
        try:
            return load_model(path)
        except ModelError as exc:
            self.problem(ymap.key_line("model"), f"model {text!r} has {len(exc.problems)} problem(s), each "
                         "listed with its own file and line", owner)
            self.problems.extend(exc.problems)
            return None

    def rules(self, ymap: YMap, owner: str) -> list[FieldRule]:
        rules = []
        for key, default in (("serial", _DEFAULT_SERIAL), ("system_title", _DEFAULT_SYSTEM_TITLE),
                             ("logical_device_name", None)):
            node = ymap.get(key)
            if node is None:
                if default is not None:
                    rules.append(FieldRule(key, template=default))
                continue
            rule = self.rule(key, node, ymap.key_line(key), owner)
            if rule is not None:
                rules.append(rule)
        fields = self.mapping(ymap.get("fields"), "fields", owner)
        for key, (line, node) in (fields.entries.items() if fields is not None else ()):
            if not _FIELD_NAME.fullmatch(key) or key in _BASE_FIELDS or key in _IDENTITY:
                self.problem(line, f"field {key!r}: expected a word other than {', '.join(_BASE_FIELDS + _IDENTITY)}"
                             " (set serial, system_title and logical_device_name on the group)", owner)
                continue
            rule = self.rule(key, node, line, owner)
            if rule is not None:
                rules.append(rule)
        return rules

    def rule(self, name: str, node: YNode, line: int, owner: str) -> FieldRule | None:
        if isinstance(node, YMap):
            self.keys(node, ("derive", "bytes"), f"field {name}", owner)
            seed = node.get("derive")
            if not isinstance(seed, YScalar) or seed.value is None:
                self.problem(line, f"field {name}: expected {{derive: SEED, bytes: N}}, found {describe_node(node)}",
                             owner)
                return None
            return FieldRule(name, derive_seed=seed.text, derive_bytes=self.number(node, "bytes", 1, 32, 16, owner))
        if not isinstance(node, YScalar) or node.value is None:
            self.problem(line, f"field {name}: expected text, a number or {{derive: SEED}}, found "
                         f"{describe_node(node)}", owner)
            return None
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            if node.text != str(node.value):  # 00001234 is octal 668; 0x1F, 1_000, 1:20 (base 60) likewise
                self.problem(line, f"field {name}: YAML reads this unquoted value as a number ({_number_trap(node.text)}"
                             "), not as the characters written; quote it to keep them (the value is not shown: "
                             "it may be a secret)", owner)
                return None
            return FieldRule(name, constant=node.value)
        try:
            has_fields = any(f is not None for _, f, _, _ in _FORMATTER.parse(node.text))
        except ValueError:
            self.problem(line, f"field {name}: bad template: {BRACES}", owner)
            return None
        return FieldRule(name, template=node.text) if has_fields else FieldRule(name, constant=node.text)

    @staticmethod
    def field_line(ymap: YMap, template: Template, line: int) -> int:
        """The line of the first profile field a model template uses (else `line`)."""
        fields = ymap.get("fields")
        if isinstance(fields, YMap):
            for name in _names(template.text):
                if name in fields.entries:
                    return fields.key_line(name)
        return line

    def check_fields(self, group: GroupSpec, ymap: YMap, owner: str) -> None:
        """Render the first and last meter's fields, and check what the model gets from them."""
        reported: set[str] = set()
        line = ymap.key_line("fields")
        for group_index in sorted({0, group.count - 1}):
            try:
                fields = meter_fields(group, group_index)
            except (KeyError, IndexError, ValueError, AttributeError) as exc:
                names = ", ".join(_BASE_FIELDS + tuple(r.name for r in group.rules))
                why = f"no field {{{exc.args[0]}}} before it" if isinstance(exc, KeyError) else UNFILLABLE
                self.problem(ymap.line, f"a template does not render for meter {group_index} of the group: "
                             f"{why} (fields, in order: {names})", owner)
                return
            title = str(fields["system_title"])
            if not re.fullmatch(r"[0-9A-Fa-f]{16}", title) and "system_title" not in reported:
                reported.add("system_title")
                self.problem(ymap.key_line("system_title"), f"system_title: expected 16 hex digits (8 octets, the "
                             f"first 3 the manufacturer id), meter {group_index} gets {title!r}", owner)
            ldn = fields.get("logical_device_name")
            if ldn is not None and not 0 < len(str(ldn).encode("latin-1", "replace")) <= 16 \
                    and "logical_device_name" not in reported:
                reported.add("logical_device_name")
                self.problem(ymap.key_line("logical_device_name"), "logical_device_name: expected 1..16 octets, "
                             f"meter {group_index} gets {len(str(ldn))}", owner)
            for what, template in _model_templates(group.model):
                if what in reported:
                    continue
                try:
                    value = template.render(fields).value
                except (KeyError, IndexError, ValueError, AttributeError) as exc:
                    reported.add(what)
                    why = str(exc) if isinstance(exc, TemplateError) else UNFILLABLE
                    self.problem(self.field_line(ymap, template, line), f"the model's {what} does not render for "
                                 f"meter {group_index}: {why}", owner)
                    continue
                if what.startswith("key ") and len(value) not in (16, 32):
                    reported.add(what)
                    self.problem(line, f"the model's {what} is {len(value)} octets for meter {group_index}, "
                                 "expected 16", owner)
        used = {name for _, t in _model_templates(group.model) for name in _names(t.text)}
        fields_node = ymap.get("fields")
        for rule in group.rules:
            if rule.name not in _IDENTITY and rule.name not in used and isinstance(fields_node, YMap):
                self.problem(fields_node.key_line(rule.name), f"field {rule.name!r}: model {group.model.name} uses "
                             f"no such field{did_you_mean(rule.name, used)}; its fields: "
                             f"{', '.join(sorted(used - set(_BASE_FIELDS + _IDENTITY))) or 'none'}", owner)


    # ---------------------------------------------------------------- push destinations
    def push(self, ymap: YMap, model: MeterModel, owner: str) -> tuple[PushOverride, ...]:
        """`push: {destination, transport}` for every Push setup, or keyed by a Push setup's OBIS."""
        node = self.mapping(ymap.get("push"), "push", owner)
        if node is None:
            return ()
        if not node.entries:
            self.problem(ymap.key_line("push"), "push: expected {destination: HOST:PORT, transport: tcp|udp|hdlc} "
                         "or such a mapping per Push setup OBIS code", owner)
            return ()
        setups = {bytes(spec.logical_name) for device in model.logical_devices.values() for spec in device.objects
                  if spec.cls.class_id == PUSH_SETUP_CLASS}
        if any(key in _PUSH_KEYS for key in node.entries):
            if not setups:
                self.problem(ymap.key_line("push"), f"push: model {model.name} has no Push setup object", owner)
                return ()
            found = self.push_destination(node, None, owner)
            return () if found is None else (found,)
        overrides = []
        for key, (line, value) in node.entries.items():
            if key.startswith("x-"):
                continue
            try:
                obis = Obis(key)
            except DecodeError as exc:
                self.problem(line, f"push: {exc}; expected destination and transport, or Push setup OBIS codes "
                             "as keys", owner)
                continue
            if bytes(obis) not in setups:
                names = ", ".join(sorted(str(Obis(s)) for s in setups)) or "none"
                self.problem(line, f"push: model {model.name} has no Push setup object {obis}; its Push setup "
                             f"objects: {names}", owner)
                continue
            setting = self.mapping(value, f"push {key}", owner)
            found = None if setting is None else self.push_destination(setting, str(obis), owner)
            if found is not None:
                overrides.append(found)
        return tuple(overrides)

    def push_destination(self, ymap: YMap, obis: str | None, owner: str) -> PushOverride | None:
        what = "push" if obis is None else f"push {obis}"
        self.keys(ymap, _PUSH_KEYS, what, owner)
        transport = self.text(ymap, "transport", "tcp", owner) or "tcp"
        if transport not in PUSH_TRANSPORTS:
            self.problem(ymap.key_line("transport"), f"{what}: transport: expected one of "
                         f"{', '.join(PUSH_TRANSPORTS)}, found {transport!r}{did_you_mean(transport, PUSH_TRANSPORTS)}",
                         owner)
            return None
        destination = self.text(ymap, "destination", None, owner)
        host, _, port = (destination or "").rpartition(":")
        if (not host or not host.isascii() or any(c.isspace() for c in host) or not port.isdigit()
                or not 0 < int(port) <= 65535):
            found = "nothing" if destination is None else repr(destination)
            self.problem(ymap.key_line("destination"), f"{what}: destination: expected HOST:PORT like "
                         f"127.0.0.1:4058, found {found}", owner)
            return None
        return PushOverride(obis, transport, host, int(port), ymap.line)

    # ---------------------------------------------------------------- listeners
    def listen_nodes(self, ymap: YMap, owner: str) -> list[YNode]:
        node = ymap.get("listen")
        if isinstance(node, YSeq) and node.items:
            return node.items
        self.problem(ymap.key_line("listen"), f"listen: expected a list of listeners (transport: "
                     f"{', '.join(TRANSPORTS)}), found {describe_node(node)}", owner)
        return []

    def listener(self, node: YNode, owner: str, count: int) -> ListenerSpec | None:
        ymap = self.mapping(node, "a listener", owner)
        if ymap is None:
            return None
        self.keys(ymap, _LISTEN_KEYS, "a listener", owner)
        transport = self.text(ymap, "transport", None, owner)
        if transport not in TRANSPORTS:
            found = "nothing" if transport is None else repr(transport)
            self.problem(ymap.key_line("transport"), f"transport: expected one of {', '.join(TRANSPORTS)}, found "
                         f"{found}{did_you_mean(transport or '', TRANSPORTS)}", owner)
            return None
        hdlc = transport.startswith("hdlc")
        serial = transport == "hdlc-serial"
        addressing = self.text(ymap, "addressing", "multidrop" if serial else "port", owner) or "port"
        allowed = ("multidrop",) if serial else ADDRESSING if hdlc else ADDRESSING[:2]
        if addressing not in allowed:
            self.problem(ymap.key_line("addressing"), f"addressing: {transport} allows {', '.join(allowed)}, "
                         f"found {addressing!r}", owner)
            return None
        host = self.text(ymap, "host", "127.0.0.1", owner) or "127.0.0.1"
        bind = self.text(ymap, "bind", "0.0.0.0" if addressing == "address" else host, owner) or host
        port = self.number(ymap, "port", 0, 65535, 4059, owner)
        step = self.number(ymap, "port_step", 1, 1000, 1, owner)
        physical = self.number(ymap, "physical_address", *_PHYSICAL, 17, owner)
        device = self.text(ymap, "device", None, owner)
        baud = self.number(ymap, "baud_rate", 50, 4_000_000, 9600, owner)
        line = ymap.line
        if addressing == "multidrop" and physical + count - 1 > _PHYSICAL[1]:
            self.problem(ymap.key_line("physical_address"), f"physical_address: {count} meters from {physical} "
                         f"pass the last assignable address {_PHYSICAL[1]}", owner)
        if serial:
            if device is None:
                self.problem(line, "hdlc-serial needs 'device' (e.g. /dev/ttyUSB0)", owner)
            return ListenerSpec(transport, addressing, host, bind, 0, 1, physical, device, baud, line)
        for key in ("device", "baud_rate"):
            if key in ymap.entries:
                self.problem(ymap.key_line(key), f"{key}: only an hdlc-serial listener has one", owner)
        if not transport.startswith("hdlc") and "physical_address" in ymap.entries:
            self.problem(ymap.key_line("physical_address"), f"physical_address: a {transport} listener has no "
                         "HDLC address", owner)
        if transport == "hdlc-tcp" and "port" not in ymap.entries:
            self.problem(line, "hdlc-tcp needs 'port' (HDLC over TCP has no standard port)", owner)
        for key, value in (("host", host), ("bind", bind)):
            try:
                ipaddress.IPv4Address(value)
            except ValueError:
                self.problem(ymap.key_line(key), f"{key}: expected an IPv4 address like 127.0.0.1, found {value!r}",
                             owner)
                return None
        if addressing == "port" and port and port + (count - 1) * step > 65535:
            self.problem(ymap.key_line("port"), f"port: {count} meters from port {port} step {step} pass 65535",
                         owner)
        if addressing == "address" and int(ipaddress.IPv4Address(host)) + count - 1 > 0xFFFFFFFE:
            self.problem(ymap.key_line("host"), f"host: {count} addresses from {host} pass 255.255.255.254", owner)
        return ListenerSpec(transport, addressing, host, bind, port, step, physical, None, baud, line)


def _number_trap(text: str) -> str:
    """Why YAML 1.1 read `text` as another number than its digits say."""
    body = text.lstrip("+-")
    if body[:2].lower() in ("0x", "0o", "0b"):
        return f"{body[:2]} is a base prefix"
    if ":" in body:
        return "digits separated by ':' are base 60"
    if body.startswith("0") and len(body) > 1:
        return "a leading 0 makes it octal"
    return "'_' and a sign are dropped"


def _names(text: str) -> set[str]:
    try:
        return {f.split(".")[0].split("[")[0] for _, f, _, _ in _FORMATTER.parse(text) if f}
    except ValueError:
        return set()


def _model_templates(model: MeterModel) -> Iterator[tuple[str, Template]]:
    """Every per-meter template of a model, named for messages."""
    for sap, device in model.logical_devices.items():
        yield f"logical device {sap} name", device.name
        for obj in device.objects:
            for index, template in obj.templates:
                yield f"{obj.describe()} attribute {index}", template
            for name, template in obj.secrets:
                yield f"key {name} of {obj.describe()}", template
        for client, assoc in device.associations.items():
            if assoc.secret is not None:
                yield f"association {client} secret", assoc.secret
