"""HTTP/2 hello-world throughput: ours vs hypercorn, and ours vs our HTTP/1.1.

Usage::

    python3 benchmarks/h2.py [-n 200000] [--rounds 3] [--duration 10]
    python3 benchmarks/h2.py --callgrind 2000   # instructions per request
    python3 benchmarks/h2.py --h2-floor 2000    # those of h2 alone

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
import glob
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from typing import Callable, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HELLO = b"Hello, world"

OURS = (
    """
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
"""
    % HELLO
)

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
    return subprocess.Popen(
        [sys.executable, "-c", OURS, str(port)], env=env, cwd="/tmp"
    )


def hypercorn_command(port: int, workdir: str) -> List[str]:
    """The command line that serves the hello-world app with hypercorn on
    ``port``, run from ``workdir`` (where it writes the app and config)."""
    with open(os.path.join(workdir, "h2bench_app.py"), "w") as f:
        f.write(HYPERCORN_APP)
    # Hypercorn closes a connection after 1000 requests by default, which
    # h2load counts as failures of the rest: no limit, as for ours.
    with open(os.path.join(workdir, "h2bench_conf.py"), "w") as f:
        f.write("keep_alive_max_requests = 10**12\n")
    return [
        sys.executable,
        "-m",
        "hypercorn",
        "--config",
        "file:h2bench_conf.py",
        "--bind",
        "127.0.0.1:%d" % port,
        "--workers",
        "1",
        "--log-level",
        "warning",
        "h2bench_app:app",
    ]


def start_hypercorn(port: int, workdir: str) -> subprocess.Popen:
    return subprocess.Popen(hypercorn_command(port, workdir), cwd=workdir)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process and its children (hypercorn runs
    its worker as a child) have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[1] is the parent's pid; 11 and 12 utime and stime.
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def measured(
    proc: subprocess.Popen, run: Callable[[], Tuple[Optional[float], int]]
) -> Tuple[Optional[float], Optional[float]]:
    """Runs ``run()`` (which returns (req/s, requests)); returns req/s and
    requests per CPU-second of the server process: on a loaded machine the
    second is the steadier figure."""
    before = cpu_seconds(proc.pid)
    rate, count = run()
    used = cpu_seconds(proc.pid) - before
    if rate is None or not used:
        return rate, None
    return rate, count / used


def h2load(port: int, n: int) -> Tuple[Optional[float], int]:
    out = subprocess.run(
        ["h2load", "-n", str(n), "-c", "10", "-m", "10", "http://127.0.0.1:%d/" % port],
        capture_output=True,
        text=True,
        timeout=900,
    ).stdout
    match = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    done = re.search(r"(\d+) succeeded", out)
    if match is None or done is None or int(done.group(1)) != n:
        print(out, file=sys.stderr)
        return None, 0
    return float(match.group(1)), n


def wrk(port: int, duration: int) -> Tuple[Optional[float], int]:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            "10",
            "-d",
            "%ds" % duration,
            "http://127.0.0.1:%d/" % port,
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if match is None or count is None:
        return None, 0
    return float(match.group(1)), int(count.group(1))


def _n(value: Optional[float]) -> str:
    return "-" if value is None else "%.0f" % value


def fmt(pair: Tuple[Optional[float], Optional[float]]) -> str:
    return "%s (%s/cpu-s)" % (_n(pair[0]), _n(pair[1]))


def _callgrind_ir(out: str) -> int:
    """The total instructions of the newest callgrind dump ``out.N``."""
    dumps = [d for d in glob.glob(out + ".*") if re.search(r"\.\d+$", d)]
    if not dumps:
        raise RuntimeError("callgrind wrote no dump")
    with open(max(dumps, key=os.path.getmtime)) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError("no totals in the callgrind dump")


def _child_of(pid: int) -> int:
    """Hypercorn's worker: the child of ``pid`` that multiprocessing
    spawned (not its resource tracker)."""
    found = pid
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if parent == pid and b"resource_tracker" not in cmdline:
                found = int(entry)
    return found


def callgrind(requests: int) -> None:
    """Instructions per request under callgrind, which the machine's load
    does not move: ours over h2c and over HTTP/1.1 (the same server
    process), and hypercorn's worker over h2c.  ``h2load -c 10 -m 10``
    for HTTP/2, ``h2load --h1 -c 10`` (keep-alive, no pipelining) for
    HTTP/1.1; a warm-up first, then the counters are zeroed."""
    workdir = "/tmp/h2bench"
    os.makedirs(workdir, exist_ok=True)
    valgrind = ["valgrind", "--tool=callgrind", "--dump-instr=no", "--collect-jumps=no"]
    results = {}
    for name in ("ours", "hypercorn"):
        port = free_port()
        out = os.path.join(workdir, "cg-%s.out" % name)
        for old in glob.glob(out + "*"):
            os.remove(old)
        opts = valgrind + ["--callgrind-out-file=%s.%%p" % out]
        if name == "ours":
            env = dict(os.environ, PYTHONPATH=ROOT)
            proc = subprocess.Popen(
                opts + [sys.executable, "-c", OURS, str(port)],
                env=env,
                cwd="/tmp",
                stderr=subprocess.DEVNULL,
            )
        else:
            proc = subprocess.Popen(
                opts + ["--trace-children=yes"] + hypercorn_command(port, workdir),
                cwd=workdir,
                stderr=subprocess.DEVNULL,
            )
        try:
            wait_listening(port, proc, timeout=300)
            worker = proc.pid if name == "ours" else _child_of(proc.pid)
            kinds = [("h2", [])] + (
                [("http/1.1", ["--h1", "-m", "1"])] if name == "ours" else []
            )
            for kind, extra in kinds:
                cmd = [
                    "h2load",
                    "-c",
                    "10",
                    "-m",
                    "10",
                    *extra,
                    "http://127.0.0.1:%d/" % port,
                ]
                subprocess.run(
                    cmd[:1] + ["-n", "500"] + cmd[1:], capture_output=True, timeout=600
                )
                subprocess.run(
                    ["callgrind_control", "-z", str(worker)],
                    check=True,
                    capture_output=True,
                )
                done = subprocess.run(
                    cmd[:1] + ["-n", str(requests)] + cmd[1:],
                    capture_output=True,
                    text=True,
                    timeout=1200,
                ).stdout
                subprocess.run(
                    ["callgrind_control", "-d", str(worker)],
                    check=True,
                    capture_output=True,
                )
                if "%d succeeded" % requests not in done:
                    raise RuntimeError("h2load failed against %s: %s" % (name, done))
                time.sleep(1)
                results[(name, kind)] = (
                    _callgrind_ir("%s.%d" % (out, worker)) / requests
                )
                print(
                    "%s %s: %.0f instructions per request"
                    % (name, kind, results[(name, kind)]),
                    flush=True,
                )
        finally:
            proc.terminate()
            proc.wait(120)
    ours, hc, h1 = (
        results[("ours", "h2")],
        results[("hypercorn", "h2")],
        results[("ours", "http/1.1")],
    )
    print("speed-up ours h2 vs hypercorn h2 = %.2fx (target >= 1.5x)" % (hc / ours))
    print("ours h2 vs ours http/1.1 = %.2fx (target >= 0.7x)" % (h1 / ours))


H2_FLOOR = """
import sys
import h2.config, h2.connection, h2.events
from tornado.http2connection import _ENCODED, _FieldDecoder, _FieldEncoder

