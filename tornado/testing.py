"""Support for testing asynchronous code with `unittest`.

* `AsyncTestCase` gives each test a fresh `.IOLoop` (``self.io_loop``),
  closed again after the test; `gen_test` runs a coroutine test method on
  it, with a timeout.
* `AsyncHTTPTestCase` (and `AsyncHTTPSTestCase`) also start an HTTP server
  for the application returned by ``get_app()`` on an unused port, with a
  client to `~AsyncHTTPTestCase.fetch` from it.
* `ExpectLog` asserts that a log message is emitted (and keeps it out of
  the output); `bind_unused_port` binds a listening socket on a free port.
* `main` runs tests from the command line with Tornado's option parsing.

The default timeout of asynchronous waits is 5 seconds; the
``ASYNC_TEST_TIMEOUT`` environment variable changes it.

This module sits at the top of the package: it uses `tornado.ioloop` and
`tornado.gen`, and imports `tornado.httpserver`, `tornado.httpclient`,
`tornado.netutil` and `tornado.process` only when a test needs them.
"""

import asyncio
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
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Coroutine,
    Dict,
    Optional,
    Tuple,
    Type,
    TypeVar,
    Union,
    overload,
)

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.log import app_log
from tornado.platform.asyncio import AsyncIOMainLoop
from tornado.util import raise_exc_info

if TYPE_CHECKING:
    from tornado.httpclient import AsyncHTTPClient, HTTPResponse
    from tornado.httpserver import HTTPServer

_T = TypeVar("_T")
_ExcInfo = Tuple[
    Optional[Type[BaseException]], Optional[BaseException], Optional[types.TracebackType]
]

# IOLoops that AsyncTestCase does not close at the end of a test, because it
# did not create their asyncio loop.
_NON_OWNED_IOLOOPS = AsyncIOMainLoop


def bind_unused_port(
    reuse_port: bool = False, address: str = "127.0.0.1"
) -> Tuple[socket.socket, int]:
    """Bind a listening, non-blocking socket to a free port of ``address``.

    Returns ``(socket, port)``.  Binds IPv4 only, on 127.0.0.1 by default.

    .. versionchanged:: 6.2
       Added the ``address`` argument.
    """
    from tornado import netutil

    sock = netutil.bind_sockets(
        0, address, family=socket.AF_INET, reuse_port=reuse_port
    )[0]
    port = sock.getsockname()[1]
    return sock, port


def get_async_test_timeout() -> float:
    """The default timeout of `AsyncTestCase.wait` and `gen_test`, in seconds.

    5, unless the ``ASYNC_TEST_TIMEOUT`` environment variable holds a number.
    """
    env = os.environ.get("ASYNC_TEST_TIMEOUT")
    if env is not None:
        try:
            return float(env)
        except ValueError:
            pass
    return 5


