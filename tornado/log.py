"""Logging support for Tornado.

Tornado logs to three loggers, which applications may configure separately
with the standard `logging` module:

* ``tornado.access``: one line per request served by Tornado's HTTP servers
  (`access_log`);
* ``tornado.application``: errors raised by application code, such as
  uncaught exceptions in callbacks and handlers (`app_log`);
* ``tornado.general``: everything else Tornado itself reports (`gen_log`).

`LogFormatter` is a formatter with timestamps and, on terminals that support
it, a colour per level; `enable_pretty_logging` installs it according to the
``--logging`` family of options that `define_logging_options` defines.
`tornado.options.parse_command_line` and `~tornado.options.parse_config_file`
call it automatically.

This module builds on `tornado.escape` and `tornado.util` only; it imports
`tornado.options` lazily, when it needs the global option set.
"""

import logging
import logging.handlers
import sys
from typing import Any, Dict, Optional, Tuple, cast

from tornado.escape import to_unicode

try:
    import colorama  # type: ignore[import-not-found]
except ImportError:
    colorama = None

try:
    import curses
except ImportError:
    curses = None  # type: ignore[assignment]

access_log = logging.getLogger("tornado.access")
app_log = logging.getLogger("tornado.application")
gen_log = logging.getLogger("tornado.general")


def _stderr_supports_color() -> bool:
    """True if standard error is a terminal that can show colours."""
    try:
        if not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
            return False
        if curses is not None:
            curses.setupterm()
            return bool(curses.tigetnum("colors") > 0)
        if colorama is not None:
            # Colours work on Windows only once the application has called
            # colorama.init(), which wraps sys.stderr.
            return sys.stderr is getattr(
                colorama.initialise, "wrapped_stderr", object()
            )
    except Exception:
        # No terminfo database, an unknown TERM, and so on: no colours.
        pass
    return False


def _safe_unicode(value: Any) -> str:
    """Return ``value`` as str, falling back to its repr if it is not UTF-8."""
    try:
        return to_unicode(value)
    except UnicodeDecodeError:
        return repr(value)


class LogFormatter(logging.Formatter):
    """The log formatter Tornado installs by default.

    Each line starts with the level's initial, a timestamp and the module and
    line that logged it.  When logging to a terminal that supports colour,
    that prefix (the part of ``fmt`` between ``%(color)s`` and
    ``%(end_color)s``) is coloured by level.  Messages that are not valid
    UTF-8 are shown by their repr instead of breaking the handler, and the
    lines of a traceback are indented under the message.

    Colours come from the terminfo database through `curses`; on Windows,
    where it is missing, they work through the ``colorama`` package once the
    application has called ``colorama.init()``.

    :arg bool color: use colours when the terminal supports them.
    :arg str fmt: the log line format, applied to the record's attribute
        dict; ``%(color)s`` and ``%(end_color)s`` mark the coloured part.
    :arg str datefmt: the `time.strftime` format of ``%(asctime)s``.
    :arg str style: accepted for compatibility with
        `logging.config.dictConfig`; only ``%`` formatting is supported.
    :arg dict colors: maps log levels to terminal colour numbers.

    .. versionchanged:: 4.5
       colorama support; signature compatible with `logging.config.dictConfig`.
    """

    DEFAULT_FORMAT = "%(color)s[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d]%(end_color)s %(message)s"  # noqa: E501
    DEFAULT_DATE_FORMAT = "%y%m%d %H:%M:%S"
    DEFAULT_COLORS = {
        logging.DEBUG: 4,  # blue
        logging.INFO: 2,  # green
        logging.WARNING: 3,  # yellow
        logging.ERROR: 1,  # red
        logging.CRITICAL: 5,  # magenta
    }

    def __init__(
        self,
        fmt: str = DEFAULT_FORMAT,
        datefmt: str = DEFAULT_DATE_FORMAT,
        style: str = "%",
        color: bool = True,
        colors: Dict[int, int] = DEFAULT_COLORS,
    ) -> None:
        logging.Formatter.__init__(self, datefmt=datefmt)
        self._fmt = fmt
        # Level number -> the escape sequence that starts its colour.
        self._colors: Dict[int, str] = {}
        self._normal = ""
        self._asctime_cache: Optional[Tuple[Any, str]] = None
        if color and _stderr_supports_color():
            if curses is not None:
                self._colors, self._normal = self._curses_colors(colors)
            else:
                # colorama translates ANSI sequences on Windows.
                for levelno, code in colors.items():
                    self._colors[levelno] = "\033[2;3%dm" % code
                self._normal = "\033[0m"

    @staticmethod
    def _curses_colors(colors: Dict[int, int]) -> "tuple[Dict[int, str], str]":
        # setaf is the ANSI way to set the foreground; setf is the older one.
        set_fg = curses.tigetstr("setaf") or curses.tigetstr("setf") or b""
        level_colors = {
            levelno: str(curses.tparm(set_fg, code), "ascii")
            for levelno, code in colors.items()
        }
        normal = curses.tigetstr("sgr0")
        return level_colors, str(normal, "ascii") if normal is not None else ""

    def _asctime(self, record: Any) -> str:
        # strftime is the costliest part of formatting a record; with the
        # standard formatTime its result only changes once a second, so the
        # last one is reused (keyed on everything it depends on).
        datefmt = cast(str, self.datefmt)
        if type(self).formatTime is not logging.Formatter.formatTime:
            return self.formatTime(record, datefmt)
        key = (int(record.created), datefmt, self.converter)
        cached = self._asctime_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        text = self.formatTime(record, datefmt)
        self._asctime_cache = (key, text)
        return text

    def format(self, record: Any) -> str:
        try:
            message = record.getMessage()
            assert isinstance(message, str)  # getMessage calls str()
            record.message = _safe_unicode(message)
        except Exception as e:
            record.message = "Bad message (%r): %r" % (e, record.__dict__)

        record.asctime = self._asctime(record)
        color = self._colors.get(record.levelno)
        if color is not None:
            record.color = color
            record.end_color = self._normal
        else:
            record.color = record.end_color = ""

        formatted = self._fmt % record.__dict__

        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            # The traceback may hold bytes reprs or undecodable text; each
            # line is made safe separately so one bad line spoils nothing.
            lines = [formatted.rstrip()]
            lines.extend(_safe_unicode(line) for line in record.exc_text.split("\n"))
            formatted = "\n".join(lines)
        return formatted.replace("\n", "\n    ")


