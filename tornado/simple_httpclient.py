"""The default `.AsyncHTTPClient` implementation, written on Tornado's own
streams.

`SimpleAsyncHTTPClient` needs nothing outside Tornado. Every request opens
a connection of its own (unless the client was made with the opt-in
``keep_alive=True`` of this package, see `tornado._http1pool`) through
`tornado.tcpclient.TCPClient` (name
resolution, TCP connect and TLS handshake all count against the connect
timeout) and speaks HTTP/1.1 through the client mode of
`tornado.http1connection.HTTP1Connection`, which parses the answer, applies
the size limits and inflates gzip bodies. Around that single exchange this
module does the user agent's share of the work: the ``max_clients`` queue,
both timeouts, the request headers owed to the server (Host, credentials,
User-Agent, Content-Length, ...), following redirects and building the
`.HTTPResponse`.

`_HTTPConnection` carries one request over one connection. It is private,
yet `tornado.websocket.WebSocketClientConnection` extends it: its docstring
spells out what such a subclass may count on.
"""

from __future__ import annotations

import asyncio
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
    List,
    Optional,
    Set,
    Tuple,
    Type,
    Union,
    TYPE_CHECKING,
)

from tornado import httputil, version
from tornado.escape import to_unicode
from tornado.http1connection import (
    HTTP1Connection,
    HTTP1ConnectionParameters,
    _connection_tokens,
)
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
from tornado.log import app_log, gen_log
from tornado.netutil import (
    OverrideResolver,
    Resolver,
    _default_tls_context,
    _tls_defaults,
    is_valid_ip,
    ssl_options_to_context,
)
from tornado.tcpclient import TCPClient
from tornado.util import TimeoutError

if TYPE_CHECKING:
    from tornado._http1pool import _IdleConnections
    # Imported when HTTP/2 is switched on (it loads the h2 package).
    from tornado.http2client import HTTP2ClientConnection, HTTP2ClientStream

# Whether asyncio.Task takes eager_start (Python 3.12+).
_EAGER_TASKS = sys.version_info >= (3, 12)

# What fetch_impl is given to report the outcome of a request.
_ResponseCallback = Callable[[HTTPResponse], None]
# A request waiting for a slot: (key, request, callback) in the queue, and
# (request, callback, queue timer, time queued) in ``waiting``.
_Queued = Tuple[object, HTTPRequest, _ResponseCallback]
_Waiting = Tuple[HTTPRequest, _ResponseCallback, object, float]
_TLSSettings = Union[None, Dict[str, Any], ssl.SSLContext]

# Methods sent as they are; any other needs allow_nonstandard_methods.
_KNOWN_METHODS = frozenset("GET HEAD POST PUT DELETE PATCH OPTIONS".split())

# Request options only curl_httpclient implements.
_PROXY_OPTIONS = tuple(
    "proxy_" + suffix for suffix in ("host", "port", "username", "password", "auth_mode")
)

# RFC 9110 section 15.4: the 3xx statuses whose Location this client follows.
_FOLLOWED_REDIRECTS = frozenset((301, 302, 303, 307, 308))

# Never forwarded to another origin: the credentials were meant for the
# first server alone.
_PER_ORIGIN_HEADERS = ("Authorization", "Cookie")

# Headers about the content; they leave with it when a redirect turns the
# request into a bodiless GET.
_CONTENT_HEADERS = ("Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding")

# RFC 9110 sections 4.2.1 and 4.2.2.
_SCHEME_PORTS = {"http": 80, "https": 443}

_DEFAULT_USER_AGENT = "Tornado/" + version

# The run() tasks of the requests in progress (see _HTTPConnection).
_running_requests: Set["asyncio.Task[None]"] = set()


# What a request with decompress_response=True accepts.
_ACCEPT_ENCODING = ", ".join(httputil._DECODERS)

class HTTPTimeoutError(HTTPClientError):
    """A 599 error for a request that ran out of time.

    The message names the phase: ``"Timeout in request queue"``,
    ``"Timeout while resolving HOST"``, ``"Timeout while connecting to
    ..."``, ``"Timeout during TLS handshake with HOST:PORT"`` or
    ``"Timeout during request"``.
    """

    def __init__(self, message: str) -> None:
        """``message`` says what was being waited for."""
        HTTPClientError.__init__(self, 599, message=message)

    def __str__(self) -> str:
        """Just the message, without the ``HTTP 599:`` prefix."""
        return self.message or "Timeout"


class HTTPStreamClosedError(HTTPClientError):
    """A 599 error for a connection that ended before the whole answer
    arrived.

    Only used when the stream closed cleanly; when the close had a cause
    (a reset, a refused connection, ...) that exception is reported
    instead.
    """

    def __init__(self, message: str) -> None:
        """``message`` describes how the connection went away."""
        HTTPClientError.__init__(self, 599, message=message)

    def __str__(self) -> str:
        """Just the message, without the ``HTTP 599:`` prefix."""
        return self.message or "Stream closed"


def _http2_failures() -> Tuple[Type[Exception], ...]:
    """The failures of one HTTP/2 request that are reported as a stream
    closed (only called once http2client has been imported)."""
    from tornado import http2client

    return (
        http2client.StreamResetError,
        http2client.ConnectionTerminatedError,
        httputil.HTTPInputError,
    )


def _tightest(first: Optional[float], second: Optional[float]) -> Optional[float]:
    """The smaller of two time limits, where 0 and None stand for "no
    limit"; None when neither sets one."""
    if not first:
        return second or None
    if not second:
        return first
    return min(first, second)


def _build_tls_context(
    verify: bool, cafile: Optional[str], certfile: Optional[str], keyfile: Optional[str]
) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    if not verify:
        # In this order: a context refuses CERT_NONE while it checks names.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if certfile is not None:
        context.load_cert_chain(certfile, keyfile)
    return context


@functools.lru_cache(maxsize=None)
def _unverified_tls_context() -> ssl.SSLContext:
    """The context shared by ``validate_cert=False`` requests without
    certificate files of their own (verifying ones share netutil's
    ``_client_ssl_defaults``): building a context reads the system's CA
    store, far too slow to repeat for every request."""
    return _build_tls_context(False, None, None, None)


# What a client constructed with http2=True offers in TLS (RFC 7301 ALPN),
# in order of preference.
_ALPN_PROTOCOLS = ["h2", "http/1.1"]

# How long a request with "Expect: 100-continue" waits for the go-ahead
# over HTTP/2 before it sends the body anyway (curl waits as long).
_CONTINUE_TIMEOUT = 1.0

# RFC 9110 section 9.2.2.
_IDEMPOTENT = frozenset("GET HEAD OPTIONS TRACE PUT DELETE".split())

# The values the ``http2`` keyword takes.
_HTTP2_MODES = (False, True, "prior_knowledge")


