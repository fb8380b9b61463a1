"""Small helpers shared by several test modules (not collected: no tests)."""

import asyncio
import socket
from typing import Any, Awaitable, Callable

from tornado.httputil import HTTPConnection, HTTPHeaders, ResponseStartLine
from tornado.ioloop import IOLoop


def run(coro_fn: Callable[[], Awaitable[Any]], timeout: float = 20) -> Any:
    """Runs ``coro_fn()`` on a fresh event loop, failing after ``timeout`` seconds."""

    async def main() -> Any:
        return await asyncio.wait_for(coro_fn(), timeout)

    return asyncio.run(main())


def have_ipv6() -> bool:
    """Whether this machine can bind a socket to ``::1``."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def respond_ok(connection: HTTPConnection, body: bytes) -> None:
    """Answer the request on ``connection`` with ``200 OK`` and ``body``
    (Content-Length framing), and finish the response."""
    connection.write_headers(
        ResponseStartLine("HTTP/1.1", 200, "OK"),
        HTTPHeaders({"Content-Length": str(len(body))}),
        body,
    )
    connection.finish()


class LoopTurns:
    """Counts the body pieces a delegate receives in a row while the IOLoop
    runs nothing else: before each piece a probe callback is scheduled, and
    a piece that finds the previous probe still pending came without the
    loop having had a turn."""

    def __init__(self) -> None:
        self.pending = False
        self.run = 0
        self.longest = 0

    def _probe(self) -> None:
        self.pending = False

    def piece(self) -> None:
        if self.pending:
            self.run += 1
            self.longest = max(self.longest, self.run)
        else:
            self.run = 0
            self.pending = True
            IOLoop.current().add_callback(self._probe)
