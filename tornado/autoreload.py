"""Restart the process when its source files change.

Handy during development.  Either call `start` from a program that runs an
IOLoop (``Application(debug=True)`` or ``autoreload=True`` does this), or
run the program under the wrapper::

    python -m tornado.autoreload -m myapp.server --port=8888
    python -m tornado.autoreload path/to/script.py arg1 arg2

Every ``check_time`` milliseconds the modification times of all imported
modules and of the files given to `watch` are compared with the times first
seen; on a change the reload hooks run and the process replaces itself
(``os.execv``) with the same interpreter and command line, so a program
started with ``-m`` is restarted with ``-m``.  The wrapper also restarts a
program that exits or dies, after its files change (or, with
``--until-success``, restarts it straight away until it exits cleanly).

Restarting replaces the process in place, so file descriptors that are not
close-on-exec stay open and the new process keeps the old pid; this does not
work in multi-process mode (`tornado.process.fork_processes`), where the
check is skipped.

Builds on `tornado.ioloop` (a `~tornado.ioloop.PeriodicCallback` per IOLoop)
and logs to ``tornado.general``.
"""

import os
import sys

# Run as a script (python tornado/autoreload.py), the interpreter puts this
# file's directory first on sys.path, where our "platform", "locale" ... would
# shadow the standard library modules of the same names.  Take it out before
# importing anything else.  (Nothing to do under -m.)
if __name__ == "__main__" and sys.path and sys.path[0] == os.path.dirname(
    os.path.abspath(__file__)
):
    del sys.path[0]

import functools
import optparse
import importlib.util
import runpy
import subprocess
import traceback
import types
import weakref
from typing import Any, Callable, Dict, List, Optional, Set

from tornado import ioloop
from tornado.log import gen_log

try:
    import signal
except ImportError:
    signal = None  # type: ignore[assignment]

# os.execv exists on Windows but behaves badly there (the parent exits
# before the child is ready, confusing whatever started it).
_has_execv = sys.platform != "win32"

_watched_files: Set[str] = set()
_reload_hooks: List[Callable[[], None]] = []
_reload_attempted = False
_io_loops: "weakref.WeakKeyDictionary[ioloop.IOLoop, bool]" = weakref.WeakKeyDictionary()
# Set by main(): the wrapper's own command line, re-run on reload so that the
# restarted program is wrapped again.
_autoreload_is_main = False
_original_argv: Optional[List[str]] = None
_original_spec: Any = None


def start(check_time: int = 500) -> None:
    """Begins watching source files for changes on the current IOLoop.

    ``check_time`` is the polling period in milliseconds.  Calling it again
    on the same IOLoop does nothing.

    .. versionchanged:: 5.0
       The ``io_loop`` argument (deprecated since version 4.1) has been removed.
    """
    io_loop = ioloop.IOLoop.current()
    if io_loop in _io_loops:
        return
    _io_loops[io_loop] = True
    if len(_io_loops) > 1:
        gen_log.warning("tornado.autoreload started more than once in the same process")
    modify_times: Dict[str, float] = {}
    callback = functools.partial(_reload_on_update, modify_times)
    scheduler = ioloop.PeriodicCallback(callback, check_time)
    scheduler.start()


def wait() -> None:
    """Run a new IOLoop until a watched file changes, then restart.

    For scripts that end (a test runner, say) but should run again after an
    edit; the ``python -m tornado.autoreload`` wrapper does the same and also
    survives errors at import time.
    """
    io_loop = ioloop.IOLoop()
    io_loop.add_callback(start)
    io_loop.start()


def watch(filename: str) -> None:
    """Also restart when ``filename`` changes (imported modules are always
    watched).
    """
    _watched_files.add(filename)


def add_reload_hook(fn: Callable[[], None]) -> None:
    """Call ``fn()`` just before the process restarts.

    File descriptors are better closed by marking them close-on-exec
    (`os.set_inheritable`) than with a hook.
    """
    _reload_hooks.append(fn)


def _module_paths() -> List[str]:
    """The source files of the imported modules."""
    paths = []
    for module in list(sys.modules.values()):
        # sys.modules may hold stand-in objects that are not modules.
        if not isinstance(module, types.ModuleType):
            continue
        path = getattr(module, "__file__", None)
        if not path:
            continue
        if path.endswith((".pyc", ".pyo")):
            path = path[:-1]
        paths.append(path)
    return paths


def _reload_on_update(modify_times: Dict[str, float]) -> None:
    if _reload_attempted:
        # A restart already failed; don't loop on it.
        return
    from tornado import process

    if process.task_id() is not None:
        # A child of fork_processes: each child restarting would run
        # fork_processes again and multiply the processes.
        return
    for path in _module_paths():
        _check_file(modify_times, path)
    for path in list(_watched_files):
        _check_file(modify_times, path)


