"""Tests for tornado.routing: matchers on their own, and routers serving
real requests on 127.0.0.1."""

import re

import pytest

from tornado.httputil import (
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    HTTPServerRequest,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.routing import (
    AnyMatches,
    DefaultHostMatches,
    HostMatches,
    PathMatches,
    ReversibleRuleRouter,
    Router,
    Rule,
    RuleRouter,
    URLSpec,
)
from tornado.testing import AsyncHTTPTestCase
from tornado.web import Application, RequestHandler
from support import respond_ok


def make_request(uri: str, host: str = "127.0.0.1", **headers: str) -> HTTPServerRequest:
    h = HTTPHeaders({"Host": host})
    for k, v in headers.items():
        h[k.replace("_", "-")] = v
    return HTTPServerRequest(start_line=RequestStartLine("GET", uri, "HTTP/1.1"), headers=h)


# Matchers -------------------------------------------------------------------


def test_path_matches_positional_groups_are_unquoted_bytes():
    m = PathMatches(r"/a/([^/]+)/(.*)")
    assert m.match(make_request("/a/x%2Fy/z+w")) == {
        "path_args": [b"x/y", b"z+w"],
        "path_kwargs": {},
    }


def test_path_matches_named_groups():
    m = PathMatches(r"/u/(?P<name>[a-z]+)")
    assert m.match(make_request("/u/bob")) == {
        "path_args": [],
        "path_kwargs": {"name": b"bob"},
    }


def test_path_matches_is_anchored_at_end_but_not_query():
    m = PathMatches("/exact")
    assert m.match(make_request("/exact")) == {}
    assert m.match(make_request("/exact?x=1")) == {}
    assert m.match(make_request("/exact/more")) is None
    assert m.match(make_request("/other")) is None


def test_path_matches_optional_group_is_none():
    m = PathMatches("/opt/(.+)?")
    assert m.match(make_request("/opt/"))["path_args"] == [None]


def test_path_matches_mixed_groups_rejected():
    with pytest.raises(AssertionError):
        PathMatches(r"/(?P<a>x)/(y)")


def test_path_matches_compiled_pattern_kept():
    regex = re.compile("/x$")
    assert PathMatches(regex).regex is regex


@pytest.mark.parametrize(
    "pattern,args,expected",
    [
        (r"/favicon\.ico", (), "/favicon.ico"),
        (r"^/favicon\.ico$", (), "/favicon.ico"),
        (r"/item/([0-9]+)", (42,), "/item/42"),
        (r"/item/([0-9]+)/(\w+)", ("1", "a b"), "/item/1/a%20b"),
        (r"/x/(.*)", (b"\xe9",), "/x/%E9"),
        (r"/x/(.*)", ("\u00e9",), "/x/%C3%A9"),
        (r"/x/(.*)", ("1 + 1",), "/x/1%20%2B%201"),
        (r"/100%/(.*)", ("a",), "/100%/a"),
    ],
)
def test_path_matches_reverse(pattern, args, expected):
    assert PathMatches(pattern).reverse(*args) == expected


@pytest.mark.parametrize(
    "pattern", [r"^/api/v\d+/foo/(\w+)$", r"/(?:a|b)/(x)", r"/a\(b/(x)"]
)
def test_path_matches_not_reversible(pattern):
    with pytest.raises(ValueError):
        PathMatches(pattern).reverse("x")


def test_path_matches_reverse_without_args_keeps_literal_percent():
    assert PathMatches("/100%").reverse() == "/100%"


def test_path_matches_nested_group_not_reversible():
    with pytest.raises(ValueError):
        PathMatches("/(a(b))").reverse("x", "y")


def test_path_matches_reverse_wrong_arg_count():
    with pytest.raises(AssertionError):
        PathMatches("/a/(.*)").reverse()


def test_host_matches_uses_host_name():
    m = HostMatches(r"www\.example\.com")
    assert m.match(make_request("/", host="www.example.com:8080")) == {}
    assert m.match(make_request("/", host="WWW.EXAMPLE.COM")) == {}
    assert m.match(make_request("/", host="www.example.com.evil")) is None


def test_default_host_matches_follows_application_and_ignores_proxied():
    class App:
        default_host = "www.example.com"

    app = App()
    m = DefaultHostMatches(app, re.compile(r"www\.example\.com$"))
    assert m.match(make_request("/", host="127.0.0.1")) == {}
    assert m.match(make_request("/", X_Real_Ip="1.2.3.4")) is None
    app.default_host = "other.com"
    assert m.match(make_request("/")) is None


def test_any_matches_and_base_matcher_reverse():
    assert AnyMatches().match(make_request("/anything")) == {}
    assert AnyMatches().reverse() is None


def test_rule_imports_dotted_target_and_repr():
    rule = Rule(PathMatches("/x"), "tornado.web.RequestHandler", name="n")
    assert rule.target is RequestHandler
    assert rule.target_kwargs == {}
    assert repr(rule).startswith("Rule(<tornado.routing.PathMatches")
    assert rule.reverse() == "/x"


def test_urlspec_attributes_and_repr():
    spec = URLSpec("/u/([0-9]+)", RequestHandler, {"a": 1}, name="user")
    assert spec.regex.pattern == "/u/([0-9]+)$"
    assert spec.handler_class is RequestHandler
    assert spec.kwargs == {"a": 1}
    assert spec.reverse(5) == "/u/5"
    assert repr(spec) == (
        "URLSpec('/u/([0-9]+)$', <class 'tornado.web.RequestHandler'>, "
        "kwargs={'a': 1}, name='user')"
    )


def test_rule_router_accepts_tuples_and_lists():
    router = RuleRouter(
        [("/a", "tornado.web.RequestHandler"), [PathMatches("/b"), RequestHandler, {}, "b"]]
    )
    assert [type(r.matcher) for r in router.rules] == [PathMatches, PathMatches]
    assert router.rules[1].name == "b"


def test_reversible_rule_router_names_and_nesting(caplog):
    inner = ReversibleRuleRouter([Rule(PathMatches("/in/(.*)"), None, name="inner")])
    outer = ReversibleRuleRouter(
        [Rule(PathMatches("/out"), None, name="outer"), Rule(AnyMatches(), inner)]
    )
    assert outer.reverse_url("outer") == "/out"
    assert outer.reverse_url("inner", "x") == "/in/x"
    assert outer.reverse_url("missing") is None
    outer.add_rules([Rule(PathMatches("/again"), None, name="outer")])
    assert "Multiple handlers named outer" in caplog.text
    assert outer.reverse_url("outer") == "/again"


# Routers serving real requests ------------------------------------------------


class OKDelegate(HTTPMessageDelegate):
    def __init__(self, connection, body=b"OK"):
        self.connection = connection
        self.body = body

    def finish(self):
        respond_ok(self.connection, self.body)


class EchoPathDelegate(HTTPServerConnectionDelegate):
    def start_request(self, server_conn, request_conn):
        return OKDelegate(request_conn, b"delegate")


def callable_target(request):
    body = ("callable %s %s" % (request.method, request.body.decode())).encode()
    request.connection.write_headers(
        ResponseStartLine("HTTP/1.1", 200, "OK"),
        HTTPHeaders({"Content-Length": str(len(body))}),
    )
    request.connection.write(body)
    request.connection.finish()


class NamedHandler(RequestHandler):
    def initialize(self, name):
        self.name = name

    def get(self, *args):
        self.write("%s %s %s" % (self.name, list(args), self.reverse_url("second", "z")))


class RoutersTest(AsyncHTTPTestCase):
    def get_app(self):
        app = Application()
        app.add_handlers(
            ".*",
            [
                (HostMatches("special.example"), [("/h", NamedHandler, {"name": "host"})]),
                ("/first/(.*)", NamedHandler, {"name": "first"}),
                Rule(PathMatches("/second/(.*)"), NamedHandler, {"name": "second"}, "second"),
            ],
        )

        class MethodRouter(Router):
            def find_handler(self, request, **kwargs):
                if request.method == "POST":
                    return OKDelegate(request.connection, b"posted")
                return None

        return RuleRouter(
            [
                Rule(PathMatches("/method"), MethodRouter()),
                ("/delegate", EchoPathDelegate()),
                ("/callable", callable_target),
                (PathMatches("/(first|second|h)/?.*"), app),
            ]
        )

    def test_nested_application(self):
        response = self.fetch("/first/a%20b")
        self.assertEqual(response.body, b"first ['a b'] /second/z")
        response = self.fetch("/second/x")
        self.assertEqual(response.body, b"second ['x'] /second/z")

    def test_host_rule_in_application(self):
        self.assertEqual(self.fetch("/h").code, 404)
        response = self.fetch("/h", headers={"Host": "special.example"})
        self.assertEqual(response.body, b"host [] /second/z")

    def test_router_returning_none_falls_through_to_404(self):
        self.assertEqual(self.fetch("/method").code, 404)
        response = self.fetch("/method", method="POST", body=b"")
        self.assertEqual(response.body, b"posted")

    def test_connection_delegate_target(self):
        self.assertEqual(self.fetch("/delegate").body, b"delegate")

    def test_callable_target_gets_complete_request(self):
        response = self.fetch("/callable", method="POST", body=b"payload")
        self.assertEqual(response.body, b"callable POST payload")

    def test_unmatched_is_404(self):
        response = self.fetch("/nowhere")
        self.assertEqual(response.code, 404)
        self.assertEqual(response.body, b"")
