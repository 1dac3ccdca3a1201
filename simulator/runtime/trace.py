"""`--trace`: every APDU a meter receives or sends, decoded in one readable line.

The line comes from simulator/decode.py, which shows authentication values and keys only as
lengths; ciphered APDUs show their security header (the trace has no keys to open them).
"""

from __future__ import annotations

import logging

from ..decode import Field, Node, decode
from ..errors import DecodeError

__all__ = ["TRACE_LOGGER", "summarize", "Tracer"]

TRACE_LOGGER = "simulator.trace"
_MAX_LINE = 400


def summarize(apdu: bytes) -> str:
    """One line: the APDU's kind, then its fields flattened; undecodable bytes say so."""
    try:
        decoded = decode(apdu)
    except DecodeError as error:
        return f"undecodable APDU of {len(apdu)} bytes ({error.reason} at byte {error.offset or 0})"
    line = "; ".join(_node(item) for item in decoded.items)
    return line if len(line) <= _MAX_LINE else line[:_MAX_LINE - 3] + "..."


def _node(node: Node) -> str:
    parts = [_field(f) for f in node.fields]
    inner = ", ".join(p for p in parts if p)
    head = f"{node.kind} {node.summary}".strip()
    return f"{head} ({inner})" if inner else head


def _field(f: Field) -> str:
    if isinstance(f.value, Node):
        return f"{f.name}: {_node(f.value)}"
    if isinstance(f.value, tuple):
        return f"{f.name}: [{', '.join(_field(x) for x in f.value)}]"
    text = str(f.value) if f.text is None else f.text
    return f"{f.name}: {text}" if text else ""


class Tracer:
    """Writes trace lines to the `simulator.trace` logger when enabled."""

    __slots__ = ("_log", "enabled")

    def __init__(self, enabled: bool) -> None:
        self._log = logging.getLogger(TRACE_LOGGER)
        self.enabled = enabled

    def apdu(self, meter: str, received: bool, client_sap: int, server_sap: int, apdu: bytes) -> None:
        if not self.enabled:
            return
        arrow = f"{client_sap}->{server_sap}" if received else f"{server_sap}->{client_sap}"
        self._log.info("%s %s %s %s", meter, "<<" if received else ">>", arrow, summarize(apdu))
