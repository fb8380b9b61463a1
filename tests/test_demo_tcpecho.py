"""End-to-end test of demos/tcpecho: the server started as a user would
(``python demos/tcpecho/server.py --port N``), driven by TCPClient and by
the demo's own client script."""

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

from test_demo_harness import DEMOS, demo_env, free_port, run_script

from tornado.iostream import StreamClosedError
from tornado.tcpclient import TCPClient


@contextlib.contextmanager
def echo_server(*args: str) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(DEMOS / "tcpecho" / "server.py"), "--port", str(port), *args],
        env=demo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not start listening"
                time.sleep(0.05)
        yield port
        assert proc.poll() is None, "the server died"
    finally:
        proc.terminate()
        proc.wait(10)


def test_echoes_lines_to_concurrent_clients() -> None:
    async def client(port: int, n: int) -> list[bytes]:
        stream = await TCPClient().connect("127.0.0.1", port)
        replies = []
        for i in range(3):
            line = b"client %d line %d " % (n, i) + b"x" * (n * 1000) + b"\n"
            await stream.write(line)
            replies.append(await stream.read_until(b"\n"))
            assert replies[-1] == line
        stream.close()
        return replies

    async def main(port: int) -> None:
        results = await asyncio.gather(*(client(port, n) for n in range(10)))
        assert sum(len(r) for r in results) == 30

    with echo_server() as port:
        asyncio.run(main(port))


def test_overlong_line_ends_only_that_connection() -> None:
    async def main(port: int) -> None:
        tcp = TCPClient()
        greedy = await tcp.connect("127.0.0.1", port)
        polite = await tcp.connect("127.0.0.1", port)
        greedy.write(b"y" * 5000)  # no newline, beyond --max_line
        try:
            await asyncio.wait_for(greedy.read_until_close(), 10)
        except StreamClosedError:
            pass  # reset by the server: closed all the same
        await polite.write(b"still here\n")
        assert await polite.read_until(b"\n") == b"still here\n"
        polite.close()

    with echo_server("--max_line", "1000") as port:
        asyncio.run(main(port))


def test_client_script() -> None:
    with echo_server() as port:
        result = run_script(
            "tcpecho/client.py", "--port", str(port), "--message", "hello there"
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == "Response from server: hello there\n"
        result = run_script("tcpecho/client.py", f"--port={port}", "one", "two")
        assert result.stdout.splitlines() == [
            "Response from server: one",
            "Response from server: two",
        ]


def test_client_script_reports_refused_connection() -> None:
    result = run_script("tcpecho/client.py", "--port", str(free_port()))
    assert result.returncode == 1
    assert "could not connect to 127.0.0.1" in result.stderr
    assert "Connection refused" in result.stderr
