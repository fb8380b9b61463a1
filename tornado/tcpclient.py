"""Outgoing TCP connections by host name: `TCPClient`.

A connection is made in three steps, each of which may be bounded by one
overall ``timeout``: the host name goes through a `.Resolver`, the
resulting addresses are raced against each other (the "Happy Eyeballs"
scheme of RFC 6555 and RFC 8305), and, if TLS was requested, the winning
`.IOStream` is upgraded with `.IOStream.start_tls`.

In the race, the addresses of whichever family the resolver listed first
are tried one at a time.  The other family gets a parallel chance as soon
as the first one fails or has been stalled for a short delay.  The first
attempt to connect wins; everything else that was opened is closed.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import numbers
import socket
from collections.abc import Callable, Iterator
from typing import Any, Optional, Tuple, Union  # noqa: F401 - Tuple: historical namespace

from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream
from tornado.netutil import Resolver, _SSLOptions

# Seconds the first family has to itself before the second joins in
# (RFC 8305 section 5 suggests a "Connection Attempt Delay" of 250ms).
_INITIAL_CONNECT_TIMEOUT = 0.3

_Address = tuple[socket.AddressFamily, Any]
_Outcome = tuple[socket.AddressFamily, Any, IOStream]
_Starter = Callable[[socket.AddressFamily, tuple], tuple[IOStream, Future]]


def _format_addr(addr: Any) -> str:
    """``host:port`` for a socket address, ``[host]:port`` for IPv6."""
    if isinstance(addr, tuple) and len(addr) >= 2:
        host, port = addr[0], addr[1]
        if len(addr) == 4 or ":" in str(host):
            return f"[{host}]:{port}"
        return f"{host}:{port}"
    return str(addr)


class _Connector:
    """One Happy Eyeballs race.

    ``connect(af, addr)`` launches a single attempt and gives back the
    stream together with a Future that resolves once it is connected;
    raising instead is the same as an attempt that failed straight away.
    `start` returns the race's Future, which ends as ``(af, addr, stream)``
    for the winner or with the last error seen.  Whatever way the race
    ends (won, lost, deadline, cancelled by the caller), all streams but
    the winner's are closed.
    """

    def __init__(self, addrinfo: list[tuple], connect: _Starter) -> None:
        self.io_loop = IOLoop.current()
        self.future: Future[_Outcome] = Future()
        self._launch = connect
        first, second = self.split(addrinfo)
        self._has_second = bool(second)
        self._first: Iterator[_Address] = iter(first)
        self._second: Iterator[_Address] = iter(second)
        self._second_running = False
        # Attempts started or skipped that have not yet failed; the race is
        # lost when this reaches zero with nothing won.
        self._unsettled = len(addrinfo)
        self._error: Optional[BaseException] = None
        # Streams opened and not handed to the caller.
        self.streams: set[Any] = set()
        # (af, addr) of attempts still in flight, named by a timeout error.
        self._in_flight: list[_Address] = []
        self._delay_handle: Optional[object] = None
        self._deadline_handle: Optional[object] = None
        self.future.add_done_callback(self._on_race_cancelled)

    @staticmethod
    def split(addrinfo: list[tuple]) -> tuple[list[tuple], list[tuple]]:
        """Separates the addresses of the leading family (that of the
        first entry) from the rest, each part in its original order."""
        lead = addrinfo[0][0]
        parts: tuple[list[tuple], list[tuple]] = ([], [])
        for family, address in addrinfo:
            parts[family != lead].append((family, address))
        return parts

    def start(
        self, timeout: float = _INITIAL_CONNECT_TIMEOUT, connect_timeout: Optional[float] = None
    ) -> "Future[_Outcome]":
        """Launches the first attempt.

        ``timeout`` is the delay, in seconds, before the second family is
        tried as well (it starts earlier if an attempt of the first family
        fails).  ``connect_timeout``, an `.IOLoop.time` value, ends the
        whole race with `TimeoutError`; without it the caller bounds the
        race, by calling `on_connect_timeout` or cancelling the Future.
        """
        self._next_attempt(self._first)
        if self.future.done():
            return self.future
        loop = self.io_loop
        if not self._second_running and self._has_second:
            # Without a second family there is nothing to start early: no
            # timer (the usual case of a single address).
            self._delay_handle = loop.add_timeout(loop.time() + timeout, self.on_timeout)
        if connect_timeout is not None:
            self._deadline_handle = loop.add_timeout(connect_timeout, self.on_connect_timeout)
        return self.future

    def _next_attempt(self, queue: Iterator[_Address]) -> None:
        """Launches the next address of ``queue``; addresses whose attempt
        cannot even start are counted as failures and skipped."""
        for family, address in queue:
            if self.future.done():
                return
            try:
                stream, connected = self._launch(family, address)
            except Exception as exc:
                self._record_failure(exc, queue)
                continue
            self.streams.add(stream)
            self._in_flight.append((family, address))
            connected.add_done_callback(
                functools.partial(self._attempt_finished, queue, family, address)
            )
            return
        # This queue has nothing left; the race may be lost now.
        if self._unsettled == 0 and not self.future.done():
            self.future.set_exception(self._error or IOError("connection failed"))
            self._wind_down()

    def _record_failure(self, exc: BaseException, queue: Iterator[_Address]) -> None:
        self._unsettled -= 1
        self._error = exc
        if queue is self._first:
            self._open_second()

    def _attempt_finished(
        self, queue: Iterator[_Address], family: socket.AddressFamily, address: Any,
        connected: "Future[IOStream]",
    ) -> None:
        if (family, address) in self._in_flight:
            self._in_flight.remove((family, address))
        if connected.cancelled():
            failure: Optional[BaseException] = IOError(
                f"connection attempt to {_format_addr(address)} was cancelled"
            )
        else:
            failure = connected.exception()
        if failure is None:
            self._won(family, address, connected.result())
            return
        self._unsettled -= 1
        if self.future.done():
            return
        self._error = failure
        self._next_attempt(queue)
        if queue is self._first:
            self._open_second()

    def _won(self, family: socket.AddressFamily, address: Any, stream: IOStream) -> None:
        self._unsettled -= 1
        if self.future.done():
            # Connected after the race was already decided.
            stream.close()
            return
        self.streams.discard(stream)
        self.future.set_result((family, address, stream))
        self._wind_down()

    def _open_second(self) -> None:
        if self._second_running:
            return
        self._second_running = True
        self._cancel_delay()
        self._next_attempt(self._second)

    def on_timeout(self) -> None:
        """The first family's head start is over."""
        self._delay_handle = None
        if not self.future.done():
            self._open_second()

    def on_connect_timeout(self) -> None:
        """The deadline of the whole race has come."""
        self._deadline_handle = None
        if not self.future.done():
            waiting = sorted(_format_addr(address) for _, address in self._in_flight)
            self.future.set_exception(
                TimeoutError("Timeout while connecting to " + ", ".join(waiting))
            )
        self._close_losers()

    def _cancel_delay(self) -> None:
        if self._delay_handle is not None:
            self.io_loop.remove_timeout(self._delay_handle)
            self._delay_handle = None

    def _wind_down(self) -> None:
        self._cancel_delay()
        if self._deadline_handle is not None:
            self.io_loop.remove_timeout(self._deadline_handle)
            self._deadline_handle = None
        self._close_losers()

    def _close_losers(self) -> None:
        for stream in self.streams:
            stream.close()

    def _on_race_cancelled(self, future: Future) -> None:
        # The caller gave up: stop the timers and close every attempt.
        if future.cancelled():
            self._wind_down()


