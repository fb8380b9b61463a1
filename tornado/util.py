"""Small utilities shared by the rest of Tornado.

This module sits at the very bottom of the package: it imports nothing from
``tornado`` at module level.  It holds the ``Configurable`` pattern used to
pick an implementation class at run time (``IOLoop``, ``AsyncHTTPClient``,
``Resolver``, ``HTTPServer``), a streaming multi-member gzip decoder with an
output bound, and a handful of helpers for importing, executing and
re-raising.
"""


from __future__ import annotations

import builtins
import datetime
import inspect
import os
import re
import warnings
import zlib
from types import TracebackType
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Mapping,
    NoReturn,
    Optional,
    Sequence,
    Tuple,
    Type,
)

# Aliases kept for code written when Python 2 was still supported.
bytes_type = bytes
unicode_type = str
basestring_type = str

# Since Tornado 6.2 this is the standard library's exception; the name is
# kept so that ``except tornado.util.TimeoutError`` keeps working.
TimeoutError = builtins.TimeoutError

_ExcInfo = Tuple[
    Optional[Type[BaseException]], Optional[BaseException], Optional[TracebackType]
]


class ObjectDict(dict):  # type: ignore[type-arg]
    """A dictionary whose keys can also be read and written as attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value


_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib: expect a gzip header and trailer
_UNBOUNDED_WARNING = (
    "GzipDecompressor.decompress() needs a max_length; unbounded output is deprecated"
)
_ABSENT = object()


class GzipDecompressor:
    """Streaming decoder for gzip data (RFC 1952) with bounded output.

    A gzip stream may hold several members one after the other; their
    decompressed contents are concatenated.  Anything after the last member
    that is not itself a gzip member (trailing garbage) is an error, as is a
    stream that ends in the middle of a member.

    Call `decompress` with each chunk of input; pass ``max_length`` to bound
    the output of one call.  Input that could not be processed within that
    bound is left in `unconsumed_tail` and must be passed to `decompress`
    again.  Call `flush` at the end of the input.

    All malformed input is reported as `zlib.error`.
    """

    def __init__(self) -> None:
        # The decoder of the member being read, or None between members
        # (and before the first one).
        self._member: Optional[Any] = None
        self._tail = b""

    def decompress(self, value: bytes, max_length: int = 0) -> bytes:
        """Feed ``value`` in; return the output it yields, up to ``max_length``.

        When the bound stops decoding early, the input not yet looked at is
        kept in `unconsumed_tail`; feed that back in to get the rest.

        .. deprecated:: 6.6
           ``max_length=0`` (the default) means "no bound": one small chunk
           can then expand to any size.  Always pass a bound.
        """
        bounded = max_length > 0
        if not bounded:
            warnings.warn(_UNBOUNDED_WARNING, DeprecationWarning, stacklevel=2)
        budget = max_length
        pieces: List[bytes] = []
        pending = value
        self._tail = b""
        while pending or self._member is not None:
            if self._member is None:
                self._member = zlib.decompressobj(_GZIP_WBITS)
            member = self._member
            piece = member.decompress(pending, budget if bounded else 0)
            if piece:
                pieces.append(piece)
                budget -= len(piece)
            if not member.eof:
                # Either all input is used up (mid-member) or the budget ran
                # out; in the second case zlib kept the rest for us.
                self._tail = member.unconsumed_tail
                break
            # This member is finished; any bytes after it begin another.
            self._member = None
            pending = member.unused_data
            if bounded and budget <= 0:
                self._tail = pending
                break
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    @property
    def unconsumed_tail(self) -> bytes:
        """The input left over by the last `decompress` call.

        Non-empty only when ``max_length`` was reached; pass it back to
        `decompress` to get the rest of the output.
        """
        return self._tail

    def flush(self) -> bytes:
        """Finish decoding and return any output still buffered.

        Raises `zlib.error` if the input ended in the middle of a gzip
        member, and `ValueError` if `unconsumed_tail` is not empty (the
        caller stopped feeding input back in; decoding it here would undo
        the output bound).
        """
        if self._tail:
            raise ValueError(
                "GzipDecompressor.flush called with %d bytes of unconsumed input"
                % len(self._tail)
            )
        member = self._member
        if member is None:
            return b""
        data = member.flush()
        if not member.eof:
            raise zlib.error("gzip stream is truncated")
        if member.unused_data:
            raise zlib.error("trailing data after gzip stream")
        self._member = None
        return data


def import_object(name: str) -> Any:
    """Return the module or module member that a dotted path names.

    A name without dots is imported as a top-level module.  Otherwise the
    last component is looked up on the module named by the rest (which is
    imported first); if it is a submodule not yet loaded, importing the
    parent with it in ``fromlist`` loads it.  A missing member raises
    `ImportError`.

    >>> import os.path
    >>> import_object('os.path') is os.path
    True
    >>> import_object('os.path.join') is os.path.join
    True
    >>> import_object('os.no_such_member')
    Traceback (most recent call last):
        ...
    ImportError: No module named no_such_member
    """
    parent, dot, last = name.rpartition(".")
    if not dot:
        return __import__(name)
    owner = __import__(parent, fromlist=[last])
    found = getattr(owner, last, _ABSENT)
    if found is _ABSENT:
        raise ImportError("No module named %s" % last)
    return found


def exec_in(
    code: Any, glob: Dict[str, Any], loc: Optional[Mapping[str, Any]] = None
) -> None:
    """Execute ``code`` (source text or a code object) in the given namespaces.

    Source text is compiled without inheriting the caller's ``__future__``
    flags, so it behaves the same wherever ``exec_in`` is called from.
    """
    if isinstance(code, str):
        code = compile(code, "<string>", "exec", dont_inherit=True)
    exec(code, glob, loc)


def raise_exc_info(exc_info: _ExcInfo) -> NoReturn:
    """Re-raise the exception of an ``exc_info`` triple with its traceback.

    The exception object itself is raised again (not a copy), so exceptions
    whose constructors take unusual arguments survive the round trip.
    """
    try:
        if exc_info[1] is not None:
            raise exc_info[1].with_traceback(exc_info[2])
        raise TypeError("raise_exc_info called with no exception")
    finally:
        # Drop the local reference to the traceback to avoid a cycle
        # between this frame and the traceback that refers to it.
        exc_info = (None, None, None)


def errno_from_exception(e: BaseException) -> Optional[int]:
    """Return the errno of an exception, or None if it carries none.

    Some exceptions set ``errno``; others only pass the code as their first
    argument.  This handles both.
    """
    if hasattr(e, "errno"):
        return e.errno  # type: ignore[no-any-return]
    if e.args:
        return e.args[0]  # type: ignore[no-any-return]
    return None


_RE_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _re_unescape_char(m: "re.Match[str]") -> str:
    char = m.group(1)
    if char.isalnum():
        raise ValueError("cannot unescape '\\\\%s'" % char)
    return char


def re_unescape(s: str) -> str:
    r"""Undo `re.escape`: return the literal text an escaped pattern matches.

    Raises `ValueError` for escapes that do not stand for a literal
    character, such as ``\d``, ``\b`` or ``\Z``.

    .. versionadded:: 4.4
    """
    return _RE_UNESCAPE.sub(_re_unescape_char, s)


# What Configurable.configure() recorded for an interface: the chosen
# implementation (None: use the default) and the keyword arguments bound to
# it.  Kept in the interface class's own __dict__ (see _setting_of), so an
# interface nested below another never inherits its parent's choice.
_Setting = Tuple[Optional[type], Optional[Dict[str, Any]]]
_UNSET: _Setting = (None, None)


class Configurable:
    """A class whose constructor builds an instance of a chosen subclass.

    Some interfaces (`.IOLoop`, `.AsyncHTTPClient`, `.Resolver`) have
    several implementations, and the application picks one for the whole
    process.  The interface class, which `configurable_base` names, keeps
    that choice: calling the interface constructs the implementation set
    by `configure`, or `configurable_default` when nothing was set, while
    calling a concrete subclass constructs that subclass.

    Because the interface's constructor stands in for the subclass's,
    subclasses do their set-up in `initialize`, which receives the call's
    arguments together with any keyword arguments bound by `configure`.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        interface = cls.configurable_base()
        target = cls
        if cls is interface:
            target = cls.configured_class()
            bound = _setting_of(interface)[1]
            if bound:
                kwargs = {**bound, **kwargs}
        if target.configurable_base() is not interface:
            # The chosen class is the interface of a further level of
            # configuration; its own constructor makes the final choice.
            return target(*args, **kwargs)
        instance = super().__new__(target)
        extra = target._extra_keywords
        taken = None
        if extra and not extra.isdisjoint(kwargs):
            taken = {k: v for k, v in kwargs.items() if k in extra}
            kwargs = {k: v for k, v in kwargs.items() if k not in extra}
        # type.__call__ would run __init__ with the caller's arguments only,
        # without the bound ones; hence a separate initialize() hook.
        instance.initialize(*args, **kwargs)
        if taken:
            instance._take_extra_keywords(**taken)
        return instance

    # Keyword arguments that an implementation accepts beyond the parameters
    # of its initialize(): options this package adds to Tornado 6.6's
    # interfaces (``HTTPServer(..., http2=True)``, say).  initialize() keeps
    # the signature that 6.6 gives it, which code built on Tornado (and
    # Tornado's own API snapshot) compares against; the constructor hands
    # these to _take_extra_keywords() once initialize() has run, whether
    # they were passed to the call or bound by configure().
    _extra_keywords: "frozenset[str]" = frozenset()

    def _take_extra_keywords(self, **kwargs: Any) -> None:
        """Receives the keyword arguments named in ``_extra_keywords``
        that a construction was given (see above)."""
        raise NotImplementedError()

    @classmethod
    def configurable_base(cls):  # type: ignore[no-untyped-def]
        """The interface class: the one whose constructor does the choosing.

        Subclasses that define an interface override this, typically to
        return the class itself.
        """
        raise NotImplementedError()

    @classmethod
    def configurable_default(cls):  # type: ignore[no-untyped-def]
        """The implementation built when `configure` chose none."""
        raise NotImplementedError()

    def initialize(self) -> None:
        """Set up a new instance; the replacement for ``__init__``.

        Gets the constructor's arguments plus the keyword arguments that
        `configure` bound.
        """

    @classmethod
    def configure(cls, impl, **kwargs):  # type: ignore[no-untyped-def]
        """Choose the implementation that the interface constructs.

        ``impl`` is a subclass, its dotted name, or None for the default
        one.  ``kwargs`` are handed to `initialize` on every construction
        through the interface.  `ValueError` if ``impl`` is not a subclass.
        """
        chosen = import_object(impl) if isinstance(impl, str) else impl
        if chosen is not None and not issubclass(chosen, cls):
            raise ValueError("Invalid subclass of %s: %r" % (cls.__name__, chosen))
        cls.configurable_base()._Configurable__setting = (chosen, kwargs)

    @classmethod
    def configured_class(cls):  # type: ignore[no-untyped-def]
        """The implementation the interface would construct right now."""
        interface = cls.configurable_base()
        chosen, bound = _setting_of(interface)
        if chosen is None:
            chosen = cls.configurable_default()
            if chosen is None:
                raise ValueError("configured class not found for %s" % cls.__name__)
            # Remember the default so it is looked up only once.
            interface._Configurable__setting = (chosen, bound)
        return chosen

    @classmethod
    def _save_configuration(cls) -> _Setting:
        return _setting_of(cls.configurable_base())

    @classmethod
    def _restore_configuration(cls, saved: _Setting) -> None:
        cls.configurable_base()._Configurable__setting = saved


