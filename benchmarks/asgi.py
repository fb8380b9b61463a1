#!/usr/bin/env python3
"""Benchmarks of tornado.asgi (issue 13), apart from run.py's suite.

Two targets, both hello world over HTTP/1.1 keep-alive::

    python3 benchmarks/asgi.py                       # 5 rounds of 10 s
    python3 benchmarks/asgi.py --rounds 3 --duration 5
    python3 benchmarks/asgi.py --callgrind           # instructions per request

* ``starlette``: a Starlette app in ``ASGIContainer`` on our ``HTTPServer``
  against the same app on uvicorn (httptools parser, the same standard
  asyncio event loop, access log off); target: ours >= 1.2x uvicorn.
* ``tornado``: our hello-world ``Application`` under uvicorn through
  ``ASGIAdapter`` against our own server running it natively; target:
  >= 0.8x native.

It builds one venv (``--cache-dir``, default ``~/.cache/tornado-bench``, as
run.py does) with our package installed from this checkout plus starlette,
uvicorn and httptools.  Servers (``servers/asgi_server.py``) run pinned to CPU
0 and wrk to CPU 1; within a round the two servers of a pair take turns (the
first one alternates), and the table shows medians over rounds and the
median of the per-round ratios.

``--callgrind`` runs each server under valgrind instead and reports
instructions per request (the server process, steady state, a fixed number
of requests from a small client): a figure the machine's load does not
move, for before/after comparisons.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Iterator, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as harness  # noqa: E402
from benchlib import fmt, fmt_ratio, interleave, median, parse_wrk, render_rst_table, render_table  # noqa: E402

SERVER = os.path.join(HERE, "servers", "asgi_server.py")
REQUIREMENTS = ["starlette", "uvicorn", "httptools"]

#: (pair, ours, peer, target ours/peer)
PAIRS = (
    ("starlette", "starlette-ours", "starlette-uvicorn", 1.2),
    ("tornado", "tornado-uvicorn", "tornado-ours", 0.8),
)
#: Shown by --callgrind too: the servers' own cost (no target).
RAW_PAIR = ("raw", "raw-ours", "raw-uvicorn", 0.0)
LABELS = {
    "starlette-ours": "Starlette on ASGIContainer (ours)",
    "starlette-uvicorn": "Starlette on uvicorn",
    "tornado-uvicorn": "Application via ASGIAdapter on uvicorn",
    "tornado-ours": "Application on our HTTPServer",
    "raw-ours": "bare ASGI function on ASGIContainer (ours)",
    "raw-uvicorn": "bare ASGI function on uvicorn",
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build_env(cache: str, inplace: bool, interpreter: str) -> list[str]:
    """The command prefix that runs the benchmark's Python."""
    if inplace:
        return ["env", f"PYTHONPATH={harness.CHECKOUT}", interpreter]
    version = subprocess.run([interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    env_dir = os.path.join(cache, "envs", "asgi-py" + version)
    python = os.path.join(env_dir, "bin", "python")
    if not os.path.exists(python):
        log(f"creating venv {env_dir}")
        subprocess.run([interpreter, "-m", "venv", env_dir], check=True)
    harness._install_once(python, env_dir, [REQUIREMENTS])
    harness._install_ours(python, env_dir, harness.CHECKOUT)
    return [python]


@contextlib.contextmanager
def server(prefix: list[str], mode: str, logdir: str, wrapper: Optional[list[str]] = None,
           timeout: float = 60) -> Iterator[tuple[harness.Proc, int]]:
    port = harness.free_port()
    argv = (wrapper or harness._pin(harness.SERVER_CPU)) + prefix + [SERVER, "--mode", mode,
                                                                   "--port", str(port)]
    proc = harness.Proc(argv, mode, logdir)
    try:
        proc.expect("READY", timeout)
        yield proc, port
    finally:
        proc.popen.terminate()
        try:
            proc.popen.wait(30)
        except subprocess.TimeoutExpired:
            proc.popen.kill()
            proc.popen.wait()


def wrk(port: int, duration: float, connections: int) -> float:
    url = f"http://127.0.0.1:{port}/"
    base = harness._pin(harness.CLIENT_CPU) + ["wrk", "-t1", f"-c{connections}"]
    subprocess.run(base + ["-d1s", url], capture_output=True, check=True)  # warm-up
    out = subprocess.run(base + [f"-d{duration:g}s", url], capture_output=True, text=True,
                         check=True).stdout
    result = parse_wrk(out)
    if result.non_2xx or result.socket_errors:
        log(f"wrk saw {result.non_2xx} non-2xx responses and {result.socket_errors} socket errors")
    return result.requests_per_sec


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_wallclock(args: argparse.Namespace, prefix: list[str], logdir: str) -> str:
    rates: dict[str, list[float]] = {mode: [] for _, a, b, _ in PAIRS for mode in (a, b)}
    ratios: dict[str, list[float]] = {pair: [] for pair, _, _, _ in PAIRS}
    loads: list[str] = []
    for round_index in range(args.rounds):
        loads.append(load_average())
        for pair, ours, peer, _ in PAIRS:
            got: dict[str, float] = {}
            for mode in interleave((ours, peer), round_index):
                with server(prefix, mode, logdir) as (_, port):
                    got[mode] = wrk(port, args.duration, args.connections)
                log(f"round {round_index + 1}: {mode}: {got[mode]:,.0f} requests/s")
                rates[mode].append(got[mode])
            ratios[pair].append(got[ours] / got[peer])
    headers = ["pair", "server", "requests/s (median)", "ratio", "target", "verdict"]
    rows = []
    for pair, ours, peer, target in PAIRS:
        ratio = median(ratios[pair])
        verdict = "PASS" if ratio is not None and ratio >= target else "FAIL"
        rows.append([pair, LABELS[ours], fmt(median(rates[ours])), fmt_ratio(ratio),
                     f">= {target}x", verdict])
        rows.append(["", LABELS[peer], fmt(median(rates[peer])), "", "", ""])
    note = (f"{args.rounds} rounds of {args.duration:g} s, wrk -t1 -c{args.connections}; "
            f"load average at the start of each round: {'; '.join(loads)}")
    table = render_rst_table(headers, rows) if args.rst else render_table(headers, rows)
    return table + "\n" + note


# --------------------------------------------------------------------------
# Instructions per request (callgrind)


async def _requests(port: int, count: int, connections: int) -> None:
    request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"

    async def one_connection(n: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(n):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = re.search(rb"(?i)content-length: *(\d+)", head)
            assert match and head.startswith(b"HTTP/1.1 200"), head
            await reader.readexactly(int(match.group(1)))
        writer.close()

    share = count // connections
    await asyncio.gather(*(one_connection(share) for _ in range(connections)))


def callgrind_control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], capture_output=True, check=True)


def instructions(outfile: str) -> int:
    with open(outfile) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    return 0  # (the file written at exit, when nothing was collected)


def run_callgrind(args: argparse.Namespace, prefix: list[str], logdir: str) -> str:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    rows = []
    per_request: dict[str, float] = {}
    pairs = PAIRS + (RAW_PAIR,)
    for _, ours, peer, _ in pairs:
        for mode in (ours, peer):
            if args.only and mode.split("-")[0] not in args.only.split(","):
                continue
            out = os.path.join(logdir, f"callgrind.{mode}")
            wrapper = harness._pin(harness.SERVER_CPU) + ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p",
                       "--instr-atstart=no", "--trace-children=yes"]
            with server(prefix, mode, logdir, wrapper=wrapper, timeout=600) as (proc, port):
                asyncio.run(_requests(port, args.warmup, 10))
                callgrind_control(proc.pid, "--instr=on")
                asyncio.run(_requests(port, 100, 10))
                # Each dump empties the counters: the second holds the
                # measured requests alone.
                callgrind_control(proc.pid, "--dump")
                asyncio.run(_requests(port, args.requests, 10))
                callgrind_control(proc.pid, "--dump")
                callgrind_control(proc.pid, "--instr=off")
                time.sleep(1)
            dumps = [p for p in os.listdir(logdir) if p.startswith(f"callgrind.{mode}.") and p.endswith(".2")]
            assert len(dumps) == 1, dumps
            per_request[mode] = instructions(os.path.join(logdir, dumps[0])) / args.requests
            log(f"{mode}: {per_request[mode]:,.0f} instructions/request")
    for pair, ours, peer, _ in pairs:
        if ours not in per_request:
            continue
        rows.append([pair, LABELS[ours], fmt(per_request[ours]),
                     fmt_ratio(per_request[peer] / per_request[ours])])
        rows.append(["", LABELS[peer], fmt(per_request[peer]), ""])
    headers = ["pair", "server", "instructions/request", "speed-up (peer Ir / ours Ir)"]
    return render_table(headers, rows) + f"\n{args.requests} requests over 10 connections after {args.warmup} warm-up"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--cache-dir", default=os.path.expanduser("~/.cache/tornado-bench"))
    parser.add_argument("--inplace", action="store_true",
                        help="use this interpreter with the checkout on PYTHONPATH instead of a venv")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter the venv is made with (both servers use it)")
    parser.add_argument("--rst", action="store_true", help="print the table as reStructuredText")
    parser.add_argument("--callgrind", action="store_true", help="instructions per request instead")
    parser.add_argument("--requests", type=int, default=2000, help="(callgrind) measured requests")
    parser.add_argument("--only", default="", help="(callgrind) pairs to measure, e.g. raw,starlette")
    parser.add_argument("--warmup", type=int, default=300, help="(callgrind) requests before measuring")
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.callgrind:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    prefix = build_env(args.cache_dir, args.inplace, args.python)
    log("Python: " + subprocess.run(prefix + ["-c", "import sys; print(sys.version.split()[0])"],
                                    capture_output=True, text=True).stdout.strip())
    with tempfile.TemporaryDirectory(prefix="asgi-bench-") as logdir:
        report = run_callgrind(args, prefix, logdir) if args.callgrind else run_wallclock(args, prefix, logdir)
    print(report)


if __name__ == "__main__":
    main()