n, serve = int(sys.argv[1]), sys.argv[2] == "serve"
client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
client.initiate_connection()
batches = [bytes(client.data_to_send())]
head = [(":method", "GET"), (":path", "/"), (":scheme", "http"),
        (":authority", "127.0.0.1:8888"), ("user-agent", "h2load nghttp2/1.52.0")]
for i in range(0, n, 10):
    for j in range(10):
        client.send_headers(client.get_next_available_stream_id(), head, end_stream=True)
    client.increment_flow_control_window(120)
    batches.append(bytes(client.data_to_send()))
    client.streams.clear()  # (keeps making the batches linear)
if not serve:
    sys.exit(0)
config = h2.config.H2Configuration(
    client_side=False, header_encoding=None,
    validate_inbound_headers=False, normalize_inbound_headers=False,
    validate_outbound_headers=False, normalize_outbound_headers=False)
server = h2.connection.H2Connection(config=config)
server.encoder = _FieldEncoder()
server.decoder = _FieldDecoder()
server.initiate_connection()
server.data_to_send()
fields = [(b"content-type", b"text/html; charset=UTF-8"),
          (b"date", b"Mon, 07 Dec 2026 20:00:00 GMT"), (b"server", b"TornadoServer/6.6"),
          (b"etag", b'"abc"'), (b"content-length", b"12")]
