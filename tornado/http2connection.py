"""HTTP/2 for `.HTTPServer`: one connection, many streams, each a request.

This is the HTTP/2 sibling of `tornado.http1connection`.  The protocol
itself (framing, HPACK, the stream state machine, flow-control windows,
SETTINGS) lives in the ``h2`` package's sans-IO `h2.connection.H2Connection`;
`HTTP2ServerConnection` moves bytes between an `.IOStream` and that
state machine, and turns its events into calls on the same
`.HTTPServerConnectionDelegate` an HTTP/1.x connection uses.  One case
skips h2, as it is most of the traffic and h2's machinery would cost it
twice what the rest of the request costs: a request head the client
repeats, with no body, whose stream is then answered with frames we make
(see ``HTTP2ServerConnection._receive_frames``); h2 still sees every other
frame and knows those streams' ids.  Each stream
gets an `HTTP2Stream`, an `.HTTPConnection` like `.HTTP1Connection`, so
`tornado.web.Application` and its handlers run unchanged; the request's
``version`` is ``"HTTP/2.0"``.

What the connection adds to ``h2``:

* flow control tied to the application: request body bytes are
  acknowledged (the peer's window reopened) only once ``data_received``
  has finished with them, and response bytes wait in the stream (and the
  writer's `.Future` stays unresolved) while the peer's window is closed;
* limits against hostile peers: a cap on stream resets and on PING/SETTINGS
  frames per time window (``ENHANCE_YOUR_CALM``), the header list size
  (``max_header_size``) and the per-stream body size, and an idle/stall
  timeout;
* WebSocket over HTTP/2 (RFC 8441 extended CONNECT), by handing
  `tornado.websocket` an `.IOStream` whose other end is the stream;
* graceful shutdown (`HTTP2ServerConnection._begin_drain`).

Servers opt in with ``HTTPServer(app, http2=True)`` (see
:doc:`guide/http2`); this module is rarely used directly.  It needs the
``h2`` package (``pip install tornado[http2]``).
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import struct
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
    Union,
)
from collections import deque

from tornado import gen, iostream
from tornado.concurrent import Future, future_set_result_unless_cancelled
from tornado.http1connection import HTTP1ConnectionParameters, _GzipMessageDelegate
from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPInputError,
    HTTPMessageDelegate,
    HTTPOutputError,
    HTTPServerConnectionDelegate,
    RequestStartLine,
    ResponseStartLine,
    responses,
)
from tornado.log import app_log, gen_log

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions
    import h2.settings
    from h2.connection import ConnectionState
    from h2.errors import ErrorCodes
    from h2.stream import StreamClosedBy
    from hyperframe.frame import GoAwayFrame, SettingsFrame
    # The states of h2's connection in which streams are served.
    _OPEN_STATES = frozenset((ConnectionState.CLIENT_OPEN, ConnectionState.SERVER_OPEN))
except ImportError:  # pragma: no cover - checked by HTTPServer at start
    h2 = None  # type: ignore[assignment]

__all__ = ["HTTP2ServerConnection", "HTTP2Stream", "H2_PREFACE", "require_h2"]

#: The bytes every HTTP/2 client connection starts with (RFC 9113 3.4).
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Our SETTINGS.  The stream window bounds what one stream's request body
# may hold in memory before its handler consumes it; the connection window
# (raised to the same size at once) bounds all streams together.
_MAX_CONCURRENT_STREAMS = 100
_INITIAL_WINDOW = 256 * 1024
_CONNECTION_WINDOW = 1024 * 1024

# Hostile-peer limits, counted over a sliding _FLOOD_WINDOW seconds: the
# stream resets a client may send (CVE-2023-44487 rapid reset) and the
# PING/SETTINGS frames it may make us answer (CVE-2019-9512/9515).
_FLOOD_WINDOW = 10.0
_MAX_RESETS = 500
_MAX_CONTROL_FRAMES = 1000
# Bytes that may wait unsent in the socket's write buffer while the peer
# keeps sending: past this we stop reading from it until it drains.
_MAX_OUTBOUND_BACKLOG = 4 * 1024 * 1024

# Default idle time before an unused connection is closed, as HTTPServer.
_DEFAULT_IDLE_TIMEOUT = 3600.0

# The frame header (RFC 9113 4.1): a 24-bit length (as 16 + 8 bits),
# type, flags, reserved bit and stream id.
_FRAME_HEAD = struct.Struct(">HBBBL")
_DATA, _HEADERS, _PRIORITY, _RST_STREAM, _PUSH_PROMISE, _WINDOW_UPDATE, _CONTINUATION = (
    0, 1, 2, 3, 5, 8, 9,
)
_END_STREAM, _END_HEADERS, _PADDED, _PRIORITY_FLAG = 0x1, 0x4, 0x8, 0x20
# The flags a HEADERS frame run without h2 has: END_STREAM and
# END_HEADERS, not PADDED (PRIORITY may be either).
_FAST_FLAGS = _END_STREAM | _END_HEADERS | _PADDED
_MAX_WINDOW = 2**31 - 1

# HTTP/1.x-only fields that must not appear in an HTTP/2 message (RFC 9113
# 8.2.2).  Lowercase, as HTTP/2 field names are.
_CONNECTION_SPECIFIC = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
    }
)


# The encoded fields _FieldEncoder keeps (shared by all connections, as
# the encoding does not depend on the connection): how many, and the
# longest field (name and value) worth keeping.
_FIELD_CACHE: Dict[Tuple[bytes, bytes], bytes] = {}
_FIELD_CACHE_SIZE = 4096
_FIELD_CACHE_MAX_FIELD = 256
# Fields encoded "never indexed" (RFC 7541 section 7.1.3), and not cached:
# they are secrets that vary per response.
_NEVER_INDEXED = frozenset({b"set-cookie", b"authorization", b"proxy-authorization"})


# Response field names as HTTP/2 wants them (lowercase bytes), by the
# name HTTPHeaders keeps.
_FIELD_NAMES: Dict[str, bytes] = {}


class _FieldEncoder:
    """The HPACK encoder of our responses: stateless and memoized.

    It never adds to the dynamic table (its first block sets the peer's
    table to size 0, RFC 7541 section 6.3), so a field always encodes to
    the same bytes (a static-table index, or a literal), which are cached
    in ``_FIELD_CACHE``.  Response heads repeat the same few fields
    (Server, Content-Type, a Date per second), which then cost a dict
    lookup instead of hpack's pure-Python search and Huffman coding, for a
    few more bytes on the wire.  It stands in for h2's encoder: ``encode``
    and the ``header_table_size`` that h2 sets from the peer's SETTINGS
    are all h2 uses.
    """

    def __init__(self) -> None:
        import hpack

        self._never_indexed = hpack.NeverIndexedHeaderTuple
        self._inner = hpack.Encoder()
        self._inner.header_table_size = 0
        self._resize = self._inner.encode([])  # the size update to 0
        self._pending_resize = True

    @property
    def header_table_size(self) -> int:
        return 0

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        # Whatever the peer allows, our table stays empty; say so again.
        self._pending_resize = True

    def field(self, name: bytes, value: bytes) -> bytes:
        """The HPACK bytes of one field (memoized unless a secret or
        long)."""
        key = (name, value)
        data = _FIELD_CACHE.get(key)
        if data is None:
            if name in _NEVER_INDEXED:
                return self._inner.encode([self._never_indexed(name, value)])
            data = self._inner.encode([key])
            if len(name) + len(value) <= _FIELD_CACHE_MAX_FIELD:
                if len(_FIELD_CACHE) >= _FIELD_CACHE_SIZE:
                    _FIELD_CACHE.clear()
                _FIELD_CACHE[key] = data
        return data

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        parts = []
        if self._pending_resize:
            self._pending_resize = False
            parts.append(self._resize)
        for field in headers:
            if field[0] is _ENCODED:
                # Fields HTTP2Stream.write_headers encoded already.
                parts.append(field[1])
            else:
                parts.append(self.field(field[0], field[1]))
        return b"".join(parts)

    def str_field(self, name: str, value: str) -> bytes:
        """The HPACK bytes of a response field as `.HTTPHeaders` keeps it
        (empty for the HTTP/1-only fields RFC 9113 8.2.2 forbids),
        memoized by the strings themselves."""
        key = (name, value)
        data = _STR_FIELD_CACHE.get(key)
        if data is not None:
            return data
        lname = _FIELD_NAMES.get(name)
        if lname is None:
            lname = name.lower().encode("latin-1")
            if len(_FIELD_NAMES) < 1024:
                _FIELD_NAMES[name] = lname
        if lname in _CONNECTION_SPECIFIC:
            data = b""
        else:
            data = self.field(lname, value.encode("latin-1"))
            if lname in _NEVER_INDEXED or len(name) + len(value) > _FIELD_CACHE_MAX_FIELD:
                return data
        if len(_STR_FIELD_CACHE) >= _FIELD_CACHE_SIZE:
            _STR_FIELD_CACHE.clear()
        _STR_FIELD_CACHE[key] = data
        return data


# The name of the one "field" of a head whose fields are HPACK-encoded
# already (by HTTP2Stream.write_headers, which saves h2 and the encoder
# a pass over each field): recognized by identity, never sent as is.
_ENCODED = b"\x00tornado-encoded-fields"
# _FieldEncoder.str_field's memo, by (name, value) as strings.
_STR_FIELD_CACHE: Dict[Tuple[str, str], bytes] = {}


# The decoded header blocks one connection's _FieldDecoder keeps, and the
# longest block worth keeping.
_BLOCK_MEMO_SIZE = 64
_BLOCK_MEMO_MAX = 512


def _field_decoder_class() -> Any:
    """`_FieldDecoder`, defined once ``hpack`` is known to be importable."""
    import hpack

    class _FieldDecoder(hpack.Decoder):  # type: ignore[misc]
        """h2's HPACK decoder with a memo of the header blocks that leave
        the dynamic table as it was.

        A client sends the same request head again and again, and once
        its fields are in the dynamic table the block is a few index
        bytes that decode to the same list as long as the table is
        unchanged.  Such blocks are kept (per connection, bounded) and
        answered from the memo; any block that changes the table, and any
        change of the limits h2 sets from SETTINGS, empties it.  Errors
        (an HPACK bomb over ``max_header_list_size``, a bad index) come
        from hpack's own decoding and are never kept.
        """

        def __init__(self) -> None:
            self._memo: Dict[bytes, List[Any]] = {}
            self._list_limit = 0
            self._table_limit = 0
            super().__init__()

        # h2 sets these from the SETTINGS frames; a change of either may
        # change what a block decodes to (or whether it is an error).
        @property
        def max_header_list_size(self) -> int:
            return self._list_limit

        @max_header_list_size.setter
        def max_header_list_size(self, value: int) -> None:
            self._list_limit = value
            self._memo.clear()

        @property
        def max_allowed_table_size(self) -> int:
            return self._table_limit

        @max_allowed_table_size.setter
        def max_allowed_table_size(self, value: int) -> None:
            self._table_limit = value
            self._memo.clear()

        def decode(self, data: bytes, raw: bool = False) -> Any:
            memo = self._memo
            found = memo.get(data)
            if found is not None and raw:
                return list(found)
            table = self.header_table
            entries = table.dynamic_entries
            front = entries[0] if entries else None
            size, count = table.maxsize, len(entries)
            try:
                fields = super().decode(data, raw)
            except Exception:
                # The table may be half changed (h2 ends the connection).
                memo.clear()
                raise
            entries = table.dynamic_entries
            if (
                (entries[0] if entries else None) is front
                and len(entries) == count
                and table.maxsize == size
            ):
                # ``front`` is still referenced here, so "is" cannot be
                # fooled by a new entry at a recycled address.
                if raw and len(data) <= _BLOCK_MEMO_MAX:
                    if len(memo) >= _BLOCK_MEMO_SIZE:
                        memo.clear()
                    memo[data] = list(fields)
            elif memo:
                memo.clear()
            return fields

    return _FieldDecoder


_FieldDecoder: Any = _field_decoder_class() if h2 is not None else None


class _MalformedHeaders(Exception):
    """A request's header block breaks RFC 9113 section 8.2 or 8.3 (the
    stream is reset with PROTOCOL_ERROR, RFC 9113 section 8.1.1)."""


# RFC 9113 8.2.1: a field name has no 0x00-0x20, 0x41-0x5a (uppercase),
# 0x7f-0xff or colon; a value no NUL, CR or LF, nor leading or trailing
# SP or HTAB.
_BAD_NAME = re.compile(rb"[\x00-\x20A-Z\x7f-\xff:]")
_BAD_VALUE = re.compile(rb"[\x00\r\n]|\A[ \t]|[ \t]\Z")
_REQUEST_PSEUDO = frozenset(
    {b":method", b":scheme", b":authority", b":path", b":protocol"}
)

# Parsed request heads by their (validated) field list, shared by all
# connections: a client repeats the same head, which then costs a lookup
# and a copy of its HTTPHeaders.  Bounded, and only short heads are kept.
_HEAD_MEMO: Dict[
    Tuple[Any, ...],
    Tuple[str, Optional[str], Optional[str], Optional[str], HTTPHeaders],
] = {}
_HEAD_MEMO_SIZE = 1024
_HEAD_MEMO_MAX = 2048


def _check_field(name: bytes, value: bytes) -> None:
    """Raises `_MalformedHeaders` unless ``name: value`` is a valid
    regular (not pseudo-header) HTTP/2 field in a request or trailers."""
    if not name or _BAD_NAME.search(name):
        raise _MalformedHeaders("invalid field name %r" % name)
    if value and _BAD_VALUE.search(value):
        raise _MalformedHeaders("invalid value %r of field %r" % (value, name))
    if name in _CONNECTION_SPECIFIC:
        raise _MalformedHeaders("connection-specific field %r" % name)
    if name == b"te" and value.lower() != b"trailers":
        raise _MalformedHeaders("TE field other than trailers: %r" % value)


def _parse_request_head(
    fields: List[Tuple[bytes, bytes]],
) -> Tuple[str, Optional[str], Optional[str], Optional[str], HTTPHeaders]:
    """Checks a request's decoded header block as RFC 9113 sections 8.2
    and 8.3 (and RFC 8441 for ``:protocol``) require, and returns its
    method, path, authority, protocol and regular fields.

    This is the check h2's ``validate_inbound_headers`` would make (it is
    turned off, as this one is memoized): field names and values, no
    connection-specific fields, TE only ``trailers``, pseudo-header fields
    known, unique, request-only and before the regular ones, ``:method``
    present, ``:scheme`` and a non-empty ``:path`` unless a plain CONNECT,
    ``:protocol`` only with CONNECT, one Host at most and equal to
    ``:authority``, at least one of the two.  Cookie crumbs are joined
    (RFC 9113 8.2.3).  Raises `_MalformedHeaders`.
    """
    key = tuple(fields)
    found = _HEAD_MEMO.get(key)
    if found is not None:
        method, path, authority, protocol, headers = found
        return method, path, authority, protocol, headers.copy()
    pseudo: Dict[bytes, bytes] = {}
    regular = False
    host: Optional[bytes] = None
    cookies: List[str] = []
    headers = HTTPHeaders()
    total = 0
    for name, value in fields:
        total += len(name) + len(value)
        if name[:1] == b":":
            if regular:
                raise _MalformedHeaders(
                    "pseudo-header field %r after a regular one" % name
                )
            if name not in _REQUEST_PSEUDO:
                raise _MalformedHeaders("pseudo-header field %r in a request" % name)
            if name in pseudo:
                raise _MalformedHeaders("pseudo-header field %r twice" % name)
            if value and _BAD_VALUE.search(value):
                raise _MalformedHeaders("invalid value %r of %r" % (value, name))
            pseudo[name] = value
            continue
        regular = True
        _check_field(name, value)
        if name == b"host":
            if host is not None:
                raise _MalformedHeaders("Host field twice")
            host = value
        if name == b"cookie":
            cookies.append(value.decode("latin-1"))
            continue
        try:
            headers.add(name.decode("latin-1"), value.decode("latin-1"))
        except HTTPInputError as e:
            raise _MalformedHeaders(str(e)) from None
    raw_method = pseudo.get(b":method")
    if raw_method is None:
        raise _MalformedHeaders("no :method")
    has_protocol = b":protocol" in pseudo
    if has_protocol and raw_method != b"CONNECT":
        raise _MalformedHeaders(":protocol without CONNECT")
    if raw_method == b"CONNECT" and not has_protocol:
        if b":scheme" in pseudo or b":path" in pseudo:
            raise _MalformedHeaders("CONNECT with :scheme or :path")
    elif b":scheme" not in pseudo or b":path" not in pseudo:
        raise _MalformedHeaders("no :scheme or :path")
    raw_path = pseudo.get(b":path")
    if raw_path is not None and not raw_path:
        raise _MalformedHeaders("empty :path")
    raw_authority = pseudo.get(b":authority")
    if raw_authority is None and host is None:
        raise _MalformedHeaders("neither :authority nor Host")
    if raw_authority is not None and host is not None and raw_authority != host:
        raise _MalformedHeaders(
            ":authority %r and Host %r differ" % (raw_authority, host)
        )
    if cookies:
        headers.add("Cookie", "; ".join(cookies))
    authority = None if raw_authority is None else raw_authority.decode("latin-1")
    if authority is not None and host is None:
        headers.add("Host", authority)
    result = (
        raw_method.decode("latin-1"),
        None if raw_path is None else raw_path.decode("latin-1"),
        authority,
        None if not has_protocol else pseudo[b":protocol"].decode("latin-1"),
        headers,
    )
    if total <= _HEAD_MEMO_MAX:
        if len(_HEAD_MEMO) >= _HEAD_MEMO_SIZE:
            _HEAD_MEMO.clear()
        _HEAD_MEMO[key] = (*result[:4], headers.copy())  # type: ignore[assignment]
    return result


def _check_trailers(fields: List[Tuple[bytes, bytes]]) -> None:
    """Raises `_MalformedHeaders` unless ``fields`` are valid trailers
    (RFC 9113 8.1: no pseudo-header fields; 8.2: valid fields)."""
    for name, value in fields:
        if name[:1] == b":":
            raise _MalformedHeaders("pseudo-header field %r in trailers" % name)
        _check_field(name, value)


class H2NotInstalledError(RuntimeError):
    """``http2=True`` was asked for, but the ``h2`` package is missing."""


def require_h2() -> None:
    """Raises `H2NotInstalledError` unless the ``h2`` package is importable."""
    if h2 is None:
        raise H2NotInstalledError(
            "HTTP/2 (http2=True) needs the h2 package: pip install 'tornado[http2]'"
        )


async def _sniff_preface(stream: iostream.IOStream, timeout: Optional[float]) -> bool:
    """Reads the first bytes of a cleartext connection and tells whether
    they are the HTTP/2 preface (h2c with prior knowledge, RFC 9113 3.3).

    Whatever was read is put back into the stream's buffer, for whichever
    protocol serves the connection.  Returns False at the first byte that
    differs from the preface, so an HTTP/1.x request costs no extra wait.
    """
    seen = b""
    try:
        while len(seen) < len(H2_PREFACE) and H2_PREFACE.startswith(seen):
            read = stream.read_bytes(len(H2_PREFACE) - len(seen), partial=True)
            if timeout is not None:
                read = gen.with_timeout(
                    stream.io_loop.time() + timeout,
                    read,
                    quiet_exceptions=iostream.StreamClosedError,
                )
            seen += await read
    finally:
        # The read buffer is empty here: we consumed exactly what arrived.
        stream._read_buffer[0:0] = seen
    return seen == H2_PREFACE


def _split_frames(
    data: bytes, pos: int, max_len: int
) -> Tuple[List[Tuple[int, int, int, int, int]], int, bool]:
    """The whole frames in ``data`` from ``pos``, each as (type, flags,
    stream id, start, end); the end of the last one; and whether the
    frame after it declares more than ``max_len`` bytes (the frames are
    then those before it)."""
    n = len(data)
    unpack = _FRAME_HEAD.unpack_from
    frames = []
    while n - pos >= 9:
        hi, lo, ftype, flags, sid = unpack(data, pos)
        length = hi << 8 | lo
        if length > max_len:
            return frames, pos, True
        end = pos + 9 + length
        if end > n:
            break
        frames.append((ftype, flags, sid & 0x7FFFFFFF, pos, end))
        pos = end
    return frames, pos, False


def _frame(ftype: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    """One frame's bytes."""
    n = len(payload)
    return _FRAME_HEAD.pack(n >> 8, n & 0xFF, ftype, flags, stream_id) + payload


