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
import torch

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


def comparison_table(comparisons: Sequence[Comparison], fmt: str = ".3g") -> str:
    """A markdown table with one row per comparison: the two arms, their medians, the
    difference of medians with its interval, and the decision (the better arm, or
    :data:`TIE`). What a chapter shows under a set of comparisons. Why-ReLU parts 2
    and 3."""
    rows = ["| arm A | arm B | median A | median B | A − B [interval] | decision |",
            "|---|---|---|---|---|---|"]
    for c in comparisons:
        if not isinstance(c, Comparison):
            raise TypeError(f"comparisons must hold Comparison objects, got "
                            f"{type(c).__name__}")
        lo, hi = c.interval
        decided = f"{c.winner} better" if c.winner else TIE
        rows.append(f"| {c.a_name} | {c.b_name} | {c.a_median:{fmt}} | {c.b_median:{fmt}} "
                    f"| {c.difference:{fmt}} [{lo:{fmt}}, {hi:{fmt}}] | {decided} |")
    return "\n".join(rows)


__all__ += ["comparison_table"]


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


# --- Training speed: steps to a target, and one arm's runs against the others --------------

__all__ += ["steps_to_target", "SpeedState", "SpeedResult", "compute_training_speed"]


def steps_to_target(hist: History, target_acc: float, interpolate: bool = True) -> float:
    """Training steps until the training accuracy first reaches ``target_acc``; ``inf``
    when it never does (a stalled or diverged run).

    ``interpolate`` places the crossing by linear interpolation of the accuracy between
    the last record below the target and the first at or above it; otherwise the step of
    that record. Why-ReLU part 2 chapter (the speed race).
    """
    if not 0 < target_acc <= 1:
        raise ValueError(f"target_acc must be a training accuracy in (0, 1], "
                         f"got {target_acc!r}")
    acc = np.asarray(hist.train_acc, dtype=float)
    hit = np.flatnonzero(acc >= target_acc)
    if hit.size == 0:
        return math.inf
    j = int(hit[0])
    if not interpolate or j == 0:
        return float(hist.step[j])
    (s0, s1), (a0, a1) = hist.step[j - 1:j + 1], acc[j - 1:j + 1]
    return float(s0 + (s1 - s0) * (target_acc - a0) / (a1 - a0))


@dataclass(frozen=True)
class SpeedState:
    """One cell of the speed race: the arm (a label such as ``"relu (He)"``, whose first
    word is the activation), the learning rate as a multiple of the arm's best rate
    (``lr_factor``: 1 is the best, 0.5 half of it), the number of hidden layers and the
    training accuracy to reach."""

    arm: str = "relu (He)"
    lr_factor: float = 1.0
    depth: int = 8
    target: float = 0.95


@dataclass(frozen=True, eq=False)
class SpeedResult:
    """The training-error curves of one cell of the race and of its rivals.

    ``curves`` holds one (steps, training error in %) pair per seed of the chosen arm at
    learning rate ``lr`` (the rate run nearest to ``lr_factor`` times the arm's best rate,
    ``best_lr``); ``rivals`` maps every other arm of the same depth to (its best learning
    rate by median steps to the target, its curves there, its median steps there).
    ``median_steps`` is the chosen cell's median steps to the target (``inf`` when the
    median seed misses it), ``target_error`` the target as % error."""

    state: SpeedState
    lr: float
    best_lr: float
    curves: list
    rivals: dict
    median_steps: float
    target_error: float


def _error_curve(hist: History):
    """(steps, training error in %) of one recorded run."""
    return np.asarray(hist.step, dtype=float), 100 * (1 - np.asarray(hist.train_acc))


