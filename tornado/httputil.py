"""HTTP utility code shared by clients and servers.

This module holds the protocol-independent pieces of HTTP: the header
container `HTTPHeaders`, the request object `HTTPServerRequest` that
`tornado.web.RequestHandler.request` exposes, the start lines, the
interfaces (`HTTPConnection`, `HTTPMessageDelegate`,
`HTTPServerConnectionDelegate`) that connect a wire protocol such as
`tornado.http1connection` to an application, and the parsers for form
bodies, cookies and dates.

Parsing here is pure (no I/O) and strict: the grammar lives in `_ABNF`, each
rule next to the RFC 9110 / 9112 / 3986 text it encodes, and every rejection
raises `HTTPInputError` naming the offending input.  Every parser runs in
time linear in its input; the limits in `ParseBodyConfig` bound the work a
request body can ask for.

It builds only on `tornado.escape`, `tornado.log` and `tornado.util`.
"""


from __future__ import annotations

import calendar
import collections.abc
from dataclasses import dataclass, field
import datetime
import http
import http.cookies
import re
import ssl
import time
import typing
import unicodedata
import urllib.parse
import warnings
import weakref
from typing import (
    Any,
    AnyStr,  # noqa: F401 - part of this module's historical namespace
    Awaitable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Tuple,
    Union,
)
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

from tornado.escape import parse_qs_bytes, utf8
from tornado.util import ObjectDict, _LazyRegex

#: Status code -> reason phrase, the same table as ``http.client.responses``
#: (made from `http.HTTPStatus` here: importing http.client would also load
#: the email package, a tenth of our import time).
responses: Dict[int, str] = {status.value: status.phrase for status in http.HTTPStatus}

if typing.TYPE_CHECKING:
    import unittest  # noqa: F401

#: The whitespace that HTTP strips around field values: SP and HTAB
#: (RFC 9110 section 5.6.3, OWS).  Other characters that Python
#: considers whitespace (such as NBSP) are field content.
HTTP_WHITESPACE = " \t"


class _ABNF:
    """The HTTP grammar as compiled regular expressions.

    Each rule quotes the RFC it comes from.  The patterns are meant for
    ``fullmatch`` and are written so that matching never backtracks more
    than linearly.  Where we accept more than the RFC, the comment says
    why.  Each is compiled on its first use (`.util._LazyRegex`): most
    processes need only a few, and compiling them all was a third of the
    cost of importing this module.
    """

    # RFC 5234 appendix B.1: VCHAR = %x21-7E; RFC 9110 section 5.5:
    # obs-text = %x80-FF (bytes outside ASCII, seen here as the Latin-1
    # characters they decode to).
    _vchar = "\\x21-\\x7e"
    _obs_text = "\\x80-\\xff"

    # RFC 9110 section 5.6.2:
    #   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "."
    #         / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    #   token = 1*tchar
    tchar = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]"
    token = _LazyRegex(tchar + "+")

    # RFC 9110 section 5.1: field-name = token
    field_name = token

    # RFC 9110 section 5.5:
    #   field-value   = *field-content
    #   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
    #   field-vchar   = VCHAR / obs-text
    # So a value neither starts nor ends with whitespace, and holds no
    # control character other than HTAB (no CR, LF or NUL: RFC 9110
    # section 5.5 says a recipient MUST reject or replace those).
    field_vchar = f"[{_vchar}{_obs_text}]"
    field_value = _LazyRegex(
        f"(?:{field_vchar}(?:[\\t\\x20{_vchar}{_obs_text}]*{field_vchar})?)?"
    )

    # RFC 9112 section 3.1: method = token
    method = token

    # RFC 9112 section 2.3:
    #   HTTP-version = HTTP-name "/" DIGIT "." DIGIT
    #   HTTP-name    = %s"HTTP"
    http_version = _LazyRegex("HTTP/[0-9]\\.[0-9]")

    # RFC 9112 section 4:
    #   status-line   = HTTP-version SP status-code SP [ reason-phrase ]
    #   status-code   = 3DIGIT
    #   reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
    status_code = _LazyRegex("[0-9]{3}")
    reason_phrase = _LazyRegex(f"[\\t\\x20{_vchar}{_obs_text}]+")
    status_line = _LazyRegex(
        f"(HTTP/[0-9]\\.[0-9]) ([0-9]{{3}}) ([\\t\\x20{_vchar}{_obs_text}]*)"
    )

    # RFC 3986 section 2 and 3, the pieces of a request-target.
    unreserved = "[A-Za-z0-9\\-._~]"
    pct_encoded = "%[0-9A-Fa-f]{2}"
    sub_delims = "[!$&'()*+,;=]"
    pchar = f"(?:{unreserved}|{pct_encoded}|{sub_delims}|[:@])"
    segment = f"{pchar}*"
    query = f"(?:{pchar}|[/?])*"
    scheme = "[A-Za-z][A-Za-z0-9+\\-.]*"
    port = "[0-9]*"
    # IP-literal = "[" ( IPv6address / IPvFuture ) "]".  The IPv6 grammar
    # is long and gains nothing here: the brackets and hex digits, colons
    # and dots are what keep a Host header from smuggling anything.
    ip_literal = (
        "\\[(?:[0-9A-Fa-f:.]+"
        f"|[vV][0-9A-Fa-f]+\\.(?:{unreserved}|{sub_delims}|:)+)\\]"
    )
    # reg-name = *( unreserved / pct-encoded / sub-delims ); it also
    # covers IPv4address.
    reg_name = f"(?:{unreserved}|{pct_encoded}|{sub_delims})*"
    uri_host = f"(?:{ip_literal}|{reg_name})"
    userinfo = f"(?:{unreserved}|{pct_encoded}|{sub_delims}|:)*"
    authority = f"(?:{userinfo}@)?{uri_host}(?::{port})?"
    path_abempty = f"(?:/{segment})*"
    # path-absolute = "/" [ segment-nz *( "/" segment ) ]
    path_absolute = f"/(?:{pchar}+(?:/{segment})*)?"
    path_rootless = f"{pchar}+(?:/{segment})*"

    # RFC 9112 section 3.2:
    #   request-target = origin-form / absolute-form / authority-form
    #                  / asterisk-form
    #   origin-form    = absolute-path [ "?" query ]
    #   absolute-form  = absolute-URI
    #   authority-form = uri-host ":" port
    #   asterisk-form  = "*"
    # (RFC 9110 section 4.1: absolute-path = 1*( "/" segment ); RFC 3986
    # section 4.3: absolute-URI = scheme ":" hier-part [ "?" query ].)
    origin_form = f"(?:/{segment})+(?:\\?{query})?"
    absolute_form = (
        f"{scheme}:(?://{authority}{path_abempty}|{path_absolute}"
        f"|{path_rootless}|)(?:\\?{query})?"
    )
    authority_form = f"{uri_host}:{port}"
    asterisk_form = "\\*"
    request_target = _LazyRegex(
        f"(?:{origin_form}|{absolute_form}|{authority_form}|{asterisk_form})"
    )

    # RFC 9110 section 7.2: Host = uri-host [ ":" port ]
    host = _LazyRegex(f"{uri_host}(?::{port})?")


# What the server accepts as a request-target.  Deliberately looser than
# `_ABNF.request_target`: clients send raw UTF-8 and characters such as
# "\", "<" or "|" unescaped, and rejecting them would break real traffic
# without protecting anything, since the target is only ever split and
# unescaped, never used for framing.  What framing depends on is kept out:
# no whitespace (the line is split on SP) and no control characters.
_LENIENT_TARGET = "[\\x21-\\x7e\\x80-\\xff]+"

# RFC 9112 section 3: request-line = method SP request-target SP HTTP-version.
# Only HTTP/1.x is served; section 2.3 lets a server treat 1.x for any
# minor x as the 1.1 it implements.
_REQUEST_LINE_RE = re.compile(
    f"({_ABNF.tchar}+) ({_LENIENT_TARGET}) (HTTP/1\\.[0-9])"
)

