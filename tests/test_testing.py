"""Tests for tornado.testing: AsyncTestCase, gen_test, ExpectLog, helpers."""

import asyncio
import logging
import os
import socket
import traceback
import unittest

import pytest

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.testing import (
    AsyncHTTPTestCase,
    AsyncTestCase,
    ExpectLog,
    bind_unused_port,
    gen_test,
    get_async_test_timeout,
    setup_with_context_manager,
)


def _run(case_class, name):
    result = unittest.TestResult()
    case_class(name).run(result)
    return result


def test_bind_unused_port_listens_on_loopback():
    sock, port = bind_unused_port()
    try:
        assert sock.getsockname() == ("127.0.0.1", port)
        client = socket.create_connection(("127.0.0.1", port))
        client.close()
    finally:
        sock.close()


def test_get_async_test_timeout(monkeypatch):
    monkeypatch.delenv("ASYNC_TEST_TIMEOUT", raising=False)
    assert get_async_test_timeout() == 5
    monkeypatch.setenv("ASYNC_TEST_TIMEOUT", "0.5")
    assert get_async_test_timeout() == 0.5
    monkeypatch.setenv("ASYNC_TEST_TIMEOUT", "not a number")
    assert get_async_test_timeout() == 5


class StopWaitTest(AsyncTestCase):
    def test_wait_returns_stop_arguments(self):
        self.io_loop.add_callback(self.stop, "positional")
        assert self.wait() == "positional"
        self.io_loop.add_callback(lambda: self.stop(a=1))
        assert self.wait() == {"a": 1}

    def test_wait_with_condition_keeps_running(self):
        counter = []

        def tick():
            counter.append(1)
            self.stop()
            if len(counter) < 3:
                self.io_loop.add_callback(tick)

        self.io_loop.add_callback(tick)
        self.wait(condition=lambda: len(counter) >= 3)
        assert len(counter) == 3

    def test_wait_timeout_fails_the_test(self):
        with pytest.raises(self.failureException, match="timed out after 0.01"):
            self.wait(timeout=0.01)

    def test_loop_is_current_and_owned(self):
        assert IOLoop.current() is self.io_loop
        assert asyncio.get_event_loop() is self.io_loop.asyncio_loop


def test_loop_closed_and_tasks_cancelled_after_test():
    cancelled = []

    class Case(AsyncTestCase):
        def test_leaves_a_task(self):
            async def forever():
                try:
                    await asyncio.sleep(100)
                except asyncio.CancelledError:
                    cancelled.append(True)
                    raise

            self.io_loop.add_callback(forever)
            self.io_loop.call_later(0.01, self.stop)
            self.wait()
            Case.loop = self.io_loop

    result = _run(Case, "test_leaves_a_task")
    assert result.wasSuccessful(), result.errors
    assert cancelled == [True]
    assert Case.loop.asyncio_loop.is_closed()


def test_undecorated_generator_and_return_values_are_errors():
    class Case(AsyncTestCase):
        def test_generator(self):
            yield

        def test_value(self):
            return 1

    result = _run(Case, "test_generator")
    assert "should be decorated" in result.errors[0][1]
    result = _run(Case, "test_value")
    assert "Return value from test method ignored" in result.errors[0][1]


class GenTestTest(AsyncTestCase):
    @gen_test
    def test_generator(self):
        assert (yield gen.sleep(0)) is None

    @gen_test
    async def test_native(self):
        assert await gen.sleep(0) is None

    @gen_test(timeout=10)
    def test_with_arguments(self):
        yield gen.moment

    def test_timeout_points_at_the_stuck_line(self):
        @gen_test(timeout=0.01)
        def stuck(self):
            yield gen.sleep(10)  # the line to blame

        with pytest.raises(TimeoutError):
            try:
                stuck(self)
            except TimeoutError:
                assert "the line to blame" in traceback.format_exc()
                raise

    def test_environment_timeout(self):
        @gen_test
        def slow(self):
            yield gen.sleep(10)

        old = os.environ.get("ASYNC_TEST_TIMEOUT")
        os.environ["ASYNC_TEST_TIMEOUT"] = "0.01"
        try:
            with pytest.raises(TimeoutError):
                slow(self)
        finally:
            if old is None:
                del os.environ["ASYNC_TEST_TIMEOUT"]
            else:
                os.environ["ASYNC_TEST_TIMEOUT"] = old


class ExpectLogTest(unittest.TestCase):
    def test_matching_record_is_swallowed(self):
        logger = logging.getLogger("tornado.test_expectlog")
        with self.assertNoLogs(logger, level="INFO"):
            with ExpectLog(logger, "expected") as expect:
                logger.error("expected message")
        assert expect.matched == 1

    def test_missing_record_raises(self):
        with pytest.raises(Exception, match="did not get expected log message"):
            with ExpectLog("tornado.test_expectlog", "never"):
                pass

    def test_not_required(self):
        with ExpectLog("tornado.test_expectlog", "never", required=False):
            pass

    def test_level_lowers_logger_and_is_restored(self):
        logger = logging.getLogger("tornado.test_expectlog.level")
        logger.setLevel(logging.WARNING)
        with ExpectLog(logger, "debug msg", level=logging.DEBUG) as expect:
            assert logger.level == logging.DEBUG
            logger.debug("debug msg")
        assert expect.matched == 1
        assert logger.level == logging.WARNING

    def test_low_level_without_level_argument_warns(self):
        logger = logging.getLogger("tornado.test_expectlog.info")
        logger.setLevel(logging.INFO)
        with pytest.warns(DeprecationWarning):
            with ExpectLog(logger, "info msg"):
                logger.info("info msg")

    def test_exception_in_block_is_not_masked(self):
        with pytest.raises(KeyError):
            with ExpectLog("tornado.test_expectlog", "never"):
                raise KeyError()


class SetupWithContextManagerTest(unittest.TestCase):
    def test_exits_on_cleanup(self):
        events = []

        class CM:
            def __enter__(self):
                events.append("enter")
                return "value"

            def __exit__(self, *args):
                events.append("exit")

        assert setup_with_context_manager(self, CM()) == "value"
        self.doCleanups()
        assert events == ["enter", "exit"]


class HTTPTestCaseTest(AsyncHTTPTestCase):
    def get_app(self):
        pytest.importorskip("tornado.web")
        from tornado.web import Application, RequestHandler

        class Hello(RequestHandler):
            def get(self):
                self.write("hello " + self.request.path)

        return Application([("/.*", Hello)])

    def test_fetch_relative_and_absolute(self):
        response = self.fetch("/a")
        assert response.code == 200 and response.body == b"hello /a"
        response = self.fetch(self.get_url("/b"))
        assert response.body == b"hello /b"
        assert self.get_url("/x") == "http://127.0.0.1:%d/x" % self.get_http_port()


def test_main_runs_named_tests(tmp_path):
    import subprocess
    import sys

    import tornado

    (tmp_path / "sample_tests.py").write_text(
        "from tornado.testing import AsyncTestCase, gen_test\n"
        "from tornado import gen\n"
        "class Sample(AsyncTestCase):\n"
        "    @gen_test\n"
        "    def test_ok(self):\n"
        "        yield gen.moment\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(tornado.__file__)), str(tmp_path)]
    )
    out = subprocess.run(
        [sys.executable, "-m", "tornado.testing", "--verbose", "sample_tests"],
        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "test_ok" in out.stderr and "OK" in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "tornado.testing"],
        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
    )
    assert out.returncode == 1 and "No tests specified" in out.stderr
