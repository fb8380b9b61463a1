"""Tests for tornado.auth: OAuth 1 signing against RFC 5849's own examples,
and each mixin's login flow against mock providers served on 127.0.0.1."""

import base64
import hashlib
import hmac
import urllib.parse
import warnings
from typing import Any, Dict

from tornado.escape import json_decode, utf8
from tornado.testing import AsyncHTTPTestCase
from tornado.web import Application, RequestHandler
from tornado.auth import AuthError, FacebookGraphMixin, GoogleOAuth2Mixin, OAuth2Mixin
from tornado.auth import OAuthMixin, OpenIdMixin, TwitterMixin
from tornado.auth import _oauth10a_signature, _oauth_signature, _oauth_signature_base_string
from tornado.auth import _oauth_parse_response, _openid_user, _unpack_request_token

# ---------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------


def test_rfc5849_base_string_example() -> None:
    # RFC 5849 3.4.1.1: query parameters, body parameters and protocol
    # parameters, with repeated names and characters that need escaping.
    url = "http://EXAMPLE.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
    params = {
        "c2": "",
        "a3": "2 q",
        "oauth_consumer_key": "9djdj82h48djs9d2",
        "oauth_token": "kkk9d7dh3k39sjv7",
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": "137131201",
        "oauth_nonce": "7d8f3e4a",
    }
    assert _oauth_signature_base_string("post", url, params) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
        "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
        "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
        "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
        "9d7dh3k39sjv7"
    )


def test_rfc5849_signature_example() -> None:
    # RFC 5849 1.2: the signed request for the photo.
    params = {
        "file": "vacation.jpg",
        "size": "original",
        "oauth_consumer_key": "dpf43f3p2l4k3l03",
        "oauth_token": "nnch734d00sl2jdk",
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": "137131202",
        "oauth_nonce": "chapoH",
    }
    signature = _oauth10a_signature(
        {"key": "dpf43f3p2l4k3l03", "secret": "kd94hf93k423kf44"},
        "GET",
        "http://photos.example.net/photos",
        params,
        {"key": "nnch734d00sl2jdk", "secret": "pfkkdhi9sl3r4s00"},
    )
    assert signature == b"MdpQcU8iPSUjWoN/UDMsK2sui9I="


def test_default_port_kept_only_when_not_default() -> None:
    base = _oauth_signature_base_string("GET", "https://Example.com:8443/a", {})
    assert base == "GET&https%3A%2F%2Fexample.com%3A8443%2Fa&"
    base = _oauth_signature_base_string("GET", "https://example.com:443", {})
    assert base == "GET&https%3A%2F%2Fexample.com%2F&"


def test_signature_key_escaping_10_vs_10a() -> None:
    consumer = {"key": "k", "secret": "s&cr t"}
    token = {"key": "t", "secret": "t/s"}
    base = _oauth_signature_base_string("GET", "http://x.test/", {"a": "1"})

    def sign(key: bytes) -> bytes:
        return base64.b64encode(hmac.new(key, utf8(base), hashlib.sha1).digest())

    # 1.0a (RFC 5849 3.4.2) escapes the secrets; the 1.0 draft did not.
    assert _oauth10a_signature(consumer, "GET", "http://x.test/", {"a": "1"}, token) == sign(
        b"s%26cr%20t&t%2Fs"
    )
    assert _oauth_signature(consumer, "GET", "http://x.test/", {"a": "1"}, token) == sign(
        b"s&cr t&t/s"
    )


def test_token_response_parsing() -> None:
    token = _oauth_parse_response(b"oauth_token=t%20k&oauth_token_secret=s&user_id=9")
    assert token == {"key": "t k", "secret": "s", "user_id": "9"}
    try:
        _oauth_parse_response(b"oauth_token_secret=s")
    except AuthError as e:
        assert "oauth_token" in str(e)
    else:
        raise AssertionError("no AuthError")


