"""tornado.tcpclient: connecting by name, Happy Eyeballs fallback between
address families, timeouts at each step, TLS with host name checks, and
binding the local end.  Servers are real, on loopback addresses."""

import asyncio
import os
import socket
import ssl
from typing import Any

import pytest

from tornado.concurrent import Future
from tornado.iostream import IOStream, SSLIOStream, StreamClosedError
from tornado.netutil import OverrideResolver, Resolver, bind_sockets
from tornado.tcpclient import TCPClient, _Connector, _format_addr
from tornado.tcpserver import TCPServer
from support import have_ipv6, run

DATA_DIR = os.path.join(os.path.dirname(__file__), "iostream_data")
CERT = os.path.join(DATA_DIR, "server.crt")
KEY = os.path.join(DATA_DIR, "server.key")


class QueueServer(TCPServer):
    """Hands accepted streams (and their peer addresses) to the test."""

    def __init__(self, host: str = "127.0.0.1", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accepted: asyncio.Queue[tuple[IOStream, Any]] = asyncio.Queue()
        [sock] = bind_sockets(0, host)
        self.port = sock.getsockname()[1]
        self.add_socket(sock)

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        self.accepted.put_nowait((stream, address))


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on (bound, so nobody else gets it, while open)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FixedResolver(Resolver):
    def initialize(self, answer: list) -> None:  # type: ignore[override]
        self.answer = answer

    async def resolve(self, host: str, port: int, family: Any = 0) -> list:
        return self.answer


async def roundtrip(stream: IOStream, server: QueueServer) -> None:
    peer, _ = await server.accepted.get()
    stream.write(b"ping")
    assert await peer.read_bytes(4) == b"ping"
    peer.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_connect_by_address_and_name(host: str) -> None:
    async def main() -> None:
        server = QueueServer()
        client = TCPClient()
        stream = await client.connect(host, server.port, af=socket.AF_INET)
        await roundtrip(stream, server)
        stream.close()
        client.close()
        server.stop()

    run(main)


@pytest.mark.skipif(not have_ipv6(), reason="no IPv6 loopback")
def test_connect_ipv6() -> None:
    async def main() -> None:
        server = QueueServer("::1")
        client = TCPClient()
        stream = await client.connect("::1", server.port)
        assert stream.socket.family == socket.AF_INET6
        await roundtrip(stream, server)
        stream.close()
        server.stop()

    run(main)


def test_refused_primary_falls_back_to_secondary_family() -> None:
    async def main() -> None:
        server = QueueServer()
        if have_ipv6():
            dead = (socket.AF_INET6, ("::1", closed_port("::1"), 0, 0))
        else:
            dead = (socket.AF_INET, ("127.0.0.1", closed_port()))
        live = (socket.AF_INET, ("127.0.0.1", server.port))
        client = TCPClient(resolver=FixedResolver(answer=[dead, live]))
        stream = await client.connect("dual.example", server.port)
        assert stream.socket.family == socket.AF_INET
        await roundtrip(stream, server)
        stream.close()
        server.stop()

    run(main)


def test_hanging_primary_gives_way_after_the_delay() -> None:
    created: list[IOStream] = []

    class BlackholeFirst(TCPClient):
        def _create_stream(self, max_buffer_size: Any, af: Any, addr: Any, **kw: Any) -> Any:
            if addr[0] == "2001:db8::1":  # documentation prefix: never answers
                stream = IOStream(socket.socket())
                created.append(stream)
                return stream, Future()
            return super()._create_stream(max_buffer_size, af, addr, **kw)

    async def main() -> None:
        server = QueueServer()
        answer = [
            (socket.AF_INET6, ("2001:db8::1", 443, 0, 0)),
            (socket.AF_INET, ("127.0.0.1", server.port)),
        ]
        # The hanging attempt is the only one of its family, so the other
        # family is tried once the delay passes.
        client = BlackholeFirst(resolver=FixedResolver(answer=answer))
        stream = await client.connect("slow.example", server.port)
        await roundtrip(stream, server)
        # The losing attempt was closed.
        assert created and created[0].closed()
        stream.close()
        server.stop()

    run(main)


def test_refused_everywhere_raises() -> None:
    async def main() -> None:
        client = TCPClient()
        with pytest.raises(StreamClosedError) as info:
            await client.connect("127.0.0.1", closed_port())
        assert isinstance(info.value.real_error, ConnectionRefusedError)

    run(main)


def test_timeout_while_resolving() -> None:
    class Never(Resolver):
        def resolve(self, *args: Any, **kwargs: Any) -> Any:
            return Future()

    async def main() -> None:
        client = TCPClient(resolver=Never())
        with pytest.raises(TimeoutError, match="^Timeout while resolving nowhere.example$"):
            await client.connect("nowhere.example", 80, timeout=0.05)

    run(main)


def test_timeout_during_tls_handshake_closes_socket() -> None:
    async def main() -> None:
        server = QueueServer()  # plain TCP: never answers the handshake
        client = TCPClient()
        ctx = ssl.create_default_context(cafile=CERT)
        with pytest.raises(TimeoutError) as info:
            await client.connect("127.0.0.1", server.port, ssl_options=ctx, timeout=0.3)
        assert str(info.value) == f"Timeout during TLS handshake with 127.0.0.1:{server.port}"
        peer, _ = await server.accepted.get()
        # Completes only because the client closed its end.
        await peer.read_until_close()
        server.stop()

    run(main)


def tls_server() -> QueueServer:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    return QueueServer(ssl_options=ctx)


def test_tls_checks_the_host_name() -> None:
    async def main() -> None:
        server = tls_server()
        ctx = ssl.create_default_context(cafile=CERT)
        client = TCPClient()
        stream = await client.connect("localhost", server.port, ssl_options=ctx)
        assert isinstance(stream, SSLIOStream)
        await roundtrip(stream, server)
        stream.close()
        # Same server under a name its certificate doesn't carry.
        wrong = TCPClient(
            resolver=OverrideResolver(Resolver(), {"wrong.example": "127.0.0.1"})
        )
        with pytest.raises(ssl.SSLCertVerificationError):
            await wrong.connect("wrong.example", server.port, ssl_options=ctx)
        server.stop()

    run(main)


def test_source_ip_and_port() -> None:
    async def main() -> None:
        server = QueueServer()
        source_port = closed_port()
        client = TCPClient()
        stream = await client.connect(
            "127.0.0.1", server.port, source_ip="127.0.0.1", source_port=source_port
        )
        peer, address = await server.accepted.get()
        assert address == ("127.0.0.1", source_port)
        peer.close()
        stream.close()
        with pytest.raises(OSError):
            # Not an address of this machine.
            await client.connect("127.0.0.1", server.port, source_ip="192.0.2.7")
        server.stop()

    run(main)


def test_connector_split_and_format_addr() -> None:
    primary, secondary = _Connector.split([(1, "a"), (2, "b"), (1, "c")])
    assert primary == [(1, "a"), (1, "c")] and secondary == [(2, "b")]
    assert _format_addr(("10.0.0.1", 80)) == "10.0.0.1:80"
    assert _format_addr(("::1", 80, 0, 0)) == "[::1]:80"
    assert _format_addr("/run/sock") == "/run/sock"


def test_connector_timeout_names_pending_attempts() -> None:
    async def main() -> None:
        futures: dict[str, Future] = {}

        class FakeStream:
            closed = False

            def close(self) -> None:
                self.closed = True

        streams: dict[str, FakeStream] = {}

        def connect(af: Any, addr: str) -> Any:
            streams[addr] = FakeStream()
            futures[addr] = Future()
            return streams[addr], futures[addr]

        conn = _Connector([(1, "a"), (1, "b"), (2, "c")], connect)
        result = conn.start(3600, connect_timeout=conn.io_loop.time() + 3600)
        conn.on_timeout()  # the delay passes: "c" starts beside "a"
        assert sorted(futures) == ["a", "c"]
        futures["a"].set_exception(OSError("refused"))
        await asyncio.sleep(0)
        assert sorted(futures) == ["a", "b", "c"]
        conn.on_connect_timeout()
        with pytest.raises(TimeoutError, match="^Timeout while connecting to b, c$"):
            result.result()
        assert all(s.closed for s in streams.values())

    run(main)


def hanging_client(created: list[IOStream]) -> TCPClient:
    """A client for one address whose connection attempts never complete;
    each attempt's stream is appended to ``created``."""

    class Hanging(TCPClient):
        def _create_stream(self, max_buffer_size: Any, af: Any, addr: Any, **kw: Any) -> Any:
            stream = IOStream(socket.socket())
            created.append(stream)
            return stream, Future()

    return Hanging(resolver=FixedResolver(answer=[(socket.AF_INET, ("192.0.2.1", 443))]))


def test_single_address_timeout_names_it_and_closes_the_attempt() -> None:
    # With one address there is no Happy Eyeballs race: the connect's own
    # deadline ends the attempt.
    created: list[IOStream] = []

    async def main() -> None:
        client = hanging_client(created)
        with pytest.raises(TimeoutError, match=r"^Timeout while connecting to 192\.0\.2\.1:443$"):
            await client.connect("one.example", 443, timeout=0.05)
        assert len(created) == 1 and created[0].closed()

    run(main)


def test_single_address_cancel_closes_the_attempt() -> None:
    created: list[IOStream] = []

    async def main() -> None:
        client = hanging_client(created)
        task = asyncio.ensure_future(client.connect("one.example", 443, timeout=30))
        await asyncio.sleep(0.01)
        task.cancel()
        # A cancellation from outside stays a cancellation (not a timeout).
        with pytest.raises(asyncio.CancelledError):
            await task
        assert created[0].closed()

    run(main)


def test_deadline_is_at_most_one_timer_and_is_removed() -> None:
    # The whole connect (resolve, connect, TLS) runs under one timer at
    # most, armed only when a step has to wait, and gone once connect
    # returns: no Happy Eyeballs timer for a single address, no wait_for
    # per step.
    async def main() -> None:
        server = QueueServer()
        loop = asyncio.get_running_loop()
        armed: list[Any] = []
        real_call_at = loop.call_at

        def spy(when: float, *args: Any, **kw: Any) -> Any:
            handle = real_call_at(when, *args, **kw)
            armed.append(handle)
            return handle

        loop.call_at = spy  # type: ignore[method-assign]
        try:
            stream = await TCPClient().connect("127.0.0.1", server.port, timeout=10)
        finally:
            loop.call_at = real_call_at  # type: ignore[method-assign]
        assert len(armed) <= 1 and all(handle.cancelled() for handle in armed)
        await roundtrip(stream, server)
        stream.close()
        server.stop()

    run(main)


def test_timer_armed_only_for_steps_that_wait() -> None:
    # A resolver answering an IP literal itself needs no wait (and no
    # timer); one that has to be awaited gets the connect's deadline.
    class Slow(Resolver):
        async def resolve(self, host: str, port: int, family: Any = 0) -> list:
            await asyncio.sleep(0.2)
            return [(socket.AF_INET, (host, port))]

    async def main() -> None:
        resolver = Resolver()
        assert resolver._answer_at_once("127.0.0.1", 80, socket.AF_UNSPEC) == [
            (socket.AF_INET, ("127.0.0.1", 80))
        ]
        assert resolver._answer_at_once("localhost", 80, socket.AF_UNSPEC) is None
        with pytest.raises(TimeoutError, match="^Timeout while resolving 127.0.0.1$"):
            await TCPClient(resolver=Slow()).connect("127.0.0.1", 80, timeout=0.05)

    run(main)


def drive_by_hand(coro: Any) -> asyncio.Future:
    """Runs ``coro`` from plain callbacks, with no Task around it."""
    outcome: asyncio.Future = asyncio.get_running_loop().create_future()

    def step(waited: Any = None) -> None:
        assert asyncio.current_task() is None
        try:
            if waited is None:
                waiting = coro.send(None)
            elif waited.exception() is not None:
                waiting = coro.throw(waited.exception())
            else:
                waiting = coro.send(waited.result())
        except StopIteration as done:
            outcome.set_result(done.value)
            return
        except BaseException as exc:
            outcome.set_exception(exc)
            return
        waiting._asyncio_future_blocking = False
        waiting.add_done_callback(step)

    asyncio.get_running_loop().call_soon(step)
    return outcome


def test_connect_with_timeout_outside_a_task() -> None:
    # Driven by hand (no current Task to cancel on expiry), a connect with
    # a timeout still connects, and still times out.
    class Never(Resolver):
        def resolve(self, *args: Any, **kwargs: Any) -> Any:
            return Future()

    async def main() -> None:
        server = QueueServer()
        stream = await drive_by_hand(TCPClient().connect("127.0.0.1", server.port, timeout=10))
        await roundtrip(stream, server)
        stream.close()
        server.stop()
        hanging = TCPClient(resolver=Never()).connect("nowhere.example", 80, timeout=0.05)
        with pytest.raises(TimeoutError, match="^Timeout while resolving nowhere.example$"):
            await drive_by_hand(hanging)

    run(main)


def test_connector_with_one_family_arms_no_delay_timer() -> None:
    async def main() -> None:
        def connect(af: Any, addr: str) -> Any:
            class S:
                def close(self) -> None:
                    pass
            return S(), Future()

        single = _Connector([(1, "a"), (1, "b")], connect)
        single.start(3600)
        assert single._delay_handle is None
        dual = _Connector([(1, "a"), (2, "b")], connect)
        dual.start(3600)
        assert dual._delay_handle is not None
        single.future.cancel()
        dual.future.cancel()
        await asyncio.sleep(0)

    run(main)
