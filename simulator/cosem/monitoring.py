"""What a meter does when a value is written: the objects that watch other objects react.

Parameter monitors (65) record the change; register monitors (21), sensor managers (67) and
limiters (71) compare their monitored value and run their actions on a crossing. The server
asks `watchers_of` before every write, a client's SET or a script's, lets each watcher see the
value before it changes (so even the first write after start is a crossing from a known
baseline), writes, then calls `value_written`. Values that change with time alone (a living meter's
load curve) are sampled when a request reaches the meter (simulator/cosem/catch_up.py).
"""

from __future__ import annotations

from typing import Callable

from ..axdr import Data
from .context import ObjectContext
from .control import evaluate_limiter
from .data_register import evaluate_monitor, evaluate_sensor, record_change

__all__ = ["watchers_of", "value_written", "WATCHERS"]

Evaluation = Callable[[ObjectContext], object]
# class id -> (the attribute holding its value_definition, the evaluation to run)
WATCHERS: dict[int, tuple[int, Evaluation]] = {21: (3, evaluate_monitor), 67: (13, evaluate_sensor),
                                               71: (2, evaluate_limiter)}
_SENSOR_RAW_VALUE = (67, 7)  # a sensor manager also watches its own raw_value


def _watches(watcher: ObjectContext, definition_attribute: int, logical_name: bytes, attribute: int) -> bool:
    """Whether the watcher's value_definition {class_id, logical_name, attribute_index} names it."""
    definition = watcher.get(definition_attribute).value
    return (isinstance(definition, tuple) and len(definition) >= 3
            and definition[1].value == logical_name and definition[2].value == attribute)


def watchers_of(ctx: ObjectContext, attribute: int) -> list[tuple[ObjectContext, Evaluation]]:
    """The objects whose monitored value is `ctx`'s attribute, with the evaluation each runs."""
    found: list[tuple[ObjectContext, Evaluation]] = []
    if (ctx.cls.class_id, attribute) == _SENSOR_RAW_VALUE:
        found.append((ctx, evaluate_sensor))
    logical_name = bytes(ctx.logical_name)
    for other in ctx.objects():
        watcher = WATCHERS.get(other.cls.class_id)
        if watcher is not None and _watches(other, watcher[0], logical_name, attribute):
            found.append((other, watcher[1]))
    return found


def value_written(ctx: ObjectContext, attribute: int, value: Data,
                  watchers: list[tuple[ObjectContext, Evaluation]]) -> None:
    """`ctx`'s attribute was written with `value`: let the objects watching it react."""
    record_change(ctx, attribute, value)
    for other, evaluate in watchers:
        evaluate(other)
