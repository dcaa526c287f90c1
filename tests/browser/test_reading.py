"""Pages that read well, checked on every page of the built book in headless Chromium:

- at 1280 px no code cell and no text output scrolls sideways, and no table is wider
  than the reading column;
- every figure (cell outputs, galleries, kernel-free widget frames) has alt text, and its
  smallest text is at least 9 CSS px at the size the page shows it (each PNG of the book
  records its smallest text in pixels, see rectified.figures);
- in the dark colour scheme figures are shown dark (inverted), not as white slabs;
- on a phone, a tap enlarges a figure shrunk to the column;
- the whole book prints to one PDF.
"""

from __future__ import annotations

import base64
import io
import re
import unicodedata
from urllib.parse import unquote, urlparse

import numpy as np
import pytest
from PIL import Image

from conftest import SITE, open_page
from test_pages import PAGES

MIN_TEXT_PX = 9.0
FIGURES = "div.cell_output img, .rectified-gallery img, img.rw-frame"
FIGURE_PAGES = [p for p in PAGES if re.search(r'class="cell_output.{0,600}?<img',
                                              (SITE / p).read_text(), re.S)]


def _png_text(src: str) -> dict:
    if src.startswith("data:"):
        data = base64.b64decode(src.split(",", 1)[1])
    else:
        data = (SITE / unquote(urlparse(src).path).lstrip("/")).read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return dict(getattr(image, "text", {}) or {})


def _page(browser, site_url, path, **options):
    return open_page(browser, site_url, path, **options).page


def _too_wide(page) -> list[str]:
    """Code or text outputs that scroll sideways, tables wider than the article."""
    return page.evaluate("""() => {
        const bad = [];
        for (const el of document.querySelectorAll(
                'div.cell_input pre, div.cell_output pre')) {
            if (el.scrollWidth > el.clientWidth + 1) {
                const line = el.textContent.split('\\n')
                    .sort((a, b) => b.length - a.length)[0];
                bad.push('code/text: ' + line.slice(0, 90));
            }
        }
        const article = document.querySelector('article.bd-article') || document.body;
        const right = article.getBoundingClientRect().right + 1;
        for (const t of article.querySelectorAll('table')) {
            if (t.getBoundingClientRect().right > right)
                bad.push('table: ' + t.innerText.slice(0, 60));
        }
        return bad; }""")


def _figure_problems(page) -> list[str]:
    """Figures without alt text, or whose smallest text is under 9 px as shown."""
    shown = page.evaluate(f"""() => Array.from(document.querySelectorAll(
        '{FIGURES}')).filter(img => img.clientWidth > 0).map(img => ({{
            src: img.currentSrc || img.src, alt: img.alt || '',
            natural: img.naturalWidth, shown: img.clientWidth }}))""")
    problems = []
    for k, img in enumerate(shown):
        name = img["src"][:60] if not img["src"].startswith("data:") else f"figure {k}"
        if not img["alt"].strip():
            problems.append(f"{name}: no alt text")
        smallest = _png_text(img["src"]).get("Smallest text px")
        if smallest is None:
            problems.append(f"{name}: not made by rectified.figures (no text size)")
            continue
        px = float(smallest) * img["shown"] / img["natural"]
        if px < MIN_TEXT_PX - 0.05:
            problems.append(f"{name} ({img['alt'][:50]}): smallest text {px:.1f} px "
                            f"(shown {img['shown']} of {img['natural']} px)")
    return problems


@pytest.mark.parametrize("book_page", PAGES, indirect=True, scope="session")
def test_code_text_and_figures_read_well_at_1280(book_page):
    wide = _too_wide(book_page.page)
    assert wide == [], f"{book_page.path} scrolls sideways at 1280 px: {wide}"
    problems = _figure_problems(book_page.page)
    assert problems == [], f"{book_page.path}: {problems}"


