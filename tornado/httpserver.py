"""A non-blocking, single-threaded HTTP server.

`HTTPServer` is a `.TCPServer` that speaks HTTP/1.x on each accepted
connection through `.HTTP1ServerConnection`, and hands every request to
an application: an `.HTTPServerConnectionDelegate` such as
`tornado.web.Application`, or a plain callable taking an
`.HTTPServerRequest`.  It also applies what a reverse proxy says about the
client (``xheaders``) and lets a server be closed with its connections.

Typical use::

    async def main():
        server = HTTPServer(app)
        server.listen(8888)
        await asyncio.Event().wait()

    asyncio.run(main())

`HTTPServer` is `.Configurable`: ``HTTPServer.configure(SubClass)``
selects another implementation for every server created afterwards.
"""

import socket
import ssl
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
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


class HTTPServer(TCPServer, Configurable, httputil.HTTPServerConnectionDelegate):
    r"""A non-blocking, single-threaded HTTP server.

    ``request_callback`` is the application: an
    `.HTTPServerConnectionDelegate` (such as `tornado.web.Application`),
    or a callable that receives each complete `.HTTPServerRequest` and
    writes the response through ``request.connection``.

    Options:

    * ``xheaders``: trust ``X-Real-Ip``/``X-Forwarded-For`` and
      ``X-Scheme``/``X-Forwarded-Proto`` for ``remote_ip`` and
      ``protocol``, for a server behind a reverse proxy.
      ``trusted_downstream`` lists proxy addresses to skip in
      ``X-Forwarded-For``.
    * ``protocol``: the ``protocol`` of every request, for a server behind
      a TLS-terminating proxy that sends no ``X-Scheme``.
    * ``ssl_options``: an `ssl.SSLContext` (or a dict of
      `ssl.SSLContext.wrap_socket` arguments) to serve HTTPS.
    * ``no_keep_alive``: one request per connection.
    * ``decompress_request``: decode ``Content-Encoding: gzip`` request
      bodies.
    * ``chunk_size``: the most body data handed over at once (and the
      read size); ``max_header_size`` and ``max_body_size``: the largest
      request head and body accepted (larger ones get a 4xx response);
      ``max_buffer_size``: the stream's read buffer.
    * ``idle_connection_timeout``: seconds an idle keep-alive connection
      (or one sending a request head) is kept (default one hour);
      ``body_timeout``: seconds allowed to receive a request body.

    To start it, call `.TCPServer.listen`, or `.TCPServer.add_sockets` with
    sockets from `tornado.netutil.bind_sockets`; `.TCPServer.start` forks
    processes.

    .. versionchanged:: 4.0
       ``request_callback`` may be an `.HTTPServerConnectionDelegate`; the
       size, timeout and decompression options are new.

    .. versionchanged:: 5.0
       No ``io_loop`` argument: the server runs on the current `.IOLoop`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Configurable.__new__ has already called initialize() with these
        # arguments; TCPServer.__init__ is called from there.
        pass

    def initialize(  # type: ignore[override]
        self,
        request_callback: Union[
            httputil.HTTPServerConnectionDelegate,
            Callable[[httputil.HTTPServerRequest], None],
        ],
        no_keep_alive: bool = False,
        xheaders: bool = False,
        ssl_options: Optional[Union[Dict[str, Any], ssl.SSLContext]] = None,
        protocol: Optional[str] = None,
        decompress_request: bool = False,
        chunk_size: Optional[int] = None,
        max_header_size: Optional[int] = None,
        idle_connection_timeout: Optional[float] = None,
        body_timeout: Optional[float] = None,
        max_body_size: Optional[int] = None,
        max_buffer_size: Optional[int] = None,
        trusted_downstream: Optional[List[str]] = None,
    ) -> None:
        self.request_callback = request_callback
        self.xheaders = xheaders
        self.protocol = protocol
        self.conn_params = HTTP1ConnectionParameters(
            decompress=decompress_request,
            chunk_size=chunk_size,
            max_header_size=max_header_size,
            header_timeout=idle_connection_timeout or 3600,
            max_body_size=max_body_size,
            body_timeout=body_timeout,
            no_keep_alive=no_keep_alive,
        )
        TCPServer.__init__(
            self,
            ssl_options=ssl_options,
            max_buffer_size=max_buffer_size,
            read_chunk_size=chunk_size,
        )
        self._connections: Set[HTTP1ServerConnection] = set()
        self.trusted_downstream = trusted_downstream

    @classmethod
    def configurable_base(cls) -> Type[Configurable]:
        return HTTPServer

    @classmethod
    def configurable_default(cls) -> Type[Configurable]:
        return HTTPServer

    async def close_all_connections(self) -> None:
        """Close every open connection and wait for each to be done.

        For shutting down (and for tests, which check that nothing is left
        behind): call `.TCPServer.stop` first so that no new connection arrives.
        Connections taken over with `.HTTP1Connection.detach` (websockets)
        are no longer the server's and stay open.
        """
        while self._connections:
            # Closing a connection removes it from the set (on_close).
            conn = next(iter(self._connections))
            await conn.close()

    def handle_stream(self, stream: iostream.IOStream, address: Any) -> None:
        context = _HTTPRequestContext(
            stream, address, self.protocol, self.trusted_downstream
        )
        conn = HTTP1ServerConnection(stream, self.conn_params, context)
        self._connections.add(conn)
        conn.start_serving(self)

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        if isinstance(self.request_callback, httputil.HTTPServerConnectionDelegate):
            delegate = self.request_callback.start_request(server_conn, request_conn)
        else:
            delegate = _CallableAdapter(self.request_callback, request_conn)

        if self.xheaders:
            delegate = _ProxyAdapter(delegate, request_conn)

        return delegate

    def on_close(self, server_conn: object) -> None:
        self._connections.discard(cast(HTTP1ServerConnection, server_conn))


class _CallableAdapter(httputil.HTTPMessageDelegate):
    """Collects a whole request for an application that is a plain
    callable, then calls it with the `.HTTPServerRequest`."""

    def __init__(
        self,
        request_callback: Callable[[httputil.HTTPServerRequest], None],
        request_conn: httputil.HTTPConnection,
    ) -> None:
        self.connection = request_conn
        self.request_callback = request_callback
        self.request: Optional[httputil.HTTPServerRequest] = None
        self._chunks: List[bytes] = []

    def headers_received(
        self,
        start_line: Union[httputil.RequestStartLine, httputil.ResponseStartLine],
        headers: httputil.HTTPHeaders,
    ) -> Optional[Awaitable[None]]:
        self.request = httputil.HTTPServerRequest(
            connection=self.connection,
            start_line=start_line,  # type: ignore[arg-type]
            headers=headers,
        )
        return None

    def data_received(self, chunk: bytes) -> Optional[Awaitable[None]]:
        self._chunks.append(chunk)
        return None

    def finish(self) -> None:
        assert self.request is not None
        self.request.body = b"".join(self._chunks)
        # A malformed form body is the client's fault: HTTPInputError goes
        # to the connection, which answers 400.
        self.request._parse_body()
        self.request_callback(self.request)

    def on_connection_close(self) -> None:
        self._chunks = []


class _HTTPRequestContext:
    """What a request's ``connection.context`` says about the client:
    ``remote_ip``, ``protocol`` and the raw ``address``; `str` of it names
    the client in log messages."""

    def __init__(
        self,
        stream: iostream.IOStream,
        address: Any,
        protocol: Optional[str],
        trusted_downstream: Optional[List[str]] = None,
    ) -> None:
        self.address = address
        # The family is read now: the stream's socket may be gone when
        # this is printed in a log message.
        if stream.socket is not None:
            self.address_family = stream.socket.family
        else:
            self.address_family = None
        # HTTPServerRequest wants an IP, not a full socket address.
        if (
            self.address_family in (socket.AF_INET, socket.AF_INET6)
            and address is not None
        ):
            self.remote_ip = address[0]
        else:
            # A Unix socket has no IP: use a placeholder address.
            self.remote_ip = "0.0.0.0"
        if protocol:
            self.protocol = protocol
        elif isinstance(stream, iostream.SSLIOStream):
            self.protocol = "https"
        else:
            self.protocol = "http"
        self._orig_remote_ip = self.remote_ip
        self._orig_protocol = self.protocol
        self.trusted_downstream = set(trusted_downstream or [])

    def __str__(self) -> str:
        if self.address_family in (socket.AF_INET, socket.AF_INET6):
            return str(self.remote_ip)
        elif isinstance(self.address, bytes):
            # Unix socket addresses are bytes on Linux.
            return native_str(self.address)
        else:
            return str(self.address)

    def _apply_xheaders(self, headers: httputil.HTTPHeaders) -> None:
        """Take ``remote_ip`` and ``protocol`` from a proxy's headers."""
        # The last address in X-Forwarded-For is the one the nearest proxy
        # saw; skip the proxies we were told to trust.
        forwarded = headers.get("X-Forwarded-For", self.remote_ip)
        for ip in (cand.strip() for cand in reversed(forwarded.split(","))):
            if ip not in self.trusted_downstream:
                break
        ip = headers.get("X-Real-Ip", ip)
        if netutil.is_valid_ip(ip):
            self.remote_ip = ip
        proto_header = headers.get(
            "X-Scheme", headers.get("X-Forwarded-Proto", self.protocol)
        )
        if proto_header:
            # With several proxies, the last one's view counts.
            proto_header = proto_header.split(",")[-1].strip()
        if proto_header in ("http", "https"):
            self.protocol = proto_header

    def _unapply_xheaders(self) -> None:
        """Undo `_apply_xheaders`, for the next request on the connection."""
        self.remote_ip = self._orig_remote_ip
        self.protocol = self._orig_protocol


class _ProxyAdapter(httputil.HTTPMessageDelegate):
    """Applies the ``X-*`` headers of a reverse proxy to the connection's
    context for the duration of one request."""

    def __init__(
        self,
        delegate: httputil.HTTPMessageDelegate,
        request_conn: httputil.HTTPConnection,
    ) -> None:
        self.connection = request_conn
        self.delegate = delegate

    def headers_received(
        self,
        start_line: Union[httputil.RequestStartLine, httputil.ResponseStartLine],
        headers: httputil.HTTPHeaders,
    ) -> Optional[Awaitable[None]]:
        # The context is HTTPServer's own _HTTPRequestContext.
        self.connection.context._apply_xheaders(headers)  # type: ignore
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Optional[Awaitable[None]]:
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.delegate.finish()
        self._cleanup()

    def on_connection_close(self) -> None:
        self.delegate.on_connection_close()
        self._cleanup()

    def _cleanup(self) -> None:
        self.connection.context._unapply_xheaders()  # type: ignore
