"""``pycurl`` (libcurl) transport for `.AsyncHTTPClient`.

Select it with::

    AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")

It brings what ``simple_httpclient`` lacks: HTTP proxies, digest
authentication, sending from a named network interface, and connections
reused between requests.

How it fits with the `.IOLoop`: a single ``pycurl.CurlMulti`` runs every
transfer. libcurl says which sockets it wants watched (``M_SOCKETFUNCTION``)
and when it wants to run next (``M_TIMERFUNCTION``); the loop reports
readiness back through ``socket_action``. A fixed set of ``max_clients``
easy handles carries the requests, and requests wait in a queue for one to
be free. A handle is reset to libcurl's defaults between requests, so no
option (credentials, proxy, client certificate, headers) outlives the
request that set it.

libcurl calls back from inside ``socket_action``. User code
(``header_callback``, ``streaming_callback``, the final callback) never runs
there: it is scheduled on the IOLoop, in the order the data came in.
"""

import collections
import functools
import inspect
import logging
import re
import threading
import time
from io import BytesIO
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple, Union, cast

import pycurl  # type: ignore[import-untyped]

from tornado import gen, httputil
from tornado.escape import native_str, utf8
from tornado.httpclient import (
    AsyncHTTPClient,
    HTTPClientError,
    HTTPRequest,
    HTTPResponse,
    _BODY_METHODS,
    _check_body_presence,
    main,
)
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.log import app_log

curl_log = logging.getLogger("tornado.curl_httpclient")

# A CR or LF inside a header line would end it early and let the rest pass
# for a header of its own (RFC 9112 section 2.2; header injection).
CR_OR_LF_RE = re.compile(b"\r|\n")

_ResponseCallback = Callable[[HTTPResponse], None]

# libcurl selects most methods with an option of their own ...
_METHOD_SWITCHES = {
    "GET": pycurl.HTTPGET, "HEAD": pycurl.NOBODY,
    "POST": pycurl.POST, "PUT": pycurl.UPLOAD,
}
# ... and sends the remaining standard ones as a CUSTOMREQUEST.
_CUSTOM_REQUEST_METHODS = frozenset(("DELETE", "OPTIONS", "PATCH"))

_AUTH_SCHEMES = {"digest": pycurl.HTTPAUTH_DIGEST, "basic": pycurl.HTTPAUTH_BASIC}

# What libcurl asks us to watch a socket for, in IOLoop terms.
_WANTED_EVENTS = {
    pycurl.POLL_NONE: IOLoop.NONE, pycurl.POLL_IN: IOLoop.READ,
    pycurl.POLL_OUT: IOLoop.WRITE, pycurl.POLL_INOUT: IOLoop.READ | IOLoop.WRITE,
}

# HTTPResponse.time_info keys, each read from the curl_easy_getinfo timer
# of the same name.
_TIMERS = tuple(
    (name, getattr(pycurl, name.upper() + "_TIME"))
    for name in (
        "namelookup", "connect", "appconnect", "pretransfer", "starttransfer", "total", "redirect",
    )
)

_DEFAULT_USER_AGENT = "Mozilla/5.0 (compatible; pycurl)"


class CurlError(HTTPClientError):
    """A transfer libcurl gave up on, reported with status 599.

    ``errno`` is libcurl's ``CURLE_*`` code and the message its explanation
    (or ours, when we made the transfer fail on purpose).
    """

    def __init__(self, errno: int, message: str) -> None:
        super().__init__(599, message)
        self.errno = errno


