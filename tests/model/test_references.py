"""References between a model's objects: each kind that names a missing object, an object of
another class, a member its class lacks or a script its table lacks is reported with the
file:line that wrote it, the object and attribute that hold it, and what it names.

Before simulator/model/references.py every model below loaded without a word.
"""

from __future__ import annotations

from pathlib import Path

from simulator.model.loader import parse_model, validate_paths

from tests.model.test_loader import CLOCK, HEADER, REGISTER, line_of, problems

TARIFF_SCRIPTS = """\
      - class: Script table
        obis: 0.0.10.0.100.255
        attributes:
          scripts:
            - script_identifier: 1
              actions: [[write_attribute, Register, 1.0.1.8.0.255, 2, 0]]
            - script_identifier: 2
              actions: [[execute_specific_method, Register, 1.0.1.8.0.255, 1, {type: integer, value: 0}]]
"""
BASE = HEADER + CLOCK + REGISTER + TARIFF_SCRIPTS


def model(objects: str) -> str:
    return BASE + objects


def test_valid_references_load() -> None:
    text = model("""\
      - class: Profile generic
        obis: 1.0.99.1.0.255
        attributes:
          capture_objects: [[Clock, 0.0.1.0.0.255, 2, 0], [Register, 1.0.1.8.0.255, 0, 0]]
          sort_object: [Register, 1.0.1.8.0.255, 2, 0]
      - class: Single action schedule
        obis: 0.0.15.0.0.255
        attributes: {executed_script: [0.0.10.0.100.255, 0], type: 1, execution_time: []}
""")
    assert [str(o.logical_name) for o in parse_model(text, "m.yaml").logical_devices[1].objects][-1] == \
        "0.0.15.0.0.255"


def test_profile_capture_objects_missing_wrong_class_and_attribute() -> None:
    text = model("""\
      - class: Profile generic
        obis: 1.0.99.1.0.255
        attributes:
          capture_objects:
            - [Clock, 0.0.1.0.0.255, 2, 0]
            - [Register, 1.0.2.8.0.255, 2, 0]
            - [Data, 1.0.1.8.0.255, 2, 0]
            - [Register, 1.0.1.8.0.255, 4, 0]
""")
    where = "object 1.0.99.1.0.255 (Profile generic) attribute 3 capture_objects"
    assert problems(text) == [
        f"m.yaml:{line_of(text, '1.0.2.8.0.255, 2')}: {where}: capture object 2 names 1.0.2.8.0.255, which "
        "logical device 1 does not have",
        f"m.yaml:{line_of(text, '[Data, 1.0.1.8.0.255')}: {where}: capture object 3 names 1.0.1.8.0.255 as Data "
        "(class 1), but it is Register (class 3)",
        f"m.yaml:{line_of(text, '1.0.1.8.0.255, 4')}: {where}: capture object 4 names attribute 4 of "
        "1.0.1.8.0.255, which Register does not have; its attributes are 1 logical_name, 2 value, 3 scaler_unit",
    ]


def test_profile_sort_object() -> None:
    text = model("""\
      - class: Profile generic
        obis: 1.0.99.1.0.255
        attributes:
          capture_objects: [[Clock, 0.0.1.0.0.255, 2, 0]]
          sort_method: largest
          sort_object: [Register, 1.0.1.8.1.255, 2, 0]
""")
    assert problems(text) == [
        f"m.yaml:{line_of(text, 'sort_object:')}: object 1.0.99.1.0.255 (Profile generic) attribute 6 sort_object: "
        "sort_object names 1.0.1.8.1.255, which logical device 1 does not have",
    ]


def test_compact_data_capture_objects() -> None:
    text = model("""\
      - class: Compact data
        obis: 0.0.66.0.1.255
        attributes:
          capture_objects: [[Clock, 0.0.1.0.0.255, 2, 0], [Clock, 0.0.1.0.0.255, 12, 0]]
          template_id: 1
          capture_method: 0
""")
    assert problems(text) == [
        f"m.yaml:{line_of(text, '[Clock, 0.0.1.0.0.255, 12')}: object 0.0.66.0.1.255 (Compact data) attribute 3 "
        "capture_objects: capture object 2 names attribute 12 of 0.0.1.0.0.255, which Clock does not have; its "
        "attributes are 1 logical_name, 2 time, 3 time_zone, 4 status, 5 daylight_savings_begin, "
        "6 daylight_savings_end, 7 daylight_savings_deviation, 8 daylight_savings_enabled, 9 clock_base",
    ]


