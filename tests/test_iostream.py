"""tornado.iostream: one behaviour suite run against every kind of stream.

Every generic test gets a connected ``(reader, writer)`` pair of one kind:
IOStream over TCP on 127.0.0.1 (and ::1 where the machine has IPv6),
SSLIOStream over TLS with the test certificate in tests/iostream_data, and
PipeIOStream over an os.pipe.  TLS and TCP specifics follow, then the
write queue (_StreamBuffer) fed three ways without any socket.
"""

import asyncio
import logging
import os
import socket
import ssl
from typing import Any

import pytest

from tornado import netutil
from tornado.concurrent import Future
from tornado.iostream import (
    IOStream,
    PipeIOStream,
    SSLIOStream,
    StreamBufferFullError,
    StreamClosedError,
    UnsatisfiableReadError,
    _StreamBuffer,
)
from support import have_ipv6, run

DATA_DIR = os.path.join(os.path.dirname(__file__), "iostream_data")
CERT = os.path.join(DATA_DIR, "server.crt")
KEY = os.path.join(DATA_DIR, "server.key")


def server_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    return ctx


def client_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=CERT)
    return ctx


async def tcp_pair(
    host: str = "127.0.0.1", tls: bool = False, **kwargs: Any
) -> tuple[IOStream, IOStream]:
    """(server side, client side) of a fresh connection."""
    [listener] = netutil.bind_sockets(0, host)
    port = listener.getsockname()[1]
    accepted: Future[IOStream] = Future()

    def on_accept(conn: socket.socket, address: Any) -> None:
        if tls:
            conn = server_context().wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False
            )
            accepted.set_result(SSLIOStream(conn, **kwargs))
        else:
            accepted.set_result(IOStream(conn, **kwargs))

    remove = netutil.add_accept_handler(listener, on_accept)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if tls:
        client: IOStream = SSLIOStream(
            socket.socket(family), ssl_options=client_context(), **kwargs
        )
        connected = client.connect((host, port), server_hostname="localhost")
    else:
        client = IOStream(socket.socket(family), **kwargs)
        connected = client.connect((host, port))
    server, _ = await asyncio.gather(accepted, connected)
    remove()
    listener.close()
    return server, client


KINDS = ["tcp4", "tcp6", "tls", "pipe"]


async def make_pair(kind: str, **kwargs: Any) -> tuple[Any, Any]:
    """A connected (reader, writer) of the given kind."""
    if kind == "pipe":
        r, w = os.pipe()
        return PipeIOStream(r, **kwargs), PipeIOStream(w, **kwargs)
    if kind == "tcp6":
        if not have_ipv6():
            pytest.skip("no IPv6 loopback on this machine")
        return await tcp_pair("::1", **kwargs)
    return await tcp_pair("127.0.0.1", tls=(kind == "tls"), **kwargs)


@pytest.fixture(params=KINDS)
def kind(request: Any) -> str:
    return request.param


def close_all(*streams: Any) -> None:
    for s in streams:
        s.close()


# -- Behaviour common to every stream kind ---------------------------------


def test_delimited_and_counted_reads(kind: str) -> None:
    async def main() -> None:
        rs, ws = await make_pair(kind)
        try:
            ws.write(b"hello\r\nworld 1234 tail")
            assert await rs.read_until(b"\r\n") == b"hello\r\n"
            assert await rs.read_until_regex(rb"\d+") == b"world 1234"
            assert await rs.read_bytes(5) == b" tail"
            assert await rs.read_bytes(0) == b""
        finally:
            close_all(rs, ws)

    run(main)


def test_read_from_buffer_completes_synchronously(kind: str) -> None:
    async def main() -> None:
        rs, ws = await make_pair(kind)
        try:
            await ws.write(b"one\ntwo\n")
            assert await rs.read_until(b"\n") == b"one\n"
            # "two\n" arrived with "one\n": no loop iteration is needed.
            fut = rs.read_until(b"\n")
            assert fut.done()
            assert fut.result() == b"two\n"
        finally:
            close_all(rs, ws)

    run(main)


def test_partial_reads(kind: str) -> None:
    async def main() -> None:
        rs, ws = await make_pair(kind)
        try:
            fut = rs.read_bytes(100, partial=True)
            ws.write(b"abc")
            assert await fut == b"abc"
            buf = bytearray(8)
            fut2 = rs.read_into(buf, partial=True)
            ws.write(b"xyz")
            assert await fut2 == 3
            assert bytes(buf[:3]) == b"xyz"
            # Nothing of the buffer is held any more: it may be resized.
            buf.extend(b"!")
        finally:
            close_all(rs, ws)

    run(main)


