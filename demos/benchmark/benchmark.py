#!/usr/bin/env python3
"""Measures how many requests per second a Tornado server answers.

The server has two pages: ``/`` writes "Hello, world" (the framework's own
overhead per request) and ``/template`` renders a small template with a loop
and autoescaping (what a typical page adds).

By default the script starts the server in a child process, sends it
``--requests`` requests from ``--concurrency`` simultaneous clients, and
prints the rate.  ``--client`` chooses the load generator:

``httpclient``
    :class:`tornado.httpclient.AsyncHTTPClient` (a new connection per request,
    as that client does);
``keepalive``
    a minimal HTTP/1.1 client on :class:`tornado.iostream.IOStream` that keeps
    each connection open, as browsers and load balancers do;
``wrk``
    the external ``wrk`` tool, when it is installed (best for large numbers:
    it does not share Python's speed limits).

``--serve`` only runs the server, to measure it with any other tool::

    python3 demos/benchmark/benchmark.py --port=8888 --requests=20000
    python3 demos/benchmark/benchmark.py --serve --port=8888 &
    wrk -t2 -c64 -d10s http://127.0.0.1:8888/
"""

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import tornado.web
from tornado import template
from tornado.httpclient import AsyncHTTPClient
from tornado.iostream import IOStream
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="port the benchmarked server listens on", type=int)
define("serve", default=False, help="only run the server", type=bool)
define("path", default="/", help="page to request: / or /template")
define("requests", default=5000, help="number of requests to send", type=int)
define("concurrency", default=20, help="requests in flight at once", type=int)
define("client", default="httpclient", help="load generator: httpclient, keepalive or wrk")
define("duration", default=10, help="seconds wrk runs", type=int)
define("processes", default=1, help="server processes (0 = one per CPU)", type=int)

PAGE = """<!DOCTYPE html>
<html>
  <head><title>{{ title }}</title></head>
  <body>
    <h1>{{ title }}</h1>
    <ul>
      {% for item in items %}
        <li class="{{ 'odd' if item % 2 else 'even' }}">Item {{ item }} &amp; {{ escape_me }}</li>
      {% end %}
    </ul>
  </body>
</html>
"""


class HelloHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("Hello, world")


class TemplateHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.render(
            "page.html", title="Benchmark", items=range(20), escape_me="<b>bold</b>"
        )


def make_app() -> tornado.web.Application:
    return tornado.web.Application(
        [(r"/", HelloHandler), (r"/template", TemplateHandler)],
        template_loader=template.DictLoader({"page.html": PAGE}),
    )


def serve() -> None:
    from tornado import netutil, process

    sockets = netutil.bind_sockets(options.port, "127.0.0.1")
    if options.processes != 1:
        process.fork_processes(options.processes)

    async def run() -> None:
        from tornado.httpserver import HTTPServer

        server = HTTPServer(make_app())
        server.add_sockets(sockets)
        await asyncio.Event().wait()

    asyncio.run(run())


def wait_for_port(port: int, child: "subprocess.Popen[bytes]", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"the server exited with status {child.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the server did not start listening on port {port}")


async def drive_httpclient(url: str, requests: int, concurrency: int) -> int:
    client = AsyncHTTPClient(force_instance=True, max_clients=concurrency)
    remaining = requests
    failures = 0

    async def worker() -> None:
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            response = await client.fetch(url, raise_error=False)
            if response.code != 200:
                failures += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    client.close()
    return failures


async def drive_keepalive(port: int, path: str, requests: int, concurrency: int) -> int:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    length_re = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
    remaining = requests
    failures = 0

    async def worker() -> None:
        nonlocal remaining, failures
        stream = IOStream(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        await stream.connect(("127.0.0.1", port))
        try:
            while remaining > 0:
                remaining -= 1
                await stream.write(request)
                head = await stream.read_until(b"\r\n\r\n")
                match = length_re.search(head)
                if match is None:
                    raise RuntimeError("the server sent no Content-Length")
                await stream.read_bytes(int(match.group(1)))
                if not head.startswith(b"HTTP/1.1 200"):
                    failures += 1
        finally:
            stream.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failures


def run_wrk(url: str) -> None:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed; use --client=httpclient or keepalive")
    threads = max(1, min(options.concurrency, os.cpu_count() or 1))
    command = [wrk, f"-t{threads}", f"-c{options.concurrency}", f"-d{options.duration}s", url]
    print(" ".join(command), flush=True)
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    print(output)
    match = re.search(r"Requests/sec:\s*([\d.]+)", output)
    if match:
        print(f"{float(match.group(1)):.0f} requests/s")


def benchmark() -> int:
    server = subprocess.Popen(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--serve",
            f"--port={options.port}",
            f"--processes={options.processes}",
            "--logging=warning",
        ],
        # A session of its own, so that stopping it also stops any forked
        # server processes.
        start_new_session=True,
    )
    try:
        wait_for_port(options.port, server)
        url = f"http://127.0.0.1:{options.port}{options.path}"
        if options.client == "wrk":
            run_wrk(url)
            return 0
        if options.client == "keepalive":
            drive = drive_keepalive(options.port, options.path, options.requests, options.concurrency)
        elif options.client == "httpclient":
            drive = drive_httpclient(url, options.requests, options.concurrency)
        else:
            raise SystemExit(f"unknown --client={options.client}")
        start = time.perf_counter()
        failures = asyncio.run(drive)
        elapsed = time.perf_counter() - start
        print(
            f"{options.requests} requests to {options.path} with {options.client},"
            f" concurrency {options.concurrency}: {elapsed:.2f} s,"
            f" {options.requests / elapsed:.0f} requests/s"
            + (f", {failures} failed" if failures else ""),
            flush=True,
        )
        return 1 if failures else 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()


def main(argv: list[str]) -> int:
    parse_command_line(argv)
    if options.serve:
        serve()
        return 0
    return benchmark()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
