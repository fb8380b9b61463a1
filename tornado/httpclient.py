"""HTTP client front end: requests, responses, errors and the client classes.

Everything here is shared by the two transports:

* `HTTPRequest` describes one fetch and `HTTPResponse` its outcome; a
  non-2xx answer becomes an `HTTPClientError` (also exported as
  ``HTTPError``).
* `AsyncHTTPClient` is a `.Configurable`: calling it yields the configured
  implementation, one shared instance per `.IOLoop` unless
  ``force_instance=True`` is passed, and fills unset request attributes
  from its ``defaults``.
* `HTTPClient` drives an `AsyncHTTPClient` on a private `.IOLoop`, for
  blocking code.

The transports live in their own modules: ``tornado.simple_httpclient``
(the default, made of `tornado.tcpclient` and `tornado.http1connection`)
and ``tornado.curl_httpclient`` (libcurl through ``pycurl``). Choose one
with::

    AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")

``python -m tornado.httpclient URL...`` prints what each URL returns (see
`main`).
"""

from __future__ import annotations

import datetime
import functools
import ssl
import time
import weakref
from io import BytesIO
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    MutableMapping,
    Optional,
    Type,
    Union,
    cast,
)

from tornado import httputil
from tornado.concurrent import (
    Future,
    future_set_exception_unless_cancelled,
    future_set_result_unless_cancelled,
)
from tornado.escape import native_str, utf8
from tornado.ioloop import IOLoop
from tornado.util import Configurable

# Shapes of some long parameter types, named once.
_HeadersArg = Union[Dict[str, str], httputil.HTTPHeaders]
_StreamingCallback = Callable[[bytes], Optional[Awaitable[None]]]
_BodyProducer = Callable[[Callable[[bytes], None]], "Optional[Future[None]]"]
_SSLOptions = Union[Dict[str, Any], ssl.SSLContext]
_ClientMap = MutableMapping[IOLoop, "AsyncHTTPClient"]


def _reason_for(code: int) -> str:
    """The standard reason phrase of status ``code`` ("Unknown" if none)."""
    return httputil.responses.get(code, "Unknown")


class HTTPClient:
    """Blocking wrapper of `AsyncHTTPClient` for code without a running
    event loop (scripts, worker threads).

    Each instance owns an `.IOLoop` that only runs while `fetch` waits::

        client = HTTPClient()
        try:
            print(client.fetch("http://www.example.com/").body)
        except HTTPError as err:
            # A non-2xx answer: err.response holds it.
            print("Error:", err)
        finally:
            client.close()

    ``async_client_class`` names the asynchronous implementation to drive
    (when None, whatever `AsyncHTTPClient` is configured to make); the
    keyword arguments go to its constructor. Code that already runs on an
    `.IOLoop` must use `AsyncHTTPClient` directly: one thread cannot run
    two loops at once.
    """

    def __init__(self, async_client_class: "Type[AsyncHTTPClient] | None" = None, **kwargs: Any) -> None:
        # __del__ calls close(): until both the loop and the client exist
        # there must be nothing for it to release.
        self._closed = True
        loop = IOLoop(make_current=False)
        self._io_loop = loop
        factory = AsyncHTTPClient if async_client_class is None else async_client_class
        self._async_client = loop.run_sync(
            functools.partial(_make_on_running_loop, factory, kwargs)
        )
        self._closed = False

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Releases the wrapped client and the private loop. Calling it
        again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._async_client.close()
        self._io_loop.close()

    def fetch(self, request: "HTTPRequest | str", **kwargs: Any) -> "HTTPResponse":
        """Performs ``request`` (an `HTTPRequest`, or a URL plus `HTTPRequest`
        keyword arguments) and returns the `HTTPResponse` once it is complete.

        A non-2xx answer raises `HTTPError` carrying the response; failures
        that produced no response (refused connection, timeout, ...) raise
        their own exception.
        """
        start = functools.partial(self._async_client.fetch, request, **kwargs)
        return cast(HTTPResponse, self._io_loop.run_sync(start))


async def _make_on_running_loop(factory: "Type[AsyncHTTPClient]", kwargs: Dict[str, Any]) -> "AsyncHTTPClient":
    # AsyncHTTPClient binds to IOLoop.current(); inside run_sync that is the
    # HTTPClient's private loop, and the thread's current loop is untouched.
    return factory(**kwargs)


