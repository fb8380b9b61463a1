"""Tests for tornado.gen: decorated coroutines and the helpers for all coroutines."""

import asyncio
import contextvars
import datetime
import gc
import weakref

import pytest

from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.testing import AsyncTestCase, ExpectLog, gen_test


@gen.coroutine
def add_one_later(x):
    yield gen.moment
    return x + 1


@gen.coroutine
def fail_later(exc):
    yield gen.moment
    raise exc


class CoroutineTest(AsyncTestCase):
    def test_decorated_returns_future_and_marks_function(self):
        def plain():
            yield

        decorated = gen.coroutine(plain)
        assert decorated.__wrapped__ is plain
        assert decorated.__name__ == "plain"
        assert gen.is_coroutine_function(decorated)
        assert not gen.is_coroutine_function(plain)

    @gen_test
    def test_results_by_return_and_by_raise_return(self):
        @gen.coroutine
        def by_return():
            yield gen.moment
            return "r"

        @gen.coroutine
        def by_raise():
            raise gen.Return("R")

        @gen.coroutine
        def no_generator():
            return "plain"

        assert (yield by_return()) == "r"
        assert (yield by_raise()) == "R"
        assert (yield no_generator()) == "plain"

    @gen_test
    def test_exceptions_are_delivered_through_the_future(self):
        @gen.coroutine
        def sync_failure():
            return 1 / 0

        future = sync_failure()  # nothing raised here
        with pytest.raises(ZeroDivisionError):
            yield future

    @gen_test
    def test_cancelled_error_cancels_the_future(self):
        @gen.coroutine
        def cancels():
            yield gen.moment
            raise asyncio.CancelledError()

        future = cancels()
        with pytest.raises(asyncio.CancelledError):
            yield future
        assert future.cancelled()

    @gen_test
    def test_yield_an_exception_and_catch_it(self):
        @gen.coroutine
        def catches():
            try:
                yield fail_later(KeyError("x"))
            except KeyError:
                return "caught"

        assert (yield catches()) == "caught"

    @gen_test
    def test_no_spurious_exception_context(self):
        @gen.coroutine
        def raiser(n):
            raise ValueError(n)

        for n in range(2):
            try:
                yield raiser(n)
            except ValueError as e:
                assert e.__context__ is None

    @gen_test
    def test_bad_yield(self):
        @gen.coroutine
        def bad():
            yield 42

        with pytest.raises(gen.BadYieldError):
            yield bad()

    @gen_test
    def test_native_and_decorated_interoperate(self):
        async def native(x):
            return await add_one_later(x)

        @gen.coroutine
        def decorated():
            value = yield native(1)
            return value * 10

        assert (yield decorated()) == 20
        assert (yield asyncio.gather(add_one_later(1), add_one_later(2))) == [2, 3]

    @gen_test
    def test_moment_interleaves(self):
        order = []

        @gen.coroutine
        def worker(name):
            for _ in range(3):
                order.append(name)
                yield gen.moment

        yield [worker("a"), worker("b")]
        assert "".join(order) == "ababab"

    @gen_test
    async def test_moment_is_awaitable(self):
        order = []

        async def worker(name):
            for _ in range(2):
                order.append(name)
                await gen.moment

        await asyncio.gather(worker("a"), worker("b"))
        assert "".join(order) == "abab"

    @gen_test
    def test_done_futures_do_not_yield_to_the_loop(self):
        order = []
        ready = Future()
        ready.set_result(None)

        @gen.coroutine
        def worker(name, yieldable):
            for _ in range(3):
                order.append(name)
                yield yieldable

        yield [worker("a", gen.moment), worker("b", ready)]
        assert "".join(order) == "abbbaa"

    def test_contextvars_follow_the_coroutine(self):
        var = contextvars.ContextVar("var", default="unset")

        @gen.coroutine
        def child():
            before = var.get()
            yield gen.moment
            return before, var.get()

        @gen.coroutine
        def parent(value):
            var.set(value)
            token = var.set(value + "!")
            yield gen.moment
            var.reset(token)  # same context after resuming
            return (yield child())

        results = self.io_loop.run_sync(lambda: gen.multi([parent("x"), parent("y")]))
        assert results == [("x", "x"), ("y", "y")]
        assert var.get() == "unset"

    def test_finished_coroutine_frees_its_locals(self):
        class Marker:
            pass

        @gen.coroutine
        def inner():
            marker = Marker()
            self.ref = weakref.ref(marker)
            # A done future: the coroutine goes on synchronously.
            yield add_one_now()
            raise ValueError("with traceback")

        @gen.coroutine
        def add_one_now():
            return 1

        @gen.coroutine
        def outer():
            try:
                yield inner()
            except ValueError:
                pass

        gc.disable()
        try:
            self.io_loop.run_sync(outer)
            # Freed by reference counting alone: no cycle holds the frame.
            assert self.ref() is None
        finally:
            gc.enable()

    def test_failure_before_first_yield_leaves_no_cycle(self):
        # The exception stored in the future has a traceback through the
        # decorator's frame; that frame must not keep the future alive.
        class Marker:
            pass

        refs = []

        @gen.coroutine
        def plain():
            marker = Marker()
            refs.append(weakref.ref(marker))
            raise ValueError("plain")

        @gen.coroutine
        def generator():
            marker = Marker()
            refs.append(weakref.ref(marker))
            raise ValueError("generator")
            yield  # unreachable: makes this a generator function

        async def call_both():
            for fn in (plain, generator):
                future = fn()
                assert isinstance(future.exception(), ValueError)
                future_ref = weakref.ref(future)
                del future
                assert future_ref() is None

        gc.disable()
        try:
            self.io_loop.run_sync(call_both)
            assert [ref() for ref in refs] == [None, None]
        finally:
            gc.enable()

    def test_suspended_coroutines_are_collected_with_their_loop(self):
        loop = IOLoop(make_current=False)
        finalized = []
        refs = []

        @gen.coroutine
        def forever():
            try:
                while True:
                    yield gen.sleep(0.001)
            finally:
                finalized.append(True)

        @gen.coroutine
        def start():
            fut = forever()
            fut.cycle = fut
            refs.append(weakref.ref(fut))
            yield gen.sleep(0.01)

        loop.run_sync(start)
        loop.close()
        gc.collect()
        assert refs[0]() is None
        assert finalized == [True]

    @gen_test
    def test_runner_survives_gc_while_waiting(self):
        holder = []

        def resolve():
            gc.collect()
            holder[0]().set_result("alive")

        @gen.coroutine
        def waits():
            fut = Future()
            holder.append(weakref.ref(fut))
            self.io_loop.add_callback(resolve)
            return (yield fut)

        assert (yield waits()) == "alive"


