"""Buffered, non-blocking streams over sockets and pipes.

`IOStream` wraps a non-blocking socket, `SSLIOStream` a TLS socket and
`PipeIOStream` a pipe.  Reads (`~BaseIOStream.read_until`,
`~BaseIOStream.read_bytes`, `~BaseIOStream.read_into`, ...) and writes
return Futures; a closed stream fails them with `StreamClosedError`.
The HTTP server and clients are built on these classes.

How it works
------------

A stream registers its file descriptor with the `.IOLoop`
(``add_handler``) and keeps one event mask (``_state``) that it only
widens while working and recomputes after each event, so that the loop's
registration changes rarely.  While idle with an empty read buffer it
keeps listening for reads, which is how a peer's close is noticed.

Reads are attempted synchronously first: a read that the buffer (or one
non-blocking ``recv``) can satisfy returns an already-resolved Future
without a trip through the loop.  Incoming bytes land in a thread-local
scratch buffer (``recv_into``, no allocation) and are appended to one
``bytearray`` per stream; consuming from its front is O(1) in CPython.
``read_into`` reads straight into the caller's buffer.

Writes are sent at once when nothing is queued; only what the socket
refuses is queued, in a `_StreamBuffer` that coalesces small chunks and
keeps large ones by reference (releasing its views as soon as they are
written, so a caller may resize its ``bytearray`` afterwards).

Both buffers are bounded: ``max_buffer_size`` for reads (exceeding it
closes the stream with `StreamBufferFullError` as the cause) and
``max_write_buffer_size`` for writes (``write`` raises
`StreamBufferFullError`).
"""

from __future__ import annotations

import asyncio
import collections
import errno
import io
import numbers
import os
import re
import socket
import _socket
import ssl
import sys
import threading
from collections.abc import Awaitable, Callable
from re import Pattern
from types import TracebackType
from typing import Any, Optional, Union

from tornado import ioloop
from tornado.concurrent import Future
from tornado.log import gen_log
from tornado.netutil import (
    _SSLOptions,
    _default_tls_context,
    ssl_wrap_socket,
)
from tornado.util import errno_from_exception

_ExcInfo = tuple[
    Optional[type[BaseException]], Optional[BaseException], Optional[TracebackType]
]
_CloseReason = Union[None, bool, BaseException, _ExcInfo]

# errno values by which the OS says the peer is gone.  A stream treats them
# like an orderly end of file: it closes without logging a warning.  The
# WSA* names exist on Windows only.
_ERRNO_CONNRESET = frozenset(
    getattr(errno, _name)
    for _name in (
        "ECONNRESET ECONNABORTED EPIPE ETIMEDOUT WSAECONNRESET WSAECONNABORTED WSAETIMEDOUT"
    ).split()
    if hasattr(errno, _name)
)

# OpenSSL's read and write calls take an int length: stay well under 2GB.
_SSL_MAX_IO = 1 << 30

# Socket families on which TCP options apply.
_TCP_FAMILIES = (socket.AF_INET, socket.AF_INET6)
# A socket's family as a plain int (the C-level attribute under the
# socket.socket property that converts it to an enum).
_socket_family = _socket.socket.family.__get__

_WINDOWS = sys.platform.startswith("win")

# The value of a stream's _connecting (otherwise a bool) while a connect
# that completed inside connect() waits to be reported.
_ESTABLISHED_EARLY = 2

_DEFAULT_MAX_BUFFER = 100 * 1024 * 1024
# How many chunks a push-mode stream reads per event before it lets the
# other connections have a turn.
_PUSH_READS_PER_EVENT = 4
_DEFAULT_CHUNK = 64 * 1024

# errno values of a TLS handshake interrupted because the socket is no
# longer usable (0 is what some platforms report for a vanished peer).
_HANDSHAKE_GONE = (0, errno.EBADF, errno.ENOTCONN)

_READ = ioloop.IOLoop.READ
_WRITE = ioloop.IOLoop.WRITE
_ERROR = ioloop.IOLoop.ERROR


class StreamClosedError(IOError):
    """The stream was closed, before or during the operation.

    ``real_error`` holds the exception that closed it (for instance a
    `ConnectionResetError`, an `ssl.SSLError` or a
    `StreamBufferFullError`), or None if it was closed normally.

    .. versionchanged:: 4.3
       Added the ``real_error`` attribute.
    """

    def __init__(self, real_error: Optional[BaseException] = None) -> None:
        super().__init__("Stream is closed")
        self.real_error = real_error


class UnsatisfiableReadError(Exception):
    """A read can't be satisfied: ``read_until`` or ``read_until_regex``
    found no match within ``max_bytes``.  The stream is closed."""

    pass


class StreamBufferFullError(Exception):
    """A stream's read or write buffer would exceed its size limit."""

    pass


class _StreamBuffer:
    """The queue of bytes waiting to be written.

    Small chunks are copied and coalesced into bytearrays (so many small
    writes become few ``send`` calls); chunks larger than
    ``_large_buf_threshold`` are kept by reference as memoryviews, released
    as soon as they have been consumed so the caller may resize its buffer.
    """

    # Many streams never queue anything (the socket takes each write at
    # once), and an empty deque costs ~760 bytes: the queue is an empty
    # tuple until something has to wait, and again once it has drained.
    __slots__ = ("_buffers", "_first_pos", "_size", "_large_buf_threshold")

    def __init__(self) -> None:
        # Each item is a bytearray (coalesced small chunks) or a memoryview
        # (one large chunk, by reference).
        self._buffers: Union[tuple[()], collections.deque[Union[bytearray, memoryview]]] = ()
        # How much of _buffers[0] has been consumed already.
        self._first_pos = 0
        self._size = 0
        self._large_buf_threshold = 2048

    def __len__(self) -> int:
        return self._size

    def append(self, data: Union[bytes, bytearray, memoryview]) -> None:
        """Adds ``data`` (a byte buffer with one-byte items) at the end."""
        size = len(data)
        if not size:
            return
        buffers = self._buffers
        item: Union[bytearray, memoryview]
        if size > self._large_buf_threshold:
            # Our own view, so that releasing it never disturbs the caller's.
            item = memoryview(data)
        else:
            if buffers:
                last = buffers[-1]
                if type(last) is bytearray and len(last) < self._large_buf_threshold:
                    last += data
                    self._size += size
                    return
            item = bytearray(data)
        if type(buffers) is tuple:
            buffers = self._buffers = collections.deque()
        buffers.append(item)  # type: ignore[union-attr]
        self._size += size

    def peek(self, size: int) -> memoryview:
        """Returns a view of up to ``size`` bytes from the front.

        The view covers the first chunk only, so it may be shorter than
        ``size``; it is empty when the buffer is.  The caller must release
        it (``view.release()`` or a ``with`` block) before changing the
        buffer.
        """
        if not self._buffers:
            return memoryview(b"")
        first = self._buffers[0]
        pos = self._first_pos
        if type(first) is memoryview:
            return first[pos : pos + size]
        return memoryview(first)[pos : pos + size]

    def advance(self, size: int) -> None:
        """Drops ``size`` bytes (0 < size <= len(self)) from the front."""
        assert 0 < size <= self._size
        self._size -= size
        buffers = self._buffers
        assert type(buffers) is not tuple
        pos = self._first_pos
        while size:
            first = buffers[0]
            remaining = len(first) - pos
            if size < remaining:
                pos += size
                break
            size -= remaining
            buffers.popleft()
            if type(first) is memoryview:
                first.release()
            pos = 0
        self._first_pos = pos
        if not buffers:
            self._buffers = ()

    def clear(self) -> None:
        """Drops everything, releasing the views of callers' buffers."""
        for item in self._buffers:
            if type(item) is memoryview:
                item.release()
        self._buffers = ()
        self._first_pos = 0
        self._size = 0


