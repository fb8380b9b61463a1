"""Logging users in through a third party: OpenID 2.0, OAuth 1.0/1.0a and
OAuth 2.0, with ready-made mixins for Google, Facebook and Twitter.

Every class here is mixed into a `tornado.web.RequestHandler`.  A login
handler usually serves two requests: the first sends the browser away to the
provider (``authorize_redirect`` or ``authenticate_redirect``); the provider
then sends the browser back to the same URL with a code or token in the
query, and ``get_authenticated_user`` turns that into a dict describing the
user (typically kept in a signed cookie afterwards).  With the tokens in that
dict other handlers call the provider's API for the user (``oauth2_request``,
``facebook_request``, ``twitter_request``).  Provider endpoints are class
attributes with underscore names (``_OAUTH_AUTHORIZE_URL``, ...), which a
subclass or even a handler's ``initialize`` may replace.

For example, signing in with Google::

    class GoogleLogin(tornado.web.RequestHandler,
                      tornado.auth.GoogleOAuth2Mixin):
        async def get(self):
            back_here = "https://app.example/auth/google"
            code = self.get_argument("code", None)
            if code is None:
                self.authorize_redirect(
                    redirect_uri=back_here,
                    client_id=self.get_google_oauth_settings()["key"],
                    scope=["profile", "email"],
                    response_type="code")
                return
            tokens = await self.get_authenticated_user(back_here, code)
            profile = await self.oauth2_request(
                "https://www.googleapis.com/oauth2/v1/userinfo",
                access_token=tokens["access_token"])
            self.set_signed_cookie("user", tornado.escape.json_encode(profile))
            self.redirect("/")

OAuth 1 signing (HMAC-SHA1 over the signature base string of RFC 5849
section 3.4) is done by pure functions at the top of this module; all
traffic with providers goes through `tornado.httpclient.AsyncHTTPClient`.
"""

import base64
import binascii
import hashlib
import hmac
import time
import urllib.parse
import uuid
import warnings
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union, cast

from tornado import escape
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httputil import url_concat
from tornado.web import RequestHandler

_Token = Dict[str, Any]
_OptArgs = Optional[Dict[str, Any]]


class AuthError(Exception):
    """The provider's answer does not let us authenticate the user."""


def _not_none(pairs: Iterable[Tuple[str, Any]]) -> Dict[str, Any]:
    """A dict of the pairs whose value is not None, in their order."""
    return {name: value for name, value in pairs if value is not None}


def _query_url(url: str, query: Mapping[str, Any]) -> str:
    """``url`` with ``query`` appended after a "?" (nothing when empty)."""
    if not query:
        return url
    return url + "?" + urllib.parse.urlencode(query)


async def _fetch_json(client: AsyncHTTPClient, url: str, post_args: _OptArgs) -> Any:
    """GET ``url`` (or POST ``post_args`` form-encoded to it) and decode the
    JSON answer."""
    if post_args is None:
        response = await client.fetch(url)
    else:
        body = urllib.parse.urlencode(post_args)
        response = await client.fetch(url, method="POST", body=body)
    return escape.json_decode(response.body)


# OAuth 1 signatures (RFC 5849 section 3.4), free of I/O ---------------------


def _oauth_escape(val: Union[str, bytes]) -> str:
    """RFC 5849 3.6 percent-encoding: the UTF-8 bytes of everything except
    ALPHA / DIGIT / "-" / "." / "_" / "~"."""
    raw = val if isinstance(val, bytes) else val.encode("utf-8")
    # quote() already leaves letters, digits and "_.-" alone.
    return urllib.parse.quote(raw, safe="~")


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _oauth_base_string_uri(url: str) -> str:
    """RFC 5849 3.4.1.2: scheme and host in lower case, a port only when it
    differs from the scheme's default, the path ("/" when empty), and neither
    query nor fragment."""
    split = urllib.parse.urlsplit(url)
    scheme = split.scheme.lower()
    authority = (split.hostname or "").lower()
    if ":" in authority:  # an IPv6 literal gets its brackets back
        authority = "[" + authority + "]"
    if split.port is not None and _DEFAULT_PORTS.get(scheme) != split.port:
        authority += ":" + str(split.port)
    return f"{scheme}://{authority}{split.path or '/'}"


