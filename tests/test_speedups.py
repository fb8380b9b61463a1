"""The C accelerator (tornado/speedups.c) against its pure-Python twins.

Every function of `tornado.speedups` has a twin in Python that is used when
the extension is not built or ``TORNADO_NO_EXTENSION`` is set; both are fed
the same inputs here, malformed ones included, and must give the same
result (or raise the same exception).  The tests that need the extension
skip where it was not built; CI runs the suite with and without it.
"""

import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tornado.util

try:
    from tornado import speedups as _speedups
except ImportError:  # pragma: no cover - depends on the build
    _speedups = None

needs_speedups = pytest.mark.skipif(_speedups is None, reason="tornado.speedups not built")
CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@needs_speedups
@given(st.binary(min_size=4, max_size=4), st.binary(max_size=2000))
def test_mask_matches_python(mask: bytes, data: bytes) -> None:
    assert _speedups.websocket_mask(mask, data) == tornado.util._websocket_mask_python(mask, data)


@needs_speedups
@pytest.mark.parametrize("mask", [b"", b"a", b"abc", b"abcde"])
def test_mask_rejects_wrong_length(mask: bytes) -> None:
    with pytest.raises(ValueError, match="4 bytes"):
        _speedups.websocket_mask(mask, b"payload")


@needs_speedups
@pytest.mark.skipif(bool(os.environ.get("TORNADO_NO_EXTENSION", "") not in ("", "0")),
                    reason="the pure-Python path is forced")
def test_websocket_code_uses_the_accelerator() -> None:
    assert tornado.util._websocket_mask is _speedups.websocket_mask


@pytest.mark.parametrize("value, pure", [("1", True), ("yes", True), ("0", False), ("", False)])
def test_environment_variable_forces_the_pure_path(value: str, pure: bool) -> None:
    code = ("import tornado.util as u; "
            "print(u._speedups is None, u._websocket_mask is u._websocket_mask_python)")
    env = dict(os.environ, TORNADO_NO_EXTENSION=value, PYTHONPATH=CHECKOUT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    if pure or _speedups is None:
        assert out == ["True", "True"]
    else:
        assert out == ["False", "False"]


# split_request_head: the fast path of request parsing ------------------------

from tornado.http1connection import _split_request_head_py  # noqa: E402

# Bytes that matter to the grammar, and some that are merely content.
_HEAD_ALPHABET = b"\t\r\n :;,/?=\"\\\x00\x01\x1f\x7f\x80\xa0\xffaAzZ09-_.~!|`^'*+#$%&()<>@[]{}"


def _pieces(min_size: int = 0) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=min_size, max_size=12) | st.lists(
        st.sampled_from(list(_HEAD_ALPHABET)), min_size=min_size, max_size=12
    ).map(bytes)


_EOL = st.sampled_from([b"\r\n", b"\n", b"\r", b"", b"\r\r\n", b"\n\r"])


@st.composite
def _request_heads(draw: st.DrawFn) -> bytes:
    """Heads that are mostly well-formed, with one thing wrong now and then."""
    method = draw(st.sampled_from([b"GET", b"POST", b"M-SEARCH", b"G\x80T", b"", b"GE T"])
                  | _pieces(1))
    target = draw(st.sampled_from([b"/", b"/a?b=c&d", b"*", b"http://h/p", b"/\xff\x80"])
                  | _pieces())
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.9", b"HTTP/2.0",
                                    b"HTTP/1.", b"http/1.1", b"HTTP/1.1 ", b""]))
    sep = draw(st.sampled_from([b" ", b"  ", b"\t"]))
    head = method + sep + target + b" " + version + draw(_EOL)
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            name = draw(st.sampled_from([b"Host", b"Content-Length", b"x-a", b"A B", b""])
                        | _pieces(1))
            colon = draw(st.sampled_from([b":", b": ", b" :", b":\t ", b""]))
            value = draw(st.sampled_from([b"x", b" a  b ", b"\t", b"v\x80\xff", b"a\x00b"])
                         | _pieces())
            head += name + colon + value
        head += draw(_EOL)
    return head + draw(st.sampled_from([b"\r\n", b"\n", b"", b"\r\n\r\n"]))


