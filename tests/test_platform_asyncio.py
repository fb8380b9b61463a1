"""Tests for tornado.platform.asyncio: the IOLoop classes and the selector thread."""

import asyncio
import gc
import socket
import threading
import warnings

import pytest

import tornado.platform.asyncio as platform_asyncio
from tornado import gen
from tornado.ioloop import IOLoop
from tornado.platform.asyncio import (
    AddThreadSelectorEventLoop,
    AsyncIOLoop,
    AsyncIOMainLoop,
    SelectorThread,
    to_asyncio_future,
    to_tornado_future,
)


def test_asyncio_loop_owns_and_closes_its_loop():
    loop = AsyncIOLoop(make_current=False)
    assert not loop.is_current
    asyncio_loop = loop.asyncio_loop
    loop.close()
    assert asyncio_loop.is_closed()


def test_asyncio_loop_wraps_a_given_loop():
    asyncio_loop = asyncio.new_event_loop()
    loop = AsyncIOLoop(asyncio_loop=asyncio_loop, make_current=False)
    assert loop.asyncio_loop is asyncio_loop
    assert loop.selector_loop is asyncio_loop
    loop.close()
    assert asyncio_loop.is_closed()


def test_main_loop_map_is_pruned_of_closed_loops():
    def one_round():
        asyncio_loop = asyncio.new_event_loop()
        asyncio_loop.run_until_complete(_current())
        asyncio_loop.close()
        return asyncio_loop

    first = one_round()
    assert first in IOLoop._ioloop_for_asyncio
    second = one_round()
    # Creating the second wrapper dropped the first, closed, loop.
    assert first not in IOLoop._ioloop_for_asyncio
    assert second in IOLoop._ioloop_for_asyncio
    AsyncIOLoop(make_current=False).close()
    assert second not in IOLoop._ioloop_for_asyncio


async def _current():
    return IOLoop.current()


def test_explicit_main_loop_wraps_the_thread_loop():
    # Constructing a main loop explicitly wraps the thread's asyncio loop.
    asyncio_loop = asyncio.new_event_loop()
    asyncio.set_event_loop(asyncio_loop)
    try:
        main = AsyncIOMainLoop()
        assert main.asyncio_loop is asyncio_loop
        assert IOLoop.current() is main
    finally:
        asyncio.set_event_loop(None)
        asyncio_loop.close()


def test_adapters():
    async def main():
        @gen.coroutine
        def decorated():
            yield gen.moment
            return 7

        fut = to_asyncio_future(decorated())
        assert isinstance(fut, asyncio.Future)
        assert to_tornado_future(fut) is fut
        return await fut

    assert asyncio.run(main()) == 7


def test_any_thread_policy_is_lazy_and_deprecated():
    with pytest.warns(DeprecationWarning):
        policy_class = platform_asyncio.AnyThreadEventLoopPolicy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert platform_asyncio.AnyThreadEventLoopPolicy is policy_class
        original = asyncio.get_event_loop_policy()
        asyncio.set_event_loop_policy(policy_class())
        try:
            out = []

            def in_thread():
                loop = asyncio.get_event_loop()
                out.append(isinstance(loop, asyncio.AbstractEventLoop))
                loop.close()

            thread = threading.Thread(target=in_thread)
            thread.start()
            thread.join()
            assert out == [True]
        finally:
            asyncio.set_event_loop_policy(original)
    with pytest.raises(AttributeError):
        _ = platform_asyncio.NoSuchName


def _selector_roundtrip(selector, run):
    """Register a reader on a socketpair and check that it fires once."""
    a, b = socket.socketpair()
    a.setblocking(False)
    got = []
    done = asyncio.Event()

    def on_readable(arg):
        got.append((arg, a.recv(10)))
        selector.remove_reader(a)
        done.set()

    async def main():
        selector.add_reader(a, on_readable, "arg")
        b.send(b"ping")
        await asyncio.wait_for(done.wait(), 5)

    try:
        run(main())
    finally:
        a.close()
        b.close()
    assert got == [("arg", b"ping")]


