"""Client and server implementations of HTTP/1.x.

The module has two halves.

The first is the HTTP/1 codec: pure functions and one small decoder that
turn bytes into start lines, headers and body framing decisions and back
(`_parse_request_head`, `_request_framing`, `_ChunkedDecoder`,
`_format_head` ...).  They do no I/O, so they are tested by feeding bytes,
and each check quotes the rule of RFC 9112 (message syntax) or RFC 9110
(semantics) that it enforces.  Every problem with the peer's input raises
`.HTTPInputError`, carrying the status a server answers it with.

The second is `HTTP1Connection`, which moves bytes between an
`.IOStream` and the codec and calls an `.HTTPMessageDelegate`, and
`HTTP1ServerConnection`, which runs the request loop of one server
connection (keep-alive and pipelining) in a single task.

.. versionadded:: 4.0
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import typing
from typing import (
    Awaitable,
    Callable,
    Dict,
    List,
    Optional,
    Set,
    Tuple,
    Type,  # noqa: F401 - part of this module's historical namespace
)

from tornado import gen, iostream
from tornado.concurrent import (
    Future,
    future_set_exception_unless_cancelled,
    future_set_result_unless_cancelled,
)
from tornado.httputil import (
    HTTP_WHITESPACE,
    HTTPConnection,
    HTTPHeaders,
    HTTPInputError,
    HTTPMessageDelegate,
    HTTPOutputError,
    HTTPServerConnectionDelegate,
    RequestStartLine,
    ResponseStartLine,
    _ABNF,
    _StartLine,
    _ContentDecoder,
    _DECODERS,
    _FIELD_BLOCK_RE,
    _FIELD_LINE_RE,
    _REQUEST_LINE_RE,
    _error_status,
    _content_decoder,
    _header_value,
    parse_request_start_line,
    responses,
    parse_response_start_line,
)
from tornado.log import app_log, gen_log
from tornado.util import _speedups

CR_OR_LF_RE = re.compile(b"\r|\n")

# RFC 9110 section 8.6: Content-Length = 1*DIGIT.  (Python's int() would
# also take signs, underscores and Unicode digits, which another parser on
# the path could read differently.)  parse_int checks the same with str
# methods, which is quicker than this regex.
DIGITS = re.compile(r"[0-9]+")
# RFC 9112 section 7.1: chunk-size = 1*HEXDIG.
HEXDIGITS = re.compile(r"[0-9a-fA-F]+")

# How many informational (1xx) responses a client accepts before the
# final one (RFC 9110 section 15.2 puts no bound on them; we do).
_MAX_1XX_RESPONSES = 10

# Longest chunk-size line (with its extensions) we read.
_MAX_CHUNK_LINE = 1024

# The bytes that may start an empty line (as ints, the items of bytes).
_CR_LF = (13, 10)

# The end of a message head: the empty line after the header fields,
# terminated by CRLF or a bare LF (RFC 9112 section 2.2).  Written to
# start with a literal LF (matching from the LF that ends the last field
# line, which gives the same end as "\r?\n\r?\n"), so that the regex
# engine can scan for that byte instead of trying a match everywhere.
_HEAD_END = b"\n\r?\n"

# RFC 9112 section 5.2: obs-fold = OWS CRLF RWS (with the bare LF that
# section 2.2 lets us take for CRLF), with the whitespace before it.
_OBS_FOLD_RE = re.compile("[ \t]*\r?\n[ \t]+")

# Empty lines (CRLF or a bare LF), as may come before a start line.
_EMPTY_LINES_RE = re.compile("(?:\r?\n)*")
_EMPTY_HEAD_RE = re.compile(b"(?:\r?\n)*")


def parse_int(s: str) -> int:
    """Parse a non-negative decimal integer, digits only.

    >>> parse_int("42")
    42
    >>> parse_int("+42")
    Traceback (most recent call last):
      ...
    ValueError: not a decimal integer: '+42'
    """
    # ASCII digits are the only ASCII characters isdigit() accepts.
    if s.isascii() and s.isdigit():
        return int(s)
    raise ValueError("not a decimal integer: %r" % (s,))


def parse_hex_int(s: str) -> int:
    """Parse a non-negative hexadecimal integer, hex digits only (no
    ``0x`` prefix, sign or underscore).

    >>> parse_hex_int("1a")
    26
    """
    if not HEXDIGITS.fullmatch(s):
        raise ValueError("not a hexadecimal integer: %r" % (s,))
    return int(s, 16)


def is_transfer_encoding_chunked(headers: HTTPHeaders) -> bool:
    """Whether the message's body uses the chunked coding.

    Raises `.HTTPInputError` for any Transfer-Encoding other than exactly
    ``chunked`` and for one combined with Content-Length: RFC 9112 section
    6.1 says a message with both MUST be handled as an error by a server
    (it is the classic request smuggling vector), and we support no
    transfer coding but chunked (section 6.1: a server SHOULD refuse the
    ones it does not understand; a repeated ``chunked`` is forbidden by
    section 6.1 as well).
    """
    if "Transfer-Encoding" not in headers:
        return False
    if "Content-Length" in headers:
        raise HTTPInputError("Message with both Transfer-Encoding and Content-Length")
    coding = headers["Transfer-Encoding"]
    if coding.lower() == "chunked":
        return True
    # (RFC 9112 section 6.1 suggests 501 for an unknown coding; like
    # Tornado we answer 400, as the message cannot be framed either way.)
    raise HTTPInputError("Unsupported Transfer-Encoding %s" % coding)


# ---------------------------------------------------------------------------
# The codec: bytes to values.
# ---------------------------------------------------------------------------


def _split_head(text: str) -> Tuple[str, str]:
    """Split a message head into its start line and its header block.

    ``text`` is the head decoded as Latin-1, one character per byte:
    header field values are opaque octets (RFC 9110 section 5.5).  Empty
    lines before the start line are skipped (RFC 9112 section 2.2: a
    server SHOULD ignore at least one).
    """
    if text[:1] in ("\r", "\n"):
        # Whole empty lines only: a bare CR is no line ending, and left in
        # place it makes the start line invalid (RFC 9112 section 2.2).
        text = text[_EMPTY_LINES_RE.match(text).end() :]  # type: ignore[union-attr]
    eol = text.find("\n")
    if eol == -1:
        return text, ""
    line = text[:eol]
    if line.endswith("\r"):
        line = line[:-1]
    return line, text[eol + 1 :]


# A well-formed request head: a request line and well-formed field lines
# (see httputil._FIELD_BLOCK_RE), checked by one regex in the fast path of
# _parse_request_head.  Any other head (leading empty lines, errors) takes
# the general path.
_REQUEST_HEAD_RE = re.compile(_REQUEST_LINE_RE.pattern + "\r?\n" + _FIELD_BLOCK_RE.pattern)

_COMMON_TOKENS = {
    token: token
    for token in "GET HEAD POST PUT DELETE PATCH OPTIONS HTTP/1.1 HTTP/1.0".split()
}

# Host header values already found valid.  Clients repeat the same few, so
# this spares most requests a regex match; bounded, as clients choose them.
_VALID_HOSTS: Set[str] = set()
_VALID_HOSTS_LIMIT = 1000


def _split_request_head_py(
    data: bytes,
) -> Optional[Tuple[str, str, str, List[Tuple[str, str]]]]:
    """The parts of a well-formed request head: ``(method, target,
    version, [(name, value), ...])``, each value without the blanks around
    it; None for any head that `_REQUEST_HEAD_RE` does not match (it may
    still be valid: the general path of `_parse_request_head` decides).

    ``tornado.speedups.split_request_head`` is the C twin of this function
    (same results for every input; tests/test_speedups.py checks).
    """
    text = data.decode("latin1")
    m = _REQUEST_HEAD_RE.fullmatch(text)
    if m is None:
        return None
    return m[1], m[2], m[3], _FIELD_LINE_RE.findall(text, m.end(3))


_split_request_head = (
    _speedups.split_request_head if _speedups is not None else _split_request_head_py
)


def _parse_request_head(data: bytes) -> Tuple[RequestStartLine, HTTPHeaders]:
    """Parse the head of a request (everything up to the empty line)."""
    parts = _split_request_head(data)
    if parts is not None:
        method, target, version, fields = parts
        # One shared str per usual method and version, rather than a copy
        # for each request to keep (idle WebSockets keep theirs).
        start_line = RequestStartLine(
            _COMMON_TOKENS.get(method, method), target, _COMMON_TOKENS.get(version, version)
        )
        headers = HTTPHeaders._from_fields(fields)
    else:
        line, rest = _split_head(data.decode("latin1"))
        start_line = parse_request_start_line(line)
        headers = HTTPHeaders.parse(rest)
    # RFC 9112 section 3.2: "A server MUST respond with a 400 (Bad Request)
    # status code to any HTTP/1.1 request message that lacks a Host header
    # field and to any request message that contains more than one Host
    # header field line or a Host header field with an invalid field value."
    hosts = headers._as_list.get("Host", ())
    if len(hosts) == 1:
        host = hosts[0]
        if host not in _VALID_HOSTS:
            if not _ABNF.host.fullmatch(host):
                raise HTTPInputError("Invalid Host header: %r" % (host,))
            if len(_VALID_HOSTS) >= _VALID_HOSTS_LIMIT:
                _VALID_HOSTS.clear()
            _VALID_HOSTS.add(host)
    elif hosts:
        raise HTTPInputError("Multiple Host headers")
    elif start_line.version == "HTTP/1.1":
        raise HTTPInputError("Missing Host header")
    return start_line, headers


# The same for a response head: a status line and well-formed field lines.
_RESPONSE_HEAD_RE = re.compile(_ABNF.status_line.pattern + "\r?\n" + _FIELD_BLOCK_RE.pattern)


def _parse_response_head(data: bytes) -> Tuple[ResponseStartLine, HTTPHeaders]:
    """Parse the head of a response (everything up to the empty line)."""
    text = data.decode("latin1")
    m = _RESPONSE_HEAD_RE.fullmatch(text)
    if m is not None:
        code = int(m[2])
        if code >= 100:
            start_line = ResponseStartLine(m[1], code, m[3])
            return start_line, HTTPHeaders._from_valid_block(text, m.end(3))
    line, rest = _split_head(text)
    if rest[:1] not in HTTP_WHITESPACE and _OBS_FOLD_RE.search(rest):
        # RFC 9112 section 5.2: "A user agent that receives an obs-fold in
        # a response message ... MUST replace each received obs-fold with
        # one or more SP octets prior to interpreting the field value."
        # (A server rejects it in requests, as section 5.2 allows; a
        # whitespace-preceded first field line is left to fail below, as
        # section 2.2 says.)
        rest = _OBS_FOLD_RE.sub(" ", rest)
    start_line = parse_response_start_line(line)
    if start_line.code < 100:
        # RFC 9110 section 15: "All valid status codes are within the
        # range of 100 to 599"; below 100 there is not even a class to
        # fall back on (the codes above 599 are let through as unknown).
        raise HTTPInputError("Invalid status code %d in %r" % (start_line.code, line))
    return start_line, HTTPHeaders.parse(rest)


def _parse_content_length(value: str) -> int:
    """Read a Content-Length field value.

    RFC 9110 section 8.6: a recipient may accept a list of identical values
    (a proxy may have merged repeated fields), as long as each is a valid
    length; anything else MUST be treated as unrecoverable.
    """
    if "," in value:
        pieces = [piece.strip(HTTP_WHITESPACE) for piece in value.split(",")]
        if any(piece != pieces[0] for piece in pieces[1:]):
            raise HTTPInputError("Multiple unequal Content-Lengths: %r" % value)
        value = pieces[0]
    try:
        return parse_int(value)
    except ValueError:
        raise HTTPInputError("Only integer Content-Length is allowed: %s" % value)


# How a body is delimited (RFC 9112 section 6.3).
_NO_BODY = 0
_FIXED_BODY = 1
_CHUNKED_BODY = 2
_BODY_UNTIL_CLOSE = 3


_NO_FRAMING = (_NO_BODY, 0)


def _request_framing(headers: HTTPHeaders) -> Tuple[int, int]:
    """How the body of a request is delimited: ``(kind, length)``.

    RFC 9112 section 6.3: chunked if Transfer-Encoding says so, else
    Content-Length, else the request has no body (never "until close").
    The length is checked against the size limit later, once the
    application has had a chance to change the limit.
    """
    if is_transfer_encoding_chunked(headers):
        return _CHUNKED_BODY, 0
    if "Content-Length" in headers:
        length = _parse_content_length(headers["Content-Length"])
        return (_FIXED_BODY, length) if length else _NO_FRAMING
    return _NO_FRAMING


def _check_body_size(framing: Tuple[int, int], max_body_size: int) -> None:
    """Refuse a declared Content-Length over the limit before reading it.

    RFC 9110 section 15.5.14 has 413 (Content Too Large) for this, but
    Tornado servers have always answered 400 and clients rely on it, so
    this is a plain `.HTTPInputError`.
    """
    if framing[0] == _FIXED_BODY and framing[1] > max_body_size:
        raise HTTPInputError("Content-Length too long")


def _response_framing(
    code: int, headers: HTTPHeaders, request_method: Optional[str]
) -> Tuple[int, int]:
    """How the body of a response is delimited: ``(kind, length)``.

    RFC 9112 section 6.3: responses to HEAD and 1xx, 204 and 304 responses
    end with their header section (a 304 or HEAD response may still carry
    the Content-Length the body would have had); otherwise
    Transfer-Encoding, then Content-Length, then the closing of the
    connection delimit the body.
    """
    if request_method == "HEAD" or code == 304 or 100 <= code < 200:
        return _NO_FRAMING
    if code == 204:
        # RFC 9110 section 15.3.5: a 204 response cannot contain content.
        if "Transfer-Encoding" in headers or headers.get("Content-Length", "0") != "0":
            raise HTTPInputError("Response with code %d should not have body" % code)
        return _NO_FRAMING
    if "Transfer-Encoding" not in headers and "Content-Length" not in headers:
        return _BODY_UNTIL_CLOSE, 0
    # Otherwise the body is framed as a request's is.
    return _request_framing(headers)


def _connection_tokens(headers: HTTPHeaders) -> List[str]:
    """The lower-cased options of the Connection header (RFC 9110
    section 7.6.1)."""
    value = _header_value(headers, "Connection")
    if not value:
        return []
    return [token.strip(HTTP_WHITESPACE).lower() for token in value.split(",")]


def _request_keeps_alive(
    start_line: RequestStartLine, headers: HTTPHeaders, no_keep_alive: bool
) -> bool:
    """Whether the connection may carry another request after this one.

    RFC 9112 section 9.3: HTTP/1.1 connections persist unless "close" is
    among the Connection options; HTTP/1.0 ones only if the client asked
    for "keep-alive" (appendix C.2.2).
    """
    if no_keep_alive:
        return False
    tokens = _connection_tokens(headers)
    if start_line.version == "HTTP/1.1":
        return "close" not in tokens
    return "keep-alive" in tokens


# RFC 9112 section 7.1:
#   chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
#   chunk-size = 1*HEXDIG
#   chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
#   chunk-ext-name = token ; chunk-ext-val = token / quoted-string
# Extensions are accepted and ignored, as section 7.1.1 says a recipient
# MUST ignore the ones it does not understand.
_CHUNK_LINE_RE = re.compile(
    (
        "([0-9A-Fa-f]+)"
        "(?:[ \\t]*;[ \\t]*{t}(?:[ \\t]*=[ \\t]*(?:{t}|\"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t\\x20-\\x7e\\x80-\\xff])*\"))?)*"
    )
    .format(t=_ABNF.tchar + "+")
    .encode("latin1")
)


def _parse_chunk_line(line: bytes) -> int:
    """The size from a chunk-size line (without its CRLF)."""
    m = _CHUNK_LINE_RE.fullmatch(line)
    if m is None:
        raise HTTPInputError("invalid chunk size: %r" % (line,))
    return int(m.group(1), 16)


class _ChunkedDecoder:
    """Decoder for the chunked transfer coding (RFC 9112 section 7.1).

    Fed the bytes of a chunked body in pieces of any size (`feed`), it
    returns the chunk data and raises `.HTTPInputError` as soon as the
    input is malformed or the data exceeds ``max_body_size``.  Trailer
    fields (section 7.1.2) are checked and discarded.  Input after the end
    of the body is left in `trailing`.

    `wants` says what the decoder needs next, so that a reader can ask the
    stream for exactly that and never consume bytes past the body.
    """

    # States.
    _SIZE = 0  # reading a chunk-size line
    _DATA = 1  # reading chunk-data
    _DATA_END = 2  # reading the CRLF after chunk-data
    _TRAILER = 3  # reading trailer field lines up to the empty line
    _DONE = 4

    def __init__(
        self, max_body_size: int, max_trailer_size: int = 65536, in_response: bool = False
    ) -> None:
        self._max_body_size = max_body_size
        self._max_trailer_size = max_trailer_size
        # Whether the body is a response's: a user agent unfolds obs-fold
        # (RFC 9112 section 5.2), a server rejects it.
        self._in_response = in_response
        self._trailer_lines = 0
        self._state = self._SIZE
        self._remaining = 0  # bytes left in the current chunk
        self._total = 0
        self._trailer_size = 0
        self._buf = b""  # a partial line (or partial CRLF)
        self.trailing = b""

    @property
    def done(self) -> bool:
        return self._state == self._DONE

    def wants(self) -> Tuple[bool, int]:
        """``(True, n)``: a CRLF-terminated line of at most ``n`` bytes;
        ``(False, n)``: ``n`` more bytes of data."""
        state = self._state
        if state == self._DATA:
            # The data and the CRLF after it, in one read when possible.
            return False, self._remaining + 2
        if state == self._DATA_END:
            return False, 2 - len(self._buf)
        if state == self._SIZE:
            return True, _MAX_CHUNK_LINE - len(self._buf)
        return True, max(1, self._max_trailer_size - self._trailer_size - len(self._buf))

    def feed(self, data: bytes) -> List[bytes]:
        """Consume ``data``; return the chunk data found in it."""
        out: List[bytes] = []
        pos = 0
        end = len(data)
        while pos < end:
            state = self._state
            if state == self._DATA:
                take = min(self._remaining, end - pos)
                out.append(data if take == end else data[pos : pos + take])
                pos += take
                self._remaining -= take
                if not self._remaining:
                    self._state = self._DATA_END
            elif state == self._DATA_END:
                need = 2 - len(self._buf)
                self._buf += data[pos : pos + need]
                pos += need
                if len(self._buf) == 2 or not self._buf.startswith(b"\r\n"[: len(self._buf)]):
                    if self._buf != b"\r\n":
                        raise HTTPInputError(
                            "improperly terminated chunk: %r" % (self._buf,)
                        )
                    self._buf = b""
                    self._state = self._SIZE
            elif state == self._DONE:
                self.trailing = data[pos:]
                break
            else:
                pos = self._feed_line(data, pos)
        return out

    def _feed_line(self, data: bytes, pos: int) -> int:
        """Collect a chunk-size or trailer line; return the new position."""
        limit = _MAX_CHUNK_LINE if self._state == self._SIZE else self._max_trailer_size
        nl = data.find(b"\n", pos)
        if nl == -1:
            self._buf += data[pos:]
            if len(self._buf) > limit:
                raise HTTPInputError("chunked body line too long")
            return len(data)
        line = self._buf + data[pos:nl]
        self._buf = b""
        # Framing lines end with CRLF, strictly: a lone LF (or CR) here
        # is how request smuggling between lenient and strict parsers
        # starts.
        if not line.endswith(b"\r") or len(line) + 1 > limit:
            raise HTTPInputError("invalid chunk size: %r" % (line,))
        line = line[:-1]
        if self._state == self._SIZE:
            self._on_size_line(line)
        else:
            self._on_trailer_line(line)
        return nl + 1

    def _on_size_line(self, line: bytes) -> None:
        size = _parse_chunk_line(line)
        if size == 0:
            # RFC 9112 section 7.1: last-chunk, then the trailer section.
            self._state = self._TRAILER
            return
        self._total += size
        if self._total > self._max_body_size:
            raise HTTPInputError("chunked body too large")
        self._remaining = size
        self._state = self._DATA

    def _on_trailer_line(self, line: bytes) -> None:
        if not line:
            self._state = self._DONE
            return
        self._trailer_size += len(line) + 2
        if self._trailer_size > self._max_trailer_size:
            raise HTTPInputError("chunked trailer section too large")
        # Validated like any field line; trailer fields are not passed on
        # (RFC 9110 section 6.5.1 lets a recipient discard them), so an
        # obs-fold in a response's trailer is unfolded by checking the
        # continuation as the rest of the previous line's value.
        text = line.decode("latin1")
        if self._in_response and self._trailer_lines and text[:1] in HTTP_WHITESPACE:
            text = "X:" + text
        HTTPHeaders().parse_line(text)
        self._trailer_lines += 1


# ---------------------------------------------------------------------------
# The codec: values to bytes.
# ---------------------------------------------------------------------------


def _format_head(first_line: str, headers: HTTPHeaders) -> bytes:
    """The bytes of a message head: ``first_line`` (the start line with
    its CRLF), the field lines and the empty line.

    Raises `ValueError` if a name or value would break the framing with a
    CR or LF (response splitting).
    """
    fields = headers._as_list
    try:
        # Values are str nearly always; a concatenation with anything else
        # raises TypeError, and the loop below converts it.
        parts = [name + ": " + value + "\r\n" for name in fields for value in fields[name]]
    except TypeError:
        parts = []
        for name, values in fields.items():
            for value in values:
                if type(value) is not str:
                    value = value.decode("latin1") if isinstance(value, bytes) else str(value)
                parts.append(f"{name}: {value}\r\n")
    text = first_line + "".join(parts)
    # Each part ends with the only CRLF it may hold: two counts over the
    # whole text find any other CR or LF.
    breaks = len(parts) + 1
    if text.count("\n") != breaks or text.count("\r") != breaks:
        for line in [first_line, *parts]:
            if "\r" in line[:-2] or "\n" in line[:-2]:
                raise ValueError("Illegal characters (CR or LF) in header: %r" % line)
    return text.encode("latin1") + b"\r\n"


# The C twin of _format_head for the usual case (plain str fields, no CR or
# LF): it returns None for anything else, which _format_head then handles.
_format_head_c = _speedups.format_head if _speedups is not None else None


def _format_chunk(data: bytes) -> bytes:
    """One chunk of the chunked coding (RFC 9112 section 7.1)."""
    return b"%x\r\n%b\r\n" % (len(data), data)


# Formatted status lines by (code, reason), as most responses share a few.
_STATUS_LINES: Dict[Tuple[int, Optional[str]], str] = {}
_STATUS_LINES_LIMIT = 256


def _status_line(code: int, reason: Optional[str]) -> str:
    """The status line of a response, with its CRLF (RFC 9112 section 4)."""
    key = (code, reason)
    line = _STATUS_LINES.get(key)
    if line is None:
        line = "HTTP/1.1 %d %s\r\n" % (code, _status_reason(code, reason))
        if len(_STATUS_LINES) < _STATUS_LINES_LIMIT:
            _STATUS_LINES[key] = line
    return line


def _status_reason(code: int, reason: Optional[str]) -> str:
    """The reason phrase to send: the application's if it is a valid
    reason-phrase (RFC 9112 section 4), else the standard one, so that no
    reason can inject header lines (CVE-2025-67724)."""
    if reason and _ABNF.reason_phrase.fullmatch(reason):
        return reason
    return responses.get(code, "Unknown")


def _error_response(status: int) -> bytes:
    """The bare response a server sends for a request it cannot parse."""
    return b"HTTP/1.1 %d %s\r\n\r\n" % (status, responses.get(status, "Error").encode())


# ---------------------------------------------------------------------------
# Connections.
# ---------------------------------------------------------------------------


class _QuietException(Exception):
    """An error that has already been logged and only ends the connection."""


def _application_failed(e: BaseException) -> None:
    """Handle an exception raised by application code (a delegate): log
    it and raise `_QuietException`, so that it ends the connection.

    Exceptions that are not failures pass through: an `.HTTPInputError`
    (the peer's fault, such as a body that fails to decompress), the
    cancellation of our own task, and exits (``KeyboardInterrupt`` ...).
    """
    if isinstance(e, (HTTPInputError, _QuietException)):
        raise e
    if not isinstance(e, Exception):
        if not isinstance(e, asyncio.CancelledError):
            raise e
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise e
    app_log.error("Uncaught exception", exc_info=(type(e), e, e.__traceback__))
    raise _QuietException from e


# Default for both chunk_size and max_header_size.
_64K = 64 * 1024

# How many body bytes may be read without waiting before a body loop
# yields to the IOLoop (see HTTP1Connection._read_fixed_body), and the
# least a read counts for.
_INLINE_READ_BUDGET = _64K
_MIN_READ_COST = 512


class HTTP1ConnectionParameters:
    """Settings shared by the `.HTTP1Connection` objects of a client or
    server (`.HTTP1ServerConnection` passes them to each request).

    ``no_keep_alive``: one message exchange per connection.
    ``chunk_size``: the largest piece of body handed to
    ``data_received`` (64 KiB unless given).
    ``max_header_size``: the largest message head, start line included,
    that is accepted (64 KiB unless given).
    ``header_timeout`` / ``body_timeout``: how many seconds the head /
    the body may take to arrive before the connection is dropped (no limit
    when None).
    ``max_body_size``: the largest body accepted; None means the stream's
    ``max_buffer_size``.
    ``decompress``: hand ``Content-Encoding: gzip`` bodies over decoded
    (on a client, ``br`` and ``zstd`` ones too where their modules are
    installed).
    """

    def __init__(
        self, no_keep_alive: bool = False, chunk_size: Optional[int] = None,
        max_header_size: Optional[int] = None, header_timeout: Optional[float] = None,
        max_body_size: Optional[int] = None, body_timeout: Optional[float] = None,
        decompress: bool = False,
    ) -> None:
        self.chunk_size = chunk_size or _64K
        self.max_header_size = max_header_size or _64K
        self.max_body_size = max_body_size
        self.header_timeout, self.body_timeout = header_timeout, body_timeout
        self.no_keep_alive = no_keep_alive
        self.decompress = decompress


class HTTP1Connection(HTTPConnection):
    """Implements the HTTP/1.x protocol for one message exchange.

    On a client it writes one request and reads its response; on a server
    (as created by `HTTP1ServerConnection`) it reads one request and
    writes its response.  It can be `detach`\\ ed to take over the stream
    (as websockets do).
    """

    # The state of the exchange, with its initial values on the class: a
    # server makes one of these objects per request, and an instance only
    # stores what changes.

    # Whether each direction of the exchange is complete.
    _write_finished = False
    _read_finished = False
    # Set once the exchange is over (finished, closed or detached); the
    # future is only made for someone who has to wait for that.
    _exchange_over = False
    _finish_future: Optional[Future[None]] = None
    # Whether to close the connection once the response is written.
    _disconnect_on_finish = False
    _close_callback: Optional[Callable[[], None]] = None
    _close_callback_on_stream = False
    _request_start_line: Optional[RequestStartLine] = None
    _response_start_line: Optional[ResponseStartLine] = None
    _request_headers: Optional[HTTPHeaders] = None
    # Whether we write the body with the chunked coding.
    _chunking_output = False
    # Body bytes still owed according to our Content-Length, if any.
    _expected_content_remaining: Optional[int] = None
    _pending_write: Optional[Future[None]] = None
    # Whether any byte of our message has been handed to the stream, and
    # in how many writes.
    _output_started = False
    _writes = 0
    # Whether finish() turned Nagle's algorithm off (a client turns it
    # back on once its request has been sent).
    _nodelay_set = False
    # Set by HTTP1ServerConnection for requests after the first, so that
    # pipelined requests let other connections run in between.
    _yield_before_reading = False
    # The server connection's idle watchdog, which enforces header_timeout
    # for all the requests of a connection.
    _watchdog: "Optional[_IdleWatchdog]" = None
    # Why the incoming message was refused, if it was (a client's error
    # message says so).
    _input_error: Optional[HTTPInputError] = None
    # Set on a server connection once a graceful drain has begun (see
    # HTTP1ServerConnection._begin_drain): this exchange is the last of
    # the connection, and its response says so.
    _draining = False

    def __init__(
        self, stream: iostream.IOStream, is_client: bool,
        params: Optional[HTTP1ConnectionParameters] = None, context: Optional[object] = None,
    ) -> None:
        """Speaks HTTP/1 over ``stream``, as the client side if
        ``is_client``.  ``params`` defaults to a plain
        `HTTP1ConnectionParameters`; ``context`` is stored as
        ``self.context`` for the application (`.HTTPServer` describes the
        client with it)."""
        settings = params or HTTP1ConnectionParameters()
        self.params = settings
        self.stream: Optional[iostream.IOStream] = stream
        self.context = context
        self.is_client = is_client
        self.no_keep_alive = settings.no_keep_alive
        # Per-message limits; set_max_body_size / set_body_timeout change them.
        limit = settings.max_body_size
        self._max_body_size = stream.max_buffer_size if limit is None else limit
        self._body_timeout = settings.body_timeout

    def read_response(self, delegate: HTTPMessageDelegate) -> Awaitable[bool]:
        """Read one incoming message and feed it to ``delegate`` (an
        `.HTTPMessageDelegate`): the response on a client (after the
        request has been written with `write_headers`, `write` and
        `finish`), the request on a server.

        Returns a coroutine that resolves to True once the message has been
        read and handled and the connection can go on, and to False if the
        connection was closed or detached (including after malformed
        input, which is logged at INFO level and, on a server, answered
        with a 4xx response).  It raises `.StreamClosedError` if the
        connection closed before the start of a message.
        """
        if self.params.decompress:
            delegate = _GzipMessageDelegate(delegate, self)
        return self._read_message(delegate)

    async def _read_message(self, delegate: HTTPMessageDelegate) -> bool:
        stream = self.stream
        assert stream is not None
        need_delegate_close = False
        try:
            informational = 0
            while True:
                # The common case inline: wait for the head under the
                # server's idle watchdog; _wait_head does everything else.
                future = self._read_head_future()
                data: Optional[bytes] = None
                if not future.done():
                    watchdog = self._watchdog
                    if watchdog is not None:
                        watchdog.waiting()
                        try:
                            data = await future
                        finally:
                            watchdog._waiting_since = None
                elif not self._yield_before_reading and future.exception() is None:
                    data = future.result()
                if data is None or data[0] in _CR_LF:
                    data = await self._wait_head(future)
                start_line, headers, framing = self._parse_head(data)
                # A delegate that refuses the head with HTTPInputError (as
                # HTTPServerRequest does for too many query arguments) has
                # not taken the message on, so it is not told of the close;
                # after any other failure it is.
                try:
                    header_future = delegate.headers_received(start_line, headers)
                    need_delegate_close = True
                    if header_future is not None:
                        await header_future
                except HTTPInputError:
                    raise
                except BaseException as e:
                    need_delegate_close = True
                    _application_failed(e)
                if self.stream is None:
                    # Detached by the delegate: the stream is no longer ours.
                    need_delegate_close = False
                    return False
                if not self.is_client:
                    break
                code = start_line.code  # type: ignore[union-attr]
                if code < 100 or code >= 200 or code == 101:
                    break
                # RFC 9110 section 15.2: interim responses have no content
                # and are followed by the final response.
                if "Content-Length" in headers or "Transfer-Encoding" in headers:
                    raise HTTPInputError("Response code %d cannot have body" % code)
                informational += 1
                if informational > _MAX_1XX_RESPONSES:
                    raise HTTPInputError("Too many 1xx responses")
            if framing[0] != _NO_BODY:
                _check_body_size(framing, self._max_body_size)
                if not self.is_client:
                    self._maybe_send_continue(start_line, headers)  # type: ignore[arg-type]
                body_future = self._read_body(framing, delegate)
                allowed = self._body_timeout
                if allowed is not None:
                    body_future = gen.with_timeout(
                        stream.io_loop.time() + allowed, body_future,
                        quiet_exceptions=iostream.StreamClosedError,
                    )
                try:
                    await body_future
                except TimeoutError:
                    if allowed is None:
                        raise
                    gen_log.info("Timeout reading body from %s", self.context)
                    stream.close()
                    return False
            self._read_finished = True
            if not self._write_finished or self.is_client:
                try:
                    delegate.finish()
                except HTTPInputError:
                    raise
                except BaseException as e:
                    _application_failed(e)
                need_delegate_close = False
            # A server waits for the response (which may still be being
            # produced) before the connection can read the next request.
            if not self._exchange_over and self.stream is not None and not stream.closed():
                stream.set_close_callback(self._on_connection_close)
                self._close_callback_on_stream = True
                await self._wait_exchange_over()
            if self.stream is None:
                return False
            if not self.is_client and (self._disconnect_on_finish or self._draining or stream.closed()):
                # RFC 9112 section 9.6: no request after the last one is
                # processed, not even one already in the buffer.
                return False
        except HTTPInputError as e:
            self._input_error = e
            gen_log.info("Malformed HTTP message from %s: %s", self.context, e)
            if not self.is_client and not self._output_started and self.stream is not None:
                self._output_started = True
                await self.stream.write(_error_response(_error_status(e)))
            self.close()
            return False
        except _QuietException:
            self.close()
            return False
        finally:
            if need_delegate_close:
                try:
                    delegate.on_connection_close()
                except Exception:
                    app_log.error("Uncaught exception", exc_info=True)
            if self._close_callback_on_stream:
                self._clear_callbacks()
        return True

    def _parse_head(
        self, data: bytes
    ) -> Tuple[_StartLine, HTTPHeaders, Tuple[int, int]]:
        """Parse a message head and decide how its body is framed (before
        any of it reaches the delegate)."""
        if self.is_client:
            response_line, headers = _parse_response_head(data)
            self._response_start_line = response_line
            method = self._request_start_line.method if self._request_start_line else None
            framing = _response_framing(response_line.code, headers, method)
            return response_line, headers, framing
        request_line, headers = _parse_request_head(data)
        self._request_start_line = request_line
        self._request_headers = headers
        fields = headers._as_list
        # Most requests are HTTP/1.1 without Connection, Content-Length or
        # Transfer-Encoding: they keep the connection and have no body.
        if "Connection" in fields or request_line.version != "HTTP/1.1" or self.no_keep_alive:
            self._disconnect_on_finish = not _request_keeps_alive(
                request_line, headers, self.no_keep_alive
            )
        if "Content-Length" in fields or "Transfer-Encoding" in fields:
            return request_line, headers, _request_framing(headers)
        return request_line, headers, _NO_FRAMING

    async def _wait_head(self, future: "Future[bytes]") -> bytes:
        """Wait for the head that ``future`` (a head read) will produce,
        within header_timeout, skipping an empty head."""
        stream = self.stream
        assert stream is not None
        watchdog = self._watchdog
        for _attempt in range(2):
            if future.done():
                if self._yield_before_reading:
                    # Pipelined requests: let other connections run.
                    await asyncio.sleep(0)
                data = future.result()
            elif watchdog is not None:
                watchdog.waiting()
                try:
                    data = await future
                finally:
                    watchdog.busy()
            elif self.params.header_timeout is not None:
                io_loop = stream.io_loop
                timeout = io_loop.call_later(self.params.header_timeout, stream.close)
                try:
                    data = await future
                finally:
                    io_loop.remove_timeout(timeout)
            else:
                data = await future
            # RFC 9112 section 2.2: empty lines before a request-line are
            # skipped.  The head regex stops at the first empty line, so a
            # stray CRLF CRLF after the previous message reads as an empty
            # head: read once more.
            if not _EMPTY_HEAD_RE.fullmatch(data):
                return data
            future = self._read_head_future()
        raise HTTPInputError("Malformed HTTP request line: empty")

    def _read_head_future(self) -> "Future[bytes]":
        # IOStream's reads return Futures (the annotation says Awaitable);
        # the fast path looks at them before awaiting.
        return self.stream.read_until_regex(  # type: ignore[union-attr, return-value]
            _HEAD_END, max_bytes=self.params.max_header_size
        )

    def _maybe_send_continue(self, start_line: RequestStartLine, headers: HTTPHeaders) -> None:
        """RFC 9110 section 10.1.1: answer ``Expect: 100-continue`` with an
        interim 100 before reading the body (a server MUST ignore the
        expectation in an HTTP/1.0 request), unless the application has
        already responded."""
        if (
            start_line.version == "HTTP/1.1"
            and not self._write_finished
            and not self._output_started
            and (_header_value(headers, "Expect") or "").lower() == "100-continue"
            and self.stream is not None
        ):
            self.stream.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _read_body(self, framing: Tuple[int, int], delegate: HTTPMessageDelegate) -> Awaitable[None]:
        kind, length = framing
        if kind == _FIXED_BODY:
            return self._read_fixed_body(length, delegate)
        if kind == _CHUNKED_BODY:
            return self._read_chunked_body(delegate)
        return self._read_body_until_close(delegate)

    async def _deliver(self, delegate: HTTPMessageDelegate, data: bytes) -> None:
        """Pass body data to the delegate, unless the response is already
        complete (then the rest of the request is of no interest)."""
        if not self._write_finished or self.is_client:
            try:
                ret = delegate.data_received(data)
                if ret is not None:
                    await ret
            except BaseException as e:
                _application_failed(e)

    # The body loops below give the IOLoop a turn by themselves.  A read
    # of bytes that are already buffered (or readable at once) returns a
    # finished future, and awaiting that does not go back to the loop: a
    # body that arrives faster than the delegate takes it would hold the
    # loop, and every other connection, until its end.  So the loops count
    # the bytes read without waiting and yield once _INLINE_READ_BUDGET of
    # them have gone by (a read that had to wait has been through the loop
    # already and starts the count afresh).

    async def _read_fixed_body(self, content_length: int, delegate: HTTPMessageDelegate) -> None:
        assert self.stream is not None
        stream = self.stream
        chunk_size = self.params.chunk_size
        unyielded = 0
        while True:
            read = typing.cast(
                "Future[bytes]", stream.read_bytes(min(chunk_size, content_length), partial=True)
            )
            waited = not read.done()
            body = await read
            content_length -= len(body)
            await self._deliver(delegate, body)
            if content_length <= 0:
                return
            unyielded = 0 if waited else unyielded + len(body)
            if unyielded >= _INLINE_READ_BUDGET:
                unyielded = 0
                await asyncio.sleep(0)

    async def _read_chunked_body(self, delegate: HTTPMessageDelegate) -> None:
        """Read a chunked body through `_ChunkedDecoder`.

        Small chunks are coalesced: data is passed on when ``chunk_size``
        bytes have gathered, or when the next read would have to wait for
        the network.
        """
        assert self.stream is not None
        stream = self.stream
        chunk_size = self.params.chunk_size
        decoder = _ChunkedDecoder(self._max_body_size, self.params.max_header_size, self.is_client)
        pending: List[bytes] = []
        pending_size = 0
        unyielded = 0
        while not decoder.done:
            is_line, n = decoder.wants()
            if is_line:
                read = stream.read_until(b"\r\n", max_bytes=n)
            else:
                read = stream.read_bytes(min(n, chunk_size), partial=True)
            future = typing.cast("Future[bytes]", read)
            waited = not future.done()
            if waited and pending:
                await self._deliver(delegate, b"".join(pending))
                pending, pending_size = [], 0
            data = await future
            for piece in decoder.feed(data):
                pending.append(piece)
                pending_size += len(piece)
            while pending_size >= chunk_size:
                joined = b"".join(pending)
                pending, pending_size = [joined[chunk_size:]], len(joined) - chunk_size
                await self._deliver(delegate, joined[:chunk_size])
            # Each read counts for at least _MIN_READ_COST bytes, so that a
            # stream of tiny chunks yields too.
            unyielded = 0 if waited else unyielded + max(len(data), _MIN_READ_COST)
            if unyielded >= _INLINE_READ_BUDGET and not decoder.done:
                unyielded = 0
                await asyncio.sleep(0)
        if pending_size:
            await self._deliver(delegate, b"".join(pending))

    async def _read_body_until_close(self, delegate: HTTPMessageDelegate) -> None:
        assert self.stream is not None
        stream = self.stream
        total = 0
        unyielded = 0
        while True:
            read = typing.cast("Future[bytes]", stream.read_bytes(self.params.chunk_size, partial=True))
            waited = not read.done()
            try:
                chunk = await read
            except iostream.StreamClosedError:
                return
            total += len(chunk)
            if total > self._max_body_size:
                raise HTTPInputError("Body too long")
            await self._deliver(delegate, chunk)
            unyielded = 0 if waited else unyielded + len(chunk)
            if unyielded >= _INLINE_READ_BUDGET:
                unyielded = 0
                await asyncio.sleep(0)

    # Callbacks and the end of the exchange.

    def set_close_callback(self, callback: Optional[Callable[[], None]]) -> None:
        """Arranges for ``callback`` to run if the peer goes away between
        the end of the incoming message and the end of our reply.  (Before
        the incoming message is complete, the delegate's
        `.HTTPMessageDelegate.on_connection_close` is what gets told.)"""
        self._close_callback = callback

    def _on_connection_close(self) -> None:
        # The stream's close callback, installed only for the time a
        # server spends waiting on the application's reply.
        pending, self._close_callback = self._close_callback, None
        if pending is not None:
            pending()
        self._set_exchange_over()
        self._clear_callbacks()

    def _clear_callbacks(self) -> None:
        """Drop the references that would keep the application's objects
        alive after the exchange."""
        self._close_callback = None
        if self._close_callback_on_stream:
            self._close_callback_on_stream = False
            if self.stream is not None:
                self.stream.set_close_callback(None)

    def _set_exchange_over(self) -> None:
        self._exchange_over = True
        future = self._finish_future
        if future is not None and not future.done():
            future_set_result_unless_cancelled(future, None)

    def _wait_exchange_over(self) -> "Future[None]":
        if self._finish_future is None:
            self._finish_future = Future()
            if self._exchange_over:
                self._finish_future.set_result(None)
        return self._finish_future

    def close(self) -> None:
        """Close the connection (and its stream)."""
        if self.stream is not None:
            self.stream.close()
        self._clear_callbacks()
        self._set_exchange_over()

    def detach(self) -> iostream.IOStream:
        """Stop speaking HTTP on this connection and return its stream.

        For protocols that start with an HTTP handshake and then take the
        connection over, such as websockets.  Call it from
        `.HTTPMessageDelegate.headers_received`: nothing more is read or
        written by this object afterwards.
        """
        self._clear_callbacks()
        stream = self.stream
        self.stream = None
        self._set_exchange_over()
        # Nothing more is read or written here: drop what only served
        # that (the request object keeps this connection as long as the
        # new protocol lives).
        self._watchdog = self._pending_write = self._request_start_line = None
        return stream  # type: ignore[return-value]

    def set_max_body_size(self, max_body_size: int) -> None:
        """Change the body size limit for this message only (the
        `.HTTP1ConnectionParameters` value applies again to the next)."""
        self._max_body_size = max_body_size

    def set_body_timeout(self, timeout: float) -> None:
        """Change the body timeout for this message only (the
        `.HTTP1ConnectionParameters` value applies again to the next)."""
        self._body_timeout = timeout

    # Writing.

    def write_headers(
        self,
        start_line: _StartLine,
        headers: HTTPHeaders,
        chunk: Optional[bytes] = None,
    ) -> "Future[None]":
        """Implements `.HTTPConnection.write_headers`.

        On a server this also decides the framing of the response: chunked
        for an HTTP/1.1 client when the application gives no
        Content-Length, else delimited by closing the connection, in which
        case the response says so.
        """
        if self.is_client:
            assert isinstance(start_line, RequestStartLine)
            self._request_start_line = start_line
            first_line = "%s %s HTTP/1.1\r\n" % (start_line.method, start_line.path)
            # RFC 9112 section 6.3: a request body needs explicit framing;
            # without a Content-Length we chunk it (and say so, whatever
            # Transfer-Encoding the caller's headers already had).
            self._chunking_output = (
                start_line.method in ("POST", "PUT", "PATCH")
                and "Content-Length" not in headers
            )
            if "Content-Length" in headers:
                self._expected_content_remaining = parse_int(headers["Content-Length"])
        else:
            self._prepare_response_headers(start_line, headers)  # type: ignore[arg-type]
            first_line = _status_line(start_line.code, start_line.reason)  # type: ignore[union-attr]
        if self._chunking_output:
            headers["Transfer-Encoding"] = "chunked"
        data = None if _format_head_c is None else _format_head_c(first_line, headers._as_list)
        if data is None:
            data = _format_head(first_line, headers)
        if chunk:
            data += self._format_chunk(chunk)
        return self._write(data)

    def _prepare_response_headers(self, start_line: ResponseStartLine, headers: HTTPHeaders) -> None:
        self._response_start_line = start_line
        request = self._request_start_line
        assert request is not None
        code = start_line.code
        fields = headers._as_list
        http11 = request.version == "HTTP/1.1"
        head = request.method == "HEAD"
        length = _header_value(headers, "Content-Length")
        # RFC 9110 sections 6.4.1, 9.3.2: these responses have no content.
        # Applications rarely set Transfer-Encoding; if one does, it frames
        # its own body and we leave the header alone.
        if (
            length is None
            and not (head or code == 204 or code == 304 or 100 <= code < 200)
            and "Transfer-Encoding" not in fields
        ):
            if http11:
                self._chunking_output = True
            else:
                # RFC 9112 section 6.3: the body can only end with the
                # connection.
                self._disconnect_on_finish = True
        if self._draining and code != 101:
            # The server is shutting down: this response is the last.  (A
            # 101 hands the connection over instead; its new owner is told
            # of the drain separately.)
            self._disconnect_on_finish = True
        if http11:
            if self._disconnect_on_finish:
                headers["Connection"] = "close"
        elif not self._disconnect_on_finish:
            # RFC 9112 appendix C.2.2: confirm HTTP/1.0 keep-alive.
            headers["Connection"] = "Keep-Alive"
        if head or code == 304:
            self._expected_content_remaining = 0
        elif length is not None:
            self._expected_content_remaining = parse_int(length)

    def _format_chunk(self, chunk: bytes) -> bytes:
        if self._expected_content_remaining is not None:
            self._expected_content_remaining -= len(chunk)
            if self._expected_content_remaining < 0:
                # The peer can no longer find the end of our message.
                if self.stream is not None:
                    self.stream.close()
                raise HTTPOutputError("Tried to write more data than Content-Length")
        if self._chunking_output and chunk:
            # An empty chunk would end the body, so it is not written.
            return _format_chunk(chunk)
        return chunk

    def _write(self, data: bytes) -> "Future[None]":
        """Hand ``data`` to the stream; the returned future resolves (to
        None, even if the connection closes meanwhile) once it is sent."""
        stream = self.stream
        if stream is None or stream.closed():
            future: Future[None] = Future()
            future.set_exception(iostream.StreamClosedError())
            # Mark the exception retrieved: nobody has to wait for it.
            future.exception()
            return future
        self._output_started = True
        self._writes += 1
        pending = stream.write(data)
        self._pending_write = pending
        if pending.done() and not pending.cancelled() and pending.exception() is None:
            return pending
        if self._watchdog is not None:
            self._watchdog.writing()
        result: Future[None] = Future()

        def on_written(f: "Future[None]") -> None:
            exc = None if f.cancelled() else f.exception()
            if exc is not None and not isinstance(exc, iostream.StreamClosedError):
                future_set_exception_unless_cancelled(result, exc)
            else:
                future_set_result_unless_cancelled(result, None)

        pending.add_done_callback(on_written)
        return result

    def _can_send_file(self) -> bool:
        """Whether `_send_file` may carry the body: on a server, after
        `write_headers`, over a plain (not TLS) `.IOStream`, with the body
        delimited by Content-Length (a chunked body needs framing around
        the bytes)."""
        return (
            not self.is_client
            and type(self.stream) is iostream.IOStream
            and not self._chunking_output
            and self._expected_content_remaining is not None
        )

    async def _send_file(self, fd: int, offset: int, count: int) -> None:
        """Writes ``count`` bytes of the open file ``fd`` from ``offset``
        as body, without copying them through Python (see
        `.IOStream._send_file`).  Only where `_can_send_file` says so."""
        remaining = self._expected_content_remaining
        assert remaining is not None and self.stream is not None
        if count > remaining:
            self.stream.close()
            raise HTTPOutputError("Tried to write more data than Content-Length")
        self._expected_content_remaining = remaining - count
        self._output_started = True
        self._writes += 1
        self._pending_write = None
        await self.stream._send_file(fd, offset, count)  # type: ignore[attr-defined]

    def write(self, chunk: bytes) -> "Future[None]":
        """Implements `.HTTPConnection.write`.

        Without a prior `write_headers` the bytes are written as they are:
        old applications send a head they formatted themselves this way.
        """
        return self._write(self._format_chunk(chunk))

    def finish(self) -> None:
        """Implements `.HTTPConnection.finish`."""
        stream = self.stream
        remaining = self._expected_content_remaining
        if remaining and stream is not None and not stream.closed():
            stream.close()
            raise HTTPOutputError("Tried to write %d bytes less than Content-Length" % remaining)
        if self._chunking_output and stream is not None and not stream.closed():
            # RFC 9112 section 7.1: last-chunk and an empty trailer section.
            self._pending_write = stream.write(b"0\r\n\r\n")
            self._writes += 1
        self._write_finished = True
        pending = self._pending_write
        if not self.is_client:
            if not self._read_finished:
                # Answered before the request was fully read: the rest of
                # it is dropped, and as we can't tell where the next
                # request would start, the connection ends with this
                # response.
                self._disconnect_on_finish = True
        elif stream is not None and (self._writes > 1 or not (pending is None or pending.done())):
            # The request is complete: send it without waiting for Nagle.
            # (Nagle's algorithm only holds a small segment back while an
            # earlier one is unacknowledged, so a request that went out in
            # one write the kernel took at once has left already, and the
            # two setsockopt calls are spared.)
            stream.set_nodelay(True)
            self._nodelay_set = True
        if pending is None or pending.done():
            self._finish_request(pending)
        else:
            pending.add_done_callback(self._finish_request)

    def _finish_request(self, future: "Optional[Future[None]]") -> None:
        if future is not None and not future.cancelled():
            # The write's outcome doesn't matter here: a closed stream is
            # seen by the reader.
            future.exception()
        self._clear_callbacks()
        if not self.is_client and (self._disconnect_on_finish or self._draining):
            self.close()
            return
        if self._nodelay_set and self.stream is not None:
            self.stream.set_nodelay(False)
        self._set_exchange_over()


class _GzipMessageDelegate(HTTPMessageDelegate):
    """Wraps an `HTTPMessageDelegate` to decode the body's content coding:
    ``gzip``, and on a client ``br`` and ``zstd`` too where their modules
    are installed (see `.httputil._content_decoder`).

    The wrapped delegate sees the decoded body, and the header renamed to
    ``X-Consumed-Content-Encoding``.  Output is produced ``chunk_size``
    bytes at a time and counted against the connection's
    ``max_body_size``, so a small compressed body cannot expand into more
    memory than an uncompressed one could use, whatever the coding.
    """

    def __init__(self, delegate: HTTPMessageDelegate, connection: HTTP1Connection) -> None:
        self._delegate = delegate
        self._connection = connection
        self._chunk_size = connection.params.chunk_size
        # A server decodes gzip request bodies only, as it always has.
        self._codings = _DECODERS if connection.is_client else ("gzip",)
        self._decoder: Optional[_ContentDecoder] = None
        self._coding = ""
        self._decompressed_size = 0

    def headers_received(
        self,
        start_line: _StartLine,
        headers: HTTPHeaders,
    ) -> Optional[Awaitable[None]]:
        coding = _header_value(headers, "Content-Encoding")
        if coding:
            # RFC 9110 section 8.4.1: content codings are case-insensitive.
            self._decoder = _content_decoder(coding, self._codings)
        if self._decoder is not None:
            self._coding = coding.strip(HTTP_WHITESPACE).lower()  # type: ignore[union-attr]
            # What the wrapped delegate receives is no longer encoded.
            headers.add("X-Consumed-Content-Encoding", headers["Content-Encoding"])
            del headers["Content-Encoding"]
        return self._delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Optional[Awaitable[None]]:
        if self._decoder is None:
            return self._delegate.data_received(chunk)
        return self._decompress(chunk)

    def _invalid(self, e: Exception) -> HTTPInputError:
        return HTTPInputError("invalid %s data: %s" % (self._coding, e))

    async def _decompress(self, chunk: bytes) -> None:
        decoder = self._decoder
        assert decoder is not None
        while True:
            try:
                decompressed = decoder.decode(chunk, self._chunk_size)
            except Exception as e:
                raise self._invalid(e) from e
            if decompressed:
                await self._pass_on(decompressed)
            if not decoder.pending:
                return
            if not decompressed and not chunk:
                raise HTTPInputError("invalid %s data: no progress" % self._coding)
            chunk = b""

    def _count_decoded(self, size: int) -> None:
        """Enforces max_body_size on the decoded bytes (a zip bomb is small
        on the wire)."""
        self._decompressed_size += size
        if self._decompressed_size > self._connection._max_body_size:
            raise HTTPInputError("decompressed body too large")

    async def _pass_on(self, data: bytes) -> None:
        self._count_decoded(len(data))
        pending = self._delegate.data_received(data)
        if pending is not None:
            await pending

    def finish(self) -> None:
        decoder = self._decoder
        if decoder is not None:
            try:
                tail = decoder.finish()
            except Exception as e:
                # The encoded data was cut short.
                raise self._invalid(e) from e
            if tail:
                self._count_decoded(len(tail))
                # Data passed here cannot be flow-controlled.
                self._delegate.data_received(tail)
        return self._delegate.finish()

    def on_connection_close(self) -> None:
        return self._delegate.on_connection_close()


class _IdleWatchdog:
    """Closes a server connection that waits longer than ``timeout`` for
    a request head, or whose peer takes none of a response for that long.

    One timer per connection instead of one per request: the timer is only
    (re)armed when it fires, or when a wait starts while none is armed.
    Marking the start and end of each wait costs a clock read.

    A response the kernel did not take at once starts a second timer
    (`writing`), which closes the connection once a whole ``timeout`` has
    passed without the peer reading a byte of it (a zero receive window:
    without this, such a client holds the connection and the response
    forever).  A slow reader that makes progress is left alone.
    """

    def __init__(self, stream: iostream.IOStream, timeout: float) -> None:
        self._stream = stream
        self._timeout = timeout
        self._io_loop = stream.io_loop
        self._waiting_since: Optional[float] = None
        self._timer: Optional[object] = None
        self._write_timer: Optional[object] = None
        self._written = 0

    def waiting(self) -> None:
        now = self._io_loop.time()
        self._waiting_since = now
        if self._timer is None:
            self._timer = self._io_loop.call_at(now + self._timeout, self._check)

    def busy(self) -> None:
        # (HTTP1Connection._read_message does the same inline.)
        self._waiting_since = None

    def _check(self) -> None:
        self._timer = None
        since = self._waiting_since
        if since is None:
            return  # busy: the next wait arms the timer again
        deadline = since + self._timeout
        if self._io_loop.time() >= deadline:
            self._stream.close()
        else:
            self._timer = self._io_loop.call_at(deadline, self._check)

    def writing(self) -> None:
        """A write is waiting for the peer to read."""
        if self._write_timer is None:
            self._written = self._stream._total_write_done_index
            self._write_timer = self._io_loop.call_later(self._timeout, self._check_writing)

    def _check_writing(self) -> None:
        self._write_timer = None
        stream = self._stream
        if stream.closed() or not stream.writing():
            return
        if stream._total_write_done_index == self._written:
            gen_log.info("Closing a connection whose peer read nothing for %s seconds", self._timeout)
            stream.close()
        else:
            self.writing()

    def cancel(self) -> None:
        if self._timer is not None:
            self._io_loop.remove_timeout(self._timer)
            self._timer = None
        if self._write_timer is not None:
            self._io_loop.remove_timeout(self._write_timer)
            self._write_timer = None


# During a graceful drain, a keep-alive connection that waits for its next
# request is closed once it has waited this long (seconds); at once if it
# already has.  A client that has just had a response (or has just
# connected) is likely to be sending a request right now, which closing
# the connection would lose: the linger lets it arrive and be answered,
# with "Connection: close".  Truly idle connections are not kept.
_DRAIN_LINGER = 0.5


class HTTP1ServerConnection:
    """The server side of one HTTP/1.x connection.

    It reads requests back to back (keep-alive and pipelining), each
    through a new `HTTP1Connection`, and asks the
    `.HTTPServerConnectionDelegate` given to `start_serving` for the
    delegate of each request.
    """

    def __init__(
        self, stream: iostream.IOStream, params: Optional[HTTP1ConnectionParameters] = None,
        context: Optional[object] = None,
    ) -> None:
        """``params`` (a default `HTTP1ConnectionParameters` if None) and
        ``context`` are handed to every request's `HTTP1Connection`."""
        self.params = params or HTTP1ConnectionParameters()
        self.context = context
        self.stream = stream
        self._serving_future: Optional[Future[None]] = None
        # The exchange in progress (or waiting for its request), and
        # whether a graceful drain has begun (see _begin_drain).
        self._current: Optional[HTTP1Connection] = None
        self._draining = False
        # The idle watchdog (which knows since when the connection waits
        # for a request).
        self._watchdog: Optional[_IdleWatchdog] = None

    def _begin_drain(self) -> None:
        """Starts a graceful shutdown of this connection (the server's
        drain calls it, see `tornado.shutdown.drain`).

        A connection waiting for a request of which no byte has arrived
        is closed: at once if it has waited `_DRAIN_LINGER` seconds, else
        when that time is up, unless a request comes meanwhile.  Otherwise
        the request in progress is finished and its response is the last:
        it carries ``Connection: close`` (unless its head has already been
        sent) and the connection closes after it.  Idempotent.
        """
        self._draining = True
        conn = self._current
        if conn is not None:
            conn._draining = True
        self._close_if_idle()

    def _close_if_idle(self) -> None:
        """During a drain: closes the connection if it is idle and has
        been for `_DRAIN_LINGER` seconds, else looks again when that time
        is up (a request arriving meanwhile is served, as the last)."""
        if not self._idle():
            return
        stream = self.stream
        watchdog = self._watchdog
        # When the connection began to wait: the end of its previous
        # exchange, or its accepting.
        since = None if watchdog is None else watchdog._waiting_since
        now = stream.io_loop.time()
        if since is None:
            # No wait has begun: the request loop has not run yet, or is
            # between two exchanges (both: activity just now).  Or there
            # is no watchdog to tell: then no linger.
            since = now if self._current is None else now - _DRAIN_LINGER
        if now - since >= _DRAIN_LINGER:
            stream.close()
        else:
            stream.io_loop.call_at(since + _DRAIN_LINGER, self._close_if_idle)

    def _idle(self) -> bool:
        """Whether the connection waits for a request of which no byte
        has arrived: not in the stream's buffer, nor in the kernel's (a
        request the client has already sent is served, not dropped)."""
        stream = self.stream
        if stream.closed():
            return False
        conn = self._current
        if conn is not None and (conn._request_start_line is not None or conn.stream is None):
            return False  # a request is being handled (or the stream was handed over)
        if stream._read_buffer:
            return False
        return not _bytes_waiting(stream)

    async def close(self) -> None:
        """Closes the stream and returns when the request loop has ended."""
        self.stream.close()
        loop_done = self._serving_future
        if loop_done is not None:
            # A failure of the loop has already been reported
            # (start_serving routes it to the IOLoop's logging); only the
            # ending matters here.
            await asyncio.wait((loop_done,))

    def start_serving(self, delegate: HTTPServerConnectionDelegate) -> None:
        """Starts reading requests in the background, for ``delegate``."""
        assert isinstance(delegate, HTTPServerConnectionDelegate)
        stream = self.stream
        # Each response leaves in few writes, so Nagle's algorithm could
        # only hold it back.  Once per connection is enough.
        try:
            stream.set_nodelay(True)
        except Exception:
            pass
        loop_done = gen.convert_yielded(self._server_request_loop(delegate))
        self._serving_future = loop_done
        # An exception out of the request loop is a bug in it; the IOLoop
        # logs what result() raises.
        stream.io_loop.add_future(loop_done, _reraise)

    async def _server_request_loop(self, delegate: HTTPServerConnectionDelegate) -> None:
        # One iteration per request, kept flat (no coroutine per request
        # besides HTTP1Connection._read_message): this runs for every
        # request of every keep-alive connection.
        stream, params, context = self.stream, self.params, self.context
        timeout = params.header_timeout
        watchdog = None if timeout is None else _IdleWatchdog(stream, timeout)
        self._watchdog = watchdog
        pipelined = False
        try:
            while True:
                self._current = None
                if self._draining:
                    # Draining before this exchange began: it may only
                    # happen if its request comes soon (see _DRAIN_LINGER).
                    self._close_if_idle()
                    if stream.closed():
                        return
                conn = HTTP1Connection(stream, False, params, context)
                conn._watchdog = watchdog
                if self._draining:
                    conn._draining = True
                self._current = conn
                if pipelined:
                    # Requests after the first may be pipelined: let other
                    # connections have a turn before each of them.
                    conn._yield_before_reading = True
                pipelined = True
                try:
                    message_delegate = delegate.start_request(self, conn)
                except Exception:
                    app_log.error("Uncaught exception", exc_info=True)
                    conn.close()
                    return
                try:
                    if not await conn.read_response(message_delegate):
                        return
                except (Exception, asyncio.CancelledError) as e:
                    await self._request_failed(conn, e)
                    return
        finally:
            if watchdog is not None:
                watchdog.cancel()
            current = self._current
            if self._draining and (current is None or current.stream is not None):
                # Whatever ended the loop, a drained connection is not
                # left open (unless it was handed over).
                stream.close()
            # The loop's task is done with: a detached connection (a
            # WebSocket) keeps this object alive through its request, and
            # need not keep the task too.
            self._serving_future = self._current = self._watchdog = None
            delegate.on_close(self)

    async def _request_failed(self, conn: HTTP1Connection, e: BaseException) -> None:
        """Deal with what ended a request's handling by raising: the last
        request of the connection."""
        if isinstance(e, iostream.UnsatisfiableReadError):
            if conn._request_start_line is not None:
                self.stream.close()
            else:
                # The head alone is over max_header_size: 431 (RFC 6585
                # section 5).
                await self._refuse(431)
        elif isinstance(e, (iostream.StreamClosedError, asyncio.CancelledError)):
            pass
        elif isinstance(e, _QuietException):
            # Logged where it happened.
            conn.close()
        else:
            gen_log.error("Uncaught exception", exc_info=e)
            conn.close()

    async def _refuse(self, status: int) -> None:
        """Answer with a bare error response, if the stream is still open,
        and close it."""
        stream = self.stream
        if not stream.closed():
            try:
                await stream.write(_error_response(status))
            except iostream.StreamClosedError:
                pass
        stream.close()


def _bytes_waiting(stream: iostream.IOStream) -> bool:
    """Whether the kernel (or the TLS layer) holds bytes that ``stream``
    has not read yet."""
    sock = stream.socket
    if sock is None:
        return False
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        # The plain socket's recv: an SSLSocket's own refuses flags (and
        # would decrypt).
        return bool(socket.socket.recv(sock, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        # A broken connection: nothing to serve on it.
        return False


def _reraise(future: "Future[None]") -> None:
    future.result()