def test_push_object_list() -> None:
    text = model("""\
      - class: Push setup
        obis: 0.0.25.9.0.255
        version: 0
        attributes:
          push_object_list:
            - [Push setup, 0.0.25.9.0.255, 1, 0]
            - [Data, 0.0.97.98.0.255, 2, 0]
          send_destination_and_method: {transport_service: tcp, destination: "127.0.0.1:4063", message: 0}
          communication_window: []
          randomisation_start_interval: 0
          number_of_retries: 3
          repetition_delay: 60
""")
    assert problems(text) == [
        f"m.yaml:{line_of(text, '0.0.97.98.0.255')}: object 0.0.25.9.0.255 (Push setup) attribute 2 "
        "push_object_list: push object 2 names 0.0.97.98.0.255, which logical device 1 does not have",
    ]


def test_register_monitor_monitored_value_and_actions() -> None:
    text = model("""\
      - class: Register monitor
        obis: 0.0.16.1.0.255
        attributes:
          thresholds: [{type: double-long, value: 5000}]
          monitored_value: [Data, 1.0.1.8.0.255, 2]
          actions:
            - {action_up: [0.0.10.0.100.255, 3], action_down: [0.0.10.0.101.255, 1]}
""")
    where = "object 0.0.16.1.0.255 (Register monitor)"
    assert problems(text) == [
        f"m.yaml:{line_of(text, 'monitored_value:')}: {where} attribute 3 monitored_value: monitored_value names "
        "1.0.1.8.0.255 as Data (class 1), but it is Register (class 3)",
        f"m.yaml:{line_of(text, 'action_up:')}: {where} attribute 4 actions: action_up of threshold 1 runs script 3 "
        "of 0.0.10.0.100.255, whose scripts are 1, 2",
        f"m.yaml:{line_of(text, 'action_up:')}: {where} attribute 4 actions: action_down of threshold 1 names "
        "0.0.10.0.101.255, which logical device 1 does not have",
    ]


def test_limiter_monitored_value_and_actions() -> None:
    text = model("""\
      - class: Limiter
        obis: 0.0.17.0.0.255
        attributes:
          monitored_value: [Register, 1.0.1.8.0.255, 5]
          threshold_active: {type: double-long, value: 17250}
          threshold_normal: {type: double-long, value: 17250}
          threshold_emergency: {type: double-long, value: 5750}
          min_over_threshold_duration: 60
          min_under_threshold_duration: 60
          emergency_profile: [0, null, 0]
          emergency_profile_group_id_list: []
          actions:
            action_over_threshold: [1.0.1.8.0.255, 1]
            action_under_threshold: [0.0.10.0.100.255, 2]
""")
    where = "object 0.0.17.0.0.255 (Limiter)"
    assert problems(text) == [
        f"m.yaml:{line_of(text, 'monitored_value:')}: {where} attribute 2 monitored_value: monitored_value names "
        "attribute 5 of 1.0.1.8.0.255, which Register does not have; its attributes are 1 logical_name, 2 value, "
        "3 scaler_unit",
        f"m.yaml:{line_of(text, 'action_over_threshold:')}: {where} attribute 11 actions: action_over_threshold "
        "names 1.0.1.8.0.255 as Script table (class 9), but it is Register (class 3)",
    ]


def test_script_table_actions_attribute_method_and_parameter() -> None:
    text = model("""\
      - class: Script table
        obis: 0.0.10.0.106.255
        attributes:
          scripts:
            - script_identifier: 1
              actions: [[write_attribute, Register, 1.0.1.8.0.255, 7, 0]]
            - script_identifier: 2
              actions: [[execute_specific_method, Register, 1.0.1.8.0.255, 2, {type: integer, value: 0}]]
            - script_identifier: 3
              actions: [[write_attribute, Clock, 0.0.1.0.0.255, 3, 0],
                        [write_attribute, Clock, 0.0.96.3.10.255, 2, 0]]
""")
    where = "object 0.0.10.0.106.255 (Script table) attribute 2 scripts"
    assert problems(text) == [
        f"m.yaml:{line_of(text, '1.0.1.8.0.255, 7')}: {where}: script 1 action 1 names attribute 7 of 1.0.1.8.0.255, "
        "which Register does not have; its attributes are 1 logical_name, 2 value, 3 scaler_unit",
        f"m.yaml:{line_of(text, '1.0.1.8.0.255, 2, {type')}: {where}: script 2 action 1 names method 2 of "
        "1.0.1.8.0.255, which Register does not have; its methods are 1 reset",
        f"m.yaml:{line_of(text, '0.0.1.0.0.255, 3')}: {where}: script 3 action 1 gives attribute 3 time_zone of "
        "0.0.1.0.0.255 a double-long-unsigned, which it refuses; expected long -720..840 or -32768",
        f"m.yaml:{line_of(text, '0.0.96.3.10.255')}: {where}: script 3 action 2 names 0.0.96.3.10.255, which "
        "logical device 1 does not have",
    ]