def compute_training_speed(state: SpeedState, runs: Mapping) -> SpeedResult:
    """Select and measure what the speed race's picture shows for one cell.

    ``runs`` maps (arm, lr, depth) → list of :class:`History` (one per seed), as the
    why-ReLU part 2 chapter computes it. Each arm's best rate is its
    :func:`best_by_median` of the steps to the target (interpolated,
    :func:`steps_to_target`); the state's rate, ``lr_factor`` times the best, snaps to
    the nearest rate run for that arm (on a log scale). Rivals are drawn at their best.
    """
    if not isinstance(state, SpeedState):
        raise TypeError(f"state must be a SpeedState, got {type(state).__name__}")
    if isinstance(state.target, bool) or not isinstance(state.target, (int, float)) or \
            not 0 < state.target <= 1:
        raise ValueError(f"target must be a training accuracy in (0, 1], got {state.target!r}")
    if isinstance(state.lr_factor, bool) or not isinstance(state.lr_factor, (int, float)) \
            or not state.lr_factor > 0:
        raise ValueError(f"lr_factor must be a number > 0, got {state.lr_factor!r}")
    cells = [k for k in runs if k[2] == state.depth]
    arms = list(dict.fromkeys(k[0] for k in cells))
    if state.arm not in arms:
        raise ValueError(f"no runs for arm {state.arm!r} with depth={state.depth!r}; "
                         f"have: {arms}")

    def lrs(arm):
        return sorted(k[1] for k in cells if k[0] == arm)

    def steps(arm, lr):
        return [steps_to_target(h, state.target) for h in runs[(arm, lr, state.depth)]]

    def curves(arm, lr):
        return [_error_curve(h) for h in runs[(arm, lr, state.depth)]]

    def best(arm):
        return best_by_median({v: steps(arm, v) for v in lrs(arm)})

    wanted = np.log(best(state.arm)[0] * state.lr_factor)
    lr = min(lrs(state.arm), key=lambda v: abs(np.log(v) - wanted))
    rivals = {}
    for other in arms:
        if other != state.arm:
            rate, median = best(other)
            rivals[other] = (rate, curves(other, rate), median)
    return SpeedResult(state, lr, best(state.arm)[0], curves(state.arm, lr), rivals,
                       float(np.median(steps(state.arm, lr))), 100 * (1 - state.target))


# --- One arm of an activation comparison, tuned and run ------------------------------------
#
# The rectifier family chapter compares activations arm by arm: each arm gets the init
# that keeps its signal's variance steady (moments.fixed_point_gain), its own learning
# rate from a factor-2 grid that must bracket the best validation accuracy (tune_lr), and
# every seed at every rate trains in one batched pass (models.MLPEnsemble).

__all__ += ["TunedArmState", "TunedArm", "compute_tuned_arm", "never_positive_share"]


@dataclass(frozen=True)
class TunedArmState:
    """One arm of an activation comparison: its label, the activation and its parameters
    as (name, value) pairs, the hidden widths (``concatenated``: each layer outputs
    [f(z), f(−z)], CReLU with ReLU), the weight gain (weight variance × fan_in; None: the
    activation's :func:`~rectified.moments.fixed_point_gain`), the learning-rate grid
    (neighbours at most a factor 2 apart), the seeds, and the schedule."""

    label: str
    activation: str = "relu"
    params: tuple = ()
    widths: tuple = (64, 64, 64)
    concatenated: bool = False
    gain: float | None = None
    lrs: tuple = (0.0125, 0.025, 0.05, 0.1, 0.2, 0.4)
    seeds: tuple = (0, 1, 2, 3, 4)
    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "momentum"
    max_extensions: int = 2


@dataclass(frozen=True, eq=False)
class TunedArm:
    """Every run of one arm. Arrays are indexed [rate, seed] over ``lrs`` (the grid plus
    any extension :func:`tune_lr` added, ascending) and ``state.seeds``: validation and
    test accuracy after training, whether the run diverged, and the share of hidden units
    never positive on the training inputs (``never_positive_at_init``: before training,
    one per seed). ``choice`` is the rate with the best median validation accuracy;
    ``values`` the test accuracy of each seed at that rate; ``gain`` the init used."""

    state: TunedArmState
    lrs: tuple
    val_acc: np.ndarray
    test_acc: np.ndarray
    diverged: np.ndarray
    never_positive: np.ndarray
    never_positive_at_init: np.ndarray
    choice: LRChoice
    gain: float
    n_params: int
    _nets: dict

    @property
    def best_lr(self) -> float:
        return self.choice.best

    def at(self, field: str = "test_acc", lr: float | None = None) -> np.ndarray:
        """One seed's value per entry of ``field`` at rate ``lr`` (default: the chosen)."""
        lr = self.best_lr if lr is None else float(lr)
        if lr not in self.lrs:
            raise ValueError(f"lr must be one of the rates run, {self.lrs}, got {lr!r}")
        return getattr(self, field)[self.lrs.index(lr)]

    @property
    def values(self) -> np.ndarray:
        """Test accuracy per seed at the chosen rate: what the comparison uses."""
        return self.at("test_acc")

    def largest_lr(self, min_val_acc: float) -> np.ndarray:
        """Per seed, the largest rate run whose validation accuracy reached
        ``min_val_acc`` (0.0 where none did): how large a step the arm tolerates."""
        ok = self.val_acc >= min_val_acc
        lrs = np.asarray(self.lrs)[:, None] * ok
        return lrs.max(axis=0)

    def net(self, seed: int, lr: float | None = None):
        """The trained MLP of one seed at rate ``lr`` (default: the chosen rate)."""
        lr = self.best_lr if lr is None else float(lr)
        if (lr, seed) not in self._nets:
            raise ValueError(f"no run with lr={lr!r} and seed={seed!r}")
        ensemble, k = self._nets[lr, seed]
        return ensemble.member(k)


