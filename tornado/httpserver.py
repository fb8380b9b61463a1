"""The HTTP/1.x server: `HTTPServer`.

`HTTPServer` is the `.TCPServer` subclass that serves HTTP.  Each accepted
connection is wrapped in an `.HTTP1ServerConnection`, which parses the
requests; for each of them the server asks its application for an
`.HTTPMessageDelegate`.  The application is either an
`.HTTPServerConnectionDelegate` (`tornado.web.Application` is one) or a
plain function called with the complete `.HTTPServerRequest`.

Besides that glue, this module decides what a request's
``connection.context`` reports about the client (``remote_ip`` and
``protocol``), trusting a reverse proxy's ``X-*`` headers when asked to.

A minimal server::

    async def main():
        HTTPServer(app).listen(8888)
        await asyncio.Event().wait()

    asyncio.run(main())

As a `.Configurable`, ``HTTPServer.configure(OtherClass)`` makes later
``HTTPServer(...)`` calls build ``OtherClass`` instead.
"""

from __future__ import annotations

import socket
import ssl
from typing import (
    AbstractSet,
    Any,
    Awaitable,
    Callable,
    Dict,
    FrozenSet,
    List,
    Optional,
    Set,
    Type,
    Union,
    cast,
)

from tornado import httputil, iostream, netutil
from tornado.escape import native_str
from tornado.http1connection import HTTP1ConnectionParameters, HTTP1ServerConnection
from tornado.tcpserver import TCPServer
from tornado.util import Configurable

HTTPRequest = httputil.HTTPServerRequest

_PlainApp = Callable[[httputil.HTTPServerRequest], None]
_App = Union[httputil.HTTPServerConnectionDelegate, _PlainApp]
_TLS = Union[Dict[str, Any], ssl.SSLContext]

# Socket families whose peer address starts with an IP.
_IP_FAMILIES = (socket.AF_INET, socket.AF_INET6)

# The trusted_downstream of a context when the server has none.
_NO_PROXIES: FrozenSet[str] = frozenset()

# Idle keep-alive connections are dropped after an hour unless told otherwise.
_DEFAULT_IDLE_TIMEOUT = 3600.0


