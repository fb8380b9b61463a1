"""Tests for tornado.curl_httpclient against a real HTTPServer on 127.0.0.1.

The behaviour shared with simple_httpclient comes from
test_httpclient.ClientBehaviour. What follows is specific to curl: the
handles are pooled and reused, so above all nothing a request sets may
reach the next one on the same handle.
"""

import json
import os
import ssl
import typing
from unittest import mock

import pytest

pycurl = pytest.importorskip("pycurl")

from tornado import gen  # noqa: E402
from tornado.curl_httpclient import (  # noqa: E402
    CurlAsyncHTTPClient,
    CurlError,
    _CurlStreamingBuffer,
)
from tornado.httpclient import HTTPClientError  # noqa: E402
from tornado.netutil import ssl_options_to_context  # noqa: E402
from tornado.testing import AsyncHTTPSTestCase, AsyncHTTPTestCase  # noqa: E402
from tornado.web import Application, RequestHandler  # noqa: E402

from test_httpclient import ClientBehaviour, behaviour_app, self_signed_cert  # noqa: E402


class CurlClientBehaviourTest(ClientBehaviour, AsyncHTTPTestCase):
    def create_client(self, **kwargs: typing.Any) -> CurlAsyncHTTPClient:
        kwargs.setdefault("force_instance", True)
        return CurlAsyncHTTPClient(defaults=dict(allow_ipv6=False), **kwargs)


class CurlRedirectTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        return behaviour_app()

    def get_http_client(self) -> CurlAsyncHTTPClient:
        return CurlAsyncHTTPClient(force_instance=True, defaults=dict(allow_ipv6=False))

    def test_max_redirects_exceeded_is_an_error(self) -> None:
        # libcurl fails the transfer where simple_httpclient returns the
        # last redirect.
        with self.assertRaises(CurlError) as cm:
            self.fetch("/countdown/5", max_redirects=2)
        self.assertIn("redirects", str(cm.exception))


class EchoHeadersHandler(RequestHandler):
    def get(self) -> None:
        self.write(dict(self.request.headers.get_all()))


