"""Widgets: a pure ``render(state) -> Figure`` plus a thin ipywidgets wrapper.

The state is a small frozen dataclass; the render function is what the tests call and
what the static book uses to draw small multiples, so the picture a reader sees in the
HTML is the one the live widget draws.

    >>> state = InterpolantState(n_units=8)
    >>> fig = render_interpolant(state)          # what the tests check
    >>> interactive(render_interpolant, state, n_units=(1, 32))   # in a notebook

Below the machinery (:func:`interactive`, :func:`static_html`, :func:`small_multiples`),
each chapter's scenes follow under a heading naming the chapter. The activation explorer
(:class:`ActivationState`) is for readers' own notebooks; no chapter shows it.
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
           "ActivationState", "render_activation", "RecurrenceState", "render_recurrence",
           "DEAD_MAP_REMEDIES", "DeadMapState", "dead_map_setup", "dead_map_trace",
           "render_dead_map", "KinkState", "render_kink",
           "MaxoutFitState", "render_maxout_fit", "SpeedState", "render_training_speed",
           "GradientFlowState", "render_gradient_flow", "FitState", "fit_data", "fit_net",
           "render_fit", "BoundaryState", "boundary_data", "boundary_net", "render_boundary"]


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


def _png(fig, dpi: int) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _png_data_uri(fig, dpi: int) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(_png(fig, dpi)).decode("ascii")


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
        images.append(plt.imread(io.BytesIO(_png(render(s), dpi=80))))
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


# --- RNN chapter: hidden-state and gradient norms through time --------------------------------

@dataclass(frozen=True)
class RecurrenceState:
    """An Elman RNN with recurrent matrix W = scale·Q (Q orthogonal, so every singular value
    of W equals ``scale``), driven by random inputs of size ``input_scale``."""

    activation: str = "tanh"
    scale: float = 1.0
    length: int = 100
    input_scale: float = 0.5
    hidden: int = 64
    seed: int = 0


def render_recurrence(state: RecurrenceState):
    """‖h_t‖ and ‖∂h_t/∂h_0‖₂ against t (median over 4 random input sequences), with the
    bound (γ·σ_max(W))^t = scale^t (γ = 1 for tanh and ReLU) and, for tanh, ‖h‖ ≤ √hidden.
    RNN chapter."""
    from . import recurrence

    if state.activation not in ("tanh", "relu"):
        raise ValueError(f"activation must be 'tanh' or 'relu', got {state.activation!r}")
    if not isinstance(state.length, int) or state.length < 1:
        raise ValueError(f"length must be a positive int, got {state.length!r}")
    tr = recurrence.driven_trajectory(state.activation, state.scale, state.length,
                                      state.hidden, state.input_scale, seed=state.seed)
    t = np.arange(1, state.length + 1)
    col = plots.color(state.activation)
    # a fixed layout and few (mathtext) tick labels keep one frame fast to draw
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.3), layout="none")
    fig.subplots_adjust(left=0.085, right=0.985, bottom=0.15, top=0.8, wspace=0.3)
    axes[0].semilogy(t, np.median(tr.state_norm, 0), color=col)
    if state.activation == "tanh":
        axes[0].axhline(np.sqrt(state.hidden), color="k", ls=":", lw=1,
                        label=r"tanh bound $\sqrt{n}$")
        axes[0].legend(loc="lower left")
    axes[0].set_ylim(1e-3, 1e9)
    axes[0].set_yticks([1e-3, 1e0, 1e3, 1e6, 1e9])
    axes[0].minorticks_off()
    axes[0].set_title("hidden state")
    axes[0].set_ylabel(r"$\|h_t\|$")
    with np.errstate(over="ignore", under="ignore"):
        bound = state.scale ** t.astype(float)
    axes[1].semilogy(t, np.maximum(np.median(tr.jacobian_norm, 0), 1e-300), color=col,
                     label="measured")
    axes[1].semilogy(t, bound, color="k", ls="--", lw=1,
                     label=r"bound $(\gamma\,\sigma_{\max})^t$")
    axes[1].set_ylim(1e-20, 1e9)
    axes[1].set_yticks([1e-20, 1e-15, 1e-10, 1e-5, 1e0, 1e5])
    axes[1].minorticks_off()
    axes[1].set_title("gradient through time")
    axes[1].set_ylabel(r"$\|\partial h_t / \partial h_0\|_2$")
    axes[1].legend(loc="lower left")
    for ax in axes:
        ax.set_xlabel("time step $t$")
        ax.set_xlim(1, state.length)
    fig.suptitle(f"{state.activation}, $W = {state.scale:g}\\cdot Q$, inputs × "
                 f"{state.input_scale:g}: $\\|h_T\\|$ = {np.median(tr.state_norm[:, -1]):.2g}, "
                 f"gradient {np.median(tr.jacobian_norm[:, -1]):.2g}", fontsize=11)
    return fig


# --- Dying ReLU: which units die, under which learning rate and remedy -----------------------

#: The dead-unit map's remedies: (MLP options, TrainConfig options) switched on by each.
DEAD_MAP_REMEDIES = {
    "none": ({}, {}),
    "leaky_relu": ({"activation": "leaky_relu"}, {}),
    "bias_0.1": ({"bias_init": 0.1}, {}),
    "batchnorm_before": ({"batchnorm": "before"}, {}),
    "batchnorm_after": ({"batchnorm": "after"}, {}),
    "asymmetric_init": ({"init": "asymmetric"}, {}),
    "momentum": ({}, {"optimizer": "momentum"}),
    "adam": ({}, {"optimizer": "adam"}),
}


@dataclass(frozen=True)
class DeadMapState:
    """One run of the dying ReLU chapter: an MLP 64 → depth × [width] → 10 on the digits'
    [0, 1] pixels, trained (SGD, batch 32, unless the remedy changes the optimiser) at
    ``lr`` with one remedy of :data:`DEAD_MAP_REMEDIES` switched on."""

    lr: float = 0.5
    remedy: str = "none"
    epochs: int = 10
    seed: int = 0
    width: int = 64
    depth: int = 3
    record_every: int = 10


def dead_map_setup(state: DeadMapState):
    """(model, TrainConfig) for a :class:`DeadMapState`."""
    from . import train

    if state.remedy not in DEAD_MAP_REMEDIES:
        raise ValueError(f"unknown remedy {state.remedy!r}; known: "
                         f"{', '.join(DEAD_MAP_REMEDIES)}")
    model_opts, cfg_opts = DEAD_MAP_REMEDIES[state.remedy]
    model = models.MLP(64, [state.width] * state.depth, 10, seed=state.seed, **model_opts)
    cfg = train.TrainConfig(lr=state.lr, epochs=state.epochs, batch_size=32, seed=state.seed,
                            record_every=state.record_every, diagnostics=False, **cfg_opts)
    return model, cfg


def dead_map_trace(state: DeadMapState, dataset=None):
    """Train the run a :class:`DeadMapState` describes and keep every unit's margin
    (a :class:`rectified.train.UnitTrace`); ``dataset`` defaults to
    :func:`rectified.data.digits_pixels`."""
    from . import train

    model, cfg = dead_map_setup(state)
    return train.trace_units(model, data.digits_pixels() if dataset is None else dataset, cfg)


def render_dead_map(state: DeadMapState, trace=None):
    """Dead-unit map (hidden units × training steps: alive in colour, dead in grey; units
    sorted by how long they live, layer 1 on top) beside the accuracy curves.
    ``trace`` is the run's :class:`~rectified.train.UnitTrace` (trained here when None)."""
    trace = dead_map_trace(state) if trace is None else trace
    hist = trace.history
    steps = trace.step
    rows, centres, top = [], [], 0
    for layer in range(len(trace.margin)):
        alive = trace.alive(layer).T.astype(float)            # (units, records)
        alive = alive[np.argsort(-alive.sum(1), kind="stable")]
        rows.append(alive)
        centres.append(top + alive.shape[0] / 2)
        top += alive.shape[0]
        if layer < len(trace.margin) - 1:
            rows.append(np.full((2, alive.shape[1]), np.nan))
            top += 2
    image = np.vstack(rows)
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.3), gridspec_kw={"width_ratios": [3, 2]})
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(["#9a9a9a", plots.color("relu")]).with_extremes(bad="white")
    axes[0].imshow(image, aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest",
                   extent=(steps[0], steps[-1], image.shape[0], 0))
    axes[0].set_yticks(centres, [f"layer {i + 1}" for i in range(len(centres))])
    axes[0].grid(False)
    axes[0].set_xlabel("training step")
    axes[0].set_title("hidden units: alive (red) or dead (grey)")
    axes[1].plot(hist.step, hist.train_acc, color=plots.color("relu"), label="train")
    axes[1].plot(hist.step, hist.test_acc, color="k", ls="--", lw=1.2, label="test")
    axes[1].axhline(0.1, color="k", lw=0.6, ls=":", label="chance")
    axes[1].set_ylim(0, 1.02)
    axes[1].set_xlabel("training step")
    axes[1].set_ylabel("accuracy")
    axes[1].set_title("accuracy")
    axes[1].legend(loc="center right")
    dead = 1 - np.concatenate([trace.alive(l)[-1] for l in range(len(trace.margin))]).mean()
    end = "diverged" if hist.diverged else f"test accuracy {hist.test_acc[-1]:.2f}"
    fig.suptitle(f"remedy {state.remedy}, lr {state.lr:g}: {dead:.0%} of hidden units dead "
                 f"at the end, {end}", fontsize=11)
    return fig


