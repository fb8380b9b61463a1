"""An `.IOLoop` whose asyncio loop polls with kqueue (BSD, macOS).

``IOLoop.configure("tornado.platform.kqueue.KQueueIOLoop")`` makes ``IOLoop()``
build one.  On those systems the default `.AsyncIOLoop` already uses kqueue;
this class pins the choice.  Importing this module elsewhere raises
`ImportError`.
"""

import selectors

from tornado.platform.asyncio import AsyncIOLoop

if not hasattr(selectors, "KqueueSelector"):
    raise ImportError("kqueue is not available on this platform")


class KQueueIOLoop(AsyncIOLoop):
    """An `.AsyncIOLoop` running on ``asyncio.SelectorEventLoop(KqueueSelector())``."""

    _selector_class = selectors.KqueueSelector
