#!/usr/bin/env python3
"""Uploads files to ``file_receiver.py`` without reading them into memory.

The request body comes from a *body producer*: a coroutine that
:class:`tornado.httpclient.HTTPRequest` calls with a ``write`` function once
the connection is open.  It reads the file a chunk at a time and waits for
each ``write`` to finish before reading the next one, so no more than one
chunk is in memory however large the file is, and a slow server slows the
reading down instead of letting data pile up.

Usage::

    python3 demos/file_upload/file_uploader.py --server=http://localhost:8888 FILE...

Each stored file's name, size and SHA-256 (as the server computed them) are
printed; the exit status is non-zero if any upload failed.
"""

import asyncio
import functools
import os
import sys
import time
from collections.abc import Awaitable, Callable

from tornado.escape import json_decode, url_escape
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.options import define, options, parse_command_line

define("server", default="http://localhost:8888", help="address of file_receiver.py")
define("chunk_size", default=256 * 1024, help="bytes read from the file at a time", type=int)
define("timeout", default=3600.0, help="seconds one upload may take", type=float)


async def read_file_into(
    path: str, chunk_size: int, write: Callable[[bytes], Awaitable[None]]
) -> None:
    """Body producer: hand ``path`` to ``write`` one chunk at a time."""
    # Reading a chunk from a local disk takes far less time than sending
    # it, so a plain blocking read is fine here.
    with open(path, "rb") as f:  # noqa: ASYNC230
        while True:
            chunk = f.read(chunk_size)
            if not chunk:
                return
            # Waiting here is the back-pressure: the next chunk is read only
            # when this one has gone out.
            await write(chunk)


async def upload(client: AsyncHTTPClient, path: str) -> bool:
    name = os.path.basename(path)
    size = os.path.getsize(path)
    request = HTTPRequest(
        options.server.rstrip("/") + "/upload/" + url_escape(name, plus=False),
        method="PUT",
        # Knowing the size lets the client send a plain Content-Length body
        # rather than chunked encoding.
        headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
        body_producer=functools.partial(read_file_into, path, options.chunk_size),
        request_timeout=options.timeout,
    )
    start = time.monotonic()
    try:
        response = await client.fetch(request)
    except HTTPClientError as e:
        print(f"{name}: failed: {e}", file=sys.stderr)
        return False
    except OSError as e:
        print(f"{name}: failed: {e}", file=sys.stderr)
        return False
    reply = json_decode(response.body)
    seconds = time.monotonic() - start
    print(
        f"{reply['name']}: {reply['size']} bytes sha256={reply['sha256']}"
        f" ({size / (1024 * 1024) / max(seconds, 1e-6):.1f} MiB/s)"
    )
    return reply["size"] == size


async def main(paths: list[str]) -> int:
    if not paths:
        print("usage: file_uploader.py [--server=URL] FILE...", file=sys.stderr)
        return 2
    client = AsyncHTTPClient()
    results = [await upload(client, path) for path in paths]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_command_line())))
