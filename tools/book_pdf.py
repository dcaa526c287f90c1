"""Print the built HTML book to one PDF: _build/html/rectified.pdf.

    python tools/book_pdf.py            (make pdf; make book runs it too)

The pages are printed by the same Debian Chromium the browser tests use: one document is
assembled in the browser from the built pages in the order of _toc.yml (a cover, a list
of contents, then each page's article: every chapter with its outputs, each kernel-free
widget at its default setting, the claims ledger and the references) and printed once, so
page numbers run through the whole book and the contents link to the chapters.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
PDF = SITE / "rectified.pdf"
CHROMIUM = Path("/usr/bin/chromium")


def toc_pages(root: Path = ROOT) -> list[str]:
    """The book's pages in reading order, as paths of the built site (book/x.html)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", [])
                             for c in part.get("chapters", [])]
    return [f"{f}.html" for f in files]


ASSEMBLE = """
async ([pages, title, author]) => {
  const parser = new DOMParser();
  const sections = [];
  for (const path of pages) {
    const text = await (await fetch('/' + path)).text();
    const doc = parser.parseFromString(text, 'text/html');
    const article = doc.querySelector('article.bd-article');
    const heading = article.querySelector('h1');
    const name = heading ? heading.textContent.replace('#', '').trim() : path;
    article.querySelectorAll('script').forEach(s => s.remove());
    article.querySelectorAll('.headerlink').forEach(a => a.remove());
    sections.push({path, name, html: article.innerHTML});
  }
  const main = document.querySelector('article.bd-article');
  const contents = sections.map((s, i) =>
    `<li><a href="#pdf-part-${i}">${s.name}</a></li>`).join('');
  main.innerHTML =
    `<section class="pdf-cover"><h1>${title}</h1><p>${author}</p>` +
    `<p>An executable textbook: every number in it was computed when this copy was ` +
    `built, and checked by an assertion in the notebook beside it.</p></section>` +
    `<section class="pdf-contents"><h2>Contents</h2><ol>${contents}</ol></section>` +
    sections.map((s, i) =>
      `<section class="pdf-part" id="pdf-part-${i}">${s.html}</section>`).join('');
  const style = document.createElement('style');
  style.textContent = `
    .bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, .prev-next-area,
    .bd-header-article, .rw-note, .rw-controls, footer { display: none !important; }
    .bd-article-container { max-width: 100% !important; }
    .pdf-cover { break-after: page; padding-top: 30vh; text-align: center; }
    .pdf-contents { break-after: page; }
    .pdf-part { break-before: page; }
    img { max-width: 100% !important; break-inside: avoid; }
    pre { white-space: pre-wrap; break-inside: avoid; }`;
  document.head.appendChild(style);
  await Promise.all(Array.from(document.images).map(
    img => img.complete ? null : img.decode().catch(() => null)));
  return sections.length;
}
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def build(site: Path = SITE, out: Path = PDF) -> int:
    """Print the book; returns the number of pages of the book that went into it."""
    from playwright.sync_api import sync_playwright

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            pages = toc_pages()
            page.goto(f"{base}/{pages[0]}", wait_until="load")
            page.emulate_media(media="print", color_scheme="light")
            n = page.evaluate(ASSEMBLE, [pages, config["title"], config["author"]])
            page.pdf(path=str(out), format="A4", print_background=True,
                     margin={"top": "16mm", "bottom": "16mm", "left": "14mm",
                             "right": "14mm"},
                     display_header_footer=True, header_template="<span></span>",
                     footer_template='<div style="font-size:8px;width:100%;'
                                     'text-align:center"><span class="pageNumber"></span>'
                                     ' / <span class="totalPages"></span></div>')
            browser.close()
    finally:
        server.shutdown()
    return n


def main() -> int:
    if not (SITE / "index.html").exists():
        print(f"no built book at {SITE}: run `make book` first", file=sys.stderr)
        return 1
    if not CHROMIUM.exists():
        print(f"no PDF: Chromium not found at {CHROMIUM} (apt-get install -y chromium)",
              file=sys.stderr)
        return 1
    n = build()
    print(f"wrote {PDF.relative_to(ROOT)} ({n} pages of the book, "
          f"{PDF.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
