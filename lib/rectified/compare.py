"""Comparing training runs: how long each took to reach a target, and which setting is best.

The measurements a comparison of activations, initialisations or learning rates reads off
recorded :class:`~rectified.train.History` objects. Why-ReLU part 2 and the rectifier
family chapters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from .train import History

__all__ = ["epochs_to_target", "best_by_median"]


def epochs_to_target(hist: History, target_acc: float, interpolate: bool = False) -> float:
    """Epochs until the training accuracy first reaches ``target_acc``; ``inf`` when it
    never does (a stalled or diverged run).

    ``interpolate=True`` estimates the crossing between the last record below the target
    and the first at or above it by linear interpolation of the accuracy, instead of
    returning the record's epoch (a finer answer from coarse records).
    """
    e = hist.first_epoch_reaching("train_acc", target_acc)
    if e is None:
        return math.inf
    j = hist.epoch.index(e)
    if not interpolate or j == 0:
        return float(e)
    (e0, e1), (a0, a1) = hist.epoch[j - 1:j + 1], hist.train_acc[j - 1:j + 1]
    return float(e0 + (e1 - e0) * (target_acc - a0) / (a1 - a0))


def best_by_median(results: Mapping[object, Sequence[float]]):
    """The key whose values have the smallest median (ties → first key), and that median.

    Used to pick each network's best learning rate from {lr: [epochs to target per seed]}.
    """
    if not results:
        raise ValueError("best_by_median needs at least one entry")
    medians = {k: float(np.median(np.asarray(v, dtype=float))) for k, v in results.items()}
    best = min(medians, key=lambda k: medians[k])
    return best, medians[best]


# --- The comparison protocol ----------------------------------------------------------------
#
# Every "A beats B" in the book goes through these steps: each arm gets its own learning rate
# from a grid (steps of at most a factor 2) whose best value lies inside the grid
# (:func:`tune_lr`); each arm is then run with at least 5 seeds at that rate; two arms are
# compared by a bootstrap interval for the difference of their medians (:func:`compare`);
# and a chapter asserts only what the interval decides (:func:`assert_better`,
# :func:`assert_indistinguishable`).

A_BETTER, B_BETTER, TIE = "A better", "B better", "not distinguishable at this scale"
MIN_SEEDS = 5
MAX_GRID_STEP = 2.0


def _values(name: str, values) -> np.ndarray:
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise ValueError(f"{name} must hold at least one value, got none")
    if np.isnan(v).any():
        raise ValueError(f"{name} must not contain NaN (use inf for a run that never got "
                         f"there), got {values!r}")
    return v


@dataclass(frozen=True)
class LRChoice:
    """The learning rate an arm is given: the grid, the median metric at each rate, the best
    rate, and whether the best lies at the grid's edge (then the grid did not bracket it)."""

    grid: tuple
    medians: tuple
    best: float
    at_edge: bool
    lower_is_better: bool

    @property
    def best_median(self) -> float:
        return self.medians[self.grid.index(self.best)]


def choose_lr(scores: Mapping[float, Sequence[float]], lower_is_better: bool = True) -> LRChoice:
    """The rate with the best median metric from ``{lr: [metric per seed]}``.

    The grid must be sorted-able positive rates whose neighbours differ by at most a factor
    of :data:`MAX_GRID_STEP` (2). Ties go to the smaller rate. ``at_edge`` says the best
    rate is the grid's smallest or largest, i.e. the optimum may lie outside.
    """
    if not scores:
        raise ValueError("scores must hold at least one learning rate")
    grid = sorted(float(lr) for lr in scores)
    if grid[0] <= 0 or not all(math.isfinite(g) for g in grid):
        raise ValueError(f"learning rates must be finite and > 0, got {grid}")
    steps = [b / a for a, b in zip(grid, grid[1:])]
    if steps and max(steps) > MAX_GRID_STEP * (1 + 1e-9):
        raise ValueError(f"neighbouring learning rates must differ by at most a factor "
                         f"{MAX_GRID_STEP:g}; the grid {grid} has a step of {max(steps):.3g}")
    by_lr = {float(lr): v for lr, v in scores.items()}
    medians = [float(np.median(_values(f"scores[{lr:g}]", by_lr[lr]))) for lr in grid]
    sign = 1.0 if lower_is_better else -1.0
    i = min(range(len(grid)), key=lambda j: (sign * medians[j], j))
    at_edge = len(grid) > 1 and i in (0, len(grid) - 1) and \
        medians[i] != medians[1 if i == 0 else -2]
    return LRChoice(tuple(grid), tuple(medians), grid[i], at_edge, lower_is_better)


