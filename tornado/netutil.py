"""Socket helpers: listening sockets, accept loops, name resolution and TLS setup.

Servers use `bind_sockets` (or `bind_unix_socket`) to open listening
sockets and `add_accept_handler` to accept connections on the `.IOLoop`;
`.TCPServer` is built from exactly these two.  Clients resolve names through
a `Resolver`, a `.Configurable` interface whose default implementation asks
the asyncio event loop (and so the system's ``getaddrinfo`` in a thread).
`ssl_options_to_context` turns the dictionary form of TLS settings that
Tornado has accepted since its early days into an `ssl.SSLContext`.
"""

import concurrent.futures
import errno
import os
import socket
import ssl
import stat
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Optional, Union

from tornado.concurrent import dummy_executor
from tornado.ioloop import IOLoop
from tornado.util import Configurable, errno_from_exception

# Looking up a non-ASCII host name needs the "idna" codec.  Importing it
# lazily from a resolver thread while another thread holds the import lock
# (for instance a module that resolves a name at import time) deadlocks, so
# load the codecs now, while we are being imported.
"foo".encode("idna")
"foo".encode("latin1")

# Same default as socket.listen(); also caps how many connections one
# readiness event may accept, so a flood of clients can't starve the loop.
_DEFAULT_BACKLOG = 128

# Client and server TLS defaults, used when a caller asks for TLS without
# saying how.  The client side verifies certificates and host names against
# the system's trust store.
_client_ssl_defaults = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
_server_ssl_defaults = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
if hasattr(ssl, "OP_NO_COMPRESSION"):
    # CRIME: compression leaks the length of secrets (CVE-2012-4929).
    _client_ssl_defaults.options |= ssl.OP_NO_COMPRESSION
    _server_ssl_defaults.options |= ssl.OP_NO_COMPRESSION

# The keys of the dictionary form of ``ssl_options`` (they mirror the
# arguments of the old ``ssl.wrap_socket`` function).
_SSL_CONTEXT_KEYWORDS = frozenset(
    ["ssl_version", "certfile", "keyfile", "cert_reqs", "ca_certs", "ciphers"]
)


def bind_sockets(
    port: int,
    address: Optional[str] = None,
    family: socket.AddressFamily = socket.AF_UNSPEC,
    backlog: int = _DEFAULT_BACKLOG,
    flags: Optional[int] = None,
    reuse_port: bool = False,
) -> list[socket.socket]:
    """Creates non-blocking listening sockets bound to ``port`` on ``address``.

    One socket is returned for each address the name maps to (typically one
    IPv4 and one IPv6 socket for ``localhost`` or for all interfaces).  An
    ``address`` of ``None`` or ``""`` listens on every interface.  ``family``
    may be ``AF_INET`` or ``AF_INET6`` to restrict to one protocol.
    ``backlog`` is passed to `socket.socket.listen`; ``flags`` is a mask of
    ``AI_*`` flags for ``getaddrinfo`` (default ``AI_PASSIVE``).

    With ``port=0`` the operating system picks a free port for the first
    socket and every further socket is bound to that same port.

    ``reuse_port`` sets ``SO_REUSEPORT`` on every socket, so that several
    processes can listen on the same port; `ValueError` is raised where the
    platform lacks that option.
    """
    if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        raise ValueError("the platform doesn't support SO_REUSEPORT")
    if address == "":
        address = None
    if not socket.has_ipv6 and family == socket.AF_UNSPEC:
        # Python built without IPv6 can't create AF_INET6 sockets even
        # when getaddrinfo returns such addresses.
        family = socket.AF_INET
    if flags is None:
        flags = socket.AI_PASSIVE
    infos = socket.getaddrinfo(address, port, family, socket.SOCK_STREAM, 0, flags)
    sockets: list[socket.socket] = []
    bound_port: Optional[int] = None
    seen: set[tuple[Any, ...]] = set()
    try:
        # Sorting by family puts IPv4 first, so with port 0 the IPv4 socket
        # picks the port and IPv6 follows.
        for af, socktype, proto, _canonname, sockaddr in sorted(
            infos, key=lambda info: info[0]
        ):
            if (af, sockaddr) in seen:
                continue
            seen.add((af, sockaddr))
            if (
                sys.platform == "darwin"
                and address == "localhost"
                and af == socket.AF_INET6
                and sockaddr[3] != 0
            ):
                # macOS also lists the link-local fe80::1%lo0 for localhost;
                # binding it fails once the port is shared with ::1.
                continue
            sock = _listening_socket(af, socktype, proto, reuse_port)
            if sock is None:
                continue
            if sockaddr[1] == 0 and bound_port is not None:
                sockaddr = (sockaddr[0], bound_port) + tuple(sockaddr[2:])
            try:
                sock.bind(sockaddr)
            except OSError as e:
                sock.close()
                if (
                    errno_from_exception(e) == errno.EADDRNOTAVAIL
                    and address == "localhost"
                    and sockaddr[0] == "::1"
                ):
                    # /etc/hosts maps localhost to ::1 on machines whose
                    # loopback interface has no IPv6 address.
                    continue
                raise
            bound_port = sock.getsockname()[1]
            sock.listen(backlog)
            sockets.append(sock)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _listening_socket(
    af: int, socktype: int, proto: int, reuse_port: bool
) -> Optional[socket.socket]:
    """A non-blocking socket with the options every listener wants, or
    None if this kind of socket is not supported here."""
    try:
        sock = socket.socket(af, socktype, proto)
    except OSError as e:
        if errno_from_exception(e) == errno.EAFNOSUPPORT:
            return None
        raise
    try:
        if os.name != "nt":
            # Lets a restarted server bind while old connections linger
            # in TIME_WAIT.  (On Windows it would allow port hijacking.)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if af == socket.AF_INET6:
            # Each family gets its own socket; without V6ONLY an IPv6
            # socket on :: would also claim the IPv4 port.
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


