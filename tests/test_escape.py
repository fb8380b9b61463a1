"""Tests for tornado.escape."""

import tracemalloc
import urllib.parse
from typing import Any, Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tornado.escape import _unquote_to_bytes, json_decode, json_encode, linkify
from tornado.escape import native_str, parse_qs_bytes, recursive_unicode, squeeze
from tornado.escape import to_basestring, to_unicode, url_escape, url_unescape, utf8
from tornado.escape import xhtml_escape, xhtml_unescape


def test_utf8_and_to_unicode() -> None:
    assert utf8("\u00e9") == b"\xc3\xa9"
    assert utf8(b"\xe9") == b"\xe9"
    assert utf8(None) is None
    assert to_unicode(b"\xc3\xa9") == "\u00e9"
    assert to_unicode("x") == "x"
    assert to_unicode(None) is None
    with pytest.raises(TypeError):
        utf8(5)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        to_unicode(5)  # type: ignore[call-overload]
    with pytest.raises(UnicodeDecodeError):
        to_unicode(b"\xff")
    assert native_str is to_unicode and to_basestring is to_unicode


def test_recursive_unicode() -> None:
    assert recursive_unicode({b"k": [b"v", (b"t", 1)]}) == {"k": ["v", ("t", 1)]}
    assert recursive_unicode(b"foo") == "foo"
    assert recursive_unicode(5) == 5


@pytest.mark.parametrize(
    "raw,escaped",
    [
        ("<foo>", "&lt;foo&gt;"),
        ("<>&\"'", "&lt;&gt;&amp;&quot;&#x27;"),
        ("&amp;", "&amp;amp;"),
        ("<\u00e9>", "&lt;\u00e9&gt;"),
        ("plain", "plain"),
    ],
)
def test_xhtml_escape(raw: str, escaped: str) -> None:
    assert xhtml_escape(raw) == escaped
    assert xhtml_escape(raw.encode()) == escaped
    assert xhtml_unescape(escaped) == raw


@pytest.mark.parametrize(
    "escaped,raw",
    [
        ("foo&#32;bar", "foo bar"),
        ("foo&#x20;bar", "foo bar"),
        ("foo&#X20;bar", "foo bar"),
        ("foo&#xabc;bar", "foo\u0abcbar"),
        ("foo&#xyz;bar", "foo&#xyz;bar"),
        ("foo&#;bar", "foo&#;bar"),
        ("foo&#x;bar", "foo&#x;bar"),
        ("&#99999999999999999999;", "&#99999999999999999999;"),
        ("&#x110000;", "&#x110000;"),
        ("&eacute;&nosuch;&amp", "\u00e9&nosuch;&amp"),
    ],
)
def test_xhtml_unescape(escaped: str, raw: str) -> None:
    assert xhtml_unescape(escaped) == raw


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_xhtml_round_trip(s: str) -> None:
    escaped = xhtml_escape(s)
    for c in "<>\"'":
        assert c not in escaped
    assert xhtml_unescape(escaped) == s


def test_json() -> None:
    assert json_decode(b'"\xc3\xa9"') == "\u00e9"
    assert json_decode('"foo"') == "foo"
    assert json_encode("</script>") == '"<\\/script>"'
    assert json_decode(json_encode({"a": ["</", 1]})) == {"a": ["</", 1]}


def test_json_encode_matches_json_dumps() -> None:
    import json

    values = [
        {"message": "Hello", "id": 1, "ok": True, "none": None, "ratio": 0.75},
        {"nested": {"list": [1, 2.5, "é", "\u2028"]}, "tuple": (1, 2)},
        {1: "int key", 2.5: "float key", None: "null key", False: "bool key"},
        [float("nan"), float("inf")],
        "plain",
        12345,
    ]
    for value in values:
        assert json_encode(value) == json.dumps(value)


def test_json_encode_errors_are_those_of_json_dumps() -> None:
    import pytest

    circular: dict = {}
    circular["self"] = [circular]
    with pytest.raises(ValueError, match="Circular reference"):
        json_encode(circular)
    with pytest.raises(TypeError, match="not JSON serializable"):
        json_encode({"x": object()})
    deep: list = []
    for _ in range(100000):
        deep = [deep]
    with pytest.raises(RecursionError):
        json_encode(deep)
    # Nothing is left behind by a failed call.
    assert json_encode({"a": [1]}) == '{"a": [1]}'


def test_squeeze() -> None:
    assert squeeze("  a  \t\n b   c ") == "a b c"


