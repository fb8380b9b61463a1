"""Tests for tornado.simple_httpclient against a real HTTPServer on 127.0.0.1.

The behaviour shared with curl_httpclient comes from
test_httpclient.ClientBehaviour; what follows it is specific to
SimpleAsyncHTTPClient (queue timeouts, body producers, 100-continue, the
resolver, TLS through ssl contexts, HTTP/1.0 servers).
"""

import os
import socket
import ssl
import tempfile
import typing

from tornado import gen
from tornado.httpclient import HTTPClientError, HTTPResponse
from tornado.iostream import IOStream
from tornado.locks import Event
from tornado.netutil import Resolver, add_accept_handler, bind_sockets, bind_unix_socket
from tornado.simple_httpclient import (
    HTTPStreamClosedError,
    HTTPTimeoutError,
    SimpleAsyncHTTPClient,
    _HTTPConnection,
)
from tornado.tcpserver import TCPServer
from tornado.log import app_log
from tornado.testing import (
    AsyncHTTPSTestCase,
    AsyncHTTPTestCase,
    AsyncTestCase,
    ExpectLog,
    gen_test,
)
from tornado.web import Application, RequestHandler, stream_request_body

from test_httpclient import (
    ClientBehaviour,
    CountdownHandler,
    HelloHandler,
    behaviour_app,
    self_signed_cert,
)


class SimpleClientBehaviourTest(ClientBehaviour, AsyncHTTPTestCase):
    def create_client(self, **kwargs: typing.Any) -> SimpleAsyncHTTPClient:
        kwargs.setdefault("force_instance", True)
        return SimpleAsyncHTTPClient(**kwargs)


class EchoBodyHandler(RequestHandler):
    def post(self) -> None:
        self.write(self.request.body)


@stream_request_body
class RefuseBodyHandler(RequestHandler):
    def prepare(self) -> None:
        self.set_status(403)
        self.finish("no")


class HangHandler(RequestHandler):
    """Holds the request until the test releases it."""

    def initialize(self, release: Event) -> None:
        self.release = release

    async def get(self) -> None:
        await self.release.wait()
        self.write("released")


class SimpleClientTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        self.release = Event()
        return Application([
            ("/hello", HelloHandler),
            ("/echo_body", EchoBodyHandler),
            ("/refuse", RefuseBodyHandler),
            ("/hang", HangHandler, dict(release=self.release)),
        ])

    def get_http_client(self) -> SimpleAsyncHTTPClient:
        return SimpleAsyncHTTPClient(force_instance=True)

    def test_max_redirects_returns_last_redirect(self) -> None:
        self._app.add_handlers(".*", [("/countdown/([0-9]+)", CountdownHandler)])
        response = self.fetch("/countdown/5", max_redirects=2)
        self.assertEqual(response.code, 302)
        self.assertTrue(response.request.url.endswith("/countdown/5"))
        self.assertTrue(response.effective_url.endswith("/countdown/3"))
        self.assertTrue(response.headers["Location"].endswith("/countdown/2"))

    def test_body_producer_chunked_and_sized(self) -> None:
        async def producer(write: typing.Callable) -> None:
            await write(b"1234")
            await gen.sleep(0)
            await write(b"5678")

        for headers in ({}, {"Content-Length": "8"}):
            response = self.fetch("/echo_body", method="POST", body_producer=producer,
                                  headers=headers)
            self.assertEqual(response.body, b"12345678")

    def test_expect_100_continue(self) -> None:
        response = self.fetch("/echo_body", method="POST", body=b"abc",
                              expect_100_continue=True)
        self.assertEqual(response.body, b"abc")

        def producer(write: typing.Callable) -> None:
            raise AssertionError("the body must not be sent after a refusal")

        response = self.fetch("/refuse", method="POST", body_producer=producer,
                              expect_100_continue=True)
        self.assertEqual(response.code, 403)

    def test_queue_timeout(self) -> None:
        client = SimpleAsyncHTTPClient(force_instance=True, max_clients=1)
        try:
            first = client.fetch(self.get_url("/hang"))
            with self.assertRaises(HTTPTimeoutError) as cm:
                self.io_loop.run_sync(
                    lambda: client.fetch(self.get_url("/hello"), connect_timeout=0.05)
                )
            self.assertEqual(str(cm.exception), "Timeout in request queue")
            self.assertEqual(len(client.queue), 0)
            self.release.set()
            self.assertEqual(self.io_loop.run_sync(lambda: first).body, b"released")
        finally:
            client.close()

    def test_request_timeout_message(self) -> None:
        with self.assertRaises(HTTPTimeoutError) as cm:
            self.fetch("/hang", request_timeout=0.05, raise_error=True)
        self.assertEqual(str(cm.exception), "Timeout during request")
        self.release.set()

    @gen_test
    def test_resolve_timeout_message(self) -> None:
        done = Event()

        class StuckResolver(Resolver):
            async def resolve(self, host: str, port: int, family: int = 0) -> list:
                await done.wait()
                return [(socket.AF_INET, ("127.0.0.1", port))]

        client = SimpleAsyncHTTPClient(force_instance=True, resolver=StuckResolver())
        try:
            with self.assertRaises(HTTPTimeoutError) as cm:
                yield client.fetch(self.get_url("/hello"), connect_timeout=0.05)
            self.assertEqual(str(cm.exception), "Timeout while resolving 127.0.0.1")
        finally:
            done.set()
            client.close()

    def test_unsupported_scheme(self) -> None:
        with self.assertRaises(ValueError) as cm:
            self.io_loop.run_sync(lambda: self.http_client.fetch("ftp://example.invalid/"))
        self.assertIn("Unsupported url scheme", str(cm.exception))

    def test_proxy_not_supported(self) -> None:
        with self.assertRaises(NotImplementedError):
            self.fetch("/hello", proxy_host="127.0.0.1", proxy_port=3128, raise_error=True)

    def test_network_interface_must_be_an_address(self) -> None:
        self.assertEqual(self.fetch("/hello", network_interface="127.0.0.1").code, 200)
        with self.assertRaises(ValueError):
            self.fetch("/hello", network_interface="eth-nonexistent", raise_error=True)

    def test_host_header_and_url_credentials(self) -> None:
        import base64

        class Echo(RequestHandler):
            def get(self) -> None:
                self.write({"host": self.request.headers["Host"],
                            "auth": self.request.headers.get("Authorization")})

        self._app.add_handlers(".*", [("/whoami", Echo)])
        url = self.get_url("/whoami").replace("http://", "http://me:s%40cret@")
        import json

        data = json.loads(self.fetch(url).body)
        self.assertEqual(data["host"], "127.0.0.1:%d" % self.get_http_port())
        # The userinfo is percent-decoded by urlsplit.
        self.assertEqual(data["auth"], "Basic " + base64.b64encode(b"me:s%40cret").decode())

    def test_hostname_mapping(self) -> None:
        client = SimpleAsyncHTTPClient(
            force_instance=True,
            hostname_mapping={"www.example.invalid": "127.0.0.1"},
        )
        try:
            response = self.io_loop.run_sync(lambda: client.fetch(
                "http://www.example.invalid:%d/hello" % self.get_http_port()))
            self.assertEqual(response.body, b"Hello world!")
        finally:
            client.close()
        client.close()  # idempotent

    def test_unix_socket_through_resolver(self) -> None:
        path = os.path.join(tempfile.mkdtemp(), "http.sock")
        self.http_server.add_socket(bind_unix_socket(path))

        class UnixResolver(Resolver):
            async def resolve(self, host: str, port: int, family: int = 0) -> list:
                return [(socket.AF_UNIX, path)]

        client = SimpleAsyncHTTPClient(force_instance=True, resolver=UnixResolver())
        try:
            response = self.io_loop.run_sync(
                lambda: client.fetch("http://unixhost/hello"))
            self.assertEqual(response.body, b"Hello world!")
        finally:
            client.close()

    def test_async_streaming_callback(self) -> None:
        chunks = []  # type: list

        async def consume(chunk: bytes) -> None:
            await gen.sleep(0)
            chunks.append(chunk)

        self.fetch("/hello", streaming_callback=consume)
        self.assertEqual(b"".join(chunks), b"Hello world!")

    def test_subclass_hook_sees_response(self) -> None:
        # _HTTPConnection is subclassed by the websocket client: its
        # constructor and hooks are part of our contract.
        seen = []  # type: list

        class Recording(_HTTPConnection):
            async def headers_received(self, start_line, headers):  # type: ignore
                seen.append(start_line.code)
                await super().headers_received(start_line, headers)

        class RecordingClient(SimpleAsyncHTTPClient):
            def _connection_class(self) -> type:
                return Recording

        client = RecordingClient(force_instance=True)
        try:
            response = self.io_loop.run_sync(lambda: client.fetch(self.get_url("/hello")))
            self.assertEqual(response.body, b"Hello world!")
            self.assertEqual(seen, [200])
        finally:
            client.close()

    def test_body_goes_out_with_the_head_in_one_write(self) -> None:
        # A second small write could wait on Nagle's algorithm for the ACK
        # of the first one.
        writes = []  # type: list
        real_write = IOStream.write

        def spy(stream: IOStream, data: typing.Any) -> typing.Any:
            writes.append(bytes(data))
            return real_write(stream, data)

        IOStream.write = spy  # type: ignore[method-assign]
        try:
            response = self.fetch("/echo_body", method="POST", body=b"payload")
        finally:
            IOStream.write = real_write  # type: ignore[method-assign]
        self.assertEqual(response.body, b"payload")
        sent = [w for w in writes if w.startswith(b"POST /echo_body ")]
        self.assertEqual(len(sent), 1)
        self.assertTrue(sent[0].endswith(b"\r\n\r\npayload"))

    def test_failure_after_the_answer_is_logged(self) -> None:
        # What run() can no longer report as the response goes to the log
        # (nobody watches its Task).
        class LateFailure(_HTTPConnection):
            async def _read_response(self) -> None:
                await super()._read_response()
                raise ValueError("after the answer")

        class LateClient(SimpleAsyncHTTPClient):
            def _connection_class(self) -> type:
                return LateFailure

        client = LateClient(force_instance=True)
        try:
            with ExpectLog(app_log, "Exception in callback"):
                response = self.io_loop.run_sync(lambda: client.fetch(self.get_url("/hello")))
                self.io_loop.run_sync(lambda: gen.sleep(0.01))
            self.assertEqual(response.body, b"Hello world!")
        finally:
            client.close()

    def test_request_timeouts_share_one_timer(self) -> None:
        # Requests with the same request_timeout queue their deadlines on
        # one loop timer: the hung ones time out, the others finish.
        client = SimpleAsyncHTTPClient(force_instance=True, max_clients=20)
        loop = self.io_loop.asyncio_loop  # type: ignore[attr-defined]
        own_timers = []  # type: list
        real_call_at = loop.call_at

        def spy(when: float, callback: typing.Any, *args: typing.Any, **kw: typing.Any) -> typing.Any:
            if getattr(callback, "__name__", "") == "_on_request_timeout":
                own_timers.append(callback)
            return real_call_at(when, callback, *args, **kw)

        loop.call_at = spy
        try:
            hung = [client.fetch(self.get_url("/hang"), request_timeout=0.2)
                    for _ in range(3)]
            quick = [client.fetch(self.get_url("/hello"), request_timeout=0.2)
                     for _ in range(5)]
            self.io_loop.run_sync(lambda: gen.multi(quick))
            for future in hung:
                with self.assertRaises(HTTPTimeoutError) as cm:
                    self.io_loop.run_sync(lambda f=future: f)  # type: ignore[misc]
                self.assertEqual(str(cm.exception), "Timeout during request")
            self.assertEqual(own_timers, [])
            self.assertEqual(client._timeouts.live, 0)
        finally:
            loop.call_at = real_call_at
            self.release.set()
            client.close()

    def test_out_of_order_deadline_gets_its_own_timer(self) -> None:
        client = SimpleAsyncHTTPClient(force_instance=True)
        try:
            slow = client.fetch(self.get_url("/hang"), request_timeout=5)
            self.io_loop.run_sync(lambda: gen.sleep(0.05))  # slow is queued first
            fast = client.fetch(self.get_url("/hang"), request_timeout=0.1)
            with self.assertRaises(HTTPTimeoutError):
                self.io_loop.run_sync(lambda: fast, timeout=3)
            # The shorter deadline, queued after a later one, still fired
            # on time (the queue's timer waits for the 5 s one).
            self.release.set()
            self.assertEqual(self.io_loop.run_sync(lambda: slow).body, b"released")
        finally:
            client.close()


