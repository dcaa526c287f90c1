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
that description, and an image left with none is a build warning. A cell whose figure is
wider than the reading column is widened over the margin.

A line break inside a paragraph of the source is a space on the page. Between Chinese
characters, or next to Chinese punctuation, that space is a visible gap ("一节。 这些"):
browsers drop it only between two ideographs. Such line breaks are removed here.
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


#: The reading column's width in CSS px at a 1280 px window; a cell whose figure is wider
#: is widened over the right-hand margin (the theme's ``full-width`` cell, 136% of the
#: column on screens of 992 px and more), so that the figure is shrunk less.
COLUMN_PX = 688


def _png_width(path: Path) -> int:
    with path.open("rb") as f:
        head = f.read(24)
    return int.from_bytes(head[16:20], "big") if head[:8] == b"\x89PNG\r\n\x1a\n" else 0


def _figures(app, doctree, docname):
    for image in doctree.findall(nodes.image):
        uri = image.get("uri", "")
        path = Path(app.srcdir) / uri
        is_png = uri.lower().endswith(".png") and path.is_file()
        if not image.get("alt") and is_png:
            image["alt"] = _png_description(path)
        if not image.get("alt"):
            logger.warning("an image without alt text on %s: %s", docname, uri,
                           location=image)
        if is_png and _png_width(path) > COLUMN_PX:
            _widen(image)
    # kernel-free widgets and galleries (raw HTML) say how wide their widest image is
    for raw in doctree.findall(nodes.raw):
        widths = [int(w) for w in _NATURAL_WIDTH.findall(raw.astext())]
        if widths and max(widths) > COLUMN_PX - 2 * _WIDGET_PADDING_PX:
            _widen(raw)


_NATURAL_WIDTH = re.compile(r'data-natural-width="(\d+)"')
_WIDGET_PADDING_PX = 11      # a kernel-free widget's border and padding, each side


def _widen(node):
    """Give the notebook cell holding ``node`` the theme's full-width class."""
    cell = node.parent
    while cell is not None and "cell" not in cell.get("classes", []):
        cell = cell.parent
    if cell is not None and "full-width" not in cell["classes"]:
        cell["classes"].append("full-width")


_CJK_PUNCTUATION = "\u3000-\u303f\uff00-\uffef"
_CJK = _CJK_PUNCTUATION + "\u3400-\u4dbf\u4e00-\u9fff"
_BREAK = r"[ \t]*\n[ \t]*"
_CJK_BREAK = re.compile(
    rf"(?<=[{_CJK}]){_BREAK}(?=[{_CJK}])"            # between two Chinese characters
    rf"|(?<=[{_CJK_PUNCTUATION}]){_BREAK}"           # after Chinese punctuation
    rf"|{_BREAK}(?=[{_CJK_PUNCTUATION}])")           # before it
_VERBATIM = (nodes.literal_block, nodes.literal, nodes.math, nodes.math_block, nodes.raw,
             nodes.comment)


def join_cjk_lines(doctree) -> int:
    """Remove the line breaks of the source that would show as gaps in Chinese text (see the
    module's docstring); code, math and raw HTML are left alone. Returns how many text
    nodes changed. A break at the edge of a node (before a link, say) is judged by the
    neighbouring node's first or last character."""
    texts = list(doctree.findall(nodes.Text))
    changed = 0
    for k, text in enumerate(texts):
        if "\n" not in text or any(isinstance(a, _VERBATIM) for a in _ancestors(text)):
            continue
        before = texts[k - 1].astext()[-1:] if k else ""
        after = texts[k + 1].astext()[:1] if k + 1 < len(texts) else ""
        joined = _CJK_BREAK.sub("", before + text.astext() + after)
        joined = joined[len(before):len(joined) - len(after)]
        if joined != text.astext():
            texts[k] = nodes.Text(joined)
            text.parent.replace(text, texts[k])
            changed += 1
    return changed


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def _join_cjk_lines(app, doctree, docname):
    join_cjk_lines(doctree)


def setup(app):
    app.connect("doctree-resolved", _figures)
    app.connect("doctree-resolved", _join_cjk_lines)
    app.connect("config-inited", _use_npm_katex)
    # runs before other handlers: html-page-context stops at the first handler that
    # returns a template name
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    app.connect("html-page-context", _report_math_errors, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