def _oauth_normalized_parameters(url: str, parameters: Mapping[str, Any]) -> str:
    """RFC 5849 3.4.1.3.2: every parameter of the request (the URL's own
    query plus ``parameters``, except a previous ``oauth_signature``), name
    and value percent-encoded, sorted, written ``name=value`` and joined by
    "&"."""
    from_query = urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    given = [
        (name, value if isinstance(value, (str, bytes)) else str(value))
        for name, value in parameters.items()
        if name != "oauth_signature"
    ]
    encoded = sorted((_oauth_escape(n), _oauth_escape(v)) for n, v in [*from_query, *given])
    return "&".join(n + "=" + v for n, v in encoded)


def _oauth_signature_base_string(method: str, url: str, parameters: Mapping[str, Any]) -> str:
    """RFC 5849 3.4.1.1: the upper-case method, the base string URI and the
    normalized parameters, each percent-encoded, joined by "&"."""
    pieces = [method.upper(), _oauth_base_string_uri(url), _oauth_normalized_parameters(url, parameters)]
    return "&".join(map(_oauth_escape, pieces))


def _hmac_sha1_base64(key: bytes, text: str) -> bytes:
    mac = hmac.new(key, escape.utf8(text), hashlib.sha1)
    return base64.b64encode(mac.digest())


def _oauth_signature(
    consumer_token: _Token, method: str, url: str,
    parameters: Mapping[str, Any] = {},  # noqa: B006 - only read
    token: Optional[_Token] = None,
) -> bytes:
    """The base64 HMAC-SHA1 signature of a request, OAuth 1.0 style.

    The draft that preceded RFC 5849 joined the two secrets with "&" as
    they are, without percent-encoding them.
    """
    key = escape.utf8(consumer_token["secret"]) + b"&"
    if token:
        key += escape.utf8(token["secret"])
    return _hmac_sha1_base64(key, _oauth_signature_base_string(method, url, parameters))


def _oauth10a_signature(
    consumer_token: _Token, method: str, url: str,
    parameters: Mapping[str, Any] = {},  # noqa: B006 - only read
    token: Optional[_Token] = None,
) -> bytes:
    """The base64 HMAC-SHA1 signature of a request, OAuth 1.0a style.

    RFC 5849 3.4.2: the key is the encoded client secret, "&", and the
    encoded token secret (nothing after the "&" without a token).
    """
    token_secret = _oauth_escape(token["secret"]) if token else ""
    key = _oauth_escape(consumer_token["secret"]) + "&" + token_secret
    return _hmac_sha1_base64(key.encode("ascii"), _oauth_signature_base_string(method, url, parameters))


def _oauth_base_args(consumer_token: _Token) -> Dict[str, Any]:
    """The protocol parameters of every signed request (RFC 5849 3.1), a
    fresh nonce and the current time included."""
    return {
        "oauth_version": "1.0",
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_consumer_key": escape.to_basestring(consumer_token["key"]),
        "oauth_nonce": uuid.uuid4().hex,
        "oauth_timestamp": str(int(time.time())),
    }


def _oauth_parse_response(body: bytes) -> Dict[str, Any]:
    """The credentials of a token answer (RFC 5849 2.1 and 2.3): a form with
    ``oauth_token`` and ``oauth_token_secret`` (returned as ``key`` and
    ``secret``) and whatever else the provider added, kept under its own
    name."""
    fields = urllib.parse.parse_qs(escape.native_str(body))
    if "oauth_token" not in fields or "oauth_token_secret" not in fields:
        raise AuthError("Token response lacks oauth_token: %r" % body)
    token = {"key": fields.pop("oauth_token")[0], "secret": fields.pop("oauth_token_secret")[0]}
    token.update((name, values[0]) for name, values in fields.items())
    return token


# The request token travels between the two legs of an OAuth 1 login in a
# cookie: base64(key) "|" base64(secret).
_REQUEST_TOKEN_COOKIE = "_oauth_request_token"


def _pack_request_token(token: Mapping[str, Any]) -> bytes:
    key, secret = (base64.b64encode(escape.utf8(token[part])) for part in ("key", "secret"))
    return key + b"|" + secret


def _unpack_request_token(cookie: str) -> Tuple[bytes, bytes]:
    halves = cookie.strip('"').split("|")
    if len(halves) == 2:
        try:
            return base64.b64decode(halves[0]), base64.b64decode(halves[1])
        except binascii.Error:
            pass
    raise AuthError("Malformed OAuth request token cookie")


# OpenID 2.0 with Attribute Exchange -----------------------------------------