class HTTPServer(TCPServer, Configurable, httputil.HTTPServerConnectionDelegate):
    r"""Serves HTTP/1.x from the current `.IOLoop` in a single thread.

    ``request_callback`` receives the requests.  It is either an
    `.HTTPServerConnectionDelegate`, like `tornado.web.Application`, or a
    function taking the finished `.HTTPServerRequest`, which then answers
    through ``request.connection``.

    The keyword options:

    * ``xheaders``: believe a reverse proxy about the client, i.e. take
      ``remote_ip`` from ``X-Real-Ip`` / ``X-Forwarded-For`` and
      ``protocol`` from ``X-Scheme`` / ``X-Forwarded-Proto``.  Proxy
      addresses in ``trusted_downstream`` are passed over when reading
      ``X-Forwarded-For``.
    * ``protocol``: a fixed ``protocol`` for every request (for TLS ended
      by a proxy that sends no scheme header).
    * ``ssl_options``: serve HTTPS; an `ssl.SSLContext`, or a dict of
      `ssl.SSLContext.wrap_socket` keyword arguments.
    * ``no_keep_alive``: close each connection after one request.
    * ``decompress_request``: undo ``Content-Encoding: gzip`` on bodies.
    * ``chunk_size``: how much body is delivered at a time (also the read
      size).  ``max_header_size`` / ``max_body_size``: limits beyond which
      a request is refused with a 4xx.  ``max_buffer_size``: the stream's
      read buffer limit.
    * ``idle_connection_timeout``: seconds a keep-alive connection may sit
      idle, or take to send a request head (an hour by default).
      ``body_timeout``: seconds allowed for receiving a body.
    * ``http2``: also serve HTTP/2 (needs ``pip install tornado[http2]``):
      offered by ALPN over TLS, and recognised by its preface in cleartext
      (h2c with prior knowledge); see `tornado.http2connection`.

    Start serving with `.TCPServer.listen`, or `.TCPServer.add_sockets`
    given sockets from `tornado.netutil.bind_sockets`; `.TCPServer.start`
    can fork first.

    .. versionchanged:: 4.0
       An `.HTTPServerConnectionDelegate` is accepted as
       ``request_callback``; ``decompress_request``, ``chunk_size``,
       ``max_header_size``, ``idle_connection_timeout``, ``body_timeout``
       and ``max_body_size`` appeared.

    .. versionchanged:: 5.0
       No more ``io_loop`` argument.
    """

    # HTTP/2 is switched on by the extra keyword ``http2=True`` (see
    # util.Configurable: initialize() keeps Tornado 6.6's signature).
    _extra_keywords = frozenset({"http2"})
    _http2 = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Everything happens in initialize(), which Configurable.__new__
        # has already run with these same arguments.
        pass

    def initialize(  # type: ignore[override]
        self, request_callback: _App, no_keep_alive: bool = False, xheaders: bool = False,
        ssl_options: Optional[_TLS] = None, protocol: Optional[str] = None,
        decompress_request: bool = False, chunk_size: Optional[int] = None,
        max_header_size: Optional[int] = None, idle_connection_timeout: Optional[float] = None,
        body_timeout: Optional[float] = None, max_body_size: Optional[int] = None,
        max_buffer_size: Optional[int] = None, trusted_downstream: Optional[List[str]] = None,
    ) -> None:
        TCPServer.__init__(self, ssl_options, max_buffer_size, chunk_size)
        self.request_callback = request_callback
        self.xheaders = xheaders
        self.protocol = protocol
        self.trusted_downstream = trusted_downstream
        self.conn_params = HTTP1ConnectionParameters(
            no_keep_alive=no_keep_alive, chunk_size=chunk_size,
            max_header_size=max_header_size, max_body_size=max_body_size,
            header_timeout=idle_connection_timeout or _DEFAULT_IDLE_TIMEOUT,
            body_timeout=body_timeout, decompress=decompress_request,
        )
        # Open connections, so close_all_connections can find them.
        self._connections: Set[HTTP1ServerConnection] = set()
        # Connections handed over to another protocol (WebSockets), for
        # tornado.shutdown.drain.
        self._takeovers = httputil._Takeovers()

    def _take_extra_keywords(self, http2: bool = False) -> None:  # type: ignore[override]
        """``http2=True``: serve HTTP/2 besides HTTP/1.x (see
        `tornado.http2connection`).  Fails here, at start, without the
        ``h2`` package."""
        if not http2:
            return
        from tornado import http2connection

        http2connection.require_h2()
        self._http2 = True
        http2connection._offer_h2(self)

    @classmethod
    def configurable_default(cls) -> "Type[Configurable]":
        return HTTPServer

    @classmethod
    def configurable_base(cls) -> "Type[Configurable]":
        return HTTPServer

    async def close_all_connections(self) -> None:
        """Closes the open connections, waiting until each has finished.

        Meant for shutdown, and for tests that must leave nothing running;
        call `.TCPServer.stop` beforehand so no new connection slips in.
        A connection that was detached (`.HTTP1Connection.detach`, as a
        websocket does) belongs to its new owner and stays open.
        """
        live = self._connections
        while live:
            # on_close() takes each one out of the set as it goes.
            await next(iter(live)).close()

    def handle_stream(self, stream: iostream.IOStream, address: Any) -> Optional[Awaitable[None]]:
        if self._http2:
            return self._handle_stream_h2(stream, address)
        trusted = self.trusted_downstream
        ctx = _HTTPRequestContext(stream, address, self.protocol, trusted)
        ctx._takeovers = self._takeovers
        server_conn = HTTP1ServerConnection(stream, self.conn_params, ctx)
        self._connections.add(server_conn)
        server_conn.start_serving(self)
        return None

    async def _handle_stream_h2(self, stream: iostream.IOStream, address: Any) -> None:
        """With ``http2=True``: the ALPN choice (TLS) or the first bytes
        (cleartext, h2c with prior knowledge) decide which protocol serves
        the connection."""
        from tornado import http2connection

        try:
            speaks_h2 = await http2connection._speaks_h2(stream, self.conn_params.header_timeout)
        except (iostream.StreamClosedError, TimeoutError, ssl.SSLError, OSError):
            stream.close()
            return
        ctx = _HTTPRequestContext(stream, address, self.protocol, self.trusted_downstream)
        ctx._takeovers = self._takeovers
        server_conn: Any
        if speaks_h2:
            server_conn = http2connection.HTTP2ServerConnection(stream, self.conn_params, ctx)
        else:
            server_conn = HTTP1ServerConnection(stream, self.conn_params, ctx)
        self._connections.add(server_conn)
        server_conn.start_serving(self)

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        app = self.request_callback
        handler: httputil.HTTPMessageDelegate = (
            app.start_request(server_conn, request_conn)
            if isinstance(app, httputil.HTTPServerConnectionDelegate)
            else _RequestCollector(app, request_conn)
        )
        return _XHeaderApplier(handler, request_conn) if self.xheaders else handler

    def on_close(self, server_conn: object) -> None:
        self._connections.discard(cast(HTTP1ServerConnection, server_conn))


