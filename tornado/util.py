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
import doctest
import inspect
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
        """Decompress a chunk, returning at most ``max_length`` bytes.

        Input not consumed because the output limit was reached is stored
        in `unconsumed_tail`; the caller feeds it back in to continue.

        .. deprecated:: 6.6
           Calling without ``max_length`` (or with 0) decompresses without
           any bound, which exposes the caller to decompression bombs.
        """
        if not max_length:
            warnings.warn(
                "GzipDecompressor.decompress without max_length is deprecated",
                DeprecationWarning,
                stacklevel=2,
            )
        unlimited = not max_length
        remaining = max_length
        out: List[bytes] = []
        data = value
        while True:
            member = self._member
            if member is None:
                if not data:
                    self._tail = b""
                    break
                member = self._member = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = member.decompress(data, 0 if unlimited else remaining)
            if chunk:
                out.append(chunk)
                remaining -= len(chunk)
            if not member.eof:
                self._tail = member.unconsumed_tail
                break
            # The member is complete; whatever follows starts the next one.
            self._member = None
            data = member.unused_data
            if not unlimited and remaining <= 0:
                self._tail = data
                break
        if len(out) == 1:
            return out[0]
        return b"".join(out)

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
    """Import a module, or an object inside a module, by its dotted name.

    ``import_object('x')`` is ``import x``; ``import_object('x.y.z')`` is
    ``from x.y import z`` (falling back to importing the module ``x.y.z``).

    >>> import tornado.escape
    >>> import_object('tornado.escape') is tornado.escape
    True
    >>> import_object('tornado.escape.utf8') is tornado.escape.utf8
    True
    >>> import_object('tornado') is tornado
    True
    >>> import_object('tornado.missing_module')
    Traceback (most recent call last):
        ...
    ImportError: No module named missing_module
    """
    if "." not in name:
        return __import__(name)
    module_name, _, attr = name.rpartition(".")
    module = __import__(module_name, fromlist=[attr])
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError("No module named %s" % attr) from None


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


class Configurable:
    """Base class for interfaces whose implementation is chosen at run time.

    A configurable interface is a class whose constructor acts as a factory
    for one of its subclasses.  The interface (the class returned by
    `configurable_base`) remembers an implementation, chosen by `configure`
    or defaulting to `configurable_default`; constructing the interface
    constructs that implementation instead.  Constructing a subclass
    directly always gives that subclass.

    Subclasses put their constructor logic in `initialize`, not
    ``__init__``, and `configure` may bind keyword arguments that are
    passed to it whenever the interface is constructed.
    """

    # Stored only on the class returned by configurable_base(); read with
    # cls.__dict__ so that a nested configurable base does not see the
    # setting of its parent through inheritance.
    __impl_class: Optional[Type["Configurable"]] = None
    __impl_kwargs: Optional[Dict[str, Any]] = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        base = cls.configurable_base()
        init_kwargs: Dict[str, Any] = {}
        if cls is base:
            impl = cls.configured_class()
            saved_kwargs = base.__dict__.get("_Configurable__impl_kwargs")
            if saved_kwargs:
                init_kwargs.update(saved_kwargs)
        else:
            impl = cls
        init_kwargs.update(kwargs)
        if impl.configurable_base() is not base:
            # The implementation is itself a configurable interface: let it
            # choose its own implementation.
            return impl(*args, **init_kwargs)
        instance = super().__new__(impl)
        # initialize() rather than __init__(): __init__ would be called
        # again by type.__call__ with the original arguments only.
        instance.initialize(*args, **init_kwargs)
        return instance

    @classmethod
    def configurable_base(cls):  # type: ignore[no-untyped-def]
        """Return the interface class whose constructor picks the implementation.

        Usually the class that defines this method returns itself.
        """
        raise NotImplementedError()

    @classmethod
    def configurable_default(cls):  # type: ignore[no-untyped-def]
        """Return the implementation used when none has been configured."""
        raise NotImplementedError()

    def initialize(self) -> None:
        """Initialize a `Configurable` subclass instance.

        Configurable classes call this instead of ``__init__``; it receives
        the constructor's arguments plus any keyword arguments given to
        `configure`.
        """

    @classmethod
    def configure(cls, impl, **kwargs):  # type: ignore[no-untyped-def]
        """Set the implementation class (or dotted name) for this interface.

        Keyword arguments are saved and passed to the implementation's
        `initialize` whenever the interface is constructed.  ``impl`` may be
        None to keep the default class while setting keyword arguments.
        """
        base = cls.configurable_base()
        if isinstance(impl, str):
            impl = import_object(impl)
        if impl is not None and not issubclass(impl, cls):
            raise ValueError("Invalid subclass of %s: %r" % (cls.__name__, impl))
        base.__impl_class = impl
        base.__impl_kwargs = kwargs

    @classmethod
    def configured_class(cls):  # type: ignore[no-untyped-def]
        """Return the implementation class currently configured."""
        base = cls.configurable_base()
        impl = base.__dict__.get("_Configurable__impl_class")
        if impl is None:
            impl = cls.configurable_default()
            base.__impl_class = impl
        if impl is None:
            raise ValueError("configured class not found for %s" % cls.__name__)
        return impl

    @classmethod
    def _save_configuration(cls) -> Tuple[Any, Any]:
        base = cls.configurable_base()
        return (
            base.__dict__.get("_Configurable__impl_class"),
            base.__dict__.get("_Configurable__impl_kwargs"),
        )

    @classmethod
    def _restore_configuration(cls, saved: Tuple[Any, Any]) -> None:
        base = cls.configurable_base()
        base.__impl_class = saved[0]
        base.__impl_kwargs = saved[1]


