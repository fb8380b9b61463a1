"""Non-public parts of Tornado that code built on it relies on.

Each test uses a name the way a real dependent does (the project is named
in the test's docstring; the list is docs/guide/compat.rst, drawn from
/work/shared/ecosystem/internals-used-by-dependents.tsv): monitoring agents
that wrap ``RequestHandler._execute``, test fixtures that read
``HTTPServer._sockets``, routers that walk ``Application.wildcard_router``,
and so on.  Wrappers are installed with ``wrapt``, as the agents do.
"""

import asyncio
import json
import logging
import socket
import threading
import unittest.mock
from typing import Any, List

import pytest
import wrapt

from tornado import gen, httpclient, httputil, ioloop, iostream, locks, options, web, websocket
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.routing import PathMatches, ReversibleRuleRouter, Rule, RuleRouter, URLSpec
from tornado.tcpclient import TCPClient
from tornado.tcpserver import TCPServer
from tornado.testing import AsyncHTTPTestCase, bind_unused_port
from support import respond_ok, run


@pytest.fixture
def restore(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``restore(cls, name)`` before patching ``cls.name`` puts the original
    back after the test."""

    def keep(cls: Any, name: str) -> None:
        monkeypatch.setattr(cls, name, cls.__dict__[name])

    return keep


class Hello(web.RequestHandler):
    def get(self, name: str = "world") -> None:
        self.write("hello " + name)


class Slow(web.RequestHandler):
    async def get(self) -> None:
        await asyncio.sleep(0.01)
        self.write("slow")


class Boom(web.RequestHandler):
    def get(self) -> None:
        raise ValueError("boom")


async def serve(app: web.Application, paths: List[str], **fetch_kwargs: Any) -> List[Any]:
    """Serves ``app`` on 127.0.0.1 and fetches each path in turn; returns the
    responses (errors included)."""
    sock, port = bind_unused_port()
    server = HTTPServer(app)
    server.add_sockets([sock])
    client = AsyncHTTPClient(force_instance=True)
    try:
        return [
            await client.fetch(f"http://127.0.0.1:{port}{p}", raise_error=False, **fetch_kwargs)
            for p in paths
        ]
    finally:
        client.close()
        server.stop()
        await server.close_all_connections()


def bare_request(**headers: str) -> httputil.HTTPServerRequest:
    """A request built without a server, as Jupyter Server's tests do: its
    connection is a ``MagicMock``."""
    request = httputil.HTTPServerRequest(
        start_line=httputil.RequestStartLine("GET", "/", "HTTP/1.1"),
        headers=httputil.HTTPHeaders({"Host": "h", **headers}),
    )
    request.connection = unittest.mock.MagicMock()
    return request


# Servers ---------------------------------------------------------------------


def test_server_sockets_maps_fds_to_listening_sockets() -> None:
    """pytest-jupyter and pytest-tornasync learn the test server's port from
    ``server._sockets.values()``; Bokeh picks its address the same way."""

    async def main() -> None:
        server = HTTPServer(web.Application([("/", Hello)]))
        server.listen(0, "127.0.0.1")
        assert server._sockets
        for fd, sock in server._sockets.items():
            assert fd == sock.fileno()
        port = next(iter(server._sockets.values())).getsockname()[1]
        client = AsyncHTTPClient(force_instance=True)
        response = await client.fetch(f"http://127.0.0.1:{port}/")
        assert response.body == b"hello world"
        client.close()
        server.stop()

    run(main)


def test_handle_connection_takes_sockets_accepted_elsewhere() -> None:
    """Salt's load-balancer workers accept connections themselves and feed
    them with ``loop.call_soon_threadsafe(server._handle_connection, sock,
    address)``."""

    class Echo(TCPServer):
        async def handle_stream(self, stream: iostream.IOStream, address: Any) -> None:
            line = await stream.read_until(b"\n")
            await stream.write(b"echo " + line)
            stream.close()

    async def main() -> None:
        server = Echo()
        listener, port = bind_unused_port()
        listener.setblocking(True)
        loop = asyncio.get_running_loop()

        def accept() -> None:
            conn, address = listener.accept()
            conn.setblocking(False)
            loop.call_soon_threadsafe(server._handle_connection, conn, address)

        thread = threading.Thread(target=accept)
        thread.start()
        stream = await TCPClient().connect("127.0.0.1", port)
        await stream.write(b"hi\n")
        assert await stream.read_until_close() == b"echo hi\n"
        thread.join()
        listener.close()

    run(main)


def test_create_stream_override() -> None:
    """Salt's TCPClientKeepAlive overrides ``_create_stream(max_buffer_size,
    af, addr, **kwargs)`` to make its own socket (with keepalive) and returns
    ``(stream, stream.connect(addr))``."""
    made: List[socket.socket] = []

    class KeepAliveClient(TCPClient):
        def _create_stream(self, max_buffer_size: Any, af: Any, addr: Any, **kwargs: Any) -> Any:
            sock = socket.socket(af, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            made.append(sock)
            stream = iostream.IOStream(sock, max_buffer_size=max_buffer_size)
            return stream, stream.connect(addr)

    async def main() -> None:
        server = HTTPServer(web.Application([("/", Hello)]))
        sock, port = bind_unused_port()
        server.add_sockets([sock])
        stream = await KeepAliveClient().connect("127.0.0.1", port)
        assert stream.socket is made[0]
        assert stream.socket.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
        stream.close()
        server.stop()

    run(main)


# RequestHandler._execute and friends: what APM agents wrap ------------------


def test_wrapped_execute_sees_every_request(restore: Any) -> None:
    """Sentry replaces ``RequestHandler._execute`` with an ``async`` wrapper
    taking ``(self, *args, **kwargs)`` that awaits the original; it must see
    every request, path arguments included, and the finished response."""
    restore(web.RequestHandler, "_execute")
    seen: List[Any] = []
    old_execute = web.RequestHandler._execute
    assert asyncio.iscoroutinefunction(old_execute)

    async def sentry_execute(self: web.RequestHandler, *args: Any, **kwargs: Any) -> Any:
        seen.append(("start", self.request.path, args[1:]))
        result = await old_execute(self, *args, **kwargs)
        seen.append(("end", self.request.path, self.get_status(), self._finished))
        return result

    web.RequestHandler._execute = sentry_execute  # type: ignore[method-assign]
    app = web.Application([("/", Hello), ("/name/(.*)", Hello), ("/slow", Slow), ("/boom", Boom)])
    logging.getLogger("tornado.application").disabled = True
    try:
        responses = run(lambda: serve(app, ["/", "/name/bob", "/slow", "/boom", "/missing"]))
    finally:
        logging.getLogger("tornado.application").disabled = False
    assert [r.code for r in responses] == [200, 200, 200, 500, 404]
    assert responses[1].body == b"hello bob"
    assert seen == [
        ("start", "/", ()), ("end", "/", 200, True),
        ("start", "/name/bob", (b"bob",)), ("end", "/name/bob", 200, True),
        ("start", "/slow", ()), ("end", "/slow", 200, True),
        ("start", "/boom", ()), ("end", "/boom", 500, True),
        ("start", "/missing", ()), ("end", "/missing", 404, True),
    ]


def test_wrapped_execute_with_a_streamed_body(restore: Any) -> None:
    """A replaced ``_execute`` also runs ``stream_request_body`` handlers:
    ``prepare`` first, then the chunks, then the verb method."""
    restore(web.RequestHandler, "_execute")
    old_execute = web.RequestHandler._execute
    calls: List[str] = []

    async def wrapper(self: web.RequestHandler, *args: Any, **kwargs: Any) -> Any:
        calls.append("execute")
        return await old_execute(self, *args, **kwargs)

    web.RequestHandler._execute = wrapper  # type: ignore[method-assign]

    @web.stream_request_body
    class Upload(web.RequestHandler):
        async def prepare(self) -> None:
            await asyncio.sleep(0)
            self.size = 0

        def data_received(self, chunk: bytes) -> None:
            self.size += len(chunk)

        def put(self) -> None:
            self.write(str(self.size))

    response = run(lambda: serve(web.Application([("/up", Upload)]), ["/up"],
                                 method="PUT", body=b"x" * 100_000))[0]
    assert (response.code, response.body) == (200, b"100000")
    assert calls == ["execute"]


def test_execute_wrapped_with_wrapt(restore: Any) -> None:
    """ddtrace and Elastic APM wrap ``_execute`` with
    ``wrapt.wrap_function_wrapper("tornado.web", "RequestHandler._execute",
    ...)`` and an async wrapper; New Relic's wrapper returns a proxy of the
    coroutine instead of awaiting it."""
    restore(web.RequestHandler, "_execute")
    statuses: List[int] = []

    async def apm(wrapped: Any, instance: web.RequestHandler, args: Any, kwargs: Any) -> Any:
        assert isinstance(args[0], list)  # the output transforms
        result = await wrapped(*args, **kwargs)
        statuses.append(instance.get_status())
        return result

    class CoroutineProxy(wrapt.ObjectProxy):  # as New Relic's async_proxy
        def __await__(self) -> Any:
            return self.__wrapped__.__await__()

    def track_loop_time(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        return CoroutineProxy(wrapped(*args, **kwargs))

    wrapt.wrap_function_wrapper("tornado.web", "RequestHandler._execute", apm)
    wrapt.wrap_function_wrapper("tornado.web", "RequestHandler._execute", track_loop_time)
    app = web.Application([("/", Hello), ("/slow", Slow)])
    responses = run(lambda: serve(app, ["/", "/slow", "/nothing"]))
    assert [r.code for r in responses] == [200, 200, 404]
    assert statuses == [200, 200, 404]


def test_execute_replaced_on_a_handler_class() -> None:
    """Salt's ``requires_auth`` test decorator replaces
    ``handler_class._execute`` with ``wrapper(self, transforms, *args,
    **kwargs)``: it sets ``_transforms`` so that ``send_error`` works, and
    answers 401 itself without calling the original."""

    class Secret(web.RequestHandler):
        def get(self, item: str) -> None:
            self.write("secret " + item)

    original = Secret._execute

    def wrapper(self: web.RequestHandler, transforms: Any, *args: Any, **kwargs: Any) -> Any:
        if self.request.headers.get("Authorization") != "Basic b2s6b2s=":
            self._transforms = transforms
            self.send_error(401)
            return None
        return original(self, transforms, *args, **kwargs)

    Secret._execute = wrapper  # type: ignore[method-assign]
    app = web.Application([("/secret/(.*)", Secret)])
    denied, allowed = run(lambda: serve(app, ["/secret/a", "/secret/b"]))[0], run(
        lambda: serve(app, ["/secret/b"], auth_username="ok", auth_password="ok")
    )[0]
    assert denied.code == 401
    assert (allowed.code, allowed.body) == (200, b"secret b")


def test_blocking_from_inside_execute(restore: Any) -> None:
    """ddtrace's AppSec blocks a request from its ``_execute`` wrapper:
    ``clear()``, ``set_status``, ``_transforms = ()`` and ``finish(page)``,
    after forcing the body to be parsed with ``request._parse_body()``."""
    restore(web.RequestHandler, "_execute")
    parsed: List[Any] = []

    async def appsec(wrapped: Any, handler: web.RequestHandler, args: Any, kwargs: Any) -> Any:
        if handler.request.method == "POST":
            handler.request.body_arguments.clear()
            handler.request._parse_body()
            parsed.append(dict(handler.request.body_arguments))
        if handler.request.path == "/blocked":
            handler.clear()
            handler.set_status(403)
            handler._transforms = ()
            handler.set_header("Content-Type", "application/json")
            return handler.finish('{"blocked": true}')
        return await wrapped(*args, **kwargs)

    class Form(web.RequestHandler):
        def post(self) -> None:
            self.write(self.get_body_argument("a"))

    wrapt.wrap_function_wrapper("tornado.web", "RequestHandler._execute", appsec)
    app = web.Application([("/blocked", Hello), ("/form", Form)])
    blocked = run(lambda: serve(app, ["/blocked"]))[0]
    assert (blocked.code, blocked.body) == (403, b'{"blocked": true}')
    form = run(lambda: serve(app, ["/form"], method="POST", body="a=1"))[0]
    assert form.body == b"1"
    assert parsed == [{"a": [b"1"]}]


def test_response_state_read_by_agents(restore: Any) -> None:
    """ddtrace, Elastic APM and OpenTelemetry read ``_status_code``,
    ``_headers`` (an `.HTTPHeaders`) and ``_write_buffer`` (a list of bytes)
    from a ``flush`` wrapper and ``on_finish``; Panel reads ``_reason``."""
    restore(web.RequestHandler, "flush")
    restore(web.RequestHandler, "on_finish")
    flushed: List[Any] = []
    finished: List[Any] = []

    def on_flush(wrapped: Any, handler: Any, args: Any, kwargs: Any) -> Any:
        flushed.append((handler._status_code, handler._reason, b"".join(handler._write_buffer),
                        handler._headers.get_list("Content-Type")))
        return wrapped(*args, **kwargs)

    def on_finish(wrapped: Any, handler: Any, args: Any, kwargs: Any) -> Any:
        finished.append((handler._status_code, handler._headers.get("Content-Length")))
        return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper("tornado.web", "RequestHandler.flush", on_flush)
    wrapt.wrap_function_wrapper("tornado.web", "RequestHandler.on_finish", on_finish)

    class Teapot(web.RequestHandler):
        def get(self) -> None:
            self.set_status(418)
            self.write({"tea": True})

    run(lambda: serve(web.Application([("/", Teapot)]), ["/"]))
    body = json.dumps({"tea": True}).encode()
    assert flushed == [(418, "I'm a Teapot", body, ["application/json; charset=UTF-8"])]
    assert finished == [(418, str(len(body)))]


def test_replacing_headers_drops_the_defaults() -> None:
    """jupyter-server-proxy sets ``self._headers = httputil.HTTPHeaders()``
    to drop Tornado's default headers before copying the upstream ones."""

    class Proxy(web.RequestHandler):
        def get(self) -> None:
            self._headers = httputil.HTTPHeaders()
            self.set_header("X-Upstream", "yes")
            self.write("proxied")

    response = run(lambda: serve(web.Application([("/", Proxy)]), ["/"]))[0]
    assert response.headers["X-Upstream"] == "yes"
    assert "Content-Type" not in response.headers
    assert response.body == b"proxied"


