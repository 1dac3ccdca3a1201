"""What a meter does when a value is written: the objects that watch other objects react.

Parameter monitors (65) record the change; register monitors (21), sensor managers (67) and
limiters (71) compare their monitored value again and run their actions on a crossing. The
server calls `value_written` after every successful write, a client's SET or a script's, so
monitoring follows the writes a meter sees today. Values that change with time alone (a living
meter's load curve, ROADMAP) will call the same functions from the runtime's timer.
"""

from __future__ import annotations

from ..axdr import Data
from .context import ObjectContext
from .control import evaluate_limiter
from .data_register import evaluate_monitor, evaluate_sensor, record_change

__all__ = ["value_written", "WATCHERS"]

# class id -> (the attribute holding its value_definition, the evaluation to run)
WATCHERS = {21: (3, evaluate_monitor), 67: (13, evaluate_sensor), 71: (2, evaluate_limiter)}


def _watches(watcher: ObjectContext, definition_attribute: int, logical_name: bytes, attribute: int) -> bool:
    """Whether the watcher's value_definition {class_id, logical_name, attribute_index} names it."""
    definition = watcher.get(definition_attribute).value
    return (isinstance(definition, tuple) and len(definition) >= 3
            and definition[1].value == logical_name and definition[2].value == attribute)


def value_written(ctx: ObjectContext, attribute: int, value: Data) -> None:
    """`ctx`'s attribute was written with `value`: let the objects watching it react."""
    record_change(ctx, attribute, value)
    if ctx.cls.class_id == 67 and attribute == 7:  # a sensor manager's own raw_value
        evaluate_sensor(ctx)
    logical_name = bytes(ctx.logical_name)
    for other in ctx.objects():
        watcher = WATCHERS.get(other.cls.class_id)
        if watcher is not None and _watches(other, watcher[0], logical_name, attribute):
            watcher[1](other)
