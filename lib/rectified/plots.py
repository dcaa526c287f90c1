"""Plot helpers in one house style.

Each helper takes ``ax=None`` (a new figure when None), draws, and returns the axes it
drew on. None calls ``plt.show()``; the only function that touches global style (and how
IPython shows figures) is :func:`use_style`, which every chapter calls once.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch

from . import activations, boundary, figures, notebook

__all__ = ["COLORS", "CLASS_COLORS", "color", "use_style", "activation_curves",
           "decision_boundary", "training_curves", "layer_bars", "value_grid", "layer_lines"]

#: One colour per activation, the same on every page of the book: the Okabe-Ito colours
#: for the seven most compared, the rest chosen so that every pair stays distinguishable
#: for readers with each kind of colour-blindness (tests/test_palette.py checks it).
COLORS = {
    "relu": "#D55E00", "sigmoid": "#0072B2", "silu": "#009E73", "leaky_relu": "#E69F00",
    "gelu": "#56B4E9", "elu": "#CC79A7", "linear": "#000000", "prelu": "#8716F4",
    "selu": "#702802", "softplus": "#523451", "gelu_tanh": "#352C9D", "tanh": "#92B161",
    "abs": "#8E78FF", "maxout": "#CD0837", "relu6": "#6E0D72", "hard_swish": "#65676B",
    "relu2": "#1D662C",
}
#: The two classes of every 2-D dataset (points, decision-boundary plots, the playground).
CLASS_COLORS = ("#1f77b4", "#ff7f0e")


def color(name: str, fallback_index: int = 0) -> str:
    """The house colour of an activation (or a cycle colour for other labels)."""
    return COLORS.get(name, f"C{fallback_index % 10}")


def use_style() -> None:
    """Apply the book's style to matplotlib (readable sizes, light grid, no top/right
    spines) and, inside IPython, show every figure as a PNG that carries its alt text
    (:func:`rectified.figures.show_with_descriptions`) and give errors of cells run out of
    order a note on what to run first (:func:`rectified.notebook.explain_errors`)."""
    figures.show_with_descriptions()
    notebook.explain_errors()
    mpl.rcParams.update({
        "figure.figsize": (6.4, 4.0), "figure.dpi": 100, "savefig.dpi": 100,
        "figure.constrained_layout.use": True,
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
        "axes.spines.right": False, "axes.titlesize": 12, "axes.labelsize": 11,
        "legend.frameon": False, "legend.fontsize": 9, "lines.linewidth": 2.0,
        "image.cmap": "RdBu_r",
    })


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


def activation_curves(names: Sequence[str] | str, ax=None, x=None, derivative: bool = False,
                      **params):
    """Plot activations (or their derivatives) by registry name on one axes.

    ``params`` are passed to every activation that takes them (e.g. ``slope=0.1``).
    """
    ax = _axes(ax)
    names = [names] if isinstance(names, str) else list(names)
    x = np.linspace(-4, 4, 801) if x is None else np.asarray(x, dtype=float)
    for i, name in enumerate(names):
        spec_params = activations.get(name).params
        act = activations.get(name, **{k: v for k, v in params.items() if k in spec_params})
        y = act.grad(x) if derivative else act(x)
        ax.plot(x, y, label=name, color=color(name, i))
    ax.axhline(0, color="k", lw=0.6)
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel("input $z$")
    ax.set_ylabel("derivative $f'(z)$" if derivative else "output $f(z)$")
    ax.set_title("Derivatives" if derivative else "Activation functions")
    ax.legend()
    return ax


def decision_boundary(model: torch.nn.Module, X, y, ax=None, X_test=None, y_test=None,
                      resolution: int = 150, lim: float | None = None, title: str | None = None):
    """Shade a 2-D binary classifier's P(class 1) and draw its 0.5 contour with the points.

    Training points are filled circles; test points (optional) are hollow.
    """
    ax = _axes(ax)
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary needs 2-D inputs of shape (n, 2), got {X.shape}")
    lim = float(np.abs(X).max() * 1.1) if lim is None else lim
    g, p = boundary.class_probability_grid(model, lim, resolution)
    _shade_probability(ax, g, p, X, y, X_test, y_test)
    if title:
        ax.set_title(title)
    return ax


def training_curves(histories: Mapping[str, object], metric: str = "loss", ax=None,
                    x: str = "epoch", log: bool = False):
    """One line per labelled :class:`~rectified.train.History`: ``metric`` against ``x``."""
    ax = _axes(ax)
    for i, (label, h) in enumerate(histories.items()):
        if not hasattr(h, metric):
            raise ValueError(f"History has no metric {metric!r}; use loss, test_loss, "
                             f"train_acc or test_acc")
        ax.plot(getattr(h, x), getattr(h, metric), label=label, color=color(label, i))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch" if x == "epoch" else "step")
    ax.set_ylabel(metric.replace("_", " "))
    ax.legend()
    return ax


def layer_bars(values: Mapping[str, Sequence[float]], ax=None, log: bool = False,
               ylabel: str = "value", title: str | None = None):
    """Grouped bars: for each label, one bar per layer (layer 1 = nearest the input)."""
    ax = _axes(ax)
    labels = list(values)
    if not labels:
        raise ValueError("layer_bars needs at least one labelled series")
    n_layers = max(len(v) for v in values.values())
    width = 0.8 / len(labels)
    for i, label in enumerate(labels):
        v = np.asarray(values[label], dtype=float)
        ax.bar(np.arange(1, len(v) + 1) + (i - (len(labels) - 1) / 2) * width, v, width,
               label=label, color=color(label, i))
    ax.set_xticks(np.arange(1, n_layers + 1))
    return _finish_layer_axes(ax, log, ylabel, title)


def _finish_layer_axes(ax, log: bool, ylabel: str, title: str | None):
    """What every per-layer chart ends with: layer axis label, scale, title, legend."""
    ax.set_xlabel("layer (1 = input side)")
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def value_grid(values, row_labels: Sequence[str], col_labels: Sequence[str], ax=None,
               labels=None, log: bool = False, cmap: str = "Reds", title: str | None = None,
               colorbar: str | None = None):
    """A table as a heat map: cell (i, j) coloured by ``values[i, j]`` and labelled with
    ``labels[i][j]`` (default: the value). With ``log``, zeros are left white.
    Kink-at-zero chapter (exact zeros per setting and number format)."""
    ax = _axes(ax)
    v = np.asarray(values, dtype=float)
    if v.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"values has shape {v.shape}, but there are {len(row_labels)} row "
                         f"and {len(col_labels)} column labels")
    shown = np.ma.masked_where(v <= 0, v) if log else v
    positive = v[v > 0]
    norm = (mpl.colors.LogNorm(vmin=positive.min(), vmax=max(positive.max(), positive.min() * 10))
            if log and positive.size else None)
    im = ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto")
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            text = labels[i][j] if labels is not None else f"{v[i, j]:g}"
            dark = False
            if not (log and v[i, j] <= 0):
                r, g, b, _ = im.cmap(im.norm(v[i, j]))
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5   # white text on dark cells
            ax.text(j, i, text, ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
    ax.set_xticks(range(len(col_labels)), col_labels)
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.grid(False)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=colorbar)
    if title:
        ax.set_title(title)
    return ax


def layer_lines(values: Mapping[str, Sequence[float]], ax=None, log: bool = False,
                ylabel: str = "value", title: str | None = None, styles=None):
    """One line per label across layers (layer 1 = nearest the input); for deep nets where
    :func:`layer_bars` gets crowded. ``styles`` maps a label to extra ``plot`` keywords.
    Why-ReLU part 1 chapter (signal and gradient through depth)."""
    ax = _axes(ax)
    if not values:
        raise ValueError("layer_lines needs at least one labelled series")
    styles = styles or {}
    for i, (label, v) in enumerate(values.items()):
        v = np.asarray(v, dtype=float)
        kw = {"color": color(label.split(",")[0].split(" ")[0], i), "marker": "o", "ms": 3}
        kw.update(styles.get(label, {}))
        ax.plot(np.arange(1, len(v) + 1), v, label=label, **kw)
    return _finish_layer_axes(ax, log, ylabel, title)


def draw_arms(arms: Sequence, ax=None, ylabel: str = "", log: bool = False,
              colors: Sequence[str] | None = None):
    """A comparison's arms side by side (:func:`rectified.compare.arm` summaries): every
    seed's value as a point, the median as a bar and its bootstrap interval as a line.
    Infinite values (a run that never got there) are drawn at the top edge as triangles."""
    ax = _axes(ax)
    finite = [v for a in arms for v in a.values if np.isfinite(v)]
    top = max(finite) * (1.6 if log else 1.1) if finite else 1.0
    for i, a in enumerate(arms):
        col = colors[i] if colors is not None else color(a.name.split(" ")[0], i)
        jitter = np.linspace(-0.12, 0.12, len(a.values))
        shown = np.where(np.isfinite(a.values), a.values, top)
        marker = np.where(np.isfinite(a.values), "o", "^")
        for x_, y_, m in zip(i + jitter, shown, marker):
            ax.plot(x_, y_, m, color=col, ms=5, alpha=0.75, mec="none")
        lo, hi = (min(v, top) for v in a.interval)
        ax.plot([i, i], [lo, hi], color="k", lw=1.5)
        ax.plot([i - 0.22, i + 0.22], [min(a.median, top)] * 2, color="k", lw=2.5)
    ax.set_xticks(range(len(arms)), [a.name for a in arms])
    ax.set_xlim(-0.6, len(arms) - 0.4)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    return ax.figure


# --- Drawings of the experiments' results: draw_x(result) for compute_x(state) ---------------
# Each takes the result of a compute_x in a concept module (piecewise, propagation,
# recurrence, precision), draws it on new axes (or the ones given) and returns the figure.
# Every number it writes comes from the result.

def _new_axes(axes, nrows: int, ncols: int, figsize, layout: str = "none", adjust=None):
    """The figure and a flat array of nrows × ncols axes: ``axes`` if given, else new ones
    with a fixed layout (``adjust``: subplots_adjust keywords), a layout engine, or
    (``layout=None``) the style's default."""
    if axes is not None:
        flat = np.asarray(axes, dtype=object).ravel()
        if len(flat) != nrows * ncols:
            raise ValueError(f"axes must hold {nrows * ncols} axes, got {len(flat)}")
        return flat[0].figure, flat
    fig, grid = plt.subplots(nrows, ncols, figsize=figsize, layout=layout, squeeze=False)
    if adjust:
        fig.subplots_adjust(**adjust)
    return fig, grid.ravel()