class AsyncHTTPClient(Configurable):
    """Non-blocking HTTP client; `fetch` returns a `.Future`::

        async def show(url):
            client = AsyncHTTPClient()
            try:
                response = await client.fetch(url)
            except Exception as err:
                print("Error:", err)
            else:
                print(response.body)

    Calling the class does not always build an object: unless
    ``force_instance=True`` is given, every call on the same `.IOLoop`
    returns one shared instance (per class called). Constructor keyword
    arguments reach the implementation's ``initialize``; since shared
    instances ignore them after the first call, pass them together with
    ``force_instance=True``, or once for all through `configure`::

        AsyncHTTPClient.configure(None, defaults=dict(user_agent="MyUserAgent"))

    ``defaults`` maps `HTTPRequest` attribute names to the values used for
    requests that leave those attributes as None.
    """

    # The shared-instance map this object sits in, or None when it was
    # built with force_instance=True; close() takes the entry out again.
    _instance_cache: "Optional[MutableMapping[IOLoop, AsyncHTTPClient]]" = None

    @classmethod
    def configurable_base(cls) -> Type[Configurable]:
        return AsyncHTTPClient

    @classmethod
    def configurable_default(cls) -> Type[Configurable]:
        from tornado.simple_httpclient import SimpleAsyncHTTPClient

        return SimpleAsyncHTTPClient

    @classmethod
    def _shared_instances(cls) -> _ClientMap:
        """The loop -> instance map of the class being called.

        Each class gets its own map (looked up in its own ``__dict__``, never
        inherited), so that ``AsyncHTTPClient()`` and, say,
        ``CurlAsyncHTTPClient()`` on the same loop are distinct clients. The
        loops are weak keys: a discarded loop takes its client along.
        """
        slot = "_shared_by_loop_" + cls.__name__
        table: Optional[_ClientMap] = cls.__dict__.get(slot)
        if table is None:
            table = weakref.WeakKeyDictionary()
            setattr(cls, slot, table)
        return table

    def __new__(cls, force_instance: bool = False, **kwargs: Any) -> "AsyncHTTPClient":
        if force_instance:
            return cls._build(None, kwargs)
        table = cls._shared_instances()
        found = table.get(IOLoop.current())
        return cls._build(table, kwargs) if found is None else found

    @classmethod
    def _build(cls, table: Optional[_ClientMap], kwargs: Dict[str, Any]) -> "AsyncHTTPClient":
        """Creates an instance through `.Configurable` and, when ``table``
        is given, registers it there under its loop."""
        client = cast(AsyncHTTPClient, super().__new__(cls, **kwargs))
        # Remembered on the instance: the implementation class that was
        # built may not be the class whose table it is in.
        client._instance_cache = table
        if table is not None:
            table[client.io_loop] = client
        return client

    def initialize(self, defaults: "Dict[str, Any] | None" = None) -> None:
        """Prepares a new instance (`.Configurable` calls it in place of
        ``__init__``): binds it to the current `.IOLoop` and layers
        ``defaults`` over `HTTPRequest`'s built-in defaults.

        Implementations accept more keyword arguments and pass ``defaults``
        on to this method.
        """
        self.io_loop = IOLoop.current()
        merged = dict(HTTPRequest._DEFAULTS)
        if defaults:
            merged.update(defaults)
        self.defaults = merged
        self._closed = False

    def close(self) -> None:
        """Releases what the client holds; later fetches raise `RuntimeError`.

        Only clients made with ``force_instance=True`` normally need it.
        Closing a shared instance also removes it from its loop, so make
        sure no other code is still using it.
        """
        if self._closed:
            return
        self._closed = True
        table = self._instance_cache
        if table is None:
            return
        # None comes back when a destructor runs this at interpreter exit,
        # after the weak entry has gone.
        registered = table.pop(self.io_loop, None)
        if registered is not None and registered is not self:
            raise RuntimeError("inconsistent AsyncHTTPClient cache")

    def fetch(self, request: "str | HTTPRequest", raise_error: bool = True, **kwargs: Any) -> "Future[HTTPResponse]":
        """Starts ``request`` and returns a `.Future` for its `HTTPResponse`.

        ``request`` is an `HTTPRequest`, or a URL whose other `HTTPRequest`
        arguments come as keyword arguments (giving both is a `ValueError`).

        A non-2xx answer fails the Future with `HTTPError`, unless
        ``raise_error`` is False: then the Future resolves to the response,
        whose ``error`` is set. Failures without an answer (timeouts,
        refused connections, ...) always fail the Future.
        """
        if self._closed:
            raise RuntimeError("fetch() called on closed AsyncHTTPClient")
        own = _request_with_own_headers(request, kwargs)
        outcome: Future[HTTPResponse] = Future()

        def settle(response: HTTPResponse) -> None:
            failure = response.error
            if failure is None or (response._error_is_response_code and not raise_error):
                future_set_result_unless_cancelled(outcome, response)
            else:
                future_set_exception_unless_cancelled(outcome, failure)

        # A redirect to another origin carries the client's defaults less
        # the credentials (see simple_httpclient).
        defaults = own.__dict__.get("_redirect_defaults", self.defaults)
        self.fetch_impl(cast(HTTPRequest, _RequestProxy(own, defaults)), settle)
        return outcome

    def fetch_impl(self, request: "HTTPRequest", callback: "Callable[[HTTPResponse], None]") -> None:
        """Carries out ``request``; implementations must override it.

        ``request`` falls back on the client's defaults for attributes left
        as None. ``callback`` must receive exactly one `HTTPResponse`; a
        failure is a response whose ``error`` is set.
        """
        raise NotImplementedError()

    @classmethod
    def configure(cls, impl: "Union[None, str, Type[Configurable]]", **kwargs: Any) -> None:
        """Selects what ``AsyncHTTPClient()`` builds from now on.

        ``impl`` is an `AsyncHTTPClient` subclass, its dotted import path,
        or None for ``SimpleAsyncHTTPClient``. ``kwargs`` are kept and given
        to the constructor of every instance created later::

            AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")
        """
        super().configure(impl, **kwargs)  # type: ignore[no-untyped-call]