response = [(b":status", b"200"),
            (_ENCODED, b"".join(server.encoder.field(k, v) for k, v in fields))]
served = 0
for data in batches:
    for event in server.receive_data(data):
        if type(event) is h2.events.RequestReceived:
            server.send_headers(event.stream_id, response)
            server.send_data(event.stream_id, b"Hello, world", end_stream=True)
            served += 1
    server.data_to_send()
assert served == n, served
"""


def h2_floor(requests: int) -> None:
    """Instructions per request of ``h2`` alone, used as our server uses
    it (ten HEADERS frames per ``receive_data``, ``send_headers`` of a
    pre-encoded head, ``send_data`` with END_STREAM, one ``data_to_send``
    per ten; our HPACK encoder and memoizing decoder), without I/O or an
    application: the run that also serves minus the run that only makes
    the client's frames, over ``requests``."""
    workdir = "/tmp/h2bench"
    os.makedirs(workdir, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=ROOT)
    totals = {}
    for mode in ("make", "serve"):
        out = os.path.join(workdir, "floor-%s.out" % mode)
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--dump-instr=no",
                "--collect-jumps=no",
                "--callgrind-out-file=%s.1" % out,
                sys.executable,
                "-c",
                H2_FLOOR,
                str(requests),
                mode,
            ],
            env=env,
            cwd="/tmp",
            check=True,
            stderr=subprocess.DEVNULL,
        )
        totals[mode] = _callgrind_ir(out)
    print(
        "h2 alone: %.0f instructions per request"
        % ((totals["serve"] - totals["make"]) / requests)
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200000, help="h2load requests per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per run")
    parser.add_argument(
        "--callgrind",
        type=int,
        metavar="N",
        default=0,
        help="count instructions per request over N requests instead",
    )
    parser.add_argument(
        "--h2-floor",
        type=int,
        metavar="N",
        default=0,
        help="count the instructions of h2 alone per request over N requests",
    )
    args = parser.parse_args(argv)
    if args.h2_floor:
        h2_floor(args.h2_floor)
        return 0
    if args.callgrind:
        callgrind(args.callgrind)
        return 0
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
            row = (
                measured(ours, lambda: h2load(ours_port, args.n)),
                measured(hc, lambda: h2load(hc_port, args.n)),
                measured(ours, lambda: wrk(ours_port, args.duration)),
            )
            rows.append(row)
            print(
                "round %d (load %.1f): req/s and req per server CPU-second: ours h2 %s, "
                "hypercorn h2 %s, ours http/1.1 %s"
                % (i + 1, load, *(fmt(r) for r in row)),
                flush=True,
            )
    finally:
        for proc in (ours, hc):
            proc.terminate()
            proc.wait(10)

    def med(k: int, j: int) -> Optional[float]:
        values = [r[k][j] for r in rows if r[k][j]]
        return statistics.median(values) if values else None

    for j, what in ((0, "req/s"), (1, "req per server CPU-second")):
        o, h, w = med(0, j), med(1, j), med(2, j)
        print(
            "median %s: ours h2 %s, hypercorn h2 %s, ours http/1.1 %s"
            % (what, _n(o), _n(h), _n(w))
        )
        if o and h:
            print("  ours / hypercorn = %.2fx (target >= 1.5x)" % (o / h))
        if o and w:
            print("  ours h2 / ours http/1.1 = %.2fx (target >= 0.7x)" % (o / w))
    return 0


if __name__ == "__main__":
    sys.exit(main())
