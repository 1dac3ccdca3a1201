"""A bug in what a living meter does by itself (its catch-up) never costs a client its answer."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from simulator.apdu.get import CosemAttributeDescriptor, GetRequestNormal, GetResponseNormal
from simulator.axdr import Data
from simulator.living.load import LoadModel
from simulator.living.meter import LivingModel
from simulator.server import meter as server_meter

from .support import CLOCK_LN, INVOKE, Meter


def test_a_failing_catch_up_is_logged_once_and_the_request_is_served(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    m = Meter()
    m.state.model = dataclasses.replace(m.state.model, living=LivingModel(load=LoadModel()))
    assert m.state.living is not None
    calls: list[int] = []

    def broken(*_: object) -> None:
        calls.append(1)
        raise ZeroDivisionError("a bug in a schedule")

    monkeypatch.setattr(server_meter, "catch_up", broken)
    m.associate()
    request = GetRequestNormal(INVOKE, CosemAttributeDescriptor(8, CLOCK_LN, 2)).to_bytes()
    with caplog.at_level(logging.ERROR):
        answers = [m.send(request) for _ in range(3)]
    assert len(calls) == 3
    for answer in answers:
        assert answer is not None
        assert isinstance(GetResponseNormal.from_bytes(answer).result, Data)
    assert len([r for r in caplog.records if "could not catch up" in r.getMessage()]) == 1
