"""tornado.tcpserver: echo servers on real sockets, plain and TLS, one
process and several."""

import asyncio
import logging
import os
import socket
import ssl
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from tornado.iostream import IOStream, SSLIOStream, StreamClosedError
from tornado.netutil import bind_sockets
from tornado.tcpserver import TCPServer
from support import run

DATA_DIR = os.path.join(os.path.dirname(__file__), "iostream_data")
CERT = os.path.join(DATA_DIR, "server.crt")
KEY = os.path.join(DATA_DIR, "server.key")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class EchoServer(TCPServer):
    """Echoes lines back until the client closes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.addresses: list[Any] = []

    async def handle_stream(self, stream: IOStream, address: Any) -> None:
        self.addresses.append(address)
        try:
            while True:
                line = await stream.read_until(b"\n")
                await stream.write(line)
        except StreamClosedError:
            pass


def start(server: TCPServer, host: str = "127.0.0.1") -> int:
    [sock] = bind_sockets(0, host)
    server.add_socket(sock)
    return sock.getsockname()[1]


async def echo_once(port: int, data: bytes, ssl_ctx: Any = None) -> bytes:
    if ssl_ctx is None:
        stream: IOStream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", port))
    else:
        stream = SSLIOStream(socket.socket(), ssl_options=ssl_ctx)
        await stream.connect(("127.0.0.1", port), server_hostname="localhost")
    stream.write(data)
    reply = await stream.read_until(b"\n")
    stream.close()
    return reply


def test_echo_coroutine_handler() -> None:
    async def main() -> None:
        server = EchoServer()
        port = start(server)
        replies = await asyncio.gather(*(echo_once(port, b"msg %d\n" % i) for i in range(5)))
        assert sorted(replies) == [b"msg %d\n" % i for i in range(5)]
        assert all(a[0] == "127.0.0.1" for a in server.addresses)
        server.stop()

    run(main)


def test_listen_and_stop_closes_listeners() -> None:
    async def main() -> None:
        server = EchoServer()
        for _attempt in range(5):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            try:
                server.listen(port, address="127.0.0.1")
                break
            except OSError:
                # Another process took the free port meanwhile; pick again.
                continue
        assert await echo_once(port, b"up\n") == b"up\n"
        server.stop()
        server.stop()  # twice is fine
        with pytest.raises(StreamClosedError):
            await echo_once(port, b"down\n")

    run(main)


@pytest.mark.parametrize("form", ["dict", "context"])
def test_tls_server(form: str) -> None:
    async def main() -> None:
        if form == "dict":
            options: Any = {"certfile": CERT, "keyfile": KEY}
        else:
            options = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            options.load_cert_chain(CERT, KEY)
        server = EchoServer(ssl_options=options)
        port = start(server)
        client_ctx = ssl.create_default_context(cafile=CERT)
        for i in range(2):  # the context built from the dict is reused
            assert await echo_once(port, b"tls %d\n" % i, client_ctx) == b"tls %d\n" % i
        server.stop()

    run(main)


def test_tls_server_rejects_plaintext(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        server = EchoServer(ssl_options={"certfile": CERT, "keyfile": KEY})
        port = start(server)
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", port))
        stream.write(b"GET / HTTP/1.0\r\n\r\n")
        # The server gives up on the handshake and closes the connection.
        await stream.read_until_close()
        server.stop()

    with caplog.at_level(logging.WARNING, logger="tornado.general"):
        run(main)
    assert "SSL Error" in caplog.text


def test_bad_ssl_options_fail_early() -> None:
    with pytest.raises(KeyError):
        TCPServer(ssl_options={"keyfile": KEY})
    with pytest.raises(ValueError):
        TCPServer(ssl_options={"certfile": "/no/such.crt"})
    with pytest.raises(ValueError):
        TCPServer(ssl_options={"certfile": CERT, "keyfile": "/no/such.key"})


def test_handler_exception_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Failing(TCPServer):
        async def handle_stream(self, stream: IOStream, address: Any) -> None:
            stream.close()
            raise ZeroDivisionError("handler bug")

    async def main() -> None:
        server = Failing()
        port = start(server)
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", port))
        await stream.read_until_close()
        await asyncio.sleep(0.05)
        server.stop()

    with caplog.at_level(logging.ERROR):
        run(main)
    assert "handler bug" in caplog.text


def test_stream_options_reach_streams() -> None:
    async def main() -> None:
        seen: list[IOStream] = []

        class Recorder(TCPServer):
            def handle_stream(self, stream: IOStream, address: Any) -> None:
                seen.append(stream)
                stream.close()

        server = Recorder(max_buffer_size=1000, read_chunk_size=100)
        port = start(server)
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", port))
        await stream.read_until_close()
        assert seen[0].max_buffer_size == 1000 and seen[0].read_chunk_size == 100
        server.stop()

    run(main)


def test_bind_start_several_processes() -> None:
    code = textwrap.dedent(
        """
        import warnings
        from tornado.ioloop import IOLoop
        from tornado.process import task_id
        from tornado.tcpserver import TCPServer

        server = TCPServer()
        server.bind(0, address="127.0.0.1")
        server.start(3)
        IOLoop.current().run_sync(lambda: None)
        print(task_id(), end="")
        """
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "".join(sorted(proc.stdout)) == "012"