class _ReadScratch(threading.local):
    """Per-thread buffer that ``recv_into`` fills before the bytes are
    appended to a stream's read buffer.

    Reading into a fresh ``bytearray(chunk_size)`` would allocate and zero
    64KB per read; one scratch buffer per thread costs a copy of only the
    bytes that arrived.
    """

    def __init__(self) -> None:
        self.view = memoryview(bytearray(65536))


_scratch = _ReadScratch()

# Compiled read_until_regex patterns.  Protocols use a handful of fixed
# patterns, once per message; re.compile's own cache costs more per call.
_regex_cache: dict[bytes, Pattern[bytes]] = {}


def _scratch_view(size: int) -> memoryview:
    view = _scratch.view
    if len(view) < size:
        view = _scratch.view = memoryview(bytearray(size))
    return view


# The most one os.sendfile call is asked to send (the kernel sends what the
# socket buffer takes), and how much may go out without waiting before a
# file transfer gives other connections a turn.
_SENDFILE_BLOCK = 1 << 30
_SENDFILE_YIELD_BYTES = 4 << 20


class BaseIOStream:
    """Buffered reads and writes over a non-blocking file descriptor.

    Subclasses supply the descriptor: `fileno`, `close_fd`,
    `read_from_fd`, `write_to_fd` and optionally `get_fd_error`.

    Only one read may be pending at a time; writes may be queued freely.
    Every read and write returns a Future; when the stream closes, those
    still pending fail with `StreamClosedError`.  All methods must be
    called from the thread of the stream's `.IOLoop`.
    """

    # Set while IOStream._send_file waits for the socket to take more (a
    # class default: most streams never send a file).
    _writable_waiter: "Optional[Future[None]]" = None

    def __init__(
        self,
        max_buffer_size: Optional[int] = None,
        read_chunk_size: Optional[int] = None,
        max_write_buffer_size: Optional[int] = None,
    ) -> None:
        """``max_buffer_size`` (default 100MB) bounds the read buffer;
        ``read_chunk_size`` (default 64KB, at most half of
        ``max_buffer_size``) is the most read from the descriptor at once;
        ``max_write_buffer_size`` (default unbounded) bounds the bytes
        waiting to be written.

        .. versionchanged:: 5.0
           The ``io_loop`` argument has been removed.
        """
        self.max_write_buffer_size = max_write_buffer_size
        self.max_buffer_size = limit = max_buffer_size or _DEFAULT_MAX_BUFFER
        # Capped at half the buffer limit, so that one chunk can always be
        # taken in without overflowing the buffer.
        self.read_chunk_size = min(read_chunk_size or _DEFAULT_CHUNK, limit // 2)
        self.io_loop = ioloop.IOLoop.current()
        self.error: Optional[BaseException] = None
        self._read_buffer = bytearray()
        self._write_buffer = _StreamBuffer()
        self._total_write_index = 0
        self._total_write_done_index = 0
        # The pending read: its future and what would satisfy it.
        self._read_future: Optional[Future] = None
        self._read_delimiter: Optional[bytes] = None
        self._read_regex: Optional[Pattern[bytes]] = None
        self._read_max_bytes: Optional[int] = None
        self._read_bytes: Optional[int] = None
        self._read_partial = False
        # Offset up to which the buffer is known not to hold the delimiter
        # (so long read_until calls don't rescan from the start).
        self._delimiter_scanned = 0
        # The push-mode reader (see _set_data_callback), if any.
        self._data_callback: Optional[Callable[[bytes], None]] = None
        # Futures of writes still (partly) queued, with the write index
        # each waits for; created when first needed (see _StreamBuffer).
        self._write_futures: Optional[collections.deque[tuple[int, Future[None]]]] = None
        self._close_callback: Optional[Callable[[], None]] = None
        self._connect_future: Optional[Future[Any]] = None
        # _ssl_connect_future lives here so that close() can fail it.
        self._ssl_connect_future: Optional[Future[Any]] = None
        self._connecting: int = False  # a bool, or _ESTABLISHED_EARLY
        self._state: Optional[int] = None
        self._closed = False
        # True when the last read from the descriptor came back short (so it
        # had nothing more) and no readiness event has arrived since; a new
        # read then waits for the event instead of trying a read that would
        # only fail with EAGAIN.  See _short_read_drains.
        self._fd_drained = False

    # Instance attributes: CPython keeps an object's attributes compactly
    # (about 8 bytes each) only while its class has seen fewer than 30
    # names and no more than one added after __init__; past that every
    # instance gets a full dict of ~1.3 KB.  Thousands of idle WebSockets
    # make that count, so __init__ sets every attribute that the usual
    # paths use, and those of rarer paths are class defaults below, only
    # assigned by the streams that take them.

    # read_until_close is pending.
    _read_until_close = False
    # read_into's destination while it is pending, and how much of it is
    # filled.
    _into_view: Optional[memoryview] = None
    _into_filled = 0

    # Whether a short read proves the descriptor empty.  True for sockets
    # and pipes; not for TLS, whose library may hold decrypted data back.
    _short_read_drains = False

    # -- What subclasses provide ---------------------------------------

    def fileno(self) -> Any:
        """Returns the file descriptor (or an object with a ``fileno()``
        method, such as a socket) that the stream reads and writes."""
        raise NotImplementedError()

    def close_fd(self) -> None:
        """Closes the underlying file descriptor.

        Called once, by `close`; other code should call `close` instead.
        """
        raise NotImplementedError()

    def write_to_fd(self, data: memoryview) -> int:
        """Writes as much of ``data`` as the descriptor accepts now and
        returns how much that was (0 or `BlockingIOError` if none)."""
        raise NotImplementedError()

    def read_from_fd(self, buf: Union[bytearray, memoryview]) -> Optional[int]:
        """Reads up to ``len(buf)`` bytes into ``buf``.

        Returns the number of bytes read, ``None`` if nothing is available
        yet (the descriptor would block) and 0 at end of file.

        .. versionchanged:: 5.0
           Takes a buffer to fill instead of returning new bytes.
        """
        raise NotImplementedError()

    def get_fd_error(self) -> Optional[Exception]:
        """Returns the pending error on the descriptor, if there is one.

        Called when the `.IOLoop` reports an error condition; the stream
        keeps the result in ``self.error``.
        """
        return None

    # -- Reading -----------------------------------------------------------

    def read_until_regex(
        self, regex: bytes, max_bytes: Optional[int] = None
    ) -> Awaitable[bytes]:
        """Reads until ``regex`` (a bytes pattern) matches; the result runs
        to the end of the match.

        With ``max_bytes``, a match that doesn't end within that many bytes
        makes the read unsatisfiable: the stream is closed (the Future fails
        with `StreamClosedError` whose ``real_error`` is an
        `UnsatisfiableReadError`).

        .. versionchanged:: 6.0
           Returns a Future; the ``callback`` argument was removed.
        """
        future = self._start_read()
        pattern = _regex_cache.get(regex)
        if pattern is None:
            pattern = re.compile(regex)
            if len(_regex_cache) < 64:
                _regex_cache[regex] = pattern
        self._read_regex = pattern
        self._read_max_bytes = max_bytes
        self._inline_read_or_close(future)
        return future

    def read_until(
        self, delimiter: bytes, max_bytes: Optional[int] = None
    ) -> Awaitable[bytes]:
        """Reads until ``delimiter``; the result ends with it.

        ``max_bytes`` works as for `read_until_regex`.

        .. versionchanged:: 6.0
           Returns a Future; the ``callback`` argument was removed.
        """
        future = self._start_read()
        self._read_delimiter = delimiter
        self._read_max_bytes = max_bytes
        self._delimiter_scanned = 0
        self._inline_read_or_close(future)
        return future

    def read_bytes(self, num_bytes: int, partial: bool = False) -> Awaitable[bytes]:
        """Reads ``num_bytes`` bytes.

        With ``partial=True`` the read completes as soon as any bytes are
        available, returning up to ``num_bytes`` of them (never an empty
        result, except for ``num_bytes=0``).

        .. versionchanged:: 6.0
           Returns a Future; the ``callback`` and ``streaming_callback``
           arguments were removed.
        """
        if not isinstance(num_bytes, numbers.Integral):
            raise TypeError(f"num_bytes must be an integer, not {num_bytes!r}")
        future = self._start_read()
        self._read_bytes = int(num_bytes)
        self._read_partial = partial
        self._inline_read_or_close(future)
        return future

    def read_into(self, buf: Any, partial: bool = False) -> Awaitable[int]:
        """Reads into the writable buffer ``buf`` until it is full.

        The result is the number of bytes read.  With ``partial=True`` the
        read completes as soon as any bytes have arrived.  ``buf`` must not
        be touched until the Future resolves; after that no view of it is
        kept, so it may be resized.

        .. versionadded:: 5.0
        """
        future = self._start_read()
        view = memoryview(buf)
        if view.itemsize != 1 or view.format != "B":
            base, view = view, view.cast("B")
            base.release()
        size = len(view)
        buffered = len(self._read_buffer)
        taken = min(buffered, size)
        if taken:
            with memoryview(self._read_buffer) as source:
                view[:taken] = source[:taken]
            del self._read_buffer[:taken]
        self._into_view = view
        self._into_filled = taken
        self._read_bytes = size
        self._read_partial = partial
        self._inline_read_or_close(future)
        return future

    def read_until_close(self) -> Awaitable[bytes]:
        """Reads everything until the peer closes the stream.

        If the stream is closed by an error other than a connection reset,
        the Future fails with `StreamClosedError` (``real_error`` set)
        instead of returning what had arrived, so a truncated result is
        never mistaken for a complete one.

        .. versionchanged:: 6.0
           Returns a Future; the ``callback`` and ``streaming_callback``
           arguments were removed.
        """
        future = self._start_read()
        if self.closed():
            self._finish_read_until_close()
            # Fails the Future if the close was an error.
            self._signal_closed()
            return future
        self._read_until_close = True
        self._inline_read_or_close(future)
        return future

    def reading(self) -> bool:
        """Returns True while a read is pending."""
        return self._read_future is not None or self._data_callback is not None

    def _set_data_callback(self, callback: Optional[Callable[[bytes], None]]) -> None:
        """Push mode, for protocols that take whatever arrives (WebSocket):
        ``callback(data)`` gets the bytes with no Future and no trip
        through the IOLoop's callback queue per arrival.

        Setting a callback first hands it what is already buffered (within
        this call), then each read event calls it from the event handler
        with what that event read (a chunk of up to ``read_chunk_size`` at
        a time).  No ``read_*`` call may be pending or made meanwhile.
        ``None`` pauses: bytes that arrive stay buffered, or in the kernel
        once something is buffered, as on a stream with no pending read;
        the next callback gets them first.  The callback may write, close
        or change the callback.  The end of the stream is not passed on:
        the stream closes as usual, which the close callback reports.
        """
        if callback is not None and self._read_future is not None:
            raise AssertionError("Already reading")
        self._data_callback = callback
        if callback is None or self._closed:
            return
        if self._read_buffer:
            callback(self._consume(len(self._read_buffer)))
            if self._data_callback is not callback or self._closed:
                return
        state = self._state
        if state is None or not state & _READ:
            self._add_io_state(_READ)

    # -- Writing -------------------------------------------------------------

    def write(self, data: Union[bytes, memoryview]) -> "Future[None]":
        """Writes ``data`` (bytes, bytearray or memoryview) to the stream.

        Returns a Future that resolves once this data and everything
        written before it has been handed to the operating system.  Waiting
        for it is optional (writes may be queued freely) and is the way to
        apply flow control.

        Raises `StreamBufferFullError` if the data would take the queue
        beyond ``max_write_buffer_size``, and `StreamClosedError` on a
        closed stream.  A large ``bytearray`` is queued by reference and
        must not be changed until the Future resolves.

        .. versionchanged:: 6.0
           Returns a Future; the ``callback`` argument was removed.
        """
        if self._closed:
            raise StreamClosedError(real_error=self.error)
        if type(data) is not bytes and isinstance(data, memoryview):
            if data.itemsize != 1 or data.format != "B":
                data = data.cast("B")
        size = len(data)
        buffer = self._write_buffer
        limit = self.max_write_buffer_size
        if limit is not None and buffer._size + size > limit:
            raise StreamBufferFullError("Reached maximum write buffer size")
        self._total_write_index += size
        future: Future[None] = Future()
        if self._connecting:
            self._queue_write_future(future)
            if size:
                buffer.append(data)
            return future
        if size and not buffer._size and self._can_write_now():
            # Nothing queued: hand the data straight to the socket and
            # queue only what it refuses.
            written = self._write_some(data)
            if written < 0:
                # An error closed the stream.
                _fail_quietly(future, StreamClosedError(real_error=self.error))
                return future
            self._total_write_done_index += written
            if written == size and not self._write_futures:
                # The common case (a response that the kernel takes at
                # once) in short: the Future is resolved here, without
                # going through the queue of write Futures.
                future.set_result(None)
                if self._state is None or self._state == _ERROR:
                    self._maybe_add_error_listener()
                return future
            self._queue_write_future(future)
            if written < size:
                with memoryview(data) as view:
                    buffer.append(view[written:])
            self._resolve_write_futures()
        else:
            self._queue_write_future(future)
            if size:
                buffer.append(data)
                self._handle_write()
            else:
                self._resolve_write_futures()
        if buffer._size:
            self._add_io_state(_WRITE)
        self._maybe_add_error_listener()
        return future

    def writing(self) -> bool:
        """Returns True while written data is still waiting to be sent."""
        return self._write_buffer._size > 0 or self._writable_waiter is not None

    # -- Lifetime --------------------------------------------------------------

    def set_close_callback(self, callback: Optional[Callable[[], None]]) -> None:
        """Calls ``callback`` (on the next loop iteration) when the stream
        closes.

        Futures already tell their callers about a close; the callback is
        for noticing it while no read or write is pending.  Setting it on
        an already closed stream schedules it at once.
        """
        self._close_callback = callback
        if self._closed:
            self._signal_closed()
        else:
            self._maybe_add_error_listener()

    def close(self, exc_info: _CloseReason = False) -> None:
        """Closes the stream.

        ``exc_info`` says why, if it was a failure: an exception, a
        `sys.exc_info` tuple, or True for whatever exception is being
        handled right now.  The exception is kept in ``self.error`` and
        becomes the ``real_error`` of the `StreamClosedError` with which
        pending Futures fail.  A read that the already buffered bytes can
        satisfy completes normally instead of failing.
        """
        if self._closed:
            # Nothing left to tear down; a close callback set since the
            # close is still owed its call.
            self._signal_closed()
            return
        if exc_info:
            self._record_close_reason(exc_info)
        self._settle_read_at_close()
        registered, self._state = self._state, None
        if registered is not None:
            self.io_loop.remove_handler(self.fileno())
        self._closed = True
        try:
            # This can raise (EBADF when someone closed the descriptor
            # under us), but Futures and the close callback must still
            # hear about the close.
            self.close_fd()
        finally:
            self._signal_closed()

    def _record_close_reason(self, reason: Union[bool, BaseException, _ExcInfo]) -> None:
        if isinstance(reason, BaseException):
            self.error = reason
        elif isinstance(reason, tuple):
            self.error = reason[1]
        else:
            handling = sys.exc_info()[1]
            if handling is not None:
                self.error = handling

    def _settle_read_at_close(self) -> None:
        """Gives the pending read what it can have now that no more bytes
        will come."""
        if self._read_until_close:
            self._read_until_close = False
            self._finish_read_until_close()
            return
        if self._read_future is None or self._into_view is not None:
            return
        # The bytes that arrived together with the close may be enough.
        try:
            end = self._find_read_pos()
        except UnsatisfiableReadError:
            return
        if end is not None:
            self._read_from_buffer(end)

    def closed(self) -> bool:
        """Returns True once the stream has been closed."""
        return self._closed

    def set_nodelay(self, value: bool) -> None:
        """Turns Nagle's algorithm off (``value=True``) or back on.

        With it off, small writes go out at once instead of waiting to be
        coalesced, which lowers latency.  Applies to TCP streams only.

        .. versionadded:: 3.1
        """
        pass

    # -- Internals ---------------------------------------------------------

    def _start_read(self) -> Future:
        if self._read_future is not None or self._data_callback is not None:
            # A read left unresolved by a close is the common way to get
            # here (e.g. an HTTP connection reading the next request after
            # the peer went away); say so rather than "Already reading".
            self._check_closed()
            raise AssertionError("Already reading")
        future: Future = Future()
        self._read_future = future
        return future

    def _inline_read_or_close(self, future: Future) -> None:
        try:
            self._try_inline_read()
        except UnsatisfiableReadError as exc:
            # The caller learns of it through the Future, exactly as if the
            # data had arrived later.
            self._close_unsatisfiable(exc)
        except BaseException:
            _consume_exception_later(future)
            raise

    def _close_unsatisfiable(self, exc: UnsatisfiableReadError) -> None:
        gen_log.info("Unsatisfiable read, closing connection: %s", exc)
        self.close(exc_info=exc)

    def _try_inline_read(self) -> None:
        """Completes the pending read from the buffer, or from a synchronous
        read of the descriptor, or else starts listening for data."""
        end = self._find_read_pos()
        if end is not None:
            self._read_from_buffer(end)
            return
        self._check_closed()
        if not self._fd_drained:
            end = self._read_to_buffer_loop()
            if end is not None:
                self._read_from_buffer(end)
                return
        state = self._state
        if (state is None or not state & _READ) and not self._closed:
            self._add_io_state(_READ)

    def _read_to_buffer_loop(self) -> Optional[int]:
        """Reads until the pending read can complete or the descriptor has
        nothing more; returns the read position if it can complete."""
        if self._read_bytes is not None:
            target: Optional[int] = self._read_bytes
        elif self._read_max_bytes is not None:
            target = self._read_max_bytes
        elif self._read_future is not None:
            # read_until_close, or a delimiter with no limit: drain what
            # is there.
            target = None
        else:
            # Only listening for a close: one chunk is enough.
            target = 0
        next_find_pos = 0
        while not self._closed:
            if self._read_to_buffer() == 0:
                break
            size = self._into_filled if self._into_view is not None else len(self._read_buffer)
            if (target is not None and size >= target) or self._fd_drained:
                # Enough, or all there is for now.
                break
            # Searching after every chunk would be quadratic for a long
            # read_until; search when the buffer has doubled instead, and
            # once more below.
            if size >= next_find_pos:
                pos = self._find_read_pos()
                if pos is not None:
                    return pos
                next_find_pos = size * 2
        return self._find_read_pos()

    def _read_to_buffer(self) -> int:
        """Reads one chunk; returns how many bytes arrived (0 if none or
        at end of file, in which case the stream is closed)."""
        into = self._into_view
        if into is not None:
            buf = into[self._into_filled :]
        else:
            size = self.read_chunk_size
            buf = _scratch.view
            if len(buf) != size:
                buf = _scratch_view(size)[:size]
        try:
            try:
                count = self.read_from_fd(buf)
            except Exception as e:
                self.close(exc_info=e)
                if self._is_connreset(e):
                    # The peer went away; like an end of file, without a
                    # warning.
                    return 0
                raise
            if not count:
                if count == 0:
                    self.close()
                else:
                    self._fd_drained = self._short_read_drains
                return 0
            if count < len(buf):
                self._fd_drained = self._short_read_drains
            if into is not None:
                self._into_filled += count
                return count
            self._read_buffer += buf[:count]
        finally:
            if into is not None:
                buf.release()
        if len(self._read_buffer) > self.max_buffer_size:
            gen_log.error("Reached maximum read buffer size")
            error = StreamBufferFullError("Reached maximum read buffer size")
            self.close(exc_info=error)
            raise error
        return count

    def _buffered_size(self) -> int:
        if self._into_view is not None:
            return self._into_filled
        return len(self._read_buffer)

    def _find_read_pos(self) -> Optional[int]:
        """Returns how many buffered bytes complete the pending read, or
        None if the buffer can't satisfy it yet.

        Raises `UnsatisfiableReadError` when ``max_bytes`` rules it out.
        """
        if self._read_bytes is not None:
            size = self._buffered_size()
            if size >= self._read_bytes or (self._read_partial and size > 0):
                return min(self._read_bytes, size)
            return None
        buf = self._read_buffer
        if self._read_delimiter is not None:
            if buf:
                delimiter = self._read_delimiter
                start = max(0, self._delimiter_scanned - len(delimiter) + 1)
                loc = buf.find(delimiter, start)
                if loc != -1:
                    end = loc + len(delimiter)
                    self._check_max_bytes(delimiter, end)
                    return end
                self._delimiter_scanned = len(buf)
                self._check_max_bytes(delimiter, len(buf))
        elif self._read_regex is not None:
            if buf:
                m = self._read_regex.search(buf)
                if m is not None:
                    end = m.end()
                    self._check_max_bytes(self._read_regex.pattern, end)
                    return end
                self._check_max_bytes(self._read_regex.pattern, len(buf))
        return None

    def _check_max_bytes(self, delimiter: Union[bytes, str], size: int) -> None:
        if self._read_max_bytes is not None and size > self._read_max_bytes:
            raise UnsatisfiableReadError(
                f"delimiter {delimiter!r} not found within {self._read_max_bytes} bytes"
            )

    def _read_from_buffer(self, pos: int) -> None:
        """Completes the pending read with the first ``pos`` bytes."""
        self._read_bytes = None
        self._read_delimiter = None
        self._read_regex = None
        self._read_max_bytes = None
        self._read_partial = False
        self._finish_read(pos)

    def _finish_read(self, size: int) -> None:
        result: Any
        into = self._into_view
        if into is not None:
            self._into_view = None
            self._into_filled = 0
            into.release()
            result = size
        else:
            result = self._consume(size)
        future = self._read_future
        self._read_future = None
        if future is not None and not future.cancelled():
            future.set_result(result)
        if self._state is None or self._state == _ERROR:
            self._maybe_add_error_listener()

    def _finish_read_until_close(self) -> None:
        """Resolves a read_until_close on a closed stream: with the data,
        unless an error (other than a reset) closed it."""
        if self.error is None or self._is_connreset(self.error):
            self._finish_read(len(self._read_buffer))
        # Otherwise _signal_closed fails the Future with the error.

    def _consume(self, size: int) -> bytes:
        if size == 0:
            return b""
        buf = self._read_buffer
        if size == len(buf):
            data = bytes(buf)
            buf.clear()
            return data
        with memoryview(buf) as view:
            data = view[:size].tobytes()
        del buf[:size]
        return data

    def _can_write_now(self) -> bool:
        """Whether write() may send directly (SSL says no mid-handshake)."""
        return True

    def _write_some(self, data: Any) -> int:
        """Writes what the descriptor takes; -1 if an error closed the stream."""
        try:
            return self.write_to_fd(data)
        except BlockingIOError:
            return 0
        except Exception as e:
            if not self._is_connreset(e):
                # A reset peer is routine; anything else deserves a note.
                gen_log.warning("Write error on %s: %s", self.fileno(), e)
            self.close(exc_info=e)
            return -1

    def _handle_write(self) -> None:
        buf = self._write_buffer
        while True:
            size = len(buf)
            if not size:
                break
            if _WINDOWS:
                # Windows refuses sends much larger than its socket buffer.
                size = 128 * 1024
            view = buf.peek(size)
            try:
                written = self._write_some(view)
            finally:
                view.release()
            if written <= 0:
                if written < 0:
                    return
                break
            buf.advance(written)
            self._total_write_done_index += written
        self._resolve_write_futures()
        waiter = self._writable_waiter
        if waiter is not None and not buf._size:
            # IOStream._send_file waits for room in the socket.
            self._writable_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _queue_write_future(self, future: "Future[None]") -> None:
        """Queues ``future`` to resolve once everything written so far has
        been sent."""
        futures = self._write_futures
        if futures is None:
            futures = self._write_futures = collections.deque()
        futures.append((self._total_write_index, future))

    def _resolve_write_futures(self) -> None:
        futures = self._write_futures
        if futures is None:
            return
        done = self._total_write_done_index
        while futures:
            index, future = futures[0]
            if index > done:
                break
            futures.popleft()
            if not future.cancelled():
                future.set_result(None)
        if not futures:
            # An empty deque is big; most streams rarely need one.
            self._write_futures = None

    def _push_data(self) -> None:
        """Reads for the data callback (see _set_data_callback)."""
        for _ in range(_PUSH_READS_PER_EVENT):
            try:
                count = self._read_to_buffer()
            except Exception as exc:
                self._fail_read(exc)
                return
            callback = self._data_callback
            if self._read_buffer and callback is not None:
                callback(self._consume(len(self._read_buffer)))
            if not count or self._fd_drained or self._closed or self._data_callback is None:
                return
        # More may be waiting: let the other connections have a turn first,
        # then come back even without an event (a TLS connection can hold
        # decrypted bytes that no event will announce).
        self.io_loop.add_callback(self._handle_events, self.fileno(), _READ)

    def _handle_read(self) -> None:
        if self._data_callback is not None:
            self._push_data()
            return
        try:
            end = self._read_to_buffer_loop()
        except UnsatisfiableReadError:
            # _handle_events logs it and closes.
            raise
        except Exception as exc:
            self._fail_read(exc)
        else:
            if end is not None:
                self._read_from_buffer(end)

    def _fail_read(self, exc: Exception) -> None:
        gen_log.warning("error on read: %s", exc)
        self.close(exc_info=exc)

    def _handle_connect(self) -> None:
        raise NotImplementedError()

    def _handle_events(self, fd: Any, events: int) -> None:
        if self._closed:
            return
        readable = events & _READ
        if readable:
            # Readiness reported: a read may find data again.
            self._fd_drained = False
        try:
            if self._connecting:
                # Whatever the event, it may be the verdict on a connect
                # (a refused one can show up as readable).
                self._handle_connect()
            if readable and not self._closed:
                self._handle_read()
            if events & _WRITE and not self._closed:
                self._handle_write()
            if self._closed:
                return
            if not events & _ERROR:
                self._update_io_state()
                return
            self.error = self.get_fd_error()
            # Closing from a callback lets whatever the reads and writes
            # above scheduled run first.
            self.io_loop.add_callback(self.close)
        except UnsatisfiableReadError as exc:
            self._close_unsatisfiable(exc)
        except Exception as exc:
            gen_log.error("Uncaught exception, closing connection.", exc_info=True)
            self.close(exc_info=exc)
            raise

    def _update_io_state(self) -> None:
        """Narrows the loop registration to what is still needed."""
        state = _ERROR
        if self.reading():
            state |= _READ
        if self.writing():
            state |= _WRITE
        if state == _ERROR and not self._read_buffer:
            # Idle: keep listening so that a close by the peer is noticed.
            state |= _READ
        if state != self._state:
            assert self._state is not None, "events for an unregistered stream"
            self._state = state
            self.io_loop.update_handler(self.fileno(), state)

    def _add_io_state(self, state: int) -> None:
        """Widens the loop registration to include ``state``."""
        if self._closed:
            return
        if self._state is None:
            self._state = _ERROR | state
            self.io_loop.add_handler(self.fileno(), self._handle_events, self._state)
        elif not self._state & state:
            self._state = self._state | state
            self.io_loop.update_handler(self.fileno(), self._state)

    def _maybe_add_error_listener(self) -> None:
        # Called when a read or write completes: an idle stream with a close
        # callback and nothing buffered listens for reads so that the
        # callback runs when the peer closes.
        if self._state is None or self._state == _ERROR:
            if (
                not self._closed
                and not self._read_buffer
                and self._close_callback is not None
            ):
                self._add_io_state(_READ)

    def _check_closed(self) -> None:
        if self._closed:
            raise StreamClosedError(real_error=self.error)

    def _signal_closed(self) -> None:
        why = self.error
        read_waiter, self._read_future = self._read_future, None
        connect_waiter, self._connect_future = self._connect_future, None
        waiters = [] if read_waiter is None else [read_waiter]
        if self._write_futures is not None:
            waiters += [waiter for _, waiter in self._write_futures]
            self._write_futures = None
        if connect_waiter is not None:
            waiters.append(connect_waiter)
        if self._writable_waiter is not None:
            waiters.append(self._writable_waiter)
            self._writable_waiter = None
        for waiter in waiters:
            _fail_quietly(waiter, StreamClosedError(real_error=why))
        handshake_waiter, self._ssl_connect_future = self._ssl_connect_future, None
        if handshake_waiter is not None:
            # A handshake that failed reports the TLS error itself rather
            # than a plain close.
            tls_failure = isinstance(why, ssl.SSLError)
            _fail_quietly(handshake_waiter, why if tls_failure else StreamClosedError(real_error=why))  # type: ignore[arg-type]
        self._data_callback = None
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            self.io_loop.add_callback(callback)
        # Drop our hold on buffers that belong to callers right away, even
        # if this stream object itself lingers.
        view = self._into_view
        if view is not None:
            self._into_view = None
            view.release()
        self._write_buffer.clear()
        self._read_bytes = self._read_delimiter = self._read_regex = None

    def _is_connreset(self, exc: BaseException) -> bool:
        """True if ``exc`` means the peer went away."""
        return (
            isinstance(exc, OSError)
            and errno_from_exception(exc) in _ERRNO_CONNRESET
        )


def _is_connected(sock: socket.socket) -> bool:
    try:
        sock.getpeername()
    except OSError:
        return False
    return True


def _fail_quietly(future: Future, exc: BaseException) -> None:
    """Fails ``future`` (if still pending) with ``exc`` and marks the
    exception as seen: many writers never look at their Futures, and
    asyncio would log every unretrieved one."""
    if not future.done():
        future.set_exception(exc)
    if not future.cancelled():
        future.exception()


def _consume_exception_later(future: Future) -> None:
    # For a Future whose failure nobody will look at (a read that raised
    # synchronously, to be failed by the close; the TCP step of a TLS
    # connect): keep asyncio from logging it.
    future.add_done_callback(lambda f: f.cancelled() or f.exception())


class IOStream(BaseIOStream):
    """A stream over a non-blocking socket.

    The socket may be connected already (e.g. one returned by
    `socket.socket.accept`) or be connected with `connect`::

        import socket
        from tornado.iostream import IOStream

        async def fetch_head(host: str) -> bytes:
            stream = IOStream(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            await stream.connect((host, 80))
            await stream.write(b"HEAD / HTTP/1.0\\r\\nHost: " + host.encode() + b"\\r\\n\\r\\n")
            header = await stream.read_until(b"\\r\\n\\r\\n")
            stream.close()
            return header

    `tornado.tcpclient.TCPClient` resolves names and connects for you.
    """

    _short_read_drains = True

    def __init__(self, socket: socket.socket, *args: Any, **kwargs: Any) -> None:
        self.socket = socket
        self.socket.setblocking(False)
        super().__init__(*args, **kwargs)

    def fileno(self) -> Any:
        return self.socket

    def read_from_fd(self, buf: Union[bytearray, memoryview]) -> Optional[int]:
        try:
            return self.socket.recv_into(buf, len(buf))
        except BlockingIOError:
            return None

    def write_to_fd(self, data: memoryview) -> int:
        return self.socket.send(data)  # type: ignore[arg-type]

    def close_fd(self) -> None:
        # The attribute goes None first, so a second call is harmless.
        sock, self.socket = self.socket, None  # type: ignore[assignment]
        if sock is not None:
            sock.close()

    async def _send_file(self, fd: int, offset: int, count: int) -> None:
        """Sends ``count`` bytes of the open file ``fd`` from ``offset``,
        after everything written before, with ``os.sendfile``: the kernel
        moves the bytes from the page cache to the socket, never through
        Python (zero copy).

        Raises `StreamClosedError` if the stream closes (or is closed
        here, when the file turns out shorter than ``count``: the peer
        could no longer tell where the message ends).  Gives the IOLoop a
        turn after every `_SENDFILE_YIELD_BYTES` sent without waiting, so
        that a fast reader does not hold up other connections.  Plain
        sockets only: TLS must encrypt in user space.
        """
        await self.write(b"")
        sock = self.socket
        unyielded = 0
        while count > 0:
            self._check_closed()
            try:
                sent = os.sendfile(sock.fileno(), fd, offset, min(count, _SENDFILE_BLOCK))
            except BlockingIOError:
                waiter: Future[None] = Future()
                self._writable_waiter = waiter
                self._add_io_state(_WRITE)
                await waiter
                unyielded = 0
                continue
            except OSError as e:
                self.close(exc_info=e)
                raise StreamClosedError(real_error=e)
            if sent == 0:
                self.close()
                raise StreamClosedError()
            offset += sent
            count -= sent
            self._total_write_index += sent
            self._total_write_done_index += sent
            unyielded += sent
            if unyielded >= _SENDFILE_YIELD_BYTES:
                unyielded = 0
                await asyncio.sleep(0)

    def _pending_socket_error(self) -> int:
        return self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)

    def get_fd_error(self) -> Optional[Exception]:
        code = self._pending_socket_error()
        return OSError(code, os.strerror(code))

    def connect(
        self, address: Any, server_hostname: Optional[str] = None
    ) -> "Future[IOStream]":
        """Connects the socket to ``address`` without blocking.

        ``address`` is what `socket.socket.connect` takes, e.g.
        ``("127.0.0.1", 80)``; a host name in it is resolved with a
        *blocking* lookup, so prefer `.TCPClient` or a `.Resolver`.
        Returns a Future resolving to the stream itself.  Writes and reads
        may be started before it resolves; they wait for the connection.
        On failure the Future fails with `StreamClosedError` and the cause
        is in ``self.error``.

        ``server_hostname`` is used by `SSLIOStream` only.

        .. versionchanged:: 6.0
           The ``callback`` argument was removed.
        """
        future: Future[IOStream] = Future()
        self._connect_future = future
        self._connecting = True
        try:
            self.socket.connect(address)
        except BlockingIOError:
            # EINPROGRESS, what a non-blocking connect normally says.  With
            # a local peer the handshake has often completed inside
            # connect() all the same; otherwise the socket becoming
            # writable will tell.
            if not _is_connected(self.socket):
                self._add_io_state(_WRITE)
                return future
        except OSError as exc:
            # An immediate refusal (some systems do that for local
            # addresses), reported through the Future just like a refusal
            # that arrives later.
            self.close(exc_info=exc)
            return future
        # Connected already: no need to register with the IOLoop and wait
        # for an event.  The Future still resolves from the loop, after
        # the I/O callbacks of its next iteration, just as if a poll had
        # reported the connection: callers may queue writes or close
        # meanwhile, and a peer that resets the connection in between (a
        # server closing its listening socket, say) is still noticed.
        self._connecting = _ESTABLISHED_EARLY
        self.io_loop.add_callback(self._connected_early, True)
        return future

    @property
    def _established_early(self) -> bool:
        """True from a connect() that found the connection established
        already until its Future resolves (so TCPClient needs no connect
        deadline for it)."""
        return self._connecting == _ESTABLISHED_EARLY

    def _connected_early(self, first_pass: bool = False) -> None:
        if first_pass:
            # This pass runs before the I/O callbacks of its iteration;
            # one more hop puts the check after them.
            self.io_loop.add_callback(self._connected_early)
            return
        if self._closed or not self._connecting:
            return
        self._handle_connect()
        if not self._closed and self.writing():
            # Writes queued while connecting.
            self._add_io_state(_WRITE)

    def start_tls(
        self,
        server_side: bool,
        ssl_options: Optional[_SSLOptions] = None,
        server_hostname: Optional[str] = None,
    ) -> Awaitable["SSLIOStream"]:
        """Upgrades this connection to TLS (as in STARTTLS, RFC 3207).

        Returns a Future resolving to a new `SSLIOStream` once the handshake
        has completed; this stream must not be used afterwards.  The stream
        must be idle (nothing buffered or pending), which is normal in
        protocols that negotiate TLS.  ``ssl_options`` is an
        `ssl.SSLContext` or a dictionary for `ssl.SSLContext.wrap_socket`;
        by default the client verifies the server's certificate and
        ``server_hostname``.  A failed handshake fails the Future with the
        `ssl.SSLError`; cancelling the Future closes the connection.

        .. versionadded:: 4.0
        .. versionchanged:: 4.2
           SSL certificates are validated by default.
        """
        busy = (
            self._closed or self._connect_future is not None
            or self._read_future is not None or self._data_callback is not None
            or bool(self._read_buffer)
            or bool(self._write_futures) or bool(self._write_buffer)
        )
        if busy:
            raise ValueError("IOStream is not idle; cannot convert to SSL")
        if ssl_options is None:
            ssl_options = _default_tls_context(server_side)
        sock = self.socket
        if self._state is not None:
            self.io_loop.remove_handler(sock)
            self._state = None
        # The socket now belongs to the new stream; this one is spent.
        self.socket = None  # type: ignore[assignment]
        self._closed = True
        tls_socket = ssl_wrap_socket(
            sock,
            ssl_options,
            server_hostname=server_hostname,
            server_side=server_side,
            do_handshake_on_connect=False,
        )
        close_callback = self._close_callback
        self._close_callback = None
        future: Future[SSLIOStream] = Future()
        tls_stream = SSLIOStream(
            tls_socket,
            ssl_options=ssl_options,
            max_buffer_size=self.max_buffer_size,
            read_chunk_size=self.read_chunk_size,
            max_write_buffer_size=self.max_write_buffer_size,
        )
        tls_stream.set_close_callback(close_callback)
        tls_stream._ssl_connect_future = future

        def closed_if_cancelled(f: Future) -> None:
            # An abandoned handshake must not leave the socket open.
            if f.cancelled():
                tls_stream.close()

        future.add_done_callback(closed_if_cancelled)
        return future

    def _handle_connect(self) -> None:
        try:
            code = self._pending_socket_error()
        except OSError as exc:
            # Where a loopback connect fails synchronously, some systems
            # then refuse SO_ERROR altogether; nothing is pending then.
            if errno_from_exception(exc) != errno.ENOPROTOOPT:
                raise
            code = 0
        if code:
            # OSError(errno, ...) builds the matching subclass, e.g.
            # ConnectionRefusedError.
            self.error = OSError(code, os.strerror(code))
            self.close()
            return
        self._connecting = False
        waiter, self._connect_future = self._connect_future, None
        if waiter is not None and not waiter.cancelled():
            waiter.set_result(self)

    def set_nodelay(self, value: bool) -> None:
        sock = self.socket
        # (The raw family: socket.family builds an enum member, which costs
        # more than the setsockopt itself.)
        if sock is None or _socket_family(sock) not in _TCP_FAMILIES:
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(bool(value)))
        except OSError as exc:
            # A peer that already hung up makes this fail (EINVAL on
            # macOS); there is nothing left to tune then.
            if exc.errno != errno.EINVAL and not self._is_connreset(exc):
                raise


