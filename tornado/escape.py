"""Escaping and unescaping for HTML, URLs and JSON, and byte/str conversion.

These functions sit under the web layer's hot path (every request argument,
every template expression goes through some of them), so the common cases
are kept to a few C-level string operations.  The module depends only on
the standard library.

Conversions between bytes and str always use UTF-8 unless an encoding is
given explicitly.
"""

from __future__ import annotations

import binascii
import json
import json.encoder
import re
import urllib.parse
from typing import Any, Callable, Dict, List, Optional, Union, overload

_UTF8_TYPES = (bytes, type(None))
_TO_UNICODE_TYPES = (str, type(None))


@overload
def utf8(value: bytes) -> bytes: ...
@overload
def utf8(value: str) -> bytes: ...
@overload
def utf8(value: None) -> None: ...
def utf8(value: Union[None, str, bytes]) -> Optional[bytes]:
    """Return ``value`` as bytes, encoding a str as UTF-8.

    Bytes and None are returned unchanged; any other type raises
    `TypeError`.
    """
    if value.__class__ is str:  # the common case, checked first
        return value.encode("utf-8")
    if isinstance(value, _UTF8_TYPES):
        return value
    if not isinstance(value, str):
        raise TypeError("Expected bytes, unicode, or None; got %r" % type(value))
    return value.encode("utf-8")


@overload
def to_unicode(value: str) -> str: ...
@overload
def to_unicode(value: bytes) -> str: ...
@overload
def to_unicode(value: None) -> None: ...
def to_unicode(value: Union[None, str, bytes]) -> Optional[str]:
    """Return ``value`` as str, decoding bytes as UTF-8.

    Str and None are returned unchanged; any other type raises `TypeError`.
    """
    if value.__class__ is bytes:  # the common case, checked first
        return value.decode("utf-8")
    if isinstance(value, _TO_UNICODE_TYPES):
        return value
    if not isinstance(value, bytes):
        raise TypeError("Expected bytes, unicode, or None; got %r" % type(value))
    return value.decode("utf-8")


# Names kept from the Python 2 era, when the native string type differed
# between versions; both are now simply to_unicode.
native_str = to_unicode
to_basestring = to_unicode
# Private alias that code written against older Tornado still imports.
_unicode = to_unicode


