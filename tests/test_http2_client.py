"""Tests for HTTP/2 in the clients: ``SimpleAsyncHTTPClient(http2=...)``
(tornado.http2client underneath) and ``CurlAsyncHTTPClient(http2=...)``.

The peers are real HTTP/2 servers started as child processes on 127.0.0.1:
hypercorn (tests/h2_peer_app.py, over TLS with ALPN and in cleartext for
h2c prior knowledge) and nghttpd (nghttp2's server, when installed: small
flow-control windows, padding, few concurrent streams).  Failure cases a
normal server does not produce on demand (RST_STREAM, GOAWAY with a last
stream id, REFUSED_STREAM, oversized headers) come from a scripted server
built on h2 in this module.  Our own HTTP/1.1-only server checks the
fallback.
"""

import asyncio
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import typing

import pytest

pytest.importorskip("h2")
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.errors  # noqa: E402
import h2.events  # noqa: E402

from tornado import http2client  # noqa: E402
from tornado.httpclient import AsyncHTTPClient, HTTPClientError  # noqa: E402
from tornado.httpserver import HTTPServer  # noqa: E402
from tornado.simple_httpclient import (  # noqa: E402
    HTTPStreamClosedError,
    HTTPTimeoutError,
    SimpleAsyncHTTPClient,
)
from tornado.netutil import bind_sockets  # noqa: E402
from tornado.web import Application, RequestHandler  # noqa: E402

from support import run  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CERT = os.path.join(ROOT, "tornado", "test", "test.crt")
KEY = os.path.join(ROOT, "tornado", "test", "test.key")

pytest.importorskip("hypercorn")


# --- peers -------------------------------------------------------------------


class Peer:
    """A server child process listening on 127.0.0.1:port."""

    def __init__(
        self, process: "subprocess.Popen[bytes]", port: int, tls: bool
    ) -> None:
        self.process = process
        self.port = port
        self.tls = tls

    def url(self, path: str) -> str:
        return "%s://127.0.0.1:%d%s" % (
            "https" if self.tls else "http",
            self.port,
            path,
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _hypercorn(tls: bool, max_streams: int = 100) -> Peer:
    # The socket listens before the child starts: connections wait in the
    # backlog until hypercorn accepts them, so no readiness poll is needed.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    args = [
        sys.executable,
        os.path.join(ROOT, "tests", "h2_peer_app.py"),
        str(sock.fileno()),
        str(max_streams),
    ]
    if tls:
        args += [CERT, KEY]
    env = dict(os.environ, PYTHONPATH=ROOT)
    process = subprocess.Popen(args, pass_fds=[sock.fileno()], env=env)
    port = sock.getsockname()[1]
    sock.close()
    return Peer(process, port, tls)


@pytest.fixture(scope="module")
def hypercorn_tls() -> typing.Iterator[Peer]:
    peer = _hypercorn(True)
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def hypercorn_h2c() -> typing.Iterator[Peer]:
    peer = _hypercorn(False)
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def hypercorn_few_streams() -> typing.Iterator[Peer]:
    peer = _hypercorn(True, max_streams=3)
    yield peer
    peer.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def nghttpd() -> typing.Iterator[typing.Tuple[Peer, Peer, str]]:
    """nghttpd over TLS and in cleartext, with 4KB stream windows, 64KB
    connection window, padded DATA frames, 2 concurrent streams and
    uploads echoed; serves a directory with a 3MB file."""
    binary = shutil.which("nghttpd") or (
        "/usr/sbin/nghttpd" if os.path.exists("/usr/sbin/nghttpd") else None
    )
    if binary is None:
        pytest.skip("nghttpd not installed (Debian package nghttp2-server)")
    docroot = tempfile.mkdtemp()
    blob = os.urandom(3 * 1024 * 1024)
    with open(os.path.join(docroot, "blob"), "wb") as f:
        f.write(blob)
    peers = []
    for tls in (True, False):
        port = _free_port()
        args = [
            binary,
            "-a",
            "127.0.0.1",
            "-d",
            docroot,
            "--echo-upload",
            "-m",
            "2",
            "-w",
            "12",
            "-W",
            "16",
            "-b",
            "7",
            str(port),
        ]
        args += [KEY, CERT] if tls else ["--no-tls"]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    pytest.skip("nghttpd did not start")
                time.sleep(0.05)
        peers.append(Peer(process, port, tls))
    yield peers[0], peers[1], hashlib.sha256(blob).hexdigest()
    for peer in peers:
        peer.stop()
    shutil.rmtree(docroot)