class SSLIOStream(IOStream):
    """A stream over a TLS socket.

    Give it a plain socket and ``ssl_options`` (an `ssl.SSLContext` or a
    dictionary for `ssl.SSLContext.wrap_socket`) and call `connect`; or give
    it a socket already wrapped with ``do_handshake_on_connect=False``
    (as servers do), and the handshake starts by itself.  Reads and writes
    wait for the handshake; `wait_for_handshake` tells when it is done.
    """

    socket: ssl.SSLSocket
    _short_read_drains = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """``ssl_options`` (keyword only) configures the client side;
        it defaults to verifying certificates and host names."""
        if "ssl_options" in kwargs:
            self._ssl_options = kwargs.pop("ssl_options")
        else:
            self._ssl_options = _default_tls_context(False)
        super().__init__(*args, **kwargs)
        self._server_hostname: Optional[str] = None
        self._ssl_accepting = True
        self._handshake_reading = self._handshake_writing = False
        if _is_connected(self.socket):
            # A server-side socket: start the handshake on the first event.
            self._add_io_state(_WRITE)

    def reading(self) -> bool:
        return self._handshake_reading or super().reading()

    def writing(self) -> bool:
        return self._handshake_writing or super().writing()

    def connect(
        self, address: Any, server_hostname: Optional[str] = None
    ) -> "Future[SSLIOStream]":
        """Connects and performs the TLS handshake; resolves to the stream.

        ``server_hostname`` (default: none) is sent for SNI and checked
        against the certificate when the context checks host names.  A
        failed handshake fails the Future with the `ssl.SSLError`.
        """
        self._server_hostname = server_hostname
        # The handshake Future reports TCP failures too.
        tcp_future = super().connect(address)
        _consume_exception_later(tcp_future)
        return self.wait_for_handshake()

    def wait_for_handshake(self) -> "Future[SSLIOStream]":
        """Returns a Future that resolves to the stream once the TLS
        handshake has completed (at once if it already has).

        Servers use it to read the negotiated certificate or protocol
        before doing any I/O.  Only one wait may be pending; a second call
        meanwhile raises `RuntimeError`.

        .. versionadded:: 4.2
        .. versionchanged:: 6.0
           The ``callback`` argument was removed.
        """
        if self._ssl_connect_future is not None:
            raise RuntimeError("Already waiting")
        future: Future[SSLIOStream] = Future()
        self._ssl_connect_future = future
        if not self._ssl_accepting:
            self._finish_ssl_connect()
        elif self._closed:
            self._signal_closed()
        return future

    def read_from_fd(self, buf: Union[bytearray, memoryview]) -> Optional[int]:
        if self._ssl_accepting:
            # No application data can be read before the handshake ends.
            return None
        if len(buf) > _SSL_MAX_IO:
            buf = memoryview(buf)[:_SSL_MAX_IO]
        try:
            return self.socket.recv_into(buf, len(buf))
        except (ssl.SSLWantReadError, BlockingIOError):
            return None

    def write_to_fd(self, data: memoryview) -> int:
        if len(data) > _SSL_MAX_IO:
            # A partial write is fine: the rest stays queued.
            data = memoryview(data)[:_SSL_MAX_IO]
        try:
            return self.socket.send(data)  # type: ignore[arg-type]
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
            # TLS's way of saying EAGAIN.
            return 0

    def _can_write_now(self) -> bool:
        return not self._ssl_accepting

    def _is_connreset(self, exc: BaseException) -> bool:
        if isinstance(exc, ssl.SSLError) and exc.args[0] == ssl.SSL_ERROR_EOF:
            return True
        return super()._is_connreset(exc)

    def _do_ssl_handshake(self) -> None:
        self._handshake_reading = self._handshake_writing = False
        try:
            self.socket.do_handshake()
        except ssl.SSLWantReadError:
            self._handshake_reading = True
        except ssl.SSLWantWriteError:
            self._handshake_writing = True
        except ssl.SSLError as err:
            self._handshake_failed(err)
        except OSError as err:
            # The peer reset the connection or the socket went away while
            # negotiating: close quietly.  Other errors are bugs.
            if not (self._is_connreset(err) or err.args[0] in _HANDSHAKE_GONE):
                raise
            self.close(exc_info=err)
        except AttributeError as err:
            # Seen on some systems when the connection was reset before
            # wrapping: the SSLSocket then lacks its SSL object.
            self.close(exc_info=err)
        else:
            self._ssl_accepting = False
            self._finish_ssl_connect()
            # The last handshake record may have carried application data.
            if not self._closed and (
                self._read_future is not None or self._data_callback is not None
            ):
                self._handle_read()

    def _handshake_failed(self, err: ssl.SSLError) -> None:
        # Reported in one line without a traceback: it is almost always
        # the peer's doing (an untrusted certificate, plain HTTP sent to
        # a TLS port, ...).  A mere end of stream is not even reported.
        if err.args[0] not in (ssl.SSL_ERROR_EOF, ssl.SSL_ERROR_ZERO_RETURN):
            gen_log.warning(
                "SSL Error on %s %s: %s", self.socket.fileno(), self._peer_for_log(), err
            )
        self.close(exc_info=err)

    def _peer_for_log(self) -> Any:
        try:
            return self.socket.getpeername()
        except Exception:
            return "(not connected)"

    def _finish_ssl_connect(self) -> None:
        waiter, self._ssl_connect_future = self._ssl_connect_future, None
        if waiter is not None and not waiter.cancelled():
            waiter.set_result(self)

    # Until the handshake is over, every readiness event goes to it.

    def _handle_write(self) -> None:
        if not self._ssl_accepting:
            super()._handle_write()
        else:
            self._do_ssl_handshake()

    def _handle_read(self) -> None:
        if not self._ssl_accepting:
            super()._handle_read()
        else:
            self._do_ssl_handshake()

    def _handle_connect(self) -> None:
        super()._handle_connect()
        if self._closed:
            return
        # Now that TCP is up, put TLS on top.  Wrapping detaches the plain
        # socket object the IOLoop knows from the descriptor, so that
        # registration goes first and the TLS socket is registered anew.
        events, self._state = self._state, None
        if events is not None:
            self.io_loop.remove_handler(self.socket)
        self.socket = ssl_wrap_socket(
            self.socket, self._ssl_options, server_hostname=self._server_hostname,
            server_side=False, do_handshake_on_connect=False,
        )
        self._add_io_state(events or _WRITE)


