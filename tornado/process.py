"""Working with processes: forking a server into workers, and running
child processes whose pipes are `.PipeIOStream` objects.

`fork_processes` starts worker processes (restarting those that die) and
tells each its `task_id`.  `Subprocess` wraps `subprocess.Popen`: with
``Subprocess.STREAM`` its standard streams become non-blocking
`.PipeIOStream` objects, and its exit is reported through the event loop
(by a ``SIGCHLD`` handler, see `Subprocess.initialize`).
"""

import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any, Optional

from tornado import ioloop
from tornado.concurrent import Future
from tornado.iostream import PipeIOStream
from tornado.log import gen_log

# What wait_for_exit raises; kept under this name for older code.
CalledProcessError = subprocess.CalledProcessError

# The worker number of this process, set in the children of
# fork_processes.
_task_id: Optional[int] = None


def cpu_count() -> int:
    """Returns the number of processors on this machine (1 if unknown)."""
    try:
        return multiprocessing.cpu_count()
    except NotImplementedError:
        pass
    try:
        return os.sysconf("SC_NPROCESSORS_CONF")
    except (AttributeError, ValueError):
        pass
    gen_log.error("Could not detect number of processors; assuming 1")
    return 1


def _reseed_random() -> None:
    # Forked children inherit the parent's random state; give each its own
    # so that they don't all produce the same "random" numbers.
    if "random" not in sys.modules:
        return
    import random

    random.seed(int.from_bytes(os.urandom(16), "big"))


def fork_processes(
    num_processes: Optional[int], max_restarts: Optional[int] = None
) -> int:
    """Forks ``num_processes`` worker processes (one per CPU for ``None``
    or a value of 0 or less).

    In each child this returns the child's number, from 0 to
    ``num_processes - 1`` (also given by `task_id`).  The parent does not
    return: it waits, restarting a child that exits with an error or is
    killed by a signal (at most ``max_restarts`` times in all, default
    100, then `RuntimeError`), and calls ``sys.exit(0)`` once every child
    has exited cleanly.

    Nothing that owns threads or file descriptors shared with the children
    (an `.IOLoop` in particular) may exist when this is called.

    Not available on Windows.
    """
    if sys.platform == "win32":
        # os.fork exists on Cygwin only.
        raise Exception("fork not available on windows")
    if max_restarts is None:
        max_restarts = 100
    global _task_id
    assert _task_id is None, "fork_processes called twice"
    if num_processes is None or num_processes <= 0:
        num_processes = cpu_count()
    gen_log.info("Starting %d processes", num_processes)
    children: dict[int, int] = {}

    def start_child(i: int) -> Optional[int]:
        pid = os.fork()
        if pid == 0:
            _reseed_random()
            global _task_id
            _task_id = i
            return i
        children[pid] = i
        return None

    for i in range(num_processes):
        task = start_child(i)
        if task is not None:
            return task
    num_restarts = 0
    while children:
        pid, status = os.wait()
        if pid not in children:
            continue
        task = children.pop(pid)
        if os.WIFSIGNALED(status):
            gen_log.warning(
                "child %d (pid %d) killed by signal %d, restarting",
                task,
                pid,
                os.WTERMSIG(status),
            )
        elif os.WEXITSTATUS(status) != 0:
            gen_log.warning(
                "child %d (pid %d) exited with status %d, restarting",
                task,
                pid,
                os.WEXITSTATUS(status),
            )
        else:
            gen_log.info("child %d (pid %d) exited normally", task, pid)
            continue
        num_restarts += 1
        if num_restarts > max_restarts:
            raise RuntimeError("Too many child restarts, giving up")
        new_task = start_child(task)
        if new_task is not None:
            return new_task
    # Every child is done.  Exit rather than return, so the parent doesn't
    # go on to run the server code meant for the children.
    sys.exit(0)


def task_id() -> Optional[int]:
    """Returns the worker number of this process (from `fork_processes`),
    or None if it was not started by `fork_processes`."""
    return _task_id


