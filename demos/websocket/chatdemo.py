#!/usr/bin/env python3
"""The chat room demo again, this time over a WebSocket.

Each open page keeps one WebSocket connection to ``/chatsocket``.  A message
sent on any connection is stored in the room's history and pushed to every
connection at once.  The page itself is rendered with the recent history, so a
newcomer starts with the latest conversation; after a lost connection the page
reconnects and sends the id of the last message it saw, and the server replays
whatever came after it.

Run it and open http://localhost:8888/ in two browser windows::

    python3 demos/websocket/chatdemo.py [--port=8888]
"""

import asyncio
import os.path
import uuid
from typing import Any

import tornado.escape
import tornado.web
import tornado.websocket
from tornado.log import app_log
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="port to listen on", type=int)
define("debug", default=False, help="reload code and templates on change", type=bool)
define("history", default=200, help="how many recent messages the room keeps", type=int)

Message = dict[str, Any]


class Room:
    """The open connections and the recent messages of the chat room."""

    def __init__(self, history: int) -> None:
        self.history = history
        self.messages: list[Message] = []
        self.members: set[ChatSocketHandler] = set()

    def messages_since(self, cursor: str | None) -> list[Message]:
        """Messages after the one with id ``cursor`` (all kept ones if unknown)."""
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index]["id"] == cursor:
                return self.messages[index + 1 :]
        return list(self.messages)

    def broadcast(self, message: Message) -> None:
        self.messages.append(message)
        if len(self.messages) > self.history:
            del self.messages[: len(self.messages) - self.history]
        frame = tornado.escape.json_encode({"messages": [message]})
        app_log.info("sending message to %d members", len(self.members))
        for member in list(self.members):
            try:
                member.write_message(frame)
            except tornado.websocket.WebSocketClosedError:
                # The member left while we were looping; on_close removes it.
                pass


class MainHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        room: Room = self.settings["room"]
        self.render("index.html", messages=room.messages)


class ChatSocketHandler(tornado.websocket.WebSocketHandler):
    """One browser's connection to the room.

    Frames from the browser are JSON objects: ``{"body": "..."}`` posts a
    message and ``{"cursor": "<id>"}`` asks for everything after that message.
    Frames to the browser are ``{"messages": [...]}``, each message carrying
    its ``id``, ``body`` and rendered ``html``.
    """

    def get_compression_options(self) -> dict[str, Any]:
        return {}  # accept permessage-deflate from browsers that offer it

    @property
    def room(self) -> Room:
        return self.settings["room"]

    def open(self) -> None:
        self.room.members.add(self)

    def on_close(self) -> None:
        self.room.members.discard(self)

    def on_message(self, data: Any) -> None:
        try:
            request = tornado.escape.json_decode(data)
        except ValueError:
            self.close(1003, "expected a JSON object")
            return
        if not isinstance(request, dict):
            self.close(1003, "expected a JSON object")
            return
        if "cursor" in request:
            missed = self.room.messages_since(request["cursor"])
            if missed:
                self.write_message({"messages": missed})
        body = request.get("body")
        if isinstance(body, str) and body.strip():
            message: Message = {"id": uuid.uuid4().hex, "body": body}
            message["html"] = tornado.escape.to_unicode(
                self.render_string("message.html", message=message)
            )
            self.room.broadcast(message)


def make_app(**settings: Any) -> tornado.web.Application:
    here = os.path.dirname(os.path.abspath(__file__))
    defaults: dict[str, Any] = {
        "template_path": os.path.join(here, "templates"),
        "static_path": os.path.join(here, "static"),
        "xsrf_cookies": True,
        "room": Room(options.history),
    }
    defaults.update(settings)
    return tornado.web.Application(
        [(r"/", MainHandler), (r"/chatsocket", ChatSocketHandler)], **defaults
    )


async def main() -> None:
    parse_command_line()
    app = make_app(debug=options.debug)
    app.listen(options.port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
