"""End-to-end tests of demos/blog, plus unit tests of its Markdown converter."""

import contextlib
import html
import importlib.util
import os
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from test_demo_harness import DEMOS, Demo, Response, Session, running

SCRIPT = "blog/blog.py"
SECRET = "--cookie_secret=test-secret-not-for-production"
ATOM = "{http://www.w3.org/2005/Atom}"


POSTGRES_URL = os.environ.get("BLOG_TEST_POSTGRES_URL", "")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL,
            reason="set BLOG_TEST_POSTGRES_URL=postgresql://... (a scratch database:"
            " the tests drop its blog tables) to run these on PostgreSQL",
        ),
    ),
]


class Blog:
    """A running blog demo and a way to look into its database directly."""

    def __init__(self, demo: Demo, backend: str, db_url: str) -> None:
        self.demo = demo
        self.backend = backend
        self.db_url = db_url

    def query(self, sql: str) -> list[tuple]:
        if self.backend == "sqlite":
            with contextlib.closing(sqlite3.connect(self.db_url[len("sqlite:///") :])) as conn:
                return conn.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.db_url) as conn:
            return conn.execute(sql).fetchall()


def reset_postgres(url: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS entries, authors")


@pytest.fixture(params=BACKENDS)
def blog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Blog]:
    if request.param == "sqlite":
        db_url = f"sqlite:///{tmp_path / 'data' / 'blog.db'}"
    else:
        db_url = POSTGRES_URL
        reset_postgres(db_url)
    with running(SCRIPT, f"--db={db_url}", SECRET) as demo:
        yield Blog(demo, request.param, db_url)


def sign_up(demo: Demo, name: str = "Ada", email: str = "ada@example.com", password: str = "correct horse") -> Session:
    session = Session(demo.url())
    form = session.get("/auth/create")
    assert form.status == 200
    response = session.post(
        "/auth/create", {"name": name, "email": email, "password": password, "next": "/"}
    )
    assert response.status == 302, response
    assert response.headers["Location"] == "/"
    return session


def publish(session: Session, title: str, text: str) -> str:
    session.get("/compose")
    response = session.post("/compose", {"title": title, "markdown": text})
    assert response.status == 302, response
    return response.headers["Location"]


def test_database_is_created_on_first_start(blog: Blog) -> None:
    demo = blog.demo
    if blog.backend == "sqlite":
        tables = {row[0] for row in blog.query("SELECT name FROM sqlite_master")}
    else:
        tables = {row[0] for row in blog.query("SELECT tablename FROM pg_tables")}
    assert {"authors", "entries"} <= tables
    home = Session(demo.url()).get("/")
    assert home.status == 200
    assert "No posts yet" in home.text


def test_writing_needs_a_login(blog: Blog) -> None:
    demo = blog.demo
    response = Session(demo.url()).get("/compose")
    assert response.status == 302
    assert response.headers["Location"] == "/auth/login?next=%2Fcompose"


def test_forms_need_the_xsrf_token(blog: Blog) -> None:
    demo = blog.demo
    session = Session(demo.url())
    session.get("/auth/create")
    response = session.post(
        "/auth/create",
        {"name": "Eve", "email": "eve@example.com", "password": "12345678"},
        xsrf=False,
    )
    assert response.status == 403


def test_passwords_are_stored_hashed(blog: Blog) -> None:
    demo = blog.demo
    session = sign_up(demo, password="my secret words")
    ((stored,),) = blog.query("SELECT hashed_password FROM authors")
    assert "my secret words" not in stored
    assert stored.split("$")[0] in ("scrypt", "pbkdf2_sha256")
    # The login cookie is signed, not the bare author id.
    cookie = session.cookie("blogdemo_user")
    assert cookie and cookie != "1" and "|" in cookie


def test_sign_up_checks_its_input(blog: Blog) -> None:
    demo = blog.demo
    sign_up(demo, email="taken@example.com")
    session = Session(demo.url())
    session.get("/auth/create")
    cases = [
        {"name": "A", "email": "a@example.com", "password": "short"},
        {"name": "B", "email": "taken@example.com", "password": "long enough"},
        {"name": "C", "email": "not-an-address", "password": "long enough"},
    ]
    for fields in cases:
        response = session.post("/auth/create", fields)
        assert response.status == 400, fields
        assert 'class="error"' in response.text
    assert session.cookie("blogdemo_user") is None


