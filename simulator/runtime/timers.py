"""One loop-wide timer for every link that has a deadline.

A fleet of 100,000 meters must not hold 100,000 timer handles: idle meters have no link and
so no deadline. Links with work pending say when through `get_timer()` (the sans-IO
vocabulary); this queue keeps them in a heap and arms a single `loop.call_at` for the earliest.
A link whose deadline moves later keeps its old entry: when that fires the link is asked
again and re-queued, so an active link costs one heap push per deadline moved earlier, not
one per byte received. A closed link's entries are dropped once stale entries outnumber the
live ones (`_compact`), so memory follows the links open now, not every link ever opened, at
an amortised cost of O(1) per discard.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from itertools import count
from typing import Callable, Protocol

__all__ = ["Timed", "TimerQueue", "Wakeup"]

_log = logging.getLogger(__name__)


class Timed(Protocol):
    def get_timer(self) -> float | None:
        """The next instant (loop time) `handle_timer` has work to do, or None."""

    def handle_timer(self, now: float) -> None: ...


class Wakeup:
    """One `loop.call_at` that only ever moves earlier: `at(when)` arms it for `when` unless it is
    already armed for that instant or before. The fleet-wide queues (links, pushes, the push
    scheduler) each keep their own heap and hold one of these for its head."""

    __slots__ = ("_loop", "_fire", "_handle", "_armed_for")

    def __init__(self, loop: asyncio.AbstractEventLoop, fire: Callable[[], None]) -> None:
        self._loop = loop
        self._fire = fire
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None

    def at(self, when: float) -> None:
        """Call `fire` at loop time `when`, or earlier if it is armed for earlier already."""
        if self._armed_for is not None and self._armed_for <= when:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._armed_for = when
        self._handle = self._loop.call_at(when, self._ring)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._armed_for = None

    def _ring(self) -> None:
        self._handle = self._armed_for = None
        self._fire()


class TimerQueue:
    """Deadlines of many links behind one `call_at` handle."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._heap: list[tuple[float, int, Timed]] = []
        self._queued: dict[Timed, float] = {}  # earliest queued deadline per link
        self._seq = count()
        self._wakeup = Wakeup(loop, self._fire)

    def __len__(self) -> int:
        """Links with a queued deadline."""
        return len(self._queued)

    def update(self, link: Timed) -> None:
        """Queue `link.get_timer()` unless an earlier deadline of the link is already queued."""
        deadline = link.get_timer()
        if deadline is None:
            return
        queued = self._queued.get(link)
        if queued is not None and queued <= deadline:
            return
        self._queued[link] = deadline
        heapq.heappush(self._heap, (deadline, next(self._seq), link))
        self._arm()

    def discard(self, link: Timed) -> None:
        """Forget a closed link: its heap entries are skipped, and dropped at the next compaction."""
        if self._queued.pop(link, None) is not None:
            self._compact()

    def close(self) -> None:
        self._wakeup.cancel()
        self._heap.clear()
        self._queued.clear()

    def _arm(self) -> None:
        if self._heap:
            self._wakeup.at(self._heap[0][0])

    def _fire(self) -> None:
        now = self._loop.time()
        heap = self._heap
        fresh = next(self._seq)  # entries queued from here on wait for the next round: a link still
        while heap and heap[0][0] <= now and heap[0][1] < fresh:  # due after its handler cannot spin
            deadline, _, link = heapq.heappop(heap)
            if self._queued.get(link) != deadline:
                continue  # superseded or discarded
            del self._queued[link]
            due = link.get_timer()
            if due is not None and due <= now:
                try:
                    link.handle_timer(now)
                except Exception:  # one broken link must not stop every other timer
                    _log.exception("timer of %r failed", link)
            self.update(link)
        self._compact()
        self._arm()

    def _compact(self) -> None:
        """Drop superseded and discarded entries once they outnumber the live ones."""
        heap = self._heap
        if len(heap) > 2 * len(self._queued) + 64:
            heap[:] = [e for e in heap if self._queued.get(e[2]) == e[0]]  # in place: `_fire` holds it
            heapq.heapify(heap)