_OPENID_NS = "http://specs.openid.net/auth/2.0"
_OPENID_ANYONE = _OPENID_NS + "/identifier_select"
_AX_NS = "http://openid.net/srv/ax/1.0"
# Attribute Exchange type URIs, by the short names used in ax_attrs.
_AX_TYPES = {
    short: "http://axschema.org/" + path
    for short, path in (
        ("fullname", "namePerson"), ("firstname", "namePerson/first"),
        ("lastname", "namePerson/last"), ("username", "namePerson/friendly"),
        ("email", "contact/email"), ("language", "pref/language"),
    )
}
# "name" asks for all three name attributes.
_AX_EXPANSIONS = {"name": ("firstname", "fullname", "lastname")}


def _parse_key_value_form(body: bytes) -> Dict[str, str]:
    """Decode OpenID "Key-Value Form Encoding" (OpenID 2.0 section 4.1.1):
    lines of ``key:value``, each ended by a newline."""
    pairs = (line.partition(":") for line in escape.to_unicode(body).splitlines())
    return {key.strip(): value.strip() for key, colon, value in pairs if colon}


def _openid_ax_values(args: Mapping[str, str]) -> Dict[str, str]:
    """The Attribute Exchange values of a positive assertion, by type URI.

    The provider picks the namespace alias (usually "ax"); find it from the
    ``openid.ns.<alias>`` argument whose value is the AX namespace.
    """
    aliases = [k[len("openid.ns."):] for k, v in args.items() if k.startswith("openid.ns.") and v == _AX_NS]
    if not aliases:
        return {}
    type_prefix = "openid.%s.type." % aliases[0]
    value_prefix = "openid.%s.value." % aliases[0]
    return {
        type_uri: args.get(value_prefix + name[len(type_prefix):], "")
        for name, type_uri in args.items()
        if name.startswith(type_prefix)
    }


def _openid_user(args: Mapping[str, str]) -> Dict[str, Any]:
    """The user dict of a verified assertion whose arguments are ``args``."""
    by_uri = _openid_ax_values(args)
    got = {short: by_uri.get(uri, "") for short, uri in _AX_TYPES.items()}
    user: Dict[str, Any] = {}
    for short, key in (("firstname", "first_name"), ("lastname", "last_name"),
                       ("email", "email"), ("username", "username")):
        if got[short]:
            user[key] = got[short]
    if got["language"]:
        user["locale"] = got["language"].lower()
    # Without a full name, make one from the parts, or else from the
    # mailbox name of the address.
    given_names = " ".join(part for part in (got["firstname"], got["lastname"]) if part)
    display = got["fullname"] or given_names or got["email"].split("@")[0]
    if display:
        user["name"] = display
    if args.get("openid.claimed_id"):
        user["claimed_id"] = args["openid.claimed_id"]
    return user