def _setting_of(interface: type) -> _Setting:
    """The configure() record of ``interface`` itself, never an ancestor's."""
    return interface.__dict__.get("_Configurable__setting", _UNSET)  # type: ignore[no-any-return]


def _positional_names(func: Callable) -> List[str]:
    """Names of the parameters of ``func`` that may be passed by position."""
    try:
        return inspect.getfullargspec(func).args
    except TypeError:
        # Cython functions defeat inspect but keep a func_code attribute.
        code = getattr(func, "func_code", None)
        if code is None:
            raise
        return list(code.co_varnames[: code.co_argcount])


class ArgReplacer:
    """Reads or swaps one argument, by name, in calls to a known function.

    The argument may arrive by position, by keyword, or not at all; the
    replacer looks in ``args`` first (when the parameter can be positional
    and enough positional arguments were given), then in ``kwargs``.
    """

    def __init__(self, func: Callable, name: str) -> None:
        self.name = name
        params = _positional_names(func)
        # None: keyword-only (or absorbed by **kwargs).
        self.arg_pos: Optional[int] = params.index(name) if name in params else None

    def _positional_in(self, args: Sequence[Any]) -> bool:
        return self.arg_pos is not None and self.arg_pos < len(args)

    def get_old_value(self, args: Sequence[Any], kwargs: Dict[str, Any],
                      default: Any = None) -> Any:
        """The argument's value in this call; ``default`` if not passed."""
        if self._positional_in(args):
            return args[self.arg_pos]  # type: ignore[index]
        return kwargs.get(self.name, default)

    def replace(self, new_value: Any, args: Sequence[Any],
                kwargs: Dict[str, Any]) -> Tuple[Any, Sequence[Any], Dict[str, Any]]:
        """Put ``new_value`` in place of the argument.

        Returns ``(previous, args, kwargs)``: ``previous`` is the replaced
        value (None if the call lacked it).  A positional argument is
        replaced in a new list; otherwise ``kwargs`` gets the value, in
        place, under the argument's name.
        """
        if not self._positional_in(args):
            previous = kwargs.get(self.name)
            kwargs[self.name] = new_value
            return previous, args, kwargs
        updated = list(args)
        position: int = self.arg_pos  # type: ignore[assignment]
        previous, updated[position] = updated[position], new_value
        return previous, updated, kwargs


