"""The live playground in headless Chromium: the page alone (book/_static/playground/
index.html, served straight from the sources, no book build needed) and, when the book is
built, on the playground chapter's page. Training must make the loss fall, a link's state
must load into the controls, clicked points must train, and nothing may log an error."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path

import pytest

from conftest import SITE

PLAYGROUND = Path(__file__).resolve().parents[2] / "book" / "_static" / "playground"
RING = "data=ring+act=relu+widths=3-3-3+lr=0.03+l2=0.001"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def playground_url():
    handler = functools.partial(_Quiet, directory=str(PLAYGROUND))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()


@pytest.fixture
def open_page(browser):
    pages = []

    def open_(url):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.errors = []
        page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
        page.on("pageerror", lambda e: page.errors.append(f"uncaught: {e}"))
        page.goto(url, wait_until="load")
        page.wait_for_selector(".live-playground .lp-play")
        pages.append(page)
        return page

    yield open_
    for page in pages:
        assert page.errors == [], page.errors
        page.close()


def _run(page, expression: str):
    return page.evaluate("(() => { const pg = document.querySelector('.live-playground')"
                         f".playground; return {expression}; }})()")


def _train_until(page, steps: int, timeout: float = 60.0):
    page.click(".lp-play")
    start = time.monotonic()
    while _run(page, "pg.run.stepCount") < steps:
        assert time.monotonic() - start < timeout, "training stalled"
        page.wait_for_timeout(100)
    page.click(".lp-play")          # pause


def test_play_trains_and_the_loss_falls_on_the_ring(open_page, playground_url):
    page = open_page(f"{playground_url}#{RING}")
    before = _run(page, "pg.run.latest().train")
    assert page.locator(".lp-play").inner_text() == "play"
    _train_until(page, 2000)
    after = _run(page, "pg.run.latest()")
    assert after["train"] < 0.5 * before and after["trainAcc"] > 0.85, (before, after)
    info = page.locator(".lp-main .lp-info").inner_text()
    assert "dead units" in info and "linear regions" in info
    # the history is drawn: the loss canvas is not blank
    assert _run(page, "pg.run.history.step.length") > 5


def test_a_links_state_loads_into_the_controls(open_page, playground_url):
    text = "data=spiral noise=0.1 act=maxout widths=5-4 k=3 lr=0.1 opt=adam batch=16 seed=3"
    page = open_page(f"{playground_url}#{text.replace(' ', '+')}")
    values = {key: page.locator(f"[data-key={key}]").input_value()
              for key in ("dataset", "noise", "activation", "widths", "k", "lr", "optimizer",
                          "batch_size", "seed")}
    assert values == {"dataset": "spiral", "noise": "0.1", "activation": "maxout",
                      "widths": "5-4", "k": "3", "lr": "0.1", "optimizer": "adam",
                      "batch_size": "16", "seed": "3"}
    assert page.locator(".lp-state input").input_value() == text
    # a change of control goes back into the state text and the address
    page.locator("[data-key=activation]").select_option("tanh")
    assert "act=tanh" in page.locator(".lp-state input").input_value()
    assert "act=tanh" in page.url
    # a preset button loads the preset
    page.click("button[data-preset='sine with ReLU']")
    assert page.locator(".lp-state input").input_value() == \
        "data=sine widths=16 lr=0.01 opt=adam"


def test_clicked_points_join_the_state_and_train(open_page, playground_url):
    page = open_page(f"{playground_url}#data=xor+widths=6-6+lr=0.1")
    canvas = page.locator(".lp-main canvas")
    box = canvas.bounding_box()
    # class 1 on the left, class 0 on the right (shift-click: the other class)
    for i, (fx, fy) in enumerate([(0.2, 0.2), (0.25, 0.5), (0.2, 0.8), (0.3, 0.35),
                                  (0.8, 0.2), (0.75, 0.5), (0.8, 0.8), (0.7, 0.65)]):
        modifiers = ["Shift"] if i < 4 else []
        canvas.click(position={"x": fx * box["width"], "y": fy * box["height"]},
                     modifiers=modifiers)
    state = page.locator(".lp-state input").input_value()
    assert state.count(";") == 7 and "pts=" in state, state
    assert "pts=" in page.url
    labels = [p.split(",")[2] for p in state.split("pts=")[1].split(";")]
    assert labels == ["1"] * 4 + ["0"] * 4
    # train on these points alone
    page.locator(".lp input[type=checkbox]").check()
    assert "n=0" in page.locator(".lp-state input").input_value()
    assert _run(page, "pg.run.data.nTrain") == 8
    _train_until(page, 300)
    assert _run(page, "pg.run.latest().trainAcc") == 1.0
    # pasted CSV points are added too; clearing removes them all
    page.locator(".lp details summary").click()
    page.locator(".lp textarea").fill("x1,x2,label\n0.5,0.5,1\n-0.5,-0.5,0\n")
    page.click("text=add these points")
    assert _run(page, "pg.run.state.points.length") == 10
    page.click("text=clear my points")
    assert _run(page, "pg.run.state.points.length") == 0
    assert "pts=" not in page.locator(".lp-state input").input_value()


def test_a_bad_link_or_text_is_a_message_not_an_error(open_page, playground_url):
    page = open_page(f"{playground_url}#data=ring+lr=fast")
    assert "lr must be a number" in page.locator(".lp-msg").inner_text()
    box = page.locator(".lp-state input")
    box.fill("data=ring widths=0")
    box.press("Enter")
    assert "widths must be" in page.locator(".lp-msg").inner_text()


def test_a_deep_wide_net_keeps_the_page_responsive(open_page, playground_url):
    page = open_page(f"{playground_url}#data=spiral+widths=64-64-64-64-64-64-64-64")
    page.click(".lp-play")
    page.wait_for_timeout(1500)
    page.click(".lp-play")                     # the click is handled between frames
    assert page.locator(".lp-play").inner_text() == "play"
    steps = _run(page, "pg.run.stepCount")
    assert steps > 0
    page.wait_for_timeout(500)                 # paused: no frame trains any more
    assert _run(page, "pg.run.stepCount") == steps


@pytest.mark.skipif(not (SITE / "book" / "playground.html").exists(),
                    reason="the book is not built (make book)")
def test_the_playground_page_carries_the_live_playground(open_page, site_url):
    page = open_page(f"{site_url}/book/playground.html")
    assert page.locator(".live-playground .lp canvas").count() == 3
    _train_until(page, 200)
    assert _run(page, "pg.run.stepCount") >= 200