def _head_frames(stream_id: int, block: bytes, end_stream: bool, max_frame: int) -> bytes:
    """A header block as HEADERS (and CONTINUATION frames when it is over
    ``max_frame`` bytes), ending the stream if ``end_stream``."""
    end = _END_STREAM if end_stream else 0
    if len(block) <= max_frame:
        return _frame(_HEADERS, _END_HEADERS | end, stream_id, block)
    parts = [_frame(_HEADERS, end, stream_id, block[:max_frame])]
    for pos in range(max_frame, len(block), max_frame):
        last = pos + max_frame >= len(block)
        parts.append(
            _frame(_CONTINUATION, _END_HEADERS if last else 0, stream_id, block[pos : pos + max_frame])
        )
    return b"".join(parts)


class HTTP2Stream(HTTPConnection):
    """One HTTP/2 stream of a server connection: the request's
    ``request.connection``.

    Implements `.HTTPConnection` (``write_headers``, ``write``,
    ``finish``) plus what `.HTTP1Connection` offers handlers:
    ``set_close_callback``, ``set_body_timeout``, ``set_max_body_size``.
    `detach` only works for a WebSocket (RFC 8441) stream.
    """

    def __init__(
        self, conn: "HTTP2ServerConnection", stream_id: int, context: Any
    ) -> None:
        self._conn = conn
        self.stream_id = stream_id
        #: The server's parameters; ``is_client`` is always False (both as
        #: on `.HTTP1Connection`, which request-body decompression reads).
        self.params = conn.params
        self.is_client = False
        #: A per-stream copy of the connection's context (``remote_ip``,
        #: ``protocol``): ``xheaders`` rewrite it per request.
        self.context = context
        self._delegate: Optional[HTTPMessageDelegate] = None
        self._close_callback: Optional[Callable[[], None]] = None
        self._max_body_size = conn.params.max_body_size or conn._max_buffer_size
        self._body_timer: Optional[object] = None
        self._received = 0
        # Inbound work for the delegate, in order: ("d", data, flow) or
        # ("e",).  _busy while a data_received future is pending.
        self._inbox: Deque[Tuple[Any, ...]] = deque()
        self._busy = False
        self._read_done = False  # the delegate got finish() (or won't)
        self._closed = False  # reset, or both sides done
        self._delegate_told = False  # on_connection_close sent
        # Outbound: the head not yet given to h2, body bytes waiting for
        # window, and the writers' futures with the offset each waits for.
        self._head: Optional[List[Tuple[bytes, bytes]]] = None
        self._head_sent = False
        self._out: Deque[bytes] = deque()
        self._out_queued = 0  # bytes ever queued
        self._out_sent = 0  # bytes given to h2
        self._waiters: Deque[Tuple[int, "Future[None]"]] = deque()
        self._finish_out = False  # finish() called
        self._ended_out = False  # END_STREAM given to h2
        self._no_body = False  # HEAD, 204, 304: body bytes are dropped
        self._expected: Optional[int] = None  # remaining Content-Length
        self._is_head = False
        self._websocket = False
        self._tunnel: Optional[_Tunnel] = None
        # The request asked for "Expect: 100-continue" and has a body:
        # answered by _pump before the body is first read.
        self._expect_continue = False
        # A stream the connection runs without h2 (see
        # HTTP2ServerConnection._receive_frames), and then the peer's
        # flow-control window for it, which h2 does not know.
        self._fast = False
        self._window = 0

    # -- HTTPConnection ------------------------------------------------------

    def write_headers(
        self,
        start_line: Union[RequestStartLine, ResponseStartLine],
        headers: HTTPHeaders,
        chunk: Optional[bytes] = None,
    ) -> "Future[None]":
        """Queues the response head (and a first piece of body).

        The head is handed to ``h2`` at the next flush of the connection
        (the end of the current IOLoop iteration at the latest), so that a
        response finished at once leaves as HEADERS with END_STREAM, or
        HEADERS plus one DATA frame.
        """
        if self._head is not None or self._head_sent:
            raise HTTPOutputError("write_headers called twice")
        assert isinstance(start_line, ResponseStartLine)
        code = start_line.code
        if self._websocket and code == 101:
            # RFC 8441 5: the extended CONNECT is accepted with a 200; the
            # HTTP/1.1 upgrade fields mean nothing here.
            code = 200
            for name in ("Upgrade", "Connection", "Sec-Websocket-Accept"):
                if name in headers:
                    del headers[name]
        encoder = self._conn._h2.encoder
        str_field = encoder.str_field
        cache = _STR_FIELD_CACHE
        parts = []
        for name, values in headers._as_list.items():
            for value in values:
                data = cache.get((name, value))
                parts.append(str_field(name, value) if data is None else data)
        head = [(b":status", b"%d" % code), (_ENCODED, b"".join(parts))]
        self._head = head
        if self._is_head or code in (204, 304) or 100 <= code < 200:
            self._no_body = True
        elif "Content-Length" in headers:
            try:
                self._expected = int(headers["Content-Length"])
            except ValueError:
                pass
        return self.write(chunk) if chunk else self._queue(b"")

    def write(self, chunk: bytes) -> "Future[None]":
        """Queues a piece of the body; the `.Future` resolves once it has
        been written to the socket (it waits while the peer's flow-control
        window is closed)."""
        if self._no_body:
            chunk = b""
        elif chunk and self._expected is not None:
            self._expected -= len(chunk)
            if self._expected < 0:
                self._conn._reset(self, ErrorCodes.INTERNAL_ERROR)
                raise HTTPOutputError("Tried to write more data than Content-Length")
        return self._queue(chunk)

    def finish(self) -> None:
        """Ends the response (END_STREAM once the body has left)."""
        if self._expected and not self._closed:
            self._conn._reset(self, ErrorCodes.INTERNAL_ERROR)
            raise HTTPOutputError(
                "Tried to write %d bytes less than Content-Length" % self._expected
            )
        if self._websocket and self._tunnel is None and self._head is not None:
            # A 101 (now 200) response: the stream carries the WebSocket
            # once detach() is called, it does not end here.
            self._conn._dirty(self)
            return
        self._finish_out = True
        self._close_callback = None
        self._conn._dirty(self)

    def _queue(self, chunk: bytes) -> "Future[None]":
        future: Future[None] = Future()
        if self._closed:
            future.set_exception(iostream.StreamClosedError())
            future.exception()
            return future
        if chunk:
            self._out.append(chunk)
            self._out_queued += len(chunk)
        self._waiters.append((self._out_queued, future))
        self._conn._dirty(self)
        return future

    def _next_piece(self, window: int, max_frame: int) -> Optional[Tuple[bytes, bool]]:
        """Takes the next piece of body to send, at most ``window`` and
        ``max_frame`` bytes, and whether it ends the stream; None if the
        window is closed.  (The body must not be empty.)"""
        if window <= 0:
            return None
        out = self._out
        size = min(window, max_frame)
        chunk = out[0]
        if len(chunk) <= size:
            out.popleft()
        else:
            out[0] = chunk[size:]
            chunk = chunk[:size]
        self._out_sent += len(chunk)
        return chunk, not out and self._finish_out

    def _take_written(self, done: List["Future[None]"]) -> None:
        """Moves the futures of the writes now wholly sent to ``done``."""
        waiters = self._waiters
        sent = self._out_sent
        while waiters and waiters[0][0] <= sent:
            done.append(waiters.popleft()[1])

    # -- What HTTP1Connection also offers -----------------------------------

    def set_close_callback(self, callback: Optional[Callable[[], None]]) -> None:
        """``callback`` runs if the stream is reset (or the connection
        lost) after the request has been read and before the response is
        finished."""
        self._close_callback = callback

    def set_max_body_size(self, max_body_size: int) -> None:
        """Changes this request's body size limit (a bigger body gets a
        413 answer, or a reset if the response has begun)."""
        self._max_body_size = max_body_size

    def set_body_timeout(self, timeout: float) -> None:
        """Resets the stream unless its body has arrived within
        ``timeout`` seconds from now."""
        loop = self._conn.io_loop
        if self._body_timer is not None:
            loop.remove_timeout(self._body_timer)
        if not self._read_done:
            self._body_timer = loop.call_later(timeout, self._body_timed_out)

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if not self._read_done and not self._closed:
            gen_log.info("Timeout reading body from %s", self.context)
            self._conn._reset(self, ErrorCodes.CANCEL)
            self._conn._flush_soon()

    def detach(self) -> iostream.IOStream:
        """For a WebSocket over HTTP/2 (RFC 8441): returns an `.IOStream`
        whose bytes travel as this stream's DATA frames.  Other streams
        cannot be taken over (HTTP/2 multiplexes them on one connection):
        `.HTTPOutputError`, and the stream is reset."""
        if not self._websocket or self._closed:
            # The handler counts as finished now: the stream is reset so
            # the client is not left waiting for a response.
            self._conn._reset(self, ErrorCodes.INTERNAL_ERROR)
            raise HTTPOutputError("An HTTP/2 stream cannot be detached")
        tunnel = self._tunnel = _Tunnel(self)
        return tunnel.app_side

    @property
    def stream(self) -> "_StreamView":
        """What ``request.connection.stream`` gives on HTTP/1.x, as far as
        it makes sense for one stream of many: ``closed()`` (this stream
        reset or the connection gone), ``close()`` (resets this stream
        only), ``socket``, ``set_nodelay``.  Applications such as the chat
        demo check ``request.connection.stream.closed()``."""
        return _StreamView(self)

    # -- Inbound -------------------------------------------------------------

    def _start(
        self,
        delegate: HTTPMessageDelegate,
        start_line: RequestStartLine,
        headers: HTTPHeaders,
    ) -> None:
        self._delegate = delegate
        self._is_head = start_line.method == "HEAD"
        timeout = self._conn.params.body_timeout
        if timeout is not None and not self._read_done:
            self.set_body_timeout(timeout)
        try:
            result = delegate.headers_received(start_line, headers)
        except HTTPInputError as e:
            self._input_error(e)
            return
        except Exception:
            app_log.error("Uncaught exception", exc_info=True)
            self._delegate_told = True  # (it failed: not told again)
            self._conn._reset(self, ErrorCodes.INTERNAL_ERROR)
            return
        if self._websocket:
            # The handshake has no body: the handler runs now, and what
            # follows on the stream is the WebSocket's (see detach).
            self._inbox.append(("e",))
        if result is not None:
            self._wait(result, 0)
        else:
            self._pump()

    def _on_data(self, data: bytes, flow: int) -> None:
        if self._tunnel is not None and not self._closed:
            self._tunnel.inbound(data, flow)
            return
        if self._read_done or self._closed:
            self._conn._ack(self.stream_id, flow)
            return
        self._received += len(data)
        if self._received > self._max_body_size:
            self._too_large()
            self._conn._ack(self.stream_id, flow)
            return
        self._inbox.append(("d", data, flow))
        if not self._busy:
            self._pump()

    def _on_end(self) -> None:
        if self._tunnel is not None:
            self._tunnel.inbound_end()
            return
        if self._read_done or self._closed:
            return
        self._inbox.append(("e",))
        if not self._busy:
            self._pump()

    def _pump(self) -> None:
        """Hands queued body pieces to the delegate, one at a time: the
        next only once the previous ``data_received`` future is done."""
        if self._expect_continue:
            self._expect_continue = False
            self._send_continue()
        inbox = self._inbox
        delegate = self._delegate
        while inbox and not self._busy and not self._closed and delegate is not None:
            item = inbox.popleft()
            if item[0] == "e":
                self._end_of_body()
                return
            try:
                result = delegate.data_received(item[1])
            except HTTPInputError as e:
                self._input_error(e)
                return
            except Exception:
                app_log.error("Uncaught exception", exc_info=True)
                self._delegate_told = True
                self._conn._reset(self, ErrorCodes.INTERNAL_ERROR)
                return
            if result is not None:
                self._wait(result, item[2])
            else:
                self._conn._ack(self.stream_id, item[2])

    def _send_continue(self) -> None:
        """RFC 9110 10.1.1 (as `.HTTP1Connection` does): an interim 100
        HEADERS before the body is read, unless the application has
        answered (or refused the request) already."""
        if (
            self._head is not None
            or self._head_sent
            or self._closed
            or self._read_done
            or self._tunnel is not None
        ):
            return
        conn = self._conn
        try:
            conn._h2.send_headers(self.stream_id, [(b":status", b"100")])
        except h2.exceptions.ProtocolError:
            return
        conn._flush_soon()

    def _wait(self, result: Awaitable[None], flow: int) -> None:
        self._busy = True
        future = gen.convert_yielded(result)

        def done(f: "Future[None]") -> None:
            self._busy = False
            exc = None if f.cancelled() else f.exception()
            if exc is not None:
                if isinstance(exc, HTTPInputError):
                    self._input_error(exc)
                else:
                    app_log.error("Uncaught exception", exc_info=exc)
                    self._delegate_told = True
                    self._conn._reset(self, ErrorCodes.INTERNAL_ERROR)
                self._conn._flush_soon()
                return
            self._conn._ack(self.stream_id, flow)
            self._pump()
            self._conn._flush_soon()

        future.add_done_callback(done)

    def _end_of_body(self) -> None:
        self._read_done = True
        if self._body_timer is not None:
            self._conn.io_loop.remove_timeout(self._body_timer)
            self._body_timer = None
        delegate = self._delegate
        self._delegate_told = True  # finish() replaces on_connection_close
        if delegate is None:
            return
        try:
            delegate.finish()
        except HTTPInputError as e:
            self._input_error(e)
        except Exception:
            app_log.error("Uncaught exception", exc_info=True)
            self._conn._reset(self, ErrorCodes.INTERNAL_ERROR)
        self._conn._maybe_forget(self)

    def _input_error(self, e: HTTPInputError) -> None:
        """The request is malformed (the peer's fault): 400 if nothing has
        been answered yet, else a reset."""
        gen_log.info("Malformed HTTP/2 request from %s: %s", self.context, e)
        self._refuse(400)

    def _too_large(self) -> None:
        gen_log.info(
            "Request body over %d bytes from %s", self._max_body_size, self.context
        )
        self._refuse(413)

    def _refuse(self, status: int) -> None:
        """Answers ``status`` (unless the response has begun), stops the
        client's upload with RST_STREAM(NO_ERROR) (RFC 9113 8.1) and tells
        the delegate the exchange is over."""
        self._read_done = True
        self._inbox.clear()
        self._tell_delegate()
        conn = self._conn
        if not self._head_sent and self._head is None and not self._closed:
            body = b"%d %s" % (status, responses.get(status, "Error").encode())
            self._head = [
                (b":status", str(status).encode()),
                (b"content-length", str(len(body)).encode()),
                (b"content-type", b"text/plain"),
            ]
            self._out.clear()
            self._out.append(body)
            self._out_queued += len(body)
            self._expected = None
            self._finish_out = True
            conn._dirty(self)
            conn._reset_after_end.add(self.stream_id)
        else:
            conn._reset(self, ErrorCodes.CANCEL)

    def _tell_delegate(self) -> None:
        """The exchange ended early: on_connection_close while the
        request is still being read, the close callback afterwards."""
        if not self._delegate_told:
            self._delegate_told = True
            delegate = self._delegate
            if delegate is not None:
                try:
                    delegate.on_connection_close()
                except Exception:
                    app_log.error("Uncaught exception", exc_info=True)
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            try:
                callback()
            except Exception:
                app_log.error("Uncaught exception", exc_info=True)

    def _on_closed(self) -> None:
        """The stream is gone (reset by either side, or the connection
        lost): fail pending writes and tell whoever is waiting."""
        if self._closed:
            return
        self._closed = True
        self._inbox.clear()
        self._out.clear()
        if self._body_timer is not None:
            self._conn.io_loop.remove_timeout(self._body_timer)
            self._body_timer = None
        waiters, self._waiters = self._waiters, deque()
        for _, future in waiters:
            if not future.done():
                future.set_exception(iostream.StreamClosedError())
                future.exception()
        if self._tunnel is not None:
            self._tunnel.close()
        if not (self._finish_out and self._read_done):
            self._tell_delegate()
        self._delegate = None
        self._close_callback = None


