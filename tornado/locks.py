"""Synchronization primitives for coroutines: Condition, Event, Semaphore, Lock.

They mirror the `threading` classes of the same names, except that nothing
blocks: every waiting method hands back a Future to ``await``/``yield``,
optionally bounded by a timeout (an `.IOLoop.time` deadline or a
`datetime.timedelta`).  All of them belong to one thread and are not
thread-safe.  asyncio has equivalents; these remain for Tornado's timeout
style and for existing code.

Built on `tornado.concurrent`, `tornado.gen` (for timeouts) and
`tornado.ioloop`.
"""

from __future__ import annotations

import collections
import datetime
import types
from typing import Any, Awaitable, Callable, Deque, Optional, Set, Type, Union

from tornado import gen, ioloop
from tornado.concurrent import Future, future_set_result_unless_cancelled

__all__ = "Condition Event Semaphore BoundedSemaphore Lock".split()

_Timeout = Optional[Union[float, datetime.timedelta]]
_ExcType = Optional[Type[BaseException]]
_Exc = Optional[BaseException]
_Tb = Optional[types.TracebackType]


def _arm_timeout(
    waiter: "Future[Any]", timeout: Union[float, datetime.timedelta], fire: Callable[[], None]
) -> None:
    """Call ``fire()`` at ``timeout`` unless ``waiter`` is settled before.

    (A waiter settled during the loop iteration in which the deadline falls
    may still see ``fire`` run: it should check ``waiter.done()``.)
    """
    loop = ioloop.IOLoop.current()
    timer = loop.add_timeout(timeout, fire)
    waiter.add_done_callback(lambda _: loop.remove_timeout(timer))


class _TimeoutGarbageCollector:
    """Shared base of the primitives that queue waiters, some with deadlines.

    A waiter whose deadline passes stays in the deque (deleting from the
    middle of a deque costs a scan); after every hundred or so expiries the
    deque is rebuilt from the waiters still pending, so timed-out entries
    cannot pile up forever.
    """

    # Expiries tolerated before the queue is swept.
    _SWEEP_AFTER = 100

    def __init__(self) -> None:
        self._waiters: Deque[Future[Any]] = collections.deque()
        self._timeouts = 0

    def _garbage_collect(self) -> None:
        self._timeouts += 1
        if self._timeouts <= self._SWEEP_AFTER:
            return
        self._timeouts = 0
        self._waiters = collections.deque(w for w in self._waiters if not w.done())

    def _queue_waiter(
        self, waiter: "Future[Any]", timeout: _Timeout, expire: Callable[["Future[Any]"], None]
    ) -> None:
        """Append ``waiter``; at ``timeout``, call ``expire`` on it if still pending."""
        self._waiters.append(waiter)
        if timeout is None:
            return

        def deadline_passed() -> None:
            if not waiter.done():
                expire(waiter)
            self._garbage_collect()

        _arm_timeout(waiter, timeout, deadline_passed)

    def _pop_pending(self) -> "Optional[Future[Any]]":
        """Remove and return the oldest waiter not yet settled, or None."""
        queue = self._waiters
        while queue:
            candidate = queue.popleft()
            if not candidate.done():
                return candidate
        return None


def _expire_false(waiter: "Future[bool]") -> None:
    waiter.set_result(False)


def _expire_error(waiter: "Future[Any]") -> None:
    waiter.set_exception(gen.TimeoutError())


