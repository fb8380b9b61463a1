"""End-to-end tests of demos/websocket, the chat room over WebSocket."""

import asyncio
import json
from typing import Any

from test_demo_harness import Demo, Session, launch_chromium, running

SCRIPT = "websocket/chatdemo.py"


async def connect(port: int, **kwargs: Any) -> Any:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    request = HTTPRequest(f"ws://127.0.0.1:{port}/chatsocket", **kwargs)
    return await websocket_connect(request)


async def receive(conn: Any) -> list[dict[str, Any]]:
    frame = await asyncio.wait_for(conn.read_message(), 15)
    assert frame is not None, "the server closed the connection"
    return json.loads(frame)["messages"]


def test_page_renders_history() -> None:
    with running(SCRIPT) as demo:
        page = Session(demo.url()).get("/")
        assert page.status == 200
        assert 'id="messageform"' in page.text
        assert "/chatsocket" in Session(demo.url()).get("/static/chat.js").text


def test_message_is_broadcast_to_every_connection() -> None:
    async def scenario(port: int) -> None:
        alice, bob = await connect(port), await connect(port)
        await alice.write_message(json.dumps({"body": "hi <everyone>"}))
        for conn in (alice, bob):
            (message,) = await receive(conn)
            assert message["body"] == "hi <everyone>"
            assert "hi &lt;everyone&gt;" in message["html"]
        alice.close()
        # The room goes on without Alice.
        await bob.write_message(json.dumps({"body": "still here"}))
        (message,) = await receive(bob)
        assert message["body"] == "still here"
        bob.close()

    with running(SCRIPT) as demo:
        asyncio.run(scenario(demo.port))
        page = Session(demo.url()).get("/").text
        assert "hi &lt;everyone&gt;" in page and "still here" in page
        assert "Traceback" not in demo.output()


def test_cursor_replays_missed_messages() -> None:
    async def scenario(port: int) -> None:
        writer = await connect(port)
        ids = []
        for i in range(4):
            await writer.write_message(json.dumps({"body": f"m{i}"}))
            ids.append((await receive(writer))[0]["id"])
        late = await connect(port)
        await late.write_message(json.dumps({"cursor": ids[1]}))
        assert [m["id"] for m in await receive(late)] == ids[2:]
        writer.close()
        late.close()

    with running(SCRIPT) as demo:
        asyncio.run(scenario(demo.port))


def test_bad_frames_close_the_connection() -> None:
    async def scenario(port: int) -> None:
        conn = await connect(port)
        await conn.write_message("this is not JSON")
        assert await asyncio.wait_for(conn.read_message(), 15) is None
        assert conn.close_code == 1003

    with running(SCRIPT) as demo:
        asyncio.run(scenario(demo.port))


def test_other_origins_are_refused() -> None:
    async def scenario(port: int) -> None:
        from tornado.httpclient import HTTPClientError

        try:
            await connect(port, headers={"Origin": "http://evil.example"})
        except HTTPClientError as e:
            assert e.code == 403
        else:
            raise AssertionError("a cross-origin WebSocket was accepted")

    with running(SCRIPT) as demo:
        asyncio.run(scenario(demo.port))


def test_chat_between_two_browsers() -> None:
    with running(SCRIPT) as demo, launch_chromium() as browser:
        alice = browser.new_context().new_page()
        bob = browser.new_context().new_page()
        alice.goto(demo.url())
        bob.goto(demo.url())
        alice.fill("#message", "ping over a websocket")
        alice.press("#message", "Enter")
        bob.locator("#inbox .message", has_text="ping over a websocket").wait_for(timeout=15000)
        bob.fill("#message", "pong")
        bob.press("#message", "Enter")
        alice.locator("#inbox .message", has_text="pong").wait_for(timeout=15000)
        assert alice.locator("#inbox .message").all_inner_texts() == [
            "ping over a websocket",
            "pong",
        ]


def test_prints_the_url_it_serves_on() -> None:
    with running(SCRIPT) as demo:
        assert demo.printed(f"http://localhost:{demo.port}/")
        assert "Redis" not in demo.output()


def test_help_documents_redis_and_xheaders() -> None:
    from test_demo_harness import run_script

    result = run_script(SCRIPT, "--help")
    text = result.stdout + result.stderr
    assert "--redis" in text and "--xheaders" in text


def test_sigterm_closes_sockets_with_going_away() -> None:
    import signal

    async def scenario(demo: Demo) -> None:
        conn = await connect(demo.port)
        assert demo.proc is not None
        demo.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(conn.read_message(), 15) is None
        assert conn.close_code == 1001

    with running(SCRIPT) as demo:
        asyncio.run(scenario(demo))
        assert demo.proc is not None and demo.proc.wait(30) == 0
        assert "Traceback" not in demo.output()