def test_read_into_fills_buffer_across_writes(kind: str) -> None:
    async def main() -> None:
        rs, ws = await make_pair(kind)
        try:
            buf = bytearray(10)
            fut = rs.read_into(buf)
            ws.write(b"hello")
            await asyncio.sleep(0.01)
            assert rs.reading()
            ws.write(b"world and more")
            assert await fut == 10
            assert bytes(buf) == b"helloworld"
            assert await rs.read_bytes(9) == b" and more"
        finally:
            close_all(rs, ws)

    run(main)


def test_read_until_close(kind: str) -> None:
    async def main() -> None:
        rs, ws = await make_pair(kind)
        try:
            fut = rs.read_until_close()
            ws.write(b"x" * 100000)
            ws.write(b"end")
            await asyncio.sleep(0.01)
            ws.close()
            data = await fut
            assert len(data) == 100003 and data.endswith(b"end")
            assert rs.closed()
        finally:
            close_all(rs, ws)

    run(main)


def test_peer_closing_mid_read(kind: str) -> None:
    async def main() -> None:
        rs, ws = await make_pair(kind)
        closed = asyncio.Event()
        rs.set_close_callback(closed.set)
        try:
            fut = rs.read_bytes(100)
            await ws.write(b"only ten..")
            ws.close()
            with pytest.raises(StreamClosedError):
                await fut
            await asyncio.wait_for(closed.wait(), 5)
            assert rs.closed()
            # What arrived stays readable; more than that fails at once.
            with pytest.raises(StreamClosedError):
                rs.read_bytes(11)
            with pytest.raises(StreamClosedError):
                rs.write(b"x")
        finally:
            close_all(rs, ws)

    run(main)


def test_idle_stream_notices_peer_close(kind: str) -> None:
    async def main() -> None:
        rs, ws = await make_pair(kind)
        closed = asyncio.Event()
        rs.set_close_callback(closed.set)
        try:
            if kind == "tls":
                # TLS 1.3 servers send session tickets after the handshake;
                # a peer that closes with them unread makes its kernel
                # answer with a reset, not a FIN.  Data sent after them
                # and read by the peer means none are left unread.
                await rs.write(b"x")
                assert await ws.read_bytes(1) == b"x"
            ws.close()
            await asyncio.wait_for(closed.wait(), 5)
            assert rs.closed()
            assert rs.error is None
        finally:
            close_all(rs, ws)

    run(main)


