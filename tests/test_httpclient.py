"""Tests for tornado.httpclient: the request/response objects, errors, the
AsyncHTTPClient plumbing, the blocking HTTPClient and the command line.

The implementations' network behaviour is tested in test_simple_httpclient.py
and test_curl_httpclient.py; the server-side helpers shared with them live
here (plain functions and handlers, no test classes, so that importing them
does not collect tests twice).
"""

import copy
import datetime
import os
import shutil
import tempfile
import subprocess
import sys
import threading
import time
import typing
from io import BytesIO

import pytest

from tornado import gen
from tornado.httpclient import (
    AsyncHTTPClient,
    HTTPClient,
    HTTPClientError,
    HTTPError,
    HTTPRequest,
    HTTPResponse,
    _RequestProxy,
)
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders, format_timestamp
from tornado.ioloop import IOLoop
from tornado.testing import AsyncTestCase, bind_unused_port, gen_test
from tornado.web import Application, RequestHandler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- server side shared with the implementation tests -----------------------


class HelloHandler(RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write("Hello %s!" % self.get_argument("name", "world"))


class ServerThread:
    """An HTTPServer on its own IOLoop in a thread, for blocking clients."""

    def __init__(self, app: Application) -> None:
        self.io_loop = IOLoop(make_current=False)
        started = threading.Event()

        async def init() -> None:
            sock, self.port = bind_unused_port()
            self.server = HTTPServer(app)
            self.server.add_socket(sock)

        def run() -> None:
            self.io_loop.run_sync(init)
            started.set()
            self.io_loop.start()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait()

    def url(self, path: str) -> str:
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self) -> None:
        async def shutdown() -> None:
            self.server.stop()
            await self.server.close_all_connections()
            self.io_loop.stop()

        self.io_loop.add_callback(shutdown)
        self.thread.join()
        self.io_loop.close(all_fds=True)


_cert_dir = None  # type: typing.Optional[str]


def self_signed_cert() -> typing.Tuple[str, str]:
    """(certfile, keyfile) of a throwaway certificate for 127.0.0.1 and
    localhost, made once per test run with the openssl command."""
    global _cert_dir
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available")
    if _cert_dir is None:
        _cert_dir = tempfile.mkdtemp(prefix="httpclient-tls-")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", os.path.join(_cert_dir, "key.pem"),
             "-out", os.path.join(_cert_dir, "cert.pem"),
             "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, capture_output=True, timeout=60,
        )
    return os.path.join(_cert_dir, "cert.pem"), os.path.join(_cert_dir, "key.pem")


# --- HTTPRequest --------------------------------------------------------------


def test_request_defaults_are_unset() -> None:
    request = HTTPRequest("http://example.com/")
    assert request.method == "GET"
    assert request.body is None
    assert isinstance(request.headers, HTTPHeaders)
    assert dict(request.headers) == {}
    # Unset (None) so that the client's defaults apply.
    for name in ("connect_timeout", "request_timeout", "follow_redirects",
                 "validate_cert", "decompress_response", "user_agent"):
        assert getattr(request, name) is None, name
    assert request.expect_100_continue is False
    assert abs(request.start_time - time.time()) < 5


def test_request_headers_setter() -> None:
    request = HTTPRequest("http://example.com/", headers={"foo": "bar"})
    assert request.headers == {"foo": "bar"}
    request.headers = None  # type: ignore
    assert isinstance(request.headers, HTTPHeaders) and dict(request.headers) == {}
    request.headers = {"a": "b"}  # type: ignore
    assert request.headers == {"a": "b"}


def test_request_body_is_utf8() -> None:
    request = HTTPRequest("http://example.com/", method="POST", body="\xe9")
    assert request.body == b"\xc3\xa9"
    request.body = "x"  # type: ignore
    assert request.body == b"x"
    request.body = None  # type: ignore
    assert request.body is None


def test_request_if_modified_since() -> None:
    when = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    request = HTTPRequest("http://example.com/", if_modified_since=when)
    assert request.headers["If-Modified-Since"] == format_timestamp(when)
    assert request.headers["If-Modified-Since"] == "Thu, 02 Jan 2020 03:04:05 GMT"