def test_selector_thread_on_a_selector_loop():
    loop = asyncio.new_event_loop()
    selector = SelectorThread(loop)
    try:
        _selector_roundtrip(selector, loop.run_until_complete)
        assert selector._thread is not None and selector._thread.is_alive()
        assert selector in platform_asyncio._selector_loops
    finally:
        selector.close()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    assert not selector._thread.is_alive()
    assert selector not in platform_asyncio._selector_loops
    selector.close()  # idempotent


def test_selector_thread_stopped_by_shutdown_asyncgens():
    loop = asyncio.new_event_loop()
    selector = SelectorThread(loop)
    loop.run_until_complete(asyncio.sleep(0.01))
    thread = selector._thread
    assert thread.is_alive()
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    thread.join(5)
    assert not thread.is_alive()


def test_add_thread_selector_event_loop_delegates():
    real = asyncio.new_event_loop()
    wrapped = AddThreadSelectorEventLoop(real)
    assert wrapped.time() == pytest.approx(real.time(), abs=1)
    _selector_roundtrip(wrapped, real.run_until_complete)
    real.run_until_complete(real.shutdown_asyncgens())
    wrapped.close()
    wrapped.close()
    assert real.is_closed()


def test_selector_closed_before_its_thread_started():
    loop = asyncio.new_event_loop()
    selector = SelectorThread(loop)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert not selector._thread_manager_task.done()
    selector.close()
    loop.close()
    del selector
    gc.collect()  # nothing to report: no pending task, no unawaited coroutine


def test_handlers_through_the_selector_thread(monkeypatch):
    """The Windows code path: a loop without usable add_reader gets a thread."""
    monkeypatch.setattr(platform_asyncio.sys, "platform", "win32")
    monkeypatch.setattr(
        platform_asyncio.asyncio, "ProactorEventLoop", asyncio.SelectorEventLoop,
        raising=False,
    )
    loop = AsyncIOLoop(make_current=False)
    a, b = socket.socketpair()
    try:
        assert isinstance(loop.selector_loop, AddThreadSelectorEventLoop)
        got = []

        def handler(fd, events):
            got.append((fd.recv(10), events))
            loop.remove_handler(fd)
            loop.stop()

        loop.add_handler(a, handler, IOLoop.READ)
        loop.call_later(0.01, b.send, b"data")
        loop.call_later(5, loop.stop)
        loop.start()
        assert got == [(b"data", IOLoop.READ)]
    finally:
        loop.close()
        a.close()
        b.close()
    assert loop.selector_loop._selector._closed


def test_failed_construction_leaves_nothing_behind(monkeypatch):
    created = []
    real_new = platform_asyncio._new_asyncio_loop

    def spy(*args):
        loop = real_new(*args)
        created.append(loop)
        return loop

    monkeypatch.setattr(platform_asyncio, "_new_asyncio_loop", spy)
    with pytest.raises(TypeError):
        AsyncIOLoop(make_current=False, no_such_argument=True)
    assert created and created[0].is_closed()
    assert created[0] not in IOLoop._ioloop_for_asyncio


def test_selector_thread_survives_a_failing_callback():
    loop = asyncio.new_event_loop()
    errors = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context["exception"]))
    selector = SelectorThread(loop)
    a, b = socket.socketpair()
    a.setblocking(False)
    received = []
    second = asyncio.Event()

    def on_readable():
        received.append(a.recv(10))
        if len(received) == 1:
            raise ValueError("first callback fails")
        selector.remove_reader(a)
        second.set()

    async def main():
        selector.add_reader(a, on_readable)
        b.send(b"one")
        while not received:
            await asyncio.sleep(0.01)
        # The next round of select() must still happen after the failure.
        b.send(b"two")
        await asyncio.wait_for(second.wait(), 5)

    try:
        loop.run_until_complete(main())
    finally:
        selector.close()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        a.close()
        b.close()
    assert received == [b"one", b"two"]
    assert [type(e) for e in errors] == [ValueError]