def test_read_beyond_max_buffer_size_closes_cleanly(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    limit = 64 * 1024

    async def main() -> None:
        rs, ws = await make_pair(kind, max_buffer_size=limit)
        taken = 0
        real_read = rs.read_from_fd

        def counting_read(buf: Any) -> Any:
            nonlocal taken
            n = real_read(buf)
            taken += n or 0
            return n

        rs.read_from_fd = counting_read
        try:
            fut = rs.read_until(b"never sent")
            ws.write(b"z" * (1024 * 1024))
            with pytest.raises(StreamClosedError) as info:
                await fut
            assert isinstance(info.value.real_error, StreamBufferFullError)
            assert rs.closed()
            # The stream stopped reading as soon as the limit was passed.
            assert taken <= limit + rs.read_chunk_size
        finally:
            close_all(rs, ws)

    with caplog.at_level(logging.WARNING, logger="tornado.general"):
        run(main)
    assert "Reached maximum read buffer size" in caplog.text


def test_unsatisfiable_read_until(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        rs, ws = await make_pair(kind)
        try:
            ws.write(b"0123456789abcdefghij")
            with pytest.raises(StreamClosedError) as info:
                await rs.read_until(b"X", max_bytes=10)
            assert isinstance(info.value.real_error, UnsatisfiableReadError)
            assert rs.closed()
        finally:
            close_all(rs, ws)

    with caplog.at_level(logging.INFO, logger="tornado.general"):
        run(main)
    assert "Unsatisfiable read" in caplog.text


def test_write_buffer_bound_with_slow_reader(kind: str) -> None:
    limit = 256 * 1024
    chunk = b"w" * (64 * 1024)

    async def main() -> None:
        rs, ws = await make_pair(kind)
        ws.max_write_buffer_size = limit
        try:
            accepted = 0
            # Nobody reads: the OS buffers fill up, then ours, up to the limit.
            with pytest.raises(StreamBufferFullError):
                for _ in range(10000):
                    ws.write(chunk)
                    accepted += len(chunk)
                    assert len(ws._write_buffer) <= limit
                    await asyncio.sleep(0)
            assert len(ws._write_buffer) <= limit
            assert not ws.closed()
            # What was accepted arrives intact once the reader catches up,
            # and the queue drains.
            data = await rs.read_bytes(accepted)
            assert data == b"w" * accepted
            await ws.write(b"")
            assert len(ws._write_buffer) == 0
        finally:
            close_all(rs, ws)

    run(main)


def test_write_futures_and_caller_buffers(kind: str) -> None:
    async def main() -> None:
        rs, ws = await make_pair(kind)
        try:
            big = bytearray(b"b" * 100000)
            fut = ws.write(big)
            typed = memoryview(bytes(range(8)) * 4).cast("I")
            fut2 = ws.write(typed)
            assert await rs.read_bytes(100032) == bytes(big) + typed.tobytes()
            await fut
            await fut2
            # The stream holds no view of the caller's bytearray any more.
            del big[:]
            assert await ws.write(b"") is None
        finally:
            close_all(rs, ws)

    run(main)


# -- TCP and TLS specifics ---------------------------------------------------


def test_connect_refused() -> None:
    async def main() -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            # Bound but not listening: connections are refused.
            stream = IOStream(socket.socket())
            with pytest.raises(StreamClosedError) as info:
                await stream.connect(("127.0.0.1", port))
            assert isinstance(stream.error, ConnectionRefusedError)
            assert info.value.real_error is stream.error

    run(main)


def test_write_before_connected_is_sent_after() -> None:
    async def main() -> None:
        [listener] = netutil.bind_sockets(0, "127.0.0.1")
        port = listener.getsockname()[1]
        accepted: Future[IOStream] = Future()
        remove = netutil.add_accept_handler(
            listener, lambda c, a: accepted.set_result(IOStream(c))
        )
        client = IOStream(socket.socket())
        connected = client.connect(("127.0.0.1", port))
        written = client.write(b"early bird")
        assert not connected.done()
        server = await accepted
        assert await server.read_bytes(10) == b"early bird"
        assert connected.done() and written.done()
        client.set_nodelay(True)
        remove()
        close_all(listener, client, server)

    run(main)


def test_connect_established_at_once_needs_no_write_event() -> None:
    # To a local listener the handshake completes inside connect(): the
    # stream then never registers for WRITE, yet the Future resolves from
    # the loop (not before connect() returns), as after a poll.
    async def main() -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        client = IOStream(socket.socket())
        registered: list = []
        add_io_state = client._add_io_state

        def spy(state: int) -> None:
            registered.append(state)
            add_io_state(state)

        client._add_io_state = spy  # type: ignore[method-assign]
        connected = client.connect(listener.getsockname())
        assert not connected.done() and client._established_early
        assert await connected is client
        assert registered == [] and not client._established_early
        conn, _ = listener.accept()
        await client.write(b"ping")
        assert conn.recv(4) == b"ping"
        close_all(client, listener, conn)

    run(main)


def test_close_before_early_connect_resolves() -> None:
    async def main() -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        client = IOStream(socket.socket())
        connected = client.connect(listener.getsockname())
        written = client.write(b"x" * 10000)
        client.close()
        for future in (connected, written):
            with pytest.raises(StreamClosedError):
                await future
        listener.close()

    run(main)


def test_set_nodelay_on_tcp_and_other_sockets() -> None:
    async def main() -> None:
        server, client = await tcp_pair()
        client.set_nodelay(True)
        assert client.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        client.set_nodelay(False)
        assert not client.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        a, b = socket.socketpair()
        unix = IOStream(a)
        unix.set_nodelay(True)  # not TCP: nothing to do, no error
        close_all(server, client, unix, b)

    run(main)


def test_tls_handshake_failure_untrusted_certificate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        [listener] = netutil.bind_sockets(0, "127.0.0.1")
        port = listener.getsockname()[1]
        servers: list[SSLIOStream] = []

        def on_accept(conn: socket.socket, address: Any) -> None:
            conn = server_context().wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False
            )
            servers.append(SSLIOStream(conn))

        remove = netutil.add_accept_handler(listener, on_accept)
        # The default client context trusts the system's CAs only.
        client = SSLIOStream(socket.socket())
        with pytest.raises(ssl.SSLCertVerificationError):
            await client.connect(("127.0.0.1", port), server_hostname="localhost")
        assert client.closed()
        assert isinstance(client.error, ssl.SSLError)
        await asyncio.sleep(0.05)
        remove()
        close_all(listener, *servers)

    with caplog.at_level(logging.WARNING, logger="tornado.general"):
        run(main)
    assert "SSL Error" in caplog.text
    assert "certificate verify failed" in caplog.text


def test_tls_hostname_mismatch() -> None:
    async def main() -> None:
        [listener] = netutil.bind_sockets(0, "127.0.0.1")
        port = listener.getsockname()[1]
        servers: list[SSLIOStream] = []

        def on_accept(conn: socket.socket, address: Any) -> None:
            conn = server_context().wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False
            )
            servers.append(SSLIOStream(conn))

        remove = netutil.add_accept_handler(listener, on_accept)
        client = SSLIOStream(socket.socket(), ssl_options=client_context())
        with pytest.raises(ssl.SSLCertVerificationError, match="[Hh]ostname"):
            await client.connect(("127.0.0.1", port), server_hostname="other.example")
        await asyncio.sleep(0.05)
        remove()
        close_all(listener, *servers)

    run(main)


