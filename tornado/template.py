"""A template language that compiles templates to Python code.

Basic use::

    t = template.Template("<html>{{ myvalue }}</html>")
    print(t.generate(myvalue="XXX"))

`Loader` loads templates from a directory and caches the compiled result::

    loader = template.Loader("/home/btaylor")
    print(loader.load("test.html").generate(myvalue="XXX"))

Applications usually go through `tornado.web.RequestHandler.render` instead,
which uses a loader for the ``template_path`` setting.

Syntax
------

``{{ expression }}`` outputs the value of any Python expression, escaped by
the current autoescape function (`.xhtml_escape` unless configured
otherwise).  ``{% directive %}`` tags control the output; ``{# ... #}`` is a
comment.  Write ``{{!``, ``{%!`` or ``{#!`` to output a literal ``{{``,
``{%`` or ``{#``.

Directives (blocks end with ``{% end %}``):

``{% apply function %}...{% end %}``
    Output ``function`` applied to the output of the body.  The body is
    compiled into a nested function, so ``{% set %}``, ``{% break %}`` and
    ``{% continue %}`` do not reach out of it.
``{% autoescape function %}``
    The escape function for this file (``None`` to turn escaping off).
    Included and extended files keep their own setting.
``{% block name %}...{% end %}``
    A named block that a template which ``{% extends %}`` this one may
    replace.
``{% comment ... %}``
    A comment (no ``{% end %}``).
``{% extends filename %}``
    Inherit from another template: its output is used, with the blocks this
    template defines replacing the parent's.  Content outside blocks is
    ignored.
``{% for var in expr %}...{% end %}``, ``{% while condition %}...{% end %}``
    Loops, as in Python, with ``{% break %}`` and ``{% continue %}``.
``{% from x import y %}``, ``{% import module %}``
    Python imports.
``{% if cond %}...{% elif cond %}...{% else %}...{% end %}``
    Conditionals, as in Python.
``{% include filename %}``
    The output of another template, compiled inline with the current
    namespace.
``{% module expr %}``
    Output a `tornado.web.UIModule` (``_tt_modules.expr``), unescaped.
``{% raw expr %}``
    Output an expression without autoescaping.
``{% set x = y %}``
    Set a local variable.
``{% try %}...{% except %}...{% else %}...{% finally %}...{% end %}``
    Exception handling, as in Python.
``{% whitespace mode %}``
    The whitespace mode (see `filter_whitespace`) for the rest of the file.

Names starting with ``_tt_`` are reserved for the template system.

Each template compiles to the Python source of a function named
``_tt_execute``; every generated line ends with a comment naming the
template file and line it came from (and the includes it came through), so
tracebacks point at the template.

This module builds on `tornado.escape`, `tornado.log` and `tornado.util`.
"""

import builtins
import contextlib
import datetime
import linecache
import os.path
import posixpath
import re
import threading
import types
from io import StringIO
from typing import (
    Any,
    Callable,
    ContextManager,  # noqa: F401 - part of this module's historical namespace
    Dict,
    Iterable,
    Iterator,
    List,
    NoReturn,
    Optional,
    TextIO,
    Tuple,
    Union,
)

from tornado import escape
from tornado.log import app_log
from tornado.util import ObjectDict

_DEFAULT_AUTOESCAPE = "xhtml_escape"


class _UnsetMarker:
    pass


_UNSET = _UnsetMarker()

_SPACES_RE = re.compile(r"[\t ]+")
_NEWLINE_RUN_RE = re.compile(r"\s*\n\s*")
_WHITESPACE_RE = re.compile(r"\s+")


def filter_whitespace(mode: str, text: str) -> str:
    """Transform the whitespace in ``text`` according to ``mode``.

    Modes:

    * ``all``: keep all whitespace unchanged.
    * ``single``: collapse each run of whitespace to one character, keeping
      a newline if the run has one.
    * ``oneline``: collapse each run of whitespace, newlines included, to
      one space.

    Raises an `Exception` for any other mode.

    .. versionadded:: 4.3
    """
    if mode == "all":
        return text
    if mode == "single":
        text = _SPACES_RE.sub(" ", text)
        return _NEWLINE_RUN_RE.sub("\n", text)
    if mode == "oneline":
        return _WHITESPACE_RE.sub(" ", text)
    raise ValueError("invalid whitespace mode %r: expected all, single or oneline" % mode)


