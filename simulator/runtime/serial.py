"""HDLC over a serial port (a real device or a pseudo-terminal) with pyserial-asyncio, 8N1.

The port stays open for the whole run: it is a shared line, and the meters on it answer only
their own HDLC physical addresses (RS-485 multi-drop).
"""

from __future__ import annotations

import asyncio

from .hdlc_stream import HDLCStream
from .host import Host
from .layout import Endpoint

__all__ = ["open_serial"]


async def open_serial(host: Host, endpoint: Endpoint) -> HDLCStream:
    """Open the endpoint's device at its baud rate, 8 data bits, no parity, 1 stop bit."""
    try:
        import serial_asyncio
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise OSError(f"HDLC over serial needs pyserial-asyncio: {exc}") from None
    loop = asyncio.get_running_loop()
    _, protocol = await serial_asyncio.create_serial_connection(
        loop, lambda: HDLCStream(host, endpoint, serial=True), endpoint.device,
        baudrate=endpoint.baud_rate, bytesize=8, parity="N", stopbits=1)
    return protocol