def test_publish_read_and_list(blog: Blog) -> None:
    demo = blog.demo
    session = sign_up(demo)
    location = publish(
        session,
        "Hello, Tornado!",
        "Some **bold** text and a [link](https://www.tornadoweb.org/).\n\n"
        "<script>alert('x')</script>\n\n- one\n- two\n",
    )
    assert location == "/entry/hello-tornado"
    reader = Session(demo.url())
    entry = reader.get(location)
    assert entry.status == 200
    assert "<title>Hello, Tornado! &middot; Tornado Blog</title>" in entry.text
    assert "<strong>bold</strong>" in entry.text
    assert '<a href="https://www.tornadoweb.org/">link</a>' in entry.text
    assert "<script>alert" not in entry.text
    assert "&lt;script&gt;" in entry.text
    assert "<li>one</li>" in entry.text
    assert "Ada" in entry.text
    # A reader who is not the author gets no edit link.
    assert "/compose?id=" not in entry.text
    assert "/compose?id=" in session.get(location).text

    assert "Hello, Tornado!" in reader.get("/").text
    archive = reader.get("/archive")
    assert 'href="/entry/hello-tornado"' in archive.text
    assert reader.get("/entry/no-such-post").status == 404

    # Same title again: a new, distinct address.
    assert publish(session, "Hello, Tornado!", "again") == "/entry/hello-tornado-2"


def test_atom_feed(blog: Blog) -> None:
    demo = blog.demo
    session = sign_up(demo)
    publish(session, "First", "one *two*")
    publish(session, "Second & last", "three")
    feed = Session(demo.url()).get("/feed")
    assert feed.status == 200
    assert feed.headers["Content-Type"].startswith("application/atom+xml")
    assert feed.body.startswith(b"<?xml")
    root = ET.fromstring(feed.body)
    assert root.tag == ATOM + "feed"
    entries = root.findall(ATOM + "entry")
    assert [e.findtext(ATOM + "title") for e in entries] == ["Second & last", "First"]
    first = entries[1]
    assert first.findtext(ATOM + "content") == "<p>one <em>two</em></p>"
    assert first.find(ATOM + "link").get("href") == demo.url("/entry/first")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first.findtext(ATOM + "updated") or "")
    assert first.findtext(ATOM + "author/" + ATOM + "name") == "Ada"


def test_only_the_author_may_edit(blog: Blog) -> None:
    demo = blog.demo
    ada = sign_up(demo)
    publish(ada, "Mine", "original text")
    entry_id = re.search(r"/compose\?id=(\d+)", ada.get("/entry/mine").text).group(1)

    bob = sign_up(demo, name="Bob", email="bob@example.com")
    assert bob.get(f"/compose?id={entry_id}").status == 403
    response = bob.post("/compose", {"id": entry_id, "title": "Stolen", "markdown": "hacked"})
    assert response.status == 403

    form = ada.get(f"/compose?id={entry_id}")
    assert form.status == 200 and "original text" in form.text
    response = ada.post("/compose", {"id": entry_id, "title": "Mine, edited", "markdown": "new *text*"})
    assert response.status == 302
    assert response.headers["Location"] == "/entry/mine"
    page = Session(demo.url()).get("/entry/mine").text
    assert "Mine, edited" in page and "new <em>text</em>" in page and "original" not in page


def test_empty_post_is_refused(blog: Blog) -> None:
    demo = blog.demo
    session = sign_up(demo)
    response = session.post("/compose", {"title": "No body", "markdown": ""})
    assert response.status == 400
    assert "No body" in response.text  # the draft is kept in the form


def test_log_out_and_back_in(blog: Blog) -> None:
    demo = blog.demo
    session = sign_up(demo, password="open sesame")
    assert session.post("/auth/logout").status == 302
    assert session.cookie("blogdemo_user") is None
    assert session.get("/compose").status == 302

    session.get("/auth/login")
    wrong = session.post("/auth/login", {"email": "ada@example.com", "password": "open says me"})
    assert wrong.status == 403
    unknown = session.post("/auth/login", {"email": "nobody@example.com", "password": "open sesame"})
    assert unknown.status == 403
    right = session.post(
        "/auth/login", {"email": "ADA@example.com", "password": "open sesame", "next": "/compose"}
    )
    assert right.status == 302 and right.headers["Location"] == "/compose"
    assert session.get("/compose").status == 200
    # "next" may not send the user to another site.
    session.post("/auth/logout")
    away = session.post(
        "/auth/login", {"email": "ada@example.com", "password": "open sesame", "next": "//evil.example/"}
    )
    assert away.headers["Location"] == "/"


def test_forged_cookie_is_ignored(blog: Blog) -> None:
    demo = blog.demo
    sign_up(demo)
    forger = Session(demo.url())
    response = forger.get("/compose", headers={"Cookie": "blogdemo_user=1"})
    assert response.status == 302


def test_data_and_logins_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "blog.db"
    with running(SCRIPT, f"--db=sqlite:///{db}", SECRET) as demo:
        session = sign_up(demo)
        publish(session, "Persistent", "still here")
        port = demo.port
    with running(SCRIPT, f"--db=sqlite:///{db}", SECRET, port=port) as demo:
        assert "still here" in Session(demo.url()).get("/entry/persistent").text
        # The same signed cookie is still good with the same secret.
        assert session.get("/compose").status == 200


def test_relative_sqlite_path_is_under_the_working_directory(tmp_path: Path) -> None:
    with running(SCRIPT, "--db=sqlite:///relative.db", SECRET, cwd=tmp_path) as demo:
        assert Session(demo.url()).get("/").status == 200
    assert (tmp_path / "relative.db").exists()


