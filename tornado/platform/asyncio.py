"""The asyncio implementations of `tornado.ioloop.IOLoop`.

* `AsyncIOMainLoop` wraps an asyncio loop that someone else created and runs
  (``asyncio.run``, or the thread's loop); `.IOLoop.current` makes one on
  demand.
* `AsyncIOLoop` creates and owns a new asyncio loop; it is what ``IOLoop()``
  builds.  Its loop is a `asyncio.SelectorEventLoop` on the best poller of the
  platform, chosen explicitly: epoll on Linux, kqueue on BSD and macOS, select
  elsewhere.  (On Windows asyncio's default proactor loop is kept, see below.)
  The subclasses in ``tornado.platform.epoll``, ``kqueue`` and ``select`` pin
  one poller.

Both share `BaseAsyncIOLoop`, which maps the IOLoop interface onto the asyncio
loop with as little work as possible per call: handlers become
``add_reader``/``add_writer`` registrations, callbacks ``call_soon`` (or
``call_soon_threadsafe`` from other threads), timeouts ``call_at``.

Windows' proactor loop has no ``add_reader``; `SelectorThread` supplies one by
running ``select()`` in a background thread, and `AddThreadSelectorEventLoop`
grafts it onto the proactor loop.

This module builds on `tornado.ioloop`, `tornado.concurrent` and `tornado.gen`.
"""

import asyncio
import atexit
import concurrent.futures
import contextlib
import contextvars
import errno
import functools
import queue
import select
import selectors
import socket
import sys
import threading
import typing
import warnings
from typing import Any, Callable, Dict, List, Optional, Protocol, Set, Tuple, TypeVar, Union

from tornado.gen import convert_yielded
from tornado.ioloop import IOLoop, _event_loop_of_thread, _get_running_loop, _Selectable
from tornado.log import gen_log

_T = TypeVar("_T")


class _HasFileno(Protocol):
    def fileno(self) -> int:
        pass


_FileDescriptorLike = Union[int, _HasFileno]


def _best_selector_class() -> Optional[typing.Type[selectors.BaseSelector]]:
    """The poller that `AsyncIOLoop` uses on this platform.

    None means "asyncio's own default loop" (Windows, where the proactor
    loop is kept for its subprocess and pipe support).
    """
    if sys.platform == "win32":
        return None
    if sys.platform.startswith("linux") and hasattr(selectors, "EpollSelector"):
        return selectors.EpollSelector
    if hasattr(selectors, "KqueueSelector"):
        return selectors.KqueueSelector  # type: ignore[no-any-return]
    return selectors.SelectSelector


def _user_loop_policy() -> Optional[asyncio.AbstractEventLoopPolicy]:
    """The asyncio event loop policy, if the application installed its own.

    A custom policy (uvloop's, for instance) is honoured when creating loops;
    asyncio's default one is not consulted, since we choose the poller.
    The policy system is deprecated from Python 3.14 on, so it is not looked
    at there.
    """
    if sys.version_info >= (3, 14):
        return None
    policy = asyncio.get_event_loop_policy()
    if type(policy) is asyncio.DefaultEventLoopPolicy:
        return None
    return policy


def _new_asyncio_loop(
    selector_class: Optional[typing.Type[selectors.BaseSelector]] = None,
) -> asyncio.AbstractEventLoop:
    """Create a new asyncio loop on ``selector_class`` (default: the best one)."""
    if selector_class is None:
        policy = _user_loop_policy()
        if policy is not None:
            return policy.new_event_loop()
        selector_class = _best_selector_class()
        if selector_class is None:
            return asyncio.new_event_loop()
    return asyncio.SelectorEventLoop(selector_class())


def _closed_since(fileobj: Union[int, _Selectable], fileno: int) -> bool:
    """Whether ``fileobj``, registered under ``fileno``, has been closed
    since.  A bare number tells nothing, so it counts as open."""
    if isinstance(fileobj, int):
        return False
    if getattr(fileobj, "closed", False) is True:
        return True
    try:
        return fileobj.fileno() != fileno
    except Exception:
        # A closed socket.socket answers -1; others (zmq, files) raise.
        return True


