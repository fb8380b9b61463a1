"""Tests for tornado.shutdown: graceful drain, signals, worker processes
and rolling restarts, with real sockets and real server processes.

The load generator (`Load`) is a small HTTP/1.1 keep-alive client that
accounts for every request: answered (2xx or not), refused (the connection
was never accepted), retried, or failed.  A request is retried, as RFC 9112
section 9.3.1 allows for idempotent ones, only when a reused keep-alive
connection ends before any byte of its response: the server never read
that request (which is what a keep-alive race looks like).  Anything else
that goes wrong with an accepted connection (reset, truncated response,
no response) is a failure.  wrk, when installed, is run as well.
"""

import asyncio
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from tornado import shutdown, web, websocket
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from support import run

REPO = Path(__file__).resolve().parent.parent
SERVER = Path(__file__).resolve().parent / "shutdown_server.py"
WRK = "/usr/bin/wrk"

REQUEST = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


# -- in-process drain ---------------------------------------------------


class _App:
    """An application with a fast page, a slow one, a long poll and a
    WebSocket echo, recording what its handlers saw."""

    def __init__(self) -> None:
        self.events: List[Any] = []
        self.wake = asyncio.Event()
        app = self

        class Fast(web.RequestHandler):
            def get(self) -> None:
                self.write("ok")

        class Slow(web.RequestHandler):
            async def get(self) -> None:
                await asyncio.sleep(float(self.get_argument("t")))
                self.write("slow done")

        class Poll(web.RequestHandler):
            async def get(self) -> None:
                await app.wake.wait()
                self.write("woken")

            def on_connection_close(self) -> None:
                app.events.append("poll-closed")

        class Echo(websocket.WebSocketHandler):
            def on_message(self, message: Any) -> None:
                self.write_message(message)

            def on_close(self) -> None:
                app.events.append(("ws-closed", self.close_code))

        self.application = web.Application(
            [("/", Fast), ("/slow", Slow), ("/poll", Poll), ("/ws", Echo)]
        )


async def _start() -> "tuple[HTTPServer, int, _App]":
    app = _App()
    server = HTTPServer(app.application)
    [sock] = bind_sockets(0, "127.0.0.1")
    server.add_sockets([sock])
    return server, sock.getsockname()[1], app


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str = "/") -> "tuple[int, Dict[str, str], bytes]":
    writer.write(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode())
    return await _read_response(reader)


async def _read_response(reader: asyncio.StreamReader) -> "tuple[int, Dict[str, str], bytes]":
    status = await reader.readline()
    if not status:
        raise EOFError("connection closed before a response")
    headers: Dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        # (Our pages are small and chunked in one piece, or empty.)
        body = b""
        while True:
            size = int((await reader.readline()).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if not size:
                break
            body += chunk[:-2]
    return int(status.split()[1]), headers, body


def test_idle_keepalive_closed_at_once() -> None:
    async def main() -> float:
        server, port, _ = await _start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        code, headers, _ = await _get(reader, writer)
        assert code == 200 and "connection" not in headers
        # Idle for longer than the drain's linger.
        await asyncio.sleep(0.8)
        start = time.monotonic()
        drained = asyncio.ensure_future(shutdown.drain(server, timeout=10))
        assert await asyncio.wait_for(reader.read(), 5) == b""
        closed = time.monotonic() - start
        await drained
        writer.close()
        return closed

    assert run(main) < 0.4


def test_request_right_after_a_response_is_still_served() -> None:
    # A keep-alive client that has just had a response is probably
    # sending its next request: the drain lets it come (and answers it,
    # as the last) rather than lose it.
    async def main() -> None:
        server, port, _ = await _start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert (await _get(reader, writer))[0] == 200
        drained = asyncio.ensure_future(shutdown.drain(server, timeout=10))
        await asyncio.sleep(0.2)
        code, headers, body = await _get(reader, writer)
        assert (code, body, headers["connection"]) == (200, b"ok", "close")
        assert await reader.read() == b""
        await asyncio.wait_for(drained, 5)
        writer.close()

    run(main)


def test_drain_over_tls() -> None:
    certs = Path(__file__).resolve().parent / "httpserver_data"

    async def main() -> float:
        app = _App()
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(str(certs / "test.crt"), str(certs / "test.key"))
        server = HTTPServer(app.application, ssl_options=server_ctx)
        [sock] = bind_sockets(0, "127.0.0.1")
        server.add_sockets([sock])
        port = sock.getsockname()[1]
        client_ctx = ssl.create_default_context()
        client_ctx.check_hostname = False
        client_ctx.verify_mode = ssl.CERT_NONE
        idle_r, idle_w = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx)
        assert (await _get(idle_r, idle_w))[0] == 200
        busy_r, busy_w = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx)
        await asyncio.sleep(0.8)
        busy_w.write(b"GET /slow?t=0.5 HTTP/1.1\r\nHost: t\r\n\r\n")
        await asyncio.sleep(0.1)
        start = time.monotonic()
        drained = asyncio.ensure_future(shutdown.drain(server, timeout=10))
        assert await asyncio.wait_for(idle_r.read(), 5) == b""
        closed = time.monotonic() - start
        code, headers, body = await _read_response(busy_r)
        assert (code, body, headers["connection"]) == (200, b"slow done", "close")
        await asyncio.wait_for(drained, 5)
        for w in (idle_w, busy_w):
            w.close()
        return closed

    assert run(main) < 0.4


