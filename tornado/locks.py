"""Synchronization primitives for coroutines: Condition, Event, Semaphore, Lock.

These are like the `threading` ones, but for coroutines of one thread: the
waiting methods return Futures to await (with an optional timeout) instead
of blocking.  They are not thread-safe.  Since asyncio has its own
primitives, these remain mostly for code that wants Tornado's timeouts (an
absolute deadline or a `datetime.timedelta`) and semantics.

Built on `tornado.concurrent`, `tornado.gen` (for timeouts) and
`tornado.ioloop`.
"""

import collections
import datetime
import types
from typing import Any, Awaitable, Deque, Optional, Set, Type, Union

from tornado import gen, ioloop
from tornado.concurrent import Future, future_set_result_unless_cancelled

__all__ = ["Condition", "Event", "Semaphore", "BoundedSemaphore", "Lock"]


class _TimeoutGarbageCollector:
    """Base of the primitives that keep a queue of waiters with timeouts.

    Waiters that time out are left in the queue (removing one from the
    middle of a deque is slow); every 100 timeouts, the queue is rebuilt
    without the finished ones, so it cannot grow without bound.
    """

    def __init__(self) -> None:
        self._waiters: Deque[Future[Any]] = collections.deque()
        self._timeouts = 0

    def _garbage_collect(self) -> None:
        self._timeouts += 1
        if self._timeouts > 100:
            self._timeouts = 0
            self._waiters = collections.deque(w for w in self._waiters if not w.done())


def _call_on_timeout(
    waiter: Future[Any],
    timeout: Union[float, datetime.timedelta],
    on_timeout: Any,
) -> None:
    # Run on_timeout at the deadline unless waiter is resolved first; the
    # timer is removed as soon as the waiter is done either way.
    io_loop = ioloop.IOLoop.current()
    handle = io_loop.add_timeout(timeout, on_timeout)
    waiter.add_done_callback(lambda _: io_loop.remove_timeout(handle))


class Condition(_TimeoutGarbageCollector):
    """A condition that coroutines wait on until another notifies them.

    `wait` returns a Future that resolves to True when notified, or to
    False if the timeout passes first.  There is no associated lock: all
    code between yields is already atomic.  Waiters are woken in FIFO order.
    """

    def __repr__(self) -> str:
        result = "<%s" % (self.__class__.__name__,)
        if self._waiters:
            result += " waiters[%s]" % len(self._waiters)
        return result + ">"

    def wait(
        self, timeout: Optional[Union[float, datetime.timedelta]] = None
    ) -> Awaitable[bool]:
        """Wait for `notify`; the Future resolves to False on timeout.

        ``timeout`` is a deadline on `.IOLoop.time` or a `datetime.timedelta`.
        """
        waiter: Future[bool] = Future()
        self._waiters.append(waiter)
        if timeout is not None:

            def on_timeout() -> None:
                if not waiter.done():
                    future_set_result_unless_cancelled(waiter, False)
                self._garbage_collect()

            _call_on_timeout(waiter, timeout, on_timeout)
        return waiter

    def notify(self, n: int = 1) -> None:
        """Wake ``n`` waiters (those that timed out do not count)."""
        woken = []
        while n and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                n -= 1
                woken.append(waiter)
        # Resolve after the loop: a waiter's callbacks may call notify again.
        for waiter in woken:
            future_set_result_unless_cancelled(waiter, True)

    def notify_all(self) -> None:
        """Wake every waiter."""
        self.notify(len(self._waiters))


class Event:
    """A flag that coroutines can wait for until it is set.

    Starts clear; `set` wakes every waiter and makes later `wait` calls
    return at once, until `clear`.
    """

    def __init__(self) -> None:
        self._value = False
        self._waiters: Set[Future[None]] = set()

    def __repr__(self) -> str:
        return "<%s %s>" % (
            self.__class__.__name__,
            "set" if self.is_set() else "clear",
        )

    def is_set(self) -> bool:
        """True if the flag is set."""
        return self._value

    def set(self) -> None:
        """Set the flag and wake every waiter."""
        if not self._value:
            self._value = True
            for fut in self._waiters:
                if not fut.done():
                    fut.set_result(None)

    def clear(self) -> None:
        """Clear the flag: `wait` blocks again."""
        self._value = False

    def wait(
        self, timeout: Optional[Union[float, datetime.timedelta]] = None
    ) -> Awaitable[None]:
        """Wait until the flag is set.

        With ``timeout`` (a deadline or a `datetime.timedelta`), the Future
        raises `tornado.util.TimeoutError` if the flag is still clear then.
        """
        fut: Future[None] = Future()
        if self._value:
            fut.set_result(None)
            return fut
        self._waiters.add(fut)
        fut.add_done_callback(self._waiters.discard)
        if timeout is None:
            return fut
        timeout_fut = gen.with_timeout(timeout, fut)
        # On timeout, stop waiting: cancelling fut removes it from _waiters.
        timeout_fut.add_done_callback(lambda _: fut.cancel() if not fut.done() else None)
        return timeout_fut


