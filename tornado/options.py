"""A command line and config file parser whose options any module can define.

Each module defines the options it reads, next to the code that uses them::

    from tornado.options import define, options

    define("mysql_host", default="127.0.0.1:3306", help="Main user DB")
    define("memcache_hosts", default="127.0.0.1:11011", multiple=True,
           help="Main user memcache servers")

    def connect():
        db = database.Connection(options.mysql_host)

The program's entry point then parses the command line or a config file::

    tornado.options.parse_command_line()
    # or
    tornado.options.parse_config_file("/etc/server.conf")

Option names may be written with dashes or underscores: ``--foo-bar`` and
``--foo_bar`` set the same option, read as ``options.foo_bar`` (or
``options["foo-bar"]``).  Names defined by one module must be unique across
the program.

Command line values are parsed according to the option's type (``int``,
``float``, ``bool``, ``str``, `datetime.datetime`, `datetime.timedelta`,
or any class whose constructor takes a string); ``multiple=True`` options
take comma-separated lists, and integer ones also accept ``lo:hi`` ranges.
A config file is Python source: its top-level names set the options.

The global `options` object also defines the logging options of
`tornado.log` (``--logging``, ``--log_file_prefix`` and so on), and
parsing it with ``final=True`` configures logging; use ``--logging=none``
to keep Tornado's hands off the logging configuration.

`OptionParser` instances are independent option sets, for tests and for
programs with subcommands.

This module builds on `tornado.escape`, `tornado.log` and `tornado.util`.
"""

import datetime
import numbers
import os
import re
import sys
import textwrap
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Set,
    TextIO,
    Tuple,
)

from tornado.escape import to_unicode
from tornado.log import define_logging_options
from tornado.util import basestring_type, exec_in


class Error(Exception):
    """Raised for errors in option definitions and values."""


