"""Restart the process when its source files change.

Meant for development.  A program that runs an IOLoop calls `start` (a
`tornado.web.Application` with ``debug=True`` or ``autoreload=True`` does so
itself); a program may instead be launched through the wrapper::

    python -m tornado.autoreload -m myapp.server --port=8888
    python -m tornado.autoreload path/to/script.py arg1 arg2

A `~tornado.ioloop.PeriodicCallback` compares, every ``check_time``
milliseconds, the modification time of each imported module and of each file
passed to `watch` with the time it had when first looked at.  When one moved,
the reload hooks are called and the process replaces itself (``os.execv``)
with the same interpreter and command line; ``-m`` programs come back as
``-m`` programs.  Under the wrapper a program that exits or crashes is run
again once its files change (with ``--until-success``: again and again until
it ends with status 0).

Because the process image is replaced in place, the pid stays the same and
any descriptor not marked close-on-exec survives.  Children of
`tornado.process.fork_processes` never restart themselves.

Uses `tornado.ioloop` for the polling and ``tornado.general`` for its log.
"""

import os
import sys

# "python tornado/autoreload.py" makes this file's directory sys.path[0], and
# our subpackages there ("platform", ...) would then hide standard modules of
# the same names: drop that entry before any further import.
if __name__ == "__main__" and sys.path[:1] == [os.path.dirname(os.path.abspath(__file__))]:
    del sys.path[0]

import contextlib
import functools
import importlib.util
import optparse
import runpy
import subprocess
import traceback
import types
import weakref
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple

from tornado import ioloop
from tornado.log import gen_log

try:
    import signal
except ImportError:
    signal = None  # type: ignore[assignment]

# On Windows os.execv returns control to whoever started us before the new
# program is up, so there a child is started and this process leaves.
_has_execv = sys.platform != "win32"

_watched_files: Set[str] = set()
_reload_hooks: List[Callable[[], None]] = []
# Once a restart has been tried, polling stops: if it did not take, trying
# again on every tick would only repeat the failure.
_reload_attempted = False
_io_loops: "weakref.WeakKeyDictionary[ioloop.IOLoop, bool]" = weakref.WeakKeyDictionary()

# Filled in by main() when we are the ``python -m tornado.autoreload``
# wrapper: its command line is what a restart runs, so the new process is
# wrapped as well.
_autoreload_is_main = False
_original_argv: Optional[List[str]] = None
_original_spec: Any = None


def start(check_time: int = 500) -> None:
    """Polls for changed source files on the current IOLoop.

    ``check_time`` is the period in milliseconds.  A second call for an
    IOLoop that is already polling is ignored; polling on a second IOLoop of
    the same process works but logs a warning.

    .. versionchanged:: 5.0
       The ``io_loop`` argument (deprecated since version 4.1) has been removed.
    """
    current = ioloop.IOLoop.current()
    if current in _io_loops:
        return
    if _io_loops:
        gen_log.warning("tornado.autoreload started more than once in the same process")
    _io_loops[current] = True
    first_seen: Dict[str, float] = {}
    poll = functools.partial(_poll_files, first_seen)
    ioloop.PeriodicCallback(poll, check_time).start()


def wait() -> None:
    """Starts a fresh IOLoop that only polls, and restarts on a change.

    Useful at the end of a program that would otherwise exit (a test run,
    for instance) so that editing a file runs it again.  The command line
    wrapper does this too, and also copes with programs that fail to import.
    """
    loop = ioloop.IOLoop()
    loop.add_callback(start)
    loop.start()


def watch(filename: str) -> None:
    """Restarts also when ``filename`` changes.

    Imported modules need not be named: they are always checked.
    """
    _watched_files.add(filename)


def add_reload_hook(fn: Callable[[], None]) -> None:
    """Registers ``fn`` to be called with no arguments right before a restart.

    To keep descriptors out of the new process, prefer marking them
    non-inheritable (`os.set_inheritable`) over closing them in a hook.
    """
    _reload_hooks.append(fn)


def _source_of(module: object) -> Optional[str]:
    """The file a loaded module came from, pointing at the ``.py`` rather than
    its compiled ``.pyc``/``.pyo``; None for built-ins and non-modules (some
    libraries put other objects into `sys.modules`)."""
    if not isinstance(module, types.ModuleType):
        return None
    filename = getattr(module, "__file__", None)
    if not filename:
        return None
    stem, ext = os.path.splitext(filename)
    return stem + ".py" if ext in (".pyc", ".pyo") else filename


def _files_to_check() -> Iterator[str]:
    # Snapshots: an import in another thread may grow either collection
    # while we iterate.
    for module in tuple(sys.modules.values()):
        source = _source_of(module)
        if source is not None:
            yield source
    yield from tuple(_watched_files)


def _poll_files(first_seen: Dict[str, float]) -> None:
    """One polling tick: restart if any file's mtime differs from the one
    recorded the first time it was seen."""
    if _reload_attempted:
        return
    from tornado import process

    # A fork_processes child that restarted would fork a whole new set of
    # children; leave the decision to the parent.
    if process.task_id() is not None:
        return
    for path in _files_to_check():
        try:
            mtime = os.stat(path).st_mtime
        except Exception:
            continue
        if first_seen.setdefault(path, mtime) != mtime:
            gen_log.info("%s modified; restarting server", path)
            _reload()
            return


