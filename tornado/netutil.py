"""Socket-level building blocks shared by Tornado's servers and clients.

* Listening: `bind_sockets` and `bind_unix_socket` open non-blocking
  listening sockets; `add_accept_handler` accepts on them from the
  `.IOLoop`.  `.TCPServer` is assembled from these.
* Name lookup: `Resolver` is a `.Configurable` interface with several
  implementations; the default one uses the asyncio loop's
  ``getaddrinfo`` and answers IP literals without any lookup.
* TLS: `ssl_options_to_context` and `ssl_wrap_socket` accept either an
  `ssl.SSLContext` or the older dict of ``ssl.wrap_socket``-style keywords.
"""

from __future__ import annotations

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

# Encoding a non-ASCII name needs the "idna" codec, which Python imports on
# first use.  If that first use happens in a resolver thread while the main
# thread is in the middle of an import (say, a module that does a lookup at
# import time), the two wait on the import lock forever.  Using the codecs
# once here, during our own import, rules that out.
for _codec in ("idna", "latin1"):
    "tornado".encode(_codec)
del _codec

# socket.listen()'s usual queue length; add_accept_handler also uses it as
# the most connections taken per readiness event, so that a burst of
# clients cannot monopolize the loop.
_DEFAULT_BACKLOG = 128


def _tls_defaults(purpose: ssl.Purpose) -> ssl.SSLContext:
    """The context used when TLS is asked for with no options: the system
    trust store, and (against CRIME, CVE-2012-4929) no compression."""
    ctx = ssl.create_default_context(purpose)
    ctx.options |= getattr(ssl, "OP_NO_COMPRESSION", 0)
    return ctx


# The two default contexts, made on first use: a client context loads the
# system's CA store, which is the largest single cost of importing
# tornado.web otherwise.  ``_client_ssl_defaults`` and
# ``_server_ssl_defaults`` stay readable as module attributes (PEP 562).
_DEFAULT_CONTEXTS: dict[bool, ssl.SSLContext] = {}


def _default_tls_context(server_side: bool) -> ssl.SSLContext:
    """The shared context for TLS without options (server or client side)."""
    ctx = _DEFAULT_CONTEXTS.get(server_side)
    if ctx is None:
        purpose = ssl.Purpose.CLIENT_AUTH if server_side else ssl.Purpose.SERVER_AUTH
        ctx = _DEFAULT_CONTEXTS.setdefault(server_side, _tls_defaults(purpose))
    return ctx


def __getattr__(name: str) -> Any:
    if name == "_client_ssl_defaults":
        return _default_tls_context(False)
    if name == "_server_ssl_defaults":
        return _default_tls_context(True)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# What the dict form of ssl_options may contain: the arguments of the
# long-gone ssl.wrap_socket() function.
_SSL_CONTEXT_KEYWORDS = frozenset("ssl_version certfile keyfile cert_reqs ca_certs ciphers".split())

_AddrInfo = list[tuple[int, Any]]
_SSLOptions = Union[dict[str, Any], ssl.SSLContext]


def _listen_targets(
    address: Optional[str], port: int, family: int, flags: int
) -> list[tuple[int, int, int, Any]]:
    """``(family, type, proto, sockaddr)`` for every distinct place to
    listen on, IPv4 ahead of IPv6 (so that with port 0 the IPv4 socket
    chooses the port the others then reuse)."""
    found = socket.getaddrinfo(address, port, family, socket.SOCK_STREAM, 0, flags)
    targets: list[tuple[int, int, int, Any]] = []
    seen = set()
    for af, kind, proto, _name, sockaddr in sorted(found, key=lambda entry: entry[0]):
        if (af, sockaddr) in seen:
            continue
        seen.add((af, sockaddr))
        # macOS answers "localhost" with the link-local fe80::1%lo0 as well
        # (the scope id is sockaddr[3]); it cannot share a port with ::1.
        macos_link_local = (
            sys.platform == "darwin" and address == "localhost"
            and af == socket.AF_INET6 and sockaddr[3] != 0
        )
        if not macos_link_local:
            targets.append((af, kind, proto, sockaddr))
    return targets