def tune_lr(evaluate: Callable[[Sequence[float]], Mapping[float, Sequence[float]]],
            grid: Sequence[float], lower_is_better: bool = True,
            max_extensions: int = 4) -> LRChoice:
    """Tune one arm's learning rate: ``evaluate(lrs)`` returns ``{lr: [metric per seed]}``
    for the rates asked; while the best rate sits at an edge of the grid, the grid grows by
    one factor-2 step on that side (at most ``max_extensions`` times). The returned choice
    says whether the best is still at an edge."""
    scores = dict(evaluate(list(grid)))
    choice = choose_lr(scores, lower_is_better)
    for _ in range(max_extensions):
        if not choice.at_edge:
            break
        lr = choice.grid[0] / MAX_GRID_STEP if choice.best == choice.grid[0] else \
            choice.grid[-1] * MAX_GRID_STEP
        scores.update(evaluate([lr]))
        choice = choose_lr(scores, lower_is_better)
    return choice


@dataclass(frozen=True)
class Comparison:
    """Two arms' per-seed metrics, their medians and spread, and a bootstrap interval for
    the difference of medians ``median(a) - median(b)``; ``decision`` is :data:`A_BETTER`,
    :data:`B_BETTER` or :data:`TIE` ("not distinguishable at this scale")."""

    a_name: str
    b_name: str
    a: np.ndarray
    b: np.ndarray
    lower_is_better: bool
    difference: float          # median(a) - median(b)
    interval: tuple            # bootstrap interval for that difference
    level: float
    paired: bool

    @property
    def a_median(self) -> float:
        return float(np.median(self.a))

    @property
    def b_median(self) -> float:
        return float(np.median(self.b))

    @property
    def decision(self) -> str:
        lo, hi = self.interval
        if lo > 0 or hi < 0:
            a_larger = lo > 0
            return A_BETTER if a_larger != self.lower_is_better else B_BETTER
        return TIE

    @property
    def winner(self) -> str | None:
        """The better arm's name, or None when the two are not distinguishable."""
        return {A_BETTER: self.a_name, B_BETTER: self.b_name}.get(self.decision)

    def describe(self, fmt: str = ".3g") -> str:
        """One line: medians, the difference with its interval, and the decision."""
        lo, hi = self.interval
        return (f"{self.a_name} median {self.a_median:{fmt}} ({len(self.a)} seeds) vs "
                f"{self.b_name} median {self.b_median:{fmt}} ({len(self.b)} seeds): "
                f"difference {self.difference:{fmt}}, {self.level:.0%} interval "
                f"[{lo:{fmt}}, {hi:{fmt}}]: {self.winner + ' better' if self.winner else TIE}")


