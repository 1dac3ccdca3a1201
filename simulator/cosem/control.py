"""Load control: Disconnect control (70) and Limiter (71).

Disconnect control is the Blue Book's state machine over three states (0 disconnected,
1 connected, 2 ready_for_reconnection) and nine transitions a..i, each caused by one trigger:

====  ===================  =========================  =====================
name  trigger              from                       to
====  ===================  =========================  =====================
a     remote_reconnect     disconnected               connected
b     remote_disconnect    connected                  disconnected
c     remote_disconnect    ready_for_reconnection     disconnected
d     remote_reconnect     disconnected               ready_for_reconnection
e     manual_reconnect     ready_for_reconnection     connected
f     manual_disconnect    connected                  ready_for_reconnection
g     local_disconnect     connected                  ready_for_reconnection
h     local_reconnect      ready_for_reconnection     connected
i     remote_reconnect     ready_for_reconnection     connected  (version 1, mode 7)
====  ===================  =========================  =====================

control_mode picks which transitions exist (`MODES`). A trigger whose output state already
holds changes nothing and succeeds; a remote trigger the mode does not enable at all is
refused with read-write-denied, one the mode enables only from another state with
temporary-failure. Manual and local triggers come from the meter itself (`trigger`).

The disconnector drives the load: every switch of the output appends (fleet epoch, connected)
to the object's `SupplyChanges`, which metrology reads (no energy, no current while the load is
off), and every transition is logged in the disconnector control log with its IDIS code.

Limiter compares a monitored value with the active threshold and runs its over/under
threshold scripts once the value has stayed on one side for the minimum duration, logging
"limiter threshold exceeded" / "ok". Nothing runs by itself: `evaluate_limiter` runs when the
meter is reached (a write of the monitored value, the catch-up when a request enters the
meter), and durations are seconds of the fleet's time, so they follow time acceleration and
survive a restart. An excursion shorter than the gaps between evaluations goes unseen.
"""

from __future__ import annotations

from enum import IntEnum

from ..apdu.common import ActionResult
from ..axdr import Data, DataType
from ..state.effects import LimiterState, SupplyChanges
from .base import ActionFailure, InterfaceClass, attribute, interface_class, method
from .clock import date_time_of, to_utc
from .context import ObjectContext
from .data_register import VALUE_DEFINITION, number_of, read_value
from .events import EventCode, log_event
from .schedule import ACTION_ITEM, run_action_item
from .types import ANY, BOOLEAN, DATE_TIME, DOUBLE_LONG_UNSIGNED, INTEGER, LONG_UNSIGNED, Array, Enum, Struct

__all__ = [
    "CLASSES", "DISCONNECT_CONTROL", "DISCONNECT_CONTROL_V1", "LIMITER", "ControlState", "Trigger",
    "MODES", "trigger", "evaluate_limiter",
]


class ControlState(IntEnum):
    DISCONNECTED = 0
    CONNECTED = 1
    READY_FOR_RECONNECTION = 2


class Trigger(IntEnum):
    REMOTE_DISCONNECT = 1
    REMOTE_RECONNECT = 2
    MANUAL_DISCONNECT = 3
    MANUAL_RECONNECT = 4
    LOCAL_DISCONNECT = 5
    LOCAL_RECONNECT = 6


_D, _C, _R = ControlState.DISCONNECTED, ControlState.CONNECTED, ControlState.READY_FOR_RECONNECTION
TRANSITIONS: dict[str, tuple[Trigger, ControlState, ControlState]] = {
    "a": (Trigger.REMOTE_RECONNECT, _D, _C),
    "b": (Trigger.REMOTE_DISCONNECT, _C, _D),
    "c": (Trigger.REMOTE_DISCONNECT, _R, _D),
    "d": (Trigger.REMOTE_RECONNECT, _D, _R),
    "e": (Trigger.MANUAL_RECONNECT, _R, _C),
    "f": (Trigger.MANUAL_DISCONNECT, _C, _R),
    "g": (Trigger.LOCAL_DISCONNECT, _C, _R),
    "h": (Trigger.LOCAL_RECONNECT, _R, _C),
    "i": (Trigger.REMOTE_RECONNECT, _R, _C),
}
# control_mode -> transitions it allows (Blue Book, Disconnect control, control_mode).
MODES: dict[int, str] = {
    0: "",  # always connected
    1: "bcfgde",
    2: "bcfgae",
    3: "bcgde",
    4: "bcgae",
    5: "bcfgdeh",
    6: "bcgdeh",
    7: "bcgaieh",  # version 1 only
}
_DISCONNECTING = {Trigger.REMOTE_DISCONNECT, Trigger.MANUAL_DISCONNECT, Trigger.LOCAL_DISCONNECT}

