"""tornado.netutil: listening sockets, accept loops, resolvers, TLS options."""

import asyncio
import errno
import os
import socket
import ssl
import stat
import sys
import tempfile
from typing import Any

import pytest

from tornado.netutil import (
    BlockingResolver,
    DefaultExecutorResolver,
    DefaultLoopResolver,
    ExecutorResolver,
    OverrideResolver,
    Resolver,
    ThreadedResolver,
    add_accept_handler,
    bind_sockets,
    bind_unix_socket,
    is_valid_ip,
    ssl_options_to_context,
    ssl_wrap_socket,
)
from support import have_ipv6, run

DATA_DIR = os.path.join(os.path.dirname(__file__), "iostream_data")
CERT = os.path.join(DATA_DIR, "server.crt")
KEY = os.path.join(DATA_DIR, "server.key")


# -- bind_sockets ----------------------------------------------------------


def test_bind_sockets_ipv4_listens_nonblocking() -> None:
    [sock] = bind_sockets(0, "127.0.0.1")
    try:
        assert sock.family == socket.AF_INET
        assert not sock.getblocking()
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        port = sock.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            pass
    finally:
        sock.close()


@pytest.mark.skipif(not have_ipv6(), reason="no IPv6 loopback")
def test_bind_sockets_ipv6_only() -> None:
    [sock] = bind_sockets(0, "::1", family=socket.AF_INET6)
    try:
        assert sock.family == socket.AF_INET6
        assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
    finally:
        sock.close()


def test_bind_sockets_all_interfaces_share_one_port() -> None:
    sockets = bind_sockets(0, None)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(ports) == 1
        families = {s.family for s in sockets}
        assert socket.AF_INET in families
    finally:
        for s in sockets:
            s.close()


def test_bind_sockets_reuse_port_allows_second_listener() -> None:
    first = bind_sockets(0, "127.0.0.1", reuse_port=True)
    port = first[0].getsockname()[1]
    second = bind_sockets(port, "127.0.0.1", reuse_port=True)
    try:
        assert second[0].getsockname()[1] == port
        assert second[0].getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
    finally:
        for s in first + second:
            s.close()


def test_bind_sockets_port_in_use_raises() -> None:
    [held] = bind_sockets(0, "127.0.0.1")
    port = held.getsockname()[1]
    try:
        with pytest.raises(OSError) as info:
            bind_sockets(port, "127.0.0.1")
        assert info.value.errno == errno.EADDRINUSE
    finally:
        held.close()


def test_bind_sockets_backlog_and_flags() -> None:
    [sock] = bind_sockets(
        0, "127.0.0.1", backlog=5, flags=socket.AI_PASSIVE | socket.AI_NUMERICHOST
    )
    sock.close()
    with pytest.raises(socket.gaierror):
        bind_sockets(0, "localhost", flags=socket.AI_NUMERICHOST)


# -- bind_unix_socket --------------------------------------------------------


def test_bind_unix_socket_replaces_stale_socket_and_sets_mode() -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "sock")
        first = bind_unix_socket(path)
        first.close()  # leaves the socket file behind
        sock = bind_unix_socket(path, mode=0o640)
        try:
            st = os.stat(path)
            assert stat.S_ISSOCK(st.st_mode)
            assert stat.S_IMODE(st.st_mode) == 0o640
            with socket.socket(socket.AF_UNIX) as c:
                c.connect(path)
        finally:
            sock.close()


def test_bind_unix_socket_refuses_other_files() -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "file")
        open(path, "w").close()
        with pytest.raises(ValueError, match="not a socket"):
            bind_unix_socket(path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
def test_bind_unix_socket_abstract_name() -> None:
    name = "\0tornado-test-%d" % os.getpid()
    sock = bind_unix_socket(name)
    try:
        with socket.socket(socket.AF_UNIX) as c:
            c.connect(name)
    finally:
        sock.close()


# -- add_accept_handler ----------------------------------------------------------


def test_add_accept_handler_accepts_until_removed() -> None:
    async def main() -> None:
        [listener] = bind_sockets(0, "127.0.0.1")
        port = listener.getsockname()[1]
        accepted: list[Any] = []
        got = asyncio.Event()

        def callback(conn: socket.socket, address: Any) -> None:
            accepted.append(address)
            conn.close()
            remove()  # from inside the callback: nothing more is accepted
            got.set()

        remove = add_accept_handler(listener, callback)
        clients = [socket.socket() for _ in range(3)]
        for c in clients:
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
        await asyncio.wait_for(got.wait(), 5)
        await asyncio.sleep(0.05)
        assert len(accepted) == 1
        assert accepted[0][0] == "127.0.0.1"
        for c in clients:
            c.close()
        listener.close()

    run(main)


# -- is_valid_ip -------------------------------------------------------------------


@pytest.mark.parametrize(
    "ip,valid",
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("2620:0:1cfe:face:b00c::3", True),
        ("localhost", False),
        ("www.example.com", False),
        ("1.2.3.4<", False),
        (" 127.0.0.1", False),
        ("", False),
        ("\x00", False),
        ("127.0.0.1\x00junk", False),
        ("a" * 100, False),
    ],
)
def test_is_valid_ip(ip: str, valid: bool) -> None:
    assert is_valid_ip(ip) is valid


