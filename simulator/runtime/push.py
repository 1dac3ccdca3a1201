"""The pusher: sends the meters' DataNotifications to their head-ends, when and as they may.

A push asked for (`submit`) is due at its trigger instant plus the meter's own offset inside
its randomisation interval (server/push_plan.py `push_offset`), moved into its next
communication window. Pending pushes wait in one heap behind one `loop.call_at` for the whole
fleet, never a timer per meter. When one is due and the limits allow it (`max_pushes_in_flight`
at once; `push_connections_per_s`, a token bucket: an excess push waits, it is never dropped)
its notification is built (server/push.py `notify`: the values now, the next invoke id and
invocation counter), the engine commits the counter (`hold`: a push whose counter cannot be
kept is not sent), and a connection from the meter's own address carries the frames: TCP
(wrapper or HDLC UI frames) connected, written and closed, or UDP datagrams. A failed attempt
is retried after the repetition delay (seconds of the meter's clock, so divided by the fleet's
rate; in a communication window again) with a new notification, a new counter, until
number_of_retries retries have failed. A push set up to a destination the meter cannot reach
(an SMS number, ...) fails each attempt the same way.
Every step is logged on `simulator.push`, prefixed with the meter's label.
"""

from __future__ import annotations

import asyncio
import errno
import heapq
import logging
import math
from collections import deque
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Protocol

from ..server.objects import Meter, ObjectHandle, PushRequest, noise_seed
from ..server.push import Notification, PushError, PushSettings, notify, push_settings, window_start
from ..server.push_plan import push_offset
from .fleet import Fleet, LiveMeter
from .layout import push_source
from .observe import Observer
from .profile import Limits
from .timers import Wakeup
from .trace import HDLCTrace

__all__ = ["Pusher", "PushHost"]

_log = logging.getLogger("simulator.push")
CONNECT_TIMEOUT_S = 10.0  # a head-end that does not accept by then fails the attempt
_LATE_S = 60.0  # a push due longer ago than its randomisation and this is dropped (a catch-up found it)
_LAG_S = 5.0  # ... or than this many real seconds: a busy loop late with an accelerated fleet drops nothing
_EPSILON_S = 1e-3  # fleet seconds: a push woken at its instant is due despite the epoch's rounding


class PushHost(Protocol):
    """What the pusher needs from the engine."""

    @property
    def fleet(self) -> Fleet: ...

    def now(self) -> float:
        """Monotonic seconds (the loop's clock)."""

    def hold(self, target: Any, data: Any) -> None:
        """Have `target.transmit(data)` called after the next commit (`target.withhold(data, why)`
        if it fails)."""

    @property
    def observer(self) -> Observer | None: ...


@dataclass(eq=False, slots=True)
class _Push:
    """One push of one meter's Push setup object, through its attempts."""

    live: LiveMeter
    request: PushRequest
    generation: int  # the object's reset count when it was asked for: a reset since drops it
    attempts: int = 0
    what: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.what = f"{self.live.label}: push"

    @property
    def key(self) -> tuple[int, int, int]:
        return self.live.entry.index, self.request.server_sap, self.request.index


