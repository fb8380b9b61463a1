"""Tests of tornado.asgi: ASGI applications on our server (ASGIContainer), and
our applications on ASGI servers (ASGIAdapter).

Real servers on 127.0.0.1 ephemeral ports and real clients throughout:
FastAPI and Starlette apps behind our HTTPServer, driven by our
AsyncHTTPClient and websocket_connect; Tornado applications under uvicorn,
hypercorn, granian and daphne; httpx's in-process ASGI transport; the demos
served through ASGIAdapter as child processes, the chat room in headless
Chromium.
"""

import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

import pytest
from support import run
from test_demo_harness import Session, launch_chromium, running

import tornado.web
import tornado.websocket
from tornado.asgi import ASGIAdapter, ASGIContainer, ClientDisconnected, LifespanError
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.testing import ExpectLog
from tornado.websocket import websocket_connect

fastapi = pytest.importorskip("fastapi")
starlette = pytest.importorskip("starlette")
httpx = pytest.importorskip("httpx")

from fastapi import FastAPI, File, UploadFile, WebSocket, WebSocketDisconnect  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse  # noqa: E402
from starlette.routing import Route, WebSocketRoute  # noqa: E402

HERE = Path(__file__).resolve().parent
SERVE = HERE / "asgi_serve.py"


def listening_socket() -> Tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock, sock.getsockname()[1]


@contextlib.asynccontextmanager
async def our_server(callback: Any, **kwargs: Any) -> AsyncIterator[int]:
    """Our HTTPServer with ``callback`` on an ephemeral port; yields the port."""
    server = HTTPServer(callback, **kwargs)
    sock, port = listening_socket()
    server.add_sockets([sock])
    try:
        yield port
    finally:
        server.stop()
        await server.close_all_connections()


@contextlib.asynccontextmanager
async def hosted(asgi_app: Any, **kwargs: Any) -> AsyncIterator[int]:
    """``asgi_app`` in an ASGIContainer (lifespan run around it) on our server."""
    container = ASGIContainer(asgi_app)
    async with container:
        async with our_server(container, **kwargs) as port:
            yield port


async def fetch(port: int, path: str, **kwargs: Any) -> Any:
    kwargs.setdefault("raise_error", False)
    return await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}{path}", **kwargs)


