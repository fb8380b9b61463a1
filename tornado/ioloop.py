"""The I/O loop: Tornado's face on the asyncio event loop.

Since Tornado 6.0 an `IOLoop` is a thin wrapper around an `asyncio` event
loop, kept for the interface that Tornado code has always used:
file-descriptor handlers (`IOLoop.add_handler`), callbacks that may be
scheduled from any thread (`IOLoop.add_callback`), timeouts, `IOLoop.run_sync`
and `PeriodicCallback`.  Every asyncio loop has at most one `IOLoop`, found
with `IOLoop.current`; the concrete classes live in `tornado.platform.asyncio`
(and the poller-specific ones in ``tornado.platform.epoll``/``kqueue``/``select``).

`IOLoop` is a `.Configurable`: ``IOLoop()`` builds the configured
implementation, `tornado.platform.asyncio.AsyncIOLoop` by default, which runs
a new asyncio loop of its own.

This module builds on `tornado.concurrent` and `tornado.util`; it imports
`tornado.gen` and `tornado.platform.asyncio` only lazily, since both import it.
"""


from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime
import functools
import math
import numbers
import os
import random
import sys
import time
import warnings
from inspect import isawaitable
from typing import Any, Awaitable, Callable, Dict, List, Literal, Optional, Protocol, Tuple
from typing import TypeVar, Union, overload

from tornado.concurrent import Future, chain_future, future_add_done_callback, is_future
from tornado.log import app_log
from tornado.util import Configurable, TimeoutError, import_object  # re-exported


class _Selectable(Protocol):
    """What add_handler accepts besides an int: an object with a file descriptor."""

    def fileno(self) -> int: ...

    def close(self) -> None: ...


_T = TypeVar("_T")
_S = TypeVar("_S", bound="_Selectable")
_FdLike = Union[int, "_Selectable"]

# The C accelerated accessor: the loop running in this thread, or None.
_get_running_loop = asyncio._get_running_loop

# Python 3.12 and 3.13 warn when asyncio.get_event_loop() creates a loop
# implicitly; 3.14 raises instead.  IOLoop.current() keeps the old contract
# (a loop is created when needed), so it hides that warning from its callers.
_WARN_ON_IMPLICIT_LOOP = sys.version_info >= (3, 12)


def _event_loop_of_thread() -> Optional[asyncio.AbstractEventLoop]:
    """The asyncio loop that is current for this thread, or None.

    This is the running loop if there is one, else the loop set with
    `asyncio.set_event_loop` (which asyncio's default policy creates on
    demand in the main thread, before Python 3.14).
    """
    try:
        if not _WARN_ON_IMPLICIT_LOOP:
            return asyncio.get_event_loop()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return asyncio.get_event_loop()
    except RuntimeError:
        return None


def _warn_deprecated(message: str) -> None:
    # stacklevel 3: blame the caller of the deprecated IOLoop method.
    warnings.warn(message, DeprecationWarning, stacklevel=3)


