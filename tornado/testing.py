"""Helpers for writing `unittest` tests of asynchronous code.

* `AsyncTestCase` runs each test with a new `.IOLoop` of its own
  (``self.io_loop``), closed when the test is over; tests either drive it
  with `~AsyncTestCase.stop`/`~AsyncTestCase.wait` or are coroutines
  decorated with `gen_test`.
* `AsyncHTTPTestCase` and `AsyncHTTPSTestCase` add an HTTP(S) server for
  the application from ``get_app()``, listening on a free local port, and
  `~AsyncHTTPTestCase.fetch` to send it requests.
* `ExpectLog` checks that an expected log message shows up (and hides it);
  `bind_unused_port` opens a listening socket on a free port.
* `main` is a command-line test runner that understands Tornado's options.

Asynchronous waits give up after 5 seconds unless the
``ASYNC_TEST_TIMEOUT`` environment variable says otherwise.

This module is meant for users' test suites, so it may use the whole
package: `tornado.ioloop` and `tornado.gen` directly, the HTTP server and
client, `tornado.netutil` and `tornado.process` only when a test needs
them.
"""

import asyncio
import contextlib
import functools
import inspect
import logging
import os
import re
import signal
import socket
import sys
import types
import unittest
import warnings
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Callable, Coroutine, Dict, Optional, Tuple, Type
from typing import TypeVar, Union, overload

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.log import app_log
from tornado.platform.asyncio import AsyncIOMainLoop
from tornado.util import raise_exc_info

if TYPE_CHECKING:
    from tornado.httpclient import AsyncHTTPClient, HTTPResponse
    from tornado.httpserver import HTTPServer

_T = TypeVar("_T")
_ExcInfo = Tuple[Optional[Type[BaseException]], Optional[BaseException], Optional[types.TracebackType]]
# What a test method decorated with gen_test returns when called.
_Suspended = Union[Generator[Any, Any, Any], Coroutine[Any, Any, Any]]
_TestMethod = Callable[..., _Suspended]
_GenTestDecorator = Callable[[_TestMethod], Callable[..., None]]

# An IOLoop of this kind wraps an asyncio loop that the test case did not
# create, so the test case must not close it.
_NON_OWNED_IOLOOPS = AsyncIOMainLoop

_DEFAULT_TIMEOUT = 5.0


def _is_suspended(value: Any) -> bool:
    """Whether ``value`` is a generator or coroutine object: a test body
    that does nothing until something drives it."""
    return isinstance(value, Generator) or inspect.iscoroutine(value)


def bind_unused_port(reuse_port: bool = False, address: str = "127.0.0.1") -> Tuple[socket.socket, int]:
    """Open a listening, non-blocking IPv4 socket on a free port.

    ``address`` is the interface to bind (loopback unless told otherwise).
    Returns the socket together with the port number it got.

    .. versionchanged:: 6.2
       ``address`` can be chosen.
    """
    from tornado.netutil import bind_sockets

    listener = bind_sockets(0, address, family=socket.AF_INET, reuse_port=reuse_port)[0]
    return listener, listener.getsockname()[1]


def get_async_test_timeout() -> float:
    """Seconds that `AsyncTestCase.wait` and `gen_test` wait by default.

    The ``ASYNC_TEST_TIMEOUT`` environment variable sets it when it holds a
    number; otherwise it is 5.
    """
    setting = os.environ.get("ASYNC_TEST_TIMEOUT", "")
    with contextlib.suppress(ValueError):
        return float(setting)
    return _DEFAULT_TIMEOUT


