"""Generator-based coroutines, and helpers for all kinds of coroutines.

``@gen.coroutine`` turns a generator function into a function returning a
`.Future`: each value the generator yields (a Future, a native coroutine or
other awaitable, a list or dict of those, or None/`moment`) is waited for,
and its result is sent back into the generator.  The generator's return
value (or ``raise gen.Return(value)``) resolves the Future.  Native
``async def`` coroutines are usually the better choice today; they and
decorated coroutines can await/yield each other freely.

The helpers work with both kinds: `multi` waits for many awaitables at once,
`with_timeout` bounds one, `sleep` and `moment` pause, `WaitIterator` yields
results in the order they complete, and `convert_yielded` (extensible with
`functools.singledispatch`) turns a yieldable object into a Future.

Each coroutine call runs in a copy of the caller's `contextvars` context,
like an asyncio Task.  This module builds on `tornado.concurrent` and
`tornado.ioloop`.
"""

import asyncio
import builtins
import collections
import contextvars
import datetime
import functools
import sys
import types
from collections.abc import Generator
from functools import singledispatch
from inspect import isawaitable
from typing import (
    Any,
    Awaitable,
    Callable,
    Deque,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
    Type,
    TypeVar,
    Union,
)

from tornado.concurrent import (
    Future,
    chain_future,
    future_add_done_callback,
    future_set_exc_info,
    future_set_result_unless_cancelled,
    is_future,
)
from tornado.ioloop import IOLoop
from tornado.log import app_log
from tornado.util import TimeoutError  # re-exported

_T = TypeVar("_T")

_Yieldable = Union[
    None, Awaitable[Any], List[Awaitable[Any]], Dict[Any, Awaitable[Any]], "Future[Any]"
]

_CancelledError = asyncio.CancelledError
_GeneratorType = types.GeneratorType


class KeyReuseError(Exception):
    """Kept for compatibility; nothing raises it since Tornado 6."""


class UnknownKeyError(Exception):
    """Kept for compatibility; nothing raises it since Tornado 6."""


class LeakedCallbackError(Exception):
    """Kept for compatibility; nothing raises it since Tornado 6."""


class BadYieldError(Exception):
    """A coroutine yielded something that is neither awaitable nor None.

    Also raised by `convert_yielded` (and so by `.IOLoop.run_sync`) for such
    objects.
    """


class ReturnValueIgnoredError(Exception):
    """Kept for compatibility; nothing raises it since Tornado 6."""


class Return(Exception):
    """Raise ``Return(value)`` to return a value from a decorated coroutine.

    A plain ``return value`` works too and is preferred; this exception
    remains for code written when generators could not return values.
    """

    def __init__(self, value: Any = None) -> None:
        super().__init__()
        self.value = value
        # Keep args like other exceptions, so that reprs show the value.
        self.args = (value,)


def _value_from_stopiteration(e: Union[StopIteration, Return]) -> Any:
    try:
        # StopIteration and Return both carry .value.
        return e.value
    except AttributeError:
        pass
    try:
        return e.args[0]
    except (AttributeError, IndexError):
        return None


_THIS_FILE = __file__


def _create_future() -> Future[Any]:
    """A new Future, whose debug creation trace (if any) omits this module.

    With asyncio debug mode on, a Future records where it was created; the
    frames of the coroutine machinery here would hide the interesting one,
    the caller's.
    """
    future: Future[Any] = Future()
    source_traceback = future._source_traceback  # type: ignore[attr-defined]
    if source_traceback:
        while source_traceback and source_traceback[-1][0] == _THIS_FILE:
            del source_traceback[-1]
    return future


# Strong references to the tasks that convert_yielded creates for bare
# coroutines, so that a task nobody else references is not garbage
# collected while it runs (asyncio keeps only weak references).
_background_tasks: Set["asyncio.Task[Any]"] = set()


