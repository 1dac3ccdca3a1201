"""`cosem-sim listen`: a push receiver for training labs and rigs.

It stands where a head-end's push port stands: a TCP server (wrapper or HDLC, told apart by the
first octet of each connection) and optionally a UDP endpoint (wrapper). Each notification is
printed decoded (simulator/decode/push.py), one block of text or one JSON object per line, and
the values are named with their OBIS codes from the push object lists of the models given
(default: every shipped model). Keys are never printed. SIGINT or SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterable
from typing import TextIO

from ..axdr import Data, DataType, Obis
from ..decode.command import option_bytes
from ..decode.push import (
    Event, NotificationReceived, PushedAttribute, PushLabels, PushObjectList, PushReceiver, ReceiveProblem,
)
from ..decode.tree import Decoded
from ..model.catalogue import find_model, list_models
from ..model.errors import ModelError
from ..model.loader import load_model
from ..model.spec import MeterModel, ObjectSpec
from ..security import CipherKeys
from ..server.objects import PUSH_SETUP_CLASS

__all__ = ["add_listen_arguments", "load_models", "push_labels", "Listener", "run_listen"]

log = logging.getLogger("simulator.listen")

DEFAULT_TCP_PORT = 4058


def add_listen_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tcp", type=int, default=DEFAULT_TCP_PORT, metavar="PORT",
                        help=f"TCP port for wrapper or HDLC pushes (default: {DEFAULT_TCP_PORT}; 0: any free port)")
    parser.add_argument("--udp", type=int, metavar="PORT", help="also a UDP port for wrapper pushes")
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    parser.add_argument("--ek", metavar="HEX", help="block cipher key (16 bytes) to open ciphered notifications")
    parser.add_argument("--ak", metavar="HEX", help="authentication key (16 bytes)")
    parser.add_argument("--model", action="append", metavar="NAME|PATH",
                        help="a model whose push object lists name the values (repeatable; default: every "
                             "shipped model)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of text")


def push_labels(models: Iterable[MeterModel]) -> dict[bytes, list[PushObjectList]]:
    """Every Push setup's push_object_list in `models`, by the Push setup's logical name."""
    labels: dict[bytes, list[PushObjectList]] = {}
    for model in models:
        for device in model.logical_devices.values():
            for obj in device.objects:
                if obj.cls.class_id != PUSH_SETUP_CLASS or len(obj.values) < 2:
                    continue
                entries = _entries(obj.values[1], device.find)
                if entries is not None:
                    labels.setdefault(bytes(obj.logical_name), []).append(
                        PushObjectList(model.name, obj.label or str(obj.logical_name), entries))
    return labels


def _entries(value: Data | None, find: Callable[[bytes], ObjectSpec | None]) -> tuple[PushedAttribute, ...] | None:
    """push_object_list's entries (v0 has 4 fields, v1/v2 6: the first 4 are the same)."""
    if value is None or value.type != DataType.ARRAY:
        return None
    out = []
    for item in value.value:
        fields: list[Data] = list(item.value) if item.type == DataType.STRUCTURE else []
        if len(fields) < 4 or fields[1].type != DataType.OCTET_STRING or len(fields[1].value) != 6:
            return None
        logical_name = bytes(fields[1].value)
        spec = find(logical_name)
        out.append(PushedAttribute(int(fields[0].value), Obis(logical_name), int(fields[2].value),
                                   int(fields[3].value), "" if spec is None else spec.label))
    return tuple(out)


def load_models(names: list[str] | None) -> list[MeterModel]:
    """The models asked for (an unknown or invalid one is an error), or every shipped model that
    validates (one that does not is skipped with a warning)."""
    if names:
        return [load_model(find_model(name)) for name in names]
    models = []
    for info in list_models():
        try:
            models.append(load_model(info.path))
        except ModelError as error:
            log.warning("model %s does not validate (%d problem(s)): its push object lists are not used",
                        info.path.name, len(error.problems))
    return models


