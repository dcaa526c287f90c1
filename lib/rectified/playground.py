"""The playground: a small network trained live on a toy problem, every visual a function of
one serialisable state.

    >>> state = PlaygroundState.decode("data=ring act=relu widths=3-3-3 lr=0.03 l2=0.001")
    >>> run = Run(state)
    >>> run.step(200)
    >>> fig = render(run)            # boundary, loss curves, one heat-map per hidden unit
    >>> state.encode()               # the short string that reproduces the setup

A :class:`PlaygroundState` holds the whole setup (data, network, optimiser) and round-trips
through :meth:`PlaygroundState.encode` / :meth:`PlaygroundState.decode`. A :class:`Run`
is that state being trained: its model, optimiser and loss history. The playground chapter
wraps both in a widget with play, pause, step and reset.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib import ticker
import numpy as np
import torch

from . import activations, data, models, plots
from .train import TrainConfig, Trainer
from .widgets import LiveBox

__all__ = ["PlaygroundState", "Run", "Scene", "render", "widget", "PRESETS", "ACTIVATIONS",
           "DATASETS", "frame_times"]

ACTIVATIONS = tuple(activations.names(include_grouped=True))
DATASETS = tuple(data.DATASETS_2D) + tuple(data.TARGETS_1D)
_OPTIMIZERS = ("sgd", "momentum", "adam")

# Limits that keep any state inside a notebook's budget (1.5 GB, a frame in well under a
# second): at most 8 hidden layers of 64 units (8 pieces each for maxout) and 5,000 points;
# at most 200 points of the reader's own, each coordinate within ±10, so that a state's text
# (and a link holding it) stays a few thousand characters long.
MAX_LAYERS, MAX_WIDTH = 8, 64
MAX_POINTS, MAX_COORD = 200, 10.0
MAX_TEXT = 6000
_INT_RANGES = {"n": (10, 5000), "k": (1, 8), "batch_size": (1, 5000),
               "seed": (0, 2**31 - 1)}
# (low, high, low excluded)
_FLOAT_RANGES = {"noise": (0.0, 1.0, False), "test_fraction": (0.0, 0.9, True),
                 "lr": (0.0, 10.0, True), "l2": (0.0, 1.0, False),
                 "grad_at_zero": (0.0, 1.0, False)}


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


# short keys of the text form, in the order they are written
_KEYS = {"data": "dataset", "noise": "noise", "n": "n", "test": "test_fraction",
         "act": "activation", "widths": "widths", "k": "k", "lr": "lr", "opt": "optimizer",
         "batch": "batch_size", "l2": "l2", "g0": "grad_at_zero", "init": "init",
         "seed": "seed", "pts": "points"}


@dataclass(frozen=True)
class PlaygroundState:
    """Everything that defines a playground run. Regression targets (sine, exp, abs) are
    1-D; the other datasets are 2-D, two-class.

    ``points`` are the reader's own training points, added to the generated training set:
    ``(x1, x2, label)`` with label 0 or 1 for a 2-D set, ``(x, y)`` for a 1-D target.
    ``n=0`` generates no points, so the network trains on the reader's points alone (and
    has no test set). The browser playground on the book's page writes and reads the same
    text form."""

    dataset: str = "ring"
    noise: float = 0.05
    n: int = 300
    test_fraction: float = 0.3
    activation: str = "relu"
    widths: tuple = (4, 4)
    k: int = 2                      # pieces per unit, maxout only
    lr: float = 0.03
    optimizer: str = "sgd"
    batch_size: int = 10
    l2: float = 0.0
    grad_at_zero: float = 0.0       # f'(0) where the activation takes it (ReLU, |z|)
    init: str = "he"
    seed: int = 0
    points: tuple = ()              # the reader's own training points

    def __post_init__(self):
        for name, allowed in (("dataset", DATASETS), ("activation", ACTIVATIONS),
                              ("optimizer", _OPTIMIZERS), ("init", tuple(models.INITS))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; "
                                 f"got {getattr(self, name)!r}")
        widths = self.widths
        if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") or \
                not 1 <= len(widths) <= MAX_LAYERS or \
                any(not _is_int(w) or not 1 <= w <= MAX_WIDTH for w in widths):
            raise ValueError(f"widths must be 1 to {MAX_LAYERS} hidden layers of 1 to "
                             f"{MAX_WIDTH} units, e.g. (3, 3, 3); got {widths!r}")
        object.__setattr__(self, "widths", tuple(int(w) for w in widths))
        for name, (lo, hi) in _INT_RANGES.items():
            value = getattr(self, name)
            if not _is_int(value) or not (lo <= value <= hi or name == "n" and value == 0):
                extra = " (or 0: only your own points)" if name == "n" else ""
                raise ValueError(f"{name} must be an int from {lo} to {hi}{extra}; "
                                 f"got {value!r}")
        for name, (lo, hi, lo_open) in _FLOAT_RANGES.items():
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and \
                math.isfinite(value) and (lo < value if lo_open else lo <= value) and value <= hi
            if not ok:
                bound = f"({lo:g}, {hi:g}]" if lo_open else f"[{lo:g}, {hi:g}]"
                raise ValueError(f"{name} must be a finite number in {bound}; got {value!r}")
        object.__setattr__(self, "points", self._checked_points())
        if self.n == 0 and len(self.points) < 2:
            raise ValueError("n=0 trains on your own points only: give at least 2 points")

    def _checked_points(self) -> tuple:
        size = 2 if self.is_regression else 3
        points = self.points
        if isinstance(points, (str, bytes)) or not hasattr(points, "__len__") or \
                len(points) > MAX_POINTS:
            raise ValueError(f"points must be a sequence of at most {MAX_POINTS} points; "
                             f"got {points!r:.80}")
        checked = []
        for p in points:
            ok = hasattr(p, "__len__") and not isinstance(p, (str, bytes)) and \
                len(p) == size and all(
                    isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                    and math.isfinite(v) for v in p) and \
                all(abs(v) <= MAX_COORD for v in p[:2]) and \
                (self.is_regression or p[2] in (0, 1))
            if not ok:
                what = "(x, y)" if self.is_regression else "(x1, x2, label) with label 0 or 1"
                raise ValueError(f"each point must be {what}, coordinates within "
                                 f"±{MAX_COORD:g}; got {p!r}")
            checked.append(tuple(float(v) for v in p[:2]) +
                           (() if self.is_regression else (int(p[2]),)))
        return tuple(checked)

    @property
    def is_regression(self) -> bool:
        return self.dataset in data.TARGETS_1D

    def encode(self) -> str:
        """The state as a short text: only the fields that differ from the defaults.
        Numbers are written exactly (the shortest text that reads back as the same float),
        so ``decode(encode(s)) == s`` for every state."""
        default = PlaygroundState()
        parts = []
        for short, name in _KEYS.items():
            value = getattr(self, name)
            if value == getattr(default, name) and short != "data":
                continue
            if name == "points":
                text = ";".join(",".join(map(_number_text, p)) for p in value)
            elif name == "widths":
                text = "-".join(map(str, value))
            else:
                text = _number_text(value) if isinstance(value, float) else str(value)
            parts.append(f"{short}={text}")
        return " ".join(parts)

    @classmethod
    def decode(cls, text: str) -> "PlaygroundState":
        """Parse :meth:`encode`'s text (``key=value`` pairs separated by spaces)."""
        if not isinstance(text, str):
            raise TypeError(f"expected the playground's text form, got {type(text).__name__}")
        if len(text) > MAX_TEXT:
            raise ValueError(f"the state text is {len(text)} characters long; a state needs "
                             f"at most {MAX_TEXT}")
        kwargs = {}
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        for part in text.split():
            key, sep, value = part.partition("=")
            if not sep or key not in _KEYS:
                raise ValueError(f"cannot read {part!r}; use key=value with keys "
                                 f"{', '.join(_KEYS)}")
            name = _KEYS[key]
            if name in kwargs:
                raise ValueError(f"{key} is given twice in the state text; give each key once")
            try:
                if name == "widths":
                    kwargs[name] = tuple(int(w) for w in value.split("-"))
                elif name == "points":
                    kwargs[name] = tuple(
                        tuple(float(v) if i < 2 else int(v)
                              for i, v in enumerate(p.split(",")))
                        for p in value.split(";") if p)
                elif types[name] == "int":
                    kwargs[name] = int(value)
                elif types[name] == "float":
                    kwargs[name] = float(value)
                else:
                    kwargs[name] = value
            except ValueError:
                what = {"widths": "hidden widths joined by '-', e.g. 3-3-3",
                        "points": "points x1,x2,label (or x,y) joined by ';'",
                        "int": "a whole number", "float": "a number"}
                label = key if key == name else f"{key} ({name})"
                raise ValueError(f"{label} must be {what.get(name, what.get(types[name]))}; "
                                 f"got {value!r}") from None
        return cls(**kwargs)