def _to_bytes(value: Any) -> bytes:
    """Turn an expression's value into bytes: strings are UTF-8 encoded,
    anything else is converted with ``str`` first."""
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        value = str(value)
    return value.encode("utf-8")


def _xhtml_escape_to_bytes(value: Any) -> bytes:
    """``utf8(xhtml_escape(_to_bytes(value)))`` without the round trip
    through bytes."""
    if value.__class__ is not str:
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        elif not isinstance(value, str):
            value = str(value)
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
        .encode("utf-8")
    )


def _custom_escape_to_bytes(function: Any) -> Callable[[Any], bytes]:
    """Apply an escape function as autoescape does: UTF-8 bytes in, bytes
    (or str, encoded) out."""

    def escape_to_bytes(value: Any) -> bytes:
        return escape.utf8(function(_to_bytes(value)))

    return escape_to_bytes


# Names every template can use, before the loader's namespace and the
# arguments of generate().
_BASE_NAMESPACE: Dict[str, Any] = {
    "escape": escape.xhtml_escape,
    "xhtml_escape": escape.xhtml_escape,
    "url_escape": escape.url_escape,
    "json_encode": escape.json_encode,
    "squeeze": escape.squeeze,
    "linkify": escape.linkify,
    "datetime": datetime,
    "_tt_utf8": escape.utf8,
    "_tt_string_types": (str, bytes),
    "_tt_bytes": _to_bytes,
    "__builtins__": builtins,
}


class Template:
    """A compiled template.

    Compiling happens in the constructor; `generate` runs the template with
    the given arguments and returns the output as bytes.
    """

    # The Python source is kept in ``code`` (useful for debugging), the
    # compiled module in ``compiled``.

    def __init__(
        self,
        template_string: Union[str, bytes],
        name: str = "<string>",
        loader: Optional["BaseLoader"] = None,
        compress_whitespace: Union[bool, _UnsetMarker] = _UNSET,
        autoescape: Optional[Union[str, _UnsetMarker]] = _UNSET,
        whitespace: Optional[str] = None,
    ) -> None:
        """Compile a template.

        :arg str template_string: the template source (str or UTF-8 bytes).
        :arg str name: the template's name, used in error messages and for
            relative includes; files ending in ``.html`` or ``.js`` default
            to ``single`` whitespace mode, others to ``all``.
        :arg loader: the `BaseLoader` that loads the templates this one
            includes or extends; also supplies defaults for ``autoescape``,
            ``whitespace`` and the namespace.
        :arg str autoescape: the name of the escape function for
            expressions, or None for no escaping.
        :arg str whitespace: the whitespace mode (see `filter_whitespace`).

        Raises `ParseError` for syntax errors in the template and
        `SyntaxError` for invalid Python in it.

        .. versionchanged:: 4.3
           Added ``whitespace``; deprecated ``compress_whitespace``.
        """
        self.name = escape.native_str(name)

        if compress_whitespace is not _UNSET:
            # Deprecated spelling: True meant "single", False "all".
            if whitespace is not None:
                raise Exception("cannot set both whitespace and compress_whitespace")
            whitespace = "single" if compress_whitespace else "all"
        if whitespace is None:
            if loader and loader.whitespace:
                whitespace = loader.whitespace
            elif self.name.endswith((".html", ".js")):
                whitespace = "single"
            else:
                whitespace = "all"
        # Fail early on a bad mode rather than at the first text chunk.
        filter_whitespace(whitespace, "")

        if not isinstance(autoescape, _UnsetMarker):
            self.autoescape: Optional[str] = autoescape
        elif loader:
            self.autoescape = loader.autoescape
        else:
            self.autoescape = _DEFAULT_AUTOESCAPE

        self.namespace = loader.namespace if loader else {}
        reader = _TemplateReader(self.name, escape.native_str(template_string), whitespace)
        self.file = _File(self, _parse(reader, self))
        self.code = self._generate_python(loader)
        self.loader = loader
        self._filename = "%s.generated.py" % self.name.replace(".", "_")
        try:
            # dont_inherit: this module's __future__ flags must not leak
            # into templates.
            self.compiled = compile(
                escape.to_unicode(self.code), self._filename, "exec", dont_inherit=True
            )
        except Exception:
            app_log.error("%s code:\n%s", self.name, _format_code(self.code).rstrip())
            raise
        self._function_code = next(
            c
            for c in self.compiled.co_consts
            if isinstance(c, types.CodeType) and c.co_name == "_tt_execute"
        )
        self._namespace = dict(_BASE_NAMESPACE)
        self._namespace["__name__"] = self.name.replace(".", "_")
        # linecache asks __loader__ for the generated source when a
        # traceback goes through the template.
        self._namespace["__loader__"] = ObjectDict(get_source=self._get_source)
        self._namespace.update(self.namespace)

    def _get_source(self, name: str) -> str:
        return self.code

    def generate(self, **kwargs: Any) -> bytes:
        """Run the template with ``kwargs`` as its namespace; return bytes."""
        namespace = self._namespace.copy()
        namespace.update(kwargs)
        escape_function = namespace.get("xhtml_escape")
        if escape_function is escape.xhtml_escape:
            namespace["_tt_xhtml_escape"] = _xhtml_escape_to_bytes
        else:
            namespace["_tt_xhtml_escape"] = _custom_escape_to_bytes(escape_function)
        # Another template of the same name may have left its source in
        # linecache; tracebacks from this run must show this one's.
        linecache.cache.pop(self._filename, None)
        execute = types.FunctionType(self._function_code, namespace, "_tt_execute")
        return execute()

    def _generate_python(self, loader: Optional["BaseLoader"]) -> str:
        buffer = StringIO()
        try:
            # Blocks of the most derived template win: walk from the root
            # ancestor down, letting each level override.
            ancestors = self._get_ancestors(loader)
            ancestors.reverse()
            named_blocks: Dict[str, _NamedBlock] = {}
            for ancestor in ancestors:
                ancestor.find_named_blocks(loader, named_blocks)
            writer = _CodeWriter(buffer, named_blocks, loader, ancestors[0].template)
            ancestors[0].generate(writer)
            return buffer.getvalue()
        finally:
            buffer.close()

    def _get_ancestors(self, loader: Optional["BaseLoader"]) -> List["_File"]:
        ancestors = [self.file]
        for chunk in self.file.body.chunks:
            if isinstance(chunk, _ExtendsBlock):
                if not loader:
                    raise ParseError(
                        "{% extends %} block found, but no template loader"
                    )
                template = loader.load(chunk.name, self.name)
                ancestors.extend(template._get_ancestors(loader))
        return ancestors


