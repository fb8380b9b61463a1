"""Tests for tornado.log."""

import glob
import logging
import os
import re
import subprocess
import sys
import time
from typing import Any, List, Sequence

import pytest

from tornado.log import (
    LogFormatter,
    access_log,
    app_log,
    define_logging_options,
    enable_pretty_logging,
    gen_log,
)
from tornado.options import OptionParser

LINE_RE = re.compile(r"(?s)\x01\[E \d{6} \d{2}:\d{2}:\d{2} test_log:\d+\]\x02 (.*)")


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logger_and_lines() -> Any:
    formatter = LogFormatter(color=False)
    # Stand-in colour codes so that the colour logic runs on any terminal.
    formatter._colors = {logging.ERROR: "\x01"}
    formatter._normal = "\x02"
    logger = logging.Logger("test_log_formatter")
    logger.propagate = False
    handler = ListHandler()
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    return logger, handler.lines


def message(lines: List[str]) -> str:
    m = LINE_RE.match(lines[-1])
    assert m, lines[-1]
    return m.group(1)


def test_logger_names() -> None:
    assert access_log.name == "tornado.access"
    assert app_log.name == "tornado.application"
    assert gen_log.name == "tornado.general"


def test_basic_and_unicode(logger_and_lines: Any) -> None:
    logger, lines = logger_and_lines
    logger.error("foo")
    assert message(lines) == "foo"
    logger.error("\u00e9")
    assert message(lines) == "\u00e9"


def test_bytes_are_shown_as_repr(logger_and_lines: Any) -> None:
    logger, lines = logger_and_lines
    logger.error(b"\xe9")
    assert message(lines) == repr(b"\xe9")


def test_exception_is_indented(logger_and_lines: Any) -> None:
    logger, lines = logger_and_lines
    try:
        raise Exception(b"\xe9")
    except Exception:
        logger.exception("caught")
    text = message(lines)
    assert text.startswith("caught\n    Traceback")
    assert re.search(r"Exception: b'\\xe9'", text)
    assert all(line.startswith("    ") for line in text.split("\n")[1:])


def test_bad_message_does_not_raise(logger_and_lines: Any) -> None:
    logger, lines = logger_and_lines
    logger.error("%d", "not a number")
    assert message(lines).startswith("Bad message")


def test_level_without_color_has_no_codes() -> None:
    formatter = LogFormatter(color=False)
    record = logging.LogRecord("x", logging.INFO, __file__, 10, "hi", None, None)
    out = formatter.format(record)
    assert re.match(r"\[I \d{6} \d{2}:\d{2}:\d{2} test_log:10\] hi$", out)


def test_custom_format() -> None:
    formatter = LogFormatter(fmt="%(levelname)s|%(message)s", color=False)
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "m %s", ("a",), None)
    assert formatter.format(record) == "WARNING|m a"


def make_options() -> OptionParser:
    options = OptionParser()
    define_logging_options(options)
    return options


@pytest.mark.parametrize("mode", ["size", "time"])
def test_log_file(tmp_path: Any, mode: str) -> None:
    options = make_options()
    options.log_file_prefix = str(tmp_path / "test_log")
    options.log_rotate_mode = mode
    logger = logging.Logger("test_log_file")
    enable_pretty_logging(options=options, logger=logger)
    try:
        assert len(logger.handlers) == 1
        logger.error("hello")
        logger.handlers[0].flush()
        (filename,) = glob.glob(str(tmp_path / "test_log*"))
        with open(filename, encoding="utf-8") as f:
            assert re.match(r"^\[E [^]]*\] hello$", f.read())
    finally:
        for handler in logger.handlers:
            handler.close()


def test_bad_rotate_mode(tmp_path: Any) -> None:
    options = make_options()
    options.log_file_prefix = str(tmp_path / "x")
    options.log_rotate_mode = "wrong"
    with pytest.raises(ValueError):
        enable_pretty_logging(options=options, logger=logging.Logger("t"))


def test_level_and_stderr_handler() -> None:
    options = make_options()
    options.logging = "warning"
    logger = logging.Logger("test_level")
    enable_pretty_logging(options=options, logger=logger)
    assert logger.level == logging.WARNING
    assert [type(h) for h in logger.handlers] == [logging.StreamHandler]
    # An existing handler means no stderr handler unless asked for.
    logger2 = logging.Logger("test_level2")
    logger2.addHandler(logging.NullHandler())
    enable_pretty_logging(options=options, logger=logger2)
    assert len(logger2.handlers) == 1
    options.log_to_stderr = True
    enable_pretty_logging(options=options, logger=logger2)
    assert len(logger2.handlers) == 2


@pytest.mark.parametrize("value", ["none", "None", None])
def test_logging_none_does_nothing(value: Any) -> None:
    options = make_options()
    options.logging = value
    logger = logging.Logger("test_none")
    enable_pretty_logging(options=options, logger=logger)
    assert logger.handlers == [] and logger.level == logging.NOTSET


def logs_present(statement: str, args: Sequence[str] = ()) -> bool:
    program = ";".join(
        [
            "from tornado.options import options, parse_command_line",
            statement,
            'import logging; logging.info("hello")',
        ]
    )
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", program, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout
    return b"hello" in proc.stdout


def test_global_options_logging() -> None:
    assert not logs_present("pass")
    assert logs_present("parse_command_line()")
    assert not logs_present("parse_command_line()", ["--logging=None"])
    assert not logs_present('options.logging = "none"; parse_command_line()')
    assert logs_present("options.logging = None; parse_command_line()", ["--logging=info"])


def test_timestamp_follows_record_time_and_overrides() -> None:
    formatter = LogFormatter(color=False, fmt="%(asctime)s")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.created = 0.0
    formatter.converter = time.gmtime
    assert formatter.format(record) == "700101 00:00:00"
    record.created = 61.5
    assert formatter.format(record) == "700101 00:01:01"
    formatter.datefmt = "%H-%M"
    assert formatter.format(record) == "00-01"

    class MillisFormatter(LogFormatter):
        def formatTime(self, record: Any, datefmt: Any = None) -> str:
            return "%.3f" % record.created

    millis = MillisFormatter(color=False, fmt="%(asctime)s")
    assert millis.format(record) == "61.500"
    record.created = 61.75
    assert millis.format(record) == "61.750"
