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
import contextvars
import errno
import functools
import select
import selectors
import socket
import sys
import threading
import typing
import warnings
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Protocol,
    Set,
    Tuple,
    TypeVar,
    Union,
)

from tornado.gen import convert_yielded
from tornado.ioloop import IOLoop, _Selectable

_T = TypeVar("_T")

# The C accelerated accessor: the loop running in this thread, or None.
_get_running_loop = asyncio._get_running_loop


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


class BaseAsyncIOLoop(IOLoop):
    """The `.IOLoop` interface over an asyncio event loop.

    ``asyncio_loop`` is the wrapped loop.  ``selector_loop`` is the object
    that takes ``add_reader``/``add_writer`` calls: the loop itself, or on
    Windows' proactor loop an `AddThreadSelectorEventLoop` around it.
    """

    def initialize(  # type: ignore[override]
        self, asyncio_loop: asyncio.AbstractEventLoop, **kwargs: Any
    ) -> None:
        self.asyncio_loop = asyncio_loop
        self.selector_loop = asyncio_loop
        if sys.platform == "win32" and isinstance(
            asyncio_loop, getattr(asyncio, "ProactorEventLoop", ())
        ):
            # The proactor loop cannot watch sockets for readiness.
            self.selector_loop = AddThreadSelectorEventLoop(asyncio_loop)  # type: ignore[assignment]
        # fd -> (the object given to add_handler, its handler)
        self.handlers: Dict[int, Tuple[Union[int, _Selectable], Callable[..., Any]]] = {}
        # The fds registered with the selector for reading and for writing.
        self.readers: Set[int] = set()
        self.writers: Set[int] = set()
        self.closing = False
        # Forget the IOLoops of asyncio loops that were closed behind our
        # back (asyncio tells nobody), so the map does not grow forever.
        # Iterate over a copy: other threads may create loops concurrently.
        for loop in list(IOLoop._ioloop_for_asyncio):
            if loop.is_closed():
                IOLoop._ioloop_for_asyncio.pop(loop, None)
        existing = IOLoop._ioloop_for_asyncio.setdefault(asyncio_loop, self)
        if existing is not self:
            raise RuntimeError("IOLoop %r already exists for this asyncio loop" % existing)
        try:
            super().initialize(**kwargs)
        except Exception:
            IOLoop._ioloop_for_asyncio.pop(asyncio_loop, None)
            if self.selector_loop is not asyncio_loop:
                self.selector_loop._selector.close()  # type: ignore[attr-defined]
            raise

    def close(self, all_fds: bool = False) -> None:
        self.closing = True
        for fd in list(self.handlers):
            fileobj = self.handlers[fd][0]
            self.remove_handler(fd)
            if all_fds:
                self.close_fd(fileobj)
        # Unmap before closing: a concurrent initialize() that saw the closed
        # loop first would prune this entry itself.
        IOLoop._ioloop_for_asyncio.pop(self.asyncio_loop, None)
        if self.selector_loop is not self.asyncio_loop:
            self.selector_loop.close()
        self.asyncio_loop.close()

    def add_handler(
        self, fd: Union[int, _Selectable], handler: Callable[..., None], events: int
    ) -> None:
        fileno, fileobj = self.split_fd(fd)
        if fileno in self.handlers:
            raise ValueError("fd %s added twice" % fileno)
        self.handlers[fileno] = (fileobj, handler)
        # The handler is bound directly into the asyncio registration: no
        # dispatch step of ours runs on each event.
        if events & IOLoop.READ:
            self.selector_loop.add_reader(fileno, handler, fileobj, IOLoop.READ)
            self.readers.add(fileno)
        if events & IOLoop.WRITE:
            self.selector_loop.add_writer(fileno, handler, fileobj, IOLoop.WRITE)
            self.writers.add(fileno)

    def update_handler(self, fd: Union[int, _Selectable], events: int) -> None:
        fileno, _ = self.split_fd(fd)
        fileobj, handler = self.handlers[fileno]
        if events & IOLoop.READ:
            if fileno not in self.readers:
                self.selector_loop.add_reader(fileno, handler, fileobj, IOLoop.READ)
                self.readers.add(fileno)
        elif fileno in self.readers:
            self.selector_loop.remove_reader(fileno)
            self.readers.remove(fileno)
        if events & IOLoop.WRITE:
            if fileno not in self.writers:
                self.selector_loop.add_writer(fileno, handler, fileobj, IOLoop.WRITE)
                self.writers.add(fileno)
        elif fileno in self.writers:
            self.selector_loop.remove_writer(fileno)
            self.writers.remove(fileno)

    def remove_handler(self, fd: Union[int, _Selectable]) -> None:
        fileno, _ = self.split_fd(fd)
        if fileno not in self.handlers:
            return
        if fileno in self.readers:
            self.selector_loop.remove_reader(fileno)
            self.readers.remove(fileno)
        if fileno in self.writers:
            self.selector_loop.remove_writer(fileno)
            self.writers.remove(fileno)
        del self.handlers[fileno]

    def start(self) -> None:
        self.asyncio_loop.run_forever()

    def stop(self) -> None:
        self.asyncio_loop.stop()

    def call_at(
        self, when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> object:
        if kwargs:
            callback = functools.partial(callback, *args, **kwargs)
            args = ()
        # `time` is the wall clock but asyncio schedules on its monotonic
        # one, so the deadline is passed as a delay from now.
        return self.asyncio_loop.call_later(
            max(0, when - self.time()), self._run_callback, callback, *args
        )

    def remove_timeout(self, timeout: object) -> None:
        timeout.cancel()  # type: ignore[attr-defined]

    def add_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if kwargs:
            callback = functools.partial(callback, *args, **kwargs)
            args = ()
        loop = self.asyncio_loop
        try:
            if _get_running_loop() is loop:
                loop.call_soon(self._run_callback, callback, *args)
            else:
                # From another thread (or before the loop runs): the
                # thread-safe variant also wakes the selector up.
                loop.call_soon_threadsafe(self._run_callback, callback, *args)
        except RuntimeError:
            # The loop is closed (possibly by another thread, just now): the
            # callback is dropped, as documented.
            pass

    def add_callback_from_signal(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        warnings.warn(
            "add_callback_from_signal is deprecated",
            DeprecationWarning,
            stacklevel=2,
        )
        try:
            self.asyncio_loop.call_soon_threadsafe(
                self._run_callback, functools.partial(callback, *args, **kwargs)
            )
        except RuntimeError:
            pass

    def run_in_executor(
        self,
        executor: Optional[concurrent.futures.Executor],
        func: Callable[..., _T],
        *args: Any,
    ) -> "asyncio.Future[_T]":
        return self.asyncio_loop.run_in_executor(executor, func, *args)

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        return self.asyncio_loop.set_default_executor(executor)


class AsyncIOMainLoop(BaseAsyncIOLoop):
    """The `.IOLoop` of an asyncio loop that is not owned by Tornado.

    `.IOLoop.current` creates one for the running (or the thread's current)
    asyncio loop the first time it is asked for.  Creating one explicitly
    (``AsyncIOMainLoop()``) wraps the thread's current asyncio loop.

    .. versionchanged:: 5.0
       Installed automatically when needed; constructing it is rarely useful.
    """

    def initialize(self, **kwargs: Any) -> None:  # type: ignore[override]
        loop = kwargs.pop("asyncio_loop", None)
        if loop is None:
            loop = _get_running_loop()
            if loop is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    loop = asyncio.get_event_loop()
        super().initialize(loop, **kwargs)

    def _make_current(self) -> None:
        # The wrapped loop is already the thread's asyncio loop (or running):
        # there is nothing to switch.
        pass


class AsyncIOLoop(BaseAsyncIOLoop):
    """An `.IOLoop` that creates and owns a new asyncio event loop.

    ``IOLoop()`` constructs this class unless another one was configured.
    Pass ``asyncio_loop=`` to wrap a loop of your own instead (at most one
    IOLoop may wrap a given asyncio loop; a second raises `RuntimeError`).
    The created loop uses the platform's best poller (epoll, kqueue or
    select), or the loop of a custom event loop policy if the application
    installed one (e.g. ``uvloop.install()``).

    Closing the IOLoop closes the asyncio loop.
    """

    # A subclass may pin the poller (see tornado.platform.epoll and friends).
    _selector_class: Optional[typing.Type[selectors.BaseSelector]] = None

    def initialize(self, **kwargs: Any) -> None:  # type: ignore[override]
        self.is_current = False
        created = None
        if "asyncio_loop" not in kwargs:
            kwargs["asyncio_loop"] = created = self._new_asyncio_loop()
        try:
            super().initialize(**kwargs)
        except Exception:
            # Don't leak the loop we made (one passed in is the caller's).
            if created is not None:
                created.close()
            raise

    def _new_asyncio_loop(self) -> asyncio.AbstractEventLoop:
        return _new_asyncio_loop(self._selector_class)

    def close(self, all_fds: bool = False) -> None:
        if self.is_current:
            self._clear_current_hook()
        super().close(all_fds=all_fds)

    def _make_current(self) -> None:
        if not self.is_current:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self.old_asyncio = asyncio.get_event_loop()
            except RuntimeError:
                self.old_asyncio = None  # type: ignore[assignment]
            self.is_current = True
        asyncio.set_event_loop(self.asyncio_loop)

    def _clear_current_hook(self) -> None:
        if self.is_current:
            asyncio.set_event_loop(self.old_asyncio)
            self.is_current = False


def to_tornado_future(asyncio_future: "asyncio.Future[_T]") -> "asyncio.Future[_T]":
    """Convert an `asyncio.Future` to a `tornado.concurrent.Future`.

    .. deprecated:: 5.0
       They are the same class now; this returns its argument.
    """
    return asyncio_future


def to_asyncio_future(tornado_future: Any) -> "asyncio.Future[Any]":
    """Convert anything Tornado can yield into an `asyncio.Future`.

    .. deprecated:: 5.0
       Tornado Futures are asyncio Futures; for coroutines and other
       awaitables use `asyncio.ensure_future`.
    """
    return convert_yielded(tornado_future)


# The AnyThreadEventLoopPolicy class, made on first access (see __getattr__).
_any_thread_policy_class: Optional[type] = None


def _make_any_thread_policy_class() -> type:
    base = asyncio.DefaultEventLoopPolicy

    class AnyThreadEventLoopPolicy(base):  # type: ignore[misc,valid-type]
        """An event loop policy that creates a loop on demand in any thread.

        asyncio's default policy only does so in the main thread.  Install it
        with ``asyncio.set_event_loop_policy(AnyThreadEventLoopPolicy())``.

        .. deprecated:: 6.2
           Create and run loops explicitly (``asyncio.run``); `.IOLoop.current`
           creates a loop for any thread by itself.
        """

        def get_event_loop(self) -> asyncio.AbstractEventLoop:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    return super().get_event_loop()  # type: ignore[no-any-return]
            except RuntimeError:
                loop: asyncio.AbstractEventLoop = self.new_event_loop()
                self.set_event_loop(loop)
                return loop

    AnyThreadEventLoopPolicy.__module__ = __name__
    return AnyThreadEventLoopPolicy


def __getattr__(name: str) -> Any:
    # AnyThreadEventLoopPolicy is built lazily: merely importing this module
    # must not touch asyncio's (deprecated, from Python 3.14) policy classes.
    global _any_thread_policy_class
    if name == "AnyThreadEventLoopPolicy":
        warnings.warn(
            "AnyThreadEventLoopPolicy is deprecated; use asyncio.run or create "
            "and run event loops explicitly",
            DeprecationWarning,
            stacklevel=2,
        )
        if _any_thread_policy_class is None:
            _any_thread_policy_class = _make_any_thread_policy_class()
        return _any_thread_policy_class
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------
# add_reader for loops that lack it (Windows' ProactorEventLoop).
#
# A SelectorThread runs select() on a daemon thread.  The event loop thread
# hands it the current sets of fds (_start_select); the thread blocks in
# select() and passes the ready fds back with call_soon_threadsafe
# (_handle_select), whose handler runs the callbacks and starts the next
# round.  A socketpair (the waker) interrupts a select() in progress when the
# fd sets change or the selector closes.
#
# The thread is started from an async generator (_thread_manager) driven by a
# task, so that the loop's shutdown_asyncgens() (which asyncio.run calls)
# closes the generator and with it the thread.  An atexit hook stops the
# threads of selectors that nobody closed.
# ---------------------------------------------------------------------------

# Every SelectorThread that is not closed yet, for the atexit hook.
_selector_loops: Set["SelectorThread"] = set()


def _atexit_callback() -> None:
    for selector in list(_selector_loops):
        selector.close()
    _selector_loops.clear()


atexit.register(_atexit_callback)


class SelectorThread:
    """Readiness callbacks (``add_reader``/``add_writer``) for any event loop.

    ``select()`` runs on a background thread; the callbacks run on
    ``real_loop``'s thread, in the context that was current when the
    SelectorThread was created.  Call `close` to stop the thread (it is also
    stopped when the loop shuts down its async generators, and at exit).

    .. versionadded:: 6.3
    """

    _closed = False

    def __init__(self, real_loop: asyncio.AbstractEventLoop) -> None:
        self._real_loop = real_loop
        # Condition variable guarding _select_args and _closing_selector,
        # shared by the loop thread and the select thread.
        self._select_cond = threading.Condition()
        self._select_args: Optional[Tuple[List[int], List[int]]] = None
        self._closing_selector = False
        self._thread: Optional[threading.Thread] = None
        self._thread_manager_task: "Optional[asyncio.Task[None]]" = None
        self._readers: Dict[int, Callable[[], None]] = {}
        self._writers: Dict[int, Callable[[], None]] = {}
        # Handles scheduled from the select thread would otherwise run in
        # a copy of that thread's (empty) context.
        self._main_thread_ctx = contextvars.copy_context()
        self._waker_r, self._waker_w = socket.socketpair()
        self._waker_r.setblocking(False)
        self._waker_w.setblocking(False)
        _selector_loops.add(self)
        self.add_reader(self._waker_r, self._consume_waker)
        self._thread_manager_handle = self._thread_manager()
        self._real_loop.call_soon(self._start_thread_manager)

    def _start_thread_manager(self) -> None:
        if self._closed:
            return

        async def step() -> None:
            await self._thread_manager_handle.__anext__()

        self._thread_manager_task = self._real_loop.create_task(step())

    async def _thread_manager(self) -> typing.AsyncGenerator[None, None]:
        self._thread = threading.Thread(
            name="Tornado selector", daemon=True, target=self._run_select
        )
        self._thread.start()
        self._start_select()
        try:
            # Park here until the loop closes its async generators.
            yield
        except GeneratorExit:
            self.close()
            raise

    def close(self) -> None:
        """Stop the select thread and release the waker sockets (idempotent)."""
        if self._closed:
            return
        with self._select_cond:
            self._closing_selector = True
            self._select_cond.notify()
        self._wake_selector()
        if self._thread is not None:
            self._thread.join()
        self._closed = True
        _selector_loops.discard(self)
        self._readers.pop(self._waker_r.fileno(), None)
        self._waker_r.close()
        self._waker_w.close()
        task = self._thread_manager_task
        if task is not None and not task.done():
            # The task never got to run (the loop stopped first).  Nothing
            # will run it now: close its coroutine and keep asyncio from
            # reporting it as destroyed while pending.
            task.cancel()
            task.get_coro().close()
            task._log_destroy_pending = False  # type: ignore[attr-defined]

    def _wake_selector(self) -> None:
        if self._closed:
            return
        try:
            self._waker_w.send(b"a")
        except BlockingIOError:
            # The buffer is full, so a wakeup is already pending.
            pass

    def _consume_waker(self) -> None:
        try:
            self._waker_r.recv(1024)
        except BlockingIOError:
            pass

    def _start_select(self) -> None:
        # Hand the current fd sets to the select thread.
        with self._select_cond:
            assert self._select_args is None
            self._select_args = (list(self._readers), list(self._writers))
            self._select_cond.notify()

    def _run_select(self) -> None:
        while True:
            with self._select_cond:
                while self._select_args is None and not self._closing_selector:
                    self._select_cond.wait()
                if self._closing_selector:
                    return
                assert self._select_args is not None
                to_read, to_write = self._select_args
                self._select_args = None
            try:
                # Windows reports a failed connect() in the "exceptional"
                # set, which callers treat as writable.
                rs, ws, xs = select.select(to_read, to_write, to_write)
                ws = ws + xs
            except OSError as e:
                # An fd was closed under us.  Windows raises WSAENOTSOCK
                # (10038) for that.  If the waker is readable, the closing
                # side has already told us to rebuild the sets: just go on.
                if e.errno in (getattr(errno, "WSAENOTSOCK", 10038), errno.EBADF):
                    rs, _, _ = select.select([self._waker_r.fileno()], [], [], 0)
                    if rs:
                        ws = []
                    else:
                        raise
                else:
                    raise
            try:
                self._real_loop.call_soon_threadsafe(
                    self._handle_select, rs, ws, context=self._main_thread_ctx
                )
            except RuntimeError:
                # The loop was closed under us: nobody wants the events.
                pass
            except AttributeError:
                # Closing proactor loops can get here on some Pythons.
                pass

    def _handle_select(self, rs: List[int], ws: List[int]) -> None:
        if self._closed:
            # Events that arrived while closing: nobody listens any more.
            return
        for fd in rs:
            self._handle_event(fd, self._readers)
        for fd in ws:
            self._handle_event(fd, self._writers)
        if not self._closed:
            # A callback may have closed the selector.
            self._start_select()

    def _handle_event(self, fd: int, cb_map: Dict[int, Callable[[], None]]) -> None:
        try:
            callback = cb_map[fd]
        except KeyError:
            # Removed while select() ran.
            return
        callback()

    def add_reader(
        self, fd: _FileDescriptorLike, callback: Callable[..., None], *args: Any
    ) -> None:
        self._readers[_fileno(fd)] = functools.partial(callback, *args)
        self._wake_selector()

    def add_writer(
        self, fd: _FileDescriptorLike, callback: Callable[..., None], *args: Any
    ) -> None:
        self._writers[_fileno(fd)] = functools.partial(callback, *args)
        self._wake_selector()

    def remove_reader(self, fd: _FileDescriptorLike) -> bool:
        try:
            del self._readers[_fileno(fd)]
        except KeyError:
            return False
        self._wake_selector()
        return True

    def remove_writer(self, fd: _FileDescriptorLike) -> bool:
        try:
            del self._writers[_fileno(fd)]
        except KeyError:
            return False
        self._wake_selector()
        return True


def _fileno(fd: _FileDescriptorLike) -> int:
    return fd if isinstance(fd, int) else fd.fileno()


class AddThreadSelectorEventLoop(asyncio.AbstractEventLoop):
    """Wrap an event loop to add ``add_reader`` and friends via a `SelectorThread`.

    Every other attribute is the wrapped loop's.  Closing the wrapper closes
    the selector thread and the wrapped loop.

    .. versionadded:: 6.3
    """

    # Names answered by the wrapper itself; everything else is delegated.
    MY_ATTRIBUTES = {
        "_real_loop",
        "_selector",
        "add_reader",
        "add_writer",
        "close",
        "remove_reader",
        "remove_writer",
    }

    def __getattribute__(self, name: str) -> Any:
        if name in AddThreadSelectorEventLoop.MY_ATTRIBUTES:
            return super().__getattribute__(name)
        return getattr(self._real_loop, name)

    def __init__(self, real_loop: asyncio.AbstractEventLoop) -> None:
        self._real_loop = real_loop
        self._selector = SelectorThread(real_loop)

    def close(self) -> None:
        self._selector.close()
        self._real_loop.close()

    def add_reader(  # type: ignore[override]
        self, fd: _FileDescriptorLike, callback: Callable[..., None], *args: Any
    ) -> None:
        return self._selector.add_reader(fd, callback, *args)

    def add_writer(  # type: ignore[override]
        self, fd: _FileDescriptorLike, callback: Callable[..., None], *args: Any
    ) -> None:
        return self._selector.add_writer(fd, callback, *args)

    def remove_reader(self, fd: _FileDescriptorLike) -> bool:
        return self._selector.remove_reader(fd)

    def remove_writer(self, fd: _FileDescriptorLike) -> bool:
        return self._selector.remove_writer(fd)
