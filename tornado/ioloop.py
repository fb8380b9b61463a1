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
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Literal,
    Optional,
    Protocol,
    Tuple,
    TypeVar,
    Union,
    overload,
)

from tornado.concurrent import (
    Future,
    chain_future,
    future_add_done_callback,
    future_set_exc_info,
    is_future,
)
from tornado.log import app_log
from tornado.util import Configurable, TimeoutError, import_object  # re-exported



class _Selectable(Protocol):
    """What add_handler accepts besides an int: an object with a file descriptor."""

    def fileno(self) -> int:
        pass

    def close(self) -> None:
        pass


_T = TypeVar("_T")
_S = TypeVar("_S", bound="_Selectable")

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
        if _WARN_ON_IMPLICIT_LOOP:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return asyncio.get_event_loop()
        return asyncio.get_event_loop()
    except RuntimeError:
        return None


class IOLoop(Configurable):
    """An I/O event loop: an `asyncio` event loop with Tornado's interface.

    Most applications never construct one: `IOLoop.current` returns the
    `IOLoop` of the running asyncio loop (creating the wrapper on first use),
    so ``asyncio.run(main())`` and ``IOLoop.current().start()`` both work.
    ``IOLoop()`` creates a new, separate event loop; with the default
    ``make_current=True`` it also becomes the thread's current asyncio loop
    until it is closed.

    Only `add_callback` may be called from other threads; every other
    method must be called from the thread that runs the loop.

    .. versionchanged:: 6.3
       ``make_current=True`` is the default and no longer deprecated.
    """

    # Event masks for add_handler/update_handler; the values are the
    # traditional epoll ones.
    NONE = 0
    READ = 0x001
    WRITE = 0x004
    ERROR = 0x018

    # Each asyncio loop maps to at most one IOLoop.  A plain dict, pruned of
    # closed loops whenever a new IOLoop is created: a weak mapping would not
    # help since each IOLoop holds its asyncio loop strongly.
    _ioloop_for_asyncio: Dict[asyncio.AbstractEventLoop, "IOLoop"] = dict()

    # The default executor of run_in_executor, created on first use by
    # implementations that lack one of their own.
    _executor: Optional[concurrent.futures.Executor] = None

    @classmethod
    def configure(
        cls, impl: "Union[None, str, type[Configurable]]", **kwargs: Any
    ) -> None:
        """Choose the class that ``IOLoop()`` constructs.

        ``impl`` is a class or its dotted name; it must be an asyncio-based
        loop (a subclass of `tornado.platform.asyncio.BaseAsyncIOLoop`), such
        as ``"tornado.platform.epoll.EPollIOLoop"``.
        """
        from tornado.platform.asyncio import BaseAsyncIOLoop

        if isinstance(impl, str):
            impl = import_object(impl)
        if isinstance(impl, type) and not issubclass(impl, BaseAsyncIOLoop):
            raise RuntimeError(
                "only asyncio-based IOLoops are supported, not %r" % (impl,)
            )
        super(IOLoop, cls).configure(impl, **kwargs)  # type: ignore[no-untyped-call]

    @staticmethod
    def instance() -> "IOLoop":
        """Deprecated alias for `IOLoop.current()`.

        .. deprecated:: 5.0
        """
        return IOLoop.current()

    def install(self) -> None:
        """Deprecated alias for `make_current()`.

        .. deprecated:: 5.0
        """
        self.make_current()

    @staticmethod
    def clear_instance() -> None:
        """Deprecated alias for `clear_current()`.

        .. deprecated:: 5.0
        """
        IOLoop.clear_current()

    @overload
    @staticmethod
    def current() -> "IOLoop":
        pass

    @overload
    @staticmethod
    def current(instance: Literal[True] = True) -> "IOLoop":
        pass

    @overload
    @staticmethod
    def current(instance: bool = True) -> Optional["IOLoop"]:
        pass

    @staticmethod
    def current(instance: bool = True) -> Optional["IOLoop"]:
        """Return the `IOLoop` of the current thread's asyncio event loop.

        That is the running loop if there is one, else the loop made current
        with `asyncio.set_event_loop` (or `make_current`).  If that loop has
        no `IOLoop` yet, an `.AsyncIOMainLoop` wrapping it is created, unless
        ``instance`` is false, in which case None is returned.  If the thread
        has no asyncio loop at all and ``instance`` is true, a new one is
        created and set as the thread's current loop.
        """
        loop = _get_running_loop()
        if loop is None:
            loop = _event_loop_of_thread()
            if loop is None:
                if not instance:
                    return None
                from tornado.platform.asyncio import _new_asyncio_loop

                loop = _new_asyncio_loop()
                asyncio.set_event_loop(loop)
        try:
            return IOLoop._ioloop_for_asyncio[loop]
        except KeyError:
            if not instance:
                return None
        from tornado.platform.asyncio import AsyncIOMainLoop

        main_loop: IOLoop = AsyncIOMainLoop(asyncio_loop=loop, make_current=False)
        return main_loop

    def make_current(self) -> None:
        """Make this the current loop of this thread (for `IOLoop.current`).

        .. deprecated:: 6.2
           Start the loop (``asyncio.run``, `start`) and use `IOLoop.current`
           from within it instead.
        """
        warnings.warn(
            "make_current is deprecated; start the event loop first",
            DeprecationWarning,
            stacklevel=2,
        )
        self._make_current()

    def _make_current(self) -> None:
        # The asyncio implementations decide what being current means.
        raise NotImplementedError()

    @staticmethod
    def clear_current() -> None:
        """Make no `IOLoop` current for this thread.

        .. deprecated:: 6.2
        """
        warnings.warn(
            "clear_current is deprecated",
            DeprecationWarning,
            stacklevel=2,
        )
        IOLoop._clear_current()

    @staticmethod
    def _clear_current() -> None:
        old = IOLoop.current(instance=False)
        if old is not None:
            old._clear_current_hook()

    def _clear_current_hook(self) -> None:
        """Undo `_make_current`; a no-op unless the subclass made itself current."""

    @classmethod
    def configurable_base(cls) -> "type[Configurable]":
        return IOLoop

    @classmethod
    def configurable_default(cls) -> "type[Configurable]":
        from tornado.platform.asyncio import AsyncIOLoop

        return AsyncIOLoop

    def initialize(self, make_current: bool = True) -> None:
        if make_current:
            self._make_current()

    def close(self, all_fds: bool = False) -> None:
        """Close the loop and release its resources.

        With ``all_fds=True`` every file descriptor (or file object) still
        registered with `add_handler` is closed too.  The loop must not be
        running; pending callbacks are dropped.
        """
        raise NotImplementedError()

    def add_handler(
        self, fd: Union[int, "_Selectable"], handler: Callable[..., None], events: int
    ) -> None:
        """Call ``handler(fd, events)`` whenever ``fd`` is ready for ``events``.

        ``fd`` is an integer file descriptor or an object with a ``fileno()``
        method (which then also gets a ``close()`` call from
        ``close(all_fds=True)``); the handler receives it exactly as passed.
        ``events`` is a mask of `READ` and `WRITE`.  Registering the same
        descriptor twice raises.
        """
        raise NotImplementedError()

    def update_handler(self, fd: Union[int, "_Selectable"], events: int) -> None:
        """Change the events that ``fd``'s handler listens for."""
        raise NotImplementedError()

    def remove_handler(self, fd: Union[int, "_Selectable"]) -> None:
        """Stop listening for events on ``fd``; unknown descriptors are ignored."""
        raise NotImplementedError()

    def start(self) -> None:
        """Run the loop until `stop` is called.

        Raises `RuntimeError` if the loop is already running.
        """
        raise NotImplementedError()

    def stop(self) -> None:
        """Stop the loop after the callbacks of the current iteration have run.

        `start` then returns.  Callbacks scheduled meanwhile are kept and run
        when the loop is started again.
        """
        raise NotImplementedError()

    def run_sync(self, func: Callable[..., Any], timeout: Optional[float] = None) -> Any:
        """Start the loop, run ``func`` on it, and stop when its result is ready.

        ``func`` may return an awaitable (a coroutine, a Future, anything
        `tornado.gen` can yield) or None; its final result is returned and its
        exception raised.  Returning any other plain value raises
        `tornado.gen.BadYieldError`.  The loop must not be running already.

        With ``timeout`` (seconds), the operation is cancelled and
        `TimeoutError` is raised once the time is up.  If the loop is stopped
        by something else before the result is ready, `RuntimeError` is
        raised.
        """
        outcome: Dict[str, Any] = {}

        def run() -> None:
            try:
                result = func()
                if result is not None:
                    from tornado.gen import convert_yielded

                    result = convert_yielded(result)
            except Exception:
                fut: Future[Any] = Future()
                outcome["future"] = fut
                future_set_exc_info(fut, sys.exc_info())
            else:
                if is_future(result):
                    outcome["future"] = result
                else:
                    fut = Future()
                    outcome["future"] = fut
                    fut.set_result(result)
            self.add_future(outcome["future"], stop_unless_returned)

        def stop_unless_returned(future: Future[Any]) -> None:
            # After a timeout the future may finish during a later run of
            # the loop, which it must not stop.
            if "returned" not in outcome:
                self.stop()

        self.add_callback(run)
        timeout_handle = None
        if timeout is not None:

            def on_timeout() -> None:
                outcome["timed_out"] = True
                future = outcome.get("future")
                if future is not None and not future.cancel():
                    # Too late to cancel: the result is already there.
                    outcome.pop("timed_out")
                self.stop()

            timeout_handle = self.add_timeout(self.time() + timeout, on_timeout)
        try:
            self.start()
        finally:
            outcome["returned"] = True
            if timeout_handle is not None:
                self.remove_timeout(timeout_handle)
        future = outcome.get("future")
        if future is None or future.cancelled() or not future.done():
            if outcome.get("timed_out"):
                raise TimeoutError("Operation timed out after %s seconds" % timeout)
            raise RuntimeError("Event loop stopped before Future completed.")
        return future.result()

    def time(self) -> float:
        """The loop's current time: seconds since the epoch, as `time.time`.

        Deadlines given to `add_timeout` and `call_at` are on this clock.
        """
        return time.time()

    def add_timeout(
        self,
        deadline: Union[float, datetime.timedelta],
        callback: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> object:
        """Run ``callback(*args, **kwargs)`` at ``deadline``.

        ``deadline`` is a time on the `time` clock, or a `datetime.timedelta`
        counted from now.  Returns a handle for `remove_timeout`.
        """
        if type(deadline) is float or type(deadline) is int:
            return self.call_at(deadline, callback, *args, **kwargs)
        if isinstance(deadline, datetime.timedelta):
            return self.call_at(
                self.time() + deadline.total_seconds(), callback, *args, **kwargs
            )
        if isinstance(deadline, numbers.Real):
            return self.call_at(float(deadline), callback, *args, **kwargs)
        raise TypeError("Unsupported deadline %r" % (deadline,))

    def call_later(
        self, delay: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> object:
        """Run ``callback(*args, **kwargs)`` after ``delay`` seconds.

        Returns a handle for `remove_timeout`.
        """
        return self.call_at(self.time() + delay, callback, *args, **kwargs)

    def call_at(
        self, when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> object:
        """Run ``callback(*args, **kwargs)`` at time ``when`` of the `time` clock.

        Returns a handle for `remove_timeout`.
        """
        return self.add_timeout(when, callback, *args, **kwargs)

    def remove_timeout(self, timeout: object) -> None:
        """Cancel a pending timeout; harmless if it already ran."""
        raise NotImplementedError()

    def add_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``callback(*args, **kwargs)`` on the loop's next iteration.

        This is the one method that is safe to call from any thread (it wakes
        the loop up).  If the loop is closed, or closing concurrently, the
        callback is dropped silently.  An exception from the callback, or from
        the awaitable it returns, is logged to ``tornado.application``.
        """
        raise NotImplementedError()

    def add_callback_from_signal(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        """Like `add_callback`, for use in a signal handler.

        .. deprecated:: 6.4
           Use ``asyncio.get_running_loop().add_signal_handler`` instead.
        """
        raise NotImplementedError()

    def spawn_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``callback`` on the next iteration, detached from the caller.

        Equivalent to `add_callback`.
        """
        self.add_callback(callback, *args, **kwargs)

    def add_future(
        self,
        future: "Union[Future[_T], concurrent.futures.Future[_T]]",
        callback: Callable[..., None],
    ) -> None:
        """Run ``callback(future)`` on the loop once ``future`` is done.

        ``future`` may be an asyncio or a `concurrent.futures` future (the
        latter may be resolved from any thread).
        """
        if isinstance(future, Future):
            future.add_done_callback(functools.partial(self._run_callback, callback))
        else:
            if not is_future(future):
                raise TypeError("expected a Future, got %r" % (future,))
            future_add_done_callback(
                future, lambda f: self.add_callback(callback, f)
            )

    def run_in_executor(
        self,
        executor: Optional[concurrent.futures.Executor],
        func: Callable[..., _T],
        *args: Any,
    ) -> "Future[_T]":
        """Run ``func(*args)`` on ``executor`` and return an awaitable Future.

        With ``executor=None`` the loop's default executor (a thread pool) is
        used.  Context variables are not copied to the worker thread.
        """
        if executor is None:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=(os.cpu_count() or 1) * 5
                )
            executor = self._executor
        pending = executor.submit(func, *args)
        result: Future[_T] = Future()
        self.add_future(pending, lambda f: chain_future(f, result))
        return result

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        """Use ``executor`` for ``run_in_executor(None, ...)``."""
        self._executor = executor

    def _run_callback(self, callback: Callable[..., Any], *args: Any) -> None:
        # Every callback scheduled through this class runs here, so that its
        # exception, or the failure of the awaitable it returns, is logged
        # instead of being lost (or handed to asyncio's default handler).
        try:
            ret = callback(*args)
            if ret is not None:
                from tornado import gen

                try:
                    ret = gen.convert_yielded(ret)
                except gen.BadYieldError:
                    # A plain value: ignore it (see issue #1803 in Tornado:
                    # callbacks returning {} or [] must not spin the loop).
                    pass
                else:
                    self.add_future(ret, self._discard_future_result)
        except asyncio.CancelledError:
            pass
        except Exception:
            app_log.error("Exception in callback %r", callback, exc_info=True)

    def _discard_future_result(self, future: Future[Any]) -> None:
        # Raise the future's exception, if any, so _run_callback logs it.
        future.result()

    def split_fd(self, fd: Union[int, _S]) -> Tuple[int, Union[int, _S]]:
        """Return ``(file descriptor, original object)`` for an fd or file object."""
        if isinstance(fd, int):
            return fd, fd
        return fd.fileno(), fd

    def close_fd(self, fd: Union[int, "_Selectable"]) -> None:
        """Close an fd or file object, ignoring `OSError` (e.g. already closed)."""
        try:
            if isinstance(fd, int):
                os.close(fd)
            else:
                fd.close()
        except OSError:
            pass


class PeriodicCallback:
    """Call ``callback`` every ``callback_time`` milliseconds.

    ``callback_time`` may also be a `datetime.timedelta`.  If the callback
    returns an awaitable, the next call waits for it to finish; calls that
    would fall inside a run that overran are skipped, so the schedule stays
    on multiples of the period.  ``jitter`` (e.g. 0.1 for ±5%) randomizes each
    period to spread out callbacks that would otherwise fire together.

    `start` must be called (on the loop's thread) to begin the calls.
    """

    def __init__(
        self,
        callback: Callable[[], Optional[Awaitable[Any]]],
        callback_time: Union[datetime.timedelta, float],
        jitter: float = 0,
    ) -> None:
        self.callback = callback
        if isinstance(callback_time, datetime.timedelta):
            self.callback_time = callback_time / datetime.timedelta(milliseconds=1)
        else:
            if callback_time <= 0:
                raise ValueError(
                    "Periodic callback must have a positive callback_time, got %r"
                    % (callback_time,)
                )
            self.callback_time = callback_time
        self.jitter = jitter
        self._running = False
        self._timeout: object = None
        self._next_timeout = 0.0

    def start(self) -> None:
        """Start calling the callback, on the current `IOLoop`."""
        self.io_loop = IOLoop.current()
        self._running = True
        self._next_timeout = self.io_loop.time()
        self._schedule_next()

    def stop(self) -> None:
        """Stop calling the callback (a run in progress is not interrupted)."""
        self._running = False
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None

    def is_running(self) -> bool:
        """True between `start` and `stop`."""
        return self._running

    def _run(self) -> None:
        if not self._running:
            return
        try:
            result = self.callback()
        except Exception:
            app_log.error("Exception in callback %r", self.callback, exc_info=True)
            self._schedule_next()
            return
        if result is not None and isawaitable(result):
            from tornado.gen import convert_yielded

            future = convert_yielded(result)
            self.io_loop.add_future(future, self._on_awaitable_done)
        else:
            self._schedule_next()

    def _on_awaitable_done(self, future: Future[Any]) -> None:
        try:
            future.result()
        except Exception:
            app_log.error("Exception in callback %r", self.callback, exc_info=True)
        finally:
            self._schedule_next()

    def _schedule_next(self) -> None:
        if self._running:
            self._update_next(self.io_loop.time())
            self._timeout = self.io_loop.add_timeout(self._next_timeout, self._run)

    def _update_next(self, current_time: float) -> None:
        period = self.callback_time / 1000.0
        if self.jitter:
            # A factor in [1 - jitter/2, 1 + jitter/2).
            period *= 1 + self.jitter * (random.random() - 0.5)
        if self._next_timeout <= current_time:
            # Periods are measured start to start; after an overrun, skip
            # whole periods to return to the original schedule.
            missed = math.floor((current_time - self._next_timeout) / period)
            self._next_timeout += (missed + 1) * period
        else:
            # The clock went backwards (the loop's clock and the wall clock
            # disagree, or NTP adjusted it): still move forward by one period
            # rather than scheduling the same time twice.
            self._next_timeout += period