def coroutine(func: Callable[..., Any]) -> Callable[..., "Future[Any]"]:
    """Decorator for generator-based coroutines.

    Calling the decorated function returns a `.Future`.  Exceptions (other
    than `Return`) escaping the function are set on that Future rather than
    raised to the caller; raising `asyncio.CancelledError` cancels it.  A
    plain (non-generator) function is accepted too: its return value
    becomes the Future's result.

    The generator runs in a copy of the caller's `contextvars` context.  Its
    first step runs synchronously, before the call returns.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> "Future[Any]":
        future = _create_future()
        ctx_run = contextvars.copy_context().run
        try:
            result = ctx_run(func, *args, **kwargs)
        except (Return, StopIteration) as e:
            result = _value_from_stopiteration(e)
        except _CancelledError:
            future.cancel()
            return future
        except Exception:
            future_set_exc_info(future, sys.exc_info())
            try:
                return future
            finally:
                # Break the cycle future -> exception -> traceback -> frame.
                future = None  # type: ignore[assignment]
        else:
            if type(result) is _GeneratorType or isinstance(result, Generator):
                try:
                    yielded = ctx_run(next, result)
                except (StopIteration, Return) as e:
                    future_set_result_unless_cancelled(
                        future, _value_from_stopiteration(e)
                    )
                except _CancelledError:
                    future.cancel()
                except Exception:
                    future_set_exc_info(future, sys.exc_info())
                else:
                    # The Runner is referenced only from the future (and the
                    # callbacks of what it waits for): it lives exactly as
                    # long as somebody can still want the result.
                    future._tornado_runner = Runner(  # type: ignore[attr-defined]
                        ctx_run, result, future, yielded
                    )
                    yielded = None
                try:
                    return future
                finally:
                    future = None  # type: ignore[assignment]
        future_set_result_unless_cancelled(future, result)
        return future

    wrapper.__wrapped__ = func
    wrapper.__tornado_coroutine__ = True  # type: ignore[attr-defined]
    return wrapper


def is_coroutine_function(func: Any) -> bool:
    """True if ``func`` was decorated with `coroutine`."""
    return getattr(func, "__tornado_coroutine__", False)


class _Moment:
    """The type of `moment`: yielding it gives the loop one iteration."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "tornado.gen.moment"

    def __await__(self) -> "Generator[None, None, None]":
        # A bare yield tells asyncio's Task to run again on the next
        # iteration, like asyncio.sleep(0).
        yield


# A special object which may be yielded to let the IOLoop run for one
# iteration.  ``yield None`` (or a bare ``yield``) does the same; in native
# coroutines ``await gen.moment`` works, as does ``await asyncio.sleep(0)``.
moment = _Moment()


