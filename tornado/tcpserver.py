"""A non-blocking TCP server: accepts connections and hands each one, as an
`.IOStream`, to `TCPServer.handle_stream`.

Listening sockets come from `tornado.netutil.bind_sockets` and connections
are accepted with `tornado.netutil.add_accept_handler`; with ``ssl_options``
each connection is wrapped in TLS and handed over as an `.SSLIOStream`
whose handshake runs in the background.  `tornado.httpserver.HTTPServer` is
the main subclass.
"""

import errno
import os
import socket
import ssl
from collections.abc import Awaitable, Iterable
from typing import Any, Optional, Union

from tornado import gen, process
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, SSLIOStream
from tornado.log import app_log
from tornado.netutil import (
    _DEFAULT_BACKLOG,
    add_accept_handler,
    bind_sockets,
    ssl_options_to_context,
)
from tornado.util import errno_from_exception


class TCPServer:
    r"""A non-blocking, single-threaded TCP server.

    Subclass it and override `handle_stream`, then start it one of three
    ways:

    1. `listen`, the simple single-process way::

            async def main():
                server = TCPServer()
                server.listen(8888)
                await asyncio.Event().wait()

            asyncio.run(main())

    2. `add_sockets`, for several processes sharing listening sockets
       bound before forking::

            sockets = bind_sockets(8888)
            tornado.process.fork_processes(0)

            async def post_fork_main():
                server = TCPServer()
                server.add_sockets(sockets)
                await asyncio.Event().wait()

            asyncio.run(post_fork_main())

    3. `bind` and `start`, the older multi-process way (deprecated)::

            server = TCPServer()
            server.bind(8888)
            server.start(0)  # forks one process per CPU
            IOLoop.current().start()

    Several processes may instead each `listen` on the same port with
    ``reuse_port=True``.

    To serve TLS, pass ``ssl_options``: an `ssl.SSLContext` or a dictionary
    of `ssl.SSLContext.wrap_socket` arguments (``certfile``, ``keyfile``,
    ...)::

        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_ctx.load_cert_chain("server.crt", "server.key")
        TCPServer(ssl_options=ssl_ctx)

    The handshake happens after `handle_stream` is called; see
    `.SSLIOStream.wait_for_handshake`.

    ``max_buffer_size`` and ``read_chunk_size`` are passed to each stream.

    .. versionadded:: 3.1
       The ``max_buffer_size`` argument.
    .. versionchanged:: 5.0
       The ``io_loop`` argument has been removed.
    """

    def __init__(
        self,
        ssl_options: Optional[Union[dict[str, Any], ssl.SSLContext]] = None,
        max_buffer_size: Optional[int] = None,
        read_chunk_size: Optional[int] = None,
    ) -> None:
        self.ssl_options = ssl_options
        self._sockets: dict[int, socket.socket] = {}
        self._handlers: dict[int, Any] = {}
        self._pending_sockets: list[socket.socket] = []
        self._started = False
        self._stopped = False
        self.max_buffer_size = max_buffer_size
        self.read_chunk_size = read_chunk_size
        # Built on the first TLS connection from a dictionary of options, so
        # that each connection doesn't load the certificate again.
        self._ssl_context: Optional[ssl.SSLContext] = None
        self._ssl_context_for: Any = None
        if isinstance(ssl_options, dict):
            # Check the files now rather than failing on every connection
            # later.  The certificate file may hold the key too.
            if "certfile" not in ssl_options:
                raise KeyError('missing key "certfile" in ssl_options')
            if not os.path.exists(ssl_options["certfile"]):
                raise ValueError(
                    'certfile "%s" does not exist' % ssl_options["certfile"]
                )
            if "keyfile" in ssl_options and not os.path.exists(ssl_options["keyfile"]):
                raise ValueError('keyfile "%s" does not exist' % ssl_options["keyfile"])

    def listen(
        self,
        port: int,
        address: Optional[str] = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = _DEFAULT_BACKLOG,
        flags: Optional[int] = None,
        reuse_port: bool = False,
    ) -> None:
        """Starts accepting connections on ``port`` (and ``address``).

        Must be called on the `.IOLoop` thread; the arguments mean what they
        do for `tornado.netutil.bind_sockets`.  May be called several times
        to listen on more ports.

        .. versionchanged:: 6.2
           Added the ``family``, ``backlog``, ``flags`` and ``reuse_port``
           arguments.
        """
        sockets = bind_sockets(
            port,
            address=address,
            family=family,
            backlog=backlog,
            flags=flags,
            reuse_port=reuse_port,
        )
        self.add_sockets(sockets)

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        """Starts accepting connections on these listening sockets
        (from `tornado.netutil.bind_sockets`, for instance).

        The server owns them from now on and closes them in `stop`.
        """
        for sock in sockets:
            fd = sock.fileno()
            self._sockets[fd] = sock
            self._handlers[fd] = add_accept_handler(sock, self._handle_connection)

    def add_socket(self, socket: socket.socket) -> None:
        """Like `add_sockets`, for one socket."""
        self.add_sockets([socket])

    def bind(
        self,
        port: int,
        address: Optional[str] = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = _DEFAULT_BACKLOG,
        flags: Optional[int] = None,
        reuse_port: bool = False,
    ) -> None:
        """Binds to ``port`` now and starts accepting in `start`.

        Binding before `start` forks lets the worker processes share the
        listening sockets.  May be called several times before `start`.
        The arguments mean what they do for `tornado.netutil.bind_sockets`.

        .. deprecated:: 6.2
           Use `listen` or `add_sockets` (see the class documentation).
        """
        sockets = bind_sockets(
            port,
            address=address,
            family=family,
            backlog=backlog,
            flags=flags,
            reuse_port=reuse_port,
        )
        if self._started:
            self.add_sockets(sockets)
        else:
            self._pending_sockets.extend(sockets)

    def start(
        self, num_processes: Optional[int] = 1, max_restarts: Optional[int] = None
    ) -> None:
        """Starts accepting on the sockets given to `bind`, after forking
        ``num_processes`` processes (see `tornado.process.fork_processes`)
        if that is not 1.

        ``None`` or a value of 0 or less forks one process per CPU.  Forked
        processes share no memory, and the `.IOLoop` must not have been
        created before the fork (so call `start` before anything creates it).

        .. deprecated:: 6.2
           Use `listen` or `add_sockets` (see the class documentation).
        """
        assert not self._started, "TCPServer.start() called twice"
        self._started = True
        if num_processes != 1:
            process.fork_processes(num_processes, max_restarts)
        sockets = self._pending_sockets
        self._pending_sockets = []
        self.add_sockets(sockets)

    def stop(self) -> None:
        """Stops accepting new connections and closes the listening sockets.

        Connections in progress are not touched.  Calling it again does
        nothing.
        """
        if self._stopped:
            return
        self._stopped = True
        for fd, sock in self._sockets.items():
            self._handlers.pop(fd)()
            sock.close()
        for sock in self._pending_sockets:
            sock.close()
        self._pending_sockets = []

    def handle_stream(
        self, stream: IOStream, address: tuple
    ) -> Optional[Awaitable[None]]:
        """Called with the stream and peer address of each new connection.

        Override it.  It may be a coroutine; an exception it raises is
        logged.  For TLS the stream is an `.SSLIOStream` whose handshake
        may still be in progress (reads and writes wait for it).

        .. versionchanged:: 4.2
           May be a coroutine.
        """
        raise NotImplementedError()

    def _tls_context(self) -> ssl.SSLContext:
        options = self.ssl_options
        assert options is not None
        if self._ssl_context is None or self._ssl_context_for is not options:
            self._ssl_context = ssl_options_to_context(options, server_side=True)
            self._ssl_context_for = options
        return self._ssl_context

    def _handle_connection(self, connection: socket.socket, address: Any) -> None:
        if self.ssl_options is not None:
            try:
                connection = self._tls_context().wrap_socket(
                    connection, server_side=True, do_handshake_on_connect=False
                )
            except ssl.SSLError as err:
                if err.args[0] == ssl.SSL_ERROR_EOF:
                    connection.close()
                    return
                raise
            except OSError as err:
                # A client that connects and leaves at once (a port scan,
                # say) makes wrap_socket's getpeername fail.
                if errno_from_exception(err) in (errno.ECONNABORTED, errno.EINVAL):
                    connection.close()
                    return
                raise
        try:
            if self.ssl_options is not None:
                stream: IOStream = SSLIOStream(
                    connection,
                    max_buffer_size=self.max_buffer_size,
                    read_chunk_size=self.read_chunk_size,
                )
            else:
                stream = IOStream(
                    connection,
                    max_buffer_size=self.max_buffer_size,
                    read_chunk_size=self.read_chunk_size,
                )
            future = self.handle_stream(stream, address)
            if future is not None:
                # Log what the coroutine raises (through the loop's
                # "Exception in callback" logging).
                IOLoop.current().add_future(
                    gen.convert_yielded(future), lambda f: f.result()
                )
        except Exception:
            app_log.error("Error in connection callback", exc_info=True)
