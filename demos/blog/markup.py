"""A small converter from Markdown-like text to HTML, for the blog demo.

It understands the part of Markdown that blog posts use most:

* paragraphs separated by blank lines, and a hard line break where a line
  ends with two spaces;
* headings (``# Title`` to ``###### Title``) and horizontal rules (``---``);
* bulleted (``-``, ``*`` or ``+``) and numbered (``1.``) lists, one line per
  item;
* block quotes (lines starting with ``>``), which may hold any of the above;
* code blocks, either fenced with three backquotes or indented four spaces;
* inside text: ```code```, ``**strong**``, ``*emphasis*`` or
  ``_emphasis_``, and links ``[text](http://example.com "title")``.

Everything the author typed is HTML-escaped before any markup is added, so a
post can never inject its own tags or scripts; links are kept only when they
point to http(s), mailto or a path on this site.
"""

import re
from collections.abc import Callable

from tornado.escape import xhtml_escape

__all__ = ["to_html"]


def to_html(text: str) -> str:
    """Convert Markdown-like ``text`` to an HTML fragment."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")
    return "\n".join(_blocks(lines))


# Block grammar --------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^ {0,3}([-*_])(\s*\1){2,}\s*$")
_FENCE = re.compile(r"^ {0,3}```\s*([\w+-]*)\s*$")
_BULLET = re.compile(r"^ {0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^ {0,3}\d{1,9}[.)]\s+(.*)$")
_QUOTE = re.compile(r"^ {0,3}> ?(.*)$")
_INDENTED = "    "


def _blocks(lines: list[str]) -> list[str]:
    """Turn a list of source lines into a list of HTML block elements."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif _FENCE.match(line):
            language = _FENCE.match(line).group(1)  # type: ignore[union-attr]
            end = i + 1
            while end < len(lines) and not _FENCE.match(lines[end]):
                end += 1
            out.append(_code_block(lines[i + 1 : end], language))
            i = end + 1
        elif line.startswith(_INDENTED):
            end = i
            while end < len(lines) and (
                lines[end].startswith(_INDENTED) or not lines[end].strip()
            ):
                end += 1
            code = [row[len(_INDENTED) :] for row in lines[i:end]]
            while code and not code[-1].strip():
                code.pop()
            out.append(_code_block(code, ""))
            i = end
        elif _HEADING.match(line):
            match = _HEADING.match(line)
            assert match is not None
            level = len(match.group(1))
            out.append(f"<h{level}>{_inline(match.group(2))}</h{level}>")
            i += 1
        elif _RULE.match(line):
            out.append("<hr>")
            i += 1
        elif _QUOTE.match(line):
            end = i
            inner = []
            while end < len(lines) and _QUOTE.match(lines[end]):
                inner.append(_QUOTE.match(lines[end]).group(1))  # type: ignore[union-attr]
                end += 1
            out.append("<blockquote>\n" + "\n".join(_blocks(inner)) + "\n</blockquote>")
            i = end
        elif _BULLET.match(line) or _NUMBERED.match(line):
            pattern, tag = (_BULLET, "ul") if _BULLET.match(line) else (_NUMBERED, "ol")
            items = []
            while i < len(lines) and pattern.match(lines[i]):
                items.append(pattern.match(lines[i]).group(1))  # type: ignore[union-attr]
                i += 1
            body = "\n".join(f"<li>{_inline(item)}</li>" for item in items)
            out.append(f"<{tag}>\n{body}\n</{tag}>")
        else:
            end = i
            while end < len(lines) and lines[end].strip() and not _starts_block(lines[end]):
                end += 1
            end = max(end, i + 1)
            out.append(f"<p>{_paragraph(lines[i:end])}</p>")
            i = end
    return out


def _starts_block(line: str) -> bool:
    """Whether ``line`` interrupts a paragraph (indented code does not)."""
    return any(
        pattern.match(line)
        for pattern in (_HEADING, _RULE, _FENCE, _BULLET, _NUMBERED, _QUOTE)
    )


def _code_block(lines: list[str], language: str) -> str:
    css = f' class="language-{language}"' if language else ""
    return f"<pre><code{css}>" + xhtml_escape("\n".join(lines)) + "</code></pre>"


def _paragraph(lines: list[str]) -> str:
    parts = []
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        if line.endswith("  ") and not last:
            parts.append(_inline(line.strip()) + "<br>")
        else:
            parts.append(_inline(line.strip()))
    return "\n".join(parts)


# Inline grammar ---------------------------------------------------------------

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# [text](url) or [text](url "title"); the text may hold other inline markup.
_LINK = re.compile(
    r"\[([^\]]+)\]\(\s*((?:[^\s()]|\([^\s()]*\))+)(?:\s+&quot;(.*?)&quot;)?\s*\)"
)
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_EMPHASIS = re.compile(r"\*(?=\S)(.+?)(?<=\S)\*|(?<![\w])_(?=\S)(.+?)(?<=\S)_(?![\w])")
_SAFE_URL = re.compile(r"^(?:https?://|mailto:|/|#|\?|\.{0,2}/|[^:/?#]+(?:[/?#]|$))", re.IGNORECASE)
# Private-use characters mark where code spans were cut out: they cannot come
# from the escaped text, which keeps them apart from anything the author typed.
_HOLE = "\ue000{}\ue001"
_HOLE_RE = re.compile("\ue000(\\d+)\ue001")


def _inline(text: str) -> str:
    """Markup for a run of text: escape it, then add code, links and emphasis."""
    text = text.replace("\ue000", "").replace("\ue001", "")
    saved: list[str] = []

    def keep(html: str) -> str:
        saved.append(html)
        return _HOLE.format(len(saved) - 1)

    # Code spans first: nothing inside them is markup.
    escaped = _CODE_SPAN.sub(
        lambda m: keep("<code>" + xhtml_escape(m.group(2).strip()) + "</code>"), text
    )
    escaped = _escape_outside_holes(escaped)
    escaped = _LINK.sub(lambda m: keep(_link(m, _emphasis)), escaped)
    escaped = _emphasis(escaped)
    # Links may have been saved with code spans in their text: fill repeatedly.
    while _HOLE_RE.search(escaped):
        escaped = _HOLE_RE.sub(lambda m: saved[int(m.group(1))], escaped)
    return escaped


def _escape_outside_holes(text: str) -> str:
    pieces = _HOLE_RE.split(text)
    # split() alternates text and captured hole numbers.
    return "".join(
        xhtml_escape(piece) if index % 2 == 0 else _HOLE.format(piece)
        for index, piece in enumerate(pieces)
    )


def _emphasis(text: str) -> str:
    text = _STRONG.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", text)
    return _EMPHASIS.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text)


def _link(match: "re.Match[str]", inner: Callable[[str], str]) -> str:
    label, url, title = match.group(1), match.group(2), match.group(3)
    # The URL was escaped with the rest of the text; undo &amp; only to check
    # its scheme (it stays escaped in the attribute).
    if not _SAFE_URL.match(url.replace("&amp;", "&")):
        return inner(label)
    title_attr = f' title="{title}"' if title else ""
    return f'<a href="{url}"{title_attr}>{inner(label)}</a>'