def test_start_tls_upgrade_and_wait_for_handshake() -> None:
    async def main() -> None:
        server, client = await tcp_pair()
        client.write(b"STARTTLS\r\n")
        assert await server.read_until(b"\r\n") == b"STARTTLS\r\n"
        client_tls = client.start_tls(
            False, ssl_options=client_context(), server_hostname="localhost"
        )
        server_tls = server.start_tls(True, ssl_options=server_context())
        tls_client, tls_server = await asyncio.gather(client_tls, server_tls)
        assert isinstance(tls_client, SSLIOStream)
        assert await tls_server.wait_for_handshake() is tls_server
        assert tls_client.socket.version() is not None
        tls_client.write(b"secret\n")
        assert await tls_server.read_until(b"\n") == b"secret\n"
        # The plain streams are spent.
        assert server.closed() and client.closed()
        close_all(tls_client, tls_server)

    run(main)


def test_start_tls_refuses_busy_stream() -> None:
    async def main() -> None:
        server, client = await tcp_pair()
        client.write(b"pending")
        await asyncio.sleep(0.01)
        server.read_bytes(1)
        with pytest.raises(ValueError):
            server.start_tls(True, ssl_options=server_context())
        close_all(server, client)

    run(main)


def test_close_with_error_is_reported_to_pending_futures() -> None:
    async def main() -> None:
        server, client = await tcp_pair()
        fut = client.read_until_close()
        await server.write(b"partial")
        await asyncio.sleep(0.01)
        boom = RuntimeError("boom")
        client.close(exc_info=boom)
        with pytest.raises(StreamClosedError) as info:
            await fut
        # A truncated body is never passed off as complete.
        assert info.value.real_error is boom
        close_all(server)

    run(main)


def test_second_read_while_reading_is_an_error() -> None:
    async def main() -> None:
        server, client = await tcp_pair()
        client.read_bytes(1)
        with pytest.raises(AssertionError, match="Already reading"):
            client.read_bytes(1)
        close_all(server, client)

    run(main)


# -- The write queue, fed without sockets -------------------------------------


def drain(buf: _StreamBuffer, step: int) -> bytes:
    out = b""
    while len(buf):
        with buf.peek(step) as view:
            chunk = view.tobytes()
        assert chunk
        buf.advance(len(chunk))
        out += chunk
    return out


@pytest.mark.parametrize("threshold", [1, 10, 2048])
def test_stream_buffer_all_at_once_bytewise_and_with_trailing(threshold: int) -> None:
    payload = bytes(range(256)) * 20
    pieces = [payload[i : i + 37] for i in range(0, len(payload), 37)]
    for feed in (
        [payload],  # all at once
        [payload[i : i + 1] for i in range(len(payload))],  # byte by byte
        pieces + [b"trailer"],  # in pieces, with trailing bytes
    ):
        for step in (1, 100, 1 << 20):
            buf = _StreamBuffer()
            buf._large_buf_threshold = threshold
            for piece in feed:
                buf.append(bytearray(piece))
            assert len(buf) == sum(map(len, feed))
            assert drain(buf, step) == b"".join(feed)
            assert len(buf) == 0