# Generating heads piece by piece is slow on a busy machine: no health
# check on the generation speed, and a bounded number of examples.
_HEAD_SETTINGS = settings(max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@needs_speedups
@_HEAD_SETTINGS
@given(_request_heads())
def test_split_request_head_matches_python(head: bytes) -> None:
    assert _speedups.split_request_head(head) == _split_request_head_py(head)


@needs_speedups
@_HEAD_SETTINGS
@given(st.binary(max_size=200))
def test_split_request_head_matches_python_on_any_bytes(data: bytes) -> None:
    assert _speedups.split_request_head(data) == _split_request_head_py(data)


@needs_speedups
@_HEAD_SETTINGS
@given(st.data())
def test_split_request_head_matches_python_after_one_change(data: st.DataObject) -> None:
    head = bytearray(b"GET /p?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n"
                     b"Accept:  text/html \t\r\nX-Long: a  b\tc\r\n\r\n")
    at = data.draw(st.integers(0, len(head) - 1))
    action = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    byte = data.draw(st.sampled_from(list(_HEAD_ALPHABET)) | st.integers(0, 255))
    if action == "replace":
        head[at] = byte
    elif action == "insert":
        head.insert(at, byte)
    else:
        del head[at]
    assert _speedups.split_request_head(bytes(head)) == _split_request_head_py(bytes(head))


@pytest.mark.parametrize(
    "head, expected",
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", ("GET", "/", "HTTP/1.1", [("Host", "x")])),
        (b"GET / HTTP/1.0\n\nA:b\n", ("GET", "/", "HTTP/1.0", [("A", "b")])),
        (b"PUT /\xe9 HTTP/1.1\r\nA: \t x \xff y \t\r\nA:\r\n",
         ("PUT", "/\xe9", "HTTP/1.1", [("A", "x \xff y"), ("A", "")])),
        (b"GET / HTTP/1.1\r\nHost: x\r\r\n\r\n", None),  # a bare CR
        (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", None),
        (b"GET / HTTP/1.1\r\nA: \x00\r\n\r\n", None),
        (b"\r\nGET / HTTP/1.1\r\n\r\n", None),  # the general path skips the empty line
        (b"GET / HTTP/2.0\r\n\r\n", None),
    ],
)
def test_split_request_head_examples(head: bytes, expected) -> None:
    assert _split_request_head_py(head) == expected
    if _speedups is not None:
        assert _speedups.split_request_head(head) == expected


# format_head: the response (and request) head formatter -----------------------

from tornado.http1connection import _format_head  # noqa: E402
from tornado.httputil import HTTPHeaders  # noqa: E402

_TEXT = st.text(alphabet=st.sampled_from(list("aZ0 :;-\t\r\n\x00\x7f\x80\xe9\xff\u0100\u20ac")),
                max_size=10)


def _python_head(first_line, fields):
    """What the Python formatter gives: bytes, or the exception it raises."""
    headers = HTTPHeaders()
    headers._as_list.update(fields)
    try:
        return _format_head(first_line, headers)
    except Exception as e:  # compared by type and message
        return (type(e), str(e))


@needs_speedups
@_HEAD_SETTINGS
@given(st.sampled_from(["HTTP/1.1 200 OK\r\n", "GET / HTTP/1.1\r\n", "X\n", ""]) | _TEXT,
       st.dictionaries(_TEXT, st.lists(_TEXT | st.binary(max_size=4) | st.integers(), max_size=3),
                       max_size=4))
def test_format_head_matches_python_or_defers(first_line, fields) -> None:
    fast = _speedups.format_head(first_line, fields)
    if fast is not None:
        assert fast == _python_head(first_line, fields)


@needs_speedups
def test_format_head_takes_the_usual_heads() -> None:
    fields = {"Content-Type": ["text/html; charset=UTF-8"], "Set-Cookie": ["a=1", "b=\xe9"],
              "Date": ["Thu, 01 Jan 1970 00:00:00 GMT"], "Empty": [""]}
    fast = _speedups.format_head("HTTP/1.1 200 OK\r\n", fields)
    assert fast is not None and fast == _python_head("HTTP/1.1 200 OK\r\n", fields)
    for unusual in ({"A": [b"bytes"]}, {"A": [5]}, {"A": ["x\r\ny: z"]}, {"A\n": ["x"]},
                    {"A": ["\u20ac"]}, {"A": ("tuple",)}):
        assert _speedups.format_head("HTTP/1.1 200 OK\r\n", unusual) is None
    assert _speedups.format_head("HTTP/1.1 200 OK", {}) is None
    assert _speedups.format_head("HTTP/1.1 200\rOK\r\n", {}) is None
