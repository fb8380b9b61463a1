"""Sphinx configuration for Tornado's documentation.

Build with ``tox -e docs``, or directly from this directory::

    sphinx-build -W -n -b html . _build/html

The build must stay free of warnings (``-W``) in nitpicky mode (``-n``), so
every cross reference has to resolve.  This machine has no network access:
references to the Python standard library cannot be resolved through
intersphinx, and are ignored below instead.
"""

import builtins
import importlib.util
import os
import sys

# Document the tornado package of this checkout, not an installed one.
sys.path.insert(0, os.path.abspath(".."))

import tornado

project = "Tornado"
author = "The Tornado Authors"
copyright = "The Tornado Authors"
version = release = tornado.version

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
]

primary_domain = "py"
default_role = "py:obj"
master_doc = "index"
exclude_patterns = ["_build"]
language = "en"
pygments_style = "sphinx"

# -- autodoc -------------------------------------------------------------------

autodoc_member_order = "bysource"
# Show defaults as written in the source (e.g. ``_ARG_DEFAULT``), not as the
# repr of a sentinel object, which changes from run to run.
autodoc_preserve_defaults = True
# Signatures without annotations read like Python calls; the types are in
# each function's description where they matter.
autodoc_typehints = "none"
autodoc_inherit_docstrings = False
autoclass_content = "both"

# tornado.curl_httpclient imports pycurl when it is loaded; document it even
# where pycurl is not installed (the docs environment needs only Sphinx).
autodoc_mock_imports = [] if importlib.util.find_spec("pycurl") else ["pycurl"]

# -- nitpicky mode -------------------------------------------------------------

# Names from the standard library and builtins cannot be linked without
# intersphinx (which needs the network): accept them unresolved.  Everything
# else, Tornado's own names in particular, must resolve.
_stdlib = "|".join(sorted(sys.stdlib_module_names))
_builtins = "|".join(name for name in dir(builtins) if not name.startswith("_"))
nitpick_ignore_regex = [
    (r"py:.*", rf"~?({_stdlib})(\..+)?"),
    (r"py:.*", rf"~?({_builtins})(\..+)?"),
    (r"py:.*", r"~?(pycurl|pycares|twisted|h2|hpack|hyperframe)(\..+)?"),
    (r"py:.*", r"(Awaitable|Callable|Coroutine|Generator|Optional|Any|Union|Type)(\[.*\])?"),
]
nitpicky = True
# Several modules offer the same name (``HTTPRequest`` in httpclient, and as
# an alias in httpserver and wsgi; ``HTTPError`` in web and httpclient).  A
# short reference picks one of them, which is right in context; Sphinx's
# "more than one target" notice about it is not a problem to fix.
suppress_warnings = ["ref.python"]

# -- HTML ----------------------------------------------------------------------

html_theme = "alabaster"
html_title = f"Tornado {release} documentation"
html_short_title = "Tornado"
html_theme_options = {
    "description": "A Python web framework and asynchronous networking library",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
    "show_related": False,
}
html_sidebars = {
    "**": ["about.html", "navigation.html", "relations.html", "searchbox.html"],
}
html_static_path: list = []
html_show_sourcelink = False

# -- EPUB ----------------------------------------------------------------------

epub_title = "Tornado"
epub_author = author
epub_publisher = author
epub_copyright = copyright
epub_show_urls = "no"
epub_exclude_files = ["search.html"]
# viewcode pages are for browsing, not for an e-book.
viewcode_enable_epub = False

# -- LaTeX / PDF ---------------------------------------------------------------

latex_documents = [("index", "tornado.tex", "Tornado Documentation", author, "manual")]
latex_elements = {"papersize": "a4paper"}

# rinohtype builds a PDF without LaTeX: ``pip install rinohtype``, then
# ``sphinx-build -b rinoh . _build/pdf`` (or ``make pdf``).
rinoh_documents = [
    {
        "doc": "index",
        "target": "tornado",
        "title": "Tornado Documentation",
        "subtitle": f"Release {release}",
        "author": author,
    }
]
