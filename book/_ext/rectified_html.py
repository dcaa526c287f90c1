"""Small fixes to the HTML pages, applied at build time.

sphinx-thebe registers its configuration script on every read of the sources, once with
filename ``None`` and once with ``''``, and a Jupyter Book build reads them twice, so every
page declared ``THEBE_JS_URL`` twice and the browser reported a SyntaxError. Identical
scripts are de-duplicated per page here.

Math is pre-rendered by sphinxcontrib-katex. Two things are set here: the KaTeX that renders
is the npm copy whose stylesheet and fonts the pages serve (so markup and CSS always come
from the same version), and TeX that KaTeX cannot parse, which it would quietly show in red,
is a build warning (so an error with ``-W``).

Figures get their alt text here: every PNG the book's library makes carries a description
of itself in a PNG text chunk (``rectified.figures.png``); an image without ``alt`` takes
that description, and an image left with none is a build warning.
"""

import html
import re
from pathlib import Path

from docutils import nodes
from sphinx.errors import ConfigError
from sphinx.util import logging

logger = logging.getLogger(__name__)

KATEX_JS = Path("node_modules") / "katex" / "dist" / "katex.min.js"
_KATEX_ERROR = re.compile(r'<span class="katex-error" title="([^"]*)"')


def _use_npm_katex(app, config):
    path = Path(app.srcdir) / KATEX_JS
    if not path.exists():
        raise ConfigError(f"{path} is missing: install the pinned JavaScript with `npm ci` "
                          "(`make book` does it)")
    config.katex_js_path = str(path)


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", script) or "", tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # in place: later handlers append to this same list
    context["script_files"][:] = unique


def _report_math_errors(app, pagename, templatename, context, doctree):
    for message in _KATEX_ERROR.findall(context.get("body", "")):
        logger.warning("KaTeX could not typeset math on %s: %s", pagename,
                       html.unescape(message), location=pagename)


def _png_description(path: Path) -> str:
    """The ``Description`` text chunk of a PNG file ('' if none): read from the chunks
    directly, so the build needs no imaging library."""
    import struct
    import zlib

    data = path.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ""
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            key, _, rest = body.partition(b"\0")
            if key == b"Description":
                if kind == b"tEXt":
                    return rest.decode("latin-1")
                if kind == b"zTXt":
                    return zlib.decompress(rest[1:]).decode("latin-1")
                compressed, rest = rest[0], rest[2:]
                _lang, _, rest = rest.partition(b"\0")
                _translated, _, text = rest.partition(b"\0")
                return (zlib.decompress(text) if compressed else text).decode("utf-8")
        if kind == b"IEND":
            break
        pos += 12 + length
    return ""


def _alt_text(app, doctree, docname):
    for image in doctree.findall(nodes.image):
        if image.get("alt"):
            continue
        uri = image.get("uri", "")
        path = Path(app.srcdir) / uri
        if uri.lower().endswith(".png") and path.is_file():
            image["alt"] = _png_description(path)
        if not image.get("alt"):
            logger.warning("an image without alt text on %s: %s", docname, uri,
                           location=image)


def setup(app):
    app.connect("doctree-resolved", _alt_text)
    app.connect("config-inited", _use_npm_katex)
    # runs before other handlers: html-page-context stops at the first handler that
    # returns a template name
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    app.connect("html-page-context", _report_math_errors, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
