"""Queues for coroutines: FIFO `Queue`, `PriorityQueue` and `LifoQueue`.

They play the part of `queue.Queue` for coroutines of one thread: instead
of blocking, ``put`` and ``get`` return Futures, which can be bounded by a
timeout (an `.IOLoop.time` deadline or a `datetime.timedelta`).  Not
thread-safe.

Built on `tornado.concurrent`, `tornado.ioloop` (via the timeout helper of
`tornado.locks`) and `tornado.locks`.
"""

from __future__ import annotations

from __future__ import annotations

import collections
import functools
import heapq
from typing import Any, Awaitable, Deque, Generic, List, Tuple, TypeVar

from tornado.concurrent import Future
from tornado.locks import Event, _arm_timeout, _Timeout

__all__ = "Queue PriorityQueue LifoQueue QueueFull QueueEmpty".split()

_T = TypeVar("_T")


def _valid_maxsize(maxsize: Any) -> int:
    if maxsize is None:
        raise TypeError("maxsize can't be None")
    if maxsize >= 0:
        return maxsize  # type: ignore[no-any-return]
    raise ValueError("maxsize can't be negative, got %r" % (maxsize,))


class QueueEmpty(Exception):
    """`.Queue.get_nowait` found nothing to return."""


class QueueFull(Exception):
    """`.Queue.put_nowait` found the queue already holding ``maxsize`` items."""


def _expire(waiter: "Future[Any]") -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


def _bound(waiter: "Future[Any]", timeout: _Timeout) -> None:
    # A waiter given a timeout fails with TimeoutError when it passes; an
    # already-past deadline fails it on the next loop iteration.
    if timeout is not None:
        _arm_timeout(waiter, timeout, functools.partial(_expire, waiter))


class _QueueIterator(Generic[_T]):
    """What ``async for`` uses: each step is one `Queue.get`; it never stops."""

    __slots__ = ("_source",)

    def __init__(self, q: "Queue[_T]") -> None:
        self._source = q

    def __anext__(self) -> Awaitable[_T]:
        return self._source.get()


