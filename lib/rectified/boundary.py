"""Decision boundaries of two-input, two-class classifiers: the curve itself and, for a
piecewise-linear network, its straight pieces.

Inside one activation region a ReLU-family MLP is an affine map, so the set where its two
logits are equal is a straight line there; a region is convex, so the boundary meets it in
at most one straight segment. The boundary is therefore a polygon whose corners sit on
region borders, where some unit switches on or off.

    >>> pieces = boundary_pieces(relu_net, xlim=(-1.3, 1.3), ylim=(-1.3, 1.3))
    >>> pieces.n_pieces, pieces.max_deviation()

The why-nonlinearity chapter's two experiments live here too: a ReLU net fitted to a 1-D
target, in and beyond its training interval (:func:`compute_fit`), and a classifier's
boundary on the ring for each activation (:func:`compute_boundary`).
:func:`compute_fits` and :func:`compute_boundaries` train many seeds at once.

Why-nonlinearity chapter (the ring: tanh draws a curve, ReLU a polygon).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import activations, data, diagnostics, models
from .train import TrainConfig, as_tensors, evaluate, train

__all__ = ["decision_contour", "chord_deviation", "BoundaryPieces", "boundary_pieces"]


def _check_resolution(resolution) -> int:
    if not isinstance(resolution, (int, np.integer)) or isinstance(resolution, bool) \
            or resolution < 3:
        raise ValueError(f"resolution must be an int >= 3, got {resolution!r}")
    return int(resolution)


@torch.no_grad()
def _logit_gap(model: nn.Module, pts: np.ndarray) -> np.ndarray:
    """logit₁ − logit₀ (two outputs) or the single logit (one output) at the points."""
    device = next(model.parameters()).device
    with models.eval_mode(model):
        out = model(torch.as_tensor(pts, dtype=torch.float32, device=device))
    if out.dim() != 2 or out.shape[1] not in (1, 2):
        raise ValueError(f"model must map (n, 2) inputs to 1 or 2 logits, got output shape "
                         f"{tuple(out.shape)}")
    gap = out[:, 1] - out[:, 0] if out.shape[1] == 2 else out[:, 0]
    return gap.double().cpu().numpy()


def decision_contour(model: nn.Module, xlim=(-1.0, 1.0), ylim=(-1.0, 1.0),
                     resolution: int = 300) -> list[np.ndarray]:
    """The polylines where a 2-input classifier gives P(class 1) = 1/2, i.e. where
    logit₁ − logit₀ = 0, traced on a resolution² grid; each an array of shape (m, 2),
    longest first. A closed curve repeats its first point at the end."""
    import contourpy   # matplotlib's contouring engine, installed with it

    resolution = _check_resolution(resolution)
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    gx, gy = np.meshgrid(xs, ys)
    gap = _logit_gap(model, np.c_[gx.ravel(), gy.ravel()]).reshape(resolution, resolution)
    lines = contourpy.contour_generator(gx, gy, gap).lines(0.0)
    return sorted((np.asarray(l, dtype=float) for l in lines if len(l) >= 2),
                  key=len, reverse=True)


def chord_deviation(points) -> float:
    """Largest distance of a polyline's points from the straight line (chord) through its
    first and last point: 0 for a straight piece, larger the more the piece bends."""
    p = np.asarray(points, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape (m, 2), got {p.shape}")
    if len(p) < 3:
        return 0.0
    d = p[-1] - p[0]
    length = np.hypot(*d)
    if length == 0:
        return float(np.hypot(*(p - p[0]).T).max())
    return float(np.abs(d[0] * (p[:, 1] - p[0, 1]) - d[1] * (p[:, 0] - p[0, 0])).max() / length)


@dataclass(frozen=True)
class BoundaryPieces:
    """A decision boundary cut where it crosses from one activation region to the next.

    ``pieces`` holds the traced boundary points of each piece, in order along each
    contour line; ``corners`` the points where consecutive pieces meet.
    """

    pieces: list
    corners: np.ndarray

    @property
    def n_pieces(self) -> int:
        return len(self.pieces)

    def max_deviation(self) -> float:
        """The largest :func:`chord_deviation` of any piece, its two end points left out
        (they are interpolated across a region border, so they may sit off the line)."""
        return max((chord_deviation(p[1:-1]) for p in self.pieces if len(p) >= 5), default=0.0)


def _runs(keys: list) -> list[tuple[int, int]]:
    """[start, stop) index ranges of equal consecutive keys."""
    runs, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            runs.append((start, i))
            start = i
    return runs


def boundary_pieces(model: nn.Module, xlim=(-1.0, 1.0), ylim=(-1.0, 1.0),
                    resolution: int = 300) -> BoundaryPieces:
    """Split a piecewise-linear MLP's decision boundary into its straight pieces.

    Each traced point of :func:`decision_contour` gets the on/off pattern of every hidden
    unit there; a run of points with one pattern lies in one linear region, where the
    boundary is straight. Runs of a single point (the trace cutting a region's corner
    finer than the grid resolves) are dropped, and on a closed curve the first and last
    runs join when they share a pattern.
    """
    diagnostics.piecewise_linear_layers(model)      # raises for other activations
    corners, pieces = [], []
    for line in decision_contour(model, xlim, ylim, resolution):
        closed = len(line) > 2 and np.allclose(line[0], line[-1])
        pts = line[:-1] if closed else line
        keys = [row.tobytes() for row in diagnostics.activation_patterns(model, pts)]
        runs = [r for r in _runs(keys) if r[1] - r[0] > 1] or [(0, len(keys))]
        merged = [runs[0]]
        for r in runs[1:]:
            if keys[r[0]] == keys[merged[-1][0]]:
                merged[-1] = (merged[-1][0], r[1])
            else:
                merged.append(r)
        segs = [pts[a:b] for a, b in merged]
        if closed and len(merged) > 1 and keys[merged[0][0]] == keys[merged[-1][0]]:
            segs = [np.vstack([segs[-1], segs[0]])] + segs[1:-1]
        if len(segs) > 1:      # a corner between consecutive pieces (and last to first)
            nxt = segs[1:] + segs[:1] if closed else segs[1:]
            corners += [(s[-1] + t[0]) / 2 for s, t in zip(segs, nxt)]
        pieces += segs
    return BoundaryPieces(pieces, np.asarray(corners, dtype=float).reshape(-1, 2))


# --- Why nonlinearity: a ReLU fit beyond its data, and the ring's boundary per activation ---

__all__ += ["class_probability_grid", "FIT_INTERVAL", "FitState", "FitResult", "fit_data",
            "compute_fit", "compute_fits", "BoundaryState", "BoundaryResult", "boundary_data",
            "compute_boundary", "compute_boundaries"]

#: Where the fit experiment's training data lie: x in [−FIT_INTERVAL, FIT_INTERVAL].
FIT_INTERVAL = 4.0


@torch.no_grad()
def class_probability_grid(model: nn.Module, lim: float, resolution: int = 150):
    """(g, p): grid coordinates g = linspace(−lim, lim, resolution) on both axes and a
    two-class classifier's P(class 1) at each grid point, p[i, j] at (g[j], g[i])."""
    resolution = _check_resolution(resolution)
    g = np.linspace(-lim, lim, resolution)
    gx, gy = np.meshgrid(g, g)
    grid = torch.as_tensor(np.c_[gx.ravel(), gy.ravel()], dtype=torch.float32,
                           device=next(model.parameters()).device)
    with models.eval_mode(model):
        out = model(grid)
    p = torch.softmax(out, 1)[:, 1] if out.shape[1] > 1 else torch.sigmoid(out[:, 0])
    return g, p.cpu().numpy().reshape(resolution, resolution)