class OpenIdMixin:
    """OpenID 2.0 sign-in, with Attribute Exchange for the user's details.

    Set ``_OPENID_ENDPOINT`` to the provider's endpoint URL.

    .. deprecated:: 6.6
       The big providers have shut OpenID 2.0 down; use an OAuth 2.0 mixin
       (`OAuth2Mixin`) instead.
    """

    _OPENID_ENDPOINT = ""

    def __init__(self) -> None:
        warnings.warn(
            "OpenIdMixin is deprecated; use an OAuth 2.0 mixin instead", DeprecationWarning, stacklevel=2
        )
        super().__init__()

    def authenticate_redirect(
        self, callback_uri: Optional[str] = None,
        ax_attrs: Iterable[str] = ("name", "email", "language", "username"),
    ) -> None:
        """Sends the browser to the provider's sign-in page.

        The provider comes back to ``callback_uri`` (default: this request's
        URL) with its assertion in the query, for `get_authenticated_user`.
        ``ax_attrs`` lists the details asked for, among "name", "email",
        "language" and "username".  Returns nothing (not awaitable since
        Tornado 6.0).
        """
        handler = cast(RequestHandler, self)
        target = callback_uri or handler.request.uri
        assert target is not None
        query = self._openid_args(target, ax_attrs=ax_attrs)
        handler.redirect(_query_url(self._OPENID_ENDPOINT, query))

    async def get_authenticated_user(self, http_client: Optional[AsyncHTTPClient] = None) -> Dict[str, Any]:
        """Verifies the provider's assertion and returns the user.

        Runs on the request the provider redirected back to.  The assertion
        is checked by posting it back to the provider with
        ``openid.mode=check_authentication`` (OpenID 2.0 section 11.4.2);
        on success the dict holds ``name``, ``first_name``, ``last_name``,
        ``email``, ``locale`` and ``username`` where the provider sent them,
        and ``claimed_id``.  `AuthError` when the provider denies it.
        """
        handler = cast(RequestHandler, self)
        echoed: Dict[str, Union[str, bytes]] = {
            name: values[-1] for name, values in handler.request.arguments.items()
        }
        echoed["openid.mode"] = "check_authentication"
        client = self.get_auth_http_client() if http_client is None else http_client
        answer = await client.fetch(
            self._OPENID_ENDPOINT, method="POST", body=urllib.parse.urlencode(echoed)
        )
        return self._on_authentication_verified(answer)

    def _openid_args(
        self, callback_uri: str, ax_attrs: Iterable[str] = (), oauth_scope: Optional[str] = None
    ) -> Dict[str, str]:
        """The query of a ``checkid_setup`` request (OpenID 2.0 section 9.1)
        that asks the provider to pick the identity."""
        handler = cast(RequestHandler, self)
        return_to = urllib.parse.urljoin(handler.request.full_url(), callback_uri)
        query = {
            "openid.mode": "checkid_setup",
            "openid.ns": _OPENID_NS,
            "openid.identity": _OPENID_ANYONE,
            "openid.claimed_id": _OPENID_ANYONE,
            "openid.return_to": return_to,
            "openid.realm": urllib.parse.urljoin(return_to, "/"),
        }
        wanted: List[str] = []
        for attr in ax_attrs:
            wanted.extend(_AX_EXPANSIONS.get(attr, (attr,)))
        if wanted:
            query["openid.ns.ax"] = _AX_NS
            query["openid.ax.mode"] = "fetch_request"
            wanted = list(dict.fromkeys(wanted))
            query.update(("openid.ax.type." + short, _AX_TYPES[short]) for short in wanted)
            query["openid.ax.required"] = ",".join(wanted)
        if oauth_scope:
            # The OpenID+OAuth hybrid extension.
            query["openid.ns.oauth"] = "http://specs.openid.net/extensions/oauth/1.0"
            query["openid.oauth.consumer"] = handler.request.host.split(":")[0]
            query["openid.oauth.scope"] = oauth_scope
        return query

    def _on_authentication_verified(self, response: HTTPResponse) -> Dict[str, Any]:
        # The whole answer is decoded, so "is_valid:true" counts wherever
        # its line stands, and only as a line of its own.
        if _parse_key_value_form(response.body).get("is_valid") != "true":
            raise AuthError("Invalid OpenID response: %r" % response.body)
        handler = cast(RequestHandler, self)
        args = {name: handler.get_argument(name) for name in handler.request.arguments}
        return _openid_user(args)

    def get_auth_http_client(self) -> AsyncHTTPClient:
        """The client for requests to the provider (override to change it)."""
        return AsyncHTTPClient()


# OAuth 1.0 / 1.0a -------------------------------------------------------------