# The disconnector control log's code for each trigger (a remote reconnect that only arms the
# switch logs READY_FOR_MANUAL_RECONNECTION instead).
_EVENT_OF: dict[Trigger, EventCode] = {
    Trigger.MANUAL_DISCONNECT: EventCode.MANUAL_DISCONNECTION, Trigger.MANUAL_RECONNECT: EventCode.MANUAL_CONNECTION,
    Trigger.REMOTE_DISCONNECT: EventCode.REMOTE_DISCONNECTION, Trigger.REMOTE_RECONNECT: EventCode.REMOTE_CONNECTION,
    Trigger.LOCAL_DISCONNECT: EventCode.LOCAL_DISCONNECTION, Trigger.LOCAL_RECONNECT: EventCode.LOCAL_RECONNECTION,
}


def _state(ctx: ObjectContext) -> ControlState:
    v = ctx.get(3)
    return ControlState(v.value) if v.type == DataType.ENUM and v.value in (0, 1, 2) else _C


def _mode(ctx: ObjectContext) -> int:
    v = ctx.get(4)
    return v.value if v.type == DataType.ENUM and v.value in MODES else 0


def _apply(ctx: ObjectContext, what: Trigger) -> bool:
    """Run `what`; True if the state changed. Raises ActionFailure when the mode refuses it."""
    state, allowed = _state(ctx), MODES[_mode(ctx)]
    for name in allowed:
        trig, source, target = TRANSITIONS[name]
        if trig == what and source == state:
            _switch(ctx, state, target)
            ready = target == _R and what == Trigger.REMOTE_RECONNECT
            log_event(ctx, "disconnector", EventCode.READY_FOR_MANUAL_RECONNECTION if ready else _EVENT_OF[what])
            return True
    if (state != _C) == (what in _DISCONNECTING):
        return False  # the output is already where this trigger would put it
    if not any(TRANSITIONS[n][0] == what for n in allowed):
        raise ActionFailure(ActionResult.READ_WRITE_DENIED, f"control_mode {_mode(ctx)} does not allow {what.name}")
    raise ActionFailure(ActionResult.TEMPORARY_FAILURE, f"{what.name} not possible from {state.name}")


def _switch(ctx: ObjectContext, before: ControlState, after: ControlState) -> None:
    """Move to `after`, noting when (the state at past instants); when the output switches, note
    it where metrology reads it."""
    ctx.set(3, Data(DataType.ENUM, int(after)))
    record = ctx.change(SupplyChanges)
    at = ctx.clock.fleet_epoch()
    record.states.append((at, int(before), int(after)))
    del record.states[:-_STATES_KEPT]
    if (before == _C) != (after == _C):
        record.changes.append((at, after == _C))


_STATES_KEPT = 256  # control_state changes kept for reading the past: more than a disconnector log holds


def _control_state(ctx: ObjectContext) -> Data:
    """control_state: the state now, or at the instant of a handle in the past (a log row)."""
    stored = ctx.stored(3)
    now = stored if stored is not None else Data(DataType.ENUM, int(_C))
    record = ctx.effect(SupplyChanges)
    if record is None or not record.states:
        return now
    t = ctx.clock.fleet_epoch()
    if t >= record.states[-1][0]:
        return now
    before = [after for at, _, after in record.states if at <= t]
    return Data(DataType.ENUM, before[-1] if before else record.states[0][1])


def trigger(ctx: ObjectContext, what: Trigger) -> bool:
    """A manual or local trigger (button, limiter, supervision): True if the state changed."""
    try:
        return _apply(ctx, what)
    except ActionFailure:
        return False


def _remote_disconnect(ctx: ObjectContext, parameter: Data | None) -> None:
    _apply(ctx, Trigger.REMOTE_DISCONNECT)


def _remote_reconnect(ctx: ObjectContext, parameter: Data | None) -> None:
    _apply(ctx, Trigger.REMOTE_RECONNECT)


def _output_state(ctx: ObjectContext) -> Data:
    return Data(DataType.BOOLEAN, _state(ctx) == _C)


def _set_control_mode(ctx: ObjectContext, value: Data) -> None:
    ctx.set(4, value)
    if value.value == 0 and _state(ctx) != _C:  # mode 0: the object is always connected
        _switch(ctx, _state(ctx), _C)


CONTROL_STATE = Enum(((0, "disconnected"), (1, "connected"), (2, "ready_for_reconnection")), open=False)


