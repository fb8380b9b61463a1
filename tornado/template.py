"""Templates that compile to Python functions producing bytes.

A template is text with Python embedded in tags.  It is turned into the
source of one Python function once, compiled, and then run as often as
needed with different arguments::

    page = template.Template("<p>Hi {{ user }}</p>")
    page.generate(user="Ann")            # b"<p>Hi Ann</p>"

A `Loader` reads templates from a directory (a `DictLoader` from a dict),
keeps the compiled ones, and resolves the names used by ``{% include %}``
and ``{% extends %}``::

    templates = template.Loader("/srv/app/templates")
    templates.load("home.html").generate(user="Ann")

Web applications rarely do this by hand:
`tornado.web.RequestHandler.render` uses a loader for the application's
``template_path``.

Tags
----

``{{ expression }}``
    The value of a Python expression, passed through the autoescape
    function (`.xhtml_escape` by default).
``{# text #}``
    A comment; produces nothing.
``{{!``, ``{%!``, ``{#!``
    The literal two characters ``{{``, ``{%`` or ``{#``, for output that
    must contain them (client-side templates, for instance).
``{% directive ... %}``
    One of the directives below.  Those that contain a body close it with
    ``{% end %}``.

Directives:

``{% apply f %}...{% end %}``
    Outputs ``f`` applied to the output of the body.  The body runs as a
    separate function: ``{% set %}`` inside it stays local and
    ``{% break %}``/``{% continue %}`` cannot leave it.
``{% autoescape f %}``
    Sets the escape function for expressions of this file (``None`` for
    none), wherever in the file it appears.  Other files keep theirs.
``{% block name %}...{% end %}``
    A replaceable region: a template that ``{% extends %}`` this one may
    give its own version of the block.
``{% comment text %}``
    A comment; produces nothing, needs no ``{% end %}``.
``{% extends "file" %}``
    Renders the named template instead, with this file's blocks in place
    of that template's.  Text outside blocks is ignored.
``{% for x in xs %}``, ``{% while cond %}``, ``{% if cond %}``,
``{% elif cond %}``, ``{% else %}``, ``{% try %}``, ``{% except %}``,
``{% finally %}``, ``{% break %}``, ``{% continue %}``
    Python's control flow, each block closed with ``{% end %}``.
``{% import m %}``, ``{% from m import n %}``
    Python's imports.
``{% include "file" %}``
    Inlines another template, which sees this one's variables.
``{% module expr %}``
    The output of a `tornado.web.UIModule`, looked up as
    ``_tt_modules.expr``; not escaped.
``{% raw expr %}``
    Like ``{{ expr }}`` without escaping.
``{% set x = expr %}``
    Assigns a variable.
``{% whitespace mode %}``
    Changes the whitespace handling (see `filter_whitespace`) from here to
    the end of the file.

Variable names starting with ``_tt_`` belong to the template machinery.

The generated Python code (`Template.code`) carries, on every line, a
comment with the template name and line it came from, followed by the
chain of includes and blocks that led there; tracebacks thus point into
the template.

Builds on `tornado.escape`, `tornado.log` and `tornado.util`.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime
import linecache
import os.path
import posixpath
import re
import threading
import types
from typing import (  # noqa: F401 - ContextManager: historical module namespace
    Any, Callable, ContextManager, Dict, Iterable, Iterator, List, NoReturn, Optional,
    Tuple, Union,
)

from tornado import escape
from tornado.log import app_log
from tornado.util import ObjectDict

_DEFAULT_AUTOESCAPE = "xhtml_escape"


class _UnsetMarker:
    """Type of `_UNSET`, the default that means "argument not given"."""


_UNSET = _UnsetMarker()


# -- Whitespace ---------------------------------------------------------------

_BLANKS = re.compile(r"[\t ]+")
_BLANKS_AROUND_NEWLINE = re.compile(r"\s*\n\s*")
_ANY_WHITESPACE = re.compile(r"\s+")


def _squeeze_single(text: str) -> str:
    return _BLANKS_AROUND_NEWLINE.sub("\n", _BLANKS.sub(" ", text))


def _squeeze_oneline(text: str) -> str:
    return _ANY_WHITESPACE.sub(" ", text)


# mode -> the function applying it (None: leave the text alone)
_WHITESPACE_MODES: Dict[str, Optional[Callable[[str], str]]] = {
    "all": None,
    "single": _squeeze_single,
    "oneline": _squeeze_oneline,
}


def filter_whitespace(mode: str, text: str) -> str:
    """Apply a whitespace handling ``mode`` to the text of a template.

    ``"all"`` leaves ``text`` as it is; ``"single"`` shrinks every run of
    whitespace to one character, a newline when the run contains one and a
    space otherwise; ``"oneline"`` shrinks every run, newlines included, to
    one space.  Any other mode is a `ValueError`.

    .. versionadded:: 4.3
    """
    try:
        squeeze = _WHITESPACE_MODES[mode]
    except KeyError:
        raise ValueError(
            "invalid whitespace mode %r: expected all, single or oneline" % (mode,)
        ) from None
    return text if squeeze is None else squeeze(text)


# -- Turning expression values into output bytes -----------------------------


def _as_utf8(value: Any) -> bytes:
    """An expression's value as bytes: bytes pass, text is UTF-8 encoded,
    anything else goes through ``str`` first."""
    if isinstance(value, bytes):
        return value
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8")


def _html_bytes(value: Any) -> bytes:
    """What ``utf8(xhtml_escape(_as_utf8(value)))`` gives, in one pass and
    without encoding twice.  The hot path of every escaped expression."""
    if value.__class__ is not str:
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        elif not isinstance(value, str):
            value = str(value)
    # "&" goes first so that the entities added next are not re-escaped.
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&quot;").replace("'", "&#x27;").encode("utf-8")
    )


def _escaper_for(function: Any) -> Callable[[Any], bytes]:
    """How the generated code escapes for the name ``xhtml_escape``: the
    fused `_html_bytes` when it is the standard function, else a wrapper
    that feeds it UTF-8 bytes, as autoescape functions expect."""
    if function is escape.xhtml_escape:
        return _html_bytes

    def escape_bytes(value: Any) -> bytes:
        return escape.utf8(function(_as_utf8(value)))

    return escape_bytes


# What every template sees before the loader's namespace and the arguments
# of generate(); the _tt_ names serve the generated code.
_TEMPLATE_GLOBALS: Dict[str, Any] = {
    name: getattr(escape, name)
    for name in ("xhtml_escape", "url_escape", "json_encode", "squeeze", "linkify")
}
_TEMPLATE_GLOBALS.update(
    escape=escape.xhtml_escape, datetime=datetime, __builtins__=builtins,
    _tt_utf8=escape.utf8, _tt_bytes=_as_utf8, _tt_string_types=(str, bytes),
)

# The function every template compiles to.
_ENTRY_POINT = "_tt_execute"


class Template:
    """One compiled template.

    The constructor parses and compiles; `generate` renders.  The Python
    source produced is kept as `code` for inspection.
    """

    def __init__(
        self, template_string: Union[str, bytes], name: str = "<string>",
        loader: Optional["BaseLoader"] = None,
        compress_whitespace: Union[bool, _UnsetMarker] = _UNSET,
        autoescape: Optional[Union[str, _UnsetMarker]] = _UNSET,
        whitespace: Optional[str] = None,
    ) -> None:
        """Parse and compile ``template_string`` (text or UTF-8 bytes).

        :arg str name: how errors, tracebacks and relative paths in
            ``{% include %}``/``{% extends %}`` refer to this template.
        :arg loader: the `BaseLoader` through which included and extended
            templates are found; its settings are the defaults for
            ``autoescape``, ``whitespace`` and the namespace.
        :arg str autoescape: name of the function that escapes expression
            output, or None to escape nothing.
        :arg str whitespace: a `filter_whitespace` mode.  By default the
            loader's, else ``"single"`` for names ending in ``.html`` or
            ``.js`` and ``"all"`` for the rest.
        :arg bool compress_whitespace: deprecated; True means
            ``whitespace="single"``, False ``whitespace="all"``.

        Template syntax errors raise `ParseError`; broken Python inside tags
        raises `SyntaxError`, after logging the generated code.

        .. versionchanged:: 4.3
           ``whitespace`` added, ``compress_whitespace`` deprecated.
        """
        self.name = escape.native_str(name)
        mode = _choose_whitespace(self.name, loader, compress_whitespace, whitespace)
        self.autoescape: Optional[str]
        if isinstance(autoescape, _UnsetMarker):
            self.autoescape = loader.autoescape if loader else _DEFAULT_AUTOESCAPE
        else:
            self.autoescape = autoescape
        self.namespace = loader.namespace if loader else {}
        scanner = _Scanner(self.name, escape.native_str(template_string), mode)
        self.file = _Root(self, _Parser(scanner, self).parse())
        self.code = self._python_source(loader)
        self.loader = loader
        self._source_name = self.name.replace(".", "_") + ".generated.py"
        self.compiled = self._compile()
        self._entry_code = _function_code(self.compiled, _ENTRY_POINT)
        scope = dict(_TEMPLATE_GLOBALS)
        # __name__ and a __loader__ with get_source let linecache (and so
        # tracebacks) show the generated lines with their origin comments.
        scope["__name__"] = self.name.replace(".", "_")
        scope["__loader__"] = ObjectDict(get_source=self._get_source)
        scope.update(self.namespace)
        scope["_tt_xhtml_escape"] = _escaper_for(scope.get("xhtml_escape"))
        self._scope = scope

    def _get_source(self, name: str) -> str:
        return self.code

    def _compile(self) -> types.CodeType:
        try:
            # dont_inherit: __future__ imports of this module stay out of
            # the template's code.
            return compile(
                escape.to_unicode(self.code), self._source_name, "exec", dont_inherit=True
            )
        except Exception:
            app_log.error("%s code:\n%s", self.name, _numbered(self.code).rstrip())
            raise

    def generate(self, **kwargs: Any) -> bytes:
        """Render with ``kwargs`` added to the template's names; returns bytes."""
        return self._generate_with(kwargs)

    def _generate_with(self, names: Dict[str, Any]) -> bytes:
        # generate() with the names in a dict, for callers that already
        # have one (tornado.web renders with a namespace of a dozen names,
        # which a ** call would copy once more).  ``names`` is not kept.
        scope = {**self._scope, **names}
        if "xhtml_escape" in names:
            scope["_tt_xhtml_escape"] = _escaper_for(names["xhtml_escape"])
        # linecache may still hold the source of an earlier template that
        # had the same name; a traceback from this run must show ours.
        linecache.cache.pop(self._source_name, None)
        render = types.FunctionType(self._entry_code, scope, _ENTRY_POINT)
        return render()  # type: ignore[no-any-return]

    def _lineage(self, loader: Optional["BaseLoader"]) -> List["_Root"]:
        """This template's tree, then those of the templates it extends,
        nearest first."""
        lineage = [self.file]
        for node in self.file.body.nodes:
            if not isinstance(node, _Inherit):
                continue
            if not loader:
                raise ParseError("{% extends %} block found, but no template loader")
            lineage += loader.load(node.name, self.name)._lineage(loader)
        return lineage

    def _python_source(self, loader: Optional["BaseLoader"]) -> str:
        lineage = self._lineage(loader)
        # Collect blocks from the most distant ancestor inwards, so that the
        # nearest definition of each block is the one that stays.
        blocks: Dict[str, _Slot] = {}
        for tree in reversed(lineage):
            tree.collect_blocks(loader, blocks)
        base = lineage[-1]
        emitter = _Emitter(blocks, loader, base.template)
        base.emit(emitter)
        return emitter.source()


