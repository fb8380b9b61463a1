"""Tests for tornado.httputil: headers, start lines, body/cookie parsers.

Everything here is pure parsing, so inputs are fed as strings or bytes;
the header parser is fed whole, with either line ending, and with trailing
empty lines.
"""

import copy
import datetime
import pickle
import time
import warnings

import pytest

from tornado import httputil
from tornado.httputil import (
    HTTPFile,
    HTTPHeaders,
    HTTPInputError,
    HTTPServerRequest,
    ParseBodyConfig,
    ParseMultipartConfig,
    ParseUrlEncodedConfig,
    RequestStartLine,
    _ABNF,
    _error_status,
    _parse_header,
    encode_username_password,
    format_timestamp,
    parse_body_arguments,
    parse_cookie,
    parse_multipart_form_data,
    parse_request_start_line,
    parse_response_start_line,
    qs_to_qsl,
    set_parse_body_config,
    split_host_and_port,
    url_concat,
)


def test_doctests_pass():
    result = httputil.doctests().run(__import__("unittest").TestResult())
    assert result.testsRun > 10
    assert not result.failures and not result.errors


# --- HTTPHeaders -----------------------------------------------------------


def test_headers_case_insensitive_multi_values():
    h = HTTPHeaders()
    h.add("set-cookie", "a=1")
    h.add("SET-COOKIE", "b=2")
    h["content-type"] = "text/plain"
    assert list(h) == ["Set-Cookie", "Content-Type"]
    assert h["Set-Cookie"] == "a=1,b=2"
    assert h.get_list("set-COOKIE") == ["a=1", "b=2"]
    assert list(h.get_all()) == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Content-Type", "text/plain"),
    ]
    assert "content-TYPE" in h and "X-Missing" not in h
    assert h.get("x-missing") is None and h.get_list("x-missing") == []
    assert len(h) == 2


def test_headers_setitem_replaces_all_values_in_place():
    h = HTTPHeaders()
    h.add("A", "1")
    h.add("B", "2")
    h.add("A", "3")
    h["a"] = "4"
    assert list(h.get_all()) == [("A", "4"), ("B", "2")]


def test_headers_delete():
    h = HTTPHeaders()
    h.add("A", "1")
    h.add("A", "2")
    del h["a"]
    assert list(h.get_all()) == []
    with pytest.raises(KeyError):
        del h["a"]
    with pytest.raises(KeyError):
        h["a"]


def test_headers_name_normalization():
    h = HTTPHeaders()
    for name in ["x-FOO-bar", "www-authenticate", "ETAG", "x_y", "x1a"]:
        h[name] = "v"
    assert list(h) == ["X-Foo-Bar", "Www-Authenticate", "Etag", "X_y", "X1a"]


@pytest.mark.parametrize("name", ["", "a b", "a\tb", "a:b", "é", " a", "a\r", "a(b"])
def test_headers_add_rejects_invalid_names(name):
    with pytest.raises(HTTPInputError, match="Invalid header name"):
        HTTPHeaders().add(name, "v")


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\x00b", "a\x7fb", " lead", "trail\t", "\u0100"])
def test_headers_add_rejects_invalid_values(value):
    with pytest.raises(HTTPInputError, match="Invalid header value"):
        HTTPHeaders().add("X", value)


def test_headers_add_accepts_obs_text_and_inner_whitespace():
    h = HTTPHeaders()
    h.add("X", "a \t b\xe9\xff")
    h.add("Y", "")
    assert h["x"] == "a \t b\xe9\xff" and h["y"] == ""


def test_headers_add_utf8_text_when_not_bytes():
    h = HTTPHeaders()
    h.add("X", "测试", _chars_are_bytes=False)
    assert h["X"] == "测试"
    with pytest.raises(HTTPInputError):
        h.add("X", "a\rb", _chars_are_bytes=False)


HEADER_BLOCK = "Host: example.com\r\nAccept: */*\r\nX-A: 1\r\nx-a:2\r\n"
EXPECTED = [("Host", "example.com"), ("Accept", "*/*"), ("X-A", "1"), ("X-A", "2")]


