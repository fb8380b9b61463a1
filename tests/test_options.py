"""Tests for tornado.options."""

import datetime
import io
import sys
from typing import Any, List
from unittest import mock

import pytest

import tornado.options
from tornado.options import Error, OptionParser


class Email:
    def __init__(self, value: str) -> None:
        if "@" not in value:
            raise ValueError(value)
        self.value = value


def test_parse_command_line_and_rest() -> None:
    options = OptionParser()
    options.define("port", default=80)
    options.define("debug", default=False)
    rest = options.parse_command_line(["prog", "--port=443", "--debug", "sub", "--x"])
    assert options.port == 443 and options.debug is True
    assert rest == ["sub", "--x"]
    assert options.parse_command_line(["prog", "--", "--port=1"]) == ["--port=1"]
    assert options.port == 443


def test_unknown_and_missing_value() -> None:
    options = OptionParser()
    options.define("port", default=80)
    with mock.patch("sys.stderr", io.StringIO()):
        with pytest.raises(Error, match="Unrecognized command line option"):
            options.parse_command_line(["prog", "--nope=1"])
    with pytest.raises(Error, match="requires a value"):
        options.parse_command_line(["prog", "--port"])


def test_help_exits_with_usage() -> None:
    options = OptionParser()
    options.define("with_underscore", help="an option", group="g")
    out = io.StringIO()
    with mock.patch("sys.stderr", out):
        with pytest.raises(SystemExit):
            options.parse_command_line(["prog", "--help"])
    text = out.getvalue()
    assert "Usage:" in text
    assert "--with-underscore" in text and "an option" in text


def test_types_on_command_line() -> None:
    options = OptionParser()
    options.define("s", type=str)
    options.define("i", type=int)
    options.define("f", type=float)
    options.define("b", type=bool)
    options.define("dt", type=datetime.datetime)
    options.define("td", type=datetime.timedelta)
    options.define("email", type=Email)
    options.define("ints", type=int, multiple=True)
    options.define("strs", type=str, multiple=True)
    options.parse_command_line(
        [
            "prog",
            "--s=x",
            "--i=42",
            "--f=1.5",
            "--b=false",
            "--dt=2013-04-28 05:16",
            "--td=1h 30m 5.5s",
            "--email=a@b",
            "--ints=1,3,5:7",
            "--strs=a,b",
        ]
    )
    assert options.s == "x" and options.i == 42 and options.f == 1.5
    assert options.b is False
    assert options.dt == datetime.datetime(2013, 4, 28, 5, 16)
    assert options.td == datetime.timedelta(hours=1, minutes=30, seconds=5.5)
    assert options.email.value == "a@b"
    assert options.ints == [1, 3, 5, 6, 7]
    assert options.strs == ["a", "b"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("45s", datetime.timedelta(seconds=45)),
        ("45", datetime.timedelta(seconds=45)),
        ("2d", datetime.timedelta(days=2)),
        ("1w 2 hours", datetime.timedelta(weeks=1, hours=2)),
        ("500ms", datetime.timedelta(milliseconds=500)),
        ("-1m", datetime.timedelta(minutes=-1)),
    ],
)
def test_timedelta_formats(text: str, expected: datetime.timedelta) -> None:
    options = OptionParser()
    options.define("td", type=datetime.timedelta)
    options.parse_command_line(["prog", "--td=" + text])
    assert options.td == expected


def test_bad_datetime_and_timedelta() -> None:
    options = OptionParser()
    options.define("dt", type=datetime.datetime)
    options.define("td", type=datetime.timedelta)
    with pytest.raises(Error):
        options.parse_command_line(["prog", "--dt=yesterday"])
    with pytest.raises(Error):
        options.parse_command_line(["prog", "--td=5 fortnights"])


def test_config_file(tmp_path: Any) -> None:
    path = tmp_path / "app.cfg"
    path.write_text(
        "port = 443\nname = '\u674e\u5eb7'\nfoo_bar = 'a'\nhere = __file__\n"
        "ints = '1,2:3'\nwhen = '2020-01-02'\nunknown = 5\n",
        encoding="utf-8",
    )
    options = OptionParser()
    options.define("port", default=80)
    options.define("name", default="x")
    options.define("foo-bar")
    options.define("here")
    options.define("ints", type=int, multiple=True)
    options.define("when", type=datetime.datetime)
    options.parse_config_file(str(path))
    assert options.port == 443
    assert options.name == "\u674e\u5eb7"
    assert options.foo_bar == "a"
    assert options.here == str(path)
    assert options.ints == [1, 2, 3]
    assert options.when == datetime.datetime(2020, 1, 2)