# Characters that may not appear anywhere in a header block decoded from
# bytes: the controls other than HTAB, CR and LF, DEL, anything that did
# not come from a single byte, and a CR that does not end a line (RFC 9112
# section 2.2: a bare CR MUST be rejected or replaced).  A CR at the very
# end of the text ends its line like a CRLF would.
_BAD_HEADER_BYTES_RE = re.compile("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]|[^\\x00-\\xff]|\r(?![\n]|\\Z)")
# The same for text that was decoded as UTF-8 (multipart part headers):
# there any non-ASCII character is content.
_BAD_HEADER_CHARS_RE = re.compile("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]|\r(?![\n]|\\Z)")
# A header block made only of well-formed field lines (RFC 9112 section 5:
# field-line = field-name ":" OWS field-value OWS), ended by CRLF or LF
# (section 2.2), with empty lines anywhere and the last line's terminator
# optional.  Values are checked for their characters only (HTAB, SP,
# VCHAR, obs-text); anything else goes to the careful line-by-line parser,
# which accepts the same blocks and explains what is wrong with the rest.
# Linear, and in constant memory: the quantifiers are possessive (nothing
# to backtrack into, as names stop at the colon and values at the line
# end), so the regex engine keeps no state per line.
_FIELD_CHARS = "[\\t\\x20-\\x7e\\x80-\\xff]*+"
_FIELD_LINE = f"{_ABNF.tchar}++:{_FIELD_CHARS}"
_FIELD_BLOCK_RE = re.compile(f"(?:(?:{_FIELD_LINE})?\\r?\\n)*+(?:{_FIELD_LINE})?")
# One field line of such a block: the name, and the value without the
# whitespace around it (a run of blanks inside the value is kept only when
# more of the value follows).
_FIELD_LINE_RE = re.compile(
    f"({_ABNF.tchar}++):[ \\t]*+"
    "((?:[\\x21-\\x7e\\x80-\\xff]++(?:[ \\t]++[\\x21-\\x7e\\x80-\\xff]++)*+)?)[ \\t]*+"
)
_match_groups = re.Match.groups
# Blocks up to this size are split with findall (quicker than finditer).
_FINDALL_LIMIT = 8192
# In a single value handed to `HTTPHeaders.add`, no line break at all.
_BAD_VALUE_CHARS_RE = re.compile("[\\x00-\\x08\\x0a-\\x1f\\x7f]")


class HTTPInputError(Exception):
    """The peer sent something that is not valid HTTP (or exceeds a limit).

    The message names the offending input.  A server answers with 400 Bad
    Request unless the error says otherwise, and closes the connection.

    .. versionadded:: 4.0
    """


class HTTPOutputError(Exception):
    """The application asked us to send something that is not valid HTTP,
    such as more (or less) body than its ``Content-Length`` promised.

    .. versionadded:: 4.0
    """


class _StatusInputError(HTTPInputError):
    """An `HTTPInputError` for which a server answers with a status other
    than 400 Bad Request (for example 431 or 505)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


def _header_value(headers: "HTTPHeaders", norm_name: str) -> Optional[str]:
    """``headers.get(norm_name)`` for a name already in Http-Header-Case,
    without the cost of a KeyError when it is absent."""
    values = headers._as_list.get(norm_name)
    if values is None:
        return None
    if len(values) == 1:
        return values[0]
    return ",".join(values)


def _error_status(e: HTTPInputError) -> int:
    """The status code a server sends back for a malformed request."""
    return getattr(e, "status_code", 400)


# Normalised spellings of header names, keyed by the spelling received.
# Only names that are valid tokens get in, so a hit also means "valid".
# Bounded, since clients choose the keys; the common names are put back
# after a reset.
_NORMALIZED_NAMES: Dict[str, str] = {}
_NORMALIZED_NAMES_LIMIT = 1000
_COMMON_HEADER_NAMES = (
    "Accept Accept-Charset Accept-Encoding Accept-Language Accept-Ranges Age "
    "Allow Authorization Cache-Control Connection Content-Disposition "
    "Content-Encoding Content-Language Content-Length Content-Location "
    "Content-Range Content-Security-Policy Content-Type Cookie Date Dnt Etag "
    "Expect Expires Forwarded From Host If-Match If-Modified-Since "
    "If-None-Match If-Range If-Unmodified-Since Keep-Alive Last-Modified Link "
    "Location Origin Pragma Proxy-Authorization Range Referer Retry-After "
    "Sec-Fetch-Dest Sec-Fetch-Mode Sec-Fetch-Site Sec-Fetch-User "
    "Sec-Websocket-Accept Sec-Websocket-Extensions Sec-Websocket-Key "
    "Sec-Websocket-Protocol Sec-Websocket-Version Server Set-Cookie Te "
    "Trailer Transfer-Encoding Upgrade Upgrade-Insecure-Requests User-Agent "
    "Vary Via Www-Authenticate X-Consumed-Content-Encoding X-Forwarded-For "
    "X-Forwarded-Host X-Forwarded-Proto X-Real-Ip X-Requested-With X-Scheme "
    "X-Xsrftoken X-Csrftoken"
).split()


def _seed_normalized_names() -> None:
    for name in _COMMON_HEADER_NAMES:
        for spelling in (name, name.lower()):
            _NORMALIZED_NAMES[spelling] = name


_seed_normalized_names()


def _normalize_new_name(name: str) -> str:
    """Return ``name`` in Http-Header-Case, remembering it if it is valid."""
    normalized = "-".join(word.capitalize() for word in name.split("-"))
    if _ABNF.field_name.fullmatch(name):
        if len(_NORMALIZED_NAMES) >= _NORMALIZED_NAMES_LIMIT:
            _NORMALIZED_NAMES.clear()
            _seed_normalized_names()
        _NORMALIZED_NAMES[name] = normalized
    return normalized


def _normalize_header(name: str) -> str:
    """Map a header name to Http-Header-Case, for lookups.

    Every name that misses the cache goes through this module global, on
    parsing too: monitoring agents (New Relic) wrap it to keep the case of
    their own header names.

    >>> _normalize_header("coNtent-TYPE")
    'Content-Type'
    """
    normalized = _NORMALIZED_NAMES.get(name)
    if normalized is None:
        normalized = _normalize_new_name(name)
    return normalized


def _checked_header_name(name: str) -> str:
    """Like `_normalize_header`, but raise `HTTPInputError` unless ``name``
    is a valid field-name (RFC 9110 section 5.1)."""
    normalized = _NORMALIZED_NAMES.get(name)
    if normalized is None:
        if not isinstance(name, str) or not _ABNF.field_name.fullmatch(name):
            raise HTTPInputError("Invalid header name %r" % (name,))
        normalized = _normalize_header(name)
    return normalized


def _describe_bad_header_char(text: str, pos: int) -> str:
    """Say whether the bad character at ``pos`` is in a name or a value."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start : len(text) if end == -1 else end]
    if text.find(":", start, pos) == -1:
        return "Invalid header name %r" % (line,)
    return "Invalid header value %r" % (line,)


