"""Tests for tornado.locks: Condition, Event, Semaphore, BoundedSemaphore, Lock."""

import asyncio
from datetime import timedelta

import pytest

from tornado import gen, locks
from tornado.testing import AsyncTestCase, gen_test


class ConditionTest(AsyncTestCase):
    @gen_test
    async def test_notify_wakes_in_fifo_order(self):
        cond = locks.Condition()
        order = []

        async def waiter(name):
            assert await cond.wait() is True
            order.append(name)

        tasks = [asyncio.ensure_future(waiter(n)) for n in "abc"]
        await gen.moment
        assert "waiters[3]" in repr(cond)
        cond.notify(2)
        await gen.sleep(0)
        await gen.moment
        assert order == ["a", "b"]
        cond.notify_all()
        await asyncio.gather(*tasks)
        assert order == ["a", "b", "c"]

    @gen_test
    async def test_timed_out_waiters_are_skipped_by_notify(self):
        cond = locks.Condition()
        early = cond.wait(timedelta(seconds=0.001))
        late = cond.wait()
        assert await early is False
        cond.notify(1)
        assert await late is True

    @gen_test
    async def test_timed_out_waiters_are_garbage_collected(self):
        cond = locks.Condition()
        for _ in range(101):
            cond.wait(timedelta(seconds=0.001))
        keeper = cond.wait()
        await gen.sleep(0.01)
        assert len(cond._waiters) == 1
        cond.notify()
        assert await keeper is True


class EventTest(AsyncTestCase):
    @gen_test
    async def test_set_clear_wait(self):
        event = locks.Event()
        assert repr(event) == "<Event clear>"
        waiting = asyncio.ensure_future(event.wait())
        await gen.moment
        assert not waiting.done()
        event.set()
        await waiting
        assert event.is_set() and repr(event) == "<Event set>"
        await event.wait()  # returns at once while set
        event.clear()
        with pytest.raises(TimeoutError):
            await event.wait(timedelta(seconds=0.001))
        await gen.moment
        await gen.moment
        assert not event._waiters  # the timed-out waiter was removed


class SemaphoreTest(AsyncTestCase):
    def test_value_validation_and_repr(self):
        with pytest.raises(ValueError):
            locks.Semaphore(-1)
        sem = locks.Semaphore(2)
        assert "unlocked,value:2" in repr(sem)
        sem.acquire()
        sem.acquire()
        assert "[locked]" in repr(sem)

    @gen_test
    async def test_acquire_waits_for_release(self):
        sem = locks.Semaphore(1)
        await sem.acquire()
        second = sem.acquire()
        assert not second.done()
        sem.release()
        await second
        with pytest.raises(TimeoutError):
            await sem.acquire(timedelta(seconds=0.001))

    @gen_test
    async def test_async_with_releases(self):
        sem = locks.Semaphore(1)
        async with sem:
            assert "locked" in repr(sem)
        assert sem.acquire().done()

    @gen_test
    def test_with_yield_acquire_releases(self):
        sem = locks.Semaphore(1)
        with (yield sem.acquire()):
            pass
        assert sem.acquire().done()

    def test_plain_with_is_refused(self):
        with pytest.raises(RuntimeError):
            with locks.Semaphore():
                pass

    def test_bounded_semaphore_refuses_extra_release(self):
        sem = locks.BoundedSemaphore(1)
        with pytest.raises(ValueError):
            sem.release()
        sem.acquire()
        sem.release()


class LockTest(AsyncTestCase):
    @gen_test
    async def test_mutual_exclusion_in_fifo_order(self):
        lock = locks.Lock()
        log = []

        async def worker(name):
            async with lock:
                log.append(name + "+")
                await gen.sleep(0.001)
                log.append(name + "-")

        await asyncio.gather(*(worker(n) for n in "abc"))
        assert log == ["a+", "a-", "b+", "b-", "c+", "c-"]

    def test_release_unlocked_raises(self):
        with pytest.raises(RuntimeError):
            locks.Lock().release()

    @gen_test
    def test_yielding_the_lock_itself_is_an_error(self):
        with pytest.raises(gen.BadYieldError):
            yield locks.Lock()
