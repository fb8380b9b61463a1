"""`TCPClient`: opens `.IOStream` connections to a host name.

It resolves the name with a `.Resolver` and connects with the "Happy
Eyeballs" algorithm (RFC 8305, after RFC 6555): the addresses of the family
the resolver listed first are tried one after the other, and if no
connection is made within a short delay (or the first attempt fails), the
other family's addresses are tried alongside.  The first connection made
wins and the other attempts are closed.  TLS, when asked for, is negotiated
over the winning connection.
"""

import asyncio
import datetime
import functools
import numbers
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import Any, Optional, Tuple, Union  # noqa: F401 - Tuple: historical namespace

from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream
from tornado.netutil import Resolver

# How long the primary family has before the secondary one is tried too.
# RFC 8305 section 5 recommends 250ms ("Connection Attempt Delay").
_INITIAL_CONNECT_TIMEOUT = 0.3


def _format_addr(addr: Any) -> str:
    """``host:port`` for a socket address, ``[host]:port`` for IPv6."""
    if isinstance(addr, tuple) and len(addr) >= 2:
        host, port = addr[0], addr[1]
        if len(addr) == 4 or ":" in str(host):
            return f"[{host}]:{port}"
        return f"{host}:{port}"
    return str(addr)


class _Connector:
    """Races connection attempts over a list of addresses.

    ``connect(af, addr)`` starts one attempt and returns ``(stream,
    future)``; it may also raise, which counts as a failed attempt.
    `start` returns a Future for ``(af, addr, stream)`` of the first
    successful attempt.  Every other stream is closed once the race is
    decided (won, lost, timed out or cancelled).
    """

    def __init__(
        self,
        addrinfo: list[tuple],
        connect: Callable[[socket.AddressFamily, tuple], tuple[IOStream, Future]],
    ) -> None:
        self.io_loop = IOLoop.current()
        self.connect = connect
        self.future: Future[tuple[socket.AddressFamily, Any, IOStream]] = Future()
        self.timeout: Optional[object] = None
        self.connect_timeout: Optional[object] = None
        self.last_error: Optional[BaseException] = None
        self.remaining = len(addrinfo)
        self.primary_addrs, self.secondary_addrs = self.split(addrinfo)
        # Every stream created, except the winner's.
        self.streams: set[Any] = set()
        # Attempts in flight: (af, addr) pairs, for the timeout message.
        self._pending: list[tuple[Any, Any]] = []
        self._secondary_started = False
        self._primary_iter = iter(self.primary_addrs)
        self._secondary_iter = iter(self.secondary_addrs)
        self.future.add_done_callback(self._on_future_done)

    @staticmethod
    def split(
        addrinfo: list[tuple],
    ) -> tuple[list[tuple], list[tuple]]:
        """Splits ``addrinfo`` into the addresses of the first family listed
        (the primary) and all the others (the secondary), keeping the order.
        """
        primary = []
        secondary = []
        primary_af = addrinfo[0][0]
        for af, addr in addrinfo:
            if af == primary_af:
                primary.append((af, addr))
            else:
                secondary.append((af, addr))
        return primary, secondary

    def start(
        self,
        timeout: float = _INITIAL_CONNECT_TIMEOUT,
        connect_timeout: Optional[float] = None,
    ) -> "Future[tuple[socket.AddressFamily, Any, IOStream]]":
        """Starts the race.

        The secondary family joins after ``timeout`` seconds (sooner if a
        primary attempt fails); ``connect_timeout`` is an absolute
        `.IOLoop.time` deadline for the whole race.
        """
        self.try_connect(self._primary_iter)
        if not self.future.done():
            if not self._secondary_started:
                self.set_timeout(timeout)
            if connect_timeout is not None:
                self.set_connect_timeout(connect_timeout)
        return self.future

    def try_connect(self, addrs: Iterator[tuple]) -> None:
        """Starts an attempt on the next address of ``addrs``; moves on
        while attempts fail synchronously."""
        while not self.future.done():
            try:
                af, addr = next(addrs)
            except StopIteration:
                # This queue is done; the race is lost only when the other
                # one is too.
                self._fail_if_exhausted()
                return
            try:
                stream, future = self.connect(af, addr)
            except Exception as e:
                self.remaining -= 1
                self.last_error = e
                if addrs is self._primary_iter:
                    self._start_secondary()
                continue
            self.streams.add(stream)
            self._pending.append((af, addr))
            future.add_done_callback(
                functools.partial(self.on_connect_done, addrs, af, addr)
            )
            return

    def on_connect_done(
        self,
        addrs: Iterator[tuple],
        af: socket.AddressFamily,
        addr: tuple,
        future: "Future[IOStream]",
    ) -> None:
        self.remaining -= 1
        try:
            self._pending.remove((af, addr))
        except ValueError:
            pass
        if future.cancelled():
            error: Optional[BaseException] = IOError(
                f"connection attempt to {_format_addr(addr)} was cancelled"
            )
        else:
            error = future.exception()
        if error is not None:
            if self.future.done():
                return
            # Remember it, to fail with it if nothing else works.
            self.last_error = error
            self.try_connect(addrs)
            if addrs is self._primary_iter:
                # Don't wait for the delay once the primary family failed.
                self._start_secondary()
            return
        stream = future.result()
        if self.future.done():
            # A late winner: the race is over.
            stream.close()
            return
        self.clear_timeouts()
        self.streams.discard(stream)
        self.future.set_result((af, addr, stream))
        self.close_streams()

    def _start_secondary(self) -> None:
        if self._secondary_started:
            return
        self._secondary_started = True
        self.clear_timeout()
        self.try_connect(self._secondary_iter)

    def _fail_if_exhausted(self) -> None:
        if self.remaining == 0 and not self.future.done():
            self.future.set_exception(
                self.last_error or IOError("connection failed")
            )
            self.clear_timeouts()
            self.close_streams()

    def set_timeout(self, timeout: float) -> None:
        self.timeout = self.io_loop.add_timeout(
            self.io_loop.time() + timeout, self.on_timeout
        )

    def on_timeout(self) -> None:
        """The delay for the primary family is over: try the secondary."""
        self.timeout = None
        if not self.future.done():
            self._start_secondary()

    def clear_timeout(self) -> None:
        if self.timeout is not None:
            self.io_loop.remove_timeout(self.timeout)
            self.timeout = None

    def set_connect_timeout(self, connect_timeout: float) -> None:
        self.connect_timeout = self.io_loop.add_timeout(
            connect_timeout, self.on_connect_timeout
        )

    def on_connect_timeout(self) -> None:
        """The deadline has passed: give up on the attempts in flight."""
        self.connect_timeout = None
        if not self.future.done():
            pending = ", ".join(sorted(_format_addr(a) for _, a in self._pending))
            self.future.set_exception(
                TimeoutError(f"Timeout while connecting to {pending}")
            )
        self.close_streams()

    def clear_timeouts(self) -> None:
        self.clear_timeout()
        if self.connect_timeout is not None:
            self.io_loop.remove_timeout(self.connect_timeout)
            self.connect_timeout = None

    def close_streams(self) -> None:
        for stream in self.streams:
            stream.close()

    def _on_future_done(self, future: Future) -> None:
        # Cancelled by the caller: nothing more will be tried, and nothing
        # started may stay open.  (A lost race closes its streams at once.)
        if future.cancelled():
            self.clear_timeouts()
            self.close_streams()


