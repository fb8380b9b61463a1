"""The default `.AsyncHTTPClient`: HTTP/1.1 over Tornado's own streams.

`SimpleAsyncHTTPClient` needs nothing outside Tornado. Each request gets a
fresh connection from `tornado.tcpclient.TCPClient` (resolving, connecting
and the TLS handshake, all under the connect timeout) and speaks HTTP/1.1
through the client side of `tornado.http1connection.HTTP1Connection`, which
also parses the response, enforces the size limits and decompresses gzip.
This module adds what a user agent does on top of one exchange: the
``max_clients`` queue, timeouts, request headers (Host, credentials,
User-Agent, Content-Length, ...), redirects and building the
`.HTTPResponse`.

`_HTTPConnection`, one request on one connection, is private but is the base
of `tornado.websocket.WebSocketClientConnection`: its hooks are described on
the class.
"""

import base64
import collections
import copy
import functools
import inspect
import socket
import ssl
import sys
import time
import urllib.parse
from io import BytesIO
from types import TracebackType
from typing import (
    Any,
    Awaitable,
    Callable,
    Deque,
    Dict,
    Optional,
    Tuple,
    Type,
    Union,
)

from tornado import gen, httputil, version
from tornado.escape import to_unicode
from tornado.http1connection import HTTP1Connection, HTTP1ConnectionParameters
from tornado.httpclient import (
    AsyncHTTPClient,
    HTTPClientError,
    HTTPRequest,
    HTTPResponse,
    _check_body_presence,
    _RequestProxy,
    main,
)
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError
from tornado.log import gen_log
from tornado.netutil import OverrideResolver, Resolver, is_valid_ip
from tornado.tcpclient import TCPClient
from tornado.util import TimeoutError


# What fetch_impl calls with the outcome of a request.
_ResponseCallback = Callable[[HTTPResponse], None]


