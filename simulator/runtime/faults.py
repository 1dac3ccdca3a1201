"""Faults a test rig injects into meters: late, lost, damaged or refused answers, silence, reboots.

A `Fault` names what goes wrong; a `FaultSet` (the engine's `faults`) keeps the faults active on
single meters and on whole groups. The transports ask `verdict(entry)` for each request to a
meter only while some fault is active (`FaultSet.on`: the hot path's one test otherwise), and
act on it the same way for the wrapper (TCP, UDP) and HDLC (TCP, serial):

- delay: each answer leaves `ms` ± `jitter_ms` later, in order (`Delayed`: one loop timer for
  the head of a queue, never a task per answer);
- drop: that share of answers never leaves;
- corrupt: that share of answers leaves damaged: "fcs", the last HDLC frame's FCS broken (the
  wrapper has no FCS: its APDU tag is changed instead), or "tag", the APDU's first octet changed;
- refuse: every AARQ is answered by an AARE rejected-permanent with the diagnostic;
- silence: no answer at all; on HDLC not even UA or DM (a TCP connection stays open);
- close: at that share of answers the connection is aborted instead (HDLC on a serial line:
  the link is dropped; UDP: the client's channel is forgotten);
- reboot: one-shot, on add: the meter restarts as after a firmware activation (`on_reboot`,
  the engine's `reboot`), and nothing is kept.

Each kept fault draws from its own random source, seeded by the target and the fault, so the
share of answers it hits is the same run after run.
"""

from __future__ import annotations

import asyncio
import random
import weakref
from collections import deque
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, Iterable

from ..apdu.acse import AcseServiceUser
from .layout import MeterEntry

__all__ = ["Fault", "FaultSet", "Verdict", "Delayed", "send_in_order", "KINDS", "diagnostic_of", "damaged_tag", "damaged_fcs"]

KINDS = ("delay", "drop", "corrupt", "refuse", "silence", "close", "reboot")
_MODES = ("fcs", "tag")
_RATIO_KINDS = ("drop", "corrupt", "close")
_MAX_DELAY_MS = 600_000.0  # ten minutes: longer is a silence


def diagnostic_of(name: str) -> AcseServiceUser:
    """The acse-service-user diagnostic named like "no-reason-given"; ValueError naming the choices."""
    try:
        return AcseServiceUser[name.strip().upper().replace("-", "_")]
    except KeyError:
        known = ", ".join(m.name.lower().replace("_", "-") for m in AcseServiceUser if m is not AcseServiceUser.NULL)
        raise ValueError(f"unknown diagnostic {name!r}: one of {known}") from None


