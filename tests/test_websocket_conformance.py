"""What the Autobahn TestSuite checks about closing and pings, as fast tests.

The full suite runs outside pytest (tests/autobahn/run.py); each behaviour
it found missing has a test here, with a raw socket playing the peer so
that every byte on the wire is seen:

* a connection failed by our end (RFC 6455 7.1.7: protocol error, bad
  UTF-8, ...) sends its Close frame and then closes TCP itself, without
  waiting for the peer's Close or for a timeout (7.1.1: the server closes
  first), on the server and on the client;
* the Close frame that answers the peer's survives a write backlog;
* every Ping gets its own Pong (5.5.2), and a peer that never reads its
  Pongs cannot make us buffer them without end.
"""

import base64
import hashlib
import socket
import struct
from typing import Any, Iterator, Tuple
from unittest import mock

import pytest

from tornado import websocket
from tornado.concurrent import Future
from tornado.iostream import IOStream
from tornado.tcpserver import TCPServer
from tornado.testing import AsyncHTTPTestCase, AsyncTestCase, bind_unused_port, gen_test
from tornado.web import Application
from tornado.websocket import WebSocketHandler, websocket_connect

from test_websocket import masked, raw_upgrade, unmasked


@pytest.fixture(autouse=True)
def no_close_timeout() -> Iterator[None]:
    # With the closing-handshake timeout out of the way, an endpoint that
    # waits instead of closing makes the test hang (and fail by timeout).
    with mock.patch.object(websocket, "_CLOSE_TIMEOUT", 3600):
        yield


async def read_frame(stream: IOStream) -> Tuple[int, bytes]:
    """One frame from a raw stream: (first byte, unmasked payload)."""
    first, second = await stream.read_bytes(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await stream.read_bytes(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await stream.read_bytes(8))
    key = await stream.read_bytes(4) if second & 0x80 else None
    payload = await stream.read_bytes(length) if length else b""
    if key is not None:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return first, payload


def close_code(payload: bytes) -> int:
    return struct.unpack("!H", payload[:2])[0]


class Echo(WebSocketHandler):
    def initialize(self, closed: "Future[Any]") -> None:
        self.closed = closed

    def on_message(self, message: Any) -> None:
        self.write_message(message, binary=isinstance(message, bytes))

    def on_close(self) -> None:
        if not self.closed.done():
            self.closed.set_result(self.close_code)


class BigFirst(WebSocketHandler):
    """Queues a message too big for the socket buffers on open."""

    SIZE = 8 << 20

    def open(self) -> None:
        self.write_message(b"x" * self.SIZE, binary=True)


class ServerTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        self.closed: Future[Any] = Future()
        return Application([("/", Echo, dict(closed=self.closed)), ("/big", BigFirst)])

    async def fail_with(self, data: bytes, code: int, answer: bool) -> None:
        stream = await raw_upgrade(self.get_http_port())
        stream.write(data)
        first, payload = await read_frame(stream)
        assert (first, close_code(payload)) == (0x88, code)
        if answer:
            # As a browser (or Autobahn) would: answer the Close, then
            # wait for the server to close the connection.
            stream.write(masked(0x88, payload[:2]))
        assert await stream.read_until_close() == b""
        assert await self.closed == code
        stream.close()

    @gen_test
    async def test_protocol_error_closes_the_connection(self) -> None:
        cases = [
            (masked(0xC1, b"rsv1"), 1002),  # reserved bit, no extension
            (masked(0x83, b"?"), 1002),  # reserved opcode
            (unmasked(0x81, b"hi"), 1002),  # clients must mask
            (masked(0x80, b"x"), 1002),  # continuation of nothing
            (masked(0x88, struct.pack("!H", 999)), 1002),  # bad close code
            (masked(0x81, b"\xce\xba\xe1\xbd\xb9\xed\xa0\x80"), 1007),  # not UTF-8
        ]
        for data, code in cases:
            for answer in (False, True):
                self.closed = Future()
                self._app.wildcard_router.rules[0].target_kwargs["closed"] = self.closed
                await self.fail_with(data + masked(0x89, b"after"), code, answer)

    @gen_test
    async def test_invalid_utf8_in_a_fragment_fails_before_the_message_ends(self) -> None:
        # Autobahn 6.4.x: the rest of the message never comes.
        await self.fail_with(masked(0x01, b"\xf4\x90\x80\x80"), 1007, answer=True)

    async def slow_reader(self, path: str) -> IOStream:
        """A raw client with a tiny receive buffer, upgraded on ``path``."""
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stream = IOStream(sock)
        await stream.connect(("127.0.0.1", self.get_http_port()))
        stream.write(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\n\r\n"
        )
        await stream.read_until(b"\r\n\r\n")
        return stream

    @gen_test
    async def test_close_answer_waits_for_the_backlog(self) -> None:
        stream = await self.slow_reader("/big")
        # The big message cannot have left yet; our Close overtakes it.
        stream.write(masked(0x88, struct.pack("!H", 1000)))
        assert await read_frame(stream) == (0x82, b"x" * BigFirst.SIZE)
        first, payload = await read_frame(stream)
        assert (first, close_code(payload)) == (0x88, 1000)
        assert await stream.read_until_close() == b""
        stream.close()

    @gen_test
    async def test_every_ping_gets_a_pong(self) -> None:
        # Autobahn 2.10 and 2.11: ten pings at once.
        stream = await raw_upgrade(self.get_http_port())
        payloads = [b"ping %d" % i for i in range(10)]
        stream.write(b"".join(masked(0x89, p) for p in payloads))
        assert [await read_frame(stream) for _ in payloads] == [(0x8A, p) for p in payloads]
        stream.write(masked(0x88, struct.pack("!H", 1000)))
        assert (await read_frame(stream))[0] == 0x88
        assert await stream.read_until_close() == b""
        stream.close()

    @gen_test
    async def test_pongs_for_a_peer_that_does_not_read_are_bounded(self) -> None:
        stream = await self.slow_reader("/big")
        # While the big message waits for the peer to read it, the first
        # pong waits behind it, and of the pings that come meanwhile only
        # the latest is answered, once that pong has gone.
        stream.write(b"".join(masked(0x89, b"%d" % i) for i in range(1000)))
        stream.write(masked(0x88, struct.pack("!H", 1000)))
        assert await read_frame(stream) == (0x82, b"x" * BigFirst.SIZE)
        assert await read_frame(stream) == (0x8A, b"0")
        assert await read_frame(stream) == (0x8A, b"999")
        assert (await read_frame(stream))[0] == 0x88
        assert await stream.read_until_close() == b""
        stream.close()


class MisbehavingServer(TCPServer):
    """Answers the handshake, then sends ``frames``; records what the
    client sends until it ends the connection."""

    def __init__(self, frames: bytes) -> None:
        super().__init__()
        self.frames = frames
        self.received: Future[bytes] = Future()

    async def handle_stream(self, stream: IOStream, address: Any) -> None:
        head = await stream.read_until(b"\r\n\r\n")
        key = [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
               if line.lower().startswith(b"sec-websocket-key:")][0]
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        stream.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n" + self.frames
        )
        self.received.set_result(await stream.read_until_close())
        stream.close()


