"""Serving WSGI applications (PEP 3333) from Tornado's HTTP server.

`WSGIContainer` wraps a WSGI callable (Flask, Django, a hand-written
function) so that it can take requests from an `.HTTPServer`, from a
`tornado.routing` router, or from behind a `tornado.web.FallbackHandler`.
Only that direction exists: a Tornado `.Application` is not a WSGI
application and cannot run inside a WSGI server.

Built on `tornado.httputil` (requests, headers, start lines) and
`tornado.ioloop` (running the application on an executor).
"""

import concurrent.futures
import logging
import sys
from io import BytesIO
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Tuple

import tornado
from tornado import escape, httputil
from tornado.concurrent import dummy_executor
from tornado.ioloop import IOLoop
from tornado.log import access_log, app_log

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication as WSGIAppType  # noqa: F401

_HeaderList = List[Tuple[str, str]]
_ExcInfo = Optional[
    Tuple[Optional[type], Optional[BaseException], Optional[TracebackType]]
]


def to_wsgi_str(s: bytes) -> str:
    """Makes the "native string" PEP 3333 wants from raw bytes: each byte
    becomes the character with the same code (latin-1).

    Kept here rather than in `tornado.escape` because outside WSGI this
    way of decoding is almost always a mistake.
    """
    assert isinstance(s, bytes)
    return s.decode("latin1")


class _Response:
    """The status, headers and body pieces one WSGI call produces;
    `start_response` is the callable handed to the application."""

    __slots__ = ("status", "headers", "pieces")

    def __init__(self) -> None:
        self.status: Optional[str] = None
        self.headers: _HeaderList = []
        self.pieces: List[bytes] = []

    def start_response(
        self, status: str, headers: _HeaderList, exc_info: _ExcInfo = None
    ) -> Callable[[bytes], Any]:
        # Nothing reaches the client before the application returns, so a
        # later call (PEP 3333 allows one with exc_info) simply replaces
        # what an earlier call set.
        self.status = status
        self.headers = headers
        return self.pieces.append


def _next_or_none(pieces: Iterator[bytes]) -> Optional[bytes]:
    # StopIteration cannot cross an executor future into a coroutine, so
    # the end of the iteration is turned into None.
    return next(pieces, None)


def _response_headers(
    status_code: int, listed: _HeaderList, body: bytes
) -> httputil.HTTPHeaders:
    """The application's headers plus the ones it left out: the body's
    ``Content-Length`` and a default ``Content-Type`` (neither for a 304,
    RFC 9110 section 15.4.5), and ``Server``."""
    headers = httputil.HTTPHeaders()
    for name, value in listed:
        headers.add(name, value)
    missing: List[Tuple[str, str]] = []
    if status_code != 304:
        missing.append(("Content-Length", str(len(body))))
        missing.append(("Content-Type", "text/html; charset=UTF-8"))
    missing.append(("Server", "TornadoServer/" + tornado.version))
    for name, value in missing:
        if name not in headers:
            headers[name] = value
    return headers


# The WSGI keys of an environ for a CGI-named header (PEP 3333 / RFC 3875);
# every other header becomes HTTP_<NAME>.
_CGI_HEADER_KEYS = {"Content-Type": "CONTENT_TYPE", "Content-Length": "CONTENT_LENGTH"}


