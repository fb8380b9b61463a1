"""Tests for tornado.http1connection.

The first part drives the pure HTTP/1 codec with bytes: the chunked decoder
is fed every input three ways (all at once, one byte at a time, and with
the next message's bytes trailing).  The second part drives
`HTTP1Connection` over real sockets on 127.0.0.1, as a client reading
responses from a raw server.
"""

import gzip
import socket
import threading
import time

import pytest

from tornado import gen
from tornado.http1connection import (
    HTTP1Connection,
    HTTP1ConnectionParameters,
    _BODY_UNTIL_CLOSE,
    _CHUNKED_BODY,
    _ChunkedDecoder,
    _FIXED_BODY,
    _check_body_size,
    _MAX_1XX_RESPONSES,
    _NO_BODY,
    _format_chunk,
    _format_head,
    _parse_request_head,
    _parse_response_head,
    _request_framing,
    _request_keeps_alive,
    _response_framing,
    _status_line,
    _status_reason,
    is_transfer_encoding_chunked,
    parse_hex_int,
    parse_int,
)
from tornado.httputil import (
    HTTPHeaders,
    HTTPInputError,
    HTTPMessageDelegate,
    RequestStartLine,
    ResponseStartLine,
    _error_status,
)
from tornado.iostream import IOStream, StreamClosedError
from tornado.log import app_log, gen_log
from tornado.netutil import add_accept_handler, bind_sockets
from tornado.testing import AsyncTestCase, ExpectLog, gen_test
from support import LoopTurns

# --- integers -----------------------------------------------------------------


def test_parse_int_accepts_only_digits():
    assert parse_int("0") == 0 and parse_int("0012") == 12
    for bad in ["", "+1", "-1", "1_0", " 1", "1 ", "١", "0x1", "1.0"]:
        with pytest.raises(ValueError):
            parse_int(bad)


def test_parse_hex_int_accepts_only_hex_digits():
    assert parse_hex_int("fF") == 255
    for bad in ["", "0x1", "+1", "1_a", "g", " a"]:
        with pytest.raises(ValueError):
            parse_hex_int(bad)


def test_is_transfer_encoding_chunked():
    assert not is_transfer_encoding_chunked(HTTPHeaders())
    assert is_transfer_encoding_chunked(HTTPHeaders({"Transfer-Encoding": "Chunked"}))
    for value in ["gzip, chunked", "chunked, chunked", "\xa0chunked", "identity"]:
        with pytest.raises(HTTPInputError, match="Unsupported Transfer-Encoding"):
            is_transfer_encoding_chunked(HTTPHeaders({"Transfer-Encoding": value}))
    with pytest.raises(HTTPInputError, match="both Transfer-Encoding and Content-Length"):
        is_transfer_encoding_chunked(
            HTTPHeaders({"Transfer-Encoding": "chunked", "Content-Length": "1"})
        )


# --- heads --------------------------------------------------------------------


def test_parse_request_head():
    line, headers = _parse_request_head(b"\r\nPOST /x?y HTTP/1.1\r\nHost: h\r\nA:  b \r\n\r\n")
    assert line == RequestStartLine("POST", "/x?y", "HTTP/1.1")
    assert list(headers.get_all()) == [("Host", "h"), ("A", "b")]
    # Bare LF line endings (RFC 9112 section 2.2).
    line, headers = _parse_request_head(b"GET / HTTP/1.0\nA: 1\n\n")
    assert line.version == "HTTP/1.0" and headers["A"] == "1"
    # Obs-text passes through as Latin-1.
    _, headers = _parse_request_head(b"GET / HTTP/1.0\r\nX: \xe9\r\n\r\n")
    assert headers["X"] == "\xe9"