class _StreamView:
    """The `.IOStream`-like face of one HTTP/2 stream (see
    `HTTP2Stream.stream`)."""

    def __init__(self, h2_stream: HTTP2Stream) -> None:
        self._h2_stream = h2_stream

    def closed(self) -> bool:
        s = self._h2_stream
        return (
            s._closed
            and not (s._finish_out and s._read_done)
            or s._conn.stream.closed()
        )

    def close(self) -> None:
        s = self._h2_stream
        s._conn._reset(s, ErrorCodes.CANCEL)

    @property
    def socket(self) -> Any:
        return self._h2_stream._conn.stream.socket

    def set_nodelay(self, value: bool) -> None:
        pass  # The connection runs with TCP_NODELAY already.


class _Tunnel:
    """The byte pipe under a WebSocket over HTTP/2: a socket pair, one end
    an `.IOStream` for `tornado.websocket`, the other pumped to and from
    the HTTP/2 stream's DATA frames (with flow control both ways)."""

    def __init__(self, h2_stream: HTTP2Stream) -> None:
        a, b = socket.socketpair()
        self.h2_stream = h2_stream
        self.app_side = iostream.IOStream(a)
        self.our_side = iostream.IOStream(b)
        self._paused = False
        self.our_side.set_close_callback(self._our_side_closed)
        self.our_side._set_data_callback(self._outbound)

    def _outbound(self, data: bytes) -> None:
        stream = self.h2_stream
        if stream._closed:
            return
        stream._out.append(data)
        stream._out_queued += len(data)
        stream._conn._dirty(stream)
        if len(stream._out) > 4 and not self._paused:
            # The peer's window is closed: stop reading from the app until
            # the stream catches up (HTTP2ServerConnection._pump_out).
            self._paused = True
            self.our_side._set_data_callback(None)

    def resume(self) -> None:
        if self._paused and not self.our_side.closed():
            self._paused = False
            self.our_side._set_data_callback(self._outbound)

    def inbound(self, data: bytes, flow: int) -> None:
        if self.our_side.closed():
            self.h2_stream._conn._ack(self.h2_stream.stream_id, flow)
            return
        written = self.our_side.write(data)
        conn, sid = self.h2_stream._conn, self.h2_stream.stream_id

        def acked(f: "Future[None]") -> None:
            if not f.cancelled():
                f.exception()
            conn._ack(sid, flow)
            conn._flush_soon()

        written.add_done_callback(acked)

    def inbound_end(self) -> None:
        self.close()

    def _our_side_closed(self) -> None:
        stream = self.h2_stream
        if not stream._closed and not stream._finish_out:
            stream._finish_out = True
            stream._read_done = True
            stream._conn._dirty(stream)
            stream._conn._reset_after_end.add(stream.stream_id)

    def close(self) -> None:
        if not self.our_side.closed():
            self.our_side.close()


