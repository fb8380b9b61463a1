"""End-to-end tests of demos/chat, the long-polling chat room.

The HTTP tests play the part of the page's JavaScript; the browser tests run
the real page in headless Chromium.
"""

import concurrent.futures
import html
import re
import socket
import time
from typing import Any

import pytest
from test_demo_harness import Demo, Session, launch_chromium, running

SCRIPT = "chat/chatdemo.py"


def joined(demo: Demo) -> Session:
    """A client that has loaded the page, and so holds the XSRF cookie."""
    session = Session(demo.url())
    page = session.get("/")
    assert page.status == 200, page
    assert session.cookie("_xsrf"), "the page must set the _xsrf cookie"
    return session


def say(session: Session, text: str) -> dict[str, Any]:
    response = session.post("/a/message/new", {"body": text})
    assert response.status == 200, response
    message = response.json()
    assert message["body"] == text
    return message


def poll(session: Session, cursor: str = "", timeout: float = 30) -> list[dict[str, Any]]:
    response = session.post("/a/message/updates", {"cursor": cursor}, timeout=timeout)
    assert response.status == 200, response
    return response.json()["messages"]


def test_page_has_the_message_form() -> None:
    with running(SCRIPT) as demo:
        page = Session(demo.url()).get("/")
        assert page.status == 200
        assert 'id="messageform"' in page.text
        assert 'name="_xsrf"' in page.text
        assert re.search(r'src="/static/chat\.js\?v=\w+"', page.text)
        script = Session(demo.url()).get("/static/chat.js")
        assert script.status == 200 and b"/a/message/updates" in script.body


def test_posting_needs_the_xsrf_token() -> None:
    with running(SCRIPT) as demo:
        session = joined(demo)
        response = session.post("/a/message/new", {"body": "sneaky"}, xsrf=False)
        assert response.status == 403
        assert "sneaky" not in Session(demo.url()).get("/").text


def test_waiting_poll_gets_a_message_posted_later() -> None:
    with running(SCRIPT) as demo:
        alice, bob = joined(demo), joined(demo)
        first = say(alice, "first")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            # Bob has seen "first": his poll waits for the next message.
            waiting = pool.submit(poll, bob, first["id"])
            time.sleep(0.3)
            assert not waiting.done(), "the poll must wait while there is no news"
            second = say(alice, "second <b>bold</b>")
            messages = waiting.result(timeout=30)
        assert [m["id"] for m in messages] == [second["id"]]
        # The server renders the HTML once, escaping what the user typed.
        assert "&lt;b&gt;bold&lt;/b&gt;" in messages[0]["html"]
        assert "<b>" not in messages[0]["html"]


def test_cursor_catches_up_on_missed_messages() -> None:
    with running(SCRIPT) as demo:
        session = joined(demo)
        ids = [say(session, f"message {i}")["id"] for i in range(5)]
        assert [m["id"] for m in poll(session, ids[1])] == ids[2:]
        assert [m["id"] for m in poll(session, "")] == ids
        # A cursor the server no longer knows gets the whole history.
        assert [m["id"] for m in poll(session, "forgotten")] == ids


def test_history_is_bounded_and_shown_to_newcomers() -> None:
    with running(SCRIPT, "--history=3") as demo:
        session = joined(demo)
        for i in range(5):
            say(session, f"line {i}")
        page = Session(demo.url()).get("/").text
        assert "line 0" not in page and "line 1" not in page
        assert all(f"line {i}" in page for i in (2, 3, 4))
        assert [m["body"] for m in poll(session)] == ["line 2", "line 3", "line 4"]


def test_poll_times_out_with_no_messages() -> None:
    with running(SCRIPT, "--poll_timeout=0.5") as demo:
        session = joined(demo)
        last = say(session, "hello")["id"]
        assert poll(session, last) == []


def test_form_post_without_javascript_redirects_back() -> None:
    with running(SCRIPT) as demo:
        session = joined(demo)
        response = session.post("/a/message/new", {"body": "no js", "next": "/"})
        assert response.status == 302
        assert response.headers["Location"] == "/"
        page = session.get("/").text
        assert "no js" in page


def test_empty_message_is_refused() -> None:
    with running(SCRIPT) as demo:
        session = joined(demo)
        assert session.post("/a/message/new", {"body": "   "}).status == 400
        assert session.post("/a/message/new", {}).status == 400


def test_links_in_messages_are_clickable() -> None:
    with running(SCRIPT) as demo:
        message = say(joined(demo), "see http://example.com/x?a=1&b=2")
        assert '<a href="http://example.com/x?a=1&amp;b=2">' in message["html"]


