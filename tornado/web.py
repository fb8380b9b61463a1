"""The web framework: request handlers and the application that routes to them.

An `Application` is a collection of `RequestHandler` subclasses, each bound
to a path pattern.  `.HTTPServer` hands each request to the application,
which finds the matching handler, creates one instance of it for that
request and runs the method named by the request's verb (``get``,
``post``, ...).  A minimal application::

    class MainHandler(RequestHandler):
        def get(self):
            self.write("Hello, world")

    async def main():
        application = Application([(r"/", MainHandler)])
        application.listen(8888)
        await asyncio.Event().wait()

Handler methods may be plain functions or coroutines.  A request whose
``prepare`` and verb method are plain functions runs from start to finish
without creating a task or a coroutine: the asynchronous machinery is only
entered when a method actually returns something awaitable.

Besides the handler and application classes, this module supplies signed
values (`create_signed_value`/`decode_signed_value`, used by signed cookies
and XSRF tokens), `StaticFileHandler`, the smaller stock handlers
(`RedirectHandler`, `ErrorHandler`, `FallbackHandler`), output transforms
(`GZipContentEncoding`), UI modules for templates, and the decorators
`authenticated`, `addslash`, `removeslash` and `stream_request_body`.

Thread safety: the methods of `RequestHandler` and `Application` must be
called on the event loop's thread (use `.IOLoop.add_callback` from others).

It builds on `tornado.routing` (rules and routers), `tornado.httputil`
(requests, headers), `tornado.template` and `tornado.locale`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextvars
import datetime
import functools
import gzip
import hashlib
import hmac
import itertools
import logging
import http.cookies
import mimetypes
import numbers
import os.path
import re
import socket
import stat
import string
import sys
import threading
import time
import traceback
import types
import urllib.parse
import warnings
from inspect import isclass
from io import BytesIO
from typing import (
    Any,
    Awaitable,
    Callable,
    Coroutine,
    Dict,
    Generator,
    Iterable,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
    Type,
    TypeVar,
    Union,
    cast,
)
from urllib.parse import urlencode

import tornado
from tornado import escape, gen, httputil, iostream, locale, template
from tornado.concurrent import Future, future_set_result_unless_cancelled
from tornado.escape import to_unicode, utf8
from tornado.ioloop import IOLoop
from tornado.log import access_log, app_log, gen_log
from tornado.routing import AnyMatches, DefaultHostMatches, HostMatches, PathMatches, Rule, URLSpec
from tornado.routing import ReversibleRouter, ReversibleRuleRouter, _NotFoundDelegate, _RuleList
from tornado.util import ObjectDict, _websocket_mask, unicode_type

url = URLSpec

# Signed values carry a format version.  Decoding accepts the versions
# MIN..MAX below; new values are written as DEFAULT_SIGNED_VALUE_VERSION and
# get_signed_cookie refuses anything older than DEFAULT_SIGNED_VALUE_MIN_VERSION
# unless the caller passes another ``min_version``.
MIN_SUPPORTED_SIGNED_VALUE_VERSION = 1
"""Lowest signed-value format this module can still decode."""

MAX_SUPPORTED_SIGNED_VALUE_VERSION = 2
"""Highest signed-value format this module can decode."""

DEFAULT_SIGNED_VALUE_VERSION = 2
"""Format written by `create_signed_value` unless a ``version`` is given."""

DEFAULT_SIGNED_VALUE_MIN_VERSION = 1
"""Oldest format `.RequestHandler.get_signed_cookie` accepts by default
(a ``min_version`` argument overrides it)."""

_HeaderTypes = Union[bytes, str, int, numbers.Integral, datetime.datetime]
_CookieSecretTypes = Union[str, bytes, Dict[int, str], Dict[int, bytes]]

_RequestHandlerType = TypeVar("_RequestHandlerType", bound="RequestHandler")

# What a verb method (``get``, ``post`` ...) may return.
_VerbMethod = Callable[..., Optional[Awaitable[None]]]


class _ArgDefaultMarker:
    """Marks an argument getter's default as "not given" (raise when missing)."""


_ARG_DEFAULT = _ArgDefaultMarker()

# RFC 9110 section 5.5: a field value is visible ASCII, spaces and tabs, and
# (obsolete but tolerated) octets above 0x7f.  CR, LF and NUL would let a
# value inject headers or split the response.
_VALID_HEADER_CHARS = re.compile(r"[\x09\x20-\x7e\x80-\xff]*")

# Reason phrases appear both in the status line and, unescaped, in the
# default error page; accept visible ASCII other than HTML's special
# characters (anything else is replaced by "Unknown").
_VALID_REASON = re.compile(r"[ \t!#$%'()*+,\-./0-9:;=?@A-Z\[\\\]^_`a-z{|}~]*")

# Control characters that argument getters replace by spaces.
_REMOVE_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")

# The methods that can neither change state nor be forged by a form post;
# XSRF and cross-origin checks skip them.
_SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))

# Status codes whose responses carry no body (RFC 9110 sections 15.2, 15.3.5,
# 15.4.5).
_NO_BODY_STATUSES = frozenset([204, 304] + list(range(100, 200)))

_SERVER_HEADER = "TornadoServer/%s" % tornado.version

# A cookie value may not hold controls or spaces (RFC 6265 section 4.1.1:
# cookie-octet); other special characters are quoted by SimpleCookie.
_BAD_COOKIE_VALUE = re.compile(r"[\x00-\x20\x7f]")


def _morsel_accepts(attribute: str) -> bool:
    try:
        http.cookies.Morsel()[attribute] = True
    except http.cookies.CookieError:
        return False
    return True


# Morsel learnt the Partitioned attribute (CHIPS) in Python 3.14.
_MORSEL_KNOWS_PARTITIONED = _morsel_accepts("partitioned")


def _max_age_attribute(max_age: Any) -> Optional[str]:
    """The ``Max-Age`` cookie attribute for ``max_age``, or None for none.

    Anything but an integer goes through `int` (so a string that smuggles
    more attributes in raises `ValueError` instead of reaching the header).
    """
    if max_age is None or max_age is False:
        return None
    if isinstance(max_age, bool) or not isinstance(max_age, numbers.Integral):
        max_age = int(max_age)
    return str(max_age) if max_age else None


# Headers describing a body, removed from responses that have none.
_REPRESENTATION_HEADERS = ("Content-Encoding", "Content-Language", "Content-Type")

# Requests whose successful responses get an automatic Etag.
_ETAG_METHODS = frozenset(("GET", "HEAD"))

# Handler method names of the standard verbs, to skip str.lower() per request.
_VERB_NAMES = {
    verb: verb.lower()
    for verb in ("GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS")
}

# Application settings passed on to template.Loader, with the loader's
# parameter names.
_TEMPLATE_SETTINGS = (("autoescape", "autoescape"), ("template_whitespace", "whitespace"))


def _write_refusal(chunk: Any) -> str:
    """The TypeError message for a ``write`` argument of the wrong type."""
    message = "write() only accepts bytes, unicode, and dict objects"
    if isinstance(chunk, list):
        # Lists are the one JSON value that must not be a response body.
        message += (
            ". Lists not accepted for security reasons; see "
            "http://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.write"
        )
    return message


def _first_caller_outside() -> str:
    """The file name of the innermost caller that is not code of this
    module (the handler module that asked for a template)."""
    frame = sys._getframe(0)
    here = frame.f_code.co_filename
    while frame.f_back is not None and frame.f_code.co_filename == here:
        frame = frame.f_back
    return frame.f_code.co_filename


def _languages_by_preference(header: str) -> List[str]:
    """The language tags of an ``Accept-Language`` value (RFC 9110 section
    12.5.4), most preferred first; equal weights keep the header's order.

    A missing weight counts as 1; a weight of zero, a negative one or one
    that is not a number excludes the language.
    """
    weighted: List[Tuple[float, str]] = []
    for entry in header.split(","):
        tag, _, params = entry.strip().partition(";")
        weight = 1.0
        first = params.split(";", 1)[0].strip()
        if first[:2].lower() == "q=":
            try:
                weight = float(first[2:])
            except ValueError:
                weight = 0.0
        if weight > 0:
            weighted.append((weight, tag.strip()))
    weighted.sort(key=lambda pair: -pair[0])
    return [tag for _, tag in weighted]


def _encode_xsrf_token(version: int, secret: bytes, issued: float) -> bytes:
    """The XSRF token for a form, in format ``version``.

    Format 1 is the secret in hex.  Format 2 is
    ``2|<mask>|<secret XOR mask>|<timestamp>`` with a new random mask each
    time, so that the page never repeats the same bytes.
    """
    if version == 1:
        return binascii.b2a_hex(secret)
    if version != 2:
        raise ValueError("unknown xsrf cookie version %d" % version)
    mask = os.urandom(4)
    masked = _websocket_mask(mask, secret)
    return b"2|%s|%s|%d" % (binascii.b2a_hex(mask), binascii.b2a_hex(masked), int(issued))


def _parse_xsrf_token(token: str) -> Tuple[int, bytes, float]:
    """The ``(version, secret, timestamp)`` of an XSRF token made by
    `_encode_xsrf_token` (or by older releases); raises for anything else."""
    version = _signed_value_version(utf8(token))
    if version == 2:
        _, mask_hex, masked_hex, issued = token.split("|")
        mask = binascii.a2b_hex(utf8(mask_hex))
        return 2, _websocket_mask(mask, binascii.a2b_hex(utf8(masked_hex))), int(issued)
    if version != 1:
        raise ValueError("Unknown xsrf cookie version %d" % version)
    try:
        secret = binascii.a2b_hex(utf8(token))
    except (binascii.Error, TypeError):
        # Very old tokens were not hex; their text is the secret.
        secret = utf8(token)
    # Format 1 has no timestamp.
    return 1, secret, int(time.time())


# An entity-tag (RFC 9110 section 8.8.3), weak or strong, or a lone "*".
_ENTITY_TAG = re.compile(rb'\*|(?:W/)?"[^"]*"')


def _if_none_match_hits(header: bytes, etag: bytes) -> bool:
    """Whether an ``If-None-Match`` value matches entity-tag ``etag``, by
    the weak comparison RFC 9110 section 13.1.2 prescribes."""
    listed = _ENTITY_TAG.findall(header)
    if not listed:
        return False
    if listed[0] == b"*":
        return True
    target = _strip_weak(etag)
    return any(_strip_weak(tag) == target for tag in listed)


def _error_reason(kwargs: Dict[str, Any]) -> Optional[str]:
    """The reason phrase `RequestHandler.send_error` should use: the one of
    the HTTPError being reported if it has one, else a ``reason`` keyword."""
    exc_info = kwargs.get("exc_info")
    if exc_info is not None:
        error = exc_info[1]
        if isinstance(error, HTTPError) and error.reason:
            return error.reason
    return kwargs.get("reason")

# Every response starts with the same three headers, and Date changes once
# a second: its text is formatted at most that often.  The fields are given
# to HTTPHeaders as its contents (fresh lists, canonical names), which costs
# less than copying a prepared HTTPHeaders or assigning three items.
_date_header_cache: List[Any] = [None, ""]


def _default_headers() -> httputil.HTTPHeaders:
    now = int(time.time())
    cache = _date_header_cache
    if now != cache[0]:
        cache[1] = httputil.format_timestamp(now)
        cache[0] = now
    return httputil.HTTPHeaders._from_canonical(
        {"Server": [_SERVER_HEADER], "Content-Type": [_DEFAULT_CONTENT_TYPE], "Date": [cache[1]]}
    )


_DEFAULT_CONTENT_TYPE = "text/html; charset=UTF-8"


# An unused SHA-1 object for compute_etag to copy.
_SHA1_SEED = hashlib.sha1()

# Status lines already built, by (code, reason); see RequestHandler.flush.
_START_LINES: Dict[Tuple[int, str], httputil.ResponseStartLine] = {}

# Tasks running asynchronous handler methods.  The event loop keeps only
# weak references to tasks, and a handler awaiting a future that nothing
# else references must not be collected mid-request.
_running_tasks: Set["asyncio.Task[None]"] = set()


class _LazyUINamespace:
    """Builds a handler's ``ui`` namespace (its UI methods and modules) on
    first use and caches it on the instance.

    Most requests never render a template, so they never pay for it.
    """

    def __get__(self, handler: Optional["RequestHandler"], owner: type) -> Any:
        if handler is None:
            return self
        app = handler.application
        ui = ObjectDict(
            (name, handler._ui_method(method)) for name, method in app.ui_methods.items()
        )
        modules = _UIModuleNamespace(handler, app.ui_modules)
        ui["_tt_modules"] = modules
        ui["modules"] = modules
        handler.__dict__["ui"] = ui
        return ui