def h2_client(**kwargs: typing.Any) -> SimpleAsyncHTTPClient:
    kwargs.setdefault("http2", True)
    return SimpleAsyncHTTPClient(force_instance=True, **kwargs)


def pool_of(client: SimpleAsyncHTTPClient) -> typing.Any:
    pool = client._h2_pool
    assert pool is not None
    return pool


# --- the basics --------------------------------------------------------------


def test_get_over_tls_uses_h2(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client()
        lines: typing.List[str] = []
        try:
            response = await client.fetch(
                hypercorn_tls.url("/echo?a=1"),
                validate_cert=False,
                header_callback=lines.append,
                user_agent="probe/1",
            )
        finally:
            client.close()
        echo = json.loads(response.body)
        assert echo["http_version"] == "2"
        assert echo["query"] == "a=1"
        assert echo["headers"]["user-agent"] == "probe/1"
        # HTTP/1.1 connection headers never go out over HTTP/2.
        assert "connection" not in echo["headers"]
        assert response.code == 200 and response.reason == "OK"
        assert response.effective_url == hypercorn_tls.url("/echo?a=1")
        assert 0 <= response.request_time < 10
        assert lines[0] == "HTTP/2 200 OK\r\n"
        assert "Content-Type: application/json\r\n" in lines
        assert lines[-1] == "\r\n"

    run(main)


def test_configure_keyword(hypercorn_tls: Peer) -> None:
    saved = AsyncHTTPClient._save_configuration()
    try:
        AsyncHTTPClient.configure(None, http2=True)

        async def main() -> None:
            client = AsyncHTTPClient(force_instance=True)
            try:
                assert isinstance(client, SimpleAsyncHTTPClient)
                response = await client.fetch(
                    hypercorn_tls.url("/echo"), validate_cert=False
                )
                assert json.loads(response.body)["http_version"] == "2"
            finally:
                client.close()

        run(main)
    finally:
        AsyncHTTPClient._restore_configuration(saved)


def test_bad_http2_value() -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="http2 must be"):
            SimpleAsyncHTTPClient(force_instance=True, http2="yes")

    run(main)