@functools.lru_cache(maxsize=16)
def _alpn_tls_context(
    verify: bool, cafile: Optional[str], certfile: Optional[str], keyfile: Optional[str]
) -> ssl.SSLContext:
    """A client context like those of the HTTP/1.1 path that also offers
    ``h2`` by ALPN. Cached: equal settings share one, which also lets
    requests with equal settings share a connection."""
    if verify and cafile is None and certfile is None and keyfile is None:
        context = _tls_defaults(ssl.Purpose.SERVER_AUTH)
    else:
        context = _build_tls_context(verify, cafile, certfile, keyfile)
    context.set_alpn_protocols(_ALPN_PROTOCOLS)
    return context


@functools.lru_cache(maxsize=16)
def _alpn_context_from_dict(items: Tuple[Tuple[str, Any], ...]) -> ssl.SSLContext:
    """The context an ``ssl_options`` dict describes, offering ``h2``."""
    context = ssl_options_to_context(dict(items), server_side=False)
    context.set_alpn_protocols(_ALPN_PROTOCOLS)
    return context


@functools.lru_cache(maxsize=64)
def _connection_params(
    max_header_size: Optional[int], max_body_size: Optional[int], decompress: bool
) -> HTTP1ConnectionParameters:
    # HTTP1Connection only reads its parameters, so equal ones are shared
    # rather than built for every request.
    return HTTP1ConnectionParameters(
        no_keep_alive=True, decompress=decompress,
        max_header_size=max_header_size, max_body_size=max_body_size,
    )


def _origin(url: str) -> Optional[Tuple[str, Optional[str], Optional[int]]]:
    """RFC 6454 origin of ``url``: (scheme, host, port), the port filled in
    from the scheme; None for a URL that does not parse."""
    try:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port
    except ValueError:
        return None
    return scheme, parts.hostname, port if port else _SCHEME_PORTS.get(scheme)


@functools.lru_cache(maxsize=256)
def _url_facts(url: str) -> Tuple[urllib.parse.SplitResult, str, str, int, str]:
    """What a request needs from its URL: the split URL, the scheme, the
    host (an IPv6 literal without its brackets, as resolvers want it), the
    port (the scheme's default when none is given) and the authority
    without userinfo (for the Host header).

    Cached: a client usually fetches the same few URLs over and over, and
    the results are immutable.
    """
    parts = urllib.parse.urlsplit(to_unicode(url))
    scheme = parts.scheme
    default_port = _SCHEME_PORTS.get(scheme)
    if default_port is None:
        raise ValueError("Unsupported url scheme: %s" % url)
    # RFC 9110 section 7.2: userinfo never goes into Host; it is used for
    # the Authorization header instead.
    authority = parts.netloc.rpartition("@")[2]
    host, port = httputil.split_host_and_port(authority)
    if host[:1] == "[" and host[-1:] == "]":
        host = host[1:-1]
    return parts, scheme, host, default_port if port is None else port, authority


def _basic_authorization(username: str, password: str) -> str:
    """An ``Authorization`` value for the Basic scheme (RFC 7617: base64 of
    ``user:password``, NFC-normalized UTF-8)."""
    token = base64.b64encode(httputil.encode_username_password(username, password))
    return "Basic " + token.decode("ascii")


def _becomes_get(code: int, method: str) -> bool:
    """Whether a redirect with status ``code`` is followed as a bodiless GET.

    RFC 9110 section 15.4: 303 asks for a GET of the new location (a HEAD
    stays a HEAD); 301 and 302 traditionally turn a POST into a GET; 307
    and 308 keep the method and the content.
    """
    if code == 303:
        return method != "HEAD"
    return code in (301, 302) and method == "POST"