def test_default_database_is_beside_the_demo(tmp_path: Path) -> None:
    # A copy of the demo, so the test writes nothing into the checkout.
    copy = tmp_path / "blog"
    shutil.copytree(DEMOS / "blog", copy, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with running(str(copy / "blog.py"), SECRET, cwd=elsewhere) as demo:
        sign_up(demo)
        assert "blog.db" in demo.output()
    assert (copy / "blog.db").exists()
    assert list(elsewhere.iterdir()) == []


def _links(page: str, path: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="(' + re.escape(path) + r'[^"]*)"', page)]


def _hidden_next(page: str) -> str:
    match = re.search(r'name="next" value="([^"]*)"', page)
    assert match, page
    return html.unescape(match.group(1))


def _follow(session: Session, response: Response) -> Response:
    """Follow redirects (local ones) to the page a browser would show."""
    for _ in range(5):
        if response.status != 302:
            return response
        response = session.get(response.headers["Location"])
    raise AssertionError("redirect loop")


@pytest.mark.parametrize("link", ["nav", "page"])
def test_sign_up_from_a_redirected_page_goes_on_to_that_page(blog: Blog, link: str) -> None:
    """/compose sends a visitor to log in; signing up instead, through either
    "Sign up" link of the login page, ends on /compose, never on a form."""
    session = Session(blog.demo.url())
    redirected = session.get("/compose")
    assert redirected.status == 302
    login = session.get(redirected.headers["Location"])
    assert login.status == 200 and "Log in</h1>" in login.text
    nav, in_page = _links(login.text, "/auth/create")
    assert _hidden_next(login.text) == "/compose"
    signup_page = session.get(nav if link == "nav" else in_page)
    next_url = _hidden_next(signup_page.text)
    assert next_url == "/compose"
    response = session.post(
        "/auth/create",
        {"name": "Eve", "email": "eve@example.com", "password": "long enough", "next": next_url},
    )
    assert response.status == 302 and response.headers["Location"] == "/compose"
    page = _follow(session, response)
    assert page.status == 200 and page.url.endswith("/compose")
    assert 'name="markdown"' in page.text


def test_a_logged_in_user_never_sees_the_account_forms(blog: Blog) -> None:
    session = sign_up(blog.demo)
    for path, target in [
        ("/auth/login", "/"),
        ("/auth/create", "/"),
        ("/auth/login?next=/archive", "/archive"),
        ("/auth/create?next=%2Fcompose", "/compose"),
        ("/auth/login?next=//evil.example/", "/"),
        ("/auth/login?next=/%5Cevil.example/", "/"),
        # A "next" that is itself the login page still ends on a real page.
        ("/auth/create?next=%2Fauth%2Flogin%3Fnext%3D%252Farchive", "/auth/login?next=%2Farchive"),
    ]:
        response = session.get(path)
        assert response.status == 302, path
        assert response.headers["Location"] == target, path
        shown = _follow(session, response).text
        assert "Log in</h1>" not in shown and "Sign up</h1>" not in shown, path
    # The nav links of the login page carry its "next", not the login page.
    session.post("/auth/logout")
    page = session.get("/auth/login?next=%2Farchive").text
    assert _links(page, "/auth/create")[0] == "/auth/create?next=%2Farchive"


# The Markdown-like converter ----------------------------------------------------


@pytest.fixture(scope="module")
def markup() -> ModuleType:
    spec = importlib.util.spec_from_file_location("blog_markup", DEMOS / "blog" / "markup.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "text, expected",
    [
        ("plain", "<p>plain</p>"),
        ("a\nb\n\nc", "<p>a\nb</p>\n<p>c</p>"),
        ("line  \nbreak", "<p>line<br>\nbreak</p>"),
        ("## Two", "<h2>Two</h2>"),
        ("**b** *i* _j_ snake_case_name", "<p><strong>b</strong> <em>i</em> <em>j</em> snake_case_name</p>"),
        ("`a < *b*`", "<p><code>a &lt; *b*</code></p>"),
        ("<b>&amp;</b>", "<p>&lt;b&gt;&amp;amp;&lt;/b&gt;</p>"),
        ("[t](http://x.org/?a=1&b=2)", '<p><a href="http://x.org/?a=1&amp;b=2">t</a></p>'),
        ('[t](/p "Title")', '<p><a href="/p" title="Title">t</a></p>'),
        ("[bad](javascript:alert(1))", "<p>bad</p>"),
        ("[w](http://w.org/A_(b))", '<p><a href="http://w.org/A_(b)">w</a></p>'),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"),
        ("> q *e*", "<blockquote>\n<p>q <em>e</em></p>\n</blockquote>"),
        ("```py\nx = '<a>'\n```", '<pre><code class="language-py">x = &#x27;&lt;a&gt;&#x27;</code></pre>'),
        ("    indented\n    code", "<pre><code>indented\ncode</code></pre>"),
        ("---", "<hr>"),
        ("", ""),
    ],
)
def test_markup(markup: ModuleType, text: str, expected: str) -> None:
    assert markup.to_html(text) == expected