class AsyncTestCase(unittest.TestCase):
    """A `unittest.TestCase` that gives every test a fresh `.IOLoop`.

    Before the test, ``self.io_loop`` is created by `get_new_ioloop` and its
    asyncio loop is made the thread's event loop.  After it, tasks still
    pending on that loop are cancelled and given the chance to finish, then
    the loop is closed.  Subclasses overriding ``setUp`` or ``tearDown``
    have to call the inherited versions.

    A test can be a coroutine decorated with `gen_test`, which runs it on
    the loop, or plain code that runs the loop itself through `wait` until
    a callback calls `stop`::

        def test_http_fetch(self):
            client = AsyncHTTPClient()
            self.io_loop.add_future(client.fetch("http://example.com/"), self.stop)
            response = self.wait().result()

    Since an undecorated generator or coroutine method would silently never
    run, returning one (or any value but None) from a test is an error.
    """

    def __init__(self, methodName: str = "runTest") -> None:
        super().__init__(methodName)
        self.__stopped = False
        self.__running = False
        self.__failure: Optional[_ExcInfo] = None
        self.__stop_args: Any = None
        # The generator of the @gen_test method being run, so that a timeout
        # can be raised inside it, where the test is stuck.
        self._test_generator: Optional[_Suspended] = None

    def setUp(self) -> None:
        super().setUp()
        self.io_loop = self.get_new_ioloop()
        asyncio.set_event_loop(self.io_loop.asyncio_loop)  # type: ignore[attr-defined]

    def tearDown(self) -> None:
        self.__settle_leftover_tasks()
        # A SIGCHLD watcher installed during the test must not outlive its loop.
        process_module = sys.modules.get("tornado.process")
        if process_module is not None:
            process_module.Subprocess.uninitialize()
        asyncio.set_event_loop(None)
        if not isinstance(self.io_loop, _NON_OWNED_IOLOOPS):
            # Closing every fd still registered keeps a leaked socket from
            # disturbing the next test.
            self.io_loop.close(all_fds=True)
        super().tearDown()
        # A wait() timeout that nothing has reported yet.
        self.__rethrow()

    def __settle_leftover_tasks(self) -> None:
        # Tasks still pending when a loop closes are reported as "destroyed
        # but pending": cancel them and let them unwind while the loop lives.
        asyncio_loop = self.io_loop.asyncio_loop  # type: ignore[attr-defined]
        if asyncio_loop.is_closed():
            return
        leftovers = [task for task in asyncio.all_tasks(asyncio_loop) if not task.done()]
        if not leftovers:
            return
        for task in leftovers:
            task.cancel()
        finished, unfinished = self.io_loop.run_sync(lambda: asyncio.wait(leftovers))
        assert not unfinished
        for task in finished:
            with contextlib.suppress(asyncio.CancelledError):
                task.result()

    def get_new_ioloop(self) -> IOLoop:
        """Create the `.IOLoop` for a test; a brand-new one unless overridden.

        Overrides seldom make sense.  A loop that the test case must leave
        open is supported only in the form of an `.AsyncIOMainLoop`.
        """
        fresh: IOLoop = IOLoop(make_current=False)
        return fresh

    def __rethrow(self) -> None:
        pending, self.__failure = self.__failure, None
        if pending is not None:
            raise_exc_info(pending)

    def run(self, result: Optional[unittest.TestResult] = None) -> Optional[unittest.TestResult]:
        outcome = super().run(result)
        # Whatever failure neither the test nor tearDown reported must not
        # vanish: raise it here, as a last resort.
        self.__rethrow()
        return outcome

    def _callTestMethod(self, method: Callable[..., Any]) -> None:
        # unittest itself merely warns about a test returning something
        # (from 3.11 on); a generator or coroutine here is a test body that
        # was never executed, so it has to fail.
        returned = method()
        if _is_suspended(returned):
            returned.close()  # no "coroutine was never awaited" warning
            raise TypeError(
                "Generator and coroutine test methods should be"
                " decorated with tornado.testing.gen_test"
            )
        if returned is not None:
            raise ValueError("Return value from test method ignored: %r" % returned)

    def stop(self, _arg: Any = None, **kwargs: Any) -> None:
        """End the current (or the next) `wait`, which returns what is passed here.

        That is the one positional argument, or else the keyword arguments
        as a dict.  Called before `wait`, it makes that ``wait`` return
        immediately.
        """
        assert _arg is None or not kwargs
        self.__stop_args = kwargs or _arg
        self.__stopped = True
        if self.__running:
            self.__running = False
            self.io_loop.stop()

    def wait(self, condition: Optional[Callable[..., bool]] = None,
             timeout: Optional[float] = None) -> Any:
        """Run the loop until `stop` is called, and return what it was given.

        With a ``condition``, a `stop` only ends the wait once
        ``condition()`` is true; otherwise the loop runs on.  After
        ``timeout`` seconds (default `get_async_test_timeout`) the wait ends
        by failing the test with ``self.failureException``.
        """
        if not self.__stopped:
            limit = get_async_test_timeout() if timeout is None else timeout
            timer = self.io_loop.call_later(limit, self.__time_out, limit) if limit else None
            try:
                self.__run_until_stopped(condition)
            finally:
                if timer is not None:
                    self.io_loop.remove_timeout(timer)
        assert self.__stopped
        self.__stopped = False
        self.__rethrow()
        returned, self.__stop_args = self.__stop_args, None
        return returned

    def __run_until_stopped(self, condition: Optional[Callable[..., bool]]) -> None:
        while True:
            self.__running = True
            self.io_loop.start()
            if self.__failure is not None or condition is None or condition():
                return

    def __time_out(self, limit: float) -> None:
        try:
            # Raised (not merely created) so that it carries a traceback.
            raise self.failureException("Async operation timed out after %s seconds" % limit)
        except self.failureException:
            self.__failure = sys.exc_info()
        self.stop()


