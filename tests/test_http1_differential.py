"""Differential tests: our HTTP/1 parsers against h11 and llhttp.

Hypothesis generates requests (and responses), well-formed or with one
anomaly each: bare CR or LF, obs-fold, whitespace before the colon,
repeated and conflicting Content-Length, Transfer-Encoding lists and
casing, chunk sizes with extensions, leading zeros and overflow, invalid
token and field-value bytes, non-ASCII and NUL, absolute-form, authority-form
and asterisk-form targets, versions other than 1.1, very long lines, or a
random byte inserted, replaced or deleted.  Each input goes to three
parsers:

* ours: the pure codec of `tornado.http1connection` (`_parse_request_head`,
  `_request_framing`, `_ChunkedDecoder` ...), driven the way
  `.HTTP1Connection` drives it from an `.IOStream` buffer (`TornadoReader`);
  `test_real_server_matches_model` checks on a smaller set that a real
  `.HTTPServer` on 127.0.0.1 decides what this model decides;
* h11 (pure Python, RFC 7230-based);
* llhttp, Node.js's parser, through the ``httptools`` package.

Each is fed the bytes whole and one byte at a time (ours also split in two
at every byte).  Where h11 and llhttp both reject, we reject; where all
three accept, we agree on the method, target, version, every header field,
the body and the byte where the message ends.  Every other outcome must be
explained by an entry of `REQUEST_DIFFERENCES` / `RESPONSE_DIFFERENCES`: a
test on the input that says which parser departs and what we do, with the
RFC 9110/9112 rule that decides it.  The same entries make the table in
docs/guide/security.rst (`test_differences_are_documented`), and each has
its own test on a fixed example (`test_request_difference`).

Example counts are small by default (and derandomized, so that CI runs the
same examples every time); ``TORNADO_FUZZ_EXAMPLES=20000`` runs that many
random examples per property.
"""

import dataclasses
import os
import re
import socket
import threading
from typing import Callable, FrozenSet, List, Optional, Sequence, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tornado.http1connection import (
    _BODY_UNTIL_CLOSE,
    _CHUNKED_BODY,
    _EMPTY_HEAD_RE,
    _FIXED_BODY,
    _HEAD_END,
    _MAX_1XX_RESPONSES,
    _ChunkedDecoder,
    _check_body_size,
    _parse_request_head,
    _parse_response_head,
    _request_framing,
    _request_keeps_alive,
    _response_framing,
)
from tornado.httputil import _ABNF, HTTPInputError, _error_status

h11 = pytest.importorskip("h11")
httptools = pytest.importorskip("httptools")

# --- settings -------------------------------------------------------------

_LONG_RUN = int(os.environ.get("TORNADO_FUZZ_EXAMPLES", "0"))
# A long run takes as long as it takes.
pytestmark = [pytest.mark.timeout(0)] if _LONG_RUN else []