class HTTPHeaders(collections.abc.MutableMapping):  # type: ignore[type-arg]
    """A case-insensitive multi-dict of header fields.

    Names are looked up in any case and reported in ``Http-Header-Case``.
    A name may have several values: `add` appends one, `get_list` returns
    them all, and the plain mapping interface sees them joined with commas
    (the combination RFC 9110 section 5.3 allows).

    >>> h = HTTPHeaders({"x-request-id": "42"})
    >>> list(h)
    ['X-Request-Id']
    >>> h.add("Vary", "Accept")
    >>> h.add("VARY", "Cookie")
    >>> h["vary"], h.get_list("Vary")
    ('Accept,Cookie', ['Accept', 'Cookie'])
    >>> print(str(h), end="")
    X-Request-Id: 42
    Vary: Accept
    Vary: Cookie

    Names are kept in the order they were first added.  Values added with
    `add` or parsed with `parse` are validated against RFC 9110; assigning
    with ``headers[name] = value`` is not, as that is how applications set
    their own response headers (which `tornado.http1connection` checks for
    line breaks when it writes them).
    """

    # The accepted forms: a mapping of name to value or to a list of
    # values, (name, value) pairs, or keyword arguments.
    @typing.overload
    def __init__(self, __arg: Mapping[str, List[str]]) -> None: ...
    @typing.overload  # noqa: F811
    def __init__(self, __arg: Mapping[str, str]) -> None: ...
    @typing.overload  # noqa: F811
    def __init__(self, *args: Tuple[str, str]) -> None: ...
    @typing.overload  # noqa: F811
    def __init__(self, **kwargs: str) -> None: ...

    def __init__(self, *args: typing.Any, **kwargs: str) -> None:  # noqa: F811
        # Normalised name -> every value, in order.  The combined value of
        # a name is computed on demand, so adding stays O(1) however many
        # values a name has (CVE-2025-67725 was a quadratic rebuild).
        self._as_list: Dict[str, List[str]] = {}
        if not args and not kwargs:
            return
        if len(args) == 1 and not kwargs:
            arg = args[0]
            if isinstance(arg, HTTPHeaders):
                for name, values in arg._as_list.items():
                    self._as_list[name] = list(values)
                return
            if type(arg) is dict:
                for name, value in arg.items():
                    self[name] = value
                return
        self.update(*args, **kwargs)

    # new public methods

    def add(self, name: str, value: str, *, _chars_are_bytes: bool = True) -> None:
        """Append ``value`` to the values of ``name``.

        Raises `HTTPInputError` if ``name`` is not a valid field name or
        ``value`` not a valid field value (RFC 9110 section 5).
        """
        norm_name = _checked_header_name(name)
        if isinstance(value, bytes):
            value = value.decode("latin1")
        if _chars_are_bytes:
            if not _ABNF.field_value.fullmatch(value):
                raise HTTPInputError("Invalid header value %r" % (value,))
        elif _BAD_VALUE_CHARS_RE.search(value) or value != value.strip(
            HTTP_WHITESPACE
        ):
            raise HTTPInputError("Invalid header value %r" % (value,))
        values = self._as_list.get(norm_name)
        if values is None:
            self._as_list[norm_name] = [value]
        else:
            values.append(value)

    def get_list(self, name: str) -> List[str]:
        """Every value of ``name``, in the order added (empty if absent)."""
        return self._as_list.get(_normalize_header(name), [])

    def get_all(self) -> Iterable[Tuple[str, str]]:
        """Yield each (name, value) pair; a name with several values
        appears once per value."""
        for name, values in self._as_list.items():
            for value in values:
                yield (name, value)

    def parse_line(self, line: str, *, _chars_are_bytes: bool = True) -> None:
        r"""Add the field of one ``name: value`` line (its line ending, if
        any, and the whitespace around the value are dropped).

        >>> h = HTTPHeaders()
        >>> h.parse_line("Accept:  text/plain \r\n")
        >>> h["accept"]
        'text/plain'

        An empty line (the end of a header section) is ignored.  Raises
        `HTTPInputError` for a line without a colon, a folded continuation
        line, or an invalid name or value.
        """
        if line.endswith("\n"):
            line = line[:-1]
        if line.endswith("\r"):
            line = line[:-1]
        if not line:
            # The empty line that ends a header section.
            return
        if line[0] in HTTP_WHITESPACE:
            # RFC 9112 section 5.2: obs-fold is obsolete; a server MUST
            # reject it (or replace it), and we reject it in responses too
            # rather than guess how a value was meant to be joined.
            raise HTTPInputError("Line folding (obs-fold) is not supported: %r" % line)
        name, sep, value = line.partition(":")
        if not sep:
            raise HTTPInputError("no colon in header line: %r" % line)
        self.add(name, value.strip(HTTP_WHITESPACE), _chars_are_bytes=_chars_are_bytes)

    @classmethod
    def parse(cls, headers: str, *, _chars_are_bytes: bool = True) -> "HTTPHeaders":
        r"""Build an `HTTPHeaders` from a block of header lines.

        >>> h = HTTPHeaders.parse("Host: example.com\r\nAccept: */*\n")
        >>> sorted(h.items())
        [('Accept', '*/*'), ('Host', 'example.com')]

        Lines end with CRLF or a bare LF (RFC 9112 section 2.2); empty
        lines are skipped.  Anything malformed (a line without a colon, a
        folded line, an invalid name, a control character or bare CR)
        raises `HTTPInputError`.  ``headers`` is expected to be text
        decoded from the wire as Latin-1, one character per byte.
        """
        if _chars_are_bytes and _FIELD_BLOCK_RE.fullmatch(headers):
            # Fast path: the whole block is well-formed field lines (which
            # the regex checks in one pass), so a regex scan splits it.
            return cls._from_valid_block(headers, 0)
        # One scan of the whole text finds any forbidden character, so the
        # per-line loop below only splits lines and looks names up.
        bad_re = _BAD_HEADER_BYTES_RE if _chars_are_bytes else _BAD_HEADER_CHARS_RE
        bad = bad_re.search(headers)
        if bad is not None:
            raise HTTPInputError(_describe_bad_header_char(headers, bad.start()))
        h = cls()
        as_list = h._as_list
        known = _NORMALIZED_NAMES
        for line in headers.split("\n"):
            if line.endswith("\r"):
                line = line[:-1]
            if not line:
                continue
            name, sep, value = line.partition(":")
            norm_name = known.get(name) if sep else None
            if norm_name is None:
                if line[0] in HTTP_WHITESPACE:
                    # RFC 9112 section 5.2 (see parse_line).
                    raise HTTPInputError(
                        "Line folding (obs-fold) is not supported: %r" % (line,)
                    )
                if not sep:
                    raise HTTPInputError("no colon in header line: %r" % (line,))
                norm_name = _checked_header_name(name)
            value = value.strip(HTTP_WHITESPACE)
            values = as_list.get(norm_name)
            if values is None:
                as_list[norm_name] = [value]
            else:
                values.append(value)
        return h

    @classmethod
    def _from_canonical(cls, fields: Dict[str, List[str]]) -> "HTTPHeaders":
        """An `HTTPHeaders` that takes ``fields`` over as its contents: a
        dict from names already in Http-Header-Case to lists of values,
        neither copied nor checked.  (tornado.web builds each response's
        default headers this way.)"""
        # (A subclass gets its own __init__ run first.)
        h = cls.__new__(cls) if cls is HTTPHeaders else cls()
        h._as_list = fields
        return h

    @classmethod
    def _from_valid_block(cls, text: str, pos: int) -> "HTTPHeaders":
        """Build from the field lines of ``text`` after ``pos``, which
        `_FIELD_BLOCK_RE` has found well-formed.

        A usual block is split with findall; a large one with an iterator,
        as a list of every pair up front would double its peak memory.
        """
        if len(text) - pos <= _FINDALL_LIMIT:
            return cls._from_fields(_FIELD_LINE_RE.findall(text, pos))
        return cls._from_fields(map(_match_groups, _FIELD_LINE_RE.finditer(text, pos)))

    @classmethod
    def _from_fields(cls, fields: Iterable[Tuple[str, str]]) -> "HTTPHeaders":
        """Build from ``(name, value)`` pairs already known to be a valid
        field name and a valid field value."""
        known = _NORMALIZED_NAMES
        if type(fields) is list:
            # Usually each name comes once, and a comprehension is the
            # quickest way to build the mapping; a repeated name shows up
            # as a shorter mapping, and the loop below does it right.
            as_list = {known.get(name) or _normalize_header(name): [value] for name, value in fields}
            if len(as_list) == len(fields):
                return cls._from_canonical(as_list)
        as_list = {}
        for name, value in fields:
            norm_name = known.get(name) or _normalize_header(name)
            values = as_list.get(norm_name)
            if values is None:
                as_list[norm_name] = [value]
            else:
                values.append(value)
        return cls._from_canonical(as_list)

    # MutableMapping abstract method implementations.

    # The lookups below inline the name cache: they run several times for
    # every request and response.

    def __setitem__(self, name: str, value: str) -> None:
        self._as_list[_NORMALIZED_NAMES.get(name) or _normalize_header(name)] = [value]

    def __contains__(self, name: object) -> bool:
        # Cheaper than the Mapping default, which would build the value.
        norm_name = _NORMALIZED_NAMES.get(name)  # type: ignore[call-overload]
        if norm_name is None:
            if not isinstance(name, str):
                return False
            norm_name = _normalize_new_name(name)
        return norm_name in self._as_list

    def __getitem__(self, name: str) -> str:
        values = self._as_list[_NORMALIZED_NAMES.get(name) or _normalize_header(name)]
        if len(values) == 1:
            return values[0]
        return ",".join(values)

    def __delitem__(self, name: str) -> None:
        del self._as_list[_NORMALIZED_NAMES.get(name) or _normalize_header(name)]

    def __len__(self) -> int:
        return len(self._as_list)

    def __iter__(self) -> Iterator[typing.Any]:
        return iter(self._as_list)

    def copy(self) -> "HTTPHeaders":
        """Returns an independent copy: neither the mapping nor its
        value lists are shared."""
        return HTTPHeaders(self)

    # copy.copy() gets the same one-level-deeper copy as copy().
    def __copy__(self) -> "HTTPHeaders":
        return self.copy()

    def __str__(self) -> str:
        return "".join(f"{name}: {value}\n" for name, value in self.get_all())

    def __unicode__(self) -> str:
        return self.__str__()