def _restart_argv() -> List[str]:
    """Arguments for the interpreter that run this program once more.

    Python removes ``-m name`` from `sys.argv` but leaves the module's spec
    on ``__main__``, from which it is put back.  A spec called "__main__"
    means a directory or zip archive was run: that restarts from the path,
    like a script.  Under the wrapper, the wrapper's own command line is used.
    """
    wrapped = _autoreload_is_main and _original_argv is not None
    if wrapped:
        argv: List[str] = _original_argv  # type: ignore[assignment]
        spec = _original_spec
    else:
        argv = sys.argv
        spec = getattr(sys.modules["__main__"], "__spec__", None)
    module = getattr(spec, "name", "__main__")
    if module == "__main__":
        return list(argv)
    return ["-m", module, *argv[1:]]


def _reload() -> None:
    global _reload_attempted
    _reload_attempted = True
    for hook in _reload_hooks:
        hook()
    # A pending SIGALRM (IOLoop.set_blocking_log_threshold arms one) would
    # survive exec and kill the program we are about to start.
    if signal is not None and hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
    command = [sys.executable, *_restart_argv()]
    if _has_execv:
        # execv is refused in some multi-threaded processes; then a detached
        # copy is spawned below like on Windows.
        with contextlib.suppress(OSError):
            os.execv(sys.executable, command)
        os.spawnv(os.P_NOWAIT, sys.executable, command)  # type: ignore[attr-defined]
    else:
        subprocess.Popen(command)
    # No unwinding: finally blocks would run against an IOLoop that is in
    # the middle of a callback.
    os._exit(0)


_USAGE = """\
Usage:
  python -m tornado.autoreload -m module.to.run [args...]
  python -m tornado.autoreload path/to/script.py [args...]
"""


def _wrapper_options(args: List[str]) -> Tuple[Any, List[str]]:
    """Splits the wrapper's command line into its own options and the
    program's (everything from the first non-option on)."""
    parser = optparse.OptionParser(
        usage=_USAGE, prog="python -m tornado.autoreload",
        epilog="Either -m or a path must be specified, but not both",
    )
    parser.disable_interspersed_args()
    parser.add_option("--until-success", action="store_true",
                      help="do not run the program again once it exits with status 0")
    parser.add_option("-m", dest="module", metavar="module",
                      help="run this module as a program (like python -m)")
    return parser.parse_args(args)


def _run_wrapped(run: Callable[[], Any]) -> Any:
    """Runs the wrapped program to its end and returns its exit status
    (0 or None meaning success), logging how it ended."""
    try:
        run()
    except SystemExit as exc:
        gen_log.info("Script exited with status %s", exc.code)
        return exc.code
    except Exception as exc:
        gen_log.warning("Script exited with uncaught exception", exc_info=True)
        # A module that blew up while importing is not in sys.modules, so
        # the polling would never see it; its traceback names the files.
        for entry in traceback.extract_tb(exc.__traceback__):
            watch(entry.filename)
        if isinstance(exc, SyntaxError) and exc.filename:
            watch(exc.filename)
        return 1
    gen_log.info("Script exited normally")
    return 0


def _watch_module_file(name: str) -> None:
    # runpy takes the module back out of sys.modules after running it as
    # __main__, so look its file up through the import system.
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return
    if spec is not None and spec.origin:
        watch(spec.origin)


def main() -> None:
    """Entry point of ``python -m tornado.autoreload``.

    Runs ``-m module`` or a script path (a file, or a directory holding a
    ``__main__.py``) with the rest of the command line as its arguments,
    then waits for a change to any watched file and starts over, whether
    the program succeeded, exited with an error or failed to import.
    ``--until-success`` ends the wrapper after a run that exits with
    status 0.
    """
    # Under -m this code runs as module "__main__", while the program will
    # import "tornado.autoreload" as a second module object: the wrapper
    # state has to live on that one, which _reload consults.
    import tornado.autoreload as shared

    own_argv = sys.argv
    shared._autoreload_is_main = True
    shared._original_argv = own_argv
    shared._original_spec = getattr(sys.modules["__main__"], "__spec__", None)

    opts, program_args = _wrapper_options(own_argv[1:])
    module: Optional[str] = opts.module
    if module is not None:
        sys.argv = [own_argv[0], *program_args]
        run = functools.partial(runpy.run_module, module, run_name="__main__", alter_sys=True)
    elif program_args:
        sys.argv = list(program_args)
        run = functools.partial(runpy.run_path, program_args[0], run_name="__main__")
    else:
        print("Either -m or a path must be specified", file=sys.stderr)
        sys.exit(1)

    status = _run_wrapped(run)
    # The restart command line must be the wrapper's again.
    sys.argv = own_argv
    if module is not None:
        _watch_module_file(module)
    else:
        watch(program_args[0])
    if opts.until_success and not status:
        return
    wait()


if __name__ == "__main__":
    main()