class BaseAsyncIOLoop(IOLoop):
    """Implements the `.IOLoop` methods in terms of an asyncio event loop.

    ``asyncio_loop`` is that loop.  ``selector_loop`` is whatever accepts
    ``add_reader``/``add_writer`` for it: normally the same loop, but for
    Windows' proactor loop an `AddThreadSelectorEventLoop` wrapped around it.
    """

    def initialize(  # type: ignore[override]
        self, asyncio_loop: asyncio.AbstractEventLoop, **kwargs: Any
    ) -> None:
        self.asyncio_loop = self.selector_loop = asyncio_loop
        proactor = getattr(asyncio, "ProactorEventLoop", None)
        if sys.platform == "win32" and proactor is not None and isinstance(asyncio_loop, proactor):
            # No readiness notifications on a proactor: borrow a thread.
            self.selector_loop = AddThreadSelectorEventLoop(asyncio_loop)  # type: ignore[assignment]
        # fd -> (what add_handler was given, the handler)
        self.handlers: Dict[int, Tuple[Union[int, _Selectable], Callable[..., Any]]] = {}
        # fds currently registered with the selector loop, per direction.
        self.readers: Set[int] = set()
        self.writers: Set[int] = set()
        self.closing = False
        _forget_closed_loops()
        claimed = IOLoop._ioloop_for_asyncio.setdefault(asyncio_loop, self)
        if claimed is not self:
            raise RuntimeError("IOLoop %r already exists for this asyncio loop" % claimed)
        try:
            super().initialize(**kwargs)
        except Exception:
            # Undo the registration, and stop a selector thread we started.
            del IOLoop._ioloop_for_asyncio[asyncio_loop]
            if self.selector_loop is not asyncio_loop:
                self.selector_loop._selector.close()  # type: ignore[attr-defined]
            raise

    def close(self, all_fds: bool = False) -> None:
        self.closing = True
        for fd, (fileobj, _) in list(self.handlers.items()):
            self.remove_handler(fd)
            if all_fds:
                self.close_fd(fileobj)
        # Leave the map before the loop is closed, so that a concurrent
        # _forget_closed_loops() finds nothing of ours to remove.
        IOLoop._ioloop_for_asyncio.pop(self.asyncio_loop, None)
        if self.selector_loop is not self.asyncio_loop:
            self.selector_loop.close()
        self.asyncio_loop.close()

    def add_handler(
        self, fd: Union[int, _Selectable], handler: Callable[..., None], events: int
    ) -> None:
        fileno, fileobj = self.split_fd(fd)
        registered = self.handlers.get(fileno)
        if registered is not None:
            if not _closed_since(registered[0], fileno):
                raise ValueError("fd %s added twice" % fileno)
            # Its owner closed it without remove_handler (pyzmq's streams
            # do when their socket is closed under them); the kernel has
            # already forgotten it, and the number now names this new file.
            gen_log.warning(
                "fd %s was still registered for %r, which has been closed; "
                "replacing that registration", fileno, registered[0]
            )
            self.remove_handler(fileno)
        self.handlers[fileno] = (fileobj, handler)
        # asyncio calls the handler itself, with its final arguments: no
        # dispatch code of ours runs per event.
        if events & IOLoop.READ:
            self.selector_loop.add_reader(fileno, handler, fileobj, IOLoop.READ)
            self.readers.add(fileno)
        if events & IOLoop.WRITE:
            self.selector_loop.add_writer(fileno, handler, fileobj, IOLoop.WRITE)
            self.writers.add(fileno)

    def update_handler(self, fd: Union[int, _Selectable], events: int) -> None:
        fileno = fd if isinstance(fd, int) else fd.fileno()
        fileobj, handler = self.handlers[fileno]
        want_read = bool(events & IOLoop.READ)
        if want_read != (fileno in self.readers):
            if want_read:
                self.selector_loop.add_reader(fileno, handler, fileobj, IOLoop.READ)
                self.readers.add(fileno)
            else:
                self.selector_loop.remove_reader(fileno)
                self.readers.discard(fileno)
        want_write = bool(events & IOLoop.WRITE)
        if want_write != (fileno in self.writers):
            if want_write:
                self.selector_loop.add_writer(fileno, handler, fileobj, IOLoop.WRITE)
                self.writers.add(fileno)
            else:
                self.selector_loop.remove_writer(fileno)
                self.writers.discard(fileno)

    def remove_handler(self, fd: Union[int, _Selectable]) -> None:
        fileno = fd if isinstance(fd, int) else fd.fileno()
        if self.handlers.pop(fileno, None) is None:
            return
        if fileno in self.readers:
            self.readers.discard(fileno)
            self.selector_loop.remove_reader(fileno)
        if fileno in self.writers:
            self.writers.discard(fileno)
            self.selector_loop.remove_writer(fileno)

    def start(self) -> None:
        self.asyncio_loop.run_forever()

    def stop(self) -> None:
        self.asyncio_loop.stop()

    def call_at(
        self, when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> object:
        if kwargs:
            callback, args = functools.partial(callback, *args, **kwargs), ()
        # Our deadlines are wall-clock times, asyncio's timers run on its
        # monotonic clock: hand over the remaining delay instead.
        delay = when - self.time()
        return self.asyncio_loop.call_later(
            delay if delay > 0 else 0, self._run_callback, callback, *args
        )

    def remove_timeout(self, timeout: object) -> None:
        timeout.cancel()  # type: ignore[attr-defined]

    def add_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if kwargs:
            callback, args = functools.partial(callback, *args, **kwargs), ()
        loop = self.asyncio_loop
        # On the loop's own thread the plain call_soon is enough; from any
        # other thread the thread-safe variant also wakes the selector.
        schedule = loop.call_soon if _get_running_loop() is loop else loop.call_soon_threadsafe
        try:
            schedule(self._run_callback, callback, *args)
        except RuntimeError:
            # The loop is (being) closed: documented as a silent drop.
            pass

    def add_callback_from_signal(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        warnings.warn("add_callback_from_signal is deprecated", DeprecationWarning, stacklevel=2)
        bound = functools.partial(callback, *args, **kwargs)
        with contextlib.suppress(RuntimeError):
            self.asyncio_loop.call_soon_threadsafe(self._run_callback, bound)

    def run_in_executor(
        self, executor: Optional[concurrent.futures.Executor], func: Callable[..., _T], *args: Any
    ) -> "asyncio.Future[_T]":
        return self.asyncio_loop.run_in_executor(executor, func, *args)

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        return self.asyncio_loop.set_default_executor(executor)


def _forget_closed_loops() -> None:
    # asyncio announces closing to nobody, so IOLoops of loops closed
    # directly stay in the map until someone looks.  Iterate over a copy:
    # other threads may be adding loops at the same time.
    registry = IOLoop._ioloop_for_asyncio
    for loop in list(registry):
        if loop.is_closed():
            registry.pop(loop, None)


class AsyncIOMainLoop(BaseAsyncIOLoop):
    """The `.IOLoop` face of an asyncio loop that Tornado did not create.

    `.IOLoop.current` builds one automatically the first time it is asked
    about a (running, or the thread's current) asyncio loop.  Instantiating
    it directly wraps the thread's current asyncio loop.

    .. versionchanged:: 5.0
       Installed automatically when needed; constructing it is rarely useful.
    """

    def initialize(self, **kwargs: Any) -> None:  # type: ignore[override]
        loop = kwargs.pop("asyncio_loop", None) or _get_running_loop()
        if loop is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                loop = asyncio.get_event_loop()
        super().initialize(loop, **kwargs)

    def _make_current(self) -> None:
        # The loop we wrap already is the thread's asyncio loop.
        pass


class AsyncIOLoop(BaseAsyncIOLoop):
    """An `.IOLoop` on a new asyncio event loop that it owns (and closes).

    This is the class ``IOLoop()`` instantiates unless configured otherwise.
    ``asyncio_loop=`` supplies an existing loop to wrap instead; an asyncio
    loop can have only one IOLoop, so wrapping it twice raises
    `RuntimeError`.  New loops use the platform's best poller (epoll,
    kqueue, else select), unless the application installed an event loop
    policy of its own (``uvloop.install()`` for example), which is then used.
    """

    # Subclasses fix the poller here (see tornado.platform.epoll and others).
    _selector_class: Optional[typing.Type[selectors.BaseSelector]] = None

    def initialize(self, **kwargs: Any) -> None:  # type: ignore[override]
        self.is_current = False
        made_here = None
        if "asyncio_loop" not in kwargs:
            made_here = kwargs["asyncio_loop"] = self._new_asyncio_loop()
        try:
            super().initialize(**kwargs)
        except Exception:
            # A loop we created must not leak; a loop passed in is not ours.
            if made_here is not None:
                made_here.close()
            raise

    def _new_asyncio_loop(self) -> asyncio.AbstractEventLoop:
        return _new_asyncio_loop(self._selector_class)

    def close(self, all_fds: bool = False) -> None:
        if self.is_current:
            self._clear_current_hook()
        super().close(all_fds=all_fds)

    def _make_current(self) -> None:
        if not self.is_current:
            # Remember what to restore when we stop being current.
            self.old_asyncio = _event_loop_of_thread()  # type: ignore[assignment]
            self.is_current = True
        asyncio.set_event_loop(self.asyncio_loop)

    def _clear_current_hook(self) -> None:
        if not self.is_current:
            return
        self.is_current = False
        asyncio.set_event_loop(self.old_asyncio)


def to_tornado_future(asyncio_future: "asyncio.Future[_T]") -> "asyncio.Future[_T]":
    """Formerly turned an `asyncio.Future` into a Tornado one.

    .. deprecated:: 5.0
       The two are one class now, so the argument comes back unchanged.
    """
    return asyncio_future


def to_asyncio_future(tornado_future: Any) -> "asyncio.Future[Any]":
    """Turn anything that `tornado.gen` can wait for into an `asyncio.Future`.

    .. deprecated:: 5.0
       Tornado's Futures already are asyncio's; wrap other awaitables with
       `asyncio.ensure_future`.
    """
    return convert_yielded(tornado_future)


# Built on first access, by __getattr__ below.
_any_thread_policy_class: Optional[type] = None


def _build_any_thread_policy() -> type:
    class AnyThreadEventLoopPolicy(asyncio.DefaultEventLoopPolicy):  # type: ignore[misc,name-defined]
        """An event loop policy that gives every thread a loop when asked.

        asyncio's default policy creates loops on demand in the main thread
        only.  Install it with
        ``asyncio.set_event_loop_policy(AnyThreadEventLoopPolicy())``.

        .. deprecated:: 6.2
           Start loops explicitly (``asyncio.run``); `.IOLoop.current`
           creates one for any thread by itself anyway.
        """

        def get_event_loop(self) -> asyncio.AbstractEventLoop:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                try:
                    return super().get_event_loop()  # type: ignore[no-any-return]
                except RuntimeError:
                    pass
            fresh: asyncio.AbstractEventLoop = self.new_event_loop()
            self.set_event_loop(fresh)
            return fresh

    AnyThreadEventLoopPolicy.__module__ = __name__
    return AnyThreadEventLoopPolicy


def __getattr__(name: str) -> Any:
    # The policy class is created lazily so that importing this module does
    # not touch asyncio's policy machinery, deprecated from Python 3.14.
    global _any_thread_policy_class
    if name != "AnyThreadEventLoopPolicy":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        "AnyThreadEventLoopPolicy is deprecated; use asyncio.run or create "
        "and run event loops explicitly", DeprecationWarning, stacklevel=2,
    )
    if _any_thread_policy_class is None:
        _any_thread_policy_class = _build_any_thread_policy()
    return _any_thread_policy_class


# ---------------------------------------------------------------------------
# Readiness callbacks for loops without add_reader (Windows' proactor loop).
#
# A SelectorThread keeps the fd -> callback tables on the loop's thread and
# runs select() on a helper thread, one round at a time:
#   1. the loop thread posts the current fd lists to the helper (a queue);
#   2. the helper blocks in select() and posts the ready fds back with
#      call_soon_threadsafe;
#   3. the loop thread runs the callbacks of those fds and goes back to 1.
# A socketpair, always in the read set, cuts a select() short whenever the
# tables change or the selector is closed.
#
# The helper thread is started by an async generator (stepped once by a
# task), so that the loop's shutdown_asyncgens(), which asyncio.run calls,
# closes the generator and with it the thread.  Selectors nobody closed are
# closed by an atexit hook.
# ---------------------------------------------------------------------------

# Every SelectorThread not closed yet, for the atexit hook.
_selector_loops: Set["SelectorThread"] = set()


def _atexit_callback() -> None:
    for leftover in list(_selector_loops):
        leftover.close()
    _selector_loops.clear()


atexit.register(_atexit_callback)

# Errors select() gives for an fd closed while it waited (Windows' WSAENOTSOCK
# is 10038).
_CLOSED_FD_ERRORS = frozenset((errno.EBADF, getattr(errno, "WSAENOTSOCK", 10038)))


async def _first_step(agen: typing.AsyncGenerator[None, None]) -> None:
    await agen.__anext__()


class SelectorThread:
    """``add_reader``/``add_writer`` for any event loop, using a helper thread.

    The helper thread waits in ``select()``; the callbacks themselves run on
    ``real_loop``'s thread, in the `contextvars` context in which this
    object was created.  The thread stops on `close`, when the loop shuts
    down its async generators, or at interpreter exit.

    .. versionadded:: 6.3
    """

    _closed = False

    def __init__(self, real_loop: asyncio.AbstractEventLoop) -> None:
        self._real_loop = real_loop
        self._readers: Dict[int, Callable[[], None]] = {}
        self._writers: Dict[int, Callable[[], None]] = {}
        # Loop thread -> helper: (read fds, write fds) per round; None stops it.
        self._requests: "queue.SimpleQueue[Optional[Tuple[List[int], List[int]]]]" = (
            queue.SimpleQueue()
        )
        self._thread: Optional[threading.Thread] = None
        self._thread_manager_task: "Optional[asyncio.Task[None]]" = None
        # Callbacks posted from the helper thread would otherwise run in a
        # copy of that thread's empty context.
        self._loop_context = contextvars.copy_context()
        self._waker_r, self._waker_w = socket.socketpair()
        for end in (self._waker_r, self._waker_w):
            end.setblocking(False)
        _selector_loops.add(self)
        self.add_reader(self._waker_r, self._drain_waker)
        self._thread_manager_handle = self._thread_manager()
        # Deferred by one iteration: the generator must be first stepped
        # inside the running loop, which then knows to close it.
        real_loop.call_soon(self._launch_thread_manager)

    def _launch_thread_manager(self) -> None:
        if not self._closed:
            self._thread_manager_task = self._real_loop.create_task(
                _first_step(self._thread_manager_handle)
            )

    async def _thread_manager(self) -> typing.AsyncGenerator[None, None]:
        helper = threading.Thread(target=self._run_select, name="Tornado selector", daemon=True)
        self._thread = helper
        helper.start()
        self._start_select()
        try:
            # Suspended here for the life of the loop; being closed (by
            # shutdown_asyncgens or by the GC) stops the helper thread.
            yield
        finally:
            self.close()

    def close(self) -> None:
        """Stop the helper thread and close the waker sockets; repeatable."""
        if self._closed:
            return
        self._closed = True
        self._requests.put(None)
        self._poke_waker()
        if self._thread is not None:
            self._thread.join()
        _selector_loops.discard(self)
        self._readers.pop(self._waker_r.fileno(), None)
        self._waker_r.close()
        self._waker_w.close()
        self._forget_unstarted_task()

    def _forget_unstarted_task(self) -> None:
        # If the loop stopped before the task launching the helper ran, the
        # task will never run now: close its coroutine and tell asyncio not
        # to complain about destroying a pending task.
        task = self._thread_manager_task
        if task is None or task.done():
            return
        task.cancel()
        task.get_coro().close()
        task._log_destroy_pending = False  # type: ignore[attr-defined]

    def _poke_waker(self) -> None:
        with contextlib.suppress(OSError):
            # A full buffer (BlockingIOError) means a wake-up is pending
            # anyway; a closed socket means nobody is waiting any more.
            self._waker_w.send(b"!")

    def _wake_selector(self) -> None:
        if not self._closed:
            self._poke_waker()

    def _drain_waker(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._waker_r.recv(4096)

    def _start_select(self) -> None:
        self._requests.put((list(self._readers), list(self._writers)))

    def _run_select(self) -> None:
        # The helper thread's main loop.
        while True:
            request = self._requests.get()
            if request is None:
                return
            readable, writable = self._select(*request)
            try:
                self._real_loop.call_soon_threadsafe(
                    self._handle_select, readable, writable, context=self._loop_context
                )
            except (RuntimeError, AttributeError):
                # The loop is closed (RuntimeError; some Python versions give
                # AttributeError for a closing proactor): nobody is listening.
                pass

    def _select(self, to_read: List[int], to_write: List[int]) -> Tuple[List[int], List[int]]:
        try:
            # Windows reports a failed connect() as "exceptional": callers
            # expect it as writability.
            readable, writable, failed = select.select(to_read, to_write, to_write)
        except OSError as err:
            if err.errno not in _CLOSED_FD_ERRORS:
                raise
            # An fd was closed under select(); if that was through our API,
            # the waker is readable and the next round gets fresh lists.
            readable, _, _ = select.select([self._waker_r.fileno()], [], [], 0)
            if not readable:
                raise
            return readable, []
        return readable, writable + failed

    def _handle_select(self, rs: List[int], ws: List[int]) -> None:
        if self._closed:
            return
        try:
            for table, ready in ((self._readers, rs), (self._writers, ws)):
                for fd in ready:
                    # An fd unregistered meanwhile has no entry any more.
                    callback = table.get(fd)
                    if callback is not None:
                        callback()
        finally:
            # Even after a failing callback, the next round must be asked for
            # (unless a callback closed us).
            if not self._closed:
                self._start_select()

    def _watch(self, table: Dict[int, Callable[[], None]], fd: "_FileDescriptorLike",
               callback: Callable[..., None], args: Tuple[Any, ...]) -> None:
        table[_fileno(fd)] = functools.partial(callback, *args)
        self._wake_selector()

    def _unwatch(self, table: Dict[int, Callable[[], None]], fd: "_FileDescriptorLike") -> bool:
        if table.pop(_fileno(fd), None) is None:
            return False
        self._wake_selector()
        return True

    def add_reader(self, fd: _FileDescriptorLike, callback: Callable[..., None], *args: Any) -> None:
        self._watch(self._readers, fd, callback, args)

    def add_writer(self, fd: _FileDescriptorLike, callback: Callable[..., None], *args: Any) -> None:
        self._watch(self._writers, fd, callback, args)

    def remove_reader(self, fd: _FileDescriptorLike) -> bool:
        return self._unwatch(self._readers, fd)

    def remove_writer(self, fd: _FileDescriptorLike) -> bool:
        return self._unwatch(self._writers, fd)


def _fileno(fd: _FileDescriptorLike) -> int:
    return fd if isinstance(fd, int) else fd.fileno()


class AddThreadSelectorEventLoop(asyncio.AbstractEventLoop):
    """An event loop wrapper that adds ``add_reader`` and company to any loop.

    Those four methods go to a `SelectorThread`; everything else is looked
    up on the wrapped loop.  Closing the wrapper closes both.

    .. versionadded:: 6.3
    """

    # Attributes of the wrapper itself; every other one is the wrapped loop's.
    MY_ATTRIBUTES = set(
        "_real_loop _selector add_reader add_writer remove_reader remove_writer close".split()
    )

    def __init__(self, real_loop: asyncio.AbstractEventLoop) -> None:
        self._real_loop = real_loop
        self._selector = SelectorThread(real_loop)

    def __getattribute__(self, name: str) -> Any:
        if name not in AddThreadSelectorEventLoop.MY_ATTRIBUTES:
            return getattr(object.__getattribute__(self, "_real_loop"), name)
        return object.__getattribute__(self, name)

    def add_reader(self, fd: _FileDescriptorLike, callback: Callable[..., None], *args: Any) -> None:  # type: ignore[override]
        self._selector.add_reader(fd, callback, *args)

    def remove_reader(self, fd: _FileDescriptorLike) -> bool:
        return self._selector.remove_reader(fd)

    def add_writer(self, fd: _FileDescriptorLike, callback: Callable[..., None], *args: Any) -> None:  # type: ignore[override]
        self._selector.add_writer(fd, callback, *args)

    def remove_writer(self, fd: _FileDescriptorLike) -> bool:
        return self._selector.remove_writer(fd)

    def close(self) -> None:
        self._selector.close()
        self._real_loop.close()
