#!/usr/bin/env python3
"""Profile OUR server (from this checkout) under one benchmark workload.

    python3 benchmarks/profile_server.py hello              # cProfile, wrk load, 10 s
    python3 benchmarks/profile_server.py wsecho --sampler py-spy
    python3 benchmarks/profile_server.py client             # profiles our HTTP client instead

The server runs pinned to CPU 0 with the checkout on PYTHONPATH, the load
comes from the same generators as ``run.py`` on CPU 1.  The report lists
the functions with the most own time: their share of the profile and the
microseconds they cost per request (or message).  ``--sampler py-spy``
samples the running process instead of instrumenting it (no cProfile
overhead, so the shares are closer to the truth; ``pip install py-spy``).
"""

from __future__ import annotations

import argparse
import collections
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as harness  # noqa: E402

PATHS = {"hello": "/", "json": "/json", "template": "/template"}


def _short(filename: str) -> str:
    """Paths relative to the checkout or the standard library, for reading."""
    for root in (harness.CHECKOUT + os.sep, os.path.dirname(os.__file__) + os.sep):
        if filename.startswith(root):
            return filename[len(root):]
    return filename


def report_pstats(path: str, units: float, unit_name: str, top: int) -> str:
    stats = pstats.Stats(path)
    total = sum(tt for (_, _, tt, _, _) in stats.stats.values())
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    lines = [f"{'own %':>6} {'us/' + unit_name:>9} {'calls/' + unit_name:>10}  function",
             f"{'':->6} {'':->9} {'':->10}  {'':->40}"]
    for (filename, line, func), (_cc, nc, tt, _ct, _) in rows:
        lines.append(f"{100 * tt / total:6.1f} {tt / units * 1e6:9.2f} {nc / units:10.2f}  "
                     f"{func} ({_short(filename)}:{line})")
    lines.append("")
    lines.append("Cumulative time of our tornado/ functions (top):")
    ours = [(k, v) for k, v in stats.stats.items() if "/tornado/" in k[0]]
    ours.sort(key=lambda kv: kv[1][3], reverse=True)
    for (filename, line, func), (_cc, nc, _tt, ct, _) in ours[:top]:
        lines.append(f"{100 * ct / total:6.1f} {ct / units * 1e6:9.2f} {nc / units:10.2f}  "
                     f"{func} ({_short(filename)}:{line})")
    lines.insert(0, f"profile total {total:.2f} s of own time over {units:,.0f} {unit_name}s "
                    f"({total / units * 1e6:.1f} us/{unit_name} under cProfile)")
    return "\n".join(lines)


#: Leaf frames that are the event loop waiting for the kernel (mostly idle):
#: left out of the shares, which are then shares of the work.
_IDLE_FRAMES = ("EpollSelector.select", "select (selectors.py")


def report_pyspy(raw: str, units: float, unit_name: str, top: int, rate: int,
                 cpu_us: Optional[float] = None) -> str:
    """Aggregate py-spy's collapsed stacks: own samples per leaf function.

    With ``cpu_us`` (the CPU microseconds the process used per unit, from
    /proc) the shares are turned into microseconds of CPU per unit; that
    holds even when other processes took the CPU away now and then.
    """
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    with open(raw) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = stack.split(";")
            if frames[-1].startswith(_IDLE_FRAMES):
                continue
            total += n
            own[frames[-1]] += n
            for frame in set(frames):
                inclusive[frame] += n
    if cpu_us is None:
        cpu_us = total / rate / units * 1e6
    lines = [f"py-spy: {total} busy samples at {rate}/s over {units:,.0f} {unit_name}s; "
             f"server CPU {cpu_us:.1f} us/{unit_name}",
             f"{'own %':>6} {'us/' + unit_name:>9}  function"]
    for frame, n in own.most_common(top):
        lines.append(f"{100 * n / total:6.1f} {n / total * cpu_us:9.2f}  {_clean(frame)}")
    lines += ["", "Inclusive (our tornado/ frames):"]
    for frame, n in [(f, n) for f, n in inclusive.most_common() if "tornado/" in f][:top]:
        lines.append(f"{100 * n / total:6.1f} {n / total * cpu_us:9.2f}  {_clean(frame)}")
    return "\n".join(lines)


