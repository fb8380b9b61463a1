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

from __future__ import annotations

import asyncio
import functools
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
    """An executor without threads: each call runs inside ``submit`` itself.

    What ``submit`` hands back is a `concurrent.futures.Future` that is
    already settled with whatever the call returned or raised.
    """

    def submit(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> "futures.Future[_T]":  # type: ignore[override]  # noqa: E501
        settled: "futures.Future[_T]" = futures.Future()
        try:
            outcome = fn(*args, **kwargs)
        except Exception as err:
            future_set_exception_unless_cancelled(settled, err)
        else:
            settled.set_result(outcome)
        return settled

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """A no-op: there is no worker to stop."""


dummy_executor = DummyExecutor()


def run_on_executor(*args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Make a method run on an executor; calling it returns a `Future`.

    The executor is looked up on the instance when the method is called:
    ``self.executor`` unless the decorator was given
    ``executor="other_attribute"``.  Both ``@run_on_executor`` and
    ``@run_on_executor(...)`` spellings are accepted.

    The caller gets an asyncio future, usable with ``await`` or ``yield``.
    Context variables of the caller do not follow the call into the
    executor's thread.
    """
    if args and kwargs:
        raise ValueError("cannot combine positional and keyword args")
    if len(args) > 1:
        raise ValueError("expected 1 argument, got %d" % len(args))
    attr_name = kwargs.pop("executor", "executor")
    if kwargs:
        raise ValueError("unexpected keyword arguments: %s" % ", ".join(sorted(kwargs)))

    def wrap(method: Callable[..., Any]) -> Callable[..., Future[Any]]:
        @functools.wraps(method)
        def on_executor(self: Any, *a: Any, **kw: Any) -> Future[Any]:
            pool = getattr(self, attr_name)
            handle: Future[Any] = Future()
            chain_future(pool.submit(method, self, *a, **kw), handle)
            return handle

        return on_executor

    return wrap(args[0]) if args else wrap


# Either flavour of future; the helpers below accept both.
_AnyFuture = Union["futures.Future[_T]", "Future[_T]"]


def chain_future(a: "_AnyFuture[_T]", b: "_AnyFuture[_T]") -> None:
    """Once ``a`` settles, settle ``b`` the same way.

    ``a`` and ``b`` may each be an asyncio or a `concurrent.futures` future.
    Cancelling ``a`` cancels ``b``; if ``b`` has already settled by then
    (say it was cancelled by its consumer) it is left alone.  When ``a`` is
    a `concurrent.futures` future it is watched through `.IOLoop.current`,
    so ``b`` is always settled on the event loop thread.
    """

    def relay(source: Any) -> None:
        if b.done():
            pass
        elif source.cancelled():
            b.cancel()
        elif source.exception() is None:
            future_set_result_unless_cancelled(b, source.result())
        else:
            future_set_exception_unless_cancelled(b, source.exception())

    if not isinstance(a, Future):
        from tornado.ioloop import IOLoop

        IOLoop.current().add_future(a, relay)
    else:
        future_add_done_callback(a, relay)


def future_set_result_unless_cancelled(future: "_AnyFuture[_T]", value: _T) -> None:
    """Give ``future`` the result ``value``, unless it was cancelled first.

    A consumer may cancel a future at any time, and ``set_result`` on a
    cancelled future raises; producers that may finish late call this.
    """
    if future.cancelled():
        return
    future.set_result(value)


def future_set_exception_unless_cancelled(
    future: "_AnyFuture[_T]", exc: BaseException
) -> None:
    """Fail ``future`` with ``exc``, unless it was cancelled first.

    A cancelled future cannot carry the error any more, so it goes to the
    ``tornado.application`` log rather than vanishing.
    """
    if future.cancelled():
        app_log.error("Exception after Future was cancelled", exc_info=exc)
        return
    future.set_exception(exc)


_ExcInfo = Tuple[Optional[type], Optional[BaseException], Optional[types.TracebackType]]


def future_set_exc_info(future: "_AnyFuture[_T]", exc_info: _ExcInfo) -> None:
    """Fail ``future`` with the exception of a ``sys.exc_info()`` triple.

    Cancellation is treated as in `future_set_exception_unless_cancelled`.
    """
    error = exc_info[1]
    if error is None:
        raise Exception("future_set_exc_info called with no exception")
    future_set_exception_unless_cancelled(future, error)


def future_add_done_callback(
    future: "_AnyFuture[_T]", callback: Callable[..., None]
) -> None:
    """Call ``callback(future)`` when ``future`` settles.

    If it has settled already the callback runs right away, before this
    returns, instead of being scheduled as ``add_done_callback`` would.
    """
    if not future.done():
        future.add_done_callback(callback)
    else:
        callback(future)