def test_request_use_gzip_is_old_name_of_decompress_response() -> None:
    assert HTTPRequest("http://x/", use_gzip=False).decompress_response is False
    assert HTTPRequest("http://x/", use_gzip=True).decompress_response is True
    # The new name wins when both are given.
    request = HTTPRequest("http://x/", use_gzip=True, decompress_response=False)
    assert request.decompress_response is False


def test_check_body_presence_messages() -> None:
    from tornado.httpclient import _check_body_presence

    for method in ("POST", "PUT", "PATCH"):
        _check_body_presence(method, True)
        with pytest.raises(ValueError, match="Body must not be None for method " + method):
            _check_body_presence(method, False)
    for method in ("GET", "DELETE", "HEAD", "OPTIONS"):
        _check_body_presence(method, False)
        with pytest.raises(ValueError, match="Body must be None for method " + method):
            _check_body_presence(method, True)


# --- _RequestProxy ------------------------------------------------------------


def test_request_proxy() -> None:
    request = HTTPRequest("http://example.com/", user_agent="mine", proxy_host="p")
    proxy = _RequestProxy(request, dict(user_agent="default", network_interface="eth9",
                                        proxy_host="other"))
    assert proxy.user_agent == "mine"
    assert proxy.network_interface == "eth9"
    assert proxy.proxy_host == "p"
    assert proxy.auth_username is None
    assert proxy.request is request
    with pytest.raises(AttributeError):
        proxy.no_such_attribute
    assert _RequestProxy(request, None).network_interface is None


def test_request_proxy_keeps_falsy_values_and_shares_headers() -> None:
    request = HTTPRequest("http://example.com/", follow_redirects=False, max_redirects=0,
                          headers={"X-A": "1"}, body="payload")
    proxy = _RequestProxy(request, dict(follow_redirects=True, max_redirects=5,
                                        request_timeout=7.0, not_an_attribute=1))
    # Only None is replaced by a default; False and 0 are the request's choice.
    assert proxy.follow_redirects is False
    assert proxy.max_redirects == 0
    assert proxy.request_timeout == 7.0
    # The properties read through to the request's own objects.
    assert proxy.headers is request.headers
    assert proxy.body == b"payload"
    with pytest.raises(AttributeError):
        proxy.not_an_attribute


# --- HTTPResponse and errors --------------------------------------------------


def test_response_ok() -> None:
    request = HTTPRequest("http://example.com/a")
    response = HTTPResponse(request, 200, buffer=BytesIO(b"data"), request_time=0.5)
    assert response.code == 200
    assert response.reason == "OK"
    assert response.error is None
    assert response.body == b"data"
    assert response.body is response.body  # read once
    assert response.effective_url == "http://example.com/a"
    assert response.time_info == {}
    response.rethrow()  # no error: nothing raised
    assert repr(response).startswith("HTTPResponse(")
    assert "code=200" in repr(response)


def test_response_without_buffer_has_empty_body() -> None:
    response = HTTPResponse(HTTPRequest("http://example.com/"), 204)
    assert response.body == b""


def test_response_error_code() -> None:
    response = HTTPResponse(HTTPRequest("http://example.com/"), 404)
    assert isinstance(response.error, HTTPClientError)
    assert response.error.code == 404
    assert response.error.response is response
    with pytest.raises(HTTPError) as info:
        response.rethrow()
    assert str(info.value) == "HTTP 404: Not Found"


def test_response_custom_reason_and_explicit_error() -> None:
    response = HTTPResponse(HTTPRequest("http://x/"), 400, reason="Bad Thing")
    assert str(response.error) == "HTTP 400: Bad Thing"
    boom = ValueError("boom")
    response = HTTPResponse(HTTPRequest("http://x/"), 599, error=boom)
    assert response.error is boom
    with pytest.raises(ValueError):
        response.rethrow()


def test_response_unwraps_request_proxy() -> None:
    request = HTTPRequest("http://x/")
    response = HTTPResponse(_RequestProxy(request, {}), 200)  # type: ignore
    assert response.request is request


