"""WebSocket protocol (RFC 6455) for servers and clients, with permessage-deflate.

WebSockets give a browser and a server a two-way channel of messages over one
TCP connection that starts life as an HTTP request.  This module has both
ends of it:

* `WebSocketHandler` is a `tornado.web.RequestHandler` that answers the
  opening handshake and then calls `~WebSocketHandler.open`,
  `~WebSocketHandler.on_message` and `~WebSocketHandler.on_close`.
* `websocket_connect` opens a client connection and returns a
  `WebSocketClientConnection` (which performs the handshake through
  `tornado.simple_httpclient`).

The wire format is kept apart from any I/O, in the style of h11: the
``_FrameReader`` turns bytes into frames and messages, ``_build_frame``
turns values into bytes, ``_parse_extensions`` and ``_negotiate_deflate``
handle the ``Sec-WebSocket-Extensions`` header, and the
``_PerMessageDeflate*`` classes implement RFC 7692.  All of them can be
tested by feeding bytes.  `WebSocketProtocol13` only moves bytes between an
`tornado.iostream.IOStream` and that codec, and calls the handler's hooks.

Per-connection state is kept small, since servers hold many idle
connections: an idle connection has no coroutine or Task of its own (reads
are driven by future callbacks), and zlib objects are created on first use.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import codecs
import contextvars
import functools
import hashlib
import os
import socket
import struct
import sys
import warnings
import zlib
from types import TracebackType
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Generator,
    List,
    Optional,
    Set,
    Tuple,
    Type,
    TypeVar,
    Union,
    cast,
)

from tornado import gen, httpclient, httputil, simple_httpclient
from tornado.concurrent import Future, future_set_result_unless_cancelled
from tornado.escape import json_encode, utf8
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, SSLIOStream, StreamClosedError
from tornado.log import app_log, gen_log
from tornado.netutil import Resolver
from tornado.queues import Queue
from tornado.tcpclient import TCPClient
from tornado.util import _websocket_mask
import tornado.web

_T = TypeVar("_T")

_default_max_message_size = 10 * 1024 * 1024

# The connections past their handshake and not yet over.  Frames are read
# by callbacks rather than by a task per connection, so without this set
# nothing but the event loop would reference an open connection, and one
# left open when its loop is closed (without closing the connection) would
# be collected at some arbitrary later moment, with a ResourceWarning for
# its socket.  Held here, it stays as it is, as a Tornado connection whose
# frame-reading task stays pending does.
_open_protocols: Set["WebSocketProtocol13"] = set()

# Logs a message only the first time it is seen with the same arguments, so
# that a misbehaving peer cannot fill the logs with one complaint.
de_dupe_gen_log = functools.lru_cache(gen_log.log)


class WebSocketError(Exception):
    """Base class for WebSocket errors."""


class WebSocketClosedError(WebSocketError):
    """Raised when sending on a connection that is closed or closing."""


class _DecompressTooLargeError(Exception):
    """A compressed message inflates to more than ``max_message_size``."""


class _WebSocketProtocolError(Exception):
    """The peer broke RFC 6455 (or RFC 7692).

    ``code`` is the close status code to fail the connection with (1002
    protocol error, 1007 bad data, 1009 too big), ``reason`` the text sent
    along with it.
    """

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# ---------------------------------------------------------------------------
# Frame codec (RFC 6455 section 5), free of I/O.
# ---------------------------------------------------------------------------

_FIN = 0x80
_RSV1 = 0x40
_RSV2 = 0x20
_RSV3 = 0x10
_RSV_MASK = _RSV1 | _RSV2 | _RSV3
_OPCODE_MASK = 0x0F

_OP_CONTINUATION = 0x0
_OP_TEXT = 0x1
_OP_BINARY = 0x2
_OP_CLOSE = 0x8
_OP_PING = 0x9
_OP_PONG = 0xA

_DATA_OPCODES = frozenset((_OP_TEXT, _OP_BINARY))
_CONTROL_OPCODES = frozenset((_OP_CLOSE, _OP_PING, _OP_PONG))

# RFC 6455 7.4: codes a peer may send in a Close frame.  1004, 1005, 1006 and
# 1015 are reserved and MUST NOT be sent; 1012-1014 were registered with IANA
# after the RFC; 3000-4999 belong to libraries and applications.
_VALID_CLOSE_CODES = frozenset(
    (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014)
)

_pack_short = struct.Struct("!BB").pack
_pack_medium = struct.Struct("!BBH").pack
_pack_long = struct.Struct("!BBQ").pack
_unpack_medium = struct.Struct("!H").unpack_from
_unpack_long = struct.Struct("!Q").unpack_from


def _valid_close_code(code: int) -> bool:
    return code in _VALID_CLOSE_CODES or 3000 <= code <= 4999


def _frame_header(first_byte: int, length: int, mask_bit: int) -> bytes:
    """The first two to ten bytes of a frame (RFC 6455 5.2)."""
    if length < 126:
        return _pack_short(first_byte, length | mask_bit)
    if length <= 0xFFFF:
        return _pack_medium(first_byte, 126 | mask_bit, length)
    return _pack_long(first_byte, 127 | mask_bit, length)


def _build_frame(
    fin: bool, opcode: int, payload: bytes, flags: int = 0, mask: bool = False
) -> bytes:
    """Encode one frame.

    ``flags`` holds the RSV bits.  Clients MUST mask every frame they send
    and servers MUST NOT (RFC 6455 5.1); the masking key comes from
    `os.urandom` as 5.3 asks for an unpredictable one.
    """
    first = (_FIN if fin else 0) | flags | opcode
    if mask:
        key = os.urandom(4)
        return _frame_header(first, len(payload), 0x80) + key + _websocket_mask(key, payload)
    return _frame_header(first, len(payload), 0) + payload


def _close_payload(code: Optional[int], reason: Optional[str]) -> bytes:
    """The body of a Close frame (RFC 6455 5.5.1): a code, then UTF-8 text."""
    if code is None:
        return b""
    data = struct.pack("!H", code)
    if reason is not None:
        data += utf8(reason)
    return data


class _FrameReader:
    """Turns received bytes into messages and control frames.

    Feed it with `feed`; `next_message` then returns ``(opcode, payload,
    compressed)`` for each complete data message (fragments joined, the
    opcode being that of the first fragment) or control frame, and None
    when it needs more bytes.  ``compressed`` says the message had RSV1 set
    (RFC 7692 6.1) and must be inflated by the caller.  Violations raise
    `_WebSocketProtocolError` carrying the close code to fail with.

    ``from_client`` is True on the server side: frames from a client MUST
    be masked, frames from a server MUST NOT be (RFC 6455 5.1).
    """

    __slots__ = (
        "_mask_bit",
        "max_message_size",
        "_deflate",
        "_buf",
        "_pos",
        "_pending",
        "_pending_len",
        "_fragments",
        "_fragments_len",
        "_fragment_opcode",
        "_fragment_compressed",
        "_utf8",
        "_checked",
    )

    def __init__(
        self, from_client: bool, max_message_size: int, deflate: bool = False
    ) -> None:
        # The mask bit every frame must have (RFC 6455 5.1).
        self._mask_bit = 0x80 if from_client else 0
        self.max_message_size = max_message_size
        self._deflate = deflate
        # Unparsed bytes are self._buf[self._pos:] followed by self._pending;
        # chunks are only joined once a whole frame has arrived, so a large
        # frame is copied a bounded number of times.
        self._buf = b""
        self._pos = 0
        self._pending: List[bytes] = []
        self._pending_len = 0
        self._fragments: Optional[List[bytes]] = None
        self._fragments_len = 0
        self._fragment_opcode = 0
        self._fragment_compressed = False
        # The UTF-8 check of an uncompressed text message that arrives in
        # parts (several frames, or a frame still arriving), and how many
        # payload bytes of the frame at self._pos it has seen.
        self._utf8: Optional[codecs.IncrementalDecoder] = None
        self._checked = 0

    def feed(self, data: bytes) -> None:
        if self._pos >= len(self._buf) and not self._pending_len:
            self._buf = data
            self._pos = 0
        else:
            self._pending.append(data)
            self._pending_len += len(data)

    def buffered(self) -> int:
        """The number of bytes received but not yet parsed."""
        return len(self._buf) - self._pos + self._pending_len

    def _contiguous(self, n: int) -> bool:
        """Make sure ``n`` unparsed bytes sit in ``self._buf``, if we have them."""
        have = len(self._buf) - self._pos
        if have >= n:
            return True
        if have + self._pending_len < n:
            return False
        self._buf = b"".join([self._buf[self._pos :]] + self._pending)
        self._pos = 0
        self._pending = []
        self._pending_len = 0
        return True

    def _peek(self, start: int, end: int) -> bytes:
        """Unparsed bytes ``start`` to ``end`` (counting from the first
        unparsed one), left in place."""
        pieces = []
        offset = -self._pos  # where the chunk at hand starts
        for chunk in [self._buf, *self._pending]:
            lo = max(start - offset, 0)
            hi = min(end - offset, len(chunk))
            if lo < hi:
                pieces.append(chunk[lo:hi])
            offset += len(chunk)
            if offset >= end:
                break
        return b"".join(pieces)

    def next_message(self) -> Optional[Tuple[int, bytes, bool]]:
        if self._pos >= len(self._buf) and not self._pending_len:
            return None  # everything received has been parsed
        while True:
            frame = self._next_frame()
            if frame is None:
                return None
            fin, flags, opcode, payload = frame
            if opcode in _CONTROL_OPCODES:
                return opcode, payload, False
            if fin and opcode and self._fragments is None:
                # A whole message in one frame: the common case.
                return opcode, payload, flags != 0
            result = self._add_data_frame(fin, flags, opcode, payload)
            if result is not None:
                return result

    def _add_data_frame(
        self, fin: bool, flags: int, opcode: int, payload: bytes
    ) -> Optional[Tuple[int, bytes, bool]]:
        # (_check_header has made sure that the frame belongs here.)
        if opcode == _OP_CONTINUATION:
            assert self._fragments is not None
            self._fragments.append(payload)
            self._fragments_len += len(payload)
            self._check_size(self._fragments_len)
            if not fin:
                return None
            data = b"".join(self._fragments)
            result = (self._fragment_opcode, data, self._fragment_compressed)
            self._fragments = None
            self._fragments_len = 0
            return result
        compressed = bool(flags)
        if fin:
            return opcode, payload, compressed
        self._fragments = [payload]
        self._fragments_len = len(payload)
        self._fragment_opcode = opcode
        self._fragment_compressed = compressed
        return None

    def _check_size(self, size: int) -> None:
        if size > self.max_message_size:
            raise _WebSocketProtocolError(1009, "message too big")

    def _next_frame(self) -> Optional[Tuple[int, int, int, bytes]]:
        """The next complete frame as ``(fin, rsv bits, opcode, payload)``
        (payload unmasked), or None if it has not fully arrived."""
        buf = self._buf
        pos = self._pos
        if len(buf) - pos < 2:
            if not self._contiguous(2):
                return None
            buf = self._buf
            pos = self._pos
        first = buf[pos]
        second = buf[pos + 1]
        masked = second & 0x80
        length = second & 0x7F
        opcode = first & _OPCODE_MASK
        if (
            (first != 0x81 and first != 0x82)
            or masked != self._mask_bit
            or self._fragments is not None
        ):
            # Anything but a final text or binary frame without RSV bits,
            # masked as it should be, outside a fragmented message, gets
            # the full set of checks.
            self._check_header(
                bool(first & _FIN), first & _RSV_MASK, opcode, masked, length
            )
        header_len = 6 if masked else 2
        if length >= 126:
            header_len += 2 if length == 126 else 8
            if len(buf) - pos < header_len:
                if not self._contiguous(header_len):
                    return None
                buf = self._buf
                pos = self._pos
            if length == 126:
                length = _unpack_medium(buf, pos + 2)[0]
                shortest = 126
            else:
                length = _unpack_long(buf, pos + 2)[0]
                if length >> 63:
                    # RFC 6455 5.2: the most significant bit MUST be 0.
                    raise _WebSocketProtocolError(1002, "frame length has its top bit set")
                shortest = 0x10000
            if length < shortest:
                # RFC 6455 5.2: "the minimal number of bytes MUST be used
                # to encode the length".
                raise _WebSocketProtocolError(
                    1002, "frame length %d not in its shortest form" % length
                )
        # Refuse an oversized frame before buffering it.  (Inflated sizes are
        # checked again by the decompressor.)
        if length > self.max_message_size:
            self._check_size(length)
        elif opcode == _OP_CONTINUATION:
            self._check_size(length + self._fragments_len)
        end = pos + header_len + length
        if len(buf) < end:
            if not self._contiguous(header_len + length):
                if first & (_RSV1 | _OPCODE_MASK) == _OP_TEXT or (
                    opcode == _OP_CONTINUATION and self._utf8 is not None
                ):
                    self._check_partial_text(header_len, masked)
                return None
            buf = self._buf
            pos = self._pos
            end = pos + header_len + length
        start = end - length
        if start == 0 and end == len(buf):
            payload = buf
        else:
            payload = buf[start:end]
        if masked:
            payload = _websocket_mask(buf[start - 4 : start], payload)
        self._pos = end
        if self._utf8 is not None or first & (_FIN | _RSV1 | _OPCODE_MASK) == _OP_TEXT:
            self._check_text_frame(first, payload)
        return first & _FIN, first & _RSV_MASK, opcode, payload

    # RFC 6455 8.1: text is UTF-8, and a receiver that finds otherwise
    # fails the connection.  A message that comes in parts is checked part
    # by part, so that the failure comes as soon as the bytes show it (as
    # the Autobahn TestSuite asks, cases 6.4.x), not after the peer has
    # sent the rest.  A message in one frame that arrived at once is left
    # to the caller, which decodes it anyway.  (Compressed text is checked
    # once inflated, as a whole.)

    def _check_text_frame(self, first: int, payload: bytes) -> None:
        """Check a complete frame of a text message in parts: its first
        frame when more follow, or any frame once checking has begun."""
        opcode = first & _OPCODE_MASK
        if opcode in _CONTROL_OPCODES:
            return  # between two fragments
        checked, self._checked = self._checked, 0
        decoder = self._utf8
        if first & _FIN:
            self._utf8 = None
            if opcode == _OP_TEXT:
                return  # the whole message is this frame
        if decoder is None:
            decoder = self._utf8 = codecs.getincrementaldecoder("utf-8")()
        _check_utf8(decoder, payload[checked:] if checked else payload, bool(first & _FIN))

    def _check_partial_text(self, header_len: int, masked: int) -> None:
        """Check the payload bytes of the text frame at ``self._pos`` that
        have arrived and were not checked yet."""
        have = self.buffered() - header_len
        checked = self._checked
        if have <= checked:
            return
        data = self._peek(header_len + checked, header_len + have)
        if masked:
            # The key applies from the first payload byte on; turn it to
            # start at byte ``checked``.
            key = self._peek(header_len - 4, header_len)
            turn = checked % 4
            data = _websocket_mask(key[turn:] + key[:turn], data)
        decoder = self._utf8
        if decoder is None:
            decoder = self._utf8 = codecs.getincrementaldecoder("utf-8")()
        _check_utf8(decoder, data, False)
        self._checked = have

    def _check_header(
        self, fin: bool, flags: int, opcode: int, masked: int, length: int
    ) -> None:
        if flags:
            # RFC 6455 5.2: RSV bits MUST be 0 unless an extension says what
            # they mean; permessage-deflate gives a meaning to RSV1 on data
            # frames only (RFC 7692 6).
            if flags != _RSV1 or not self._deflate:
                raise _WebSocketProtocolError(1002, "unexpected RSV bits %#x" % flags)
            if opcode in _CONTROL_OPCODES:
                raise _WebSocketProtocolError(1002, "RSV1 set on a control frame")
        if opcode in _CONTROL_OPCODES:
            # RFC 6455 5.5: control frames have at most 125 bytes of payload
            # and MUST NOT be fragmented.
            if length > 125:
                raise _WebSocketProtocolError(1002, "control frame too long")
            if not fin:
                raise _WebSocketProtocolError(1002, "fragmented control frame")
        elif opcode == _OP_CONTINUATION:
            if self._fragments is None:
                raise _WebSocketProtocolError(1002, "continuation frame with no message")
            if flags:
                # RFC 7692 6.1: RSV1 is only set on a message's first frame.
                raise _WebSocketProtocolError(1002, "RSV1 set on a continuation frame")
        elif opcode not in _DATA_OPCODES:
            raise _WebSocketProtocolError(1002, "unknown opcode %#x" % opcode)
        elif self._fragments is not None:
            # RFC 6455 5.4: a new data frame may not interrupt a fragmented one.
            raise _WebSocketProtocolError(
                1002, "new message started before the previous one ended"
            )
        if masked != self._mask_bit:
            if self._mask_bit:
                raise _WebSocketProtocolError(1002, "unmasked frame from a client")
            raise _WebSocketProtocolError(1002, "masked frame from a server")


def _check_utf8(decoder: codecs.IncrementalDecoder, data: bytes, final: bool) -> None:
    try:
        decoder.decode(data, final)
    except UnicodeDecodeError:
        raise _WebSocketProtocolError(1007, "text message is not UTF-8") from None


class _DiscardingReader(_FrameReader):
    """Takes the place of the `_FrameReader` of a failed connection: what
    the peer sends until it closes is dropped unread (RFC 6455 7.1.7)."""

    __slots__ = ()

    def __init__(self) -> None:
        pass

    def feed(self, data: bytes) -> None:
        pass

    def next_message(self) -> Optional[Tuple[int, bytes, bool]]:
        return None


_DISCARDING = _DiscardingReader()


def _parse_close(payload: bytes) -> Tuple[Optional[int], Optional[str]]:
    """Decode a Close frame's body into its code and reason (RFC 6455 5.5.1)."""
    if not payload:
        return None, None
    if len(payload) < 2:
        raise _WebSocketProtocolError(1002, "close frame with a one-byte body")
    code = _unpack_medium(payload, 0)[0]
    if not _valid_close_code(code):
        raise _WebSocketProtocolError(1002, "invalid close code %d" % code)
    if len(payload) == 2:
        return code, None
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise _WebSocketProtocolError(1007, "close reason is not UTF-8") from None
    return code, reason


