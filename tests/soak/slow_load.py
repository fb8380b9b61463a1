"""The slow clients of ``slow_clients.py``, as a process of their own.

Standard library only, one thread, one epoll set, no task or coroutine per
connection: the generator must cost far less than the server it loads, or
on a shared machine it takes the CPU that the server's latency is measured
with.  Three kinds of client, in turn:

* ``slowloris``: a request head, one byte every ``--interval`` seconds, never
  ended;
* ``slow-body``: a whole head announcing a 100,000-byte body, then the body
  one byte every ``--interval`` seconds;
* ``zero-window``: ``GET /big`` (a 256 KiB response) through a 4 KiB receive
  buffer, not read until ``--drain-after`` seconds.

Connections open at ``--rate`` per second (so the server's accept queue
never overflows and the SYNs of normal clients are not dropped), and the
bytes of all trickling clients are spread evenly over each interval: one
scheduler queue, in the order the connections opened, sends to every
client whose turn has come.

A slowloris or slow-body client counts as ended by the server when its
socket reads the end of the stream or a reset, or a send fails.  A
zero-window client cannot see the server's close without reading (the
server's FIN waits behind the response bytes that do not fit the window),
so from ``--drain-after`` seconds after its connect on the generator reads
it: the end of the stream shows a close (its time is then only a bound; the
server's count of descriptors, which ``slow_clients.py`` samples, tells
when the server closed them).

Prints ``connected`` once every connection is open, then one JSON line
with what happened, when every client has ended or ``--duration`` seconds
have passed.

    python3 tests/soak/slow_load.py --port 8888 --count 10000
"""

import argparse
import collections
import errno
import json
import os
import resource
import select
import socket
import sys
import time
from typing import Deque, Dict, List, Optional

KINDS = ("slowloris", "slow-body", "zero-window")
HEADS = {
    "slowloris": (b"GET / HTTP/1.1\r\nHost: soak\r\n", b"X-Slow: " + b"x" * 10000),
    "slow-body": (
        b"POST /upload HTTP/1.1\r\nHost: soak\r\nContent-Length: 100000\r\n\r\n",
        b"y" * 100000,
    ),
    "zero-window": (b"GET /big HTTP/1.1\r\nHost: soak\r\n\r\n", b""),
}


class Client:
    """One slow connection: what it sends next and when it started and ended."""

    __slots__ = ("kind", "sock", "started", "ended", "sent", "connected")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.sock = socket.socket()
        self.sock.setblocking(False)
        if kind == "zero-window":
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.started = 0.0
        self.ended: Optional[float] = None
        self.sent = 0  # bytes of the trickled part sent
        self.connected = False


def percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def run(args: argparse.Namespace) -> Dict[str, object]:
    address = ("127.0.0.1", args.port)
    epoll = select.epoll()
    by_fd: Dict[int, Client] = {}
    clients: List[Client] = []
    # Trickling clients in the order of their next byte: all have the same
    # interval, so a FIFO is a priority queue.
    turns: Deque[Client] = collections.deque()
    drains: Deque[Client] = collections.deque()  # zero-window, by connect time
    began = time.monotonic()
    connect_done = None
    live = 0
    connecting = 0

    def end(client: Client, now: float) -> None:
        nonlocal live, connecting
        if client.ended is None:
            client.ended = now
            live -= 1
            if not client.connected:
                connecting -= 1
            fd = client.sock.fileno()
            if fd in by_fd:
                del by_fd[fd]
                epoll.unregister(fd)
            client.sock.close()

    def send(client: Client, data: bytes, now: float) -> bool:
        try:
            client.sock.send(data)
        except BlockingIOError:
            return True  # full: this byte is skipped, like a slow link would
        except OSError:
            end(client, now)
            return False
        return True

    while True:
        now = time.monotonic()
        # Open the connections due by now.
        due = min(args.count, int((now - began) * args.rate) + 1)
        while len(clients) < due:
            client = Client(KINDS[len(clients) % 3])
            clients.append(client)
            err = client.sock.connect_ex(address)
            if err not in (0, errno.EINPROGRESS):
                raise OSError(err, "connect: " + os.strerror(err))
            fd = client.sock.fileno()
            by_fd[fd] = client
            epoll.register(fd, select.EPOLLOUT)
            live += 1
            connecting += 1
        if connect_done is None and len(clients) == args.count and not connecting:
            connect_done = now
            print("connected", flush=True)
        # Next byte of every trickling client whose turn has come.
        while turns and turns[0].started + (turns[0].sent + 1) * args.interval <= now:
            client = turns.popleft()
            if client.ended is not None:
                continue
            rest = HEADS[client.kind][1]
            if send(client, rest[client.sent : client.sent + 1], now):
                client.sent += 1
                if client.sent < len(rest):
                    turns.append(client)
        # The zero-window clients that should be gone by now start reading:
        # the end of the stream follows the response bytes that the
        # server's kernel still holds.
        while drains and drains[0].started + args.drain_after <= now:
            client = drains.popleft()
            if client.ended is None:
                epoll.modify(client.sock.fileno(), select.EPOLLIN)
        if live == 0 and len(clients) == args.count:
            break
        if now - began > args.duration:
            break
        # Sleep until the next turn (at most 50 ms, to open connections).
        timeout = 0.05
        if turns:
            timeout = min(timeout, max(0.0, turns[0].started + (turns[0].sent + 1) * args.interval - now))
        for fd, _events in epoll.poll(timeout, 1000):
            client = by_fd.get(fd)
            if client is None:
                continue
            now = time.monotonic()
            if not client.connected:
                err = client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    end(client, now)
                    continue
                client.connected = True
                connecting -= 1
                client.started = now
                head = HEADS[client.kind][0]
                send(client, head, now)
                if client.ended is not None:
                    continue
                if client.kind == "zero-window":
                    # Never read: no events wanted (the drain looks later).
                    epoll.modify(fd, 0)
                    drains.append(client)
                else:
                    epoll.modify(fd, select.EPOLLIN)
                    turns.append(client)
                continue
            try:
                data = client.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            except OSError:
                end(client, now)
                continue
            if not data:
                end(client, now)
    result: Dict[str, object] = {
        "connect_seconds": (connect_done or time.monotonic()) - began,
        "cpu_seconds": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
        "wall_seconds": time.monotonic() - began,
    }
    for kind in KINDS:
        group = [c for c in clients if c.kind == kind]
        lives = [c.ended - c.started for c in group if c.ended is not None and c.connected]
        result[kind] = {
            "count": len(group),
            "ended": len(lives),
            "never_connected": sum(1 for c in group if not c.connected),
            "life_min": min(lives) if lives else None,
            "life_p50": percentile(lives, 50) if lives else None,
            "life_max": max(lives) if lives else None,
        }
    for client in clients:
        if client.ended is None:
            client.sock.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000, help="connections opened per second")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a client's bytes")
    parser.add_argument("--drain-after", type=float, default=30.0,
                        help="seconds after its connect when a zero-window client looks for the close")
    parser.add_argument("--duration", type=float, default=120.0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(json.dumps(run(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
