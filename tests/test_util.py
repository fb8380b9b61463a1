"""Tests for tornado.util."""

import datetime
import doctest
import gzip
import io
import random
import re
import sys
import unittest
import warnings
import zlib
from typing import Any, Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tornado.util
from tornado.util import (
    ArgReplacer,
    Configurable,
    GzipDecompressor,
    ObjectDict,
    _websocket_mask_python,
    errno_from_exception,
    exec_in,
    import_object,
    raise_exc_info,
    re_unescape,
    timedelta_to_seconds,
)

# -- GzipDecompressor ---------------------------------------------------------


def feed(chunks: List[bytes], max_length: int) -> bytes:
    """Drive a GzipDecompressor the way an HTTP connection does, checking
    the output bound and progress on every call."""
    decompressor = GzipDecompressor()
    out = []
    for data in chunks:
        while data:
            result = decompressor.decompress(data, max_length)
            assert len(result) <= max_length
            tail = decompressor.unconsumed_tail
            assert result or len(tail) < len(data), "no progress"
            out.append(result)
            data = tail
    assert decompressor.flush() == b""
    return b"".join(out)


def split_every(data: bytes, size: int) -> List[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


MEMBERS = [random.Random(1).randbytes(3000), b"", b"abc " * 1000, b"z"]


@pytest.mark.parametrize("read_size", [1, 5, 333, 100000])
@pytest.mark.parametrize("max_length", [1, 64, 4000, 1 << 20])
def test_gzip_multi_member(read_size: int, max_length: int) -> None:
    stream = b"".join(gzip.compress(m) for m in MEMBERS)
    assert feed(split_every(stream, read_size), max_length) == b"".join(MEMBERS)


def test_gzip_member_ending_exactly_at_max_length() -> None:
    first = random.Random(2).randbytes(777)
    stream = gzip.compress(first) + gzip.compress(b"next")
    for max_length in (777, 111, 7):
        assert feed([stream], max_length) == first + b"next"


def test_gzip_empty_stream_flushes_to_nothing() -> None:
    assert GzipDecompressor().flush() == b""


@pytest.mark.parametrize("trailer", [b"\0", b"\0" * 20, b"\n", b"junk", b"\x1f\x8b"])
def test_gzip_trailing_garbage_is_an_error(trailer: bytes) -> None:
    with pytest.raises(zlib.error):
        feed([gzip.compress(b"hello") + trailer], 1024)


def test_gzip_truncated_is_an_error() -> None:
    stream = gzip.compress(MEMBERS[0])
    for cut in (1, 10, len(stream) // 2, len(stream) - 1):
        with pytest.raises(zlib.error):
            feed([stream[:cut]], 1024)


@pytest.mark.parametrize("data", [b"<html>", zlib.compress(b"x"), b"\x1f\x8b\x09"])
def test_gzip_not_gzip(data: bytes) -> None:
    with pytest.raises(zlib.error):
        feed([data], 100)


def test_gzip_flush_refuses_to_expand_unconsumed_tail() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = compressor.compress(b"\0" * (4 << 20)) + compressor.flush()
    decompressor = GzipDecompressor()
    assert len(decompressor.decompress(bomb, 100)) == 100
    assert decompressor.unconsumed_tail
    with pytest.raises(ValueError):
        decompressor.flush()


def test_gzip_without_max_length_warns() -> None:
    decompressor = GzipDecompressor()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = decompressor.decompress(gzip.compress(b"a") + gzip.compress(b"b"))
    assert data == b"ab"
    assert [w.category for w in caught] == [DeprecationWarning]
    assert decompressor.flush() == b""


gzip_members = st.lists(
    st.tuples(st.binary(max_size=3000), st.integers(0, 9)), max_size=4
).map(lambda ms: [(d, gzip.compress(d, compresslevel=lvl, mtime=0)) for d, lvl in ms])


@settings(max_examples=200, deadline=None)
@given(gzip_members, st.integers(1, 4096), st.data())
def test_gzip_round_trip_property(members: Any, max_length: int, data: Any) -> None:
    stream = b"".join(c for _, c in members)
    points = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=5)))
    bounds = [0] + points + [len(stream)]
    chunks = [stream[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    assert feed(chunks, max_length) == b"".join(d for d, _ in members)


@settings(max_examples=200, deadline=None)
@given(st.binary(), st.integers(1, 4096))
def test_gzip_arbitrary_input_only_raises_zlib_error(data: bytes, max_length: int) -> None:
    try:
        feed([data], max_length)
    except zlib.error:
        pass


# -- websocket mask -------------------------------------------------------------


def test_websocket_mask_known_values() -> None:
    mask = b"\x01\x02\x03\x04"
    assert _websocket_mask_python(mask, b"") == b""
    assert _websocket_mask_python(mask, b"\x00" * 6) == b"\x01\x02\x03\x04\x01\x02"
    assert _websocket_mask_python(mask, b"\xff\xff\xff\xff") == b"\xfe\xfd\xfc\xfb"
    # Leading zero bytes of the result must survive the integer round trip.
    assert _websocket_mask_python(mask, b"\x01\x02") == b"\x00\x00"


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=4, max_size=4), st.binary(max_size=2000))
def test_websocket_mask_matches_bytewise_xor(mask: bytes, data: bytes) -> None:
    masked = _websocket_mask_python(mask, data)
    assert masked == bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    assert _websocket_mask_python(mask, masked) == data