class _CurlStreamingBuffer:
    """Passes a response body from libcurl to a ``streaming_callback``,
    which only ever runs on the IOLoop.

    `write` is libcurl's ``WRITEFUNCTION``: it keeps the chunk and has
    `flush` scheduled. Once ``max_buffer_size`` bytes wait for the callback
    it pauses the transfer instead (libcurl holds on to the refused chunk
    and offers it again when unpaused), so neither a fast server nor a
    decompression bomb can make the buffer grow without bound. `flush`
    feeds the waiting chunks to the callback, then lets the transfer go on.
    A chunk that would take the body beyond the client's ``max_body_size``
    is refused with a short write, which fails the transfer, and
    ``body_too_large`` records why.
    """

    # Bytes allowed to wait for the callback before the transfer pauses.
    max_buffer_size = 1 << 20

    def __init__(self, client: "CurlAsyncHTTPClient", curl: Any, callback: Callable[[bytes], Any]) -> None:
        self.paused = False
        self.body_too_large = False
        self._owner = client
        # None once the transfer is over and the handle went back to the pool.
        self._handle: Optional[Any] = curl
        self._consumer = callback
        self._waiting: List[bytes] = []
        self._waiting_bytes = 0
        self._accepted_bytes = 0
        self._flush_pending = False

    def write(self, chunk: bytes) -> int:
        """Takes ``chunk`` from libcurl; returns how much was taken (all of
        it, nothing, or ``WRITEFUNC_PAUSE``)."""
        size = len(chunk)
        owner = self._owner
        if self._accepted_bytes + size > owner.max_body_size:
            self.body_too_large = True
            return 0
        if self._waiting_bytes and self._waiting_bytes + size > self.max_buffer_size:
            self.paused = True
            return cast(int, pycurl.WRITEFUNC_PAUSE)
        self._waiting.append(chunk)
        self._waiting_bytes += size
        self._accepted_bytes += size
        if not self._flush_pending:
            self._flush_pending = True
            owner.io_loop.add_callback(self.flush)
        return size

    def flush(self) -> None:
        """Gives the waiting chunks to the callback, then resumes the
        transfer if `write` paused it."""
        self._flush_pending = False
        ready, self._waiting = self._waiting, []
        self._waiting_bytes = 0
        for chunk in ready:
            try:
                self._consumer(chunk)
            except Exception:
                # One failing call must not lose the rest of the body.
                app_log.error("Exception in callback %r", self._consumer, exc_info=True)
        handle = self._handle
        if self.paused and handle is not None:
            self.paused = False
            self._resume(handle)

    def _resume(self, handle: Any) -> None:
        try:
            # libcurl may call write() again from in here, with the chunk
            # it kept.
            handle.pause(pycurl.PAUSE_CONT)
        except pycurl.error:
            # The transfer failed while paused; the client learns of it from
            # the multi handle, like of any other failure.
            return
        # libcurl releases before 8 do not schedule an unpaused transfer by
        # themselves: ask for a socket_action right away.
        self._owner._set_timeout(0)

    def _detach(self) -> None:
        """The transfer is over and its handle may already serve another
        request: never touch it again."""
        self._handle = None
        self.paused = False


class _BodyCollector:
    """``WRITEFUNCTION`` of a response kept in memory: gathers the chunks,
    and refuses (a short write) the one that would go past ``limit``."""

    __slots__ = ("chunks", "received", "limit", "body_too_large")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.received = 0
        self.chunks: List[bytes] = []
        self.body_too_large = False

    def write(self, chunk: bytes) -> Optional[int]:
        total = self.received + len(chunk)
        if total > self.limit:
            self.body_too_large = True
            return 0
        self.chunks.append(chunk)
        self.received = total
        return None  # libcurl reads None as "all of it"


_BodySink = Union[_BodyCollector, _CurlStreamingBuffer]


class _Transfer:
    """What one busy easy handle is working on."""

    __slots__ = (
        "request", "callback", "queued_at", "started_at", "started_wall",
        "headers", "reason", "held_line", "header_error", "sink", "head_size", "head_complete",
    )

    def __init__(self, request: HTTPRequest, callback: _ResponseCallback, queued_at: float, now: float) -> None:
        self.request = request
        self.callback = callback
        self.queued_at = queued_at
        self.started_at = now
        self.started_wall = time.time()
        self.headers = httputil.HTTPHeaders()
        self.reason: Optional[str] = None
        # A header line that may still continue on the next line (obs-fold).
        self.held_line: Optional[str] = None
        # Why a header line was refused, if one was.
        self.header_error: Optional[str] = None
        self.sink: Optional[_BodySink] = None
        # The size of the head being read, and whether its empty line came.
        self.head_size = 0
        self.head_complete = False


def _header_lines(headers: httputil.HTTPHeaders) -> List[bytes]:
    """The request headers as libcurl's ``HTTPHEADER`` list.

    Adds empty ``Expect`` and ``Pragma`` headers unless the caller set
    them: an empty value stops libcurl from sending its own
    ``Expect: 100-continue`` (some servers never answer it) and
    ``Pragma: no-cache``.
    """
    for name in ("Expect", "Pragma"):
        if name not in headers:
            headers[name] = ""
    lines = []
    for name, value in headers.get_all():
        raw_value = value.encode("latin1") if isinstance(value, str) else value
        line = utf8(name) + b": " + raw_value
        if CR_OR_LF_RE.search(line):
            raise ValueError("Illegal characters (CR or LF) in header: %r" % line)
        lines.append(line)
    return lines


