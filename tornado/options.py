"""Program settings that each module declares for itself.

Instead of one central argument parser, every module declares the settings
it reads, where it reads them::

    from tornado.options import define, options

    define("db_host", default="localhost:5432", help="database address")
    define("cache_servers", default="127.0.0.1:11211", multiple=True,
           help="cache server addresses")

    def open_database():
        return connect(options.db_host)

and the program's ``main`` fills them in once, from the command line
(`parse_command_line`) or from a Python config file (`parse_config_file`),
or from both in turn by passing ``final=False`` to all but the last call.

Facts worth knowing:

* ``-`` and ``_`` are the same in option names: ``--db-host`` and
  ``--db_host`` both set ``options.db_host`` (also ``options["db-host"]``).
  A name may only be defined once per option set.
* Text values are converted by the option's type: `str`, `int`, `float`,
  `bool`, `datetime.datetime`, `datetime.timedelta` (``"1h 30m"``), or any
  class built from a string.  ``multiple=True`` options take
  comma-separated lists; integer lists also take inclusive ``lo:hi`` ranges.
* A config file is executed as Python; each global it leaves behind whose
  name is an option sets that option.
* The global `options` also carries the logging options of `tornado.log`;
  a final parse configures logging from them (``--logging=none`` opts out).

A separate `OptionParser` gives an independent option set, for example
for a subcommand or in a test.

Depends on `tornado.escape`, `tornado.log` and `tornado.util`.
"""

import datetime
import numbers
import os
import re
import sys
import textwrap
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, TextIO, Tuple

from tornado.escape import to_unicode
from tornado.log import define_logging_options
from tornado.util import basestring_type, exec_in

_Callback = Optional[Callable[[Any], None]]


class Error(Exception):
    """A bad option definition, an unknown option, or an unusable value."""


def _cli_name(name: str) -> str:
    """The key an option is stored under: its name with dashes only."""
    return name.replace("_", "-")


def _definer_file() -> str:
    """Path of the source file whose code is defining an option.

    Skips the ``define`` frames of this module (the method and the global
    function); options defined by this module itself (``--help``) get "".
    """
    frame = sys._getframe(1)
    while frame.f_code.co_filename == __file__ and frame.f_code.co_name == "define":
        frame = frame.f_back  # type: ignore[assignment]
    source = frame.f_code.co_filename
    return "" if source == __file__ else source


