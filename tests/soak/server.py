"""The server that the soak runs measure, started by them as a subprocess.

Endpoints: ``/`` (a short hello), ``/big`` (a 256 KiB response, for clients
that never read it), ``/upload`` (a POST whose body is read), ``/ws`` (a
WebSocket echo) and ``/stats`` (JSON: resident memory, open file
descriptors, live WebSocket connections, and how many WebSocket handlers,
protocols and streams the garbage collector still finds).

    python3 tests/soak/server.py --port 8888 [--idle-connection-timeout S] [--body-timeout S]
"""

import argparse
import asyncio
import gc
import json
import os
import resource
import sys
from typing import Any, Set

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from tornado import httpserver, iostream, web, websocket  # noqa: E402

BIG = b"x" * (256 << 10)
OPEN: Set[websocket.WebSocketHandler] = set()


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Hello(web.RequestHandler):
    def get(self) -> None:
        self.write("Hello, world")


class Big(web.RequestHandler):
    def get(self) -> None:
        self.write(BIG)


class Upload(web.RequestHandler):
    def post(self) -> None:
        self.write(str(len(self.request.body)))


class Echo(websocket.WebSocketHandler):
    def open(self) -> None:
        OPEN.add(self)

    def on_message(self, message: Any) -> None:
        self.write_message(message, binary=isinstance(message, bytes))

    def on_close(self) -> None:
        OPEN.discard(self)


class Stats(web.RequestHandler):
    def get(self) -> None:
        counts = {"handlers": 0, "protocols": 0, "streams": 0}
        if self.get_argument("gc", None):
            gc.collect()
            for obj in gc.get_objects():
                if isinstance(obj, websocket.WebSocketHandler):
                    counts["handlers"] += 1
                elif isinstance(obj, websocket.WebSocketProtocol):
                    counts["protocols"] += 1
                elif isinstance(obj, iostream.IOStream):
                    counts["streams"] += 1
        self.write(json.dumps(dict(
            counts, rss_kib=rss_kib(), fds=len(os.listdir("/proc/self/fd")), open_ws=len(OPEN),
        )))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle-connection-timeout", type=float)
    parser.add_argument("--body-timeout", type=float)
    args = parser.parse_args()
    raise_fd_limit()
    app = web.Application([
        ("/", Hello), ("/big", Big), ("/upload", Upload), ("/ws", Echo), ("/stats", Stats),
    ])
    server = httpserver.HTTPServer(
        app, idle_connection_timeout=args.idle_connection_timeout, body_timeout=args.body_timeout,
    )
    server.listen(args.port, "127.0.0.1", backlog=4096)
    print("listening", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
