"""Figures that carry their alt text and smallest text size; galleries that reflow."""

import re

import matplotlib.pyplot as plt
import pytest

from rectified import figures, piecewise, plots, widgets


def render_interpolant(s):
    return plots.draw_interpolant(piecewise.compute_interpolant(s))


@pytest.fixture(autouse=True)
def _style():
    plots.use_style()
    yield
    plt.close("all")


def test_describe_names_title_panels_labels_and_legend():
    fig, (a, b) = plt.subplots(1, 2)
    a.plot([0, 1], label="ReLU")
    a.plot([1, 0], label=r"$\tanh$")
    a.legend()
    a.set_title("loss")
    a.set_xlabel("step")
    a.set_ylabel("cross-entropy")
    b.imshow([[0, 1], [1, 0]])
    b.set_title("map")
    fig.suptitle("Two views.")
    assert figures.describe(fig) == ("Two views. 2 panels: 'loss' (x: step; y: cross-entropy; "
                                     "lines: ReLU, tanh); 'map' (image).")


def test_describe_a_single_panel_and_an_empty_figure():
    fig, ax = plt.subplots()
    ax.set_xlabel("z")
    assert figures.describe(fig) == "Plot (x: z)."
    fig2 = plt.figure()
    assert figures.describe(fig2) == "A figure without titles or labels."


def test_smallest_text_sees_tick_labels_and_small_annotations():
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    ax.tick_params(labelsize=7)
    assert figures.smallest_text_pt(fig) == 7
    ax.text(0.5, 0.5, "tiny", fontsize=5)
    assert figures.smallest_text_pt(fig) == 5
    ax.texts[0].set_visible(False)
    assert figures.smallest_text_pt(fig) == 7


def test_png_carries_description_and_smallest_text_in_pixels():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("a title")
    ax.tick_params(labelsize=9)
    data = figures.png(fig, dpi=144)
    text = figures.read_png_text(data)
    assert text[figures.DESCRIPTION] == "Plot 'a title'."
    assert float(text[figures.SMALLEST_TEXT]) == pytest.approx(9 * 144 / 72)
    full = figures.png(fig, dpi=100, tight=False)
    assert int.from_bytes(full[16:20], "big") == 300      # 3 in at 100 dpi, not cropped


def test_use_style_makes_ipython_show_figures_with_descriptions():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert figures.show_with_descriptions()
        fig, ax = plt.subplots()
        ax.set_title("shown")
        bundle, _ = shell.display_formatter.format(fig)
        import base64

        data = bundle["image/png"]
        data = base64.b64decode(data) if isinstance(data, str) else data
        assert figures.read_png_text(data)[figures.DESCRIPTION] == "Plot 'shown'."
    finally:
        InteractiveShell.clear_instance()
    assert not figures.show_with_descriptions()    # outside IPython: nothing to do


def test_gallery_has_one_described_panel_per_state_and_reflows():
    states = [piecewise.InterpolantState(n_units=n) for n in (1, 2, 3, 4)]
    g = widgets.small_multiples(render_interpolant, states, titles=list("abcd"), ncols=2,
                                title="Four fits")
    assert g.n_panels == 4 and len(g.descriptions) == 4
    page = g._repr_html_()
    assert page.count("<img ") == 4 and page.count("<figcaption") == 4
    assert "<strong>Four fits</strong>" in page
    alts = re.findall(r'alt="([^"]*)"', page)
    assert len(alts) == 4 and all(alts) and alts == [a.replace("'", "&#x27;")
                                                     for a in g.descriptions]
    # at most 2 columns; each column at least as wide as keeps 9 px text
    minimum = int(re.search(r"min\(100%,(\d+)px\)", page).group(1))
    data = figures.png(render_interpolant(states[0]), dpi=100)
    width = int.from_bytes(data[16:20], "big")
    smallest = float(figures.read_png_text(data)[figures.SMALLEST_TEXT])
    assert minimum == pytest.approx(width * widgets.MIN_TEXT_PX / smallest, abs=1)
    assert "/ 2)" in page


def test_static_widget_frames_carry_their_own_alt_text():
    box = widgets.interactive(render_interpolant, piecewise.InterpolantState(n_units=4),
                              target=["sine", "abs"])
    page = box._repr_mimebundle_()["text/html"]
    import json

    payload = json.loads(re.search(r'class="rw-data">(.*?)</script>', page).group(1))
    assert set(payload["alts"]) == set(payload["frames"]) and all(payload["alts"].values())
    assert 'img.alt = data.alts' in page
