"""The streams `HTTP2ServerConnection` runs without h2.

A request head a client repeats (one HEADERS frame with END_HEADERS and
END_STREAM whose HPACK block the connection has decoded before) is
started and answered by the connection itself, not through h2's stream
state machine (see ``HTTP2ServerConnection._receive_frames``).  These
tests warm a connection up until that happens (each handler reports
whether its stream ran so) and check that such streams keep every rule
h2 enforces: the peer's flow-control windows, its SETTINGS, resets,
frames after END_STREAM, stream id order, the concurrency limit, header
blocks larger than a frame.
"""

import asyncio
import random
import threading
import time
from typing import Any, Callable, Dict, Iterator, List

import pytest

pytest.importorskip("h2")
import h2.events  # noqa: E402
import h2.settings  # noqa: E402
from hyperframe.frame import (  # noqa: E402
    DataFrame,
    GoAwayFrame,
    HeadersFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

import test_http2  # noqa: E402
from test_http2 import RawClient, read_frames  # noqa: E402
from tornado import web  # noqa: E402

PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, REFUSED_STREAM = 0x1, 0x3, 0x5, 0x7

# Shared between the handlers (server thread) and the tests.
SEEN: List[bool] = []
HOLD: Dict[str, Any] = {}


class FastHandler(web.RequestHandler):
    """Reports whether its stream runs without h2; ``?n=`` bytes of body."""

    def get(self) -> None:
        SEEN.append(self.request.connection._fast)
        self.write(b"z" * int(self.get_argument("n", "5")))


class BigHeadHandler(web.RequestHandler):
    def get(self) -> None:
        SEEN.append(self.request.connection._fast)
        self.set_header("X-Big", "v" * 40000)
        self.write("big head")


class HoldHandler(web.RequestHandler):
    """Waits for the test (``HOLD["release"]``) or for the stream's end."""

    async def get(self) -> None:
        SEEN.append(self.request.connection._fast)
        if not HOLD.get("hold"):
            self.write("not held")
            return
        HOLD["held"] = HOLD.get("held", 0) + 1
        while not HOLD["release"].is_set() and not HOLD.get("closed"):
            await asyncio.sleep(0.01)
        self.write("released")

    def on_connection_close(self) -> None:
        HOLD["closed"] = True


class FastServer(test_http2.Server):
    async def _main(self) -> None:
        original = test_http2.make_app
        test_http2.make_app = lambda: web.Application(
            [("/fast", FastHandler), ("/bighead", BigHeadHandler), ("/hold", HoldHandler)]
        )
        try:
            await super()._main()
        finally:
            test_http2.make_app = original


@pytest.fixture(scope="module")
def server() -> Iterator[FastServer]:
    s = FastServer()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def fresh_state() -> None:
    SEEN.clear()
    HOLD.clear()
    HOLD["release"] = threading.Event()


def eventually(check: Callable[[], Any], timeout: float = 5) -> Any:
    """``check()`` once true (the server's loop runs in another thread)."""
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.01)
    return check()


def warm(client: RawClient, path: str) -> None:
    """Two requests for ``path``: after them the client's header block
    for it is a few indexes the server has decoded before, and the next
    request runs without h2."""
    for _ in range(2):
        headers, _ = client.response(client.request(path))
        assert headers[":status"] == "200"


def held_fast_stream(client: RawClient) -> int:
    """A stream running without h2 whose handler waits (see HoldHandler)."""
    warm(client, "/hold")
    HOLD["hold"] = True
    sid = client.request("/hold")
    client.until(lambda: HOLD.get("held"), timeout=10)
    assert SEEN[-1] is True
    return sid


def fetch_all(client: RawClient, sids: List[int]) -> Dict[int, bytes]:
    """The bodies of streams ``sids``, reopening the windows as they come."""
    bodies = {sid: b"" for sid in sids}
    ended: set = set()

    def progress() -> bool:
        for e in client.events:
            if isinstance(e, h2.events.DataReceived) and e.stream_id in bodies:
                bodies[e.stream_id] += e.data
                client.h2.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            elif isinstance(e, h2.events.StreamEnded) and e.stream_id in bodies:
                ended.add(e.stream_id)
        client.events.clear()
        client.flush()
        return ended == set(sids)

    client.until(progress, timeout=30)
    return bodies


