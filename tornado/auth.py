"""Third-party login with OpenID 2.0, OAuth 1.0/1.0a and OAuth 2.0.

Each class is a mixin for `tornado.web.RequestHandler`.  A login handler
sends the browser to the provider (``authenticate_redirect`` or
``authorize_redirect``) and, when the provider sends it back, turns the
answer into a user dict (``get_authenticated_user``) that the application
usually stores in a signed cookie.  Other handlers then call the provider's
API on the user's behalf with the tokens obtained (``oauth2_request``,
``facebook_request``, ``twitter_request``).  Providers are configured
through class attributes whose names start with an underscore
(``_OAUTH_AUTHORIZE_URL`` and so on); subclasses override them.

A Google login handler, for example::

    class GoogleLogin(tornado.web.RequestHandler,
                      tornado.auth.GoogleOAuth2Mixin):
        async def get(self):
            redirect_uri = "https://app.example/auth/google"
            code = self.get_argument("code", None)
            if code is None:
                self.authorize_redirect(
                    redirect_uri=redirect_uri,
                    client_id=self.get_google_oauth_settings()["key"],
                    scope=["profile", "email"],
                    response_type="code")
                return
            tokens = await self.get_authenticated_user(redirect_uri, code)
            user = await self.oauth2_request(
                "https://www.googleapis.com/oauth2/v1/userinfo",
                access_token=tokens["access_token"])
            self.set_signed_cookie("user", tornado.escape.json_encode(user))
            self.redirect("/")

OAuth 1 requests are signed with HMAC-SHA1 over the signature base string
of RFC 5849 section 3.4, by the module-level helpers ``_oauth10a_signature``
(RFC 5849) and ``_oauth_signature`` (the earlier 1.0 draft, whose key does
not escape the secrets).  Requests to providers go through
`tornado.httpclient.AsyncHTTPClient`.
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


class AuthError(Exception):
    """A provider answered in a way that does not authenticate the user."""


# ---------------------------------------------------------------------------
# OpenID 2.0 with Attribute Exchange
# ---------------------------------------------------------------------------

_OPENID_NS = "http://specs.openid.net/auth/2.0"
_OPENID_SELECT = "http://specs.openid.net/auth/2.0/identifier_select"
_AX_NS = "http://openid.net/srv/ax/1.0"
_AX_NAME_ATTRS = {
    "firstname": "http://axschema.org/namePerson/first",
    "fullname": "http://axschema.org/namePerson",
    "lastname": "http://axschema.org/namePerson/last",
}
_AX_KNOWN_ATTRS = {
    "email": "http://axschema.org/contact/email",
    "language": "http://axschema.org/pref/language",
    "username": "http://axschema.org/namePerson/friendly",
}


def _parse_key_value_form(body: bytes) -> Dict[str, str]:
    """Parse OpenID "Key-Value Form Encoding" (OpenID 2.0 section 4.1.1):
    one ``key:value`` per line, each line ending in a newline."""
    result = {}
    for line in escape.to_unicode(body).split("\n"):
        key, sep, value = line.partition(":")
        if sep:
            result[key.strip()] = value.strip()
    return result


class OpenIdMixin:
    """Abstract implementation of OpenID and Attribute Exchange.

    Class attributes:

    * ``_OPENID_ENDPOINT``: the identity provider's URI.

    .. deprecated:: 6.6
       OpenID 2.0 has been shut down by the major providers; use OAuth 2.0
       (`OAuth2Mixin`) instead.
    """

    _OPENID_ENDPOINT = ""

    def __init__(self) -> None:
        warnings.warn(
            "OpenIdMixin is deprecated; use an OAuth 2.0 mixin instead",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__()

    def authenticate_redirect(
        self,
        callback_uri: Optional[str] = None,
        ax_attrs: Iterable[str] = ("name", "email", "language", "username"),
    ) -> None:
        """Redirect the browser to the provider to sign in.

        The provider sends the user back to ``callback_uri`` (by default the
        current URL) with ``openid.mode`` and the assertion in the query; hand
        that request to `get_authenticated_user`.  ``ax_attrs`` names the
        Attribute Exchange fields to ask for ("name", "email", "language",
        "username").  This is a plain synchronous call since Tornado 6.0.
        """
        handler = cast(RequestHandler, self)
        callback_uri = callback_uri or handler.request.uri
        assert callback_uri is not None
        args = self._openid_args(callback_uri, ax_attrs=ax_attrs)
        endpoint = self._OPENID_ENDPOINT
        handler.redirect(endpoint + "?" + urllib.parse.urlencode(args))

    async def get_authenticated_user(
        self, http_client: Optional[AsyncHTTPClient] = None
    ) -> Dict[str, Any]:
        """Check the provider's assertion and return the user it describes.

        Call it from the handler that receives the redirect of
        `authenticate_redirect` (the request carries ``openid.mode``).  The
        assertion is verified with a direct ``check_authentication`` request to
        the provider (OpenID 2.0 11.4.2.1); the result has the Attribute
        Exchange fields found (``name``, ``first_name``, ``last_name``,
        ``email``, ``locale``, ``username``) and ``claimed_id``.  Raises
        `AuthError` if the provider does not confirm the assertion.
        """
        handler = cast(RequestHandler, self)
        # Verify the OpenID response via direct request to the OP
        # (OpenID 2.0 section 11.4.2).
        args = {
            k: v[-1] for k, v in handler.request.arguments.items()
        }  # type: Dict[str, Union[str, bytes]]
        args["openid.mode"] = "check_authentication"
        url = self._OPENID_ENDPOINT
        if http_client is None:
            http_client = self.get_auth_http_client()
        resp = await http_client.fetch(
            url, method="POST", body=urllib.parse.urlencode(args)
        )
        return self._on_authentication_verified(resp)

    def _openid_args(
        self,
        callback_uri: str,
        ax_attrs: Iterable[str] = (),
        oauth_scope: Optional[str] = None,
    ) -> Dict[str, str]:
        handler = cast(RequestHandler, self)
        url = urllib.parse.urljoin(handler.request.full_url(), callback_uri)
        args = {
            "openid.ns": _OPENID_NS,
            "openid.claimed_id": _OPENID_SELECT,
            "openid.identity": _OPENID_SELECT,
            "openid.return_to": url,
            "openid.realm": urllib.parse.urljoin(url, "/"),
            "openid.mode": "checkid_setup",
        }
        if ax_attrs:
            args.update({"openid.ns.ax": _AX_NS, "openid.ax.mode": "fetch_request"})
            wanted = set(ax_attrs)
            required: List[str] = []
            if "name" in wanted:
                wanted -= {"name", "firstname", "fullname", "lastname"}
                for name, uri in _AX_NAME_ATTRS.items():
                    args["openid.ax.type." + name] = uri
                    required.append(name)
            for name in sorted(wanted):
                args["openid.ax.type." + name] = _AX_KNOWN_ATTRS[name]
                required.append(name)
            args["openid.ax.required"] = ",".join(required)
        if oauth_scope:
            args.update(
                {
                    "openid.ns.oauth": "http://specs.openid.net/extensions/oauth/1.0",
                    "openid.oauth.consumer": handler.request.host.split(":")[0],
                    "openid.oauth.scope": oauth_scope,
                }
            )
        return args

    def _on_authentication_verified(self, response: HTTPResponse) -> Dict[str, Any]:
        handler = cast(RequestHandler, self)
        # Parse the whole response rather than searching it, so that the
        # answer is "is_valid:true" on a line of its own wherever it comes.
        if _parse_key_value_form(response.body).get("is_valid") != "true":
            raise AuthError("Invalid OpenID response: %r" % response.body)

        # Find the namespace alias the provider used for Attribute Exchange.
        ax_ns = None
        for key in handler.request.arguments:
            if key.startswith("openid.ns.") and handler.get_argument(key) == _AX_NS:
                ax_ns = key[len("openid.ns.") :]
                break

        def get_ax_arg(uri: str) -> str:
            if not ax_ns:
                return ""
            prefix = "openid." + ax_ns + ".type."
            for name in handler.request.arguments:
                if name.startswith(prefix) and handler.get_argument(name) == uri:
                    part = name[len(prefix) :]
                    return handler.get_argument(
                        "openid." + ax_ns + ".value." + part, ""
                    )
            return ""

        email = get_ax_arg(_AX_KNOWN_ATTRS["email"])
        name = get_ax_arg(_AX_NAME_ATTRS["fullname"])
        first_name = get_ax_arg(_AX_NAME_ATTRS["firstname"])
        last_name = get_ax_arg(_AX_NAME_ATTRS["lastname"])
        username = get_ax_arg(_AX_KNOWN_ATTRS["username"])
        locale = get_ax_arg(_AX_KNOWN_ATTRS["language"]).lower()
        user: Dict[str, Any] = {}
        name_parts = []
        if first_name:
            user["first_name"] = first_name
            name_parts.append(first_name)
        if last_name:
            user["last_name"] = last_name
            name_parts.append(last_name)
        if name:
            user["name"] = name
        elif name_parts:
            user["name"] = " ".join(name_parts)
        elif email:
            user["name"] = email.split("@")[0]
        if email:
            user["email"] = email
        if locale:
            user["locale"] = locale
        if username:
            user["username"] = username
        claimed_id = handler.get_argument("openid.claimed_id", None)
        if claimed_id:
            user["claimed_id"] = claimed_id
        return user

    def get_auth_http_client(self) -> AsyncHTTPClient:
        """The HTTP client used to talk to the provider; override to use
        another one.
        """
        return AsyncHTTPClient()


# ---------------------------------------------------------------------------
# OAuth 1.0 / 1.0a
# ---------------------------------------------------------------------------


class OAuthMixin:
    """OAuth 1.0 and 1.0a (RFC 5849) for a `tornado.web.RequestHandler`.

    Configure with the class attributes ``_OAUTH_REQUEST_TOKEN_URL``,
    ``_OAUTH_AUTHORIZE_URL``, ``_OAUTH_ACCESS_TOKEN_URL``, ``_OAUTH_VERSION``
    ("1.0a", the default, or "1.0") and ``_OAUTH_NO_CALLBACKS`` (True when
    the provider only accepts callbacks registered in advance), and override
    `_oauth_consumer_token` and `_oauth_get_user_future`.  `TwitterMixin` is
    an example.
    """

    _OAUTH_REQUEST_TOKEN_URL = ""
    _OAUTH_AUTHORIZE_URL = ""
    _OAUTH_ACCESS_TOKEN_URL = ""
    _OAUTH_VERSION = "1.0a"
    _OAUTH_NO_CALLBACKS = False

    async def authorize_redirect(
        self,
        callback_uri: Optional[str] = None,
        extra_params: Optional[Dict[str, Any]] = None,
        http_client: Optional[AsyncHTTPClient] = None,
    ) -> None:
        """Get a request token and redirect the browser to authorize it.

        The token is fetched from ``_OAUTH_REQUEST_TOKEN_URL`` and remembered in
        the ``_oauth_request_token`` cookie for `get_authenticated_user`.  The
        provider redirects back to ``callback_uri`` (unless callbacks are
        registered in advance; "oob" shows the authorization URL instead of
        redirecting).  Unlike the other ``*_redirect`` methods this one is a
        coroutine and must be awaited; it finishes the response.
        """
        if callback_uri and self._OAUTH_NO_CALLBACKS:
            raise Exception("This service does not support oauth_callback")
        if http_client is None:
            http_client = self.get_auth_http_client()
        assert http_client is not None
        if self._OAUTH_VERSION == "1.0a":
            response = await http_client.fetch(
                self._oauth_request_token_url(
                    callback_uri=callback_uri, extra_params=extra_params
                )
            )
        else:
            response = await http_client.fetch(self._oauth_request_token_url())
        url = self._OAUTH_AUTHORIZE_URL
        self._on_request_token(url, callback_uri, response)

    async def get_authenticated_user(
        self, http_client: Optional[AsyncHTTPClient] = None
    ) -> Dict[str, Any]:
        """Exchange the authorized request token for an access token and return
        the user.

        Call it from the handler of the callback URL.  The ``oauth_token``
        argument must match the cookie set by `authorize_redirect`.  The result
        is what `_oauth_get_user_future` returns, with the access token (a dict
        with ``key``, ``secret`` and any other fields the provider sent) under
        ``access_token``.  Raises `AuthError` when the cookie is missing or does
        not match, or when no user is found.
        """
        handler = cast(RequestHandler, self)
        request_key = escape.utf8(handler.get_argument("oauth_token"))
        oauth_verifier = handler.get_argument("oauth_verifier", None)
        request_cookie = handler.get_cookie("_oauth_request_token")
        if not request_cookie:
            raise AuthError("Missing OAuth request token cookie")
        handler.clear_cookie("_oauth_request_token")
        parts = request_cookie.strip('"').split("|")
        if len(parts) != 2:
            raise AuthError("Malformed OAuth request token cookie")
        try:
            cookie_key, cookie_secret = [base64.b64decode(escape.utf8(p)) for p in parts]
        except binascii.Error:
            raise AuthError("Malformed OAuth request token cookie") from None
        if cookie_key != request_key:
            raise AuthError("Request token does not match cookie")
        token: Dict[str, Union[str, bytes]] = dict(key=cookie_key, secret=cookie_secret)
        if oauth_verifier:
            token["verifier"] = oauth_verifier
        if http_client is None:
            http_client = self.get_auth_http_client()
        assert http_client is not None
        response = await http_client.fetch(self._oauth_access_token_url(token))
        access_token = _oauth_parse_response(response.body)
        user = await self._oauth_get_user_future(access_token)
        if not user:
            raise AuthError("Error getting user")
        user["access_token"] = access_token
        return user

    def _oauth_request_token_url(
        self,
        callback_uri: Optional[str] = None,
        extra_params: Optional[Dict[str, Any]] = None,
    ) -> str:
        handler = cast(RequestHandler, self)
        consumer_token = self._oauth_consumer_token()
        url = self._OAUTH_REQUEST_TOKEN_URL
        args = _oauth_base_args(consumer_token)
        if self._OAUTH_VERSION == "1.0a":
            # OAuth 1.0a (RFC 5849 2.1) sends the callback with the
            # temporary credentials request.
            if callback_uri == "oob":
                args["oauth_callback"] = "oob"
            elif callback_uri:
                args["oauth_callback"] = urllib.parse.urljoin(
                    handler.request.full_url(), callback_uri
                )
            if extra_params:
                args.update(extra_params)
            signature = _oauth10a_signature(consumer_token, "GET", url, args)
        else:
            signature = _oauth_signature(consumer_token, "GET", url, args)
        args["oauth_signature"] = signature
        return url + "?" + urllib.parse.urlencode(args)

    def _on_request_token(
        self,
        authorize_url: str,
        callback_uri: Optional[str],
        response: HTTPResponse,
    ) -> None:
        handler = cast(RequestHandler, self)
        request_token = _oauth_parse_response(response.body)
        data = (
            base64.b64encode(escape.utf8(request_token["key"]))
            + b"|"
            + base64.b64encode(escape.utf8(request_token["secret"]))
        )
        handler.set_cookie("_oauth_request_token", data)
        args = dict(oauth_token=request_token["key"])
        if callback_uri == "oob":
            handler.finish(authorize_url + "?" + urllib.parse.urlencode(args))
            return
        elif callback_uri:
            args["oauth_callback"] = urllib.parse.urljoin(
                handler.request.full_url(), callback_uri
            )
        handler.redirect(authorize_url + "?" + urllib.parse.urlencode(args))

    def _oauth_access_token_url(self, request_token: Dict[str, Any]) -> str:
        consumer_token = self._oauth_consumer_token()
        url = self._OAUTH_ACCESS_TOKEN_URL
        args = _oauth_base_args(consumer_token)
        args["oauth_token"] = escape.to_basestring(request_token["key"])
        if "verifier" in request_token:
            args["oauth_verifier"] = request_token["verifier"]
        if self._OAUTH_VERSION == "1.0a":
            signature = _oauth10a_signature(
                consumer_token, "GET", url, args, request_token
            )
        else:
            signature = _oauth_signature(consumer_token, "GET", url, args, request_token)
        args["oauth_signature"] = signature
        return url + "?" + urllib.parse.urlencode(args)

    def _oauth_consumer_token(self) -> Dict[str, Any]:
        """Return this application's consumer credentials as a dict with ``key``
        and ``secret``.  Subclasses must override it.
        """
        raise NotImplementedError()

    async def _oauth_get_user_future(
        self, access_token: Dict[str, Any]
    ) -> Dict[str, Any]:
        """Return a dict describing the user the ``access_token`` belongs to
        (typically fetched from the provider with it).  Subclasses must override
        this coroutine; `get_authenticated_user` adds the token to the result.
        """
        raise NotImplementedError()

    def _oauth_request_parameters(
        self,
        url: str,
        access_token: Dict[str, Any],
        parameters: Mapping[str, Any] = {},  # noqa: B006 - read, never mutated
        method: str = "GET",
    ) -> Dict[str, Any]:
        """The signed OAuth protocol parameters for a request to ``url``.

        ``parameters`` must hold every query and body argument the request will
        carry, since they are covered by the signature.
        """
        consumer_token = self._oauth_consumer_token()
        base_args = _oauth_base_args(consumer_token)
        base_args["oauth_token"] = escape.to_basestring(access_token["key"])
        args = {}
        args.update(base_args)
        args.update(parameters)
        if self._OAUTH_VERSION == "1.0a":
            signature = _oauth10a_signature(
                consumer_token, method, url, args, access_token
            )
        else:
            signature = _oauth_signature(consumer_token, method, url, args, access_token)
        base_args["oauth_signature"] = escape.to_basestring(signature)
        return base_args

    def get_auth_http_client(self) -> AsyncHTTPClient:
        """The HTTP client used to talk to the provider; override to use
        another one.
        """
        return AsyncHTTPClient()


# ---------------------------------------------------------------------------
# OAuth 2.0
# ---------------------------------------------------------------------------


class OAuth2Mixin:
    """OAuth 2.0 (RFC 6749) authorization code flow for a `tornado.web.RequestHandler`.

    Configure with ``_OAUTH_AUTHORIZE_URL`` and ``_OAUTH_ACCESS_TOKEN_URL``.
    `GoogleOAuth2Mixin` and `FacebookGraphMixin` are examples.
    """

    _OAUTH_AUTHORIZE_URL = ""
    _OAUTH_ACCESS_TOKEN_URL = ""

    def authorize_redirect(
        self,
        redirect_uri: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        extra_params: Optional[Dict[str, Any]] = None,
        scope: Optional[List[str]] = None,
        response_type: str = "code",
    ) -> None:
        """Redirect the browser to the provider's authorization page.

        The query carries ``response_type``, ``redirect_uri``, ``client_id``,
        ``scope`` (the list joined with spaces) and ``extra_params``.  The
        provider later redirects to ``redirect_uri`` with a ``code`` for the
        mixin's ``get_authenticated_user``.  This is a plain synchronous call.

        .. deprecated:: 6.4
           ``client_secret`` has never been used and warns; it goes away in 7.0.
        """
        if client_secret is not None:
            warnings.warn(
                "client_secret argument is deprecated", DeprecationWarning, stacklevel=2
            )
        handler = cast(RequestHandler, self)
        args = {"response_type": response_type}
        if redirect_uri is not None:
            args["redirect_uri"] = redirect_uri
        if client_id is not None:
            args["client_id"] = client_id
        if extra_params:
            args.update(extra_params)
        if scope:
            args["scope"] = " ".join(scope)
        url = self._OAUTH_AUTHORIZE_URL
        handler.redirect(url_concat(url, args))

    def _oauth_request_token_url(
        self,
        redirect_uri: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        code: Optional[str] = None,
        extra_params: Optional[Dict[str, Any]] = None,
    ) -> str:
        url = self._OAUTH_ACCESS_TOKEN_URL
        args: Dict[str, str] = {}
        for key, value in (
            ("redirect_uri", redirect_uri),
            ("code", code),
            ("client_id", client_id),
            ("client_secret", client_secret),
        ):
            if value is not None:
                args[key] = value
        if extra_params:
            args.update(extra_params)
        return url_concat(url, args)

    async def oauth2_request(
        self,
        url: str,
        access_token: Optional[str] = None,
        post_args: Optional[Dict[str, Any]] = None,
        **args: Any,
    ) -> Any:
        """Fetch ``url`` with an OAuth 2 ``access_token`` and return the decoded
        JSON answer.

        Keyword arguments become query arguments; with ``post_args`` the request
        is a form-encoded POST.
        """
        all_args = {}
        if access_token:
            all_args["access_token"] = access_token
        all_args.update(args)

        if all_args:
            url += "?" + urllib.parse.urlencode(all_args)
        http = self.get_auth_http_client()
        if post_args is not None:
            response = await http.fetch(
                url, method="POST", body=urllib.parse.urlencode(post_args)
            )
        else:
            response = await http.fetch(url)
        return escape.json_decode(response.body)

    def get_auth_http_client(self) -> AsyncHTTPClient:
        """The HTTP client used to talk to the provider; override to use
        another one.
        """
        return AsyncHTTPClient()


class TwitterMixin(OAuthMixin):
    """Sign in with Twitter (OAuth 1.0a, API version 1.1).

    Put the application's consumer key and secret in the
    ``twitter_consumer_key`` and ``twitter_consumer_secret`` settings and use
    the mixin on the callback URL's handler: without an ``oauth_token``
    argument, await `~OAuthMixin.authorize_redirect` (or
    `authenticate_redirect`); with one, await
    `~OAuthMixin.get_authenticated_user`, whose result has the Twitter user
    fields plus ``username`` and ``access_token``.

    .. deprecated:: 6.3
       Twitter has withdrawn API version 1.1; this class is no longer
       maintained and will be removed.
    """

    _OAUTH_REQUEST_TOKEN_URL = "https://api.twitter.com/oauth/request_token"
    _OAUTH_ACCESS_TOKEN_URL = "https://api.twitter.com/oauth/access_token"
    _OAUTH_AUTHORIZE_URL = "https://api.twitter.com/oauth/authorize"
    _OAUTH_AUTHENTICATE_URL = "https://api.twitter.com/oauth/authenticate"
    _OAUTH_NO_CALLBACKS = False
    _TWITTER_BASE_URL = "https://api.twitter.com/1.1"

    async def authenticate_redirect(self, callback_uri: Optional[str] = None) -> None:
        """Like `~OAuthMixin.authorize_redirect`, but through Twitter's
        "authenticate" page, which skips the prompt for users who have already
        authorized the application (single sign-on).
        """
        http = self.get_auth_http_client()
        response = await http.fetch(
            self._oauth_request_token_url(callback_uri=callback_uri)
        )
        self._on_request_token(self._OAUTH_AUTHENTICATE_URL, None, response)

    async def twitter_request(
        self,
        path: str,
        access_token: Dict[str, Any],
        post_args: Optional[Dict[str, Any]] = None,
        **args: Any,
    ) -> Any:
        """Call the Twitter API at ``path`` (e.g. "/statuses/user_timeline/btaylor",
        without the ".json" suffix; a full URL is used as it is), signed with
        ``access_token``, and return the decoded JSON answer.

        Keyword arguments become query arguments; with ``post_args`` the request
        is a POST.
        """
        if path.startswith("http:") or path.startswith("https:"):
            # A full URL, for endpoints outside the versioned API.
            url = path
        else:
            url = self._TWITTER_BASE_URL + path + ".json"
        # The signature covers the query and body arguments too.
        if access_token:
            all_args = {}
            all_args.update(args)
            all_args.update(post_args or {})
            method = "POST" if post_args is not None else "GET"
            oauth = self._oauth_request_parameters(
                url, access_token, all_args, method=method
            )
            args.update(oauth)
        if args:
            url += "?" + urllib.parse.urlencode(args)
        http = self.get_auth_http_client()
        if post_args is not None:
            response = await http.fetch(
                url, method="POST", body=urllib.parse.urlencode(post_args)
            )
        else:
            response = await http.fetch(url)
        return escape.json_decode(response.body)

    def _oauth_consumer_token(self) -> Dict[str, Any]:
        handler = cast(RequestHandler, self)
        handler.require_setting("twitter_consumer_key", "Twitter OAuth")
        handler.require_setting("twitter_consumer_secret", "Twitter OAuth")
        return dict(
            key=handler.settings["twitter_consumer_key"],
            secret=handler.settings["twitter_consumer_secret"],
        )

    async def _oauth_get_user_future(
        self, access_token: Dict[str, Any]
    ) -> Dict[str, Any]:
        user = await self.twitter_request(
            "/account/verify_credentials", access_token=access_token
        )
        if user:
            user["username"] = user["screen_name"]
        return user


class GoogleOAuth2Mixin(OAuth2Mixin):
    """Sign in with Google (OAuth 2.0).

    Create an OAuth client ID of type "Web application" in the Google Cloud
    console, register your ``redirect_uri`` with it, and put the credentials
    in the ``google_oauth`` setting as ``{"key": CLIENT_ID, "secret":
    CLIENT_SECRET}`` (or override `get_google_oauth_settings`).
    """

    _OAUTH_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
    _OAUTH_ACCESS_TOKEN_URL = "https://www.googleapis.com/oauth2/v4/token"
    _OAUTH_USERINFO_URL = "https://www.googleapis.com/oauth2/v1/userinfo"
    _OAUTH_NO_CALLBACKS = False
    _OAUTH_SETTINGS_KEY = "google_oauth"

    def get_google_oauth_settings(self) -> Dict[str, str]:
        """Return the client credentials as ``{"key": ..., "secret": ...}``.

        Reads the ``google_oauth`` application setting; override to get them
        elsewhere.
        """
        handler = cast(RequestHandler, self)
        return handler.settings[self._OAUTH_SETTINGS_KEY]

    async def get_authenticated_user(
        self,
        redirect_uri: str,
        code: str,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Exchange the authorization ``code`` for tokens and return Google's
        answer (a dict with ``access_token`` among others).

        This does not fetch the user's profile: pass the access token to
        `OAuth2Mixin.oauth2_request` for that.  ``client_id`` and
        ``client_secret`` default to `get_google_oauth_settings`.
        """
        if client_id is None or client_secret is None:
            settings = self.get_google_oauth_settings()
            if client_id is None:
                client_id = settings["key"]
            if client_secret is None:
                client_secret = settings["secret"]
        http = self.get_auth_http_client()
        body = urllib.parse.urlencode(
            {
                "redirect_uri": redirect_uri,
                "code": code,
                "client_id": client_id,
                "client_secret": client_secret,
                "grant_type": "authorization_code",
            }
        )
        response = await http.fetch(
            self._OAUTH_ACCESS_TOKEN_URL,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=body,
        )
        return escape.json_decode(response.body)