def _choose_whitespace(name: str, loader: Optional["BaseLoader"],
                       compress: Union[bool, _UnsetMarker], mode: Optional[str]) -> str:
    """The whitespace mode a new template uses (see `Template`)."""
    if not isinstance(compress, _UnsetMarker):
        if mode is not None:
            raise Exception("cannot set both whitespace and compress_whitespace")
        mode = "single" if compress else "all"
    if mode is None:
        if loader and loader.whitespace:
            mode = loader.whitespace
        else:
            mode = "single" if name.endswith((".html", ".js")) else "all"
    filter_whitespace(mode, "")  # an unknown mode fails here, not mid-render
    return mode


def _function_code(module_code: types.CodeType, name: str) -> types.CodeType:
    for constant in module_code.co_consts:
        if isinstance(constant, types.CodeType) and constant.co_name == name:
            return constant
    raise AssertionError("generated code lacks %s" % name)


def _numbered(code: str) -> str:
    """``code`` with right-aligned line numbers, for the error log."""
    rows = code.splitlines()
    width = len(str(len(rows)))
    return "".join("%s  %s\n" % (str(n).rjust(width), row) for n, row in enumerate(rows, 1))


# -- Loaders ------------------------------------------------------------------


class BaseLoader:
    """Finds templates by name, compiles each once and keeps it.

    One loader should serve all of an application's templates, or the
    cache does little.  Subclasses say how names map to sources by
    implementing `resolve_path` and ``_create_template``.
    """

    def __init__(
        self, autoescape: Optional[str] = _DEFAULT_AUTOESCAPE,
        namespace: Optional[Dict[str, Any]] = None, whitespace: Optional[str] = None,
    ) -> None:
        """Set the defaults of the templates this loader creates.

        :arg str autoescape: name of the escape function for expressions
            (``"xhtml_escape"``), or None to escape nothing.
        :arg dict namespace: extra names visible in every template.
        :arg str whitespace: a `filter_whitespace` mode; None leaves it to
            each template's file name (see `Template`).

        .. versionchanged:: 4.3
           ``whitespace`` added.
        """
        self.autoescape, self.whitespace = autoescape, whitespace
        self.namespace = namespace or {}
        self.templates: Dict[str, Template] = {}
        # Re-entrant: compiling one template loads those it includes or
        # extends through the same loader, in the same thread.
        self.lock = threading.RLock()

    def reset(self) -> None:
        """Drop every compiled template, so that each is read again."""
        with self.lock:
            self.templates = {}

    def resolve_path(self, name: str, parent_path: Optional[str] = None) -> str:
        """The cache key of ``name`` as written in template ``parent_path``."""
        raise NotImplementedError()

    def load(self, name: str, parent_path: Optional[str] = None) -> Template:
        """The compiled template ``name`` (relative to ``parent_path``)."""
        key = self.resolve_path(name, parent_path=parent_path)
        # Rendering calls this every time: skip the lock when cached.
        cached = self.templates.get(key)
        if cached is not None:
            return cached
        with self.lock:
            cached = self.templates.get(key)
            if cached is None:
                cached = self._create_template(key)
                self.templates[key] = cached
            return cached

    def _create_template(self, name: str) -> Template:
        raise NotImplementedError()