def draw_interpolant(result, ax=None):
    """The target, the n-unit ReLU interpolant, each unit's contribution (faint) and the
    kinks; the maximum error in the title. Draws :func:`rectified.piecewise.compute_interpolant`.
    Introduction."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    relu = color("relu")
    x = result.x
    for j in range(result.units.shape[1]):
        ax.plot(x, result.units[:, j], color=relu, lw=0.7, alpha=0.3)
    ax.plot(x, result.y_target, color="k", lw=1.2, ls="--", label=f"target: {result.target}")
    ax.plot(x, result.y_net, color=relu, label=f"sum of {result.n_units} ReLUs")
    ax.plot(result.kinks, result.kink_values, "o", color=relu, ms=4, label="kinks")
    lo = min(result.y_target.min(), result.y_net.min())
    hi = max(result.y_target.max(), result.y_net.max())
    pad = 0.15 * (hi - lo)
    ax.set_ylim(lo - pad, hi + pad)   # the units' own lines may leave the frame
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_title(f"{result.n_units} ReLU unit{'s' if result.n_units > 1 else ''}: "
                 f"max error {result.max_error:.3f}")
    ax.legend(loc="lower right")
    return ax.figure


def draw_activation(result, axes=None):
    """Value and (when computed) derivative of one activation side by side, kinks marked.
    Draws :func:`rectified.propagation.compute_activation`."""
    has_derivative = result.derivative is not None
    fig, axes = _new_axes(axes, 1, 2 if has_derivative else 1, (8, 3.2), layout=None)
    col = color(result.name)
    axes[0].plot(result.x, result.value, color=col)
    axes[0].set_title(f"{result.name}: ${result.formula}$")
    axes[0].set_xlabel("input $z$")
    axes[0].set_ylabel("$f(z)$")
    if has_derivative:
        axes[1].plot(result.x, result.derivative, color=col)
        axes[1].set_title("derivative")
        axes[1].set_xlabel("input $z$")
        axes[1].set_ylabel("$f'(z)$")
    for ax in axes:
        for k in result.kinks:
            ax.axvline(k, color="k", lw=0.6, ls=":")
    return fig


def draw_recurrence(result, axes=None):
    """‖h_t‖ and ‖∂h_t/∂h_0‖₂ against t with their bounds, the last values in the title.
    Draws :func:`rectified.recurrence.compute_recurrence`. RNN chapter."""
    # a fixed layout and few (mathtext) tick labels keep one frame fast to draw
    fig, axes = _new_axes(axes, 1, 2, (8.4, 3.3), adjust=dict(
        left=0.085, right=0.985, bottom=0.15, top=0.8, wspace=0.3))
    t = result.t
    col = color(result.activation)
    axes[0].semilogy(t, result.state_norm, color=col)
    if result.state_bound is not None:
        axes[0].axhline(result.state_bound, color="k", ls=":", lw=1,
                        label=r"tanh bound $\sqrt{n}$")
        axes[0].legend(loc="lower left")
    axes[0].set_ylim(1e-3, 1e9)
    axes[0].set_yticks([1e-3, 1e0, 1e3, 1e6, 1e9])
    axes[0].minorticks_off()
    axes[0].set_title("hidden state")
    axes[0].set_ylabel(r"$\|h_t\|$")
    axes[1].semilogy(t, np.maximum(result.jacobian_norm, 1e-300), color=col,
                     label="measured")
    axes[1].semilogy(t, result.jacobian_bound, color="k", ls="--", lw=1,
                     label=r"bound $(\gamma\,\sigma_{\max})^t$")
    axes[1].set_ylim(1e-20, 1e9)
    axes[1].set_yticks([1e-20, 1e-15, 1e-10, 1e-5, 1e0, 1e5])
    axes[1].minorticks_off()
    axes[1].set_title("gradient through time")
    axes[1].set_ylabel(r"$\|\partial h_t / \partial h_0\|_2$")
    axes[1].legend(loc="lower left")
    for ax in axes:
        ax.set_xlabel("time step $t$")
        ax.set_xlim(1, len(t))
    fig.suptitle(f"{result.activation}, $W = {result.scale:g}\\cdot Q$, inputs × "
                 f"{result.input_scale:g}: $\\|h_T\\|$ = {result.final_state_norm:.2g}, "
                 f"gradient {result.final_jacobian_norm:.2g}", fontsize=11)
    return fig


def draw_maxout_fit(result, axes=None):
    """Left: the unit's k lines and their max (for a difference, both units). Right: the
    fit against the target, RMS error in the title. Draws
    :func:`rectified.piecewise.compute_maxout_fit`. Maxout chapter."""
    # A fixed layout: the static page precomputes many frames, and this is 40% faster.
    # 7.3 in wide: shown at full size in the reading column, text >= 9 pt
    fig, axes = _new_axes(axes, 1, 2, (7.3, 3.2), adjust=dict(
        left=0.09, right=0.985, bottom=0.16, top=0.8, wspace=0.28))
    x, y = result.x, result.y
    two = len(result.units) == 2
    names, colours = ("g", "h"), (color("maxout"), "#1f77b4")
    lo, hi = min(y.min(), 0.0), y.max()
    for name, col, pieces, unit in zip(names, colours, result.pieces, result.units):
        lo, hi = min(lo, unit.min()), max(hi, unit.max())
        for piece in pieces:
            axes[0].plot(x, piece, color=col, lw=0.8, alpha=0.45)
        label = (f"unit {name} = max of its {len(pieces)} lines" if two
                 else f"max of {len(pieces)} lines")
        axes[0].plot(x, unit, color=col, lw=2.2, label=label)
    if not two:
        axes[0].plot(x, y, color="k", lw=1.2, ls="--", label=f"target: {result.target}")
    pad = 0.1 * (hi - lo)
    axes[0].set_ylim(lo - pad, hi + pad)
    axes[0].set_title("two maxout units and their pieces" if two else "the pieces")
    axes[0].legend(loc="upper center", fontsize=9)
    axes[1].plot(x, y, color="k", lw=1.2, ls="--", label=f"target: {result.target}")
    axes[1].plot(x, result.approx, color=color("maxout"), lw=2.0,
                 label="g − h" if two else "maxout unit")
    axes[1].set_title(f"RMS error {result.rms_error:.3f}")
    axes[1].legend(loc="lower right", fontsize=9)
    for ax in axes:
        ax.set_xlabel("input $x$")
        ax.set_ylabel("output")
    k = result.k
    what = (f"difference of two maxout units, k = {k} pieces each" if result.difference
            else f"one maxout unit, k = {k} piece{'s' if k > 1 else ''}")
    fig.suptitle(what, fontsize=11, y=0.97)
    return fig


def draw_kink(result, axes=None):
    """Left: the fraction of each hidden layer's pre-activations that are exactly 0. Right:
    per parameter tensor, ‖∇_g − ∇_0‖/‖∇_0‖ between ReLU'(0) = g and ReLU'(0) = 0. Draws
    :func:`rectified.precision.compute_kink`. Kink-at-zero chapter."""
    from matplotlib.ticker import FixedLocator, NullLocator

    # fixed margins instead of a layout engine: this figure is drawn many times per page
    fig, (ax0, ax1) = _new_axes(axes, 1, 2, (9, 3.8), adjust=dict(
        left=0.08, right=0.99, bottom=0.24, top=0.84, wspace=0.28))
    zeros, totals = result.layer_zeros, result.layer_totals
    floor = 1e-7
    xs = np.arange(1, len(zeros) + 1)
    ax0.bar(xs, [max(z / t, floor) for z, t in zip(zeros, totals)], color=color("relu"))
    for x_, z, t in zip(xs, zeros, totals):
        ax0.text(x_, max(z / t, floor) * 1.6, f"{z:,} of {t:,}" if z else f"none of {t:,}",
                 ha="center", va="bottom", fontsize=9)
    ax0.set_yscale("log")
    ax0.set_ylim(floor, 1)
    ax0.set_xticks(xs)
    ax0.set_xlabel("hidden layer (1 = input side)")
    ax0.set_ylabel("fraction of pre-activations")
    ax0.set_title("pre-activations exactly 0")
    diffs = result.param_diff
    ax1.bar(range(len(diffs)), [max(d, floor) for d in diffs], color="#555555")
    for i, d in enumerate(diffs):
        if d == 0:
            ax1.text(i, floor * 2, "identical", ha="center", va="bottom", fontsize=9,
                     rotation=90)
    ax1.set_yscale("log")
    ax1.set_ylim(floor, 1)
    ax1.set_xticks(range(len(diffs)))
    ax1.set_xticklabels(result.param_labels, rotation=45, ha="right", fontsize=9)
    ax1.set_ylabel("relative difference")
    for ax in (ax0, ax1):   # a few labelled decades and no minor ticks keep the render fast
        ax.yaxis.set_major_locator(FixedLocator([1e-6, 1e-4, 1e-2, 1.0]))
        ax.yaxis.set_minor_locator(NullLocator())
    ax1.set_title(f"gradient, ReLU'(0) = {result.grad_at_zero:g} vs 0")
    verdict = "differ" if result.gradients_differ else "are identical"
    fig.suptitle(f"{result.network}, {result.dtype}, hidden biases {result.bias_init:g}: "
                 f"the two gradients {verdict}")
    return fig


def draw_gradient_flow(result, axes=None):
    """Layer by layer, Var(z_l) (left) and ‖∂loss/∂z_l‖ (right), against ReLU with He init
    (dashed); the gradient's ratio between layer 1 and the last in the title. Draws
    :func:`rectified.propagation.compute_gradient_flow`. Why-ReLU part 1 chapter."""
    fig, axes = _new_axes(axes, 1, 2, (9.0, 3.6), layout="constrained")
    prof, ref = result.profile, result.reference
    layers = np.arange(1, result.depth + 1)
    label = f"{result.activation}, {result.init}" + \
        (f" ×{result.init_scale:g}" if result.init_scale != 1.0 else "")
    for ax, field, ylabel in ((axes[0], "pre_var", "Var($z_l$)"),
                              (axes[1], "backprop", r"$\|\partial \mathrm{loss}/\partial z_l\|$")):
        ax.plot(layers, getattr(prof, field), marker="o", ms=3, label=label,
                color=color(result.activation))
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
        ax.legend(loc="best", fontsize=9)
    axes[0].set_title("forward: pre-activation variance")
    axes[1].set_title("backward: gradient norm")
    ratio = result.backprop_ratio
    said = (f"is {ratio:.2g}× that at layer {result.depth}" if ratio > 0 else
            "underflows to 0 in float32")
    fig.suptitle(f"{label}, {result.depth} layers: gradient at layer 1 {said}", fontsize=11)
    return fig


def draw_activation_signal(result, axes=None):
    """Four panels: f and f'; the distribution of f(z), z ~ N(0, 1), with its exact mean;
    the mean and the variance of each layer's output through a random net, measured (solid)
    and for infinite width (dashed). Draws
    :func:`rectified.propagation.compute_activation_signal`. Rectifier family chapter."""
    curve = result.curve
    colour = color(curve.name)
    # a fixed layout: the constrained layout engine would double the drawing time of a frame
    fig, (ax_f, ax_h, ax_m, ax_v) = _new_axes(axes, 2, 2, (8.4, 5.8), adjust=dict(
        left=0.08, right=0.98, bottom=0.09, top=0.89, wspace=0.28, hspace=0.45))

    ax_f.plot(curve.x, curve.value, color=colour, label="$f(z)$")
    ax_f.plot(curve.x, curve.derivative, color=colour, ls="--", lw=1.4, label="$f'(z)$")
    ax_f.axhline(0, color="k", lw=0.6)
    ax_f.set(xlabel="input $z$", ylabel="output", title="curve and derivative")
    ax_f.legend(loc="upper left")

    ax_h.hist(result.samples, bins=80, density=True, color=colour, alpha=0.7,
              histtype="stepfilled")
    ax_h.axvline(result.one_layer_mean, color="k", lw=1.2, ls=":")
    ax_h.set(xlabel="output $f(z)$, $z \\sim N(0, 1)$", ylabel="density",
             title=f"one layer: mean {result.one_layer_mean:.2f}, "
                   f"variance {result.one_layer_variance:.2f}")

    means, variances = result.means, result.variances
    exact = result.exact_means is not None
    layers = np.arange(result.depth + 1)
    ax_m.plot(layers, means, color=colour, marker="o", ms=3, label=f"width {result.width}")
    ax_v.plot(layers, variances, color=colour, marker="o", ms=3,
              label=f"width {result.width}")
    if exact:
        ax_m.plot(layers[1:], result.exact_means, color="k", ls="--", lw=1.2,
                  label="infinite width")
        ax_v.plot(layers[1:], result.exact_variances, color="k", ls="--", lw=1.2,
                  label="infinite width")
    ax_m.axhline(0, color="grey", lw=0.8)
    ax_v.axhline(1, color="grey", lw=0.8)
    # fixed minimum ranges, so that finite-width noise around a steady state looks like noise
    m_all = np.concatenate([means, result.exact_means]) if exact else means
    v_all = np.concatenate([variances, result.exact_variances]) if exact else variances
    v_pos = v_all[np.isfinite(v_all) & (v_all > 0)]
    ax_m.set_ylim(min(np.nanmin(m_all), -0.5) - 0.05, max(np.nanmax(m_all), 1.0) + 0.05)
    ax_v.set_ylim(min(v_pos.min() / 1.5, 0.1) if v_pos.size else 1e-3,
                  max(v_pos.max() * 1.5, 10.0) if v_pos.size else 10.0)
    ax_m.set(xlabel="layer (0 = input)", ylabel="mean of outputs", title="mean through depth")
    ax_v.set(xlabel="layer (0 = input)", ylabel="variance of outputs",
             title="variance through depth", yscale="log")
    ax_m.legend(loc="best")
    label = curve.name + (f" ({curve.param_name} = {curve.param:g})" if curve.param_name
                          else "")
    fig.suptitle(f"{label}, {result.init} init: after {result.depth} layers mean "
                 f"{result.final_mean:.2f}, variance {result.final_variance:.3g}", fontsize=12)
    return fig


__all__ += ["draw_interpolant", "draw_activation", "draw_recurrence", "draw_maxout_fit",
            "draw_kink", "draw_gradient_flow", "draw_activation_signal"]


# --- Drawings for the nonlinearity, dying-ReLU and training-speed chapters -------------------
# draw_fit and draw_boundary draw rectified.boundary's results, draw_dead_map
# rectified.diagnostics', draw_training_speed rectified.compare's. Each draws on new axes
# (or the ones given), computes nothing, and takes every number it writes from the result.

def _shade_probability(ax, g, p, X, y, X_test=None, y_test=None):
    """P(class 1) on the grid g × g shaded, its 0.5 contour, and the points (training
    filled, test hollow) on a square frame [−lim, lim]² with lim = g[-1]."""
    gx, gy = np.meshgrid(g, g)
    ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.5)
    X, y = np.asarray(X), np.asarray(y)
    for c in (0, 1):
        ax.scatter(*X[y == c].T, s=10, color=CLASS_COLORS[c], edgecolor="none")
        if X_test is not None:
            Xt, yt = np.asarray(X_test), np.asarray(y_test)
            ax.scatter(*Xt[yt == c].T, s=14, facecolor="none", edgecolor=CLASS_COLORS[c],
                       linewidth=0.8)
    lim = g[-1]
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def draw_fit(result, ax=None):
    """The fitted net, its kinks, the target and the training data, with the region
    outside the training interval shaded; kinks and test RMSE in the title. Draws
    :func:`rectified.boundary.compute_fit`. Why-nonlinearity chapter."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 3.6))
    s = result.state
    lo, hi = result.interval
    for a, b in ((-s.view, lo), (hi, s.view)):
        ax.axvspan(a, b, color="0.5", alpha=0.12, lw=0)
    ax.plot(result.X_train, result.y_train, ".", color="0.45", ms=3, label="training data")
    ax.plot(result.x, result.target_y, color="k", lw=1.2, ls="--", label=f"target: {s.target}")
    ax.plot(result.x, result.y, color=color("relu"), label=f"ReLU net, {s.n_units} units")
    ax.plot(result.kinks, result.kink_y, "o", color=color("relu"), mec="k", ms=5,
            label="kinks")
    ax.set_xlim(-s.view, s.view)
    ax.set_ylim(-3, 3)
    ax.set_xlabel("input $x$ (shaded: outside the training interval)")
    ax.set_ylabel("$y$")
    ax.set_title(f"{s.n_units} units, seed {s.seed}: {result.n_kinks} kink"
                 f"{'' if result.n_kinks == 1 else 's'}, test RMSE {result.test_rmse:.3f}")
    ax.legend(loc="lower left", fontsize=9, ncols=2)
    return ax.figure