class IOLoop(Configurable):
    """Tornado's event loop interface, implemented on top of an `asyncio` loop.

    An asyncio loop has at most one `IOLoop`.  Code running on a loop finds
    it with `IOLoop.current`, which wraps the running asyncio loop on first
    use; so ``asyncio.run(main())`` works as well as
    ``IOLoop.current().start()``.  Calling ``IOLoop()`` makes a fresh event
    loop; unless ``make_current=False`` is passed it is also made the
    thread's current asyncio loop until it is closed.

    `add_callback` is the only method that other threads may call; all the
    rest belong to the thread that runs the loop.

    .. versionchanged:: 6.3
       ``make_current=True`` is the default and no longer deprecated.
    """

    # Interest masks for add_handler/update_handler (epoll's bit values).
    NONE, READ, WRITE, ERROR = 0, 0x001, 0x004, 0x018

    # asyncio loop -> its IOLoop.  A plain dict: each IOLoop refers to its
    # asyncio loop anyway, so weak keys would never be dropped.  Entries of
    # closed loops are pruned whenever an IOLoop is created.
    _ioloop_for_asyncio: Dict[asyncio.AbstractEventLoop, "IOLoop"] = dict()

    # Created on first need by run_in_executor(None, ...) in implementations
    # that have no default executor of their own.
    _executor: Optional[concurrent.futures.Executor] = None

    @classmethod
    def configure(cls, impl: "Union[None, str, type[Configurable]]", **kwargs: Any) -> None:
        """Select the class that ``IOLoop()`` instantiates.

        ``impl`` (a class, or its dotted import path) has to be built on
        asyncio, i.e. derive from `tornado.platform.asyncio.BaseAsyncIOLoop`;
        ``"tornado.platform.epoll.EPollIOLoop"`` is one such class.
        """
        from tornado.platform.asyncio import BaseAsyncIOLoop

        chosen = import_object(impl) if isinstance(impl, str) else impl
        if isinstance(chosen, type) and not issubclass(chosen, BaseAsyncIOLoop):
            raise RuntimeError("only asyncio-based IOLoops are supported, not %r" % (chosen,))
        super(IOLoop, cls).configure(chosen, **kwargs)  # type: ignore[no-untyped-call]

    @staticmethod
    def instance() -> "IOLoop":
        """Old name of `IOLoop.current()` (deprecated since 5.0)."""
        return IOLoop.current()

    def install(self) -> None:
        """Old name of `make_current()` (deprecated since 5.0)."""
        return self.make_current()

    @staticmethod
    def clear_instance() -> None:
        """Old name of `clear_current()` (deprecated since 5.0)."""
        IOLoop.clear_current()

    @overload
    @staticmethod
    def current() -> "IOLoop": ...

    @overload
    @staticmethod
    def current(instance: Literal[True] = True) -> "IOLoop": ...

    @overload
    @staticmethod
    def current(instance: bool = True) -> Optional["IOLoop"]: ...

    @staticmethod
    def current(instance: bool = True) -> Optional["IOLoop"]:
        """The `IOLoop` of this thread's asyncio event loop.

        The loop in question is the running one, or failing that the one
        set with `asyncio.set_event_loop` (or `make_current`).  An asyncio
        loop that has no `IOLoop` yet gets an `.AsyncIOMainLoop` wrapper.
        A thread without any asyncio loop gets a new one, set as its current
        loop.  With ``instance=False`` nothing is ever created: None is
        returned instead.
        """
        loop = _get_running_loop() or _event_loop_of_thread()
        if loop is not None:
            known = IOLoop._ioloop_for_asyncio.get(loop)
            if known is not None or not instance:
                return known
        elif not instance:
            return None
        else:
            from tornado.platform.asyncio import _new_asyncio_loop

            loop = _new_asyncio_loop()
            asyncio.set_event_loop(loop)
        from tornado.platform.asyncio import AsyncIOMainLoop

        wrapper: IOLoop = AsyncIOMainLoop(asyncio_loop=loop, make_current=False)
        return wrapper

    def make_current(self) -> None:
        """Make this loop what `IOLoop.current` returns in this thread.

        .. deprecated:: 6.2
           Run the loop (`start`, ``asyncio.run``) and call `IOLoop.current`
           from code running on it.
        """
        _warn_deprecated("make_current is deprecated; start the event loop first")
        self._make_current()

    def _make_current(self) -> None:
        # Subclasses know what "current" means for their asyncio loop.
        raise NotImplementedError()

    @staticmethod
    def clear_current() -> None:
        """Leave this thread without a current `IOLoop`.

        .. deprecated:: 6.2
        """
        _warn_deprecated("clear_current is deprecated")
        IOLoop._clear_current()

    @staticmethod
    def _clear_current() -> None:
        existing = IOLoop.current(instance=False)
        if existing is None:
            return
        existing._clear_current_hook()

    def _clear_current_hook(self) -> None:
        """Reverse `_make_current`; subclasses that switch loops override it."""

    @classmethod
    def configurable_base(cls) -> "type[Configurable]":
        return IOLoop

    @classmethod
    def configurable_default(cls) -> "type[Configurable]":
        from tornado.platform.asyncio import AsyncIOLoop

        return AsyncIOLoop

    def initialize(self, make_current: bool = True) -> None:
        # Subclasses call this once their asyncio loop exists.
        return self._make_current() if make_current else None

    def close(self, all_fds: bool = False) -> None:
        """Shut the loop down for good.

        Callbacks still pending are discarded; the loop must not be running.
        ``all_fds=True`` additionally closes whatever is still registered
        with `add_handler` (descriptors and file-like objects alike).
        """
        raise NotImplementedError()

    def add_handler(self, fd: _FdLike, handler: Callable[..., None], events: int) -> None:
        """Arrange for ``handler(fd, events)`` to run when ``fd`` becomes ready.

        ``fd`` may be an int or any object with ``fileno()`` (such objects
        are also closed by ``close(all_fds=True)``); the handler gets
        back exactly what was registered.  ``events`` combines `READ` and
        `WRITE`.  A descriptor can have one handler only: registering it
        again raises `ValueError` ("fd N added twice").

        One exception: when the object registered before has been closed
        without `remove_handler` (its ``closed`` is true, or its
        ``fileno()`` fails or names another descriptor), that registration
        is dead and the number may already belong to a new file; it is
        dropped, with a warning, and the new one takes its place.
        """
        raise NotImplementedError()

    def update_handler(self, fd: _FdLike, events: int) -> None:
        """Replace the event mask ``fd``'s handler waits for."""
        raise NotImplementedError()

    def remove_handler(self, fd: _FdLike) -> None:
        """Forget ``fd``'s handler; a descriptor without one is ignored."""
        raise NotImplementedError()

    def start(self) -> None:
        """Run until `stop` is called (`RuntimeError` if already running)."""
        raise NotImplementedError()

    def stop(self) -> None:
        """Make `start` return once the current loop iteration is over.

        Anything scheduled in the meantime stays queued for the next
        `start`.
        """
        raise NotImplementedError()

    def run_sync(self, func: Callable[..., Any], timeout: Optional[float] = None) -> Any:
        """Run the loop just long enough to get ``func``'s result, and return it.

        ``func`` is called on the loop; it may return None or anything
        `tornado.gen` can wait for (coroutine, Future, ...), whose outcome
        becomes this method's (a plain non-awaitable value is an error:
        `tornado.gen.BadYieldError`).  The loop must not already be running.

        Given a ``timeout`` in seconds, the operation is cancelled when it
        runs out and `TimeoutError` is raised.  `RuntimeError` is raised if
        something else stops the loop before the result exists.
        """
        pending: List["Future[Any]"] = []
        timed_out = returned = False

        def begin() -> None:
            target: Future[Any] = Future()
            try:
                produced = func()
                if produced is not None:
                    from tornado.gen import convert_yielded

                    produced = convert_yielded(produced)
            except Exception as err:
                target.set_exception(err)
            else:
                if is_future(produced):
                    target = produced
                else:
                    target.set_result(produced)
            pending.append(target)
            self.add_future(target, settled)

        def settled(_: "Future[Any]") -> None:
            # A result arriving after a timeout may come during some later
            # run of this loop, which it must leave alone.
            if not returned:
                self.stop()

        def expire() -> None:
            nonlocal timed_out
            # Cancelling fails only if the result is already there, which
            # then counts as success.
            timed_out = not pending or pending[0].cancel()
            self.stop()

        self.add_callback(begin)
        timer = None if timeout is None else self.add_timeout(self.time() + timeout, expire)
        try:
            self.start()
        finally:
            returned = True
            if timer is not None:
                self.remove_timeout(timer)
        outcome = pending[0] if pending else None
        if outcome is not None and outcome.done() and not outcome.cancelled():
            return outcome.result()
        if timed_out:
            raise TimeoutError("Operation timed out after %s seconds" % timeout)
        raise RuntimeError("Event loop stopped before Future completed.")

    def time(self) -> float:
        """Now, in seconds since the epoch (like `time.time`).

        `add_timeout` and `call_at` take deadlines on this clock.
        """
        return time.time()

    def add_timeout(
        self, deadline: Union[float, datetime.timedelta], callback: Callable[..., Any],
        *args: Any, **kwargs: Any,
    ) -> object:
        """Schedule ``callback(*args, **kwargs)`` for ``deadline``.

        ``deadline`` is either a point on the `time` clock or a
        `datetime.timedelta` from now.  The return value can be passed to
        `remove_timeout`.
        """
        kind = type(deadline)
        if kind is float or kind is int:
            when = deadline
        elif isinstance(deadline, datetime.timedelta):
            when = self.time() + deadline.total_seconds()
        elif isinstance(deadline, numbers.Real):
            when = float(deadline)
        else:
            raise TypeError("Unsupported deadline %r" % (deadline,))
        return self.call_at(when, callback, *args, **kwargs)  # type: ignore[arg-type]

    def call_later(
        self, delay: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> object:
        """Schedule ``callback(*args, **kwargs)`` ``delay`` seconds from now.

        The return value can be passed to `remove_timeout`.
        """
        return self.call_at(self.time() + delay, callback, *args, **kwargs)

    def call_at(
        self, when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> object:
        """Schedule ``callback(*args, **kwargs)`` for ``when`` on the `time` clock.

        The return value can be passed to `remove_timeout`.
        """
        return self.add_timeout(when, callback, *args, **kwargs)

    def remove_timeout(self, timeout: object) -> None:
        """Unschedule a timeout; one that already ran is ignored."""
        raise NotImplementedError()

    def add_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Schedule ``callback(*args, **kwargs)`` for the next loop iteration.

        Callable from any thread: a loop blocked waiting for I/O is woken.
        Once the loop is closed (or while another thread closes it) the
        callback is silently dropped.  Whatever the callback raises, or the
        awaitable it returns fails with, is logged to ``tornado.application``.
        """
        raise NotImplementedError()

    def add_callback_from_signal(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        """`add_callback` for signal handlers.

        .. deprecated:: 6.4
           Use ``asyncio.get_running_loop().add_signal_handler``.
        """
        raise NotImplementedError()

    def spawn_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Start ``callback`` on the next iteration, independent of the caller.

        The same as `add_callback`.
        """
        self.add_callback(callback, *args, **kwargs)

    def add_future(
        self, future: "Union[Future[_T], concurrent.futures.Future[_T]]",
        callback: Callable[..., None],
    ) -> None:
        """Call ``callback(future)`` on this loop when ``future`` finishes.

        Both asyncio futures and `concurrent.futures` ones (which may be
        finished by any thread) are accepted.
        """
        if isinstance(future, Future):
            future.add_done_callback(functools.partial(self._run_callback, callback))
            return
        if not is_future(future):
            raise TypeError("expected a Future, got %r" % (future,))
        # The other thread's completion is marshalled onto this loop.
        future_add_done_callback(future, functools.partial(self.add_callback, callback))

    def run_in_executor(
        self, executor: Optional[concurrent.futures.Executor], func: Callable[..., _T], *args: Any
    ) -> "Future[_T]":
        """Call ``func(*args)`` on ``executor``; the result comes as a Future.

        ``executor=None`` means the loop's default thread pool.  The
        caller's context variables do not travel to the worker thread.
        """
        pool = executor if executor is not None else self._default_executor()
        result: Future[_T] = Future()
        self.add_future(pool.submit(func, *args), lambda done: chain_future(done, result))
        return result

    def _default_executor(self) -> concurrent.futures.Executor:
        if self._executor is None:
            workers = 5 * (os.cpu_count() or 1)
            self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
        return self._executor

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        """Make ``executor`` the one ``run_in_executor(None, ...)`` uses."""
        self._executor = executor

    def _run_callback(self, callback: Callable[..., Any], *args: Any) -> None:
        # The single place where scheduled callbacks run, so that what they
        # raise, or what their returned awaitable fails with, ends up in our
        # log rather than in asyncio's exception handler or nowhere.
        try:
            returned = callback(*args)
            if returned is not None:
                self._watch_returned(returned)
        except asyncio.CancelledError:
            pass
        except Exception:
            app_log.error("Exception in callback %r", callback, exc_info=True)

    def _watch_returned(self, returned: Any) -> None:
        from tornado import gen

        try:
            awaitable = gen.convert_yielded(returned)
        except gen.BadYieldError:
            # Not awaitable: the value is ignored.  (Tornado issue #1803:
            # a callback returning e.g. [] or {} must not spin the loop.)
            return
        self.add_future(awaitable, self._discard_future_result)

    def _discard_future_result(self, future: "Future[Any]") -> None:
        # result() re-raises a failure, for _run_callback to log it.
        future.result()

    def split_fd(self, fd: Union[int, _S]) -> Tuple[int, Union[int, _S]]:
        """The pair (numeric descriptor, what was passed) for ``fd``."""
        return (fd, fd) if isinstance(fd, int) else (fd.fileno(), fd)

    def close_fd(self, fd: _FdLike) -> None:
        """Close a descriptor or file-like object; `OSError` is swallowed."""
        with contextlib.suppress(OSError):
            os.close(fd) if isinstance(fd, int) else fd.close()


def _period_in_ms(callback_time: Union[datetime.timedelta, float]) -> float:
    if isinstance(callback_time, datetime.timedelta):
        return callback_time / datetime.timedelta(milliseconds=1)
    if callback_time > 0:
        return callback_time
    raise ValueError(
        "Periodic callback must have a positive callback_time, got %r" % (callback_time,)
    )


class PeriodicCallback:
    """Runs ``callback`` again and again, ``callback_time`` milliseconds apart.

    ``callback_time`` can be a `datetime.timedelta` too.  Runs are spaced
    start to start; a run that returns an awaitable is over only when that
    finishes, and the starts that a long run overlaps are skipped, keeping
    later runs on the original grid.  With ``jitter`` each period is varied
    at random by up to half that fraction either way (0.1 means ±5%), so
    that many timers do not all fire at the same moment.

    Nothing happens until `start` is called from the loop's thread.
    """

    def __init__(self, callback: Callable[[], Optional[Awaitable[Any]]],
                 callback_time: Union[datetime.timedelta, float], jitter: float = 0) -> None:
        self.callback = callback
        self.callback_time = _period_in_ms(callback_time)
        self.jitter = jitter
        self._running = False
        self._timeout: object = None
        self._next_timeout = 0.0

    def start(self) -> None:
        """Begin the runs, on the current `IOLoop`."""
        loop = self.io_loop = IOLoop.current()
        self._running = True
        self._next_timeout = loop.time()
        self._schedule_next()

    def stop(self) -> None:
        """Cancel future runs (one already under way goes on)."""
        self._running = False
        timer, self._timeout = self._timeout, None
        if timer is not None:
            self.io_loop.remove_timeout(timer)

    def is_running(self) -> bool:
        """Whether the callback is scheduled, i.e. `start` came after `stop`."""
        return self._running

    def _run(self) -> None:
        if not self._running:
            return
        try:
            outcome = self.callback()
        except Exception:
            app_log.error("Exception in callback %r", self.callback, exc_info=True)
            outcome = None
        if outcome is None or not isawaitable(outcome):
            self._schedule_next()
            return
        from tornado.gen import convert_yielded

        self.io_loop.add_future(convert_yielded(outcome), self._after_awaitable)

    def _after_awaitable(self, finished: "Future[Any]") -> None:
        self._schedule_next()
        if finished.cancelled():
            return
        failure = finished.exception()
        if failure is not None:
            app_log.error("Exception in callback %r", self.callback, exc_info=failure)

    def _schedule_next(self) -> None:
        if not self._running:
            return
        loop = self.io_loop
        self._update_next(loop.time())
        self._timeout = loop.add_timeout(self._next_timeout, self._run)

    def _update_next(self, current_time: float) -> None:
        period = self.callback_time / 1000.0
        if self.jitter:
            # Scale by a random factor in [1 - jitter/2, 1 + jitter/2).
            period *= 1 + self.jitter * (random.random() - 0.5)
        lag = current_time - self._next_timeout
        if lag < 0:
            # The clock stepped back: advance one period anyway, so that the
            # same deadline is never scheduled twice.
            self._next_timeout += period
        else:
            # Skip the starts that fell inside the last run, staying on the
            # grid of multiples of the period.
            self._next_timeout += period * (1 + math.floor(lag / period))