class Subprocess:
    """A `subprocess.Popen` whose pipes are non-blocking streams.

    Arguments are those of `subprocess.Popen`, except that
    ``stdin``, ``stdout`` and ``stderr`` may be ``Subprocess.STREAM``: the
    corresponding attribute is then a `.PipeIOStream` instead of a file
    object.  ``proc`` is the `subprocess.Popen` object, ``pid`` the child's
    process id and ``returncode`` its exit status once known.

    `set_exit_callback` and `wait_for_exit` report the exit through the
    event loop; they install a ``SIGCHLD`` handler (see `initialize`), so
    use them only from the main thread.

    .. versionchanged:: 5.0
       The ``io_loop`` argument has been removed.
    """

    STREAM = object()

    _initialized = False
    _initialized_loop: Any = None
    _waiting: dict[int, "Subprocess"] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.io_loop = ioloop.IOLoop.current()
        # Pipe ends for the child, closed here once it has them.
        child_ends: list[int] = []
        # Our ends, to become streams: attribute name -> fd.
        our_ends: dict[str, int] = {}
        try:
            for name in ("stdin", "stdout", "stderr"):
                if kwargs.get(name) is Subprocess.STREAM:
                    read_fd, write_fd = os.pipe()
                    if name == "stdin":
                        child_end, our_end = read_fd, write_fd
                    else:
                        child_end, our_end = write_fd, read_fd
                    child_ends.append(child_end)
                    our_ends[name] = our_end
                    kwargs[name] = child_end
            self.proc = subprocess.Popen(*args, **kwargs)
        except BaseException:
            for fd in child_ends + list(our_ends.values()):
                os.close(fd)
            raise
        for fd in child_ends:
            os.close(fd)
        self.pid = self.proc.pid
        self.stdin = (
            PipeIOStream(our_ends["stdin"]) if "stdin" in our_ends else self.proc.stdin
        )
        self.stdout = (
            PipeIOStream(our_ends["stdout"])
            if "stdout" in our_ends
            else self.proc.stdout
        )
        self.stderr = (
            PipeIOStream(our_ends["stderr"])
            if "stderr" in our_ends
            else self.proc.stderr
        )
        self._exit_callback: Optional[Callable[[int], None]] = None
        self.returncode: Optional[int] = None

    def set_exit_callback(self, callback: Callable[[int], None]) -> None:
        """Calls ``callback(returncode)`` on the event loop when the process
        exits (at once, on the next iteration, if it already has).

        ``returncode`` is negative for a process killed by a signal, as in
        `subprocess.Popen.returncode`.  Installs the ``SIGCHLD`` handler
        (see `initialize`).  The process is reaped here, so the ``Popen``
        object's own ``wait`` and ``poll`` no longer can; the exit status is
        copied into ``proc.returncode``.
        """
        self._exit_callback = callback
        Subprocess.initialize()
        Subprocess._waiting[self.pid] = self
        Subprocess._try_cleanup_process(self.pid)

    def wait_for_exit(self, raise_error: bool = True) -> "Future[int]":
        """Returns a Future resolving to the exit status when the process
        exits.

        With ``raise_error`` (the default), a non-zero status fails the
        Future with `subprocess.CalledProcessError` instead.  Like
        `set_exit_callback`, which it uses, this replaces an exit callback
        set before.

        .. versionadded:: 4.2
        """
        future: Future[int] = Future()

        def callback(ret: int) -> None:
            if future.cancelled():
                return
            if ret != 0 and raise_error:
                # The command line isn't known any more at this point.
                future.set_exception(CalledProcessError(ret, "unknown"))
            else:
                future.set_result(ret)

        self.set_exit_callback(callback)
        return future

    @classmethod
    def initialize(cls) -> None:
        """Installs the ``SIGCHLD`` handler that reaps child processes.

        Done automatically by `set_exit_callback`; call it earlier (from the
        main thread, on the event loop in use) to be sure the handler is
        there before a child can exit.  Other code handling ``SIGCHLD``
        in the same process may interfere.

        .. versionchanged:: 5.0
           The ``io_loop`` argument has been removed.
        """
        if cls._initialized:
            if not cls._initialized_loop.is_closed():
                return
            # The loop that had the handler is gone; install it again.
            cls._initialized = False
        loop = ioloop.IOLoop.current().asyncio_loop  # type: ignore[attr-defined]
        loop.add_signal_handler(signal.SIGCHLD, cls._cleanup)
        cls._initialized_loop = loop
        cls._initialized = True

    @classmethod
    def uninitialize(cls) -> None:
        """Removes the ``SIGCHLD`` handler."""
        if not cls._initialized:
            return
        loop = cls._initialized_loop
        cls._initialized_loop = None
        cls._initialized = False
        if loop is not None and not loop.is_closed():
            loop.remove_signal_handler(signal.SIGCHLD)

    @classmethod
    def _cleanup(cls) -> None:
        for pid in list(cls._waiting.keys()):
            cls._try_cleanup_process(pid)

    @classmethod
    def _try_cleanup_process(cls, pid: int) -> None:
        try:
            ret_pid, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            # Reaped already, e.g. by Popen.poll(); report what Popen
            # learned, if anything.
            subproc = cls._waiting[pid]
            if subproc.proc.returncode is not None:
                del cls._waiting[pid]
                subproc.io_loop.add_callback(
                    subproc._report_exit, subproc.proc.returncode
                )
            return
        if ret_pid == 0:
            return
        assert ret_pid == pid
        subproc = cls._waiting.pop(pid)
        subproc.io_loop.add_callback(subproc._set_returncode, status)

    def _set_returncode(self, status: int) -> None:
        if sys.platform == "win32":
            returncode = -1
        else:
            returncode = os.waitstatus_to_exitcode(status)
        self._report_exit(returncode)

    def _report_exit(self, returncode: int) -> None:
        self.returncode = returncode
        # Popen would otherwise try to reap the process again and never
        # learn its status.
        self.proc.returncode = returncode
        if self._exit_callback:
            callback = self._exit_callback
            self._exit_callback = None
            callback(self.returncode)
