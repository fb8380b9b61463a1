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
