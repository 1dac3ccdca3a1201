"""Sockets a process is handed already bound (COSEM_SIM_SOCKETS), instead of binding its own.

A supervisor (`run --workers`) binds each address-routed endpoint once per worker with
SO_REUSEPORT and steers each connection or datagram to the worker whose shard owns the meter at
its destination address; it keeps the sockets while workers restart, so nothing is refused
meanwhile. The variable holds a JSON list of {"transport": "tcp" | "udp" | "hdlc-tcp",
"host": "0.0.0.0", "port": 4059, "fd": 7}: the endpoint's transport, bind address and port
(after --host and --port-offset) and the descriptor, open in this process. Port 0 names an
endpoint whose profile asks for any free port: the socket's own port is the one chosen. A long
list comes in a file instead: the variable is then "@" and the file's path.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass

__all__ = ["InheritedSocket", "parse_inherited", "ENVIRONMENT"]

ENVIRONMENT = "COSEM_SIM_SOCKETS"
_KINDS = {"tcp": socket.SOCK_STREAM, "hdlc-tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM}


@dataclass(frozen=True, slots=True)
class InheritedSocket:
    transport: str
    host: str
    port: int
    fd: int

    @property
    def key(self) -> tuple[str, str, int]:
        """The endpoint it stands for (layout.Endpoint's transport, host, port)."""
        return self.transport, self.host, self.port

    def describe(self) -> str:
        return f"fd {self.fd} ({self.transport} {self.host}:{self.port})"

    def open(self) -> socket.socket:
        """The socket, checked to be what it claims (kind, bound address); OSError if not."""
        sock = socket.socket(fileno=self.fd)
        try:
            if sock.type != _KINDS[self.transport] or sock.family != socket.AF_INET:
                raise OSError(f"{self.describe()} is not an IPv4 {self.transport} socket")
            if sock.getsockname()[0] != self.host or self.port not in (0, sock.getsockname()[1]):
                raise OSError(f"{self.describe()} is bound to {sock.getsockname()[0]}:{sock.getsockname()[1]}")
        except BaseException:
            sock.detach()  # not ours to close: the supervisor's descriptor, or nothing
            raise
        return sock


def parse_inherited(text: str) -> list[InheritedSocket]:
    """The variable's JSON list (or that of the file "@PATH" names); ValueError saying what is wrong
    (one line)."""
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as file:
                text = file.read()
        except OSError as exc:
            raise ValueError(f"{ENVIRONMENT}: cannot read {text[1:]}: {exc.strerror or exc}") from None
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{ENVIRONMENT}: not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(items, list):
        raise ValueError(f"{ENVIRONMENT}: expected a JSON list of {{transport, host, port, fd}}")
    found = []
    for number, item in enumerate(items, 1):
        where = f"{ENVIRONMENT} item {number}"
        if not isinstance(item, dict) or set(item) != {"transport", "host", "port", "fd"}:
            raise ValueError(f"{where}: expected {{\"transport\", \"host\", \"port\", \"fd\"}}, found {item!r}")
        transport, host, port, fd = item["transport"], item["host"], item["port"], item["fd"]
        if transport not in _KINDS:
            raise ValueError(f"{where}: transport must be one of {', '.join(_KINDS)}, found {transport!r}")
        try:
            ipaddress.IPv4Address(host)
        except (ValueError, TypeError):
            raise ValueError(f"{where}: host must be an IPv4 address, found {host!r}") from None
        if not (isinstance(port, int) and 0 <= port <= 65535) or not (isinstance(fd, int) and fd >= 0):
            raise ValueError(f"{where}: port (0..65535) and fd must be integers, found {port!r} and {fd!r}")
        found.append(InheritedSocket(transport, host, port, fd))
    return found
