"""The validated, immutable form of an object model, shared by every meter of that type.

A meter type is parsed once (simulator/model/loader.py) into a `MeterModel`; a meter keeps
only what differs from it (simulator/server/objects.py). Values the model fixes are stored as
`Data` and, for static attributes, pre-encoded once so a GET of them copies bytes.

Per-meter fields (serial number, logical device name, system title, keys, passwords) are
`Template`s: format strings the fleet profile fills per meter index.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from enum import IntEnum

from ..apdu.acse import ApplicationContextName, MechanismName
from ..axdr import Data, DataType, Obis
from ..cosem.base import AttributeAccess, InterfaceClass, MethodAccess
from ..living.meter import LivingModel
from ..security.lockout import LockoutPolicy
from .errors import UNFILLABLE

__all__ = [
    "TemplateError",
    "SourceLocation", "Template", "ObjectSpec", "ObjectRights", "AssociationSpec", "LockoutPolicy", "SecurityPolicy",
    "LogicalDeviceSpec", "MeterModel", "PUSH_TRIGGERS",
]

# What may push a Push setup by itself (ObjectSpec.push_on) or through its method (action, script).
PUSH_TRIGGERS = ("action", "script", "schedule", "alarm", "power_up", "installation", "control")


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a model element was written, for error messages: file and 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class TemplateError(ValueError):
    """A per-meter value that cannot become its Data type; the message never holds the value."""


@dataclass(frozen=True, slots=True)
class Template:
    """A per-meter value: a str.format template over the fleet profile's fields.

    `kind` is the Data type the filled text becomes: visible-string, octet-string (text as
    ASCII) or octet-string-hex (text is hex digits).
    """

    text: str
    kind: str = "visible-string"
    # The model's values for fields a fleet profile may leave out (demo password, keys).
    defaults: tuple[tuple[str, object], ...] = ()

    def render(self, fields: dict[str, object]) -> Data:
        if self.defaults:
            fields = {**dict(self.defaults), **fields}
        try:
            text = self.text.format(**fields)
        except KeyError as exc:
            raise TemplateError(f"no profile field {{{exc.args[0]}}}") from None
        except (IndexError, AttributeError, ValueError):
            raise TemplateError(UNFILLABLE) from None
        if self.kind == "octet-string-hex":
            try:
                return Data(DataType.OCTET_STRING, bytes.fromhex(text))
            except ValueError:  # never the text itself in the message: it may be a key
                digits = sum(c in string.hexdigits for c in text)
                raise TemplateError(f"expected hex digits, two per octet (a 16-octet key is 32 digits); "
                                    f"found {len(text)} characters, {digits} of them hex digits") from None
        if self.kind == "octet-string":
            return Data(DataType.OCTET_STRING, text.encode("latin-1"))
        return Data(DataType.VISIBLE_STRING, text)


class SecurityPolicy(IntEnum):
    """Security setup security_policy (version 1 bits, simplified to the common levels)."""

    NONE = 0
    AUTHENTICATED = 1
    ENCRYPTED = 2
    AUTHENTICATED_ENCRYPTED = 3


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """One COSEM object of a logical device as the model declares it.

    `values[i]` is the model's value of attribute i+1 (None: the class's getter or default
    decides), `encoded[i]` its A-XDR bytes when the attribute is static, `templates` the
    attributes filled per meter.
    """

    index: int
    cls: InterfaceClass
    logical_name: Obis
    values: tuple[Data | None, ...]
    encoded: tuple[bytes | None, ...]
    templates: tuple[tuple[int, Template], ...] = ()
    short_name: int | None = None
    location: SourceLocation | None = None
    label: str = ""
    # Per-meter secrets that are no attribute, by name: a Security setup's keys
    # (global_unicast_encryption_key, global_broadcast_encryption_key, authentication_key,
    # master_key), as hex templates.
    secrets: tuple[tuple[str, Template], ...] = ()
    # Push setup only: the triggers (PUSH_TRIGGERS) that push it by
    # themselves besides its own method, e.g. alarm, power_up, installation.
    push_on: frozenset[str] = frozenset()

    def describe(self) -> str:
        return f"{self.cls.name} {self.logical_name}"

    def secret(self, name: str) -> Template | None:
        return next((t for n, t in self.secrets if n == name), None)


@dataclass(frozen=True, slots=True)
class ObjectRights:
    """Access rights of one association to one object; indices are attribute/method numbers."""

    attributes: tuple[AttributeAccess, ...]
    methods: tuple[MethodAccess, ...]

    def attribute(self, index: int) -> AttributeAccess:
        return self.attributes[index - 1] if 0 < index <= len(self.attributes) else AttributeAccess.NO_ACCESS

    def method(self, index: int) -> MethodAccess:
        return self.methods[index - 1] if 0 < index <= len(self.methods) else MethodAccess.NO_ACCESS


@dataclass(frozen=True, slots=True)
class AssociationSpec:
    """One client SAP's association with a logical device, as the model declares it."""

    client_sap: int
    context: ApplicationContextName
    mechanism: MechanismName
    security_policy: SecurityPolicy = SecurityPolicy.NONE
    secret: Template | None = None  # LLS password or HLS secret, filled per meter
    association_object: int | None = None  # index of its Association LN/SN object
    security_setup_object: int | None = None
    rights: dict[int, ObjectRights] = field(default_factory=dict)  # object index -> rights
    pre_established: bool = False
    conformance: int = 0  # the server's conformance block offered to this client
    max_receive_pdu_size: int = 1024
    label: str = ""
    location: SourceLocation | None = None
    lockout: LockoutPolicy | None = LockoutPolicy()  # None: no defence against guessing
    # Data derived once from this spec and shared by every meter (the object_list of its
    # Association object); filled lazily by simulator/cosem/association.py. Not an init field:
    # a spec made from another with dataclasses.replace (other rights) starts with its own.
    cache: dict[object, object] = field(default_factory=dict, compare=False, repr=False, init=False)

    def visible(self, object_index: int) -> bool:
        return object_index in self.rights


@dataclass(frozen=True, slots=True)
class LogicalDeviceSpec:
    """A logical device: its server SAP, objects and associations."""

    server_sap: int
    name: Template
    objects: tuple[ObjectSpec, ...]
    associations: dict[int, AssociationSpec]
    by_logical_name: dict[bytes, int]
    by_short_name: dict[int, int] = field(default_factory=dict)
    location: SourceLocation | None = None

    def find(self, logical_name: bytes) -> ObjectSpec | None:
        i = self.by_logical_name.get(logical_name)
        return None if i is None else self.objects[i]


@dataclass(frozen=True, slots=True)
class MeterModel:
    """A meter type: its logical devices, parsed once and shared by all meters of the type."""

    name: str
    file: str
    description: str
    logical_devices: dict[int, LogicalDeviceSpec]
    manufacturer: str = "SIM"
    living: LivingModel | None = None  # load and events (the model's `living:`); None: values stand still