class Condition(_TimeoutGarbageCollector):
    """Lets coroutines sleep until some other code calls `notify`.

    The Future from `wait` becomes True when a notification arrives, or
    False once the timeout passes.  No lock goes with it: code between two
    yields runs without interruption anyway.  Notifications wake waiters
    oldest first.
    """

    def __repr__(self) -> str:
        pending = len(self._waiters)
        suffix = " waiters[%s]" % pending if pending else ""
        return "<%s%s>" % (type(self).__name__, suffix)

    def wait(self, timeout: _Timeout = None) -> Awaitable[bool]:
        """A Future for the next notification; it resolves to False on timeout."""
        waiter: Future[bool] = Future()
        self._queue_waiter(waiter, timeout, _expire_false)
        return waiter

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` of the waiters that are still waiting."""
        chosen = []
        while len(chosen) < n:
            waiter = self._pop_pending()
            if waiter is None:
                break
            chosen.append(waiter)
        # Resolved only once all are chosen, since resolving one can lead to
        # a nested notify() that must not pick the same waiters.
        for waiter in chosen:
            future_set_result_unless_cancelled(waiter, True)

    def notify_all(self) -> None:
        """Wake all current waiters."""
        everyone = len(self._waiters)
        self.notify(everyone)


class Event:
    """A boolean flag that coroutines can wait on.

    It starts cleared.  `set` releases everyone waiting and lets later calls
    to `wait` finish immediately, until `clear` is called.
    """

    def __init__(self) -> None:
        self._waiters: Set[Future[None]] = set()
        self._value = False

    def __repr__(self) -> str:
        state = "set" if self._value else "clear"
        return "<%s %s>" % (type(self).__name__, state)

    def is_set(self) -> bool:
        """Whether the flag is currently set."""
        return self._value

    def set(self) -> None:
        """Raise the flag, waking every waiter; a no-op if it is already set."""
        if self._value:
            return
        self._value = True
        for waiter in list(self._waiters):
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        """Lower the flag, so that `wait` waits again."""
        self._value = False

    def wait(self, timeout: _Timeout = None) -> Awaitable[None]:
        """A Future that resolves once the flag is set.

        If a ``timeout`` is given and passes first, the Future fails with
        `tornado.util.TimeoutError`.
        """
        flag: Future[None] = Future()
        if self._value:
            flag.set_result(None)
            return flag
        self._waiters.add(flag)
        flag.add_done_callback(self._waiters.discard)
        if timeout is None:
            return flag
        bounded = gen.with_timeout(timeout, flag)
        # Once the bounded Future is over (timed out, or cancelled by its
        # consumer), stop waiting on the flag; cancelling also drops it
        # from the waiter set.
        bounded.add_done_callback(lambda _: flag.cancel())
        return bounded


class _ReleasingContextManager:
    """What a successful acquire resolves to: leaving its ``with`` block releases.

    This is what makes ``with (yield semaphore.acquire()):`` hand the slot
    back at the end of the block.
    """

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: _ExcType, exc_val: _Exc, exc_tb: _Tb) -> None:
        self._obj.release()


class Semaphore(_TimeoutGarbageCollector):
    """A counter of free slots, taken by `acquire` and given back by `release`.

    When no slot is free, `acquire` waits; slots are handed to waiters in
    the order they asked.  ``async with semaphore:`` holds a slot for the
    duration of a block; a plain ``with`` raises `RuntimeError`.
    """

    def __init__(self, value: int = 1) -> None:
        super().__init__()
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0, got %r" % (value,))
        self._value = value

    def __repr__(self) -> str:
        details = ["unlocked,value:%s" % self._value if self._value else "locked"]
        if self._waiters:
            details.append("waiters:%s" % len(self._waiters))
        return "<%s [%s]>" % (object.__repr__(self)[1:-1], ",".join(details))

    def release(self) -> None:
        """Give a slot back; the oldest pending waiter, if any, takes it over."""
        heir = self._pop_pending()
        if heir is None:
            self._value += 1
        else:
            heir.set_result(_ReleasingContextManager(self))

    def acquire(self, timeout: _Timeout = None) -> Awaitable[_ReleasingContextManager]:
        """Take a slot, waiting for one if none is free.

        The Future's value works as a ``with`` context manager that releases
        the slot on exit.  When ``timeout`` passes before a slot is obtained,
        the Future fails with `tornado.util.TimeoutError`.
        """
        ticket: Future[_ReleasingContextManager] = Future()
        if self._value <= 0:
            self._queue_waiter(ticket, timeout, _expire_error)
            return ticket
        self._value -= 1
        ticket.set_result(_ReleasingContextManager(self))
        return ticket

    def __enter__(self) -> None:
        raise RuntimeError("Use 'async with' instead of 'with' for Semaphore")

    def __exit__(self, typ: _ExcType, value: _Exc, traceback: _Tb) -> None:
        self.__enter__()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, typ: _ExcType, value: _Exc, tb: _Tb) -> None:
        self.release()


class BoundedSemaphore(Semaphore):
    """A `Semaphore` whose count may never rise above where it started.

    A `release` that would do so raises `ValueError`, since it nearly always
    means a slot was given back twice.
    """

    def __init__(self, value: int = 1) -> None:
        self._initial_value = value
        super().__init__(value=value)

    def release(self) -> None:
        """Give a slot back, refusing if none is currently taken."""
        if self._value < self._initial_value:
            super().release()
            return
        raise ValueError("Semaphore released too many times")


class Lock:
    """Mutual exclusion for coroutines; waiting coroutines get it in turn.

    Take it with ``async with lock:`` (a plain ``with`` raises
    `RuntimeError`), or in decorated coroutines with
    ``with (yield lock.acquire()):``.  Releasing it while unlocked raises
    `RuntimeError`.
    """

    def __init__(self) -> None:
        self._block = BoundedSemaphore(value=1)

    def __repr__(self) -> str:
        return "<%s _block=%s>" % (type(self).__name__, self._block)

    def acquire(self, timeout: _Timeout = None) -> Awaitable[_ReleasingContextManager]:
        """A Future that resolves once the lock is ours.

        With ``timeout``, it fails with `tornado.util.TimeoutError` if the
        lock stayed taken until then.
        """
        return self._block.acquire(timeout)

    def release(self) -> None:
        """Unlock, passing the lock to the longest-waiting coroutine if any."""
        try:
            self._block.release()
        except ValueError:
            raise RuntimeError("release unlocked lock") from None

    def __enter__(self) -> None:
        raise RuntimeError("Use `async with` instead of `with` for Lock")

    def __exit__(self, typ: _ExcType, value: _Exc, tb: _Tb) -> None:
        self.__enter__()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, typ: _ExcType, value: _Exc, tb: _Tb) -> None:
        self.release()
