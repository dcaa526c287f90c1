"""Why a layer learns slowly from all-positive inputs: the second moment of its inputs,
the signs of per-example updates, and gradient descent on a linear readout.

A unit computes w·h + b. Its per-example gradient is δ·h, so when every input h_i > 0
(sigmoid outputs) every weight of the unit moves in the same direction, and the mean of
h adds one large eigenvalue to the second-moment matrix E[h hᵀ] that sets the curvature
of the unit's loss. Centring h (tanh, or σ − ½) removes both effects.

Why-ReLU part 2 chapter (zero-centring; LeCun et al. 1998, "Efficient BackProp").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["second_moment", "condition_number", "same_sign_fraction", "sgd_path",
           "readout_gd", "first_below", "settling_step", "mean_to_variance",
           "FEATURE_TREATMENTS", "random_features", "ReadoutState", "ReadoutResult",
           "compute_readout"]


def _features(features) -> np.ndarray:
    F = np.asarray(features, dtype=np.float64)
    if F.ndim != 2 or len(F) < 1:
        raise ValueError(f"features must be a 2-D array (samples, features), got shape {F.shape}")
    return F


def second_moment(features, bias: bool = True) -> np.ndarray:
    """(1/n) AᵀA with A = [features, 1] (the bias input) or A = features: the Hessian of a
    linear least-squares unit, and the matrix whose spectrum sets its gradient-descent speed."""
    A = _features(features)
    if bias:
        A = np.c_[A, np.ones(len(A))]
    return A.T @ A / len(A)


def condition_number(features, bias: bool = True) -> float:
    """λ_max / λ_min of :func:`second_moment` (inf when it is singular)."""
    ev = np.linalg.eigvalsh(second_moment(features, bias))
    return float(ev[-1] / ev[0]) if ev[0] > 0 else math.inf


def same_sign_fraction(updates) -> float:
    """Fraction of rows (one weight update per row) whose nonzero entries all share one
    sign — all weights of the unit move up together or down together."""
    U = _features(updates)
    pos = (U > 0).any(axis=1)
    neg = (U < 0).any(axis=1)
    return float(np.mean(~(pos & neg)))


def sgd_path(X, y, w0, lr: float, steps: int, seed: int = 0) -> np.ndarray:
    """Per-example SGD on ½(w·x − y)² (no bias), examples drawn in a seeded random order.

    Returns the path, shape (steps + 1, d): w_{t+1} = w_t − lr·(w_t·x − y)·x. Once the
    weights blow up (any |w_i| > 1e12: too large a learning rate) the rest of the path is NaN.
    """
    X = _features(X)
    y = np.asarray(y, dtype=np.float64).ravel()
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    order = np.random.default_rng(seed).integers(0, len(X), steps)
    path = np.empty((steps + 1, X.shape[1]))
    path[0] = w = np.asarray(w0, dtype=np.float64).copy()
    for t, i in enumerate(order, start=1):
        with np.errstate(over="ignore", invalid="ignore"):
            w = w - lr * (w @ X[i] - y[i]) * X[i]
        if not np.all(np.abs(w) <= 1e12):      # also catches inf and NaN
            path[t:] = np.nan
            break
        path[t] = w
    return path


def readout_gd(features, labels, lrs, max_steps: int, n_classes: int | None = None) -> np.ndarray:
    """Full-batch gradient descent on a softmax readout (weights and bias, starting at zero)
    with cross-entropy, for several learning rates at once.

    ``features`` is one feature set (n, d) with ``labels`` (n,), or a stack of S sets
    (S, n, d) with labels (S, n) or (n,), each trained on its own (e.g. one per seed).
    Returns the training loss before each step, shape (len(lrs), max_steps + 1), or
    (S, len(lrs), max_steps + 1) for a stack; a run whose loss stops being finite is
    recorded as inf from then on.
    """
    F = np.asarray(features, dtype=np.float64)
    stacked = F.ndim == 3
    if not stacked:
        F = _features(F)[None]
    if F.shape[1] < 1:
        raise ValueError(f"features must hold at least one sample, got shape {F.shape}")
    s_, n, d = F.shape
    y = np.asarray(labels, dtype=np.int64)
    if y.ndim == 1:
        y = np.tile(y, (s_, 1))
    if y.shape != (s_, n):
        raise ValueError(f"features and labels must have the same length, got {n} "
                         f"and {y.shape[-1]}")
    lrs = np.atleast_1d(np.asarray(lrs, dtype=np.float64))
    if lrs.ndim != 1 or not np.all(lrs > 0):
        raise ValueError(f"lrs must be positive learning rates, got {lrs!r}")
    k = int(n_classes or int(y.max()) + 1)
    A = torch.cat([torch.as_tensor(F), torch.ones(s_, n, 1, dtype=torch.float64)], dim=2)
    Y = torch.nn.functional.one_hot(torch.as_tensor(y), k).to(torch.float64)
    m = len(lrs)
    # the m readouts of each set side by side as one (d + 1, m·k) matrix: one product
    W = torch.zeros(s_, d + 1, m * k, dtype=torch.float64)
    lr = torch.as_tensor(lrs).repeat_interleave(k)
    Yr = Y.repeat(1, 1, m)
    At = A.transpose(1, 2)
    losses = np.full((s_, m, max_steps + 1), math.inf)
    for step in range(max_steps + 1):
        z = (A @ W).view(s_, n, m, k)
        logp = z - torch.logsumexp(z, dim=-1, keepdim=True)
        loss = -(logp * Y[:, :, None, :]).sum(-1).mean(1)
        losses[:, :, step] = torch.nan_to_num(loss, nan=math.inf).numpy()
        if step < max_steps:
            W = W - lr * (At @ (logp.exp().view(s_, n, m * k) - Yr)) / n
    bad = ~np.isfinite(losses)
    losses[np.cumsum(bad, axis=-1) > 0] = math.inf
    return losses if stacked else losses[0]


def first_below(losses, target: float) -> np.ndarray:
    """Along the last axis of ``losses`` (one curve per row), the first step whose loss
    is ≤ target (inf if none)."""
    L = np.atleast_2d(np.asarray(losses, dtype=np.float64))
    hit = L <= target
    return np.where(hit.any(axis=-1), hit.argmax(axis=-1), math.inf)


def settling_step(path, target, radius: float = 0.1) -> float:
    """The first step of ``path`` (one weight vector per row, e.g. from :func:`sgd_path`)
    after which every later point stays within ``radius`` of ``target``; inf when the
    last point is not within it (including a path that blew up)."""
    P = _features(path)
    near = np.linalg.norm(P - np.asarray(target, dtype=np.float64), axis=1) < radius
    if not near[-1]:
        return math.inf
    far = np.flatnonzero(~near)
    return float(far[-1] + 1) if far.size else 0.0


def mean_to_variance(features) -> float:
    """m²/v of a layer's inputs: the mean over features of the squared mean μ_j²,
    divided by the mean over features of the variance Var(h_j).

    0 for centred features; about 5.8 for σ(u), 0.47 for ReLU(u) with u ~ N(0, 1). The
    mean adds about d·m² to the largest eigenvalue of E[h hᵀ] (d features), next to
    eigenvalues of order v from the spread, so a large m²/v makes the next layer's
    problem badly conditioned. Why-ReLU part 3 chapter.
    """
    F = _features(features)
    var = float(F.var(axis=0).mean())
    if var == 0:
        raise ValueError("features must vary over the samples; every column is constant")
    return float((F.mean(axis=0) ** 2).mean() / var)


#: What :func:`random_features` may do to the features after the activation: nothing,
#: subtract each feature's mean, or subtract it and divide by the standard deviation
#: (what batch normalisation does with a batch's statistics, before its learned scale
#: and shift).
FEATURE_TREATMENTS = ("raw", "centred", "batchnorm")


def random_features(X, activation: str, n_features: int = 64, seed: int = 0,
                    treatment: str = "raw") -> np.ndarray:
    """Fixed random features of inputs X: h = f(X P) with P ~ N(0, 1/d) (d = X's
    columns, so standardised inputs give pre-activations of variance about 1) and f the
    registry activation ``activation``; then ``treatment`` (:data:`FEATURE_TREATMENTS`)
    computed over the rows of X. Float64, shape (len(X), n_features)."""
    from . import activations

    X = _features(X)
    if treatment not in FEATURE_TREATMENTS:
        raise ValueError(f"treatment must be one of {FEATURE_TREATMENTS}, got {treatment!r}")
    if not isinstance(n_features, (int, np.integer)) or isinstance(n_features, bool) or \
            n_features < 1:
        raise ValueError(f"n_features must be a positive int, got {n_features!r}")
    f = activations.get(activation)
    P = np.random.default_rng(seed).standard_normal((X.shape[1], n_features))
    H = np.asarray(f(X @ P / math.sqrt(X.shape[1])), dtype=np.float64)
    if treatment != "raw":
        H = H - H.mean(axis=0)
    if treatment == "batchnorm":
        sd = H.std(axis=0)
        H = H / np.where(sd > 0, sd, 1.0)
    return H


# --- The readout experiment: how the features' mean sets a linear layer's speed ---------------

@dataclass(frozen=True)
class ReadoutState:
    """A softmax readout trained by full-batch gradient descent on random features of the
    digits: the activation that makes the features, their treatment (raw, centred or
    batch-normalised), the seed of the projection and of the examples, the number of
    features and examples, the training loss to reach, the step budget, and the
    learning-rate grid (neighbours a factor 2 apart)."""

    activation: str = "sigmoid"
    treatment: str = "raw"
    seed: int = 0
    n_features: int = 64
    n_examples: int = 400
    target_loss: float = 0.1
    max_steps: int = 250
    lrs: tuple = tuple(2.0 ** k for k in range(-1, 8))


@dataclass(frozen=True, eq=False)
class ReadoutResult:
    """What one readout run measured: the features' mean over all entries and their
    m²/v (:func:`mean_to_variance`), the condition number of their second moment (with
    the bias input), the steps to the target loss at each rate of the grid (inf: not
    reached), the best rate (fewest steps, ties to the smaller), and the training loss
    before each step at every rate (rows follow ``state.lrs``)."""

    state: ReadoutState
    mean: float
    mean_to_variance: float
    condition: float
    steps: np.ndarray
    best_lr: float
    losses: np.ndarray
    sample: np.ndarray

    @property
    def best_steps(self) -> float:
        return float(self.steps[list(self.state.lrs).index(self.best_lr)])


def compute_readout(state: ReadoutState) -> ReadoutResult:
    """Train the readout of ``state`` at every rate of its grid and measure it. The
    examples are ``n_examples`` standardised digits drawn with ``seed``, the features
    :func:`random_features` of them. Why-ReLU part 3 chapter (the widget, and the
    experiment behind the zero-centring verdicts)."""
    from . import data

    if not isinstance(state, ReadoutState):
        raise TypeError(f"state must be a ReadoutState, got {type(state).__name__}")
    lrs = np.asarray(state.lrs, dtype=np.float64)
    if lrs.ndim != 1 or lrs.size < 1 or not np.all(np.diff(lrs) > 0):
        raise ValueError(f"lrs must be increasing positive rates, got {state.lrs!r}")
    digits = data.digits(standardize=True)
    n = min(int(state.n_examples), len(digits.X_train))
    if n < 10:
        raise ValueError(f"n_examples must be at least 10, got {state.n_examples!r}")
    rows = np.random.default_rng(state.seed).permutation(len(digits.X_train))[:n]
    H = random_features(digits.X_train[rows], state.activation, state.n_features,
                        state.seed, state.treatment)
    losses = readout_gd(H, digits.y_train[rows], lrs, state.max_steps, n_classes=10)
    steps = first_below(losses, state.target_loss)
    best = float(lrs[int(np.argmin(steps))])
    sample = H[:, :8].ravel()
    return ReadoutResult(state, float(H.mean()), mean_to_variance(H),
                         condition_number(H), steps, best, losses, sample)