def test_repeated_requests_run_without_h2_and_get_the_same_answers(server: FastServer) -> None:
    client = RawClient(server.port)
    try:
        for _ in range(5):
            headers, body = client.response(client.request("/fast"))
            assert (headers[":status"], body) == ("200", b"zzzzz")
            assert headers["content-type"] == "text/html; charset=UTF-8"
        sids = [client.request("/fast") for _ in range(20)]  # concurrent
        for sid in sids:
            headers, body = client.response(sid)
            assert (headers[":status"], body) == ("200", b"zzzzz")
        # The first request fills the HPACK table; once the block repeats
        # as it was decoded before, every stream runs without h2.
        assert SEEN[0] is False
        assert SEEN[2:] == [True] * 23
    finally:
        client.close()


def test_fast_streams_keep_within_the_peers_windows(server: FastServer) -> None:
    # Small stream windows: each response waits for WINDOW_UPDATEs, which
    # the server handles itself for these streams (h2's own client would
    # fail on any frame over a window).
    codes = h2.settings.SettingCodes
    client = RawClient(server.port, settings={codes.INITIAL_WINDOW_SIZE: 1000})
    try:
        client.until(lambda: any(isinstance(e, h2.events.SettingsAcknowledged) for e in client.events))
        for _ in range(2):
            fetch_all(client, [client.request("/fast?n=100000")])
        bodies = fetch_all(client, [client.request("/fast?n=100000") for _ in range(3)])
        assert list(bodies.values()) == [b"z" * 100000] * 3
        assert SEEN == [False, False, True, True, True]
    finally:
        client.close()


def test_a_settings_change_reopens_the_windows_of_fast_streams(server: FastServer) -> None:
    codes = h2.settings.SettingCodes
    client = RawClient(server.port, settings={codes.INITIAL_WINDOW_SIZE: 10})
    try:
        client.until(lambda: any(isinstance(e, h2.events.SettingsAcknowledged) for e in client.events))

        def some_data(sid: int) -> bool:
            return any(isinstance(e, h2.events.DataReceived) and e.stream_id == sid for e in client.events)

        for _ in range(2):
            sid = client.request("/fast?n=15")
            client.until(lambda sid=sid: some_data(sid))
            client.h2.increment_flow_control_window(100, sid)
            client.flush()
            client.response(sid)
        sid = client.request("/fast?n=15")
        client.until(lambda: some_data(sid))
        received = sum(len(e.data) for e in client.events if isinstance(e, h2.events.DataReceived) and e.stream_id == sid)
        assert received == 10  # the window, not more
        client.h2.update_settings({codes.INITIAL_WINDOW_SIZE: 100})
        client.flush()
        headers, body = client.response(sid)
        assert body == b"z" * 15
        assert SEEN[-1] is True
    finally:
        client.close()


def test_a_reset_fast_stream_tells_the_handler(server: FastServer) -> None:
    client = RawClient(server.port)
    try:
        sid = held_fast_stream(client)
        client.h2.reset_stream(sid, 8)  # CANCEL
        client.flush()
        client.until(lambda: HOLD.get("closed"), timeout=10)
        assert SEEN[-1] is True
        # The connection goes on.
        HOLD["hold"] = False
        headers, body = client.response(client.request("/fast"))
        assert body == b"zzzzz"
    finally:
        client.close()


def test_window_update_of_zero_on_a_fast_stream_resets_it(server: FastServer) -> None:
    client = RawClient(server.port)
    try:
        sid = held_fast_stream(client)
        frame = WindowUpdateFrame(sid)
        frame.window_increment = 0
        client.sock.sendall(frame.serialize())
        headers, _ = client.response(sid)
        assert headers["reset"] == str(PROTOCOL_ERROR)  # RFC 9113 6.9
        assert eventually(lambda: HOLD.get("closed"))
        HOLD["hold"] = False
        headers, body = client.response(client.request("/fast"))
        assert body == b"zzzzz"
    finally:
        client.close()


def test_data_after_end_stream_on_a_fast_stream(server: FastServer) -> None:
    # RFC 9113 5.1: a stream the client has ended is half-closed (remote);
    # DATA on it is a stream error STREAM_CLOSED.
    client = RawClient(server.port)
    try:
        sid = held_fast_stream(client)
        client.sock.sendall(DataFrame(sid, b"late").serialize())
        frames = read_frames(client.sock, timeout=3)
        resets = [f for f in frames if isinstance(f, RstStreamFrame) and f.stream_id == sid]
        assert [f.error_code for f in resets] == [STREAM_CLOSED]
        assert not any(isinstance(f, GoAwayFrame) for f in frames)
        assert eventually(lambda: HOLD.get("closed"))
    finally:
        client.close()


