"""Our HTTP clients against hostile servers.

Each server here is a raw socket on 127.0.0.1, served by a thread, that
misbehaves in one way: a head that never ends, a chunked body that never
ends, a 10 GB Content-Length, a compression bomb, malformed chunk sizes,
or silence.  Both `.SimpleAsyncHTTPClient` and `.CurlAsyncHTTPClient` must
end every fetch with an `.HTTPClientError` (a timeout being one) within a
few seconds, and hold no more memory than their limits allow
(``max_header_size``, ``max_body_size``; measured with tracemalloc, so
libcurl's own fixed-size buffers are not counted).
"""

import gzip
import re
import socket
import threading
import time
import tracemalloc
from typing import Any, Callable, Iterator, Optional

import pytest

from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.iostream import UnsatisfiableReadError
from tornado.simple_httpclient import SimpleAsyncHTTPClient

from support import run

try:
    from tornado.curl_httpclient import CurlAsyncHTTPClient
except ImportError:  # pycurl missing
    CurlAsyncHTTPClient = None  # type: ignore[assignment,misc]

# The limits the clients get in these tests: small, so that an unbounded
# buffer would show at once.
MAX_BODY = 1024 * 1024
MAX_HEADER = 16 * 1024
# How long any one hostile server goes on, whatever the client does.
SERVER_LIMIT = 30.0

Behaviour = Callable[[socket.socket, threading.Event], None]


