"""The loop-wide timer queue, on a fake loop: one armed handle however many links have deadlines."""

from __future__ import annotations

import gc
import logging
import weakref

import pytest

from simulator.runtime.timers import TimerQueue


class FakeHandle:
    def __init__(self, when: float, callback) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """time() and call_at() only; `advance` runs what falls due, in order."""

    def __init__(self) -> None:
        self.now = 0.0
        self.handles: list[FakeHandle] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback) -> FakeHandle:
        handle = FakeHandle(when, callback)
        self.handles.append(handle)
        return handle

    @property
    def armed(self) -> list[FakeHandle]:
        return [h for h in self.handles if not h.cancelled and h.callback is not None]

    def advance(self, to: float) -> None:
        self.now = to
        while due := sorted((h for h in self.armed if h.when <= to), key=lambda h: h.when):
            handle = due[0]
            callback, handle.callback = handle.callback, None
            callback()


class Link:
    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.fired: list[float] = []

    def get_timer(self) -> float | None:
        return self.deadline

    def handle_timer(self, now: float) -> None:
        self.fired.append(now)
        self.deadline = None


@pytest.fixture
def loop() -> FakeLoop:
    return FakeLoop()


def test_one_handle_for_many_links(loop: FakeLoop) -> None:
    queue = TimerQueue(loop)  # type: ignore[arg-type]
    links = [Link(10.0 + i) for i in range(100)]
    for link in links:
        queue.update(link)
    assert len(queue) == 100 and len(loop.armed) == 1 and loop.armed[0].when == 10.0
    loop.advance(50.0)
    assert [link.fired for link in links[:3]] == [[50.0], [50.0], [50.0]]
    assert all(link.fired for link in links[:41]) and not any(link.fired for link in links[41:])
    assert loop.armed[0].when == 51.0 and len(queue) == 59


def test_an_earlier_deadline_rearms(loop: FakeLoop) -> None:
    queue = TimerQueue(loop)  # type: ignore[arg-type]
    late, early = Link(100.0), Link(5.0)
    queue.update(late)
    queue.update(early)
    assert [h.when for h in loop.armed] == [5.0]
    loop.advance(5.0)
    assert early.fired == [5.0] and late.fired == []


def test_a_later_deadline_is_requeued_when_the_old_one_comes_up(loop: FakeLoop) -> None:
    """An active link moving its deadline later costs nothing until the old deadline passes."""
    queue = TimerQueue(loop)  # type: ignore[arg-type]
    link = Link(10.0)
    queue.update(link)
    link.deadline = 30.0  # activity: the inactivity deadline moved
    queue.update(link)
    assert len(loop.handles) == 1
    loop.advance(10.0)
    assert link.fired == [] and loop.armed[0].when == 30.0
    loop.advance(30.0)
    assert link.fired == [30.0] and len(queue) == 0 and loop.armed == []


def test_discarded_and_idle_links_never_fire(loop: FakeLoop) -> None:
    queue = TimerQueue(loop)  # type: ignore[arg-type]
    gone, idle = Link(1.0), Link(None)
    queue.update(gone)
    queue.update(idle)
    queue.discard(gone)
    assert len(queue) == 0
    loop.advance(10.0)
    assert gone.fired == [] and idle.fired == []


def test_a_failing_link_does_not_stop_the_others(loop: FakeLoop, caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Link):
        def handle_timer(self, now: float) -> None:
            self.deadline = None
            raise RuntimeError("bug")

    queue = TimerQueue(loop)  # type: ignore[arg-type]
    broken, fine = Broken(1.0), Link(1.0)
    queue.update(broken)
    queue.update(fine)
    with caplog.at_level(logging.ERROR):
        loop.advance(1.0)
    assert fine.fired == [1.0] and "timer of" in caplog.text


def test_discarded_links_are_not_kept(loop: FakeLoop) -> None:
    """Closed links leave the heap: memory follows the links open now, not every link ever opened."""
    queue = TimerQueue(loop)  # type: ignore[arg-type]
    keep = Link(1000.0)
    queue.update(keep)
    refs = []
    for i in range(1000):
        link = Link(300.0 + i)
        queue.update(link)
        queue.discard(link)
        refs.append(weakref.ref(link))
    del link
    gc.collect()
    assert sum(ref() is not None for ref in refs) <= 64 + 2  # at most the slack before a compaction
    assert len(queue) == 1
    loop.advance(1000.0)
    assert keep.fired == [1000.0]


def test_a_link_discarded_while_timers_fire(loop: FakeLoop) -> None:
    """A handler may close other links (a UDP peer dropped): the heap stays consistent."""
    queue = TimerQueue(loop)  # type: ignore[arg-type]
    others = [Link(50.0 + i) for i in range(200)]

    class Closer(Link):
        def handle_timer(self, now: float) -> None:
            super().handle_timer(now)
            for other in others[:150]:
                queue.discard(other)

    closer = Closer(10.0)
    queue.update(closer)
    for other in others:
        queue.update(other)
    loop.advance(10.0)
    loop.advance(1000.0)
    assert closer.fired == [10.0]
    assert not any(o.fired for o in others[:150]) and all(o.fired == [1000.0] for o in others[150:])
    assert len(queue) == 0


def test_a_link_still_due_after_its_handler_waits_for_the_next_round(loop: FakeLoop) -> None:
    """A handler that leaves its deadline in the past (a UDP client already dropped) cannot spin the loop."""

    class Spinning(BaseException):  # not caught by the queue's safety net
        pass

    class Stubborn(Link):
        def handle_timer(self, now: float) -> None:
            self.fired.append(now)
            if len(self.fired) > 100:
                raise Spinning

    queue = TimerQueue(loop)  # type: ignore[arg-type]
    stubborn = Stubborn(5.0)
    queue.update(stubborn)
    loop.now = 5.0
    (handle,) = loop.armed
    callback, handle.callback = handle.callback, None
    callback()  # one round of the loop
    assert stubborn.fired == [5.0] and [h.when for h in loop.armed] == [5.0]
