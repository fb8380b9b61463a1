"""Smoke tests of the benchmark harness (benchmarks/): its pure helpers, and
one short run of the drivers against our own package.  Nothing here is
timed: the figures are checked to exist and be positive, never compared."""

import os
import re
import shutil
import subprocess
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
# Appended, not prepended: benchmarks/h2.py must not shadow the h2 package.
sys.path.append(BENCH)

import benchlib  # noqa: E402

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:8888/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.12ms    1.01ms  20.33ms   90.12%
    Req/Sec     8.21k   312.40     8.60k    88.00%
  81734 requests in 10.01s, 16.13MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:   8165.43
Transfer/sec:      1.61MB
"""


def test_parse_wrk() -> None:
    result = benchlib.parse_wrk(WRK_OUTPUT)
    assert result.requests_per_sec == 8165.43
    assert result.requests == 81734
    assert result.non_2xx == 3
    assert result.socket_errors == 3


def test_parse_wrk_rejects_output_without_rate() -> None:
    with pytest.raises(ValueError, match="no Requests/sec"):
        benchlib.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_median_ratio() -> None:
    assert benchlib.median([3.0, 1.0, 2.0]) == 2.0
    assert benchlib.median([4.0, 1.0]) == 2.5
    assert benchlib.median([]) is None
    assert benchlib.ratio(5.0, 2.0) == 2.5
    assert benchlib.ratio(5.0, 0.0) is None
    assert benchlib.ratio(None, 2.0) is None


def test_verdicts() -> None:
    peers = benchlib.Goal(("aiohttp", "uvicorn"), 1.5)
    ceiling = benchlib.Goal(("ceiling",), 0.5)
    rate = benchlib.Metric("hello", "requests/s", "req/s", goals=(peers, ceiling))
    assert benchlib.verdict(rate, None, [1.5, 0.5]) == "PASS"
    assert benchlib.verdict(rate, None, [1.6, 0.4]) == "FAIL"
    assert benchlib.verdict(rate, None, [None, 0.9]) == "FAIL"
    assert peers.describe(True) == "ours/best(aiohttp,uvicorn) >= 1.50x"
    memory = benchlib.Metric("wsidle", "memory", "KiB", higher_is_better=False,
                             goals=(benchlib.Goal(("aiohttp",), 0.35),))
    assert benchlib.verdict(memory, None, [0.3]) == "PASS"
    assert benchlib.verdict(memory, None, [0.4]) == "FAIL"
    latency = benchlib.Metric("upload", "latency", "ms", higher_is_better=False, limit=250)
    assert benchlib.verdict(latency, 30.0) == "PASS"
    assert benchlib.verdict(latency, 300.0) == "FAIL"
    assert benchlib.verdict(latency, None) == "FAIL"
    plain = benchlib.Metric("upload", "throughput", "MB/s")
    assert benchlib.verdict(plain, 1.0) == ""


def test_goal_ratio_takes_the_best_peer_of_each_round() -> None:
    rate = benchlib.Metric("hello", "requests/s", "req/s")
    goal = benchlib.Goal(("aiohttp", "uvicorn"), 1.5)
    rounds = {"ours": {0: 300.0, 1: 200.0}, "aiohttp": {0: 100.0, 1: 100.0},
              "uvicorn": {0: 200.0}}
    # round 0: 300 / max(100, 200); round 1: 200 / 100 (uvicorn missing)
    assert benchlib.goal_ratio(rate, goal, rounds) == (1.5 + 2.0) / 2
    memory = benchlib.Metric("wsidle", "memory", "KiB", higher_is_better=False)
    suffixed = {k + "+uvloop": v for k, v in rounds.items()}
    assert benchlib.goal_ratio(memory, goal, suffixed, "+uvloop") == (3.0 + 2.0) / 2
    assert benchlib.goal_ratio(rate, benchlib.Goal(("ceiling",), 0.5), rounds) is None


def test_parse_importtime_adds_the_top_level_tornado_imports() -> None:
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       100 |        100 |   tornado\n"
        "import time:      5000 |      20000 | tornado.web\n"
        "import time:       300 |        300 |   json\n"
        "import time:       700 |       3000 | tornado.websocket\n"
        "import time:       900 |        900 | site\n"
    )
    assert benchlib.parse_importtime(stderr) == 23000.0
    with pytest.raises(ValueError, match="no top-level tornado import"):
        benchlib.parse_importtime("import time:       900 |        900 | site\n")


def test_interleave_rotates_the_first_implementation() -> None:
    impls = ("ours", "ref", "aiohttp")
    assert benchlib.interleave(impls, 0) == ["ours", "ref", "aiohttp"]
    assert benchlib.interleave(impls, 1) == ["ref", "aiohttp", "ours"]
    assert benchlib.interleave(impls, 3) == ["ours", "ref", "aiohttp"]
    assert benchlib.interleave((), 2) == []


def test_parse_proc_status_and_results() -> None:
    status = "Name:\tpython3\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t1\n"
    assert benchlib.parse_proc_status(status) == {"VmHWM": 20480 * 1024, "VmRSS": 10240 * 1024}
    assert benchlib.parse_key_values("RESULT msgs_per_sec=12.5 connections=50") == {
        "msgs_per_sec": 12.5, "connections": 50.0}
    with pytest.raises(ValueError, match="not a RESULT line"):
        benchlib.parse_key_values("READY 3")
    with pytest.raises(ValueError, match="without '='"):
        benchlib.parse_key_values("RESULT oops")


def test_tables() -> None:
    text = benchlib.render_table(["a", "bb"], [["xxx", "1"]])
    assert text.splitlines() == ["a    bb", "---  --", "xxx  1"]
    rst = benchlib.render_rst_table(["a", "bb"], [["", "1"]])
    assert rst.splitlines() == ["==  ==", "a   bb", "==  ==", "..  1", "==  =="]
    assert benchlib.fmt(12345.6) == "12,346"
    assert benchlib.fmt(None) == "-"
    assert benchlib.fmt_ratio(2.5) == "2.50x"
    assert benchlib.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert benchlib.percentile([], 99) is None


def _run(*args: str, tmp_path) -> str:
    cmd = [sys.executable, os.path.join(BENCH, "run.py"), "--inplace", "--impls", "ours",
           "--loops", "asyncio",
           "--rounds", "1", "--duration", "1", "--cache-dir", str(tmp_path), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=100)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def _figure(output: str, workload: str, metric: str) -> float:
    match = re.search(rf"^{workload}\s+{re.escape(metric)}\s+\S+\s+([0-9.,-]+)", output, re.M)
    assert match, f"no {workload}/{metric} row in:\n{output}"
    return float(match.group(1).replace(",", ""))


def test_quick_run_websockets_and_upload(tmp_path) -> None:
    output = _run("--only", "wsecho,wsidle,upload,download", "--no-yardstick",
                  "--idle-connections", "40", "--idle-procs", "2", "--broadcasts", "2",
                  "--big-size", "4", "--small-size", "1", tmp_path=tmp_path)
    assert _figure(output, "wsecho", "messages/s") > 0
    assert _figure(output, "wsidle", "broadcast to all") > 0
    assert _figure(output, "upload", "throughput") > 0
    assert _figure(output, "download", "throughput") > 0
    assert "failed" not in output


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_quick_run_hello_with_wrk(tmp_path) -> None:
    output = _run("--only", "hello", tmp_path=tmp_path)
    assert _figure(output, "hello", "requests/s") > 0
    assert "Non-2xx" not in output and "failed" not in output


def test_variants_and_who_takes_part() -> None:
    import run

    assert run.variant("ours", "asyncio") == "ours"
    assert run.variant("aiohttp", "uvloop") == "aiohttp+uvloop"
    assert run.split_variant("aiohttp+uvloop") == ("aiohttp", "uvloop")
    assert run.split_variant("ours") == ("ours", "asyncio")
    assert run.takes_part("uvicorn", "hello", "uvloop")
    assert not run.takes_part("uvicorn", "template", "asyncio")
    assert run.takes_part("ceiling", "wsecho", "asyncio")
    assert not run.takes_part("ceiling", "client", "asyncio")
    assert run.takes_part("ref", "import", "asyncio")
    assert not run.takes_part("ours", "import", "uvloop")
    assert not run.takes_part("aiohttp", "import", "asyncio")
    assert run.resolve_python(sys.executable)