# --- Maxout chapter: a maxout unit fitted to a 1-D target, piece by piece ---------------------

@dataclass(frozen=True)
class MaxoutFitState:
    """Which target on [-3, 3] is fitted by one maxout unit of k pieces, or (``difference``)
    by the difference of two such units."""

    target: str = "parabola"
    k: int = 4
    difference: bool = False


def render_maxout_fit(state: MaxoutFitState):
    """Left: the fitted unit's k lines and their max (with ``difference``, both units).
    Right: the approximation against the target, RMS error in the title. Maxout chapter."""
    from . import piecewise

    if state.target not in piecewise.TARGETS:
        raise ValueError(f"unknown target {state.target!r}; known: "
                         f"{', '.join(piecewise.TARGETS)}")
    f = piecewise.TARGETS[state.target]
    x = np.linspace(-3, 3, 301)
    y = f(x)
    fit = piecewise.fit_maxout_1d(x, y, state.k, difference=state.difference)
    err = fit.rms_error(x, y)
    # A fixed layout: the static page precomputes many frames, and this is 40% faster.
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4), layout="none")
    fig.subplots_adjust(left=0.075, right=0.985, bottom=0.15, top=0.82, wspace=0.22)
    units = [("g", fit.g, plots.color("maxout"))]
    if fit.h is not None:
        units.append(("h", fit.h, "#1f77b4"))
    lo, hi = min(y.min(), 0.0), y.max()
    for name, lines, col in units:
        unit = piecewise.max_of_lines(x, lines)
        lo, hi = min(lo, unit.min()), max(hi, unit.max())
        for a, b in lines:
            axes[0].plot(x, a * x + b, color=col, lw=0.8, alpha=0.45)
        label = (f"unit {name} = max of its {len(lines)} lines" if fit.h is not None
                 else f"max of {len(lines)} lines")
        axes[0].plot(x, unit, color=col, lw=2.2, label=label)
    if fit.h is None:
        axes[0].plot(x, y, color="k", lw=1.2, ls="--", label=f"target: {state.target}")
    pad = 0.1 * (hi - lo)
    axes[0].set_ylim(lo - pad, hi + pad)
    axes[0].set_title("the pieces" if fit.h is None else "two maxout units and their pieces")
    axes[0].legend(loc="upper center", fontsize=8)
    axes[1].plot(x, y, color="k", lw=1.2, ls="--", label=f"target: {state.target}")
    axes[1].plot(x, fit(x), color=plots.color("maxout"), lw=2.0,
                 label="g − h" if fit.h is not None else "maxout unit")
    axes[1].set_title(f"RMS error {err:.3f}")
    axes[1].legend(loc="lower right", fontsize=8)
    for ax in axes:
        ax.set_xlabel("input $x$")
        ax.set_ylabel("output")
    what = (f"difference of two maxout units, k = {state.k} pieces each" if state.difference
            else f"one maxout unit, k = {state.k} piece{'s' if state.k > 1 else ''}")
    fig.suptitle(what, fontsize=11, y=0.97)
    return fig