class ClientTest(AsyncTestCase):
    async def connect_to(self, frames: bytes) -> Tuple[MisbehavingServer, Any]:
        sock, port = bind_unused_port()
        server = MisbehavingServer(frames)
        server.add_socket(sock)
        self.addCleanup(server.stop)
        ws = await websocket_connect("ws://127.0.0.1:%d/" % port)
        return server, ws

    @gen_test
    async def test_protocol_error_closes_the_connection(self) -> None:
        # A masked frame from a server: the client fails the connection,
        # sends its Close, and ends the TCP connection by itself.
        server, ws = await self.connect_to(masked(0x81, b"masked"))
        assert await ws.read_message() is None
        data = await server.received
        first, second = data[0], data[1]
        assert first == 0x88 and second & 0x80
        payload = bytes(b ^ data[2 + i % 4] for i, b in enumerate(data[6:]))
        assert close_code(payload) == 1002
        assert ws.close_code == 1002

    @gen_test
    async def test_every_ping_gets_a_pong(self) -> None:
        payloads = [b"%d" % i for i in range(10)]
        close = unmasked(0x88, struct.pack("!H", 1000))
        server, ws = await self.connect_to(b"".join(unmasked(0x89, p) for p in payloads) + close)
        assert await ws.read_message() is None
        data = await server.received
        stream_frames = []
        while data:
            length = data[1] & 0x7F
            key = data[2:6]
            stream_frames.append((data[0], bytes(b ^ key[i % 4] for i, b in enumerate(data[6 : 6 + length]))))
            data = data[6 + length :]
        assert stream_frames == [(0x8A, p) for p in payloads] + [(0x88, struct.pack("!H", 1000))]

    @gen_test
    async def test_reader_answers_before_a_protocol_error_is_handled(self) -> None:
        # Autobahn 3.2, 4.x, 5.15: a message, then a bad frame, in one
        # piece.  The echo of the message goes out before the Close.
        server, ws = await self.connect_to(unmasked(0x81, b"hello") + unmasked(0x85, b""))
        message = await ws.read_message()
        ws.write_message(message)
        assert await ws.read_message() is None
        data = await server.received
        assert data[0] == 0x81 and data[6:11] == bytes(b ^ data[2 + i % 4] for i, b in enumerate(b"hello"))
        assert data[11] == 0x88