def _check_file(modify_times: Dict[str, float], path: str) -> None:
    try:
        modified = os.stat(path).st_mtime
    except Exception:
        return
    if path not in modify_times:
        modify_times[path] = modified
        return
    if modify_times[path] != modified:
        gen_log.info("%s modified; restarting server", path)
        _reload()


def _restart_argv() -> List[str]:
    """The interpreter arguments that start this program again.

    Python drops ``-m module`` from ``sys.argv``; ``__main__.__spec__``
    tells that it was there.  A spec named exactly "__main__" comes from
    running a directory or zip file, which restarts like a script.
    """
    if _autoreload_is_main:
        assert _original_argv is not None
        spec = _original_spec
        argv = _original_argv
    else:
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        argv = sys.argv
    if spec is not None and spec.name != "__main__":
        return ["-m", spec.name] + argv[1:]
    return list(argv)


def _reload() -> None:
    global _reload_attempted
    _reload_attempted = True
    for fn in _reload_hooks:
        fn()
    if signal is not None and hasattr(signal, "setitimer"):
        # Clear any alarm left by IOLoop.set_blocking_log_threshold, which
        # would otherwise kill the new process.
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
    argv = [sys.executable] + _restart_argv()
    if not _has_execv:
        subprocess.Popen(argv)
        os._exit(0)
    else:
        try:
            os.execv(sys.executable, argv)
        except OSError:
            # Some systems refuse execv in a process with several threads.
            # Start a detached copy instead and leave without unwinding (the
            # IOLoop is in no state to run finally blocks).
            os.spawnv(os.P_NOWAIT, sys.executable, argv)  # type: ignore[attr-defined]
            os._exit(0)


_USAGE = """\
Usage:
  python -m tornado.autoreload -m module.to.run [args...]
  python -m tornado.autoreload path/to/script.py [args...]
"""


def main() -> None:
    """The ``python -m tornado.autoreload`` command line.

    Runs a module (``-m name``) or a script (a path, or a directory with a
    ``__main__.py``) with the remaining arguments as its ``sys.argv``, then
    restarts it whenever a watched file changes, even after it failed at
    import time (the files of the traceback are watched too).  With
    ``--until-success`` the wrapper stops once the program exits with
    status 0.
    """
    # The program imports "tornado.autoreload" (a different module object
    # from the one running as __main__ under -m); the reload state must be
    # set on that one.
    import tornado.autoreload as this

    this._autoreload_is_main = True
    original_argv = sys.argv
    this._original_argv = original_argv
    this._original_spec = getattr(sys.modules["__main__"], "__spec__", None)
    sys.argv = sys.argv[:]

    parser = optparse.OptionParser(
        prog="python -m tornado.autoreload",
        usage=_USAGE,
        epilog="Either -m or a path must be specified, but not both",
    )
    # Everything from the program's name on belongs to the program.
    parser.disable_interspersed_args()
    parser.add_option("-m", dest="module", metavar="module", help="module to run")
    parser.add_option(
        "--until-success",
        action="store_true",
        help="stop reloading after the program exits successfully",
    )
    opts, rest = parser.parse_args()
    if opts.module is None:
        if not rest:
            print("Either -m or a path must be specified", file=sys.stderr)
            sys.exit(1)
        path = rest[0]
        sys.argv = rest[:]
    else:
        path = None
        sys.argv = [sys.argv[0]] + rest

    exit_status: Any = 1
    try:
        if opts.module is not None:
            runpy.run_module(opts.module, run_name="__main__", alter_sys=True)
        else:
            assert path is not None
            runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        gen_log.info("Script exited with status %s", e.code)
        exit_status = e.code
    except Exception as e:
        gen_log.warning("Script exited with uncaught exception", exc_info=True)
        # A module that failed while being imported never reached
        # sys.modules, so watch every file of the traceback instead.
        for frame in traceback.extract_tb(sys.exc_info()[2]):
            watch(frame.filename)
        if isinstance(e, SyntaxError) and e.filename:
            watch(e.filename)
        exit_status = 1
    else:
        gen_log.info("Script exited normally")
        exit_status = 0
    # Restore sys.argv so subsequent executions will include autoreload.
    sys.argv = original_argv

    if opts.module is not None:
        # runpy ran the module as __main__ and then removed it from
        # sys.modules; find its file so that it is watched.
        try:
            spec = importlib.util.find_spec(opts.module)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin:
            watch(spec.origin)
    elif path is not None:
        watch(path)
    if opts.until_success and not exit_status:
        return
    wait()


if __name__ == "__main__":
    main()