def _seconds(timeout: Union[float, datetime.timedelta]) -> float:
    """``timeout`` (seconds or a `datetime.timedelta`) in seconds."""
    if type(timeout) is float or type(timeout) is int:
        # The usual case, without the slower ABC check below.
        return timeout
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    if isinstance(timeout, numbers.Real):
        return float(timeout)
    raise TypeError(f"Unsupported timeout {timeout!r}")


class _Deadline:
    """The one timer that bounds a whole `TCPClient.connect`.

    A single timer covers every step, instead of a timer (and, with
    `asyncio.wait_for`, a Task) per step; and it is only armed once a step
    actually has to wait (`arm`): a numeric host on a loopback address is
    usually resolved and connected without waiting at all.  When it fires,
    the step in progress is ended: a Happy Eyeballs race through its own
    ``on_connect_timeout`` (which names the addresses still pending), any
    other step (the resolver, a single connection attempt, the TLS
    handshake) by cancelling the Task running ``connect``, which
    `timed_out` turns into `TimeoutError`.
    """

    def __init__(self, seconds: float, task: "asyncio.Task[Any]") -> None:
        self.expired = False
        self.race: Optional[_Connector] = None
        self._task = task
        # The Task's asyncio loop keeps the time: a relative timeout needs
        # no conversion from IOLoop time.
        self._loop = task.get_loop()
        self._when = self._loop.time() + seconds
        self._handle: Optional[asyncio.TimerHandle] = None

    def arm(self) -> None:
        """Starts the timer, unless it runs already."""
        if self._handle is None and not self.expired:
            self._handle = self._loop.call_at(self._when, self._expire)

    def _expire(self) -> None:
        self._handle = None
        self.expired = True
        race = self.race
        if race is not None and not race.future.done():
            race.on_connect_timeout()
        else:
            self._task.cancel()

    def timed_out(self) -> bool:
        """Called on `asyncio.CancelledError`: whether the cancellation was
        ours (and no other is pending), so that `TimeoutError` should be
        raised in its place."""
        return self.expired and self._task.uncancel() == 0

    def disarm(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()


_Timeout = Union[float, datetime.timedelta]


class TCPClient:
    """Makes `.IOStream` connections to hosts given by name.

    Names are looked up with ``resolver``; without one the client makes
    its own `.Resolver` and closes it in `close`.

    .. versionchanged:: 5.0
       No more ``io_loop`` argument.
    """

    def __init__(self, resolver: Optional[Resolver] = None) -> None:
        self._owns_resolver = resolver is None
        self.resolver = Resolver() if resolver is None else resolver

    def close(self) -> None:
        """Releases the resolver, if this client made it."""
        if self._owns_resolver:
            self.resolver.close()

    async def connect(
        self, host: str, port: int, af: socket.AddressFamily = socket.AF_UNSPEC,
        ssl_options: Optional[_SSLOptions] = None, max_buffer_size: Optional[int] = None,
        source_ip: Optional[str] = None, source_port: Optional[int] = None,
        timeout: Optional[_Timeout] = None,
    ) -> IOStream:
        """Opens a connection to ``port`` on ``host`` and returns its stream.

        ``af`` limits the address family looked up.  With ``ssl_options``
        (an `ssl.SSLContext`, or a dict of `ssl.SSLContext.wrap_socket`
        arguments) TLS is negotiated and an `.SSLIOStream` is returned;
        the certificate is checked against ``host``.

        ``source_ip`` and/or ``source_port`` choose the local address;
        a port given alone is bound on the loopback address of the
        family being tried.

        ``timeout``, in seconds or as a `datetime.timedelta`, limits the
        whole call.  Running out raises `TimeoutError` naming the step
        (resolving, connecting or the TLS handshake), after closing what
        had been opened; cancelling the call closes it likewise.

        .. versionchanged:: 5.0
           ``timeout``.
        """
        deadline = None
        if timeout is not None:
            task = asyncio.current_task()
            if task is None:
                # Driven by hand rather than by a Task: there is nothing to
                # cancel on expiry, so give it a Task of its own.
                return await asyncio.ensure_future(
                    self.connect(
                        host, port, af, ssl_options, max_buffer_size,
                        source_ip, source_port, timeout,
                    )
                )
            deadline = _Deadline(_seconds(timeout), task)
        # What a timeout interrupts: the host name while resolving, the
        # address while connecting or during the TLS handshake.
        resolving, tls, address = True, False, None
        try:
            resolver = self.resolver
            at_once = getattr(resolver, "_answer_at_once", None)
            addrinfo = None if at_once is None else at_once(host, port, af)
            if addrinfo is None:
                if deadline is not None:
                    deadline.arm()
                addrinfo = await resolver.resolve(host, port, af)
            resolving = False

            def attempt(family: socket.AddressFamily, address: tuple) -> tuple[IOStream, Future]:
                # Keywords, as subclasses may override _create_stream with
                # them.
                return self._create_stream(
                    max_buffer_size, family, address,
                    source_ip=source_ip, source_port=source_port,
                )

            if len(addrinfo) == 1:
                # A single address (a numeric host, one A record) leaves no
                # race to run: connect to it without the _Connector's
                # timers and the Future hop between its attempt and its
                # outcome.  On expiry the deadline cancels the attempt.
                family, address = addrinfo[0]
                stream, connected = attempt(family, address)
                try:
                    if (
                        deadline is not None
                        and not connected.done()
                        # Established inside connect() (a local peer), the
                        # stream only reports it on the next poll: nothing
                        # to time.
                        and not getattr(stream, "_established_early", False)
                    ):
                        deadline.arm()
                    stream = await connected
                except BaseException:
                    stream.close()
                    raise
            else:
                race = _Connector(addrinfo, attempt)
                if deadline is not None:
                    deadline.race = race
                    deadline.arm()
                # The race's TimeoutError, if the deadline ends it, names
                # the addresses still pending.
                _, address, stream = await race.start()
                if deadline is not None:
                    deadline.race = None
            if ssl_options is None:
                return stream
            tls = True
            if deadline is not None:
                deadline.arm()
            return await stream.start_tls(False, ssl_options=ssl_options, server_hostname=host)
        except asyncio.CancelledError:
            if deadline is not None and deadline.timed_out():
                if resolving:
                    raise TimeoutError(f"Timeout while resolving {host}") from None
                step = "during TLS handshake with" if tls else "while connecting to"
                raise TimeoutError(f"Timeout {step} {_format_addr(address)}") from None
            raise
        finally:
            if deadline is not None:
                deadline.disarm()

    def _create_stream(
        self, max_buffer_size: Optional[int], af: socket.AddressFamily, addr: tuple,
        source_ip: Optional[str] = None, source_port: Optional[int] = None,
    ) -> tuple[IOStream, "Future[IOStream]"]:
        """Opens a socket of family ``af``, binds it locally if asked, and
        starts connecting it to ``addr``.

        Returns the stream and the Future of its connection; raises (after
        closing the socket) when the socket cannot be set up.
        """
        local_port = source_port if isinstance(source_port, int) else 0
        local_ip = source_ip
        if local_port and not local_ip:
            local_ip = "::1" if af == socket.AF_INET6 else "127.0.0.1"
        sock = socket.socket(af)
        try:
            if local_ip or local_port:
                sock.bind((local_ip, local_port))
            stream = IOStream(sock, max_buffer_size=max_buffer_size)
        except BaseException:
            sock.close()
            raise
        return stream, stream.connect(addr)