def _follows_parent(name: str, parent_path: Optional[str]) -> bool:
    """Whether ``name`` is relative to the template ``parent_path``: neither
    is absolute, and the parent is a real name (not like ``<string>``)."""
    if not parent_path or name.startswith("/"):
        return False
    return parent_path[0] not in "</"


class Loader(BaseLoader):
    """Loads templates from files below ``root_directory``."""

    def __init__(self, root_directory: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = os.path.abspath(root_directory)

    def resolve_path(self, name: str, parent_path: Optional[str] = None) -> str:
        if not _follows_parent(name, parent_path):
            return name
        parent_file = os.path.abspath(os.path.join(self.root, parent_path))  # type: ignore[arg-type]
        target = os.path.abspath(os.path.join(os.path.dirname(parent_file), name))
        # Inside the root the key is the path below it; a name that climbs
        # out of the root is left as written.
        if not target.startswith(self.root):
            return name
        return target[len(self.root) + 1 :]

    def _create_template(self, name: str) -> Template:
        with open(os.path.join(self.root, name), "rb") as source:
            text = source.read()
        return Template(text, name=name, loader=self)


class DictLoader(BaseLoader):
    """Loads templates from a dict that maps names to sources."""

    def __init__(self, dict: Dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dict = dict

    def resolve_path(self, name: str, parent_path: Optional[str] = None) -> str:
        if _follows_parent(name, parent_path):
            folder = posixpath.dirname(parent_path)  # type: ignore[type-var]
            name = posixpath.normpath(posixpath.join(folder, name))
        return name

    def _create_template(self, name: str) -> Template:
        return Template(self.dict[name], name=name, loader=self)


# -- Errors -------------------------------------------------------------------


class ParseError(Exception):
    """A template that is not valid template syntax.

    ``filename`` and ``lineno`` (named as in `SyntaxError`) locate the
    problem.

    .. versionchanged:: 4.3
       ``filename`` and ``lineno`` added.
    """

    def __init__(self, message: str, filename: Optional[str] = None, lineno: int = 0) -> None:
        super().__init__(message)
        self.message, self.filename, self.lineno = message, filename, lineno

    def __str__(self) -> str:
        return "%s at %s:%d" % (self.message, self.filename, self.lineno)


# -- Code generation ----------------------------------------------------------


class _Emitter:
    """Collects the lines of generated Python.

    Each line is indented to the current depth and ends with a comment
    naming its origin: the template being emitted and its line, then the
    places (innermost first) where that template was included or its
    block used.
    """

    def __init__(self, blocks: Dict[str, "_Slot"], loader: Optional[BaseLoader],
                 template: Template) -> None:
        self.blocks = blocks
        self.loader = loader
        self.template = template  # whose name and autoescape apply now
        self.depth = 0
        self._lines: List[str] = []
        self._outer: List[Tuple[Template, int]] = []
        self._via = ""
        self._helpers = 0

    def line(self, code: str, lineno: int, depth: Optional[int] = None) -> None:
        level = self.depth if depth is None else depth
        self._lines.append(
            "%s%s  # %s:%d%s" % ("    " * level, code, self.template.name, lineno, self._via)
        )

    @contextlib.contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    @contextlib.contextmanager
    def within(self, template: Template, lineno: int) -> Iterator[None]:
        """Emit another template's nodes, reached from line ``lineno``."""
        self._outer.append((self.template, lineno))
        self.template = template
        self._update_via()
        try:
            yield
        finally:
            self.template = self._outer.pop()[0]
            self._update_via()

    def _update_via(self) -> None:
        trail = ", ".join("%s:%d" % (t.name, n) for t, n in reversed(self._outer))
        self._via = " (via %s)" % trail if trail else ""

    def helper_name(self) -> str:
        """A fresh name for a nested function of the generated code."""
        name = "_tt_apply%d" % self._helpers
        self._helpers += 1
        return name

    def source(self) -> str:
        return "\n".join(self._lines) + "\n"


def _emit_function(out: _Emitter, name: str, body: "_Node", lineno: int) -> None:
    """A generated function that runs ``body`` and returns its output."""
    out.line("def %s():" % name, lineno)
    with out.nested():
        out.line("_tt_buffer = []", lineno)
        out.line("_tt_append = _tt_buffer.append", lineno)
        body.emit(out)
        out.line("return b''.join(_tt_buffer)", lineno)


# -- The parse tree -----------------------------------------------------------


class _Node:
    """A piece of a parsed template."""

    __slots__ = ()

    def children(self) -> Iterable["_Node"]:
        return ()

    def emit(self, out: _Emitter) -> None:
        raise NotImplementedError()

    def collect_blocks(self, loader: Optional[BaseLoader], table: Dict[str, "_Slot"]) -> None:
        """Record in ``table`` every ``{% block %}`` reachable from here."""
        for child in self.children():
            child.collect_blocks(loader, table)


class _Body(_Node):
    __slots__ = ("nodes",)

    def __init__(self, nodes: List[_Node]) -> None:
        self.nodes = nodes

    def children(self) -> Iterable[_Node]:
        return self.nodes

    def emit(self, out: _Emitter) -> None:
        for node in self.nodes:
            node.emit(out)


class _Root(_Node):
    """A whole template file; emitted as the entry function."""

    __slots__ = ("template", "body", "line")

    def __init__(self, template: Template, body: _Body) -> None:
        self.template, self.body, self.line = template, body, 0

    def children(self) -> Iterable[_Node]:
        return (self.body,)

    def emit(self, out: _Emitter) -> None:
        _emit_function(out, _ENTRY_POINT, self.body, self.line)


class _Literal(_Node):
    """Text between tags, written out after whitespace handling."""

    __slots__ = ("text", "line", "whitespace")

    def __init__(self, text: str, line: int, whitespace: str) -> None:
        self.text, self.line, self.whitespace = text, line, whitespace

    def emit(self, out: _Emitter) -> None:
        text = self.text
        # Spacing inside <pre> matters: such a chunk is kept verbatim.
        if "<pre>" not in text:
            text = filter_whitespace(self.whitespace, text)
        if text:
            out.line("_tt_append(%r)" % text.encode("utf-8"), self.line)


class _Output(_Node):
    """``{{ expr }}``, ``{% raw expr %}`` or ``{% module expr %}``."""

    __slots__ = ("expression", "line", "raw")

    def __init__(self, expression: str, line: int, raw: bool = False) -> None:
        self.expression, self.line, self.raw = expression, line, raw

    def emit(self, out: _Emitter) -> None:
        # A statement of its own, so that the expression may span lines or
        # end in a comment.
        out.line("_tt_tmp = " + self.expression, self.line)
        escaper = None if self.raw else out.template.autoescape
        if escaper is None:
            converted = "_tt_bytes(_tt_tmp)"
        elif escaper == "xhtml_escape":
            # Bound per render; see _escaper_for.
            converted = "_tt_xhtml_escape(_tt_tmp)"
        else:
            # Escape functions take UTF-8 bytes and may return text or bytes.
            converted = "_tt_utf8(%s(_tt_bytes(_tt_tmp)))" % escaper
        out.line("_tt_append(%s)" % converted, self.line)


class _Code(_Node):
    """A Python statement copied into the output function."""

    __slots__ = ("statement", "line")

    def __init__(self, statement: str, line: int) -> None:
        self.statement, self.line = statement, line

    def emit(self, out: _Emitter) -> None:
        out.line(self.statement, self.line)


class _Compound(_Node):
    """``if``/``for``/``while``/``try`` with its body (clauses included)."""

    __slots__ = ("header", "line", "body")

    def __init__(self, header: str, line: int, body: _Body) -> None:
        self.header, self.line, self.body = header, line, body

    def children(self) -> Iterable[_Node]:
        return (self.body,)

    def emit(self, out: _Emitter) -> None:
        out.line(self.header + ":", self.line)
        with out.nested():
            # "pass" keeps an empty body valid Python.
            out.line("pass", self.line)
            self.body.emit(out)


class _Clause(_Node):
    """``else``/``elif``/``except``/``finally`` inside a `_Compound` body."""

    __slots__ = ("header", "line")

    def __init__(self, header: str, line: int) -> None:
        self.header, self.line = header, line

    def emit(self, out: _Emitter) -> None:
        # Dedented to the level of the compound statement's own header.
        out.line(self.header + ":", self.line, out.depth - 1)
        out.line("pass", self.line)


class _Wrap(_Node):
    """``{% apply f %}``: the body becomes a helper function."""

    __slots__ = ("function", "line", "body")

    def __init__(self, function: str, line: int, body: _Body) -> None:
        self.function, self.line, self.body = function, line, body

    def children(self) -> Iterable[_Node]:
        return (self.body,)

    def emit(self, out: _Emitter) -> None:
        helper = out.helper_name()
        _emit_function(out, helper, self.body, self.line)
        out.line("_tt_append(_tt_utf8(%s(%s())))" % (self.function, helper), self.line)


class _Slot(_Node):
    """``{% block name %}``; what is emitted is the nearest definition."""

    __slots__ = ("name", "body", "template", "line")

    def __init__(self, name: str, body: _Body, template: Template, line: int) -> None:
        self.name, self.body, self.template, self.line = name, body, template, line

    def children(self) -> Iterable[_Node]:
        return (self.body,)

    def collect_blocks(self, loader: Optional[BaseLoader], table: Dict[str, "_Slot"]) -> None:
        table[self.name] = self
        self.body.collect_blocks(loader, table)

    def emit(self, out: _Emitter) -> None:
        chosen = out.blocks[self.name]
        # The block's code follows the rules (autoescape, name) of the
        # template that defined it.
        with out.within(chosen.template, self.line):
            chosen.body.emit(out)


class _Inherit(_Node):
    """``{% extends %}``; acted upon by `Template._lineage`, emits nothing."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def emit(self, out: _Emitter) -> None:
        return None


class _Splice(_Node):
    """``{% include %}``: another template's body emitted in place."""

    __slots__ = ("name", "parent", "line")

    def __init__(self, name: str, parent: str, line: int) -> None:
        self.name, self.parent, self.line = name, parent, line

    def _target(self, loader: Optional[BaseLoader]) -> Template:
        assert loader is not None
        return loader.load(self.name, self.parent)

    def collect_blocks(self, loader: Optional[BaseLoader], table: Dict[str, "_Slot"]) -> None:
        self._target(loader).file.collect_blocks(loader, table)

    def emit(self, out: _Emitter) -> None:
        included = self._target(out.loader)
        with out.within(included, self.line):
            included.file.body.emit(out)


# -- Parsing ------------------------------------------------------------------


class _Scanner:
    """The template text, a cursor into it, and the cursor's line number."""

    __slots__ = ("name", "text", "pos", "line", "whitespace")

    def __init__(self, name: str, text: str, whitespace: str) -> None:
        self.name, self.text, self.whitespace = name, text, whitespace
        self.pos, self.line = 0, 1

    def next_tag(self) -> int:
        """Where the next ``{{``, ``{%`` or ``{#`` starts; -1 if none does."""
        text = self.text
        size = len(text)
        brace = text.find("{", self.pos)
        while brace != -1 and brace + 1 < size:
            follower = text[brace + 1]
            if follower in "{%#":
                # In "{{{" the tag is opened by the last two braces, so that
                # a brace may stand right before an expression (LaTeX).
                if follower != "{" or brace + 2 >= size or text[brace + 2] != "{":
                    return brace
            brace = text.find("{", brace + 1)
        return -1

    def find(self, needle: str) -> int:
        return self.text.find(needle, self.pos)

    def take(self, end: int) -> str:
        """The text from the cursor up to ``end``; the cursor moves there."""
        start = self.pos
        self.line += self.text.count("\n", start, end)
        self.pos = end
        return self.text[start:end]

    def skip(self, count: int) -> str:
        return self.take(self.pos + count)

    def fail(self, message: str) -> NoReturn:
        raise ParseError(message, self.name, self.line)


# Continuation clauses, each with the blocks it may belong to.
_CLAUSE_OWNERS = {
    "else": ("for", "if", "try", "while"),
    "elif": ("if",),
    "except": ("try",),
    "finally": ("try",),
}
_LOOPS = ("for", "while")
_END = object()  # returned by the {% end %} handler


class _Tag:
    """A ``{% ... %}`` directive as written: operator, argument, position."""

    __slots__ = ("operator", "argument", "source", "line")

    def __init__(self, source: str, line: int) -> None:
        operator, _, argument = source.partition(" ")
        self.operator, self.argument = operator, argument.strip()
        self.source, self.line = source, line


class _Parser:
    """Builds the tree of one template from its `_Scanner`."""

    def __init__(self, scanner: _Scanner, template: Template) -> None:
        self.scanner = scanner
        self.template = template

    def parse(self) -> _Body:
        return self._sequence(None, None)

    def _sequence(self, opener: Optional[str], loop: Optional[str]) -> _Body:
        """Nodes up to the end of the text (``opener`` None) or to the
        ``{% end %}`` that closes ``opener``.  ``loop`` is the innermost
        loop that ``{% break %}`` could leave, if any."""
        scan = self.scanner
        nodes: List[_Node] = []
        while True:
            start = scan.next_tag()
            if start == -1:
                if opener:
                    scan.fail("Missing {%% end %%} block for %s" % opener)
                nodes.append(self._literal(len(scan.text)))
                return _Body(nodes)
            if start > scan.pos:
                nodes.append(self._literal(start))
            opening = scan.skip(2)
            line = scan.line
            if scan.text.startswith("!", scan.pos):
                scan.skip(1)
                nodes.append(_Literal(opening, line, scan.whitespace))
            elif opening == "{#":
                self._close(scan.find("#}"), "Missing end comment #}")
            elif opening == "{{":
                nodes.append(self._expression(line))
            else:
                node = self._directive(line, opener, loop)
                if node is _END:
                    return _Body(nodes)
                if node is not None:
                    nodes.append(node)

    def _literal(self, end: int) -> _Literal:
        line = self.scanner.line
        return _Literal(self.scanner.take(end), line, self.scanner.whitespace)

    def _close(self, end: int, missing: str) -> str:
        """The stripped tag contents up to ``end``; skips the closer too."""
        if end == -1:
            self.scanner.fail(missing)
        contents = self.scanner.take(end).strip()
        self.scanner.skip(2)
        return contents

    def _expression(self, line: int) -> _Output:
        contents = self._close(self.scanner.find("}}"), "Missing end expression }}")
        if not contents:
            self.scanner.fail("Empty expression")
        return _Output(contents, line)

    def _directive(self, line: int, opener: Optional[str], loop: Optional[str]) -> Any:
        contents = self._close(self.scanner.find("%}"), "Missing end block %}")
        if not contents:
            self.scanner.fail("Empty block tag ({% %})")
        tag = _Tag(contents, line)
        handler = _DIRECTIVES.get(tag.operator)
        if handler is None:
            self.scanner.fail("unknown operator: %r" % tag.operator)
        return handler(self, tag, opener, loop)

    def _require(self, tag: _Tag, problem: str) -> str:
        if not tag.argument:
            self.scanner.fail(problem)
        return tag.argument

    # Directive handlers: a node to add, None for nothing, or _END.

    def _clause(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> _Node:
        owners = _CLAUSE_OWNERS[tag.operator]
        if not opener:
            self.scanner.fail("%s outside %s block" % (tag.operator, " or ".join(owners)))
        if opener not in owners:
            self.scanner.fail(
                "%s block cannot be attached to %s block" % (tag.operator, opener)
            )
        return _Clause(tag.source, tag.line)

    def _end(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> object:
        if not opener:
            self.scanner.fail("Extra {% end %} block")
        return _END

    def _nothing(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> None:
        return None

    def _file_path(self, tag: _Tag) -> str:
        path = tag.argument.strip('"').strip("'")
        if not path:
            self.scanner.fail("%s missing file path" % tag.operator)
        return path

    def _extends(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> _Node:
        return _Inherit(self._file_path(tag))

    def _include(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> _Node:
        return _Splice(self._file_path(tag), self.scanner.name, tag.line)

    def _import(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> _Node:
        self._require(tag, "import missing statement")
        return _Code(tag.source, tag.line)

    def _set(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> _Node:
        return _Code(self._require(tag, "set missing statement"), tag.line)

    def _autoescape(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> None:
        self.template.autoescape = None if tag.argument == "None" else tag.argument

    def _whitespace(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> None:
        filter_whitespace(tag.argument, "")  # rejects an unknown mode
        self.scanner.whitespace = tag.argument

    def _raw(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> _Node:
        return _Output(tag.argument, tag.line, raw=True)

    def _module(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> _Node:
        return _Output("_tt_modules." + tag.argument, tag.line, raw=True)

    def _apply(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> _Node:
        # The body becomes a function of its own: no loop to break out of.
        body = self._sequence("apply", None)
        return _Wrap(self._require(tag, "apply missing method name"), tag.line, body)

    def _block(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> _Node:
        body = self._sequence("block", loop)
        name = self._require(tag, "block missing name")
        return _Slot(name, body, self.template, tag.line)

    def _compound(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> _Node:
        inner_loop = tag.operator if tag.operator in _LOOPS else loop
        return _Compound(tag.source, tag.line, self._sequence(tag.operator, inner_loop))

    def _loop_exit(self, tag: _Tag, opener: Optional[str], loop: Optional[str]) -> _Node:
        if not loop:
            self.scanner.fail("%s outside %s block" % (tag.operator, " or ".join(_LOOPS)))
        return _Code(tag.source, tag.line)


_Handler = Callable[[_Parser, _Tag, Optional[str], Optional[str]], Any]
_DIRECTIVES: Dict[str, _Handler] = {
    "end": _Parser._end,
    "comment": _Parser._nothing,
    "extends": _Parser._extends,
    "include": _Parser._include,
    "import": _Parser._import,
    "from": _Parser._import,
    "set": _Parser._set,
    "autoescape": _Parser._autoescape,
    "whitespace": _Parser._whitespace,
    "raw": _Parser._raw,
    "module": _Parser._module,
    "apply": _Parser._apply,
    "block": _Parser._block,
    "break": _Parser._loop_exit,
    "continue": _Parser._loop_exit,
}
_DIRECTIVES.update(dict.fromkeys(_CLAUSE_OWNERS, _Parser._clause))
_DIRECTIVES.update(dict.fromkeys(("if", "for", "while", "try"), _Parser._compound))