# --- The kink at zero: exact zeros and ReLU'(0) in four number formats ---------------------

_KINK_NETWORKS = ("cnn", "mlp-separate", "mlp-fused")


@dataclass(frozen=True)
class KinkState:
    """One network, one number format, one choice of ReLU'(0).

    network: ``"cnn"`` (SmallCNN on raw 8×8 digits, whose blank pixels are exact zeros),
    ``"mlp-separate"`` (64-64-64-10 MLP on standardised digits, each bias added after the
    matrix product in the working precision) or ``"mlp-fused"`` (the same MLP through
    ``nn.Linear``, which adds the bias inside the product). ``bias_init`` sets every hidden
    bias at initialisation; ``n_examples`` training digits form one minibatch.
    """

    network: str = "cnn"
    dtype: str = "float32"
    grad_at_zero: float = 1.0
    bias_init: float = 0.0
    n_examples: int = 256
    seed: int = 0


def _kink_param_label(name: str) -> str:
    """'linears.0.weight' → 'layer 1 W', 'convs.1.bias' → 'conv 2 b', 'out.weight' → 'out W'."""
    parts = name.split(".")
    kind = {"weight": "W", "bias": "b"}.get(parts[-1], parts[-1])
    if len(parts) == 3:
        layer = {"linears": "layer", "convs": "conv"}.get(parts[0], parts[0])
        return f"{layer} {int(parts[1]) + 1} {kind}"
    return f"{parts[0]} {kind}"