class HTTP2ServerConnection:
    """The server side of one HTTP/2 connection.

    ``stream`` has been checked to speak HTTP/2 (ALPN ``h2``, or the h2c
    preface, which is still in its buffer); ``params`` are the server's
    `.HTTP1ConnectionParameters` (``max_header_size``, ``max_body_size``,
    ``header_timeout`` as the idle timeout, ``body_timeout``); ``context``
    is copied for each stream's ``request.connection.context``.
    """

    def __init__(
        self,
        stream: iostream.IOStream,
        params: Optional[HTTP1ConnectionParameters] = None,
        context: Optional[Any] = None,
        max_concurrent_streams: int = _MAX_CONCURRENT_STREAMS,
        initial_window_size: int = _INITIAL_WINDOW,
    ) -> None:
        require_h2()
        self.stream = stream
        self.params = params or HTTP1ConnectionParameters()
        self.context = context
        self.io_loop = stream.io_loop
        self._max_buffer_size = stream.max_buffer_size
        # Inbound header blocks are checked by _parse_request_head and
        # _check_trailers (memoized, as strict as h2's own check), and
        # our responses are built by us, so h2's checks are off.
        config = h2.config.H2Configuration(
            client_side=False,
            header_encoding=None,
            validate_inbound_headers=False,
            normalize_inbound_headers=False,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        self._h2 = h2.connection.H2Connection(config=config)
        self._h2.encoder = _FieldEncoder()  # type: ignore[assignment]
        self._h2.decoder = _FieldDecoder()
        self._max_concurrent = max_concurrent_streams
        self._window = initial_window_size
        self._streams: Dict[int, HTTP2Stream] = {}
        self._delegate: Optional[HTTPServerConnectionDelegate] = None
        # Streams with output for h2; a flush is scheduled when non-empty.
        self._pending: Dict[HTTP2Stream, None] = {}
        self._blocked: Dict[HTTP2Stream, None] = {}  # waiting for window
        self._flush_scheduled = False
        self._in_receive = False
        # Streams to reset with NO_ERROR once their response has ended.
        self._reset_after_end: Set[int] = set()
        # Flood accounting.
        self._flood_start = 0.0
        self._resets = 0
        self._control = 0
        self._paused_reading = False
        self._closing = False  # GOAWAY sent (an error or a drain)
        self._draining = False
        self._last_stream_id: Optional[int] = None
        self._done: Future[None] = Future()
        self._last_activity = self.io_loop.time()
        self._idle_timer: Optional[object] = None
        self._idle_timeout = self.params.header_timeout or _DEFAULT_IDLE_TIMEOUT
        # Our framing of the inbound bytes (see _receive_frames): the
        # preface bytes still to pass to h2, the start of a frame not yet
        # complete, whether h2 is inside a header block (only
        # CONTINUATION may follow), and whether we frame at all (not
        # after a frame over the size limit, which h2 fails).
        self._preface_left = len(H2_PREFACE)
        self._partial = b""
        self._in_header_block = False
        self._framing = True
        # Frames of the streams run without h2 not yet written, in order
        # with h2's output (see _queue_frame).
        self._fast_out: List[bytes] = []
        # h2's record of how its closed streams ended (see _note_closed),
        # made once with the H2Connection.
        self._closed_record: Optional[Dict[int, Any]] = getattr(self._h2, "_closed_streams", None)

    # -- Life cycle ------------------------------------------------------------

    def start_serving(self, delegate: HTTPServerConnectionDelegate) -> None:
        """Sends our SETTINGS and starts reading frames for ``delegate``."""
        self._delegate = delegate
        conn = self._h2
        codes = h2.settings.SettingCodes
        ours = {
            codes.MAX_CONCURRENT_STREAMS: self._max_concurrent,
            codes.INITIAL_WINDOW_SIZE: self._window,
            codes.MAX_HEADER_LIST_SIZE: self.params.max_header_size,
            codes.ENABLE_CONNECT_PROTOCOL: 1,
        }
        # h2 treats a stream over MAX_CONCURRENT_STREAMS as a connection
        # error, but RFC 9113 5.1.2 has a stream error, and a client may
        # rightly open more streams before our SETTINGS reach it.  So h2 is
        # given no limit, the peer is told ours, and _on_request refuses
        # the streams over it with REFUSED_STREAM.  (Values given to
        # Settings() are those of the first SETTINGS frame; the setters
        # would only queue a change for later.)
        conn.local_settings = h2.settings.Settings(
            client=False,
            initial_values={**ours, codes.MAX_CONCURRENT_STREAMS: 2**31 - 1},
        )
        conn.initiate_connection()
        conn.clear_outbound_data_buffer()
        frame = SettingsFrame(0)
        frame.settings = {int(k): v for k, v in conn.local_settings.items()}
        frame.settings.update({int(k): v for k, v in ours.items()})
        self._write(frame.serialize())
        # Enforced before the peer acknowledges the SETTINGS too.
        conn.decoder.max_header_list_size = self.params.max_header_size
        if _CONNECTION_WINDOW > 65535:
            conn.increment_flow_control_window(_CONNECTION_WINDOW - 65535)
        stream = self.stream
        try:
            stream.set_nodelay(True)
        except Exception:
            pass
        stream.set_close_callback(self._on_stream_closed)
        self._write(conn.data_to_send())
        self._arm_idle()
        stream._set_data_callback(self._on_bytes)

    async def close(self) -> None:
        """Closes the connection at once (streams in flight are told of the
        close) and returns when it is done."""
        if not self.stream.closed():
            if not self._closing:
                self._goaway(ErrorCodes.NO_ERROR)
            self.stream.close()
        await asyncio.wait((self._done,))

    def _begin_drain(self) -> None:
        """Graceful shutdown: GOAWAY naming the last stream we will serve,
        then the streams in flight finish, then the connection closes."""
        if self._closing or self.stream.closed():
            return
        self._draining = True
        self._last_stream_id = self._h2.highest_inbound_stream_id
        # h2 would refuse to send anything after its own GOAWAY, so this
        # one is framed here and queued behind h2's output.
        self._flush()
        frame = GoAwayFrame(0)
        frame.last_stream_id = self._last_stream_id
        frame.error_code = ErrorCodes.NO_ERROR
        self._write(frame.serialize())
        self._maybe_done_draining()

    def _maybe_done_draining(self) -> None:
        if self._draining and not self._streams and not self.stream.closed():
            self._goaway(ErrorCodes.NO_ERROR)

    def _goaway(self, code: int) -> None:
        """Sends GOAWAY with ``code`` and closes once it has been written."""
        if self._closing:
            return
        self._closing = True
        try:
            self._h2.close_connection(
                error_code=code, last_stream_id=self._h2.highest_inbound_stream_id
            )
        except h2.exceptions.ProtocolError:
            pass
        self._write_and_close(self._take_output())

    def _write_and_close(self, data: bytes) -> None:
        stream = self.stream
        if stream.closed():
            return
        stream._set_data_callback(None)
        if not data:
            stream.close()
            return
        written = stream.write(data)
        # A peer that reads nothing can't hold us: the close comes after
        # a short grace period anyway.
        timer = self.io_loop.call_later(5.0, stream.close)

        def close(f: "Future[None]") -> None:
            if not f.cancelled():
                f.exception()
            self.io_loop.remove_timeout(timer)
            stream.close()

        written.add_done_callback(close)

    def _on_stream_closed(self) -> None:
        if self._idle_timer is not None:
            self.io_loop.remove_timeout(self._idle_timer)
            self._idle_timer = None
        streams, self._streams = self._streams, {}
        for s in streams.values():
            s._on_closed()
        self._pending.clear()
        self._blocked.clear()
        if not self._done.done():
            self._done.set_result(None)
            delegate, self._delegate = self._delegate, None
            if delegate is not None:
                delegate.on_close(self)

    # -- Idle and stall timeout --------------------------------------------------

    def _arm_idle(self) -> None:
        self._idle_timer = self.io_loop.call_later(self._idle_timeout, self._check_idle)

    def _check_idle(self) -> None:
        self._idle_timer = None
        if self.stream.closed():
            return
        now = self.io_loop.time()
        quiet = now - self._last_activity
        # Idle: no stream and nothing received.  Stalled: streams wait for
        # a window the peer never reopens (CVE-2019-9517), or hold back
        # data it never reads.
        stalled = bool(self._blocked) or self.stream.writing()
        if quiet >= self._idle_timeout and (not self._streams or stalled):
            gen_log.info("Closing idle HTTP/2 connection from %s", self.context)
            self._goaway(ErrorCodes.NO_ERROR)
            # The peer may not read our GOAWAY either.
            self.io_loop.call_later(1.0, self.stream.close)
            return
        wait = (
            self._idle_timeout - quiet
            if quiet < self._idle_timeout
            else self._idle_timeout
        )
        self._idle_timer = self.io_loop.call_later(wait, self._check_idle)

    # -- Receiving ---------------------------------------------------------------

    def _on_bytes(self, data: bytes) -> None:
        self._last_activity = self.io_loop.time()
        self._in_receive = True
        try:
            if self._framing:
                self._receive_frames(data)
            else:
                self._feed_h2(data)
        finally:
            self._in_receive = False
        if not self._closing:
            self._flush()
            if (
                self.stream.writing()
                and len(self.stream._write_buffer) > _MAX_OUTBOUND_BACKLOG
            ):
                # The peer sends faster than it reads: read no more until
                # our answers have left.
                self._pause_reading()

    def _feed_h2(self, data: bytes) -> bool:
        """Gives ``data`` to h2 and handles its events; False once the
        connection is ending."""
        if not data:
            return not self._closing
        try:
            events = self._h2.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            # h2 has queued the GOAWAY with the error's code.
            gen_log.info("HTTP/2 protocol error from %s: %s", self.context, e)
            self._closing = True
            self._write_and_close(self._take_output())
            return False
        self._handle_events(events)
        return not self._closing

    def _receive_frames(self, data: bytes) -> None:
        """Splits the inbound bytes into frames and runs the common stream
        without h2.

        Nearly every request a client repeats is one HEADERS frame with
        END_HEADERS and END_STREAM whose header block our HPACK decoder
        has decoded before with the same table (so decoding it changes
        nothing), answered with HEADERS and DATA.  Such a stream, when it
        may be opened (a new odd id, under the concurrency limit, no
        drain), is started here with no h2 stream behind it (`_fast`); its
        response is framed by `_pump_out_fast`, within the peer's windows
        (h2's connection window is charged too), and the frames the peer
        may still send on it (WINDOW_UPDATE, RST_STREAM) are handled by
        `_fast_stream_frame`.  Everything else goes to h2 unchanged, as
        whole frames in their order: the preface, SETTINGS, PING,
        connection WINDOW_UPDATE, GOAWAY, every other stream.  h2 learns
        the ids of our streams (``highest_inbound_stream_id``), so its
        checks of new stream ids and its GOAWAY are unchanged.
        """
        if type(data) is not bytes:
            data = bytes(data)
        if self._partial:
            data = self._partial + data
            self._partial = b""
        pos = 0
        if self._preface_left:
            # h2 checks the preface.
            pos = min(self._preface_left, len(data))
            self._preface_left -= pos
            if not self._feed_h2(data[:pos]):
                return
        frames, pos, too_long = _split_frames(data, pos, self._h2.max_inbound_frame_size)
        if not too_long and pos < len(data):
            self._partial = data[pos:]
        # A read with a RST_STREAM in it may be a rapid reset: its new
        # streams go through h2, which skips those reset in the same read.
        fast_ok = not self._in_header_block and all(f[0] != _RST_STREAM for f in frames)
        streams = self._streams
        batch = -1  # start of the frames waiting to go to h2
        for ftype, flags, sid, start, end in frames:
            if self._in_header_block:
                if batch < 0:
                    batch = start
                if ftype == _CONTINUATION and flags & _END_HEADERS:
                    self._in_header_block = False
                continue
            s = streams.get(sid) if sid else None
            if s is not None and not s._fast:
                s = None
            if s is not None or (
                ftype == _HEADERS and fast_ok and (flags & _FAST_FLAGS) == _END_STREAM | _END_HEADERS
            ):
                # A frame for one of our streams, or maybe a new one: what
                # h2 has to do first is done first.
                if batch >= 0:
                    if not self._feed_h2(data[batch:start]):
                        return
                    batch = -1
                if (
                    self._fast_stream_frame(s, ftype, data, start, end)
                    if s is not None
                    else self._start_fast(sid, flags, data, start, end)
                ):
                    if self._closing:
                        return
                    continue
            if batch < 0:
                batch = start
            if (ftype == _HEADERS or ftype == _PUSH_PROMISE) and not flags & _END_HEADERS:
                self._in_header_block = True
        if batch >= 0:
            if not self._feed_h2(data[batch:pos]):
                return
        if too_long:
            # h2 fails the connection with FRAME_SIZE_ERROR.
            self._framing = False
            self._feed_h2(data[pos:])

    def _start_fast(self, sid: int, flags: int, data: bytes, start: int, end: int) -> bool:
        """Starts the request of a HEADERS frame (END_HEADERS and
        END_STREAM set, no padding) without h2, if it may be (see
        `_receive_frames`); False to leave the frame to h2."""
        conn = self._h2
        if (
            not sid & 1
            or sid <= conn.highest_inbound_stream_id
            or self._closing
            or self._draining
            or len(self._streams) >= self._max_concurrent
            or conn.state_machine.state not in _OPEN_STATES
        ):
            return False
        block = start + 9
        if flags & _PRIORITY_FLAG:
            if end - block < 5 or int.from_bytes(data[block : block + 4], "big") & 0x7FFFFFFF == sid:
                return False  # h2 answers the self-dependency
            block += 5
        fields = conn.decoder._memo.get(data[block:end])
        if fields is None:
            return False
        try:
            method, path, _, protocol, headers = _parse_request_head(fields)
        except _MalformedHeaders:
            return False
        if protocol is not None or method == "CONNECT" or path is None:
            return False
        conn.highest_inbound_stream_id = sid
        self._open_stream(sid, method, path, headers, False, True, True)
        return True

    def _fast_stream_frame(
        self, s: HTTP2Stream, ftype: int, data: bytes, start: int, end: int
    ) -> bool:
        """A frame on a stream run without h2, which the peer has ended
        (half-closed (remote), RFC 9113 5.1); False to pass it to h2."""
        if end - start == 13 and (ftype == _WINDOW_UPDATE or ftype == _RST_STREAM):
            value = int.from_bytes(data[start + 9 : end], "big")
            if ftype == _RST_STREAM:
                self._close_stream(s)
                self._count_flood(1, 0)
                return True
            increment = value & 0x7FFFFFFF
            if not increment:
                self._reset(s, ErrorCodes.PROTOCOL_ERROR)  # RFC 9113 6.9
            elif s._window + increment > _MAX_WINDOW:
                self._reset(s, ErrorCodes.FLOW_CONTROL_ERROR)  # RFC 9113 6.9.1
            else:
                s._window += increment
                if s in self._blocked:
                    del self._blocked[s]
                    self._pending[s] = None
            return True
        if ftype == _PRIORITY:
            return False  # h2 checks it and reports it; nothing to do
        # DATA or HEADERS after END_STREAM, or a malformed frame: the
        # stream is over, and h2 answers the frame as on a stream closed
        # by END_STREAM (RST_STREAM STREAM_CLOSED, or a connection error).
        self._close_stream(s, StreamClosedBy.RECV_END_STREAM)
        return False

    def _close_stream(self, s: HTTP2Stream, how: Any = None) -> None:
        """``s`` is gone (the peer reset it, unless ``how`` says
        otherwise): forget it and tell it."""
        if self._streams.pop(s.stream_id, None) is not None:
            self._note_closed(s.stream_id, how or StreamClosedBy.RECV_RST_STREAM)
            self._pending.pop(s, None)
            self._blocked.pop(s, None)
            s._on_closed()
            self._maybe_done_draining()

    def _note_closed(self, sid: int, how: Any) -> None:
        """Tells h2 how a stream it did not run was closed, as it records
        its own: frames that come later on it then get the answer RFC 9113
        5.1 gives for that way of closing (ignored after our RST_STREAM, a
        STREAM_CLOSED error after END_STREAM), not the one for an id that
        was never used.  (h2 keeps a bounded record.)"""
        closed = self._closed_record
        if closed is not None:
            closed[sid] = how

    def _pause_reading(self) -> None:
        stream = self.stream
        if self._paused_reading:
            return
        self._paused_reading = True
        stream._set_data_callback(None)
        waiter = stream.write(b"")

        def resume(f: "Future[None]") -> None:
            if not f.cancelled():
                f.exception()
            self._paused_reading = False
            if not stream.closed() and not self._closing:
                stream._set_data_callback(self._on_bytes)

        waiter.add_done_callback(resume)

    def _count_flood(self, resets: int, control: int) -> bool:
        """Counts resets and control frames; True (and GOAWAY
        ENHANCE_YOUR_CALM) when the peer exceeds the limits."""
        now = self.io_loop.time()
        if now - self._flood_start > _FLOOD_WINDOW:
            self._flood_start = now
            self._resets = self._control = 0
        self._resets += resets
        self._control += control
        if self._resets > _MAX_RESETS or self._control > _MAX_CONTROL_FRAMES:
            gen_log.info(
                "HTTP/2 flood (%d resets, %d control frames) from %s",
                self._resets,
                self._control,
                self.context,
            )
            # The answers queued for this batch are not sent.
            self._h2.clear_outbound_data_buffer()
            self._fast_out.clear()
            self._goaway(ErrorCodes.ENHANCE_YOUR_CALM)
            return True
        return False

    def _handle_events(self, events: List[Any]) -> None:
        ev = h2.events
        resets = control = 0
        reset_ids: Optional[Set[int]] = None
        for event in events:
            kind = type(event)
            if kind is ev.StreamReset:
                if event.remote_reset:
                    resets += 1
                    if reset_ids is None:
                        reset_ids = set()
                    reset_ids.add(event.stream_id)
            elif kind is ev.PingReceived or kind is ev.RemoteSettingsChanged:
                control += 1
        if (resets or control) and self._count_flood(resets, control):
            return
        streams = self._streams
        for event in events:
            kind = type(event)
            if kind is ev.RequestReceived:
                if reset_ids is not None and event.stream_id in reset_ids:
                    # Reset in the same read: never started.
                    continue
                self._on_request(event)
            elif kind is ev.DataReceived:
                s = streams.get(event.stream_id)
                if s is None:
                    self._ack(event.stream_id, event.flow_controlled_length)
                else:
                    s._on_data(event.data, event.flow_controlled_length)
            elif kind is ev.StreamEnded:
                s = streams.get(event.stream_id)
                if s is not None:
                    s._on_end()
            elif kind is ev.StreamReset:
                s = streams.pop(event.stream_id, None)
                if s is not None:
                    self._pending.pop(s, None)
                    self._blocked.pop(s, None)
                    s._on_closed()
                    self._maybe_done_draining()
            elif kind is ev.WindowUpdated:
                self._unblock(event)
            elif kind is ev.RemoteSettingsChanged:
                changed = event.changed_settings.get(
                    h2.settings.SettingCodes.INITIAL_WINDOW_SIZE
                )
                if changed is not None:
                    # h2 moves its streams' windows by the change
                    # (RFC 9113 6.9.2); ours move the same.
                    delta = changed.new_value - (
                        65535 if changed.original_value is None else changed.original_value
                    )
                    for s in streams.values():
                        if s._fast:
                            s._window += delta
                            if s._window > _MAX_WINDOW:
                                self._goaway(ErrorCodes.FLOW_CONTROL_ERROR)
                                return
                self._unblock(event)
            elif kind is ev.TrailersReceived:
                try:
                    _check_trailers(event.headers)
                except _MalformedHeaders as e:
                    gen_log.info(
                        "Malformed HTTP/2 trailers from %s: %s", self.context, e
                    )
                    s = streams.get(event.stream_id)
                    if s is not None:
                        self._reset(s, ErrorCodes.PROTOCOL_ERROR)
                    else:
                        try:
                            self._h2.reset_stream(
                                event.stream_id, ErrorCodes.PROTOCOL_ERROR
                            )
                        except h2.exceptions.ProtocolError:
                            pass
            elif kind is ev.ConnectionTerminated:
                self._closing = True
                self._write_and_close(self._take_output())
                return
            # PingReceived (h2 answers), SettingsAcknowledged,
            # PriorityUpdated:
            # nothing to do.

    def _on_request(self, event: Any) -> None:
        sid = event.stream_id
        conn = self._h2
        if (
            self._draining
            and self._last_stream_id is not None
            and sid > self._last_stream_id
        ):
            conn.reset_stream(sid, ErrorCodes.REFUSED_STREAM)
            return
        if len(self._streams) >= self._max_concurrent:
            # Counted as a reset: refusing costs little, but not nothing.
            conn.reset_stream(sid, ErrorCodes.REFUSED_STREAM)
            self._count_flood(1, 0)
            return
        try:
            method, path, authority, protocol, headers = _parse_request_head(
                event.headers
            )
        except _MalformedHeaders as e:
            gen_log.info("Malformed HTTP/2 request from %s: %s", self.context, e)
            conn.reset_stream(sid, ErrorCodes.PROTOCOL_ERROR)
            return
        websocket = False
        if method == "CONNECT" and protocol is not None:
            if protocol.lower() != "websocket":
                conn.reset_stream(sid, ErrorCodes.REFUSED_STREAM)
                return
            # RFC 8441 5: give WebSocketHandler the HTTP/1.1 handshake it
            # knows; the key is ours, its answer is never sent.
            websocket = True
            method = "GET"
            headers["Upgrade"] = "websocket"
            headers["Connection"] = "Upgrade"
            if "Sec-Websocket-Key" not in headers:
                headers["Sec-WebSocket-Key"] = base64.b64encode(os.urandom(16)).decode()
        if method is None or path is None:
            conn.reset_stream(sid, ErrorCodes.PROTOCOL_ERROR)
            return
        self._open_stream(sid, method, path, headers, websocket, event.stream_ended, False)

    def _open_stream(
        self,
        sid: int,
        method: str,
        path: str,
        headers: HTTPHeaders,
        websocket: bool,
        ended: bool,
        fast: bool,
    ) -> None:
        """Starts the request of a new stream (its head checked); ``ended``
        if the head ended the stream, ``fast`` if h2 does not run it (see
        `_receive_frames`)."""
        ctx = self.context
        if ctx is not None:
            ctx = _copy(ctx)
        s = HTTP2Stream(self, sid, ctx)
        s._websocket = websocket
        if fast:
            s._fast = True
            s._window = self._h2.remote_settings.initial_window_size
        self._streams[sid] = s
        if not ended:
            # A body follows (a GET without one skips these lookups).
            fields = headers._as_list
            expect = fields.get("Expect")
            if (
                expect is not None
                and not websocket
                and expect[-1].lower() == "100-continue"
            ):
                s._expect_continue = True
            length = fields.get("Content-Length")
            if length is not None:
                try:
                    declared = int(",".join(length))
                except ValueError:
                    declared = -1
                if declared > s._max_body_size:
                    s._too_large()
                    return
        assert self._delegate is not None
        try:
            delegate = self._delegate.start_request(self, s)
            if self.params.decompress:
                delegate = _GzipMessageDelegate(delegate, s)  # type: ignore[arg-type]
        except Exception:
            app_log.error("Uncaught exception", exc_info=True)
            self._reset(s, ErrorCodes.INTERNAL_ERROR)
            return
        s._start(delegate, RequestStartLine(method, path, "HTTP/2.0"), headers)
        if fast:
            # (h2 would report the END_STREAM as an event of its own.)
            s._on_end()

    def _ack(self, stream_id: int, flow: int) -> None:
        """Reopens the windows by ``flow`` bytes the application is done
        with (h2 sends WINDOW_UPDATE once enough has accumulated)."""
        if flow and not self._closing:
            try:
                self._h2.acknowledge_received_data(flow, stream_id)
            except h2.exceptions.ProtocolError:
                pass
            self._flush_soon()

    def _unblock(self, event: Any) -> None:
        if not self._blocked:
            return
        if type(event) is h2.events.WindowUpdated and event.stream_id:
            s = self._streams.get(event.stream_id)
            if s is not None and s in self._blocked:
                del self._blocked[s]
                self._pending[s] = None
            return
        # The connection window or the initial window changed: all retry.
        for s in self._blocked:
            self._pending[s] = None
        self._blocked.clear()

    # -- Sending -----------------------------------------------------------------

    def _dirty(self, s: HTTP2Stream) -> None:
        """``s`` has output for h2: flush at the end of this read, or on
        the next IOLoop iteration."""
        if s not in self._blocked:
            self._pending[s] = None
        self._flush_soon()

    def _flush_soon(self) -> None:
        if not self._flush_scheduled and not self._in_receive:
            self._flush_scheduled = True
            self.io_loop.add_callback(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        if not self._closing or self._draining:
            self._flush()

    def _reset(self, s: HTTP2Stream, code: int) -> None:
        if self._streams.pop(s.stream_id, None) is not None:
            if s._fast:
                self._note_closed(s.stream_id, StreamClosedBy.SEND_RST_STREAM)
                self._queue_frame(_frame(_RST_STREAM, 0, s.stream_id, int(code).to_bytes(4, "big")))
            else:
                try:
                    self._h2.reset_stream(s.stream_id, code)
                except h2.exceptions.ProtocolError:
                    pass
            self._pending.pop(s, None)
            self._blocked.pop(s, None)
            s._on_closed()
            self._flush_soon()
            self._maybe_done_draining()

    def _flush(self) -> None:
        """Moves every pending stream's output into h2 (as far as the
        windows allow) and h2's bytes to the socket, in one write."""
        if self.stream.closed():
            return
        pending = self._pending
        done_waiters: List[Future[None]] = []
        while pending:
            s = next(iter(pending))
            del pending[s]
            if s._fast:
                self._pump_out_fast(s, done_waiters)
            else:
                self._pump_out(s, done_waiters)
        data = self._take_output()
        if data:
            written = self.stream.write(data)
            if done_waiters:
                if written.done():
                    _resolve(done_waiters)
                else:
                    written.add_done_callback(lambda f: _resolve(done_waiters))
        elif done_waiters:
            _resolve(done_waiters)

    def _pump_out(self, s: HTTP2Stream, done_waiters: List["Future[None]"]) -> None:
        conn = self._h2
        sid = s.stream_id
        if s._closed:
            return
        try:
            head = s._head
            if head is not None:
                s._head = None
                s._head_sent = True
                end = s._finish_out and not s._out
                conn.send_headers(sid, head, end_stream=end)
                if end:
                    s._ended_out = True
            if not s._head_sent:
                # Writes before write_headers: nothing to send yet.
                return
            out = s._out
            while out:
                piece = s._next_piece(
                    conn.local_flow_control_window(sid), conn.max_outbound_frame_size
                )
                if piece is None:
                    break
                chunk, last = piece
                conn.send_data(sid, chunk, end_stream=last)
                if last:
                    s._ended_out = True
            if out:
                self._blocked[s] = None
            elif s._finish_out and not s._ended_out:
                conn.end_stream(sid)
                s._ended_out = True
        except h2.exceptions.StreamClosedError:
            self._streams.pop(sid, None)
            s._on_closed()
            return
        except h2.exceptions.ProtocolError as e:
            gen_log.info("HTTP/2 stream %d send failed: %s", sid, e)
            self._reset(s, ErrorCodes.INTERNAL_ERROR)
            return
        s._take_written(done_waiters)
        if s._tunnel is not None and len(s._out) <= 4:
            s._tunnel.resume()
        if s._ended_out:
            if sid in self._reset_after_end:
                self._reset_after_end.discard(sid)
                if not s._read_done or s._tunnel is not None:
                    # RFC 9113 8.1: the rest of the request is not wanted.
                    try:
                        conn.reset_stream(sid, ErrorCodes.NO_ERROR)
                    except h2.exceptions.ProtocolError:
                        pass
                self._streams.pop(sid, None)
                s._closed = True
                self._maybe_done_draining()
            else:
                self._maybe_forget(s)

    def _pump_out_fast(self, s: HTTP2Stream, done_waiters: List["Future[None]"]) -> None:
        """`_pump_out` for a stream h2 does not run: frames its head and
        as much of its body as the peer's windows allow (the stream's,
        and h2's connection window, which is charged)."""
        if s._closed:
            return
        conn = self._h2
        sid = s.stream_id
        parts: List[bytes] = []
        head = s._head
        if head is not None:
            s._head = None
            s._head_sent = True
            end = s._finish_out and not s._out
            block = conn.encoder.encode(head)
            parts.append(_head_frames(sid, block, end, conn.max_outbound_frame_size))
            if end:
                s._ended_out = True
        if not s._head_sent:
            return
        out = s._out
        pack = _FRAME_HEAD.pack
        while out:
            piece = s._next_piece(
                min(s._window, conn.outbound_flow_control_window), conn.max_outbound_frame_size
            )
            if piece is None:
                break
            chunk, last = piece
            n = len(chunk)
            s._window -= n
            conn.outbound_flow_control_window -= n
            parts.append(pack(n >> 8, n & 0xFF, _DATA, _END_STREAM if last else 0, sid))
            parts.append(chunk)
            if last:
                s._ended_out = True
        if out:
            self._blocked[s] = None
        elif s._finish_out and not s._ended_out:
            parts.append(_frame(_DATA, _END_STREAM, sid, b""))
            s._ended_out = True
        if parts:
            self._queue_frame(b"".join(parts))
        s._take_written(done_waiters)
        if s._ended_out:
            # The peer ended its side with the request: the stream is
            # closed (a refused request's reset after the end is not
            # needed either).
            self._reset_after_end.discard(sid)
            self._maybe_forget(s)

    def _queue_frame(self, data: bytes) -> None:
        """Queues frames we made, behind what h2 has queued so far."""
        out = self._fast_out
        pending = self._h2.data_to_send()
        if pending:
            out.append(pending)
        out.append(data)

    def _take_output(self) -> bytes:
        """All queued output, ours and h2's, in order."""
        out = self._fast_out
        if not out:
            return self._h2.data_to_send()
        out.append(self._h2.data_to_send())
        data = b"".join(out)
        out.clear()
        return data

    def _maybe_forget(self, s: HTTP2Stream) -> None:
        """Drops a stream once both directions are done."""
        if s._ended_out and s._read_done and not s._inbox:
            if self._streams.pop(s.stream_id, None) is not None:
                if s._fast:
                    self._note_closed(s.stream_id, StreamClosedBy.SEND_END_STREAM)
                s._closed = True
                s._delegate = None
                self._maybe_done_draining()

    def _write(self, data: bytes) -> None:
        if data and not self.stream.closed():
            self.stream.write(data)


def _resolve(futures: List["Future[None]"]) -> None:
    for f in futures:
        future_set_result_unless_cancelled(f, None)


def _copy(ctx: Any) -> Any:
    """A shallow copy of a connection context, for one stream."""
    new = object.__new__(type(ctx))
    new.__dict__.update(ctx.__dict__)
    return new


def _offer_h2(server: Any) -> None:
    """Makes a TLS `.TCPServer` offer ``h2`` by ALPN (see `_with_alpn`)."""
    if server.ssl_options is not None:
        server.ssl_options = _with_alpn(server.ssl_options)


def _with_alpn(ssl_options: Any) -> Any:
    """The server's TLS settings with ALPN offering ``h2`` then
    ``http/1.1``.  A dict of options becomes a new `ssl.SSLContext` (the
    caller's dict is left alone); a context is changed in place, as ALPN
    can only be set on the context itself."""
    from tornado.netutil import ssl_options_to_context

    if isinstance(ssl_options, dict):
        ssl_options = ssl_options_to_context(ssl_options, server_side=True)
    ssl_options.set_alpn_protocols(["h2", "http/1.1"])
    return ssl_options


async def _speaks_h2(stream: iostream.IOStream, timeout: Optional[float]) -> bool:
    """Whether a new server connection speaks HTTP/2: over TLS, what ALPN
    chose (after the handshake); in cleartext, whether it opens with the
    preface."""
    if isinstance(stream, iostream.SSLIOStream):
        handshake: Awaitable[Any] = stream.wait_for_handshake()
        if timeout is not None:
            handshake = gen.with_timeout(
                stream.io_loop.time() + timeout,
                handshake,
                quiet_exceptions=iostream.StreamClosedError,
            )
        await handshake
        sock = stream.socket
        return sock is not None and sock.selected_alpn_protocol() == "h2"  # type: ignore[union-attr]
    return await _sniff_preface(stream, timeout)
