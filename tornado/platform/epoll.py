"""An `.IOLoop` whose asyncio loop polls with epoll (Linux).

``IOLoop.configure("tornado.platform.epoll.EPollIOLoop")`` makes ``IOLoop()``
build one.  On Linux the default `.AsyncIOLoop` already uses epoll; this
class pins the choice.  Importing this module elsewhere raises `ImportError`.
"""

import selectors

from tornado.platform.asyncio import AsyncIOLoop

if not hasattr(selectors, "EpollSelector"):
    raise ImportError("epoll is not available on this platform")


class EPollIOLoop(AsyncIOLoop):
    """An `.AsyncIOLoop` running on ``asyncio.SelectorEventLoop(EpollSelector())``."""

    _selector_class = selectors.EpollSelector
