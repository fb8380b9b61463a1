"""Tests for tornado.websocket.

The first half drives the frame codec and the permessage-deflate helpers
with bytes only; every reader input is fed three ways (all at once, one byte
at a time, and followed by unrelated trailing bytes).  The second half runs
conversations between our server and our client (or a raw socket playing a
misbehaving peer) over 127.0.0.1.
"""

import asyncio
import base64
import contextvars
import hashlib
import os
import socket
import struct
from typing import Any, List, Optional, Tuple

import pytest

from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream
from tornado.testing import AsyncHTTPTestCase, gen_test
from tornado.util import _websocket_mask_python
from tornado.web import Application
from tornado.websocket import (
    WebSocketClosedError,
    WebSocketHandler,
    WebSocketProtocol13,
    _build_frame,
    _DecompressTooLargeError,
    _FrameReader,
    _negotiate_deflate,
    _parse_close,
    _parse_extensions,
    _PerMessageDeflateCompressor,
    _PerMessageDeflateDecompressor,
    _WebSocketProtocolError,
    websocket_connect,
)

# ---------------------------------------------------------------------------
# Codec
# ---------------------------------------------------------------------------


def masked(first: int, payload: bytes, key: bytes = b"\x01\x02\x03\x04") -> bytes:
    """A client frame built by hand (RFC 6455 5.2), independent of _build_frame."""
    n = len(payload)
    if n < 126:
        head = bytes([first, 0x80 | n])
    elif n < 65536:
        head = bytes([first, 0x80 | 126]) + struct.pack("!H", n)
    else:
        head = bytes([first, 0x80 | 127]) + struct.pack("!Q", n)
    return head + key + _websocket_mask_python(key, payload)


