"""ASGI 3 both ways: ASGI applications on Tornado's server, Tornado
applications on ASGI servers.

ASGI (the asynchronous server gateway interface) is how most new Python web
code talks to its server: FastAPI, Starlette, Django's asynchronous handler,
Quart and Litestar are ASGI applications, and uvicorn, hypercorn, granian and
daphne are ASGI servers.  An ASGI application is a coroutine function
``app(scope, receive, send)``: ``scope`` describes one connection (an HTTP
request, a WebSocket, or the process's ``lifespan``), ``receive()`` returns
the next event from the client and ``send(message)`` sends one to it.

This module bridges both directions:

* `ASGIContainer` hosts an ASGI application on Tornado: give it to an
  `.HTTPServer` as its request callback, or route part of an `.Application`
  to it with `tornado.web.FallbackHandler`, exactly where a
  `tornado.wsgi.WSGIContainer` would go.  HTTP requests, WebSockets and the
  lifespan protocol are all served.
* `ASGIAdapter` turns a Tornado `.Application` into an ASGI application, so
  that uvicorn, hypercorn, granian or daphne can serve it, WebSocket
  handlers included.

Built on `tornado.httputil` (the `.HTTPServerConnectionDelegate`,
`.HTTPMessageDelegate` and `.HTTPConnection` interfaces both directions
implement), `tornado.web` and `tornado.websocket`.  Nothing beyond the
standard library is needed at run time.

The ASGI specification: https://asgi.readthedocs.io/en/latest/specs/
"""

import asyncio
import collections
import logging
import os
import base64
import sys
import time
import urllib.parse
from typing import (
    Any,
    Awaitable,
    Callable,
    Deque,
    Dict,
    Iterable,
    List,
    MutableMapping,
    Optional,
    Tuple,
    Union,
    cast,
)

import tornado
from tornado import httputil, web, websocket
from tornado.concurrent import Future
from tornado.iostream import StreamClosedError
from tornado.log import access_log, app_log, gen_log

__all__ = ["ASGIContainer", "ASGIAdapter", "LifespanError", "ClientDisconnected"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# What we speak: ASGI 3 (single-callable applications), specification 2.4
# (an ``send`` on a closed connection raises an OSError subclass, which lets
# Starlette skip its disconnect-listening task for streaming responses).
_ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}


if sys.version_info >= (3, 12):

    def _new_task(coro: Any) -> "asyncio.Task[Any]":
        """A task for ``coro`` that starts at once (an eager task): an
        application that answers without waiting for anything is done
        before this returns, with no turn of the event loop in between."""
        return asyncio.Task(coro, loop=asyncio.get_running_loop(), eager_start=True)

else:

    def _new_task(coro: Any) -> "asyncio.Task[Any]":
        # (Before 3.12 a task cannot start eagerly; code the application
        # runs needs a current task, so it must not run outside one.)
        return asyncio.get_running_loop().create_task(coro)


# Pending application tasks: the event loop only keeps weak references.
_TASKS: "set[asyncio.Task[Any]]" = set()


def _resolve(future: "Optional[Future[None]]") -> None:
    """Resolves ``future`` (with None), unless there is none or it is done."""
    if future is not None and not future.done():
        future.set_result(None)


class LifespanError(Exception):
    """The application's lifespan ``startup`` or ``shutdown`` failed.

    Raised by `ASGIContainer.startup` (and so by ``async with container``)
    when the application answers ``lifespan.startup.failed``, or raises
    while starting up; and by `ASGIContainer.shutdown` in the same cases for
    the shutdown.  The message is the application's own.
    """


class ClientDisconnected(OSError):
    """Raised by the ``send`` callable `ASGIContainer` gives an application
    once the client has gone away (ASGI 2.4: an `OSError` subclass).

    The application normally lets it propagate or stops producing output;
    `ASGIContainer` does not log it as an application error.
    """


# ---------------------------------------------------------------------------
# Values shared by both directions
# ---------------------------------------------------------------------------

# Header names in the lower case ASGI uses, as bytes, for names written in
# Tornado's Http-Header-Case (bounded: applications may invent names).
_LOWER_NAMES: Dict[str, bytes] = {}


def _asgi_name(name: str) -> bytes:
    lowered = _LOWER_NAMES.get(name)
    if lowered is None:
        lowered = name.lower().encode("latin-1")
        if len(_LOWER_NAMES) < 1000:
            _LOWER_NAMES[name] = lowered
    return lowered


def _asgi_headers(headers: httputil.HTTPHeaders) -> List[Tuple[bytes, bytes]]:
    """``headers`` as ASGI wants them: (lower-case name, value) byte pairs,
    one per value."""
    fields = headers._as_list
    return [
        (_asgi_name(name), value.encode("latin-1"))
        for name in fields
        for value in fields[name]
    ]


def _tornado_headers(pairs: Iterable[Tuple[bytes, bytes]]) -> httputil.HTTPHeaders:
    """ASGI byte pairs as an `.HTTPHeaders`.  Each name is checked against
    RFC 9110's grammar once (then remembered); values are taken as they
    are: a server has parsed them, and what an application sends is
    checked for line breaks when it is written (`.HTTP1Connection`)."""
    fields: Dict[str, List[str]] = {}
    names = _TORNADO_NAMES
    for name, value in pairs:
        norm = names.get(name) or _tornado_name(name)
        values = fields.get(norm)
        if values is None:
            fields[norm] = [value.decode("latin-1")]
        else:
            values.append(value.decode("latin-1"))
    return httputil.HTTPHeaders._from_canonical(fields)


_date_cache: List[Any] = [0, ""]


def _date_value() -> str:
    """The ``Date`` header's value for now (formatted once a second)."""
    now = int(time.time())
    cache = _date_cache
    if now != cache[0]:
        cache[1] = httputil.format_timestamp(now)
        cache[0] = now
    return cast(str, cache[1])


_SERVER_VALUE = "TornadoServer/" + tornado.version

# RFC 9110 sections 15.2, 15.3.5, 15.4.5: responses that have no content.
_NO_CONTENT_STATUSES = frozenset((204, 304)) | frozenset(range(100, 200))


# ---------------------------------------------------------------------------
# ASGIContainer: an ASGI application on Tornado's server
# ---------------------------------------------------------------------------


