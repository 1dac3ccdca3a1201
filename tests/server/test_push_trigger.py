"""The push outbox: what queues a PushRequest in a meter (a client's ACTION push through the
server's services, a script the meter runs itself, an alarm bit newly raised, any object's
trigger for the Push setups declared `push_on:`), what a reset forgets, and the model key
`push_on` with its validation. Sending the pushes is the runtime's (tests/runtime/).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulator.apdu.action import ActionRequestNormal, ActionResponseNormal
from simulator.apdu.common import ActionResult, CosemMethodDescriptor
from simulator.axdr import Data, DataType, Obis
from simulator.cosem.events import EventCode, log_event
from simulator.cosem.registry import get_class
from simulator.living.events import NO_EVENTS
from simulator.living.meter import LivingModel
from simulator.model.errors import ModelError
from simulator.model.loader import parse_model
from simulator.server.objects import Meter, ObjectHandle, TimeBase
from simulator.server.objects import PushRequest

from tests.cosem.helpers import u32
from tests.cosem.meter_fixture import EPOCH_2024, TestMeter

from .support import INVOKE, Meter as ServerMeter, Obj, objects

PUSH_LN, OTHER_PUSH_LN = Obis("0.0.25.9.0.255"), Obis("0.0.25.9.1.255")
SCRIPTS_LN = Obis("0.0.10.0.108.255")
ZERO = Data(DataType.INTEGER, 0)
ALARM_REGISTER, ALARM_FILTER = "0.0.97.98.0.255", "0.0.97.98.10.255"
COVER_BIT = 1 << 13  # METER_COVER_REMOVED raises bit 13 of alarm register 1 (IDIS)


def push_script() -> Data:
    """Script 1: execute_specific_method push (1) of the Push setup."""
    action = Data(DataType.STRUCTURE, (Data(DataType.ENUM, 2), Data(DataType.LONG_UNSIGNED, 40),
                                       Data(DataType.OCTET_STRING, bytes(PUSH_LN)), Data(DataType.INTEGER, 1), ZERO))
    script = Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, 1), Data(DataType.ARRAY, (action,))))
    return Data(DataType.ARRAY, (script,))


def server_meter() -> tuple[ServerMeter, int]:
    """The server test meter with a Push setup (v2) and a script table that pushes it."""
    m = ServerMeter(objects() + [Obj(get_class(40, 2), PUSH_LN, {}), Obj(get_class(9), SCRIPTS_LN, {2: push_script()})])
    spec = m.device.find(bytes(PUSH_LN))
    assert spec is not None
    return m, spec.index


def act(m: ServerMeter, index: int, client: int = 2) -> ActionResult:
    answer = m.send(ActionRequestNormal(INVOKE, CosemMethodDescriptor(40, PUSH_LN, index), ZERO).to_bytes(), client)
    response = ActionResponseNormal.from_bytes(answer or b"")
    return response.result


def test_a_clients_push_action_queues_an_action_request() -> None:
    m, index = server_meter()
    assert m.state.push_requests is None  # nothing queued costs nothing
    m.associate(2)
    m.now = 12.5
    assert act(m, 1) == ActionResult.SUCCESS
    assert m.state.take_push_requests() == [PushRequest(1, index, 12.5, "action")]
    assert m.state.take_push_requests() == [] and m.state.push_requests is None


def test_a_reset_forgets_what_was_queued_and_tells_the_runtime() -> None:
    m, index = server_meter()
    m.associate(2)
    assert act(m, 1) == ActionResult.SUCCESS
    assert act(m, 2) == ActionResult.SUCCESS  # reset (v2)
    assert m.state.push_reset == {(1, index)}
    assert m.state.take_push_requests() == []
    assert m.state.push_reset is None  # taken with the requests


def test_a_script_the_meter_runs_itself_queues_a_script_request() -> None:
    m, index = server_meter()
    spec = m.device.find(bytes(SCRIPTS_LN))
    assert spec is not None
    table = ObjectHandle(m.state, m.device, spec, 30.0)  # no association: the meter's own schedule
    table.invoke(1, Data(DataType.LONG_UNSIGNED, 1))
    assert m.state.take_push_requests() == [PushRequest(1, index, 30.0, "script")]


# ------------------------------------------------------------------ push_on and alarms

def alarm_meter(push_on: frozenset[str] = frozenset({"alarm"}), living: bool = True,
                alarm_filter: int = 0xFFFFFFFF) -> tuple[Meter, TestMeter]:
    """Event logs, alarm register and filter, and two Push setups: the first `push_on`, the
    second only pushed by its own method."""
    base = TestMeter([(7, "0.0.99.98.1.255", {8: u32(100)}), (1, "0.0.96.11.1.255", {}),
                      (1, ALARM_REGISTER, {2: u32(0)}), (1, ALARM_FILTER, {2: u32(alarm_filter)}),
                      (40, str(PUSH_LN), {}), (40, str(OTHER_PUSH_LN), {})], start_epoch=EPOCH_2024)
    specs = tuple(replace(s, push_on=push_on) if s.logical_name == PUSH_LN else s for s in base.device.objects)
    base.device = replace(base.device, objects=specs)
    model = replace(base.model, logical_devices={1: base.device},
                    living=LivingModel(events=NO_EVENTS) if living else None)
    meter = Meter(model, 0, {"serial": "00000001"}, TimeBase(EPOCH_2024, installed=EPOCH_2024 - 86400))
    base.state = meter
    return meter, base


def log(base: TestMeter, code: int, now: float = 100.0) -> None:
    base.now = now
    log_event(base.obj(ALARM_REGISTER), "fraud", code)


def test_an_alarm_queues_the_pushes_declared_push_on_alarm_once_per_rising_bit() -> None:
    meter, base = alarm_meter()
    log(base, EventCode.METER_COVER_REMOVED)
    index = base.obj(str(PUSH_LN)).spec.index
    assert meter.take_push_requests() == [PushRequest(1, index, 100.0, "alarm")]
    assert base.obj(ALARM_REGISTER).get(2).value & COVER_BIT  # the register shows it now
    log(base, EventCode.METER_COVER_REMOVED, 200.0)  # the bit is set already: no new alarm
    assert meter.take_push_requests() == []
    base.now = 250.0
    base.obj(ALARM_REGISTER).write(2, u32(0))  # the head-end clears the register
    log(base, EventCode.METER_COVER_REMOVED, 300.0)
    assert [r.trigger for r in meter.take_push_requests()] == ["alarm"]


def test_no_alarm_push_for_a_filtered_bit_an_ordinary_event_or_without_push_on() -> None:
    meter, base = alarm_meter(alarm_filter=0xFFFFFFFF & ~COVER_BIT)
    log(base, EventCode.METER_COVER_REMOVED)
    assert meter.take_push_requests() == []
    meter, base = alarm_meter()
    log(base, EventCode.PARAMETERS_CHANGED)  # no alarm bit
    assert meter.take_push_requests() == []
    meter, base = alarm_meter(push_on=frozenset({"power_up"}))
    log(base, EventCode.METER_COVER_REMOVED)
    assert meter.take_push_requests() == []


def test_a_static_meter_reads_the_stored_alarm_register() -> None:
    meter, base = alarm_meter(living=False)
    base.obj(ALARM_REGISTER).set(2, u32(COVER_BIT))
    log(base, EventCode.METER_COVER_REMOVED)
    assert meter.take_push_requests() == []
    base.obj(ALARM_REGISTER).set(2, u32(0))
    log(base, EventCode.METER_COVER_REMOVED)
    assert len(meter.take_push_requests()) == 1


def test_any_object_triggers_the_push_on_setups_a_push_setup_only_itself() -> None:
    meter, base = alarm_meter(push_on=frozenset({"power_up", "installation"}))
    base.now = 5.0
    base.obj(ALARM_REGISTER).trigger_push("power_up")
    first = base.obj(str(PUSH_LN)).spec.index
    assert meter.take_push_requests() == [PushRequest(1, first, 5.0, "power_up")]
    base.obj(ALARM_REGISTER).trigger_push("control")
    assert meter.take_push_requests() == []
    base.obj(str(OTHER_PUSH_LN)).trigger_push("control")  # on a Push setup: its own push, whatever it declares
    assert meter.take_push_requests() == [PushRequest(1, first + 1, 5.0, "control")]


# ------------------------------------------------------------------ the model key

MODEL = """\
name: push-on
description: push_on validation
logical_devices:
  - server_sap: 1
    name: "SIM{serial}"
    associations:
      - {client_sap: 16, name: public}
    objects:
      - {class: Data, obis: 0.0.42.0.0.255}
      - class: Push setup
        obis: 0.0.25.9.0.255
        version: 0
        push_on: %s
        attributes:
          push_object_list: [[Data, 0.0.42.0.0.255, 2, 0]]
          send_destination_and_method: {transport_service: tcp, destination: "127.0.0.1:4058", message: a_xdr_xdlms_apdu}
          communication_window: []
          randomisation_start_interval: 0
          number_of_retries: 0
          repetition_delay: 0