def render_kink(state: KinkState):
    """Left: the fraction of each hidden layer's pre-activations that are exactly 0.
    Right: for each parameter tensor, ‖∇_g − ∇_0‖/‖∇_0‖ between backpropagation with
    ReLU'(0) = g and with ReLU'(0) = 0 on the same minibatch. Kink-at-zero chapter."""
    from matplotlib.ticker import FixedLocator, NullLocator

    from . import precision

    if state.network not in _KINK_NETWORKS:
        raise ValueError(f"unknown network {state.network!r}; known: {', '.join(_KINK_NETWORKS)}")
    precision.resolve_dtype(state.dtype)
    if not isinstance(state.n_examples, int) or state.n_examples < 1:
        raise ValueError(f"n_examples must be a positive int, got {state.n_examples!r}")
    if state.network == "cnn":
        ds = data.digits(standardize=False, images=True)
        net = models.SmallCNN(seed=state.seed)
        with torch.no_grad():
            for conv in net.convs:
                conv.bias.fill_(state.bias_init)
        forward = None
    else:
        ds = data.digits()
        net = models.MLP(64, [64, 64], 10, bias_init=state.bias_init, seed=state.seed)
        forward = precision.forward_separate_bias if state.network == "mlp-separate" else None
    X, y = ds.X_train[:state.n_examples], ds.y_train[:state.n_examples]
    cmp = precision.compare_gradients(net, X, y, state.dtype, state.grad_at_zero,
                                      batch_size=None, forward=forward)
    zeros, totals = cmp.layer_zeros, cmp.layer_totals

    # fixed margins instead of a layout engine: this figure is drawn many times per page
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.8), layout="none")
    fig.subplots_adjust(left=0.08, right=0.99, bottom=0.24, top=0.84, wspace=0.28)
    floor = 1e-7
    xs = np.arange(1, len(zeros) + 1)
    ax0.bar(xs, [max(z / t, floor) for z, t in zip(zeros, totals)], color=plots.color("relu"))
    for x_, z, t in zip(xs, zeros, totals):
        ax0.text(x_, max(z / t, floor) * 1.6, f"{z:,} of {t:,}" if z else f"none of {t:,}",
                 ha="center", va="bottom", fontsize=8)
    ax0.set_yscale("log")
    ax0.set_ylim(floor, 1)
    ax0.set_xticks(xs)
    ax0.set_xlabel("hidden layer (1 = input side)")
    ax0.set_ylabel("fraction of pre-activations")
    ax0.set_title("pre-activations exactly 0")
    diffs = cmp.param_diff[0]
    names = [_kink_param_label(n) for n in cmp.param_names]
    ax1.bar(range(len(diffs)), [max(d, floor) for d in diffs], color="#555555")
    for i, d in enumerate(diffs):
        if d == 0:
            ax1.text(i, floor * 2, "identical", ha="center", va="bottom", fontsize=8,
                     rotation=90)
    ax1.set_yscale("log")
    ax1.set_ylim(floor, 1)
    ax1.set_xticks(range(len(diffs)))
    ax1.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax1.set_ylabel("relative difference")
    for ax in (ax0, ax1):   # a few labelled decades and no minor ticks keep the render fast
        ax.yaxis.set_major_locator(FixedLocator([1e-6, 1e-4, 1e-2, 1.0]))
        ax.yaxis.set_minor_locator(NullLocator())
    ax1.set_title(f"gradient, ReLU'(0) = {state.grad_at_zero:g} vs 0")
    fig.suptitle(f"{state.network}, {state.dtype}, hidden biases {state.bias_init:g}: "
                 f"the two gradients {'differ' if cmp.n_differ else 'are identical'}")
    return fig


# --- Training speed: learning rate and activation → training curves ------------------------

