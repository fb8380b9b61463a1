"""The client side of an HTTP/2 connection (RFC 9113), for
`.SimpleAsyncHTTPClient`.

This module sits beside `tornado.http1connection` in the HTTP layer and
builds on `tornado.iostream` and the ``h2`` package (python-hyper's sans-IO
HTTP/2 state machine, with ``hpack`` and ``hyperframe``), installed with
the ``tornado[http2]`` extra.  All protocol state (frames, HPACK, stream
states, SETTINGS, both directions of flow control) lives in ``h2``'s
``H2Connection``: `HTTP2ClientConnection` only moves bytes between it and
an `.IOStream` and hands the events it reports to the stream they belong to.

One `HTTP2ClientConnection` carries many requests at once, each on an
`HTTP2ClientStream`: the client sends a request's head and body through
it and reads the answer into an `.HTTPMessageDelegate`, as it would with
`.HTTP1Connection` (content codings are decoded here too).  Received data
is acknowledged to the server (its flow-control window reopened) only once
the delegate has consumed it, so a slow ``streaming_callback`` holds the
server back; request bodies leave no faster than the server's windows
allow.

Nothing here is public API of Tornado: `.SimpleAsyncHTTPClient` uses it when
constructed with ``http2=True`` (see its documentation).
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import re
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from tornado.httputil import (
    HTTPHeaders,
    HTTPInputError,
    HTTPMessageDelegate,
    ResponseStartLine,
    _content_decoder,
    _ContentDecoder,
    _DECODERS,
    responses,
)
from tornado.iostream import IOStream, StreamClosedError
from tornado.log import gen_log

try:
    import h2.config
    import h2.connection
    import h2.errors
    import h2.events
    import h2.exceptions
    import h2.settings
except ImportError:  # pragma: no cover - depends on the environment
    h2 = None  # type: ignore[assignment]

__all__ = [
    "HTTP2ClientConnection",
    "HTTP2ClientStream",
    "StreamResetError",
    "ConnectionTerminatedError",
    "require_h2",
]

# The version shown in the status line given to header_callback.
_VERSION = "HTTP/2"

# Headers that describe an HTTP/1.1 connection: RFC 9113 section 8.2.2
# forbids them in HTTP/2 (Host becomes the :authority pseudo-header).
_CONNECTION_HEADERS = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "host",
    )
)

# RFC 9110 section 5.1: field-name = token (tchar: visible ASCII but
# delimiters).
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9113 section 8.2.1: never in a field value.
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")

# Each stream's receive window: what the server may send before the client
# acknowledges any of it. 1MB keeps a fast link busy; memory per stream is
# bounded by it since data is only acknowledged once consumed.
_STREAM_WINDOW = 1 << 20
# The connection's receive window, shared by all its streams.
_CONNECTION_WINDOW = 16 << 20
# How many streams to open before the server's SETTINGS say how many it
# allows.  RFC 9113 allows any number, but a server with a lower limit
# (h2-based ones among them) answers a burst over it with a connection
# error that fails the streams it took: the others wait one round trip.
_ASSUMED_MAX_STREAMS = 1
# Decoded bytes handed to the delegate at a time.
_CHUNK_SIZE = 65536


def require_h2() -> None:
    """Raises `ImportError` naming the extra to install when the ``h2``
    package is missing."""
    if h2 is None:
        raise ImportError(
            "HTTP/2 needs the h2 package: pip install 'tornado[http2]' (or: pip install h2)"
        )


class StreamResetError(Exception):
    """The server reset a request's stream (RST_STREAM) before its answer
    was complete; ``error_code`` is the HTTP/2 error code it gave."""

    def __init__(self, error_code: int) -> None:
        self.error_code = error_code
        super().__init__("stream reset by server: %s" % _error_name(error_code))


class ConnectionTerminatedError(Exception):
    """The connection ended (GOAWAY, or a protocol error) before a
    request's answer was complete.

    ``retryable`` is true when the server cannot have processed the
    request (its stream was above the GOAWAY's last stream id, or refused
    with REFUSED_STREAM): sending it again on another connection is safe.
    ``unanswered`` is true when the connection closed without a GOAWAY
    before the server said anything on the stream: it may or may not have
    processed the request (an idempotent one may be sent again).
    """

    def __init__(
        self, message: str, retryable: bool = False, unanswered: bool = False
    ) -> None:
        self.retryable = retryable
        self.unanswered = unanswered
        super().__init__(message)


def _error_name(code: int) -> str:
    try:
        return "%s (0x%x)" % (h2.errors.ErrorCodes(code).name, code)
    except ValueError:
        return "0x%x" % code


# What an HTTP2ClientStream's reader is handed, in order.
_Event = Tuple[Any, ...]


class HTTP2ClientStream:
    """One request/response exchange on an `HTTP2ClientConnection`.

    The sending half: `send_headers`, then any number of `write` calls
    (each returns a future resolved when the server's windows let the
    chunk out), then `finish`.  The receiving half: `read_response`
    delivers the answer to a delegate.  `reset` abandons the exchange
    (RST_STREAM CANCEL) from either side of it.
    """

    def __init__(self, connection: "HTTP2ClientConnection", stream_id: int) -> None:
        self.connection = connection
        self.stream_id = stream_id
        # Set by the client when it sent "Expect: 100-continue" and waits
        # for the go-ahead: only then is a 100 response passed on (cleared
        # when the client stops waiting).
        self.expect_continue = False
        # Request body chunks not yet given to h2, with the futures their
        # writers wait on.
        self._outbound: Deque[Tuple[memoryview, "asyncio.Future[None]"]] = (
            collections.deque()
        )
        self._end_requested = False
        self._local_closed = False
        self._pump_scheduled = False
        self._headers_pending = False
        self._headers_sent = False
        # The answer, as the connection reports it.
        self._events: Deque[_Event] = collections.deque()
        self._wakeup: Optional["asyncio.Future[None]"] = None
        self._remote_closed = False
        self._done = False
        # Whether the server has said anything on this stream yet.
        self.answered = False

    # --- sending -------------------------------------------------------------

    def send_headers(
        self, headers: List[Tuple[str, str]], end_stream: bool, flush: bool = True
    ) -> None:
        """Sends the request head: ``headers`` starts with the
        pseudo-headers; HTTP/1.1 connection headers are dropped here.
        With ``flush=False`` the frames wait for the next write (so that
        a head and a short body leave in one segment)."""
        fields = []
        for name, value in headers:
            if not isinstance(value, str):
                value = (
                    value.decode("latin-1") if isinstance(value, bytes) else str(value)
                )
            lowered = name.lower()
            if lowered in _CONNECTION_HEADERS:
                continue
            if lowered == "te" and value.strip().lower() != "trailers":
                continue
            if not name.startswith(":") and _FIELD_NAME.fullmatch(name) is None:
                raise ValueError("Invalid header name: %r" % name)
            if _FORBIDDEN_IN_VALUE.search(value) is not None:
                # HPACK would carry them, but they split the field for any
                # HTTP/1.1 hop behind the server (RFC 9113 section 8.2.1).
                raise ValueError(
                    "Illegal characters (CR, LF or NUL) in header: %r" % value
                )
            fields.append((lowered.encode("latin-1"), value.encode("latin-1")))
        conn = self.connection
        conn._h2.send_headers(self.stream_id, fields, end_stream=end_stream)
        self._headers_sent = True
        if end_stream:
            self._local_closed = True
            self._end_requested = True
        if flush:
            conn._schedule_flush()
        else:
            self._headers_pending = True
            self._schedule_pump()

    def write(self, chunk: bytes) -> "asyncio.Future[None]":
        """Queues ``chunk`` of the request body; the future is resolved once
        it has been handed to the connection (windows permitting)."""
        future: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        if self._done or self.connection.closed:
            future.set_exception(StreamClosedError())
            future.exception()  # a caller that gives up need not see it
            return future
        if not chunk:
            future.set_result(None)
            return future
        self._outbound.append((memoryview(chunk), future))
        self._schedule_pump()
        return future

    def finish(self) -> None:
        """Ends the request body once what was written has been sent."""
        self._end_requested = True
        self._schedule_pump()

    def _schedule_pump(self) -> None:
        # Sending waits for the end of the current callback, so that what
        # it writes leaves together: the head with the first piece of the
        # body, the last piece with END_STREAM.
        if not self._pump_scheduled:
            self._pump_scheduled = True
            asyncio.get_running_loop().call_soon(self._pump)

    def _pump(self) -> None:
        """Sends as much of the queued body as the windows allow."""
        self._pump_scheduled = False
        conn = self.connection
        if self._done or self._local_closed or conn.closed:
            return
        machine = conn._h2
        sent = False
        try:
            while self._outbound:
                view, future = self._outbound[0]
                room = min(
                    machine.local_flow_control_window(self.stream_id),
                    machine.max_outbound_frame_size,
                )
                if room <= 0:
                    break
                piece, rest = view[:room], view[room:]
                last = not rest and len(self._outbound) == 1 and self._end_requested
                machine.send_data(self.stream_id, piece.tobytes(), end_stream=last)
                sent = True
                if last:
                    self._local_closed = True
                if rest:
                    self._outbound[0] = (rest, future)
                else:
                    self._outbound.popleft()
                    if not future.done():
                        future.set_result(None)
            if not self._outbound and self._end_requested and not self._local_closed:
                machine.end_stream(self.stream_id)
                self._local_closed = True
                sent = True
        except h2.exceptions.ProtocolError:
            # The server closed or reset the stream (or the connection)
            # while we were sending.
            self._fail_writes()
            return
        if sent or self._headers_pending:
            self._headers_pending = False
            conn._schedule_flush()
            if self._local_closed and self._remote_closed:
                self._close()

    def _fail_writes(self) -> None:
        while self._outbound:
            _view, future = self._outbound.popleft()
            if not future.done():
                future.set_exception(StreamClosedError())
                future.exception()

    def reset(self, error_code: int = 0x8) -> None:
        """Abandons the exchange: RST_STREAM (CANCEL by default) unless the
        stream is already closed, and no more delivery to the reader."""
        if self._done:
            return
        conn = self.connection
        if not conn.closed and self._headers_sent:
            try:
                conn._h2.reset_stream(self.stream_id, error_code)
            except h2.exceptions.ProtocolError:
                pass  # closed meanwhile: nothing to reset
            self._return_unread_window()
            conn._schedule_flush()
        self._push(("lost", StreamClosedError()))
        self._close()

    def _return_unread_window(self) -> None:
        """Gives the connection window back for data that will never be read."""
        unread = sum(event[2] for event in self._events if event[0] == "data")
        if unread:
            self.connection._acknowledge(self.stream_id, unread)
            self._events = collections.deque(e for e in self._events if e[0] != "data")

    def _close(self) -> None:
        if not self._done:
            self._done = True
            self._fail_writes()
            self.connection._stream_closed(self)

    # --- receiving -----------------------------------------------------------

    def _push(self, event: _Event) -> None:
        self._events.append(event)
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            if not wakeup.done():
                wakeup.set_result(None)

    async def _next(self) -> _Event:
        while not self._events:
            self._wakeup = asyncio.get_running_loop().create_future()
            await self._wakeup
        return self._events.popleft()

    async def read_response(
        self,
        delegate: HTTPMessageDelegate,
        max_header_size: int,
        max_body_size: int,
        decompress: bool,
    ) -> None:
        """Delivers the answer to ``delegate`` (``headers_received``,
        ``data_received`` for each piece of the body, ``finish``).

        Raises `StreamResetError` or `ConnectionTerminatedError` when the
        answer is cut short, `.HTTPInputError` for an answer over the
        limits (the stream is reset then), `.StreamClosedError` once
        `reset` was called.
        """
        decoder: Optional[_ContentDecoder] = None
        coding = ""
        received = decoded = 0
        while True:
            event = await self._next()
            kind = event[0]
            if kind == "data":
                _kind, data, flow_length = event
                received += len(data)
                if received > max_body_size:
                    self.reset()
                    raise HTTPInputError(
                        "body too large (over %d bytes)" % max_body_size
                    )
                if coding and decoder is None and data:
                    decoder = _content_decoder(coding, _DECODERS)
                if decoder is None:
                    await _deliver(delegate, data)
                else:
                    while True:
                        try:
                            piece = decoder.decode(data, _CHUNK_SIZE)
                        except Exception as e:
                            self.reset()
                            raise HTTPInputError(
                                "invalid %s data: %s" % (coding, e)
                            ) from e
                        decoded += len(piece)
                        if decoded > max_body_size:
                            self.reset()
                            raise HTTPInputError("decompressed body too large")
                        if piece:
                            await _deliver(delegate, piece)
                        if not decoder.pending:
                            break
                        data = b""
                # Consumed: the server may send that much more.
                self.connection._acknowledge(self.stream_id, flow_length)
            elif kind == "headers":
                _kind, fields, informational = event
                start_line, headers, size = _response_head(fields)
                if size > max_header_size:
                    self.reset()
                    raise HTTPInputError("response headers too large (%d bytes)" % size)
                if informational:
                    # Only a 100 the request asked for, and still waits
                    # for, means anything here.
                    if start_line.code == 100 and self.expect_continue:
                        self.expect_continue = False
                        await _maybe_await(
                            delegate.headers_received(start_line, headers)
                        )
                    continue
                # A final answer instead of the go-ahead: no body goes out.
                self.expect_continue = False
                if decompress and "Content-Encoding" in headers:
                    coding = headers["Content-Encoding"].strip().lower()
                    if coding not in _DECODERS:
                        coding = ""
                    else:
                        headers.add(
                            "X-Consumed-Content-Encoding", headers["Content-Encoding"]
                        )
                        del headers["Content-Encoding"]
                await _maybe_await(delegate.headers_received(start_line, headers))
            elif kind == "end":
                if decoder is not None:
                    try:
                        tail = decoder.finish()
                    except Exception as e:
                        raise HTTPInputError("invalid %s data: %s" % (coding, e)) from e
                    if tail:
                        await _deliver(delegate, tail)
                if not self._local_closed:
                    # The server answered before taking the whole body (or
                    # before the go-ahead we waited for): stop sending it.
                    self.reset(0)
                delegate.finish()
                return
            elif kind == "reset":
                raise StreamResetError(event[1])
            else:  # "lost"
                raise event[1]


async def _maybe_await(outcome: Any) -> None:
    if outcome is not None and inspect.isawaitable(outcome):
        await outcome


async def _deliver(delegate: HTTPMessageDelegate, data: bytes) -> None:
    outcome = delegate.data_received(data)
    if outcome is not None and inspect.isawaitable(outcome):
        await outcome


def _response_head(
    fields: List[Tuple[bytes, bytes]],
) -> Tuple[ResponseStartLine, HTTPHeaders, int]:
    """The status line, headers and RFC 9113 size (section 6.5.2) of a
    decoded header list."""
    headers = HTTPHeaders()
    code = 0
    size = 0
    for name, value in fields:
        size += len(name) + len(value) + 32
        if name == b":status":
            code = int(value)
        elif not name.startswith(b":"):
            headers.add(name.decode("latin-1"), value.decode("latin-1"))
    reason = responses.get(code, "Unknown")
    return ResponseStartLine(_VERSION, code, reason), headers, size


class HTTP2ClientConnection:
    """The client end of one HTTP/2 connection over an `.IOStream`.

    Made once the stream is connected and (for ``https``) ALPN chose
    ``h2``; it sends the connection preface and SETTINGS at once.  Streams
    are opened with `open_stream` while `can_open_stream` says the
    server's SETTINGS_MAX_CONCURRENT_STREAMS allows one more; `wait_for_room`
    waits for that.  ``on_closed`` is called once when the connection can
    no longer carry new requests (closed, or told to go away); ``on_idle``
    whenever its last open stream closes.
    """

    def __init__(
        self,
        stream: IOStream,
        max_header_size: int,
        on_closed: Callable[["HTTP2ClientConnection"], None],
        on_idle: Callable[["HTTP2ClientConnection"], None],
    ) -> None:
        require_h2()
        self.stream = stream
        self.closed = False
        # False once the server said GOAWAY: no new streams here.
        self.accepting = True
        self._on_closed: Optional[Callable[[HTTP2ClientConnection], None]] = on_closed
        self._on_idle = on_idle
        self._streams: Dict[int, HTTP2ClientStream] = {}
        self._room_waiters: Deque["asyncio.Future[None]"] = collections.deque()
        self._settings_received = False
        self._flush_scheduled = False
        # Outbound headers are checked by HTTP2ClientStream.send_headers
        # (h2's own checks cost more than the rest of sending a request).
        config = h2.config.H2Configuration(
            client_side=True, header_encoding=None, validate_outbound_headers=False
        )
        machine = _GracefulH2Connection(config=config)
        codes = h2.settings.SettingCodes
        machine.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                codes.ENABLE_PUSH: 0,
                codes.INITIAL_WINDOW_SIZE: _STREAM_WINDOW,
                codes.MAX_HEADER_LIST_SIZE: max_header_size,
            },
        )
        self._h2 = machine
        machine.initiate_connection()
        machine.increment_flow_control_window(_CONNECTION_WINDOW - 65535)
        # The HPACK decoder stops a header list that decodes to far more
        # than we accept (an HPACK bomb); between the two limits only the
        # stream concerned fails.
        machine.decoder.max_header_list_size = max(2 * max_header_size, 65536)
        self.streams_opened = 0
        stream.set_nodelay(True)
        self._flush()
        # Kept: the loop holds only a weak reference to a task.
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    # --- streams -------------------------------------------------------------

    def _max_streams(self) -> int:
        limit = self._h2.remote_settings.max_concurrent_streams
        if not self._settings_received:
            limit = min(limit, _ASSUMED_MAX_STREAMS)
        return limit

    def can_open_stream(self) -> bool:
        """Whether a new stream may be opened right now."""
        return (
            not self.closed
            and self.accepting
            and len(self._streams) < self._max_streams()
        )

    @property
    def open_streams(self) -> int:
        return len(self._streams)

    async def wait_for_room(self) -> None:
        """Waits until `can_open_stream` (or the connection stops taking
        streams: check again after)."""
        while not self.can_open_stream() and not self.closed and self.accepting:
            waiter: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
            self._room_waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._room_waiters:
                    self._room_waiters.remove(waiter)

    def _wake_room_waiters(self) -> None:
        room = self._max_streams() - len(self._streams)
        if self.closed or not self.accepting:
            room = len(self._room_waiters)
        while room > 0 and self._room_waiters:
            waiter = self._room_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                room -= 1

    def open_stream(self) -> HTTP2ClientStream:
        """A new stream for one request (check `can_open_stream` first)."""
        if not self.can_open_stream():
            raise ConnectionTerminatedError("no room for a new stream", retryable=True)
        stream_id = self._h2.get_next_available_stream_id()
        stream = HTTP2ClientStream(self, stream_id)
        self._streams[stream_id] = stream
        self.streams_opened += 1
        return stream

    def _stream_closed(self, stream: HTTP2ClientStream) -> None:
        if self._streams.pop(stream.stream_id, None) is None:
            return
        self._wake_room_waiters()
        if not self._streams:
            self._on_idle(self)

    def _acknowledge(self, stream_id: int, length: int) -> None:
        if self.closed or not length:
            return
        self._h2.acknowledge_received_data(length, stream_id)
        self._schedule_flush()

    # --- moving bytes --------------------------------------------------------

    def _schedule_flush(self) -> None:
        """Sends what h2 has queued at the end of this loop iteration: the
        frames of all the streams that had something to say in it leave
        in one write (one system call instead of one per request)."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        data = self._h2.data_to_send()
        if data and not self.closed:
            try:
                self.stream.write(data).add_done_callback(_ignore_write_outcome)
            except StreamClosedError:
                pass  # the read loop sees the close and cleans up

    async def _read_loop(self) -> None:
        error: Optional[BaseException] = None
        lost = False
        try:
            while True:
                data = await self.stream.read_bytes(65536, partial=True)
                try:
                    events = self._h2.receive_data(data)
                except h2.exceptions.ProtocolError as e:
                    # h2 has queued the GOAWAY that says why.
                    self._flush()
                    error = ConnectionTerminatedError("HTTP/2 protocol error: %s" % e)
                    break
                for event in events:
                    self._handle_event(event)
                self._flush()
                if self.closed:
                    return
        except StreamClosedError as e:
            error = e.real_error or ConnectionTerminatedError("connection closed")
            lost = True
        except Exception as e:
            gen_log.error("Error in HTTP/2 client connection", exc_info=True)
            error = e
        self._terminate(error, lost)

    def _handle_event(self, event: Any) -> None:
        events = h2.events
        stream_id = getattr(event, "stream_id", None)
        stream = self._streams.get(stream_id) if stream_id else None
        if isinstance(event, events.DataReceived):
            if stream is None:
                # Data for a stream we gave up on: its share of the
                # connection window comes back at once.
                self._h2.acknowledge_received_data(
                    event.flow_controlled_length, stream_id
                )
                return
            stream._push(("data", event.data, event.flow_controlled_length))
            stream.answered = True
            if event.stream_ended is not None:
                self._remote_ended(stream)
        elif isinstance(event, events.ResponseReceived):
            if stream is not None:
                stream.answered = True
                stream._push(("headers", event.headers, False))
                if event.stream_ended is not None:
                    self._remote_ended(stream)
        elif isinstance(event, events.InformationalResponseReceived):
            if stream is not None:
                stream._push(("headers", event.headers, True))
        elif isinstance(event, events.StreamEnded):
            if stream is not None and not stream._remote_closed:
                self._remote_ended(stream)
        elif isinstance(event, events.StreamReset):
            if stream is not None:
                stream._return_unread_window()
                if event.error_code == h2.errors.ErrorCodes.REFUSED_STREAM:
                    # RFC 9113 section 8.7: the request was not processed.
                    stream._push(
                        (
                            "lost",
                            ConnectionTerminatedError(
                                "stream refused by server", retryable=True
                            ),
                        )
                    )
                else:
                    stream._push(("reset", event.error_code))
                stream._close()
        elif isinstance(event, (events.WindowUpdated, events.RemoteSettingsChanged)):
            if isinstance(event, events.RemoteSettingsChanged):
                self._settings_received = True
                self._wake_room_waiters()
            targets = [stream] if stream is not None else list(self._streams.values())
            for target in targets:
                target._pump()
        elif isinstance(event, events.ConnectionTerminated):
            self._goaway(event.error_code, event.last_stream_id)

    def _remote_ended(self, stream: HTTP2ClientStream) -> None:
        stream._remote_closed = True
        stream._push(("end",))
        if stream._local_closed:
            stream._close()

    def _goaway(self, error_code: int, last_stream_id: Optional[int]) -> None:
        """The server said GOAWAY: streams it never saw can be retried
        elsewhere, the others may finish (if it closed gracefully)."""
        self._stop_accepting()
        last = last_stream_id if last_stream_id is not None else 0
        for stream_id, stream in list(self._streams.items()):
            if stream_id > last:
                stream._push(
                    (
                        "lost",
                        ConnectionTerminatedError(
                            "connection closed by server (GOAWAY) before the request was processed",
                            retryable=True,
                        ),
                    )
                )
                stream._close()
            elif error_code:
                stream._push(
                    (
                        "lost",
                        ConnectionTerminatedError(
                            "connection closed by server: GOAWAY %s"
                            % _error_name(error_code)
                        ),
                    )
                )
                stream._close()
        if error_code or not self._streams:
            self._terminate(None)
        # Otherwise the streams it kept finish (see _GracefulH2Connection),
        # and on_idle closes the connection after the last.

    def _stop_accepting(self) -> None:
        if self.accepting:
            self.accepting = False
            callback, self._on_closed = self._on_closed, None
            if callback is not None:
                callback(self)
            self._wake_room_waiters()

    def _terminate(self, error: Optional[BaseException], lost: bool = False) -> None:
        """Ends the connection, failing the streams still on it; ``lost``
        when the transport closed under us."""
        if self.closed:
            return
        self._stop_accepting()
        self.closed = True
        for stream in list(self._streams.values()):
            failure = (
                error
                if error is not None
                else ConnectionTerminatedError("connection closed")
            )
            if lost and not stream.answered:
                # Without a GOAWAY nobody can tell whether the server
                # processed it: the client decides whether to retry.
                failure = ConnectionTerminatedError(
                    "connection closed before the server answered (%s)" % failure,
                    unanswered=True,
                )
            stream._push(("lost", failure))
            stream._close()
        self._wake_room_waiters()
        self.stream.close()

    def close(self) -> None:
        """Says GOAWAY (NO_ERROR) and closes the connection; requests still
        on it fail."""
        if self.closed:
            return
        try:
            self._h2.close_connection()
            self._flush()
        except h2.exceptions.ProtocolError:
            pass
        self._terminate(ConnectionTerminatedError("connection closed by client"))


if h2 is not None:

    class _GracefulH2Connection(h2.connection.H2Connection):
        """h2's connection, but a GOAWAY without error leaves it open for
        the frames still owed to the streams the server kept (RFC 9113
        section 6.8); h2 itself refuses every frame after any GOAWAY, which
        would fail those streams during a graceful shutdown.  We open no
        new stream after it (HTTP2ClientConnection.accepting)."""

        def _receive_goaway_frame(self, frame: Any) -> Any:
            outcome = super()._receive_goaway_frame(frame)
            if frame.error_code == 0:
                self.state_machine.state = h2.connection.ConnectionState.CLIENT_OPEN
            return outcome


def _ignore_write_outcome(future: "asyncio.Future[None]") -> None:
    # A failed write shows up as the read loop's StreamClosedError.
    if not future.cancelled():
        future.exception()