def test_error_str_repr_copy() -> None:
    assert HTTPError is HTTPClientError
    e = HTTPClientError(403)
    assert str(e) == repr(e) == "HTTP 403: Forbidden"
    assert str(HTTPClientError(599)) == "HTTP 599: Unknown"
    assert str(HTTPClientError(500, "Oops")) == "HTTP 500: Oops"
    e2 = copy.copy(e)
    assert e2 is not e and e2.code == 403 and e2.message == "Forbidden"


# --- AsyncHTTPClient plumbing -------------------------------------------------


class RecordingClient(AsyncHTTPClient):
    """An implementation that answers every request from memory."""

    def initialize(self, defaults: typing.Optional[dict] = None) -> None:  # type: ignore
        super().initialize(defaults=defaults)
        self.seen = []  # type: list

    def fetch_impl(self, request, callback):  # type: ignore
        self.seen.append(request)
        code = int(request.url.rsplit("/", 1)[1] or 200)
        IOLoop.current().add_callback(
            callback, HTTPResponse(request, code, buffer=BytesIO(b"x"))
        )


class AsyncHTTPClientPlumbingTest(AsyncTestCase):
    def test_one_instance_per_ioloop(self) -> None:
        a = RecordingClient()
        self.assertIs(a, RecordingClient())
        forced = RecordingClient(force_instance=True)
        self.assertIsNot(a, forced)
        forced.close()
        a.close()
        # Closing drops the shared instance; the next call makes a new one.
        b = RecordingClient()
        self.assertIsNot(a, b)
        b.close()

    def test_closed_client_refuses(self) -> None:
        client = RecordingClient(force_instance=True)
        client.close()
        client.close()  # idempotent
        with self.assertRaises(RuntimeError):
            client.fetch("http://x/200")

    @gen_test
    def test_defaults_and_proxy(self) -> None:
        client = RecordingClient(force_instance=True, defaults=dict(user_agent="UA"))
        try:
            response = yield client.fetch("http://x/200")
            self.assertEqual(response.body, b"x")
            proxied = client.seen[0]
            self.assertEqual(proxied.user_agent, "UA")
            # Built-in defaults fill in the rest.
            self.assertEqual(proxied.connect_timeout, 20.0)
            self.assertEqual(proxied.follow_redirects, True)
            # The response carries the real request, not the proxy.
            self.assertIsInstance(response.request, HTTPRequest)
        finally:
            client.close()

    @gen_test
    def test_raise_error(self) -> None:
        client = RecordingClient(force_instance=True)
        try:
            with self.assertRaises(HTTPClientError) as cm:
                yield client.fetch("http://x/404")
            self.assertEqual(cm.exception.code, 404)
            response = yield client.fetch("http://x/404", raise_error=False)
            self.assertEqual(response.code, 404)
        finally:
            client.close()

    def test_kwargs_with_request_object(self) -> None:
        client = RecordingClient(force_instance=True)
        try:
            with self.assertRaises(ValueError):
                client.fetch(HTTPRequest("http://x/200"), method="POST")
        finally:
            client.close()

    @gen_test
    def test_callers_headers_untouched(self) -> None:
        client = RecordingClient(force_instance=True)
        try:
            headers = HTTPHeaders({"User-Agent": "Foo"})
            yield client.fetch("http://x/200", headers=headers)
            client.seen[0].headers["X-Added"] = "1"
            self.assertEqual(list(headers.get_all()), [("User-Agent", "Foo")])
        finally:
            client.close()


def test_configure_chooses_implementation() -> None:
    saved = AsyncHTTPClient._save_configuration()
    try:
        AsyncHTTPClient.configure(RecordingClient, defaults=dict(user_agent="conf"))
        loop = IOLoop(make_current=False)
        try:
            async def make() -> AsyncHTTPClient:
                return AsyncHTTPClient(force_instance=True)

            client = loop.run_sync(make)
            assert isinstance(client, RecordingClient)
            assert client.defaults["user_agent"] == "conf"
            client.close()
        finally:
            loop.close()
    finally:
        AsyncHTTPClient._restore_configuration(saved)


# --- blocking client and command line ------------------------------------------


@pytest.fixture
def server_thread() -> typing.Iterator[ServerThread]:
    server = ServerThread(Application([("/hello", HelloHandler)]))
    yield server
    server.stop()