def _request_with_own_headers(request: "str | HTTPRequest", kwargs: Dict[str, Any]) -> "HTTPRequest":
    """The `HTTPRequest` to hand to an implementation.

    Implementations add headers (Host, Content-Length, ...) to the request
    they send, and the headers the caller gave may be shared with other
    requests: the request gets a copy of its own. Headers the request built
    itself need no copy.
    """
    if isinstance(request, HTTPRequest):
        if kwargs:
            raise ValueError("kwargs can't be used if request is an HTTPRequest object")
        request.headers = httputil.HTTPHeaders(request.headers)
        return request
    built = HTTPRequest(url=request, **kwargs)
    if kwargs.get("headers") is not None:
        built.headers = httputil.HTTPHeaders(built.headers)
    return built


class HTTPRequest:
    """Everything `AsyncHTTPClient.fetch` needs to know about one request.

    Only ``url`` is required. An argument left as None is taken from the
    client's ``defaults`` (see `AsyncHTTPClient`) or, failing that, from
    the built-in default named below.

    :arg url: the URL to fetch.
    :arg method: the request method (``GET``).
    :arg headers: extra request headers, as a dict or `.HTTPHeaders`.
    :arg body: the request content; str is sent UTF-8 encoded.
    :arg auth_username: user name for HTTP authentication.
    :arg auth_password: password that goes with ``auth_username``.
    :arg auth_mode: ``"basic"`` (default) or ``"digest"`` (curl only).
    :arg connect_timeout: seconds allowed for setting up the connection (20).
    :arg request_timeout: seconds allowed for the whole request (20).
    :arg if_modified_since: a datetime or a timestamp, sent as the
        ``If-Modified-Since`` header.
    :arg follow_redirects: whether 3xx answers are followed (True).
    :arg max_redirects: how many redirects may be followed (5).
    :arg user_agent: the ``User-Agent`` header to send.
    :arg use_gzip: former name (before 4.0) of ``decompress_response``.
    :arg network_interface: where to send from: an interface name (curl) or
        a local IP address (simple).
    :arg streaming_callback: receives the body chunk by chunk as it arrives;
        the response's own body is then empty.
    :arg header_callback: receives every header line as it arrives, the
        status line and the closing ``\\r\\n`` included (the response's
        ``headers`` are filled in as well).
    :arg prepare_curl_callback: receives the ``pycurl.Curl`` object just
        before the request goes out (curl only).
    :arg proxy_host: host name of the HTTP proxy to use (curl only).
    :arg proxy_port: port of that proxy.
    :arg proxy_username: user name for the proxy.
    :arg proxy_password: password for the proxy.
    :arg proxy_auth_mode: ``"basic"`` (default) or ``"digest"``.
    :arg allow_nonstandard_methods: permits unknown methods, and bodies
        where the method takes none or none where it takes one (False).
    :arg validate_cert: whether the server's TLS certificate is checked
        (True).
    :arg ca_certs: PEM file of the CA certificates to check against.
    :arg allow_ipv6: whether IPv6 addresses may be used (True).
    :arg client_key: file holding the TLS client key.
    :arg client_cert: file holding the TLS client certificate.
    :arg body_producer: in place of ``body``, a callable that gets a
        ``write`` function and returns None or an awaitable, streaming the
        content; without a ``Content-Length`` header it goes out chunked
        (simple_httpclient only).
    :arg expect_100_continue: sends ``Expect: 100-continue`` and holds the
        body back until the server agrees (simple only).
    :arg decompress_response: asks for a compressed answer and inflates it
        (True).
    :arg ssl_options: an `ssl.SSLContext`, or a dict of TLS settings
        (simple only); it takes precedence over ``validate_cert``,
        ``ca_certs``, ``client_key`` and ``client_cert``.
    """

    # The copies that follow a redirect get an ``original_request``
    # attribute: the request the caller made, which their response reports.
    # Only they have it (tracing integrations test for it with hasattr, to
    # tell redirects from the caller's own fetches).

    # The last fallback, after the request itself and the client defaults.
    _DEFAULTS: Dict[str, Any] = {
        "follow_redirects": True, "max_redirects": 5, "validate_cert": True,
        "connect_timeout": 20.0, "request_timeout": 20.0, "proxy_password": "",
        "decompress_response": True, "allow_nonstandard_methods": False,
    }

    def __init__(
        self, url: str, method: str = "GET", headers: "_HeadersArg | None" = None,
        body: "bytes | str | None" = None, auth_username: "str | None" = None,
        auth_password: "str | None" = None, auth_mode: "str | None" = None,
        connect_timeout: "float | None" = None, request_timeout: "float | None" = None,
        if_modified_since: "float | datetime.datetime | None" = None,
        follow_redirects: "bool | None" = None, max_redirects: "int | None" = None,
        user_agent: "str | None" = None, use_gzip: "bool | None" = None,
        network_interface: "str | None" = None,
        streaming_callback: "_StreamingCallback | None" = None,
        header_callback: "Callable[[str], None] | None" = None,
        prepare_curl_callback: "Callable[[Any], None] | None" = None,
        proxy_host: "str | None" = None, proxy_port: "int | None" = None,
        proxy_username: "str | None" = None, proxy_password: "str | None" = None,
        proxy_auth_mode: "str | None" = None,
        allow_nonstandard_methods: "bool | None" = None,
        validate_cert: "bool | None" = None, ca_certs: "str | None" = None,
        allow_ipv6: "bool | None" = None, client_key: "str | None" = None,
        client_cert: "str | None" = None, body_producer: "_BodyProducer | None" = None,
        expect_100_continue: bool = False, decompress_response: "bool | None" = None,
        ssl_options: "_SSLOptions | None" = None,
    ) -> None:
        self.start_time = time.time()
        # What to send, and where.
        self.url = url
        self.method = method
        self.headers = headers  # type: ignore[assignment]
        if if_modified_since:
            stamp = httputil.format_timestamp(if_modified_since)
            self.headers["If-Modified-Since"] = stamp
        self.body = body  # type: ignore[assignment]
        self.body_producer = body_producer
        self.expect_100_continue = expect_100_continue
        self.allow_nonstandard_methods = allow_nonstandard_methods
        self.user_agent = user_agent
        self.decompress_response = use_gzip if decompress_response is None else decompress_response
        # Credentials.
        self.auth_mode = auth_mode
        self.auth_username = auth_username
        self.auth_password = auth_password
        # Limits.
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.max_redirects = max_redirects
        self.follow_redirects = follow_redirects
        # Callbacks.
        self.header_callback = header_callback
        self.streaming_callback = streaming_callback
        self.prepare_curl_callback = prepare_curl_callback
        # The network path: local end, proxy, TLS.
        self.allow_ipv6 = allow_ipv6
        self.network_interface = network_interface
        self.proxy_auth_mode = proxy_auth_mode
        self.proxy_username = proxy_username
        self.proxy_password = proxy_password
        self.proxy_host = proxy_host
        self.proxy_port = proxy_port
        self.ssl_options = ssl_options
        self.client_cert = client_cert
        self.client_key = client_key
        self.ca_certs = ca_certs
        self.validate_cert = validate_cert

    @property
    def headers(self) -> httputil.HTTPHeaders:
        """The extra request headers; assigning None installs an empty
        `.HTTPHeaders`."""
        # A plain dict assigned by the caller is kept as it is.
        return self._headers  # type: ignore[return-value]

    @headers.setter
    def headers(self, value: _HeadersArg) -> None:
        self._headers = httputil.HTTPHeaders() if value is None else value

    @property
    def body(self) -> bytes:
        """The content to send, as bytes (an assigned str is encoded as
        UTF-8), or None."""
        return self._body

    @body.setter
    def body(self, value: Union[bytes, str]) -> None:
        self._body = utf8(value)


