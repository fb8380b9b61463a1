"""HTTP/2 hello-world throughput: ours vs hypercorn, and ours vs our HTTP/1.1.

Usage::

    python3 benchmarks/h2.py [-n 200000] [--rounds 3] [--duration 10]

Starts each server in its own process (one process, one core's worth):

* ours: ``HTTPServer(app, http2=True)`` in cleartext; HTTP/2 clients come in
  with prior knowledge (h2c), HTTP/1.1 clients on the same port;
* hypercorn: the same hello world as an ASGI app, also h2c (hypercorn uses
  the same ``h2`` library for HTTP/2).

and measures ``h2load -n N -c 10 -m 10`` against both, and ``wrk -c 10``
(HTTP/1.1, keep-alive) against ours.  Prints one line per round and the
medians; the targets are ours >= 1.5x hypercorn and our HTTP/2 >= 0.7x our
HTTP/1.1.  The machine's load average is printed with the figures: on a
shared machine they are only comparable within one run.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HELLO = b"Hello, world"

OURS = """
import asyncio, sys
import tornado.web
from tornado.httpserver import HTTPServer

class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write(%r)

async def main():
    HTTPServer(tornado.web.Application([("/", Hello)]), http2=True).listen(int(sys.argv[1]), "127.0.0.1")
    await asyncio.Event().wait()

asyncio.run(main())
""" % HELLO

HYPERCORN_APP = """
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d")]})
    await send({"type": "http.response.body", "body": %r})
""" % (len(HELLO), HELLO)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server on port %d did not start" % port)


def start_ours(port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, "-c", OURS, str(port)], env=env, cwd="/tmp")


def start_hypercorn(port: int, workdir: str) -> subprocess.Popen:
    with open(os.path.join(workdir, "h2bench_app.py"), "w") as f:
        f.write(HYPERCORN_APP)
    return subprocess.Popen(
        [sys.executable, "-m", "hypercorn", "--bind", "127.0.0.1:%d" % port,
         "--workers", "1", "--log-level", "warning", "h2bench_app:app"],
        cwd=workdir,
    )


def h2load(port: int, n: int) -> Optional[float]:
    out = subprocess.run(
        ["h2load", "-n", str(n), "-c", "10", "-m", "10", "http://127.0.0.1:%d/" % port],
        capture_output=True, text=True, timeout=900,
    ).stdout
    match = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    done = re.search(r"(\d+) succeeded", out)
    if match is None or done is None or int(done.group(1)) != n:
        print(out, file=sys.stderr)
        return None
    return float(match.group(1))


def wrk(port: int, duration: int) -> Optional[float]:
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", "10", "-d", "%ds" % duration, "http://127.0.0.1:%d/" % port],
        capture_output=True, text=True, timeout=duration + 60,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(match.group(1)) if match else None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200000, help="h2load requests per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per run")
    args = parser.parse_args(argv)
    workdir = "/tmp/h2bench"
    os.makedirs(workdir, exist_ok=True)
    ours_port, hc_port = free_port(), free_port()
    ours, hc = start_ours(ours_port), start_hypercorn(hc_port, workdir)
    rows = []
    try:
        wait_listening(ours_port, ours)
        wait_listening(hc_port, hc)
        # Warm-up (imports, caches), not counted.
        h2load(ours_port, min(args.n, 5000))
        h2load(hc_port, min(args.n, 5000))
        for i in range(args.rounds):
            load = os.getloadavg()[0]
            row = (h2load(ours_port, args.n), h2load(hc_port, args.n), wrk(ours_port, args.duration), load)
            rows.append(row)
            print("round %d: ours h2 %s req/s, hypercorn h2 %s req/s, ours http/1.1 %s req/s (load %.1f)"
                  % ((i + 1,) + tuple("%.0f" % v if v else "-" for v in row[:3]) + (load,)), flush=True)
    finally:
        for proc in (ours, hc):
            proc.terminate()
            proc.wait(10)

    def med(k: int) -> Optional[float]:
        values = [r[k] for r in rows if r[k]]
        return statistics.median(values) if values else None

    o, h, w = med(0), med(1), med(2)
    print("median: ours h2 %s, hypercorn h2 %s, ours http/1.1 %s req/s" % (o, h, w))
    if o and h:
        print("ours / hypercorn = %.2fx (target >= 1.5x)" % (o / h))
    if o and w:
        print("ours h2 / ours http/1.1 = %.2fx (target >= 0.7x)" % (o / w))
    return 0


if __name__ == "__main__":
    sys.exit(main())