def test_without_http2_nothing_changes(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = SimpleAsyncHTTPClient(force_instance=True)
        try:
            assert client._h2_pool is None
            response = await client.fetch(
                hypercorn_tls.url("/echo"), validate_cert=False
            )
            assert json.loads(response.body)["http_version"] == "1.1"
        finally:
            client.close()

    run(main)


def test_concurrent_fetches_share_one_connection(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client(max_clients=60)
        try:
            responses = await asyncio.gather(
                *[
                    client.fetch(hypercorn_tls.url("/peer"), validate_cert=False)
                    for _ in range(60)
                ]
            )
            # The server saw one client port: one TCP connection.
            assert len({r.body for r in responses}) == 1
            assert pool_of(client).connections_made == 1
            # Later requests reuse it too.
            again = await client.fetch(hypercorn_tls.url("/peer"), validate_cert=False)
            assert again.body == responses[0].body
        finally:
            client.close()

    run(main)


def test_max_clients_still_bounds_concurrency(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client(max_clients=2)
        try:
            await client.fetch(hypercorn_tls.url("/most_running"), validate_cert=False)
            await asyncio.gather(
                *[
                    client.fetch(
                        hypercorn_tls.url("/slow?delay=0.1"), validate_cert=False
                    )
                    for _ in range(6)
                ]
            )
            most = await client.fetch(
                hypercorn_tls.url("/most_running"), validate_cert=False
            )
            assert int(most.body) <= 2
        finally:
            client.close()

    run(main)


def test_server_max_concurrent_streams_queues(hypercorn_few_streams: Peer) -> None:
    peer = hypercorn_few_streams

    async def main() -> None:
        reset = h2_client()
        await reset.fetch(peer.url("/most_running"), validate_cert=False)
        reset.close()
        # A burst on a new connection, before the server's SETTINGS came.
        client = h2_client(max_clients=20)
        try:
            responses = await asyncio.gather(
                *[
                    client.fetch(peer.url("/slow?delay=0.1"), validate_cert=False)
                    for _ in range(12)
                ]
            )
            assert [r.body for r in responses] == [b"slow"] * 12
            most = await client.fetch(peer.url("/most_running"), validate_cert=False)
            # SETTINGS_MAX_CONCURRENT_STREAMS=3 was respected, on one connection.
            assert 1 <= int(most.body) <= 3
            assert pool_of(client).connections_made == 1
        finally:
            client.close()

    run(main)


def test_request_timeout_while_waiting_for_a_stream(
    hypercorn_few_streams: Peer,
) -> None:
    peer = hypercorn_few_streams

    async def main() -> None:
        client = h2_client(max_clients=10)
        try:
            busy = [
                client.fetch(peer.url("/slow?delay=1.5"), validate_cert=False)
                for _ in range(3)
            ]
            await asyncio.sleep(0.3)
            with pytest.raises(HTTPTimeoutError):
                await client.fetch(
                    peer.url("/hello"), validate_cert=False, request_timeout=0.3
                )
            assert [r.body for r in await asyncio.gather(*busy)] == [b"slow"] * 3
            response = await client.fetch(peer.url("/hello"), validate_cert=False)
            assert response.body == b"Hello world!"
            assert pool_of(client).connections_made == 1
        finally:
            client.close()

    run(main)


def test_h2c_prior_knowledge(hypercorn_h2c: Peer) -> None:
    async def main() -> None:
        client = h2_client(http2="prior_knowledge", max_clients=20)
        plain = h2_client()
        try:
            response = await client.fetch(hypercorn_h2c.url("/echo"))
            assert json.loads(response.body)["http_version"] == "2"
            responses = await asyncio.gather(
                *[client.fetch(hypercorn_h2c.url("/peer")) for _ in range(20)]
            )
            assert len({r.body for r in responses}) == 1
            # http2=True alone keeps http:// on HTTP/1.1.
            response = await plain.fetch(hypercorn_h2c.url("/echo"))
            assert json.loads(response.body)["http_version"] == "1.1"
        finally:
            client.close()
            plain.close()

    run(main)


# --- bodies, codings, redirects ----------------------------------------------


def test_streaming_and_header_callbacks(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client()
        pieces: typing.List[bytes] = []
        lines: typing.List[str] = []

        def on_chunk(chunk: bytes) -> None:
            assert lines[-1] == "\r\n"  # the head came first
            pieces.append(chunk)

        try:
            response = await client.fetch(
                hypercorn_tls.url("/chunks?n=20&size=1000"),
                validate_cert=False,
                streaming_callback=on_chunk,
                header_callback=lines.append,
            )
        finally:
            client.close()
        assert response.body == b""
        assert b"".join(pieces) == b"".join(bytes([97 + i]) * 1000 for i in range(20))

    run(main)


def test_flow_control_follows_a_slow_streaming_callback(hypercorn_tls: Peer) -> None:
    """Data is acknowledged only as the coroutine callback takes it: what
    arrived but was not consumed never exceeds the stream's window."""
    size = 6 * 1024 * 1024

    async def main() -> None:
        client = h2_client()
        received = [0]
        most_buffered = [0]

        async def consume(chunk: bytes) -> None:
            received[0] += len(chunk)
            stream = client_stream[0]
            if stream is not None:
                buffered = sum(len(e[1]) for e in stream._events if e[0] == "data")
                most_buffered[0] = max(most_buffered[0], buffered)
            await asyncio.sleep(0.002)

        client_stream: typing.List[typing.Any] = [None]
        original = http2client.HTTP2ClientConnection.open_stream

        def spy(self: typing.Any) -> typing.Any:
            client_stream[0] = original(self)
            return client_stream[0]

        http2client.HTTP2ClientConnection.open_stream = spy  # type: ignore[method-assign]
        try:
            response = await client.fetch(
                hypercorn_tls.url("/big?size=%d" % size),
                validate_cert=False,
                streaming_callback=consume,
                request_timeout=60,
            )
        finally:
            http2client.HTTP2ClientConnection.open_stream = original  # type: ignore[method-assign]
            client.close()
        assert response.code == 200
        assert received[0] == size
        assert 0 < most_buffered[0] <= http2client._STREAM_WINDOW

    run(main, timeout=90)


def test_big_bodies_both_ways(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client()
        try:
            response = await client.fetch(
                hypercorn_tls.url("/big?size=%d" % (8 << 20)),
                validate_cert=False,
                request_timeout=60,
            )
            assert response.body == b"x" * (8 << 20)
            content = os.urandom(5 << 20)
            response = await client.fetch(
                hypercorn_tls.url("/upload"),
                method="POST",
                body=content,
                validate_cert=False,
                request_timeout=60,
            )
            assert response.body.decode() == "%d %s" % (
                len(content),
                hashlib.sha256(content).hexdigest(),
            )
        finally:
            client.close()

    run(main, timeout=120)


def test_body_producer_waits_for_the_window(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client()
        piece = os.urandom(256 * 1024)
        written = []

        async def produce(write: typing.Callable[[bytes], typing.Any]) -> None:
            for _ in range(12):
                await write(piece)
                written.append(len(piece))

        try:
            response = await client.fetch(
                hypercorn_tls.url("/upload?delay=0.005"),
                method="PUT",
                body_producer=produce,
                validate_cert=False,
                request_timeout=60,
            )
        finally:
            client.close()
        assert response.body.decode() == "%d %s" % (
            12 * len(piece),
            hashlib.sha256(piece * 12).hexdigest(),
        )
        assert sum(written) == 12 * len(piece)

    run(main, timeout=90)


def test_gzip(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client()
        try:
            response = await client.fetch(
                hypercorn_tls.url("/gzip"), validate_cert=False
            )
            assert response.body == b"compressed " * 1000
            assert response.headers["X-Consumed-Content-Encoding"] == "gzip"
            raw = await client.fetch(
                hypercorn_tls.url("/gzip"),
                validate_cert=False,
                decompress_response=False,
                headers={"Accept-Encoding": "gzip"},
            )
            assert raw.headers["Content-Encoding"] == "gzip"
            assert len(raw.body) < 1000
        finally:
            client.close()

    run(main)


def test_redirects(hypercorn_tls: Peer, hypercorn_h2c: Peer) -> None:
    async def main() -> None:
        client = h2_client()
        try:
            response = await client.fetch(
                hypercorn_tls.url("/redirect?to=/hello"), validate_cert=False
            )
            assert (response.code, response.body) == (200, b"Hello world!")
            assert response.effective_url == hypercorn_tls.url("/hello")
            response = await client.fetch(
                hypercorn_tls.url("/redirect?to=/hello"),
                validate_cert=False,
                follow_redirects=False,
                raise_error=False,
            )
            assert response.code == 302
            # 303 after a POST: a GET without body on the same connection.
            response = await client.fetch(
                hypercorn_tls.url("/redirect?to=/echo&status=303"),
                method="POST",
                body="x",
                validate_cert=False,
            )
            assert json.loads(response.body)["method"] == "GET"
            # To another origin (cleartext: HTTP/1.1 there).
            target = hypercorn_h2c.url("/echo")
            response = await client.fetch(
                hypercorn_tls.url("/redirect?to=" + target), validate_cert=False
            )
            assert json.loads(response.body)["http_version"] == "1.1"
            with pytest.raises(HTTPClientError) as caught:
                await client.fetch(
                    hypercorn_tls.url("/redirect?to=/hello"),
                    validate_cert=False,
                    max_redirects=0,
                )
            assert caught.value.code == 302
            assert pool_of(client).connections_made == 1
        finally:
            client.close()

    run(main)


def test_head_304_204(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client()
        try:
            response = await client.fetch(
                hypercorn_tls.url("/big?size=500"), method="HEAD", validate_cert=False
            )
            assert (response.code, response.body) == (200, b"")
            for code in (204, 304):
                response = await client.fetch(
                    hypercorn_tls.url("/status?code=%d" % code),
                    validate_cert=False,
                    raise_error=False,
                )
                assert (response.code, response.body) == (code, b"")
        finally:
            client.close()

    run(main)


def test_request_timeout_resets_only_its_stream(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client()
        try:
            slow = client.fetch(
                hypercorn_tls.url("/slow?delay=5"),
                validate_cert=False,
                request_timeout=0.3,
            )
            with pytest.raises(HTTPTimeoutError):
                await slow
            # The connection lives on for the next request.
            response = await client.fetch(
                hypercorn_tls.url("/hello"), validate_cert=False
            )
            assert response.body == b"Hello world!"
            assert pool_of(client).connections_made == 1
        finally:
            client.close()

    run(main)


def test_max_body_size(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client(max_body_size=1000)
        try:
            ok = await client.fetch(
                hypercorn_tls.url("/big?size=1000"), validate_cert=False
            )
            assert len(ok.body) == 1000
            with pytest.raises(HTTPStreamClosedError, match="body too large"):
                await client.fetch(
                    hypercorn_tls.url("/big?size=1001"), validate_cert=False
                )
            ok = await client.fetch(
                hypercorn_tls.url("/big?size=10"), validate_cert=False
            )
            assert pool_of(client).connections_made == 1
        finally:
            client.close()

    run(main)


# --- connection lifetime -----------------------------------------------------


def test_idle_connections_close(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client()
        pool = pool_of(client)
        pool.idle_timeout = 0.2
        try:
            await client.fetch(hypercorn_tls.url("/hello"), validate_cert=False)
            [connection] = [c for group in pool.connections.values() for c in group]
            await asyncio.sleep(0.6)
            assert connection.closed
            await client.fetch(hypercorn_tls.url("/hello"), validate_cert=False)
            assert pool.connections_made == 2
        finally:
            client.close()

    run(main)


def test_close_closes_pooled_connections(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = h2_client()
        await client.fetch(hypercorn_tls.url("/hello"), validate_cert=False)
        pool = pool_of(client)
        [connection] = [c for group in pool.connections.values() for c in group]
        client.close()
        assert connection.closed and connection.stream.closed()
        assert not pool.connections

    run(main)


def test_server_goaway_on_idle_then_reconnect(hypercorn_tls: Peer) -> None:
    """hypercorn closes connections idle for 5s (GOAWAY): the pool drops
    them and the next request connects anew."""

    async def main() -> None:
        client = h2_client()
        try:
            await client.fetch(hypercorn_tls.url("/hello"), validate_cert=False)
            await asyncio.sleep(6.5)
            response = await client.fetch(
                hypercorn_tls.url("/hello"), validate_cert=False
            )
            assert response.body == b"Hello world!"
            assert pool_of(client).connections_made == 2
        finally:
            client.close()

    run(main)


# --- fallback to HTTP/1.1 ----------------------------------------------------


class VersionHandler(RequestHandler):
    def get(self) -> None:
        self.write(self.request.version)


def test_http1_only_server_gets_http1() -> None:
    async def main() -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(CERT, KEY)
        [sock] = bind_sockets(0, "127.0.0.1")
        port = sock.getsockname()[1]
        server = HTTPServer(Application([("/", VersionHandler)]), ssl_options=context)
        server.add_sockets([sock])
        client = h2_client(max_clients=8)
        try:
            url = "https://127.0.0.1:%d/" % port
            responses = await asyncio.gather(
                *[client.fetch(url, validate_cert=False) for _ in range(8)]
            )
            assert [r.body for r in responses] == [b"HTTP/1.1"] * 8
            assert pool_of(client).connections_made == 0
            response = await client.fetch(url, validate_cert=False)
            assert response.body == b"HTTP/1.1"
        finally:
            client.close()
            server.stop()

    run(main)


class EncodedHandler(RequestHandler):
    """The text, encoded with the coding named by ``?coding=``."""

    def get(self) -> None:
        import gzip

        coding = self.get_argument("coding")
        text = b"compress me " * 5000
        if coding == "gzip":
            data = gzip.compress(text)
        elif coding == "br":
            import brotli

            data = brotli.compress(text)
        else:
            try:
                from compression import zstd  # Python 3.14

                data = zstd.compress(text)
            except ImportError:
                import zstandard

                data = zstandard.ZstdCompressor().compress(text)
        self.set_header("Content-Type", "text/plain")
        self.set_header("Content-Encoding", coding)
        self.write(data)


def test_content_codings() -> None:
    """Each coding the client can decode (gzip, and br and zstd where
    installed), from our own HTTP/2 server."""
    from tornado.httputil import _DECODERS

    async def main() -> None:
        [sock] = bind_sockets(0, "127.0.0.1")
        port = sock.getsockname()[1]
        server = HTTPServer(Application([("/", EncodedHandler)]), http2=True)
        server.add_sockets([sock])
        client = h2_client(http2="prior_knowledge")
        try:
            for coding in _DECODERS:
                url = "http://127.0.0.1:%d/?coding=%s" % (port, coding)
                response = await client.fetch(url)
                assert response.body == b"compress me " * 5000, coding
                consumed = response.headers.get("X-Consumed-Content-Encoding")
                assert consumed == coding
                pieces: typing.List[bytes] = []
                await client.fetch(url, streaming_callback=pieces.append)
                assert b"".join(pieces) == b"compress me " * 5000, coding
            assert pool_of(client).connections_made == 1
        finally:
            client.close()
            server.stop()

    run(main)


def test_user_ssl_context_without_alpn_stays_http1(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        client = h2_client()
        try:
            response = await client.fetch(
                hypercorn_tls.url("/echo"), ssl_options=context
            )
            assert json.loads(response.body)["http_version"] == "1.1"
            context.set_alpn_protocols(["h2"])
            response = await client.fetch(
                hypercorn_tls.url("/echo"), ssl_options=context
            )
            assert json.loads(response.body)["http_version"] == "2"
        finally:
            client.close()

    run(main)


# --- nghttpd: small windows, padding, 2 streams -------------------------------


def test_nghttpd(nghttpd: typing.Tuple[Peer, Peer, str]) -> None:
    tls_peer, clear_peer, digest = nghttpd

    async def main() -> None:
        client = h2_client(http2="prior_knowledge", max_clients=10)
        try:
            for peer in (tls_peer, clear_peer):
                responses = await asyncio.gather(
                    *[
                        client.fetch(
                            peer.url("/blob"), validate_cert=False, request_timeout=60
                        )
                        for _ in range(5)
                    ]
                )
                for response in responses:
                    assert hashlib.sha256(response.body).hexdigest() == digest
                content = os.urandom(300 * 1024)
                echoed = await client.fetch(
                    peer.url("/echo"),
                    method="POST",
                    body=content,
                    validate_cert=False,
                    request_timeout=60,
                )
                assert echoed.body == content
            assert pool_of(client).connections_made == 2
        finally:
            client.close()

    run(main, timeout=120)


# --- a scripted server for the failure cases ---------------------------------


class ScriptedServer:
    """An h2c server on h2 whose answer depends on the path:

    * ``/reset``: RST_STREAM INTERNAL_ERROR.
    * ``/refuse-once``: RST_STREAM REFUSED_STREAM the first time, then 200.
    * ``/goaway``: on the first connection, answers the lowest stream of
      the first batch of requests, then GOAWAY naming it as the last
      stream; on later connections, 200.
    * ``/goaway-error``: GOAWAY INTERNAL_ERROR naming this stream.
    * ``/goaway-then-answer``: GOAWAY NO_ERROR naming this stream, then
      the answer.
    * ``/dropped``: closes the connection without a word (``drops``
      times), then 200.
    * ``/huge-headers``: a 200 with 4KB of headers.
    * anything else: 200 with the path as body.
    """

    def __init__(self) -> None:
        self.connections = 0
        self.refused = 0
        # How many more times /dropped closes the connection.
        self.drops = 1
        self.port = 0
        self.server: typing.Optional[asyncio.AbstractServer] = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    def url(self, path: str) -> str:
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        number = self.connections
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        goaway_batch: typing.List[int] = []
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                try:
                    for event in conn.receive_data(data):
                        if isinstance(event, h2.events.RequestReceived):
                            path = dict(event.headers)[":path"]
                            self._answer(
                                conn, event.stream_id, path, number, goaway_batch
                            )
                except ConnectionAbortedError:
                    break
                if goaway_batch:
                    first = min(goaway_batch)
                    self._respond(conn, first, b"first")
                    conn.close_connection(last_stream_id=first)
                    writer.write(conn.data_to_send())
                    await writer.drain()
                    break
                writer.write(conn.data_to_send())
                await writer.drain()
        finally:
            writer.close()

    def _respond(
        self,
        conn: typing.Any,
        stream_id: int,
        body: bytes,
        extra: typing.Sequence[typing.Tuple[str, str]] = (),
    ) -> None:
        conn.send_headers(
            stream_id,
            [(":status", "200"), ("content-length", str(len(body)))] + list(extra),
        )
        conn.send_data(stream_id, body, end_stream=True)

    def _answer(
        self,
        conn: typing.Any,
        stream_id: int,
        path: str,
        number: int,
        goaway_batch: typing.List[int],
    ) -> None:
        codes = h2.errors.ErrorCodes
        if path == "/reset":
            conn.reset_stream(stream_id, codes.INTERNAL_ERROR)
        elif path == "/refuse-once" and self.refused == 0:
            self.refused += 1
            conn.reset_stream(stream_id, codes.REFUSED_STREAM)
        elif path == "/goaway" and number == 1:
            goaway_batch.append(stream_id)
        elif path == "/dropped" and self.drops > 0:
            self.drops -= 1
            raise ConnectionAbortedError("closing without a word")
        elif path == "/goaway-then-answer":
            # A graceful shutdown: GOAWAY naming this stream, then its
            # answer (h2 itself would send nothing after a GOAWAY).
            conn.close_connection(0, last_stream_id=stream_id)
            conn.state_machine.state = h2.connection.ConnectionState.SERVER_OPEN
            self._respond(conn, stream_id, b"late answer")
        elif path == "/goaway-error":
            conn.close_connection(codes.INTERNAL_ERROR, last_stream_id=stream_id)
        elif path == "/huge-headers":
            self._respond(conn, stream_id, b"big", [("x-big", "y" * 4000)])
        else:
            self._respond(conn, stream_id, path.encode())


def with_scripted(
    test: typing.Callable[
        [ScriptedServer, SimpleAsyncHTTPClient], typing.Awaitable[None]
    ],
    **kwargs: typing.Any,
) -> None:
    async def main() -> None:
        server = ScriptedServer()
        await server.start()
        client = h2_client(http2="prior_knowledge", max_clients=10, **kwargs)
        try:
            await test(server, client)
        finally:
            client.close()
            server.close()

    run(main)


def test_rst_stream_fails_that_request_only() -> None:
    async def body(server: ScriptedServer, client: SimpleAsyncHTTPClient) -> None:
        with pytest.raises(HTTPStreamClosedError, match="INTERNAL_ERROR") as caught:
            await client.fetch(server.url("/reset"))
        assert caught.value.code == 599
        response = await client.fetch(server.url("/after"))
        assert response.body == b"/after"
        assert server.connections == 1

    with_scripted(body)


def test_refused_stream_is_retried() -> None:
    async def body(server: ScriptedServer, client: SimpleAsyncHTTPClient) -> None:
        response = await client.fetch(server.url("/refuse-once"))
        assert response.body == b"/refuse-once"
        assert server.refused == 1

    with_scripted(body)


def test_goaway_retries_unprocessed_streams() -> None:
    async def body(server: ScriptedServer, client: SimpleAsyncHTTPClient) -> None:
        responses = await asyncio.gather(
            *[client.fetch(server.url("/goaway")) for _ in range(4)]
        )
        bodies = sorted(r.body for r in responses)
        # The stream the server kept was answered there; the three above
        # its last stream id went again on a second connection.
        assert bodies == [b"/goaway"] * 3 + [b"first"]
        assert server.connections == 2

    with_scripted(body)


def test_silently_closed_connection_retries_idempotent_requests() -> None:
    async def body(server: ScriptedServer, client: SimpleAsyncHTTPClient) -> None:
        response = await client.fetch(server.url("/first"))
        assert response.body == b"/first"
        # The server drops the connection on this one, without GOAWAY: a
        # GET goes again on a new connection.
        response = await client.fetch(server.url("/dropped"))
        assert response.body == b"/dropped"
        assert server.connections == 2
        # A POST is not sent twice.
        server.drops = 1
        await client.fetch(server.url("/first"))
        with pytest.raises(HTTPStreamClosedError, match="before the server answered"):
            await client.fetch(server.url("/dropped"), method="POST", body="x")

    with_scripted(body)


def test_graceful_goaway_lets_processed_streams_finish() -> None:
    async def body(server: ScriptedServer, client: SimpleAsyncHTTPClient) -> None:
        response = await client.fetch(server.url("/goaway-then-answer"))
        assert response.body == b"late answer"
        # The connection was retired: the next request opens another.
        response = await client.fetch(server.url("/next"))
        assert response.body == b"/next"
        assert server.connections == 2

    with_scripted(body)


def test_goaway_with_error_fails_processed_stream() -> None:
    async def body(server: ScriptedServer, client: SimpleAsyncHTTPClient) -> None:
        with pytest.raises(HTTPStreamClosedError, match="GOAWAY INTERNAL_ERROR"):
            await client.fetch(server.url("/goaway-error"))
        response = await client.fetch(server.url("/fine"))
        assert response.body == b"/fine"
        assert server.connections == 2

    with_scripted(body)


def test_oversized_response_headers() -> None:
    async def body(server: ScriptedServer, client: SimpleAsyncHTTPClient) -> None:
        with pytest.raises(HTTPStreamClosedError, match="headers too large"):
            await client.fetch(server.url("/huge-headers"))
        response = await client.fetch(server.url("/fine"))
        assert response.body == b"/fine"

    with_scripted(body, max_header_size=2000)


def test_connection_refused_is_reported() -> None:
    async def main() -> None:
        client = h2_client(http2="prior_knowledge")
        try:
            with pytest.raises(ConnectionRefusedError):
                await client.fetch("http://127.0.0.1:%d/" % _free_port())
        finally:
            client.close()

    run(main)


# --- curl_httpclient ---------------------------------------------------------


def _curl_client(**kwargs: typing.Any) -> AsyncHTTPClient:
    curl_httpclient = pytest.importorskip("tornado.curl_httpclient")
    return curl_httpclient.CurlAsyncHTTPClient(force_instance=True, **kwargs)


def test_curl_http2_over_tls(hypercorn_tls: Peer) -> None:
    async def main() -> None:
        client = _curl_client(http2=True, max_clients=10)
        lines: typing.List[str] = []
        try:
            response = await client.fetch(
                hypercorn_tls.url("/echo"),
                validate_cert=False,
                header_callback=lines.append,
            )
            assert json.loads(response.body)["http_version"] == "2"
            assert lines[0].startswith("HTTP/2 200")
            responses = await asyncio.gather(
                *[
                    client.fetch(hypercorn_tls.url("/peer"), validate_cert=False)
                    for _ in range(10)
                ]
            )
            assert len({r.body for r in responses}) == 1
        finally:
            client.close()

    run(main)


def test_curl_h2c_prior_knowledge(hypercorn_h2c: Peer) -> None:
    async def main() -> None:
        client = _curl_client(http2="prior_knowledge", max_header_size=10000)
        plain = _curl_client(http2=True)
        try:
            response = await client.fetch(hypercorn_h2c.url("/echo"))
            assert json.loads(response.body)["http_version"] == "2"
            response = await plain.fetch(hypercorn_h2c.url("/echo"))
            assert json.loads(response.body)["http_version"] == "1.1"
        finally:
            client.close()
            plain.close()

    run(main)


def test_curl_bad_http2_value() -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="http2 must be"):
            _curl_client(http2="maybe")

    run(main)