class _Printer:
    """One block of text (or one JSON line) per notification, one line per problem."""

    def __init__(self, out: TextIO, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json

    def emit(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, NotificationReceived):
                node = event.notification.describe()
                if self.as_json:
                    self.out.write(json.dumps(node.to_python()) + "\n")
                else:
                    self.out.write(Decoded("push", 0, (node,)).to_text() + "\n\n")
            elif self.as_json:
                self.out.write(json.dumps({"kind": "problem", "transport": event.transport, "peer": event.peer,
                                           "message": event.message}) + "\n")
            else:
                self.out.write(f"{event.peer} ({event.transport}): {event.message}\n\n")
        if events:
            self.out.flush()


class _StreamPeer(asyncio.Protocol):
    def __init__(self, receiver: PushReceiver, printer: _Printer, open_peers: set[asyncio.Transport]) -> None:
        self.receiver = receiver
        self.printer = printer
        self.open_peers = open_peers
        self.peer = "?"
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.open_peers.add(transport)
        host, port = transport.get_extra_info("peername")[:2]
        self.peer = f"{host}:{port}"
        log.debug("%s: connection opened", self.peer)

    def data_received(self, data: bytes) -> None:
        events = self.receiver.stream_data(self.peer, data)
        self.printer.emit(events)
        if any(isinstance(e, ReceiveProblem) and e.fatal for e in events) and self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.open_peers.discard(self.transport)
        self.printer.emit(self.receiver.stream_closed(self.peer))
        log.debug("%s: connection closed%s", self.peer, f" ({exc})" if exc else "")


class _DatagramEndpoint(asyncio.DatagramProtocol):
    def __init__(self, receiver: PushReceiver, printer: _Printer) -> None:
        self.receiver = receiver
        self.printer = printer

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.printer.emit(self.receiver.datagram(f"{addr[0]}:{addr[1]}", data))


class Listener:
    """The TCP server and UDP endpoint around one PushReceiver."""

    def __init__(self, receiver: PushReceiver, out: TextIO, as_json: bool = False) -> None:
        self.receiver = receiver
        self._printer = _Printer(out, as_json)
        self._server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._peers: set[asyncio.Transport] = set()
        self.tcp_port: int | None = None
        self.udp_port: int | None = None

    async def start(self, host: str, tcp_port: int | None, udp_port: int | None = None) -> None:
        loop = asyncio.get_running_loop()
        if tcp_port is not None:
            self._server = await loop.create_server(lambda: _StreamPeer(self.receiver, self._printer, self._peers),
                                                    host, tcp_port)
            self.tcp_port = self._server.sockets[0].getsockname()[1]
        if udp_port is not None:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _DatagramEndpoint(self.receiver, self._printer), local_addr=(host, udp_port))
            self._udp = transport
            self.udp_port = transport.get_extra_info("sockname")[1]

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._server is not None:
            self._server.close()
            for transport in list(self._peers):
                transport.close()
            await self._server.wait_closed()


async def _serve(args: argparse.Namespace, receiver: PushReceiver, out: TextIO, err: TextIO) -> None:
    listener = Listener(receiver, out, args.json)
    await listener.start(args.host, args.tcp, args.udp)
    where = [f"tcp {args.host}:{listener.tcp_port}"]
    if listener.udp_port is not None:
        where.append(f"udp {args.host}:{listener.udp_port}")
    err.write(f"cosem-sim listen: receiving pushes on {', '.join(where)}\n")
    err.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await listener.close()
    err.write(f"cosem-sim listen: {receiver.received} notification(s) received, "
              f"{receiver.replays} with an invocation counter not above the last one\n")


def run_listen(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run a parsed `listen` command until SIGINT/SIGTERM: 0 stopped, 1 cannot listen, 2 bad usage."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        ek = option_bytes(args.ek, 16, "--ek")
        ak = option_bytes(args.ak, 16, "--ak")
        if (ek is None) != (ak is None):
            raise ValueError("--ek and --ak go together")
        labels: PushLabels = push_labels(load_models(args.model))
    except (ValueError, FileNotFoundError) as error:
        err.write(f"cosem-sim listen: {error}\n")
        return 2
    except ModelError as error:
        err.write("\n".join(error.lines()) + "\n")
        return 2
    keys = None if ek is None or ak is None else CipherKeys(ek, ak)
    try:
        asyncio.run(_serve(args, PushReceiver(keys, labels), out, err))
    except OSError as error:
        err.write(f"cosem-sim listen: cannot listen on {args.host}: {error.strerror or error}\n")
        return 1
    return 0