def bind_sockets(
    port: int, address: Optional[str] = None, family: socket.AddressFamily = socket.AF_UNSPEC,
    backlog: int = _DEFAULT_BACKLOG, flags: Optional[int] = None, reuse_port: bool = False,
) -> list[socket.socket]:
    """Opens non-blocking sockets listening on ``port``.

    ``address`` may be a host name or IP literal; a name can stand for
    several addresses (``localhost`` is often both 127.0.0.1 and ::1), and
    there is one socket per address.  ``None`` or ``""`` means every
    interface.  ``family`` (``AF_INET`` or ``AF_INET6``) narrows the lookup
    to one protocol; ``flags`` are ``AI_*`` bits for ``getaddrinfo``
    (``AI_PASSIVE`` when omitted); ``backlog`` goes to
    `socket.socket.listen`.

    When ``port`` is 0 the kernel chooses a free port for the first socket
    and the remaining sockets use that same number.

    ``reuse_port`` turns on ``SO_REUSEPORT`` so that several processes
    can listen on one port; it raises `ValueError` on platforms without
    that option.
    """
    if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        raise ValueError("the platform doesn't support SO_REUSEPORT")
    if family == socket.AF_UNSPEC and not socket.has_ipv6:
        # An interpreter built without IPv6 cannot open the AF_INET6
        # sockets getaddrinfo may still describe.
        family = socket.AF_INET
    targets = _listen_targets(
        address or None, port, family, socket.AI_PASSIVE if flags is None else flags
    )
    opened: list[socket.socket] = []
    chosen_port = 0
    try:
        for af, kind, proto, sockaddr in targets:
            if chosen_port and sockaddr[1] == 0:
                sockaddr = (sockaddr[0], chosen_port, *sockaddr[2:])
            sock = _bound_listener(af, kind, proto, sockaddr, reuse_port, address)
            if sock is not None:
                sock.listen(backlog)
                opened.append(sock)
                chosen_port = sock.getsockname()[1]
    except BaseException:
        for sock in opened:
            sock.close()
        raise
    return opened


def _bound_listener(
    af: int, kind: int, proto: int, sockaddr: Any, reuse_port: bool, address: Optional[str]
) -> Optional[socket.socket]:
    """A non-blocking socket bound to ``sockaddr``; None when that address
    can be skipped (family unsupported here, or a ::1 that isn't there)."""
    try:
        sock = socket.socket(af, kind, proto)
    except OSError as exc:
        if errno_from_exception(exc) == errno.EAFNOSUPPORT:
            return None
        raise
    try:
        _set_listener_options(sock, af, reuse_port)
        sock.bind(sockaddr)
    except OSError as exc:
        sock.close()
        # Hosts files often say localhost is ::1 even where the loopback
        # interface has no IPv6 address configured.
        missing_v6_loopback = (
            errno_from_exception(exc) == errno.EADDRNOTAVAIL
            and address == "localhost" and sockaddr[0] == "::1"
        )
        if missing_v6_loopback:
            return None
        raise
    except BaseException:
        sock.close()
        raise
    return sock


def _set_listener_options(sock: socket.socket, af: int, reuse_port: bool) -> None:
    if os.name != "nt":
        # A restarted server can bind again while connections of the old
        # one sit in TIME_WAIT.  Not on Windows, where the option would let
        # another process steal the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if af == socket.AF_INET6:
        # IPv4 gets a socket of its own, so keep the IPv6 one from also
        # taking the IPv4 side of the port.
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.setblocking(False)


if hasattr(socket, "AF_UNIX"):

    def _remove_stale_socket_file(path: str) -> None:
        """Deletes a socket file left over at ``path`` by an earlier
        process; refuses to delete anything that is not a socket."""
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(mode):
            raise ValueError(f"File {path} exists and is not a socket")
        os.remove(path)

    def bind_unix_socket(
        file: str, mode: int = 0o600, backlog: int = _DEFAULT_BACKLOG
    ) -> socket.socket:
        """Opens a non-blocking unix-domain socket listening at ``file``.

        An old socket file at that path is replaced; a path holding any
        other kind of file raises `ValueError`.  The new file's permissions
        are set to ``mode``.  On Linux, a name beginning with a NUL byte is
        in the abstract namespace and has no file at all.  Unlike
        `bind_sockets`, a single socket is returned.
        """
        on_disk = not file.startswith("\0")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            except OSError as exc:
                # Tolerated: some kernels don't offer it for unix sockets.
                if errno_from_exception(exc) != errno.ENOPROTOOPT:
                    raise
            sock.setblocking(False)
            if on_disk:
                _remove_stale_socket_file(file)
            sock.bind(file)
            if on_disk:
                os.chmod(file, mode)
            sock.listen(backlog)
        except BaseException:
            sock.close()
            raise
        return sock