def _number_text(value: float) -> str:
    """The shortest text that reads back as the same float, without a trailing '.0'."""
    return repr(float(value)).removesuffix(".0")


#: The book's key scenes, as playground states.
PRESETS = {
    "ring, ReLU": "data=ring act=relu widths=3-3-3 lr=0.03 l2=0.001",
    "ring, tanh": "data=ring act=tanh widths=3-3-3 lr=0.03 l2=0.001",
    "ring, linear": "data=ring act=linear widths=3-3-3 lr=0.03 l2=0.001",
    "ring, sigmoid": "data=ring act=sigmoid widths=3-3-3 lr=0.03 l2=0.001",
    "dying at a high learning rate": "data=spiral act=relu widths=8-8 lr=1.5",
    "deep sigmoid stall": "data=xor act=sigmoid widths=8-8-8-8-8-8 lr=0.1 init=standard",
    "sine with ReLU": "data=sine act=relu widths=16 lr=0.01 opt=adam",
}


def _with_points(s: PlaygroundState) -> data.Dataset:
    """The state's data set: ``s.n`` generated points split into train and test, with the
    reader's own points (``s.points``) added to the training set."""
    inputs = 1 if s.is_regression else 2
    if s.n == 0:
        empty = np.zeros((0, inputs), np.float32)
        ds = data.Dataset(empty, np.zeros((0, 1), np.float32) if s.is_regression
                          else np.zeros(0, np.int64), empty,
                          np.zeros((0, 1), np.float32) if s.is_regression
                          else np.zeros(0, np.int64), s.dataset,
                          None if s.is_regression else 2)
    elif s.is_regression:
        ds = data.regression_1d(s.dataset, n=s.n, noise=s.noise, seed=s.seed,
                                test_fraction=s.test_fraction)
    else:
        ds = data.classification_2d(s.dataset, n=s.n, noise=s.noise, seed=s.seed,
                                    test_fraction=s.test_fraction)
    if not s.points:
        return ds
    own = np.asarray(s.points, dtype=np.float64)
    X = np.concatenate([ds.X_train, own[:, :inputs].astype(np.float32)])
    if s.is_regression:
        y = np.concatenate([ds.y_train, own[:, 1:2].astype(np.float32)])
    else:
        y = np.concatenate([ds.y_train, own[:, 2].astype(np.int64)])
    return data.Dataset(X, y, ds.X_test, ds.y_test, ds.name, ds.n_classes)