@pytest.mark.parametrize("reused", [True, False], ids=["reused", "skipped"])
def test_an_old_stream_id_after_fast_streams_fails_the_connection(server: FastServer, reused: bool) -> None:
    client = RawClient(server.port)
    try:
        warm(client, "/fast")
        client.response(client.request("/fast"))  # stream 5
        if not reused:
            client.h2.highest_outbound_stream_id = 7
            client.response(client.request("/fast"))  # stream 9
        assert SEEN[-1] is True
        # Stream 5 again (closed by END_STREAM, RFC 9113 5.1: STREAM_CLOSED),
        # or stream 7 (never used, closed by stream 9: PROTOCOL_ERROR), with
        # the block the server knows by heart.
        client.h2.streams.clear()
        client.h2.highest_outbound_stream_id = 3 if reused else 5
        client.request("/fast")
        frames = read_frames(client.sock, timeout=5)
        goaways = [f for f in frames if isinstance(f, GoAwayFrame)]
        assert goaways and goaways[-1].error_code == (STREAM_CLOSED if reused else PROTOCOL_ERROR)
        assert goaways[-1].last_stream_id == (5 if reused else 9)
    finally:
        client.close()


def test_fast_streams_count_against_the_concurrency_limit(server: FastServer) -> None:
    client = RawClient(server.port)
    try:
        warm(client, "/hold")
        HOLD["hold"] = True
        limit = client.h2.remote_settings.max_concurrent_streams
        # (Our client must not open more; this one does.)
        client.h2.remote_settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] = limit + 10
        client.h2.remote_settings.acknowledge()
        sids = [client.request("/hold") for _ in range(limit)]
        client.until(lambda: HOLD.get("held") == limit, timeout=20)
        extra = client.request("/hold")
        headers, _ = client.response(extra)
        assert headers["reset"] == str(REFUSED_STREAM)
        HOLD["release"].set()
        for sid in sids:
            headers, body = client.response(sid)
            assert body == b"released"
        assert SEEN[2:] == [True] * limit
    finally:
        client.close()


def test_a_response_head_over_the_frame_size_goes_in_continuation_frames(server: FastServer) -> None:
    client = RawClient(server.port)
    try:
        for _ in range(3):
            headers, body = client.response(client.request("/bighead"))
            assert body == b"big head"
            assert headers["x-big"] == "v" * 40000
        assert SEEN[-1] is True
    finally:
        client.close()


def test_heads_with_priority_fields_run_without_h2(server: FastServer) -> None:
    # Chromium sends HEADERS with the PRIORITY flag.
    client = RawClient(server.port)
    try:
        head = [(":method", "GET"), (":path", "/fast"), (":scheme", "http"), (":authority", "localhost")]
        for _ in range(3):
            sid = client.h2.get_next_available_stream_id()
            client.h2.send_headers(sid, head, end_stream=True, priority_weight=220, priority_depends_on=0)
            client.flush()
            headers, body = client.response(sid)
            assert body == b"zzzzz"
        assert SEEN == [False, False, True]
        # A stream that depends on itself is h2's to refuse (RFC 9113 5.3.1).
        frame = HeadersFrame(7, client.h2.encoder.encode(head))
        for flag in ("END_STREAM", "END_HEADERS", "PRIORITY"):
            frame.flags.add(flag)
        frame.depends_on, frame.stream_weight = 7, 220
        client.sock.sendall(frame.serialize())
        frames = read_frames(client.sock, timeout=3)
        # (h2 makes it a connection error.)
        errors = [f.error_code for f in frames if isinstance(f, (RstStreamFrame, GoAwayFrame))]
        assert errors == [PROTOCOL_ERROR]
        assert len(SEEN) == 3
    finally:
        client.close()


def test_headers_after_end_stream_on_a_fast_stream(server: FastServer) -> None:
    # RFC 9113 5.1 makes any frame but PRIORITY, WINDOW_UPDATE and
    # RST_STREAM after END_STREAM an error: h2 answers HEADERS with a
    # connection error STREAM_CLOSED, for its streams and for ours.
    client = RawClient(server.port)
    try:
        sid = held_fast_stream(client)
        frame = HeadersFrame(sid, client.h2.encoder.encode([("x-trailer", "late")]))
        for flag in ("END_STREAM", "END_HEADERS"):
            frame.flags.add(flag)
        client.sock.sendall(frame.serialize())
        frames = read_frames(client.sock, timeout=3)
        goaways = [f for f in frames if isinstance(f, GoAwayFrame)]
        assert [(f.error_code, f.last_stream_id) for f in goaways] == [(STREAM_CLOSED, sid)]
        assert eventually(lambda: HOLD.get("closed"))
    finally:
        client.close()


