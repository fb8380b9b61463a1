"""`CaresResolver`: a non-blocking, thread-free `.Resolver` built on c-ares
(the ``pycares`` package, versions 4 and 5).

c-ares's sockets are watched by the `.IOLoop` (through the channel's
``sock_state_cb``), and its retry timers are driven by a loop timeout, so
every callback runs on the loop's thread.
"""

import socket
from typing import Any, Optional

from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.netutil import Resolver, _literal_or_family_error

try:
    import pycares as _pycares
except ImportError:  # pragma: no cover - CaresResolver() then raises
    _pycares = None


def _text(value: Any) -> str:
    # pycares hands addresses out as bytes in some versions.
    if isinstance(value, bytes):
        return value.decode("ascii")
    return value


class CaresResolver(Resolver):
    """Name resolver based on the c-ares library.

    It doesn't block and needs no threads.  Its answers may differ from the
    system resolver's (c-ares reads ``/etc/hosts`` and ``resolv.conf``
    itself and knows nothing of NSS modules).

    .. versionchanged:: 5.0
       The ``io_loop`` argument has been removed.
    .. deprecated:: 6.2
       Thread pools are cheap enough that the default `.Resolver` is the
       better choice.
    """

    def initialize(self) -> None:  # type: ignore[override]
        if _pycares is None:
            raise ImportError("CaresResolver needs the pycares package")
        self.io_loop = IOLoop.current()
        # With a sock_state_cb, c-ares runs no thread of its own and calls
        # back from process_fd, i.e. on our loop.
        self.channel = _pycares.Channel(sock_state_cb=self._sock_state_cb)
        self.fds: dict[int, int] = {}
        self._queries = 0
        self._timer: Optional[object] = None

    def _sock_state_cb(self, fd: int, readable: bool, writable: bool) -> None:
        # c-ares says which of its sockets it wants watched, and for what;
        # mirror that in the IOLoop's registrations.
        wanted = IOLoop.NONE
        if readable:
            wanted |= IOLoop.READ
        if writable:
            wanted |= IOLoop.WRITE
        registered = self.fds.get(fd)
        if registered is None:
            if wanted:
                self.io_loop.add_handler(fd, self._handle_events, wanted)
                self.fds[fd] = wanted
        elif not wanted:
            del self.fds[fd]
            self.io_loop.remove_handler(fd)
        elif wanted != registered:
            self.fds[fd] = wanted
            self.io_loop.update_handler(fd, wanted)

    def _handle_events(self, fd: int, events: int) -> None:
        # process_fd takes a read fd and a write fd, ARES_SOCKET_BAD for none.
        unused = _pycares.ARES_SOCKET_BAD
        self.channel.process_fd(
            fd if events & IOLoop.READ else unused, fd if events & IOLoop.WRITE else unused
        )
        self._schedule_timer()

    def _schedule_timer(self) -> None:
        # c-ares retries and gives up on its own clock; it learns the time
        # has come only when process_fd is called.
        if self._timer is not None:
            self.io_loop.remove_timeout(self._timer)
            self._timer = None
        if self._queries:
            delay = self.channel.timeout(1.0)
            self._timer = self.io_loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        bad = _pycares.ARES_SOCKET_BAD
        self.channel.process_fd(bad, bad)
        self._schedule_timer()

    def _lookup(self, host: str, port: int, family: int) -> "Future[Any]":
        """Starts c-ares's getaddrinfo; resolves to its result object."""
        future: Future[Any] = Future()

        def callback(result: Any, error: Optional[int]) -> None:
            self._queries -= 1
            if future.cancelled():
                return
            if error:
                future.set_exception(
                    IOError(
                        "C-Ares returned error %s: %s while resolving %s"
                        % (error, _pycares.errno.strerror(error), host)
                    )
                )
            else:
                future.set_result(result)

        self._queries += 1
        try:
            # pycares 4 takes the callback as third positional argument,
            # pycares 5 as a keyword only; the keyword suits both.
            self.channel.getaddrinfo(
                host, port, family=family, type=socket.SOCK_STREAM, callback=callback
            )
        except BaseException:
            self._queries -= 1
            raise
        self._schedule_timer()
        return future

    async def resolve(  # type: ignore[override]
        self, host: str, port: int, family: int = 0
    ) -> list[tuple[int, Any]]:
        literal = _literal_or_family_error(host, port, family)
        if literal is not None:
            return literal
        result = await self._lookup(host, port, family)
        addrinfo: list[tuple[int, Any]] = []
        for node in result.nodes:
            address = (_text(node.addr[0]), port)
            if node.family == socket.AF_INET6 and len(node.addr) == 4 and node.addr[3]:
                # A scoped (link-local) address needs its interface.
                address = address + (node.addr[2], node.addr[3])
            entry = (node.family, address)
            if entry not in addrinfo:
                addrinfo.append(entry)
        if not addrinfo:
            raise IOError(f"C-Ares found no addresses for {host}")
        return addrinfo
