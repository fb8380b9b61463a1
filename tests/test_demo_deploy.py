"""End-to-end tests of demos/deploy: the chat demos on several processes.

Debian's ``redis-server`` and ``nginx`` run on ephemeral ports in temporary
directories; three processes of a chat demo (``--redis``, ``--xheaders``)
sit behind nginx, configured by ``demos/deploy/nginx.conf`` with only its
ports changed.  The tests check that a message said through one process
reaches the clients of all the others, long-polling and WebSocket, directly
and through nginx; that a browser chats through nginx; that a process killed
with SIGKILL loses nothing for the clients that come back through nginx; and
that nginx's client address reaches ``request.remote_ip``.

Without the two binaries (``apt-get install redis-server nginx``) or the
``redis`` package the tests are skipped, saying which is missing.
"""

import asyncio
import concurrent.futures
import contextlib
import grp
import http.client
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_demo_harness import (
    DEMOS,
    REPO,
    Demo,
    Response,
    Session,
    demo_env,
    free_port,
    launch_chromium,
)

REDIS_SERVER = "/usr/bin/redis-server"
NGINX = "/usr/sbin/nginx"
DEPLOY = DEMOS / "deploy"
CHAT = "chat/chatdemo.py"
WEBSOCKET = "websocket/chatdemo.py"


def need(binary: str, package: str) -> None:
    if not os.path.exists(binary):
        pytest.skip(f"{binary} is not installed (apt-get install {package})")


def wait_for_port(port: int, proc: "subprocess.Popen[bytes]", what: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise AssertionError(f"{what} exited with status {proc.returncode}:\n{text}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not listen on port {port}") from None
            time.sleep(0.05)


def stop(proc: "subprocess.Popen[bytes]") -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_redis(home: Path, port: int) -> "subprocess.Popen[bytes]":
    """redis-server on ``port``, keeping nothing on disk; returns once it listens."""
    log = home / "redis.log"
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(home), "--logfile", str(log)],
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, proc, "redis-server", log)
    except BaseException:
        stop(proc)
        raise
    return proc


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on an ephemeral port; yields its URL."""
    need(REDIS_SERVER, "redis-server")
    pytest.importorskip("redis", reason="the redis package is not installed (pip install redis)")
    port = free_port()
    proc = start_redis(tmp_path_factory.mktemp("redis"), port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The Redis server, emptied: each test starts with an empty room."""
    import redis

    with redis.Redis.from_url(redis_server) as client:
        client.flushdb()
    return redis_server


def nginx_site(listen: int, backends: list[int]) -> str:
    """demos/deploy/nginx.conf with our port and our processes' ports."""
    text = (DEPLOY / "nginx.conf").read_text()
    servers = re.findall(r"^ *server 127\.0\.0\.1:\d+[^;\n]*;\n", text, re.MULTILINE)
    assert servers, "nginx.conf has no upstream servers to replace"
    # Our ports, with the parameters of the configuration's first server.
    ours = "".join(
        re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{port}", servers[0]) for port in backends
    )
    text = text.replace(servers[0], ours, 1)
    for line in servers[1:]:
        text = text.replace(line, "", 1)
    text, count = re.subn(r"\blisten 80;", f"listen 127.0.0.1:{listen};", text)
    assert count == 1, "nginx.conf must listen on port 80 once"
    return text


class Nginx:
    """nginx in the foreground, in its own directory, serving the deploy site."""

    def __init__(self, home: Path, backends: list[int]) -> None:
        need(NGINX, "nginx")
        self.home = home
        self.port = free_port()
        self.backends = backends
        self.proc: subprocess.Popen[bytes] | None = None
        home.mkdir(parents=True, exist_ok=True)
        (home / "site.conf").write_text(nginx_site(self.port, backends))
        user = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        temps = "\n".join(
            f"    {kind}_temp_path {home / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (home / "nginx.conf").write_text(
            f"""daemon off;
worker_processes 1;
user {user} {group};
pid {home / "nginx.pid"};
error_log {self.error_log_path} info;
events {{ worker_connections 512; }}
http {{
    access_log {home / "access.log"};
{temps}
    include {home / "site.conf"};
}}
"""
        )

    @property
    def error_log_path(self) -> Path:
        return self.home / "error.log"

    def command(self, *extra: str) -> list[str]:
        return [NGINX, "-p", str(self.home), "-c", str(self.home / "nginx.conf"),
                "-e", str(self.error_log_path), *extra]  # fmt: skip

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> "Nginx":
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL)
        wait_for_port(self.port, self.proc, "nginx", self.error_log_path)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.proc is not None:
            stop(self.proc)
        if exc_info[0] is not None and self.error_log_path.exists():
            print(f"--- nginx error log ---\n{self.error_log_path.read_text()}")


