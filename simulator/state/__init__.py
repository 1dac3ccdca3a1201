"""One meter's mutable state, typed, with a journal of what changed (see meter_state.py)."""

from .effects import (
    EFFECT_KINDS, CalendarActivation, ClockAdjustment, CompactCapture, Effect, ImageTransfer, LimiterState,
    MBusTraffic, ObjectListEdits, ProfileRows, SapAssignment, ScheduleRun, ScriptRun, ThresholdCrossings,
    TrafficRequests,
)
from .journal import (
    Change, ClockChanged, CounterChanged, EffectChanged, Journal, KeysChanged, LockoutChanged, SecretChanged,
    ValueChanged,
)
from .meter_state import MeterState
from .security import COUNTED_KEYS, FIRST_TRANSMIT_COUNTER, KEY_NAMES, SecurityState

__all__ = [
    "MeterState", "SecurityState", "KEY_NAMES", "FIRST_TRANSMIT_COUNTER", "COUNTED_KEYS",
    "Effect", "EFFECT_KINDS", "ImageTransfer", "ClockAdjustment", "LimiterState", "ThresholdCrossings",
    "CompactCapture", "ScriptRun", "CalendarActivation", "ScheduleRun", "TrafficRequests", "MBusTraffic",
    "ProfileRows", "ObjectListEdits", "SapAssignment",
    "Journal", "Change", "ValueChanged", "KeysChanged", "CounterChanged", "SecretChanged", "EffectChanged",
    "ClockChanged", "LockoutChanged",
]
