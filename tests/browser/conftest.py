"""Fixtures for the browser tests: the built site served on localhost, Debian's Chromium
driven by Playwright (never a browser downloaded by Playwright itself), and each page of
the book opened once at 1280 px for all the tests that only look at it."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
CHROMIUM = Path("/usr/bin/chromium")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url():
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built book at {SITE}: run `make book` first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = (f"Chromium not found at {CHROMIUM}; install Debian's package: "
                   "apt-get install -y chromium")
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run the browser tests)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync",
                  "--disable-quic"])
        yield browser
        browser.close()


@dataclass
class OpenPage:
    """A page of the built book, loaded at 1280 px with its images decoded."""

    path: str
    page: object                          # playwright's Page
    seconds: float                        # navigation to the load event, as the page measured it
    console: list = field(default_factory=list)    # console errors and uncaught exceptions
    failed: list = field(default_factory=list)     # failed requests, HTTP errors
    external: list = field(default_factory=list)   # requests that left the site


def open_page(browser, site_url: str, path: str, width: int = 1280, **options) -> OpenPage:
    """Load `path` of the site, recording errors and requests, and decode its images."""
    page = browser.new_page(viewport={"width": width, "height": 900}, **options)
    opened = OpenPage(path, page, 0.0)
    page.on("console", lambda m: m.type == "error" and opened.console.append(m.text))
    page.on("pageerror", lambda e: opened.console.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: opened.failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and opened.failed.append(
        f"{r.url} (HTTP {r.status})"))
    page.on("request", lambda r: None if r.url.startswith(
        (site_url, "data:", "blob:", "about:")) else opened.external.append(r.url))
    page.goto(f"{site_url}/{path}", wait_until="load")
    opened.seconds = page.evaluate("performance.now()") / 1000
    page.evaluate("""async () => { for (const img of Array.from(document.images)) {
        if (!img.complete) { try { await img.decode(); } catch (e) {} } } }""")
    return opened


@pytest.fixture(scope="session")
def book_page(request, browser, site_url):
    """One page of the book (the test's parameter) at 1280 px, opened once and shared by
    every test that reads it: parametrize with `indirect=True, scope="session"` so that
    pytest runs those tests page by page."""
    opened = open_page(browser, site_url, request.param)
    yield opened
    opened.page.close()
