"""Tests for tornado.ioloop: current-loop rules, callbacks, run_sync, PeriodicCallback."""

import asyncio
import datetime
import logging
import os
import socket
import subprocess
import sys
import threading
import warnings
from unittest import mock

import pytest

from tornado import gen
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.platform.asyncio import AsyncIOLoop, AsyncIOMainLoop
from tornado.testing import AsyncTestCase, ExpectLog, gen_test


@pytest.fixture
def io_loop():
    loop = IOLoop(make_current=False)
    yield loop
    loop.close(all_fds=True)


# --- which loop is current -------------------------------------------------


def test_constructor_default_class():
    loop = IOLoop(make_current=False)
    try:
        assert type(loop) is AsyncIOLoop
        assert IOLoop._ioloop_for_asyncio[loop.asyncio_loop] is loop
    finally:
        loop.close()
    assert loop.asyncio_loop.is_closed()
    assert loop.asyncio_loop not in IOLoop._ioloop_for_asyncio


def test_current_inside_asyncio_run_is_a_main_loop():
    async def main():
        current = IOLoop.current()
        assert isinstance(current, AsyncIOMainLoop)
        assert current.asyncio_loop is asyncio.get_running_loop()
        # The same wrapper every time.
        assert IOLoop.current() is current
        return current

    current = asyncio.run(main())
    assert current.asyncio_loop.is_closed()


def test_current_while_running_is_the_running_loop(io_loop):
    seen = io_loop.run_sync(lambda: gen.maybe_future(IOLoop.current()))
    assert seen is io_loop


def test_make_current_and_clear_current_warn_and_work():
    loop = IOLoop(make_current=False)
    try:
        with pytest.warns(DeprecationWarning, match="make_current"):
            loop.make_current()
        assert IOLoop.current() is loop
        with pytest.warns(DeprecationWarning, match="clear_current"):
            IOLoop.clear_current()
        assert IOLoop.current(instance=False) is not loop
    finally:
        loop.close()


def test_make_current_true_is_undone_by_close():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        loop = IOLoop(make_current=True)
    assert IOLoop.current() is loop
    loop.close()
    assert IOLoop.current(instance=False) is not loop


def test_current_in_a_fresh_thread_creates_a_loop():
    def in_thread():
        assert IOLoop.current(instance=False) is None
        loop = IOLoop.current()
        try:
            return type(loop).__name__, asyncio.get_event_loop() is loop.asyncio_loop
        finally:
            loop.close()

    out = []
    thread = threading.Thread(target=lambda: out.append(in_thread()))
    thread.start()
    thread.join()
    assert out == [("AsyncIOMainLoop", True)]


def test_two_ioloops_for_one_asyncio_loop_are_refused():
    asyncio_loop = asyncio.new_event_loop()
    loop = IOLoop(asyncio_loop=asyncio_loop, make_current=False)
    try:
        with pytest.raises(RuntimeError):
            IOLoop(asyncio_loop=asyncio_loop, make_current=False)
        # The refused one did not unregister the first.
        assert IOLoop._ioloop_for_asyncio[asyncio_loop] is loop
    finally:
        loop.close()


def test_configure_refuses_non_asyncio_classes():
    class NotAsyncio(IOLoop):
        pass

    with pytest.raises(RuntimeError):
        IOLoop.configure(NotAsyncio)


