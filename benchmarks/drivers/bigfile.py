"""One big transfer, and a small client that checks the server still answers.

``--mode upload`` POSTs ``--size`` bytes to ``/upload`` (Content-Length,
sent from a reused 1 MiB buffer); ``--mode download`` GETs ``--path`` and
discards the body.  Meanwhile a second thread sends ``GET /hello`` on its own
keep-alive connection every ``--probe-interval`` seconds and records how
long each answer takes.  Prints ``RESULT mb_per_sec=... probe_p50_ms=...
probe_max_ms=... probes=...`` (MB = 10**6 bytes).
"""

import argparse
import socket
import threading
import time

CHUNK = 1 << 20


def _read_head(sock: socket.socket, buf: bytearray) -> tuple[bytes, bytearray]:
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError(f"closed before the response head: {bytes(buf[:200])!r}")
        buf += data
    end = buf.index(b"\r\n\r\n")
    return bytes(buf[:end]), buf[end + 4:]


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ValueError(f"no Content-Length in {head[:300]!r}")


def _read_response(sock: socket.socket, buf: bytearray) -> tuple[bytes, bytes, bytearray]:
    """One response with a Content-Length body; returns head, body, leftover."""
    head, buf = _read_head(sock, buf)
    length = _content_length(head)
    while len(buf) < length:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed in the body")
        buf += data
    return head, bytes(buf[:length]), buf[length:]


def upload(port: int, size: int) -> float:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n".encode())
    chunk = memoryview(bytes(CHUNK))
    t0 = time.perf_counter()
    left = size
    while left:
        n = min(left, CHUNK)
        sock.sendall(chunk[:n])
        left -= n
    head, body, _ = _read_response(sock, bytearray())
    elapsed = time.perf_counter() - t0
    if not head.startswith(b"HTTP/1.1 200") or int(body) != size:
        raise RuntimeError(f"upload answered {head[:100]!r} {body[:100]!r}")
    sock.close()
    return elapsed


def download(port: int, path: str, size: int) -> float:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    t0 = time.perf_counter()
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head, rest = _read_head(sock, bytearray())
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"download answered {head[:200]!r}")
    length = _content_length(head)
    if length != size:
        raise RuntimeError(f"download is {length} bytes, expected {size}")
    got = len(rest)
    buf = bytearray(CHUNK)
    while got < length:
        n = sock.recv_into(buf)
        if not n:
            raise ConnectionError(f"closed after {got} of {length} bytes")
        got += n
    elapsed = time.perf_counter() - t0
    sock.close()
    return elapsed


class Probe(threading.Thread):
    """Small keep-alive GETs at a steady pace while the big transfer runs."""

    def __init__(self, port: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.interval = interval
        self.latencies: list[float] = []
        self.stop = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port))
            sock.settimeout(30)
            request = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            buf = bytearray()
            while not self.stop.is_set():
                t0 = time.perf_counter()
                sock.sendall(request)
                head, _, buf = _read_response(sock, buf)
                self.latencies.append(time.perf_counter() - t0)
                self.stop.wait(self.interval)
            sock.close()
        except Exception as e:  # reported, not raised: the transfer's figure stands
            self.error = e


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("upload", "download"), required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--path", default="/static/big.bin")
    parser.add_argument("--probe-interval", type=float, default=0.02)
    args = parser.parse_args()
    probe = Probe(args.port, args.probe_interval)
    probe.start()
    time.sleep(0.1)
    if args.mode == "upload":
        elapsed = upload(args.port, args.size)
    else:
        elapsed = download(args.port, args.path, args.size)
    probe.stop.set()
    probe.join(30)
    lat = sorted(probe.latencies) or [float("nan")]
    print(f"RESULT mb_per_sec={args.size / elapsed / 1e6:.1f} "
          f"probe_p50_ms={lat[len(lat) // 2] * 1000:.2f} probe_max_ms={lat[-1] * 1000:.2f} "
          f"probes={len(probe.latencies)} probe_errors={int(probe.error is not None)}",
          flush=True)
    if probe.error is not None:
        print(f"probe failed: {probe.error!r}", flush=True)


if __name__ == "__main__":
    main()
