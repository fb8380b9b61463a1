"""Idle HTTP/1.1 connections kept for reuse by `.SimpleAsyncHTTPClient`.

Tornado's simple client opens a connection per request and closes it
after the response (it sends ``Connection: close``).  This package adds an
opt-in: ``SimpleAsyncHTTPClient(keep_alive=True)`` (also through
``AsyncHTTPClient.configure(None, keep_alive=True)``) keeps the connection
of a finished exchange, when HTTP/1.1 allows it, and gives it to the next
request for the same origin.  That saves the TCP (and TLS) handshake and
the connect machinery of every request after the first.

This module is only the bookkeeping of idle connections, free of HTTP:
`_IdleConnections` holds `.IOStream` objects under a key (the client builds
it from scheme, host, port and the connection options), hands out the
most recently used one first (its peer is the least likely to have timed
it out), drops connections that the peer closes while they sit idle (the
stream's close callback, which makes the stream watch for the close), and
closes those that sat idle longer than ``idle_timeout`` seconds or did not
fit in ``max_idle``.  Which connections may be kept (RFC 9112 section 9.3)
and when a request is retried on a fresh connection is decided by
``simple_httpclient``.
"""

from __future__ import annotations

import functools
from typing import Dict, Hashable, List, Optional, Tuple

from tornado.ioloop import IOLoop
from tornado.iostream import IOStream

# How long a connection may sit unused by default, in seconds.  Servers
# close idle connections after their own timeout (nginx: 75 s, Apache:
# 5 s, Tornado's HTTPServer: none unless idle_connection_timeout is set);
# a request sent just as the server closes is retried once if idempotent,
# so this only needs to keep connections from piling up.
DEFAULT_IDLE_TIMEOUT = 30.0


class _IdleConnections:
    """Idle keep-alive streams by key.

    `put` takes a stream whose exchange is complete (nothing unread,
    nothing being written); `take` returns one for a key, or None.  Once
    `close` has run the object takes nothing more.
    """

    def __init__(self, io_loop: IOLoop, max_idle: int, idle_timeout: float) -> None:
        if max_idle < 0:
            raise ValueError("max_idle must not be negative, got %r" % (max_idle,))
        if not idle_timeout > 0:
            raise ValueError("keep_alive_timeout must be positive, got %r" % (idle_timeout,))
        self._io_loop = io_loop
        self._max_idle = max_idle
        self._idle_timeout = idle_timeout
        # Per key, (stream, time it became idle), oldest first.
        self._idle: Dict[Hashable, List[Tuple[IOStream, float]]] = {}
        self._count = 0
        self._timer: Optional[object] = None
        self._closed = False

    def __len__(self) -> int:
        return self._count

    def take(self, key: Hashable) -> Optional[IOStream]:
        """The most recently idle usable stream under ``key``, no longer
        watched; None if there is none.  Streams found closed, expired or
        with unsolicited bytes buffered are closed and skipped."""
        entries = self._idle.get(key)
        if not entries:
            return None
        oldest_allowed = self._io_loop.time() - self._idle_timeout
        while entries:
            stream, since = entries.pop()
            self._count -= 1
            stream.set_close_callback(None)
            # Bytes that arrived while idle answer no request of ours (a
            # server may send a 408 before closing): the framing is lost.
            if stream.closed() or since < oldest_allowed or stream._read_buffer:
                stream.close()
                continue
            if not entries:
                del self._idle[key]
            return stream
        del self._idle[key]
        return None

    def put(self, key: Hashable, stream: IOStream) -> None:
        """Keeps ``stream`` (idle, at a message boundary) under ``key``;
        closes it instead if the pool is closed or ``max_idle`` is 0."""
        if self._closed or self._max_idle == 0 or stream.closed():
            stream.close()
            return
        if self._count >= self._max_idle:
            self._evict_oldest()
        now = self._io_loop.time()
        self._idle.setdefault(key, []).append((stream, now))
        self._count += 1
        # The close callback makes an idle stream listen for the peer's
        # close, so a dead connection leaves the pool at once.
        stream.set_close_callback(functools.partial(self._forget, key, stream))
        if self._timer is None:
            self._timer = self._io_loop.call_at(now + self._idle_timeout, self._expire)

    def close(self) -> None:
        """Closes every idle stream; later `put` calls close theirs."""
        self._closed = True
        if self._timer is not None:
            self._io_loop.remove_timeout(self._timer)
            self._timer = None
        idle, self._idle = self._idle, {}
        self._count = 0
        for entries in idle.values():
            for stream, _since in entries:
                stream.set_close_callback(None)
                stream.close()

    def _forget(self, key: Hashable, stream: IOStream) -> None:
        """The close callback of an idle stream: drops it from the pool."""
        entries = self._idle.get(key)
        if not entries:
            return
        for i, (candidate, _since) in enumerate(entries):
            if candidate is stream:
                del entries[i]
                self._count -= 1
                if not entries:
                    del self._idle[key]
                return

    def _evict_oldest(self) -> None:
        key = min(self._idle, key=lambda k: self._idle[k][0][1])
        entries = self._idle[key]
        stream, _since = entries.pop(0)
        self._count -= 1
        if not entries:
            del self._idle[key]
        stream.set_close_callback(None)
        stream.close()

    def _expire(self) -> None:
        """Closes the streams idle for ``idle_timeout`` or longer, and
        sets the timer for the next one to expire."""
        self._timer = None
        now = self._io_loop.time()
        oldest_allowed = now - self._idle_timeout
        next_since: Optional[float] = None
        for key in list(self._idle):
            entries = self._idle[key]
            while entries and entries[0][1] <= oldest_allowed:
                stream, _since = entries.pop(0)
                self._count -= 1
                stream.set_close_callback(None)
                stream.close()
            if not entries:
                del self._idle[key]
            elif next_since is None or entries[0][1] < next_since:
                next_since = entries[0][1]
        if next_since is not None:
            self._timer = self._io_loop.call_at(next_since + self._idle_timeout, self._expire)