def test_hello_world_in_subprocess():
    """The classic ``app.listen(port); IOLoop.current().start()`` works."""
    pytest.importorskip("tornado.web")
    script = """
import threading, urllib.request
import tornado.web
from tornado.ioloop import IOLoop
from tornado.testing import bind_unused_port

class Main(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, world")

sock, port = bind_unused_port()
sock.close()
app = tornado.web.Application([(r"/", Main)])
app.listen(port, "127.0.0.1")
result = []

def fetch():
    with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=10) as r:
        result.append(r.read().decode())
    loop.add_callback(loop.stop)

loop = IOLoop.current()
threading.Thread(target=fetch).start()
loop.start()
print(result[0], type(loop).__name__)
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=_repo_root(),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Hello, world AsyncIOMainLoop"


def _repo_root():
    import os

    import tornado

    return os.path.dirname(os.path.dirname(tornado.__file__))


# --- callbacks and handlers --------------------------------------------------


def test_callback_exception_is_logged_and_loop_goes_on(io_loop, caplog):
    seen = []
    io_loop.add_callback(lambda: 1 / 0)
    io_loop.add_callback(seen.append, "after")
    io_loop.add_callback(io_loop.stop)
    with caplog.at_level(logging.ERROR, logger="tornado.application"):
        io_loop.start()
    assert seen == ["after"]
    assert "Exception in callback" in caplog.text
    assert "ZeroDivisionError" in caplog.text


def test_failing_coroutine_callback_is_logged(io_loop, caplog):
    async def failing():
        raise KeyError("from coroutine")

    io_loop.add_callback(failing)
    io_loop.call_later(0.01, io_loop.stop)
    with caplog.at_level(logging.ERROR, logger="tornado.application"):
        io_loop.start()
    assert "KeyError" in caplog.text


def test_callbacks_returning_plain_values_are_ignored(io_loop, caplog):
    io_loop.add_callback(lambda: 42)
    io_loop.add_callback(lambda: {})
    io_loop.add_callback(io_loop.stop)
    with caplog.at_level(logging.ERROR):
        io_loop.start()
    assert caplog.text == ""


def test_add_callback_after_close_is_dropped():
    loop = IOLoop(make_current=False)
    loop.close()
    loop.add_callback(lambda: None)  # no exception


def test_add_future_with_concurrent_future(io_loop):
    import concurrent.futures

    async def wait(cf):
        fut = asyncio.get_running_loop().create_future()
        IOLoop.current().add_future(cf, lambda f: fut.set_result(f.result()))
        return await fut

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        cf = pool.submit(threading.get_ident)
        result = io_loop.run_sync(lambda: wait(cf))
    assert result != threading.get_ident()


def _note_and_stop(io_loop, got):
    """A handler that notes what it was called with, unregisters it and
    stops ``io_loop``."""

    def handler(fd, events):
        got.append(fd)
        io_loop.remove_handler(fd)
        io_loop.stop()

    return handler


def test_handler_receives_the_object_it_registered(io_loop):
    a, b = socket.socketpair()
    got = []
    try:
        io_loop.add_handler(a, _note_and_stop(io_loop, got), IOLoop.READ)
        b.send(b"x")
        io_loop.start()
        assert got == [a]
    finally:
        a.close()
        b.close()


def _pair_reusing(fileno):
    """A socketpair one of whose ends got descriptor ``fileno`` (freed just
    before), and the other end."""
    c, d = socket.socketpair()
    if c.fileno() == fileno:
        return c, d
    assert d.fileno() == fileno, "the kernel did not reuse the lowest free descriptor"
    return d, c


def test_registering_a_descriptor_twice_raises(io_loop):
    a, b = socket.socketpair()
    try:
        io_loop.add_handler(a, lambda fd, events: None, IOLoop.READ)
        with pytest.raises(ValueError, match="fd %d added twice" % a.fileno()):
            io_loop.add_handler(a, lambda fd, events: None, IOLoop.READ)
        # A bare number cannot be checked for having been closed: it stays
        # an error even after the socket behind the first one is gone.
        io_loop.add_handler(b.fileno(), lambda fd, events: None, IOLoop.READ)
        number = b.fileno()
        b.close()
        with pytest.raises(ValueError, match="added twice"):
            io_loop.add_handler(number, lambda fd, events: None, IOLoop.READ)
        io_loop.remove_handler(number)
    finally:
        io_loop.remove_handler(a)
        a.close()
        b.close()


@pytest.mark.parametrize("kind", ["socket", "file"])
def test_registration_of_an_object_closed_without_remove_handler_gives_way(io_loop, caplog, kind):
    # pyzmq's streams leave their registration behind when their socket is
    # closed under them (Jupyter's kernel connections do this); the next
    # socket to get that descriptor number must still be usable.
    if kind == "socket":
        stale, other = socket.socketpair()
        other.close()
    else:
        r, w = os.pipe()
        os.close(w)
        stale = os.fdopen(r, "rb", buffering=0)
    number = stale.fileno()
    io_loop.add_handler(stale, lambda fd, events: None, IOLoop.READ)
    stale.close()
    fresh, peer = _pair_reusing(number)
    got = []
    try:
        with caplog.at_level(logging.WARNING, logger="tornado.general"):
            io_loop.add_handler(fresh, _note_and_stop(io_loop, got), IOLoop.READ)
        assert "fd %d was still registered" % number in caplog.text
        peer.send(b"x")
        io_loop.start()
        assert got == [fresh]
    finally:
        fresh.close()
        peer.close()


def test_zmq_stream_after_a_socket_closed_under_its_stream(caplog):
    # What Jupyter Server does when a kernel goes away during a connection's
    # kernel_info exchange: the transient channel's zmq socket is closed
    # without ZMQStream.close(), and the next channel gets its descriptor.
    zmq = pytest.importorskip("zmq")
    from zmq.eventloop.zmqstream import ZMQStream

    async def main():
        ctx = zmq.Context()
        try:
            router = ctx.socket(zmq.ROUTER)
            router.bind("inproc://reuse")
            left = ctx.socket(zmq.DEALER)
            ZMQStream(left)
            number = left.FD
            left.close()
            # libzmq frees the descriptor from its own thread.
            for _ in range(200):
                dealer = ctx.socket(zmq.DEALER)
                if dealer.FD == number:
                    break
                dealer.close(linger=0)
                await asyncio.sleep(0.01)
            assert dealer.FD == number
            dealer.connect("inproc://reuse")
            received = asyncio.get_running_loop().create_future()
            ZMQStream(router).on_recv(received.set_result)
            ZMQStream(dealer).send(b"hello")
            identity, body = await asyncio.wait_for(received, 5)
            assert body == b"hello"
        finally:
            ctx.destroy(linger=0)

    with caplog.at_level(logging.WARNING, logger="tornado.general"):
        asyncio.run(main())
    assert "was still registered for <zmq.Socket(zmq.DEALER)" in caplog.text


def test_run_in_executor(io_loop):
    async def main():
        return await IOLoop.current().run_in_executor(None, threading.get_ident)

    assert io_loop.run_sync(main) != threading.get_ident()


# --- run_sync ---------------------------------------------------------------


def test_run_sync_values_and_errors(io_loop):
    async def ok():
        return "value"

    assert io_loop.run_sync(ok) == "value"
    assert io_loop.run_sync(lambda: None) is None
    with pytest.raises(gen.BadYieldError):
        io_loop.run_sync(lambda: 42)
    with pytest.raises(ZeroDivisionError):
        io_loop.run_sync(lambda: 1 / 0)


def test_run_sync_stopped_from_outside(io_loop):
    async def stop_early():
        IOLoop.current().stop()
        await asyncio.sleep(10)

    with pytest.raises(RuntimeError, match="Event loop stopped"):
        io_loop.run_sync(stop_early)


def test_timed_out_run_sync_does_not_stop_a_later_one(io_loop):
    # Regression: the first run_sync's future completes (it is cancelled)
    # during the second run, whose loop it used to stop prematurely.
    async def slow():
        await asyncio.sleep(10)

    with pytest.raises(TimeoutError):
        io_loop.run_sync(slow, timeout=0.01)

    async def two_iterations():
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        return "second"

    assert io_loop.run_sync(two_iterations) == "second"


# --- PeriodicCallback --------------------------------------------------------


def _schedule(pc, durations, start=1000.0):
    times = []
    now = start
    pc._next_timeout = start
    for d in durations:
        pc._update_next(now)
        times.append(pc._next_timeout)
        now = pc._next_timeout + d
    return times


def test_periodic_schedule_skips_overrun_periods():
    pc = PeriodicCallback(lambda: None, 1000)
    assert _schedule(pc, [0, 2.5, 0, 0]) == [1001, 1002, 1005, 1006]


def test_periodic_clock_going_backwards_still_advances():
    pc = PeriodicCallback(lambda: None, 1000)
    assert _schedule(pc, [-5, -5, 0]) == [1001, 1002, 1003]


def test_periodic_jitter_bounds():
    pc = PeriodicCallback(lambda: None, 1000, jitter=0.2)
    with mock.patch("random.random", lambda: 0.0):
        assert _schedule(pc, [0]) == [1000.9]
    with mock.patch("random.random", lambda: 1.0):
        assert _schedule(pc, [0]) == [1001.1]


def test_periodic_timedelta_and_validation():
    pc = PeriodicCallback(lambda: None, datetime.timedelta(seconds=2))
    assert pc.callback_time == 2000
    with pytest.raises(ValueError):
        PeriodicCallback(lambda: None, 0)


class PeriodicCallbackRunTest(AsyncTestCase):
    def test_runs_until_stopped(self):
        calls = []

        def callback():
            calls.append(1)
            if len(calls) == 3:
                pc.stop()
                self.stop()

        pc = PeriodicCallback(callback, 1)
        pc.start()
        assert pc.is_running()
        self.wait()
        assert not pc.is_running()
        assert len(calls) == 3

    def test_exception_is_logged_and_schedule_continues(self):
        calls = []

        def callback():
            calls.append(1)
            if len(calls) == 2:
                pc.stop()
                self.stop()
            raise ValueError("boom")

        pc = PeriodicCallback(callback, 1)
        with ExpectLog("tornado.application", "Exception in callback"):
            pc.start()
            self.wait()
        assert len(calls) == 2

    @gen_test
    async def test_awaitable_callback_runs_are_not_concurrent(self):
        active = []
        overlaps = []
        done = asyncio.Event()

        async def callback():
            overlaps.append(len(active))
            active.append(1)
            await asyncio.sleep(0.005)
            active.pop()
            if len(overlaps) == 3:
                pc.stop()
                done.set()

        pc = PeriodicCallback(callback, 1)
        pc.start()
        await done.wait()
        assert overlaps == [0, 0, 0]


def test_add_timeout_deadline_types(io_loop):
    import fractions

    fired = []
    io_loop.add_timeout(fractions.Fraction(0), fired.append, "real")
    io_loop.add_timeout(0, fired.append, "int")
    io_loop.call_later(0.01, io_loop.stop)
    io_loop.start()
    assert sorted(fired) == ["int", "real"]
    with pytest.raises(TypeError):
        io_loop.add_timeout("soon", lambda: None)