class OAuthMixin:
    """OAuth 1.0 and 1.0a (RFC 5849) sign-in for a `tornado.web.RequestHandler`.

    A provider is described by the class attributes
    ``_OAUTH_REQUEST_TOKEN_URL``, ``_OAUTH_AUTHORIZE_URL``,
    ``_OAUTH_ACCESS_TOKEN_URL``, ``_OAUTH_VERSION`` ("1.0a" by default, or
    "1.0") and ``_OAUTH_NO_CALLBACKS`` (true for providers that only accept
    callback URLs registered beforehand).  Subclasses also implement
    `_oauth_consumer_token` and `_oauth_get_user_future`; `TwitterMixin`
    shows how.
    """

    _OAUTH_VERSION = "1.0a"
    _OAUTH_NO_CALLBACKS = False
    _OAUTH_REQUEST_TOKEN_URL = ""
    _OAUTH_ACCESS_TOKEN_URL = ""
    _OAUTH_AUTHORIZE_URL = ""

    async def authorize_redirect(
        self, callback_uri: Optional[str] = None, extra_params: _OptArgs = None,
        http_client: Optional[AsyncHTTPClient] = None,
    ) -> None:
        """Obtains a request token and sends the browser to authorize it.

        The token comes from ``_OAUTH_REQUEST_TOKEN_URL`` and is kept in the
        ``_oauth_request_token`` cookie until `get_authenticated_user`.
        After the user agreed, the provider returns to ``callback_uri``
        (when the provider takes callbacks; with "oob" the authorization
        URL is written out as the response instead of redirecting to it).
        ``extra_params`` go with the token request (1.0a only).  This one,
        unlike the other redirect methods, is a coroutine to await, and it
        finishes the response.
        """
        if callback_uri and self._OAUTH_NO_CALLBACKS:
            raise Exception("This service does not support oauth_callback")
        client = self.get_auth_http_client() if http_client is None else http_client
        token_url = self._oauth_request_token_url(callback_uri=callback_uri, extra_params=extra_params)
        answer = await client.fetch(token_url)
        self._on_request_token(self._OAUTH_AUTHORIZE_URL, callback_uri, answer)

    async def get_authenticated_user(self, http_client: Optional[AsyncHTTPClient] = None) -> Dict[str, Any]:
        """Trades the authorized request token for an access token and
        returns the user.

        Runs on the callback request.  Its ``oauth_token`` argument must be
        the token saved in the cookie by `authorize_redirect`; the user dict
        is whatever `_oauth_get_user_future` gives, plus ``access_token``
        (``key``, ``secret`` and any other field of the provider's answer).
        `AuthError` when the cookie is missing, malformed or for another
        token, or when no user comes back.
        """
        handler = cast(RequestHandler, self)
        presented = escape.utf8(handler.get_argument("oauth_token"))
        verifier = handler.get_argument("oauth_verifier", None)
        saved = handler.get_cookie(_REQUEST_TOKEN_COOKIE)
        if not saved:
            raise AuthError("Missing OAuth request token cookie")
        handler.clear_cookie(_REQUEST_TOKEN_COOKIE)
        key, secret = _unpack_request_token(saved)
        if key != presented:
            raise AuthError("Request token does not match cookie")
        request_token: Dict[str, Any] = {"key": key, "secret": secret}
        if verifier:
            request_token["verifier"] = verifier
        client = self.get_auth_http_client() if http_client is None else http_client
        answer = await client.fetch(self._oauth_access_token_url(request_token))
        access_token = _oauth_parse_response(answer.body)
        user = await self._oauth_get_user_future(access_token)
        if not user:
            raise AuthError("Error getting user")
        user["access_token"] = access_token
        return user

    def _oauth_protocol_args(
        self, method: str, url: str, token: Optional[_Token], covered: Mapping[str, Any]
    ) -> Dict[str, Any]:
        """The ``oauth_*`` parameters of a request, signature included.

        ``oauth_token`` is there when ``token`` is given (whose secret then
        enters the key); the signature covers these parameters and the
        request's other ones, ``covered``.
        """
        consumer = self._oauth_consumer_token()
        protocol = _oauth_base_args(consumer)
        if token is not None:
            protocol["oauth_token"] = escape.to_basestring(token["key"])
        sign = _oauth10a_signature if self._OAUTH_VERSION == "1.0a" else _oauth_signature
        signature = sign(consumer, method, url, {**protocol, **covered}, token)
        protocol["oauth_signature"] = escape.to_basestring(signature)
        return protocol

    def _oauth_request_token_url(
        self, callback_uri: Optional[str] = None, extra_params: _OptArgs = None
    ) -> str:
        extra: Dict[str, Any] = {}
        if self._OAUTH_VERSION == "1.0a":
            # 1.0a names the callback when asking for the temporary
            # credentials (RFC 5849 2.1); 1.0 named it at authorization.
            if callback_uri:
                extra["oauth_callback"] = self._oauth_absolute_callback(callback_uri)
            extra.update(extra_params or {})
        endpoint = self._OAUTH_REQUEST_TOKEN_URL
        protocol = self._oauth_protocol_args("GET", endpoint, None, extra)
        return _query_url(endpoint, {**protocol, **extra})

    def _oauth_absolute_callback(self, callback_uri: str) -> str:
        # "oob" (out of band) is a keyword, not a relative URL.
        if callback_uri == "oob":
            return callback_uri
        handler = cast(RequestHandler, self)
        return urllib.parse.urljoin(handler.request.full_url(), callback_uri)

    def _on_request_token(
        self, authorize_url: str, callback_uri: Optional[str], response: HTTPResponse
    ) -> None:
        """Keeps the request token of ``response`` in a cookie and sends the
        user to ``authorize_url`` to approve it."""
        handler = cast(RequestHandler, self)
        request_token = _oauth_parse_response(response.body)
        handler.set_cookie(_REQUEST_TOKEN_COOKIE, _pack_request_token(request_token))
        query = {"oauth_token": request_token["key"]}
        if callback_uri == "oob":
            # No way back to us: show the user where to go.
            handler.finish(_query_url(authorize_url, query))
            return
        if callback_uri:
            query["oauth_callback"] = self._oauth_absolute_callback(callback_uri)
        handler.redirect(_query_url(authorize_url, query))

    def _oauth_access_token_url(self, request_token: Dict[str, Any]) -> str:
        endpoint = self._OAUTH_ACCESS_TOKEN_URL
        extra = _not_none([("oauth_verifier", request_token.get("verifier"))])
        protocol = self._oauth_protocol_args("GET", endpoint, request_token, extra)
        return _query_url(endpoint, {**protocol, **extra})

    def _oauth_consumer_token(self) -> Dict[str, Any]:
        """The application's own credentials: ``{"key": ..., "secret": ...}``.

        Every subclass provides it.
        """
        raise NotImplementedError()

    async def _oauth_get_user_future(self, access_token: Dict[str, Any]) -> Dict[str, Any]:
        """Looks up the user whom ``access_token`` represents (usually with
        a request to the provider) and returns a dict about them.

        Every subclass provides it; `get_authenticated_user` adds the token
        to the dict.
        """
        raise NotImplementedError()

    def _oauth_request_parameters(
        self, url: str, access_token: Dict[str, Any],
        parameters: Mapping[str, Any] = {},  # noqa: B006 - only read
        method: str = "GET",
    ) -> Dict[str, Any]:
        """The signed ``oauth_*`` parameters to add to a request for ``url``
        made with ``access_token``.

        ``parameters`` are all the other query and body arguments of that
        request: the signature covers them.
        """
        return self._oauth_protocol_args(method, url, access_token, parameters)

    def get_auth_http_client(self) -> AsyncHTTPClient:
        """The client for requests to the provider (override to change it)."""
        return AsyncHTTPClient()