async def raw_exchange(port: int, request: bytes, read_timeout: float = 5) -> bytes:
    """Sends ``request`` bytes and reads until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), read_timeout)
    writer.close()
    return data


# ---------------------------------------------------------------------------
# ASGIContainer: FastAPI and Starlette on our HTTPServer
# ---------------------------------------------------------------------------


def make_fastapi_app(events: List[str]) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Dict[str, Any]]:
        events.append("startup")
        yield {"greeting": "hello from the lifespan"}
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: Optional[str] = None) -> Dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/items")
    async def create_item(item: Dict[str, Any]) -> Dict[str, Any]:
        return {"created": item}

    @app.get("/greeting")
    async def greeting(request: fastapi.Request) -> Dict[str, Any]:
        return {"greeting": request.state.greeting}

    @app.post("/upload")
    async def upload(file: UploadFile = File(...)) -> Dict[str, Any]:  # noqa: B008
        data = await file.read()
        return {"name": file.filename, "size": len(data), "head": data[:5].decode()}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def numbers() -> AsyncIterator[bytes]:
            for i in range(5):
                yield b"line %d\n" % i
                await asyncio.sleep(0)

        return StreamingResponse(numbers(), media_type="text/plain")

    @app.websocket("/ws")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                text = await ws.receive_text()
                await ws.send_text("echo: " + text)
        except WebSocketDisconnect as e:
            events.append(f"ws closed {e.code}")

    return app


def test_fastapi_app_on_our_server() -> None:
    events: List[str] = []
    app = make_fastapi_app(events)

    async def main() -> None:
        async with hosted(app) as port:
            assert events == ["startup"]
            response = await fetch(port, "/items/42?q=tea")
            assert response.code == 200
            assert json.loads(response.body) == {"item_id": 42, "q": "tea"}
            assert response.headers["Content-Type"] == "application/json"
            response = await fetch(port, "/items/notanumber")
            assert response.code == 422
            response = await fetch(
                port, "/items", method="POST", body=json.dumps({"name": "cup"}),
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
            assert json.loads(response.body) == {"created": {"name": "cup"}}
            response = await fetch(port, "/greeting")
            assert json.loads(response.body) == {"greeting": "hello from the lifespan"}

            boundary = "tornadoboundary"
            payload = b"HELLO" + os.urandom(300_000)
            body = (
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode() + payload + f"\r\n--{boundary}--\r\n".encode()
            response = await fetch(
                port, "/upload", method="POST", body=body,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )  # fmt: skip
            assert json.loads(response.body) == {"name": "big.bin", "size": len(payload), "head": "HELLO"}

            chunks: List[bytes] = []
            response = await fetch(port, "/stream", streaming_callback=chunks.append)
            assert response.code == 200
            assert b"".join(chunks) == b"".join(b"line %d\n" % i for i in range(5))
            assert response.headers.get("Transfer-Encoding") == "chunked"

            ws = await websocket_connect(f"ws://127.0.0.1:{port}/ws")
            await ws.write_message("ping")
            assert await ws.read_message() == "echo: ping"
            ws.close(1000)
            for _ in range(100):
                if any(e.startswith("ws closed") for e in events):
                    break
                await asyncio.sleep(0.02)
        assert events == ["startup", "ws closed 1000", "shutdown"]

    run(main)


def starlette_app(events: List[str]) -> Starlette:
    async def scope_echo(request: Any) -> JSONResponse:
        scope = request.scope
        return JSONResponse(
            {
                "type": scope["type"],
                "http_version": scope["http_version"],
                "method": scope["method"],
                "scheme": scope["scheme"],
                "path": scope["path"],
                "raw_path": scope["raw_path"].decode("latin-1"),
                "query_string": scope["query_string"].decode("latin-1"),
                "root_path": scope["root_path"],
                "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
                "client": list(scope["client"]),
                "server": list(scope["server"]),
                "asgi": scope["asgi"],
            }
        )

    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("Hello, world!")

    async def ws_endpoint(ws: Any) -> None:
        await ws.accept(subprotocol="chat.v2", headers=[(b"x-hello", b"there")])
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                events.append(f"disconnect {message['code']} {message.get('reason', '')}")
                return
            if message.get("bytes") is not None:
                await ws.send_bytes(message["bytes"][::-1])
            elif message["text"] == "close me":
                await ws.close(4321, "as you wish")
                return
            else:
                await ws.send_text(message["text"].upper())

    async def refuse(ws: Any) -> None:
        await ws.close()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    return Starlette(
        routes=[
            Route("/hello", hello),
            Route("/scope/{rest:path}", scope_echo, methods=["GET", "POST"]),
            WebSocketRoute("/ws", ws_endpoint),
            WebSocketRoute("/refuse", refuse),
        ],
        lifespan=lifespan,
    )


def test_starlette_sees_the_full_http_scope() -> None:
    async def main() -> None:
        async with hosted(starlette_app([])) as port:
            response = await fetch(port, "/scope/caf%C3%A9%2Fx?a=1&b=%20", headers={"X-Custom": "Yes"})
            scope = json.loads(response.body)
            assert scope["type"] == "http"
            assert scope["http_version"] == "1.1"
            assert scope["method"] == "GET"
            assert scope["scheme"] == "http"
            assert scope["path"] == "/scope/café/x"
            assert scope["raw_path"] == "/scope/caf%C3%A9%2Fx"
            assert scope["query_string"] == "a=1&b=%20"
            assert scope["root_path"] == ""
            assert ["x-custom", "Yes"] in scope["headers"]
            assert all(name == name.lower() for name, _ in scope["headers"])
            assert scope["client"][0] == "127.0.0.1" and scope["client"][1] > 0
            assert scope["server"] == ["127.0.0.1", port]
            assert scope["asgi"]["version"] == "3.0"

    run(main)


def test_starlette_websocket_features() -> None:
    events: List[str] = []

    async def main() -> None:
        async with hosted(starlette_app(events)) as port:
            ws = await websocket_connect(
                f"ws://127.0.0.1:{port}/ws", subprotocols=["chat.v1", "chat.v2"],
                compression_options={},
            )  # fmt: skip
            assert ws.selected_subprotocol == "chat.v2"
            assert ws.headers["X-Hello"] == "there"
            # permessage-deflate, as the client offered it.
            assert "permessage-deflate" in ws.headers.get("Sec-WebSocket-Extensions", "")
            await ws.write_message("shout")
            assert await ws.read_message() == "SHOUT"
            await ws.write_message(b"\x01\x02\x03", binary=True)
            assert await ws.read_message() == b"\x03\x02\x01"
            # The application closes, with its code and reason.
            await ws.write_message("close me")
            assert await ws.read_message() is None
            assert (ws.close_code, ws.close_reason) == (4321, "as you wish")

            # The client closes, with its code and reason.
            ws = await websocket_connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["chat.v2"])
            ws.close(4000, "goodbye")
            for _ in range(100):
                if len(events) > 1:
                    break
                await asyncio.sleep(0.02)
            assert events == ["startup", "disconnect 4000 goodbye"]

            # Closed before accepting: refused with 403.
            with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
                await websocket_connect(f"ws://127.0.0.1:{port}/refuse")
            assert refused.value.code == 403

    run(main)


def test_container_mixed_with_native_handlers() -> None:
    events: List[str] = []

    class Native(tornado.web.RequestHandler):
        def get(self) -> None:
            self.write("native")

    class NativeSocket(tornado.websocket.WebSocketHandler):
        def on_message(self, message: Any) -> None:
            self.write_message("native: " + message)

    container = ASGIContainer(starlette_app(events))
    app = tornado.web.Application(
        [
            (r"/native", Native),
            (r"/native-ws", NativeSocket),
            (r"/.*", tornado.web.FallbackHandler, {"fallback": container}),
        ]
    )

    async def main() -> None:
        async with container, our_server(app) as port:
            assert (await fetch(port, "/native")).body == b"native"
            assert (await fetch(port, "/hello")).body == b"Hello, world!"
            response = await fetch(port, "/scope/x", method="POST", body=b"abc")
            assert json.loads(response.body)["method"] == "POST"
            assert (await fetch(port, "/missing")).code == 404
            ws = await websocket_connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["chat.v2"])
            await ws.write_message("mixed")
            assert await ws.read_message() == "MIXED"
            ws.close()
            ws = await websocket_connect(f"ws://127.0.0.1:{port}/native-ws")
            await ws.write_message("hi")
            assert await ws.read_message() == "native: hi"
            ws.close()
        assert events[0] == "startup" and events[-1] == "shutdown"

    run(main)


# ---------------------------------------------------------------------------
# ASGIContainer: the protocol in detail, with raw ASGI applications
# ---------------------------------------------------------------------------


def test_request_body_is_not_buffered_while_the_app_does_not_read() -> None:
    release = asyncio.Event()
    received: List[int] = []

    async def slow_reader(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        total = 0
        while True:
            message = await receive()
            total += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        received.append(total)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(total).encode()})

    size = 64 * 1024 * 1024

    async def main() -> None:
        async with our_server(ASGIContainer(slow_reader), max_body_size=size) as port:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setblocking(False)
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size
            )
            block = b"x" * 65536
            sent = 0
            stalled_since = time.monotonic()
            # Send until the server stops taking data for a while.
            while sent < size and time.monotonic() - stalled_since < 0.5:
                try:
                    n = sock.send(block[: size - sent])
                    sent += n
                    stalled_since = time.monotonic()
                except BlockingIOError:
                    await asyncio.sleep(0.01)
            assert sent < size // 4, "the server read %d bytes the application did not ask for" % sent
            release.set()
            while sent < size:
                try:
                    sent += sock.send(block[: size - sent])
                except BlockingIOError:
                    await asyncio.sleep(0.001)
            reply = b""
            while not reply.endswith(str(size).encode()):
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    await asyncio.sleep(0.01)
                    continue
                assert data
                reply += data
            sock.close()
            assert reply.startswith(b"HTTP/1.1 200 OK")
            assert received == [size]

    run(main, timeout=60)


def test_response_send_waits_for_the_socket() -> None:
    progress: List[int] = []
    piece = b"y" * (1024 * 1024)
    count = 64

    async def big(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(piece) * count).encode())]})
        for i in range(count):
            await send({"type": "http.response.body", "body": piece, "more_body": i < count - 1})
            progress.append(i)

    async def main() -> None:
        async with hosted(big) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1024)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await asyncio.sleep(0.5)
            # Nothing has been read: send() must be holding the application.
            assert len(progress) < count // 4
            total = 0
            while True:
                data = await reader.read(1 << 20)
                if not data:
                    break
                total += len(data)
                if len(progress) == count and total > len(piece) * count:
                    break
            writer.close()
            assert len(progress) == count

    run(main, timeout=60)


def test_disconnect_reaches_a_waiting_app_and_send_raises() -> None:
    outcome: List[Any] = []
    done = asyncio.Event()

    async def waits(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "http.request"
        outcome.append((await receive())["type"])
        try:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"late"})
        except OSError as e:
            outcome.append(type(e))
        finally:
            done.set()

    async def main() -> None:
        async with hosted(waits) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.2)
            writer.close()
            await asyncio.wait_for(done.wait(), 5)
        assert outcome == ["http.disconnect", ClientDisconnected]

    run(main)


def test_chunked_without_length_and_head_without_body() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first ", "more_body": True})
        await send({"type": "http.response.body", "body": b"second", "more_body": False})

    async def sized(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4")]})
        await send({"type": "http.response.body", "body": b"body"})

    async def main() -> None:
        async with hosted(app) as port:
            reply = await raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            head, _, body = reply.partition(b"\r\n\r\n")
            assert b"Transfer-Encoding: chunked" in head
            assert body == b"6\r\nfirst \r\n6\r\nsecond\r\n0\r\n\r\n"
            # HTTP/1.0 has no chunks: the body ends with the connection.
            reply = await raw_exchange(port, b"GET / HTTP/1.0\r\n\r\n")
            assert reply.endswith(b"\r\n\r\nfirst second")
            reply = await raw_exchange(port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert reply.endswith(b"\r\n\r\n") and b"first" not in reply
        async with hosted(sized) as port:
            reply = await raw_exchange(port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert b"Content-Length: 4" in reply and reply.endswith(b"\r\n\r\n")
            response = await fetch(port, "/")
            assert response.body == b"body" and "Date" in response.headers
            assert response.headers["Server"].startswith("TornadoServer/")

    run(main)


def test_application_errors() -> None:
    async def fails_early(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("broken before the response")

    async def fails_late(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("broken in the middle")

    async def says_nothing(scope: Any, receive: Any, send: Any) -> None:
        return None

    async def main() -> None:
        async with hosted(fails_early) as port:
            with ExpectLog("tornado.application", "Exception in ASGI application"):
                response = await fetch(port, "/")
            assert response.code == 500
            # The connection is still good for another request.
            with ExpectLog("tornado.application", "Exception in ASGI application"):
                reply = await raw_exchange(
                    port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                )
            assert reply.count(b"HTTP/1.1 500") == 2
        async with hosted(fails_late) as port:
            with ExpectLog("tornado.application", "Exception in ASGI application"):
                reply = await raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            # Cut short: the client sees the connection close mid-body.
            assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"partial")
        async with hosted(says_nothing) as port:
            with ExpectLog("tornado.application", ".*returned without sending a response"):
                assert (await fetch(port, "/")).code == 500

    run(main)


def test_lifespan_failure_stops_the_start() -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database unreachable"})

    async def no_lifespan(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http", "no lifespan here"
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body"})

    @contextlib.asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        1 / 0
        yield

    starlette_failing = Starlette(lifespan=broken)

    async def main() -> None:
        with pytest.raises(LifespanError, match="database unreachable"):
            async with ASGIContainer(failing):
                pass
        with pytest.raises(LifespanError, match="ZeroDivisionError"):
            await ASGIContainer(starlette_failing).startup()

        async def raises(scope: Any, receive: Any, send: Any) -> None:
            await receive()
            raise OSError("no config file")

        # Whether an exception is a failure or means "no lifespan support"
        # depends on the lifespan argument (as with uvicorn's option).
        with ExpectLog("tornado.application", "Exception in ASGI lifespan"):
            with pytest.raises(LifespanError, match="no config file"):
                await ASGIContainer(raises, lifespan="on").startup()
        with ExpectLog("tornado.application", ".*does not seem to support lifespan", level=logging.INFO):
            await ASGIContainer(raises).startup()
        await ASGIContainer(raises, lifespan="off").startup()
        # An application without lifespan support is served all the same.
        async with hosted(no_lifespan) as port:
            assert (await fetch(port, "/")).code == 204

    run(main)


def test_websocket_refusals_and_app_errors() -> None:
    async def never_accepts(scope: Any, receive: Any, send: Any) -> None:
        await receive()

    async def fails(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise RuntimeError("no sockets today")

    async def custom_denial(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 401, "headers": [(b"www-authenticate", b"Basic")]})
        await send({"type": "websocket.http.response.body", "body": b"who are you?"})

    async def main() -> None:
        for app, code in ((never_accepts, 403), (fails, 500), (custom_denial, 401)):
            async with hosted(app) as port:
                with ExpectLog("tornado.application", ".*", required=False):
                    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
                        await websocket_connect(f"ws://127.0.0.1:{port}/")
                assert refused.value.code == code
                if code == 401:
                    assert refused.value.response.body == b"who are you?"

    run(main)


# ---------------------------------------------------------------------------
# ASGIAdapter: a Tornado application in-process (httpx's ASGI transport)
# ---------------------------------------------------------------------------

# The static and template directory of adapter_application (see static_files).
STATIC = HERE


class EchoHandler(tornado.web.RequestHandler):
    def _describe(self) -> None:
        request = self.request
        self.write(
            {
                "method": request.method,
                "remote_ip": request.remote_ip,
                "protocol": request.protocol,
                "host": request.host,
                "version": request.version,
                "path": request.path,
                "query": request.query,
                "body": request.body.decode(),
                "arg": self.get_argument("a", None),
            }
        )

    get = post = put = patch = delete = options = _describe  # type: ignore[assignment]

    def head(self) -> None:
        self.set_header("X-Head", "yes")


class FlushHandler(tornado.web.RequestHandler):
    async def get(self) -> None:
        for i in range(3):
            self.write("part %d\n" % i)
            await self.flush()
        self.finish("end\n")


@tornado.web.stream_request_body
class StreamingUpload(tornado.web.RequestHandler):
    def prepare(self) -> None:
        self.pieces: List[int] = []

    def data_received(self, chunk: bytes) -> None:
        self.pieces.append(len(chunk))

    def put(self) -> None:
        self.write({"total": sum(self.pieces), "pieces": len(self.pieces)})


class ErrorHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        raise ValueError("handler failure")


class CookieHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        value = self.get_signed_cookie("who")
        if value is None:
            self.set_signed_cookie("who", "ada")
            self.write("set")
        else:
            self.write(b"hello " + value)

    def post(self) -> None:
        self.write("posted")


class XSRFHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write(self.xsrf_token)


class TemplateHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.render("page.html", name=self.get_argument("name"))


def adapter_application(**settings: Any) -> tornado.web.Application:
    return tornado.web.Application(
        [
            (r"/echo", EchoHandler),
            (r"/flush", FlushHandler),
            (r"/upload", StreamingUpload),
            (r"/error", ErrorHandler),
            (r"/cookie", CookieHandler),
            (r"/template", TemplateHandler),
            (r"/xsrf", XSRFHandler),
            (r"/redirect", tornado.web.RedirectHandler, {"url": "/echo?a=moved"}),
        ],
        static_path=str(STATIC),
        template_path=str(STATIC),
        cookie_secret="not-a-secret",
        **settings,
    )


@pytest.fixture(scope="module", autouse=True)
def static_files(tmp_path_factory: pytest.TempPathFactory) -> None:
    global STATIC
    STATIC = tmp_path_factory.mktemp("asgi_static")
    (STATIC / "data.txt").write_bytes(bytes(range(256)) * 4)
    (STATIC / "page.html").write_text("<p>Hello, {{ name }}!</p>")


def in_process(app: tornado.web.Application, client: Tuple[str, int] = ("10.1.2.3", 5555)) -> Any:
    transport = httpx.ASGITransport(app=ASGIAdapter(app), client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://example.test:8080")


def test_adapter_requests_in_process() -> None:
    async def main() -> None:
        async with in_process(adapter_application()) as client:
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
                response = await client.request(method, "/echo?a=1", content=b"" if method in ("GET", "DELETE", "OPTIONS") else b"body")
                assert response.status_code == 200, (method, response.text)
                seen = response.json()
                assert seen["method"] == method
                assert seen["remote_ip"] == "10.1.2.3"
                assert seen["protocol"] == "http"
                assert seen["host"] == "example.test:8080"
                assert seen["version"] == "HTTP/1.1"
                assert seen["arg"] == "1"
            response = await client.head("/echo")
            assert response.headers["x-head"] == "yes" and response.content == b""
            response = await client.post("/echo", data={"a": "form value"})
            assert response.json()["arg"] == "form value"

            response = await client.get("/flush")
            assert response.text == "part 0\npart 1\npart 2\nend\n"

            response = await client.put("/upload", content=b"z" * 200_000)
            assert response.json()["total"] == 200_000

            with ExpectLog("tornado.application", "Uncaught exception"):
                response = await client.get("/error")
            assert response.status_code == 500 and b"500: Internal Server Error" in response.content
            response = await client.get("/nowhere")
            assert response.status_code == 404

            response = await client.get("/redirect")
            assert response.status_code == 301 and response.headers["location"] == "/echo?a=moved"

            response = await client.get("/template", params={"name": "<Ada>"})
            assert response.text == "<p>Hello, &lt;Ada&gt;!</p>"

            response = await client.get("/cookie")
            assert response.text == "set" and "who" in response.cookies
            response = await client.get("/cookie")
            assert response.text == "hello ada"

            # Static files: ranges, conditional requests.
            response = await client.get("/static/data.txt")
            assert response.status_code == 200 and len(response.content) == 1024
            etag = response.headers["etag"]
            response = await client.get("/static/data.txt", headers={"Range": "bytes=10-19"})
            assert response.status_code == 206 and response.content == bytes(range(10, 20))
            assert response.headers["content-range"] == "bytes 10-19/1024"
            response = await client.get("/static/data.txt", headers={"If-None-Match": etag})
            assert response.status_code == 304 and response.content == b""

        # The client's scheme: https through the transport.
        transport = httpx.ASGITransport(app=ASGIAdapter(adapter_application()))
        async with httpx.AsyncClient(transport=transport, base_url="https://secure.test") as client:
            assert (await client.get("/echo")).json()["protocol"] == "https"

    run(main)


def test_adapter_xsrf_protection() -> None:
    async def main() -> None:
        async with in_process(adapter_application(xsrf_cookies=True)) as client:
            with ExpectLog("tornado.general", ".*XSRF", required=False):
                assert (await client.post("/cookie")).status_code == 403
            token = (await client.get("/xsrf")).text
            assert client.cookies.get("_xsrf")
            response = await client.post("/cookie", data={"_xsrf": token})
            assert response.status_code == 200 and response.text == "posted"

    run(main)


def test_adapter_refuses_a_body_over_the_limit() -> None:
    async def main() -> None:
        app = ASGIAdapter(adapter_application(), max_body_size=1000)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
            response = await client.post("/echo", content=b"q" * 5000)
            assert response.status_code == 413
            assert (await client.post("/echo", content=b"q" * 500)).status_code == 200

    run(main)


# ---------------------------------------------------------------------------
# ASGIAdapter under real ASGI servers, in this process's event loop
# ---------------------------------------------------------------------------


class LongPoll(tornado.web.RequestHandler):
    closed: "asyncio.Event"

    async def get(self) -> None:
        self.waiting = asyncio.get_running_loop().create_future()
        try:
            await self.waiting
        except asyncio.CancelledError:
            return
        self.write("news")

    def on_connection_close(self) -> None:
        LongPoll.closed.set()
        self.waiting.cancel()


class Socket(tornado.websocket.WebSocketHandler):
    log: List[Any] = []

    def check_origin(self, origin: str) -> bool:
        return origin == "http://good.example"

    def select_subprotocol(self, subprotocols: List[str]) -> Optional[str]:
        return "v2" if "v2" in subprotocols else None

    def prepare(self) -> None:
        if self.get_argument("deny", None):
            raise tornado.web.HTTPError(401)
        self.set_cookie("seen", "1")

    def open(self) -> None:
        Socket.log.append("open")
        self.write_message("welcome")

    def on_message(self, message: Any) -> None:
        if message == "ping":
            self.ping(b"data")
            self.write_message("pinged")
        elif message == "close":
            self.close(4100, "server says bye")
        elif isinstance(message, bytes):
            self.write_message(message * 2, binary=True)
        else:
            self.write_message({"echo": message})

    def on_close(self) -> None:
        Socket.log.append(("closed", self.close_code, self.close_reason))


def served_application() -> tornado.web.Application:
    return tornado.web.Application([(r"/echo", EchoHandler), (r"/poll", LongPoll), (r"/ws", Socket), (r"/flush", FlushHandler)])


@contextlib.asynccontextmanager
async def asgi_server(name: str, app: Any) -> AsyncIterator[int]:
    """``app`` served by the ASGI server ``name`` in this event loop."""
    sock, port = listening_socket()
    if name == "uvicorn":
        uvicorn = pytest.importorskip("uvicorn")
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started:
            assert not task.done(), task
            await asyncio.sleep(0.01)
        try:
            yield port
        finally:
            server.should_exit = True
            await task
    elif name == "hypercorn":
        pytest.importorskip("hypercorn")
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"fd://{sock.fileno()}"]
        config.loglevel = "WARNING"
        stop = asyncio.Event()
        task = asyncio.ensure_future(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
        for _ in range(500):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            await asyncio.sleep(0.01)
        try:
            yield port
        finally:
            stop.set()
            await task
            with contextlib.suppress(OSError):  # hypercorn closes it itself
                sock.close()
    else:
        raise AssertionError(name)


SERVERS = ["uvicorn", "hypercorn"]


@pytest.mark.parametrize("server", SERVERS)
def test_adapter_http_under_server(server: str) -> None:
    LongPoll.closed = asyncio.Event()

    async def main() -> None:
        async with asgi_server(server, ASGIAdapter(served_application())) as port:
            response = await fetch(port, "/echo?a=x")
            seen = json.loads(response.body)
            assert seen["remote_ip"] == "127.0.0.1" and seen["host"] == f"127.0.0.1:{port}"
            response = await fetch(port, "/echo", method="POST", body=b"a=posted")
            assert json.loads(response.body)["arg"] == "posted"
            chunks: List[bytes] = []
            await fetch(port, "/flush", streaming_callback=chunks.append)
            assert b"".join(chunks) == b"part 0\npart 1\npart 2\nend\n"
            # A long poll whose client goes away: on_connection_close runs.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.2)
            writer.close()
            await asyncio.wait_for(LongPoll.closed.wait(), 5)

    run(main)


@pytest.mark.parametrize("server", SERVERS)
def test_adapter_websocket_under_server(server: str) -> None:
    Socket.log = []

    async def main() -> None:
        async with asgi_server(server, ASGIAdapter(served_application())) as port:
            url = f"ws://127.0.0.1:{port}/ws"
            request = HTTPRequest(url, headers={"Origin": "http://good.example"})
            ws = await websocket_connect(request, subprotocols=["v1", "v2"])
            assert ws.selected_subprotocol == "v2"
            assert "seen=1" in ws.headers.get("Set-Cookie", "")
            assert await ws.read_message() == "welcome"
            await ws.write_message("hello")
            assert json.loads(await ws.read_message()) == {"echo": "hello"}
            await ws.write_message(b"\x00\xff", binary=True)
            assert await ws.read_message() == b"\x00\xff\x00\xff"
            await ws.write_message("ping")
            assert await ws.read_message() == "pinged"
            await ws.write_message("close")
            assert await ws.read_message() is None
            assert (ws.close_code, ws.close_reason) == (4100, "server says bye")

            ws = await websocket_connect(request)
            assert await ws.read_message() == "welcome"
            ws.close(4200, "client says bye")
            for _ in range(200):
                if len(Socket.log) == 4:
                    break
                await asyncio.sleep(0.02)
            if server == "hypercorn":
                # hypercorn reports every client close as 1006 (its own
                # websocket.disconnect message says so).
                assert Socket.log[3] == ("closed", 1006, None)
            else:
                assert Socket.log[3] == ("closed", 4200, "client says bye")

            # check_origin and prepare() refusals.
            with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
                await websocket_connect(HTTPRequest(url, headers={"Origin": "http://evil.example"}))
            assert refused.value.code == 403
            with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
                await websocket_connect(HTTPRequest(url + "?deny=1", headers={"Origin": "http://good.example"}))
            assert refused.value.code in (401, 403)  # 401 where the server has the denial extension

    run(main)


# ---------------------------------------------------------------------------
# The demos, served through ASGIAdapter by real ASGI servers (child processes)
# ---------------------------------------------------------------------------


def serving(server: str, demo: str, *args: str) -> Any:
    pytest.importorskip(server)
    return running(str(SERVE), f"--server={server}", f"--demo={demo}", *args)


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn", "granian", "daphne"])
def test_helloworld_demo(server: str) -> None:
    with serving(server, "helloworld") as demo:
        response = Session(demo.url()).get("/")
        assert response.status == 200 and response.text == "Hello, world"


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn"])
def test_chat_demo_long_polling(server: str) -> None:
    import concurrent.futures

    from test_demo_chat import joined, poll, say

    with serving(server, "chat", "--poll_timeout=10") as demo:
        alice, bob = joined(demo), joined(demo)
        first = say(alice, "first")
        assert alice.post("/a/message/new", {"body": "no token"}, xsrf=False).status == 403
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(poll, bob, first["id"])
            time.sleep(0.3)
            assert not waiting.done()
            second = say(alice, "second")
            assert [m["id"] for m in waiting.result(timeout=30)] == [second["id"]]
        script = Session(demo.url()).get("/static/chat.js")
        assert script.status == 200 and b"/a/message/updates" in script.body
        assert "Traceback" not in demo.output()


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn", "granian", "daphne"])
def test_websocket_chat_demo(server: str) -> None:
    with serving(server, "websocket") as demo:

        async def main() -> None:
            url = f"ws://127.0.0.1:{demo.port}/chatsocket"
            origin = {"Origin": f"http://127.0.0.1:{demo.port}"}
            first = await websocket_connect(HTTPRequest(url, headers=origin))
            second = await websocket_connect(HTTPRequest(url, headers=origin))
            await first.write_message(json.dumps({"body": "hello room"}))
            for ws in (first, second):
                while True:
                    message = json.loads(await ws.read_message())
                    if "hello room" in json.dumps(message):
                        break
            first.close()
            second.close()

        run(main)
        page = Session(demo.url()).get("/")
        assert page.status == 200
        assert "Traceback" not in demo.output()


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn"])
def test_blog_demo(server: str, tmp_path: Path) -> None:
    from test_demo_blog import sign_up

    db = f"sqlite:///{tmp_path / 'blog.db'}"
    with serving(server, "blog", f"--db={db}", "--cookie_secret=test-secret") as demo:
        session = sign_up(demo)
        form = session.get("/compose")
        assert form.status == 200
        response = session.post("/compose", {"title": "Over ASGI", "markdown": "Served by *" + server + "*."})
        assert response.status == 302, response
        entry = session.get(response.headers["Location"])
        assert entry.status == 200 and "Over ASGI" in entry.text
        assert "<em>" + server + "</em>" in entry.text
        assert "Over ASGI" in Session(demo.url()).get("/feed").text
        assert "Traceback" not in demo.output()


@pytest.mark.parametrize("demo_name", ["chat", "websocket"])
@pytest.mark.parametrize("server", ["uvicorn", "hypercorn"])
def test_chat_room_in_chromium(server: str, demo_name: str) -> None:
    with serving(server, demo_name) as demo, launch_chromium() as browser:
        pages = [browser.new_context().new_page() for _ in range(2)]
        for page in pages:
            page.goto(demo.url())
        pages[0].fill("#message", f"hello from {server}")
        pages[0].press("#message", "Enter")
        for page in pages:
            page.locator("#inbox .message", has_text=f"hello from {server}").wait_for(timeout=15000)
        assert "Traceback" not in demo.output()


if __name__ == "__main__":
    logging.basicConfig()
    sys.exit(pytest.main([__file__, "-v"]))