def never_positive_share(model, X) -> np.ndarray:
    """Per member of an ensemble (or for one MLP, an array of one), the share of hidden
    units whose pre-activation is ≤ 0 for every row of X: dead units for ReLU, units left
    on their negative side for the other activations. Rectifier family chapter."""
    from .models import MLPEnsemble

    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    with torch.no_grad():
        _, pres, _ = model.forward_hidden(X)
    if not isinstance(model, MLPEnsemble):
        pres = [z[None] for z in pres]
    never = torch.cat([(z <= 0).all(dim=1) for z in pres], dim=-1)
    return never.float().mean(dim=-1).numpy()


def _check_arm_state(state) -> None:
    if not isinstance(state, TunedArmState):
        raise TypeError(f"state must be a TunedArmState, got {type(state).__name__}")
    if len(state.seeds) < 1 or len(set(state.seeds)) != len(state.seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {state.seeds!r}")
    if state.gain is not None and not (math.isfinite(state.gain) and state.gain > 0):
        raise ValueError(f"gain must be a finite number > 0 or None, got {state.gain!r}")


def compute_tuned_arm(state: TunedArmState, data, test) -> TunedArm:
    """Tune and run one arm: MLPs ``data.X_train.shape[1]`` → ``state.widths`` →
    ``data.n_classes`` trained on ``data.X_train`` with every seed at every rate of the
    grid (one :class:`~rectified.models.MLPEnsemble`, momentum SGD by default); the rate
    is chosen by median accuracy on ``data.X_test`` (the validation split), the grid
    extended by :func:`tune_lr` while the best sits at an edge, and each run is scored on
    ``test`` = (X, y), which played no part in the choice."""
    from . import models, moments, train

    _check_arm_state(state)
    params = dict(state.params)
    gain = state.gain if state.gain is not None else \
        moments.fixed_point_gain(state.activation, **params)
    X_test = torch.as_tensor(np.asarray(test[0]), dtype=torch.float32)
    y_test = torch.as_tensor(np.asarray(test[1]))
    n_in, n_out = data.X_train.shape[1], data.n_classes
    steps = math.ceil(len(data.X_train) / min(state.batch_size, len(data.X_train)))
    runs, nets, n_params = {}, {}, []

    def build(seed):
        return models.MLP(n_in, list(state.widths), n_out, activation=state.activation,
                          init="lecun", init_scale=math.sqrt(gain), seed=seed,
                          concatenated=state.concatenated, **params)

    def evaluate(lrs):
        grid = [(float(lr), s) for lr in lrs for s in state.seeds]
        ensemble = models.MLPEnsemble([build(s) for _, s in grid])
        if not n_params:
            n_params.append(sum(p.numel() for p in build(state.seeds[0]).parameters()))
        born = never_positive_share(ensemble, data.X_train)
        cfgs = [train.TrainConfig(optimizer=state.optimizer, lr=lr, seed=s,
                                  epochs=state.epochs, batch_size=state.batch_size,
                                  record_every=steps * state.epochs, diagnostics=False)
                for lr, s in grid]
        hists = train.train(ensemble, data, cfgs)
        with torch.no_grad():
            test_acc = (ensemble(X_test).argmax(-1) == y_test).float().mean(-1).numpy()
        never = never_positive_share(ensemble, data.X_train)
        for k, ((lr, s), h) in enumerate(zip(grid, hists)):
            runs[lr, s] = (h.test_acc[-1], float(test_acc[k]), h.diverged, float(never[k]),
                           float(born[k]))
            nets[lr, s] = (ensemble, k)
        return {lr: [runs[lr, s][0] for s in state.seeds] for lr in map(float, lrs)}

    choice = tune_lr(evaluate, state.lrs, lower_is_better=False,
                     max_extensions=state.max_extensions)
    lrs = tuple(sorted({lr for lr, _ in runs}))

    def table(i):
        return np.array([[runs[lr, s][i] for s in state.seeds] for lr in lrs])

    return TunedArm(state, lrs, table(0), table(1), table(2).astype(bool), table(3),
                    table(4)[0], choice, float(gain), n_params[0], nets)