def test_url_escape() -> None:
    assert url_escape("+ #%/") == "%2B+%23%25%2F"
    assert url_escape("+ #%/", plus=False) == "%2B%20%23%25/"
    assert url_escape("\u00e9") == "%C3%A9"
    assert url_escape("\u00e9".encode("latin1")) == "%E9"


def test_url_unescape() -> None:
    assert url_unescape("%2B+%23%25") == "+ #%"
    assert url_unescape("%2B%20%23%25+", plus=False) == "+ #%+"
    assert url_unescape(b"%C3%A9") == "\u00e9"
    assert url_unescape("%C3%A9", "latin1") == "\u00c3\u00a9"
    assert url_unescape("%C3%A9", None) == b"\xc3\xa9"
    assert url_unescape("a+b", None) == b"a b"
    # Undecodable bytes are replaced rather than raising.
    assert url_unescape("%FF") == "\ufffd"
    # Non-ASCII text is kept as it is.
    assert url_unescape("\u00e9%20x") == "\u00e9 x"


@settings(max_examples=300, deadline=None)
@given(st.text(), st.booleans())
def test_url_round_trip(s: str, plus: bool) -> None:
    escaped = url_escape(s, plus=plus)
    assert escaped.isascii()
    assert url_unescape(escaped, plus=plus) == s


@settings(max_examples=300, deadline=None)
@given(st.binary(), st.booleans())
def test_url_bytes_round_trip(b: bytes, plus: bool) -> None:
    assert url_unescape(url_escape(b, plus=plus), None, plus=plus) == b


# Inputs that stress the percent-decoder: broken or truncated escapes, a "%"
# before CR/LF, escapes around "=", and every byte value at once.
UNQUOTE_CASES = [b"", b"k=v", b"%7e%7E%2f%25", b"%%7e", b"%%%", b"%gg%7", b"%", b"x%"]
UNQUOTE_CASES += [b"%\r\ny", b"%\ry\nz", b"%\n", b"=%7e=", b"==%2F=", b"q \r\n%20\t"]
UNQUOTE_CASES.append(bytes(range(256)))


@pytest.mark.parametrize("data", UNQUOTE_CASES)
def test_unquote_to_bytes(data: bytes) -> None:
    assert _unquote_to_bytes(data) == urllib.parse.unquote_to_bytes(data)


def test_unquote_to_bytes_across_slice_boundaries() -> None:
    # Long inputs with invalid escapes are processed in slices; escapes that
    # straddle a slice boundary must still decode.
    for shift in range(4):
        data = b"x" * (8192 - shift) + b"%41%4" + b"%" * 3 + b"%42" * 5000
        assert _unquote_to_bytes(data) == urllib.parse.unquote_to_bytes(data)


qs_pieces = st.sampled_from(
    [b"%", b"=", b"&", b"+", b"a", b"2", b"3", b"D", b"d", b"f", b"g", b"\r", b"\n"]
    + [b" ", b"\x00", b"\xff", b"%41", b"%3d", b"%25", b"%e9"]
)
qs_bytes = st.lists(qs_pieces, max_size=30).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(qs_bytes)
def test_unquote_to_bytes_matches_stdlib(b: bytes) -> None:
    assert _unquote_to_bytes(b) == urllib.parse.unquote_to_bytes(b)


def _stdlib_parse(qs: bytes, keep_blank: bool, strict: bool) -> Any:
    try:
        parsed = urllib.parse.parse_qs(
            qs.decode("latin1"), keep_blank, strict, encoding="latin1"
        )
    except ValueError:
        return "ValueError"
    return {k: [v.encode("latin1") for v in vs] for k, vs in parsed.items()}


@settings(max_examples=500, deadline=None)
@given(qs_bytes, st.booleans(), st.booleans())
def test_parse_qs_bytes_matches_stdlib(qs: bytes, keep_blank: bool, strict: bool) -> None:
    try:
        ours: Any = parse_qs_bytes(qs, keep_blank, strict)
    except ValueError:
        ours = "ValueError"
    assert ours == _stdlib_parse(qs, keep_blank, strict)


def test_parse_qs_bytes() -> None:
    assert parse_qs_bytes(b"a=1&b=%41+%2B&a=2&&c&d=", keep_blank_values=True) == {
        "a": [b"1", b"2"],
        "b": [b"A +"],
        "c": [b""],
        "d": [b""],
    }
    assert parse_qs_bytes("%E9=%E9") == {"\xe9": [b"\xe9"]}
    assert parse_qs_bytes(b"c&d=") == {}
    with pytest.raises(ValueError):
        parse_qs_bytes(b"a=1&&b=2", strict_parsing=True)
    with pytest.raises(ValueError):
        parse_qs_bytes(b"a=1&b=2", max_num_fields=1)
    assert parse_qs_bytes(b"a=1&b=2", max_num_fields=2) == {"a": [b"1"], "b": [b"2"]}
    assert parse_qs_bytes(b"", max_num_fields=0) == {}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1), st.text()), max_size=10))
