#!/usr/bin/env python3
"""Benchmark suite of issues 7 and 14: our Tornado against the reference
release, aiohttp, uvicorn + Starlette, and the ceiling of the event loop.

One command::

    python3 benchmarks/run.py --rounds 5 --write-results              # Python 3.11
    python3 benchmarks/run.py --rounds 5 --write-results --python python3.13
    python3 benchmarks/run.py --only hello,json --rounds 5 --duration 15
    python3 benchmarks/run.py --quick          # a short pass, to try the harness

It builds its environments under ``--cache-dir`` (default
``~/.cache/tornado-bench``), one set per interpreter (``--python``, default
the one running this script) in ``envs/pyX.Y/``: *our* package installed
from the checkout this script lives in (reinstalled whenever the sources
change), ``tornado==6.6.1`` from PyPI, ``aiohttp`` 3.14 plus Jinja2,
``uvicorn`` 0.54 with httptools, websockets and Starlette 1.10, and the
ceiling's (nothing but uvloop); each also has uvloop.  Every
implementation runs each workload on asyncio's own loop and on uvloop
(``--loops``); the two make separate tables.  Every server runs pinned to
CPU 0 and every load generator to CPU 1 (``taskset``); for the client
workload it is the other way round, since the client is what is measured.
The implementations take turns within each round (the first one rotates),
and the table shows the median of the rounds, our ratio to each peer, and
PASS/FAIL for each target of issue 14 with the ratio reached (the median
of the per-round ratios).

Load generators: ``wrk`` for plain HTTP (``apt-get install -y wrk``), and the
scripts in ``drivers/`` (standard library and uvloop, in their own
environment made with this script's interpreter) for WebSockets, HTTP
clients and big transfers.  Servers are in ``servers/``.  Everything
listens on 127.0.0.1 only.  ``callgrind.py`` counts instructions per
request instead, for before/after comparisons on a busy machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import glob
import hashlib
import json
import os
import platform
import re
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Callable, Iterator, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)
SERVERS = os.path.join(HERE, "servers")
DRIVERS = os.path.join(HERE, "drivers")
sys.path.insert(0, HERE)

from benchlib import (  # noqa: E402
    IMPLS, Goal, Metric, cpu_seconds_from_stat, fmt, fmt_ratio, goal_ratio, interleave, median,
    paired_ratio, parse_importtime, parse_key_values, parse_proc_status, parse_wrk,
    render_rst_table, render_table, verdict,
)

REF_REQUIREMENT = "tornado==6.6.1"
UVLOOP = "uvloop>=0.19"
#: What each environment gets besides our package (``ours`` is installed from
#: the checkout): the first choice that installs wins.
REQUIREMENTS: dict[str, Sequence[Sequence[str]]] = {
    "ref": ([REF_REQUIREMENT, UVLOOP],),
    "aiohttp": (["aiohttp>=3.14,<3.15", "jinja2", UVLOOP], ["aiohttp<4", "jinja2", UVLOOP]),
    "uvicorn": (["uvicorn==0.54.*", "httptools", "websockets", "starlette==1.10.*", UVLOOP],
                ["uvicorn<1", "httptools", "websockets", "starlette", UVLOOP]),
    "ceiling": ([UVLOOP],),
    "drivers": ([UVLOOP],),
}
SERVER_CPU = "0"
CLIENT_CPU = "1"
MiB = 1 << 20

WORKLOADS = ("hello", "json", "template", "wsecho", "wsidle", "client", "upload", "download",
             "import")
LOOPS = ("asyncio", "uvloop")

#: Which implementations take part in which workload (the rest: all but
#: the ceiling and uvicorn, which serve only hello, JSON and WebSocket echo).
_NARROW = {"uvicorn": {"hello", "json", "wsecho"}, "ceiling": {"hello", "json", "wsecho"}}


def takes_part(base: str, workload: str, loop: str) -> bool:
    """Whether implementation ``base`` runs ``workload`` on ``loop``."""
    if workload == "import":
        return base in ("ours", "ref") and loop == "asyncio"
    return workload in _NARROW.get(base, set(WORKLOADS))


def variant(base: str, loop: str) -> str:
    """The table's name for an implementation on a loop: ``ours``, ``ours+uvloop``."""
    return base if loop == "asyncio" else f"{base}+{loop}"


def split_variant(name: str) -> tuple[str, str]:
    base, _, loop = name.partition("+")
    return base, loop or "asyncio"


_PEERS = Goal(("aiohttp", "uvicorn"), 1.5)
_CEILING = Goal(("ceiling",), 0.5)
_AIOHTTP_12 = Goal(("aiohttp",), 1.2)