class LargeHandler(RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/octet-stream")
        self.write(b"".join(b"%09d\n" % i for i in range(20000)))


class ReasonHandler(RequestHandler):
    def get(self) -> None:
        self.set_status(int(self.get_argument("code")), "Very Custom")


class CurlReuseTest(AsyncHTTPTestCase):
    """max_clients=1: every request runs on the same curl handle."""

    def get_app(self) -> Application:
        return Application([
            (".*/echo_headers", EchoHeadersHandler),
            ("/large", LargeHandler),
            ("/reason", ReasonHandler),
        ])

    def get_http_client(self) -> CurlAsyncHTTPClient:
        return CurlAsyncHTTPClient(force_instance=True, max_clients=1,
                                   defaults=dict(allow_ipv6=False))

    def echo(self, **kwargs: typing.Any) -> dict:
        response = self.fetch("/echo_headers", **kwargs)
        response.rethrow()
        return json.loads(response.body)

    def test_nothing_leaks_to_the_next_request(self) -> None:
        first = self.echo(auth_username="user", auth_password="pw",
                          headers={"X-Once": "1"}, user_agent="first-agent")
        self.assertIn("Authorization", first)
        self.assertEqual(first["X-Once"], "1")
        second = self.echo()
        self.assertNotIn("Authorization", second)
        self.assertNotIn("X-Once", second)
        self.assertNotEqual(second["User-Agent"], "first-agent")

    def test_proxy_credentials_do_not_leak(self) -> None:
        # libcurl would also consult the *_proxy environment variables.
        with mock.patch.dict("os.environ"):
            for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY",
                         "no_proxy", "NO_PROXY"):
                os.environ.pop(name, None)
            port = self.get_http_port()
            first = self.echo(proxy_host="127.0.0.1", proxy_port=port,
                              proxy_username="foo", proxy_password="bar")
            self.assertEqual(first["Proxy-Authorization"], "Basic Zm9vOmJhcg==")
            second = self.echo(proxy_host="127.0.0.1", proxy_port=port)
            self.assertNotIn("Proxy-Authorization", second)

    def test_crlf_rejected_and_handle_still_usable(self) -> None:
        with self.assertRaises(ValueError):
            self.fetch("/echo_headers", headers={"X-Bad": "a\r\nX-Injected: 1"},
                       raise_error=True)
        self.assertNotIn("X-Injected", self.echo())

    def test_prepare_curl_callback(self) -> None:
        def prepare(curl: typing.Any) -> None:
            curl.setopt(pycurl.USERAGENT, "from-prepare")

        self.assertEqual(self.echo(prepare_curl_callback=prepare)["User-Agent"],
                         "from-prepare")
        self.assertNotEqual(self.echo()["User-Agent"], "from-prepare")

    def test_time_info_and_debug_log(self) -> None:
        import logging

        from tornado.curl_httpclient import curl_log

        # With curl_log at DEBUG the transfer runs verbose and libcurl's
        # trace (our request's head, marked ">") goes to that logger.
        records: typing.List[logging.LogRecord] = []

        class Collect(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                records.append(record)

        handler = Collect()
        old_level, old_propagate = curl_log.level, curl_log.propagate
        curl_log.addHandler(handler)
        curl_log.setLevel(logging.DEBUG)
        curl_log.propagate = False
        try:
            response = self.fetch("/reason?code=200")
        finally:
            curl_log.removeHandler(handler)
            curl_log.setLevel(old_level)
            curl_log.propagate = old_propagate
        messages = [record.getMessage() for record in records]
        self.assertIn("> GET /reason?code=200 HTTP/1.1", messages)
        self.assertTrue(any(m.startswith("< HTTP/1.1 200") for m in messages), messages)
        self.assertEqual(
            set(response.time_info),
            {"queue", "namelookup", "connect", "appconnect", "pretransfer",
             "starttransfer", "total", "redirect"},
        )
        self.assertGreater(response.time_info["total"], 0)

    def test_custom_reason(self) -> None:
        self.assertEqual(self.fetch("/reason?code=200").reason, "Very Custom")
        self.assertEqual(str(self.fetch("/reason?code=400").error), "HTTP 400: Very Custom")

    def test_streaming_pause_and_resume(self) -> None:
        chunks = []  # type: list
        with mock.patch.object(_CurlStreamingBuffer, "max_buffer_size", 1024):
            response = self.fetch("/large", streaming_callback=chunks.append)
        self.assertEqual(response.code, 200)
        self.assertEqual(b"".join(chunks), b"".join(b"%09d\n" % i for i in range(20000)))

    def test_coroutine_streaming_callback_refused(self) -> None:
        async def consume(chunk: bytes) -> None:
            await gen.sleep(0)

        with self.assertRaises(TypeError):
            self.fetch("/large", streaming_callback=consume, raise_error=True)
        # The handle went back to the pool in a usable state.
        self.assertEqual(self.fetch("/large").code, 200)

    def test_close_with_transfers_in_flight(self) -> None:
        # Whatever libcurl or a streaming buffer still has scheduled must
        # find the closed client inert, not crash in the IOLoop.
        client = CurlAsyncHTTPClient(force_instance=True, max_clients=2)
        with mock.patch.object(_CurlStreamingBuffer, "max_buffer_size", 1024):
            for _ in range(3):
                client.fetch(self.get_url("/large"), streaming_callback=lambda c: None)
            with self.assertNoLogs(level="ERROR"):
                self.io_loop.run_sync(lambda: gen.sleep(0.02))
                client.close()
                client.close()  # idempotent
                client._set_timeout(0)
                self.io_loop.run_sync(lambda: gen.sleep(0.05))

    def test_max_body_size_message(self) -> None:
        client = CurlAsyncHTTPClient(force_instance=True, max_body_size=100, max_clients=1)
        try:
            with self.assertRaises(CurlError) as cm:
                self.io_loop.run_sync(lambda: client.fetch(self.get_url("/large")))
            self.assertIn("max_body_size", str(cm.exception))
            self.assertEqual(cm.exception.code, 599)
            chunks = []  # type: list
            with self.assertRaises(HTTPClientError):
                self.io_loop.run_sync(lambda: client.fetch(
                    self.get_url("/large"), streaming_callback=chunks.append))
            self.assertLessEqual(sum(map(len, chunks)), 100)
        finally:
            client.close()


def _buffer(max_body_size: int = 1 << 20) -> typing.Tuple[_CurlStreamingBuffer, list, list]:
    class FakeClient:
        class io_loop:
            @staticmethod
            def add_callback(cb: typing.Any) -> None:
                pass

        def __init__(self) -> None:
            self.max_body_size = max_body_size
            self.timeouts = []  # type: list

        def _set_timeout(self, msecs: int) -> None:
            self.timeouts.append(msecs)

    paused = []  # type: list

    class FakeCurl:
        def pause(self, flags: int) -> None:
            paused.append(flags)

    client = FakeClient()
    chunks = []  # type: list
    buf = _CurlStreamingBuffer(client, FakeCurl(), chunks.append)  # type: ignore
    return buf, chunks, paused


def test_streaming_buffer_pauses_when_full() -> None:
    buf, chunks, paused = _buffer()
    with mock.patch.object(_CurlStreamingBuffer, "max_buffer_size", 4):
        assert buf.write(b"hello") == 5  # an empty buffer takes any chunk
        assert buf.write(b"world") == pycurl.WRITEFUNC_PAUSE
        assert buf.paused
        buf.flush()
    assert chunks == [b"hello"]
    assert paused == [pycurl.PAUSE_CONT]
    assert not buf.paused


def test_streaming_buffer_refuses_past_max_body_size() -> None:
    buf, chunks, paused = _buffer(max_body_size=8)
    assert buf.write(b"12345") == 5
    assert buf.write(b"67890") == 0
    assert buf.body_too_large
    buf.flush()
    assert chunks == [b"12345"] and paused == []


class CurlTLSTest(AsyncHTTPSTestCase):
    def get_app(self) -> Application:
        app = behaviour_app()
        app.add_handlers(".*", [("/echo_cert", ClientCertHandler)])
        return app

    def get_ssl_options(self) -> dict:
        certfile, keyfile = self_signed_cert()
        return dict(certfile=certfile, keyfile=keyfile)

    def get_httpserver_options(self) -> dict:
        ctx = ssl_options_to_context(self.get_ssl_options(), server_side=True)
        ctx.load_verify_locations(self_signed_cert()[0])
        ctx.verify_mode = ssl.CERT_OPTIONAL
        return dict(ssl_options=ctx)

    def get_http_client(self) -> CurlAsyncHTTPClient:
        return CurlAsyncHTTPClient(force_instance=True, max_clients=1,
                                   defaults=dict(allow_ipv6=False))

    def test_validate_cert(self) -> None:
        with self.assertRaises(CurlError):  # self-signed: refused
            self.fetch("/hello")
        self.assertEqual(self.fetch("/hello", validate_cert=False).body, b"Hello world!")
        certfile, _ = self_signed_cert()
        self.assertEqual(self.fetch("/hello", ca_certs=certfile).body, b"Hello world!")
        # Neither ca_certs nor validate_cert=False carried over.
        with self.assertRaises(CurlError):
            self.fetch("/hello")

    def test_client_cert_not_reused(self) -> None:
        certfile, keyfile = self_signed_cert()
        first = self.fetch("/echo_cert", validate_cert=False, client_cert=certfile,
                           client_key=keyfile)
        self.assertIn(b"localhost", first.body)
        second = self.fetch("/echo_cert", validate_cert=False)
        self.assertEqual(second.body, b"no client cert")


class ClientCertHandler(RequestHandler):
    def get(self) -> None:
        cert = self.request.get_ssl_certificate()
        self.write("client cert: %s" % (cert["subject"],) if cert else "no client cert")