class HTTPResponse:
    """What a fetch produced.

    Attributes:

    * ``request``: the `HTTPRequest` the caller made (not the redirected
      copies).
    * ``code``: the status code (200, 404, ...).
    * ``reason``: the reason phrase the server sent, or the standard one.
    * ``headers``: the response's `.HTTPHeaders`.
    * ``effective_url``: the URL of the last hop, redirects included.
    * ``buffer``: an `io.BytesIO` holding the body.
    * ``body``: that body as bytes, read from ``buffer`` when first asked
      for (empty when a ``streaming_callback`` consumed it).
    * ``error``: an exception or None; a non-2xx code without another
      error gets an `HTTPClientError`.
    * ``request_time``: seconds from the start of the request to its end,
      redirects included, time spent queued for a free slot excluded.
    * ``start_time``: when the exchange started, in `time.time` seconds.
    * ``time_info``: timings reported by the implementation (curl fills in
      ``queue``, ``namelookup``, ``connect``, ..., the phases of
      ``curl_easy_getinfo``).
    """

    _error_is_response_code = False
    error: Optional[BaseException] = None

    def __init__(
        self, request: HTTPRequest, code: int, headers: "httputil.HTTPHeaders | None" = None,
        buffer: "BytesIO | None" = None, effective_url: "str | None" = None,
        error: "BaseException | None" = None, request_time: "float | None" = None,
        time_info: "Dict[str, float] | None" = None, reason: "str | None" = None,
        start_time: "float | None" = None,
    ) -> None:
        # A request seen through the client's defaults is reported as the
        # caller's own object.
        self.request = request.request if isinstance(request, _RequestProxy) else request
        self.code = code
        self.reason = reason or _reason_for(code)
        self.effective_url = request.url if effective_url is None else effective_url
        self.headers = httputil.HTTPHeaders() if headers is None else headers
        self.buffer = buffer
        self._body: Optional[bytes] = None
        self.request_time = request_time
        self.start_time = start_time
        self.time_info = {} if time_info is None else time_info
        self._error_is_response_code = error is None and not 200 <= code < 300
        if self._error_is_response_code:
            error = HTTPClientError(code, message=self.reason, response=self)
        self.error = error

    @property
    def body(self) -> bytes:
        """The whole body as bytes (read once from ``buffer``)."""
        if self._body is None and self.buffer is not None:
            self._body = self.buffer.getvalue()
        return self._body or b""

    def rethrow(self) -> None:
        """Raises ``error``, if there is one."""
        if self.error:
            raise self.error

    def __repr__(self) -> str:
        fields = ",".join(f"{name}={value!r}" for name, value in sorted(vars(self).items()))
        return f"{type(self).__name__}({fields})"


