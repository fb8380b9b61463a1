"""Request routing: choosing, per request, the code that will answer it.

`.HTTPServer` talks to an `~.httputil.HTTPServerConnectionDelegate`, asking
it for one `~.httputil.HTTPMessageDelegate` per request.  A *router* is such
a connection delegate that waits for the start line and headers and then
picks the message delegate by looking at them.  `tornado.web.Application` is
the router most programs use; this module holds the pieces it is made of,
which also work on their own:

* `Router` (``find_handler``: request -> delegate or ``None``) and
  `ReversibleRouter` (``reverse_url``: rule name + arguments -> path) are the
  interfaces.
* `RuleRouter` and `ReversibleRuleRouter` walk an ordered list of `Rule`
  objects.  Each rule couples a `Matcher` (`PathMatches`, `HostMatches`,
  `DefaultHostMatches`, `AnyMatches`) with a target: a nested router, any
  `~.httputil.HTTPServerConnectionDelegate` (an `.Application`, a
  `.WSGIContainer`), a plain callable that receives the finished
  `.HTTPServerRequest`, or, inside an `.Application`, a `.RequestHandler`
  subclass.

Rules may be spelled as tuples; a string where the matcher goes is a path
pattern::

    router = RuleRouter([
        Rule(PathMatches("/app1/.*"), app1),
        ("/app2/.*", app2),
        (HostMatches("example.com"), [(r"/.*", app3)]),
    ])

Built on `tornado.httputil` (requests and delegates) plus small text helpers
from `tornado.escape` and `tornado.util`; plain-function targets go through
`tornado.httpserver`'s adapter.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Pattern, Sequence, Tuple, Union

from tornado import httputil
from tornado.escape import url_escape, url_unescape
from tornado.log import app_log
from tornado.util import import_object, re_unescape

_Request = httputil.HTTPServerRequest
_MaybeDelegate = Optional[httputil.HTTPMessageDelegate]
_StartLine = Union[httputil.RequestStartLine, httputil.ResponseStartLine]
_Params = Optional[Dict[str, Any]]

# What add_rules accepts for one rule: a Rule, or a 2- to 4-item tuple/list
# (matcher or path pattern, target, target kwargs, name).
_RuleSpec = Union["Rule", List[Any], Tuple[Any, ...]]
_RuleList = Sequence[_RuleSpec]


class Router(httputil.HTTPServerConnectionDelegate):
    """What every router provides: a choice of delegate for a request."""

    def find_handler(self, request: _Request, **kwargs: Any) -> _MaybeDelegate:
        """Chooses the `~.httputil.HTTPMessageDelegate` for ``request``;
        ``None`` means this router has no opinion about it.

        An enclosing router hands down what it learnt while matching (for
        example the path arguments a `PathMatches` captured) as ``kwargs``.
        """
        raise NotImplementedError()

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        # Nothing can be decided before the start line and headers arrive.
        # The placeholder's class is a hook: tornado.web.Application uses
        # one that also runs the handler, which saves a layer per request.
        return self._pending_route(self, server_conn, request_conn)

    # Set below, once _PendingRoute exists: called as (router, server
    # connection, request connection).
    _pending_route: Callable[..., httputil.HTTPMessageDelegate]


class ReversibleRouter(Router):
    """A router that can also turn a rule name back into a URL path."""

    def reverse_url(self, name: str, *args: Any) -> Optional[str]:
        """Builds the path of the rule called ``name``, with ``args`` filled
        into its groups; ``None`` when no rule has that name."""
        raise NotImplementedError()


class _PendingRoute(httputil.HTTPMessageDelegate):
    """Placeholder delegate for one request: once the headers are in it
    builds the request, lets the router choose the real delegate and from
    then on passes every event straight to that one."""

    # No __slots__: monitoring agents (New Relic) set a wrapped
    # headers_received on the delegate instance that start_request returns.

    def __init__(
        self, router: Router, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> None:
        self._router = router
        self._server_conn = server_conn
        self._conn = request_conn
        self._chosen: _MaybeDelegate = None

    def headers_received(
        self, start_line: _StartLine, headers: httputil.HTTPHeaders
    ) -> Any:
        assert isinstance(start_line, httputil.RequestStartLine)
        request = httputil.HTTPServerRequest(
            start_line=start_line,
            headers=headers,
            connection=self._conn,
            server_connection=self._server_conn,
        )
        chosen = self._router.find_handler(request)
        if chosen is None:
            app_log.debug(
                "No route for %s %s; answering 404", start_line.method, start_line.path
            )
            chosen = _NotFoundDelegate(self._conn)
        self._chosen = chosen
        return chosen.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        assert self._chosen is not None
        return self._chosen.data_received(chunk)

    def finish(self) -> None:
        assert self._chosen is not None
        self._chosen.finish()

    def on_connection_close(self) -> None:
        # The peer may hang up before a delegate was ever chosen.
        if self._chosen is not None:
            self._chosen.on_connection_close()


Router._pending_route = _PendingRoute


class _NotFoundDelegate(httputil.HTTPMessageDelegate):
    """Sends an empty 404 once the unrouted request has been read."""

    def __init__(self, connection: httputil.HTTPConnection) -> None:
        self._conn = connection

    def finish(self) -> None:
        status = httputil.ResponseStartLine("HTTP/1.1", 404, "Not Found")
        self._conn.write_headers(status, httputil.HTTPHeaders({"Content-Length": "0"}))
        self._conn.finish()


def _as_rule(spec: _RuleSpec) -> "Rule":
    """Expands the tuple/list shorthand for a rule; a `Rule` is returned
    unchanged.  A string in the matcher position is a `PathMatches`
    pattern."""
    if not isinstance(spec, (tuple, list)):
        return spec
    assert 2 <= len(spec) <= 4, f"a rule takes 2 to 4 items, got {spec!r}"
    matcher, *rest = spec
    if isinstance(matcher, str):
        matcher = PathMatches(matcher)
    return Rule(matcher, *rest)


class RuleRouter(Router):
    """Walks its rules in order; the first rule that both matches the
    request and yields a delegate from its target decides."""

    def __init__(self, rules: Optional[_RuleList] = None) -> None:
        """``rules`` holds `Rule` objects or their tuple shorthand
        ``(matcher, target[, target_kwargs[, name]])``, where a string
        matcher means ``PathMatches(string)``.  What a list target becomes
        is up to `process_rule` (an `.Application` nests it as a router).
        """
        self.rules: List[Rule] = []
        if rules:
            self.add_rules(rules)

    def add_rules(self, rules: _RuleList) -> None:
        """Appends more rules, written as for the constructor."""
        for spec in rules:
            self.rules.append(self.process_rule(_as_rule(spec)))

    def process_rule(self, rule: "Rule") -> "Rule":
        """Subclass hook run on each rule as it is added; whatever it
        returns is stored.  Here it stores the rule as it is."""
        return rule

    def find_handler(self, request: _Request, **kwargs: Any) -> _MaybeDelegate:
        for rule in self.rules:
            params = rule.matcher.match(request)
            if params is None:
                continue
            if rule.target_kwargs:
                params["target_kwargs"] = rule.target_kwargs
            found = self.get_target_delegate(rule.target, request, **params)
            if found is not None:
                return found
        return None

    def get_target_delegate(
        self, target: Any, request: _Request, **target_params: Any
    ) -> _MaybeDelegate:
        """Makes the delegate for the target of a rule that matched.

        A router is asked in turn (receiving ``target_params``); a
        connection delegate gets a new request on the request's
        connection; any other callable is called with the complete request
        once the body is in.  Unknown targets give ``None``.  Subclasses
        add their own kinds of target by extending this.
        """
        if isinstance(target, Router):
            return target.find_handler(request, **target_params)
        conn = request.connection
        if isinstance(target, httputil.HTTPServerConnectionDelegate):
            assert conn is not None
            return target.start_request(request.server_connection, conn)
        if callable(target):
            assert conn is not None
            # The server's own adapter for plain-function applications.
            # Imported here: tornado.web (built on this module) leaves
            # loading the server to the programs that start one.
            from tornado.httpserver import _RequestCollector

            return _RequestCollector(partial(target, **target_params), conn)
        return None


class ReversibleRuleRouter(ReversibleRouter, RuleRouter):
    """A `RuleRouter` that indexes named rules for `reverse_url` and,
    for names it lacks, asks the reversible routers among its targets."""

    def __init__(self, rules: Optional[_RuleList] = None) -> None:
        self.named_rules: Dict[str, Any] = {}
        super().__init__(rules)

    def process_rule(self, rule: "Rule") -> "Rule":
        rule = super().process_rule(rule)
        name = rule.name
        if name:
            if name in self.named_rules:
                app_log.warning(
                    "Multiple handlers named %s; replacing previous value", name
                )
            self.named_rules[name] = rule
        return rule

    def reverse_url(self, name: str, *args: Any) -> Optional[str]:
        """Reverses the rule of that name registered here, or else takes
        the first answer a nested reversible router gives."""
        own = self.named_rules.get(name)
        if own is not None:
            return own.matcher.reverse(*args)
        for rule in self.rules:
            nested = rule.target
            if not isinstance(nested, ReversibleRouter):
                continue
            path = nested.reverse_url(name, *args)
            if path is not None:
                return path
        return None


class Rule:
    """One routing rule: a `Matcher`, the target it leads to and the
    keyword arguments for that target."""

    def __init__(
        self, matcher: "Matcher", target: Any,
        target_kwargs: _Params = None, name: Optional[str] = None,
    ) -> None:  # fmt: skip
        """``target`` is a `Router`, an
        `~.httputil.HTTPServerConnectionDelegate`, a callable taking the
        request, a list of rules, a `.RequestHandler` subclass (within an
        `.Application`), or the dotted import path of one of those.
        ``target_kwargs`` travel with the target (a handler gets them in
        ``initialize``); a ``name`` lets `ReversibleRouter.reverse_url`
        find the rule.
        """
        self.matcher: Matcher = matcher
        self.target = import_object(target) if isinstance(target, str) else target
        self.target_kwargs = target_kwargs or {}
        self.name = name

    def reverse(self, *args: Any) -> Optional[str]:
        return self.matcher.reverse(*args)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.matcher!r}, {self.target}, "
            f"kwargs={self.target_kwargs!r}, name={self.name!r})"
        )


class Matcher:
    """The test a `Rule` applies to a request."""

    def match(self, request: _Request) -> _Params:
        """``None`` when the request does not match; otherwise the
        parameters to hand to the target (such as the ``path_args`` and
        ``path_kwargs`` a handler's method receives), an empty dict when
        there are none."""
        raise NotImplementedError()

    def reverse(self, *args: Any) -> Optional[str]:
        """Builds the URL this matcher would accept for ``args``, or gives
        ``None`` when the matcher has no such notion."""
        return None


class AnyMatches(Matcher):
    """Accepts every request."""

    def match(self, request: _Request) -> _Params:
        return {}


def _compile_anchored(pattern: Union[str, Pattern]) -> Pattern:
    """Compiles a textual pattern with an implied ``$`` at its end (the
    start is anchored by ``re.match``); compiled patterns are kept."""
    if not isinstance(pattern, str):
        return pattern
    return re.compile(pattern if pattern.endswith("$") else pattern + "$")


class HostMatches(Matcher):
    """Accepts requests whose host name (without port, lower case) fits a
    regular expression in full."""

    def __init__(self, host_pattern: Union[str, Pattern]) -> None:
        self.host_pattern = _compile_anchored(host_pattern)

    def match(self, request: _Request) -> _Params:
        return {} if self.host_pattern.match(request.host_name) else None


class DefaultHostMatches(Matcher):
    """Accepts a request from whatever host while the application's
    ``default_host`` (read at match time) fits ``host_pattern``.

    Requests with an ``X-Real-Ip`` header came through a proxy, whose Host
    header is trustworthy, so they are never accepted this way.
    """

    def __init__(self, application: Any, host_pattern: Pattern) -> None:
        self.application = application
        self.host_pattern = host_pattern

    def match(self, request: _Request) -> _Params:
        if "X-Real-Ip" in request.headers:
            return None
        return {} if self.host_pattern.match(self.application.default_host) else None


# How PathMatches turns a regex match into target parameters.
_NO_GROUPS, _POSITIONAL, _NAMED = range(3)


class PathMatches(Matcher):
    """Accepts requests whose path fits a regular expression (anchored at
    both ends; the query string is not part of the path).

    The capturing groups become the handler's arguments: positional ones
    when the groups are unnamed, keyword ones when every group is named
    (a mixture is refused).  Each captured value is percent-decoded to
    bytes here; `.RequestHandler.decode_argument` makes text of it.
    """

    def __init__(self, path_pattern: Union[str, Pattern]) -> None:
        self.regex = _compile_anchored(path_pattern)
        total, named = self.regex.groups, len(self.regex.groupindex)
        assert named in (0, total), (
            "url regex groups must be either all named or all positional: %r"
            % self.regex.pattern
        )
        if not total:
            self._kind = _NO_GROUPS
        else:
            self._kind = _NAMED if named else _POSITIONAL
        # The reverse template and group count, under the names that code
        # deriving route labels from matchers reads (ddtrace, OpenTelemetry).
        self._path, self._group_count = self._find_groups()
        self._match_path = self.regex.match  # looked up once, used per request

    def match(self, request: _Request) -> _Params:
        found = self._match_path(request.path)
        if found is None:
            return None
        kind = self._kind
        if kind == _POSITIONAL:
            args = [_unquote_or_none(g) for g in found.groups()]
            return {"path_args": args, "path_kwargs": {}}
        if kind == _NAMED:
            kwargs = {k: _unquote_or_none(v) for k, v in found.groupdict().items()}
            return {"path_args": [], "path_kwargs": kwargs}
        return {}

    def _find_groups(self) -> Tuple[Optional[str], Optional[int]]:
        """(``%``-template, number of groups) for reversing the pattern:
        ``("/%s/%s/", 2)`` for ``/([0-9]{4})/([a-z-]+)/``; ``(None, None)``
        when the pattern cannot be reversed (see `_reverse_template`)."""
        template = _reverse_template(self.regex)
        if template is None:
            return None, None
        return template, self.regex.groups

    def reverse(self, *args: Any) -> Optional[str]:
        template = self._path
        if template is None:
            raise ValueError("Cannot reverse url regex " + self.regex.pattern)
        arity = self.regex.groups
        assert len(args) == arity, (
            f"{self.regex.pattern!r} takes {arity} arguments, got {len(args)}"
        )
        return template % tuple(_quote_path_arg(a) for a in args)


def _quote_path_arg(arg: Any) -> str:
    """Percent-encodes one `PathMatches.reverse` argument (text as UTF-8,
    anything else by its ``str``); ``+`` is escaped too, ``/`` is kept."""
    if not isinstance(arg, (str, bytes)):
        arg = str(arg)
    return url_escape(arg, plus=False)


def _reverse_template(regex: Pattern) -> Optional[str]:
    """Derives a ``%``-template for `PathMatches.reverse` from a pattern,
    with one ``%s`` per group: ``/([0-9]{4})/([a-z-]+)/`` gives
    ``"/%s/%s/"``.

    Only simple patterns can be reversed: literal text (backslash escapes
    allowed) around flat capturing groups.  For anything else, such as
    nested or non-capturing groups or character classes outside groups,
    the answer is ``None``.
    """
    text = regex.pattern
    if text.startswith("^"):
        text = text[1:]
    if text.endswith("$"):
        text = text[:-1]
    segments = text.split("(")
    if len(segments) - 1 != regex.groups:
        # A "(" that opens no capturing group: (?:...), (?P=...) or \(.
        return None
    literals = [segments[0]]
    for segment in segments[1:]:
        _, closed, after = segment.partition(")")
        if not closed:
            return None  # a group nested in another one
        literals.append(after)
    try:
        unescaped = [re_unescape(lit).replace("%", "%%") for lit in literals]
    except ValueError:
        # The literal part holds regex syntax such as \d.
        return None
    return "%s".join(unescaped)


class URLSpec(Rule):
    """A path-pattern `Rule`, the kind `tornado.web.Application` is given
    (exported there as ``tornado.web.url``)."""

    def __init__(
        self, pattern: Union[str, Pattern], handler: Any,
        kwargs: _Params = None, name: Optional[str] = None,
    ) -> None:  # fmt: skip
        """``pattern`` is the path regular expression (see `PathMatches`),
        ``handler`` the `.RequestHandler` subclass or its dotted name,
        ``kwargs`` the arguments for its ``initialize`` and ``name`` the
        key for `.Application.reverse_url`.
        """
        path_matcher = PathMatches(pattern)
        super().__init__(path_matcher, handler, kwargs, name)
        self.kwargs = kwargs
        self.regex = path_matcher.regex
        self.handler_class = self.target

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.regex.pattern!r}, {self.handler_class}, "
            f"kwargs={self.kwargs!r}, name={self.name!r})"
        )


def _unquote_or_none(s: Optional[str]) -> Optional[bytes]:
    """Percent-decodes a captured path segment to bytes, leaving ``+``
    alone (it is literal in a path).  A group that took no part in the
    match (``None``) stays ``None``."""
    if s is None:
        return None
    if "%" not in s:
        return s.encode("utf-8")
    return url_unescape(s, encoding=None, plus=False)