class AsyncHTTPTestCase(AsyncTestCase):
    """An `AsyncTestCase` with an HTTP server running the application under test.

    Subclasses return that application (a `tornado.web.Application`, or any
    other `.HTTPServer` callback) from `get_app`.  ``setUp`` serves it on a
    free port of 127.0.0.1, and `fetch` makes requests to it::

        class MyHTTPTest(AsyncHTTPTestCase):
            def get_app(self):
                return Application([("/", MyHandler)])

            def test_homepage(self):
                response = self.fetch("/")
                self.assertEqual(response.code, 200)
    """

    def setUp(self) -> None:
        super().setUp()
        listener, self.__port = bind_unused_port()
        # get_app() is allowed to use the client, so it comes first.
        self.http_client = self.get_http_client()
        self._app = self.get_app()
        self.http_server = self.get_http_server()
        self.http_server.add_sockets([listener])

    def get_http_client(self) -> "AsyncHTTPClient":
        """Create the client behind `fetch`; an `.AsyncHTTPClient` by default."""
        from tornado.httpclient import AsyncHTTPClient

        return AsyncHTTPClient()

    def get_http_server(self) -> "HTTPServer":
        """Create the server for the application (see `get_httpserver_options`)."""
        from tornado.httpserver import HTTPServer

        return HTTPServer(self._app, **self.get_httpserver_options())

    def get_app(self) -> Any:
        """The application under test: to be provided by every subclass."""
        raise NotImplementedError()

    def fetch(self, path: str, raise_error: bool = False, **kwargs: Any) -> "HTTPResponse":
        """Request ``path`` from the test server and wait for the response.

        ``path`` is normally server-relative (``"/index.html"``); a complete
        ``http://`` or ``https://`` URL is used unchanged.  Other keyword
        arguments are those of `.AsyncHTTPClient.fetch`.  Responses with an
        HTTP error status are returned like any other unless ``raise_error``
        is set, but failures without a status (refused connection, timeout)
        always raise.  The wait is bounded by `get_async_test_timeout`.
        """
        absolute = path.lower().startswith(("http://", "https://"))
        url = path if absolute else self.get_url(path)
        request = functools.partial(self.http_client.fetch, url, raise_error=raise_error, **kwargs)
        return self.io_loop.run_sync(request, timeout=get_async_test_timeout())  # type: ignore[no-any-return]

    def get_httpserver_options(self) -> Dict[str, Any]:
        """Extra keyword arguments for the `.HTTPServer`; none by default."""
        return {}

    def get_protocol(self) -> str:
        """The test server's URL scheme (``"http"`` here)."""
        return "http"

    def get_http_port(self) -> int:
        """Which port the test server listens on."""
        return self.__port

    def get_url(self, path: str) -> str:
        """``path`` turned into a full URL on the test server."""
        return "%s://127.0.0.1:%d%s" % (self.get_protocol(), self.get_http_port(), path)

    def tearDown(self) -> None:
        self.http_server.stop()
        self.io_loop.run_sync(self.http_server.close_all_connections, timeout=get_async_test_timeout())
        self.http_client.close()
        # The runner keeps test case objects until the whole run ends; what
        # the application and server hold should be freed right away.
        del self._app, self.http_server
        super().tearDown()