def draw_boundary(result, ax=None):
    """A trained ring classifier's P(class 1), decision boundary and points, with its test
    accuracy; for a piecewise-linear activation the boundary's corners and its number of
    straight pieces. Draws :func:`rectified.boundary.compute_boundary`.
    Why-nonlinearity chapter."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.4, 4.4))
    s = result.state
    _shade_probability(ax, result.grid, result.prob, result.X_train, result.y_train,
                       result.X_test, result.y_test)
    title = f"{s.activation}, seed {s.seed}: test accuracy {result.test_accuracy:.0%}"
    if result.n_pieces is not None:
        if len(result.corners):
            ax.plot(*result.corners.T, "D", color="k", ms=4, label="corners")
            ax.legend(loc="upper right", fontsize=9)
        title += f"\n{result.n_pieces} straight pieces"
    ax.set_title(title, fontsize=10)
    return ax.figure


def draw_dead_map(result, axes=None):
    """Dead-unit map (hidden units × training steps: alive in colour, dead in grey, layer 1
    on top) beside the accuracy curves; the dead share at the end in the title. Draws
    :func:`rectified.diagnostics.compute_dead_map`. Dying ReLU chapter."""
    from matplotlib.colors import ListedColormap

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 3.3), gridspec_kw={"width_ratios": [3, 2]})
    fig, axes = _new_axes(axes, 1, 2, None)           # the two axes, counted
    rows, centres, top = [], [], 0
    for layer, alive in enumerate(result.alive):
        rows.append(alive)
        centres.append(top + alive.shape[0] / 2)
        top += alive.shape[0]
        if layer < len(result.alive) - 1:             # a blank band between layers
            rows.append(np.full((2, alive.shape[1]), np.nan))
            top += 2
    image = np.vstack(rows)
    steps = result.step
    cmap = ListedColormap(["#9a9a9a", color("relu")]).with_extremes(bad="white")
    axes[0].imshow(image, aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest",
                   extent=(steps[0], steps[-1], image.shape[0], 0))
    axes[0].set_yticks(centres, [f"layer {i + 1}" for i in range(len(centres))])
    axes[0].grid(False)
    axes[0].set_xlabel("training step")
    axes[0].set_title("hidden units: alive (red) or dead (grey)")
    axes[1].plot(steps, result.train_acc, color=color("relu"), label="train")
    axes[1].plot(steps, result.test_acc, color="k", ls="--", lw=1.2, label="test")
    axes[1].axhline(0.1, color="k", lw=0.6, ls=":", label="chance")
    axes[1].set_ylim(0, 1.02)
    axes[1].set_xlabel("training step")
    axes[1].set_ylabel("accuracy")
    axes[1].set_title("accuracy")
    axes[1].legend(loc="center right")
    s = result.state
    end = "diverged" if result.diverged else f"test accuracy {result.final_test_acc:.2f}"
    fig.suptitle(f"remedy {s.remedy}, lr {s.lr:g}: {result.dead_fraction:.0%} of hidden "
                 f"units dead at the end, {end}", fontsize=11)
    return fig


def draw_training_speed(result, ax=None):
    """Training error against steps for every seed of one cell of the speed race, the
    target line and, dashed, the other arms at their own best learning rate; the median
    steps to the target in the title. Draws
    :func:`rectified.compare.compute_training_speed`. Why-ReLU part 2 chapter."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8.6, 4.2))
    s = result.state
    for j, (other, (best, curves, median)) in enumerate(result.rivals.items()):
        style = ("--", ":", "-.")[j % 3]
        reached = f"{median:.0f} steps" if np.isfinite(median) else "never"
        for i, (steps, error) in enumerate(curves):
            ax.plot(steps, error, color=color(other.split(" ")[0], j), lw=1, ls=style,
                    alpha=0.6,
                    label=f"{other}, lr {best:g}: {reached}" if i == 0 else None)
    for i, (steps, error) in enumerate(result.curves):
        ax.plot(steps, error, color=color(s.arm.split(" ")[0]), lw=2.2,
                label=(f"{s.arm}, lr {result.lr:g} ({len(result.curves)} seeds)"
                       if i == 0 else None))
    ax.axhline(result.target_error, color="k", lw=1, ls=":",
               label=f"target: {result.target_error:g}% error")
    verdict = (f"median {result.median_steps:.0f} steps to the target"
               if np.isfinite(result.median_steps) else "median seed misses the target")
    ax.set_yscale("log")
    ax.set_ylim(1, 100)
    ticks = [1, 2, 5, 10, 20, 50, 100]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_yticks([], minor=True)
    ax.set_xlabel("training step")
    ax.set_ylabel("training error (%)")
    depth = f"{s.depth} hidden layer{'s' if s.depth > 1 else ''}"
    ax.set_title(f"{s.arm}, {depth}, lr {result.lr:g} (its best {result.best_lr:g}):"
                 f"\n{verdict}", fontsize=12)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=10.5)
    return ax.figure


