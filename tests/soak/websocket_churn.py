"""Soak: 100,000 WebSocket connections opened and ended; nothing may stay.

Each connection does the opening handshake on ``/ws``, sends one message
and reads its echo, then ends: even-numbered ones with the closing
handshake (a Close frame, the server's Close, the server closes TCP), odd
ones dropped without a Close frame (the socket reset).  Once all are done
the server must hold no WebSocket handler, protocol or stream, its file
descriptors must be back where they were, and its resident memory may
exceed the figure after warm-up by less than 5 MB.

    python3 tests/soak/websocket_churn.py [--connections 100000] [--concurrency 64]
"""

import argparse
import asyncio
import os
import socket
import struct
import sys
import time

from common import load, running_server, stats

LIMIT_KIB = 5 * 1024
HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\n\r\n"
)


def masked(first: int, payload: bytes) -> bytes:
    key = os.urandom(4)
    data = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes([first, 0x80 | len(payload)]) + key + data


async def one(port: int, number: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HANDSHAKE)
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 "), head
    message = b"message %d" % number
    writer.write(masked(0x81, message))
    assert await reader.readexactly(2 + len(message)) == bytes([0x81, len(message)]) + message
    if number % 2 == 0:
        writer.write(masked(0x88, struct.pack("!H", 1000)))
        assert await reader.readexactly(4) == b"\x88\x02\x03\xe8"
        assert await reader.read() == b""  # the server closes first
        writer.close()
    else:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # a reset, no Close frame


async def churn(port: int, count: int, concurrency: int, start: int = 0) -> float:
    numbers = iter(range(start, start + count))
    began = time.monotonic()

    async def worker() -> None:
        for number in numbers:
            await one(port, number)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.monotonic() - began)


async def settle(port: int, streams_before: int = 0) -> dict:
    """Figures once the server has noticed every close.

    The count of objects is taken up to five times, half a second apart,
    until no stream is left over: the stream of the previous /stats
    request, closed by this client a moment ago, can still be referenced
    by a callback the server's loop has not run yet (its descriptor is
    already closed).  A leak stays through every attempt.
    """
    for _ in range(100):
        figures = stats(port)
        if figures["open_ws"] == 0:
            break
        await asyncio.sleep(0.1)
    for _ in range(5):
        figures = stats(port, count_objects=True)
        if not streams_before or figures["streams"] <= streams_before:
            break
        await asyncio.sleep(0.5)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--round", type=int, default=10_000)
    args = parser.parse_args()
    with running_server() as (proc, port):
        before = stats(port, count_objects=True)
        asyncio.run(churn(port, 1000, args.concurrency))  # warm-up
        baseline = asyncio.run(settle(port))
        print("warm-up: %s" % baseline, flush=True)
        done = 0
        worst = 0
        ok = True
        while done < args.connections:
            rate = asyncio.run(churn(port, args.round, args.concurrency, done))
            done += args.round
            figures = asyncio.run(settle(port, before["streams"]))
            growth = figures["rss_kib"] - baseline["rss_kib"]
            worst = max(worst, growth)
            left = (figures["open_ws"], figures["handlers"], figures["protocols"],
                    figures["streams"] - before["streams"], figures["fds"] - before["fds"])
            ok = ok and left == (0, 0, 0, 0, 0)
            print("%7d connections  %5.0f/s  open %d, handlers %d, protocols %d, streams %+d, fds %+d"
                  "  RSS %d KiB (%+d KiB after warm-up)  load %s"
                  % ((done, rate) + left + (figures["rss_kib"], growth, load())), flush=True)
        print("left behind: %s; RSS growth after warm-up: %+d KiB (limit %d KiB)"
              % ("nothing" if ok else "SOMETHING", worst, LIMIT_KIB))
        return 0 if ok and worst < LIMIT_KIB else 1


if __name__ == "__main__":
    sys.exit(main())