def _disconnect_control(version: int) -> InterfaceClass:
    modes = tuple((m, f"mode_{m}") for m in MODES if version >= 1 or m <= 6)
    return interface_class(70, version, "Disconnect control", [
        attribute(2, "output_state", BOOLEAN, dynamic=True, getter=_output_state),
        attribute(3, "control_state", CONTROL_STATE, dynamic=True, default=Data(DataType.ENUM, 1),
                  getter=_control_state),
        attribute(4, "control_mode", Enum(modes, open=False), default=Data(DataType.ENUM, 0),
                  setter=_set_control_mode),
    ], [
        method(1, "remote_disconnect", INTEGER, impl=_remote_disconnect),
        method(2, "remote_reconnect", INTEGER, impl=_remote_reconnect),
    ], sn_method_offset=0x20)


DISCONNECT_CONTROL = _disconnect_control(0)
DISCONNECT_CONTROL_V1 = _disconnect_control(1)


# --------------------------------------------------------------------------- Limiter (71)

def _emergency_active(ctx: ObjectContext) -> bool:
    """The emergency profile applies: its id is in the group list and its time window is now."""
    profile, groups = ctx.get(8), ctx.get(9)
    if profile.type != DataType.STRUCTURE or len(profile.value) != 3 or groups.type != DataType.ARRAY:
        return False
    profile_id, activation, duration = profile.value
    if not any(g.value == profile_id.value for g in groups.value):
        return False
    cdt = date_time_of(activation)
    start = None if cdt is None else to_utc(ctx, cdt)
    if start is None or not isinstance(duration.value, int):
        return False
    elapsed = (ctx.clock.utc_time() - start).total_seconds()
    return 0 <= elapsed < duration.value


def evaluate_limiter(ctx: ObjectContext) -> str | None:
    """Update the emergency state and threshold, then compare; returns "over"/"under" when an action ran.

    The limiter starts in the under-threshold condition, so only a value that stays above
    threshold_active for min_over_threshold_duration seconds fires the over action, and only
    after that one staying at or below it for min_under_threshold_duration fires the under one.
    """
    emergency = _emergency_active(ctx)
    if ctx.get(10) != Data(DataType.BOOLEAN, emergency):
        ctx.set(10, Data(DataType.BOOLEAN, emergency))
    st = ctx.effect(LimiterState) or _UNTOUCHED
    if st.emergency != emergency or ctx.get(3).type == DataType.NULL_DATA:
        ctx.set(3, ctx.get(5 if emergency else 4))
        st = ctx.change(LimiterState)
        st.emergency = emergency
    value = number_of(read_value(ctx, ctx.get(2)))
    threshold = number_of(ctx.get(3))
    if value is None or threshold is None:
        return None
    side = "over" if value > threshold else "under"
    now = ctx.clock.fleet_epoch()
    if st.side != side:
        st = ctx.change(LimiterState)
        st.side, st.since = side, now
    if st.condition == side:
        return None
    minimum = number_of(ctx.get(6 if side == "over" else 7)) or 0
    if now - st.since < minimum:
        return None
    ctx.change(LimiterState).condition = side
    log_event(ctx, "disconnector",
              EventCode.LIMITER_THRESHOLD_EXCEEDED if side == "over" else EventCode.LIMITER_THRESHOLD_OK)
    actions = ctx.get(11)
    if actions.type == DataType.STRUCTURE and len(actions.value) == 2:
        run_action_item(ctx, actions.value[0 if side == "over" else 1])
    return side


_UNTOUCHED = LimiterState()  # what a limiter that never evaluated reads as (never changed)

EMERGENCY_PROFILE = Struct((("emergency_profile_id", LONG_UNSIGNED), ("emergency_activation_time", DATE_TIME),
                            ("emergency_duration", DOUBLE_LONG_UNSIGNED)))
LIMITER_ACTIONS = Struct((("action_over_threshold", ACTION_ITEM), ("action_under_threshold", ACTION_ITEM)))

LIMITER = interface_class(71, 0, "Limiter", [
    attribute(2, "monitored_value", VALUE_DEFINITION),
    attribute(3, "threshold_active", ANY, dynamic=True),
    attribute(4, "threshold_normal", ANY),
    attribute(5, "threshold_emergency", ANY),
    attribute(6, "min_over_threshold_duration", DOUBLE_LONG_UNSIGNED),
    attribute(7, "min_under_threshold_duration", DOUBLE_LONG_UNSIGNED),
    attribute(8, "emergency_profile", EMERGENCY_PROFILE),
    attribute(9, "emergency_profile_group_id_list", Array(LONG_UNSIGNED)),
    attribute(10, "emergency_profile_active", BOOLEAN, dynamic=True, default=Data(DataType.BOOLEAN, False)),
    attribute(11, "actions", LIMITER_ACTIONS),
])

CLASSES = (DISCONNECT_CONTROL, DISCONNECT_CONTROL_V1, LIMITER)