def test_sync_client(server_thread: ServerThread) -> None:
    client = HTTPClient()
    try:
        response = client.fetch(server_thread.url("/hello?name=sync"))
        assert response.body == b"Hello sync!"
        with pytest.raises(HTTPError) as info:
            client.fetch(server_thread.url("/missing"))
        assert info.value.code == 404
        assert info.value.response is not None
    finally:
        client.close()
    client.close()  # idempotent


def _run_cli(*args: str) -> str:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run(
        [sys.executable, "-m", "tornado.httpclient", *args],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    ).stdout


def test_command_line(server_thread: ServerThread) -> None:
    assert _run_cli(server_thread.url("/hello")) == "Hello world!\n"
    out = _run_cli("--print_headers", "--print_body=false", server_thread.url("/hello"))
    assert "Content-Type: text/plain" in out
    assert "Hello" not in out
    # An error response is printed like any other.
    assert "404" in _run_cli(server_thread.url("/missing"))


def test_no_destructor_noise_at_exit() -> None:
    # An HTTPClient left for the interpreter to clean up must not log.
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run(
        [sys.executable, "-c",
         "from tornado.httpclient import HTTPClient; f = lambda: None; c = HTTPClient()"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout == "" and proc.stderr == ""


# --- behaviour every implementation shares ------------------------------------
#
# ClientBehaviour is mixed into an AsyncHTTPTestCase by the implementation
# tests (test_simple_httpclient.py, test_curl_httpclient.py), which supply
# create_client(). It is not a TestCase itself, so it is not collected here.


class EchoHandler(RequestHandler):
    """Answers with the method, selected request headers and the body."""

    SUPPORTED_METHODS = RequestHandler.SUPPORTED_METHODS + ("OTHER",)  # type: ignore

    def _echo(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.write({
            "method": self.request.method,
            "headers": dict(self.request.headers.get_all()),
            "body": self.request.body.decode("latin1"),
        })

    get = post = put = delete = patch = options = other = _echo  # type: ignore

    def head(self) -> None:
        self.set_header("X-Method", "HEAD")


class RedirectHandler(RequestHandler):
    def prepare(self) -> None:
        self.write("a redirect body that nobody reads")
        self.redirect(self.get_argument("url"), status=int(self.get_argument("status", "302")))


class CountdownHandler(RequestHandler):
    def get(self, count: str) -> None:
        n = int(count)
        if n > 0:
            self.redirect("/countdown/%d" % (n - 1))
        else:
            self.write("Zero")


class ChunkHandler(RequestHandler):
    async def get(self) -> None:
        for i in range(5):
            self.write("chunk%d;" % i)
            await self.flush()


class GzipHandler(RequestHandler):
    def get(self) -> None:
        import gzip

        self.set_header("Content-Encoding", "gzip")
        self.write(gzip.compress(b"compressed " * 100))


class SlowHandler(RequestHandler):
    # How many run at once, and the most that ever did.
    running = 0
    most_running = 0

    async def get(self) -> None:
        cls = SlowHandler
        cls.running += 1
        cls.most_running = max(cls.most_running, cls.running)
        try:
            await gen.sleep(float(self.get_argument("delay", "0.2")))
        finally:
            cls.running -= 1
        self.write("slow")


class BigHandler(RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/octet-stream")
        self.write(b"b" * int(self.get_argument("size")))


def behaviour_app() -> Application:
    return Application([
        ("/hello", HelloHandler),
        ("/echo", EchoHandler),
        ("/redirect", RedirectHandler),
        ("/countdown/([0-9]+)", CountdownHandler),
        ("/chunks", ChunkHandler),
        ("/gzip", GzipHandler),
        ("/slow", SlowHandler),
        ("/big", BigHandler),
    ])


class ClientBehaviour:  # mixin: self is also an AsyncHTTPTestCase
    """Tests run against each implementation; mixed into AsyncHTTPTestCase."""

    # The rest (fetch, get_url, io_loop, assert*) comes from AsyncHTTPTestCase.

    def create_client(self, **kwargs: typing.Any) -> AsyncHTTPClient:
        raise NotImplementedError()

    def get_app(self) -> Application:
        return behaviour_app()

    def get_http_client(self) -> AsyncHTTPClient:
        return self.create_client()

    def echo(self, **kwargs: typing.Any) -> dict:
        import json

        response = self.fetch("/echo", **kwargs)
        response.rethrow()
        return json.loads(response.body)

    def second_origin_url(self, path: str) -> str:
        # Same app on another port: a different origin (RFC 6454).
        if not hasattr(self, "_port2"):
            sock, self._port2 = bind_unused_port()
            self.http_server.add_socket(sock)
        return "http://127.0.0.1:%d%s" % (self._port2, path)

    def test_get(self) -> None:
        response = self.fetch("/hello?name=you")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"Hello you!")
        self.assertEqual(response.headers["Content-Type"], "text/plain")
        self.assertEqual(response.effective_url, self.get_url("/hello?name=you"))
        self.assertTrue(0 <= response.request_time < 10)

    def test_methods_and_bodies(self) -> None:
        self.assertEqual(self.echo(method="POST", body="a=1")["body"], "a=1")
        self.assertEqual(self.echo(method="PUT", body=b"\xe9")["body"], "\xe9")
        self.assertEqual(self.echo(method="PATCH", body="p")["method"], "PATCH")
        self.assertEqual(self.echo(method="DELETE")["method"], "DELETE")
        other = self.echo(method="OTHER", allow_nonstandard_methods=True)
        self.assertEqual(other["method"], "OTHER")
        response = self.fetch("/echo", method="HEAD")
        self.assertEqual((response.code, response.body), (200, b""))
        self.assertEqual(response.headers["X-Method"], "HEAD")

    def test_body_sanity_checks(self) -> None:
        with self.assertRaisesRegex(ValueError, "must not be None for method POST"):
            self.fetch("/echo", method="POST", raise_error=True)
        with self.assertRaisesRegex(ValueError, "must be None for method DELETE"):
            self.fetch("/echo", method="DELETE", body="x", raise_error=True)

    def test_error_status(self) -> None:
        response = self.fetch("/missing")
        self.assertEqual(response.code, 404)
        self.assertIsInstance(response.error, HTTPClientError)
        with self.assertRaises(HTTPClientError):
            self.fetch("/missing", raise_error=True)

    def test_header_values(self) -> None:
        headers = self.echo(headers={"X-Str": "caf\xe9", "X-Bytes": b"raw"},
                            user_agent="agent/1")["headers"]
        self.assertEqual(headers["X-Str"], "caf\xe9")
        self.assertEqual(headers["X-Bytes"], "raw")
        self.assertEqual(headers["User-Agent"], "agent/1")

    def test_crlf_in_headers_rejected(self) -> None:
        for bad in ("a\r\nInjected: 1", "a\nb", "a\rb"):
            with self.assertRaises(ValueError):
                self.fetch("/hello", headers={"X-Bad": bad}, raise_error=True)
            with self.assertRaises(ValueError):
                self.fetch("/hello", headers={bad + ":": "v"}, raise_error=True)

    def test_basic_auth(self) -> None:
        import base64

        headers = self.echo(auth_username="Aladdin", auth_password="open sesame")["headers"]
        self.assertEqual(headers["Authorization"],
                         "Basic " + base64.b64encode(b"Aladdin:open sesame").decode())

    def test_follow_redirects(self) -> None:
        response = self.fetch("/countdown/3")
        self.assertEqual(response.body, b"Zero")
        self.assertTrue(response.effective_url.endswith("/countdown/0"))
        self.assertTrue(response.request.url.endswith("/countdown/3"))
        response = self.fetch("/countdown/3", follow_redirects=False)
        self.assertEqual(response.code, 302)
        self.assertTrue(response.headers["Location"].endswith("/countdown/2"))

    def test_redirect_methods(self) -> None:
        # 303 (and 301/302 for POST) turn the request into a GET without body.
        for status in (301, 302, 303):
            result = self.echo_after_redirect(status, method="POST", body="data")
            self.assertEqual((result["method"], result["body"]), ("GET", ""))
        # 307 and 308 keep the method and body.
        for status in (307, 308):
            result = self.echo_after_redirect(status, method="PUT", body="data")
            self.assertEqual((result["method"], result["body"]), ("PUT", "data"))

    def test_redirect_307_without_body(self) -> None:
        # A bodiless PUT sent chunked must be framed anew after a redirect
        # (the first message's Transfer-Encoding must not carry over).
        result = self.echo_after_redirect(307, method="PUT", allow_nonstandard_methods=True)
        self.assertEqual((result["method"], result["body"]), ("PUT", ""))

    def echo_after_redirect(self, status: int, **kwargs: typing.Any) -> dict:
        import json

        response = self.fetch("/redirect?status=%d&url=/echo" % status, **kwargs)
        response.rethrow()
        return json.loads(response.body)

    def test_cross_origin_redirect_drops_credentials(self) -> None:
        import json
        from urllib.parse import quote

        for kwargs in (dict(headers={"Authorization": "secret", "Cookie": "c=1"}),
                       dict(auth_username="me", auth_password="pw")):
            target = quote(self.second_origin_url("/echo"))
            response = self.fetch("/redirect?url=" + target, **kwargs)
            response.rethrow()
            headers = json.loads(response.body)["headers"]
            self.assertNotIn("Authorization", headers)
            self.assertNotIn("Cookie", headers)
            self.assertIn("User-Agent", headers)
            # Same origin: they stay.
            response = self.fetch("/redirect?url=/echo", **kwargs)
            self.assertIn("Authorization", json.loads(response.body)["headers"])

    def test_streaming_callback(self) -> None:
        chunks = []  # type: list
        response = self.fetch("/chunks", streaming_callback=chunks.append)
        self.assertEqual(response.code, 200)
        self.assertEqual(b"".join(chunks), b"".join(b"chunk%d;" % i for i in range(5)))
        self.assertEqual(response.body, b"")

    def test_header_callback(self) -> None:
        lines = []  # type: list
        chunks = []  # type: list

        def on_chunk(chunk: bytes) -> None:
            # Every header line comes before the first chunk.
            self.assertEqual(lines[-1], "\r\n")
            chunks.append(chunk)

        self.fetch("/hello", header_callback=lines.append, streaming_callback=on_chunk)
        self.assertTrue(lines[0].startswith("HTTP/1.1 200"))
        self.assertIn("Content-Type: text/plain\r\n", lines)
        self.assertEqual(lines[-1], "\r\n")
        self.assertEqual(chunks, [b"Hello world!"])

    def test_gzip(self) -> None:
        response = self.fetch("/gzip")
        self.assertEqual(response.body, b"compressed " * 100)
        raw = self.fetch("/gzip", decompress_response=False)
        import gzip

        self.assertEqual(gzip.decompress(raw.body), b"compressed " * 100)
        self.assertEqual(raw.headers["Content-Encoding"], "gzip")

    def test_request_timeout(self) -> None:
        with self.assertRaises(HTTPClientError) as cm:
            self.fetch("/slow?delay=1", request_timeout=0.1, raise_error=True)
        self.assertEqual(cm.exception.code, 599)

    def test_max_clients_queue(self) -> None:
        client = self.create_client(force_instance=True, max_clients=1)
        try:
            SlowHandler.most_running = 0
            futures = [client.fetch(self.get_url("/slow?delay=0.05")) for _ in range(3)]
            responses = self.io_loop.run_sync(lambda: gen.multi(futures))
            self.assertEqual([r.body for r in responses], [b"slow"] * 3)
            # Queued requests waited for the one ahead of them.
            self.assertEqual(SlowHandler.most_running, 1)
        finally:
            client.close()

    def test_max_body_size(self) -> None:
        client = self.create_client(force_instance=True, max_body_size=1000)
        try:
            ok = self.io_loop.run_sync(lambda: client.fetch(self.get_url("/big?size=1000")))
            self.assertEqual(len(ok.body), 1000)
            with self.assertRaises(HTTPClientError) as cm:
                self.io_loop.run_sync(lambda: client.fetch(self.get_url("/big?size=1001")))
            self.assertEqual(cm.exception.code, 599)
        finally:
            client.close()