@pytest.mark.parametrize(
    "text",
    [
        HEADER_BLOCK,
        HEADER_BLOCK.replace("\r\n", "\n"),
        HEADER_BLOCK + "\r\n",  # the empty line that ends a head
        HEADER_BLOCK + "\r\n\r\n",
        HEADER_BLOCK.rstrip("\r\n"),  # no final line ending
        "\r\n" + HEADER_BLOCK,
    ],
)
def test_headers_parse_variants(text):
    assert list(HTTPHeaders.parse(text).get_all()) == EXPECTED


def test_headers_parse_strips_only_sp_and_htab():
    h = HTTPHeaders.parse("A: \t x y \t\r\nB:\xa0z\xa0\r\nC:\r\n")
    assert h["A"] == "x y"
    assert h["B"] == "\xa0z\xa0"
    assert h["C"] == ""


@pytest.mark.parametrize(
    "text, message",
    [
        ("Foo: bar\r\n\tbaz\r\n", "folding"),
        ("Foo: bar\r\n baz\r\n", "folding"),
        ("no colon here\r\n", "no colon"),
        ("Foo : bar\r\n", "Invalid header name"),
        ("F(o): bar\r\n", "Invalid header name"),
        ("Foo: b\rar\r\n", "Invalid header value"),
        ("Foo: b\x00ar\r\n", "Invalid header value"),
        ("Foo: b\x1bar\r\n", "Invalid header value"),
        ("Fo\x00o: bar\r\n", "Invalid header name"),
        ("Foo: \u2028\r\n", "Invalid header value"),
    ],
)
def test_headers_parse_rejects(text, message):
    with pytest.raises(HTTPInputError, match=message):
        HTTPHeaders.parse(text)


def test_headers_parse_utf8_mode_allows_non_latin1():
    h = HTTPHeaders.parse("X: 测\u2028试\r\n", _chars_are_bytes=False)
    assert h["X"] == "测\u2028试"
    with pytest.raises(HTTPInputError):
        HTTPHeaders.parse("X: a\x00\r\n", _chars_are_bytes=False)


def test_headers_parse_line():
    h = HTTPHeaders()
    h.parse_line("A: 1\r\n")
    h.parse_line("a:2")
    assert h.get_list("A") == ["1", "2"]
    h.parse_line("\r\n")
    assert list(h.get_all()) == [("A", "1"), ("A", "2")]
    with pytest.raises(HTTPInputError, match="folding"):
        h.parse_line(" continuation")
    with pytest.raises(HTTPInputError, match="no colon"):
        h.parse_line("A")


def test_headers_str_round_trip():
    h = HTTPHeaders()
    h.add("A", "1")
    h.add("B", "x y")
    h.add("A", "2")
    assert str(h) == "A: 1\nA: 2\nB: x y\n"
    assert HTTPHeaders.parse(str(h)) == h
    assert list(HTTPHeaders.parse(str(h)).get_all()) == list(h.get_all())


def test_headers_copies_are_independent():
    h = HTTPHeaders()
    h.add("A", "1")
    for other in (h.copy(), copy.copy(h), copy.deepcopy(h), HTTPHeaders(h)):
        other.add("A", "2")
        other["B"] = "3"
        assert h.get_list("A") == ["1"] and "B" not in h
        assert other.get_list("A") == ["1", "2"]


def test_headers_pickle_and_constructor_forms():
    h = HTTPHeaders({"content-type": "text/html"}, x_a="1")
    assert list(h.get_all()) == [("Content-Type", "text/html"), ("X_a", "1")]
    assert HTTPHeaders([("A", "1"), ("B", "2")])["b"] == "2"
    h.add("Content-Type", "x")
    assert list(pickle.loads(pickle.dumps(h)).get_all()) == list(h.get_all())


def test_headers_setdefault_and_mapping_eq():
    h = HTTPHeaders()
    assert h.setdefault("A", "1") == "1"
    assert h.setdefault("a", "2") == "1"
    assert h == {"A": "1"}


def test_headers_many_values_of_one_name():
    # Adding stays cheap and the combined value is correct.
    h = HTTPHeaders.parse("X: a\r\n" * 5000)
    assert h.get_list("X") == ["a"] * 5000
    assert h["x"] == ",".join(["a"] * 5000)


# --- _ABNF ---------------------------------------------------------------


