"""End-to-end test of demos/helloworld: the home page example."""

import time

from test_demo_harness import Demo, Session, run_script, running


def test_says_hello() -> None:
    with running("helloworld/helloworld.py") as demo:
        session = Session(demo.url())
        response = session.get("/")
        assert response.status == 200
        assert response.body == b"Hello, world"
        assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
        assert session.get("/nowhere").status == 404
        # Only GET is implemented.
        assert session.post("/").status == 405


def test_help_lists_the_port_option() -> None:
    result = run_script("helloworld/helloworld.py", "--help")
    assert "--port" in result.stdout + result.stderr
    assert "port to listen on" in result.stdout + result.stderr


def printed(demo: Demo, text: str, timeout: float = 15) -> bool:
    """Whether ``text`` appears in the demo's output within ``timeout`` s.

    (The demo logs its URL just after it starts listening, so the line may
    come a moment after the port accepts connections.)
    """
    deadline = time.monotonic() + timeout
    while text not in demo.output():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_prints_the_url_it_serves_on() -> None:
    with running("helloworld/helloworld.py") as demo:
        assert printed(demo, f"http://localhost:{demo.port}/")
