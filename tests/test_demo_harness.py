"""Running the demos as a user would, for the ``test_demo_*`` tests.

:class:`Demo` starts ``python demos/<name>/<script>.py --port=N`` in a child
process on a free port, waits until the port accepts connections, and stops
the process at the end, showing its output if the test failed.
:class:`Session` is a tiny HTTP client with a cookie jar that does not
follow redirects, so a test sees every status code the demo sends.
:func:`launch_chromium` opens Debian's Chromium through Playwright for the
browser tests.

Importing this module needs nothing but the standard library; the tests at
the bottom check the harness itself.
"""

import contextlib
import http.cookiejar
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMOS = REPO / "demos"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_env() -> dict[str, str]:
    """The environment for a demo: this checkout's ``tornado`` comes first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONSTARTUP", None)
    return env


def run_script(script: str, *args: str, timeout: float = 120, **kwargs: Any) -> "subprocess.CompletedProcess[str]":
    """Run a demo script to completion and return its result (output as text)."""
    return subprocess.run(
        [sys.executable, str(DEMOS / script), *args],
        env=demo_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,  # callers look at returncode and output themselves
        **kwargs,
    )


class _PortTaken(Exception):
    """The demo could not bind the free port we picked for it."""


class Demo:
    """A demo server running in a child process.

    ``Demo("chat/chatdemo.py", "--history=5")`` runs
    ``python demos/chat/chatdemo.py --port=<free port> --history=5``.
    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        script: str,
        *args: str,
        port: int | None = None,
        cwd: str | Path | None = None,
        startup_timeout: float = 60,
    ) -> None:
        self.script = DEMOS / script
        self.args = list(args)
        self.port = port or free_port()
        # A port we chose may be taken between our probe and the demo's
        # bind (by any other process on the machine): start() then tries
        # another.
        self._port_chosen = port is None
        self.cwd = cwd
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        # Kept open for the demo's whole life, closed in __exit__.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> "Demo":
        for _ in range(3):
            try:
                return self._start()
            except _PortTaken:
                self.port = free_port()
        return self._start()

    def _start(self) -> "Demo":
        assert self.script.exists(), f"{self.script} is missing"
        self._log.seek(0)
        self._log.truncate()
        self.proc = subprocess.Popen(
            [sys.executable, str(self.script), f"--port={self.port}", *self.args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.cwd,
            env=demo_env(),
        )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.proc.poll() is not None:
                if self._port_chosen and "Address already in use" in self.output():
                    raise _PortTaken(self.port)
                raise AssertionError(
                    f"{self.script.name} exited with status {self.proc.returncode}"
                    f" before listening on port {self.port}:\n{self.output()}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(
                        f"{self.script.name} did not listen on port {self.port}"
                        f" within {self.startup_timeout} s:\n{self.output()}"
                    ) from None
                time.sleep(0.05)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        """Everything the demo printed so far (stdout and stderr)."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", errors="replace")

    def printed(self, text: str, timeout: float = 15) -> bool:
        """Whether ``text`` appears in the demo's output within ``timeout`` s.

        (A demo logs its URL just after it starts listening, so the line
        may come a moment after the port accepts connections.)
        """
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def memory_kib(self, field: str = "VmHWM") -> int:
        """A memory figure of the running demo from /proc (peak RSS by default)."""
        return proc_status_kib(self.pid, field)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if typ is not None:
            # pytest shows stdout of failing tests: the demo's log explains a lot.
            print(f"--- output of {self.script.name} ---\n{self.output()}")
        self._log.close()


def proc_status_kib(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/<pid>/status, such as VmHWM or VmRSS."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(f"{field} not in /proc/{pid}/status")


@contextlib.contextmanager
def running(script: str, *args: str, **kwargs: Any) -> Iterator[Demo]:
    with Demo(script, *args, **kwargs) as demo:
        yield demo


class Response:
    def __init__(self, status: int, headers: Any, body: bytes, url: str) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        import json

        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.url} {self.body[:200]!r}>"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Session:
    """An HTTP client with cookies, like one browser tab without JavaScript."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def cookie(self, name: str) -> str | None:
        for cookie in self.jar:
            if cookie.name == name:
                return cookie.value
        return None

    def request(
        self,
        method: str,
        path: str,
        fields: Mapping[str, str] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        xsrf: bool = True,
        timeout: float = 30,
    ) -> Response:
        """Send a request; ``fields`` are form-encoded (with ``_xsrf`` added)."""
        headers = dict(headers or {})
        if fields is not None:
            fields = dict(fields)
            token = self.cookie("_xsrf")
            if xsrf and token is not None:
                fields.setdefault("_xsrf", token)
            body = urllib.parse.urlencode(fields).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        url = path if path.startswith("http") else self.base + path
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with self._opener.open(request, timeout=timeout) as reply:
                return Response(reply.status, reply.headers, reply.read(), url)
        except urllib.error.HTTPError as error:
            with error:
                return Response(error.code, error.headers, error.read(), url)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, fields: Mapping[str, str] | None = None, **kwargs: Any) -> Response:
        return self.request("POST", path, fields=fields if fields is not None else {}, **kwargs)


def chromium_available() -> bool:
    if not os.path.exists(CHROMIUM):
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def skip_without_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")


@contextlib.contextmanager
def launch_chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; yields the browser.

    Each ``browser.new_context()`` is a fresh profile, like another person's
    browser: contexts share no cookies or storage.
    """
    skip_without_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


# Tests of the harness itself ---------------------------------------------------


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_demo_that_exits_early_is_reported(tmp_path: Path) -> None:
    demo = Demo("helloworld/helloworld.py", "--no_such_option=1")
    with pytest.raises(AssertionError, match="exited with status"):
        demo.start()


def test_every_demo_has_a_test() -> None:
    tested = {p.name[len("test_demo_") : -3] for p in Path(__file__).parent.glob("test_demo_*.py")}
    demos = {p.name for p in DEMOS.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    # tcpecho and its test belong to the owner of tornado.tcpserver.
    demos.discard("tcpecho")
    missing: list[str] = sorted(demos - tested)
    assert not missing, f"demos without tests/test_demo_<name>.py: {missing}"