class ASGIContainer(httputil.HTTPServerConnectionDelegate):
    """Serves an ASGI 3 application (FastAPI, Starlette, Django's
    ``get_asgi_application()``, Quart...) from Tornado's HTTP server.

    Use it where a `tornado.wsgi.WSGIContainer` would go: as the request
    callback of an `.HTTPServer`, or behind a `tornado.web.FallbackHandler`
    next to ordinary handlers in one `.Application`::

        container = ASGIContainer(fastapi_app)

        # The whole server:
        server = tornado.httpserver.HTTPServer(container)

        # Or a part of an application:
        app = tornado.web.Application([
            (r"/tornado/.*", MyHandler),
            (r"/.*", tornado.web.FallbackHandler, {"fallback": container}),
        ])

    Given to the server directly, the container takes each request as it is
    read (it is an `.HTTPServerConnectionDelegate`): the body streams to the
    application's ``receive()`` one piece at a time, and the next piece is
    only read from the socket once the application has taken the previous
    one.  Behind a `.FallbackHandler` the request body has been read in full
    by the application first.

    Each ``http`` scope carries the method, ``scheme``, ``path`` (percent-
    decoded) and ``raw_path``, ``query_string``, ``root_path`` (the
    ``root_path`` argument), the headers as lower-case byte pairs,
    ``client``, ``server`` and ``http_version``.  Responses stream: every
    ``http.response.body`` message with ``more_body`` is written at once and
    ``send`` returns when the data has been handed to the socket (flow
    control).  A response without ``Content-Length`` that comes in several
    pieces is sent with the chunked coding (HTTP/1.1).  For ``HEAD``
    requests the body the application sends is dropped.  ``Date`` and
    ``Server`` headers are added unless the application sets them.  When the
    client goes away, ``receive()`` returns ``http.disconnect`` and ``send``
    raises `ClientDisconnected`.

    WebSocket requests get a ``websocket`` scope: ``websocket.accept`` (with
    ``subprotocol`` and extra ``headers``) completes the handshake, with
    permessage-deflate when the client offers it; ``websocket.close`` before
    that refuses it with 403, and so does an application that returns
    without accepting; the ``websocket.http.response`` extension lets it
    send its own refusal.  Text and bytes messages and close codes and
    reasons go both ways.

    If the application raises before it has started its response, the
    client gets a 500 and the traceback is logged; if it raises afterwards,
    the connection is closed (the response is incomplete).  Either way the
    error is logged to ``tornado.application``.

    The ``lifespan`` protocol is the application's to-do list for process
    start and end (FastAPI's ``lifespan``, Starlette's ``on_startup``).  Run
    it around the server: `startup` before listening and `shutdown` after
    stopping, or use the container as an async context manager::

        async def main():
            container = ASGIContainer(app)
            async with container:   # startup; raises LifespanError on failure
                server = tornado.httpserver.HTTPServer(container)
                server.listen(8000)
                await shutdown_requested.wait()
                server.stop()
                await server.close_all_connections()
            # shutdown has run

    ``root_path`` is the path prefix the application is mounted at, passed
    in every scope (see the ASGI specification).
    """

    def __init__(self, asgi_app: ASGIApp, root_path: str = "", lifespan: str = "auto") -> None:
        if lifespan not in ("auto", "on", "off"):
            raise ValueError("lifespan must be 'auto', 'on' or 'off', not %r" % (lifespan,))
        self.asgi_app = asgi_app
        self.root_path = root_path
        self.lifespan = lifespan
        # The lifespan scope's "state", copied into each request's scope
        # once startup has run (None: lifespan not run, or unsupported).
        self.state: Optional[Dict[str, Any]] = None
        self._lifespan: Optional[_Lifespan] = None
        self._ws_app: Optional[web.Application] = None
        # Per TCP connection: what the scope says of it (_connection_view).
        self._connections: Dict[object, Tuple[Any, Any, Any]] = {}

    # -- the lifespan protocol --------------------------------------------

    async def startup(self) -> None:
        """Runs the application's lifespan startup and waits for it.

        Raises `LifespanError` with the application's message if it answers
        ``lifespan.startup.failed``.  What happens when the application
        raises (or sends something else) depends on the ``lifespan``
        argument, as with uvicorn's option of that name: with ``"auto"``
        (the default) the application is taken not to speak the lifespan
        protocol, which is logged, and serving goes on without it; with
        ``"on"`` it is a `LifespanError` too.  With ``"off"`` the
        application is never called with a ``lifespan`` scope.  Call it
        once, before the server accepts connections.
        """
        if self._lifespan is not None:
            raise RuntimeError("ASGIContainer.startup() called twice")
        self.state = {}
        self._lifespan = _Lifespan(self.asgi_app, self.state, required=self.lifespan == "on")
        if self.lifespan == "off":
            self._lifespan.supported = False
            self.state = None
            return
        await self._lifespan.run("startup")
        if not self._lifespan.supported:
            self.state = None

    async def shutdown(self) -> None:
        """Runs the application's lifespan shutdown and waits for it (a
        no-op if `startup` did not run or the application has no lifespan
        support).  Raises `LifespanError` as `startup` does."""
        lifespan = self._lifespan
        if lifespan is None or not lifespan.supported:
            return
        await lifespan.run("shutdown")

    async def __aenter__(self) -> "ASGIContainer":
        await self.startup()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.shutdown()

    # -- as the HTTPServer's callback --------------------------------------

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        return _HTTPExchange(self, server_conn, request_conn)

    def on_close(self, server_conn: object) -> None:
        self._connections.pop(server_conn, None)

    # -- as a plain request callback (FallbackHandler, routing) -------------

    def __call__(self, request: httputil.HTTPServerRequest) -> None:
        """Serves one complete request (its body already read), for
        `tornado.web.FallbackHandler` and other plain-callable users."""
        conn = request.connection
        assert conn is not None, "ASGIContainer needs the request's connection"
        assert request.method is not None and request.uri is not None
        if _is_websocket_upgrade(request.method, request.headers):
            self._websocket_application()(request)
            return
        exchange = _HTTPExchange(self, request.server_connection, conn)
        start_line = httputil.RequestStartLine(request.method, request.uri, request.version)
        exchange._begin(start_line, request.headers, body_expected=False)
        exchange._chunk = request.body or None
        exchange._body_complete = True
        # The handler that passed the request here set its own callback.
        conn.set_close_callback(exchange._on_client_gone)  # type: ignore[attr-defined]
        exchange._start_app()

    # -- scopes ---------------------------------------------------------------

    def _websocket_application(self) -> web.Application:
        """A private `.Application` whose one handler plays the ASGI
        WebSocket protocol, so that upgrades reuse `tornado.websocket`."""
        if self._ws_app is None:
            self._ws_app = web.Application(
                [(r".*", _ContainerWebSocketHandler, {"container": self})]
            )
        return self._ws_app

    def _scope(
        self, kind: str, start_line: httputil.RequestStartLine,
        headers: httputil.HTTPHeaders, server_conn: object, conn: Any,
    ) -> Dict[str, Any]:  # fmt: skip
        """The ``http`` or ``websocket`` scope of a request."""
        raw_path, _, query = start_line.path.partition("?")
        if raw_path[:1] != "/" and raw_path.startswith(("http://", "https://")):
            # RFC 9112 section 3.2.2: the absolute form; ASGI wants the path.
            raw_path = "/" + raw_path.split("/", 3)[-1] if raw_path.count("/") >= 3 else "/"
        client, server, scheme = self._connection_view(server_conn, conn)
        if kind == "websocket":
            scheme = "wss" if scheme == "https" else "ws"
        fields = headers._as_list
        names = _LOWER_NAMES
        scope: Dict[str, Any] = {
            "type": kind,
            "asgi": _ASGI_VERSION,
            "http_version": _HTTP_VERSIONS.get(start_line.version) or start_line.version[5:],
            "method": start_line.method,
            "scheme": scheme,
            "path": urllib.parse.unquote(raw_path) if "%" in raw_path else raw_path,
            "raw_path": raw_path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "root_path": self.root_path,
            "headers": [
                (names.get(name) or _asgi_name(name), value.encode("latin-1"))
                for name in fields
                for value in fields[name]
            ],
            "client": client,
            "server": server,
        }
        state = self.state
        if state is not None:
            scope["state"] = dict(state)
        return scope

    def _connection_view(
        self, server_conn: object, conn: Any
    ) -> Tuple[Optional[Tuple[str, int]], Optional[Tuple[str, int]], str]:
        """The scope's ``client``, ``server`` and ``scheme`` for a request
        on ``conn``: worked out once per TCP connection, and again only
        when the context changes (``xheaders``)."""
        context = getattr(conn, "context", None)
        remote_ip = getattr(context, "remote_ip", None)
        protocol = getattr(context, "protocol", None) or "http"
        known = self._connections.get(server_conn)
        if known is not None and known[0] is remote_ip and known[1] is protocol:
            return known[2]
        address = getattr(context, "address", None)
        client = (remote_ip, address[1]) if remote_ip and isinstance(address, tuple) else None
        server: Optional[Tuple[str, int]] = None
        sock = getattr(getattr(conn, "stream", None), "socket", None)
        if sock is not None:
            try:
                name = sock.getsockname()
                if isinstance(name, tuple):
                    server = (name[0], name[1])
            except OSError:
                pass
        view = (client, server, protocol)
        if server_conn is not None:
            self._connections[server_conn] = (remote_ip, protocol, view)
        return view