class AsyncTestCase(unittest.TestCase):
    """A `unittest.TestCase` whose tests run with their own `.IOLoop`.

    ``setUp`` creates ``self.io_loop`` (with `get_new_ioloop`) and makes its
    asyncio loop the thread's current one; ``tearDown`` cancels the asyncio
    tasks still pending, then closes the loop.  Subclasses that override
    ``setUp``/``tearDown`` must call the ``super()`` methods.

    Tests are either decorated with `gen_test` (a coroutine that the loop
    runs) or drive the loop themselves with `stop` and `wait`::

        def test_http_fetch(self):
            client = AsyncHTTPClient()
            self.io_loop.add_future(client.fetch("http://example.com/"), self.stop)
            response = self.wait().result()

    A test method that returns a generator or coroutine without `gen_test`
    (so that it would never run) is an error, as is one returning any other
    value.
    """

    def __init__(self, methodName: str = "runTest") -> None:
        super().__init__(methodName)
        self.__stopped = False
        self.__running = False
        self.__failure: Optional[_ExcInfo] = None
        self.__stop_args: Any = None
        self.__timeout: Optional[object] = None
        # The generator or coroutine of the running @gen_test method, so a
        # timeout can be raised at the point where the test is stuck.
        self._test_generator: Optional[Union[Generator[Any, Any, Any], Coroutine[Any, Any, Any]]] = None

    def setUp(self) -> None:
        super().setUp()
        self.io_loop = self.get_new_ioloop()
        asyncio.set_event_loop(self.io_loop.asyncio_loop)  # type: ignore[attr-defined]

    def tearDown(self) -> None:
        # Native coroutines left running complain ("Task was destroyed but
        # it is pending") when their loop closes: cancel them and let them
        # unwind first.
        asyncio_loop = self.io_loop.asyncio_loop  # type: ignore[attr-defined]
        if not asyncio_loop.is_closed():
            tasks = [t for t in asyncio.all_tasks(asyncio_loop) if not t.done()]
            for task in tasks:
                task.cancel()
            if tasks:
                done, pending = self.io_loop.run_sync(lambda: asyncio.wait(tasks))
                assert not pending
                for task in done:
                    try:
                        task.result()
                    except asyncio.CancelledError:
                        pass
        # A Subprocess watcher would otherwise outlive this loop.
        process = sys.modules.get("tornado.process")
        if process is not None:
            process.Subprocess.uninitialize()
        asyncio.set_event_loop(None)
        if not isinstance(self.io_loop, _NON_OWNED_IOLOOPS):
            # all_fds: a leaked socket must not spill into the next test.
            self.io_loop.close(all_fds=True)
        super().tearDown()
        # An exception from a wait() timeout that was not raised yet.
        self.__rethrow()

    def get_new_ioloop(self) -> IOLoop:
        """Return the `.IOLoop` for one test (a new one by default).

        Overriding this is rarely useful; returning a loop that the test
        case should not close is only supported for `.AsyncIOMainLoop`.
        """
        io_loop: IOLoop = IOLoop(make_current=False)
        return io_loop

    def _handle_exception(
        self, typ: Type[Exception], value: Exception, tb: types.TracebackType
    ) -> bool:
        if self.__failure is None:
            self.__failure = (typ, value, tb)
        else:
            app_log.error(
                "multiple unhandled exceptions in test", exc_info=(typ, value, tb)
            )
        self.stop()
        return True

    def __rethrow(self) -> None:
        if self.__failure is not None:
            failure = self.__failure
            self.__failure = None
            raise_exc_info(failure)

    def run(
        self, result: Optional[unittest.TestResult] = None
    ) -> Optional[unittest.TestResult]:
        ret = super().run(result)
        # Last resort: an exception that escaped both the test and tearDown
        # fails the run noisily rather than passing silently.
        self.__rethrow()
        return ret

    def _callTestMethod(self, method: Callable[..., Any]) -> None:
        # unittest only warns (3.11+) about a returned value; a generator or
        # coroutine returned here means the test body never ran at all.
        result = method()
        if isinstance(result, Generator) or inspect.iscoroutine(result):
            if inspect.iscoroutine(result):
                result.close()
            raise TypeError(
                "Generator and coroutine test methods should be"
                " decorated with tornado.testing.gen_test"
            )
        if result is not None:
            raise ValueError("Return value from test method ignored: %r" % result)

    def stop(self, _arg: Any = None, **kwargs: Any) -> None:
        """Stop the loop started by `wait`, making ``wait`` return.

        The keyword arguments, or the single positional one, become the
        return value of `wait`.  Calling ``stop`` before ``wait`` makes the
        next ``wait`` return at once.
        """
        assert _arg is None or not kwargs
        self.__stop_args = kwargs or _arg
        if self.__running:
            self.io_loop.stop()
            self.__running = False
        self.__stopped = True

    def wait(
        self,
        condition: Optional[Callable[..., bool]] = None,
        timeout: Optional[float] = None,
    ) -> Any:
        """Run the loop until `stop` is called or ``timeout`` seconds pass.

        Returns the value passed to `stop`.  On timeout the test fails
        (``self.failureException``).  With ``condition``, the loop keeps
        running after each `stop` until ``condition()`` is true.  The default
        timeout is `get_async_test_timeout`.
        """
        if timeout is None:
            timeout = get_async_test_timeout()
        if not self.__stopped:
            if timeout:

                def timeout_func() -> None:
                    try:
                        raise self.failureException(
                            "Async operation timed out after %s seconds" % timeout
                        )
                    except Exception:
                        self.__failure = sys.exc_info()
                    self.stop()

                self.__timeout = self.io_loop.add_timeout(
                    self.io_loop.time() + timeout, timeout_func
                )
            while True:
                self.__running = True
                self.io_loop.start()
                if self.__failure is not None or condition is None or condition():
                    break
            if self.__timeout is not None:
                self.io_loop.remove_timeout(self.__timeout)
                self.__timeout = None
        assert self.__stopped
        self.__stopped = False
        self.__rethrow()
        result = self.__stop_args
        self.__stop_args = None
        return result


