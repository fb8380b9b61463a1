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
import socket
import stat
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
    """The number of processors of this machine, or 1 if it cannot be told."""
    probes: "tuple[Callable[[], int], ...]" = (
        multiprocessing.cpu_count,
        lambda: os.sysconf("SC_NPROCESSORS_CONF"),
    )
    for probe in probes:
        try:
            return probe()
        except (NotImplementedError, AttributeError, ValueError):
            continue
    gen_log.error("Could not detect number of processors; assuming 1")
    return 1


def _reseed_random() -> None:
    # A forked child starts with a copy of its parent's random state; without
    # a fresh seed, every worker would draw the very same "random" numbers.
    rng = sys.modules.get("random")
    if rng is not None:
        rng.seed(int.from_bytes(os.urandom(16), "big"))


def _why_restart(status: int) -> Optional[str]:
    """Describe an abnormal ``os.wait`` status; None for a clean exit."""
    if os.WIFSIGNALED(status):
        return "killed by signal %d" % os.WTERMSIG(status)
    code = os.WEXITSTATUS(status)
    return "exited with status %d" % code if code else None


def _release_listeners() -> None:
    """Lets go of this process's references to listening sockets.

    For the parent of `fork_processes` when it stops its workers: a
    listening socket shared with them keeps accepting into its queue for
    as long as any process holds it, and the connections queued when the
    last holder exits are reset.  The workers, which drain, take what is
    queued before they close their copy (`.TCPServer._stop_after_backlog`),
    so they must be the last holders: the parent, which never accepts,
    leaves first.  Each such descriptor is pointed at ``/dev/null`` rather
    than closed, so the number stays taken and the socket objects that
    still name it close nothing else.
    """
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, min(os.sysconf("SC_OPEN_MAX"), 65536)))
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in fds:
            if fd == null:
                continue
            try:
                if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                    continue
                with socket.socket(fileno=os.dup(fd)) as probe:
                    listening = probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            except OSError:
                continue
            if listening:
                os.dup2(null, fd)
    finally:
        os.close(null)


def fork_processes(num_processes: Optional[int], max_restarts: Optional[int] = None) -> int:
    """Fork into ``num_processes`` worker processes; ``None`` (or a number
    below 1) means one per CPU.

    Each child gets back its worker number, from 0 up to
    ``num_processes - 1`` (which `task_id` also reports).  The parent never
    returns: it waits for the children, replaces any that dies from a signal
    or with a non-zero status (up to ``max_restarts`` replacements in total,
    100 by default, after which it raises `RuntimeError`), and leaves with
    ``sys.exit(0)`` when all of them have ended cleanly.

    Call it before creating anything that owns threads or descriptors the
    children would share, an `.IOLoop` above all.

    Not available on Windows.
    """
    return _fork_processes(num_processes, max_restarts, ())