class TCPClient:
    """Opens TCP connections, returning `.IOStream` objects.

    ``resolver`` defaults to a new `.Resolver` (closed with the client).

    .. versionchanged:: 5.0
       The ``io_loop`` argument has been removed.
    """

    def __init__(self, resolver: Optional[Resolver] = None) -> None:
        if resolver is not None:
            self.resolver = resolver
            self._own_resolver = False
        else:
            self.resolver = Resolver()
            self._own_resolver = True

    def close(self) -> None:
        """Closes the resolver if the client created it."""
        if self._own_resolver:
            self.resolver.close()

    async def connect(
        self,
        host: str,
        port: int,
        af: socket.AddressFamily = socket.AF_UNSPEC,
        ssl_options: Optional[Union[dict[str, Any], ssl.SSLContext]] = None,
        max_buffer_size: Optional[int] = None,
        source_ip: Optional[str] = None,
        source_port: Optional[int] = None,
        timeout: Optional[Union[float, datetime.timedelta]] = None,
    ) -> IOStream:
        """Connects to ``host``:``port`` and returns the `.IOStream`
        (an `.SSLIOStream` if ``ssl_options`` is given, which is then an
        `ssl.SSLContext` or a dictionary for `ssl.SSLContext.wrap_socket`;
        ``host`` is checked against the certificate).

        ``af`` restricts the address family.  ``source_ip`` and
        ``source_port`` bind the local end; with only a port, the loopback
        address of the family is used.  ``timeout`` (seconds or a
        `datetime.timedelta`) bounds the whole operation: resolving,
        connecting and the TLS handshake; on expiry it raises `TimeoutError`
        saying which step ran out of time, and closes what it opened.
        Cancelling the call also closes everything it opened.

        .. versionchanged:: 5.0
           Added the ``timeout`` argument.
        """
        deadline: Optional[float] = None
        if timeout is not None:
            if isinstance(timeout, numbers.Real):
                deadline = IOLoop.current().time() + float(timeout)
            elif isinstance(timeout, datetime.timedelta):
                deadline = IOLoop.current().time() + timeout.total_seconds()
            else:
                raise TypeError(f"Unsupported timeout {timeout!r}")
        resolving = self.resolver.resolve(host, port, af)
        if deadline is not None:
            addrinfo = await _until(
                deadline, resolving, f"Timeout while resolving {host}"
            )
        else:
            addrinfo = await resolving
        connector = _Connector(
            addrinfo,
            functools.partial(
                self._create_stream,
                max_buffer_size,
                source_ip=source_ip,
                source_port=source_port,
            ),
        )
        af, addr, stream = await connector.start(connect_timeout=deadline)
        if ssl_options is None:
            return stream
        handshake = stream.start_tls(
            False, ssl_options=ssl_options, server_hostname=host
        )
        if deadline is not None:
            return await _until(
                deadline,
                handshake,
                f"Timeout during TLS handshake with {_format_addr(addr)}",
            )
        return await handshake

    def _create_stream(
        self,
        max_buffer_size: Optional[int],
        af: socket.AddressFamily,
        addr: tuple,
        source_ip: Optional[str] = None,
        source_port: Optional[int] = None,
    ) -> tuple[IOStream, "Future[IOStream]"]:
        """Starts a plain TCP connection to ``addr``; returns the stream and
        its connect Future.  Raises if the local end can't be bound."""
        source_port_bind = source_port if isinstance(source_port, int) else 0
        source_ip_bind = source_ip
        if source_port_bind and not source_ip:
            # A port without an address: bind the loopback address of the
            # connection's family.
            source_ip_bind = "::1" if af == socket.AF_INET6 else "127.0.0.1"
        sock = socket.socket(af)
        if source_port_bind or source_ip_bind:
            try:
                sock.bind((source_ip_bind, source_port_bind))
            except BaseException:
                sock.close()
                raise
        try:
            stream = IOStream(sock, max_buffer_size=max_buffer_size)
        except BaseException:
            sock.close()
            raise
        return stream, stream.connect(addr)


async def _until(deadline: float, awaitable: Any, message: str) -> Any:
    """Awaits ``awaitable`` until the `.IOLoop.time` ``deadline``.

    On expiry it is cancelled (so that what it opened gets closed) and
    `TimeoutError` is raised with ``message``.
    """
    remaining = max(0.0, deadline - IOLoop.current().time())
    try:
        return await asyncio.wait_for(awaitable, remaining)
    except asyncio.TimeoutError:
        raise TimeoutError(message) from None