class AsyncHTTPTestCase(AsyncTestCase):
    """An `AsyncTestCase` that serves an application over HTTP.

    Override `get_app` to return the `tornado.web.Application` (or other
    HTTP server callback) to test; ``setUp`` starts an `.HTTPServer` for it
    on an unused port of 127.0.0.1, and `fetch` requests it::

        class MyHTTPTest(AsyncHTTPTestCase):
            def get_app(self):
                return Application([("/", MyHandler)])

            def test_homepage(self):
                response = self.fetch("/")
                self.assertEqual(response.code, 200)
    """

    def setUp(self) -> None:
        super().setUp()
        sock, port = bind_unused_port()
        self.__port = port
        # The client first: get_app() may hand it to the application.
        self.http_client = self.get_http_client()
        self._app = self.get_app()
        self.http_server = self.get_http_server()
        self.http_server.add_sockets([sock])

    def get_http_client(self) -> "AsyncHTTPClient":
        """The client that `fetch` uses (by default `.AsyncHTTPClient()`)."""
        from tornado.httpclient import AsyncHTTPClient

        return AsyncHTTPClient()

    def get_http_server(self) -> "HTTPServer":
        """The server for the app, with `get_httpserver_options` applied."""
        from tornado.httpserver import HTTPServer

        return HTTPServer(self._app, **self.get_httpserver_options())

    def get_app(self) -> Any:
        """Return the application to test; subclasses must override this."""
        raise NotImplementedError()

    def fetch(
        self, path: str, raise_error: bool = False, **kwargs: Any
    ) -> "HTTPResponse":
        """Fetch ``path`` from the test server, synchronously.

        ``path`` is relative to the server (``"/index.html"``), or a full
        ``http(s)://`` URL, which is used as is.  Keyword arguments go to
        `.AsyncHTTPClient.fetch`.  Unlike that method, HTTP error statuses
        are returned as responses unless ``raise_error`` is true; errors that
        are not HTTP statuses (connection failures, timeouts) are always
        raised.  The timeout is `get_async_test_timeout`.
        """
        if path.lower().startswith(("http://", "https://")):
            url = path
        else:
            url = self.get_url(path)
        return self.io_loop.run_sync(  # type: ignore[no-any-return]
            lambda: self.http_client.fetch(url, raise_error=raise_error, **kwargs),
            timeout=get_async_test_timeout(),
        )

    def get_httpserver_options(self) -> Dict[str, Any]:
        """Keyword arguments for the `.HTTPServer` (``{}`` by default)."""
        return {}

    def get_http_port(self) -> int:
        """The port the test server listens on."""
        return self.__port

    def get_protocol(self) -> str:
        """The URL scheme of the test server: ``"http"``."""
        return "http"

    def get_url(self, path: str) -> str:
        """The absolute URL of ``path`` on the test server."""
        return "%s://127.0.0.1:%s%s" % (self.get_protocol(), self.get_http_port(), path)

    def tearDown(self) -> None:
        self.http_server.stop()
        self.io_loop.run_sync(
            self.http_server.close_all_connections, timeout=get_async_test_timeout()
        )
        self.http_client.close()
        # Release the app and server: test cases outlive their tests in the
        # runner, and these can hold a lot.
        del self.http_server
        del self._app
        super().tearDown()


class AsyncHTTPSTestCase(AsyncHTTPTestCase):
    """An `AsyncHTTPTestCase` whose server speaks HTTPS.

    The server uses a self-signed certificate (override `get_ssl_options` to
    supply your own), and the client does not validate it.
    """

    def get_http_client(self) -> "AsyncHTTPClient":
        from tornado.httpclient import AsyncHTTPClient

        return AsyncHTTPClient(force_instance=True, defaults=dict(validate_cert=False))

    def get_httpserver_options(self) -> Dict[str, Any]:
        return dict(ssl_options=self.get_ssl_options())

    def get_ssl_options(self) -> Dict[str, Any]:
        """The ``ssl_options`` of the test server (certificate and key)."""
        return AsyncHTTPSTestCase.default_ssl_options()

    @staticmethod
    def default_ssl_options() -> Dict[str, Any]:
        """The default ``ssl_options``: the test certificate shipped with Tornado.

        That is ``test/test.crt`` and ``test/test.key`` in the ``tornado``
        package directory.
        """
        package_dir = os.path.dirname(__file__)
        return dict(
            certfile=os.path.join(package_dir, "test", "test.crt"),
            keyfile=os.path.join(package_dir, "test", "test.key"),
        )

    def get_protocol(self) -> str:
        return "https"


