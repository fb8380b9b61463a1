"""HTTP/2 served by `HTTPServer(app, http2=True)` (tornado.http2connection).

Real clients against a real server on 127.0.0.1: curl (TLS with ALPN and
h2c prior knowledge), nghttp, h2load, httpx with its http2 extra, headless
Chromium, and a raw client made of the ``h2`` package for what those
don't let us control (flow-control windows, resets, extended CONNECT).
The server runs in a thread with its own IOLoop.
"""

import asyncio
import gzip
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

pytest.importorskip("h2")
import h2  # noqa: E402
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402
import h2.exceptions  # noqa: E402
import h2.settings  # noqa: E402
import hyperframe.frame  # noqa: E402

from tornado import http2connection, web, websocket  # noqa: E402
from tornado.httpserver import HTTPServer  # noqa: E402
from tornado.netutil import bind_sockets  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "httpserver_data")
CERT, KEY = os.path.join(DATA, "test.crt"), os.path.join(DATA, "test.key")
STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs")

# Shared between the handlers (server thread) and the tests.
STATE: Dict[str, Any] = {}


class HelloHandler(web.RequestHandler):
    def get(self) -> None:
        self.write("hello %s %s" % (self.request.version, self.request.host))

    def post(self) -> None:
        self.write("posted %s" % self.get_argument("x", "-"))


class InfoHandler(web.RequestHandler):
    def get(self) -> None:
        self.set_cookie("seen", "yes")
        self.write(
            {
                "remote_ip": self.request.remote_ip,
                "protocol": self.request.protocol,
                "cookie": self.get_cookie("c1", ""),
                "cookie2": self.get_cookie("c2", ""),
                "host": self.request.host,
            }
        )


class BigHandler(web.RequestHandler):
    async def get(self) -> None:
        STATE["big_flushed"] = 0
        for _ in range(32):
            self.write(b"y" * 65536)
            await self.flush()
            STATE["big_flushed"] += 65536


class ResetHandler(web.RequestHandler):
    async def get(self) -> None:
        STATE["reset_started"] = True
        while not STATE.get("reset_closed"):
            await asyncio.sleep(0.01)

    def on_connection_close(self) -> None:
        STATE["stream_closed"] = self.request.connection.stream.closed()
        STATE["reset_closed"] = True


@web.stream_request_body
class UploadHandler(web.RequestHandler):
    def prepare(self) -> None:
        self.received = 0
        STATE["upload_received"] = 0

    async def data_received(self, chunk: bytes) -> None:
        self.received += len(chunk)
        STATE["upload_received"] = self.received
        while not STATE["upload_gate"].is_set():
            await asyncio.sleep(0.01)

    def put(self) -> None:
        self.write("got %d" % self.received)


class LimitedHandler(web.RequestHandler):
    def post(self) -> None:
        self.write("ok")


class FailHandler(web.RequestHandler):
    def get(self) -> None:
        raise ValueError("handler bug")


class DetachHandler(web.RequestHandler):
    def get(self) -> None:
        try:
            self.detach()
        except Exception as e:
            STATE["detach_error"] = type(e).__name__


class BodyHandler(web.RequestHandler):
    def post(self) -> None:
        self.write(self.request.body)


class HopHeadersHandler(web.RequestHandler):
    def get(self) -> None:
        self.set_header("Connection", "close")
        self.set_header("Keep-Alive", "timeout=5")
        self.set_header("X-Kept", "yes")
        self.set_cookie("secret", "s3")
        self.write("ok")


class EchoSocket(websocket.WebSocketHandler):
    def on_message(self, message: Any) -> None:
        self.write_message(message)


PAGE = b"""<!doctype html><html><body><script>
async function run() {
  const nav = performance.getEntriesByType("navigation")[0].nextHopProtocol;
  const xhr = await new Promise((ok) => {
    const r = new XMLHttpRequest(); r.open("GET", "/"); r.onload = () => ok(r.responseText); r.send();
  });
  const xhrProto = performance.getEntriesByType("resource").map((e) => e.nextHopProtocol).join(",");
  const ws = await new Promise((ok) => {
    const w = new WebSocket("wss://" + location.host + "/ws");
    w.onopen = () => w.send("ping over h2");
    w.onmessage = (e) => { ok(e.data); w.close(); };
    w.onerror = () => ok("error");
  });
  document.title = "done";
  window.result = {nav, xhr, xhrProto, ws};
}
run();
</script></body></html>"""