class OptionParser:
    """A collection of options, with a dict-like and attribute interface.

    Usually the global `tornado.options.options` is used through the
    module-level functions; separate instances are useful in tests and for
    subcommands.  Every parser defines ``--help``.
    """

    def __init__(self) -> None:
        # __setattr__ is reserved for option values, so internal state goes
        # straight into the instance dict.
        self.__dict__["_options"] = {}
        self.__dict__["_parse_callbacks"] = []
        self.define(
            "help",
            type=bool,
            help="show this help information",
            callback=self._help_callback,
        )

    @staticmethod
    def _normalize_name(name: str) -> str:
        return name.replace("_", "-")

    def __getattr__(self, name: str) -> Any:
        option = self._options.get(self._normalize_name(name))
        if isinstance(option, _Option):
            return option.value()
        raise AttributeError("Unrecognized option %r" % name)

    def __setattr__(self, name: str, value: Any) -> None:
        option = self._options.get(self._normalize_name(name))
        if isinstance(option, _Option):
            option.set(value)
            return
        raise AttributeError("Unrecognized option %r" % name)

    def __iter__(self) -> Iterator[str]:
        return (opt.name for opt in self._options.values())

    def __contains__(self, name: str) -> bool:
        return self._normalize_name(name) in self._options

    def __getitem__(self, name: str) -> Any:
        return self.__getattr__(name)

    def __setitem__(self, name: str, value: Any) -> None:
        return self.__setattr__(name, value)

    def items(self) -> Iterable[Tuple[str, Any]]:
        """An iterable of (name, value) pairs.

        .. versionadded:: 3.1
        """
        return [(opt.name, opt.value()) for opt in self._options.values()]

    def groups(self) -> Set[str]:
        """The set of option groups: the explicit ``group`` of each option, or
        the file it was defined in.

        .. versionadded:: 3.1
        """
        return {opt.group_name for opt in self._options.values()}

    def group_dict(self, group: str) -> Dict[str, Any]:
        """The names and values of the options in a group (all options if
        ``group`` is empty).

        Useful to copy a group of options into application settings::

            define("template_path", group="application")
            define("static_path", group="application")
            app = Application(handlers, **options.group_dict("application"))

        .. versionadded:: 3.1
        """
        return {
            opt.name: opt.value()
            for opt in self._options.values()
            if not group or group == opt.group_name
        }

    def as_dict(self) -> Dict[str, Any]:
        """The names and values of all options.

        .. versionadded:: 3.1
        """
        return {opt.name: opt.value() for opt in self._options.values()}

    def define(
        self,
        name: str,
        default: Any = None,
        type: Optional[type] = None,
        help: Optional[str] = None,
        metavar: Optional[str] = None,
        multiple: bool = False,
        group: Optional[str] = None,
        callback: Optional[Callable[[Any], None]] = None,
    ) -> None:
        """Define a new command line option.

        ``type`` is any of `str`, `int`, `float`, `bool`,
        `datetime.datetime` or `datetime.timedelta`, or a class whose
        constructor parses a string; it defaults to the type of ``default``
        (or `str` if there is no default).  With ``multiple=True`` the value
        is a list, given on the command line as comma-separated items.

        ``help`` and ``metavar`` appear in the `print_help` output; options
        are listed by ``group``, which defaults to the name of the file that
        defines them.

        ``callback`` is called with the new value whenever the option is
        set, whether by parsing or by assignment.

        Raises `Error` if the name (ignoring the difference between dashes
        and underscores) is already defined.
        """
        normalized = self._normalize_name(name)
        if normalized in self._options:
            raise Error(
                "Option %r already defined in %s"
                % (normalized, self._options[normalized].file_name)
            )
        file_name = self._caller_file()
        if type is None:
            if not multiple and default is not None:
                type = default.__class__
            else:
                type = str
        option = _Option(
            name,
            file_name=file_name,
            default=default,
            type=type,
            help=help,
            metavar=metavar,
            multiple=multiple,
            group_name=group or file_name,
            callback=callback,
        )
        self._options[normalized] = option

    @staticmethod
    def _caller_file() -> str:
        """The file that called `define`, or "" for this module itself."""
        frame = sys._getframe(2)
        # Calls through the module-level define() add one frame.
        if frame.f_code.co_filename == __file__ and frame.f_code.co_name == "define":
            frame = frame.f_back  # type: ignore[assignment]
        file_name = frame.f_code.co_filename
        return "" if file_name == __file__ else file_name

    def parse_command_line(
        self, args: Optional[List[str]] = None, final: bool = True
    ) -> List[str]:
        """Parse options from the command line (``sys.argv`` by default).

        ``args[0]`` is the program name and is skipped.  Parsing stops at
        the first argument that does not start with ``-`` or after ``--``;
        the unparsed arguments are returned.  A boolean option given
        without a value is set to True.

        Raises `Error` for an unknown option (after printing the help) or
        a missing value.

        With ``final=False`` the parse callbacks are not run, so that
        several sources can be combined before the last parse.
        """
        if args is None:
            args = sys.argv
        remaining: List[str] = []
        for i in range(1, len(args)):
            arg = args[i]
            if not arg.startswith("-"):
                remaining = args[i:]
                break
            if arg == "--":
                remaining = args[i + 1 :]
                break
            name, equals, value = arg.lstrip("-").partition("=")
            name = self._normalize_name(name)
            option = self._options.get(name)
            if option is None:
                self.print_help()
                raise Error("Unrecognized command line option: %r" % name)
            if not equals:
                if option.type is bool:
                    value = "true"
                else:
                    raise Error("Option %r requires a value" % name)
            option.parse(value)
        if final:
            self.run_parse_callbacks()
        return remaining

    def parse_config_file(self, path: str, final: bool = True) -> None:
        """Set options from a config file, which is Python source.

        The file is executed with ``__file__`` set to its absolute path;
        each top-level name that matches an option (written with
        underscores, or dashes in the name converted) sets it.  A string
        value is parsed as on the command line when the option's type is
        not `str` or the option is ``multiple``; any other value must
        already be of the option's type.

        .. versionchanged:: 4.1
           Values may be given as strings to be parsed.
        .. versionchanged:: 4.4
           The file is read as UTF-8.
        """
        config: Dict[str, Any] = {"__file__": os.path.abspath(path)}
        with open(path, "rb") as f:
            exec_in(f.read().decode("utf-8"), config, config)
        for name, value in config.items():
            option = self._options.get(self._normalize_name(name))
            if option is None:
                continue
            if option.multiple and not isinstance(value, (list, str)):
                raise Error(
                    "Option %r is required to be a list of %s "
                    "or a comma-separated string" % (option.name, option.type.__name__)
                )
            if type(value) is str and (option.type is not str or option.multiple):
                option.parse(value)
            else:
                option.set(value)
        if final:
            self.run_parse_callbacks()

    def print_help(self, file: Optional[TextIO] = None) -> None:
        """Print all the options, by group, to ``file`` (standard error by
        default)."""
        if file is None:
            file = sys.stderr
        print("Usage: %s [OPTIONS]" % sys.argv[0], file=file)
        print("\nOptions:\n", file=file)
        by_group: Dict[str, List[_Option]] = {}
        for option in self._options.values():
            by_group.setdefault(option.group_name, []).append(option)
        for group_name, group_options in sorted(by_group.items()):
            if group_name:
                print("\n%s options:\n" % os.path.normpath(group_name), file=file)
            for option in sorted(group_options, key=lambda o: o.name):
                print(self._help_lines(option), file=file)
        print(file=file)

    def _help_lines(self, option: "_Option") -> str:
        # Always the command line spelling, with dashes.
        flag = self._normalize_name(option.name)
        if option.metavar:
            flag += "=" + option.metavar
        description = option.help or ""
        if option.default is not None and option.default != "":
            description += " (default %s)" % (option.default,)
        lines = textwrap.wrap(description, 44)
        if len(flag) > 30 or not lines:
            lines.insert(0, "")
        out = ["  --%-30s %s" % (flag, lines[0])]
        out.extend("%-34s %s" % ("", line) for line in lines[1:])
        return "\n".join(line.rstrip() for line in out)

    def _help_callback(self, value: bool) -> None:
        if value:
            self.print_help()
            sys.exit(0)

    def add_parse_callback(self, callback: Callable[[], None]) -> None:
        """Add a function to call after each final parse."""
        self._parse_callbacks.append(callback)

    def run_parse_callbacks(self) -> None:
        """Call the parse callbacks, as a final parse does."""
        for callback in self._parse_callbacks:
            callback()

    def mockable(self) -> "_Mockable":
        """Return a wrapper that `unittest.mock.patch.object` can patch.

        ``mock.patch.object`` restores an attribute by deleting it, which an
        `OptionParser` does not support; this wrapper restores the previous
        value instead::

            with mock.patch.object(options.mockable(), "name", value):
                assert options.name == value

        Use a new wrapper for each patch.
        """
        return _Mockable(self)