@overload
def gen_test(
    *, timeout: Optional[float] = None
) -> Callable[[Callable[..., Union[Generator[Any, Any, Any], "Coroutine[Any, Any, Any]"]]], Callable[..., None]]:
    pass


@overload
def gen_test(func: Callable[..., Union[Generator[Any, Any, Any], "Coroutine[Any, Any, Any]"]]) -> Callable[..., None]:
    pass


def gen_test(
    func: Optional[Callable[..., Union[Generator[Any, Any, Any], "Coroutine[Any, Any, Any]"]]] = None,
    timeout: Optional[float] = None,
) -> Union[
    Callable[..., None],
    Callable[[Callable[..., Union[Generator[Any, Any, Any], "Coroutine[Any, Any, Any]"]]], Callable[..., None]],
]:
    """Run a test method that is a coroutine on the test case's IOLoop.

    The method may be a generator (as with `tornado.gen.coroutine`) or an
    ``async def``.  It fails with `TimeoutError` if it takes longer than
    ``timeout`` seconds (default: `get_async_test_timeout`, evaluated when
    the test runs); the traceback then points at the line where the test
    was waiting.  Usable bare (``@gen_test``) or with arguments
    (``@gen_test(timeout=10)``).
    """

    def wrap(f: Callable[..., Union[Generator[Any, Any, Any], "Coroutine[Any, Any, Any]"]]) -> Callable[..., None]:
        # Remember the generator/coroutine the test creates, so that on
        # timeout the error can be thrown into it (see below).
        @functools.wraps(f)
        def pre_coroutine(self: AsyncTestCase, *args: Any, **kwargs: Any) -> Any:
            result = f(self, *args, **kwargs)
            if isinstance(result, Generator) or inspect.iscoroutine(result):
                self._test_generator = result
            else:
                self._test_generator = None
            return result

        if inspect.iscoroutinefunction(f):
            coro: Callable[..., Any] = pre_coroutine
        else:
            coro = gen.coroutine(pre_coroutine)

        @functools.wraps(coro)
        def post_coroutine(self: AsyncTestCase, *args: Any, **kwargs: Any) -> None:
            limit = get_async_test_timeout() if timeout is None else timeout
            try:
                return self.io_loop.run_sync(  # type: ignore[no-any-return]
                    functools.partial(coro, self, *args, **kwargs), timeout=limit
                )
            except TimeoutError as e:
                # run_sync's traceback ends in the loop's internals.  Throw
                # the error into the test's generator instead, so that the
                # traceback shows the line the test was stuck on.  A native
                # coroutine may already have been cancelled (cr_running is
                # then False), in which case the original error must do.
                test_gen = self._test_generator
                if test_gen is not None and getattr(test_gen, "cr_running", True):
                    test_gen.throw(e)
                    # The test swallowed the error with a broad except
                    # clause: fall through and raise it anyway.
                raise

        return post_coroutine

    if func is not None:
        # @gen_test
        return wrap(func)
    # @gen_test(timeout=...)
    return wrap


# Without this, nose would try to run gen_test as a test.
gen_test.__test__ = False  # type: ignore[attr-defined]