def test_request_token_cookie_must_have_two_base64_halves() -> None:
    assert _unpack_request_token('"YQ==|Yg=="') == (b"a", b"b")
    for bad in ("YQ==", "YQ==|Yg==|Yw==", "Y|Yg=="):
        try:
            _unpack_request_token(bad)
        except AuthError as e:
            assert "Malformed" in str(e)
        else:
            raise AssertionError("accepted %r" % bad)


def test_openid_user_name_fallbacks() -> None:
    ax = {"openid.ns.a1": "http://openid.net/srv/ax/1.0"}
    first = {"openid.a1.type.f": "http://axschema.org/namePerson/first", "openid.a1.value.f": "Ann"}
    last = {"openid.a1.type.l": "http://axschema.org/namePerson/last", "openid.a1.value.l": "Lee"}
    lang = {"openid.a1.type.x": "http://axschema.org/pref/language", "openid.a1.value.x": "EN-us"}
    user = _openid_user({**ax, **first, **last, **lang})
    assert user == {"first_name": "Ann", "last_name": "Lee", "name": "Ann Lee", "locale": "en-us"}
    # Without the AX namespace declaration the values are not trusted.
    assert _openid_user({**first, **last}) == {}


# ---------------------------------------------------------------------------
# Mock providers
# ---------------------------------------------------------------------------

CONSUMER = {"key": "ckey", "secret": "csecret&1"}


def check_signature(handler: RequestHandler, token_secret: str) -> None:
    """Verify an OAuth 1.0a request independently of tornado.auth's helpers."""
    args = {k: handler.get_argument(k) for k in handler.request.arguments}
    signature = args.pop("oauth_signature")

    def enc(s: str) -> str:
        return urllib.parse.quote(s, safe="~")

    pairs = sorted((enc(k), enc(v)) for k, v in args.items())
    url = "%s://%s%s" % (handler.request.protocol, handler.request.host, handler.request.path)
    base = "&".join(
        [handler.request.method, enc(url), enc("&".join("%s=%s" % p for p in pairs))]
    )
    key = enc(CONSUMER["secret"]) + "&" + enc(token_secret)
    expected = base64.b64encode(hmac.new(utf8(key), utf8(base), hashlib.sha1).digest())
    assert utf8(signature) == expected, "bad signature"


class RequestTokenHandler(RequestHandler):
    def get(self) -> None:
        check_signature(self, "")
        assert self.get_argument("oauth_callback").endswith("/oauth1/callback")
        self.write("oauth_token=reqtok&oauth_token_secret=reqsecret")


class AccessTokenHandler(RequestHandler):
    def get(self) -> None:
        check_signature(self, "reqsecret")
        assert self.get_argument("oauth_token") == "reqtok"
        assert self.get_argument("oauth_verifier") == "v123"
        self.write("oauth_token=acctok&oauth_token_secret=accsecret&user_id=42")


class OAuth1Login(RequestHandler, OAuthMixin):
    def initialize(self, test: Any) -> None:
        self._OAUTH_REQUEST_TOKEN_URL = test.get_url("/provider/request_token")
        self._OAUTH_ACCESS_TOKEN_URL = test.get_url("/provider/access_token")
        self._OAUTH_AUTHORIZE_URL = "https://provider.example/authorize"

    def _oauth_consumer_token(self) -> Dict[str, Any]:
        return CONSUMER

    async def _oauth_get_user_future(self, access_token: Dict[str, Any]) -> Dict[str, Any]:
        return {"name": "user" + access_token["user_id"]}

    async def get(self) -> None:
        if self.get_argument("oauth_token", None):
            try:
                user = await self.get_authenticated_user()
            except AuthError as e:
                self.set_status(403)
                self.finish(str(e))
                return
            self.finish(user)
        else:
            await self.authorize_redirect(callback_uri="/oauth1/callback")


class OAuth2Login(RequestHandler, OAuth2Mixin):
    _OAUTH_AUTHORIZE_URL = "https://provider.example/auth"

    def get(self) -> None:
        self.authorize_redirect(
            redirect_uri="http://app.example/cb",
            client_id="cid",
            scope=["a", "b"],
            extra_params={"state": "xyz"},
        )