def unmasked(first: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes([first, n]) + payload
    if n < 65536:
        return bytes([first, 126]) + struct.pack("!H", n) + payload
    return bytes([first, 127]) + struct.pack("!Q", n) + payload


async def raw_upgrade(port: int, path: str = "/") -> IOStream:
    """A plain IOStream that has completed the WebSocket handshake on
    ``path`` and now speaks raw frames (the 101 answer is consumed)."""
    stream = IOStream(socket.socket())
    await stream.connect(("127.0.0.1", port))
    stream.write(
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\n\r\n"
    )
    head = await stream.read_until(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 "), head
    return stream


def drain(reader: _FrameReader) -> List[Tuple[int, bytes, bool]]:
    out = []
    while True:
        item = reader.next_message()
        if item is None:
            return out
        out.append(item)


def feed_three_ways(
    data: bytes, from_client: bool = True, max_size: int = 1 << 20, deflate: bool = False
) -> List[Tuple[int, bytes, bool]]:
    """Parse ``data`` whole, byte by byte and with a trailing partial frame;
    all three must give the same messages, which are returned."""
    results = []
    whole = _FrameReader(from_client, max_size, deflate)
    whole.feed(data)
    results.append(drain(whole))

    trickle = _FrameReader(from_client, max_size, deflate)
    got: List[Tuple[int, bytes, bool]] = []
    for i in range(len(data)):
        trickle.feed(data[i : i + 1])
        got.extend(drain(trickle))
    results.append(got)

    trailing = _FrameReader(from_client, max_size, deflate)
    trailing.feed(data + b"\x81")  # the start of another frame
    results.append(drain(trailing))
    assert trailing.buffered() == 1

    assert results[0] == results[1] == results[2]
    return results[0]


def expect_error(
    data: bytes, code: int, from_client: bool = True, max_size: int = 1 << 20
) -> None:
    for chunks in ([data], [data[i : i + 1] for i in range(len(data))]):
        reader = _FrameReader(from_client, max_size)
        with pytest.raises(_WebSocketProtocolError) as info:
            for chunk in chunks:
                reader.feed(chunk)
                drain(reader)
        assert info.value.code == code


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_frame_sizes_round_trip(size: int) -> None:
    payload = os.urandom(size)
    # Client to server: masked.
    frame = _build_frame(True, 0x2, payload, mask=True)
    assert frame[1] & 0x80
    reader = _FrameReader(True, 1 << 20)
    reader.feed(frame)
    assert drain(reader) == [(0x2, payload, False)]
    # Server to client: unmasked.
    frame = _build_frame(True, 0x2, payload)
    assert frame == unmasked(0x82, payload)
    assert feed_three_ways(frame, from_client=False) == [(0x2, payload, False)]


def test_masked_frame_three_ways() -> None:
    assert feed_three_ways(masked(0x81, b"Hello")) == [(0x1, b"Hello", False)]


def test_rfc6455_examples() -> None:
    # RFC 6455 5.7: a single-frame unmasked text message and a masked one.
    assert feed_three_ways(b"\x81\x05\x48\x65\x6c\x6c\x6f", from_client=False) == [
        (0x1, b"Hello", False)
    ]
    assert feed_three_ways(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58") == [
        (0x1, b"Hello", False)
    ]
    # A fragmented unmasked text message.
    assert feed_three_ways(b"\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f", from_client=False) == [
        (0x1, b"Hello", False)
    ]


def test_fragments_with_interleaved_ping() -> None:
    data = (
        masked(0x02, b"ab")  # binary, not final
        + masked(0x89, b"ping!")  # control frames may come between fragments
        + masked(0x00, b"cd")
        + masked(0x80, b"ef")
    )
    assert feed_three_ways(data) == [(0x9, b"ping!", False), (0x2, b"abcdef", False)]


def test_several_messages_in_one_chunk() -> None:
    data = masked(0x81, b"one") + masked(0x82, b"two") + masked(0x8A, b"")
    assert feed_three_ways(data) == [
        (0x1, b"one", False),
        (0x2, b"two", False),
        (0xA, b"", False),
    ]


def test_feed_after_a_frame_that_ended_a_chunk() -> None:
    # Bytes fed while earlier ones are unparsed keep their order, even when
    # parsing then stops exactly at the end of the first chunk.
    reader = _FrameReader(False, 1000)
    second = unmasked(0x81, b"abc")
    reader.feed(unmasked(0x81, b"hi"))
    reader.feed(second[:1])
    assert reader.next_message() == (0x1, b"hi", False)
    assert reader.next_message() is None
    reader.feed(second[1:])
    assert reader.next_message() == (0x1, b"abc", False)
    assert reader.next_message() is None


def test_compressed_flag_on_first_fragment() -> None:
    data = masked(0x41, b"x") + masked(0x80, b"y")
    assert feed_three_ways(data, deflate=True) == [(0x1, b"xy", True)]


@pytest.mark.parametrize(
    "data, code",
    [
        (unmasked(0x81, b"hi"), 1002),  # clients MUST mask
        (masked(0xA1, b"hi"), 1002),  # RSV2
        (masked(0x91, b"hi"), 1002),  # RSV3
        (masked(0xC1, b"hi"), 1002),  # RSV1 with no extension agreed
        (masked(0x89, b"x" * 126), 1002),  # control frame too long
        (masked(0x09, b"x"), 1002),  # fragmented control frame
        (masked(0x83, b"x"), 1002),  # reserved data opcode
        (masked(0x8B, b"x"), 1002),  # reserved control opcode
        (masked(0x80, b"x"), 1002),  # continuation with nothing to continue
        (masked(0x01, b"a") + masked(0x81, b"b"), 1002),  # interrupted message
        (b"\x82\xff" + b"\x80" + b"\0" * 7 + b"key!", 1002),  # 64-bit length, top bit
    ],
)
def test_protocol_errors(data: bytes, code: int) -> None:
    expect_error(data, code)


def test_masked_frame_from_server_is_an_error() -> None:
    expect_error(masked(0x81, b"hi"), 1002, from_client=False)


def test_rsv1_rules_with_deflate() -> None:
    for data in (masked(0xC9, b""), masked(0x01, b"a") + masked(0xC0, b"b")):
        reader = _FrameReader(True, 100, deflate=True)
        reader.feed(data)
        with pytest.raises(_WebSocketProtocolError) as info:
            drain(reader)
        assert info.value.code == 1002


def test_too_big() -> None:
    # One frame over the limit is refused from its header alone.
    header_only = masked(0x82, b"x" * 101)[:8]
    reader = _FrameReader(True, 100)
    reader.feed(header_only)
    with pytest.raises(_WebSocketProtocolError) as info:
        drain(reader)
    assert (info.value.code, info.value.reason) == (1009, "message too big")
    # So are fragments that add up to too much.
    expect_error(masked(0x02, b"x" * 60) + masked(0x80, b"y" * 60), 1009, max_size=100)
    # Exactly the limit is fine.
    assert feed_three_ways(masked(0x82, b"x" * 100), max_size=100) == [
        (0x2, b"x" * 100, False)
    ]


def test_parse_close() -> None:
    assert _parse_close(b"") == (None, None)
    assert _parse_close(struct.pack("!H", 1000)) == (1000, None)
    assert _parse_close(struct.pack("!H", 4000) + "bye \u00e9".encode()) == (
        4000,
        "bye \u00e9",
    )
    for payload, code in [
        (b"\x03", 1002),
        (struct.pack("!H", 1005), 1002),
        (struct.pack("!H", 1006), 1002),
        (struct.pack("!H", 999), 1002),
        (struct.pack("!H", 2000), 1002),
        (struct.pack("!H", 5000), 1002),
        (struct.pack("!H", 1000) + b"\xff", 1007),
    ]:
        with pytest.raises(_WebSocketProtocolError) as info:
            _parse_close(payload)
        assert info.value.code == code, payload


def test_accept_value_rfc_example() -> None:
    # RFC 6455 1.3.
    assert (
        WebSocketProtocol13.compute_accept_value("dGhlIHNhbXBsZSBub25jZQ==")
        == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    )


def test_ping_sleep_time() -> None:
    assert WebSocketProtocol13.ping_sleep_time(last_ping_time=100, interval=10, now=104) == 6
    assert WebSocketProtocol13.ping_sleep_time(last_ping_time=100, interval=10, now=120) == 0


# ---------------------------------------------------------------------------
# permessage-deflate
# ---------------------------------------------------------------------------


def test_deflate_rfc7692_example() -> None:
    # RFC 7692 7.2.3.1: "Hello" compressed, without the trailing 00 00 ff ff.
    data = bytes([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
    assert _PerMessageDeflateDecompressor(True, None, 100).decompress(data) == b"Hello"
    assert _PerMessageDeflateCompressor(True, None).compress(b"Hello") == data


def test_deflate_context_takeover() -> None:
    message = b"Hello world. Testing 123 123" * 3
    for persistent in (True, False):
        compressor = _PerMessageDeflateCompressor(persistent, 15)
        decompressor = _PerMessageDeflateDecompressor(persistent, 15, 1 << 20)
        sizes = []
        for _ in range(3):
            data = compressor.compress(message)
            sizes.append(len(data))
            assert decompressor.decompress(data) == message
        if persistent:
            # Later messages refer back to the first.
            assert sizes[1] < sizes[0]
        else:
            assert sizes[0] == sizes[1] == sizes[2]


@pytest.mark.parametrize("wbits", [9, 12, 15])
def test_deflate_window_bits(wbits: int) -> None:
    message = os.urandom(50) * 200
    data = _PerMessageDeflateCompressor(True, wbits).compress(message)
    assert _PerMessageDeflateDecompressor(True, wbits, 1 << 20).decompress(data) == message


def test_deflate_bad_window_bits() -> None:
    for bits in (7, 16):
        with pytest.raises(ValueError):
            _PerMessageDeflateCompressor(True, bits)
        with pytest.raises(ValueError):
            _PerMessageDeflateDecompressor(True, bits, 10)


def test_deflate_size_limit() -> None:
    data = _PerMessageDeflateCompressor(False, None).compress(b"\0" * 1000)
    assert _PerMessageDeflateDecompressor(False, None, 1000).decompress(data) == b"\0" * 1000
    with pytest.raises(_DecompressTooLargeError):
        _PerMessageDeflateDecompressor(False, None, 999).decompress(data)


def test_parse_extensions() -> None:
    assert _parse_extensions(
        'permessage-deflate; client_max_window_bits, x-foo; a="1" ;b'
    ) == [
        ("permessage-deflate", {"client_max_window_bits": None}),
        ("x-foo", {"a": "1", "b": None}),
    ]
    assert _parse_extensions("") == []
    with pytest.raises(ValueError):
        _parse_extensions("permessage-deflate; a; a")


@pytest.mark.parametrize(
    "header, agreed",
    [
        ("permessage-deflate", {}),
        ("permessage-deflate; client_max_window_bits", {}),
        (
            "permessage-deflate; client_max_window_bits=10; server_no_context_takeover",
            {"server_no_context_takeover": None, "client_max_window_bits": "10"},
        ),
        (
            "permessage-deflate; server_max_window_bits=12; client_no_context_takeover",
            {"client_no_context_takeover": None, "server_max_window_bits": "12"},
        ),
        # Unknown parameters or bad values decline that offer; the next one
        # may still be accepted.
        ("permessage-deflate; foo=1", None),
        ("permessage-deflate; server_max_window_bits", None),
        ("permessage-deflate; server_max_window_bits=16", None),
        ("permessage-deflate; server_max_window_bits=8", None),
        ("permessage-deflate; server_no_context_takeover=1", None),
        ("permessage-deflate; foo, permessage-deflate", {}),
        ("x-other", None),
    ],
)
def test_negotiate_deflate(header: str, agreed: Optional[dict]) -> None:
    assert _negotiate_deflate(_parse_extensions(header)) == agreed


# ---------------------------------------------------------------------------
# Server and client over 127.0.0.1
# ---------------------------------------------------------------------------


class EchoHandler(WebSocketHandler):
    def initialize(self, compression: Optional[dict] = None, closed: Optional[Future] = None) -> None:
        self.compression = compression
        self.closed = closed

    def get_compression_options(self) -> Optional[dict]:
        return self.compression

    async def on_message(self, message: Any) -> None:
        if message == "close me":
            self.close(4001, "as you wish")
            return
        try:
            await self.write_message(message, binary=isinstance(message, bytes))
        except WebSocketClosedError:
            pass

    def on_ping(self, data: bytes) -> None:
        self.write_message("ping " + data.decode())

    def on_close(self) -> None:
        if self.closed is not None and not self.closed.done():
            self.closed.set_result((self.close_code, self.close_reason))


class ConversationTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        self.closed: Future = Future()
        return Application(
            [
                ("/echo", EchoHandler, dict(closed=self.closed)),
                ("/deflate", EchoHandler, dict(compression={}, closed=self.closed)),
            ],
            websocket_max_message_size=4096,
        )

    def url(self, path: str) -> str:
        return "ws://127.0.0.1:%d%s" % (self.get_http_port(), path)

    async def conversation(self, path: str, compression: Optional[dict]) -> None:
        ws = await websocket_connect(self.url(path), compression_options=compression)
        try:
            for message in ["hello", "h\u00e9llo", b"\x00\xff binary", "x" * 3000]:
                await ws.write_message(message, binary=isinstance(message, bytes))
                assert await ws.read_message() == message
            # Both sides counted the same uncompressed bytes.
            assert ws.protocol._message_bytes_out == ws.protocol._message_bytes_in
            if compression is not None and path == "/deflate":
                assert ws.protocol._wire_bytes_out < ws.protocol._message_bytes_out
            else:
                assert ws.protocol._wire_bytes_out > ws.protocol._message_bytes_out
            ws.ping(b"abc")
            assert await ws.read_message() == "ping abc"
        finally:
            ws.close(1000, "done")
        assert await self.closed == (1000, "done")

    @gen_test
    async def test_uncompressed(self) -> None:
        await self.conversation("/echo", None)

    @gen_test
    async def test_compressed(self) -> None:
        await self.conversation("/deflate", {})

    @gen_test
    async def test_compression_offered_but_declined(self) -> None:
        await self.conversation("/echo", {})

    @gen_test
    async def test_server_initiated_close(self) -> None:
        ws = await websocket_connect(self.url("/echo"))
        await ws.write_message("close me")
        assert await ws.read_message() is None
        assert (ws.close_code, ws.close_reason) == (4001, "as you wish")
        assert (await self.closed)[0] == 4001
        with pytest.raises(WebSocketClosedError):
            ws.write_message("too late")

    @gen_test
    async def test_too_big(self) -> None:
        ws = await websocket_connect(self.url("/echo"))
        await ws.write_message("x" * 4097)
        assert await ws.read_message() is None
        assert (ws.close_code, ws.close_reason) == (1009, "message too big")

    @gen_test
    async def test_compression_bomb(self) -> None:
        ws = await websocket_connect(self.url("/deflate"), compression_options={})
        await ws.write_message(b"\0" * 100000, binary=True)
        assert await ws.read_message() is None
        assert ws.close_code == 1009

    @gen_test
    async def test_handshake_errors(self) -> None:
        base = {
            "Upgrade": "websocket",
            "Connection": "keep-alive, Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        }
        cases = [
            ({"Upgrade": "h2c"}, 400),
            ({"Connection": "keep-alive"}, 400),
            ({"Sec-WebSocket-Key": "c2hvcnQ="}, 400),  # decodes to 5 bytes
            ({"Sec-WebSocket-Key": ""}, 400),
            ({"Sec-WebSocket-Version": "12"}, 426),
            ({"Origin": "http://elsewhere.example"}, 403),
        ]
        for change, status in cases:
            headers = dict(base, **change)
            response = await self.http_client.fetch(
                self.get_url("/echo"), headers=headers, raise_error=False
            )
            assert response.code == status, (change, response.code)
            if status == 426:
                assert response.headers["Sec-WebSocket-Version"] == "7, 8, 13"

    async def raw_connection(self, path: bytes = b"/echo", extra: bytes = b"") -> Tuple[IOStream, bytes]:
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", self.get_http_port()))
        key = base64.b64encode(os.urandom(16))
        stream.write(
            b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" + extra +
            b"Sec-WebSocket-Key: " + key + b"\r\n\r\n"
        )
        head = await stream.read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 ")
        accept = base64.b64encode(
            hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
        )
        assert b"Sec-Websocket-Accept: " + accept in head
        return stream, head

    @gen_test
    async def test_malformed_deflate_offer_is_declined(self) -> None:
        # RFC 7692 5: an offer with a parameter twice is declined; the
        # connection opens without compression (it used to be dropped).
        offer = b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; client_max_window_bits=10\r\n"
        stream, head = await self.raw_connection(b"/deflate", offer)
        assert b"sec-websocket-extensions" not in head.lower()
        stream.write(masked(0x81, b"plain"))
        assert await self.read_frame(stream) == (0x81, b"plain")
        stream.close()
        await self.closed

    async def read_frame(self, stream: IOStream) -> Tuple[int, bytes]:
        first, second = await stream.read_bytes(2)
        assert not second & 0x80  # servers don't mask
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await stream.read_bytes(2))
        payload = await stream.read_bytes(length) if length else b""
        return first, payload

    @gen_test
    async def test_raw_fragmented_message_and_close(self) -> None:
        stream, _ = await self.raw_connection()
        stream.write(
            masked(0x01, b"frag")
            + masked(0x89, b"p")
            + masked(0x00, b"men")
            + masked(0x80, b"ted")
        )
        # The pong comes first, then on_ping's message, then the echo.
        assert await self.read_frame(stream) == (0x8A, b"p")
        assert await self.read_frame(stream) == (0x81, b"ping p")
        assert await self.read_frame(stream) == (0x81, b"fragmented")
        stream.write(masked(0x88, struct.pack("!H", 1001) + b"bye"))
        # The server echoes the code and closes the connection.
        assert await self.read_frame(stream) == (0x88, struct.pack("!H", 1001))
        assert await stream.read_until_close() == b""
        assert await self.closed == (1001, "bye")

    async def expect_failure(self, data: bytes, code: int) -> None:
        stream, _ = await self.raw_connection()
        stream.write(data)
        first, payload = await self.read_frame(stream)
        assert first == 0x88
        assert struct.unpack("!H", payload[:2])[0] == code
        stream.close()
        await self.closed

    @gen_test
    async def test_unmasked_frame_fails_with_1002(self) -> None:
        await self.expect_failure(unmasked(0x81, b"hi"), 1002)

    @gen_test
    async def test_invalid_utf8_fails_with_1007(self) -> None:
        await self.expect_failure(masked(0x81, b"\xff\xfe"), 1007)

    @gen_test
    async def test_bad_close_code_fails_with_1002(self) -> None:
        await self.expect_failure(masked(0x88, struct.pack("!H", 1005)), 1002)

    @gen_test
    async def test_too_long_ping_fails_with_1002(self) -> None:
        await self.expect_failure(masked(0x89, b"x" * 126), 1002)


class OpenArgumentsTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        self.opened: List[Tuple[Any, Any, Any]] = []
        test = self

        class Handler(WebSocketHandler):
            def open(self, *args: str, **kwargs: str) -> None:
                test.opened.append((args, kwargs, (self.open_args, self.open_kwargs)))

            def on_message(self, message: Any) -> None:
                self.write_message(message)

        return Application(
            [(r"/named/(?P<name>\w+)", Handler), (r"/positional/(\w+)", Handler), (r"/", Handler)]
        )

    @gen_test
    async def test_open_gets_the_path_arguments(self) -> None:
        port = self.get_http_port()
        for path in ["/named/ab", "/positional/cd", "/"]:
            ws = await websocket_connect("ws://127.0.0.1:%d%s" % (port, path))
            await ws.write_message("x")
            assert await ws.read_message() == "x"
            ws.close()
        assert self.opened == [
            ((), {"name": "ab"}, ((), {"name": "ab"})),
            (("cd",), {}, (("cd",), {})),
            ((), {}, ((), {})),
        ]


class FloodTest(AsyncHTTPTestCase):
    """Many frames arriving in one piece: a synchronous handler gets them a
    turn's worth at a time, an asynchronous one each after the previous
    one has finished; nothing is lost or reordered."""

    def get_app(self) -> Application:
        test = self
        self.running = 0
        self.overlapped = False

        class SyncEcho(WebSocketHandler):
            def on_message(self, message: Any) -> None:
                self.write_message(message)

        class SlowEcho(WebSocketHandler):
            async def on_message(self, message: Any) -> None:
                test.running += 1
                test.overlapped |= test.running > 1
                if int(message) % 7 == 0:
                    await gen.sleep(0.001)
                else:
                    await gen.moment
                test.running -= 1
                self.write_message(message)

        return Application([("/sync", SyncEcho), ("/slow", SlowEcho)])

    async def flood(self, path: str, count: int) -> None:
        stream = await raw_upgrade(self.get_http_port(), path)
        messages = [b"%d" % i for i in range(count)]
        stream.write(b"".join(masked(0x81, m) for m in messages))
        expected = b"".join(unmasked(0x81, m) for m in messages)
        assert await stream.read_bytes(len(expected)) == expected
        stream.close()

    @gen_test
    async def test_sync_handler(self) -> None:
        await self.flood("/sync", 1000)

    @gen_test
    async def test_async_handler(self) -> None:
        await self.flood("/slow", 200)
        assert not self.overlapped


class PingTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        self.pongs: List[bytes] = []
        test = self

        class Handler(WebSocketHandler):
            def on_pong(self, data: bytes) -> None:
                test.pongs.append(data)

        return Application([("/", Handler)], websocket_ping_interval=0.02)

    @gen_test
    async def test_server_pings_client_answers(self) -> None:
        ws = await websocket_connect("ws://127.0.0.1:%d/" % self.get_http_port())
        while len(self.pongs) < 2:
            await gen.sleep(0.01)
        assert self.pongs[:2] == [b"", b""]
        ws.close()


class BatchedWritesTest(AsyncHTTPTestCase):
    """Frames written while a batch of received frames is handled leave in
    as few writes as possible; frames written outside a batch go to the
    stream at once."""

    def get_app(self) -> Application:
        self.handlers: List[WebSocketHandler] = []
        self.results: List[Any] = []
        test = self

        class Handler(WebSocketHandler):
            def open(self) -> None:
                test.handlers.append(self)

            def on_message(self, message: Any) -> None:
                if message == "burst":
                    futures = [self.write_message("m%d" % i) for i in range(5)]
                    # The first frame went out at once; the rest are held
                    # until the end of the batch and share one write.
                    test.results.append(futures[0].done())
                    test.results.append(all(f is futures[1] for f in futures[1:]))
                    test.results.append(futures[1].done())
                    IOLoop.current().add_future(
                        futures[-1], lambda f: test.results.append(f.result())
                    )
                elif message == "broken":
                    self.write_message("sent")
                    future = self.write_message("lost")
                    self.ws_connection.stream.close()
                    IOLoop.current().add_future(
                        future, lambda f: test.results.append(type(f.exception()))
                    )

        return Application([("/", Handler)])

    def url(self) -> str:
        return "ws://127.0.0.1:%d/" % self.get_http_port()

    @gen_test
    async def test_burst_keeps_order(self) -> None:
        ws = await websocket_connect(self.url())
        await ws.write_message("burst")
        assert [await ws.read_message() for _ in range(5)] == ["m%d" % i for i in range(5)]
        while len(self.results) < 4:
            await gen.sleep(0.01)
        assert self.results == [True, True, False, None]
        ws.close()

    @gen_test
    async def test_held_back_write_then_stream_closed(self) -> None:
        ws = await websocket_connect(self.url())
        await ws.write_message("broken")
        assert await ws.read_message() == "sent"
        assert await ws.read_message() is None
        while not self.results:
            await gen.sleep(0.01)
        assert self.results == [WebSocketClosedError]

    @gen_test
    async def test_write_outside_a_batch_is_sent_at_once(self) -> None:
        ws = await websocket_connect(self.url())
        while not self.handlers:
            await gen.sleep(0.01)
        handler = self.handlers[0]
        # Not in a batch of received frames: no wait for the loop.
        futures = [handler.write_message("now %d" % i) for i in range(3)]
        assert all(f.done() for f in futures)
        assert [await ws.read_message() for _ in range(3)] == ["now 0", "now 1", "now 2"]
        ws.close()

    @gen_test
    async def test_pending_write_then_stream_closed(self) -> None:
        # A raw client that never reads: a big message stays queued.
        stream = await raw_upgrade(self.get_http_port(), "/")
        while not self.handlers:
            await gen.sleep(0.01)
        handler = self.handlers[0]
        future = handler.write_message(b"x" * (32 << 20), binary=True)
        assert not future.done()
        handler.ws_connection.stream.close()
        with pytest.raises(WebSocketClosedError):
            await future
        stream.close()

    @gen_test
    async def test_same_message_to_many_connections(self) -> None:
        clients = [await websocket_connect(self.url()) for _ in range(3)]
        while len(self.handlers) < 3:
            await gen.sleep(0.01)
        message = "to everyone \u00e9"
        for handler in self.handlers:
            handler.write_message(message)
        for handler in self.handlers:
            handler.write_message(message, binary=True)
        for ws in clients:
            assert await ws.read_message() == message
            assert await ws.read_message() == message.encode()
            ws.close()


class PingTimeoutTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        self.closed: Future = Future()
        return Application(
            [("/echo", EchoHandler, dict(closed=self.closed))],
            websocket_ping_interval=0.05,
            websocket_ping_timeout=0.1,
        )

    @gen_test
    async def test_silent_client_is_closed(self) -> None:
        # A raw client that never answers pings.
        stream = await raw_upgrade(self.get_http_port(), "/echo")
        frames = []
        while True:
            first, length = await stream.read_bytes(2)
            payload = await stream.read_bytes(length) if length else b""
            frames.append((first, payload))
            if first == 0x88:
                break
        assert frames[0] == (0x89, b"")
        assert frames[-1] == (0x88, struct.pack("!H", 1000) + b"ping timed out")
        stream.write(masked(0x88, struct.pack("!H", 1000)))
        assert await self.closed == (1000, "ping timed out")
        stream.close()


_span: "contextvars.ContextVar[Optional[str]]" = contextvars.ContextVar("span", default=None)


class _TracedHandler(WebSocketHandler):
    # OpenTelemetry's pattern: a span attached in prepare(), current in every
    # callback of the connection, detached with its token in on_close().
    seen: List[Tuple[str, Optional[str]]]

    def prepare(self):
        self.token = _span.set("request span")

    def open(self):
        self.seen.append(("open", _span.get()))

    async def on_message(self, message):
        self.seen.append(("on_message", _span.get()))
        self.write_message(message)

    def on_close(self):
        self.seen.append(("on_close", _span.get()))
        _span.reset(self.token)  # ValueError in any other context
        self.seen.append(("reset", _span.get()))


def test_callbacks_run_in_the_context_of_the_opening_request():
    seen: List[Tuple[str, Optional[str]]] = []
    _TracedHandler.seen = seen

    async def main():
        server = Application([("/ws", _TracedHandler)]).listen(0, address="127.0.0.1")
        port = next(iter(server._sockets.values())).getsockname()[1]
        client = await websocket_connect("ws://127.0.0.1:%d/ws" % port)
        await client.write_message("hi")
        assert await client.read_message() == "hi"
        client.close()
        for _ in range(100):
            if len(seen) == 4:
                break
            await asyncio.sleep(0.01)
        server.stop()
        return _span.get()

    assert asyncio.run(main()) is None
    assert seen == [
        ("open", "request span"),
        ("on_message", "request span"),
        ("on_close", "request span"),
        ("reset", None),
    ]
