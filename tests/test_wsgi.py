"""Tests for tornado.wsgi: a Flask application and hand-written WSGI
applications served by WSGIContainer over real connections."""

import asyncio
import concurrent.futures
import threading
from wsgiref.validate import validator

import flask

from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.routing import PathMatches, RuleRouter
from tornado.log import app_log
from tornado.testing import AsyncHTTPTestCase, ExpectLog, gen_test
from tornado.web import Application, FallbackHandler, RequestHandler
from tornado.wsgi import HTTPRequest, WSGIContainer, to_wsgi_str


def make_flask_app() -> flask.Flask:
    app = flask.Flask("tornado_wsgi_test")

    @app.route("/hello")
    def hello():
        return "Hello from Flask"

    @app.route("/form", methods=["POST"])
    def form():
        return flask.jsonify(
            name=flask.request.form["name"],
            content_type=flask.request.content_type,
            length=flask.request.content_length,
        )

    @app.route("/json", methods=["PUT"])
    def put_json():
        return flask.jsonify(received=flask.request.get_json())

    @app.route("/echo/<path:rest>")
    def echo(rest):
        return flask.jsonify(
            rest=rest,
            args=flask.request.args.to_dict(flat=False),
            header=flask.request.headers.get("X-Custom"),
            scheme=flask.request.scheme,
            host=flask.request.host,
            remote=flask.request.remote_addr,
        )

    @app.route("/status")
    def status():
        response = flask.make_response("teapot", 418)
        response.headers["X-Extra"] = "1"
        response.set_cookie("flavor", "oatmeal")
        return response

    @app.route("/stream")
    def stream():
        def generate():
            for i in range(3):
                yield "part%d;" % i

        return flask.Response(generate(), mimetype="text/plain")

    @app.route("/redirect")
    def redirect():
        return flask.redirect("/hello")

    return app