# The scope's http_version for the usual request versions.
_HTTP_VERSIONS = {"HTTP/1.1": "1.1", "HTTP/1.0": "1.0", "HTTP/2": "2", "HTTP/2.0": "2"}


def _is_websocket_upgrade(method: str, headers: httputil.HTTPHeaders) -> bool:
    return (
        method == "GET"
        and "Upgrade" in headers
        and headers["Upgrade"].strip().lower() == "websocket"
    )


class _Lifespan:
    """Runs an application's ``lifespan`` scope (one task for the life of
    the process) and moves its startup and shutdown events."""

    def __init__(self, app: ASGIApp, state: Dict[str, Any], required: bool) -> None:
        self.app = app
        self.state = state
        self.required = required
        self.supported = True
        self._events: "asyncio.Queue[Message]" = asyncio.Queue()
        self._answer: Optional["Future[Message]"] = None
        self._task: Optional["asyncio.Task[None]"] = None

    async def run(self, phase: str) -> None:
        if self._task is None:
            scope = {"type": "lifespan", "asgi": _ASGI_VERSION, "state": self.state}
            self._task = asyncio.ensure_future(self._run_app(scope))
        answer = self._answer = Future()
        self._events.put_nowait({"type": "lifespan." + phase})
        message = await answer
        kind = message["type"]
        if kind == "lifespan.%s.complete" % phase:
            return
        if kind == "unsupported":
            self.supported = False
            return
        if kind == "lifespan.%s.failed" % phase:
            raise LifespanError(message.get("message", "") or "lifespan %s failed" % phase)
        if kind == "error":
            raise LifespanError(message["message"]) from message["exception"]
        raise LifespanError("lifespan %s: the application sent %r" % (phase, kind))

    async def _receive(self) -> Message:
        return await self._events.get()

    async def _send(self, message: Message) -> None:
        answer = self._answer
        kind = message.get("type", "")
        if answer is None or answer.done() or not kind.startswith("lifespan."):
            raise RuntimeError("unexpected message %r in the lifespan scope" % kind)
        answer.set_result(message)

    async def _run_app(self, scope: Scope) -> None:
        try:
            await self.app(scope, self._receive, self._send)
        except BaseException as e:
            if self.required:
                app_log.error("Exception in ASGI lifespan", exc_info=True)
                self._settle({"type": "error", "message": "%s: %s" % (type(e).__name__, e), "exception": e})
            else:
                app_log.info("The ASGI application does not seem to support lifespan (%s: %s)", type(e).__name__, e)
                self._settle({"type": "unsupported"})
            if not isinstance(e, Exception):
                raise
        else:
            if self.required:
                self._settle({"type": "error", "message": "the application's lifespan returned early", "exception": None})
            else:
                self._settle({"type": "unsupported"})

    def _settle(self, message: Message) -> None:
        answer = self._answer
        if answer is not None and not answer.done():
            answer.set_result(message)


