"""The same timer, callback and fd-readiness behaviour on every poller.

Each test runs once per IOLoop class available on this machine: the default
`AsyncIOLoop`, and the explicit epoll, kqueue, select and uvloop ones.
Readiness is exercised with real socketpairs.
"""

import datetime
import importlib
import selectors
import socket
import subprocess
import sys
import threading

import pytest

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.platform.asyncio import AsyncIOLoop


def _available_pollers():
    found = [pytest.param(("tornado.platform.asyncio", "AsyncIOLoop"), id="default")]
    for module, cls, label in [
        ("tornado.platform.epoll", "EPollIOLoop", "epoll"),
        ("tornado.platform.kqueue", "KQueueIOLoop", "kqueue"),
        ("tornado.platform.select", "SelectIOLoop", "select"),
        ("tornado.platform.uvloop", "UVLoopIOLoop", "uvloop"),
    ]:
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        found.append(pytest.param((module, cls), id=label))
    return found


@pytest.fixture(params=_available_pollers())
def loop_class(request):
    module, cls = request.param
    return getattr(importlib.import_module(module), cls)


@pytest.fixture
def io_loop(loop_class):
    loop = loop_class(make_current=False)
    yield loop
    loop.close(all_fds=True)


@pytest.fixture
def socketpair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


EXPECTED_SELECTOR = {
    "EPollIOLoop": "EpollSelector",
    "KQueueIOLoop": "KqueueSelector",
    "SelectIOLoop": "SelectSelector",
}


def test_loop_uses_its_poller(io_loop):
    name = type(io_loop).__name__
    selector = getattr(io_loop.asyncio_loop, "_selector", None)
    if name in EXPECTED_SELECTOR:
        assert type(selector).__name__ == EXPECTED_SELECTOR[name]
    elif name == "AsyncIOLoop" and sys.platform.startswith("linux"):
        # The default is chosen explicitly, not left to asyncio's policy.
        assert isinstance(selector, selectors.EpollSelector)
    elif name == "UVLoopIOLoop":
        import uvloop

        assert isinstance(io_loop.asyncio_loop, uvloop.Loop)


def test_configure_by_name(loop_class):
    saved = IOLoop._save_configuration()
    try:
        IOLoop.configure(loop_class.__module__ + "." + loop_class.__name__)
        loop = IOLoop(make_current=False)
        try:
            assert type(loop) is loop_class
            assert loop.run_sync(lambda: gen.sleep(0)) is None
        finally:
            loop.close()
    finally:
        IOLoop._restore_configuration(saved)


def test_timers_fire_in_deadline_order(io_loop):
    fired = []
    now = io_loop.time()
    io_loop.call_at(now + 0.03, fired.append, "c")
    io_loop.call_later(0.01, fired.append, "a")
    io_loop.add_timeout(datetime.timedelta(seconds=0.02), fired.append, "b")
    io_loop.call_later(0.05, io_loop.stop)
    io_loop.start()
    assert fired == ["a", "b", "c"]


def test_removed_timeout_never_fires(io_loop):
    fired = []
    handle = io_loop.call_later(0.01, fired.append, "removed")
    io_loop.call_later(0.005, fired.append, "kept")
    io_loop.remove_timeout(handle)
    io_loop.call_later(0.03, io_loop.stop)
    io_loop.start()
    assert fired == ["kept"]


def test_timeout_kwargs_are_passed(io_loop):
    got = {}
    io_loop.call_later(0, got.update, a=1)
    io_loop.add_timeout(io_loop.time(), got.update, b=2)
    io_loop.add_callback(got.update, c=3)
    io_loop.call_later(0.01, io_loop.stop)
    io_loop.start()
    assert got == {"a": 1, "b": 2, "c": 3}


def test_callbacks_run_in_order(io_loop):
    seen = []
    for i in range(5):
        io_loop.add_callback(seen.append, i)
    io_loop.add_callback(io_loop.stop)
    io_loop.start()
    assert seen == [0, 1, 2, 3, 4]


def test_add_callback_from_another_thread_wakes_the_loop(io_loop):
    seen = []

    def other_thread():
        io_loop.add_callback(seen.append, threading.current_thread().name)
        io_loop.add_callback(io_loop.stop)

    thread = threading.Thread(target=other_thread, name="producer")
    io_loop.add_callback(thread.start)
    # A generous safety net; the loop is expected to stop at once.
    safety = io_loop.call_later(5, io_loop.stop)
    io_loop.start()
    io_loop.remove_timeout(safety)
    thread.join()
    assert seen == ["producer"]


