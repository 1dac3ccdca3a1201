"""Events a meter raises: into the right event log, its event code object and the alarms.

`log_event(ctx, log, code)` is how any behaviour reports what happened on the meter (a
disconnect, a clock adjustment, an activated firmware, a refused association): the entry is
kept in the event log's `LoggedEvents` record with the meter's time, and the log's event code
object reads the code. Event logs are Profile generic objects whose rows are (clock, event
code, ...) at the instants events happened; simulator/living/events.py adds the events the
seeded generator produces, computed when read.

The logs and event code objects are the IDIS ones (IDIS package 2, event handling):
standard 0.0.99.98.0.255 with 0.0.96.11.0.255, fraud detection .1, disconnector control .2,
M-Bus .3, power quality .4, communication .5.
"""

from __future__ import annotations

from ..axdr import Data, DataType, Obis
from ..state.effects import LoggedEvents
from .context import ObjectContext

__all__ = ["EVENT_LOGS", "EVENT_CODE_OBJECTS", "log_event"]

_LOGS = ("standard", "fraud", "disconnector", "mbus", "power_quality", "communication")
EVENT_LOGS: dict[str, Obis] = {name: Obis(f"0.0.99.98.{i}.255") for i, name in enumerate(_LOGS)}
EVENT_CODE_OBJECTS: dict[str, Obis] = {name: Obis(f"0.0.96.11.{i}.255") for i, name in enumerate(_LOGS)}
_PROFILE_GENERIC, _DATA = 7, 1
_DEFAULT_CAPACITY = 100


def _capacity(log: ObjectContext) -> int:
    entries = log.get(8)
    return entries.value if entries.type == DataType.DOUBLE_LONG_UNSIGNED else _DEFAULT_CAPACITY


def log_event(ctx: ObjectContext, log: str, code: int) -> None:
    """Record event `code` in the meter's `log` (a key of EVENT_LOGS) at the meter's time now.

    A meter whose model lacks the log still updates the event code object when it has one,
    as a meter without that log would.
    """
    profile = ctx.find(EVENT_LOGS[log], _PROFILE_GENERIC)
    if profile is not None:
        entries = profile.change(LoggedEvents).entries
        entries.append((ctx.clock.epoch(), code))
        del entries[:max(len(entries) - _capacity(profile), 0)]
    holder = ctx.find(EVENT_CODE_OBJECTS[log], _DATA)
    if holder is not None:
        holder.set(2, Data(DataType.UNSIGNED, code & 0xFF))