class _Mockable:
    """`OptionParser.mockable` wrapper: deleting an attribute restores the
    value it had before it was set through the wrapper."""

    def __init__(self, options: OptionParser) -> None:
        self.__dict__["_options"] = options
        self.__dict__["_originals"] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._options, name)

    def __setattr__(self, name: str, value: Any) -> None:
        assert name not in self._originals, "don't reuse mockable objects"
        self._originals[name] = getattr(self._options, name)
        setattr(self._options, name, value)

    def __delattr__(self, name: str) -> None:
        setattr(self._options, name, self._originals.pop(name))


class _Option:
    """One defined option: its definition and current value."""

    # The value of an option that was never set (None is a valid value).
    UNSET = object()

    def __init__(
        self,
        name: str,
        default: Any = None,
        type: Optional[type] = None,
        help: Optional[str] = None,
        metavar: Optional[str] = None,
        multiple: bool = False,
        file_name: Optional[str] = None,
        group_name: Optional[str] = None,
        callback: Optional[Callable[[Any], None]] = None,
    ) -> None:
        if default is None and multiple:
            default = []
        self.name = name
        if type is None:
            raise ValueError("type must not be None")
        self.type = type
        self.help = help
        self.metavar = metavar
        self.multiple = multiple
        self.file_name = file_name
        self.group_name = group_name
        self.callback = callback
        self.default = default
        self._value: Any = _Option.UNSET

    def value(self) -> Any:
        return self.default if self._value is _Option.UNSET else self._value

    def parse(self, value: str) -> Any:
        """Set the option from its command line text and return the value."""
        parse_one = self._parser()
        if self.multiple:
            items: List[Any] = []
            for part in value.split(","):
                if issubclass(self.type, numbers.Integral):
                    # Integer lists accept inclusive ranges: "1,3,5:7".
                    lo, _, hi = part.partition(":")
                    first = parse_one(lo)
                    last = parse_one(hi) if hi else first
                    items.extend(range(first, last + 1))
                else:
                    items.append(parse_one(part))
            self._value = items
        else:
            self._value = parse_one(value)
        if self.callback is not None:
            self.callback(self._value)
        return self.value()

    def _parser(self) -> Callable[[str], Any]:
        return {
            datetime.datetime: _parse_datetime,
            datetime.timedelta: _parse_timedelta,
            bool: _parse_bool,
            basestring_type: _parse_string,
        }.get(self.type, self.type)

    def set(self, value: Any) -> None:
        """Set the option to an already typed value.

        Raises `Error` if the value is not of the option's type (None is
        always accepted).
        """
        if self.multiple:
            if not isinstance(value, list) or any(
                item is not None and not isinstance(item, self.type) for item in value
            ):
                raise Error(
                    "Option %r is required to be a list of %s"
                    % (self.name, self.type.__name__)
                )
        elif value is not None and not isinstance(value, self.type):
            raise Error(
                "Option %r is required to be a %s (%s given)"
                % (self.name, self.type.__name__, type(value))
            )
        self._value = value
        if self.callback is not None:
            self.callback(self._value)


