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

from __future__ import annotations

import asyncio
import builtins
import collections
import contextvars
import datetime
import functools
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

from tornado.concurrent import Future, chain_future, future_add_done_callback, is_future
from tornado.concurrent import future_set_exception_unless_cancelled as _fail_unless_cancelled
from tornado.concurrent import future_set_result_unless_cancelled as _resolve_unless_cancelled
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


def _result_of(stop: Union[StopIteration, Return]) -> Any:
    """The value that a finished generator (or a raised `Return`) produced."""
    try:
        return stop.value
    except AttributeError:
        # A subclass that skipped our __init__: fall back to its args.
        return stop.args[0] if stop.args else None


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
    """Make a generator function (or a plain one) return a `.Future`.

    Nothing the function raises reaches the caller directly: a `Return` or
    a return value resolves the Future, `asyncio.CancelledError` cancels
    it, any other exception is stored in it.  Generators are driven by a
    `Runner`, which waits for every yielded object and sends the result
    back in; the first step already runs inside the call.  A plain
    function's return value simply becomes the result.

    Each call runs in its own copy of the caller's `contextvars` context.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> "Future[Any]":
        outcome = _create_future()
        ctx_run = contextvars.copy_context().run
        try:
            try:
                produced = ctx_run(func, *args, **kwargs)
                if type(produced) is not _GeneratorType and not isinstance(produced, Generator):
                    _resolve_unless_cancelled(outcome, produced)
                else:
                    generator, produced = produced, None
                    first = ctx_run(next, generator)
                    # The future is the Runner's only owner (besides the
                    # done-callback of what it waits for), so the Runner
                    # lives exactly as long as the result may be wanted.
                    outcome._tornado_runner = Runner(  # type: ignore[attr-defined]
                        ctx_run, generator, outcome, first
                    )
                    generator = first = None
            except (StopIteration, Return) as stop:
                _resolve_unless_cancelled(outcome, _result_of(stop))
            except _CancelledError:
                outcome.cancel()
            except Exception as err:
                _fail_unless_cancelled(outcome, err)
            return outcome
        finally:
            # Once an exception has passed through, this frame may be kept
            # alive by its traceback (directly, or as the f_back of a frame
            # further down).  If the frame still held the future that the
            # exception is stored in, the two would form a cycle that only
            # the GC could free.
            del outcome

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


def _cancel_future(future: "Future[Any]", _unused: Any) -> None:
    future.cancel()


class Runner:
    """Internal: the engine behind one `coroutine` call that returned a generator.

    Each time the generator yields, the yielded object is turned into a
    future (`convert_yielded`); once that is done, its result is sent (or
    its exception thrown) into the generator, always through ``ctx_run`` so
    the coroutine keeps its own `contextvars` context.  When the generator
    returns or raises, ``result_future`` is settled accordingly.
    """

    def __init__(self, ctx_run: Callable[..., Any], gen: "Generator[_Yieldable, Any, _T]",
                 result_future: "Future[_T]", first_yielded: _Yieldable) -> None:
        self.ctx_run = ctx_run
        self.gen = gen
        self.result_future: Optional[Future[Any]] = result_future
        # What the generator waits for: a future, `moment`, or None while
        # it is being resumed.
        self.future: Any = None
        self.running = False
        self.finished = False
        self.io_loop = IOLoop.current()
        context = getattr(ctx_run, "__self__", None)
        self._context = context if isinstance(context, contextvars.Context) else None
        ready = ctx_run(self.handle_yield, first_yielded)
        # Frames that outlive their call keep their caller's frame, and so
        # this one's locals: drop them so that a failure stored in the
        # result future cannot keep itself alive through them.
        del gen, result_future, first_yielded
        if ready:
            ctx_run(self.run)

    def run(self) -> None:
        """Feed the generator outcomes until it waits on something pending."""
        if self.running or self.finished:
            return
        self.running = True
        try:
            while True:
                awaited = self.future
                if awaited is moment:
                    awaited = None
                elif awaited is None:
                    raise Exception("No pending future")
                elif not awaited.done():
                    return
                self.future = None
                sent: Any = None
                thrown: Optional[BaseException] = None
                if awaited is not None:
                    try:
                        sent = awaited.result()
                    except (Exception, _CancelledError) as err:
                        thrown = err
                    awaited = None
                # The generator is resumed outside any except block, so
                # that what it raises has no misleading __context__.
                try:
                    step = self.gen.send(sent) if thrown is None else self.gen.throw(thrown)
                except (StopIteration, Return) as stop:
                    self._conclude(_resolve_unless_cancelled, _result_of(stop))
                    return
                except _CancelledError:
                    self._conclude(_cancel_future, None)
                    return
                except Exception as err:
                    self._conclude(_fail_unless_cancelled, err)
                    return
                finally:
                    # A thrown exception's traceback includes this frame:
                    # keeping it in a local would make a reference cycle.
                    sent = thrown = None
                ready = self.handle_yield(step)
                step = None
                if not ready:
                    return
        finally:
            self.running = False

    def _conclude(self, settle: Callable[[Any, Any], None], value: Any) -> None:
        # Mark the runner done before settling, and drop the reference to the
        # result future, which may hold an exception whose traceback leads
        # back here.
        self.finished = True
        self.future = None
        target, self.result_future = self.result_future, None
        settle(target, value)

    def handle_yield(self, yielded: _Yieldable) -> bool:
        """Wait for ``yielded`` next; True means its outcome is available now."""
        if isinstance(yielded, Future):
            # By far the usual case, kept short: no singledispatch.
            self.future = yielded
            if yielded.done():
                return True
            if self._context is None:
                self.io_loop.add_future(yielded, self._resume_in_context)
            else:
                # The loop calls us back directly, already inside our context.
                yielded.add_done_callback(self._resume, context=self._context)
            return False
        return self._wait_for_other(yielded)

    def _wait_for_other(self, yielded: _Yieldable) -> bool:
        # handle_yield for anything but an asyncio Future.
        if yielded is None or yielded is moment:
            awaited: Any = moment
        else:
            try:
                awaited = convert_yielded(yielded)
            except BadYieldError as err:
                awaited = _create_future()
                awaited.set_exception(err)
        if awaited is moment:
            # Resume on the next loop iteration, letting others run first.
            self.future = moment
            self.io_loop.add_callback(self.ctx_run, self.run)
            return False
        if isinstance(awaited, Future):
            return self.handle_yield(awaited)
        self.future = awaited
        if awaited.done():
            return True
        self.io_loop.add_future(awaited, self._resume_in_context)
        return False

    def _resume(self, done: Any) -> None:
        # `done` is not kept: if the generator catches the exception it
        # carries, the traceback holds this frame, and a reference from the
        # frame back to the future would form a cycle.
        del done
        self.run()

    def _resume_in_context(self, done: Any) -> None:
        del done
        self.ctx_run(self.run)

    def handle_exception(self, typ: Type[Exception], value: Exception,
                         tb: types.TracebackType) -> bool:
        """Raise ``value`` inside the generator, where it is suspended now.

        The result says whether the coroutine is still alive afterwards
        (it caught the exception); when it is not, `result_future` has been
        settled.  Nothing happens (False) while the runner is busy or done.
        """
        if self.running or self.finished:
            return False
        failed = _create_future()
        failed.set_exception(value)
        self.future = failed
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
    names = list(children) if isinstance(children, dict) else None
    members = children.values() if names is not None else children  # type: ignore[union-attr]
    waited = [_child_future(member) for member in members]
    combined = _create_future()
    if not waited:
        combined.set_result([] if names is None else {})
        return combined
    outstanding = set(waited)

    def report(failure: BaseException) -> None:
        # The first failure (in input order) becomes the outcome; later
        # ones can only be logged.  Cancellations are never logged.
        if not combined.done():
            combined.set_exception(failure)
        elif not isinstance(failure, (_CancelledError, *_as_tuple(quiet_exceptions))):
            app_log.error("Multiple exceptions in yield list", exc_info=failure)

    def on_child_done(child: Future[Any]) -> None:
        outstanding.discard(child)
        if outstanding:
            return
        values = []
        for fut in waited:
            try:
                values.append(fut.result())
            except (Exception, _CancelledError) as failure:
                report(failure)
        if not combined.done():
            combined.set_result(values if names is None else dict(zip(names, values, strict=True)))

    for child in outstanding.copy():
        future_add_done_callback(child, on_child_done)
    return combined


def _as_tuple(types_: "Union[Type[Exception], Tuple[Type[Exception], ...]]") -> Tuple[type, ...]:
    return types_ if isinstance(types_, tuple) else (types_,)


def _child_future(child: _Yieldable) -> "Future[Any]":
    # A child of multi() (or the target of with_timeout) as a real future;
    # moment becomes one that resolves on the next iteration of the loop.
    fut = convert_yielded(child)
    if fut is moment:  # type: ignore[comparison-overlap]
        fut = _create_future()
        IOLoop.current().add_callback(_resolve_unless_cancelled, fut, None)
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
    inner = _child_future(future)
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
        duration, _resolve_unless_cancelled, future, None
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
