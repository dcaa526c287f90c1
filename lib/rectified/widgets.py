"""Widgets: a pure ``render(state) -> Figure`` plus a thin ipywidgets wrapper.

The state is a small frozen dataclass; the render function is what the tests call and
what the static book uses to draw small multiples, so the picture a reader sees in the
HTML is the one the live widget draws.

    >>> from rectified import piecewise, plots
    >>> def render(s):                           # state -> result -> figure
    ...     return plots.draw_interpolant(piecewise.compute_interpolant(s))
    >>> interactive(render, piecewise.InterpolantState(n_units=8), n_units=(1, 32))

An experiment's state, its ``compute_x(state) -> result`` and ``plots.draw_x(result)``
live in the module of its concept; this module holds only the machinery
(:func:`interactive`, :func:`static_html`, :func:`small_multiples`).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from . import checks, figures

__all__ = ["interactive", "static_html", "small_multiples", "Gallery", "LiveBox",
           "MIN_TEXT_PX"]


def _control(name: str, spec, value):
    import ipywidgets as w

    if isinstance(spec, w.ValueWidget):
        spec.value = value
        spec.description = spec.description or name
        return spec
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(s, str) for s in spec):
        return w.Dropdown(options=list(spec), value=value, description=name)
    if isinstance(spec, tuple) and len(spec) in (2, 3):
        lo, hi = spec[:2]
        step = spec[2] if len(spec) == 3 else None
        if all(isinstance(v, int) for v in (lo, hi, value)):
            return w.IntSlider(value=value, min=lo, max=hi, step=step or 1, description=name,
                               continuous_update=False)
        return w.FloatSlider(value=value, min=lo, max=hi, step=step or (hi - lo) / 100,
                             description=name, continuous_update=False)
    if isinstance(spec, bool) or isinstance(value, bool):
        return w.Checkbox(value=value, description=name)
    raise TypeError(f"control for {name!r} must be a (min, max[, step]) tuple, a list of "
                    f"option strings, a bool or an ipywidgets widget, got {spec!r}")


def _static_values(control, max_numeric: int) -> list:
    """The values of one control at which the static (kernel-free) version is precomputed:
    every option of a selection widget (dropdown, selection slider, ...), both states of a
    checkbox, up to ``max_numeric`` values of a numeric slider."""
    import ipywidgets as w

    if isinstance(control, w.Checkbox):
        return [False, True]
    if hasattr(control, "options"):
        return [v for _, v in control.options] if control.options and isinstance(
            control.options[0], tuple) else list(control.options)
    lo, hi = control.min, control.max
    if isinstance(control, w.IntSlider):
        n = min(max_numeric, hi - lo + 1)
        values = sorted({int(round(v)) for v in np.linspace(lo, hi, n)} | {control.value})
    else:
        values = sorted({float(v) for v in np.linspace(lo, hi, max_numeric)} |
                        {float(control.value)})
    return values


def _png(fig, dpi: float, tight: bool = True) -> bytes:
    """The figure as PNG bytes (with its alt text, :func:`rectified.figures.png`); the
    figure is closed."""
    data = figures.png(fig, dpi, tight=tight)
    plt.close(fig)
    return data


def _png_data_uri(fig, dpi: float) -> tuple[str, str]:
    """(data URI of the figure's PNG at a fixed frame size, its alt text)."""
    import base64

    data = _png(fig, dpi, tight=False)
    alt = figures.read_png_text(data).get(figures.DESCRIPTION, "")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii"), alt


_STATIC_SCRIPT = """
(function () {
  var root = document.getElementById("%(id)s");
  var data = JSON.parse(root.querySelector("script.rw-data").textContent);
  var img = root.querySelector("img.rw-frame");
  var inputs = root.querySelectorAll("[data-field]");
  function update() {
    var key = [];
    inputs.forEach(function (el) {
      var i = el.tagName === "SELECT" ? el.selectedIndex : Number(el.value);
      key.push(i);
      var out = el.parentNode.querySelector("output");
      if (out) { out.textContent = data.labels[el.dataset.field][i]; }
    });
    img.src = data.frames[key.join("|")];
    img.alt = data.alts[key.join("|")];
  }
  inputs.forEach(function (el) { el.addEventListener("input", update); });
})();
"""


def static_html(render: Callable, state, values: dict, dpi: int = 72) -> str:
    """A kernel-free version of a widget: ``render`` precomputed at every combination of
    ``values`` (field → list of values), with HTML controls that switch between the stored
    frames in the browser. Used for the HTML book, where no kernel runs."""
    import hashlib
    import html
    import itertools
    import json

    fields = list(values)
    frames, alts, current = {}, {}, []
    for name in fields:
        v = getattr(state, name)
        current.append(values[name].index(v) if v in values[name] else 0)
    for combo in itertools.product(*[range(len(values[f])) for f in fields]):
        s = dataclasses.replace(state, **{f: values[f][i] for f, i in zip(fields, combo)})
        key = "|".join(map(str, combo))
        frames[key], alts[key] = _png_data_uri(render(s), dpi)
    labels = {f: [f"{v:g}" if isinstance(v, float) else str(v) for v in values[f]]
              for f in fields}
    payload = json.dumps({"frames": frames, "alts": alts, "labels": labels})
    uid = "rw-" + hashlib.sha1(payload.encode()).hexdigest()[:12]
    controls = []
    for f, i in zip(fields, current):
        if len(values[f]) > 1 and not isinstance(values[f][0], str):
            controls.append(
                f'<label>{html.escape(f)} <input type="range" data-field="{f}" min="0" '
                f'max="{len(values[f]) - 1}" step="1" value="{i}" aria-label="{html.escape(f)}">'
                f' <output>{html.escape(labels[f][i])}</output></label>')
        else:
            options = "".join(f'<option{" selected" if j == i else ""}>{html.escape(l)}</option>'
                              for j, l in enumerate(labels[f]))
            controls.append(f'<label>{html.escape(f)} <select data-field="{f}" '
                            f'aria-label="{html.escape(f)}">{options}</select></label>')
    first = "|".join(map(str, current))
    n = len(frames)
    return (
        f'<div class="rectified-static-widget" id="{uid}">'
        f'<div class="rw-controls">{" ".join(controls)}</div>'
        f'<img class="rw-frame" alt="{html.escape(alts[first])}" src="{frames[first]}">'
        f'<p class="rw-note"><em>Interactive without a kernel: the {n} figures for these '
        f'control values were computed when the page was built. Run the notebook for '
        f'every value.</em></p>'
        f'<script type="application/json" class="rw-data">{payload}</script>'
        f'<script>{_STATIC_SCRIPT % {"id": uid}}</script></div>'
    )


def interactive(render: Callable, state, static: dict | bool = True, max_frames: int = 40,
                **controls):
    """Controls for some fields of ``state`` that redraw ``render(state)`` when moved.

    Each keyword names a field of the dataclass ``state`` and says how to control it:
    ``(min, max[, step])`` for a slider, a list of strings for a dropdown, ``True`` for a
    checkbox, or a ready ipywidgets widget. Returns the widget box (with ``.state()``
    giving the current state).

    With a running kernel the box is a live ipywidget. For the HTML book, where no kernel
    runs, the box also carries a static version (:func:`static_html`): ``render``
    precomputed on a grid of control values (all options of a dropdown, up to 7 values of
    a slider; or ``static={field: [values]}``) that the page switches between in the
    browser. ``static=False`` leaves it out; more than ``max_frames`` frames is an error.
    """
    import ipywidgets as w

    if not dataclasses.is_dataclass(state):
        raise TypeError(f"state must be a dataclass instance, got {type(state).__name__}")
    fields = {f.name for f in dataclasses.fields(state)}
    unknown = set(controls) - fields
    if unknown:
        raise ValueError(f"no field(s) {sorted(unknown)} in {type(state).__name__}; "
                         f"fields: {sorted(fields)}")
    widgets = {name: _control(name, spec, getattr(state, name))
               for name, spec in controls.items()}
    static_page = ""
    if static is not False:
        chosen = static if isinstance(static, dict) else {}
        unknown = set(chosen) - set(controls)
        if unknown:
            raise ValueError(f"static values given for {sorted(unknown)}, which have no control")
        values = {name: list(chosen[name]) if name in chosen else
                  _static_values(widgets[name], 7) for name in controls}
        n_frames = int(np.prod([len(v) for v in values.values()]))
        if n_frames > max_frames:
            raise ValueError(f"the static version would need {n_frames} frames (> max_frames="
                             f"{max_frames}); pass static={{field: [values]}} with fewer values")
        static_page = static_html(render, state, values)
    out = w.Output()
    current = {"state": state}

    def redraw(*_):
        current["state"] = dataclasses.replace(
            current["state"], **{n: c.value for n, c in widgets.items()})
        fig = render(current["state"])
        with out:
            out.clear_output(wait=True)
            from IPython.display import display
            display(fig)
        plt.close(fig)

    for c in widgets.values():
        c.observe(redraw, names="value")
    box = LiveBox([w.HBox(list(widgets.values())), out])
    box.static_html = static_page
    box.state = lambda: current["state"]
    redraw()
    return box


class LiveBox(ipywidgets.VBox):
    """A VBox whose display also offers ``text/html``: ``static_html``, the precomputed
    static version that the HTML book shows instead of the live widget (a live frontend
    prefers the widget view). Every widget of the book is one, the playground's too."""

    static_html = ""

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if self.static_html and isinstance(bundle, dict):
            bundle["text/html"] = self.static_html
        return bundle


@dataclasses.dataclass(frozen=True)
class Gallery:
    """Figures shown side by side in a grid that reflows with the page: as many columns
    as fit (at most ``ncols``) while every panel stays wide enough for its smallest text
    to be 9 CSS px, one column on a phone. Displays as HTML (each panel a PNG with its
    alt text and caption); ``descriptions`` are the panels' alt texts."""

    html: str
    descriptions: tuple
    n_panels: int

    def _repr_html_(self) -> str:
        return self.html


#: The smallest text a page may show, in CSS px.
MIN_TEXT_PX = 9.0

_GALLERY_CSS = ("display:grid;gap:0.6rem 1rem;align-items:start;"
                "grid-template-columns:repeat(auto-fit,minmax(max(min(100%%,%(min)dpx),"
                "calc((100%% - %(gaps)s) / %(ncols)d)),1fr))")


def small_multiples(render: Callable, states: Sequence, titles: Sequence[str] | None = None,
                    ncols: int = 3, title: str = "", dpi: float = 100) -> Gallery:
    """The static stand-in for a widget: ``render(state)`` for several states, as a
    :class:`Gallery` with an optional overall ``title`` and a caption per panel."""
    import base64
    import html

    if not callable(render):
        raise TypeError(f"render must be a callable (state -> figure), got {render!r}")
    checks.check_int("ncols", ncols, 1, 100, "columns of the grid")
    dpi = checks.check_number("dpi", dpi, 30, 300)
    checks.check_type("title", title, str, "a string")
    states = list(states)
    if not states:
        raise ValueError("small_multiples needs at least one state")
    if titles is not None and len(titles) != len(states):
        raise ValueError(f"got {len(titles)} titles for {len(states)} states")
    panels, descriptions, min_widths = [], [], []
    for i, s in enumerate(states):
        data = _png(render(s), dpi)
        text = figures.read_png_text(data)
        width = _png_width(data)
        smallest = float(text.get(figures.SMALLEST_TEXT, 0)) or MIN_TEXT_PX
        # the narrowest the panel may be shown with its smallest text still legible
        min_widths.append(width * MIN_TEXT_PX / smallest)
        alt = text.get(figures.DESCRIPTION, "")
        descriptions.append(alt)
        caption = (f'<figcaption style="text-align:center;font-size:0.9rem">'
                   f'{html.escape(str(titles[i]))}</figcaption>' if titles is not None else "")
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        panels.append(
            f'<figure style="margin:0"><img src="{uri}" alt="{html.escape(alt)}" '
            f'style="width:100%;max-width:{width}px;height:auto;display:block">'
            f'{caption}</figure>')
    ncols = min(ncols, len(panels))
    style = _GALLERY_CSS % {"min": int(np.ceil(max(min_widths))), "ncols": ncols,
                            "gaps": f"{ncols - 1}rem"}
    head = (f'<p class="rectified-gallery-title"><strong>{html.escape(title)}</strong></p>'
            if title else "")
    page = (f'<div class="rectified-gallery">{head}<div style="{style}">'
            + "".join(panels) + "</div></div>")
    return Gallery(page, tuple(descriptions), len(panels))


def _png_width(data: bytes) -> int:
    """Pixel width of PNG ``data`` (from its header)."""
    return int.from_bytes(data[16:20], "big")

