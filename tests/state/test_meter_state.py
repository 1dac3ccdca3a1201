"""The typed per-meter state: what a mutation notes in the journal, what reading leaves alone,
and records that go to plain values and back."""

from __future__ import annotations

from datetime import datetime

import pytest

from simulator.axdr import Data, DataType
from simulator.security.errors import InvocationCounterError
from simulator.security.keywrap import KeyId
from simulator.state import (
    EFFECT_KINDS, ClockChanged, CounterChanged, EffectChanged, ImageTransfer, KeysChanged, LockoutChanged,
    MeterState, ObjectListEdits, ProfileRows, ScheduleRun, ScriptRun, SecretChanged, SecurityState, ValueChanged,
)

UNICAST = KeyId.GLOBAL_UNICAST_ENCRYPTION_KEY
TITLE = bytes.fromhex("4D4D4D0000BC614E")
EK, AK = bytes(range(16)), bytes(range(16, 32))


def test_reading_an_untouched_meter_creates_and_notes_nothing() -> None:
    state = MeterState()
    assert state.value(1, 3, 2) is None and state.security(1, 7) is None and state.secret(1, 2) is None
    assert state.effect(1, 4, ImageTransfer) is None and state.lockout(1, 16) is None
    assert not state.touched and not state.journal


def test_every_mutation_notes_what_changed() -> None:
    state = MeterState()
    state.set_value(1, 3, 2, Data(DataType.DOUBLE_LONG_UNSIGNED, 0x0BADCAFE))
    state.set_secret(1, 2, b"new password")
    state.change(1, 4, ImageTransfer).status = 1
    state.shift_clock(60.0)
    state.change_lockout(1, 16).failures += 1
    assert state.journal.take() == {ValueChanged(1, 3, 2), SecretChanged(1, 2), EffectChanged(1, 4, "image_transfer"),
                                    ClockChanged(), LockoutChanged(1, 16)}
    assert not state.journal  # taken


def test_counters_are_noted_per_title_and_ours_apart() -> None:
    state = MeterState()
    security = state.install_security(1, 7, lambda **where: SecurityState({UNICAST: EK, KeyId.AUTHENTICATION_KEY: AK},
                                                                          **where))
    assert not state.journal  # keys from the model are nothing to save
    security.accept(UNICAST, TITLE, 12)
    assert security.next_transmit(UNICAST) == 1
    assert state.journal.take() == {CounterChanged(1, 7, UNICAST, TITLE), CounterChanged(1, 7, UNICAST, None)}
    with pytest.raises(InvocationCounterError):
        security.accept(UNICAST, TITLE, 12)  # a replay changes nothing
    assert not state.journal


def test_a_committed_key_transfer_notes_the_keys_and_the_restarted_counters() -> None:
    state = MeterState()
    security = state.install_security(1, 7, lambda **where: SecurityState({UNICAST: EK}, **where))
    security.stage(UNICAST, AK)
    assert not state.journal  # staged: the response is not sealed yet
    security.commit()
    assert state.journal.take() == {KeysChanged(1, 7), CounterChanged(1, 7, UNICAST, None)}


def test_transient_guards_are_never_noted() -> None:
    state = MeterState()
    state.change(1, 9, ScriptRun).depth = 1
    state.forget(1, 9, ScriptRun)
    assert not state.journal


def test_security_record_round_trip_keeps_keys_and_counters() -> None:
    security = SecurityState({UNICAST: EK, KeyId.AUTHENTICATION_KEY: AK})
    security.accept(UNICAST, TITLE, 41)
    security.next_transmit(UNICAST)
    security.stage(UNICAST, AK)  # not acknowledged: not saved
    record = security.to_record()
    again = SecurityState.from_record(record)
    assert again.to_record() == record
    assert again.key(UNICAST) == EK and again.last_received(UNICAST, TITLE) == 41 and again.transmit(UNICAST) == 2
    assert EK.hex() not in repr(again).lower()


@pytest.mark.parametrize("effect", [
    ImageTransfer(6, b"FW2", 10, 4, {0: b"abcd", 2: b"ij"}, 1, b"FW1"),
    ProfileRows([Data(DataType.STRUCTURE, (Data(DataType.UNSIGNED, 1),))]),
    ObjectListEdits((Data(DataType.UNSIGNED, 7),), frozenset({(3, bytes(6))})),
    ScheduleRun(datetime(2024, 1, 31, 12, 0)),
])
def test_effect_records_round_trip(effect) -> None:
    record = effect.to_record()
    assert type(effect).from_record(record) == effect
    assert EFFECT_KINDS[effect.KIND] is type(effect)


def test_every_effect_kind_round_trips_from_its_default() -> None:
    for kind in EFFECT_KINDS.values():
        assert kind.from_record(kind().to_record()) == kind()
