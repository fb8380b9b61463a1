"""Blocking and non-blocking HTTP client interfaces.

This module holds what every client implementation shares: the request and
response objects (`HTTPRequest`, `HTTPResponse`), the error type
(`HTTPClientError`, also known as `HTTPError`), the `Configurable` front door
`AsyncHTTPClient` (one instance per `.IOLoop`, with per-client request
defaults) and the blocking wrapper `HTTPClient`, which runs a private IOLoop.

Two implementations plug in underneath:

* ``tornado.simple_httpclient.SimpleAsyncHTTPClient`` (the default), built on
  `tornado.tcpclient` and `tornado.http1connection`;
* ``tornado.curl_httpclient.CurlAsyncHTTPClient``, built on ``pycurl``.

Pick one with `AsyncHTTPClient.configure`::

    AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")

Run as ``python -m tornado.httpclient URL...`` this module fetches each URL
and prints the body (see `main`).
"""

import datetime
import functools
import ssl
import time
import weakref
from io import BytesIO
from http.client import responses as _responses
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


class HTTPClient:
    """A blocking HTTP client, for code that does not run an `.IOLoop`.

    Each instance owns a private `.IOLoop` and an `AsyncHTTPClient` bound to
    it; `fetch` runs that loop until the response is in::

        http_client = HTTPClient()
        try:
            response = http_client.fetch("http://www.example.com/")
            print(response.body)
        except HTTPError as e:
            # Raised for non-2xx responses; the response is e.response.
            print("Error: " + str(e))
        http_client.close()

    ``async_client_class`` picks the implementation (default:
    `AsyncHTTPClient`, i.e. whatever is configured) and ``kwargs`` go to its
    constructor. It cannot be used while another IOLoop runs in the same
    thread: use `AsyncHTTPClient` there.
    """

    def __init__(
        self,
        async_client_class: "Optional[Type[AsyncHTTPClient]]" = None,
        **kwargs: Any,
    ) -> None:
        # Set first, so that __del__ has nothing to undo if we fail below.
        self._closed = True
        self._io_loop = IOLoop(make_current=False)
        client_class = AsyncHTTPClient if async_client_class is None else async_client_class

        async def make_client() -> "AsyncHTTPClient":
            # Built inside the loop, so that it binds to our IOLoop without
            # changing the thread's current one.
            return client_class(**kwargs)

        self._async_client = self._io_loop.run_sync(make_client)
        self._closed = False

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Closes the client and its IOLoop. Safe to call more than once."""
        if not self._closed:
            self._async_client.close()
            self._io_loop.close()
            self._closed = True

    def fetch(
        self, request: Union["HTTPRequest", str], **kwargs: Any
    ) -> "HTTPResponse":
        """Fetches ``request`` (an `HTTPRequest` or a URL) and returns its
        `HTTPResponse`.

        Raises `HTTPError` for a non-2xx response (the response is on the
        exception), and other exceptions (`OSError`, ...) when no response
        arrived. ``kwargs`` build the `HTTPRequest` when given a URL.
        """
        response: HTTPResponse = self._io_loop.run_sync(
            functools.partial(self._async_client.fetch, request, **kwargs)
        )
        return response


class AsyncHTTPClient(Configurable):
    """A non-blocking HTTP client::

        async def f():
            http_client = AsyncHTTPClient()
            try:
                response = await http_client.fetch("http://www.example.com/")
            except Exception as e:
                print("Error: %s" % e)
            else:
                print(response.body)

    The constructor is magic: it returns the one shared instance for the
    current `.IOLoop` (created on first use) unless ``force_instance=True``.
    Keyword arguments reach `initialize` of the configured implementation;
    because instances are shared, only use them with ``force_instance=True``
    or set them once with `configure`::

        AsyncHTTPClient.configure(None, defaults=dict(user_agent="MyUserAgent"))

    ``defaults`` is a dict of `HTTPRequest` attributes to use where a request
    leaves them unset (None).
    """

    _instance_cache: "Optional[MutableMapping[IOLoop, AsyncHTTPClient]]" = None

    @classmethod
    def configurable_base(cls) -> Type[Configurable]:
        return AsyncHTTPClient

    @classmethod
    def configurable_default(cls) -> Type[Configurable]:
        from tornado.simple_httpclient import SimpleAsyncHTTPClient

        return SimpleAsyncHTTPClient

    @classmethod
    def _async_clients(cls) -> "MutableMapping[IOLoop, AsyncHTTPClient]":
        # Each implementation class keeps its own IOLoop -> instance map, so
        # that SimpleAsyncHTTPClient() and CurlAsyncHTTPClient() on the same
        # loop are different objects. Weak keys let closed loops go away.
        attr_name = "_async_client_dict_" + cls.__name__
        cache: "Optional[MutableMapping[IOLoop, AsyncHTTPClient]]" = cls.__dict__.get(
            attr_name
        )
        if cache is None:
            cache = weakref.WeakKeyDictionary()
            setattr(cls, attr_name, cache)
        return cache

    def __new__(cls, force_instance: bool = False, **kwargs: Any) -> "AsyncHTTPClient":
        io_loop = IOLoop.current()
        if force_instance:
            instance_cache = None
        else:
            instance_cache = cls._async_clients()
            existing = instance_cache.get(io_loop)
            if existing is not None:
                return existing
        instance = cast(AsyncHTTPClient, super().__new__(cls, **kwargs))
        # Remember where we are cached, so that close() can take us out
        # (the configured subclass may differ from cls).
        instance._instance_cache = instance_cache
        if instance_cache is not None:
            instance_cache[instance.io_loop] = instance
        return instance

    def initialize(self, defaults: Optional[Dict[str, Any]] = None) -> None:
        """Sets up a new instance (`.Configurable` calls this instead of
        ``__init__``): binds it to the current `.IOLoop` and merges
        ``defaults`` over the built-in request defaults. Implementations
        take more keyword arguments and call this.
        """
        self.io_loop = IOLoop.current()
        self.defaults = dict(HTTPRequest._DEFAULTS)
        if defaults is not None:
            self.defaults.update(defaults)
        self._closed = False

    def close(self) -> None:
        """Frees the resources this client holds.

        Needed only for instances made with ``force_instance=True`` (or to
        drop the shared instance of a loop); fetching afterwards raises
        `RuntimeError`. Never close the shared instance while other code may
        still use it.
        """
        if self._closed:
            return
        self._closed = True
        if self._instance_cache is not None:
            cached = self._instance_cache.pop(self.io_loop, None)
            # None is possible when called from a destructor at shutdown,
            # after the weak reference was cleared.
            if cached is not None and cached is not self:
                raise RuntimeError("inconsistent AsyncHTTPClient cache")

    def fetch(
        self,
        request: Union[str, "HTTPRequest"],
        raise_error: bool = True,
        **kwargs: Any,
    ) -> "Future[HTTPResponse]":
        """Starts fetching ``request`` and returns a `.Future` of its
        `HTTPResponse`.

        ``request`` is a URL or an `HTTPRequest`; with a URL, ``kwargs`` are
        `HTTPRequest` arguments (with an `HTTPRequest` they are an error).

        The Future fails with `HTTPError` for a non-2xx response unless
        ``raise_error`` is False, in which case the response is returned
        with its ``error`` set. Other failures (timeouts, refused
        connections, ...) fail the Future whatever ``raise_error`` says.
        """
        if self._closed:
            raise RuntimeError("fetch() called on closed AsyncHTTPClient")
        # The implementations add headers (Host, Content-Length, ...) to the
        # request they send: give them a copy so that the caller's mapping,
        # which may be shared between requests, is left alone. (Headers the
        # HTTPRequest made itself are ours already.)
        if not isinstance(request, HTTPRequest):
            request = HTTPRequest(url=request, **kwargs)
            if kwargs.get("headers") is not None:
                request.headers = httputil.HTTPHeaders(request.headers)
        elif kwargs:
            raise ValueError(
                "kwargs can't be used if request is an HTTPRequest object"
            )
        else:
            request.headers = httputil.HTTPHeaders(request.headers)
        future: Future[HTTPResponse] = Future()

        def handle_response(response: "HTTPResponse") -> None:
            error = response.error
            if error is not None and (
                raise_error or not response._error_is_response_code
            ):
                future_set_exception_unless_cancelled(future, error)
            else:
                future_set_result_unless_cancelled(future, response)

        self.fetch_impl(cast(HTTPRequest, _RequestProxy(request, self.defaults)), handle_response)
        return future

    def fetch_impl(
        self, request: "HTTPRequest", callback: Callable[["HTTPResponse"], None]
    ) -> None:
        """Performs ``request`` and calls ``callback`` exactly once with its
        `HTTPResponse` (failures are responses with ``error`` set).

        Implementations override this; ``request`` reads the client's
        defaults for unset attributes.
        """
        raise NotImplementedError()

    @classmethod
    def configure(
        cls, impl: "Union[None, str, Type[Configurable]]", **kwargs: Any
    ) -> None:
        """Chooses the implementation that ``AsyncHTTPClient()`` creates.

        ``impl`` is a subclass, its dotted name, or None for the default
        (``SimpleAsyncHTTPClient``); ``kwargs`` are stored and passed to the
        constructor of every new instance, e.g.::

            AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")
        """
        super().configure(impl, **kwargs)  # type: ignore[no-untyped-call]


class HTTPRequest:
    """An HTTP request for `AsyncHTTPClient.fetch`.

    Every argument but ``url`` is optional. Arguments left as None take the
    client's ``defaults`` (see `AsyncHTTPClient`), and then the built-in
    defaults below.

    :arg url: the URL to fetch.
    :arg method: the HTTP method (``GET``).
    :arg headers: a dict or `.HTTPHeaders` of extra request headers.
    :arg body: the request body, str (encoded as UTF-8) or bytes.
    :arg auth_username: user name for HTTP authentication.
    :arg auth_password: password for HTTP authentication.
    :arg auth_mode: ``"basic"`` (the default) or ``"digest"`` (curl only).
    :arg connect_timeout: seconds to wait for the connection (20).
    :arg request_timeout: seconds for the whole request (20).
    :arg if_modified_since: a datetime or timestamp for If-Modified-Since.
    :arg follow_redirects: follow 3xx responses (True).
    :arg max_redirects: the most redirects to follow (5).
    :arg user_agent: the User-Agent header.
    :arg use_gzip: the pre-4.0 name of ``decompress_response``.
    :arg network_interface: the interface (curl) or local IP address
        (simple) to send from.
    :arg streaming_callback: called with each chunk of the body as it
        arrives; the response's body stays empty.
    :arg header_callback: called with each header line (start line and
        final ``\\r\\n`` included); ``headers`` stays empty with curl.
    :arg prepare_curl_callback: called with the ``pycurl.Curl`` object before
        the request is sent (curl only).
    :arg proxy_host: host name of an HTTP proxy (curl only).
    :arg proxy_port: port of the proxy.
    :arg proxy_username: user name for the proxy.
    :arg proxy_password: password for the proxy.
    :arg proxy_auth_mode: ``"basic"`` (the default) or ``"digest"``.
    :arg allow_nonstandard_methods: allow unknown methods and bodies where
        the method does not expect one (False).
    :arg validate_cert: verify the server's TLS certificate (True).
    :arg ca_certs: a PEM file of CA certificates to verify against.
    :arg allow_ipv6: use IPv6 when available (True).
    :arg client_key: file of the TLS client key.
    :arg client_cert: file of the TLS client certificate.
    :arg body_producer: instead of ``body``, a callable taking a ``write``
        function and returning None or an awaitable; it streams the body.
        Without a ``Content-Length`` header the body is sent chunked.
        simple_httpclient only.
    :arg expect_100_continue: send ``Expect: 100-continue`` and wait for the
        server's go-ahead before the body (simple only).
    :arg decompress_response: ask for a compressed response and decompress
        it (True).
    :arg ssl_options: an `ssl.SSLContext` or dict of options for the TLS
        connection (simple only); overrides ``validate_cert``, ``ca_certs``,
        ``client_key`` and ``client_cert``.
    """


    # Set on the copies made to follow a redirect: the request the caller
    # made, which their response reports.
    _original_request: "Optional[HTTPRequest]" = None

    # Used where neither the request nor the client's defaults say.
    _DEFAULTS = dict(
        connect_timeout=20.0,
        request_timeout=20.0,
        follow_redirects=True,
        max_redirects=5,
        decompress_response=True,
        proxy_password="",
        allow_nonstandard_methods=False,
        validate_cert=True,
    )

    def __init__(
        self,
        url: str,
        method: str = "GET",
        headers: Optional[Union[Dict[str, str], httputil.HTTPHeaders]] = None,
        body: Optional[Union[bytes, str]] = None,
        auth_username: Optional[str] = None,
        auth_password: Optional[str] = None,
        auth_mode: Optional[str] = None,
        connect_timeout: Optional[float] = None,
        request_timeout: Optional[float] = None,
        if_modified_since: Optional[Union[float, datetime.datetime]] = None,
        follow_redirects: Optional[bool] = None,
        max_redirects: Optional[int] = None,
        user_agent: Optional[str] = None,
        use_gzip: Optional[bool] = None,
        network_interface: Optional[str] = None,
        streaming_callback: Optional[
            Callable[[bytes], Optional[Awaitable[None]]]
        ] = None,
        header_callback: Optional[Callable[[str], None]] = None,
        prepare_curl_callback: Optional[Callable[[Any], None]] = None,
        proxy_host: Optional[str] = None,
        proxy_port: Optional[int] = None,
        proxy_username: Optional[str] = None,
        proxy_password: Optional[str] = None,
        proxy_auth_mode: Optional[str] = None,
        allow_nonstandard_methods: Optional[bool] = None,
        validate_cert: Optional[bool] = None,
        ca_certs: Optional[str] = None,
        allow_ipv6: Optional[bool] = None,
        client_key: Optional[str] = None,
        client_cert: Optional[str] = None,
        body_producer: Optional[
            Callable[[Callable[[bytes], None]], "Optional[Future[None]]"]
        ] = None,
        expect_100_continue: bool = False,
        decompress_response: Optional[bool] = None,
        ssl_options: Optional[Union[Dict[str, Any], ssl.SSLContext]] = None,
    ) -> None:
        self.headers = headers  # type: ignore
        if if_modified_since:
            self.headers["If-Modified-Since"] = httputil.format_timestamp(
                if_modified_since
            )
        self.proxy_host = proxy_host
        self.proxy_port = proxy_port
        self.proxy_username = proxy_username
        self.proxy_password = proxy_password
        self.proxy_auth_mode = proxy_auth_mode
        self.url = url
        self.method = method
        self.body = body  # type: ignore
        self.body_producer = body_producer
        self.auth_username = auth_username
        self.auth_password = auth_password
        self.auth_mode = auth_mode
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        # use_gzip is the pre-4.0 name of decompress_response.
        self.decompress_response = (
            use_gzip if decompress_response is None else decompress_response
        )
        self.network_interface = network_interface
        self.streaming_callback = streaming_callback
        self.header_callback = header_callback
        self.prepare_curl_callback = prepare_curl_callback
        self.allow_nonstandard_methods = allow_nonstandard_methods
        self.validate_cert = validate_cert
        self.ca_certs = ca_certs
        self.allow_ipv6 = allow_ipv6
        self.client_key = client_key
        self.client_cert = client_cert
        self.ssl_options = ssl_options
        self.expect_100_continue = expect_100_continue
        self.start_time = time.time()

    @property
    def headers(self) -> httputil.HTTPHeaders:
        """The request headers; setting None gives an empty `.HTTPHeaders`."""
        # A plain dict set by the caller is kept as is (and documented as
        # accepted), hence the cast.
        return self._headers  # type: ignore

    @headers.setter
    def headers(self, value: Union[Dict[str, str], httputil.HTTPHeaders]) -> None:
        self._headers = httputil.HTTPHeaders() if value is None else value

    @property
    def body(self) -> bytes:
        """The request body as bytes (str is encoded as UTF-8), or None."""
        return self._body

    @body.setter
    def body(self, value: Union[bytes, str]) -> None:
        self._body = utf8(value)


class HTTPResponse:
    """The result of an HTTP fetch.

    Attributes:

    * ``request``: the `HTTPRequest` as given (the original one when
      redirects were followed).
    * ``code``: the numeric status code, e.g. 200 or 404.
    * ``reason``: the reason phrase from the status line (or the standard
      phrase for ``code``).
    * ``headers``: the response's `.HTTPHeaders`.
    * ``effective_url``: the URL finally fetched, after redirects.
    * ``buffer``: a `io.BytesIO` of the body.
    * ``body``: the body as bytes (empty when a ``streaming_callback`` took
      it), read from ``buffer`` on first use.
    * ``error``: an exception, or None. A non-2xx response gets an
      `HTTPClientError` built from its code.
    * ``request_time``: seconds from the start of the request to its end,
      including following redirects but not time waiting for a free slot.
    * ``start_time``: when the HTTP operation started, in `time.time`
      seconds.
    * ``time_info``: a dict of timings from the implementation (curl fills
      it: ``queue``, ``namelookup``, ``connect``, ... as in
      ``curl_easy_getinfo``).
    """

    _error_is_response_code = False
    error: Optional[BaseException] = None

    def __init__(
        self,
        request: HTTPRequest,
        code: int,
        headers: Optional[httputil.HTTPHeaders] = None,
        buffer: Optional[BytesIO] = None,
        effective_url: Optional[str] = None,
        error: Optional[BaseException] = None,
        request_time: Optional[float] = None,
        time_info: Optional[Dict[str, float]] = None,
        reason: Optional[str] = None,
        start_time: Optional[float] = None,
    ) -> None:
        if isinstance(request, _RequestProxy):
            self.request = request.request
        else:
            self.request = request
        self.code = code
        self.reason = reason or _responses.get(code, "Unknown")
        self.headers = httputil.HTTPHeaders() if headers is None else headers
        self.buffer = buffer
        self._body: Optional[bytes] = None
        self.effective_url = request.url if effective_url is None else effective_url
        self._error_is_response_code = False
        self.error: Optional[BaseException]
        if error is None:
            if code < 200 or code >= 300:
                self._error_is_response_code = True
                self.error = HTTPClientError(code, message=self.reason, response=self)
            else:
                self.error = None
        else:
            self.error = error
        self.start_time = start_time
        self.request_time = request_time
        self.time_info = time_info or {}

    @property
    def body(self) -> bytes:
        if self.buffer is None:
            return b""
        if self._body is None:
            self._body = self.buffer.getvalue()
        return self._body

    def rethrow(self) -> None:
        """Raises ``error`` if there is one."""
        if self.error:
            raise self.error

    def __repr__(self) -> str:
        args = ",".join("%s=%r" % item for item in sorted(self.__dict__.items()))
        return f"{self.__class__.__name__}({args})"


class HTTPClientError(Exception):
    """An HTTP fetch that got a non-2xx response, or timed out (599).

    ``code`` is the status code; ``message`` the reason phrase (the
    standard one for ``code`` when not given); ``response`` the
    `HTTPResponse`, when there is one.

    `AsyncHTTPClient.fetch` raises it for non-2xx responses unless
    ``raise_error=False``. Also available as ``HTTPError``, its name before
    5.1 (not to be confused with `tornado.web.HTTPError`).
    """

    def __init__(
        self,
        code: int,
        message: Optional[str] = None,
        response: Optional[HTTPResponse] = None,
    ) -> None:
        self.code = code
        self.message = message or _responses.get(code, "Unknown")
        self.response = response
        # Passing the arguments on keeps copy.copy() and pickling working.
        super().__init__(code, message, response)

    def __str__(self) -> str:
        return "HTTP %d: %s" % (self.code, self.message)

    # The default repr would include the response, whose repr is long.
    __repr__ = __str__


HTTPError = HTTPClientError


class _RequestProxy:
    """An `HTTPRequest` seen through the client's defaults: each attribute
    is the request's, or if that is None the defaults' entry (or None).
    """

    def __init__(
        self, request: HTTPRequest, defaults: Optional[Dict[str, Any]]
    ) -> None:
        self.request = request
        self.defaults = defaults

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.request, name)
        if value is None and self.defaults is not None:
            value = self.defaults.get(name)
        # Only called for names not in our __dict__: remember the answer,
        # as implementations read the same attributes again and again.
        self.__dict__[name] = value
        return value


# RFC 9110 section 9.3: the methods whose requests carry content. Without
# allow_nonstandard_methods the clients insist on a body for these and on
# none for the others.
_BODY_METHODS = frozenset(["POST", "PATCH", "PUT"])


def _check_body_presence(method: str, body_present: bool) -> None:
    """Raises ValueError unless ``method`` has a body exactly when it
    should (see `_BODY_METHODS`)."""
    body_expected = method in _BODY_METHODS
    if body_expected != body_present:
        raise ValueError(
            "Body must %sbe None for method %s (unless "
            "allow_nonstandard_methods is true)"
            % ("not " if body_expected else "", method)
        )


def main() -> None:
    """Command line: ``python -m tornado.httpclient [options] URL...``.

    Fetches each URL and prints its body (``--print_body``, default on)
    and/or headers (``--print_headers``). ``--follow_redirects``,
    ``--validate_cert``, ``--proxy_host`` and ``--proxy_port`` set the
    request options of the same names. An error response is printed like
    any other.
    """
    from tornado.options import define, options, parse_command_line

    define("print_headers", type=bool, default=False)
    define("print_body", type=bool, default=True)
    define("follow_redirects", type=bool, default=True)
    define("validate_cert", type=bool, default=True)
    define("proxy_host", type=str)
    define("proxy_port", type=int)
    args = parse_command_line()
    client = HTTPClient()
    for arg in args:
        try:
            response = client.fetch(
                arg,
                follow_redirects=options.follow_redirects,
                validate_cert=options.validate_cert,
                proxy_host=options.proxy_host,
                proxy_port=options.proxy_port,
            )
        except HTTPError as e:
            if e.response is None:
                raise
            response = e.response
        if options.print_headers:
            print(response.headers)
        if options.print_body:
            print(native_str(response.body))
    client.close()


if __name__ == "__main__":
    # Run as a script this file is __main__, a second copy of this module;
    # use the real one, whose HTTPError the implementations raise.
    import tornado.httpclient

    tornado.httpclient.main()
