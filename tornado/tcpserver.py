"""Accepting TCP connections without blocking.

`TCPServer` owns a set of listening sockets (made by
`tornado.netutil.bind_sockets`), watches them with
`tornado.netutil.add_accept_handler`, and turns every accepted connection
into an `.IOStream` (an `.SSLIOStream` when TLS is configured) that it
passes to `TCPServer.handle_stream`.  Protocol servers such as
`tornado.httpserver.HTTPServer` subclass it and implement that one method.
"""

from __future__ import annotations

import errno
import gc
import os
import socket
import ssl
from collections.abc import Awaitable, Iterable
from typing import Any, Optional

from tornado import gen, process
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, SSLIOStream
from tornado.log import app_log
from tornado.netutil import (
    _DEFAULT_BACKLOG,
    _SSLOptions,
    add_accept_handler,
    bind_sockets,
    ssl_options_to_context,
)
from tornado.util import errno_from_exception

# Errors from wrapping an accepted socket in TLS that only mean the peer
# went away before we got to it (a port scanner, a health check that
# connects and hangs up); the connection is dropped quietly.
_GONE_ERRNOS = frozenset((errno.ECONNABORTED, errno.EINVAL))


def _check_tls_files(options: dict[str, Any]) -> None:
    """Fails early (at construction, not on each connection) when the
    certificate or key file named in a dict of TLS options is missing."""
    try:
        cert = options["certfile"]
    except KeyError:
        raise KeyError('missing key "certfile" in ssl_options') from None
    for key, path in (("certfile", cert), ("keyfile", options.get("keyfile"))):
        if path is not None and not os.path.exists(path):
            raise ValueError(f'{key} "{path}" does not exist')