def test_read_readiness(io_loop, socketpair):
    a, b = socketpair
    events_seen = []

    def on_read(fd, events):
        events_seen.append((fd, events))
        assert fd.recv(100) == b"ping"
        io_loop.remove_handler(fd)
        io_loop.stop()

    io_loop.add_handler(a, on_read, IOLoop.READ)
    io_loop.call_later(0.01, b.send, b"ping")
    io_loop.start()
    assert events_seen == [(a, IOLoop.READ)]


def test_write_readiness_and_update_handler(io_loop, socketpair):
    a, b = socketpair
    events_seen = []

    def handler(fd, events):
        events_seen.append(events)
        if events & IOLoop.WRITE:
            fd.send(b"x")
            # Writable forever: switch to reading to avoid a busy loop.
            io_loop.update_handler(fd, IOLoop.READ)
            io_loop.call_later(0.01, b.send, b"y")
        elif events & IOLoop.READ:
            assert fd.recv(10) == b"y"
            io_loop.stop()

    io_loop.add_handler(a.fileno(), lambda fd, ev: handler(a, ev), IOLoop.WRITE)
    io_loop.start()
    io_loop.remove_handler(a.fileno())
    assert events_seen == [IOLoop.WRITE, IOLoop.READ]
    assert b.recv(10) == b"x"


def test_removed_handler_is_not_called(io_loop, socketpair):
    a, b = socketpair
    calls = []
    io_loop.add_handler(a, lambda fd, ev: calls.append(ev), IOLoop.READ)
    io_loop.remove_handler(a)
    b.send(b"data")
    io_loop.call_later(0.02, io_loop.stop)
    io_loop.start()
    assert calls == []
    # Removing twice (or something never added) is harmless.
    io_loop.remove_handler(a)


def test_same_fd_twice_is_refused(io_loop, socketpair):
    a, _ = socketpair
    io_loop.add_handler(a, lambda fd, ev: None, IOLoop.READ)
    with pytest.raises(ValueError):
        io_loop.add_handler(a.fileno(), lambda fd, ev: None, IOLoop.READ)
    io_loop.remove_handler(a.fileno())


def test_close_all_fds_closes_registered_objects(loop_class):
    loop = loop_class(make_current=False)
    a, b = socket.socketpair()
    loop.add_handler(a, lambda fd, ev: None, IOLoop.READ)
    loop.close(all_fds=True)
    assert a.fileno() == -1
    b.close()


def test_run_sync_with_coroutines(io_loop):
    @gen.coroutine
    def decorated():
        yield gen.sleep(0.001)
        return "decorated"

    async def native():
        first = await decorated()
        second = await gen.sleep(0.001)
        return first, second

    assert io_loop.run_sync(native) == ("decorated", None)


def test_run_sync_timeout(io_loop):
    with pytest.raises(TimeoutError):
        io_loop.run_sync(lambda: gen.sleep(10), timeout=0.01)


def test_default_loop_class_is_explicit_on_linux():
    if not sys.platform.startswith("linux"):
        pytest.skip("epoll is the Linux default")
    loop = AsyncIOLoop(make_current=False)
    try:
        assert isinstance(loop.asyncio_loop._selector, selectors.EpollSelector)
    finally:
        loop.close()


def test_hello_world_pattern_in_subprocess(loop_class):
    """``IOLoop.configure(...)`` then ``IOLoop.current().start()`` serves a socket."""
    script = f"""
import socket
from tornado.ioloop import IOLoop
IOLoop.configure("{loop_class.__module__}.{loop_class.__name__}")
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(5)
listener.setblocking(False)
port = listener.getsockname()[1]

def on_connection(fd, events):
    conn, _ = fd.accept()
    conn.sendall(b"hello")
    conn.close()
    IOLoop.current().stop()

loop = IOLoop.current()
loop.add_handler(listener, on_connection, IOLoop.READ)
client = socket.create_connection(("127.0.0.1", port))
loop.start()
print(client.recv(100).decode(), type(loop).__name__)
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=_repo_root(),
    )
    assert out.returncode == 0, out.stderr
    # IOLoop.current() outside a running loop wraps asyncio's loop.
    assert out.stdout.split() == ["hello", "AsyncIOMainLoop"]


def _repo_root():
    import os

    import tornado

    return os.path.dirname(os.path.dirname(tornado.__file__))
