"""Every page of the built book, opened in headless Chromium: no console errors, no failed
or external requests, every image loaded, all math typeset, pages within their weight
budget, and on widget pages, moving a control changes the figure without any kernel.

Load times are measured and written to _build/browser-load-times.txt, never asserted: a
wall-clock time depends on the machine and whatever else runs on it. What makes a page
slow, its weight (bytes of the page and everything it loads, widget frames included) and
its number of elements, is deterministic and asserted instead. The heaviest pages weigh
about 4.9 MB with about 12,000 elements and reach their load event in 1.0-1.4 s on a quiet
two-core machine; the budgets leave room to grow while keeping pages near that."""

from __future__ import annotations

import pytest

from conftest import SITE

WEIGHT_BUDGET_BYTES = 6_000_000     # the page and every resource it loads (the theme's
#                                     scripts, styles and fonts are about 2.6 MB of it)
ELEMENT_BUDGET = 20_000             # DOM elements after load
LOAD_TIMES = SITE.parent / "browser-load-times.txt"


def _pages() -> list[str]:
    if not SITE.exists():
        return []
    skip = {"_static", "_sources", "_images"}
    return sorted(str(p.relative_to(SITE)) for p in SITE.rglob("*.html")
                  if not skip & set(p.relative_to(SITE).parts) and p.name != "index.html")


PAGES = _pages()

# Console messages that are not errors of the book, each with its reason. (None so far.)
ALLOWED_CONSOLE = []


@pytest.fixture(scope="module", autouse=True)
def _fresh_load_times():
    LOAD_TIMES.unlink(missing_ok=True)


def test_the_book_has_pages():
    assert len(PAGES) >= 4, f"expected the built book in {SITE}, found {PAGES}"


def test_site_root_redirects_to_the_introduction(browser, site_url):
    page = browser.new_page()
    try:
        page.goto(f"{site_url}/index.html")
        page.wait_for_url("**/book/intro.html")
    finally:
        page.close()


@pytest.mark.parametrize("book_page", PAGES, indirect=True, scope="session")
def test_page_loads_cleanly(book_page):
    page, path = book_page.page, book_page.path
    errors = [m for m in book_page.console
              if not any(allowed in m for allowed in ALLOWED_CONSOLE)]
    assert errors == [], f"console errors on {path}: {errors}"
    assert book_page.failed == [], f"failed requests on {path}: {book_page.failed}"
    assert book_page.external == [], \
        f"requests leaving the site on {path}: {book_page.external}"

    broken = page.evaluate("""async () => {
        const bad = [];
        for (const img of Array.from(document.images)) {
            if (!img.complete) { try { await img.decode(); } catch (e) {} }
            if (img.naturalWidth === 0) bad.push(img.src.slice(0, 100));
        }
        return bad;
    }""")
    assert broken == [], f"images that did not load on {path}: {broken}"

    # math is typeset at build time: every math element holds KaTeX's markup, none of
    # it KaTeX's red error text, and its fonts are in use
    untypeset = page.evaluate("""() => Array.from(document.querySelectorAll('.math'))
        .filter(el => !el.querySelector('.katex') || el.querySelector('.katex-error'))
        .map(el => el.textContent.slice(0, 60))""")
    assert untypeset == [], f"math left as raw TeX on {path}: {untypeset}"
    if page.locator(".katex").count():
        fonts = page.evaluate("""async () => { await document.fonts.ready;
            return Array.from(document.fonts).filter(f => f.family.startsWith('KaTeX'))
                .map(f => f.status); }""")
        assert "loaded" in fonts and "error" not in fonts, f"KaTeX fonts on {path}: {fonts}"
    raw = page.evaluate(r"""() => Array.from(
            document.querySelectorAll('article p, article li, article td, article th'))
        .map(el => el.innerText)
        .filter(t => /\$[^$\s][^$]*\$|\\\(|\\\[/.test(t))
        .map(t => t.slice(0, 80))""")
    assert raw == [], f"text that looks like untypeset TeX on {path}: {raw}"
    weight, elements = page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        return [nav.decodedBodySize + res.reduce((s, r) => s + r.decodedBodySize, 0),
                document.getElementsByTagName('*').length]; }""")
    with LOAD_TIMES.open("a") as f:
        f.write(f"{path}\t{book_page.seconds:.2f} s\t{weight / 1e6:.2f} MB\t"
                f"{elements} elements\n")
    assert weight < WEIGHT_BUDGET_BYTES, f"{path} weighs {weight / 1e6:.2f} MB"
    assert elements < ELEMENT_BUDGET, f"{path} has {elements} elements"


WIDGET_PAGES = [p for p in PAGES if "rectified-static-widget" in (SITE / p).read_text()]


def test_some_pages_have_widgets():
    assert WIDGET_PAGES, "no page carries a kernel-free widget"


@pytest.mark.parametrize("book_page", WIDGET_PAGES[:3], indirect=True, scope="session")
def test_widget_controls_work_from_the_keyboard(book_page):
    page = book_page.page
    widget = page.locator(".rectified-static-widget").first
    control = widget.locator("[data-field]").first
    before = widget.locator("img.rw-frame").get_attribute("src")
    control.focus()
    assert page.evaluate("document.activeElement.dataset.field") == \
        control.get_attribute("data-field")
    for key in ("ArrowRight", "ArrowDown", "End"):
        page.keyboard.press(key)
        if widget.locator("img.rw-frame").get_attribute("src") != before:
            break
    assert widget.locator("img.rw-frame").get_attribute("src") != before


@pytest.mark.parametrize("book_page", WIDGET_PAGES, indirect=True, scope="session")
def test_moving_a_control_changes_the_figure(book_page):
    page, path = book_page.page, book_page.path
    widgets = page.locator(".rectified-static-widget")
    assert widgets.count() > 0
    for w in range(widgets.count()):
        widget = widgets.nth(w)
        controls = widget.locator("[data-field]")
        assert controls.count() > 0, f"widget {w} on {path} has no controls"
        for c in range(controls.count()):
            control = controls.nth(c)
            before = widget.locator("img.rw-frame").get_attribute("src")
            if control.evaluate("el => el.tagName") == "SELECT":
                n = control.locator("option").count()
                if n < 2:
                    continue
                current = control.evaluate("el => el.selectedIndex")
                control.select_option(index=(current + 1) % n)
            else:
                top = int(control.get_attribute("max"))
                if top < 1:
                    continue
                current = int(control.input_value())
                control.fill(str(0 if current != 0 else top))
            after = widget.locator("img.rw-frame").get_attribute("src")
            field = control.get_attribute("data-field")
            assert after != before, f"moving '{field}' of widget {w} on {path} changed nothing"
    assert book_page.console == [], book_page.console


@pytest.mark.parametrize("book_page", PAGES, indirect=True, scope="session")
def test_page_fits_a_phone(book_page):
    """At phone width (390 px) nothing makes the page scroll sideways (wide tables and code
    scroll inside their own boxes; figures shrink to the column, a tap enlarges them). The
    page opened at 1280 px is narrowed, as when a window is, and widened again after."""
    page, path = book_page.page, book_page.path
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow}px wider than a phone screen"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
