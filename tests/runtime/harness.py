"""A running fleet for blocking clients: the engine's loop in a background thread.

The independent clients (dlms-cosem, gurux-dlms) block on their sockets, so the engine runs on
its own event loop (uvloop when installed, as `cosem-sim run` uses) in a thread; `call` runs a
function on that loop to look at the meters without racing it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from simulator.runtime.engine import Engine
from simulator.runtime.layout import Endpoint
from simulator.runtime.profile import load_profile

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
    uvloop = None

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
LLS_PASSWORD = b"12345678"
SOCAT = shutil.which("socat")
NO_SOCAT = "socat is not installed (.ci/run installs it): no pseudo-terminal pair to test on"


class RunningFleet:
    """`with RunningFleet(profile_text, tmp_path) as fleet:` starts the engine, stops it at exit."""

    def __init__(self, profile_text: str, directory: Path, name: str = "fleet.yaml", **engine: Any) -> None:
        self.path = directory / name
        self.path.write_text(profile_text, encoding="utf-8")
        self.engine = Engine(load_profile(self.path), **engine)
        self.loop = uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RunningFleet:
        self._thread.start()
        try:
            self.run(self.engine.start())
        except BaseException:
            self._end_loop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.run(self.engine.stop())
        finally:
            self._end_loop()

    def _end_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    def run(self, coroutine: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the test thread
                future.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return future.result(timeout)

    def endpoint(self, transport: str, index: int | None = 0) -> Endpoint:
        """The endpoint of `transport` serving fleet meter `index` (None: the first of that transport)."""
        for endpoint in self.engine.endpoints:
            if endpoint.transport != transport:
                continue
            if index is None:
                return endpoint
            if any(entry.index == index for entry in endpoint.meters()):
                return endpoint
        raise LookupError(f"no {transport} endpoint for meter {index}")

    def port(self, transport: str, index: int | None = 0) -> int:
        return self.endpoint(transport, index).port


@contextlib.contextmanager
def pty_pair(directory: Path) -> Iterator[tuple[str, str]]:
    """A socat pseudo-terminal pair, (the meter's end, the client's end), ended at exit.

    Needs socat (`SOCAT`; callers skip with `NO_SOCAT` without it). The client's end ignores
    EOF: a client closing its end must not end the line, as unplugging a head-end does not.
    """
    assert SOCAT is not None, NO_SOCAT
    meter, client = directory / "meter-tty", directory / "client-tty"
    proc = subprocess.Popen([SOCAT, f"pty,raw,echo=0,link={meter}", f"pty,raw,echo=0,ignoreeof,link={client}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while not (meter.exists() and client.exists()):  # socat creates the links once it runs
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("socat did not create the pseudo-terminal pair")
            time.sleep(0.01)
        yield str(meter), str(client)
    finally:
        proc.terminate()
        proc.wait(5)