class Cluster:
    def __init__(self, backends: list[Demo], nginx: Nginx) -> None:
        self.backends = backends
        self.nginx = nginx

    def url(self, path: str = "/") -> str:
        return self.nginx.url(path)


def backend(script: str, redis_url: str, *args: str, port: int | None = None) -> Demo:
    return Demo(
        script, f"--redis={redis_url}", "--xheaders", "--address=127.0.0.1", *args, port=port
    )


@contextlib.contextmanager
def cluster(
    script: str, redis_url: str, home: Path, *args: str, count: int = 3
) -> Iterator[Cluster]:
    """``count`` processes of ``script`` sharing ``redis_url``, behind nginx."""
    with contextlib.ExitStack() as stack:
        demos = [stack.enter_context(backend(script, redis_url, *args)) for _ in range(count)]
        nginx = stack.enter_context(Nginx(home / "nginx", [d.port for d in demos]))
        yield Cluster(demos, nginx)


# Long polling, as the page's JavaScript does it --------------------------------


def joined(base: str) -> Session:
    session = Session(base)
    page = session.get("/")
    assert page.status == 200, page
    assert session.cookie("_xsrf")
    return session


def say(session: Session, text: str) -> dict[str, Any]:
    response = session.post("/a/message/new", {"body": text})
    assert response.status == 200, response
    return response.json()


def poll_response(session: Session, cursor: str, timeout: float = 60) -> Response:
    return session.post("/a/message/updates", {"cursor": cursor}, timeout=timeout)


def poll(session: Session, cursor: str, timeout: float = 60) -> list[dict[str, Any]]:
    response = poll_response(session, cursor, timeout)
    assert response.status == 200, response
    return response.json()["messages"]


# WebSocket clients ---------------------------------------------------------------


async def ws_connect(base: str) -> Any:
    from tornado.websocket import websocket_connect

    return await websocket_connect(base.replace("http://", "ws://") + "chatsocket")


async def ws_receive(conn: Any, timeout: float = 30) -> list[dict[str, Any]] | None:
    """The messages of the next frame, or None when the connection closed."""
    frame = await asyncio.wait_for(conn.read_message(), timeout)
    return None if frame is None else json.loads(frame)["messages"]


async def ws_say(conn: Any, text: str) -> None:
    await conn.write_message(json.dumps({"body": text}))


# The deploy files ------------------------------------------------------------------