def recursive_unicode(obj: Any) -> Any:
    """Convert the bytes inside dicts, lists and tuples to str, recursively.

    Other objects are returned unchanged.
    """
    if isinstance(obj, dict):
        return {recursive_unicode(k): recursive_unicode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [recursive_unicode(i) for i in obj]
    if isinstance(obj, tuple):
        return tuple(recursive_unicode(i) for i in obj)
    if isinstance(obj, bytes):
        return to_unicode(obj)
    return obj


# -- HTML -------------------------------------------------------------------

# str.translate with a dict is slow (a Python-level lookup per character);
# chained str.replace calls run in C and skip strings with nothing to escape.
def xhtml_escape(value: Union[str, bytes]) -> str:
    """Escape a string so it is valid within HTML or XML text and attributes.

    The characters ``<``, ``>``, ``"``, ``'`` and ``&`` are replaced by
    ``&lt;``, ``&gt;``, ``&quot;``, ``&#x27;`` and ``&amp;``.  Bytes are
    decoded as UTF-8 first; the result is always a str.

    .. versionchanged:: 3.2
       Single quotes are escaped too.
    """
    if value.__class__ is not str:
        value = to_unicode(value)
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


# Entity name -> character, filled on the first unescape (html.entities is
# a large module that most applications never need).
_HTML_ENTITY_CHARS: Dict[str, str] = {}


def _entity_chars() -> Dict[str, str]:
    if not _HTML_ENTITY_CHARS:
        import html.entities

        _HTML_ENTITY_CHARS.update(
            (name, chr(codepoint)) for name, codepoint in html.entities.name2codepoint.items()
        )
    return _HTML_ENTITY_CHARS

# A named or numeric character reference.  Only references terminated by a
# semicolon are recognised.
_ENTITY_RE = re.compile(r"&(#?)(\w+?);")


def _replace_entity(m: "re.Match[str]") -> str:
    numeric, name = m.groups()
    if numeric:
        try:
            if name[:1] in ("x", "X"):
                return chr(int(name[1:], 16))
            return chr(int(name))
        except (ValueError, OverflowError):
            # Not a number, or not a valid code point: keep the text.
            return m.group(0)
    try:
        return _entity_chars()[name]
    except KeyError:
        return m.group(0)


def xhtml_unescape(value: Union[str, bytes]) -> str:
    """Replace the HTML character references in a string by their characters.

    Named references (``&amp;``), decimal (``&#32;``) and hexadecimal
    (``&#x20;``) numeric references are decoded; anything malformed or
    unknown is left as it is.
    """
    value = to_unicode(value)
    if "&" not in value:
        return value
    return _ENTITY_RE.sub(_replace_entity, value)


# -- JSON -------------------------------------------------------------------

def json_encode(value: Any) -> str:
    """JSON-encode ``value``.

    ``</`` is written as ``<\\/`` so that the output can be embedded in an
    HTML ``<script>`` element without closing it early.
    """
    if _unchecked_encoder is None:
        return json.dumps(value).replace("</", "<\\/")
    # What json.dumps(value) does with default settings, minus the Python
    # layers of JSONEncoder and the circular reference bookkeeping (a dict
    # operation per container).  A circular value makes the unchecked
    # encoder recurse until RecursionError; json.dumps then reports it the
    # usual way (ValueError), and a value that is merely too deep raises
    # RecursionError from json.dumps too.
    try:
        text = "".join(_unchecked_encoder(value, 0))
    except RecursionError:
        text = json.dumps(value)
    return text.replace("</", "<\\/")


def _json_default(o: Any) -> Any:
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


# The C accelerator behind json.dumps (absent on some Python
# implementations), set up as json.dumps's defaults would set it up, except
# for the circular reference check (markers=None).  It keeps no state
# between calls, so one instance serves every call and thread.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_unchecked_encoder = (
    None
    if _c_make_encoder is None
    else _c_make_encoder(
        None, _json_default, json.encoder.encode_basestring_ascii,
        None, ": ", ", ", False, False, True,
    )  # fmt: skip
)


def json_decode(value: Union[str, bytes]) -> Any:
    """Return the Python object for a JSON string (str or UTF-8 bytes)."""
    return json.loads(value if isinstance(value, str) else to_unicode(value))


def squeeze(value: str) -> str:
    """Replace each run of whitespace (and control characters) with one space,
    and strip the ends."""
    return re.sub(r"[\x00-\x20]+", " ", value).strip()


# -- URLs -------------------------------------------------------------------

def url_escape(value: Union[str, bytes], plus: bool = True) -> str:
    """Percent-encode ``value`` for use in a URL.

    A str is encoded as UTF-8 first.  With ``plus`` (the default) spaces
    become ``+`` and ``/`` is escaped, which suits query strings; with
    ``plus=False`` spaces become ``%20`` and ``/`` is kept, which suits
    paths.

    .. versionadded:: 3.1
       The ``plus`` argument
    """
    if plus:
        return urllib.parse.quote_plus(utf8(value))
    return urllib.parse.quote(utf8(value))


# A "%" that does not start a valid escape ("%" followed by two hex
# digits).  Such a "%" stands for itself.
_BAD_PERCENT_RE = re.compile(rb"%(?![0-9A-Fa-f]{2})")

# Slow-path input is processed in slices this long so that the temporary
# objects of one slice bound the memory used, whatever the input size.
_UNQUOTE_SLICE = 8192


def _unquote_clean(data: bytes) -> bytes:
    # Every "%" in ``data`` starts a valid escape.  binascii.a2b_qp decodes
    # "=XX" escapes in C; a literal "=" is protected as "=3D" first.  With
    # only valid escapes left, none of a2b_qp's quoted-printable special
    # cases (soft line breaks, a trailing "=", "==") can arise.
    return binascii.a2b_qp(data.replace(b"=", b"=3D").replace(b"%", b"="))