class TimeoutQueueTest(AsyncTestCase):
    class Conn:
        def __init__(self) -> None:
            self.timed_out = False

        def _on_request_timeout(self) -> None:
            self.timed_out = True

    def test_finished_entries_are_dropped_behind_a_hung_head(self) -> None:
        from tornado.simple_httpclient import _TimeoutQueue

        loop = self.io_loop.asyncio_loop  # type: ignore[attr-defined]
        queue = _TimeoutQueue(loop)
        head = self.Conn()
        queue.add(loop.time() + 3600, head)  # type: ignore[arg-type]
        for _ in range(1000):
            entry = queue.add(loop.time() + 3600, self.Conn())  # type: ignore[arg-type]
            assert entry is not None
            entry.cancel()
        self.assertEqual(queue.live, 1)
        self.assertLessEqual(len(queue._entries), 70)

    def test_expiry_fires_in_order_and_survives_a_failing_callback(self) -> None:
        from tornado.simple_httpclient import _TimeoutQueue

        loop = self.io_loop.asyncio_loop  # type: ignore[attr-defined]
        queue = _TimeoutQueue(loop)

        class Failing(self.Conn):  # type: ignore[name-defined]
            def _on_request_timeout(self) -> None:
                raise RuntimeError("boom")

        now = loop.time()
        first, second, later = Failing(), self.Conn(), self.Conn()
        queue.add(now + 0.01, first)  # type: ignore[arg-type]
        queue.add(now + 0.02, second)  # type: ignore[arg-type]
        queue.add(now + 0.03, later)  # type: ignore[arg-type]
        with ExpectLog(app_log, "Exception in request timeout"):
            self.io_loop.run_sync(lambda: gen.sleep(0.1))
        self.assertTrue(second.timed_out and later.timed_out)
        self.assertEqual(queue.live, 0)
        # A deadline before the last one queued doesn't fit the order.
        self.assertIsNotNone(queue.add(now + 10, self.Conn()))  # type: ignore[arg-type]
        self.assertIsNone(queue.add(now + 5, self.Conn()))  # type: ignore[arg-type]


