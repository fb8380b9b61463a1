"""Flexible request routing: matching requests to the code that answers them.

A router is an `~.httputil.HTTPServerConnectionDelegate`: `.HTTPServer` asks
it for a message delegate per request, and the router picks one by looking at
the request's start line and headers.  `tornado.web.Application` is the best
known router; this module supplies the parts it is built from, which can also
be combined by hand:

* `Router` and `ReversibleRouter` are the interfaces: ``find_handler`` turns a
  request into an `~.httputil.HTTPMessageDelegate` (or ``None``), and
  ``reverse_url`` turns a rule name and arguments back into a path.
* `RuleRouter` and `ReversibleRuleRouter` try a list of `Rule` objects in
  order.  A rule pairs a `Matcher` (`PathMatches`, `HostMatches`,
  `DefaultHostMatches`, `AnyMatches`) with a target: another router, an
  `~.httputil.HTTPServerConnectionDelegate` (such as an `.Application` or a
  `.WSGIContainer`), a `.RequestHandler` subclass (when the router is an
  `.Application`), or a plain callable taking the `.HTTPServerRequest`.

Rules may be given as `Rule` instances or as tuples; in a tuple whose first
element is a string, that string is a path pattern::

    router = RuleRouter([
        Rule(PathMatches("/app1/.*"), app1),
        ("/app2/.*", app2),
        (HostMatches("example.com"), [(r"/.*", app3)]),
    ])

This module builds only on `tornado.httputil` (requests, delegates), and on
`tornado.escape`/`tornado.util` for the small text helpers.
"""

import re
from functools import partial
from typing import Any, Dict, List, Optional, Pattern, Sequence, Tuple, Union

from tornado import httputil
from tornado.escape import url_escape, url_unescape, utf8
from tornado.log import app_log
from tornado.util import basestring_type, import_object, re_unescape, unicode_type