class PageHandler(web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/html")
        self.write(PAGE)


def make_app() -> web.Application:
    return web.Application(
        [
            ("/", HelloHandler),
            ("/info", InfoHandler),
            ("/big", BigHandler),
            ("/reset", ResetHandler),
            ("/upload", UploadHandler),
            ("/limited", LimitedHandler),
            ("/ws", EchoSocket),
            ("/page", PageHandler),
            ("/fail", FailHandler),
            ("/detach", DetachHandler),
            ("/body", BodyHandler),
            ("/hop", HopHeadersHandler),
            (r"/static/(.*)", web.StaticFileHandler, {"path": STATIC}),
        ],
        compress_response=True,
    )


def server_tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(CERT, KEY)
    return ctx


class Server:
    """``make_app()`` behind HTTPServer(http2=True), on a TLS port and a
    cleartext port, in a thread of its own."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.tls_sockets = bind_sockets(0, "127.0.0.1")
        self.plain_sockets = bind_sockets(0, "127.0.0.1")
        self.tls_port = self.tls_sockets[0].getsockname()[1]
        self.port = self.plain_sockets[0].getsockname()[1]
        self.started = threading.Event()
        self.servers: List[HTTPServer] = []
        self.thread = threading.Thread(
            target=asyncio.run, args=(self._main(),), daemon=True
        )
        self.thread.start()
        assert self.started.wait(10)

    async def _main(self) -> None:
        app = make_app()
        tls = HTTPServer(
            app, ssl_options=server_tls_context(), http2=True, **self.kwargs
        )
        tls.add_sockets(self.tls_sockets)
        plain = HTTPServer(app, http2=True, **self.kwargs)
        plain.add_sockets(self.plain_sockets)
        self.servers = [tls, plain]
        self.stop = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.started.set()
        await self.stop.wait()
        for s in self.servers:
            s.stop()
            await s.close_all_connections()

    def call(self, fn: Callable[[], Any]) -> Any:
        """Runs ``fn`` (a coroutine function or a plain one) on the server's loop."""

        async def run() -> Any:
            result = fn()
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def url(self, path: str = "/", tls: bool = False) -> str:
        if tls:
            return "https://127.0.0.1:%d%s" % (self.tls_port, path)
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


# -- A raw client ------------------------------------------------------------


class RawClient:
    """An HTTP/2 client made of h2 over a blocking socket, for tests that
    need to control what a real client would do for them."""

    def __init__(
        self, port: int, settings: Optional[Dict[int, int]] = None, preface: bool = True
    ) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self.events: List[Any] = []
        self.closed = False
        if preface:
            self.h2.initiate_connection()
            if settings:
                self.h2.update_settings(settings)
            self.flush()

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(
        self,
        path: str,
        method: str = "GET",
        body: Optional[bytes] = None,
        extra: Optional[List[Tuple[str, str]]] = None,
        end: bool = True,
    ) -> int:
        sid = self.h2.get_next_available_stream_id()
        headers = [
            (":method", method),
            (":path", path),
            (":scheme", "http"),
            (":authority", "localhost"),
        ] + (extra or [])
        self.h2.send_headers(sid, headers, end_stream=end and body is None)
        if body is not None:
            self.h2.send_data(sid, body, end_stream=end)
        self.flush()
        return sid

    def receive(self, timeout: float = 10) -> List[Any]:
        """Reads once (up to ``timeout``), returns the new events."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return []
        except ConnectionError:
            data = b""
        if not data:
            self.closed = True
            return []
        events = self.h2.receive_data(data)
        self.flush()
        self.events.extend(events)
        return events

    def until(self, check: Callable[[], Any], timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if self.closed or time.monotonic() > deadline:
                raise AssertionError(
                    "condition not met; events: %r" % self.events[-10:]
                )
            self.receive(min(1.0, max(0.01, deadline - time.monotonic())))

    def response(
        self, sid: int, timeout: float = 15, ack: bool = True
    ) -> Tuple[Dict[str, str], bytes]:
        """Waits for the end of stream ``sid``; returns headers and body."""
        self.until(
            lambda: any(
                isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset))
                and e.stream_id == sid
                for e in self.events
            ),
            timeout,
        )
        headers: Dict[str, str] = {}
        body = b""
        for e in self.events:
            if getattr(e, "stream_id", None) != sid:
                continue
            if isinstance(e, h2.events.ResponseReceived):
                headers = dict(e.headers)
            elif isinstance(e, h2.events.DataReceived):
                body += e.data
            elif isinstance(e, h2.events.StreamReset):
                headers["reset"] = str(int(e.error_code))
        return headers, body

    def close(self) -> None:
        self.sock.close()


# -- Real clients ------------------------------------------------------------


def curl(*args: str) -> str:
    if shutil.which("curl") is None:
        pytest.skip("curl not installed")
    out = subprocess.run(
        ["curl", "-s", "-k", "--max-time", "20", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return out.stdout


def test_curl_over_tls_negotiates_h2(server: Server) -> None:
    out = curl("--http2", "-w", " %{http_version}", server.url("/", tls=True))
    assert out == "hello HTTP/2.0 127.0.0.1:%d 2" % server.tls_port


def test_curl_prior_knowledge(server: Server) -> None:
    out = curl("--http2-prior-knowledge", "-w", " %{http_version}", server.url("/"))
    assert out == "hello HTTP/2.0 127.0.0.1:%d 2" % server.port


def test_http1_still_served_on_both_ports(server: Server) -> None:
    assert curl("--http1.1", "-w", " %{http_version}", server.url("/")).endswith(
        "HTTP/1.1 127.0.0.1:%d 1.1" % server.port
    )
    assert curl(
        "--http1.1", "-w", " %{http_version}", server.url("/", tls=True)
    ).endswith(" 1.1")


def test_post_form_and_xsrf_cookie_free_app(server: Server) -> None:
    assert curl("--http2-prior-knowledge", "-d", "x=42", server.url("/")) == "posted 42"


def test_gzip_response(server: Server) -> None:
    out = curl(
        "--http2-prior-knowledge",
        "-H",
        "Accept-Encoding: gzip",
        "-D",
        "-",
        "-o",
        "/dev/null",
        server.url("/static/index.rst"),
    ).lower()
    assert "content-encoding: gzip" in out and out.startswith("http/2 200")
    body = curl(
        "--http2-prior-knowledge", "--compressed", server.url("/static/index.rst")
    )
    with open(os.path.join(STATIC, "index.rst")) as f:
        assert body == f.read()


def test_static_ranges_and_304(server: Server) -> None:
    with open(os.path.join(STATIC, "index.rst"), "rb") as f:
        content = f.read()
    out = curl(
        "--http2-prior-knowledge",
        "-r",
        "5-14",
        "-w",
        " %{http_code}",
        server.url("/static/index.rst"),
    )
    assert out == content[5:15].decode() + " 206"
    head = curl(
        "--http2-prior-knowledge", "-D", "-", "-o", "/dev/null", server.url("/static/index.rst")
    )
    etag = [
        line.split(":", 1)[1].strip()
        for line in head.splitlines()
        if line.lower().startswith("etag:")
    ][0]
    out = curl(
        "--http2-prior-knowledge",
        "-H",
        "If-None-Match: " + etag,
        "-w",
        "%{http_code}",
        server.url("/static/index.rst"),
    )
    assert out == "304"


def test_nghttp(server: Server) -> None:
    if shutil.which("nghttp") is None:
        pytest.skip("nghttp2-client not installed")
    out = subprocess.run(
        ["nghttp", "-nv", server.url("/")], capture_output=True, text=True, timeout=30
    ).stdout
    assert "SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100" in out
    assert ":status: 200" in out
    # SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441), which nghttp names by number.
    assert "(0x08):1" in out


def test_h2load(server: Server) -> None:
    if shutil.which("h2load") is None:
        pytest.skip("nghttp2-client not installed")
    for url in (server.url("/"), server.url("/", tls=True)):
        out = subprocess.run(
            ["h2load", "-n", "400", "-c", "4", "-m", "10", url],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        assert "400 succeeded, 0 failed, 0 errored" in out, out
        assert "400 2xx" in out


def test_httpx(server: Server) -> None:
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("h2")
    with httpx.Client(http2=True, verify=False) as client:
        r = client.get(
            server.url("/info", tls=True), headers={"Cookie": "c1=one; c2=two"}
        )
        assert r.http_version == "HTTP/2"
        info = r.json()
        assert (
            info["protocol"] == "https"
            and info["cookie"] == "one"
            and info["cookie2"] == "two"
        )
        assert r.cookies.get("seen") == "yes"
        # Several requests at once share the connection as streams.
        rs = [client.get(server.url("/", tls=True)) for _ in range(5)]
        assert all(x.text.startswith("hello HTTP/2.0") for x in rs)


def test_xheaders_are_per_stream() -> None:
    httpx = pytest.importorskip("httpx")
    s = Server(xheaders=True)
    try:
        with httpx.Client(http2=True, verify=False) as client:
            a = client.get(
                s.url("/info", tls=True),
                headers={"X-Real-Ip": "10.0.0.1", "X-Scheme": "http"},
            ).json()
            b = client.get(s.url("/info", tls=True)).json()
        assert (a["remote_ip"], a["protocol"]) == ("10.0.0.1", "http")
        assert (b["remote_ip"], b["protocol"]) == ("127.0.0.1", "https")
    finally:
        s.close()


# -- Flow control ------------------------------------------------------------


def test_slow_stream_request_body_holds_the_client_back(server: Server) -> None:
    STATE["upload_gate"] = threading.Event()
    client = RawClient(server.port)
    try:
        sid = client.request(
            "/upload", "PUT", extra=[("content-length", str(4 << 20))], end=False
        )
        sent = 0
        total = 4 << 20
        deadline = time.monotonic() + 3
        # Send as the windows allow; the handler sits on its first chunk.
        while time.monotonic() < deadline and sent < total:
            window = min(
                client.h2.local_flow_control_window(sid),
                client.h2.max_outbound_frame_size,
            )
            if window > 0:
                n = min(window, total - sent)
                client.h2.send_data(sid, b"z" * n)
                client.flush()
                sent += n
            else:
                client.receive(0.2)
        held = sent
        assert held < total
        assert held <= 2 * http2connection._INITIAL_WINDOW, held
        STATE["upload_gate"].set()
        while sent < total:
            window = min(
                client.h2.local_flow_control_window(sid),
                client.h2.max_outbound_frame_size,
            )
            if window > 0:
                n = min(window, total - sent)
                client.h2.send_data(sid, b"z" * n, end_stream=sent + n == total)
                client.flush()
                sent += n
            else:
                client.receive(1)
        headers, body = client.response(sid)
        assert body == b"got %d" % total
    finally:
        client.close()


def test_large_response_waits_for_a_small_window(server: Server) -> None:
    # The client's stream window is 1000 bytes and it acknowledges nothing
    # for a while: the handler's flush() must wait.
    client = RawClient(
        server.port, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000}
    )
    try:
        sid = client.request("/big")
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            client.receive(0.2)
        got = sum(
            len(e.data) for e in client.events if isinstance(e, h2.events.DataReceived)
        )
        assert got <= 1000
        assert STATE["big_flushed"] <= 2 * 65536
        # Now read it all, reopening the windows as we go.

        def done() -> bool:
            for e in client.events:
                if isinstance(e, h2.events.DataReceived) and not getattr(
                    e, "_acked", False
                ):
                    client.h2.acknowledge_received_data(
                        e.flow_controlled_length, e.stream_id
                    )
                    e._acked = True
            client.flush()
            return any(
                isinstance(e, h2.events.StreamEnded) and e.stream_id == sid
                for e in client.events
            )

        client.until(done, timeout=60)
        total = sum(
            len(e.data) for e in client.events if isinstance(e, h2.events.DataReceived)
        )
        assert total == 32 * 65536
    finally:
        client.close()


def test_client_reset_calls_on_connection_close(server: Server) -> None:
    STATE["reset_started"] = STATE["reset_closed"] = False
    client = RawClient(server.port)
    try:
        sid = client.request("/reset")
        deadline = time.monotonic() + 10
        while not STATE["reset_started"] and time.monotonic() < deadline:
            time.sleep(0.01)
        client.h2.reset_stream(sid)
        client.flush()
        deadline = time.monotonic() + 10
        while not STATE["reset_closed"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert STATE["reset_closed"] and STATE["stream_closed"]
        # The connection still serves.
        assert client.response(client.request("/"))[1].startswith(b"hello")
    finally:
        client.close()


def test_max_body_size_per_stream() -> None:
    s = Server(max_body_size=1000)
    client = RawClient(s.port)
    try:
        sid = client.request(
            "/limited", "POST", body=b"a" * 2000, extra=[("content-length", "2000")]
        )
        headers, _ = client.response(sid)
        assert headers[":status"] == "413"
        # Without a declared length, counted as it arrives.
        sid = client.request("/limited", "POST", body=b"a" * 1500)
        headers, _ = client.response(sid)
        assert headers[":status"] == "413"
        sid = client.request("/limited", "POST", body=b"a" * 500)
        assert client.response(sid)[1] == b"ok"
    finally:
        client.close()
        s.close()


# -- WebSocket over HTTP/2 (RFC 8441) ---------------------------------------------


def ws_frame(payload: bytes, opcode: int = 1) -> bytes:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


def test_websocket_over_extended_connect(server: Server) -> None:
    client = RawClient(server.port)
    try:
        client.until(lambda: client.h2.remote_settings.enable_connect_protocol == 1)
        sid = client.h2.get_next_available_stream_id()
        client.h2.send_headers(
            sid,
            [
                (":method", "CONNECT"),
                (":protocol", "websocket"),
                (":scheme", "http"),
                (":path", "/ws"),
                (":authority", "localhost"),
                ("sec-websocket-version", "13"),
            ],
        )
        client.flush()
        client.until(
            lambda: any(
                isinstance(e, h2.events.ResponseReceived) for e in client.events
            )
        )
        response = [
            e for e in client.events if isinstance(e, h2.events.ResponseReceived)
        ][0]
        assert dict(response.headers)[":status"] == "200"
        client.h2.send_data(sid, ws_frame(b"hello ws"))
        client.flush()

        def echoed() -> bytes:
            data = b"".join(
                e.data for e in client.events if isinstance(e, h2.events.DataReceived)
            )
            return data if len(data) >= 10 else b""

        data = client.until(echoed)
        assert data[:2] == b"\x81\x08" and data[2:10] == b"hello ws"
    finally:
        client.close()


# -- Browser -------------------------------------------------------------------


def test_chromium_page_xhr_and_websocket_over_h2(server: Server) -> None:
    from test_demo_harness import launch_chromium

    with launch_chromium() as browser:
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        page.goto(server.url("/page", tls=True))
        page.wait_for_function("window.result !== undefined", timeout=30000)
        result = page.evaluate("window.result")
        context.close()
    assert result["nav"] == "h2"
    assert result["xhr"].startswith("hello HTTP/2.0")
    assert result["xhrProto"] == "h2"
    assert result["ws"] == "ping over h2"


# -- Connection management ------------------------------------------------------


def test_drain_sends_goaway_and_finishes_streams(server: Server) -> None:
    STATE["reset_started"] = STATE["reset_closed"] = False
    client = RawClient(server.port)
    try:
        sid = client.request("/reset")
        deadline = time.monotonic() + 10
        while not STATE["reset_started"] and time.monotonic() < deadline:
            time.sleep(0.01)

        def drain() -> None:
            for s in server.servers:
                for c in list(s._connections):
                    if isinstance(c, http2connection.HTTP2ServerConnection):
                        c._begin_drain()

        server.call(drain)
        # A stream opened after the drain began is refused.  (Raw frames
        # from here: h2's client state machine stops at a GOAWAY.)
        block = client.h2.encoder.encode(
            [
                (":method", "GET"),
                (":path", "/"),
                (":scheme", "http"),
                (":authority", "x"),
            ]
        )
        late = hyperframe.frame.HeadersFrame(
            sid + 2, block, flags=["END_HEADERS", "END_STREAM"]
        )
        client.sock.sendall(late.serialize())
        time.sleep(0.2)
        STATE["reset_closed"] = True
        frames = read_frames(client.sock)
        refused = [f for f in frames if isinstance(f, hyperframe.frame.RstStreamFrame)]
        assert [(f.stream_id, f.error_code) for f in refused] == [(sid + 2, 7)]
        kinds = [(type(f).__name__, f.stream_id) for f in frames]
        goaways = [f for f in frames if isinstance(f, hyperframe.frame.GoAwayFrame)]
        assert (
            goaways and goaways[0].last_stream_id == sid and goaways[0].error_code == 0
        )
        # The stream in flight still got its response, after the GOAWAY.
        assert ("HeadersFrame", sid) in kinds[kinds.index(("GoAwayFrame", 0)) :], kinds
    finally:
        client.close()


def read_frames(
    sock: socket.socket, data: bytes = b"", timeout: float = 15
) -> List[Any]:
    """Reads raw frames until the peer closes (or ``timeout``)."""
    frames = []
    deadline = time.monotonic() + timeout
    sock.settimeout(1)
    while time.monotonic() < deadline:
        while len(data) >= 9:
            frame, length = hyperframe.frame.Frame.parse_frame_header(
                memoryview(data[:9])
            )
            if len(data) < 9 + length:
                break
            frame.parse_body(memoryview(data[9 : 9 + length]))
            frames.append(frame)
            data = data[9 + length :]
        try:
            more = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionError:
            break
        if not more:
            break
        data += more
    return frames


def test_idle_connection_timeout_sends_goaway() -> None:
    s = Server(idle_connection_timeout=0.5)
    client = RawClient(s.port)
    try:
        assert client.response(client.request("/"))[1].startswith(b"hello")
        client.until(lambda: client.closed, timeout=15)
        assert any(isinstance(e, h2.events.ConnectionTerminated) for e in client.events)
    finally:
        client.close()
        s.close()


def test_without_http2_the_preface_is_refused_as_http1() -> None:
    async def go() -> bytes:
        sockets = bind_sockets(0, "127.0.0.1")
        server = HTTPServer(make_app())
        server.add_sockets(sockets)
        port = sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(http2connection.H2_PREFACE)
        data = await asyncio.wait_for(reader.read(100), 10)
        writer.close()
        server.stop()
        await server.close_all_connections()
        return data

    assert asyncio.run(go()).startswith(b"HTTP/1.1 505")


def test_missing_h2_fails_at_start_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http2connection, "h2", None)

    async def go() -> None:
        HTTPServer(make_app(), http2=True)

    with pytest.raises(http2connection.H2NotInstalledError, match=r"tornado\[http2\]"):
        asyncio.run(go())


def test_ssl_options_dict_is_not_mutated() -> None:
    options = {"certfile": CERT, "keyfile": KEY}

    async def go() -> Any:
        return HTTPServer(make_app(), ssl_options=options, http2=True).ssl_options

    ctx = asyncio.run(go())
    assert options == {"certfile": CERT, "keyfile": KEY}
    assert isinstance(ctx, ssl.SSLContext)


def test_head_error_and_detach(server: Server) -> None:
    client = RawClient(server.port)
    try:
        headers, body = client.response(client.request("/static/index.rst", "HEAD"))
        size = os.path.getsize(os.path.join(STATIC, "index.rst"))
        assert headers[":status"] == "200" and body == b""
        assert headers["content-length"] == str(size)
        headers, body = client.response(client.request("/fail"))
        assert headers[":status"] == "500"
        # Many streams share the connection: it can't be detached; the
        # stream is reset instead of left hanging.
        assert client.response(client.request("/detach"))[0]["reset"] == "2"
        assert STATE["detach_error"] == "HTTPOutputError"
        assert client.response(client.request("/"))[1].startswith(b"hello")
    finally:
        client.close()


def test_decompress_request() -> None:
    s = Server(decompress_request=True)
    client = RawClient(s.port)
    try:
        packed = gzip.compress(b"unpacked body")
        sid = client.request(
            "/body", "POST", body=packed, extra=[("content-encoding", "gzip")]
        )
        assert client.response(sid)[1] == b"unpacked body"
    finally:
        client.close()
        s.close()


def test_connection_lost_mid_request_tells_the_handler(server: Server) -> None:
    STATE["reset_started"] = STATE["reset_closed"] = False
    client = RawClient(server.port)
    client.request("/reset")
    deadline = time.monotonic() + 10
    while not STATE["reset_started"] and time.monotonic() < deadline:
        time.sleep(0.01)
    client.close()
    deadline = time.monotonic() + 10
    while not STATE["reset_closed"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert STATE["reset_closed"]


DEMO_RUNNER = """
import asyncio, importlib.util, ssl, sys
spec = importlib.util.spec_from_file_location("chatdemo", sys.argv[1])
demo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo)
from tornado.httpserver import HTTPServer
from tornado.options import parse_command_line

