"""What every benchmark server serves, so the implementations do equal work."""

import argparse
import asyncio
import os
import resource
import sys
from typing import Any, Coroutine

HELLO = "Hello, world"

#: The JSON workload's document (serialized per request by each framework).
JSON_DOC = {
    "message": "Hello, world",
    "id": 12345,
    "active": True,
    "ratio": 0.75,
    "tags": ["web", "async", "python"],
    "owner": {"name": "Ada", "email": "ada@example.com"},
}

#: The template workload's context: 20 rows, names with characters to escape.
ITEMS = [
    {"id": i, "name": f"Item <{i}> & co", "price": 9.5 + i} for i in range(20)
]
TITLE = "Catalogue"
USER = "bench <user>"

#: Message the broadcast workload sends to every idle WebSocket (16 bytes).
BROADCAST = "broadcast-message"[:16]

HERE = os.path.dirname(os.path.abspath(__file__))

WORKLOADS = ("hello", "json", "template", "wsecho", "wsidle", "upload", "download")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="benchmark server")
    parser.add_argument("--workload", choices=WORKLOADS, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--static-dir", default=HERE)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="the event loop the server runs on")
    return parser.parse_args()


def run(coro: Coroutine[Any, Any, Any], loop: str) -> Any:
    """Run the server's main coroutine on asyncio's own loop or on uvloop."""
    if loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def ready() -> None:
    """Tell the harness (reading our stdout) that we listen."""
    sys.stdout.write("READY\n")
    sys.stdout.flush()