class AsyncHTTPSTestCase(AsyncHTTPTestCase):
    """Like `AsyncHTTPTestCase`, over HTTPS.

    The server presents a self-signed test certificate (`get_ssl_options`
    can supply another) and the client skips certificate validation.
    """

    def get_http_client(self) -> "AsyncHTTPClient":
        from tornado.httpclient import AsyncHTTPClient

        return AsyncHTTPClient(force_instance=True, defaults={"validate_cert": False})

    def get_httpserver_options(self) -> Dict[str, Any]:
        return {"ssl_options": self.get_ssl_options()}

    def get_ssl_options(self) -> Dict[str, Any]:
        """The test server's ``ssl_options`` (certificate and private key)."""
        return AsyncHTTPSTestCase.default_ssl_options()

    @staticmethod
    def default_ssl_options() -> Dict[str, Any]:
        """``ssl_options`` naming the certificate and key that ship with Tornado.

        They are the files ``test.crt`` and ``test.key`` in the package's
        ``test`` directory.
        """
        test_dir = os.path.join(os.path.dirname(__file__), "test")
        return {kind: os.path.join(test_dir, "test." + ext)
                for kind, ext in (("certfile", "crt"), ("keyfile", "key"))}

    def get_protocol(self) -> str:
        return "https"


@overload
def gen_test(*, timeout: Optional[float] = None) -> _GenTestDecorator: ...


@overload
def gen_test(func: _TestMethod) -> Callable[..., None]: ...


def gen_test(func: Optional[_TestMethod] = None,
             timeout: Optional[float] = None) -> Union[Callable[..., None], _GenTestDecorator]:
    """Turn a coroutine test method into one that runs on ``self.io_loop``.

    The method may be a generator (as for `tornado.gen.coroutine`) or an
    ``async def``.  A run longer than ``timeout`` seconds fails with
    `TimeoutError`; the default is `get_async_test_timeout`, read when the
    test runs.  For generator tests, the error is raised inside the test,
    so its traceback shows the line that was waiting.  Both ``@gen_test``
    and ``@gen_test(timeout=...)`` work.
    """

    def decorate(method: _TestMethod) -> Callable[..., None]:
        @functools.wraps(method)
        def begin(self: AsyncTestCase, *args: Any, **kwargs: Any) -> Any:
            # Note the generator (or coroutine) the test produces, for the
            # timeout handling below.
            produced = method(self, *args, **kwargs)
            self._test_generator = produced if _is_suspended(produced) else None
            return produced

        runnable: Callable[..., Any] = (
            begin if inspect.iscoroutinefunction(method) else gen.coroutine(begin)
        )

        @functools.wraps(runnable)
        def run_on_loop(self: AsyncTestCase, *args: Any, **kwargs: Any) -> None:
            limit = get_async_test_timeout() if timeout is None else timeout
            call = functools.partial(runnable, self, *args, **kwargs)
            try:
                return self.io_loop.run_sync(call, timeout=limit)  # type: ignore[no-any-return]
            except TimeoutError as expired:
                # The error as raised points into run_sync.  Raising it again
                # inside a generator test shows where the test was stuck.
                # (A native coroutine was cancelled already; it keeps the
                # error as it is.)  Should the test swallow it, it is
                # raised from here all the same.
                stuck = self._test_generator
                if isinstance(stuck, Generator):
                    stuck.throw(expired)
                raise

        return run_on_loop

    return decorate if func is None else decorate(func)


# Test collectors (nose, for one) would otherwise take gen_test for a test.
gen_test.__test__ = False  # type: ignore[attr-defined]


