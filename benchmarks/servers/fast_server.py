"""A fixed, deliberately trivial server: the yardstick for the load drivers.

``http``: answers every GET with a constant 12-byte response, honouring
keep-alive and ``Connection: close``; the client workload points every HTTP
client at it, so only the clients differ.

``ws``: accepts WebSocket upgrades and echoes fixed-size text messages by
counting bytes (no parsing); the harness measures the echo driver against it
to show the driver is not the bottleneck of the WebSocket workload.

Runs on the standard library (uvloop when installed: it is the yardstick,
not a contestant).
"""

import argparse
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "drivers"))
from _loop import run  # noqa: E402
from _wsproto import accept_value, server_frame  # noqa: E402

_KEEP = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\nHello, world"
_CLOSE = (b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n"
          b"Connection: close\r\n\r\nHello, world")


class HTTPProtocol(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data
        out = []
        close = False
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head, buf = buf[:end], buf[end + 4:]
            if b"connection: close" in head.lower():
                out.append(_CLOSE)
                close = True
                break
            out.append(_KEEP)
        self.buf = buf
        if out:
            self.transport.write(b"".join(out))
        if close:
            self.transport.close()


class WSEchoProtocol(asyncio.Protocol):
    def __init__(self, size: int) -> None:
        self.in_len = 6 + size  # masked client frames, payload < 126
        self.reply = server_frame(b"x" * size)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buf = b""
        self.open = False
        self.pending = 0

    def data_received(self, data: bytes) -> None:
        if not self.open:
            self.buf += data
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head, rest = self.buf[:end].decode("latin-1"), self.buf[end + 4:]
            key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n")
                       if line.lower().startswith("sec-websocket-key:"))
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
                + accept_value(key.encode()) + b"\r\n\r\n")
            self.open = True
            self.buf = b""
            data = rest
        self.pending += len(data)
        n, self.pending = divmod(self.pending, self.in_len)
        if n:
            self.transport.write(self.reply * n)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("http", "ws"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", type=int, default=32, help="ws message size")
    args = parser.parse_args()
    loop = asyncio.get_running_loop()
    if args.mode == "http":
        factory = HTTPProtocol
    else:
        def factory() -> WSEchoProtocol:
            return WSEchoProtocol(args.size)
    server = await loop.create_server(factory, "127.0.0.1", args.port, backlog=1024)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    run(main())