class WSGIContainer:
    """Lets a WSGI application answer requests on Tornado's HTTP server.

    An instance is a request callback: give it to an `.HTTPServer`, use it
    as the target of a `tornado.routing` rule, or pass it as ``fallback``
    to `tornado.web.FallbackHandler` to mix it with Tornado handlers in
    one application::

        def hello(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"Hello world!\\n"]

        async def main():
            server = tornado.httpserver.HTTPServer(WSGIContainer(hello))
            server.listen(8888)
            await asyncio.Event().wait()

    WSGI is a blocking interface.  Without an ``executor`` the application
    runs on the event loop's thread, so the process serves one WSGI
    request at a time and nothing else while it runs.  Given a
    `concurrent.futures.Executor` (normally a ``ThreadPoolExecutor``; a
    process pool does not work) the application and its response iterator
    run there instead; the application must then be thread-safe.

    The response is buffered and sent once the application is done, so
    long-polling, streaming and websockets are not available through WSGI.
    """

    def __init__(
        self,
        wsgi_application: "WSGIAppType",
        executor: Optional[concurrent.futures.Executor] = None,
    ) -> None:
        self.wsgi_application = wsgi_application
        self.executor = executor if executor is not None else dummy_executor

    def __call__(self, request: httputil.HTTPServerRequest) -> None:
        IOLoop.current().spawn_callback(self._serve, request)

    async def _serve(self, request: httputil.HTTPServerRequest) -> None:
        try:
            await self.handle_request(request)
        except Exception:
            # Nothing has been sent yet (the response goes out in one
            # piece at the end), so the client can still get a 500.
            app_log.error("Uncaught exception in WSGI application", exc_info=True)
            self._send_500(request)

    async def handle_request(self, request: httputil.HTTPServerRequest) -> None:
        """Calls the application for ``request`` and sends its response.

        The application call and every step through the iterable it
        returns happen on the executor.  The collected response is then
        written to the request's connection in one go (without the body
        for a HEAD request; ``Content-Length`` still describes it) and
        the request is logged.
        """
        loop = IOLoop.current()
        response = _Response()
        result = await loop.run_in_executor(
            self.executor, self.wsgi_application, self.environ(request),
            response.start_response,
        )  # fmt: skip
        try:
            pieces = iter(result)
            while True:
                piece = await loop.run_in_executor(self.executor, _next_or_none, pieces)
                if piece is None:
                    break
                response.pieces.append(piece)
        finally:
            # PEP 3333: close() must be called whether or not the
            # iteration completed.
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if response.status is None:
            raise Exception("WSGI app did not call start_response")
        code_text, _, reason = response.status.partition(" ")
        status_code = int(code_text)
        reason = reason or httputil.responses.get(status_code, "Unknown")
        body = b"".join(response.pieces)
        headers = _response_headers(status_code, response.headers, body)
        self._send(request, status_code, reason, headers, body)

    def _send(
        self, request: httputil.HTTPServerRequest, status_code: int, reason: str,
        headers: httputil.HTTPHeaders, body: bytes,
    ) -> None:  # fmt: skip
        connection = request.connection
        assert connection is not None
        start_line = httputil.ResponseStartLine("HTTP/1.1", status_code, reason)
        chunk = None if request.method == "HEAD" else body
        connection.write_headers(start_line, headers, chunk=chunk)
        connection.finish()
        self._log(status_code, request)

    def _send_500(self, request: httputil.HTTPServerRequest) -> None:
        body = (
            b"<html><title>500: Internal Server Error</title>"
            b"<body>500: Internal Server Error</body></html>"
        )
        headers = httputil.HTTPHeaders(
            {"Content-Type": "text/html; charset=UTF-8", "Content-Length": str(len(body))}
        )
        try:
            self._send(request, 500, "Internal Server Error", headers, body)
        except Exception:
            # The connection is already unusable; there is no one to tell.
            app_log.debug("Could not send error response", exc_info=True)

    def environ(self, request: httputil.HTTPServerRequest) -> Dict[str, Any]:
        """Builds the WSGI environ dict for ``request``.

        ``PATH_INFO`` is the percent-decoded path as a latin-1 native
        string (PEP 3333); ``SCRIPT_NAME`` is empty.  The
        ``Content-Type`` and ``Content-Length`` headers become
        ``CONTENT_TYPE`` and ``CONTENT_LENGTH``, every other header an
        ``HTTP_*`` key.  The body is offered as ``wsgi.input``.
        """
        server_name, port = httputil.split_host_and_port(request.host)
        if port is None:
            port = 443 if request.protocol == "https" else 80
        raw_path = escape.url_unescape(request.path, encoding=None, plus=False)
        environ: Dict[str, Any] = {
            "wsgi.errors": sys.stderr,
            "wsgi.input": BytesIO(escape.utf8(request.body)),
            "wsgi.multiprocess": True,
            "wsgi.multithread": self.executor is not dummy_executor,
            "wsgi.run_once": False,
            "wsgi.url_scheme": request.protocol,
            "wsgi.version": (1, 0),
            "SERVER_PROTOCOL": request.version,
            "SERVER_NAME": server_name,
            "SERVER_PORT": str(port),
            "REMOTE_ADDR": request.remote_ip,
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": to_wsgi_str(raw_path),
            "QUERY_STRING": request.query,
        }
        for name, value in request.headers.items():
            key = _CGI_HEADER_KEYS.get(name)
            if key is None:
                key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = value
        return environ

    def _log(self, status_code: int, request: httputil.HTTPServerRequest) -> None:
        if status_code >= 500:
            level = logging.ERROR
        elif status_code >= 400:
            level = logging.WARNING
        else:
            level = logging.INFO
        if not access_log.isEnabledFor(level):
            return
        access_log.log(
            level, "%d %s %s (%s) %.2fms", status_code, request.method, request.uri,
            request.remote_ip, 1000.0 * request.request_time(),
        )  # fmt: skip


HTTPRequest = httputil.HTTPServerRequest