def test_nginx_configuration_is_valid(tmp_path: Path) -> None:
    nginx = Nginx(tmp_path, [free_port(), free_port(), free_port()])
    result = subprocess.run(nginx.command("-t"), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def unit_command(port: int, redis_url: str) -> list[str]:
    """ExecStart of chat@.service for instance ``port``, run from this checkout."""
    unit = (DEPLOY / "chat@.service").read_text()
    (line,) = re.findall(r"^ExecStart=(.*)$", unit, re.MULTILINE)
    argv = shlex.split(line.replace("%i", str(port)).replace("/srv/tornado", str(REPO)))
    assert argv[0] == "/usr/bin/python3"
    argv[0] = sys.executable
    return [re.sub(r"^--redis=.*", f"--redis={redis_url}", arg) for arg in argv]


def test_systemd_unit_starts_a_process_of_the_room(redis_url: str, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "chat.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(unit_command(port, redis_url), stdout=out,
                                stderr=subprocess.STDOUT, env=demo_env())  # fmt: skip
    try:
        wait_for_port(port, proc, "chat@.service's command", log)
        session = joined(f"http://127.0.0.1:{port}")
        say(session, "hello from a unit")
        assert "hello from a unit" in session.get("/").text
        assert f"http://127.0.0.1:{port}/" in log.read_text()
    finally:
        stop(proc)

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return
    # The unit as installed on this machine: a file named for its instance.
    unit = (DEPLOY / "chat@.service").read_text().replace("/srv/tornado", str(REPO))
    installed = tmp_path / f"chat@{port}.service"
    installed.write_text(unit)
    result = subprocess.run([analyze, "verify", str(installed)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "chat@" not in result.stderr, result.stderr


# One room, many processes ----------------------------------------------------------


def test_long_poll_message_reaches_waiters_on_every_process(
    redis_url: str, tmp_path: Path
) -> None:
    with cluster(CHAT, redis_url, tmp_path) as room:
        poster = joined(room.backends[0].url())
        first = say(poster, "first")
        # Waiting on the two other processes directly, and through nginx.
        waiters = [joined(b.url()) for b in room.backends[1:]]
        waiters += [joined(room.url()) for _ in range(3)]
        with concurrent.futures.ThreadPoolExecutor(len(waiters)) as pool:
            waiting = [pool.submit(poll, w, first["id"]) for w in waiters]
            time.sleep(1)
            assert not any(w.done() for w in waiting), "the polls must wait for news"
            second = say(poster, "second <i>")
            results = [w.result(timeout=60) for w in waiting]
        assert all([m["id"] for m in r] == [second["id"]] for r in results)
        assert "second &lt;i&gt;" in results[0][0]["html"]
        # Every process shows a newcomer the whole conversation.
        for base in [b.url() for b in room.backends] + [room.url()]:
            page = Session(base).get("/").text
            assert page.index("first") < page.index("second &lt;i&gt;")


def test_websocket_message_reaches_clients_on_every_process(
    redis_url: str, tmp_path: Path
) -> None:
    async def scenario(room: Cluster) -> None:
        poster = await ws_connect(room.backends[0].url())
        listeners = [await ws_connect(b.url()) for b in room.backends[1:]]
        listeners += [await ws_connect(room.url()) for _ in range(3)]
        await ws_say(poster, "to everyone, everywhere")
        for conn in [poster, *listeners]:
            messages = await ws_receive(conn)
            assert messages is not None
            assert [m["body"] for m in messages] == ["to everyone, everywhere"]
        # A message said through nginx comes back to the poster too.
        await ws_say(listeners[-1], "and back")
        for conn in [poster, *listeners]:
            messages = await ws_receive(conn)
            assert messages is not None and messages[0]["body"] == "and back"
        for conn in [poster, *listeners]:
            conn.close()

    with cluster(WEBSOCKET, redis_url, tmp_path) as room:
        asyncio.run(scenario(room))
        for demo in room.backends:
            assert "Traceback" not in demo.output()


def test_the_two_demos_serve_one_room(redis_url: str) -> None:
    async def scenario(chat: Demo, websocket: Demo) -> None:
        listener = await ws_connect(websocket.url())
        poster = joined(chat.url())
        said = say(poster, "from a long poll")
        messages = await ws_receive(listener)
        assert messages is not None and [m["id"] for m in messages] == [said["id"]]
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(poll, joined(chat.url()), said["id"])
            await asyncio.sleep(0.5)
            await ws_say(listener, "from a WebSocket")
            answer = await asyncio.wrap_future(waiting)
        assert [m["body"] for m in answer] == ["from a WebSocket"]
        listener.close()

    with backend(CHAT, redis_url) as chat, backend(WEBSOCKET, redis_url) as websocket:
        asyncio.run(scenario(chat, websocket))


def test_processes_reconnect_when_redis_restarts(tmp_path: Path) -> None:
    need(REDIS_SERVER, "redis-server")
    pytest.importorskip("redis", reason="the redis package is not installed (pip install redis)")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = start_redis(tmp_path, port)
    try:
        with backend(CHAT, url) as one, backend(CHAT, url) as two:
            before = say(joined(one.url()), "before Redis went away")
            os.kill(server.pid, signal.SIGKILL)
            server.wait(10)
            time.sleep(1.5)  # both notice, and try again every second
            server = start_redis(tmp_path, port)
            # The new Redis is empty; the processes still know what was said
            # before, and the waiter there is answered by news from the other.
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                waiting = pool.submit(poll, joined(two.url()), before["id"])
                time.sleep(0.5)
                after = say(joined(one.url()), "after Redis came back")
                assert [m["id"] for m in waiting.result(timeout=60)] == [after["id"]]
            assert "lost the Redis connection" in one.output() + two.output()
    finally:
        stop(server)


# Losing a process -----------------------------------------------------------------------


def kill(demo: Demo, signum: int = signal.SIGKILL) -> None:
    """Stop ``demo`` with ``signum``; SIGTERM must end it cleanly, by draining."""
    assert demo.proc is not None
    os.kill(demo.pid, signum)
    status = demo.proc.wait(30)
    if signum == signal.SIGTERM:
        assert status == 0, demo.output()


STOPS = [
    pytest.param(signal.SIGKILL, id="SIGKILL"),
    # systemctl stop or restart: the process drains (tornado.shutdown).
    pytest.param(signal.SIGTERM, id="SIGTERM"),
]


@pytest.mark.parametrize("signum", STOPS)
def test_stopped_process_loses_no_long_poll_message(
    signum: int, redis_url: str, tmp_path: Path
) -> None:
    with cluster(CHAT, redis_url, tmp_path) as room:
        clients = [joined(room.url()) for _ in range(6)]
        start = say(clients[0], "before the crash")
        with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
            waiting = []
            # One after the other: nginx's round robin puts two on each process.
            for client in clients:
                waiting.append(pool.submit(poll_response, client, start["id"]))
                time.sleep(0.2)
            time.sleep(0.5)
            kill(room.backends[0], signum)
            said = [say(clients[0], f"after the crash {i}") for i in range(3)]
            first_answers = [w.result(timeout=60) for w in waiting]
        statuses = sorted(r.status for r in first_answers)
        if signum == signal.SIGKILL:
            # The polls on the dead process failed (nginx answers 502), the
            # others got news at once.
            assert 502 in statuses and 200 in statuses, statuses
            assert set(statuses) == {200, 502}, statuses
        else:
            # The stopping process answered its polls (with nothing new).
            assert set(statuses) == {200}, statuses
            empty = [r for r in first_answers if not r.json()["messages"]]
            assert empty, "no poll was answered by the stopping process"
        expected = [m["id"] for m in said]
        for client, answer in zip(clients, first_answers, strict=True):
            # Each page keeps asking, through nginx, with its cursor.
            seen: list[str] = []
            if answer.status == 200:
                seen = [m["id"] for m in answer.json()["messages"]]
            while len(seen) < len(expected):
                seen += [m["id"] for m in poll(client, seen[-1] if seen else start["id"])]
            assert seen == expected

        # A process started again begins with the history kept in Redis.
        with backend(CHAT, redis_url, port=room.backends[0].port) as again:
            page = Session(again.url()).get("/").text
            assert all(text in page for text in ["before the crash", "after the crash 2"])
            assert [m["id"] for m in poll(joined(again.url()), start["id"])] == expected


@pytest.mark.parametrize("signum", STOPS)
def test_stopped_process_loses_no_websocket_message(
    signum: int, redis_url: str, tmp_path: Path
) -> None:
    async def scenario(room: Cluster) -> None:
        # One after the other: nginx's round robin puts one on each process.
        listeners = [await ws_connect(room.url()) for _ in room.backends]
        poster = await ws_connect(room.url())
        await ws_say(poster, "before the crash")
        start = None
        for conn in listeners:
            messages = await ws_receive(conn)
            assert messages is not None
            start = messages[0]["id"]
        kill(room.backends[0], signum)
        # The poster may have been on the dead process too: then it comes back.
        poster.close()
        poster = await ws_connect(room.url())
        expected = []
        for i in range(3):
            await ws_say(poster, f"after the crash {i}")
            messages = await ws_receive(poster)
            assert messages is not None
            expected.append(messages[-1]["id"])
        dropped = 0
        for conn in listeners:
            seen: list[str] = []
            while len(seen) < len(expected):
                messages = await ws_receive(conn)
                if messages is None:
                    # 1001 "going away" from a draining process; nothing
                    # (1006) from a killed one.
                    expected_code = 1001 if signum == signal.SIGTERM else None
                    assert conn.close_code == expected_code, conn.close_code
                    # The page reconnects through nginx and sends its cursor.
                    dropped += 1
                    conn = await ws_connect(room.url())
                    await conn.write_message(json.dumps({"cursor": seen[-1] if seen else start}))
                    continue
                seen += [m["id"] for m in messages]
            assert seen == expected
            conn.close()
        assert dropped == 1, "exactly one listener was on the killed process"
        poster.close()

    with cluster(WEBSOCKET, redis_url, tmp_path) as room:
        asyncio.run(scenario(room))


def test_rolling_restart_fails_no_request(redis_url: str, tmp_path: Path) -> None:
    """``systemctl restart chat@8001``, then 8002, then 8003, under traffic."""
    with cluster(CHAT, redis_url, tmp_path, "--poll_timeout=2") as room:
        poster, listener = joined(room.url()), joined(room.url())
        start = say(poster, "before the restarts")
        statuses: list[int] = []
        said: list[str] = []
        seen: list[str] = []
        posting_done = threading.Event()

        def post_loop() -> None:
            for i in range(10_000):
                if posting_done.is_set():
                    return
                reply = poster.post("/a/message/new", {"body": f"during {i}"})
                statuses.append(reply.status)
                if reply.status == 200:
                    said.append(reply.json()["id"])
                time.sleep(0.02)

        def poll_loop() -> None:
            cursor = start["id"]
            while not (posting_done.is_set() and len(seen) >= len(said)):
                reply = poll_response(listener, cursor)
                statuses.append(reply.status)
                if reply.status == 200:
                    messages = reply.json()["messages"]
                    seen.extend(m["id"] for m in messages)
                    if messages:
                        cursor = messages[-1]["id"]

        posting = threading.Thread(target=post_loop)
        polling = threading.Thread(target=poll_loop)
        posting.start()
        polling.start()
        with contextlib.ExitStack() as restarted:
            try:
                for old in room.backends:
                    # As the README says: one at a time, and once a process
                    # answers again, longer than nginx's fail_timeout (2 s)
                    # before the next.
                    time.sleep(3)
                    kill(old, signal.SIGTERM)
                    restarted.enter_context(
                        backend(CHAT, redis_url, "--poll_timeout=2", port=old.port)
                    )
                time.sleep(1)
            finally:
                posting_done.set()
                posting.join(60)
                polling.join(60)
        assert not polling.is_alive(), "the listener did not get every message"
        assert len(said) >= 20, said
        assert set(statuses) == {200}, sorted(set(statuses))
        assert seen == said


# In a real browser, through nginx -----------------------------------------------------


@pytest.mark.parametrize("script", [CHAT, WEBSOCKET])
def test_browsers_chat_through_nginx(script: str, redis_url: str, tmp_path: Path) -> None:
    with cluster(script, redis_url, tmp_path) as room, launch_chromium() as browser:
        alice = browser.new_context().new_page()
        bob = browser.new_context().new_page()
        alice.goto(room.url())
        bob.goto(room.url())

        def texts(page: Any) -> list[str]:
            return [t.strip() for t in page.locator("#inbox .message").all_inner_texts()]

        def send(page: Any, text: str) -> None:
            page.fill("#message", text)
            page.press("#message", "Enter")

        send(alice, "Hello from Alice")
        bob.locator("#inbox .message", has_text="Hello from Alice").wait_for(timeout=30000)
        send(bob, "Hi Alice")
        alice.locator("#inbox .message", has_text="Hi Alice").wait_for(timeout=30000)
        # A process dies; the pages on it reconnect through nginx.
        kill(room.backends[0])
        if script == WEBSOCKET:
            # A frame typed in the instant before the page sees its socket
            # close goes down with the dead process's connection (the
            # page cannot know it was not received): let the page on the
            # killed process see the close and reconnect (after half a
            # second) before typing, as its user would.
            time.sleep(1.5)
            for page in (alice, bob):
                page.wait_for_function(
                    "document.getElementById('status').textContent === ''", timeout=30000
                )
        send(alice, "Still there?")
        bob.locator("#inbox .message", has_text="Still there?").wait_for(timeout=60000)
        send(bob, "Yes")
        alice.locator("#inbox .message", has_text="Yes").wait_for(timeout=60000)
        assert texts(alice) == texts(bob) == ["Hello from Alice", "Hi Alice", "Still there?", "Yes"]


# The client's address -----------------------------------------------------------------


def test_client_address_reaches_remote_ip_through_nginx(redis_url: str, tmp_path: Path) -> None:
    with cluster(CHAT, redis_url, tmp_path, count=2) as room:
        probe = uuid.uuid4().hex
        # A client on another address than nginx's, which claims to be someone
        # else: nginx appends the real address, and that is what counts.
        conn = http.client.HTTPConnection(
            "127.0.0.1", room.nginx.port, timeout=30, source_address=("127.0.0.2", 0)
        )
        conn.request("GET", f"/?probe={probe}", headers={"X-Forwarded-For": "203.0.113.9"})
        assert conn.getresponse().status == 200
        conn.close()
        deadline = time.monotonic() + 15
        while not any(probe in d.output() for d in room.backends):
            assert time.monotonic() < deadline, "no process logged the request"
            time.sleep(0.05)
        (line,) = [ln for d in room.backends for ln in d.output().splitlines() if probe in ln]
        assert f"GET /?probe={probe} (127.0.0.2)" in line