# ---------------------------------------------------------------------------
# permessage-deflate (RFC 7692), free of I/O.
# ---------------------------------------------------------------------------

# RFC 7692 7.2.1: a compressed message is deflate data ending in an empty
# stored block flushed with Z_SYNC_FLUSH, minus these last four bytes.
_DEFLATE_TAIL = b"\x00\x00\xff\xff"


def _check_wbits(max_wbits: Optional[int]) -> int:
    if max_wbits is None:
        return zlib.MAX_WBITS
    if not (8 <= max_wbits <= zlib.MAX_WBITS):
        raise ValueError(
            "Invalid max_wbits value %r; allowed range 8-%d"
            % (max_wbits, zlib.MAX_WBITS)
        )
    return max_wbits


class _PerMessageDeflateCompressor:
    """Compresses outgoing messages.

    ``persistent`` is False when ``*_no_context_takeover`` was agreed: each
    message then starts with an empty window.  The zlib object is made on
    first use, since most connections of a busy server are idle.
    """

    __slots__ = ("_wbits", "_level", "_mem_level", "_persistent", "_zlib")

    def __init__(
        self,
        persistent: bool,
        max_wbits: Optional[int],
        compression_options: Optional[Dict[str, Any]] = None,
    ) -> None:
        # zlib cannot make raw deflate streams with a 256-byte window and
        # silently uses 512 instead; negotiation refuses 8 for our side.
        self._wbits = max(_check_wbits(max_wbits), 9)
        options = compression_options or {}
        self._level = options.get("compression_level", 6)
        self._mem_level = options.get("mem_level", 8)
        self._persistent = persistent
        self._zlib: Any = None

    def _new(self) -> Any:
        return zlib.compressobj(
            self._level, zlib.DEFLATED, -self._wbits, self._mem_level
        )

    def compress(self, data: bytes) -> bytes:
        compressor = self._zlib
        if compressor is None:
            compressor = self._new()
            if self._persistent:
                self._zlib = compressor
        data = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(_DEFLATE_TAIL)
        return data[:-4]


