#!/usr/bin/env python3
"""A web crawler: a fixed pool of workers sharing one queue of URLs.

The crawl starts at ``--url`` (by default ``http://localhost:<--port>/``) and
follows every link in the pages it fetches, as long as the link stays under
``--prefix`` (by default the start URL itself).  ``--concurrency`` workers
take URLs from a :class:`tornado.queues.Queue` and fetch them with
:class:`tornado.httpclient.AsyncHTTPClient`, so that many requests are in
flight at once while everything runs in one thread.  The crawl ends when the
queue has been emptied and every URL taken from it is done
(:meth:`tornado.queues.Queue.join`).

Each fetched URL is printed with its status; links that could not be fetched
(an HTTP error or a network failure) are listed at the end.  The exit status
says how it went, so the spider can check a site in a script: 0 when every
link works, 1 when some are broken, 2 when the crawl ran out of time.

Try it on the small sample site it serves itself (on a free port of
127.0.0.1, for the length of the crawl); one of its links is broken on
purpose, so this ends with status 1::

    python3 demos/webspider/webspider.py --serve

or on another demo, such as the blog::

    python3 demos/blog/blog.py --port=8888 &
    python3 demos/webspider/webspider.py --url=http://localhost:8888/

Only URLs under ``--prefix`` are fetched: links to other sites are never
followed.
"""

import asyncio
import datetime
import html.parser
import sys
import time
import urllib.parse

import tornado.web
from tornado import gen, queues
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="crawl http://localhost:PORT/ when --url is not given", type=int)
define("url", default="", help="where the crawl starts")
define("prefix", default="", help="follow only links that start with this (default: --url)")
define("concurrency", default=10, help="number of workers fetching at once", type=int)
define("max_pages", default=1000, help="stop discovering new URLs after this many", type=int)
define("timeout", default=300.0, help="seconds the whole crawl may take", type=float)
define("serve", default=False, help="crawl the built-in sample site (served on a free port)", type=bool)

# Exit statuses.
OK, BROKEN_LINKS, TIMED_OUT = 0, 1, 2

# The sample site of --serve: path -> page.  Links go up, down and across,
# round in a cycle, to a fragment, to a text file (fetched, not parsed), to
# another site (never fetched: outside the prefix) and, once, nowhere.
_SAMPLE_PAGES = {
    "/": (
        "<h1>Sample site</h1><ul>"
        '<li><a href="/docs/">Documentation</a>'
        '<li><a href="about">About</a>'
        '<li><a href="/docs/old-page">An old link that no longer works</a>'
        '<li><a href="https://www.tornadoweb.org/">Tornado (another site)</a></ul>'
    ),
    "/about": '<p>About this site. <a href="/">Home</a></p>',
    "/docs/": (
        '<h1>Docs</h1><a href="guide">Guide</a> <a href="api#queues">API</a>'
        ' <a href="/notes.txt">Notes</a> <a href="../">Home</a>'
    ),
    "/docs/guide": '<p>Read the <a href="api">API</a> next, or go <a href="/docs/">back</a>.</p>',
    "/docs/api": '<h2 id="queues">Queues</h2><p><a href="guide#top">Guide</a></p>',
}


class _SamplePage(tornado.web.RequestHandler):
    def get(self) -> None:
        page = _SAMPLE_PAGES.get(self.request.path)
        if page is None:
            raise tornado.web.HTTPError(404)
        self.write(f"<!DOCTYPE html><title>Sample</title>{page}")


class _SampleText(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write('Plain text: <a href="/not-a-link"> is not a link here.\n')


def serve_sample_site() -> str:
    """Serve the sample site on a free port of 127.0.0.1; return its URL."""
    app = tornado.web.Application(
        [(r"/notes\.txt", _SampleText), (r"/.*", _SamplePage)],
        log_function=lambda handler: None,  # the crawl's own output says it all
    )
    sockets = bind_sockets(0, "127.0.0.1")
    HTTPServer(app).add_sockets(sockets)
    return f"http://127.0.0.1:{sockets[0].getsockname()[1]}/"


class _LinkParser(html.parser.HTMLParser):
    """Collects the targets of ``<a href>`` in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value:
                    self.hrefs.append(value)


def links_in(page_url: str, body: str) -> list[str]:
    """Absolute URLs, without fragments, of the links found in ``body``."""
    parser = _LinkParser()
    parser.feed(body)
    parser.close()
    links = []
    for href in parser.hrefs:
        absolute = urllib.parse.urljoin(page_url, href.strip())
        links.append(urllib.parse.urldefrag(absolute)[0])
    return links


class Crawler:
    def __init__(self, start: str, prefix: str, concurrency: int, max_pages: int) -> None:
        self.start = start
        self.prefix = prefix
        self.concurrency = concurrency
        self.max_pages = max_pages
        self.queue: queues.Queue[str | None] = queues.Queue()
        self.seen: set[str] = set()  # queued at some point
        self.fetched: dict[str, int] = {}  # URL -> HTTP status
        self.broken: dict[str, str] = {}  # URL -> what went wrong
        self.client = AsyncHTTPClient()

    def discover(self, url: str) -> None:
        if url in self.seen or not url.startswith(self.prefix):
            return
        if len(self.seen) >= self.max_pages:
            return
        self.seen.add(url)
        self.queue.put_nowait(url)

    async def visit(self, url: str) -> None:
        try:
            response = await self.client.fetch(url)
        except HTTPClientError as e:
            self.broken[url] = f"HTTP {e.code}" if e.code != 599 else str(e)
            print(f"{e.code} {url}", flush=True)
            return
        except OSError as e:
            self.broken[url] = str(e) or type(e).__name__
            print(f"--- {url} ({self.broken[url]})", flush=True)
            return
        self.fetched[url] = response.code
        print(f"{response.code} {url}", flush=True)
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith("text/html"):
            body = response.body.decode("utf-8", errors="replace")
            for link in links_in(response.effective_url, body):
                self.discover(link)

    async def worker(self) -> None:
        async for url in self.queue:
            if url is None:  # told to stop
                self.queue.task_done()
                return
            try:
                await self.visit(url)
            finally:
                self.queue.task_done()

    async def run(self, timeout: float) -> None:
        self.discover(self.start)
        workers = gen.multi([self.worker() for _ in range(self.concurrency)])
        # On timeout this raises, and the workers are simply abandoned.
        await self.queue.join(timeout=datetime.timedelta(seconds=timeout))
        for _ in range(self.concurrency):
            self.queue.put_nowait(None)
        await workers
        self.client.close()


async def main() -> int:
    parse_command_line()
    if options.serve:
        start = serve_sample_site()
        print(f"Serving the sample site on {start}", flush=True)
    else:
        start = options.url or f"http://localhost:{options.port}/"
    crawler = Crawler(start, options.prefix or start, options.concurrency, options.max_pages)
    began = time.monotonic()
    try:
        await crawler.run(options.timeout)
    except gen.TimeoutError:
        print(f"Gave up after {options.timeout} seconds", file=sys.stderr)
        return TIMED_OUT
    print(
        f"Done in {time.monotonic() - began:.2f} seconds, fetched {len(crawler.fetched)} URLs,"
        f" {len(crawler.broken)} broken."
    )
    for url, problem in sorted(crawler.broken.items()):
        print(f"  broken: {url} ({problem})")
    return BROKEN_LINKS if crawler.broken else OK


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