class HTTPClientError(Exception):
    """A fetch that ended with a non-2xx status, or without an answer (599).

    ``code`` holds the status, ``message`` the reason phrase (the standard
    phrase for ``code`` when none is given) and ``response`` the
    `HTTPResponse`, when one exists.

    `AsyncHTTPClient.fetch` raises it for non-2xx answers unless called with
    ``raise_error=False``. ``HTTPError`` is its older name (before 5.1);
    `tornado.web.HTTPError` is an unrelated class.
    """

    def __init__(self, code: int, message: "str | None" = None, response: "HTTPResponse | None" = None) -> None:
        # The constructor arguments are kept in args, so that copy.copy()
        # and pickle rebuild an equal exception.
        super().__init__(code, message, response)
        self.response = response
        self.message = message or _reason_for(code)
        self.code = code

    def __str__(self) -> str:
        return f"HTTP {self.code}: {self.message}"

    # The inherited repr would spell out the whole response.
    __repr__ = __str__


HTTPError = HTTPClientError


class _RequestProxy:
    """Read-only view of an `HTTPRequest` through a client's defaults.

    An attribute reads as the request's value, or when that is None as the
    entry of ``defaults`` (None if missing). Unknown names raise
    `AttributeError` as on the request.
    """

    def __init__(self, request: HTTPRequest, defaults: "Dict[str, Any] | None") -> None:
        # The request's values are copied in once. Reading them through
        # __getattr__ instead would cost a failed ordinary lookup (an
        # AttributeError raised and caught) for every attribute read, and
        # implementations read a couple of dozen per request.
        view = self.__dict__
        view.update(vars(request))
        view["headers"] = request.headers
        view["body"] = request.body
        if defaults:
            for name, value in defaults.items():
                if view.get(name, _ABSENT) is None:
                    view[name] = value
        self.request = request
        self.defaults = defaults

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not copied above: attributes computed by
        # an HTTPRequest subclass, or names that do not exist at all.
        value = getattr(self.request, name)
        if value is None and self.defaults is not None:
            value = self.defaults.get(name)
        return value


