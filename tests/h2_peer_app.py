"""An ASGI app served by hypercorn (a real HTTP/2 server built on ``h2``)
for tests/test_http2_client.py; run as a child process:

    python3 tests/h2_peer_app.py FD MAX_STREAMS [CERTFILE KEYFILE]

serves on the listening socket inherited as file descriptor FD, over TLS
(ALPN offering h2 and http/1.1) when a certificate is given, else in
cleartext (HTTP/1.1, and h2c by prior knowledge).

Routes (all answers plain text unless said otherwise):

* ``/hello``: ``Hello world!``.
* ``/echo``: JSON of method, path, query, body, headers and http_version.
* ``/peer``: the client's address and port (tells TCP connections apart).
* ``/chunks?n=N&size=S``: N pieces of S bytes, sent one by one.
* ``/big?size=S``: S bytes in one go.
* ``/gzip``: a gzip-encoded body when the request accepts gzip.
* ``/redirect?to=URL&status=CODE``: a redirect.
* ``/slow?delay=D``: answers after D seconds.
* ``/most_running``: the most ``/slow`` requests that ran at once since
  the last time this was asked.
* ``/status?code=C``: an empty answer with status C.
* ``/upload``: reads the body slowly (``delay`` seconds per piece) and
  answers with its length and SHA-256.
"""

import asyncio
import gzip
import hashlib
import json
import socket
import sys
import urllib.parse
from typing import Any, Callable, Dict, List, Tuple


# /slow requests running now, and the most at once since last asked.
_RUNNING = [0, 0]


async def _body(receive: Callable[[], Any], delay: float = 0.0) -> bytes:
    pieces: List[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        pieces.append(message.get("body", b""))
        if delay:
            await asyncio.sleep(delay)
        if not message.get("more_body"):
            break
    return b"".join(pieces)


async def app(
    scope: Dict[str, Any], receive: Callable[[], Any], send: Callable[[Any], Any]
) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    query = dict(urllib.parse.parse_qsl(scope["query_string"].decode()))
    path = scope["path"]
    headers: List[Tuple[bytes, bytes]] = [(b"content-type", b"text/plain")]
    status = 200
    chunks: List[bytes] = []
    request_headers = {
        k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]
    }
    if path not in ("/echo", "/upload"):
        # Read first: hypercorn 0.18 fails the connection on data for a
        # stream whose answer is complete.
        await _body(receive)
    if path == "/hello":
        chunks = [b"Hello world!"]
    elif path == "/echo":
        body = await _body(receive)
        chunks = [
            json.dumps(
                {
                    "method": scope["method"],
                    "path": path,
                    "query": scope["query_string"].decode(),
                    "body": body.decode("latin-1"),
                    "headers": request_headers,
                    "http_version": scope["http_version"],
                }
            ).encode()
        ]
        headers = [(b"content-type", b"application/json")]
    elif path == "/peer":
        host, port = scope["client"]
        chunks = [("%s:%d" % (host, port)).encode()]
    elif path == "/chunks":
        n, size = int(query.get("n", "5")), int(query.get("size", "10"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for i in range(n):
            await send(
                {
                    "type": "http.response.body",
                    "body": bytes([97 + i % 26]) * size,
                    "more_body": True,
                }
            )
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})
        return
    elif path == "/big":
        chunks = [b"x" * int(query.get("size", "1000"))]
    elif path == "/gzip":
        text = b"compressed " * 1000
        if "gzip" in request_headers.get("accept-encoding", ""):
            text = gzip.compress(text)
            headers.append((b"content-encoding", b"gzip"))
        chunks = [text]
    elif path == "/redirect":
        status = int(query.get("status", "302"))
        headers.append((b"location", query.get("to", "/hello").encode()))
    elif path == "/slow":
        _RUNNING[0] += 1
        _RUNNING[1] = max(_RUNNING[1], _RUNNING[0])
        try:
            await asyncio.sleep(float(query.get("delay", "1")))
        finally:
            _RUNNING[0] -= 1
        chunks = [b"slow"]
    elif path == "/most_running":
        chunks = [str(_RUNNING[1]).encode()]
        _RUNNING[1] = 0
    elif path == "/status":
        status = int(query.get("code", "204"))
    elif path == "/upload":
        body = await _body(receive, float(query.get("delay", "0")))
        chunks = [("%d %s" % (len(body), hashlib.sha256(body).hexdigest())).encode()]
    else:
        status = 404
        chunks = [b"not found"]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"".join(chunks)})


def main() -> None:
    import hypercorn.asyncio
    import hypercorn.config

    fd = int(sys.argv[1])
    config = hypercorn.config.Config()
    config.h2_max_concurrent_streams = int(sys.argv[2])
    config.bind = ["fd://%d" % fd]
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    if len(sys.argv) > 4:
        config.certfile, config.keyfile = sys.argv[3], sys.argv[4]
    socket.setdefaulttimeout(None)
    asyncio.run(hypercorn.asyncio.serve(app, config))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
