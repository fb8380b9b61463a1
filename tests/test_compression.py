"""Response compression with zstd, br and gzip (tornado.web.GZipContentEncoding)
and their decoding in both HTTP clients, checked with real clients: the
``curl`` command (``--compressed``), headless Chromium over HTTPS, and our
own simple and curl clients.  Bombs in each coding are refused like the
gzip one (tests/test_hostile_servers.py has the gzip bomb)."""

import asyncio
import gzip
import io
import os
import shutil
import subprocess
import threading
from typing import Any, Iterator, Optional

import pytest

from tornado import httputil, web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.httputil import _negotiate_content_coding
from tornado.netutil import bind_sockets
from tornado.simple_httpclient import SimpleAsyncHTTPClient

from support import run
from test_hostile_servers import BOMB_SIZE, HostileServer, _bomb, fetch_error

brotli = pytest.importorskip("brotli")
zstandard = pytest.importorskip("zstandard")

try:
    from tornado.curl_httpclient import CurlAsyncHTTPClient, _accept_encoding
except ImportError:  # pycurl missing
    CurlAsyncHTTPClient = None  # type: ignore[assignment,misc]

TEXT = ("Tornado compresses this line, again and again. " * 400).encode()


def decode(coding: str, data: bytes) -> bytes:
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "br":
        return brotli.decompress(data)
    if coding == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    assert coding == "identity"
    return data


# --- negotiation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept, chosen",
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("zstd", "zstd"),
        ("gzip, deflate, br, zstd", "zstd"),  # equals: the server's order
        ("gzip, deflate, br", "br"),
        ("gzip;q=1, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("zstd;q=0.9, br;q=0.95, gzip;q=0.1", "br"),
        ("GZIP", "gzip"),
        ("x-gzip", "gzip"),  # RFC 9110 section 8.4.1.3
        ("*", "zstd"),
        ("*;q=0.5, br;q=0.6", "br"),
        ("gzip;q=0, *", "zstd"),
        ("*;q=0", None),
        ("identity", None),
        ("deflate", None),
        ("gzip;q=2", None),  # not a qvalue: not acceptable
        ("gzip;q=0.0001", None),
        ("gzip ; q=0.001", "gzip"),
        ("", None),
    ],
)
def test_negotiation(accept: str, chosen: Optional[str]) -> None:
    assert _negotiate_content_coding(accept, ["zstd", "br", "gzip"]) == chosen


def test_only_gzip_without_the_optional_modules() -> None:
    # What GZipContentEncoding offers follows what is installed.
    assert web.GZipContentEncoding._CODINGS == ("zstd", "br", "gzip")
    assert _negotiate_content_coding("gzip, deflate, br, zstd", ["gzip"]) == "gzip"


# --- a server compressing ------------------------------------------------------------


