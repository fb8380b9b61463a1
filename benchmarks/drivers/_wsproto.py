"""The few WebSocket bytes the load drivers need, precomputed (RFC 6455).

The drivers never parse frames one by one: every message of a workload has
the same size, so a driver counts bytes and answers with ready-made frames.
That keeps the driver far faster than any server it measures.
"""

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