def add_accept_handler(
    sock: socket.socket, callback: Callable[[socket.socket, Any], None]
) -> Callable[[], None]:
    """Watches the listening socket ``sock`` on the current `.IOLoop` and
    calls ``callback(connection, address)`` for each connection accepted.

    The returned function unregisters ``sock`` (closing it is up to the
    caller).  It is safe to call from inside ``callback``; nothing more is
    accepted afterwards, even from the same readiness event.
    """
    loop = IOLoop.current()
    # A one-element list: the flag the two closures share.
    active = [True]
    accept = sock.accept

    def on_readable(fd: Any, events: int) -> None:
        # At most a backlog's worth per event, so other work gets a turn.
        budget = _DEFAULT_BACKLOG
        while budget and active[0]:
            budget -= 1
            try:
                conn, peer = accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                # The peer hung up while still in the queue.
                continue
            callback(conn, peer)

    def stop_accepting() -> None:
        loop.remove_handler(sock)
        active[0] = False

    loop.add_handler(sock, on_readable, IOLoop.READ)
    return stop_accepting


def is_valid_ip(ip: str) -> bool:
    """True when ``ip`` is an IPv4 or IPv6 address literal (not a name)."""
    # A NUL would end the string early inside getaddrinfo, which would then
    # accept "1.2.3.4\0anything".
    if not ip or "\x00" in ip:
        return False
    try:
        return bool(socket.getaddrinfo(
            ip, 0, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST
        ))
    except UnicodeError:
        # Raised by the idna codec for strings no address could be, such
        # as an over-long label.
        return False
    except socket.gaierror as exc:
        if exc.args[0] != socket.EAI_NONAME:
            raise
        return False


class Resolver(Configurable):
    """Looks up host names without blocking; a `.Configurable` interface.

    Instantiating ``Resolver()`` gives the configured implementation, which
    is `DefaultLoopResolver` unless changed, e.g. with
    ``Resolver.configure("tornado.netutil.ThreadedResolver")``.  Available:
    `DefaultLoopResolver`, `DefaultExecutorResolver`, `ThreadedResolver`,
    `BlockingResolver`, `OverrideResolver`, and
    `tornado.platform.caresresolver.CaresResolver`.
    """

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Awaitable[_AddrInfo]:
        """Looks up ``host`` (a name or an IP literal) for TCP on ``port``.

        The awaitable's result is a list of ``(family, address)`` pairs;
        each address can be passed to `socket.socket.connect` on a socket
        of its family.  ``family`` (``AF_INET`` or ``AF_INET6``) limits the
        answer.  Failure is an `OSError` (`socket.gaierror` from the
        ``getaddrinfo``-based implementations).
        """
        raise NotImplementedError()

    def _answer_at_once(self, host: str, port: int, family: int) -> Optional[_AddrInfo]:
        """What `resolve` would answer, when that is known without waiting
        (an IP literal, for the implementations that answer those
        themselves); None otherwise, and then `resolve` must be awaited.

        Lets `.TCPClient` skip an await, and the timer guarding it, for
        the usual ``http://127.0.0.1:port/``.  An implementation answers
        here only while its own `resolve` is in charge (not overridden by a
        subclass), so that the two always agree.
        """
        return None

    def close(self) -> None:
        """Frees the resolver's threads or sockets, if it has any."""

    @classmethod
    def configurable_default(cls) -> "type[Resolver]":
        return DefaultLoopResolver

    @classmethod
    def configurable_base(cls) -> "type[Resolver]":
        return Resolver


def _numeric_addrinfo(host: str, port: int, family: int) -> Optional[_AddrInfo]:
    """The answer for an IP literal, computed without ``getaddrinfo`` (and
    without its thread); None when ``host`` isn't one, or isn't of the
    ``family`` asked for."""
    for af, sockaddr in (
        (socket.AF_INET, (host, port)),
        (socket.AF_INET6, (host, port, 0, 0)),
    ):
        if family not in (socket.AF_UNSPEC, af):
            continue
        try:
            socket.inet_pton(af, host)
        except (OSError, ValueError, TypeError):
            continue
        return [(af, sockaddr)]
    return None


def _literal_or_family_error(host: str, port: int, family: int) -> Optional[_AddrInfo]:
    """For resolvers that only look names up: the answer for an IP literal
    (None when ``host`` is a name), raising `IOError` when the literal is of
    another family than the ``family`` asked for."""
    if not is_valid_ip(host):
        return None
    literal_family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if family not in (socket.AF_UNSPEC, literal_family):
        raise IOError("Requested socket family %d but got %d" % (family, literal_family))
    return [(literal_family, (host, port))]


