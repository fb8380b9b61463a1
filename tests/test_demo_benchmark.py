"""End-to-end tests of demos/benchmark: its server and its load generators.

These check that the benchmark runs and reports a rate, never how fast it is:
speed depends on the machine.
"""

import re
import shutil

import pytest
from test_demo_harness import Session, free_port, run_script, running

SCRIPT = "benchmark/benchmark.py"


def test_server_pages() -> None:
    with running(SCRIPT, "--serve") as demo:
        session = Session(demo.url())
        hello = session.get("/")
        assert hello.status == 200 and hello.body == b"Hello, world"
        page = session.get("/template")
        assert page.status == 200
        assert page.text.count("<li ") == 20
        assert "Item 19 &amp; &lt;b&gt;bold&lt;/b&gt;" in page.text
        assert '<li class="odd">Item 1 ' in page.text


@pytest.mark.parametrize(
    "client, path", [("httpclient", "/"), ("keepalive", "/"), ("keepalive", "/template")]
)
def test_reports_requests_per_second(client: str, path: str) -> None:
    result = run_script(
        SCRIPT,
        f"--port={free_port()}",
        f"--client={client}",
        f"--path={path}",
        "--requests=300",
        "--concurrency=5",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(
        rf"300 requests to {re.escape(path)} with {client}, concurrency 5: [\d.]+ s, (\d+) requests/s$",
        result.stdout,
        re.MULTILINE,
    )
    assert match, result.stdout
    assert int(match.group(1)) > 0
    assert "failed" not in result.stdout


def test_unknown_client_is_an_error() -> None:
    result = run_script(SCRIPT, f"--port={free_port()}", "--client=carrier-pigeon")
    assert result.returncode != 0
    assert "unknown --client=carrier-pigeon" in result.stderr


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_with_wrk() -> None:
    result = run_script(SCRIPT, f"--port={free_port()}", "--client=wrk", "--duration=2", "--concurrency=4")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\d+ requests/s$", result.stdout, re.MULTILINE)
