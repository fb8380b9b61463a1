#!/usr/bin/env python3
"""The smallest useful Tornado application.

One handler answers ``GET /`` with "Hello, world".  Run it and open
http://localhost:8888/ (``--port`` picks another port)::

    python3 demos/helloworld/helloworld.py --port=8000
"""

import asyncio

import tornado.web
from tornado.log import app_log
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="port to listen on", type=int)


class MainHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("Hello, world")


def make_app() -> tornado.web.Application:
    return tornado.web.Application([(r"/", MainHandler)])


async def main() -> None:
    parse_command_line()
    app = make_app()
    app.listen(options.port)
    app_log.info("helloworld on http://localhost:%d/", options.port)
    # Serve until the process is interrupted.
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
