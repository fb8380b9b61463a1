"""Hostile HTTP/2 peers against `HTTPServer(app, http2=True)`.

Each test plays one attack with raw frames (the ``h2`` client state
machine where it allows the move, ``hyperframe``/``hpack`` where it
doesn't) over a real socket, checks the server's answer (GOAWAY or
RST_STREAM with the error code RFC 9113 names) and that a new connection
is still served.
"""

import time
from typing import Any, List

import pytest

pytest.importorskip("h2")
import hpack  # noqa: E402
import h2.events  # noqa: E402
import h2.settings  # noqa: E402
from hyperframe.frame import (  # noqa: E402
    ContinuationFrame,
    DataFrame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    RstStreamFrame,
    SettingsFrame,
)

from test_http2 import RawClient, Server, read_frames  # noqa: E402
from tornado import http2connection  # noqa: E402

NO_ERROR, PROTOCOL_ERROR, STREAM_CLOSED, FRAME_SIZE_ERROR = 0x0, 0x1, 0x5, 0x6
ENHANCE_YOUR_CALM, REFUSED_STREAM = 0xB, 0x7


@pytest.fixture(scope="module")
def server() -> Any:
    s = Server(idle_connection_timeout=1.0)
    yield s
    s.close()


def raw(server: Server) -> RawClient:
    """A connection that has sent the preface and an empty SETTINGS."""
    return RawClient(server.port)


def headers_block(path: str = "/", encoder: Any = None) -> bytes:
    encoder = encoder or hpack.Encoder()
    return encoder.encode(
        [(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "x")]
    )


def goaway_of(frames: List[Any]) -> GoAwayFrame:
    goaways = [f for f in frames if isinstance(f, GoAwayFrame)]
    assert goaways, [type(f).__name__ for f in frames]
    return goaways[-1]


def still_serving(server: Server) -> None:
    client = RawClient(server.port)
    try:
        headers, body = client.response(client.request("/"))
        assert headers[":status"] == "200" and body.startswith(b"hello")
    finally:
        client.close()


def no_connections_left(server: Server) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = server.call(
            lambda: sum(
                isinstance(c, http2connection.HTTP2ServerConnection)
                for s in server.servers
                for c in s._connections
            )
        )
        if not left:
            return
        time.sleep(0.05)
    raise AssertionError("an attacker's connection is still open")


def test_rapid_reset(server: Server) -> None:
    # CVE-2023-44487: streams opened and cancelled at once, many times.
    client = raw(server)
    try:
        for _ in range(http2connection._MAX_RESETS + 50):
            sid = client.h2.get_next_available_stream_id()
            client.h2.send_headers(
                sid,
                [
                    (":method", "GET"),
                    (":path", "/"),
                    (":scheme", "http"),
                    (":authority", "x"),
                ],
                end_stream=True,
            )
            client.h2.reset_stream(sid, 8)
            client.sock.sendall(client.h2.data_to_send())
        frames = read_frames(client.sock)
        assert goaway_of(frames).error_code == ENHANCE_YOUR_CALM
    finally:
        client.close()
    still_serving(server)
    no_connections_left(server)


def test_continuation_flood(server: Server) -> None:
    # CVE-2024-27316: a header block that never ends.
    client = raw(server)
    try:
        first = HeadersFrame(1, headers_block())
        client.sock.sendall(first.serialize())
        for _ in range(200):
            cont = ContinuationFrame(1, b"\x00" * 1000)
            try:
                client.sock.sendall(cont.serialize())
            except OSError:
                break
        frames = read_frames(client.sock)
        assert goaway_of(frames).error_code == PROTOCOL_ERROR
    finally:
        client.close()
    still_serving(server)


def test_hpack_bomb(server: Server) -> None:
    # A 4 KB field indexed once and referenced again and again: a few
    # hundred bytes on the wire decode to far over max_header_size.
    client = raw(server)
    try:
        encoder = hpack.Encoder()
        fields = [
            (":method", "GET"),
            (":path", "/"),
            (":scheme", "http"),
            (":authority", "x"),
        ]
        fields += [("x-bomb", "b" * 4000)] * 100
        block = encoder.encode(fields)
        assert len(block) < 5000
        client.sock.sendall(
            HeadersFrame(1, block, flags=["END_HEADERS", "END_STREAM"]).serialize()
        )
        frames = read_frames(client.sock)
        assert goaway_of(frames).error_code == ENHANCE_YOUR_CALM
    finally:
        client.close()
    still_serving(server)


