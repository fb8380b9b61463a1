"""Soak: 10,000 slow clients next to normal traffic.

Three processes besides the server: ``slow_load.py`` opens the slow
clients (a third slowloris heads, a third slow bodies, a third zero-window
readers of a 256 KiB response; see there) at ``--rate`` connections per
second; wrk makes normal requests on ``--normal`` keep-alive connections
from before the first slow client opens until after the last one should
have been timed out; this script samples the server's descriptors, memory
and CPU time once a second.

The normal requests' 99th percentile latency must stay under 50 ms, and
the server (``idle_connection_timeout`` and ``body_timeout`` of
``--timeout`` seconds) must end every slow connection: its descriptors
return to what they were before.  The server's CPU time over the run and
the load average are printed with the figures: on a shared machine the
latency says as much about the other jobs as about the server.

    python3 tests/soak/slow_clients.py [--slow 10000] [--timeout 10] [--profile out.txt]

The server reports its garbage collections (count, time and longest per
generation), printed with the figures: with thousands of connections the
full collections are the pauses that the latency shows.
``--gc-threshold G0 G1 G2`` has the server process ``gc.freeze()`` and
``gc.set_threshold(G0, G1, G2)`` first, as an application expecting that
many connections may.

``--profile`` records the server with py-spy (``pip install py-spy``) for
the length of the run, as collapsed stacks, and prints the functions that
take the most samples.
"""

import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional

from common import HERE, load, running_server, stats

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid``."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Sampler(threading.Thread):
    """Samples the server's /stats and the load average once a second."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.samples: List[Dict[str, Any]] = []
        self.stop = threading.Event()
        self.began = time.monotonic()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                sample = stats(self.port)
            except OSError:
                continue
            sample["t"] = time.monotonic() - self.began
            sample["load"] = load().split()[0]
            self.samples.append(sample)


def wrk(port: int, seconds: int, clients: int) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        ["wrk", "-t1", "-c%d" % clients, "-d%ds" % seconds, "--latency",
         "http://127.0.0.1:%d/" % port],
        stdout=subprocess.PIPE, text=True,
    )


def wrk_figures(report: str) -> Dict[str, float]:
    served = int(re.search(r"(\d+) requests in", report).group(1))
    figures = {"requests": float(served)}
    for p in ("50", "90", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % p, report, re.M)
        figures["p" + p] = _ms(m.group(1)) if m and served else float("inf")
    latency = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", report)
    figures["max"] = _ms(latency.group(1)) if latency else float("inf")
    errors = re.search(r"Socket errors: (.*)", report)
    figures["socket_errors"] = errors.group(1) if errors else "none"  # type: ignore[assignment]
    return figures


def _ms(figure: str) -> float:
    """wrk's latency figure (``12.34ms``, ``1.2s``, ``800us``) in ms."""
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60000.0)):
        if figure.endswith(unit):
            return float(figure[: -len(unit)]) * scale
    raise ValueError(figure)


def top_functions(collapsed: str, n: int = 25) -> List[str]:
    """The functions with the most samples (self and total) in py-spy's
    collapsed stacks."""
    own: collections.Counter = collections.Counter()
    total: collections.Counter = collections.Counter()
    samples = 0
    with open(collapsed) as f:
        for line in f:
            stack, _, count_s = line.rstrip("\n").rpartition(" ")
            count = int(count_s)
            samples += count
            frames = stack.split(";")
            own[frames[-1]] += count
            for frame in set(frames):
                total[frame] += count
    lines = ["%d samples; by own samples:" % samples]
    lines += ["  %5.1f%% %s" % (100 * c / samples, f) for f, c in own.most_common(n)]
    lines.append("by samples including callees:")
    lines += ["  %5.1f%% %s" % (100 * c / samples, f) for f, c in total.most_common(n)]
    return lines