class Pusher:
    """Every meter's pending and running pushes, with the fleet-wide limits."""

    def __init__(self, host: PushHost, limits: Limits) -> None:
        self._host = host
        self._loop = asyncio.get_running_loop()
        self._max_in_flight = limits.max_pushes_in_flight
        self._rate = float(limits.push_connections_per_s)
        self._burst = max(1.0, self._rate / 10)  # a tenth of a second's connections at once
        self._tokens = self._burst
        self._refilled = self._loop.time()
        self._heap: list[tuple[float, int, _Push]] = []
        self._ready: deque[_Push] = deque()  # due, waiting for the limits
        self._seq = count()
        self._wakeup = Wakeup(self._loop, self._fire)
        self._resets: dict[tuple[int, int, int], int] = {}  # (meter, sap, index) -> resets so far
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self.peak_in_flight = 0  # the most pushes in flight at once so far
        self._closed = False
        self.sent = 0  # notifications written to their destination
        self.failed = 0  # pushes given up (every attempt failed) or that could not be built

    @property
    def in_flight(self) -> int:
        """Pushes being built, committed or sent now."""
        return self._in_flight

    @property
    def pending(self) -> int:
        """Pushes waiting for their instant or for the limits (not those a reset dropped)."""
        return sum(1 for _, _, push in self._heap if self._current(push)) + len(self._ready)

    def _count(self, live: LiveMeter, sent: bool) -> None:
        """A push delivered, or given up (the observer is told too)."""
        if sent:
            self.sent += 1
        else:
            self.failed += 1
        observer = self._host.observer
        if observer is not None:
            observer.push(live, sent)

    # -- asked for by the meters
    def submit(self, live: LiveMeter, request: PushRequest) -> None:
        """Plan `request`: due at its instant + the meter's offset, in its next communication window."""
        if self._closed:
            return
        push = _Push(live, request, self._resets.get((live.entry.index, request.server_sap, request.index), 0))
        try:
            settings = push_settings(_handle(live.meter, request, request.now))
        except PushError as exc:
            _log.warning("%s (%s) dropped: %s", push.what, request.trigger, exc)
            self._count(push.live, False)
            return
        except Exception:  # a bug must not stop the other pushes
            _log.exception("%s of object %d in logical device %d (%s): its settings cannot be read", push.what,
                           request.index, request.server_sap, request.trigger)
            self._count(push.live, False)
            return
        push.what = f"{live.label}: push {settings.logical_name} ({request.trigger})"
        meter = live.meter
        time_base = meter.time_base
        due = _in_window(meter, settings, time_base.epoch(request.now) + push_offset(
            noise_seed(meter.seed, meter.fields, meter.index), request.server_sap, request.index, settings.randomisation_s))
        if due is None:
            _log.warning("%s dropped: its communication window never opens again", push.what)
            self._count(push.live, False)
            return
        late = time_base.epoch(self._loop.time()) - due
        if late > settings.randomisation_s + max(_LATE_S, _LAG_S * time_base.rate):
            _log.debug("%s dropped: it was due %.0f s ago (a run a catch-up found)", push.what, late)
            return
        self._queue(due, push)

    def reset(self, live: LiveMeter, server_sap: int, index: int) -> None:
        """Push setup reset (v2 method 2): the object's pushes waiting are dropped, none is retried."""
        key = (live.entry.index, server_sap, index)
        self._resets[key] = self._resets.get(key, 0) + 1
        name = live.meter.model.logical_devices[server_sap].objects[index].logical_name  # the reset object's own
        _log.info("%s: push %s reset: its waiting pushes are dropped", live.label, name)

    async def close(self) -> None:
        """Stop: pending pushes are dropped (logged), pushes being sent are cut off."""
        self._closed = True
        self._wakeup.cancel()
        dropped = self.pending
        self._heap.clear()
        self._ready.clear()
        if dropped:
            _log.info("stopping: %d push%s waiting %s dropped", dropped, "" if dropped == 1 else "es",
                      "is" if dropped == 1 else "are")
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def time_changed(self) -> None:
        """The fleet's time was paused, resumed, sped up or moved forward: the timer is set again
        for the pushes' instants (fleet epochs) as the new pace reaches them."""
        self._wakeup.cancel()
        self._arm()

    # -- the timer and the limits
    def _queue(self, due: float, push: _Push) -> None:
        """Wait for fleet epoch `due` (the heap is in fleet time: a change of pace moves no push)."""
        heapq.heappush(self._heap, (due, next(self._seq), push))
        self._arm()

    def _current(self, push: _Push) -> bool:
        """Not reset since it was asked for."""
        return self._resets.get(push.key, 0) == push.generation

    def _arm(self) -> None:
        """One `call_at` for the earliest due push, or the next token when pushes wait for one."""
        if self._closed:
            return
        wake: float | None = self._host.fleet.time_base.wake_at(self._heap[0][0]) if self._heap else None
        if self._ready and self._in_flight < self._max_in_flight:
            token = self._refilled + max(0.0, 1.0 - self._tokens) / self._rate
            wake = token if wake is None else min(wake, token)
        if wake is not None and wake < math.inf:  # inf: the fleet's time is paused before it
            self._wakeup.at(wake)

    def _fire(self) -> None:
        epoch = self._host.fleet.time_base.epoch(self._loop.time()) + _EPSILON_S
        heap = self._heap
        while heap and heap[0][0] <= epoch:
            push = heapq.heappop(heap)[2]
            if self._current(push):
                self._ready.append(push)
        self._pump()
        self._arm()

    def _pump(self) -> None:
        """Start due pushes while the in-flight bound and the token bucket allow."""
        now = self._loop.time()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        while self._ready and self._in_flight < self._max_in_flight and self._tokens >= 1.0:
            push = self._ready.popleft()
            if not self._current(push):
                continue
            self._tokens -= 1.0
            self._attempt(push)

    # -- one attempt
    def _attempt(self, push: _Push) -> None:
        """Build the notification now and have the engine commit its counter before it is sent."""
        live, request = push.live, push.request
        push.attempts += 1
        now = self._loop.time()
        try:
            notification = notify(live.meter, request, now)  # PushError when it has no destination
        except PushError as exc:
            live.note_changes()
            self._failed(push, str(exc))
            return
        except Exception:  # a bug building it: logged, counted, and the loop goes on
            _log.exception("%s: attempt %d could not be built", push.what, push.attempts)
            live.note_changes()
            self._count(push.live, False)
            return
        self._in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        live.note_changes()  # the invocation counter used is committed before the frames leave
        self._host.hold(_Delivery(self, push), notification)
        self._host.fleet.take_pushes(live)  # what reading the values triggered (an alarm) follows

    def _deliver(self, push: _Push, notification: Notification) -> None:
        if self._closed:
            self._in_flight -= 1
            _log.debug("%s: not sent, the fleet is stopping", push.what)
            return
        task = self._loop.create_task(self._send(push, notification))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _withheld(self, push: _Push, why: str) -> None:
        self._in_flight -= 1
        self._failed(push, f"not sent, its invocation counter could not be kept ({why})")
        self._pump()
        self._arm()

    async def _send(self, push: _Push, notification: Notification) -> None:
        destination = notification.destination
        source = push_source(push.live.entry.group, push.live.entry.group_index, destination.transport)
        where = f"{push.what} to {_describe(notification)}"
        try:
            if destination.transport == "udp":
                await self._send_udp(push.live, notification, source)
            else:
                await self._send_tcp(push.live, notification, source)
        except asyncio.CancelledError:
            self._in_flight -= 1
            raise
        except (OSError, asyncio.TimeoutError) as exc:
            self._in_flight -= 1
            why = _reason(exc)
            if isinstance(exc, OSError) and exc.errno == errno.EINVAL and source is not None:
                why = (f"the meter's address {source} cannot reach {destination.host} (a loopback address reaches "
                       "only this host: start the fleet with run --host)")
            self._failed(push, why, where)
        except Exception:  # never let one push take the loop down
            self._in_flight -= 1
            _log.exception("%s: attempt %d failed", where, push.attempts)
            self._count(push.live, False)
        else:
            self._in_flight -= 1
            self._count(push.live, True)
            _log.info("%s: sent %s", where, notification.summary)
            self._trace(push, notification)
        if not self._closed:
            self._pump()
            self._arm()

    def _trace(self, push: _Push, notification: Notification) -> None:
        """`--trace` shows every frame a meter sends: a push's as they left, the APDU opened with
        the meter's own keys (a decode session of its own, forgotten at once)."""
        tracer = self._host.fleet.tracer
        if not tracer.enabled:
            return
        d = notification.destination
        if d.transport == "hdlc":
            line = HDLCTrace(tracer)
            line.sent(push.live, None, d.server_sap, d.client_sap, b"".join(notification.frames))
            tracer.drop((id(line), None))
        else:
            tracer.wrapper(push.live, notification, False, d.client_sap, d.server_sap, notification.apdu)
            tracer.forget(notification)

    async def _send_tcp(self, live: LiveMeter, notification: Notification, source: str | None) -> None:
        destination = notification.destination
        local = (source, 0) if source is not None else None
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(destination.host, destination.port, local_addr=local), CONNECT_TIMEOUT_S)
        try:
            writer.write(b"".join(notification.frames))
            self._observe(live, notification, writer.get_extra_info("sockname"), writer.get_extra_info("peername"))
            await asyncio.wait_for(writer.drain(), CONNECT_TIMEOUT_S)
        finally:
            writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), CONNECT_TIMEOUT_S)
        except OSError:  # written and closed: a reset by the peer now changes nothing
            pass

    async def _send_udp(self, live: LiveMeter, notification: Notification, source: str | None) -> None:
        destination = notification.destination
        local = (source, 0) if source is not None else None
        transport, _ = await self._loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=local, remote_addr=(destination.host, destination.port))
        try:
            for frame in notification.frames:
                transport.sendto(frame)
            self._observe(live, notification, transport.get_extra_info("sockname"),
                          transport.get_extra_info("peername"))
        finally:
            transport.close()

    def _observe(self, live: LiveMeter, notification: Notification, local: Any, peer: Any) -> None:
        """The frames a push sent, to an observer that wants them (the control plane's trace, --pcap)."""
        observer = self._host.observer
        if observer is None or not observer.frames_wanted:
            return
        kind = {"udp": "udp", "hdlc": "hdlc-tcp"}.get(notification.destination.transport, "tcp")
        for frame in notification.frames:
            observer.frame(live, notification, False, frame, kind, f"{peer[0]}:{peer[1]}", f"{local[0]}:{local[1]}")

    def _failed(self, push: _Push, why: str, where: str | None = None) -> None:
        """An attempt failed: retry after the repetition delay (as the object says now), or give up."""
        try:
            settings: PushSettings | None = push_settings(_handle(push.live.meter, push.request, self._loop.time()))
        except Exception:  # logged below as given up
            settings = None
        attempts = 1 + (settings.retry.retries if settings is not None else 0)
        where = where or push.what
        meter = push.live.meter
        now = self._loop.time()
        delay = due = None
        if settings is not None and push.attempts < attempts and not self._closed and self._current(push):
            delay = settings.retry.delay(push.attempts)
            due = _in_window(meter, settings, meter.time_base.epoch(now) + delay)
        if delay is None or due is None:
            window = "; no communication window opens again" if delay is not None else ""
            _log.warning("%s: attempt %d of %d failed: %s; gave up after %d attempt%s%s", where, push.attempts,
                         attempts, why, push.attempts, "" if push.attempts == 1 else "s", window)
            self._count(push.live, False)
            return
        wait = due - meter.time_base.epoch(now)
        when = f"in {delay:g} s" if wait <= delay + 1 else f"when its communication window opens, in {wait:.0f} s"
        _log.info("%s: attempt %d of %d failed: %s; retry %s", where, push.attempts, attempts, why, when)
        self._queue(due, push)


