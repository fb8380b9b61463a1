"""Benchmark server written against Tornado's public API.

Run by the harness with either our package or the reference release
installed in the interpreter's environment; the code is the same for both.
"""

import asyncio
import hashlib
import os

import tornado.web
import tornado.websocket

from _common import (
    BROADCAST, HELLO, HERE, ITEMS, JSON_DOC, TITLE, USER, parse_args, raise_fd_limit, ready, run,
)


class HelloHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write(HELLO)


class JSONHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write(JSON_DOC)


class Item(tornado.web.UIModule):
    def render(self, item: dict) -> bytes:
        return self.render_string("item.html", item=item)


class TemplateHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.render("page.html", title=TITLE, items=ITEMS, user=USER)


class EchoWebSocket(tornado.websocket.WebSocketHandler):
    def on_message(self, message) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


IDLE: set = set()


class IdleWebSocket(tornado.websocket.WebSocketHandler):
    def open(self) -> None:
        IDLE.add(self)

    def on_close(self) -> None:
        IDLE.discard(self)


class BroadcastHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        for conn in IDLE:
            conn.write_message(BROADCAST)
        self.write(str(len(IDLE)))


class CountHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write(str(len(IDLE)))


@tornado.web.stream_request_body
class UploadHandler(tornado.web.RequestHandler):
    def prepare(self) -> None:
        self.received = 0
        self.digest = hashlib.sha256()
        self.request.connection.set_max_body_size(1 << 40)

    def data_received(self, chunk: bytes) -> None:
        # Real upload handlers do work per chunk (checksum, disk write); the
        # hash makes the server slower than the sender, as it often is.
        self.received += len(chunk)
        self.digest.update(chunk)

    def post(self) -> None:
        self.write(str(self.received))


def make_app(workload: str, static_dir: str) -> tornado.web.Application:
    routes = {
        "hello": [(r"/", HelloHandler)],
        "json": [(r"/json", JSONHandler)],
        "template": [(r"/template", TemplateHandler)],
        "wsecho": [(r"/ws", EchoWebSocket)],
        "wsidle": [(r"/ws", IdleWebSocket), (r"/broadcast", BroadcastHandler),
                   (r"/count", CountHandler)],
        "upload": [(r"/upload", UploadHandler), (r"/hello", HelloHandler)],
        "download": [(r"/hello", HelloHandler)],
    }[workload]
    return tornado.web.Application(
        routes,
        template_path=os.path.join(HERE, "templates"),
        ui_modules={"Item": Item},
        static_path=static_dir,
    )


async def main(args) -> None:
    raise_fd_limit()
    app = make_app(args.workload, args.static_dir)
    app.listen(args.port, address="127.0.0.1", max_body_size=1 << 40, backlog=1024)
    ready()
    await asyncio.Event().wait()


if __name__ == "__main__":
    ARGS = parse_args()
    run(main(ARGS), ARGS.loop)