def test_stream_buffer_releases_large_views() -> None:
    buf = _StreamBuffer()
    buf._large_buf_threshold = 4
    data = bytearray(b"0123456789")
    buf.append(data)
    with pytest.raises(BufferError):
        data.append(0)
    buf.advance(10)
    data.append(0)  # released
    other = bytearray(b"abcdefgh")
    buf.append(other)
    buf.clear()
    other.append(0)
    assert len(buf) == 0
    with buf.peek(5) as view:
        assert len(view) == 0


def test_queues_exist_only_while_something_waits() -> None:
    # An empty deque costs ~760 bytes; idle streams (thousands of idle
    # WebSockets) hold neither a write queue nor a queue of write Futures.
    buf = _StreamBuffer()
    assert buf._buffers == ()
    buf.append(b"abc")
    buf.append(b"x" * 5000)
    assert len(buf._buffers) == 2
    buf.advance(5003)
    assert buf._buffers == () and len(buf) == 0

    async def main() -> None:
        server, client = await tcp_pair()
        await client.write(b"small")
        assert client._write_futures is None and client._write_buffer._buffers == ()
        # More than the socket takes at once: queued, then drained.
        big = client.write(b"x" * (16 << 20))
        assert client._write_futures and client.writing()
        assert len(await server.read_bytes(16 << 20)) == 16 << 20
        await big
        assert client._write_futures is None and client._write_buffer._buffers == ()
        close_all(server, client)

    run(main)


def test_push_mode_reads(kind: str) -> None:
    # _set_data_callback: the buffered bytes at once, then each arrival
    # from the event handler; None pauses (bytes wait), a new callback gets
    # the waiting bytes first; no read_* meanwhile; the end of the stream
    # is reported by the close callback only.
    async def main() -> None:
        reader, writer = await make_pair(kind)
        got: list = []
        arrived = asyncio.Event()

        def on_data(data: bytes) -> None:
            got.append(data)
            arrived.set()

        await writer.write(b"head\r\nrest")
        assert await reader.read_until(b"\r\n") == b"head\r\n"
        reader._set_data_callback(on_data)
        assert got == [b"rest"]  # what was buffered, within the call
        with pytest.raises(AssertionError):
            reader.read_bytes(1)
        arrived.clear()
        await writer.write(b"more")
        while b"".join(got) != b"restmore":
            await arrived.wait()
            arrived.clear()
        reader._set_data_callback(None)
        await writer.write(b"held")
        await asyncio.sleep(0.05)
        assert b"".join(got) == b"restmore"
        reader._set_data_callback(on_data)
        while b"".join(got) != b"restmoreheld":
            await arrived.wait()
            arrived.clear()
        closed: Future[None] = Future()
        reader.set_close_callback(lambda: closed.set_result(None))
        writer.close()
        await closed
        assert b"".join(got) == b"restmoreheld" and b"" not in got
        close_all(reader)

    run(main)


def test_push_mode_callback_may_close_or_pause() -> None:
    async def main() -> None:
        reader, writer = await make_pair("tcp4")
        got: list = []

        def pause_after_first(data: bytes) -> None:
            got.append(data)
            reader._set_data_callback(None)

        reader._set_data_callback(pause_after_first)
        await writer.write(b"one")
        while not got:
            await asyncio.sleep(0.005)
        assert got == [b"one"] and not reader.reading()
        await writer.write(b"two")
        await asyncio.sleep(0.02)
        assert got == [b"one"]
        # A stream that has read nothing since holds "two" in its buffer
        # (idle streams read one chunk to notice a close) or the kernel.
        reader._set_data_callback(lambda data: (got.append(data), reader.close()))
        while len(got) < 2:
            await asyncio.sleep(0.005)
        assert got == [b"one", b"two"] and reader.closed()
        close_all(writer)

    run(main)