class OptionParser:
    """An option set: definitions plus their current values.

    Values are read and written as attributes (``opts.port``) or items
    (``opts["port"]``); assignment checks the type but does not parse text.
    Most programs use the global instance, `tornado.options.options`, via the
    module-level functions.  Each set starts with a ``--help`` option.
    """

    def __init__(self) -> None:
        # Attribute assignment means "set an option" on this class, so the
        # parser's own state bypasses __setattr__.
        object.__setattr__(self, "_options", {})
        object.__setattr__(self, "_parse_callbacks", [])
        self.define("help", type=bool, help="show this help information",
                    callback=self._help_callback)

    def _lookup(self, name: str) -> "_Option":
        spec = self._options.get(_cli_name(name))
        if spec is None:
            raise AttributeError("Unrecognized option %r" % name)
        return spec  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return self._lookup(name).value()

    def __setattr__(self, name: str, value: Any) -> None:
        self._lookup(name).set(value)

    def __getitem__(self, name: str) -> Any:
        return self._lookup(name).value()

    def __setitem__(self, name: str, value: Any) -> None:
        self._lookup(name).set(value)

    def __contains__(self, name: str) -> bool:
        return _cli_name(name) in self._options

    def __iter__(self) -> Iterator[str]:
        # Names as they were defined, not as stored.
        return iter([spec.name for spec in self._options.values()])

    def items(self) -> Iterable[Tuple[str, Any]]:
        """``(name, value)`` for every option, names as defined.

        .. versionadded:: 3.1
        """
        return list(self.as_dict().items())

    def groups(self) -> Set[str]:
        """Every group name in use.

        An option's group is the ``group`` it was defined with, else the
        path of the file that defined it.

        .. versionadded:: 3.1
        """
        return set(spec.group_name for spec in self._options.values())

    def group_dict(self, group: str) -> Dict[str, Any]:
        """``{name: value}`` for the options of one group (all if ``group``
        is empty), e.g. to hand a group to an application as settings::

            define("cookie_secret", group="app")
            define("debug", group="app")
            app = Application(routes, **options.group_dict("app"))

        .. versionadded:: 3.1
        """
        picked = {}
        for spec in self._options.values():
            if group and spec.group_name != group:
                continue
            picked[spec.name] = spec.value()
        return picked

    def as_dict(self) -> Dict[str, Any]:
        """``{name: value}`` for every option.

        .. versionadded:: 3.1
        """
        return self.group_dict("")

    def define(
        self, name: str, default: Any = None, type: Optional[type] = None,
        help: Optional[str] = None, metavar: Optional[str] = None, multiple: bool = False,
        group: Optional[str] = None, callback: _Callback = None,
    ) -> None:
        """Declare an option.

        ``type`` says how text is converted (see the module docstring); when
        omitted it is taken from ``default``, or is `str` if the default is
        None or the option is ``multiple``.  A ``multiple`` option holds a
        list (empty unless a default is given).

        ``help`` and ``metavar`` (the placeholder shown after ``=``) are used
        by `print_help`, which lists options under their ``group``: by
        default the path of the file calling ``define``.

        ``callback``, if given, receives every new value, whether it came
        from parsing or from assignment.

        `Error` if an option of that name exists already; ``-`` and ``_``
        count as the same character.
        """
        key = _cli_name(name)
        taken = self._options.get(key)
        if taken is not None:
            raise Error("Option %r already defined in %s" % (key, taken.file_name))
        origin = _definer_file()
        if type is None:
            type = str if (multiple or default is None) else default.__class__
        self._options[key] = _Option(
            name, default, type, help, metavar, multiple, origin, group or origin, callback
        )

    def parse_command_line(self, args: Optional[List[str]] = None,
                           final: bool = True) -> List[str]:
        """Set options from ``--name=value`` arguments; return the rest.

        ``args`` defaults to ``sys.argv``; its first item (the program) is
        ignored.  Reading stops at the first item not starting with ``-``,
        or just after a ``--``; what follows is returned.  A `bool` option
        may be given without ``=value`` to mean true.

        An unknown option prints the help and raises `Error`; so does a
        non-boolean option without a value (without the help).

        The parse callbacks run at the end unless ``final`` is false, which
        lets several sources be combined before the last one.
        """
        argv = sys.argv if args is None else args
        index = 1
        while index < len(argv):
            token = argv[index]
            if token == "--":
                index += 1
                break
            if not token.startswith("-"):
                break
            self._apply_flag(token)
            index += 1
        if final:
            self.run_parse_callbacks()
        return list(argv[index:])

    def _apply_flag(self, token: str) -> None:
        """Handle one ``--name[=value]`` command line item."""
        raw_name, has_value, text = token.lstrip("-").partition("=")
        key = _cli_name(raw_name)
        spec = self._options.get(key)
        if spec is None:
            self.print_help()
            raise Error("Unrecognized command line option: %r" % key)
        if not has_value:
            if spec.type is not bool:
                raise Error("Option %r requires a value" % key)
            text = "true"
        spec.parse(text)

    def parse_config_file(self, path: str, final: bool = True) -> None:
        """Set options from the Python file at ``path``.

        The file (UTF-8) runs with ``__file__`` bound to its absolute path.
        Afterwards every global it holds whose name matches an option sets
        that option.  Strings are converted as command line text would be
        when the option is ``multiple`` or not of type `str`; other values
        must already have the option's type (a list, for ``multiple``).

        ``final`` works as for `parse_command_line`.

        .. versionchanged:: 4.1
           String values are converted from text.
        .. versionchanged:: 4.4
           The file is decoded as UTF-8 whatever the locale.
        """
        namespace: Dict[str, Any] = {"__file__": os.path.abspath(path)}
        with open(path, "rb") as source:
            text = source.read().decode("utf-8")
        exec_in(text, namespace, namespace)
        for name, value in namespace.items():
            spec = self._options.get(_cli_name(name))
            if spec is not None:
                spec.load(value)
        if final:
            self.run_parse_callbacks()

    def print_help(self, file: Optional[TextIO] = None) -> None:
        """Write a usage summary of every option, grouped, to ``file``
        (standard error if omitted)."""
        out = sys.stderr if file is None else file
        chunks = ["Usage: %s [OPTIONS]\n" % sys.argv[0], "\nOptions:\n\n"]
        by_group: Dict[str, List[_Option]] = {}
        for spec in self._options.values():
            by_group.setdefault(spec.group_name, []).append(spec)
        for group_name in sorted(by_group):
            if group_name:
                chunks.append("\n%s options:\n\n" % os.path.normpath(group_name))
            for spec in sorted(by_group[group_name], key=lambda s: s.name):
                chunks.append(_help_entry(spec) + "\n")
        chunks.append("\n")
        out.write("".join(chunks))

    def _help_callback(self, value: bool) -> None:
        if not value:
            return
        self.print_help()
        sys.exit(0)

    def add_parse_callback(self, callback: Callable[[], None]) -> None:
        """Register ``callback`` to run after every final parse."""
        self._parse_callbacks.append(callback)

    def run_parse_callbacks(self) -> None:
        """Run the registered parse callbacks, in registration order."""
        for callback in list(self._parse_callbacks):
            callback()

    def mockable(self) -> "_Mockable":
        """A stand-in for this set that `unittest.mock.patch.object` can use.

        ``patch.object`` undoes a patch by deleting the attribute, which an
        option set cannot do; the stand-in turns that deletion back into an
        assignment of the earlier value::

            with mock.patch.object(options.mockable(), "port", 8888):
                ...  # options.port == 8888 in here

        Take a fresh stand-in for every patch.
        """
        return _Mockable(self)


