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


GOOD_HEAD = [(":method", "GET"), (":path", "/"), (":scheme", "http")]


@pytest.mark.parametrize(
    "fields",
    [
        GOOD_HEAD + [(":authority", "x"), ("X-Upper", "1")],  # uppercase name
        GOOD_HEAD + [(":authority", "x"), ("bad name", "1")],
        GOOD_HEAD + [(":authority", "x"), ("a:b", "1")],
        GOOD_HEAD + [(":authority", "x"), ("", "1")],
        GOOD_HEAD + [(":authority", "x"), ("x-v", "a\r\nb")],
        GOOD_HEAD + [(":authority", "x"), ("x-v", "a\x00b")],
        GOOD_HEAD + [(":authority", "x"), ("x-v", " padded")],
        GOOD_HEAD + [(":authority", "x"), ("connection", "close")],
        GOOD_HEAD + [(":authority", "x"), ("transfer-encoding", "chunked")],
        GOOD_HEAD + [(":authority", "x"), ("te", "gzip")],
        GOOD_HEAD + [("x-a", "1"), (":authority", "x")],  # pseudo after regular
        GOOD_HEAD + [(":authority", "x"), (":authority", "y")],
        GOOD_HEAD + [(":authority", "x"), (":status", "200")],
        GOOD_HEAD + [(":authority", "x"), (":custom", "1")],
        GOOD_HEAD + [(":authority", "x"), (":protocol", "websocket")],
        [(":method", "GET"), (":scheme", "http"), (":authority", "x")],  # no :path
        [(":method", "GET"), (":path", "/"), (":authority", "x")],  # no :scheme
        [(":path", "/"), (":scheme", "http"), (":authority", "x")],  # no :method
        [(":method", "GET"), (":path", ""), (":scheme", "http"), (":authority", "x")],
        GOOD_HEAD,  # neither :authority nor Host
        GOOD_HEAD + [(":authority", "x"), ("host", "y")],
        GOOD_HEAD + [("host", "x"), ("host", "x")],
    ],
)
def test_malformed_request_head_is_a_stream_error(
    server: Server, fields: List[Any]
) -> None:
    """RFC 9113 8.1.1/8.2/8.3: RST_STREAM(PROTOCOL_ERROR), and the
    connection serves on."""
    client = raw(server)
    try:
        client.h2.config.validate_outbound_headers = False
        client.h2.config.normalize_outbound_headers = False
        sid = client.h2.get_next_available_stream_id()
        client.h2.send_headers(sid, fields, end_stream=True)
        client.flush()
        resets = client.until(
            lambda: [
                e
                for e in client.events
                if isinstance(e, h2.events.StreamReset) and e.stream_id == sid
            ]
        )
        assert resets[0].error_code == PROTOCOL_ERROR
        headers, body = client.response(client.request("/"))
        assert headers[":status"] == "200" and body.startswith(b"hello")
    finally:
        client.close()


def test_good_heads_pass_the_same_check(server: Server) -> None:
    client = raw(server)
    try:
        for extra in (
            [("host", "localhost")],
            [("te", "Trailers"), ("cookie", "c1=a"), ("cookie", "c2=b")],
            [("x-empty", "")],
        ):
            headers, body = client.response(client.request("/info", extra=extra))
            assert headers[":status"] == "200", (extra, headers)
            if extra[-1][0] == "cookie":
                assert b'"cookie": "a"' in body and b'"cookie2": "b"' in body
    finally:
        client.close()


def test_malformed_trailers_reset_the_stream(server: Server) -> None:
    client = raw(server)
    try:
        client.h2.config.validate_outbound_headers = False
        client.h2.config.normalize_outbound_headers = False
        sid = client.request("/body", method="POST", body=b"x", end=False)
        client.h2.send_headers(sid, [(":path", "/")], end_stream=True)
        client.flush()
        headers, _ = client.response(sid)
        assert headers.get("reset") == str(PROTOCOL_ERROR)
        still_serving(server)
    finally:
        client.close()


def _blocks() -> List[bytes]:
    """Header blocks as a client sends them: the dynamic table filling,
    the same block again (memoized), size updates, eviction."""
    enc = hpack.Encoder()
    head = [(":method", "GET"), (":path", "/"), (":scheme", "http")]
    blocks = [enc.encode(head + [(":authority", "a"), ("x-n", "1")])]
    blocks += [enc.encode(head + [(":authority", "a"), ("x-n", "1")])] * 3
    blocks.append(enc.encode(head + [(":authority", "a"), ("x-n", "2")]))
    blocks.append(enc.encode(head + [(":authority", "a"), ("x-n", "1")]))
    enc.header_table_size = 64  # a size update, evicting entries
    blocks.append(enc.encode(head + [(":authority", "a"), ("x-n", "1")]))
    blocks.append(enc.encode(head + [(":authority", "a"), ("x-n", "1")]))
    for i in range(10):  # entries pushing each other out of a small table
        blocks.append(enc.encode(head + [("x-big", "v" * 40 + str(i))]))
        blocks.append(enc.encode(head + [("x-big", "v" * 40 + str(i))]))
    return blocks


@pytest.mark.parametrize("tamper", [False, True])
def test_memoized_decoder_matches_hpack(tamper: bool) -> None:
    """The connection's memoizing decoder gives what hpack's gives for
    the same blocks in the same order, errors included."""
    blocks = _blocks()
    if tamper:
        # An index past the table, a truncated literal, a size update
        # over the allowed maximum, in the middle of good blocks.
        blocks[2:2] = [b"\xff\xff\x7f", b"\x40\x85ab", b"\x3f\xe1\xff\x03"]
        blocks += [blocks[1], b"\xff\xff\x7f"]
    ours = http2connection._FieldDecoder()
    theirs = hpack.Decoder()
    for decoder in (ours, theirs):
        decoder.max_header_list_size = 4096
    hits = 0
    for block in blocks:
        hits += block in ours._memo
        outcomes = []
        for decoder in (ours, theirs):
            try:
                outcomes.append(list(decoder.decode(block, raw=True)))
            except Exception as e:
                outcomes.append(type(e))
        assert outcomes[0] == outcomes[1], block
        assert list(ours.header_table.dynamic_entries) == list(
            theirs.header_table.dynamic_entries
        )
    assert hits >= 10  # the memo was used
