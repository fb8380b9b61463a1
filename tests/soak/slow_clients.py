"""Soak: 10,000 slow clients next to normal traffic.

A third of the clients send a request head a byte at a time and never end
it (slowloris), a third send a head and then a body a byte at a time, a
third ask for a 256 KiB response through a 4 KiB receive window and never
read it.  Meanwhile wrk makes normal requests on keep-alive
connections.  The normal requests' 99th percentile latency must stay under
50 ms, and the server (``idle_connection_timeout`` and ``body_timeout`` of
10 s) must end every slow connection: its file descriptors return to what
they were before.

    python3 tests/soak/slow_clients.py [--slow 10000] [--timeout 10]
"""

import argparse
import asyncio
import re
import socket
import sys
import time
from typing import Optional

from common import load, running_server, stats



class Slow:
    """One slow connection and when the server ended it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.started = 0.0
        self.ended: Optional[float] = None
        self.sock: Optional[socket.socket] = None


async def trickle(port: int, slow: Slow, interval: float) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    if slow.kind == "zero-window":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sock = sock
    await loop.sock_connect(sock, ("127.0.0.1", port))
    slow.started = time.monotonic()
    if slow.kind == "zero-window":
        await loop.sock_sendall(sock, b"GET /big HTTP/1.1\r\nHost: soak\r\n\r\n")
        return  # never reads; see ended_by_server
    if slow.kind == "slowloris":
        head, rest = b"GET / HTTP/1.1\r\nHost: soak\r\n", b"X-Slow: " + b"x" * 10000
    else:
        head, rest = b"POST /upload HTTP/1.1\r\nHost: soak\r\nContent-Length: 100000\r\n\r\n", b"y" * 100000
    try:
        await loop.sock_sendall(sock, head)
        for i in range(len(rest)):
            await asyncio.sleep(interval)
            await loop.sock_sendall(sock, rest[i : i + 1])
    except OSError:
        slow.ended = time.monotonic()


def ended_by_server(slow: Slow) -> bool:
    """Whether the server has closed this connection: reading what has
    arrived (which ends the test's silence) reaches the end of the stream.
    A server that closes with unsent data in its socket sends its FIN
    after that data, so nothing short of reading shows the close."""
    sock = slow.sock
    assert sock is not None
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            if not sock.recv(1 << 20):
                return True
        except BlockingIOError:
            time.sleep(0.01)
        except OSError:
            return True
    return False


async def normal_traffic(port: int, seconds: float, clients: int) -> str:
    """wrk's latency report for keep-alive requests on ``/`` (a separate
    process, so the slow clients' event loop does not delay it)."""
    proc = await asyncio.create_subprocess_exec(
        "wrk", "-t1", "-c%d" % clients, "-d%ds" % seconds, "--latency",
        "http://127.0.0.1:%d/" % port, stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    return out.decode()


async def run(port: int, count: int, timeout: float, normal: int) -> int:
    kinds = ["slowloris", "slow-body", "zero-window"]
    slows = [Slow(kinds[i % 3]) for i in range(count)]
    before = stats(port)
    began = time.monotonic()
    interval = 2.0
    tasks = []
    for i, slow in enumerate(slows):
        tasks.append(asyncio.ensure_future(trickle(port, slow, interval)))
        if i % 200 == 199:
            await asyncio.sleep(0.05)  # (the listen backlog is finite)
    opened = time.monotonic() - began
    report = await normal_traffic(port, int(timeout + 15), normal)
    during = stats(port)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    now = time.monotonic()
    for slow in slows:
        if slow.ended is None and slow.sock is not None and ended_by_server(slow):
            slow.ended = now  # (a bound: noticed only now)
    for slow in slows:
        if slow.sock is not None:
            slow.sock.close()
    print("%d slow clients opened in %.1f s; load %s" % (count, opened, load()))
    ok = True
    for kind in kinds:
        group = [s for s in slows if s.kind == kind]
        ended = [s.ended - s.started for s in group if s.ended is not None]
        print("%-11s %5d, ended by the server %5d%s" % (
            kind, len(group), len(ended),
            ", after %.1f-%.1f s" % (min(ended), max(ended)) if ended else ""))
        ok = ok and len(ended) == len(group)
    print(report)
    served = int(re.search(r"(\d+) requests in", report).group(1))
    p99 = _ms(re.search(r"99%\s+(\S+)", report).group(1)) if served else float("inf")
    print("server fds: %d before, %d at the end of the traffic" % (before["fds"], during["fds"]))
    print("slow clients all timed out: %s; p99 under 50 ms: %s" % (ok, p99 < 50))
    return 0 if ok and p99 < 50 else 1


def _ms(figure: str) -> float:
    """wrk's latency figure (``12.34ms``, ``1.2s``, ``800us``) in ms."""
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60000.0)):
        if figure.endswith(unit):
            return float(figure[: -len(unit)]) * scale
    raise ValueError(figure)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slow", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--normal", type=int, default=4, help="normal keep-alive clients")
    args = parser.parse_args()
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    options = ["--idle-connection-timeout", str(args.timeout), "--body-timeout", str(args.timeout)]
    with running_server(*options) as (proc, port):
        return asyncio.run(run(port, args.slow, args.timeout, args.normal))


if __name__ == "__main__":
    sys.exit(main())