__all__ += ["draw_fit", "draw_boundary", "draw_dead_map", "draw_training_speed"]


# --- The adding problem (RNN chapter) ----------------------------------------

def draw_adding(results, axes=None, colors=None, baseline=None):
    """Left: each arm's test MSE during training at its chosen learning rate
    (every seed thin, the median thick); right: the final test MSE per seed
    with median and bootstrap interval (:func:`draw_arms`). ``results`` are
    :func:`rectified.recurrence.compute_adding` results; ``baseline`` draws
    the always-answer-1 error as a dashed line. RNN chapter."""
    from .compare import arm

    fig, axes = _new_axes(axes, 1, 2, (8, 3.8), layout="constrained")
    colors = colors or [f"C{i}" for i in range(len(results))]
    for r, col in zip(results, colors):
        steps = np.asarray(max((h.step for h in r.histories), key=len))
        curves = np.array([h.test_loss + [np.nan] * (len(steps) - len(h.step))
                           for h in r.histories], dtype=float)
        for c in curves:
            axes[0].semilogy(steps, c, color=col, lw=0.8, alpha=0.4)
        axes[0].semilogy(steps, np.nanmedian(curves, 0), "o-", ms=3,
                         color=col, label=f"{r.state.arm} (lr {r.lr:g})")
    draw_arms([arm(r.state.arm, r.test_mse) for r in results], ax=axes[1],
              ylabel="final test MSE", log=True, colors=colors)
    for ax in axes:
        if baseline is not None:
            ax.axhline(baseline, color="k", ls="--", lw=1,
                       label="always answer 1")
    state = results[0].state
    axes[0].set_xlabel("training step")
    axes[0].set_ylabel("test MSE")
    axes[0].set_title(f"T = {state.length}: test error, {len(state.seeds)} "
                      f"seeds per arm")
    axes[0].legend(loc="upper right", fontsize=10)
    axes[1].set_title(f"after {state.steps} steps: seeds, median, "
                      f"95% interval")
    axes[1].tick_params(axis="x", labelsize=10)
    return fig