class _Delivery:
    """Where the engine hands a built notification once its counter is committed."""

    __slots__ = ("pusher", "push")

    def __init__(self, pusher: Pusher, push: _Push) -> None:
        self.pusher = pusher
        self.push = push

    def transmit(self, notification: Notification) -> None:
        self.pusher._deliver(self.push, notification)

    def withhold(self, notification: Notification, why: str) -> None:
        self.pusher._withheld(self.push, why)


def _handle(meter: Meter, request: PushRequest, now: float) -> ObjectHandle:
    device = meter.model.logical_devices.get(request.server_sap)
    handle = None if device is None else meter.object(device, request.index, now)
    if handle is None:
        raise PushError(f"no object {request.index} in logical device {request.server_sap}")
    return handle


def _in_window(meter: Meter, settings: PushSettings, epoch: float) -> float | None:
    """The first fleet epoch >= `epoch` inside the push's communication window (None: it never
    opens again); the windows are read on the meter's own clock."""
    offset = meter.state.clock_offset_s
    opens = window_start(settings, epoch + offset, meter.utc_offset_min)
    return None if opens is None else opens - offset


def _describe(notification: Notification) -> str:
    d = notification.destination
    return f"{d.transport} {d.host}:{d.port}, client {d.client_sap}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, asyncio.TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT_S:g} s"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
