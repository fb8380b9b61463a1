"""Our own web, WebSocket and client test classes, run again over HTTP/2.

Each `AsyncHTTPTestCase` class of tests/test_web.py,
tests/test_websocket.py, tests/test_simple_httpclient.py (the client's
behaviour against our server), tests/test_routing.py, tests/test_wsgi.py,
tests/test_auth.py and tests/test_testing.py is subclassed here with the
`OverHTTP2` mixin: the test server is ``HTTPServer(app, http2=True)`` and the test
client ``SimpleAsyncHTTPClient(http2="prior_knowledge")``, so every
``self.fetch`` is a stream of an h2c connection (the tests' server is
cleartext).  The WebSocket classes' ``websocket_connect`` stays on
HTTP/1.1 (the client has no RFC 8441 support), against the same
HTTP/2-enabled server; their plain fetches go over HTTP/2.

A test that checks something HTTP/2 does differently by design is listed
in ``_DIFFERENT`` with the reason, and skipped here (it still runs in its
own module).  After each test the mixin checks that the requests it made
went over HTTP/2.
"""

import typing

import pytest

pytest.importorskip("h2")

import test_auth  # noqa: E402
import test_routing  # noqa: E402
import test_simple_httpclient  # noqa: E402
import test_testing  # noqa: E402
import test_web  # noqa: E402
import test_websocket  # noqa: E402
import test_wsgi  # noqa: E402
from tornado.httpclient import AsyncHTTPClient  # noqa: E402
from tornado.simple_httpclient import SimpleAsyncHTTPClient  # noqa: E402
from tornado.testing import AsyncHTTPTestCase  # noqa: E402

# test id (Class.method) -> why it does not apply to HTTP/2.
_DIFFERENT: typing.Dict[str, str] = {
    "SimpleClientBehaviourTest.test_header_callback": "checks for an HTTP/1.1 status line; over HTTP/2 it is 'HTTP/2 200 OK'",
    "WebTest.test_status_and_reason": "HTTP/2 carries no reason phrase (RFC 9113 section 8.3.2)",
    "SimpleClientTest.test_body_goes_out_with_the_head_in_one_write": (
        "looks for the HTTP/1.1 request bytes on the wire"
    ),
    "ConversationTest.test_handshake_errors": "sends HTTP/1.1 Upgrade handshakes through the HTTP client; Upgrade and "
    "Connection are connection headers HTTP/2 does not carry",
}


class OverHTTP2:
    """Mixin for an `AsyncHTTPTestCase`: HTTP/2 server and client."""

    _h2_clients: typing.List[SimpleAsyncHTTPClient]

    def setUp(self) -> None:
        reason = _DIFFERENT.get(
            "%s.%s" % (type(self).__bases__[1].__name__, self._testMethodName)
        )  # type: ignore[attr-defined]
        if reason is not None:
            pytest.skip(reason)
        self._h2_clients = []
        super().setUp()  # type: ignore[misc]

    def get_httpserver_options(self) -> typing.Dict[str, typing.Any]:
        options = dict(super().get_httpserver_options())  # type: ignore[misc]
        options["http2"] = True
        return options

    def get_http_client(self) -> AsyncHTTPClient:
        return self.create_client()

    def create_client(self, **kwargs: typing.Any) -> SimpleAsyncHTTPClient:
        # Also ClientBehaviour's hook for clients with options of their own.
        kwargs.setdefault("force_instance", True)
        kwargs.setdefault("http2", "prior_knowledge")
        client = SimpleAsyncHTTPClient(**kwargs)
        self._h2_clients.append(client)
        # Counts the requests, to check that they went over HTTP/2.
        client._h2_requests = 0  # type: ignore[attr-defined]
        fetch_impl = client.fetch_impl

        def counting(request: typing.Any, callback: typing.Any) -> None:
            def count(response: typing.Any) -> None:
                # Answers from a server, not failures before sending.
                if response.code != 599:
                    client._h2_requests += 1  # type: ignore[attr-defined]
                callback(response)

            fetch_impl(request, count)

        client.fetch_impl = counting  # type: ignore[method-assign]
        return client

    def tearDown(self) -> None:
        requests = sum(c._h2_requests for c in self._h2_clients)  # type: ignore[attr-defined]
        connections = sum(
            c._h2_pool.connections_made
            for c in self._h2_clients
            if c._h2_pool is not None
        )
        super().tearDown()  # type: ignore[misc]
        if requests:
            assert connections >= 1, "%d answers, no HTTP/2 connection" % requests


def _rerun(
    module: typing.Any, names: typing.Optional[typing.Iterable[str]] = None
) -> None:
    """Defines ``<Class>OverHTTP2`` here for each `AsyncHTTPTestCase` class
    of ``module`` (or those named)."""
    for name, value in sorted(vars(module).items()):
        if names is not None and name not in names:
            continue
        if (
            isinstance(value, type)
            and issubclass(value, AsyncHTTPTestCase)
            and value.__module__ == module.__name__
        ):
            rerun = type(
                name + "OverHTTP2", (OverHTTP2, value), {"__module__": __name__}
            )
            globals()[rerun.__name__] = rerun


_rerun(test_web)
_rerun(test_websocket)
_rerun(test_simple_httpclient)
_rerun(test_routing)
_rerun(test_wsgi)
_rerun(test_auth)
_rerun(test_testing)