async def main():
    parse_command_line([sys.argv[0]])
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    HTTPServer(demo.make_app(), ssl_options=ctx, http2=True).listen(int(sys.argv[2]), "127.0.0.1")
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.mark.parametrize("script", ["chat/chatdemo.py", "websocket/chatdemo.py"])
def test_chromium_runs_the_chat_demos_over_h2(script: str) -> None:
    # The long-polling chat (page, XHR POSTs with XSRF, long polls) and the
    # WebSocket chat, unchanged, behind HTTPServer(http2=True) over TLS.
    from test_demo_harness import launch_chromium

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=root)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            DEMO_RUNNER,
            os.path.join(root, "demos", script),
            str(port),
            CERT,
            KEY,
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        url = "https://127.0.0.1:%d/" % port
        with launch_chromium() as browser:
            pages = []
            for _ in range(2):
                context = browser.new_context(ignore_https_errors=True)
                page = context.new_page()
                page.goto(url)
                pages.append(page)
            alice, bob = pages
            assert (
                alice.evaluate(
                    'performance.getEntriesByType("navigation")[0].nextHopProtocol'
                )
                == "h2"
            )
            alice.fill("#message", "hello over h2")
            alice.press("#message", "Enter")
            bob.locator("#inbox .message", has_text="hello over h2").wait_for(
                timeout=20000
            )
            bob.fill("#message", "and back")
            bob.press("#message", "Enter")
            alice.locator("#inbox .message", has_text="and back").wait_for(
                timeout=20000
            )
            protocols = alice.evaluate(
                'performance.getEntriesByType("resource").map((e) => e.nextHopProtocol)'
            )
            assert protocols and set(protocols) <= {"h2", ""}, protocols
    finally:
        proc.terminate()
        proc.wait(10)


