"""Tests for the keep-alive opt-in of SimpleAsyncHTTPClient
(``keep_alive=True``, bookkeeping in tornado._http1pool).

The client behaviour shared with every implementation is run once more
with keep-alive on; the rest checks RFC 9112 section 9.3's rules against
real servers on 127.0.0.1: a Tornado HTTPServer that reports which
connection carried each request, and raw socket servers that answer in
the ways a keep-alive client must not be fooled by (``Connection:
close``, HTTP/1.0, a body ended by closing, bytes beyond the response, a
connection closed just as a request is sent on it).
"""

import asyncio
import typing
from typing import Callable, List, Optional

import pytest

from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.simple_httpclient import SimpleAsyncHTTPClient
from tornado.testing import AsyncHTTPTestCase, AsyncTestCase, gen_test
from tornado.web import Application, RequestHandler

from test_httpclient import ClientBehaviour


class KeepAliveClientBehaviourTest(ClientBehaviour, AsyncHTTPTestCase):
    """Everything a client must do still holds with keep-alive on."""

    def create_client(self, **kwargs: typing.Any) -> SimpleAsyncHTTPClient:
        kwargs.setdefault("force_instance", True)
        return SimpleAsyncHTTPClient(keep_alive=True, **kwargs)


class PeerHandler(RequestHandler):
    """Answers with the client's address and port: which connection
    carried the request, and the Connection header it sent."""

    def get(self) -> None:
        stream = self.request.connection.stream  # type: ignore[union-attr]
        port = stream.socket.getpeername()[1]
        self.write("%d %s" % (port, self.request.headers.get("Connection", "-")))

    def post(self) -> None:
        self.get()


class CloseHandler(RequestHandler):
    def get(self) -> None:
        self.set_header("Connection", "close")
        self.write("bye")


class RedirectHandler(RequestHandler):
    def get(self) -> None:
        self.redirect("/peer")


class KeepAliveServerTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        return Application([
            ("/peer", PeerHandler),
            ("/close", CloseHandler),
            ("/redirect", RedirectHandler),
        ])

    def make_client(self, **kwargs: typing.Any) -> SimpleAsyncHTTPClient:
        client = SimpleAsyncHTTPClient(force_instance=True, keep_alive=True, **kwargs)
        self.addCleanup(client.close)
        return client

    async def peer(self, client: AsyncHTTPClient, **kwargs: typing.Any) -> List[str]:
        response = await client.fetch(self.get_url("/peer"), **kwargs)
        return response.body.decode().split()

    @gen_test
    async def test_sequential_requests_share_one_connection(self) -> None:
        client = self.make_client()
        first = await self.peer(client)
        second = await self.peer(client)
        third = await self.peer(client, method="POST", body=b"x")
        self.assertEqual(first[0], second[0])
        self.assertEqual(first[0], third[0])
        # HTTP/1.1 connections persist by default: no Connection header.
        self.assertEqual(first[1], "-")

    @gen_test
    async def test_without_opt_in_each_request_has_its_own(self) -> None:
        client = SimpleAsyncHTTPClient(force_instance=True)
        self.addCleanup(client.close)
        first = (await client.fetch(self.get_url("/peer"))).body.split()
        second = (await client.fetch(self.get_url("/peer"))).body.split()
        self.assertNotEqual(first[0], second[0])
        self.assertEqual(first[1], b"close")

    @gen_test
    async def test_with_http2_opt_in_too(self) -> None:
        # http2=True only offers HTTP/2 to https servers: plain http
        # requests go on kept-alive HTTP/1.1 connections.
        pytest.importorskip("h2")
        client = self.make_client(http2=True)
        first = await self.peer(client)
        second = await self.peer(client)
        self.assertEqual(first[0], second[0])

    @gen_test
    async def test_configure_binds_the_keyword(self) -> None:
        saved = AsyncHTTPClient._save_configuration()
        self.addCleanup(AsyncHTTPClient._restore_configuration, saved)
        AsyncHTTPClient.configure(None, keep_alive=True)
        client = AsyncHTTPClient(force_instance=True)
        self.addCleanup(client.close)
        first = await self.peer(client)
        second = await self.peer(client)
        self.assertEqual(first[0], second[0])

    @gen_test
    async def test_concurrent_requests_then_reuse(self) -> None:
        client = self.make_client(max_clients=5)
        answers = await asyncio.gather(*(self.peer(client) for _ in range(5)))
        ports = {answer[0] for answer in answers}
        self.assertEqual(len(ports), 5)
        again = await asyncio.gather(*(self.peer(client) for _ in range(5)))
        self.assertEqual({answer[0] for answer in again}, ports)

    @gen_test
    async def test_request_connection_close_is_not_reused(self) -> None:
        client = self.make_client()
        first = await self.peer(client, headers={"Connection": "close"})
        self.assertEqual(first[1], "close")
        second = await self.peer(client)
        self.assertNotEqual(first[0], second[0])

    @gen_test
    async def test_response_connection_close_is_not_reused(self) -> None:
        client = self.make_client()
        first = await self.peer(client)
        await client.fetch(self.get_url("/close"))
        # /close came over first's connection, which it ended.
        second = await self.peer(client)
        self.assertNotEqual(first[0], second[0])
        self.assertEqual(len(client._http1_pool), 1)

    @gen_test
    async def test_redirect_reuses_the_connection(self) -> None:
        client = self.make_client(max_clients=1)
        first = await self.peer(client)
        response = await client.fetch(self.get_url("/redirect"))
        self.assertEqual(response.body.split()[0].decode(), first[0])

    @gen_test
    async def test_idle_timeout(self) -> None:
        client = self.make_client(keep_alive_timeout=0.05)
        first = await self.peer(client)
        await asyncio.sleep(0.3)
        self.assertEqual(len(client._http1_pool), 0)
        second = await self.peer(client)
        self.assertNotEqual(first[0], second[0])

    @gen_test
    async def test_server_closing_idle_connection_is_noticed(self) -> None:
        client = self.make_client()
        await self.peer(client)
        self.assertEqual(len(client._http1_pool), 1)
        await self.http_server.close_all_connections()
        for _ in range(100):
            if not len(client._http1_pool):
                break
            await asyncio.sleep(0.01)
        self.assertEqual(len(client._http1_pool), 0)

    @gen_test
    async def test_close_closes_idle_connections(self) -> None:
        client = SimpleAsyncHTTPClient(force_instance=True, keep_alive=True)
        await self.peer(client)
        pool = client._http1_pool
        assert pool is not None
        (entries,) = pool._idle.values()
        stream = entries[0][0]
        client.close()
        self.assertTrue(stream.closed())
        self.assertEqual(len(pool), 0)

    def test_bad_timeout(self) -> None:
        with self.assertRaises(ValueError):
            SimpleAsyncHTTPClient(force_instance=True, keep_alive=True, keep_alive_timeout=0)


# --- raw servers --------------------------------------------------------------

# Given the request number on its connection (0 for the first) and the
# request head, returns the bytes to send and whether to close afterwards;
# None closes without answering.
_Script = Callable[[int, bytes], Optional[typing.Tuple[bytes, bool]]]


class RawServer:
    """An asyncio server answering by a script; counts connections and
    records the request heads."""

    def __init__(self, script: _Script) -> None:
        self.script = script
        self.connections = 0
        self.heads: List[bytes] = []
        self.server: Optional[asyncio.AbstractServer] = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return "http://127.0.0.1:%d/" % port

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            number = 0
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                self.heads.append(head)
                outcome = self.script(number, head)
                number += 1
                if outcome is None:
                    return
                data, close = outcome
                writer.write(data)
                await writer.drain()
                if close:
                    return
        finally:
            writer.close()

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()