def test_request_in_flight_finishes_with_connection_close() -> None:
    async def main() -> None:
        server, port, _ = await _start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /slow?t=0.5 HTTP/1.1\r\nHost: t\r\n\r\n")
        await asyncio.sleep(0.2)
        drained = asyncio.ensure_future(shutdown.drain(server, timeout=10))
        await asyncio.sleep(0.05)
        # Nothing is accepted any more.
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)
        code, headers, body = await _read_response(reader)
        assert (code, body) == (200, b"slow done")
        assert headers["connection"] == "close"
        assert await reader.read() == b""
        await asyncio.wait_for(drained, 5)
        writer.close()

    run(main)


def test_queued_and_fresh_connections_are_served() -> None:
    async def main() -> None:
        server, port, _ = await _start()
        # Connections the kernel has completed but the loop has not
        # accepted yet (nothing runs it meanwhile), their requests sent.
        queued = []
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(REQUEST)
            queued.append(s)
        # And one that connects and sends its request a moment later.
        late = socket.create_connection(("127.0.0.1", port))
        drained = asyncio.ensure_future(shutdown.drain(server, timeout=10))
        await asyncio.sleep(0.2)
        late.sendall(REQUEST)
        for s in queued + [late]:
            s.setblocking(False)
            reader, writer = await asyncio.open_connection(sock=s)
            code, headers, body = await _read_response(reader)
            assert (code, body, headers["connection"]) == (200, b"ok", "close")
            writer.close()
        await asyncio.wait_for(drained, 5)

    run(main)


def test_long_poll_that_finishes_in_time_gets_its_response() -> None:
    async def main() -> None:
        server, port, app = await _start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /poll HTTP/1.1\r\nHost: t\r\n\r\n")
        await asyncio.sleep(0.2)
        drained = asyncio.ensure_future(shutdown.drain(server, timeout=10))
        await asyncio.sleep(0.3)
        app.wake.set()
        code, headers, body = await _read_response(reader)
        assert (code, body, headers["connection"]) == (200, b"woken", "close")
        await asyncio.wait_for(drained, 5)
        writer.close()

    run(main)


def test_long_poll_closed_cleanly_at_the_timeout() -> None:
    async def main() -> float:
        server, port, app = await _start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /poll HTTP/1.1\r\nHost: t\r\n\r\n")
        await asyncio.sleep(0.2)
        start = time.monotonic()
        await shutdown.drain(server, timeout=1.0)
        took = time.monotonic() - start
        # A clean end: the connection closes (FIN, not a reset), without
        # a partial response.
        assert await reader.read() == b""
        assert app.events == ["poll-closed"]
        writer.close()
        return took

    took = run(main)
    assert 0.9 < took < 3


def test_websocket_gets_going_away() -> None:
    async def main() -> None:
        server, port, app = await _start()
        ws = await websocket.websocket_connect(f"ws://127.0.0.1:{port}/ws")
        await ws.write_message("hi")
        assert await ws.read_message() == "hi"
        start = time.monotonic()
        drained = asyncio.ensure_future(shutdown.drain(server, timeout=10))
        assert await ws.read_message() is None
        assert (ws.close_code, ws.close_reason) == (1001, "going away")
        await asyncio.wait_for(drained, 5)
        assert time.monotonic() - start < 2
        assert app.events == [("ws-closed", 1001)]

    run(main)


def test_drain_waits_for_every_connection_and_twice_is_harmless() -> None:
    async def main() -> None:
        server, port, _ = await _start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /slow?t=0.6 HTTP/1.1\r\nHost: t\r\n\r\n")
        await asyncio.sleep(0.1)
        start = time.monotonic()
        await shutdown.drain(server, timeout=10)
        assert time.monotonic() - start > 0.4
        assert not server._connections
        code, _, body = await _read_response(reader)
        assert (code, body) == (200, b"slow done")
        await shutdown.drain(server, timeout=10)
        writer.close()

    run(main)