class Router(httputil.HTTPServerConnectionDelegate):
    """Abstract router interface: turns a request into a message delegate."""

    def find_handler(
        self, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> Optional[httputil.HTTPMessageDelegate]:
        """Returns an `~.httputil.HTTPMessageDelegate` for ``request``, or
        ``None`` when this router has nothing for it.

        ``kwargs`` carry extra routing state from an enclosing router (for
        example the path arguments a `PathMatches` captured).
        """
        raise NotImplementedError()

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        return _RoutingDelegate(self, server_conn, request_conn)


class ReversibleRouter(Router):
    """A router that can also build URLs from rule names."""

    def reverse_url(self, name: str, *args: Any) -> Optional[str]:
        """Returns the path of the rule called ``name`` with ``args``
        substituted for its groups, or ``None`` if there is no such rule."""
        raise NotImplementedError()


class _RoutingDelegate(httputil.HTTPMessageDelegate):
    """Builds the request once its headers arrive, asks the router for the
    real delegate and forwards the rest of the message to it."""

    __slots__ = ("server_conn", "request_conn", "delegate", "router")

    def __init__(
        self, router: Router, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> None:
        self.server_conn = server_conn
        self.request_conn = request_conn
        self.delegate: Optional[httputil.HTTPMessageDelegate] = None
        self.router = router

    def headers_received(
        self,
        start_line: Union[httputil.RequestStartLine, httputil.ResponseStartLine],
        headers: httputil.HTTPHeaders,
    ) -> Any:
        assert isinstance(start_line, httputil.RequestStartLine)
        request = httputil.HTTPServerRequest(
            connection=self.request_conn,
            server_connection=self.server_conn,
            start_line=start_line,
            headers=headers,
        )
        delegate = self.router.find_handler(request)
        if delegate is None:
            app_log.debug(
                "Delegate for %s %s request not found",
                start_line.method,
                start_line.path,
            )
            delegate = _DefaultMessageDelegate(self.request_conn)
        self.delegate = delegate
        return delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        assert self.delegate is not None
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        assert self.delegate is not None
        self.delegate.finish()

    def on_connection_close(self) -> None:
        # The connection may close before the headers were routed (or
        # while routing failed).
        if self.delegate is not None:
            self.delegate.on_connection_close()


class _DefaultMessageDelegate(httputil.HTTPMessageDelegate):
    """Answers 404 when no rule matched the request."""

    def __init__(self, connection: httputil.HTTPConnection) -> None:
        self.connection = connection

    def finish(self) -> None:
        self.connection.write_headers(
            httputil.ResponseStartLine("HTTP/1.1", 404, "Not Found"),
            httputil.HTTPHeaders({"Content-Length": "0"}),
        )
        self.connection.finish()


# A rule given as a tuple: (matcher or path pattern, target[, kwargs[, name]]).
_RuleList = Sequence[
    Union[
        "Rule",
        List[Any],
        Tuple[Union[str, "Matcher"], Any],
        Tuple[Union[str, "Matcher"], Any, Dict[str, Any]],
        Tuple[Union[str, "Matcher"], Any, Dict[str, Any], str],
    ]
]


class RuleRouter(Router):
    """A router that tries its rules in order and uses the first whose
    matcher matches and whose target yields a delegate."""

    def __init__(self, rules: Optional[_RuleList] = None) -> None:
        """Builds the router from ``rules``: `Rule` instances, or tuples of
        ``(matcher, target[, target_kwargs[, name]])`` where a string in the
        first position stands for ``PathMatches(string)``.

        A list given as a target becomes a nested `RuleRouter` of the same
        class (see `process_rule`).
        """
        self.rules: List[Rule] = []
        if rules:
            self.add_rules(rules)

    def add_rules(self, rules: _RuleList) -> None:
        """Appends ``rules`` (same forms as in the constructor)."""
        for rule in rules:
            if isinstance(rule, (tuple, list)):
                assert len(rule) in (2, 3, 4), "a rule tuple has 2 to 4 items: %r" % (
                    rule,
                )
                if isinstance(rule[0], basestring_type):
                    rule = Rule(PathMatches(rule[0]), *rule[1:])
                else:
                    rule = Rule(*rule)
            self.rules.append(self.process_rule(rule))

    def process_rule(self, rule: "Rule") -> "Rule":
        """Hook for subclasses to adjust a rule as it is added; must return
        the rule to store.  The default returns it unchanged."""
        return rule

    def find_handler(
        self, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> Optional[httputil.HTTPMessageDelegate]:
        for rule in self.rules:
            target_params = rule.matcher.match(request)
            if target_params is not None:
                if rule.target_kwargs:
                    target_params["target_kwargs"] = rule.target_kwargs
                delegate = self.get_target_delegate(
                    rule.target, request, **target_params
                )
                if delegate is not None:
                    return delegate
        return None

    def get_target_delegate(
        self, target: Any, request: httputil.HTTPServerRequest, **target_params: Any
    ) -> Optional[httputil.HTTPMessageDelegate]:
        """Returns the delegate for a matched rule's ``target``.

        Routers are asked in turn (with ``target_params``), connection
        delegates start a request on the request's connection, and other
        callables get the whole request once its body has arrived.
        Subclasses extend this to support more kinds of target.
        """
        if isinstance(target, Router):
            return target.find_handler(request, **target_params)
        elif isinstance(target, httputil.HTTPServerConnectionDelegate):
            assert request.connection is not None
            return target.start_request(request.server_connection, request.connection)
        elif callable(target):
            assert request.connection is not None
            return _CallableAdapter(
                partial(target, **target_params), request.connection
            )
        return None


class ReversibleRuleRouter(ReversibleRouter, RuleRouter):
    """A rule router that also remembers named rules for `reverse_url`,
    and asks reversible nested routers for names it does not know."""

    def __init__(self, rules: Optional[_RuleList] = None) -> None:
        self.named_rules: Dict[str, Any] = {}
        super().__init__(rules)

    def process_rule(self, rule: "Rule") -> "Rule":
        rule = super().process_rule(rule)
        if rule.name:
            if rule.name in self.named_rules:
                app_log.warning(
                    "Multiple handlers named %s; replacing previous value", rule.name
                )
            self.named_rules[rule.name] = rule
        return rule

    def reverse_url(self, name: str, *args: Any) -> Optional[str]:
        """Returns the path of the rule named ``name`` here, or else the
        first answer of a reversible nested router; None if nobody knows
        the name."""
        if name in self.named_rules:
            return self.named_rules[name].matcher.reverse(*args)
        for rule in self.rules:
            if isinstance(rule.target, ReversibleRouter):
                reversed_url = rule.target.reverse_url(name, *args)
                if reversed_url is not None:
                    return reversed_url
        return None


class Rule:
    """A routing rule: a `Matcher`, a target and the target's arguments."""

    def __init__(
        self,
        matcher: "Matcher",
        target: Any,
        target_kwargs: Optional[Dict[str, Any]] = None,
        name: Optional[str] = None,
    ) -> None:
        """``target`` may be a `Router`, an
        `~.httputil.HTTPServerConnectionDelegate`, a callable taking the
        request, a `.RequestHandler` subclass (in an `.Application`), a
        list of rules, or the dotted name of any of these, which is
        imported.  ``target_kwargs`` are passed on to the target (to a
        handler's ``initialize``); ``name`` makes the rule reversible with
        `ReversibleRouter.reverse_url`.
        """
        if isinstance(target, str):
            # Import the module and instantiate the class; must be a
            # fully-qualified name.
            target = import_object(target)
        self.matcher: Matcher = matcher
        self.target = target
        self.target_kwargs = target_kwargs if target_kwargs else {}
        self.name = name

    def reverse(self, *args: Any) -> Optional[str]:
        return self.matcher.reverse(*args)

    def __repr__(self) -> str:
        return "%s(%r, %s, kwargs=%r, name=%r)" % (
            self.__class__.__name__,
            self.matcher,
            self.target,
            self.target_kwargs,
            self.name,
        )


class Matcher:
    """Decides whether a request matches a rule."""

    def match(self, request: httputil.HTTPServerRequest) -> Optional[Dict[str, Any]]:
        """Returns ``None`` if the request does not match, else a dict of
        parameters for the target (e.g. ``path_args`` and ``path_kwargs``,
        which handlers receive); an empty dict for a plain match."""
        raise NotImplementedError()

    def reverse(self, *args: Any) -> Optional[str]:
        """Reconstructs a full url from matcher instance and additional
        arguments; ``None`` for matchers that cannot."""
        return None


class AnyMatches(Matcher):
    """Matches every request."""

    def match(self, request: httputil.HTTPServerRequest) -> Optional[Dict[str, Any]]:
        return {}


class HostMatches(Matcher):
    """Matches requests whose host name (``request.host_name``) matches a
    regular expression (anchored at both ends)."""

    def __init__(self, host_pattern: Union[str, Pattern]) -> None:
        if isinstance(host_pattern, basestring_type):
            if not host_pattern.endswith("$"):
                host_pattern += "$"
            self.host_pattern = re.compile(host_pattern)
        else:
            self.host_pattern = host_pattern

    def match(self, request: httputil.HTTPServerRequest) -> Optional[Dict[str, Any]]:
        if self.host_pattern.match(request.host_name):
            return {}
        return None


class DefaultHostMatches(Matcher):
    """Matches requests from any host when the application's current
    ``default_host`` matches ``host_pattern``.

    Requests carrying ``X-Real-Ip`` (which come through a proxy and so have
    a meaningful Host) never match.
    """

    def __init__(self, application: Any, host_pattern: Pattern) -> None:
        self.application = application
        self.host_pattern = host_pattern

    def match(self, request: httputil.HTTPServerRequest) -> Optional[Dict[str, Any]]:
        # Look for default host if not behind load balancer (for debugging)
        if "X-Real-Ip" not in request.headers:
            if self.host_pattern.match(self.application.default_host):
                return {}
        return None


class PathMatches(Matcher):
    """Matches requests whose path matches a regular expression (anchored
    at the end; ``re.match`` anchors the start).

    Capturing groups become the handler's arguments: positional when the
    groups are unnamed, keyword when they are all named (mixing the two is
    an error).  Captured values are percent-decoded to bytes here and
    decoded to text by `.RequestHandler.decode_argument`.
    """

    def __init__(self, path_pattern: Union[str, Pattern]) -> None:
        if isinstance(path_pattern, basestring_type):
            if not path_pattern.endswith("$"):
                path_pattern += "$"
            self.regex = re.compile(path_pattern)
        else:
            self.regex = path_pattern

        assert len(self.regex.groupindex) in (0, self.regex.groups), (
            "groups in url regexes must either be all named or all "
            "positional: %r" % self.regex.pattern
        )

        self._path, self._group_count = self._find_groups()
        # Precomputed so that a match does the least work per request.
        self._regex_match = self.regex.match
        self._named = bool(self.regex.groupindex)
        self._has_groups = bool(self.regex.groups)

    def match(self, request: httputil.HTTPServerRequest) -> Optional[Dict[str, Any]]:
        match = self._regex_match(request.path)
        if match is None:
            return None
        if not self._has_groups:
            return {}
        if self._named:
            return dict(
                path_args=[],
                path_kwargs={
                    str(k): _unquote_or_none(v) for k, v in match.groupdict().items()
                },
            )
        return dict(
            path_args=[_unquote_or_none(s) for s in match.groups()], path_kwargs={}
        )

    def reverse(self, *args: Any) -> Optional[str]:
        if self._path is None:
            raise ValueError("Cannot reverse url regex " + self.regex.pattern)
        assert len(args) == self._group_count, (
            "required number of arguments not found"
        )
        if not args:
            return self._path
        converted_args = []
        for a in args:
            if not isinstance(a, (unicode_type, bytes)):
                a = str(a)
            converted_args.append(url_escape(utf8(a), plus=False))
        return self._path % tuple(converted_args)

    def _find_groups(self) -> Tuple[Optional[str], Optional[int]]:
        """Turns the pattern into a ``%s`` template for `reverse`.

        ``/([0-9]{4})/([a-z-]+)/`` becomes ``/%s/%s/``.  Returns
        ``(None, None)`` when the pattern is too complex to reverse: nested
        or non-capturing groups, or regex syntax outside the groups.
        """
        pattern = self.regex.pattern
        if pattern.startswith("^"):
            pattern = pattern[1:]
        if pattern.endswith("$"):
            pattern = pattern[:-1]

        if self.regex.groups != pattern.count("("):
            # The pattern has nested or non-capturing groups, or an
            # escaped parenthesis: too complex to reverse.
            return None, None

        pieces = []
        for fragment in pattern.split("("):
            if ")" in fragment:
                # Everything up to the ")" is the group's own pattern.
                fragment = fragment[fragment.index(")") + 1 :]
                prefix = "%s"
            else:
                prefix = ""
            try:
                literal = re_unescape(fragment)
            except ValueError:
                # The fragment holds regex syntax (e.g. \d) that has no
                # single literal value.
                return None, None
            # A literal "%" must survive the %-substitution in reverse().
            pieces.append(prefix + literal.replace("%", "%%"))

        return "".join(pieces), self.regex.groups


class URLSpec(Rule):
    """A `Rule` with a path pattern, as `tornado.web.Application` uses.

    Also available as ``tornado.web.url``.
    """

    def __init__(
        self,
        pattern: Union[str, Pattern],
        handler: Any,
        kwargs: Optional[Dict[str, Any]] = None,
        name: Optional[str] = None,
    ) -> None:
        """``pattern``: a regular expression for the path (see
        `PathMatches`); ``handler``: the `.RequestHandler` subclass (or its
        dotted name); ``kwargs``: arguments for the handler's
        ``initialize``; ``name``: for `.Application.reverse_url`.
        """
        matcher = PathMatches(pattern)
        super().__init__(matcher, handler, kwargs, name)

        self.regex = matcher.regex
        self.handler_class = self.target
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return "%s(%r, %s, kwargs=%r, name=%r)" % (
            self.__class__.__name__,
            self.regex.pattern,
            self.handler_class,
            self.kwargs,
            self.name,
        )


def _unquote_or_none(s: Optional[str]) -> Optional[bytes]:
    """Percent-decodes a captured group to bytes; ``None`` (an optional
    group that did not participate) stays ``None``.

    ``+`` is left alone: in a path it is a literal plus sign.
    """
    if s is None:
        return s
    return url_unescape(s, encoding=None, plus=False)


class _CallableAdapter(httputil.HTTPMessageDelegate):
    """Collects a request's body and then hands the complete request to a
    plain callable (the oldest HTTPServer callback interface)."""

    def __init__(
        self, request_callback: Any, request_conn: httputil.HTTPConnection
    ) -> None:
        self.connection = request_conn
        self.request_callback = request_callback
        self.request: Optional[httputil.HTTPServerRequest] = None
        self._chunks: Optional[List[bytes]] = []

    def headers_received(
        self,
        start_line: Union[httputil.RequestStartLine, httputil.ResponseStartLine],
        headers: httputil.HTTPHeaders,
    ) -> Any:
        assert isinstance(start_line, httputil.RequestStartLine)
        self.request = httputil.HTTPServerRequest(
            connection=self.connection, start_line=start_line, headers=headers
        )
        return None

    def data_received(self, chunk: bytes) -> Any:
        assert self._chunks is not None
        self._chunks.append(chunk)
        return None

    def finish(self) -> None:
        assert self.request is not None and self._chunks is not None
        self.request.body = b"".join(self._chunks)
        self.request._parse_body()
        self.request_callback(self.request)

    def on_connection_close(self) -> None:
        self._chunks = None