def _from_getaddrinfo(entries: list) -> _AddrInfo:
    return [(entry[0], entry[4]) for entry in entries]


def _resolve_addr(
    host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
) -> _AddrInfo:
    # Asking for SOCK_STREAM only: otherwise each address comes back once
    # per socket type.
    return _from_getaddrinfo(socket.getaddrinfo(host, port, family, socket.SOCK_STREAM))


class DefaultExecutorResolver(Resolver):
    """Calls the blocking ``getaddrinfo`` through the `.IOLoop`'s default
    executor.

    .. deprecated:: 6.2
       `DefaultLoopResolver` replaces it.
    """

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> _AddrInfo:
        literal = _numeric_addrinfo(host, port, family)
        if literal is not None:
            return literal
        return await IOLoop.current().run_in_executor(None, _resolve_addr, host, port, family)

    def _answer_at_once(self, host: str, port: int, family: int) -> Optional[_AddrInfo]:
        if type(self).resolve is not DefaultExecutorResolver.resolve:
            return None
        return _numeric_addrinfo(host, port, family)


class DefaultLoopResolver(Resolver):
    """The default: the asyncio event loop's own ``getaddrinfo``."""

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> _AddrInfo:
        literal = _numeric_addrinfo(host, port, family)
        if literal is not None:
            return literal
        aio = IOLoop.current().asyncio_loop  # type: ignore[attr-defined]
        return _from_getaddrinfo(
            await aio.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
        )

    def _answer_at_once(self, host: str, port: int, family: int) -> Optional[_AddrInfo]:
        if type(self).resolve is not DefaultLoopResolver.resolve:
            return None
        return _numeric_addrinfo(host, port, family)


class ExecutorResolver(Resolver):
    """Calls the blocking ``getaddrinfo`` on a `concurrent.futures.Executor`.

    `close` shuts that executor down unless ``close_executor`` is false
    (pass that when the executor is shared).  With no executor at all the
    lookup happens right away on the calling thread.

    .. deprecated:: 5.0
       The default `Resolver` does not block; use it instead.
    """

    def initialize(
        self, executor: Optional[concurrent.futures.Executor] = None, close_executor: bool = True,
    ) -> None:
        # Our own stand-in executor must never be shut down.
        owns = close_executor and executor is not None
        self.executor: Optional[concurrent.futures.Executor] = executor or dummy_executor
        self.close_executor = owns

    def close(self) -> None:
        pool, self.executor = self.executor, None
        if pool is not None and self.close_executor:
            pool.shutdown()

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Awaitable[_AddrInfo]:
        if self.executor is None:
            raise RuntimeError("resolve() called on a closed resolver")
        return IOLoop.current().run_in_executor(self.executor, _resolve_addr, host, port, family)


class BlockingResolver(ExecutorResolver):
    """Looks names up synchronously, holding up the `.IOLoop` meanwhile.

    .. deprecated:: 5.0
       The default `Resolver` does not block; use it instead.
    """

    def initialize(self) -> None:  # type: ignore[override]
        super().initialize(None, False)


class ThreadedResolver(ExecutorResolver):
    """Looks names up on a thread pool that all instances share.

    The first instance made in a process decides the pool's size
    (``num_threads``); after a fork the child builds its own pool.

    .. deprecated:: 5.0
       The default `Resolver` does not block; use it instead.
    """

    _threadpool: Optional[concurrent.futures.ThreadPoolExecutor] = None
    _threadpool_pid: Optional[int] = None

    def initialize(self, num_threads: int = 10) -> None:  # type: ignore[override]
        super().initialize(executor=self._create_threadpool(num_threads), close_executor=False)

    @classmethod
    def _create_threadpool(cls, num_threads: int) -> concurrent.futures.ThreadPoolExecutor:
        me = os.getpid()
        # Stored on ThreadedResolver itself so that subclasses share it too.
        holder = ThreadedResolver
        pool = holder._threadpool
        # Threads don't survive fork(): a pool made by the parent is useless.
        if pool is None or holder._threadpool_pid != me:
            pool = concurrent.futures.ThreadPoolExecutor(num_threads)
            holder._threadpool, holder._threadpool_pid = pool, me
        return pool