def compare(a: Sequence[float], b: Sequence[float], a_name: str = "A", b_name: str = "B",
            lower_is_better: bool = True, paired: bool = False, level: float = 0.95,
            n_boot: int = 10_000, seed: int = 0, min_seeds: int = MIN_SEEDS) -> Comparison:
    """Compare two arms' per-seed metrics (e.g. test error of each seed's run).

    The interval is a percentile bootstrap of median(a) − median(b): unpaired, each arm
    resampled on its own; ``paired`` (the same seeds in both arms, e.g. the same data
    split and initial weights), the per-seed differences resampled together. Each arm needs
    at least ``min_seeds`` values (5 by default). Infinite values (a run that never reached
    its target) are allowed; an interval touching infinity decides only if it excludes 0.
    """
    a_v, b_v = _values("a", a), _values("b", b)
    for name, v in ((a_name, a_v), (b_name, b_v)):
        if len(v) < min_seeds:
            raise ValueError(f"arm {name!r} has {len(v)} seeds; a comparison needs at least "
                             f"{min_seeds}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    rng = np.random.default_rng(seed)
    with np.errstate(invalid="ignore"):
        if paired:
            if len(a_v) != len(b_v):
                raise ValueError(f"paired arms need the same number of seeds, got "
                                 f"{len(a_v)} and {len(b_v)}")
            d = a_v - b_v
            idx = rng.integers(0, len(d), size=(n_boot, len(d)))
            boot = np.median(d[idx], axis=1)
            diff = float(np.median(d))
        else:
            ia = rng.integers(0, len(a_v), size=(n_boot, len(a_v)))
            ib = rng.integers(0, len(b_v), size=(n_boot, len(b_v)))
            boot = np.median(a_v[ia], axis=1) - np.median(b_v[ib], axis=1)
            diff = float(np.median(a_v) - np.median(b_v))
    boot = np.where(np.isnan(boot), 0.0, boot)      # inf - inf: no evidence either way
    tail = (1 - level) / 2
    # sample quantiles without interpolation, so that infinite differences stay exact
    lo, hi = np.quantile(boot, [tail, 1 - tail], method="inverted_cdf")
    return Comparison(a_name, b_name, a_v, b_v, lower_is_better, diff,
                      (float(lo), float(hi)), level, paired)


def assert_better(cmp: Comparison, winner: str) -> None:
    """Fail unless the interval says ``winner`` (an arm's name) is better."""
    if winner not in (cmp.a_name, cmp.b_name):
        raise ValueError(f"winner must be {cmp.a_name!r} or {cmp.b_name!r}, got {winner!r}")
    if cmp.winner != winner:
        raise AssertionError(f"expected {winner} better; measured: {cmp.describe()}")


def assert_indistinguishable(cmp: Comparison) -> None:
    """Fail unless the interval includes 0: neither arm is better at this scale."""
    if cmp.decision != TIE:
        raise AssertionError(f"expected no distinguishable difference; measured: "
                             f"{cmp.describe()}")


@dataclass(frozen=True)
class Arm:
    """One arm's per-seed metric with its median and a bootstrap interval for the median
    (what :func:`rectified.plots.draw_arms` shows)."""

    name: str
    values: np.ndarray
    median: float
    interval: tuple
    level: float


def arm(name: str, values: Sequence[float], level: float = 0.95, n_boot: int = 10_000,
        seed: int = 0) -> Arm:
    """Summarise one arm: its per-seed values, median and percentile-bootstrap interval."""
    v = _values(name, values)
    idx = np.random.default_rng(seed).integers(0, len(v), size=(n_boot, len(v)))
    lo, hi = np.quantile(np.median(v[idx], axis=1), [(1 - level) / 2, (1 + level) / 2],
                         method="inverted_cdf")
    return Arm(name, v, float(np.median(v)), (float(lo), float(hi)), level)


__all__ += ["Arm", "arm", "A_BETTER", "B_BETTER", "TIE", "MIN_SEEDS", "MAX_GRID_STEP", "LRChoice",
            "choose_lr", "tune_lr", "Comparison", "compare", "assert_better",
            "assert_indistinguishable"]


# --- Training speed: one cell of a learning-rate grid against the other activations ---------

__all__ += ["SpeedState", "SpeedResult", "compute_training_speed"]


@dataclass(frozen=True)
class SpeedState:
    """One cell of the training-speed grid: activation, learning rate, input scaling
    (``"standardised"`` or ``"raw"``), number of hidden layers, and the training accuracy
    to reach."""

    activation: str = "relu"
    lr: float = 0.1
    inputs: str = "standardised"
    depth: int = 3
    target: float = 0.95


@dataclass(frozen=True, eq=False)
class SpeedResult:
    """The training-error curves of one grid cell and of its rivals.

    ``curves`` holds one (epochs, training error in %) pair per seed of the chosen cell,
    at learning rate ``lr`` (the grid's nearest to the state's); ``rivals`` maps every
    other activation to (its best learning rate by median epochs to the target, its
    curves there). ``median_epochs`` is the chosen cell's median epochs to the target
    (``inf`` when the median seed misses it), ``target_error`` the target as % error."""

    state: SpeedState
    lr: float
    curves: list
    rivals: dict
    median_epochs: float
    target_error: float


def _error_curve(hist: History):
    """(epochs, training error in %) of one recorded run."""
    return np.asarray(hist.epoch), 100 * (1 - np.asarray(hist.train_acc))


def compute_training_speed(state: SpeedState, runs: Mapping) -> SpeedResult:
    """Select and measure what the training-speed picture shows for one grid cell.

    ``runs`` maps (activation, lr, inputs, depth) → list of :class:`History` (one per
    seed), as the why-ReLU part 2 chapter computes it; the learning rate snaps to the
    nearest one that was run (on a log scale). Epochs to the target are interpolated
    (:func:`epochs_to_target`); each rival's learning rate is its :func:`best_by_median`.
    """
    if not isinstance(state, SpeedState):
        raise TypeError(f"state must be a SpeedState, got {type(state).__name__}")
    if isinstance(state.target, bool) or not isinstance(state.target, (int, float)) or \
            not 0 < state.target <= 1:
        raise ValueError(f"target must be a training accuracy in (0, 1], got {state.target!r}")
    if isinstance(state.lr, bool) or not isinstance(state.lr, (int, float)) or \
            not state.lr > 0:
        raise ValueError(f"lr must be a number > 0, got {state.lr!r}")
    cells = [k for k in runs if k[2] == state.inputs and k[3] == state.depth]
    acts = sorted({k[0] for k in cells}, key=lambda a: (a != "relu", a))
    if state.activation not in acts:
        raise ValueError(f"no runs for activation {state.activation!r} with inputs="
                         f"{state.inputs!r}, depth={state.depth!r}; have: {acts}")

    def lrs(act):
        return sorted(k[1] for k in cells if k[0] == act)

    def epochs(act, lr):
        return [epochs_to_target(h, state.target, interpolate=True)
                for h in runs[(act, lr, state.inputs, state.depth)]]

    lr = min(lrs(state.activation), key=lambda v: abs(np.log(v) - np.log(state.lr)))
    rivals = {}
    for other in acts:
        if other != state.activation:
            best, _ = best_by_median({v: epochs(other, v) for v in lrs(other)})
            rivals[other] = (best, [_error_curve(h) for h in
                                    runs[(other, best, state.inputs, state.depth)]])
    return SpeedResult(state, lr,
                       [_error_curve(h) for h in runs[(state.activation, lr, state.inputs,
                                                       state.depth)]],
                       rivals, float(np.median(epochs(state.activation, lr))),
                       100 * (1 - state.target))