def _clean(frame: str) -> str:
    return re.sub(r"\(([^)]*)\)", lambda m: "(" + _short(m.group(1)) + ")", frame)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=["hello", "json", "template", "wsecho", "client"])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sampler", choices=["cprofile", "py-spy"], default="cprofile")
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument("--concurrency", type=int, default=1, help="client workload")
    parser.add_argument("--keep", metavar="FILE", help="also keep the raw profile here")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="tornado-profile-")
    out = os.path.join(tmp, "profile.out")
    env = dict(os.environ, PYTHONPATH=harness.CHECKOUT)
    pin0, pin1 = ["taskset", "-c", "0"], ["taskset", "-c", "1"]

    if args.workload == "client":
        fast_port = harness.free_port()
        fast = subprocess.Popen(pin1 + [sys.executable, os.path.join(harness.SERVERS, "fast_server.py"),
                                        "--mode", "http", "--port", str(fast_port)],
                                stdout=subprocess.PIPE, text=True)
        assert fast.stdout is not None and fast.stdout.readline().startswith("READY")
        driver = [os.path.join(harness.DRIVERS, "http_client.py"), "--impl", "tornado",
                  "--url", f"http://127.0.0.1:{fast_port}/", "--concurrency",
                  str(args.concurrency), "--duration", f"{args.duration:g}"]
        try:
            if args.sampler == "cprofile":
                cmd = pin0 + [sys.executable, "-m", "cProfile", "-o", out] + driver
            else:
                cmd = pin0 + ["py-spy", "record", "--function", "-r", str(args.rate), "-f", "raw", "-o", out,
                              "--", sys.executable] + driver
            result = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd="/")
        finally:
            fast.terminate()
        line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT"))
        units = harness.parse_key_values(line)["requests_per_sec"] * (args.duration + 1)
        unit_name = "request"
        cpu_us = None
    else:
        port = harness.free_port()
        server_argv = [os.path.join(harness.SERVERS, "tornado_server.py"),
                       "--workload", args.workload, "--port", str(port)]
        if args.sampler == "cprofile":
            cmd = pin0 + [sys.executable, os.path.join(harness.SERVERS, "profiled.py"),
                          "--out", out] + server_argv
        else:
            cmd = pin0 + [sys.executable] + server_argv
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True, cwd="/")
        assert server.stdout is not None and server.stdout.readline().startswith("READY")
        cpu0 = harness.cpu_seconds(server.pid)
        spy = None
        if args.sampler == "py-spy":
            if shutil.which("py-spy") is None:
                sys.exit("py-spy is not installed: pip install py-spy")
            spy = subprocess.Popen(["py-spy", "record", "--function", "-r", str(args.rate), "-f", "raw",
                                    "-o", out, "-p", str(server.pid), "-d",
                                    str(int(args.duration) + 3)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            time.sleep(1.0)
        if args.workload == "wsecho":
            line = subprocess.run(pin1 + [sys.executable, os.path.join(harness.DRIVERS, "ws_echo.py"),
                                          "--port", str(port), "--duration", f"{args.duration:g}",
                                          "--warmup", "0"],
                                  capture_output=True, text=True).stdout
            result = harness.parse_key_values(line.strip().splitlines()[-1])
            units = result["msgs_per_sec"] * args.duration + result["warmup_msgs"]
            unit_name = "message"
        else:
            wrk = subprocess.run(pin1 + ["wrk", "-t1", "-c50", f"-d{args.duration:g}s",
                                         f"http://127.0.0.1:{port}{PATHS[args.workload]}"],
                                 capture_output=True, text=True).stdout
            result = harness.parse_wrk(wrk)
            units, unit_name = float(result.requests), "request"
        cpu_us = (harness.cpu_seconds(server.pid) - cpu0) / units * 1e6
        if spy is not None:
            spy.wait()
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    print(f"{args.workload}: {units:,.0f} {unit_name}s profiled ({args.sampler})")
    if args.sampler == "cprofile":
        print(report_pstats(out, units, unit_name, args.top))
    else:
        print(report_pyspy(out, units, unit_name, args.top, args.rate, cpu_us))
    if args.keep:
        shutil.copy(out, args.keep)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