class _ReleasingContextManager:
    """The result of a successful acquire: ``with`` it to release on exit.

    It lets ``with (yield semaphore.acquire()):`` release the semaphore
    when the block ends.
    """

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __enter__(self) -> None:
        pass

    def __exit__(
        self,
        exc_type: "Optional[Type[BaseException]]",
        exc_val: Optional[BaseException],
        exc_tb: Optional[types.TracebackType],
    ) -> None:
        self._obj.release()


class Semaphore(_TimeoutGarbageCollector):
    """A counter of available slots: `acquire` takes one, `release` returns one.

    ``acquire`` waits while the counter is zero; waiters get slots in FIFO
    order.  Use ``async with semaphore:`` to hold a slot for a block (plain
    ``with`` raises `RuntimeError`).
    """

    def __init__(self, value: int = 1) -> None:
        super().__init__()
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0, got %r" % (value,))
        self._value = value

    def __repr__(self) -> str:
        base = super().__repr__()
        extra = "locked" if self._value == 0 else "unlocked,value:%s" % self._value
        if self._waiters:
            extra = "%s,waiters:%s" % (extra, len(self._waiters))
        return "<%s [%s]>" % (base[1:-1], extra)

    def release(self) -> None:
        """Increment the counter and wake one waiter."""
        self._value += 1
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._value -= 1
                waiter.set_result(_ReleasingContextManager(self))
                break

    def acquire(
        self, timeout: Optional[Union[float, datetime.timedelta]] = None
    ) -> Awaitable[_ReleasingContextManager]:
        """Decrement the counter, waiting while it is zero.

        The Future resolves to an object usable in a ``with`` statement that
        releases on exit.  With ``timeout`` it raises
        `tornado.util.TimeoutError` if no slot came free in time.
        """
        waiter: Future[_ReleasingContextManager] = Future()
        if self._value > 0:
            self._value -= 1
            waiter.set_result(_ReleasingContextManager(self))
        else:
            self._waiters.append(waiter)
            if timeout is not None:

                def on_timeout() -> None:
                    if not waiter.done():
                        waiter.set_exception(TimeoutError())
                    self._garbage_collect()

                _call_on_timeout(waiter, timeout, on_timeout)
        return waiter

    def __enter__(self) -> None:
        raise RuntimeError("Use 'async with' instead of 'with' for Semaphore")

    def __exit__(
        self,
        typ: "Optional[Type[BaseException]]",
        value: Optional[BaseException],
        traceback: Optional[types.TracebackType],
    ) -> None:
        self.__enter__()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        typ: "Optional[Type[BaseException]]",
        value: Optional[BaseException],
        tb: Optional[types.TracebackType],
    ) -> None:
        self.release()


class BoundedSemaphore(Semaphore):
    """A `Semaphore` that refuses to be released more often than acquired.

    Releasing beyond the initial value raises `ValueError`: that is almost
    always a bug.
    """

    def __init__(self, value: int = 1) -> None:
        super().__init__(value=value)
        self._initial_value = value

    def release(self) -> None:
        """Increment the counter and wake one waiter."""
        if self._value >= self._initial_value:
            raise ValueError("Semaphore released too many times")
        super().release()


class Lock:
    """A lock for coroutines: one holder at a time, waiters served in FIFO order.

    Hold it with ``async with lock:`` (plain ``with`` raises `RuntimeError`),
    or with ``with (yield lock.acquire()):`` in decorated coroutines.
    Releasing an unlocked lock raises `RuntimeError`.
    """

    def __init__(self) -> None:
        self._block = BoundedSemaphore(value=1)

    def __repr__(self) -> str:
        return "<%s _block=%s>" % (self.__class__.__name__, self._block)

    def acquire(
        self, timeout: Optional[Union[float, datetime.timedelta]] = None
    ) -> Awaitable[_ReleasingContextManager]:
        """Wait for the lock and take it.

        With ``timeout`` the Future raises `tornado.util.TimeoutError` if the
        lock did not come free in time.
        """
        return self._block.acquire(timeout)

    def release(self) -> None:
        """Unlock; the first waiter in line gets the lock."""
        try:
            self._block.release()
        except ValueError:
            raise RuntimeError("release unlocked lock") from None

    def __enter__(self) -> None:
        raise RuntimeError("Use `async with` instead of `with` for Lock")

    def __exit__(
        self,
        typ: "Optional[Type[BaseException]]",
        value: Optional[BaseException],
        tb: Optional[types.TracebackType],
    ) -> None:
        self.__enter__()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        typ: "Optional[Type[BaseException]]",
        value: Optional[BaseException],
        tb: Optional[types.TracebackType],
    ) -> None:
        self.release()