# Marks a name a request does not have at all (None is a real value there).
_ABSENT = object()


# RFC 9110 section 9.3: the methods defined to carry content. Unless
# allow_nonstandard_methods is set, the clients require a body for these
# and refuse one for every other method.
_BODY_METHODS = frozenset(("PATCH", "POST", "PUT"))


def _check_body_presence(method: str, body_present: bool) -> None:
    """Raises `ValueError` when ``method`` comes with a body it should not
    have, or without one it needs (see `_BODY_METHODS`)."""
    wants_body = method in _BODY_METHODS
    if wants_body == body_present:
        return
    negation = "not " if wants_body else ""
    raise ValueError(
        f"Body must {negation}be None for method {method} "
        "(unless allow_nonstandard_methods is true)"
    )


# (name, type, default) of main()'s command line options.
_MAIN_OPTIONS = (
    ("print_headers", bool, False), ("print_body", bool, True),
    ("follow_redirects", bool, True), ("validate_cert", bool, True),
    ("proxy_host", str, None), ("proxy_port", int, None),
)


def main() -> None:
    """``python -m tornado.httpclient [options] URL...``: fetches each URL in
    turn and prints what came back.

    ``--print_body`` (on by default) prints the body and
    ``--print_headers`` the response headers. ``--follow_redirects``,
    ``--validate_cert``, ``--proxy_host`` and ``--proxy_port`` become the
    request options of the same names. Error answers are printed like
    successful ones.
    """
    from tornado.options import define, options, parse_command_line

    for name, kind, default in _MAIN_OPTIONS:
        define(name, type=kind, default=default)
    urls = parse_command_line()
    request_options = {
        name: getattr(options, name)
        for name in ("follow_redirects", "validate_cert", "proxy_host", "proxy_port")
    }
    client = HTTPClient()
    try:
        for url in urls:
            response = _fetch_even_on_error(client, url, request_options)
            if options.print_headers:
                print(response.headers)
            if options.print_body:
                print(native_str(response.body))
    finally:
        client.close()


def _fetch_even_on_error(client: HTTPClient, url: str, request_options: Dict[str, Any]) -> HTTPResponse:
    """``client.fetch(url)``, returning error answers instead of raising;
    failures without an answer still raise."""
    try:
        return client.fetch(url, **request_options)
    except HTTPClientError as err:
        if err.response is None:
            raise
        return err.response


if __name__ == "__main__":
    # As a script this file runs as __main__, a second copy of the module;
    # use the importable one, whose classes the implementations use.
    import tornado.httpclient

    tornado.httpclient.main()
