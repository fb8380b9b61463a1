"""Benchmark server on aiohttp, the peer printed beside the two Tornados.

The template workload renders Jinja2 templates (``jinja/``) that mirror the
Tornado ones: the same inheritance, loop, and a per-row sub-template
(``{% include %}``, Jinja's nearest equivalent of a Tornado UI module), with
autoescaping on.
"""

import asyncio
import hashlib
import os

import jinja2
from aiohttp import web

from _common import (
    BROADCAST, HELLO, HERE, ITEMS, JSON_DOC, TITLE, USER, parse_args, raise_fd_limit, ready, run,
)

JINJA = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(HERE, "jinja")), autoescape=True
)
PAGE = JINJA.get_template("page.html")


async def hello(request: web.Request) -> web.Response:
    return web.Response(text=HELLO)


async def json_doc(request: web.Request) -> web.Response:
    return web.json_response(JSON_DOC)


async def template(request: web.Request) -> web.Response:
    body = PAGE.render(title=TITLE, items=ITEMS, user=USER)
    return web.Response(text=body, content_type="text/html")


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == web.WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == web.WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


IDLE: set = set()


async def idle(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    IDLE.add(ws)
    try:
        async for _ in ws:
            pass
    finally:
        IDLE.discard(ws)
    return ws


async def broadcast(request: web.Request) -> web.Response:
    for ws in list(IDLE):
        await ws.send_str(BROADCAST)
    return web.Response(text=str(len(IDLE)))


async def count(request: web.Request) -> web.Response:
    return web.Response(text=str(len(IDLE)))


async def upload(request: web.Request) -> web.Response:
    received = 0
    digest = hashlib.sha256()
    while True:
        chunk = await request.content.readany()
        if not chunk:
            break
        received += len(chunk)
        digest.update(chunk)
    return web.Response(text=str(received))


def make_app(workload: str, static_dir: str) -> web.Application:
    app = web.Application()
    r = app.router
    if workload == "hello":
        r.add_get("/", hello)
    elif workload == "json":
        r.add_get("/json", json_doc)
    elif workload == "template":
        r.add_get("/template", template)
    elif workload == "wsecho":
        r.add_get("/ws", echo)
    elif workload == "wsidle":
        r.add_get("/ws", idle)
        r.add_get("/broadcast", broadcast)
        r.add_get("/count", count)
    elif workload == "upload":
        r.add_post("/upload", upload)
        r.add_get("/hello", hello)
    elif workload == "download":
        r.add_get("/hello", hello)
        r.add_static("/static", static_dir)
    return app


async def main(args) -> None:
    raise_fd_limit()
    runner = web.AppRunner(make_app(args.workload, args.static_dir))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, backlog=1024)
    await site.start()
    ready()
    await asyncio.Event().wait()


if __name__ == "__main__":
    ARGS = parse_args()
    run(main(ARGS), ARGS.loop)
