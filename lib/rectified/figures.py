"""Figures as the book shows them: PNG bytes that carry their own description.

Every figure of the book leaves the kernel through :func:`png`: a PNG whose text chunks
hold the figure's alt text (``Description``, built by :func:`describe` from its titles,
axis labels and legend) and the height of its smallest text in image pixels
(``Smallest text px``, from :func:`smallest_text_pt`). The HTML build copies the
description into the page's ``alt`` attribute, and the browser tests check that the
smallest text is still at least 9 CSS pixels at the size the page shows the image.

:func:`show_with_descriptions` makes IPython display every matplotlib figure this way;
:func:`rectified.plots.use_style` calls it.
"""

from __future__ import annotations

import io

import matplotlib.text as mtext
from matplotlib.figure import Figure

from . import checks, notebook

__all__ = ["describe", "smallest_text_pt", "png", "read_png_text",
           "show_with_descriptions", "DESCRIPTION", "SMALLEST_TEXT"]

#: PNG text keys written by :func:`png`.
DESCRIPTION = "Description"
SMALLEST_TEXT = "Smallest text px"


def _clean(text: str) -> str:
    """One line of plain text: TeX markup of matplotlib's mathtext reduced to its
    letters ($\\alpha$ -> alpha)."""
    text = text.replace("$", "").replace("\\mathrm", "").replace("\\", "")
    text = text.replace("{", "").replace("}", "")
    return " ".join(text.split())


def _texts(fig: Figure):
    """The visible, non-empty text artists of the figure."""
    return [t for t in fig.findobj(mtext.Text)
            if t.get_visible() and t.get_text().strip() and t.figure is fig]


def describe(fig: Figure) -> str:
    """Alt text for ``fig``: its overall title, then one clause per panel with the panel's
    title, its axis labels and its legend entries, e.g. ``"Dead units. 2 panels: 'loss'
    (x: step; y: loss; lines: ReLU, tanh); ..."``."""
    checks.check_type("fig", fig, Figure, "a matplotlib Figure")
    parts = []
    title = fig.get_suptitle()
    if _clean(title):
        parts.append(_clean(title).rstrip(".") + ".")
    panels = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        bits = []
        for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")):
            if _clean(t):
                bits.append(f"'{_clean(t)}'")
        details = []
        if _clean(ax.get_xlabel()):
            details.append(f"x: {_clean(ax.get_xlabel())}")
        if _clean(ax.get_ylabel()):
            details.append(f"y: {_clean(ax.get_ylabel())}")
        legend = ax.get_legend()
        if legend is not None:
            labels = [_clean(t.get_text()) for t in legend.get_texts() if _clean(t.get_text())]
            if labels:
                details.append("lines: " + ", ".join(labels))
        if ax.get_images() and not details:
            details.append("image")
        if details:
            bits.append("(" + "; ".join(details) + ")")
        if bits:
            panels.append(" ".join(bits))
    if len(panels) == 1:
        parts.append("Plot " + panels[0] + ".")
    elif panels:
        parts.append(f"{len(panels)} panels: " + "; ".join(panels) + ".")
    text = " ".join(parts) or "A figure without titles or labels."
    return text if len(text) <= 900 else text[:897].rsplit(" ", 1)[0] + " ..."


def smallest_text_pt(fig: Figure) -> float:
    """The font size in points of the smallest visible text of ``fig`` (tick labels,
    labels, titles, legends, annotations); 0 if it has none. Draws the figure first, so
    that tick labels exist."""
    checks.check_type("fig", fig, Figure, "a matplotlib Figure")
    fig.draw_without_rendering()
    sizes = [t.get_fontsize() for t in _texts(fig)]
    return float(min(sizes)) if sizes else 0.0


def png(fig: Figure, dpi: float | None = None, tight: bool = True) -> bytes:
    """``fig`` as PNG bytes (at ``dpi`` or the style's savefig dpi; cropped to what is
    drawn if ``tight``, else the figure's full size) with its description and smallest
    text size in the PNG's text chunks."""
    import matplotlib as mpl

    checks.check_type("fig", fig, Figure, "a matplotlib Figure")
    dpi = mpl.rcParams["savefig.dpi"] if dpi is None else dpi
    if dpi == "figure":
        dpi = fig.dpi
    dpi = checks.check_number("dpi", dpi, 10, 600)
    smallest_px = smallest_text_pt(fig) * dpi / 72
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None,
                metadata={DESCRIPTION: describe(fig), SMALLEST_TEXT: f"{smallest_px:.2f}"})
    return buf.getvalue()


def read_png_text(data: bytes) -> dict[str, str]:
    """The text chunks of PNG ``data`` ({key: text})."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return dict(getattr(image, "text", {}) or {})


def show_with_descriptions() -> bool:
    """Make IPython show matplotlib figures as :func:`png` images (with their alt text and
    smallest text size). True inside IPython, False (and nothing done) elsewhere."""
    shell = notebook.ipython_shell()
    if shell is None:
        return False
    import importlib

    import matplotlib

    if "matplotlib_inline" in str(matplotlib.get_backend(auto_select=False)):
        # the inline backend registers its own PNG formatter when it is first imported
        # (matplotlib imports it lazily, at the first figure): import it now, so that the
        # formatter registered next is the one that stays
        importlib.import_module("matplotlib_inline.backend_inline")
    shell.display_formatter.formatters["image/png"].for_type(Figure, png)
    return True
