"""Benchmark servers of benchmarks/asgi.py: the same hello world four ways.

``--mode``:

* ``starlette-ours``: a Starlette app in `tornado.asgi.ASGIContainer`, as the
  callback of our `.HTTPServer`;
* ``starlette-uvicorn``: the same Starlette app on uvicorn (httptools parser,
  the standard asyncio event loop, no access log);
* ``tornado-ours``: our hello-world `.Application` on our own server;
* ``tornado-uvicorn``: that `.Application` through `tornado.asgi.ASGIAdapter`
  on uvicorn (same settings as above);
* ``raw-ours`` and ``raw-uvicorn``: a bare ASGI function instead of
  Starlette, which shows what the two servers cost alone.

Every mode answers ``GET /`` with ``Hello, world`` and prints READY once it
listens on 127.0.0.1.
"""

import argparse
import asyncio
import socket
import sys

HELLO = "Hello, world"


def starlette_app():  # type: ignore[no-untyped-def]
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request):  # type: ignore[no-untyped-def]
        return PlainTextResponse(HELLO)

    return Starlette(routes=[Route("/", hello)])


async def raw_app(scope, receive, send):  # type: ignore[no-untyped-def]
    """The least an ASGI application can do: what the servers cost alone."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"12")]})
    await send({"type": "http.response.body", "body": b"Hello, world"})


def tornado_app():  # type: ignore[no-untyped-def]
    import tornado.web

    class HelloHandler(tornado.web.RequestHandler):
        def get(self) -> None:
            self.write(HELLO)

    return tornado.web.Application([(r"/", HelloHandler)])


def listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def ready() -> None:
    sys.stdout.write("READY\n")
    sys.stdout.flush()


async def serve_ours(app, port: int) -> None:  # type: ignore[no-untyped-def]
    from tornado.httpserver import HTTPServer

    server = HTTPServer(app)
    server.add_sockets([listening_socket(port)])
    ready()
    await asyncio.Event().wait()


async def serve_uvicorn(app, port: int) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    config = uvicorn.Config(
        app, http="httptools", loop="asyncio", lifespan="off", access_log=False,
        log_level="warning", backlog=1024,
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[listening_socket(port)]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    ready()
    await task


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", required=True,
                        choices=["starlette-ours", "starlette-uvicorn", "tornado-ours", "tornado-uvicorn",
                                 "raw-ours", "raw-uvicorn"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    from tornado.asgi import ASGIAdapter, ASGIContainer

    if args.mode == "starlette-ours":
        await serve_ours(ASGIContainer(starlette_app()), args.port)
    elif args.mode == "starlette-uvicorn":
        await serve_uvicorn(starlette_app(), args.port)
    elif args.mode == "raw-ours":
        await serve_ours(ASGIContainer(raw_app), args.port)
    elif args.mode == "raw-uvicorn":
        await serve_uvicorn(raw_app, args.port)
    elif args.mode == "tornado-ours":
        await serve_ours(tornado_app(), args.port)
    else:
        await serve_uvicorn(ASGIAdapter(tornado_app()), args.port)


if __name__ == "__main__":
    asyncio.run(main())
