"""Password guessing: after N failed authentications a client SAP is locked out, longer each time,
and the right password is refused while locked (simulator/security/lockout.py). Time is `now`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulator.apdu.acse import AARE, AcseServiceUser, AssociationResult
from simulator.apdu.acse import MechanismName as Mech
from simulator.association import AssociationSession
from simulator.cosem.base import ActionFailure
from simulator.model.errors import ModelError
from simulator.model.loader import parse_model
from simulator.security.lockout import LockoutPolicy

from ..model.test_loader import CLOCK, HEADER, model_text
from .support import PASSWORD, session
from .test_session import aarq, gmac_aarq

WRONG = b"00000000"


def lls(s: AssociationSession, password: bytes, now: float) -> AARE:
    return AARE.from_bytes(s.handle_aarq(aarq(sender_acse_requirements=True, mechanism_name=Mech.LOW,
                                              calling_authentication_value=password), now))


def accepted(aare: AARE) -> bool:
    return aare.result == AssociationResult.ACCEPTED


def refused(aare: AARE) -> bool:  # what a wrong password gets: a lock looks the same to the client
    return (aare.result == AssociationResult.REJECTED_PERMANENT
            and aare.result_source_diagnostic == AcseServiceUser.AUTHENTICATION_FAILURE)


@pytest.fixture
def meter():
    from .support import build
    return build()


def test_three_wrong_passwords_lock_the_client_out_then_the_lock_grows(meter) -> None:
    m, d = meter
    s = session(m, d, 2)
    for now in (0.0, 1.0, 2.0):
        assert refused(lls(s, WRONG, now))
    assert "client locked out for 60 s" in (s.take_refusal() or "")
    assert refused(lls(s, PASSWORD.encode(), 3.0))  # the right password, refused while locked
    assert "locked out for 59 s more" in (s.take_refusal() or "")
    assert accepted(lls(s, PASSWORD.encode(), 62.5))
    state = m.state.lockouts[(1, 2)]
    assert state.total_failures == 3 and state.failures == 0 and state.lockouts == 0  # success resets

    for now in (100.0, 101.0, 102.0):  # locked again: 60 s, the count started over after a success
        lls(s, WRONG, now)
    assert refused(lls(s, PASSWORD.encode(), 161.0)) and accepted(lls(s, PASSWORD.encode(), 163.0))
    for now in (200.0, 201.0, 202.0):
        lls(s, WRONG, now)
    for now in (263.0, 264.0, 265.0):  # the lock ended without a success: the next lasts twice as long
        lls(s, WRONG, now)
    assert "locked out for 120 s (lock-out 2" in (s.take_refusal() or "")
    assert refused(lls(s, PASSWORD.encode(), 384.0)) and accepted(lls(s, PASSWORD.encode(), 385.5))
    assert m.state.lockouts[(1, 2)].total_failures == 12


def test_the_lock_never_exceeds_max_time(meter) -> None:
    m, d = meter
    spec = replace(d.associations[2], lockout=LockoutPolicy(failures=1, time_s=10, growth=10, max_time_s=50))
    s = AssociationSession(m, d, spec)
    now = 0.0
    for expected in (10, 50, 50):
        lls(s, WRONG, now)
        assert f"locked out for {expected} s" in (s.take_refusal() or "")
        now += expected + 0.5


def test_lockout_off_lets_every_guess_through(meter) -> None:
    m, d = meter
    s = AssociationSession(m, d, replace(d.associations[2], lockout=None))
    for i in range(10):
        assert refused(lls(s, WRONG, float(i)))
    assert accepted(lls(s, PASSWORD.encode(), 10.0))
    assert m.state.lockouts[(1, 2)].total_failures == 10


def test_failed_hls_pass_3_counts_too(meter) -> None:
    m, d = meter
    s = session(m, d, 1)
    for i in range(3):
        assert accepted(AARE.from_bytes(s.handle_aarq(gmac_aarq(ic=10 + i), float(i))))
        with pytest.raises(ActionFailure):
            s.reply_to_hls(bytes(17), float(i))
    assert "f(StoC) is wrong (pass 3)" in (s.take_refusal() or "")
    assert refused(AARE.from_bytes(s.handle_aarq(gmac_aarq(ic=20), 3.0)))
    assert m.state.lockouts[(1, 1)].lockouts == 1


def test_the_model_sets_or_disables_the_lockout_with_file_and_line() -> None:
    def model(lockout: str) -> str:
        return model_text(CLOCK, HEADER.replace("      - {client_sap: 16, name: public}\n",
                              "      - {client_sap: 16, name: public}\n"
                              f"      - {{client_sap: 2, authentication: lls, secret: x, lockout: {lockout}}}\n"))

    device = parse_model(model("{failures: 5, time_s: 30, growth: 3, max_time_s: 600}"), "m.yaml").logical_devices[1]
    assert device.associations[2].lockout == LockoutPolicy(5, 30, 3, 600)
    assert device.associations[16].lockout == LockoutPolicy()  # on by default
    assert parse_model(model("off"), "m.yaml").logical_devices[1].associations[2].lockout is None
    with pytest.raises(ModelError) as exc:
        parse_model(model("{failures: 0, time_s: 30, max_time_s: 10, grow: 2}"), "m.yaml")
    lines = exc.value.lines()
    line = next(i for i, text in enumerate(model("x").splitlines(), 1) if "lockout" in text)
    assert any(f"m.yaml:{line}" in p and "unknown key 'grow'" in p and "growth" in p for p in lines), lines
    assert any("failed authentications before a lock-out (1..1000)" in p for p in lines), lines
    assert any("max_time_s 10 is shorter than time_s 30" in p for p in lines), lines