class _PerMessageDeflateDecompressor:
    """Inflates incoming messages, refusing to produce more than
    ``max_message_size`` bytes of any one of them (so that a small
    "compression bomb" cannot exhaust memory)."""

    __slots__ = ("_wbits", "_max_message_size", "_persistent", "_zlib")

    def __init__(
        self,
        persistent: bool,
        max_wbits: Optional[int],
        max_message_size: int,
        compression_options: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._wbits = _check_wbits(max_wbits)
        self._max_message_size = max_message_size
        self._persistent = persistent
        self._zlib: Any = None

    def decompress(self, data: bytes) -> bytes:
        decompressor = self._zlib
        if decompressor is None:
            decompressor = zlib.decompressobj(-self._wbits)
            if self._persistent:
                self._zlib = decompressor
        limit = self._max_message_size
        # Asking for one byte more than allowed tells "exactly at the limit"
        # from "over it" without inflating the rest.
        result = decompressor.decompress(data + _DEFLATE_TAIL, limit + 1)
        if len(result) > limit:
            raise _DecompressTooLargeError()
        return result


def _parse_extensions(header: str) -> List[Tuple[str, Dict[str, Optional[str]]]]:
    """Parse ``Sec-WebSocket-Extensions`` (RFC 6455 9.1) into a list of
    ``(name, {param: value or None})``, in the order offered.

    Raises ValueError for a parameter given twice, which RFC 7692 5 makes a
    reason to decline an offer.
    """
    result = []
    for item in header.split(","):
        parts = [p.strip() for p in item.split(";")]
        name = parts[0].lower()
        if not name:
            continue
        params: Dict[str, Optional[str]] = {}
        for part in parts[1:]:
            if not part:
                continue
            key, eq, value = part.partition("=")
            key = key.strip().lower()
            if key in params:
                raise ValueError("extension parameter %r given twice" % key)
            if eq:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                params[key] = value
            else:
                params[key] = None
        result.append((name, params))
    return result


_NO_CONTEXT_TAKEOVER = ("server_no_context_takeover", "client_no_context_takeover")
_DEFLATE_PARAMS = frozenset(
    (*_NO_CONTEXT_TAKEOVER, "server_max_window_bits", "client_max_window_bits")
)


def _window_bits(value: Optional[str], required: bool) -> Optional[int]:
    """Validate a ``*_max_window_bits`` value (RFC 7692 7.1.2)."""
    if value is None:
        if required:
            raise ValueError("max_window_bits needs a value")
        return None
    if not value.isdigit() or not (8 <= int(value) <= 15):
        raise ValueError("invalid max_window_bits %r" % value)
    return int(value)


def _negotiate_deflate(
    offers: List[Tuple[str, Dict[str, Optional[str]]]],
) -> Optional[Dict[str, Optional[str]]]:
    """Pick the first acceptable permessage-deflate offer (RFC 7692 5).

    Returns the parameters of the response to send (and to configure both
    ends with), or None to decline the extension.
    """
    for name, params in offers:
        if name != "permessage-deflate":
            continue
        if not _DEFLATE_PARAMS.issuperset(params):
            continue
        try:
            # (A server_max_window_bits offered at all needs a value.)
            server_bits = _window_bits(
                params.get("server_max_window_bits"), "server_max_window_bits" in params
            )
            client_bits = _window_bits(params.get("client_max_window_bits"), False)
        except ValueError:
            continue
        if server_bits == 8:
            # Our zlib cannot compress within a 256-byte window.
            continue
        if any(params.get(flag) is not None for flag in _NO_CONTEXT_TAKEOVER):
            continue  # these flags take no value
        agreed: Dict[str, Optional[str]] = {
            flag: None for flag in _NO_CONTEXT_TAKEOVER if flag in params
        }
        if server_bits is not None:
            agreed["server_max_window_bits"] = str(server_bits)
        if client_bits is not None:
            agreed["client_max_window_bits"] = str(client_bits)
        return agreed
    return None


class _WebSocketParams:
    """Settings of one connection, taken from the handler or
    `websocket_connect` arguments."""

    __slots__ = ("ping_interval", "ping_timeout", "max_message_size", "compression_options")

    def __init__(
        self,
        ping_interval: Optional[float] = None,
        ping_timeout: Optional[float] = None,
        max_message_size: int = _default_max_message_size,
        compression_options: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_message_size = max_message_size
        self.compression_options = compression_options


# Server connections with the same settings share one _WebSocketParams
# (nothing changes it after the handshake); only settings without
# compression options (a dict, so unhashable) are shared.
_params_cache: Dict[Tuple[Any, Any, Any], _WebSocketParams] = {}


def _shared_params(
    ping_interval: Optional[float],
    ping_timeout: Optional[float],
    max_message_size: int,
    compression_options: Optional[Dict[str, Any]],
) -> _WebSocketParams:
    key = (ping_interval, ping_timeout, max_message_size)
    if compression_options is None:
        try:
            params = _params_cache.get(key)
        except TypeError:  # an unhashable setting
            params = None
        else:
            if params is None:
                if len(_params_cache) >= 32:
                    _params_cache.clear()
                params = _params_cache[key] = _WebSocketParams(*key)
        if params is not None:
            return params
    return _WebSocketParams(*key, compression_options)


# ---------------------------------------------------------------------------
# Server side: the request handler.
# ---------------------------------------------------------------------------

# Sec-WebSocket-Version values we speak: 13 is RFC 6455; 7 and 8 were drafts
# whose framing is the same.
_SUPPORTED_VERSIONS = ("7", "8", "13")


def _refuser(name: str) -> Callable[..., None]:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("%s() is not available once the connection speaks WebSocket" % name)

    refuse.__name__ = name
    return refuse


# After the 101 response the socket belongs to the WebSocket protocol; these
# HTTP response methods are replaced on the handler instance by functions
# that raise RuntimeError.  Built once here, so an upgrade allocates nothing
# for them.
_AFTER_UPGRADE = {name: _refuser(name) for name in "finish flush redirect set_cookie set_header set_status write".split()}


def _nothing() -> None:
    pass


def _request_context(handler: WebSocketHandler) -> contextvars.Context:
    """The context ``handler``'s request runs in: the application's, or
    (while ``_execute`` is replaced) its task's where asyncio tells it
    (Python 3.12+), else a copy of the current one."""
    context = handler._request_context
    if context is not None:
        return context
    task = asyncio.current_task()
    get_context = getattr(task, "get_context", None)
    return get_context() if get_context is not None else contextvars.copy_context()


class _ConnectionEnd:
    """What `WebSocketHandler.get` returns once it has answered 101:
    awaiting it waits until the connection has ended and ``on_close`` has
    run, as awaiting Tornado's coroutine ``get`` does (subclasses write
    ``await super().get(*args, **kwargs)`` and go on after the end).  The
    request's own `~.RequestHandler._execute` does not wait for it (the
    101 response is complete), so an idle connection keeps no coroutine
    or future for it unless somebody awaits it."""

    __slots__ = ("_handler",)

    def __init__(self, handler: "WebSocketHandler") -> None:
        self._handler = handler

    def __await__(self) -> Generator[Any, None, None]:
        return self._handler._connection_end().__await__()


class _Answered:
    """What `WebSocketHandler.get` returns when it has refused the
    handshake: awaiting it returns at once."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield


_ANSWERED = _Answered()


class WebSocketHandler(tornado.web.RequestHandler):
    """A request handler that upgrades its GET request to a WebSocket.

    Write the endpoint by overriding `on_message`, and usually `open` and
    `on_close`; send with `write_message`, `ping` and `close`.  Until the
    upgrade this is an ordinary handler: `.RequestHandler.prepare` runs and
    may turn the request down with a `tornado.web.HTTPError`, and headers
    set there or in `.RequestHandler.set_default_headers` are part of the
    101 answer.  From then on the socket carries WebSocket frames, and the
    HTTP response methods (``write``, ``finish``, ``set_header`` ...)
    raise `RuntimeError`.

    The ``websocket_ping_interval``, ``websocket_ping_timeout`` and
    ``websocket_max_message_size`` application settings configure every
    connection (see the properties of the same names).
    """

    def __init__(self, application: tornado.web.Application, request: httputil.HTTPServerRequest, **kwargs: Any) -> None:
        super().__init__(application, request, **kwargs)
        self._on_close_called = False
        self.close_reason: Optional[str] = None
        self.close_code: Optional[int] = None
        self.ws_connection: Optional[WebSocketProtocol] = None

    def get(self, *args: Any, **kwargs: Any) -> Awaitable[None]:
        """Answers the opening handshake (RFC 6455 4.2).

        A request that is no proper upgrade gets 400, one whose ``Origin``
        `check_origin` rejects 403, and an unknown ``Sec-WebSocket-Version``
        426 with the list of versions we do speak.

        Returns an awaitable, as a coroutine ``get`` would: awaiting it
        (``await super().get(...)`` in a subclass) returns once the
        connection has ended and `on_close` has run, or at once if the
        handshake was refused.
        """
        self.open_args = args
        # kwargs is a fresh copy of path_kwargs (usually empty); keeping
        # the handler's own dict instead saves memory per connection.
        path_kwargs = getattr(self, "path_kwargs", None)
        self.open_kwargs = path_kwargs if path_kwargs == kwargs else kwargs
        headers = self.request.headers

        # RFC 6455 4.2.1 items 3 and 4: "Upgrade: websocket" and a
        # Connection header with the "Upgrade" token, both case-insensitive.
        if headers.get("Upgrade", "").strip().lower() != "websocket":
            return self._refuse(400, 'Can "Upgrade" only to "WebSocket".')
        if not _has_token(headers.get("Connection", ""), "upgrade"):
            return self._refuse(400, '"Connection" must be "Upgrade".')

        # Browsers always send Origin with a WebSocket handshake; clients
        # that don't are not browsers and are not subject to the same-origin
        # policy, so they are let through.
        origin = headers.get("Origin")
        if origin is None:
            origin = headers.get("Sec-Websocket-Origin")
        if origin is not None and not self.check_origin(origin):
            return self._refuse(403, "Cross origin websockets not allowed")

        self.ws_connection = self.get_websocket_protocol()
        if self.ws_connection is None:
            # RFC 6455 4.4: answer with the versions we support.
            self.set_status(426)
            self.set_header("Sec-WebSocket-Version", ", ".join(_SUPPORTED_VERSIONS))
            self.finish()
            return _ANSWERED

        key = headers.get("Sec-WebSocket-Key")
        if not _valid_key(key):
            self.ws_connection = None
            return self._refuse(400, "Missing or invalid Sec-WebSocket-Key header")
        opening = self.ws_connection.accept_connection(self)
        # (A protocol may hand back an asynchronous open() for the request
        # to wait for: tornado.asgi's does.)
        return _ConnectionEnd(self) if opening is None else opening

    def _refuse(self, status: int, message: str) -> Awaitable[None]:
        self.set_status(status)
        self.finish(message)
        gen_log.debug("Refused WebSocket handshake: %s", message)
        return _ANSWERED

    def _call_verb_method(self) -> Optional[Awaitable[None]]:
        outcome = super()._call_verb_method()
        # get()'s own awaitables are for code that calls it; the request
        # has nothing more to wait for.
        if type(outcome) is _ConnectionEnd or outcome is _ANSWERED:
            return None
        return outcome

    # Created when somebody awaits the end of the connection (see
    # _ConnectionEnd), resolved after on_close.
    _ws_end: "Optional[Future[None]]" = None

    def _connection_end(self) -> "Future[None]":
        end = self._ws_end
        if end is None:
            end = self._ws_end = Future()
            if self._on_close_called:
                end.set_result(None)
        return end

    @property
    def ping_interval(self) -> Optional[float]:
        """Seconds between the keepalive pings this server sends.

        The ``websocket_ping_interval`` application setting; None or 0 (the
        default) sends no pings.
        """
        return self.settings.get("websocket_ping_interval", None)

    @property
    def ping_timeout(self) -> Optional[float]:
        """Seconds to wait for a pong after a ping before closing the connection.

        The ``websocket_ping_timeout`` application setting.  When unset it is
        ``max(3 * ping_interval, 30)``; 0 waits forever.  Only used when
        `ping_interval` is set.
        """
        return self.settings.get("websocket_ping_timeout", None)

    @property
    def max_message_size(self) -> int:
        """The largest message accepted from the client, in bytes.

        The ``websocket_max_message_size`` application setting (10 MiB when
        unset).  A bigger message, or a compressed one that would inflate to
        more, closes the connection with status 1009.
        """
        return self.settings.get("websocket_max_message_size", _default_max_message_size)

    def _live_connection(self) -> "WebSocketProtocol":
        """The protocol object, unless the connection is closed or closing
        (then `WebSocketClosedError`)."""
        conn = self.ws_connection
        if conn is None or conn.is_closing():
            raise WebSocketClosedError()
        return conn

    def write_message(
        self, message: Union[bytes, str, Dict[str, Any]], binary: bool = False
    ) -> "Future[None]":
        """Send a message to the client.

        ``message`` is text (`str`, sent as UTF-8), `bytes` (sent as a binary
        message when ``binary`` is true) or a `dict` (sent as JSON text).
        Raises `WebSocketClosedError` if the connection is closed or closing.
        The returned `.Future` resolves once the data is handed to the
        socket; awaiting it gives flow control.
        """
        conn = self.ws_connection
        if conn is None:
            raise WebSocketClosedError()
        if type(conn) is not WebSocketProtocol13 and conn.is_closing():
            # (WebSocketProtocol13.write_message checks this itself.)
            raise WebSocketClosedError()
        return conn.write_message(message, binary=binary)

    def select_subprotocol(self, subprotocols: List[str]) -> Optional[str]:
        """Choose one of the client's ``Sec-WebSocket-Protocol`` offers.

        Called once per handshake, with the offered names in the client's
        order (possibly an empty list).  Return one of them to accept it, or
        None to accept none (the connection still opens; the client may then
        give up).
        """
        return None

    @property
    def selected_subprotocol(self) -> Optional[str]:
        """The subprotocol `select_subprotocol` picked, or None."""
        assert self.ws_connection is not None
        return self.ws_connection.selected_subprotocol

    def get_compression_options(self) -> Optional[Dict[str, Any]]:
        """Return the permessage-deflate settings, or None to refuse compression.

        The default (None) never compresses.  A dict, even empty, accepts a
        client's offer; its optional keys are ``compression_level`` (zlib level,
        default 6) and ``mem_level`` (zlib memory level, default 8).
        """
        return None

    def open(self, *args: str, **kwargs: str) -> Optional[Awaitable[None]]:
        """Called when the handshake has succeeded.

        Receives the URL pattern's captured groups, like an HTTP verb method.
        May be a coroutine; no message is delivered to `on_message` until it
        has finished.
        """
        pass

    def on_message(self, message: Union[str, bytes]) -> Optional[Awaitable[None]]:
        """Called with each message: `str` for text, `bytes` for binary.

        Must be overridden.  If it is a coroutine, the next message waits until
        it finishes.  An exception is logged and drops the connection.
        """
        raise NotImplementedError

    def ping(self, data: Union[str, bytes] = b"") -> None:
        """Sends a ping frame; ``data`` (text is encoded as UTF-8) may have
        up to 125 bytes.

        The client's pong arrives at `on_pong`.  Longer data raises
        `ValueError`, a closed connection `WebSocketClosedError`.  For
        periodic keepalive pings use the ``websocket_ping_interval``
        setting instead.
        """
        self._live_connection().write_ping(utf8(data))

    def on_ping(self, data: bytes) -> None:
        """Hook for received pings, called with their payload once the
        answering pong is on its way.  Does nothing by default."""

    def on_pong(self, data: bytes) -> None:
        """Hook for received pongs, called with their payload.  Does nothing
        by default."""

    def on_close(self) -> None:
        """Called once when the connection has closed, whichever side closed it.

        `close_code` and `close_reason` hold the status the closing handshake
        carried, when it carried one.
        """
        pass

    def close(self, code: Optional[int] = None, reason: Optional[str] = None) -> None:
        """Start the closing handshake.

        ``code`` is a status code from RFC 6455 7.4 (1000 when only a
        ``reason`` is given) and ``reason`` a short text; both are passed to
        the client.  The TCP connection is closed when the client answers, or
        after a few seconds if it does not.
        """
        conn, self.ws_connection = self.ws_connection, None
        if conn is not None:
            conn.close(code, reason)

    def check_origin(self, origin: str) -> bool:
        """Return whether a handshake from a page at ``origin`` may proceed.

        Only called when the request has an ``Origin`` header (browsers always
        send one; other clients are not exposed to cross-site attacks).  The
        default applies the rules of the ``cross_origin_protection`` setting,
        whatever that setting's value: a ``Sec-Fetch-Site`` of ``same-origin``
        or ``none`` passes, otherwise (without that header) the ``Origin``
        must name this ``Host``, and anything else must pass
        `~tornado.web.RequestHandler.check_trusted_origin` (the
        ``trusted_origins`` setting).  It runs after
        `.RequestHandler.prepare`, so it may use what that learned about the
        request.

        Browsers do not apply the same-origin policy or CORS to WebSockets, so
        this check is what keeps other sites from using a visitor's cookies
        here.  Override it to allow more, knowingly.
        """
        # The same rules as the cross_origin_protection setting applies to
        # unsafe methods (tornado.web); WebSocket handshakes are GETs, so
        # they are checked here instead.
        return self._cross_origin_problem(origin) is None

    def set_nodelay(self, value: bool) -> None:
        """Sends small messages at once (True) instead of letting the kernel
        hold them back a little to coalesce them (Nagle's algorithm; the
        default)."""
        self._live_connection().set_nodelay(value)

    def on_connection_close(self) -> None:
        """Runs when the connection is gone (before or after the upgrade):
        tells the protocol, then `on_close`, exactly once."""
        conn, self.ws_connection = self.ws_connection, None
        if conn is not None:
            # This comes back here through on_ws_connection_close.
            conn.on_connection_close()
        if self._on_close_called:
            return
        self._on_close_called = True
        try:
            self.on_close()
        finally:
            end = self._ws_end
            if end is not None:
                future_set_result_unless_cancelled(end, None)
        self._break_cycles()

    def on_ws_connection_close(self, close_code: Optional[int] = None, close_reason: Optional[str] = None) -> None:
        """Called by the protocol when the connection has ended, with the
        status from the peer's Close frame if there was one."""
        self.close_code, self.close_reason = close_code, close_reason
        self.on_connection_close()

    def _break_cycles(self) -> None:
        # RequestHandler drops its references once the response is done, but
        # a 101 response is "done" while the WebSocket has only begun: wait
        # for on_close in that case.
        if self._on_close_called or self.get_status() != 101:
            super()._break_cycles()

    def get_websocket_protocol(self) -> Optional["WebSocketProtocol"]:
        """The protocol object for the version the client asked for, or
        None when we don't speak it."""
        if self.request.headers.get("Sec-WebSocket-Version") not in _SUPPORTED_VERSIONS:
            return None
        # A connection that carries messages rather than bytes (an ASGI
        # server's, see tornado.asgi) makes its own protocol object.
        make = getattr(self.request.connection, "_websocket_factory", None)
        if make is not None:
            return make(self)  # type: ignore[no-any-return]
        params = _shared_params(self.ping_interval, self.ping_timeout, self.max_message_size, self.get_compression_options())
        return WebSocketProtocol13(self, mask_outgoing=False, params=params)

    def _detach_stream(self) -> IOStream:
        self.__dict__.update(_AFTER_UPGRADE)
        stream = self.detach()
        # The 101 response has been sent and no other can follow: its
        # headers need not stay in memory for the life of the connection.
        self._headers = httputil.HTTPHeaders()
        return stream


def _has_token(header: str, token: str) -> bool:
    """Whether a comma-separated header lists ``token`` (lower case), in
    any case."""
    return token in (item.strip().lower() for item in header.split(","))


def _valid_key(key: Optional[str]) -> bool:
    """RFC 6455 4.2.1 item 5: the key is base64 for 16 bytes."""
    if not key:
        return False
    try:
        return len(base64.b64decode(key.strip(), validate=True)) == 16
    except ValueError:
        return False


# ---------------------------------------------------------------------------
# The connection: moves bytes between a stream and the codec.
# ---------------------------------------------------------------------------


class WebSocketProtocol(abc.ABC):
    """The protocol side of one WebSocket connection, independent of the
    protocol version; `WebSocketProtocol13` is the one implementation.

    ``handler`` is the `WebSocketHandler` or `WebSocketClientConnection`
    whose hooks it calls; ``stream`` is set once the handshake is over.
    ``client_terminated``/``server_terminated`` record whether the peer /
    we have started closing.
    """

    def __init__(self, handler: "_WebSocketDelegate") -> None:
        self.client_terminated = False
        self.server_terminated = False
        self.stream: Optional[IOStream] = None
        self.handler = handler

    def on_connection_close(self) -> None:
        """The stream has closed under us."""
        self._abort()

    def _abort(self) -> None:
        """Closes the stream at once, skipping the closing handshake."""
        self.client_terminated = self.server_terminated = True
        if self.stream is not None:
            self.stream.close()
        self.close()

    @abc.abstractmethod
    def accept_connection(self, handler: WebSocketHandler) -> Optional[Awaitable[None]]:
        """Server side: completes the handshake for ``handler`` and starts
        the conversation."""

    @abc.abstractmethod
    def write_message(self, message: Union[str, bytes, Dict[str, Any]], binary: bool = False) -> "Future[None]":
        """Sends one data message."""

    @abc.abstractmethod
    def write_ping(self, data: bytes) -> None:
        """Sends a ping carrying ``data``."""

    @abc.abstractmethod
    def close(self, code: Optional[int] = None, reason: Optional[str] = None) -> None:
        """Starts (or completes) the closing handshake."""

    @abc.abstractmethod
    def is_closing(self) -> bool:
        """Whether the connection is closed or being closed."""

    @property
    @abc.abstractmethod
    def selected_subprotocol(self) -> Optional[str]:
        """The subprotocol agreed in the handshake, if any."""

    @abc.abstractmethod
    def start_pinging(self) -> None:
        """Starts the keepalive pings, if configured."""

    @abc.abstractmethod
    def set_nodelay(self, x: bool) -> None:
        """Switches Nagle's algorithm off (True) or on for the stream."""

    # The client connection drives these two.
    @abc.abstractmethod
    def _process_server_headers(self, key: Union[str, bytes], headers: httputil.HTTPHeaders) -> None:
        """Client side: checks the server's 101 answer."""

    @abc.abstractmethod
    def _start_reading(self) -> None:
        """Begins receiving frames."""


class _WebSocketDelegate:
    """What a WebSocketProtocol needs from its handler (a `WebSocketHandler`
    on servers, a `WebSocketClientConnection` on clients).  Documentation
    only: nothing inherits from it."""

    close_code: Optional[int] = None
    close_reason: Optional[str] = None

    def on_ws_connection_close(
        self, close_code: Optional[int] = None, close_reason: Optional[str] = None
    ) -> None:
        raise NotImplementedError()

    def on_message(self, message: Union[str, bytes]) -> Optional[Awaitable[None]]:
        raise NotImplementedError()

    def on_ping(self, data: bytes) -> None:
        raise NotImplementedError()

    def on_pong(self, data: bytes) -> None:
        raise NotImplementedError()

    def log_exception(
        self,
        typ: Optional[Type[BaseException]],
        value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        raise NotImplementedError()


# How many messages to deliver before letting other callbacks run.
_MESSAGES_PER_TURN = 64

# Seconds to wait for the peer's Close frame (or for the server to drop the
# connection) after sending ours.
_CLOSE_TIMEOUT = 5.0

# RFC 6455 1.3: the GUID appended to Sec-WebSocket-Key before hashing.
_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# WebSocketProtocol13._corked while a batch of received frames is handled
# and nothing has been written yet (None: no batch; a list: frames held
# back until the end of the batch).  Never appended to.
_NOTHING_SENT: List[bytes] = []

# Broadcasting the same message object to many server connections encodes
# its frame once: (message, binary, frame bytes, payload length).
_last_broadcast: Optional[Tuple[object, bool, bytes, int]] = None


class WebSocketProtocol13(WebSocketProtocol):
    """RFC 6455 (protocol version 13, which versions 7 and 8 also speak).

    Reads are driven by callbacks on the stream's read futures: an idle
    connection owns no coroutine.  ``mask_outgoing`` is True on clients,
    whose frames RFC 6455 5.1 requires to be masked.
    """

    # The bits of a frame's first byte, for code that used to pick them
    # from here.
    FIN, RSV1, RSV2, RSV3 = _FIN, _RSV1, _RSV2, _RSV3
    RSV_MASK, OPCODE_MASK = _RSV_MASK, _OPCODE_MASK

    stream: IOStream

    def __init__(self, handler: "_WebSocketDelegate", mask_outgoing: bool, params: _WebSocketParams) -> None:
        super().__init__(handler)
        self.params = params
        self.mask_outgoing = mask_outgoing
        self.close_reason: Optional[str] = None
        self.close_code: Optional[int] = None
        self._selected_subprotocol: Optional[str] = None
        # The codec, made when the first bytes arrive (many connections of a
        # busy server never send anything), and the RFC 7692 state set up
        # by the handshake.
        self._reader: Optional[_FrameReader] = None
        self._decompressor: Optional[_PerMessageDeflateDecompressor] = None
        self._compressor: Optional[_PerMessageDeflateCompressor] = None
        # Frames held back to go out in one write (see write_message), and
        # the one future handed out for all of them.
        self._corked: Optional[List[bytes]] = None
        self._corked_future: Optional[Future[None]] = None
        # Timers: next keepalive ping, pong deadline, end of the closing
        # handshake.
        self._ping_timer: Optional[object] = None
        self._pong_timer: Optional[object] = None
        self._close_timer: Optional[object] = None
        self._last_ping = 0.0
        # The write of the latest pong while the stream has not taken it,
        # and the payload of the latest ping that came in meanwhile (see
        # _answer_ping).
        self._pong_future: Optional[Future[None]] = None
        self._pending_pong: Optional[bytes] = None
        self._closed_notified = False
        # Traffic counters (payload bytes and bytes on the wire).
        self._message_bytes_in = self._message_bytes_out = 0
        self._wire_bytes_in = self._wire_bytes_out = 0

    # -- server handshake ------------------------------------------------

    def accept_connection(self, handler: WebSocketHandler) -> Optional[Awaitable[None]]:
        """Answers the handshake that `WebSocketHandler.get` has validated,
        then runs the handler's ``open``."""
        try:
            self._send_switching_protocols(handler)
        except ValueError:
            gen_log.debug("Malformed WebSocket request received", exc_info=True)
            self._abort()
            return None
        # The handler's callbacks run in the context of the request that
        # opened the connection (where a tracing span was attached in
        # prepare(), to be detached in on_close()), as in Tornado, where
        # they run in that request's task.
        self._context = _request_context(handler)
        return self._run_open(handler)

    @staticmethod
    def compute_accept_value(key: Union[str, bytes]) -> str:
        """The ``Sec-WebSocket-Accept`` value that answers the
        ``Sec-WebSocket-Key`` ``key``: base64 of SHA-1 over the key followed
        by the protocol's GUID (RFC 6455 4.2.2 item 5.4)."""
        digest = hashlib.sha1(utf8(key) + _ACCEPT_GUID).digest()
        return base64.b64encode(digest).decode("ascii")

    def _send_switching_protocols(self, handler: WebSocketHandler) -> None:
        """Finishes the HTTP exchange with 101 (RFC 6455 4.2.2) and takes the
        stream over."""
        asked = handler.request.headers
        self._settle_subprotocol(handler, asked.get("Sec-WebSocket-Protocol", ""))
        self._settle_deflate(handler, asked.get("Sec-WebSocket-Extensions", ""))
        # get() has checked the key.
        accept = self.compute_accept_value(cast(str, asked.get("Sec-WebSocket-Key")).strip())
        handler.set_status(101)
        for name, value in (("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept)):
            handler.set_header(name, value)
        handler.clear_header("Content-Type")
        handler.finish()

        stream = self.stream = handler._detach_stream()
        stream.set_close_callback(self.on_connection_close)
        # The server's graceful drain must still reach this connection.
        httputil._note_takeover(handler.request.connection, self)
        _open_protocols.add(self)
        self.start_pinging()

    def _settle_subprotocol(self, handler: WebSocketHandler, offer: str) -> None:
        """Lets the handler pick one of the offered subprotocols and names it
        in the answer."""
        offered = [name for name in (item.strip() for item in offer.split(",")) if name]
        picked = handler.select_subprotocol(offered)
        if not picked:
            return
        # RFC 6455 4.2.2: the answer names one of the client's offers.
        assert picked in offered, "select_subprotocol returned %r, which was not offered" % picked
        self._selected_subprotocol = picked
        handler.set_header("Sec-WebSocket-Protocol", picked)

    def _settle_deflate(self, handler: WebSocketHandler, offer: str) -> None:
        """Accepts a permessage-deflate offer when the handler enables
        compression and the offer is one we can honour."""
        options = self.params.compression_options
        if options is None or not offer:
            return
        try:
            agreed = _negotiate_deflate(_parse_extensions(offer))
        except ValueError:
            # RFC 7692 5: a malformed offer (a parameter twice) is declined.
            return
        if agreed is not None:
            self._create_compressors("server", agreed, options)
            handler.set_header("Sec-WebSocket-Extensions", httputil._encode_header("permessage-deflate", agreed))

    def _run_open(self, handler: WebSocketHandler) -> Optional[Awaitable[None]]:
        try:
            result = self._in_context(handler.open, *handler.open_args, **handler.open_kwargs)
        except Exception:
            handler.log_exception(*sys.exc_info())
            self._abort()
            return None
        if result is None:
            self._start_reading()
            return None
        # Messages wait until an asynchronous open() has finished.
        future = self._in_context(gen.convert_yielded, result)
        future.add_done_callback(self._on_open_done)
        return None

    def _on_open_done(self, future: "Future[None]") -> None:
        if self._log_callback_error(future):
            self._abort()
            return
        self._start_reading()

    # -- client handshake ------------------------------------------------

    def _process_server_headers(
        self, key: Union[str, bytes], headers: httputil.HTTPHeaders
    ) -> None:
        """Check the server's handshake response (RFC 6455 4.1) and set up
        the extensions it agreed to."""
        if headers.get("Upgrade", "").lower() != "websocket":
            raise WebSocketError("Upgrade header is not 'websocket'")
        if not _has_token(headers.get("Connection", ""), "upgrade"):
            raise WebSocketError("Connection header does not include 'upgrade'")
        accept = WebSocketProtocol13.compute_accept_value(key)
        if headers.get("Sec-Websocket-Accept") != accept:
            raise WebSocketError("Sec-WebSocket-Accept does not match the key")

        extensions = _parse_extensions(headers.get("Sec-WebSocket-Extensions", ""))
        for name, params in extensions:
            # RFC 6455 9.1: the server may only use extensions we offered.
            if name != "permessage-deflate" or self.params.compression_options is None:
                raise WebSocketError("unsupported extension %r" % name)
            if self._compressor is not None or not _DEFLATE_PARAMS.issuperset(params):
                raise WebSocketError("unsupported permessage-deflate response")
            self._create_compressors("client", params, self.params.compression_options)

        subprotocol = headers.get("Sec-WebSocket-Protocol", None)
        self._selected_subprotocol = subprotocol

    def _create_compressors(
        self,
        side: str,
        agreed_parameters: Dict[str, Optional[str]],
        compression_options: Optional[Dict[str, Any]] = None,
    ) -> None:
        # Our side's parameters govern what we send, the other side's what
        # we receive (RFC 7692 7.1).
        other = "client" if side == "server" else "server"
        out_bits = agreed_parameters.get("%s_max_window_bits" % side)
        in_bits = agreed_parameters.get("%s_max_window_bits" % other)
        try:
            self._compressor = _PerMessageDeflateCompressor(
                "%s_no_context_takeover" % side not in agreed_parameters,
                int(out_bits) if out_bits else None,
                compression_options,
            )
            self._decompressor = _PerMessageDeflateDecompressor(
                "%s_no_context_takeover" % other not in agreed_parameters,
                int(in_bits) if in_bits else None,
                self.params.max_message_size,
                compression_options,
            )
        except ValueError as e:
            raise WebSocketError("invalid permessage-deflate parameters: %s" % e)

    @property
    def selected_subprotocol(self) -> Optional[str]:
        return self._selected_subprotocol

    @selected_subprotocol.setter
    def selected_subprotocol(self, value: Optional[str]) -> None:
        self._selected_subprotocol = value

    # -- writing ---------------------------------------------------------

    def _write_frame(
        self, fin: bool, opcode: int, data: bytes, flags: int = 0
    ) -> "Future[None]":
        frame = _build_frame(fin, opcode, data, flags, self.mask_outgoing)
        self._wire_bytes_out += len(frame)
        if self._corked:
            # Keep frames in order: what is held back goes first.
            self._flush_corked()
        return self.stream.write(frame)

    def write_message(
        self, message: Union[str, bytes, Dict[str, Any]], binary: bool = False
    ) -> "Future[None]":
        """Encode and send one message (see `WebSocketHandler.write_message`)."""
        global _last_broadcast
        stream = self.stream
        if (
            stream is None
            or self.client_terminated
            or self.server_terminated
            or stream.closed()
        ):
            raise WebSocketClosedError()
        if self.mask_outgoing or self._compressor is not None:
            payload = _message_payload(message)
            self._message_bytes_out += len(payload)
            flags = 0
            if self._compressor is not None:
                payload = self._compressor.compress(payload)
                flags = _RSV1
            opcode = _OP_BINARY if binary else _OP_TEXT
            frame = _build_frame(True, opcode, payload, flags, self.mask_outgoing)
        else:
            cached = _last_broadcast
            if cached is not None and cached[0] is message and cached[1] is binary:
                frame, size = cached[2], cached[3]
            else:
                payload = _message_payload(message)
                size = len(payload)
                first = (_FIN | _OP_BINARY) if binary else (_FIN | _OP_TEXT)
                if size < 126:
                    frame = _pack_short(first, size) + payload
                else:
                    frame = _frame_header(first, size, 0) + payload
                if type(message) is str or type(message) is bytes:  # immutable
                    _last_broadcast = (message, binary, frame, size)
            self._message_bytes_out += size
        self._wire_bytes_out += len(frame)
        corked = self._corked
        if corked is None or corked is _NOTHING_SENT:
            # Outside a batch of received frames (a broadcast, a timer, a
            # coroutine) the frame goes straight to the stream, so N calls
            # cost N sends and no loop hop.  In a batch, the first frame
            # does too (an echo needs no more); later ones wait for the end
            # of the batch and leave in one write (see _process_frames).
            if corked is not None:
                self._corked = []
            try:
                written = stream.write(frame)
            except StreamClosedError:
                raise WebSocketClosedError() from None
            return _closed_as_websocket_error(written)
        corked.append(frame)
        future = self._corked_future
        if future is None:
            future = self._corked_future = Future()
        return future

    def _flush_corked(self) -> None:
        """Write the frames held back during a batch (see `_process_frames`)."""
        frames = self._corked
        if not frames:
            return
        self._corked = []
        future = self._corked_future
        self._corked_future = None
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        try:
            written = self.stream.write(data)
        except StreamClosedError:
            if future is not None:
                future.set_exception(WebSocketClosedError())
                future.exception()  # nobody has to wait for it
            return
        if future is not None:
            _chain_write_future(written, future)

    def write_ping(self, data: bytes) -> None:
        """Send a ping frame carrying ``data`` (at most 125 bytes)."""
        assert isinstance(data, bytes)
        if len(data) > 125:
            # RFC 6455 5.5: control frames carry at most 125 bytes.
            raise ValueError("ping data is %d bytes; the limit is 125" % len(data))
        try:
            self._write_frame(True, _OP_PING, data)
        except StreamClosedError:
            raise WebSocketClosedError()

    def _answer_ping(self, data: bytes) -> None:
        """RFC 6455 5.5.2: a Ping gets a Pong with the same payload, each
        of them (the Autobahn TestSuite checks this, cases 2.10 and 2.11).

        A peer that pings without reading the answers must not make us
        buffer them without end: while a pong waits in the stream's buffer,
        only the latest ping that came in meanwhile gets an answer (5.5.3
        allows this), sent once that pong has gone.
        """
        if self._pending_pong is None:
            sending = self._pong_future
            if sending is None or sending.done():
                self._send_pong(data)
                return
        self._pending_pong = data

    def _send_pong(self, data: bytes) -> None:
        try:
            future = self._write_frame(True, _OP_PONG, data)
        except StreamClosedError:
            self._abort()
            return
        if future.done():
            self._pong_future = None
            return
        self._pong_future = future
        future.add_done_callback(self._on_pong_written)

    def _on_pong_written(self, future: "Future[None]") -> None:
        if not future.cancelled():
            future.exception()  # the close callback deals with broken streams
        if self._pong_future is future:
            self._pong_future = None
        data, self._pending_pong = self._pending_pong, None
        if data is not None and not self.is_closing():
            self._send_pong(data)

    # -- reading ---------------------------------------------------------

    def _start_reading(self) -> None:
        """Start (or resume) taking bytes from the stream: it calls
        `_on_data` with what has arrived, straight from its read event
        (no Future or IOLoop callback per arrival)."""
        stream = self.stream
        if stream.closed():
            self._abort()
            return
        stream._set_data_callback(self._on_data)

    def _pause_reading(self) -> None:
        """Stop taking bytes; they wait in the stream (and then in the
        kernel, which slows the peer down) until `_start_reading`."""
        self.stream._set_data_callback(None)

    def _on_data(self, data: bytes) -> None:
        self._wire_bytes_in += len(data)
        reader = self._reader
        if reader is None:
            # Frames from a client are masked, frames from a server not.
            reader = self._reader = _FrameReader(
                not self.mask_outgoing,
                self.params.max_message_size,
                self._compressor is not None,
            )
        reader.feed(data)
        self._process_frames()

    def _process_frames(self) -> None:
        """Deliver the complete messages received, then take more bytes.

        Delivery pauses while an asynchronous `on_message` runs and yields
        to the IOLoop every few messages, so a flood of small frames that
        arrived at once cannot monopolize it; reading pauses meanwhile.
        Messages written during the batch leave in as few writes as
        possible (see `write_message`).
        """
        self._corked = _NOTHING_SENT
        try:
            wants_data = self._deliver_messages()
        finally:
            if self._corked:
                self._flush_corked()
            self._corked = None
        if wants_data and not self.stream.reading():
            # Resuming after a pause hands over what the stream has
            # buffered meanwhile (calling _on_data again, after this batch).
            self._start_reading()

    def _deliver_messages(self) -> bool:
        """Hand complete messages to the handler.  True when all received
        bytes are used up (more are wanted), False when delivery stopped
        (closed, paused, or deferred to the next IOLoop turn)."""
        stream = self.stream
        for _ in range(_MESSAGES_PER_TURN):
            if stream.closed():
                return False
            reader = self._reader
            if reader is None:
                return True  # nothing has arrived yet
            try:
                item = reader.next_message()
            except _WebSocketProtocolError as e:
                # (What the peer sends from now on is discarded.)
                self._fail(e.code, e.reason)
                return True
            if item is None:
                return True
            opcode, data, compressed = item
            if compressed:
                assert self._decompressor is not None
                try:
                    data = self._decompressor.decompress(data)
                except _DecompressTooLargeError:
                    self._fail(1009, "message too big")
                    return True
                except zlib.error:
                    self._fail(1007, "invalid compressed data")
                    return True
            result = self._handle_message(opcode, data)
            if result is not None:
                future = self._in_context(gen.convert_yielded, result)
                if not future.done():
                    self._pause_reading()
                    future.add_done_callback(self._on_message_done)
                    return False
                if self._log_callback_error(future):
                    self._abort()
                    return False
        self._pause_reading()
        IOLoop.current().add_callback(self._process_frames)
        return False

    def _on_message_done(self, future: "Future[Any]") -> None:
        if self._log_callback_error(future):
            self._abort()
            return
        self._process_frames()

    def _log_callback_error(self, future: "Future[Any]") -> bool:
        """Log what an asynchronous callback raised; True if it failed."""
        if future.cancelled():
            exc: BaseException = asyncio.CancelledError()
        else:
            exc = cast(BaseException, future.exception())
            if exc is None:
                return False
        self.handler.log_exception(type(exc), exc, exc.__traceback__)
        return True

    def _run_callback(
        self, callback: Callable[..., Any], *args: Any
    ) -> Optional[Awaitable[Any]]:
        """Call a handler hook, logging (and aborting on) any error.

        Returns the hook's awaitable result, if it has one.
        """
        try:
            result = self._in_context(callback, *args)
        except (Exception, asyncio.CancelledError):
            self.handler.log_exception(*sys.exc_info())
            self._abort()
            return None
        return result

    # The context the handler's callbacks run in (None: the caller's, as on
    # the client side), and whether we are inside it now: a callback may
    # lead to another (on_message closing the connection runs on_close),
    # and a context cannot be entered twice.
    _context: Optional[contextvars.Context] = None
    _context_entered = False

    def _in_context(self, callback: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        context = self._context
        if context is None or self._context_entered:
            return callback(*args, **kwargs)
        try:
            context.run(_nothing)
        except RuntimeError:
            # Entered already: we are still in the request's own code.
            return callback(*args, **kwargs)
        self._context_entered = True
        try:
            return context.run(callback, *args, **kwargs)
        finally:
            self._context_entered = False

    def _handle_message(self, opcode: int, data: bytes) -> Optional[Awaitable[None]]:
        """Act on one message or control frame; returns the handler's
        awaitable, if any.  (Tests wrap this method.)"""
        if self.client_terminated:
            return None
        if opcode == _OP_TEXT:
            self._message_bytes_in += len(data)
            try:
                message: Union[str, bytes] = data.decode("utf-8")
            except UnicodeDecodeError:
                # RFC 6455 8.1: text must be valid UTF-8.
                self._fail(1007, "text message is not UTF-8")
                return None
        elif opcode == _OP_BINARY:
            self._message_bytes_in += len(data)
            message = data
        else:
            return self._handle_control_frame(opcode, data)
        # (_run_callback, inlined for the frame that matters most.)
        try:
            if self._context is None:
                return self.handler.on_message(message)
            return self._in_context(self.handler.on_message, message)
        except (Exception, asyncio.CancelledError):
            self.handler.log_exception(*sys.exc_info())
            self._abort()
            return None

    def _handle_control_frame(self, opcode: int, data: bytes) -> None:
        """Close (RFC 6455 5.5.1), ping and pong frames."""
        if opcode == _OP_CLOSE:
            self.client_terminated = True
            try:
                code, reason = _parse_close(data)
            except _WebSocketProtocolError as e:
                self.client_terminated = False
                self._fail(e.code, e.reason)
                return None
            if code is not None:
                self.close_code = code
            if reason is not None:
                self.close_reason = reason
            # RFC 6455 5.5.1: answer with a Close frame, echoing the code.
            self.close(self.close_code)
            return None
        if opcode == _OP_PING:
            self._answer_ping(data)
            self._run_callback(self.handler.on_ping, data)
            return None
        if opcode == _OP_PONG:
            if self._pong_timer is not None:
                IOLoop.current().remove_timeout(self._pong_timer)
                self._pong_timer = None
            self._run_callback(self.handler.on_pong, data)
            return None
        self._fail(1002, "unknown opcode %#x" % opcode)
        return None

    # -- closing ---------------------------------------------------------

    def _fail(self, code: int, reason: str) -> None:
        """Fail the connection (RFC 6455 7.1.7): send a Close frame with
        ``code``, stop interpreting what the peer sends, and close the TCP
        connection without waiting for the peer's Close.

        Our half of it ends as soon as the Close frame has been sent, so the
        peer reads our Close and then the end of the stream; the socket is
        closed once the peer has ended its half too (what it sends
        meanwhile is discarded), or after ``_CLOSE_TIMEOUT``.  Closing it at
        once could reset the connection and lose the Close frame.
        """
        gen_log.debug("Failing WebSocket connection: %d %s", code, reason)
        self._reader = _DISCARDING
        self.close(code, reason)
        stream = self.stream
        if stream is None or stream.closed():
            return
        try:
            stream.write(b"").add_done_callback(self._end_writing)
        except StreamClosedError:
            pass  # the close callback is on its way

    def _end_writing(self, future: "Future[None]") -> None:
        """Everything written has been sent: end our half of the TCP
        connection (a FIN after the Close frame)."""
        if not future.cancelled():
            future.exception()  # the close callback deals with broken streams
        stream = self.stream
        sock = getattr(stream, "socket", None)
        if stream.closed():
            return
        if sock is None or isinstance(stream, SSLIOStream):
            # (TLS has no half-close that leaves the stream readable.)
            self._abort()
            return
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._abort()

    def close(self, code: Optional[int] = None, reason: Optional[str] = None) -> None:
        """Closes the WebSocket connection."""
        if not self.server_terminated:
            if self.stream is not None and not self.stream.closed():
                if code is None and reason is not None:
                    code = 1000  # "normal closure" status code
                if self.close_code is None:
                    self.close_code = code
                    if self.close_reason is None:
                        self.close_reason = reason
                pong, self._pending_pong = self._pending_pong, None
                try:
                    if pong is not None:
                        # The answer to a ping that came first goes first.
                        self._write_frame(True, _OP_PONG, pong)
                    self._write_frame(True, _OP_CLOSE, _close_payload(code, reason))
                except StreamClosedError:
                    self._abort()
            self.server_terminated = True
        self._stop_pinging()
        if self.client_terminated:
            # Both Close frames have been sent: the closing handshake is over.
            self._close_stream_when_sent()
        elif self._close_timer is None and self.stream is not None:
            # Give the peer some time to answer, then drop the connection.
            self._close_timer = IOLoop.current().call_later(_CLOSE_TIMEOUT, self._abort)

    def _close_stream_when_sent(self) -> None:
        """Close the stream once what is written (our Close frame) has been
        handed to the kernel, or after ``_CLOSE_TIMEOUT`` if the peer does
        not read it."""
        stream = self.stream
        if stream is None or stream.closed():
            return
        if not stream.writing():
            if self._close_timer is not None:
                IOLoop.current().remove_timeout(self._close_timer)
                self._close_timer = None
            stream.close()
            return
        if self._close_timer is None:
            self._close_timer = IOLoop.current().call_later(_CLOSE_TIMEOUT, self._abort)
        stream.write(b"").add_done_callback(self._on_close_frame_sent)

    def _on_close_frame_sent(self, future: "Future[None]") -> None:
        if not future.cancelled():
            future.exception()  # the close callback deals with broken streams
        self._close_stream_when_sent()

    def is_closing(self) -> bool:
        """True once either side has started the closing handshake or the
        stream has closed."""
        return (
            self.stream is None
            or self.stream.closed()
            or self.client_terminated
            or self.server_terminated
        )

    def _abort(self) -> None:
        """Drop the connection at once (also run when the stream closes):
        cancel timers and tell the handler, once."""
        self.client_terminated = True
        self.server_terminated = True
        if self.stream is not None and not self.stream.closed():
            self.stream.close()
        self._stop_pinging()
        if self._close_timer is not None:
            IOLoop.current().remove_timeout(self._close_timer)
            self._close_timer = None
        _open_protocols.discard(self)
        if not self._closed_notified:
            self._closed_notified = True
            self._in_context(self.handler.on_ws_connection_close, self.close_code, self.close_reason)

    def _begin_drain(self) -> None:
        """The server is shutting down gracefully (`tornado.shutdown`):
        close with 1001, "going away" (RFC 6455 section 7.4.1)."""
        if not self.is_closing():
            self.close(1001, "going away")

    def _drain_done(self) -> bool:
        """Whether the connection is over and the handler has been told."""
        return self._closed_notified

    def set_nodelay(self, x: bool) -> None:
        self.stream.set_nodelay(x)

    # -- keepalive pings ---------------------------------------------------

    @property
    def ping_interval(self) -> float:
        """Seconds between keepalive pings; 0 when they are off."""
        return self.params.ping_interval or 0

    @property
    def ping_timeout(self) -> float:
        """Seconds a pong may take before the connection is given up: the
        configured value, else three intervals but at least 30 seconds."""
        configured = self.params.ping_timeout
        return max(30, 3 * self.ping_interval) if configured is None else configured

    def start_pinging(self) -> None:
        """Arms the first keepalive ping, when an interval is configured."""
        interval = self.ping_interval
        if interval <= 0:
            return
        loop = IOLoop.current()
        self._last_ping = loop.time()
        self._ping_timer = loop.call_later(interval, self.periodic_ping)

    def _stop_pinging(self) -> None:
        io_loop = IOLoop.current()
        if self._ping_timer is not None:
            io_loop.remove_timeout(self._ping_timer)
            self._ping_timer = None
        if self._pong_timer is not None:
            io_loop.remove_timeout(self._pong_timer)
            self._pong_timer = None

    @staticmethod
    def ping_sleep_time(*, last_ping_time: float, interval: float, now: float) -> float:
        """Seconds to wait before the next ping, given when the last one went out."""
        return max(0, last_ping_time + interval - now)

    def periodic_ping(self) -> None:
        """Send a ping and schedule the next one.

        If ``ping_timeout`` is set and no pong arrives within that many
        seconds of a ping, the connection is closed with code 1000 and the
        reason "ping timed out".
        """
        self._ping_timer = None
        if self.is_closing():
            return
        io_loop = IOLoop.current()
        now = io_loop.time()
        self._last_ping = now
        try:
            self.write_ping(b"")
        except WebSocketClosedError:
            return
        timeout = self.ping_timeout
        if timeout and self._pong_timer is None:
            self._pong_timer = io_loop.call_later(timeout, self._on_ping_timeout)
        delay = self.ping_sleep_time(
            last_ping_time=now, interval=self.ping_interval, now=io_loop.time()
        )
        self._ping_timer = io_loop.call_later(delay, self.periodic_ping)

    def _on_ping_timeout(self) -> None:
        self._pong_timer = None
        if not self.is_closing():
            self.close(1000, "ping timed out")


def _message_payload(message: Union[str, bytes, Dict[str, Any]]) -> bytes:
    if type(message) is str:
        return message.encode()
    if isinstance(message, dict):
        message = json_encode(message)
    if isinstance(message, str):
        return message.encode("utf-8")
    if isinstance(message, bytes):
        return message
    if isinstance(message, (bytearray, memoryview)):
        return bytes(message)
    raise TypeError("Expected bytes, str or dict; got %r" % type(message))


def _closed_as_websocket_error(future: "Future[None]") -> "Future[None]":
    """The write future of a stream, with `StreamClosedError` turned into
    `WebSocketClosedError`.

    Most writes complete at once; their future is returned as it is.
    """
    if future.done() and not future.cancelled() and future.exception() is None:
        return future
    result: Future[None] = Future()
    _chain_write_future(future, result)
    return result


def _chain_write_future(future: "Future[None]", result: "Future[None]") -> None:
    """Resolve ``result`` like the stream write ``future``, reporting a
    closed stream as `WebSocketClosedError`."""

    def copy(f: "Future[None]") -> None:
        if result.done():
            return
        if f.cancelled():
            result.cancel()
            return
        exc = f.exception()
        if exc is None:
            result.set_result(None)
        else:
            if isinstance(exc, StreamClosedError):
                exc = WebSocketClosedError()
            result.set_exception(exc)
            # Nobody has to wait for a write; don't complain if nobody does.
            result.exception()

    if future.done():
        copy(future)
    else:
        future.add_done_callback(copy)


# ---------------------------------------------------------------------------
# Client side.
# ---------------------------------------------------------------------------

_Message = Union[None, str, bytes]
_MessageCallback = Optional[Callable[[_Message], None]]
_CompressionOptions = Optional[Dict[str, Any]]
# The handshake answer is small; these only bound what a confused server
# could make us buffer before the 101.
_HANDSHAKE_BODY_LIMIT = 100 * 1024 * 1024
_HANDSHAKE_HEADER_LIMIT = 64 * 1024


def _add_handshake_headers(
    request: httpclient.HTTPRequest, key: bytes, subprotocols: Optional[List[str]], deflate: bool
) -> None:
    """Turns ``request`` into an opening handshake (RFC 6455 4.1)."""
    scheme, colon, rest = request.url.partition(":")
    # The HTTP client speaks http(s); ws(s) URLs name the same endpoints.
    request.url = {"ws": "http", "wss": "https"}.get(scheme.lower(), scheme) + colon + rest
    headers = request.headers
    headers["Upgrade"] = "websocket"
    headers["Connection"] = "Upgrade"
    headers["Sec-WebSocket-Key"] = key.decode("ascii")
    headers["Sec-WebSocket-Version"] = "13"
    if subprotocols is not None:
        headers["Sec-WebSocket-Protocol"] = ",".join(subprotocols)
    if deflate:
        # Let the server choose the window we inflate with (RFC 7692 7.1.2.2).
        headers["Sec-WebSocket-Extensions"] = "permessage-deflate; client_max_window_bits"
    # Any answer but 101 ends the attempt; a redirect is no exception.
    request.follow_redirects = False


def _ignore() -> None:
    pass


class WebSocketClientConnection(simple_httpclient._HTTPConnection):
    """The client end of a WebSocket connection.

    `websocket_connect` makes these.  The opening handshake is an HTTP
    request run by the `tornado.simple_httpclient` machinery this class
    extends; once the server has answered 101, `write_message` sends and
    `read_message` (or the ``on_message_callback``) receives.
    """

    protocol: Optional[WebSocketProtocol] = None

    def __init__(
        self, request: httpclient.HTTPRequest, on_message_callback: _MessageCallback = None,
        compression_options: _CompressionOptions = None, ping_interval: Optional[float] = None,
        ping_timeout: Optional[float] = None, max_message_size: int = _default_max_message_size,
        subprotocols: Optional[List[str]] = None, resolver: Optional[Resolver] = None,
    ) -> None:
        # The base class starts the request from its __init__, so all of our
        # state has to exist before calling it.
        self.params = _WebSocketParams(ping_interval, ping_timeout, max_message_size, compression_options)
        self.key = base64.b64encode(os.urandom(16))
        self.close_reason: Optional[str] = None
        self.close_code: Optional[int] = None
        self._on_message_callback = on_message_callback
        self.read_queue: Queue[_Message] = Queue(1)
        self.connect_future: Future[WebSocketClientConnection] = Future()
        _add_handshake_headers(request, self.key, subprotocols, compression_options is not None)
        self.tcp_client = TCPClient(resolver=resolver)
        super().__init__(
            client=None, request=request, release_callback=_ignore,
            final_callback=self._on_http_response, tcp_client=self.tcp_client,
            max_buffer_size=_HANDSHAKE_BODY_LIMIT, max_body_size=_HANDSHAKE_BODY_LIMIT,
            max_header_size=_HANDSHAKE_HEADER_LIMIT,
        )

    def __del__(self) -> None:
        stream = getattr(self.protocol, "stream", None)
        if stream is not None and not stream.closed():
            warnings.warn("Unclosed WebSocketClientConnection", ResourceWarning, stacklevel=2)

    def _open_protocol(self) -> WebSocketProtocol:
        protocol = self.protocol
        if protocol is None:
            raise WebSocketClosedError("Client connection has been closed")
        return protocol

    def close(self, code: Optional[int] = None, reason: Optional[str] = None) -> None:
        """Begins the closing handshake, like `WebSocketHandler.close`.

        Calling it again, or on a connection that never opened, does
        nothing.
        """
        protocol, self.protocol = self.protocol, None
        if protocol is not None:
            protocol.close(code, reason)

    def on_connection_close(self) -> None:
        """The TCP connection is gone: a pending `websocket_connect` fails,
        and readers get None as the last message."""
        waiting = self.connect_future
        if not waiting.done():
            waiting.set_exception(StreamClosedError())
        self._on_message(None)
        self.tcp_client.close()
        super().on_connection_close()

    def on_ws_connection_close(self, close_code: Optional[int] = None, close_reason: Optional[str] = None) -> None:
        """Called by the protocol at the end, with the status of the
        server's Close frame if it sent one."""
        self.close_code, self.close_reason = close_code, close_reason
        self.on_connection_close()

    def _on_http_response(self, response: httpclient.HTTPResponse) -> None:
        # The base class only answers here when the handshake did not end
        # in a 101: an HTTP error, or a plain response.
        if self.connect_future.done():
            return
        self.connect_future.set_exception(response.error or WebSocketError("Non-websocket response"))

    async def headers_received(
        self, start_line: httputil._StartLine,
        headers: httputil.HTTPHeaders,
    ) -> None:
        """Takes over the connection when the server answers 101; any other
        answer is left to the HTTP client (and ends in an error)."""
        assert isinstance(start_line, httputil.ResponseStartLine)
        if start_line.code != 101:
            return await super().headers_received(start_line, headers)
        self._remove_timeout()
        # Whatever follows, the HTTP request is over: the base class must
        # not report it.
        self.final_callback = None  # type: ignore[assignment]
        self.headers = headers
        assert self.connection is not None
        stream = self.connection.detach()
        protocol = self.get_websocket_protocol()
        try:
            protocol._process_server_headers(self.key, headers)
        except WebSocketError as e:
            if not self.connect_future.done():
                self.connect_future.set_exception(e)
            stream.close()
            return
        self.protocol = protocol
        protocol.stream = stream
        stream.set_close_callback(protocol.on_connection_close)
        _open_protocols.add(protocol)
        IOLoop.current().add_callback(protocol._start_reading)
        protocol.start_pinging()
        future_set_result_unless_cancelled(self.connect_future, self)

    def write_message(self, message: Union[str, bytes, Dict[str, Any]], binary: bool = False) -> "Future[None]":
        """Sends a message to the server; the arguments and the returned
        future are those of `WebSocketHandler.write_message`.

        `WebSocketClosedError` once the connection has closed.
        """
        return self._open_protocol().write_message(message, binary=binary)

    def read_message(
        self, callback: Optional[Callable[["Future[_Message]"], None]] = None
    ) -> Awaitable[_Message]:
        """The next message, as an awaitable; None means the connection has
        closed.

        A ``callback`` is also called with the future once it resolves.
        With an ``on_message_callback`` (see `websocket_connect`) messages
        go there instead and this never resolves.
        """
        upcoming = self.read_queue.get()
        if callback is not None:
            IOLoop.current().add_future(asyncio.ensure_future(upcoming), callback)
        return upcoming

    def on_message(self, message: Union[str, bytes]) -> Optional[Awaitable[None]]:
        """Hands a received message to `read_message` or to the
        ``on_message_callback``.  While the queue is full, the returned
        future holds further reading back."""
        return self._on_message(message)

    def _on_message(self, message: _Message) -> Optional[Awaitable[None]]:
        deliver = self._on_message_callback
        if deliver is None:
            queued = self.read_queue.put(message)
            if not queued.done():
                return queued
            # The next frame waits for the next IOLoop turn, so that the
            # reader runs first: what it sends in answer to this message
            # leaves before whatever the next frames make us send (a Close
            # for a protocol error, say).
            turn: Future[None] = Future()
            IOLoop.current().add_callback(future_set_result_unless_cancelled, turn, None)
            return turn
        deliver(message)
        return None

    def ping(self, data: bytes = b"") -> None:
        """Sends a ping with ``data`` (at most 125 bytes); the answer goes to
        `on_pong`.  `websocket_connect`'s ``ping_interval`` sends them on a
        schedule instead.
        """
        self._open_protocol().write_ping(utf8(data))

    def on_ping(self, data: bytes) -> None:
        """Hook for the server's pings (already answered); does nothing
        unless overridden."""

    def on_pong(self, data: bytes) -> None:
        """Hook for the server's pongs; does nothing unless overridden."""

    def get_websocket_protocol(self) -> WebSocketProtocol:
        """The protocol object for this connection (masking its frames, as
        a client must)."""
        return WebSocketProtocol13(self, mask_outgoing=True, params=self.params)

    @property
    def selected_subprotocol(self) -> Optional[str]:
        """The subprotocol the server accepted, or None."""
        assert self.protocol is not None
        return self.protocol.selected_subprotocol

    def log_exception(
        self, typ: "Optional[Type[BaseException]]", value: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        """Logs what an ``on_message_callback`` or hook raised, as
        ``Uncaught exception``."""
        assert typ is not None and value is not None
        app_log.error("Uncaught exception %s", value, exc_info=(typ, value, tb))


def _handshake_request(
    url: Union[str, httpclient.HTTPRequest], connect_timeout: Optional[float]
) -> httpclient.HTTPRequest:
    if isinstance(url, httpclient.HTTPRequest):
        assert connect_timeout is None, "give connect_timeout in the HTTPRequest"
        # The handshake headers go into a copy, not the caller's object.
        url.headers = httputil.HTTPHeaders(url.headers)
        request = url
    else:
        request = httpclient.HTTPRequest(url, connect_timeout=connect_timeout)
    proxy = httpclient._RequestProxy(request, httpclient.HTTPRequest._DEFAULTS)
    return cast(httpclient.HTTPRequest, proxy)


def websocket_connect(
    url: Union[str, httpclient.HTTPRequest],
    callback: Optional[Callable[["Future[WebSocketClientConnection]"], None]] = None,
    connect_timeout: Optional[float] = None, on_message_callback: _MessageCallback = None,
    compression_options: _CompressionOptions = None, ping_interval: Optional[float] = None,
    ping_timeout: Optional[float] = None, max_message_size: int = _default_max_message_size,
    subprotocols: Optional[List[str]] = None, resolver: Optional[Resolver] = None,
) -> "Awaitable[WebSocketClientConnection]":
    """Opens a client WebSocket connection.

    ``url`` is a ``ws:``/``wss:`` URL, or an `.HTTPRequest` whose headers
    (and options) the handshake request takes over.  The result is a future
    for a `WebSocketClientConnection`.  It fails with `.HTTPError` when the
    server answers with an HTTP error status (redirects are not followed),
    with `WebSocketError` when it answers without switching protocols, and
    with the network error when it cannot be reached.

    ``compression_options`` offers permessage-deflate (the keys of
    `WebSocketHandler.get_compression_options`); ``ping_interval`` and
    ``ping_timeout`` work like the server settings of those names;
    ``max_message_size`` limits incoming messages; ``subprotocols`` are
    offered in order.  Received messages come from
    `~WebSocketClientConnection.read_message` or go to
    ``on_message_callback``; a None message means the connection closed.

    .. deprecated:: 5.1
       ``callback``; use the returned future.
    """
    conn = WebSocketClientConnection(
        _handshake_request(url, connect_timeout), on_message_callback=on_message_callback,
        compression_options=compression_options, ping_interval=ping_interval,
        ping_timeout=ping_timeout, max_message_size=max_message_size,
        subprotocols=subprotocols, resolver=resolver,
    )
    if callback is not None:
        warnings.warn(
            "The callback argument to websocket_connect is deprecated; use the returned Future instead",
            DeprecationWarning, stacklevel=2,
        )
        IOLoop.current().add_future(conn.connect_future, callback)
    return conn.connect_future
