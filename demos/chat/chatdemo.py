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

One room, many processes
------------------------

With ``--redis=redis://HOST:PORT/DB`` the room lives in Redis instead of in
the process: a new message is appended to a capped list there (the recent
history) and published on a pub/sub channel, all in one transaction, and
every process follows that channel with the asynchronous client of the
``redis`` package (``pip install redis``).  Any number of processes, on any
number of hosts, then serve the same room; a browser may send each request to
a different one (as a proxy balancing them does) and a process that starts,
or restarts, begins with the history kept in Redis.  ``demos/deploy/`` runs
several of them behind nginx; start them there with ``--xheaders`` so that
the client addresses nginx reports are believed.  The WebSocket chat
(``demos/websocket``) keeps its messages in the same form under the same
keys, so on one Redis the two demos serve one room.

Without ``--redis`` nothing of this is imported and the room is in memory.

SIGTERM or SIGINT (``systemctl stop``, Ctrl-C) stop the server gracefully
with `tornado.shutdown`: the waiting polls are answered at once, with nothing
new, requests in flight finish (``--drain_timeout`` seconds at most), and the
pages ask again, of another process or of the restarted one.
"""

import asyncio
import datetime
import json
import os.path
import signal
import time
import uuid
from typing import Any

import tornado.escape
import tornado.locks
import tornado.shutdown
import tornado.web
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
    "poll_timeout",
    default=60.0,
    help="seconds a poll waits for news before answering with nothing",
    type=float,
)
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

# Where the room lives in Redis: the same names as demos/websocket, so the
# two demos serve one room when they share a Redis server.
REDIS_HISTORY = "tornado-demo-chat:history"
REDIS_CHANNEL = "tornado-demo-chat:messages"


class MessageBuffer:
    """The room's recent messages, and a way to wait for the next one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.cache: list[Message] = []
        # The ids in ``cache``, so a message that arrives twice is kept once.
        self._ids: set[str] = set()
        # Every waiting poll sleeps on this condition; a new message wakes
        # them all.
        self._new_message = tornado.locks.Condition()
        # Set when the process stops: polls answer at once from then on.
        self.closing = False

    def knows(self, cursor: str) -> bool:
        """Whether the message with id ``cursor`` is in the history."""
        return cursor in self._ids

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

    async def messages_after(self, cursor: str | None) -> list[Message]:
        """Like `messages_since`; a shared room may look the cursor up elsewhere."""
        return self.messages_since(cursor)

    def add(self, message: Message) -> None:
        """Append ``message`` (unless it is already here) and wake the polls."""
        if message["id"] in self._ids:
            return
        self.cache.append(message)
        self._ids.add(message["id"])
        if len(self.cache) > self.size:
            for old in self.cache[: len(self.cache) - self.size]:
                self._ids.discard(old["id"])
            del self.cache[: len(self.cache) - self.size]
        self._new_message.notify_all()

    async def post(self, message: Message) -> None:
        """Say ``message`` in the room; it is in the history on return."""
        self.add(message)

    def wait(self, timeout: float) -> "asyncio.Future[bool]":
        """A future that resolves when a message arrives (True) or on timeout."""
        return self._new_message.wait(timeout=datetime.timedelta(seconds=timeout))

    def stop_waiting(self) -> None:
        """Answer the waiting polls now, and later ones at once (the process stops).

        They get what they would get on a timeout, nothing new, and the
        pages ask again straight away: behind a proxy, another process
        answers.
        """
        self.closing = True
        self._new_message.notify_all()

    async def close(self) -> None:
        """Let go of what the room holds outside the process (nothing here)."""


