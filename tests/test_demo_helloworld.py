"""End-to-end test of demos/helloworld: the home page example."""


from test_demo_harness import Session, run_script, running


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


def test_prints_the_url_it_serves_on() -> None:
    with running("helloworld/helloworld.py") as demo:
        assert demo.printed(f"http://localhost:{demo.port}/")