if hasattr(socket, "AF_UNIX"):

    def bind_unix_socket(
        file: str, mode: int = 0o600, backlog: int = _DEFAULT_BACKLOG
    ) -> socket.socket:
        """Creates a non-blocking listening unix socket at path ``file``.

        A stale socket file at that path is removed first; any other kind
        of file there makes this raise `ValueError`.  The socket file gets
        permissions ``mode``.  A name starting with a NUL byte is an
        abstract socket (Linux): it has no file, so neither applies.
        Returns one socket (not a list, unlike `bind_sockets`).
        """
        abstract = file.startswith("\0")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            except OSError as e:
                if errno_from_exception(e) != errno.ENOPROTOOPT:
                    # Some kernels refuse the option on unix sockets.
                    raise
            sock.setblocking(False)
            if not abstract:
                try:
                    st = os.stat(file)
                except FileNotFoundError:
                    pass
                else:
                    if not stat.S_ISSOCK(st.st_mode):
                        raise ValueError(f"File {file} exists and is not a socket")
                    os.remove(file)
            sock.bind(file)
            if not abstract:
                os.chmod(file, mode)
            sock.listen(backlog)
        except BaseException:
            sock.close()
            raise
        return sock


def add_accept_handler(
    sock: socket.socket, callback: Callable[[socket.socket, Any], None]
) -> Callable[[], None]:
    """Accepts connections on the listening socket ``sock`` on the current
    `.IOLoop`, calling ``callback(connection, address)`` for each one.

    Returns a function that stops accepting (it unregisters ``sock`` from
    the loop; closing the socket is left to the caller).  It may be called
    from within ``callback``: no further connection is accepted after that.
    """
    io_loop = IOLoop.current()
    removed = False

    def accept_handler(fd: Any, events: int) -> None:
        # Accept what is queued, but at most a backlog's worth per event so
        # that a busy listener yields to other work.  Stop as soon as the
        # handler is removed: the socket may be closed by then.
        for _ in range(_DEFAULT_BACKLOG):
            if removed:
                return
            try:
                connection, address = sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                # The client gave up before we got to it (ECONNABORTED).
                continue
            callback(connection, address)

    def remove_handler() -> None:
        nonlocal removed
        io_loop.remove_handler(sock)
        removed = True

    io_loop.add_handler(sock, accept_handler, IOLoop.READ)
    return remove_handler


def is_valid_ip(ip: str) -> bool:
    """Returns True if ``ip`` is an IPv4 or IPv6 address literal."""
    if not ip or "\x00" in ip:
        # getaddrinfo truncates at a NUL, which would accept "1.2.3.4\0junk".
        return False
    try:
        infos = socket.getaddrinfo(
            ip, 0, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST
        )
    except socket.gaierror as e:
        if e.args[0] == socket.EAI_NONAME:
            return False
        raise
    except UnicodeError:
        # The idna codec rejects things that are no IP address anyway,
        # such as a label longer than 63 characters.
        return False
    return bool(infos)


class Resolver(Configurable):
    """Configurable asynchronous name resolution.

    ``Resolver()`` creates the configured implementation, by default
    `DefaultLoopResolver`.  Choose another one with
    ``Resolver.configure("tornado.netutil.ThreadedResolver")``.
    The implementations that come with Tornado are `DefaultLoopResolver`,
    `DefaultExecutorResolver`, `ThreadedResolver`, `BlockingResolver`,
    `OverrideResolver` and `tornado.platform.caresresolver.CaresResolver`.
    """

    @classmethod
    def configurable_base(cls) -> type["Resolver"]:
        return Resolver

    @classmethod
    def configurable_default(cls) -> type["Resolver"]:
        return DefaultLoopResolver

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Awaitable[list[tuple[int, Any]]]:
        """Resolves ``host`` (a name or an IP literal) for a TCP connection.

        Returns an awaitable whose result is a list of ``(family, address)``
        pairs, each address suitable for `socket.socket.connect` on a socket
        of that family.  ``family`` restricts the answer to ``AF_INET`` or
        ``AF_INET6``.  Resolution failures raise an `OSError`
        (`socket.gaierror` for ``getaddrinfo``-based resolvers).
        """
        raise NotImplementedError()

    def close(self) -> None:
        """Releases what the resolver holds (threads, sockets)."""
        pass


