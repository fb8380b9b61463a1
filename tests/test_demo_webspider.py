"""End-to-end tests of demos/webspider, crawling sites served on 127.0.0.1."""

import http.server
import re
import threading
import time
from collections.abc import Iterator

import pytest
from test_demo_harness import run_script, running

SCRIPT = "webspider/webspider.py"

# A small site: a cycle (index <-> a), a page below, a dead link, a link that
# leaves the crawl's prefix, fragments, a non-HTML file and a mailto link.
SITE: dict[str, tuple[str, str]] = {
    "/docs/": (
        "text/html",
        (
            '<a href="a.html">A</a> <a href="b.html#part">B</a> <a href="sub/c.html">C</a>'
            ' <a href="missing.html">dead</a> <a href="/elsewhere/">out of prefix</a>'
            ' <a href="mailto:someone@example.com">mail</a> <a href="data.txt">data</a>'
        ),
    ),
    "/docs/a.html": ("text/html", '<a href="./">home</a> <a href="#top">top</a>'),
    "/docs/b.html": ("text/html", '<A HREF="/docs/a.html">A again</A>'),
    "/docs/sub/c.html": ("text/html", '<a href="../b.html">up</a> <a href="d.html">D</a>'),
    "/docs/sub/d.html": ("text/html", "<p>no links here</p>"),
    "/docs/data.txt": ("text/plain", '<a href="never-followed.html">not html</a>'),
    "/elsewhere/": ("text/html", "<p>outside</p>"),
}


class Site(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pages: dict[str, tuple[str, str]], delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _SiteHandler)
        self.pages = pages
        self.delay = delay
        self.requested: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _SiteHandler(http.server.BaseHTTPRequestHandler):
    server: Site

    def do_GET(self) -> None:
        site = self.server
        with site.lock:
            site.requested.append(self.path)
            site.in_flight += 1
            site.max_in_flight = max(site.max_in_flight, site.in_flight)
        try:
            if site.delay:
                time.sleep(site.delay)
            page = site.pages.get(self.path)
            if page is None:
                self.send_error(404)
                return
            body = page[1].encode()
            self.send_response(200)
            self.send_header("Content-Type", page[0] + "; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the spider gave up waiting (the timeout test)
        finally:
            with site.lock:
                site.in_flight -= 1

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[Site] = []

    def start(pages: dict[str, tuple[str, str]], delay: float = 0.0) -> Site:
        site = Site(pages, delay)
        threading.Thread(target=site.serve_forever, daemon=True).start()
        servers.append(site)
        return site

    yield start
    for site in servers:
        site.shutdown()
        site.server_close()


def fetched_urls(output: str) -> set[str]:
    return set(re.findall(r"^200 (\S+)$", output, re.MULTILINE))


def test_crawls_every_page_under_the_prefix(serve) -> None:  # type: ignore[no-untyped-def]
    site = serve(SITE)
    result = run_script(SCRIPT, f"--url={site.base}/docs/", "--concurrency=3")
    assert result.returncode == 1, result.stderr  # one broken link
    expected = {site.base + path for path in SITE if path.startswith("/docs/")}
    assert fetched_urls(result.stdout) == expected
    assert f"fetched {len(expected)} URLs, 1 broken" in result.stdout
    assert f"broken: {site.base}/docs/missing.html (HTTP 404)" in result.stdout
    # Each page once, fragments ignored, nothing outside the prefix, and links
    # in a non-HTML file are not followed.
    assert sorted(site.requested) == sorted([p for p in SITE if p.startswith("/docs/")] + ["/docs/missing.html"])


def test_workers_fetch_in_parallel_up_to_the_limit(serve) -> None:  # type: ignore[no-untyped-def]
    pages = {"/": ("text/html", " ".join(f'<a href="/p{i}">{i}</a>' for i in range(24)))}
    pages.update({f"/p{i}": ("text/html", "leaf") for i in range(24)})
    site = serve(pages, delay=0.2)
    result = run_script(SCRIPT, f"--url={site.base}/", "--concurrency=4")
    assert result.returncode == 0, result.stderr
    assert len(fetched_urls(result.stdout)) == 25
    assert 1 < site.max_in_flight <= 4


def test_max_pages_stops_discovery(serve) -> None:  # type: ignore[no-untyped-def]
    pages = {f"/{i}": ("text/html", f'<a href="/{i + 1}">next</a>') for i in range(50)}
    site = serve(pages)
    result = run_script(SCRIPT, f"--url={site.base}/0", "--prefix=" + site.base, "--max_pages=10")
    assert result.returncode == 0, result.stderr
    assert len(fetched_urls(result.stdout)) == 10


def test_unreachable_start_is_reported_as_broken() -> None:
    from test_demo_harness import free_port

    port = free_port()
    result = run_script(SCRIPT, f"--port={port}")
    assert result.returncode == 1, result.stderr
    assert "fetched 0 URLs, 1 broken" in result.stdout
    assert f"broken: http://localhost:{port}/" in result.stdout


def test_crawls_a_tornado_demo_by_port() -> None:
    with running("helloworld/helloworld.py") as demo:
        result = run_script(SCRIPT, f"--port={demo.port}")
    assert result.returncode == 0, result.stderr
    assert f"200 http://localhost:{demo.port}/" in result.stdout
    assert "fetched 1 URLs, 0 broken" in result.stdout


def test_the_documented_example_works_as_written() -> None:
    """``webspider.py --serve``, as the docstring says: the sample site is
    crawled, its one broken link reported, and the status is 1."""
    from test_demo_harness import DEMOS

    docstring = (DEMOS / SCRIPT).read_text()
    assert "python3 demos/webspider/webspider.py --serve" in docstring
    result = run_script(SCRIPT, "--serve")
    assert result.returncode == 1, result.stdout + result.stderr
    base = re.search(r"^Serving the sample site on (http://127\.0\.0\.1:\d+)/$", result.stdout, re.MULTILINE)
    assert base, result.stdout
    pages = {"/", "/about", "/docs/", "/docs/guide", "/docs/api", "/notes.txt"}
    assert fetched_urls(result.stdout) == {base.group(1) + p for p in pages}
    assert "fetched 6 URLs, 1 broken." in result.stdout
    assert f"broken: {base.group(1)}/docs/old-page (HTTP 404)" in result.stdout
    assert "tornadoweb.org" not in result.stdout.split("Done in")[0]  # never left the machine


def test_no_broken_links_exits_zero_and_a_timeout_exits_two(serve) -> None:  # type: ignore[no-untyped-def]
    site = serve({"/": ("text/html", '<a href="/a">a</a>'), "/a": ("text/html", "leaf")})
    result = run_script(SCRIPT, f"--url={site.base}/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fetched 2 URLs, 0 broken" in result.stdout
    slow = serve({"/": ("text/html", "slow")}, delay=3)
    result = run_script(SCRIPT, f"--url={slow.base}/", "--timeout=0.5")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Gave up" in result.stderr


def test_crawls_the_blog_demo_without_broken_links(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The docstring's second example: the blog's pages link only to pages
    that exist."""
    blog_args = (f"--db=sqlite:///{tmp_path / 'blog.db'}", "--cookie_secret=test")
    with running("blog/blog.py", *blog_args) as demo:
        result = run_script(SCRIPT, f"--url=http://localhost:{demo.port}/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"200 http://localhost:{demo.port}/archive" in result.stdout
    assert ", 0 broken." in result.stdout
