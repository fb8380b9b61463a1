"""A fixed number of keep-alive GETs, for instruction counts (callgrind).

``wrk`` runs for a time, so the number of requests it makes depends on the
server's speed; an instruction count per request needs a known number.
This driver opens ``--connections`` keep-alive connections and sends
``--requests`` GETs in all, one in flight per connection, reading each
answer by its Content-Length (or chunked coding's last chunk).  Prints
``RESULT requests=... errors=...``.
"""

import argparse
import asyncio

from _loop import run


class Counter(asyncio.Protocol):
    def __init__(self, request: bytes, budget: "Budget", done: asyncio.Future) -> None:
        self.request = request
        self.budget = budget
        self.done = done
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.next()

    def next(self) -> None:
        if self.budget.take():
            self.transport.write(self.request)
        elif not self.done.done():
            self.done.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].lower()
            if not head.startswith(b"http/1.1 200"):
                self.budget.errors += 1
            at = head.find(b"content-length:")
            if at >= 0:
                length = int(head[at + 15:].split(b"\r\n", 1)[0])
                total = end + 4 + length
            else:
                last = self.buf.find(b"\r\n0\r\n\r\n", end)
                if last < 0:
                    return
                total = last + 7
            if len(self.buf) < total:
                return
            self.buf = self.buf[total:]
            self.budget.answered += 1
            self.next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"closed after {self.budget.answered}"))


class Budget:
    def __init__(self, n: int) -> None:
        self.left = n
        self.answered = 0
        self.errors = 0

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--requests", type=int, required=True)
    args = parser.parse_args()
    loop = asyncio.get_running_loop()
    request = f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n\r\n".encode()
    budget = Budget(args.requests)
    waits = []
    transports = []
    for _ in range(args.connections):
        done = loop.create_future()
        transport, _ = await loop.create_connection(
            lambda done=done: Counter(request, budget, done), "127.0.0.1", args.port)
        transports.append(transport)
        waits.append(done)
    await asyncio.gather(*waits)
    for t in transports:
        t.close()
    print(f"RESULT requests={budget.answered} errors={budget.errors}", flush=True)


if __name__ == "__main__":
    run(main())