class _RequestCollector(httputil.HTTPMessageDelegate):
    """Adapts a plain-function application: buffers the body, then calls
    the function once with the whole `.HTTPServerRequest`."""

    def __init__(self, app: _PlainApp, conn: httputil.HTTPConnection) -> None:
        self._app = app
        self.connection = conn
        self._request: Optional[httputil.HTTPServerRequest] = None
        self._parts: List[bytes] = []

    def headers_received(
        self, start_line: httputil._StartLine, headers: httputil.HTTPHeaders
    ) -> Optional[Awaitable[None]]:
        self._request = httputil.HTTPServerRequest(
            connection=self.connection, headers=headers,
            start_line=cast(httputil.RequestStartLine, start_line),
        )
        return None

    def data_received(self, chunk: bytes) -> Optional[Awaitable[None]]:
        self._parts.append(chunk)
        return None

    def finish(self) -> None:
        request = self._request
        assert request is not None
        request.body = b"".join(self._parts)
        # An unparseable form body raises HTTPInputError, which the
        # connection turns into a 400 answer.
        request._parse_body()
        self._app(request)

    def on_connection_close(self) -> None:
        self._parts = []


def _client_from_forwarded_for(chain: str, trusted: AbstractSet[str]) -> str:
    """Picks the client out of an ``X-Forwarded-For`` chain: the nearest
    (right-most) hop that isn't one of our own trusted proxies, or the
    left-most entry when they all are."""
    hops = [hop.strip() for hop in chain.split(",")]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0]


class _HTTPRequestContext:
    """The ``connection.context`` of the server's connections.

    Carries ``address`` (the peer's socket address), ``remote_ip`` and
    ``protocol`` for `.HTTPServerRequest`; its `str` is the client's name
    in log lines.
    """

    # The server's record of connections another protocol takes over
    # (see httputil._note_takeover).
    _takeovers: Optional[httputil._Takeovers] = None

    def __init__(
        self, stream: iostream.IOStream, address: Any, protocol: Optional[str],
        trusted_downstream: Optional[List[str]] = None,
    ) -> None:
        sock = stream.socket
        # Captured up front: by the time a log line prints the context the
        # socket may be closed.
        family = None if sock is None else sock.family
        self.address = address
        self.address_family = family
        if address is not None and family in _IP_FAMILIES:
            self.remote_ip = address[0]
        else:
            # Unix-domain peers have no IP; HTTPServerRequest wants one.
            self.remote_ip = "0.0.0.0"
        if not protocol:
            protocol = "https" if isinstance(stream, iostream.SSLIOStream) else "http"
        self.protocol = protocol
        # (Usually there are none: then one shared empty set, instead of a
        # new one per connection.)
        self.trusted_downstream: AbstractSet[str] = (
            set(trusted_downstream) if trusted_downstream else _NO_PROXIES
        )
        # What the socket itself says, to go back to after each request
        # (tracing integrations read _orig_remote_ip: the peer before any
        # X-Forwarded-For rewriting).
        self._orig_remote_ip = self.remote_ip
        self._orig_protocol = protocol

    def __str__(self) -> str:
        if self.address_family in _IP_FAMILIES:
            return str(self.remote_ip)
        peer = self.address
        # Linux reports unix-domain addresses as bytes.
        return native_str(peer) if isinstance(peer, bytes) else str(peer)

    def _apply_xheaders(self, headers: httputil.HTTPHeaders) -> None:
        """Adopts the client address and scheme a reverse proxy reports."""
        if "X-Real-Ip" in headers:
            claimed = headers["X-Real-Ip"]
        else:
            claimed = _client_from_forwarded_for(
                headers.get("X-Forwarded-For", self.remote_ip), self.trusted_downstream
            )
        # Anything but an IP literal (a host name, markup) is ignored.
        if netutil.is_valid_ip(claimed):
            self.remote_ip = claimed
        for name in ("X-Scheme", "X-Forwarded-Proto"):
            if name in headers:
                # Several proxies append to the list; the last one is ours.
                scheme = headers[name].rsplit(",", 1)[-1].strip()
                if scheme in ("http", "https"):
                    self.protocol = scheme
                break

    def _unapply_xheaders(self) -> None:
        """Goes back to what the socket says, ready for the next request."""
        self.remote_ip, self.protocol = self._orig_remote_ip, self._orig_protocol


class _XHeaderApplier(httputil.HTTPMessageDelegate):
    """Wraps a request's delegate so that, while the request lasts, the
    connection context reflects the proxy's ``X-*`` headers."""

    def __init__(
        self, delegate: httputil.HTTPMessageDelegate, request_conn: httputil.HTTPConnection
    ) -> None:
        self.delegate = delegate
        self.connection = request_conn

    def _context(self) -> _HTTPRequestContext:
        return self.connection.context  # type: ignore[attr-defined, no-any-return]

    def headers_received(
        self, start_line: httputil._StartLine, headers: httputil.HTTPHeaders
    ) -> Optional[Awaitable[None]]:
        self._context()._apply_xheaders(headers)
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Optional[Awaitable[None]]:
        return self.delegate.data_received(chunk)

    def on_connection_close(self) -> None:
        try:
            self.delegate.on_connection_close()
        finally:
            self._context()._unapply_xheaders()

    def finish(self) -> None:
        try:
            self.delegate.finish()
        finally:
            self._context()._unapply_xheaders()
