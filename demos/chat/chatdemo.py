#!/usr/bin/env python3
"""A chat room that works over plain HTTP with long polling.

Every browser that opens the page asks the server for new messages with a
request that the server holds open until there is something to say (or until
``--poll_timeout`` seconds have passed, after which the browser simply asks
again).  A message posted from one browser therefore shows up in every other
open browser at once, without reloading the page.

The room keeps the most recent messages in memory.  A newcomer sees them in
the page it loads, and a browser that lost its connection for a while sends
the id of the last message it saw (its *cursor*) and gets everything newer.

Run it and open http://localhost:8888/ in two browser windows::

    python3 demos/chat/chatdemo.py [--port=8888]
"""

import asyncio
import datetime
import os.path
import uuid
from typing import Any

import tornado.escape
import tornado.locks
import tornado.web
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="port to listen on", type=int)
define("debug", default=False, help="reload code and templates on change", type=bool)
define("history", default=200, help="how many recent messages the room keeps", type=int)
define(
    "poll_timeout",
    default=60.0,
    help="seconds a poll waits for news before answering with nothing",
    type=float,
)

Message = dict[str, Any]


class MessageBuffer:
    """The room's recent messages, and a way to wait for the next one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.cache: list[Message] = []
        # Every waiting poll sleeps on this condition; a new message wakes
        # them all.
        self._new_message = tornado.locks.Condition()

    def messages_since(self, cursor: str | None) -> list[Message]:
        """Return the messages that came after the one with id ``cursor``.

        Without a cursor, or with one that has already dropped out of the
        history (the client was away for too long, or the server restarted),
        the whole history is returned: that is the best catch-up possible.
        """
        if not cursor:
            return list(self.cache)
        for index in range(len(self.cache) - 1, -1, -1):
            if self.cache[index]["id"] == cursor:
                return self.cache[index + 1 :]
        return list(self.cache)

    def add(self, message: Message) -> None:
        self.cache.append(message)
        if len(self.cache) > self.size:
            del self.cache[: len(self.cache) - self.size]
        self._new_message.notify_all()

    def wait(self, timeout: float) -> "asyncio.Future[bool]":
        """A future that resolves when a message arrives (True) or on timeout."""
        return self._new_message.wait(timeout=datetime.timedelta(seconds=timeout))


class MainHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        buffer: MessageBuffer = self.application.settings["message_buffer"]
        self.render("index.html", messages=buffer.cache)


class MessageNewHandler(tornado.web.RequestHandler):
    """Posts a message to the room (``POST /a/message/new``)."""

    def post(self) -> None:
        body = self.get_argument("body")
        if not body:
            raise tornado.web.HTTPError(400, reason="Empty message")
        message: Message = {"id": uuid.uuid4().hex, "body": body}
        # The HTML is rendered once here rather than in every browser, so all
        # of them display the message the same way.
        message["html"] = tornado.escape.to_unicode(
            self.render_string("message.html", message=message)
        )
        self.application.settings["message_buffer"].add(message)
        if self.get_argument("next", None):
            # A browser without JavaScript submitted the form itself.
            self.redirect(self.get_argument("next"))
        else:
            self.write(message)


class MessageUpdatesHandler(tornado.web.RequestHandler):
    """Answers with the messages newer than the client's cursor.

    When there are none yet, the request is held open until one arrives, the
    poll times out, or the client goes away.
    """

    def initialize(self) -> None:
        self._waiting: asyncio.Future[bool] | None = None

    async def post(self) -> None:
        buffer: MessageBuffer = self.application.settings["message_buffer"]
        cursor = self.get_argument("cursor", None)
        messages = buffer.messages_since(cursor)
        if not messages:
            self._waiting = buffer.wait(options.poll_timeout)
            try:
                await self._waiting
            except asyncio.CancelledError:
                return  # the client closed the connection
            messages = buffer.messages_since(cursor)
        if self.request.connection.stream.closed():  # type: ignore[attr-defined]
            return
        self.write({"messages": messages})

    def on_connection_close(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()


def make_app(**settings: Any) -> tornado.web.Application:
    here = os.path.dirname(os.path.abspath(__file__))
    defaults: dict[str, Any] = {
        "template_path": os.path.join(here, "templates"),
        "static_path": os.path.join(here, "static"),
        "xsrf_cookies": True,
        "message_buffer": MessageBuffer(options.history),
    }
    defaults.update(settings)
    return tornado.web.Application(
        [
            (r"/", MainHandler),
            (r"/a/message/new", MessageNewHandler),
            (r"/a/message/updates", MessageUpdatesHandler),
        ],
        **defaults,
    )


async def main() -> None:
    parse_command_line()
    app = make_app(debug=options.debug)
    app.listen(options.port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