class OverrideResolver(Resolver):
    """Rewrites some lookups according to ``mapping`` before handing them to
    ``resolver``.

    A key of ``mapping`` is ``host``, ``(host, port)`` or
    ``(host, port, family)``; the most specific matching key applies.  A
    bare host maps to another host, the tuple keys to a ``(host, port)``
    pair.  Useful in tests, or to redirect a name without editing
    ``/etc/hosts``.
    """

    def initialize(self, resolver: Resolver, mapping: dict) -> None:  # type: ignore[override]
        self.mapping = mapping
        self.resolver = resolver

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Awaitable[_AddrInfo]:
        host, port = self._rewrite(host, port, family)
        return self.resolver.resolve(host, port, family)

    def _rewrite(self, host: str, port: int, family: int) -> tuple[str, int]:
        """The (host, port) to look up in place of ``host`` and ``port``."""
        table = self.mapping
        for key in ((host, port, family), (host, port)):
            if key in table:
                return table[key]
        return table.get(host, host), port

    def _answer_at_once(self, host: str, port: int, family: int) -> Optional[_AddrInfo]:
        if type(self).resolve is not OverrideResolver.resolve:
            return None
        host, port = self._rewrite(host, port, family)
        inner = getattr(self.resolver, "_answer_at_once", None)
        return None if inner is None else inner(host, port, family)

    def close(self) -> None:
        """Closes the wrapped resolver too."""
        self.resolver.close()


def _protocol_for(server_side: Optional[bool]) -> int:
    if server_side is None:
        # Deprecated by Python (DeprecationWarning since 3.10); kept for
        # callers that don't say which side they are.
        return ssl.PROTOCOL_TLS
    return ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT


def ssl_options_to_context(
    ssl_options: _SSLOptions, server_side: Optional[bool] = None
) -> ssl.SSLContext:
    """Turns ``ssl_options`` into an `ssl.SSLContext`.

    A context is passed through untouched.  A dict may use the keys
    ``ssl_version``, ``certfile``, ``keyfile``, ``cert_reqs``, ``ca_certs``
    and ``ciphers``, as the old ``ssl.wrap_socket`` did; any other key is a
    `ValueError`.

    For a dict, ``server_side`` chooses ``PROTOCOL_TLS_SERVER`` (true) or
    ``PROTOCOL_TLS_CLIENT`` (false); if omitted the generic, deprecated
    ``PROTOCOL_TLS`` is used, which warns on Python 3.10 and later.
    Client contexts verify the peer's certificate and name unless
    ``cert_reqs`` is ``CERT_NONE``.
    """
    if isinstance(ssl_options, ssl.SSLContext):
        return ssl_options
    if not isinstance(ssl_options, dict):
        raise TypeError(f"ssl_options must be a dict or an SSLContext, not {ssl_options!r}")
    extra = ssl_options.keys() - _SSL_CONTEXT_KEYWORDS
    if extra:
        raise ValueError(f"unknown ssl_options keys: {sorted(extra)}")
    opts = ssl_options
    ctx = ssl.SSLContext(opts.get("ssl_version", _protocol_for(server_side)))
    certfile = opts.get("certfile")
    if certfile is not None:
        ctx.load_cert_chain(certfile, opts.get("keyfile"))
    reqs = opts.get("cert_reqs")
    if reqs is not None:
        # Host name checking has to go before verification can be off.
        ctx.check_hostname = ctx.check_hostname and reqs != ssl.CERT_NONE
        ctx.verify_mode = reqs
    ca_certs = opts.get("ca_certs")
    if ca_certs is not None:
        ctx.load_verify_locations(ca_certs)
    elif server_side is False and ctx.verify_mode != ssl.CERT_NONE:
        # Verifying without any trusted roots would reject every server.
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    ciphers = opts.get("ciphers")
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    ctx.options |= getattr(ssl, "OP_NO_COMPRESSION", 0)
    return ctx


def ssl_wrap_socket(
    socket: socket.socket, ssl_options: _SSLOptions, server_hostname: Optional[str] = None,
    server_side: Optional[bool] = None, **kwargs: Any,
) -> ssl.SSLSocket:
    """Returns ``socket`` wrapped in TLS as ``ssl_options`` describe (an
    `ssl.SSLContext`, or a dict for `ssl_options_to_context`).

    ``server_hostname`` is used for SNI and, on the client side, matched
    against the certificate.  Any other keyword goes to
    `ssl.SSLContext.wrap_socket`.
    """
    ctx = ssl_options_to_context(ssl_options, server_side=server_side)
    return ctx.wrap_socket(
        socket, server_hostname=server_hostname, server_side=bool(server_side), **kwargs
    )