#: A playground run's step budget: in effect none, the reader stops it.
_OPEN_ENDED = 10**12


@dataclass
class Run:
    """A :class:`PlaygroundState` being trained, one mini-batch step at a time, by the
    training engine (:class:`rectified.train.Trainer`), with a record of the losses on the
    whole training and test sets after every :meth:`step`."""

    state: PlaygroundState

    def __post_init__(self):
        s = self.state
        self.data = _with_points(s)
        act_params = ({"grad_at_zero": s.grad_at_zero}
                      if "grad_at_zero" in activations.parameters(s.activation) else {})
        self.model = models.MLP(self.data.n_features, list(s.widths),
                                1 if s.is_regression else 2, activation=s.activation,
                                k=s.k, init=s.init, seed=s.seed, **act_params)
        # records only when step() asks: the schedule neither ends nor records by itself
        cfg = TrainConfig(optimizer=s.optimizer, lr=s.lr, batch_size=s.batch_size,
                          weight_decay=s.l2, steps=_OPEN_ENDED, record_every=_OPEN_ENDED,
                          diagnostics=False, seed=s.seed)
        self.trainer = Trainer(self.model, self.data, cfg, test=len(self.data.X_test) > 0)
        t = self.trainer
        self.loss_name, self.optimizer = t.loss_name, t.optimizer
        self.Xtr, self.ytr, self.Xte, self.yte = t.Xtr, t.ytr, t.Xte, t.yte

    @property
    def step_count(self) -> int:
        """Optimiser steps taken so far."""
        return self.trainer.step_count

    @property
    def steps(self) -> list:
        """The step of each record."""
        return self.trainer.history.step

    @property
    def train_loss(self) -> list:
        """The loss on the whole training set at each record."""
        return self.trainer.history.loss

    @property
    def test_loss(self) -> list:
        """The loss on the test set at each record."""
        return self.trainer.history.test_loss

    @property
    def diverged(self) -> bool:
        """Whether a training loss became NaN or infinite (training then stops)."""
        return self.trainer.history.diverged

    def step(self, n: int = 1) -> "Run":
        """Train ``n`` mini-batch steps (none once the run has diverged), then record."""
        self.trainer.step(n).record()
        return self

    @property
    def can_die(self) -> bool:
        """Whether this run's units can be dead at all (the registry's
        :attr:`~rectified.activations.Activation.can_die`: ReLU yes; Leaky ReLU, ELU,
        sigmoid, tanh, maxout ... no, their output or gradient is never zero everywhere)."""
        return activations.get(self.state.activation).can_die

    @torch.no_grad()
    def dead_units(self) -> list[np.ndarray]:
        """Per hidden layer, the dead units: pre-activation ≤ 0 on every training input, so
        that output and gradient are both exactly 0. All False when the activation's units
        cannot be dead (:attr:`can_die`)."""
        self.model.eval()
        _, pres, _ = self.model.forward_hidden(self.Xtr)
        if not self.can_die:
            return [np.zeros(z.shape[1], dtype=bool) for z in pres]
        return [(~(z > 0)).all(dim=0).numpy() for z in pres]

    def accuracy(self) -> tuple[float, float]:
        """(train, test) accuracy for classification; NaN for regression."""
        if self.state.is_regression:
            return math.nan, math.nan
        with torch.no_grad():
            self.model.eval()
            return tuple(float((self.model(X).argmax(1) == y).float().mean())
                         for X, y in ((self.Xtr, self.ytr), (self.Xte, self.yte)))