class ExpectLog(logging.Filter):
    """Context manager asserting that a log message is emitted, and hiding it.

    Handy in tests of failure paths, whose log output is expected::

        with ExpectLog("tornado.application", "Uncaught exception"):
            simulate_error()

    ``logger`` is a `logging.Logger` or a logger name.  Records whose
    formatted message matches ``regex`` from its start are suppressed.
    With ``required`` (the default), leaving the block without any match
    raises, unless the block is left by an exception.

    ``level`` is the level the message is expected at, e.g.
    ``logging.WARNING``: the logger's level is lowered to it inside the
    block when necessary, and a matching record at a different level is
    not suppressed but reported.  Relying on a match below WARNING without
    giving ``level`` is deprecated.

    .. versionchanged:: 6.1
       The ``level`` argument.
    """

    def __init__(self, logger: Union[logging.Logger, str], regex: str, required: bool = True,
                 level: Optional[int] = None) -> None:
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.regex = re.compile(regex)
        self.required = required
        self.level = level
        # The logger's own level, when we had to lower it.
        self.orig_level: Optional[int] = None
        # Records suppressed, and how many of them matched below WARNING
        # without an explicit level (the deprecated use).
        self.matched = 0
        self.deprecated_level_matched = 0
        # Whether any record that passed by had a traceback attached.
        self.logged_stack = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            self.logged_stack = True
        text = record.getMessage()
        if self.regex.match(text) is None:
            return True
        if self.level is None:
            if record.levelno < logging.WARNING:
                # Warning right here would be eaten by the logging system;
                # __exit__ does it.
                self.deprecated_level_matched += 1
        elif record.levelno != self.level:
            app_log.warning(
                "Got expected log message %r at unexpected level (%s vs %s)",
                text, logging.getLevelName(self.level), record.levelname,
            )
            return True
        self.matched += 1
        return False

    def __enter__(self) -> "ExpectLog":
        wanted = self.level
        if wanted is not None and self.logger.getEffectiveLevel() > wanted:
            self.orig_level = self.logger.level
            self.logger.setLevel(wanted)
        self.logger.addFilter(self)
        return self

    def __exit__(self, typ: Optional[Type[BaseException]], value: Optional[BaseException],
                 tb: Optional[types.TracebackType]) -> None:
        self.logger.removeFilter(self)
        if self.orig_level is not None:
            self.logger.setLevel(self.orig_level)
        if typ is not None or not self.required:
            return
        if not self.matched:
            raise Exception("did not get expected log message")
        if self.deprecated_level_matched >= self.matched:
            warnings.warn(
                "ExpectLog matched at INFO or below without level argument",
                DeprecationWarning, stacklevel=2,
            )


def setup_with_context_manager(testcase: unittest.TestCase, cm: Any) -> Any:
    """Enter ``cm`` now and exit it when ``testcase`` cleans up.

    Meant for ``setUp``; the result of entering is returned.  The exit is
    registered with `unittest.TestCase.addCleanup`.
    """
    entered = cm.__enter__()
    testcase.addCleanup(cm.__exit__, None, None, None)
    return entered


# main()'s flags that map onto unittest.main arguments: flag -> (argument, value).
_UNITTEST_FLAGS = {
    "verbose": ("verbosity", 2),
    "quiet": ("verbosity", 0),
    "failfast": ("failfast", True),
    "buffer": ("buffer", True),
}


def main(**kwargs: Any) -> None:
    """A command-line test runner: `unittest.main` plus Tornado's options.

    Tests are named on the command line the unittest way
    (``package.module.Class.test``); if none is named, ``__main__`` has to
    provide an ``all()`` function returning the suite to run.  Tornado's
    logging options are available, and ``--verbose``, ``--quiet``,
    ``--failfast``, ``--buffer`` and ``--exception_on_interrupt=false``
    too.  Keyword arguments are handed to `unittest.main`.
    """
    from tornado.options import define, options, parse_command_line

    define(
        "exception_on_interrupt", type=bool, default=True,
        help=("Whether ctrl-c raises KeyboardInterrupt (the default, which shows "
              "a traceback but may not stop a blocked operation) rather than "
              "killing the process outright."),
    )
    for flag in _UNITTEST_FLAGS:
        define(flag, type=bool)

    argv = [sys.argv[0]] + parse_command_line(sys.argv)
    if not options.exception_on_interrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    for flag, (argument, value) in _UNITTEST_FLAGS.items():
        if getattr(options, flag) is not None:
            kwargs[argument] = value

    named_tests = len(argv) > 1
    if __name__ == "__main__" and not named_tests:
        print("No tests specified", file=sys.stderr)
        sys.exit(1)
    # With test names, module=None makes unittest import them by name;
    # without, it runs __main__.all().
    target: Dict[str, Any] = {"module": None} if named_tests else {"defaultTest": "all"}
    unittest.main(argv=argv, **target, **kwargs)


if __name__ == "__main__":
    main()
