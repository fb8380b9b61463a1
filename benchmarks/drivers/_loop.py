"""Run a driver's coroutine on the fastest event loop at hand.

The drivers are the load generators, not contestants: they use uvloop when
the interpreter running them has it, and asyncio's own loop otherwise.
"""

import asyncio
import resource
from typing import Any, Coroutine


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
