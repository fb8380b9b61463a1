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
import time
from typing import Any, Dict, Set

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from tornado import httpserver, iostream, web, websocket  # noqa: E402

BIG = b"x" * (256 << 10)
OPEN: Set[websocket.WebSocketHandler] = set()
# Time the garbage collector takes, per generation: [collections, total
# seconds, longest seconds] (a full collection walks every live object, and
# ten thousand connections hold many).
GC_TIMES = {0: [0, 0.0, 0.0], 1: [0, 0.0, 0.0], 2: [0, 0.0, 0.0]}
_gc_started = [0.0]


def _time_gc(phase: str, info: Dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = time.perf_counter()
        return
    took = time.perf_counter() - _gc_started[0]
    entry = GC_TIMES[info["generation"]]
    entry[0] += 1
    entry[1] += took
    entry[2] = max(entry[2], took)


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
            gc={str(k): v for k, v in GC_TIMES.items()},
        )))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle-connection-timeout", type=float)
    parser.add_argument("--body-timeout", type=float)
    parser.add_argument("--gc-threshold", type=int, nargs=3, metavar=("G0", "G1", "G2"),
                        help="gc.set_threshold for the server process (after a gc.freeze)")
    args = parser.parse_args()
    raise_fd_limit()
    gc.callbacks.append(_time_gc)
    if args.gc_threshold:
        # What an application with ten thousand connections may do: the
        # objects of the start-up are never collected again, and fuller
        # generations are collected less often.
        gc.freeze()
        gc.set_threshold(*args.gc_threshold)
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