# OAuth 2.0 ----------------------------------------------------------------------


class OAuth2Mixin:
    """The OAuth 2.0 (RFC 6749) authorization code flow for a
    `tornado.web.RequestHandler`.

    A provider is described by ``_OAUTH_AUTHORIZE_URL`` and
    ``_OAUTH_ACCESS_TOKEN_URL``; `GoogleOAuth2Mixin` and
    `FacebookGraphMixin` are built this way.
    """

    _OAUTH_ACCESS_TOKEN_URL = ""
    _OAUTH_AUTHORIZE_URL = ""

    def authorize_redirect(
        self, redirect_uri: Optional[str] = None, client_id: Optional[str] = None,
        client_secret: Optional[str] = None, extra_params: _OptArgs = None,
        scope: Optional[List[str]] = None, response_type: str = "code",
    ) -> None:
        """Sends the browser to the provider's authorization page.

        Its query has ``response_type``, ``redirect_uri``, ``client_id``,
        ``extra_params`` and ``scope`` (the list, space separated; RFC 6749
        section 3.3).  The provider sends the user back to ``redirect_uri``
        with a ``code`` for ``get_authenticated_user``.  Returns nothing.

        .. deprecated:: 6.4
           ``client_secret`` was never used here; passing it warns, and it
           will be removed in 7.0.
        """
        if client_secret is not None:
            warnings.warn("client_secret argument is deprecated", DeprecationWarning, stacklevel=2)
        query = {"response_type": response_type}
        query.update(_not_none([("redirect_uri", redirect_uri), ("client_id", client_id)]))
        query.update(extra_params or {})
        if scope:
            query["scope"] = " ".join(scope)
        cast(RequestHandler, self).redirect(url_concat(self._OAUTH_AUTHORIZE_URL, query))

    def _oauth_request_token_url(
        self, redirect_uri: Optional[str] = None, client_id: Optional[str] = None,
        client_secret: Optional[str] = None, code: Optional[str] = None,
        extra_params: _OptArgs = None,
    ) -> str:
        """The token endpoint's URL with the given values in its query."""
        query = _not_none([
            ("redirect_uri", redirect_uri), ("code", code),
            ("client_id", client_id), ("client_secret", client_secret),
        ])
        query.update(extra_params or {})
        return url_concat(self._OAUTH_ACCESS_TOKEN_URL, query)

    async def oauth2_request(
        self, url: str, access_token: Optional[str] = None, post_args: _OptArgs = None, **args: Any
    ) -> Any:
        """Calls a provider API at ``url`` with ``access_token`` and returns
        its decoded JSON answer.

        Keyword arguments go into the query; with ``post_args`` the request
        is a POST of those as a form.
        """
        query = {"access_token": access_token} if access_token else {}
        query.update(args)
        return await _fetch_json(self.get_auth_http_client(), _query_url(url, query), post_args)

    def get_auth_http_client(self) -> AsyncHTTPClient:
        """The client for requests to the provider (override to change it)."""
        return AsyncHTTPClient()


