"""What methods and class behaviours leave behind in one object of one meter: small typed records.

An interface class reads its record with `ctx.effect(Kind)` (None: the object never did
anything, which costs nothing) and changes it through `ctx.change(Kind)`, which creates it on
first use and notes the change in the meter's journal. Each record turns into plain values
(`to_record`) and back (`from_record`) for the persistence layer: ints, floats, bytes, text and
A-XDR encoded `Data`. `PERSISTENT = False` marks bookkeeping that means nothing after a restart.

Times noted as `now` are the runtime's monotonic seconds; they are markers for tests and the
control plane, not instants that survive a restart.

Living meters compute most values from time (simulator/living); what a meter itself did that
no formula knows is kept here: the events it logged (`LoggedEvents`), when its supply was
switched (`SupplyChanges`), and the values clients set registers to (`RegisterBase`). Their
instants are epochs, which do survive a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from ..axdr import Data

__all__ = [
    "Effect", "E", "EFFECT_KINDS", "ImageTransfer", "ClockAdjustment", "LimiterState", "ThresholdCrossings",
    "CompactCapture", "ScriptRun", "CalendarActivation", "ScheduleRun", "TrafficRequests", "MBusTraffic",
    "ProfileRows", "ProfileReset", "ObjectListEdits", "SapAssignment", "LoggedEvents", "SupplyChanges", "RegisterBase",
    "PushHistory", "InjectedEvents",
]


class Effect:
    """Base of every effect record: a `KIND` name and a plain-value record form.

    The default record maps each field to itself, `Data` to its A-XDR bytes; classes with other
    field types override `to_record`/`from_record`.
    """

    __slots__ = ()
    KIND: ClassVar[str]
    PERSISTENT: ClassVar[bool] = True

    def to_record(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_record(cls: type[E], record: dict[str, Any]) -> E:
        return cls(**record)


E = TypeVar("E", bound=Effect)


def _plain(value: Any) -> Any:
    if isinstance(value, Data):
        return value.to_bytes()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _data(raw: bytes | None) -> Data | None:
    return None if raw is None else Data.from_bytes(raw)


@dataclass(slots=True)
class ImageTransfer(Effect):
    """Image transfer (18): the transfer in progress and the blocks received."""

    KIND = "image_transfer"
    status: int = 0  # image_transfer_status (0 image transfer not initiated)
    identifier: bytes = b""
    size: int = 0
    block_size: int = 1
    blocks: dict[int, bytes] = field(default_factory=dict)
    first_missing: int = 0
    activated_identifier: bytes | None = None  # the last image activated (None: original firmware)

    def to_record(self) -> dict[str, Any]:
        record = Effect.to_record(self)
        record["blocks"] = sorted([n, b] for n, b in self.blocks.items())
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ImageTransfer:
        return cls(**{**record, "blocks": {int(n): bytes(b) for n, b in record.get("blocks", ())}})


@dataclass(slots=True)
class ClockAdjustment(Effect):
    """Clock (8): the status bits a client set or cleared, a preset adjusting time, and when a
    client last set the time (fleet epoch: a clock invalid after a long power failure is valid
    again from then)."""

    KIND = "clock"
    status: int = 0
    preset: tuple[float, float, float] | None = None  # preset time, validity start, end (UTC epoch s)
    set_at: float | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ClockAdjustment:
        preset = record.get("preset")
        return cls(record.get("status", 0), None if preset is None else (preset[0], preset[1], preset[2]),
                   record.get("set_at"))


@dataclass(slots=True)
class LimiterState(Effect):
    """Limiter (71): which side of the threshold the value is on, since when, and the
    condition the last action put the limiter in."""

    KIND = "limiter"
    emergency: bool = False
    side: str | None = None  # "over" / "under"
    since: float = 0.0  # fleet epoch the value went to that side
    condition: str = "under"


@dataclass(slots=True)
class ThresholdCrossings(Effect):
    """Register monitor (21) and the like: the last value each monitored value had."""

    KIND = "thresholds"
    last: dict[str, float] = field(default_factory=dict)  # by monitored value ("last", "raw", ...)


@dataclass(slots=True)
class CompactCapture(Effect):
    """Compact data (62): the captured template description and buffer."""

    KIND = "compact_capture"
    description: bytes | None = None
    buffer: bytes | None = None


@dataclass(slots=True)
class ScriptRun(Effect):
    """Script table (9): how deeply scripts are nested right now (a guard, never saved)."""

    KIND = "script_run"
    PERSISTENT = False
    depth: int = 0


@dataclass(slots=True)
class CalendarActivation(Effect):
    """Activity calendar (20): the activate_passive_calendar_time already acted on, and the last
    activation: its meter epoch and the season, week and day tables it replaced (the tariffs of
    the time before it are computed from those)."""

    KIND = "calendar_activation"
    activated: Data | None = None
    at: float | None = None
    previous: tuple[Data, ...] = ()

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CalendarActivation:
        return cls(_data(record.get("activated")), record.get("at"),
                   tuple(Data.from_bytes(raw) for raw in record.get("previous", ())))


@dataclass(slots=True)
class ScheduleRun(Effect):
    """Single action schedule (22): where the meter's local time stood at the last run."""

    KIND = "schedule_run"
    last: datetime | None = None  # naive local time

    def to_record(self) -> dict[str, Any]:
        return {"last": None if self.last is None else self.last.isoformat()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ScheduleRun:
        last = record.get("last")
        return cls(None if last is None else datetime.fromisoformat(last))


@dataclass(slots=True)
class TrafficRequests(Effect):
    """Push setup, Auto connect, NTP setup...: traffic a method asked for and the simulator
    does not perform, marked with the `now` of the request (None: not requested)."""

    KIND = "traffic_requests"
    push: float | None = None
    connect: float | None = None
    synchronize: float | None = None


@dataclass(slots=True)
class MBusTraffic(Effect):
    """M-Bus client (72): bus traffic the simulator does not perform, marked with `now`."""

    KIND = "mbus_traffic"
    captured: float | None = None
    clock_synchronized: float | None = None
    data_sent: float | None = None


@dataclass(slots=True)
class ProfileRows(Effect):
    """Profile generic (7): the rows this meter captured (replacing the model's)."""

    KIND = "profile_rows"
    rows: list[Data] = field(default_factory=list)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ProfileRows:
        return cls([Data.from_bytes(r) for r in record.get("rows", ())])


@dataclass(slots=True)
class ProfileReset(Effect):
    """Profile generic (7) of a living meter: its rows are computed from time, and exist only
    after the meter epoch `after` (the last reset, or a change of the profile's structure)."""

    KIND = "profile_reset"
    after: float = 0.0


@dataclass(slots=True)
class ObjectListEdits(Effect):
    """Association LN (15): add_object / remove_object edits of the object_list clients read."""

    KIND = "object_list_edits"
    added: tuple[Data, ...] = ()
    removed: frozenset[tuple[int, bytes]] = frozenset()  # (class_id, logical name)

    def to_record(self) -> dict[str, Any]:
        return {"added": [e.to_bytes() for e in self.added], "removed": sorted([c, n] for c, n in self.removed)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ObjectListEdits:
        return cls(tuple(Data.from_bytes(e) for e in record.get("added", ())),
                   frozenset((int(c), bytes(n)) for c, n in record.get("removed", ())))


@dataclass(slots=True)
class SapAssignment(Effect):
    """SAP assignment (17): the list connect_logical_device made (what clients read)."""

    KIND = "sap_assignment"
    entries: Data | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SapAssignment:
        return cls(_data(record.get("entries")))


@dataclass(slots=True)
class LoggedEvents(Effect):
    """An event log (Profile generic): the events this meter itself raised, oldest first, as
    (meter epoch, event code). Generated events (simulator/living/events.py) are not stored:
    they are computed for any range when read."""

    KIND = "logged_events"
    entries: list[tuple[float, int]] = field(default_factory=list)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> LoggedEvents:
        return cls([(float(t), int(c)) for t, c in record.get("entries", ())])


@dataclass(slots=True)
class SupplyChanges(Effect):
    """Disconnect control (70): when the load was switched, as (fleet epoch, connected), oldest
    first; metrology reads it: no energy flows while disconnected. `states` keeps every change
    of control_state as (fleet epoch, state before, state after), so the control state at a past
    instant (a disconnector control log row) reads as it was."""

    KIND = "supply_changes"
    changes: list[tuple[float, bool]] = field(default_factory=list)
    states: list[tuple[float, int, int]] = field(default_factory=list)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SupplyChanges:
        return cls([(float(t), bool(c)) for t, c in record.get("changes", ())],
                   [(float(t), int(b), int(a)) for t, b, a in record.get("states", ())])


@dataclass(slots=True)
class RegisterBase(Effect):
    """A living register a client SET (or reset): from fleet epoch `at` it reads `value` plus
    what was measured since. Older bases stay for reading the past (profile rows)."""

    KIND = "register_base"
    bases: list[tuple[float, float]] = field(default_factory=list)  # (fleet epoch, value in the register's unit)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RegisterBase:
        return cls([(float(t), float(v)) for t, v in record.get("bases", ())])


@dataclass(slots=True)
class PushHistory(Effect):
    """Push setup (40): what this meter pushed once in its life (the installation notice), so a
    restart of the fleet with its state does not push it again."""

    KIND = "push_history"
    installed: bool = False


@dataclass(slots=True)
class InjectedEvents(Effect):
    """Events the control plane injected into a living meter, kept on the Clock 0.0.1.0.0.255 of
    its first logical device (every living meter has one; the events concern the whole meter).
    `events` are (kind of simulator/living/events.py KINDS, phase or None, start, end) and
    `alarms` (at, alarm register 0 or 1, bits), in fleet epochs, oldest first: they join the
    generated events wherever those are read, and survive a restart like them."""

    KIND = "injected_events"
    events: list[tuple[str, int | None, float, float]] = field(default_factory=list)
    alarms: list[tuple[float, int, int]] = field(default_factory=list)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> InjectedEvents:
        return cls([(str(k), None if p is None else int(p), float(a), float(b)) for k, p, a, b in record.get("events", ())],
                   [(float(t), int(r), int(b)) for t, r, b in record.get("alarms", ())])


EFFECT_KINDS: dict[str, type[Effect]] = {k.KIND: k for k in (
    ImageTransfer, ClockAdjustment, LimiterState, ThresholdCrossings, CompactCapture, ScriptRun,
    CalendarActivation, ScheduleRun, TrafficRequests, MBusTraffic, ProfileRows, ProfileReset, ObjectListEdits,
    SapAssignment, LoggedEvents, SupplyChanges, RegisterBase, PushHistory, InjectedEvents)}