def _unquote_to_bytes(data: bytes) -> bytes:
    """Percent-decode ``data`` exactly as `urllib.parse.unquote_to_bytes` does.

    The standard library's version creates an object per ``%``, which
    makes large hostile inputs expensive; this one does the work in C and
    keeps its temporary memory bounded.
    """
    if b"%" not in data:
        return data if data.__class__ is bytes else bytes(data)
    if _BAD_PERCENT_RE.search(data) is None:
        return _unquote_clean(data)
    out = bytearray()
    start = 0
    size = len(data)
    while start < size:
        end = start + _UNQUOTE_SLICE
        if end < size:
            # Never cut an escape in two: move the cut before a "%" that is
            # within the last two bytes of the slice.
            cut = data.rfind(b"%", end - 2, end)
            if cut != -1:
                end = cut
        piece = _BAD_PERCENT_RE.sub(b"%25", data[start:end])
        out += _unquote_clean(piece)
        start = end
    return bytes(out)


_UTF8_NAMES = frozenset(["utf-8", "utf8", "UTF-8", "UTF8"])


@overload
def url_unescape(value: Union[str, bytes], encoding: None, plus: bool = True) -> bytes: ...
@overload
def url_unescape(
    value: Union[str, bytes], encoding: str = "utf-8", plus: bool = True
) -> str: ...
def url_unescape(
    value: Union[str, bytes], encoding: Optional[str] = "utf-8", plus: bool = True
) -> Union[str, bytes]:
    """Decode a percent-encoded string from a URL.

    Returns bytes if ``encoding`` is None, otherwise a str decoded with
    that encoding (undecodable bytes become U+FFFD).  With ``plus`` (the
    default) ``+`` is decoded as a space, as in query strings; use
    ``plus=False`` for paths, where ``+`` is literal.

    .. versionadded:: 3.1
       The ``plus`` argument
    """
    if isinstance(value, str):
        if encoding in _UTF8_NAMES and "%" not in value:
            # Nothing to decode (the common case for URL paths).
            return value.replace("+", " ") if plus else value
        if not value.isascii():
            # Characters outside ASCII are not percent-escaped; let the
            # standard library keep them as they are.
            unquote = urllib.parse.unquote_plus if plus else urllib.parse.unquote
            if encoding is None:
                return urllib.parse.unquote_to_bytes(
                    value.replace("+", " ") if plus else value
                )
            return unquote(value, encoding=encoding)
        data = value.encode("ascii")
    else:
        data = value
    if plus:
        data = data.replace(b"+", b" ")
    raw = _unquote_to_bytes(data)
    if encoding is None:
        return raw
    return raw.decode(encoding, "replace")


def parse_qs_bytes(
    qs: Union[str, bytes],
    keep_blank_values: bool = False,
    strict_parsing: bool = False,
    *,
    max_num_fields: Optional[int] = None,
) -> Dict[str, List[bytes]]:
    """Parse a query string (or form body) into a dict of lists of bytes.

    Works like `urllib.parse.parse_qs` but leaves the values as bytes,
    since their encoding is up to the application (a form may be posted in
    any charset).  Keys are returned as str, decoded as Latin-1 so that the
    original bytes can be recovered.

    Raises `ValueError` if ``strict_parsing`` is true and a field is
    malformed, or if there are more than ``max_num_fields`` fields.

    .. versionchanged:: 6.6
       Added ``max_num_fields``.
    """
    if isinstance(qs, str):
        qs = qs.encode("latin1")
    if max_num_fields is not None:
        num_fields = qs.count(b"&") + 1 if qs else 0
        if num_fields > max_num_fields:
            raise ValueError("Max number of fields exceeded")
    result: Dict[str, List[bytes]] = {}
    if not qs:
        return result
    for field in qs.split(b"&"):
        if not field and not strict_parsing:
            continue
        name, eq, value = field.partition(b"=")
        if not eq:
            if strict_parsing:
                raise ValueError("bad query field: %r" % (field.decode("latin1"),))
            if not keep_blank_values:
                continue
        elif not value and not keep_blank_values:
            continue
        key = _unquote_to_bytes(name.replace(b"+", b" ")).decode("latin1")
        decoded = _unquote_to_bytes(value.replace(b"+", b" ")) if value else b""
        values = result.get(key)
        if values is None:
            result[key] = [decoded]
        else:
            values.append(decoded)
    return result


