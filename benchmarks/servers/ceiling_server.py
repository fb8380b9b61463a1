"""The ceiling: what the event loop allows when the server does almost nothing.

A bare ``asyncio.Protocol`` that finds the end of each request head
(``\\r\\n\\r\\n``) and writes a canned response: the hello and JSON
workloads' exact bytes.  No framework on the same loop can beat it, so
"ours / ceiling" says how much of the loop's capacity our code leaves.
For the WebSocket echo workload it answers the upgrade and echoes
fixed-size frames by counting bytes (the drivers' yardstick server).
Pipelined requests get one write for the batch, as a real server would.
"""

import asyncio
import json

from _common import HELLO, JSON_DOC, parse_args, raise_fd_limit, ready, run

from fast_server import WSEchoProtocol  # the drivers' yardstick echo server


def _response(body: bytes, content_type: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body)


CANNED = {
    "hello": _response(HELLO.encode(), b"text/plain; charset=utf-8"),
    "json": _response(json.dumps(JSON_DOC).encode(), b"application/json"),
}


class CannedHTTP(asyncio.Protocol):
    def __init__(self, response: bytes) -> None:
        self.response = response
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        n = 0
        start = 0
        while True:
            end = buf.find(b"\r\n\r\n", start)
            if end < 0:
                break
            n += 1
            start = end + 4
        self.buf = buf[start:]
        if n:
            self.transport.write(self.response * n)


async def main(args) -> None:
    raise_fd_limit()
    loop = asyncio.get_running_loop()
    if args.workload == "wsecho":
        def factory() -> WSEchoProtocol:
            return WSEchoProtocol(32)
    elif args.workload in CANNED:
        response = CANNED[args.workload]

        def factory() -> CannedHTTP:
            return CannedHTTP(response)
    else:
        raise SystemExit(f"ceiling_server: no {args.workload} workload")
    server = await loop.create_server(factory, "127.0.0.1", args.port, backlog=1024)
    ready()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    ARGS = parse_args()
    run(main(ARGS), ARGS.loop)