def test_auto_finish_off_and_finished_set_by_hand() -> None:
    """Salt's handlers set ``_auto_finish = False`` in ``__init__`` and
    finish later; Panel's fallback handler answers through the connection
    itself and sets ``_finished = True`` in ``prepare``."""

    class Later(web.RequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._auto_finish = False

        def get(self) -> None:
            self.write("later")
            ioloop.IOLoop.current().call_later(0.01, self.finish)

    class Fallback(web.RequestHandler):
        def prepare(self) -> None:
            conn = self.request.connection
            conn.write_headers(httputil.ResponseStartLine("HTTP/1.1", 200, "OK"),
                               httputil.HTTPHeaders({"Content-Length": "8"}), b"fallback")
            conn.finish()
            self._finished = True
            self.on_finish()

    app = web.Application([("/later", Later), ("/fallback", Fallback)])
    later, fallback = run(lambda: serve(app, ["/later", "/fallback"]))
    assert (later.code, later.body) == (200, b"later")
    assert (fallback.code, fallback.body) == (200, b"fallback")


def test_errors_reported_through_wrapped_hooks(restore: Any) -> None:
    """Sentry wraps ``log_exception(self, ty, value, tb)``; Elastic APM wraps
    ``_handle_request_exception`` and reads the exception as ``args[0]``;
    Flower patches ``tornado.web.app_log.error`` to see uncaught errors."""
    restore(web.RequestHandler, "log_exception")
    restore(web.RequestHandler, "_handle_request_exception")
    logged: List[Any] = []
    handled: List[Any] = []
    old_log_exception = web.RequestHandler.log_exception

    def sentry_log_exception(self: Any, ty: Any, value: Any, tb: Any, *args: Any, **kwargs: Any) -> Any:
        logged.append((ty, str(value)))
        return old_log_exception(self, ty, value, tb, *args, **kwargs)

    def on_exception(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        handled.append(type(args[0]))
        return wrapped(*args, **kwargs)

    web.RequestHandler.log_exception = sentry_log_exception  # type: ignore[method-assign]
    wrapt.wrap_function_wrapper("tornado.web", "RequestHandler._handle_request_exception", on_exception)

    class Denied(web.RequestHandler):
        def get(self) -> None:
            raise web.HTTPError(403)

    app = web.Application([("/boom", Boom), ("/denied", Denied)])
    with unittest.mock.patch("tornado.web.app_log.error") as app_log_error:
        codes = [r.code for r in run(lambda: serve(app, ["/boom", "/denied"]))]
    assert codes == [500, 403]
    assert logged == [(ValueError, "boom"), (web.HTTPError, "HTTP 403: Forbidden")]
    assert handled == [ValueError, web.HTTPError]
    assert app_log_error.call_count == 1


def test_public_methods_wrapped_per_class(restore: Any) -> None:
    """New Relic and OpenTelemetry wrap ``RequestHandler.__init__``;
    JupyterHub saves ``set_default_headers`` as a new class attribute and
    replaces it; Elastic APM wraps ``render`` and ddtrace
    ``Template.generate``; ddtrace wraps ``Application.__init__``."""
    from tornado import template

    restore(web.RequestHandler, "__init__")
    restore(web.RequestHandler, "set_default_headers")
    restore(web.RequestHandler, "render")
    restore(template.Template, "generate")
    restore(web.Application, "__init__")
    events: List[str] = []

    def record(name: str) -> Any:
        def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            events.append(name)
            return wrapped(*args, **kwargs)

        return wrapper

    for target in ("RequestHandler.__init__", "RequestHandler.render", "Application.__init__"):
        wrapt.wrap_function_wrapper("tornado.web", target, record(target))
    wrapt.wrap_function_wrapper("tornado.template", "Template.generate", record("generate"))
    web.RequestHandler._orig_set_default_headers = web.RequestHandler.set_default_headers  # type: ignore[attr-defined]

    def set_default_headers(self: web.RequestHandler) -> None:
        self._orig_set_default_headers()  # type: ignore[attr-defined]
        self.set_header("X-JupyterHub-Version", "6")

    web.RequestHandler.set_default_headers = set_default_headers  # type: ignore[method-assign]
    try:
        class Page(web.RequestHandler):
            def get(self) -> None:
                self.render("page.html", name="x")

        loader = template.DictLoader({"page.html": "page {{ name }}"})
        app = web.Application([("/", Page)], template_loader=loader)
        response = run(lambda: serve(app, ["/"]))[0]
    finally:
        del web.RequestHandler._orig_set_default_headers  # type: ignore[attr-defined]
    assert response.body == b"page x"
    assert response.headers["X-JupyterHub-Version"] == "6"
    assert events == ["Application.__init__", "RequestHandler.__init__",
                      "RequestHandler.render", "generate"]


def test_handler_caches_set_and_read_directly() -> None:
    """Jupyter Server's tests and JupyterHub seed ``_xsrf_token`` and
    ``_current_user``; Flower asks ``hasattr(self, "_current_user")`` to
    know whether authentication already ran; Streamlit checks an XSRF token
    with ``_decode_xsrf_token`` and ``_get_raw_xsrf_token``; Jupyter's tests
    build handlers around ``request.connection = MagicMock()`` and set
    ``_transforms = []`` so that ``finish`` works without ``_execute``."""
    app = web.Application(cookie_secret="secret", xsrf_cookies=True)
    request = bare_request()
    handler = web.RequestHandler(app, request)
    handler._transforms = []
    assert not hasattr(handler, "_current_user")
    assert handler.current_user is None
    assert hasattr(handler, "_current_user")
    handler._current_user = "alice"
    assert handler.current_user == "alice"

    token = handler.xsrf_token
    assert handler._xsrf_token == token
    handler._xsrf_token = b"seeded"
    assert handler.xsrf_token == b"seeded"

    cookie_value = web.RequestHandler(app, bare_request()).xsrf_token.decode()
    reader = web.RequestHandler(app, bare_request(Cookie="_xsrf=" + cookie_value))
    _, sent, _ = reader._decode_xsrf_token(cookie_value)
    _, expected, _ = reader._get_raw_xsrf_token()
    assert sent == expected

    handler._headers["Cache-Control"] = "no-cache"
    handler.finish("done")
    request.connection.finish.assert_called_once()


def test_request_cookie_cache_filled_in_advance() -> None:
    """Panel builds an `.HTTPServerRequest` from a FastAPI request and fills
    its ``_cookies`` cache with a ready ``SimpleCookie``."""
    import http.cookies

    request = bare_request(Cookie="ignored=1")
    request._cookies = http.cookies.SimpleCookie({"session": "abc"})
    handler = web.RequestHandler(web.Application(), request)
    assert handler.get_cookie("session") == "abc"
    assert handler.get_cookie("ignored") is None


def test_handler_classes_inspected_by_auditors() -> None:
    """Jupyter Server finds unimplemented verbs by comparing with
    ``RequestHandler._unimplemented_method`` and recognises
    ``@web.authenticated`` by ``__wrapped__`` and the wrapper's code object;
    JupyterHub walks the MRO for the first class whose ``__module__`` is in
    the ``tornado`` package; Elastic APM asks ``_has_stream_request_body``;
    Jupyter's FileFindHandler locks ``StaticFileHandler._lock``."""

    class Guarded(web.RequestHandler):
        @web.authenticated
        def get(self) -> None:
            pass

    assert Guarded.post == web.RequestHandler._unimplemented_method
    assert Guarded.get != web.RequestHandler._unimplemented_method
    assert hasattr(Guarded.get, "__wrapped__")
    code = Guarded.get.__code__
    assert code.co_qualname.startswith("authenticated")
    assert code.co_filename.replace("\\", "/").endswith("tornado/web.py")
    tornado_classes = [c for c in Guarded.__mro__ if c.__module__.split(".")[0] == "tornado"]
    assert tornado_classes[0] is web.RequestHandler
    assert "check_xsrf_cookie" in vars(web.RequestHandler)
    assert "xsrf_token" in vars(web.RequestHandler)

    @web.stream_request_body
    class Upload(web.RequestHandler):
        pass

    assert web._has_stream_request_body(Upload)
    assert not web._has_stream_request_body(Guarded)
    with pytest.raises(TypeError):
        web._has_stream_request_body(object)  # type: ignore[arg-type]
    with web.StaticFileHandler._lock:
        pass


def test_no_slots_on_per_request_objects() -> None:
    """Agents add attributes to handlers, requests, connections and message
    delegates (New Relic's ``_nr_transaction``, ddtrace's span key)."""
    seen: List[Any] = []

    class Tagged(web.RequestHandler):
        def get(self) -> None:
            self.my_tag = 1
            self.request.my_span = 2
            self.request.connection.my_transaction = 3
            seen.append(vars(self.request.connection)["my_transaction"])
            self.write("ok")

    assert run(lambda: serve(web.Application([("/", Tagged)]), ["/"]))[0].code == 200
    assert seen == [3]


# The server's delegates and connections ---------------------------------------


def test_start_request_and_connection_methods_wrapped(restore: Any) -> None:
    """New Relic wraps ``HTTPServer.start_request``, sets a wrapped
    ``headers_received`` on the returned delegate instance (and later pops
    it from ``vars(delegate)``), wraps ``write_headers`` and ``finish`` on
    ``type(request_conn)``, and reads the server port through
    ``request_conn.stream.socket``; OpenTelemetry reads
    ``request.connection.context._orig_remote_ip``."""
    from tornado import http1connection

    restore(HTTPServer, "start_request")
    restore(http1connection.HTTP1Connection, "write_headers")
    restore(http1connection.HTTP1Connection, "finish")
    events: List[Any] = []

    def wrap_headers_received(request_conn: Any) -> Any:
        @wrapt.function_wrapper
        def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            start_line = args[0]
            request_conn._nr_transaction = True
            port = request_conn.stream.socket.getsockname()[1]
            events.append(("headers", start_line.method, start_line.path, port))
            vars(instance).pop("headers_received")
            return wrapped(*args, **kwargs)

        return wrapper

    @wrapt.function_wrapper
    def wrap_write_headers(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if getattr(instance, "_nr_transaction", None):  # (clients use the class too)
            events.append(("status", args[0].code))
        return wrapped(*args, **kwargs)

    @wrapt.function_wrapper
    def wrap_finish(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if getattr(instance, "_nr_transaction", None):
            events.append(("finish",))
        return wrapped(*args, **kwargs)

    def wrap_start_request(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        request_conn = args[1]
        delegate = wrapped(*args, **kwargs)
        delegate.headers_received = wrap_headers_received(request_conn)(delegate.headers_received)
        for name, wrapper in (("write_headers", wrap_write_headers), ("finish", wrap_finish)):
            if not isinstance(getattr(type(request_conn), name), wrapt.FunctionWrapper):
                setattr(type(request_conn), name, wrapper(getattr(type(request_conn), name)))
        return delegate

    wrapt.wrap_function_wrapper("tornado.httpserver", "HTTPServer.start_request", wrap_start_request)

    class PeerIP(web.RequestHandler):
        def get(self) -> None:
            context = self.request.connection.context
            self.write(f"{context._orig_remote_ip} {self.request.remote_ip}")

    async def main() -> Any:
        sock, port = bind_unused_port()
        server = HTTPServer(web.Application([("/", PeerIP)]), xheaders=True)
        server.add_sockets([sock])
        client = AsyncHTTPClient(force_instance=True)
        response = await client.fetch(f"http://127.0.0.1:{port}/?q=1",
                                      headers={"X-Forwarded-For": "10.1.2.3"})
        client.close()
        server.stop()
        return port, response

    port, response = run(main)
    assert response.body == b"127.0.0.1 10.1.2.3"
    assert events == [("headers", "GET", "/?q=1", port), ("status", 200), ("finish",)]


def test_router_delegates_take_instance_attributes() -> None:
    """What ``start_request`` returns for a plain `.RuleRouter` or a
    callable also takes New Relic's instance-level ``headers_received``."""
    seen: List[str] = []

    class Tracing(HTTPServer):
        def start_request(self, server_conn: Any, request_conn: Any) -> Any:
            delegate = super().start_request(server_conn, request_conn)
            original = delegate.headers_received

            def headers_received(start_line: Any, headers: Any) -> Any:
                seen.append(start_line.path)
                vars(delegate).pop("headers_received")
                return original(start_line, headers)

            delegate.headers_received = headers_received
            return delegate

    async def main() -> None:
        router = RuleRouter([("/app.*", web.Application([("/app", Hello)]))])
        for target in (router, lambda request: respond_ok(request.connection, b"ok")):
            sock, port = bind_unused_port()
            server = Tracing(target)
            server.add_sockets([sock])
            client = AsyncHTTPClient(force_instance=True)
            assert (await client.fetch(f"http://127.0.0.1:{port}/app")).code == 200
            client.close()
            server.stop()

    run(main)
    assert seen == ["/app", "/app"]


def test_normalize_header_looked_up_as_module_global(restore: Any) -> None:
    """New Relic wraps ``httputil._normalize_header`` so that its own header
    names keep their case, in parsed requests and in lookups."""
    restore(httputil, "_normalize_header")
    assert not hasattr(httputil, "_NormalizedHeaderCache")

    def keep_case(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if args[0].startswith("X-NewRelic"):
            return args[0]
        return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper(httputil, "_normalize_header", keep_case)
    parsed = httputil.HTTPHeaders.parse("X-NewRelic-ID: 7\r\nX-Other-thing: 8\r\n")
    assert dict(parsed) == {"X-NewRelic-ID": "7", "X-Other-Thing": "8"}
    assert parsed["X-NewRelic-ID"] == "7"
    built = httputil.HTTPHeaders()
    built["X-NewRelic-Transaction"] = "t"
    assert list(built) == ["X-NewRelic-Transaction"]


def test_find_handler_override_and_delegate_handler_class() -> None:
    """Dask's RoutingApplication overrides ``find_handler`` and falls back
    to its sub-applications when the delegate's ``handler_class`` is an
    ``ErrorHandler``."""

    class Routing(web.Application):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.applications: List[web.Application] = []

        def find_handler(self, request: Any, **kwargs: Any) -> Any:
            handler = super().find_handler(request, **kwargs)
            if handler and not issubclass(handler.handler_class, web.ErrorHandler):
                return handler
            for app in self.applications:
                handler = app.find_handler(request, **kwargs) or handler
                if handler and not issubclass(handler.handler_class, web.ErrorHandler):
                    break
            return handler

    main_app = Routing([("/main", Hello)])
    main_app.applications.append(web.Application([("/sub/(.*)", Hello)]))
    responses = run(lambda: serve(main_app, ["/main", "/sub/there", "/neither"]))
    assert [(r.code, r.body[:11]) for r in responses] == [
        (200, b"hello world"), (200, b"hello there"), (404, b"<html><titl")]


# Routing tables -----------------------------------------------------------------


def test_routing_rules_walked_and_edited() -> None:
    """nbclassic slices ``app.wildcard_router.rules``, resets it to ``[]``
    and re-adds with ``add_rules`` in a new order; ddtrace, Dask and
    OpenTelemetry walk ``default_router.rules`` down to nested routers,
    reading ``matcher`` (``regex``, ``_path``, ``_find_groups()``),
    ``target`` and ``target_kwargs``; Flower rebuilds ``url()`` specs from
    ``regex.pattern`` and ``handler_class``."""

    class Other(web.RequestHandler):
        def get(self, rest: str) -> None:
            self.write("other")

    app = web.Application([
        web.url(r"/items/([0-9]+)", Hello, name="item"),
        (r"/static/(.*)", web.StaticFileHandler, {"path": "/srv"}),
        (r"/(.*)", Other),
    ])
    router = app.wildcard_router
    rules = router.rules
    core, final = rules[:-1], rules[-1:]
    router.rules = []
    router.add_rules([(r"/extra", Hello)])
    router.add_rules(core)
    router.add_rules(final)
    assert [r.matcher.regex.pattern for r in router.rules] == [
        "/extra$", "/items/([0-9]+)$", "/static/(.*)$", "/(.*)$"]
    responses = run(lambda: serve(app, ["/extra", "/items/5", "/zzz"]))
    assert [r.body for r in responses] == [b"hello world", b"hello 5", b"other"]

    found = []
    pending = list(app.default_router.rules)
    while pending:
        rule = pending.pop(0)
        if isinstance(rule.matcher, PathMatches):
            found.append((rule.matcher._path, rule.matcher._find_groups(), rule.target_kwargs))
        elif hasattr(rule.target, "rules"):
            pending.extend(rule.target.rules)
    assert found[1] == ("/items/%s", ("/items/%s", 1), {})
    assert found[2] == ("/static/%s", ("/static/%s", 1), {"path": "/srv"})
    assert PathMatches(r"/a(?:b)").__dict__["_path"] is None
    assert PathMatches(r"/a(?:b)")._find_groups() == (None, None)

    spec = app.wildcard_router.rules[1]
    assert isinstance(spec, URLSpec)
    prefixed = web.url("/prefix" + spec.regex.pattern, spec.handler_class, spec.kwargs, spec.name)
    assert prefixed.handler_class is Hello and prefixed.regex.pattern == "/prefix/items/([0-9]+)$"
    named = ReversibleRuleRouter([URLSpec("/n/(x)", Hello, name="n")]).named_rules
    assert isinstance(named["n"], Rule) and named["n"].matcher.regex.pattern == "/n/(x)$"


def test_process_rule_wrapped(restore: Any) -> None:
    """New Relic wraps ``RuleRouter.process_rule`` and instruments the verb
    methods of every routed handler class it sees in ``rule.target``."""
    restore(RuleRouter, "process_rule")
    targets: List[Any] = []

    def on_rule(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        rule = wrapped(*args, **kwargs)
        targets.append(rule.target)
        return rule

    wrapt.wrap_function_wrapper("tornado.routing", "RuleRouter.process_rule", on_rule)
    web.Application([("/", Hello)])
    assert Hello in targets


def test_rule_list_type_importable() -> None:
    """Thumbor re-exports ``tornado.routing._RuleList`` as a type alias."""
    from tornado.routing import _RuleList

    handlers: _RuleList = [("/", Hello)]
    assert web.Application(handlers).wildcard_router.rules[0].target is Hello


# Clients ----------------------------------------------------------------------


def test_request_internals_of_the_client() -> None:
    """jupyter-server-proxy wraps a request with
    ``_RequestProxy(request, HTTPRequest._DEFAULTS)``; OpenTelemetry skips
    the redirect requests simple_httpclient makes (they carry
    ``original_request``); Salt's tests replace ``HTTPResponse._body``."""
    request = HTTPRequest("http://127.0.0.1/", headers={"X": "1"})
    proxied = httpclient._RequestProxy(request, HTTPRequest._DEFAULTS)
    assert proxied.follow_redirects is True and proxied.url == request.url

    class Redirect(web.RequestHandler):
        def get(self) -> None:
            self.redirect("/")

    seen: List[Any] = []

    async def main() -> Any:
        sock, port = bind_unused_port()
        server = HTTPServer(web.Application([("/", Hello), ("/r", Redirect)]))
        server.add_sockets([sock])
        client = AsyncHTTPClient(force_instance=True)
        original_fetch = client.fetch

        def fetch(req: Any, *args: Any, **kwargs: Any) -> Any:  # as OpenTelemetry's wrapper
            seen.append(hasattr(req, "original_request"))
            return original_fetch(req, *args, **kwargs)

        client.fetch = fetch  # type: ignore[method-assign]
        response = await client.fetch(f"http://127.0.0.1:{port}/r")
        client.close()
        server.stop()
        return response

    response = run(main)
    assert response.body == b"hello world"
    assert seen == [False, True]
    response._body = "decoded"
    assert response.body == "decoded"


class PingEcho(websocket.WebSocketHandler):
    def on_message(self, message: Any) -> None:
        self.write_message(message)

    def on_ping(self, data: bytes) -> None:
        self.write_message(b"got ping " + data, binary=True)


def test_websocket_client_built_directly() -> None:
    """jupyter-server-proxy subclasses ``WebSocketClientConnection`` to
    forward pings (``on_ping``), constructs it with keyword arguments, takes
    ``connect_future``, relays pings with ``protocol.write_ping``, and
    reads ``websocket._default_max_message_size``; Dask reads the client's
    ``parsed``, ``stream`` and ``close_code``."""
    pings: List[bytes] = []

    class Pingable(websocket.WebSocketClientConnection):
        def on_ping(self, data: bytes) -> None:
            pings.append(data)

    class PingSender(websocket.WebSocketHandler):
        def open(self) -> None:
            self.ping(b"from server")

        def on_message(self, message: Any) -> None:
            self.close(4000, "done")

    async def main() -> None:
        sock, port = bind_unused_port()
        server = HTTPServer(web.Application([("/echo", PingEcho), ("/ping", PingSender)]))
        server.add_sockets([sock])
        size = getattr(websocket, "_default_max_message_size", 10 * 1024 * 1024)
        request = httpclient._RequestProxy(HTTPRequest(f"ws://127.0.0.1:{port}/echo"),
                                           HTTPRequest._DEFAULTS)
        conn = Pingable(request=request, compression_options=None, on_message_callback=None,
                        max_message_size=size, subprotocols=None, resolver=None)
        ws = await conn.connect_future
        assert ws is conn
        assert ws.parsed.netloc == f"127.0.0.1:{port}"
        assert not ws.stream.closed()
        ws.protocol.write_ping(b"relayed")
        assert await ws.read_message() == b"got ping relayed"
        ws.close()

        conn = Pingable(request=HTTPRequest(f"ws://127.0.0.1:{port}/ping"))
        ws = await conn.connect_future
        await ws.write_message("bye")
        assert await ws.read_message() is None
        assert pings == [b"from server"]
        assert ws.close_code == 4000
        server.stop()

    run(main)


def test_websocket_handler_internals() -> None:
    """Jupyter Server overrides the ``ping_interval`` and ``ping_timeout``
    properties, Dask ``max_message_size``; Jupyter, Dask, Panel and PyWebIO
    check ``ws_connection`` (None once closed) and its ``is_closing()`` and
    ``client_terminated``; Panel's tests close the protocol directly."""
    events: List[Any] = []

    class Tuned(websocket.WebSocketHandler):
        @property
        def ping_interval(self) -> float:
            return self.settings.get("ws_ping_interval", 0) / 1000

        @property
        def ping_timeout(self) -> float:
            return 5.0

        @property
        def max_message_size(self) -> int:
            return 16

        def on_message(self, message: Any) -> None:
            conn = self.ws_connection
            events.append((message, conn is not None and not conn.is_closing(),
                           conn.client_terminated))
            if message == "drop":
                conn.close()

        def on_close(self) -> None:
            events.append(("closed", self.ws_connection is None or self.ws_connection.is_closing()))

    async def main() -> None:
        sock, port = bind_unused_port()
        server = HTTPServer(web.Application([("/", Tuned)], ws_ping_interval=10000))
        server.add_sockets([sock])
        ws = await websocket.websocket_connect(f"ws://127.0.0.1:{port}/")
        await ws.write_message("hi")
        await ws.write_message("x" * 17)  # over max_message_size: closed 1009
        assert await ws.read_message() is None
        assert ws.close_code == 1009
        ws = await websocket.websocket_connect(f"ws://127.0.0.1:{port}/")
        await ws.write_message("drop")
        assert await ws.read_message() is None
        server.stop()

    run(main)
    assert events[0] == ("hi", True, False)
    assert events[1] == ("closed", True)
    assert events[2] == ("drop", True, False)
    assert events[3] == ("closed", True)


def test_websocket_get_awaited_by_a_subclass(caplog: Any) -> None:
    """Jupyter Server's kernel WebSocket handler is ``async def get(...)``
    doing its own checks and then ``await super().get(...)``: that await
    returns once the connection has ended and on_close has run (a refused
    handshake: at once), and raises nothing."""
    events: List[Any] = []

    class Kernel(websocket.WebSocketHandler):
        async def get(self, *args: Any, **kwargs: Any) -> None:
            events.append("get")
            await super().get(*args, **kwargs)
            events.append("get returned")

        async def open(self) -> None:
            events.append("open")

        def on_message(self, message: Any) -> None:
            pass

        def on_close(self) -> None:
            events.append("on_close")

    async def main() -> None:
        sock, port = bind_unused_port()
        server = HTTPServer(web.Application([("/", Kernel)]))
        server.add_sockets([sock])
        ws = await websocket.websocket_connect(f"ws://127.0.0.1:{port}/")
        await ws.write_message("hi")
        await asyncio.sleep(0.05)
        assert events == ["get", "open"]
        ws.close()
        assert await ws.read_message() is None
        for _ in range(100):
            if "get returned" in events:
                break
            await asyncio.sleep(0.01)
        assert events == ["get", "open", "on_close", "get returned"]
        # Refused (no Upgrade header): returns at once.
        response = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/", raise_error=False)
        assert response.code == 400
        assert events[-2:] == ["get", "get returned"]
        server.stop()

    with caplog.at_level(logging.ERROR):
        run(main)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# Streams, loops, locks, options ------------------------------------------------


def test_stream_write_buffer_filled_directly() -> None:
    """Dask appends frames to ``stream._write_buffer`` (checking it is not
    None), adds their size to ``_total_write_index``, then calls
    ``stream.write(b"")`` to start flushing; Salt caps
    ``max_write_buffer_size`` after construction."""

    class Sink(TCPServer):
        def __init__(self) -> None:
            super().__init__()
            self.received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        async def handle_stream(self, stream: iostream.IOStream, address: Any) -> None:
            self.received.set_result(await stream.read_until_close())

    async def main() -> None:
        server = Sink()
        sock, port = bind_unused_port()
        server.add_sockets([sock])
        stream = await TCPClient().connect("127.0.0.1", port)
        frames = [memoryview(b"a" * 100), memoryview(b"b" * 300_000), memoryview(b"c")]
        for frame in frames:
            assert stream._write_buffer is not None
            stream._write_buffer.append(frame)
            stream._total_write_index += frame.nbytes
        await stream.write(b"")
        stream.max_write_buffer_size = 10
        with pytest.raises(iostream.StreamBufferFullError):
            stream.write(b"x" * 11)
        stream.close()
        assert await server.received == b"a" * 100 + b"b" * 300_000 + b"c"
        server.stop()

    run(main)


def test_asyncio_loop_behind_the_ioloop() -> None:
    """Dask, ipykernel, Panel, PyWebIO, pyzmq and Salt reach the asyncio loop
    through ``IOLoop.asyncio_loop``; Panel looks for an existing wrapper in
    ``IOLoop._ioloop_for_asyncio`` without creating one; Salt asks
    ``getattr(io_loop, "_running", False)``, which is False on 6.6."""

    async def main() -> None:
        running = asyncio.get_running_loop()
        loop = ioloop.IOLoop.current()
        assert loop.asyncio_loop is running
        assert ioloop.IOLoop._ioloop_for_asyncio[running] is loop
        assert getattr(loop, "_running", False) is False

    run(main)


def test_periodic_callback_subclass() -> None:
    """pyzmq's DelayedCallback overrides ``start`` and ``_run`` of
    ``PeriodicCallback``, setting ``_running`` and ``_next_timeout``."""
    calls: List[int] = []

    class Delayed(ioloop.PeriodicCallback):
        def start(self) -> None:
            self.io_loop = ioloop.IOLoop.current()
            self._running = True
            self._next_timeout = self.io_loop.time() + self.callback_time / 1000.0
            self._timeout = self.io_loop.add_timeout(self._next_timeout, self._run)

        def _run(self) -> None:
            if not self._running:
                return
            self._running = False
            self.callback()

    async def main() -> None:
        Delayed(lambda: calls.append(1), 10).start()
        await asyncio.sleep(0.1)

    run(main)
    assert calls == [1]


def test_lock_state_read_through_its_semaphore() -> None:
    """Panel tells whether Bokeh's per-socket ``tornado.locks.Lock`` is held
    with ``lock._block._value == 0``, and its tests force it held."""

    async def main() -> None:
        lock = locks.Lock()
        assert lock._block._value == 1
        async with lock:
            assert lock._block._value == 0
        assert lock._block._value == 1
        lock._block._value = 0
        assert lock._block._value == 0

    run(main)


def test_option_definitions_read_by_name() -> None:
    """Flower converts ``FLOWER_*`` environment variables with the declared
    ``type`` and ``multiple`` of ``options._options[name]`` (under its name
    with dashes when it has underscores)."""
    parser = options.OptionParser()
    parser.define("max_tasks", type=int, default=3)
    parser.define("names", type=str, multiple=True)
    option = parser._options["max-tasks"]
    assert isinstance(option, options._Option)
    assert (option.type, option.multiple) == (int, False)
    names = parser._options["names"]
    assert (names.type, names.multiple) == (str, True)
    parser.max_tasks = option.type("7")
    assert parser.max_tasks == 7


def test_coroutine_marker_and_oauth_hooks() -> None:
    """New Relic detects ``@gen.coroutine`` functions by
    ``__tornado_coroutine__``; Flower and Panel configure OAuth mixins with
    the documented underscore class attributes."""
    from tornado import auth

    @gen.coroutine
    def legacy() -> Any:
        return 1

    assert legacy.__tornado_coroutine__ is True

    class Login(web.RequestHandler, auth.GoogleOAuth2Mixin):
        _OAUTH_SETTINGS_KEY = "oauth"

    class GitHub(web.RequestHandler, auth.OAuth2Mixin):
        _OAUTH_AUTHORIZE_URL = "https://github.com/login/oauth/authorize"
        _OAUTH_ACCESS_TOKEN_URL = "https://github.com/login/oauth/access_token"
        _OAUTH_NO_CALLBACKS = False

    app = web.Application(oauth={"key": "k", "secret": "s"})
    request = bare_request()
    assert Login(app, request).get_google_oauth_settings() == {"key": "k", "secret": "s"}
    handler = GitHub(app, request)
    handler._transforms = []
    handler.authorize_redirect(redirect_uri="http://h/cb", client_id="id")
    location = handler._headers["Location"]
    assert location.startswith(GitHub._OAUTH_AUTHORIZE_URL + "?")
    assert "client_id=id" in location


class FlowerStyle(AsyncHTTPTestCase):
    """Flower's tests reach the application as ``self._app``; Salt's
    ``tearDown`` deletes ``_app`` and the name-mangled port after the base
    class's own."""

    def get_app(self) -> web.Application:
        return web.Application([("/", Hello)], marker="flower")

    def test_app_attribute(self) -> None:
        assert self._app.settings["marker"] == "flower"
        assert self._AsyncHTTPTestCase__port == self.get_http_port()  # type: ignore[attr-defined]
        assert self.fetch("/").body == b"hello world"

    def tearDown(self) -> None:
        super().tearDown()
        for name in ("_app", "_AsyncHTTPTestCase__port", "http_server"):
            if hasattr(self, name):
                delattr(self, name)



# A script, run in a child process so that what it leaves open (on purpose)
# does not outlive it: connections still open when their asyncio loop is
# closed directly, the way pytest-jupyter's ``jp_asyncio_loop`` fixture ends
# every test (``loop.close()``, not ``IOLoop.close(all_fds=True)``).
_LEFT_OPEN_SCRIPT = r"""
import asyncio, gc, logging, socket, sys, warnings
from tornado import httpserver, ioloop, simple_httpclient, testing, web, websocket

class Echo(websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message(message)

destroyed = []
logging.getLogger("asyncio").addHandler(logging.Handler())
logging.getLogger("asyncio").handlers[-1].emit = lambda record: destroyed.append(record)

def one_test():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    silent = socket.socket()  # accepts (in its backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()

    async def main():
        ioloop.IOLoop.current()
        server = httpserver.HTTPServer(web.Application([("/ws", Echo)]))
        listener, port = testing.bind_unused_port()
        server.add_socket(listener)
        ws = await websocket.websocket_connect("ws://127.0.0.1:%d/ws" % port)
        await ws.write_message("hello")
        assert await ws.read_message() == "hello"
        client = simple_httpclient.SimpleAsyncHTTPClient(force_instance=True)
        client.fetch("http://127.0.0.1:%d/" % silent.getsockname()[1],
                     request_timeout=3600)
        await asyncio.sleep(0.2)
        # As pytest-jupyter's http_server fixture ends: no new connections,
        # but those made stay open.
        server.stop()

    loop.run_until_complete(main())
    loop.close()
    silent.close()

one_test()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    one_test()  # its IOLoop replaces the first one's
    gc.collect()
print(len([w for w in caught if issubclass(w.category, ResourceWarning)]), len(destroyed))
sys.stdout.flush()
"""


def test_connections_left_open_when_the_loop_is_closed() -> None:
    """pytest-jupyter (Jupyter Server's test fixtures) closes each test's
    asyncio loop directly; a WebSocket connection or an HTTP request still
    open then stays referenced, as Tornado's pending tasks keep theirs, so
    no ResourceWarning (an error under Jupyter Server's ``filterwarnings``)
    and no "Task was destroyed but it is pending!" comes at whichever later
    test happens to collect garbage."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    proc = subprocess.run(
        [sys.executable, "-c", _LEFT_OPEN_SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "0"], proc.stdout + proc.stderr
