"""Piecewise-linear functions of one variable as maxout units: a max of lines.

A maxout unit on a scalar input with k pieces is h(x) = max_i (a_i x + b_i), a convex
piecewise-linear function. This module builds such units from a target function (chords of
a convex target, the split of any piecewise-linear interpolant into a difference of two
convex ones) and fits them by least squares.

    >>> fit = fit_maxout_1d(x, x**2, k=4)                 # one unit, four lines
    >>> fit = fit_maxout_1d(x, np.sin(2 * x), k=4, difference=True)   # g − h
    >>> fit(x), fit.rms_error(x, y)

Lines are arrays of shape (k, 2): column 0 the slopes a_i, column 1 the intercepts b_i.
Maxout chapter.

Two experiments draw these functions (``compute_x(state) -> result``, drawn by
``plots.draw_x``): :func:`compute_interpolant`, a sum of n ReLU units through n + 1 knots
(introduction), and :func:`compute_maxout_fit`, one or two maxout units fitted to a target
(maxout chapter), :func:`compute_maxout_plane`, the regions of one maxout unit over the
plane, and :func:`compute_maxout_twin`, a maxout net equal to a ReLU net trained side by
side with it (maxout chapter). :func:`random_feature_fit` fits a target by random hidden
units of any activation, only the output weights trained (why-nonlinearity
chapter).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import Callable

import numpy as np
import torch

from . import activations, checks, data, models

__all__ = ["TARGETS", "MAX_INTERPOLANT_UNITS", "max_of_lines", "chords", "convex_lines",
           "dc_split", "best_convex_fit",
           "MaxoutFit", "fit_maxout_1d", "InterpolantState", "InterpolantResult",
           "compute_interpolant", "MaxoutFitState", "MaxoutFitResult",
           "compute_maxout_fit", "RandomFeatureFit", "random_feature_fit",
           "MaxoutPlaneState", "MaxoutPlaneResult", "maxout_plane_pieces",
           "compute_maxout_plane", "MaxoutTwinState", "MaxoutTwinResult", "maxout_twin",
           "compute_maxout_twin"]

#: Targets on [-3, 3] for the maxout approximation experiments: two convex, one not.
TARGETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "parabola": lambda x: x ** 2,
    "exp": lambda x: np.exp(x / 2),
    "wave": lambda x: np.sin(2 * x) + 0.3 * x,
}


def _lines(lines) -> np.ndarray:
    a = np.asarray(lines, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or len(a) < 1:
        raise ValueError(f"lines must have shape (k, 2) with k >= 1 (slope, intercept), "
                         f"got shape {a.shape}")
    return a


def max_of_lines(x, lines) -> np.ndarray:
    """A maxout unit on a scalar input: max_i (a_i x + b_i), elementwise over x."""
    lines = _lines(lines)
    x = np.asarray(x, dtype=np.float64)
    return (x[..., None] * lines[:, 0] + lines[:, 1]).max(axis=-1)


def chords(knots, values) -> np.ndarray:
    """The lines through consecutive points (t_i, v_i), shape (len(knots) − 1, 2).

    For a convex target their max is exactly the straight-line interpolant on
    [t_0, t_last], which is why one maxout unit can follow any convex function.
    """
    t, v = models.check_knots(knots, values)
    slopes = np.diff(v) / np.diff(t)
    return np.column_stack([slopes, v[:-1] - slopes * t[:-1]])


def convex_lines(slope0: float, intercept0: float, kinks, dslopes) -> np.ndarray:
    """The lines of the convex function c(x) = slope0·x + intercept0 + Σ_j d_j·ReLU(x − c_j)
    (all d_j ≥ 0): one line per segment, len(kinks) + 1 in all; c is their max."""
    c = np.asarray(kinks, dtype=np.float64).ravel()
    d = np.asarray(dslopes, dtype=np.float64).ravel()
    if c.shape != d.shape:
        raise ValueError(f"kinks and dslopes must have the same length, got {len(c)} and {len(d)}")
    if np.any(d < 0):
        raise ValueError("dslopes must be >= 0: a convex function's slope only increases")
    order = np.argsort(c)
    c, d = c[order], d[order]
    slopes = slope0 + np.concatenate([[0.0], np.cumsum(d)])
    intercepts = intercept0 - np.concatenate([[0.0], np.cumsum(d * c)])
    return np.column_stack([slopes, intercepts])


def dc_split(knots, values) -> tuple[np.ndarray, np.ndarray]:
    """Lines (g, h) with max(g) − max(h) equal to the straight-line interpolant of
    (knots, values) on [t_0, t_last]: a difference of two convex functions.

    Each interior knot where the slope increases becomes a kink of g, each one where it
    decreases a kink of h (Goodfellow et al. 2013 use this to show that two maxout units
    approximate any continuous function).
    """
    t, v = models.check_knots(knots, values)
    slopes = np.diff(v) / np.diff(t)
    dslope = np.diff(slopes)
    inner = t[1:-1]
    up, down = dslope > 0, dslope < 0
    g = convex_lines(slopes[0], v[0] - slopes[0] * t[0], inner[up], dslope[up])
    h = convex_lines(0.0, 0.0, inner[down], -dslope[down])
    return g, h


def _pad(lines: np.ndarray, k: int) -> np.ndarray:
    """Add copies of the last line, lowered a hair so that they never win: unused pieces."""
    extra = np.repeat(lines[-1:], k - len(lines), axis=0) - [0.0, 1e-9]
    return np.vstack([lines, extra])


@dataclass(frozen=True)
class MaxoutFit:
    """One maxout unit max(g) or the difference of two, max(g) − max(h), of scalar x."""

    g: np.ndarray
    h: np.ndarray | None = None

    @property
    def k(self) -> int:
        return len(self.g)

    def __call__(self, x) -> np.ndarray:
        y = max_of_lines(x, self.g)
        return y if self.h is None else y - max_of_lines(x, self.h)

    def rms_error(self, x, y) -> float:
        """Root-mean-square error against targets y at inputs x."""
        return float(np.sqrt(np.mean((self(x) - np.asarray(y, dtype=np.float64)) ** 2)))


def best_convex_fit(x, y, n_kinks: int = 64) -> MaxoutFit:
    """The least-squares convex fit to (x, y) among functions whose kinks lie on a grid of
    ``n_kinks`` points: c0 + c1·x + Σ_j d_j·ReLU(x − t_j) with every d_j ≥ 0 (a
    non-negative least-squares problem). As one maxout unit it has up to n_kinks + 1
    pieces; no single unit does much better, whatever its k."""
    from scipy.optimize import nnls

    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    t = np.linspace(x.min(), x.max(), n_kinks + 2)[1:-1]
    # c0 and c1 are free: write each as the difference of two non-negative numbers.
    A = np.column_stack([np.ones_like(x), -np.ones_like(x), x, -x,
                         np.maximum(x[:, None] - t, 0.0)])
    coef = nnls(A, y, maxiter=50 * A.shape[1])[0]
    c0, c1, d = coef[0] - coef[1], coef[2] - coef[3], coef[4:]
    used = d > 0
    return MaxoutFit(convex_lines(c1, c0, t[used], d[used]))


def _starts(x, y, k: int, difference: bool) -> list[MaxoutFit]:
    """Starting points for the least-squares refinement."""
    lo, hi = float(x.min()), float(x.max())
    line = np.polyfit(x, y, 1)[None, :]          # the least-squares line (slope, intercept)
    if not difference:
        convex = best_convex_fit(x, y)
        if convex.k <= k:
            first = convex.g
        else:   # chords of the best convex fit (for a convex target, nearly the target)
            t = np.linspace(lo, hi, k + 1)
            first = chords(t, convex(t))
        return [MaxoutFit(_pad(first, k)), MaxoutFit(_pad(line, k))]
    # The finest even grid whose interpolant splits into <= k lines per unit.
    best = None
    for m in range(1, 4 * k + 1):
        t = np.linspace(lo, hi, m + 1)
        g, h = dc_split(t, np.interp(t, x, y))
        if len(g) <= k and len(h) <= k:
            best = (g, h)
    zero = np.zeros((1, 2))
    return [MaxoutFit(_pad(best[0], k), _pad(best[1], k)),
            MaxoutFit(_pad(line, k), _pad(zero, k))]


def _fit_winners(x, target, lines) -> np.ndarray:
    """Refit every line by least squares to the targets at the inputs where it wins (only
    winners receive a gradient in training too); lines that win on fewer than two
    distinct inputs keep their values."""
    win = (x[:, None] * lines[:, 0] + lines[:, 1]).argmax(axis=1)
    k = len(lines)
    n = np.bincount(win, minlength=k).astype(np.float64)
    sx, sy = np.bincount(win, x, k), np.bincount(win, target, k)
    sxx, sxy = np.bincount(win, x * x, k), np.bincount(win, x * target, k)
    var = n * sxx - sx * sx
    ok = (n >= 2) & (var > 1e-12 * np.maximum(n * sxx, 1e-300))
    new = lines.copy()
    slope = (n * sxy - sx * sy)[ok] / var[ok]
    new[ok, 0] = slope
    new[ok, 1] = (sy[ok] - slope * sx[ok]) / n[ok]
    return new


def _refit(x, y, fit: MaxoutFit) -> MaxoutFit:
    """One sweep of block least squares: refit g's winners with h held, then h's with g held."""
    if fit.h is None:
        return MaxoutFit(_fit_winners(x, y, fit.g))
    g = _fit_winners(x, y + max_of_lines(x, fit.h), fit.g)
    h = _fit_winners(x, max_of_lines(x, g) - y, fit.h)
    return MaxoutFit(g, h)


def fit_maxout_1d(x, y, k: int, difference: bool = False, iters: int = 50) -> MaxoutFit:
    """Least-squares fit of one maxout unit with k pieces (or, with ``difference``, of
    max(g) − max(h), two units of k pieces each) to samples (x, y).

    Starts from :func:`best_convex_fit` reduced to k chords (one unit) or from the
    difference-of-convex split of the samples' interpolant on the finest even grid that
    fits in k pieces per unit, and also from the least-squares line; from each start it
    repeats: hold each input's winning lines, refit them by least squares, keep the result
    while the error goes down. Returns the better result. Deterministic; numpy only.
    Maxout chapter.
    """
    models.check_positive_int("k", k, "pieces per unit")
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape or len(x) < 2:
        raise ValueError(f"x and y must hold the same number (>= 2) of samples, "
                         f"got {x.shape} and {y.shape}")
    order = np.argsort(x)
    x, y = x[order], y[order]
    results = []
    for fit in _starts(x, y, int(k), difference):
        err = fit.rms_error(x, y)
        for _ in range(iters):
            new = _refit(x, y, fit)
            new_err = new.rms_error(x, y)
            if not new_err < err - 1e-12 * max(1.0, err):
                break
            fit, err = new, new_err
        results.append((err, fit))
    return min(results, key=lambda r: r[0])[1]


# --- The introduction's experiment: a sum of ReLUs bends a line into a curve ---------------

#: The most ReLU units an :class:`InterpolantState` may ask for (a widget shows up to 40).
MAX_INTERPOLANT_UNITS = 512


@dataclass(frozen=True)
class InterpolantState:
    """How many ReLU units approximate which target of :data:`rectified.data.TARGETS_1D` on
    which interval [lo, hi]."""

    target: str = "sine"
    n_units: int = 4
    lo: float = -4.0
    hi: float = 4.0

    def __post_init__(self):
        if not isinstance(self.target, str) or self.target not in data.TARGETS_1D:
            raise ValueError(f"unknown target {self.target!r}; "
                             f"known: {', '.join(data.TARGETS_1D)}")
        checks.check_int("n_units", self.n_units, 1, MAX_INTERPOLANT_UNITS)
        lo, hi = checks.check_number("lo", self.lo), checks.check_number("hi", self.hi)
        if not lo < hi:
            raise ValueError(f"lo and hi must be finite numbers with lo < hi, "
                             f"got lo={self.lo!r}, hi={self.hi!r}")


@dataclass(frozen=True)
class InterpolantResult:
    """The n-unit ReLU interpolant of a target, sampled on 600 points of [lo, hi]."""

    target: str
    n_units: int
    x: np.ndarray
    y_target: np.ndarray     # f(x)
    y_net: np.ndarray        # the net's output
    units: np.ndarray        # (600, n_units): each unit's contribution plus the output bias
    kinks: np.ndarray        # the knots where a unit switches on: t_0 … t_{n−1}
    kink_values: np.ndarray  # f at the kinks
    max_error: float         # max |net − f| over the 600 points


def compute_interpolant(state: InterpolantState) -> InterpolantResult:
    """The one-hidden-layer ReLU net that interpolates the target at n + 1 evenly spaced
    knots t_i: f̂(x) = f(t_0) + Σ_i d_i·ReLU(x − t_i), d_i the change of slope at t_i.
    Introduction."""
    if not isinstance(state, InterpolantState):
        raise TypeError(f"state must be an InterpolantState, got {type(state).__name__}")
    if state.target not in data.TARGETS_1D:
        raise ValueError(f"unknown target {state.target!r}; known: {', '.join(data.TARGETS_1D)}")
    if not isinstance(state.n_units, int) or isinstance(state.n_units, bool) or state.n_units < 1:
        raise ValueError(f"n_units must be a positive int, got {state.n_units!r}")
    if not all(isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(v)
               for v in (state.lo, state.hi)) or not state.lo < state.hi:
        raise ValueError(f"lo and hi must be finite numbers with lo < hi, got lo={state.lo!r}, "
                         f"hi={state.hi!r}")
    f = data.TARGETS_1D[state.target]
    knots = np.linspace(state.lo, state.hi, state.n_units + 1)
    net = models.relu_interpolant(knots, f(knots))
    x = np.linspace(state.lo, state.hi, 600)
    with torch.no_grad():
        xt = torch.as_tensor(x[:, None], dtype=torch.float32)
        y_net = net(xt).numpy().ravel()
        units = net.forward_hidden(xt)[2][0].numpy() * net.out.weight.numpy()
    y = f(x)
    return InterpolantResult(
        target=state.target, n_units=state.n_units, x=x, y_target=y, y_net=y_net,
        units=units + net.out.bias.item(), kinks=knots[:-1], kink_values=f(knots[:-1]),
        max_error=float(np.abs(y_net - y).max()))


# --- Maxout chapter: a maxout unit fitted to a 1-D target, piece by piece ---------------------

@dataclass(frozen=True)
class MaxoutFitState:
    """Which target of :data:`TARGETS` on [-3, 3] is fitted by one maxout unit of k pieces,
    or (``difference``) by the difference of two such units."""

    target: str = "parabola"
    k: int = 4
    difference: bool = False

    def __post_init__(self):
        if not isinstance(self.target, str) or self.target not in TARGETS:
            raise ValueError(f"unknown target {self.target!r}; known: {', '.join(TARGETS)}")
        checks.check_int("k", self.k, 1, 64, "pieces per unit")
        checks.check_type("difference", self.difference, (bool, np.bool_), "a bool")


@dataclass(frozen=True)
class MaxoutFitResult:
    """A maxout fit sampled on 301 points of [-3, 3]. ``pieces`` and ``units`` hold one
    entry per unit (g, then h for a difference): its lines a_i x + b_i, shape (k, 301),
    and their max."""

    target: str
    k: int
    difference: bool
    x: np.ndarray
    y: np.ndarray            # the target
    fit: MaxoutFit
    pieces: tuple
    units: tuple
    approx: np.ndarray       # the fitted function: max(g), or max(g) − max(h)
    rms_error: float


def compute_maxout_fit(state: MaxoutFitState) -> MaxoutFitResult:
    """Least-squares fit (:func:`fit_maxout_1d`) of max_i (a_i x + b_i), or of the difference
    of two such units, to the target on 301 points of [-3, 3]. Maxout chapter."""
    if not isinstance(state, MaxoutFitState):
        raise TypeError(f"state must be a MaxoutFitState, got {type(state).__name__}")
    if state.target not in TARGETS:
        raise ValueError(f"unknown target {state.target!r}; known: {', '.join(TARGETS)}")
    models.check_positive_int("k", state.k, "pieces per unit")
    if not isinstance(state.difference, (bool, np.bool_)):
        raise TypeError(f"difference must be a bool, got {state.difference!r}")
    x = np.linspace(-3, 3, 301)
    y = TARGETS[state.target](x)
    fit = fit_maxout_1d(x, y, state.k, difference=state.difference)
    unit_lines = (fit.g,) if fit.h is None else (fit.g, fit.h)
    return MaxoutFitResult(
        target=state.target, k=state.k, difference=bool(state.difference), x=x, y=y, fit=fit,
        pieces=tuple(lines[:, :1] * x + lines[:, 1:] for lines in unit_lines),
        units=tuple(max_of_lines(x, lines) for lines in unit_lines),
        approx=fit(x), rms_error=fit.rms_error(x, y))


# --- Why-nonlinearity chapter: random hidden units, output weights fitted --

@dataclass(frozen=True)
class RandomFeatureFit:
    """A least-squares fit by random hidden units
    (:func:`random_feature_fit`): the inputs ``x``, the target and the fit
    there, each unit's switch point −b_j/w_j (``kinks``), the interval, and
    the largest error max|fit − target|."""

    x: np.ndarray
    target_y: np.ndarray
    y: np.ndarray
    kinks: np.ndarray
    interval: tuple
    max_error: float

    @property
    def largest_gap(self) -> float:
        """The longest stretch of the interval with no switch point in it:
        for ReLU units the longest straight piece of the fit."""
        lo, hi = self.interval
        inside = np.sort(self.kinks[(self.kinks > lo) & (self.kinks < hi)])
        return float(np.diff(np.r_[lo, inside, hi]).max())


def random_feature_fit(activation, n_units: int, seed: int = 0,
                       scale: float = 1.0, target: str = "sine",
                       interval=(-4.0, 4.0),
                       n_points: int = 401) -> RandomFeatureFit:
    """Fit a target of :data:`rectified.data.TARGETS_1D` on ``interval`` by
    Σ_j v_j φ(w_j x + b_j) + v_0 with random, fixed hidden units and
    least-squares output weights v: w_j = scale·N(0, 1), switch points
    k_j = −b_j/w_j uniform on the interval.

    ``activation`` is a registry name or any callable φ (e.g.
    ``np.square``). Only the output layer is fitted, so the result shows
    what the activation allows, not what training finds. Why-nonlinearity
    chapter (universal approximation).
    """
    phi = (activations.get(activation) if isinstance(activation, str)
           else activation)
    if not callable(phi):
        raise TypeError(f"activation must be a registry name or a callable, "
                        f"got {activation!r}")
    models.check_positive_int("n_units", n_units)
    models.check_positive_int("n_points", n_points, "points on the interval")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    if isinstance(scale, bool) or not isinstance(scale, Real) \
            or not 0 < scale < np.inf:
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    if target not in data.TARGETS_1D:
        raise ValueError(f"unknown target {target!r}; "
                         f"known: {', '.join(data.TARGETS_1D)}")
    lo, hi = (float(v) for v in interval)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"interval must be (lo, hi) with finite lo < hi, "
                         f"got {interval!r}")
    rng = np.random.default_rng(seed)
    w = scale * rng.standard_normal(n_units)
    kinks = rng.uniform(lo, hi, n_units)
    x = np.linspace(lo, hi, n_points)
    features = np.c_[phi(np.outer(x, w) - w * kinks), np.ones_like(x)]
    y_target = data.TARGETS_1D[target](x)
    # least squares by the SVD (LAPACK gelsd, as numpy.linalg.lstsq), float64
    coef = torch.linalg.lstsq(torch.from_numpy(features),
                              torch.from_numpy(y_target)[:, None],
                              driver="gelsd").solution.numpy().ravel()
    y = features @ coef
    return RandomFeatureFit(x=x, target_y=y_target, y=y, kinks=kinks,
                            interval=(lo, hi),
                            max_error=float(np.abs(y - y_target).max()))


# --- Maxout chapter: one unit over the plane ---------------------------------------------

@dataclass(frozen=True)
class MaxoutPlaneState:
    """One maxout unit of ``k`` seeded pieces on the plane, h(x) = max_i (w_i · x + b_i),
    drawn on the square [-lim, lim]² with ``resolution`` points a side. The pieces'
    directions are spread around the circle (angle 2πi/k plus noise), their lengths and
    offsets random, so that every piece usually wins somewhere."""

    k: int = 3
    seed: int = 0
    lim: float = 2.0
    resolution: int = 161

    def __post_init__(self):
        checks.check_int("k", self.k, 1, 12, "pieces per unit")
        checks.check_seed("seed", self.seed)
        checks.check_number("lim", self.lim, 0, 100, lo_open=True, hint="half-width")
        checks.check_int("resolution", self.resolution, 11, 1001, "points a side")


@dataclass(frozen=True, eq=False)
class MaxoutPlaneResult:
    """One maxout unit sampled on a grid of the plane. ``value[i, j]`` and ``winner[i, j]``
    (the index of the largest piece) at (x[j], y[i]); ``regions`` the number of pieces that
    win somewhere on the grid (at most k); ``slopes`` the unit's gradient measured by
    finite differences at each region's centre (equal to that piece's w_i); ``nonconvex`` the number of sampled pairs of
    points with the same winner whose midpoint has another winner (0: every region is
    convex); ``centres`` one point (the mean) of each winning piece's region, NaN for a
    piece that never wins."""

    state: MaxoutPlaneState
    weights: np.ndarray       # (k, 2): w_i, the direction in which piece i rises
    biases: np.ndarray        # (k,)
    x: np.ndarray
    y: np.ndarray
    value: np.ndarray         # (resolution, resolution)
    winner: np.ndarray        # (resolution, resolution), ints in [0, k)
    regions: int
    nonconvex: int
    centres: np.ndarray       # (k, 2)
    slopes: np.ndarray        # (k, 2), NaN for a piece that never wins


def maxout_plane_pieces(k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded pieces (weights (k, 2), biases (k,)) of one maxout unit on the plane: piece
    i points at angle 2πi/k plus up to ±0.3 rad, with length in [0.6, 1.4] and an offset
    of standard deviation 0.3. Maxout chapter."""
    k = checks.check_int("k", k, 1, None, "pieces per unit")
    rng = np.random.default_rng(checks.check_seed("seed", seed))
    angle = 2 * np.pi * np.arange(k) / k + rng.uniform(-0.3, 0.3, k)
    length = rng.uniform(0.6, 1.4, k)
    weights = np.stack([np.cos(angle), np.sin(angle)], axis=1) * length[:, None]
    return weights, rng.normal(0.0, 0.3, k)