class ArgReplacer:
    """Find and replace one named argument of calls to a given function.

    Works whether the argument is passed by position or by keyword, and
    whether or not it is passed at all.
    """

    def __init__(self, func: Callable, name: str) -> None:
        self.name = name
        try:
            self.arg_pos: Optional[int] = self._getargnames(func).index(name)
        except ValueError:
            # The argument can only be passed by keyword.
            self.arg_pos = None

    def _getargnames(self, func: Callable) -> List[str]:
        try:
            return inspect.getfullargspec(func).args
        except TypeError:
            # Cython-compiled functions are not introspectable by inspect
            # but still carry a code object.
            if hasattr(func, "func_code"):
                code = func.func_code
                return list(code.co_varnames[: code.co_argcount])
            raise

    def get_old_value(
        self, args: Sequence[Any], kwargs: Dict[str, Any], default: Any = None
    ) -> Any:
        """Return the argument's value in a call, or ``default`` if absent."""
        if self.arg_pos is not None and len(args) > self.arg_pos:
            return args[self.arg_pos]
        return kwargs.get(self.name, default)

    def replace(
        self, new_value: Any, args: Sequence[Any], kwargs: Dict[str, Any]
    ) -> Tuple[Any, Sequence[Any], Dict[str, Any]]:
        """Replace the argument's value in a call.

        Returns ``(old_value, args, kwargs)``; ``old_value`` is None if the
        argument was not passed.  If it was not passed positionally it is
        (re)set as a keyword argument.
        """
        if self.arg_pos is not None and len(args) > self.arg_pos:
            old_value = args[self.arg_pos]
            args = list(args)
            args[self.arg_pos] = new_value
        else:
            old_value = kwargs.get(self.name)
            kwargs[self.name] = new_value
        return old_value, args, kwargs


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


# websocket code imports this name: the C accelerator when it was built
# (setup.py builds it where a compiler is available), else the pure version.
try:
    from tornado.speedups import websocket_mask as _websocket_mask
except ImportError:
    _websocket_mask = _websocket_mask_python


def doctests():  # type: ignore[no-untyped-def]
    """Return a unittest suite of this module's doctests."""
    return doctest.DocTestSuite()