class BaseLoader:
    """Base class for template loaders.

    A loader caches compiled templates by name and resolves relative names
    in ``{% include %}`` and ``{% extends %}``.  Use a single loader for
    all the templates of an application: that is what makes the cache
    useful.  Subclasses implement `resolve_path` and ``_create_template``.
    """

    def __init__(
        self,
        autoescape: Optional[str] = _DEFAULT_AUTOESCAPE,
        namespace: Optional[Dict[str, Any]] = None,
        whitespace: Optional[str] = None,
    ) -> None:
        """Construct a template loader.

        :arg str autoescape: the name of the escape function templates use
            by default (e.g. ``"xhtml_escape"``), or None for no escaping.
        :arg dict namespace: names available to every template loaded.
        :arg str whitespace: the default whitespace mode; if None it
            depends on each template's file name (see `Template`).

        .. versionchanged:: 4.3
           Added ``whitespace``.
        """
        self.autoescape = autoescape
        self.namespace = namespace or {}
        self.whitespace = whitespace
        self.templates: Dict[str, Template] = {}
        # Reentrant: compiling a template loads the ones it includes or
        # extends through this same loader.
        self.lock = threading.RLock()

    def reset(self) -> None:
        """Forget all compiled templates."""
        with self.lock:
            self.templates = {}

    def resolve_path(self, name: str, parent_path: Optional[str] = None) -> str:
        """Turn a name relative to ``parent_path`` into a loader-level name."""
        raise NotImplementedError()

    def load(self, name: str, parent_path: Optional[str] = None) -> Template:
        """Return the compiled template ``name`` (relative to ``parent_path``)."""
        name = self.resolve_path(name, parent_path=parent_path)
        with self.lock:
            template = self.templates.get(name)
            if template is None:
                template = self.templates[name] = self._create_template(name)
            return template

    def _create_template(self, name: str) -> Template:
        raise NotImplementedError()


def _is_relative_to_parent(name: str, parent_path: Optional[str]) -> bool:
    return bool(
        parent_path
        and not parent_path.startswith("<")
        and not parent_path.startswith("/")
        and not name.startswith("/")
    )