def test_the_checks_catch_shrunk_figures_missing_alt_and_wide_code(browser, site_url):
    page = _page(browser, site_url, FIGURE_PAGES[0])
    try:
        page.add_style_tag(content="div.cell_output img { width: 120px !important; }"
                                   "div.cell_input pre { white-space: pre !important; "
                                   "width: 200px; }")
        page.evaluate("document.querySelector('div.cell_output img').alt = ''")
        problems = _figure_problems(page)
        assert any("no alt text" in p for p in problems)
        assert any("smallest text" in p for p in problems)
        assert _too_wide(page)
    finally:
        page.close()


def _mean_grey(locator) -> float:
    locator.scroll_into_view_if_needed()
    return float(np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("L")).mean())


def test_some_pages_have_figures():
    assert len(FIGURE_PAGES) >= 8, FIGURE_PAGES


@pytest.mark.parametrize("book_page", FIGURE_PAGES, indirect=True, scope="session")
def test_figures_are_dark_in_the_dark_colour_scheme(book_page):
    """The reader's system switches to the dark scheme: the page follows it at once."""
    page = book_page.page
    page.emulate_media(color_scheme="dark")
    try:
        page.wait_for_function("document.documentElement.dataset.theme === 'dark'")
        mean = _mean_grey(page.locator(FIGURES).first)
        assert mean < 110, \
            f"the first figure of {book_page.path} is light in dark mode ({mean:.0f})"
    finally:
        page.emulate_media(color_scheme="light")


def test_the_dark_mode_check_sees_a_white_figure(browser, site_url):
    page = _page(browser, site_url, FIGURE_PAGES[0], color_scheme="dark")
    try:
        page.add_style_tag(content="img { filter: none !important; }")
        assert _mean_grey(page.locator(FIGURES).first) > 150
    finally:
        page.close()


def test_a_tap_enlarges_a_shrunk_figure_on_a_phone(browser, site_url):
    path = next(p for p in PAGES if "rectified-gallery" in (SITE / p).read_text())
    page = _page(browser, site_url, path, width=390, is_mobile=True, has_touch=True)
    try:
        img = page.locator(".rectified-gallery img").first
        img.scroll_into_view_if_needed()
        natural, shown = img.evaluate("i => [i.naturalWidth, i.clientWidth]")
        assert shown < natural
        img.click()
        assert img.evaluate("i => i.clientWidth") == natural
        img.click()
        assert img.evaluate("i => i.clientWidth") == shown
    finally:
        page.close()


def test_the_book_prints_to_one_pdf_with_every_page(browser, site_url):
    import sys

    import yaml
    from pypdf import PdfReader

    sys.path.insert(0, str(SITE.parents[1] / "tools"))
    import book_pdf

    pdf = SITE / "rectified.pdf"
    assert pdf.exists(), "no PDF of the book: `make book` prints it (tools/book_pdf.py)"
    reader = PdfReader(str(pdf))
    # the cover and the contents, whose entries are the headings of the pages printed
    text = unicodedata.normalize(        # NFKC: the ligature "ﬁ" reads as "fi"
        "NFKC", "\n".join(page.extract_text() or "" for page in reader.pages[:4]))
    text = text.replace("\u2019", "'")    # the pages' typographic apostrophes
    titles = yaml.safe_load((SITE.parents[1] / "book" / "register.yml").read_text())
    for title in titles["chapters"].values():
        words = title.split(" — ")[0].split(",")[0]
        assert words in text, f"chapter '{title}' is not in the PDF"
    assert len(reader.pages) > 3 * len(book_pdf.toc_pages())
    # every page of the book is printed as its own part, in the order of the contents
    parts = [reader.named_destinations.get(f"/pdf-part-{i}")
             for i in range(len(book_pdf.toc_pages()))]
    assert None not in parts, "a page of the book is missing from the PDF"
    starts = [reader.get_destination_page_number(part) for part in parts]
    assert starts == sorted(set(starts)), f"the parts start on pages {starts}"
    assert "Contents" in text and "References" in text
    # the site links to it
    page = browser.new_page()
    try:
        page.goto(f"{site_url}/book/intro.html")
        href = page.locator('a[href$="rectified.pdf"]').first.get_attribute("href")
        response = page.request.get(f"{site_url}/book/{href}")
        assert response.ok and response.body()[:5] == b"%PDF-"
    finally:
        page.close()