class FacebookGraphMixin(OAuth2Mixin):
    """Sign in with Facebook (OAuth 2.0 and the Graph API)."""

    _OAUTH_ACCESS_TOKEN_URL = "https://graph.facebook.com/oauth/access_token?"
    _OAUTH_AUTHORIZE_URL = "https://www.facebook.com/dialog/oauth?"
    _OAUTH_NO_CALLBACKS = False
    _FACEBOOK_BASE_URL = "https://graph.facebook.com"

    async def get_authenticated_user(
        self,
        redirect_uri: str,
        client_id: str,
        client_secret: str,
        code: str,
        extra_fields: Optional[Dict[str, Any]] = None,
    ) -> Optional[Dict[str, Any]]:
        """Exchange the authorization ``code`` for an access token and return the
        user.

        The user dict has the Graph API fields ``id``, ``name``, ``first_name``,
        ``last_name``, ``locale``, ``picture`` and ``link`` plus any
        ``extra_fields`` (None where Facebook sent nothing), ``access_token``,
        and ``session_expires`` (the token's lifetime in seconds, as a string).
        """
        http = self.get_auth_http_client()
        args = {
            "redirect_uri": redirect_uri,
            "code": code,
            "client_id": client_id,
            "client_secret": client_secret,
        }

        fields = {"id", "name", "first_name", "last_name", "locale", "picture", "link"}
        if extra_fields:
            fields.update(extra_fields)

        response = await http.fetch(self._oauth_request_token_url(**args))
        token = escape.json_decode(response.body)
        session = {
            "access_token": token.get("access_token"),
            "expires_in": token.get("expires_in"),
        }
        if session["access_token"] is None:
            raise AuthError("Facebook did not return an access token")
        # appsecret_proof proves that the call comes from the server that
        # knows the app secret (Graph API "securing requests").
        proof = hmac.new(
            key=client_secret.encode("utf8"),
            msg=session["access_token"].encode("utf8"),
            digestmod=hashlib.sha256,
        ).hexdigest()
        user = await self.facebook_request(
            path="/me",
            access_token=session["access_token"],
            appsecret_proof=proof,
            fields=",".join(sorted(fields)),
        )

        if user is None:
            return None

        fieldmap = {}
        for field in fields:
            fieldmap[field] = user.get(field)

        # session_expires has always been a string (Facebook used to answer
        # in form encoding).
        fieldmap.update(
            {
                "access_token": session["access_token"],
                "session_expires": str(session.get("expires_in")),
            }
        )
        return fieldmap

    async def facebook_request(
        self,
        path: str,
        access_token: Optional[str] = None,
        post_args: Optional[Dict[str, Any]] = None,
        **args: Any,
    ) -> Any:
        """Call the Graph API at ``path`` (relative to ``_FACEBOOK_BASE_URL``,
        e.g. "/btaylor/picture") and return the decoded JSON answer.

        Like `OAuth2Mixin.oauth2_request`, which it wraps: keyword arguments are
        query arguments and ``post_args`` makes a POST.
        """
        url = self._FACEBOOK_BASE_URL + path
        return await self.oauth2_request(
            url, access_token=access_token, post_args=post_args, **args
        )


