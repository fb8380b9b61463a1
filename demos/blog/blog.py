#!/usr/bin/env python3
"""A small multi-author blog built with Tornado.

What it shows:

* accounts: anyone may sign up; passwords are stored only as salted scrypt
  (or PBKDF2) hashes, and the logged-in author is remembered in a signed
  cookie;
* ``@tornado.web.authenticated`` on the pages that write, XSRF protection on
  every form;
* templates that extend a common layout, and a UI module that renders one
  post wherever posts appear;
* posts written in a Markdown-like syntax (see ``markup.py``) and an Atom
  feed of the latest ones;
* an asynchronous database layer (``storage.py``): SQLite from the standard
  library by default, created on first start, or PostgreSQL with
  ``--db=postgresql://user:password@host/dbname`` when psycopg is installed.

Run it and open http://localhost:8888/::

    python3 demos/blog/blog.py [--port=8888] [--db=sqlite:///path/to/blog.db]

Without ``--db`` the posts go to ``blog.db`` beside this file (whatever the
current directory); a relative ``--db`` path is relative to the current
directory, as paths on a command line are.
"""

import asyncio
import base64
import datetime
import hashlib
import hmac
import os.path
import re
import secrets
import unicodedata
from typing import Any

import markup
import storage

import tornado.web
from tornado.ioloop import IOLoop
from tornado.log import app_log
from tornado.options import define, options, parse_command_line
from tornado.util import ObjectDict

define("port", default=8888, help="port to listen on", type=int)
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DB = "sqlite:///" + os.path.join(HERE, "blog.db")

define(
    "db",
    default=DEFAULT_DB,
    help="database URL: sqlite:///relative.db, sqlite:////absolute.db or postgresql://..."
    " (default: blog.db beside blog.py)",
)
define(
    "cookie_secret",
    default="",
    help="key that signs login cookies (random when empty: logins end on restart)",
)
define("debug", default=False, help="reload code and templates on change", type=bool)

USER_COOKIE = "blogdemo_user"


# Passwords ------------------------------------------------------------------