class TCPServer:
    r"""A single-threaded server of TCP connections, driven by the `.IOLoop`.

    A subclass implements `handle_stream`; the server calls it once per
    accepted connection.  There are three ways to get it accepting:

    * `listen` binds and starts in one step; the usual choice for a
      single process::

          async def main():
              TCPServer().listen(8888)
              await asyncio.Event().wait()

          asyncio.run(main())

    * `add_sockets` takes sockets that are already bound, which lets the
      listening sockets be made once and then shared by forked workers::

          socks = bind_sockets(8888)
          tornado.process.fork_processes(0)

          async def worker():
              TCPServer().add_sockets(socks)
              await asyncio.Event().wait()

          asyncio.run(worker())

    * `bind` followed by `start` (deprecated since 6.2), where `start`
      can do the forking itself::

          srv = TCPServer()
          srv.bind(8888)
          srv.start(0)
          IOLoop.current().start()

    Independent processes can also share a port by each calling `listen`
    with ``reuse_port=True``.

    ``ssl_options`` switches on TLS.  It is either a ready
    `ssl.SSLContext` or a dict of keyword arguments in the style of
    `ssl.SSLContext.wrap_socket` (``certfile``, ``keyfile``, ...), which
    is turned into a context on the first connection.  The TLS handshake
    is not finished when `handle_stream` runs; see
    `.SSLIOStream.wait_for_handshake`.

    ``max_buffer_size`` and ``read_chunk_size`` go to every stream.

    .. versionadded:: 3.1
       ``max_buffer_size``.
    .. versionchanged:: 5.0
       No more ``io_loop`` argument.
    """

    def __init__(
        self, ssl_options: Optional[_SSLOptions] = None,
        max_buffer_size: Optional[int] = None, read_chunk_size: Optional[int] = None,
    ) -> None:
        if isinstance(ssl_options, dict):
            _check_tls_files(ssl_options)
        self.ssl_options = ssl_options
        self.max_buffer_size = max_buffer_size
        self.read_chunk_size = read_chunk_size
        # fd -> listening socket (code built on Tornado reads ``_sockets``
        # to learn the bound ports: pytest-jupyter, Bokeh, Dask), and fd ->
        # the function that stops accepting on it.
        self._sockets: dict[int, socket.socket] = {}
        self._unwatch: dict[int, Any] = {}
        # Sockets from bind() that wait for start().
        self._deferred: list[socket.socket] = []
        self._started = False
        self._stopped = False
        # The context made from a dict of options, and the dict it came
        # from (ssl_options may be replaced after construction).
        self._tls_ctx: Optional[ssl.SSLContext] = None
        self._tls_ctx_source: Any = None

    def listen(
        self, port: int, address: Optional[str] = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = _DEFAULT_BACKLOG, flags: Optional[int] = None, reuse_port: bool = False,
    ) -> None:
        """Binds ``port`` on ``address`` and starts accepting right away.

        Call it on the thread running the `.IOLoop`.  The arguments are
        those of `tornado.netutil.bind_sockets`.  Calling it again adds
        more listening sockets.

        .. versionchanged:: 6.2
           ``family``, ``backlog``, ``flags`` and ``reuse_port``.
        """
        self.add_sockets(bind_sockets(port, address, family, backlog, flags, reuse_port))

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        """Accepts connections on each of these bound, listening sockets.

        The server takes ownership: `stop` closes them.
        """
        on_accept = self._handle_connection
        for listener in sockets:
            fd = listener.fileno()
            self._sockets[fd] = listener
            self._unwatch[fd] = add_accept_handler(listener, on_accept)

    def add_socket(self, socket: socket.socket) -> None:
        """`add_sockets` for a single socket."""
        self.add_sockets((socket,))

    def bind(
        self, port: int, address: Optional[str] = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = _DEFAULT_BACKLOG, flags: Optional[int] = None, reuse_port: bool = False,
    ) -> None:
        """Binds ``port`` now; accepting begins with `start`.

        Binding first means processes forked by `start` inherit the same
        listening sockets.  Can be called repeatedly before `start`; after
        it, the new sockets are used at once.  Arguments as for
        `tornado.netutil.bind_sockets`.

        .. deprecated:: 6.2
           Prefer `listen` or `add_sockets`.
        """
        bound = bind_sockets(port, address, family, backlog, flags, reuse_port)
        if not self._started:
            self._deferred += bound
            return
        self.add_sockets(bound)

    def start(
        self, num_processes: Optional[int] = 1, max_restarts: Optional[int] = None
    ) -> None:
        """Begins accepting on the sockets from `bind`.

        Unless ``num_processes`` is 1, `tornado.process.fork_processes` is
        called first (``None`` or a number <= 0 means one worker per CPU;
        ``max_restarts`` is passed along).  Workers share no memory, and no
        `.IOLoop` may exist yet when forking.

        .. deprecated:: 6.2
           Prefer `listen` or `add_sockets`.
        """
        assert not self._started, "TCPServer.start() called twice"
        self._started = True
        if num_processes != 1:
            process.fork_processes(num_processes, max_restarts)
        waiting, self._deferred = self._deferred, []
        self.add_sockets(waiting)

    def stop(self) -> None:
        """Closes every listening socket, so no new connection comes in.

        Established connections carry on.  A second call is a no-op.
        """
        if self._stopped:
            return
        self._stopped = True
        while self._sockets:
            fd, listener = self._sockets.popitem()
            self._unwatch.pop(fd)()
            listener.close()
        leftovers, self._deferred = self._deferred, []
        for listener in leftovers:
            listener.close()

    def _stop_after_backlog(self) -> None:
        """`stop`, after taking on the connections already waiting in the
        listen queues.

        The kernel completes handshakes before the server accepts: closing
        a listening socket resets every connection still queued on it,
        which to those clients looks like a failure of a connection that
        was established.  A graceful shutdown (`tornado.shutdown`) serves
        them instead.  Each socket is closed right after the accept that
        found its queue empty, before any of the connections taken is
        served: a listening socket shared with other processes (forked
        workers) that close theirs at the same moment must not sit open
        and unwatched meanwhile, queueing connections that its closing
        would then reset.
        """
        if self._stopped:
            return
        on_accept = self._handle_connection
        listeners = list(self._sockets.items())
        for fd, _ in listeners:
            self._unwatch.pop(fd)()
        self._sockets.clear()
        taken: list[tuple[socket.socket, Any]] = []
        # A collection in the gap between the last accept and the close
        # would widen it.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for _, listener in listeners:
                # (A socket handed over blocking would wait for the next client.)
                listener.setblocking(False)
                while True:
                    try:
                        taken.append(listener.accept())
                    except ConnectionAbortedError:
                        continue  # the peer gave up while queued
                    except OSError:
                        break  # BlockingIOError: the queue is empty
                listener.close()
        finally:
            if collecting:
                gc.enable()
        self.stop()
        for conn, peer in taken:
            on_accept(conn, peer)

    def handle_stream(
        self, stream: IOStream, address: tuple
    ) -> Optional[Awaitable[None]]:
        """Serves one connection; subclasses must implement it.

        ``address`` is the peer's address.  The method may be a coroutine
        (its exception, if any, is logged).  With TLS, ``stream`` is an
        `.SSLIOStream` that may still be handshaking; its reads and writes
        wait for the handshake.

        .. versionchanged:: 4.2
           Coroutines are allowed.
        """
        raise NotImplementedError()

    def _server_tls_context(self) -> ssl.SSLContext:
        source = self.ssl_options
        assert source is not None
        if self._tls_ctx is None or self._tls_ctx_source is not source:
            self._tls_ctx = ssl_options_to_context(source, server_side=True)
            self._tls_ctx_source = source
        return self._tls_ctx

    def _wrap_tls(self, conn: socket.socket) -> Optional[socket.socket]:
        """Puts an accepted socket under TLS (handshake deferred); None
        when the peer has already hung up."""
        try:
            return self._server_tls_context().wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False
            )
        except ssl.SSLError as exc:
            if exc.args[0] != ssl.SSL_ERROR_EOF:
                raise
        except OSError as exc:
            if errno_from_exception(exc) not in _GONE_ERRNOS:
                raise
        conn.close()
        return None

    def _handle_connection(self, connection: socket.socket, address: Any) -> None:
        if self.ssl_options is None:
            kind: type[IOStream] = IOStream
        else:
            wrapped = self._wrap_tls(connection)
            if wrapped is None:
                return
            connection, kind = wrapped, SSLIOStream
        try:
            outcome = self.handle_stream(
                kind(connection, max_buffer_size=self.max_buffer_size,
                     read_chunk_size=self.read_chunk_size),
                address,
            )
            if outcome is not None:
                # Surfacing the result through add_future makes the loop
                # log a failure ("Exception in callback ...").
                IOLoop.current().add_future(gen.convert_yielded(outcome), _raise_failure)
        except Exception:
            app_log.error("Error in connection callback", exc_info=True)


def _raise_failure(future: Any) -> None:
    future.result()