@dataclass(frozen=True)
class SpeedState:
    """One cell of the training-speed grid: activation, learning rate, input scaling
    (``"standardised"`` or ``"raw"``), number of hidden layers, and the accuracy target."""

    activation: str = "relu"
    lr: float = 0.1
    inputs: str = "standardised"
    depth: int = 3
    target: float = 0.95


def render_training_speed(state: SpeedState, runs):
    """Training error against epochs for every seed of one grid cell, with the target line
    and, dashed, the other activations at their own best learning rate.

    ``runs`` maps (activation, lr, inputs, depth) → list of :class:`~rectified.train.History`
    (one per seed), as the why-ReLU part 2 chapter computes it; the learning rate snaps to
    the nearest one that was run.
    """
    from .ensemble import best_by_median, epochs_to_target

    cells = [k for k in runs if k[2] == state.inputs and k[3] == state.depth]
    acts = sorted({k[0] for k in cells}, key=lambda a: (a != "relu", a))
    if state.activation not in acts:
        raise ValueError(f"no runs for activation {state.activation!r} with inputs="
                         f"{state.inputs!r}, depth={state.depth!r}; have: {acts}")
    lrs = sorted(k[1] for k in cells if k[0] == state.activation)
    lr = min(lrs, key=lambda v: abs(np.log(v) - np.log(state.lr)))
    err_pct = 100 * (1 - state.target)

    def curve(h):
        return np.asarray(h.epoch), 100 * (1 - np.asarray(h.train_acc))

    fig, ax = plt.subplots(figsize=(5.6, 3.9))
    for other in acts:
        if other == state.activation:
            continue
        table = {v: [epochs_to_target(h, state.target, interpolate=True)
                     for h in runs[(other, v, state.inputs, state.depth)]]
                 for v in sorted(k[1] for k in cells if k[0] == other)}
        best, _ = best_by_median(table)
        for i, h in enumerate(runs[(other, best, state.inputs, state.depth)]):
            ax.plot(*curve(h), color=plots.color(other), lw=1, ls="--", alpha=0.7,
                    label=f"{other}, its best lr {best:g}" if i == 0 else None)
    hists = runs[(state.activation, lr, state.inputs, state.depth)]
    for i, h in enumerate(hists):
        ax.plot(*curve(h), color=plots.color(state.activation), lw=2,
                label=f"{state.activation}, lr {lr:g} ({len(hists)} seeds)" if i == 0 else None)
    ax.axhline(err_pct, color="k", lw=1, ls=":", label=f"target: {err_pct:g}% error")
    epochs = [epochs_to_target(h, state.target, interpolate=True) for h in hists]
    med = float(np.median(epochs))
    verdict = (f"median {med:.1f} epochs to target" if np.isfinite(med)
               else "median seed misses the target")
    ax.set_yscale("log")
    ax.set_ylim(1, 100)
    ticks = [1, 2, 5, 10, 20, 50, 100]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_yticks([], minor=True)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training error (%)")
    depth = f"{state.depth} hidden layer{'s' if state.depth > 1 else ''}"
    ax.set_title(f"{state.activation}, lr {lr:g} ({state.inputs}, {depth}):\n{verdict}",
                 fontsize=12)
    ax.legend(loc="lower left", fontsize=9)
    return fig


# --- Gradient flow: depth, activation and init scale → per-layer signal and gradient ---------

@dataclass(frozen=True)
class GradientFlowState:
    """A freshly initialised MLP of ``depth`` hidden layers of ``width`` units on 256 digits:
    its activation, initialisation (see :data:`rectified.models.INITS`) and a factor
    ``init_scale`` on every weight."""

    activation: str = "relu"
    init: str = "he"
    depth: int = 20
    init_scale: float = 1.0
    width: int = 64
    seed: int = 0