class Runner:
    """Drives one decorated coroutine's generator (an internal class).

    It waits for each yielded object (after `convert_yielded`) and resumes
    the generator with the result or exception, in the context that
    ``ctx_run`` enters.  ``result_future`` receives the final outcome.
    """

    def __init__(
        self,
        ctx_run: Callable[..., Any],
        gen: "Generator[_Yieldable, Any, _T]",
        result_future: "Future[_T]",
        first_yielded: _Yieldable,
    ) -> None:
        self.ctx_run = ctx_run
        self.gen = gen
        self.result_future: Optional[Future[Any]] = result_future
        self.future: Any = None
        self.running = False
        self.finished = False
        self.io_loop = IOLoop.current()
        if self.ctx_run(self.handle_yield, first_yielded):
            gen = result_future = first_yielded = None  # type: ignore[assignment]
            self.ctx_run(self.run)

    def run(self) -> None:
        """Resume the generator for as long as what it waits for is ready."""
        if self.running or self.finished:
            return
        try:
            self.running = True
            while True:
                future = self.future
                if future is None:
                    raise Exception("No pending future")
                if future is moment:
                    future = None
                elif not future.done():
                    return
                self.future = None
                try:
                    exc: Optional[BaseException] = None
                    value: Any = None
                    if future is not None:
                        try:
                            value = future.result()
                        except (Exception, _CancelledError) as e:
                            exc = e
                        future = None
                    # Resume outside of the except clause above, so the
                    # generator's exceptions get no spurious __context__.
                    if exc is not None:
                        try:
                            yielded = self.gen.throw(exc)
                        finally:
                            exc = None
                    else:
                        yielded = self.gen.send(value)
                        value = None
                except (StopIteration, Return) as e:
                    self._finish()
                    future_set_result_unless_cancelled(
                        self.result_future,  # type: ignore[arg-type]
                        _value_from_stopiteration(e),
                    )
                    self.result_future = None
                    return
                except _CancelledError:
                    self._finish()
                    self.result_future.cancel()  # type: ignore[union-attr]
                    self.result_future = None
                    return
                except Exception:
                    self._finish()
                    future_set_exc_info(self.result_future, sys.exc_info())  # type: ignore[arg-type]
                    self.result_future = None
                    return
                if not self.handle_yield(yielded):
                    return
                yielded = None
        finally:
            self.running = False

    def _finish(self) -> None:
        self.finished = True
        self.future = None

    def handle_yield(self, yielded: _Yieldable) -> bool:
        """Start waiting for ``yielded``; return True if it is ready already."""
        if isinstance(yielded, Future):
            # The common case, kept free of singledispatch's cost.
            future: Any = yielded
        elif yielded is None or yielded is moment:
            self.future = moment
            self.io_loop.add_callback(self.ctx_run, self.run)
            return False
        else:
            try:
                future = convert_yielded(yielded)
            except BadYieldError:
                future = _create_future()
                future_set_exc_info(future, sys.exc_info())
            if future is moment:
                self.future = moment
                self.io_loop.add_callback(self.ctx_run, self.run)
                return False
        self.future = future
        if future.done():
            return True
        if isinstance(future, Future):
            # Resume straight from the loop, in the coroutine's context.
            future.add_done_callback(self._wake, context=self.ctx_run.__self__)  # type: ignore[attr-defined]
        else:
            self.io_loop.add_future(future, self._wake_in_context)
        return False

    def _wake(self, future: Any) -> None:
        # Drop the argument first: if the generator catches an exception,
        # the traceback keeps this frame alive, and a reference from here
        # to the future holding that exception would make a cycle.
        del future
        self.run()

    def _wake_in_context(self, future: Any) -> None:
        del future
        self.ctx_run(self.run)

    def handle_exception(
        self,
        typ: Type[Exception],
        value: Exception,
        tb: types.TracebackType,
    ) -> bool:
        """Throw an exception into the generator at its current yield.

        Returns True if the coroutine handled it and goes on, False if it
        finished (the result future then carries the outcome).
        """
        if self.running or self.finished:
            return False
        self.future = _create_future()
        future_set_exc_info(self.future, (typ, value, tb))
        self.ctx_run(self.run)
        return not self.finished


def _wrap_awaitable(awaitable: Awaitable[Any]) -> "Future[Any]":
    task = asyncio.ensure_future(awaitable)
    if not task.done():
        _background_tasks.add(task)
        task.add_done_callback(_background_tasks.discard)
    return task


@singledispatch
def convert_yielded(yielded: _Yieldable) -> "Future[Any]":
    """Convert a yielded object into a `.Future`.

    Futures are returned unchanged, coroutines and other awaitables are
    wrapped in an asyncio Task, and lists and dicts of those go through
    `multi`.  None and `moment` come back as `moment`.  Anything else raises
    `BadYieldError`.

    This is a `functools.singledispatch` function, so support for other
    types can be added::

        @tornado.gen.convert_yielded.register(SomeType)
        def _(obj):
            return some_future_for(obj)
    """
    if yielded is None or yielded is moment:
        return moment  # type: ignore[return-value]
    if isinstance(yielded, (list, dict)):
        return multi(yielded)
    if is_future(yielded):
        return yielded  # type: ignore[return-value]
    if isawaitable(yielded):
        return _wrap_awaitable(yielded)
    raise BadYieldError("yielded unknown object %r" % (yielded,))