class _HTTPExchange(httputil.HTTPMessageDelegate):
    """One request/response of an ``http`` scope on Tornado's server.

    As the message delegate it receives the request from the connection;
    as the ASGI ``receive``/``send`` pair it hands it to the application
    and writes the response.  Body pieces are held one at a time: the
    connection reads the next only when the application has taken the
    previous one (``data_received`` returns a future until then).
    """

    # The state of the exchange starts as these class attributes: an
    # instance stores only what changes (one exchange per request).
    _scope: Optional[Dict[str, Any]] = None
    _chunk: Optional[bytes] = None  # a body piece the application has not taken
    _body_complete = False
    _body_sent = False  # the final http.request event has been returned
    # Resolved when the application takes the pending body piece.
    _taken: Optional[Future[None]] = None
    # A receive() waiting for something to happen.
    _waiter: Optional[Future[None]] = None
    _status = 0
    _headers: Optional[httputil.HTTPHeaders] = None
    _started = False  # response headers written
    _finished = False  # response complete
    _gone = False  # client went away
    _running = False  # the application has been called
    _method = ""
    _uri = ""
    _started_at = 0.0

    def __init__(
        self, container: ASGIContainer, server_conn: object, conn: httputil.HTTPConnection
    ) -> None:
        self._container = container
        self._server_conn = server_conn
        self._conn = conn

    # -- HTTPMessageDelegate ----------------------------------------------

    def headers_received(
        self, start_line: httputil._StartLine, headers: httputil.HTTPHeaders
    ) -> Optional[Awaitable[None]]:
        start_line = cast(httputil.RequestStartLine, start_line)
        fields = headers._as_list
        if "Upgrade" in fields and _is_websocket_upgrade(start_line.method, headers):
            # Hand the whole exchange to the WebSocket machinery.
            ws = self._container._websocket_application().start_request(self._server_conn, self._conn)
            result = ws.headers_received(start_line, headers)
            # (Bound afterwards: the router rebinds its own on routing.)
            self.data_received = ws.data_received  # type: ignore[method-assign]
            self.finish = ws.finish  # type: ignore[method-assign]
            self.on_connection_close = ws.on_connection_close  # type: ignore[method-assign]
            return result
        body_expected = "Content-Length" in fields or "Transfer-Encoding" in fields
        self._begin(start_line, headers, body_expected)
        if body_expected:
            # The application may want to read the body as it arrives.
            self._start_app()
        return None

    def data_received(self, chunk: bytes) -> Optional[Awaitable[None]]:
        if self._finished or self._gone:
            return None  # nobody will read it
        self._chunk = chunk
        self._wake()
        taken = self._taken = Future()
        return taken

    def finish(self) -> None:
        self._body_complete = True
        # From now on the connection reports the client leaving here.
        self._conn.set_close_callback(self._on_client_gone)  # type: ignore[attr-defined]
        if self._running:
            self._wake()
        else:
            self._start_app()

    def on_connection_close(self) -> None:
        self._on_client_gone()

    # -- the ASGI side --------------------------------------------------------

    def _begin(
        self, start_line: httputil.RequestStartLine, headers: httputil.HTTPHeaders,
        body_expected: bool,
    ) -> None:  # fmt: skip
        self._started_at = time.time()
        self._method = start_line.method
        self._uri = start_line.path
        self._scope = self._container._scope("http", start_line, headers, self._server_conn, self._conn)
        if not body_expected:
            self._body_complete = True

    def _start_app(self) -> None:
        scope = self._scope
        assert scope is not None
        self._running = True
        self._scope = None
        try:
            task = _new_task(self._container.asgi_app(scope, self.receive, self.send))
        except Exception as e:  # the application is not a coroutine function
            self._app_failed(e)
            return
        if task.done():
            self._app_done(task)
        else:
            _TASKS.add(task)
            task.add_done_callback(self._app_done)

    def _app_done(self, task: "asyncio.Task[None]") -> None:
        _TASKS.discard(task)
        if task.cancelled():
            self._close()
            return
        error = task.exception()
        if error is not None:
            self._app_failed(error)
        elif not self._finished:
            if not self._started:
                if not self._gone:
                    app_log.error("ASGI application returned without sending a response")
                    self._send_500()
            else:
                # An incomplete response can only be ended by closing.
                app_log.error("ASGI application returned before its response was complete")
                self._close()
        self._release_body()

    def _app_failed(self, e: BaseException) -> None:
        if isinstance(e, ClientDisconnected) or self._gone:
            self._close()
            return
        app_log.error("Exception in ASGI application", exc_info=e)
        if self._started:
            self._close()
        else:
            self._send_500()

    def _send_500(self) -> None:
        body = b"500: Internal Server Error"
        headers = httputil.HTTPHeaders._from_canonical(
            {
                "Content-Type": ["text/plain; charset=utf-8"],
                "Content-Length": [str(len(body))],
                "Date": [_date_value()],
                "Server": [_SERVER_VALUE],
            }
        )
        self._started = self._finished = True
        conn = self._conn
        try:
            conn.write_headers(
                httputil.ResponseStartLine("HTTP/1.1", 500, "Internal Server Error"), headers,
                None if self._method == "HEAD" else body,
            )  # fmt: skip
            conn.finish()
        except Exception:
            gen_log.debug("Could not send the 500 response", exc_info=True)
            self._close()
        self._log(500)

    def _close(self) -> None:
        self._finished = True
        close = getattr(self._conn, "close", None)
        if close is not None:
            close()
        self._release_body()

    def _remote_ip(self) -> str:
        return getattr(getattr(self._conn, "context", None), "remote_ip", None) or "-"

    def _release_body(self) -> None:
        # Let the connection's reader go on (to find the connection closed,
        # or to discard a body nobody read).
        taken, self._taken = self._taken, None
        _resolve(taken)

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        _resolve(waiter)

    def _on_client_gone(self) -> None:
        self._gone = True
        self._chunk = None
        self._wake()
        self._release_body()

    async def receive(self) -> Message:
        while True:
            chunk = self._chunk
            if chunk is not None:
                self._chunk = None
                self._release_body()
                return {"type": "http.request", "body": chunk, "more_body": not self._body_complete}
            if self._gone or self._finished:
                return {"type": "http.disconnect"}
            if self._body_complete and not self._body_sent:
                self._body_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if self._body_complete:
                self._body_sent = True
            waiter = self._waiter = Future()
            await waiter

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            if self._gone:
                raise ClientDisconnected("the client has disconnected")
            if self._finished:
                raise RuntimeError("http.response.body sent after the response was complete")
            conn = self._conn
            body = message.get("body", b"")
            more = message.get("more_body", False)
            status = self._status
            no_body = status in _NO_CONTENT_STATUSES or self._method == "HEAD"
            if not self._started:
                headers = self._headers
                if headers is None:
                    raise RuntimeError("http.response.body sent before http.response.start")
                self._started = True
                fields = headers._as_list
                if not (more or no_body or "Content-Length" in fields or "Transfer-Encoding" in fields):
                    # The whole body is known: no need to chunk it.
                    fields["Content-Length"] = [str(len(body))]
                start_line = _START_LINES.get(status) or _start_line(status)
                written: Optional[Future[None]] = conn.write_headers(start_line, headers, None if no_body else body)
            elif body and not no_body:
                written = conn.write(body)
            else:
                written = None
            if not more:
                self._finished = True
                conn.finish()
                if self._waiter is not None:
                    self._wake()
                self._log(status)
            elif written is not None and not written.done():
                await written
                if self._gone:
                    raise ClientDisconnected("the client has disconnected")
        elif kind == "http.response.start":
            if self._headers is not None:
                raise RuntimeError("http.response.start sent twice")
            if self._gone:
                raise ClientDisconnected("the client has disconnected")
            self._status = int(message["status"])
            headers = self._headers = _tornado_headers(message.get("headers", ()))
            fields = headers._as_list
            if "Date" not in fields:
                fields["Date"] = [_date_value()]
            if "Server" not in fields:
                fields["Server"] = [_SERVER_VALUE]
        else:
            raise ValueError("unexpected ASGI message type %r in an http scope" % kind)

    def _log(self, status: int) -> None:
        if status < 400:
            level = logging.INFO
        elif status < 500:
            level = logging.WARNING
        else:
            level = logging.ERROR
        if access_log.isEnabledFor(level):
            millis = 1000.0 * (time.time() - self._started_at)
            access_log.log(level, "%d %s %s (%s) %.2fms", status, self._method, self._uri, self._remote_ip(), millis)


# Response start lines by status (the version in them is not used).
_START_LINES: Dict[int, httputil.ResponseStartLine] = {}


def _start_line(status: int) -> httputil.ResponseStartLine:
    line = httputil.ResponseStartLine("HTTP/1.1", status, httputil.responses.get(status, "Unknown"))
    if 100 <= status < 600:
        _START_LINES[status] = line
    return line


# ASGI's header names (lower-case bytes) in Tornado's Http-Header-Case,
# checked against RFC 9110's field-name grammar (bounded: applications may
# invent names).
_TORNADO_NAMES: Dict[bytes, str] = {}


def _tornado_name(name: bytes) -> str:
    normalized = httputil._checked_header_name(name.decode("latin-1"))
    if len(_TORNADO_NAMES) < 1000:
        _TORNADO_NAMES[name] = normalized
    return normalized


class _ContainerWebSocketHandler(websocket.WebSocketHandler):
    """Plays the ASGI ``websocket`` scope for `ASGIContainer`: the
    application decides in `prepare` (accept, close or its own HTTP
    answer), and messages then flow between `tornado.websocket`'s protocol
    and the application's ``receive``/``send``."""

    def initialize(self, container: ASGIContainer) -> None:  # type: ignore[override]
        self._container = container
        self._session: Optional[_ContainerWebSocketSession] = None

    async def prepare(self) -> None:
        headers = self.request.headers
        if (
            headers.get("Sec-WebSocket-Version") not in websocket._SUPPORTED_VERSIONS
            or not websocket._valid_key(headers.get("Sec-WebSocket-Key"))
            or not websocket._has_token(headers.get("Connection", ""), "upgrade")
        ):
            return  # get() refuses the handshake; the application is not asked
        request = self.request
        assert request.method is not None and request.uri is not None
        start_line = httputil.RequestStartLine(request.method, request.uri, request.version)
        scope = self._container._scope("websocket", start_line, headers, request.server_connection, request.connection)
        offered = headers.get("Sec-WebSocket-Protocol", "")
        scope["subprotocols"] = [name.strip() for name in offered.split(",") if name.strip()]
        scope["extensions"] = {"websocket.http.response": {}}
        session = self._session = _ContainerWebSocketSession(self, scope)
        reply = await session.first_reply()
        kind = reply["type"]
        if kind == "websocket.accept":
            for name, value in reply.get("headers", ()):
                self.add_header(name.decode("latin-1"), value.decode("latin-1"))
            return
        if kind == "websocket.http.response.start":
            self.set_status(int(reply["status"]))
            self.clear_header("Content-Type")
            for name, value in reply.get("headers", ()):
                self.add_header(name.decode("latin-1"), value.decode("latin-1"))
            await session.relay_denial_body(self)
            return
        raise web.HTTPError(500 if kind == "error" else 403)

    def check_origin(self, origin: str) -> bool:
        # The application sees the Origin header and decides (as it does
        # on other ASGI servers).
        return True

    def select_subprotocol(self, subprotocols: List[str]) -> Optional[str]:
        session = self._session
        assert session is not None
        picked = session.subprotocol
        if picked is not None and picked not in subprotocols:
            app_log.error("ASGI application accepted subprotocol %r, which the client did not offer", picked)
            return None
        return picked

    def get_compression_options(self) -> Optional[Dict[str, Any]]:
        # Deflate whenever the client offers it.
        return {}

    def open(self, *args: str, **kwargs: str) -> None:
        assert self._session is not None
        self._session.opened()

    def on_message(self, message: Union[str, bytes]) -> Optional[Awaitable[None]]:
        assert self._session is not None
        return self._session.deliver(message)

    def on_close(self) -> None:
        session = self._session
        if session is not None:
            session.disconnected(self.close_code, self.close_reason)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, web.HTTPError) and value.status_code in (403, 500):
            return  # a refusal; the session logged what caused it
        super().log_exception(typ, value, tb)