#: Every row of the table, in order, with issue 14's targets.  The "per
#: server CPU-second" rows divide the work done by the CPU time the server
#: process got (from /proc/PID/stat): on a machine where other processes
#: compete for the CPUs they estimate what a full CPU would give, where
#: requests/s varies with the neighbours' load; both carry the targets.
METRICS: list[Metric] = [
    Metric("hello", "requests/s", "req/s", goals=(_PEERS, _CEILING)),
    Metric("hello", "per server CPU-second", "req", goals=(_PEERS, _CEILING)),
    Metric("json", "requests/s", "req/s", goals=(_PEERS, _CEILING)),
    Metric("json", "per server CPU-second", "req", goals=(_PEERS, _CEILING)),
    Metric("template", "requests/s", "req/s", goals=(Goal(("aiohttp",), 2.0),)),
    Metric("template", "per server CPU-second", "req", goals=(Goal(("aiohttp",), 2.0),)),
    Metric("wsecho", "messages/s", "msg/s",
           goals=(Goal(("aiohttp",), 2.5), Goal(("uvicorn",), 2.0))),
    Metric("wsecho", "per server CPU-second", "msg",
           goals=(Goal(("aiohttp",), 2.5), Goal(("uvicorn",), 2.0))),
    Metric("wsidle", "memory per connection", "KiB", higher_is_better=False,
           goals=(Goal(("aiohttp",), 0.35),)),
    Metric("wsidle", "broadcast to all", "ms", higher_is_better=False,
           goals=(Goal(("aiohttp",), 0.5),)),
    Metric("client", "sequential GETs/s", "req/s", goals=(_AIOHTTP_12,)),
    Metric("client", "concurrent GETs/s (50)", "req/s", goals=(_AIOHTTP_12,)),
    Metric("upload", "throughput", "MB/s", goals=(_AIOHTTP_12,)),
    Metric("upload", "server CPU per GB", "s", higher_is_better=False),
    Metric("upload", "peak memory growth, big file", "MiB", higher_is_better=False, limit=64),
    Metric("upload", "growth big - growth small", "MiB", higher_is_better=False, limit=16),
    Metric("upload", "other client's max latency", "ms", higher_is_better=False, limit=250),
    Metric("download", "throughput", "MB/s", goals=(_AIOHTTP_12,)),
    Metric("download", "server CPU per GB", "s", higher_is_better=False),
    Metric("download", "peak memory growth, big file", "MiB", higher_is_better=False, limit=64),
    Metric("download", "growth big - growth small", "MiB", higher_is_better=False, limit=16),
    Metric("download", "other client's max latency", "ms", higher_is_better=False, limit=250),
    Metric("import", "-X importtime, tornado modules", "ms", higher_is_better=False,
           goals=(Goal(("ref",), 0.8),)),
    Metric("import", "process wall time", "ms", higher_is_better=False),
    Metric("import", "wall time - bare interpreter", "ms", higher_is_better=False,
           goals=(Goal(("ref",), 0.8),)),
]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Environments


def _sources_fingerprint(checkout: str) -> str:
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(os.path.join(checkout, "tornado")):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, checkout).encode())
            with open(path, "rb") as f:
                digest.update(f.read())
    with open(os.path.join(checkout, "setup.py"), "rb") as f:
        digest.update(f.read())
    return digest.hexdigest()


def _venv(path: str, maker: str) -> str:
    python = os.path.join(path, "bin", "python")
    if not os.path.exists(python):
        log(f"creating venv {path}")
        subprocess.run([maker, "-m", "venv", path], check=True)
    return python


def _pip(python: str, *args: str, env: Optional[dict[str, str]] = None) -> None:
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
                   check=True, env=env)