class Queue(Generic[_T]):
    """Hands items from producer coroutines to consumer coroutines.

    ``maxsize`` bounds the number of items held (0, the default, means no
    bound); a `put` into a full queue waits for room.  Every item put counts
    as a task until `task_done` is called for it, and `join` waits for the
    count to drop to zero.  ``async for item in queue`` consumes forever.

    Waiting getters and putters are served first come, first served.  An
    item given by `put_nowait` to a waiting getter is that getter's at once,
    though its coroutine only runs again on a later loop iteration.
    """

    # The item store; _init() creates it, and subclasses choose its kind.
    _queue: Any = None

    def __init__(self, maxsize: int = 0) -> None:
        self._maxsize = _valid_maxsize(maxsize)
        self._getters: Deque[Future[_T]] = collections.deque()
        self._putters: Deque[Tuple[_T, Future[None]]] = collections.deque()
        self._unfinished_tasks = 0
        # Set exactly while no task is outstanding.
        self._finished = Event()
        self._finished.set()
        self._init()

    def qsize(self) -> int:
        """How many items the queue holds now."""
        return len(self._queue)

    def empty(self) -> bool:
        return self.qsize() == 0

    def full(self) -> bool:
        limit = self._maxsize
        return limit > 0 and self.qsize() >= limit

    @property
    def maxsize(self) -> int:
        """How many items the queue may hold; 0 for no limit."""
        return self._maxsize

    def put(self, item: _T, timeout: _Timeout = None) -> "Future[None]":
        """Add ``item``, waiting for room if the queue is full.

        The Future resolves when the item has gone in.  If ``timeout``
        passes first, it fails with `tornado.util.TimeoutError` and the item
        is dropped.
        """
        receipt: Future[None] = Future()
        try:
            self.put_nowait(item)
        except QueueFull:
            self._putters.append((item, receipt))
            _bound(receipt, timeout)
            return receipt
        receipt.set_result(None)
        return receipt

    def put_nowait(self, item: _T) -> None:
        """Add ``item`` right now, or raise `QueueFull`."""
        self._drop_settled_waiters()
        if not self._getters:
            if self.full():
                raise QueueFull
            self._add_task(item)
            return
        # Getters only wait on an empty queue: the item goes through the
        # store (keeping the subclass's ordering hooks in play) to the
        # longest-waiting one.
        self._add_task(item)
        self._getters.popleft().set_result(self._get())

    def get(self, timeout: _Timeout = None) -> Awaitable[_T]:
        """A Future for the next item, waiting for one if the queue is empty.

        If ``timeout`` passes first, it fails with `tornado.util.TimeoutError`.
        """
        slot: Future[_T] = Future()
        try:
            item = self.get_nowait()
        except QueueEmpty:
            self._getters.append(slot)
            _bound(slot, timeout)
        else:
            slot.set_result(item)
        return slot

    def get_nowait(self) -> _T:
        """Take the next item right now, or raise `QueueEmpty`."""
        self._drop_settled_waiters()
        if self._putters:
            # Putters only wait on a full queue; taking an item makes room
            # for the longest-waiting one, admitted before the take so that
            # the store's ordering sees it.
            pending_item, receipt = self._putters.popleft()
            self._add_task(pending_item)
            receipt.set_result(None)
        elif not self.qsize():
            raise QueueEmpty
        return self._get()

    def task_done(self) -> None:
        """Record that one item obtained from the queue has been dealt with.

        `join` returns once this has been called for every item put.  Calling
        it more often than items were put raises `ValueError`.
        """
        if not self._unfinished_tasks:
            raise ValueError("task_done() called too many times")
        self._unfinished_tasks -= 1
        if not self._unfinished_tasks:
            self._finished.set()

    def join(self, timeout: _Timeout = None) -> Awaitable[None]:
        """Wait for `task_done` to have been called for every item put.

        If ``timeout`` passes first, the Future fails with
        `tornado.util.TimeoutError`.
        """
        return self._finished.wait(timeout)

    def __aiter__(self) -> _QueueIterator[_T]:
        return _QueueIterator(self)

    # Storage hooks, replaced by the subclasses for other orders.
    def _put(self, item: _T) -> None:
        self._queue.append(item)

    def _get(self) -> _T:
        return self._queue.popleft()  # type: ignore[no-any-return]

    def _init(self) -> None:
        self._queue = collections.deque()

    def _add_task(self, item: _T) -> None:
        self._unfinished_tasks += 1
        self._finished.clear()
        self._put(item)

    def _drop_settled_waiters(self) -> None:
        # Waiters that timed out or were cancelled are left in place; those
        # that reached the head of a line are discarded here.
        putters, getters = self._putters, self._getters
        while putters and putters[0][1].done():
            putters.popleft()
        while getters and getters[0].done():
            getters.popleft()

    def __repr__(self) -> str:
        return "<%s at %s %s>" % (type(self).__name__, hex(id(self)), self._format())

    def __str__(self) -> str:
        return "<%s %s>" % (type(self).__name__, self._format())

    def _format(self) -> str:
        words = ["maxsize=%r" % (self.maxsize,)]
        if getattr(self, "_queue", None):
            words.append("queue=%r" % (self._queue,))
        counters = (
            ("getters[%s]", len(self._getters)),
            ("putters[%s]", len(self._putters)),
            ("tasks=%s", self._unfinished_tasks),
        )
        words.extend(label % count for label, count in counters if count)
        return " ".join(words)


class PriorityQueue(Queue[Any]):
    """A `Queue` that hands out the smallest item first.

    The usual items are ``(priority, payload)`` pairs.
    """

    def _init(self) -> None:
        self._queue: List[Any] = []

    def _get(self) -> Any:
        return heapq.heappop(self._queue)

    def _put(self, item: Any) -> None:
        heapq.heappush(self._queue, item)


class LifoQueue(Queue[Any]):
    """A `Queue` that hands out the newest item first (a stack)."""

    def _init(self) -> None:
        self._queue: List[Any] = []

    def _get(self) -> Any:
        return self._queue.pop()

    def _put(self, item: Any) -> None:
        self._queue.append(item)
