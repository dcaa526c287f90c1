"""Widgets: a pure ``render(state) -> Figure`` plus a thin ipywidgets wrapper.

The state is a small frozen dataclass; the render function is what the tests call and
what the static book uses to draw small multiples, so the picture a reader sees in the
HTML is the one the live widget draws.

    >>> state = InterpolantState(n_units=8)
    >>> fig = render_interpolant(state)          # what the tests check
    >>> interactive(render_interpolant, state, n_units=(1, 32))   # in a notebook

Chapters: the introduction (ReLU interpolant), the rectifier family (activation explorer).
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from typing import Callable, Sequence

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import torch

from . import activations, data, models, plots

__all__ = ["interactive", "static_html", "small_multiples", "InterpolantState", "render_interpolant",
           "ActivationState", "render_activation"]


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


def _static_values(name: str, control, spec, max_numeric: int) -> list:
    """The values of one control at which the static (kernel-free) version is precomputed."""
    import ipywidgets as w

    if isinstance(spec, (list, tuple)) and spec and all(isinstance(s, str) for s in spec):
        return list(spec)
    if isinstance(control, w.Checkbox):
        return [False, True]
    if isinstance(control, w.Dropdown):
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


def _png_data_uri(fig, dpi: int) -> str:
    import base64

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


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
    frames, current = {}, []
    for name in fields:
        v = getattr(state, name)
        current.append(values[name].index(v) if v in values[name] else 0)
    for combo in itertools.product(*[range(len(values[f])) for f in fields]):
        s = dataclasses.replace(state, **{f: values[f][i] for f, i in zip(fields, combo)})
        frames["|".join(map(str, combo))] = _png_data_uri(render(s), dpi)
    labels = {f: [f"{v:g}" if isinstance(v, float) else str(v) for v in values[f]]
              for f in fields}
    payload = json.dumps({"frames": frames, "labels": labels})
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
    first = frames["|".join(map(str, current))]
    n = len(frames)
    return (
        f'<div class="rectified-static-widget" id="{uid}">'
        f'<div class="rw-controls">{" ".join(controls)}</div>'
        f'<img class="rw-frame" alt="{html.escape(render.__name__)} figure" src="{first}">'
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
                  _static_values(name, widgets[name], controls[name], 7) for name in controls}
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
    box = _LiveBox([w.HBox(list(widgets.values())), out])
    box.static_html = static_page
    box.state = lambda: current["state"]
    redraw()
    return box


class _LiveBox(ipywidgets.VBox):
    """A VBox whose display also offers ``text/html``: the precomputed static version,
    which the HTML book shows instead of the live widget (a live frontend prefers the
    widget view)."""

    static_html = ""

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if self.static_html and isinstance(bundle, dict):
            bundle["text/html"] = self.static_html
        return bundle


def small_multiples(render: Callable, states: Sequence, titles: Sequence[str] | None = None,
                    ncols: int = 3, width: float = 4.0):
    """The static stand-in for a widget: ``render(state)`` for several states, tiled."""
    states = list(states)
    if not states:
        raise ValueError("small_multiples needs at least one state")
    if titles is not None and len(titles) != len(states):
        raise ValueError(f"got {len(titles)} titles for {len(states)} states")
    images = []
    for s in states:
        fig = render(s)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        plt.close(fig)
        buf.seek(0)
        images.append(plt.imread(buf))
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    h, w_ = images[0].shape[:2]
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, width * h / w_ * nrows),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i])
            if titles is not None:
                ax.set_title(titles[i])
    return fig


# --- The introduction's widget: a sum of ReLUs bends a line into a curve -------------------

@dataclass(frozen=True)
class InterpolantState:
    """How many ReLU units approximate which target on which interval."""

    target: str = "sine"
    n_units: int = 4
    lo: float = -4.0
    hi: float = 4.0


def render_interpolant(state: InterpolantState):
    """The target, the n-unit ReLU net that interpolates it at n+1 evenly spaced knots,
    each unit's contribution, and the kinks. The title reports the maximum error."""
    if state.target not in data.TARGETS_1D:
        raise ValueError(f"unknown target {state.target!r}; known: {', '.join(data.TARGETS_1D)}")
    if not isinstance(state.n_units, int) or state.n_units < 1:
        raise ValueError(f"n_units must be a positive int, got {state.n_units!r}")
    f = data.TARGETS_1D[state.target]
    knots = np.linspace(state.lo, state.hi, state.n_units + 1)
    net = models.relu_interpolant(knots, f(knots))
    x = np.linspace(state.lo, state.hi, 600)
    with torch.no_grad():
        xt = torch.as_tensor(x[:, None], dtype=torch.float32)
        y_net = net(xt).numpy().ravel()
        units = net.forward_hidden(xt)[2][0].numpy() * net.out.weight.numpy()
    err = float(np.abs(y_net - f(x)).max())
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for j in range(units.shape[1]):
        ax.plot(x, units[:, j] + net.out.bias.item(), color=plots.color("relu"), lw=0.7,
                alpha=0.3)
    ax.plot(x, f(x), color="k", lw=1.2, ls="--", label=f"target: {state.target}")
    ax.plot(x, y_net, color=plots.color("relu"), label=f"sum of {state.n_units} ReLUs")
    ax.plot(knots[:-1], f(knots[:-1]), "o", color=plots.color("relu"), ms=4, label="kinks")
    lo, hi = min(f(x).min(), y_net.min()), max(f(x).max(), y_net.max())
    pad = 0.15 * (hi - lo)
    ax.set_ylim(lo - pad, hi + pad)   # the units' own lines may leave the frame
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_title(f"{state.n_units} ReLU unit{'s' if state.n_units > 1 else ''}: "
                 f"max error {err:.3f}")
    ax.legend(loc="lower right")
    return fig


# --- Activation explorer ---------------------------------------------------------------------

@dataclass(frozen=True)
class ActivationState:
    """Which activation to draw, with its one shape parameter where it has one."""

    name: str = "relu"
    param: float | None = None   # slope / alpha / beta, depending on the activation
    derivative: bool = True
    lo: float = -4.0
    hi: float = 4.0


def render_activation(state: ActivationState):
    """Value and derivative of one activation side by side, kinks marked."""
    spec = activations.get(state.name)
    shape_params = [p for p in spec.params if p != "grad_at_zero"]
    params = {shape_params[0]: state.param} if state.param is not None and shape_params else {}
    act = activations.get(state.name, **params)
    x = np.linspace(state.lo, state.hi, 801)
    fig, axes = plt.subplots(1, 2 if state.derivative else 1, figsize=(8, 3.2), squeeze=False)
    axes = axes.ravel()
    axes[0].plot(x, act(x), color=plots.color(act.name))
    axes[0].set_title(f"{act.name}: ${act.formula}$")
    axes[0].set_xlabel("input $z$")
    axes[0].set_ylabel("$f(z)$")
    if state.derivative:
        axes[1].plot(x, act.grad(x), color=plots.color(act.name))
        axes[1].set_title("derivative")
        axes[1].set_xlabel("input $z$")
        axes[1].set_ylabel("$f'(z)$")
    for ax in axes:
        for k in act.kinks:
            ax.axvline(k, color="k", lw=0.6, ls=":")
    return fig
