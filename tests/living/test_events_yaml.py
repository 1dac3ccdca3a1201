"""The model's `living: events:` section: what it says becomes the event rates, and every
mistake is reported with its line while the rest keeps its defaults."""

from __future__ import annotations

import pytest

from simulator.living.events import DEFAULT_EVENTS, NO_EVENTS, EventRate
from simulator.model.catalogue import SHIPPED_DIR
from simulator.model.errors import ModelError
from simulator.model.loader import parse_model
from simulator.model.living_events import parse_events
from simulator.model.yamlsource import YMap, parse_yaml


def _parse(text: str) -> tuple[object, list[tuple[int, str]]]:
    root, problems = parse_yaml(text)
    assert not problems and isinstance(root, YMap)
    found: list[tuple[int, str]] = []
    model = parse_events(root.get("events"), lambda line, message: found.append((line, message)))
    return model, found


def test_the_brief_s_example_sets_the_rates_it_names_and_keeps_the_other_defaults() -> None:
    model, problems = _parse(
        "events: {power_failure: {per_year: 1.5, mean_minutes: 8}, voltage_sag: {per_year: 12},\n"
        "         voltage_swell: {per_year: 4}, cover_open: {per_year: 0.2}, magnetic_field: {per_year: 0.1}}\n")
    assert problems == []
    assert model.power_failure == EventRate(1.5, 480.0, DEFAULT_EVENTS.power_failure.spread)
    assert model.voltage_sag.per_year == 12 and model.voltage_swell.per_year == 4
    assert model.cover_open.per_year == 0.2 and model.magnetic_field.per_year == 0.1
    assert model.cover_open.mean_s == DEFAULT_EVENTS.cover_open.mean_s
    assert model.terminal_cover_open == DEFAULT_EVENTS.terminal_cover_open


def test_no_section_gives_the_defaults_and_none_gives_no_events() -> None:
    assert _parse("name: x\n") == (DEFAULT_EVENTS, [])
    assert _parse("events: none\n") == (NO_EVENTS, [])
    assert _parse("events: off\n") == (NO_EVENTS, [])


def test_seconds_spread_and_phases() -> None:
    model, problems = _parse("events:\n  voltage_swell: {mean_seconds: 2, spread: 0}\n  phases: 1\n")
    assert problems == []
    assert model.voltage_swell == EventRate(DEFAULT_EVENTS.voltage_swell.per_year, 2.0, 0.0)
    assert model.phases == 1


def test_every_mistake_is_reported_with_its_line() -> None:
    model, problems = _parse(
        "events:\n"
        "  power_faliure: {per_year: 2}\n"           # line 2: a misspelt kind
        "  voltage_sag: {per_year: -1}\n"            # line 3: out of range
        "  voltage_swell: {per_yer: 3}\n"            # line 4: a misspelt key
        "  cover_open: {mean_minutes: 5, mean_seconds: 300}\n"  # line 5: both
        "  magnetic_field: 0.1\n"                    # line 6: not a mapping
        "  phases: 4\n")                             # line 7
    lines = {line: message for line, message in problems}
    assert sorted(lines) == [2, 3, 4, 5, 6, 7], problems
    assert "unknown kind 'power_faliure'" in lines[2] and "did you mean 'power_failure'" in lines[2]
    assert "voltage_sag per_year" in lines[3] and "0..10000" in lines[3] and "-1" in lines[3]
    assert "'per_yer'" in lines[4] and "did you mean 'per_year'" in lines[4]
    assert "not both" in lines[5]
    assert "magnetic_field" in lines[6] and "mapping" in lines[6]
    assert "phases" in lines[7]
    assert model == DEFAULT_EVENTS  # what was wrong kept its default


def test_a_section_that_is_not_a_mapping_is_reported() -> None:
    model, problems = _parse("events: [power_failure]\n")
    assert model == DEFAULT_EVENTS
    assert len(problems) == 1 and problems[0][0] == 1 and "expected a mapping of event kinds" in problems[0][1]


def test_a_model_s_event_mistakes_are_model_problems_with_file_and_line() -> None:
    """Through the model loader (what `cosem-sim validate` runs): the events section's problems
    name the model file and the line."""
    text = (SHIPPED_DIR / "minimal.yaml").read_text(encoding="utf-8")
    assert "\nliving:\n" in text
    bad = text.replace("\nliving:\n", "\nliving:\n  events:\n    voltage_sag: {per_year: 12, mean_minuts: 1}\n", 1)
    line = bad.splitlines().index("    voltage_sag: {per_year: 12, mean_minuts: 1}") + 1
    with pytest.raises(ModelError) as exc:
        parse_model(bad, "shop.yaml")
    assert [str(p) for p in exc.value.problems] == [
        f"shop.yaml:{line}: living events voltage_sag: unknown key 'mean_minuts' (did you mean 'mean_minutes'?); "
        "expected per_year, mean_minutes, mean_seconds, spread"]
    good = text.replace("\nliving:\n", "\nliving:\n  events: {voltage_sag: {per_year: 24}}\n", 1)
    model = parse_model(good, "shop.yaml")
    assert model.living is not None and model.living.events is not None
    assert model.living.events.voltage_sag.per_year == 24
