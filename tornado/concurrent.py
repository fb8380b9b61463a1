"""Futures: the one result type that Tornado's asynchronous code passes around.

Since Tornado 5.0 ``tornado.concurrent.Future`` *is* `asyncio.Future`, so a
Tornado coroutine can be awaited by asyncio code and the other way round.
This module adds the glue that asyncio leaves out:

* helpers that resolve a future without raising when it was cancelled
  meanwhile (``future_set_result_unless_cancelled`` and friends);
* `chain_future`, which copies the outcome of one future (asyncio or
  `concurrent.futures`) to another, across threads if needed;
* `run_on_executor`, a decorator that runs a method on ``self.executor``
  and returns an awaitable future;
* `DummyExecutor`, an executor that runs its work synchronously.

It sits just above `tornado.util`/`tornado.log`; `tornado.ioloop` is only
imported lazily, when a `concurrent.futures.Future` must be watched from the
event loop.
"""

import asyncio
import functools
import sys
import types
from concurrent import futures
from typing import Any, Callable, Optional, Tuple, TypeVar, Union

from tornado.log import app_log

_T = TypeVar("_T")


class ReturnValueIgnoredError(Exception):
    """Raised by code that discards a value returned where none was expected."""


# The event-loop future.  An alias, not a subclass: every asyncio Future is a
# Tornado Future and vice versa.
Future = asyncio.Future

# The future types that Tornado accepts wherever "a future" is expected.
FUTURES = (Future, futures.Future)


def is_future(x: Any) -> bool:
    """Return True if ``x`` is an asyncio or a `concurrent.futures` future."""
    return isinstance(x, FUTURES)


class DummyExecutor(futures.Executor):
    """An executor that runs each submitted call at once, in the caller's thread.

    ``submit`` returns an already-resolved `concurrent.futures.Future`
    carrying the call's result or exception.
    """

    def submit(  # type: ignore[override]
        self, fn: Callable[..., _T], *args: Any, **kwargs: Any
    ) -> "futures.Future[_T]":
        future: "futures.Future[_T]" = futures.Future()
        try:
            future_set_result_unless_cancelled(future, fn(*args, **kwargs))
        except Exception:
            future_set_exc_info(future, sys.exc_info())
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Nothing to release: no threads are ever started."""


dummy_executor = DummyExecutor()


def run_on_executor(*args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Decorate a method so that it runs on an executor and returns a Future.

    By default the executor is ``self.executor``; pass
    ``executor="attribute_name"`` to use another attribute of ``self``.
    The decorator may be used bare (``@run_on_executor``) or called
    (``@run_on_executor()``, ``@run_on_executor(executor="_pool")``).

    The returned future is an asyncio future, so the result may be awaited
    or yielded from a coroutine.  The context (contextvars) of the caller is
    *not* carried over to the executor thread.
    """

    def decorate(fn: Callable[..., Any], executor_attr: str) -> Callable[..., Future[Any]]:
        @functools.wraps(fn)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Future[Any]:
            result: Future[Any] = Future()
            pending = getattr(self, executor_attr).submit(fn, self, *args, **kwargs)
            chain_future(pending, result)
            return result

        return wrapper

    if args and kwargs:
        raise ValueError("cannot combine positional and keyword args")
    if len(args) == 1:
        return decorate(args[0], "executor")
    if args:
        raise ValueError("expected 1 argument, got %d" % len(args))
    executor_attr = kwargs.pop("executor", "executor")
    if kwargs:
        raise ValueError("unexpected keyword arguments: %s" % ", ".join(sorted(kwargs)))
    return functools.partial(decorate, executor_attr=executor_attr)


def chain_future(a: "Union[Future[_T], futures.Future[_T]]", b: "Union[Future[_T], futures.Future[_T]]") -> None:
    """Copy the outcome of future ``a`` to future ``b`` once ``a`` is done.

    Either may be an asyncio or a `concurrent.futures` future.  If ``a`` is
    cancelled, ``b`` is cancelled.  Nothing happens if ``b`` was resolved
    (or cancelled) in the meantime.  A `concurrent.futures` source is watched
    through the current `.IOLoop`, so ``b`` is always resolved on the event
    loop's thread.
    """

    def copy(a: Any) -> None:
        if b.done():
            return
        if a.cancelled():
            b.cancel()
            return
        exc = a.exception()
        if exc is not None:
            future_set_exception_unless_cancelled(b, exc)
        else:
            future_set_result_unless_cancelled(b, a.result())

    if isinstance(a, Future):
        future_add_done_callback(a, copy)
    else:
        from tornado.ioloop import IOLoop

        IOLoop.current().add_future(a, copy)


def future_set_result_unless_cancelled(
    future: "Union[futures.Future[_T], Future[_T]]", value: _T
) -> None:
    """Set ``future``'s result unless it was cancelled.

    Cancellation is the only way a future can be resolved from outside its
    producer, so a producer that finishes late should use this instead of
    calling ``set_result`` directly (which would raise).
    """
    if not future.cancelled():
        future.set_result(value)


def future_set_exception_unless_cancelled(
    future: "Union[futures.Future[_T], Future[_T]]", exc: BaseException
) -> None:
    """Set ``future``'s exception unless it was cancelled.

    An exception arriving after cancellation has nowhere to go, so it is
    logged to ``tornado.application`` instead of being lost silently.
    """
    if not future.cancelled():
        future.set_exception(exc)
    else:
        app_log.error("Exception after Future was cancelled", exc_info=exc)


def future_set_exc_info(
    future: "Union[futures.Future[_T], Future[_T]]",
    exc_info: Tuple[
        Optional[type], Optional[BaseException], Optional[types.TracebackType]
    ],
) -> None:
    """Set ``future``'s exception from an ``exc_info`` triple.

    Behaves like `future_set_exception_unless_cancelled`.
    """
    if exc_info[1] is None:
        raise Exception("future_set_exc_info called with no exception")
    future_set_exception_unless_cancelled(future, exc_info[1])


def future_add_done_callback(
    future: "Union[futures.Future[_T], Future[_T]]", callback: Callable[..., None]
) -> None:
    """Arrange for ``callback(future)`` to run when ``future`` is done.

    Unlike ``add_done_callback``, the callback runs immediately (before this
    function returns) if the future is already done.
    """
    if future.done():
        callback(future)
    else:
        future.add_done_callback(callback)