def timedelta_to_seconds(td: datetime.timedelta) -> float:
    """Return the total number of seconds in a `datetime.timedelta`."""
    return td.total_seconds()


def _websocket_mask_python(mask: bytes, data: bytes) -> bytes:
    """XOR ``data`` with the 4-byte WebSocket ``mask`` repeated (RFC 6455 5.3).

    Works on the whole buffer as one big integer, which is much faster in
    pure Python than a loop over bytes.  Applying the same mask twice gives
    back the original data.  Raises `ValueError` if ``mask`` is not exactly
    four bytes long.
    """
    if len(mask) != 4:
        raise ValueError("websocket mask must be 4 bytes, got %d: %r" % (len(mask), mask))
    n = len(data)
    if not n:
        return b""
    key = (bytes(mask) * ((n >> 2) + 1))[:n]
    return (
        int.from_bytes(data, "little") ^ int.from_bytes(key, "little")
    ).to_bytes(n, "little")


class _LazyRegex:
    """A class attribute that is a regular expression compiled on first use.

    Compiling a large pattern (the HTTP grammar's, say) costs more than
    the rest of importing a module, and most processes use few of them.
    On the first access through the class, the compiled pattern replaces
    this object in the class (under every name bound to it), so later
    accesses are plain attribute lookups.
    """

    def __init__(self, pattern: "str | bytes", flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def __get__(self, instance: Any, owner: type) -> "re.Pattern":
        compiled = re.compile(self.pattern, self.flags)
        for name, value in list(vars(owner).items()):
            if value is self:
                setattr(owner, name, compiled)
        return compiled


def _load_speedups() -> Any:
    """The C accelerator module `tornado.speedups`, or None.

    None when it was not built (setup.py builds it where a compiler is
    available) or when the environment variable ``TORNADO_NO_EXTENSION``
    is set to anything but an empty string or ``0``: that forces every
    pure-Python twin, for tests and comparisons.  Each accelerated function
    has a pure-Python twin that gives the same results
    (tests/test_speedups.py checks them against each other).
    """
    if os.environ.get("TORNADO_NO_EXTENSION", "") not in ("", "0"):
        return None
    try:
        from tornado import speedups
    except ImportError:
        return None
    return speedups


_speedups = _load_speedups()

# websocket code imports this name: the C accelerator when there is one,
# else the pure version.
_websocket_mask = _speedups.websocket_mask if _speedups is not None else _websocket_mask_python


def doctests():  # type: ignore[no-untyped-def]
    """Return a unittest suite of this module's doctests."""
    import doctest  # only the tests need it: not paid for at import

    return doctest.DocTestSuite()