# Providers ----------------------------------------------------------------------

_TWITTER = "https://api.twitter.com"


class TwitterMixin(OAuthMixin):
    """Signing in with Twitter (OAuth 1.0a, API 1.1).

    The application's consumer credentials go in the
    ``twitter_consumer_key`` and ``twitter_consumer_secret`` settings.
    The handler of the callback URL awaits `~OAuthMixin.authorize_redirect`
    (or `authenticate_redirect`) when the request has no ``oauth_token``,
    and `~OAuthMixin.get_authenticated_user` when it has one; the user dict
    has Twitter's fields with ``username`` and ``access_token`` added.

    .. deprecated:: 6.3
       Twitter retired API 1.1; this class is unmaintained and will go away.
    """

    _TWITTER_BASE_URL = _TWITTER + "/1.1"
    _OAUTH_NO_CALLBACKS = False
    _OAUTH_AUTHORIZE_URL = _TWITTER + "/oauth/authorize"
    _OAUTH_AUTHENTICATE_URL = _TWITTER + "/oauth/authenticate"
    _OAUTH_REQUEST_TOKEN_URL = _TWITTER + "/oauth/request_token"
    _OAUTH_ACCESS_TOKEN_URL = _TWITTER + "/oauth/access_token"

    async def authenticate_redirect(self, callback_uri: Optional[str] = None) -> None:
        """`~OAuthMixin.authorize_redirect` through Twitter's "authenticate"
        page instead: a user who already allowed the application is not
        asked again.
        """
        token_url = self._oauth_request_token_url(callback_uri=callback_uri)
        answer = await self.get_auth_http_client().fetch(token_url)
        self._on_request_token(self._OAUTH_AUTHENTICATE_URL, None, answer)

    async def twitter_request(
        self, path: str, access_token: Dict[str, Any], post_args: _OptArgs = None, **args: Any
    ) -> Any:
        """Calls the Twitter API and returns the decoded JSON answer.

        ``path`` is relative to the API root and lacks the ".json" suffix
        (e.g. "/statuses/user_timeline/btaylor"); a full http(s) URL is used
        unchanged.  The request is signed with ``access_token``.  Keyword
        arguments go into the query; ``post_args`` make it a POST.
        """
        if path.startswith(("http:", "https:")):
            url = path
        else:
            url = self._TWITTER_BASE_URL + path + ".json"
        if access_token:
            method = "GET" if post_args is None else "POST"
            signed = {**args, **(post_args or {})}
            args.update(self._oauth_request_parameters(url, access_token, signed, method=method))
        return await _fetch_json(self.get_auth_http_client(), _query_url(url, args), post_args)

    def _oauth_consumer_token(self) -> Dict[str, Any]:
        handler = cast(RequestHandler, self)
        names = {"key": "twitter_consumer_key", "secret": "twitter_consumer_secret"}
        for setting in names.values():
            handler.require_setting(setting, "Twitter OAuth")
        return {part: handler.settings[setting] for part, setting in names.items()}

    async def _oauth_get_user_future(self, access_token: Dict[str, Any]) -> Dict[str, Any]:
        me = await self.twitter_request("/account/verify_credentials", access_token=access_token)
        if me:
            me["username"] = me["screen_name"]
        return me


_GOOGLE_APIS = "https://www.googleapis.com/oauth2/"