def compute_maxout_plane(state: MaxoutPlaneState) -> MaxoutPlaneResult:
    """One maxout unit over the plane: its value, which piece wins where, how many regions
    there are, and a check that each region is convex (the set where one affine function
    beats all the others is an intersection of half-planes). The gradient of the unit in
    region i is w_i: a unit with k pieces responds to k directions of its input. Maxout
    chapter."""
    if not isinstance(state, MaxoutPlaneState):
        raise TypeError(f"state must be a MaxoutPlaneState, got {type(state).__name__}")
    weights, biases = maxout_plane_pieces(state.k, state.seed)
    x = np.linspace(-state.lim, state.lim, state.resolution)
    y = x.copy()
    pts = np.stack(np.meshgrid(x, y), axis=-1)              # (res, res, 2)
    pieces = pts @ weights.T + biases                       # (res, res, k)
    winner = pieces.argmax(axis=-1)
    value = pieces.max(axis=-1)
    flat = pts.reshape(-1, 2)
    won = winner.ravel()
    rng = np.random.default_rng(state.seed + 1)
    a, b = rng.integers(0, len(flat), (2, 4000))
    same = won[a] == won[b]
    mid = (flat[a[same]] + flat[b[same]]) / 2
    mid_winner = (mid @ weights.T + biases).argmax(axis=-1)
    centres = np.full((state.k, 2), np.nan)
    near = np.linalg.norm(flat, axis=1) <= state.lim / 2
    for i in np.unique(won):
        here = won == i
        centres[i] = flat[here & near].mean(axis=0) if (here & near).any() \
            else flat[here].mean(axis=0)
    h = 1e-4
    unit = lambda p: (p @ weights.T + biases).max(axis=-1)
    slopes = np.stack([(unit(centres + h * e) - unit(centres - h * e)) / (2 * h)
                       for e in np.eye(2)], axis=1)
    return MaxoutPlaneResult(
        state=state, weights=weights, biases=biases, x=x, y=y, value=value, winner=winner,
        regions=int(len(np.unique(won))),
        nonconvex=int((mid_winner != won[a[same]]).sum()), centres=centres, slopes=slopes)


