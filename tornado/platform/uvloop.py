"""An `.IOLoop` running on uvloop (libuv), when the ``uvloop`` package is installed.

``IOLoop.configure("tornado.platform.uvloop.UVLoopIOLoop")`` makes ``IOLoop()``
build one.  (Installing uvloop's event loop policy with ``uvloop.install()``
also makes the default `.AsyncIOLoop` use it.)  Importing this module
without uvloop installed raises `ImportError`.
"""

import asyncio

import uvloop  # the third-party package, not this module

from tornado.platform.asyncio import AsyncIOLoop


class UVLoopIOLoop(AsyncIOLoop):
    """An `.AsyncIOLoop` running on a new ``uvloop.Loop``."""

    def _new_asyncio_loop(self) -> asyncio.AbstractEventLoop:
        return uvloop.new_event_loop()
