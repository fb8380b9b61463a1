"""Tests for tornado.template."""

import traceback
from typing import Any, Callable, Dict

import pytest

from tornado.escape import to_unicode, utf8
from tornado.template import (
    DictLoader,
    Loader,
    ParseError,
    Template,
    filter_whitespace,
)
from tornado.util import ObjectDict


def render(source: str, **kwargs: Any) -> bytes:
    return Template(source).generate(**kwargs)


def test_expressions() -> None:
    assert render("Hello {{ name }}!", name="Ben") == b"Hello Ben!"
    assert render("Hello {{ name }}!", name=b"Ben") == b"Hello Ben!"
    assert render("{{ 2 + 2 }}") == b"4"
    assert render("{{ [1, 2] }}") == b"[1, 2]"
    assert render(utf8('{{ "\u00e9" }}')) == utf8("\u00e9")


def test_autoescape_by_default() -> None:
    assert render("{{ x }}", x="<a&'\">") == b"&lt;a&amp;&#x27;&quot;&gt;"
    assert render("{% raw x %}", x="<a>") == b"<a>"
    assert render("{% autoescape None %}{{ x }}", x="<a>") == b"<a>"
    assert Template("{{ x }}", autoescape=None).generate(x="<a>") == b"<a>"


def test_custom_escape_receives_bytes() -> None:
    seen = []

    def esc(s: Any) -> str:
        seen.append(s)
        return repr(to_unicode(s))

    out = render("{% autoescape esc %}{{ x }} {{ y }}", esc=esc, x="<a>", y=[1])
    assert out == b"'<a>' '[1]'"
    assert seen == [b"<a>", b"[1]"]


def test_comments_and_literal_tags() -> None:
    assert render("a{# comment #}b") == b"ab"
    assert render("{% comment anything %}x") == b"x"
    assert render("{{!") == b"{{"
    assert render("{%!") == b"{%"
    assert render("{#!") == b"{#"
    assert render("{{ 'e' }} {{!jquery}}") == b"e {{jquery}}"
    # The innermost pair of a run of braces opens the tag.
    assert render("{{{ 1 }}}") == b"{1}"
    assert render("a { b } {") == b"a { b } {"


@pytest.mark.parametrize(
    "source,message",
    [
        ("{{", "Missing end expression }}"),
        ("{%", "Missing end block %}"),
        ("{#", "Missing end comment #}"),
        ("{{ }}", "Empty expression"),
        ("{% %}", "Empty block tag"),
        ("{% if x %}", "Missing {% end %} block for if"),
        ("{% end %}", "Extra {% end %} block"),
        ("{% else %}", "else outside"),
        ("{% if 1 %}{% except %}{% end %}", "except block cannot be attached to if"),
        ("{% break %}", "break outside"),
        ("{% for i in x %}{% apply f %}{% break %}{% end %}{% end %}", "break outside"),
        ("{% bogus %}", "unknown operator: 'bogus'"),
        ("{% extends %}", "extends missing file path"),
        ("{% include '' %}", "include missing file path"),
        ("{% set %}", "set missing statement"),
        ("{% apply %}{% end %}", "apply missing method name"),
        ("{% block %}{% end %}", "block missing name"),
        ("{% whitespace bogus %}", "invalid whitespace mode"),
    ],
)
def test_parse_errors(source: str, message: str) -> None:
    with pytest.raises(Exception) as caught:
        Template(source)
    assert message in str(caught.value)


def test_parse_error_location() -> None:
    loader = DictLoader({"foo.html": "\n\n{{"})
    with pytest.raises(ParseError) as caught:
        loader.load("foo.html")
    assert str(caught.value) == "Missing end expression }} at foo.html:3"
    assert (caught.value.filename, caught.value.lineno) == ("foo.html", 3)
    assert str(ParseError("asdf")) == "asdf at None:0"


def test_control_flow() -> None:
    t = Template("{% if x > 4 %}yes{% elif x > 2 %}mid{% else %}no{% end %}")
    assert [t.generate(x=x) for x in (5, 3, 1)] == [b"yes", b"mid", b"no"]
    assert render("{% if True %}{% else %}{% end %}") == b""
    assert render("{% for i in range(3) %}{{ i }}{% end %}") == b"012"
    assert (
        render("{% set i = 3 %}{% while i %}{{ i }}{% set i -= 1 %}{% end %}") == b"321"
    )
    assert (
        render(
            "{% for i in range(9) %}{% if i == 1 %}{% continue %}{% end %}"
            "{{ i }}{% if i == 3 %}{% break %}{% end %}{% end %}"
        )
        == b"023"
    )
    t = Template(
        "{% try %}{% set y = 1/x %}t{% except ZeroDivisionError %}e"
        "{% else %}l{% finally %}f{% end %}"
    )
    assert t.generate(x=1) == b"tlf"
    assert t.generate(x=0) == b"ef"


