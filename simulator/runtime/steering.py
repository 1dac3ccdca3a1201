"""Steering by destination address: one listening address, several processes, each meter's
connections and datagrams always to the process that serves it.

Meters reached by address (`addressing: address`) share one socket per transport, bound to
the wildcard: a connection's meter is the local address the client reached. To split such a
fleet over worker processes, the supervisor (runtime/workers.py) opens that socket once per
worker as one SO_REUSEPORT group, in worker order, and attaches a classic BPF program that
picks the group's socket for each incoming connection (TCP) or datagram (UDP): it loads the
packet's IPv4 destination address and computes the worker of the meter there.

Meters at consecutive addresses have consecutive fleet indexes, group by group, so the program
is one range test per run of such addresses (`address_runs`), then arithmetic: the fleet index
is the address minus the run's offset, and worker w of `workers` in host shard (base, stride)
serves index `base + stride * (w + workers * k)`: w = ((index - base) / stride) % workers.
An address in no run goes to a worker of the socket, which has no meter there and says so.

Linux only (SO_ATTACH_REUSEPORT_CBPF, kernel 4.5+), IPv4 (addresses are IPv4 in profiles).
"""

from __future__ import annotations

import ctypes
import socket
import struct
from dataclasses import dataclass
from typing import Iterable

from .layout import Endpoint
from .udp import IP_PKTINFO

__all__ = ["AddressRun", "Split", "address_runs", "steering_program", "open_group", "attach", "MAX_INSTRUCTIONS"]

SO_ATTACH_REUSEPORT_CBPF = 51  # linux/asm-generic/socket.h
MAX_INSTRUCTIONS = 4096  # BPF_MAXINSNS, linux/bpf_common.h
# Negative offsets of BPF_ABS loads reach the network header (linux/filter.h SKF_NET_OFF); the
# IPv4 destination address is at octet 16 of the IPv4 header (RFC 791).
_DESTINATION = -0x100000 + 16
# Opcodes of classic BPF (linux/bpf_common.h): class | size | mode or class | operation | source.
_LD_W_ABS = 0x00 | 0x00 | 0x20
_ALU_SUB_K = 0x04 | 0x10 | 0x00
_ALU_DIV_K = 0x04 | 0x30 | 0x00
_ALU_MOD_K = 0x04 | 0x90 | 0x00
_JMP_JGE_K = 0x05 | 0x30 | 0x00
_JMP_JGT_K = 0x05 | 0x20 | 0x00
_RET_A = 0x06 | 0x10
_RET_K = 0x06 | 0x00
_INSTRUCTION = struct.Struct("=HBBI")  # struct sock_filter: code, jt, jf, k
_PROGRAM = struct.Struct("@HP")  # struct sock_fprog: length, pointer to the instructions


@dataclass(frozen=True)
class AddressRun:
    """Consecutive IPv4 addresses (as ints) whose meters have consecutive fleet indexes:
    the meter at `address` has fleet index `address - offset`."""

    first: int
    last: int
    offset: int


@dataclass(frozen=True)
class Split:
    """Which worker serves a meter: worker w of `workers`, in a host that serves the fleet
    indexes `base` modulo `stride` (its --shard; 0 and 1 without), serves the indexes
    `base + stride * w` modulo `stride * workers`."""

    workers: int
    base: int = 0
    stride: int = 1

    def worker(self, index: int) -> int | None:
        """The worker of fleet index `index`; None when the host does not serve it."""
        if index % self.stride != self.base:
            return None
        return (index - self.base) // self.stride % self.workers


def address_runs(endpoint: Endpoint) -> list[AddressRun]:
    """The runs of an address-addressed endpoint, from the lowest fleet index at each address
    (meters sharing an address must be one worker's: layout.shard_endpoints refuses others)."""
    runs: list[AddressRun] = []
    for address in sorted(key for key in endpoint.routes if key is not None):
        offset = address - min(_indexes(endpoint.routes[address]))
        if runs and runs[-1].last == address - 1 and runs[-1].offset == offset:
            runs[-1] = AddressRun(runs[-1].first, address, offset)
        else:
            runs.append(AddressRun(address, address, offset))
    return runs


def _indexes(route: object) -> Iterable[int]:
    """The fleet indexes behind one route: a meter, (physical address, meter) or {physical: meter}."""
    if isinstance(route, tuple):
        return [route[1].index]
    if isinstance(route, dict):
        return [entry.index for entry in route.values()]
    return [route.index]  # type: ignore[attr-defined]


def steering_program(runs: list[AddressRun], split: Split, otherwise: int = 0) -> bytes:
    """The classic BPF program that returns the worker (the group's socket index) of the meter at
    a packet's destination address, as `sock_filter` instructions.

    For each run: `A >= first` else the next run; `A > last`: the next run; then
    A = ((A - offset - base) / stride) % workers, returned. After the last run: `otherwise` (a
    worker with meters on the socket, which says there is no meter at that address).
    Unsigned 32-bit arithmetic; for the host's own meters the difference is never negative.
    """
    body = [(_LD_W_ABS, 0, 0, _DESTINATION)]
    divide = [(_ALU_DIV_K, 0, 0, split.stride)] if split.stride > 1 else []
    size = 5 + len(divide)
    for run in runs:
        body += [(_JMP_JGE_K, 0, size - 1, run.first), (_JMP_JGT_K, size - 2, 0, run.last),
                 (_ALU_SUB_K, 0, 0, run.offset + split.base), *divide, (_ALU_MOD_K, 0, 0, split.workers),
                 (_RET_A, 0, 0, 0)]
    body.append((_RET_K, 0, 0, otherwise))
    if len(body) > MAX_INSTRUCTIONS:
        raise ValueError(f"{len(runs)} address ranges need {len(body)} BPF instructions, more than the "
                         f"kernel's {MAX_INSTRUCTIONS}")
    return b"".join(_INSTRUCTION.pack(code, jt, jf, k & 0xFFFFFFFF) for code, jt, jf, k in body)


def open_group(transport: str, host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """`count` sockets bound to (host, port) as one SO_REUSEPORT group, in order (port 0: the
    first one's port), listening when `transport` is a stream; UDP ones report each datagram's
    local address (IP_PKTINFO), as the engine's own do.

    A plain socket is bound first: a port already in use (by anything, even another group) is
    refused as binding it without workers would be, instead of joining that group.
    """
    stream = transport != "udp"
    kind = socket.SOCK_STREAM if stream else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as probe:
        if stream:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections in TIME_WAIT do not count
        probe.bind((host, port))
    group: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, kind)
            group.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if stream:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            else:
                sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            if stream:  # a TCP socket joins its group when it listens: in this order too
                sock.listen(backlog)
    except OSError:
        for sock in group:
            sock.close()
        raise
    return group


def attach(sock: socket.socket, program: bytes) -> None:
    """Attach `program` to the reuseport group of `sock` (OSError when the kernel refuses it)."""
    instructions = ctypes.create_string_buffer(program, len(program))
    fprog = _PROGRAM.pack(len(program) // _INSTRUCTION.size, ctypes.addressof(instructions))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog)
