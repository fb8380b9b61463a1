#!/usr/bin/env python3
"""A client for the TCP echo server, on `tornado.tcpclient.TCPClient`.

Sends ``--message`` (or each extra command-line argument) as a line and
prints what the server sends back::

    python3 demos/tcpecho/client.py --port=9888 --message="hello"
    python3 demos/tcpecho/client.py --port=9888 one two three
"""

import asyncio
import sys

from cmdline import parse_args
from tornado.options import define, options
from tornado.tcpclient import TCPClient

define("host", default="127.0.0.1", help="server host")
define("port", default=9888, help="server port", type=int)
define("message", default="ping", help="line to send")
define("timeout", default=10.0, help="seconds to wait for connecting", type=float)


async def main() -> None:
    messages = parse_args() or [options.message]
    client = TCPClient()
    try:
        stream = await client.connect(
            options.host, options.port, timeout=options.timeout
        )
    except (OSError, TimeoutError) as e:
        # StreamClosedError (refused, unreachable) is an OSError too.
        cause = getattr(e, "real_error", None) or e
        sys.exit(f"could not connect to {options.host}:{options.port}: {cause}")
    try:
        for message in messages:
            await stream.write(message.encode("utf-8") + b"\n")
            reply = await stream.read_until(b"\n")
            print("Response from server:", reply.decode("utf-8").rstrip("\n"))
    finally:
        stream.close()
        client.close()


if __name__ == "__main__":
    asyncio.run(main())