# Formats accepted for datetime options, tried in order.
_DATETIME_FORMATS = [
    "%a %b %d %H:%M:%S %Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d %H:%M",
    "%Y-%m-%d",
    "%Y%m%d",
    "%H:%M:%S",
    "%H:%M",
]


def _parse_datetime(value: str) -> datetime.datetime:
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt)
        except ValueError:
            pass
    raise Error("Unrecognized date/time format: %r" % value)


# Unit spellings for timedelta options, mapped to timedelta keywords.
_TIMEDELTA_UNITS = {
    "": "seconds",
    "s": "seconds",
    "sec": "seconds",
    "secs": "seconds",
    "second": "seconds",
    "seconds": "seconds",
    "ms": "milliseconds",
    "msec": "milliseconds",
    "millisecond": "milliseconds",
    "milliseconds": "milliseconds",
    "us": "microseconds",
    "usec": "microseconds",
    "microsecond": "microseconds",
    "microseconds": "microseconds",
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "wk": "weeks",
    "week": "weeks",
    "weeks": "weeks",
}

# One "<number> <unit>" term of a duration such as "1h 30m" or "1.5days".
_TIMEDELTA_TERM = re.compile(
    r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z]*)\s*"
)


def _parse_timedelta(value: str) -> datetime.timedelta:
    total = datetime.timedelta()
    pos = 0
    while pos < len(value):
        m = _TIMEDELTA_TERM.match(value, pos)
        if m is None or not m.group(0):
            raise Error("Unrecognized timedelta format: %r" % value)
        unit = _TIMEDELTA_UNITS.get(m.group(2).lower())
        if unit is None:
            raise Error("Unrecognized timedelta unit %r in %r" % (m.group(2), value))
        total += datetime.timedelta(**{unit: float(m.group(1))})
        pos = m.end()
    if pos == 0:
        raise Error("Unrecognized timedelta format: %r" % value)
    return total


def _parse_bool(value: str) -> bool:
    return value.lower() not in ("false", "0", "f")


def _parse_string(value: str) -> str:
    return to_unicode(value)


options = OptionParser()
"""The global option set, used by the module-level functions.

Tornado's own modules read their options from it (for example, the logging
options of `tornado.log`).
"""


def define(
    name: str,
    default: Any = None,
    type: Optional[type] = None,
    help: Optional[str] = None,
    metavar: Optional[str] = None,
    multiple: bool = False,
    group: Optional[str] = None,
    callback: Optional[Callable[[Any], None]] = None,
) -> None:
    """Define an option in the global namespace.

    See `OptionParser.define`.
    """
    return options.define(
        name,
        default=default,
        type=type,
        help=help,
        metavar=metavar,
        multiple=multiple,
        group=group,
        callback=callback,
    )


def parse_command_line(args: Optional[List[str]] = None, final: bool = True) -> List[str]:
    """Parse the global options from the command line.

    See `OptionParser.parse_command_line`.
    """
    return options.parse_command_line(args, final=final)


def parse_config_file(path: str, final: bool = True) -> None:
    """Parse the global options from a config file.

    See `OptionParser.parse_config_file`.
    """
    return options.parse_config_file(path, final=final)


def print_help(file: Optional[TextIO] = None) -> None:
    """Print the help for the global options.

    See `OptionParser.print_help`.
    """
    return options.print_help(file)


def add_parse_callback(callback: Callable[[], None]) -> None:
    """Add a function to call after each final parse of the global options.

    See `OptionParser.add_parse_callback`.
    """
    options.add_parse_callback(callback)


# The global option set carries the logging options.
define_logging_options(options)
