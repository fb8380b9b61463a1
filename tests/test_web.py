"""Tests for tornado.web: the pure helpers on their own, and handlers
answering real HTTP requests on 127.0.0.1."""

import asyncio
import contextvars
import gzip
import hashlib
import logging
import os
import re
import socket
import tempfile
import threading
import time
import urllib.parse

import pytest

from tornado import gen
from tornado.escape import json_decode
from tornado.httputil import HTTPHeaders, HTTPMessageDelegate, HTTPServerConnectionDelegate
from tornado.httputil import HTTPServerRequest, RequestStartLine
from tornado.iostream import IOStream
from tornado.locks import Event
from tornado.template import DictLoader, Template
from tornado.testing import AsyncHTTPTestCase, ExpectLog, gen_test
from tornado.log import app_log, gen_log
from tornado.routing import Matcher, PathMatches, Rule
from tornado.web import Application, RequestHandler, StaticFileHandler, UIModule, url
from tornado.web import ErrorHandler, Finish, HTTPError, MissingArgumentError, RedirectHandler
from tornado.web import addslash, authenticated, removeslash, stream_request_body
from tornado.web import create_signed_value, decode_signed_value, get_signature_key_version
from tornado.web import _browser_origin, _check_redirect_target, _content_range, _parse_request_range
from tornado.web import _encode_xsrf_token, _if_none_match_hits, _languages_by_preference
from tornado.web import _max_age_attribute, _parse_xsrf_token
from support import respond_ok

# Pure helpers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "header,expected",
    [
        ("bytes=0-9", (0, 10)),
        ("bytes=5-", (5, None)),
        ("bytes=-4", (-4, None)),
        ("bytes=-0", (None, 0)),
        ("bytes=26", (26, None)),
        ("bytes=10-3", (10, 4)),
        (" bytes = 1-2 ", (1, 3)),
        ("items=0-1", None),
        ("bytes=a-b", None),
        ("bytes=0-1,3-4", None),
        ("asdf", None),
    ],
)
def test_parse_request_range(header, expected):
    assert _parse_request_range(header) == expected


def test_content_range():
    assert _content_range(None, 1, 4) == "bytes 0-0/4"
    assert _content_range(1, 3, 4) == "bytes 1-2/4"
    assert _content_range(2, None, 4) == "bytes 2-3/4"


@pytest.mark.parametrize(
    "url,expected",
    [
        ("/path", ("", "")),
        ("path", ("", "")),
        ("//evil.com/x", ("", "evil.com")),
        ("/\\evil.com", ("", "evil.com")),
        ("/\t/evil.com", ("", "evil.com")),
        ("https://Example.com:8080/x", ("https", "example.com:8080")),
        ("https:evil.com", ("https", "evil.com")),
        ("https:////evil.com", ("https", "evil.com")),
        ("javascript:alert(1)", ("javascript", "")),
        ("  //x.com", ("", "x.com")),
    ],
)
def test_browser_origin(url, expected):
    assert _browser_origin(url) == expected


def test_check_redirect_target():
    _check_redirect_target("/{0}/dest", "/ok/dest")
    _check_redirect_target("https://example.com{0}", "https://example.com/x")
    for template, result in [
        ("/{0}/dest", "//evil.com/dest"),
        ("https://example.com{0}", "https://example.com.evil.com/x"),
        ("https://{0}", "https://evil.com"),
        ("{0}", "javascript:alert(1)"),
    ]:
        with pytest.raises(HTTPError) as info:
            _check_redirect_target(template, result)
        assert info.value.status_code == 400
    with pytest.raises(HTTPError):
        _check_redirect_target("{0}", "a\x00b")


class TestSignedValues:
    SECRET = "It's a secret to everybody"

    def present(self):
        return 1300000000

    def test_v2_known_value_and_round_trip(self):
        signed = create_signed_value(self.SECRET, "key", "value", clock=self.present)
        assert signed == (
            b"2|1:0|10:1300000000|3:key|8:dmFsdWU=|"
            b"3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152"
        )
        assert decode_signed_value(self.SECRET, "key", signed, clock=self.present) == b"value"

    def test_v1_round_trip(self):
        signed = create_signed_value(self.SECRET, "k", b"\xff", version=1, clock=self.present)
        assert (
            decode_signed_value(self.SECRET, "k", signed, clock=self.present, min_version=1)
            == b"\xff"
        )
        assert decode_signed_value(self.SECRET, "k", signed, clock=self.present, min_version=2) is None

    def test_key_versions(self):
        secrets = {0: "zero", 1: "one"}
        signed = create_signed_value(secrets, "k", "v", key_version=1, clock=self.present)
        assert get_signature_key_version(signed) == 1
        assert decode_signed_value(secrets, "k", signed, clock=self.present) == b"v"
        assert decode_signed_value({0: "zero"}, "k", signed, clock=self.present) is None

    @pytest.mark.parametrize(
        "value",
        [b"2|", b"2|1:0|", b"2|x:0|", b"2|1:0|10:1300000000|3:key|8:dmFsdWU=", b""],
    )
    def test_malformed_v2_is_none(self, value):
        assert decode_signed_value(self.SECRET, "key", value, clock=self.present) is None
        assert get_signature_key_version(value) is None

    def test_expired_and_wrong_name(self):
        signed = create_signed_value(self.SECRET, "key", "v", clock=lambda: 1000)
        assert decode_signed_value(self.SECRET, "key", signed, clock=lambda: 1000 + 86400 * 40) is None
        assert decode_signed_value(self.SECRET, "other", signed, clock=lambda: 1000) is None


def test_httperror_messages():
    e = HTTPError(400, "bad %s: %d", "thing", 3)
    assert e.get_message() == "bad thing: 3"
    assert e.log_message == "bad %s: %d"
    assert str(e) == "HTTP 400: Bad Request (bad thing: 3)"
    assert str(HTTPError(682, reason="Foo")) == "HTTP 682: Foo"
    assert HTTPError(400, "100% literal").get_message() == "100% literal"
    assert MissingArgumentError("x").log_message == "Missing argument x"


@pytest.mark.parametrize(
    "header,expected",
    [
        ("fr-FR;q=0.9", ["fr-FR"]),
        ("fr-FR; q=0.9", ["fr-FR"]),
        ("fr-FR;q=0", []),
        ("fr-FR;q=-1", []),
        ("fr;Q=0.5, nonsense;q=abc", ["fr"]),
        ("de;q=0.5, en , fr;q=0.7", ["en", "fr", "de"]),
        ("pt, es, it;q=1", ["pt", "es", "it"]),  # equal weights keep their order
    ],
)
def test_languages_by_preference(header, expected):
    assert _languages_by_preference(header) == expected