@pytest.mark.parametrize("by", ["window_update", "settings"])
def test_a_fast_streams_window_may_not_pass_the_maximum(server: FastServer, by: str) -> None:
    # RFC 9113 6.9.1: over 2**31 - 1 by a WINDOW_UPDATE is a stream error,
    # 6.9.2: by a SETTINGS change a connection error, FLOW_CONTROL_ERROR.
    client = RawClient(server.port)
    try:
        sid = held_fast_stream(client)
        frame = WindowUpdateFrame(sid)
        frame.window_increment = 2**31 - 1 - 65535  # at the maximum
        client.sock.sendall(frame.serialize())
        if by == "window_update":
            frame.window_increment = 1
            client.sock.sendall(frame.serialize())
        else:
            settings = SettingsFrame(0)
            settings.settings = {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 65536}
            client.sock.sendall(settings.serialize())
        frames = read_frames(client.sock, timeout=3)
        errors = [(type(f).__name__, f.error_code) for f in frames if isinstance(f, (RstStreamFrame, GoAwayFrame))]
        kind = "RstStreamFrame" if by == "window_update" else "GoAwayFrame"
        assert errors == [(kind, FLOW_CONTROL_ERROR)]
        assert eventually(lambda: HOLD.get("closed"))
    finally:
        client.close()


@pytest.mark.parametrize("seed", range(12))
def test_random_traffic_on_a_warm_connection(server: FastServer, seed: int) -> None:
    # Requests of three sizes, resets, window and frame-size changes and
    # PINGs in a random order, on a connection where most streams run
    # without h2.  The client is h2's state machine, which fails on any
    # frame over a window or the frame size, and on any frame for a
    # stream in the wrong state; every stream not reset must end with its
    # whole body.
    rnd = random.Random(seed)
    codes = h2.settings.SettingCodes
    frame_size = 100000
    client = RawClient(
        server.port,
        settings={codes.INITIAL_WINDOW_SIZE: rnd.choice([100, 5000, 65535]), codes.MAX_FRAME_SIZE: frame_size},
    )
    sizes = [10, 3000, 70000]
    try:
        for n in sizes:
            fetch_all(client, [client.request("/fast?n=%d" % n)])
            fetch_all(client, [client.request("/fast?n=%d" % n)])
        expected: Dict[int, int] = {}
        bodies: Dict[int, bytes] = {}
        ended: set = set()

        def pump(timeout: float) -> None:
            client.receive(timeout)
            for e in client.events:
                if isinstance(e, h2.events.DataReceived):
                    bodies[e.stream_id] = bodies.get(e.stream_id, b"") + e.data
                    if e.stream_id in expected:
                        client.h2.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                    else:
                        client.h2.acknowledge_received_data(e.flow_controlled_length, 0)
                elif isinstance(e, h2.events.StreamEnded):
                    ended.add(e.stream_id)
                elif isinstance(e, h2.events.StreamReset):
                    raise AssertionError("stream %d reset by the server" % e.stream_id)
            client.events.clear()
            client.flush()

        for _ in range(40):
            action = rnd.random()
            live = [sid for sid in expected if sid not in ended]
            if action < 0.5 and len(live) < 60:
                n = rnd.choice(sizes)
                expected[client.request("/fast?n=%d" % n)] = n
            elif action < 0.6 and live:
                sid = rnd.choice(live)
                client.h2.reset_stream(sid, 8)
                del expected[sid]
            elif action < 0.7:
                client.h2.update_settings({codes.INITIAL_WINDOW_SIZE: rnd.choice([0, 50, 1000, 200000])})
            elif action < 0.8:
                # Only smaller: h2's client applies a larger limit one read
                # after the SETTINGS ACK that allows it.
                frame_size = rnd.choice([size for size in (16384, 20000, 50000) if size <= frame_size])
                client.h2.update_settings({codes.MAX_FRAME_SIZE: frame_size})
            elif action < 0.9:
                client.h2.ping(b"12345678")
            client.flush()
            pump(0.01)
        client.h2.update_settings({codes.INITIAL_WINDOW_SIZE: 65535})
        client.flush()
        client.until(lambda: pump(0.05) or set(expected) <= ended, timeout=30)
        for sid, n in expected.items():
            assert bodies.get(sid) == b"z" * n, sid
        assert SEEN.count(True) > 0
    finally:
        client.close()