class RawServerTest(AsyncTestCase):
    """Responses that tornado.web would never produce."""

    def serve_raw(self, response: bytes) -> int:
        [sock] = bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
        port = sock.getsockname()[1]

        async def handle(stream: IOStream) -> None:
            await stream.read_until(b"\r\n\r\n")
            await stream.write(response)
            stream.close()

        def accept(conn: socket.socket, address: typing.Any) -> None:
            self.io_loop.add_callback(handle, IOStream(conn))

        add_accept_handler(sock, accept)
        self.addCleanup(sock.close)
        self.addCleanup(self.io_loop.remove_handler, sock.fileno())
        return port

    def test_refused_request_opens_no_connection(self) -> None:
        [sock] = bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
        self.addCleanup(sock.close)
        accepted = []  # type: list
        add_accept_handler(sock, lambda conn, addr: accepted.append(conn))
        self.addCleanup(self.io_loop.remove_handler, sock.fileno())
        url = "http://127.0.0.1:%d/" % sock.getsockname()[1]
        client = SimpleAsyncHTTPClient(force_instance=True)
        try:
            with self.assertRaises(ValueError):  # POST needs a body
                self.io_loop.run_sync(lambda: client.fetch(url, method="POST"))
            with self.assertRaises(NotImplementedError):
                self.io_loop.run_sync(lambda: client.fetch(url, proxy_host="p", proxy_port=1))
        finally:
            client.close()
        self.io_loop.run_sync(lambda: gen.sleep(0.01))
        self.assertEqual(accepted, [])

    def get(self, port: int, **kwargs: typing.Any) -> HTTPResponse:
        client = SimpleAsyncHTTPClient(force_instance=True, **kwargs)
        try:
            return self.io_loop.run_sync(
                lambda: client.fetch("http://127.0.0.1:%d/" % port, raise_error=False))
        finally:
            client.close()

    def test_http10_body_until_close(self) -> None:
        port = self.serve_raw(b"HTTP/1.0 200 OK\r\n\r\nhello until close")
        self.assertEqual(self.get(port).body, b"hello until close")

    def test_http10_body_until_close_too_large(self) -> None:
        port = self.serve_raw(b"HTTP/1.0 200 OK\r\n\r\n" + b"a" * 5000)
        with self.assertRaises(HTTPClientError):
            self.get(port, max_body_size=1000)

    def test_connection_closed_early(self) -> None:
        port = self.serve_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
        with self.assertRaises(HTTPStreamClosedError) as cm:
            self.get(port)
        self.assertEqual(cm.exception.code, 599)

    def test_interim_100_then_response(self) -> None:
        port = self.serve_raw(b"HTTP/1.1 100 Continue\r\n\r\n"
                              b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        response = self.get(port)
        self.assertEqual((response.code, response.body), (200, b"ok"))

    def test_redirect_to_unsupported_scheme_fails(self) -> None:
        port = self.serve_raw(b"HTTP/1.1 302 Found\r\nLocation: ftp://example.com/\r\n"
                              b"Content-Length: 0\r\n\r\n")
        with self.assertRaises(ValueError) as cm:
            self.get(port)
        self.assertIn("Unsupported url scheme", str(cm.exception))


class TLSTest(AsyncHTTPSTestCase):
    def get_app(self) -> Application:
        return behaviour_app()

    def get_ssl_options(self) -> dict:
        certfile, keyfile = self_signed_cert()
        return dict(certfile=certfile, keyfile=keyfile)

    def get_http_client(self) -> SimpleAsyncHTTPClient:
        return SimpleAsyncHTTPClient(force_instance=True)

    def test_validate_cert(self) -> None:
        # Self-signed: unknown to the system's CAs.
        with self.assertRaises(ssl.SSLError):
            self.fetch("/hello", raise_error=True)
        self.assertEqual(self.fetch("/hello", validate_cert=False).body, b"Hello world!")
        certfile, _ = self_signed_cert()
        self.assertEqual(self.fetch("/hello", ca_certs=certfile).body, b"Hello world!")

    def test_ssl_options(self) -> None:
        ctx = ssl.create_default_context(cafile=self_signed_cert()[0])
        self.assertEqual(self.fetch("/hello", ssl_options=ctx).body, b"Hello world!")
        response = self.fetch("/hello", ssl_options={"cert_reqs": ssl.CERT_NONE})
        self.assertEqual(response.body, b"Hello world!")

    @gen_test
    def test_handshake_timeout(self) -> None:
        [listener] = bind_sockets(0, "127.0.0.1", socket.AF_INET)
        port = listener.getsockname()[1]

        class Silent(TCPServer):
            def handle_stream(self, stream: IOStream, address: typing.Any) -> None:
                self.held = stream

        server = Silent()
        server.add_sockets([listener])
        client = SimpleAsyncHTTPClient(force_instance=True)
        try:
            with self.assertRaises(HTTPTimeoutError) as cm:
                yield client.fetch("https://127.0.0.1:%d/" % port, connect_timeout=1.0,
                                   validate_cert=False)
            self.assertIn("TLS handshake", str(cm.exception))
        finally:
            client.close()
            server.stop()