def render_gradient_flow(state: GradientFlowState):
    """Two panels, layer by layer: the variance of the pre-activation (forward signal) and
    the norm of the back-propagated gradient ∂loss/∂z_l, against ReLU with He init (dashed).
    The title gives the gradient's ratio between the first and the last hidden layer.
    Why-ReLU part 1 chapter."""
    from .propagation import layer_profile

    if not isinstance(state.depth, int) or state.depth < 1:
        raise ValueError(f"depth must be a positive int, got {state.depth!r}")
    ds = data.digits(seed=0)
    X, y = ds.X_train[:256], ds.y_train[:256]

    def profile(activation, init, scale):
        net = models.MLP(ds.n_features, [state.width] * state.depth, 10, activation=activation,
                         init=init, init_scale=scale, seed=state.seed)
        return layer_profile(net, X, y)

    prof = profile(state.activation, state.init, state.init_scale)
    is_ref = (state.activation, state.init, state.init_scale) == ("relu", "he", 1.0)
    ref = None if is_ref else profile("relu", "he", 1.0)
    layers = np.arange(1, state.depth + 1)
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), layout="constrained")
    label = f"{state.activation}, {state.init}" + \
        (f" ×{state.init_scale:g}" if state.init_scale != 1.0 else "")
    for ax, field, ylabel in ((axes[0], "pre_var", "Var($z_l$)"),
                              (axes[1], "backprop", r"$\|\partial \mathrm{loss}/\partial z_l\|$")):
        ax.plot(layers, getattr(prof, field), marker="o", ms=3, label=label,
                color=plots.color(state.activation))
        if ref is not None:
            ax.plot(layers, getattr(ref, field), ls="--", color="0.5", lw=1.5,
                    label="relu, he (reference)")
        ax.set_yscale("log")
        shown = [v for p in (prof, ref) if p is not None for v in getattr(p, field) if v > 0]
        if shown:   # at least two decades, so that small wiggles do not look like trends
            lo, hi = min(shown), max(shown)
            pad = max(1.0, 100 / (hi / lo)) ** 0.5
            ax.set_ylim(lo / pad / 1.3, hi * pad * 1.3)
        ax.set_xlabel("hidden layer (1 = input side)")
        ax.set_ylabel(ylabel)
        ax.legend(loc="best", fontsize=8)
    axes[0].set_title("forward: pre-activation variance")
    axes[1].set_title("backward: gradient norm")
    ratio = prof.backprop_ratio
    said = (f"is {ratio:.2g}× that at layer {state.depth}" if ratio > 0 else
            "underflows to 0 in float32")
    fig.suptitle(f"{label}, {state.depth} layers: gradient at layer 1 {said}", fontsize=11)
    return fig


# --- Why nonlinearity: a fitted ReLU net in and beyond its training interval ---------------

@dataclass(frozen=True)
class FitState:
    """A one-hidden-layer ReLU net of ``n_units`` fitted (Adam, full batch) to a 1-D target
    sampled on [−4, 4], drawn on [−view, view]."""

    n_units: int = 8
    seed: int = 0
    target: str = "sine"
    steps: int = 400
    lr: float = 0.03
    view: float = 10.0


def fit_data(state: FitState):
    """The 1-D regression set the fit widget trains on: 200 points of the target on
    [−4, 4] (150 for training, 50 for testing)."""
    return data.regression_1d(state.target, n=200, seed=0)


def fit_net(state: FitState):
    """Train the state's network: MLP(1 → n_units → 1, ReLU, seed), Adam, full batch."""
    from .train import TrainConfig, train

    if not isinstance(state.n_units, int) or isinstance(state.n_units, bool) or state.n_units < 1:
        raise ValueError(f"n_units must be a positive int, got {state.n_units!r}")
    net = models.MLP(1, [state.n_units], 1, activation="relu", seed=state.seed)
    train(net, fit_data(state), TrainConfig(optimizer="adam", lr=state.lr, steps=state.steps,
                                            batch_size=None, diagnostics=False,
                                            record_every=state.steps))
    return net


def render_fit(state: FitState, net=None):
    """The fitted net, its kinks (exact, from the weights), the target, and the region
    outside the training interval shaded. ``net``: an already trained network for this
    state (e.g. from a batched run); trained with :func:`fit_net` when None.
    Why-nonlinearity chapter."""
    from . import diagnostics

    if not state.view > 4.0:
        raise ValueError(f"view must be > 4 (the training interval is [-4, 4]), got {state.view!r}")
    net = fit_net(state) if net is None else net
    ds = fit_data(state)
    f = data.TARGETS_1D[state.target]
    x = np.linspace(-state.view, state.view, 1201)
    kinks = diagnostics.regions_along_line(net, [-state.view], [state.view]).points.ravel()
    with torch.no_grad():
        run = lambda v: net(torch.as_tensor(np.asarray(v)[:, None], dtype=torch.float32))
        y, y_kinks = run(x).numpy().ravel(), run(kinks).numpy().ravel()
        rmse = float(torch.sqrt(((run(ds.X_test[:, 0]) - torch.as_tensor(ds.y_test)) ** 2).mean()))
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    for a, b in ((-state.view, -4.0), (4.0, state.view)):
        ax.axvspan(a, b, color="0.5", alpha=0.12, lw=0)
    ax.plot(ds.X_train[:, 0], ds.y_train[:, 0], ".", color="0.45", ms=3, label="training data")
    ax.plot(x, f(x), color="k", lw=1.2, ls="--", label=f"target: {state.target}")
    ax.plot(x, y, color=plots.color("relu"), label=f"ReLU net, {state.n_units} units")
    ax.plot(kinks, y_kinks, "o", color=plots.color("relu"), mec="k", ms=5, label="kinks")
    ax.set_xlim(-state.view, state.view)
    ax.set_ylim(-3, 3)
    ax.set_xlabel("input $x$ (shaded: outside the training interval)")
    ax.set_ylabel("$y$")
    ax.set_title(f"{state.n_units} units, seed {state.seed}: {len(kinks)} kink"
                 f"{'' if len(kinks) == 1 else 's'}, test RMSE {rmse:.3f}")
    ax.legend(loc="lower left", fontsize=8, ncols=2)
    return fig