def maybe_future(x: Any) -> "Future[Any]":
    """Return ``x`` if it is a Future, else a Future resolved to ``x``.

    .. deprecated:: 4.3
       It handles Futures only; await/yield awaitables and check for the
       plain values you expect instead.
    """
    if is_future(x):
        return x  # type: ignore[no-any-return]
    future = _create_future()
    future.set_result(x)
    return future


def multi(
    children: Union[Sequence[_Yieldable], Mapping[Any, _Yieldable]],
    quiet_exceptions: "Union[Type[Exception], Tuple[Type[Exception], ...]]" = (),
) -> "Future[Any]":
    """Wait for several yieldable objects at once.

    ``children`` is a list or a dict of them; the result is a list of their
    results in the same order, or a dict with the same keys.  The result is
    ready once every child is done.  If children fail, the first exception
    (in order) is raised and the later ones are logged, except those of the
    ``quiet_exceptions`` types.  A cancelled child makes the whole raise
    `asyncio.CancelledError` (without cancelling the returned Future).

    Yielding a list or dict from a decorated coroutine calls this.
    """
    return multi_future(children, quiet_exceptions=quiet_exceptions)


Multi = multi


def multi_future(
    children: Union[Sequence[_Yieldable], Mapping[Any, _Yieldable]],
    quiet_exceptions: "Union[Type[Exception], Tuple[Type[Exception], ...]]" = (),
) -> "Future[Any]":
    """Wait for several Futures at once; the same as `multi`.

    .. deprecated:: 4.3
       Use `multi`.
    """
    keys: Optional[List[Any]]
    if isinstance(children, dict):
        keys = list(children)
        children_seq: Iterable[_Yieldable] = children.values()
    else:
        keys = None
        children_seq = children
    children_futs = [_child_future(child) for child in children_seq]
    future = _create_future()
    if not children_futs:
        future.set_result({} if keys is not None else [])
        return future
    unfinished = set(children_futs)

    def on_child_done(fut: Future[Any]) -> None:
        unfinished.discard(fut)
        if unfinished:
            return
        results = []
        for child in children_futs:
            try:
                results.append(child.result())
            except _CancelledError as e:
                if not future.done():
                    future.set_exception(e)
            except Exception as e:
                if future.done():
                    if not isinstance(e, quiet_exceptions):
                        app_log.error(
                            "Multiple exceptions in yield list", exc_info=True
                        )
                else:
                    future_set_exc_info(future, sys.exc_info())
        if not future.done():
            if keys is not None:
                future_set_result_unless_cancelled(future, dict(zip(keys, results, strict=True)))
            else:
                future_set_result_unless_cancelled(future, results)

    for child in set(children_futs):
        future_add_done_callback(child, on_child_done)
    return future


def _child_future(child: _Yieldable) -> "Future[Any]":
    # A child of multi() as a real future; moment becomes one that resolves
    # on the next iteration of the loop.
    fut = convert_yielded(child)
    if fut is moment:  # type: ignore[comparison-overlap]
        fut = _create_future()
        IOLoop.current().add_callback(future_set_result_unless_cancelled, fut, None)
    return fut