def _numeric_addrinfo(
    host: str, port: int, family: int
) -> Optional[list[tuple[int, Any]]]:
    """The answer for an IP literal, without a trip to ``getaddrinfo`` (and
    its thread); None for anything else."""
    if family in (socket.AF_UNSPEC, socket.AF_INET):
        try:
            socket.inet_pton(socket.AF_INET, host)
        except (OSError, ValueError, TypeError):
            pass
        else:
            return [(socket.AF_INET, (host, port))]
    if family in (socket.AF_UNSPEC, socket.AF_INET6):
        try:
            socket.inet_pton(socket.AF_INET6, host)
        except (OSError, ValueError, TypeError):
            pass
        else:
            return [(socket.AF_INET6, (host, port, 0, 0))]
    return None


def _resolve_addr(
    host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
) -> list[tuple[int, Any]]:
    # SOCK_STREAM keeps getaddrinfo from listing each address once per
    # socket type.
    infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    return [(af, sockaddr) for af, _type, _proto, _name, sockaddr in infos]


class DefaultExecutorResolver(Resolver):
    """Runs the blocking ``getaddrinfo`` in the `.IOLoop`'s default executor.

    .. deprecated:: 6.2
       Use `DefaultLoopResolver`.
    """

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        numeric = _numeric_addrinfo(host, port, family)
        if numeric is not None:
            return numeric
        return await IOLoop.current().run_in_executor(
            None, _resolve_addr, host, port, family
        )


class DefaultLoopResolver(Resolver):
    """Resolves through the asyncio event loop's ``getaddrinfo`` (the default)."""

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        numeric = _numeric_addrinfo(host, port, family)
        if numeric is not None:
            return numeric
        infos = await IOLoop.current().asyncio_loop.getaddrinfo(  # type: ignore[attr-defined]
            host, port, family=family, type=socket.SOCK_STREAM
        )
        return [(af, sockaddr) for af, _type, _proto, _name, sockaddr in infos]


class ExecutorResolver(Resolver):
    """Runs the blocking ``getaddrinfo`` on a `concurrent.futures.Executor`.

    The executor is shut down when the resolver is closed, unless
    ``close_executor=False`` (for an executor shared with other code).
    Without an executor, lookups run synchronously on the calling thread.

    .. deprecated:: 5.0
       The default `Resolver` already uses a thread pool.
    """

    def initialize(
        self,
        executor: Optional[concurrent.futures.Executor] = None,
        close_executor: bool = True,
    ) -> None:
        if executor is not None:
            self.executor: Optional[concurrent.futures.Executor] = executor
            self.close_executor = close_executor
        else:
            self.executor = dummy_executor
            self.close_executor = False

    def close(self) -> None:
        if self.close_executor and self.executor is not None:
            self.executor.shutdown()
        self.executor = None

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Awaitable[list[tuple[int, Any]]]:
        if self.executor is None:
            raise RuntimeError("resolve() called on a closed resolver")
        return IOLoop.current().run_in_executor(
            self.executor, _resolve_addr, host, port, family
        )


class BlockingResolver(ExecutorResolver):
    """Calls ``getaddrinfo`` synchronously, blocking the `.IOLoop`.

    .. deprecated:: 5.0
       The default `Resolver` does not block.
    """

    def initialize(self) -> None:  # type: ignore[override]
        super().initialize()


class ThreadedResolver(ExecutorResolver):
    """Runs ``getaddrinfo`` on a thread pool shared by every instance.

    The pool has ``num_threads`` threads, fixed by the first instance
    created in a process (a forked child gets a fresh pool).

    .. deprecated:: 5.0
       The default `Resolver` already uses a thread pool.
    """

    _threadpool: Optional[concurrent.futures.ThreadPoolExecutor] = None
    _threadpool_pid: Optional[int] = None

    def initialize(self, num_threads: int = 10) -> None:  # type: ignore[override]
        pool = ThreadedResolver._create_threadpool(num_threads)
        super().initialize(executor=pool, close_executor=False)

    @classmethod
    def _create_threadpool(
        cls, num_threads: int
    ) -> concurrent.futures.ThreadPoolExecutor:
        pid = os.getpid()
        if cls._threadpool_pid != pid:
            # The pool's threads did not survive a fork.
            cls._threadpool = None
        if cls._threadpool is None:
            cls._threadpool = concurrent.futures.ThreadPoolExecutor(num_threads)
            cls._threadpool_pid = pid
        return cls._threadpool