def hash_password(password: str) -> str:
    """A self-describing salted hash of ``password``.

    scrypt is memory-hard and the better choice; PBKDF2 is the fallback for a
    Python linked against an OpenSSL without it.  The algorithm and its
    parameters are stored with the hash, so they can change later without
    breaking old accounts.
    """
    salt = secrets.token_bytes(16)
    if hasattr(hashlib, "scrypt"):
        n, r, p = 2**14, 8, 1
        digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p)
        return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"
    iterations = 600_000
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password`."""
    algorithm, *fields = hashed.split("$")
    if algorithm == "scrypt" and len(fields) == 5:
        n, r, p, salt, expected = fields
        digest = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p)
        )
    elif algorithm == "pbkdf2_sha256" and len(fields) == 3:
        iterations, salt, expected = fields
        digest = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), _unb64(salt), int(iterations)
        )
    else:
        return False
    # Constant time, so the comparison leaks nothing about the hash.
    return hmac.compare_digest(digest, _unb64(expected))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


# Helpers ---------------------------------------------------------------------


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime.datetime:
    """The naive UTC datetime for an ISO 8601 time stored by :func:`utc_now`."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def slugify(title: str) -> str:
    """A URL-friendly name for a post: lower-case ASCII words joined by dashes."""
    ascii_title = (
        unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:80].rstrip("-") or "post"


def _entry(row: ObjectDict | None) -> ObjectDict | None:
    """Turn a database row of ``entries`` into what the templates use."""
    if row is not None:
        row.published = parse_time(row.published)
        row.updated = parse_time(row.updated)
    return row


# Handlers --------------------------------------------------------------------


class BaseHandler(tornado.web.RequestHandler):
    @property
    def db(self) -> storage.Database:
        return self.settings["db"]

    async def prepare(self) -> None:
        # get_current_user() cannot wait for the database, so the author is
        # looked up here and stored in current_user before the handler runs.
        author_id = self.get_signed_cookie(USER_COOKIE)
        if author_id:
            self.current_user = await self.db.queryone(
                "SELECT id, email, name FROM authors WHERE id = ?", int(author_id)
            )

    async def entries(self, sql_tail: str, *args: Any) -> list[ObjectDict]:
        rows = await self.db.query(
            "SELECT entries.*, authors.name AS author_name FROM entries"
            " JOIN authors ON authors.id = entries.author_id " + sql_tail,
            *args,
        )
        return [_entry(row) for row in rows]  # type: ignore[misc]

    def log_in(self, author_id: int) -> None:
        self.set_signed_cookie(USER_COOKIE, str(author_id), httponly=True, samesite="Lax")

    def next_url(self) -> str:
        """Where to go after logging in: a local path only, never another site."""
        target = self.get_argument("next", "/")
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            return "/"
        return target

    def return_url(self) -> str:
        """The ``next`` of the "Log in" and "Sign up" links on this page.

        The page itself, except on the login and sign-up pages: coming back
        to those after logging in makes no sense, so they pass their own
        ``next`` along.
        """
        return self.request.uri or "/"


class AccountFormHandler(BaseHandler):
    """The login and sign-up pages: for visitors who are not logged in."""

    template = ""  # the form's template, set by each subclass

    def return_url(self) -> str:
        return self.next_url()

    def get(self) -> None:
        if self.current_user:
            # Already logged in (another tab, the back button, a stale
            # link): the form has nothing to offer, go where it would lead.
            self.redirect(self.next_url())
            return
        self.render(self.template, error=None)


class HomeHandler(BaseHandler):
    async def get(self) -> None:
        entries = await self.entries("ORDER BY published DESC, entries.id DESC LIMIT 5")
        self.render("home.html", entries=entries)


class EntryHandler(BaseHandler):
    async def get(self, slug: str) -> None:
        found = await self.entries("WHERE slug = ?", slug)
        if not found:
            raise tornado.web.HTTPError(404)
        self.render("entry.html", entry=found[0])


class ArchiveHandler(BaseHandler):
    async def get(self) -> None:
        entries = await self.entries("ORDER BY published DESC, entries.id DESC")
        self.render("archive.html", entries=entries)


class FeedHandler(BaseHandler):
    async def get(self) -> None:
        entries = await self.entries("ORDER BY published DESC, entries.id DESC LIMIT 10")
        self.set_header("Content-Type", "application/atom+xml; charset=UTF-8")
        self.render("feed.xml", entries=entries)


class ComposeHandler(BaseHandler):
    """Writes a new post, or edits one of the author's own (``?id=``)."""

    async def own_entry(self, entry_id: str | None) -> ObjectDict | None:
        if not entry_id:
            return None
        found = await self.entries("WHERE entries.id = ?", int(entry_id))
        if not found:
            raise tornado.web.HTTPError(404)
        if found[0].author_id != self.current_user.id:
            raise tornado.web.HTTPError(403, reason="Not your post")
        return found[0]

    @tornado.web.authenticated
    async def get(self) -> None:
        entry = await self.own_entry(self.get_argument("id", None))
        self.render("compose.html", entry=entry, error=None)

    @tornado.web.authenticated
    async def post(self) -> None:
        entry = await self.own_entry(self.get_argument("id", None))
        title = self.get_argument("title", "")
        text = self.get_argument("markdown", "")
        if not title or not text:
            draft = ObjectDict(entry or {}, title=title, markdown=text)
            self.set_status(400)
            self.render("compose.html", entry=draft, error="A post needs a title and some text.")
            return
        html = markup.to_html(text)
        now = utc_now()
        if entry is not None:
            await self.db.execute(
                "UPDATE entries SET title = ?, markdown = ?, html = ?, updated = ?"
                " WHERE id = ?",
                title, text, html, now, entry.id,
            )
            slug = entry.slug
        else:
            slug = await self.unused_slug(slugify(title))
            await self.db.insert(
                "entries",
                author_id=self.current_user.id,
                slug=slug,
                title=title,
                markdown=text,
                html=html,
                published=now,
                updated=now,
            )
        self.redirect(self.reverse_url("entry", slug))

    async def unused_slug(self, slug: str) -> str:
        candidate, number = slug, 1
        while await self.db.queryone("SELECT 1 FROM entries WHERE slug = ?", candidate):
            number += 1
            candidate = f"{slug}-{number}"
        return candidate


class AuthCreateHandler(AccountFormHandler):
    """Signs a new author up, then goes on to ``next``."""

    template = "create_author.html"

    async def post(self) -> None:
        email = self.get_argument("email").lower()
        name = self.get_argument("name")
        password = self.get_argument("password", strip=False)
        error = None
        if "@" not in email or not name:
            error = "Please give your name and e-mail address."
        elif len(password) < 8:
            error = "Please choose a password of at least 8 characters."
        elif await self.db.queryone("SELECT 1 FROM authors WHERE email = ?", email):
            error = "There is already an account for this address."
        if error:
            self.set_status(400)
            self.render("create_author.html", error=error)
            return
        # Hashing takes a noticeable fraction of a second on purpose: do it
        # on a thread so other requests are not held up meanwhile.
        hashed = await IOLoop.current().run_in_executor(None, hash_password, password)
        author_id = await self.db.insert(
            "authors", email=email, name=name, hashed_password=hashed
        )
        self.log_in(author_id)
        self.redirect(self.next_url())


class AuthLoginHandler(AccountFormHandler):
    """Logs an author in, then goes on to ``next``."""

    template = "login.html"

    async def post(self) -> None:
        email = self.get_argument("email", "").lower()
        password = self.get_argument("password", "", strip=False)
        author = await self.db.queryone(
            "SELECT id, hashed_password FROM authors WHERE email = ?", email
        )
        # Hash even for an unknown address, so timing tells nothing about
        # which addresses have accounts.
        hashed = author.hashed_password if author else self.settings["dummy_hash"]
        ok = await IOLoop.current().run_in_executor(None, check_password, password, hashed)
        if not (author and ok):
            self.set_status(403)
            self.render("login.html", error="Wrong e-mail address or password.")
            return
        self.log_in(author.id)
        self.redirect(self.next_url())


class AuthLogoutHandler(BaseHandler):
    def post(self) -> None:
        self.clear_cookie(USER_COOKIE)
        self.redirect(self.next_url())


# UI modules -------------------------------------------------------------------


class EntryModule(tornado.web.UIModule):
    """Renders one post: ``{% module Entry(entry) %}`` in any template."""

    def render(self, entry: ObjectDict, full: bool = True) -> str:  # type: ignore[override]
        return self.render_string("modules/entry.html", entry=entry, full=full).decode()


# Application ------------------------------------------------------------------


def make_app(db: storage.Database, **settings: Any) -> tornado.web.Application:
    here = HERE
    cookie_secret = options.cookie_secret
    if not cookie_secret:
        cookie_secret = secrets.token_hex(32)
        app_log.info("no --cookie_secret given; logins last until the server restarts")
    defaults: dict[str, Any] = {
        "blog_title": "Tornado Blog",
        "template_path": os.path.join(here, "templates"),
        "static_path": os.path.join(here, "static"),
        "ui_modules": {"Entry": EntryModule},
        "xsrf_cookies": True,
        "cookie_secret": cookie_secret,
        "login_url": "/auth/login",
        "db": db,
        "dummy_hash": hash_password(secrets.token_hex(8)),
    }
    defaults.update(settings)
    return tornado.web.Application(
        [
            tornado.web.url(r"/", HomeHandler, name="home"),
            tornado.web.url(r"/archive", ArchiveHandler, name="archive"),
            tornado.web.url(r"/feed", FeedHandler, name="feed"),
            tornado.web.url(r"/entry/([^/]+)", EntryHandler, name="entry"),
            tornado.web.url(r"/compose", ComposeHandler, name="compose"),
            tornado.web.url(r"/auth/create", AuthCreateHandler, name="create_author"),
            tornado.web.url(r"/auth/login", AuthLoginHandler, name="login"),
            tornado.web.url(r"/auth/logout", AuthLogoutHandler, name="logout"),
        ],
        **defaults,
    )


async def main() -> None:
    parse_command_line()
    db = await storage.connect(options.db)
    await db.create_schema()
    app = make_app(db, debug=options.debug)
    app.listen(options.port)
    app_log.info("blog running on http://localhost:%d/ with %s", options.port, options.db)
    try:
        await asyncio.Event().wait()
    finally:
        await db.close()


if __name__ == "__main__":
    asyncio.run(main())
