"""The invocation-counter rule and the transmit counter."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import RemoteProtocolError
from simulator.security.counter import IC_MAX, InvocationCounters
from simulator.security.errors import InvocationCounterError, SecurityError, SecurityParameterError

CLIENT = bytes.fromhex("4D4D4D0000000001")
OTHER = bytes.fromhex("4D4D4D0000000002")


def test_first_counter_is_accepted_then_must_increase() -> None:
    counters = InvocationCounters()
    assert counters.last_received(CLIENT) is None
    counters.check_and_update(CLIENT, 5)
    assert counters.last_received(CLIENT) == 5
    for stale in (5, 4, 0):
        with pytest.raises(InvocationCounterError) as err:
            counters.check_and_update(CLIENT, stale)
        assert (err.value.received, err.value.last) == (stale, 5)
        assert isinstance(err.value, SecurityError) and isinstance(err.value, RemoteProtocolError)
    assert counters.last_received(CLIENT) == 5
    counters.check_and_update(CLIENT, 100)  # gaps are allowed
    assert counters.last_received(CLIENT) == 100


def test_first_counter_zero_is_accepted() -> None:
    counters = InvocationCounters()
    counters.check_and_update(CLIENT, 0)
    with pytest.raises(InvocationCounterError):
        counters.check_and_update(CLIENT, 0)


def test_senders_are_independent() -> None:
    counters = InvocationCounters()
    counters.check_and_update(CLIENT, 10)
    counters.check_and_update(OTHER, 3)
    with pytest.raises(InvocationCounterError):
        counters.check_and_update(OTHER, 3)
    counters.check_and_update(CLIENT, 11)


def test_maximum_counter_ends_the_key() -> None:
    counters = InvocationCounters()
    counters.check_and_update(CLIENT, IC_MAX)
    with pytest.raises(InvocationCounterError):
        counters.check_and_update(CLIENT, IC_MAX)
    with pytest.raises(SecurityParameterError):
        counters.check_and_update(CLIENT, IC_MAX + 1)


def test_transmit_counter() -> None:
    counters = InvocationCounters(transmit=7)
    assert [counters.next(), counters.next(), counters.next()] == [7, 8, 9]
    assert counters.transmit == 10


def test_transmit_counter_exhaustion() -> None:
    counters = InvocationCounters(transmit=IC_MAX)
    assert counters.next() == IC_MAX
    with pytest.raises(SecurityParameterError, match="exhausted"):
        counters.next()
    assert counters.transmit == IC_MAX + 1


def test_state_round_trips_through_json() -> None:
    counters = InvocationCounters(transmit=3)
    counters.check_and_update(CLIENT, 41)
    counters.check_and_update(OTHER, 2)
    state = counters.to_dict()
    assert state == {"transmit": 3, "received": {"4D4D4D0000000001": 41, "4D4D4D0000000002": 2}}
    restored = InvocationCounters.from_dict(json.loads(json.dumps(state)))
    assert restored.to_dict() == state
    with pytest.raises(InvocationCounterError):
        restored.check_and_update(CLIENT, 41)
    assert restored.next() == 3
    assert repr(restored) == "InvocationCounters(transmit=4, received=2 sender(s))"


@pytest.mark.parametrize("state", [
    {"transmit": -1},
    {"transmit": IC_MAX + 2},
    {"transmit": "1"},
    {"transmit": True},
    {"received": {"zz": 1}},
    {"received": {"4D4D4D0000000001": IC_MAX + 1}},
    {"received": {"4D4D4D0000000001": 1.5}},
    {"received": [1, 2]},
    {"transmit": 0, "recieved": {}},
])
def test_bad_state_is_rejected(state: dict) -> None:
    with pytest.raises(SecurityParameterError):
        InvocationCounters.from_dict(state)


def test_empty_state_means_fresh() -> None:
    assert InvocationCounters.from_dict({}).to_dict() == {"transmit": 0, "received": {}}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, IC_MAX), max_size=30))
def test_accepts_exactly_the_strictly_increasing_counters(sequence: list[int]) -> None:
    counters = InvocationCounters()
    last = None
    for ic in sequence:
        try:
            counters.check_and_update(CLIENT, ic)
        except InvocationCounterError:
            assert last is not None and ic <= last
        else:
            assert last is None or ic > last
            last = ic
    assert counters.last_received(CLIENT) == last
