"""WebSocket echo load: messages per second over N connections.

Each connection keeps ``--window`` messages in flight: it sends precomputed
masked frames and, for every complete echo received (counted by bytes, as
every message has the same size), sends one more.  Prints
``RESULT msgs_per_sec=... connections=... warmup_msgs=... driver_cpu=...``
(driver_cpu: the share of one CPU the driver itself used while measuring;
near 1.0 the driver would be the bottleneck).
"""

import argparse
import asyncio
import time

from _loop import raise_fd_limit, run
from _wsproto import UpgradeProtocol, client_frame, handshake_request, server_frame


class EchoClient(UpgradeProtocol):
    def __init__(self, request: bytes, frame: bytes, echo_len: int, window: int,
                 opened: asyncio.Future) -> None:
        self.request = request
        self.frame = frame
        self.echo_len = echo_len
        self.window = window
        self.opened = opened
        self.count = 0
        self.pending = 0
        self.running = False
        self.budget: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.write(self.request)

    def start(self) -> None:
        self.running = True
        window = self.window if self.budget is None else min(self.window, self.budget)
        if self.budget is not None:
            self.budget -= window
        if window:
            self.transport.write(self.frame * window)

    def frames_received(self, data: bytes) -> None:
        self.pending += len(data)
        n, self.pending = divmod(self.pending, self.echo_len)
        if n:
            self.count += n
            if self.budget is not None:
                n = min(n, self.budget)
                self.budget -= n
            if self.running and n:
                self.transport.write(self.frame * n)


async def _count_messages(clients: list, total: int) -> None:
    """Send ``total`` messages spread over the connections, wait for every echo."""
    share = [total // len(clients) + (1 if i < total % len(clients) else 0)
             for i in range(len(clients))]
    for c, n in zip(clients, share, strict=True):
        c.budget = n
        c.start()
    while sum(c.count for c in clients) < total:
        await asyncio.sleep(0.01)
    for c in clients:
        c.running = False
        c.transport.close()
    print(f"RESULT messages={total}", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--window", type=int, default=1)
    parser.add_argument("--messages", type=int, default=0,
                        help="echo exactly this many messages in all, then stop (for "
                             "instruction counts; no timing)")
    args = parser.parse_args()
    raise_fd_limit()
    loop = asyncio.get_running_loop()
    payload = b"x" * args.size
    frame = client_frame(payload)
    echo_len = len(server_frame(payload))
    clients = []
    for _ in range(args.connections):
        request, _accept = handshake_request("127.0.0.1", args.port)
        opened = loop.create_future()
        _, proto = await loop.create_connection(
            lambda request=request, opened=opened: EchoClient(
                request, frame, echo_len, args.window, opened),
            "127.0.0.1", args.port)
        await opened
        clients.append(proto)
    if args.messages:
        await _count_messages(clients, args.messages)
        return
    for c in clients:
        c.start()
    await asyncio.sleep(args.warmup)
    before = sum(c.count for c in clients)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    await asyncio.sleep(args.duration)
    after = sum(c.count for c in clients)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    for c in clients:
        c.running = False
        c.transport.close()
    print(f"RESULT msgs_per_sec={(after - before) / elapsed:.1f} "
          f"connections={len(clients)} warmup_msgs={before} driver_cpu={cpu / elapsed:.3f}",
          flush=True)


if __name__ == "__main__":
    run(main())