def test_drain_on_signal_drains_and_ignores_a_second_signal() -> None:
    async def main() -> int:
        server, port, _ = await _start()
        waiting = asyncio.ensure_future(shutdown.drain_on_signal(server, timeout=10))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /slow?t=0.8 HTTP/1.1\r\nHost: t\r\n\r\n")
        await asyncio.sleep(0.2)
        assert not waiting.done()
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.2)
        # Once the drain is under way another signal changes nothing.
        os.kill(os.getpid(), signal.SIGTERM)
        code, headers, body = await _read_response(reader)
        assert (code, body, headers["connection"]) == (200, b"slow done", "close")
        signum = await asyncio.wait_for(waiting, 5)
        writer.close()
        # The handlers are gone again.
        loop = asyncio.get_running_loop()
        assert not loop.remove_signal_handler(signal.SIGTERM)
        return signum

    assert run(main) == signal.SIGINT


# -- server processes ----------------------------------------------------


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """tests/shutdown_server.py in a child process; its output lines are
    collected as they come."""

    def __init__(self, port: int, *args: str, ready: int = 1) -> None:
        self.lines: List[str] = []
        self._ready_count = ready
        self._args = [sys.executable, str(SERVER), "--port", str(port), *args]
        self.proc: Optional[asyncio.subprocess.Process] = None
        self.exited: Optional[float] = None

    async def start(self) -> "ServerProcess":
        self.proc = await asyncio.create_subprocess_exec(
            *self._args, env=_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.ensure_future(self._read())
        deadline = time.monotonic() + 20
        while sum(line.startswith("ready") for line in self.lines) < self._ready_count:
            assert self.proc.returncode is None, self.lines
            assert time.monotonic() < deadline, self.lines
            await asyncio.sleep(0.05)
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.lines.append(line.decode().rstrip())

    def signal(self, signum: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    async def wait(self, timeout: float) -> int:
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        self.exited = time.monotonic()
        await self._reader
        return code


class Load:
    """``connections`` keep-alive clients, each sending ``GET /`` in a loop
    until `stop`; see the module docstring for the accounting."""

    def __init__(self, port: int, connections: int = 100) -> None:
        self.port = port
        self.connections = connections
        self.ok = self.non_2xx = self.refused = self.retried = self.reconnects = 0
        self.failures: List[str] = []
        self._stopping = False
        self._tasks: "list[asyncio.Task[None]]" = []

    def start(self) -> "Load":
        self._tasks = [asyncio.ensure_future(self._client()) for _ in range(self.connections)]
        return self

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.gather(*self._tasks)

    def summary(self) -> str:
        return (
            f"ok={self.ok} non_2xx={self.non_2xx} refused={self.refused} retried={self.retried} "
            f"reconnects={self.reconnects} failures={len(self.failures)} {self.failures[:5]}"
        )

    async def _client(self) -> None:
        writer: Optional[asyncio.StreamWriter] = None
        reader: Optional[asyncio.StreamReader] = None
        reused = False
        while not self._stopping:
            if writer is None:
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except ConnectionRefusedError:
                    self.refused += 1
                    await asyncio.sleep(0.01)
                    continue
                except OSError as e:
                    self.failures.append(f"connect: {e!r}")
                    await asyncio.sleep(0.01)
                    continue
                reused = False
            assert reader is not None
            got_bytes = False
            try:
                writer.write(REQUEST)
                status = await reader.readline()
                if not status:
                    raise EOFError()
                got_bytes = True
                code, headers, body = await _read_rest(reader, status)
            except (OSError, EOFError, asyncio.IncompleteReadError, ValueError) as e:
                writer.close()
                writer = None
                if reused and not got_bytes:
                    self.retried += 1
                else:
                    self.failures.append(f"{'reused' if reused else 'fresh'} connection: {e!r}")
                continue
            if 200 <= code < 300 and body == b"ok":
                self.ok += 1
            else:
                self.non_2xx += 1
            if headers.get("connection", "").lower() == "close":
                await reader.read()
                writer.close()
                writer = None
                self.reconnects += 1
            else:
                reused = True
        if writer is not None:
            writer.close()


async def _read_rest(reader: asyncio.StreamReader, status: bytes) -> "tuple[int, Dict[str, str], bytes]":
    headers: Dict[str, str] = {}
    while True:
        line = await reader.readline()
        if not line:
            raise EOFError("truncated head")
        if line == b"\r\n":
            break
        name, _, value = line.decode("latin1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers["content-length"]))
    return int(status.split()[1]), headers, body


def _wrk(port: int, seconds: int, path: str = "/") -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [WRK, "-t2", "-c100", f"-d{seconds}s", f"http://127.0.0.1:{port}{path}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _wrk_figures(output: str) -> Dict[str, int]:
    """Requests, socket errors and non-2xx answers from wrk's report."""
    figures = {"connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0}
    figures["requests"] = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if errors:
        for name, value in zip(("connect", "read", "write", "timeout"), errors.groups(), strict=True):
            figures[name] = int(value)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        figures["non2xx"] = int(non2xx.group(1))
    return figures


DRAIN_TIMEOUT = 10.0


def test_sigterm_under_load_loses_no_accepted_request() -> None:
    port = _free_port()

    async def main() -> None:
        server = await ServerProcess(port, "--timeout", str(DRAIN_TIMEOUT)).start()
        load = Load(port).start()
        # A slow request and a long poll in flight, and an open WebSocket.
        slow_r, slow_w = await asyncio.open_connection("127.0.0.1", port)
        slow_w.write(b"GET /slow?t=3 HTTP/1.1\r\nHost: t\r\n\r\n")
        poll_r, poll_w = await asyncio.open_connection("127.0.0.1", port)
        poll_w.write(b"GET /poll HTTP/1.1\r\nHost: t\r\n\r\n")
        ws = await websocket.websocket_connect(f"ws://127.0.0.1:{port}/ws")
        await asyncio.sleep(1.5)
        before = load.ok
        signalled = time.monotonic()
        server.signal(signal.SIGTERM)
        code = await server.wait(DRAIN_TIMEOUT + 10)
        took = server.exited - signalled  # type: ignore[operator]
        await asyncio.sleep(0.2)
        await load.stop()
        print(f"\nSIGTERM under load: {load.summary()}; {load.ok - before} answered after the signal; "
              f"exit after {took:.2f} s")
        assert code == 0, server.lines
        assert load.ok > 100
        assert load.failures == [] and load.non_2xx == 0, load.summary()
        # Every connection ended cleanly: the slow request got its
        # response; the long poll (never woken) saw the connection close
        # at the timeout, without a partial response; the WebSocket got
        # 1001.
        status, headers, body = await _read_response(slow_r)
        assert (status, body, headers["connection"]) == (200, b"slow done", "close")
        assert await poll_r.read() == b""
        assert await ws.read_message() is None and ws.close_code == 1001
        assert "poll-closed" in server.lines and "ws-closed 1001" in server.lines
        # The timeout bounds the drain (the long poll held it that long).
        assert DRAIN_TIMEOUT - 1 < took < DRAIN_TIMEOUT + 5
        slow_w.close()
        poll_w.close()

    run(main, timeout=60)


@pytest.mark.skipif(not os.path.exists(WRK), reason="wrk is not installed")
def test_sigterm_under_wrk_load() -> None:
    port = _free_port()

    async def main() -> None:
        server = await ServerProcess(port, "--timeout", str(DRAIN_TIMEOUT)).start()
        wrk = _wrk(port, 4)
        await asyncio.sleep(2)
        signalled = time.monotonic()
        server.signal(signal.SIGTERM)
        code = await server.wait(DRAIN_TIMEOUT + 10)
        took = server.exited - signalled  # type: ignore[operator]
        output = await asyncio.get_running_loop().run_in_executor(None, lambda: wrk.communicate()[0])
        figures = _wrk_figures(output)
        print(f"\nSIGTERM under wrk -c100: {figures}; exit after {took:.2f} s")
        assert code == 0
        # No accepted request failed: no read error (reset or truncated
        # response), no timeout, no error status.  (Connect and write
        # errors are wrk's new connections refused once the server had
        # stopped listening: wrk reports a refused non-blocking connect as
        # either.)
        assert figures["read"] == figures["timeout"] == figures["non2xx"] == 0, output
        assert took < 5

    run(main, timeout=60)


def test_fork_processes_children_drain_on_sigterm_to_the_parent() -> None:
    port = _free_port()

    async def main() -> None:
        parent = await ServerProcess(port, "--procs", "2", "--timeout", str(DRAIN_TIMEOUT), ready=2).start()
        load = Load(port, connections=20).start()
        slow = []
        for _ in range(4):
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"GET /slow?t=1.5 HTTP/1.1\r\nHost: t\r\n\r\n")
            slow.append((r, w))
        await asyncio.sleep(1)
        signalled = time.monotonic()
        parent.signal(signal.SIGTERM)
        code = await parent.wait(DRAIN_TIMEOUT + 10)
        took = parent.exited - signalled  # type: ignore[operator]
        await load.stop()
        print(f"\nfork_processes(2), SIGTERM to the parent: {load.summary()}; exit after {took:.2f} s")
        assert code == 0, parent.lines
        assert len([line for line in parent.lines if line.startswith("drained")]) == 2, parent.lines
        assert load.failures == [] and load.non_2xx == 0, load.summary()
        for r, w in slow:
            status, headers, body = await _read_response(r)
            assert (status, body, headers["connection"]) == (200, b"slow done", "close")
            w.close()
        assert took < DRAIN_TIMEOUT

    run(main, timeout=60)


@pytest.mark.parametrize("procs", [0, 2], ids=["one-process", "fork_processes-2"])
def test_rolling_restart_with_reuse_port(procs: int) -> None:
    # One server process replaced by another; or a fork_processes group
    # of two workers replaced by a new group (SIGTERM to its parent).
    port = _free_port()
    args = ("--reuse-port", "--procs", str(procs))
    ready = procs or 1

    async def main() -> None:
        old = await ServerProcess(port, *args, ready=ready).start()
        load = Load(port).start()
        await asyncio.sleep(1.5)
        new = await ServerProcess(port, *args, ready=ready).start()
        await asyncio.sleep(0.5)
        old.signal(signal.SIGTERM)
        assert await old.wait(DRAIN_TIMEOUT + 10) == 0
        at_switch = load.ok
        await asyncio.sleep(1.5)
        await load.stop()
        new.signal(signal.SIGTERM)
        assert await new.wait(DRAIN_TIMEOUT + 10) == 0
        print(f"\nrolling restart ({procs} workers): {load.summary()}; {load.ok - at_switch} answered after the old server exited")
        assert load.ok - at_switch > 50
        assert load.refused == 0 and load.non_2xx == 0 and load.failures == [], load.summary()

    run(main, timeout=60)


@pytest.mark.skipif(not os.path.exists(WRK), reason="wrk is not installed")
def test_rolling_restart_under_wrk_load() -> None:
    port = _free_port()

    async def main() -> None:
        old = await ServerProcess(port, "--reuse-port").start()
        wrk = _wrk(port, 5)
        await asyncio.sleep(1.5)
        new = await ServerProcess(port, "--reuse-port").start()
        await asyncio.sleep(0.5)
        old.signal(signal.SIGTERM)
        assert await old.wait(DRAIN_TIMEOUT + 10) == 0
        output = await asyncio.get_running_loop().run_in_executor(None, lambda: wrk.communicate()[0])
        new.signal(signal.SIGTERM)
        assert await new.wait(DRAIN_TIMEOUT + 10) == 0
        figures = _wrk_figures(output)
        print(f"\nrolling restart under wrk -c100: {figures}")
        assert figures["requests"] > 1000
        assert all(figures[k] == 0 for k in ("connect", "read", "write", "timeout", "non2xx")), output

    run(main, timeout=60)


def test_drain_http2_goaway_lets_streams_finish() -> None:
    # An HTTP/2 connection gets GOAWAY: the stream in flight finishes, the
    # drain returns once the connection is gone, and a WebSocket on the
    # same server (over HTTP/1.1) gets 1001.
    pytest.importorskip("h2")
    from tornado.simple_httpclient import SimpleAsyncHTTPClient

    async def main() -> None:
        app = _App()
        server = HTTPServer(app.application, http2=True)
        [sock] = bind_sockets(0, "127.0.0.1")
        server.add_sockets([sock])
        port = sock.getsockname()[1]
        client = SimpleAsyncHTTPClient(force_instance=True, http2="prior_knowledge")
        ws = await websocket.websocket_connect("ws://127.0.0.1:%d/ws" % port)
        try:
            first = await client.fetch("http://127.0.0.1:%d/" % port)
            assert first.body == b"ok"
            slow = asyncio.ensure_future(client.fetch("http://127.0.0.1:%d/slow?t=0.5" % port))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            await asyncio.wait_for(shutdown.drain(server, timeout=10), 5)
            assert time.monotonic() - started < 3
            response = await slow
            assert (response.code, response.body) == (200, b"slow done")
            assert await ws.read_message() is None
            assert ws.close_code == 1001
            assert not server._connections
        finally:
            client.close()

    run(main)