def _ok(body: bytes = b"ok", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


class RawKeepAliveTest(AsyncTestCase):
    async def serve(self, script: _Script) -> typing.Tuple[RawServer, str, SimpleAsyncHTTPClient]:
        server = RawServer(script)
        url = await server.start()
        self.addCleanup(server.stop)
        client = SimpleAsyncHTTPClient(force_instance=True, keep_alive=True)
        self.addCleanup(client.close)
        return server, url, client

    @gen_test
    async def test_keeps_alive(self) -> None:
        server, url, client = await self.serve(lambda n, head: (_ok(), False))
        for _ in range(3):
            self.assertEqual((await client.fetch(url)).body, b"ok")
        self.assertEqual(server.connections, 1)

    @gen_test
    async def test_chunked_response_keeps_alive(self) -> None:
        chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        server, url, client = await self.serve(lambda n, head: (chunked, False))
        for _ in range(3):
            self.assertEqual((await client.fetch(url)).body, b"ok")
        self.assertEqual(server.connections, 1)

    @gen_test
    async def test_http10_response_is_not_reused(self) -> None:
        answer = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
        server, url, client = await self.serve(lambda n, head: (answer, False))
        for _ in range(2):
            self.assertEqual((await client.fetch(url)).body, b"ok")
        self.assertEqual(server.connections, 2)

    @gen_test
    async def test_body_until_close_is_not_reused(self) -> None:
        answer = b"HTTP/1.1 200 OK\r\n\r\nok"
        server, url, client = await self.serve(lambda n, head: (answer, True))
        for _ in range(2):
            self.assertEqual((await client.fetch(url)).body, b"ok")
        self.assertEqual(server.connections, 2)

    @gen_test
    async def test_bytes_beyond_the_response_are_not_reused(self) -> None:
        server, url, client = await self.serve(lambda n, head: (_ok() + b"junk", False))
        for _ in range(2):
            self.assertEqual((await client.fetch(url)).body, b"ok")
        self.assertEqual(server.connections, 2)

    @gen_test
    async def test_idempotent_request_is_retried_once(self) -> None:
        # The second request on a connection finds it closed, as when a
        # server's idle timeout strikes just as the request is sent.
        server, url, client = await self.serve(lambda n, head: None if n else (_ok(), False))
        for _ in range(3):
            self.assertEqual((await client.fetch(url)).body, b"ok")
        self.assertEqual(server.connections, 3)
        # Each retry went out on a new connection: 5 heads in all.
        self.assertEqual(len(server.heads), 5)

    @gen_test
    async def test_non_idempotent_request_is_not_retried(self) -> None:
        server, url, client = await self.serve(lambda n, head: None if n else (_ok(), False))
        await client.fetch(url)
        with self.assertRaises(HTTPClientError) as raised:
            await client.fetch(url, method="POST", body=b"data")
        self.assertEqual(raised.exception.code, 599)
        self.assertEqual(server.connections, 1)

    @gen_test
    async def test_retry_happens_only_once(self) -> None:
        # Every connection after the first dies on its first request, so
        # a retried request fails for good.
        def script(n: int, head: bytes) -> Optional[typing.Tuple[bytes, bool]]:
            if server.connections == 1 and n == 0:
                return _ok(), False
            return None

        server, url, client = await self.serve(script)
        await client.fetch(url)
        with self.assertRaises(HTTPClientError):
            await client.fetch(url)
        self.assertEqual(server.connections, 2)

    @gen_test
    async def test_response_after_partial_read_failure_not_retried(self) -> None:
        # A response cut off after its head is an error, not a retry.
        def script(n: int, head: bytes) -> typing.Tuple[bytes, bool]:
            if n == 0:
                return _ok(), False
            return b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", True

        server, url, client = await self.serve(script)
        await client.fetch(url)
        with self.assertRaises(HTTPClientError):
            await client.fetch(url)
        self.assertEqual(server.connections, 1)


def test_pool_rejects_bad_settings() -> None:
    from tornado._http1pool import _IdleConnections
    from tornado.ioloop import IOLoop

    loop = IOLoop(make_current=False)
    try:
        for max_idle, timeout in ((-1, 1.0), (1, 0.0), (1, -2.0)):
            try:
                _IdleConnections(loop, max_idle, timeout)
            except ValueError:
                continue
            raise AssertionError("accepted %r" % ((max_idle, timeout),))
    finally:
        loop.close()