def test_imports() -> None:
    assert render("{% import math %}{{ math.floor(2.5) }}") == b"2"
    assert render("{% from math import ceil %}{{ ceil(2.5) }}") == b"3"


def test_apply() -> None:
    assert render("{% apply f %}foo{{ 1 }}{% end %}", f=lambda s: s.upper()) == b"FOO1"
    assert (
        render(utf8("{% apply f %}\u00e9{% end %}"), f=lambda s: to_unicode(s).upper())
        == utf8("\u00c9")
    )
    assert (
        render("{% apply f %}a{% end %}{% apply f %}b{% end %}", f=lambda s: s * 2)
        == b"aabb"
    )


def test_default_namespace() -> None:
    assert render("{{ squeeze('a   b') }}") == b"a b"
    assert render("{% raw json_encode([1]) %}") == b"[1]"
    assert render("{{ url_escape('a b') }}") == b"a+b"
    assert render("{% raw linkify('www.x.com') %}") == b'<a href="http://www.x.com">www.x.com</a>'
    assert render("{{ datetime.date(2000, 1, 2) }}") == b"2000-01-02"
    assert render("{{ escape('<') }}") == b"&amp;lt;"


def test_generate_is_repeatable_and_isolated() -> None:
    t = Template("{% set y = x + 1 %}{{ y }}")
    assert t.generate(x=1) == b"2"
    assert t.generate(x=5) == b"6"


def test_include_and_extends() -> None:
    loader = DictLoader(
        {
            "base.html": "<t>{% block title %}default{% end %}</t>"
            "<b>{% block body %}body{% end %}</b>",
            "page.html": '{% extends "base.html" %}ignored'
            "{% block title %}page {{ n }}{% end %}",
            "grand.html": "{% extends 'page.html' %}{% block body %}gb{% end %}",
            "inc.html": "{% include 'part.html' %}|{{ n }}",
            "part.html": "part {{ n }}",
        }
    )
    assert loader.load("page.html").generate(n=1) == b"<t>page 1</t><b>body</b>"
    assert loader.load("grand.html").generate(n=2) == b"<t>page 2</t><b>gb</b>"
    assert loader.load("inc.html").generate(n=3) == b"part 3|3"
    assert loader.load("inc.html") is loader.load("inc.html")
    loader.reset()
    assert loader.templates == {}


def test_extends_without_loader() -> None:
    with pytest.raises(ParseError, match="no template loader"):
        Template("{% extends 'x.html' %}")


def test_relative_paths() -> None:
    loader = DictLoader(
        {
            "a/1.html": "{% include '2.html' %}",
            "a/2.html": "{% include '../b/3.html' %}",
            "b/3.html": "ok",
        }
    )
    assert loader.load("a/1.html").generate() == b"ok"


def test_autoescape_per_file() -> None:
    templates = {
        "esc.html": "{% autoescape xhtml_escape %}{{ v }}",
        "raw.html": "{% autoescape None %}{{ v }}",
        "default.html": "{{ v }}",
        "inc.html": "{% include 'esc.html' %} {% include 'raw.html' %} "
        "{% include 'default.html' %}",
        "raw_block.html": "{% autoescape None %}{% block b %}{{ v }}{% end %}",
        "esc_extends_raw.html": "{% extends 'raw_block.html' %}",
        "esc_overrides_raw.html": "{% extends 'raw_block.html' %}"
        "{% block b %}{{ v }}{% end %}",
    }
    v = "<x>"
    off = DictLoader(templates, autoescape=None)
    assert off.load("inc.html").generate(v=v) == b"&lt;x&gt; <x> <x>"
    on = DictLoader(templates)
    assert on.load("inc.html").generate(v=v) == b"&lt;x&gt; <x> &lt;x&gt;"
    assert on.load("esc_extends_raw.html").generate(v=v) == b"<x>"
    assert on.load("esc_overrides_raw.html").generate(v=v) == b"&lt;x&gt;"


def test_namespace_and_modules() -> None:
    loader = DictLoader(
        {"t.html": "{{ inc(5) }} {% module Thing(1) %}"},
        namespace={"inc": lambda x: x + 1, "_tt_modules": ObjectDict(Thing=lambda n: "<m%d>" % n)},
    )
    assert loader.load("t.html").generate() == b"6 <m1>"


def test_whitespace_modes() -> None:
    assert filter_whitespace("all", " a \n\n b ") == " a \n\n b "
    assert filter_whitespace("single", " a \t\n\n  b ") == " a\nb "
    assert filter_whitespace("oneline", " a \n\n b ") == " a b "
    with pytest.raises(ValueError, match="bogus"):
        filter_whitespace("bogus", "")


