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

One room, many processes
------------------------

With ``--redis=redis://HOST:PORT/DB`` the room lives in Redis: a message is
appended to a capped list there (the recent history) and published on a
pub/sub channel in one transaction, and every process follows the channel
with the asynchronous client of the ``redis`` package and pushes what
arrives to its own connections.  Any number of processes, on any number of
hosts, then serve one room, and a page that reconnects to another process
(say, after the one it was on died) gets what it missed from the history in
Redis.  ``demos/deploy/`` runs several behind nginx, which proxies the
WebSocket upgrade; give them ``--xheaders`` there.  The long-polling chat
(``demos/chat``) uses the same keys and message form, so on one Redis server
the two demos serve one room.

Without ``--redis`` nothing of this is imported and the room is in memory.

SIGTERM or SIGINT (``systemctl stop``, Ctrl-C) stop the server gracefully
with `tornado.shutdown`: every WebSocket is closed with code 1001, "going
away" (``--drain_timeout`` seconds at most), and the pages reconnect, to
another process or to the restarted one, and catch up.
"""

import asyncio
import json
import os.path
import uuid
from typing import Any

import tornado.escape
import tornado.shutdown
import tornado.web
import tornado.websocket
from tornado.log import app_log
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="port to listen on", type=int)
define(
    "address",
    default="",
    help="address to listen on (all by default; 127.0.0.1 behind a proxy on the same host)",
)
define("debug", default=False, help="reload code and templates on change", type=bool)
define("history", default=200, help="how many recent messages the room keeps", type=int)
define(
    "redis",
    default="",
    help="share the room with other processes through this Redis server"
    " (redis://host:port/db); without it the room lives in this process",
)
define(
    "drain_timeout",
    default=10.0,
    help="seconds a stopping process (SIGTERM, SIGINT) gives requests in flight",
    type=float,
)
define(
    "xheaders",
    default=False,
    help="take the client's address from X-Real-IP / X-Forwarded-For"
    " (only behind a proxy that sets them, such as nginx)",
    type=bool,
)

Message = dict[str, Any]

# Where the room lives in Redis: the same names as demos/chat, so the two
# demos serve one room when they share a Redis server.
REDIS_HISTORY = "tornado-demo-chat:history"
REDIS_CHANNEL = "tornado-demo-chat:messages"


class Room:
    """The open connections and the recent messages of the chat room."""

    def __init__(self, history: int) -> None:
        self.history = history
        self.messages: list[Message] = []
        self.members: set[ChatSocketHandler] = set()
        # The ids in ``messages``, so a message that arrives twice is sent once.
        self._ids: set[str] = set()

    def knows(self, cursor: str) -> bool:
        """Whether the message with id ``cursor`` is in the history."""
        return cursor in self._ids

    def messages_since(self, cursor: str | None) -> list[Message]:
        """Messages after the one with id ``cursor`` (all kept ones if unknown)."""
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index]["id"] == cursor:
                return self.messages[index + 1 :]
        return list(self.messages)

    async def messages_after(self, cursor: str | None) -> list[Message]:
        """Like `messages_since`; a shared room may look the cursor up elsewhere."""
        return self.messages_since(cursor)

    async def broadcast(self, message: Message) -> None:
        """Say ``message`` in the room."""
        self.deliver(message)

    async def close(self) -> None:
        """Let go of what the room holds outside the process (nothing here)."""

    def deliver(self, message: Message) -> None:
        """Add ``message`` to the history and send it to every member here."""
        if message["id"] in self._ids:
            return
        self.messages.append(message)
        self._ids.add(message["id"])
        if len(self.messages) > self.history:
            for old in self.messages[: len(self.messages) - self.history]:
                self._ids.discard(old["id"])
            del self.messages[: len(self.messages) - self.history]
        frame = tornado.escape.json_encode({"messages": [message]})
        app_log.info("sending message to %d members", len(self.members))
        for member in list(self.members):
            try:
                member.write_message(frame)
            except tornado.websocket.WebSocketClosedError:
                # The member left while we were looping; on_close removes it.
                pass


class RedisRoom(Room):
    """A `Room` whose history and messages are shared through Redis.

    `broadcast` appends the message to the capped list ``REDIS_HISTORY`` and
    publishes it on ``REDIS_CHANNEL`` in one transaction, so every process
    sees the messages in the order of the list; a task follows the channel
    and `deliver`\\ s what arrives to this process's members.  After
    subscribing (and after every reconnection) it reads the history, so
    nothing said before, or while the connection was down, is missing.
    """

    def __init__(self, history: int, url: str) -> None:
        super().__init__(history)
        # Imported here: the in-memory room does not need the package.
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url, decode_responses=True)
        self._follower: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()

    async def start(self) -> None:
        """Connect, and return once the local copy holds the history."""
        await self._redis.ping()  # a wrong URL fails here, with its reason
        self._follower = asyncio.create_task(self._follow())
        await self._synced.wait()

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
        await self._redis.aclose()

    async def _follow(self) -> None:
        import redis.exceptions

        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(REDIS_CHANNEL)
                async for item in pubsub.listen():
                    if item["type"] == "subscribe":
                        # Only now is every new message sure to reach us:
                        # what came before is in the list.  A message in
                        # both is delivered once.
                        for raw in await self._redis.lrange(REDIS_HISTORY, -self.history, -1):
                            self.deliver(json.loads(raw))
                        self._synced.set()
                    elif item["type"] == "message":
                        self.deliver(json.loads(item["data"]))
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
                app_log.warning("lost the Redis connection (%s); retrying in 1 s", e)
                await asyncio.sleep(1)
            finally:
                await pubsub.aclose()

    async def broadcast(self, message: Message) -> None:
        raw = json.dumps(message)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(REDIS_HISTORY, raw)
            pipe.ltrim(REDIS_HISTORY, -self.history, -1)
            pipe.publish(REDIS_CHANNEL, raw)
            await pipe.execute()

    async def messages_after(self, cursor: str | None) -> list[Message]:
        if not cursor or self.knows(cursor):
            return self.messages_since(cursor)
        # The client saw this message through another process that is ahead
        # of this one (it is on its way here), or it is older than the
        # history: the list in Redis tells which.
        history = [json.loads(raw) for raw in await self._redis.lrange(REDIS_HISTORY, 0, -1)]
        for index in range(len(history) - 1, -1, -1):
            if history[index]["id"] == cursor:
                return history[index + 1 :]
        return self.messages_since(None)


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

    async def on_message(self, data: Any) -> None:
        # (A coroutine: the next frame waits until this one is handled, so
        # a client's messages keep their order.)
        try:
            request = tornado.escape.json_decode(data)
        except ValueError:
            self.close(1003, "expected a JSON object")
            return
        if not isinstance(request, dict):
            self.close(1003, "expected a JSON object")
            return
        if "cursor" in request:
            missed = await self.room.messages_after(request["cursor"])
            if missed:
                self.write_message({"messages": missed})
        body = request.get("body")
        if isinstance(body, str) and body.strip():
            message: Message = {"id": uuid.uuid4().hex, "body": body}
            message["html"] = tornado.escape.to_unicode(
                self.render_string("message.html", message=message)
            )
            await self.room.broadcast(message)


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
    room: Room
    if options.redis:
        room = RedisRoom(options.history, options.redis)
        await room.start()
    else:
        room = Room(options.history)
    app = make_app(debug=options.debug, room=room)
    server = app.listen(options.port, options.address, xheaders=options.xheaders)
    host = options.address or "localhost"
    app_log.info(
        "WebSocket chat room on http://%s:%d/%s",
        f"[{host}]" if ":" in host else host,
        options.port,
        " (messages shared through Redis)" if options.redis else "",
    )
    # On SIGTERM or SIGINT (systemctl stop or restart, Ctrl-C) the server
    # drains: each WebSocket is closed with 1001, "going away", and its page
    # reconnects, elsewhere or after the restart, and catches up.
    await tornado.shutdown.drain_on_signal(server, options.drain_timeout)
    await room.close()


if __name__ == "__main__":
    asyncio.run(main())
