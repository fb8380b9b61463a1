"""Tests for tornado.queues: Queue, PriorityQueue, LifoQueue."""

import asyncio
from datetime import timedelta

import pytest

from tornado import queues
from tornado.testing import AsyncTestCase, gen_test


class QueueTest(AsyncTestCase):
    def test_maxsize_validation(self):
        with pytest.raises(TypeError):
            queues.Queue(maxsize=None)
        with pytest.raises(ValueError):
            queues.Queue(maxsize=-1)
        assert queues.Queue(3).maxsize == 3

    def test_nowait_methods(self):
        q = queues.Queue(1)
        with pytest.raises(queues.QueueEmpty):
            q.get_nowait()
        q.put_nowait("a")
        assert q.full() and q.qsize() == 1
        with pytest.raises(queues.QueueFull):
            q.put_nowait("b")
        assert q.get_nowait() == "a" and q.empty()

    @gen_test
    async def test_put_waits_while_full_and_get_while_empty(self):
        q = queues.Queue(1)
        await q.put(1)
        blocked_put = q.put(2)
        assert not blocked_put.done()
        assert await q.get() == 1
        await blocked_put
        assert await q.get() == 2
        getter = q.get()
        assert not getter.done()
        q.put_nowait(3)
        assert await getter == 3

    @gen_test
    async def test_timeouts(self):
        q = queues.Queue(1)
        with pytest.raises(TimeoutError):
            await q.get(timeout=timedelta(seconds=0.001))
        with pytest.raises(TimeoutError):
            await q.get(timeout=0)  # a deadline in the past
        q.put_nowait(1)
        with pytest.raises(TimeoutError):
            await q.put(2, timeout=timedelta(seconds=0.001))
        # The timed-out item was never put.
        assert q.get_nowait() == 1 and q.empty()

    @gen_test
    async def test_join_and_task_done(self):
        q = queues.Queue()
        with pytest.raises(ValueError):
            q.task_done()
        for i in range(3):
            q.put_nowait(i)
        seen = []

        async def consumer():
            async for item in q:
                seen.append(item)
                q.task_done()

        task = asyncio.ensure_future(consumer())
        await q.join(timeout=timedelta(seconds=5))
        assert seen == [0, 1, 2]
        task.cancel()

    def test_repr_and_str(self):
        q = queues.Queue(2)
        q.put_nowait("x")
        assert repr(q).startswith("<Queue at 0x")
        assert str(q) == "<Queue maxsize=2 queue=deque(['x']) tasks=1>"

    def test_priority_and_lifo_orders(self):
        pq = queues.PriorityQueue()
        for item in [(2, "b"), (0, "z"), (1, "a")]:
            pq.put_nowait(item)
        assert [pq.get_nowait() for _ in range(3)] == [(0, "z"), (1, "a"), (2, "b")]
        lq = queues.LifoQueue()
        for item in [1, 2, 3]:
            lq.put_nowait(item)
        assert [lq.get_nowait() for _ in range(3)] == [3, 2, 1]

    @gen_test
    async def test_producer_consumer(self):
        q = queues.Queue(maxsize=2)
        got = []

        async def consumer():
            while True:
                got.append(await q.get())
                q.task_done()

        task = asyncio.ensure_future(consumer())
        for i in range(10):
            await q.put(i)
        await q.join()
        task.cancel()
        assert got == list(range(10))