class OverrideResolver(Resolver):
    """Answers some names from a fixed ``mapping``, the rest through ``resolver``.

    Keys of ``mapping`` are ``host``, ``(host, port)`` or
    ``(host, port, family)``; values are a replacement host (for a bare host
    key) or a ``(host, port)`` pair, which is then resolved by ``resolver``.
    The most specific key wins.  Handy for tests, or to point a name at
    another address without touching ``/etc/hosts``.
    """

    def initialize(self, resolver: Resolver, mapping: dict) -> None:  # type: ignore[override]
        self.resolver = resolver
        self.mapping = mapping

    def close(self) -> None:
        self.resolver.close()

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Awaitable[list[tuple[int, Any]]]:
        if (host, port, family) in self.mapping:
            host, port = self.mapping[(host, port, family)]
        elif (host, port) in self.mapping:
            host, port = self.mapping[(host, port)]
        elif host in self.mapping:
            host = self.mapping[host]
        return self.resolver.resolve(host, port, family)


def ssl_options_to_context(
    ssl_options: Union[dict[str, Any], ssl.SSLContext],
    server_side: Optional[bool] = None,
) -> ssl.SSLContext:
    """Returns an `ssl.SSLContext` for ``ssl_options``.

    An `ssl.SSLContext` is returned as it is.  A dictionary may hold the
    keys ``ssl_version``, ``certfile``, ``keyfile``, ``cert_reqs``,
    ``ca_certs`` and ``ciphers`` (the arguments of the old
    ``ssl.wrap_socket``); an unknown key raises `ValueError`.

    ``server_side`` picks the protocol for the dictionary form:
    ``PROTOCOL_TLS_SERVER`` when true, ``PROTOCOL_TLS_CLIENT`` when false.
    Leaving it out uses the generic ``PROTOCOL_TLS``, which Python deprecates
    (a `DeprecationWarning` on Python 3.10+).  A client context checks
    certificates and host names unless ``cert_reqs`` is ``CERT_NONE``.
    """
    if isinstance(ssl_options, ssl.SSLContext):
        return ssl_options
    if not isinstance(ssl_options, dict):
        raise TypeError(f"ssl_options must be a dict or an SSLContext, not {ssl_options!r}")
    unknown = set(ssl_options) - _SSL_CONTEXT_KEYWORDS
    if unknown:
        raise ValueError(f"unknown ssl_options keys: {sorted(unknown)}")
    if server_side:
        default_protocol = ssl.PROTOCOL_TLS_SERVER
    elif server_side is not None:
        default_protocol = ssl.PROTOCOL_TLS_CLIENT
    else:
        default_protocol = ssl.PROTOCOL_TLS
    context = ssl.SSLContext(ssl_options.get("ssl_version", default_protocol))
    if "certfile" in ssl_options:
        context.load_cert_chain(ssl_options["certfile"], ssl_options.get("keyfile"))
    if "cert_reqs" in ssl_options:
        if ssl_options["cert_reqs"] == ssl.CERT_NONE:
            # A context can't skip verification while it checks host names.
            context.check_hostname = False
        context.verify_mode = ssl_options["cert_reqs"]
    if "ca_certs" in ssl_options:
        context.load_verify_locations(ssl_options["ca_certs"])
    elif server_side is False and context.verify_mode != ssl.CERT_NONE:
        # A client that verifies needs something to verify against.
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if "ciphers" in ssl_options:
        context.set_ciphers(ssl_options["ciphers"])
    if hasattr(ssl, "OP_NO_COMPRESSION"):
        context.options |= ssl.OP_NO_COMPRESSION
    return context


def ssl_wrap_socket(
    socket: socket.socket,
    ssl_options: Union[dict[str, Any], ssl.SSLContext],
    server_hostname: Optional[str] = None,
    server_side: Optional[bool] = None,
    **kwargs: Any,
) -> ssl.SSLSocket:
    """Wraps ``socket`` in TLS according to ``ssl_options``.

    ``ssl_options`` is an `ssl.SSLContext` or a dictionary as accepted by
    `ssl_options_to_context`.  ``server_hostname`` is sent for SNI and
    checked against the peer's certificate (client side only).  Other
    keyword arguments go to `ssl.SSLContext.wrap_socket`.
    """
    context = ssl_options_to_context(ssl_options, server_side=server_side)
    if server_side is None:
        server_side = False
    return context.wrap_socket(
        socket, server_hostname=server_hostname, server_side=server_side, **kwargs
    )
