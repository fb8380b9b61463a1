"""Queues for coroutines: FIFO `Queue`, `PriorityQueue` and `LifoQueue`.

Like `queue.Queue` for threads, but ``put`` and ``get`` return Futures to
await instead of blocking, with optional timeouts (a deadline on
`.IOLoop.time` or a `datetime.timedelta`).  They are not thread-safe.

Built on `tornado.concurrent`, `tornado.ioloop` and `tornado.locks`.
"""


from __future__ import annotations

import collections
import datetime
import heapq
from typing import Any, Awaitable, Deque, Generic, List, Optional, Tuple, TypeVar, Union

from tornado import ioloop
from tornado.concurrent import Future, future_set_result_unless_cancelled
from tornado.locks import Event

__all__ = ["Queue", "PriorityQueue", "LifoQueue", "QueueFull", "QueueEmpty"]

_T = TypeVar("_T")


class QueueEmpty(Exception):
    """Raised by `.Queue.get_nowait` when the queue has no items."""


class QueueFull(Exception):
    """Raised by `.Queue.put_nowait` when the queue is at its maxsize."""


def _set_timeout(
    future: Future[Any], timeout: Union[None, float, datetime.timedelta]
) -> None:
    # Fail future with TimeoutError at the deadline unless it is resolved
    # first.  A zero timeout (or a past deadline) fails on the next iteration.
    if timeout is None:
        return

    def on_timeout() -> None:
        if not future.done():
            future.set_exception(TimeoutError())

    io_loop = ioloop.IOLoop.current()
    handle = io_loop.add_timeout(timeout, on_timeout)
    future.add_done_callback(lambda _: io_loop.remove_timeout(handle))


class _QueueIterator(Generic[_T]):
    def __init__(self, q: "Queue[_T]") -> None:
        self.q = q

    def __anext__(self) -> Awaitable[_T]:
        return self.q.get()