# --- Maxout chapter: a maxout unit equal to ReLU, trained side by side with it ----------

@dataclass(frozen=True)
class MaxoutTwinState:
    """A one-hidden-layer ReLU net on the 8×8 digits and its maxout twin (k = 2, pieces
    (w·x + b, 0)): the same function at the start. Both are trained by plain SGD with the
    same rate, batches and number of epochs."""

    width: int = 32
    lr: float = 0.05
    epochs: int = 4
    seed: int = 0

    def __post_init__(self):
        checks.check_int("width", self.width, 1, 1024, "hidden units")
        checks.check_number("lr", self.lr, 0, 10, lo_open=True, hint="learning rate")
        checks.check_int("epochs", self.epochs, 1, 100)
        checks.check_seed("seed", self.seed)


@dataclass(frozen=True, eq=False)
class MaxoutTwinResult:
    """What the twins share and where they part (on the whole training set).

    ``start_gap``: largest output difference before training (the same function: 0 up
    to float32 rounding, since the two matrix products sum in different orders).
    ``first_piece_gap``: largest difference between the gradient of ReLU's weights and
    biases and that of the twin's first pieces, before training. ``off_share``: share of
    (example, unit) pairs where the ReLU unit is off. ``second_share``: share of the
    twin's squared hidden-layer gradient norm that lands on the second pieces, which ReLU
    does not have. ``moved``: number of units whose second piece is no longer zero after
    training; ``end_gap``: largest output difference after training. ``relu`` and
    ``maxout`` are the two training histories."""

    state: MaxoutTwinState
    start_gap: float
    first_piece_gap: float
    off_share: float
    second_share: float
    moved: int
    end_gap: float
    relu: object
    maxout: object