@pytest.mark.parametrize("kind", ["ping", "settings"])
def test_control_frame_flood(server: Server, kind: str) -> None:
    # CVE-2019-9512 / 9515: frames that each make us queue an answer.
    client = raw(server)
    try:
        frame = PingFrame(0, b"12345678") if kind == "ping" else SettingsFrame(0)
        burst = frame.serialize() * (http2connection._MAX_CONTROL_FRAMES + 100)
        try:
            client.sock.sendall(burst)
        except OSError:
            pass
        frames = read_frames(client.sock)
        assert goaway_of(frames).error_code == ENHANCE_YOUR_CALM
        acks = [
            f
            for f in frames
            if isinstance(f, (PingFrame, SettingsFrame)) and "ACK" in f.flags
        ]
        assert len(acks) <= http2connection._MAX_CONTROL_FRAMES + 2
    finally:
        client.close()
    still_serving(server)


def test_zero_window_stall(server: Server) -> None:
    # CVE-2019-9517: a client that asks for a large response and never
    # opens its window; the stall timeout (idle_connection_timeout) ends it.
    client = RawClient(
        server.port, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0}
    )
    try:
        client.request("/big")
        start = time.monotonic()
        frames = read_frames(client.sock, timeout=20)
        assert time.monotonic() - start < 15
        assert goaway_of(frames).error_code == NO_ERROR
        assert not any(isinstance(f, DataFrame) and f.data for f in frames)
    finally:
        client.close()
    still_serving(server)


def test_stream_id_regression(server: Server) -> None:
    client = raw(server)
    try:
        encoder = hpack.Encoder()
        client.sock.sendall(
            HeadersFrame(
                5, headers_block(encoder=encoder), flags=["END_HEADERS", "END_STREAM"]
            ).serialize()
        )
        client.sock.sendall(
            HeadersFrame(
                3, headers_block(encoder=encoder), flags=["END_HEADERS", "END_STREAM"]
            ).serialize()
        )
        frames = read_frames(client.sock)
        assert goaway_of(frames).error_code == PROTOCOL_ERROR
    finally:
        client.close()
    still_serving(server)


def test_stream_id_reuse(server: Server) -> None:
    client = raw(server)
    try:
        encoder = hpack.Encoder()
        client.sock.sendall(
            HeadersFrame(
                1, headers_block(encoder=encoder), flags=["END_HEADERS", "END_STREAM"]
            ).serialize()
        )
        time.sleep(0.3)
        client.sock.sendall(
            HeadersFrame(
                1, headers_block(encoder=encoder), flags=["END_HEADERS", "END_STREAM"]
            ).serialize()
        )
        frames = read_frames(client.sock)
        codes = [
            f.error_code for f in frames if isinstance(f, (GoAwayFrame, RstStreamFrame))
        ]
        assert codes and codes[-1] in (PROTOCOL_ERROR, STREAM_CLOSED), codes
    finally:
        client.close()
    still_serving(server)


def test_data_on_closed_stream(server: Server) -> None:
    client = raw(server)
    try:
        sid = client.request("/")
        client.response(sid)
        client.sock.sendall(DataFrame(sid, b"late", flags=["END_STREAM"]).serialize())
        frames = read_frames(client.sock, timeout=3)
        codes = [
            f.error_code for f in frames if isinstance(f, (GoAwayFrame, RstStreamFrame))
        ]
        assert STREAM_CLOSED in codes, codes
    finally:
        client.close()
    still_serving(server)


def test_oversized_frame(server: Server) -> None:
    client = raw(server)
    try:
        sid = client.request("/upload", "PUT", end=False)
        # Over the 16384-byte SETTINGS_MAX_FRAME_SIZE we announced.
        client.sock.sendall(DataFrame(sid, b"o" * 20000).serialize())
        frames = read_frames(client.sock)
        assert goaway_of(frames).error_code == FRAME_SIZE_ERROR
    finally:
        client.close()
    still_serving(server)


def test_too_many_concurrent_streams(server: Server) -> None:
    client = raw(server)
    try:
        encoder = hpack.Encoder()
        for i in range(http2connection._MAX_CONCURRENT_STREAMS + 5):
            # Never-ending requests: all stay open.
            client.sock.sendall(
                HeadersFrame(
                    1 + 2 * i, headers_block("/reset", encoder), flags=["END_HEADERS"]
                ).serialize()
            )
        frames = read_frames(client.sock, timeout=5)
        # RFC 9113 5.1.2: a stream error for each stream over the limit
        # (a client may open them before our SETTINGS reach it), not the
        # end of the connection.
        refused = [f for f in frames if isinstance(f, RstStreamFrame)]
        assert [f.error_code for f in refused] == [REFUSED_STREAM] * 5
        assert not any(isinstance(f, GoAwayFrame) for f in frames)
    finally:
        client.close()
    still_serving(server)