class MultiTest(AsyncTestCase):
    @gen_test
    def test_list_and_dict(self):
        assert (yield [add_one_later(1), add_one_later(2)]) == [2, 3]
        assert (yield {"a": add_one_later(1), "b": add_one_later(5)}) == {"a": 2, "b": 6}
        assert (yield []) == []
        assert (yield {}) == {}

    @gen_test
    def test_mixed_children_and_duplicates(self):
        async def native():
            return "n"

        shared = add_one_later(0)
        result = yield gen.multi([shared, native(), gen.moment, shared])
        assert result == [1, "n", None, 1]

    @gen_test
    def test_first_error_raised_others_logged(self):
        with ExpectLog("tornado.application", "Multiple exceptions in yield list"):
            with pytest.raises(ValueError, match="first"):
                yield [fail_later(ValueError("first")), fail_later(KeyError("second"))]

    @gen_test
    def test_quiet_exceptions(self):
        with pytest.raises(ValueError):
            yield gen.multi(
                [fail_later(ValueError("1")), fail_later(ValueError("2"))],
                quiet_exceptions=ValueError,
            )

    @gen_test
    def test_cancelled_child(self):
        child = Future()
        child.cancel()
        outer = gen.multi([child, add_one_later(1)])
        with pytest.raises(asyncio.CancelledError):
            yield outer
        assert not outer.cancelled()


class WithTimeoutTest(AsyncTestCase):
    @gen_test
    def test_times_out_with_message(self):
        with pytest.raises(TimeoutError, match="^Timeout$"):
            yield gen.with_timeout(datetime.timedelta(seconds=0.01), Future())
        with pytest.raises(TimeoutError, match="^lazy$"):
            yield gen.with_timeout(
                self.io_loop.time() + 0.01, Future(), message=lambda: "lazy"
            )

    @gen_test
    def test_result_before_timeout(self):
        result = yield gen.with_timeout(
            datetime.timedelta(seconds=10), add_one_later(1), message=lambda: 1 / 0
        )
        assert result == 2

    @gen_test
    def test_late_failure_is_logged(self):
        inner = Future()
        with pytest.raises(TimeoutError):
            yield gen.with_timeout(datetime.timedelta(seconds=0.01), inner)
        with ExpectLog("tornado.application", "Exception in Future .* after timeout"):
            inner.set_exception(KeyError("late"))
            yield gen.moment
            yield gen.moment


class SleepAndWaitIteratorTest(AsyncTestCase):
    @gen_test
    def test_sleep(self):
        start = self.io_loop.time()
        assert (yield gen.sleep(0.01)) is None
        assert self.io_loop.time() >= start

    @gen_test
    def test_wait_iterator_order_of_completion(self):
        futures = [Future() for _ in range(3)]
        self.io_loop.add_callback(futures[2].set_result, "c")
        self.io_loop.call_later(0.01, futures[0].set_exception, KeyError("a"))
        self.io_loop.call_later(0.02, futures[1].set_result, "b")
        seen = []
        it = gen.WaitIterator(*futures)
        while not it.done():
            try:
                seen.append(((yield it.next()), it.current_index))
            except KeyError:
                seen.append(("error", it.current_index))
        assert seen == [("c", 2), ("error", 0), ("b", 1)]
        assert it.current_index is None and it.current_future is None

    @gen_test
    async def test_wait_iterator_async_for_with_keywords(self):
        a, b = Future(), Future()
        b.set_result(2)
        self.io_loop.add_callback(a.set_result, 1)
        seen = {}
        it = gen.WaitIterator(first=a, second=b)
        async for result in it:
            seen[it.current_index] = result
        assert seen == {"first": 1, "second": 2}

    def test_wait_iterator_rejects_mixed_arguments(self):
        with pytest.raises(ValueError):
            gen.WaitIterator(Future(), key=Future())


class ConvertYieldedTest(AsyncTestCase):
    def test_conversions(self):
        fut = Future()
        assert gen.convert_yielded(fut) is fut
        assert gen.convert_yielded(None) is gen.moment
        with pytest.raises(gen.BadYieldError):
            gen.convert_yielded(object())

    @gen_test
    def test_register_a_new_type(self):
        class Deferred:
            def __init__(self, value):
                self.value = value

        @gen.convert_yielded.register(Deferred)
        def _(d):
            f = Future()
            IOLoop.current().add_callback(f.set_result, d.value)
            return f

        assert (yield Deferred("converted")) == "converted"

    @gen_test
    def test_maybe_future(self):
        assert (yield gen.maybe_future(3)) == 3
        fut = Future()
        assert gen.maybe_future(fut) is fut
        fut.set_result(None)
