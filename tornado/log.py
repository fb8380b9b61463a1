"""Where Tornado's log records go, and how they look on a console.

Three named loggers carry everything Tornado reports, so that an application
can route or silence each one with the standard `logging` machinery:

* `gen_log` (``tornado.general``) for Tornado's own housekeeping messages;
* `app_log` (``tornado.application``) for exceptions escaping user code;
* `access_log` (``tornado.access``) for the per-request summary lines.

`LogFormatter` renders a record as ``[L yymmdd HH:MM:SS module:line] text``,
coloured by level on a capable terminal.  `enable_pretty_logging` wires it to
the handlers that the ``--logging`` options (added by
`define_logging_options`) ask for; `tornado.options` calls it after parsing.

Only `tornado.escape` is needed here; `tornado.options` is imported lazily
when the global option set is wanted.
"""

from __future__ import annotations

import importlib
import logging
import logging.handlers
import sys
from types import ModuleType
from typing import Any, Dict, Optional, Tuple, cast

from tornado.escape import to_unicode


def _optional_module(name: str) -> Optional[ModuleType]:
    """The module called ``name``, or None where it cannot be imported."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# Both are optional: curses lacks a terminfo port on Windows, where the
# third-party colorama package translates ANSI colour codes instead.
curses: Any = _optional_module("curses")
colorama: Any = _optional_module("colorama")

gen_log = logging.getLogger("tornado.general")
app_log = logging.getLogger("tornado.application")
access_log = logging.getLogger("tornado.access")


def _colour_terminal() -> bool:
    """Whether text written to ``sys.stderr`` can carry colour codes."""
    stream = sys.stderr
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        if not isatty():
            return False
        if curses is not None:
            curses.setupterm()
            return curses.tigetnum("colors") > 0
        if colorama is not None:
            # colorama only helps after colorama.init() has replaced stderr
            # with its translating wrapper; compare against that wrapper.
            wrapper = getattr(colorama.initialise, "wrapped_stderr", None)
            return wrapper is not None and stream is wrapper
    except Exception:
        # A missing terminfo entry or an odd $TERM means: stay monochrome.
        return False
    return False


def _printable(value: Any) -> str:
    """Text for a log line: str as is, UTF-8 bytes decoded, else the repr."""
    try:
        return to_unicode(value)
    except UnicodeDecodeError:
        return repr(value)


def _terminal_codes(colors: Dict[int, int]) -> Tuple[Dict[int, str], str]:
    """Per-level "start colour" sequences and the "reset" sequence.

    curses supplies them from terminfo when it is available; otherwise plain
    ANSI sequences are used, which colorama converts on Windows.
    """
    if curses is None:
        ansi = {level: "\033[2;3%dm" % number for level, number in colors.items()}
        return ansi, "\033[0m"
    # "setaf" is the ANSI capability; very old terminals only know "setf".
    foreground = curses.tigetstr("setaf") or curses.tigetstr("setf") or b""
    starts = {}
    for level, number in colors.items():
        starts[level] = curses.tparm(foreground, number).decode("ascii")
    reset = curses.tigetstr("sgr0")
    return starts, ("" if reset is None else reset.decode("ascii"))


# Terminal colour numbers: blue, green, yellow, red, magenta.
_LEVEL_COLOURS = {
    level: number
    for level, number in zip(
        (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL),
        (4, 2, 3, 1, 5),
        strict=True,
    )
}


class LogFormatter(logging.Formatter):
    """Formatter for Tornado-style log lines.

    The default layout puts the level's first letter, the time and the
    ``module:line`` origin in brackets before the message.  Whatever part of
    ``fmt`` lies between ``%(color)s`` and ``%(end_color)s`` is drawn in the
    level's colour when ``color`` is true and standard error is a terminal
    with colour support (terminfo through `curses`, or on Windows the
    ``colorama`` package after ``colorama.init()``).

    Formatting never fails on odd input: a message that is not valid UTF-8
    appears as its repr, a message whose ``%`` arguments do not fit is
    reported as a bad message, and traceback lines are indented beneath it.

    :arg str fmt: ``%``-style layout applied to the record's attributes.
    :arg str datefmt: `time.strftime` layout for ``%(asctime)s``.
    :arg str style: only ``"%"`` is meaningful; the argument exists so that
        `logging.config.dictConfig` can build this class.
    :arg bool color: allow colours at all.
    :arg dict colors: terminal colour number for each level number.

    .. versionchanged:: 4.5
       Works with ``colorama``; may be configured via ``dictConfig``.
    """

    DEFAULT_FORMAT = (
        "%(color)s[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d]%(end_color)s"
        " %(message)s"
    )
    DEFAULT_DATE_FORMAT = "%y%m%d %H:%M:%S"
    DEFAULT_COLORS = _LEVEL_COLOURS

    def __init__(
        self, fmt: str = DEFAULT_FORMAT, datefmt: str = DEFAULT_DATE_FORMAT,
        style: str = "%", color: bool = True, colors: Dict[int, int] = DEFAULT_COLORS,
    ) -> None:
        super().__init__(datefmt=datefmt)
        self._fmt = fmt
        self._colors: Dict[int, str] = {}
        self._normal = ""
        self._asctime_cache: Optional[Tuple[Any, str]] = None
        if color and _colour_terminal():
            self._colors, self._normal = _terminal_codes(colors)

    def _asctime(self, record: Any) -> str:
        # strftime dominates the cost of a record, yet the stock formatTime
        # gives the same text for a whole second: remember the last answer,
        # keyed on all of its inputs.  A subclass's formatTime is always used.
        datefmt = cast(str, self.datefmt)
        if type(self).formatTime is not logging.Formatter.formatTime:
            return self.formatTime(record, datefmt)
        key = (int(record.created), datefmt, self.converter)
        hit = self._asctime_cache
        if hit is None or hit[0] != key:
            hit = self._asctime_cache = (key, self.formatTime(record, datefmt))
        return hit[1]

    def format(self, record: Any) -> str:
        try:
            record.message = _printable(record.getMessage())
        except Exception as exc:
            record.message = "Bad message (%r): %r" % (exc, record.__dict__)
        record.asctime = self._asctime(record)
        start = self._colors.get(record.levelno)
        if start is None:
            record.color = record.end_color = ""
        else:
            record.color, record.end_color = start, self._normal
        text = self._fmt % record.__dict__

        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            # Sanitise the traceback line by line: one undecodable line must
            # not hide the rest.
            tail = "\n".join(map(_printable, record.exc_text.split("\n")))
            text = text.rstrip() + "\n" + tail
        return text.replace("\n", "\n    ")


_Options = Any


def _rotating_handler(options: _Options) -> logging.Handler:
    """The file handler for ``options.log_file_prefix``, per the rotate mode."""
    mode = options.log_rotate_mode
    common: Dict[str, Any] = dict(
        filename=options.log_file_prefix,
        backupCount=options.log_file_num_backups,
        encoding="utf-8",
    )
    if mode == "time":
        return logging.handlers.TimedRotatingFileHandler(
            when=options.log_rotate_when, interval=options.log_rotate_interval, **common
        )
    if mode == "size":
        return logging.handlers.RotatingFileHandler(
            maxBytes=options.log_file_max_size, **common
        )
    raise ValueError(
        'The value of log_rotate_mode option should be "size" or "time", not %r.'
        % (mode,)
    )


def _global_options() -> _Options:
    import tornado.options

    return tornado.options.options


def enable_pretty_logging(options: Any = None, logger: Optional[logging.Logger] = None) -> None:
    """Set up ``logger`` (default: the root logger) from the logging options.

    ``options`` is an option set with the names `define_logging_options`
    adds; the global `tornado.options.options` if omitted.  Nothing happens
    when ``options.logging`` is None or ``"none"`` in any letter case.
    Otherwise the logger's level becomes ``options.logging``; a rotating log
    file (by size or by time, per ``options.log_rotate_mode``) is attached
    when ``options.log_file_prefix`` is set; and a colour-capable handler on
    standard error is attached when ``options.log_to_stderr`` is true, or
    when it is None and the logger had no handler until then.

    A rotate mode other than ``"size"`` or ``"time"`` raises `ValueError`.
    `tornado.options.parse_command_line` and
    `tornado.options.parse_config_file` call this for the global options.
    """
    opts = _global_options() if options is None else options
    level_name = opts.logging
    if level_name is None or level_name.lower() == "none":
        return
    target = logging.getLogger() if logger is None else logger
    target.setLevel(getattr(logging, level_name.upper()))
    if opts.log_file_prefix:
        file_handler = _rotating_handler(opts)
        file_handler.setFormatter(LogFormatter(color=False))
        target.addHandler(file_handler)
    wants_stderr = opts.log_to_stderr
    if wants_stderr is None:
        wants_stderr = not target.handlers
    if wants_stderr:
        console = logging.StreamHandler()
        console.setFormatter(LogFormatter())
        target.addHandler(console)


# The logging options: (name, type, default, metavar, help).  The help texts
# are what ``--help`` prints, so they are kept as users know them.
_LOGGING_OPTIONS: Tuple[Tuple[str, Optional[type], Any, Optional[str], str], ...] = (
    ("logging", None, "info", "debug|info|warning|error|none",
     "Set the Python log level. If 'none', tornado won't touch the logging configuration."),
    ("log_to_stderr", bool, None, None,
     "Send log output to stderr (colorized if possible). By default use stderr if "
     "--log_file_prefix is not set and no other logging is configured."),
    ("log_file_prefix", str, None, "PATH",
     "Path prefix for log files. Note that if you are running multiple tornado "
     "processes, log_file_prefix must be different for each of them (e.g. include "
     "the port number)"),
    ("log_file_max_size", int, 100 * 1000 * 1000, None,
     "max size of log files before rollover"),
    ("log_file_num_backups", int, 10, None, "number of log files to keep"),
    ("log_rotate_when", str, "midnight", None,
     "specify the type of TimedRotatingFileHandler interval other options:('S', "
     "'M', 'H', 'D', 'W0'-'W6')"),
    ("log_rotate_interval", int, 1, None, "The interval value of timed rotating"),
    ("log_rotate_mode", str, "size", None, "The mode of rotating files(time or size)"),
)


def define_logging_options(options: Any = None) -> None:
    """Add the options read by `enable_pretty_logging` to an option set.

    ``options`` is an `.OptionParser`, by default the global
    `tornado.options.options`.  A parse callback is registered too, so that
    logging is (re)configured whenever that set finishes parsing.

    .. versionadded:: 4.2
       Earlier versions defined them on the global set unconditionally.
    """
    opts = _global_options() if options is None else options
    for name, kind, default, metavar, help_text in _LOGGING_OPTIONS:
        opts.define(name, default=default, type=kind, help=help_text, metavar=metavar)

    def reconfigure() -> None:
        enable_pretty_logging(opts)

    opts.add_parse_callback(reconfigure)