class Loader(BaseLoader):
    """A template loader that reads files under a root directory."""

    def __init__(self, root_directory: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = os.path.abspath(root_directory)

    def resolve_path(self, name: str, parent_path: Optional[str] = None) -> str:
        if _is_relative_to_parent(name, parent_path):
            assert parent_path is not None
            current_path = os.path.join(self.root, parent_path)
            file_dir = os.path.dirname(os.path.abspath(current_path))
            relative_path = os.path.abspath(os.path.join(file_dir, name))
            # A relative name that leaves the root stays as it was.
            if relative_path.startswith(self.root):
                name = relative_path[len(self.root) + 1 :]
        return name

    def _create_template(self, name: str) -> Template:
        path = os.path.join(self.root, name)
        with open(path, "rb") as f:
            return Template(f.read(), name=name, loader=self)


class DictLoader(BaseLoader):
    """A template loader that takes templates from a dict of name -> source."""

    def __init__(self, dict: Dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dict = dict

    def resolve_path(self, name: str, parent_path: Optional[str] = None) -> str:
        if _is_relative_to_parent(name, parent_path):
            assert parent_path is not None
            file_dir = posixpath.dirname(parent_path)
            name = posixpath.normpath(posixpath.join(file_dir, name))
        return name

    def _create_template(self, name: str) -> Template:
        return Template(self.dict[name], name=name, loader=self)


# -- The parse tree -----------------------------------------------------------


class _Node:
    def each_child(self) -> Iterable["_Node"]:
        return ()

    def generate(self, writer: "_CodeWriter") -> None:
        raise NotImplementedError()

    def find_named_blocks(
        self, loader: Optional[BaseLoader], named_blocks: Dict[str, "_NamedBlock"]
    ) -> None:
        for child in self.each_child():
            child.find_named_blocks(loader, named_blocks)


class _File(_Node):
    """A whole template: the body becomes the _tt_execute function."""

    def __init__(self, template: Template, body: "_ChunkList") -> None:
        self.template = template
        self.body = body
        self.line = 0

    def generate(self, writer: "_CodeWriter") -> None:
        writer.write_line("def _tt_execute():", self.line)
        with writer.indent():
            writer.write_line("_tt_buffer = []", self.line)
            writer.write_line("_tt_append = _tt_buffer.append", self.line)
            self.body.generate(writer)
            writer.write_line("return b''.join(_tt_buffer)", self.line)

    def each_child(self) -> Iterable["_Node"]:
        return (self.body,)


class _ChunkList(_Node):
    def __init__(self, chunks: List[_Node]) -> None:
        self.chunks = chunks

    def generate(self, writer: "_CodeWriter") -> None:
        for chunk in self.chunks:
            chunk.generate(writer)

    def each_child(self) -> Iterable["_Node"]:
        return self.chunks


class _NamedBlock(_Node):
    def __init__(self, name: str, body: _Node, template: Template, line: int) -> None:
        self.name = name
        self.body = body
        self.template = template
        self.line = line

    def each_child(self) -> Iterable["_Node"]:
        return (self.body,)

    def generate(self, writer: "_CodeWriter") -> None:
        # The most derived definition of the block, compiled in the context
        # of the template that defined it (its autoescape, its file name).
        block = writer.named_blocks[self.name]
        with writer.include(block.template, self.line):
            block.body.generate(writer)

    def find_named_blocks(
        self, loader: Optional[BaseLoader], named_blocks: Dict[str, "_NamedBlock"]
    ) -> None:
        named_blocks[self.name] = self
        _Node.find_named_blocks(self, loader, named_blocks)


class _ExtendsBlock(_Node):
    def __init__(self, name: str) -> None:
        self.name = name

    def generate(self, writer: "_CodeWriter") -> None:
        # Handled by Template._get_ancestors.
        pass


class _IncludeBlock(_Node):
    def __init__(self, name: str, reader: "_TemplateReader", line: int) -> None:
        self.name = name
        self.template_name = reader.name
        self.line = line

    def find_named_blocks(
        self, loader: Optional[BaseLoader], named_blocks: Dict[str, _NamedBlock]
    ) -> None:
        assert loader is not None
        included = loader.load(self.name, self.template_name)
        included.file.find_named_blocks(loader, named_blocks)

    def generate(self, writer: "_CodeWriter") -> None:
        assert writer.loader is not None
        included = writer.loader.load(self.name, self.template_name)
        with writer.include(included, self.line):
            included.file.body.generate(writer)


class _ApplyBlock(_Node):
    def __init__(self, method: str, line: int, body: _Node) -> None:
        self.method = method
        self.line = line
        self.body = body

    def each_child(self) -> Iterable["_Node"]:
        return (self.body,)

    def generate(self, writer: "_CodeWriter") -> None:
        function_name = "_tt_apply%d" % writer.apply_counter
        writer.apply_counter += 1
        writer.write_line("def %s():" % function_name, self.line)
        with writer.indent():
            writer.write_line("_tt_buffer = []", self.line)
            writer.write_line("_tt_append = _tt_buffer.append", self.line)
            self.body.generate(writer)
            writer.write_line("return b''.join(_tt_buffer)", self.line)
        writer.write_line(
            "_tt_append(_tt_utf8(%s(%s())))" % (self.method, function_name), self.line
        )


class _ControlBlock(_Node):
    def __init__(self, statement: str, line: int, body: _Node) -> None:
        self.statement = statement
        self.line = line
        self.body = body

    def each_child(self) -> Iterable[_Node]:
        return (self.body,)

    def generate(self, writer: "_CodeWriter") -> None:
        writer.write_line("%s:" % self.statement, self.line)
        with writer.indent():
            # Bodies may be empty ("{% if x %}{% end %}").
            writer.write_line("pass", self.line)
            self.body.generate(writer)


class _IntermediateControlBlock(_Node):
    def __init__(self, statement: str, line: int) -> None:
        self.statement = statement
        self.line = line

    def generate(self, writer: "_CodeWriter") -> None:
        # The clause header goes one level out, inside the enclosing
        # block's indented body; "pass" keeps an empty clause valid.
        writer.write_line("%s:" % self.statement, self.line, writer.indent_size() - 1)
        writer.write_line("pass", self.line)


class _Statement(_Node):
    def __init__(self, statement: str, line: int) -> None:
        self.statement = statement
        self.line = line

    def generate(self, writer: "_CodeWriter") -> None:
        writer.write_line(self.statement, self.line)


class _Expression(_Node):
    def __init__(self, expression: str, line: int, raw: bool = False) -> None:
        self.expression = expression
        self.line = line
        self.raw = raw

    def generate(self, writer: "_CodeWriter") -> None:
        writer.write_line("_tt_tmp = %s" % self.expression, self.line)
        autoescape = writer.current_template.autoescape
        if self.raw or autoescape is None:
            writer.write_line("_tt_append(_tt_bytes(_tt_tmp))", self.line)
        elif autoescape == "xhtml_escape":
            # Bound per generate() call: a fused fast version when the
            # namespace's xhtml_escape is the standard one.
            writer.write_line("_tt_append(_tt_xhtml_escape(_tt_tmp))", self.line)
        else:
            # Escape functions receive UTF-8 bytes and may return str or
            # bytes.
            writer.write_line(
                "_tt_append(_tt_utf8(%s(_tt_bytes(_tt_tmp))))" % autoescape,
                self.line,
            )


class _Module(_Expression):
    def __init__(self, expression: str, line: int) -> None:
        super().__init__("_tt_modules." + expression, line, raw=True)


class _Text(_Node):
    def __init__(self, value: str, line: int, whitespace: str) -> None:
        self.value = value
        self.line = line
        self.whitespace = whitespace

    def generate(self, writer: "_CodeWriter") -> None:
        value = self.value
        # Whitespace inside <pre> is significant; a chunk containing one is
        # left alone.
        if "<pre>" not in value:
            value = filter_whitespace(self.whitespace, value)
        if value:
            writer.write_line("_tt_append(%r)" % escape.utf8(value), self.line)


class ParseError(Exception):
    """Raised for syntax errors in a template.

    ``filename`` and ``lineno`` say where the error is.

    .. versionchanged:: 4.3
       Added ``filename`` and ``lineno``.
    """

    def __init__(
        self, message: str, filename: Optional[str] = None, lineno: int = 0
    ) -> None:
        self.message = message
        # The names "filename" and "lineno" follow SyntaxError.
        self.filename = filename
        self.lineno = lineno

    def __str__(self) -> str:
        return "%s at %s:%d" % (self.message, self.filename, self.lineno)


class _CodeWriter:
    """Writes indented Python lines, each tagged with its template origin."""

    def __init__(
        self,
        file: TextIO,
        named_blocks: Dict[str, _NamedBlock],
        loader: Optional[BaseLoader],
        current_template: Template,
    ) -> None:
        self.file = file
        self.named_blocks = named_blocks
        self.loader = loader
        self.current_template = current_template
        self.apply_counter = 0
        # (template, line) of each include/block we are inside of.
        self.include_stack: List[Tuple[Template, int]] = []
        self._indent = 0

    def indent_size(self) -> int:
        return self._indent

    @contextlib.contextmanager
    def indent(self) -> Iterator[None]:
        self._indent += 1
        try:
            yield
        finally:
            self._indent -= 1

    @contextlib.contextmanager
    def include(self, template: Template, line: int) -> Iterator[None]:
        self.include_stack.append((self.current_template, line))
        self.current_template = template
        try:
            yield
        finally:
            self.current_template = self.include_stack.pop()[0]

    def write_line(self, line: str, line_number: int, indent: Optional[int] = None) -> None:
        if indent is None:
            indent = self._indent
        origin = "%s:%d" % (self.current_template.name, line_number)
        if self.include_stack:
            via = ", ".join(
                "%s:%d" % (tmpl.name, lineno) for tmpl, lineno in reversed(self.include_stack)
            )
            origin += " (via %s)" % via
        self.file.write("    " * indent + line + "  # " + origin + "\n")


class _TemplateReader:
    """The template source being parsed, with the current position and line."""

    def __init__(self, name: str, text: str, whitespace: str) -> None:
        self.name = name
        self.text = text
        self.whitespace = whitespace
        self.line = 1
        self.pos = 0

    def find(self, needle: str, start: int = 0) -> int:
        """Index of ``needle`` relative to the current position, or -1."""
        index = self.text.find(needle, self.pos + start)
        if index != -1:
            index -= self.pos
        return index

    def consume(self, count: Optional[int] = None) -> str:
        """Return the next ``count`` characters (all by default) and move on."""
        if count is None:
            count = len(self.text) - self.pos
        new_pos = self.pos + count
        self.line += self.text.count("\n", self.pos, new_pos)
        consumed = self.text[self.pos : new_pos]
        self.pos = new_pos
        return consumed

    def remaining(self) -> int:
        return len(self.text) - self.pos

    def peek(self, offset: int = 0) -> str:
        """The character ``offset`` positions ahead ("" past the end)."""
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def raise_parse_error(self, msg: str) -> NoReturn:
        raise ParseError(msg, self.name, self.line)


def _format_code(code: str) -> str:
    lines = code.splitlines()
    width = len(str(len(lines)))
    return "".join("%*d  %s\n" % (width, i + 1, line) for i, line in enumerate(lines))


# Clauses that continue a block, and the blocks each may continue.
_INTERMEDIATE_BLOCKS = {
    "else": {"if", "for", "while", "try"},
    "elif": {"if"},
    "except": {"try"},
    "finally": {"try"},
}

_LOOP_BLOCKS = {"for", "while"}


def _parse(
    reader: _TemplateReader,
    template: Template,
    in_block: Optional[str] = None,
    in_loop: Optional[str] = None,
) -> _ChunkList:
    """Parse until the end of the text, or the ``{% end %}`` of ``in_block``.

    ``in_loop`` names the innermost loop that ``{% break %}`` and
    ``{% continue %}`` would leave (None inside ``{% apply %}``, whose body
    is a separate function).
    """
    body = _ChunkList([])
    while True:
        # Find the next tag opener ("{{", "{%" or "{#"), skipping other
        # curly braces.
        curly = 0
        while True:
            curly = reader.find("{", curly)
            if curly == -1 or curly + 1 == reader.remaining():
                # No more tags: the rest is text.
                if in_block:
                    reader.raise_parse_error("Missing {%% end %%} block for %s" % in_block)
                body.chunks.append(_Text(reader.consume(), reader.line, reader.whitespace))
                return body
            if reader.peek(curly + 1) not in ("{", "%", "#"):
                curly += 1
                continue
            # In a run of three or more braces ("{{{"), the innermost pair
            # opens the tag: useful for languages such as LaTeX.
            if (
                curly + 2 < reader.remaining()
                and reader.peek(curly + 1) == "{"
                and reader.peek(curly + 2) == "{"
            ):
                curly += 1
                continue
            break

        if curly > 0:
            line = reader.line
            body.chunks.append(_Text(reader.consume(curly), line, reader.whitespace))

        start_brace = reader.consume(2)
        line = reader.line

        # "{{!", "{%!" and "{#!" stand for the literal "{{", "{%" and "{#".
        if reader.remaining() and reader.peek() == "!":
            reader.consume(1)
            body.chunks.append(_Text(start_brace, line, reader.whitespace))
            continue

        if start_brace == "{#":
            end = reader.find("#}")
            if end == -1:
                reader.raise_parse_error("Missing end comment #}")
            reader.consume(end)
            reader.consume(2)
            continue

        if start_brace == "{{":
            end = reader.find("}}")
            if end == -1:
                reader.raise_parse_error("Missing end expression }}")
            contents = reader.consume(end).strip()
            reader.consume(2)
            if not contents:
                reader.raise_parse_error("Empty expression")
            body.chunks.append(_Expression(contents, line))
            continue

        # A "{% ... %}" directive.
        assert start_brace == "{%", start_brace
        end = reader.find("%}")
        if end == -1:
            reader.raise_parse_error("Missing end block %}")
        contents = reader.consume(end).strip()
        reader.consume(2)
        if not contents:
            reader.raise_parse_error("Empty block tag ({% %})")

        operator, _, suffix = contents.partition(" ")
        suffix = suffix.strip()

        if operator in _INTERMEDIATE_BLOCKS:
            allowed = _INTERMEDIATE_BLOCKS[operator]
            if not in_block:
                reader.raise_parse_error(
                    "%s outside %s block" % (operator, " or ".join(sorted(allowed)))
                )
            if in_block not in allowed:
                reader.raise_parse_error(
                    "%s block cannot be attached to %s block" % (operator, in_block)
                )
            body.chunks.append(_IntermediateControlBlock(contents, line))
            continue

        if operator == "end":
            if not in_block:
                reader.raise_parse_error("Extra {% end %} block")
            return body

        if operator == "comment":
            continue

        if operator in ("extends", "include"):
            path = suffix.strip('"').strip("'")
            if not path:
                reader.raise_parse_error("%s missing file path" % operator)
            if operator == "extends":
                body.chunks.append(_ExtendsBlock(path))
            else:
                body.chunks.append(_IncludeBlock(path, reader, line))
            continue

        if operator in ("import", "from"):
            if not suffix:
                reader.raise_parse_error("import missing statement")
            body.chunks.append(_Statement(contents, line))
            continue

        if operator == "set":
            if not suffix:
                reader.raise_parse_error("set missing statement")
            body.chunks.append(_Statement(suffix, line))
            continue

        if operator == "autoescape":
            template.autoescape = None if suffix == "None" else suffix
            continue

        if operator == "whitespace":
            filter_whitespace(suffix, "")  # reject unknown modes now
            reader.whitespace = suffix
            continue

        if operator == "raw":
            body.chunks.append(_Expression(suffix, line, raw=True))
            continue

        if operator == "module":
            body.chunks.append(_Module(suffix, line))
            continue

        if operator in ("apply", "block", "try", "if", "for", "while"):
            if operator in _LOOP_BLOCKS:
                block_body = _parse(reader, template, operator, operator)
            elif operator == "apply":
                # The body is a nested function: break/continue can't
                # reach a loop outside it.
                block_body = _parse(reader, template, operator, None)
            else:
                block_body = _parse(reader, template, operator, in_loop)

            if operator == "apply":
                if not suffix:
                    reader.raise_parse_error("apply missing method name")
                body.chunks.append(_ApplyBlock(suffix, line, block_body))
            elif operator == "block":
                if not suffix:
                    reader.raise_parse_error("block missing name")
                body.chunks.append(_NamedBlock(suffix, block_body, template, line))
            else:
                body.chunks.append(_ControlBlock(contents, line, block_body))
            continue

        if operator in ("break", "continue"):
            if not in_loop:
                reader.raise_parse_error(
                    "%s outside %s block" % (operator, " or ".join(sorted(_LOOP_BLOCKS)))
                )
            body.chunks.append(_Statement(contents, line))
            continue

        reader.raise_parse_error("unknown operator: %r" % operator)

