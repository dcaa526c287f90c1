"""The live playground's speed in headless Chromium: training steps and animation frames
per second for the ring preset (3-3-3 ReLU, batch 10), one epoch per frame and 25 steps
per frame (TensorFlow Playground's cadence on its circle set, 25 mini-batches of 10 per
frame), and for a deep, wide net (8 layers of 64). Printed, never asserted: the numbers
depend on the machine and on whatever else runs on it.

    python tools/benchmark_playground.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import threading
from pathlib import Path

PLAYGROUND = Path(__file__).resolve().parents[1] / "book" / "_static" / "playground"
CHROMIUM = "/usr/bin/chromium"
CASES = [("ring preset, one epoch per frame", "data=ring+act=relu+widths=3-3-3+lr=0.03+l2=0.001",
          "epoch"),
         ("ring preset, 25 steps per frame", "data=ring+act=relu+widths=3-3-3+lr=0.03+l2=0.001",
          "25"),
         ("8 layers of 64 ReLU units, spiral", "data=spiral+widths=" + "-".join(["64"] * 8),
          "epoch")]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="play time per case")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(PLAYGROUND))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
    print(f"live playground, headless Chromium, {args.seconds:g} s of play per case")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu"])
        for name, state, speed in CASES:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}#{state}", wait_until="load")
            page.wait_for_selector(".lp-play")
            page.select_option(".lp-row select >> nth=0", speed)
            page.click(".lp-play")
            page.wait_for_timeout(500)            # warm up
            get = ("(() => { const pg = document.querySelector('.live-playground')"
                   ".playground; return [pg.stats.steps, pg.stats.frames, "
                   "performance.now()]; })()")
            s0, f0, t0 = page.evaluate(get)
            page.wait_for_timeout(args.seconds * 1000)
            s1, f1, t1 = page.evaluate(get)
            seconds = (t1 - t0) / 1000
            print(f"  {name:38s} {(s1 - s0) / seconds:8.0f} steps/s "
                  f"{(f1 - f0) / seconds:6.1f} frames/s")
            page.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
