"""Tornado: an asynchronous networking library and web framework.

This package is an independent implementation of the Tornado API (version 6.6).
Submodules are imported on first use, so ``import tornado`` is cheap and
``tornado.web.RequestHandler`` works without an explicit ``import tornado.web``.
Importing any module never creates or touches an asyncio event loop.
"""

import importlib
import typing

# The Tornado API level this package implements.  Libraries compare
# ``version_info`` against the releases they support, so it follows the
# reference numbering.
version = "6.6.1"
version_info = (6, 6, 1, 0)

# The submodules that ``from tornado import *`` and the API listing cover.
# (websocket and wsgi are importable too, but the 6.6 listing leaves them out.)
__all__ = sorted(
    """
    auth autoreload concurrent curl_httpclient escape gen http1connection
    httpclient httpserver httputil ioloop iostream locale locks log netutil
    options platform process queues routing simple_httpclient tcpclient
    tcpserver template testing util web
    """.split()
)

_LAZY_SUBMODULES = frozenset(__all__) | {"websocket", "wsgi", "asgi"}


def __getattr__(name: str) -> typing.Any:
    # PEP 562: load a submodule the first time it is referred to.  The import
    # system stores it as an attribute of this package, so this hook runs at
    # most once per submodule.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