# Layout of print_help: flag column, then wrapped description.
_FLAG_COLUMN = 30
_TEXT_WIDTH = 44


def _help_entry(spec: "_Option") -> str:
    """The print_help lines for one option, without the final newline."""
    flag = _cli_name(spec.name)
    if spec.metavar:
        flag = "%s=%s" % (flag, spec.metavar)
    text = spec.help or ""
    if spec.default not in (None, ""):
        text = "%s (default %s)" % (text, spec.default)
    wrapped = textwrap.wrap(text, _TEXT_WIDTH)
    # A flag too wide for its column gets a line of its own.
    if not wrapped or len(flag) > _FLAG_COLUMN:
        wrapped.insert(0, "")
    indent = " " * (_FLAG_COLUMN + 4)
    first = "  --" + flag.ljust(_FLAG_COLUMN) + " " + wrapped[0]
    rows = [first] + [indent + " " + line for line in wrapped[1:]]
    return "\n".join(row.rstrip() for row in rows)


class _Mockable:
    """What `OptionParser.mockable` returns: attribute writes go to the
    option set, remembering the previous value so that deleting the
    attribute puts it back."""

    def __init__(self, options: OptionParser) -> None:
        object.__setattr__(self, "_target", options)
        object.__setattr__(self, "_saved", {})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._saved:
            raise AssertionError("don't reuse mockable objects")
        self._saved[name] = getattr(self._target, name)
        setattr(self._target, name, value)

    def __delattr__(self, name: str) -> None:
        previous = self._saved.pop(name)
        setattr(self._target, name, previous)


_NOT_SET = object()  # an option never assigned (None is a legitimate value)


class _Option:
    """A defined option: what `OptionParser.define` was told, plus its value."""

    __slots__ = ("name", "default", "type", "help", "metavar", "multiple",
                 "file_name", "group_name", "callback", "_value")

    def __init__(self, name: str, default: Any, type: type, help: Optional[str],
                 metavar: Optional[str], multiple: bool, file_name: str,
                 group_name: str, callback: _Callback) -> None:
        self.name, self.type, self.multiple = name, type, multiple
        # A list option with no default starts out as an empty list.
        self.default = [] if (multiple and default is None) else default
        self.help, self.metavar = help, metavar
        self.file_name, self.group_name = file_name, group_name
        self.callback = callback
        self._value: Any = _NOT_SET

    def value(self) -> Any:
        current = self._value
        return self.default if current is _NOT_SET else current

    def _store(self, value: Any) -> None:
        self._value = value
        if self.callback is not None:
            self.callback(value)

    def parse(self, text: str) -> Any:
        """Convert command line text, store the result and return it."""
        convert = _CONVERTERS.get(self.type, self.type)
        if not self.multiple:
            self._store(convert(text))
            return self.value()
        ranged = issubclass(self.type, numbers.Integral)
        items: List[Any] = []
        for piece in text.split(","):
            if not ranged:
                items.append(convert(piece))
                continue
            # "5:7" in an integer list means 5, 6 and 7.
            low, _, high = piece.partition(":")
            first = convert(low)
            items.extend(range(first, (convert(high) if high else first) + 1))
        self._store(items)
        return self.value()

    def set(self, value: Any) -> None:
        """Store a value that already has the option's type (None always
        passes); `Error` otherwise."""
        wanted = self.type
        if self.multiple:
            if not isinstance(value, list):
                self._wrong_list()
            for item in value:
                if item is not None and not isinstance(item, wanted):
                    self._wrong_list()
        elif value is not None and not isinstance(value, wanted):
            raise Error("Option %r is required to be a %s (%s given)"
                        % (self.name, wanted.__name__, type(value)))
        self._store(value)

    def _wrong_list(self) -> None:
        raise Error("Option %r is required to be a list of %s"
                    % (self.name, self.type.__name__))

    def load(self, value: Any) -> None:
        """Take a value found in a config file (text or typed)."""
        if self.multiple and not isinstance(value, (str, list)):
            raise Error("Option %r is required to be a list of %s or a "
                        "comma-separated string" % (self.name, self.type.__name__))
        if type(value) is str and (self.multiple or self.type is not str):
            self.parse(value)
        else:
            self.set(value)