def maxout_twin(relu_net: models.MLP) -> models.MLP:
    """A maxout net (k = 2) that computes exactly what the one-hidden-layer ReLU net
    ``relu_net`` computes: unit j's pieces are (w_j · x + b_j, 0), its output layer a copy.
    Maxout chapter."""
    if not isinstance(relu_net, models.MLP) or relu_net.activation != "relu" \
            or len(relu_net.linears) != 1:
        raise ValueError("relu_net must be an MLP with one hidden layer of ReLU units")
    lin = relu_net.linears[0]
    twin = models.MLP(lin.in_features, [lin.out_features], relu_net.out.out_features,
                      activation="maxout", k=2)
    with torch.no_grad():
        first = twin.linears[0]
        first.weight.zero_()
        first.bias.zero_()
        first.weight[0::2] = lin.weight        # piece 1 of unit j: row 2j
        first.bias[0::2] = lin.bias            # piece 2 (row 2j + 1) stays 0
        twin.out.load_state_dict(relu_net.out.state_dict())
    return twin


def _hidden_gradient(net, X, y) -> torch.Tensor:
    net.zero_grad()
    torch.nn.functional.cross_entropy(net(X), y).backward()
    lin = net.linears[0]
    return torch.cat([lin.weight.grad, lin.bias.grad[:, None]], dim=1)


