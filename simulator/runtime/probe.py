"""`cosem-sim probe`: is a meter answering? One public association over the TCP wrapper.

A container's health check asks the meter itself, not the process: connect, AARQ as the
public client (no authentication), expect an accepted AARE, release. Exit status 0 when the
association was accepted, 1 otherwise, with one line saying what happened.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from ..apdu.acse import AARE, AARQ, RLRQ, ApplicationContextName, AssociationResult
from ..apdu.initiate import Conformance, InitiateRequest
from ..errors import DLMSError
from ..link.wrapper import WrapperFrame, WrapperReader

__all__ = ["add_probe_arguments", "probe", "run_probe"]


def add_probe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="the meter's address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4059, help="its TCP wrapper port (default: 4059)")
    parser.add_argument("--client", type=int, default=16, help="the client SAP, one without authentication "
                                                               "(default: 16, the public client)")
    parser.add_argument("--server", type=int, default=1, help="the logical device (default: 1)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds for the whole probe (default: 5)")


def probe(host: str, port: int, client: int = 16, server: int = 1, timeout_s: float = 5.0) -> str:
    """Associate and release; the AARE's result in words. Raises OSError or DLMSError."""
    deadline = time.monotonic() + timeout_s
    initiate = InitiateRequest(proposed_conformance=Conformance.GET, client_max_receive_pdu_size=0xFFFF)
    aarq = AARQ(application_context_name=ApplicationContextName.LOGICAL_NAME, user_information=initiate.to_bytes())
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        reader = WrapperReader()

        def exchange(apdu: bytes) -> bytes:
            sock.sendall(WrapperFrame(client, server, apdu).to_bytes())
            while (frame := reader.next_frame()) is None:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("the meter closed the connection")
                reader.receive_data(data)
            return frame.apdu

        aare = AARE.from_bytes(exchange(aarq.to_bytes()))
        if aare.result != AssociationResult.ACCEPTED:
            return f"association refused: {aare.result.name.lower().replace('_', '-')}, " \
                   f"{aare.result_source_diagnostic.name.lower().replace('_', '-')}"
        exchange(RLRQ().to_bytes())
        return "association accepted"


def run_probe(args: argparse.Namespace) -> int:
    where = f"{args.host}:{args.port} client {args.client} -> logical device {args.server}"
    try:
        result = probe(args.host, args.port, args.client, args.server, args.timeout)
    except (OSError, DLMSError) as exc:
        sys.stdout.write(f"{where}: no answer: {getattr(exc, 'strerror', None) or str(exc) or type(exc).__name__}\n")
        return 1
    sys.stdout.write(f"{where}: {result}\n")
    return 0 if result == "association accepted" else 1