def _examples(default: int) -> settings:
    """Hypothesis settings: ``default`` fixed examples, or
    TORNADO_FUZZ_EXAMPLES random ones."""
    return settings(
        max_examples=_LONG_RUN or default,
        derandomize=not _LONG_RUN,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# The server's defaults (HTTP1ConnectionParameters, HTTPServer).
MAX_HEAD = 64 * 1024
MAX_BODY = 100 * 1024 * 1024
CHUNK_SIZE = 64 * 1024
_HEAD_END_RE = re.compile(_HEAD_END)
_CRLF_RE = re.compile(b"\r\n")

# --- outcomes -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Message:
    """What a parser made of the first message of its input.  Header names
    are lower-cased; ``end`` is the offset just past the message (None
    where the parser cannot tell)."""

    method: str  # the status code, for a response
    target: str  # the reason phrase, for a response
    version: str
    headers: Tuple[Tuple[str, str], ...]
    body: bytes
    end: Optional[int]
    keep_alive: Optional[bool] = None
    informational: Tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class Verdict:
    kind: str  # "ok", "reject" or "incomplete"
    message: Optional[Message] = None
    reason: str = ""
    # Ours only: the status a server answers a rejected request with
    # (None: the connection is closed without an answer).
    status: Optional[int] = None

    def __str__(self) -> str:
        return f"{self.kind} {self.reason}" if self.message is None else f"ok {self.message}"


OK, REJECT, INCOMPLETE = "ok", "reject", "incomplete"


def _decode(b: bytes) -> str:
    return b.decode("latin1")


# --- our parser, driven like HTTP1Connection drives it ----------------------


class _Incomplete(Exception):
    pass


class _Unsatisfiable(HTTPInputError):
    """The stream's max_bytes was exceeded (IOStream's UnsatisfiableReadError)."""


class TornadoReader:
    """Reads one message from ``data`` as `.HTTP1Connection` reads it from an
    `.IOStream`: the bytes arrive in pieces (cut at ``cuts``), each read
    (the head up to its empty line, a chunk-size line, body bytes) completes
    as soon as the buffer holds enough, and a read that cannot end within
    its ``max_bytes`` fails."""

    def __init__(self, data: bytes, cuts: Sequence[int] = ()) -> None:
        self.data = data
        self.arrivals = sorted({c for c in cuts if 0 < c < len(data)}) + [len(data)]
        self.available = self.arrivals.pop(0)
        self.pos = 0

    def _more(self) -> None:
        if not self.arrivals:
            raise _Incomplete()
        self.available = self.arrivals.pop(0)

    def read_regex(self, regex: "re.Pattern[bytes]", max_bytes: int) -> bytes:
        while True:
            m = regex.search(self.data, self.pos, self.available)
            end = self.available if m is None else m.end()
            if end - self.pos > max_bytes:
                raise _Unsatisfiable("no match within %d bytes" % max_bytes)
            if m is not None:
                return self._take(end)
            self._more()

    def _take(self, end: int) -> bytes:
        out = self.data[self.pos : end]
        self.pos = end
        return out

    def read_bytes(self, n: int) -> bytes:
        """Up to ``n`` bytes, as soon as there is one (partial=True)."""
        while self.available == self.pos:
            self._more()
        return self._take(min(self.pos + n, self.available))

    def read_head(self) -> bytes:
        """`HTTP1Connection._read_message` and `_wait_head`: empty heads
        (stray empty lines) are skipped, twice at most."""
        for _attempt in range(2):
            head = self.read_regex(_HEAD_END_RE, MAX_HEAD)
            if not _EMPTY_HEAD_RE.fullmatch(head):
                return head
        raise HTTPInputError("Malformed HTTP request line: empty")

    def read_body(self, framing: Tuple[int, int], in_response: bool = False) -> bytes:
        kind, length = framing
        body = b""
        if kind == _FIXED_BODY:
            while len(body) < length:
                body += self.read_bytes(min(CHUNK_SIZE, length - len(body)))
        elif kind == _CHUNKED_BODY:
            decoder = _ChunkedDecoder(MAX_BODY, MAX_HEAD, in_response)
            while not decoder.done:
                is_line, n = decoder.wants()
                if is_line:
                    piece = self.read_regex(_CRLF_RE, n)
                else:
                    piece = self.read_bytes(min(n, CHUNK_SIZE))
                body += b"".join(decoder.feed(piece))
        elif kind == _BODY_UNTIL_CLOSE:
            # Only a response is read until the connection closes.
            body = self.data[self.pos :]
            if len(body) > MAX_BODY:
                raise HTTPInputError("Body too long")
            self.pos = len(self.data)
        return body


def _tornado(read: Callable[[TornadoReader], Message], data: bytes, cuts: Sequence[int]) -> Verdict:
    reader = TornadoReader(data, cuts)
    try:
        return Verdict(OK, read(reader))
    except _Incomplete:
        return Verdict(INCOMPLETE)
    except _Unsatisfiable as e:
        # A head over max_header_size is answered with 431; a chunk line
        # over its limit just closes the connection.
        return Verdict(REJECT, reason=str(e), status=None if reader.pos else 431)
    except HTTPInputError as e:
        return Verdict(REJECT, reason=str(e), status=_error_status(e))


def _read_request(reader: TornadoReader) -> Message:
    start_line, headers = _parse_request_head(reader.read_head())
    framing = _request_framing(headers)
    _check_body_size(framing, MAX_BODY)
    body = reader.read_body(framing)
    return Message(
        start_line.method, start_line.path, start_line.version,
        tuple((name.lower(), value) for name, value in headers.get_all()),
        body, reader.pos, _request_keeps_alive(start_line, headers, False),
    )


def tornado_request(data: bytes, cuts: Sequence[int] = ()) -> Verdict:
    return _tornado(_read_request, data, cuts)


def _read_response(reader: TornadoReader, method: str) -> Message:
    informational: List[int] = []
    while True:
        start_line, headers = _parse_response_head(reader.read_head())
        code = start_line.code
        if code < 100 or code >= 200 or code == 101:
            break
        if "Content-Length" in headers or "Transfer-Encoding" in headers:
            raise HTTPInputError("Response code %d cannot have body" % code)
        informational.append(code)
        if len(informational) > _MAX_1XX_RESPONSES:
            raise HTTPInputError("Too many 1xx responses")
    framing = _response_framing(code, headers, method)
    _check_body_size(framing, MAX_BODY)
    body = reader.read_body(framing, in_response=True)
    return Message(
        str(code), start_line.reason, start_line.version,
        tuple((name.lower(), value) for name, value in headers.get_all()),
        body, reader.pos, None, tuple(informational),
    )


def tornado_response(data: bytes, cuts: Sequence[int] = (), method: str = "GET") -> Verdict:
    return _tornado(lambda reader: _read_response(reader, method), data, cuts)


# --- h11 --------------------------------------------------------------------


def _pieces(data: bytes, cuts: Sequence[int]) -> List[bytes]:
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _h11_fields(headers: object) -> Tuple[Tuple[str, str], ...]:
    return tuple((_decode(n).lower(), _decode(v)) for n, v in headers.raw_items())  # type: ignore[attr-defined]


def _h11_run(conn: "h11.Connection", data: bytes, cuts: Sequence[int], eof: bool) -> Verdict:
    head = None
    body = b""
    informational: List[int] = []
    fed = 0
    pieces = _pieces(data, cuts) + ([b""] if eof else [])
    for piece in pieces:
        conn.receive_data(piece)
        fed += len(piece)
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as e:
                if not piece:
                    # The peer closed in the middle of a message.
                    return Verdict(INCOMPLETE, reason=str(e))
                return Verdict(REJECT, reason=str(e))
            if event is h11.NEED_DATA or event is h11.PAUSED:
                break
            if isinstance(event, h11.InformationalResponse):
                informational.append(event.status_code)
            elif isinstance(event, (h11.Request, h11.Response)):
                head = event
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                end = fed - len(conn.trailing_data[0])
                if isinstance(head, h11.Request):
                    first, second = _decode(head.method), _decode(head.target)
                    keep_alive = conn.their_state is h11.DONE and _h11_keep_alive(head)
                else:
                    first, second = str(head.status_code), _decode(head.reason)
                    keep_alive = None
                return Verdict(OK, Message(
                    first, second, "HTTP/" + _decode(head.http_version), _h11_fields(head.headers),
                    body, end, keep_alive, tuple(informational),
                ))
            elif isinstance(event, h11.ConnectionClosed):
                return Verdict(INCOMPLETE)
    return Verdict(INCOMPLETE)


def _h11_keep_alive(request: "h11.Request") -> bool:
    # h11 keeps HTTP/1.1 connections without "Connection: close" only.
    connection = [v.lower() for n, v in request.headers if n == b"connection"]
    return request.http_version == b"1.1" and not any(b"close" in v for v in connection)


def h11_request(data: bytes, cuts: Sequence[int] = ()) -> Verdict:
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
    return _h11_run(conn, data, cuts, eof=False)


def h11_response(data: bytes, cuts: Sequence[int] = (), method: str = "GET") -> Verdict:
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    conn.send(h11.Request(method=method, target="/", headers=[("Host", "example.com")]))
    conn.send(h11.EndOfMessage())
    return _h11_run(conn, data, cuts, eof=True)


# --- llhttp (httptools) -------------------------------------------------------


class _Stop(Exception):
    """Raised from on_message_complete: only the first message counts."""


class _LLHTTPProtocol:
    def __init__(self) -> None:
        self.url = b""
        self.headers: List[Tuple[bytes, bytes]] = []
        self.head_done = False
        self.body = b""
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.head_done:  # (trailer fields come later)
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.head_done = True

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True
        raise _Stop()


def llhttp_request(data: bytes, cuts: Sequence[int] = ()) -> Verdict:
    proto = _LLHTTPProtocol()
    parser = httptools.HttpRequestParser(proto)
    pos = 0
    for piece in _pieces(data, cuts):
        end = None
        try:
            parser.feed_data(piece)
        except httptools.HttpParserUpgrade as e:
            # CONNECT, or an Upgrade request: llhttp stops after the head
            # and hands the rest of the connection over.
            if not proto.complete:
                proto.complete = True
                end = pos + int(e.args[0])
        except httptools.HttpParserError as e:
            if not proto.complete:
                return Verdict(REJECT, reason=repr(e))
        pos += len(piece)
        if proto.complete:
            if end is None and len(piece) == 1:
                end = pos  # fed one byte at a time: this one ended it
            return Verdict(OK, Message(
                _decode(parser.get_method()), _decode(proto.url),
                "HTTP/" + parser.get_http_version(),
                # (llhttp reports the whitespace after a value as part of
                # it; RFC 9112 section 5 says it is not.)
                tuple((_decode(n).lower(), _decode(v).rstrip(" \t")) for n, v in proto.headers),
                proto.body, end, parser.should_keep_alive(),
            ))
    return Verdict(INCOMPLETE)


# --- comparing ----------------------------------------------------------------


def _comparable(verdict: Verdict, ignore: FrozenSet[str] = frozenset()) -> object:
    """What must be equal between parsers: the kind, and for a message its
    content in a canonical form (fields grouped by name, as `.HTTPHeaders`
    keeps them; each parser's own spelling of the framing fields
    normalized)."""
    m = verdict.message
    if m is None:
        return verdict.kind
    fields = []
    lengths = set()
    for name, value in m.headers:
        if name == "content-length":
            # h11 merges repeated identical Content-Lengths into one field.
            lengths.update(v.strip(" \t") for v in value.split(","))
            continue
        if name == "transfer-encoding":
            value = value.lower()  # h11 lower-cases it
        fields.append((name, value))
    if lengths:
        fields.append(("content-length", ",".join(sorted(lengths))))
    fields.sort(key=lambda field: field[0])
    content = dataclasses.asdict(m)
    content["headers"] = tuple(fields)
    for name in ignore:
        content.pop(name, None)
    return (verdict.kind, content)


def _same(ours: Verdict, theirs: Verdict, ignore: FrozenSet[str]) -> bool:
    if ours.message is not None and theirs.message is not None:
        if theirs.message.end is None or "end" in ignore:
            ignore = ignore | {"end"}
        if theirs.message.keep_alive is None:
            ignore = ignore | {"keep_alive"}
    return _comparable(ours, ignore) == _comparable(theirs, ignore)


# --- generators -----------------------------------------------------------------

TCHARS = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VCHARS = bytes(range(0x21, 0x7F))
OBS_TEXT = bytes(range(0x80, 0x100))
# What a byte mutation inserts or writes over.
NASTY = [
    b"\r", b"\n", b"\r\n", b"\x00", b" ", b"\t", b":", b";", b"\x7f", b"\x80", b"\xff", b"\x0b",
    b"\x0c", b"\x01", b"=", b'"', b"\\", b",", b"\xc3\xa9", b"0", b"a", b"/", b"-", b"+",
]
NEXT_REQUEST = b"GET /next HTTP/1.1\r\nHost: next\r\n\r\n"


def _bytes_from(alphabet: bytes, min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(list(alphabet)), min_size=min_size, max_size=max_size).map(bytes)


tokens = _bytes_from(TCHARS, 1, 10)
# A field-value: no whitespace at either end.
field_values = _bytes_from(VCHARS + b" \t", 0, 20).map(lambda v: v.strip(b" \t"))
_PATH_CHARS = b"abcXYZ019-._~!$&'()*+,;=:@/"
origin_forms = st.builds(
    lambda path, query: b"/" + path + query,
    _bytes_from(_PATH_CHARS, 0, 16),
    st.one_of(st.just(b""), _bytes_from(_PATH_CHARS + b"?", 0, 10).map(lambda q: b"?" + q)),
)
# Names of fields that play no part in framing.
field_names = st.one_of(
    st.sampled_from([b"Accept", b"User-Agent", b"X-Forwarded-For", b"Cookie", b"Connection", b"Te", b"Trailer"]),
    tokens,
).filter(lambda n: n.lower() not in (b"host", b"content-length", b"transfer-encoding", b"upgrade", b"expect"))

# The ways a message departs from well-formed, one per example.  Each
# value says which part of the message it touches.
FIELD_ANOMALIES = (
    "bare_cr_eol cr_in_value lf_in_field obs_fold ws_before_colon no_colon empty_name bad_name_char "
    "bad_value_char obs_text_value ows_value long_value huge_value lf_eol mixed_eol"
).split()
FRAMING_ANOMALIES = (
    "cl_dup cl_list cl_conflict cl_zeros cl_sign cl_ws cl_huge cl_hex cl_empty cl_and_te cl_short cl_long "
    "te_case te_list te_dup te_unknown te_identity te_ws te_quoted te_empty chunk_zeros chunk_upper "
    "chunk_ext chunk_bad_ext chunk_bad_size chunk_overflow chunk_ws chunk_lf chunk_no_crlf "
    "chunk_data_short chunk_data_long last_chunk_zeros trailers bad_trailer folded_trailer "
    "no_final_crlf long_chunk_ext"
).split()
REQUEST_LINE_ANOMALIES = (
    "lead_empty_lines lead_bare_cr two_sp tab_sep trailing_sp no_version lower_method unknown_method "
    "bad_method_char absolute_target asterisk_target authority_target nonascii_target ctl_target "
    "fragment_target long_target version_10 version_12 version_20 version_09 version_110 "
    "version_lower version_short no_host two_hosts bad_host empty_host te_http10"
).split()
REQUEST_ANOMALIES = REQUEST_LINE_ANOMALIES + FIELD_ANOMALIES + FRAMING_ANOMALIES + ["byte_mutation"] * 8


def _mutate(draw: Callable, data: bytes) -> bytes:
    """One byte inserted, replaced or deleted."""
    pos = draw(st.integers(0, len(data)))
    op = draw(st.sampled_from(["insert", "replace", "delete"]))
    if op == "delete":
        return data[:pos] + data[pos + 1 :]
    nasty = draw(st.sampled_from(NASTY))
    return data[:pos] + nasty + data[pos + (op == "replace") :]


def _head(draw: Callable, a: str, start_line: bytes, fields: List[Tuple[bytes, bytes]]) -> bytes:
    """A message head: the start line, ``fields`` (and, for a field
    anomaly, one odd line among them) and the empty line."""
    lines = [start_line] + [name + b": " + value for name, value in fields]
    if a in FIELD_ANOMALIES and a not in ("lf_eol", "mixed_eol"):
        lines.insert(draw(st.integers(1, len(lines))), _odd_field_line(draw, a))
    ends = [b"\n" if a == "lf_eol" else b"\r\n"] * (len(lines) + 1)
    if a == "mixed_eol":
        ends[draw(st.integers(0, len(lines)))] = b"\n"
    return b"".join(line + end for line, end in zip(lines + [b""], ends, strict=True))


def _odd_field_line(draw: Callable, a: str) -> bytes:
    name, value = draw(field_names), draw(field_values.filter(bool))
    if a == "bare_cr_eol":
        return name + b": " + value + b"\r" + draw(field_names) + b": x"
    if a == "cr_in_value":
        return name + b": " + value[:1] + b"\r" + value[1:]
    if a == "lf_in_field":
        return name + b": " + value + b"\n" + draw(st.sampled_from([b"", b"x", b":"]))
    if a == "obs_fold":
        return name + b": " + value + b"\r\n" + draw(st.sampled_from([b" ", b"\t", b"  "])) + draw(field_values)
    if a == "ws_before_colon":
        return name + draw(st.sampled_from([b" ", b"\t", b"  "])) + b": " + value
    if a == "no_colon":
        return name + draw(st.sampled_from([b" ", b""])) + value
    if a == "empty_name":
        return b": " + value
    if a == "bad_name_char":
        pos = draw(st.integers(0, len(name)))
        odd = draw(st.sampled_from([b"\x00", b"\x7f", b"\xe9", b"(", b"@", b'"', b"\x01", b"/", b"[", b"{", b"="]))
        return name[:pos] + odd + name[pos:] + b": " + value
    if a == "bad_value_char":
        pos = draw(st.integers(0, len(value)))
        odd = draw(st.sampled_from([b"\x00", b"\x7f", b"\x01", b"\x0b", b"\x0c", b"\x1f", b"\x08"]))
        return name + b": " + value[:pos] + odd + value[pos:]
    if a == "obs_text_value":
        pos = draw(st.integers(0, len(value)))
        return name + b": " + value[:pos] + draw(_bytes_from(OBS_TEXT, 1, 4)) + value[pos:]
    if a == "ows_value":
        before = draw(st.sampled_from([b"", b" ", b"\t", b"  \t"]))
        return name + b":" + before + value + draw(st.sampled_from([b"", b" ", b"\t", b" \t "]))
    if a == "long_value":
        return name + b": " + b"x" * draw(st.integers(1000, 9000))
    assert a == "huge_value"
    return name + b": " + b"x" * draw(st.sampled_from([65500, 70000]))


def _framing(draw: Callable, a: str, kind: str) -> Tuple[List[Tuple[bytes, bytes]], bytes]:
    """The framing fields and the body: none, Content-Length or chunked
    (as ``kind`` says, unless the anomaly needs one of them)."""
    if a.startswith("cl_") and a != "cl_and_te":
        kind = "cl"
    elif a.startswith(("te_", "chunk_", "last_chunk")) or a in (
        "cl_and_te", "trailers", "bad_trailer", "folded_trailer", "no_final_crlf", "long_chunk_ext"
    ):
        kind = "chunked"
    cl_name = draw(st.sampled_from([b"Content-Length", b"content-length", b"CONTENT-LENGTH"]))
    te_name = draw(st.sampled_from([b"Transfer-Encoding", b"transfer-encoding", b"TRANSFER-ENCODING"]))
    if kind == "cl":
        body = draw(st.binary(max_size=20))
        n = str(len(body)).encode()
        values = {
            "cl_dup": [n, n],
            "cl_list": [n + draw(st.sampled_from([b",", b", ", b" ,", b",,", b" , "])) + n],
            "cl_conflict": draw(st.sampled_from([[n, n + b"1"], [n + b", " + n + b"1"]])),
            "cl_zeros": [b"0" * draw(st.integers(1, 30)) + n],
            "cl_sign": [draw(st.sampled_from([b"+", b"-"])) + n],
            "cl_ws": [n + draw(st.sampled_from([b" 1", b"\x0b", b"\x0c", b" x"]))],
            "cl_huge": [draw(st.sampled_from([
                b"99999999999999999999999", b"18446744073709551616", b"18446744073709551615",
                b"9223372036854775808", b"4294967296", b"104857601",
            ]))],
            "cl_hex": [b"0x" + n],
            "cl_empty": [b""],
            "cl_long": [str(len(body) + draw(st.integers(1, 5))).encode()],
        }.get(a, [n])
        if a == "cl_short":
            body += b"tail"
        return [(cl_name, v) for v in values], body
    if kind != "chunked":
        return [], b""
    values = {
        "te_case": [draw(st.sampled_from([b"Chunked", b"CHUNKED", b"cHuNkEd"]))],
        "te_list": [draw(st.sampled_from([
            b"gzip, chunked", b"chunked, gzip", b"chunked, chunked", b"identity, chunked",
            b"chunked,", b", chunked", b"gzip,chunked", b"chunked , chunked",
        ]))],
        "te_dup": [b"chunked", draw(st.sampled_from([b"chunked", b"gzip", b"identity"]))],
        "te_unknown": [draw(tokens)],
        "te_identity": [b"identity"],
        "te_ws": [draw(st.sampled_from([b"chunk ed", b"chunked\x0b", b"\x0cchunked"]))],
        "te_quoted": [b'"chunked"'],
        "te_empty": [b""],
    }.get(a, [b"chunked"])
    fields = [(te_name, v) for v in values]
    if a == "cl_and_te":
        fields.append((cl_name, b"0"))
    return fields, _chunked_body(draw, a)


def _chunked_body(draw: Callable, a: str) -> bytes:
    sizes = draw(st.lists(st.integers(1, 20), min_size=a.startswith("chunk_"), max_size=3))
    odd = draw(st.integers(0, max(0, len(sizes) - 1)))  # the chunk the anomaly is in
    out = b""
    for i, size in enumerate(sizes):
        this = a if i == odd else ""
        data = draw(st.binary(min_size=size, max_size=size))
        out += _chunk_size_line(draw, this, size) + (b"\n" if this == "chunk_lf" else b"\r\n")
        if this == "chunk_data_short":
            data = data[:-1]
        elif this == "chunk_data_long":
            data += b"x"
        if this == "chunk_no_crlf":
            out += data + draw(st.sampled_from([b"", b"\n", b"\r", b"xx", b"\r\r\n"]))
        else:
            out += data + b"\r\n"
    out += draw(st.sampled_from([b"00", b"0" * 25])) if a == "last_chunk_zeros" else b"0"
    out += b"\r\n"
    if a in ("trailers", "bad_trailer", "folded_trailer"):
        out += draw(field_names) + b": " + draw(field_values) + b"\r\n"
        if a == "bad_trailer":
            out += draw(st.sampled_from([b"no colon\r\n", b"x : y\r\n", b"x: \x00\r\n", b": y\r\n"]))
        elif a == "folded_trailer":
            out += b" folded\r\n"
    if a != "no_final_crlf":
        out += b"\r\n"
    return out


def _chunk_size_line(draw: Callable, a: str, size: int) -> bytes:
    digits = b"%x" % size
    if a == "chunk_zeros":
        digits = b"0" * draw(st.integers(1, 25)) + digits
    elif a == "chunk_upper":
        digits = digits.upper()
    elif a == "chunk_overflow":
        digits = draw(st.sampled_from([
            b"f" * 16, b"1" + b"0" * 16, b"f" * 17, b"ffffffff", b"7fffffffffffffff",
            b"1" + b"0" * 16 + digits, b"0" * 17 + digits, b"6400001",
        ]))
    elif a == "chunk_bad_size":
        digits = draw(st.sampled_from([b"0x" + digits, b"-" + digits, b"+" + digits, digits + b"g", b"", b"g", b" " + digits]))
    line = digits
    if a == "chunk_ext":
        for _ in range(draw(st.integers(1, 3))):
            line += draw(st.sampled_from([b"", b"", b" ", b"\t"])) + b";" + draw(st.sampled_from([b"", b"", b" "]))
            line += draw(tokens)
            if draw(st.booleans()):
                quoted = _bytes_from(VCHARS.replace(b'"', b"").replace(b"\\", b"") + b" \t", 0, 8)
                value = draw(st.one_of(tokens, quoted.map(lambda v: b'"' + v + b'"')))
                line += draw(st.sampled_from([b"", b" "])) + b"=" + draw(st.sampled_from([b"", b" "])) + value
    elif a == "chunk_bad_ext":
        line += draw(st.sampled_from([
            b";", b"; ", b";a=", b";a=b c", b';a="b', b";a\x00", b";\xe9", b';a="\\', b";a=@", b";a;", b"a", b";a=b;",
        ]))
    elif a == "long_chunk_ext":
        line += b";a=" + b"b" * draw(st.sampled_from([500, 2000, 70000]))
    elif a == "chunk_ws":
        line += draw(st.sampled_from([b" ", b"\t", b"  "]))
    return line


@st.composite
def requests(draw: Callable, anomalies: Sequence[str] = REQUEST_ANOMALIES) -> Tuple[str, bytes]:
    """``(anomaly, bytes)``: a request, well-formed but for at most one
    anomaly, maybe followed by a second request."""
    a = draw(st.one_of(st.just("none"), st.sampled_from(anomalies))) if anomalies else "none"
    method = draw(st.sampled_from([b"GET", b"POST", b"PUT", b"HEAD", b"OPTIONS", b"DELETE", b"PATCH"]))
    target = draw(origin_forms)
    if a == "lower_method":
        method = method.lower()
    elif a == "unknown_method":
        method = draw(tokens)
    elif a == "bad_method_char":
        method = method[:1] + draw(st.sampled_from([b"\x00", b"(", b"@", b"\xe9", b"/", b"\x7f"])) + method[1:]
    elif a == "absolute_target":
        target = b"http://" + draw(st.sampled_from([b"example.com", b"a:80", b"[::1]"])) + target
    elif a == "asterisk_target":
        method, target = b"OPTIONS", b"*"
    elif a == "authority_target":
        method, target = b"CONNECT", draw(st.sampled_from([b"example.com:443", b"a:1", b"[::1]:8080"]))
    elif a == "nonascii_target":
        target += draw(_bytes_from(OBS_TEXT, 1, 3))
    elif a == "ctl_target":
        target += draw(st.sampled_from([b"\x00", b"\x01", b"\x7f", b"\x0b"])) + b"x"
    elif a == "fragment_target":
        target += b"#frag" + draw(st.sampled_from([b"", b"<>", b"{|}", b'"', b"\\^`"]))
    elif a == "long_target":
        target += b"a" * draw(st.sampled_from([4000, 70000]))
    version = {
        "version_10": b"HTTP/1.0", "version_12": b"HTTP/1.2", "version_20": b"HTTP/2.0",
        "version_09": b"HTTP/0.9", "version_110": b"HTTP/1.10", "version_lower": b"http/1.1",
        "version_short": b"HTTP/1", "te_http10": b"HTTP/1.0",
    }.get(a) or draw(st.sampled_from([b"HTTP/1.1"] * 3 + [b"HTTP/1.0"]))
    separator = {"two_sp": b"  ", "tab_sep": b"\t"}.get(a, b" ")
    start_line = method + separator + target + b" " + version
    if a == "trailing_sp":
        start_line += b" "
    elif a == "no_version":
        start_line = method + b" " + target
    fields = []
    host = draw(st.sampled_from([b"example.com", b"127.0.0.1:8888", b"h", b"[::1]:80"]))
    if a == "bad_host":
        host = draw(st.one_of(
            st.sampled_from([b"a b", b"a/b", b"a@b@c", b"[::1", b"a:b:c", b"\xe9.com", b"a\tb", b"a?b", b"%zz", b"a:80x"]),
            _bytes_from(b"ab.:[]@%/?# \xe9", 1, 8),
        ))
    elif a == "empty_host":
        host = b""
    if a != "no_host" and (version != b"HTTP/1.0" or draw(st.booleans())):
        fields.append((b"Host", host))
        if a == "two_hosts":
            fields.append((b"Host", draw(st.sampled_from([host, b"other"]))))
    for _ in range(draw(st.integers(0, 3))):
        fields.append((draw(field_names), draw(field_values)))
    framing_fields, body = _framing(draw, a, draw(st.sampled_from(["none", "cl", "chunked"])))
    fields = draw(st.permutations(fields + framing_fields))
    data = _head(draw, a, start_line, fields)
    if a == "lead_empty_lines":
        data = draw(st.sampled_from([b"\r\n", b"\n", b"\r\n\r\n", b"\n\n", b"\r\n\n", b"\r\n\r\n\r\n"])) + data
    elif a == "lead_bare_cr":
        data = draw(st.sampled_from([b"\r", b"\r\r\n", b" \r\n", b"\t\r\n", b"\n\r"])) + data
    data += body
    if a == "byte_mutation":
        data = _mutate(draw, data)
    if draw(st.booleans()):
        data += NEXT_REQUEST
    return a, data


# --- known differences ----------------------------------------------------------


class _Loose:
    """A forgiving look at an input, enough to say which known difference
    applies to it: the head (up to the first empty line), its start line
    and field lines, and the chunk-size lines of a chunked body."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        m = re.search(rb"\n\r?\n", data)
        self.head = data if m is None else data[: m.end()]
        self.rest = data[len(self.head) :]
        self.leading = re.match(rb"[\r\n]*", data).group()  # type: ignore[union-attr]
        lines = re.split(rb"\r?\n", self.head[len(self.leading) :])
        self.start_line = lines[0]
        self.field_lines = [line for line in lines[1:] if line]
        words = self.start_line.split(b" ")
        self.method = words[0]
        self.target = words[1] if len(words) > 1 else b""
        self.version = words[-1] if len(words) > 2 else b""

    def values(self, name: bytes) -> List[bytes]:
        """The values of every field line named ``name`` (any case)."""
        out = []
        for line in self.field_lines:
            field, colon, value = line.partition(b":")
            if colon and field.lower() == name:
                out.append(value.strip(b" \t"))
        return out

    def chunk_lines(self) -> List[bytes]:
        """The chunk-size lines of the body, read loosely (sizes as the
        leading hex digits say, lines ended by LF), if it is chunked."""
        if not self.values(b"transfer-encoding"):
            return []
        lines, pos = [], 0
        while pos < len(self.rest) and len(lines) < 100:
            eol = self.rest.find(b"\n", pos)
            if eol == -1:
                lines.append(self.rest[pos:])
                break
            line = self.rest[pos:eol].rstrip(b"\r")
            lines.append(line)
            digits = re.match(rb"[0-9A-Fa-f]*", line).group()  # type: ignore[union-attr]
            size = int(digits, 16) if digits else 0
            if size == 0:
                break
            pos = eol + 1 + size + 2
        return lines


# The methods llhttp knows (it refuses any other token).
_LLHTTP_METHODS = set(
    b"DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH SEARCH "
    b"UNLOCK BIND REBIND UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY SUBSCRIBE "
    b"UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE QUERY".split()
)
# RFC 9110 section 7.2: Host = uri-host [ ":" port ], with RFC 3986's
# uri-host = IP-literal / IPv4address / reg-name.
_RFC_HOST = re.compile(
    rb"(?:\[[0-9A-Fa-f:.]+\]|\[[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]"
    rb"|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?"
)


def _content_lengths(x: _Loose) -> List[bytes]:
    return [v.strip(b" \t") for value in x.values(b"content-length") for v in value.split(b",")]


def _declared_too_large(x: _Loose) -> bool:
    lengths = [int(v) for v in _content_lengths(x) if v.isdigit() and len(v) < 4000]
    sizes = [re.match(rb"[0-9A-Fa-f]*", line).group() for line in x.chunk_lines()]  # type: ignore[union-attr]
    chunked = sum(int(s, 16) for s in sizes if s and len(s) < 1000)
    return any(n > MAX_BODY for n in lengths) or chunked > MAX_BODY


# The request line's target, in an input whose target has raw bytes.
_RAW_TARGET_BYTES = re.compile(rb"(?<= )[^ \r\n]*[\x80-\xff][^ \r\n]*(?= )")


def _percent_encode(m: "re.Match[bytes]") -> bytes:
    return re.sub(rb"[\x80-\xff]", lambda b: b"%%%02X" % b.group()[0], m.group())


def _percent_encode_text(target: str) -> str:
    return _decode(_RAW_TARGET_BYTES.sub(_percent_encode, b" " + target.encode("latin1") + b" ").strip(b" "))


@dataclasses.dataclass(frozen=True)
class Difference:
    """A known way in which h11 or llhttp decides an input unlike us.

    ``applies`` recognises the inputs it concerns; ``departs`` names the
    parsers whose verdict on them is not compared with ours (or, with
    ``ignore``, compared except for those fields of the message); ``ours``
    is what we must decide whenever it applies (None: compare with the
    parser that does not depart).  ``example`` is an input it applies to,
    ``rule`` the RFC text that decides it, as the docs table shows it.
    """

    name: str
    applies: Callable[[_Loose], bool]
    departs: FrozenSet[str]
    ours: Optional[str]
    example: bytes
    rule: str
    ignore: FrozenSet[str] = frozenset()
    # Instead of not comparing: compare the departing parsers' verdict on
    # rewrite(input) with ours on the input, our message passed through
    # rewrite_message (and the end of the message not compared).
    rewrite: Optional[Callable[[bytes], bytes]] = None
    rewrite_message: Optional[Callable[[Message], Message]] = None


H11, LLHTTP, BOTH = frozenset({"h11"}), frozenset({"llhttp"}), frozenset({"h11", "llhttp"})
_GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
_CHUNKED_HEAD = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
_CHUNKED = _CHUNKED_HEAD + b"\r\n"


REQUEST_DIFFERENCES = [
    Difference(
        "bare-lf", lambda x: re.search(rb"(?<!\r)\n", x.head) is not None, LLHTTP, None,
        b"GET / HTTP/1.1\nHost: a\n\n",
        "RFC 9112 2.2: a recipient MAY recognize a single LF as a line terminator",
    ),
    Difference(
        "leading-empty-line", lambda x: re.fullmatch(rb"(?:\r?\n)+", x.leading) is not None, H11, None,
        b"\r\n" + _GET,
        "RFC 9112 2.2: a server SHOULD ignore at least one empty line received before the request-line",
    ),
    Difference(
        "leading-bare-cr", lambda x: re.fullmatch(rb"(?:\r?\n)*", x.leading) is None, LLHTTP, REJECT,
        b"\r" + _GET,
        "RFC 9112 2.2: a bare CR MUST be considered invalid (or replaced by SP); it is no empty line",
    ),
    Difference(
        "many-empty-lines", lambda x: len(re.findall(rb"\r?\n", x.leading)) > 3, LLHTTP, REJECT,
        b"\r\n" * 4 + _GET,
        "RFC 9112 2.2 asks to ignore at least one empty line; we ignore three at most",
    ),
    Difference(
        "obs-fold", lambda x: any(line[:1] in (b" ", b"\t") for line in x.field_lines), H11, REJECT,
        b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n",
        "RFC 9112 5.2: a server MUST reject obs-fold with 400 or replace it with SP (h11 joins the lines)",
    ),
    Difference(
        "http-major-version",
        lambda x: re.fullmatch(rb"HTTP/[02-9]\.[0-9]", x.version) is not None, BOTH, REJECT,
        b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
        "RFC 9110 6.2 and 15.6.6: 505 (HTTP Version Not Supported) for a major version other than 1",
    ),
    Difference(
        "http-minor-version", lambda x: re.fullmatch(rb"HTTP/1\.[2-9]", x.version) is not None, LLHTTP, None,
        b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
        "RFC 9110 6.2: a higher minor version SHOULD be processed as the highest one implemented (1.1)",
    ),
    Difference(
        "no-http-version",
        lambda x: len(x.start_line.split(b" ")) == 2, LLHTTP, REJECT,
        b"GET /\r\n\r\n",
        "RFC 9112 3: request-line = method SP request-target SP HTTP-version (llhttp reads HTTP/0.9)",
    ),
    Difference(
        "request-line-spaces", lambda x: b"  " in x.start_line, LLHTTP, REJECT,
        b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        "RFC 9112 3: elements are separated by a single SP; an invalid request-line SHOULD get 400",
    ),
    Difference(
        "method-unknown-to-llhttp",
        lambda x: x.method not in _LLHTTP_METHODS and re.fullmatch(rb"[" + TCHARS + rb"]+", x.method) is not None,
        LLHTTP, None,
        b"get / HTTP/1.1\r\nHost: a\r\n\r\n",
        "RFC 9110 9.1: a method is any case-sensitive token; an unknown one is the application's to refuse (501)",
    ),
    Difference(
        "raw-bytes-in-target", lambda x: re.search(rb"[\x80-\xff]", x.target) is not None, BOTH, None,
        b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
        "RFC 9112 3.2: an invalid request-target SHOULD get 400 or a redirect to its encoded form; "
        "like Tornado we accept raw UTF-8 (only SP and controls, which framing depends on, are refused)",
        rewrite=lambda data: _RAW_TARGET_BYTES.sub(_percent_encode, data, 1),
        rewrite_message=lambda m: dataclasses.replace(
            m, target=_percent_encode_text(m.target)
        ),
    ),
    Difference(
        "target-form-unchecked",
        lambda x: re.fullmatch(rb"[\x21-\x7e]+", x.target) is not None
        and _ABNF.request_target.fullmatch(_decode(x.target)) is None,
        LLHTTP, None,
        b"GET :/ HTTP/1.1\r\nHost: a\r\n\r\n",
        "RFC 9112 3.2: request-target = origin-form / absolute-form / authority-form / "
        "asterisk-form, and an invalid one SHOULD get 400; like Tornado (and h11) we accept any "
        "visible characters and leave the target to routing, which answers 404",
    ),
    Difference(
        "host-missing",
        lambda x: not x.values(b"host") and x.version == b"HTTP/1.1", LLHTTP, REJECT,
        b"GET / HTTP/1.1\r\n\r\n",
        "RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host",
    ),
    Difference(
        "host-repeated", lambda x: len(x.values(b"host")) > 1, LLHTTP, REJECT,
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        "RFC 9112 3.2: a server MUST answer 400 to a request with more than one Host field line",
    ),
    Difference(
        "host-invalid",
        lambda x: any(not _RFC_HOST.fullmatch(v) for v in x.values(b"host")), BOTH, REJECT,
        b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        "RFC 9112 3.2: a server MUST answer 400 to a Host field with an invalid value (RFC 9110 7.2)",
    ),
    Difference(
        "content-length-repeated",
        lambda x: len(_content_lengths(x)) > 1, LLHTTP, None,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx",
        "RFC 9110 8.6: a list of identical valid lengths MAY be accepted as that length "
        "(different ones are refused by all three)",
    ),
    Difference(
        "content-length-digits", lambda x: any(len(v) > 20 for v in _content_lengths(x)), H11, None,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + b"0" * 20 + b"1\r\n\r\nx",
        "RFC 9110 8.6: Content-Length = 1*DIGIT, leading zeros included (h11 stops at 20 digits)",
    ),
    Difference(
        "transfer-coding-not-chunked",
        lambda x: bool(x.values(b"transfer-encoding"))
        and b",".join(x.values(b"transfer-encoding")).lower() != b"chunked",
        LLHTTP, REJECT,
        _CHUNKED.replace(b"chunked", b"gzip, chunked") + b"0\r\n\r\n",
        "RFC 9112 6.1: a server SHOULD answer 501 to a transfer coding it does not implement, and "
        "chunked MUST NOT be applied twice; like Tornado (and h11) we answer 400",
    ),
    Difference(
        "length-and-chunked",
        lambda x: bool(x.values(b"transfer-encoding")) and bool(x.values(b"content-length")), H11, REJECT,
        _CHUNKED_HEAD + b"Content-Length: 0\r\n\r\n0\r\n\r\n",
        "RFC 9112 6.1 and 6.3: a server MAY reject a request with both Content-Length and "
        "Transfer-Encoding, and it \"ought to be handled as an error\" (request smuggling): we refuse it",
    ),
    Difference(
        "trailer-obs-fold",
        lambda x: re.search(rb"(?:^|\n)0+(?:;[^\r\n]*)?\r\n(?:[^\r\n]+\r\n)*[ \t]", x.rest) is not None,
        H11, REJECT,
        _CHUNKED + b"0\r\nA: b\r\n c\r\n\r\n",
        "RFC 9112 5.2: a server MUST reject obs-fold (or replace it) in a request's trailer "
        "section too; a user agent unfolds it in a response's",
    ),
    Difference(
        "chunk-ext-empty-value",
        lambda x: any(re.search(rb"=[ \t]*(?:;|$)", line) for line in x.chunk_lines()), LLHTTP, REJECT,
        _CHUNKED + b"1;a=\r\nx\r\n0\r\n\r\n",
        "RFC 9112 7.1.1: chunk-ext-val = token / quoted-string, and a token is never empty",
    ),
    Difference(
        "chunk-size-whitespace",
        lambda x: any(re.match(rb"[0-9A-Fa-f]+[ \t]", line) for line in x.chunk_lines()),
        BOTH, None,
        _CHUNKED + b"1 ;a\r\nx\r\n0\r\n\r\n",
        "RFC 9112 7.1.1: chunk-ext = *( BWS \";\" BWS chunk-ext-name ...); RFC 9110 5.6.3: a recipient "
        "MUST parse and remove BWS (both refuse it before \";\"; we refuse whitespace with no \";\" after it)",
    ),
    Difference(
        "chunk-ext-whitespace",
        lambda x: any(re.search(rb";.*[ \t]", line) for line in x.chunk_lines()), LLHTTP, None,
        _CHUNKED + b"1; a = b\r\nx\r\n0\r\n\r\n",
        "RFC 9112 7.1.1 and RFC 9110 5.6.3: BWS around \";\" and \"=\" in chunk extensions MUST be parsed",
    ),
    Difference(
        "chunk-ext-unchecked-by-h11", lambda x: any(b";" in line for line in x.chunk_lines()), H11, None,
        _CHUNKED + b"1;a=b c\r\nx\r\n0\r\n\r\n",
        "RFC 9112 7.1.1: chunk-ext grammar (h11 skips extensions unparsed)",
    ),
    Difference(
        "chunk-size-digits",
        lambda x: any(re.match(rb"[0-9A-Fa-f]{21}", line) for line in x.chunk_lines()), H11, None,
        _CHUNKED + b"0" * 20 + b"1\r\nx\r\n0\r\n\r\n",
        "RFC 9112 7.1: chunk-size = 1*HEXDIG, leading zeros included (h11 stops at 20 digits)",
    ),
    Difference(
        "chunk-line-over-limit", lambda x: any(len(line) > 1022 for line in x.chunk_lines()), BOTH, REJECT,
        _CHUNKED + b"1;a=" + b"b" * 1100 + b"\r\nx\r\n0\r\n\r\n",
        "RFC 9112 7.1.1: a server ought to limit the length of chunk extensions (we allow 1 KiB a line)",
    ),
    Difference(
        "body-over-limit", _declared_too_large, BOTH, REJECT,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 104857601\r\n\r\n",
        "RFC 9110 15.5.14 (413 Content Too Large): a declared size over max_body_size is refused "
        "at once (with 400, as Tornado always has)",
    ),
    Difference(
        "head-over-limit", lambda x: len(x.head) > MAX_HEAD, BOTH, REJECT,
        b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"x" * MAX_HEAD + b"\r\n\r\n",
        "RFC 9110 5.4 and RFC 6585 5: a server MUST answer a header section larger than it "
        "wishes to process with a 4xx (431); our limit is max_header_size, 64 KiB",
    ),
    Difference(
        "control-in-field-value",
        lambda x: re.search(rb"[\x01-\x08\x0e-\x1f\x7f]", b"".join(x.field_lines)) is not None, H11, REJECT,
        b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n",
        "RFC 9110 5.5: field-value = VCHAR, obs-text, SP and HTAB only; other controls are invalid",
    ),
    Difference(
        "connect-content",
        lambda x: x.method == b"CONNECT"
        or (bool(x.values(b"upgrade")) and b"upgrade" in b",".join(x.values(b"connection")).lower()),
        BOTH, None,
        b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx",
        "RFC 9110 9.3.6: CONNECT content has no defined meaning; we frame it like any request "
        "and leave tunnels (and upgrades) to the application (llhttp hands the rest of the "
        "connection over after the head, h11 waits for the answer to switch protocols)",
        ignore=frozenset({"body", "end", "keep_alive"}),
    ),
    Difference(
        "keep-alive-http10",
        lambda x: x.version == b"HTTP/1.0" and b"keep-alive" in b",".join(x.values(b"connection")).lower(),
        H11, None,
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "RFC 9112 C.2.2: HTTP/1.0 persistent connections with Connection: keep-alive "
        "(h11 closes every HTTP/1.0 connection)",
        ignore=frozenset({"keep_alive"}),
    ),
]


STATUS_LINE_ANOMALIES = (
    "status_http10 status_http12 status_http20 status_lower_version status_no_reason status_no_sp "
    "status_empty_reason status_obs_text_reason status_ctl_reason status_2digit status_4digit "
    "status_alpha status_600 status_099 status_lead_empty_line status_two_sp informational "
    "informational_with_body many_informational no_content not_modified head_request"
).split()
RESPONSE_ANOMALIES = STATUS_LINE_ANOMALIES + FIELD_ANOMALIES + FRAMING_ANOMALIES + ["byte_mutation"] * 8


@st.composite
def responses(draw: Callable, anomalies: Sequence[str] = RESPONSE_ANOMALIES) -> Tuple[str, str, bytes]:
    """``(anomaly, request method, bytes)``: a response, well-formed but
    for at most one anomaly."""
    a = draw(st.one_of(st.just("none"), st.sampled_from(anomalies))) if anomalies else "none"
    method = "HEAD" if a == "head_request" else "GET"
    version = {
        "status_http10": b"HTTP/1.0", "status_http12": b"HTTP/1.2", "status_http20": b"HTTP/2.0",
        "status_lower_version": b"http/1.1",
    }.get(a, b"HTTP/1.1")
    code = {
        "status_2digit": b"20", "status_4digit": b"2000", "status_alpha": b"2x0", "status_600": b"600",
        "status_099": b"099", "no_content": b"204", "not_modified": b"304",
    }.get(a) or draw(st.sampled_from([b"200", b"201", b"206", b"301", b"404", b"500", b"299", b"599"]))
    reason = {
        "status_empty_reason": b"", "status_obs_text_reason": b"D\xe9j\xe0 vu",
        "status_ctl_reason": b"O\x01K", "status_two_sp": b" OK",
    }.get(a) or draw(st.sampled_from([b"OK", b"Not Found", b"whatever\tit is", b"x"]))
    start_line = version + b" " + code + (b"" if a == "status_no_reason" else b" ") + reason
    if a == "status_no_sp":
        start_line = version + b" " + code
    fields = [(draw(field_names), draw(field_values)) for _ in range(draw(st.integers(0, 3)))]
    framing_fields, body = _framing(draw, a, draw(st.sampled_from(["none", "cl", "chunked"])))
    if a in ("no_content", "not_modified", "head_request") and draw(st.booleans()):
        # What a HEAD or 304 response may announce, and a 204 may not.
        framing_fields = [(b"Content-Length", draw(st.sampled_from([b"0", b"5"])))]
        body = b""
    data = _head(draw, a, start_line, draw(st.permutations(fields + framing_fields)))
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    if a == "informational":
        data = draw(st.sampled_from([interim, b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"])) + data
    elif a == "informational_with_body":
        data = b"HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n" + data
    elif a == "many_informational":
        data = interim * draw(st.integers(10, 12)) + data
    elif a == "status_lead_empty_line":
        data = draw(st.sampled_from([b"\r\n", b"\n", b"\r"])) + data
    data += body
    if a == "byte_mutation":
        data = _mutate(draw, data)
    return a, method, data


def _in_response(name: str, example: bytes) -> Difference:
    """A request difference as it shows in responses (h11 only)."""
    d = next(d for d in REQUEST_DIFFERENCES if d.name == name)
    return dataclasses.replace(d, departs=H11, example=example)


_OK_CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
RESPONSE_DIFFERENCES = [
    _in_response("chunk-size-whitespace", _OK_CHUNKED + b"1 \r\nx\r\n0\r\n\r\n"),
    _in_response("chunk-ext-unchecked-by-h11", _OK_CHUNKED + b"1;a=b c\r\nx\r\n0\r\n\r\n"),
    _in_response("chunk-size-digits", _OK_CHUNKED + b"0" * 20 + b"1\r\nx\r\n0\r\n\r\n"),
    _in_response("chunk-line-over-limit", _OK_CHUNKED + b"1;a=" + b"b" * 1100 + b"\r\nx\r\n0\r\n\r\n"),
    _in_response("content-length-digits", b"HTTP/1.1 200 OK\r\nContent-Length: " + b"0" * 20 + b"1\r\n\r\nx"),
    _in_response("body-over-limit", b"HTTP/1.1 200 OK\r\nContent-Length: 104857601\r\n\r\n"),
    _in_response("head-over-limit", b"HTTP/1.1 200 OK\r\nX: " + b"x" * MAX_HEAD + b"\r\n\r\n"),
    _in_response("control-in-field-value", b"HTTP/1.1 200 OK\r\nX: a\x7fb\r\n\r\n"),
    Difference(
        "response-leading-empty-line",
        lambda x: re.fullmatch(rb"(?:\r?\n)+", x.leading) is not None, H11, None,
        b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "RFC 9112 2.2 asks servers to skip empty lines before a request-line; our client "
        "skips them before a status-line too (a server may send a stray CRLF after a body)",
    ),
    Difference(
        "status-line-without-reason-space",
        lambda x: re.fullmatch(rb"HTTP/[0-9.]+ [0-9]{3}", x.start_line) is not None, H11, REJECT,
        b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
        "RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]; "
        "a server MUST send that second SP (Tornado has always refused its absence)",
    ),
    Difference(
        "reason-phrase-control",
        lambda x: re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", x.start_line) is not None, H11, REJECT,
        b"HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n",
        "RFC 9112 4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )",
    ),
    Difference(
        "no-content-with-framing",
        lambda x: re.match(rb"HTTP/[0-9.]+ 204", x.start_line) is not None
        and (bool(x.values(b"transfer-encoding")) or any(v != b"0" for v in _content_lengths(x))),
        H11, REJECT,
        b"HTTP/1.1 204 No Content\r\nContent-Length: 1\r\n\r\nx",
        "RFC 9110 15.3.5: a 204 response cannot contain content; one that announces some is "
        "refused, as Tornado always has (h11 ignores its framing fields, RFC 9112 6.3)",
    ),
    _in_response(
        "length-and-chunked",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n0\r\n\r\n",
    ),
    Difference(
        "informational-with-framing",
        lambda x: re.search(rb"(?:^|\n)HTTP/1\.[01] 1[0-9][0-9] [^\n]*\n(?:[^\r\n][^\n]*\n)*?"
                            rb"(?i:content-length|transfer-encoding):", x.data) is not None,
        H11, REJECT,
        b"HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "RFC 9110 15.2: a 1xx response cannot contain content; one that announces some is refused",
    ),
    Difference(
        "many-informational-responses",
        lambda x: len(re.findall(rb"(?:^|\n)HTTP/1\.[01] 1[0-9][0-9] ", x.data)) > _MAX_1XX_RESPONSES,
        H11, REJECT,
        b"HTTP/1.1 100 Continue\r\n\r\n" * 11 + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "RFC 9110 15.2 puts no bound on interim responses; we accept 10 before the final one",
    ),
]


# --- the checks -------------------------------------------------------------------


def _cuts(data: bytes) -> range:
    """Where to cut ``data`` for a feed "one byte at a time" (long inputs
    go in 997-byte pieces, to keep the run short)."""
    return range(1, len(data)) if len(data) <= 4096 else range(997, len(data), 997)


def _same_verdict(a: Verdict, b: Verdict) -> bool:
    return (a.kind, a.message, a.status) == (b.kind, b.message, b.status)


def _check_split_invariance(parse: Callable[..., Verdict], data: bytes, whole: Verdict) -> None:
    """Our verdict does not depend on how the input is cut."""
    bytewise = parse(data, _cuts(data))
    assert _same_verdict(whole, bytewise), f"whole: {whole}\none byte at a time: {bytewise}"
    if len(data) <= 400:
        for cut in range(1, len(data)):
            split = parse(data, [cut])
            assert _same_verdict(whole, split), f"whole: {whole}\nsplit at {cut}: {split}"


def check_request(data: bytes) -> None:
    """The differential property for one input (see the module docstring)."""
    ours = tornado_request(data)
    _check_split_invariance(tornado_request, data, ours)
    loose = _Loose(data)
    applying = [d for d in REQUEST_DIFFERENCES if d.applies(loose)]
    for d in applying:
        if d.ours is not None:
            assert ours.kind == d.ours, f"{d.name}: we should {d.ours}, but: {ours}"
    names = [d.name for d in applying]
    for name, parse in (("h11", h11_request), ("llhttp", llhttp_request)):
        departing = [d for d in applying if name in d.departs]
        rewriting = [d for d in departing if d.rewrite is not None]
        if any(not d.ignore and d.rewrite is None for d in departing):
            continue
        ignore = frozenset().union(*(d.ignore for d in departing))
        their_input, mine = data, ours
        for d in rewriting:
            their_input = d.rewrite(their_input)  # type: ignore[misc]
            if mine.message is not None:
                mine = dataclasses.replace(mine, message=d.rewrite_message(mine.message))  # type: ignore[misc]
            ignore |= {"end"}
        theirs = parse(their_input, _cuts(their_input))
        if mine.kind == INCOMPLETE and theirs.kind == REJECT:
            # We look at a head once its empty line is in; a parser that
            # checks each line as it comes refuses sooner.  The decision is
            # the same once the head is complete.
            mine = tornado_request(data + b"\r\n\r\n")
        assert _same(mine, theirs, ignore), (
            f"we and {name} differ on {data!r}\n  ours:   {mine}\n  {name}: {theirs}\n"
            f"  known differences that apply: {names}"
        )
        if len(their_input) <= MAX_HEAD:
            # Fed whole, it decides as it does fed byte by byte.
            assert _same(theirs, parse(their_input), ignore | {"end"})


@_examples(300)
@given(requests())
def test_requests_agree(example: Tuple[str, bytes]) -> None:
    check_request(example[1])


@_examples(100)
@given(requests(anomalies=()))
def test_well_formed_requests_agree_exactly(example: Tuple[str, bytes]) -> None:
    """Well-formed requests: all three accept, and agree on everything."""
    data = example[1]
    ours = tornado_request(data)
    assert ours.kind == OK, ours
    for parse in (h11_request, llhttp_request):
        theirs = parse(data, _cuts(data))
        ignore = frozenset({"keep_alive"}) if b"HTTP/1.0" in data[:200] else frozenset()
        assert _same(ours, theirs, ignore), (ours, theirs)


@pytest.mark.parametrize("difference", REQUEST_DIFFERENCES, ids=lambda d: d.name)
def test_request_difference(difference: Difference) -> None:
    """Each known difference is real: on its example it applies, we decide
    as it says, and the parsers it names decide otherwise."""
    data = difference.example
    assert difference.applies(_Loose(data))
    ours = tornado_request(data)
    if difference.ours is not None:
        assert ours.kind == difference.ours
    for name, parse in (("h11", h11_request), ("llhttp", llhttp_request)):
        theirs = parse(data, _cuts(data))
        if name in difference.departs:
            if difference.rewrite is not None:
                assert theirs.kind == REJECT and ours.kind == OK
            else:
                assert not _same(ours, theirs, frozenset()), f"{name} now agrees with us: {theirs}"
    check_request(data)


def test_differences_are_documented() -> None:
    """docs/guide/security.rst has a table row for each known difference."""
    path = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "guide", "security.rst")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for difference in REQUEST_DIFFERENCES + RESPONSE_DIFFERENCES:
        assert f"``{difference.name}``" in text, difference.name


def check_response(data: bytes, method: str) -> None:
    """The differential property for one response, against h11 only."""
    ours = tornado_response(data, (), method)
    _check_split_invariance(lambda d, cuts=(): tornado_response(d, cuts, method), data, ours)
    loose = _Loose(data)
    applying = [d for d in RESPONSE_DIFFERENCES if d.applies(loose)]
    for d in applying:
        if d.ours is not None:
            assert ours.kind == d.ours, f"{d.name}: we should {d.ours}, but: {ours}"
    departing = [d for d in applying if "h11" in d.departs]
    if any(not d.ignore for d in departing):
        return
    ignore = frozenset().union(*(d.ignore for d in departing))
    theirs = h11_response(data, _cuts(data), method)
    if ours.kind == INCOMPLETE and theirs.kind == REJECT:
        ours = tornado_response(data + b"\r\n\r\n", (), method)  # (see check_request)
    assert _same(ours, theirs, ignore), (
        f"we and h11 differ on {data!r} (to {method})\n  ours: {ours}\n  h11:  {theirs}\n"
        f"  known differences that apply: {[d.name for d in applying]}"
    )


@_examples(200)
@given(responses())
def test_responses_agree(example: Tuple[str, str, bytes]) -> None:
    check_response(example[2], example[1])


@pytest.mark.parametrize("difference", RESPONSE_DIFFERENCES, ids=lambda d: d.name)
def test_response_difference(difference: Difference) -> None:
    """The same for responses, against h11."""
    data = difference.example
    assert difference.applies(_Loose(data))
    ours = tornado_response(data)
    if difference.ours is not None:
        assert ours.kind == difference.ours
    theirs = h11_response(data, _cuts(data))
    assert not _same(ours, theirs, frozenset()), f"h11 now agrees with us: {theirs}"
    check_response(data, "GET")


# --- a real server decides what the model decides -------------------------------


_STATUS_LINE = re.compile(rb"(?:^|\n)HTTP/1\.1 ([0-9]{3}) ")


class _RecordingServer:
    """An `.HTTPServer` on 127.0.0.1, in a thread of its own, that records
    each request it receives and answers it with an empty ``200 OK``."""

    def __init__(self) -> None:
        from tornado.netutil import bind_sockets

        self.requests: List[Tuple[str, str, str, Tuple[Tuple[str, str], ...], bytes]] = []
        self._sockets = bind_sockets(0, "127.0.0.1")
        self.port = self._sockets[0].getsockname()[1]
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._started.wait(10)

    def _run(self) -> None:
        import asyncio

        from tornado.httpserver import HTTPServer

        async def main() -> None:
            self._stop = asyncio.Event()
            server = HTTPServer(self._handle)
            server.add_sockets(self._sockets)
            self._loop = asyncio.get_running_loop()
            self._started.set()
            await self._stop.wait()
            server.stop()
            await server.close_all_connections()

        asyncio.run(main())

    def _handle(self, request: object) -> None:
        from tornado.httputil import HTTPHeaders, ResponseStartLine

        r = request  # an HTTPServerRequest
        fields = tuple((n.lower(), v) for n, v in r.headers.get_all())  # type: ignore[attr-defined]
        self.requests.append((r.method, r.uri, r.version, fields, r.body))  # type: ignore[attr-defined]
        connection = r.connection  # type: ignore[attr-defined]
        # No body, so that responses are told apart by their heads alone.
        connection.write_headers(
            ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders({"Content-Length": "0"})
        )
        connection.finish()

    def exchange(self, data: bytes, responses: int = 0) -> Tuple[List[int], list]:
        """Send ``data`` on a new connection and close our side; return the
        status codes of the responses and the requests the server saw.

        Our side is closed only once ``responses`` responses have come (or
        the server has closed): the server closes a stream when it reads
        the end of the input, so a half-close sent at once could race the
        pipelined requests still in its buffer."""
        self.requests = []
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(data)
            received = b""
            half_closed = False
            while True:
                if not half_closed and len(_STATUS_LINE.findall(received)) >= responses:
                    sock.shutdown(socket.SHUT_WR)
                    half_closed = True
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        codes = [int(code) for code in _STATUS_LINE.findall(received)]
        return codes, list(self.requests)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture(scope="module")
def real_server():
    server = _RecordingServer()
    yield server
    server.close()


def _expected_exchange(data: bytes) -> Tuple[List[int], list]:
    """What the model says a server answers to ``data``: the status codes
    and the requests handed to the application."""
    verdict = tornado_request(data)
    m = verdict.message
    if m is None:
        return ([verdict.status] if verdict.status else []), []
    codes, requests = [200], [(m.method, m.target, m.version, m.headers, m.body)]
    assert m.end is not None
    if m.keep_alive and data[m.end :]:
        more_codes, more_requests = _expected_exchange(data[m.end :])
        codes += more_codes
        requests += more_requests
    return codes, requests


_SMALL_ANOMALIES = [a for a in REQUEST_ANOMALIES if a not in ("huge_value", "long_target", "long_chunk_ext")]


@_examples(60)
@given(requests(anomalies=_SMALL_ANOMALIES))
def test_real_server_matches_model(real_server: _RecordingServer, example: Tuple[str, bytes]) -> None:
    """On a smaller set, a real HTTPServer on 127.0.0.1 answers as the
    model of the codec used above says: the same requests reach the
    application, and refusals get the same status."""
    data = example[1]
    expected = _expected_exchange(data)
    assert real_server.exchange(data, len(expected[0])) == expected


@pytest.mark.parametrize(
    "data",
    [d.example for d in REQUEST_DIFFERENCES if len(d.example) < 4096],
    ids=[d.name for d in REQUEST_DIFFERENCES if len(d.example) < 4096],
)
def test_real_server_on_differences(real_server: _RecordingServer, data: bytes) -> None:
    """And on the example of every known difference."""
    expected = _expected_exchange(data)
    assert real_server.exchange(data, len(expected[0])) == expected