@pytest.mark.parametrize(
    "head, message, status",
    [
        (b"GET / HTTP/1.1\r\n\r\n", "Missing Host", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "Multiple Host", 400),
        (b"GET / HTTP/1.0\r\nHost: a b\r\n\r\n", "Invalid Host", 400),
        (b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "Invalid Host", 400),
        (b"GET / HTTP/1.1\r\n Host: a\r\n\r\n", "folding", 400),
        (b"GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", "Invalid header value", 400),
        (b"GET / HTTP/1.1\rHost: a\r\n\r\n", "Malformed HTTP", 400),
        (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", "Invalid header name", 400),
        (b"GET / HTTP/3.0\r\nHost: a\r\n\r\n", "Unsupported HTTP version", 505),
        # Only empty lines (CRLF or LF) may come before the request line: a
        # bare CR there is an invalid element (RFC 9112 section 2.2).
        (b"\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", "Malformed HTTP request line", 400),
        (b"\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "Malformed HTTP request line", 400),
        (b"\n\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", "Malformed HTTP request line", 400),
    ],
)
def test_parse_request_head_rejects(head, message, status):
    with pytest.raises(HTTPInputError, match=message) as info:
        _parse_request_head(head)
    assert _error_status(info.value) == status


def test_parse_response_head():
    line, headers = _parse_response_head(b"HTTP/1.1 404 Not Found\r\nA: b\r\n\r\n")
    assert line == ResponseStartLine("HTTP/1.1", 404, "Not Found")
    assert headers["a"] == "b"
    with pytest.raises(HTTPInputError):
        _parse_response_head(b"HTTP/1.1 200\r\n\r\n")


def test_parse_response_head_rejects_status_below_100():
    # RFC 9110 section 15: valid status codes are 100 to 599.
    with pytest.raises(HTTPInputError, match="Invalid status code 99"):
        _parse_response_head(b"HTTP/1.1 099 Odd\r\n\r\n")
    assert _parse_response_head(b"HTTP/1.1 600 Odd\r\n\r\n")[0].code == 600


def test_chunked_decoder_unfolds_response_trailers():
    # RFC 9112 section 5.2: obs-fold is rejected in a request (trailer
    # included) and unfolded by a user agent.
    data = b"1\r\nx\r\n0\r\nA: b\r\n c\r\n\r\n"
    with pytest.raises(HTTPInputError, match="folding"):
        _ChunkedDecoder(100).feed(data)
    decoder = _ChunkedDecoder(100, in_response=True)
    assert decoder.feed(data) == [b"x"] and decoder.done
    # Still no fold before the first trailer field, nor controls in one.
    for bad in [b"0\r\n c\r\n\r\n", b"0\r\nA: b\r\n c\x00\r\n\r\n"]:
        with pytest.raises(HTTPInputError):
            _ChunkedDecoder(100, in_response=True).feed(bad)


def test_parse_response_head_unfolds_obs_fold():
    # RFC 9112 section 5.2: a user agent MUST replace each obs-fold in a
    # response with SP before interpreting the value (a server rejects it
    # in a request).
    _, headers = _parse_response_head(
        b"HTTP/1.1 200 OK\r\nX-Xss-Protection: 1; \r\n\tmode=block\r\nA:\r\n  b\r\n   c\nZ: z\r\n\r\n"
    )
    assert headers["X-Xss-Protection"] == "1; mode=block"
    assert headers["A"] == "b c" and headers["Z"] == "z"
    # Whitespace before the first field line is no fold (section 2.2): an
    # error.
    with pytest.raises(HTTPInputError, match="folding"):
        _parse_response_head(b"HTTP/1.1 200 OK\r\n X: y\r\n\r\n")
    # A fold is still invalid where it hides a bare CR or a control.
    with pytest.raises(HTTPInputError):
        _parse_response_head(b"HTTP/1.1 200 OK\r\nX: a\r\n b\rc\r\n\r\n")


# --- framing ------------------------------------------------------------------


def h(**fields):
    return HTTPHeaders({k.replace("_", "-"): v for k, v in fields.items()})


@pytest.mark.parametrize(
    "headers, framing",
    [
        (h(), (_NO_BODY, 0)),
        (h(Content_Length="0"), (_NO_BODY, 0)),
        (h(Content_Length="10"), (_FIXED_BODY, 10)),
        (h(Content_Length="10, 10,10"), (_FIXED_BODY, 10)),
        (h(Transfer_Encoding="chunked"), (_CHUNKED_BODY, 0)),
    ],
)
def test_request_framing(headers, framing):
    assert _request_framing(headers) == framing


@pytest.mark.parametrize(
    "headers, message",
    [
        (h(Content_Length="+1"), "Only integer Content-Length"),
        (h(Content_Length="1_0"), "Only integer Content-Length"),
        (h(Content_Length="2\xa0"), "Only integer Content-Length"),
        (h(Content_Length="-1"), "Only integer Content-Length"),
        (h(Content_Length="5,\xa05"), "Multiple unequal Content-Lengths"),
        (h(Content_Length="5,6"), "Multiple unequal Content-Lengths"),
        (h(Content_Length="9" * 5000), "Only integer Content-Length"),
        (h(Transfer_Encoding="gzip, chunked"), "Unsupported Transfer-Encoding"),
        (h(Transfer_Encoding="chunked", Content_Length="2"), "both"),
    ],
)
def test_request_framing_rejects(headers, message):
    with pytest.raises(HTTPInputError, match=message):
        _request_framing(headers)


def test_check_body_size():
    _check_body_size((_FIXED_BODY, 100), 100)
    _check_body_size((_CHUNKED_BODY, 0), 0)
    with pytest.raises(HTTPInputError, match="Content-Length too long"):
        _check_body_size((_FIXED_BODY, 101), 100)


def test_request_framing_repeated_fields():
    headers = HTTPHeaders.parse("Transfer-Encoding: chunked\r\nTransfer-encoding: chunked\r\n")
    with pytest.raises(HTTPInputError, match="Unsupported Transfer-Encoding chunked,chunked"):
        _request_framing(headers)
    headers = HTTPHeaders.parse("Content-Length: 3\r\nContent-Length: 4\r\n")
    with pytest.raises(HTTPInputError, match="unequal"):
        _request_framing(headers)


def test_response_framing():
    assert _response_framing(200, h(Content_Length="5"), "HEAD") == (_NO_BODY, 0)
    assert _response_framing(304, h(Content_Length="5"), "GET") == (_NO_BODY, 0)
    assert _response_framing(100, h(), "GET") == (_NO_BODY, 0)
    assert _response_framing(204, h(Content_Length="0"), "GET") == (_NO_BODY, 0)
    assert _response_framing(200, h(), "GET") == (_BODY_UNTIL_CLOSE, 0)
    assert _response_framing(200, h(Content_Length="5"), "GET") == (_FIXED_BODY, 5)
    assert _response_framing(200, h(Transfer_Encoding="chunked"), None) == (_CHUNKED_BODY, 0)
    with pytest.raises(HTTPInputError, match="204 should not have body"):
        _response_framing(204, h(Content_Length="5"), "GET")


def test_request_keeps_alive():
    get11 = RequestStartLine("GET", "/", "HTTP/1.1")
    get10 = RequestStartLine("GET", "/", "HTTP/1.0")
    assert _request_keeps_alive(get11, h(), False)
    assert not _request_keeps_alive(get11, h(Connection="Upgrade, Close"), False)
    assert not _request_keeps_alive(get11, h(), True)
    assert not _request_keeps_alive(get10, h(), False)
    assert _request_keeps_alive(get10, h(Connection="Keep-Alive"), False)


# --- the chunked decoder, fed three ways ----------------------------------------

CHUNKED_CASES = [
    (b"0\r\n\r\n", b""),
    (b"3\r\nabc\r\n0\r\n\r\n", b"abc"),
    (b"A\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n", b"0123456789x"),
    # Extensions are ignored (RFC 9112 section 7.1.1).
    (b'2 ; a=b;c ;d="x;\\"y"\r\nok\r\n0;last\r\n\r\n', b"ok"),
    # Trailer fields are checked and dropped (section 7.1.2).
    (b"2\r\nok\r\n0\r\nX-Checksum: 1\r\nY: 2\r\n\r\n", b"ok"),
    (b"0002\r\nok\r\n000\r\n\r\n", b"ok"),
]

NEXT_REQUEST = b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"


def feed_all(data: bytes, max_body: int = 1000):
    decoder = _ChunkedDecoder(max_body)
    body = b"".join(decoder.feed(data))
    return decoder, body


def feed_bytewise(data: bytes, max_body: int = 1000):
    decoder = _ChunkedDecoder(max_body)
    body = b""
    for i in range(len(data)):
        body += b"".join(decoder.feed(data[i : i + 1]))
        if decoder.done:
            decoder.trailing += data[i + 1 :]
            break
    return decoder, body


def feed_as_reader(data: bytes, max_body: int = 1000):
    """Feed the way HTTP1Connection does: ask for what `wants` says (a
    CRLF-terminated line or a number of bytes, up to 7 at a time) from a
    buffer, so nothing past the body may be consumed."""
    decoder = _ChunkedDecoder(max_body)
    pos = 0
    body = b""
    while not decoder.done:
        is_line, n = decoder.wants()
        if is_line:
            end = data.index(b"\r\n", pos) + 2
            assert end - pos <= n
        else:
            end = pos + min(n, 7)
        body += b"".join(decoder.feed(data[pos:end]))
        pos = end
    decoder.trailing = data[pos:]
    return decoder, body


@pytest.mark.parametrize("feed", [feed_all, feed_bytewise, feed_as_reader])
@pytest.mark.parametrize("data, expected", CHUNKED_CASES)
def test_chunked_decoder(feed, data, expected):
    decoder, body = feed(data)
    assert decoder.done and body == expected and decoder.trailing == b""
    decoder, body = feed(data + NEXT_REQUEST)
    assert decoder.done and body == expected and decoder.trailing == NEXT_REQUEST


@pytest.mark.parametrize("feed", [feed_all, feed_bytewise])
@pytest.mark.parametrize(
    "data, message",
    [
        (b"1_a\r\n", "invalid chunk size"),
        (b"0x2\r\nok\r\n0\r\n\r\n", "invalid chunk size"),
        (b"+2\r\nok\r\n0\r\n\r\n", "invalid chunk size"),
        (b" 2\r\nok\r\n0\r\n\r\n", "invalid chunk size"),
        (b"2\nok\r\n0\r\n\r\n", "invalid chunk size"),  # bare LF
        (b"2\r\r\nok\r\n", "invalid chunk size"),
        (b"2;\r\nok\r\n", "invalid chunk size"),
        (b"3\r\nfooXX0\r\n\r\n", "improperly terminated chunk"),
        (b"2\r\nok\n0\r\n\r\n", "improperly terminated chunk"),
        (b"3e9\r\n", "chunked body too large"),
        (b"1" * 2000 + b"\r\n", "line too long|invalid chunk size"),
        (b"0\r\nbad trailer\r\n\r\n", "no colon"),
        (b"0\r\n folded: x\r\n\r\n", "folding"),
    ],
)
def test_chunked_decoder_rejects(feed, data, message):
    with pytest.raises(HTTPInputError, match=message):
        feed(data)


def test_chunked_decoder_counts_total_size():
    data = b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"
    assert feed_all(data, max_body=6)[1] == b"abcdef"
    with pytest.raises(HTTPInputError, match="too large"):
        feed_all(data, max_body=5)


def test_chunked_decoder_trailer_limit():
    decoder = _ChunkedDecoder(100, max_trailer_size=20)
    with pytest.raises(HTTPInputError, match="trailer"):
        decoder.feed(b"0\r\nX-A: 1234567890\r\nX-B: 1234567890\r\n\r\n")


# --- writing ----------------------------------------------------------------------


def test_format_head():
    headers = HTTPHeaders()
    headers.add("Set-Cookie", "a=1")
    headers.add("Set-Cookie", "b=2")
    headers["X-Bytes"] = b"\xe9"  # type: ignore[assignment]
    headers["X-Int"] = 5  # type: ignore[assignment]
    assert _format_head("HTTP/1.1 200 OK\r\n", headers) == (
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        b"X-Bytes: \xe9\r\nX-Int: 5\r\n\r\n"
    )


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\r", "\n"])
def test_format_head_refuses_line_breaks(value):
    headers = HTTPHeaders()
    headers["X"] = value
    with pytest.raises(ValueError, match="Illegal characters"):
        _format_head("HTTP/1.1 200 OK\r\n", headers)


def test_format_head_refuses_line_breaks_in_the_start_line():
    with pytest.raises(ValueError, match="Illegal characters"):
        _format_head("GET /a\r\nX: 1 HTTP/1.1\r\n", HTTPHeaders())


def test_status_line_is_cached_and_safe():
    assert _status_line(200, "OK") == "HTTP/1.1 200 OK\r\n"
    assert _status_line(200, "OK") is _status_line(200, "OK")
    assert _status_line(404, None) == "HTTP/1.1 404 Not Found\r\n"
    assert _status_line(200, "OK\r\nX-Injection: 1") == "HTTP/1.1 200 OK\r\n"


def test_status_reason_and_chunks():
    assert _status_reason(200, "Fine") == "Fine"
    assert _status_reason(200, "OK\r\nX-Injection: 1") == "OK"
    assert _status_reason(599, "") == "Unknown"
    assert _format_chunk(b"x" * 26) == b"1a\r\n" + b"x" * 26 + b"\r\n"


# --- HTTP1Connection as a client, against a raw server -----------------------------


class Collector(HTTPMessageDelegate):
    def __init__(self):
        self.heads = []
        self.chunks = []
        self.events = []

    def headers_received(self, start_line, headers):
        self.heads.append((start_line, headers))

    def data_received(self, chunk):
        self.chunks.append(chunk)

    def finish(self):
        self.events.append("finish")

    def on_connection_close(self):
        self.events.append("close")

    @property
    def body(self):
        return b"".join(self.chunks)


class ClientConnectionTest(AsyncTestCase):
    """HTTP1Connection(is_client=True) reading what a raw server sends."""

    def setUp(self):
        super().setUp()
        [listener] = bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
        self.port = listener.getsockname()[1]
        self.accepted = []

        def on_accept(conn, addr):
            self.accepted.append(IOStream(conn))

        self.remove_accept = add_accept_handler(listener, on_accept)
        self.listener = listener

    def tearDown(self):
        self.remove_accept()
        self.listener.close()
        for stream in self.accepted:
            stream.close()
        super().tearDown()

    async def connect(self) -> tuple:
        """A client stream connected to the raw server, and the server's side of it."""
        seen = len(self.accepted)
        client = IOStream(socket.socket())
        self.addCleanup(client.close)
        await client.connect(("127.0.0.1", self.port))
        while len(self.accepted) == seen:
            await gen.sleep(0.001)
        return client, self.accepted[-1]

    async def exchange(self, response: bytes, close: bool = True, params=None, method="GET"):
        """Send a request, have the server answer ``response`` (and close),
        and read it with a fresh client connection."""
        client, server = await self.connect()
        conn = HTTP1Connection(client, True, params)
        conn.write_headers(RequestStartLine(method, "/", "HTTP/1.1"), HTTPHeaders({"Host": "h"}))
        conn.finish()
        request = await server.read_until(b"\r\n\r\n")
        assert request.startswith(method.encode() + b" / HTTP/1.1\r\nHost: h\r\n")
        await server.write(response)
        if close:
            server.close()
        delegate = Collector()
        result = await conn.read_response(delegate)
        return result, delegate, conn

    @gen_test
    async def test_fixed_body(self):
        result, d, _ = await self.exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", close=False)
        assert result is True
        assert d.heads[0][0] == ResponseStartLine("HTTP/1.1", 200, "OK")
        assert d.body == b"hello" and d.events == ["finish"]

    @gen_test
    async def test_chunked_body_and_trailers(self):
        result, d, _ = await self.exchange(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nTrailer: x\r\n\r\n",
            close=False,
        )
        assert result is True and d.body == b"hello!" and d.events == ["finish"]

    @gen_test
    async def test_body_until_close(self):
        result, d, _ = await self.exchange(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 100000)
        assert d.body == b"x" * 100000 and d.events == ["finish"]

    @gen_test
    async def test_body_until_close_limit(self):
        params = HTTP1ConnectionParameters(max_body_size=1000)
        with ExpectLog(gen_log, "Malformed HTTP message from None: Body too long", level=20):
            result, d, _ = await self.exchange(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 5000, params=params)
        assert result is False and d.events == ["close"]

    @gen_test
    async def test_head_response_has_no_body(self):
        result, d, _ = await self.exchange(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", close=False, method="HEAD"
        )
        assert result is True and d.body == b"" and d.events == ["finish"]

    @gen_test
    async def test_interim_responses(self):
        result, d, _ = await self.exchange(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        )
        assert [head[0].code for head in d.heads] == [100, 103, 200]
        assert d.body == b"ok" and d.events == ["finish"]

    @gen_test
    async def test_too_many_interim_responses(self):
        with ExpectLog(gen_log, ".*Too many 1xx responses", level=20):
            result, d, _ = await self.exchange(
                b"HTTP/1.1 100 Continue\r\n\r\n" * (_MAX_1XX_RESPONSES + 1)
                + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            )
        assert result is False

    @gen_test
    async def test_gzip_response_decoded(self):
        body = gzip.compress(b"a" * 200000) + gzip.compress(b"b")
        params = HTTP1ConnectionParameters(decompress=True, chunk_size=4096)
        result, d, _ = await self.exchange(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
            params=params,
        )
        headers = d.heads[0][1]
        assert "Content-Encoding" not in headers
        assert headers["X-Consumed-Content-Encoding"] == "gzip"
        assert d.body == b"a" * 200000 + b"b"
        assert max(len(c) for c in d.chunks) <= 4096

    @gen_test
    async def test_gzip_bomb_refused(self):
        body = gzip.compress(b"\0" * 1000000)
        params = HTTP1ConnectionParameters(decompress=True, max_body_size=100000)
        with ExpectLog(gen_log, ".*decompressed body too large", level=20):
            result, d, _ = await self.exchange(
                b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
                params=params,
            )
        assert result is False and sum(map(len, d.chunks)) <= 100000

    @gen_test
    async def test_invalid_gzip(self):
        body = gzip.compress(b"data")[:-1]
        params = HTTP1ConnectionParameters(decompress=True)
        with ExpectLog(gen_log, ".*invalid gzip data", level=20):
            result, d, _ = await self.exchange(
                b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
                params=params,
            )
        assert result is False and d.events == ["close"]

    @gen_test
    async def test_malformed_responses(self):
        cases = [
            b"HTTP/1.1 200\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n",
            b"HTTP/1.1 100 Continue\r\nContent-Length: 1\r\n\r\nx",
        ]
        for response in cases:
            with ExpectLog(gen_log, "Malformed HTTP message from None", level=20):
                result, d, conn = await self.exchange(response)
            assert result is False, response
            assert conn.stream.closed()

    @gen_test
    async def test_closed_before_response(self):
        with pytest.raises(StreamClosedError):
            await self.exchange(b"")

    @gen_test
    async def test_delegate_error_is_logged_and_closes(self):
        class Failing(Collector):
            def data_received(self, chunk):
                raise ZeroDivisionError()

        client, server = await self.connect()
        await server.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
        conn = HTTP1Connection(client, True)
        delegate = Failing()
        with ExpectLog(app_log, "Uncaught exception"):
            assert await conn.read_response(delegate) is False
        assert delegate.events == ["close"] and client.closed()

    @gen_test
    async def test_request_body_written_chunked(self):
        client, server = await self.connect()
        conn = HTTP1Connection(client, True)
        conn.write_headers(RequestStartLine("POST", "/up", "HTTP/1.1"), HTTPHeaders({"Host": "h"}), b"ab")
        conn.write(b"")
        conn.write(b"cde")
        conn.finish()
        data = await server.read_until(b"0\r\n\r\n")
        assert data == (
            b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"
        )

    @gen_test
    async def test_request_chunked_even_if_headers_say_so(self):
        # Headers reused from an earlier request may already carry the
        # Transfer-Encoding we set: the body is still chunked.
        client, server = await self.connect()
        conn = HTTP1Connection(client, True)
        headers = HTTPHeaders({"Host": "h", "Transfer-Encoding": "chunked"})
        conn.write_headers(RequestStartLine("PUT", "/", "HTTP/1.1"), headers, b"abc")
        conn.finish()
        data = await server.read_until(b"0\r\n\r\n")
        assert data.endswith(b"\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        assert data.count(b"Transfer-Encoding") == 1

    async def slow_big_response(self, head: bytes, body_size: int) -> tuple:
        """A raw server thread sends ``head`` and ``body_size`` bytes (and
        closes) faster than a delegate that works on each piece reads them;
        returns the delegate's byte count and its LoopTurns."""
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)

        def serve():
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(head)
                piece = b"x" * (1024 * 1024)
                for _ in range(body_size // len(piece)):
                    conn.sendall(piece)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        turns = LoopTurns()

        class Slow(Collector):
            def data_received(self, chunk):
                self.chunks.append(len(chunk))
                turns.piece()
                time.sleep(0.001)

        sock = socket.create_connection(("127.0.0.1", listener.getsockname()[1]))
        # A large receive window, as on a fast network, so that the socket
        # holds more than one chunk.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        client = IOStream(sock)
        self.addCleanup(client.close)
        conn = HTTP1Connection(client, True, HTTP1ConnectionParameters(max_body_size=body_size))
        conn.write_headers(RequestStartLine("GET", "/", "HTTP/1.1"), HTTPHeaders({"Host": "h"}))
        conn.finish()
        delegate = Slow()
        await conn.read_response(delegate)
        assert delegate.events == ["finish"]
        return sum(delegate.chunks), turns

    @gen_test(timeout=30)
    async def test_body_until_close_gives_the_loop_turns(self):
        # Reads of an already filled socket complete without waiting; the
        # body loop must still let other callbacks run between pieces.
        size, turns = await self.slow_big_response(b"HTTP/1.0 200 OK\r\n\r\n", 8 << 20)
        assert size == 8 << 20 and turns.longest <= 1, turns.longest

    @gen_test(timeout=30)
    async def test_fixed_body_gives_the_loop_turns(self):
        size, turns = await self.slow_big_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (8 << 20), 8 << 20
        )
        assert size == 8 << 20 and turns.longest <= 1, turns.longest

    async def nodelay_calls(self, body_pieces) -> list:
        """Write a request (head, then each body piece) and finish; return
        the set_nodelay calls made until the exchange is over."""
        client = IOStream(socket.socket())
        self.addCleanup(client.close)
        await client.connect(("127.0.0.1", self.port))
        calls = []
        set_nodelay = client.set_nodelay
        client.set_nodelay = lambda value: (calls.append(value), set_nodelay(value))  # type: ignore[method-assign]
        conn = HTTP1Connection(client, True)
        headers = HTTPHeaders({"Host": "h", "Content-Length": str(sum(map(len, body_pieces)))})
        conn.write_headers(RequestStartLine("POST", "/", "HTTP/1.1"), headers)
        for piece in body_pieces:
            conn.write(piece)
        conn.finish()
        await gen.sleep(0.01)
        return calls

    @gen_test
    async def test_request_in_one_write_leaves_nagle_alone(self):
        # The whole request went to the kernel in one write: nothing can be
        # held back by Nagle's algorithm, so no setsockopt round trip.
        assert await self.nodelay_calls([]) == []

    @gen_test
    async def test_request_in_several_writes_turns_nagle_off_to_finish(self):
        assert await self.nodelay_calls([b"abc", b"def"]) == [True, False]