def _defaults_without_credentials(defaults: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """``defaults`` minus the credentials they hold, for a hop to another
    origin (the caller's dict is left as it is)."""
    if not defaults or ("auth_username" not in defaults and "auth_password" not in defaults):
        return defaults
    trimmed = dict(defaults)
    trimmed.pop("auth_username", None)
    trimmed.pop("auth_password", None)
    return trimmed


class _QueuedTimeout:
    """One request's place in a `_TimeoutQueue`; `cancel` takes it out."""

    __slots__ = ("when", "connection", "_queue")

    def __init__(self, when: float, connection: "_HTTPConnection", queue: "_TimeoutQueue") -> None:
        self.when = when
        self.connection: Optional[_HTTPConnection] = connection
        self._queue = queue

    def cancel(self) -> None:
        if self.connection is not None:
            self.connection = None
            self._queue.live -= 1


class _TimeoutQueue:
    """The request timeouts of one client, on a single loop timer.

    A timer per request costs a heap push and pop of asyncio's scheduler
    (with Python-level comparisons); requests with the same
    ``request_timeout`` get their deadlines in the order they start, so a
    queue in that order, with one timer for its head, does the same job.
    A deadline earlier than the last one queued doesn't fit: `add` says
    so, and the request gets its own timer.  Requests that finish leave
    their entry behind, cancelled; entries are dropped when they reach the
    head, or all at once when they outnumber the live ones.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.live = 0
        self._entries: Deque[_QueuedTimeout] = collections.deque()
        self._handle: Optional[asyncio.TimerHandle] = None

    def add(self, when: float, connection: "_HTTPConnection") -> Optional[_QueuedTimeout]:
        """Queues ``connection``'s deadline (``when``, on the asyncio loop's
        clock); None when it comes before the last one queued."""
        entries = self._entries
        while entries and entries[0].connection is None:
            entries.popleft()
        if entries and when < entries[-1].when:
            return None
        if len(entries) > 64 and len(entries) > 4 * self.live:
            self._entries = entries = collections.deque(
                entry for entry in entries if entry.connection is not None
            )
        entry = _QueuedTimeout(when, connection, self)
        entries.append(entry)
        self.live += 1
        if self._handle is None:
            self._handle = self.loop.call_at(entries[0].when, self._expire)
        return entry

    def _expire(self) -> None:
        self._handle = None
        entries = self._entries
        now = self.loop.time()
        due = []
        while entries:
            entry = entries[0]
            connection = entry.connection
            if connection is not None:
                if entry.when > now:
                    break
                entry.cancel()
                due.append(connection)
            entries.popleft()
        if entries:
            # The head may have finished since; firing early then only
            # costs a look at the queue.
            self._handle = self.loop.call_at(entries[0].when, self._expire)
        for connection in due:
            try:
                connection._on_request_timeout()
            except Exception:
                app_log.error("Exception in request timeout of %r", connection, exc_info=True)


class _HTTP2Pool:
    """The HTTP/2 connections of one `SimpleAsyncHTTPClient` built with
    ``http2=True``, shared by the requests to one origin.

    A key names what a connection can be shared for: scheme, host, port,
    TLS settings, source address and address family.  The first request
    to a key connects (offering ``h2`` by ALPN over TLS, or speaking it
    outright to an ``http`` origin in prior-knowledge mode); requests that
    come meanwhile wait for that connection rather than opening their own.
    When the server chose HTTP/1.1, the first request keeps the stream for
    itself and the others connect on their own, as without HTTP/2; the key
    is then remembered as HTTP/1.1-only so later requests don't wait.

    A connection whose streams are all taken (the server's
    SETTINGS_MAX_CONCURRENT_STREAMS) makes further requests wait for a
    stream to close.  A connection without streams for ``idle_timeout``
    seconds is closed, and so are all of them by `close`.
    """

    def __init__(self, prior_knowledge: bool, idle_timeout: float = 60.0) -> None:
        self.prior_knowledge = prior_knowledge
        self.idle_timeout = idle_timeout
        self.connections: Dict[object, List[HTTP2ClientConnection]] = {}
        self._connecting: Dict[object, "asyncio.Future[Optional[HTTP2ClientConnection]]"] = {}
        self._http1_keys: Dict[object, bool] = {}
        self._idle_timers: Dict[HTTP2ClientConnection, asyncio.TimerHandle] = {}
        # Counts for tests and debugging: TCP connections made for HTTP/2.
        self.connections_made = 0
        self.closed = False

    def wants(self, scheme: str) -> bool:
        """Whether requests with ``scheme`` try HTTP/2 at all."""
        return scheme == "https" or self.prior_knowledge

    def _usable(self, key: object) -> Tuple[Optional[HTTP2ClientConnection], Optional[HTTP2ClientConnection]]:
        """A connection of ``key`` with room for a stream, else one that is
        full but still taking requests (to wait on)."""
        full = None
        for connection in self.connections.get(key, ()):
            if connection.can_open_stream():
                return connection, None
            if full is None and connection.accepting:
                full = connection
        return None, full

    async def acquire(
        self, owner: "_HTTPConnection", key: object, scheme: str, host: str, port: int,
        source_ip: Optional[str], tls: _TLSSettings,
    ) -> Union[None, HTTP2ClientConnection, IOStream]:
        """An HTTP/2 connection with room for ``owner``'s request, or an
        `.IOStream` to speak HTTP/1.1 on, or None when the request was
        answered (timed out) while it waited."""
        while True:
            if owner.final_callback is None:
                return None
            connection, full = self._usable(key)
            if connection is not None:
                return connection
            if full is not None:
                # The request's own timeout bounds the wait for a stream.
                owner._start_h2_timer()
                await full.wait_for_room()
                continue
            pending = self._connecting.get(key)
            if pending is not None:
                if await pending is None:
                    break
                continue
            if key in self._http1_keys:
                break
            return await self._connect(owner, key, scheme, host, port, source_ip, tls)
        stream = await owner._open_stream(host, port, source_ip, tls)
        if self._speaks_h2(scheme, stream):
            # The server chose h2 after all (it may have been upgraded).
            return self._add(key, stream, owner)
        return stream

    async def _connect(
        self, owner: "_HTTPConnection", key: object, scheme: str, host: str, port: int,
        source_ip: Optional[str], tls: _TLSSettings,
    ) -> Union[HTTP2ClientConnection, IOStream]:
        pending: "asyncio.Future[Optional[HTTP2ClientConnection]]"
        pending = asyncio.get_running_loop().create_future()
        self._connecting[key] = pending
        outcome: Optional[HTTP2ClientConnection] = None
        try:
            stream = await owner._open_stream(host, port, source_ip, tls)
            if not self._speaks_h2(scheme, stream):
                if len(self._http1_keys) > 1000:
                    self._http1_keys.clear()
                self._http1_keys[key] = True
                return stream
            outcome = self._add(key, stream, owner)
            return outcome
        finally:
            del self._connecting[key]
            pending.set_result(outcome)

    def _speaks_h2(self, scheme: str, stream: IOStream) -> bool:
        if scheme != "https":
            return self.prior_knowledge
        selected = getattr(stream.socket, "selected_alpn_protocol", None)
        return selected is not None and selected() == "h2"

    def _add(self, key: object, stream: IOStream, owner: "_HTTPConnection") -> HTTP2ClientConnection:
        from tornado.http2client import HTTP2ClientConnection

        max_header_size = owner.max_header_size or 65536
        connection = HTTP2ClientConnection(
            stream, max_header_size, functools.partial(self._gone, key), self._idle,
        )
        self.connections.setdefault(key, []).append(connection)
        self.connections_made += 1
        # Idle from the start, in case the request it was made for is gone.
        if not self.closed:
            self._idle(connection)
        return connection

    def _gone(self, key: object, connection: HTTP2ClientConnection) -> None:
        """The connection takes no new requests (closed, or GOAWAY)."""
        group = self.connections.get(key)
        if group is not None and connection in group:
            group.remove(connection)
            if not group:
                del self.connections[key]
        timer = self._idle_timers.pop(connection, None)
        if timer is not None:
            timer.cancel()

    def _idle(self, connection: HTTP2ClientConnection) -> None:
        if connection.closed:
            return
        if not connection.accepting or self.closed:
            # Drained after a GOAWAY, or made while the client was closing.
            connection.close()
            return
        timer = self._idle_timers.pop(connection, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._idle_timers[connection] = loop.call_later(
            self.idle_timeout, self._close_if_idle, connection
        )

    def _close_if_idle(self, connection: HTTP2ClientConnection) -> None:
        # Streams that closed since would have re-armed the timer: no open
        # stream now means none for a whole idle_timeout.
        self._idle_timers.pop(connection, None)
        if connection.open_streams == 0:
            connection.close()

    def close(self) -> None:
        """Closes every connection (requests still on them fail)."""
        self.closed = True
        for group in list(self.connections.values()):
            for connection in list(group):
                connection.close()
        self.connections.clear()
        for timer in self._idle_timers.values():
            timer.cancel()
        self._idle_timers.clear()


class _HTTPConnection(httputil.HTTPMessageDelegate):
    """One request over one new connection: the `.HTTPMessageDelegate` that
    the client side of `.HTTP1Connection` feeds with the answer.

    `SimpleAsyncHTTPClient` makes one for each request it starts (and
    `tornado.websocket.WebSocketClientConnection` extends the class). The
    constructor sets up its attributes and then starts `run` on the
    current IOLoop. ``final_callback`` gets the `.HTTPResponse` exactly
    once; a subclass that takes the connection over sets it to None to
    silence it. ``release_callback`` is called once the request stops
    counting against the client's ``max_clients``.

    What a subclass may rely on:

    * `headers_received` is a coroutine that records ``code``, ``reason``
      and ``headers``; delegate to it with ``super()`` for the answers you
      do not handle.
    * `data_received`, `finish` and `on_connection_close` make up the rest
      of the delegate protocol; `finish` builds the response, or follows
      the redirect.
    * ``self.connection`` is the `.HTTP1Connection` once the request is
      on its way (``detach()`` it to take the stream); ``self.stream`` is
      the `.IOStream`.
    * ``_remove_timeout()`` stops the running timer (the request timeout
      once connected); ``_handle_exception(typ, value, tb)`` fails the
      request with ``value`` unless it has been answered already.
    * ``client`` may be None, when no `SimpleAsyncHTTPClient` stands
      behind the connection; redirects are not followed then.
    """

    def __init__(
        self, client: "Optional[SimpleAsyncHTTPClient]", request: HTTPRequest,
        release_callback: Callable[[], None], final_callback: _ResponseCallback,
        max_buffer_size: int, tcp_client: TCPClient, max_header_size: int, max_body_size: int,
    ) -> None:
        loop = IOLoop.current()
        self.io_loop = loop
        self.start_wall_time = time.time()
        self.start_time = loop.time()
        # The request and the two ways of reporting on it.
        self.request = request
        self.final_callback: Optional[_ResponseCallback] = final_callback
        self.release_callback: Optional[Callable[[], None]] = release_callback
        self.client = client
        # The transport and its limits.
        self.tcp_client = tcp_client
        self.max_body_size = max_body_size
        self.max_header_size = max_header_size
        self.max_buffer_size = max_buffer_size
        self.connection: Optional[HTTP1Connection] = None
        self.stream: Optional[IOStream] = None
        # The answer, as it comes in.
        self.chunks: List[bytes] = []
        self.headers: Optional[httputil.HTTPHeaders] = None
        self.reason: Optional[str] = None
        self.code: Optional[int] = None
        self._follow_redirect = False
        self._timeout: Optional[Union[asyncio.TimerHandle, _QueuedTimeout]] = None
        # The HTTP/2 stream the request went out on, if it did.
        self._h2_stream: Optional[HTTP2ClientStream] = None
        # A Task of our own, straight from the asyncio loop (run() logs what
        # it cannot report itself, so nobody has to watch the Task).  It is
        # held until it ends, as Tornado holds the tasks it spawns: the
        # event loop keeps only weak references, and a request still
        # pending when its loop is closed without closing it must not be
        # collected (with its socket) at some later, arbitrary moment.
        aio = loop.asyncio_loop  # type: ignore[attr-defined]
        if _EAGER_TASKS and aio.get_task_factory() is None:
            # Python 3.12+: the Task's first step runs now, up to its first
            # wait (on a kept-alive connection the request is sent), instead
            # of in the next loop iteration.
            task = asyncio.Task(self.run(), loop=aio, eager_start=True)  # type: ignore[call-arg]
        else:
            task = aio.create_task(self.run())
        if not task.done():
            _running_requests.add(task)
            task.add_done_callback(_running_requests.discard)

    # --- sending -----------------------------------------------------------

    async def run(self) -> None:
        """The whole exchange: checks the request, connects, sends it and
        reads the answer. A failure at any step becomes the request's
        response (see `_handle_exception`); one that comes after the
        answer is logged."""
        try:
            scheme, host, port, authority = self._split_url()
            source_ip = self._source_address()
            self._check_request()
            if getattr(self.client, "_http1_pool", None) is not None:
                self._pool_key = self._keep_alive_key(scheme, host, port, source_ip)
            self._fill_in_headers(authority)
            h2_pool = None if self.client is None else self.client._h2_pool
            # An idle keep-alive connection, with the opt-in (_http1pool).
            stream = None if self._pool_key is None else self._take_idle()
            while True:
                if stream is None:
                    try:
                        if h2_pool is not None and h2_pool.wants(scheme):
                            opened = await self._run_http2(h2_pool, scheme, host, port, source_ip)
                            if opened is None:
                                return
                            stream = opened
                        else:
                            stream = await self._connect(scheme, host, port, source_ip)
                    except TimeoutError as exc:
                        # TCPClient's message names the phase (resolving,
                        # connecting, TLS handshake).
                        raise HTTPTimeoutError(str(exc) or "Timeout while connecting") from None
                    if self.final_callback is None:
                        # Answered for already while the connection was being made.
                        stream.close()
                        return
                # The steps are plain methods rather than nested coroutines:
                # every resumption of this Task walks the chain of awaiting
                # frames.
                try:
                    sending = self._send_request(stream)
                    if sending is not None:
                        await sending
                    # Unless sending is held for the server's "100 Continue" (see
                    # headers_received), which never comes if it answers at once.
                    await self._read_response()
                    return
                except StreamClosedError:
                    if not self._may_retry():
                        raise
                stream = None
        except Exception:
            if not self._handle_exception(*sys.exc_info()):
                app_log.error("Exception in callback %r", self.run, exc_info=True)

    # --- HTTP/2 -------------------------------------------------------------

    async def _run_http2(
        self, pool: _HTTP2Pool, scheme: str, host: str, port: int, source_ip: Optional[str]
    ) -> Optional[IOStream]:
        """Sends the request as a stream of a pooled HTTP/2 connection and
        reads the answer; returns an `.IOStream` instead when the server
        only speaks HTTP/1.1 (the caller goes on with that), else None.

        A request the server did not process (GOAWAY, REFUSED_STREAM) is
        sent again on another connection, twice at most, unless a
        ``body_producer`` already ran.
        """
        from tornado.http2client import ConnectionTerminatedError

        request = self.request
        tls = self._alpn_tls_settings(scheme)
        tls_key: object = tls
        if isinstance(tls, dict):
            tls_key = tuple(sorted((k, repr(v)) for k, v in tls.items()))
        key = (scheme, host, port, tls_key, source_ip, request.allow_ipv6 is False)
        attempt = 0
        while True:
            acquired = await pool.acquire(self, key, scheme, host, port, source_ip, tls)
            if acquired is None or isinstance(acquired, IOStream):
                return acquired
            if self.final_callback is None:
                return None
            # Whether the connection carried requests before this one: if it
            # closes under a request it was likely idle too long.
            reused = acquired.streams_opened > 0
            try:
                await self._exchange_http2(acquired, scheme)
                return None
            except ConnectionTerminatedError as e:
                attempt += 1
                if attempt > 2 or self.final_callback is None:
                    raise
                if request.body_producer is not None:
                    raise
                # RFC 9110 section 9.2.2: an idempotent request may be
                # sent again after a connection failed under it.
                again = e.unanswered and reused and request.method in _IDEMPOTENT
                if not (e.retryable or again):
                    raise
                self._h2_stream = None
                self.connection = None
                gen_log.debug("retrying %s on a new HTTP/2 stream: %s", request.url, e)

    def _alpn_tls_settings(self, scheme: str) -> _TLSSettings:
        """Like `_tls_settings`, offering ``h2`` by ALPN; an `ssl.SSLContext`
        given as ``ssl_options`` is used as it is (HTTP/2 only if it offers
        ``h2`` itself)."""
        if scheme != "https":
            return None
        request = self.request
        options = request.ssl_options
        if isinstance(options, ssl.SSLContext):
            return options
        if isinstance(options, dict):
            return _alpn_context_from_dict(tuple(sorted(options.items())))
        return _alpn_tls_context(
            bool(request.validate_cert), request.ca_certs, request.client_cert, request.client_key
        )

    def _open_stream(
        self, host: str, port: int, source_ip: Optional[str], tls: _TLSSettings
    ) -> Awaitable[IOStream]:
        """`.TCPClient.connect` with the given TLS settings, within the
        connect budget."""
        request = self.request
        # The connect phase must respect both limits, counted from when
        # this request got its slot.
        budget = _tightest(request.connect_timeout, request.request_timeout)
        remaining = None
        if budget is not None:
            remaining = max(0.0, self.start_time + budget - self.io_loop.time())
        family = socket.AF_INET if request.allow_ipv6 is False else socket.AF_UNSPEC
        return self.tcp_client.connect(
            host, port, af=family, ssl_options=tls, max_buffer_size=self.max_buffer_size,
            source_ip=source_ip, timeout=remaining,
        )

    def _start_h2_timer(self) -> None:
        """Starts the request timeout, unless it runs already."""
        if self._timeout is None and self.request.request_timeout:
            self._start_request_timer(self.request.request_timeout)

    async def _exchange_http2(self, connection: HTTP2ClientConnection, scheme: str) -> None:
        request = self.request
        stream = connection.open_stream()
        self._h2_stream = stream
        # _send_body and _produce_body only need write() and finish().
        self.connection = stream  # type: ignore[assignment]
        self._start_h2_timer()
        parts = self.parsed
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        headers = request.headers
        fields = [
            (":method", request.method), (":scheme", scheme),
            (":authority", headers.get("Host", "")), (":path", target),
        ]
        fields.extend(headers.get_all())
        bodiless = request.body is None and request.body_producer is None
        # A head with a body to follow leaves with the body's first piece:
        # in one segment, a server reads both before it answers (hypercorn
        # fails a connection on data for a stream it has answered).
        stream.send_headers(fields, end_stream=bodiless, flush=bodiless)
        sending: Optional[Awaitable[None]] = None
        if request.expect_100_continue and not bodiless:
            # headers_received sends the body on the server's "100 Continue";
            # RFC 9110 section 10.1.1: a client need not wait for it forever
            # (HTTP/2 servers often send none).
            stream.expect_continue = True
            self.io_loop.call_later(_CONTINUE_TIMEOUT, self._continue_anyway, stream)
        elif not bodiless:
            sending = self._send_body()
        if sending is not None:
            # The body goes out while the answer comes in: the server may
            # answer (and reset the stream) before taking all of it.
            task = asyncio.ensure_future(sending)
            task.add_done_callback(self._body_sent)
        await stream.read_response(
            self, self.max_header_size or 65536,
            self.max_body_size if self.max_body_size is not None else self.max_buffer_size,
            bool(request.decompress_response),
        )
        if self.final_callback is not None:
            # The delegate did not finish: say so rather than hang.
            raise HTTPStreamClosedError("Stream closed")

    def _continue_anyway(self, stream: HTTP2ClientStream) -> None:
        """Sends the body of a request that waited for "100 Continue" long
        enough, unless an answer came meanwhile."""
        if not stream.expect_continue or self.final_callback is None:
            return
        stream.expect_continue = False
        sending = self._send_body()
        if sending is not None:
            asyncio.ensure_future(sending).add_done_callback(self._body_sent)

    def _body_sent(self, task: "asyncio.Future[None]") -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is None or isinstance(error, StreamClosedError):
            return  # a stream that went away is reported by the reader
        # The body_producer failed: so does the request.
        if not self._handle_exception(type(error), error, error.__traceback__):
            app_log.error("Exception in body producer of %r", self.request.url, exc_info=error)

    def _split_url(self) -> Tuple[str, str, int, str]:
        """Parses the URL (into ``parsed`` and ``parsed_hostname``) and
        returns scheme, host, port and the authority without userinfo."""
        parts, scheme, host, port, authority = _url_facts(self.request.url)
        self.parsed = parts
        self.parsed_hostname = host
        return scheme, host, port, authority

    def _source_address(self) -> Optional[str]:
        """The local address to bind (``network_interface``), checked."""
        address = self.request.network_interface
        if not address:
            return None
        if not is_valid_ip(address):
            raise ValueError(
                "Unrecognized IPv4 or IPv6 address for network_interface, got %r" % address
            )
        return address

    def _check_request(self) -> None:
        """Refuses requests this client cannot or will not send."""
        request = self.request
        method = request.method
        lenient = request.allow_nonstandard_methods
        if not lenient and method not in _KNOWN_METHODS:
            raise KeyError("unknown method %s" % method)
        for option in _PROXY_OPTIONS:
            if getattr(request, option, None):
                raise NotImplementedError("%s not supported" % option)
        if not lenient:
            has_body = request.body is not None or request.body_producer is not None
            _check_body_presence(method, has_body)

    def _credentials(self) -> Optional[Tuple[str, str]]:
        """(user, password) to send: those of the URL first, else the
        request's ``auth_username``/``auth_password``; None if neither."""
        request = self.request
        parts = self.parsed
        if parts.username is not None:
            user, password = parts.username, parts.password
        elif request.auth_username is not None:
            user, password = request.auth_username, request.auth_password
        else:
            return None
        if request.auth_mode not in (None, "basic"):
            raise ValueError("unsupported auth_mode %s" % request.auth_mode)
        return user, password or ""

    def _fill_in_headers(self, authority: str) -> None:
        """Adds the headers this client is responsible for to the request's
        own (private) headers object."""
        request = self.request
        headers = request.headers
        # One request per connection (RFC 9112 section 9.6), unless the
        # client keeps connections alive (HTTP/1.1's default).
        if "Connection" not in headers and self._pool_key is None:
            headers["Connection"] = "close"
        if "Host" not in headers:
            headers["Host"] = authority
        credentials = self._credentials()
        if credentials is not None:
            headers["Authorization"] = _basic_authorization(*credentials)
        agent = request.user_agent
        if agent:
            headers["User-Agent"] = agent
        elif "User-Agent" not in headers:
            headers["User-Agent"] = _DEFAULT_USER_AGENT
        if request.expect_100_continue:
            headers["Expect"] = "100-continue"
        content = request.body
        if content is not None:
            # Known content goes with its length; a body_producer's output
            # is sent chunked unless the caller gave a Content-Length.
            headers["Content-Length"] = str(len(content))
        if request.method == "POST" and "Content-Type" not in headers:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if request.decompress_response:
            # gzip, and br and zstd where their modules are installed.
            headers["Accept-Encoding"] = _ACCEPT_ENCODING

    def _tls_settings(self, scheme: str) -> _TLSSettings:
        """What to give `.TCPClient` as ``ssl_options`` (None for plain
        HTTP). ``ssl_options`` on the request wins over everything else."""
        if scheme != "https":
            return None
        request = self.request
        if request.ssl_options is not None:
            return request.ssl_options
        verify = bool(request.validate_cert)
        cafile, certfile, keyfile = request.ca_certs, request.client_cert, request.client_key
        if cafile is None and certfile is None and keyfile is None:
            return _default_tls_context(False) if verify else _unverified_tls_context()
        return _build_tls_context(verify, cafile, certfile, keyfile)

    def _connect(
        self, scheme: str, host: str, port: int, source_ip: Optional[str]
    ) -> Awaitable[IOStream]:
        """`.TCPClient.connect` (TLS included) within the connect budget."""
        return self._open_stream(host, port, source_ip, self._tls_settings(scheme))

    def _send_request(self, stream: IOStream) -> Optional[Awaitable[None]]:
        """Starts the exchange on ``stream`` and sends the request; returns
        something to await while a ``body_producer`` is still writing."""
        # From now on HTTP1Connection tells us (on_connection_close) when
        # the stream closes, once it has handed over what it read.
        self.stream = stream
        request = self.request
        if request.request_timeout:
            self._start_request_timer(request.request_timeout)
        connection = self._open_connection(stream)
        self.connection = connection
        parts = self.parsed
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        start_line = httputil.RequestStartLine(request.method, target, "")
        content = request.body
        if content is not None and not request.expect_100_continue:
            # Head and content in one send: a second small write could wait
            # for the ACK of the first (Nagle's algorithm meeting the
            # server's delayed ACK).
            connection.write_headers(start_line, request.headers, content)
            connection.finish()
            return None
        connection.write_headers(start_line, request.headers)
        if request.expect_100_continue:
            return None
        return self._send_body()

    def _open_connection(self, stream: IOStream) -> HTTP1Connection:
        request = self.request
        if request.body_producer is not None or request.expect_100_continue:
            # Parts of this message leave before finish() (which turns Nagle
            # off by itself): without TCP_NODELAY they could wait for an ACK.
            stream.set_nodelay(True)
        params = _connection_params(
            self.max_header_size, self.max_body_size, bool(request.decompress_response)
        )
        return HTTP1Connection(stream, True, params, None)

    def _send_body(self) -> Optional[Awaitable[None]]:
        """Sends the content, if any, and ends the request message; returns
        something to await while a ``body_producer`` is still writing."""
        request = self.request
        connection = self.connection
        assert connection is not None
        content = request.body
        producer = request.body_producer
        if content is None and producer is not None:
            return self._produce_body(connection, producer)
        if content is not None:
            connection.write(content)
        connection.finish()
        return None

    async def _produce_body(self, connection: HTTP1Connection, producer: Callable[..., Any]) -> None:
        progress = producer(connection.write)
        if progress is not None:
            await progress
        connection.finish()

    async def _read_response(self) -> None:
        connection = self.connection
        assert connection is not None
        # A StreamClosedError is run()'s to handle, as every other failure.
        await connection.read_response(self)
        if self.final_callback is not None:
            # read_response gave up (a malformed or cut-off answer) without
            # calling finish(): nothing more will come.
            self.on_connection_close()

    # --- keep-alive (the opt-in of tornado._http1pool) ---------------------

    # The key under which this request's connection is pooled, when the
    # client keeps connections alive and this request may share one.
    _pool_key: Optional[Tuple[Any, ...]] = None
    # Whether the stream in use came from the pool.
    _reused = False

    def _keep_alive_key(
        self, scheme: str, host: str, port: int, source_ip: Optional[str]
    ) -> Optional[Tuple[Any, ...]]:
        """What a connection for this request must have in common with an
        idle one to be shared: origin, local address, address family and
        TLS settings.  None when the request should not share one (TLS
        options given as a dict, or certificate files that make a context
        of their own)."""
        request = self.request
        tls: object = None
        if scheme == "https":
            if isinstance(request.ssl_options, dict):
                return None
            if request.ssl_options is None and not (
                request.ca_certs is None and request.client_cert is None
                and request.client_key is None
            ):
                return None
            tls = self._tls_settings(scheme)
        return (scheme, host, port, source_ip, request.allow_ipv6 is False, tls)

    def _take_idle(self) -> Optional[IOStream]:
        pool = self.client._http1_pool  # type: ignore[union-attr]
        stream = pool.take(self._pool_key)
        self._reused = stream is not None
        return stream

    def _may_retry(self) -> bool:
        """Whether to send the request again on a new connection after the
        reused one closed: once, before any response arrived, and only for
        an idempotent request whose body can be sent again (RFC 9112
        section 9.3.1: the server may have closed the idle connection just
        as the request left).  If so, clears what the attempt left."""
        request = self.request
        if not self._reused or self.final_callback is None or self.code is not None:
            return False
        if request.method not in _IDEMPOTENT or request.body_producer is not None:
            return False
        self._reused = False
        self._remove_timeout()
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close()
        self.connection = None
        self.chunks = []
        return True

    def _keeps_alive(self, stream: IOStream) -> bool:
        """Whether ``stream`` may carry another request (RFC 9112 section
        9.3): both messages complete with nothing unread, an HTTP/1.1
        response, and no ``close`` option on either side."""
        connection = self.connection
        if connection is None or connection.stream is not stream or stream.closed():
            return False
        if not (connection._exchange_over and connection._read_finished
                and connection._write_finished):
            return False
        start = connection._response_start_line
        if start is None or start.version != "HTTP/1.1" or start.code == 101:
            return False
        if self.request.method == "CONNECT" or stream.reading() or stream.writing():
            return False
        if stream._read_buffer:
            return False  # bytes beyond the response: the framing is lost
        response_headers = self.headers
        if response_headers is None or "close" in _connection_tokens(response_headers):
            return False
        return "close" not in _connection_tokens(self.request.headers)

    def _keep_stream_alive(self) -> None:
        """Hands the stream to the pool when it can be kept alive (and
        forgets it: `_close_stream` then leaves it alone)."""
        stream = self.stream
        if (
            stream is not None and self._pool_key is not None
            and self._h2_stream is None and self._keeps_alive(stream)
        ):
            self.stream = None
            self.client._http1_pool.put(self._pool_key, stream)  # type: ignore[union-attr]

    # --- timers and outcomes -----------------------------------------------

    def _start_request_timer(self, allowed: float) -> None:
        loop = self.io_loop
        aio = loop.asyncio_loop  # type: ignore[attr-defined]
        when = aio.time() + self.start_time + allowed - loop.time()
        queue = getattr(self.client, "_timeouts", None)
        if queue is not None and queue.loop is aio:
            self._timeout = queue.add(when, self)
            if self._timeout is not None:
                return
        # Straight on the asyncio loop (IOLoop.call_at would wrap the
        # callback for error logging; _on_request_timeout raises nothing).
        self._timeout = aio.call_at(when, self._on_request_timeout)

    def _on_request_timeout(self) -> None:
        self._timeout = None
        if self.final_callback is not None:
            failure = HTTPTimeoutError("Timeout during request")
            self._handle_exception(HTTPTimeoutError, failure, None)

    def _remove_timeout(self) -> None:
        timer = self._timeout
        if timer is not None:
            self._timeout = None
            timer.cancel()

    def _free_slot(self) -> None:
        """Calls ``release_callback``, at most once."""
        release, self.release_callback = self.release_callback, None
        if release is not None:
            release()

    def _answer(self, response: HTTPResponse) -> None:
        """Frees the slot and hands ``response`` to ``final_callback``,
        unless the request was answered already."""
        self._free_slot()
        deliver, self.final_callback = self.final_callback, None
        if deliver is not None:
            deliver(response)

    def _caller_request(self) -> HTTPRequest:
        """The request as the caller made it, before any redirect."""
        request = self.request
        if isinstance(request, _RequestProxy):
            request = request.request
        return getattr(request, "original_request", request)

    def _elapsed(self) -> float:
        return self.io_loop.time() - self.start_time

    def _close_stream(self) -> None:
        if self._h2_stream is not None:
            # Only this request's stream: the connection is shared.
            self._h2_stream.reset()
        elif self.stream is not None:
            self.stream.close()

    def _handle_exception(
        self, typ: "Optional[Type[BaseException]]", value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool:
        """Fails the request with ``value``; True when that dealt with it.

        After the request has been answered only a closed stream counts as
        dealt with: it is how a connection we gave up on ends.
        """
        if self.final_callback is None:
            return isinstance(value, StreamClosedError)
        self._remove_timeout()
        if isinstance(value, StreamClosedError):
            cause = value.real_error
            value = HTTPStreamClosedError("Stream closed") if cause is None else cause
        elif self._h2_stream is not None and isinstance(value, _http2_failures()):
            # HTTP/2 failures of one request: the HTTP/1.1 path reports
            # a connection closed over the answer the same way.
            cause = value
            value = HTTPStreamClosedError("Stream closed: %s" % cause)
            value.__cause__ = cause
        failed = HTTPResponse(
            self._caller_request(), 599, error=value,
            request_time=self._elapsed(), start_time=self.start_wall_time,
        )
        self._answer(failed)
        self._close_stream()
        return True

    # --- HTTPMessageDelegate -----------------------------------------------

    def on_connection_close(self) -> None:
        if self.final_callback is None:
            return
        stream = self.stream
        failure = None if stream is None else stream.error
        if failure is None:
            # Say why, when the connection was closed over the response
            # (a body over max_body_size, a malformed chunk ...).
            refused = None if self.connection is None else self.connection._input_error
            reason = "" if refused is None else ": %s" % refused
            failure = HTTPStreamClosedError("Connection closed" + reason)
        self._handle_exception(type(failure), failure, failure.__traceback__)

    async def headers_received(
        self,
        start_line: Union[httputil.ResponseStartLine, httputil.RequestStartLine],
        headers: httputil.HTTPHeaders,
    ) -> None:
        assert isinstance(start_line, httputil.ResponseStartLine)
        request = self.request
        if start_line.code == 100 and request.expect_100_continue:
            # The go-ahead we asked for: now the body may follow.
            pending = self._send_body()
            if pending is not None:
                await pending
            return
        self.code, self.reason, self.headers = start_line.code, start_line.reason, headers
        self._follow_redirect = self._should_follow_redirect()
        report = request.header_callback
        # Callbacks only hear about the final answer, not the hops.
        if report is None or self._follow_redirect:
            return
        report(f"{start_line.version} {start_line.code} {start_line.reason}\r\n")
        for name, value in headers.get_all():
            report(f"{name}: {value}\r\n")
        report("\r\n")

    def _should_follow_redirect(self) -> bool:
        request = self.request
        if self.client is None or not request.follow_redirects:
            return False
        if self.code not in _FOLLOWED_REDIRECTS:
            return False
        hops_left = request.max_redirects
        if hops_left is None or hops_left <= 0:
            return False
        return self.headers is not None and "Location" in self.headers

    def data_received(self, chunk: bytes) -> Optional[Awaitable[None]]:
        if self._follow_redirect:
            return None  # the body of a redirect we follow is dropped
        consumer = self.request.streaming_callback
        if consumer is None:
            self.chunks.append(chunk)
            return None
        outcome = consumer(chunk)
        # Handing a coroutine callback's awaitable to the connection makes
        # it wait before reading on: backpressure.
        if outcome is not None and inspect.isawaitable(outcome):
            return outcome
        return None

    def finish(self) -> None:
        code = self.code
        assert code is not None
        self._remove_timeout()
        if self._follow_redirect:
            self._redirect()
            return
        # With a streaming_callback nothing was collected: the body is empty.
        response = HTTPResponse(
            self._caller_request(), code, reason=self.reason, headers=self.headers,
            buffer=BytesIO(b"".join(self.chunks)), effective_url=self.request.url,
            request_time=self._elapsed(), start_time=self.start_wall_time,
        )
        # Before the answer: a request it lets start may take the stream.
        self._keep_stream_alive()
        self._answer(response)
        self._close_stream()

    def _redirect(self) -> None:
        """Passes a copy of the request, aimed at the Location, back to the
        client; the copy's response is delivered to our caller."""
        client = self.client
        assert client is not None and self.headers is not None and self.code is not None
        view = self.request
        if isinstance(view, _RequestProxy):
            current, defaults = view.request, view.defaults
        else:
            current, defaults = view, None
        hop = copy.copy(current)
        hop.url = urllib.parse.urljoin(current.url, self.headers["Location"])
        assert view.max_redirects is not None  # checked before following
        hop.max_redirects = view.max_redirects - 1
        headers = httputil.HTTPHeaders(current.headers)
        # Host, and the framing the connection picked, describe the message
        # just sent, not the next one.
        for name in ("Host", "Transfer-Encoding"):
            headers.pop(name, None)
        if _origin(hop.url) != _origin(current.url):
            # Credentials, whether explicit, from the URL or from the
            # client's defaults, stay with the origin they were given for.
            for name in _PER_ORIGIN_HEADERS:
                headers.pop(name, None)
            hop.auth_username = hop.auth_password = None
            defaults = _defaults_without_credentials(defaults)
        if _becomes_get(self.code, view.method):
            hop.method = "GET"
            hop.body = None  # type: ignore[assignment]
            hop.body_producer = None
            for name in _CONTENT_HEADERS:
                headers.pop(name, None)
        hop.headers = headers
        caller = hop.original_request = self._caller_request()
        if defaults is not client.defaults:
            hop._redirect_defaults = defaults
        deliver, self.final_callback = self.final_callback, None
        assert deliver is not None

        def relay(hop_done: "asyncio.Future[HTTPResponse]") -> None:
            try:
                response = hop_done.result()
            except Exception as e:
                # A failure without an answer (timeout, refused connection):
                # the caller's fetch reports it.
                response = HTTPResponse(
                    caller, 599, error=e, request_time=self._elapsed(),
                    start_time=self.start_wall_time,
                )
            deliver(response)

        # The connection goes back (if kept alive) and our slot too before
        # the next hop starts: with max_clients=1 it needs the slot.
        self._keep_stream_alive()
        self._free_slot()
        # Through the public fetch(), as Tornado does: instrumentation that
        # wraps it sees the hop (and knows it by its original_request).
        client.fetch(hop, raise_error=False).add_done_callback(relay)
        self._close_stream()


class SimpleAsyncHTTPClient(AsyncHTTPClient):
    """Non-blocking HTTP client that needs nothing beyond Tornado.

    HTTP/1.1 only, one new connection per request, and no proxy support
    (``curl_httpclient`` has that).  Beyond Tornado's arguments this
    package accepts ``keep_alive=True`` (and ``keep_alive_timeout``, in
    seconds): finished connections are then kept for the next request to
    the same origin (see ``_take_extra_keywords``).

    :arg max_clients: how many requests may be in progress at once; the
        others wait in a queue. Time spent waiting counts against the
        shorter of the request's ``connect_timeout`` and
        ``request_timeout``; running out fails it with "Timeout in request
        queue".
    :arg hostname_mapping: host names (or ``(host, port)`` pairs) mapped to
        the address (or ``(address, port)``) to use in their place, a local
        override of DNS (see `.OverrideResolver`).
    :arg max_buffer_size: the most bytes a stream's read buffer may hold
        (100MB).
    :arg resolver: the `.Resolver` to look names up with; by default a new
        `.Resolver` of the configured kind, closed along with the client.
    :arg defaults: request defaults, as for `.AsyncHTTPClient`.
    :arg max_header_size: the most bytes the response headers may take
        (64KB).
    :arg max_body_size: the largest response body accepted, measured after
        decompression, streamed or not (``max_buffer_size`` by default).
    :arg http2: ``True`` to offer HTTP/2 to ``https`` servers by ALPN
        (RFC 7301) and use it with those that select it; ``"prior_knowledge"``
        to also speak HTTP/2 outright to ``http`` servers (h2c, RFC 9113
        section 3.3: only for servers known to accept it); ``False`` (the
        default) for HTTP/1.1 only.  Needs the ``h2`` package (the
        ``tornado[http2]`` extra).  Concurrent requests to one origin then
        share one connection as streams; see :ref:`http2-client`.  (An
        addition to Tornado 6.6, which has no such argument.)
    """

    # See util.Configurable: initialize() keeps Tornado 6.6's signature;
    # these are taken by _take_extra_keywords.
    _extra_keywords = frozenset({"http2", "keep_alive", "keep_alive_timeout"})
    # The HTTP/2 connections, when http2 is on.
    _h2_pool: Optional[_HTTP2Pool] = None
    # The idle HTTP/1.1 connections, when keep_alive is on.
    _http1_pool: "Optional[_IdleConnections]" = None

    def initialize(  # type: ignore[override]
        self, max_clients: int = 10, hostname_mapping: Optional[Dict[str, str]] = None,
        max_buffer_size: int = 104857600, resolver: Optional[Resolver] = None,
        defaults: Optional[Dict[str, Any]] = None, max_header_size: Optional[int] = None,
        max_body_size: Optional[int] = None,
    ) -> None:
        super().initialize(defaults=defaults)
        self.max_clients = max_clients
        self.max_buffer_size = max_buffer_size
        self.max_header_size = max_header_size
        self.max_body_size = max_body_size
        # Requests waiting for a slot, oldest first ...
        self.queue: Deque[_Queued] = collections.deque()
        # ... and by key, with their queue timer and when they were queued.
        self.waiting: Dict[object, _Waiting] = {}
        # The requests holding a slot, by key.
        self.active: Dict[object, Tuple[HTTPRequest, _ResponseCallback]] = {}
        self.own_resolver = resolver is None
        self.resolver = Resolver() if resolver is None else resolver
        if hostname_mapping is not None:
            self.resolver = OverrideResolver(resolver=self.resolver, mapping=hostname_mapping)
        self.tcp_client = TCPClient(resolver=self.resolver)
        self._timeouts = _TimeoutQueue(self.io_loop.asyncio_loop)  # type: ignore[attr-defined]

    def _take_extra_keywords(  # type: ignore[override]
        self, http2: Union[bool, str] = False, keep_alive: bool = False,
        keep_alive_timeout: Optional[float] = None,
    ) -> None:
        """``http2``: see the class docstring.

        ``keep_alive=True`` keeps the connection of a finished HTTP/1.1
        exchange open for the next request to the same origin (persistent
        connections; without it every request has a connection of its own
        and says ``Connection: close``, as Tornado does).  At most
        ``max_clients`` connections are kept idle, each for at most
        ``keep_alive_timeout`` seconds (30 by default).  A request that
        finds its reused connection closed before any answer is sent once
        more on a new one if its method is idempotent."""
        if http2 not in _HTTP2_MODES:
            raise ValueError(
                "http2 must be False, True or 'prior_knowledge', not %r" % (http2,)
            )
        if http2:
            from tornado.http2client import require_h2

            require_h2()
            self._h2_pool = _HTTP2Pool(prior_knowledge=http2 == "prior_knowledge")
        if keep_alive:
            from tornado._http1pool import DEFAULT_IDLE_TIMEOUT, _IdleConnections

            timeout = DEFAULT_IDLE_TIMEOUT if keep_alive_timeout is None else keep_alive_timeout
            self._http1_pool = _IdleConnections(self.io_loop, self.max_clients, timeout)

    def close(self) -> None:
        if self._closed:
            return
        if self._h2_pool is not None:
            self._h2_pool.close()
        super().close()
        if self._http1_pool is not None:
            self._http1_pool.close()
        if self.own_resolver:
            self.resolver.close()
        self.tcp_client.close()

    def fetch_impl(self, request: HTTPRequest, callback: _ResponseCallback) -> None:
        key = object()
        if len(self.active) < self.max_clients and not self.queue:
            # The usual case: a slot is free and nobody is waiting for one.
            self._launch(key, request, callback)
        else:
            self._enqueue(key, request, callback)

    def _launch(self, key: object, request: HTTPRequest, callback: _ResponseCallback) -> None:
        self.active[key] = (request, callback)
        release = functools.partial(self._slot_freed, key)
        connection_type = self._connection_class()
        connection_type(
            self, request, release, callback, self.max_buffer_size, self.tcp_client,
            self.max_header_size, self.max_body_size,
        )

    def _connection_class(self) -> type:
        """The `_HTTPConnection` subclass to run requests with; a hook that
        subclasses of this client may override."""
        return _HTTPConnection

    def _enqueue(self, key: object, request: HTTPRequest, callback: _ResponseCallback) -> None:
        self.queue.append((key, request, callback))
        timer = None
        if len(self.active) >= self.max_clients:
            # Queueing time comes out of the request's own time budget.
            budget = _tightest(request.connect_timeout, request.request_timeout)
            if budget is not None:
                timer = self.io_loop.call_later(budget, self._expire_queued, key)
        self.waiting[key] = (request, callback, timer, self.io_loop.time())
        self._drain_queue()
        if self.queue:
            gen_log.debug(
                "request queued: %d in progress (max_clients), %d waiting",
                len(self.active), len(self.queue),
            )

    def _drain_queue(self) -> None:
        """Starts queued requests while slots are free."""
        while self.queue and len(self.active) < self.max_clients:
            key, request, callback = self.queue.popleft()
            entry = self.waiting.pop(key, None)
            if entry is None:
                continue  # it timed out in the queue and has its answer
            timer = entry[2]
            if timer is not None:
                self.io_loop.remove_timeout(timer)
            self._launch(key, request, callback)

    def _slot_freed(self, key: object) -> None:
        del self.active[key]
        if self.queue:
            self._drain_queue()

    def _expire_queued(self, key: object) -> None:
        """Fails a request whose time ran out before it got a slot."""
        request, callback, _timer, queued_at = self.waiting.pop(key)
        self.queue.remove((key, request, callback))
        waited = self.io_loop.time() - queued_at
        failure = HTTPTimeoutError("Timeout in request queue")
        response = HTTPResponse(request, 599, error=failure, request_time=waited)
        self.io_loop.add_callback(callback, response)


if __name__ == "__main__":
    AsyncHTTPClient.configure(SimpleAsyncHTTPClient)
    main()