def enable_pretty_logging(options: Any = None, logger: Optional[logging.Logger] = None) -> None:
    """Configure logging as the logging options say.

    Sets the level of ``logger`` (the root logger by default) from
    ``options.logging``, adds a rotating file handler when
    ``options.log_file_prefix`` is set, and a coloured standard error
    handler when ``options.log_to_stderr`` is true, or is None and the
    logger has no handler yet.  Does nothing if ``options.logging`` is
    ``"none"`` (in any case) or None.

    ``options`` defaults to the global `tornado.options.options`.  This is
    called by `tornado.options.parse_command_line` and
    `tornado.options.parse_config_file`.

    Raises `ValueError` if ``options.log_rotate_mode`` is neither
    ``"size"`` nor ``"time"``.
    """
    if options is None:
        import tornado.options

        options = tornado.options.options
    if options.logging is None or options.logging.lower() == "none":
        return
    if logger is None:
        logger = logging.getLogger()
    logger.setLevel(getattr(logging, options.logging.upper()))
    if options.log_file_prefix:
        rotate_mode = options.log_rotate_mode
        channel: logging.Handler
        if rotate_mode == "size":
            channel = logging.handlers.RotatingFileHandler(
                filename=options.log_file_prefix,
                maxBytes=options.log_file_max_size,
                backupCount=options.log_file_num_backups,
                encoding="utf-8",
            )
        elif rotate_mode == "time":
            channel = logging.handlers.TimedRotatingFileHandler(
                filename=options.log_file_prefix,
                when=options.log_rotate_when,
                interval=options.log_rotate_interval,
                backupCount=options.log_file_num_backups,
                encoding="utf-8",
            )
        else:
            raise ValueError(
                'The value of log_rotate_mode option should be "size" or "time", '
                "not %r." % (rotate_mode,)
            )
        channel.setFormatter(LogFormatter(color=False))
        logger.addHandler(channel)

    if options.log_to_stderr or (options.log_to_stderr is None and not logger.handlers):
        stderr_channel = logging.StreamHandler()
        stderr_channel.setFormatter(LogFormatter())
        logger.addHandler(stderr_channel)


def define_logging_options(options: Any = None) -> None:
    """Define the options that `enable_pretty_logging` reads.

    ``options`` is an `.OptionParser` (the global `tornado.options.options`
    by default).  A parse callback is added so that logging is configured
    each time the options are finally parsed.

    .. versionadded:: 4.2
       Before, these options were always defined on the global parser.
    """
    if options is None:
        import tornado.options

        options = tornado.options.options
    options.define(
        "logging",
        default="info",
        help=(
            "Set the Python log level. If 'none', tornado won't touch the "
            "logging configuration."
        ),
        metavar="debug|info|warning|error|none",
    )
    options.define(
        "log_to_stderr",
        type=bool,
        default=None,
        help=(
            "Send log output to stderr (colorized if possible). "
            "By default use stderr if --log_file_prefix is not set and "
            "no other logging is configured."
        ),
    )
    options.define(
        "log_file_prefix",
        type=str,
        default=None,
        metavar="PATH",
        help=(
            "Path prefix for log files. Note that if you are running multiple "
            "tornado processes, log_file_prefix must be different for each of "
            "them (e.g. include the port number)"
        ),
    )
    options.define(
        "log_file_max_size",
        type=int,
        default=100 * 1000 * 1000,
        help="max size of log files before rollover",
    )
    options.define(
        "log_file_num_backups", type=int, default=10, help="number of log files to keep"
    )
    options.define(
        "log_rotate_when",
        type=str,
        default="midnight",
        help=(
            "specify the type of TimedRotatingFileHandler interval "
            "other options:('S', 'M', 'H', 'D', 'W0'-'W6')"
        ),
    )
    options.define(
        "log_rotate_interval",
        type=int,
        default=1,
        help="The interval value of timed rotating",
    )
    options.define(
        "log_rotate_mode",
        type=str,
        default="size",
        help="The mode of rotating files(time or size)",
    )
    options.add_parse_callback(lambda: enable_pretty_logging(options))
