"""Many idle WebSocket clients that time the arrival of broadcasts.

Opens ``--connections`` WebSockets (bound to ``--source`` so several driver
processes and rounds never run out of ephemeral ports), prints
``READY <n>``, then stays idle.  Every broadcast message has the same size,
so each connection counts bytes: when all of this process's connections
have received broadcast number k, it prints ``DONE <k> <time>`` with the
``time.monotonic()`` of the last arrival (monotonic time is system-wide on
Linux, so the harness compares it with its own clock).  Exits when its
standard input closes.
"""

import argparse
import asyncio
import sys
import time

from _loop import raise_fd_limit, run
from _wsproto import UpgradeProtocol, handshake_request, server_frame


class IdleClient(UpgradeProtocol):
    def __init__(self, request: bytes, frame_len: int, tally: "Tally",
                 opened: asyncio.Future) -> None:
        self.request = request
        self.frame_len = frame_len
        self.tally = tally
        self.opened = opened
        self.received = 0
        self.seen = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.write(self.request)

    def frames_received(self, data: bytes) -> None:
        self.received += len(data)
        while self.received >= (self.seen + 1) * self.frame_len:
            self.seen += 1
            self.tally.arrived(self.seen)


class Tally:
    """Counts, per broadcast, how many connections have it."""

    def __init__(self) -> None:
        self.total = 0
        self.counts: dict[int, int] = {}

    def arrived(self, k: int) -> None:
        n = self.counts.get(k, 0) + 1
        self.counts[k] = n
        if n == self.total:
            print(f"DONE {k} {time.monotonic():.6f}", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--source", default="127.0.0.1")
    parser.add_argument("--parallel", type=int, default=32,
                        help="handshakes in progress at once")
    parser.add_argument("--message-size", type=int, default=16)
    args = parser.parse_args()
    raise_fd_limit()
    loop = asyncio.get_running_loop()
    tally = Tally()
    tally.total = args.connections
    frame_len = len(server_frame(b"x" * args.message_size))
    gate = asyncio.Semaphore(args.parallel)
    keep = []

    async def connect_one() -> None:
        async with gate:
            request, _ = handshake_request("127.0.0.1", args.port)
            opened = loop.create_future()
            transport, _ = await loop.create_connection(
                lambda: IdleClient(request, frame_len, tally, opened),
                "127.0.0.1", args.port, local_addr=(args.source, 0))
            keep.append(transport)
            await asyncio.wait_for(opened, 60)

    await asyncio.gather(*(connect_one() for _ in range(args.connections)))
    print(f"READY {len(keep)}", flush=True)
    eof = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(1024) or
                    (eof.done() or eof.set_result(None)))
    await eof
    for t in keep:
        t.abort()


if __name__ == "__main__":
    run(main())