def _fork_processes(
    num_processes: Optional[int], max_restarts: Optional[int],
    stop_signals: "tuple[signal.Signals, ...]",
) -> int:
    """`fork_processes`, where the parent also handles ``stop_signals``:
    on the first of them it sends ``SIGTERM`` to every worker, stops
    restarting them, and exits (status 0) once they have all ended
    (`tornado.shutdown.fork_processes` is the public face of this)."""
    if sys.platform == "win32":
        # Only Cygwin's Python has os.fork there.
        raise Exception("fork not available on windows")
    global _task_id
    assert _task_id is None, "fork_processes called twice"
    restart_budget = 100 if max_restarts is None else max_restarts
    if num_processes is None or num_processes < 1:
        num_processes = cpu_count()
    gen_log.info("Starting %d processes", num_processes)
    worker_of_pid: dict[int, int] = {}
    # The signal that told the parent to stop, once one has.
    stopping: list[int] = []

    def on_stop_signal(signum: int, frame: Any) -> None:
        if stopping:
            return  # the workers have been told already
        stopping.append(signum)
        gen_log.info("Got signal %d: stopping %d child processes", signum, len(worker_of_pid))
        # The parent's copies of the listening sockets must not outlive
        # the workers' (see _release_listeners).
        _release_listeners()
        for pid in worker_of_pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass  # exited already; os.wait will tell

    previous_handlers = {sig: signal.getsignal(sig) for sig in stop_signals}
    for sig in stop_signals:
        signal.signal(sig, on_stop_signal)

    def spawn(worker: int) -> bool:
        # True in the new child, False in the parent.
        global _task_id
        # Held back across the fork, so that a stop signal cannot reach
        # the new child while it still has the parent's handler.
        if stop_signals:
            signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        pid = os.fork()
        if pid:
            worker_of_pid[pid] = worker
            if stop_signals:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
            return False
        # The parent's handlers are not the worker's business.
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
        if stop_signals:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
        _reseed_random()
        _task_id = worker
        return True

    for worker in range(num_processes):
        if spawn(worker):
            return worker
    while worker_of_pid:
        pid, status = os.wait()
        worker = worker_of_pid.pop(pid, -1)
        if worker < 0:
            continue  # Some other child of ours: not our business.
        reason = _why_restart(status)
        if reason is None:
            gen_log.info("child %d (pid %d) exited normally", worker, pid)
            continue
        if stopping:
            gen_log.warning("child %d (pid %d) %s while stopping", worker, pid, reason)
            continue
        gen_log.warning("child %d (pid %d) %s, restarting", worker, pid, reason)
        restart_budget -= 1
        if restart_budget < 0:
            raise RuntimeError("Too many child restarts, giving up")
        if spawn(worker):
            return worker
    # All children finished cleanly.  Returning would send the parent into
    # the code meant for workers, so exit instead.
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

    # The asyncio loop holding our SIGCHLD handler; None while none is installed.
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
        streams = {name: PipeIOStream(fd) for name, fd in our_ends.items()}
        self.stdin = streams.get("stdin", self.proc.stdin)
        self.stdout = streams.get("stdout", self.proc.stdout)
        self.stderr = streams.get("stderr", self.proc.stderr)
        self._exit_callback: Optional[Callable[[int], None]] = None
        self.returncode: Optional[int] = None

    def set_exit_callback(self, callback: Callable[[int], None]) -> None:
        """Have ``callback(returncode)`` called on the event loop once the
        process has exited (on the next iteration if it already has).

        As with `subprocess.Popen.returncode`, a process killed by a signal
        has a negative code.  This installs the ``SIGCHLD`` handler (see
        `initialize`) and reaps the process itself, so the ``Popen``
        object's ``wait`` and ``poll`` cannot; ``proc.returncode`` is filled
        in instead.
        """
        self._exit_callback = callback
        Subprocess._waiting[self.pid] = self
        Subprocess.initialize()
        # It may be gone already, before any SIGCHLD could reach us.
        Subprocess._try_cleanup_process(self.pid)

    def wait_for_exit(self, raise_error: bool = True) -> "Future[int]":
        """A Future for the exit status of the process.

        Unless ``raise_error`` is false, a non-zero status makes it fail with
        `subprocess.CalledProcessError` instead.  It works through
        `set_exit_callback`, so it replaces any exit callback set earlier.

        .. versionadded:: 4.2
        """
        exited: Future[int] = Future()

        def on_exit(code: int) -> None:
            if exited.cancelled():
                return
            if code == 0 or not raise_error:
                exited.set_result(code)
            else:
                # By now the command line is no longer at hand.
                exited.set_exception(CalledProcessError(code, "unknown"))

        self.set_exit_callback(on_exit)
        return exited

    @classmethod
    def initialize(cls) -> None:
        """Install the ``SIGCHLD`` handler through which exits are noticed.

        `set_exit_callback` does it when needed; calling it beforehand (from
        the main thread, with the event loop that will be used current)
        makes sure no exit can slip by first.  Other ``SIGCHLD`` handling in
        the process may conflict with it.

        .. versionchanged:: 5.0
           The ``io_loop`` argument has been removed.
        """
        installed = cls._initialized_loop
        if installed is not None and not installed.is_closed():
            return
        # Never installed, or installed on a loop that has since closed.
        asyncio_loop = ioloop.IOLoop.current().asyncio_loop  # type: ignore[attr-defined]
        asyncio_loop.add_signal_handler(signal.SIGCHLD, cls._cleanup)
        cls._initialized_loop = asyncio_loop

    @classmethod
    def uninitialize(cls) -> None:
        """Take the ``SIGCHLD`` handler away again."""
        previous, cls._initialized_loop = cls._initialized_loop, None
        if previous is not None and not previous.is_closed():
            previous.remove_signal_handler(signal.SIGCHLD)

    @classmethod
    def _cleanup(cls) -> None:
        # Runs on SIGCHLD: any number of our children may have exited.
        for pid in tuple(cls._waiting):
            cls._try_cleanup_process(pid)

    @classmethod
    def _try_cleanup_process(cls, pid: int) -> None:
        watched = cls._waiting.get(pid)
        if watched is None:
            return
        try:
            reaped, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            # Someone else reaped it (Popen.poll(), say): all we can report
            # is what Popen found out, if anything.
            known = watched.proc.returncode
            if known is not None:
                del cls._waiting[pid]
                watched.io_loop.add_callback(watched._report_exit, known)
            return
        if reaped != pid:
            return  # Still running.
        del cls._waiting[pid]
        watched.io_loop.add_callback(watched._set_returncode, status)

    def _set_returncode(self, status: int) -> None:
        code = -1 if sys.platform == "win32" else os.waitstatus_to_exitcode(status)
        self._report_exit(code)

    def _report_exit(self, returncode: int) -> None:
        # Popen gets the code too: it could not reap the process any more,
        # and would otherwise never know how it ended.
        self.returncode = self.proc.returncode = returncode
        callback, self._exit_callback = self._exit_callback, None
        if callback is not None:
            callback(returncode)