class HTTPServerRequest:
    """One HTTP request as the server received it.

    Attributes (text is `str`, bodies and argument values are `bytes`):

    * ``method``, ``uri`` and ``version``: from the request line;
      ``path`` and ``query`` are ``uri`` split at the first ``?``.
    * ``headers``: an `HTTPHeaders`.
    * ``body``: the body, once it has been read (empty until then, and
      always empty for `.stream_request_body` handlers).
    * ``remote_ip`` and ``protocol`` (``"http"`` or ``"https"``): from the
      connection, or from a proxy's ``X-Real-Ip`` / ``X-Forwarded-For`` /
      ``X-Scheme`` / ``X-Forwarded-Proto`` headers when the server runs
      with ``xheaders=True``.
    * ``host`` (the ``Host`` header, else ``"127.0.0.1"``) and
      ``host_name`` (``host`` lower-cased, without the port).
    * ``query_arguments``, ``body_arguments`` and their union
      ``arguments``: each maps a name (`str`) to a list of values
      (`bytes`, undecoded; `.RequestHandler.get_argument` decodes them).
    * ``files``: maps a form field name to a list of `HTTPFile`.
    * ``connection``: the `HTTPConnection` the response is written to;
      ``server_connection`` the long-lived connection it belongs to.

    The query string is parsed when the request is created and is subject
    to the same limit on the number of arguments as a urlencoded body
    (`ParseUrlEncodedConfig.max_arguments`); past it the constructor raises
    `HTTPInputError`.

    .. versionchanged:: 4.0
       Moved from ``tornado.httpserver.HTTPRequest``.

    .. deprecated:: 6.6
       Pass ``start_line`` instead of ``method``, ``uri`` and ``version``.
    """

    path: str
    query: str

    # Set by tornado.web for handlers that stream the request body.
    _body_future: "Optional[Awaitable[None]]" = None
    # When the request finished, for request_time(); None while it runs.
    _finish_time: Optional[float] = None

    def __init__(
        self,
        method: Optional[str] = None,
        uri: Optional[str] = None,
        version: str = "HTTP/1.0",
        headers: Optional[HTTPHeaders] = None,
        body: Optional[bytes] = None,
        host: Optional[str] = None,
        files: Optional[Dict[str, List["HTTPFile"]]] = None,
        connection: Optional["HTTPConnection"] = None,
        start_line: Optional["RequestStartLine"] = None,
        server_connection: Optional[object] = None,
    ) -> None:
        if start_line is not None:
            method, uri, version = start_line
        elif method is not None or uri is not None:
            warnings.warn(
                "The method, uri and version arguments of HTTPServerRequest "
                "are deprecated; pass start_line=RequestStartLine(...) instead",
                DeprecationWarning,
                stacklevel=2,
            )
        self.method = method
        self.uri = uri
        self.version = version
        if headers is None:
            headers = HTTPHeaders()
        self.headers = headers
        self.body = body or b""

        # What the connection knows of the client (an HTTP1Connection's
        # context is the server's description of it).
        try:
            context = connection.context  # type: ignore[union-attr]
            self.remote_ip = context.remote_ip
            self.protocol = context.protocol
        except AttributeError:
            context = getattr(connection, "context", None)
            self.remote_ip = getattr(context, "remote_ip", None)
            self.protocol = getattr(context, "protocol", "http")

        if not host:
            values = headers._as_list.get("Host")
            if values is not None:
                host = values[0] if len(values) == 1 else ",".join(values)
            host = host or "127.0.0.1"
        self.host = host
        host_name = _HOST_NAMES.get(host)
        if host_name is None:
            host_name = _host_name(host)
        self.host_name = host_name
        self.files = files or {}
        self.connection = connection
        self.server_connection = server_connection
        self._start_time = time.time()

        path, _, query = (uri or "").partition("?")
        self.path = path
        self.query = query
        if query:
            self.arguments = _parse_query_arguments(query)
            self.query_arguments = {k: list(v) for k, v in self.arguments.items()}
        else:
            self.arguments = {}
            self.query_arguments = {}
        self.body_arguments: Dict[str, List[bytes]] = {}

    @property
    def cookies(self) -> "Dict[str, http.cookies.Morsel[Any]]":
        """The cookies the client sent, by name, as `http.cookies.Morsel`
        values.

        Computed from the ``Cookie`` header (with `parse_cookie`) the first
        time it is asked for.  A cookie whose name `http.cookies` will not
        accept is dropped rather than failing the whole request.
        """
        try:
            return self._cookies
        except AttributeError:
            pass
        jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
        raw = self.headers.get("Cookie")
        try:
            received = parse_cookie(raw) if raw else {}
        except Exception:
            received = {}
        for name, value in received.items():
            try:
                jar[name] = value
            except http.cookies.CookieError:
                continue
        self._cookies = jar
        return jar

    def full_url(self) -> str:
        """The absolute URL that was requested: scheme, host and ``uri``."""
        return f"{self.protocol}://{self.host}{self.uri or ''}"

    def request_time(self) -> float:
        """How long, in seconds, the request took to handle; for a request
        still in progress, how long it has been going."""
        finished = self._finish_time
        return (time.time() if finished is None else finished) - self._start_time

    def get_ssl_certificate(
        self, binary_form: bool = False
    ) -> Union[None, Dict[str, Any], bytes]:
        """The certificate the client presented over TLS, if any.

        By default the decoded form of `ssl.SSLSocket.getpeercert` (a
        dict); with ``binary_form=True``, the raw DER bytes.  None on a
        plain-text connection or when there is no client certificate,
        which is always the case unless the server's `ssl.SSLContext`
        requests one through its ``verify_mode``.
        """
        sock = getattr(getattr(self.connection, "stream", None), "socket", None)
        peer_cert = getattr(sock, "getpeercert", None)
        if peer_cert is None:
            return None
        try:
            return peer_cert(binary_form=binary_form)  # type: ignore[no-any-return]
        except (ssl.SSLError, ValueError):
            return None

    def _parse_body(self) -> None:
        """Fills `body_arguments` and `files` from `body`, and adds the body
        arguments to `arguments` (after the query's).

        A malformed body, one beyond the configured limits, or one still
        under a Content-Encoding raises `HTTPInputError`.
        """
        from_body = self.body_arguments
        parse_body_arguments(
            self.headers.get("Content-Type", ""), self.body, from_body, self.files,
            self.headers,
        )
        merged = self.arguments
        for name, values in from_body.items():
            if name in merged:
                merged[name].extend(values)
            else:
                merged[name] = list(values)

    def __repr__(self) -> str:
        # Headers are left out on purpose: they may hold credentials.
        shown = ", ".join(f"{field}={getattr(self, field)!r}" for field in _REQUEST_REPR_FIELDS)
        return f"{type(self).__name__}({shown})"


# Host header value -> host name (lower-cased, without the port), for the
# few hosts a server sees; bounded, as clients choose them.
_HOST_NAMES: Dict[str, str] = {}
_HOST_NAMES_LIMIT = 1000


def _host_name(host: str) -> str:
    """The host name part of a ``Host`` value, lower-cased (cached)."""
    name = host.lower()
    if ":" in name:
        name = split_host_and_port(name)[0]
    if len(_HOST_NAMES) >= _HOST_NAMES_LIMIT:
        _HOST_NAMES.clear()
    _HOST_NAMES[host] = name
    return name


