"""Plot helpers in one house style.

Each helper takes ``ax=None`` (a new figure when None), draws, and returns the axes it
drew on. None calls ``plt.show()``; the only function that touches global style is
:func:`use_style`, which every chapter calls once.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch

from . import activations, models

__all__ = ["COLORS", "CLASS_COLORS", "color", "use_style", "activation_curves",
           "decision_boundary", "training_curves", "layer_bars", "value_grid", "layer_lines"]

#: One colour per activation, the same on every page of the book.
COLORS = {
    "relu": "#d62728", "leaky_relu": "#ff7f0e", "prelu": "#8c564b", "elu": "#9467bd",
    "selu": "#e377c2", "softplus": "#bcbd22", "gelu": "#17becf", "gelu_tanh": "#1f9ea8",
    "silu": "#2ca02c", "sigmoid": "#1f77b4", "tanh": "#393b79", "abs": "#7f7f7f",
    "linear": "#000000", "maxout": "#843c39",
}
#: The two classes of every 2-D dataset (points, decision-boundary plots, the playground).
CLASS_COLORS = ("#1f77b4", "#ff7f0e")


def color(name: str, fallback_index: int = 0) -> str:
    """The house colour of an activation (or a cycle colour for other labels)."""
    return COLORS.get(name, f"C{fallback_index % 10}")


def use_style() -> None:
    """Apply the book's style to matplotlib (readable sizes, light grid, no top/right spines)."""
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


@torch.no_grad()
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
    g = np.linspace(-lim, lim, resolution)
    gx, gy = np.meshgrid(g, g)
    grid = torch.as_tensor(np.c_[gx.ravel(), gy.ravel()], dtype=torch.float32,
                           device=next(model.parameters()).device)
    with models.eval_mode(model):
        out = model(grid)
    p = (torch.softmax(out, 1)[:, 1] if out.shape[1] > 1 else torch.sigmoid(out[:, 0]))
    p = p.cpu().numpy().reshape(resolution, resolution)
    ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.5)
    y = np.asarray(y)
    for c in (0, 1):
        ax.scatter(*X[y == c].T, s=10, color=CLASS_COLORS[c], edgecolor="none")
        if X_test is not None:
            Xt, yt = np.asarray(X_test), np.asarray(y_test)
            ax.scatter(*Xt[yt == c].T, s=14, facecolor="none", edgecolor=CLASS_COLORS[c],
                       linewidth=0.8)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
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