def test_abnf_patterns():
    assert _ABNF.token.fullmatch("GET") and not _ABNF.token.fullmatch("GE T")
    assert _ABNF.field_value.fullmatch("")
    assert _ABNF.field_value.fullmatch("a \tb")
    assert not _ABNF.field_value.fullmatch("a ")
    for target in ["/", "/a/b?c=d&e", "*", "example.com:443", "http://u@h:1/p?q", "/%2F"]:
        assert _ABNF.request_target.fullmatch(target), target
    for target in ["", "a b", "/a#frag", "/\\"]:
        assert not _ABNF.request_target.fullmatch(target), target
    for host in ["example.com", "example.com:80", "127.0.0.1:1", "[::1]:8888", ""]:
        assert _ABNF.host.fullmatch(host), host
    for host in ["a b", "a/b", "a@b", "[::1"]:
        assert not _ABNF.host.fullmatch(host), host
    assert _ABNF.reason_phrase.fullmatch("Not Found")
    assert not _ABNF.reason_phrase.fullmatch("OK\r\nX: y")


# --- start lines -------------------------------------------------------------


def test_parse_request_start_line():
    assert parse_request_start_line("GET /a?b HTTP/1.1") == ("GET", "/a?b", "HTTP/1.1")
    line = parse_request_start_line("OPTIONS * HTTP/1.0")
    assert line.method == "OPTIONS" and line.path == "*" and line.version == "HTTP/1.0"
    # Lenient target: raw UTF-8 (as Latin-1 text) and backslashes.
    assert parse_request_start_line("GET /\\x/\xc3\xa9 HTTP/1.1").path == "/\\x/\xc3\xa9"


@pytest.mark.parametrize(
    "line, status",
    [
        ("asdf", 400),
        ("GET /  HTTP/1.1", 400),
        ("GET  / HTTP/1.1", 400),
        ("GET / HTTP/1.1 ", 400),
        ("FOO,BAR / HTTP/1.1", 400),
        ("GET /a\x00 HTTP/1.1", 400),
        ("GET / HTTP/1.1\r", 400),
        ("GET / HTTP/11", 400),
        ("GET / http/1.1", 400),
        ("GET / HTTP/2.0", 505),
        ("GET / HTTP/0.9", 505),
    ],
)
def test_parse_request_start_line_rejects(line, status):
    with pytest.raises(HTTPInputError) as info:
        parse_request_start_line(line)
    assert _error_status(info.value) == status