def test_config_file_type_errors(tmp_path: Any) -> None:
    path = tmp_path / "bad.cfg"
    path.write_text("ints = 5\n")
    options = OptionParser()
    options.define("ints", type=int, multiple=True)
    with pytest.raises(Error):
        options.parse_config_file(str(path))


def test_parse_callbacks_run_on_final_parse_only() -> None:
    options = OptionParser()
    calls: List[int] = []
    options.add_parse_callback(lambda: calls.append(1))
    options.parse_command_line(["prog"], final=False)
    assert calls == []
    options.parse_command_line(["prog"])
    options.parse_command_line(["prog"])
    assert calls == [1, 1]


def test_setattr_checks_type_and_calls_callback() -> None:
    values: List[int] = []
    options = OptionParser()
    options.define("foo", default=1, type=int, callback=values.append)
    options.foo = 2
    options["foo"] = 3
    assert options.foo == 3 and values == [2, 3]
    with pytest.raises(Error):
        options.foo = "4"
    options.foo = None
    assert options.foo is None
    with pytest.raises(AttributeError):
        options.nonexistent = 1
    with pytest.raises(AttributeError):
        options.nonexistent


def test_multiple_setattr_checks_list() -> None:
    options = OptionParser()
    options.define("foo", type=int, multiple=True)
    assert options.foo == []
    options.foo = [1, 2]
    with pytest.raises(Error):
        options.foo = 1
    with pytest.raises(Error):
        options.foo = ["a"]


def test_introspection() -> None:
    options = OptionParser()
    options.define("a", default=1)
    options.define("with-dash", group="g", default=2)
    options.define("with_underscore", group="g")
    assert set(options) == {"a", "with-dash", "with_underscore", "help"}
    assert "with_dash" in options and "with-underscore" in options
    assert options.as_dict() == {
        "a": 1,
        "with-dash": 2,
        "with_underscore": None,
        "help": None,
    }
    assert sorted(options.items()) == sorted(options.as_dict().items())
    assert options.groups() == {"g", "", __file__}
    assert options.group_dict("g") == {"with-dash": 2, "with_underscore": None}
    assert options.group_dict("nonexistent") == {}
    assert options["with_dash"] == 2


@pytest.mark.parametrize(
    "a,b", [("foo-bar", "foo-bar"), ("foo_bar", "foo-bar"), ("foo-bar", "foo_bar")]
)
def test_redefine_is_an_error(a: str, b: str) -> None:
    options = OptionParser()
    options.define(a)
    with pytest.raises(Error, match="Option.*foo.bar.*already defined"):
        options.define(b)


def test_mockable() -> None:
    options = OptionParser()
    options.define("foo", default=1)
    with mock.patch.object(options.mockable(), "foo", 3):
        assert options.foo == 3
        options.foo = 5
        with mock.patch.object(options.mockable(), "foo", 6):
            assert options.foo == 6
        assert options.foo == 5
    assert options.foo == 1


def test_global_options_have_logging_options() -> None:
    for name in ("logging", "log_to_stderr", "log_file_prefix", "log_rotate_mode"):
        assert name in tornado.options.options
    out = io.StringIO()
    tornado.options.print_help(out)
    assert "--logging=debug|info|warning|error|none" in out.getvalue()


def test_module_level_define_uses_caller_file() -> None:
    saved = dict(tornado.options.options._options)
    try:
        tornado.options.define("test_options_module_level", default=3)
        assert tornado.options.options.test_options_module_level == 3
        assert __file__ in tornado.options.options.groups()
        rest = tornado.options.parse_command_line(
            ["prog", "--test-options-module-level=4", "x"], final=False
        )
        assert rest == ["x"]
        assert tornado.options.options.test_options_module_level == 4
    finally:
        tornado.options.options._options.clear()
        tornado.options.options._options.update(saved)
    assert sys.argv  # untouched
