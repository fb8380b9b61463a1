"""The few WebSocket bytes the load drivers need, precomputed (RFC 6455).

The drivers never parse frames one by one: every message of a workload has
the same size, so a driver counts bytes and answers with ready-made frames.
That keeps the driver far faster than any server it measures.
"""

import asyncio
import base64
import hashlib
import os
import struct

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def handshake_request(host: str, port: int, path: str = "/ws") -> tuple[bytes, bytes]:
    """The client's upgrade request and the Sec-WebSocket-Accept it expects."""
    key = base64.b64encode(os.urandom(16))
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    return request, accept_value(key)


def accept_value(key: bytes) -> bytes:
    """RFC 6455 section 4.2.2: base64(SHA-1(key + GUID))."""
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def _header(opcode: int, length: int, masked: bool) -> bytes:
    bit = 0x80 if masked else 0
    if length < 126:
        return struct.pack("!BB", 0x80 | opcode, bit | length)
    if length < 1 << 16:
        return struct.pack("!BBH", 0x80 | opcode, bit | 126, length)
    return struct.pack("!BBQ", 0x80 | opcode, bit | 127, length)


def client_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A masked (client-to-server) final frame carrying ``payload``."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return _header(opcode, len(payload), True) + mask + masked


def server_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """An unmasked (server-to-client) final frame carrying ``payload``."""
    return _header(opcode, len(payload), False) + payload


class UpgradeProtocol(asyncio.Protocol):
    """A client connection that first reads the server's ``101`` answer.

    Subclasses set ``opened`` (resolved when the upgrade succeeds, failed
    with the answer's start when it does not) and receive every byte after
    the response head in :meth:`frames_received`.
    """

    opened: asyncio.Future
    head = b""

    def data_received(self, data: bytes) -> None:
        if not self.opened.done():
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(RuntimeError(self.head[:200]))
                return
            self.opened.set_result(None)
            data, self.head = self.head[end + 4:], b""
            if not data:
                return
        self.frames_received(data)

    def frames_received(self, data: bytes) -> None:
        raise NotImplementedError

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during handshake"))