@dataclass(frozen=True, slots=True)
class Fault:
    """What goes wrong with a meter's answers (see the module docstring)."""

    kind: str
    ms: float = 0.0  # delay
    jitter_ms: float = 0.0
    ratio: float = 1.0  # drop, corrupt, close: the share of answers hit (0..1]
    diagnostic: str = "no-reason-given"  # refuse: an AARE result-source-diagnostic (acse-service-user)
    mode: str = "fcs"  # corrupt: "fcs" | "tag"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}: one of {', '.join(KINDS)}")
        for name in ("ms", "jitter_ms", "ratio"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise ValueError(f"{name} must be a number, found {value!r}")
        if not 0 <= self.ms <= _MAX_DELAY_MS:
            raise ValueError(f"ms must be between 0 and {_MAX_DELAY_MS:g}, found {self.ms!r}")
        if not 0 <= self.jitter_ms <= _MAX_DELAY_MS:
            raise ValueError(f"jitter_ms must be between 0 and {_MAX_DELAY_MS:g}, found {self.jitter_ms!r}")
        if not 0 < self.ratio <= 1:
            raise ValueError(f"ratio must be above 0 and at most 1, found {self.ratio!r}")
        if self.mode not in _MODES:
            raise ValueError(f"unknown corrupt mode {self.mode!r}: one of {', '.join(_MODES)}")
        diagnostic_of(self.diagnostic)

    def to_json(self) -> dict[str, Any]:
        """Only what matters for the kind."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "delay":
            out.update(ms=self.ms, jitter_ms=self.jitter_ms)
        elif self.kind in _RATIO_KINDS:
            out["ratio"] = self.ratio
        if self.kind == "corrupt":
            out["mode"] = self.mode
        elif self.kind == "refuse":
            out["diagnostic"] = self.diagnostic
        return out

    @classmethod
    def from_json(cls, body: Any) -> Fault:
        """A fault from a JSON object such as {"kind": "delay", "ms": 300}; ValueError saying what is wrong."""
        if not isinstance(body, dict):
            raise ValueError("a fault is a JSON object such as {\"kind\": \"delay\", \"ms\": 300}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(body) - known)
        if unknown:
            raise ValueError(f"unknown fault field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: "
                             f"known are {', '.join(sorted(known))}")
        if "kind" not in body:
            raise ValueError(f"a fault needs a kind: one of {', '.join(KINDS)}")
        for name in ("kind", "diagnostic", "mode"):
            if name in body and not isinstance(body[name], str):
                raise ValueError(f"{name} must be a string, found {body[name]!r}")
        return cls(**body)


@dataclass(slots=True)
class Verdict:
    """What the active faults do to one request and its answer."""

    silence: bool = False
    refuse: AcseServiceUser | None = None
    drop: bool = False
    close: bool = False
    corrupt: str | None = None  # "fcs" | "tag"
    delay_s: float = 0.0


class _Kept:
    __slots__ = ("fault", "random")

    def __init__(self, fault: Fault, target: str) -> None:
        self.fault = fault
        self.random = random.Random(f"{target} {sorted(asdict(fault).items())}")

    def hits(self) -> bool:
        return self.fault.ratio >= 1 or self.random.random() < self.fault.ratio


class FaultSet:
    """The faults active on the fleet, by meter index and by group name."""

    def __init__(self, entries: list[MeterEntry]) -> None:
        self._entries = entries
        self._groups = {e.group.name for e in entries}
        self._by_meter: dict[int, list[_Kept]] = {}
        self._by_group: dict[str, list[_Kept]] = {}
        self.on = False  # some fault is active: the transports ask for verdicts
        self.on_reboot: Callable[[MeterEntry], None] | None = None  # the engine restarts a meter

    def _list(self, target: MeterEntry | str, create: bool = False) -> list[_Kept] | None:
        if isinstance(target, MeterEntry):
            return self._by_meter.setdefault(target.index, []) if create else self._by_meter.get(target.index)
        if target not in self._groups:
            raise KeyError(f"no group named {target!r}")
        return self._by_group.setdefault(target, []) if create else self._by_group.get(target)

    def add(self, target: MeterEntry | str, fault: Fault) -> None:
        """Make `fault` active on a meter or a group (replacing one of the same kind there);
        a reboot restarts the meter, or every meter of the group that was contacted, at once."""
        if fault.kind == "reboot":
            self._list(target)  # an unknown group is a KeyError
            entries = [target] if isinstance(target, MeterEntry) else \
                [e for e in self._entries if e.group.name == target]
            if self.on_reboot is not None:
                for entry in entries:
                    self.on_reboot(entry)
            return
        kept = self._list(target, create=True)
        assert kept is not None
        replaced = [k for k in kept if k.fault.kind == fault.kind]
        kept[:] = [k for k in kept if k.fault.kind != fault.kind]
        name = f"meter {target.index}" if isinstance(target, MeterEntry) else f"group {target}"
        kept.append(_Kept(fault, name))
        self.on = True
        self._release(replaced)

    def clear(self, target: MeterEntry | str) -> int:
        """Remove the faults added on a meter or a group; how many there were."""
        kept = self._list(target)
        if isinstance(target, MeterEntry):
            self._by_meter.pop(target.index, None)
        else:
            self._by_group.pop(target, None)
        self.on = bool(self._by_meter or self._by_group)
        self._release(kept or ())
        return len(kept or ())

    def _release(self, removed: Iterable[_Kept]) -> None:
        """Answers a removed delay held back leave at once, or as late as the longest delay still
        active would hold them: a ten-minute delay deleted frees its connection, while answers of
        meters that keep their delay never leave early."""
        if not any(k.fault.kind == "delay" for k in removed):
            return
        hold_ms = max((k.fault.ms + k.fault.jitter_ms for kept in (*self._by_meter.values(), *self._by_group.values())
                       for k in kept if k.fault.kind == "delay"), default=0.0)
        for delayed in list(_HOLDING):
            delayed.hurry(hold_ms / 1000)

    def added(self, target: MeterEntry | str) -> tuple[Fault, ...]:
        """The faults added on the meter or group itself."""
        return tuple(k.fault for k in self._list(target) or ())

    def active(self, entry: MeterEntry) -> tuple[Fault, ...]:
        """The faults on a meter: its own, then its group's."""
        return tuple(k.fault for k in self._kept(entry))

    @property
    def count(self) -> int:
        """Faults active, counting a group's once."""
        return sum(map(len, self._by_meter.values())) + sum(map(len, self._by_group.values()))

    def _kept(self, entry: MeterEntry) -> list[_Kept]:
        return [*self._by_meter.get(entry.index, ()), *self._by_group.get(entry.group.name, ())]

    def verdict(self, entry: MeterEntry) -> Verdict | None:
        """What the meter's faults do to its next request and answer; None when it has none.
        A meter's own fault of a kind overrides its group's."""
        kept = self._kept(entry)
        if not kept:
            return None
        verdict = Verdict()
        seen: set[str] = set()
        for each in kept:
            fault = each.fault
            if fault.kind in seen:
                continue
            seen.add(fault.kind)
            if fault.kind == "delay":
                jitter = each.random.uniform(-fault.jitter_ms, fault.jitter_ms) if fault.jitter_ms else 0.0
                verdict.delay_s = max(0.0, fault.ms + jitter) / 1000
            elif fault.kind == "silence":
                verdict.silence = True
            elif fault.kind == "refuse":
                verdict.refuse = diagnostic_of(fault.diagnostic)
            elif each.hits():
                if fault.kind == "drop":
                    verdict.drop = True
                elif fault.kind == "close":
                    verdict.close = True
                else:
                    verdict.corrupt = fault.mode
        return verdict


def damaged_tag(apdu: bytes) -> bytes:
    """The APDU with its first octet changed (every bit flipped: no APDU a client expects)."""
    return bytes((apdu[0] ^ 0xFF,)) + apdu[1:] if apdu else apdu


def damaged_fcs(frames: bytes) -> bytes:
    """HDLC frames whose last frame's FCS is broken (the octet before its closing flag)."""
    if len(frames) < 3:
        return frames
    out = bytearray(frames)
    out[-2] ^= 0xFF
    return bytes(out)


# uvloop's loop clock moves in 1 ms steps: a delay measured from a `now` read up to a step late
# would let the answer leave up to a step early. Added to every due instant: never early.
_CLOCK_STEP_S = 0.001
_HOLDING: weakref.WeakSet[Delayed] = weakref.WeakSet()  # the queues holding answers back now


def send_in_order(delayed: Delayed | None, send: Callable[[Any], None], data: Any,
                  due: float | None) -> Delayed | None:
    """Send `data` now, or at the loop time `due` (a delay fault), never before what `delayed`
    still holds; the Delayed now holding sends for `send` (made at the first delay), to keep."""
    if delayed is None:
        if due is None:
            send(data)
            return None
        delayed = Delayed(asyncio.get_running_loop(), send)
    delayed.send(data, due)
    return delayed


class Delayed:
    """Sends that leave later, in the order given: one loop timer for the head of the queue.

    `send(data, due)` with `due` None sends at once unless earlier sends still wait (then it
    waits behind them); a later `due` never overtakes an earlier one.
    """

    __slots__ = ("_loop", "_send", "_queue", "_handle", "_last", "__weakref__")

    def __init__(self, loop: Any, send: Callable[[Any], None]) -> None:
        self._loop = loop
        self._send = send
        self._queue: deque[tuple[float, Any, float]] = deque()  # (due, data, when it was queued)
        self._handle: Any = None
        self._last = 0.0

    @property
    def waiting(self) -> bool:
        return bool(self._queue)

    def send(self, data: Any, due: float | None = None) -> None:
        if due is None and not self._queue:
            self._send(data)
            return
        due = max(due + _CLOCK_STEP_S if due is not None else 0.0, self._last)
        self._last = due
        self._queue.append((due, data, self._loop.time()))
        _HOLDING.add(self)
        if self._handle is None:
            self._handle = self._loop.call_at(self._queue[0][0], self._fire)

    def hurry(self, hold_s: float) -> None:
        """Nothing waits longer than `hold_s` after it was queued (a delay fault was removed);
        the order stays."""
        last, step = 0.0, _CLOCK_STEP_S if hold_s else 0.0
        for i, (due, data, queued) in enumerate(self._queue):
            last = max(last, min(due, queued + hold_s + step))
            self._queue[i] = (last, data, queued)
        self._last = last
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._fire()

    def _fire(self) -> None:
        self._handle = None
        now = self._loop.time()
        while self._queue and self._queue[0][0] <= now:
            self._send(self._queue.popleft()[1])
        if self._queue:
            self._handle = self._loop.call_at(self._queue[0][0], self._fire)
        else:
            _HOLDING.discard(self)

    def close(self) -> None:
        """Nothing more is sent (the connection is gone)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._queue.clear()
        _HOLDING.discard(self)