def _log_curl_debug(kind: int, message: bytes) -> None:
    """libcurl's ``DEBUGFUNCTION`` (set while ``curl_log`` shows DEBUG)."""
    if kind == pycurl.INFOTYPE_TEXT:
        curl_log.debug("%s", native_str(message).strip())
    elif kind in (pycurl.INFOTYPE_HEADER_IN, pycurl.INFOTYPE_HEADER_OUT):
        arrow = "<" if kind == pycurl.INFOTYPE_HEADER_IN else ">"
        for line in native_str(message).splitlines():
            curl_log.debug("%s %s", arrow, line)
    elif kind == pycurl.INFOTYPE_DATA_OUT:
        curl_log.debug("> %r", message)


@functools.lru_cache(maxsize=None)
def _accept_encoding() -> str:
    """The codings our libcurl decodes: gzip and deflate, and br and zstd
    when it was built with them (the pycurl wheels have br only)."""
    features = pycurl.version_info()[4]
    codings = ["gzip", "deflate"]
    if features & getattr(pycurl, "VERSION_BROTLI", 0):
        codings.append("br")
    if features & getattr(pycurl, "VERSION_ZSTD", 0):
        codings.append("zstd")
    return ",".join(codings)


class CurlAsyncHTTPClient(AsyncHTTPClient):
    """`.AsyncHTTPClient` on ``libcurl``.

    :arg max_clients: how many transfers run at once (the number of curl
        handles kept); further requests wait in a queue.
    :arg defaults: request defaults, as for `.AsyncHTTPClient`.
    :arg max_body_size: the largest response body accepted, counted after
        decompression, whether kept or streamed (100MB). A larger one
        fails the request with a `CurlError` saying so.
    :arg max_header_size: the largest response head accepted, status line
        included (by default only libcurl's own limits apply). A larger
        one fails the request with a `CurlError` saying so.  (An addition
        to Tornado 6.6, which has no such argument here.)
    :arg http2: ``True`` asks libcurl for HTTP/2 over TLS
        (``CURL_HTTP_VERSION_2TLS``: offered by ALPN, HTTP/1.1 for servers
        that don't pick it and for ``http`` URLs); ``"prior_knowledge"``
        also speaks HTTP/2 outright to ``http`` URLs
        (``CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE``).  libcurl multiplexes
        concurrent transfers to one origin over one connection.  Needs a
        libcurl built with nghttp2; `ValueError` otherwise.  (An addition
        to Tornado 6.6.)

    Not available here: ``body_producer``, ``expect_100_continue``,
    ``ssl_options``, coroutine ``streaming_callback`` functions, and GET
    requests with a body.
    """

    # See util.Configurable: initialize() keeps Tornado 6.6's signature.
    _extra_keywords = frozenset({"max_header_size", "http2"})
    _max_header_size: Optional[int] = None
    _http2: "bool | str" = False

    def initialize(  # type: ignore[override]
        self, max_clients: int = 10, defaults: "Dict[str, Any] | None" = None,
        max_body_size: int = 104857600,
    ) -> None:
        super().initialize(defaults=defaults)
        self.max_body_size = max_body_size
        multi = pycurl.CurlMulti()
        multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_curl_socket)
        multi.setopt(pycurl.M_TIMERFUNCTION, self._set_timeout)
        self._multi: Optional[Any] = multi
        self._handles = [pycurl.Curl() for _ in range(max_clients)]
        self._idle = list(self._handles)
        self._busy: Dict[Any, _Transfer] = {}
        # (request, callback, time queued) of requests waiting for a handle.
        self._backlog: Deque[Tuple[HTTPRequest, _ResponseCallback, float]] = collections.deque()
        # The sockets libcurl asked us to watch, with the events watched.
        self._watched: Dict[int, int] = {}
        self._timer: Optional[object] = None
        # libcurl has been known to forget to ask for a socket or a timer;
        # a slow periodic sweep keeps a transfer from stalling if it does.
        self._sweeper = PeriodicCallback(self._sweep, 1000)
        self._sweeper.start()
        # Some libcurl builds set the multi handle up lazily and crash when
        # it is destroyed without ever having been used: use it once.
        probe = pycurl.Curl()
        multi.add_handle(probe)
        multi.remove_handle(probe)
        probe.close()

    def _take_extra_keywords(  # type: ignore[override]
        self, max_header_size: Optional[int] = None, http2: "bool | str" = False
    ) -> None:
        self._max_header_size = max_header_size
        if http2 not in (False, True, "prior_knowledge"):
            raise ValueError("http2 must be False, True or 'prior_knowledge', not %r" % (http2,))
        if http2 and not pycurl.version_info()[4] & getattr(pycurl, "VERSION_HTTP2", 0):
            raise ValueError("http2 needs a libcurl built with HTTP/2 support (nghttp2)")
        self._http2 = http2

    def close(self) -> None:
        if self._closed:
            return
        self._sweeper.stop()
        for handle in self._handles:
            handle.close()
        assert self._multi is not None
        self._multi.close()
        # Dropping these also drops the callbacks bound to us. Closing may
        # have made libcurl ask for sockets or a timer: undo those last.
        self._multi = None
        self._handles, self._idle = [], []
        self._busy.clear()
        self._cancel_timer()
        for fd in self._watched:
            self.io_loop.remove_handler(fd)
        self._watched.clear()
        super().close()

    def fetch_impl(self, request: HTTPRequest, callback: _ResponseCallback) -> None:
        self._backlog.append((request, callback, self.io_loop.time()))
        self._start_queued()
        # Let libcurl get going on the new transfer soon.
        self._set_timeout(0)

    # --- driving libcurl from the IOLoop -------------------------------------

    def _on_curl_socket(self, event: int, fd: int, multi: Any, data: Any) -> None:
        """libcurl's ``M_SOCKETFUNCTION``: watch ``fd`` for ``event``."""
        loop = self.io_loop
        if fd in self._watched:
            # Always drop the old registration rather than update it:
            # libcurl may have closed the socket and opened another with the
            # same number in between, which epoll would refuse to modify.
            loop.remove_handler(fd)
            del self._watched[fd]
        if event == pycurl.POLL_REMOVE:
            return
        events = _WANTED_EVENTS[event]
        loop.add_handler(fd, self._on_socket_ready, events)
        self._watched[fd] = events

    def _set_timeout(self, msecs: int) -> None:
        """libcurl's ``M_TIMERFUNCTION``: run it again in ``msecs``
        milliseconds (-1: no timer)."""
        if self._multi is None:
            return  # closed (a streaming buffer may still flush late)
        self._cancel_timer()
        if msecs >= 0:
            self._timer = self.io_loop.call_later(msecs / 1000.0, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self.io_loop.remove_timeout(self._timer)
            self._timer = None

    def _on_socket_ready(self, fd: int, events: int) -> None:
        action = 0
        if events & IOLoop.READ:
            action |= pycurl.CSELECT_IN
        if events & IOLoop.WRITE:
            action |= pycurl.CSELECT_OUT
        self._socket_action(fd, action)

    def _on_timer(self) -> None:
        self._timer = None
        self._socket_action(pycurl.SOCKET_TIMEOUT, 0)
        multi = self._multi
        if multi is None:
            return
        # libcurl keeps its timers on its own clock, which may disagree with
        # ours: ask it when it wants to run next rather than rely on the
        # timer callback alone.
        wanted = multi.timeout()
        if wanted >= 0 and self._timer is None:
            self._set_timeout(wanted)

    def _socket_action(self, fd: int, action: int) -> None:
        multi = self._multi
        if multi is not None:
            self._keep_performing(functools.partial(multi.socket_action, fd, action))

    def _sweep(self) -> None:
        multi = self._multi
        if multi is not None:
            self._keep_performing(multi.socket_all)

    def _keep_performing(self, step: Callable[[], Tuple[int, int]]) -> None:
        """Calls ``step`` until libcurl stops asking to be called again,
        then deals with the transfers it has finished."""
        while True:
            try:
                status = step()[0]
            except pycurl.error as exc:
                status = exc.args[0]
            if status != pycurl.E_CALL_MULTI_PERFORM:
                break
        self._collect_finished()

    def _collect_finished(self) -> None:
        """Completes every transfer libcurl reports as done, then hands
        the freed handles to queued requests."""
        multi = self._multi
        if multi is None:
            return
        while True:
            still_queued, succeeded, failed = multi.info_read()
            for handle in succeeded:
                self._complete(handle)
            for handle, errno, message in failed:
                self._complete(handle, errno, message)
            if not still_queued:
                break
        self._start_queued()

    # --- requests in and responses out --------------------------------------

    def _start_queued(self) -> None:
        multi = self._multi
        while self._idle and self._backlog:
            request, callback, queued_at = self._backlog.popleft()
            handle = self._idle.pop()
            transfer = _Transfer(request, callback, queued_at, self.io_loop.time())
            try:
                self._configure(handle, transfer)
            except Exception as exc:
                # This request alone fails. Raising would reach whoever
                # called us: fetch()'s caller, or the IOLoop when a finished
                # transfer made room for this one.
                handle.reset()
                self._idle.append(handle)
                callback(HTTPResponse(request=request, code=599, error=exc))
                continue
            self._busy[handle] = transfer
            assert multi is not None
            multi.add_handle(handle)

    def _complete(self, handle: Any, errno: Optional[int] = None, message: Optional[str] = None) -> None:
        transfer = self._busy.pop(handle)
        assert self._multi is not None
        self._multi.remove_handle(handle)
        sink = transfer.sink
        streaming = isinstance(sink, _CurlStreamingBuffer)
        if streaming:
            cast(_CurlStreamingBuffer, sink)._detach()
        error: Optional[CurlError] = None
        effective_url: Optional[str] = None
        buffer: Optional[BytesIO] = None
        if not errno and not transfer.head_complete:
            # libcurl reports success when the connection closes in the
            # middle of a head; the response is incomplete all the same.
            errno = pycurl.E_PARTIAL_FILE
            message = "Connection closed before the end of the response head"
        if errno:
            code = 599
            error = CurlError(errno, self._failure_reason(transfer, message))
        else:
            code = handle.getinfo(pycurl.HTTP_CODE)
            effective_url = handle.getinfo(pycurl.EFFECTIVE_URL)
            kept = sink.chunks if isinstance(sink, _BodyCollector) else []
            buffer = BytesIO(b"".join(kept))
        timings = {"queue": transfer.started_at - transfer.queued_at}
        for name, option in _TIMERS:
            timings[name] = handle.getinfo(option)
        # The options set for this request (callbacks included, which hold
        # the request and us) go now; the next request sets everything anew.
        handle.reset()
        self._idle.append(handle)
        response = HTTPResponse(
            request=transfer.request, code=code, reason=transfer.reason,
            headers=transfer.headers, buffer=buffer, effective_url=effective_url,
            error=error, time_info=timings, start_time=transfer.started_wall,
            request_time=self.io_loop.time() - transfer.started_at,
        )
        if streaming:
            # The last chunks (and header lines) are still queued on the
            # IOLoop: answer after them.
            self.io_loop.add_callback(self._finish_streaming, sink, transfer.callback, response)
        else:
            self._run_callback(transfer.callback, response)

    def _failure_reason(self, transfer: _Transfer, message: Optional[str]) -> str:
        """The message of a failed transfer; ours when we caused it."""
        sink = transfer.sink
        if sink is not None and sink.body_too_large:
            return "Response body larger than max_body_size (%d bytes)" % self.max_body_size
        if transfer.header_error is not None:
            return "Malformed HTTP response header: " + transfer.header_error
        return message or ""

    def _finish_streaming(self, sink: _CurlStreamingBuffer, callback: _ResponseCallback, response: HTTPResponse) -> None:
        sink.flush()
        self._run_callback(callback, response)

    def _run_callback(self, callback: _ResponseCallback, response: HTTPResponse) -> None:
        try:
            callback(response)
        except Exception:
            self.handle_callback_exception(callback)

    def handle_callback_exception(self, callback: Any) -> None:
        """Logs the exception a request's final ``callback`` just raised."""
        app_log.error("Exception in callback %r", callback, exc_info=True)

    # --- setting up a handle ---------------------------------------------------

    def _configure(self, curl: Any, transfer: _Transfer) -> None:
        """Sets ``curl`` (as left by a reset) up for ``transfer.request``."""
        request = transfer.request
        if curl_log.isEnabledFor(logging.DEBUG):
            curl.setopt(pycurl.VERBOSE, 1)
            curl.setopt(pycurl.DEBUGFUNCTION, _log_curl_debug)
        # HTTP(S) only, for the request and for the redirects it follows.
        web = pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS
        for option in (pycurl.PROTOCOLS, pycurl.REDIR_PROTOCOLS):
            curl.setopt(option, web)
        curl.setopt(pycurl.URL, native_str(request.url))
        curl.setopt(pycurl.HTTPHEADER, _header_lines(request.headers))
        curl.setopt(
            pycurl.HEADERFUNCTION,
            functools.partial(self._on_header_line, transfer, request.header_callback),
        )
        sink = self._body_sink(curl, request)
        transfer.sink = sink
        curl.setopt(pycurl.WRITEFUNCTION, sink.write)
        self._configure_connection(curl, request)
        self._setup_proxy(curl, request)
        self._configure_tls(curl, request)
        self._setup_method(curl, request)
        self._configure_auth(curl, request)
        if threading.active_count() > 1:
            # Without a threaded or c-ares resolver libcurl times DNS out
            # with signals, which threads make unsafe: give up those
            # timeouts (prepare_curl_callback may turn them back on).
            curl.setopt(pycurl.NOSIGNAL, 1)
        if request.prepare_curl_callback is not None:
            request.prepare_curl_callback(curl)

    def _body_sink(self, curl: Any, request: HTTPRequest) -> _BodySink:
        consumer = request.streaming_callback
        if consumer is None:
            return _BodyCollector(self.max_body_size)
        if inspect.iscoroutinefunction(consumer) or gen.is_coroutine_function(consumer):
            # libcurl could not be held back while the coroutine runs.
            raise TypeError("curl_httpclient does not support coroutine streaming_callback")
        return _CurlStreamingBuffer(self, curl, consumer)

    def _configure_connection(self, curl: Any, request: HTTPRequest) -> None:
        curl.setopt(pycurl.USERAGENT, native_str(request.user_agent or _DEFAULT_USER_AGENT))
        if request.decompress_response:
            curl.setopt(pycurl.ACCEPT_ENCODING, _accept_encoding())
        if request.network_interface:
            curl.setopt(pycurl.INTERFACE, request.network_interface)
        # libcurl copes with unreachable IPv6 addresses itself; IPv6 is only
        # ruled out on request.
        if request.allow_ipv6 is False:
            curl.setopt(pycurl.IPRESOLVE, pycurl.IPRESOLVE_V4)
        connect_timeout, request_timeout = request.connect_timeout, request.request_timeout
        assert connect_timeout is not None and request_timeout is not None
        curl.setopt(pycurl.TIMEOUT_MS, int(request_timeout * 1000))
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, int(connect_timeout * 1000))
        curl.setopt(pycurl.MAXREDIRS, request.max_redirects)
        curl.setopt(pycurl.FOLLOWLOCATION, bool(request.follow_redirects))
        if self._http2:
            # Set for every transfer: a handle's reset() forgets it.
            cleartext = request.url[:5].lower() == "http:"
            if self._http2 == "prior_knowledge" and cleartext:
                version = pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
            else:
                version = pycurl.CURL_HTTP_VERSION_2TLS
            curl.setopt(pycurl.HTTP_VERSION, version)
            # Transfers started together wait for the first connection to
            # say whether it multiplexes, rather than each opening one.
            curl.setopt(pycurl.PIPEWAIT, 1)

    def _configure_tls(self, curl: Any, request: HTTPRequest) -> None:
        if request.ssl_options is not None:
            raise ValueError("ssl_options not supported in curl_httpclient")
        verify = bool(request.validate_cert)
        # VERIFYHOST 2 checks the name in the certificate; 0 does not.
        curl.setopt(pycurl.SSL_VERIFYHOST, 2 if verify else 0)
        curl.setopt(pycurl.SSL_VERIFYPEER, 1 if verify else 0)
        files = (
            (pycurl.CAINFO, request.ca_certs),
            (pycurl.SSLCERT, request.client_cert),
            (pycurl.SSLKEY, request.client_key),
        )
        for option, path in files:
            if path is not None:
                curl.setopt(option, path)

    def _configure_auth(self, curl: Any, request: HTTPRequest) -> None:
        user = request.auth_username
        if user is None:
            curl_log.debug("%s %s", request.method, request.url)
            return
        scheme = _AUTH_SCHEMES.get(request.auth_mode or "basic")
        if scheme is None:
            raise ValueError("Unsupported auth_mode %s" % request.auth_mode)
        curl.setopt(pycurl.HTTPAUTH, scheme)
        credentials = httputil.encode_username_password(user, request.auth_password or "")
        curl.setopt(pycurl.USERPWD, credentials)
        curl_log.debug("%s %s (username: %r)", request.method, request.url, user)

    def _setup_proxy(self, curl: Any, request: HTTPRequest) -> None:
        host, port = request.proxy_host, request.proxy_port
        if not (host and port):
            # As left by the reset: libcurl's default, which honours the
            # *_proxy environment variables.
            return
        scheme = _AUTH_SCHEMES.get(request.proxy_auth_mode or "basic")
        if scheme is None:
            raise ValueError("Unsupported proxy_auth_mode %s" % request.proxy_auth_mode)
        curl.setopt(pycurl.PROXY, host)
        curl.setopt(pycurl.PROXYPORT, port)
        curl.setopt(pycurl.PROXYAUTH, scheme)
        if request.proxy_username:
            secret = request.proxy_password or ""
            curl.setopt(
                pycurl.PROXYUSERPWD,
                httputil.encode_username_password(request.proxy_username, secret),
            )

    def _setup_method(self, curl: Any, request: HTTPRequest) -> None:
        method = request.method
        lenient = request.allow_nonstandard_methods
        switch = _METHOD_SWITCHES.get(method)
        if switch is not None:
            curl.setopt(switch, True)
        elif lenient or method in _CUSTOM_REQUEST_METHODS:
            curl.setopt(pycurl.CUSTOMREQUEST, method)
        else:
            raise KeyError("unknown method " + method)
        content = request.body
        if not lenient:
            _check_body_presence(method, content is not None)
        if request.body_producer is not None:
            raise ValueError("body_producer is not supported in curl_httpclient")
        if content is None and method not in _BODY_METHODS:
            return
        if method == "GET":
            # libcurl would only send it as a CUSTOMREQUEST, and servers
            # may ignore it anyway (RFC 9110 section 9.3.1).
            raise ValueError("Body must be None for GET request")
        _attach_body(curl, method, content or b"")

    def _on_header_line(
        self, transfer: _Transfer, user_callback: Optional[Callable[[str], None]], raw: bytes
    ) -> Optional[int]:
        """libcurl's ``HEADERFUNCTION``: one line of the answer's head, line
        ending included. Returning 0 (a short write) aborts the transfer."""
        text = raw.decode("latin1")
        if user_callback is not None:
            self.io_loop.add_callback(user_callback, text)
        line = text.rstrip("\r\n")
        if line.startswith("HTTP/") and transfer.held_line is None:
            transfer.head_size = 0
            transfer.head_complete = False
        transfer.head_size += len(raw)
        limit = self._max_header_size
        if limit is not None and transfer.head_size > limit:
            transfer.header_error = "response head larger than max_header_size (%d bytes)" % limit
            return 0
        if not line:
            transfer.head_complete = True
        held = transfer.held_line
        if held is not None:
            if line[:1] in (" ", "\t"):
                # RFC 9112 section 5.2: a recipient replaces obs-fold with a
                # space before reading the value.
                transfer.held_line = held + " " + line.strip(" \t")
                return None
            try:
                transfer.headers.parse_line(held)
            except httputil.HTTPInputError as exc:
                transfer.header_error = str(exc)
                return 0
            transfer.held_line = None
        if line.startswith("HTTP/"):
            # A new head (after a 1xx, or for the next redirect hop): only
            # the last one counts.
            transfer.headers.clear()
            try:
                transfer.reason = httputil.parse_response_start_line(line).reason
            except httputil.HTTPInputError:
                pass
        elif line:
            transfer.held_line = line
        return None


def _attach_body(curl: Any, method: str, content: bytes) -> None:
    """Makes ``curl`` send ``content`` as the request body."""
    source = BytesIO(content)

    def rewind(offset: int, origin: int) -> int:
        # libcurl goes back to send the body again, e.g. after a 307 or for
        # a second authentication round.
        source.seek(offset, origin)
        return cast(int, pycurl.SEEKFUNC_OK)

    curl.setopt(pycurl.READFUNCTION, source.read)
    curl.setopt(pycurl.SEEKFUNCTION, rewind)
    if method == "POST":
        curl.setopt(pycurl.POSTFIELDSIZE, len(content))
    else:
        curl.setopt(pycurl.UPLOAD, True)
        curl.setopt(pycurl.INFILESIZE, len(content))


if __name__ == "__main__":
    AsyncHTTPClient.configure(CurlAsyncHTTPClient)
    main()