def compute_maxout_twin(state: MaxoutTwinState) -> MaxoutTwinResult:
    """Train a ReLU net and its exact maxout twin (:func:`maxout_twin`) side by side: the
    same function and loss at the start, but the twin has a second piece per unit that
    receives the gradient of every example on which the ReLU unit is off (where ReLU
    receives none), so the two learn different functions. Maxout chapter."""
    from . import train as training

    if not isinstance(state, MaxoutTwinState):
        raise TypeError(f"state must be a MaxoutTwinState, got {type(state).__name__}")
    digits = data.digits()
    X = torch.as_tensor(digits.X_train)
    y = torch.as_tensor(digits.y_train)
    relu_net = models.MLP(64, [state.width], 10, activation="relu", seed=state.seed)
    twin = maxout_twin(relu_net)
    with torch.no_grad():
        start_gap = float((relu_net(X) - twin(X)).abs().max())
        off = relu_net.linears[0](X) <= 0
    g_relu = _hidden_gradient(relu_net, X, y)
    g_twin = _hidden_gradient(twin, X, y)
    first_piece_gap = float((g_twin[0::2] - g_relu).abs().max())
    second_share = float(g_twin[1::2].pow(2).sum() / g_twin.pow(2).sum())
    config = training.TrainConfig(optimizer="sgd", lr=state.lr, epochs=state.epochs,
                                  batch_size=32, diagnostics=False, record_every=10,
                                  seed=state.seed)
    h_relu = training.train(relu_net, digits, config)
    h_twin = training.train(twin, digits, config)
    with torch.no_grad():
        second = torch.cat([twin.linears[0].weight[1::2],
                            twin.linears[0].bias[1::2, None]], dim=1)
        end_gap = float((relu_net(X) - twin(X)).abs().max())
    return MaxoutTwinResult(
        state=state, start_gap=start_gap, first_piece_gap=first_piece_gap,
        off_share=float(off.float().mean()), second_share=second_share,
        moved=int((second.norm(dim=1) > 0).sum()), end_gap=end_gap,
        relu=h_relu, maxout=h_twin)