# --- Why nonlinearity: the ring's decision boundary for each activation --------------------

@dataclass(frozen=True)
class BoundaryState:
    """An MLP with hidden ``widths`` and ``activation`` trained on the ring (Adam, full
    batch, L2 penalty ``weight_decay`` on the weights)."""

    activation: str = "relu"
    seed: int = 0
    weight_decay: float = 1e-3
    widths: tuple = (3, 3, 3)
    steps: int = 600
    lr: float = 0.03


def boundary_data(state: BoundaryState):
    """The ring the boundary widget trains on: 400 points, 300 for training, 100 for testing."""
    return data.classification_2d("ring", n=400, seed=0)


def boundary_net(state: BoundaryState):
    """Train the state's network: MLP(2 → widths → 2, activation, seed), Adam, full batch."""
    from .train import TrainConfig, train

    net = models.MLP(2, list(state.widths), 2, activation=state.activation, seed=state.seed)
    train(net, boundary_data(state),
          TrainConfig(optimizer="adam", lr=state.lr, steps=state.steps, batch_size=None,
                      weight_decay=state.weight_decay, diagnostics=False,
                      record_every=state.steps))
    return net


def render_boundary(state: BoundaryState, net=None):
    """The trained net's decision boundary on the ring with its test accuracy; for a
    piecewise-linear activation, the boundary's corners and its number of straight
    pieces. ``net``: an already trained network for this state; trained with
    :func:`boundary_net` when None. Why-nonlinearity chapter."""
    from . import boundary
    from .train import as_tensors, evaluate

    net = boundary_net(state) if net is None else net
    ds = boundary_data(state)
    _, acc = evaluate(net, *as_tensors(ds.X_test, ds.y_test))
    lim = 1.3
    fig, ax = plt.subplots(figsize=(4.4, 4.4))
    plots.decision_boundary(net, ds.X_train, ds.y_train, ax=ax, X_test=ds.X_test,
                            y_test=ds.y_test, resolution=200, lim=lim)
    title = f"{state.activation}, seed {state.seed}: test accuracy {acc:.0%}"
    if state.activation in activations.PIECEWISE_LINEAR and state.activation != "linear":
        pieces = boundary.boundary_pieces(net, (-lim, lim), (-lim, lim), resolution=200)
        if len(pieces.corners):
            ax.plot(*pieces.corners.T, "D", color="k", ms=4, label="corners")
            ax.legend(loc="upper right", fontsize=8)
        title += f"\n{pieces.n_pieces} straight pieces"
    ax.set_title(title, fontsize=10)
    return fig


# --- Rectifier family: an activation's curve and what it does to a signal through depth -------

#: The shape parameter the rectifier-family widget's ``param`` sets, per activation.
SIGNAL_PARAM = {"leaky_relu": "slope", "prelu": "alpha", "elu": "alpha", "softplus": "beta",
                "silu": "beta"}


@dataclass(frozen=True)
class ActivationSignalState:
    """One activation with its shape parameter (Leaky slope, ELU α, SiLU/softplus β; other
    activations ignore ``param``), and the random net it drives: ``depth`` layers of
    ``width`` units, ``init`` weights."""

    name: str = "selu"
    param: float = 1.0
    init: str = "lecun"
    depth: int = 20
    width: int = 128
    seed: int = 0