class RequestHandler:
    """One HTTP request's handler: subclass it and define verb methods.

    The application creates a fresh instance for every request it routes
    here.  The life of an instance: `initialize` (with the routing rule's
    keyword arguments), `prepare`, the method named after the request's
    verb (``get``, ``post`` ...), then `on_finish` once the response is
    out.  Verbs a subclass leaves undefined answer 405; verbs missing from
    `SUPPORTED_METHODS` are refused with 405 before anything runs, so a
    subclass that wants to serve, say, ``PROPFIND`` extends that tuple.
    """

    SUPPORTED_METHODS: Tuple[str, ...] = ("GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS")

    # Template loaders are shared by every handler class of the process,
    # keyed by directory.
    _template_loaders: Dict[str, template.BaseLoader] = {}
    _template_loader_lock = threading.Lock()
    _stream_request_body = False

    # Per-request state lives in instance attributes only once it departs
    # from these class-level defaults: a plain request writes none of them.
    _headers_written = False
    _finished = False
    _auto_finish = True
    _close_notified = False
    _transforms: Sequence["OutputTransform"] = ()
    _prepared_future: Optional["Future[None]"] = None
    _body_future: Optional["Future[None]"] = None
    _new_cookie: Optional[http.cookies.SimpleCookie] = None
    # Cookies to be sent with the Partitioned attribute on Pythons whose
    # Morsel does not know it.
    _partitioned_cookies: Optional[Set[str]] = None
    # A body the HTTP layer could not parse; _execute turns it into a 400
    # so it goes through the usual error path (send_error, logging).
    _body_error: Optional[httputil.HTTPInputError] = None

    _locale: Optional["locale.Locale"] = None

    path_args: List[str] = None  # type: ignore
    path_kwargs: Dict[str, str] = None  # type: ignore

    ui = _LazyUINamespace()

    def __init__(self, application: "Application", request: httputil.HTTPServerRequest, **kwargs: Any) -> None:
        # Cooperative: a class after RequestHandler in the MRO (a mixin
        # listed after it) may define __init__.  When only object follows,
        # the super() call would do nothing, and it is not cheap.
        if type(self).__mro__[-2] is not RequestHandler:
            super().__init__()
        self.request = request
        self.application = application
        self.clear()
        conn = request.connection
        if conn is not None:
            conn.set_close_callback(self._connection_closed)
        if kwargs:
            self.initialize(**kwargs)
        else:
            self.initialize()

    def initialize(self) -> None:
        """Receives the keyword arguments of the routing rule; does nothing
        by default.

        Runs at the end of the constructor, once per request, before
        `prepare`.  Give the override the parameters your rule supplies::

            class ItemHandler(RequestHandler):
                def initialize(self, store):
                    self.store = store

                def get(self, item_id):
                    self.write(self.store.load(item_id))

            Application([(r"/items/(\\d+)", ItemHandler, {"store": store})])
        """

    @property
    def settings(self) -> Dict[str, Any]:
        """The application's settings dictionary (`Application.settings`)."""
        return self.application.settings

    def _unimplemented_method(self, *args: str, **kwargs: str) -> None:
        raise HTTPError(405)

    # Every verb starts as "405 Method Not Allowed"; subclasses define the
    # ones they serve.
    get: _VerbMethod = _unimplemented_method
    post: _VerbMethod = _unimplemented_method
    put: _VerbMethod = _unimplemented_method
    patch: _VerbMethod = _unimplemented_method
    delete: _VerbMethod = _unimplemented_method
    head: _VerbMethod = _unimplemented_method
    options: _VerbMethod = _unimplemented_method

    def prepare(self) -> Optional[Awaitable[None]]:
        """Runs before the verb method, whatever the verb; does nothing by
        default.

        The place for work every verb needs (loading the user, checking
        preconditions).  It may return an awaitable (be a coroutine): the
        verb method then waits for it.  Calling `finish` (or `redirect`,
        or raising `Finish`) here ends the request without the verb method.
        """

    def on_finish(self) -> None:
        """Runs after the response has been handed to the connection; does
        nothing by default.

        Use it to release what `prepare` acquired or to record the request.
        The response is complete, so nothing written here is sent.
        """

    def on_connection_close(self) -> None:
        """Runs when the client's connection closes while this handler is
        still working asynchronously (long polls, streamed responses).

        Override to stop such work.  A close is only noticed while the
        server is waiting, and may never be noticed (e.g. behind a proxy),
        so cleanup needed after every request belongs in `on_finish`.
        The default fails a streamed body that is still arriving.
        """
        if not self._stream_request_body:
            return
        waiting = self._body_future
        if waiting is None or waiting.done():
            return
        waiting.set_exception(iostream.StreamClosedError())
        # Nobody may ever await it: retrieve the exception so that asyncio
        # does not complain about it when the future is collected.
        waiting.exception()

    def _connection_closed(self) -> None:
        # The connection's close callback and the HTTP delegate may both
        # report the same close; pass it on once.
        if self._close_notified:
            return
        self._close_notified = True
        self.on_connection_close()

    def clear(self) -> None:
        """Throws away the response prepared so far: headers back to the
        defaults (then `set_default_headers`), output buffer emptied,
        status back to 200."""
        self._headers = _default_headers()
        self.set_default_headers()
        self._status_code = 200
        self._reason = "OK"
        self._write_buffer: List[bytes] = []

    def set_default_headers(self) -> None:
        """Hook to adjust the headers every response of this handler starts
        with (a custom ``Server``, say); does nothing by default.

        It runs whenever the response is reset, including before an error
        page, which is why headers meant for every response belong here
        rather than in the verb method.
        """

    def set_status(self, status_code: int, reason: Optional[str] = None) -> None:
        """Chooses the response's status code and reason phrase.

        Without ``reason`` the standard phrase of `http.HTTPStatus` is used,
        or "Unknown" for a code it does not know.  A ``reason`` with
        characters that could break the status line or the default error
        page (control characters, ``<``, ``&`` ...) is replaced by
        "Unknown" as well.
        """
        if reason is None:
            phrase = httputil.responses.get(status_code, "Unknown")
        else:
            phrase = escape.native_str(reason)
            if _VALID_REASON.fullmatch(phrase) is None:
                phrase = "Unknown"
        self._status_code = status_code
        self._reason = phrase

    def get_status(self) -> int:
        """The status code the response will be sent with."""
        return self._status_code

    def set_header(self, name: str, value: _HeaderTypes) -> None:
        """Sets response header ``name``, replacing any earlier value.

        ``value`` may be a str, bytes (taken as latin-1), an integer or a
        `datetime.datetime` (written as an HTTP date).  A value containing
        CR, LF or another control character raises `ValueError`, which
        keeps request data from injecting headers.
        """
        # Printable ASCII text needs no conversion or further checks; the
        # other values go through _convert_header_value.
        if type(value) is str and value.isascii() and value.isprintable():
            self._headers[name] = value
        else:
            self._headers[name] = self._convert_header_value(value)

    def clear_header(self, name: str) -> None:
        """Removes response header ``name`` (every value of it) if set."""
        headers = self._headers
        if name in headers:
            del headers[name]

    def add_header(self, name: str, value: _HeaderTypes) -> None:
        """Adds one more value for response header ``name``, keeping the
        ones already there (for fields that may repeat).  Values are
        converted as by `set_header`."""
        self._headers.add(name, self._convert_header_value(value))

    def _convert_header_value(self, value: _HeaderTypes) -> str:
        # Exact str first: by far the most common argument.
        if type(value) is str:
            text = value
        elif isinstance(value, bytes):
            # latin-1 maps every octet to one character, so the bytes given
            # are the bytes sent.
            text = value.decode("latin1")
        elif isinstance(value, str):
            text = str(value)
        elif isinstance(value, numbers.Integral):
            return str(value)  # only digits (and a sign): nothing to check
        elif isinstance(value, datetime.datetime):
            return httputil.format_timestamp(value)
        else:
            raise TypeError("Unsupported header value %r" % (value,))
        # Printable ASCII (two flag/loop checks in C) is always valid; only
        # other text needs the full pattern.
        if not (text.isascii() and text.isprintable()):
            if _VALID_HEADER_CHARS.fullmatch(text) is None:
                raise ValueError("Unsafe header value %r" % (text,))
        return text

    # Argument getters --------------------------------------------------
    #
    # Arguments come from the query string, from a form body, or from both
    # (`HTTPServerRequest.arguments` merges the two).  Each getter returns
    # decoded text with control characters turned into spaces and, unless
    # ``strip=False``, surrounding whitespace removed.  The singular getters
    # return the last occurrence and, without a ``default``, raise
    # `MissingArgumentError` (a 400) when there is none.

    def get_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """The last value of argument ``name`` in the query or the body.

        Missing: ``default`` if given, else `MissingArgumentError`.
        """
        return self._last_argument(self.request.arguments, name, default, strip)

    def get_arguments(self, name: str, strip: bool = True) -> List[str]:
        """Every value of argument ``name`` in the query and the body, in
        order; an empty list when there is none."""
        # A second positional argument here is probably meant as a default
        # (as for get_argument); refuse it instead of treating it as a flag.
        assert isinstance(strip, bool)
        return self._all_arguments(self.request.arguments, name, strip)

    def get_body_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """Like `get_argument`, but only looks at the form body."""
        return self._last_argument(self.request.body_arguments, name, default, strip)

    def get_body_arguments(self, name: str, strip: bool = True) -> List[str]:
        """Like `get_arguments`, but only looks at the form body."""
        return self._all_arguments(self.request.body_arguments, name, strip)

    def get_query_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """Like `get_argument`, but only looks at the query string."""
        return self._last_argument(self.request.query_arguments, name, default, strip)

    def get_query_arguments(self, name: str, strip: bool = True) -> List[str]:
        """Like `get_arguments`, but only looks at the query string."""
        return self._all_arguments(self.request.query_arguments, name, strip)

    def _last_argument(self, source: Dict[str, List[bytes]], name: str, default: Any, strip: bool) -> Any:
        found = self._all_arguments(source, name, strip)
        if found:
            return found[-1]
        if default is _ARG_DEFAULT:
            raise MissingArgumentError(name)
        return default

    def _all_arguments(self, source: Dict[str, List[bytes]], name: str, strip: bool) -> List[str]:
        raw_values = source.get(name)
        if not raw_values:
            return []
        decode = self.decode_argument
        cleaned = []
        for raw in raw_values:
            text = decode(raw, name=name)
            # An overridden decode_argument may keep bytes; only text has
            # its control characters blanked.
            if isinstance(text, str):
                text = _REMOVE_CONTROL_CHARS.sub(" ", text)
            cleaned.append(text.strip() if strip else text)
        return cleaned

    def decode_argument(self, value: bytes, name: Optional[str] = None) -> str:
        """Turns one percent-decoded argument into the value handlers see.

        Applies to the argument getters and to the path arguments passed
        to the verb methods (``name`` is None for an unnamed group of the
        route's pattern).  The default decodes UTF-8 and answers 400 for
        anything else; override to keep bytes or use another charset.
        """
        try:
            return to_unicode(value)
        except UnicodeDecodeError:
            where = name or "url"
            raise HTTPError(400, "Invalid unicode in %s: %r", where, value[:40])

    # Cookies -------------------------------------------------------------
    #
    # Incoming cookies are read from the request; outgoing ones collect in
    # a SimpleCookie that flush() turns into Set-Cookie headers, so that a
    # cookie set twice before the headers go out is sent once, as last set.

    @property
    def cookies(self) -> Dict[str, http.cookies.Morsel]:
        """The request's cookies (`.httputil.HTTPServerRequest.cookies`)."""
        return self.request.cookies

    def get_cookie(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """The value of the cookie ``name`` the client sent, or ``default``.

        Only the request's cookies are looked at: one set by `set_cookie`
        during this request is not visible until the client sends it back.
        """
        jar = self.request.cookies
        morsel = jar.get(name) if jar is not None else None
        return default if morsel is None else morsel.value

    def set_cookie(self, name: str, value: Union[str, bytes], domain: Optional[str] = None,
                   expires: Optional[Union[float, Tuple, datetime.datetime]] = None,
                   path: str = "/", expires_days: Optional[float] = None, *,
                   max_age: Optional[int] = None, httponly: bool = False, secure: bool = False,
                   samesite: Optional[str] = None, **kwargs: Any) -> None:
        """Adds a ``Set-Cookie`` header for cookie ``name`` to the response.

        The attributes are those of RFC 6265 (see also MDN's Set-Cookie
        page): ``domain``, ``path``, ``max_age`` (an integer number of
        seconds), ``httponly``, ``secure``, ``samesite`` and, as a keyword,
        ``partitioned`` (CHIPS).  ``expires`` accepts a POSIX timestamp, a
        `time.gmtime`-style tuple or a `datetime.datetime`;
        ``expires_days`` is a shortcut counting days from now, used only
        when ``expires`` is not given.

        Setting the same name again replaces the earlier call entirely.
        The cookie reaches `get_cookie` only on the client's next request.
        A name or attribute containing a control character or ``;``
        raises `http.cookies.CookieError`; a value with control characters
        or spaces raises `ValueError` (other special characters are
        quoted).  Further keyword arguments are passed to the
        `http.cookies.Morsel` under their own (mixed-case) names, which is
        deprecated.
        """
        name = escape.native_str(name)
        value = escape.native_str(value)
        _check_cookie_attribute("name", name)
        if _BAD_COOKIE_VALUE.search(value):
            raise ValueError(f"Invalid cookie {name!r}: {value!r}")
        for label, given in (("domain", domain), ("path", path), ("samesite", samesite)):
            if given:
                _check_cookie_attribute(label, given)
        for label, given in kwargs.items():
            if isinstance(given, str):
                _check_cookie_attribute(label, given)
        max_age_text = _max_age_attribute(max_age)
        if expires_days is not None and not expires:
            expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=expires_days)
        partitioned = kwargs.pop("partitioned", False)

        jar = self._new_cookie
        if jar is None:
            jar = self._new_cookie = http.cookies.SimpleCookie()
        # Drop an earlier cookie of this name with all its attributes.
        jar.pop(name, None)
        jar[name] = value
        morsel = jar[name]
        attributes = (
            ("domain", domain),
            ("path", path),
            ("expires", httputil.format_timestamp(expires) if expires else None),
            ("max-age", max_age_text),
            ("samesite", samesite),
            # Morsel writes these two as bare flags when present.
            ("secure", True if secure else None),
            ("httponly", True if httponly else None),
        )
        for key, setting in attributes:
            if setting:
                morsel[key] = setting
        self._mark_partitioned(name, morsel, bool(partitioned))
        if kwargs:
            # Morsel keys are case-insensitive, so old mixed-case spellings
            # (``HttpOnly=True``) still work, with a warning.
            for key, setting in kwargs.items():
                morsel[key] = setting
            warnings.warn(
                f"Deprecated arguments to set_cookie: {set(kwargs)} (should be lowercase)",
                DeprecationWarning,
                stacklevel=2,
            )

    def _mark_partitioned(self, name: str, morsel: http.cookies.Morsel, partitioned: bool) -> None:
        pending = self._partitioned_cookies
        if pending is not None:
            pending.discard(name)
        if not partitioned:
            return
        if _MORSEL_KNOWS_PARTITIONED:
            morsel["partitioned"] = True
            return
        # Older Pythons' Morsel refuses the attribute: flush() appends it.
        if pending is None:
            pending = self._partitioned_cookies = set()
        pending.add(name)

    def clear_cookie(self, name: str, **kwargs: Any) -> None:
        """Tells the client to drop cookie ``name``, by setting it empty
        with an expiry date a year in the past.

        Browsers only match the deletion to the cookie if the attributes
        that identify it agree, so pass the ``domain`` and ``path`` (and,
        for some browsers, ``samesite`` and ``secure``) it was set with;
        every `set_cookie` keyword except ``expires`` and ``max_age`` is
        accepted.  Takes effect on the client's next request.
        """
        for reserved in ("expires", "max_age"):
            if reserved in kwargs:
                raise TypeError(f"clear_cookie() got an unexpected keyword argument '{reserved}'")
        a_year_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=365)
        self.set_cookie(name, value="", expires=a_year_ago, **kwargs)

    def clear_all_cookies(self, **kwargs: Any) -> None:
        """Calls `clear_cookie` (with these keyword arguments) for every
        cookie the request carried.

        The request does not say which domain, path and flags each cookie
        was set with, so this only works for an application that uses the
        same ones for all its cookies.
        """
        for cookie_name in self.request.cookies:
            self.clear_cookie(cookie_name, **kwargs)

    def _cookie_secret(self) -> _CookieSecretTypes:
        self.require_setting("cookie_secret", "secure cookies")
        return self.application.settings["cookie_secret"]

    def set_signed_cookie(self, name: str, value: Union[str, bytes],
                          expires_days: Optional[float] = 30,
                          version: Optional[int] = None, **kwargs: Any) -> None:
        """Sets a cookie whose value is signed and timestamped
        (`create_signed_value`), so that a client cannot forge or alter it.

        Needs the ``cookie_secret`` application setting, a long random
        secret.  The value may be any bytes.  ``expires_days`` is how long
        the browser keeps the cookie (None: until it closes); how old a
        signature `get_signed_cookie` accepts is its own ``max_age_days``.
        Other keyword arguments go to `set_cookie`.  Also available under
        its old name ``set_secure_cookie``.
        """
        signed = self.create_signed_value(name, value, version=version)
        self.set_cookie(name, signed, expires_days=expires_days, **kwargs)

    set_secure_cookie = set_signed_cookie

    def create_signed_value(self, name: str, value: Union[str, bytes], version: Optional[int] = None) -> bytes:
        """Signs and timestamps ``value`` under ``name`` with the
        application's ``cookie_secret``, as `set_signed_cookie` does, for
        uses other than a cookie; read it back with `get_signed_cookie`
        passing the ``value`` argument.

        When ``cookie_secret`` is a dict of keys by version, the
        ``key_version`` setting picks the one to sign with.
        """
        secret = self._cookie_secret()
        key_version = None
        if isinstance(secret, dict):
            key_version = self.application.settings.get("key_version")
            if key_version is None:
                raise Exception("key_version setting must be used for secret_key dicts")
        return create_signed_value(secret, name, value, version=version, key_version=key_version)

    def get_signed_cookie(self, name: str, value: Optional[str] = None,
                          max_age_days: float = 31, min_version: Optional[int] = None) -> Optional[bytes]:
        """The verified content of signed cookie ``name``, as bytes, or None
        when it is missing, forged, or signed more than ``max_age_days``
        ago.

        ``value`` checks that string instead of the request's cookie.  Like
        `get_cookie`, only sees what the client sent.  Also available under
        its old name ``get_secure_cookie``.
        """
        secret = self._cookie_secret()
        if value is None:
            value = self.get_cookie(name)
        return decode_signed_value(
            secret, name, value, max_age_days=max_age_days, min_version=min_version
        )

    get_secure_cookie = get_signed_cookie

    def get_signed_cookie_key_version(self, name: str, value: Optional[str] = None) -> Optional[int]:
        """Which key version (an int) signed cookie ``name`` (or ``value``)
        was signed with; None when there is no such cookie.  Also available
        as ``get_secure_cookie_key_version``.
        """
        self._cookie_secret()
        signed = self.get_cookie(name) if value is None else value
        return None if signed is None else get_signature_key_version(signed)

    get_secure_cookie_key_version = get_signed_cookie_key_version

    # Output ----------------------------------------------------------------
    #
    # Output collects in _write_buffer until flush() (or finish()) passes
    # it to the connection; the first flush also sends the status line and
    # the headers, after the output transforms have had their say.

    def redirect(self, url: str, permanent: bool = False, status: Optional[int] = None) -> None:
        """Answers with a redirect to ``url`` (which may be relative) and
        finishes the response.

        The status is ``status`` when given (it must be a 3xx code),
        otherwise 301 for a ``permanent`` redirect and 302 for a temporary
        one (the default).
        """
        if self._headers_written:
            raise Exception("Cannot redirect after headers have been written")
        if status is None:
            code = 301 if permanent else 302
        else:
            assert isinstance(status, int) and 300 <= status <= 399
            code = status
        self.set_status(code)
        self.set_header("Location", utf8(url))
        self.finish()

    def write(self, chunk: Union[str, bytes, dict]) -> None:
        """Appends ``chunk`` to the output buffer (nothing is sent before
        `flush` or `finish`).

        Text is encoded as UTF-8.  A dict is serialized as JSON and sets
        the ``Content-Type`` to ``application/json`` (call `set_header`
        afterwards for another type).  Lists are refused: a top-level JSON
        array could be read by another site's page (JSON hijacking), so
        wrap JSON output in a dict.
        """
        if self._finished:
            raise RuntimeError("Cannot write() after finish()")
        kind = type(chunk)
        if kind is bytes:
            self._write_buffer.append(chunk)  # type: ignore[arg-type]
        elif kind is str:
            self._write_buffer.append(chunk.encode("utf-8"))  # type: ignore[union-attr]
        elif isinstance(chunk, dict):
            self._write_buffer.append(escape.json_encode(chunk).encode("utf-8"))
            self.set_header("Content-Type", "application/json; charset=UTF-8")
        elif isinstance(chunk, (bytes, str)):
            self._write_buffer.append(utf8(chunk))
        else:
            raise TypeError(_write_refusal(chunk))

    def render(self, template_name: str, **kwargs: Any) -> "Future[None]":
        """Renders template ``template_name`` with ``kwargs`` (see
        `render_string`) and finishes the response with it.

        The resources the page's UI modules ask for are added: stylesheets
        and ``html_head`` before ``</head>``, scripts before the last
        ``</body>`` and ``html_body`` before the first.  Returns the
        future of `finish`, which need not be awaited.
        """
        if self._finished:
            raise RuntimeError("Cannot render() after finish()")
        page = self.render_string(template_name, **kwargs)
        modules = getattr(self, "_active_modules", None)
        if modules:
            page = self._add_module_resources(page, list(modules.values()))
        return self.finish(page)

    def _add_module_resources(self, page: bytes, modules: List["UIModule"]) -> bytes:
        script_urls: List[str] = []
        sheet_urls: List[str] = []
        scripts: List[bytes] = []
        styles: List[bytes] = []
        heads: List[bytes] = []
        bodies: List[bytes] = []
        for module in modules:
            _extend_paths(script_urls, module.javascript_files())
            _extend_paths(sheet_urls, module.css_files())
            produced = (
                (scripts, module.embedded_javascript()),
                (styles, module.embedded_css()),
                (heads, module.html_head()),
                (bodies, module.html_body()),
            )
            for sink, text in produced:
                if text:
                    sink.append(utf8(text))
        # Scripts go at the end of the body so that they run after the
        # page's markup exists; files keep the order the modules gave.
        if script_urls:
            page = _insert_before(page, b"</body>", utf8(self.render_linked_js(script_urls)), last=True)
        if scripts:
            page = _insert_before(page, b"</body>", self.render_embed_js(scripts), last=True)
        head_parts = [
            utf8(self.render_linked_css(sheet_urls)) if sheet_urls else b"",
            self.render_embed_css(styles) if styles else b"",
            b"".join(heads),
        ]
        for part in head_parts:
            if part:
                page = _insert_before(page, b"</head>", part)
        if bodies:
            page = _insert_before(page, b"</body>", b"".join(bodies))
        return page

    def _unique_static_paths(self, files: Iterable[str]) -> List[str]:
        # Relative names are static files; a URL listed twice is kept once.
        urls = (p if is_absolute(p) else self.static_url(p) for p in files)
        return list(dict.fromkeys(urls))

    def render_linked_js(self, js_files: Iterable[str]) -> str:
        """The ``<script src=...>`` elements `render` adds for the script
        files UI modules name (static paths become `static_url` URLs;
        duplicates are dropped).  Override to change the markup."""
        tags = [
            '<script src="%s" type="text/javascript"></script>' % escape.xhtml_escape(src)
            for src in self._unique_static_paths(js_files)
        ]
        return "".join(tags)

    def render_embed_js(self, js_embed: Iterable[bytes]) -> bytes:
        """The inline ``<script>`` element `render` adds for the script
        code UI modules embed.  Override to change the markup."""
        code = b"\n".join(js_embed)
        return b'<script type="text/javascript">\n//<![CDATA[\n%s\n//]]>\n</script>' % code

    def render_linked_css(self, css_files: Iterable[str]) -> str:
        """The ``<link rel="stylesheet">`` elements `render` adds for the
        stylesheets UI modules name (static paths become `static_url`
        URLs; duplicates are dropped).  Override to change the markup."""
        tags = [
            '<link href="%s" type="text/css" rel="stylesheet"/>' % escape.xhtml_escape(href)
            for href in self._unique_static_paths(css_files)
        ]
        return "".join(tags)

    def render_embed_css(self, css_embed: Iterable[bytes]) -> bytes:
        """The inline ``<style>`` element `render` adds for the CSS UI
        modules embed.  Override to change the markup."""
        return b'<style type="text/css">\n%s\n</style>' % b"\n".join(css_embed)

    def render_string(self, template_name: str, **kwargs: Any) -> bytes:
        """Renders template ``template_name`` and returns the UTF-8 bytes
        (`render` sends them as the response).

        The template sees `get_template_namespace` plus ``kwargs``.  It is
        loaded from the directory of `get_template_path` or, when that is
        None, from the directory of the module that called this method.
        """
        directory = self.get_template_path()
        if not directory:
            directory = os.path.dirname(_first_caller_outside())
        page = self._template_loader(directory).load(template_name)
        namespace = self.get_template_namespace()
        namespace.update(kwargs)
        if type(page).generate is template.Template.generate:
            # The same as generate(**namespace) without copying the names.
            return page._generate_with(namespace)
        return page.generate(**namespace)

    def _template_loader(self, directory: str) -> template.BaseLoader:
        # One loader per directory for the whole process, so that parsed
        # templates are reused across requests (and handler classes).
        loaders = RequestHandler._template_loaders
        # Every render asks: skip the lock once the loader exists.
        found = loaders.get(directory)
        if found is not None:
            return found
        with RequestHandler._template_loader_lock:
            found = loaders.get(directory)
            if found is None:
                found = loaders[directory] = self.create_template_loader(directory)
        return found

    def get_template_namespace(self) -> Dict[str, Any]:
        """The names every template rendered by this handler can use.

        They are the handler and request, ``current_user``, ``locale``
        with its ``_`` and ``pgettext`` shortcuts, ``static_url``,
        ``xsrf_form_html``, ``reverse_url``, and the application's UI
        methods and ``modules``.  Override to add or change entries;
        `tornado.template` adds its own defaults and `render`'s keyword
        arguments come on top.
        """
        user = self.current_user
        loc = self.locale
        names: Dict[str, Any] = {
            "handler": self,
            "request": self.request,
            "current_user": user,
            "locale": loc,
            "_": loc.translate,
            "pgettext": loc.pgettext,
            "static_url": self.static_url,
            "reverse_url": self.reverse_url,
            "xsrf_form_html": self.xsrf_form_html,
        }
        names.update(self.ui)
        return names

    def create_template_loader(self, template_path: str) -> template.BaseLoader:
        """Makes the loader for templates under ``template_path``.

        The ``template_loader`` application setting, when present, is used
        as is.  Otherwise the result is a `tornado.template.Loader` for the
        directory, given the ``autoescape`` and ``template_whitespace``
        settings when they are set (an explicit ``autoescape=None`` turns
        escaping off, so absence and None differ).  Override for another
        kind of loader.
        """
        settings = self.application.settings
        if "template_loader" in settings:
            return settings["template_loader"]
        options = {
            loader_option: settings[setting]
            for setting, loader_option in _TEMPLATE_SETTINGS
            if setting in settings
        }
        return template.Loader(template_path, **options)

    def flush(self, include_footers: bool = False) -> "Future[None]":
        """Sends the buffered output to the connection.

        The first flush also sends the status line and headers (with the
        cookies set so far), once the output transforms have seen them.
        Returns a `.Future` resolved when the data has been written, which
        a handler streaming a large response may await for flow control.
        A HEAD request's body is dropped here.
        """
        conn = self.request.connection
        assert conn is not None
        pending = self._write_buffer
        if not pending:
            data = b""
        else:
            data = pending[0] if len(pending) == 1 else b"".join(pending)
            self._write_buffer = []
        is_head = self.request.method == "HEAD"

        if self._headers_written:
            for transform in self._transforms:
                data = transform.transform_chunk(data, include_footers)
            if not is_head:
                return conn.write(data)
            nothing: Future[None] = Future()
            nothing.set_result(None)
            return nothing

        self._headers_written = True
        code, headers = self._status_code, self._headers
        for transform in self._transforms:
            code, headers, data = transform.transform_first_chunk(code, headers, data, include_footers)
        self._status_code, self._headers = code, headers
        if self._new_cookie is not None:
            self._add_set_cookie_headers(self._new_cookie)
        # Status lines are immutable tuples: share one per (code, reason).
        key = (code, self._reason)
        start_line = _START_LINES.get(key)
        if start_line is None:
            start_line = httputil.ResponseStartLine("", code, self._reason)
            if len(_START_LINES) < 256:  # reasons may be made up per request
                _START_LINES[key] = start_line
        return conn.write_headers(start_line, headers, b"" if is_head else data)

    def _add_set_cookie_headers(self, jar: http.cookies.SimpleCookie) -> None:
        partitioned = self._partitioned_cookies or ()
        for cookie_name, morsel in jar.items():
            line = morsel.OutputString(None)
            if cookie_name in partitioned:
                line += "; Partitioned"
            self.add_header("Set-Cookie", line)

    def finish(self, chunk: Optional[Union[str, bytes, dict]] = None) -> "Future[None]":
        """Completes the response: writes ``chunk`` if given, sends what is
        left and ends the HTTP message; nothing may be written afterwards.

        When the headers have not been sent yet, the response is checked
        first: a 200 answer to GET or HEAD gets an ``Etag`` (`compute_etag`)
        and turns into a bodiless 304 if the request's ``If-None-Match``
        matches it; a response that may have a body gets a
        ``Content-Length`` unless it already has one.

        Returns a `.Future` resolved once everything has been written (it
        fails if the connection closes first); awaiting it is optional.
        """
        if self._finished:
            raise RuntimeError("finish() called twice")
        if chunk is not None:
            self.write(chunk)
        conn = self.request.connection
        assert conn is not None
        if not self._headers_written:
            self._prepare_final_headers()
        # The close callback points back at this handler; dropping it keeps
        # a keep-alive connection from holding the finished handler alive.
        conn.set_close_callback(None)  # type: ignore[arg-type]
        sent = self.flush(include_footers=True)
        conn.finish()
        self._finished = True
        self._log()
        self.on_finish()
        self._break_cycles()
        return sent

    def _prepare_final_headers(self) -> None:
        # Runs when finish() sends a response whose headers are still ours
        # to change: conditional GET (RFC 9110 section 13.1.2) and framing.
        if (
            self._status_code == 200
            and self.request.method in _ETAG_METHODS
            and "Etag" not in self._headers
        ):
            self.set_etag_header()
            if self.check_etag_header():
                self._write_buffer = []
                self.set_status(304)
        code = self._status_code
        if code in _NO_BODY_STATUSES:
            assert not self._write_buffer, "Cannot send body with %s" % code
            self._clear_representation_headers()
            return
        headers = self._headers
        if "Content-Length" not in headers:
            pending = self._write_buffer
            size = len(pending[0]) if len(pending) == 1 else sum(map(len, pending))
            headers["Content-Length"] = str(size)

    def detach(self) -> iostream.IOStream:
        """Hands over the connection's `.IOStream` and ends HTTP processing
        of this request (for protocols that start with an HTTP handshake,
        such as websockets).  HTTP/1.x only."""
        self._finished = True
        return self.request.connection.detach()  # type: ignore

    def _break_cycles(self) -> None:
        # The ui namespace holds closures over this handler, and the UI
        # modules used hold the handler: dropping both lets the handler be
        # freed by reference counting alone, without waiting for the
        # cyclic garbage collector.
        state = self.__dict__
        if "ui" in state:
            self.ui = None  # type: ignore
            state.pop("_active_modules", None)

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        """Replaces the response by an error page with ``status_code``.

        Output buffered so far is discarded and `write_error` (which gets
        ``kwargs``) produces the page; statuses that cannot have a body
        (1xx, 204, 304) are sent bare.  A ``reason`` keyword, or the
        reason of the `HTTPError` in ``exc_info``, sets the reason phrase.
        Once headers have been flushed no error page is possible: the
        response is just finished.
        """
        if self._headers_written:
            self._end_partial_response()
            return
        self.clear()
        self.set_status(status_code, reason=_error_reason(kwargs))
        if status_code not in _NO_BODY_STATUSES:
            try:
                self.write_error(status_code, **kwargs)
            except Exception:
                app_log.error("Uncaught exception in write_error", exc_info=True)
        if not self._finished:
            self.finish()

    def _end_partial_response(self) -> None:
        gen_log.error("Cannot send error response after headers written")
        if self._finished:
            return
        # The body is probably shorter than its Content-Length and finish()
        # will complain, but trying releases the connection.
        try:
            self.finish()
        except Exception:
            gen_log.error("Failed to flush partial response", exc_info=True)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Writes the error page for `send_error`; override for custom pages.

        It may use `write`, `render`, `set_header` and the rest as usual.
        For an uncaught exception (`HTTPError` included) ``kwargs`` holds
        ``exc_info``, a ``(type, value, traceback)`` triple, which is not
        necessarily the exception `sys.exc_info` would report.  By default
        the page is a line of HTML with the code and reason, or the
        traceback as plain text when the ``serve_traceback`` setting is on.
        """
        exc_info = kwargs.get("exc_info")
        if exc_info is not None and self.settings.get("serve_traceback"):
            self.set_header("Content-Type", "text/plain")
            self.finish("".join(traceback.format_exception(*exc_info)))
            return
        line = "%d: %s" % (status_code, self._reason)
        self.finish("<html><title>%s</title><body>%s</body></html>" % (line, line))

    # Locale and user -----------------------------------------------------

    @property
    def locale(self) -> locale.Locale:
        """The `tornado.locale.Locale` to present this request in.

        Worked out on first use: `get_user_locale` if it returns one,
        otherwise `get_browser_locale` (the ``Accept-Language`` header).
        May also be assigned.
        """
        chosen = self._locale
        if chosen is None:
            chosen = self.get_user_locale()
            if chosen is None:
                chosen = self.get_browser_locale()
            assert chosen
            self._locale = chosen
        return chosen

    @locale.setter
    def locale(self, value: locale.Locale) -> None:
        self._locale = value

    def get_user_locale(self) -> Optional[locale.Locale]:
        """Hook choosing the locale from the user (a stored preference,
        say); return a `tornado.locale.Locale`, for example
        ``tornado.locale.get("fr")``.  The default returns None, which
        leaves the choice to `get_browser_locale`."""
        return None

    def get_browser_locale(self, default: str = "en_US") -> locale.Locale:
        """The best supported locale among the languages of the request's
        ``Accept-Language`` header, tried by decreasing weight (weights of
        zero, negative or unreadable rule a language out); ``default``
        when the header names none we can use."""
        header = self.request.headers.get("Accept-Language")
        codes = _languages_by_preference(header) if header else []
        return locale.get(*codes) if codes else locale.get(default)

    @property
    def current_user(self) -> Any:
        """The user this request is made by, of whatever type the
        application uses (None for anonymous requests by default).

        The first read calls `get_current_user` and keeps its answer for
        the rest of the request.  The property may also be assigned, which
        is how a user found asynchronously gets in, since
        `get_current_user` cannot be a coroutine::

            async def prepare(self):
                session = self.get_signed_cookie("session")
                if session:
                    self.current_user = await self.db.user_for(session)

        `authenticated` and the templates' ``current_user`` read it.
        """
        state = self.__dict__
        if "_current_user" not in state:
            state["_current_user"] = self.get_current_user()
        return state["_current_user"]

    @current_user.setter
    def current_user(self, value: Any) -> None:
        self._current_user = value

    def get_login_url(self) -> str:
        """Where `authenticated` sends visitors who are not logged in:
        the ``login_url`` application setting.  Override to depend on
        the request."""
        self.require_setting("login_url", "@tornado.web.authenticated")
        return self.application.settings["login_url"]

    def get_current_user(self) -> Any:
        """Hook finding the user of this request (typically from a signed
        cookie); called at most once per request, by `current_user`.
        Must return the user directly, not a coroutine.  The default
        returns None."""
        return None

    def get_template_path(self) -> Optional[str]:
        """The directory `render_string` loads templates from: the
        ``template_path`` setting by default.  None means the directory of
        the module calling `render_string`."""
        return self.application.settings.get("template_path")

    # XSRF and cross-origin protection -------------------------------------
    #
    # Cross-site request forgery defence by double submission: a random
    # token lives in a cookie (which other sites cannot read) and must come
    # back with every state-changing request, in a form field or a header.

    @property
    def xsrf_token(self) -> bytes:
        """The anti-forgery token to embed in this request's forms (ASCII
        bytes; decode them when a str is wanted).

        Reading it the first time gives the client an XSRF cookie if it
        did not send one (named by the ``xsrf_cookie_name`` setting,
        ``_xsrf`` by default, with the ``xsrf_cookie_kwargs`` setting as
        `set_cookie` arguments; a logged-in user's cookie lasts 30 days
        unless those say otherwise).  `check_xsrf_cookie` later compares
        the token submitted with the cookie.

        With the default ``xsrf_cookie_version`` of 2 the token is masked
        with fresh random bytes for each request, so it never appears twice
        in the same form and cannot be recovered by compression attacks
        (BREACH); version 1 is the bare token in hex.
        """
        known = self.__dict__.get("_xsrf_token")
        if known is None:
            known = self._xsrf_token = self._issue_xsrf_token()
        return known

    def _issue_xsrf_token(self) -> bytes:
        settings = self.settings
        version, secret, issued = self._get_raw_xsrf_token()
        token = _encode_xsrf_token(settings.get("xsrf_cookie_version", 2), secret, issued)
        if version is None:
            # The client has no token yet: this one must reach it.
            options = dict(settings.get("xsrf_cookie_kwargs", {}))
            if self.current_user and "expires_days" not in options:
                options["expires_days"] = 30
            self.set_cookie(settings.get("xsrf_cookie_name", "_xsrf"), token, **options)
        return token

    def _get_raw_xsrf_token(self) -> Tuple[Optional[int], bytes, float]:
        """This request's XSRF secret as ``(version, token, timestamp)``.

        It comes from the client's XSRF cookie when that holds a readable
        token (``version`` is then the cookie's format, and the timestamp
        of a version-1 cookie is just the current time); otherwise sixteen
        new random bytes are made, with ``version`` None.
        """
        known = self.__dict__.get("_raw_xsrf_token")
        if known is None:
            cookie = self.get_cookie(self.settings.get("xsrf_cookie_name", "_xsrf"))
            version, secret, issued = self._decode_xsrf_token(cookie) if cookie else (None, None, None)
            if secret is None or issued is None:
                version, secret, issued = None, os.urandom(16), time.time()
            known = self._raw_xsrf_token = (version, secret, issued)
        return known

    def _decode_xsrf_token(self, cookie: str) -> Tuple[Optional[int], Optional[bytes], Optional[float]]:
        """Reads a token of either format (from a cookie or a form) into
        the triple of `_get_raw_xsrf_token`; ``(None, None, None)`` when it
        cannot be read."""
        try:
            return _parse_xsrf_token(cookie)
        except Exception:
            gen_log.debug("Unreadable XSRF token %r", cookie, exc_info=True)
            return None, None, None

    def check_xsrf_cookie(self) -> None:
        """Raises `HTTPError` 403 unless the request carries the token of
        its XSRF cookie.

        The token may come as the ``_xsrf`` argument or in an
        ``X-XSRFToken`` or ``X-CSRFToken`` header (the latter is Django's
        name); masked and unmasked forms are both accepted.  With the
        ``xsrf_cookies`` setting on, this runs before `prepare` for every
        request whose method is not GET, HEAD or OPTIONS; override it to
        change or disable the check.
        """
        headers = self.request.headers
        submitted = (
            self.get_argument("_xsrf", None) or headers.get("X-Xsrftoken") or headers.get("X-Csrftoken")
        )
        if not submitted:
            raise HTTPError(403, "'_xsrf' argument missing from POST")
        _, offered, _ = self._decode_xsrf_token(submitted)
        if not offered:
            raise HTTPError(403, "'_xsrf' argument has invalid format")
        _, expected, _ = self._get_raw_xsrf_token()
        if not hmac.compare_digest(utf8(offered), utf8(expected)):
            raise HTTPError(403, "XSRF cookie does not match POST argument")

    def xsrf_form_html(self) -> str:
        """A hidden ``<input>`` carrying `xsrf_token` as the ``_xsrf``
        field, for every form that posts to an application using the
        ``xsrf_cookies`` setting (``{% module xsrf_form_html() %}`` in a
        template).  See `check_xsrf_cookie`."""
        return '<input type="hidden" name="_xsrf" value="%s"/>' % escape.xhtml_escape(self.xsrf_token)

    def check_trusted_origin(self, origin: str) -> bool:
        """Returns whether a cross-origin request from ``origin`` may proceed.

        Consulted by the cross-origin protection (the
        ``cross_origin_protection`` setting, and websocket origin checks)
        only for requests that appear to come from another origin.  The
        default accepts the origins listed, exactly, in the
        ``trusted_origins`` setting.  Override to trust origins by rule
        (e.g. all subdomains).
        """
        return origin in self.settings.get("trusted_origins", ())

    def _cross_origin_problem(self, origin: Optional[str]) -> Optional[str]:
        """Returns why a request coming from ``origin`` must be refused as
        cross-origin, or ``None`` when it may proceed.

        Browsers label every request with ``Sec-Fetch-Site``, which pages
        cannot forge; when present it decides (``same-origin`` and ``none``,
        a user's own navigation, are allowed).  Older browsers only send
        ``Origin``, which is then compared with the ``Host`` header; a
        request with neither header does not come from a browser page and
        is allowed.  `check_trusted_origin` gets the last word on anything
        that looks cross-origin.
        """
        headers = self.request.headers
        site = headers.get("Sec-Fetch-Site")
        if site is not None:
            site = site.strip().lower()
            if site in ("same-origin", "none"):
                return None
            if origin is not None and self.check_trusted_origin(origin):
                return None
            return "Sec-Fetch-Site %s from Origin %r not allowed" % (site, origin)
        if origin is None:
            return None
        if _origin_matches_host(origin, headers.get("Host")):
            return None
        if self.check_trusted_origin(origin):
            return None
        return "Origin %r not allowed" % (origin,)

    # URLs ------------------------------------------------------------------

    def static_url(self, path: str, include_host: Optional[bool] = None, **kwargs: Any) -> str:
        """The URL of static file ``path`` (relative to the ``static_path``
        setting, which must be set).

        The URL is made by the ``static_handler_class`` setting's
        ``make_static_url`` (`StaticFileHandler` by default), which adds a
        version argument (``?v=<hash of the content>``) so that browsers may
        cache the file for ever; the default accepts
        ``include_version=False`` among ``kwargs`` to leave it out.  The
        URL is host-relative unless ``include_host`` is true; when
        ``include_host`` is not passed, a handler attribute of that name is
        the default.
        """
        self.require_setting("static_path", "static_url")
        settings = self.settings
        maker = settings.get("static_handler_class", StaticFileHandler)
        if include_host is None:
            include_host = getattr(self, "include_host", False)
        relative = maker.make_static_url(settings, path, **kwargs)
        if not include_host:
            return relative
        request = self.request
        return f"{request.protocol}://{request.host}{relative}"

    def require_setting(self, name: str, feature: str = "this feature") -> None:
        """Raises `Exception` (naming ``feature``) unless the application
        setting ``name`` is set to something true."""
        if self.application.settings.get(name):
            return
        raise Exception(f"You must define the '{name}' setting in your application to use {feature}")

    def reverse_url(self, name: str, *args: Any) -> str:
        """Shortcut for `Application.reverse_url`."""
        return self.application.reverse_url(name, *args)

    # ETags -------------------------------------------------------------------

    def compute_etag(self) -> Optional[str]:
        """The entity tag `finish` gives the response: by default a quoted
        SHA-1 of the body written so far.  Override for a cheaper or more
        meaningful tag, or return None to send none (and so never 304)."""
        pending = self._write_buffer
        body = pending[0] if len(pending) == 1 else b"".join(pending)
        # Copying a fresh SHA-1 object skips OpenSSL's algorithm lookup.
        digest = _SHA1_SEED.copy()
        digest.update(body)
        return '"' + digest.hexdigest() + '"'

    def set_etag_header(self) -> None:
        """Puts `compute_etag`'s tag in the ``Etag`` header (nothing when
        it returns None).  `finish` calls it for GET and HEAD requests."""
        tag = self.compute_etag()
        if tag is not None:
            self.set_header("Etag", tag)

    def check_etag_header(self) -> bool:
        """Whether the request's ``If-None-Match`` matches the response's
        ``Etag`` header, i.e. whether the client's copy is current and a
        304 may be answered.

        `finish` does this itself; call it earlier (after setting the
        ``Etag``, e.g. with `set_etag_header`) to skip producing a body
        the client already has::

            self.set_etag_header()
            if self.check_etag_header():
                self.set_status(304)
                return

        Tags compare weakly (RFC 9110 section 13.1.2: ``W/`` does not
        matter) and ``*`` matches any tag.
        """
        request_headers = self.request.headers
        # Membership first: HTTPHeaders raises (and catches) a KeyError
        # internally for a failed get(), which is slow.
        if "If-None-Match" not in request_headers:
            return False
        wanted = request_headers["If-None-Match"]
        ours = self._headers.get("Etag", "")
        if not wanted or not ours:
            return False
        return _if_none_match_hits(utf8(wanted), utf8(ours))

    # Request processing ------------------------------------------------------
    #
    # _execute_inline runs the handler synchronously for as long as the
    # handler's methods return plain values.  Only when prepare() or the
    # verb method returns something still pending (or a streamed body has to
    # arrive) does the rest move into a task, _proceed.
    #
    # _execute is the same work in the shape code built on Tornado expects:
    # APM and error-reporting integrations (Sentry, ddtrace, Elastic APM,
    # New Relic) replace RequestHandler._execute with a wrapper taking
    # (self, transforms, *args, **kwargs) that awaits the original.  The
    # application calls _execute_inline directly only while _execute is
    # this one (see _HandlerDelegate.execute).

    async def _execute(
        self, transforms: List["OutputTransform"], *args: bytes, **kwargs: bytes
    ) -> None:
        """Runs this request through the handler, applying ``transforms``
        to the output; ``args``/``kwargs`` are the raw path arguments.
        Completes when the handler is done with the request."""
        # The rest runs in this same task, so in the same context as what
        # came before (a tracing span attached in prepare() is detached in
        # on_finish()).
        rest = self._execute_inline(transforms, args, kwargs, _await_rest)
        if rest is not None:
            await rest

    # The context the application runs this request in (see
    # _HandlerDelegate.execute); None while _execute is replaced.
    _request_context: Optional[contextvars.Context] = None

    def _execute_inline(
        self,
        transforms: List["OutputTransform"],
        args: Sequence[bytes],
        kwargs: Dict[str, bytes],
        carry_on: "Optional[Callable[[Coroutine[Any, Any, None]], Awaitable[None]]]" = None,
    ) -> Optional[Awaitable[None]]:
        """`_execute` run synchronously as far as it goes: returns what
        carries on asynchronously (``carry_on`` of the coroutine that does;
        by default a task in this request's context), or None when the
        request was handled completely within this call."""
        if carry_on is None:
            carry_on = self._carry_on
        self._transforms = transforms
        try:
            self._check_request(args, kwargs)
            prepared = self.prepare()
            if prepared is not None:
                return carry_on(self._proceed(prepared, None))
            if self._prepared_future is not None:
                # The application waits for prepare() before it lets a
                # streamed body flow into data_received.
                future_set_result_unless_cancelled(self._prepared_future, None)
            if self._finished:
                return None
            if self._stream_request_body:
                return carry_on(self._proceed(None, None))
            outcome = self._call_verb_method()
            if outcome is not None:
                if not _completed_future(outcome):
                    return carry_on(self._proceed(None, outcome))
                outcome.result()  # re-raises what the method raised
            if self._auto_finish and not self._finished:
                self.finish()
        except (Exception, asyncio.CancelledError) as e:
            # Nothing of ours is running as a task yet, so a CancelledError
            # comes from the handler's own code: an error like the others.
            self._handle_execute_exception(e)
        return None

    def _carry_on(self, rest: "Coroutine[Any, Any, None]") -> "asyncio.Task[None]":
        # The task runs in the request's own context, like Tornado's one
        # task per request.  (_HandlerDelegate.execute runs a request
        # inline only while no task factory is installed: an eager one
        # would enter that context here, while we are still in it.)
        return _hold(asyncio.get_running_loop().create_task(rest, context=self._request_context))

    def _check_request(self, args: Sequence[bytes], kwargs: Dict[str, bytes]) -> None:
        # Everything decided before prepare(): a body the server could not
        # parse, the method, the path arguments, and forgery protection.
        if self._body_error is not None:
            raise HTTPError(400, "%s", self._body_error)
        method = self.request.method
        if method not in self.SUPPORTED_METHODS:
            raise HTTPError(405)
        if args or kwargs:
            decode = self.decode_argument
            self.path_args = [decode(raw) for raw in args]  # type: ignore[misc]
            self.path_kwargs = {key: decode(raw, name=key) for key, raw in kwargs.items()}
        else:
            self.path_args = []  # type: ignore[misc]
            self.path_kwargs = {}  # type: ignore[misc]
        if method not in _SAFE_METHODS:
            self._check_forgery()

    def _check_forgery(self) -> None:
        settings = self.application.settings
        if settings.get("cross_origin_protection"):
            refusal = self._cross_origin_problem(self.request.headers.get("Origin"))
            if refusal is not None:
                raise HTTPError(403, "%s", refusal)
        if settings.get("xsrf_cookies"):
            self.check_xsrf_cookie()

    def _call_verb_method(self) -> Optional[Awaitable[None]]:
        method = self.request.method
        name = _VERB_NAMES.get(method)  # type: ignore[arg-type]
        verb_method = getattr(self, name or method.lower())  # type: ignore[union-attr]
        return verb_method(*self.path_args, **self.path_kwargs)

    async def _proceed(self, prepared: Optional[Awaitable[None]], pending: Optional[Awaitable[None]]) -> None:
        # The asynchronous rest of _execute.  ``pending`` is what the verb
        # method returned when that is what must be awaited; otherwise the
        # request stopped before the verb method, at ``prepared`` (the
        # awaitable of prepare()) or, when that is None, at a streamed body.
        try:
            if pending is None:
                if prepared is not None:
                    await prepared
                    if self._prepared_future is not None:
                        future_set_result_unless_cancelled(self._prepared_future, None)
                    if self._finished:
                        return
                if self._stream_request_body:
                    body_received = self._body_future
                    assert body_received is not None
                    try:
                        await body_received
                    except iostream.StreamClosedError:
                        return  # the client left before sending it all
                pending = self._call_verb_method()
            if pending is not None:
                await pending
            if self._auto_finish and not self._finished:
                self.finish()
        except Exception as e:
            self._handle_execute_exception(e)
        except asyncio.CancelledError as e:
            self._handle_cancellation(e)

    def _handle_cancellation(self, e: asyncio.CancelledError) -> None:
        task = asyncio.current_task()
        if task is None or not task.cancelling():
            # The handler awaited something that got cancelled: that is an
            # uncaught exception like any other.
            self._handle_execute_exception(e)
            return
        # This request's own task is being cancelled (e.g. at shutdown):
        # answer 500 without an error log and let the task end cancelled.
        try:
            if not self._finished:
                self.send_error(500)
        except Exception:
            app_log.error("Exception in exception handler", exc_info=True)
        self._unblock_prepared()
        raise e

    def _handle_execute_exception(self, e: BaseException) -> None:
        try:
            self._handle_request_exception(e)
        except Exception:
            app_log.error("Exception in exception handler", exc_info=True)
        self._unblock_prepared()

    def _unblock_prepared(self) -> None:
        # A request that failed before prepare() completed must still
        # release the application, which may be holding its body back.
        waiting = self._prepared_future
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    def data_received(self, chunk: bytes) -> Optional[Awaitable[None]]:
        """Receives the next piece of the request body, for handler classes
        decorated with `stream_request_body`; must be overridden there.

        Returning an awaitable (a coroutine) holds back further pieces
        until it completes, which gives flow control.
        """
        raise NotImplementedError()

    def _log(self) -> None:
        # Kept as a hook because applications override it; the logging
        # itself is Application.log_request's job.
        self.application.log_request(self)

    def _request_summary(self) -> str:
        request = self.request
        return f"{request.method} {request.uri} ({request.remote_ip})"

    def _handle_request_exception(self, e: BaseException) -> None:
        if not isinstance(e, Finish):
            self._report_failure(e)
        elif not self._finished:
            # Finish is the way out of a handler, not a failure.
            self.finish(*e.args)

    def _report_failure(self, e: BaseException) -> None:
        exc_info = (type(e), e, e.__traceback__)
        try:
            self.log_exception(*exc_info)
        except Exception:
            # Carry on: the client must get an answer and the connection
            # must be released even when logging breaks.
            app_log.error("Error in exception logger", exc_info=True)
        if self._finished:
            return  # too late for an error page; the log is all we can do
        code = e.status_code if isinstance(e, HTTPError) else 500
        self.send_error(code, exc_info=exc_info)

    def log_exception(self, typ: Optional[Type[BaseException]], value: Optional[BaseException],
                      tb: Optional[types.TracebackType]) -> None:
        """Logs an exception that escaped the handler; override to log
        differently.

        `HTTPError` is an expected outcome: its message (if it has one)
        becomes a single warning line on ``tornado.general``.  Anything
        else is an error with its traceback on ``tornado.application``.
        """
        if not isinstance(value, HTTPError):
            app_log.error("Uncaught exception %s\n%r", self._request_summary(), self.request,
                          exc_info=(typ, value, tb))  # type: ignore[arg-type]
            return
        detail = value.get_message()
        if detail:
            gen_log.warning("%d %s: %s", value.status_code, self._request_summary(), detail)

    def _ui_module(self, name: str, module: Type["UIModule"]) -> Callable[..., str]:
        # A template's ``{% module name(...) %}``: the module is instantiated
        # once per request, and render() knows which modules were used.
        def render(*args: Any, **kwargs: Any) -> str:
            active = self.__dict__.setdefault("_active_modules", {})
            instance = active.get(name)
            if instance is None:
                instance = active[name] = module(self)
            return instance.render(*args, **kwargs)

        return render

    def _ui_method(self, method: Callable[..., str]) -> Callable[..., str]:
        # UI methods receive the handler as their first argument.
        return functools.partial(method, self)

    def _clear_representation_headers(self) -> None:
        # A response without content must not describe one (RFC 9110
        # section 15.4.5 for 304): drop the representation metadata.
        for name in _REPRESENTATION_HEADERS:
            self.clear_header(name)


def _await_rest(rest: "Coroutine[Any, Any, None]") -> "Coroutine[Any, Any, None]":
    return rest


def _hold(task: "asyncio.Task[None]") -> "asyncio.Task[None]":
    """Holds a strong reference to ``task`` until it ends (the event loop
    keeps only weak ones)."""
    _running_tasks.add(task)
    task.add_done_callback(_running_tasks.discard)
    return task


def _completed_future(result: Any) -> bool:
    """Whether ``result`` is a future that has already finished, so that
    its outcome can be collected without a task (`gen.coroutine` methods
    that never yield return those)."""
    return isinstance(result, asyncio.Future) and result.done()


def _strip_weak(etag: bytes) -> bytes:
    # RFC 9110 section 8.8.3.2: the weak comparison ignores the W/ prefix.
    return etag[2:] if etag.startswith(b"W/") else etag


def _insert_before(html: bytes, marker: bytes, text: bytes, last: bool = False) -> bytes:
    """Puts ``text`` and a newline in front of the first (or, with
    ``last``, the final) occurrence of ``marker`` in ``html``."""
    at = html.rindex(marker) if last else html.index(marker)
    return b"".join((html[:at], text, b"\n", html[at:]))


def _extend_paths(paths: List[str], part: Any) -> None:
    # A UI module may name a single file, a list of files, or none.
    if not part:
        return
    if isinstance(part, (unicode_type, bytes)):
        paths.append(to_unicode(part))
    else:
        paths.extend(part)


def _check_cookie_attribute(attr_name: str, value: str) -> None:
    """Refuses a cookie name or attribute value that could break out of
    its place in the ``Set-Cookie`` header (RFC 6265 section 4.1.1)."""
    if _COOKIE_BREAKERS.search(value):
        raise http.cookies.CookieError(
            f"Invalid cookie attribute {attr_name}: {value!r}"
        )


_COOKIE_BREAKERS = re.compile(r"[\x00-\x1f\x7f;]")


def _origin_matches_host(origin: str, host: Optional[str]) -> bool:
    """Whether an ``Origin`` header names the host the request was sent to
    (scheme and path are ignored; comparison is case-insensitive)."""
    if not host:
        return False
    try:
        netloc = urllib.parse.urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(netloc) and netloc.lower() == host.strip().lower()


def stream_request_body(cls: Type[_RequestHandlerType]) -> Type[_RequestHandlerType]:
    """Class decorator: the handler receives the request body piece by
    piece instead of all at once.

    For a decorated `RequestHandler` subclass:

    * `~RequestHandler.prepare` runs as soon as the headers have arrived,
      before any of the body;
    * the body goes to the handler's ``data_received(self, chunk)``,
      called once per chunk as it arrives (maybe never, for an empty
      body); the request's ``body`` attribute and the body arguments of
      `RequestHandler.get_argument` are not available;
    * ``prepare`` and ``data_received`` may return awaitables, and the next
      call waits for them (this is how the handler applies flow control);
    * the HTTP method (``put``, ``post``, ...) runs after the last chunk.
    """
    _check_handler_class(cls, "stream_request_body")
    cls._stream_request_body = True
    return cls


def _check_handler_class(cls: Any, user: str) -> None:
    if not (isclass(cls) and issubclass(cls, RequestHandler)):
        raise TypeError(f"{user} needs a RequestHandler subclass, not {cls!r}")


def _has_stream_request_body(cls: Type[RequestHandler]) -> bool:
    """Whether the handler class was decorated with `stream_request_body`
    (APM integrations ask, so as not to read a streamed body)."""
    _check_handler_class(cls, "_has_stream_request_body")
    return cls._stream_request_body


def _slash_redirect(handler: RequestHandler, path: str) -> None:
    """Permanently redirects a GET or HEAD to ``path`` (keeping the query
    string); other methods get a 404, as there is no safe way to repeat
    them elsewhere."""
    request = handler.request
    if request.method not in ("GET", "HEAD"):
        raise HTTPError(404)
    _refuse_protocol_relative(path)
    if request.query:
        path = f"{path}?{request.query}"
    handler.redirect(path, permanent=True)


def removeslash(method: _VerbMethod) -> _VerbMethod:
    """Decorates a handler method so that a path ending in ``/`` is
    redirected to the same path without it (``/foo/`` -> ``/foo``).

    Route such a handler with a pattern like ``r'/foo/*'``.  Only GET
    and HEAD are redirected; other methods get a 404.  The root path
    ``/`` is left alone, and a result starting with two slashes (which a
    browser would read as another host) gets a 403.
    """

    @functools.wraps(method)
    def without_slash(
        self: RequestHandler, *args: Any, **kwargs: Any
    ) -> Optional[Awaitable[None]]:
        path = self.request.path
        if path.endswith("/"):
            trimmed = path.rstrip("/")
            if trimmed or self.request.method not in ("GET", "HEAD"):
                _slash_redirect(self, trimmed)
                return None
        return method(self, *args, **kwargs)

    return without_slash


def addslash(method: _VerbMethod) -> _VerbMethod:
    """Decorates a handler method so that a path without a trailing
    ``/`` is redirected to the same path with one (``/foo`` -> ``/foo/``).

    Route such a handler with a pattern like ``r'/foo/?'``.  Only GET and
    HEAD are redirected; other methods get a 404.  A result starting with
    two slashes (which a browser would read as another host) gets a 403.
    """

    @functools.wraps(method)
    def with_slash(
        self: RequestHandler, *args: Any, **kwargs: Any
    ) -> Optional[Awaitable[None]]:
        path = self.request.path
        if not path.endswith("/"):
            _slash_redirect(self, path + "/")
            return None
        return method(self, *args, **kwargs)

    return with_slash


def _refuse_protocol_relative(path: str) -> None:
    """Raises 403 for a path that a browser would read as naming another
    host: ``//host/...`` is a protocol-relative URL, and browsers treat a
    backslash like a slash there."""
    if path.replace("\\", "/").startswith("//"):
        raise HTTPError(403, "cannot redirect path with two initial slashes: %r", path)


# Bounds of each application router's memo of routing decisions by path.
_MEMO_ENTRIES = 1024
_MEMO_MAX_PATH = 512


def _is_handler_class(target: Any) -> bool:
    return isinstance(target, type) and issubclass(target, RequestHandler)


class _ApplicationRouter(ReversibleRuleRouter):
    """The rule router an `Application` is built from.

    Beyond what `~.routing.ReversibleRuleRouter` accepts, a rule's target
    may be a `RequestHandler` subclass (served through the application's
    `~Application.get_handler_delegate`) or a list of rules (which becomes
    a nested router of this same kind).
    """

    def __init__(
        self, application: "Application", rules: Optional[_RuleList] = None
    ) -> None:
        assert isinstance(application, Application)
        self._app = application
        # Routing decisions that depend on the path alone, by path (see
        # find_handler), and the rule list they were made with.
        self._memo: Dict[str, Tuple[Optional[Rule], Any, Any]] = {}
        self._memo_rules: List[Rule] = []
        super().__init__(rules)

    def process_rule(self, rule: Rule) -> Rule:
        rule = super().process_rule(rule)
        if isinstance(rule.target, (list, tuple)):
            rule.target = _ApplicationRouter(self._app, rule.target)
        return rule

    def find_handler(
        self, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> Optional[httputil.HTTPMessageDelegate]:
        # The generic loop of RuleRouter, except that a handler class is
        # turned into its delegate right here when the application does
        # not override get_handler_delegate: this runs for every request.
        app = self._app
        inline = app._plain_handler_delegates
        path = request.path
        if inline:
            # Fast path: most requests repeat a path already routed.
            hit = self._recall(path)
            if hit is not None:
                rule, path_args, path_kwargs = hit
                if rule is None:
                    return None
                return _HandlerDelegate(
                    app, request, rule.target, rule.target_kwargs, path_args, path_kwargs
                )
        # Slow path: try the rules in order, noting whether the outcome may
        # be remembered for this path.
        path_only = inline
        for rule in self.rules:
            matcher = rule.matcher
            if type(matcher) is not PathMatches:
                path_only = False
            params = matcher.match(request)
            if params is None:
                continue
            target = rule.target
            if inline and _is_handler_class(target):
                path_args = params.get("path_args")
                path_kwargs = params.get("path_kwargs")
                if path_only:
                    self._remember(path, (rule, path_args, path_kwargs))
                return _HandlerDelegate(
                    app, request, target, rule.target_kwargs, path_args, path_kwargs
                )
            path_only = False
            if rule.target_kwargs:
                params["target_kwargs"] = rule.target_kwargs
            found = self.get_target_delegate(target, request, **params)
            if found is not None:
                return found
        if path_only:
            self._remember(path, (None, None, None))
        return None

    def _recall(self, path: str) -> Optional[Tuple[Optional[Rule], Any, Any]]:
        """The remembered outcome of routing ``path``: (rule, path_args,
        path_kwargs), with a None rule when no rule matched; None when
        there is no valid memo for the path.

        The memo holds only outcomes that followed from the path alone:
        every rule tried was a plain `PathMatches` (a pure function of the
        path) and the winner, if any, a handler class.  It is dropped when
        the rule list changes (rules compare by identity).
        """
        hit = self._memo.get(path)
        if hit is not None and self.rules == self._memo_rules:
            return hit
        return None

    def _remember(self, path: str, outcome: Tuple[Optional[Rule], Any, Any]) -> None:
        # Bounded in entries and in path length, since clients choose the
        # paths.  The path arguments are shared between requests: the
        # handler delegate only ever unpacks them.
        if len(path) > _MEMO_MAX_PATH:
            return
        memo = self._memo
        if len(memo) >= _MEMO_ENTRIES or self.rules != self._memo_rules:
            memo.clear()
            self._memo_rules = list(self.rules)
        memo[path] = outcome

    def get_target_delegate(
        self, target: Any, request: httputil.HTTPServerRequest, **target_params: Any
    ) -> Optional[httputil.HTTPMessageDelegate]:
        if not _is_handler_class(target):
            return super().get_target_delegate(target, request, **target_params)
        return self._app.get_handler_delegate(request, target, **target_params)


class Application(ReversibleRouter):
    r"""A web application: routing rules, the handlers they lead to, and
    the settings those handlers share.

    An `Application` is what an `.HTTPServer` serves (`listen` builds the
    server for you)::

        app = web.Application([(r"/", MainPageHandler)])
        server = httpserver.HTTPServer(app)
        server.listen(8080)

    **Rules.** ``handlers`` is a list of `~.routing.Rule` objects or of
    tuples with a rule's arguments, ``(matcher, target[, target_kwargs[,
    name]])``; a string in the matcher position is a path regular
    expression (`~.routing.PathMatches`).  Targets are usually
    `RequestHandler` subclasses (or their dotted names); ``target_kwargs``
    go to the handler's `~RequestHandler.initialize`, and named rules
    (`URLSpec` / `url` with ``name``) can be turned back into paths with
    `reverse_url`.  A list of rules as a target nests a group, and any
    target that `tornado.routing` understands (routers, connection
    delegates, callables) works too::

        app = web.Application([
            (r"/static/(.*)", web.StaticFileHandler, {"path": "/var/www"}),
            (HostMatches("example.com"), [(r"/feed", FeedHandler)]),
        ])

    Rules are tried in order; the first match wins.  Rules for particular
    hosts can also be added later with `add_handlers`; when no host rule
    applies to a request, ``default_host`` decides which host's rules are
    used.  Requests nothing matches get ``default_handler_class`` (with
    ``default_handler_args``) if set, otherwise a 404.

    **Static files.** With the ``static_path`` setting, a
    `StaticFileHandler` (or the ``static_handler_class`` setting, with
    ``static_handler_args``) serves that directory under
    ``static_url_prefix`` (``/static/`` by default), together with
    ``/favicon.ico`` and ``/robots.txt``.

    **Settings.** The keyword arguments are kept in `settings`, where
    handlers and other components read them (``cookie_secret``,
    ``login_url``, ``xsrf_cookies``, ``template_path``, ``ui_modules``,
    ``ui_methods``, ``log_function``, ``compress_response``, ...).
    ``debug=True`` switches on ``autoreload`` and ``serve_traceback`` and
    switches off ``compiled_template_cache`` and ``static_hash_cache``,
    unless those are given explicitly.  ``transforms`` replaces the
    default output transforms (gzip, when ``compress_response`` is set).
    """

    def __init__(
        self, handlers: Optional[_RuleList] = None, default_host: Optional[str] = None,
        transforms: Optional[List[Type[OutputTransform]]] = None, **settings: Any,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.default_host = default_host
        if transforms is not None:
            self.transforms = transforms
        elif settings.get("compress_response") or settings.get("gzip"):
            self.transforms = [GZipContentEncoding]
        else:
            self.transforms = []
        self.ui_methods: Dict[str, Callable[..., str]] = {}
        self.ui_modules: Dict[str, Type[UIModule]] = dict(_BUILTIN_UI_MODULES)
        self._load_ui_methods(settings.get("ui_methods", {}))
        self._load_ui_modules(settings.get("ui_modules", {}))
        if settings.get("debug"):
            for switch, value in _DEBUG_DEFAULTS:
                settings.setdefault(switch, value)

        rules = list(handlers or [])
        if settings.get("static_path"):
            rules[:0] = self._static_file_rules()
        # Routing may build delegates itself unless get_handler_delegate
        # is overridden.
        self._plain_handler_delegates = (
            type(self).get_handler_delegate is Application.get_handler_delegate
        )
        # Whether _RoutedRequest may take a remembered route instead of
        # calling find_handler (which gives the same answer then).
        self._standard_routing = (
            self._plain_handler_delegates
            and type(self).find_handler is Application.find_handler
        )
        self.wildcard_router = _ApplicationRouter(self, rules)
        self._wildcard_rule = Rule(AnyMatches(), self.wildcard_router)
        self.default_router = _ApplicationRouter(self, [self._wildcard_rule])

        if settings.get("autoreload"):
            from tornado import autoreload

            autoreload.start()

    def _static_file_rules(self) -> List[Tuple[str, Any, Dict[str, Any]]]:
        settings = self.settings
        handler_class = settings.get("static_handler_class", StaticFileHandler)
        handler_args = dict(settings.get("static_handler_args", {}))
        handler_args["path"] = settings["static_path"]
        prefix = re.escape(settings.get("static_url_prefix", "/static/"))
        patterns = (r"/(robots\.txt)", r"/(favicon\.ico)", prefix + "(.*)")
        return [(pattern, handler_class, handler_args) for pattern in patterns]

    def listen(
        self, port: int, address: Optional[str] = None, *,
        family: socket.AddressFamily = socket.AF_UNSPEC, backlog: int = 128,
        flags: Optional[int] = None, reuse_port: bool = False, **kwargs: Any,
    ) -> "tornado.httpserver.HTTPServer":  # fmt: skip
        """Creates an `.HTTPServer` for this application and makes it
        listen on ``port`` (see `.TCPServer.listen` for ``address``,
        ``family``, ``backlog``, ``flags`` and ``reuse_port``); other
        keyword arguments go to the `.HTTPServer` constructor.  Returns the
        server.

        The server only serves once the event loop runs.  For more control
        (several processes, say), create the `.HTTPServer` yourself and use
        its `.TCPServer.bind` and `.TCPServer.start`.
        """
        from tornado.httpserver import HTTPServer

        server = HTTPServer(self, **kwargs)
        server.listen(
            port, address=address, family=family, backlog=backlog, flags=flags,
            reuse_port=reuse_port,
        )  # fmt: skip
        return server

    def add_handlers(self, host_pattern: str, host_handlers: _RuleList) -> None:
        """Adds rules that apply only to requests whose host name matches
        ``host_pattern`` (a regular expression, implicitly anchored).

        Host groups are tried in the order they were added, before the
        rules given to the constructor.  When ``default_host`` is set, these
        rules also serve requests from unmatched hosts while
        ``default_host`` matches ``host_pattern``.
        """
        matcher = HostMatches(host_pattern)
        group = Rule(matcher, _ApplicationRouter(self, host_handlers))
        # Everything goes in front of the catch-all rule, which stays last.
        self.default_router.rules.insert(-1, group)
        if self.default_host is not None:
            fallback = DefaultHostMatches(self, matcher.host_pattern)
            self.wildcard_router.add_rules([(fallback, host_handlers)])

    def add_transform(self, transform_class: Type[OutputTransform]) -> None:
        self.transforms.append(transform_class)

    def _load_ui_methods(self, methods: Any) -> None:
        for name, function in _named_members(methods):
            # Classes, constants and private helpers of a module are not
            # UI methods.
            if name.startswith("_") or name[0].isupper():
                continue
            if callable(function):
                self.ui_methods[name] = function

    def _load_ui_modules(self, modules: Any) -> None:
        for name, module_class in _named_members(modules):
            if isclass(module_class) and issubclass(module_class, UIModule):
                self.ui_modules[name] = module_class

    def __call__(
        self, request: httputil.HTTPServerRequest
    ) -> Optional[Awaitable[None]]:
        # A plain callable taking the whole request: the HTTPServer
        # interface from before routers.
        return self.find_handler(request).execute()

    def _recall_route(self, path: str) -> Optional[Tuple[Rule, Any, Any]]:
        # What find_handler would route ``path`` to, if it is remembered
        # (see _ApplicationRouter._recall); only valid while the default
        # router holds nothing but the wildcard rule.
        rules = self.default_router.rules
        if len(rules) != 1 or rules[0] is not self._wildcard_rule:
            return None
        router = self.wildcard_router
        if type(router) is not _ApplicationRouter:
            return None
        # _ApplicationRouter._recall, inlined: this runs per request.
        hit = router._memo.get(path)
        if hit is None or hit[0] is None or router.rules != router._memo_rules:
            return None  # unknown, or the default handler's business
        return hit  # type: ignore[return-value]

    def find_handler(
        self, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> "_HandlerDelegate":
        rules = self.default_router.rules
        if len(rules) == 1 and rules[0] is self._wildcard_rule:
            # No host groups were added: the default router could only
            # forward to the wildcard router.
            found = self.wildcard_router.find_handler(request)
        else:
            found = self.default_router.find_handler(request)
        if found is not None:
            return cast("_HandlerDelegate", found)
        fallback = self.settings.get("default_handler_class")
        if fallback:
            fallback_args = self.settings.get("default_handler_args", {})
            return self.get_handler_delegate(request, fallback, fallback_args)
        return self.get_handler_delegate(request, ErrorHandler, {"status_code": 404})

    def get_handler_delegate(
        self, request: httputil.HTTPServerRequest, target_class: Type[RequestHandler],
        target_kwargs: Optional[Dict[str, Any]] = None,
        path_args: Optional[List[bytes]] = None,
        path_kwargs: Optional[Dict[str, bytes]] = None,
    ) -> "_HandlerDelegate":  # fmt: skip
        """Returns the `~.httputil.HTTPMessageDelegate` that runs
        ``target_class`` for ``request`` within this application.

        ``target_kwargs`` are passed to the handler's constructor (and so to
        `~RequestHandler.initialize`); ``path_args`` and ``path_kwargs``
        become the arguments of its HTTP method (``get``, ``post`` ...).
        Custom routers use this to hand requests to handlers.
        """
        return _HandlerDelegate(
            self, request, target_class, target_kwargs, path_args, path_kwargs
        )

    def reverse_url(self, name: str, *args: Any) -> str:
        """Returns the path of the rule named ``name`` (see `URLSpec`),
        with ``args`` substituted for its capturing groups: converted to
        text when needed, UTF-8 encoded and percent-escaped.

        Raises `KeyError` for an unknown name.
        """
        path = self.default_router.reverse_url(name, *args)
        if path is None:
            raise KeyError(f"{name} not found in named urls")
        return path

    def log_request(self, handler: RequestHandler) -> None:
        """Records a finished request in the access log: INFO below 400,
        WARNING for 4xx, ERROR for 5xx, with the status, the request
        summary and the time taken.

        A ``log_function`` setting (called with the handler) replaces this;
        so does overriding the method.
        """
        custom = self.settings.get("log_function")
        if custom is not None:
            custom(handler)
            return
        status = handler.get_status()
        if status >= 500:
            level = logging.ERROR
        else:
            level = logging.WARNING if status >= 400 else logging.INFO
        # Skip building the summary when nobody listens (usual under load).
        if access_log.isEnabledFor(level):
            millis = 1000.0 * handler.request.request_time()
            summary = handler._request_summary()
            access_log.log(level, "%d %s %.2fms", status, summary, millis)


# Settings that debug=True implies unless they are given explicitly.
_DEBUG_DEFAULTS = (
    ("autoreload", True),
    ("serve_traceback", True),
    ("compiled_template_cache", False),
    ("static_hash_cache", False),
)


def _named_members(source: Any) -> Iterable[Tuple[str, Any]]:
    """(name, value) pairs from a module's namespace, a dict, or a list
    of such sources (flattened, in order)."""
    if isinstance(source, types.ModuleType):
        return [(name, getattr(source, name)) for name in dir(source)]
    if isinstance(source, list):
        return [pair for item in source for pair in _named_members(item)]
    return list(source.items())


class _HandlerDelegate(httputil.HTTPMessageDelegate):
    """Delivers one request to a new instance of a `RequestHandler`
    subclass.

    Normally the body is gathered first and the handler is created once
    the request is complete.  For a `stream_request_body` handler it is
    created as soon as the headers are in, and each body chunk goes to its
    ``data_received``.
    """

    # Per-request state starts as these class-level defaults, so that a
    # plain GET sets only what __init__ must.
    _handler: Optional[RequestHandler] = None
    _chunks: Optional[List[bytes]] = None
    # Streaming only: resolved once the whole body has been delivered.
    _body_done: Optional["Future[None]"] = None
    _body_pending_parse = False

    def __init__(
        self, application: Application, request: httputil.HTTPServerRequest,
        handler_class: Type[RequestHandler],
        handler_kwargs: Optional[Dict[str, Any]],
        path_args: Optional[List[bytes]], path_kwargs: Optional[Dict[str, bytes]],
    ) -> None:  # fmt: skip
        self._app = application
        self._request = request
        self._handler_class = handler_class
        # These three are only read (unpacked or copied), so the shared
        # empty defaults are never modified.
        self._init_kwargs = handler_kwargs or _NO_ARGUMENTS
        self._args = path_args or ()
        self._kwargs = path_kwargs or _NO_ARGUMENTS
        self._streaming: bool = getattr(handler_class, "_stream_request_body", False)

    @property
    def handler_class(self) -> Type[RequestHandler]:
        """The `RequestHandler` subclass this request goes to (code that
        overrides `Application.find_handler` inspects it)."""
        return self._handler_class

    def headers_received(
        self,
        start_line: Union[httputil.RequestStartLine, httputil.ResponseStartLine],
        headers: httputil.HTTPHeaders,
    ) -> Optional[Awaitable[None]]:
        if not self._streaming:
            return None
        self._body_done = Future()
        return self.execute()

    def data_received(self, data: bytes) -> Optional[Awaitable[None]]:
        if self._streaming:
            assert self._handler is not None
            return self._handler.data_received(data)
        chunks = self._chunks
        if chunks is None:
            self._chunks = [data]
        else:
            chunks.append(data)
        return None

    def finish(self) -> None:
        if self._streaming:
            assert self._body_done is not None
            future_set_result_unless_cancelled(self._body_done, None)
            return
        chunks = self._chunks
        if chunks:
            self._request.body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            self._body_pending_parse = True
        self.execute()

    def on_connection_close(self) -> None:
        if not self._streaming:
            self._chunks = None
            return
        assert self._handler is not None
        self._handler._connection_closed()

    def execute(self) -> Optional[Awaitable[None]]:
        app = self._app
        settings = app.settings
        if settings and not (
            settings.get("compiled_template_cache", True)
            and settings.get("static_hash_cache", True)
        ):
            _reload_if_uncached(settings)
        body_error = self._parse_body() if self._body_pending_parse else None
        request = self._request
        init_kwargs = self._init_kwargs
        if init_kwargs:
            handler = self._handler_class(app, request, **init_kwargs)
        else:
            handler = self._handler_class(app, request)
        self._handler = handler
        if self._streaming:
            handler._body_future = self._body_done
            handler._prepared_future = Future()
        elif body_error is not None:
            handler._body_error = body_error
        classes = app.transforms
        transforms = [t(request) for t in classes] if classes else []
        if type(handler)._execute is _STOCK_EXECUTE:
            # _execute_inline catches everything itself, so the task it may
            # return is not watched here.  It runs in a context of its own,
            # as Tornado's task per request does: context variables the
            # handler sets (tracing spans, logging fields) must not carry
            # over to the next request on this connection.
            context = handler._request_context = contextvars.copy_context()
            loop = asyncio.get_running_loop()
            if loop.get_task_factory() is None:
                context.run(handler._execute_inline, transforms, self._args, self._kwargs)
            else:
                # A task factory (asyncio's eager one, say) may enter the
                # context of a task it is given at once: run the request as
                # such a task, the way Tornado always does.
                _hold(loop.create_task(handler._execute(transforms, *self._args, **self._kwargs), context=context))
        else:
            # _execute is wrapped or overridden: call it as Tornado does,
            # with the path arguments spread, and let the loop log what
            # escapes from it.
            outcome = handler._execute(transforms, *self._args, **self._kwargs)
            IOLoop.current().add_future(gen.convert_yielded(outcome), _result_or_log)
        # While streaming, the connection must not deliver body chunks
        # before prepare() is done: this future says when.  Otherwise it
        # is None.
        return handler._prepared_future

    def _parse_body(self) -> Optional[httputil.HTTPInputError]:
        self._body_pending_parse = False
        try:
            self._request._parse_body()
        except httputil.HTTPInputError as e:
            # Given to the handler, which answers it with a 400 and logs it
            # like any other handler error.
            return e
        return None


# RequestHandler._execute as defined here, to notice when it is replaced.
_STOCK_EXECUTE = RequestHandler._execute


def _result_or_log(future: "Future[Any]") -> None:
    # Raising from an IOLoop.add_future callback gets the exception logged.
    future.result()


# Shared empty keyword arguments (never modified, only unpacked).
_NO_ARGUMENTS: Dict[str, Any] = {}


class _RoutedRequest(_HandlerDelegate):
    """The delegate an `Application` gives the server for each request
    (`Router.start_request` with `Application`'s hook).

    Once the headers are in it builds the request and routes it.  When the
    application routes the usual way (neither `Application.find_handler`
    nor `Application.get_handler_delegate` overridden, no host groups) and
    the path was routed before, it becomes the handler's delegate itself:
    one object less and no forwarding per request.  Otherwise the delegate
    `Application.find_handler` returns takes over: its methods are bound
    on this instance, where they hide the inherited ones.
    """

    # Until routed, a connection close has nothing to tell (the inherited
    # on_connection_close of a non-streaming delegate only drops chunks).
    _streaming = False

    def __init__(
        self, application: "Application", server_conn: object,
        request_conn: httputil.HTTPConnection,
    ) -> None:  # fmt: skip
        self._app = application
        self._server_conn = server_conn
        self._conn = request_conn

    def headers_received(
        self,
        start_line: Union[httputil.RequestStartLine, httputil.ResponseStartLine],
        headers: httputil.HTTPHeaders,
    ) -> Optional[Awaitable[None]]:
        assert isinstance(start_line, httputil.RequestStartLine)
        app = self._app
        # HTTPServerRequest(start_line=start_line, headers=headers,
        # connection=..., server_connection=...), with the arguments given
        # by position (method, uri, version, headers, body, host, files,
        # connection, start_line, server_connection): binding four keywords
        # against ten parameters costs more than the rest of the call.
        request = httputil.HTTPServerRequest(
            None, None, "HTTP/1.0", headers, None, None, None,
            self._conn, start_line, self._server_conn,
        )  # fmt: skip
        route = app._recall_route(request.path) if app._standard_routing else None
        if route is None:
            chosen = app.find_handler(request)
            if chosen is None:  # possible when a subclass routes
                chosen = _NotFoundDelegate(self._conn)
            self.data_received = chosen.data_received  # type: ignore[method-assign]
            self.finish = chosen.finish  # type: ignore[method-assign]
            self.on_connection_close = chosen.on_connection_close  # type: ignore[method-assign]
            return chosen.headers_received(start_line, headers)
        rule, path_args, path_kwargs = route
        _HandlerDelegate.__init__(
            self, app, request, rule.target, rule.target_kwargs, path_args, path_kwargs
        )
        if not self._streaming:
            return None
        return _HandlerDelegate.headers_received(self, start_line, headers)


Application._pending_route = _RoutedRequest


def _reload_if_uncached(settings: Dict[str, Any]) -> None:
    """With template or static-version caching switched off (usual in
    debug mode), drops the caches before every request so that edited
    files show up without a restart."""
    if not settings.get("compiled_template_cache", True):
        with RequestHandler._template_loader_lock:
            for loader in RequestHandler._template_loaders.values():
                loader.reset()
    if not settings.get("static_hash_cache", True):
        settings.get("static_handler_class", StaticFileHandler).reset()


class HTTPError(Exception):
    """Raised in a handler to answer with an HTTP error status.

    It ends the handler at once (unlike `RequestHandler.send_error`) and
    produces the error page of `RequestHandler.write_error`, which is
    where to customize it.

    :arg int status_code: the response status; any code in
        `http.client.responses`, or another one when ``reason`` is given.
    :arg str log_message: logged with the error (and shown to the client
        only in debug mode).  ``%s``-style placeholders in it are filled
        from the remaining positional arguments; see `get_message`.
    :arg str reason: keyword only: the reason phrase for the status line,
        needed for codes without a standard one.
    """

    def __init__(
        self, status_code: int = 500, log_message: Optional[str] = None,
        *args: Any, **kwargs: Any,
    ) -> None:  # fmt: skip
        self.reason: Optional[str] = kwargs.get("reason")
        self.status_code = status_code
        self.args = args
        if log_message and not args:
            # The message is a %-format whose arguments are ``args``; with
            # none, a literal "%" (a percent-encoded URL, say) is escaped so
            # that formatting gives the text back unchanged.
            log_message = log_message.replace("%", "%%")
        self._log_message = log_message

    @property
    def log_message(self) -> Optional[str]:
        """The log message as a %-format, placeholders not yet filled
        (see `get_message`); without positional arguments, the "%" signs of
        the message given are doubled."""
        return self._log_message

    @log_message.setter
    def log_message(self, value: Optional[str]) -> None:
        self._log_message = value

    def get_message(self) -> Optional[str]:
        """The log message with the positional arguments filled in; None
        without a message.  If the arguments do not fit the placeholders,
        they are appended to the message instead of failing."""
        template = self._log_message
        if not template:
            return template
        try:
            return template % self.args
        except (TypeError, ValueError):
            return f"{template} {self.args!r}" if self.args else template

    def __str__(self) -> str:
        reason = self.reason or httputil.responses.get(self.status_code, "Unknown")
        summary = f"HTTP {self.status_code:d}: {reason}"
        detail = self.get_message()
        return f"{summary} ({detail})" if detail else summary


class Finish(Exception):
    """Raised in a handler to end the request without an error page.

    The response is finished as it stands (`RequestHandler.finish` is
    called if needed; an argument given to `Finish` is passed on to it),
    and `RequestHandler.write_error` is not involved.  Handy for custom
    error responses, e.g. from library code::

        if self.current_user is None:
            self.set_status(401)
            self.set_header("WWW-Authenticate", 'Basic realm="something"')
            raise Finish()
    """


class MissingArgumentError(HTTPError):
    """What `RequestHandler.get_argument` raises for a required argument
    that is absent: a 400 `HTTPError` (so no stack trace is logged)."""

    def __init__(self, arg_name: str) -> None:
        self.arg_name = arg_name
        super().__init__(400, f"Missing argument {arg_name}")


class ErrorHandler(RequestHandler):
    """Answers every request with the error ``status_code`` it was set up
    with (the application's 404 for unrouted requests is one)."""

    def initialize(self, status_code: int) -> None:
        self.set_status(status_code)

    def prepare(self) -> None:
        raise HTTPError(self.get_status())

    def check_xsrf_cookie(self) -> None:
        # An error page changes nothing: a POST to a wrong URL should get
        # its 404 rather than a 403 about a missing XSRF token.
        return None

    def check_trusted_origin(self, origin: str) -> bool:
        # The same reasoning for cross-origin protection.
        return True


class RedirectHandler(RequestHandler):
    """Redirects every GET to the configured ``url``::

        app = web.Application([
            (r"/oldpath", web.RedirectHandler, {"url": "/newpath"}),
        ])

    ``url`` is a `str.format` template receiving the rule's captured
    groups (positional and named), so parts of the old path can move
    around (see `format string syntax
    <https://docs.python.org/3/library/string.html#formatstrings>`_)::

        (r"/(.*?)/(.*?)/(.*)", web.RedirectHandler, {"url": "/{1}/{0}/{2}"})

    sends ``/a/b/c`` to ``/b/a/c``.  The request's query arguments are
    added to the target.  The redirect is permanent (301) unless
    ``permanent=False``.

    A substitution may not change the scheme or host that the literal
    start of ``url`` sets (as a browser reads the result), and the result
    may not contain control characters: otherwise clients could have the
    server send visitors anywhere.  Such requests get a 400.
    """

    def initialize(self, url: str, permanent: bool = True) -> None:
        self._url, self._permanent = url, permanent

    def get(self, *args: Any, **kwargs: Any) -> None:
        template = self._url
        target = template.format(*args, **kwargs)
        _check_redirect_target(template, target)
        query = self.request.query_arguments
        if query:
            pairs = list(httputil.qs_to_qsl(query))
            try:
                target = httputil.url_concat(target, pairs)
            except ValueError:
                raise HTTPError(400, "Redirect URL cannot be parsed: %r", target)
            _check_redirect_target(template, target)
        self.redirect(target, permanent=self._permanent)


# Schemes whose URLs a browser always reads as "scheme://host/..."; for
# these, any run of slashes (or backslashes) after the colon leads to the
# host (WHATWG URL standard, "special" schemes).
_SPECIAL_SCHEMES = frozenset(["http", "https", "ws", "wss", "ftp", "file"])
_SCHEME_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_C0_AND_SPACE = "".join(chr(i) for i in range(0x21))


def _browser_origin(url: str) -> Tuple[str, str]:
    """Returns the (scheme, host) a browser would take from the start of a
    possibly relative URL in a ``Location`` header; empty strings for the
    parts the URL leaves to the current page.

    Browsers drop leading and trailing controls and spaces, delete tabs
    and newlines anywhere, and treat a backslash like a slash.
    """
    url = url.strip(_C0_AND_SPACE)
    url = url.replace("\t", "").replace("\n", "").replace("\r", "")
    m = _SCHEME_PREFIX.match(url)
    if m:
        scheme = m.group(1).lower()
        rest = url[m.end() :]
        if scheme in _SPECIAL_SCHEMES:
            return scheme, _url_authority(rest.replace("\\", "/").lstrip("/"))
        if rest.startswith("//"):
            return scheme, _url_authority(rest[2:])
        return scheme, ""
    # A relative reference resolves against an http(s) page.
    url = url.replace("\\", "/")
    if url.startswith("//"):
        return "", _url_authority(url.lstrip("/"))
    return "", ""


def _url_authority(rest: str) -> str:
    end = len(rest)
    for sep in "/?#":
        i = rest.find(sep)
        if 0 <= i < end:
            end = i
    return rest[:end].lower()


def _literal_prefix(template: str) -> str:
    """The part of a `str.format` template before its first field."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if field is not None:
            break
    return "".join(parts)


def _check_redirect_target(template: str, to_url: str) -> None:
    """Refuses (with a 400) a substituted redirect URL that leads to
    another scheme or host than its template's literal beginning, or that
    contains control characters."""
    if _browser_origin(to_url) != _browser_origin(_literal_prefix(template)):
        raise HTTPError(
            400, "Redirect URL cannot change the scheme or netloc: %r", to_url
        )
    if re.search(r"[\x00-\x1f\x7f]", to_url):
        raise HTTPError(400, "Redirect URL contains invalid characters: %r", to_url)


class StaticFileHandler(RequestHandler):
    """Serves the files of a directory, with caching and range support.

    The ``static_path`` setting of `Application` installs one of these
    (adjustable through the ``static_url_prefix``, ``static_handler_class``
    and ``static_handler_args`` settings).  More can be routed by hand; the
    rule's pattern needs one capturing group, the file path that `get`
    receives, and ``path`` in the rule's arguments is the directory::

        app = web.Application([
            (r"/content/(.*)", web.StaticFileHandler, {"path": "/var/www"}),
        ])

    With ``default_filename`` (say ``"index.html"``), a request for a
    directory serves that file from it, after a redirect that adds the
    trailing slash.

    Only files inside the root are served; a path leading out of it, a
    symbolic link included, gets a 403.  ``allowed_symlink_directory`` (a
    directory or a list of them) names where symbolic links may point
    instead of the root.

    Caching: responses carry ``Last-Modified`` and an ``Etag`` (a hash of
    the content), so conditional requests get 304s.  URLs made with
    `make_static_url` (`RequestHandler.static_url` in handlers and
    templates) carry that hash as ``?v=...``, and responses to such
    versioned requests may be cached by browsers for a very long time
    (`CACHE_MAX_AGE`).  ``Range`` requests for a single range get
    partial content, which media players need for seeking.

    This is meant for development and moderate traffic; a dedicated web
    server does the job better under load.

    **Subclassing.**  URLs and versions are computed by class methods (a
    template has no handler instance), so overrides of those must be
    class methods too.  Instance methods may use ``self.path``,
    ``self.absolute_path`` and ``self.modified``.  Override only the
    methods named here, and not `get` itself, which depends on all of
    them:

    * URL scheme (to match another server or a CDN): `make_static_url`,
      `parse_url_path`, `get_cache_time`, `get_version`;
    * storage other than the file system (a database, say):
      `get_content`, `get_content_size`, `get_modified_time`,
      `get_absolute_path`, `validate_absolute_path`.
    """

    CACHE_MAX_AGE = 10 * 365 * 24 * 60 * 60  # ten years, in seconds
    # How many content hashes (for versioned URLs and Etags) are kept;
    # the least recently used goes first.
    MAX_CACHED_VERSIONS = 10000
    # Larger files get no version or Etag: hashing them would cost too
    # much time and memory.
    MAX_VERSION_CONTENT_SIZE = 100 * 1024 * 1024

    # abspath -> content hash (None: the file could not be hashed).
    _static_hashes: "collections.OrderedDict[str, Optional[str]]" = (
        collections.OrderedDict()
    )
    _lock = threading.Lock()

    # Class-level defaults, for subclasses whose initialize() does not call
    # this one: symbolic links then may not leave the root.
    allowed_symlink_directory: Optional[Union[str, Sequence[str]]] = None
    default_filename: Optional[str] = None
    absolute_path: Optional[str] = None

    def initialize(
        self, path: str, default_filename: Optional[str] = None,
        allowed_symlink_directory: Optional[Union[str, Sequence[str]]] = None,
    ) -> None:  # fmt: skip
        self.allowed_symlink_directory = allowed_symlink_directory
        self.default_filename = default_filename
        self.root = path

    def head(self, path: str) -> Optional[Awaitable[None]]:
        return self.get(path, include_body=False)

    def get(self, path: str, include_body: bool = True) -> Optional[Awaitable[None]]:
        self.path = self.parse_url_path(path)
        located = self.get_absolute_path(self.root, self.path)
        self.absolute_path = self.validate_absolute_path(self.root, located)
        if self.absolute_path is None:
            # validate_absolute_path has answered already (a redirect).
            return None
        self.modified = self.get_modified_time()
        self.set_headers()
        if self.should_return_304():
            self.set_status(304)
            return None

        size = self.get_content_size()
        start: Optional[int] = None
        end: Optional[int] = None
        range_header = self.request.headers.get("Range")
        wanted = _parse_request_range(range_header) if range_header else None
        # RFC 9110 section 14.2: a Range header we cannot use is ignored
        # and the whole file is sent.
        if wanted is not None:
            span = _satisfiable_span(wanted, size)
            if span is None:
                self.set_status(416)  # Range Not Satisfiable
                self.set_header("Content-Type", "text/plain")
                self.set_header("Content-Range", f"bytes */{size}")
                return None
            start, end = span
            # Answering a range that covers everything with a 206 upsets
            # some clients (Chrome's audio player asks for "bytes=0-").
            if end - start != size:
                self.set_status(206)  # Partial Content
                self.set_header("Content-Range", _content_range(start, end, size))
        length = size if start is None or end is None else end - start
        self.set_header("Content-Length", length)
        if not include_body:
            assert self.request.method == "HEAD"
            return None
        if length and self._may_send_file():
            return self._send_file(start or 0, length)
        return self._send_content(self.get_content(self.absolute_path, start, end))

    def _may_send_file(self) -> bool:
        """Whether the body may go out with ``sendfile`` (zero copy): the
        content is this class's own file reading (`get_content` and
        `get_content_size` not overridden), no output transform could
        change the bytes, and the connection can send files (HTTP/1 over
        plain TCP; see `_send_file` for the rest)."""
        cls = type(self)
        return (
            not self._transforms
            and cls.get_content.__func__ is StaticFileHandler.get_content.__func__  # type: ignore[attr-defined]
            and cls.get_content_size is StaticFileHandler.get_content_size
            and getattr(self.request.connection, "_can_send_file", None) is not None
        )

    async def _send_file(self, start: int, length: int) -> None:
        assert self.absolute_path is not None
        with open(self.absolute_path, "rb") as file:
            try:
                await self.flush()  # the head
            except iostream.StreamClosedError:
                return
            conn = self.request.connection
            if not conn._can_send_file():  # type: ignore[union-attr]
                # TLS, or a response the connection frames itself.
                await self._stream_content(self.get_content(self.absolute_path, start, start + length))
                return
            try:
                await conn._send_file(file.fileno(), start, length)  # type: ignore[union-attr]
            except iostream.StreamClosedError:
                return

    def _send_content(
        self, content: Union[bytes, Iterable[bytes]]
    ) -> Optional[Awaitable[None]]:
        pieces = iter((content,)) if isinstance(content, bytes) else iter(content)
        first = next(pieces, None)
        following = None if first is None else next(pieces, None)
        if following is None:
            # Everything in one piece: send it without a coroutine.
            if first:
                self.write(first)
                self.flush()
            return None
        return self._stream_content(itertools.chain((first, following), pieces))

    async def _stream_content(self, chunks: Iterable[bytes]) -> None:
        # Flushing after each chunk keeps memory bounded by the client's
        # reading speed.  When the client reads faster than the chunks come
        # (a slow disk, say), every flush completes at once, and awaiting a
        # finished future does not give the event loop a turn: without the
        # explicit yield below, other connections would wait for the whole
        # download.
        unyielded = 0
        for chunk in chunks:
            try:
                self.write(chunk)
                flushed = self.flush()
                waited = not flushed.done()
                await flushed
            except iostream.StreamClosedError:
                return
            unyielded = 0 if waited else unyielded + len(chunk)
            if unyielded >= _STREAM_YIELD_BYTES:
                unyielded = 0
                await asyncio.sleep(0)

    def compute_etag(self) -> Optional[str]:
        """The Etag is the content hash also used for versioned URLs, so a
        partial response carries the Etag of the whole file.  Files over
        `MAX_VERSION_CONTENT_SIZE` get none."""
        assert self.absolute_path is not None
        try:
            too_big = self.get_content_size() > self.MAX_VERSION_CONTENT_SIZE
        except OSError:
            # Not a file on disk (a subclass serving content from elsewhere
            # sets absolute_path to a name): _get_cached_version logs it
            # and there is no Etag.
            too_big = False
        if too_big:
            return None
        digest = self._get_cached_version(self.absolute_path)
        return f'"{digest}"' if digest else None

    def set_headers(self) -> None:
        """Sets the validator, type and caching headers of the response."""
        self.set_header("Accept-Ranges", "bytes")
        self.set_etag_header()
        modified = self.modified
        if modified is not None:
            self.set_header("Last-Modified", modified)
        content_type = self.get_content_type()
        if content_type:
            self.set_header("Content-Type", content_type)
        lifetime = self.get_cache_time(self.path, modified, content_type)
        if lifetime > 0:
            now = datetime.datetime.now(datetime.timezone.utc)
            self.set_header("Expires", now + datetime.timedelta(seconds=lifetime))
            self.set_header("Cache-Control", f"max-age={lifetime}")
        self.set_extra_headers(self.path)

    def should_return_304(self) -> bool:
        """Whether the client's cached copy is current, judged by
        ``If-None-Match`` or, without that header, by
        ``If-Modified-Since`` (RFC 9110 section 13.2.2)."""
        headers = self.request.headers
        if headers.get("If-None-Match"):
            return self.check_etag_header()
        since_text = headers.get("If-Modified-Since")
        modified = self.modified
        if since_text is None or modified is None:
            return False
        import email.utils  # conditional requests only: not paid for at import

        try:
            since = email.utils.parsedate_to_datetime(since_text)
        except (TypeError, ValueError, OverflowError):
            return False
        return _as_utc(since) >= _as_utc(modified)

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        """Where ``path`` (from `parse_url_path`) lives under ``root`` (the
        configured directory): by default an absolute file system path.

        A subclass may return any string that identifies the resource, as
        long as its `get_content` and the other storage methods understand
        it.
        """
        return os.path.abspath(os.path.join(root, path))

    def validate_absolute_path(self, root: str, absolute_path: str) -> Optional[str]:
        """Checks the result of `get_absolute_path` and returns the path to
        serve (available later as ``self.absolute_path``).

        Raises `HTTPError`: 403 for anything outside ``root`` (after
        resolving symbolic links; see ``allowed_symlink_directory``) or
        that is not a regular file, 404 for what does not exist.  For a
        directory with ``default_filename`` configured, it redirects a
        path without trailing slash (returning None, which ends the
        request) or returns the default file's path.

        This runs per request, so it may use the handler (redirect, raise
        errors).  A changed path is not known to `make_static_url`.
        """
        root = _static_root_of(root, absolute_path, self.path)
        # Links are resolved before anything else is looked at, so that a
        # link out of the root is refused whether or not its target
        # exists: the answer tells nothing about the file system beyond.
        self._check_resolved_path(root, absolute_path)
        if self.default_filename is not None and os.path.isdir(absolute_path):
            # The request's own path says whether the slash is there: the
            # routing may have consumed a prefix of it.
            request_path = self.request.path
            if not request_path.endswith("/"):
                # "//host" would be read as another host: an open redirect.
                _refuse_protocol_relative(request_path)
                self.redirect(request_path + "/", permanent=True)
                return None
            absolute_path = os.path.join(absolute_path, self.default_filename)
            self._check_resolved_path(root, absolute_path)
        try:
            file_stat = os.stat(absolute_path)
        except (OSError, ValueError):
            raise HTTPError(404)
        if not stat.S_ISREG(file_stat.st_mode):
            raise HTTPError(403, "%s is not a file", self.path)
        self._stat_result = file_stat
        return absolute_path

    def _check_resolved_path(self, root: str, absolute_path: str) -> None:
        setting = self.allowed_symlink_directory
        if setting is None:
            permitted: Sequence[Any] = (root,)
        elif isinstance(setting, (str, os.PathLike)):
            permitted = (setting,)
        else:
            permitted = setting
        try:
            real = os.path.realpath(absolute_path)
            if any(_is_within(real, os.path.realpath(d)) for d in permitted):
                return
        except (OSError, ValueError):
            raise HTTPError(404)
        raise HTTPError(403, "%s is not in root static directory", self.path)

    @classmethod
    def get_content(
        cls, abspath: str, start: Optional[int] = None, end: Optional[int] = None
    ) -> Generator[bytes, None, None]:
        """Produces the bytes of the resource at ``abspath``, from offset
        ``start`` up to (not including) ``end``; None means the beginning
        or the end of the file.

        May return one `bytes` object or an iterator of them; the default
        reads the file in blocks, to keep memory use flat.  There is no
        ``settings`` argument, unlike the other class methods: ``abspath``
        alone must identify the content (it is a cache key).
        """
        with open(abspath, "rb") as file:
            if start is not None:
                file.seek(start)
            left = None if end is None else end - (start or 0)
            block_size = _STATIC_BLOCK_SIZE
            while left is None or left > 0:
                if left is not None:
                    block_size = min(left, block_size)
                block = file.read(block_size)
                if not block:
                    return
                if left is not None:
                    left -= len(block)
                yield block

    @classmethod
    def get_content_version(cls, abspath: str) -> str:
        """The version of the resource at ``abspath`` for URLs and Etags;
        by default the hex SHA-512 of its content."""
        digest = hashlib.sha512()
        content = cls.get_content(abspath)
        for block in (content,) if isinstance(content, bytes) else content:
            digest.update(block)
        return digest.hexdigest()

    def _stat(self) -> os.stat_result:
        # validate_absolute_path usually stats the file already.
        known = getattr(self, "_stat_result", None)
        if known is None:
            assert self.absolute_path is not None
            known = self._stat_result = os.stat(self.absolute_path)
        return known

    def get_content_size(self) -> int:
        """Size in bytes of the resource being served (overridable)."""
        return self._stat().st_size

    def get_modified_time(self) -> Optional[datetime.datetime]:
        """Last modification time of ``self.absolute_path`` as an aware
        `~datetime.datetime`, or None if unknown (overridable)."""
        # Whole seconds, as HTTP dates have no fractions: otherwise the
        # time sent in Last-Modified would never equal its echo in
        # If-Modified-Since.
        seconds = int(self._stat().st_mtime)
        return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)

    def get_content_type(self) -> str:
        """The ``Content-Type`` for ``self.absolute_path``, guessed from its
        name."""
        assert self.absolute_path is not None
        mime_type, encoding = mimetypes.guess_type(self.absolute_path)
        if encoding == "gzip":
            return "application/gzip"  # RFC 6713
        if encoding is None and mime_type is not None:
            return mime_type
        # Unknown types, and other compressions (bzip2 ...) that have no
        # registered media type.
        return "application/octet-stream"

    def set_extra_headers(self, path: str) -> None:
        """Hook for subclasses: set more response headers here."""

    def get_cache_time(
        self, path: str, modified: Optional[datetime.datetime], mime_type: str
    ) -> int:
        """How long (seconds) browsers may cache the response; 0 leaves it
        to their heuristics.  Versioned requests (with a ``v`` argument)
        get `CACHE_MAX_AGE`, others 0."""
        return self.CACHE_MAX_AGE if "v" in self.request.arguments else 0

    @classmethod
    def make_static_url(
        cls, settings: Dict[str, Any], path: str, include_version: bool = True
    ) -> str:
        """The URL (relative to the host) at which ``path`` is served,
        with ``?v=<version>`` appended when ``include_version`` is true and
        a version is known.

        ``settings`` is `Application.settings`.  This is a class method;
        overrides need only accept ``(cls, settings, path)``, as further
        keyword arguments of `~RequestHandler.static_url` are passed
        through unchecked.
        """
        url = settings.get("static_url_prefix", "/static/") + path
        version = cls.get_version(settings, path) if include_version else None
        return f"{url}?v={version}" if version else url

    def parse_url_path(self, url_path: str) -> str:
        """Turns the path captured from the URL (prefix already removed)
        into a file path relative to the root: the inverse of
        `make_static_url`."""
        if os.path.sep == "/":
            return url_path
        return url_path.replace("/", os.path.sep)

    @classmethod
    def get_version(cls, settings: Dict[str, Any], path: str) -> Optional[str]:
        """The version string for static URLs of ``path`` (relative to the
        ``static_path`` setting), or None when there is none.

        Paths leading out of the static directory raise `HTTPError` 403.
        Anything that is not a regular file, or is larger than
        `MAX_VERSION_CONTENT_SIZE`, gets no version and is never read.
        """
        static_dir = settings["static_path"]
        abs_path = cls.get_absolute_path(static_dir, path)
        if isinstance(static_dir, (str, os.PathLike)):
            # Subclasses may take other kinds of root (Jupyter Server's
            # FileFindHandler searches a list of directories); their
            # get_absolute_path is then what keeps paths inside.
            _static_root_of(static_dir, abs_path, path)
        return cls._get_cached_version(abs_path, _check_file=True)

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls._static_hashes = collections.OrderedDict()

    @classmethod
    def _get_cached_version(
        cls, abs_path: str, _check_file: bool = False
    ) -> Optional[str]:
        with cls._lock:
            known = cls._static_hashes
            if abs_path in known:
                known.move_to_end(abs_path)
                return known[abs_path] or None
            version: Optional[str] = None
            if not _check_file or cls._is_versionable_file(abs_path):
                try:
                    version = cls.get_content_version(abs_path)
                except Exception:
                    gen_log.error("Could not open static file %r", abs_path)
            known[abs_path] = version
            while len(known) > cls.MAX_CACHED_VERSIONS:
                known.popitem(last=False)
            return version or None

    @classmethod
    def _is_versionable_file(cls, abs_path: str) -> bool:
        # Reading a device or a FIFO could block or never end, and a huge
        # file would take too long to hash: only modest regular files get
        # a version.
        try:
            info = os.stat(abs_path)
        except (OSError, ValueError) as e:
            problem = str(e)
        else:
            if not stat.S_ISREG(info.st_mode):
                problem = "is not a file"
            elif info.st_size > cls.MAX_VERSION_CONTENT_SIZE:
                problem = f"larger than {cls.MAX_VERSION_CONTENT_SIZE} bytes"
            else:
                return True
        gen_log.error("Could not open static file %r: %s", abs_path, problem)
        return False


# Read size for StaticFileHandler.get_content.
_STATIC_BLOCK_SIZE = 64 * 1024

# A download goes back to the event loop after this many bytes sent without
# having had to wait for the client (see StaticFileHandler._stream_content).
_STREAM_YIELD_BYTES = 4 * _STATIC_BLOCK_SIZE


def _as_utc(moment: datetime.datetime) -> datetime.datetime:
    # HTTP dates are in GMT; a naive time is taken to be one of them.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.timezone.utc)
    return moment


def _static_root_of(root: str, absolute_path: str, url_path: str) -> str:
    """``root`` made absolute and ending in a separator, once it is checked
    that ``absolute_path`` lies in it; otherwise 403 (naming ``url_path``).

    The separator keeps /srv/static from admitting /srv/static-private (a
    root of "/" already ends in one; some deployments use it on purpose to
    do their own checking).  ``absolute_path`` has no trailing separator:
    the root directory itself is requested as root minus its separator.
    """
    root = os.path.join(os.path.abspath(root), "")
    if not (absolute_path + os.path.sep).startswith(root):
        raise HTTPError(403, "%s is not in root static directory", url_path)
    return root


def _is_within(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or lies below it."""
    return path == directory or path.startswith(os.path.join(directory, ""))


# One range in the "bytes" unit: "first-last", "first-" or "-suffix_length"
# (RFC 9110 section 14.1.2), spaces tolerated around the parts.  A lone
# "first" is read as "first-".
_BYTE_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*(?:-\s*(\d*))?\s*\Z")


def _parse_request_range(
    range_header: str,
) -> Optional[Tuple[Optional[int], Optional[int]]]:
    """Reads a ``Range`` header with a single byte range into ``(start,
    end)`` with slice meaning: ``end`` is exclusive, a negative ``start``
    counts from the end of the file, None leaves a side open.  Anything
    else (several ranges, another unit, bad syntax) gives None: the header
    is then ignored.

    >>> _parse_request_range("bytes=10-19")
    (10, 20)
    >>> _parse_request_range("bytes=-100")
    (-100, None)
    >>> _parse_request_range("bytes=5-")
    (5, None)
    >>> _parse_request_range("bytes=0-1,5-6") is None
    True
    """
    found = _BYTE_RANGE.match(range_header)
    if found is None:
        return None
    first, last = found.groups()
    if first:
        return int(first), (int(last) + 1 if last else None)
    if not last:
        return None  # "bytes=-": no suffix length
    suffix = int(last)
    # "-0" asks for nothing at all (unsatisfiable); keep it recognizable.
    return (-suffix, None) if suffix else (None, 0)


def _satisfiable_span(
    wanted: Tuple[Optional[int], Optional[int]], size: int
) -> Optional[Tuple[int, int]]:
    """Concrete ``[start, end)`` offsets into a ``size``-byte file for a
    parsed range, or None when it cannot be satisfied (RFC 9110 section
    14.1.2): it begins past the end, ends before it begins, or is an empty
    suffix.  An end past the file is cut to its size (clients use large
    ranges to limit how much they fetch)."""
    start, end = wanted
    if end == 0:
        return None
    if start is None:
        start = 0
    elif start < 0:
        start = max(size + start, 0)
    if start >= size or (end is not None and start >= end):
        return None
    return start, size if end is None else min(end, size)


def _content_range(start: Optional[int], end: Optional[int], total: int) -> str:
    """The ``Content-Range`` value (RFC 9110 section 14.4) for the
    ``[start, end)`` slice of a ``total``-byte representation; None stands
    for the beginning or the end."""
    first = 0 if start is None else start
    last = (total if end is None else end) - 1
    return f"bytes {first}-{last}/{total}"


_RequestCallback = Callable[[httputil.HTTPServerRequest], None]


class FallbackHandler(RequestHandler):
    """Passes requests to another HTTP server callback: anything that
    takes an `~.httputil.HTTPServerRequest`, such as another
    `Application` or a `tornado.wsgi.WSGIContainer`.

    The usual purpose is to serve a WSGI application next to Tornado
    handlers in one server: route the Tornado handlers first and send
    everything else to the container, as in
    ``(r".*", FallbackHandler, {"fallback": WSGIContainer(flask_app)})``.
    """

    def initialize(self, fallback: _RequestCallback) -> None:
        self.fallback = fallback

    def prepare(self) -> None:
        self.fallback(self.request)
        # The fallback has answered (or will); this handler must write
        # nothing more, only run its cleanup.
        self._finished = True
        self.on_finish()


_Transformed = Tuple[int, httputil.HTTPHeaders, bytes]


class OutputTransform:
    """Rewrites a response on its way out (gzip compression is the
    example).  The framework picks and drives transforms; applications
    configure them through `Application` rather than use them directly.

    A transform is made per request.  It sees the status, headers and
    first chunk together, then each further chunk; ``finishing`` is true
    for the last one.
    """

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        pass

    def transform_first_chunk(
        self, status_code: int, headers: httputil.HTTPHeaders,
        chunk: bytes, finishing: bool,
    ) -> _Transformed:  # fmt: skip
        return status_code, headers, chunk

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        return chunk


class _GzipStream:
    """Incremental gzip output (RFC 1952): each piece fed in comes back
    compressed and flushed, ready to be sent."""

    __slots__ = ("_sink", "_writer")

    def __init__(self, level: int) -> None:
        self._sink = BytesIO()
        self._writer = gzip.GzipFile(mode="w", fileobj=self._sink, compresslevel=level)

    def feed(self, data: bytes, last: bool) -> bytes:
        writer = self._writer
        writer.write(data)
        if last:
            writer.close()  # adds the checksum and length trailer
        else:
            writer.flush()  # a sync flush: all input so far can be decoded
        sink = self._sink
        packed = sink.getvalue()
        sink.seek(0)
        sink.truncate()
        return packed


class _BrotliStream:
    """Incremental brotli output (RFC 7932), flushed after each piece."""

    __slots__ = ("_compressor",)

    def __init__(self, quality: int) -> None:
        httputil._load_codings()
        self._compressor = httputil._brotli.Compressor(quality=quality)

    def feed(self, data: bytes, last: bool) -> bytes:
        compressor = self._compressor
        packed = compressor.process(data)
        return packed + (compressor.finish() if last else compressor.flush())


class _ZstdStream:
    """Incremental zstd output (RFC 8878), one frame, flushed after each
    piece (with the standard library's compression.zstd where present,
    else the ``zstandard`` package)."""

    __slots__ = ("_compressor",)

    def __init__(self, level: int) -> None:
        httputil._load_codings()
        if httputil._stdlib_zstd is not None:
            self._compressor = httputil._stdlib_zstd.ZstdCompressor(level=level)
        else:
            self._compressor = httputil._zstandard.ZstdCompressor(level=level).compressobj()

    def feed(self, data: bytes, last: bool) -> bytes:
        compressor = self._compressor
        if httputil._stdlib_zstd is not None:
            mode = compressor.FLUSH_FRAME if last else compressor.FLUSH_BLOCK
            return compressor.compress(data, mode)
        packed = compressor.compress(data)
        if last:
            return packed + compressor.flush()
        return packed + compressor.flush(httputil._zstandard.COMPRESSOBJ_FLUSH_BLOCK)


class GZipContentEncoding(OutputTransform):
    """Compresses responses for clients that accept it: with zstd, br or
    gzip (RFC 9110 section 8.4.1), whichever the request's
    ``Accept-Encoding`` ranks highest (section 12.5.3; among equals, in
    that order).  zstd and br are offered only where their optional
    modules are installed (``pip install tornado[compression]``); without
    them it is gzip as before.

    Compressed are responses of a textual type (``text/*`` or one of
    `CONTENT_TYPES`) that have no ``Content-Encoding`` yet and are not too
    short: a response sent in one piece needs `MIN_LENGTH` bytes (one
    written in several pieces is compressed whatever its size).  Every
    response gets ``Vary: Accept-Encoding``, since its form depends on
    that header.

    br and zstd, and the ``Accept-Encoding`` weights (``gzip;q=0`` is a
    refusal), are additions to Tornado 6.6, whose snapshot of this class's
    public names they leave as it is: the codings offered, best first, are
    in ``_CODINGS``, and the levels in ``_BROTLI_QUALITY`` and
    ``_ZSTD_LEVEL``; a subclass may set them.
    """

    # Compressible besides text/*.
    CONTENT_TYPES = set(
        """
        application/atom+xml application/javascript application/json
        application/x-javascript application/xhtml+xml application/xml
        image/svg+xml
        """.split()
    )
    # Level 6 (gzip's own default) costs far less CPU than Python's
    # default 9 for nearly the same size.
    GZIP_LEVEL = 6
    # Below this the gzip framing and header eat most of the gain.
    MIN_LENGTH = 1024
    # Levels for compressing as the response is produced: fast ones, which
    # still beat gzip's 6 on size.
    _BROTLI_QUALITY = 4
    _ZSTD_LEVEL = 3
    # The codings offered, best first, as far as they are installed.
    _CODINGS = tuple(c for c in ("zstd", "br", "gzip") if c in httputil._DECODERS)

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        accepted = request.headers.get("Accept-Encoding", "")
        self._coding = httputil._negotiate_content_coding(accepted, self._CODINGS) if accepted else None
        self._gzipping = self._coding is not None
        self._stream: Optional[Any] = None

    def _compressible_type(self, ctype: str) -> bool:
        return ctype.startswith("text/") or ctype in self.CONTENT_TYPES

    def _worth_compressing(
        self, headers: httputil.HTTPHeaders, chunk: bytes, finishing: bool
    ) -> bool:
        if "Content-Encoding" in headers:
            return False
        if finishing and len(chunk) < self.MIN_LENGTH:
            return False
        content_type = headers.get("Content-Type", "")
        return self._compressible_type(content_type.partition(";")[0])

    def transform_first_chunk(
        self, status_code: int, headers: httputil.HTTPHeaders,
        chunk: bytes, finishing: bool,
    ) -> _Transformed:  # fmt: skip
        # The response depends on Accept-Encoding either way (RFC 9110
        # section 12.5.5).
        listed = headers["Vary"] + ", " if "Vary" in headers else ""
        headers["Vary"] = listed + "Accept-Encoding"
        if self._gzipping:
            self._gzipping = self._worth_compressing(headers, chunk, finishing)
        if not self._gzipping:
            return status_code, headers, chunk
        coding = self._coding
        headers["Content-Encoding"] = coding
        if coding == "zstd":
            self._stream = _ZstdStream(self._ZSTD_LEVEL)
        elif coding == "br":
            self._stream = _BrotliStream(self._BROTLI_QUALITY)
        else:
            self._stream = _GzipStream(self.GZIP_LEVEL)
        packed = self.transform_chunk(chunk, finishing)
        if "Content-Length" in headers:
            # The length given was that of the uncompressed body.  The new
            # one is known only when this chunk is the whole body; if not,
            # the response goes out with chunked encoding instead.
            if finishing:
                headers["Content-Length"] = str(len(packed))
            else:
                del headers["Content-Length"]
        return status_code, headers, packed

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        stream = self._stream
        # The stream exists once the first chunk has chosen compression.
        if stream is None:
            return chunk
        return stream.feed(chunk, finishing)


def authenticated(method: _VerbMethod) -> _VerbMethod:
    """Decorates a handler method so that it runs only for a logged-in
    user (a true `RequestHandler.current_user`).

    Anyone else is redirected to the `login URL
    <RequestHandler.get_login_url>` when the request is a GET or HEAD, or
    gets a 403 otherwise.  The redirect adds a ``next`` argument with the
    URL to return to (absolute when the login URL is), unless the login
    URL has a query string of its own, in which case it is used as it is.
    """

    @functools.wraps(method)
    def logged_in_only(
        self: RequestHandler, *args: Any, **kwargs: Any
    ) -> Optional[Awaitable[None]]:
        if self.current_user:
            return method(self, *args, **kwargs)
        if self.request.method not in ("GET", "HEAD"):
            raise HTTPError(403)
        self.redirect(_login_redirect(self))
        return None

    return logged_in_only


def _login_redirect(handler: RequestHandler) -> str:
    login_url = handler.get_login_url()
    if "?" in login_url:
        return login_url
    request = handler.request
    if urllib.parse.urlsplit(login_url).scheme:
        # The login page is on another site: it needs a full URL back.
        back = request.full_url()
    else:
        assert request.uri is not None
        back = request.uri
    return login_url + "?" + urlencode({"next": back})


class UIModule:
    """A reusable piece of a page, used in templates as ``{% module
    Name(...) %}``.

    Subclasses implement `render`.  Besides its HTML a module may bring
    JavaScript and CSS (files or inline code) and extra head/body markup;
    the page's `RequestHandler.render` gathers those from all modules
    used and puts them in place (each file once).
    """

    def __init__(self, handler: RequestHandler) -> None:
        self.handler = handler
        self.request = handler.request
        self.locale = handler.locale
        self.ui = handler.ui

    @property
    def current_user(self) -> Any:
        return self.handler.current_user

    def render(self, *args: Any, **kwargs: Any) -> Union[str, bytes]:
        """Returns the module's markup; subclasses must implement it."""
        raise NotImplementedError()

    def render_string(self, path: str, **kwargs: Any) -> bytes:
        """Renders the template at ``path`` with ``kwargs`` through the
        handler (see `RequestHandler.render_string`)."""
        return self.handler.render_string(path, **kwargs)

    def javascript_files(self) -> Optional[Iterable[str]]:
        """JavaScript files the module needs, linked from the page.
        Relative paths go through `RequestHandler.static_url`; absolute
        ones are used as they are."""
        return None

    def css_files(self) -> Optional[Iterable[str]]:
        """Style sheets the module needs, linked from the page.  Relative
        paths go through `RequestHandler.static_url`; absolute ones are
        used as they are."""
        return None

    def embedded_javascript(self) -> Optional[str]:
        """JavaScript code to put into the page in a script element."""
        return None

    def embedded_css(self) -> Optional[str]:
        """CSS rules to put into the page's head in a style element."""
        return None

    def html_head(self) -> Optional[str]:
        """Markup to add at the end of the page's ``<head>``."""
        return None

    def html_body(self) -> Optional[str]:
        """Markup to add at the end of the page's ``<body>``."""
        return None


class _LinkifyModule(UIModule):
    def render(self, text: str, **kwargs: Any) -> str:
        return escape.linkify(text, **kwargs)


class _XSRFFormModule(UIModule):
    def render(self) -> str:
        return self.handler.xsrf_form_html()


class TemplateModule(UIModule):
    """Renders a template as a module: ``{% module Template("foo.html",
    arg=42) %}``.

    Unlike ``{% include %}``, the template gets its own namespace (the
    keyword arguments given) rather than the including template's.  It
    can also declare resources, as a `UIModule` subclass would, by
    calling ``set_resources`` with keyword arguments named after the
    resource methods: ``{{ set_resources(javascript_files="my.js") }}``.
    Resources are collected per template file, not per use, so they must
    not depend on the arguments; declaring different ones for the same
    file is an error.
    """

    def __init__(self, handler: RequestHandler) -> None:
        super().__init__(handler)
        # Template path -> the resources it declared, in the order the
        # templates were first rendered.
        self._declared: Dict[str, Dict[str, Any]] = {}

    def render(self, path: str, **kwargs: Any) -> bytes:
        def set_resources(**resources: Any) -> str:
            recorded = self._declared.setdefault(path, resources)
            if recorded != resources:
                raise ValueError(
                    "set_resources called with different resources for the same "
                    f"template {path!r}"
                )
            return ""

        return self.render_string(path, set_resources=set_resources, **kwargs)

    def _values(self, kind: str) -> List[Any]:
        return [found[kind] for found in self._declared.values() if kind in found]

    def _paths(self, kind: str) -> List[str]:
        paths: List[str] = []
        for value in self._values(kind):
            _extend_paths(paths, value)
        return paths

    def javascript_files(self) -> Iterable[str]:
        return self._paths("javascript_files")

    def css_files(self) -> Iterable[str]:
        return self._paths("css_files")

    def embedded_javascript(self) -> str:
        return "\n".join(self._values("embedded_javascript"))

    def embedded_css(self) -> str:
        return "\n".join(self._values("embedded_css"))

    def html_head(self) -> str:
        return "".join(self._values("html_head"))

    def html_body(self) -> str:
        return "".join(self._values("html_body"))


# The modules every application has, before its ``ui_modules`` setting.
_BUILTIN_UI_MODULES: Dict[str, Type[UIModule]] = {
    "Template": TemplateModule,
    "linkify": _LinkifyModule,
    "xsrf_form_html": _XSRFFormModule,
}


class _UIModuleNamespace:
    """The ``_tt_modules`` object of templates: looking up a module name
    gives a function rendering that module for the current handler."""

    def __init__(
        self, handler: RequestHandler, ui_modules: Dict[str, Type[UIModule]]
    ) -> None:
        self._handler = handler
        self._modules = ui_modules

    def __getitem__(self, key: str) -> Callable[..., str]:
        return self._handler._ui_module(key, self._modules[key])

    def __getattr__(self, key: str) -> Callable[..., str]:
        try:
            render = self[key]
        except KeyError as e:
            raise AttributeError(str(e))
        # Templates look modules up by attribute, often in loops: keep the
        # function so that the next lookup finds it without coming here.
        if not key.startswith("_"):
            self.__dict__[key] = render
        return render


def is_absolute(path: str) -> bool:
    """Whether ``path`` is an absolute path or an http(s) URL, as opposed
    to a path relative to the static directory."""
    return path.startswith(("/", "http:", "https:"))


# Signed values -------------------------------------------------------------
#
# Format 1: "<base64 value>|<timestamp>|<signature>", the signature being the
# hex HMAC-SHA1 of name, base64 value and timestamp run together.  With no
# separators hashed, digits can be shifted between value and timestamp
# unnoticed, which is why far-future timestamps are refused.
#
# Format 2: "2|<key version>|<timestamp>|<name>|<base64 value>|<signature>",
# each of the four middle fields written as "<length>:<bytes>" and the
# signature being the hex HMAC-SHA256 of everything before it.  The key
# version selects the secret from a dict of secrets, for key rotation.


def create_signed_value(
    secret: _CookieSecretTypes, name: str, value: Union[str, bytes],
    version: Optional[int] = None, clock: Optional[Callable[[], float]] = None,
    key_version: Optional[int] = None,
) -> bytes:  # fmt: skip
    """Returns ``value`` timestamped and signed with ``secret`` for use
    under ``name``; `decode_signed_value` checks and unpacks it.

    ``version`` picks the format (default `DEFAULT_SIGNED_VALUE_VERSION`).
    ``secret`` may be a dict of secrets keyed by integer (format 2 only);
    ``key_version`` then names the one to sign with.  ``clock`` stands in
    for `time.time`.
    """
    if version is None:
        version = DEFAULT_SIGNED_VALUE_VERSION
    now = time.time() if clock is None else clock()
    stamp = b"%d" % int(now)
    encoded = base64.b64encode(utf8(value))
    if version == 1:
        assert not isinstance(secret, dict)
        signature = _create_signature_v1(secret, name, encoded, stamp)
        return b"|".join((encoded, stamp, signature))
    if version != 2:
        raise ValueError("Unsupported version %d" % version)
    if isinstance(secret, dict):
        assert key_version is not None, (
            "Key version must be set when sign key dict is used"
        )
        secret = secret[key_version]
    key_field = b"%d" % (key_version or 0)
    name_field = utf8(name)
    signed = b"2|%d:%s|%d:%s|%d:%s|%d:%s|" % (
        len(key_field), key_field, len(stamp), stamp,
        len(name_field), name_field, len(encoded), encoded,
    )  # fmt: skip
    return signed + _create_signature_v2(secret, signed)


# Versions 2 and later start with "<version>|"; a version 1 value starts with
# base64 text, which has no "|", although its first digits followed by the
# "|" before the timestamp can look like a version.  Base64 text comes in
# blocks of four characters, so a real version has at most three digits.
_SIGNED_VALUE_VERSION = re.compile(rb"([1-9][0-9]{0,2})\|")


def _signed_value_version(value: bytes) -> int:
    found = _SIGNED_VALUE_VERSION.match(value)
    return 1 if found is None else int(found.group(1))


def decode_signed_value(
    secret: _CookieSecretTypes, name: str, value: Union[None, str, bytes],
    max_age_days: float = 31, clock: Optional[Callable[[], float]] = None,
    min_version: Optional[int] = None,
) -> Optional[bytes]:  # fmt: skip
    """Checks a value made by `create_signed_value` and returns what was
    signed.  None means the value is missing, malformed, forged, signed
    for another ``name``, older than ``max_age_days``, or of a format older
    than ``min_version`` (default `DEFAULT_SIGNED_VALUE_MIN_VERSION`)."""
    oldest = DEFAULT_SIGNED_VALUE_MIN_VERSION if min_version is None else min_version
    if oldest > 2:
        raise ValueError("Unsupported min_version %d" % oldest)
    if not value:
        return None
    raw = utf8(value)
    version = _signed_value_version(raw)
    if not oldest <= version <= 2:
        return None
    decode = _decode_signed_value_v1 if version == 1 else _decode_signed_value_v2
    return decode(secret, name, raw, max_age_days, clock or time.time)


def _b64decode_or_none(data: bytes) -> Optional[bytes]:
    try:
        return base64.b64decode(data)
    except ValueError:  # binascii.Error
        return None


def _decode_signed_value_v1(
    secret: _CookieSecretTypes, name: str, value: bytes, max_age_days: float,
    clock: Callable[[], float],
) -> Optional[bytes]:  # fmt: skip
    assert not isinstance(secret, dict)
    parts = value.split(b"|")
    if len(parts) != 3:
        return None
    encoded, stamp, signature = parts
    expected = _create_signature_v1(secret, name, encoded, stamp)
    if not hmac.compare_digest(signature, expected):
        gen_log.warning("Invalid cookie signature %r", value)
        return None
    if not stamp.isdigit():
        return None
    issued = int(stamp)
    now = clock()
    if issued < now - max_age_days * 86400:
        gen_log.warning("Expired cookie %r", value)
        return None
    if issued > now + 31 * 86400:
        # Digits moved from the value into the timestamp (see the format
        # notes above) make it lie in the future.
        gen_log.warning("Cookie timestamp in future; possible tampering %r", value)
        return None
    if stamp.startswith(b"0"):
        gen_log.warning("Tampered cookie %r", value)
        return None
    return _b64decode_or_none(encoded)


def _decode_fields_v2(value: bytes) -> Tuple[int, bytes, bytes, bytes, int]:
    """Splits a format 2 value into key version, timestamp, name and base64
    value, plus the offset at which the signature begins.

    Works with offsets so that a large value is not copied field by field.
    Raises ValueError for a malformed value.
    """
    fields: List[bytes] = []
    pos = 2  # past "2|"
    while len(fields) < 4:
        colon = value.find(b":", pos, pos + 12)
        declared = value[pos:colon]
        if colon < 0 or not declared.isdigit():
            raise ValueError("malformed v2 signed value field")
        pos = colon + 1 + int(declared)
        if value[pos : pos + 1] != b"|":
            raise ValueError("malformed v2 signed value field")
        fields.append(value[colon + 1 : pos])
        pos += 1
    key_version, stamp, name_field, encoded = fields
    if not key_version.isdigit():
        raise ValueError("malformed v2 key version")
    return int(key_version), stamp, name_field, encoded, pos


def _decode_signed_value_v2(
    secret: _CookieSecretTypes, name: str, value: bytes, max_age_days: float,
    clock: Callable[[], float],
) -> Optional[bytes]:  # fmt: skip
    try:
        key_version, stamp, name_field, encoded, sig_start = _decode_fields_v2(value)
    except ValueError:
        return None
    if isinstance(secret, dict):
        if key_version not in secret:
            return None
        secret = secret[key_version]
    expected = _create_signature_v2(secret, memoryview(value)[:sig_start])
    if not hmac.compare_digest(value[sig_start:], expected):
        return None
    if name_field != utf8(name) or not stamp.isdigit():
        return None
    if int(stamp) < clock() - max_age_days * 86400:
        return None  # expired
    return _b64decode_or_none(encoded)


def get_signature_key_version(value: Union[str, bytes]) -> Optional[int]:
    """The key version a format 2 signed value names; None for format 1
    or malformed values."""
    raw = utf8(value)
    if _signed_value_version(raw) < 2:
        return None
    try:
        return _decode_fields_v2(raw)[0]
    except ValueError:
        return None


def _create_signature_v1(secret: Union[str, bytes], *parts: Union[str, bytes]) -> bytes:
    mac = hmac.new(utf8(secret), digestmod=hashlib.sha1)
    for part in parts:
        mac.update(utf8(part))
    return mac.hexdigest().encode("ascii")


def _create_signature_v2(secret: Union[str, bytes], s: Any) -> bytes:
    data = s if isinstance(s, memoryview) else utf8(s)
    return hmac.new(utf8(secret), data, hashlib.sha256).hexdigest().encode("ascii")