def test_parse_qs_bytes_round_trip(pairs: List[Any]) -> None:
    qs = "&".join(f"{url_escape(k)}={url_escape(v)}" for k, v in pairs)
    expected: Dict[str, List[bytes]] = {}
    for k, v in pairs:
        expected.setdefault(k.encode().decode("latin1"), []).append(v.encode())
    assert parse_qs_bytes(qs, keep_blank_values=True) == expected


def _peak_ratio(func: Any, data: Any) -> float:
    tracemalloc.start()
    try:
        func(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / len(data)


@pytest.mark.parametrize("data", [b"%41" * 100_000, b"%" * 300_000, b"%a" * 150_000])
def test_unquote_memory_is_linear_and_small(data: bytes) -> None:
    assert _peak_ratio(lambda d: parse_qs_bytes(b"a=" + d), data) < 12


@pytest.mark.parametrize(
    "func,data",
    [
        (xhtml_escape, "<" * 60_000),
        (xhtml_unescape, "&a;" * 20_000),
        (linkify, "www.a " * 10_000),
        (url_escape, "\u00e9<" * 30_000),
    ],
)
def test_escape_memory_budget(func: Any, data: str) -> None:
    assert _peak_ratio(func, data) < 30


LINKIFY_CASES = [
    ("hello http://world.com/!", {}, 'hello <a href="http://world.com/">http://world.com/</a>!'),
    (
        "a http://x.com/q?a=1&b=2 b",
        {},
        'a <a href="http://x.com/q?a=1&amp;b=2">http://x.com/q?a=1&amp;b=2</a> b',
    ),
    (
        "http://url.com/w(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        {},
        '<a href="http://url.com/w">http://url.com/w</a>(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    ),
    (
        "(see http://foo.com/blah_(wikipedia))",
        {},
        '(see <a href="http://foo.com/blah_(wikipedia)">http://foo.com/blah_(wikipedia)</a>)',
    ),
    ("http://foo.com/x.", {}, '<a href="http://foo.com/x">http://foo.com/x</a>.'),
    (
        "<http://foo.com/>",
        {},
        '&lt;<a href="http://foo.com/">http://foo.com/</a>&gt;',
    ),
    ("rdar:/1234", {"permitted_protocols": ["rdar"]}, '<a href="rdar:/1234">rdar:/1234</a>'),
    ("javascript://alert(1)", {}, "javascript://alert(1)"),
    ("a www.x.com b", {}, 'a <a href="http://www.x.com">www.x.com</a> b'),
    ("a www.x.com b", {"require_protocol": True}, "a www.x.com b"),
    (
        "www.x.com",
        {"extra_params": ' rel="nofollow" '},
        '<a href="http://www.x.com" rel="nofollow">www.x.com</a>',
    ),
    (
        "www.x.com",
        {"extra_params": lambda href: 'data-h="%s"' % href},
        '<a href="http://www.x.com" data-h="http://www.x.com">www.x.com</a>',
    ),
    (
        "A http://reallylong.com/link/that/exceedsthelenglimit.html",
        {"shorten": True},
        'A <a href="http://reallylong.com/link/that/exceedsthelenglimit.html"'
        ' title="http://reallylong.com/link/that/exceedsthelenglimit.html">'
        "http://reallylong.com/link...</a>",
    ),
    (
        "A http://reallylongdomainnamethatwillbetoolong.com/hi!",
        {"shorten": True},
        'A <a href="http://reallylongdomainnamethatwillbetoolong.com/hi"'
        ' title="http://reallylongdomainnamethatwillbetoolong.com/hi">'
        "http://reallylongdomainnametha...</a>!",
    ),
    ("http://\u27a1.ws/\u4a39", {}, '<a href="http://\u27a1.ws/\u4a39">http://\u27a1.ws/\u4a39</a>'),
]


@pytest.mark.parametrize("text,kwargs,html", LINKIFY_CASES)
def test_linkify(text: str, kwargs: Dict[str, Any], html: str) -> None:
    assert linkify(text, **kwargs) == html


def test_linkify_bytes_input() -> None:
    assert linkify(b"<b> www.x.com") == '&lt;b&gt; <a href="http://www.x.com">www.x.com</a>'


def test_private_unicode_alias() -> None:
    # httpserver_test and older code import this name.
    from tornado.escape import _unicode

    assert _unicode is to_unicode