# -- linkify ----------------------------------------------------------------

# A URL character in HTML-escaped text: anything but whitespace, "&" and
# parentheses, or one of the two entities xhtml_escape produces inside URLs.
_URL_CHAR = r"(?:[^\s&()]|&amp;|&quot;)"
# A URL never ends with ASCII punctuation (a trailing period or comma is
# the sentence's), except "-", "/", "\" and "_", which often end paths.
_URL_LAST = r"[^\s!-,.:-@\[\]^`{-~]"
_URL_RE = re.compile(
    r"\b("
    r"(?:([\w-]+):(/{1,3})|www\.)"  # scheme and slashes, or a bare www. host
    # Runs that end in a non-punctuation character, or parenthesised
    # parts (one level) such as Wikipedia's "Foo_(bar)".  Only balanced
    # parentheses are taken, so "(see http://x.com)" leaves out the ")".
    r"(?:" + _URL_CHAR + r"*" + _URL_LAST + r"|\(" + _URL_CHAR + r"*\))+"
    r")"
)

# Links longer than this are shortened when linkify(shorten=True).
_SHORT_LINK_LEN = 30


def _shorten_link(text: str, scheme_len: int) -> str:
    """Return a shorter display form of a link's text (or the text itself)."""
    host_and_path = text[scheme_len:].split("/")
    if len(host_and_path) > 1:
        # The host and a hint of the path's first segment are what matter.
        first = host_and_path[1][:8].split("?")[0].split(".")[0]
        text = text[:scheme_len] + host_and_path[0] + "/" + first
    if len(text) > _SHORT_LINK_LEN * 1.5:
        text = text[:_SHORT_LINK_LEN]
    return text


def linkify(
    text: Union[str, bytes],
    shorten: bool = False,
    extra_params: Union[str, Callable[[str], str]] = "",
    require_protocol: bool = False,
    permitted_protocols: List[str] = ["http", "https"],  # noqa: B006
) -> str:
    """Turn the URLs in plain text into HTML links.

    The text is HTML-escaped first, so the result is safe to insert in a
    page.  Recognised URLs start with a scheme and one to three slashes
    (``http://``, ``rdar:/``) or with ``www.``; a link is only made for a
    scheme in ``permitted_protocols`` (so ``javascript:`` URLs never
    become links).

    ``shorten``: display long URLs in a shortened form, with the full URL
    in the ``title`` attribute.

    ``extra_params``: extra attributes for the ``<a>`` tag, as a string or
    a function of the link's href returning one, e.g.
    ``'rel="nofollow" class="external"'``.

    ``require_protocol``: only link URLs that have a scheme, not bare
    ``www.`` hosts.
    """
    if extra_params and not callable(extra_params):
        extra_params = " " + extra_params.strip()

    def make_link(m: "re.Match[str]") -> str:
        url = m.group(1)
        scheme = m.group(2)
        if require_protocol and not scheme:
            return url
        if scheme and scheme not in permitted_protocols:
            return url
        href = url if scheme else "http://" + url
        if callable(extra_params):
            params = " " + extra_params(href).strip()
        else:
            params = extra_params
        shown = url
        if shorten and len(url) > _SHORT_LINK_LEN:
            scheme_len = len(scheme) + 1 + len(m.group(3)) if scheme else 0
            shown = _shorten_link(url, scheme_len)
            if shown != url:
                # Cutting inside an entity such as "&amp;" would leave a
                # broken one: cut before it.
                amp = shown.rfind("&")
                if amp > _SHORT_LINK_LEN - 5:
                    shown = shown[:amp]
                shown += "..."
                if len(shown) >= len(url):
                    shown = url
                else:
                    # The full URL shows on mouse-over.
                    params += ' title="%s"' % href
        return '<a href="%s"%s>%s</a>' % (href, params, shown)

    return _URL_RE.sub(make_link, xhtml_escape(text))