def _install_ours(python: str, env_dir: str, checkout: str) -> None:
    """Install the checkout's package, built from a copy so the tree stays clean."""
    marker = os.path.join(env_dir, ".ours-fingerprint")
    fingerprint = _sources_fingerprint(checkout)
    if os.path.exists(marker) and open(marker).read() == fingerprint:
        return
    log("installing our package from " + checkout)
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        os.mkdir(src)
        shutil.copytree(os.path.join(checkout, "tornado"), os.path.join(src, "tornado"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in ("setup.py", "README.rst", "LICENSE"):
            if os.path.exists(os.path.join(checkout, name)):
                shutil.copy(os.path.join(checkout, name), src)
        # TORNADO_EXTENSION=1: the C accelerator must build (what we measure
        # is the package as shipped with it).
        _pip(python, "--no-deps", "--force-reinstall", "--no-cache-dir", src,
             env=dict(os.environ, TORNADO_EXTENSION="1"))
    with open(marker, "w") as f:
        f.write(fingerprint)


def _install_once(python: str, env_dir: str, choices: Sequence[Sequence[str]]) -> None:
    marker = os.path.join(env_dir, ".installed")
    if os.path.exists(marker):
        return
    last: Optional[Exception] = None
    for requirements in choices:
        try:
            log(f"installing {' '.join(requirements)} into {env_dir}")
            _pip(python, *requirements)
            break
        except subprocess.CalledProcessError as e:
            last = e
    else:
        raise RuntimeError(f"could not install any of {choices}") from last
    with open(marker, "w") as f:
        f.write(" ".join(requirements))


def resolve_python(name: str) -> str:
    """The interpreter that ``--python`` names, as a path that runs.

    A pyenv shim such as ``python3.13`` only runs where pyenv has that
    version enabled; failing that, the version's own binary under
    ``$PYENV_ROOT/versions`` is used.
    """
    found = shutil.which(name)
    if found and subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
        return found
    match = re.fullmatch(r"python(\d+\.\d+)", os.path.basename(name))
    if match:
        root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
        for candidate in sorted(glob.glob(os.path.join(root, "versions", match.group(1) + "*",
                                                       "bin", name)), reverse=True):
            if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
                return candidate
    sys.exit(f"--python {name}: no such interpreter that runs")


def python_tag(python: str) -> str:
    """``py3.13`` for the interpreter ``python``: environments are per version."""
    out = subprocess.run([python, "-c", "import sys; print('py%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def build_envs(cache: str, python: str, bases: Sequence[str], inplace: bool) -> dict[str, list[str]]:
    """The command prefix (interpreter, and env) that runs Python for each implementation.

    With ``inplace``, ``ours`` runs from the checkout and the drivers with
    this script's interpreter (no environment to build).  Otherwise every environment is made with ``python`` (``--python``), under
    ``CACHE/envs/pyX.Y/``; the load drivers get their own with the harness's
    interpreter, so the load generators stay the same whichever Python the
    contestants run on.
    """
    envs: dict[str, list[str]] = {}
    tag = python_tag(python)
    for base in list(bases) + ["drivers"]:
        if base == "ours" and inplace:
            envs[base] = ["env", f"PYTHONPATH={CHECKOUT}", python]
            continue
        if base == "drivers" and inplace:
            envs[base] = [sys.executable]  # uvloop if this interpreter has it
            continue
        maker = sys.executable if base == "drivers" else python
        env_dir = os.path.join(cache, "envs", python_tag(maker) if base == "drivers" else tag, base)
        venv_python = _venv(env_dir, maker)
        if base == "ours":
            _install_once(venv_python, env_dir, ([UVLOOP],))
            _install_ours(venv_python, env_dir, CHECKOUT)
        else:
            _install_once(venv_python, env_dir, REQUIREMENTS[base])
        envs[base] = [venv_python]
    return envs


_VERSION_OF = {"ours": "tornado", "ref": "tornado", "aiohttp": "aiohttp", "uvicorn": "uvicorn"}


def impl_version(prefix: list[str], base: str) -> str:
    """The contestant's version, and uvloop's, as its environment reports them."""
    module = _VERSION_OF.get(base)
    code = ("import sys, importlib.metadata as md\n"
            "def v(n):\n"
            "    try: return md.version(n)\n"
            "    except Exception: pass\n"
            "    try: return __import__(n).version\n"  # a checkout on PYTHONPATH
            "    except Exception: return '?'\n"
            + (f"print(v({module!r}), end='')\n" if module else
               "print('asyncio', end='')\n")
            + ("print(' + starlette', v('starlette'), end='')\n" if base == "uvicorn" else "")
            + "print(' (python %d.%d, uvloop %s)' % (*sys.version_info[:2], v('uvloop')))")
    out = subprocess.run(prefix + ["-c", code], capture_output=True, text=True, cwd="/")
    return out.stdout.strip() or "?"


# --------------------------------------------------------------------------
# Processes


def _pin(cpu: str) -> list[str]:
    return ["taskset", "-c", cpu] if PINNING else []


PINNING = True


class Proc:
    """A child process whose stdout we read line by line, with timeouts."""

    def __init__(self, argv: list[str], name: str, logdir: str, stdin: bool = False) -> None:
        self.name = name
        self.errpath = os.path.join(logdir, f"{name}.err")
        self.err = open(self.errpath, "w")
        # No inherited PYTHONPATH: each venv must run its own package (the
        # in-place mode sets it again through an "env PYTHONPATH=..." prefix).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        self.popen = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=self.err, env=env, cwd="/",
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL)
        self.pid = self.popen.pid
        self._buf = b""
        os.set_blocking(self.popen.stdout.fileno(), False)

    def readline(self, timeout: float) -> Optional[str]:
        """The next line of output, or None at EOF; TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no output in {timeout}s; see {self.errpath}")
            with selectors.DefaultSelector() as sel:
                sel.register(self.popen.stdout, selectors.EVENT_READ)
                if not sel.select(left):
                    continue
            data = self.popen.stdout.read()
            if not data:
                if data is None:
                    continue
                rest, self._buf = self._buf, b""
                return rest.decode() if rest else None
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode()

    def expect(self, prefix: str, timeout: float) -> str:
        while True:
            line = self.readline(timeout)
            if line is None:
                raise RuntimeError(f"{self.name} exited ({self.popen.wait()}) before {prefix!r}; "
                                   f"see {self.errpath}: {self.tail()}")
            if line.startswith(prefix):
                return line

    def tail(self) -> str:
        self.err.flush()
        with open(self.errpath) as f:
            return f.read()[-800:]

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.err.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reset_peak(pid: int) -> None:
    """Reset the process's VmHWM to its current RSS (Linux >= 4.0, needs the
    right to write its clear_refs: our own child).  Without it VmHWM keeps
    the peak of the start-up, which can hide a transfer's peak."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        return cpu_seconds_from_stat(f.read(), os.sysconf("SC_CLK_TCK"))


def proc_status(pid: int) -> dict[str, int]:
    with open(f"/proc/{pid}/status") as f:
        return parse_proc_status(f.read())


_SERVER_SCRIPTS = {"aiohttp": "aiohttp_server.py", "uvicorn": "uvicorn_server.py",
                   "ceiling": "ceiling_server.py"}


class Context:
    def __init__(self, args: argparse.Namespace, envs: dict[str, list[str]], logdir: str) -> None:
        self.args = args
        self.envs = envs
        self.logdir = logdir
        self.values: dict[tuple[str, str], dict[str, list[float]]] = {}
        self.by_round: dict[tuple[str, str], dict[str, dict[int, float]]] = {}
        self.round = 0
        self.notes: list[str] = []
        self._seq = 0
        self.source_counter = 0

    def record(self, workload: str, metric: str, impl: str, value: Optional[float]) -> None:
        if value is None:
            return
        self.values.setdefault((workload, metric), {}).setdefault(impl, []).append(value)
        self.by_round.setdefault((workload, metric), {}).setdefault(impl, {})[self.round] = value

    def name(self, what: str) -> str:
        self._seq += 1
        return f"{self._seq:03d}-{what}"

    def python(self, impl: str) -> list[str]:
        """The interpreter prefix of an implementation (``ours+uvloop`` runs ``ours``'s)."""
        return list(self.envs[split_variant(impl)[0]])

    def next_source(self) -> str:
        """A fresh loopback source address: each batch of clients gets its own ports."""
        c = self.source_counter
        self.source_counter += 1
        return f"127.1.{c // 250}.{c % 250 + 1}"

    @contextlib.contextmanager
    def server(self, impl: str, workload: str, **extra: str) -> Iterator[tuple[Proc, int]]:
        port = free_port()
        base, loop = split_variant(impl)
        script = _SERVER_SCRIPTS.get(base, "tornado_server.py")
        argv = (_pin(SERVER_CPU) + self.python(impl)
                + [os.path.join(SERVERS, script), "--workload", workload, "--port", str(port),
                   "--loop", loop])
        for key, value in extra.items():
            argv += [f"--{key.replace('_', '-')}", value]
        proc = Proc(argv, self.name(f"{impl}-{workload}-server"), self.logdir)
        try:
            proc.expect("READY", 60)
            yield proc, port
        finally:
            proc.stop()

    def driver(self, script: str, *args: str, cpu: str = CLIENT_CPU,
               python: Optional[list[str]] = None, stdin: bool = False, name: str = "") -> Proc:
        argv = _pin(cpu) + (python or self.envs["drivers"]) + [os.path.join(DRIVERS, script), *args]
        return Proc(argv, self.name(name or script.removesuffix(".py")), self.logdir, stdin=stdin)

    def run_driver(self, script: str, *args: str, timeout: float, **kw) -> dict[str, float]:
        proc = self.driver(script, *args, **kw)
        try:
            return parse_key_values(proc.expect("RESULT", timeout))
        finally:
            proc.stop()


def http_get(port: int, path: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, response.read()


# --------------------------------------------------------------------------
# Workloads


def _check_body(workload: str, body: bytes) -> None:
    if workload == "hello":
        ok = body == b"Hello, world"
    elif workload == "json":
        ok = json.loads(body)["message"] == "Hello, world"
    else:
        ok = b"Item &lt;19&gt; &amp; co: 28.50" in body and body.count(b"<li") == 20
    if not ok:
        raise RuntimeError(f"{workload}: wrong response {body[:300]!r}")


def run_wrk(ctx: Context, impl: str, workload: str, path: str) -> tuple[float, float]:
    """Requests/s, and requests per CPU-second the server used."""
    args = ctx.args
    with ctx.server(impl, workload) as (server, port):
        status, body = http_get(port, path)
        if status != 200:
            raise RuntimeError(f"{impl} {workload}: status {status}")
        _check_body(workload, body)
        url = f"http://127.0.0.1:{port}{path}"
        base = _pin(CLIENT_CPU) + ["wrk", "-t1", f"-c{args.http_connections}"]
        subprocess.run(base + ["-d1s", url], capture_output=True, check=True)  # warm-up
        cpu0 = cpu_seconds(server.pid)
        out = subprocess.run(base + [f"-d{args.duration:g}s", url],
                             capture_output=True, text=True, check=True).stdout
        cpu = cpu_seconds(server.pid) - cpu0
    result = parse_wrk(out)
    if result.non_2xx or result.socket_errors:
        ctx.notes.append(f"{workload}/{impl}: wrk saw {result.non_2xx} non-2xx responses and "
                         f"{result.socket_errors} socket errors")
    return result.requests_per_sec, (result.requests / cpu if cpu > 0 else None)


def workload_http(workload: str, path: str) -> Callable[[Context, str], None]:
    def run(ctx: Context, impl: str) -> None:
        rate, per_cpu = run_wrk(ctx, impl, workload, path)
        ctx.record(workload, "requests/s", impl, rate)
        ctx.record(workload, "per server CPU-second", impl, per_cpu)
    return run


def workload_wsecho(ctx: Context, impl: str) -> None:
    args = ctx.args
    with ctx.server(impl, "wsecho") as (server, port):
        cpu0 = cpu_seconds(server.pid)
        result = ctx.run_driver("ws_echo.py", "--port", str(port),
                                "--connections", str(args.ws_connections),
                                "--duration", f"{args.duration:g}",
                                timeout=args.duration + 120)
        cpu = cpu_seconds(server.pid) - cpu0
    ctx.record("wsecho", "messages/s", impl, result["msgs_per_sec"])
    # the driver's warm-up second is counted in cpu, so count its messages too
    total = result["msgs_per_sec"] * args.duration + result.get("warmup_msgs", 0)
    ctx.record("wsecho", "per server CPU-second", impl, total / cpu if cpu > 0 else None)
    ctx.record("wsecho", "driver CPU share", impl, result.get("driver_cpu"))


def wsecho_yardstick(ctx: Context) -> None:
    """The echo driver against a trivial server: how fast the driver itself can go."""
    args = ctx.args
    port = free_port()
    server = Proc(_pin(SERVER_CPU) + ctx.envs["drivers"] + [os.path.join(SERVERS, "fast_server.py"),
                                                            "--mode", "ws", "--port", str(port)],
                  ctx.name("fast-ws-server"), ctx.logdir)
    try:
        server.expect("READY", 30)
        result = ctx.run_driver("ws_echo.py", "--port", str(port),
                                "--connections", str(args.ws_connections),
                                "--duration", f"{args.duration:g}", timeout=args.duration + 120)
    finally:
        server.stop()
    ctx.record("wsecho", "yardstick", "trivial", result["msgs_per_sec"])
    ctx.record("wsecho", "driver CPU share", "trivial", result.get("driver_cpu"))


def workload_wsidle(ctx: Context, impl: str) -> None:
    args = ctx.args
    total = args.idle_connections
    nprocs = max(1, min(args.idle_procs, total))
    with ctx.server(impl, "wsidle") as (server, port):
        # one connection first, so code paths are imported before the baseline
        warm = ctx.driver("ws_idle.py", "--port", str(port), "--connections", "1",
                          "--source", ctx.next_source(), stdin=True)
        warm.expect("READY", 60)
        warm.popen.stdin.close()
        warm.wait(30)
        warm.stop()
        _wait_count(port, 0, 30)
        time.sleep(0.5)
        base = proc_status(server.pid)["VmRSS"]
        drivers = []
        try:
            share = [total // nprocs + (1 if i < total % nprocs else 0) for i in range(nprocs)]
            for n in share:
                drivers.append(ctx.driver("ws_idle.py", "--port", str(port),
                                          "--connections", str(n),
                                          "--source", ctx.next_source(), stdin=True))
            for d in drivers:
                d.expect("READY", 600)
            _wait_count(port, total, 60)
            time.sleep(1.0)
            rss = proc_status(server.pid)["VmRSS"]
            ctx.record("wsidle", "memory per connection", impl, (rss - base) / total / 1024)
            times = []
            for k in range(1, args.broadcasts + 1):
                t0 = time.monotonic()
                status, body = http_get(port, "/broadcast")
                if int(body) != total:
                    raise RuntimeError(f"{impl}: broadcast reached {body!r} of {total}")
                last = 0.0
                for d in drivers:
                    line = d.expect(f"DONE {k} ", 120)
                    last = max(last, float(line.split()[2]))
                times.append((last - t0) * 1000)
                time.sleep(0.3)
            ctx.record("wsidle", "broadcast to all", impl, median(times))
            server.stop()  # close the server side first: its TIME_WAITs cost no client ports
        finally:
            for d in drivers:
                with contextlib.suppress(Exception):
                    d.popen.stdin.close()
                d.stop()


def _wait_count(port: int, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        _, body = http_get(port, "/count")
        if int(body) == expected:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"server counts {body!r} WebSockets, expected {expected}")
        time.sleep(0.1)


def workload_client(ctx: Context, impl: str) -> None:
    args = ctx.args
    base, loop = split_variant(impl)
    kind = "aiohttp" if base == "aiohttp" else "tornado"
    port = ctx.fast_http_port
    # Ours runs with its keep-alive opt-in (AsyncHTTPClient(keep_alive=True)),
    # as aiohttp's ClientSession keeps connections by default; the reference
    # has no such option and opens a connection per request.
    extra = ["--keep-alive"] if base == "ours" else []
    for metric, concurrency in (("sequential GETs/s", 1),
                                ("concurrent GETs/s (50)", args.client_concurrency)):
        result = ctx.run_driver(
            "http_client.py", "--impl", kind, "--url", f"http://127.0.0.1:{port}/",
            "--concurrency", str(concurrency), "--duration", f"{args.duration:g}",
            "--loop", loop, *extra, cpu=SERVER_CPU, python=ctx.python(impl), name=f"{impl}-client-{concurrency}",
            timeout=args.duration + 120)
        if result.get("errors"):
            ctx.notes.append(f"client/{impl}: {result['errors']:.0f} failed requests "
                             f"at concurrency {concurrency}")
        ctx.record("client", metric, impl, result["requests_per_sec"])


def _data_file(ctx: Context, size: int) -> str:
    """A sparse file of ``size`` zero bytes (reads never touch the disk)."""
    path = os.path.join(ctx.data_dir, f"big-{size // MiB}M.bin")
    if not os.path.exists(path) or os.path.getsize(path) != size:
        with open(path, "wb") as f:
            f.truncate(size)
    return path


def workload_bigfile(direction: str) -> Callable[[Context, str], None]:
    def run(ctx: Context, impl: str) -> None:
        args = ctx.args
        sizes = (args.small_size * MiB, args.big_size * MiB)
        paths = [_data_file(ctx, s) for s in sizes]
        growth = []
        with ctx.server(impl, direction, static_dir=ctx.data_dir) as (server, port):
            http_get(port, "/hello")
            if direction == "download":
                for p in paths:  # the first request computes the file's ETag
                    http_get(port, "/static/" + os.path.basename(p), method="HEAD")
            for size, path in zip(sizes, paths, strict=True):
                reset_peak(server.pid)
                base = proc_status(server.pid)["VmRSS"]
                cpu0 = cpu_seconds(server.pid)
                result = ctx.run_driver(
                    "bigfile.py", "--port", str(port), "--mode", direction, "--size", str(size),
                    "--path", "/static/" + os.path.basename(path),
                    timeout=600)
                hwm = proc_status(server.pid)["VmHWM"]
                cpu_per_gb = (cpu_seconds(server.pid) - cpu0) / (size / 1e9)
                growth.append(max(0, hwm - base) / MiB)
                if result.get("probe_errors"):
                    ctx.notes.append(f"{direction}/{impl}: the small client's request failed")
        ctx.record(direction, "throughput", impl, result["mb_per_sec"])
        ctx.record(direction, "server CPU per GB", impl, cpu_per_gb)
        ctx.record(direction, "peak memory growth, big file", impl, growth[1])
        ctx.record(direction, "growth big - growth small", impl, growth[1] - growth[0])
        ctx.record(direction, "other client's max latency", impl, result["probe_max_ms"])
    return run


IMPORT_STATEMENT = "import tornado.web, tornado.websocket, tornado.httpclient"


def _wall_ms(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - t0) * 1000


def workload_import(ctx: Context, impl: str) -> None:
    """Import time of the three modules a typical application imports.

    ``-X importtime`` adds up what the interpreter reports for the tornado
    modules (their cumulative time, standard library dependencies
    included); the wall time is the whole process, and the same minus a
    bare ``python -c pass`` (interpreter start-up, equal for everyone).
    Each figure is the median of ``--import-runs`` runs; the bytecode is
    compiled by a first, uncounted run.
    """
    python = ctx.python(impl)
    runs = ctx.args.import_runs
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(python + ["-c", IMPORT_STATEMENT], check=True, cwd="/", env=env)
    importtimes, walls, bares = [], [], []
    for _ in range(runs):
        out = subprocess.run(python + ["-X", "importtime", "-c", IMPORT_STATEMENT],
                             capture_output=True, text=True, check=True, cwd="/")
        importtimes.append(parse_importtime(out.stderr) / 1000)
        walls.append(_wall_ms(python + ["-c", IMPORT_STATEMENT]))
        bares.append(_wall_ms(python + ["-c", "pass"]))
    ctx.record("import", "-X importtime, tornado modules", impl, median(importtimes))
    ctx.record("import", "process wall time", impl, median(walls))
    ctx.record("import", "wall time - bare interpreter", impl, median(walls) - median(bares))


RUNNERS: dict[str, Callable[[Context, str], None]] = {
    "hello": workload_http("hello", "/"),
    "json": workload_http("json", "/json"),
    "template": workload_http("template", "/template"),
    "wsecho": workload_wsecho,
    "wsidle": workload_wsidle,
    "client": workload_client,
    "upload": workload_bigfile("upload"),
    "download": workload_bigfile("download"),
    "import": workload_import,
}


# --------------------------------------------------------------------------
# Report


def machine_description(python: Optional[list[str]] = None) -> list[tuple[str, str]]:
    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return [
        ("CPU", model),
        ("cores", str(os.cpu_count())),
        ("RAM", mem),
        ("kernel", f"{platform.system()} {platform.release()}"),
        ("Python", _python_version(python)),
    ]


def _python_version(python: Optional[list[str]]) -> str:
    if python is None:
        return platform.python_version() + f" ({platform.python_implementation()})"
    out = subprocess.run(python + ["-c", "import platform; print(platform.python_version(), "
                                   "'(' + platform.python_implementation() + ')')"],
                         capture_output=True, text=True, cwd="/")
    return out.stdout.strip() or "?"


def table_rows(ctx: Context, bases: Sequence[str], loop: str
               ) -> tuple[list[str], list[list[str]], list[str]]:
    """The table of one event loop: a column per implementation, our ratio
    to each, and each row's targets with PASS/FAIL and the ratios reached."""
    names = [variant(b, loop) for b in bases]
    suffix = "" if loop == "asyncio" else f"+{loop}"
    headers = ["workload", "metric", "unit", *names]
    peers = [n for n in names if n != "ours" + suffix]
    has_ours = len(peers) < len(names)
    if has_ours:
        headers += [f"ours/{split_variant(p)[0]}" for p in peers]
    headers += ["target", "result"]
    rows = []
    verdicts = []
    for m in METRICS:
        per_impl = ctx.values.get((m.workload, m.name))
        if per_impl is None or not any(n in per_impl for n in names):
            continue
        medians = {n: median(per_impl.get(n, [])) for n in names}
        digits = {"KiB": 1, "ms": 1, "MiB": 1, "MB/s": 1, "s": 2}.get(m.unit, 0)
        row = [m.workload, m.name, m.unit] + [fmt(medians[n], digits) for n in names]
        rounds = ctx.by_round.get((m.workload, m.name), {})
        if has_ours:
            # absolute checks (flat memory, latency) have no meaningful ratio
            row += [fmt_ratio(paired_ratio(rounds.get("ours" + suffix, {}), rounds.get(p, {})))
                    if m.limit is None and p in per_impl else "" for p in peers]
        if m.goals and has_ours:
            reached = [goal_ratio(m, g, rounds, suffix) for g in m.goals]
            target = "; ".join(g.describe(m.higher_is_better) for g in m.goals)
            result = verdict(m, None, reached) + " (" + ", ".join(map(fmt_ratio, reached)) + ")"
        elif m.limit is not None and has_ours:
            target = f"ours <= {m.limit:g} {m.unit}"
            result = verdict(m, medians.get("ours" + suffix))
        else:
            target, result = "", ""
        row += [target, result]
        rows.append(row)
        if result:
            verdicts.append(f"{result.split()[0]} {m.workload}: {m.name} ({loop} loop)")
    return headers, rows, verdicts


def write_rst(path: str, ctx: Context, tables: list[tuple[str, list[str], list[list[str]]]],
              versions: dict[str, str], command: str) -> None:
    lines = [
        "Benchmark results",
        "=================",
        "",
        f"Produced by ``{command}`` on {datetime.date.today().isoformat()}; "
        "each figure is the median of the rounds.  Ratios are ours/peer: above 1 is "
        "better for rates, below 1 for memory and times; a target's ratio is the median "
        "of the per-round ratios, shown after PASS/FAIL.",
        "",
        "Machine",
        "-------",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in machine_description(ctx.python("ours" if "ours" in ctx.envs
                                                                         else next(iter(ctx.envs))))]
    lines += ["- implementations: " + "; ".join(f"{i} {v}" for i, v in versions.items()),
              "- server pinned to CPU 0 and load generator to CPU 1 (``taskset``); for the "
              "client workload the measured client runs on CPU 0 and the fixed server on CPU 1",
              ""]
    for loop, headers, rows in tables:
        title = f"Results on the {loop} event loop" if loop != "asyncio" else \
            "Results on asyncio's own event loop"
        lines += [title, "-" * len(title), "", render_rst_table(headers, rows), ""]
    if ctx.notes:
        lines += ["Notes", "-----", ""] + [f"- {n}" for n in ctx.notes] + [""]
    lines += ["How each workload is measured", "-----------------------------", ""]
    lines += [f"- **{k}**: {v}" for k, v in WORKLOAD_NOTES.items()] + [""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


WORKLOAD_NOTES = {
    "hello": "``self.write(\"Hello, world\")``; wrk, 1 thread, 50 keep-alive connections.",
    "json": "``self.write(dict)`` of a small document (aiohttp: ``web.json_response``); "
            "wrk as above.",
    "template": "a page extending a base template, a loop over 20 rows each rendered by a "
                "UI module (``{% module Item(item) %}`` rendering ``item.html``), autoescaped. "
                "aiohttp renders the same structure with Jinja2 (``{% extends %}``, "
                "``{% for %}`` and ``{% include \"item.html\" %}``, autoescape on).",
    "wsecho": "50 connections, each with one 32-byte text message in flight; the driver "
              "sends precomputed masked frames and counts echoed bytes.",
    "wsidle": "N idle WebSockets from several driver processes; memory is (VmRSS after - "
              "VmRSS before) / N of the server; broadcast is the time from the request to "
              "``/broadcast`` (the server writes one 16-byte message to every connection) "
              "until the last client has it, median of several broadcasts.",
    "client": "each implementation's HTTP client (Tornado: ``AsyncHTTPClient``, "
              "simple_httpclient, max_clients 50, ours with its keep-alive opt-in "
              "``keep_alive=True``, the reference without (it has none); aiohttp: ``ClientSession``) GETs from "
              "the same trivial server (``servers/fast_server.py``); sequential: one "
              "request at a time; concurrent: 50 in flight.",
    "upload": "POST of the big file to a ``@stream_request_body`` handler that counts and "
              "SHA-256-hashes each chunk, so the server is slower than the sender as real "
              "handlers are (aiohttp: ``request.content.readany()``, same work); memory is the server's VmHWM after "
              "the transfer minus VmRSS before it; one small GET every 20 ms on another "
              "connection measures the latency seen by other clients.",
    "download": "GET of the big (sparse) file from ``StaticFileHandler`` (aiohttp: "
                "``add_static``, which uses sendfile); memory and latency as for upload.",
    "import": "``python -X importtime -c \"" + IMPORT_STATEMENT + "\"``: the cumulative "
              "time of the top-level tornado imports (standard library dependencies "
              "included); the process wall time of ``python -c`` with the same statement, "
              "and that minus a bare ``python -c pass``; medians of the runs, bytecode "
              "compiled beforehand.",
    "ceiling": "a bare ``asyncio.Protocol`` that finds each request head's end and writes "
               "the workload's canned response (for WebSocket echo: answers the upgrade, "
               "then echoes by counting bytes); no framework on the same loop can beat it.",
    "uvicorn": "uvicorn with its httptools parser and the ``websockets-sansio`` WebSocket "
               "implementation, serving a Starlette application (``PlainTextResponse``, "
               "``JSONResponse``, a ``WebSocketRoute`` echoing ``receive()``).",
    "uvloop": "the same servers (and, for the client workload, the same clients) on "
              "uvloop; the load generators always run on uvloop.",
}


# --------------------------------------------------------------------------


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per workload (median)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds of measurement per run (timed workloads)")
    parser.add_argument("--only", default="", help="comma-separated workloads: " + ",".join(WORKLOADS))
    parser.add_argument("--impls", default=",".join(IMPLS),
                        help="comma-separated: " + ",".join(IMPLS))
    parser.add_argument("--loops", default=",".join(LOOPS),
                        help="comma-separated event loops: asyncio (the standard library's), "
                             "uvloop; every implementation runs on each")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter the contestants' environments are made with "
                             "(e.g. python3.13); the load generators keep this script's")
    parser.add_argument("--import-runs", type=int, default=20,
                        help="runs per round of the import workload")
    parser.add_argument("--quick", action="store_true",
                        help="1 round of 2 s, 1000 idle WebSockets, 64 MiB files")
    parser.add_argument("--cache-dir", default=os.path.expanduser("~/.cache/tornado-bench"))
    parser.add_argument("--inplace", action="store_true",
                        help="run 'ours' from this checkout with the current interpreter "
                             "instead of a venv")
    parser.add_argument("--http-connections", type=int, default=50)
    parser.add_argument("--ws-connections", type=int, default=50)
    parser.add_argument("--idle-connections", type=int, default=15000)
    parser.add_argument("--idle-procs", type=int, default=4)
    parser.add_argument("--broadcasts", type=int, default=5)
    parser.add_argument("--client-concurrency", type=int, default=50)
    parser.add_argument("--big-size", type=int, default=1024, help="MiB")
    parser.add_argument("--small-size", type=int, default=128, help="MiB")
    parser.add_argument("--no-yardstick", action="store_true",
                        help="skip the ws echo driver's check against a trivial server")
    parser.add_argument("--write-results", metavar="FILE", nargs="?",
                        const="",
                        help="also write the tables as reStructuredText (default "
                             "benchmarks/RESULTS.rst, or RESULTS-py3.X.rst when --python "
                             "names another version than this script's)")
    parser.add_argument("--json", metavar="FILE", help="write every round's figures as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        defaults = {"rounds": 3, "duration": 10.0, "idle_connections": 15000,
                    "big_size": 1024, "small_size": 128, "idle_procs": 4, "broadcasts": 5,
                    "import_runs": 20}
        quick = {"rounds": 1, "duration": 2.0, "idle_connections": 1000, "big_size": 64,
                 "small_size": 16, "idle_procs": 2, "broadcasts": 3, "import_runs": 5}
        for key, value in quick.items():
            if getattr(args, key) == defaults[key]:
                setattr(args, key, value)
    args.only = [w for w in args.only.split(",") if w] or list(WORKLOADS)
    for w in args.only:
        if w not in WORKLOADS:
            parser.error(f"unknown workload {w!r}; choose from {', '.join(WORKLOADS)}")
    args.impls = [i for i in args.impls.split(",") if i]
    for i in args.impls:
        if i not in IMPLS:
            parser.error(f"unknown implementation {i!r}; choose from {', '.join(IMPLS)}")
    args.loops = [x for x in args.loops.split(",") if x]
    for x in args.loops:
        if x not in LOOPS:
            parser.error(f"unknown event loop {x!r}; choose from {', '.join(LOOPS)}")
    return args


def check_tools(args: argparse.Namespace) -> None:
    global PINNING
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        PINNING = False
        log("WARNING: no taskset or fewer than 2 CPUs: running unpinned, figures are noisier")
    if {"hello", "json", "template"} & set(args.only) and shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu), "
                 "or leave out hello,json,template with --only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if "wsidle" in args.only and hard < args.idle_connections + 100:
        log(f"WARNING: the open-files limit is {hard}: the server cannot hold "
            f"{args.idle_connections} WebSockets (raise it: ulimit -Hn)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    args.python = resolve_python(args.python)
    check_tools(args)
    os.makedirs(args.cache_dir, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    logdir = os.path.join(args.cache_dir, "logs", stamp)
    os.makedirs(logdir, exist_ok=True)
    envs = build_envs(args.cache_dir, args.python, args.impls, args.inplace)
    versions = {i: impl_version(envs[i], i) for i in args.impls}
    log("versions: " + ", ".join(f"{i} {v}" for i, v in versions.items()) + f"; logs in {logdir}")
    ctx = Context(args, envs, logdir)
    ctx.data_dir = os.path.join(args.cache_dir, "data")
    os.makedirs(ctx.data_dir, exist_ok=True)

    fast: Optional[Proc] = None
    try:
        for workload in [w for w in WORKLOADS if w in args.only]:
            variants = [variant(b, loop) for loop in args.loops for b in args.impls
                        if takes_part(b, workload, loop)]
            if not variants:
                continue
            if workload == "client":
                ctx.fast_http_port = free_port()
                fast = Proc(_pin(CLIENT_CPU) + envs["drivers"]
                            + [os.path.join(SERVERS, "fast_server.py"),
                               "--mode", "http", "--port", str(ctx.fast_http_port)],
                            ctx.name("fast-http-server"), logdir)
                fast.expect("READY", 30)
            if workload == "wsecho" and not args.no_yardstick and "ceiling" not in args.impls:
                log("wsecho: the driver against a trivial server")
                wsecho_yardstick(ctx)
            for r in range(args.rounds):
                ctx.round = r
                for impl in interleave(variants, r):
                    log(f"{workload}: round {r + 1}/{args.rounds}, {impl}")
                    try:
                        RUNNERS[workload](ctx, impl)
                    except Exception as e:
                        ctx.notes.append(f"{workload}/{impl} round {r + 1} failed: {e}")
                        log(f"{workload}/{impl} FAILED: {e}")
            if fast is not None:
                fast.stop()
                fast = None
    finally:
        if fast is not None:
            fast.stop()

    shares = ctx.values.get(("wsecho", "driver CPU share"), {})
    if shares:
        ctx.notes.insert(0, "wsecho driver's own CPU use on its CPU (1.0 = saturated): " + ", ".join(
            f"{i} {median(v):.2f}" for i, v in shares.items()))
    load = os.getloadavg()
    if load[1] > 1.5:
        ctx.notes.append(f"machine load average at the end: {load[0]:.1f} / {load[1]:.1f} / "
                         f"{load[2]:.1f} (1/5/15 min) on {os.cpu_count()} CPUs: other work "
                         "competed for the CPUs, so single figures are noisy; ratios are "
                         "medians of per-round ratios, which cancels most of that drift")
    yard = ctx.values.get(("wsecho", "yardstick"), {}).get("trivial")
    if yard:
        best = max((median(v) or 0) for v in ctx.values.get(("wsecho", "messages/s"), {}).values()) \
            if ("wsecho", "messages/s") in ctx.values else 0
        ctx.notes.insert(0, f"wsecho driver against a trivial echo server: {median(yard):,.0f} msg/s"
                         + (f" ({median(yard) / best:.1f}x the fastest contestant, so the driver "
                            "is not the bottleneck)" if best else ""))
    tables = []
    verdicts: list[str] = []
    for loop in args.loops:
        headers, rows, found = table_rows(ctx, args.impls, loop)
        if rows:
            tables.append((loop, headers, rows))
            verdicts += found
    print()
    print("Machine: " + "; ".join(f"{k} {v}" for k, v in machine_description(ctx.python(args.impls[0]))))
    print("Versions: " + "; ".join(f"{i} {versions[i]}" for i in args.impls))
    print(f"Rounds: {args.rounds}, duration {args.duration:g} s")
    for loop, headers, rows in tables:
        print(f"\n{loop} event loop:\n")
        print(render_table(headers, rows))
    if ctx.notes:
        print("\nNotes:")
        for n in ctx.notes:
            print("  - " + n)
    if verdicts:
        print("\nTargets:")
        for v in verdicts:
            print("  " + v)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"|".join(k): v for k, v in ctx.values.items()}, f, indent=1)
    if args.write_results is not None:
        path = args.write_results or default_results_path(args.python)
        given = list(argv if argv is not None else sys.argv[1:])
        if "--json" in given:  # a local path: not part of how the figures were made
            i = given.index("--json")
            del given[i:i + 2]
        command = "python3 benchmarks/run.py " + " ".join(given)
        write_rst(path, ctx, tables, versions, command.strip())
        log(f"wrote {path}")
    return 0


def default_results_path(python: str) -> str:
    """RESULTS.rst for this script's interpreter, RESULTS-py3.X.rst for another."""
    tag = python_tag(python)
    if tag == python_tag(sys.executable):
        return os.path.join(HERE, "RESULTS.rst")
    return os.path.join(HERE, f"RESULTS-{tag}.rst")


if __name__ == "__main__":
    sys.exit(main())
