#!/usr/bin/env python3
"""Instructions per request of OUR server (or client), counted by callgrind.

    python3 benchmarks/callgrind.py hello             # Ir per request, hello world
    python3 benchmarks/callgrind.py json --requests 3000
    python3 benchmarks/callgrind.py wsecho            # Ir per echoed message
    python3 benchmarks/callgrind.py client            # our AsyncHTTPClient, per GET
    python3 benchmarks/callgrind.py hello --pure      # without tornado.speedups
    python3 benchmarks/callgrind.py hello --annotate 25

Wall-clock rates on a shared machine swing with the neighbours' load;
instruction counts do not, so they are what before/after comparisons of
the hot paths use.  The server (from this checkout, ``PYTHONPATH``) runs
under ``valgrind --tool=callgrind``; after a warm-up the counters are
zeroed (``callgrind_control -z``), a fixed number of requests is made
(``drivers/http_count.py``, or ``ws_echo.py --messages``), and the counters
are dumped: the dump holds exactly the work of those requests, event loop
and kernel-call wrappers included (the kernel's own work is not counted).
For ``client`` the measured process is our client running a fixed number
of GETs against ``servers/fast_server.py``; its start-up is removed by
running it twice (N and 2N requests) and taking the difference.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)
SERVERS = os.path.join(HERE, "servers")
DRIVERS = os.path.join(HERE, "drivers")
PATHS = {"hello": "/", "json": "/json", "template": "/template"}
SCRIPTS = {"tornado": "tornado_server.py", "ceiling": "ceiling_server.py",
           "aiohttp": "aiohttp_server.py", "uvicorn": "uvicorn_server.py"}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _total_ir(path: str) -> int:
    """The ``summary:`` / ``totals:`` figure of a callgrind dump."""
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise ValueError(f"no totals in {path}")


def _env(pure: bool) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=CHECKOUT)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pure:
        env["TORNADO_NO_EXTENSION"] = "1"
    else:
        env.pop("TORNADO_NO_EXTENSION", None)
    return env


def _valgrind(out: str) -> list[str]:
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
            "--collect-jumps=no"]


def measure_server(args: argparse.Namespace, tmp: str) -> tuple[int, str]:
    port = _free_port()
    out = os.path.join(tmp, "cg.out")
    server = subprocess.Popen(
        _valgrind(out) + [args.python, os.path.join(SERVERS, SCRIPTS[args.server]),
                          "--workload", args.workload, "--port", str(port)],
        env=_env(args.pure), stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "server.err"), "w"),
        text=True, cwd="/")
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("READY"):
            with open(os.path.join(tmp, "server.err")) as f:
                tail = "".join(x for x in f.readlines() if not x.startswith("=="))[-2000:]
            raise RuntimeError(f"the server did not start under valgrind: {tail}")

        def load(n: int) -> None:
            if args.workload == "wsecho":
                cmd = [args.driver_python, os.path.join(DRIVERS, "ws_echo.py"), "--port",
                       str(port), "--connections", str(args.connections), "--messages", str(n)]
            else:
                cmd = [args.driver_python, os.path.join(DRIVERS, "http_count.py"), "--port",
                       str(port), "--path", PATHS[args.workload], "--connections",
                       str(args.connections), "--requests", str(n)]
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
            if "RESULT" not in result.stdout:
                raise RuntimeError(f"driver failed: {result.stdout} {result.stderr}")

        load(max(200, args.requests // 5))  # warm-up: imports, caches, code paths
        subprocess.run(["callgrind_control", "-z", str(server.pid)], check=True,
                       capture_output=True)
        load(args.requests)
        subprocess.run(["callgrind_control", "-d", str(server.pid)], check=True,
                       capture_output=True)
    finally:
        server.terminate()
        server.wait(120)
    dumps = sorted(glob.glob(out + ".*"), key=os.path.getmtime)
    dumps = [d for d in dumps if re.search(r"\.\d+$", d)]
    if not dumps:
        raise RuntimeError("callgrind wrote no dump")
    return _total_ir(dumps[-1]), dumps[-1]


def measure_client(args: argparse.Namespace, tmp: str) -> tuple[int, str]:
    port = _free_port()
    fast = subprocess.Popen([args.driver_python, os.path.join(SERVERS, "fast_server.py"),
                             "--mode", "http", "--port", str(port)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert fast.stdout is not None and fast.stdout.readline().startswith("READY")
        totals = []
        for n in (args.requests, 2 * args.requests):
            out = os.path.join(tmp, f"client-{n}.out")
            cmd = _valgrind(out) + [
                args.python, os.path.join(DRIVERS, "http_client.py"), "--impl", args.client_impl,
                "--url", f"http://127.0.0.1:{port}/", "--concurrency", str(args.concurrency),
                "--requests", str(n)] + (["--keep-alive"] if args.keep_alive else [])
            subprocess.run(cmd, env=_env(args.pure), check=True, capture_output=True, cwd="/")
            totals.append((_total_ir(out), out))
    finally:
        fast.terminate()
        fast.wait(30)
    return totals[1][0] - totals[0][0], totals[1][1]


def annotate(dump: str, top: int) -> str:
    if shutil.which("callgrind_annotate") is None:
        return "(callgrind_annotate not found)"
    out = subprocess.run(["callgrind_annotate", "--inclusive=no", dump],
                         capture_output=True, text=True).stdout
    lines = [x for x in out.splitlines() if re.match(r"\s*[0-9,]+ \(", x)]
    return "\n".join(lines[:top])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=["hello", "json", "template", "wsecho", "client"])
    parser.add_argument("--requests", type=int, default=2000,
                        help="requests (messages for wsecho) counted")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=1, help="client workload")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter of the measured side (for another server than "
                             "ours: the environment that has it, e.g. one run.py made)")
    parser.add_argument("--server", choices=sorted(SCRIPTS), default="tornado",
                        help="which server script to measure (tornado: this checkout's "
                             "package, or whichever tornado --python has if none on "
                             "PYTHONPATH)")
    parser.add_argument("--driver-python", default=sys.executable)
    parser.add_argument("--client-impl", choices=("tornado", "aiohttp"), default="tornado",
                        help="client workload: whose client to measure (aiohttp needs "
                             "--python of an environment that has it)")
    parser.add_argument("--keep-alive", action="store_true",
                        help="client workload: our client's keep_alive=True opt-in")
    parser.add_argument("--pure", action="store_true",
                        help="force the pure-Python path (TORNADO_NO_EXTENSION=1)")
    parser.add_argument("--annotate", type=int, default=0, metavar="N",
                        help="also list the N C functions with the most instructions")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed: apt-get install -y valgrind")
    tmp = tempfile.mkdtemp(prefix="tornado-callgrind-")
    t0 = time.monotonic()
    try:
        if args.workload == "client":
            ir, dump = measure_client(args, tmp)
        else:
            ir, dump = measure_server(args, tmp)
        unit = "message" if args.workload == "wsecho" else "request"
        who = args.client_impl if args.workload == "client" else args.server
        print(f"{who} {args.workload}{' (pure Python)' if args.pure else ''}: "
              f"{ir / args.requests / 1000:,.1f}k Ir per {unit} "
              f"({args.requests} {unit}s, {time.monotonic() - t0:.0f} s)")
        if args.annotate:
            print(annotate(dump, args.annotate))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