def test_push_mode_big_burst_over_tls_is_all_delivered() -> None:
    # More than a few chunks in one go: the stream reads a few per event,
    # comes back for the rest, and TLS-buffered bytes are not stranded.
    async def main() -> None:
        reader, writer = await make_pair("tls")
        total = 0
        done = asyncio.Event()
        size = 3 << 20

        def on_data(data: bytes) -> None:
            nonlocal total
            total += len(data)
            if total == size:
                done.set()

        reader._set_data_callback(on_data)
        await writer.write(b"x" * size)
        await asyncio.wait_for(done.wait(), 10)
        close_all(reader, writer)

    run(main)


def test_usual_paths_add_no_instance_attributes() -> None:
    # CPython keeps instance attributes compactly only while the class has
    # seen fewer than 30 names, at most one of them added after __init__
    # (else each object carries a ~1.3 KB dict): thousands of idle
    # WebSockets care.  The usual paths must only assign what __init__
    # already set.
    async def main() -> None:
        server, client = await tcp_pair()
        fresh = IOStream(socket.socket())
        names = set(vars(fresh))
        fresh.close()
        assert len(names) < 30
        server.set_nodelay(True)
        server.set_close_callback(lambda: None)
        await client.write(b"GET / HTTP/1.1\r\n\r\n5\r\nhello")
        await server.read_until_regex(b"\n\r?\n")
        await server.read_until(b"\r\n")
        await server.read_bytes(5, partial=True)
        await server.write(b"answer")
        got: list = []
        server._set_data_callback(got.append)
        await client.write(b"frame")
        while not got:
            await asyncio.sleep(0.005)
        server._set_data_callback(None)
        assert await client.read_bytes(6) == b"answer"
        close_all(server, client)
        assert set(vars(server)) <= names and set(vars(client)) <= names

    run(main)


# -- Round-2 fast paths (issue 14): direct reads, kept read registration ----


def test_big_partial_read_returns_bytes_straight_from_the_socket(kind: str) -> None:
    # read_bytes of 16KB or more with an empty buffer takes socket.recv's
    # bytes object (plain TCP); every kind must give the same results.
    async def main() -> None:
        rs, ws = await make_pair(kind)
        try:
            payload = bytes(range(256)) * 512  # 128 KiB
            ws.write(payload)
            got = bytearray()
            while len(got) < len(payload):
                chunk = await rs.read_bytes(65536, partial=True)
                assert type(chunk) is bytes
                assert 0 < len(chunk) <= 65536
                got += chunk
            assert bytes(got) == payload
            # A whole-size read of more than arrives at once: the first
            # part is buffered, the read completes with all of it.
            fut = rs.read_bytes(40000)
            ws.write(b"a" * 30000)
            await asyncio.sleep(0.05)
            assert not fut.done()
            ws.write(b"b" * 10000 + b"rest")
            assert await fut == b"a" * 30000 + b"b" * 10000
            assert await rs.read_bytes(4) == b"rest"
        finally:
            close_all(rs, ws)

    run(main)


def test_direct_read_sees_close_and_reset() -> None:
    async def main() -> None:
        server, client = await tcp_pair()
        try:
            fut = server.read_bytes(65536, partial=True)
            client.close()
            with pytest.raises(StreamClosedError):
                await fut
            assert server.closed()
        finally:
            close_all(server, client)

    run(main)


def test_read_registration_kept_while_bytes_are_buffered() -> None:
    # A read that leaves bytes in the buffer (a response head with its
    # body behind it) keeps the stream registered for reads; bytes that
    # nobody asked for stop that, so an unread buffer grows by one read
    # at most.
    from tornado.ioloop import IOLoop

    async def main() -> None:
        server, client = await tcp_pair()
        try:
            # The read waits for the data (the stream registers for reads).
            head = server.read_until(b"\r\n\r\n")
            await asyncio.sleep(0.01)
            await client.write(b"head\r\n\r\nbody")
            assert await head == b"head\r\n\r\n"
            assert server._read_buffer == bytearray(b"body")
            assert server._state & IOLoop.READ
            await client.write(b"x" * 1000)
            for _ in range(100):
                if not server._state & IOLoop.READ:
                    break
                await asyncio.sleep(0.01)
            assert not server._state & IOLoop.READ
            assert bytes(server._read_buffer) == b"body" + b"x" * 1000
            await client.write(b"y" * 1000)
            await asyncio.sleep(0.05)
            # Not read: nobody asked, and the registration is gone.
            assert len(server._read_buffer) == 1004
            assert await server.read_bytes(2004) == b"body" + b"x" * 1000 + b"y" * 1000
        finally:
            close_all(server, client)

    run(main)
