"""An `.AsyncHTTPClient` on libcurl, through ``pycurl``.

`CurlAsyncHTTPClient` drives one ``pycurl.CurlMulti`` from the `.IOLoop`:
libcurl tells us which sockets to watch (``M_SOCKETFUNCTION``) and when to
wake it (``M_TIMERFUNCTION``); the loop reports readiness back through
``socket_action``. A fixed pool of ``max_clients`` easy handles carries the
requests, and the rest wait in a queue. libcurl brings features
``simple_httpclient`` lacks: HTTP proxies, digest authentication, binding
to a network interface, connection reuse.

Handles are reused, so each is reset to libcurl's defaults before every
request: nothing (credentials, proxy, TLS client certificates, headers) can
carry over from one request to the next.

libcurl calls back from inside ``socket_action``; user callbacks
(``header_callback``, ``streaming_callback``) and the final callback never
run there, but from the IOLoop, in the order the data arrived.
"""

import collections
import functools
import inspect
import logging
import re
import threading
import time
from io import BytesIO
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple, Union

import pycurl  # type: ignore[import-untyped]

from tornado import gen, httputil, ioloop
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
from tornado.log import app_log

curl_log = logging.getLogger("tornado.curl_httpclient")

# RFC 9112 section 2.2: a bare CR or LF inside a header line would end it
# early and let the rest be read as another header (header injection).
CR_OR_LF_RE = re.compile(b"\r|\n")

# libcurl names most methods by the option that selects them.
_METHOD_OPTIONS = {
    "GET": pycurl.HTTPGET,
    "POST": pycurl.POST,
    "PUT": pycurl.UPLOAD,
    "HEAD": pycurl.NOBODY,
}
# Known methods that libcurl only sends as CUSTOMREQUEST.
_CUSTOM_METHODS = frozenset(["DELETE", "OPTIONS", "PATCH"])

_AUTH_MODES = {"basic": pycurl.HTTPAUTH_BASIC, "digest": pycurl.HTTPAUTH_DIGEST}

_POLL_EVENTS = {
    pycurl.POLL_NONE: ioloop.IOLoop.NONE,
    pycurl.POLL_IN: ioloop.IOLoop.READ,
    pycurl.POLL_OUT: ioloop.IOLoop.WRITE,
    pycurl.POLL_INOUT: ioloop.IOLoop.READ | ioloop.IOLoop.WRITE,
}


class CurlError(HTTPClientError):
    """A request that libcurl failed (code 599); ``errno`` is libcurl's
    ``CURLE_*`` error code and the message its description."""

    def __init__(self, errno: int, message: str) -> None:
        HTTPClientError.__init__(self, 599, message)
        self.errno = errno


class _CurlStreamingBuffer:
    """Carries a response body from libcurl's write callback to a
    ``streaming_callback`` on the IOLoop, with backpressure.

    `write` (libcurl's ``WRITEFUNCTION``) queues chunks and schedules
    `flush`. Once ``max_buffer_size`` bytes are waiting it pauses the
    transfer instead (libcurl keeps the refused chunk and delivers it again
    after unpausing), so that a fast server or a decompression bomb cannot
    fill our memory. `flush` hands the chunks to the callback and unpauses.
    A chunk that would take the body past the client's ``max_body_size``
    fails the transfer (a short write), with ``body_too_large`` set.
    """

    # Bytes held for the callback before the transfer is paused.
    max_buffer_size = 1024 * 1024

    def __init__(
        self,
        client: "CurlAsyncHTTPClient",
        curl: pycurl.Curl,
        callback: Callable[[bytes], Any],
    ) -> None:
        self._client = client
        self._curl: Optional[pycurl.Curl] = curl
        self._callback = callback
        self._chunks: List[bytes] = []
        self._buffered = 0
        self._received = 0
        self._flush_scheduled = False
        self.paused = False
        self.body_too_large = False

    def write(self, chunk: bytes) -> int:
        size = len(chunk)
        if self._received + size > self._client.max_body_size:
            self.body_too_large = True
            return 0
        if self._buffered and self._buffered + size > self.max_buffer_size:
            self.paused = True
            pause: int = pycurl.WRITEFUNC_PAUSE
            return pause
        self._chunks.append(chunk)
        self._buffered += size
        self._received += size
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._client.io_loop.add_callback(self.flush)
        return size

    def flush(self) -> None:
        """Delivers the waiting chunks, then resumes a paused transfer."""
        self._flush_scheduled = False
        chunks = self._chunks
        if chunks:
            self._chunks = []
            self._buffered = 0
            for chunk in chunks:
                try:
                    self._callback(chunk)
                except Exception:
                    app_log.error(
                        "Exception in callback %r", self._callback, exc_info=True
                    )
        if self.paused and self._curl is not None:
            self.paused = False
            try:
                # May call write() again right away with the refused chunk.
                self._curl.pause(pycurl.PAUSE_CONT)
            except pycurl.error:
                # The transfer failed while paused; the failure reaches
                # _finish through the multi handle.
                return
            # Older libcurls don't schedule an unpaused transfer by
            # themselves: ask for a socket_action.
            self._client._set_timeout(0)

    def _detach(self) -> None:
        """Called when the transfer is over: the handle goes back to the
        pool (and to other requests), so never touch it again."""
        self.paused = False
        self._curl = None