_REQUEST_REPR_FIELDS = ("protocol", "host", "method", "uri", "version", "remote_ip")


def _parse_query_arguments(query: str) -> Dict[str, List[bytes]]:
    """Parse a query string into arguments, within the configured limit."""
    try:
        return parse_qs_bytes(
            query,
            keep_blank_values=True,
            max_num_fields=_DEFAULT_PARSE_BODY_CONFIG.urlencoded.max_arguments,
        )
    except ValueError as e:
        raise HTTPInputError("Invalid query string: %s" % e) from e


class _Drainable(typing.Protocol):
    """What a protocol that took a server connection over (a WebSocket)
    offers to a graceful drain (`tornado.shutdown.drain`)."""

    def _begin_drain(self) -> None:
        """Begin an orderly close (a WebSocket sends Close 1001)."""

    def _abort(self) -> None:
        """Close the connection now (the drain's time is up)."""

    def _drain_done(self) -> bool:
        """Whether the connection has closed (and its owner been told)."""


class _Takeovers:
    """The connections of one server that another protocol has taken
    over (by `.HTTP1Connection.detach`, as WebSockets do), so that a
    graceful drain of the server reaches them.

    Held weakly: an entry goes away with its protocol object.  A protocol
    added while the server drains is told at once.
    """

    def __init__(self) -> None:
        self._live: "weakref.WeakSet[_Drainable]" = weakref.WeakSet()
        self.draining = False

    def add(self, protocol: _Drainable) -> None:
        self._live.add(protocol)
        if self.draining:
            protocol._begin_drain()

    def begin_drain(self) -> None:
        self.draining = True
        for protocol in list(self._live):
            protocol._begin_drain()

    def open(self) -> List[_Drainable]:
        """The protocols whose connection is still open."""
        return [p for p in list(self._live) if not p._drain_done()]


def _note_takeover(connection: object, protocol: _Drainable) -> None:
    """Tells the server that accepted ``connection`` (an `HTTPConnection`)
    that ``protocol`` has taken it over, if the server keeps track (an
    `.HTTPServer` does, through its connections' context)."""
    takeovers = getattr(getattr(connection, "context", None), "_takeovers", None)
    if takeovers is not None:
        takeovers.add(protocol)


class HTTPServerConnectionDelegate:
    """What a server hands its connections to: makes a message delegate
    for each request.

    .. versionadded:: 4.0
    """

    def start_request(
        self, server_conn: object, request_conn: "HTTPConnection"
    ) -> "HTTPMessageDelegate":
        """Return the `HTTPMessageDelegate` that will receive a new request.

        ``server_conn`` identifies the long-lived (TCP) connection, the same
        object for every request on it; ``request_conn`` is the
        `HTTPConnection` for this request and its response.
        """
        raise NotImplementedError()

    def on_close(self, server_conn: object) -> None:
        """Called once ``server_conn``, which `start_request` has seen, is
        closed."""


class HTTPMessageDelegate:
    """Receives one HTTP message (a request on a server, a response on a
    client) as it is read.

    After `headers_received`, exactly one of `finish` and
    `on_connection_close` is called.

    .. versionadded:: 4.0
    """

    def headers_received(
        self,
        start_line: "_StartLine",
        headers: HTTPHeaders,
    ) -> Optional[Awaitable[None]]:
        """The start line (`RequestStartLine` or `ResponseStartLine`) and
        the headers have been read.

        If this returns an awaitable, the body is not read until it is done.
        """

    def data_received(self, chunk: bytes) -> Optional[Awaitable[None]]:
        """A piece of the body has arrived.

        If this returns an awaitable, no more is read until it is done
        (flow control).
        """

    def finish(self) -> None:
        """The whole message has been read."""

    def on_connection_close(self) -> None:
        """The connection closed (or failed) before the message was
        complete."""


class HTTPConnection:
    """The interface applications write a message through (a response on
    a server, a request on a client).

    .. versionadded:: 4.0
    """

    def write_headers(
        self,
        start_line: "_StartLine",
        headers: HTTPHeaders,
        chunk: Optional[bytes] = None,
    ) -> "Future[None]":
        """Write the start line and the headers, and optionally the first
        piece of the body in the same write.

        The version in ``start_line`` is ignored: the connection writes its
        own.  Returns a future that resolves once the data has been handed
        to the network (flow control).
        """
        raise NotImplementedError()

    def write(self, chunk: bytes) -> "Future[None]":
        """Write a piece of the body; returns a future as `write_headers`
        does."""
        raise NotImplementedError()

    def finish(self) -> None:
        """The whole body has been written."""
        raise NotImplementedError()


if typing.TYPE_CHECKING:
    from asyncio import Future  # noqa: F401


_QueryArgs = Union[None, Dict[str, str], List[Tuple[str, str]], Tuple[Tuple[str, str], ...]]


def url_concat(url: str, args: _QueryArgs) -> str:
    """Returns ``url`` with the query arguments ``args`` appended to those
    it already carries.

    ``args`` may be a dict or a list/tuple of ``(name, value)`` pairs, in
    which a name can occur more than once; with None the URL is returned
    untouched.  A ``#fragment`` stays at the end.

    >>> url_concat("/search?q=tornado", [("page", "2"), ("page", "3")])
    '/search?q=tornado&page=2&page=3'
    >>> url_concat("https://example.com/a#top", {"x": "1 2"})
    'https://example.com/a?x=1+2#top'
    """
    if args is None:
        return url
    if isinstance(args, dict):
        added = list(args.items())
    elif isinstance(args, (list, tuple)):
        added = list(args)
    else:
        raise TypeError(f"'args' parameter should be dict, list or tuple. Not {type(args)}")
    parts = urlparse(url)
    # keep_blank_values: "?x" must survive as "x=".
    pairs = parse_qsl(parts.query, keep_blank_values=True) + added
    return urlunparse(parts._replace(query=urlencode(pairs)))


class HTTPFile(ObjectDict):
    """One uploaded file from a ``multipart/form-data`` body.

    Readable as attributes or as keys: ``content_type``, ``filename`` and
    ``body`` (the bytes of the file).
    """

    content_type: str
    filename: str
    body: bytes


@dataclass
class ParseMultipartConfig:
    """Limits for `parse_multipart_form_data`.

    ``enabled`` turns multipart parsing off altogether (bodies are then
    rejected with `HTTPInputError`); ``max_parts`` bounds the number of
    parts and ``max_part_header_size`` the size of each part's header
    block, in bytes.

    .. versionadded:: 6.5
    """

    enabled: bool = True
    max_parts: int = 100
    max_part_header_size: int = 10_240


@dataclass
class ParseUrlEncodedConfig:
    """Limits for ``application/x-www-form-urlencoded`` bodies and for
    query strings: ``max_arguments`` bounds the number of fields.

    .. versionadded:: 6.5
    """

    max_arguments: int = 1000


@dataclass
class ParseBodyConfig:
    """Limits for `parse_body_arguments`, one section per body type.

    .. versionadded:: 6.5
    """

    multipart: ParseMultipartConfig = field(default_factory=ParseMultipartConfig)
    urlencoded: ParseUrlEncodedConfig = field(default_factory=ParseUrlEncodedConfig)


_DEFAULT_PARSE_BODY_CONFIG = ParseBodyConfig()


def set_parse_body_config(config: ParseBodyConfig) -> None:
    r"""Replaces the process-wide default `ParseBodyConfig`.

    The default applies wherever no explicit ``config`` is passed, the
    query string of each `HTTPServerRequest` included.

    .. versionadded:: 6.5
    """
    global _DEFAULT_PARSE_BODY_CONFIG
    _DEFAULT_PARSE_BODY_CONFIG = config


