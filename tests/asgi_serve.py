"""Serve one of the demos through `tornado.asgi.ASGIAdapter` on an ASGI server.

Used by tests/test_asgi.py as a child process, in the way the demo tests run
the demos themselves (``test_demo_harness.Demo``)::

    python tests/asgi_serve.py --port=8000 --server=uvicorn --demo=chat [demo options]

``--server`` is uvicorn, hypercorn, granian or daphne; ``--demo`` is
helloworld, chat, websocket or blog.  The demo's module is imported from its
file as it is, its options are parsed from the remaining arguments, and its
``make_app`` builds the `.Application` (the blog's database is opened first,
as its ``main`` does).  The server listens on 127.0.0.1 only.
"""

import asyncio
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any, Dict, List, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMOS = os.path.join(REPO, "demos")
SCRIPTS = {
    "helloworld": "helloworld/helloworld.py",
    "chat": "chat/chatdemo.py",
    "websocket": "websocket/chatdemo.py",
    "blog": "blog/blog.py",
}


def import_demo(name: str) -> ModuleType:
    """The demo's module, imported from its file under a private name (its
    directory goes first on sys.path, for the blog's sibling modules)."""
    path = os.path.join(DEMOS, SCRIPTS[name])
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location("asgi_demo_" + name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def split_arguments(argv: List[str]) -> Tuple[Dict[str, str], List[str]]:
    """Our own ``--server``/``--demo`` options, and the rest (for the demo)."""
    ours: Dict[str, str] = {}
    rest = [argv[0]]
    for arg in argv[1:]:
        name, _, value = arg.partition("=")
        if name in ("--server", "--demo"):
            ours[name[2:]] = value
        else:
            rest.append(arg)
    return ours, rest


async def build(demo: ModuleType, name: str) -> Tuple[Any, List[Any]]:
    """The demo's Application, and what to close once serving ends."""
    from tornado.options import options

    if name == "blog":
        db = await demo.storage.connect(options.db)
        await db.create_schema()
        return demo.make_app(db), [db]
    return demo.make_app(), []


async def serve(server: str, asgi_app: Any, port: int) -> None:
    if server == "uvicorn":
        import uvicorn

        config = uvicorn.Config(asgi_app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        await uvicorn.Server(config).serve()
    elif server == "hypercorn":
        from hypercorn.asyncio import serve as hypercorn_serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"127.0.0.1:{port}"]
        config.loglevel = "WARNING"
        await hypercorn_serve(asgi_app, config)
    elif server == "granian":
        from granian.constants import Interfaces
        from granian.server.embed import Server

        granian_server = Server(asgi_app, address="127.0.0.1", port=port, interface=Interfaces.ASGI)
        await granian_server.serve()
    else:
        raise SystemExit(f"unknown --server={server}")


def main() -> None:
    ours, rest = split_arguments(sys.argv)
    server, name = ours.get("server", "uvicorn"), ours.get("demo", "helloworld")
    if server == "daphne":
        # daphne runs Twisted's reactor on asyncio; it must be installed
        # before anything else touches the reactor.
        from twisted.internet import asyncioreactor

        asyncioreactor.install()
    demo = import_demo(name)
    from tornado.asgi import ASGIAdapter
    from tornado.options import options, parse_command_line

    parse_command_line(rest)
    if server == "daphne":
        run_daphne(demo, name, options.port)
        return

    async def run() -> None:
        app, resources = await build(demo, name)
        try:
            await serve(server, ASGIAdapter(app), options.port)
        finally:
            for resource in resources:
                await resource.close()

    asyncio.run(run())


def run_daphne(demo: ModuleType, name: str, port: int) -> None:
    from daphne.server import Server
    from twisted.internet import reactor

    from tornado.asgi import ASGIAdapter

    loop = asyncio.get_event_loop()
    app, _ = loop.run_until_complete(build(demo, name)) if name == "blog" else (demo.make_app(), [])
    Server(ASGIAdapter(app), endpoints=[f"tcp:port={port}:interface=127.0.0.1"], verbosity=0).run()
    del reactor


if __name__ == "__main__":
    main()
