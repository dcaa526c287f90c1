"""Small fixes to the HTML pages, applied at build time.

sphinx-thebe registers its configuration script on every read of the sources, once with
filename ``None`` and once with ``''``, and a Jupyter Book build reads them twice, so every
page declared ``THEBE_JS_URL`` twice and the browser reported a SyntaxError. Identical
scripts are de-duplicated per page here.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", script) or "", tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # in place: later handlers (MathJax on pages with math) append to this same list
    context["script_files"][:] = unique


def setup(app):
    # runs before other handlers: html-page-context stops at the first handler that
    # returns a template name
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