def test_ping_is_answered(server: Server) -> None:
    client = RawClient(server.port)
    try:
        client.h2.ping(b"12345678")
        client.flush()
        ack = client.until(
            lambda: [
                e for e in client.events if isinstance(e, h2.events.PingAckReceived)
            ]
        )
        assert ack[0].ping_data == b"12345678"
    finally:
        client.close()


def test_expect_100_continue_gets_an_interim_100_first(server: Server) -> None:
    client = RawClient(server.port)
    try:
        sid = client.request(
            "/body", method="POST", extra=[("expect", "100-continue")], end=False
        )
        # Nothing of the body has been sent: the 100 must come first.
        interim = client.until(
            lambda: [
                e
                for e in client.events
                if isinstance(e, h2.events.InformationalResponseReceived)
                and e.stream_id == sid
            ]
        )
        assert dict(interim[0].headers)[":status"] == "100"
        client.h2.send_data(sid, b"the body", end_stream=True)
        client.flush()
        headers, body = client.response(sid)
        assert headers[":status"] == "200" and body == b"the body"
        # No body, no interim response.
        sid2 = client.request("/", extra=[("expect", "100-continue")])
        assert client.response(sid2)[0][":status"] == "200"
        assert not [
            e
            for e in client.events
            if isinstance(e, h2.events.InformationalResponseReceived)
            and e.stream_id == sid2
        ]
    finally:
        client.close()


def test_response_head_drops_hop_fields_and_never_indexes_cookies(
    server: Server,
) -> None:
    """The pre-encoded response head: HTTP/1-only fields dropped (RFC
    9113 8.2.2), Set-Cookie sent "never indexed" (RFC 7541 7.1.3), the
    same bytes again on a second request."""
    import hpack

    client = RawClient(server.port)
    try:
        for _ in range(2):
            sid = client.request("/hop")
            client.response(sid)
            received = [
                e
                for e in client.events
                if isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid
            ][0]
            names = [name for name, _ in received.headers]
            assert "connection" not in names and "keep-alive" not in names
            assert dict(received.headers)["x-kept"] == "yes"
            cookies = [h for h in received.headers if h[0] == "set-cookie"]
            assert len(cookies) == 1 and cookies[0][1].startswith("secret=s3")
            assert isinstance(cookies[0], hpack.NeverIndexedHeaderTuple)
    finally:
        client.close()