__all__ += ["draw_adding"]


def draw_readout(result, axes=None):
    """Two panels for one readout run: the distribution of the features with their mean
    marked, and the training loss at every learning rate of the grid, the best one
    highlighted, with the target loss dotted. Draws
    :func:`rectified.conditioning.compute_readout`. Why-ReLU part 3 chapter."""
    fig, (ax0, ax1) = _new_axes(axes, 1, 2, (9.6, 3.9), layout="constrained")
    s = result.state
    name = f"{s.activation}, {s.treatment}"
    col = color(s.activation)
    ax0.hist(result.sample, bins=40, color=col, alpha=0.75)
    ax0.axvline(result.mean, color="k", lw=1.5, ls="--", label=f"mean {result.mean:+.2f}")
    ax0.axvline(0, color="0.5", lw=0.8)
    ax0.set_xlabel("feature value")
    ax0.set_ylabel("count")
    ax0.set_title(f"features: {name}\nm²/v = {result.mean_to_variance:.2f}")
    ax0.legend(loc="upper right")
    for lr, curve in zip(s.lrs, result.losses):
        best = lr == result.best_lr
        ax1.plot(curve, color=col if best else "0.75", lw=2.2 if best else 0.9,
                 label=f"best lr {lr:g}" if best else None, zorder=3 if best else 2)
    ax1.axhline(s.target_loss, color="k", ls=":", lw=1, label=f"target {s.target_loss:g}")
    ax1.set_yscale("log")
    ax1.set_ylim(s.target_loss / 5, 5)
    ax1.set_xlabel("gradient-descent step")
    ax1.set_ylabel("training cross-entropy")
    steps = (f"{result.best_steps:.0f} steps" if np.isfinite(result.best_steps)
             else "never")
    ax1.set_title(f"readout, every rate of the grid (grey)\nto the target: {steps}")
    ax1.legend(loc="upper right")
    return fig