class Queue(Generic[_T]):
    """A queue for coordinating producer and consumer coroutines.

    With ``maxsize`` 0 (the default) the queue is unbounded; otherwise `put`
    waits while it holds ``maxsize`` items.  `join` waits until every item
    put has been marked done with `task_done`.  ``async for item in queue``
    gets items forever.

    Waiters are served in FIFO order.  Note that `put_nowait` hands an item
    to a waiting getter at once, but the getter's coroutine only resumes on
    a later loop iteration.
    """

    # The container of items, created by _init() (overridden by subclasses).
    _queue: Any = None

    def __init__(self, maxsize: int = 0) -> None:
        if maxsize is None:
            raise TypeError("maxsize can't be None")
        if maxsize < 0:
            raise ValueError("maxsize can't be negative, got %r" % (maxsize,))
        self._maxsize = maxsize
        self._init()
        self._getters: Deque[Future[_T]] = collections.deque([])
        self._putters: Deque[Tuple[_T, Future[None]]] = collections.deque([])
        self._unfinished_tasks = 0
        self._finished = Event()
        self._finished.set()

    @property
    def maxsize(self) -> int:
        """The number of items allowed in the queue (0: unbounded)."""
        return self._maxsize

    def qsize(self) -> int:
        """The number of items in the queue."""
        return len(self._queue)

    def empty(self) -> bool:
        return not self._queue

    def full(self) -> bool:
        if self.maxsize == 0:
            return False
        return self.qsize() >= self.maxsize

    def put(
        self, item: _T, timeout: Optional[Union[float, datetime.timedelta]] = None
    ) -> "Future[None]":
        """Put ``item`` in the queue, waiting while it is full.

        Returns a Future that resolves once the item is in; with ``timeout``
        it raises `tornado.util.TimeoutError` if that did not happen in time
        (and the item is not put).
        """
        future: Future[None] = Future()
        try:
            self.put_nowait(item)
        except QueueFull:
            self._putters.append((item, future))
            _set_timeout(future, timeout)
        else:
            future.set_result(None)
        return future

    def put_nowait(self, item: _T) -> None:
        """Put ``item`` in the queue without waiting, or raise `QueueFull`."""
        self._consume_expired()
        if self._getters:
            assert self.empty(), "queue non-empty, why are getters waiting?"
            getter = self._getters.popleft()
            self.__put_internal(item)
            future_set_result_unless_cancelled(getter, self._get())
        elif self.full():
            raise QueueFull
        else:
            self.__put_internal(item)

    def get(
        self, timeout: Optional[Union[float, datetime.timedelta]] = None
    ) -> Awaitable[_T]:
        """Remove and return an item, waiting while the queue is empty.

        With ``timeout`` the Future raises `tornado.util.TimeoutError` if no
        item came in time.
        """
        future: Future[_T] = Future()
        try:
            future.set_result(self.get_nowait())
        except QueueEmpty:
            self._getters.append(future)
            _set_timeout(future, timeout)
        return future

    def get_nowait(self) -> _T:
        """Remove and return an item without waiting, or raise `QueueEmpty`."""
        self._consume_expired()
        if self._putters:
            assert self.full(), "queue not full, why are putters waiting?"
            item, putter = self._putters.popleft()
            self.__put_internal(item)
            future_set_result_unless_cancelled(putter, None)
            return self._get()
        if self.qsize():
            return self._get()
        raise QueueEmpty

    def task_done(self) -> None:
        """Mark one item taken with `get` as processed (see `join`).

        Raises `ValueError` if called more times than items were put.
        """
        if self._unfinished_tasks <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished_tasks -= 1
        if self._unfinished_tasks == 0:
            self._finished.set()

    def join(
        self, timeout: Optional[Union[float, datetime.timedelta]] = None
    ) -> Awaitable[None]:
        """Wait until every item put so far has been marked with `task_done`.

        With ``timeout`` it raises `tornado.util.TimeoutError` if that did
        not happen in time.
        """
        return self._finished.wait(timeout)

    def __aiter__(self) -> _QueueIterator[_T]:
        return _QueueIterator(self)

    # These three may be overridden by subclasses for other orderings.
    def _init(self) -> None:
        self._queue = collections.deque()

    def _get(self) -> _T:
        return self._queue.popleft()  # type: ignore[no-any-return]

    def _put(self, item: _T) -> None:
        self._queue.append(item)

    def __put_internal(self, item: _T) -> None:
        self._unfinished_tasks += 1
        self._finished.clear()
        self._put(item)

    def _consume_expired(self) -> None:
        # Drop the waiters at the front whose futures are already done
        # (timed out or cancelled); the others wait their turn.
        while self._putters and self._putters[0][1].done():
            self._putters.popleft()
        while self._getters and self._getters[0].done():
            self._getters.popleft()

    def __repr__(self) -> str:
        return "<%s at %s %s>" % (type(self).__name__, hex(id(self)), self._format())

    def __str__(self) -> str:
        return "<%s %s>" % (type(self).__name__, self._format())

    def _format(self) -> str:
        result = "maxsize=%r" % (self.maxsize,)
        if getattr(self, "_queue", None):
            result += " queue=%r" % (self._queue,)
        if self._getters:
            result += " getters[%s]" % len(self._getters)
        if self._putters:
            result += " putters[%s]" % len(self._putters)
        if self._unfinished_tasks:
            result += " tasks=%s" % self._unfinished_tasks
        return result


class PriorityQueue(Queue[Any]):
    """A `Queue` that returns its lowest item first.

    Items are usually ``(priority, data)`` tuples.
    """

    def _init(self) -> None:
        self._queue: List[Any] = []

    def _put(self, item: Any) -> None:
        heapq.heappush(self._queue, item)

    def _get(self) -> Any:
        return heapq.heappop(self._queue)


class LifoQueue(Queue[Any]):
    """A `Queue` that returns the most recently put item first."""

    def _init(self) -> None:
        self._queue: List[Any] = []

    def _put(self, item: Any) -> None:
        self._queue.append(item)

    def _get(self) -> Any:
        return self._queue.pop()