class FlaskTest(AsyncHTTPTestCase):
    def get_app(self):
        self.executor = concurrent.futures.ThreadPoolExecutor(2)

        class TornadoHandler(RequestHandler):
            def get(self):
                self.write("tornado")

        return Application(
            [
                ("/tornado", TornadoHandler),
                (r".*", FallbackHandler, {"fallback": WSGIContainer(make_flask_app(), self.executor)}),
            ]
        )

    def tearDown(self):
        super().tearDown()
        self.executor.shutdown()

    def test_get(self):
        response = self.fetch("/hello")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"Hello from Flask")
        self.assertTrue(response.headers["Content-Type"].startswith("text/html"))
        self.assertEqual(response.headers["Content-Length"], "16")
        self.assertTrue(response.headers["Server"].startswith("TornadoServer/"))

    def test_tornado_handler_alongside(self):
        self.assertEqual(self.fetch("/tornado").body, b"tornado")

    def test_post_form(self):
        response = self.fetch("/form", method="POST", body="name=caf%C3%A9")
        self.assertEqual(
            flask.json.loads(response.body),
            {
                "name": "caf\u00e9",
                "content_type": "application/x-www-form-urlencoded",
                "length": 14,
            },
        )

    def test_put_json(self):
        response = self.fetch(
            "/json",
            method="PUT",
            body=b'{"a": [1, 2]}',
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(flask.json.loads(response.body), {"received": {"a": [1, 2]}})

    def test_path_query_and_headers(self):
        response = self.fetch("/echo/a%20b/c?x=1&x=2", headers={"X-Custom": "yes"})
        data = flask.json.loads(response.body)
        self.assertEqual(data["rest"], "a b/c")
        self.assertEqual(data["args"], {"x": ["1", "2"]})
        self.assertEqual(data["header"], "yes")
        self.assertEqual(data["scheme"], "http")
        self.assertEqual(data["host"], "127.0.0.1:%d" % self.get_http_port())
        self.assertEqual(data["remote"], "127.0.0.1")

    def test_status_headers_and_cookies(self):
        response = self.fetch("/status")
        self.assertEqual(response.code, 418)
        self.assertEqual(response.body, b"teapot")
        self.assertEqual(response.headers["X-Extra"], "1")
        self.assertIn("flavor=oatmeal", response.headers["Set-Cookie"])

    def test_streaming_response(self):
        self.assertEqual(self.fetch("/stream").body, b"part0;part1;part2;")

    def test_redirect_and_404(self):
        response = self.fetch("/redirect", follow_redirects=False)
        self.assertEqual(response.code, 302)
        self.assertTrue(response.headers["Location"].endswith("/hello"))
        self.assertEqual(self.fetch("/missing").code, 404)


class ContainerTest(AsyncHTTPTestCase):
    def get_app(self):
        self.barrier = threading.Barrier(2, timeout=0.5)

        def simple(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"simple ", environ["PATH_INFO"].encode("latin1")]

        def barrier(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            try:
                return [b"ok %d" % self.barrier.wait()]
            except threading.BrokenBarrierError:
                return [b"broken"]

        def failing(environ, start_response):
            raise ValueError("application bug")

        def not_modified(environ, start_response):
            start_response("304 Not Modified", [])
            return []

        def bare_status(environ, start_response):
            start_response("202", [("Content-Type", "text/plain")])
            return [b"accepted"]

        self.pool = concurrent.futures.ThreadPoolExecutor(2)
        return RuleRouter(
            [
                (PathMatches("/bare"), WSGIContainer(bare_status)),
                (PathMatches("/simple.*"), WSGIContainer(validator(simple))),
                (PathMatches("/serial"), WSGIContainer(validator(barrier))),
                (PathMatches("/threaded"), WSGIContainer(validator(barrier), self.pool)),
                (PathMatches("/304"), WSGIContainer(not_modified)),
                (PathMatches("/fail"), WSGIContainer(failing)),
            ]
        )

    def tearDown(self):
        super().tearDown()
        self.pool.shutdown()

    def test_simple_and_percent_decoded_path(self):
        response = self.fetch("/simple/%C3%A9")
        self.assertEqual(response.body, b"simple /simple/\xc3\xa9")

    def test_head_drops_body_but_keeps_length(self):
        response = self.fetch("/simple", method="HEAD")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"")
        self.assertEqual(response.headers["Content-Length"], str(len(b"simple /simple")))

    def test_application_error_is_500(self):
        with ExpectLog(app_log, "Uncaught exception in WSGI application"):
            response = self.fetch("/fail")
        self.assertEqual(response.code, 500)
        self.assertIn(b"500: Internal Server Error", response.body)

    def test_status_without_reason_gets_the_standard_one(self):
        response = self.fetch("/bare")
        self.assertEqual((response.code, response.reason), (202, "Accepted"))
        self.assertEqual(response.body, b"accepted")

    def test_not_modified_has_no_added_entity_headers(self):
        response = self.fetch("/304")
        self.assertEqual(response.code, 304)
        self.assertNotIn("Content-Type", response.headers)

    @gen_test
    async def test_default_runs_on_loop_thread_one_at_a_time(self):
        responses = await asyncio.gather(
            self.http_client.fetch(self.get_url("/serial")),
            self.http_client.fetch(self.get_url("/serial")),
        )
        self.assertEqual([r.body for r in responses], [b"broken", b"broken"])

    @gen_test
    async def test_executor_runs_concurrently(self):
        responses = await asyncio.gather(
            self.http_client.fetch(self.get_url("/threaded")),
            self.http_client.fetch(self.get_url("/threaded")),
        )
        self.assertEqual(sorted(r.body for r in responses), [b"ok 0", b"ok 1"])


def test_environ_from_request():
    headers = HTTPHeaders(
        {
            "Host": "example.com:8080",
            "Content-Type": "text/plain",
            "Content-Length": "3",
            "X-Forwarded-Thing": "v",
        }
    )
    request = HTTPServerRequest(
        start_line=RequestStartLine("POST", "/p%2Fq?a=1", "HTTP/1.1"), headers=headers, body=b"abc"
    )
    environ = WSGIContainer(lambda e, s: []).environ(request)
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["PATH_INFO"] == "/p/q"
    assert environ["QUERY_STRING"] == "a=1"
    assert environ["SERVER_NAME"] == "example.com"
    assert environ["SERVER_PORT"] == "8080"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "3"
    assert environ["HTTP_X_FORWARDED_THING"] == "v"
    assert "HTTP_CONTENT_TYPE" not in environ
    assert environ["wsgi.input"].read() == b"abc"
    assert environ["wsgi.multithread"] is False
    # The request's own headers are left alone.
    assert "Content-Type" in request.headers


def test_to_wsgi_str_and_alias():
    assert to_wsgi_str(b"\xc3\xa9") == "\u00c3\u00a9"
    assert HTTPRequest is HTTPServerRequest