def _multipart_boundary(content_type: str) -> bytes:
    """The ``boundary`` parameter of a multipart Content-Type."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if value and name == "boundary":
            return utf8(value)
    raise HTTPInputError("multipart boundary not found")


def parse_body_arguments(
    content_type: str, body: bytes, arguments: Dict[str, List[bytes]],
    files: Dict[str, List[HTTPFile]], headers: Optional[HTTPHeaders] = None,
    *, config: Optional[ParseBodyConfig] = None,
) -> None:
    """Decodes a form submission, adding what it holds to ``arguments``
    and ``files`` (both modified in place).

    Bodies of type ``application/x-www-form-urlencoded`` and
    ``multipart/form-data`` are understood; other content types are
    ignored.

    `HTTPInputError` is raised when the body is malformed, goes past the
    limits of ``config`` (by default those of `set_parse_body_config`),
    or still has a ``Content-Encoding`` (compressed bodies have to be
    decoded first; see `.HTTPServer`'s ``decompress_request``).

    .. versionchanged:: 6.5
       Raises `HTTPInputError` rather than logging; ``config`` is new.
    """
    limits = _DEFAULT_PARSE_BODY_CONFIG if config is None else config
    if headers and "Content-Encoding" in headers:
        raise HTTPInputError("Unsupported Content-Encoding: %s" % headers["Content-Encoding"])
    if content_type.startswith("multipart/form-data"):
        boundary = _multipart_boundary(content_type)
        parse_multipart_form_data(boundary, body, arguments, files, config=limits.multipart)
        return
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return
    try:
        fields = parse_qs_bytes(
            body, keep_blank_values=True, max_num_fields=limits.urlencoded.max_arguments
        )
    except ValueError as exc:
        raise HTTPInputError(f"Invalid x-www-form-urlencoded body: {exc}") from exc
    for name, values in fields.items():
        if values:
            arguments.setdefault(name, []).extend(values)


def parse_multipart_form_data(
    boundary: bytes,
    data: bytes,
    arguments: Dict[str, List[bytes]],
    files: Dict[str, List[HTTPFile]],
    *,
    config: Optional[ParseMultipartConfig] = None,
) -> None:
    """Parse a ``multipart/form-data`` body (RFC 7578) into ``arguments``
    and ``files``.

    ``boundary`` (bytes, possibly still quoted) comes from the
    Content-Type header.  Parts with a ``filename`` become `HTTPFile`
    objects; a ``filename*`` (RFC 5987) takes precedence over it.

    The body is rejected as a whole, with `HTTPInputError`, if any part is
    malformed or a limit of ``config`` is exceeded; the dictionaries are
    only updated when every part is valid.  Anything after the closing
    delimiter (the epilogue, RFC 2046 section 5.1.1) is ignored.

    .. versionchanged:: 6.5
       Malformed parts raise `HTTPInputError`; added ``config``.
    """
    config = config or _DEFAULT_PARSE_BODY_CONFIG.multipart
    if not config.enabled:
        raise HTTPInputError("multipart/form-data parsing is disabled")
    # RFC 2046 section 5.1.1 lets the boundary be quoted in the
    # Content-Type header, as any parameter value may be.
    if len(boundary) >= 2 and boundary.startswith(b'"') and boundary.endswith(b'"'):
        boundary = boundary[1:-1]
    if not data:
        return
    delimiter = b"--" + boundary
    # The body ends at the close-delimiter.  A boundary can't occur inside
    # the content (that is what makes it a boundary), so the first
    # close-delimiter is the real one.
    limit = data.find(delimiter + b"--")
    if limit == -1:
        raise HTTPInputError("Invalid multipart/form-data: no final boundary")
    separator = delimiter + b"\r\n"
    new_arguments: List[Tuple[str, bytes]] = []
    new_files: List[Tuple[str, HTTPFile]] = []
    num_parts = 0
    pos = 0
    while True:
        next_sep = data.find(separator, pos, limit)
        end = limit if next_sep == -1 else next_sep
        # Whatever precedes the first delimiter is parsed as a part too
        # when it is not empty: clients have been seen to omit the first
        # delimiter.
        if end > pos:
            num_parts += 1
            if num_parts > config.max_parts:
                raise HTTPInputError("multipart/form-data has too many parts")
            _parse_multipart_part(data, pos, end, config, new_arguments, new_files)
        if next_sep == -1:
            break
        pos = next_sep + len(separator)
    for name, value in new_arguments:
        arguments.setdefault(name, []).append(value)
    for name, file in new_files:
        files.setdefault(name, []).append(file)


def _parse_multipart_part(
    data: bytes,
    start: int,
    end: int,
    config: ParseMultipartConfig,
    arguments: List[Tuple[str, bytes]],
    files: List[Tuple[str, HTTPFile]],
) -> None:
    """Parse the part ``data[start:end]`` (up to the next delimiter, so
    including the CRLF that precedes it)."""
    max_header = config.max_part_header_size
    eoh = data.find(b"\r\n\r\n", start, min(end, start + max_header + 4))
    if eoh == -1:
        if end - start > max_header + 4:
            raise HTTPInputError("multipart/form-data part header too large")
        raise HTTPInputError("multipart/form-data missing headers")
    if eoh - start > max_header:
        raise HTTPInputError("multipart/form-data part header too large")
    if not data.endswith(b"\r\n", start, end):
        raise HTTPInputError("Invalid multipart/form-data: part does not end with CRLF")
    try:
        header_text = data[start:eoh].decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPInputError("Invalid multipart/form-data: part headers are not UTF-8")
    headers = HTTPHeaders.parse(header_text, _chars_are_bytes=False)
    disposition, params = _parse_header(headers.get("Content-Disposition", ""))
    if disposition != "form-data":
        raise HTTPInputError(
            "Invalid multipart/form-data: Content-Disposition %r" % (disposition,)
        )
    name = params.get("name")
    if not name:
        raise HTTPInputError("multipart/form-data value missing name")
    # The part's content ends before the CRLF that belongs to the next
    # delimiter; that CRLF may be the one ending the (empty-bodied)
    # header block, hence the max().
    value = data[eoh + 4 : max(eoh + 4, end - 2)]
    filename = params.get("filename")
    if filename:
        content_type = headers.get("Content-Type", "application/unknown")
        files.append(
            (
                name,
                HTTPFile(filename=filename, body=value, content_type=content_type),
            )
        )
    else:
        arguments.append((name, value))


_Timestamp = Union[int, float, Tuple[int, ...], time.struct_time, datetime.datetime]


def _posix_seconds(ts: _Timestamp) -> float:
    if isinstance(ts, datetime.datetime):
        # utctimetuple() converts an aware datetime and leaves a naive one
        # (taken as UTC) alone.
        return calendar.timegm(ts.utctimetuple())
    if isinstance(ts, (tuple, time.struct_time)):
        return calendar.timegm(ts)
    if isinstance(ts, (int, float)):
        return ts
    raise TypeError("unknown timestamp type: %r" % (ts,))


def format_timestamp(ts: _Timestamp) -> str:
    """Formats a point in time as an HTTP-date (RFC 9110 section 5.6.7),
    e.g. for ``Date`` or ``Last-Modified``.

    Accepts a POSIX timestamp, a UTC time tuple such as `time.gmtime`
    returns, or a `datetime.datetime` (naive ones are read as UTC, aware
    ones converted to it).

    >>> format_timestamp(0)
    'Thu, 01 Jan 1970 00:00:00 GMT'
    """
    seconds = _posix_seconds(ts)
    # Every response carries a Date for "now": cache the current second.
    whole = int(seconds)
    cached_second, cached_text = _last_timestamp
    if whole == cached_second and seconds >= 0:
        return str(cached_text)
    import email.utils  # once a second at most, so not paid for at import

    text = email.utils.formatdate(seconds, usegmt=True)
    if seconds >= 0:
        _last_timestamp[:] = [whole, text]
    return text


_last_timestamp: List[Any] = [None, ""]


class RequestStartLine(NamedTuple):
    """A request line: ``method``, ``path`` (the request-target) and
    ``version``.

    .. versionadded:: 4.0
    """

    method: str
    path: str
    version: str


def parse_request_start_line(line: str) -> RequestStartLine:
    """Parse an HTTP/1.x request line.

    >>> parse_request_start_line("DELETE /items/7 HTTP/1.1")
    RequestStartLine(method='DELETE', path='/items/7', version='HTTP/1.1')

    Raises `HTTPInputError` unless the line is exactly ``method SP target
    SP version`` (RFC 9112 section 3) with a token for a method, a target
    free of whitespace and control characters, and an HTTP/1.x version.
    """
    m = _REQUEST_LINE_RE.fullmatch(line)
    if m is not None:
        return RequestStartLine(m.group(1), m.group(2), m.group(3))
    parts = line.split(" ")
    if (
        len(parts) == 3
        and _ABNF.method.fullmatch(parts[0])
        and re.fullmatch(_LENIENT_TARGET, parts[1])
    ):
        version = parts[2]
        if _ABNF.http_version.fullmatch(version):
            # RFC 9110 section 15.6.6: 505 for a major version we don't
            # implement.
            raise _StatusInputError(
                505, "Unsupported HTTP version in HTTP Request-Line: %r" % version
            )
        raise HTTPInputError(
            "Malformed HTTP version in HTTP Request-Line: %r" % version
        )
    # RFC 9112 section 3: a server SHOULD answer an invalid request-line
    # with 400 (Bad Request).
    raise HTTPInputError("Malformed HTTP request line")


class ResponseStartLine(NamedTuple):
    """A status line: ``version``, ``code`` (an int) and ``reason``.

    .. versionadded:: 4.0
    """

    version: str
    code: int
    reason: str


# Either kind of first line, as the connection interfaces pass them.
_StartLine = Union[RequestStartLine, ResponseStartLine]


def parse_response_start_line(line: str) -> ResponseStartLine:
    """Parse an HTTP status line.

    >>> parse_response_start_line("HTTP/1.1 404 Not Found")
    ResponseStartLine(version='HTTP/1.1', code=404, reason='Not Found')

    The line must be exactly ``version SP 3DIGIT SP [reason]`` (RFC 9112
    section 4); the reason may be empty but its separating space may not be
    left out.  Raises `HTTPInputError` otherwise.
    """
    m = _ABNF.status_line.fullmatch(line)
    if m is None:
        raise HTTPInputError("Error parsing response start line: %r" % (line,))
    return ResponseStartLine(m.group(1), int(m.group(2)), m.group(3))


# _parse_header and its helpers read the parameters of Content-Type and
# Content-Disposition (RFC 9110 section 5.6.6, RFC 6266, RFC 2231).  Each
# regex is applied at the current position and consumes what it matches,
# so the whole header is read once (CVE-2025-67726 was a quadratic scan
# for semicolons inside quoted strings).
_PARAM_NAME_RE = re.compile(r"[ \t]*([^=;]*)")
_PARAM_QUOTED_RE = re.compile(r'[ \t]*("(?:[^"\\]|\\.)*")')
_PARAM_UNQUOTED_RE = re.compile(r"[^;]*")
_QUOTED_PAIR_RE = re.compile(r'\\([\\"])')


def _unquote_param(value: str) -> str:
    """Strip the quotes of a quoted-string and undo its quoted-pairs.

    Only ``\\\\`` and ``\\"`` are undone: browsers send Windows paths with
    their backslashes unescaped.
    """
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
        if "\\" in value:
            value = _QUOTED_PAIR_RE.sub(r"\1", value)
    return value


def _decode_ext_param(value: str) -> Optional[str]:
    """Decode an RFC 2231 / RFC 5987 extended value
    (``charset'language'percent-encoded``), or return None."""
    charset, sep, rest = value.partition("'")
    language, sep2, encoded = rest.partition("'")
    if not sep or not sep2 or not charset:
        return None
    try:
        return urllib.parse.unquote(encoded, encoding=charset, errors="strict")
    except (LookupError, UnicodeDecodeError):
        return None


def _parse_header(line: str) -> Tuple[str, Dict[str, str]]:
    r"""Split a header such as Content-Type or Content-Disposition into its
    value and its parameters.

    >>> _parse_header('attachment; FileName="a \\"b\\".txt"; size=3')
    ('attachment', {'filename': 'a "b".txt', 'size': '3'})
    >>> _parse_header("form-data; name=x; name*=UTF-8''%C3%A9")
    ('form-data', {'name': 'é'})

    Parameter names are lower-cased.  An extended parameter (``name*``)
    overrides the plain one of the same name (RFC 6266 section 4.3).
    """
    semi = line.find(";")
    if semi == -1:
        return line.strip(), {}
    key = line[:semi].strip()
    params: Dict[str, str] = {}
    extended: Dict[str, str] = {}
    pos = semi + 1
    n = len(line)
    while pos < n:
        m = _PARAM_NAME_RE.match(line, pos)
        assert m is not None  # the pattern matches the empty string
        name = m.group(1).strip().lower()
        pos = m.end()
        value = ""
        if pos < n and line[pos] == "=":
            pos += 1
            q = _PARAM_QUOTED_RE.match(line, pos)
            if q is not None:
                value = q.group(1)
                pos = q.end()
                # Anything between the closing quote and the next ";" is
                # junk; skip it.
                u = _PARAM_UNQUOTED_RE.match(line, pos)
                assert u is not None
                pos = u.end()
            else:
                u = _PARAM_UNQUOTED_RE.match(line, pos)
                assert u is not None
                value = u.group(0).strip()
                pos = u.end()
            if name.endswith("*"):
                decoded = _decode_ext_param(value)
                if decoded is not None:
                    extended[name[:-1]] = decoded
            elif name:
                params[name] = _unquote_param(value)
        # Now at a ";" (or the end).
        pos += 1
    params.update(extended)
    return key, params


def _encode_header(key: str, pdict: Dict[str, Optional[str]]) -> str:
    """Join a value and its parameters, the inverse of `_parse_header`
    for values that need no quoting; a parameter whose value is None is
    written as a bare name.

    >>> _encode_header("permessage-deflate", {"server_max_window_bits": "10"})
    'permessage-deflate; server_max_window_bits=10'
    """
    parts = [key]
    for name, value in pdict.items():
        parts.append(name if value is None else "%s=%s" % (name, value))
    return "; ".join(parts)


def encode_username_password(
    username: Union[str, bytes], password: Union[str, bytes]
) -> bytes:
    """Join credentials as ``username:password`` bytes, the form HTTP
    Basic authentication base64-encodes.

    Text is normalized to NFC and encoded as UTF-8 (RFC 7617 section 2.1);
    bytes are used as they are.

    .. versionadded:: 5.1
    """
    if isinstance(username, str):
        username = unicodedata.normalize("NFC", username)
    if isinstance(password, str):
        password = unicodedata.normalize("NFC", password)
    return utf8(username) + b":" + utf8(password)


# ---------------------------------------------------------------------------
# Content codings (RFC 9110 section 8.4.1).  gzip is always available; br
# (RFC 7932) and zstd (RFC 8878) when their optional modules are installed
# (the ``brotli`` package, and the standard library's compression.zstd or
# the ``zstandard`` package).  Without them, they are simply not offered.
# ---------------------------------------------------------------------------

try:
    import brotli as _brotli
except ImportError:  # pragma: no cover - depends on what is installed
    try:
        import brotlicffi as _brotli  # type: ignore[no-redef]
    except ImportError:
        _brotli = None  # type: ignore[assignment]

try:
    from compression import zstd as _stdlib_zstd  # type: ignore[import-not-found]
except ImportError:
    _stdlib_zstd = None
try:
    import zstandard as _zstandard
except ImportError:  # pragma: no cover - depends on what is installed
    _zstandard = None  # type: ignore[assignment]

# RFC 9659: a zstd decoder for HTTP need not accept windows over 8 MB, and
# refusing them bounds what one response can make us allocate.
_ZSTD_MAX_WINDOW = 8 * 1024 * 1024
# The input a zstd decoder is given at a time: a zstd block of a few bytes
# may expand to 128 KB, so a small slice bounds the output of a step (to
# about 1 MB; neither zstd binding can stop in the middle of a slice).
_ZSTD_STEP = 32


class _ContentDecoder:
    """A streaming decoder with bounded output, the same for each coding.

    `decode` takes the next piece of input (all of it) and returns output
    of about ``max_length`` bytes at most; while `pending` is true it has
    more to give without input, and is called again with ``b""``.
    `finish` ends the input, raising `ValueError` if the encoded data is
    incomplete, and returns what output remains.  Malformed input raises
    whatever the underlying library raises.
    """

    pending = False

    def decode(self, data: bytes, max_length: int) -> bytes:
        raise NotImplementedError()

    def finish(self) -> bytes:
        raise NotImplementedError()


class _GzipDecoder(_ContentDecoder):
    def __init__(self) -> None:
        from tornado.util import GzipDecompressor

        self._decompressor = GzipDecompressor()
        self._tail = b""

    def decode(self, data: bytes, max_length: int) -> bytes:
        out = self._decompressor.decompress(self._tail + data, max_length)
        self._tail = self._decompressor.unconsumed_tail
        self.pending = bool(self._tail)
        return out

    def finish(self) -> bytes:
        return self._decompressor.flush()


class _BrotliDecoder(_ContentDecoder):
    def __init__(self) -> None:
        self._decompressor = _brotli.Decompressor()

    def decode(self, data: bytes, max_length: int) -> bytes:
        d = self._decompressor
        out = d.process(data, output_buffer_limit=max_length)
        # Past the limit, brotli keeps the rest and must be drained with
        # empty input before it takes more (and even when it can take
        # more, output that filled the limit may not be all there is).
        self.pending = not d.can_accept_more_data() or (
            len(out) >= max_length and not d.is_finished()
        )
        return out

    def finish(self) -> bytes:
        if not self._decompressor.is_finished():
            raise ValueError("truncated brotli data")
        return b""


class _ZstdDecoder(_ContentDecoder):
    """Decodes one or more zstd frames (RFC 8878 section 3.1)."""

    def __init__(self) -> None:
        self._decompressor = self._new_frame()
        self._input = memoryview(b"")

    @staticmethod
    def _new_frame() -> Any:
        if _stdlib_zstd is not None:
            parameter = _stdlib_zstd.DecompressionParameter.window_log_max
            return _stdlib_zstd.ZstdDecompressor(
                options={parameter: _ZSTD_MAX_WINDOW.bit_length() - 1}
            )
        return _zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW).decompressobj()

    def decode(self, data: bytes, max_length: int) -> bytes:
        if data:
            self._input = memoryview(bytes(self._input) + data)
        pieces = []
        size = 0
        while self._input and size < max_length:
            if self._decompressor.eof:
                self._decompressor = self._new_frame()
            step, self._input = self._input[:_ZSTD_STEP], self._input[_ZSTD_STEP:]
            d = self._decompressor
            piece = d.decompress(bytes(step))
            pieces.append(piece)
            size += len(piece)
            if d.eof and d.unused_data:
                # The next frame starts with what this one left over.
                self._input = memoryview(d.unused_data + bytes(self._input))
        self.pending = bool(self._input)
        return b"".join(pieces)

    def finish(self) -> bytes:
        if not self._decompressor.eof:
            raise ValueError("truncated zstd data")
        return b""


# The codings we can decode, by name, in the order a client offers them.
_DECODERS: Dict[str, Any] = {"gzip": _GzipDecoder}
if _brotli is not None:
    _DECODERS["br"] = _BrotliDecoder
if _stdlib_zstd is not None or _zstandard is not None:
    _DECODERS["zstd"] = _ZstdDecoder

# RFC 9110 section 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE_RE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


def _content_decoder(coding: str, codings: Iterable[str]) -> Optional[_ContentDecoder]:
    """A decoder for the ``Content-Encoding`` value ``coding``, if it is
    one of ``codings`` and can be decoded here."""
    coding = coding.strip(HTTP_WHITESPACE).lower()
    factory = _DECODERS.get(coding)
    return factory() if factory is not None and coding in codings else None


def _accept_encoding_qvalues(value: str) -> Tuple[Dict[str, float], Optional[float]]:
    """The qvalue of each coding an ``Accept-Encoding`` value lists, and
    that of ``*`` (RFC 9110 section 12.5.3).  A malformed weight counts as
    0 (not acceptable)."""
    weights: Dict[str, float] = {}
    star = None
    for item in value.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip(HTTP_WHITESPACE).lower()
        if not coding:
            continue
        q = 1.0
        for param in params.split(";") if params else ():
            name, _, weight = param.partition("=")
            if name.strip(HTTP_WHITESPACE).lower() == "q":
                weight = weight.strip(HTTP_WHITESPACE)
                q = float(weight) if _QVALUE_RE.fullmatch(weight) else 0.0
        if coding == "x-gzip":
            # RFC 9110 section 8.4.1.3: x-gzip is gzip.
            coding = "gzip"
        if coding == "*":
            star = q
        else:
            weights.setdefault(coding, q)
    return weights, star


def _negotiate_content_coding(accept_encoding: str, offered: Iterable[str]) -> Optional[str]:
    """The coding of ``offered`` (in the server's order of preference) that
    ``accept_encoding`` ranks highest, or None for no coding (identity).

    >>> _negotiate_content_coding("gzip;q=0.5, br", ["zstd", "br", "gzip"])
    'br'
    >>> _negotiate_content_coding("gzip;q=0, *", ["gzip"]) is None
    True
    """
    weights, star = _accept_encoding_qvalues(accept_encoding)
    best, best_q = None, 0.0
    for coding in offered:
        q = weights.get(coding, star if star is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    return best


def doctests() -> "unittest.TestSuite":
    """The doctests of this module, as a test suite."""
    import doctest

    return doctest.DocTestSuite()


_NETLOC_RE = re.compile(r"^(.+):(\d+)$")


def split_host_and_port(netloc: str) -> Tuple[str, Optional[int]]:
    """Split ``host:port``; the port is None when there is none.

    >>> split_host_and_port("example.com:8080")
    ('example.com', 8080)
    >>> split_host_and_port("[::1]")
    ('[::1]', None)

    .. versionadded:: 4.1
    """
    host, sep, port_text = netloc.rpartition(":")
    if host and port_text.isdigit() and port_text.isascii() and "\n" not in host:
        return host, int(port_text)
    match = _NETLOC_RE.match(netloc)
    if match:
        host = match.group(1)
        port: Optional[int] = int(match.group(2))
    else:
        host = netloc
        port = None
    return (host, port)


def qs_to_qsl(qs: Dict[str, List[Any]]) -> Iterable[Tuple[str, Any]]:
    """Turn a ``parse_qs``-style dict of lists back into (name, value)
    pairs.

    >>> list(qs_to_qsl({"a": ["1", "2"], "b": ["3"]}))
    [('a', '1'), ('a', '2'), ('b', '3')]

    .. versionadded:: 5.0
    """
    return ((name, value) for name, values in qs.items() for value in values)


# RFC 6265 section 4.1.1 cookie values may be wrapped in double quotes;
# inside, Python's cookie module (and so browsers' servers) escape with a
# backslash, either a 3-digit octal code or any single character.
_COOKIE_ESCAPE_RE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))", re.DOTALL)


def _cookie_escape_sub(m: "re.Match[str]") -> str:
    octal = m.group(1)
    if octal is not None:
        return chr(int(octal, 8))
    return m.group(2)


def _unquote_cookie(s: str) -> str:
    """Undo the quoting of a cookie value: a value wrapped in double quotes
    loses them, and inside, backslash escapes (three octal digits, or any
    one character) are decoded.  Anything else is returned unchanged."""
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        return s
    s = s[1:-1]
    if "\\" not in s:
        return s
    # One substitution over the whole value: linear in its length
    # (CVE-2024-7592 was a quadratic loop here).
    return _COOKIE_ESCAPE_RE.sub(_cookie_escape_sub, s)


def parse_cookie(cookie: str) -> Dict[str, str]:
    """Parse a ``Cookie`` header into a dict of names to values.

    This follows what browsers do rather than the cookie RFCs: every ``;``
    separates cookies, even inside quotes; a chunk without ``=`` is a value
    with an empty name; spaces around names and values are dropped; quoted
    values are unquoted; when a name repeats, the last value wins.

    >>> parse_cookie('theme=dark; lang="en"; theme=light')
    {'theme': 'light', 'lang': 'en'}

    .. versionadded:: 4.4.2
    """
    cookiedict = {}
    for chunk in cookie.split(";"):
        key, eq, val = chunk.partition("=")
        if not eq:
            # Browsers keep such a chunk as a nameless cookie
            # (https://bugzilla.mozilla.org/show_bug.cgi?id=169091).
            key, val = "", key
        key, val = key.strip(), val.strip()
        if key or val:
            cookiedict[key] = _unquote_cookie(val)
    return cookiedict