__all__ += ["draw_readout"]


# --- ReLU today: sparsity, skipping zeros, quantisation -----------------------------

def draw_skip_timing(result, axes=None):
    """Two panels for :func:`rectified.sparsity.compute_skip_timing`: median time per
    call of the dense product and of the one that skips zero rows, against the share of
    zeros; and the measured speed-up next to the FLOP ratio, its ceiling. The times are
    this machine's, this run's. ReLU today chapter."""
    fig, (ax0, ax1) = _new_axes(axes, 1, 2, (9.6, 3.8), layout="constrained")
    s = result.sparsities
    ax0.plot(s, result.dense_seconds * 1e6, "o-", color="0.3", label="dense h·W")
    ax0.plot(s, result.skip_seconds * 1e6, "o-", color=color("relu"),
             label="skip zero rows")
    ax0.set_yscale("log")
    ax0.set_xlabel("share of exact zeros in h")
    ax0.set_ylabel("µs per call (median)")
    ax0.set_title(f"one input, {result.state.units} → {result.state.out}")
    ax0.legend()
    ax1.plot(s, result.flop_ratio, "k--", label="FLOP ratio (ceiling)")
    ax1.plot(s, result.speedup, "o-", color=color("relu"), label="measured speed-up")
    ax1.axhline(1, color="0.5", lw=0.8)
    ax1.set_yscale("log")
    ax1.set_xlabel("share of exact zeros in h")
    ax1.set_ylabel("dense time / skipping time")
    ax1.set_title("skipping pays above 1")
    ax1.legend()
    return fig


