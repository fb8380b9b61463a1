#!/usr/bin/env python3
"""A TCP echo server on `tornado.tcpserver.TCPServer`.

Every line a client sends comes back to it.  Run it, then talk to it with
the client beside it (or ``nc 127.0.0.1 9888``)::

    python3 demos/tcpecho/server.py --port=9888
    python3 demos/tcpecho/client.py --port=9888 --message="hello"

A line longer than ``--max_line`` bytes ends that connection: the server
never buffers more than that for one client.
"""

import asyncio
import logging

from tornado.iostream import IOStream, StreamClosedError
from cmdline import parse_args
from tornado.options import define, options
from tornado.tcpserver import TCPServer

define("port", default=9888, help="TCP port to listen on", type=int)
define("max_line", default=64 * 1024, help="longest line accepted, in bytes", type=int)

logger = logging.getLogger("tcpecho")


class EchoServer(TCPServer):
    async def handle_stream(self, stream: IOStream, address: tuple) -> None:
        logger.info("connection from %s:%d", address[0], address[1])
        try:
            while True:
                line = await stream.read_until(b"\n", max_bytes=options.max_line)
                await stream.write(line)
        except StreamClosedError:
            logger.info("%s:%d disconnected", address[0], address[1])


async def main() -> None:
    parse_args()
    server = EchoServer()
    server.listen(options.port)
    logger.info("echoing on TCP port %d", options.port)
    # Serve until the process is interrupted.
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