def run(args: argparse.Namespace, server: "subprocess.Popen[str]", port: int) -> int:
    before = stats(port)
    report: Dict[str, Any] = {"load_before": load()}
    if args.baseline:
        idle = wrk(port, 5, args.normal)
        report["idle"] = wrk_figures(idle.communicate()[0])
    sampler = Sampler(port)
    sampler.start()
    profiler: Optional[subprocess.Popen] = None
    if args.profile:
        profiler = subprocess.Popen(
            ["py-spy", "record", "--pid", str(server.pid), "--format", "raw", "--rate", "200",
             "--nonblocking", "--output", args.profile],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    cpu_before = cpu_seconds(server.pid)
    seconds = int(args.slow / args.rate + args.timeout + 8)
    normal = wrk(port, seconds, args.normal)
    time.sleep(1)  # wrk's connections first: they are the normal clients
    load_proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "slow_load.py"), "--port", str(port),
         "--count", str(args.slow), "--rate", str(args.rate), "--interval", str(args.interval),
         "--drain-after", str(seconds + 2), "--duration", str(seconds + 60)],
        stdout=subprocess.PIPE, text=True,
    )
    normal_report = normal.communicate()[0]
    cpu_used = cpu_seconds(server.pid) - cpu_before
    load_during = load()
    slow = json.loads(load_proc.communicate()[0].splitlines()[-1])
    sampler.stop.set()
    sampler.join()
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)  # (py-spy writes its output on SIGINT)
        profiler.wait()
    after = stats(port)
    figures = wrk_figures(normal_report)
    print("server: idle_connection_timeout=body_timeout=%s s; fds %d before, %d after; "
          "rss %d -> %d KiB" % (args.timeout, before["fds"], after["fds"], before["rss_kib"], after["rss_kib"]))
    print("load average before %s, at the end of the traffic %s" % (report["load_before"], load_during))
    print("server CPU: %.1f s over the %d s of traffic (%.0f%% of a core)"
          % (cpu_used, seconds, 100 * cpu_used / seconds))
    print("slow clients: %d opened in %.1f s at %s/s; generator CPU %.1f s" % (
        args.slow, slow["connect_seconds"], args.rate, slow["cpu_seconds"]))
    ok = after["fds"] <= before["fds"]
    for kind in ("slowloris", "slow-body", "zero-window"):
        k = slow[kind]
        print("  %-11s %5d, ended by the server %5d, never connected %d%s" % (
            kind, k["count"], k["ended"], k["never_connected"],
            ", lives %.1f / %.1f / %.1f s (min / median / max)" % (k["life_min"], k["life_p50"], k["life_max"])
            if k["ended"] else ""))
        ok = ok and k["ended"] == k["count"]
    peak = max(sampler.samples, key=lambda s: s["fds"]) if sampler.samples else None
    if peak:
        print("server fds peak %d at %.0f s; timeline (s: fds, load):" % (peak["fds"], peak["t"]))
        print("  " + ", ".join("%.0f: %d %s" % (s["t"], s["fds"], s["load"]) for s in sampler.samples[::3]))
    for gen in ("0", "1", "2"):
        count, total, longest = after["gc"][gen]
        count -= before["gc"][gen][0]
        total -= before["gc"][gen][1]
        print("server gc generation %s: %d collections, %.2f s in all, longest %.1f ms"
              % (gen, count, total, longest * 1000))
    if "idle" in report:
        print("normal traffic on an idle server: %(requests)d requests in 5 s, p50 %(p50).2f ms, "
              "p99 %(p99).2f ms" % report["idle"])
    print("normal traffic during: %d requests in %d s, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.1f ms; "
          "socket errors: %s" % (figures["requests"], seconds, figures["p50"], figures["p90"],
                                  figures["p99"], figures["max"], figures["socket_errors"]))
    if args.verbose:
        print(normal_report)
    p99_ok = figures["p99"] < 50
    print("slow clients all timed out, fds back: %s; p99 under 50 ms: %s" % (ok, p99_ok))
    if args.profile:
        print("\n".join(top_functions(args.profile)))
    return 0 if ok and p99_ok else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slow", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--rate", type=float, default=1000, help="slow connections opened per second")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a slow client's bytes")
    parser.add_argument("--normal", type=int, default=4, help="normal keep-alive clients")
    parser.add_argument("--baseline", action="store_true", help="first measure wrk on the idle server")
    parser.add_argument("--profile", help="py-spy's collapsed stacks of the server go here")
    parser.add_argument("--gc-threshold", nargs=3, metavar=("G0", "G1", "G2"),
                        help="the server process's gc.set_threshold (default: Python's)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    options = ["--idle-connection-timeout", str(args.timeout), "--body-timeout", str(args.timeout)]
    if args.gc_threshold:
        options += ["--gc-threshold", *args.gc_threshold]
    with running_server(*options) as (proc, port):
        return run(args, proc, port)


if __name__ == "__main__":
    sys.exit(main())
