"""Tests for tornado.concurrent: future helpers, chain_future, executors."""

import asyncio
import concurrent.futures
import logging
import threading

import pytest

from tornado.concurrent import (
    FUTURES,
    DummyExecutor,
    Future,
    chain_future,
    dummy_executor,
    future_add_done_callback,
    future_set_exc_info,
    future_set_exception_unless_cancelled,
    future_set_result_unless_cancelled,
    is_future,
    run_on_executor,
)
from tornado.ioloop import IOLoop


@pytest.fixture
def io_loop():
    loop = IOLoop(make_current=False)
    yield loop
    loop.close()


def test_future_is_asyncio_future():
    assert Future is asyncio.Future
    assert FUTURES == (asyncio.Future, concurrent.futures.Future)
    assert is_future(concurrent.futures.Future())
    assert not is_future(object())


def test_set_result_unless_cancelled():
    fut = concurrent.futures.Future()
    future_set_result_unless_cancelled(fut, 1)
    assert fut.result() == 1
    cancelled = concurrent.futures.Future()
    cancelled.cancel()
    future_set_result_unless_cancelled(cancelled, 1)  # no InvalidStateError
    assert cancelled.cancelled()


def test_exception_after_cancel_is_logged(caplog):
    fut = concurrent.futures.Future()
    fut.cancel()
    with caplog.at_level(logging.ERROR, logger="tornado.application"):
        future_set_exception_unless_cancelled(fut, ValueError("late"))
    assert "Exception after Future was cancelled" in caplog.text
    assert "ValueError: late" in caplog.text


def test_set_exc_info_requires_an_exception():
    fut = concurrent.futures.Future()
    with pytest.raises(Exception, match="no exception"):
        future_set_exc_info(fut, (None, None, None))
    try:
        raise KeyError("k")
    except KeyError:
        import sys

        future_set_exc_info(fut, sys.exc_info())
    with pytest.raises(KeyError):
        fut.result()


def test_add_done_callback_runs_at_once_when_done(io_loop):
    async def main():
        calls = []
        fut = Future()
        fut.set_result(None)
        future_add_done_callback(fut, calls.append)
        # asyncio's own add_done_callback would wait for the next iteration.
        assert calls == [fut]
        pending = Future()
        future_add_done_callback(pending, calls.append)
        pending.set_result(None)
        assert calls == [fut]
        await asyncio.sleep(0)
        assert calls == [fut, pending]

    io_loop.run_sync(main)


def test_chain_future_results_errors_and_cancellation(io_loop):
    async def main():
        a, b = Future(), Future()
        chain_future(a, b)
        a.set_result(3)
        assert await b == 3

        a, b = Future(), Future()
        chain_future(a, b)
        a.set_exception(ValueError("bad"))
        with pytest.raises(ValueError):
            await b

        a, b = Future(), Future()
        chain_future(a, b)
        a.cancel()
        with pytest.raises(asyncio.CancelledError):
            await b
        assert b.cancelled()

        # A target resolved meanwhile is left alone.
        a, b = Future(), Future()
        chain_future(a, b)
        b.set_result("first")
        a.set_result("second")
        await asyncio.sleep(0)
        assert b.result() == "first"

    io_loop.run_sync(main)


def test_chain_future_from_another_thread(io_loop):
    async def main():
        source = concurrent.futures.Future()
        target = Future()
        chain_future(source, target)
        threading.Thread(target=source.set_result, args=("threaded",)).start()
        return await target

    assert io_loop.run_sync(main) == "threaded"


def test_dummy_executor_runs_synchronously():
    assert isinstance(dummy_executor, DummyExecutor)
    fut = dummy_executor.submit(lambda x, y=0: x + y, 1, y=2)
    assert fut.done() and fut.result() == 3
    fut = dummy_executor.submit(lambda: 1 / 0)
    assert isinstance(fut.exception(), ZeroDivisionError)
    dummy_executor.shutdown()


class Worker:
    def __init__(self):
        self.executor = concurrent.futures.ThreadPoolExecutor(1)
        self._other = concurrent.futures.ThreadPoolExecutor(1)

    @run_on_executor
    def where(self, offset):
        return threading.get_ident() + offset

    @run_on_executor(executor="_other")
    def fail(self):
        raise RuntimeError("in worker")


def test_run_on_executor(io_loop):
    worker = Worker()

    async def main():
        ident = await worker.where(0)
        assert ident != threading.get_ident()
        with pytest.raises(RuntimeError, match="in worker"):
            await worker.fail()

    try:
        io_loop.run_sync(main)
    finally:
        worker.executor.shutdown()
        worker._other.shutdown()


def test_run_on_executor_argument_errors():
    with pytest.raises(ValueError):
        run_on_executor(lambda self: None, executor="x")
    with pytest.raises(ValueError):
        run_on_executor(bogus="x")
