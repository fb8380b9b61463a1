"""Helpers shared by the soak runs: the server subprocess and its figures."""

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
from typing import Any, Dict, Iterator, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(*options: str) -> Iterator[Tuple[subprocess.Popen, int]]:
    """Start tests/soak/server.py on a free port of 127.0.0.1; stop it after."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "server.py"), "--port", str(port), *options],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "listening"
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(10)


def stats(port: int, count_objects: bool = False) -> Dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/stats?gc=1" if count_objects else "/stats")
    result = json.loads(conn.getresponse().read())
    conn.close()
    return result


def load() -> str:
    """The load averages, to go with timing figures."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]