class _CurlBodyBuffer:
    """The write callback of a buffered response: collects the body and
    refuses it past ``max_body_size``."""

    __slots__ = ("chunks", "size", "limit", "body_too_large")

    def __init__(self, limit: int) -> None:
        self.chunks: List[bytes] = []
        self.size = 0
        self.limit = limit
        self.body_too_large = False

    def write(self, chunk: bytes) -> Optional[int]:
        size = self.size + len(chunk)
        if size > self.limit:
            self.body_too_large = True
            return 0
        self.size = size
        self.chunks.append(chunk)
        return None


class _CurlRequest:
    """What a busy easy handle is doing."""

    __slots__ = (
        "request",
        "callback",
        "headers",
        "reason",
        "pending_line",
        "header_error",
        "body",
        "queue_start_time",
        "curl_start_time",
        "curl_start_ioloop_time",
    )

    def __init__(
        self,
        request: HTTPRequest,
        callback: Callable[[HTTPResponse], None],
        queue_start_time: float,
        now: float,
    ) -> None:
        self.request = request
        self.callback = callback
        self.headers = httputil.HTTPHeaders()
        self.reason: Optional[str] = None
        # The header line being read (it may continue on the next line).
        self.pending_line: Optional[str] = None
        # Why a header line was refused, if one was.
        self.header_error: Optional[str] = None
        self.body: Union[None, _CurlBodyBuffer, _CurlStreamingBuffer] = None
        self.queue_start_time = queue_start_time
        self.curl_start_time = time.time()
        self.curl_start_ioloop_time = now


