"""What every service handler works with: one request's environment and one association's
transfers in progress.

A `Request` is built per received APDU and thrown away; `Transfers` lives as long as the
association lives on its channel, because block transfers span several APDUs. Both are plain
data: the handlers in get.py, set.py, action.py and sn.py are functions over them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from ..apdu.common import CosemAttributeDescriptor, CosemMethodDescriptor, EncodedData, InvokeIdAndPriority
from ..apdu.initiate import Conformance
from ..axdr import Data
from ..model.spec import AssociationSpec, LogicalDeviceSpec, ObjectSpec
from .objects import Meter, ObjectHandle

if TYPE_CHECKING:
    from ..association.session import AssociationSession, Protection
    from .gbt import GbtTransfer

__all__ = ["Request", "Transfers", "Outgoing", "Incoming", "describe", "outcome"]

Logger = logging.Logger | logging.LoggerAdapter[Any]


@dataclass(slots=True)
class Request:
    """One request: who asks (the association), how it was protected, and the room the answer has.

    `limit` is the largest plaintext response APDU the client accepts once the response is
    protected like the request; None when general block transfer carries the answer, so no
    service-specific block transfer is needed.
    """

    meter: Meter
    device: LogicalDeviceSpec
    session: "AssociationSession"
    now: float
    protection: "Protection | None"
    conformance: Conformance
    limit: int | None
    log: Logger

    @property
    def association(self) -> AssociationSpec:
        return self.session.spec

    def allows(self, needed: Conformance) -> bool:
        return needed & self.conformance == needed

    def handle(self, obj: ObjectSpec) -> ObjectHandle:
        return ObjectHandle(self.meter, self.device, obj, self.now, self.session)

    @property
    def tracing(self) -> bool:
        """Whether trace lines are wanted: callers that build a line from a list check it first."""
        return self.log.isEnabledFor(logging.DEBUG)

    def trace(self, text: str, *args: object) -> None:
        """One readable DEBUG line per request (never key material: only names and results)."""
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("ld %d client %d " + text, self.device.server_sap, self.association.client_sap, *args)


@dataclass(slots=True)
class Outgoing:
    """A long answer served in blocks: the encoded payload and the last block sent (1-based)."""

    invoke: InvokeIdAndPriority
    payload: bytes
    chunk: int
    sent: int = 0
    block: int = 0

    def next_block(self) -> tuple[bytes, bool]:
        """The next slice and whether it is the last one."""
        piece = self.payload[self.sent:self.sent + self.chunk]
        self.sent += len(piece)
        self.block += 1
        return piece, self.sent >= len(self.payload)


@dataclass(slots=True)
class Incoming:
    """A long request received in blocks: what it targets and the bytes gathered so far."""

    target: Any
    listed: bool = False
    payload: bytearray = field(default_factory=bytearray)
    block: int = 0


@dataclass(slots=True)
class Transfers:
    """Block transfers in progress for one association on one channel (at most one of each)."""

    long_get: Outgoing | None = None
    long_set: Incoming | None = None
    action_in: Incoming | None = None
    action_out: Outgoing | None = None
    read_out: Outgoing | None = None
    sn_in: Incoming | None = None
    gbt: "GbtTransfer | None" = None

    def clear(self) -> None:
        self.long_get = self.long_set = self.action_in = self.action_out = None
        self.read_out = self.sn_in = self.gbt = None


def describe(d: CosemAttributeDescriptor | CosemMethodDescriptor) -> str:
    """`class/OBIS/member` for trace lines."""
    member = d.attribute_id if isinstance(d, CosemAttributeDescriptor) else d.method_id
    return f"{d.class_id}/{d.instance_id}/{member}"


def outcome(result: object) -> str:
    """A result for trace lines: the enum name as the standard writes it, or what data came back."""
    if isinstance(result, EncodedData):
        result = result.raw
    if isinstance(result, (bytes, bytearray)):
        return f"data ({len(result)} bytes)"
    if isinstance(result, Data):
        return f"data ({result.type.label})"
    if isinstance(result, Enum):
        return result.name.lower().replace("_", "-")
    return type(result).__name__