_GRID = 48   # heat-map resolution: small enough for a fast redraw
_EXTENT = 1.4


class Scene:
    """The playground's picture of a run, built once and then updated in place: the model's
    output over the input space with the train (filled) and test (hollow) points, the loss
    curves, and a heat-map of every unit of the last hidden layer (dead units crossed out,
    where the activation's units can die).

    ``Scene(run).figure`` is a Matplotlib figure like any other (:func:`render`). With
    ``live=True`` the scene is drawn for animation instead: everything training does not
    change (axes, tick labels, unit frames) is drawn once and kept as a bitmap, and
    :meth:`frame` redraws only what changed since, returning the picture as PNG bytes. The
    bitmap is redrawn only when the loss axes must grow.
    """

    def __init__(self, run: Run, max_units: int = 8, live: bool = False, dpi: float = 72):
        self.run, self.live = run, live
        s = run.state
        if live:
            # no pyplot: a live scene is never shown by the notebook's inline backend
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            fig = Figure(figsize=(9.0, 4.6), dpi=dpi, layout="none")
            FigureCanvasAgg(fig)
        else:
            # a fixed layout: constrained layout would cost most of a frame's drawing
            fig = plt.figure(figsize=(9.0, 4.6), layout="none")
        self.figure = fig
        grid = fig.add_gridspec(2, 4, width_ratios=[2.2, 2.2, 1, 1], height_ratios=[1, 1],
                                left=0.07, right=0.98, bottom=0.12, top=0.92, wspace=0.35,
                                hspace=0.45)
        self._dynamic = []     # (artist, axes or None): what a live frame redraws
        self.ax_main = fig.add_subplot(grid[:, 0:2])
        if s.is_regression:
            self._build_regression_panel(self.ax_main)
        else:
            self._build_classification_panel(self.ax_main)
        self._build_loss_panel(fig.add_subplot(grid[0, 2:]))
        self._build_unit_panels(grid[1, 2:], min(s.widths[-1], max_units))
        self._footer = fig.text(0.77, 0.02, " ", ha="center", fontsize=9)
        self._track(self._footer, None)
        self._background = None
        self.full_draws = 0    # how often frame() has drawn the whole figure
        self.update()

    def _build_regression_panel(self, ax):
        d, color = self.run.data, plots.color(self.run.state.activation)
        self._x = np.linspace(-5, 5, 200, dtype=np.float32)[:, None]
        ax.scatter(d.X_train[:, 0], d.y_train[:, 0], s=8, color="0.5", label="train")
        ax.scatter(d.X_test[:, 0], d.y_test[:, 0], s=12, facecolor="none", edgecolor="0.3",
                   label="test")
        (self._pred,) = ax.plot(self._x[:, 0], np.zeros(200), color=color, label="network")
        self._track(self._pred, ax)
        ax.axvspan(-5, -4, color="0.9")
        ax.axvspan(4, 5, color="0.9")
        # fixed limits around the targets: a wild early fit leaves the view, not the data
        y = np.concatenate([d.y_train[:, 0], d.y_test[:, 0]])
        pad = 0.25 * (y.max() - y.min()) + 1e-3
        ax.set_xlim(-5, 5)
        ax.set_ylim(y.min() - pad, y.max() + pad)
        ax.set_xlabel("$x$ (shaded: outside the training interval)")
        ax.set_ylabel("$y$")
        ax.legend(loc="lower left")
        self._finish_main_panel(ax)

    def _build_classification_panel(self, ax):
        d = self.run.data
        g = np.linspace(-_EXTENT, _EXTENT, _GRID, dtype=np.float32)
        self._gx, self._gy = np.meshgrid(g, g)
        # imshow of P(class 1) plus its 0.5 contour: much faster to redraw than contourf
        self._prob = ax.imshow(np.zeros((_GRID, _GRID)), origin="lower",
                               extent=(-_EXTENT, _EXTENT, -_EXTENT, _EXTENT), cmap="RdBu_r",
                               vmin=0, vmax=1, alpha=0.45)
        self._track(self._prob, ax)
        self._contour = None
        for c, col in enumerate(plots.CLASS_COLORS):
            tr, te = d.y_train == c, d.y_test == c
            self._track(ax.scatter(*d.X_train[tr].T, s=8, color=col, edgecolor="none",
                                   zorder=3), ax)
            self._track(ax.scatter(*d.X_test[te].T, s=12, facecolor="none", edgecolor=col,
                                   linewidth=0.8, zorder=3), ax)
        ax.set_xlim(-_EXTENT, _EXTENT)
        ax.set_ylim(-_EXTENT, _EXTENT)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$ (filled: train, hollow: test)")
        ax.set_ylabel("$x_2$")
        self._finish_main_panel(ax)

    def _finish_main_panel(self, ax):
        ax.set_title(" ", fontsize=10)
        self._track(ax.title, ax)
        self._track_spines(ax)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(5))
        ax.yaxis.set_major_locator(ticker.MaxNLocator(5))
        ax.grid(False)

    def _build_loss_panel(self, ax):
        self.ax_loss = ax
        (self._train_line,) = ax.plot([], [], label="train", color="k")
        (self._test_line,) = ax.plot([], [], label="test", color="k", ls="--")
        self._track(self._train_line, ax)
        self._track(self._test_line, ax)
        ax.set_yscale("log")
        # few ticks: laying out tick labels is most of the drawing time
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0), numticks=4))
        ax.yaxis.set_minor_locator(ticker.NullLocator())
        ax.xaxis.set_major_locator(ticker.MaxNLocator(3))
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.set_title("loss", fontsize=10)
        ax.legend(fontsize=9)
        self._loss_limits = None

    def _build_unit_panels(self, cell, n_show):
        s, fig = self.run.state, self.figure
        self.unit_axes, self._units, self._crosses = [], [], []
        sub = cell.subgridspec(2, max(1, math.ceil(n_show / 2)), wspace=0.05, hspace=0.05)
        for j in range(n_show):
            u = fig.add_subplot(sub[j % 2, j // 2])
            if s.is_regression:
                (art,) = u.plot(self._x[:, 0], np.zeros(200), color=plots.color(s.activation),
                                lw=1)
                u.set_ylim(-0.08, 1.08)      # each unit's output scaled to [0, 1]
            else:
                art = u.imshow(np.zeros((_GRID, _GRID)), origin="lower", cmap="viridis")
            self._track(art, u)
            cross = [u.plot(a, b, transform=u.transAxes, color="r", lw=1.5)[0]
                     for a, b in (([0, 1], [0, 1]), ([0, 1], [1, 0]))]
            for line in cross:
                self._track(line, u)
            u.set_xticks([])
            u.set_yticks([])
            self._track_spines(u)
            self.unit_axes.append(u)
            self._units.append(art)
            self._crosses.append(cross)

    def _track(self, artist, ax):
        artist.set_animated(self.live)
        self._dynamic.append((artist, ax))

    def _track_spines(self, ax):
        # the frame is drawn above the pictures inside it, so it is redrawn after them
        for spine in ax.spines.values():
            self._track(spine, ax)

    @torch.no_grad()
    def update(self) -> "Scene":
        """Bring every changing artist up to date with the run."""
        run, s, model = self.run, self.run.state, self.run.model
        model.eval()
        dead = run.dead_units()
        last = len(s.widths) - 1
        if s.is_regression:
            out, _, posts = model.forward_hidden(torch.as_tensor(self._x))
            self._pred.set_ydata(out.numpy().ravel())
            maps = posts[last].numpy().T                          # (units, 200)
        else:
            grid = np.c_[self._gx.ravel(), self._gy.ravel()]
            out, _, posts = model.forward_hidden(torch.as_tensor(grid))
            prob = torch.softmax(out, 1)[:, 1].numpy().reshape(_GRID, _GRID)
            self._prob.set_data(prob)
            if self._contour is not None:
                self._dynamic.remove((self._contour, self.ax_main))
                self._contour.remove()
                self._contour = None
            if np.isfinite(prob).all() and prob.min() < 0.5 < prob.max():
                self._contour = self.ax_main.contour(self._gx, self._gy, prob, levels=[0.5],
                                                     colors="k", linewidths=1.2)
                self._track(self._contour, self.ax_main)
            maps = posts[last].numpy().T.reshape(-1, _GRID, _GRID)
        for j, art in enumerate(self._units):
            m = maps[j]
            lo, hi = (float(m.min()), float(m.max())) if np.isfinite(m).all() else (0.0, 1.0)
            if s.is_regression:
                art.set_ydata((m - lo) / (hi - lo) if hi > lo else np.zeros_like(m))
            else:
                art.set_data(m)
                art.set_clim(lo, hi if hi > lo else lo + 1.0)
            for line in self._crosses[j]:
                line.set_visible(bool(dead[last][j]))
        train_acc, test_acc = run.accuracy()
        acc = "" if s.is_regression else f", train/test acc {train_acc:.2f}/{test_acc:.2f}"
        self.ax_main.set_title(
            f"{s.activation}, widths {'-'.join(map(str, s.widths))}, step {run.step_count}"
            f"{acc}" + (" — DIVERGED" if run.diverged else ""), fontsize=10)
        self._train_line.set_data(run.steps, run.train_loss)
        self._test_line.set_data(run.steps, run.test_loss)
        limits = _loss_limits(run)
        if limits != self._loss_limits:
            self._loss_limits = limits
            self.ax_loss.set_xlim(0, limits[0])
            self.ax_loss.set_ylim(*limits[1:])
            self._background = None
        n_dead = int(sum(d.sum() for d in dead))
        n_all = int(sum(len(d) for d in dead))
        self._footer.set_text(f"last hidden layer's units; dead: {n_dead} of {n_all} in all "
                              "layers" if run.can_die else
                              f"last hidden layer's units ({s.activation} units cannot die)")
        return self

    def frame(self) -> bytes:
        """The live picture as PNG bytes: the kept bitmap of the still parts, with the
        changing artists drawn over it (``live=True`` scenes only)."""
        if not self.live:
            raise ValueError("frame() needs a scene built with live=True")
        import io

        from PIL import Image

        canvas = self.figure.canvas
        if self._background is None:
            canvas.draw()          # animated artists are left out of this draw
            self.full_draws += 1
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(self._background)
        for artist, ax in sorted(self._dynamic, key=lambda p: p[0].get_zorder()):
            (ax or self.figure).draw_artist(artist)
        rgba = np.asarray(canvas.buffer_rgba())
        buf = io.BytesIO()
        # fast compression: a frame is shown once, on this machine
        Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=1)
        return buf.getvalue()


def _loss_limits(run: Run) -> tuple[float, float, float]:
    """Axes limits for the loss curves that change rarely: steps up to the next power of two
    times 100, losses to whole decades."""
    xmax = 100.0
    while xmax < max(run.steps):
        xmax *= 2
    losses = np.asarray(run.train_loss + run.test_loss, dtype=float)
    losses = losses[np.isfinite(losses) & (losses > 0)]
    if losses.size == 0:
        return xmax, 0.1, 10.0
    lo = 10.0 ** math.floor(math.log10(losses.min()))
    hi = 10.0 ** math.ceil(math.log10(losses.max()))
    return xmax, lo, hi if hi > lo else lo * 10


def render(run: Run, max_units: int = 8):
    """The playground's picture of a run (a Matplotlib figure): see :class:`Scene`."""
    return Scene(run, max_units).figure


def frame_times(state: PlaygroundState, frames: int = 20, steps_per_frame: int = 10):
    """Seconds per live widget frame, as the widget makes them (train ``steps_per_frame``
    steps, update the scene, draw it to PNG), for ``frames`` frames after the first: the
    playground's redraw benchmark."""
    scene = Scene(Run(state), live=True)
    scene.frame()
    times = []
    for _ in range(frames):
        start = time.perf_counter()
        scene.run.step(steps_per_frame)
        scene.update().frame()
        times.append(time.perf_counter() - start)
    return np.asarray(times)


def widget(state: PlaygroundState | str = PlaygroundState(), steps_per_frame: int = 10,
           interval_ms: int = 120):
    """The live playground: controls for the state, play / pause (the play button), step,
    reset, and a text box holding the state's short text form (paste one to load it).

    Needs a running kernel. Returns the widget box; ``box.run()`` gives the current
    :class:`Run`.
    """
    import ipywidgets as w

    if isinstance(state, str):
        state = PlaygroundState.decode(state)
    current = {"scene": Scene(Run(state), live=True)}
    style = {"description_width": "initial"}
    preset = w.Dropdown(options=["(custom)"] + list(PRESETS), value="(custom)",
                        description="preset", style=style)
    text = w.Text(value=state.encode(), description="state", style=style,
                  layout=w.Layout(width="34em"))
    fields = {
        "dataset": w.Dropdown(options=list(DATASETS), description="data"),
        "activation": w.Dropdown(options=list(ACTIVATIONS), description="activation"),
        "widths": w.Text(description="widths", layout=w.Layout(width="14em")),
        "lr": w.FloatLogSlider(min=-4, max=1, step=0.25, description="lr",
                               continuous_update=False),
        "optimizer": w.Dropdown(options=list(_OPTIMIZERS), description="optimiser"),
        "batch_size": w.IntSlider(min=1, max=64, description="batch", continuous_update=False),
        "l2": w.FloatText(description="L2", layout=w.Layout(width="12em")),
        "grad_at_zero": w.Dropdown(options=[0.0, 0.5, 1.0], description="ReLU'(0)"),
        "noise": w.FloatSlider(min=0, max=0.5, step=0.01, description="noise",
                               continuous_update=False),
    }
    play = w.Play(interval=interval_ms, max=10**6, description="play")
    step_button = w.Button(description="step", icon="step-forward")
    reset_button = w.Button(description="reset", icon="undo")
    message = w.HTML()
    # the picture is a PNG in an Image widget: a frame replaces its bytes, nothing else
    picture = w.Image(format="png", layout=w.Layout(width="100%", max_width="900px"))
    syncing = {"on": False}

    def show_state(s: PlaygroundState):
        syncing["on"] = True
        for name, control in fields.items():
            value = getattr(s, name)
            control.value = "-".join(map(str, value)) if name == "widths" else value
        text.value = s.encode()
        # name the preset this state is, if it is one
        preset.value = next((name for name, p in PRESETS.items()
                             if PlaygroundState.decode(p) == s), "(custom)")
        syncing["on"] = False

    def draw():    # a new scene is up to date; after training, on_tick updates it
        picture.value = current["scene"].frame()

    def load(s: PlaygroundState):
        current["scene"] = Scene(Run(s), live=True)
        show_state(s)
        message.value = ""
        draw()

    def on_field(_):
        if syncing["on"]:
            return
        try:
            values = {n: (tuple(int(v) for v in c.value.split("-")) if n == "widths" else c.value)
                      for n, c in fields.items()}
            old = current["scene"].run.state
            if (values["dataset"] in data.TARGETS_1D) != old.is_regression:
                # the reader's own points belong to one kind of data set (2-D or 1-D)
                values.update(points=(), n=old.n or PlaygroundState.n)
            load(dataclasses.replace(old, **values))
        except ValueError as exc:
            message.value = f"<span style='color:#b00'>{exc}</span>"

    def on_text(_):
        if syncing["on"]:
            return
        try:
            load(PlaygroundState.decode(text.value))
        except ValueError as exc:
            message.value = f"<span style='color:#b00'>{exc}</span>"

    def on_preset(change):
        if not syncing["on"] and change["new"] in PRESETS:
            load(PlaygroundState.decode(PRESETS[change["new"]]))

    def on_tick(_):
        scene = current["scene"]
        scene.run.step(steps_per_frame)
        scene.update()
        draw()

    for control in fields.values():
        control.observe(on_field, names="value")
    text.observe(on_text, names="value")
    preset.observe(on_preset, names="value")
    play.observe(on_tick, names="value")
    step_button.on_click(lambda _: on_tick(None))
    reset_button.on_click(lambda _: load(current["scene"].run.state))
    show_state(state)
    draw()
    controls = w.VBox([
        w.HBox([preset, play, step_button, reset_button]),
        w.HBox([fields["dataset"], fields["noise"], fields["activation"], fields["widths"]]),
        w.HBox([fields["lr"], fields["optimizer"], fields["batch_size"], fields["l2"],
                fields["grad_at_zero"]]),
        w.HBox([text, message]),
    ])
    box = LiveBox([controls, picture])
    box.static_html = (
        "<p class='rw-note'><em>This control panel trains the network in a running "
        "kernel (open the notebook with the launch buttons at the top). In this page, the "
        "live playground above trains the same setups in your browser; its state text "
        "works in both.</em></p>")
    box.run = lambda: current["scene"].run
    box.controls = {"preset": preset, "text": text, "play": play, "step": step_button,
                    "reset": reset_button, **fields}
    return box