def render_activation_signal(state: ActivationSignalState):
    """Four panels: f and f' on [−4, 4]; the distribution of f(z) for z ~ N(0, 1) with its
    exact mean and variance; and the mean and variance of each layer's output through a
    random net, measured (solid) and for infinite width (dashed). Rectifier family chapter."""
    from . import moments

    if state.name not in activations.names():
        raise ValueError(f"unknown activation {state.name!r}; known: "
                         f"{', '.join(activations.names())}")
    if state.init not in moments.INIT_GAIN:
        raise ValueError(f"init must be one of {sorted(moments.INIT_GAIN)}, got {state.init!r}")
    if not isinstance(state.depth, int) or state.depth < 1:
        raise ValueError(f"depth must be a positive int, got {state.depth!r}")
    key = SIGNAL_PARAM.get(state.name)
    params = {key: float(state.param)} if key else {}
    act = activations.get(state.name, **params)
    colour = plots.color(act.name)
    # a fixed layout: the constrained layout engine would double the drawing time of a frame
    fig, axes = plt.subplots(2, 2, figsize=(8.4, 5.8), layout="none")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.09, top=0.89, wspace=0.28, hspace=0.45)
    ax_f, ax_h, ax_m, ax_v = axes.ravel()

    x = np.linspace(-4, 4, 801)
    ax_f.plot(x, act(x), color=colour, label="$f(z)$")
    ax_f.plot(x, act.grad(x), color=colour, ls="--", lw=1.4, label="$f'(z)$")
    ax_f.axhline(0, color="k", lw=0.6)
    ax_f.set(xlabel="input $z$", ylabel="output", title="curve and derivative")
    ax_f.legend(loc="upper left")

    z = np.random.default_rng(state.seed).standard_normal(20000)
    m1, v1 = moments.gaussian_moments(state.name, **params)
    ax_h.hist(act(z), bins=80, density=True, color=colour, alpha=0.7, histtype="stepfilled")
    ax_h.axvline(m1, color="k", lw=1.2, ls=":")
    ax_h.set(xlabel="output $f(z)$, $z \\sim N(0, 1)$", ylabel="density",
             title=f"one layer: mean {m1:.2f}, variance {v1:.2f}")

    means, variances = moments.deep_moments(state.name, state.depth, state.width, n=256,
                                            init=state.init, seed=state.seed, **params)
    # infinite width: layer l outputs f(z), z ~ N(0, q_l), with q_1 = gain × (input variance 1)
    gain = moments.INIT_GAIN[state.init]
    q = moments.variance_map(state.name, state.depth - 1, gain, gain, **params)
    exact = np.array([moments.gaussian_moments(state.name, 0.0, qq, **params)
                      for qq in q]) if np.all(np.isfinite(q)) and q.max() < 1e12 else None
    layers = np.arange(state.depth + 1)
    ax_m.plot(layers, means, color=colour, marker="o", ms=3, label=f"width {state.width}")
    ax_v.plot(layers, variances, color=colour, marker="o", ms=3, label=f"width {state.width}")
    if exact is not None:
        ax_m.plot(layers[1:], exact[:, 0], color="k", ls="--", lw=1.2, label="infinite width")
        ax_v.plot(layers[1:], exact[:, 1], color="k", ls="--", lw=1.2, label="infinite width")
    ax_m.axhline(0, color="grey", lw=0.8)
    ax_v.axhline(1, color="grey", lw=0.8)
    # fixed minimum ranges, so that finite-width noise around a steady state looks like noise
    m_all = np.concatenate([means, exact[:, 0]]) if exact is not None else means
    v_all = np.concatenate([variances, exact[:, 1]]) if exact is not None else variances
    v_pos = v_all[np.isfinite(v_all) & (v_all > 0)]
    ax_m.set_ylim(min(np.nanmin(m_all), -0.5) - 0.05, max(np.nanmax(m_all), 1.0) + 0.05)
    ax_v.set_ylim(min(v_pos.min() / 1.5, 0.1) if v_pos.size else 1e-3,
                  max(v_pos.max() * 1.5, 10.0) if v_pos.size else 10.0)
    ax_m.set(xlabel="layer (0 = input)", ylabel="mean of outputs", title="mean through depth")
    ax_v.set(xlabel="layer (0 = input)", ylabel="variance of outputs",
             title="variance through depth", yscale="log")
    ax_m.legend(loc="best")
    label = act.name + (f" ({key} = {state.param:g})" if key else "")
    fig.suptitle(f"{label}, {state.init} init: after {state.depth} layers mean "
                 f"{means[-1]:.2f}, variance {variances[-1]:.3g}", fontsize=12)
    return fig


__all__ += ["SIGNAL_PARAM", "ActivationSignalState", "render_activation_signal"]