class TextHandler(web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write(TEXT)


class StreamHandler(web.RequestHandler):
    async def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        for i in range(0, len(TEXT), 5000):
            self.write(TEXT[i : i + 5000])
            await self.flush()


class PageHandler(web.RequestHandler):
    def get(self) -> None:
        self.write("<html><body><pre id='t'>%s</pre></body></html>" % TEXT.decode())


class EchoHandler(web.RequestHandler):
    def get(self) -> None:
        self.write(self.request.headers.get("Accept-Encoding", ""))


class BrotliFirst(web.GZipContentEncoding):
    _CODINGS = ("br", "gzip")


class Server:
    """An Application with compress_response=True on 127.0.0.1 (HTTPS with
    the test certificate if ``tls``), served by a thread of its own."""

    def __init__(self, tls: bool = False, transforms: Optional[list] = None) -> None:
        self.transforms = transforms
        self.sockets = bind_sockets(0, "127.0.0.1")
        port = self.sockets[0].getsockname()[1]
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", port)
        self.tls = tls
        self.started = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self.thread.start()
        self.started.wait(10)

    async def _main(self) -> None:
        handlers = [("/text", TextHandler), ("/stream", StreamHandler), ("/page", PageHandler), ("/echo", EchoHandler)]
        if self.transforms is None:
            app = web.Application(handlers, compress_response=True)
        else:
            app = web.Application(handlers, transforms=self.transforms)
        ssl_options = None
        if self.tls:
            data = os.path.join(os.path.dirname(web.__file__), "test")
            ssl_options = {"certfile": os.path.join(data, "test.crt"), "keyfile": os.path.join(data, "test.key")}
        server = HTTPServer(app, ssl_options=ssl_options)
        server.add_sockets(self.sockets)
        self.stop = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.started.set()
        await self.stop.wait()
        server.stop()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def raw_get(url: str, accept: str) -> "tuple[httputil.HTTPHeaders, bytes]":
    """A plain GET with this Accept-Encoding, nothing decoded."""

    async def go() -> Any:
        client = SimpleAsyncHTTPClient(force_instance=True)
        try:
            return await client.fetch(url, headers={"Accept-Encoding": accept}, decompress_response=False)
        finally:
            client.close()

    response = run(go)
    return response.headers, response.body


@pytest.mark.parametrize("path", ["/text", "/stream"])
@pytest.mark.parametrize(
    "accept, coding",
    [("zstd", "zstd"), ("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br, zstd", "zstd"),
     ("br;q=0.5, gzip", "gzip"), ("identity", "identity")],
)
def test_server_compresses_as_negotiated(server: Server, path: str, accept: str, coding: str) -> None:
    headers, body = raw_get(server.url + path, accept)
    assert headers.get("Content-Encoding", "identity") == coding
    assert headers["Vary"] == "Accept-Encoding"
    assert decode(coding, body) == TEXT
    if coding != "identity":
        assert len(body) < len(TEXT) // 10


# --- real clients ------------------------------------------------------------------------


CURL = shutil.which("curl")


@pytest.mark.skipif(CURL is None, reason="no curl command")
@pytest.mark.parametrize("coding", ["zstd", "br", "gzip"])
def test_curl_command_decodes(server: Server, coding: str) -> None:
    # --compressed asks for every coding curl knows (zstd first here);
    # a narrower Accept-Encoding picks the others.
    feature = {"gzip": "libz", "br": "brotli", "zstd": "zstd"}[coding]
    if feature not in subprocess.run([CURL, "--version"], capture_output=True, text=True).stdout.lower():
        pytest.skip("this curl lacks %s" % coding)
    args = [CURL, "-s", "--compressed", "-D", "-", server.url + "/stream"]
    if coding != "zstd":
        args[1:1] = ["-H", "Accept-Encoding: " + coding]
    out = subprocess.run(args, capture_output=True, timeout=30, check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"\r\ncontent-encoding: " + coding.encode() in head.lower()
    assert body == TEXT


def test_chromium_decodes_br_and_zstd() -> None:
    # Chromium offers br and zstd over HTTPS only, and sets Accept-Encoding
    # itself: a second server that prefers br gets that coding chosen.
    from test_demo_harness import launch_chromium

    servers = [(Server(tls=True), "zstd"), (Server(tls=True, transforms=[BrotliFirst]), "br")]
    try:
        with launch_chromium() as browser:
            context = browser.new_context(ignore_https_errors=True)
            page = context.new_page()
            for tls_server, coding in servers:
                page.goto(tls_server.url + "/echo")
                accept = page.inner_text("body")
                assert "br" in accept and "zstd" in accept, accept
                response = page.goto(tls_server.url + "/page")
                assert response is not None
                assert response.headers.get("content-encoding") == coding
                assert page.inner_text("#t").encode() == TEXT
            context.close()
    finally:
        for tls_server, _ in servers:
            tls_server.close()


CLIENTS = ["simple"] + (["curl"] if CurlAsyncHTTPClient is not None else [])


def _client(kind: str) -> AsyncHTTPClient:
    if kind == "simple":
        return SimpleAsyncHTTPClient(force_instance=True)
    return CurlAsyncHTTPClient(force_instance=True)


def _client_codings(kind: str) -> "list[str]":
    if kind == "simple":
        return list(httputil._DECODERS)
    return _accept_encoding().split(",")


def _only(coding: str) -> type:
    return type("Only" + coding, (web.GZipContentEncoding,), {"_CODINGS": (coding,)})


@pytest.fixture(scope="module")
def single_coding_servers() -> Iterator["dict[str, Server]"]:
    """A server for each coding that offers that one only."""
    servers = {coding: Server(transforms=[_only(coding)]) for coding in ("zstd", "br", "gzip")}
    yield servers
    for s in servers.values():
        s.close()


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("coding", ["zstd", "br", "gzip"])
def test_our_clients_decode(single_coding_servers: "dict[str, Server]", kind: str, coding: str) -> None:
    if coding not in _client_codings(kind):
        pytest.skip("this libcurl lacks %s (the pycurl wheels have br only)" % coding)
    server = single_coding_servers[coding]

    async def go() -> Any:
        client = _client(kind)
        try:
            offered = await client.fetch(server.url + "/echo", decompress_response=True)
            response = await client.fetch(server.url + "/stream", decompress_response=True)
            return offered.body.decode(), response
        finally:
            client.close()

    offered, response = run(go)
    assert coding in offered
    assert response.body == TEXT
    if kind == "simple":
        assert response.headers["X-Consumed-Content-Encoding"] == coding


# --- bombs ----------------------------------------------------------------------------------

_ZEROS = b"\0" * BOMB_SIZE
BOMBS = {
    "br": brotli.compress(_ZEROS, quality=5),
    "zstd": zstandard.ZstdCompressor(level=3).compress(_ZEROS),
}


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_bomb_is_refused(kind: str, coding: str) -> None:
    if coding not in _client_codings(kind):
        pytest.skip("this libcurl lacks %s (the pycurl wheels have br only)" % coding)
    from test_hostile_servers import MAX_BODY

    bomb = BOMBS[coding]
    assert len(bomb) < BOMB_SIZE // 100
    error, elapsed, peak = fetch_error(kind, _bomb(coding, bomb))
    assert isinstance(error, HTTPClientError) and error.code == 599, error
    assert elapsed < 10, elapsed
    # Bounded by max_body_size, not by what the bomb holds.
    assert peak < 4 * MAX_BODY + len(bomb), peak


def test_truncated_and_corrupt_data_are_errors() -> None:
    for coding, packed in [("br", brotli.compress(TEXT)), ("zstd", zstandard.ZstdCompressor().compress(TEXT))]:
        for broken in [packed[: len(packed) // 2], packed[:10] + b"\xff" * 20 + packed[30:]]:
            error, _, _ = fetch_error("simple", _bomb(coding, broken), request_timeout=5)
            assert error.code == 599, error
    assert HostileServer  # (imported for the fixtures it shares)


# --- the decoders themselves ---------------------------------------------------------------


def _decode_all(coding: str, data: bytes, step: int = 7) -> bytes:
    decoder = httputil._content_decoder(coding, httputil._DECODERS)
    assert decoder is not None
    out = b""
    for i in range(0, len(data), step):
        out += decoder.decode(data[i : i + step], 4096)
        while decoder.pending:
            piece = decoder.decode(b"", 4096)
            assert len(piece) <= 2 * 1024 * 1024
            out += piece
    return out + decoder.finish()


def test_decoders_round_trip_in_pieces() -> None:
    zstd = zstandard.ZstdCompressor()
    for coding, packed in [
        ("gzip", gzip.compress(TEXT)),
        ("br", brotli.compress(TEXT)),
        ("zstd", zstd.compress(TEXT)),
        ("zstd", zstd.compress(TEXT) + zstd.compress(b"!")),  # two frames (RFC 8878 3.1)
    ]:
        for step in (1, 7, 100000):
            assert _decode_all(coding, packed, step) in (TEXT, TEXT + b"!")


def test_zstd_decoder_refuses_large_windows_and_garbage() -> None:
    # RFC 9659: windows over 8 MB need not be decoded; refusing them bounds
    # the memory a response can make us allocate.
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=24)
    big_window = zstandard.ZstdCompressor(compression_params=params)
    packed = b"".join(big_window.read_to_iter(io.BytesIO(os.urandom(1 << 16))))
    with pytest.raises(zstandard.ZstdError):
        _decode_all("zstd", packed)
    with pytest.raises(zstandard.ZstdError):
        _decode_all("zstd", zstandard.ZstdCompressor().compress(b"a") + b"garbage")
    with pytest.raises(ValueError, match="truncated"):
        _decode_all("zstd", zstandard.ZstdCompressor().compress(TEXT)[:-3])
    with pytest.raises(ValueError, match="truncated"):
        _decode_all("br", brotli.compress(TEXT)[:-3])


def test_server_decodes_gzip_request_bodies_only() -> None:
    # decompress_request=True is unchanged: a br body reaches the
    # application as it was sent.
    from tornado.http1connection import HTTP1Connection, HTTP1ConnectionParameters, _GzipMessageDelegate
    from tornado.httputil import HTTPHeaders, HTTPMessageDelegate, RequestStartLine

    class Sink(HTTPMessageDelegate):
        def headers_received(self, start_line: Any, headers: HTTPHeaders) -> None:
            self.headers = headers

    class FakeStream:
        max_buffer_size = 1 << 20

    for is_client, decoded in [(False, False), (True, True)]:
        connection = HTTP1Connection(FakeStream(), is_client, HTTP1ConnectionParameters(decompress=True))  # type: ignore[arg-type]
        sink = Sink()
        wrapper = _GzipMessageDelegate(sink, connection)
        wrapper.headers_received(RequestStartLine("POST", "/", "HTTP/1.1"), HTTPHeaders({"Content-Encoding": "br"}))
        assert ("Content-Encoding" not in sink.headers) == decoded