class GoogleOAuth2Mixin(OAuth2Mixin):
    """Signing in with Google (OAuth 2.0).

    Create a "Web application" OAuth client in the Google Cloud console,
    register the ``redirect_uri`` there, and store the client's id and
    secret in the ``google_oauth`` setting as ``{"key": ..., "secret":
    ...}`` (or override `get_google_oauth_settings`).
    """

    _OAUTH_SETTINGS_KEY = "google_oauth"
    _OAUTH_NO_CALLBACKS = False
    _OAUTH_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
    _OAUTH_ACCESS_TOKEN_URL = _GOOGLE_APIS + "v4/token"
    _OAUTH_USERINFO_URL = _GOOGLE_APIS + "v1/userinfo"

    def get_google_oauth_settings(self) -> Dict[str, str]:
        """The client credentials, ``{"key": ..., "secret": ...}``, taken
        from the ``google_oauth`` setting; override to look elsewhere."""
        return cast(RequestHandler, self).settings[self._OAUTH_SETTINGS_KEY]

    async def get_authenticated_user(
        self, redirect_uri: str, code: str, client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Redeems the authorization ``code`` and returns Google's token
        answer (``access_token`` and the rest).

        The profile is not fetched: call `OAuth2Mixin.oauth2_request` with
        the access token for it.  Missing ``client_id``/``client_secret``
        come from `get_google_oauth_settings`.
        """
        if client_id is None or client_secret is None:
            stored = self.get_google_oauth_settings()
            client_id = stored["key"] if client_id is None else client_id
            client_secret = stored["secret"] if client_secret is None else client_secret
        # RFC 6749 4.1.3: the access token request is a form POST.
        form = urllib.parse.urlencode([
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri),
            ("client_id", client_id), ("client_secret", client_secret),
        ])
        answer = await self.get_auth_http_client().fetch(
            self._OAUTH_ACCESS_TOKEN_URL, method="POST", body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return escape.json_decode(answer.body)


_FACEBOOK_USER_FIELDS = frozenset("id name first_name last_name locale picture link".split())


class FacebookGraphMixin(OAuth2Mixin):
    """Signing in with Facebook (OAuth 2.0), and calls to its Graph API."""

    _FACEBOOK_BASE_URL = "https://graph.facebook.com"
    _OAUTH_NO_CALLBACKS = False
    _OAUTH_AUTHORIZE_URL = "https://www.facebook.com/dialog/oauth?"
    _OAUTH_ACCESS_TOKEN_URL = _FACEBOOK_BASE_URL + "/oauth/access_token?"

    async def get_authenticated_user(
        self, redirect_uri: str, client_id: str, client_secret: str, code: str,
        extra_fields: _OptArgs = None,
    ) -> Optional[Dict[str, Any]]:
        """Redeems the authorization ``code`` and returns the user.

        The dict has the Graph API fields ``id``, ``name``, ``first_name``,
        ``last_name``, ``locale``, ``picture``, ``link`` and those named in
        ``extra_fields`` (None for any Facebook left out), with
        ``access_token`` and ``session_expires`` (the token's lifetime in
        seconds, as a string).  None when the Graph API answers null.
        """
        fields = _FACEBOOK_USER_FIELDS.union(extra_fields or ())
        token_url = self._oauth_request_token_url(
            redirect_uri=redirect_uri, code=code, client_id=client_id, client_secret=client_secret
        )
        answer = await self.get_auth_http_client().fetch(token_url)
        grant = escape.json_decode(answer.body)
        access_token = grant.get("access_token")
        if access_token is None:
            raise AuthError("Facebook did not return an access token")
        # Graph API calls from a server may carry appsecret_proof, an HMAC of
        # the token under the app secret, showing they know that secret.
        proof = hmac.new(escape.utf8(client_secret), escape.utf8(access_token), hashlib.sha256)
        me = await self.facebook_request(
            "/me", access_token=access_token, appsecret_proof=proof.hexdigest(),
            fields=",".join(sorted(fields)),
        )
        if me is None:
            return None
        user = {name: me.get(name) for name in fields}
        user["access_token"] = access_token
        # A string, as in the days when the token endpoint answered a form.
        user["session_expires"] = str(grant.get("expires_in"))
        return user

    async def facebook_request(
        self, path: str, access_token: Optional[str] = None, post_args: _OptArgs = None, **args: Any
    ) -> Any:
        """Calls the Graph API at ``path`` (under ``_FACEBOOK_BASE_URL``,
        e.g. "/btaylor/picture") and returns the decoded JSON answer.

        A thin layer over `OAuth2Mixin.oauth2_request`: keyword arguments go
        into the query, ``post_args`` make a POST.
        """
        return await self.oauth2_request(
            self._FACEBOOK_BASE_URL + path, access_token=access_token, post_args=post_args, **args
        )