class ExpectLog(logging.Filter):
    """Context manager that expects (and swallows) a matching log message.

    Useful for tests of error paths, whose logging would otherwise clutter
    the output::

        with ExpectLog("tornado.application", "Uncaught exception"):
            simulate_error()

    ``logger`` is a `logging.Logger` or its name; ``regex`` must match the
    beginning of the formatted message.  Matching records are dropped.  If
    ``required`` is true (the default), leaving the block without a match
    raises an exception (unless the block itself raised).

    ``level`` (e.g. ``logging.WARNING``) is the level the message is
    expected at; the logger is lowered to it for the block if needed, and a
    match at another level is let through with a warning.  Matching a
    message below WARNING without giving ``level`` is deprecated.

    .. versionchanged:: 6.1
       Added ``level``.
    """

    def __init__(
        self,
        logger: Union[logging.Logger, str],
        regex: str,
        required: bool = True,
        level: Optional[int] = None,
    ) -> None:
        if isinstance(logger, str):
            logger = logging.getLogger(logger)
        self.logger = logger
        self.regex = re.compile(regex)
        self.required = required
        # Number of records matched, and how many of those were at a level
        # below WARNING with no explicit ``level`` (the deprecated case).
        self.matched = 0
        self.deprecated_level_matched = 0
        self.logged_stack = False
        self.level = level
        self.orig_level: Optional[int] = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            self.logged_stack = True
        message = record.getMessage()
        if not self.regex.match(message):
            return True
        if self.level is None and record.levelno < logging.WARNING:
            # Warning about it here would be swallowed by the logging
            # machinery, so it is reported from __exit__.
            self.deprecated_level_matched += 1
        if self.level is not None and record.levelno != self.level:
            app_log.warning(
                "Got expected log message %r at unexpected level (%s vs %s)",
                message,
                logging.getLevelName(self.level),
                record.levelname,
            )
            return True
        self.matched += 1
        return False

    def __enter__(self) -> "ExpectLog":
        if self.level is not None and self.level < self.logger.getEffectiveLevel():
            self.orig_level = self.logger.level
            self.logger.setLevel(self.level)
        self.logger.addFilter(self)
        return self

    def __exit__(
        self,
        typ: "Optional[Type[BaseException]]",
        value: Optional[BaseException],
        tb: Optional[types.TracebackType],
    ) -> None:
        if self.orig_level is not None:
            self.logger.setLevel(self.orig_level)
        self.logger.removeFilter(self)
        if not typ and self.required and not self.matched:
            raise Exception("did not get expected log message")
        if (
            not typ
            and self.required
            and self.deprecated_level_matched >= self.matched
        ):
            warnings.warn(
                "ExpectLog matched at INFO or below without level argument",
                DeprecationWarning,
                stacklevel=2,
            )


def setup_with_context_manager(testcase: unittest.TestCase, cm: Any) -> Any:
    """Enter context manager ``cm`` for the rest of a test.

    Returns what ``cm.__enter__`` returns; ``cm`` is exited as a cleanup of
    ``testcase`` (`unittest.TestCase.addCleanup`).  Use it in ``setUp``.
    """
    value = cm.__enter__()
    testcase.addCleanup(cm.__exit__, None, None, None)
    return value


def main(**kwargs: Any) -> None:
    """Run tests from the command line, like `unittest.main`, with Tornado's options.

    Test names on the command line follow unittest's syntax
    (``module.Class.test``); without any, the module-level ``all()`` function
    of ``__main__`` must return the test suite.  Besides Tornado's logging
    options, ``--verbose``, ``--quiet``, ``--failfast``, ``--buffer`` and
    ``--exception_on_interrupt=false`` are understood.  Keyword arguments go
    to `unittest.main`.
    """
    from tornado.options import define, options, parse_command_line

    define(
        "exception_on_interrupt",
        type=bool,
        default=True,
        help=(
            "If true (default), ctrl-c raises a KeyboardInterrupt "
            "exception.  This prints a stack trace but cannot interrupt "
            "certain operations.  If false, the process is more reliably "
            "killed, but does not print a stack trace."
        ),
    )
    # These flags mirror unittest's own command line.
    define("verbose", type=bool)
    define("quiet", type=bool)
    define("failfast", type=bool)
    define("buffer", type=bool)

    argv = [sys.argv[0]] + parse_command_line(sys.argv)

    if not options.exception_on_interrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    if options.verbose is not None:
        kwargs["verbosity"] = 2
    if options.quiet is not None:
        kwargs["verbosity"] = 0
    if options.failfast is not None:
        kwargs["failfast"] = True
    if options.buffer is not None:
        kwargs["buffer"] = True

    if __name__ == "__main__" and len(argv) == 1:
        print("No tests specified", file=sys.stderr)
        sys.exit(1)
    # In unittest.main, module=None with test names means "import them by
    # name"; without names, the default test is __main__.all().
    if len(argv) > 1:
        unittest.main(module=None, argv=argv, **kwargs)
    else:
        unittest.main(defaultTest="all", argv=argv, **kwargs)


if __name__ == "__main__":
    main()
