"""A server for tests/test_shutdown.py, run as a child process.

It ends with `tornado.shutdown.drain_on_signal` (or, with ``--procs N``,
runs N workers under `tornado.shutdown.fork_processes`).  Once it listens
it prints ``ready <pid>`` (one line per process); when a drain is over,
``drained <pid> <seconds>``; a WebSocket's ``on_close`` prints
``ws-closed <code>``; a long poll that sees its connection closed prints
``poll-closed``.

Routes: ``/`` answers ``ok`` (``?size=N``: N bytes); ``/slow?t=S``
answers after S seconds; ``/poll`` waits until ``/wake`` is requested
(or forever); ``/ws`` echoes WebSocket messages.
"""

import argparse
import asyncio
import os
import sys
import time

from tornado import shutdown, web, websocket
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets


def say(*words: object) -> None:
    # One write per line: the workers of --procs share the pipe.
    os.write(1, (" ".join(map(str, words)) + "\n").encode())


class Main(web.RequestHandler):
    def get(self) -> None:
        size = int(self.get_argument("size", "0"))
        self.write(b"x" * size if size else b"ok")


class Slow(web.RequestHandler):
    async def get(self) -> None:
        await asyncio.sleep(float(self.get_argument("t", "1")))
        self.write("slow done")


WAITERS: "list[asyncio.Future[None]]" = []


class Poll(web.RequestHandler):
    async def get(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        WAITERS.append(waiter)
        await waiter
        self.write("woken")

    def on_connection_close(self) -> None:
        say("poll-closed")


class Wake(web.RequestHandler):
    def get(self) -> None:
        while WAITERS:
            waiter = WAITERS.pop()
            if not waiter.done():
                waiter.set_result(None)
        self.write("woke")


class Echo(websocket.WebSocketHandler):
    def on_message(self, message: "str | bytes") -> None:
        self.write_message(message)

    def on_close(self) -> None:
        say("ws-closed", self.close_code)


def make_app() -> web.Application:
    return web.Application(
        [("/", Main), ("/slow", Slow), ("/poll", Poll), ("/wake", Wake), ("/ws", Echo)]
    )


async def serve(sockets: list, timeout: float) -> None:
    server = HTTPServer(make_app())
    server.add_sockets(sockets)
    say("ready", os.getpid())
    await shutdown.drain_on_signal(server, timeout=timeout)
    # (The time from the signal is measured by the test; this is the
    # drain's own end.)
    say("drained", os.getpid(), time.monotonic())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--reuse-port", action="store_true")
    parser.add_argument("--procs", type=int, default=0)
    args = parser.parse_args()
    sockets = bind_sockets(args.port, "127.0.0.1", reuse_port=args.reuse_port)
    if args.procs:
        shutdown.fork_processes(args.procs, max_restarts=0)
    asyncio.run(serve(sockets, args.timeout))
    sys.exit(0)


if __name__ == "__main__":
    main()