def test_client_leaving_during_a_poll_is_harmless() -> None:
    with running(SCRIPT) as demo:
        session = joined(demo)
        last = say(session, "before")["id"]
        token = session.cookie("_xsrf")
        body = f"cursor={last}&_xsrf={token}".encode()
        # Start polls by hand and hang up while the server is waiting.
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", demo.port)) as raw:
                raw.sendall(
                    b"POST /a/message/updates HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\n"
                    + f"Cookie: _xsrf={token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                time.sleep(0.2)
        time.sleep(0.2)
        after = say(session, "after")
        assert [m["id"] for m in poll(session, last)] == [after["id"]]
        assert demo.alive()
        assert "Traceback" not in demo.output()


# In a real browser ----------------------------------------------------------


def inbox_texts(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#inbox .message").all_inner_texts()]


def test_message_typed_in_one_browser_appears_in_another() -> None:
    with running(SCRIPT) as demo, launch_chromium() as browser:
        alice = browser.new_context().new_page()
        bob = browser.new_context().new_page()
        alice.goto(demo.url())
        bob.goto(demo.url())

        alice.fill("#message", "Hello from Alice <3")
        alice.press("#message", "Enter")
        bob.locator("#inbox .message", has_text="Hello from Alice <3").wait_for(timeout=15000)
        # The sender sees it once, and the input box is cleared for the next line.
        alice.locator("#inbox .message", has_text="Hello from Alice").wait_for(timeout=15000)
        assert inbox_texts(alice) == ["Hello from Alice <3"]
        assert alice.input_value("#message") == ""

        bob.fill("#message", "Hi Alice")
        bob.click("button[type=submit]")
        alice.locator("#inbox .message", has_text="Hi Alice").wait_for(timeout=15000)
        assert inbox_texts(alice) == ["Hello from Alice <3", "Hi Alice"]
        assert inbox_texts(bob) == ["Hello from Alice <3", "Hi Alice"]

        # Someone who opens the page later sees the conversation so far.
        carol = browser.new_context().new_page()
        carol.goto(demo.url())
        assert inbox_texts(carol) == ["Hello from Alice <3", "Hi Alice"]
        # Text typed in the box is never interpreted as HTML.
        assert carol.locator("#inbox b").count() == 0
        assert html.escape("<3") in carol.inner_html("#inbox")


def test_browser_catches_up_after_the_server_comes_back() -> None:
    with launch_chromium() as browser:
        demo = Demo(SCRIPT).start()
        try:
            page = browser.new_context().new_page()
            page.goto(demo.url())
            page.fill("#message", "before the restart")
            page.press("#message", "Enter")
            page.locator("#inbox .message", has_text="before the restart").wait_for(timeout=15000)
            demo.stop()
            # The page notices and keeps retrying until the server is back.
            page.locator("#status", has_text="retrying").wait_for(timeout=15000)
            demo = Demo(SCRIPT, port=demo.port).start()
            other = Session(demo.url())
            other.get("/")
            say(other, "after the restart")
            page.locator("#inbox .message", has_text="after the restart").wait_for(timeout=45000)
        finally:
            demo.stop()


@pytest.mark.parametrize("count", [20])
def test_many_waiting_polls_are_all_answered(count: int) -> None:
    with running(SCRIPT) as demo:
        sessions = [joined(demo) for _ in range(count)]
        last = say(sessions[0], "start")["id"]
        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            waiting = [pool.submit(poll, s, last) for s in sessions]
            time.sleep(0.5)
            news = say(sessions[0], "news for everyone")
            results = [w.result(timeout=30) for w in waiting]
        assert all([m["id"] for m in r] == [news["id"]] for r in results)


def test_prints_the_url_it_serves_on() -> None:
    with running(SCRIPT) as demo:
        assert demo.printed(f"http://localhost:{demo.port}/")
        assert "Redis" not in demo.output()


def test_help_documents_redis_and_xheaders() -> None:
    from test_demo_harness import run_script

    result = run_script(SCRIPT, "--help")
    text = result.stdout + result.stderr
    assert "--redis" in text and "--xheaders" in text


def test_sigterm_answers_waiting_polls_and_exits() -> None:
    import signal

    with running(SCRIPT) as demo:
        session = joined(demo)
        last = say(session, "hello")["id"]
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(poll, session, last)
            time.sleep(0.5)
            assert not waiting.done()
            started = time.monotonic()
            assert demo.proc is not None
            demo.proc.send_signal(signal.SIGTERM)
            # Answered at once, with nothing new: the page polls again.
            assert waiting.result(timeout=30) == []
            assert demo.proc.wait(30) == 0
        # Far less than the poll's 60 s, or the drain's 10 s.
        assert time.monotonic() - started < 8
        assert "Traceback" not in demo.output()