@pytest.mark.parametrize("mask", [b"", b"a", b"abc", b"abcde"])
def test_websocket_mask_rejects_bad_mask_length(mask: bytes) -> None:
    with pytest.raises(ValueError, match="4 bytes"):
        _websocket_mask_python(mask, b"data")


def test_websocket_mask_accepts_bytearray_and_memoryview() -> None:
    data = bytearray(b"hello world")
    expected = _websocket_mask_python(b"abcd", bytes(data))
    assert _websocket_mask_python(b"abcd", data) == expected
    assert _websocket_mask_python(b"abcd", memoryview(bytes(data))) == expected


# -- Configurable ---------------------------------------------------------------


class Base(Configurable):
    @classmethod
    def configurable_base(cls):  # type: ignore[no-untyped-def]
        return Base

    @classmethod
    def configurable_default(cls):  # type: ignore[no-untyped-def]
        return ImplA


class ImplA(Base):
    def initialize(self, pos: Any = None, a: Any = None) -> None:
        self.pos = pos
        self.a = a


class ImplB(Base):
    def initialize(self, pos: Any = None, b: Any = None) -> None:
        self.pos = pos
        self.b = b


class ImplC(Base):
    """An implementation with an option beyond its initialize()'s
    parameters (see Configurable._extra_keywords)."""

    _extra_keywords = frozenset({"c"})

    def initialize(self, pos: Any = None) -> None:
        self.pos = pos
        self.c = "unset"

    def _take_extra_keywords(self, c: Any = None) -> None:
        self.c = (c, self.pos)


class Nested(Base):
    @classmethod
    def configurable_base(cls):  # type: ignore[no-untyped-def]
        return Nested

    @classmethod
    def configurable_default(cls):  # type: ignore[no-untyped-def]
        return NestedA


class NestedA(Nested):
    def initialize(self, a: Any = None) -> None:
        self.a = a


class NestedB(Nested):
    def initialize(self, b: Any = None) -> None:
        self.b = b


@pytest.fixture
def saved_configuration() -> Any:
    saved = Base._save_configuration()
    saved_nested = Nested._save_configuration()
    yield
    Base._restore_configuration(saved)
    Nested._restore_configuration(saved_nested)


def test_configurable_default(saved_configuration: Any) -> None:
    obj = Base(a=1)
    assert isinstance(obj, ImplA) and obj.a == 1
    assert Base.configured_class() is ImplA


def test_configurable_configure_class_and_kwargs(saved_configuration: Any) -> None:
    Base.configure(ImplB, b=5)
    obj = Base(42)
    assert isinstance(obj, ImplB)
    assert (obj.pos, obj.b) == (42, 5)
    # Arguments given at construction win over configured ones.
    assert Base(b=6).b == 6
    # Configured arguments do not apply to direct construction.
    assert ImplB().b is None
    assert isinstance(ImplA(), ImplA)


def test_configurable_configure_by_name(saved_configuration: Any) -> None:
    Base.configure(__name__ + ".ImplB")
    assert isinstance(Base(), ImplB)


def test_configurable_configure_none_keeps_default(saved_configuration: Any) -> None:
    Base.configure(None, a=3)
    obj = Base()
    assert isinstance(obj, ImplA) and obj.a == 3


def test_configurable_extra_keywords(saved_configuration: Any) -> None:
    # Given to the call: taken after initialize() ran, which never sees it.
    obj = ImplC(1, c=2)
    assert obj.c == (2, 1)
    assert ImplC(1).c == "unset"
    # Bound by configure(): the same.
    Base.configure(ImplC, c=3)
    assert Base(4).c == (3, 4)
    # Other implementations take no such keyword.
    with pytest.raises(TypeError):
        ImplA(c=1)


def test_configurable_rejects_non_subclass(saved_configuration: Any) -> None:
    with pytest.raises(ValueError):
        Base.configure(dict)  # type: ignore[arg-type]


def test_configurable_multi_level(saved_configuration: Any) -> None:
    Base.configure(Nested, a=1)
    obj = Base()
    assert isinstance(obj, NestedA) and obj.a == 1
    Base.configure(Nested)
    Nested.configure(NestedB, b=2)
    obj2 = Base()
    assert isinstance(obj2, NestedB) and obj2.b == 2