class GoogleTokenHandler(RequestHandler):
    def post(self) -> None:
        assert self.get_argument("grant_type") == "authorization_code"
        assert self.get_argument("client_secret") == "gsecret"
        self.finish({"access_token": "gtoken:" + self.get_argument("code")})


class GoogleLogin(RequestHandler, GoogleOAuth2Mixin):
    def initialize(self, test: Any) -> None:
        self._OAUTH_ACCESS_TOKEN_URL = test.get_url("/google/token")

    async def get(self) -> None:
        self.finish(await self.get_authenticated_user("http://app.example/cb", "c0de"))


class FacebookTokenHandler(RequestHandler):
    def get(self) -> None:
        assert self.get_argument("client_secret") == "fsecret"
        self.finish({"access_token": "ftoken", "expires_in": 60})


class FacebookMeHandler(RequestHandler):
    def get(self) -> None:
        proof = hmac.new(b"fsecret", b"ftoken", hashlib.sha256).hexdigest()
        assert self.get_argument("appsecret_proof") == proof
        assert "first_name" in self.get_argument("fields").split(",")
        self.finish({"id": "7", "name": "Fay"})


class FacebookLogin(RequestHandler, FacebookGraphMixin):
    def initialize(self, test: Any) -> None:
        self._OAUTH_ACCESS_TOKEN_URL = test.get_url("/facebook/token")
        self._FACEBOOK_BASE_URL = test.get_url("/facebook")

    async def get(self) -> None:
        user = await self.get_authenticated_user(
            "http://app.example/cb", "fid", "fsecret", "c0de"
        )
        self.finish(user)


class OpenIdProvider(RequestHandler):
    def post(self) -> None:
        assert self.get_argument("openid.mode") == "check_authentication"
        self.write(self.settings["openid_answer"])


class OpenIdLogin(RequestHandler, OpenIdMixin):
    def initialize(self, test: Any) -> None:
        self._OPENID_ENDPOINT = test.get_url("/openid/provider")

    async def get(self) -> None:
        if self.get_argument("openid.mode", None):
            try:
                self.finish(await self.get_authenticated_user())
            except AuthError:
                self.send_error(403)
        else:
            self.authenticate_redirect()