def test_single_action_schedule_executed_script() -> None:
    text = model("""\
      - class: Single action schedule
        obis: 0.0.15.0.0.255
        attributes: {executed_script: [0.0.10.0.1.255, 1], type: 1, execution_time: [["00:00:00", "*-*-01"]]}
      - class: Single action schedule
        obis: 0.0.15.0.2.255
        attributes: {executed_script: [0.0.10.0.100.255, 4], type: 1, execution_time: [["00:00:00", "*-*-01"]]}
""")
    assert problems(text) == [
        f"m.yaml:{line_of(text, '0.0.10.0.1.255')}: object 0.0.15.0.0.255 (Single action schedule) attribute 2 "
        "executed_script: executed_script names 0.0.10.0.1.255, which logical device 1 does not have",
        f"m.yaml:{line_of(text, '0.0.10.0.100.255, 4')}: object 0.0.15.0.2.255 (Single action schedule) attribute 2 "
        "executed_script: executed_script runs script 4 of 0.0.10.0.100.255, whose scripts are 1, 2",
    ]


def test_schedule_entries() -> None:
    text = model("""\
      - class: Schedule
        obis: 0.0.12.0.0.255
        attributes:
          entries:
            - [1, true, 0.0.10.0.100.255, 1, "06:00", 0, [1, 1, 1, 1, 1, 0, 0], [], "*-*-*", "*-*-*"]
            - [2, true, 0.0.10.0.100.255, 9, "22:00", 0, [1, 1, 1, 1, 1, 0, 0], [], "*-*-*", "*-*-*"]
""")
    assert problems(text) == [
        f"m.yaml:{line_of(text, '[2, true')}: object 0.0.12.0.0.255 (Schedule) attribute 2 entries: entry 2 runs "
        "script 9 of 0.0.10.0.100.255, whose scripts are 1, 2",
    ]


def test_activity_calendar_day_profile_scripts() -> None:
    text = model("""\
      - class: Activity calendar
        obis: 0.0.13.0.0.255
        attributes:
          calendar_name_active: STANDARD
          season_profile_active: [[ALL, "*-01-01T00:00:00", WEEK]]
          week_profile_table_active: [[WEEK, 1, 1, 1, 1, 1, 1, 1]]
          day_profile_table_active:
            - day_id: 1
              day_schedule:
                - ["00:00", 0.0.10.0.100.255, 2]
                - ["07:00", 0.0.10.0.100.255, 5]
          calendar_name_passive: STANDARD
          season_profile_passive: []
          week_profile_table_passive: []
          day_profile_table_passive:
            - [1, [["00:00", 0.0.10.0.101.255, 1]]]
          activate_passive_calendar_time: null
""")
    where = "object 0.0.13.0.0.255 (Activity calendar) attribute"
    assert problems(text) == [
        f"m.yaml:{line_of(text, '07:00')}: {where} 5 day_profile_table_active: day 1 action 2 runs script 5 of "
        "0.0.10.0.100.255, whose scripts are 1, 2",
        f"m.yaml:{line_of(text, '0.0.10.0.101.255')}: {where} 9 day_profile_table_passive: day 1 action 1 names "
        "0.0.10.0.101.255, which logical device 1 does not have",
    ]


def test_register_activation_register_assignment() -> None:
    text = model("""\
      - class: Register activation
        obis: 0.0.14.0.1.255
        attributes:
          register_assignment:
            - [Register, 1.0.1.8.0.255]
            - [Extended register, 1.0.1.8.0.255]
            - [Register, 1.0.1.8.2.255]
          mask_list: [[T1, [1]]]
          active_mask: T1
""")
    where = "object 0.0.14.0.1.255 (Register activation) attribute 2 register_assignment"
    assert problems(text) == [
        f"m.yaml:{line_of(text, '[Extended register')}: {where}: register 2 names 1.0.1.8.0.255 as Extended register "
        "(class 4), but it is Register (class 3)",
        f"m.yaml:{line_of(text, '1.0.1.8.2.255')}: {where}: register 3 names 1.0.1.8.2.255, which logical device 1 "
        "does not have",
    ]


def test_cosem_sim_validate_reports_references(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = model("""\
      - {class: Profile generic, obis: 1.0.99.1.0.255, attributes: {capture_objects: [[Data, 0.0.96.10.1.255, 2, 0]]}}
""")
    bad.write_text(text)
    assert validate_paths([bad]) == [
        f"{bad}:{line_of(text, '0.0.96.10.1.255')}: object 1.0.99.1.0.255 (Profile generic) attribute 3 "
        "capture_objects: capture object 1 names 0.0.96.10.1.255, which logical device 1 does not have",
    ]