class _ContainerWebSocketSession:
    """The ``receive``/``send`` pair of one ``websocket`` scope on
    `ASGIContainer`, and the application's task."""

    def __init__(self, handler: _ContainerWebSocketHandler, scope: Dict[str, Any]) -> None:
        self.handler: Optional[_ContainerWebSocketHandler] = handler
        self.subprotocol: Optional[str] = None
        # Events for receive(): connect first, then messages, disconnect.
        self._incoming: Deque[Message] = collections.deque([{"type": "websocket.connect"}])
        self._incoming_waiter: Optional[Future[None]] = None
        # Resolved when the application takes the message last queued.
        self._taken: Optional[Future[None]] = None
        self._reply: Future[Message] = Future()
        self._denial: Optional[Deque[Message]] = None
        self._denial_waiter: Optional[Future[None]] = None
        self._open: Future[None] = Future()
        self._accepted = False
        self._closed = False  # we (the application) sent a close
        self._gone = False  # the connection has ended
        asyncio.ensure_future(self._run_app(handler._container.asgi_app, scope))

    # -- the handler's side ---------------------------------------------------

    def first_reply(self) -> "Future[Message]":
        return self._reply

    async def relay_denial_body(self, handler: "_ContainerWebSocketHandler") -> None:
        if self._denial is None:
            self._denial = collections.deque()
        while True:
            while not self._denial:
                waiter = self._denial_waiter = Future()
                await waiter
            message = self._denial.popleft()
            if message["type"] == "end":
                handler.finish()
                return
            handler.write(message.get("body", b""))
            if not message.get("more_body", False):
                handler.finish()
                self._finish_denial()
                return

    def opened(self) -> None:
        if not self._open.done():
            self._open.set_result(None)

    def deliver(self, message: Union[str, bytes]) -> Optional[Awaitable[None]]:
        if isinstance(message, str):
            event: Message = {"type": "websocket.receive", "text": message}
        else:
            event = {"type": "websocket.receive", "bytes": message}
        self._push(event)
        # Back-pressure: the next frame is read once the application has
        # taken this message.
        taken = self._taken = Future()
        return taken

    def disconnected(self, code: Optional[int], reason: Optional[str]) -> None:
        if self._gone:
            return
        self._gone = True
        self._push({"type": "websocket.disconnect", "code": 1005 if code is None else code, "reason": reason or ""})
        self._release()
        if not self._open.done():
            self._open.set_result(None)

    # -- the application's side ------------------------------------------

    def _push(self, event: Message) -> None:
        self._incoming.append(event)
        waiter, self._incoming_waiter = self._incoming_waiter, None
        _resolve(waiter)

    def _release(self) -> None:
        taken, self._taken = self._taken, None
        _resolve(taken)

    async def receive(self) -> Message:
        while not self._incoming:
            waiter = self._incoming_waiter = Future()
            await waiter
        event = self._incoming.popleft()
        if not self._incoming:
            self._release()
        return event

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if not self._reply.done():
            if kind == "websocket.accept":
                self.subprotocol = message.get("subprotocol")
                self._accepted = True
                self._reply.set_result(message)
                # The handshake completes in the handler; messages sent
                # meanwhile wait for it.
                await self._open
                return
            if kind == "websocket.close":
                self._closed = True
                self._reply.set_result(message)
                self.disconnected(message.get("code", 1000), message.get("reason"))
                return
            if kind == "websocket.http.response.start":
                self._reply.set_result(message)
                return
            raise RuntimeError("ASGI application sent %r before accepting the WebSocket" % kind)
        if self._denial is not None or (not self._accepted and kind == "websocket.http.response.body"):
            if kind != "websocket.http.response.body":
                raise RuntimeError("ASGI application sent %r during its HTTP refusal" % kind)
            self._queue_denial(message)
            return
        handler = self.handler
        if self._gone or self._closed or handler is None:
            raise ClientDisconnected("the WebSocket is closed")
        if kind == "websocket.send":
            text = message.get("text")
            try:
                if text is not None:
                    written = handler.write_message(text)
                else:
                    data = message.get("bytes")
                    if data is None:
                        raise ValueError("websocket.send needs 'text' or 'bytes'")
                    written = handler.write_message(data, binary=True)
                await written
            except websocket.WebSocketClosedError:
                raise ClientDisconnected("the WebSocket is closed") from None
        elif kind == "websocket.close":
            self._closed = True
            handler.close(message.get("code", 1000), message.get("reason") or None)
        else:
            raise ValueError("unexpected ASGI message type %r in a websocket scope" % kind)

    def _queue_denial(self, message: Message) -> None:
        if self._denial is None:
            self._denial = collections.deque()
        self._denial.append(message)
        waiter, self._denial_waiter = self._denial_waiter, None
        _resolve(waiter)

    def _finish_denial(self) -> None:
        self._gone = True

    async def _run_app(self, app: ASGIApp, scope: Scope) -> None:
        error: Optional[BaseException] = None
        try:
            await app(scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException as e:
            error = e
            if not self._gone:
                app_log.error("Exception in ASGI application", exc_info=True)
            if not isinstance(e, Exception):
                raise
        finally:
            self._settle_after_app(error)

    def _settle_after_app(self, error: Optional[BaseException]) -> None:
        if not self._reply.done():
            self._reply.set_result({"type": "error" if error is not None else "websocket.close"})
        elif self._denial is not None:
            self._queue_denial({"type": "end"})
        handler = self.handler
        self.handler = None
        if handler is not None and self._accepted and not self._gone and not self._closed:
            # The application is done with the connection: close it (1011
            # if it failed, RFC 6455 section 7.4.1).
            handler.close(1011 if error is not None else 1000)
        self._release()


# ---------------------------------------------------------------------------
# ASGIAdapter: a Tornado application on an ASGI server
# ---------------------------------------------------------------------------


_REQUEST_VERSIONS = {"1.1": "HTTP/1.1", "1.0": "HTTP/1.0", "2": "HTTP/2", "2.0": "HTTP/2"}


class _ASGIContext:
    """The ``connection.context`` of a request arriving through ASGI: what
    `.HTTPServerRequest` reads the client's address and scheme from."""

    __slots__ = ("remote_ip", "protocol", "address")

    def __init__(self, scope: Scope) -> None:
        client = scope.get("client")
        if client:
            self.address = client if type(client) is tuple else tuple(client)
            self.remote_ip = client[0]
        else:
            self.address = None
            self.remote_ip = "0.0.0.0"
        scheme = scope.get("scheme")
        self.protocol = "https" if scheme == "https" or scheme == "wss" else "http"

    def __str__(self) -> str:
        return str(self.remote_ip)


class _StreamView:
    """Stands in for ``request.connection.stream`` (which applications
    sometimes consult, e.g. ``stream.closed()`` in a long poll): under
    ASGI there is no stream, only whether the client is still there."""

    __slots__ = ("_conn",)

    def __init__(self, conn: "_ASGIConnection") -> None:
        self._conn = conn

    def closed(self) -> bool:
        return self._conn._gone

    def set_nodelay(self, value: bool) -> None:
        pass  # the ASGI server owns the socket


class _ASGIConnection(httputil.HTTPConnection):
    """An `.HTTPConnection` whose response goes out as ASGI messages.

    ``write_headers``/``write``/``finish`` turn into ``http.response.start``
    and ``http.response.body`` messages (``websocket.accept`` or a refusal
    in a ``websocket`` scope).  The messages are queued and sent in order
    by whichever coroutine is free to await ``send``: the adapter's own
    after the request is complete, or a short-lived task while the request
    is still being received.  Each write's future resolves once its
    message has been sent (flow control).
    """

    # The state starts as these class attributes (one connection per request).
    _pumping = False  # a coroutine is sending the queued messages
    _pump_waiter: Optional[Future[None]] = None  # the adapter's, idle
    # Whether the adapter's coroutine is running (not awaiting): it sends
    # what is queued as soon as it can, so no task is needed for that.
    _main_busy = True
    _head = False  # the response has no body (HEAD, 204, 304)
    _finished = False  # finish() called
    _sent_all = False  # the last message has been sent
    _gone = False  # the client went away
    _close_callback: Optional[Callable[[], None]] = None
    _ws_protocol: "Optional[_AdapterWebSocketProtocol]" = None

    def __init__(
        self, adapter: "ASGIAdapter", scope: Scope, send: Send, websocket_scope: bool = False
    ) -> None:
        self._scope = scope
        self._send = send
        self.context = _ASGIContext(scope)
        self._websocket = websocket_scope
        self._outbox: Deque[Tuple[Message, Optional[Future[None]]]] = collections.deque()
        self.max_body_size = adapter.max_body_size

    @property
    def stream(self) -> _StreamView:
        return _StreamView(self)

    # -- HTTPConnection -------------------------------------------------

    def set_close_callback(self, callback: Optional[Callable[[], None]]) -> None:
        self._close_callback = callback

    def set_max_body_size(self, max_body_size: int) -> None:
        self.max_body_size = max_body_size

    def set_body_timeout(self, timeout: float) -> None:
        pass  # the ASGI server enforces its own timeouts

    def write_headers(
        self, start_line: httputil._StartLine, headers: httputil.HTTPHeaders, chunk: Optional[bytes] = None
    ) -> "Future[None]":
        status = cast(httputil.ResponseStartLine, start_line).code
        if self._websocket:
            return self._websocket_answer(status, headers, chunk)
        message = {"type": "http.response.start", "status": status, "headers": _server_side_headers(headers)}
        self._head = self._head or status in _NO_CONTENT_STATUSES
        if chunk and not self._head:
            self._queue(message, None)
            return self._queue({"type": "http.response.body", "body": chunk, "more_body": True}, Future())
        return self._queue(message, Future())

    def write(self, chunk: bytes) -> "Future[None]":
        if self._head or not chunk:
            return self._done_future()
        event = "websocket.http.response.body" if self._websocket else "http.response.body"
        return self._queue({"type": event, "body": chunk, "more_body": True}, Future())

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._websocket and self._ws_protocol is not None and self._ws_protocol.accepted:
            return  # the 101: nothing more to send
        event = "websocket.http.response.body" if self._websocket else "http.response.body"
        outbox = self._outbox
        if outbox and outbox[-1][0]["type"] == event:
            # The last piece has not left yet: it becomes the final one
            # (one message, and one send, fewer).
            outbox[-1][0]["more_body"] = False
            return
        self._queue({"type": event, "body": b"", "more_body": False}, None)

    def _websocket_answer(
        self, status: int, headers: httputil.HTTPHeaders, chunk: Optional[bytes]
    ) -> "Future[None]":
        protocol = self._ws_protocol
        if status == 101 and protocol is not None:
            protocol.accepted = True
            subprotocol = protocol.selected_subprotocol
            extra = [
                pair for pair in _asgi_headers(headers)
                if pair[0] not in _HANDSHAKE_HEADERS
            ]  # fmt: skip
            message: Message = {"type": "websocket.accept", "subprotocol": subprotocol, "headers": extra}
            return self._queue(message, Future())
        # A refusal: the server's denial response extension when it has
        # one, else a close before accepting (which servers answer with 403).
        if "websocket.http.response" in (self._scope.get("extensions") or {}):
            start = {"type": "websocket.http.response.start", "status": status, "headers": _asgi_headers(headers)}
            self._queue(start, None)
            if chunk:
                return self._queue({"type": "websocket.http.response.body", "body": chunk, "more_body": True}, Future())
            return self._done_future()
        self._finished = True
        return self._queue({"type": "websocket.close", "code": 1008}, Future())

    # -- sending ---------------------------------------------------------

    def _done_future(self) -> "Future[None]":
        future: Future[None] = Future()
        if self._gone:
            future.set_exception(StreamClosedError())
            future.exception()
        else:
            future.set_result(None)
        return future

    def _queue(self, message: Message, future: Any = None) -> Any:
        """Queues ``message`` for sending and returns ``future``, which is
        made done once the message has been sent (or has failed, with
        `.StreamClosedError`, if the client is gone)."""
        if self._gone:
            if future is not None:
                future.set_exception(StreamClosedError())
                future.exception()
            return future
        self._outbox.append((message, future))
        waiter = self._pump_waiter
        if waiter is not None:
            # The adapter's coroutine is waiting for work: it sends.
            self._pump_waiter = None
            if not waiter.done():
                waiter.set_result(None)
        elif not (self._pumping or self._main_busy):
            # Written while the adapter's coroutine waits for the server
            # (a handler answering during an upload): send from a task.
            asyncio.ensure_future(self._pump())
        return future

    async def _pump(self) -> None:
        """Sends the queued messages, in order, until the queue is empty."""
        if self._pumping:
            return
        self._pumping = True
        outbox = self._outbox
        send = self._send
        try:
            while outbox:
                message, future = outbox.popleft()
                try:
                    await send(message)
                except (OSError, RuntimeError) as e:
                    # The client is gone (ASGI 2.4 servers raise OSError;
                    # some raise RuntimeError for a send after the close).
                    gen_log.debug("ASGI send failed: %s", e)
                    if future is not None and not future.done():
                        future.set_exception(StreamClosedError())
                        future.exception()
                    self.client_gone()
                    return
                if future is not None and not future.done():
                    future.set_result(None)
            # finish() queues the last message: once it has been sent,
            # nothing is left (a WebSocket's accept or close is last too).
            if self._finished:
                self._sent_all = True
        finally:
            self._pumping = False
            waiter = self._pump_waiter
            if waiter is not None and not waiter.done():
                # (The adapter's coroutine waits for the response's end.)
                self._pump_waiter = None
                waiter.set_result(None)

    async def serve_until_sent(self, receive: Receive) -> None:
        """The adapter's coroutine, once the request is complete: sends what
        the application writes until the response is over, and meanwhile
        listens for ``http.disconnect``."""
        listener: Optional["asyncio.Future[Message]"] = None
        try:
            while True:
                await self._pump()
                if self._sent_all or self._gone:
                    return
                waiter = self._pump_waiter = Future()
                if listener is None:
                    listener = asyncio.ensure_future(receive())
                await asyncio.wait((waiter, listener), return_when=asyncio.FIRST_COMPLETED)
                self._pump_waiter = None
                if listener.done():
                    if listener.cancelled() or listener.exception() is not None:
                        self.client_gone()
                        return
                    if listener.result()["type"] == "http.disconnect":
                        self.client_gone()
                        return
                    listener = None  # (nothing else is expected; keep listening)
        finally:
            if listener is not None and not listener.done():
                listener.cancel()

    def client_gone(self) -> None:
        """The client disconnected: fail what waits to be sent and tell
        the application (`.RequestHandler.on_connection_close`)."""
        if self._gone:
            return
        self._gone = True
        outbox = self._outbox
        while outbox:
            _, future = outbox.popleft()
            if future is not None and not future.done():
                future.set_exception(StreamClosedError())
                future.exception()
        waiter = self._pump_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            try:
                callback()
            except Exception:
                app_log.error("Exception in connection close callback", exc_info=True)


def _server_side_headers(headers: httputil.HTTPHeaders) -> List[Tuple[bytes, bytes]]:
    """The response headers for the ASGI server, without the ``Date`` and
    default ``Server`` that `.RequestHandler` adds: ASGI servers add their
    own, and two of either would contradict each other."""
    fields = headers._as_list
    names = _LOWER_NAMES
    return [
        (names.get(name) or _asgi_name(name), value.encode("latin-1"))
        for name in fields
        if name != "Date"
        for value in fields[name]
        if value != _SERVER_VALUE or name != "Server"
    ]


# Headers of the 101 answer the ASGI server writes itself.
_HANDSHAKE_HEADERS = frozenset(
    (
        b"upgrade", b"connection", b"sec-websocket-accept", b"sec-websocket-protocol",
        b"sec-websocket-extensions", b"content-type", b"content-length", b"server",
        b"date", b"transfer-encoding",
    )
)  # fmt: skip


class _AdapterWebSocketProtocol(websocket.WebSocketProtocol):
    """The message-level `.WebSocketProtocol` of a `.WebSocketHandler`
    served through `ASGIAdapter`: the ASGI server owns the socket, the
    framing, compression and the closing handshake; this object turns the
    handler's calls into ``websocket.*`` messages and the server's events
    into the handler's hooks.

    ASGI has no ping message: `write_ping` is accepted but sends nothing,
    and keepalive pings are the server's business (uvicorn's
    ``--ws-ping-interval``, hypercorn's ``websocket_ping_interval``).
    """

    def __init__(self, handler: websocket.WebSocketHandler, conn: _ASGIConnection) -> None:
        super().__init__(handler)
        self.conn = conn
        self.accepted = False
        self._subprotocol: Optional[str] = None
        self.close_code: Optional[int] = None
        self.close_reason: Optional[str] = None
        self._ended = False

    def accept_connection(self, handler: websocket.WebSocketHandler) -> Optional[Awaitable[None]]:
        offered = list(self.conn._scope.get("subprotocols") or ())
        picked = handler.select_subprotocol(offered)
        if picked:
            assert picked in offered, "select_subprotocol returned %r, which was not offered" % picked
            self._subprotocol = picked
        handler.set_status(101)
        handler.clear_header("Content-Type")
        handler.finish()  # -> websocket.accept, through the connection
        handler.__dict__.update(websocket._AFTER_UPGRADE)
        try:
            result = handler.open(*handler.open_args, **handler.open_kwargs)
        except Exception:
            handler.log_exception(*sys.exc_info())
            self._abort()
            return None
        if result is not None:
            return cast(Awaitable[None], result)
        return None

    @property
    def selected_subprotocol(self) -> Optional[str]:
        return self._subprotocol

    def write_message(
        self, message: Union[str, bytes, Dict[str, Any]], binary: bool = False
    ) -> "Future[None]":
        if self.is_closing():
            raise websocket.WebSocketClosedError()
        payload = websocket._message_payload(message)
        event: Message = {"type": "websocket.send"}
        if binary:
            event["bytes"] = payload
        else:
            event["text"] = payload.decode("utf-8")
        return websocket._closed_as_websocket_error(self.conn._queue(event, Future()))

    def write_ping(self, data: bytes) -> None:
        if len(data) > 125:
            raise ValueError("ping data is %d bytes; the limit is 125" % len(data))
        if self.is_closing():
            raise websocket.WebSocketClosedError()
        # ASGI cannot send a ping: see the class docstring.

    def close(self, code: Optional[int] = None, reason: Optional[str] = None) -> None:
        if self.server_terminated or self._ended:
            return
        self.server_terminated = True
        if code is None and reason is not None:
            code = 1000
        event: Message = {"type": "websocket.close", "code": 1000 if code is None else code}
        if reason:
            event["reason"] = reason
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self.conn._queue(event, None)

    def is_closing(self) -> bool:
        return self.server_terminated or self.client_terminated or self._ended

    def on_connection_close(self) -> None:
        self._abort()

    def _abort(self) -> None:
        if not self.server_terminated and not self._ended:
            self.close(1011)
        self.ended(self.close_code, self.close_reason)

    def ended(self, code: Optional[int], reason: Optional[str]) -> None:
        """The server reported the connection closed (``websocket.disconnect``)."""
        if self._ended:
            return
        self._ended = self.client_terminated = self.server_terminated = True
        self.handler.on_ws_connection_close(code, reason)

    def start_pinging(self) -> None:
        pass

    def set_nodelay(self, x: bool) -> None:
        pass

    def _process_server_headers(self, key: Union[str, bytes], headers: httputil.HTTPHeaders) -> None:
        raise NotImplementedError("server side only")

    def _start_reading(self) -> None:
        pass


class ASGIAdapter:
    """A Tornado `.Application` as an ASGI 3 application, for uvicorn,
    hypercorn, granian, daphne or any other ASGI server::

        # app.py
        import tornado.asgi, tornado.web

        class MainHandler(tornado.web.RequestHandler):
            def get(self):
                self.write("Hello, world")

        application = tornado.web.Application([(r"/", MainHandler)])
        asgi_app = tornado.asgi.ASGIAdapter(application)

        # uvicorn app:asgi_app    (or: hypercorn app:asgi_app, ...)

    The application runs unchanged: each ``http`` scope becomes an
    `.HTTPServerRequest` (``remote_ip``, ``protocol``, ``host`` and
    ``version`` from the scope) handled by the routed `.RequestHandler`,
    `.stream_request_body` handlers get the body as the server delivers it,
    ``flush()`` waits until the server has taken the data, and
    ``on_connection_close`` runs when the server reports
    ``http.disconnect``.  `.WebSocketHandler` endpoints work over the
    ``websocket`` scope: the handshake is the server's (a refusal from
    ``prepare``, `~.WebSocketHandler.check_origin` or an error goes out as
    a denial response where the server supports it, else as a 403), and
    messages, close codes and reasons go both ways.  ASGI has no ping
    message: `~.WebSocketHandler.ping` sends nothing and
    `~.WebSocketHandler.on_pong` is not called; the server sends its own
    keepalive pings.  Compression is the server's choice too.

    Request bodies larger than ``max_body_size`` bytes (100 MiB by default,
    as on `.HTTPServer`; a handler may change it for its request with
    ``self.request.connection.set_max_body_size``) are answered with 413.

    The ``lifespan`` scope is acknowledged.  ``application`` may be any
    `.HTTPServerConnectionDelegate` (a `tornado.routing.Router` too).
    """

    def __init__(
        self, application: httputil.HTTPServerConnectionDelegate, max_body_size: Optional[int] = None
    ) -> None:
        self.application = application
        self.max_body_size = 100 * 1024 * 1024 if max_body_size is None else max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # (A coroutine function: that is how servers tell ASGI 3 from 2.)
        kind = scope["type"]
        if kind == "http":
            # _serve_http, inlined: one coroutine less per request.
            conn = _ASGIConnection(self, scope, send)
            try:
                start_line, headers = self._request_head(scope)
                delegate = self.application.start_request(conn, conn)
                conn._head = start_line.method == "HEAD"
                waiting = delegate.headers_received(start_line, headers)
                if waiting is not None:
                    conn._main_busy = False
                    await waiting
                    conn._main_busy = True
            except httputil.HTTPInputError as e:
                gen_log.info("Malformed HTTP request through ASGI: %s", e)
                await _send_plain(send, 400, b"400: Bad Request")
                return
            fields = headers._as_list
            if (
                "Content-Length" not in fields
                and "Transfer-Encoding" not in fields
                and (start_line.version == "HTTP/1.1" or start_line.version == "HTTP/1.0")
            ):
                # RFC 9112 section 6.3: an HTTP/1 request without either
                # header has no body; no need to ask the server for it.
                delegate.finish()
            elif not await self._receive_body(conn, delegate, receive):
                return
            conn._main_busy = False
            if conn._outbox:
                await conn._pump()
            if not (conn._sent_all or conn._gone):
                await conn.serve_until_sent(receive)
        elif kind == "websocket":
            await self._serve_websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._serve_lifespan(receive, send)
        else:
            raise ValueError("ASGIAdapter does not handle %r scopes" % kind)

    def _request_head(
        self, scope: Scope
    ) -> Tuple[httputil.RequestStartLine, httputil.HTTPHeaders]:
        raw_path = scope.get("raw_path")
        if raw_path:
            path = raw_path.decode("latin-1")
        else:
            path = urllib.parse.quote(scope.get("path") or "/", safe="/:@!$&'()*+,;=~")
        query = scope.get("query_string")
        if query:
            path += "?" + query.decode("latin-1")
        headers = _tornado_headers(scope.get("headers") or ())
        if "Host" not in headers._as_list:
            server = scope.get("server")
            if server and server[1] is not None:
                headers["Host"] = "%s:%d" % (server[0], server[1])
        version = scope.get("http_version") or "1.1"
        start_line = httputil.RequestStartLine(
            scope.get("method", "GET"), path, _REQUEST_VERSIONS.get(version) or "HTTP/" + version
        )
        return start_line, headers

    async def _receive_body(
        self, conn: "_ASGIConnection", delegate: httputil.HTTPMessageDelegate, receive: Receive
    ) -> bool:
        """Feeds the request body to ``delegate``; False if the exchange
        ended on the way (the client left, or the body was too large)."""
        received = 0
        while True:
            if conn._finished and not conn._gone:
                # Answered before the body was read (an error, a 413).
                return True
            if conn._outbox:
                await conn._pump()
            conn._main_busy = False
            message = await receive()
            conn._main_busy = True
            kind = message["type"]
            if kind == "http.disconnect":
                delegate.on_connection_close()
                conn.client_gone()
                return False
            if kind != "http.request":
                continue
            body = message.get("body", b"")
            if body:
                received += len(body)
                if received > conn.max_body_size:
                    gen_log.info("Request body from %s over %d bytes", conn.context, conn.max_body_size)
                    delegate.on_connection_close()
                    if not conn._outbox and not conn._sent_all and not conn._pumping:
                        await _send_plain(conn._send, 413, b"413: Content Too Large")
                    return False
                waiting = delegate.data_received(body)
                if waiting is not None:
                    conn._main_busy = False
                    await waiting
                    conn._main_busy = True
            if not message.get("more_body", False):
                delegate.finish()
                return True

    async def _serve_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        conn = _ASGIConnection(self, scope, send, websocket_scope=True)
        conn._main_busy = False
        connect = await receive()
        conn._main_busy = True
        if connect["type"] != "websocket.connect":
            return
        try:
            start_line, headers = self._request_head(scope)
        except httputil.HTTPInputError:
            await send({"type": "websocket.close", "code": 1002})
            return
        # The server has checked the handshake; make the request look like
        # the HTTP/1.1 upgrade WebSocketHandler.get validates, also when it
        # came over HTTP/2 (RFC 8441), which carries none of these fields.
        headers["Upgrade"] = "websocket"
        headers["Connection"] = "Upgrade"
        if not websocket._valid_key(headers.get("Sec-WebSocket-Key")):
            headers["Sec-WebSocket-Key"] = base64.b64encode(os.urandom(16)).decode("ascii")
        headers["Sec-WebSocket-Version"] = "13"
        subprotocols = scope.get("subprotocols")
        if subprotocols and "Sec-Websocket-Protocol" not in headers:
            headers["Sec-WebSocket-Protocol"] = ", ".join(subprotocols)
        start_line = httputil.RequestStartLine("GET", start_line.path, start_line.version)
        conn._websocket_factory = self._protocol_factory(conn)  # type: ignore[attr-defined]
        delegate = self.application.start_request(conn, conn)
        waiting = delegate.headers_received(start_line, headers)
        if waiting is not None:
            await waiting
        delegate.finish()
        # Until the handshake is answered, send what is queued; then play
        # the server's events to the protocol.
        while conn._ws_protocol is None or not conn._ws_protocol.accepted:
            await conn._pump()
            if conn._finished or conn._gone:
                break
            waiter = conn._pump_waiter = Future()
            await waiter
            conn._pump_waiter = None
        await conn._pump()
        protocol = conn._ws_protocol
        if protocol is None or not protocol.accepted or conn._gone:
            return
        conn._main_busy = False
        await self._relay_websocket(conn, protocol, receive)

    def _protocol_factory(
        self, conn: _ASGIConnection
    ) -> Callable[[websocket.WebSocketHandler], websocket.WebSocketProtocol]:
        def make(handler: websocket.WebSocketHandler) -> websocket.WebSocketProtocol:
            protocol = conn._ws_protocol = _AdapterWebSocketProtocol(handler, conn)
            return protocol

        return make

    async def _relay_websocket(
        self, conn: _ASGIConnection, protocol: _AdapterWebSocketProtocol, receive: Receive
    ) -> None:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                if protocol.client_terminated:
                    continue
                text = message.get("text")
                data: Union[str, bytes] = text if text is not None else message.get("bytes") or b""
                try:
                    result = protocol.handler.on_message(data)
                    if result is not None:
                        await result
                except Exception:
                    protocol.handler.log_exception(*sys.exc_info())
                    protocol._abort()
            elif kind == "websocket.disconnect":
                code = message.get("code")
                reason = message.get("reason") or None
                if protocol.close_code is None or not protocol.server_terminated:
                    protocol.close_code, protocol.close_reason = code, reason
                conn._gone = True
                protocol.ended(protocol.close_code, protocol.close_reason)
                return

    async def _serve_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _send_plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