def with_timeout(
    timeout: Union[float, datetime.timedelta],
    future: _Yieldable,
    quiet_exceptions: "Union[Type[Exception], Tuple[Type[Exception], ...]]" = (),
    *,
    message: Union[None, str, Callable[[], str]] = None,
) -> "Future[Any]":
    """Wrap ``future`` (anything yieldable) in a Future that times out.

    ``timeout`` is a deadline on `.IOLoop.time` or a `datetime.timedelta`
    from now.  If ``future`` is not done by then, the returned Future raises
    `TimeoutError` with ``message`` (a string, or a callable producing one,
    called only on timeout; default ``"Timeout"``).  ``future`` itself is
    not cancelled; if it fails later, its exception is logged unless it is
    of a ``quiet_exceptions`` type.
    """
    inner = convert_yielded(future)
    if inner is moment:  # type: ignore[comparison-overlap]
        inner = _child_future(moment)
    result = _create_future()
    chain_future(inner, result)
    io_loop = IOLoop.current()

    def log_late_error(fut: Any) -> None:
        try:
            fut.result()
        except _CancelledError:
            pass
        except Exception as e:
            if not isinstance(e, quiet_exceptions):
                app_log.error(
                    "Exception in Future %r after timeout", fut, exc_info=True
                )

    def on_timeout() -> None:
        if not result.done():
            text = message() if callable(message) else message
            result.set_exception(TimeoutError("Timeout" if text is None else text))
        future_add_done_callback(inner, log_late_error)

    timeout_handle = io_loop.add_timeout(timeout, on_timeout)
    if isinstance(inner, Future):
        # Cancel the timer as soon as the result is there, even if nobody is
        # listening any more.
        inner.add_done_callback(lambda _: io_loop.remove_timeout(timeout_handle))
    else:
        io_loop.add_future(inner, lambda _: io_loop.remove_timeout(timeout_handle))
    return result


def sleep(duration: float) -> "Future[None]":
    """Return a Future that resolves after ``duration`` seconds.

    The non-blocking counterpart of `time.sleep`: ``yield gen.sleep(0.5)``
    (or ``await``).  In native coroutines `asyncio.sleep` does the same.
    """
    future = _create_future()
    IOLoop.current().call_later(
        duration, future_set_result_unless_cancelled, future, None
    )
    return future


class WaitIterator:
    """Iterate over awaitables in the order they finish.

    Pass Futures positionally or by keyword (not both).  Each ``next()``
    returns a Future for the next result; `current_index` (the position or
    keyword) and `current_future` tell which input it came from.  Use it
    with ``async for``, or::

        it = gen.WaitIterator(f1, f2)
        while not it.done():
            try:
                result = yield it.next()
            except Exception as e:
                print("Error {} from {}".format(e, it.current_future))
            else:
                print("Result {} from {}".format(result, it.current_index))

    Inputs that are already done come out in their given order.
    """

    def __init__(self, *args: Future[Any], **kwargs: Future[Any]) -> None:
        if args and kwargs:
            raise ValueError("You must provide args or kwargs, not both")
        if kwargs:
            items: Iterable[Tuple[Any, Future[Any]]] = kwargs.items()
        else:
            items = enumerate(args)
        # future -> the indices it was given under (one per occurrence).
        self._unfinished: Dict[Future[Any], Deque[Any]] = {}
        futures = []
        for key, fut in items:
            self._unfinished.setdefault(fut, collections.deque()).append(key)
            futures.append(fut)
        self._finished: Deque[Future[Any]] = collections.deque()
        self.current_index: Any = None
        self.current_future: Optional[Future[Any]] = None
        self._running_future: Optional[Future[Any]] = None
        for fut in futures:
            future_add_done_callback(fut, self._done_callback)

    def done(self) -> bool:
        """True once every input has been returned by `next`."""
        if self._finished or self._unfinished:
            return False
        self.current_index = self.current_future = None
        return True

    def next(self) -> Future[Any]:
        """A Future for the next input to finish (with its outcome)."""
        self._running_future = _create_future()
        if self._finished:
            return self._return_result(self._finished.popleft())
        return self._running_future

    def _done_callback(self, done: Future[Any]) -> None:
        if self._running_future is not None and not self._running_future.done():
            self._return_result(done)
        else:
            self._finished.append(done)

    def _return_result(self, done: Future[Any]) -> Future[Any]:
        running = self._running_future
        if running is None:
            raise Exception("no future is running")
        chain_future(done, running)
        self._running_future = None
        self.current_future = done
        keys = self._unfinished[done]
        self.current_index = keys.popleft()
        if not keys:
            del self._unfinished[done]
        return running

    def __aiter__(self) -> "WaitIterator":
        return self

    def __anext__(self) -> Future[Any]:
        if self.done():
            raise builtins.StopAsyncIteration()
        return self.next()