class HostileServer:
    """Accepts connections on 127.0.0.1 and, after reading each request's
    head, lets ``behaviour`` have the socket."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.stop = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        # (A blocking accept() is not woken by close() from another thread.)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d/" % self.port

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(SERVER_LIMIT)
            head = b""
            try:
                while b"\r\n\r\n" not in head:
                    data = conn.recv(4096)
                    if not data:
                        return
                    head += data
                self.behaviour(conn, self.stop)
            except OSError:
                pass  # the client gave up, as it should

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        for thread in self.threads:
            thread.join(SERVER_LIMIT)


def send_forever(conn: socket.socket, stop: threading.Event, head: bytes, piece: bytes) -> None:
    """Send ``head``, then ``piece`` again and again until the client
    leaves (or the time limit)."""
    conn.sendall(head)
    deadline = time.monotonic() + SERVER_LIMIT
    while not stop.is_set() and time.monotonic() < deadline:
        conn.sendall(piece)


def endless_headers(conn: socket.socket, stop: threading.Event) -> None:
    send_forever(conn, stop, b"HTTP/1.1 200 OK\r\n", b"X-Filler: " + b"x" * 100 + b"\r\n")


def endless_chunked_body(conn: socket.socket, stop: threading.Event) -> None:
    chunk = b"x" * 4096
    send_forever(
        conn, stop, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"%x\r\n%b\r\n" % (len(chunk), chunk),
    )


def ten_gigabytes(conn: socket.socket, stop: threading.Event) -> None:
    send_forever(conn, stop, b"HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n", b"x" * 65536)


def _bomb(coding: str, compressed: bytes) -> Behaviour:
    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n%b"
            % (coding.encode(), len(compressed), compressed)
        )
        stop.wait(SERVER_LIMIT)

    return behaviour


# 64 MB of zeros: about 64 KB compressed, 64 times the body limit.
BOMB_SIZE = 64 * 1024 * 1024
_GZIP_BOMB = gzip.compress(b"\0" * BOMB_SIZE, compresslevel=9)


def _stalls_after(data: bytes) -> Behaviour:
    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(data)
        stop.wait(SERVER_LIMIT)

    return behaviour


def _sends_and_closes(data: bytes) -> Behaviour:
    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(data)

    return behaviour


CLIENTS = ["simple"] + (["curl"] if CurlAsyncHTTPClient is not None else [])


def _client(kind: str) -> AsyncHTTPClient:
    if kind == "simple":
        return SimpleAsyncHTTPClient(force_instance=True, max_body_size=MAX_BODY, max_header_size=MAX_HEADER)
    return CurlAsyncHTTPClient(force_instance=True, max_body_size=MAX_BODY, max_header_size=MAX_HEADER)


def fetch_error(
    kind: str, behaviour: Behaviour, request_timeout: float = 20, decompress: bool = True
) -> "tuple[Any, float, int]":
    """Fetch from a server that behaves so, and return the error the fetch
    ended with, the seconds it took and the peak of traced memory."""
    server = HostileServer(behaviour)
    error: Optional[BaseException] = None
    tracemalloc.start()
    started = time.monotonic()
    try:

        async def go() -> None:
            # (Made on the loop that runs it: a client belongs to its IOLoop.)
            client = _client(kind)
            try:
                await client.fetch(server.url, request_timeout=request_timeout, decompress_response=decompress)
            finally:
                client.close()

        try:
            run(go, timeout=request_timeout + 10)
        except BaseException as e:
            error = e
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        server.close()
    # simple_httpclient reports a head over max_header_size with the
    # stream's UnsatisfiableReadError, which names the limit (Tornado's
    # own tests require that exception).
    assert isinstance(error, (HTTPClientError, UnsatisfiableReadError)), repr(error)
    return error, elapsed, peak


@pytest.fixture(params=CLIENTS)
def kind(request: pytest.FixtureRequest, _warmed_up: None) -> Iterator[str]:
    yield request.param


@pytest.fixture(scope="module")
def _warmed_up() -> None:
    """One good fetch with each client first, so that what the first fetch
    of a process allocates for good (imports, caches, TLS defaults) is not
    counted against a hostile server."""
    server = HostileServer(_sends_and_closes(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    try:
        for kind in CLIENTS:

            async def go(kind: str = kind) -> None:
                client = _client(kind)
                try:
                    await client.fetch(server.url)
                finally:
                    client.close()

            run(go)
    finally:
        server.close()


def test_endless_headers(kind: str) -> None:
    error, elapsed, peak = fetch_error(kind, endless_headers)
    assert elapsed < 10, elapsed
    assert peak < 16 * MAX_HEADER + 1024 * 1024, peak


def test_endless_chunked_body(kind: str) -> None:
    error, elapsed, peak = fetch_error(kind, endless_chunked_body)
    # The error says what went wrong.
    assert error.code == 599 and re.search("too large|larger than", str(error)), error
    assert elapsed < 10, elapsed
    assert peak < 4 * MAX_BODY, peak


def test_ten_gigabyte_content_length(kind: str) -> None:
    error, elapsed, peak = fetch_error(kind, ten_gigabytes)
    assert elapsed < 10, elapsed
    assert peak < 4 * MAX_BODY, peak


def test_gzip_bomb(kind: str) -> None:
    error, elapsed, peak = fetch_error(kind, _bomb("gzip", _GZIP_BOMB))
    assert error.code == 599 and re.search("too large|larger than", str(error)), error
    assert elapsed < 10, elapsed
    assert peak < 4 * MAX_BODY + len(_GZIP_BOMB), peak


@pytest.mark.parametrize(
    "size_line",
    [b"zz", b"-1", b"0x10", b"1" * 40, b"f" * 17, b"10 garbage", b"", b"\x00"],
    ids=lambda b: repr(b)[:12],
)
def test_bad_chunk_sizes(kind: str, size_line: bytes) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    error, elapsed, _ = fetch_error(kind, _stalls_after(head + size_line + b"\r\nabcd\r\n0\r\n\r\n"), 2)
    assert elapsed < 4, elapsed
    if kind == "curl" and size_line == b"10 garbage":
        # libcurl reads "garbage" as a chunk extension and waits for the
        # 16 bytes announced: the request times out.
        assert _timed_out(error), error
    else:
        # Refused for what it is, not for waiting.
        assert not _timed_out(error), error


def _timed_out(error: Any) -> bool:
    text = str(error).lower()
    return "timeout" in text or "timed out" in text


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # nothing at all
        b"HTTP/1.1 200 OK\r\nContent-Le",  # in the middle of the head
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",  # in the middle of the body
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab",  # in a chunk
    ],
    ids=["silent", "mid-head", "mid-body", "mid-chunk"],
)
def test_stalling_server_times_out(kind: str, sent: bytes) -> None:
    error, elapsed, _ = fetch_error(kind, _stalls_after(sent), request_timeout=0.5)
    assert error.code == 599 and _timed_out(error), error
    assert elapsed < 5, elapsed


@pytest.mark.parametrize(
    "sent",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Le",
    ],
    ids=["short-body", "short-chunk", "short-head"],
)
def test_truncated_response_is_an_error(kind: str, sent: bytes) -> None:
    error, elapsed, _ = fetch_error(kind, _sends_and_closes(sent), request_timeout=5)
    assert error.code == 599 and not _timed_out(error), error
    assert elapsed < 5, elapsed
