"""Stopping a server gracefully: drain, signals and worker processes.

A server stopped by simply exiting breaks whatever it was doing: requests
in flight get no response, or half of one.  Draining it instead:

* stops accepting at once (the listening sockets close, after taking the
  connections the kernel had already queued on them),
* closes keep-alive connections that wait for their next request,
* lets the requests in flight finish, each response being the last of its
  connection (``Connection: close``),
* closes WebSocket connections with code 1001, "going away" (their
  handler's ``on_close`` runs),
* and at the end of the allowed time closes whatever is still open.

`drain` does this for one `.HTTPServer`.  `drain_on_signal` waits for
``SIGTERM`` or ``SIGINT`` and then drains, the usual ending of a server
started with `asyncio.run`::

    async def main():
        server = HTTPServer(make_app())
        server.listen(8888)
        await tornado.shutdown.drain_on_signal(server, timeout=30)

    asyncio.run(main())

(`.Application.listen` returns its server: ``server = app.listen(8888)``
works as well.)  `fork_processes` is `tornado.process.fork_processes` with a parent that
passes ``SIGTERM`` on to its workers (each of which drains, as above) and
exits once they have all finished.  :doc:`guide/production` shows how these
pieces make restarts that no client notices.

This builds on `.TCPServer` (the listening sockets) and `.HTTPServer`
(which knows its connections); each connection object does its own part
of the drain.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterable
from typing import Optional, Union

from tornado import process
from tornado.httpserver import HTTPServer
from tornado.log import gen_log

__all__ = ["drain", "drain_on_signal", "fork_processes"]

# How often drain looks whether the connections have all gone, in
# seconds.  (Connections end in many ways, some of them inside other
# protocols' code; looking is simpler than having each of them report.)
_POLL_INTERVAL = 0.02


async def drain(server: HTTPServer, timeout: float = 30.0) -> None:
    """Stops ``server`` gracefully, and returns when all its connections
    are closed.

    At once: the server stops accepting (`.TCPServer.stop`, after taking
    the connections already queued in the kernel, which would otherwise be
    reset); keep-alive connections waiting for a request close (one that
    has just had a response or has just been accepted is given half a
    second for its next request: that request may be on its way, and is
    then answered, as the last); requests being handled go on, their
    responses carry ``Connection: close`` (unless their head was sent
    before the drain began) and their connection closes after them;
    WebSocket connections are sent a Close frame with code 1001 ("going
    away") and end when the client answers it (their handler's
    ``on_close`` runs).  HTTP/2 connections get GOAWAY.

    After ``timeout`` seconds, every connection still open is closed
    (a long-poll request still waiting then sees its connection close;
    its handler's ``on_connection_close`` runs).

    Call it on the server's event loop.  Draining a server twice, or one
    that was already stopped, is harmless.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    server._stop_after_backlog()
    connections = server._connections
    takeovers = server._takeovers
    for conn in list(connections):
        conn._begin_drain()
    takeovers.begin_drain()
    while (connections or takeovers.open()) and loop.time() < deadline:
        await asyncio.sleep(_POLL_INTERVAL)
    left = len(connections) + len(takeovers.open())
    if left:
        gen_log.info("Drain timeout (%s s): closing %d connections", timeout, left)
    for protocol in takeovers.open():
        protocol._abort()
    while connections:
        # Each close() takes its connection out of the set.
        await next(iter(connections)).close()


async def drain_on_signal(
    servers: Union[HTTPServer, Iterable[HTTPServer]], timeout: float = 30.0,
    signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT),
) -> int:
    """Waits for one of ``signals``, then drains ``servers`` (one
    `.HTTPServer` or several) together, with `drain`; returns the number
    of the signal received.

    Meant as the last line of the coroutine given to `asyncio.run`: when
    it returns, so does the program.  The signal handlers are installed on
    the running asyncio loop when this is called and removed before it
    returns; signals that come while the drain goes on are ignored
    (``timeout`` bounds its length).  Unix only, and only in the main
    thread (`asyncio.loop.add_signal_handler`).
    """
    group = [servers] if isinstance(servers, HTTPServer) else list(servers)
    loop = asyncio.get_running_loop()
    received: asyncio.Future[int] = loop.create_future()
    wanted = tuple(signals)

    def on_signal(signum: int) -> None:
        if received.done():
            gen_log.info("Got signal %d while draining: ignored", signum)
        else:
            received.set_result(signum)

    for sig in wanted:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        signum = await received
        gen_log.info("Got signal %d: draining (%s s at most)", signum, timeout)
        await asyncio.gather(*(drain(server, timeout) for server in group))
    finally:
        for sig in wanted:
            loop.remove_signal_handler(sig)
    return signum


def fork_processes(num_processes: Optional[int], max_restarts: Optional[int] = None) -> int:
    """`tornado.process.fork_processes`, stoppable as a whole: the
    children drain when the parent gets ``SIGTERM``.

    The workers are forked, numbered and restarted as by
    `tornado.process.fork_processes`.  In addition the parent handles
    ``SIGTERM`` and ``SIGINT``: on the first of them it sends ``SIGTERM``
    to every worker, no longer restarts them, and exits with status 0
    once they have all ended.  Each worker ends its program with
    `drain_on_signal`, so that it drains and then exits::

        sockets = bind_sockets(8888)
        tornado.shutdown.fork_processes(4)

        async def worker():
            server = HTTPServer(make_app())
            server.add_sockets(sockets)
            await tornado.shutdown.drain_on_signal(server)

        asyncio.run(worker())

    (A ``SIGINT`` from the terminal reaches the workers directly too: they
    are in the parent's process group.  The signal the parent then sends
    comes while they drain and is ignored.)  The workers get the handlers
    the parent had before this call.  Not available on Windows.
    """
    return process._fork_processes(
        num_processes, max_restarts, (signal.SIGTERM, signal.SIGINT)
    )