# strptime layouts accepted by datetime options, most specific first.
_DATETIME_LAYOUTS = tuple(
    "%a %b %d %H:%M:%S %Y|%Y-%m-%d %H:%M:%S|%Y-%m-%d %H:%M|%Y-%m-%dT%H:%M|"
    "%Y%m%d %H:%M:%S|%Y%m%d %H:%M|%Y-%m-%d|%Y%m%d|%H:%M:%S|%H:%M".split("|")
)


def _to_datetime(text: str) -> datetime.datetime:
    for layout in _DATETIME_LAYOUTS:
        try:
            return datetime.datetime.strptime(text, layout)
        except ValueError:
            continue
    raise Error("Unrecognized date/time format: %r" % text)


# timedelta keyword -> the unit spellings that mean it ("" = bare number).
_UNIT_SPELLINGS = {
    "seconds": ", s, sec, secs, second, seconds",
    "milliseconds": "ms, msec, millisecond, milliseconds",
    "microseconds": "us, usec, microsecond, microseconds",
    "minutes": "m, min, mins, minute, minutes",
    "hours": "h, hr, hrs, hour, hours",
    "days": "d, day, days",
    "weeks": "w, wk, week, weeks",
}
_UNITS = {
    spelling.strip(): keyword
    for keyword, spellings in _UNIT_SPELLINGS.items()
    for spelling in spellings.split(",")
}

# One "<number><unit>" term; a duration is a run of them ("1h 30m", "1.5d").
_DURATION_TERM = re.compile(
    r"\s*(?P<n>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>[a-zA-Z]*)\s*"
)


def _to_timedelta(text: str) -> datetime.timedelta:
    total = datetime.timedelta()
    offset, end = 0, len(text)
    if not end:
        raise Error("Unrecognized timedelta format: %r" % text)
    while offset < end:
        term = _DURATION_TERM.match(text, offset)
        if term is None:
            raise Error("Unrecognized timedelta format: %r" % text)
        keyword = _UNITS.get(term["unit"].lower())
        if keyword is None:
            raise Error("Unrecognized timedelta unit %r in %r" % (term["unit"], text))
        total += datetime.timedelta(**{keyword: float(term["n"])})
        offset = term.end()
    return total


def _to_bool(text: str) -> bool:
    return text.lower() not in ("false", "0", "f")


# Types whose constructor does not parse command line text the way we want;
# every other type is simply called with the text.
_CONVERTERS: Dict[Any, Callable[[str], Any]] = {
    bool: _to_bool,
    basestring_type: to_unicode,
    datetime.datetime: _to_datetime,
    datetime.timedelta: _to_timedelta,
}


options = OptionParser()
"""The process-wide option set that the module-level functions act on.

Tornado's own modules define their options here too (the logging options
of `tornado.log`, for instance).
"""


def define(
    name: str, default: Any = None, type: Optional[type] = None, help: Optional[str] = None,
    metavar: Optional[str] = None, multiple: bool = False, group: Optional[str] = None,
    callback: _Callback = None,
) -> None:
    """`OptionParser.define` on the global `options`."""
    return options.define(name, default, type, help, metavar, multiple, group, callback)


def parse_command_line(args: Optional[List[str]] = None, final: bool = True) -> List[str]:
    """`OptionParser.parse_command_line` on the global `options`."""
    return options.parse_command_line(args, final=final)


def parse_config_file(path: str, final: bool = True) -> None:
    """`OptionParser.parse_config_file` on the global `options`."""
    return options.parse_config_file(path, final=final)


def print_help(file: Optional[TextIO] = None) -> None:
    """`OptionParser.print_help` on the global `options`."""
    return options.print_help(file)


def add_parse_callback(callback: Callable[[], None]) -> None:
    """`OptionParser.add_parse_callback` on the global `options`."""
    options.add_parse_callback(callback)


define_logging_options(options)
