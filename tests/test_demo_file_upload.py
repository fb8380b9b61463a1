"""End-to-end tests of demos/file_upload: streaming uploads to disk.

The main test sends a file larger than Tornado's default 100 MB body limit
with the demo's own client and checks that neither the server nor the client
ever holds it in memory: their peak resident memory (VmHWM in
/proc/<pid>/status) stays far below the size of the file.
"""

import hashlib
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_demo_harness import DEMOS, demo_env, proc_status_kib, running

RECEIVER = "file_upload/file_receiver.py"
UPLOADER = DEMOS / "file_upload" / "file_uploader.py"
MiB = 1024 * 1024


def make_file(path: Path, size: int) -> str:
    """Write ``size`` bytes of varied content to ``path``; return its SHA-256."""
    digest = hashlib.sha256()
    block = hashlib.sha512(b"seed").digest() * (MiB // 64)
    written = 0
    with open(path, "wb") as f:
        counter = 0
        while written < size:
            # Vary every block so that a misplaced or repeated chunk shows.
            piece = counter.to_bytes(8, "big") + block[8:]
            piece = piece[: size - written]
            f.write(piece)
            digest.update(piece)
            written += len(piece)
            counter += 1
    return digest.hexdigest()


def put(port: int, path: str, body: bytes) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("PUT", path, body=body)
    return conn.getresponse()


class PeakMemory(threading.Thread):
    """Samples a process's resident memory until it exits."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.samples = 0

    def run(self) -> None:
        while True:
            try:
                self.peak_kib = max(self.peak_kib, proc_status_kib(self.pid, "VmHWM"))
            except (OSError, KeyError):
                return  # the process is gone (or a zombie without memory)
            self.samples += 1
            time.sleep(0.05)


def test_large_upload_keeps_memory_flat(tmp_path: Path) -> None:
    size = 150 * MiB  # more than the server's default 100 MB body limit
    source = tmp_path / "big.bin"
    expected_sha = make_file(source, size)
    uploads = tmp_path / "uploads"
    with running(RECEIVER, f"--upload_dir={uploads}") as demo:
        before_kib = demo.memory_kib()
        client = subprocess.Popen(
            [sys.executable, str(UPLOADER), f"--server={demo.url()}", str(source)],
            env=demo_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        client_memory = PeakMemory(client.pid)
        client_memory.start()
        out, err = client.communicate(timeout=300)
        client_memory.join(5)
        assert client.returncode == 0, err
        server_peak_kib = demo.memory_kib()

    assert f"big.bin: {size} bytes sha256={expected_sha}" in out
    stored = uploads / "big.bin"
    assert stored.stat().st_size == size
    digest = hashlib.sha256()
    with open(stored, "rb") as f:
        for block in iter(lambda: f.read(4 * MiB), b""):
            digest.update(block)
    assert digest.hexdigest() == expected_sha
    assert [p.name for p in uploads.iterdir()] == ["big.bin"]  # no temporary left

    # "Well below the file size": a third of it at most, for the whole
    # process, interpreter included (about 35 MB here).  What the transfer
    # itself adds is checked more tightly below.
    limit_kib = size // 1024 // 3
    print(f"server VmHWM {before_kib} -> {server_peak_kib} KiB, client peak {client_memory.peak_kib} KiB")
    assert server_peak_kib < limit_kib, f"server peak RSS {server_peak_kib} KiB"
    assert server_peak_kib - before_kib < 16 * 1024, "the server grew while receiving"
    assert client_memory.samples > 0
    assert client_memory.peak_kib < limit_kib, f"uploader peak RSS {client_memory.peak_kib} KiB"


def test_small_upload_and_reply(tmp_path: Path) -> None:
    with running(RECEIVER, f"--upload_dir={tmp_path}") as demo:
        response = put(demo.port, "/upload/hello.txt", b"hello, world\n")
        assert response.status == 201
        reply = json.loads(response.read())
        assert reply == {
            "name": "hello.txt",
            "size": 13,
            "sha256": hashlib.sha256(b"hello, world\n").hexdigest(),
        }
        assert (tmp_path / "hello.txt").read_bytes() == b"hello, world\n"
        # An upload to the same name replaces the file.
        assert put(demo.port, "/upload/hello.txt", b"bye").status == 201
        assert (tmp_path / "hello.txt").read_bytes() == b"bye"
        # An empty file is a file too.
        assert put(demo.port, "/upload/empty", b"").status == 201
        assert (tmp_path / "empty").read_bytes() == b""


@pytest.mark.parametrize("name", [".hidden", "..", "a%2Fb", "%2E%2E%2Fescape", "-x" * 200])
def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    uploads = tmp_path / "uploads"
    with running(RECEIVER, f"--upload_dir={uploads}") as demo:
        response = put(demo.port, "/upload/" + name, b"data")
        assert response.status in (400, 404)
    assert not any(tmp_path.rglob("escape"))
    assert not uploads.exists() or not any(uploads.iterdir())


def test_only_put_is_allowed(tmp_path: Path) -> None:
    with running(RECEIVER, f"--upload_dir={tmp_path}") as demo:
        conn = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=30)
        conn.request("GET", "/upload/x")
        assert conn.getresponse().status == 405
        conn = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=30)
        conn.request("GET", "/")
        index = conn.getresponse()
        assert index.status == 200 and b"curl -T" in index.read()


def test_interrupted_upload_leaves_nothing(tmp_path: Path) -> None:
    with running(RECEIVER, f"--upload_dir={tmp_path}") as demo:
        with socket.create_connection(("127.0.0.1", demo.port)) as raw:
            raw.sendall(
                b"PUT /upload/partial.bin HTTP/1.1\r\nHost: x\r\n"
                b"Content-Length: 1000000\r\n\r\n" + b"x" * 300_000
            )
            # Wait until the server has started writing the temporary file.
            deadline = time.monotonic() + 15
            while not list(tmp_path.iterdir()) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert list(tmp_path.iterdir()), "the upload never reached the disk"
        deadline = time.monotonic() + 15
        while list(tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(tmp_path.iterdir()) == []
        assert put(demo.port, "/upload/next.bin", b"ok").status == 201
        assert demo.alive()


def test_upload_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    with running(RECEIVER, f"--upload_dir={tmp_path}", "--max_size=1000") as demo:
        assert put(demo.port, "/upload/ok.bin", b"x" * 1000).status == 201
        try:
            status = put(demo.port, "/upload/big.bin", b"x" * 5000).status
        except (ConnectionError, http.client.HTTPException):
            status = None  # the server may hang up instead of answering
        assert status != 201
        # The server cleans up right after refusing; give it a moment.
        deadline = time.monotonic() + 15
        while len(list(tmp_path.iterdir())) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.bin"]


def test_uploader_reports_failures(tmp_path: Path) -> None:
    source = tmp_path / "bad name!"
    source.write_bytes(b"data")
    with running(RECEIVER, f"--upload_dir={tmp_path / 'up'}") as demo:
        result = subprocess.run(
            [sys.executable, str(UPLOADER), f"--server={demo.url()}", str(source)],
            env=demo_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert "failed" in result.stderr
    usage = subprocess.run(
        [sys.executable, str(UPLOADER)], env=demo_env(), capture_output=True, text=True, timeout=60, check=False
    )
    assert usage.returncode == 2 and "usage" in usage.stderr



def test_upload_from_the_browser_page(tmp_path: Path) -> None:
    from test_demo_harness import launch_chromium

    source = tmp_path / "photo 1.jpg"
    source.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    uploads = tmp_path / "uploads"
    with running(RECEIVER, f"--upload_dir={uploads}") as demo, launch_chromium() as browser:
        page = browser.new_context().new_page()
        page.goto(demo.url())
        page.set_input_files("#file", str(source))
        page.click("#send")
        page.locator("#status", has_text="Stored").wait_for(timeout=15000)
        assert page.inner_text("#status") == "Stored photo_1.jpg"
    assert (uploads / "photo_1.jpg").read_bytes() == source.read_bytes()
