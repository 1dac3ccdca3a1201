"""Refusals over real sockets: the README's gurux-dlms snippet resumes its counter run after run,
every refused association or request is logged at INFO in words, and password guessing ends in
a lock-out that refuses the right password too (dlms-cosem as the guesser)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from dlms_cosem.client import DlmsClient
from dlms_cosem.security import LowLevelSecurityAuthentication
from gurux_dlms import GXDLMSException

from .harness import LLS_PASSWORD, RunningFleet
from .peers import CLOCK, GuruxPeer, SocketPipe, clock, gurux_client, wrapper_transport

README = Path(__file__).resolve().parents[2] / "README.md"
PROFILE = """
name: refusals
groups:
  - name: electricity
    model: idis_poly
    count: 1
    listen:
      - {transport: tcp, host: 127.0.0.1, port: 0}
"""


def _gurux_snippet(port: int) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Connecting with gurux-dlms"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    assert "port=4059" in code.group(1)
    return code.group(1).replace("port=4059", f"port={port}")


def _info(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)


def test_the_readme_gurux_snippet_works_run_after_run(tmp_path: Path) -> None:
    with RunningFleet(PROFILE, tmp_path, state_dir=None) as fleet:
        code = compile(_gurux_snippet(fleet.port("tcp")), str(README), "exec")
        for _ in range(2):  # the second run must not reuse the first one's counters
            exec(code, {})


def test_a_replayed_counter_is_logged_with_both_counters_and_the_title(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with RunningFleet(PROFILE, tmp_path, state_dir=None) as fleet:
        port = fleet.port("tcp")
        for attempt in range(2):  # gurux starting at 5 twice, as a head-end that does not resume
            peer = GuruxPeer(SocketPipe("127.0.0.1", port), gurux_client(1, invocation_counter=5))
            try:
                if attempt == 0:
                    peer.session_read((clock(), 2))
                else:
                    with pytest.raises(GXDLMSException):
                        peer.connect()
            finally:
                peer.pipe.close()
    logs = _info(caplog)
    title = b"GURUXCLT".hex().upper()
    assert re.search(rf"client 1: association refused \(rejected-permanent, no-reason-given\): the InitiateRequest "
                     rf"from system title {title} is refused: invocation counter 5 not greater than last accepted "
                     rf"\d+ from system title {title}", logs), logs


def test_guessing_the_password_locks_the_client_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with RunningFleet(PROFILE, tmp_path, state_dir=None) as fleet:
        port = fleet.port("tcp")

        def associate(password: bytes) -> None:
            client = DlmsClient(transport=wrapper_transport(port, 2), timeout=5,
                                authentication=LowLevelSecurityAuthentication(secret=password))
            with client.session() as session:
                session.get(CLOCK)

        for guess in (b"00000000", b"11111111", b"22222222"):
            with pytest.raises(Exception, match="(?i)reject|authentication|association"):
                associate(guess)
        with pytest.raises(Exception, match="(?i)reject|authentication|association"):
            associate(LLS_PASSWORD)  # the right one, while locked out
        meter = fleet.engine.fleet.live_meters[0]
        failures = fleet.call(lambda: meter.meter.state.lockouts[(1, 2)].total_failures)
    assert failures == 3
    logs = _info(caplog)
    assert logs.count("association refused (rejected-permanent, authentication-failure): wrong LLS password") == 3
    assert "client locked out for 60 s (lock-out 1, 3 failures in all)" in logs
    assert re.search(r"locked out for \d+ s more after 3 failed authentications \(lock-out 1\); "
                     r"the password was not checked", logs), logs
    for secret in (LLS_PASSWORD, b"00000000", b"11111111"):
        assert secret.decode() not in logs and secret.hex().upper() not in logs.upper()