def test_if_none_match_hits():
    assert _if_none_match_hits(b'"a", "b"', b'"b"')
    assert _if_none_match_hits(b'W/"b"', b'"b"')  # weak comparison
    assert _if_none_match_hits(b'"b"', b'W/"b"')
    assert _if_none_match_hits(b"*", b'"anything"')
    assert not _if_none_match_hits(b'"a"', b'"b"')
    assert not _if_none_match_hits(b"garbage", b'"b"')


def test_max_age_attribute():
    assert _max_age_attribute(None) is None
    assert _max_age_attribute(False) is None
    assert _max_age_attribute(0) is None
    assert _max_age_attribute(60) == "60"
    assert _max_age_attribute(2.5) == "2"
    with pytest.raises(ValueError):
        _max_age_attribute("1; Path=/x")


def test_xsrf_token_formats_round_trip():
    secret = bytes(range(16))
    masked = _encode_xsrf_token(2, secret, 1234.5)
    assert masked.startswith(b"2|") and masked.endswith(b"|1234")
    # A fresh mask each time: the same secret never looks the same twice.
    assert masked != _encode_xsrf_token(2, secret, 1234.5)
    assert _parse_xsrf_token(masked.decode()) == (2, secret, 1234)
    plain = _encode_xsrf_token(1, secret, 0)
    assert plain == secret.hex().encode()
    version, parsed, _ = _parse_xsrf_token(plain.decode())
    assert (version, parsed) == (1, secret)
    with pytest.raises(ValueError):
        _encode_xsrf_token(3, secret, 0)
    with pytest.raises(ValueError):
        _parse_xsrf_token("3|abc")


def test_stream_request_body_requires_handler():
    with pytest.raises(TypeError):
        stream_request_body(object)  # type: ignore


# Handlers over real connections --------------------------------------------------


class HelloHandler(RequestHandler):
    def get(self):
        self.write("Hello, world")


class ArgsHandler(RequestHandler):
    def get(self, *path_args):
        self.write(
            {
                "path_args": list(path_args),
                "a": self.get_argument("a", None),
                "all": self.get_arguments("a"),
                "query": self.get_query_arguments("a"),
                "body": self.get_body_arguments("a"),
                "nostrip": self.get_argument("a", None, strip=False),
            }
        )

    post = get


class RequiredArgHandler(RequestHandler):
    def get(self):
        self.write(self.get_argument("needed"))


class StatusHandler(RequestHandler):
    def get(self):
        code = int(self.get_argument("code"))
        reason = self.get_argument("reason", None)
        if self.get_argument("raise", None):
            raise HTTPError(code, reason=reason)
        self.set_status(code, reason)
        if code not in (204, 304):
            self.write("body")


class HeaderHandler(RequestHandler):
    def set_default_headers(self):
        self.set_header("X-Default", "yes")

    def get(self):
        self.set_header("X-Int", 42)
        self.add_header("X-Multi", "a")
        self.add_header("X-Multi", b"b")
        self.set_header("X-Gone", "x")
        self.clear_header("X-Gone")
        try:
            self.set_header("X-Bad", "a\r\nInjected: yes")
        except ValueError as e:
            self.write(str(e))


class CookieHandler(RequestHandler):
    def get(self):
        self.set_cookie("plain", "v", domain="example.com", path="/p", httponly=True)
        self.set_cookie("lax", "v", secure=True, samesite="Lax", max_age=60)
        self.set_signed_cookie("signed", "secret value")
        self.set_cookie("chips", "v", secure=True, partitioned=True)
        self.set_cookie("overwritten", "v", partitioned=True)
        self.set_cookie("overwritten", "w")
        self.write(self.get_cookie("incoming", "none"))


class SignedReadHandler(RequestHandler):
    def get(self):
        value = self.get_signed_cookie("signed")
        self.write(value or b"invalid")


class ClearCookiesHandler(RequestHandler):
    def get(self):
        self.clear_all_cookies(path="/")


class XSRFHandler(RequestHandler):
    def get(self):
        self.write(self.xsrf_token)

    def post(self):
        self.write("posted")


class AsyncHandler(RequestHandler):
    async def prepare(self):
        await asyncio.sleep(0)
        self.prepared = True

    async def get(self):
        await asyncio.sleep(0)
        self.write("async %s" % self.prepared)


class CoroutineHandler(RequestHandler):
    @gen.coroutine
    def get(self):
        yield gen.moment
        self.write("coroutine")


class ErrorsHandler(RequestHandler):
    def get(self, kind):
        if kind == "zero":
            1 / 0
        elif kind == "http":
            raise HTTPError(418, "teapot %s", "log")
        elif kind == "finish":
            self.set_status(401)
            raise Finish("finished")
        elif kind == "send_error":
            self.send_error(503)


class FlushHandler(RequestHandler):
    async def get(self):
        self.write("first,")
        await self.flush()
        self.write("second")


class EtagHandler(RequestHandler):
    def get(self):
        self.write("etag body")


class TemplateHandler(RequestHandler):
    def get(self):
        self.render("page.html", name="<World>")


class Shout(UIModule):
    def render(self, text):
        return text.upper()

    def embedded_css(self):
        return "p { color: red; }"

    def javascript_files(self):
        return ["/s.js", "/s.js"]


class AuthHandler(RequestHandler):
    def get_current_user(self):
        return self.get_argument("user", None)

    @authenticated
    def get(self):
        self.write("hello " + self.current_user)

    post = get


class SlashHandler(RequestHandler):
    @addslash
    def get(self):
        self.write("added")


class NoSlashHandler(RequestHandler):
    @removeslash
    def get(self):
        self.write("removed")


class LocaleHandler(RequestHandler):
    def get(self):
        self.write(self.locale.code)


class CloseHandler(RequestHandler):
    def initialize(self, test):
        self.test = test

    async def get(self):
        self.test.handler_started.set()
        await self.test.release.wait()

    def on_connection_close(self):
        self.test.closed.set()


@stream_request_body
class StreamHandler(RequestHandler):
    def prepare(self):
        self.chunks = []

    def data_received(self, chunk):
        self.chunks.append(chunk)

    def put(self):
        self.write({"chunks": len(self.chunks), "size": sum(map(len, self.chunks))})