# ---------------------------------------------------------------------------
# OAuth 1 signing (RFC 5849 section 3.4), free of I/O.
# ---------------------------------------------------------------------------


def _oauth_base_args(consumer_token: Dict[str, Any]) -> Dict[str, Any]:
    """The protocol parameters every signed request carries (RFC 5849 3.1)."""
    return dict(
        oauth_consumer_key=escape.to_basestring(consumer_token["key"]),
        oauth_signature_method="HMAC-SHA1",
        oauth_timestamp=str(int(time.time())),
        oauth_nonce=escape.to_basestring(binascii.b2a_hex(uuid.uuid4().bytes)),
        oauth_version="1.0",
    )


def _oauth_escape(val: Union[str, bytes]) -> str:
    """Percent-encode as RFC 5849 3.6 asks: everything but the unreserved
    characters ALPHA, DIGIT, "-", ".", "_" and "~", as UTF-8."""
    if isinstance(val, str):
        val = val.encode("utf-8")
    return urllib.parse.quote(val, safe="~")


def _oauth_base_string_uri(url: str) -> str:
    """RFC 5849 3.4.1.2: lowercase scheme and host, the port only when it is
    not the scheme's default, the path (at least "/"), and no query or
    fragment."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = "[%s]" % host
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = "%s:%d" % (host, port)
    return "%s://%s%s" % (scheme, host, parts.path or "/")


def _oauth_normalized_parameters(
    url: str, parameters: Dict[str, Any]
) -> str:
    """RFC 5849 3.4.1.3: the request's parameters (those given, plus any in
    the URL's query), each name and value percent-encoded, sorted by name
    then value, joined as ``name=value`` pairs with "&"."""
    pairs: List[Tuple[str, str]] = [
        (_oauth_escape(k), _oauth_escape(v))
        for k, v in urllib.parse.parse_qsl(
            urllib.parse.urlsplit(url).query, keep_blank_values=True
        )
    ]
    for key, value in parameters.items():
        if key == "oauth_signature":
            continue
        pairs.append((_oauth_escape(key), _oauth_escape(_oauth_str(value))))
    pairs.sort()
    return "&".join("%s=%s" % pair for pair in pairs)


def _oauth_str(value: Any) -> Union[str, bytes]:
    if isinstance(value, (str, bytes)):
        return value
    return str(value)


def _oauth_signature_base_string(
    method: str, url: str, parameters: Mapping[str, Any]
) -> str:
    """RFC 5849 3.4.1.1: method, base string URI and normalized parameters,
    each percent-encoded, joined with "&"."""
    return "&".join(
        _oauth_escape(part)
        for part in (
            method.upper(),
            _oauth_base_string_uri(url),
            _oauth_normalized_parameters(url, parameters),
        )
    )


def _oauth_hmac_sha1(key: bytes, base_string: str) -> bytes:
    digest = hmac.new(key, escape.utf8(base_string), hashlib.sha1).digest()
    return binascii.b2a_base64(digest)[:-1]


def _oauth_signature(
    consumer_token: Dict[str, Any],
    method: str,
    url: str,
    parameters: Mapping[str, Any] = {},  # noqa: B006 - read, never mutated
    token: Optional[Dict[str, Any]] = None,
) -> bytes:
    """Calculates the HMAC-SHA1 OAuth signature for the given request.

    This is the OAuth 1.0 (pre-RFC) variant, whose key joins the consumer
    and token secrets with "&" without percent-encoding them.
    """
    base_string = _oauth_signature_base_string(method, url, parameters)
    key = (
        escape.utf8(consumer_token["secret"])
        + b"&"
        + escape.utf8(token["secret"] if token else "")
    )
    return _oauth_hmac_sha1(key, base_string)


def _oauth10a_signature(
    consumer_token: Dict[str, Any],
    method: str,
    url: str,
    parameters: Mapping[str, Any] = {},  # noqa: B006 - read, never mutated
    token: Optional[Dict[str, Any]] = None,
) -> bytes:
    """Calculates the HMAC-SHA1 OAuth 1.0a signature for the given request.

    RFC 5849 3.4.2: the key is the percent-encoded client secret, "&", and
    the percent-encoded token secret (empty without a token).
    """
    base_string = _oauth_signature_base_string(method, url, parameters)
    key = (
        _oauth_escape(consumer_token["secret"])
        + "&"
        + (_oauth_escape(token["secret"]) if token else "")
    )
    return _oauth_hmac_sha1(escape.utf8(key), base_string)


def _oauth_parse_response(body: bytes) -> Dict[str, Any]:
    """Parse a token response (RFC 5849 2.1/2.3): a form-encoded body with
    ``oauth_token`` and ``oauth_token_secret`` plus any extra fields."""
    body_str = escape.native_str(body)
    p = urllib.parse.parse_qs(body_str, keep_blank_values=False)
    try:
        token = dict(key=p["oauth_token"][0], secret=p["oauth_token_secret"][0])
    except KeyError:
        raise AuthError("Token response lacks oauth_token: %r" % body) from None
    # Add the extra parameters the Provider included to the token
    special = ("oauth_token", "oauth_token_secret")
    token.update((k, p[k][0]) for k in p if k not in special)
    return token