class CurlAsyncHTTPClient(AsyncHTTPClient):
    """``libcurl``-based HTTP client.

    :arg max_clients: how many requests run at once (the size of the pool
        of curl handles); the rest are queued.
    :arg defaults: request defaults, as for `.AsyncHTTPClient`.
    :arg max_body_size: the largest response body accepted, after
        decompression, buffered or streamed (100MB). A larger one fails the
        request with a `CurlError` that says so.

    Not supported: ``body_producer``, ``expect_100_continue``,
    ``ssl_options``, coroutine ``streaming_callback`` functions, and a body
    with ``GET``.
    """

    def initialize(  # type: ignore
        self,
        max_clients: int = 10,
        defaults: Optional[Dict[str, Any]] = None,
        max_body_size: int = 104857600,
    ) -> None:
        super().initialize(defaults=defaults)
        self.max_body_size = max_body_size
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_TIMERFUNCTION, self._set_timeout)
        self._multi.setopt(pycurl.M_SOCKETFUNCTION, self._handle_socket)
        self._curls = [pycurl.Curl() for _ in range(max_clients)]
        self._free_list = self._curls[:]
        self._active: Dict[pycurl.Curl, _CurlRequest] = {}
        # (request, callback, time queued) of requests waiting for a handle.
        self._requests: Deque[
            Tuple[HTTPRequest, Callable[[HTTPResponse], None], float]
        ] = collections.deque()
        self._fds: Dict[int, int] = {}
        self._timeout: Optional[object] = None
        # libcurl has been known to forget to report a socket or a timer;
        # a periodic sweep keeps a transfer from hanging if it does.
        self._force_timeout_callback = ioloop.PeriodicCallback(
            self._handle_force_timeout, 1000
        )
        self._force_timeout_callback.start()
        # Some libcurls initialize the multi handle lazily and crash when
        # it is destroyed unused: use it once.
        dummy = pycurl.Curl()
        self._multi.add_handle(dummy)
        self._multi.remove_handle(dummy)
        dummy.close()

    def close(self) -> None:
        if self._closed:
            return
        self._force_timeout_callback.stop()
        for curl in self._curls:
            curl.close()
        self._multi.close()
        # Unusable from now on; dropping them also drops their callbacks,
        # which are bound to us. libcurl may have asked for sockets or a
        # timer while closing: undo those last.
        self._multi = None
        self._curls = []
        self._free_list = []
        self._active.clear()
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None
        for fd in self._fds:
            self.io_loop.remove_handler(fd)
        self._fds.clear()
        super().close()

    def fetch_impl(
        self, request: HTTPRequest, callback: Callable[[HTTPResponse], None]
    ) -> None:
        self._requests.append((request, callback, self.io_loop.time()))
        self._process_queue()
        self._set_timeout(0)

    def _handle_socket(self, event: int, fd: int, multi: Any, data: bytes) -> None:
        """libcurl's M_SOCKETFUNCTION: watch ``fd`` for ``event``."""
        if event == pycurl.POLL_REMOVE:
            if fd in self._fds:
                self.io_loop.remove_handler(fd)
                del self._fds[fd]
            return
        events = _POLL_EVENTS[event]
        # libcurl may close a socket and open another with the same number
        # without telling us in between; epoll forgets closed fds, so an
        # update could fail. Always remove and add again.
        if fd in self._fds:
            self.io_loop.remove_handler(fd)
        self.io_loop.add_handler(fd, self._handle_events, events)
        self._fds[fd] = events

    def _set_timeout(self, msecs: int) -> None:
        """libcurl's M_TIMERFUNCTION: call socket_action in ``msecs``
        (-1: never)."""
        if self._multi is None:
            return  # closed (e.g. a streaming buffer flushed late)
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None
        if msecs >= 0:
            self._timeout = self.io_loop.call_later(
                msecs / 1000.0, self._handle_timeout
            )

    def _socket_action(self, fd: int, action: int) -> None:
        if self._multi is None:
            return
        while True:
            try:
                ret, _ = self._multi.socket_action(fd, action)
            except pycurl.error as e:
                ret = e.args[0]
            if ret != pycurl.E_CALL_MULTI_PERFORM:
                break
        self._finish_pending_requests()

    def _handle_events(self, fd: int, events: int) -> None:
        action = 0
        if events & ioloop.IOLoop.READ:
            action |= pycurl.CSELECT_IN
        if events & ioloop.IOLoop.WRITE:
            action |= pycurl.CSELECT_OUT
        self._socket_action(fd, action)

    def _handle_timeout(self) -> None:
        self._timeout = None
        self._socket_action(pycurl.SOCKET_TIMEOUT, 0)
        if self._multi is None:
            return
        # libcurl measures its timers on its own clock, which can disagree
        # with ours: ask it what it wants next instead of trusting the
        # callback alone.
        new_timeout = self._multi.timeout()
        if new_timeout >= 0 and self._timeout is None:
            self._set_timeout(new_timeout)

    def _handle_force_timeout(self) -> None:
        while True:
            try:
                ret, _ = self._multi.socket_all()
            except pycurl.error as e:
                ret = e.args[0]
            if ret != pycurl.E_CALL_MULTI_PERFORM:
                break
        self._finish_pending_requests()

    def _finish_pending_requests(self) -> None:
        """Completes the transfers libcurl reports done, then starts queued
        requests on the handles they free."""
        if self._multi is None:
            return
        while True:
            num_q, ok_list, err_list = self._multi.info_read()
            for curl in ok_list:
                self._finish(curl)
            for curl, errnum, errmsg in err_list:
                self._finish(curl, errnum, errmsg)
            if num_q == 0:
                break
        self._process_queue()

    def _process_queue(self) -> None:
        while self._free_list and self._requests:
            curl = self._free_list.pop()
            request, callback, queue_start_time = self._requests.popleft()
            state = _CurlRequest(request, callback, queue_start_time, self.io_loop.time())
            try:
                self._curl_setup_request(curl, state)
            except Exception as e:
                # Fail this request alone. (Raising would reach whoever
                # called us: the fetch() caller, or the IOLoop when a
                # finishing transfer started this one.)
                curl.reset()
                self._free_list.append(curl)
                callback(HTTPResponse(request=request, code=599, error=e))
            else:
                self._active[curl] = state
                self._multi.add_handle(curl)

    def _finish(
        self,
        curl: pycurl.Curl,
        curl_error: Optional[int] = None,
        curl_message: Optional[str] = None,
    ) -> None:
        state = self._active.pop(curl)
        self._multi.remove_handle(curl)
        body = state.body
        if isinstance(body, _CurlStreamingBuffer):
            body._detach()
        if curl_error:
            assert curl_message is not None
            if body is not None and body.body_too_large:
                curl_message = "Response body larger than max_body_size (%d bytes)" % (
                    self.max_body_size
                )
            elif state.header_error is not None:
                curl_message = "Malformed HTTP response header: " + state.header_error
            error: Optional[CurlError] = CurlError(curl_error, curl_message)
            code = 599
            effective_url = None
            buffer = None
        else:
            error = None
            code = curl.getinfo(pycurl.HTTP_CODE)
            effective_url = curl.getinfo(pycurl.EFFECTIVE_URL)
            if isinstance(body, _CurlBodyBuffer):
                buffer = BytesIO(b"".join(body.chunks))
            else:
                buffer = BytesIO()
        # See curl_easy_getinfo for what each of these measures.
        time_info = dict(
            queue=state.curl_start_ioloop_time - state.queue_start_time,
            namelookup=curl.getinfo(pycurl.NAMELOOKUP_TIME),
            connect=curl.getinfo(pycurl.CONNECT_TIME),
            appconnect=curl.getinfo(pycurl.APPCONNECT_TIME),
            pretransfer=curl.getinfo(pycurl.PRETRANSFER_TIME),
            starttransfer=curl.getinfo(pycurl.STARTTRANSFER_TIME),
            total=curl.getinfo(pycurl.TOTAL_TIME),
            redirect=curl.getinfo(pycurl.REDIRECT_TIME),
        )
        # Drop this request's callbacks and options now; the handle is
        # set up from scratch for the next one anyway.
        curl.reset()
        self._free_list.append(curl)
        response = HTTPResponse(
            request=state.request,
            code=code,
            headers=state.headers,
            buffer=buffer,
            effective_url=effective_url,
            error=error,
            reason=state.reason,
            request_time=self.io_loop.time() - state.curl_start_ioloop_time,
            start_time=state.curl_start_time,
            time_info=time_info,
        )
        if isinstance(body, _CurlStreamingBuffer):
            # The last chunks (and header lines) are still on their way
            # through the IOLoop: answer after them.
            self.io_loop.add_callback(self._finish_streaming, body, state.callback, response)
        else:
            self._run_callback(state.callback, response)

    def _finish_streaming(
        self,
        body: _CurlStreamingBuffer,
        callback: Callable[[HTTPResponse], None],
        response: HTTPResponse,
    ) -> None:
        body.flush()
        self._run_callback(callback, response)

    def _run_callback(
        self, callback: Callable[[HTTPResponse], None], response: HTTPResponse
    ) -> None:
        try:
            callback(response)
        except Exception:
            self.handle_callback_exception(callback)

    def handle_callback_exception(self, callback: Any) -> None:
        """Logs an exception raised by a request's final callback."""
        app_log.error("Exception in callback %r", callback, exc_info=True)

    def _curl_setup_request(self, curl: pycurl.Curl, state: _CurlRequest) -> None:
        """Configures ``curl`` (fresh from a reset) for ``state.request``."""
        request = state.request
        if curl_log.isEnabledFor(logging.DEBUG):
            curl.setopt(pycurl.VERBOSE, 1)
            curl.setopt(pycurl.DEBUGFUNCTION, _curl_debug)
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.REDIR_PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.URL, native_str(request.url))

        headers = request.headers
        # libcurl's own "Expect: 100-continue" waits for servers that never
        # answer it; an empty value is the documented way to turn it off.
        # Likewise for the "Pragma: no-cache" it adds.
        if "Expect" not in headers:
            headers["Expect"] = ""
        if "Pragma" not in headers:
            headers["Pragma"] = ""
        encoded_headers = []
        for k, v in headers.get_all():
            line = b"%s: %s" % (utf8(k), v.encode("latin1") if isinstance(v, str) else v)
            if CR_OR_LF_RE.search(line):
                raise ValueError("Illegal characters (CR or LF) in header: %r" % line)
            encoded_headers.append(line)
        curl.setopt(pycurl.HTTPHEADER, encoded_headers)
        curl.setopt(
            pycurl.HEADERFUNCTION,
            functools.partial(self._curl_header_callback, state, request.header_callback),
        )

        streaming_callback = request.streaming_callback
        if streaming_callback is not None:
            if inspect.iscoroutinefunction(streaming_callback) or gen.is_coroutine_function(
                streaming_callback
            ):
                raise TypeError(
                    "curl_httpclient does not support coroutine streaming_callback"
                )
            body: Union[_CurlStreamingBuffer, _CurlBodyBuffer] = _CurlStreamingBuffer(
                self, curl, streaming_callback
            )
        else:
            body = _CurlBodyBuffer(self.max_body_size)
        state.body = body
        curl.setopt(pycurl.WRITEFUNCTION, body.write)

        curl.setopt(pycurl.FOLLOWLOCATION, bool(request.follow_redirects))
        curl.setopt(pycurl.MAXREDIRS, request.max_redirects)
        assert request.connect_timeout is not None
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, int(1000 * request.connect_timeout))
        assert request.request_timeout is not None
        curl.setopt(pycurl.TIMEOUT_MS, int(1000 * request.request_timeout))
        curl.setopt(
            pycurl.USERAGENT,
            native_str(request.user_agent or "Mozilla/5.0 (compatible; pycurl)"),
        )
        if request.network_interface:
            curl.setopt(pycurl.INTERFACE, request.network_interface)
        if request.decompress_response:
            curl.setopt(pycurl.ACCEPT_ENCODING, "gzip,deflate")
        self._setup_proxy(curl, request)
        if request.validate_cert:
            curl.setopt(pycurl.SSL_VERIFYPEER, 1)
            curl.setopt(pycurl.SSL_VERIFYHOST, 2)
        else:
            curl.setopt(pycurl.SSL_VERIFYPEER, 0)
            curl.setopt(pycurl.SSL_VERIFYHOST, 0)
        if request.ca_certs is not None:
            curl.setopt(pycurl.CAINFO, request.ca_certs)
        # libcurl copes with unreachable IPv6 addresses by itself, so IPv6 is
        # only turned off on request.
        if request.allow_ipv6 is False:
            curl.setopt(pycurl.IPRESOLVE, pycurl.IPRESOLVE_V4)
        self._setup_method(curl, request)
        if request.auth_username is not None:
            assert request.auth_password is not None
            mode = _AUTH_MODES.get(request.auth_mode or "basic")
            if mode is None:
                raise ValueError("Unsupported auth_mode %s" % request.auth_mode)
            curl.setopt(pycurl.HTTPAUTH, mode)
            curl.setopt(
                pycurl.USERPWD,
                httputil.encode_username_password(
                    request.auth_username, request.auth_password
                ),
            )
            curl_log.debug(
                "%s %s (username: %r)", request.method, request.url, request.auth_username
            )
        else:
            curl_log.debug("%s %s", request.method, request.url)
        if request.client_cert is not None:
            curl.setopt(pycurl.SSLCERT, request.client_cert)
        if request.client_key is not None:
            curl.setopt(pycurl.SSLKEY, request.client_key)
        if request.ssl_options is not None:
            raise ValueError("ssl_options not supported in curl_httpclient")
        if threading.active_count() > 1:
            # libcurl's signal-based DNS timeouts are not thread safe. (This
            # disables DNS timeouts when libcurl has neither threaded nor
            # c-ares resolution; prepare_curl_callback can set it anyway.)
            curl.setopt(pycurl.NOSIGNAL, 1)
        if request.prepare_curl_callback is not None:
            request.prepare_curl_callback(curl)

    def _setup_proxy(self, curl: pycurl.Curl, request: HTTPRequest) -> None:
        if not (request.proxy_host and request.proxy_port):
            # libcurl's default (after the reset): the *_proxy environment
            # variables, if any.
            return
        curl.setopt(pycurl.PROXY, request.proxy_host)
        curl.setopt(pycurl.PROXYPORT, request.proxy_port)
        if request.proxy_username:
            assert request.proxy_password is not None
            curl.setopt(
                pycurl.PROXYUSERPWD,
                httputil.encode_username_password(
                    request.proxy_username, request.proxy_password
                ),
            )
        mode = _AUTH_MODES.get(request.proxy_auth_mode or "basic")
        if mode is None:
            raise ValueError("Unsupported proxy_auth_mode %s" % request.proxy_auth_mode)
        curl.setopt(pycurl.PROXYAUTH, mode)

    def _setup_method(self, curl: pycurl.Curl, request: HTTPRequest) -> None:
        method = request.method
        option = _METHOD_OPTIONS.get(method)
        if option is not None:
            curl.setopt(option, True)
        elif request.allow_nonstandard_methods or method in _CUSTOM_METHODS:
            curl.setopt(pycurl.CUSTOMREQUEST, method)
        else:
            raise KeyError("unknown method " + method)
        body = request.body
        body_expected = method in _BODY_METHODS
        body_present = body is not None
        if not request.allow_nonstandard_methods:
            _check_body_presence(method, body_present)
        if request.body_producer is not None:
            raise ValueError("body_producer is not supported in curl_httpclient")
        if not (body_expected or body_present):
            return
        if method == "GET":
            # libcurl only sends a body with GET as a CUSTOMREQUEST, and a
            # server may not look at it anyway (RFC 9110 section 9.3.1).
            raise ValueError("Body must be None for GET request")
        data = body or b""
        request_buffer = BytesIO(data)

        def seek(offset: int, origin: int) -> int:
            # libcurl rewinds to send the body again (after a 307, or on
            # an authentication round trip).
            request_buffer.seek(offset, origin)
            ok: int = pycurl.SEEKFUNC_OK
            return ok

        curl.setopt(pycurl.READFUNCTION, request_buffer.read)
        curl.setopt(pycurl.SEEKFUNCTION, seek)
        if method == "POST":
            curl.setopt(pycurl.POSTFIELDSIZE, len(data))
        else:
            curl.setopt(pycurl.UPLOAD, True)
            curl.setopt(pycurl.INFILESIZE, len(data))

    def _curl_header_callback(
        self,
        state: _CurlRequest,
        header_callback: Optional[Callable[[str], None]],
        header_line_bytes: bytes,
    ) -> Optional[int]:
        header_line = header_line_bytes.decode("latin1")
        if header_callback is not None:
            self.io_loop.add_callback(header_callback, header_line)
        line = header_line.rstrip("\r\n")
        if line[:1] in (" ", "\t") and state.pending_line is not None:
            # RFC 9112 section 5.2: a user agent replaces obs-fold with a
            # space before interpreting the value.
            state.pending_line += " " + line.strip(" \t")
            return None
        if state.pending_line is not None:
            try:
                state.headers.parse_line(state.pending_line)
            except httputil.HTTPInputError as e:
                state.header_error = str(e)
                return 0  # a short write: libcurl fails the transfer
            state.pending_line = None
        if line.startswith("HTTP/"):
            # A new response (after a redirect or a 1xx): start over.
            state.headers.clear()
            try:
                state.reason = httputil.parse_response_start_line(line).reason
            except httputil.HTTPInputError:
                pass
        elif line:
            state.pending_line = line
        return None


def _curl_debug(debug_type: int, debug_msg: bytes) -> None:
    debug_types = ("I", "<", ">", "<", ">")
    if debug_type == 0:
        curl_log.debug("%s", native_str(debug_msg).strip())
    elif debug_type in (1, 2):
        for line in native_str(debug_msg).splitlines():
            curl_log.debug("%s %s", debug_types[debug_type], line)
    elif debug_type == 4:
        curl_log.debug("%s %r", debug_types[debug_type], debug_msg)


if __name__ == "__main__":
    AsyncHTTPClient.configure(CurlAsyncHTTPClient)
    main()
