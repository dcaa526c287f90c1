"""Small fixes to the HTML pages, applied at build time.

sphinx-thebe registers its configuration script on every read of the sources, once with
filename ``None`` and once with ``''``, and a Jupyter Book build reads them twice, so every
page declared ``THEBE_JS_URL`` twice and the browser reported a SyntaxError. Identical
scripts are de-duplicated per page here.

Math is pre-rendered by sphinxcontrib-katex. Two things are set here: the KaTeX that renders
is the npm copy whose stylesheet and fonts the pages serve (so markup and CSS always come
from the same version), and TeX that KaTeX cannot parse, which it would quietly show in red,
is a build warning (so an error with ``-W``).
"""

import html
import re
from pathlib import Path

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


def setup(app):
    app.connect("config-inited", _use_npm_katex)
    # runs before other handlers: html-page-context stops at the first handler that
    # returns a template name
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    app.connect("html-page-context", _report_math_errors, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