def test_whitespace_defaults_and_overrides() -> None:
    templates = {
        "foo.html": "   \n\t\n asdf\t   ",
        "bar.js": " \n\n\n\t qwer     ",
        "baz.txt": "\t    zxcv\n\n",
        "inc.html": "  {% include baz.txt %} \n ",
        "pre.html": "<pre>  a\n\n  b</pre>",
    }
    loader = DictLoader(templates)
    assert loader.load("foo.html").generate() == b"\nasdf "
    assert loader.load("bar.js").generate() == b"\nqwer "
    assert loader.load("baz.txt").generate() == b"\t    zxcv\n\n"
    assert loader.load("inc.html").generate() == b" \t    zxcv\n\n\n"
    assert loader.load("pre.html").generate() == b"<pre>  a\n\n  b</pre>"
    assert DictLoader(templates, whitespace="oneline").load("baz.txt").generate() == b" zxcv "
    assert Template(" a\n\n b", whitespace="single").generate() == b" a\nb"
    assert Template(" a\n\n b", name="x.html", compress_whitespace=False).generate() == b" a\n\n b"
    out = render("{% whitespace oneline %}a \n b{% whitespace all %} \n c")
    assert out == b"a b \n c"


def test_file_loader(tmp_path: Any) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "utf8.html").write_bytes(utf8("H\u00e9llo {% include 'sub/x.html' %}"))
    (tmp_path / "sub" / "x.html").write_text("{% include 'y.html' %}")
    (tmp_path / "sub" / "y.html").write_text("y")
    loader = Loader(str(tmp_path))
    assert loader.root == str(tmp_path)
    assert to_unicode(loader.load("utf8.html").generate()) == "H\u00e9llo y"


def _traceback_of(func: Callable[[], Any]) -> str:
    try:
        func()
    except ZeroDivisionError:
        return traceback.format_exc()
    raise AssertionError("no exception")


def test_traceback_names_template_lines() -> None:
    loader = DictLoader(
        {
            "expr.html": "one\ntwo{{1/0}}\nthree",
            "directive.html": "one\ntwo{% if 1/0 %}{% end %}",
            "a.html": "{% include 'b.html' %}",
            "b.html": "\n{% include 'c.html' %}",
            "c.html": "{{1/0}}",
            "base.html": "{% block b %}{% end %}",
            "sub.html": "{% extends 'base.html' %}\n{% block b %}\n{{1/0}}{% end %}",
        }
    )
    assert "# expr.html:2" in _traceback_of(loader.load("expr.html").generate)
    assert "# directive.html:2" in _traceback_of(loader.load("directive.html").generate)
    assert "# c.html:1 (via b.html:2, a.html:1)" in _traceback_of(loader.load("a.html").generate)
    assert "# sub.html:3 (via base.html:1)" in _traceback_of(loader.load("sub.html").generate)


def test_traceback_with_same_name_templates() -> None:
    # Two different templates share the default name: each traceback must
    # show its own source.
    first = Template("a\n{{ 1/0 }}")
    second = Template("{{ 1/0 }}")
    assert "# <string>:1" in _traceback_of(second.generate)
    assert "# <string>:2" in _traceback_of(first.generate)


def test_code_and_attributes() -> None:
    loader = DictLoader({"x.html": "{{ 1 }}"}, namespace={"a": 1})
    t = loader.load("x.html")
    assert "def _tt_execute():" in t.code
    assert t.name == "x.html" and t.loader is loader
    assert t.namespace == {"a": 1} and t.autoescape == "xhtml_escape"


def test_non_ascii_name() -> None:
    loader = DictLoader({"t\u00e9st.html": "hello"})
    assert loader.load("t\u00e9st.html").generate() == b"hello"


def test_multiline_expression() -> None:
    source = "{{ f(a=1,\n      b=2) }}"
    assert render(source, f=lambda a, b: a + b) == b"3"


def test_manual_minimize_whitespace() -> None:
    loader = DictLoader(
        {"foo.txt": "{% for i in items\n  %}{% if i > 0 %}, {% end %}{#\n  #}{{i\n  }}{% end\n%}"}
    )
    assert loader.load("foo.txt").generate(items=range(5)) == b"0, 1, 2, 3, 4"


def test_invalid_python_is_a_syntax_error(caplog: Any) -> None:
    with pytest.raises(SyntaxError):
        Template("{{ 1 + }}")
    # The generated code is logged to help debugging.
    assert any("_tt_execute" in r.getMessage() for r in caplog.records)


def test_kwargs_override_namespace() -> None:
    loader: Dict[str, str] = {"t.html": "{{ escape }}"}
    out = DictLoader(loader, namespace={"escape": "ns"}).load("t.html").generate(escape="kw")
    assert out == b"kw"