def test_configurable_inner_level_is_independent(saved_configuration: Any) -> None:
    assert isinstance(Nested(), NestedA)
    Nested.configure(NestedB)
    assert isinstance(Nested(), NestedB)
    # Configuring the outer base does not reconfigure the inner one.
    Base.configure(ImplB)
    assert isinstance(Base(), ImplB)
    assert isinstance(Nested(), NestedB)


def test_configurable_save_restore(saved_configuration: Any) -> None:
    saved = Base._save_configuration()
    Base.configure(ImplB, b=1)
    Base._restore_configuration(saved)
    assert isinstance(Base(), ImplA)


# -- small helpers -----------------------------------------------------------------


def test_object_dict() -> None:
    d = ObjectDict(a=1)
    assert d.a == 1
    d.b = 2
    assert d["b"] == 2
    with pytest.raises(AttributeError):
        d.missing
    assert isinstance(d, dict)


def test_import_object() -> None:
    import tornado.escape

    assert import_object("tornado.escape") is tornado.escape
    assert import_object("tornado.escape.utf8") is tornado.escape.utf8
    assert import_object("tornado") is tornado
    with pytest.raises(ImportError, match="No module named missing_module"):
        import_object("tornado.missing_module")


def test_exec_in_does_not_inherit_future_flags() -> None:
    code1 = (
        "from __future__ import annotations\n"
        "from tornado.util import exec_in\n"
        "exec_in(code2, globals())\n"
    )
    code2 = "def f(x: int) -> int: pass\noutput.append(f.__annotations__)\n"
    output: List[Any] = []
    exec_in(code1, {"code2": code2, "output": output})
    assert output == [{"x": int, "return": int}]


def test_exec_in_with_locals() -> None:
    glob: Dict[str, Any] = {}
    loc: Dict[str, Any] = {}
    exec_in("y = 5", glob, loc)
    assert loc == {"y": 5} and "y" not in glob


def test_raise_exc_info_reraises_same_object() -> None:
    class TwoArgs(Exception):
        def __init__(self, a: int, b: int) -> None:
            super().__init__()
            self.a, self.b = a, b

    try:
        raise TwoArgs(1, 2)
    except TwoArgs:
        exc_info = sys.exc_info()
    with pytest.raises(TwoArgs) as caught:
        raise_exc_info(exc_info)
    assert caught.value is exc_info[1]


def test_errno_from_exception() -> None:
    assert errno_from_exception(OSError(32, "broken pipe")) == 32
    assert errno_from_exception(Exception(7)) == 7
    assert errno_from_exception(Exception()) is None


def test_re_unescape() -> None:
    for s in ("/favicon.ico", "index.html", "Hello, World!", "!$@#%;", "a\nb c"):
        assert re_unescape(re.escape(s)) == s
    for bad in ("\\d", "\\b", "\\Z"):
        with pytest.raises(ValueError):
            re_unescape(bad)


def test_timedelta_to_seconds() -> None:
    assert timedelta_to_seconds(datetime.timedelta(hours=1, milliseconds=5)) == 3600.005


def test_arg_replacer() -> None:
    def function(x: Any, y: Any, callback: Any = None, z: Any = None) -> None:
        pass

    replacer = ArgReplacer(function, "callback")
    assert replacer.arg_pos == 2
    assert replacer.get_old_value((1, 2), {}) is None
    assert replacer.get_old_value((1, 2), {}, default=5) == 5
    assert replacer.replace("new", (1, 2), {}) == (None, (1, 2), {"callback": "new"})
    assert replacer.replace("new", (1, 2, "old", 3), {}) == ("old", [1, 2, "new", 3], {})
    assert replacer.replace("new", (1,), {"y": 2, "callback": "old"}) == (
        "old",
        (1,),
        {"y": 2, "callback": "new"},
    )


def test_arg_replacer_keyword_only() -> None:
    def function(x: Any, *, callback: Any = None) -> None:
        pass

    replacer = ArgReplacer(function, "callback")
    assert replacer.arg_pos is None
    assert replacer.get_old_value((1, 2, 3), {"callback": "cb"}) == "cb"


def test_aliases() -> None:
    assert tornado.util.TimeoutError is TimeoutError
    assert tornado.util.unicode_type is str
    assert tornado.util.basestring_type is str
    assert tornado.util.bytes_type is bytes


def test_doctests() -> None:
    suite = doctest.DocTestSuite(tornado.util)
    outcome = unittest.TextTestRunner(stream=io.StringIO()).run(suite)
    assert outcome.wasSuccessful()
    assert isinstance(tornado.util.doctests(), unittest.TestSuite)