def draw_quantisation(result, axes=None):
    """Two panels for :func:`rectified.quantise.compute_quantisation`: the last hidden
    layer's non-zero outputs of one net (histogram, log counts) with the calibrated
    range and, for codes of at most 5 bits, every quantisation level; and each net's
    change of test accuracy. ReLU today chapter."""
    fig, (ax0, ax1) = _new_axes(axes, 1, 2, (9.6, 3.8), layout="constrained")
    st = result.state
    col = color(result.activation)
    v = result.values[result.values > 0]
    top = float(result.ranges[st.seed_index][-1])
    ax0.hist(v, bins=60, range=(0, max(top, 1e-9)), color=col, alpha=0.75, log=True)
    levels = 2 ** st.bits - 1
    if st.bits <= 5:
        for q in range(levels + 1):
            ax0.axvline(q * top / levels, color="k", lw=0.6, alpha=0.6)
    ax0.axvline(top, color="k", lw=1.5, ls="--", label=f"range {top:.3g}")
    ax0.set_xlabel("hidden output (last layer)")
    ax0.set_ylabel("count (log)")
    ax0.set_title(f"{result.activation}, {st.bits}-bit codes: step "
                  f"{result.step[st.seed_index]:.3g}")
    ax0.legend(loc="upper right")
    change = 100 * result.acc_change
    ax1.plot(np.arange(len(change)), change, "o", color=col, ms=7)
    ax1.axhline(0, color="0.5", lw=0.8)
    ax1.axhline(np.median(change), color="k", lw=2, label=f"median {np.median(change):+.2f}")
    ax1.set_ylim(min(-2.0, change.min() - 1), max(1.0, change.max() + 0.5))
    ax1.set_xticks(range(len(change)))
    ax1.set_xlabel("net (seed)")
    ax1.set_ylabel("test accuracy change (points)")
    ax1.set_title("after quantisation")
    ax1.legend(loc="best")
    return fig