def test_parse_response_start_line():
    assert parse_response_start_line("HTTP/1.1 200 OK") == ("HTTP/1.1", 200, "OK")
    assert parse_response_start_line("HTTP/1.0 404 Not Found").reason == "Not Found"
    assert parse_response_start_line("HTTP/1.1 204 ").reason == ""
    assert parse_response_start_line("HTTP/1.1 299  odd  ").reason == " odd  "
    for line in ["HTTP/1.1 200", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 200 O\rK", "SPDY/3 200 OK"]:
        with pytest.raises(HTTPInputError):
            parse_response_start_line(line)


# --- small helpers -----------------------------------------------------------


def test_url_concat():
    assert url_concat("http://h/p", None) == "http://h/p"
    assert url_concat("http://h/p?", [("a", "1")]) == "http://h/p?a=1"
    assert url_concat("http://h/p?x", {"a": "/"}) == "http://h/p?x=&a=%2F"
    assert url_concat("/p#f", (("a", "1"), ("a", "2"))) == "/p?a=1&a=2#f"
    with pytest.raises(TypeError):
        url_concat("/p", "a=1")  # type: ignore[arg-type]


def test_split_host_and_port_and_friends():
    assert split_host_and_port("h:80") == ("h", 80)
    assert split_host_and_port("h") == ("h", None)
    assert split_host_and_port("[::1]:1") == ("[::1]", 1)
    for netloc in ["[::1]", ":80", "h:", "h:8x", "a:b:c"]:
        assert split_host_and_port(netloc) == (netloc, None), netloc
    assert sorted(qs_to_qsl({"a": [1, 2]})) == [("a", 1), ("a", 2)]
    assert encode_username_password("ü", b"p:w") == b"\xc3\xbc:p:w"
    # RFC 7617 section 2.1: text is normalized to NFC first.
    assert encode_username_password("jose\u0301", "x") == b"jos\xc3\xa9:x"


def test_format_timestamp_inputs():
    ts = 1359312200.503611
    expected = "Sun, 27 Jan 2013 18:43:20 GMT"
    utc = datetime.timezone.utc
    for value in [
        ts,
        int(ts),
        time.gmtime(ts),
        tuple(time.gmtime(ts)),
        datetime.datetime.fromtimestamp(ts, utc),
        datetime.datetime.fromtimestamp(ts, utc).replace(tzinfo=None),
        datetime.datetime.fromtimestamp(ts, datetime.timezone(datetime.timedelta(hours=5))),
    ]:
        assert format_timestamp(value) == expected
    # The per-second cache must not leak between different seconds.
    assert format_timestamp(ts + 1) == "Sun, 27 Jan 2013 18:43:21 GMT"
    assert format_timestamp(-1) == "Wed, 31 Dec 1969 23:59:59 GMT"
    with pytest.raises(TypeError):
        format_timestamp("now")  # type: ignore[arg-type]


# --- cookies -----------------------------------------------------------------


@pytest.mark.parametrize(
    "header, expected",
    [
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1; a=2", {"a": "2"}),
        ("a=b=c", {"a": "b=c"}),
        ("nameless; a=1", {"": "nameless", "a": "1"}),
        ('a="x;y"', {"a": '"x', "": 'y"'}),
        (' ; ;  a = 1 ; ', {"a": "1"}),
        (r'a="\"q\" \101\\"', {"a": '"q" A\\'}),
        (r'a="\400"', {"a": "400"}),
        ('a="', {"a": '"'}),
        ("", {}),
    ],
)
def test_parse_cookie(header, expected):
    assert parse_cookie(header) == expected


def test_parse_cookie_long_escapes():
    value = parse_cookie('a="' + "\\\\" * 20000 + '"')["a"]
    assert value == "\\" * 20000


# --- body parsing ------------------------------------------------------------


def test_urlencoded_body():
    args: dict = {}
    files: dict = {}
    parse_body_arguments("application/x-www-form-urlencoded; charset=utf-8", b"a=1&b=%20&a=&c", args, files)
    assert args == {"a": [b"1", b""], "b": [b" "], "c": [b""]}
    assert files == {}


def test_urlencoded_body_limit():
    config = ParseBodyConfig(urlencoded=ParseUrlEncodedConfig(max_arguments=2))
    args: dict = {}
    parse_body_arguments("application/x-www-form-urlencoded", b"a=1&b=2", args, {}, config=config)
    with pytest.raises(HTTPInputError, match="Max number of fields exceeded"):
        parse_body_arguments("application/x-www-form-urlencoded", b"a=1&b=2&c", {}, {}, config=config)


def test_body_with_content_encoding_is_refused():
    with pytest.raises(HTTPInputError, match="Unsupported Content-Encoding: gzip"):
        parse_body_arguments(
            "application/x-www-form-urlencoded",
            b"a=1",
            {},
            {},
            HTTPHeaders({"Content-Encoding": "gzip"}),
        )


def test_other_content_types_are_ignored():
    args: dict = {}
    parse_body_arguments("application/json", b'{"a": 1}', args, {})
    assert args == {}


def test_multipart_needs_boundary():
    with pytest.raises(HTTPInputError, match="boundary"):
        parse_body_arguments("multipart/form-data; charset=x", b"", {}, {})


def multipart(*parts: bytes, boundary: bytes = b"XyZ", end: bytes = b"--\r\n") -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    return body + b"--" + boundary + end


FIELD = b'Content-Disposition: form-data; name="a"\r\n\r\nvalue\r\nwith lines'
FILE = (
    b'Content-Disposition: form-data; name="f"; filename="x;y \\"z\\".txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n\x00binary\xff"
)


def test_multipart_fields_and_files():
    args: dict = {}
    files: dict = {}
    parse_body_arguments(
        'multipart/form-data; boundary="XyZ"', multipart(FIELD, FILE, FIELD), args, files
    )
    assert args == {"a": [b"value\r\nwith lines", b"value\r\nwith lines"]}
    [f] = files["f"]
    assert isinstance(f, HTTPFile)
    assert (f.filename, f.body, f.content_type) == ('x;y "z".txt', b"\x00binary\xff", "text/plain")
    assert f["filename"] == f.filename


def test_multipart_endings_and_epilogue():
    for end in [b"--", b"--\r\n", b"--\r\nepilogue, ignored\r\n--XyZ\r\n"]:
        args: dict = {}
        parse_multipart_form_data(b"XyZ", multipart(FIELD, end=end), args, {})
        assert args == {"a": [b"value\r\nwith lines"]}


def test_multipart_first_delimiter_may_be_missing():
    body = FIELD + b"\r\n" + multipart(FIELD)
    args: dict = {}
    parse_multipart_form_data(b"XyZ", body, args, {})
    assert len(args["a"]) == 2


def test_multipart_empty_part_body_and_default_content_type():
    files: dict = {}
    body = b'--B\r\nContent-Disposition: form-data; name="f"; filename="e"\r\n\r\n--B--'
    parse_multipart_form_data(b"B", body, {}, files)
    assert files["f"][0].body == b""
    assert files["f"][0].content_type == "application/unknown"


def test_multipart_rfc5987_filename():
    files: dict = {}
    part = b"Content-Disposition: form-data; name=f; filename=plain.txt; filename*=UTF-8''%C3%A9t%C3%A9.txt\r\n\r\nx"
    parse_multipart_form_data(b"XyZ", multipart(part), {}, files)
    assert files["f"][0].filename == "été.txt"


@pytest.mark.parametrize(
    "body, message",
    [
        (multipart(b"no headers"), "missing headers"),
        (multipart(b"Content-Disposition: attachment; name=a\r\n\r\nx"), "Invalid multipart"),
        (multipart(b"Content-Disposition: form-data\r\n\r\nx"), "missing name"),
        (multipart(b'Content-Disposition: form-data; name="a\rb"\r\n\r\nx'), "Invalid header value"),
        (multipart(b"Content-Disposition: form-data; name=\xff\r\n\r\nx"), "UTF-8"),
        (multipart(FIELD)[:-6] + b"--XyZ--", "does not end with CRLF"),
        (multipart(FIELD)[:-8], "no final boundary"),
    ],
)
def test_multipart_malformed(body, message):
    args: dict = {}
    files: dict = {}
    with pytest.raises(HTTPInputError, match=message):
        parse_multipart_form_data(b"XyZ", body, args, files)


def test_multipart_failure_is_atomic():
    args: dict = {"kept": [b"1"]}
    body = multipart(FIELD, FILE, b"Content-Disposition: form-data\r\n\r\nx")
    with pytest.raises(HTTPInputError):
        parse_multipart_form_data(b"XyZ", body, args, {})
    assert args == {"kept": [b"1"]}


def test_multipart_limits():
    body = multipart(FIELD, FIELD, FIELD)
    parse_multipart_form_data(b"XyZ", body, {}, {}, config=ParseMultipartConfig(max_parts=3))
    with pytest.raises(HTTPInputError, match="too many parts"):
        parse_multipart_form_data(b"XyZ", body, {}, {}, config=ParseMultipartConfig(max_parts=2))
    with pytest.raises(HTTPInputError, match="header too large"):
        parse_multipart_form_data(
            b"XyZ", body, {}, {}, config=ParseMultipartConfig(max_part_header_size=20)
        )
    big = multipart(b"Content-Disposition: form-data; name=a; x=" + b"y" * 100 + b"\r\n\r\nv")
    with pytest.raises(HTTPInputError, match="header too large"):
        parse_multipart_form_data(b"XyZ", big, {}, {}, config=ParseMultipartConfig(max_part_header_size=50))
    with pytest.raises(HTTPInputError, match="disabled"):
        parse_multipart_form_data(b"XyZ", body, {}, {}, config=ParseMultipartConfig(enabled=False))


def test_set_parse_body_config_changes_defaults():
    saved = httputil._DEFAULT_PARSE_BODY_CONFIG
    try:
        set_parse_body_config(ParseBodyConfig(multipart=ParseMultipartConfig(max_parts=1)))
        with pytest.raises(HTTPInputError, match="too many parts"):
            parse_body_arguments("multipart/form-data; boundary=XyZ", multipart(FIELD, FIELD), {}, {})
    finally:
        set_parse_body_config(saved)
    assert ParseBodyConfig() == saved and "max_parts=100" in repr(ParseBodyConfig())


@pytest.mark.parametrize(
    "header, expected",
    [
        ("form-data", ("form-data", {})),
        ('form-data; name="a;b"; filename=c', ("form-data", {"name": "a;b", "filename": "c"})),
        ('x; NAME = "q\\"\\\\" ; junk', ("x", {"name": 'q"\\'})),
        ('x; a="unterminated', ("x", {"a": '"unterminated'})),
        ("x; a*=bogus; a=plain", ("x", {"a": "plain"})),
        ("x;;;a=1;", ("x", {"a": "1"})),
        ('x; p="C:\\dir\\f.txt"', ("x", {"p": "C:\\dir\\f.txt"})),
    ],
)
def test_parse_header(header, expected):
    assert _parse_header(header) == expected


# --- HTTPServerRequest -------------------------------------------------------


def test_server_request_from_start_line():
    headers = HTTPHeaders({"Host": "Example.COM:8080", "Cookie": "a=1; b=2"})
    req = HTTPServerRequest(
        start_line=RequestStartLine("GET", "/p/q?x=1&x=2&y=", "HTTP/1.1"), headers=headers
    )
    assert (req.method, req.uri, req.version) == ("GET", "/p/q?x=1&x=2&y=", "HTTP/1.1")
    assert (req.path, req.query) == ("/p/q", "x=1&x=2&y=")
    assert req.arguments == {"x": [b"1", b"2"], "y": [b""]}
    assert req.query_arguments == req.arguments
    assert req.query_arguments["x"] is not req.arguments["x"]
    assert req.body == b"" and req.body_arguments == {} and req.files == {}
    assert req.host == "Example.COM:8080" and req.host_name == "example.com"
    assert req.protocol == "http" and req.remote_ip is None
    assert req.full_url() == "http://Example.COM:8080/p/q?x=1&x=2&y="
    assert {k: m.value for k, m in req.cookies.items()} == {"a": "1", "b": "2"}
    assert req.request_time() >= 0
    assert "Cookie" not in repr(req) and "method='GET'" in repr(req)
    assert req.get_ssl_certificate() is None


def test_server_request_defaults_and_deprecated_arguments():
    req = HTTPServerRequest(start_line=RequestStartLine("GET", "/", "HTTP/1.0"))
    assert req.host == "127.0.0.1" and req.arguments == {}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        HTTPServerRequest(method="GET", uri="/")
    assert any(issubclass(x.category, DeprecationWarning) for x in w)


def test_server_request_query_argument_limit():
    n = ParseUrlEncodedConfig().max_arguments
    HTTPServerRequest(start_line=RequestStartLine("GET", "/?" + "&a" * (n - 1), "HTTP/1.1"))
    with pytest.raises(HTTPInputError, match="Max number of fields exceeded"):
        HTTPServerRequest(start_line=RequestStartLine("GET", "/?" + "&a" * n, "HTTP/1.1"))


def test_server_request_parse_body_merges_arguments():
    req = HTTPServerRequest(
        start_line=RequestStartLine("POST", "/?a=1", "HTTP/1.1"),
        headers=HTTPHeaders({"Content-Type": "application/x-www-form-urlencoded"}),
        body=b"a=2&b=3",
    )
    req._parse_body()
    assert req.arguments == {"a": [b"1", b"2"], "b": [b"3"]}
    assert req.body_arguments == {"a": [b"2"], "b": [b"3"]}
    assert req.query_arguments == {"a": [b"1"]}


def test_server_request_cookies_skip_names_simplecookie_refuses():
    req = HTTPServerRequest(
        start_line=RequestStartLine("GET", "/", "HTTP/1.1"),
        headers=HTTPHeaders({"Cookie": "ok=1; bad name=2; =3"}),
    )
    assert list(req.cookies) == ["ok"]


def test_from_canonical_takes_the_dict_over():
    fields = {"Content-Type": ["text/plain"], "Vary": ["Accept", "Cookie"]}
    h = HTTPHeaders._from_canonical(fields)
    assert h["content-type"] == "text/plain" and h.get_list("vary") == ["Accept", "Cookie"]
    h["X-A"] = "1"
    assert fields["X-A"] == ["1"]  # the same dict, not a copy

    class Sub(HTTPHeaders):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.extra = True

    parsed = Sub.parse("A: 1\r\nA: 2\r\n")
    assert type(parsed) is Sub and parsed.extra and parsed.get_list("a") == ["1", "2"]