class AuthFlowTest(AsyncHTTPTestCase):
    def setUp(self) -> None:
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore", DeprecationWarning)  # OpenIdMixin
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        self._warnings.__exit__(None, None, None)

    def get_app(self) -> Application:
        self.openid_answer = b""
        return Application(
            [
                ("/oauth1/login", OAuth1Login, dict(test=self)),
                ("/oauth1/callback", OAuth1Login, dict(test=self)),
                ("/provider/request_token", RequestTokenHandler),
                ("/provider/access_token", AccessTokenHandler),
                ("/oauth2/login", OAuth2Login),
                ("/google/login", GoogleLogin, dict(test=self)),
                ("/google/token", GoogleTokenHandler),
                ("/facebook/login", FacebookLogin, dict(test=self)),
                ("/facebook/token", FacebookTokenHandler),
                ("/facebook/me", FacebookMeHandler),
                ("/openid/login", OpenIdLogin, dict(test=self)),
                ("/openid/provider", OpenIdProvider),
            ],
            google_oauth={"key": "gid", "secret": "gsecret"},
            openid_answer="",
        )

    def test_oauth1_flow(self) -> None:
        response = self.fetch("/oauth1/login", follow_redirects=False)
        assert response.code == 302, response.body
        location = urllib.parse.urlsplit(response.headers["Location"])
        query = dict(urllib.parse.parse_qsl(location.query))
        assert query["oauth_token"] == "reqtok"
        assert query["oauth_callback"].endswith("/oauth1/callback")
        cookie = response.headers["Set-Cookie"].split(";")[0]
        assert cookie.startswith("_oauth_request_token=")

        response = self.fetch(
            "/oauth1/callback?oauth_token=reqtok&oauth_verifier=v123",
            headers={"Cookie": cookie},
        )
        assert response.code == 200, response.body
        user = json_decode(response.body)
        assert user["name"] == "user42"
        assert user["access_token"] == {"key": "acctok", "secret": "accsecret", "user_id": "42"}

    def test_oauth1_token_mismatch(self) -> None:
        cookie = "_oauth_request_token=%s|%s" % (
            base64.b64encode(b"other").decode(),
            base64.b64encode(b"s").decode(),
        )
        response = self.fetch(
            "/oauth1/callback?oauth_token=reqtok", headers={"Cookie": cookie}
        )
        assert response.code == 403
        assert b"does not match" in response.body

    def test_oauth2_authorize_redirect(self) -> None:
        response = self.fetch("/oauth2/login", follow_redirects=False)
        assert response.code == 302
        location = urllib.parse.urlsplit(response.headers["Location"])
        assert location.netloc == "provider.example"
        assert dict(urllib.parse.parse_qsl(location.query)) == {
            "response_type": "code",
            "redirect_uri": "http://app.example/cb",
            "client_id": "cid",
            "scope": "a b",
            "state": "xyz",
        }

    def test_google(self) -> None:
        response = self.fetch("/google/login")
        assert json_decode(response.body) == {"access_token": "gtoken:c0de"}

    def test_facebook(self) -> None:
        user = json_decode(self.fetch("/facebook/login").body)
        assert user["id"] == "7"
        assert user["name"] == "Fay"
        assert user["first_name"] is None
        assert user["access_token"] == "ftoken"
        assert user["session_expires"] == "60"

    def openid_callback(self, answer: str) -> Any:
        self._app.settings["openid_answer"] = answer
        return self.fetch(
            "/openid/login?openid.mode=id_res&openid.ns.ext1=http://openid.net/srv/ax/1.0"
            "&openid.ext1.type.mail=http://axschema.org/contact/email"
            "&openid.ext1.value.mail=ann@example.com"
            "&openid.claimed_id=http://id.example/ann"
        )

    def test_openid(self) -> None:
        response = self.fetch("/openid/login", follow_redirects=False)
        assert response.code == 302
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response.headers["Location"]).query))
        assert query["openid.mode"] == "checkid_setup"
        assert query["openid.ax.type.email"] == "http://axschema.org/contact/email"

        for answer in ("is_valid:true\nns:x\n", "ns:x\nis_valid:true\n"):
            user = json_decode(self.openid_callback(answer).body)
            assert user == {
                "name": "ann",
                "email": "ann@example.com",
                "claimed_id": "http://id.example/ann",
            }
        # "is_valid:true" must be the value of the is_valid key, not any
        # substring of the body.
        for answer in ("is_valid:false\nx:is_valid:true\n", "not_is_valid:true\n"):
            assert self.openid_callback(answer).code == 403


class TwitterStatusHandler(RequestHandler):
    def post(self, name: str) -> None:
        # The body arguments are part of the signed parameters.
        check_signature(self, "tsecret")
        assert self.get_argument("oauth_token") == "tkey"
        self.finish({"posted_by": name, "status": self.get_argument("status")})


class TwitterPost(RequestHandler, TwitterMixin):
    def initialize(self, test: Any) -> None:
        self._TWITTER_BASE_URL = test.get_url("/twitter")

    async def get(self) -> None:
        answer = await self.twitter_request(
            "/statuses/update/bob", {"key": "tkey", "secret": "tsecret"},
            post_args={"status": "hi there~"}, lang="en",
        )
        self.finish(answer)


class TwitterRequestTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        return Application(
            [
                ("/post", TwitterPost, dict(test=self)),
                (r"/twitter/statuses/update/(\w+)\.json", TwitterStatusHandler),
            ],
            twitter_consumer_key=CONSUMER["key"],
            twitter_consumer_secret=CONSUMER["secret"],
        )

    def test_signed_post(self) -> None:
        response = self.fetch("/post")
        assert response.code == 200, response.body
        assert json_decode(response.body) == {"posted_by": "bob", "status": "hi there~"}
