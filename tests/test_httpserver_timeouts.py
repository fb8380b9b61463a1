"""The server's idle timeout applied to responses nobody reads.

Found by tests/soak/slow_clients.py: a client that asks for a response and
then never reads it (a zero receive window) held its connection, and the
response, forever; ``idle_connection_timeout`` now ends a connection whose
peer takes none of a response for that long.  A slow reader that makes
progress keeps its connection.
"""

import socket
import time

from tornado import gen
from tornado.iostream import IOStream
from tornado.testing import AsyncHTTPTestCase, gen_test
from tornado.web import Application, RequestHandler

SIZE = 16 << 20  # more than the kernel buffers


class Big(RequestHandler):
    def get(self) -> None:
        self.write(b"x" * SIZE)


class BigResponse(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        return Application([("/big", Big)])

    async def request_big(self) -> IOStream:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stream = IOStream(sock)
        await stream.connect(("127.0.0.1", self.get_http_port()))
        await stream.write(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
        return stream


class StalledReaderTest(BigResponse):
    def get_httpserver_options(self) -> dict:
        return dict(idle_connection_timeout=0.5)

    @gen_test(timeout=20)
    async def test_reader_that_reads_nothing_is_dropped(self) -> None:
        stream = await self.request_big()
        # Read nothing for a while: the server ends the connection, and
        # the response's unsent part with it.  (Before, reading now got
        # the whole response and the connection stayed open.)
        await gen.sleep(2)
        data = await stream.read_until_close()
        assert data.startswith(b"HTTP/1.1 200 OK") and len(data) < SIZE
        stream.close()


class SlowReaderTest(BigResponse):
    # A longer timeout than above, so that a loaded machine pausing the
    # test for a moment does not look like a stalled reader.
    def get_httpserver_options(self) -> dict:
        return dict(idle_connection_timeout=2)

    @gen_test(timeout=60)
    async def test_slow_reader_that_makes_progress_is_served(self) -> None:
        stream = await self.request_big()
        head = await stream.read_until(b"\r\n\r\n")
        assert b"200 OK" in head
        received = 0
        began = time.monotonic()
        while received < SIZE:
            received += len(await stream.read_bytes(min(256 << 10, SIZE - received)))
            await gen.sleep(0.05)
        # It took longer than the idle timeout, and nothing was cut short.
        assert time.monotonic() - began > 2
        stream.close()


# body_timeout on a server is a deadline that the connection's idle
# watchdog keeps (one timer for the head and the body), not a timer, a task
# and a chain of futures per request: the soak of slow clients profiled
# gen.with_timeout as a tenth of what a slow body costs the server.


class Echo(RequestHandler):
    async def get(self) -> None:
        if self.get_argument("sleep", None):
            await gen.sleep(float(self.get_argument("sleep")))
        self.write("ok")

    def post(self) -> None:
        self.write(str(len(self.request.body)))


class BodyDeadline(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        return Application([("/", Echo)])

    async def connect(self) -> IOStream:
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", self.get_http_port()))
        self.addCleanup(stream.close)
        return stream

    async def closed_within(self, stream: IOStream, seconds: float) -> float:
        """Seconds until the server closed ``stream`` (failing after ``seconds``)."""
        began = time.monotonic()
        await gen.with_timeout(self.io_loop.time() + seconds, stream.read_until_close())
        return time.monotonic() - began

    async def exchange(self, stream: IOStream, request: bytes) -> bytes:
        await stream.write(request)
        head = await stream.read_until(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        return await stream.read_bytes(length)


class ShortBodyTimeoutTest(BodyDeadline):
    # The body deadline comes long before the idle timeout: the watchdog's
    # timer must be brought forward for it.
    def get_httpserver_options(self) -> dict:
        return dict(idle_connection_timeout=60, body_timeout=0.5)

    @gen_test(timeout=30)
    async def test_trickled_body_closed_at_deadline(self) -> None:
        stream = await self.connect()
        await stream.write(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n")
        began = time.monotonic()
        # Bytes keep arriving, but the body is not done by the deadline.
        while not stream.closed() and time.monotonic() - began < 20:
            try:
                await stream.write(b"x")
            except Exception:
                break
            await gen.sleep(0.1)
        assert time.monotonic() - began < 15
        assert stream.closed() or await self.closed_within(stream, 10) >= 0

    @gen_test(timeout=30)
    async def test_deadline_ends_with_the_body(self) -> None:
        # Bodies read in time leave no deadline behind: the keep-alive
        # connection outlives several body deadlines.
        stream = await self.connect()
        for _ in range(3):
            body = await self.exchange(stream, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
            assert body == b"3"
            await gen.sleep(0.7)
        assert await self.exchange(stream, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n") == b"ok"


class ShortIdleTimeoutTest(BodyDeadline):
    # The other way round: a long body deadline must not hold back the
    # idle timeout of the wait for the next request.
    def get_httpserver_options(self) -> dict:
        return dict(idle_connection_timeout=0.5, body_timeout=60)

    @gen_test(timeout=30)
    async def test_idle_after_body_closed(self) -> None:
        stream = await self.connect()
        body = await self.exchange(stream, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
        assert body == b"3"
        assert await self.closed_within(stream, 15) < 15

    @gen_test(timeout=30)
    async def test_idle_after_pipelined_body_closed(self) -> None:
        # The idle timer fires (and is not re-armed) during the slow first
        # response; the pipelined POST's head is already there, so its body
        # deadline arms the timer, far ahead.  The wait for a third request
        # must bring it forward again.
        stream = await self.connect()
        await stream.write(
            b"GET /?sleep=1.5 HTTP/1.1\r\nHost: h\r\n\r\n"
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        )
        for expected in (b"ok", b"3"):
            head = await stream.read_until(b"\r\n\r\n")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            assert await stream.read_bytes(length) == expected
        assert await self.closed_within(stream, 15) < 15