class PipeIOStream(BaseIOStream):
    """A stream over a pipe, or any file descriptor that is not a socket.

    The stream owns ``fd`` from then on: it switches it to non-blocking
    mode and closes it when the stream closes.  Unavailable on Windows.
    """

    _short_read_drains = True

    def __init__(self, fd: int, *args: Any, **kwargs: Any) -> None:
        if sys.platform == "win32":
            raise AssertionError("PipeIOStream is not supported on Windows")
        self.fd = fd
        # FileIO.readinto answers None rather than raising when the pipe
        # is empty, which is just what read_from_fd must return.
        self._fio = io.FileIO(fd, "r+")
        os.set_blocking(fd, False)
        super().__init__(*args, **kwargs)

    def fileno(self) -> int:
        return self.fd

    def read_from_fd(self, buf: Union[bytearray, memoryview]) -> Optional[int]:
        try:
            return self._fio.readinto(buf)  # type: ignore[arg-type]
        except OSError as exc:
            if errno_from_exception(exc) != errno.EBADF:
                raise
            # When the writing end has gone away, a read may fail with
            # EBADF where a socket would just report end of file.
            self.close(exc_info=exc)
            return None

    def write_to_fd(self, data: memoryview) -> int:
        return os.write(self.fd, data)

    def close_fd(self) -> None:
        self._fio.close()


def doctests() -> Any:
    """The doctests of this module, as a `unittest` suite."""
    import doctest

    return doctest.DocTestSuite()
