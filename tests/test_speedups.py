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
from hypothesis import given
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