__all__ += ["draw_skip_timing", "draw_quantisation"]


# --- Maxout over the plane, and maxout's twin of a ReLU net ----------------------

def draw_maxout_plane(result, ax=None):
    """The regions of one maxout unit over the plane: each piece's region in its own
    colour, contour lines of the unit's value, and at each region's centre an arrow along
    the piece's weights w_i (the unit's gradient there). Draws
    :func:`rectified.piecewise.compute_maxout_plane`. Maxout chapter."""
    from matplotlib.colors import ListedColormap

    if ax is None:
        _, ax = plt.subplots(figsize=(4.4, 4.4))
    s = result.state
    palette = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
               "#CC79A7", "#999999", "#8E78FF", "#702802", "#92B161", "#523451"]
    cmap = ListedColormap(palette[:s.k])
    extent = (result.x[0], result.x[-1], result.y[0], result.y[-1])
    ax.imshow(result.winner, origin="lower", extent=extent, cmap=cmap, vmin=-0.5,
              vmax=s.k - 0.5, alpha=0.55, interpolation="nearest", aspect="equal")
    levels = np.linspace(result.value.min(), result.value.max(), 9)[1:-1]
    ax.contour(result.x, result.y, result.value, levels=levels, colors="k",
               linewidths=0.7, alpha=0.6)
    for i, (centre, w) in enumerate(zip(result.centres, result.weights)):
        if np.isnan(centre).any():
            continue
        step = 0.3 * s.lim * w / np.linalg.norm(w)
        ax.annotate("", xy=centre + step, xytext=centre,
                    arrowprops=dict(arrowstyle="->", lw=1.8, color="k"))
        ax.text(*(centre - 0.12 * step), f"{i + 1}", fontsize=10, ha="center",
                va="center", fontweight="bold")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(False)
    ax.set_title(f"one maxout unit, k = {s.k} pieces: {result.regions} region"
                 f"{'s' if result.regions != 1 else ''}", fontsize=10)
    return ax.figure


def draw_maxout_twin(result, ax=None):
    """Training loss of a ReLU net and of its maxout twin, which started as the same
    function. Draws :func:`rectified.piecewise.compute_maxout_twin`. Maxout chapter."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.4))
    for name, hist in (("ReLU net", result.relu), ("its maxout twin (k = 2)",
                                                    result.maxout)):
        key = "relu" if name.startswith("ReLU") else "maxout"
        ax.plot(hist.epoch, hist.loss, color=color(key), label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title("The same function at epoch 0, different paths after it", fontsize=11)
    ax.legend()
    return ax.figure


__all__ += ["draw_maxout_plane", "draw_maxout_twin"]