class WebTest(AsyncHTTPTestCase):
    def get_app(self):
        self.static_dir = tempfile.mkdtemp()
        with open(os.path.join(self.static_dir, "hello.txt"), "wb") as f:
            f.write(b"0123456789" * 3)
        os.mkdir(os.path.join(self.static_dir, "dir"))
        with open(os.path.join(self.static_dir, "dir", "index.html"), "wb") as f:
            f.write(b"index")
        self.handler_started = Event()
        self.release = Event()
        self.closed = Event()
        loader = DictLoader(
            {
                "page.html": "<html><head></head><body>{{ name }} "
                "{% module Shout('hi') %} {{ shout_method(2) }}</body></html>"
            }
        )
        return Application(
            [
                ("/hello", HelloHandler),
                url("/args/(.*)", ArgsHandler, name="args"),
                ("/required", RequiredArgHandler),
                ("/status", StatusHandler),
                ("/headers", HeaderHandler),
                ("/cookie", CookieHandler),
                ("/signed", SignedReadHandler),
                ("/clear", ClearCookiesHandler),
                ("/async", AsyncHandler),
                ("/coroutine", CoroutineHandler),
                ("/errors/(.*)", ErrorsHandler),
                ("/flush", FlushHandler),
                ("/etag", EtagHandler),
                ("/template", TemplateHandler),
                ("/auth", AuthHandler),
                ("/slash/?", SlashHandler),
                ("/noslash/*", NoSlashHandler),
                ("/locale", LocaleHandler),
                ("/close", CloseHandler, {"test": self}),
                ("/stream", StreamHandler),
                ("/redirect/(.*)", RedirectHandler, {"url": "/args/{0}"}),
                ("/error417", ErrorHandler, {"status_code": 417}),
                (
                    "/files/(.*)",
                    StaticFileHandler,
                    {"path": self.static_dir, "default_filename": "index.html"},
                ),
            ],
            cookie_secret="test secret",
            login_url="/login",
            template_loader=loader,
            ui_modules={"Shout": Shout},
            ui_methods={"shout_method": lambda handler, n: "!" * n},
            static_path=self.static_dir,
        )

    def tearDown(self):
        RequestHandler._template_loaders.clear()
        super().tearDown()

    def test_hello(self):
        response = self.fetch("/hello")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"Hello, world")
        self.assertEqual(response.headers["Content-Length"], "12")
        self.assertEqual(response.headers["Content-Type"], "text/html; charset=UTF-8")
        self.assertTrue(response.headers["Server"].startswith("TornadoServer/"))
        self.assertIn("Date", response.headers)
        self.assertEqual(
            response.headers["Etag"],
            '"%s"' % hashlib.sha1(b"Hello, world").hexdigest(),
        )

    def test_head_has_headers_but_no_body(self):
        self.assertEqual(self.fetch("/hello", method="HEAD").code, 405)
        response = self.fetch("/files/hello.txt", method="HEAD")
        self.assertEqual(response.body, b"")
        self.assertEqual(response.headers["Content-Length"], "30")

    def test_arguments(self):
        data = json_decode(self.fetch("/args/a%2Fb?a=+q+&a=2").body)
        self.assertEqual(data["path_args"], ["a/b"])
        self.assertEqual(data["a"], "2")
        self.assertEqual(data["all"], ["q", "2"])
        data = json_decode(
            self.fetch("/args/x?a=1", method="POST", body="a=%20body%20").body
        )
        self.assertEqual(data["a"], "body")
        self.assertEqual(data["nostrip"], " body ")
        self.assertEqual(data["all"], ["1", "body"])
        self.assertEqual(data["query"], ["1"])
        self.assertEqual(data["body"], ["body"])
        self.assertEqual(data["path_args"], ["x"])

    def test_unparseable_body_is_400_from_the_handler(self):
        with ExpectLog(gen_log, r"400 POST /args/x \(127.0.0.1\): Unsupported Content-Encoding"):
            response = self.fetch(
                "/args/x",
                method="POST",
                body=b"a=1",
                headers={"Content-Encoding": "gzip"},
            )
        self.assertEqual(response.code, 400)
        self.assertIn(b"400: Bad Request", response.body)

    def test_missing_argument_is_400(self):
        with ExpectLog(gen_log, ".*Missing argument needed"):
            response = self.fetch("/required")
        self.assertEqual(response.code, 400)
        self.assertIn(b"400: Bad Request", response.body)

    def test_invalid_unicode_is_400(self):
        with ExpectLog(gen_log, ".*Invalid unicode"):
            self.assertEqual(self.fetch("/args/%FF").code, 400)

    def test_status_and_reason(self):
        response = self.fetch("/status?code=201&reason=Made")
        self.assertEqual((response.code, response.reason), (201, "Made"))
        response = self.fetch("/status?code=299")
        self.assertEqual(response.reason, "Unknown")
        response = self.fetch("/status?code=400&reason=%3Cb%3E&raise=1")
        self.assertEqual((response.code, response.reason), (400, "Unknown"))
        self.assertNotIn(b"<b>", response.body)
        response = self.fetch("/status?code=204")
        self.assertEqual(response.code, 204)
        self.assertNotIn("Content-Length", response.headers)
        response = self.fetch("/status?code=304&raise=1")
        self.assertEqual(response.code, 304)

    def test_headers(self):
        response = self.fetch("/headers")
        self.assertEqual(response.headers["X-Default"], "yes")
        self.assertEqual(response.headers["X-Int"], "42")
        self.assertEqual(response.headers.get_list("X-Multi"), ["a", "b"])
        self.assertNotIn("X-Gone", response.headers)
        self.assertNotIn("Injected", response.headers)
        self.assertIn(b"Unsafe header value", response.body)

    def test_cookies(self):
        response = self.fetch("/cookie", headers={"Cookie": "incoming=here"})
        self.assertEqual(response.body, b"here")
        cookies = sorted(response.headers.get_list("Set-Cookie"))
        self.assertEqual(
            [c.replace("; Partitioned", "") for c in cookies[:4]],
            [
                "chips=v; Path=/; Secure",
                "lax=v; Max-Age=60; Path=/; SameSite=Lax; Secure",
                "overwritten=w; Path=/",
                "plain=v; Domain=example.com; HttpOnly; Path=/p",
            ],
        )
        self.assertIn("Partitioned", cookies[0])
        self.assertNotIn("Partitioned", cookies[2])
        signed = re.match(r'signed="?([^;"]+)', cookies[4]).group(1)
        response = self.fetch("/signed", headers={"Cookie": "signed=" + signed})
        self.assertEqual(response.body, b"secret value")
        tampered = signed[:-1] + ("1" if signed.endswith("0") else "0")
        response = self.fetch("/signed", headers={"Cookie": "signed=" + tampered})
        self.assertEqual(response.body, b"invalid")

    def test_clear_all_cookies(self):
        response = self.fetch("/clear", headers={"Cookie": "a=1; b=2"})
        cookies = sorted(response.headers.get_list("Set-Cookie"))
        self.assertEqual(len(cookies), 2)
        self.assertTrue(cookies[0].startswith('a="";'))
        self.assertIn("expires=", cookies[0])

    def test_async_and_coroutine_handlers(self):
        self.assertEqual(self.fetch("/async").body, b"async True")
        self.assertEqual(self.fetch("/coroutine").body, b"coroutine")

    def test_errors(self):
        with ExpectLog(app_log, "Uncaught exception GET /errors/zero"):
            response = self.fetch("/errors/zero")
        self.assertEqual(response.code, 500)
        self.assertEqual(
            response.body,
            b"<html><title>500: Internal Server Error</title>"
            b"<body>500: Internal Server Error</body></html>",
        )
        with ExpectLog(gen_log, r"418 GET /errors/http \(127.0.0.1\): teapot log"):
            self.assertEqual(self.fetch("/errors/http").code, 418)
        response = self.fetch("/errors/finish")
        self.assertEqual((response.code, response.body), (401, b"finished"))
        self.assertEqual(self.fetch("/errors/send_error").code, 503)
        self.assertEqual(self.fetch("/error417", method="POST", body="").code, 417)
        self.assertEqual(self.fetch("/not/routed").code, 404)

    def test_flush_then_finish(self):
        response = self.fetch("/flush")
        self.assertEqual(response.body, b"first,second")
        self.assertNotIn("Etag", response.headers)

    def test_etag_304(self):
        etag = self.fetch("/etag").headers["Etag"]
        response = self.fetch("/etag", headers={"If-None-Match": "W/" + etag})
        self.assertEqual(response.code, 304)
        self.assertEqual(response.body, b"")
        self.assertNotIn("Content-Type", response.headers)
        response = self.fetch("/etag", headers={"If-None-Match": '"other"'})
        self.assertEqual(response.code, 200)
        response = self.fetch("/etag", headers={"If-None-Match": "*"})
        self.assertEqual(response.code, 304)

    def test_template_with_modules_and_methods(self):
        response = self.fetch("/template")
        self.assertEqual(
            response.body,
            b'<html><head><style type="text/css">\np { color: red; }\n</style>\n'
            b"</head><body>&lt;World&gt; HI !!"
            b'<script src="/s.js" type="text/javascript"></script>\n</body></html>',
        )

    def test_authenticated(self):
        response = self.fetch("/auth", follow_redirects=False)
        self.assertEqual(response.code, 302)
        self.assertEqual(response.headers["Location"], "/login?next=%2Fauth")
        self.assertEqual(self.fetch("/auth?user=bob").body, b"hello bob")
        self.assertEqual(self.fetch("/auth", method="POST", body="").code, 403)

    def test_slash_decorators(self):
        response = self.fetch("/slash?x=1", follow_redirects=False)
        self.assertEqual((response.code, response.headers["Location"]), (301, "/slash/?x=1"))
        self.assertEqual(self.fetch("/slash/").body, b"added")
        response = self.fetch("/noslash//", follow_redirects=False)
        self.assertEqual((response.code, response.headers["Location"]), (301, "/noslash"))
        self.assertEqual(self.fetch("/noslash").body, b"removed")

    def test_locale_from_accept_language(self):
        # Only en_US is supported until translations are loaded.
        for header in ["fr;q=0.5, es", "fr;q=0", "xx;q=-1", ""]:
            response = self.fetch("/locale", headers={"Accept-Language": header})
            self.assertEqual(response.body, b"en_US")

    def test_redirect_handler(self):
        response = self.fetch("/redirect/x?q=1", follow_redirects=False)
        self.assertEqual((response.code, response.headers["Location"]), (301, "/args/x?q=1"))

    def test_reverse_url(self):
        self.assertEqual(self._app.reverse_url("args", "a b"), "/args/a%20b")
        with self.assertRaises(KeyError):
            self._app.reverse_url("nope")

    def test_static_files(self):
        response = self.fetch("/static/hello.txt")
        self.assertEqual(response.body, b"0123456789" * 3)
        self.assertEqual(response.headers["Content-Type"], "text/plain")
        version = hashlib.sha512(b"0123456789" * 3).hexdigest()
        self.assertEqual(response.headers["Etag"], '"%s"' % version)
        response = self.fetch("/static/hello.txt?v=" + version)
        self.assertIn("max-age=", response.headers["Cache-Control"])
        response = self.fetch("/files/hello.txt", headers={"Range": "bytes=5-9"})
        self.assertEqual((response.code, response.body), (206, b"56789"))
        self.assertEqual(response.headers["Content-Range"], "bytes 5-9/30")
        response = self.fetch("/files/hello.txt", headers={"Range": "bytes=30-"})
        self.assertEqual(response.code, 416)
        response = self.fetch(
            "/files/hello.txt",
            headers={"If-Modified-Since": response.headers.get("Date", "")},
        )
        self.assertIn(response.code, (200, 304))
        self.assertEqual(self.fetch("/files/missing").code, 404)
        self.assertEqual(self.fetch("/files/dir/").body, b"index")
        response = self.fetch("/files/dir", follow_redirects=False)
        self.assertEqual((response.code, response.headers["Location"]), (301, "/files/dir/"))

    def test_static_refuses_escapes(self):
        outside = tempfile.NamedTemporaryFile(delete=False)
        outside.write(b"secret")
        outside.close()
        os.symlink(outside.name, os.path.join(self.static_dir, "link"))
        with ExpectLog(gen_log, ".*is not in root static directory"):
            self.assertEqual(self.fetch("/files/link").code, 403)

    def test_static_url_and_version_cache(self):
        handler_settings = self._app.settings
        StaticFileHandler.reset()
        url1 = StaticFileHandler.make_static_url(handler_settings, "hello.txt")
        self.assertTrue(url1.startswith("/static/hello.txt?v="))
        with self.assertRaises(HTTPError):
            StaticFileHandler.get_version(handler_settings, "../etc/passwd")
        with ExpectLog(gen_log, "Could not open static file.*is not a file"):
            self.assertIsNone(StaticFileHandler.get_version(handler_settings, "dir"))

    def test_streaming_body(self):
        response = self.fetch("/stream", method="PUT", body=b"x" * 100000)
        data = json_decode(response.body)
        self.assertEqual(data["size"], 100000)
        self.assertGreaterEqual(data["chunks"], 1)

    @gen_test
    async def test_connection_close_notifies_handler(self):
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", self.get_http_port()))
        await stream.write(b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n")
        await self.handler_started.wait()
        stream.close()
        await self.closed.wait()
        self.release.set()


class XSRFAndOriginTest(AsyncHTTPTestCase):
    def get_app(self):
        return Application(
            [("/", XSRFHandler)],
            xsrf_cookies=True,
            cross_origin_protection=True,
            trusted_origins=["https://partner.example"],
        )

    def token(self):
        return self.fetch("/").body.decode()

    def test_xsrf_token_cookie_and_header(self):
        token = self.token()
        response = self.fetch(
            "/", method="POST", body="", headers={"Cookie": "_xsrf=" + token, "X-XSRFToken": token}
        )
        self.assertEqual(response.code, 200)
        # A token issued for another cookie does not match.
        with ExpectLog(gen_log, ".*XSRF cookie does not match"):
            response = self.fetch(
                "/",
                method="POST",
                body="",
                headers={"Cookie": "_xsrf=" + token, "X-XSRFToken": self.token()},
            )
        self.assertEqual(response.code, 403)
        response = self.fetch(
            "/",
            method="POST",
            body=urllib.parse.urlencode({"_xsrf": token}),
            headers={"Cookie": "_xsrf=" + token},
        )
        self.assertEqual(response.body, b"posted")
        with ExpectLog(gen_log, ".*'_xsrf' argument missing"):
            self.assertEqual(self.fetch("/", method="POST", body="").code, 403)

    def test_cross_origin(self):
        token = self.token()
        headers = {"Cookie": "_xsrf=" + token, "X-XSRFToken": token}
        for extra, code in [
            ({"Sec-Fetch-Site": "same-origin"}, 200),
            ({"Origin": self.get_url("")}, 200),
            ({"Origin": "https://partner.example", "Sec-Fetch-Site": "cross-site"}, 200),
            ({"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403),
            ({"Origin": "https://evil.example"}, 403),
        ]:
            with ExpectLog(gen_log, ".*not allowed", required=code == 403):
                response = self.fetch(
                    "/", method="POST", body="", headers=dict(headers, **extra)
                )
            self.assertEqual(response.code, code, extra)
        # Safe methods are never checked.
        response = self.fetch("/", headers={"Sec-Fetch-Site": "cross-site"})
        self.assertEqual(response.code, 200)


class GzipTest(AsyncHTTPTestCase):
    def get_app(self):
        class BigHandler(RequestHandler):
            def get(self):
                self.write("x" * 5000)

        return Application([("/", BigHandler)], compress_response=True)

    def test_gzip(self):
        response = self.fetch("/", decompress_response=False, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(response.headers["Content-Encoding"], "gzip")
        self.assertEqual(response.headers["Vary"], "Accept-Encoding")
        self.assertEqual(gzip.decompress(response.body), b"x" * 5000)
        response = self.fetch("/", decompress_response=False)
        self.assertNotIn("Content-Encoding", response.headers)


def test_application_listen_and_defaults():
    async def main():
        app = Application([("/", HelloHandler)], debug=False)
        server = app.listen(0, address="127.0.0.1")
        server.stop()
        assert app.settings == {"debug": False}
        assert [r.name for r in app.wildcard_router.rules] == [None]

    asyncio.run(main())


def test_log_request_levels(caplog):
    class FakeRequest:
        method = "GET"
        uri = "/x"
        remote_ip = "1.2.3.4"

        def request_time(self):
            return 0.001

    class FakeHandler:
        request = FakeRequest()

        def __init__(self, status):
            self.status = status

        def get_status(self):
            return self.status

        def _request_summary(self):
            return "GET /x (1.2.3.4)"

    app = Application()
    with caplog.at_level(logging.INFO, logger="tornado.access"):
        for status in (200, 404, 500):
            app.log_request(FakeHandler(status))
    assert [r.levelname for r in caplog.records] == ["INFO", "WARNING", "ERROR"]
    assert caplog.records[0].getMessage() == "200 GET /x (1.2.3.4) 1.00ms"
    seen = []
    Application(log_function=seen.append).log_request(FakeHandler(200))
    assert len(seen) == 1


class MoreBehaviourTest(AsyncHTTPTestCase):
    def get_app(self):
        self.root = tempfile.mkdtemp()
        self.big = os.urandom(200 * 1024)
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(self.big)
        self.outside = tempfile.mkdtemp()
        with open(os.path.join(self.outside, "shared.txt"), "wb") as f:
            f.write(b"shared")
        os.symlink(os.path.join(self.outside, "shared.txt"), os.path.join(self.root, "link.txt"))
        test = self

        class CancelledHandler(RequestHandler):
            async def get(self):
                test.task = asyncio.current_task()
                test.started.set()
                await asyncio.Event().wait()

        class DoneFutureHandler(RequestHandler):
            @gen.coroutine
            def get(self):
                self.write("no yield")

        class NotFound(RequestHandler):
            def prepare(self):
                self.set_status(404)
                self.finish("custom missing")

        self.started = Event()
        app = Application(
            [
                ("/static/(.*)", StaticFileHandler, {"path": self.root}),
                (
                    "/allowed/(.*)",
                    StaticFileHandler,
                    {"path": self.root, "allowed_symlink_directory": [self.root, self.outside]},
                ),
                ("/cancelled", CancelledHandler),
                ("/done", DoneFutureHandler),
            ],
            default_host="www.example.com",
            default_handler_class=NotFound,
        )
        app.add_handlers(r"www\.example\.com", [("/vhost", HelloHandler)])
        return app

    def test_large_static_file_is_streamed(self):
        response = self.fetch("/static/big.bin")
        self.assertEqual(response.body, self.big)
        self.assertEqual(response.headers["Content-Length"], str(len(self.big)))
        response = self.fetch("/static/big.bin", headers={"Range": "bytes=100000-150000"})
        self.assertEqual(response.code, 206)
        self.assertEqual(response.body, self.big[100000:150001])

    def test_symlink_policy(self):
        with ExpectLog(gen_log, ".*is not in root static directory"):
            self.assertEqual(self.fetch("/static/link.txt").code, 403)
        self.assertEqual(self.fetch("/allowed/link.txt").body, b"shared")

    def test_default_host_and_default_handler(self):
        # Requests for other hosts use the default host's handlers...
        self.assertEqual(self.fetch("/vhost").body, b"Hello, world")
        # ...unless they came through a proxy.
        response = self.fetch("/vhost", headers={"X-Real-Ip": "1.2.3.4"})
        self.assertEqual((response.code, response.body), (404, b"custom missing"))

    def test_completed_coroutine_result(self):
        self.assertEqual(self.fetch("/done").body, b"no yield")

    @gen_test
    async def test_cancelling_handler_task_answers_500_quietly(self):
        future = self.http_client.fetch(self.get_url("/cancelled"), raise_error=False)
        await self.started.wait()
        self.task.cancel()
        response = await future
        self.assertEqual(response.code, 500)
        self.assertTrue(self.task.cancelled())


class RecordingConnection:
    """A stand-in HTTP connection for driving an Application directly:
    records each response's status code and first chunk, and finish()."""

    def __init__(self) -> None:
        self.written: list = []

    def set_close_callback(self, callback):
        pass

    def write_headers(self, start_line, headers, chunk=None):
        self.written.append((start_line.code, chunk))
        future = asyncio.Future()
        future.set_result(None)
        return future

    def finish(self):
        self.written.append("finished")


def _get_root(app, connection):
    """Runs one ``GET /`` through ``app.start_request`` on ``connection``."""
    delegate = app.start_request(None, connection)
    delegate.headers_received(RequestStartLine("GET", "/", "HTTP/1.1"), HTTPHeaders({"Host": "x"}))
    delegate.finish()


def test_application_call_runs_handler_for_legacy_servers():
    connection = RecordingConnection()

    async def main():
        from tornado.httputil import RequestStartLine

        app = Application([("/", HelloHandler)])
        request = HTTPServerRequest(
            start_line=RequestStartLine("GET", "/", "HTTP/1.1"),
            headers=HTTPHeaders({"Host": "x"}),
            connection=connection,
        )
        app(request)

    asyncio.run(main())
    assert connection.written == [(200, b"Hello, world"), "finished"]


# Routing fast paths: the per-path memo and the combined delegate ---------------


class NameHandler(RequestHandler):
    def initialize(self, name="plain"):
        self.name = name

    def get(self, *args, **kwargs):
        self.write({"name": self.name, "args": list(args), "kwargs": kwargs})

    def post(self, *args):
        self.write({"name": self.name, "body": self.request.body.decode()})


class HeaderMatcher(Matcher):
    """Matches requests that carry an X-Special header (not a path rule)."""

    def match(self, request):
        return {} if "X-Special" in request.headers else None


class MixinAfter:
    def __init__(self):
        super().__init__()
        self.mixin_ran = True


class MixinHandler(RequestHandler, MixinAfter):
    def get(self):
        self.write({"mixin_ran": getattr(self, "mixin_ran", False)})


class EchoBodyDelegate(HTTPServerConnectionDelegate):
    """A connection-delegate target: answers with the body it received."""

    def start_request(self, server_conn, request_conn):
        delegate = _BodyEcho()
        delegate.connection = request_conn
        return delegate


class _BodyEcho(HTTPMessageDelegate):
    def headers_received(self, start_line, headers):
        self.parts = []

    def data_received(self, chunk):
        self.parts.append(chunk)

    def finish(self):
        respond_ok(self.connection, b"echo:" + b"".join(self.parts))


class RoutingFastPathTest(AsyncHTTPTestCase):
    def get_app(self):
        return Application(
            [
                (HeaderMatcher(), NameHandler, {"name": "special"}),
                ("/items/([0-9]+)", NameHandler, {"name": "item"}),
                ("/named/(?P<key>[a-z]+)", NameHandler),
                ("/mixin", MixinHandler),
                ("/echo", EchoBodyDelegate()),
                ("/(.*)", NameHandler, {"name": "catchall"}),
            ]
        )

    def get_json(self, path, **kwargs):
        response = self.fetch(path, **kwargs)
        self.assertEqual(response.code, 200)
        return json_decode(response.body)

    def test_repeated_paths_get_their_own_arguments(self):
        for _ in range(2):
            self.assertEqual(self.get_json("/items/1")["args"], ["1"])
            self.assertEqual(self.get_json("/items/22")["args"], ["22"])
            self.assertEqual(self.get_json("/named/abc")["kwargs"], {"key": "abc"})

    def test_rule_that_looks_at_headers_is_not_memoized(self):
        # The header rule comes first: the path alone never decides here.
        for _ in range(2):
            self.assertEqual(self.get_json("/items/1")["name"], "item")
            special = self.get_json("/items/1", headers={"X-Special": "1"})
            self.assertEqual(special["name"], "special")

    def test_rules_changed_after_serving_take_effect(self):
        self.assertEqual(self.get_json("/late")["name"], "catchall")
        router = self.get_app_router()
        router.rules.insert(0, router.process_rule(Rule(PathMatches("/late"), NameHandler, {"name": "late"})))
        self.assertEqual(self.get_json("/late")["name"], "late")
        del router.rules[0]
        self.assertEqual(self.get_json("/late")["name"], "catchall")

    def test_host_group_added_after_serving_takes_effect(self):
        self.assertEqual(self.get_json("/hosted")["name"], "catchall")
        self._app.add_handlers(".*", [("/hosted", NameHandler, {"name": "hosted"})])
        self.assertEqual(self.get_json("/hosted")["name"], "hosted")

    def test_mixin_after_request_handler_is_initialized(self):
        self.assertEqual(self.get_json("/mixin"), {"mixin_ran": True})

    def test_connection_delegate_target_gets_the_body(self):
        for _ in range(2):
            response = self.fetch("/echo", method="POST", body="payload")
            self.assertEqual(response.body, b"echo:payload")

    def test_post_body_reaches_memoized_handler(self):
        for body in ("one", "two"):
            response = self.fetch("/items/3", method="POST", body=body)
            self.assertEqual(json_decode(response.body), {"name": "item", "body": body})

    def get_app_router(self):
        return self._app.wildcard_router


def _bare_request(path):
    return HTTPServerRequest(
        start_line=RequestStartLine("GET", path, "HTTP/1.1"), headers=HTTPHeaders({"Host": "x"})
    )


def test_route_memo_is_bounded_and_skips_long_paths():
    app = Application([("/(.*)", NameHandler)])
    router = app.wildcard_router
    for i in range(3000):
        assert app.find_handler(_bare_request("/p%d" % i)) is not None
    assert 0 < len(router._memo) <= 1024
    long_path = "/" + "x" * 5000
    app.find_handler(_bare_request(long_path))
    assert long_path not in router._memo


def test_overridden_find_handler_runs_for_every_request():
    calls = []

    class CountingApp(Application):
        def find_handler(self, request, **kwargs):
            calls.append(request.path)
            return super().find_handler(request, **kwargs)

    connection = RecordingConnection()

    async def main():
        app = CountingApp([("/", HelloHandler)])
        for _ in range(3):
            _get_root(app, connection)

    asyncio.run(main())
    assert calls == ["/", "/", "/"]
    assert connection.written == [(200, b"Hello, world"), "finished"] * 3


def test_close_before_routing_is_harmless():
    app = Application([("/", HelloHandler)])
    delegate = app.start_request(None, object())
    delegate.on_connection_close()  # nothing routed yet: nothing to tell


# Rendering fast paths ----------------------------------------------------------


class Counter(UIModule):
    def render(self, n):
        self.calls = getattr(self, "calls", 0) + 1
        return "[%s:%d]" % (n, self.calls)


class LoudTemplate(Template):
    """A Template subclass overriding generate: render_string must call it."""

    def generate(self, **kwargs):
        return super().generate(**kwargs).upper()


class LoudLoader(DictLoader):
    def _create_template(self, name):
        return LoudTemplate(self.dict[name], name=name, loader=self)


def _render_with(loader, name, **kwargs):
    connection = RecordingConnection()

    class Page(RequestHandler):
        def get(self):
            self.render(name, **kwargs)

    async def main():
        app = Application(
            [("/", Page)], template_loader=loader, ui_modules={"Counter": Counter}
        )
        _get_root(app, connection)

    try:
        asyncio.run(main())
    finally:
        RequestHandler._template_loaders.clear()
    return connection.written[0][1]


def test_overridden_template_generate_is_used_by_render():
    loader = LoudLoader({"page.html": "<p>{{ word }}</p>"})
    assert _render_with(loader, "page.html", word="quiet") == b"<P>QUIET</P>"


def test_ui_module_looked_up_repeatedly_in_a_loop():
    loader = DictLoader({"page.html": "{% for i in range(3) %}{% module Counter(i) %}{% end %}"})
    # One module instance per request, called once per iteration.
    assert _render_with(loader, "page.html") == b"[0:1][1:2][2:3]"
    # A new request gets a new instance.
    assert _render_with(loader, "page.html") == b"[0:1][1:2][2:3]"


# Streaming a download must leave room for other connections -------------------


class SlowSourceStaticHandler(StaticFileHandler):
    """Serves CHUNKS blocks of 64 KiB, each produced after a short blocking
    pause (a slow disk): slower than the client reads, so the kernel takes
    every block at once and a flush never has to wait."""

    CHUNKS = 256

    @classmethod
    def get_content(cls, abspath, start=None, end=None):
        block = b"x" * 65536
        for _ in range(cls.CHUNKS):
            time.sleep(0.0005)
            yield block

    def get_content_size(self):
        return 65536 * self.CHUNKS

    def compute_etag(self):
        return None  # get_content is a generator here: no hashing it


def _download(port, result):
    """Reads the whole download on a blocking socket as fast as it can;
    records the status line and the size of the body."""
    expected = 65536 * SlowSourceStaticHandler.CHUNKS
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /slow/file HTTP/1.1\r\nHost: x\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(65536)
        head, _, body = head.partition(b"\r\n\r\n")
        received = len(body)
        buffer = bytearray(1 << 20)
        while received < expected:
            n = sock.recv_into(buffer)
            if not n:
                break
            received += n
        result.append((head.split(b"\r\n")[0], received))


def _probe(port, stop, latencies):
    """Asks for /hello again and again on a keep-alive connection, noting
    how long each answer takes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        while not stop.is_set():
            started = time.perf_counter()
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b"Hello, world"):
                chunk = sock.recv(65536)
                assert chunk, "probe connection closed"
                answer += chunk
            latencies.append(time.perf_counter() - started)
            time.sleep(0.002)


class DownloadFairnessTest(AsyncHTTPTestCase):
    def get_app(self):
        root = tempfile.mkdtemp()
        # The file must exist (its path is validated); the handler makes up
        # the content.
        with open(os.path.join(root, "file"), "wb"):
            pass
        return Application(
            [("/hello", HelloHandler), ("/slow/(.*)", SlowSourceStaticHandler, {"path": root})]
        )

    @gen_test(timeout=30)
    async def test_other_clients_are_served_while_a_download_streams(self):
        port = self.get_http_port()
        result, latencies = [], []
        stop = threading.Event()
        prober = threading.Thread(target=_probe, args=(port, stop, latencies))
        prober.start()
        try:
            # The probe's first answer shows it is connected and served.
            while not latencies:
                await asyncio.sleep(0.005)
            probes_before = len(latencies)
            downloader = threading.Thread(target=_download, args=(port, result))
            downloader.start()
            while downloader.is_alive():
                await asyncio.sleep(0.005)
        finally:
            stop.set()
            while prober.is_alive():
                await asyncio.sleep(0.005)
        self.assertEqual(result, [(b"HTTP/1.1 200 OK", 65536 * SlowSourceStaticHandler.CHUNKS)])
        # The download takes at least 256 x 0.5 ms; the probe must have been
        # answered during it, each time within a bound far below that.
        self.assertGreater(len(latencies) - probes_before, 3)
        self.assertLess(max(latencies), 0.1)


def test_handler_using_ui_modules_is_freed_without_the_cycle_collector():
    import gc
    import weakref

    handlers = []

    class Page(RequestHandler):
        def get(self):
            handlers.append(weakref.ref(self))
            self.render("page.html")

    async def main():
        loader = DictLoader({"page.html": "{% for i in range(2) %}{% module Counter(i) %}{% end %}"})
        app = Application([("/", Page)], template_loader=loader, ui_modules={"Counter": Counter})
        _get_root(app, RecordingConnection())

    gc.disable()
    try:
        asyncio.run(main())
        assert handlers and handlers[0]() is None
    finally:
        gc.enable()
        RequestHandler._template_loaders.clear()


# Zero-copy downloads: StaticFileHandler's body through os.sendfile ------------


class _SendfileCounter:
    """Wraps os.sendfile to count the calls (the bytes still go through the
    real system call)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        real = os.sendfile

        def counting(*args):
            self.calls += 1
            return real(*args)

        monkeypatch.setattr(os, "sendfile", counting)


@pytest.fixture
def static_root():
    root = tempfile.mkdtemp()
    data = os.urandom(3 * 1024 * 1024 + 17)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(data)
    with open(os.path.join(root, "page.html"), "wb") as f:
        f.write(b"<p>" + b"compress me " * 5000 + b"</p>")
    return root, data


def _fetch_raw(port, request, expected_body):
    """Sends ``request`` on a blocking socket; returns (head, body) of the
    answer, reading the body by its Content-Length."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
        while len(body) < length:
            chunk = sock.recv(1 << 20)
            assert chunk, "closed in the body"
            body += chunk
        return head, body


@pytest.mark.parametrize(
    "range_header, start, end",
    [(None, 0, None), ("bytes=100-2999999", 100, 3000000), ("bytes=-10", -10, None),
     ("bytes=0-", 0, None)],
)
def test_static_file_is_sent_with_sendfile(monkeypatch, static_root, range_header, start, end):
    root, data = static_root
    counter = _SendfileCounter(monkeypatch)
    expected = data[start:end]

    async def main():
        from tornado.httpserver import HTTPServer
        from tornado.testing import bind_unused_port

        sock, port = bind_unused_port()
        server = HTTPServer(Application([("/s/(.*)", StaticFileHandler, {"path": root})]))
        server.add_sockets([sock])
        extra = f"Range: {range_header}\r\n" if range_header else ""
        request = f"GET /s/big.bin HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                None, _fetch_raw, port, request, expected)
        finally:
            server.stop()

    head, body = asyncio.run(main())
    assert body == expected
    assert head.startswith(b"HTTP/1.1 206" if start else b"HTTP/1.1 200")
    assert counter.calls >= 1


def test_static_file_with_gzip_transform_keeps_the_copying_path(monkeypatch, static_root):
    root, _ = static_root
    counter = _SendfileCounter(monkeypatch)

    async def main():
        from tornado.httpclient import AsyncHTTPClient
        from tornado.httpserver import HTTPServer
        from tornado.testing import bind_unused_port

        sock, port = bind_unused_port()
        app = Application([("/s/(.*)", StaticFileHandler, {"path": root})], compress_response=True)
        server = HTTPServer(app)
        server.add_sockets([sock])
        try:
            return await AsyncHTTPClient().fetch(
                f"http://127.0.0.1:{port}/s/page.html", headers={"Accept-Encoding": "gzip"},
                decompress_response=False)
        finally:
            server.stop()

    response = asyncio.run(main())
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.body).startswith(b"<p>compress me")
    assert counter.calls == 0


def test_static_subclass_with_own_content_keeps_the_copying_path(monkeypatch, static_root):
    root, _ = static_root
    counter = _SendfileCounter(monkeypatch)

    class Upper(StaticFileHandler):
        @classmethod
        def get_content(cls, abspath, start=None, end=None):
            return b"SAME SIZE"

        def get_content_size(self):
            return 9

        def compute_etag(self):
            return None

    async def main():
        from tornado.httpclient import AsyncHTTPClient
        from tornado.httpserver import HTTPServer
        from tornado.testing import bind_unused_port

        sock, port = bind_unused_port()
        server = HTTPServer(Application([("/s/(.*)", Upper, {"path": root})]))
        server.add_sockets([sock])
        try:
            return await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/s/big.bin")
        finally:
            server.stop()

    assert asyncio.run(main()).body == b"SAME SIZE"
    assert counter.calls == 0


def test_static_file_over_tls_keeps_the_copying_path(monkeypatch, static_root):
    import ssl

    root, data = static_root
    counter = _SendfileCounter(monkeypatch)
    test_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "tornado", "test")

    async def main():
        from tornado.httpclient import AsyncHTTPClient
        from tornado.httpserver import HTTPServer
        from tornado.testing import bind_unused_port

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(os.path.join(test_dir, "test.crt"),
                                os.path.join(test_dir, "test.key"))
        sock, port = bind_unused_port()
        server = HTTPServer(Application([("/s/(.*)", StaticFileHandler, {"path": root})]),
                            ssl_options=context)
        server.add_sockets([sock])
        try:
            return await AsyncHTTPClient().fetch(f"https://127.0.0.1:{port}/s/big.bin",
                                                 validate_cert=False)
        finally:
            server.stop()

    assert asyncio.run(main()).body == data
    assert counter.calls == 0


def test_static_file_client_gone_mid_sendfile_ends_quietly(static_root):
    root, data = static_root

    async def main():
        from tornado.httpserver import HTTPServer
        from tornado.testing import bind_unused_port

        sock, port = bind_unused_port()
        server = HTTPServer(Application([("/s/(.*)", StaticFileHandler, {"path": root}),
                                         ("/hello", HelloHandler)]))
        server.add_sockets([sock])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # A small receive buffer: the server must wait for room, then
        # finds the connection gone.
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        writer.write(b"GET /s/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        writer.transport.abort()
        await asyncio.sleep(0.2)
        try:
            from tornado.httpclient import AsyncHTTPClient

            return await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/hello")
        finally:
            server.stop()

    assert asyncio.run(main()).body == b"Hello, world"


_request_scoped: "contextvars.ContextVar[object]" = contextvars.ContextVar("request_scoped", default=None)


class _ContextVarHandler(RequestHandler):
    def prepare(self):
        self.seen = _request_scoped.get()
        _request_scoped.set(self.request.path)

    def get(self):
        self.write(repr((self.seen, _request_scoped.get())))


async def _get_on_one_connection(port, paths):
    """GETs each of ``paths`` in turn over one keep-alive connection to
    ``port``; returns the bodies."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    bodies = []
    try:
        for path in paths:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            bodies.append((await reader.readexactly(length)).decode())
    finally:
        writer.close()
    return bodies


def test_context_variables_do_not_leak_between_requests_on_a_connection():
    # Tornado runs each request in a task of its own, so what a handler sets
    # in a contextvars.ContextVar (a tracing span, a logging field) is gone
    # for the next request on the same keep-alive connection.
    async def main():
        server = Application([("/.*", _ContextVarHandler)]).listen(0, address="127.0.0.1")
        port = next(iter(server._sockets.values())).getsockname()[1]
        bodies = await _get_on_one_connection(port, ["/a", "/b"])
        server.stop()
        return bodies

    assert asyncio.run(main()) == ["(None, '/a')", "(None, '/b')"]


class _TokenHandler(RequestHandler):
    # What OpenTelemetry's instrumentation does: attach in prepare(),
    # detach with the token in on_finish(), across the handler's awaits.
    def prepare(self):
        self.token = _request_scoped.set("span")

    async def get(self):
        await asyncio.sleep(0)
        self.write(repr(_request_scoped.get()))

    def on_finish(self):
        _request_scoped.reset(self.token)  # ValueError in any other context
        self.application.reset_done.append(_request_scoped.get())


@pytest.mark.parametrize("eager", [False, True])
def test_a_token_set_in_prepare_is_reset_in_on_finish_after_awaits(eager):
    if eager and not hasattr(asyncio, "eager_task_factory"):
        pytest.skip("asyncio.eager_task_factory is Python 3.12+")

    async def main():
        if eager:
            asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
        app = Application([("/", _TokenHandler)])
        app.reset_done = []
        server = app.listen(0, address="127.0.0.1")
        port = next(iter(server._sockets.values())).getsockname()[1]
        bodies = await _get_on_one_connection(port, ["/"])
        server.stop()
        return bodies, app.reset_done

    assert asyncio.run(main()) == (["'span'"], [None])