# -- Resolvers -----------------------------------------------------------------------


def test_default_resolver_is_loop_resolver() -> None:
    async def main() -> None:
        resolver = Resolver()
        assert isinstance(resolver, DefaultLoopResolver)
        result = await resolver.resolve("localhost", 80)
        assert (socket.AF_INET, ("127.0.0.1", 80)) in result or any(
            af == socket.AF_INET6 and addr[0] == "::1" for af, addr in result
        )

    run(main)


@pytest.mark.parametrize("cls", [DefaultLoopResolver, DefaultExecutorResolver])
def test_default_resolvers_answer_literals_without_getaddrinfo(
    cls: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_lookup(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("getaddrinfo called for a literal")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        monkeypatch.setattr(loop, "getaddrinfo", no_lookup)
        monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
        resolver = cls()
        assert await resolver.resolve("127.0.0.1", 8080) == [
            (socket.AF_INET, ("127.0.0.1", 8080))
        ]
        assert await resolver.resolve("::1", 443) == [
            (socket.AF_INET6, ("::1", 443, 0, 0))
        ]

    run(main)


@pytest.mark.parametrize("cls", [DefaultLoopResolver, DefaultExecutorResolver])
def test_answer_at_once_agrees_with_resolve(cls: type) -> None:
    # The synchronous answer (what TCPClient uses to skip an await) is the
    # one resolve() gives, and only exists while resolve() is the class's own.
    async def main() -> None:
        resolver = cls()
        for host, family in (("127.0.0.1", socket.AF_UNSPEC), ("::1", socket.AF_UNSPEC),
                             ("127.0.0.1", socket.AF_INET)):
            now = resolver._answer_at_once(host, 80, family)
            assert now is not None and now == await resolver.resolve(host, 80, family)
        assert resolver._answer_at_once("localhost", 80, socket.AF_UNSPEC) is None
        # An IPv4 literal asked for as IPv6: resolve() looks it up.
        assert resolver._answer_at_once("127.0.0.1", 80, socket.AF_INET6) is None

        class Custom(cls):  # type: ignore[misc, valid-type]
            async def resolve(self, host: str, port: int, family: Any = 0) -> Any:
                return [(socket.AF_INET, ("10.9.9.9", port))]

        assert Custom()._answer_at_once("127.0.0.1", 80, socket.AF_UNSPEC) is None
        assert Resolver._answer_at_once(Custom(), "127.0.0.1", 80, 0) is None

    run(main)


def test_override_resolver_answers_at_once_through_its_mapping() -> None:
    async def main() -> None:
        resolver = OverrideResolver(DefaultLoopResolver(), {"svc.test": "127.0.0.9",
                                                           ("api.test", 80): ("::1", 8080)})
        assert resolver._answer_at_once("svc.test", 80, socket.AF_UNSPEC) == [
            (socket.AF_INET, ("127.0.0.9", 80))
        ]
        assert resolver._answer_at_once("api.test", 80, socket.AF_UNSPEC) == [
            (socket.AF_INET6, ("::1", 8080, 0, 0))
        ]
        assert resolver._answer_at_once("other.test", 80, socket.AF_UNSPEC) is None
        # A wrapped resolver without the fast path is always awaited.
        plain = OverrideResolver(BlockingResolver(), {"svc.test": "127.0.0.9"})
        assert plain._answer_at_once("svc.test", 80, socket.AF_UNSPEC) is None

    run(main)


@pytest.mark.parametrize("cls", [BlockingResolver, ThreadedResolver, DefaultExecutorResolver])
def test_getaddrinfo_resolvers(cls: type, monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        resolver = cls()
        result = await resolver.resolve("localhost", 80, socket.AF_INET)
        assert result == [(socket.AF_INET, ("127.0.0.1", 80))]

        def failing(*args: Any) -> Any:
            raise socket.gaierror(socket.EAI_NONAME, "mock: lookup failed")

        monkeypatch.setattr(socket, "getaddrinfo", failing)
        with pytest.raises(OSError):
            await resolver.resolve("no.such.name", 80)
        resolver.close()

    run(main)


def test_executor_resolver_closes_its_executor() -> None:
    import concurrent.futures

    pool = concurrent.futures.ThreadPoolExecutor(1)
    resolver = ExecutorResolver(executor=pool, close_executor=True)
    resolver.close()
    with pytest.raises(RuntimeError):
        pool.submit(print)


def test_override_resolver_most_specific_key_wins() -> None:
    class Recording(Resolver):
        def initialize(self) -> None:
            self.calls: list[tuple] = []

        async def resolve(self, host: str, port: int, family: Any = 0) -> Any:
            self.calls.append((host, port, family))
            return [(socket.AF_INET, (host, port))]

    async def main() -> None:
        inner = Recording()
        resolver = OverrideResolver(
            inner,
            {
                "example.com": "127.0.0.2",
                ("example.com", 443): ("127.0.0.3", 8443),
                ("example.com", 443, socket.AF_INET6): ("::1", 9443),
            },
        )
        await resolver.resolve("example.com", 80)
        await resolver.resolve("example.com", 443)
        await resolver.resolve("example.com", 443, socket.AF_INET6)
        await resolver.resolve("other.org", 80)
        assert [c[:2] for c in inner.calls] == [
            ("127.0.0.2", 80),
            ("127.0.0.3", 8443),
            ("::1", 9443),
            ("other.org", 80),
        ]

    run(main)


def test_resolver_configure() -> None:
    saved = Resolver._save_configuration()
    try:
        Resolver.configure("tornado.netutil.BlockingResolver")
        assert isinstance(Resolver(), BlockingResolver)
    finally:
        Resolver._restore_configuration(saved)
    assert Resolver.configured_class() is DefaultLoopResolver


# -- TLS options ---------------------------------------------------------------------


def test_ssl_options_dict_to_server_and_client_contexts() -> None:
    server = ssl_options_to_context({"certfile": CERT, "keyfile": KEY}, server_side=True)
    assert server.protocol == ssl.PROTOCOL_TLS_SERVER
    client = ssl_options_to_context({"cert_reqs": ssl.CERT_NONE}, server_side=False)
    assert client.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert client.verify_mode == ssl.CERT_NONE and not client.check_hostname
    ctx = ssl.create_default_context()
    assert ssl_options_to_context(ctx) is ctx
    with pytest.raises(ValueError, match="bogus"):
        ssl_options_to_context({"bogus": 1}, server_side=True)


def test_ssl_options_without_side_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning):
        ssl_options_to_context({"cert_reqs": ssl.CERT_NONE})


def test_ssl_wrap_socket_handshake_with_dict_and_context() -> None:
    a, b = socket.socketpair()
    server = ssl_wrap_socket(
        a, {"certfile": CERT, "keyfile": KEY}, server_side=True, do_handshake_on_connect=False
    )
    client = ssl_wrap_socket(
        b,
        {"ca_certs": CERT, "cert_reqs": ssl.CERT_REQUIRED},
        server_hostname="localhost",
        server_side=False,
        do_handshake_on_connect=False,
    )
    import threading

    t = threading.Thread(target=server.do_handshake)
    t.start()
    client.do_handshake()
    t.join()
    client.sendall(b"over tls")
    assert server.recv(100) == b"over tls"
    server.close()
    client.close()


def test_literal_or_family_error() -> None:
    from tornado.netutil import _literal_or_family_error

    assert _literal_or_family_error("example.test", 80, socket.AF_UNSPEC) is None
    assert _literal_or_family_error("127.0.0.1", 80, socket.AF_UNSPEC) == [
        (socket.AF_INET, ("127.0.0.1", 80))
    ]
    assert _literal_or_family_error("::1", 80, socket.AF_INET6) == [(socket.AF_INET6, ("::1", 80))]
    with pytest.raises(IOError, match="Requested socket family"):
        _literal_or_family_error("127.0.0.1", 80, socket.AF_INET6)
