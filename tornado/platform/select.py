"""An `.IOLoop` whose asyncio loop polls with select(), available everywhere.

``IOLoop.configure("tornado.platform.select.SelectIOLoop")`` makes ``IOLoop()``
build one.  select() is limited to descriptors below ``FD_SETSIZE`` (usually
1024) and costs time proportional to the number of descriptors watched, so
it is mostly useful where no better poller exists, and for testing.
"""

import selectors

from tornado.platform.asyncio import AsyncIOLoop


class SelectIOLoop(AsyncIOLoop):
    """An `.AsyncIOLoop` running on ``asyncio.SelectorEventLoop(SelectSelector())``."""

    _selector_class = selectors.SelectSelector