class RedisMessageBuffer(MessageBuffer):
    """A `MessageBuffer` that is one process's copy of a room kept in Redis.

    Posting appends the message to the capped list ``REDIS_HISTORY`` and
    publishes it on ``REDIS_CHANNEL`` in one transaction, so every process
    receives the messages in the order of the list.  A task follows the
    channel and adds what arrives to the local copy, which the handlers read
    as they read the in-memory room.  After subscribing (and after every
    reconnection) it reads the history, so nothing said before, or while the
    connection was down, is missing.
    """

    def __init__(self, size: int, url: str) -> None:
        super().__init__(size)
        # Imported here: the in-memory room does not need the package.
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url, decode_responses=True)
        self._follower: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()
        # Posts waiting to see their own message come back on the channel.
        self._echoes: dict[str, asyncio.Future[None]] = {}

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
                        # both is added once.
                        for raw in await self._redis.lrange(REDIS_HISTORY, -self.size, -1):
                            self._receive(raw)
                        self._synced.set()
                    elif item["type"] == "message":
                        self._receive(item["data"])
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
                app_log.warning("lost the Redis connection (%s); retrying in 1 s", e)
                await asyncio.sleep(1)
            finally:
                await pubsub.aclose()

    def _receive(self, raw: str) -> None:
        message = json.loads(raw)
        self.add(message)
        echo = self._echoes.get(message["id"])
        if echo is not None and not echo.done():
            echo.set_result(None)

    async def post(self, message: Message) -> None:
        raw = json.dumps(message)
        echo = asyncio.get_running_loop().create_future()
        self._echoes[message["id"]] = echo
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(REDIS_HISTORY, raw)
                pipe.ltrim(REDIS_HISTORY, -self.size, -1)
                pipe.publish(REDIS_CHANNEL, raw)
                await pipe.execute()
            # The poster's next poll, to this process, carries this id as
            # its cursor: wait until the local copy has it.
            await asyncio.wait_for(echo, timeout=10)
        except TimeoutError:
            app_log.warning("message %s did not come back from Redis in time", message["id"])
        finally:
            del self._echoes[message["id"]]

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
        buffer: MessageBuffer = self.application.settings["message_buffer"]
        self.render("index.html", messages=buffer.cache)


class MessageNewHandler(tornado.web.RequestHandler):
    """Posts a message to the room (``POST /a/message/new``)."""

    async def post(self) -> None:
        body = self.get_argument("body")
        if not body:
            raise tornado.web.HTTPError(400, reason="Empty message")
        message: Message = {"id": uuid.uuid4().hex, "body": body}
        # The HTML is rendered once here rather than in every browser, so all
        # of them display the message the same way.
        message["html"] = tornado.escape.to_unicode(
            self.render_string("message.html", message=message)
        )
        await self.application.settings["message_buffer"].post(message)
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
        deadline = time.monotonic() + options.poll_timeout
        messages = await buffer.messages_after(cursor)
        # A wake-up may bring nothing for this client (in a shared room, the
        # message it knows as its cursor arriving late): wait again.
        while not messages and not buffer.closing and time.monotonic() < deadline:
            self._waiting = buffer.wait(deadline - time.monotonic())
            try:
                await self._waiting
            except asyncio.CancelledError:
                return  # the client closed the connection
            messages = await buffer.messages_after(cursor)
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


async def stop_requested() -> int:
    """Wait for SIGTERM or SIGINT (the first one: later ones are ignored)."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[int] = loop.create_future()

    def on_signal(signum: int) -> None:
        if not received.done():
            received.set_result(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    return await received


async def main() -> None:
    parse_command_line()
    buffer: MessageBuffer
    if options.redis:
        buffer = RedisMessageBuffer(options.history, options.redis)
        await buffer.start()
    else:
        buffer = MessageBuffer(options.history)
    app = make_app(debug=options.debug, message_buffer=buffer)
    server = app.listen(options.port, options.address, xheaders=options.xheaders)
    host = options.address or "localhost"
    app_log.info(
        "chat room on http://%s:%d/%s",
        f"[{host}]" if ":" in host else host,
        options.port,
        " (messages shared through Redis)" if options.redis else "",
    )
    signum = await stop_requested()
    # A stop that no client notices (systemctl stop or restart, Ctrl-C): the
    # waiting polls are answered, and the server drains, letting requests in
    # flight finish.  The pages poll again, elsewhere or after the restart.
    app_log.info("signal %d: stopping", signum)
    buffer.stop_waiting()
    await tornado.shutdown.drain(server, options.drain_timeout)
    await buffer.close()


if __name__ == "__main__":
    asyncio.run(main())