def _check_seed(value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"seed must be an int >= 0, got {value!r}")
    return int(value)


def _check_lr(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"lr must be a number > 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class FitState:
    """A one-hidden-layer ReLU net of ``n_units`` fitted (Adam, full batch, ``steps`` steps
    at learning rate ``lr``) to the 1-D ``target`` sampled on [−4, 4], drawn on
    [−view, view]."""

    n_units: int = 8
    seed: int = 0
    target: str = "sine"
    steps: int = 400
    lr: float = 0.03
    view: float = 10.0


@dataclass(frozen=True, eq=False)
class FitResult:
    """One fitted net of a :class:`FitState`: its output ``y`` and the target ``target_y``
    on the grid ``x`` over [−view, view], its kinks (exact, from the weights) inside that
    view, the training points and their ``interval``, and its RMSE on the held-out test
    points. ``model`` and ``history`` are the trained net and its record, for further
    measurements."""

    state: FitState
    interval: tuple
    x: np.ndarray
    y: np.ndarray
    target_y: np.ndarray
    kinks: np.ndarray
    kink_y: np.ndarray
    X_train: np.ndarray
    y_train: np.ndarray
    test_rmse: float
    model: nn.Module = field(repr=False)
    history: object = field(repr=False)

    @property
    def n_kinks(self) -> int:
        return len(self.kinks)


def _check_fit_state(state) -> FitState:

    if not isinstance(state, FitState):
        raise TypeError(f"state must be a FitState, got {type(state).__name__}")
    models.check_positive_int("n_units", state.n_units)
    models.check_positive_int("steps", state.steps)
    _check_seed(state.seed)
    _check_lr(state.lr)
    if state.target not in data.TARGETS_1D:
        raise ValueError(f"unknown target {state.target!r}; known: "
                         f"{', '.join(data.TARGETS_1D)}")
    if isinstance(state.view, bool) or not isinstance(state.view, (int, float)) or \
            not state.view > FIT_INTERVAL:
        raise ValueError(f"view must be a number > {FIT_INTERVAL:g} (the training interval "
                         f"is [-{FIT_INTERVAL:g}, {FIT_INTERVAL:g}]), got {state.view!r}")
    return state


def fit_data(state: FitState):
    """The 1-D regression set a :class:`FitState` trains on: 200 points of its target on
    [−4, 4] (150 for training, 50 for testing), always the same draw."""

    return data.regression_1d(_check_fit_state(state).target, n=200, lo=-FIT_INTERVAL,
                              hi=FIT_INTERVAL, seed=0)


def _fit_setup(state: FitState):
    """(untrained MLP 1 → n_units → 1 with ReLU and the state's seed, TrainConfig)."""

    net = models.MLP(1, [state.n_units], 1, activation="relu", seed=state.seed)
    cfg = TrainConfig(optimizer="adam", lr=state.lr, steps=state.steps, batch_size=None,
                      diagnostics=False, record_every=state.steps)
    return net, cfg


@torch.no_grad()
def _fit_result(state: FitState, net: nn.Module, history) -> FitResult:
    """Measure a trained fit: its curve and kinks on [−view, view] and its test RMSE."""

    ds = fit_data(state)
    x = np.linspace(-state.view, state.view, 1201)
    kinks = diagnostics.regions_along_line(net, [-state.view], [state.view]).points.ravel()
    run = lambda v: net(torch.as_tensor(np.asarray(v)[:, None], dtype=torch.float32))
    rmse = float(torch.sqrt(((run(ds.X_test[:, 0]) - torch.as_tensor(ds.y_test)) ** 2).mean()))
    return FitResult(state, interval=(-FIT_INTERVAL, FIT_INTERVAL), x=x,
                     y=run(x).numpy().ravel(), target_y=data.TARGETS_1D[state.target](x),
                     kinks=kinks, kink_y=run(kinks).numpy().ravel(),
                     X_train=ds.X_train[:, 0], y_train=ds.y_train[:, 0], test_rmse=rmse,
                     model=net, history=history)


def compute_fit(state: FitState) -> FitResult:
    """Fit the state's net (:func:`rectified.train.train`) and measure it.
    Why-nonlinearity chapter."""

    _check_fit_state(state)
    net, cfg = _fit_setup(state)
    return _fit_result(state, net, train(net, fit_data(state), cfg))


def compute_fits(states) -> dict[FitState, FitResult]:
    """:func:`compute_fit` for many states at once: the states that differ only in their
    seed (and view) are trained together as one batched ensemble
    (:func:`rectified.train.train` on a :class:`~rectified.models.MLPEnsemble`), members
    in the order given.
    Returns {state: result}. Why-nonlinearity chapter (five seeds per width)."""
    states = [_check_fit_state(s) for s in states]
    return _train_batched(states, lambda s: (s.target, s.n_units, s.steps, s.lr),
                          _fit_setup, fit_data, _fit_result)


@dataclass(frozen=True)
class BoundaryState:
    """An MLP with hidden ``widths`` and ``activation`` trained on the ring (Adam, full
    batch, ``steps`` steps at learning rate ``lr``, L2 penalty ``weight_decay`` on the
    weights), its weights drawn by ``init`` (a name of
    :data:`rectified.models.INITS`)."""

    activation: str = "relu"
    seed: int = 0
    weight_decay: float = 1e-3
    widths: tuple = (3, 3, 3)
    steps: int = 600
    lr: float = 0.03
    init: str = "he"


@dataclass(frozen=True, eq=False)
class BoundaryResult:
    """One trained ring classifier of a :class:`BoundaryState`: P(class 1) ``prob`` on the
    square grid ``grid`` × ``grid`` (half-width ``lim``), the ring's points, the test
    accuracy and, for a piecewise-linear activation, the boundary's corners and number of
    straight pieces (None otherwise). ``model`` and ``history`` are the trained net and its
    record, for further measurements."""

    state: BoundaryState
    lim: float
    grid: np.ndarray
    prob: np.ndarray
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    test_accuracy: float
    n_pieces: int | None
    corners: np.ndarray | None
    model: nn.Module = field(repr=False)
    history: object = field(repr=False)


def _check_boundary_state(state) -> BoundaryState:

    if not isinstance(state, BoundaryState):
        raise TypeError(f"state must be a BoundaryState, got {type(state).__name__}")
    if state.activation not in activations.names():
        raise ValueError(f"unknown activation {state.activation!r}; known: "
                         f"{', '.join(activations.names())}")
    if not isinstance(state.widths, tuple) or not state.widths:
        raise ValueError(f"widths must be a non-empty tuple of positive ints, got "
                         f"{state.widths!r}")
    for w in state.widths:
        models.check_positive_int("widths", w)
    models.check_positive_int("steps", state.steps)
    _check_seed(state.seed)
    _check_lr(state.lr)
    if isinstance(state.weight_decay, bool) or not isinstance(state.weight_decay, (int, float)) \
            or not state.weight_decay >= 0:
        raise ValueError(f"weight_decay must be a number >= 0, got {state.weight_decay!r}")
    if state.init not in models.INITS:
        raise ValueError(f"unknown init {state.init!r}; "
                         f"known: {', '.join(models.INITS)}")
    return state


def boundary_data(state: BoundaryState):
    """The ring a :class:`BoundaryState` trains on: 400 points, 300 for training and 100
    for testing, always the same draw."""

    _check_boundary_state(state)
    return data.classification_2d("ring", n=400, seed=0)


def _boundary_setup(state: BoundaryState):
    """(untrained MLP 2 → widths → 2 with the state's activation and seed, TrainConfig)."""

    net = models.MLP(2, list(state.widths), 2, activation=state.activation,
                     seed=state.seed, init=state.init)
    cfg = TrainConfig(optimizer="adam", lr=state.lr, steps=state.steps, batch_size=None,
                      weight_decay=state.weight_decay, diagnostics=False,
                      record_every=state.steps)
    return net, cfg


def _boundary_result(state: BoundaryState, net: nn.Module, history, lim: float = 1.3,
                     resolution: int = 200) -> BoundaryResult:
    """Measure a trained ring classifier: probability map, test accuracy, straight pieces."""

    ds = boundary_data(state)
    _, acc = evaluate(net, *as_tensors(ds.X_test, ds.y_test))
    grid, prob = class_probability_grid(net, lim, resolution)
    n_pieces = corners = None
    if activations.get(state.activation).piecewise_linear and state.activation != "linear":
        pieces = boundary_pieces(net, (-lim, lim), (-lim, lim), resolution=resolution)
        n_pieces, corners = pieces.n_pieces, pieces.corners
    return BoundaryResult(state, lim, grid, prob, ds.X_train, ds.y_train, ds.X_test,
                          ds.y_test, acc, n_pieces, corners, net, history)


def compute_boundary(state: BoundaryState) -> BoundaryResult:
    """Train the state's net on the ring (:func:`rectified.train.train`) and measure its
    decision boundary. Why-nonlinearity chapter."""

    _check_boundary_state(state)
    net, cfg = _boundary_setup(state)
    return _boundary_result(state, net, train(net, boundary_data(state), cfg))


def compute_boundaries(states) -> dict[BoundaryState, BoundaryResult]:
    """:func:`compute_boundary` for many states at once: the states that differ only in
    their seed are trained together as one batched ensemble
    (:func:`rectified.train.train` on a :class:`~rectified.models.MLPEnsemble`), members
    in the order given.
    Returns {state: result}. Why-nonlinearity chapter (eight seeds per activation)."""
    states = [_check_boundary_state(s) for s in states]
    return _train_batched(states,
                          lambda s: (s.activation, s.weight_decay, s.widths, s.steps,
                                     s.lr, s.init),
                          _boundary_setup, boundary_data, _boundary_result)


def _train_batched(states, key, setup, dataset, result) -> dict:
    """Train the states that share ``key(state)`` (everything but the seed) as one batched
    ensemble, members in the order given; {state: result(state, member, history)} in the
    order of ``states`` (duplicates once). Serves compute_fits and compute_boundaries."""
    states = list(dict.fromkeys(states))
    groups: dict = {}
    for s in states:
        groups.setdefault(key(s), []).append(s)
    results = {}
    for members in groups.values():
        nets, cfgs = zip(*(setup(s) for s in members))
        ens = models.MLPEnsemble(nets)
        hists = train(ens, dataset(members[0]), cfgs[0])
        for k, s in enumerate(members):
            results[s] = result(s, ens.member(k), hists[k])
    return {s: results[s] for s in states}