class HTTPTimeoutError(HTTPClientError):
    """A request that ran out of time, as a 599 error.

    The message says in which phase: ``"Timeout in request queue"``,
    ``"Timeout while resolving HOST"``, ``"Timeout while connecting to
    ..."``, ``"Timeout during TLS handshake with HOST:PORT"`` or
    ``"Timeout during request"``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(599, message=message)

    def __str__(self) -> str:
        return self.message or "Timeout"


class HTTPStreamClosedError(HTTPClientError):
    """The connection closed before the response was complete (599).

    Raised where the stream closed without an underlying error; when there
    was one (a reset, a refused connection), that error is raised instead.
    """

    def __init__(self, message: str) -> None:
        super().__init__(599, message=message)

    def __str__(self) -> str:
        return self.message or "Stream closed"


class SimpleAsyncHTTPClient(AsyncHTTPClient):
    """Non-blocking HTTP client with no dependencies outside Tornado.

    HTTP/1.1 only, a new connection per request, no proxies; see
    ``curl_httpclient`` for those.

    :arg max_clients: how many requests run at once; the rest wait in a
        queue. The wait counts towards ``connect_timeout`` and
        ``request_timeout`` of the queued request (whichever is shorter),
        failing it with "Timeout in request queue".
    :arg hostname_mapping: a dict of host names (or ``(host, port)`` pairs)
        to the address (or ``(address, port)``) to use instead, for local
        DNS overrides (see `.OverrideResolver`).
    :arg max_buffer_size: the most bytes held in a stream's read buffer
        at once (100MB).
    :arg resolver: the `.Resolver` for host names (default: a new
        `.Resolver` of the configured kind, closed with the client).
    :arg defaults: request defaults, as for `.AsyncHTTPClient`.
    :arg max_header_size: the most bytes of response headers (64KB).
    :arg max_body_size: the largest response body accepted, after
        decompression (default: ``max_buffer_size``), streamed or not.
    """

    def initialize(  # type: ignore
        self,
        max_clients: int = 10,
        hostname_mapping: Optional[Dict[str, str]] = None,
        max_buffer_size: int = 104857600,
        resolver: Optional[Resolver] = None,
        defaults: Optional[Dict[str, Any]] = None,
        max_header_size: Optional[int] = None,
        max_body_size: Optional[int] = None,
    ) -> None:
        super().initialize(defaults=defaults)
        self.max_clients = max_clients
        # (key, request, callback) of requests waiting for a slot.
        self.queue: Deque[Tuple[object, HTTPRequest, _ResponseCallback]] = collections.deque()
        # key -> (request, callback) of requests that have a connection.
        self.active: Dict[object, Tuple[HTTPRequest, _ResponseCallback]] = {}
        # key -> (request, callback, queue timeout handle, time queued) of
        # queued requests.
        self.waiting: Dict[object, Tuple[HTTPRequest, _ResponseCallback, object, float]] = {}
        self.max_buffer_size = max_buffer_size
        self.max_header_size = max_header_size
        self.max_body_size = max_body_size
        if resolver is not None:
            self.resolver = resolver
            self.own_resolver = False
        else:
            self.resolver = Resolver()
            self.own_resolver = True
        if hostname_mapping is not None:
            self.resolver = OverrideResolver(
                resolver=self.resolver, mapping=hostname_mapping
            )
        self.tcp_client = TCPClient(resolver=self.resolver)

    def close(self) -> None:
        if self._closed:
            return
        super().close()
        if self.own_resolver:
            self.resolver.close()
        self.tcp_client.close()

    def fetch_impl(
        self, request: HTTPRequest, callback: _ResponseCallback
    ) -> None:
        key = object()
        if not self.queue and len(self.active) < self.max_clients:
            # The usual case: a free slot and nobody ahead of us.
            self._start(key, request, callback)
            return
        self.queue.append((key, request, callback))
        assert request.connect_timeout is not None
        assert request.request_timeout is not None
        timeout_handle = None
        if len(self.active) >= self.max_clients:
            # A zero timeout means "none"; otherwise the shorter one wins.
            timeout = (
                min(request.connect_timeout, request.request_timeout)
                or request.connect_timeout
                or request.request_timeout
            )
            if timeout:
                timeout_handle = self.io_loop.call_later(
                    timeout, self._on_timeout, key, "in request queue"
                )
        self.waiting[key] = (request, callback, timeout_handle, self.io_loop.time())
        self._process_queue()
        if self.queue:
            gen_log.debug(
                "max_clients limit reached, request queued. "
                "%d active, %d queued requests." % (len(self.active), len(self.queue))
            )

    def _process_queue(self) -> None:
        while self.queue and len(self.active) < self.max_clients:
            key, request, callback = self.queue.popleft()
            if key not in self.waiting:
                # Timed out while queued; already answered.
                continue
            self._remove_timeout(key)
            self._start(key, request, callback)

    def _start(
        self,
        key: object,
        request: HTTPRequest,
        callback: _ResponseCallback,
    ) -> None:
        self.active[key] = (request, callback)
        release_callback = functools.partial(self._release_fetch, key)
        self._handle_request(request, release_callback, callback)

    def _connection_class(self) -> type:
        return _HTTPConnection

    def _handle_request(
        self,
        request: HTTPRequest,
        release_callback: Callable[[], None],
        final_callback: _ResponseCallback,
    ) -> None:
        self._connection_class()(
            self,
            request,
            release_callback,
            final_callback,
            self.max_buffer_size,
            self.tcp_client,
            self.max_header_size,
            self.max_body_size,
        )

    def _release_fetch(self, key: object) -> None:
        del self.active[key]
        if self.queue:
            self._process_queue()

    def _remove_timeout(self, key: object) -> None:
        entry = self.waiting.pop(key, None)
        if entry is not None and entry[2] is not None:
            self.io_loop.remove_timeout(entry[2])

    def _on_timeout(self, key: object, info: Optional[str] = None) -> None:
        """Fails a request that waited too long in the queue."""
        request, callback, timeout_handle, queued_at = self.waiting.pop(key)
        self.queue.remove((key, request, callback))
        error_message = "Timeout {}".format(info) if info else "Timeout"
        timeout_response = HTTPResponse(
            request,
            599,
            error=HTTPTimeoutError(error_message),
            request_time=self.io_loop.time() - queued_at,
        )
        self.io_loop.add_callback(callback, timeout_response)


# Methods sent without allow_nonstandard_methods.
_SUPPORTED_METHODS = frozenset(
    ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
)

# RFC 9110 section 15.4: redirect statuses that name a new location.
_REDIRECT_CODES = frozenset([301, 302, 303, 307, 308])

# Request headers that must not follow a redirect to another origin:
# credentials for the first server are not for the next one.
_CREDENTIAL_HEADERS = ("Authorization", "Cookie")

# Request headers describing a body, dropped when a redirect turns the
# request into a GET without one.
_BODY_HEADERS = ("Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding")

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Shared TLS contexts for the common settings (building one loads the
# system's CA certificates, far too slow to do per request).
_ssl_contexts: Dict[bool, ssl.SSLContext] = {}


def _shared_ssl_context(validate_cert: bool) -> ssl.SSLContext:
    ctx = _ssl_contexts.get(validate_cert)
    if ctx is None:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if not validate_cert:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        _ssl_contexts[validate_cert] = ctx
    return ctx


def _origin(url: str) -> Optional[Tuple[str, Optional[str], Optional[int]]]:
    """The (scheme, host, port) of ``url`` (RFC 6454), or None if unparsable."""
    try:
        parsed = urllib.parse.urlsplit(url)
        scheme = parsed.scheme.lower()
        return (scheme, parsed.hostname, parsed.port or _DEFAULT_PORTS.get(scheme))
    except ValueError:
        return None


class _HTTPConnection(httputil.HTTPMessageDelegate):
    """One request on one new connection, as an `.HTTPMessageDelegate` of
    the client side of `.HTTP1Connection`.

    Created by `SimpleAsyncHTTPClient` for each request (and by
    `tornado.websocket.WebSocketClientConnection`, its subclass); the
    constructor starts `run` on the current IOLoop. ``final_callback`` is
    called exactly once with the `.HTTPResponse` (set it to None to take
    over the connection and suppress it); ``release_callback`` once the
    connection no longer counts against the client's ``max_clients``.

    Hooks for subclasses:

    * `headers_received` (a coroutine): sets ``code``, ``reason`` and
      ``headers``; call it through ``super()`` for responses you don't
      handle yourself.
    * `data_received`, `finish`, `on_connection_close`: the rest of the
      delegate protocol; `finish` builds the response and follows
      redirects.
    * ``self.connection`` is the `.HTTP1Connection` once the request has
      been sent (``detach()`` it to take the stream), ``self.stream`` the
      `.IOStream`.
    * ``_remove_timeout()`` cancels the running timeout (the request
      timeout once connected), ``_handle_exception(typ, value, tb)`` fails
      the request with ``value`` unless it is already answered.
    * ``client`` may be None when there is no `SimpleAsyncHTTPClient`
      behind the connection; redirects are then not followed.
    """

    def __init__(
        self,
        client: Optional[SimpleAsyncHTTPClient],
        request: HTTPRequest,
        release_callback: Callable[[], None],
        final_callback: _ResponseCallback,
        max_buffer_size: int,
        tcp_client: TCPClient,
        max_header_size: int,
        max_body_size: int,
    ) -> None:
        self.io_loop = IOLoop.current()
        self.start_time = self.io_loop.time()
        self.start_wall_time = time.time()
        self.client = client
        self.request = request
        self.release_callback: Optional[Callable[[], None]] = release_callback
        self.final_callback: Optional[_ResponseCallback] = final_callback
        self.max_buffer_size = max_buffer_size
        self.tcp_client = tcp_client
        self.max_header_size = max_header_size
        self.max_body_size = max_body_size
        self.code: Optional[int] = None
        self.reason: Optional[str] = None
        self.headers: Optional[httputil.HTTPHeaders] = None
        self.chunks: list[bytes] = []
        self.stream: Optional[IOStream] = None
        self.connection: Optional[HTTP1Connection] = None
        self._timeout: object = None
        self._follow_redirect = False
        self.io_loop.add_future(gen.convert_yielded(self.run()), _raise_failure)

    async def run(self) -> None:
        """Connects, sends the request and reads the response."""
        try:
            request = self.request
            self.parsed = urllib.parse.urlsplit(to_unicode(request.url))
            scheme = self.parsed.scheme
            if scheme not in _DEFAULT_PORTS:
                raise ValueError("Unsupported url scheme: %s" % request.url)
            # userinfo@ is for credentials (below), not for the Host header
            # (RFC 9110 section 7.2).
            netloc = self.parsed.netloc.rpartition("@")[2]
            host, port = httputil.split_host_and_port(netloc)
            if port is None:
                port = _DEFAULT_PORTS[scheme]
            if host[:1] == "[" and host[-1:] == "]":
                host = host[1:-1]
            self.parsed_hostname = host
            af = socket.AF_INET if request.allow_ipv6 is False else socket.AF_UNSPEC
            ssl_options = self._get_ssl_options(scheme)
            source_ip = request.network_interface or None
            if source_ip is not None and not is_valid_ip(source_ip):
                raise ValueError(
                    "Unrecognized IPv4 or IPv6 address for network_interface, got %r"
                    % source_ip
                )
            # A request we would refuse to send needs no connection.
            self._prepare_headers(netloc)
            connect_timeout = request.connect_timeout
            request_timeout = request.request_timeout
            # Zero means no limit; the connect phase is bounded by both.
            timeout: Optional[float]
            if connect_timeout and request_timeout:
                timeout = min(connect_timeout, request_timeout)
            else:
                timeout = connect_timeout or request_timeout
            try:
                stream = await self.tcp_client.connect(
                    host,
                    port,
                    af=af,
                    ssl_options=ssl_options,
                    max_buffer_size=self.max_buffer_size,
                    source_ip=source_ip,
                    # Seconds from now: what is left of the budget that
                    # started when this connection was created.
                    timeout=(
                        max(0.0, self.start_time + timeout - self.io_loop.time())
                        if timeout
                        else None
                    ),
                )
            except TimeoutError as e:
                raise HTTPTimeoutError(str(e) or "Timeout while connecting") from None
            if self.final_callback is None:
                # Answered while we were connecting.
                stream.close()
                return
            # From here on the HTTP1Connection reports a closed stream to
            # us (on_connection_close) once it is done with what it read.
            self.stream = stream
            if request_timeout:
                self._timeout = self.io_loop.call_at(
                    self.start_time + request_timeout,
                    self._on_timeout,
                    "during request",
                )
            target = self.parsed.path or "/"
            if self.parsed.query:
                target += "?" + self.parsed.query
            self.connection = self._create_connection(stream)
            self.connection.write_headers(
                httputil.RequestStartLine(request.method, target, ""),
                request.headers,
            )
            if request.expect_100_continue:
                # The body goes out when the server says 100 Continue (see
                # headers_received), or never if it answers straight away.
                await self._read_response()
            else:
                await self._write_body(True)
        except Exception:
            if not self._handle_exception(*sys.exc_info()):
                raise

    def _prepare_headers(self, netloc: str) -> None:
        """Checks the request and fills in the headers we are responsible for."""
        request = self.request
        method = request.method
        if method not in _SUPPORTED_METHODS and not request.allow_nonstandard_methods:
            raise KeyError("unknown method %s" % method)
        for key in (
            "proxy_host",
            "proxy_port",
            "proxy_username",
            "proxy_password",
            "proxy_auth_mode",
        ):
            if getattr(request, key, None):
                raise NotImplementedError("%s not supported" % key)
        headers = request.headers
        if "Connection" not in headers:
            headers["Connection"] = "close"
        if "Host" not in headers:
            headers["Host"] = netloc
        parsed = self.parsed
        if parsed.username is not None:
            username, password = parsed.username, parsed.password or ""
        elif request.auth_username is not None:
            username, password = request.auth_username, request.auth_password or ""
        else:
            username = None
        if username is not None:
            if request.auth_mode not in (None, "basic"):
                raise ValueError("unsupported auth_mode %s" % request.auth_mode)
            # RFC 7617: base64 of the UTF-8 (NFC) "user:password".
            headers["Authorization"] = "Basic " + base64.b64encode(
                httputil.encode_username_password(username, password)
            ).decode("ascii")
        if request.user_agent:
            headers["User-Agent"] = request.user_agent
        elif headers.get("User-Agent") is None:
            headers["User-Agent"] = "Tornado/%s" % version
        body = request.body
        if not request.allow_nonstandard_methods:
            _check_body_presence(
                method, body is not None or request.body_producer is not None
            )
        if request.expect_100_continue:
            headers["Expect"] = "100-continue"
        if body is not None:
            # A body given in full goes with its length; a body_producer's
            # is chunked unless the caller set Content-Length.
            headers["Content-Length"] = str(len(body))
        if method == "POST" and "Content-Type" not in headers:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if request.decompress_response:
            headers["Accept-Encoding"] = "gzip"

    def _get_ssl_options(
        self, scheme: str
    ) -> Union[None, Dict[str, Any], ssl.SSLContext]:
        if scheme != "https":
            return None
        request = self.request
        if request.ssl_options is not None:
            return request.ssl_options
        if request.ca_certs is None and request.client_cert is None and request.client_key is None:
            return _shared_ssl_context(bool(request.validate_cert))
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=request.ca_certs)
        if not request.validate_cert:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if request.client_cert is not None:
            ctx.load_cert_chain(request.client_cert, request.client_key)
        return ctx

    def _on_timeout(self, info: Optional[str] = None) -> None:
        """Fails the request with an `HTTPTimeoutError` ("Timeout <info>")."""
        self._timeout = None
        error_message = "Timeout {}".format(info) if info else "Timeout"
        if self.final_callback is not None:
            self._handle_exception(
                HTTPTimeoutError, HTTPTimeoutError(error_message), None
            )

    def _remove_timeout(self) -> None:
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None

    def _create_connection(self, stream: IOStream) -> HTTP1Connection:
        request = self.request
        if request.body_producer is not None or request.expect_100_continue:
            # Parts of this request go out as they come, before finish()
            # (where the connection turns Nagle off itself): don't let Nagle
            # hold them back waiting for an ACK.
            stream.set_nodelay(True)
        return HTTP1Connection(
            stream,
            True,
            HTTP1ConnectionParameters(
                no_keep_alive=True,
                max_header_size=self.max_header_size,
                max_body_size=self.max_body_size,
                decompress=bool(self.request.decompress_response),
            ),
            None,
        )

    async def _write_body(self, start_read: bool) -> None:
        request = self.request
        connection = self.connection
        assert connection is not None
        if request.body is not None:
            connection.write(request.body)
        elif request.body_producer is not None:
            fut = request.body_producer(connection.write)
            if fut is not None:
                await fut
        connection.finish()
        if start_read:
            await self._read_response()

    async def _read_response(self) -> None:
        assert self.connection is not None
        try:
            await self.connection.read_response(self)
        except StreamClosedError:
            if not self._handle_exception(*sys.exc_info()):
                raise
        else:
            if self.final_callback is not None:
                # The connection gave up on the response (malformed, or
                # closed) without finishing it: we won't get another.
                self.on_connection_close()

    def _release(self) -> None:
        if self.release_callback is not None:
            release_callback = self.release_callback
            self.release_callback = None
            release_callback()

    def _run_callback(self, response: HTTPResponse) -> None:
        self._release()
        final_callback = self.final_callback
        if final_callback is not None:
            self.final_callback = None
            final_callback(response)

    def _original_request(self) -> HTTPRequest:
        """The request the caller made, before any redirect."""
        request = self.request
        if isinstance(request, _RequestProxy):
            request = request.request
        original = request._original_request
        return request if original is None else original

    def _handle_exception(
        self,
        typ: "Optional[Type[BaseException]]",
        value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool:
        """Fails the request with ``value``; True if the error is dealt with.

        Once the request has been answered, only a closed stream (the
        expected end of a connection we gave up on) counts as dealt with.
        """
        if self.final_callback is not None:
            self._remove_timeout()
            if isinstance(value, StreamClosedError):
                if value.real_error is None:
                    value = HTTPStreamClosedError("Stream closed")
                else:
                    value = value.real_error
            self._run_callback(
                HTTPResponse(
                    self._original_request(),
                    599,
                    error=value,
                    request_time=self.io_loop.time() - self.start_time,
                    start_time=self.start_wall_time,
                )
            )
            if self.stream is not None:
                self.stream.close()
            return True
        return isinstance(value, StreamClosedError)

    def on_connection_close(self) -> None:
        if self.final_callback is not None:
            error = self.stream.error if self.stream is not None else None
            if error is None:
                error = HTTPStreamClosedError("Connection closed")
            self._handle_exception(type(error), error, error.__traceback__)

    async def headers_received(
        self,
        start_line: Union[httputil.ResponseStartLine, httputil.RequestStartLine],
        headers: httputil.HTTPHeaders,
    ) -> None:
        assert isinstance(start_line, httputil.ResponseStartLine)
        first_line = start_line
        request = self.request
        if request.expect_100_continue and first_line.code == 100:
            await self._write_body(False)
            return
        self.code = first_line.code
        self.reason = first_line.reason
        self.headers = headers
        self._follow_redirect = self._should_follow_redirect()
        if self._follow_redirect:
            # Callbacks only see the final response.
            return
        header_callback = request.header_callback
        if header_callback is not None:
            header_callback("%s %s %s\r\n" % first_line)
            for k, v in headers.get_all():
                header_callback("%s: %s\r\n" % (k, v))
            header_callback("\r\n")

    def _should_follow_redirect(self) -> bool:
        if self.client is None or not self.request.follow_redirects:
            return False
        max_redirects = self.request.max_redirects
        return (
            self.code in _REDIRECT_CODES
            and max_redirects is not None
            and max_redirects > 0
            and self.headers is not None
            and self.headers.get("Location") is not None
        )

    def data_received(self, chunk: bytes) -> Optional[Awaitable[None]]:
        if self._follow_redirect:
            # The body of a redirect we follow is of no interest.
            return None
        streaming_callback = self.request.streaming_callback
        if streaming_callback is None:
            self.chunks.append(chunk)
            return None
        result = streaming_callback(chunk)
        # Coroutine callbacks are awaited (and so apply backpressure).
        if result is not None and inspect.isawaitable(result):
            return result
        return None

    def finish(self) -> None:
        assert self.code is not None
        self._remove_timeout()
        if self._follow_redirect:
            self._redirect()
            return
        if self.request.streaming_callback is not None:
            buffer = BytesIO()
        else:
            buffer = BytesIO(b"".join(self.chunks))
        self._run_callback(
            HTTPResponse(
                self._original_request(),
                self.code,
                reason=self.reason,
                headers=self.headers,
                request_time=self.io_loop.time() - self.start_time,
                start_time=self.start_wall_time,
                buffer=buffer,
                effective_url=self.request.url,
            )
        )
        self._on_end_request()

    def _redirect(self) -> None:
        """Hands a copy of the request, aimed at the Location, back to the
        client; its response becomes ours."""
        assert self.client is not None and self.headers is not None
        proxy = self.request
        request = proxy.request if isinstance(proxy, _RequestProxy) else proxy
        defaults = proxy.defaults if isinstance(proxy, _RequestProxy) else None
        new_request = copy.copy(request)
        new_request.url = urllib.parse.urljoin(request.url, self.headers["Location"])
        assert proxy.max_redirects is not None  # _should_follow_redirect checked
        new_request.max_redirects = proxy.max_redirects - 1
        headers = httputil.HTTPHeaders(request.headers)
        # Host and the framing the connection chose are per message.
        headers.pop("Host", None)
        headers.pop("Transfer-Encoding", None)
        if _origin(new_request.url) != _origin(request.url):
            # Credentials (explicit, from the URL, or from the client's
            # defaults) are for the origin they were given for.
            for name in _CREDENTIAL_HEADERS:
                headers.pop(name, None)
            new_request.auth_username = new_request.auth_password = None
            if defaults is not None and (
                "auth_username" in defaults or "auth_password" in defaults
            ):
                defaults = dict(defaults)
                defaults.pop("auth_username", None)
                defaults.pop("auth_password", None)
        # RFC 9110 section 15.4: 303 means "GET it there" (HEAD stays HEAD);
        # 301 and 302 historically turn a POST into a GET. 307 and 308 keep
        # the method and body.
        if (self.code == 303 and proxy.method != "HEAD") or (
            self.code in (301, 302) and proxy.method == "POST"
        ):
            new_request.method = "GET"
            new_request.body = None  # type: ignore
            new_request.body_producer = None
            for name in _BODY_HEADERS:
                headers.pop(name, None)
        new_request.headers = headers
        new_request._original_request = self._original_request()
        final_callback = self.final_callback
        assert final_callback is not None
        self.final_callback = None
        # Free our slot first: the next hop may need it (max_clients=1).
        self._release()
        self.client.fetch_impl(
            _RequestProxy(new_request, defaults),  # type: ignore
            final_callback,
        )
        self._on_end_request()

    def _on_end_request(self) -> None:
        if self.stream is not None:
            self.stream.close()


def _raise_failure(future: "Any") -> None:
    # Surfaces an exception that escaped run() through the IOLoop's
    # callback error logging.
    future.result()


if __name__ == "__main__":
    AsyncHTTPClient.configure(SimpleAsyncHTTPClient)
    main()