"""


def test_push_on_becomes_the_objects_triggers() -> None:
    model = parse_model(MODEL % "[alarm, power_up]", "m.yaml")
    setup = model.logical_devices[1].objects[1]
    assert setup.push_on == frozenset({"alarm", "power_up"})
    assert model.logical_devices[1].objects[0].push_on == frozenset()


@pytest.mark.parametrize("value, message", [
    ("[alarms]", "m.yaml:13: object 0.0.25.9.0.255 (Push setup): unknown push trigger 'alarms' (did you mean 'alarm'?)"),
    ("[1]", "unknown push trigger"),
    ("alarm", "expected push_on triggers as a list"),
])
def test_an_unknown_trigger_is_a_problem_with_file_and_line(value: str, message: str) -> None:
    with pytest.raises(ModelError) as exc:
        parse_model(MODEL % value, "m.yaml")
    assert any(message in line for line in exc.value.lines()), exc.value.lines()


def test_push_on_belongs_to_push_setups_only() -> None:
    text = MODEL.replace("      - {class: Data, obis: 0.0.42.0.0.255}",
                         "      - {class: Data, obis: 0.0.42.0.0.255, push_on: [alarm]}") % "[]"
    with pytest.raises(ModelError) as exc:
        parse_model(text, "m.yaml")
    assert any("m.yaml:9" in line and "only a Push setup (class 40) has push_on" in line
               for line in exc.value.lines()), exc.value.lines()

