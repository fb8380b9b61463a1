"""Tests for tornado.httpserver: a real HTTPServer on 127.0.0.1, driven by
raw sockets.

Well-formed requests are sent all at once, one byte at a time, and
pipelined behind each other; malformed ones must each get the right 4xx
(or 5xx) answer and a closed connection.  A slow or oversized client must
never keep the server from answering the next one, and nothing a client
sends may make the server log an error.
"""

import asyncio
import gzip
import logging
import os
import random
import socket
import ssl
import tempfile
import threading
import time

from tornado import gen, netutil
from tornado.concurrent import Future
from tornado.httpclient import HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.httputil import (
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    ResponseStartLine,
)
from tornado.iostream import IOStream, StreamClosedError
from tornado.log import gen_log
from tornado.testing import AsyncHTTPTestCase, AsyncTestCase, ExpectLog, bind_unused_port, gen_test
from support import LoopTurns, respond_ok


class ErrorLogCatcher(logging.Handler):
    """Collects ERROR (and worse) records of the tornado loggers."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def echo_app(request):
    """A plain-callable application: echoes what it understood."""
    body = repr(
        (
            request.method,
            request.uri,
            request.version,
            sorted(request.headers.get_all()),
            request.body,
            sorted(request.arguments.items()),
            request.remote_ip,
            request.protocol,
        )
    ).encode()
    respond_ok(request.connection, body)


class ServerTestCase(AsyncHTTPTestCase):
    """Common helpers: raw connections, reading one response, and a check
    that no error was logged."""

    def get_app(self):
        return echo_app

    def setUp(self):
        super().setUp()
        self.errors = ErrorLogCatcher()
        logging.getLogger("tornado").addHandler(self.errors)

    def tearDown(self):
        logging.getLogger("tornado").removeHandler(self.errors)
        super().tearDown()
        assert self.errors.records == [], [r.getMessage() for r in self.errors.records]

    async def connect(self) -> IOStream:
        stream = IOStream(socket.socket())
        self.addCleanup(stream.close)
        await stream.connect(("127.0.0.1", self.get_http_port()))
        stream.set_nodelay(True)
        return stream

    async def read_response(self, stream: IOStream):
        """Read one response: (status line, headers, body)."""
        head = await stream.read_until(b"\r\n\r\n")
        status, _, rest = head.decode("latin1").partition("\r\n")
        headers = HTTPHeaders.parse(rest)
        if "Content-Length" in headers:
            body = await stream.read_bytes(int(headers["Content-Length"]))
        elif headers.get("Transfer-Encoding") == "chunked":
            body = b""
            while True:
                size = int((await stream.read_until(b"\r\n"))[:-2], 16)
                data = await stream.read_bytes(size + 2)
                if size == 0:
                    break
                body += data[:-2]
        else:
            body = await stream.read_until_close()
        return status, headers, body

    async def assert_closed(self, stream: IOStream) -> None:
        assert await stream.read_until_close() == b""
        assert stream.closed()

    async def request(self, data: bytes):
        stream = await self.connect()
        await stream.write(data)
        return await self.read_response(stream)


GET = b"GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Y: z\r\n\r\n"
POST = (
    b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 7\r\n\r\na=1&b=2"
)
CHUNKED_POST = (
    b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n3\r\na=1\r\n4;ext=1\r\n&b=2\r\n0\r\nX-T: 1\r\n\r\n"
)


class WellFormedRequestTest(ServerTestCase):
    def check_echo(self, response, method, uri, body, arguments):
        status, headers, echoed = response
        assert status == "HTTP/1.1 200 OK"
        got = eval(echoed)
        assert got[0] == method and got[1] == uri and got[4] == body
        assert got[5] == arguments
        assert got[6] == "127.0.0.1" and got[7] == "http"
        return got

    @gen_test
    async def test_sent_all_at_once(self):
        got = self.check_echo(await self.request(GET), "GET", "/a?x=1", b"", [("x", [b"1"])])
        assert ("X-Y", "z") in got[3]
        self.check_echo(await self.request(POST), "POST", "/p", b"a=1&b=2", [("a", [b"1"]), ("b", [b"2"])])
        self.check_echo(
            await self.request(CHUNKED_POST), "POST", "/p", b"a=1&b=2", [("a", [b"1"]), ("b", [b"2"])]
        )

    @gen_test
    async def test_sent_byte_by_byte(self):
        for data, body in [(GET, b""), (POST, b"a=1&b=2"), (CHUNKED_POST, b"a=1&b=2")]:
            stream = await self.connect()
            for i in range(len(data)):
                await stream.write(data[i : i + 1])
                await gen.sleep(0.0005)
            status, _, echoed = await self.read_response(stream)
            assert status == "HTTP/1.1 200 OK" and eval(echoed)[4] == body

    @gen_test
    async def test_pipelined_with_trailing_bytes(self):
        stream = await self.connect()
        await stream.write(GET + CHUNKED_POST + POST + GET)
        uris = []
        for _ in range(4):
            status, _, echoed = await self.read_response(stream)
            assert status == "HTTP/1.1 200 OK"
            uris.append(eval(echoed)[1])
        assert uris == ["/a?x=1", "/p", "/p", "/a?x=1"]

    @gen_test
    async def test_http10_keep_alive(self):
        stream = await self.connect()
        for _ in range(2):
            await stream.write(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, _ = await self.read_response(stream)
            assert headers["Connection"] == "Keep-Alive"
        await stream.write(b"GET / HTTP/1.0\r\n\r\n")
        status, headers, _ = await self.read_response(stream)
        assert "Connection" not in headers
        await self.assert_closed(stream)

    @gen_test
    async def test_connection_close(self):
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        status, headers, _ = await self.read_response(stream)
        assert headers["Connection"] == "close"
        await self.assert_closed(stream)

    @gen_test
    async def test_expect_100_continue(self):
        stream = await self.connect()
        await stream.write(b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        assert await stream.read_until(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        await stream.write(b"abc")
        status, _, echoed = await self.read_response(stream)
        assert eval(echoed)[4] == b"abc"

    @gen_test
    async def test_leading_empty_line_and_bare_lf(self):
        status, _, echoed = await self.request(b"\r\nGET /lf HTTP/1.1\nHost: h\n\n")
        assert status == "HTTP/1.1 200 OK" and eval(echoed)[1] == "/lf"


class NoRequestAfterCloseTest(ServerTestCase):
    """RFC 9112 section 9.6: after a request that ends the connection
    (Connection: close, or HTTP/1.0 without keep-alive) the server "MUST
    NOT process any further requests received on that connection", not
    even those already in its buffer.  (Found by the differential tests:
    the pipelined request reached the application, and its response went
    nowhere.)"""

    def get_app(self):
        self.requested = []

        def app(request):
            self.requested.append(request.uri)
            echo_app(request)

        return app

    @gen_test
    async def test_pipelined_request_after_the_last_is_dropped(self):
        for last in [
            b"GET /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
            b"GET /last HTTP/1.0\r\n\r\n",
        ]:
            stream = await self.connect()
            await stream.write(last + b"GET /after HTTP/1.1\r\nHost: h\r\n\r\n")
            status, _, echoed = await self.read_response(stream)
            assert eval(echoed)[1] == "/last"
            await self.assert_closed(stream)
        await gen.sleep(0.05)
        assert self.requested == ["/last", "/last"]


class MalformedRequestTest(ServerTestCase):
    """Each malformed request gets its status code and a closed connection."""

    def get_httpserver_options(self):
        return dict(max_header_size=4096, max_body_size=1000)

    CASES = [
        (b"asdf\r\n\r\n", 400),
        (b"GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nNo colon\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX : y\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", 400),
        (b"GET /?" + b"a&" * 1000 + b" HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\nx", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\nx", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\na\r\n0\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 12\r\n\r\n--b\r\nbad\r\n--b--",
            400,
        ),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 5000 + b"\r\n\r\n", 431),
    ]

    @gen_test
    async def test_cases(self):
        for data, status in self.CASES:
            stream = await self.connect()
            with ExpectLog(gen_log, ".*", required=False, level=logging.INFO):
                await stream.write(data)
                try:
                    response = await stream.read_until_close()
                except StreamClosedError:
                    response = b""
            if status == 431 and response == b"":
                continue  # the stream gave up on the oversized head first
            assert response.startswith(b"HTTP/1.1 %d " % status), (data[:60], response)
            assert response.endswith(b"\r\n\r\n") and response.count(b"\r\n") == 2

    @gen_test
    async def test_log_names_the_problem(self):
        with ExpectLog(gen_log, "Malformed HTTP message from 127.0.0.1: .*Content-Length", level=logging.INFO):
            status, _, _ = await self.request(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n")
        assert status == "HTTP/1.1 400 Bad Request"

    @gen_test
    async def test_garbage_never_hurts_the_server(self):
        rng = random.Random(1234)
        with ExpectLog(gen_log, ".*", required=False, level=logging.INFO):
            for i in range(40):
                stream = await self.connect()
                garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
                if i % 2:
                    garbage = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + garbage
                await stream.write(garbage + b"\r\n\r\n")
                stream.close()
        # The server still answers properly.
        status, _, _ = await self.request(GET)
        assert status == "HTTP/1.1 200 OK"


class SlowClientTest(ServerTestCase):
    def get_httpserver_options(self):
        return dict(max_body_size=10000)

    @gen_test
    async def test_stalled_and_oversized_clients_dont_block_others(self):
        stalled = await self.connect()
        await stalled.write(b"GET / HTTP/1.1\r\nHost: h\r\nX-Half: ")
        slow_body = await self.connect()
        await slow_body.write(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9000\r\n\r\nabc")
        huge = await self.connect()
        with ExpectLog(gen_log, ".*Content-Length too long", level=logging.INFO):
            await huge.write(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999\r\n\r\n" + b"x" * 50000)
            status, _, _ = await self.read_response(huge)
        assert status == "HTTP/1.1 400 Bad Request"
        for _ in range(3):
            status, _, _ = await self.request(GET)
            assert status == "HTTP/1.1 200 OK"
        # The stalled ones can still finish.
        await stalled.write(b"1\r\n\r\n")
        assert (await self.read_response(stalled))[0] == "HTTP/1.1 200 OK"
        await slow_body.write(b"x" * 8997)
        assert eval((await self.read_response(slow_body))[2])[4] == b"abc" + b"x" * 8997


class TimeoutTest(ServerTestCase):
    def get_httpserver_options(self):
        return dict(idle_connection_timeout=0.1, body_timeout=0.1)

    @gen_test
    async def test_idle_connection_closed(self):
        stream = await self.connect()
        await stream.write(GET)
        await self.read_response(stream)
        await self.assert_closed(stream)

    @gen_test
    async def test_busy_connection_survives_idle_watchdog(self):
        # Each wait between requests is shorter than the timeout, though
        # together they are longer: the connection stays open.
        stream = await self.connect()
        for _ in range(6):
            await stream.write(GET)
            assert (await self.read_response(stream))[0] == "HTTP/1.1 200 OK"
            await gen.sleep(0.04)
        await self.assert_closed(stream)

    @gen_test
    async def test_slow_head_closed(self):
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.1\r\n")
        await self.assert_closed(stream)

    @gen_test
    async def test_slow_body_closed(self):
        stream = await self.connect()
        with ExpectLog(gen_log, "Timeout reading body", level=logging.INFO):
            await stream.write(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nab")
            await self.assert_closed(stream)


class OptionsTest(ServerTestCase):
    def get_httpserver_options(self):
        return dict(xheaders=True, trusted_downstream=["10.0.0.1"], no_keep_alive=True)

    @gen_test
    async def test_xheaders_and_no_keep_alive(self):
        stream = await self.connect()
        await stream.write(
            b"GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4, 5.6.7.8, 10.0.0.1\r\n"
            b"X-Forwarded-Proto: https\r\n\r\n"
        )
        status, headers, echoed = await self.read_response(stream)
        got = eval(echoed)
        assert (got[6], got[7]) == ("5.6.7.8", "https")
        assert headers["Connection"] == "close"
        await self.assert_closed(stream)
        # Values that are not addresses or known schemes are ignored, and
        # nothing leaks into the next request.
        got = eval((await self.request(b"GET / HTTP/1.1\r\nHost: h\r\nX-Real-Ip: <x>\r\nX-Scheme: ftp\r\n\r\n"))[2])
        assert (got[6], got[7]) == ("127.0.0.1", "http")


class ProtocolOptionTest(ServerTestCase):
    def get_httpserver_options(self):
        return dict(protocol="https")

    @gen_test
    async def test_protocol(self):
        assert eval((await self.request(GET))[2])[7] == "https"


class GzipTest(ServerTestCase):
    def get_httpserver_options(self):
        return dict(decompress_request=True, max_body_size=1000)

    @gen_test
    async def test_gzip_body(self):
        body = gzip.compress(b"a=1&b=2")
        status, _, echoed = await self.request(
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Encoding: GZIP\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
        got = eval(echoed)
        assert got[4] == b"a=1&b=2" and ("X-Consumed-Content-Encoding", "GZIP") in got[3]

    @gen_test
    async def test_gzip_bomb(self):
        body = gzip.compress(b"\0" * 100000)
        with ExpectLog(gen_log, ".*decompressed body too large", level=logging.INFO):
            status, _, _ = await self.request(
                b"POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
                + body
            )
        assert status == "HTTP/1.1 400 Bad Request"


class StreamingDelegateTest(ServerTestCase):
    """An HTTPServerConnectionDelegate application that streams its answer."""

    def get_app(self):
        class Delegate(HTTPMessageDelegate):
            def __init__(self, conn):
                self.conn = conn
                self.sizes = []

            def headers_received(self, start_line, headers):
                self.method = start_line.method

            def data_received(self, chunk):
                self.sizes.append(len(chunk))

            def finish(self):
                headers = HTTPHeaders()
                if self.method == "HEAD":
                    headers["Content-Length"] = "3"
                self.conn.write_headers(ResponseStartLine("HTTP/1.1", 200, "OK\r\nX-Bad: 1"), headers)
                if self.method != "HEAD":
                    for size in self.sizes or [0]:
                        self.conn.write(b"%d," % size)
                self.conn.finish()

        class App(HTTPServerConnectionDelegate):
            def start_request(self, server_conn, request_conn):
                return Delegate(request_conn)

        return App()

    def get_httpserver_options(self):
        return dict(chunk_size=10)

    @gen_test
    async def test_chunked_response_and_chunk_size(self):
        stream = await self.connect()
        await stream.write(b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 25\r\n\r\n" + b"x" * 25)
        status, headers, body = await self.read_response(stream)
        # The reason phrase could not inject a header line.
        assert status == "HTTP/1.1 200 OK" and "X-Bad" not in headers
        assert headers["Transfer-Encoding"] == "chunked"
        assert body == b"10,10,5,"
        await stream.write(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")
        head = await stream.read_until(b"\r\n\r\n")
        assert b"Content-Length: 3" in head and b"Transfer-Encoding" not in head
        # HTTP/1.0 gets no chunking: the body ends with the connection.
        await stream.write(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        status, headers, body = await self.read_response(stream)
        assert body == b"0," and "Connection" not in headers and stream.closed()


class SlowUploadTest(ServerTestCase):
    """A big body streamed to a delegate slower than the sender must not
    keep the server from serving other connections: the body's reads
    complete without waiting, so the reading loop has to give the IOLoop a
    turn by itself between pieces."""

    SIZE = 8 * 1024 * 1024

    def get_app(self):
        test = self

        class Upload(HTTPMessageDelegate):
            def __init__(self, conn):
                self.conn = conn
                self.quick = False

            def headers_received(self, start_line, headers):
                self.quick = start_line.path != "/upload"
                if not self.quick:
                    # A large receive window, as on a fast network, so
                    # that the socket holds more than one chunk.
                    sock = self.conn.stream.socket
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)

            def data_received(self, chunk):
                test.received += len(chunk)
                test.turns.piece()
                test.first_piece.set()
                # Work per chunk (hashing, writing to disk...), slower
                # than the sender.
                time.sleep(0.001)

            def finish(self):
                if not self.quick:
                    test.upload_done.set()
                respond_ok(self.conn, b"%d" % test.received)

        class App(HTTPServerConnectionDelegate):
            def start_request(self, server_conn, request_conn):
                return Upload(request_conn)

        return App()

    def setUp(self):
        super().setUp()
        self.received = 0
        self.turns = LoopTurns()
        self.first_piece = asyncio.Event()
        self.upload_done = asyncio.Event()
        self.reply = b""

    def send_from_thread(self, head: bytes, pieces) -> threading.Thread:
        def run():
            with socket.create_connection(("127.0.0.1", self.get_http_port())) as sock:
                sock.sendall(head)
                for piece in pieces:
                    sock.sendall(piece)
                self.reply = sock.recv(4096)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    async def check_other_client_served(self, thread: threading.Thread) -> None:
        await self.first_piece.wait()
        # A whole exchange on a new connection needs several loop turns.
        status, _, body = await self.request(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        assert status == "HTTP/1.1 200 OK"
        assert not self.upload_done.is_set(), "answered only after the upload"
        await self.upload_done.wait()
        while thread.is_alive():
            await gen.sleep(0.01)
        assert self.reply.endswith(b"\r\n\r\n%d" % self.SIZE)
        assert self.turns.longest <= 1, self.turns.longest

    @gen_test(timeout=30)
    async def test_fixed_length_upload(self):
        piece = b"x" * (1024 * 1024)
        thread = self.send_from_thread(
            b"PUT /upload HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % self.SIZE,
            [piece] * (self.SIZE // len(piece)),
        )
        await self.check_other_client_served(thread)

    @gen_test(timeout=30)
    async def test_chunked_upload(self):
        piece = b"x" * (1024 * 1024)
        chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
        thread = self.send_from_thread(
            b"PUT /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
            [chunk] * (self.SIZE // len(piece)) + [b"0\r\n\r\n"],
        )
        await self.check_other_client_served(thread)


class DetachedConnectionTest(AsyncTestCase):
    """What a detached connection (a WebSocket) keeps alive: not the
    request loop's task, nor the idle watchdog."""

    @gen_test
    async def test_detach_releases_the_request_loop(self):
        detached = Future()

        class Delegate(HTTPMessageDelegate):
            def __init__(self, server_conn, conn):
                self.server_conn, self.conn = server_conn, conn

            def headers_received(self, start_line, headers):
                stream = self.conn.detach()
                detached.set_result((self.server_conn, self.conn, stream))

        class App(HTTPServerConnectionDelegate):
            def start_request(self, server_conn, request_conn):
                return Delegate(server_conn, request_conn)

        sock, port = bind_unused_port()
        server = HTTPServer(App())
        server.add_sockets([sock])
        client = IOStream(socket.socket())
        await client.connect(("127.0.0.1", port))
        await client.write(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        server_conn, conn, stream = await detached
        await gen.sleep(0.01)
        assert server_conn._serving_future is None
        assert conn._watchdog is None and conn.stream is None
        await stream.write(b"still ours")
        assert await client.read_bytes(10) == b"still ours"
        # No proxies configured: the contexts share one empty set.
        assert server_conn.context.trusted_downstream == frozenset()
        await server_conn.close()  # closes the stream; no loop to wait for
        assert stream.closed()
        client.close()
        server.stop()


class ShutdownTest(AsyncTestCase):
    @gen_test
    async def test_close_all_connections(self):
        sock, port = bind_unused_port()
        server = HTTPServer(echo_app)
        server.add_sockets([sock])
        streams = []
        for _ in range(3):
            stream = IOStream(socket.socket())
            await stream.connect(("127.0.0.1", port))
            await stream.write(GET)
            streams.append(stream)
        for stream in streams:
            await stream.read_until(b"\r\n\r\n")
        server.stop()
        await server.close_all_connections()
        for stream in streams:
            await stream.read_until_close()
            assert stream.closed()

    @gen_test
    async def test_unix_socket(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "s.sock")
            server = HTTPServer(echo_app)
            server.add_socket(netutil.bind_unix_socket(path))
            stream = IOStream(socket.socket(socket.AF_UNIX))
            await stream.connect(path)
            await stream.write(b"GET / HTTP/1.0\r\n\r\n")
            data = await stream.read_until_close()
            assert data.startswith(b"HTTP/1.1 200 OK\r\n")
            assert eval(data.partition(b"\r\n\r\n")[2])[6] == "0.0.0.0"
            stream = IOStream(socket.socket(socket.AF_UNIX))
            await stream.connect(path)
            with ExpectLog(gen_log, "Malformed HTTP message from", level=logging.INFO):
                await stream.write(b"garbage\r\n\r\n")
                assert await stream.read_until_close() == b"HTTP/1.1 400 Bad Request\r\n\r\n"
            server.stop()
            await server.close_all_connections()


class SSLServerTest(AsyncTestCase):
    @gen_test
    async def test_https(self):
        test_dir = os.path.join(os.path.dirname(__file__), "httpserver_data")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(os.path.join(test_dir, "test.crt"), os.path.join(test_dir, "test.key"))
        sock, port = bind_unused_port()
        server = HTTPServer(echo_app, ssl_options=context)
        server.add_sockets([sock])
        from tornado.simple_httpclient import SimpleAsyncHTTPClient

        client = SimpleAsyncHTTPClient(force_instance=True)
        try:
            response = await client.fetch(
                HTTPRequest("https://127.0.0.1:%d/s?q=1" % port, validate_cert=False)
            )
            got = eval(response.body)
            assert got[1] == "/s?q=1" and got[7] == "https"
        finally:
            client.close()
            server.stop()
            await server.close_all_connections()


class ExpectContinueLimitTest(ServerTestCase):
    def get_httpserver_options(self):
        return dict(max_body_size=10)

    @gen_test
    async def test_no_continue_for_a_body_over_the_limit(self):
        # The client is told no before it sends the body it asked about.
        stream = await self.connect()
        with ExpectLog(gen_log, ".*Content-Length too long", level=logging.INFO):
            await stream.write(b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
            assert await stream.read_until_close() == b"HTTP/1.1 400 Bad Request\r\n\r\n"


class FailingDelegateTest(ServerTestCase):
    def get_app(self):
        class App(HTTPServerConnectionDelegate):
            def start_request(self, server_conn, request_conn):
                raise RuntimeError("broken application")

        return App()

    @gen_test
    async def test_start_request_failure_closes_the_connection(self):
        from tornado.log import app_log

        with ExpectLog(app_log, "Uncaught exception"):
            stream = await self.connect()
            await self.assert_closed(stream)
